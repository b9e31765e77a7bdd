"""Property-based tests of the whole token API from its own OpenAPI schema (`/api/schema/`), with Schemathesis.

Every operation in the schema gets generated requests, valid and invalid, sent as an ML engineer (staff in the
"ML engineers" group) with a token through the WSGI application (no server), against a database seeded with
bars, model versions, runs and forecasts. Nothing starts real work: training runs are queued but not executed,
the MLflow alias move is recorded, and the forecaster is `tests.forecasts.forecasters.FakeForecaster`.

Checks: every response is checked with Schemathesis' default checks except the ones listed in EXCLUDED_CHECKS,
each for the reason given there. The one that matters most, `not_a_server_error`, always runs.
"""

import datetime as dt

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
    status_code_conformance,
)

from forecasts.calendar import last_completed_trading_day
from forecasts.models import Forecast
from forecasts.services import prediction
from goldsite.wsgi import application
from tests.factories import (
    DataLoadFactory,
    ForecastFactory,
    MLEngineerFactory,
    ModelVersionFactory,
    TrainingRunFactory,
    band_intervals,
    rolling_origin_cv,
    walk_forward_test,
)
from tests.forecasts import forecasters
from tests.forecasts.forecasters import store_closes, trading_days
from training import dispatch
from training.models import ModelVersion

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

MAX_EXAMPLES = 30  # per operation and generation phase

# Default checks left out, each for a reason that is the API's design, not a fault:
EXCLUDED_CHECKS = [
    # drf-spectacular documents the success response of each operation only; the errors are DRF's standard ones
    # (400 with per-field messages, 401, 403, 404, 405, 429) and the domain errors of goldsite.api (409, 503).
    status_code_conformance,
    # A request the schema allows can still be refused for what it means: unknown credentials or model version,
    # promoting the champion again, `predict_tomorrow: false`, a second active training run.
    positive_data_acceptance,
    # DRF is lenient where the schema is strict: an empty query value counts as absent, booleans accept 0/1 and
    # "yes"/"no", and form fields are all strings. Lenient input is accepted by design.
    negative_data_rejection,
]

# Loaded at collection: rendering the schema needs no database. (The lazy `schemathesis.pytest.from_fixture`
# loader fails under pytest 9.2: it reads `request.node._nodeid`, which pytest no longer has.)
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def seeded(monkeypatch, settings):
    """Rows for every endpoint to find; runs queue without executing, promotions record, forecasts are fakes."""
    newest = last_completed_trading_day()
    days = trading_days(newest - dt.timedelta(days=120), newest)
    store_closes(days)
    DataLoadFactory(first_date=days[0], last_date=newest)
    run = TrainingRunFactory(params={**TrainingRunFactory.params.function(), "max_p": 0.1})
    naive = ModelVersionFactory(
        architecture=ModelVersion.Architecture.NAIVE,
        training_run=run,
        cv_metrics=rolling_origin_cv(rmaes=[1.0] * 5, p_value=None),
        test_metrics=walk_forward_test(rmae=1.0),
    )
    # The evidence in every shape the API documents: full rolling-origin CV with interval scores, the bands' live
    # state and provenance, a version without them, and one made before the protocol.
    champion = ModelVersionFactory(
        architecture=ModelVersion.Architecture.MLP,
        training_run=run,
        is_champion=True,
        cv_metrics=rolling_origin_cv(rmaes=[0.98, 0.99, 1.01, 0.97, 0.99], p_value=0.04, best_epoch=9),
        test_metrics=walk_forward_test(rmae=0.99, winkler_80=80.5),
        intervals=band_intervals(
            state={"alpha": {"80": 0.21, "95": 0.05}, "days": 3, "held": {"80": 2, "95": 3}, "through": "2025-09-24"}
        ),
        protocol={"test_days": 250, "selection_days": 500, "folds": 5, "retrain_every": 21, "lookback": 20},
        feature_config={"lags": 5, "ma_window": 5, "vol_windows": [5, 20]},
        provenance={"library_versions": {"numpy": "2.3.3"}, "code_commit": "abc1234"},
    )
    ModelVersionFactory(
        architecture=ModelVersion.Architecture.CNN,
        training_run=run,
        cv_metrics=rolling_origin_cv(rmaes=[1.0, 1.02, 0.99, 1.01, 1.0], p_value=0.6, bands=False),
        test_metrics=walk_forward_test(rmae=1.0, bands=False),
    )
    ModelVersionFactory(architecture=ModelVersion.Architecture.LSTM, cv_metrics={"legacy_validation": {"mae": 19.0}})
    for day in days[-30:-1]:
        for version in (champion, naive):
            ForecastFactory(model_version=version, target_date=day, as_of_date=day, kind=Forecast.Kind.LIVE)
            ForecastFactory(model_version=version, target_date=day, as_of_date=day, kind=Forecast.Kind.BACKTEST)

    monkeypatch.setattr(dispatch, "training_run_execute_request", lambda *, run_id, inline: "")
    monkeypatch.setattr("training.ml.registry.set_alias", lambda **kwargs: None)
    forecasters.install(settings)
    yield
    prediction.forecasters_clear()  # no fake left in the process-wide cache for later tests


@pytest.fixture
def keep_connection():
    """Requests go through the WSGI app, not Django's test client, so do what the test client does: keep the
    database connection (the test's transaction) open across requests instead of closing it after each one."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(seeded, keep_connection) -> str:
    return Token.objects.create(user=MLEngineerFactory()).key


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_the_api_honours_its_schema_and_never_fails(case, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, excluded_checks=EXCLUDED_CHECKS)
