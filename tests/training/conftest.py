"""Fixtures shared by the training tests: signed-in clients, MLflow alias moves, runs that don't execute."""

import pytest

from tests.factories import MLEngineerFactory, StaffUserFactory, UserFactory


@pytest.fixture
def aliases(monkeypatch):
    """Record MLflow alias moves, as (name, alias, version), instead of making them."""
    moved = []

    def set_alias(*, tracking_uri, name, alias, version):
        moved.append((name, alias, version))

    monkeypatch.setattr("training.ml.registry.set_alias", set_alias)
    return moved


@pytest.fixture
def analyst(client):
    client.force_login(UserFactory())
    return client


@pytest.fixture
def staff(client):
    """Signed in as staff without any permission: may sign in to the admin, may not promote or start runs."""
    client.force_login(StaffUserFactory())
    return client


@pytest.fixture
def engineer(client):
    """Signed in as a member of the "ML engineers" group."""
    client.force_login(MLEngineerFactory())
    return client
