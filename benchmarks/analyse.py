"""How fast graphguard analyses a town, beside exact NetworkX betweenness in the same run.

Usage::

    python benchmarks/analyse.py [--sizes 1000,10000,100000] [--tmp DIR] [--seed 1] [--json FILE]

For each size (young people) a synthetic town is written with
:func:`graphguard.synth.write_town` into ``DIR/town-<size>-seed<seed>`` (about ten
links per young person, so the default sizes give about 10k, 100k and 1M links), or
reused when that folder already holds a complete town of that size and seed (the
same folders ``benchmarks/ingest.py`` uses).  Each measurement runs in a fresh
Python process, so none inherits another's memory:

``analyse``
    ``MemoryStore.from_path`` builds the graph (timed on its own as ``build``), then
    :func:`graphguard.analysis.analyse` runs every step (hubs, contexts, peer groups,
    measures; each step's time is reported) and :func:`write_outputs` writes the
    five files (``write``).
``baseline``
    On the smallest town only: ``nx.betweenness_centrality`` of its simple
    undirected graph, exact, as NetworkX computes it, beside graphguard's own exact
    betweenness and closeness of the same graph.

Wall time and CPU time (``time.process_time``) are measured inside the child around
each call; on a shared machine CPU time is the steadier figure.  Peak memory is the
child's peak resident set size (``ru_maxrss``), graph included.  ``x build`` is the
analysis time divided by the graph-build time of the same town in the same run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DEFAULT_SIZES = (1000, 10_000, 100_000)
AIMS = {100_000: 10.0, 1_000_000: 120.0}  # links → seconds of analysis the issue aims for


def _peak_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes vs KiB


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> dict[str, float]:
    wall, cpu = _clock()
    return {"seconds": wall - start[0], "cpu_seconds": cpu - start[1]}


def measure_analysis(folder: Path, out: Path) -> dict[str, Any]:
    """Build the graph, analyse it and write the files, in this process."""
    from graphguard.analysis import analyse, write_outputs
    from graphguard.store import MemoryStore

    base = _peak_mb()
    start = _clock()
    graph = MemoryStore.from_path(folder).graph()
    build = _since(start)
    start = _clock()
    result = analyse(graph)
    analysis = _since(start)
    start = _clock()
    write_outputs(result, out)
    written = _since(start)
    return {
        "links": graph.number_of_edges(),
        "entities": graph.number_of_nodes(),
        "build": build,
        "analyse": analysis,
        "write": written,
        "steps": {name: round(seconds, 3) for name, seconds in result.timings.items()},
        "measures": result.summary["methods"]["measures"],
        "adults_of_concern": result.summary["counts"]["adults_of_concern"],
        "base_mb": base,
        "peak_mb": _peak_mb(),
    }


def measure_baseline(folder: Path) -> dict[str, Any]:
    """Exact NetworkX betweenness beside graphguard's exact measures, on one graph."""
    import networkx as nx

    from graphguard.analysis.measures import network_measures, simple_graph
    from graphguard.store import MemoryStore

    graph = MemoryStore.from_path(folder).graph()
    simple = simple_graph(graph)
    start = _clock()
    expected = nx.betweenness_centrality(simple)
    networkx = _since(start)
    start = _clock()
    ours = network_measures(graph, exact_limit=simple.number_of_nodes())
    graphguard = _since(start)
    error = max(abs(row.betweenness - expected[row.id]) for row in ours.rows)
    return {
        "entities": simple.number_of_nodes(),
        "simple_edges": simple.number_of_edges(),
        "networkx_betweenness": networkx,
        "graphguard_exact_measures": graphguard,
        "max_difference": error,
    }


def write_town(young_people: int, seed: int, folder: Path) -> dict[str, Any]:
    """Write one town in this process and return its figures."""
    from graphguard.synth import write_town as write

    (folder / "truth.json").unlink(missing_ok=True)  # written last: marks the town complete
    start = _clock()
    truth = write(folder, young_people, seed)
    return {"links": truth.counts["links"], **_since(start)}


