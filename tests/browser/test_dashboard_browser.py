"""The dashboard and the training page in a real browser (Debian's chromium driven by Playwright).

Real history from ../shared/data, a tiny champion trained through the real training service, the real
forecast service; then the pages as an analyst sees them: the forecast card, the chart drawn by Plotly,
a range switch swapped in by htmx without a page load, whether the live bands held and their calibration chart,
and a tuning run started from the page and watched to the end by htmx polling. Screenshots land in the test's
tmp_path (desktop and phone width).

Every page is served with the production Content-Security-Policy (the test settings send it too): a script or
style it blocks is a console error, and the tests allow none.
"""

import re
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from forecasts.models import Forecast
from forecasts.selectors.accuracy import forecast_accuracy
from forecasts.selectors.edge import model_version_edge_series
from tests.conftest import GOLD_CSV, SPX_CSV, require_services
from tests.factories import MLEngineerFactory, StaffUserFactory
from training.models import ModelVersion
from training.selectors import model_version_naive_baseline

REGIMES = ("calm", "normal", "volatile")

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "correct horse battery staple"  # UserFactory's
TRAINING_WAIT_S = 180


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.is_file():
        if require_services():
            pytest.fail(f"{CHROMIUM} is missing (GOLDSITE_REQUIRE_SERVICES=1): apt-get install chromium")
        pytest.skip(f"{CHROMIUM} is missing")
    return CHROMIUM


@pytest.fixture
def browser(chromium, monkeypatch):
    # Playwright's sync API keeps an event loop running in this thread; the test's own ORM calls are safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def champion_with_forecast(transactional_db, shared_data):
    """The real history, a champion from a 1-trial MLP tuning run and its forecast of the next day: of 2025-09-25,
    whose gold close is stored (the S&P 500 ends 2025-09-24), so it is late (issue 12)."""
    from forecasts.services.prediction import forecast_next_day
    from forecasts.services.prices import prices_import_csv
    from training.services.runs import training_run_start

    prices_import_csv(symbol=django_settings.GOLD_SYMBOL, path=GOLD_CSV)
    prices_import_csv(symbol=django_settings.SPX_SYMBOL, path=SPX_CSV)
    run = training_run_start(kind="tune", trials=1, architectures=["mlp"], inline=True)
    assert run.status == "succeeded", run.error
    forecasts = forecast_next_day()
    return forecasts[0]


