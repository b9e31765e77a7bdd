"""The bands' evidence on the models pages: the leaderboard shows every candidate's coverage per volatility tercile
(80% and 95%) and its interval scores beside the same run's naive band, on CV and on the walk-forward test, with its
σ model and γ; a version's page adds the naive columns, the CV choice of σ model × γ and the live adaptive state."""

import re

import pytest
from django.urls import reverse

from tests.factories import (
    ModelVersionFactory,
    TrainingRunFactory,
    band_intervals,
    interval_choice_table,
    rolling_origin_cv,
    run_with_candidates,
    walk_forward_test,
)
from tests.training.views.test_leaderboard import cells

pytestmark = pytest.mark.django_db


@pytest.fixture
def run():
    """A run whose LSTM band beats naive's on the test (W80 125.3 vs 125.4) and covers the calm third better."""
    run, versions = run_with_candidates(p_values={"mlp": 0.41, "lstm": 0.03})
    naive, lstm = versions["naive"], versions["lstm"]
    naive.cv_metrics = rolling_origin_cv(
        rmaes=[1.0] * 5, p_value=None, bands={"winkler_80": 131.0, "winkler_95": 180.5, "pinball": 6.5, "crps": 13.0}
    )
    naive.test_metrics = walk_forward_test(
        rmae=1.0,
        bands={
            "winkler_80": 125.4,
            "winkler_95": 171.2,
            "pinball": 6.31,
            "crps": 12.62,
            "regimes": {"calm": (0.70, 0.92), "normal": (0.81, 0.95), "volatile": (0.86, 0.96)},
        },
    )
    naive.save()
    lstm.cv_metrics = rolling_origin_cv(
        rmaes=[0.97] * 5,
        p_value=0.03,
        bands={"winkler_80": 129.5, "winkler_95": 181.25, "pinball": 6.4, "crps": 12.8},
        interval_choice=interval_choice_table(winner=("garch", 0.01)),
    )
    lstm.test_metrics = walk_forward_test(
        rmae=0.98,
        bands={
            "winkler_80": 125.3,
            "winkler_95": 172.0,
            "pinball": 6.29,
            "crps": 12.58,
            "regimes": {"calm": (0.78, 0.94), "normal": (0.80, 0.95), "volatile": (0.83, 0.96)},
        },
    )
    lstm.intervals = band_intervals(volatility="garch", gamma=0.01)
    lstm.save()
    return run, versions


def band_board(content: str) -> str:
    start = content.index('data-testid="band-leaderboard"')
    return content[start : content.index("</table>", start)]


def band_rows(board: str) -> dict[str, list[str]]:
    """Each (candidate, window) row's cells, by "<architecture>-<cv|test>"."""
    return {key: cells(row) for key, row in re.findall(r'<tr data-band-row="([\w-]+)"[^>]*>(.*?)</tr>', board, re.S)}


def test_the_leaderboard_shows_coverage_by_regime_and_scores_beside_naives_band(analyst, run):
    rows = band_rows(band_board(analyst.get(reverse("training:models")).content.decode()))

    assert list(rows) == ["naive-cv", "naive-test", "mlp-cv", "mlp-test", "lstm-cv", "lstm-test"]
    # the first row of a candidate: name, σ model and γ, then the window; 80% calm/normal/volatile, 95% the same,
    # then W80, W95, pinball and CRPS each beside naive's.
    lstm_cv, lstm_test = rows["lstm-cv"], rows["lstm-test"]
    _, versions = run
    assert lstm_cv[:3] == [f"LSTM v{versions['lstm'].version}", "GARCH(1,1), γ = 0.01", "Cross-validation"]
    assert lstm_cv[3:] == [
        "72.0%", "80.0%", "88.0%", "93.0%", "95.0%", "97.0%",
        "W80 129.5 vs naive 131.0", "W95 181.2 vs naive 180.5",
        "pinball 6.40 vs naive 6.50", "CRPS 12.80 vs naive 13.00",
    ]  # fmt: skip
    assert lstm_test == [
        "Walk-forward test",
        "78.0%", "80.0%", "83.0%", "94.0%", "95.0%", "96.0%",
        "W80 125.3 vs naive 125.4", "W95 172.0 vs naive 171.2",
        "pinball 6.29 vs naive 6.31", "CRPS 12.58 vs naive 12.62",
    ]  # fmt: skip
    # naive's own row names its scores without comparing them with themselves
    assert rows["naive-test"][1:4] == ["70.0%", "81.0%", "86.0%"]
    assert rows["naive-test"][7:] == ["W80 125.4", "W95 171.2", "pinball 6.31", "CRPS 12.62"]
    assert rows["naive-cv"][1] == "20-day realised, γ = 0"


def test_the_sigma_cell_names_the_model_in_full_on_hover(analyst, run):
    board = band_board(analyst.get(reverse("training:models")).content.decode())
    lstm = re.search(r'<tr data-band-row="lstm-cv"[^>]*>(.*?)</tr>', board, re.S).group(1)

    assert '<abbr title="GARCH(1,1) volatility; adaptive conformal bands, γ = 0.01">GARCH(1,1), γ = 0.01</abbr>' in lstm


def test_a_better_and_a_worse_score_than_naives_are_marked(analyst, run):
    board = band_board(analyst.get(reverse("training:models")).content.decode())
    lstm_test = re.search(r'<tr data-band-row="lstm-test"[^>]*>(.*?)</tr>', board, re.S).group(1)

    marks = re.findall(r'<td class="num(?: group-start)?( score--\w+)?">(W80|W95)', lstm_test)

    assert marks == [(" score--better", "W80"), (" score--worse", "W95")]


