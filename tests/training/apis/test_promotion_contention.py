"""Simultaneous promotions: each one succeeds or answers 409, never 500.

On the embedded SQLite database the suite's database is in memory; these tests copy it into a file (the embedded
default's shape) and give each request thread its own connection to that file, as the threads of a real server
have. On PostgreSQL each thread already has its own connection to the test database; only the race of five
promotions applies there (the lock-timeout cases are SQLite's file lock).
"""

import sqlite3
import threading
from contextlib import contextmanager

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import ModelVersionFactory, StaffUserFactory
from training.models import ChampionChange, ModelVersion

REQUESTS = 5

sqlite_only = pytest.mark.skipif(
    connections[DEFAULT_DB_ALIAS].vendor != "sqlite", reason="SQLite's file lock; PostgreSQL queues promotions"
)


@pytest.fixture
def file_database(transactional_db, tmp_path):
    """connected(timeout=20) -> a context in which this thread has its own connection to the database.

    On SQLite that is a connection to a file copy of the in-memory database; on PostgreSQL, to the test database
    (closed when the context ends, as a server thread's is).
    """
    memory = connections[DEFAULT_DB_ALIAS]
    if memory.vendor != "sqlite":

        @contextmanager
        def own_connection(*, timeout: float = 20):
            try:
                yield
            finally:
                if connections[DEFAULT_DB_ALIAS] is not memory:  # another thread's: close it
                    connections[DEFAULT_DB_ALIAS].close()

        return own_connection

    path = tmp_path / "goldsite.sqlite3"
    memory.ensure_connection()
    with sqlite3.connect(path) as copy:
        memory.connection.backup(copy)
    copy.close()

    @contextmanager
    def connected(*, timeout: float = 20):  # 20 s: the lock wait of goldsite.settings.base
        own = type(memory)({**memory.settings_dict, "NAME": str(path), "OPTIONS": {"timeout": timeout}})
        previous = connections[DEFAULT_DB_ALIAS]
        connections[DEFAULT_DB_ALIAS] = own
        try:
            yield
        finally:
            own.close()
            connections[DEFAULT_DB_ALIAS] = previous

    return connected


def promote(version_id: int, token: str) -> tuple[int, dict | None]:
    client = APIClient(raise_request_exception=False)  # a server answers 500; it does not raise
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.post(f"/api/models/{version_id}/promote/", {"reason": "race"}, format="json")
    return response.status_code, response.json() if response.status_code != 500 else None


def test_five_simultaneous_promotions_give_one_200_and_409s_and_one_champion(file_database, aliases):
    with file_database():
        ModelVersionFactory(is_champion=True)
        candidate = ModelVersionFactory()
        token = Token.objects.create(user=StaffUserFactory(is_superuser=True)).key
    start = threading.Barrier(REQUESTS)
    answers = []

    def request():
        with file_database():
            start.wait()
            answers.append(promote(candidate.pk, token))

    threads = [threading.Thread(target=request) for _ in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] + [409] * (REQUESTS - 1), answers
    assert all(set(body) == {"detail", "code"} for status, body in answers if status == 409)
    with file_database():
        assert list(ModelVersion.objects.filter(is_champion=True)) == [candidate]
        assert ChampionChange.objects.count() == 1
    assert aliases == [(candidate.registered_name, "champion", candidate.version)]


@sqlite_only
def test_a_promotion_that_cannot_get_the_database_is_a_409_and_changes_nothing(file_database, monkeypatch):
    with file_database():
        first, second = ModelVersionFactory(), ModelVersionFactory()
        token = Token.objects.create(user=StaffUserFactory(is_superuser=True)).key
    holding, answered = threading.Event(), threading.Event()
    moved = []

    def slow_registry(*, tracking_uri, name, alias, version):
        moved.append(version)
        holding.set()  # the first promotion now holds the database...
        answered.wait(timeout=60)  # ...until the second one has answered

    monkeypatch.setattr("training.ml.registry.set_alias", slow_registry)
    answers = {}

    def request(version, timeout, then=None):
        with file_database(timeout=timeout):
            answers[version.pk] = promote(version.pk, token)
        if then is not None:
            then.set()

    winner = threading.Thread(target=request, args=(first, 20))
    winner.start()
    holding.wait(timeout=60)
    request(second, 0.05, then=answered)
    winner.join()

    status, body = answers[second.pk]
    assert (status, body["code"]) == (409, "promotion_in_progress")
    assert "try again" in body["detail"]
    assert answers[first.pk][0] == 200
    with file_database():
        assert list(ModelVersion.objects.filter(is_champion=True)) == [first]
        assert list(ChampionChange.objects.values_list("to_version", flat=True)) == [first.pk]
    assert moved == [first.version]


@sqlite_only
def test_when_the_commit_itself_is_refused_the_mlflow_alias_is_moved_back(file_database, aliases, tmp_path):
    with file_database(timeout=0.05):
        old, new = ModelVersionFactory(is_champion=True), ModelVersionFactory()
        token = Token.objects.create(user=StaffUserFactory(is_superuser=True)).key
        # A reader in the middle of a long read: a promotion gets the write lock, but cannot commit.
        reader = sqlite3.connect(tmp_path / "goldsite.sqlite3", isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM training_modelversion").fetchall()
        try:
            status, body = promote(new.pk, token)
        finally:
            reader.execute("ROLLBACK")
            reader.close()

        assert (status, body["code"]) == (409, "promotion_in_progress")
        assert list(ModelVersion.objects.filter(is_champion=True)) == [old]
        assert not ChampionChange.objects.exists()
    assert aliases[-1] == (old.registered_name, "champion", old.version)
    assert aliases == [aliases[0], aliases[-1]] * (len(aliases) // 2)  # each attempt moved it there and back
