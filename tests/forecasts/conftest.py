"""Fixtures for the market-data tests: CSV files written on the fly and a stand-in for Yahoo."""

import textwrap
from pathlib import Path

import pytest


@pytest.fixture
def write_csv(tmp_path):
    """write_csv("name.csv", text) -> Path; the text is dedented and its first newline dropped."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


@pytest.fixture
def fake_registry(settings):
    """Forecasters come from tests.forecasts.forecasters instead of MLflow; the process cache is cleared after."""
    from forecasts.services import prediction
    from tests.forecasts import forecasters

    registry = forecasters.install(settings)
    yield registry
    prediction.forecasters_clear()


@pytest.fixture
def champion(db):
    """An MLP champion (v2) and the naive baseline (v1) from the same training run."""
    from tests.factories import ModelVersionFactory, TrainingRunFactory
    from training.models import ModelVersion

    run = TrainingRunFactory()
    ModelVersionFactory(architecture=ModelVersion.Architecture.NAIVE, training_run=run, version=1)
    return ModelVersionFactory(
        architecture=ModelVersion.Architecture.MLP, training_run=run, is_champion=True, version=2
    )
