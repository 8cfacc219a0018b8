"""What atomic outputs and the hash-chained, fail-closed audit cost, against plain writes.

Usage::

    python benchmarks/outputs.py [--rows 200,2000,20000] [--repeat 20] [--lines 500]
                                 [--tmp DIR] [--json FILE]

**Outputs.**  For each size, a target-list-shaped table of that many rows is written
``--repeat`` times, as CSV and as XLSX, by

``plain``
    the baseline: the same :func:`graphguard.export.write_table` with its atomic steps
    swapped for a plain ``open`` of the destination, which is what graphguard did before;
``atomic``
    :func:`graphguard.export.write_table` as it is: a ``0600`` temporary file beside the
    destination, ``fsync``, rename, ``fsync`` of the folder.

and the demo's ``analyse --out`` set (five files) is written by ``write_outputs`` as it
is (staged in a private folder, each file synced, swapped in) and with plain writes.
``ratio`` is atomic time over plain time, from the same run in the same folder.

**Audit.**  ``--lines`` audit lines are appended by :func:`graphguard.audit.append`
(lock, read the last line, chain, write, ``fsync``), against two baselines on the same
file system: an ``O_APPEND`` write of a JSON line of the same size with ``fsync`` (the
durability floor) and without it (what the old writer did).

Times are medians of the repeats, in milliseconds (microseconds per audit line).  The
figures depend on the disk under ``--tmp`` (a tmpfs makes ``fsync`` free): the
printout names it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graphguard.export import write_table
from graphguard.files import device_of

COLUMNS = ["rank", "target_id", "kind", "label", "score", "impact", "evidence", "explanation"]


def table(rows: int) -> list[dict[str, Any]]:
    return [
        {
            "rank": i,
            "target_id": f"AD{i:05}",
            "kind": "adult",
            "label": f"adult of concern {i}",
            "score": 1 / (i + 1),
            "impact": 2 / (i + 1),
            "evidence": [f"INT-2026-{i:05}-{j} (B2P)" for j in range(3)],
            "explanation": "seen with three young people at two places " * 3,
        }
        for i in range(rows)
    ]


@contextlib.contextmanager
def _plain_file(path: Any, mode: str = "w", **kw: Any) -> Iterator[IO[Any]]:
    with open(path, mode, **({} if "b" in mode else kw)) as handle:
        yield handle


def _plain_bytes(path: Any, data: bytes) -> Path:
    Path(path).write_bytes(data)
    return Path(path)


def _plain_text(path: Any, text: str) -> Path:
    Path(path).write_text(text, encoding="utf-8")
    return Path(path)


def _plain_new(path: Any, mode: str = "w", **kw: Any) -> IO[Any]:
    return open(path, mode, **kw)


@contextlib.contextmanager
def _plain_folder(path: Any, owned: Any) -> Iterator[Path]:
    Path(path).mkdir(parents=True, exist_ok=True)
    yield Path(path)


@contextlib.contextmanager
def plain_writes() -> Iterator[None]:
    """graphguard's own writers with the atomic steps swapped for plain ``open`` on the target.

    Everything else (formula safety, styles, JSON) is the same code, so the difference is
    the temporary file, ``fsync``, rename and folder swap alone.
    """
    import graphguard.analysis.pipeline as pipeline
    import graphguard.export as export

    saved = (
        export.atomic_file,
        export.write_bytes,
        export.write_text,
        pipeline.atomic_folder,
        pipeline.new_private_file,
    )
    export.atomic_file, export.write_bytes, export.write_text = (  # type: ignore[assignment]
        _plain_file,
        _plain_bytes,
        _plain_text,
    )
    pipeline.atomic_folder, pipeline.new_private_file = (  # type: ignore[assignment]
        _plain_folder,
        _plain_new,
    )
    try:
        yield
    finally:
        (
            export.atomic_file,
            export.write_bytes,
            export.write_text,
            pipeline.atomic_folder,
            pipeline.new_private_file,
        ) = saved  # type: ignore[assignment]


def median_ms(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def compare(action: Callable[[str], object], repeat: int) -> tuple[float, float]:
    """Median ms of ``action("plain")`` with plain writes, and of ``action("atomic")``."""
    with plain_writes():
        plain = median_ms(lambda: action("plain"), repeat)
    return plain, median_ms(lambda: action("atomic"), repeat)


def bench_files(folder: Path, sizes: list[int], repeat: int) -> list[dict[str, Any]]:
    results = []
    for size in sizes:
        rows = table(size)
        for kind in ("csv", "xlsx"):
            count = max(3, repeat // 5) if kind == "xlsx" and size > 5000 else repeat

            def write(name: str, kind: str = kind, rows: list[dict[str, Any]] = rows) -> Path:
                return write_table(rows, COLUMNS, folder / f"{name}.{kind}")

            plain, atomic = compare(write, count)
            results.append({"what": f"{kind} {size} rows", "plain_ms": plain, "atomic_ms": atomic})
    return results


def bench_analysis(folder: Path, repeat: int) -> dict[str, Any]:
    from graphguard.analysis import AnalysisOptions, analyse, write_outputs
    from graphguard.paths import demo_dataset
    from graphguard.store.memory import MemoryStore

    result = analyse(MemoryStore.from_path(demo_dataset()).graph(), AnalysisOptions(seed=0))
    plain, atomic = compare(lambda name: write_outputs(result, folder / f"{name}-set"), repeat)
    return {"what": "analyse --out (demo, 5 files)", "plain_ms": plain, "atomic_ms": atomic}


def bench_audit(folder: Path, lines: int) -> dict[str, float]:
    from graphguard.audit import append

    log = folder / "audit.jsonl"
    fields = {
        "event": "cypher run",
        "run": "9f2c4e1a7b3d",
        "outcome": "ok",
        "rows": 5,
        "text": "MATCH (y:YoungPerson)-[r:FOUND_AT]->(l) RETURN l.id AS id LIMIT 5",
    }
    start = time.perf_counter()
    for _ in range(lines):
        append(log, fields)
    chained = (time.perf_counter() - start) / lines
    sample = (log.read_text(encoding="utf-8").splitlines()[-1] + "\n").encode("utf-8")

    def raw(path: Path, sync: bool) -> float:
        begin = time.perf_counter()
        for _ in range(lines):
            descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(descriptor, sample)
                if sync:
                    os.fsync(descriptor)
            finally:
                os.close(descriptor)
        return (time.perf_counter() - begin) / lines

    synced = raw(folder / "raw-synced.jsonl", True)
    unsynced = raw(folder / "raw.jsonl", False)
    return {
        "chained_us": chained * 1e6,
        "append_fsync_us": synced * 1e6,
        "append_us": unsynced * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="200,2000,20000")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--lines", type=int, default=500)
    parser.add_argument("--tmp", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    sizes = [int(s) for s in args.rows.split(",") if s]
    with tempfile.TemporaryDirectory(dir=args.tmp, prefix="graphguard-outputs-") as name:
        folder = Path(name)
        os.environ["GRAPHGUARD_HOME"] = str(folder / "home")
        print(f"writing on {device_of(folder)}")
        files = bench_files(folder, sizes, args.repeat)
        files.append(bench_analysis(folder, args.repeat))
        print(f"{'output':34} {'plain ms':>10} {'atomic ms':>10} {'ratio':>7}")
        for row in files:
            row["ratio"] = row["atomic_ms"] / row["plain_ms"]
            print(
                f"{row['what']:34} {row['plain_ms']:10.2f} {row['atomic_ms']:10.2f} "
                f"{row['ratio']:7.2f}"
            )
        audit = bench_audit(folder, args.lines)
        print(
            f"audit line ({args.lines} appended): chained {audit['chained_us']:.0f} us, "
            f"plain append + fsync {audit['append_fsync_us']:.0f} us "
            f"(ratio {audit['chained_us'] / audit['append_fsync_us']:.2f}), "
            f"plain append without fsync {audit['append_us']:.0f} us "
            f"(ratio {audit['chained_us'] / audit['append_us']:.1f})"
        )
    if args.json:
        args.json.write_text(json.dumps({"files": files, "audit": audit}, indent=2) + "\n")


if __name__ == "__main__":
    main()