def test_a_candidate_without_interval_scores_says_so(analyst):
    run = TrainingRunFactory()
    ModelVersionFactory(
        architecture="naive",
        hyperparameters={},
        training_run=run,
        cv_metrics=rolling_origin_cv(rmaes=[1.0] * 5, p_value=None, bands=False),
        test_metrics=walk_forward_test(rmae=1.0, bands=False),
    )

    rows = band_rows(band_board(analyst.get(reverse("training:models")).content.decode()))

    assert rows["naive-cv"][-1] == "No interval scores recorded (registered before the bands were scored)"
    assert rows["naive-test"] == ["Walk-forward test", rows["naive-cv"][-1]]


def section(content: str, testid: str) -> str:
    start = content.index(f'data-testid="{testid}"')
    return content[start : content.index("</table>", start)]


def rows_by(table: str, attribute: str) -> dict[str, list[str]]:
    return {key: cells(row) for key, row in re.findall(rf'<tr {attribute}="([^"]+)"[^>]*>(.*?)</tr>', table, re.S)}


def test_the_version_page_sets_coverage_by_regime_beside_naives_on_cv_and_test(analyst, run):
    _, versions = run
    content = analyst.get(reverse("training:model-detail", args=[versions["lstm"].pk])).content.decode()

    regimes = rows_by(section(content, "band-regimes"), "data-regime")

    assert list(regimes) == ["calm", "normal", "volatile", "all days"]
    #                     regime,               CV 80, naive, 95, naive,          test 80, naive, 95, naive
    assert regimes["calm"] == [
        "Calm (167 CV, 84 test days)", "72.0%", "72.0%", "93.0%", "93.0%", "78.0%", "70.0%", "94.0%", "92.0%",
    ]  # fmt: skip
    assert regimes["all days"][0] == "All days (500 CV, 250 test days)"
    assert "GARCH(1,1) volatility; adaptive conformal bands, γ = 0.01" in content


def test_the_version_page_lists_the_interval_scores_beside_naives(analyst, run):
    _, versions = run
    content = analyst.get(reverse("training:model-detail", args=[versions["lstm"].pk])).content.decode()

    scores = rows_by(section(content, "band-scores"), "data-score")

    assert scores["winkler_80"] == ["Winkler interval score, 80% band", "129.5", "131.0", "125.3", "125.4"]
    assert scores["crps"] == ["CRPS (from the band quantiles)", "12.80", "13.00", "12.58", "12.62"]
    summary = content[content.index('data-testid="band-summary"') :]
    assert "Walk-forward test: W80 125.3 vs naive 125.4 · W95 172.0 vs naive 171.2" in summary


def test_the_version_page_shows_which_sigma_model_and_gamma_won_on_cv_and_by_how_much(analyst, run):
    _, versions = run
    content = analyst.get(reverse("training:model-detail", args=[versions["lstm"].pk])).content.decode()

    choice = rows_by(section(content, "band-choice-table"), "data-choice")

    assert list(choice)[0] == "garch-0.01"  # the winner first, then by score
    assert choice["garch-0.01"][:6] == ["GARCH(1,1) volatility Chosen", "0.01", "120.0", "173.0", "293.0", "—"]
    assert choice["realised-0.0"][:6] == ["20-day realised volatility", "0", "126.0", "171.0", "297.0", "+4.0"]
    assert choice["ewma-0.01"][5] == "+6.5"
    assert len(choice) == 6
    sentence = content[content.index('data-testid="band-choice"') :]
    assert sentence.startswith('data-testid="band-choice">Every σ model × γ was replayed over the cross-validation')
    assert "GARCH(1,1) volatility with γ = 0.01 had the lowest CV interval score (W80 + W95 = 293.0)" in sentence
    assert "4.0 lower than the next best (20-day realised volatility, γ = 0)" in sentence


def test_the_version_page_shows_the_live_adaptive_state(analyst, run):
    _, versions = run
    lstm = versions["lstm"]
    lstm.intervals = band_intervals(
        volatility="garch",
        gamma=0.01,
        state={"alpha": {"80": 0.204, "95": 0.0456}, "days": 20, "held": {"80": 17, "95": 19}, "through": "2025-10-22"},
    )
    lstm.save()

    content = analyst.get(reverse("training:model-detail", args=[lstm.pk])).content.decode()

    state = content[content.index('data-testid="band-state"') :]
    assert "After 20 scored live days (through 2025-10-22): the 80% band held on 17 of 20, α 0.204 (nominal 0.20)" in (
        state
    )
    assert "the 95% band held on 19 of 20, α 0.046 (nominal 0.05)" in state


def test_a_version_without_band_scores_or_choice_says_so_and_shows_no_tables(analyst):
    legacy = ModelVersionFactory(architecture="lstm", cv_metrics={"legacy_validation": {"mae": 19.0}})

    content = analyst.get(reverse("training:model-detail", args=[legacy.pk])).content.decode()

    assert "No interval scores recorded (registered before the bands were scored)." in content
    for testid in ("band-regimes", "band-scores", "band-choice-table", "band-state"):
        assert f'data-testid="{testid}"' not in content
    assert "20-day realised volatility" in content  # the σ model of versions before they recorded their own


def test_naives_page_shows_its_own_bands_without_naive_columns(analyst, run):
    _, versions = run
    content = analyst.get(reverse("training:model-detail", args=[versions["naive"].pk])).content.decode()

    scores = rows_by(section(content, "band-scores"), "data-score")

    assert scores["winkler_80"] == ["Winkler interval score, 80% band", "131.0", "125.4"]
    assert "Naive CV" not in section(content, "band-scores")
