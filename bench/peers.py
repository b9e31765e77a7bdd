"""Peers side by side: the service's candidates against what an analyst would run instead, on the same windows.

One table over the walk-forward test window of the project's protocol (`training.ml.dataset.Protocol`, `Windows`):
the same test days, the same refit blocks (`retrain_every`), every forecast one step ahead from a fit that never
saw its target, all through the project's `training.ml.evaluation.rolling_origin` loop.

Rows:
- the project's candidates (naive, drift, MLP, CNN, LSTM, their ensemble), from a run this script makes itself
  (`training.ml.pipeline.evaluate_candidate`, as `bench/train.py`, into a throw-away MLflow store), or with
  `--from-db` from the latest succeeded training run in the configured database (its ModelVersion rows and their
  stored backtest forecasts, on the closes stored up to the run's last day);
- ridge regression on the same features (`Samples.values`, standardised on each fit span), its alpha chosen on
  the rolling-origin CV folds of the selection period (lowest pooled CV MAE, as the project tunes), never on the
  test window;
- statsforecast `AutoETS` and `AutoARIMA` on log gold: refitted (model selection and estimation) at the start of
  every walk-forward block on every log close up to the block's first as-of day; each day of the block is
  forecast one step ahead by the block's model run `forward` over the closes up to that day (state updated with
  the block's new observations, parameters fixed until the next refit). See `bench/peer_models.py`.

Columns: walk-forward test MAE ($), rMAE (MAE / naive's), one-sided Diebold–Mariano p against naive
(`training.ml.evidence.diebold_mariano`), 80% coverage, Winkler 80% (interval score, $: width plus 2/0.2 times
the miss), fit seconds (the walk-forward refits) and total seconds (everything the row needed: tuning CV, the
walk-forward with its forecasts; the project's rows also their served refit, not the MLflow logging; from the
database, the stored CV plus walk-forward fit seconds). `*` marks the champion by the project's rule (pooled CV MAE,
DM p < --max-p, else naive), and the script names any peer ahead of it on test MAE. Bands:
AutoETS and AutoARIMA use their own 80% prediction intervals (`level=[80]`, "own"); every other row conformal bands
from its pooled CV residuals normalised by σ_t, exactly as the project calibrates them ("conformal").

    .venv/bin/python bench/peers.py                       # the full tune (10 trials, 5 folds, refit every 21 days)
    .venv/bin/python bench/peers.py --profile quick       # the `make run` profile (3 trials, 4 folds, every 63)
    .venv/bin/python bench/peers.py --architectures ""    # peers, naive and drift only (no networks)
    .venv/bin/python bench/peers.py --from-db             # the latest run in DATABASE_URL's database instead

Needs statsforecast, the `bench` optional extra: pip install -e ".[bench]". Skips (exit 0) when ../shared/data is
absent (without --from-db) or statsforecast is not installed.
"""

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.peer_models import STATSFORECAST_EXTRA, statsforecast_available  # noqa: E402
from bench.peer_project import project_from_db, project_from_run  # noqa: E402
from bench.peer_rows import Project, Row, peer_rows, scores  # noqa: E402
from training.ml.dataset import Protocol, Samples, Windows  # noqa: E402

# Modules: bench/peer_rows.py (a row, its scores, the peers' rows), bench/peer_project.py (the project's rows, from
# a run made here or from the database) and bench/peer_models.py (the peers themselves).


# -- the table -------------------------------------------------------------------------------------------------
def _fmt(value, spec: str, width: int) -> str:
    return "—".rjust(width) if value is None else format(value, spec).rjust(width)


