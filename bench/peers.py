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
import os
import sys
import tempfile
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.peer_models import (  # noqa: E402
    STATSFORECAST_EXTRA,
    STATSFORECAST_PEERS,
    RidgePeer,
    StatsForecastPeer,
    statsforecast_available,
)
from training.ml.dataset import Protocol, Samples, Windows  # noqa: E402
from training.ml.evaluation import OutOfSample, rolling_origin  # noqa: E402
from training.ml.evidence import diebold_mariano  # noqa: E402

SEED = 42
WINKLER_ALPHA = 0.20  # the 80% band
OWN, CONFORMAL = "own", "conformal"


@dataclass
class Row:
    """One line of the table: a method's walk-forward test forecasts and 80% bands (prices), and its cost."""

    name: str
    source: str  # "project" or "peer"
    interval: str  # OWN or CONFORMAL
    rows: np.ndarray  # sample numbers (the test window)
    predicted: np.ndarray  # predicted log returns
    lower_80: np.ndarray
    upper_80: np.ndarray
    fit_seconds: float
    total_seconds: float
    notes: list[str] = field(default_factory=list)
    champion: bool = False  # the project's champion rule chose it

    @classmethod
    def of_walk(cls, name: str, walk: OutOfSample, lower_80, upper_80, **row) -> "Row":
        """The row of a walk-forward made here: its test rows, predictions and fit seconds are `walk`'s."""
        return cls(
            name=name,
            rows=walk.rows,
            predicted=walk.predicted,
            lower_80=lower_80,
            upper_80=upper_80,
            fit_seconds=row.pop("fit_seconds", walk.fit_seconds),
            **row,
        )


@dataclass
class Project:
    """The project's side of the table: the closes and protocol its candidates were evaluated on, and them."""

    closes: object  # the joined closes frame
    protocol: Protocol
    feature_config: object
    rows: list[Row]
    decision: str  # the champion rule's reason
    source: str


def winkler_scores(actual, lower, upper, *, alpha: float = WINKLER_ALPHA) -> np.ndarray:
    """The interval (Winkler) score of each day: width, plus 2/α times the distance by which the band missed."""
    actual, lower, upper = (np.asarray(x, dtype=float) for x in (actual, lower, upper))
    below = np.maximum(lower - actual, 0.0)
    above = np.maximum(actual - upper, 0.0)
    return (upper - lower) + (2.0 / alpha) * (below + above)


def scores(samples: Samples, row: Row) -> dict[str, float | int | None]:
    """Test MAE, rMAE, DM p against naive (None for naive itself), 80% coverage and mean Winkler 80% of a row."""
    errors = samples.price_errors(row.rows, row.predicted)
    naive = samples.price_errors(row.rows, np.zeros(len(row.rows)))
    actual = samples.actual_close[row.rows]
    mae, naive_mae = float(errors.mean()), float(naive.mean())
    return {
        "n": len(row.rows),
        "mae": mae,
        "rmae": mae / naive_mae if naive_mae > 0 else None,
        "p_value": None if row.name == "naive" else diebold_mariano(errors, naive).p_value,
        "coverage_80": float(np.mean((actual >= row.lower_80) & (actual <= row.upper_80))),
        "winkler_80": float(winkler_scores(actual, row.lower_80, row.upper_80).mean()),
    }


