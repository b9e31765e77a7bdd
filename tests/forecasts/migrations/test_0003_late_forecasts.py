"""Migration 0003: live forecasts stored after their target day's gold close was stored become late."""

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from forecasts.models import Forecast, PriceBar
from tests.factories import ForecastFactory, ModelVersionFactory, PriceBarFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("forecasts.migrations.0003_late_forecasts")

T0 = timezone.make_aware(dt.datetime(2025, 9, 24, 22, 0))


def stored(obj, at: dt.datetime):
    """Set the row's insert time (auto_now_add ignores a value given on create)."""
    type(obj).objects.filter(pk=obj.pk).update(created_at=at)
    return obj


def run_migration():
    migration.live_forecasts_made_after_their_close_become_late(apps, schema_editor=None)


@pytest.fixture
def version():
    return ModelVersionFactory()


def kind_of(forecast) -> str:
    return Forecast.objects.get(pk=forecast.pk).kind


def test_a_live_forecast_made_after_its_gold_close_was_stored_becomes_late(version):
    stored(PriceBarFactory(date=dt.date(2025, 9, 25)), T0)
    forecast = stored(ForecastFactory(model_version=version, target_date=dt.date(2025, 9, 25)), T0 + dt.timedelta(1))

    run_migration()

    assert kind_of(forecast) == "late"


def test_a_live_forecast_made_before_its_close_stays_live_even_if_the_close_was_revised_since(version):
    forecast = stored(ForecastFactory(model_version=version, target_date=dt.date(2025, 9, 25)), T0)
    bar = stored(PriceBarFactory(date=dt.date(2025, 9, 25)), T0 + dt.timedelta(hours=20))
    PriceBar.objects.filter(pk=bar.pk).update(close=2001.0, updated_at=T0 + dt.timedelta(days=3))

    run_migration()

    assert kind_of(forecast) == "live"


def test_a_live_forecast_whose_close_is_not_stored_yet_stays_live(version):
    forecast = stored(ForecastFactory(model_version=version, target_date=dt.date(2025, 9, 26)), T0)
    stored(PriceBarFactory(date=dt.date(2025, 9, 25)), T0 - dt.timedelta(1))

    run_migration()

    assert kind_of(forecast) == "live"


def test_only_the_gold_close_counts_and_only_live_rows_change(version):
    stored(PriceBarFactory(symbol="^GSPC", date=dt.date(2025, 9, 25), close=6600.0), T0)
    spx_only = stored(ForecastFactory(model_version=version, target_date=dt.date(2025, 9, 25)), T0 + dt.timedelta(1))
    stored(PriceBarFactory(date=dt.date(2025, 9, 24)), T0 - dt.timedelta(1))
    backtest = stored(
        ForecastFactory(model_version=version, target_date=dt.date(2025, 9, 24), kind=Forecast.Kind.BACKTEST), T0
    )

    run_migration()

    assert (kind_of(spx_only), kind_of(backtest)) == ("live", "backtest")


def test_running_it_again_changes_nothing(version):
    stored(PriceBarFactory(date=dt.date(2025, 9, 25)), T0)
    stored(ForecastFactory(model_version=version, target_date=dt.date(2025, 9, 25)), T0 + dt.timedelta(1))
    run_migration()
    before = list(Forecast.objects.values())

    run_migration()

    assert list(Forecast.objects.values()) == before


def test_it_is_the_newest_forecasts_migration_and_reversing_it_keeps_the_rows(version):
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    assert ("forecasts", "0003_late_forecasts") in loader.graph.leaf_nodes()
    (operation,) = migration.Migration.operations
    assert operation.reversible and operation.reverse_code.__name__ == "noop"
