"""Live forecasts: the champion's and the naive one, for the next trading day, stored once."""

import datetime as dt
import math
from dataclasses import replace

import pytest
from django.core.management import CommandError, call_command

from forecasts.exceptions import ForecastError, ForecastNotReady
from forecasts.models import Forecast, PriceBar
from forecasts.services import prediction
from tests.factories import ForecastFactory, ModelVersionFactory
from tests.forecasts import forecasters
from tests.forecasts.forecasters import gold_close, store_closes, trading_days
from training.models import ModelVersion

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_registry")]


def test_the_champion_and_the_naive_model_forecast_the_next_trading_day(champion):
    store_closes(trading_days(dt.date(2025, 9, 1), dt.date(2025, 9, 24)))  # through Wednesday

    stored = prediction.forecast_next_day()

    assert [f.model_version.architecture for f in stored] == ["mlp", "naive"]
    mlp, naive = stored
    last_close = gold_close(dt.date(2025, 9, 24))
    assert (mlp.kind, mlp.as_of_date, mlp.target_date) == ("live", dt.date(2025, 9, 24), dt.date(2025, 9, 25))
    assert mlp.last_close == last_close
    assert mlp.predicted_close == pytest.approx(last_close * math.exp(forecasters.NETWORK_RETURN))
    assert mlp.lower_95 < mlp.lower_80 < mlp.predicted_close < mlp.upper_80 < mlp.upper_95
    assert naive.target_date == mlp.target_date
    assert naive.predicted_close == last_close
    assert naive.model_version.training_run_id == champion.training_run_id
    assert Forecast.objects.live().count() == 2


@pytest.mark.parametrize(
    ("last_day", "target"),
    [
        (dt.date(2025, 9, 19), dt.date(2025, 9, 22)),  # a Friday forecasts Monday
        (dt.date(2025, 7, 3), dt.date(2025, 7, 7)),  # Thursday 3 July: Friday 4 July is a holiday
        (dt.date(2025, 12, 24), dt.date(2025, 12, 26)),  # Christmas Day is skipped
    ],
)
def test_weekends_and_market_holidays_are_skipped(champion, last_day, target):
    store_closes(trading_days(last_day - dt.timedelta(days=20), last_day))

    stored = prediction.forecast_next_day()

    assert {f.target_date for f in stored} == {target}
    assert {f.as_of_date for f in stored} == {last_day}


def test_the_as_of_day_is_the_last_day_with_both_closes(champion):
    store_closes(trading_days(dt.date(2025, 9, 1), dt.date(2025, 9, 18)))
    store_closes([dt.date(2025, 9, 19)], spx=False)  # gold's Friday close is in, the S&P 500's not yet

    stored = prediction.forecast_next_day()

    assert {(f.as_of_date, f.target_date) for f in stored} == {(dt.date(2025, 9, 18), dt.date(2025, 9, 19))}


def test_running_again_for_the_same_day_changes_nothing(champion, fake_registry):
    store_closes(trading_days(dt.date(2025, 9, 1), dt.date(2025, 9, 24)))
    first = prediction.forecast_next_day()
    snapshot = list(Forecast.objects.values())

    again = prediction.forecast_next_day()

    assert [f.pk for f in again] == [f.pk for f in first]
    assert list(Forecast.objects.values()) == snapshot
    assert len(fake_registry.loaded) == 2  # each model loaded once per process


def test_new_data_makes_a_new_forecast_for_the_following_day(champion):
    store_closes(trading_days(dt.date(2025, 9, 1), dt.date(2025, 9, 24)))
    prediction.forecast_next_day()
    store_closes([dt.date(2025, 9, 25)])

    stored = prediction.forecast_next_day()

    assert {f.target_date for f in stored} == {dt.date(2025, 9, 26)}
    assert Forecast.objects.live().count() == 4


def test_a_forecast_of_a_day_whose_gold_close_is_already_stored_is_stored_late(champion):
    """Gold a day ahead of the S&P 500: the step forecasts a close it could already read (issue 12)."""
    store_closes(trading_days(dt.date(2025, 9, 1), dt.date(2025, 9, 24)))
    store_closes([dt.date(2025, 9, 25)], spx=False)

    stored = prediction.forecast_next_day()

    assert {(f.kind, f.as_of_date, f.target_date) for f in stored} == {
        ("late", dt.date(2025, 9, 24), dt.date(2025, 9, 25))
    }
    assert not Forecast.objects.live().exists()
    assert Forecast.objects.late().count() == 2


