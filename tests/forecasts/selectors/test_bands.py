"""The live band record: on how many of the champion's last scored live days each band held, per volatility regime
(terciles of the 20-day realised volatility at each as-of day, from the stored closes), its Winkler 80% against
naive's on the same days, the adaptive state, and what the calibration chart draws when live days are too few."""

import datetime as dt
import math

import numpy as np
import pytest

from forecasts.selectors.accuracy import forecast_accuracy
from forecasts.selectors.bands import live_band_record, realised_volatility
from tests.factories import ModelVersionFactory, TrainingRunFactory, band_intervals, walk_forward_test
from tests.forecasts.band_history import CALM, DAYS, HALF_BAND, forecast, live_window, store_phases

pytestmark = pytest.mark.django_db


@pytest.fixture
def closes():
    """Gold closes in a calm, a normal and a volatile phase (tests.forecasts.band_history)."""
    return store_phases()


@pytest.fixture
def run():
    return TrainingRunFactory()


@pytest.fixture
def champion(run):
    return ModelVersionFactory(
        architecture="lstm",
        training_run=run,
        is_champion=True,
        intervals=band_intervals(
            state={
                "alpha": {"80": 0.19, "95": 0.048},
                "days": 21,
                "held": {"80": 17, "95": 20},
                "through": "2025-06-05",
            }
        ),
        test_metrics=walk_forward_test(rmae=0.99),
    )


@pytest.fixture
def naive(run):
    return ModelVersionFactory(architecture="naive", hyperparameters={}, training_run=run)


@pytest.fixture
def live_days(closes, champion, naive):
    """20 scored live days in the window (16 held the 80% band, 19 the 95%), one older, rows that never count."""
    live_window(champion, naive)


def test_the_held_sentence_counts_the_last_window_of_live_days(champion, live_days):
    record = live_band_record(champion=champion, window=20)

    assert record["text"] == "The 80% band held on 16 of the last 20 days (95%: 19 of 20)."
    assert (record["n"], record["held_80"], record["held_95"]) == (20, 16, 19)
    assert (record["coverage_80"], record["coverage_95"]) == (0.8, 0.95)
    assert (record["start"], record["end"]) == (DAYS[26], DAYS[112])


def test_coverage_per_volatility_regime_uses_the_realised_volatility_at_each_as_of_day(champion, live_days):
    by_regime = live_band_record(champion=champion, window=20)["by_regime"]

    counts = {name: (r["n"], r["coverage_80"], r["coverage_95"]) for name, r in by_regime.items()}
    assert counts == {
        "calm": (7, 1.0, 1.0),  # not the as-of 20 row: it is the 21st newest
        "normal": (6, pytest.approx(5 / 6), 1.0),
        "volatile": (7, pytest.approx(4 / 7), pytest.approx(6 / 7)),
    }
    assert by_regime["calm"]["width_80"] == 2 * HALF_BAND
    assert by_regime["calm"]["sigma_max"] < by_regime["normal"]["sigma_max"] < by_regime["volatile"]["sigma_max"]


def test_sigma_is_the_20_day_realised_volatility_of_the_stored_closes(closes):
    sigma = realised_volatility(days=[DAYS[30], DAYS[100]])

    returns = np.diff(np.log(closes))
    assert sigma[DAYS[30]] == pytest.approx(np.std(returns[10:30], ddof=1))
    assert sigma[DAYS[100]] == pytest.approx(np.std(returns[80:100], ddof=1))
    assert sigma[DAYS[30]] == pytest.approx(0.001 * math.sqrt(20 / 19))


def test_a_day_without_stored_closes_has_no_volatility_and_is_left_out(closes):
    assert realised_volatility(days=[DAYS[0], dt.date(2024, 6, 1)]) == {}


