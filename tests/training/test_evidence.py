"""The evidence in words (training.evidence): one verdict per version, the rule's pick, the dashboard's sentence, and
when promoting by hand needs a reason. Every surface (pages, API, admin, dashboard) shows these same strings."""

import pytest

from tests.factories import (
    ChampionChangeFactory,
    ModelVersionFactory,
    UserFactory,
    rolling_origin_cv,
    run_with_candidates,
)
from training.evidence import (
    champion_evidence,
    fold_bars,
    p_text,
    promotion_reason_needed,
    run_leaderboard,
    version_verdict,
)
from training.models import ModelVersion

pytestmark = pytest.mark.django_db

LEGACY = {"legacy_validation": {"mae": 21.0, "mape": 0.8}}


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.41, "p = 0.41"),
        (0.03, "p = 0.03"),
        (0.031, "p = 0.031"),
        (0.0042, "p = 0.0042"),
        (1.0, "p = 1.00"),
        (0.0004, "p < 0.001"),
    ],
)
def test_p_values_read_with_two_significant_digits(p, text):
    assert p_text(p) == text


def test_the_verdicts_against_naive():
    _, versions = run_with_candidates(p_values={"mlp": 0.03, "lstm": 0.41})

    assert version_verdict(versions["naive"]).text == "the baseline"
    assert version_verdict(versions["mlp"]).text == "beats naive (p = 0.03)"
    assert version_verdict(versions["lstm"]).text == "no evidence it beats naive (p = 0.41)"
    assert version_verdict(versions["mlp"]).code == "beats_naive"
    assert version_verdict(versions["lstm"]).code == "no_evidence"


def test_the_threshold_is_the_one_the_run_used():
    run, versions = run_with_candidates(p_values={"mlp": 0.07})
    run.params["max_p"] = 0.05
    run.save()
    versions["mlp"].refresh_from_db()

    assert version_verdict(versions["mlp"]).text == "no evidence it beats naive (p = 0.07)"
    assert version_verdict(versions["mlp"], max_p=0.10).text == "beats naive (p = 0.07)"


def test_a_version_made_before_the_protocol_has_no_cv_evidence():
    legacy = ModelVersionFactory(architecture="lstm", cv_metrics=LEGACY)

    verdict = version_verdict(legacy)

    assert verdict.code == "no_cv_evidence"
    assert verdict.text == "no CV evidence (trained before the rolling-origin protocol)"


def test_fold_bars_show_each_folds_distance_from_naive():
    version = ModelVersionFactory(cv_metrics=rolling_origin_cv(rmaes=[0.97, 1.0, 1.04, 0.8, 1.004], p_value=0.2))

    bars = fold_bars(version)

    assert [(b.direction, b.steps, b.clipped) for b in bars] == [
        ("ahead", 3, False),
        ("level", 0, False),
        ("behind", 4, False),
        ("ahead", 10, True),  # 20% ahead: drawn at the 10% cap, marked clipped
        ("level", 0, False),
    ]
    assert bars[0].text == "Fold 1 (2023-01-02 to 2023-05-21): rMAE 0.970"


def test_the_leaderboard_lists_every_candidate_in_kind_order_with_the_rules_pick():
    run, versions = run_with_candidates(
        p_values={"ensemble": 0.2, "drift": 0.6, "lstm": 0.04},
        fold_rmaes={"lstm": [0.95, 0.96, 0.97, 0.96, 0.95], "ensemble": [0.98] * 5, "drift": [1.01] * 5},
    )

    board = run_leaderboard(run=run)

    assert [row.label for row in board.rows] == ["Naive", "Drift", "LSTM", "Ensemble"]
    assert board.rule_pick == versions["lstm"]
    assert [row.rule_pick for row in board.rows] == [False, False, True, False]
    assert board.decision.endswith("lstm beats naive with evidence.")


def test_when_the_best_candidate_lacks_evidence_the_rule_picks_naive():
    run, versions = run_with_candidates(p_values={"lstm": 0.31}, fold_rmaes={"lstm": [0.99] * 5})

    board = run_leaderboard(run=run)

    assert board.rule_pick == versions["naive"]
    assert "no evidence it beats naive, so naive is champion" in board.decision


