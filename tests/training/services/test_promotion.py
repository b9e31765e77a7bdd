"""Promotion moves the champion in the database and in MLflow together, or not at all."""

import pytest

from tests.factories import ModelVersionFactory, StaffUserFactory
from training.exceptions import RegistryUnavailable, TrainingError
from training.models import ChampionChange, ModelVersion
from training.services.promotion import model_version_promote

pytestmark = pytest.mark.django_db


def test_promotion_makes_the_version_the_only_champion_and_records_who(aliases):
    old = ModelVersionFactory(is_champion=True)
    new = ModelVersionFactory()
    user = StaffUserFactory()

    change = model_version_promote(model_version=new, user=user, reason="better validation MAE")

    assert list(ModelVersion.objects.filter(is_champion=True)) == [new]
    assert (change.from_version, change.to_version, change.changed_by, change.actor) == (old, new, user, user.username)
    assert aliases == [(new.registered_name, "champion", new.version)]


def test_automatic_promotion_is_recorded_as_auto(aliases):
    new = ModelVersionFactory()
    change = model_version_promote(model_version=new, automatic=True, reason="run #1")
    assert change.actor == "auto"
    assert change.from_version is None


def test_when_mlflow_fails_the_database_is_unchanged(monkeypatch):
    old = ModelVersionFactory(is_champion=True)
    new = ModelVersionFactory()

    def unreachable(**kwargs):
        raise ConnectionError("MLflow at http://mlflow:5000 refused the connection")

    monkeypatch.setattr("training.ml.registry.set_alias", unreachable)

    with pytest.raises(RegistryUnavailable, match="refused the connection") as excinfo:
        model_version_promote(model_version=new, reason="try")

    assert "Nothing was changed" in str(excinfo.value)
    assert list(ModelVersion.objects.filter(is_champion=True)) == [old]
    assert not ChampionChange.objects.exists()


def test_promoting_the_current_champion_is_refused(aliases):
    champion = ModelVersionFactory(is_champion=True)
    with pytest.raises(TrainingError, match="already the champion"):
        model_version_promote(model_version=champion)
    assert aliases == []


def test_the_database_allows_only_one_champion():
    from django.db import IntegrityError, transaction

    ModelVersionFactory(is_champion=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersionFactory(is_champion=True)


class RecordingForecasts:
    """A champion_forecasts that records what the promotion asked of it, and when."""

    made: list = []  # every instance, so that a test finds the one the setting's class made

    def __init__(self):
        self.calls = []
        RecordingForecasts.made.append(self)

    def prepare(self, *, model_version):
        self.calls.append(("prepare", model_version.pk, ModelVersion.objects.get(pk=model_version.pk).is_champion))
        return [{"forecast": "of the next day"}]

    def store(self, *, values):
        self.calls.append(("store", values))

    def request(self):
        self.calls.append(("request",))


def test_the_promotion_prepares_stores_then_requests_the_forecast(aliases, django_capture_on_commit_callbacks):
    new = ModelVersionFactory()
    forecasts = RecordingForecasts()

    with django_capture_on_commit_callbacks(execute=True):
        model_version_promote(model_version=new, reason="run #2", champion_forecasts=forecasts)

    assert forecasts.calls == [
        ("prepare", new.pk, False),  # computed before the version is the champion
        ("store", [{"forecast": "of the next day"}]),
        ("request",),  # once the promotion committed
    ]


def test_by_default_the_promotion_asks_what_the_setting_names(aliases, settings, monkeypatch):
    settings.TRAINING_CHAMPION_FORECASTS = f"{__name__}.RecordingForecasts"
    monkeypatch.setattr(RecordingForecasts, "made", [])

    model_version_promote(model_version=ModelVersionFactory(), reason="run #3")

    (forecasts,) = RecordingForecasts.made
    assert [call[0] for call in forecasts.calls] == ["prepare", "store"]  # request() waits for the commit
