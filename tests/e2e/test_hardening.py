"""Abuse limits and the audit trail, with the settings the site ships with.

Also covered beside the code: the token endpoint's anonymous throttle and axes lockout with a tiny limit
(tests/forecasts/apis/test_auth.py), the lockout page (tests/forecasts/views/test_account.py), /health/ never
throttled (tests/test_health.py), who promoted (tests/training/services/test_promotion.py).
"""

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from goldsite.audit import SYSTEM
from tests.factories import MLEngineerFactory, ModelVersionFactory, UserFactory
from training import dispatch
from training.models import ChampionChange, TrainingRun
from training.services import runs
from training.services.promotion import model_version_promote

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # UserFactory's password
ROOT = Path(__file__).resolve().parent.parent.parent
TOKEN_URL = "/api/auth/token/"


@pytest.fixture(autouse=True)
def fresh_cache():
    """Throttle counters live in the cache."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def audit_records(caplog):
    caplog.set_level(logging.INFO, logger="goldsite.audit")
    return lambda: [record for record in caplog.records if record.name == "goldsite.audit"]


def staff_api(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api


# --- Sign-in rate limiting (django-axes, as configured in base settings) --------------------------------------


@override_settings(AXES_ENABLED=True)  # the test settings turn axes off; every other settings module has it on
def test_wrong_passwords_lock_the_sign_in_after_the_configured_limit(client):
    user = UserFactory()
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5  # the shipped default (AXES_FAILURE_LIMIT)
    wrong = {"username": user.username, "password": "not the password"}

    codes = [client.post(reverse("forecasts:login"), wrong).status_code for _ in range(limit + 1)]
    right_password = client.post(reverse("forecasts:login"), {"username": user.username, "password": PASSWORD})

    # Wrong passwords 1-4 show the form again; the 5th locks the username from this address, so the 6th and
    # even the right password get the lockout page.
    assert codes == [200] * (limit - 1) + [429, 429]
    assert right_password.status_code == 429
    assert "Too many sign-in attempts" in right_password.content.decode()
    assert "_auth_user_id" not in client.session
    # The lock is per username and address: another user from the same address still signs in.
    other = UserFactory()
    response = client.post(reverse("forecasts:login"), {"username": other.username, "password": PASSWORD})
    assert response.status_code == 302


# --- API throttling -----------------------------------------------------------------------------------------


def test_anonymous_api_requests_are_throttled(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": "1000/min"})
    anonymous = APIClient()

    codes = [
        anonymous.post("/api/auth/token/", {"username": "x", "password": "y"}, format="json").status_code
        for _ in range(4)
    ]

    assert codes == [400, 400, 400, 429]


def test_signed_in_api_requests_are_throttled_per_user(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "1000/min", "user": "3/min"})
    first, second = staff_api(UserFactory()), staff_api(UserFactory())

    codes = [first.get("/api/models/").status_code for _ in range(4)]
    throttled = first.get("/api/models/")

    assert codes == [200, 200, 200, 429]
    assert int(throttled["Retry-After"]) > 0
    assert second.get("/api/models/").status_code == 200  # each user has their own budget


def test_the_shipped_rates():
    """What production runs with unless API_THROTTLE_ANON / API_THROTTLE_USER say otherwise."""
    from goldsite.settings import base

    assert base.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] == {"anon": "60/min", "user": "100000/hour"}
    assert base.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] == [
        "goldsite.throttling.AnonRateThrottle",
        "goldsite.throttling.UserRateThrottle",
    ]


# --- Who the client is: the real peer, unless trusted proxies are configured --------------------------------


def behind_proxies(count: int):
    return override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": count})


def sign_in_attempt(client: APIClient, forwarded_for: str | None = None, **payload) -> int:
    headers = {} if forwarded_for is None else {"HTTP_X_FORWARDED_FOR": forwarded_for}
    return client.post(TOKEN_URL, payload or {"username": "x", "password": "y"}, format="json", **headers).status_code


def test_by_default_no_proxy_is_trusted():
    """gunicorn is reached directly (the embedded default, the standalone container and compose): API_NUM_PROXIES=0."""
    from goldsite.settings import base

    assert base.REST_FRAMEWORK["NUM_PROXIES"] == 0


def test_a_rotating_x_forwarded_for_does_not_escape_the_anonymous_throttle(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": "1000/min"})
    anonymous = APIClient()

    codes = [sign_in_attempt(anonymous, forwarded_for=f"203.0.113.{n}") for n in range(4)]

    assert codes == [400, 400, 400, 429]  # one peer (REMOTE_ADDR), one budget, whatever the header claims


def test_behind_a_trusted_proxy_clients_are_the_addresses_it_appends(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": "1000/min"})
    anonymous = APIClient()

    with behind_proxies(1):
        # What a client writes before the proxy's entry is not trusted: the proxy appended 198.51.100.7 each time.
        codes = [sign_in_attempt(anonymous, forwarded_for=f"203.0.113.{n}, 198.51.100.7") for n in range(4)]
        other_client = sign_in_attempt(anonymous, forwarded_for="198.51.100.8")

    assert codes == [400, 400, 400, 429]
    assert other_client == 400


COUNT_IN_A_NEW_PROCESS = """
import sys
import django
django.setup()
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle
SimpleRateThrottle.THROTTLE_RATES = {"anon": "3/min", "user": "1000/min"}
client = APIClient()
codes = [client.post("/api/auth/token/", {}, format="json").status_code for _ in range(int(sys.argv[1]))]
print(" ".join(map(str, codes)))
"""


def _requests_in_a_new_process(count: int, cache_url: str) -> str:
    """`count` anonymous requests from a fresh process (like another gunicorn worker) using CACHE_URL."""
    result = subprocess.run(
        [sys.executable, "-c", COUNT_IN_A_NEW_PROCESS, str(count)],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "goldsite.settings.test", "CACHE_URL": cache_url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("backend", "second_worker"),
    [
        # A shared cache (Redis in compose, a folder in the standalone container; a folder stands for both here).
        ("filecache", "429"),
        # The embedded default (one runserver process) keeps locmem: a second process would start from zero.
        ("locmemcache", "400"),
    ],
)
def test_throttle_counters_are_shared_by_the_processes_of_a_shared_cache(tmp_path, backend, second_worker):
    cache_url = f"filecache://{tmp_path / 'cache'}" if backend == "filecache" else "locmemcache://goldsite"

    first_worker = _requests_in_a_new_process(3, cache_url)

    assert first_worker == "400 400 400"
    assert _requests_in_a_new_process(1, cache_url) == second_worker


@override_settings(AXES_ENABLED=True)
def test_a_rotating_x_forwarded_for_does_not_escape_the_sign_in_lockout():
    user = UserFactory()
    anonymous = APIClient()
    wrong = {"username": user.username, "password": "not the password"}

    codes = [sign_in_attempt(anonymous, f"203.0.113.{n}", **wrong) for n in range(settings.AXES_FAILURE_LIMIT)]
    right = sign_in_attempt(anonymous, "203.0.113.250", username=user.username, password=PASSWORD)

    assert codes[-1] == right == 429


@override_settings(AXES_ENABLED=True)
def test_behind_a_trusted_proxy_the_sign_in_lockout_is_per_client_address():
    """The lockout (username + address) takes the client address by the throttle's rule, not the proxy's."""
    user = UserFactory()
    anonymous = APIClient()
    wrong = {"username": user.username, "password": "not the password"}

    with behind_proxies(1):
        forged = [f"203.0.113.{n}, 198.51.100.7" for n in range(settings.AXES_FAILURE_LIMIT)]
        codes = [sign_in_attempt(anonymous, forwarded_for, **wrong) for forwarded_for in forged]
        locked = sign_in_attempt(anonymous, "198.51.100.7", username=user.username, password=PASSWORD)
        other_client = sign_in_attempt(anonymous, "198.51.100.8", username=user.username, password=PASSWORD)

    assert codes[-1] == locked == 429
    assert other_client == 200


# --- Audit trail of staff actions ----------------------------------------------------------------------------


@pytest.fixture
def aliases(monkeypatch):
    monkeypatch.setattr("training.ml.registry.set_alias", lambda **kwargs: None)


def test_a_promotion_through_the_api_is_audited_with_who_and_why(aliases, audit_records):
    old = ModelVersionFactory(is_champion=True)
    new = ModelVersionFactory(architecture="cnn")
    engineer = MLEngineerFactory()

    response = staff_api(engineer).post(f"/api/models/{new.pk}/promote/", {"reason": "lower MAE"}, format="json")

    assert response.status_code == 200
    assert ChampionChange.objects.get().changed_by == engineer
    [record] = audit_records()
    assert record.levelno == logging.INFO
    assert record.audit == {
        "action": "model_version.promote",
        "actor": engineer.username,
        "model_version": str(new),
        "previous": str(old),
        "reason": "lower MAE",
    }
    assert record.getMessage().startswith(f"model_version.promote by {engineer.username}: ")


def test_an_automatic_promotion_is_audited_as_auto(aliases, audit_records):
    model_version_promote(model_version=ModelVersionFactory(), automatic=True, reason="run #7")

    [record] = audit_records()
    assert (record.audit["action"], record.audit["actor"]) == ("model_version.promote", "auto")


def test_a_refused_promotion_is_not_audited(monkeypatch, audit_records):
    def unreachable(**kwargs):
        raise ConnectionError("refused")

    monkeypatch.setattr("training.ml.registry.set_alias", unreachable)
    version = ModelVersionFactory()

    response = staff_api(MLEngineerFactory()).post(f"/api/models/{version.pk}/promote/", {"reason": "x"}, format="json")

    assert response.status_code == 503
    assert audit_records() == []


@pytest.fixture
def not_executed(monkeypatch):
    monkeypatch.setattr(dispatch, "training_run_execute_request", lambda *, run_id, inline: "")


def test_a_training_run_started_through_the_api_is_audited(not_executed, audit_records):
    engineer = MLEngineerFactory()

    response = staff_api(engineer).post(
        "/api/training-runs/", {"kind": "tune", "trials": 2, "architectures": ["mlp"]}, format="json"
    )

    assert response.status_code == 202
    run = TrainingRun.objects.get()
    assert run.started_by == engineer
    [record] = audit_records()
    assert record.audit["action"] == "training_run.start"
    assert record.audit["actor"] == engineer.username
    assert (record.audit["run"], record.audit["kind"]) == (run.pk, "tune")
    assert record.audit["params"]["trials"] == 2


def test_a_run_started_without_a_user_is_audited_as_system(not_executed, audit_records):
    runs.training_run_start(kind="train")  # manage.py train, or beat's weekly retrain

    [record] = audit_records()
    assert record.audit["actor"] == SYSTEM
    assert TrainingRun.objects.get().started_by is None


def test_a_refused_training_start_is_not_audited(not_executed, audit_records):
    runs.training_run_start(kind="train")
    before = len(audit_records())

    response = staff_api(MLEngineerFactory()).post("/api/training-runs/", {"kind": "train"}, format="json")

    assert response.status_code == 409
    assert len(audit_records()) == before
