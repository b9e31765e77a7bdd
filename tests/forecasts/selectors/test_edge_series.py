"""The cumulative edge over naive (forecasts.selectors.edge.model_version_edge_series): Σ(|e_naive| − |e_model|)
from the stored, scored forecasts of a version and of its own run's naive version, CV days first, then the
walk-forward test days, matched by target date; fold starts and walk-forward refit dates for the chart's markers."""

import datetime as dt

import pytest

from forecasts.models import Forecast
from forecasts.selectors.edge import model_version_edge_series
from forecasts.views.edge_chart import edge_figure
from tests.factories import ModelVersionFactory, TrainingRunFactory, rolling_origin_cv, scored_forecast

pytestmark = pytest.mark.django_db

CV_DAYS = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(6)]
TEST_DAYS = [dt.date(2024, 3, 1) + dt.timedelta(days=i) for i in range(5)]


@pytest.fixture
def pair():
    """An LSTM and its run's naive version with cv and backtest forecasts; a few days only one of them has."""
    run = TrainingRunFactory()
    naive = ModelVersionFactory(architecture="naive", training_run=run)
    cv_metrics = rolling_origin_cv(rmaes=[0.98, 1.01], p_value=0.2)
    cv_metrics["folds"][0].update(start=CV_DAYS[0].isoformat(), end=CV_DAYS[2].isoformat())
    cv_metrics["folds"][1].update(start=CV_DAYS[3].isoformat(), end=CV_DAYS[5].isoformat())
    lstm = ModelVersionFactory(
        architecture="lstm",
        training_run=run,
        cv_metrics=cv_metrics,
        protocol={"test_days": 5, "selection_days": 6, "folds": 2, "retrain_every": 2, "lookback": 20},
        test_start=TEST_DAYS[0],
    )
    actual = 2000.0
    for i, day in enumerate(CV_DAYS):
        scored_forecast(naive, day=day, predicted=actual + 10 + i, actual=actual, last_close=actual, kind="cv")
        scored_forecast(lstm, day=day, predicted=actual - 4 - 3 * (i % 3), actual=actual, last_close=actual, kind="cv")
    for i, day in enumerate(TEST_DAYS):
        scored_forecast(naive, day=day, predicted=actual - 6, actual=actual, last_close=actual, kind="backtest")
        scored_forecast(lstm, day=day, predicted=actual + 2 * i, actual=actual, last_close=actual, kind="backtest")
    # Days only one side has are left out: nothing to compare them with.
    scored_forecast(lstm, day=dt.date(2024, 2, 1), predicted=1.0e3, actual=actual, last_close=actual, kind="cv")
    scored_forecast(naive, day=dt.date(2024, 4, 1), predicted=actual, actual=actual, last_close=actual, kind="backtest")
    # A live forecast is no part of the evidence.
    scored_forecast(lstm, day=dt.date(2024, 5, 1), predicted=actual, actual=actual + 50, last_close=actual)
    return lstm, naive


def stored_abs_errors(version, kind) -> dict:
    return {f.target_date: abs(f.error) for f in Forecast.objects.filter(model_version=version, kind=kind)}


def test_the_series_is_the_running_sum_of_the_stored_error_differences(pair):
    lstm, naive = pair

    series = model_version_edge_series(version=lstm)

    assert series.naive == naive
    expected, running = [], 0.0
    for kind in ("cv", "backtest"):
        model, baseline = stored_abs_errors(lstm, kind), stored_abs_errors(naive, kind)
        for day in sorted(model.keys() & baseline.keys()):
            running += baseline[day] - model[day]
            expected.append((day, kind, model[day], baseline[day], pytest.approx(running)))
    assert [(p.day, p.phase, p.model_abs_error, p.naive_abs_error, p.cumulative) for p in series.points] == expected
    assert [p.day for p in series.points] == CV_DAYS + TEST_DAYS
    # By hand: CV edges (10+i) − (4 + 3·(i mod 3)) = 6, 4, 2, 9, 7, 5; test edges 6 − 2i = 6, 4, 2, 0, −2.
    assert [round(p.edge, 6) for p in series.points] == [6, 4, 2, 9, 7, 5, 6, 4, 2, 0, -2]
    assert series.total("cv") == pytest.approx(33) and series.total("backtest") == pytest.approx(10)
    assert (series.days("cv"), series.days("backtest")) == (6, 5)


def test_fold_starts_and_refit_dates_mark_the_chart(pair):
    lstm, _ = pair

    series = model_version_edge_series(version=lstm)

    assert series.fold_starts == [CV_DAYS[0], CV_DAYS[3]]
    assert series.refit_dates == [TEST_DAYS[0], TEST_DAYS[2], TEST_DAYS[4]]  # every 2 test days
    assert series.test_start == TEST_DAYS[0]


def test_naive_itself_and_versions_without_a_same_run_naive_have_no_series(pair):
    lstm, naive = pair
    orphan = ModelVersionFactory(architecture="mlp", training_run=TrainingRunFactory())

    assert model_version_edge_series(version=naive) is None
    assert model_version_edge_series(version=orphan) is None
    assert model_version_edge_series(version=ModelVersionFactory(architecture="cnn")) is None


def test_the_figure_draws_the_series_with_fold_test_and_refit_lines(pair):
    lstm, _ = pair
    series = model_version_edge_series(version=lstm)

    figure = edge_figure(series)

    cv, test = figure["data"]
    assert (cv["name"], test["name"]) == ("Cross-validation (out-of-fold)", "Walk-forward test")
    assert cv["x"] == [d.isoformat() for d in CV_DAYS] and test["x"] == [d.isoformat() for d in TEST_DAYS]
    assert cv["y"] + test["y"] == [round(p.cumulative, 2) for p in series.points]
    lines = [(s["x0"], s["line"]["dash"]) for s in figure["layout"]["shapes"]]
    assert lines == [
        ("2024-01-01", "dot"),  # fold 1
        ("2024-01-04", "dot"),  # fold 2
        ("2024-03-03", "dash"),  # refits after the first
        ("2024-03-05", "dash"),
        ("2024-03-01", "solid"),  # the test window starts (and the first refit)
    ]
    assert [a["text"] for a in figure["layout"]["annotations"]] == ["fold 1", "fold 2", "test"]
