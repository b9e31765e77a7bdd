"""A version's page shows its evidence: the verdict, the per-fold table, the cumulative-edge chart against its run's
naive version with fold and refit markers, and how it was made (data range, protocol, σ model, libraries, commit)."""

import datetime as dt
import json
import re

import pytest
from django.urls import reverse

from forecasts.selectors.edge import model_version_edge_series
from tests.factories import ModelVersionFactory, TrainingRunFactory, rolling_origin_cv, scored_forecast
from tests.test_middleware import inline_code

pytestmark = pytest.mark.django_db

PROVENANCE = {
    "library_versions": {"tensorflow": "2.20.0", "keras": "3.11.3", "numpy": "2.3.3"},
    "code_commit": "0123456789abcdef0123456789abcdef01234567",
}


@pytest.fixture
def lstm():
    run = TrainingRunFactory()
    naive = ModelVersionFactory(architecture="naive", hyperparameters={}, training_run=run)
    version = ModelVersionFactory(
        architecture="lstm",
        training_run=run,
        cv_metrics=rolling_origin_cv(rmaes=[0.97, 1.02, 0.99], p_value=0.031, best_epoch=14),
        protocol={"test_days": 250, "selection_days": 500, "folds": 5, "retrain_every": 3, "lookback": 20},
        feature_config={"lags": 5, "ma_window": 5, "vol_windows": [5, 20]},
        refit_epochs=14,
        selection_start=dt.date(2023, 1, 2),
        test_start=dt.date(2024, 9, 2),
        fitted_through=dt.date(2025, 9, 24),
        provenance=PROVENANCE,
    )
    for i in range(4):
        day = dt.date(2023, 1, 2) + dt.timedelta(days=i)
        scored_forecast(naive, day=day, predicted=2010.0, actual=2000.0, last_close=2010.0, kind="cv")
        scored_forecast(version, day=day, predicted=2004.0 + i, actual=2000.0, last_close=2010.0, kind="cv")
    for i in range(5):
        day = dt.date(2024, 9, 2) + dt.timedelta(days=i)
        scored_forecast(naive, day=day, predicted=2005.0, actual=2000.0, last_close=2005.0, kind="backtest")
        scored_forecast(version, day=day, predicted=2007.0, actual=2000.0, last_close=2005.0, kind="backtest")
    return version


def figure_of(content: str, chart_id: str) -> dict:
    match = re.search(rf'<script id="{chart_id}" type="application/json">(.*?)</script>', content, re.S)
    assert match, f"no {chart_id} figure on the page"
    return json.loads(match.group(1))


def test_the_page_draws_the_cumulative_edge_from_the_stored_forecasts(analyst, lstm):
    content = analyst.get(reverse("training:model-detail", args=[lstm.pk])).content.decode()

    figure = figure_of(content, "edge-chart")
    series = model_version_edge_series(version=lstm)
    drawn = [y for trace in figure["data"] for y in trace["y"]]
    assert drawn == [round(p.cumulative, 2) for p in series.points]
    # CV: naive 10 off, the LSTM 4..7 off: +6, +5, +4, +3; test: naive 5 off, the LSTM 7 off: −2 a day.
    assert drawn == [6.0, 11.0, 15.0, 18.0, 16.0, 14.0, 12.0, 10.0, 8.0]
    assert "a line that climbs means the model is ahead" in content
    summary = content[content.index('data-testid="edge-summary"') :]
    assert "Over 4 cross-validation days: ahead of naive by $18.00 in total." in summary
    assert "Over 5 walk-forward test days: behind naive by $10.00 in total." in summary
    assert "every 3 trading days" in content
    dashes = [s["line"]["dash"] for s in figure["layout"]["shapes"]]
    assert dashes.count("dot") == 3 and dashes.count("solid") == 1  # three folds, one test start
    assert dashes.count("dash") == 1  # test days 0..4 refit every 3: the 2nd refit on day 3


def test_the_fold_table_lists_dates_days_errors_and_best_epochs(analyst, lstm):
    content = analyst.get(reverse("training:model-detail", args=[lstm.pk])).content.decode()

    table = content[
        content.index('id="folds-heading"') : content.index("</table>", content.index('id="folds-heading"'))
    ]
    rows = re.findall(r"<tr>\s*<th scope=\"row\" class=\"num\">(\d)</th>(.*?)</tr>", table, re.S)
    assert [number for number, _ in rows] == ["1", "2", "3"]
    first = [" ".join(re.sub(r"<[^>]+>", "", c).split()) for c in re.findall(r"<td[^>]*>(.*?)</td>", rows[0][1], re.S)]
    assert first == ["2023-01-02 – 2023-05-21", "100", "$19.40", "$20.00", "0.970", "14"]
    assert "pooled p = 0.031 against naive" in table
    assert "refit: 14" in table


def test_the_verdict_and_how_the_version_was_made(analyst, lstm):
    content = analyst.get(reverse("training:model-detail", args=[lstm.pk])).content.decode()

    assert "beats naive (p = 0.031)" in content
    made = content[content.index('data-testid="provenance"') :]
    assert "2020-10-01 – 2025-09-24" in made  # training data
    assert "2025-09-24" in made and "2024-09-02" in made and "2023-01-02" in made
    assert "500 CV days in 5 folds, 250 test days refitted every 3, lookback 20" in made
    assert "20-day realised volatility" in made
    assert "<code>vol_windows</code> 5, 20" in made
    assert PROVENANCE["code_commit"] in made
    assert "tensorflow 2.20.0" in made and "keras 3.11.3" in made


def test_a_version_from_before_provenance_and_the_protocol_says_so(analyst):
    legacy = ModelVersionFactory(architecture="lstm", cv_metrics={"legacy_validation": {"mae": 19.0}})

    content = analyst.get(reverse("training:model-detail", args=[legacy.pk])).content.decode()

    assert "no CV evidence (trained before the rolling-origin protocol)" in content
    assert "evaluated on a single validation window, not by folds" in content
    assert "not recorded (made before versions stored them)" in content
    assert "No naive version to compare with" in content
    assert 'id="edge-chart"' not in content


def test_naives_page_explains_it_is_the_baseline(analyst, lstm):
    naive = model_version_edge_series(version=lstm).naive

    content = analyst.get(reverse("training:model-detail", args=[naive.pk])).content.decode()

    assert "the baseline every other candidate is measured against" in content
    assert 'id="edge-chart"' not in content


def test_the_version_page_has_no_inline_script_or_style(analyst, lstm):
    assert inline_code(analyst.get(reverse("training:model-detail", args=[lstm.pk])).content.decode()) == []


def test_the_forecast_sections_are_what_the_settings_providers_add(analyst, lstm, settings):
    """training renders the page; the forecasts app adds the backtest and edge sections through the setting."""
    assert settings.TRAINING_VERSION_PAGE_PROVIDERS == ["forecasts.views.version_forecasts.version_forecasts_context"]
    with_forecasts = analyst.get(reverse("training:model-detail", args=[lstm.pk])).content.decode()
    assert 'id="edge-chart"' in with_forecasts and 'id="backtest-chart"' in with_forecasts

    settings.TRAINING_VERSION_PAGE_PROVIDERS = []
    content = analyst.get(reverse("training:model-detail", args=[lstm.pk])).content.decode()

    assert 'id="edge-chart"' not in content and 'id="backtest-chart"' not in content
    assert "No backtest stored" in content
