"""A table read from a CSV file or a workbook sheet: its header, its rows, and what was odd.

The readers share this shape, and the one way of finding the header: the first row,
among the first few, that holds every required column.  Rows above it are *titles*
("Police extract, November 2026"), skipped and named in a warning, never read as
data and never mistaken for the header.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graphguard.settings import Settings

__all__ = [
    "NO_PROBLEMS",
    "ReadLimits",
    "Required",
    "Row",
    "Table",
    "TableProblem",
    "find_header",
    "shown",
]

#: The columns a table's header must name, each with a check of its cells that raises
#: ValueError for a value the column cannot hold.
Required = Mapping[str, Callable[[str], object]]

#: One row: its line (or sheet row) number, its cells as text, and problems the reader
#: found in it, each ``(cell index or None, reason)``; a row with problems is rejected.
Row = tuple[int, list[str], Sequence[tuple[int | None, str]]]

#: The problems of a row that has none (shared, so a clean row allocates nothing).
NO_PROBLEMS: Sequence[tuple[int | None, str]] = ()

#: How many non-blank rows at the top of a table may be titles above the header.
TITLE_ROWS = 10


class TableProblem(Exception):
    """A file or sheet that cannot be read at all (reported as a file-level error)."""


@dataclass(frozen=True)
class ReadLimits:
    """The caps that keep a hostile or broken file from exhausting memory.

    Parameters
    ----------
    max_cell_chars : int
        The longest cell, in characters, in a CSV file or a workbook.
    max_unpacked_bytes : int
        The most a workbook's parts that are read may unpack to, in total.
    max_ratio : float
        The most any workbook part larger than :attr:`ratio_grace_bytes` may unpack to,
        as a multiple of its packed size (what a "zip bomb" exceeds).
    ratio_grace_bytes : int
        Parts that unpack to no more than this are never refused for their ratio.
    """

    max_cell_chars: int = 1_000_000
    max_unpacked_bytes: int = 2048 * 2**20
    max_ratio: float = 100.0
    ratio_grace_bytes: int = 16 * 2**20

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadLimits:
        """The limits configured by ``GRAPHGUARD_MAX_CELL_CHARS`` and ``GRAPHGUARD_XLSX_*``."""
        return cls(
            max_cell_chars=settings.max_cell_chars,
            max_unpacked_bytes=settings.xlsx_max_unpacked_mb * 2**20,
            max_ratio=settings.xlsx_max_ratio,
        )


@dataclass
class Table:
    """A header and the rows below it.

    ``warnings`` are things a careful reader would want to know (the encoding was not
    UTF-8, the delimiter was a semicolon, a title row was skipped); the reader may add
    more while ``rows`` is being read.
    """

    name: str
    header: list[str]
    header_line: int
    rows: Iterator[Row]
    warnings: list[str] = field(default_factory=list)
    #: What a row number counts: ``"line"`` in a text file, ``"row"`` in a sheet.
    unit: str = "line"


def shown(cells: Iterable[str], limit: int = 60) -> str:
    """A row's first non-empty cells, as a short quotation for a message."""
    text = ", ".join(c.strip() for c in cells if c and not c.isspace())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def find_header(
    rows: Iterator[Row], required: Iterable[str], unit: str = "line"
) -> tuple[Row | None, Iterator[Row], str | None]:
    """Find the header among the first rows: the first that names every required column.

    Parameters
    ----------
    rows : iterator of Row
        The table's rows from the top.
    required : iterable of str
        Column names (lower case) the header must hold.
    unit : str
        What a row number counts in a message: ``"line"`` in a text file, ``"row"`` in a
        sheet.

    Returns
    -------
    header : Row or None
        The header row; the first non-blank row when none names every required column
        (so the caller reports what is missing), or None for a table with no rows.
    rest : iterator of Row
        The rows below the header.
    warning : str or None
        Names the title rows skipped above the header, if any.
    """
    wanted = set(required)
    seen: list[Row] = []
    for row in rows:
        if not any(c and not c.isspace() for c in row[1]):
            continue
        seen.append(row)
        if wanted <= {c.strip().lower() for c in row[1]}:
            titles = seen[:-1]
            warning = None
            if titles:
                first, last = titles[0][0], titles[-1][0]
                span = f"{unit} {first}" if first == last else f"{unit}s {first}–{last}"
                verb = "is a title" if len(titles) == 1 else "are titles"
                warning = (
                    f"{span} ({shown(titles[0][1])}) {verb} above the header, not data: "
                    f"skipped; the header is {unit} {row[0]}"
                )
            return row, rows, warning
        if len(seen) == TITLE_ROWS:
            break
    if not seen:
        return None, rows, None
    return seen[0], itertools.chain(seen[1:], rows), None
