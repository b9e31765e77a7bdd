"""GET /api/forecasts/ and /api/forecasts/latest/: stored forecasts with their actuals and errors."""

import datetime as dt

import pytest

from forecasts.calendar import last_completed_trading_day, next_trading_day
from forecasts.models import Forecast
from forecasts.services.scoring import forecast_apply_actual
from tests.factories import DataLoadFactory, ForecastFactory, ModelVersionFactory, PriceBarFactory, TrainingRunFactory
from tests.forecasts.forecasters import trading_days
from training.models import ModelVersion

pytestmark = pytest.mark.django_db

LIST_URL = "/api/forecasts/"
LATEST_URL = "/api/forecasts/latest/"


@pytest.fixture
def champion():
    run = TrainingRunFactory()
    ModelVersionFactory(architecture=ModelVersion.Architecture.NAIVE, training_run=run, version=1)
    return ModelVersionFactory(
        architecture=ModelVersion.Architecture.LSTM, training_run=run, is_champion=True, version=3
    )


@pytest.fixture
def naive(champion):
    return ModelVersion.objects.get(architecture="naive")


class TestForecastList:
    def test_lists_forecasts_with_actuals_and_errors(self, api, champion):
        forecast = ForecastFactory.build(model_version=champion, target_date=dt.date(2025, 9, 25))
        forecast_apply_actual(forecast=forecast, actual_close=3750.0)
        forecast.save()

        response = api.get(LIST_URL)

        assert response.status_code == 200
        (row,) = response.json()["results"]
        assert row == {
            "id": forecast.pk,
            "model_version": champion.pk,
            "model_version_label": "gold-next-day v3 (lstm)",
            "architecture": "lstm",
            "kind": "live",
            "target_date": "2025-09-25",
            "as_of_date": "2025-09-24",
            "last_close": 3700.0,
            "predicted_return": 0.0,
            "predicted_close": 3700.0,
            "lower_80": 3660.0,
            "upper_80": 3740.0,
            "lower_95": 3640.0,
            "upper_95": 3760.0,
            "actual_close": 3750.0,
            "error": -50.0,
            "abs_pct_error": pytest.approx(50 / 3750 * 100),
            "direction_hit": None,
            "inside_80": False,
            "inside_95": True,
            "scored_at": row["scored_at"],
            "created_at": row["created_at"],
        }
        assert row["scored_at"] is not None

    def test_filters_by_days_kind_and_model_version(self, api, champion, naive):
        for day in (22, 23, 24, 25):
            ForecastFactory(model_version=champion, target_date=dt.date(2025, 9, day))
            ForecastFactory(model_version=naive, target_date=dt.date(2025, 9, day))
        ForecastFactory(model_version=champion, target_date=dt.date(2025, 9, 23), kind=Forecast.Kind.BACKTEST)

        response = api.get(
            LIST_URL, {"start": "2025-09-23", "end": "2025-09-24", "kind": "live", "model_version": champion.pk}
        )

        assert [(r["target_date"], r["model_version"]) for r in response.json()["results"]] == [
            ("2025-09-24", champion.pk),
            ("2025-09-23", champion.pk),
        ]
        assert api.get(LIST_URL, {"kind": "backtest"}).json()["count"] == 1

    @pytest.mark.parametrize("kind", ["live", "late", "backtest", "cv"])
    def test_each_kind_is_a_filter(self, api, champion, kind):
        for i, each in enumerate(Forecast.Kind.values):
            ForecastFactory(model_version=champion, kind=each, target_date=dt.date(2025, 9, 22 + i))

        rows = api.get(LIST_URL, {"kind": kind}).json()["results"]

        assert [row["kind"] for row in rows] == [kind]

    def test_an_unknown_kind_is_refused_naming_the_kinds(self, api, champion):
        response = api.get(LIST_URL, {"kind": "future"})

        assert response.status_code == 400
        assert response.json() == {"kind": ['"future" is not a kind; use one of live, late, backtest, cv.']}

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"kind": "future"}, "kind"),
            ({"model_version": "999"}, "model_version"),
            ({"model_version": "mlp"}, "model_version"),
            ({"start": "25/09/2025"}, "start"),
            ({"start": "2025-09-25", "end": "2025-09-01"}, "end"),
        ],
    )
    def test_bad_filters_are_refused_per_field(self, api, champion, params, field):
        response = api.get(LIST_URL, params)
        assert response.status_code == 400
        assert list(response.json()) == [field]


