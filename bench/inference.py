"""Time one next-day forecast of a trained model: `forecaster.forecast(closes)`, as the worker calls it.

Loads the champion from the MLflow registry the settings point at (DATABASE_URL, MLFLOW_TRACKING_URI: the same
lookup the prediction service does) with the closes stored in the database. When there is no champion (or no
database), fits an MLP with default hyperparameters on ../shared/data into a throw-away MLflow store and loads that back
from the registry. Prints the load time and the median / p90 / p99 of many forecast calls. Target: median ≤ 2 ms.

    .venv/bin/python bench/inference.py [--calls 500] [--train]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.history import DATA, FILES  # noqa: E402


def champion_and_closes():
    """(model URI, tracking URI, closes) of the configured deployment's champion, or None when there is none."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goldsite.settings.base")
    import django

    django.setup()
    from django.conf import settings
    from django.db import DatabaseError

    from forecasts.selectors.prices import price_closes_frame
    from training.selectors import model_version_champion

    try:
        champion = model_version_champion()
        closes = price_closes_frame() if champion is not None else None
    except DatabaseError as exc:
        print(f"no usable database ({type(exc).__name__}: {exc}); training a tiny model instead")
        return None
    if champion is None or closes.empty:
        print("no champion (or no closes) in the database; training a tiny model instead")
        return None
    return champion.model_uri, settings.MLFLOW_TRACKING_URI, closes, str(champion)


def tiny_model_and_closes():
    """Fit an MLP with default hyperparameters on ../shared/data into a temporary MLflow store; return what
    champion_and_closes does."""
    from bench.history import read_shared_closes
    from training.ml.dataset import Protocol
    from training.ml.pipeline import evaluate_candidate

    closes = read_shared_closes()
    store = tempfile.mkdtemp(prefix="goldsite-bench-inference-")
    tracking_uri = f"sqlite:///{store}/mlflow.db"
    started = time.perf_counter()
    result = evaluate_candidate(
        closes,
        kind="mlp",
        protocol=Protocol(folds=4, retrain_every=250),
        tracking_uri=tracking_uri,
        experiment="bench",
        artifact_root=store,
    )
    mae = result.cv_metrics["mae"]
    print(f"fitted an MLP in {time.perf_counter() - started:.1f} s (CV MAE {mae:.2f})")
    uri = f"models:/{result.registered_name}/{result.version}"
    return uri, tracking_uri, closes, f"tiny mlp {uri}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="timed forecast calls")
    parser.add_argument("--train", action="store_true", help="always train the tiny model, ignore any champion")
    args = parser.parse_args()

    found = None if args.train else champion_and_closes()
    if found is None:
        if not (DATA / FILES["gold"]).is_file():
            print(f"skipped: no champion and {DATA} is absent")
            return 0
        found = tiny_model_and_closes()
    model_uri, tracking_uri, closes, label = found

    from training.ml.registry import load_forecaster

    started = time.perf_counter()
    forecaster = load_forecaster(model_uri, tracking_uri=tracking_uri)
    load_seconds = time.perf_counter() - started

    for _ in range(20):  # warm-up: first calls build TensorFlow's graph
        forecaster.forecast(closes)
    timings = []
    for _ in range(args.calls):
        started = time.perf_counter()
        point = forecaster.forecast(closes)
        timings.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(timings, n=100)
    median = statistics.median(timings)

    print(f"{label}: loaded from the registry in {load_seconds:.2f} s; {len(closes)} days of closes")
    print(
        f"forecast(closes) x{args.calls}: median {median:.2f} ms   p90 {cuts[89]:.2f} ms   p99 {cuts[98]:.2f} ms   "
        f"(last: {point.as_of_date} close {point.last_close:.2f} -> {point.predicted_close:.2f})"
    )
    print(f"  target median <= 2 ms: {'met' if median <= 2 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