def test_the_champion_says_whether_the_rule_chose_it_or_a_person_did():
    run, versions = run_with_candidates(p_values={"mlp": 0.03, "lstm": 0.41})
    ModelVersion.objects.filter(pk=versions["lstm"].pk).update(is_champion=True)
    ChampionChangeFactory(
        to_version=versions["lstm"],
        automatic=False,
        changed_by=UserFactory(username="ana"),
        reason="better in the last month",
    )

    rows = {row.label: row for row in run_leaderboard(run=run).rows}

    assert rows["LSTM"].champion.text == "promoted by hand by ana: better in the last month"
    assert rows["MLP"].champion is None

    ModelVersion.objects.filter(is_champion=True).update(is_champion=False)
    ModelVersion.objects.filter(pk=versions["mlp"].pk).update(is_champion=True)
    ChampionChangeFactory(to_version=versions["mlp"], automatic=True, reason="Tune run: ...")
    rows = {row.label: row for row in run_leaderboard(run=run).rows}
    assert rows["MLP"].champion.text == "chosen by the rule"


# --- The dashboard's sentence ------------------------------------------------------------------------------


def test_with_naive_champion_the_sentence_names_the_best_candidate_and_its_p():
    _, versions = run_with_candidates(
        p_values={"mlp": 0.5, "lstm": 0.31}, fold_rmaes={"mlp": [1.0] * 5, "lstm": [0.99] * 5}
    )

    evidence = champion_evidence(champion=versions["naive"])

    assert evidence.text == "No model beat 'tomorrow = today' with evidence; best candidate LSTM, p = 0.31"
    assert evidence.is_naive and evidence.best == versions["lstm"]


def test_a_network_champion_shows_its_own_p():
    _, versions = run_with_candidates(p_values={"cnn": 0.02})

    evidence = champion_evidence(champion=versions["cnn"])

    assert evidence.text == "CNN beat 'tomorrow = today' with evidence (cross-validation p = 0.02)"
    assert evidence.p_value == 0.02 and not evidence.is_naive


def test_a_champion_promoted_by_hand_without_evidence_says_so():
    _, versions = run_with_candidates(p_values={"lstm": 0.41})
    ModelVersion.objects.filter(pk=versions["lstm"].pk).update(is_champion=True)
    ChampionChangeFactory(to_version=versions["lstm"], automatic=False, reason="hunch")
    versions["lstm"].refresh_from_db()

    evidence = champion_evidence(champion=versions["lstm"])

    assert evidence.text == "LSTM has no evidence it beats 'tomorrow = today' (p = 0.41); it was promoted by hand"


def test_no_champion_no_sentence():
    assert champion_evidence(champion=None) is None


# --- Promoting by hand ---------------------------------------------------------------------------------------


def test_promoting_without_evidence_needs_a_reason_naive_and_evidence_do_not(settings):
    settings.CHAMPION_MAX_P = 0.10
    _, versions = run_with_candidates(p_values={"mlp": 0.03, "lstm": 0.41, "cnn": 0.10})
    legacy = ModelVersionFactory(architecture="cnn", cv_metrics=LEGACY)

    assert promotion_reason_needed(versions["naive"]) is None
    assert promotion_reason_needed(versions["mlp"]) is None
    assert promotion_reason_needed(versions["lstm"]) == (
        f"A reason is required: {versions['lstm']} has no evidence it beats naive (p = 0.41 ≥ 0.1). "
        "Say why it should be the champion anyway."
    )
    assert "p = 0.10 ≥ 0.1" in promotion_reason_needed(versions["cnn"])  # not below the threshold
    assert "has no CV evidence (trained before the rolling-origin protocol)" in promotion_reason_needed(legacy)


def test_the_reason_rule_follows_the_current_setting(settings):
    _, versions = run_with_candidates(p_values={"mlp": 0.07})

    settings.CHAMPION_MAX_P = 0.05
    assert promotion_reason_needed(versions["mlp"]) is not None
    settings.CHAMPION_MAX_P = 0.10
    assert promotion_reason_needed(versions["mlp"]) is None