class TestForecastLatest:
    def test_shows_the_champions_next_day_forecast_beside_the_naive_one(self, api, champion, naive):
        ForecastFactory(model_version=champion, target_date=dt.date(2025, 9, 24))
        latest = ForecastFactory(model_version=champion, target_date=dt.date(2025, 9, 25), predicted_close=3710.0)
        beside = ForecastFactory(model_version=naive, target_date=dt.date(2025, 9, 25))
        PriceBarFactory(date=dt.date(2025, 9, 24))
        DataLoadFactory()

        response = api.get(LATEST_URL)

        assert response.status_code == 200
        body = response.json()
        assert set(body) == {
            "target_date",
            "as_of_date",
            "stale",
            "data_age_days",
            "champion",
            "forecast",
            "naive",
            "freshness",
            "kind",
            "missing_bars",
        }
        assert (body["target_date"], body["as_of_date"]) == ("2025-09-25", "2025-09-24")
        # Made from 24 September 2025's data: long before the clock of the machine running this.
        assert body["stale"] is True
        since = dt.date(2025, 9, 25)
        assert body["data_age_days"] == len(trading_days(since, last_completed_trading_day()))
        assert body["champion"] == {
            "id": champion.pk,
            "registered_name": "gold-next-day",
            "version": 3,
            "architecture": "lstm",
            "label": "gold-next-day v3 (lstm)",
        }
        assert (body["forecast"]["id"], body["forecast"]["predicted_close"]) == (latest.pk, 3710.0)
        assert (body["kind"], body["missing_bars"]) == ("live", None)
        assert body["naive"]["id"] == beside.pk
        assert set(body["freshness"]) == {
            "newest_gold_date",
            "expected_date",
            "is_stale",
            "staleness_days",
            "last_successful_load_at",
        }
        assert body["freshness"]["newest_gold_date"] == "2025-09-24"
        assert body["freshness"]["is_stale"] is True  # it is later than September 2025 now

    def test_a_late_forecast_is_served_as_late_with_the_bar_a_live_one_waits_for(self, api, champion, naive):
        ForecastFactory(model_version=champion, target_date=dt.date(2025, 9, 24))
        late = ForecastFactory(model_version=champion, target_date=dt.date(2025, 9, 25), kind=Forecast.Kind.LATE)
        beside = ForecastFactory(model_version=naive, target_date=dt.date(2025, 9, 25), kind=Forecast.Kind.LATE)
        PriceBarFactory(date=dt.date(2025, 9, 24))
        PriceBarFactory(symbol="^GSPC", date=dt.date(2025, 9, 24), close=6600.0)
        PriceBarFactory(date=dt.date(2025, 9, 25))

        body = api.get(LATEST_URL).json()

        assert (body["kind"], body["forecast"]["id"], body["naive"]["id"]) == ("late", late.pk, beside.pk)
        assert body["missing_bars"] == {
            "as_of_date": "2025-09-24",
            "date": "2025-09-25",
            "symbols": ["^GSPC"],
            "message": "S&P 500 close for 2025-09-25 not stored yet",
        }

    def test_a_forecast_made_from_the_last_completed_session_is_not_stale(self, api, champion):
        today = last_completed_trading_day()
        ForecastFactory(model_version=champion, as_of_date=today, target_date=next_trading_day(today))

        body = api.get(LATEST_URL).json()

        assert (body["as_of_date"], body["stale"], body["data_age_days"]) == (today.isoformat(), False, 0)

    def test_without_a_champion_it_says_to_train_first(self, api):
        response = api.get(LATEST_URL)
        assert response.status_code == 503
        assert response.json() == {
            "detail": "There is no champion model yet; run `manage.py train` first.",
            "code": "forecast_not_ready",
        }

    def test_without_a_live_forecast_it_says_how_to_make_one(self, api, champion):
        response = api.get(LATEST_URL)
        assert response.status_code == 503
        assert "predict_next_day" in response.json()["detail"]
