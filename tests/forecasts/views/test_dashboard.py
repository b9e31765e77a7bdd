"""The dashboard: forecast card, chart (and its figure builder), accuracy tabs and the forecast table."""

import datetime as dt
import html
import json
import re

import pytest
from django.urls import reverse

from forecasts.calendar import last_completed_trading_day
from forecasts.models import Forecast
from forecasts.selectors.accuracy import forecast_accuracy
from forecasts.views.dashboard import DashboardQuery, chart_context
from goldsite.presentation.charts import forecast_figure
from tests.factories import (
    ForecastFactory,
    ModelVersionFactory,
    PriceBarFactory,
    TrainingRunFactory,
    UserFactory,
    scored_forecast,
)
from tests.forecasts.forecasters import trading_days
from training.models import ModelVersion

HTMX = {"HTTP_HX_REQUEST": "true"}


def htmx_to(target: str) -> dict:
    return {**HTMX, "HTTP_HX_TARGET": target}


def chart_json(content: str, chart_id: str = "price-chart") -> dict:
    match = re.search(rf'<script id="{chart_id}" type="application/json">(.*?)</script>', content, re.S)
    assert match, f"no json_script #{chart_id}"
    return json.loads(match.group(1))


def trace(figure: dict, name: str) -> dict:
    return next(t for t in figure["data"] if t["name"] == name)


@pytest.fixture
def signed_in(client):
    client.force_login(UserFactory())
    return client


def _gold(start: dt.date, closes: list[float]) -> None:
    for i, close in enumerate(closes):
        PriceBarFactory(date=start + dt.timedelta(days=i), close=close)


@pytest.fixture
def trained():
    """A champion MLP and its run's naive version, each with a 3-day scored backtest, and gold closes."""
    run = TrainingRunFactory()
    champion = ModelVersionFactory(architecture=ModelVersion.Architecture.MLP, is_champion=True, training_run=run)
    naive = ModelVersionFactory(architecture=ModelVersion.Architecture.NAIVE, hyperparameters={}, training_run=run)
    _gold(dt.date(2025, 9, 1), [3600.0 + 5 * i for i in range(24)])  # 2025-09-01 .. 2025-09-24
    days = [dt.date(2025, 9, 22), dt.date(2025, 9, 23), dt.date(2025, 9, 24)]
    for day, (last, predicted, actual) in zip(
        days, [(3700.0, 3706.0, 3705.0), (3705.0, 3712.0, 3710.0), (3710.0, 3712.0, 3715.0)], strict=True
    ):
        scored_forecast(
            champion, kind=Forecast.Kind.BACKTEST, day=day, last_close=last, predicted=predicted, actual=actual
        )
        scored_forecast(naive, kind=Forecast.Kind.BACKTEST, day=day, last_close=last, predicted=last, actual=actual)
    return champion, naive


# --- Access -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_sign_in_with_next(client):
    response = client.get(reverse("forecasts:dashboard") + "?range=1M")

    assert response.status_code == 302
    assert response["Location"].startswith(f"{reverse('forecasts:login')}?next=/")


@pytest.mark.django_db
def test_an_anonymous_htmx_swap_reloads_the_page_at_sign_in_instead(client):
    """Not the login form swapped into the chart region (tests/test_middleware.py has the rule)."""
    response = client.get(reverse("forecasts:dashboard") + "?range=1M", **htmx_to("dashboard-chart"))

    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(f"{reverse('forecasts:login')}?next=/")
    assert response.content == b""


# --- Forecast card ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_card_shows_the_champion_forecast_with_ranges_and_the_implied_change(signed_in):
    champion = ModelVersionFactory(is_champion=True)
    ForecastFactory(
        model_version=champion,
        target_date=dt.date(2025, 9, 26),
        as_of_date=dt.date(2025, 9, 25),
        last_close=3700.0,
        predicted_close=3744.4,
        lower_80=3712.3,
        upper_80=3780.9,
        lower_95=3690.0,
        upper_95=3801.2,
    )

    content = signed_in.get(reverse("forecasts:dashboard")).content.decode()

    assert "Forecast for 2025-09-26" in content
    assert "$3,744.40" in content
    assert "+1.20% (+$44.40) vs. last close" in content
    assert "$3,712 – $3,781" in content  # 80%
    assert "$3,690 – $3,801" in content  # 95%
    assert "$3,700.00" in content and "on 2025-09-25" in content
    assert str(champion) in content and "Champion" in content


