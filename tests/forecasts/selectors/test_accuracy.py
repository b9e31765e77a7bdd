"""Accuracy: the champion against the naive forecast on the same scored days, and the live record's evidence."""

import datetime as dt

import pytest

from forecasts.exceptions import ForecastError
from forecasts.selectors.accuracy import forecast_accuracy
from tests.factories import ForecastFactory, ModelVersionFactory, TrainingRunFactory, scored_forecast
from tests.forecasts.forecasters import trading_days
from training.ml.evidence import diebold_mariano
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


def live_days(champion, naive, days, *, misses=(2.0, 9.0, 4.0, 12.0, 6.0)):
    """Scored live forecasts of `days`: the champion misses by the cycle of `misses`, naive always by 20."""
    for i, day in enumerate(days):
        scored(champion, day, miss=misses[i % len(misses)])
        naive_scored(naive, day)


class TestLiveEvidence:
    """From 20 scored live days on: the champion's rMAE over them and a Diebold–Mariano p against naive."""

    def test_19_live_forecasts_say_how_many_there_are_and_report_no_evidence(self, champion, naive):
        live_days(champion, naive, DAYS[:19])

        evidence = forecast_accuracy(window=20)["evidence"]

        assert evidence["n"] == 19
        assert evidence["note"] == "19 live forecasts scored; evidence needs 20."
        assert (evidence["rmae"], evidence["p_value"], evidence["beats_naive"]) == (None, None, None)

    def test_20_live_forecasts_report_the_rmae_and_the_diebold_mariano_p_of_those_days(self, champion, naive):
        live_days(champion, naive, DAYS[:20])

        evidence = forecast_accuracy(window=20)["evidence"]

        champion_errors = [(2.0, 9.0, 4.0, 12.0, 6.0)[i % 5] for i in range(20)]
        test = diebold_mariano(champion_errors, [20.0] * 20)
        assert (evidence["n"], evidence["required"], evidence["start"], evidence["end"]) == (20, 20, DAYS[0], DAYS[19])
        assert evidence["rmae"] == pytest.approx(6.6 / 20.0)
        assert evidence["p_value"] == pytest.approx(test.p_value)
        assert evidence["dm_statistic"] == pytest.approx(test.statistic)
        assert evidence["dm_lag"] == test.lag
        assert evidence["p_value"] < 0.001 and evidence["beats_naive"] is True
        assert "beats naive (Diebold–Mariano p < 0.01)" in evidence["note"]

    def test_a_champion_no_better_than_naive_has_no_evidence(self, champion, naive):
        live_days(champion, naive, DAYS[:20], misses=(19.0, 21.0, 18.0, 23.0))

        evidence = forecast_accuracy(window=20)["evidence"]

        assert evidence["beats_naive"] is False
        assert evidence["p_value"] >= 0.10
        assert f"no evidence it beats naive (Diebold–Mariano p = {evidence['p_value']:.2f})" in evidence["note"]

    def test_late_forecasts_never_count_as_live(self, champion, naive):
        live_days(champion, naive, DAYS[:19])
        for day in DAYS[19:25]:
            scored(champion, day, miss=1.0, kind="late")
            naive_scored(naive, day, kind="late")

        accuracy = forecast_accuracy(window=20)

        assert (accuracy["live_n"], accuracy["evidence"]["n"]) == (19, 19)
        assert accuracy["end"] == DAYS[18]  # the table's live days stop before the late ones
        assert accuracy["evidence"]["rmae"] is None

    def test_the_evidence_is_the_live_record_even_when_the_table_falls_back_to_the_backtest(self, champion, naive):
        live_days(champion, naive, DAYS[:30])
        for day in DAYS[100:170]:
            scored(champion, day, miss=-30.0, kind="backtest")
            naive_scored(naive, day, kind="backtest")

        accuracy = forecast_accuracy(window=60)

        assert (accuracy["source"], accuracy["n"]) == ("backtest", 60)
        assert (accuracy["evidence"]["n"], accuracy["evidence"]["end"]) == (30, DAYS[29])
        assert accuracy["evidence"]["rmae"] == pytest.approx(6.6 / 20.0)

    def test_a_naive_champion_has_nothing_to_test(self, naive):
        ModelVersion.objects.filter(pk=naive.pk).update(is_champion=True)
        for day in DAYS[:20]:
            naive_scored(naive, day)

        evidence = forecast_accuracy(window=20)["evidence"]

        assert (evidence["rmae"], evidence["p_value"]) == (1.0, None)
        assert "naive forecast itself" in evidence["note"]

    def test_without_a_champion_there_is_no_evidence(self):
        evidence = forecast_accuracy(window=20)["evidence"]

        assert (evidence["n"], evidence["rmae"]) == (0, None)
        assert "no champion" in evidence["note"]
