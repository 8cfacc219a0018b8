"""The cost of displacement and of the briefing pack, beside the target list in the same run.

Usage::

    python benchmarks/briefing.py [--young-people 10000] [--seed 1] [--tmp DIR] [--json FILE]

A month-sequence town (:func:`graphguard.meeting.months.write_months`, about ten links
per young person) is written into ``DIR/months-<size>-seed<seed>``, or reused when that
folder holds one, and read once into the embedded store.  A closure notice against
the network's flat, from the day it closed, is kept in a private meeting state.  Then,
in the same process:

``baseline``
    The disruption target list of the last month's picture
    (:func:`graphguard.targets.build_target_list`): what the pack's top targets cost on
    their own.
``displacement``
    :func:`graphguard.meeting.displacement.displacement` of the closure (three exposure
    analyses: the concern at the end, the window before, the window after).
``briefing``
    :func:`graphguard.meeting.briefing.build_briefing` (every section, the target list
    and the displacement included) and :func:`graphguard.meeting.pdf.render_briefing`,
    with the number of pages and bytes of the PDF.

Wall and CPU time (``time.process_time``) are printed for each, with the ratio to the
baseline; peak memory is the process's ``ru_maxrss``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> dict[str, float]:
    wall, cpu = _clock()
    return {"seconds": round(wall - start[0], 3), "cpu_seconds": round(cpu - start[1], 3)}


def _peak_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def measure(young_people: int, seed: int, tmp: Path) -> dict[str, Any]:
    """Write or reuse the town, then time the baseline, displacement and the pack."""
    os.environ["GRAPHGUARD_HOME"] = tempfile.mkdtemp(prefix="briefing-bench-home-")
    from graphguard.analysis.options import AnalysisOptions
    from graphguard.meeting.actions import Action
    from graphguard.meeting.briefing import build_briefing
    from graphguard.meeting.displacement import displacement
    from graphguard.meeting.months import read_months, write_months
    from graphguard.meeting.pdf import render_briefing
    from graphguard.meeting.state import MeetingState
    from graphguard.store import MemoryStore
    from graphguard.targets import build_target_list

    folder = tmp / f"months-{young_people}-seed{seed}"
    if not (folder / "months.json").exists():
        write_months(folder, young_people, seed)
    truth = read_months(folder)
    store = MemoryStore.from_path(folder)
    graph = store.graph()
    key = b"b" * 32
    as_of = truth.dates()[-1]
    action = Action(
        "ACT-0001",
        truth.closed,
        "location",
        "the flat",
        "closure_asb",
        "police",
        "benchmark",
        dt.date.fromisoformat(truth.closed_on),
        truth.dates()[2],
    )
    state = MeetingState.open(store)
    state.put("action", action.id, action.as_record())
    options = AnalysisOptions(as_of=as_of)
    figures: dict[str, Any] = {"links": graph.number_of_edges(), "young_people": young_people}

    start = _clock()
    targets = build_target_list(graph, key=key, options=options)
    figures["baseline"] = {**_since(start), "targets": len(targets.rows)}

    start = _clock()
    found = displacement(graph, action, key=key, end=as_of, options=options)
    figures["displacement"] = {**_since(start), "verdict": found.verdict}

    start = _clock()
    pack = build_briefing(graph, state, key=key, as_of=as_of)
    data, pages = render_briefing(pack)
    figures["briefing"] = {**_since(start), "pages": pages, "bytes": len(data)}
    base = figures["baseline"]["seconds"] or 1e-9
    base_cpu = figures["baseline"]["cpu_seconds"] or 1e-9
    for name in ("displacement", "briefing"):
        figures[name]["ratio_to_baseline"] = round(figures[name]["seconds"] / base, 2)
        figures[name]["cpu_ratio"] = round(figures[name]["cpu_seconds"] / base_cpu, 2)
    figures["peak_mb"] = round(_peak_mb(), 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--young-people", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tmp", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    args = parser.parse_args()
    figures = measure(args.young_people, args.seed, args.tmp)
    print(f"town: {figures['young_people']} young people, {figures['links']} links")
    for name in ("baseline", "displacement", "briefing"):
        row = figures[name]
        extra = {k: v for k, v in row.items() if k not in ("seconds", "cpu_seconds")}
        print(
            f"{name:>13}: {row['seconds']:8.2f} s wall, {row['cpu_seconds']:8.2f} s CPU  "
            + "  ".join(f"{k}={v}" for k, v in extra.items())
        )
    print(f"peak memory: {figures['peak_mb']} MB")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