def _in_child(*args: str) -> dict[str, Any]:
    """Run this script with ``args`` in a fresh interpreter; its last stdout line is JSON."""
    done = subprocess.run(
        [sys.executable, __file__, *args], check=True, stdout=subprocess.PIPE, text=True
    )
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _town(root: Path, young_people: int, seed: int) -> Path:
    """The town of this size and seed: reused if complete, otherwise written now."""
    folder = root / f"town-{young_people}-seed{seed}"
    try:
        truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
        if truth["young_people"] == young_people and truth["seed"] == seed:
            return folder
    except (OSError, ValueError, KeyError):
        pass  # missing or half-written: write it again
    print(f"writing a town of {young_people:,} young people into {folder}", file=sys.stderr)
    _in_child("--write", str(young_people), str(seed), str(folder))
    return folder


def _table(rows: list[dict[str, Any]]) -> str:
    header = ("young people", "links", "build s", "analyse s", "cpu s", "x build", "write s",
              "peak MB", "hubs", "contexts", "groups", "measures", "aim s")  # fmt: skip
    lines = [header]
    for row in rows:
        steps = row["steps"]
        aim = next((f"{s:.0f}" for links, s in AIMS.items() if 0.8 < row["links"] / links < 1.25),
                   "")  # fmt: skip
        lines.append(
            (f"{row['young_people']:,}", f"{row['links']:,}", f"{row['build']['seconds']:.1f}",
             f"{row['analyse']['seconds']:.1f}", f"{row['analyse']['cpu_seconds']:.1f}",
             f"{row['analyse']['seconds'] / row['build']['seconds']:.2f}",
             f"{row['write']['seconds']:.1f}", f"{row['peak_mb']:.0f}",
             f"{steps['hubs']:.1f}", f"{steps['contexts']:.1f}", f"{steps['groups']:.1f}",
             f"{steps['measures']:.1f}", aim)
        )  # fmt: skip
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True))
            for line in lines]  # fmt: skip
    text.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default=",".join(str(s) for s in DEFAULT_SIZES),
        help="comma-separated town sizes in young people (about ten links each)",
    )
    parser.add_argument(
        "--tmp",
        type=Path,
        default=Path(tempfile.gettempdir()) / "graphguard-bench",
        help="where the towns are written and reused (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=1, help="the towns' seed")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--analyse", nargs=2, metavar=("FOLDER", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--baseline", metavar="FOLDER", help=argparse.SUPPRESS)
    parser.add_argument("--write", nargs=3, metavar=("N", "SEED", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    # The children: one measurement or one town, its figures as one line of JSON.
    if args.analyse:
        folder, out = args.analyse
        print(json.dumps(measure_analysis(Path(folder), Path(out))))
        return 0
    if args.baseline:
        print(json.dumps(measure_baseline(Path(args.baseline))))
        return 0
    if args.write:
        young_people, seed, folder = args.write
        print(json.dumps(write_town(int(young_people), int(seed), Path(folder))))
        return 0

    try:
        sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    except ValueError:
        parser.error(f"--sizes must be comma-separated whole numbers, not {args.sizes!r}")
    args.tmp.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    baseline: dict[str, Any] = {}
    for young_people in sizes:
        folder = _town(args.tmp, young_people, args.seed)
        if not baseline:
            print(f"baseline on {young_people:,} young people", file=sys.stderr)
            baseline = {"young_people": young_people, **_in_child("--baseline", str(folder))}
        print(f"analysing {young_people:,} young people", file=sys.stderr)
        out = args.tmp / f"analysis-{young_people}-seed{args.seed}"
        rows.append({"young_people": young_people,
                     **_in_child("--analyse", str(folder), str(out))})  # fmt: skip

    print(_table(rows))
    nx_time = baseline["networkx_betweenness"]["seconds"]
    ours = baseline["graphguard_exact_measures"]["seconds"]
    print(
        f"\nbaseline, {baseline['young_people']:,} young people "
        f"({baseline['entities']:,} entities, {baseline['simple_edges']:,} simple edges): "
        f"exact nx.betweenness_centrality {nx_time:.2f} s; graphguard's exact betweenness, "
        f"closeness, eigenvector and degree {ours:.2f} s ({nx_time / ours:.1f}x faster); "
        f"largest difference {baseline['max_difference']:.1e}"
    )
    for row in rows:
        print(
            f"{row['links']:,} links: analyse {row['analyse']['seconds']:.1f} s = "
            f"{row['analyse']['seconds'] / nx_time:.1f}x the exact NetworkX betweenness of the "
            f"smallest town; measures {'exact' if row['measures']['exact'] else 'sampled'}"
        )
    if args.json:
        args.json.write_text(
            json.dumps({"baseline": baseline, "rows": rows}, indent=2) + "\n", encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
