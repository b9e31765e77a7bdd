"""training.evidence.bands reads whatever a version stored: the bands' keys when present, nothing (never an error)
when absent or malformed, and always the same run's naive version as the baseline."""

import pytest

from tests.factories import (
    ModelVersionFactory,
    TrainingRunFactory,
    band_intervals,
    rolling_origin_cv,
    walk_forward_test,
)
from training.evidence import band_evidence, naive_intervals, run_naive_of, run_naives

pytestmark = pytest.mark.django_db


def test_a_score_reads_against_naives_on_the_same_window():
    naive = ModelVersionFactory.build(architecture="naive", test_metrics=walk_forward_test(rmae=1.0))
    lstm = ModelVersionFactory.build(
        architecture="lstm", test_metrics=walk_forward_test(rmae=0.99, bands={"winkler_80": 125.26, "crps": 12.5})
    )

    test = band_evidence(lstm, naive=naive).test

    assert test.score("winkler_80").text == "W80 125.3 vs naive 125.0"
    assert test.score("winkler_80").better is False
    assert test.score("crps").text == "CRPS 12.50 vs naive 12.00" and test.score("crps").better is False
    assert test.summary.startswith("W80 125.3 vs naive 125.0 · W95 170.0 vs naive 170.0 · pinball 6.00")


def test_without_a_naive_version_the_scores_stand_alone():
    lstm = ModelVersionFactory.build(architecture="lstm", test_metrics=walk_forward_test(rmae=0.99))

    evidence = band_evidence(lstm, naive=None)

    assert evidence.test.score("winkler_80").text == "W80 125.0"
    assert evidence.test.score("winkler_80").better is None
    assert evidence.test.regimes[0].naive_coverage_80 is None


@pytest.mark.parametrize(
    "metrics",
    [
        {},
        {"legacy_validation": {"mae": 19.0}},
        {"coverage_by_regime": {"calm": 0.82}, "winkler_80": "n/a"},
        {"coverage_by_regime": [0.8, 0.9], "pinball": float("nan"), "interval_choice": {"volatility": "ewma"}},
        {"interval_choice": [{"volatility": "ewma", "gamma": 0.01}, "junk", {"volatility": "garch", "score": None}]},
    ],
)
def test_absent_or_malformed_keys_read_as_nothing_recorded(metrics):
    version = ModelVersionFactory.build(
        architecture="mlp", cv_metrics=metrics, test_metrics=metrics, intervals={"state": "x"}
    )

    evidence = band_evidence(version, naive=None)

    assert [r.coverage_80 for r in evidence.cv.regimes] == [None, None, None]
    assert not evidence.cv.has_regimes
    assert evidence.choice == [] and evidence.choice_text == "" and evidence.state is None
    assert all(score.value is None for score in evidence.test.scores)


def test_the_choice_table_is_best_first_and_ties_go_to_the_earlier_row():
    rows = [
        {"volatility": "realised", "gamma": 0.0, "score": 300.0},
        {"volatility": "ewma", "gamma": 0.0, "score": 296.0},
        {"volatility": "garch", "gamma": 0.01, "score": 296.0},
    ]
    version = ModelVersionFactory.build(
        architecture="mlp", cv_metrics=rolling_origin_cv(rmaes=[1.0], p_value=0.5, interval_choice=rows)
    )

    choice = band_evidence(version, naive=None).choice

    assert [(row.volatility, row.chosen, row.behind) for row in choice] == [
        ("ewma", True, 0.0),
        ("garch", False, 0.0),
        ("realised", False, 4.0),
    ]
    assert choice[0].label == "EWMA volatility (RiskMetrics, λ = 0.94)"


def test_the_baseline_is_always_the_same_runs_naive_version():
    run = TrainingRunFactory()
    naive = ModelVersionFactory(architecture="naive", hyperparameters={}, training_run=run)
    mlp = ModelVersionFactory(architecture="mlp", training_run=run, intervals=band_intervals())
    ModelVersionFactory(architecture="naive", hyperparameters={})  # a newer naive of another run
    alone = ModelVersionFactory(architecture="mlp")

    assert run_naive_of(mlp) == naive
    assert run_naive_of(naive) == naive
    assert run_naive_of(alone) is None
    assert run_naives([mlp, alone]) == {run.pk: naive}
    assert naive_intervals(None) is None
    assert set(naive_intervals(naive)) == {"id", "label", "cv", "test"}
