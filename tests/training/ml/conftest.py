"""Closes for the ML tests: seeded geometric random walks, their samples and windows, the real history, a
throw-away MLflow store."""

from pathlib import Path

import pandas as pd
import pytest

from tests.training.ml.series import random_walk_closes, read_yahoo_closes
from training.ml.dataset import Samples, Windows
from training.ml.features import join_closes


@pytest.fixture
def closes() -> pd.DataFrame:
    return random_walk_closes()


@pytest.fixture
def samples(closes) -> Samples:
    return Samples.from_closes(closes)


@pytest.fixture
def windows(samples, request) -> Windows:
    """The windows of the test module's own PROTOCOL."""
    return Windows.for_samples(samples, request.module.PROTOCOL)


@pytest.fixture
def real_closes(shared_data: Path) -> pd.DataFrame:
    return join_closes(read_yahoo_closes(shared_data / "gold_data.csv"), read_yahoo_closes(shared_data / "sp500.csv"))


@pytest.fixture(scope="module")
def mlflow_store(tmp_path_factory) -> dict:
    """Keyword arguments of `train_candidate` for a fresh SQLite MLflow store shared by one test module."""
    root = tmp_path_factory.mktemp("mlflow")
    return {
        "tracking_uri": f"sqlite:///{root / 'mlflow.db'}",
        "experiment": "goldsite-tests",
        "artifact_root": str(root / "artifacts"),
    }