def table_lines(samples: Samples, rows: list[Row]) -> list[str]:
    header = (
        f"{'model':<11} {'source':<8} {'bands':<10} {'MAE $':>7} {'rMAE':>7} {'DM p':>6} {'cov80':>6} "
        f"{'Winkler80 $':>11} {'fit s':>7} {'total s':>7}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        s = scores(samples, row)
        name = f"{row.name} *" if row.champion else row.name
        lines.append(
            f"{name:<11} {row.source:<8} {row.interval:<10} {s['mae']:7.2f} {_fmt(s['rmae'], '.4f', 7)} "
            f"{_fmt(s['p_value'], '.3f', 6)} {s['coverage_80']:6.1%} {s['winkler_80']:11.2f} "
            f"{row.fit_seconds:7.2f} {row.total_seconds:7.1f}"
        )
    return lines


def check_same_days(windows: Windows, rows: list[Row]) -> None:
    """Every row forecasts exactly the protocol's test days, in order: the comparison is like for like."""
    for row in rows:
        if not np.array_equal(row.rows, windows.test_rows):
            raise ValueError(f"{row.name} does not forecast the protocol's test window")


def verdict_lines(samples: Samples, rows: list[Row], decision: str) -> list[str]:
    """The champion by the project's rule, and the peers ahead of it on walk-forward test MAE (the aim: none)."""
    champion = next((row for row in rows if row.champion), None)
    if champion is None:
        return []
    mae = scores(samples, champion)["mae"]
    ahead = [(row.name, scores(samples, row)["mae"]) for row in rows if row.source == "peer"]
    ahead = [f"{name} ({value:.2f})" for name, value in ahead if value < mae]
    return [
        f"champion by the project's rule (*): {champion.name} — {decision}",
        f"peers ahead of the champion ({mae:.2f}) on walk-forward test MAE: {', '.join(ahead) or 'none'}",
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if not statsforecast_available():
        print(f"skipped: statsforecast is not installed; install the bench extra: {STATSFORECAST_EXTRA}")
        return 0

    started = time.perf_counter()
    if args.from_db:
        try:
            project = project_from_db()
        except LookupError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    else:
        project = project_of_args(args)
        if project is None:
            print("skipped: ../shared/data is absent")
            return 0
    print_comparison(project)
    print(f"wall time: {time.perf_counter() - started:.1f} s")
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from bench.train import PROFILES
    from training.ml.selection import DEFAULT_MAX_P

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="full")
    parser.add_argument("--trials", type=int, help="hyperopt trials per network (default: the profile's)")
    parser.add_argument("--architectures", default="mlp,cnn,lstm", help='networks to train ("" for none)')
    parser.add_argument("--max-p", type=float, default=DEFAULT_MAX_P, help="the champion rule's DM p threshold")
    parser.add_argument("--from-db", action="store_true", help="the project's rows from the latest run in the database")
    return parser.parse_args(argv)


def project_of_args(args: argparse.Namespace) -> Project | None:
    """The project's candidates evaluated here on ../shared/data with the profile's protocol; None without it."""
    from bench.history import read_shared_closes
    from bench.train import PROFILES

    closes = read_shared_closes()
    if closes is None:
        return None
    profile = PROFILES[args.profile]
    protocol = Protocol(folds=profile["folds"], retrain_every=profile["retrain_every"])
    trials = profile["trials"] if args.trials is None else args.trials
    networks = [a for a in args.architectures.split(",") if a]
    print("evaluating the project's candidates as a training run does:", flush=True)
    return project_from_run(closes, protocol, trials=trials, networks=networks, max_p=args.max_p)


def print_comparison(project: Project) -> None:
    """The windows, then the peers run beside the project's rows, the table, the verdict and the notes."""
    closes, protocol = project.closes, project.protocol
    samples = Samples.from_closes(closes, project.feature_config)
    windows = Windows.for_samples(samples, protocol)
    test = samples.target_dates(windows.test_rows)
    print(f"project candidates: {project.source}")
    print(f"{len(closes)} common trading days, {closes.index[0].date()} … {closes.index[-1].date()}")
    print(
        f"protocol: {protocol.selection_days} selection days in {protocol.folds} folds, walk-forward over the "
        f"{protocol.test_days} test days {test[0].date()} … {test[-1].date()} refitted every "
        f"{protocol.retrain_every} ({len(windows.walk_forward)} refits)"
    )
    print("peers: ridge, AutoETS, AutoARIMA", flush=True)
    rows = project.rows + peer_rows(samples, windows)
    check_same_days(windows, rows)

    print()
    for line in table_lines(samples, rows):
        print(line)
    print()
    for line in verdict_lines(samples, rows, project.decision):
        print(line)
    print("bands: own = the model's own 80% prediction interval; conformal = pooled CV residuals / σ_t (the project's)")
    for row in rows:
        for note in row.notes:
            print(f"  {row.name}: {note}")


if __name__ == "__main__":
    sys.exit(main())
