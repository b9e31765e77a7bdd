"""Benchmark the rolling-origin protocol on the real history in ../shared/data.

Every candidate (naive, drift, MLP, CNN, LSTM, their ensemble) is tuned with hyperopt on rolling-origin CV over
the selection period, refitted on all data and walked forward over the test window at the refit cadence, into
a throw-away MLflow store. Prints the wall time with its split by stage (CV fits, final refits, walk-forward,
MLflow), and per candidate: pooled CV MAE and rMAE, Diebold–Mariano p against naive, walk-forward test MAE,
MAPE, rMAE, direction, 80%/95% coverage and width, refit epochs, fit time. Then the champion by the rule.

    .venv/bin/python bench/train.py                 # the full tune: 10 trials, 5 folds, refit every 21 days
    .venv/bin/python bench/train.py --profile quick # what `make run` trains (BOOTSTRAP_* settings)

Then the bands on the walk-forward test: σ model and γ (chosen on CV), 80% and 95% coverage per volatility
tercile, Winkler 80/95, pinball, CRPS and the Winkler 80 ratio to naive's band.

Targets: full tune ≤ 300 s and quick profile ≤ 120 s on 2 cores; a champion other than naive has CV p < 0.10;
champion walk-forward test rMAE ≤ 0.98 is the long-run aim; the 80% band covers 75-85% and the 95% band 92-98%
of test days in every volatility tercile; the champion's Winkler 80 no worse than naive's (all printed as
they are).
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.history import read_shared_closes  # noqa: E402
from training.ml.dataset import Protocol  # noqa: E402
from training.ml.pipeline import STAGES, ensemble_candidate, evaluate_candidate  # noqa: E402
from training.ml.selection import DEFAULT_MAX_P, select_champion  # noqa: E402

PROFILES = {
    # trials per network, folds, retrain_every
    "full": {"trials": 10, "folds": 5, "retrain_every": 21},
    "quick": {"trials": 3, "folds": 5, "retrain_every": 63},
}


def _pct(value) -> str:
    return "     —" if value is None else f"{value:6.1%}"


def _num(value, spec: str) -> str:
    width = int("".join(c for c in spec.split(".")[0] if c.isdigit()))
    return "—".rjust(width) if value is None else format(value, spec)


def _print_header(header: str) -> None:
    print(header)
    print("-" * len(header))


def print_table(results, champion) -> None:
    header = (
        f"{'candidate':<9} {'CV MAE':>7} {'CV rMAE':>8} {'p':>6} {'test MAE':>8} {'MAPE':>7} {'rMAE':>6} "
        f"{'dir.':>6} {'cov80':>6} {'cov95':>6} {'w80 $':>6} {'epochs':>6} {'fit s':>6}"
    )
    _print_header(header)
    for r in results:
        cv, test = r.cv_metrics, r.test_metrics
        p = None if r.kind == "naive" else cv["p_value"]
        fit = sum(r.stage_seconds.get(stage, 0.0) for stage in ("cv", "refit", "walk_forward"))
        print(
            f"{r.kind:<9} {cv['mae']:7.2f} {cv['rmae']:8.3f} {_num(p, '6.3f')} {test['mae']:8.2f} "
            f"{test['mape']:6.3f}% {test['rmae']:6.3f} {_pct(test['directional_accuracy'])} "
            f"{_pct(test['coverage_80'])} {_pct(test['coverage_95'])} {test['width_80']:6.1f} "
            f"{_num(r.refit_epochs, '6d')} {fit:6.1f}{'  *' if r is champion else ''}"
        )


def _regime(test: dict, regime: str) -> float | None:
    return (test.get("coverage_by_regime") or {}).get(regime, {}).get("coverage_80")


def print_band_table(results) -> None:
    """The bands on the walk-forward test: coverage per volatility tercile, interval scores, naive beside."""
    naive = next(r.test_metrics for r in results if r.kind == "naive")
    header = (
        f"{'candidate':<9} {'σ model':<9} {'γ':>5} {'80% calm':>8} {'normal':>7} {'volat.':>7} {'95% calm':>8} "
        f"{'normal':>7} {'volat.':>7} {'W80':>7} {'W95':>7} {'pinball':>7} {'CRPS':>6} {'W80÷naive':>9}"
    )
    _print_header(header)
    for r in results:
        test, regimes = r.test_metrics, r.test_metrics.get("coverage_by_regime") or {}
        cov95 = [regimes.get(name, {}).get("coverage_95") for name in ("calm", "normal", "volatile")]
        print(
            f"{r.kind:<9} {r.intervals['volatility']:<9} {r.intervals['gamma']:5.3f} "
            f"{_pct(_regime(test, 'calm'))}   {_pct(_regime(test, 'normal'))}  {_pct(_regime(test, 'volatile'))} "
            f"{_pct(cov95[0])}   {_pct(cov95[1])}  {_pct(cov95[2])} {test['winkler_80']:7.1f} "
            f"{test['winkler_95']:7.1f} {test['pinball']:7.2f} {test['crps']:6.2f} "
            f"{test['winkler_80'] / naive['winkler_80']:9.3f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="full")
    parser.add_argument("--trials", type=int, help="hyperopt trials per network (default: the profile's)")
    parser.add_argument("--architectures", default="mlp,cnn,lstm")
    parser.add_argument("--max-p", type=float, default=DEFAULT_MAX_P)
    args = parser.parse_args()
    closes = read_shared_closes()
    if closes is None:
        print("skipped: ../shared/data is absent")
        return 0

    profile = PROFILES[args.profile]
    trials = profile["trials"] if args.trials is None else args.trials
    protocol = Protocol(folds=profile["folds"], retrain_every=profile["retrain_every"])
    networks = [a for a in args.architectures.split(",") if a]
    store = tempfile.mkdtemp(prefix="goldsite-bench-")
    tracking = {"tracking_uri": f"sqlite:///{store}/mlflow.db", "experiment": "bench", "artifact_root": store}
    print(f"{len(closes)} common trading days, {closes.index[0].date()} … {closes.index[-1].date()}")
    print(
        f"profile {args.profile}: {trials} trials per network, {protocol.folds} folds over {protocol.selection_days} "
        f"selection days, walk-forward over {protocol.test_days} test days refitted every {protocol.retrain_every}"
    )

    results, started = [], time.perf_counter()
    for kind in ["naive", "drift", *networks]:
        t0 = time.perf_counter()
        result = evaluate_candidate(closes, kind=kind, trials=trials, protocol=protocol, **tracking)
        results.append(result)
        print(
            f"  {kind:<8} {time.perf_counter() - t0:6.1f} s  "
            + "  ".join(f"{stage} {result.stage_seconds[stage]:.1f}" for stage in STAGES)
        )
    if len(networks) >= 2:
        t0 = time.perf_counter()
        members = [r for r in results if r.kind in networks]
        results.append(ensemble_candidate(closes, members=members, **tracking))
        print(f"  ensemble {time.perf_counter() - t0:6.1f} s")
    wall = time.perf_counter() - started
    stages = {stage: sum(r.stage_seconds.get(stage, 0.0) for r in results) for stage in STAGES}
    decision = select_champion(results, max_p=args.max_p)
    fits = sum(len(r.cv_metrics["folds"]) * max(r.trials, 1) + 1 + r.test_metrics["refits"] for r in results[:-1])

    print()
    print_table(results, decision.champion)
    print()
    print_band_table(results)
    print()
    print(f"wall time: {wall:.1f} s ({fits} fits; " + ", ".join(f"{k} {v:.1f} s" for k, v in stages.items()) + ")")
    print(f"champion: {decision.champion.kind} — {decision.reason}")
    print(f"champion walk-forward test rMAE: {decision.champion.test_metrics['rmae']:.4f} (long-run aim <= 0.98)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
