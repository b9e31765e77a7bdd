"""The dashboard's accuracy card says in words whether the champion's live bands held ("The 80% band held on 16 of
the last 20 days (95%: 19 of 20)") and draws a small calibration chart: observed against nominal coverage of each
band on the calm, normal and volatile third of the days; the walk-forward test's, and it says so, when the window
has too few live days."""

import html
import json
import re

import pytest
from django.urls import reverse

from goldsite.presentation.charts import calibration_figure
from tests.factories import ModelVersionFactory, TrainingRunFactory, UserFactory, band_intervals, walk_forward_test
from tests.forecasts.band_history import live_window, store_phases
from tests.forecasts.views.test_dashboard import chart_json, htmx_to, trace
from tests.test_middleware import inline_code

pytestmark = pytest.mark.django_db

STATE = {"alpha": {"80": 0.1875, "95": 0.0455}, "days": 21, "held": {"80": 16, "95": 20}, "through": "2025-06-05"}


@pytest.fixture
def signed_in(client):
    client.force_login(UserFactory())
    return client


@pytest.fixture
def champion():
    """An adaptive LSTM champion with 20 scored live days over three volatility phases, and its run's naive."""
    run = TrainingRunFactory()
    champion = ModelVersionFactory(
        architecture="lstm",
        training_run=run,
        is_champion=True,
        intervals=band_intervals(volatility="garch", gamma=0.005, state=STATE),
        test_metrics=walk_forward_test(rmae=0.99),
    )
    naive = ModelVersionFactory(architecture="naive", hyperparameters={}, training_run=run)
    store_phases()
    live_window(champion, naive)
    return champion


def record_of(content: str) -> str:
    start = content.index('data-testid="band-record"')
    return content[start : content.index("</section>", start)]


def text_of(content: str, testid: str) -> str:
    start = content.index(f'data-testid="{testid}"')
    start = content.index(">", start) + 1
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", content[start : content.index("</p>", start)])).split())


def test_the_card_says_on_how_many_live_days_each_band_held(signed_in, champion):
    content = signed_in.get(reverse("forecasts:dashboard")).content.decode()

    assert text_of(content, "bands-held") == "The 80% band held on 16 of the last 20 days (95%: 19 of 20)."
    # 19 days both forecast (naive skipped a calm day): the $20 width, plus $50 for each of three $15 misses and
    # $200 for one of $30: (15·20 + 3·70 + 220) / 19; naive's $50 band misses only the $30 one, by $5.
    assert text_of(content, "bands-winkler") == (
        "Interval score of the 80% band (Winkler, lower is better) over the 19 live days both forecast: "
        "$38.42 against naive's $52.63."
    )
    state = text_of(content, "bands-state")
    assert state.startswith("Adaptive bands (GARCH(1,1) volatility, γ = 0.005): after 21 scored live days")
    assert "the working miss rate is 0.188 for the 80% band (nominal 0.20) and 0.046 for the 95% band" in state


def test_the_calibration_chart_draws_observed_against_nominal_coverage_per_regime(signed_in, champion):
    content = signed_in.get(reverse("forecasts:dashboard")).content.decode()

    figure = chart_json(content, "calibration-chart")
    observed_80, observed_95 = trace(figure, "80% band: observed"), trace(figure, "95% band: observed")
    assert observed_80["x"] == ["Calm", "Normal", "Volatile"]
    assert observed_80["y"] == [100.0, 83.3, 57.1]  # 7 of 7, 5 of 6, 4 of 7
    assert observed_95["y"] == [100.0, 100.0, 85.7]
    assert observed_80["customdata"] == [7, 6, 7]
    assert trace(figure, "80% nominal")["y"] == [80.0] * 3 and trace(figure, "95% nominal")["y"] == [95.0] * 3
    assert text_of(content, "calibration-note") == (
        "Observed coverage on the calm, normal and volatile third of the last 20 live days."
    )
    assert 'data-chart-source="calibration-chart"' in content
    assert "last 20 live days" in content[content.index('data-chart-source="calibration-chart"') :][:400]
    assert inline_code(content) == []


