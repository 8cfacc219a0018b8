"""The cost of `graphguard changes` and `graphguard watch`, beside plain hubs in the same run.

Usage::

    python benchmarks/meeting.py [--young-people 100000] [--seed 1] [--tmp DIR] [--json FILE]

A month-sequence town (:func:`graphguard.meeting.months.write_months`: about ten
links per young person, so the default gives about a million links) is written into
``DIR/months-<size>-seed<seed>``, or reused when that folder holds one.  The dataset
is read once into the embedded store, then in the same process:

``baseline``
    The graph as of month 2 read from the store and the perpetrator-centred hubs
    scored on it: what every command that weighs evidence pays.
``watch``
    :func:`graphguard.meeting.watch.run_watch` over month 2 (the picture, the hubs for
    the adults of concern, the four rules in Python), nothing kept.
``changes``
    :func:`graphguard.meeting.changes.compare` of month 1 with month 2 (two pictures,
    each with hubs, contexts, peer groups and exposure), graphs read included.

Wall and CPU time (``time.process_time``) are printed for each, with the ratio of CPU
times to the baseline's (on a shared machine wall time mostly measures the
neighbours); peak memory is the process's ``ru_maxrss``.
"""

from __future__ import annotations

import argparse
import json
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


def _ratio(figures: dict[str, float], baseline: dict[str, float]) -> float:
    # CPU time: on a shared machine wall time mostly measures the neighbours.
    return round(figures["cpu_seconds"] / max(baseline["cpu_seconds"], 1e-9), 2)


def measure(young_people: int, seed: int, tmp: Path) -> dict[str, Any]:
    from graphguard.analysis.hubs import hubs_from_town
    from graphguard.analysis.options import AnalysisOptions
    from graphguard.meeting.changes import compare
    from graphguard.meeting.months import read_months, write_months
    from graphguard.meeting.watch import run_watch
    from graphguard.store import MemoryStore
    from graphguard.store.base import Filters

    folder = tmp / f"months-{young_people}-seed{seed}"
    if not (folder / "months.json").exists():
        start = _clock()
        write_months(folder, young_people, seed)
        print(f"wrote {folder} in {_since(start)['seconds']:.1f} s", file=sys.stderr)
    truth = read_months(folder)
    dates = truth.dates()
    start = _clock()
    store = MemoryStore.from_path(folder)
    read = _since(start)
    links = store.graph().number_of_edges()

    start = _clock()
    graph = store.graph(Filters(as_of=dates[2]))
    hubs = hubs_from_town(AnalysisOptions(as_of=dates[2]).town(graph))
    baseline = _since(start)

    start = _clock()
    run = run_watch(store, options=AnalysisOptions(as_of=dates[2]), since=dates[1], key=b"bench")
    watch = _since(start)

    start = _clock()
    report = compare(
        store.graph(Filters(as_of=dates[1])),
        store.graph(Filters(as_of=dates[2])),
        options=AnalysisOptions(),
        date_from=dates[1],
        date_to=dates[2],
        pseudonymise=lambda y: y,
    )
    changes = _since(start)
    return {
        "young_people": young_people,
        "links": links,
        "read": read,
        "baseline_hubs": baseline,
        "watch": {**watch, "x_baseline": _ratio(watch, baseline)},
        "changes": {**changes, "x_baseline": _ratio(changes, baseline)},
        "alerts": len(run.raised),
        "adults_of_concern": sum(h.concern for h in hubs),
        "moves": len(report.moves),
        "peak_mb": round(_peak_mb(), 1),
    }


def _times(figures: dict[str, float]) -> str:
    return f"{figures['seconds']:.1f} s ({figures['cpu_seconds']:.1f} s CPU)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--young-people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tmp", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    result = measure(args.young_people, args.seed, args.tmp)
    print(
        f"{result['links']:,} links ({result['young_people']:,} young people): read "
        f"{_times(result['read'])}; baseline (graph + hubs) {_times(result['baseline_hubs'])}; "
        f"watch {_times(result['watch'])} (x{result['watch']['x_baseline']}); "
        f"changes {_times(result['changes'])} (x{result['changes']['x_baseline']}); "
        f"{result['alerts']} alerts, "
        f"{result['moves']} moves; peak {result['peak_mb']:.0f} MB"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
