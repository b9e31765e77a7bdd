"""bench/peers.py's project rows: the service's candidates evaluated here as a training run does, or read from the
latest succeeded training run in the database."""

import os
import tempfile
import time
from types import SimpleNamespace

import numpy as np

from bench.peer_rows import CONFORMAL, SEED, Project, Row, band_edges
from training.ml.dataset import Protocol, Samples, Windows
from training.ml.evaluation import OutOfSample


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
        lower, upper = band_edges(result.backtest)
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
