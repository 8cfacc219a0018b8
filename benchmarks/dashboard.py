"""How fast the dashboard renders, cold and after a restart, on towns of 106k and 1M links.

Usage::

    python benchmarks/dashboard.py [--young-people 10000 100000] [--seed 1] [--tmp DIR]
                                   [--skip PAGE ...] [--no-demo] [--browser] [--json FILE]

For each dataset — the bundled demo (``fixtures/demo``) and synthetic towns written
by :func:`graphguard.synth.write_town` into ``DIR/town-<n>-seed<seed>`` (reused when
complete; 10,000 young people give about 106k links, 100,000 about 1.06M) — fresh
Python processes drive the real ``dashboards/app.py`` with Streamlit's ``AppTest``,
each dataset with a state home of its own, emptied first, and time, in seconds:

``streamlit start``
    Streamlit's own start in a new process (a script that only imports it: it scans
    the installed packages for components, as the server does when it starts);
``cold``
    the first render of Overview with nothing cached: reading the data, the graph,
    the analysis, and writing the analysis cache (one process, which then exits);
``after restart``
    the first render of Overview in a new process: the analysis cache read from
    the state home (the target is under 5 s at 1M links);
``overview cached``
    Overview rendered again once everything is in memory;
``<page> first`` / ``<page> again``
    each page's first visit and a second visit (cached);
interactions
    focusing the network on the top adult, picking another hub, another peer group,
    another context, drawing only adults and places, the timeline by agency (the
    target is under 1 s each).

``cache MB`` is the size of the cache entry, and ``after restart / cold`` the ratio of
the two first renders in the same run.  The Disruption planner and young people's
names read the data itself (they are not in the cache), so its first visit after a
restart reads and analyses the town again (``benchmarks/disruption.py`` measures that
analysis; ``--skip disruption`` leaves the page out where it would take too long).

These are server-side times: the script run that produces the page, which is what an
analyst waits for before the browser paints.  ``--browser`` also starts the real
server and times, in Debian's headless Chromium, the Overview page until it has
rendered and the Network page until vis-network has drawn and laid out its canvas.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboards" / "app.py"
DEMO = ROOT / "fixtures" / "demo"
PAGES = ("network", "groups", "hubs", "contexts", "timeline", "disruption", "cypher")


def _timed(results: dict[str, float], name: str, action: Any) -> Any:
    start = time.perf_counter()
    value = action()
    results[name] = round(time.perf_counter() - start, 3)
    failures = [e.value for e in value.exception] + [e.value for e in value.error]
    if failures:
        raise SystemExit(f"{name}: the page failed: {failures[0]}")
    return value


def _environment(dataset: Path) -> None:
    os.environ["GRAPHGUARD_DATASET"] = str(dataset)
    for name in ("NEO4J_URI", "NEO4J_USERNAME", "NEO4J_PASSWORD", "NEO4J_DATABASE"):
        os.environ.pop(name, None)


def _streamlit_started(times: dict[str, float]) -> None:
    """Streamlit's own start (its first script run scans every installed package for
    components, as the server does when it starts): timed apart from the dashboard's."""
    from streamlit.testing.v1 import AppTest

    _timed(times, "streamlit start", AppTest.from_string("import streamlit").run)


def measure_cold(dataset: Path) -> dict[str, Any]:
    """Time the first render with nothing cached (the cache is written on the way)."""
    _environment(dataset)
    from streamlit.testing.v1 import AppTest

    times: dict[str, float] = {}
    _streamlit_started(times)
    _timed(times, "cold", AppTest.from_file(str(APP), default_timeout=3600).run)
    return times


