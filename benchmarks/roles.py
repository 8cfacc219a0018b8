"""What a role's view of the data costs, against analysing the same picture.

Usage::

    python benchmarks/roles.py [--young-people 3000] [--seed 1] [--tmp DIR] [--json FILE]

A synthetic town of ``--young-people`` young people is written with
:func:`graphguard.synth.write_town` into ``DIR/town-<n>-seed<seed>`` (or reused) and
read into a graph (not timed).  Timed, each alone, in CPU seconds of this process
(``time.process_time``):

``shareable``
    :func:`graphguard.privacy.role_view` for the disruption team's sight (handling
    code C withheld), which every command and page of that role reads first;
``own_agency``
    the same for a partner practitioner of the police;
``scrub``
    :func:`graphguard.privacy.scrub_graph`: every text of the graph scrubbed of young
    people's identifying values, as the dashboard's pages read it;
``analyse``
    the baseline: :func:`graphguard.analysis.analyse` of the whole picture, which
    every view costs anyway.

Printed: the town's size, each time, and each as a ratio to ``analyse`` (the share a
role's view adds to what a page or command costs in any case).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _town(tmp: Path, size: int, seed: int) -> Path:
    from graphguard.synth import write_town

    folder = tmp / f"town-{size}-seed{seed}"
    if not (folder / "links.csv").exists():
        print(f"writing a town of {size} young people into {folder} …", file=sys.stderr)
        write_town(folder, size, seed=seed)
    return folder


def _timed(work: Any) -> tuple[float, Any]:
    start = time.process_time()
    result = work()
    return time.process_time() - start, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--young-people", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tmp", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    args = parser.parse_args(argv)

    from graphguard.analysis import AnalysisOptions, analyse
    from graphguard.privacy import SHAREABLE, Sight, role_view, scrub_graph
    from graphguard.store.memory import MemoryStore

    graph = MemoryStore.from_path(_town(args.tmp, args.young_people, args.seed)).graph()
    codes = sum(1 for _, _, d in graph.edges(data=True) if d.get("handling") == "C")
    times: dict[str, float] = {}
    times["shareable"], shareable = _timed(lambda: role_view(graph, SHAREABLE))
    times["own_agency"], _ = _timed(lambda: role_view(graph, Sight(False, "police")))
    times["scrub"], _ = _timed(lambda: scrub_graph(graph))
    times["analyse"], _ = _timed(lambda: analyse(graph, AnalysisOptions()))
    figures = {
        "young_people": args.young_people,
        "nodes": graph.number_of_nodes(),
        "links": graph.number_of_edges(),
        "handling_c_links": codes,
        "shareable_links": shareable.number_of_edges(),
        "seconds": {k: round(v, 4) for k, v in times.items()},
        "ratio_to_analyse": {
            k: round(v / times["analyse"], 4) for k, v in times.items() if k != "analyse"
        },
        "python": platform.python_version(),
    }
    print(
        f"town: {args.young_people} young people, {figures['nodes']} entities, "
        f"{figures['links']} links ({codes} of handling code C)"
    )
    for name, seconds in times.items():
        ratio = "" if name == "analyse" else f"  ({seconds / times['analyse']:.3f} x analyse)"
        print(f"{name:>11}: {seconds:8.3f} s{ratio}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
