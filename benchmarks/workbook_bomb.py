"""What a zip-bomb workbook costs to read: with graphguard's caps, and with them lifted.

Usage::

    python benchmarks/workbook_bomb.py [--mib 256] [--capped-mib 1024] [--tmp DIR]

A workbook of the demo-like shape is written whose shared strings (the part every
text cell refers to) unpack to ``--mib`` MiB of short repeated strings from about
``--mib`` × 2.4 KB, as the workbook of issue 10 did (1 MB unpacking to 1 GiB).  It is
read in a fresh Python process twice:

``capped``
    ``read_dataset`` with the default limits: refused from the sizes the archive
    declares, before any of it is unpacked;
``uncapped``
    the baseline: the same reader with the limits lifted, so it unpacks and holds
    every shared string, as a reader without caps must.

A third row reads a ``--capped-mib`` bomb (default 1 GiB) capped only: uncapped it
would need several GB.  Wall time is measured in the child around the call alone;
peak memory is the child's own peak RSS (``getrusage``), its size after imports
(``base MB``) reported beside it.  ``x capped`` is the uncapped figure over the capped
one, from the same run.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

ITEM = b"<si><t>AAAAAAAAAAAAAAAA</t></si>"


def _peak_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def write_bomb(path: Path, mib: int) -> int:
    """A workbook whose shared strings unpack to ``mib`` MiB; returns its size in bytes."""
    from openpyxl import Workbook

    book = Workbook()
    people = book.active
    assert people is not None
    people.title = "people"
    people.append(["person_id", "role"])
    people.append(["YP1", "young_person"])
    book.create_sheet("links").append(["source_id", "target_id", "type"])
    plain = io.BytesIO()
    book.save(plain)
    count = mib * 2**20 // len(ITEM)
    with (
        zipfile.ZipFile(plain) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target,
    ):
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/_rels/workbook.xml.rels":
                content = content.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdS" Target="sharedStrings.xml" Type="http://schemas.'
                    b'openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
                    b"</Relationships>",
                )
            if info.filename == "[Content_Types].xml":
                content = content.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
                    b'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            target.writestr(info.filename, content)
        with target.open("xl/sharedStrings.xml", "w", force_zip64=True) as strings:
            strings.write(
                b'<?xml version="1.0" encoding="UTF-8"?>\n<sst xmlns="http://schemas.'
                b'openxmlformats.org/spreadsheetml/2006/main">'
            )
            block = ITEM * 4096
            for _ in range(count // 4096):
                strings.write(block)
            strings.write(ITEM * (count % 4096) + b"</sst>")
    return path.stat().st_size


def measure(mode: str, path: Path) -> dict[str, Any]:
    from graphguard.errors import DataError
    from graphguard.ingest import read_dataset
    from graphguard.readers import ReadLimits

    limits = None if mode == "capped" else ReadLimits(max_unpacked_bytes=2**62, max_ratio=1e12)
    base = _peak_mb()
    start = time.perf_counter()
    try:
        result = read_dataset(path, limits=limits)
        outcome = f"read ({len(result.dataset.people)} people)"
    except DataError as error:
        outcome = "refused: " + str(error).split(": refused: ")[-1][:60]
    return {
        "mode": mode,
        "seconds": time.perf_counter() - start,
        "peak_mb": _peak_mb(),
        "base_mb": base,
        "outcome": outcome,
    }


def _in_child(mode: str, path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--measure", mode, str(path)],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--capped-mib", type=int, default=1024)
    parser.add_argument("--tmp", type=Path, default=None)
    parser.add_argument("--measure", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure[0], Path(args.measure[1]))))
        return
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        rows = []
        small, big = Path(tmp) / "bomb.xlsx", Path(tmp) / "big-bomb.xlsx"
        runs = [(small, args.mib, "capped"), (small, args.mib, "uncapped")]
        runs.append((big, args.capped_mib, "capped"))
        sizes = {small: write_bomb(small, args.mib), big: write_bomb(big, args.capped_mib)}
        for path, mib, mode in runs:
            rows.append({"unpacks to MiB": mib, "file KB": sizes[path] / 1024,
                         **_in_child(mode, path)})  # fmt: skip
    capped = rows[0]
    print(
        f"{'unpacks to':>10}  {'file KB':>8}  {'mode':>8}  {'seconds':>8}  {'peak MB':>8}  "
        f"{'base MB':>8}  {'x capped':>8}  outcome"
    )
    for row in rows:
        ratio = f"{row['peak_mb'] / capped['peak_mb']:.1f}" if row["mode"] == "uncapped" else "-"
        print(
            f"{row['unpacks to MiB']:>6} MiB  {row['file KB']:>8,.0f}  {row['mode']:>8}  "
            f"{row['seconds']:>8.2f}  {row['peak_mb']:>8,.0f}  {row['base_mb']:>8,.0f}  "
            f"{ratio:>8}  {row['outcome']}"
        )
    print("\nx capped: the uncapped peak MB over the capped one, same bomb, same run.")


if __name__ == "__main__":
    main()
