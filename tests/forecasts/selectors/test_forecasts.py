"""Reading forecasts: the filtered list, the latest forecast beside the naive one, and the data's age."""

import datetime as dt

import pytest

from forecasts.calendar import NEW_YORK
from forecasts.models import Forecast
from forecasts.selectors.forecasts import data_age, forecast_latest, forecast_list
from tests.factories import ForecastFactory, ModelVersionFactory, PriceBarFactory, TrainingRunFactory
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

    def test_a_late_forecast_is_shown_as_late_beside_the_late_naive_one(self, champion, naive):
        ForecastFactory(model_version=champion, target_date=DAYS[0])
        late = ForecastFactory(model_version=champion, target_date=DAYS[1], kind=Forecast.Kind.LATE)
        ForecastFactory(model_version=naive, target_date=DAYS[1])  # a live naive row of that day: not beside it
        beside = ForecastFactory(model_version=naive, target_date=DAYS[1], kind=Forecast.Kind.LATE)

        latest = forecast_latest()

        assert (latest.forecast, latest.naive) == (late, beside)
        assert (latest.kind, latest.is_late) == ("late", True)

    def test_names_the_bars_a_live_forecast_waits_for(self, champion):
        PriceBarFactory(symbol="GC=F", date=DAYS[0])
        PriceBarFactory(symbol="^GSPC", date=DAYS[0], close=6000.0)
        PriceBarFactory(symbol="GC=F", date=DAYS[1])

        latest = forecast_latest()

        assert latest.missing_bars.message == f"S&P 500 close for {DAYS[1].isoformat()} not stored yet"
        assert latest.forecast is None and latest.kind is None

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
