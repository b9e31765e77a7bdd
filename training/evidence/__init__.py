"""What the evidence says, in words: the one wording shared by the models pages, the API, the admin and the dashboard.

A version's verdict compares it with naive ("tomorrow = today") by the one-sided Diebold–Mariano p of its pooled
rolling-origin CV errors (`cv_metrics["p_value"]`, see training.ml.evidence) and the threshold its training run
used (`params["max_p"]`, else `settings.CHAMPION_MAX_P`):

    naive itself                          "the baseline"
    p < max_p                             "beats naive (p = 0.03)"
    p ≥ max_p                             "no evidence it beats naive (p = 0.41)"
    made before the rolling-origin CV     "no CV evidence (trained before the rolling-origin protocol)"

Promoting a version by hand needs a written reason when its p is not below `settings.CHAMPION_MAX_P` or it has no
CV evidence at all; naive never does (it is the fallback the rule itself chooses). The champion rule is
training.ml.selection's, applied here to the stored metrics of a run's versions.

Modules: `verdicts` (the verdict, the promotion reason rule and evidence table), `leaderboard` (a
run's candidates side by side, the rule's pick, how the champion got there, the dashboard's sentence) and `bands`
(coverage per volatility regime and the interval scores beside the same run's naive band, on CV and on the
walk-forward test, the σ model and γ and the CV choice of them; split into `band_windows` and `band_model`, with
`stored` reading what a version stored). Everything is importable from here.
"""

from training.evidence.band_model import ChoiceRow, LiveState, interval_choice, live_state
from training.evidence.band_windows import NO_BAND_SCORES, RegimeCoverage, ScoreVsNaive, WindowBands
from training.evidence.bands import (
    INTERVAL_KEYS,
    BandEvidence,
    band_evidence,
    naive_intervals,
    run_naive,
    run_naive_of,
    run_naives,
)
from training.evidence.leaderboard import (
    ChampionEvidence,
    ChampionNote,
    FoldBar,
    Leaderboard,
    LeaderboardRow,
    best_candidate,
    champion_evidence,
    champion_note,
    fold_bars,
    rule_decision,
    run_leaderboard,
)
from training.evidence.verdicts import (
    KIND_LABELS,
    NAIVE_IN_WORDS,
    NO_CV_EVIDENCE,
    SIGMA_MODEL,
    Verdict,
    VerdictCode,
    has_cv_evidence,
    kind_label,
    p_text,
    promotion_evidence,
    promotion_reason_needed,
    promotion_review,
    run_max_p,
    sigma_model_label,
    version_verdict,
)

__all__ = [
    "INTERVAL_KEYS",
    "NO_BAND_SCORES",
    "BandEvidence",
    "ChoiceRow",
    "LiveState",
    "RegimeCoverage",
    "ScoreVsNaive",
    "WindowBands",
    "band_evidence",
    "interval_choice",
    "live_state",
    "naive_intervals",
    "run_naive",
    "run_naive_of",
    "run_naives",
    "KIND_LABELS",
    "NAIVE_IN_WORDS",
    "NO_CV_EVIDENCE",
    "SIGMA_MODEL",
    "sigma_model_label",
    "ChampionEvidence",
    "ChampionNote",
    "FoldBar",
    "Leaderboard",
    "LeaderboardRow",
    "Verdict",
    "VerdictCode",
    "best_candidate",
    "champion_evidence",
    "champion_note",
    "fold_bars",
    "has_cv_evidence",
    "kind_label",
    "p_text",
    "promotion_evidence",
    "promotion_review",
    "promotion_reason_needed",
    "rule_decision",
    "run_leaderboard",
    "run_max_p",
    "version_verdict",
]