def test_a_live_forecast_stays_live_when_its_target_close_arrives(champion):
    store_closes(trading_days(dt.date(2025, 9, 1), dt.date(2025, 9, 24)))
    live = prediction.forecast_next_day()
    store_closes([dt.date(2025, 9, 25)], spx=False)  # the gold close of the forecast day, the S&P 500's not yet

    again = prediction.forecast_next_day()  # the target is still 2025-09-25: the live forecasts are returned

    assert [f.pk for f in again] == [f.pk for f in live]
    assert {f.kind for f in again} == {"live"}
    assert Forecast.objects.count() == 2


def test_the_evening_step_after_the_fetch_is_live(champion):
    """fetch → score → predict: the day's closes are in, tomorrow's are not, so tomorrow's forecast is live."""
    store_closes(trading_days(dt.date(2025, 9, 1), dt.date(2025, 9, 24)))
    prediction.forecast_next_day()
    store_closes([dt.date(2025, 9, 25)])  # the evening fetch brings both closes of 2025-09-25

    stored = prediction.forecast_next_day()

    assert {(f.kind, f.target_date) for f in stored} == {("live", dt.date(2025, 9, 26))}


def test_the_ensured_forecast_is_the_late_one_when_that_is_what_the_step_stores(champion):
    store_closes(trading_days(dt.date(2025, 9, 1), dt.date(2025, 9, 24)))
    store_closes([dt.date(2025, 9, 25)], spx=False)

    forecast = prediction.forecast_next_day_ensure()

    assert (forecast.model_version, forecast.kind, forecast.target_date) == (champion, "late", dt.date(2025, 9, 25))
    assert prediction.forecast_next_day_ensure().pk == forecast.pk


def test_a_forecast_stored_meanwhile_by_another_worker_is_kept(champion, monkeypatch):
    store_closes(trading_days(dt.date(2025, 9, 1), dt.date(2025, 9, 24)))
    original = prediction.forecaster_get

    def forecaster_get_while_another_worker_stores(*, model_version, keep=None):
        forecaster = original(model_version=model_version, keep=keep)
        ForecastFactory(
            model_version=model_version,
            target_date=dt.date(2025, 9, 25),
            predicted_close=1234.0,
            lower_80=1200.0,
            upper_80=1300.0,
            lower_95=1100.0,
            upper_95=1400.0,
        )
        return forecaster

    monkeypatch.setattr(prediction, "forecaster_get", forecaster_get_while_another_worker_stores)

    stored = prediction.forecast_next_day()

    assert [f.predicted_close for f in stored] == [1234.0, 1234.0]
    assert Forecast.objects.count() == 2


def test_a_naive_champion_stores_one_forecast():
    ModelVersionFactory(architecture=ModelVersion.Architecture.NAIVE, is_champion=True)
    store_closes(trading_days(dt.date(2025, 9, 1), dt.date(2025, 9, 24)))

    stored = prediction.forecast_next_day()

    assert [f.model_version.architecture for f in stored] == ["naive"]
    assert Forecast.objects.count() == 1


def test_the_models_are_cached_until_the_champion_changes(champion, fake_registry):
    store_closes(trading_days(dt.date(2025, 9, 1), dt.date(2025, 9, 23)))
    prediction.forecast_next_day()
    naive = ModelVersion.objects.get(architecture="naive")
    ModelVersion.objects.filter(pk=champion.pk).update(is_champion=False)
    cnn = ModelVersionFactory(
        architecture=ModelVersion.Architecture.CNN, is_champion=True, training_run=champion.training_run
    )
    store_closes([dt.date(2025, 9, 24)])

    prediction.forecast_next_day()

    assert fake_registry.loaded == [champion.model_uri, naive.model_uri, cnn.model_uri]
    assert prediction.forecaster_cache_keys() == {
        (cnn.registered_name, cnn.version),
        (naive.registered_name, naive.version),
    }


def test_without_a_champion_the_error_says_to_train_first():
    store_closes(trading_days(dt.date(2025, 9, 1), dt.date(2025, 9, 24)))

    with pytest.raises(ForecastNotReady, match=r"manage\.py train"):
        prediction.forecast_next_day()


def test_without_prices_the_error_says_to_load_them(champion):
    with pytest.raises(ForecastNotReady, match="import or fetch prices"):
        prediction.forecast_next_day()
    assert not Forecast.objects.exists()


