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

Then the same town as the agencies would send it (input format v2,
:func:`graphguard.synth_agencies.split_town` into ``DIR/town-<size>-seed<seed>-v2``:
six source folders with ids of their own and the same links, and more records, as one
person is on several agencies' files), read three ways:

``v2 validate``
    ``read_dataset(path, collect_links=False, resolve=False)``, as ``validate`` reads;
``v2 records``
    ``read_dataset(path, resolve=False)``: every record and link kept, not resolved;
``v2 resolved``
    ``read_dataset(path)``: the records resolved into entities (the resolver's
    ``match_records``, then ``merge_records``), what every other command reads.
    Only for towns up to ``--resolve-up-to`` young people (``benchmarks/resolve.py``
    measures resolution at scale).

``x v1`` is a v2 measurement's time over the v1 town's ``validate`` (for
``v2 validate``) or ``full`` (for the other two), from the same run.

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
V2_MODES = ("v2 validate", "v2 records", "v2 resolved")
#: The v1 mode each v2 mode is compared with.
_V1_OF = {"v2 validate": "validate", "v2 records": "full", "v2 resolved": "full"}
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

    if mode == "v2 resolved":
        import graphguard.resolve.engine  # noqa: F401  (the linkage library's imports, not timed)
    base = _peak_mb()
    start = time.perf_counter()
    result = read_dataset(
        folder,
        collect_links=mode not in ("validate", "v2 validate"),
        resolve=mode == "v2 resolved",
    )
    seconds = time.perf_counter() - start
    records = result.records
    links = [r for key, r in result.files.items() if key.rpartition("/")[2] == "links"]
    return {
        "mode": mode,
        "seconds": seconds,
        "links": sum(r.accepted for r in links),
        "records": len(records.people) + len(records.locations) + len(records.vehicles),
        "entities": len(result.dataset.people)
        + len(result.dataset.locations)
        + len(result.dataset.vehicles),
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


def split(town: Path, seed: int, folder: Path) -> dict[str, Any]:
    """Write the v1 town as agency extracts (v2) in this process and return its figures."""
    from graphguard.synth_agencies import split_town

    start = time.perf_counter()
    split_town(town, folder, seed)
    return {"seconds": time.perf_counter() - start}


def _agency_town(town: Path, seed: int) -> tuple[Path, dict[str, Any]]:
    """The town as agency extracts: reused if there (split_town writes it atomically)."""
    folder = town.with_name(town.name + "-v2")
    if (folder / "sources.csv").is_file():
        return folder, {"reused": True}
    print(f"splitting {town} into agency extracts in {folder}", file=sys.stderr)
    return folder, {"reused": False, **_in_child("--split", str(town), str(seed), str(folder))}


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
    for path in sorted(folder.glob("**/*.csv")):
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                size += len(block)
    return size


def _table(rows: list[dict[str, Any]]) -> str:
    header = ("young people", "links", "records", "entities", "MB on disk", "mode", "seconds",
              "links/s", "x csv", "x v1", "peak MB", "base MB", "ok")  # fmt: skip
    lines = [header]
    for row in rows:
        v1 = f"{row['v1_ratio']:.2f}" if "v1_ratio" in row else ""
        lines.append(
            (f"{row['young_people']:,}", f"{row['links']:,}", f"{row['records']:,}",
             f"{row['entities']:,}", f"{row['disk_mb']:.1f}",
             row["mode"], f"{row['seconds']:.2f}", f"{row['links_per_second']:,.0f}",
             f"{row['ratio']:.1f}", v1, f"{row['peak_mb']:.0f}", f"{row['base_mb']:.0f}",
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
    parser.add_argument(
        "--resolve-up-to",
        type=int,
        default=10_000,
        help="measure 'v2 resolved' only for towns up to this many young people "
        "(default: %(default)s)",
    )
    parser.add_argument("--no-v2", action="store_true", help="measure the v1 towns only")
    parser.add_argument("--measure", nargs=2, metavar=("MODE", "FOLDER"), help=argparse.SUPPRESS)
    parser.add_argument("--write", nargs=3, metavar=("N", "SEED", "FOLDER"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--split", nargs=3, metavar=("TOWN", "SEED", "FOLDER"), help=argparse.SUPPRESS
    )
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
    if args.split:
        town, seed, folder = args.split
        print(json.dumps(split(Path(town), int(seed), Path(folder))))
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
        v1_seconds: dict[str, float] = {}
        plan = [(mode, folder, disk_mb) for mode in MODES]
        if not args.no_v2:
            agencies, split_figures = _agency_town(folder, args.seed)
            towns[-1]["v2"] = split_figures
            v2_mb = _warm(agencies) / 1e6
            plan += [
                (mode, agencies, v2_mb)
                for mode in V2_MODES
                if mode != "v2 resolved" or young_people <= args.resolve_up_to
            ]
        for mode, where, mb in plan:
            print(f"measuring {mode} on {young_people:,} young people", file=sys.stderr)
            figures = _in_child("--measure", mode, str(where))
            if mode == "csv":
                baseline = figures["seconds"]
                figures.update(records=0, entities=0)
            figures.update(
                young_people=young_people,
                disk_mb=mb,
                links_per_second=figures["links"] / figures["seconds"],
                ratio=figures["seconds"] / baseline,
            )
            if mode in MODES:
                v1_seconds[mode] = figures["seconds"]
            else:
                figures["v1_ratio"] = figures["seconds"] / v1_seconds[_V1_OF[mode]]
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
    print("over plain csv.reader iterating the v1 town's links.csv; x v1: a v2 row's seconds")
    print("over the v1 town's validate (v2 validate) or full (v2 records, v2 resolved).")
    if args.json:
        args.json.write_text(json.dumps({"towns": towns, "measurements": rows}, indent=2))
    return 0 if all(row["ok"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
