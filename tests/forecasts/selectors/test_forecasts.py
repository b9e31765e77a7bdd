"""Reading forecasts: the filtered list, the latest forecast beside the naive one, and accuracy."""

import datetime as dt

import pytest

from forecasts.calendar import NEW_YORK
from forecasts.exceptions import ForecastError
from forecasts.models import Forecast
from forecasts.selectors.forecasts import data_age, forecast_accuracy, forecast_latest, forecast_list
from tests.factories import ForecastFactory, ModelVersionFactory, PriceBarFactory, TrainingRunFactory, scored_forecast
from tests.forecasts.forecasters import trading_days
from training.models import ModelVersion

pytestmark = pytest.mark.django_db

DAYS = trading_days(dt.date(2025, 1, 2), dt.date(2025, 12, 31))


@pytest.fixture
def run():
    return TrainingRunFactory()


@pytest.fixture
def champion(run):
    return ModelVersionFactory(architecture=ModelVersion.Architecture.MLP, is_champion=True, training_run=run)


@pytest.fixture
def naive(run):
    return ModelVersionFactory(architecture=ModelVersion.Architecture.NAIVE, training_run=run)


def scored(version, day, *, actual=2000.0, miss=0.0, last_close=1980.0, half_band=40.0, kind="live"):
    """A scored forecast of `day` predicting `actual + miss`, with an 80% band of ± half_band."""
    return scored_forecast(
        version, day=day, predicted=actual + miss, actual=actual, last_close=last_close, band=half_band, kind=kind
    )


def naive_scored(version, day, *, kind="live"):
    """The naive forecast of `day`: last close 1980, actual 2000, so it misses by 20 with a ±10 band."""
    return scored(version, day, miss=-20.0, half_band=10.0, kind=kind)


class TestForecastList:
    def test_filters_by_days_kind_and_version_newest_first(self, champion, naive):
        for day in DAYS[:5]:
            ForecastFactory(model_version=champion, target_date=day)
            ForecastFactory(model_version=naive, target_date=day)
        ForecastFactory(model_version=champion, target_date=DAYS[2], kind=Forecast.Kind.BACKTEST)

        rows = forecast_list(start=DAYS[1], end=DAYS[3], kind="live", model_version=champion)

        assert [(f.target_date, f.model_version_id) for f in rows] == [
            (DAYS[3], champion.pk),
            (DAYS[2], champion.pk),
            (DAYS[1], champion.pk),
        ]
        assert forecast_list().count() == 11
        assert forecast_list(kind="backtest").get().target_date == DAYS[2]


class TestForecastLatest:
    def test_is_empty_before_any_training(self):
        latest = forecast_latest()
        assert (latest.champion, latest.forecast, latest.naive) == (None, None, None)
        assert latest.freshness.is_stale

    def test_a_champion_without_a_live_forecast_has_none(self, champion):
        ForecastFactory(model_version=champion, kind=Forecast.Kind.BACKTEST)
        latest = forecast_latest()
        assert latest.champion == champion
        assert latest.forecast is None

    def test_is_the_champions_newest_live_forecast_beside_the_naive_one(self, champion, naive):
        other_naive = ModelVersionFactory(architecture=ModelVersion.Architecture.NAIVE)
        ForecastFactory(model_version=champion, target_date=DAYS[0])
        newest = ForecastFactory(model_version=champion, target_date=DAYS[1])
        ForecastFactory(model_version=other_naive, target_date=DAYS[1])
        beside = ForecastFactory(model_version=naive, target_date=DAYS[1])
        ForecastFactory(model_version=champion, target_date=DAYS[5], kind=Forecast.Kind.BACKTEST)
        PriceBarFactory(date=DAYS[0])

        latest = forecast_latest(now=dt.datetime(2025, 1, 3, 23, 0, tzinfo=dt.UTC))

        assert latest.forecast == newest
        assert latest.naive == beside  # the champion's own baseline, not just any naive version
        assert latest.freshness.newest_gold_date == DAYS[0]

    def test_a_naive_champion_is_its_own_baseline(self, naive):
        ModelVersion.objects.filter(pk=naive.pk).update(is_champion=True)
        forecast = ForecastFactory(model_version=naive, target_date=DAYS[0])
        latest = forecast_latest()
        assert latest.forecast == latest.naive == forecast


def evening(day: str) -> dt.datetime:
    """18:00 New York on `day`: that day's session (if any) has completed."""
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(18, 0), tzinfo=NEW_YORK)


