"""How fast the resolver joins agency extracts, beside the naive rule in the same run.

Usage::

    python benchmarks/resolve.py [--records 10000,100000] [--seed 1] [--tmp DIR] [--json FILE]

``--records 10000,100000,1000000`` adds the million-record town (it takes a long
while: writing the town alone takes minutes).  For each size a synthetic town is
written as the agencies send it (:func:`graphguard.synth_agencies.write_agencies`,
the same as ``graphguard synth OUT --agencies``) into
``DIR/agencies-<young people>-seed<seed>``, with about one young person per 7.6
records, or reused when that folder already holds it.  Each measurement runs in a
fresh Python process, so none inherits another's memory:

``match_records``
    The resolver on the records (:func:`graphguard.resolve.match_records`; the
    parameters are estimated from the data at these sizes).
``naive_match``
    The naive rule "same name and date of birth" on the same records.

Reading the extracts (``read_dataset(..., resolve=False)``) is done first in each
child and not timed.  Wall and CPU time (``time.process_time``, every thread of the
child, DuckDB's included: on a shared machine the steadier figure) are measured around
the call; peak memory is the child's peak
resident set size (``ru_maxrss``, DuckDB included), and ``extra`` what the call added
to the peak of reading.  ``x naive`` is the resolver's wall time over the naive
rule's on the same town in the same run.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_RECORDS = (10_000, 100_000)
RECORDS_PER_YOUNG_PERSON = 7.6
METHODS = ("match_records", "naive_match")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(method: str, folder: Path) -> dict[str, Any]:
    """Read the extracts, run one method, and return its figures (in the child)."""
    from graphguard.ingest import read_dataset
    from graphguard.resolve import match_records, naive_match

    records = read_dataset(folder, collect_links=False, resolve=False).records
    count = len(records.people) + len(records.locations) + len(records.vehicles)
    before = _peak_mb()
    run = match_records if method == "match_records" else naive_match
    wall, cpu = time.perf_counter(), time.process_time()
    resolution = run(records)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = _peak_mb()
    return {
        "method": method,
        "records": count,
        "entities": len(set(resolution.entity_of.values())),
        "candidates": len(resolution.candidates),
        "seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "peak_mb": round(peak, 1),
        "extra_mb": round(peak - before, 1),
        "parameters": resolution.settings.get("parameters"),
    }


def _town(records: int, seed: int, tmp: Path) -> Path:
    from graphguard.synth_agencies import write_agencies

    young_people = max(100, round(records / RECORDS_PER_YOUNG_PERSON))
    folder = tmp / f"agencies-{young_people}-seed{seed}"
    if not (folder / "truth.csv").exists():
        started = time.perf_counter()
        write_agencies(folder, young_people, seed)
        print(f"wrote {folder} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return folder


def _measure(method: str, folder: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", method, str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default=",".join(map(str, DEFAULT_RECORDS)))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tmp", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
        return
    rows = []
    header = f"{'records':>9} {'method':<14} {'seconds':>8} {'cpu s':>8} {'peak MB':>8} "
    header += f"{'extra MB':>9} {'x naive':>8} {'entities':>9} {'pairs':>9}"
    print(header)
    for size in (int(s) for s in args.records.split(",")):
        folder = _town(size, args.seed, args.tmp)
        figures = {method: _measure(method, folder) for method in METHODS}
        naive_seconds = max(figures["naive_match"]["seconds"], 0.01)
        for method in METHODS:
            row = figures[method]
            row["x_naive"] = round(row["seconds"] / naive_seconds, 1)
            rows.append(row)
            print(
                f"{row['records']:>9} {method:<14} {row['seconds']:>8.2f} "
                f"{row['cpu_seconds']:>8.2f} {row['peak_mb']:>8.1f} {row['extra_mb']:>9.1f} "
                f"{row['x_naive']:>8.1f} {row['entities']:>9} {row['candidates']:>9}",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
