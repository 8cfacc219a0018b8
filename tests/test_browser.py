"""The real dashboard in a real headless Chromium (Debian's), driven by Playwright.

Starts ``python -m streamlit run dashboards/app.py`` on a free loopback port on the
demo town, visits Overview, Network, Hubs and the Disruption planner, waits for
vis-network to draw its canvas inside the iframe, and saves screenshots to
``tests/screenshots/``.  Every request the browser makes must stay on 127.0.0.1:
the dashboard works offline.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graphguard.cli.dashboard import streamlit_command
from graphguard.neo4j_local import free_port

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboards" / "app.py"
SHOTS = ROOT / "tests" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
_PAGE_FAILURES = ("Traceback", "Something went wrong on this page")


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"streamlit exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"streamlit did not come up: {log.read_text(errors='replace')[-2000:]}")


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard served on the demo town at http://127.0.0.1:<free port>."""
    home = tmp_path_factory.mktemp("dashboard-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env.update(
        GRAPHGUARD_DATASET=str(ROOT / "fixtures" / "demo"),
        GRAPHGUARD_HOME=str(home),
        STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
    )
    port = free_port()
    log = home / "streamlit.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            streamlit_command(APP, port, headless=True, address="127.0.0.1"),
            env=env,
            cwd=home,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, dashboard_url: str) -> Iterator[Any]:
    """A fresh tab that records every request leaving for another host."""
    context = browser.new_context(viewport={"width": 1440, "height": 1100})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    elsewhere: list[str] = []

    def watch(request: Any) -> None:
        if not request.url.startswith((dashboard_url, "data:", "blob:", "about:")):
            elsewhere.append(request.url)

    tab.on("request", watch)
    tab.elsewhere = elsewhere
    try:
        yield tab
    finally:
        context.close()


def _open(page: Any, url: str, heading: str) -> None:
    page.goto(url)
    page.get_by_role("heading", name=heading, exact=True).first.wait_for()
    page.wait_for_selector(
        '[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120_000
    )


def _wait_for_text(page: Any, *phrases: str) -> str:
    """The page's text once every phrase is on it (a page may rerun after it first settles)."""
    for phrase in phrases:
        page.wait_for_function(
            "phrase => document.body.innerText.includes(phrase)", arg=phrase, timeout=120_000
        )
    return str(page.inner_text("body"))


def _assert_page_is_fine(page: Any) -> None:
    text = page.inner_text("body")
    for failure in _PAGE_FAILURES:
        assert failure not in text, text[:2000]
    assert page.locator('[data-testid="stException"]').count() == 0
    assert not page.elsewhere, f"requests left the machine: {page.elsewhere[:5]}"


def _wait_for_drawing(page: Any, title: str) -> dict[str, float]:
    """Wait until vis-network has drawn and laid out its canvas; return its size and ink."""
    page.locator(f'iframe[title="{title}"]').wait_for()
    drawing = page.frame_locator(f'iframe[title="{title}"]')
    drawing.locator('body[data-graph-drawn="1"]').wait_for(state="attached", timeout=60_000)
    drawing.locator('body[data-graph-stable="1"]').wait_for(state="attached", timeout=90_000)
    canvas = drawing.locator("#mynetwork canvas")
    box = canvas.bounding_box()
    assert box is not None
    ink = canvas.evaluate(
        """canvas => {
            const data = canvas.getContext("2d").getImageData(
                0, 0, canvas.width, canvas.height).data;
            let inked = 0;
            for (let i = 0; i < data.length; i += 4) {
                if (data[i + 3] > 0 && (data[i] < 235 || data[i + 1] < 235 || data[i + 2] < 235))
                    inked++;
            }
            return inked / (data.length / 4);
        }"""
    )
    return {"width": box["width"], "height": box["height"], "ink": float(ink)}


def _shoot(page: Any, name: str, element: str | None = None) -> Path:
    """Screenshot the page as it stands, or one element of it scrolled into view."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.wait_for_timeout(600)  # let the last paint settle
    if element is None:
        page.screenshot(path=str(path))
    else:
        target = page.locator(element)
        target.scroll_into_view_if_needed()
        target.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    return path


def test_overview_shows_the_data(page: Any, dashboard_url: str) -> None:
    _open(page, dashboard_url, "Overview")
    _shoot(page, "overview")
    body = page.inner_text("body")
    for words in ("Young people", "785", "Backend:", "embedded", "Every row was accepted."):
        assert words in body, body[:3000]
    _assert_page_is_fine(page)


def test_network_draws_the_graph(page: Any, dashboard_url: str) -> None:
    _open(page, f"{dashboard_url}/network", "Network")
    drawn = _wait_for_drawing(page, "network drawing")
    assert drawn["width"] > 600 and drawn["height"] > 400, drawn
    assert drawn["ink"] > 0.01, drawn
    legend = page.frame_locator('iframe[title="network drawing"]').locator("#gg-legend")
    assert "young person" in legend.inner_text()
    _shoot(page, "network")
    _shoot(page, "network-drawing", 'iframe[title="network drawing"]')
    _assert_page_is_fine(page)


def test_hubs_draw_the_focus_graph(page: Any, dashboard_url: str) -> None:
    _open(page, f"{dashboard_url}/hubs", "Hubs")
    assert "Callum Brackwater" in page.inner_text("body")
    drawn = _wait_for_drawing(page, "network around AD097")
    assert drawn["ink"] > 0.01, drawn
    _shoot(page, "hubs")
    _shoot(page, "hubs-focus", 'iframe[title="network around AD097"]')
    _assert_page_is_fine(page)


def test_disruption_planner_draws_the_plan(page: Any, dashboard_url: str) -> None:
    _open(page, f"{dashboard_url}/disruption", "Disruption planner")
    expected = ("The plan", "Total exposure now", "victim vacuum", "Target list")
    body = _wait_for_text(page, *expected)
    for words in expected:
        assert words in body, body[:3000]
    title = "the plan's targets and who they expose"
    drawn = _wait_for_drawing(page, title)
    assert drawn["ink"] > 0.01, drawn
    _shoot(page, "disruption")
    _shoot(page, "disruption-plan", f'iframe[title="{title}"]')
    page.get_by_role("heading", name="Target list").scroll_into_view_if_needed()
    _shoot(page, "disruption-targets")
    _assert_page_is_fine(page)


def test_groups_draw_the_chosen_group(page: Any, dashboard_url: str) -> None:
    _open(page, f"{dashboard_url}/groups", "Peer groups")
    assert "not surveillance" in page.inner_text("body")
    drawn = _wait_for_drawing(page, "peer group G01")
    assert drawn["ink"] > 0.01, drawn
    _shoot(page, "groups")
    _shoot(page, "groups-drawing", 'iframe[title="peer group G01"]')
    _assert_page_is_fine(page)


@pytest.mark.parametrize(
    ("path", "heading"), [("contexts", "Places and vehicles"), ("timeline", "Timeline")]
)
def test_charts_draw_offline(page: Any, dashboard_url: str, path: str, heading: str) -> None:
    _open(page, f"{dashboard_url}/{path}", heading)
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.locator("canvas, svg").first.wait_for()
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 200, box
    _shoot(page, path)
    _shoot(page, f"{path}-chart", '[data-testid="stVegaLiteChart"] >> nth=0')
    _assert_page_is_fine(page)


@pytest.fixture(scope="module", autouse=True)
def _fresh_screenshots() -> None:
    shutil.rmtree(SHOTS, ignore_errors=True)