class TestDataAge:
    """How many trading days data dated `as_of_date` lags the last completed session, and whether that is stale."""

    def test_data_of_the_last_completed_session_is_current(self):
        age = data_age(as_of_date=dt.date(2025, 9, 26), now=evening("2025-09-26"))

        assert (age.days, age.stale, age.expected_date) == (0, False, dt.date(2025, 9, 26))

    def test_the_age_counts_trading_days_not_calendar_days(self):
        # Friday's data on Tuesday evening: Monday and Tuesday are missing, the weekend does not count.
        age = data_age(as_of_date=dt.date(2025, 9, 26), now=evening("2025-09-30"))

        assert (age.days, age.stale) == (2, False)

    def test_holidays_do_not_count(self):
        # Thursday 3 July 2025's data on Monday evening: Friday 4 July was Independence Day.
        assert data_age(as_of_date=dt.date(2025, 7, 3), now=evening("2025-07-07")).days == 1

    def test_more_than_FORECAST_STALE_AFTER_DAYS_trading_days_behind_is_stale(self, settings):
        assert settings.FORECAST_STALE_AFTER_DAYS == 3  # the shipped default
        on_tuesday = evening("2025-09-30")

        three_behind = data_age(as_of_date=dt.date(2025, 9, 25), now=on_tuesday)
        four_behind = data_age(as_of_date=dt.date(2025, 9, 24), now=on_tuesday)
        settings.FORECAST_STALE_AFTER_DAYS = 5
        tolerated = data_age(as_of_date=dt.date(2025, 9, 24), now=on_tuesday)

        assert (three_behind.days, three_behind.stale) == (3, False)
        assert (four_behind.days, four_behind.stale) == (4, True)
        assert tolerated.stale is False

    def test_431_day_old_data_is_stale(self):
        age = data_age(as_of_date=dt.date(2025, 9, 26), now=evening("2026-12-01"))

        assert age.stale is True
        assert age.days == len(trading_days(dt.date(2025, 9, 27), dt.date(2026, 12, 1)))

    def test_no_data_at_all_is_stale_with_no_age(self):
        age = data_age(as_of_date=None, now=evening("2025-09-30"))

        assert (age.days, age.stale) == (None, True)

    def test_the_latest_forecast_carries_the_age_of_the_data_it_was_made_from(self, champion):
        ForecastFactory(model_version=champion, as_of_date=dt.date(2025, 9, 24), target_date=dt.date(2025, 9, 25))

        latest = forecast_latest(now=evening("2025-09-30"))

        assert (latest.data_age.as_of_date, latest.data_age.days, latest.data_age.stale) == (
            dt.date(2025, 9, 24),
            4,
            True,
        )

    def test_without_a_forecast_there_is_no_age(self, champion):
        assert forecast_latest().data_age is None


class TestForecastAccuracy:
    def test_compares_the_champion_with_the_naive_forecast_over_live_days(self, champion, naive):
        for day in DAYS[:25]:
            scored(champion, day, miss=10.0)
            naive_scored(naive, day)

        accuracy = forecast_accuracy(window=20)

        assert accuracy["source"] == "live"
        assert (accuracy["n"], accuracy["live_n"], accuracy["note"]) == (20, 20, "")
        assert (accuracy["start"], accuracy["end"]) == (DAYS[5], DAYS[24])  # the last 20 days
        assert accuracy["champion"] == {
            "id": champion.pk,
            "label": str(champion),
            "architecture": "mlp",
            "n": 20,
            "mae": 10.0,
            "mape": pytest.approx(0.5),
            "direction_hit_rate": 1.0,
            "coverage_80": 1.0,
        }
        assert accuracy["naive"]["mae"] == 20.0
        assert accuracy["naive"]["direction_hit_rate"] is None  # "no change" makes no directional call
        assert accuracy["naive"]["coverage_80"] == 0.0
        assert accuracy["rmae"] == pytest.approx(0.5)

    def test_only_days_both_forecast_are_compared(self, champion, naive):
        for day in DAYS[:20]:
            scored(champion, day, miss=10.0)
        for day in DAYS[:19]:
            naive_scored(naive, day)
        scored(champion, DAYS[30], miss=500.0)  # no naive forecast that day: left out
        ForecastFactory(model_version=champion, target_date=DAYS[31])  # not scored yet: left out

        accuracy = forecast_accuracy(window=20)

        assert accuracy["live_n"] == 19
        assert accuracy["champion"]["mae"] == 10.0

    def test_falls_back_to_the_backtest_and_says_so(self, champion, naive):
        for day in DAYS[:7]:
            scored(champion, day, miss=5.0)
            naive_scored(naive, day)
        for day in DAYS[100:170]:
            scored(champion, day, miss=-30.0, kind="backtest")
            naive_scored(naive, day, kind="backtest")

        accuracy = forecast_accuracy(window=60)

        assert accuracy["source"] == "backtest"
        assert (accuracy["n"], accuracy["live_n"]) == (60, 7)
        assert "Only 7 scored live forecasts" in accuracy["note"]
        assert accuracy["end"] == DAYS[169]
        assert accuracy["champion"]["mae"] == 30.0
        assert accuracy["rmae"] == pytest.approx(1.5)

    def test_a_backtest_is_compared_with_the_naive_version_of_the_same_run(self, champion, naive):
        other_run_naive = ModelVersionFactory(architecture=ModelVersion.Architecture.NAIVE)
        for day in DAYS[:20]:
            scored(champion, day, miss=10.0, kind="backtest")
            scored(other_run_naive, day, miss=1.0, kind="backtest")

        accuracy = forecast_accuracy(window=20)

        assert accuracy["source"] is None
        assert accuracy["n"] == 0

    def test_with_few_live_days_and_no_backtest_it_uses_what_there_is(self, champion, naive):
        for day in DAYS[:3]:
            scored(champion, day, miss=10.0)
            naive_scored(naive, day)

        accuracy = forecast_accuracy(window=20)

        assert (accuracy["source"], accuracy["n"]) == ("live", 3)
        assert "Only 3 scored live forecasts" in accuracy["note"]

    def test_a_naive_champion_scores_an_rmae_of_one(self, naive):
        ModelVersion.objects.filter(pk=naive.pk).update(is_champion=True)
        for day in DAYS[:20]:
            naive_scored(naive, day)

        accuracy = forecast_accuracy(window=20)

        assert accuracy["rmae"] == 1.0
        assert accuracy["champion"]["mae"] == accuracy["naive"]["mae"] == 20.0

    def test_without_a_champion_there_is_nothing_to_measure(self):
        accuracy = forecast_accuracy(window=20)
        assert (accuracy["source"], accuracy["champion"], accuracy["rmae"]) == (None, None, None)
        assert "no champion" in accuracy["note"]

    @pytest.mark.parametrize("window", [0, 10, 100])
    def test_only_the_three_windows_are_offered(self, window):
        with pytest.raises(ForecastError, match="20, 60, 250"):
            forecast_accuracy(window=window)
