"""Benchmark the full training pipeline on the real history in ../shared/data.

Runs naive + MLP + CNN + LSTM with hyperopt (N trials per network) into a throw-away MLflow store and
prints wall time, trials per minute and the champion's test rMAE (its test MAE over the naive test MAE).
Targets (for later turns): 3 architectures + 30 trials in ≤ 120 s on 2 cores; champion test rMAE ≤ 0.98.

    .venv/bin/python bench/train.py [--trials 10] [--architectures mlp,cnn,lstm]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

from training.ml.features import join_closes  # noqa: E402
from training.ml.pipeline import train_candidate  # noqa: E402
from training.ml.selection import select_champion  # noqa: E402


def read_closes(path: Path) -> pd.Series:
    frame = pd.read_csv(path)
    dates = pd.to_datetime(frame["Date"], format="%d/%m/%Y")
    return pd.Series(frame["Close"].to_numpy(dtype=float), index=pd.DatetimeIndex(dates), name=path.stem)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10, help="hyperopt trials per network architecture")
    parser.add_argument("--architectures", default="mlp,cnn,lstm")
    args = parser.parse_args()
    if not (DATA / "gold_data.csv").is_file():
        print(f"skipped: {DATA} is absent")
        return 0

    closes = join_closes(read_closes(DATA / "gold_data.csv"), read_closes(DATA / "sp500.csv"))
    networks = [a for a in args.architectures.split(",") if a]
    store = tempfile.mkdtemp(prefix="goldsite-bench-")
    tracking = {"tracking_uri": f"sqlite:///{store}/mlflow.db", "experiment": "bench", "artifact_root": store}
    print(f"{len(closes)} common trading days, {closes.index[0].date()} … {closes.index[-1].date()}")

    results, started = [], time.perf_counter()
    for architecture in ["naive", *networks]:
        t0 = time.perf_counter()
        trials = 0 if architecture == "naive" else args.trials
        result = train_candidate(closes, architecture=architecture, trials=trials, **tracking)
        results.append(result)
        print(
            f"  {architecture:<6} {time.perf_counter() - t0:7.1f} s  val MAE {result.validation_metrics['mae']:8.3f}"
            f"  test MAE {result.test_metrics['mae']:8.3f}  test rMAE {result.test_metrics['rmae']:.4f}"
        )
    wall = time.perf_counter() - started
    champion = select_champion(results)
    total_trials = args.trials * len(networks)
    print(f"wall time: {wall:.1f} s for {len(networks)} architectures x {args.trials} trials (+ naive)")
    print(f"trials per minute: {total_trials / wall * 60:.1f}")
    print(f"champion: {champion.architecture} (validation MAE {champion.validation_metrics['mae']:.3f})")
    print(f"champion test rMAE: {champion.test_metrics['rmae']:.4f} (target <= 0.98)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