@pytest.mark.django_db
def test_a_live_forecast_is_labelled_live(signed_in):
    ForecastFactory(model_version=ModelVersionFactory(is_champion=True), target_date=dt.date(2025, 9, 26))

    content = signed_in.get(reverse("forecasts:dashboard")).content.decode()

    assert 'data-testid="forecast-kind">Live<' in content
    assert "late-notice" not in content and "missing-bars" not in content


@pytest.mark.django_db
def test_a_late_forecast_is_labelled_late_and_the_missing_bar_is_named(signed_in):
    champion = ModelVersionFactory(is_champion=True)
    PriceBarFactory(date=dt.date(2025, 9, 24))
    PriceBarFactory(symbol="^GSPC", date=dt.date(2025, 9, 24), close=6600.0)
    PriceBarFactory(date=dt.date(2025, 9, 25))  # gold's close of the forecast day was in before the forecast
    ForecastFactory(model_version=champion, kind=Forecast.Kind.LATE, target_date=dt.date(2025, 9, 25))

    content = html.unescape(signed_in.get(reverse("forecasts:dashboard")).content.decode())

    assert "Forecast for 2025-09-25" in content
    assert 'data-testid="forecast-kind">Late<' in content
    assert "made after the gold close of 2025-09-25 was stored" in content
    missing = content[content.index('data-testid="missing-bars"') :]
    assert "S&P 500 close for 2025-09-25 not stored yet" in missing[:400]


@pytest.mark.django_db
def test_the_freshness_badge_says_stale_when_the_last_trading_day_is_missing(signed_in):
    ModelVersionFactory(is_champion=True)
    PriceBarFactory(date=dt.date(2025, 9, 24))

    content = signed_in.get(reverse("forecasts:dashboard")).content.decode()

    assert 'data-freshness="stale"' in content
    assert "Data stale: newest close 2025-09-24" in content


@pytest.mark.django_db
def test_the_freshness_badge_says_current_when_the_last_trading_day_is_there(signed_in):
    PriceBarFactory(date=last_completed_trading_day())

    content = signed_in.get(reverse("forecasts:dashboard")).content.decode()

    assert 'data-freshness="fresh"' in content


@pytest.mark.django_db
def test_without_a_champion_the_card_says_what_to_run(signed_in):
    content = signed_in.get(reverse("forecasts:dashboard")).content.decode()

    assert "No champion model yet" in content
    assert "import_prices" in content  # no prices either: load them first
    assert f'href="{reverse("training:training")}"' in content


@pytest.mark.django_db
def test_a_champion_without_a_forecast_says_how_to_make_one(signed_in):
    ModelVersionFactory(is_champion=True)

    content = signed_in.get(reverse("forecasts:dashboard")).content.decode()

    assert "No forecast yet" in content
    assert "predict_next_day" in content


# --- Chart --------------------------------------------------------------------------------------------------


def _row(day, kind="backtest", predicted=100.0, low=95.0, high=105.0):
    return Forecast(
        kind=kind, target_date=day, predicted_close=predicted, lower_80=low, upper_80=high, last_close=predicted
    )


def test_the_figure_has_band_actual_live_backtest_and_naive_traces_in_drawing_order():
    d1, d2, d3 = dt.date(2025, 9, 22), dt.date(2025, 9, 23), dt.date(2025, 9, 24)
    figure = forecast_figure(
        closes=[(d2, 101.0), (d1, 100.0)],
        forecasts=[_row(d2, predicted=101.5), _row(d1), _row(d3, kind="live", predicted=102.0, low=99.0, high=104.0)],
        naive=[_row(d1, predicted=99.0), _row(d2, predicted=100.0)],
    )

    names = [t["name"] for t in figure["data"]]
    assert names == [
        "80% range (low)",
        "80% range",
        "Actual close",
        "Forecast (live)",
        "Forecast (backtest)",
        "Naive forecast",
    ]
    low, high = figure["data"][0], figure["data"][1]
    assert high["fill"] == "tonexty" and "fill" not in low
    assert low["x"] == high["x"] == ["2025-09-22", "2025-09-23", "2025-09-24"]
    assert low["y"] == [95.0, 95.0, 99.0] and high["y"] == [105.0, 105.0, 104.0]
    assert trace(figure, "Actual close")["x"] == ["2025-09-22", "2025-09-23"]  # sorted by day
    assert trace(figure, "Forecast (live)")["y"] == [102.0]
    assert trace(figure, "Forecast (backtest)")["x"] == ["2025-09-22", "2025-09-23"]
    assert trace(figure, "Naive forecast")["visible"] == "legendonly"
    json.dumps(figure)  # plain JSON, ready for json_script