def test_winkler_80_beside_naives_over_the_days_both_forecast_live(champion, live_days):
    record = live_band_record(champion=champion, window=20)

    # 19 shared days (naive skipped as-of 26); misses of 15 cost 10 × 5, one of 30 costs 10 × 20 (2/α = 10).
    assert record["winkler_n"] == 19
    assert record["winkler_80"] == pytest.approx((15 * 20 + 3 * (20 + 50) + (20 + 200)) / 19)
    assert record["naive_winkler_80"] == pytest.approx((18 * 50 + (50 + 50)) / 19)


def test_the_adaptive_state_comes_from_the_version(champion, live_days):
    state = live_band_record(champion=champion, window=20)["state"]

    assert state["alpha"] == {"80": 0.19, "95": 0.048}
    assert state["alpha0"] == {"80": 0.2, "95": 0.05}
    assert (state["days"], state["held"], state["gamma"], state["volatility"]) == (
        21,
        {"80": 17, "95": 20},
        0.01,
        "ewma",
    )


def test_before_the_first_live_score_the_state_is_the_starting_one(closes, naive):
    version = ModelVersionFactory(architecture="mlp", is_champion=True, intervals=band_intervals())

    state = live_band_record(champion=version, window=20)["state"]

    assert state["alpha"] == state["alpha0"] == {"80": 0.2, "95": 0.05}
    assert state["days"] == 0 and state["through"] is None


def test_bands_registered_before_they_were_adaptive_have_no_state(closes):
    version = ModelVersionFactory(architecture="mlp", is_champion=True, intervals={})

    assert live_band_record(champion=version, window=20)["state"] is None


def test_with_enough_live_days_the_chart_draws_the_live_coverage(champion, live_days):
    calibration = live_band_record(champion=champion, window=20)["calibration"]

    assert calibration["source"] == "live"
    assert calibration["n"] == 20
    assert set(calibration["by_regime"]) == {"calm", "normal", "volatile"}
    assert calibration["note"] == "Observed coverage on the calm, normal and volatile third of the last 20 live days."


def test_with_too_few_live_days_it_says_so_and_the_chart_draws_the_walk_forward_test(closes, champion, naive):
    for i, miss in ((25, 0.0), (26, 15.0), (27, 0.0)):
        forecast(champion, i, miss=miss)

    record = live_band_record(champion=champion, window=20)

    assert record["text"] == (
        "Only 3 scored live days so far (fewer than the 20 of this window): the 80% band held on 2 of 3 (95%: 3 of 3)."
    )
    calibration = record["calibration"]
    assert calibration["source"] == "backtest"
    assert calibration["by_regime"] == champion.test_metrics["coverage_by_regime"]
    assert calibration["n"] == 250
    assert calibration["note"] == (
        "Only 3 scored live days (fewer than 20): showing the walk-forward test's coverage per regime instead "
        "(250 test days)."
    )


def test_without_live_days_or_test_coverage_there_is_nothing_to_draw(closes):
    version = ModelVersionFactory(
        architecture="mlp", is_champion=True, test_metrics=walk_forward_test(rmae=1.0, bands=False)
    )

    record = live_band_record(champion=version, window=20)

    assert record["text"] == "No live forecast of the champion has been scored yet, so its bands have no live record."
    assert record["calibration"]["source"] is None and record["calibration"]["by_regime"] == {}
    assert (record["winkler_80"], record["by_regime"], record["n"]) == (None, {}, 0)


def test_a_naive_champion_compares_its_band_with_itself(closes, naive):
    naive.is_champion = True
    naive.save()
    for i in CALM:
        forecast(naive, i, miss=0.0)

    record = live_band_record(champion=naive, window=20)

    assert record["winkler_n"] == 7 and record["winkler_80"] == record["naive_winkler_80"] == 20.0


def test_the_accuracy_selector_carries_the_band_record(champion, live_days):
    bands = forecast_accuracy(window=20)["bands"]

    assert bands["text"] == "The 80% band held on 16 of the last 20 days (95%: 19 of 20)."
    assert forecast_accuracy(window=60)["bands"]["calibration"]["source"] == "backtest"


def test_without_a_champion_the_record_says_so(db):
    assert forecast_accuracy(window=20)["bands"]["text"] == "There is no champion model yet."