class Problems:
    """Console errors and uncaught page errors seen by a page."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))


def _sign_in(page, base_url: str, username: str) -> None:
    response = page.goto(f"{base_url}/accounts/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def _live_days_from_the_backtest(champion: ModelVersion, *, days: int) -> list[Forecast]:
    """The champion's (and its naive baseline's) last `days` scored backtest forecasts stored again as live ones:
    a live record with real bands on real closes, scored as the scoring step would have scored them."""
    live = []
    naive = model_version_naive_baseline(champion=champion)  # the champion itself when naive won
    for version in dict.fromkeys(v for v in (champion, naive) if v is not None):
        rows = list(Forecast.objects.filter(model_version=version, kind="backtest").order_by("-target_date")[:days])
        for row in rows:
            row.pk, row.kind = None, Forecast.Kind.LIVE
        Forecast.objects.bulk_create(rows)
        if version == champion:
            live = rows
    return live


def _drawn(page, selector: str, trace_name: str) -> list:
    """The y values Plotly drew for one trace of a chart."""
    return page.evaluate(
        "([selector, name]) => document.querySelector(selector).data.find(t => t.name === name).y",
        [selector, trace_name],
    )


def _chart_points(page, selector: str = "#dashboard-chart .chart") -> int:
    page.wait_for_selector(f'{selector}[data-chart-ready="true"]', timeout=20_000)
    return int(page.get_attribute(selector, "data-points"))


def test_dashboard_chart_range_switch_and_a_tuning_run_watched_to_the_end(
    browser, live_server, champion_with_forecast, settings, tmp_path
):
    settings.TRAINING_EAGER_IN_THREAD = True  # a run started from the page executes in the server's thread
    live = _live_days_from_the_backtest(champion_with_forecast.model_version, days=20)
    engineer = MLEngineerFactory()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = Problems(page)

    # Sign in and read the forecast card.
    _sign_in(page, live_server.url, engineer.username)
    price = page.text_content("[data-testid=predicted-close]").strip()
    assert re.fullmatch(r"\$\d{1,3}(,\d{3})*\.\d{2}", price), price
    assert price == f"${champion_with_forecast.predicted_close:,.2f}"
    assert page.text_content("[data-testid=forecast-kind]").strip() == "Late"
    assert "S&P 500 close for 2025-09-25 not stored yet" in page.text_content("[data-testid=missing-bars]")

    # The chart is drawn with the history and the backtest.
    points_3m = _chart_points(page)
    assert points_3m > 100

    # A range switch swaps the chart in place: no page load, a new URL, a different number of points.
    page.evaluate("window.__marker = 1")
    page.click("#dashboard-chart nav >> text=1Y")
    page.wait_for_function(
        """(before) => {
            const el = document.querySelector('#dashboard-chart .chart');
            return el && el.dataset.chartReady === 'true' && Number(el.dataset.points) !== before;
        }""",
        arg=points_3m,
        timeout=20_000,
    )
    assert page.evaluate("window.__marker") == 1
    assert "range=1Y" in page.url
    assert _chart_points(page) > points_3m
    assert page.get_attribute("#dashboard-chart nav >> text=1Y", "aria-current") == "true"
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

    # Back restores the 3M chart (from the server: the chart region opts out of htmx's snapshot cache).
    page.go_back()
    page.wait_for_function(
        """(expected) => {
            const el = document.querySelector('#dashboard-chart .chart');
            return el && el.dataset.chartReady === 'true' && Number(el.dataset.points) === expected;
        }""",
        arg=points_3m,
        timeout=20_000,
    )
    assert "range=1Y" not in page.url
    assert page.evaluate("window.__marker") == 1

    # The accuracy card says whether the live bands held, and draws observed vs nominal coverage per regime.
    held = {key: sum(bool(getattr(row, f"inside_{key}")) for row in live) for key in ("80", "95")}
    sentence = page.text_content("[data-testid=bands-held]").strip()
    assert sentence == f"The 80% band held on {held['80']} of the last 20 days (95%: {held['95']} of 20).", sentence
    calibration = "#dashboard-accuracy .chart[data-chart-source=calibration-chart]"
    assert _chart_points(page, calibration) == 12  # 80% and 95% bars and nominal lines over three regimes
    by_regime = forecast_accuracy(window=20)["bands"]["by_regime"]
    observed_80 = [round(by_regime[r]["coverage_80"] * 100, 1) for r in REGIMES]
    assert _drawn(page, calibration, "80% band: observed") == observed_80
    assert "last 20 live days" in page.text_content("[data-testid=calibration-note]")

    # The accuracy tabs swap too: 20 live days are too few for the 60-day window, so the chart shows the test's.
    page.click("#dashboard-accuracy nav >> text=Last 60")
    page.wait_for_selector('#dashboard-accuracy a[aria-current="true"]:has-text("Last 60")')
    assert page.evaluate("window.__marker") == 1
    assert page.text_content("[data-testid=bands-held]").strip().startswith("Only 20 scored live days so far")
    assert "walk-forward test's coverage per regime" in page.text_content("[data-testid=calibration-note]")
    _chart_points(page, calibration)
    test_regimes = champion_with_forecast.model_version.test_metrics["coverage_by_regime"]
    assert _drawn(page, calibration, "95% band: observed") == [
        round(test_regimes[r]["coverage_95"] * 100, 1) for r in REGIMES
    ]

    # So does the forecast table's pagination.
    page.click("#dashboard-forecasts >> text=Older →")
    page.wait_for_selector("#dashboard-forecasts .pagination__status:has-text('Page 2 of')")
    assert page.evaluate("window.__marker") == 1

    # Phone width: the same page, stacked.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    phone.add_cookies(context.cookies())
    phone_page = phone.new_page()
    phone_problems = Problems(phone_page)
    phone_page.goto(f"{live_server.url}/")
    _chart_points(phone_page)
    phone_page.screenshot(path=str(tmp_path / "dashboard-phone.png"), full_page=True)
    page_width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= 390, f"the phone page scrolls sideways ({page_width}px)"

    # The card says how the champion stands against naive, in words.
    page.goto(f"{live_server.url}/")
    sentence = page.text_content("[data-testid=champion-evidence]")
    assert "'tomorrow = today'" in sentence and re.search(r"p (=|<) \d", sentence), sentence

    # The models page is the run's leaderboard: every candidate, its fold bars and a verdict.
    page.goto(f"{live_server.url}/models/")
    board = page.locator("[data-testid=leaderboard]")
    kinds = board.locator("tbody tr[data-architecture]").evaluate_all("rows => rows.map(r => r.dataset.architecture)")
    assert kinds == ["naive", "drift", "mlp"]
    band_rows = board.locator("[data-testid=band-leaderboard] tr[data-band-row]")
    assert band_rows.evaluate_all("rows => rows.map(r => r.dataset.bandRow)") == [
        f"{kind}-{window}" for kind in kinds for window in ("cv", "test")
    ]
    assert " vs naive " in board.locator("tr[data-band-row=mlp-test]").text_content()
    verdicts = [v.strip() for v in board.locator("[data-testid=verdict]").all_text_contents()]
    assert verdicts[0] == "the baseline"
    for verdict in verdicts[1:]:
        assert re.fullmatch(r"(beats naive|no evidence it beats naive) \(p (=|<) [\d.]+\)", verdict), verdict
    assert board.locator("tr[data-architecture=mlp] .fold-bars__fold").count() == 5
    assert board.locator("tr.is-highlighted [data-testid=champion-how]").text_content().strip() == "chosen by the rule"
    page.screenshot(path=str(tmp_path / "models.png"), full_page=True)

    # The champion's page draws its backtest.
    page.click("[data-testid=leaderboard] tr.is-highlighted a >> nth=0")
    assert _chart_points(page, ".chart[data-chart-source=backtest-chart]") > 100
    page.screenshot(path=str(tmp_path / "model-detail.png"), full_page=True)

    # The MLP's page draws its cumulative edge over naive: exactly the stored CV and test days, ending where they sum.
    mlp = ModelVersion.objects.get(training_run=champion_with_forecast.model_version.training_run, architecture="mlp")
    series = model_version_edge_series(version=mlp)
    page.goto(f"{live_server.url}/models/")
    page.click("[data-testid=leaderboard] tr[data-architecture=mlp] a >> nth=0")
    edge_chart = ".chart[data-chart-source=edge-chart]"
    assert _chart_points(page, edge_chart) == len(series.points) > 500
    drawn_last = page.evaluate(
        f"() => {{ const d = document.querySelector('{edge_chart}').data; return d[d.length - 1].y.at(-1); }}"
    )
    assert drawn_last == round(series.points[-1].cumulative, 2)
    assert page.locator(f"{edge_chart} .shapelayer path").count() >= 5  # fold, test and refit lines
    page.screenshot(path=str(tmp_path / "model-edge.png"), full_page=True)

    # A tuning run with one trial, started from the page and watched by polling until it succeeds.
    page.goto(f"{live_server.url}/training/")
    page.fill("input[name=trials]", "1")
    page.click("button:has-text('Tune now')")
    page.wait_for_url(f"{live_server.url}/training/")
    status = page.locator(".run-status").first
    run_id = re.search(r"run-(\d+)-status", status.get_attribute("id")).group(1)
    polls: list[float] = []
    page.on(
        "request",
        lambda request: polls.append(time.monotonic()) if f"/training/runs/{run_id}/" in request.url else None,
    )
    page.wait_for_selector('[data-run-status="running"], [data-run-status="succeeded"]', timeout=30_000)
    page.wait_for_selector(f'#run-{run_id}-status [data-run-status="succeeded"]', timeout=TRAINING_WAIT_S * 1000)
    assert polls, "the page never polled the run"
    assert page.get_attribute(f"#run-{run_id}-status progress", "value") == "100"
    page.wait_for_selector(f'#training-runs a[href="/training/runs/{run_id}/"]')
    page.wait_for_function(
        "() => document.querySelector('#training-runs tbody tr .badge').textContent.trim() === 'Succeeded'"
    )
    polls_at_end = len(polls)
    page.wait_for_timeout(4_500)
    assert len(polls) == polls_at_end, "polling went on after the run ended"
    page.screenshot(path=str(tmp_path / "training.png"), full_page=True)
    for name, path in (("training", "/training/"), ("models", "/models/")):
        phone_page.goto(f"{live_server.url}{path}")
        phone_page.screenshot(path=str(tmp_path / f"{name}-phone.png"), full_page=True)
        page_width = phone_page.evaluate("document.documentElement.scrollWidth")
        assert page_width <= 390, f"the phone {name} page scrolls sideways ({page_width}px)"

    assert problems.errors == []
    assert phone_problems.errors == []
    phone.close()
    context.close()


def test_swagger_ui_works_under_the_content_security_policy(browser, live_server, transactional_db):
    """Swagger UI's bundle and CSS from drf-spectacular-sidecar, its settings loaded as a script: no inline code."""
    staff = StaffUserFactory()
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    problems = Problems(page)
    _sign_in(page, live_server.url, staff.username)

    response = page.goto(f"{live_server.url}/api/docs/")

    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_text_contents()
    assert "/api/forecasts/latest/" in [path.strip() for path in paths]
    assert problems.errors == []
