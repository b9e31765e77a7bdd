"""`manage.py train` end to end on the real history: every candidate registered, one champion, a table."""

import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from forecasts.models import Forecast
from forecasts.services.prices import prices_import_csv
from training.models import ChampionChange, ModelVersion, TrainingRun

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def history(shared_data):
    prices_import_csv(symbol="GC=F", path=shared_data / "gold_data.csv")
    prices_import_csv(symbol="^GSPC", path=shared_data / "sp500.csv")


def test_train_registers_every_candidate_and_names_one_champion_in_django_and_mlflow(history):
    from training.ml.registry import get_alias_version

    out = io.StringIO()
    call_command("train", trials=1, architectures="mlp,cnn", stdout=out)
    table = out.getvalue()

    run = TrainingRun.objects.get()
    assert run.status == TrainingRun.Status.SUCCEEDED and run.progress == 100
    versions = ModelVersion.objects.filter(training_run=run)
    assert sorted(versions.values_list("architecture", flat=True)) == ["cnn", "mlp", "naive"]
    champion = ModelVersion.objects.get(is_champion=True)
    assert (
        get_alias_version(settings.MLFLOW_REGISTERED_MODEL, "champion", tracking_uri=settings.MLFLOW_TRACKING_URI)
        == champion.version
    )
    # Selection is by validation MAE alone, the naive forecast included.
    assert champion.validation_metrics["mae"] == min(v.validation_metrics["mae"] for v in versions)
    assert ChampionChange.objects.get().actor == "auto"
    # The table shows each candidate, the naive one included, with test rMAE, and marks the champion.
    for version in versions:
        assert f"{version.architecture} v{version.version}" in table
    assert "test rMAE" in table and "naive" in table
    champion_line = next(line for line in table.splitlines() if line.startswith(f"{champion.architecture} v"))
    assert champion_line.rstrip().endswith("*")
    # Every version's test window is stored as scored backtest forecasts.
    for version in versions:
        backtest = Forecast.objects.backtest().filter(model_version=version)
        assert backtest.count() == 250
        assert backtest.scored().count() == 250


def test_train_refuses_while_another_run_is_active(history):
    TrainingRun.objects.create(kind=TrainingRun.Kind.TUNE, status=TrainingRun.Status.RUNNING)
    with pytest.raises(CommandError, match="wait for it to finish"):
        call_command("train", trials=1, architectures="mlp", stdout=io.StringIO())


def test_train_without_history_fails_with_a_clear_message():
    with pytest.raises(CommandError, match="import or fetch prices first"):
        call_command("train", trials=1, architectures="mlp", stdout=io.StringIO())
    assert TrainingRun.objects.get().status == TrainingRun.Status.FAILED
