"""Exports: tables as CSV, XLSX and JSON that are safe to open and safe to share.

Every cell goes through :func:`graphguard.privacy.safe_cell`: control and
bidirectional-override characters are neutralised, and text that a spreadsheet would
run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) gets
a leading apostrophe.  What a row may say about young people — pseudonyms, scrubbed
text — is decided before it gets here, by :mod:`graphguard.privacy`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from graphguard.errors import UsageError
from graphguard.files import atomic_file, write_bytes, write_text
from graphguard.privacy import safe_cell, safe_json

__all__ = ["EXPORT_FORMATS", "write_table", "export_format"]

EXPORT_FORMATS = ("csv", "xlsx", "json")


def export_format(path: str | Path) -> str:
    """``csv``, ``xlsx`` or ``json`` from a file name; a usage error otherwise."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in EXPORT_FORMATS:
        raise UsageError(f"{path}: the file name must end in .csv, .xlsx or .json")
    return suffix


def _flat(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return "; ".join(str(_flat(v)) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={_flat(v)}" for k, v in value.items())
    if isinstance(value, float):
        return round(value, 4)
    return value


def write_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    path: str | Path,
    *,
    sheet: str = "targets",
    notes: Sequence[str] = (),
) -> Path:
    """Write rows (dicts) with these columns as CSV, XLSX or JSON, chosen by the file name.

    CSV and XLSX cells (the header too) are flattened (lists joined with ``"; "``)
    and made safe with :func:`graphguard.privacy.safe_cell`; JSON keeps lists and
    numbers as they are, with strings made safe too, since JSON is often pasted into
    spreadsheets.  XLSX gets a bold
    header row, frozen panes, an auto-filter and column widths; ``notes`` go on a
    second sheet ("about") — use them for handling conditions and provenance.

    The file is written beside ``path``, owner-only, and renamed into place when whole
    (:func:`graphguard.files.atomic_file`): an interrupted or failed write leaves any
    previous file as it was, never a truncated one or an empty workbook.
    """
    path = Path(path)
    kind = export_format(path)
    if kind == "json":
        safe = [{c: safe_json(row.get(c)) for c in columns} for row in rows]
        write_text(path, json.dumps(safe, indent=2, ensure_ascii=False) + "\n")
    elif kind == "csv":
        with atomic_file(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([safe_cell(c) for c in columns])
            for row in rows:
                writer.writerow([safe_cell(_flat(row.get(c, ""))) for c in columns])
    else:
        _write_xlsx(rows, columns, path, sheet, notes)
    return path



def _write_xlsx(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    path: Path,
    sheet: str,
    notes: Sequence[str],
) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    table = book.active
    assert table is not None
    table.title = sheet[:31]
    table.append([safe_cell(c) for c in columns])
    for cell in table[1]:
        cell.font = Font(bold=True)
    widths = [len(c) for c in columns]
    for row in rows:
        values = [safe_cell(_flat(row.get(c, ""))) for c in columns]
        table.append([v if v is not None else "" for v in values])
        for i, value in enumerate(values):
            widths[i] = max(widths[i], min(len(str(value)), 80))
    for i, width in enumerate(widths, start=1):
        table.column_dimensions[get_column_letter(i)].width = max(8, width + 2)
    for cells in table.iter_rows(min_row=2):
        for cell in cells:
            cell.alignment = Alignment(wrap_text=False, vertical="top")
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text says
    table.freeze_panes = "B2"
    table.auto_filter.ref = table.dimensions
    if notes:
        about = book.create_sheet("about")
        for note in notes:
            about.append([safe_cell(note)])
        about.column_dimensions["A"].width = 120
    # Built in memory, then written in one atomic step: a failed save (a full disk) can
    # leave openpyxl's zip half-closed, and never a 0-byte or truncated workbook on disk.
    buffer = io.BytesIO()
    book.save(buffer)
    write_bytes(path, buffer.getvalue())