def test_late_forecasts_are_drawn_apart_as_crosses_and_yield_the_band_to_a_live_one():
    d1, d2 = dt.date(2025, 9, 24), dt.date(2025, 9, 25)
    figure = forecast_figure(
        closes=[(d1, 100.0), (d2, 101.0)],
        forecasts=[
            _row(d1, kind="late", low=80.0, high=120.0),
            _row(d1, kind="live", low=90.0, high=110.0),
            _row(d2, kind="late", predicted=102.0, low=97.0, high=107.0),
            _row(d2, low=95.0, high=105.0),  # a backtest row of the same day: the late one wins the band
        ],
    )

    names = [t["name"] for t in figure["data"]]
    assert names.index("Forecast (live)") < names.index("Forecast (late)") < names.index("Forecast (backtest)")
    late = trace(figure, "Forecast (late)")
    assert late["x"] == ["2025-09-24", "2025-09-25"]
    assert late["marker"]["symbol"] != trace(figure, "Forecast (live)")["marker"]["symbol"]
    assert late["marker"]["color"] != trace(figure, "Forecast (live)")["marker"]["color"]
    assert trace(figure, "80% range")["y"] == [110.0, 107.0]


def test_the_naive_forecast_is_visible_when_asked_for():
    day = dt.date(2025, 9, 22)
    figure = forecast_figure(closes=[(day, 1.0)], forecasts=[], naive=[_row(day)], show_naive=True)

    assert trace(figure, "Naive forecast")["visible"] is True


def test_a_live_forecast_wins_the_band_over_a_backtest_of_the_same_day():
    day = dt.date(2025, 9, 22)
    figure = forecast_figure(
        closes=[], forecasts=[_row(day, kind="live", low=90.0, high=110.0), _row(day, low=95.0, high=105.0)]
    )

    assert trace(figure, "80% range")["y"] == [110.0]


def test_without_forecasts_the_figure_is_just_the_close_with_readable_tooltips():
    figure = forecast_figure(closes=[(dt.date(2025, 9, 22), 3712.3456)], forecasts=[])

    assert [t["name"] for t in figure["data"]] == ["Actual close"]
    actual = figure["data"][0]
    assert actual["y"] == [3712.35]
    assert "$%{y:,.2f}" in actual["hovertemplate"]
    assert figure["layout"]["xaxis"]["hoverformat"] == "%Y-%m-%d"
    assert figure["layout"]["yaxis"]["tickprefix"] == "$"


def test_a_non_finite_value_is_a_gap_in_the_chart_never_infinity_or_nan():
    d1, d2 = dt.date(2025, 9, 22), dt.date(2025, 9, 23)
    figure = forecast_figure(
        closes=[(d1, 3712.0), (d2, float("nan"))],
        forecasts=[_row(d1, kind="live", predicted=float("inf"), low=3600.0, high=float("inf"))],
    )

    assert trace(figure, "Actual close")["y"] == [3712.0, None]  # Plotly draws null as a gap
    assert trace(figure, "Forecast (live)")["y"] == [None]
    assert trace(figure, "80% range")["y"] == [None]
    assert trace(figure, "80% range (low)")["y"] == [3600.0]
    json.dumps(figure, allow_nan=False)


@pytest.mark.django_db
def test_the_page_carries_no_infinity_from_a_corrupt_forecast(signed_in, trained):
    champion, _ = trained
    ForecastFactory(
        model_version=champion, target_date=dt.date(2025, 9, 25), upper_80=float("inf"), upper_95=float("inf")
    )

    content = signed_in.get(reverse("forecasts:dashboard")).content.decode()

    figure = chart_json(content)
    assert "Infinity" not in content
    assert None in trace(figure, "80% range")["y"]


