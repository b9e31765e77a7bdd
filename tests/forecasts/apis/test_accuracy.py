"""GET /api/accuracy/?window=20|60|250: the champion against the naive forecast on the same days."""

import datetime as dt

import pytest

from forecasts.services.scoring import forecast_apply_actual
from tests.factories import ForecastFactory, ModelVersionFactory, TrainingRunFactory, band_intervals, walk_forward_test
from tests.forecasts.forecasters import store_closes, trading_days
from training.models import ModelVersion

pytestmark = pytest.mark.django_db

URL = "/api/accuracy/"
DAYS = trading_days(dt.date(2025, 1, 2), dt.date(2025, 12, 31))


def scored(version, day, *, predicted, kind="live", as_of=None):
    forecast = ForecastFactory.build(
        model_version=version,
        kind=kind,
        target_date=day,
        as_of_date=as_of or dt.date(2025, 9, 24),
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
        "bands",
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


def test_the_live_band_record_says_whether_the_bands_held(api, history):
    champion, _ = history

    bands = api.get(URL, {"window": 20}).json()["bands"]

    assert bands["text"] == "The 80% band held on 20 of the last 20 days (95%: 20 of 20)."
    assert (bands["n"], bands["held_80"], bands["held_95"], bands["coverage_80"]) == (20, 20, 20, 1.0)
    assert (bands["start"], bands["end"]) == (DAYS[10].isoformat(), DAYS[29].isoformat())
    # both bands are $30 wide and every close is inside: the Winkler score is the width
    assert (bands["winkler_80"], bands["naive_winkler_80"], bands["winkler_n"]) == (30.0, 30.0, 20)
    assert bands["by_regime"] == {}  # no stored closes, so no volatility to split the days by
    assert bands["state"] is None  # the factory's champion has no adaptive bands
    assert bands["calibration"] == {
        "source": None,
        "n": 0,
        "by_regime": {},
        "note": "No volatility known for the live days, and no walk-forward coverage per regime stored.",
    }


def test_the_band_record_splits_live_days_by_volatility_and_carries_the_adaptive_state(api):
    run = TrainingRunFactory()
    state = {"alpha": {"80": 0.21, "95": 0.05}, "days": 24, "held": {"80": 20, "95": 23}, "through": "2025-02-07"}
    champion = ModelVersionFactory(
        architecture="mlp", is_champion=True, training_run=run, intervals=band_intervals(state=state)
    )
    ModelVersionFactory(architecture="naive", training_run=run)
    store_closes(DAYS[:60])
    for i in range(30, 54):
        scored(champion, DAYS[i + 1], predicted=1995.0, as_of=DAYS[i])

    bands = api.get(URL, {"window": 20}).json()["bands"]

    assert set(bands["by_regime"]) == {"calm", "normal", "volatile"}
    assert sum(regime["n"] for regime in bands["by_regime"].values()) == 20
    assert set(bands["by_regime"]["calm"]) == {"n", "sigma_max", "coverage_80", "coverage_95", "width_80", "width_95"}
    assert bands["calibration"]["source"] == "live"
    assert bands["calibration"]["by_regime"] == bands["by_regime"]
    assert bands["state"] == {
        "volatility": "ewma",
        "volatility_label": "EWMA volatility (RiskMetrics, λ = 0.94)",
        "gamma": 0.01,
        "alpha0": {"80": 0.2, "95": 0.05},
        "alpha": {"80": 0.21, "95": 0.05},
        "days": 24,
        "held": {"80": 20, "95": 23},
        "through": "2025-02-07",
    }
    assert bands["winkler_n"] == 0 and bands["naive_winkler_80"] is None  # naive forecast none of those days


def test_with_few_live_days_the_band_record_falls_back_to_the_test_coverage(api):
    champion = ModelVersionFactory(architecture="mlp", is_champion=True, test_metrics=walk_forward_test(rmae=0.99))
    for day in DAYS[:5]:
        scored(champion, day, predicted=1995.0)

    bands = api.get(URL, {"window": 20}).json()["bands"]

    assert bands["text"].startswith("Only 5 scored live days so far (fewer than the 20 of this window)")
    assert bands["calibration"]["source"] == "backtest"
    assert bands["calibration"]["by_regime"]["calm"]["coverage_80"] == 0.72