def _bands(backtest: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """The 80% band edges of backtest rows (training.ml.evaluation.backtest_rows), as arrays."""
    return np.array([b["lower_80"] for b in backtest]), np.array([b["upper_80"] for b in backtest])


# -- the peers -------------------------------------------------------------------------------------------------
def statsforecast_walk(
    peer: type[StatsForecastPeer], samples: Samples, windows: Windows
) -> tuple[OutOfSample, np.ndarray, np.ndarray, list[str]]:
    """A statsforecast peer's walk-forward forecasts, its own 80% bands, and the model each refit selected."""
    fitted: list[StatsForecastPeer] = []

    def make() -> StatsForecastPeer:
        fitted.append(peer())
        return fitted[-1]

    walk = rolling_origin(make, samples, windows.walk_forward, seed=SEED)
    lower = np.concatenate([model.lower_80 for model in fitted])
    upper = np.concatenate([model.upper_80 for model in fitted])
    return walk, lower, upper, [model.description for model in fitted]


def statsforecast_row(peer: type[StatsForecastPeer], samples: Samples, windows: Windows) -> Row:
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsforecast/statsmodels optimiser chatter
        walk, lower, upper, chosen = statsforecast_walk(peer, samples, windows)
    total = time.perf_counter() - started
    forms = ", ".join(f"{form} ×{count}" for form, count in Counter(chosen).most_common())
    notes = [f"selected at the {len(chosen)} refits: {forms}"]
    return Row.of_walk(
        peer.model_name, walk, lower, upper, source="peer", interval=OWN, total_seconds=total, notes=notes
    )


def ridge_tune(samples: Samples, windows: Windows):
    """Every alpha of the grid scored by rolling-origin CV over the selection folds; the lowest pooled CV MAE
    wins (ties: the first), as the project chooses a grid method's configuration."""
    from types import SimpleNamespace

    trials = []
    for config in RidgePeer.grid():
        cv = rolling_origin(lambda config=config: RidgePeer(config), samples, windows.folds, seed=SEED)
        trials.append(SimpleNamespace(hyperparameters=RidgePeer(config).hyperparameters, cv=cv, mae=cv.mae(samples)))
    return min(trials, key=lambda t: t.mae), trials


def conformal_walk(make, samples: Samples, windows: Windows, cv: OutOfSample):
    """Walk-forward forecasts and the 80% bands the project would give them: σ model and adaptive γ chosen on
    `cv`'s residuals, replayed over the test days (training.ml.calibration.fit_bands)."""
    from training.ml.calibration import fit_bands
    from training.ml.evaluation import backtest_rows

    walk = rolling_origin(make, samples, windows.walk_forward, seed=SEED)
    bands = fit_bands(samples, cv=cv, cv_folds=windows.folds, walk=walk, walk_folds=windows.walk_forward)
    lower, upper = _bands(backtest_rows(samples, walk, bands.walk_forward))
    return walk, lower, upper


def ridge_row(samples: Samples, windows: Windows) -> Row:
    started = time.perf_counter()
    best, trials = ridge_tune(samples, windows)
    cv_rmae = [t.mae / np.mean(samples.price_errors(t.cv.rows, np.zeros(len(t.cv.rows)))) for t in trials]
    walk, lower, upper = conformal_walk(lambda: RidgePeer(best.hyperparameters), samples, windows, best.cv)
    total = time.perf_counter() - started
    grid = ", ".join(f"{t.hyperparameters['alpha']:g}: {r:.4f}" for t, r in zip(trials, cv_rmae, strict=True))
    notes = [f"alpha {best.hyperparameters['alpha']:g} chosen on CV (pooled CV rMAE by alpha: {grid})"]
    return Row.of_walk("ridge", walk, lower, upper, source="peer", interval=CONFORMAL, total_seconds=total, notes=notes)


def peer_rows(samples: Samples, windows: Windows) -> list[Row]:
    rows = [ridge_row(samples, windows)]
    for peer in STATSFORECAST_PEERS:
        rows.append(statsforecast_row(peer, samples, windows))
    return rows


# -- the project's candidates ----------------------------------------------------------------------------------
def project_from_run(closes, protocol: Protocol, *, trials: int, networks: list[str], max_p: float) -> Project:
    """Evaluate the project's candidates exactly as a training run does, into a throw-away MLflow store."""
    from training.ml.features import FeatureConfig
    from training.ml.pipeline import ensemble_candidate, evaluate_candidate
    from training.ml.selection import select_champion

    store = tempfile.mkdtemp(prefix="goldsite-bench-peers-")
    tracking = {"tracking_uri": f"sqlite:///{store}/mlflow.db", "experiment": "bench-peers", "artifact_root": store}
    results = []
    for kind in ["naive", "drift", *networks]:
        t0 = time.perf_counter()
        results.append(evaluate_candidate(closes, kind=kind, trials=trials, protocol=protocol, seed=SEED, **tracking))
        print(f"  {kind:<8} {time.perf_counter() - t0:6.1f} s", flush=True)
    if len(networks) >= 2:
        members = [r for r in results if r.kind in networks]
        results.append(ensemble_candidate(closes, members=members, **tracking))
    decision = select_champion(results, max_p=max_p)
    rows = []
    for result in results:
        walk = OutOfSample.from_dict(result.walk_forward)
        members = [r for r in results if r.kind in networks] if result.kind == "ensemble" else [result]
        fit = sum(m.test_metrics["fit_seconds"] for m in members)
        total = sum(m.stage_seconds.get(s, 0.0) for m in members for s in ("cv", "refit", "walk_forward"))
        lower, upper = _bands(result.backtest)
        notes = [f"hyperparameters {result.hyperparameters}"] if result.hyperparameters else []
        if result.kind == "ensemble":
            notes.append("fit/total seconds are its members' (it makes no fits of its own)")
        rows.append(
            Row.of_walk(
                result.kind,
                walk,
                lower,
                upper,
                source="project",
                interval=CONFORMAL,
                fit_seconds=fit,
                total_seconds=total,
                notes=notes,
                champion=result is decision.champion,
            )
        )
    source = f"a run made here ({trials} trials per network: {', '.join(networks) or 'none'})"
    return Project(closes, protocol, FeatureConfig(), rows, decision.reason, source)


def project_from_db() -> Project:
    """The candidates of the latest succeeded training run in the configured database, on its stored closes."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goldsite.settings.base")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
    from django.conf import settings

    from forecasts.selectors.prices import price_closes_frame
    from training.ml.features import FeatureConfig
    from training.ml.selection import select_champion

    run, versions = _db_run()
    first = versions[0]
    closes = price_closes_frame(end=first.data_end)
    protocol, feature_config = Protocol(**first.protocol), FeatureConfig.from_dict(first.feature_config)
    samples = Samples.from_closes(closes, feature_config)
    windows = Windows.for_samples(samples, protocol)
    row_of_target = {
        d.date(): i for d, i in zip(samples.target_dates(windows.test_rows), windows.test_rows, strict=True)
    }
    if not any(v.architecture == "naive" for v in versions):
        raise LookupError(f"training run #{run.pk} has no naive candidate to compare with")
    max_p = run.params.get("max_p", settings.CHAMPION_MAX_P)
    decision = select_champion(
        [SimpleNamespace(kind=v.architecture, cv_metrics=v.cv_metrics, version=v) for v in versions], max_p=max_p
    )
    rows = [
        _stored_row(version, run=run, row_of_target=row_of_target, champion=version == decision.champion.version)
        for version in versions
    ]
    finished = f", finished {run.finished_at:%Y-%m-%d %H:%M}" if run.finished_at else ""
    source = f"training run #{run.pk} in the database ({run.get_kind_display()}{finished})"
    return Project(closes, protocol, feature_config, rows, decision.reason, source)


def _db_run():
    """(The latest succeeded training run with versions, its versions trained under the rolling-origin protocol)."""
    from training.models import TrainingRun
    from training.selectors import model_version_run_candidates, training_run_list

    run = (
        training_run_list().filter(status=TrainingRun.Status.SUCCEEDED, model_versions__isnull=False).distinct().first()
    )
    if run is None:
        raise LookupError("no succeeded training run with model versions in the database")
    versions = [v for v in model_version_run_candidates(run=run) if v.protocol]
    if not versions:
        raise LookupError(f"training run #{run.pk} has no version trained under the rolling-origin protocol")
    return run, versions


def _stored_row(version, *, run, row_of_target: dict, champion: bool) -> Row:
    """A version's row from its stored backtest forecasts, which must be exactly the rebuilt test days."""
    stored = list(version.forecasts.backtest().order_by("target_date"))
    missing = set(row_of_target) - {f.target_date for f in stored}
    if missing or len(stored) != len(row_of_target):
        raise LookupError(
            f"{version}: its {len(stored)} stored backtest forecasts are not the {len(row_of_target)} test days "
            f"rebuilt from the stored closes (first missing: {min(missing) if missing else '-'})"
        )
    test = version.test_metrics
    return Row(
        name=version.architecture,
        source="project",
        interval=CONFORMAL,
        rows=np.array([row_of_target[f.target_date] for f in stored]),
        predicted=np.array([f.predicted_return for f in stored]),
        lower_80=np.array([f.lower_80 for f in stored]),
        upper_80=np.array([f.upper_80 for f in stored]),
        fit_seconds=float(test.get("fit_seconds") or 0.0),
        total_seconds=float(test.get("fit_seconds") or 0.0) + float(version.cv_metrics.get("fit_seconds") or 0.0),
        notes=[f"{version} of training run #{run.pk}"],
        champion=champion,
    )


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