@pytest.mark.django_db
def test_the_range_picks_how_much_history_the_chart_shows(trained):
    champion, _ = trained

    def points(range_key):
        context = chart_context(query=DashboardQuery(range=range_key), champion=champion)
        return len(trace(context["price_figure"], "Actual close")["x"])

    assert points("1M") == 24  # every bar is within a month of the newest
    PriceBarFactory(date=dt.date(2025, 1, 2))
    assert points("1M") == 24
    assert points("All") == 25


@pytest.mark.django_db
def test_the_page_embeds_the_chart_with_range_links_that_work_without_javascript(signed_in, trained):
    content = signed_in.get(reverse("forecasts:dashboard"), {"range": "1Y", "window": "60"}).content.decode()

    figure = chart_json(content)
    assert trace(figure, "Forecast (backtest)")["y"] == [3706.0, 3712.0, 3712.0]
    assert trace(figure, "Naive forecast")["visible"] == "legendonly"
    assert 'data-chart-source="price-chart"' in content
    link = re.search(r'<a class="segmented__link" href="([^"]*range=1M[^"]*)"\s+hx-get="([^"]*)"', content)
    assert link and link.group(1) == link.group(2)
    assert "window=60" in link.group(1)  # the other choices are kept
    assert 'hx-target="#dashboard-chart"' in content and 'hx-push-url="true"' in content
    assert re.search(r'range=1Y[^"]*"\s+hx-get="[^"]*"[^>]*aria-current="true"', content)


@pytest.mark.django_db
def test_an_htmx_range_switch_gets_only_the_chart_fragment(signed_in, trained):
    response = signed_in.get(
        reverse("forecasts:dashboard"), {"range": "1M", "naive": "1"}, **htmx_to("dashboard-chart")
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith('<section id="dashboard-chart"')
    assert "<html" not in content and "Accuracy" not in content
    assert trace(chart_json(content), "Naive forecast")["visible"] is True
    assert "Hide the naive forecast" in content
    assert "HX-Request" in response["Vary"] and "HX-Target" in response["Vary"]


@pytest.mark.django_db
def test_a_history_restore_request_gets_the_whole_page(signed_in, trained):
    response = signed_in.get(
        reverse("forecasts:dashboard"), **htmx_to("dashboard-chart"), HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )

    assert "<html" in response.content.decode()


# --- Accuracy -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_accuracy_compares_champion_and_naive_with_the_selectors_numbers(signed_in, trained):
    expected = forecast_accuracy(window=20)

    content = signed_in.get(reverse("forecasts:dashboard")).content.decode()

    assert expected["source"] == "backtest"
    assert "Only 0 scored live forecasts so far; showing the champion" in content
    assert f"${expected['champion']['mae']:,.2f}" in content  # $1.33
    assert f"${expected['naive']['mae']:,.2f}" in content  # $5.00
    assert f"{expected['rmae']:.3f}" in content
    assert re.search(r"Beats the naive forecast: <strong>yes</strong>", content)
    assert "Direction right" in content and "Inside the 80% range" in content
    assert "100.0%" in content  # direction hit rate and coverage, as percentages


@pytest.mark.django_db
def test_the_accuracy_card_says_how_many_live_forecasts_the_evidence_still_needs(signed_in, trained):
    content = signed_in.get(reverse("forecasts:dashboard")).content.decode()

    assert re.search(r'data-testid="live-evidence">0 live forecasts scored; evidence needs 20\.<', content)


@pytest.mark.django_db
def test_the_accuracy_card_shows_the_live_rmae_and_p_from_20_live_days(signed_in, trained):
    champion, naive = trained
    for i, day in enumerate(trading_days(dt.date(2025, 8, 1), dt.date(2025, 8, 28))):
        miss = 2.0 + (i % 3)
        scored_forecast(champion, day=day, last_close=3690.0, predicted=3700.0 + miss, actual=3700.0)
        scored_forecast(naive, day=day, last_close=3690.0, predicted=3690.0, actual=3700.0)
    expected = forecast_accuracy(window=20)["evidence"]

    content = html.unescape(signed_in.get(reverse("forecasts:dashboard")).content.decode())

    assert expected["n"] == 20 and expected["beats_naive"] is True
    assert f"rMAE {expected['rmae']:.3f}, beats naive (Diebold–Mariano p < 0.01)" in content


@pytest.mark.django_db
def test_an_accuracy_tab_gets_only_the_accuracy_fragment(signed_in, trained):
    response = signed_in.get(reverse("forecasts:dashboard"), {"window": "60"}, **htmx_to("dashboard-accuracy"))

    content = response.content.decode()
    assert content.lstrip().startswith('<section id="dashboard-accuracy"')
    assert "<html" not in content and "price-chart" not in content
    assert re.search(r'href="\?window=60"\s+hx-get="\?window=60"[^>]*aria-current="true"', content)


@pytest.mark.django_db
def test_a_bad_window_or_range_falls_back_to_the_defaults(signed_in, trained):
    response = signed_in.get(reverse("forecasts:dashboard"), {"window": "7", "range": "10Y"})

    content = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'hx-get="[^"]*window=20[^"]*"[^>]*aria-current="true">Last 20', content)
    assert re.search(r'hx-get="[^"]*range=3M[^"]*"[^>]*aria-current="true">3M', content)


