"""What data-protection categories and the fairness report cost, against same-run baselines.

Usage::

    python benchmarks/categories.py [--young-people 5000] [--seed 1] [--tmp DIR]

A synthetic town of ``--young-people`` young people is written with
:func:`graphguard.synth.write_town` into ``DIR/town-<n>-seed<seed>`` (or reused).
Timed, each alone, in CPU seconds of this process (``time.process_time``: every step
is single-threaded, so other work on a shared machine does not inflate them):

``read``
    :func:`graphguard.ingest.read_dataset` of the town (categories included);
``categorise``
    :func:`graphguard.categories.categorise` of the read dataset again (what ``read``
    spends on categories);
``analysis``
    :func:`graphguard.analysis.disruption.disruption_analysis` of the graph: hubs,
    exposure, targets;
``fairness``
    :func:`graphguard.fairness.fairness_report` given that analysis (what the report
    adds to it).

Printed: each time and the ratios ``categorise / read`` and ``fairness / analysis``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _timed(step: Callable[[], Any]) -> tuple[float, Any]:
    start = time.process_time()
    result = step()
    return time.process_time() - start, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--young-people", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tmp", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args(argv)

    from graphguard.analysis.disruption import disruption_analysis
    from graphguard.categories import categorise
    from graphguard.fairness import fairness_report
    from graphguard.ingest import read_dataset
    from graphguard.store import MemoryStore
    from graphguard.synth import write_town

    folder = args.tmp / f"town-{args.young_people}-seed{args.seed}"
    if not (folder / "links.csv").exists():
        print(
            f"writing a town of {args.young_people} young people into {folder} …", file=sys.stderr
        )
        write_town(folder, args.young_people, seed=args.seed)
    read, result = _timed(lambda: read_dataset(folder))
    dataset = result.dataset
    again, _ = _timed(lambda: categorise(dataset))
    graph = MemoryStore(dataset).graph()
    analysis, found = _timed(lambda: disruption_analysis(graph))
    fairness, report = _timed(lambda: fairness_report(graph, analysis=found))
    people = len(dataset.people)
    derived = sum(1 for p in dataset.people.values() if p.category_derived)
    print(
        f"town: {args.young_people} young people (seed {args.seed}), {people} people, "
        f"{len(dataset.links)} links; {derived} people with a derived category"
    )
    print(f"read        {read:8.3f} s")
    print(f"categorise  {again:8.3f} s   categorise / read     = {again / read:.3f}")
    print(f"analysis    {analysis:8.3f} s")
    print(f"fairness    {fairness:8.3f} s   fairness / analysis   = {fairness / analysis:.3f}")
    print(f"fairness report: {len(report.tables)} characteristic(s), {report.tests} comparisons")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
