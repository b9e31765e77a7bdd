"""`manage.py train` end to end on the real history: every candidate registered, the champion rule, a table."""

import datetime as dt
import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from forecasts.models import Forecast
from forecasts.services.prices import prices_import_csv
from training.models import ChampionChange, ModelVersion, TrainingRun

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

LAST_COMMON_DAY = dt.date(2025, 9, 24)  # gold has 2025-09-25, the S&P 500 ends 2025-09-24
FAST = {"architectures": "mlp,cnn", "retrain_every": 125}  # two walk-forward refits instead of twelve


@pytest.fixture
def history(shared_data):
    prices_import_csv(symbol="GC=F", path=shared_data / "gold_data.csv")
    prices_import_csv(symbol="^GSPC", path=shared_data / "sp500.csv")


def test_train_registers_every_candidate_and_the_champion_obeys_the_rule(history):
    from mlflow.tracking import MlflowClient

    from tests.training.registry import alias_version

    out = io.StringIO()
    call_command("train", trials=1, stdout=out, **FAST)
    table = out.getvalue()

    run = TrainingRun.objects.get()
    assert run.status == TrainingRun.Status.SUCCEEDED and run.progress == 100
    versions = list(ModelVersion.objects.filter(training_run=run))
    assert sorted(v.architecture for v in versions) == ["cnn", "drift", "ensemble", "mlp", "naive"]
    champion = ModelVersion.objects.get(is_champion=True)
    uri = settings.MLFLOW_TRACKING_URI
    assert alias_version(settings.MLFLOW_REGISTERED_MODEL, "champion", tracking_uri=uri) == champion.version

    # The rule: the lowest pooled CV MAE, only with DM evidence against naive; otherwise naive.
    best = min(versions, key=lambda v: v.cv_metrics["mae"])
    with_evidence = best.architecture != "naive" and best.p_value < settings.CHAMPION_MAX_P
    assert champion == (best if with_evidence else next(v for v in versions if v.architecture == "naive"))
    change = ChampionChange.objects.get()
    assert change.actor == "auto" and "pooled CV MAE" in change.reason
    assert f"naive {next(v for v in versions if v.architecture == 'naive').cv_metrics['mae']:.2f}" in change.reason

    # The table: every candidate with pooled CV rMAE, p and walk-forward test rMAE; the champion marked.
    for version in versions:
        assert f"{version.architecture} v{version.version}" in table
    assert "CV rMAE" in table and " p " in table and "test rMAE" in table
    # The bands: coverage per volatility tercile and the interval scores, naive beside every candidate.
    assert "80% calm" in table and "W80÷naive" in table and "pinball" in table
    champion_line = next(line for line in table.splitlines() if line.startswith(f"{champion.architecture} v"))
    assert champion_line.rstrip().endswith("*")

    client = MlflowClient(uri)
    for version in versions:
        # Served models learnt from every target through the last common day; MLflow says so too.
        assert version.fitted_through == LAST_COMMON_DAY == version.data_end
        tags = client.get_model_version(version.registered_name, str(version.version)).tags
        assert tags["fitted_through"] == LAST_COMMON_DAY.isoformat()
        assert len(version.cv_metrics["folds"]) == 5 and version.cv_metrics["n"] == 500
        assert version.test_metrics["refits"] == 2
        assert set(version.test_metrics["coverage_by_regime"]) == {"calm", "normal", "volatile"}
        assert version.intervals["volatility"] in ("realised", "ewma", "garch")
        # The walk-forward test window is stored as scored backtest forecasts.
        backtest = Forecast.objects.backtest().filter(model_version=version)
        assert backtest.count() == 250 and backtest.scored().count() == 250
        # And every selection day's out-of-fold CV forecast, scored: the evidence behind the rule.
        cv = Forecast.objects.cross_validation().filter(model_version=version)
        assert cv.count() == 500 and cv.scored().count() == 500


def test_a_refit_run_reuses_the_latest_tune(history):
    call_command("train", trials=1, stdout=io.StringIO(), **FAST)
    tune = TrainingRun.objects.get()
    tuned = {v.architecture: v.hyperparameters for v in tune.model_versions.all()}

    out = io.StringIO()
    call_command("train", trials=0, architectures="mlp", retrain_every=125, stdout=out)

    refit = TrainingRun.objects.exclude(pk=tune.pk).get()
    assert refit.kind == TrainingRun.Kind.TRAIN and refit.status == TrainingRun.Status.SUCCEEDED
    assert refit.params["hyperparameters_from_run"] == tune.pk
    for version in refit.model_versions.all():
        assert version.hyperparameters == tuned[version.architecture]


def test_train_refuses_while_another_run_is_active(history):
    TrainingRun.objects.create(kind=TrainingRun.Kind.TUNE, status=TrainingRun.Status.RUNNING)
    with pytest.raises(CommandError, match="wait for it to finish"):
        call_command("train", trials=1, architectures="mlp", stdout=io.StringIO())


def test_train_without_history_fails_with_a_clear_message():
    with pytest.raises(CommandError, match="import or fetch prices first"):
        call_command("train", trials=1, architectures="mlp", stdout=io.StringIO())
    assert TrainingRun.objects.get().status == TrainingRun.Status.FAILED
