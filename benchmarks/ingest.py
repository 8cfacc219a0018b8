"""How fast graphguard reads a dataset, against how fast Python can merely parse its CSV.

Usage::

    python benchmarks/ingest.py [--sizes 1000,10000,100000] [--tmp DIR] [--seed 1] [--json FILE]

For each size (young people) a synthetic town is written with
:func:`graphguard.synth.write_town` into ``DIR/town-<size>-seed<seed>`` (about ten
links per young person, so the default sizes give about 10k, 100k and 1M links), or
reused when that folder already holds a complete town of that size and seed.  Towns
are written, and each measurement runs, in a fresh Python process, so none inherits
another's memory or warm caches of Python objects:

``csv``
    the baseline: plain :func:`csv.reader` iterating ``links.csv``, doing nothing else;
``validate``
    ``read_dataset(path, collect_links=False)``: every file validated, links counted
    but not kept;
``full``
    ``read_dataset(path)``: validated and every link kept as a model.

Wall time is measured inside the child around the call alone (interpreter start-up
and imports excluded).  Peak memory is the child's own peak resident set size,
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` read in the child when it finishes; it
includes the interpreter and imports, whose size (``base MB``) is reported beside it.
(Linux carries a process's peak RSS across ``exec``, which is why the parent stays small.)
The files are read once before measuring, so every measurement finds them in the page
cache.  ``x csv`` is the measurement's time divided by the baseline's, from the same
run on the same files.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MODES = ("csv", "validate", "full")
DEFAULT_SIZES = (1000, 10_000, 100_000)


def _peak_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes vs KiB


def measure(mode: str, folder: Path) -> dict[str, Any]:
    """Run one measurement in this process and return its figures."""
    if mode == "csv":
        base = _peak_mb()
        start = time.perf_counter()
        with (folder / "links.csv").open(encoding="utf-8", newline="") as handle:
            rows = sum(1 for _ in csv.reader(handle)) - 1  # less the header
        seconds = time.perf_counter() - start
        return {"mode": mode, "seconds": seconds, "links": rows, "ok": True,
                "base_mb": base, "peak_mb": _peak_mb()}  # fmt: skip
    from graphguard.ingest import read_dataset

    base = _peak_mb()
    start = time.perf_counter()
    result = read_dataset(folder, collect_links=(mode == "full"))
    seconds = time.perf_counter() - start
    return {
        "mode": mode,
        "seconds": seconds,
        "links": result.files["links"].accepted,
        "ok": result.ok,
        "base_mb": base,
        "peak_mb": _peak_mb(),
    }


def write(young_people: int, seed: int, folder: Path) -> dict[str, Any]:
    """Write one town in this process, reporting progress on stderr, and return its figures."""
    from graphguard.synth import write_town

    def progress(links: int) -> None:
        if links % 100_000 == 0:
            print(f"  … {links:,} links", file=sys.stderr, flush=True)

    (folder / "truth.json").unlink(missing_ok=True)  # written last: marks the town complete
    start = time.perf_counter()
    truth = write_town(folder, young_people, seed, progress=progress)
    return {"links": truth.counts["links"], "seconds": time.perf_counter() - start}


def _in_child(*args: str) -> dict[str, Any]:
    """Run this script with ``args`` in a fresh interpreter; its last stdout line is JSON.

    The parent imports nothing of graphguard and holds no town, so that the child's
    peak RSS (which Linux carries over from the forking parent) is the child's own.
    """
    done = subprocess.run(
        [sys.executable, __file__, *args], check=True, stdout=subprocess.PIPE, text=True
    )
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _town(root: Path, young_people: int, seed: int) -> tuple[Path, dict[str, Any]]:
    """The town of this size and seed: reused if complete, otherwise written now."""
    folder = root / f"town-{young_people}-seed{seed}"
    try:
        truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
        if truth["young_people"] == young_people and truth["seed"] == seed:
            return folder, {"reused": True, "links": truth["counts"]["links"]}
    except (OSError, ValueError, KeyError):
        pass  # missing or half-written: write it again
    print(f"writing a town of {young_people:,} young people into {folder}", file=sys.stderr)
    figures = _in_child("--write", str(young_people), str(seed), str(folder))
    return folder, {"reused": False, **figures}


def _warm(folder: Path) -> int:
    """Read every file once, a block at a time, so that measurements find them cached."""
    size = 0
    for path in sorted(folder.glob("*.csv")):
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                size += len(block)
    return size


def _table(rows: list[dict[str, Any]]) -> str:
    header = ("young people", "links", "MB on disk", "mode", "seconds", "links/s", "x csv",
              "peak MB", "base MB", "ok")  # fmt: skip
    lines = [header]
    for row in rows:
        lines.append(
            (f"{row['young_people']:,}", f"{row['links']:,}", f"{row['disk_mb']:.1f}",
             row["mode"], f"{row['seconds']:.2f}", f"{row['links_per_second']:,.0f}",
             f"{row['ratio']:.1f}", f"{row['peak_mb']:.0f}", f"{row['base_mb']:.0f}",
             "yes" if row["ok"] else "NO")
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
    parser.add_argument("--measure", nargs=2, metavar=("MODE", "FOLDER"), help=argparse.SUPPRESS)
    parser.add_argument("--write", nargs=3, metavar=("N", "SEED", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    # The children: one measurement or one town, its figures as one line of JSON.
    if args.measure:
        mode, folder = args.measure
        print(json.dumps(measure(mode, Path(folder))))
        return 0
    if args.write:
        young_people, seed, folder = args.write
        print(json.dumps(write(int(young_people), int(seed), Path(folder))))
        return 0

    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes must be comma-separated whole numbers, not {args.sizes!r}")
    args.tmp.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    towns: list[dict[str, Any]] = []
    for young_people in sizes:
        folder, town = _town(args.tmp, young_people, args.seed)
        towns.append({"young_people": young_people, **town})
        disk_mb = _warm(folder) / 1e6
        baseline = 0.0
        for mode in MODES:
            print(f"measuring {mode} on {young_people:,} young people", file=sys.stderr)
            figures = _in_child("--measure", mode, str(folder))
            if mode == "csv":
                baseline = figures["seconds"]
            figures.update(
                young_people=young_people,
                disk_mb=disk_mb,
                links_per_second=figures["links"] / figures["seconds"],
                ratio=figures["seconds"] / baseline,
            )
            rows.append(figures)

    print()
    print(f"graphguard ingest benchmark — Python {platform.python_version()}, "
          f"{platform.machine()}, {os.cpu_count()} CPUs")  # fmt: skip
    for town in towns:
        if town["reused"]:
            print(f"  town of {town['young_people']:,}: reused ({town['links']:,} links)")
        else:
            rate = town["links"] / town["seconds"]
            print(f"  town of {town['young_people']:,}: written in {town['seconds']:.1f} s "
                  f"({town['links']:,} links, {rate:,.0f} links/s)")  # fmt: skip
    print()
    print(_table(rows))
    print()
    print("seconds: inside a fresh process, around the call only; peak MB: that process's")
    print("peak RSS (getrusage RUSAGE_SELF), base MB: its RSS after imports; x csv: seconds")
    print("over plain csv.reader iterating the same links.csv.")
    if args.json:
        args.json.write_text(json.dumps({"towns": towns, "measurements": rows}, indent=2))
    return 0 if all(row["ok"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