# --- Recent forecasts ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_table_lists_the_champion_forecasts_with_actual_error_and_band(signed_in, trained):
    content = signed_in.get(reverse("forecasts:dashboard")).content.decode()

    table = content[content.index('id="dashboard-forecasts"') :]
    assert "2025-09-24" in table
    assert "$3,712.00" in table and "$3,715.00" in table  # predicted, actual
    assert "−$3.00" in table  # error: predicted minus actual
    assert "Inside" in table
    assert table.count("badge--backtest") == 3


@pytest.mark.django_db
def test_the_table_marks_a_late_forecast_apart(signed_in, trained):
    champion, _ = trained
    ForecastFactory(model_version=champion, kind=Forecast.Kind.LATE, target_date=dt.date(2025, 9, 25))

    content = signed_in.get(reverse("forecasts:dashboard")).content.decode()

    table = content[content.index('id="dashboard-forecasts"') :]
    assert table.count('class="badge badge--late"') == 1
    assert "Late (made after its target close was stored)" in table


@pytest.mark.django_db
def test_cross_validation_forecasts_stay_off_the_dashboard(signed_in, trained):
    """CV folds' out-of-fold forecasts are selection evidence (the version page), not what live operation made."""
    champion, _ = trained
    scored_forecast(
        champion, kind=Forecast.Kind.CV, day=dt.date(2025, 9, 19), last_close=3690.0, predicted=3999.0, actual=3691.0
    )

    content = signed_in.get(reverse("forecasts:dashboard")).content.decode()

    assert "3,999.00" not in content and "3999" not in content and "badge--cv" not in content


@pytest.mark.django_db
def test_table_pages_are_fragments_and_their_links_keep_href(signed_in):
    champion = ModelVersionFactory(is_champion=True)
    for i in range(12):
        ForecastFactory(model_version=champion, kind="backtest", target_date=dt.date(2025, 9, 1) + dt.timedelta(i))

    page = signed_in.get(reverse("forecasts:dashboard")).content.decode()
    fragment = signed_in.get(reverse("forecasts:dashboard"), {"page": "2"}, **htmx_to("dashboard-forecasts"))

    assert 'hx-target="#dashboard-forecasts"' in page
    assert '<div hx-boost="true">' in page  # the page links, and only they, are boosted
    assert 'href="?page=2" rel="next"' in page
    text = fragment.content.decode()
    assert text.lstrip().startswith('<section id="dashboard-forecasts"')
    assert "<html" not in text
    assert "Page 2 of 2" in text and "2025-09-02" in text and "2025-09-12" not in text


@pytest.mark.django_db
def test_the_core_numbers_are_in_the_html_without_javascript(signed_in, trained):
    champion, _ = trained
    ForecastFactory(model_version=champion, target_date=dt.date(2025, 9, 25), predicted_close=3720.55)

    response = signed_in.get(reverse("forecasts:dashboard"))

    content = response.content.decode()
    for piece in ("$3,720.55", "Beats the naive forecast", "Recent forecasts", "$3,715.00"):
        assert piece in content