def measure_app(dataset: Path, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Time the first render after a restart, every page and the main interactions."""
    _environment(dataset)
    from streamlit.testing.v1 import AppTest

    times: dict[str, float] = {}
    _streamlit_started(times)
    at = AppTest.from_file(str(APP), default_timeout=3600)
    _timed(times, "after restart", at.run)
    _timed(times, "overview cached", at.run)
    for page in PAGES:
        if page in skip:
            continue
        at.switch_page(f"views/{page}.py")
        _timed(times, f"{page} first", at.run)
        _timed(times, f"{page} again", at.run)
        if page == "network":
            top_hub = at.selectbox(key="network_focus").options[0]
            at.selectbox(key="network_focus").set_value(top_hub.split(" ")[0])
            _timed(times, "network: focus on the top adult", at.run)
            at.selectbox(key="network_focus").set_value(None)
            at.multiselect(key="network_kinds").set_value(["adult", "location"])
            _timed(times, "network: adults and places only", at.run)
            at.multiselect(key="network_kinds").set_value(
                ["young_person", "adult", "location", "vehicle"]
            )
            at.run()
        elif page == "hubs":
            second = at.selectbox(key="hub_pick").options[1]
            at.selectbox(key="hub_pick").set_value(second.split(" ")[1])
            _timed(times, "hubs: pick the second adult", at.run)
        elif page == "groups":
            groups = at.selectbox(key="group_pick")
            groups.set_value(groups.options[1].split(" ")[0])
            _timed(times, "groups: pick the second group", at.run)
        elif page == "contexts":
            second = at.selectbox(key="context_pick").options[1]
            at.selectbox(key="context_pick").set_value(second.split(" ")[1])
            _timed(times, "contexts: pick the second context", at.run)
        elif page == "timeline":
            at.radio(key="timeline_by").set_value("agency")
            _timed(times, "timeline: by agency", at.run)
    at.switch_page("views/overview.py")
    _timed(times, "overview after everything", at.run)
    return times


def measure_browser(dataset: Path) -> dict[str, Any]:
    """Time the real server in headless Chromium: Overview rendered, Network drawn."""
    from playwright.sync_api import sync_playwright

    from graphguard.cli.dashboard import streamlit_command
    from graphguard.neo4j_local import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env["GRAPHGUARD_DATASET"] = str(dataset)
    server = subprocess.Popen(
        streamlit_command(APP, port, headless=True, address="127.0.0.1"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    times: dict[str, float] = {}
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--no-first-run",
                      "--disable-quic"],
            )  # fmt: skip
            page = browser.new_page(viewport={"width": 1440, "height": 1100})
            page.set_default_timeout(1_800_000)
            for name, path in (("overview after restart", ""), ("overview cached", "")):
                start = time.perf_counter()
                page.goto(f"{url}/{path}")
                page.get_by_role("heading", name="Overview", exact=True).wait_for()
                page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
                page.get_by_text("Highest-scoring adults").wait_for()
                times[name] = round(time.perf_counter() - start, 3)
            for name in ("network first (drawn and laid out)", "network cached (drawn again)"):
                start = time.perf_counter()
                page.goto(f"{url}/network")
                frame = page.frame_locator('iframe[title="network drawing"]')
                frame.locator('body[data-graph-stable="1"]').wait_for(state="attached")
                times[name] = round(time.perf_counter() - start, 3)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return times


def _links(dataset: Path) -> int:
    """Links in a dataset: its links.csv's rows (every row of these towns is valid)."""
    with open(dataset / "links.csv", "rb") as handle:
        return sum(1 for _ in handle) - 1


def _town(tmp: Path, young_people: int, seed: int) -> Path:
    from graphguard.synth import write_town

    folder = tmp / f"town-{young_people}-seed{seed}"
    if not (folder / "truth.json").exists():
        write_town(folder, young_people, seed)
    return folder


def _child(mode: str, dataset: Path, home: Path, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    env = dict(os.environ, GRAPHGUARD_HOME=str(home), GRAPHGUARD_BENCH_SKIP=",".join(skip))
    output = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(dataset)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def _measure(dataset: Path, home: Path, browser: bool, skip: tuple[str, ...]) -> dict[str, Any]:
    """Cold, then after a restart, in fresh processes sharing one emptied state home."""
    from graphguard.viewcache import CACHE_FOLDER

    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(mode=0o700, parents=True)
    times = _child("cold", dataset, home)
    cached = sorted((home / CACHE_FOLDER).glob("*.digest"))
    times |= _child("app", dataset, home, skip)
    times["after restart / cold"] = round(times["after restart"] / times["cold"], 3)
    times["cache MB"] = round(sum(p.stat().st_size for p in cached) / 1e6, 1)
    entry: dict[str, Any] = {"app": times}
    if browser:
        entry["browser"] = _child("browser", dataset, home)
    return entry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--young-people", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tmp", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--skip", nargs="+", default=[], choices=PAGES, help="pages not visited")
    parser.add_argument("--no-demo", action="store_true", help="only the synthetic towns")
    parser.add_argument("--browser", action="store_true", help="also time headless Chromium")
    parser.add_argument("--json", type=Path, help="write the figures to this file too")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "DATASET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, dataset = args.child
        skip = frozenset(filter(None, os.environ.get("GRAPHGUARD_BENCH_SKIP", "").split(",")))
        if mode == "app":
            print(json.dumps(measure_app(Path(dataset), skip)))
        else:
            measure = measure_cold if mode == "cold" else measure_browser
            print(json.dumps(measure(Path(dataset))))
        return

    datasets = {} if args.no_demo else {"demo": DEMO}
    for size in args.young_people:
        datasets[f"town {size:,}"] = _town(args.tmp, size, args.seed)
    figures: dict[str, Any] = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs"}
    for number, (label, dataset) in enumerate(datasets.items()):
        home = args.tmp / f"dashboard-home-{number}"
        entry = _measure(dataset, home, args.browser, tuple(args.skip))
        entry["links"] = _links(dataset)
        figures[label] = entry
        print(f"{label}: {json.dumps(entry)}", file=sys.stderr, flush=True)

    names = list(dict.fromkeys(n for label in datasets for n in figures[label]["app"]))
    width = max(len(n) for n in names) + 2
    print(f"{'seconds (AppTest)':<{width}}" + "".join(f"{label:>16}" for label in datasets))
    print(f"{'links':<{width}}" + "".join(f"{figures[d]['links']:>16,}" for d in datasets))
    for name in names:
        cells = (figures[d]["app"].get(name) for d in datasets)
        row = "".join(f"{c:>16.3f}" if c is not None else f"{'-':>16}" for c in cells)
        print(f"{name:<{width}}{row}")
    if args.browser:
        print(f"\n{'seconds (Chromium)':<{width}}")
        for name in figures[next(iter(datasets))]["browser"]:
            row = "".join(f"{figures[d]['browser'][name]:>16.3f}" for d in datasets)
            print(f"{name:<{width}}{row}")
    print(f"\n{figures['machine']}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