def test_too_short_a_history_is_refused_with_the_numbers(champion, settings):
    forecasters.install(settings, min_history=30)
    store_closes(trading_days(dt.date(2025, 9, 15), dt.date(2025, 9, 24)))

    with pytest.raises(ForecastError, match="needs 30 days .* the database has 8"):
        prediction.forecast_next_day()
    assert not Forecast.objects.exists()


def test_an_absurd_stored_close_gives_an_infinite_band_which_is_refused_and_nothing_stored(champion):
    """Issue 10, finding 1: an absurd close (imported before the plausibility checks) made an `inf` bound."""
    days = trading_days(dt.date(2025, 9, 1), dt.date(2025, 9, 24))
    store_closes(days)
    PriceBar.objects.filter(symbol="GC=F", date=days[-1]).update(close=1.75e308)

    with pytest.raises(ForecastError, match=r"upper_80 inf for 2025-09-25; nothing was stored") as raised:
        prediction.forecast_next_day()

    assert "1.75e+308" in str(raised.value)  # the close it read, to find the bad bar
    assert not Forecast.objects.exists()


@pytest.mark.parametrize("field", ["predicted_return", "predicted_close", "lower_80", "upper_95", "last_close"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_forecaster_answering_a_non_finite_number_stores_nothing(champion, monkeypatch, field, value):
    store_closes(trading_days(dt.date(2025, 9, 1), dt.date(2025, 9, 24)))
    honest = forecasters.FakeForecaster.forecast
    monkeypatch.setattr(
        forecasters.FakeForecaster,
        "forecast",
        lambda self, closes, alpha=None: replace(honest(self, closes), **{field: value}),
    )

    with pytest.raises(ForecastError, match=rf"{field} {value} for 2025-09-25; nothing was stored"):
        prediction.forecast_next_day()

    assert not Forecast.objects.exists()


def test_the_command_prints_the_stored_forecasts(champion, capsys):
    store_closes(trading_days(dt.date(2025, 9, 1), dt.date(2025, 9, 24)))

    call_command("predict_next_day")

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"2025-09-25  {champion}: ")
    assert "80% band" in lines[0]
    assert "(naive)" in lines[1]


def test_the_command_says_a_forecast_is_late_and_which_bar_a_live_one_waits_for(champion, capsys):
    store_closes(trading_days(dt.date(2025, 9, 1), dt.date(2025, 9, 24)))
    store_closes([dt.date(2025, 9, 25)], spx=False)

    call_command("predict_next_day")

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("late: made after the gold close of 2025-09-25 was stored, never counted as live")
    assert "No live forecast can be made yet: S&P 500 close for 2025-09-25 not stored yet." in lines
    assert "Scored 2 forecast(s) against stored closes." in lines


def test_the_command_explains_a_missing_champion():
    with pytest.raises(CommandError, match=r"manage\.py train"):
        call_command("predict_next_day")


@pytest.mark.slow
def test_a_naive_champion_from_the_real_mlflow_registry_forecasts(settings):
    """The real `training.ml` contract: register a naive version in a throw-away MLflow store, load it back."""
    from tests.training.ml.series import random_walk_closes
    from training.ml.dataset import Protocol
    from training.ml.pipeline import evaluate_candidate
    from training.services.mlflow_settings import mlflow_tracking_kwargs
    from training.services.runs import model_version_record

    settings.FORECASTS_FORECASTER_LOADER = "forecasts.services.prediction.forecaster_registry_load"
    result = evaluate_candidate(
        random_walk_closes(days=200),
        kind="naive",
        protocol=Protocol(test_days=20, selection_days=40, folds=4, lookback=5),
        **mlflow_tracking_kwargs(),
    )
    version = model_version_record(result=result)
    ModelVersion.objects.filter(pk=version.pk).update(is_champion=True)
    # The band's σ model reads up to 250 returns (GARCH), chosen on CV: store more than a year.
    store_closes(trading_days(dt.date(2024, 8, 1), dt.date(2025, 9, 24)))

    (stored,) = prediction.forecast_next_day()

    last_close = gold_close(dt.date(2025, 9, 24))
    assert (stored.model_version, stored.target_date) == (version, dt.date(2025, 9, 25))
    assert (stored.last_close, stored.predicted_close) == (last_close, last_close)
    assert stored.lower_95 <= stored.lower_80 <= last_close <= stored.upper_80 <= stored.upper_95