def test_below_the_window_it_says_so_and_draws_the_walk_forward_tests_coverage(signed_in, champion):
    response = signed_in.get(reverse("forecasts:dashboard"), {"window": 60}, **htmx_to("dashboard-accuracy"))
    content = response.content.decode()

    assert content.lstrip().startswith('<section id="dashboard-accuracy"')
    # the 21st live day (a miss of both bands) is inside a 60-day window
    assert text_of(content, "bands-held") == (
        "Only 21 scored live days so far (fewer than the 60 of this window): the 80% band held on 16 of 21 "
        "(95%: 19 of 21)."
    )
    assert text_of(content, "calibration-note") == (
        "Backtest Only 21 scored live days (fewer than 60): showing the walk-forward test's coverage per regime "
        "instead (250 test days)."
    )
    assert '<span class="badge badge--backtest">Backtest</span>' in record_of(content)
    figure = chart_json(content, "calibration-chart")
    assert trace(figure, "80% band: observed")["y"] == [72.0, 80.0, 88.0]  # the test_metrics' terciles
    assert trace(figure, "95% band: observed")["y"] == [93.0, 95.0, 97.0]


def test_a_champion_without_live_days_or_test_coverage_shows_no_band_record(signed_in):
    ModelVersionFactory(architecture="mlp", is_champion=True, test_metrics=walk_forward_test(rmae=1.0, bands=False))

    content = signed_in.get(reverse("forecasts:dashboard")).content.decode()

    assert 'data-testid="band-record"' not in content
    assert 'id="calibration-chart"' not in content


def test_without_live_days_the_test_coverage_is_drawn_and_the_sentence_says_none_scored(signed_in):
    ModelVersionFactory(architecture="mlp", is_champion=True, test_metrics=walk_forward_test(rmae=1.0))

    content = signed_in.get(reverse("forecasts:dashboard")).content.decode()

    record = record_of(content)
    assert "No live forecast of the champion has been scored yet" in record
    assert 'id="calibration-chart"' in record
    assert 'data-testid="bands-winkler"' not in record and 'data-testid="bands-state"' not in record


def test_the_calibration_figure_is_plain_json_with_gaps_for_missing_numbers():
    figure = calibration_figure(
        by_regime={
            "volatile": {"n": 3, "coverage_80": 0.5, "coverage_95": float("nan")},
            "calm": {"n": 4, "coverage_80": 0.75, "coverage_95": None},
        }
    )

    assert [t["name"] for t in figure["data"]] == [
        "80% band: observed",
        "95% band: observed",
        "80% nominal",
        "95% nominal",
    ]
    assert figure["data"][0]["x"] == ["Calm", "Volatile"]  # regimes in their order, missing ones left out
    assert figure["data"][0]["y"] == [75.0, 50.0]
    assert figure["data"][1]["y"] == [None, None]
    assert figure["layout"]["yaxis"]["range"] == [0, 100] and figure["layout"]["barmode"] == "group"
    json.loads(json.dumps(figure, allow_nan=False))


def test_fixed_bands_say_they_do_not_move_with_live_misses(signed_in):
    ModelVersionFactory(
        architecture="mlp",
        is_champion=True,
        intervals=band_intervals(volatility="realised", gamma=0.0),
        test_metrics=walk_forward_test(rmae=1.0),
    )

    content = signed_in.get(reverse("forecasts:dashboard")).content.decode()

    assert text_of(content, "bands-state") == (
        "Fixed bands (20-day realised volatility, γ = 0): not adapting scored best on cross-validation, so live "
        "misses do not move them."
    )


def test_adaptive_bands_before_their_first_live_score_start_where_the_walk_forward_left_them(signed_in):
    ModelVersionFactory(
        architecture="mlp", is_champion=True, intervals=band_intervals(), test_metrics=walk_forward_test(rmae=1.0)
    )

    content = signed_in.get(reverse("forecasts:dashboard")).content.decode()

    assert text_of(content, "bands-state").startswith(
        "Adaptive bands (EWMA volatility (RiskMetrics, λ = 0.94), γ = 0.01): before the first scored live day the "
        "working miss rate is 0.200 for the 80% band"
    )
