"""The real dashboard in a real headless Chromium (Debian's), driven by Playwright.

Starts ``python -m streamlit run dashboards/app.py`` on a free loopback port on the
demo town, visits Overview, Network, Hubs and the Disruption planner, waits for
vis-network to draw its canvas inside the iframe, and saves screenshots to
``tests/screenshots/``.  Every request the browser makes must stay on 127.0.0.1:
the dashboard works offline.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import re
import shutil
import struct
import subprocess
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graphguard.cli.dashboard import streamlit_command
from graphguard.neo4j_local import free_port
from tests.browsing import chromium, wait_healthy

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboards" / "app.py"
SHOTS = ROOT / "tests" / "screenshots"
_PAGE_FAILURES = ("Traceback", "Something went wrong on this page")



@contextlib.contextmanager
def _serve(dataset: Path, home: Path, **settings: str) -> Iterator[str]:
    """The dashboard served on ``dataset`` at http://127.0.0.1:<free port>."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "GRAPHGUARD_"))}
    env.update(
        GRAPHGUARD_DATASET=str(dataset),
        GRAPHGUARD_HOME=str(home),
        STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
        **settings,
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
        wait_healthy(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard served on the demo town at http://127.0.0.1:<free port>."""
    with _serve(ROOT / "fixtures" / "demo", tmp_path_factory.mktemp("dashboard-home")) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from chromium()


@contextlib.contextmanager
def _tab(browser: Any, url: str) -> Iterator[Any]:
    """A fresh tab that records every request leaving the dashboard at ``url``."""
    context = browser.new_context(viewport={"width": 1440, "height": 1100})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    elsewhere: list[str] = []

    def watch(request: Any) -> None:
        if not request.url.startswith((url, "data:", "blob:", "about:")):
            elsewhere.append(request.url)

    tab.on("request", watch)
    tab.elsewhere = elsewhere
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def page(browser: Any, dashboard_url: str) -> Iterator[Any]:
    """A fresh tab on the demo town's dashboard."""
    with _tab(browser, dashboard_url) as tab:
        yield tab


def _open(page: Any, url: str, heading: str) -> None:
    page.goto(url)
    page.get_by_role("heading", name=heading, exact=True).first.wait_for()
    page.wait_for_selector(
        '[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120_000
    )


def _wait_for_text(page: Any, *phrases: str, timeout_ms: int = 120_000) -> str:
    """The page's text once every phrase is on it (a page may rerun after it first settles)."""
    for phrase in phrases:
        page.wait_for_function(
            "phrase => document.body.innerText.includes(phrase)", arg=phrase, timeout=timeout_ms
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


def _legend_and_labels(page: Any, title: str) -> dict[str, float]:
    """Check the legend stands clear of the canvas; return the labels' on-screen size."""
    drawing = page.frame_locator(f'iframe[title="{title}"]')
    legend = drawing.locator("#gg-legend").bounding_box()
    canvas = drawing.locator("#mynetwork canvas").bounding_box()
    assert legend is not None and canvas is not None
    apart = (
        legend["x"] >= canvas["x"] + canvas["width"]
        or legend["x"] + legend["width"] <= canvas["x"]
        or legend["y"] >= canvas["y"] + canvas["height"]
        or legend["y"] + legend["height"] <= canvas["y"]
    )
    assert apart, f"the legend {legend} covers the drawing {canvas}"
    label = drawing.locator("body").evaluate(
        "body => Number(body.dataset.labelSize) * network.getScale()"
    )
    return {"label_px": float(label), "legend_width": legend["width"]}


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
    for chart in range(2):  # both bar charts painted before the picture is taken
        page.locator('[data-testid="stVegaLiteChart"]').nth(chart).locator(
            "canvas, svg"
        ).first.wait_for()
    page.locator('[data-testid="stDataFrame"]').first.locator("canvas").first.wait_for()
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
    _legend_and_labels(page, "network drawing")
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
    # Labels read at 12 px or more however far the layout had to zoom out to fit.
    assert _legend_and_labels(page, title)["label_px"] >= 12
    _shoot(page, "disruption")
    _shoot(page, "disruption-plan", f'iframe[title="{title}"]')
    page.get_by_role("heading", name="Target list").scroll_into_view_if_needed()
    _shoot(page, "disruption-targets")
    # The girl placed out of area: the conclusion comes first, in plain words.
    picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="Young person")
    picker.locator("input").click()
    page.keyboard.type("YP076")
    page.keyboard.press("Enter")
    _wait_for_text(page, "Do not move YP076 again", "already moved")
    page.get_by_role(
        "heading", name="Move the child, or disrupt the context?"
    ).scroll_into_view_if_needed()
    _shoot(page, "disruption-relocation")
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
    if path == "contexts":  # the map keeps its full frame, legends below it
        assert box["width"] >= 900 and box["height"] >= 460, box
    _shoot(page, path)
    _shoot(page, f"{path}-chart", '[data-testid="stVegaLiteChart"] >> nth=0')
    _assert_page_is_fine(page)


def test_hubs_find_an_adult_scoring_0_by_typing_her_name(page: Any, dashboard_url: str) -> None:
    _open(page, f"{dashboard_url}/hubs", "Hubs")
    picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="type a name or id")
    picker.locator("input").click()
    page.keyboard.type("Wrenfield")
    page.keyboard.press("Enter")
    body = _wait_for_text(page, "Jo Wrenfield (AD004)", "protective relationships")
    assert "supports 36 young people" in body
    _assert_page_is_fine(page)


def _names_switch(page: Any) -> Any:
    return page.locator('[data-testid="stSidebar"] input[type="checkbox"]').last


def test_filters_and_names_survive_a_reload(page: Any, dashboard_url: str) -> None:
    _open(page, f"{dashboard_url}/?area=Docklands&names=1", "Overview")
    names = _names_switch(page)
    assert names.is_checked()
    assert "Counts after the filters." in _wait_for_text(page, "Counts after the filters.")
    page.reload()
    page.get_by_role("heading", name="Overview", exact=True).first.wait_for()
    assert _names_switch(page).is_checked()
    assert "area=Docklands" in page.url and "names=1" in page.url
    _names_switch(page).click(force=True)
    page.wait_for_function("() => !location.search.includes('names=1')")
    assert "area=Docklands" in page.url
    _assert_page_is_fine(page)


# ------------------------------------------------------------------------------ matches


@pytest.fixture(scope="module")
def agencies_town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The dashboard on a copy of the multi-agency demo (a decision writes into it)."""
    copy = tmp_path_factory.mktemp("agencies") / "town"
    shutil.copytree(ROOT / "fixtures" / "demo-agencies", copy)
    with _serve(copy, tmp_path_factory.mktemp("agencies-home")) as url:
        yield url, copy


def test_matches_compares_two_records_and_records_a_decision(
    browser: Any, agencies_town: tuple[str, Path]
) -> None:
    url, town = agencies_town
    with _tab(browser, url) as page:
        _open(page, f"{url}/matches", "Matches")
        body = _wait_for_text(page, "Waiting for review", "The machine", "Pair to decide")
        decided = page.locator('[data-testid="stMetric"]').filter(has_text="Decided by analysts")
        before = int(re.sub(r"\D", "", decided.inner_text()))
        assert "Record the decision" in body
        page.locator('[data-testid="stDataFrame"]').nth(1).locator("canvas").first.wait_for()
        _shoot(page, "matches")
        page.get_by_text("different", exact=True).last.click()
        page.get_by_role("button", name="Record the decision").click()
        _wait_for_text(page, "Give a reason for the decision")
        assert not (town / "decisions.csv").exists() or "different" not in (
            town / "decisions.csv"
        ).read_text(encoding="utf-8")
        reason = page.get_by_label(re.compile("Reason"))
        reason.fill("two children in one class: different UPNs")
        page.get_by_text("different", exact=True).last.click()
        page.get_by_role("button", name="Record the decision").click()
        # The run that records it resolves the records again and analyses the new entities.
        _wait_for_text(page, "Recorded:", timeout_ms=600_000)
        page.wait_for_selector(
            '[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=300_000
        )
        assert int(re.sub(r"\D", "", decided.inner_text())) == before + 1
        written = (town / "decisions.csv").read_text(encoding="utf-8")
        assert "two children in one class: different UPNs" in written
        _shoot(page, "matches-decided")
        _assert_page_is_fine(page)


# ------------------------------------------------------------------------------ hostile text


def _png(width: int, height: int, pixel: Any) -> bytes:
    """A PNG, written by hand (no imaging library needed): ``pixel(x, y)`` is (r, g, b)."""
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _tile(column: int, row: int) -> bytes:
    """A test basemap tile: a chequer by tile, with a darker edge, so alignment shows."""
    shade = (236, 232, 222) if (column + row) % 2 else (222, 230, 236)
    return _png(256, 256, lambda x, y: (170, 170, 170) if x == 0 or y == 0 else shade)


class _Beacon(http.server.ThreadingHTTPServer):
    hits: list[str]


@pytest.fixture(scope="module")
def beacon() -> Iterator[tuple[str, list[str]]]:
    """A loopback web server counting every request: markup from the data points here.

    It also serves basemap tiles under ``/tiles/{z}/{x}/{y}.png``.
    """

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server = self.server
            assert isinstance(server, _Beacon)
            server.hits.append(self.path)
            tile = re.fullmatch(r"/tiles/\d+/(\d+)/(\d+)\.png", self.path)
            body = _tile(int(tile.group(1)), int(tile.group(2))) if tile else b"GIF89a"
            self.send_response(200)
            self.send_header("Content-Type", "image/png" if tile else "image/gif")
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = _Beacon(("127.0.0.1", 0), Handler)
    server.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.hits
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def hostile_url(
    tmp_path_factory: pytest.TempPathFactory, beacon: tuple[str, list[str]]
) -> Iterator[str]:
    """The dashboard on a town whose adults, places, references and notes are markup."""
    from tests.helpers import markup_town

    url, _ = beacon
    dataset = markup_town(
        ROOT / "fixtures" / "demo", tmp_path_factory.mktemp("markup"), f"{url}/beacon"
    )
    home = tmp_path_factory.mktemp("hostile-home")
    tiles = {
        "GRAPHGUARD_MAP_TILES": f"{url}/tiles/{{z}}/{{x}}/{{y}}.png",
        "GRAPHGUARD_MAP_ATTRIBUTION": "test tiles served on the loopback",
    }
    with _serve(dataset, home, **tiles) as served:
        yield served


_MARKUP_ELEMENTS = """() => {
    const found = [];
    for (const el of document.querySelectorAll("img, image, a, iframe, source, video, audio")) {
        const where = el.getAttribute("src") || el.getAttribute("href")
            || el.getAttribute("xlink:href") || "";
        // A heading's own anchor ("#slug") stays on the page; anything else is not ours.
        if (where.includes("beacon") && !where.startsWith("#"))
            found.push(el.outerHTML.slice(0, 200));
    }
    for (const el of document.querySelectorAll("b")) {
        if (/AD\\d{3}|LOC\\d{3}/.test(el.textContent)) found.push(el.outerHTML.slice(0, 200));
    }
    return found;
}"""


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("", "Overview"),
        ("hubs", "Hubs"),
        ("contexts", "Places and vehicles"),
        ("network", "Network"),
        ("groups", "Peer groups"),
        ("disruption", "Disruption planner"),
    ],
)
def test_markup_in_the_data_is_shown_as_text(
    browser: Any, hostile_url: str, beacon: tuple[str, list[str]], path: str, heading: str
) -> None:
    _, hits = beacon
    with _tab(browser, hostile_url) as tab:
        _open(tab, f"{hostile_url}/{path}", heading)
        frames = tab.locator("iframe")
        for index in range(frames.count()):
            title = frames.nth(index).get_attribute("title")
            if title:
                _wait_for_drawing(tab, title)
        tab.wait_for_timeout(1500)  # let any image a page asked for be fetched
        built = [item for frame in tab.frames for item in frame.evaluate(_MARKUP_ELEMENTS)]
        assert not built, built[:3]
        fetched = [hit for hit in hits if not hit.startswith("/tiles/")]
        assert not fetched, f"the browser fetched what the data pointed at: {fetched[:5]}"
        elsewhere = [u for u in tab.elsewhere if "/tiles/" not in u]
        assert not elsewhere, f"requests left the dashboard: {elsewhere[:5]}"
        if path in ("", "hubs", "contexts"):
            assert "/beacon/" in tab.inner_text("body")  # there, as text
        if path == "hubs":
            _shoot(tab, "hostile-hubs")


def test_a_configured_basemap_is_drawn_under_the_map(
    browser: Any, hostile_url: str, beacon: tuple[str, list[str]]
) -> None:
    _, hits = beacon
    with _tab(browser, hostile_url) as tab:
        _open(tab, f"{hostile_url}/contexts", "Places and vehicles")
        chart = tab.locator('[data-testid="stVegaLiteChart"]').first
        chart.locator("canvas, svg").first.wait_for()
        tab.wait_for_function(
            "() => document.body.innerText.includes('test tiles served on the loopback')"
        )
        deadline = time.monotonic() + 30
        while not any(hit.startswith("/tiles/") for hit in hits) and time.monotonic() < deadline:
            tab.wait_for_timeout(250)
        tiles = sorted({hit for hit in hits if hit.startswith("/tiles/")})
        assert len(tiles) >= 4, tiles  # the frame is covered, not one tile
        assert len({hit.split("/")[2] for hit in tiles}) == 1  # one zoom level
        _shoot(tab, "contexts-basemap", '[data-testid="stVegaLiteChart"] >> nth=0')


@pytest.fixture(scope="module", autouse=True)
def _fresh_screenshots() -> None:
    shutil.rmtree(SHOTS, ignore_errors=True)
