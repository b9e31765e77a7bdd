"""GET /api/accuracy/?window=20|60|250: the champion against the naive forecast on the same days."""

import datetime as dt

import pytest

from forecasts.services.scoring import forecast_apply_actual
from tests.factories import ForecastFactory, ModelVersionFactory, TrainingRunFactory
from tests.forecasts.forecasters import trading_days
from training.models import ModelVersion

pytestmark = pytest.mark.django_db

URL = "/api/accuracy/"
DAYS = trading_days(dt.date(2025, 1, 2), dt.date(2025, 12, 31))


def scored(version, day, *, predicted, kind="live"):
    forecast = ForecastFactory.build(
        model_version=version,
        kind=kind,
        target_date=day,
        last_close=1990.0,
        predicted_close=predicted,
        lower_80=predicted - 15,
        upper_80=predicted + 15,
        lower_95=predicted - 30,
        upper_95=predicted + 30,
    )
    forecast_apply_actual(forecast=forecast, actual_close=2000.0)
    forecast.save()


@pytest.fixture
def history():
    run = TrainingRunFactory()
    champion = ModelVersionFactory(architecture=ModelVersion.Architecture.MLP, is_champion=True, training_run=run)
    naive = ModelVersionFactory(architecture=ModelVersion.Architecture.NAIVE, training_run=run)
    for day in DAYS[:30]:
        scored(champion, day, predicted=1995.0)
        scored(naive, day, predicted=1990.0)
    for day in DAYS[100:200]:
        scored(champion, day, predicted=2008.0, kind="backtest")
        scored(naive, day, predicted=1990.0, kind="backtest")
    return champion, naive


def test_compares_live_forecasts_when_there_are_enough(api, history):
    champion, naive = history

    response = api.get(URL, {"window": 20})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "window",
        "source",
        "n",
        "live_n",
        "note",
        "start",
        "end",
        "rmae",
        "champion",
        "naive",
        "evidence",
    }
    assert (body["window"], body["source"], body["n"], body["live_n"]) == (20, "live", 20, 20)
    assert body["rmae"] == pytest.approx(0.5)
    assert body["champion"] == {
        "id": champion.pk,
        "label": str(champion),
        "architecture": "mlp",
        "n": 20,
        "mae": 5.0,
        "mape": pytest.approx(0.25),
        "direction_hit_rate": 1.0,
        "coverage_80": 1.0,
    }
    assert (body["naive"]["id"], body["naive"]["mae"], body["naive"]["direction_hit_rate"]) == (naive.pk, 10.0, None)


def test_live_evidence_needs_20_live_forecasts(api):
    run = TrainingRunFactory()
    champion = ModelVersionFactory(architecture=ModelVersion.Architecture.MLP, is_champion=True, training_run=run)
    naive = ModelVersionFactory(architecture=ModelVersion.Architecture.NAIVE, training_run=run)
    for i, day in enumerate(DAYS[:19]):
        scored(champion, day, predicted=1995.0 + i % 4)
        scored(naive, day, predicted=1990.0)

    with_19 = api.get(URL).json()["evidence"]
    scored(champion, DAYS[19], predicted=1996.0)
    scored(naive, DAYS[19], predicted=1990.0)
    with_20 = api.get(URL).json()["evidence"]

    assert with_19 == {
        "n": 19,
        "required": 20,
        "start": DAYS[0].isoformat(),
        "end": DAYS[18].isoformat(),
        "rmae": None,
        "p_value": None,
        "dm_statistic": None,
        "dm_lag": None,
        "beats_naive": None,
        "note": "19 live forecasts scored; evidence needs 20.",
    }
    assert (with_20["n"], with_20["end"], with_20["beats_naive"]) == (20, DAYS[19].isoformat(), True)
    assert with_20["rmae"] == pytest.approx((sum(5 - i % 4 for i in range(19)) + 4) / 20 / 10)
    assert 0 <= with_20["p_value"] < 0.01 and with_20["dm_lag"] >= 0
    assert "beats naive" in with_20["note"]


def test_falls_back_to_the_backtest_and_says_so(api, history):
    body = api.get(URL, {"window": 60}).json()

    assert (body["source"], body["n"], body["live_n"]) == ("backtest", 60, 30)
    assert "backtest" in body["note"]
    assert body["champion"]["mae"] == 8.0
    assert body["rmae"] == pytest.approx(0.8)


def test_the_window_defaults_to_20_days(api, history):
    assert api.get(URL).json()["window"] == 20


def test_before_any_training_it_answers_with_nothing_to_compare(api):
    body = api.get(URL).json()
    assert (body["source"], body["n"], body["champion"], body["naive"], body["rmae"]) == (None, 0, None, None, None)


@pytest.mark.parametrize("window", ["10", "61", "all", "-20"])
def test_other_windows_are_refused(api, window):
    response = api.get(URL, {"window": window})
    assert response.status_code == 400
    assert list(response.json()) == ["window"]
