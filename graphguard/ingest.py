"""Read what partner agencies send — a folder of CSVs or one workbook — into a Dataset.

Rows are streamed, one at a time, through the cell parsers of :mod:`graphguard.model`.
A row that breaks a rule is *rejected* with its file, line, column and a plain
reason; every other row is kept.  A file that cannot be read at all, or lacks a
required column, is a file-level error and says so.

Lines are physical lines in the file, the header being line 1, so a quoted cell that
spans two lines moves every later row down by one, exactly as a text editor shows
it.  In a workbook, the line is the sheet's row number.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import gc
import hashlib
import itertools
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphguard.errors import UsageError
from graphguard.model import (
    REQUIRED_COLUMNS,
    Entity,
    Link,
    LinkType,
    Location,
    Person,
    Vehicle,
    check_link_ends,
    column_parsers,
    coordinates_problem,
    dates_problem,
    node_kind,
)

__all__ = [
    "ENTITY_FILES",
    "FILES",
    "Reject",
    "FileReport",
    "Dataset",
    "IngestResult",
    "read_dataset",
    "write_rejects",
]

#: The entity files, in the order they are read (the first use of an id wins).
ENTITY_FILES: tuple[str, ...] = ("people", "locations", "vehicles")
#: Every file of the format; only people and links are required.
FILES: tuple[str, ...] = (*ENTITY_FILES, "links")
_REQUIRED_FILES = ("people", "links")
_MODELS: dict[str, type[Person] | type[Location] | type[Vehicle]] = {
    "people": Person,
    "locations": Location,
    "vehicles": Vehicle,
}
_ID_COLUMN = {"people": "person_id", "locations": "location_id", "vehicles": "vehicle_id"}

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(frozen=True)
class Reject:
    """One rejected row: where it is, which column broke which rule, and the row itself."""

    file: str
    line: int
    column: str | None
    reason: str
    row: dict[str, str] = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        column = f", column {self.column}" if self.column else ""
        return f"{self.file} line {self.line}{column}: {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column, "reason": self.reason}


@dataclass
class FileReport:
    """What became of one file: rows read, accepted and rejected, or why it could not be read."""

    file: str
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    error: str | None = None
    present: bool = True

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": self.rejected,
        }
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class Dataset:
    """The accepted entities and links of one dataset."""

    people: dict[str, Person] = field(default_factory=dict)
    locations: dict[str, Location] = field(default_factory=dict)
    vehicles: dict[str, Vehicle] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    source: str | None = None

    def entity(self, entity_id: str) -> Entity | None:
        """The person, location or vehicle with this id, or None."""
        return (
            self.people.get(entity_id)
            or self.locations.get(entity_id)
            or self.vehicles.get(entity_id)
        )

    def entities(self) -> Iterator[Entity]:
        yield from self.people.values()
        yield from self.locations.values()
        yield from self.vehicles.values()

    def __len__(self) -> int:
        return len(self.people) + len(self.locations) + len(self.vehicles) + len(self.links)


@dataclass
class IngestResult:
    """A dataset together with the report of how it was read."""

    dataset: Dataset
    files: dict[str, FileReport]
    rejects: list[Reject]

    @property
    def file_errors(self) -> list[FileReport]:
        return [report for report in self.files.values() if report.error]

    @property
    def ok(self) -> bool:
        """True when every row was accepted and every file could be read."""
        return not self.rejects and not self.file_errors

    @property
    def rejected_rows(self) -> int:
        return sum(report.rejected for report in self.files.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": {r.file: r.as_dict() for r in self.files.values() if r.present},
            "rejects": [r.as_dict() for r in self.rejects],
        }


# --------------------------------------------------------------------------- row sources

RowSource = Iterator[tuple[int, list[str]]]


def _csv_rows(path: Path) -> tuple[list[str], RowSource]:
    handle = path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.reader(handle)
    try:
        header = next(reader)
    except StopIteration:
        handle.close()
        return [], iter(())
    except csv.Error as exc:
        handle.close()
        raise _FileProblem(f"cannot be read as CSV: {exc}") from None

    def rows() -> RowSource:
        with handle:
            start = reader.line_num + 1
            try:
                for record in reader:
                    yield start, record
                    start = reader.line_num + 1
            except csv.Error as exc:
                raise _FileProblem(f"cannot be read as CSV from line {start}: {exc}") from None

    return header, rows()


class _FileProblem(Exception):
    """A file that cannot be read at all (reported as a file-level error)."""


def _xlsx_sheets(path: Path) -> dict[str, tuple[str, Callable[[], tuple[list[str], RowSource]]]]:
    try:
        from openpyxl import load_workbook
    except ImportError:  # pragma: no cover - openpyxl is a core dependency
        raise UsageError("reading .xlsx workbooks needs openpyxl (pip install openpyxl)") from None
    try:
        book = load_workbook(path, read_only=True, data_only=True)
        # The same cells as written: a formula whose value was never saved (a workbook
        # written by a program rather than by Excel) reads as empty above; it is read as
        # its formula text instead, so nothing vanishes silently.
        formulas = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise UsageError(f"{path}: cannot be read as an .xlsx workbook ({exc})") from None

    def opener(title: str) -> Callable[[], tuple[list[str], RowSource]]:
        def open_sheet() -> tuple[list[str], RowSource]:
            rows = book[title].iter_rows(values_only=True)
            written = formulas[title].iter_rows(values_only=True)
            header_row = next(rows, None)
            next(written, None)
            if header_row is None:
                return [], iter(())
            header = ["" if v is None else str(v) for v in header_row]

            def records() -> RowSource:
                for number, (values, raw) in enumerate(
                    itertools.zip_longest(rows, written, fillvalue=()), start=2
                ):
                    yield (
                        number,
                        [
                            _excel_cell(raw[i] if v is None and i < len(raw) else v)
                            for i, v in enumerate(values)
                        ],
                    )

            return header, records()

        return open_sheet

    sheets = {}
    for title in book.sheetnames:
        stem = title.strip().lower().removesuffix(".csv")
        if stem in FILES:
            sheets[stem] = (title, opener(title))
    return sheets


def _excel_cell(value: Any) -> str:
    """A workbook cell as the text a CSV export of it would hold."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --------------------------------------------------------------------------- reading


class _Reader:
    """The state of one ingestion: ids seen so far, rejected ids, the report."""

    def __init__(self, collect_links: bool, today: dt.date | None) -> None:
        self.dataset = Dataset()
        self.files: dict[str, FileReport] = {}
        self.rejects: list[Reject] = []
        self.collect_links = collect_links
        self.parsers = column_parsers(today)
        # id → (file name, line, endpoint kind)
        self.ids: dict[str, tuple[str, int, str]] = {}
        # id → "file line N" of rows that were rejected, to explain links to them
        self.rejected_ids: dict[str, str] = {}
        self.link_ids: dict[str, int] = {}

    # -- helpers ------------------------------------------------------------
    def _columns(
        self, stem: str, name: str, header: list[str]
    ) -> list[tuple[int, str, Callable[[object], Any] | None]]:
        parsers = self.parsers[stem]
        columns: list[tuple[int, str, Callable[[object], Any] | None]] = []
        seen: set[str] = set()
        for index, raw in enumerate(header):
            column = raw.strip().lower()
            if not column:
                continue
            if column in seen:
                raise _FileProblem(f"column {column!r} appears twice in the header")
            seen.add(column)
            columns.append((index, column, parsers.get(column)))
        missing = [c for c in REQUIRED_COLUMNS[stem] if c not in seen]
        if missing:
            names = ", ".join(missing)
            plural = "s" if len(missing) > 1 else ""
            raise _FileProblem(f"required column{plural} {names} missing from the header")
        return columns

    def _parse_row(
        self,
        stem: str,
        columns: list[tuple[int, str, Callable[[object], Any] | None]],
        width_expected: int,
        record: list[str],
    ) -> tuple[dict[str, Any], dict[str, str], list[tuple[str | None, str]]]:
        values: dict[str, Any] = {}
        extra: dict[str, str] = {}
        problems: list[tuple[str | None, str]] = []
        width = len(record)
        for index, column, parser in columns:
            if index >= width:
                continue
            cell = record[index]
            if not cell or cell.isspace():
                continue
            if parser is None:
                extra[column] = cell.strip()
                continue
            try:
                values[column] = parser(cell)
            except ValueError as exc:
                problems.append((column, str(exc)))
        if width > width_expected and any(c.strip() for c in record[width_expected:]):
            problems.append((None, f"row has {width} cells but the header has {width_expected}"))
        joined = "".join(record)
        if not joined.isascii():
            try:
                joined.encode("utf-8")
            except UnicodeEncodeError:
                problems.append((None, "row is not valid UTF-8 text (save the file as UTF-8)"))
        for column in REQUIRED_COLUMNS[stem]:
            if column not in values and (not problems or not any(c == column for c, _ in problems)):
                problems.append((column, f"{column} is required but empty"))
        return values, extra, problems

    @staticmethod
    def _raw_row(
        columns: list[tuple[int, str, Callable[[object], Any] | None]], record: list[Any]
    ) -> dict[str, str]:
        width = len(record)
        return {
            column: ("" if index >= width else str(record[index])) for index, column, _ in columns
        }

    def _reject(
        self,
        name: str,
        line: int,
        columns: list[tuple[int, str, Callable[[object], Any] | None]],
        record: list[Any],
        problems: list[tuple[str | None, str]],
    ) -> None:
        raw_row = self._raw_row(columns, record)
        for column, reason in problems:
            self.rejects.append(Reject(name, line, column, reason, raw_row))

    # -- files --------------------------------------------------------------
    def read_entities(self, stem: str, name: str, header: list[str], rows: RowSource) -> None:
        report = self.files[stem]
        columns = self._columns(stem, name, header)
        id_column = _ID_COLUMN[stem]
        model = _MODELS[stem]
        store: dict[str, Any] = getattr(self.dataset, stem)
        for line, record in rows:
            if not any(c and not c.isspace() for c in record):
                continue
            report.rows += 1
            values, extra, problems = self._parse_row(stem, columns, len(header), record)
            entity_id = values.get(id_column)
            if not problems and stem == "locations":
                problem = coordinates_problem(values.get("latitude"), values.get("longitude"))
                if problem:
                    problems.append(problem)
            if entity_id is not None and entity_id in self.ids:
                first_file, first_line, _ = self.ids[entity_id]
                problems.append(
                    (
                        id_column,
                        f"duplicate id {entity_id!r}: "
                        f"already used in {first_file} line {first_line}",
                    )
                )
            if problems:
                report.rejected += 1
                self._reject(name, line, columns, record, problems)
                raw_id = self._raw_row(columns, record).get(id_column, "").strip()
                if raw_id and raw_id not in self.ids:
                    self.rejected_ids.setdefault(raw_id, f"{name} line {line}")
                continue
            assert entity_id is not None  # required, so present when there are no problems
            entity = _construct(model, values, extra)
            self.ids[entity_id] = (name, line, node_kind(entity))
            store[entity_id] = entity
            report.accepted += 1

    def read_links(self, name: str, header: list[str], rows: RowSource) -> None:
        report = self.files["links"]
        columns = self._columns("links", name, header)
        for line, record in rows:
            if not any(c and not c.isspace() for c in record):
                continue
            report.rows += 1
            values, extra, problems = self._parse_row("links", columns, len(header), record)
            source, target = values.get("source_id"), values.get("target_id")
            if source is not None and source == target:
                problems.append(("target_id", "a link cannot join an entity to itself"))
            problem = dates_problem(values.get("first_seen"), values.get("last_seen"))
            if problem:
                problems.append(problem)
            kinds = []
            for column, end in (("source_id", source), ("target_id", target)):
                if end is None:
                    continue
                known = self.ids.get(end)
                if known is None:
                    where = self.rejected_ids.get(end)
                    if where:
                        problems.append(
                            (column, f"{end!r} was rejected ({where}), so this link is too")
                        )
                    else:
                        unread = self.unreadable_entity_files()
                        note = f" ({unread} could not be read)" if unread else ""
                        problems.append(
                            (column, f"unknown id {end!r}: not defined in any entity file{note}")
                        )
                else:
                    kinds.append(known[2])
            link_type = values.get("type")
            if len(kinds) == 2 and isinstance(link_type, LinkType):
                problem = check_link_ends(link_type, kinds[0], kinds[1])
                if problem:
                    problems.append(problem)
            link_id = values.get("link_id")
            if link_id is not None and link_id in self.link_ids:
                problems.append(
                    (
                        "link_id",
                        f"duplicate link_id {link_id!r}: "
                        f"already used on line {self.link_ids[link_id]}",
                    )
                )
            if problems:
                report.rejected += 1
                self._reject(name, line, columns, record, problems)
                continue
            if link_id is None:
                link_id = self._derived_link_id(values)
                values["link_id"] = link_id
            self.link_ids[link_id] = line
            if link_type is LinkType.SUPPORTS and values.get("protective") is None:
                values["protective"] = True  # SUPPORTS is always protective (DATA-FORMAT.md)
            values.setdefault("count", 1)
            if self.collect_links:
                self.dataset.links.append(_construct(Link, values, extra))
            report.accepted += 1

    def unreadable_entity_files(self) -> str:
        return ", ".join(
            r.file for stem, r in self.files.items() if stem in ENTITY_FILES and r.error
        )

    def _derived_link_id(self, values: dict[str, Any]) -> str:
        content = "|".join(f"{k}={values[k]}" for k in sorted(values))
        base = "auto:" + hashlib.sha1(content.encode("utf-8")).hexdigest()[:16]
        link_id, n = base, 1
        while link_id in self.link_ids:
            n += 1
            link_id = f"{base}-{n}"
        return link_id


_DEFAULTS: dict[type[Any], dict[str, Any]] = {}


def _construct(model: type[Any], values: dict[str, Any], extra: dict[str, str]) -> Any:
    """Build an already-validated record without pydantic re-validating it.

    Equivalent to ``model.model_construct(**values, extra=extra)`` for rows whose every
    cell went through the model's own cell parsers, at a fraction of the cost.
    """
    defaults = _DEFAULTS.get(model)
    if defaults is None:
        defaults = {
            name: (None if info.is_required() else info.get_default(call_default_factory=True))
            for name, info in model.model_fields.items()
            if name != "extra"
        }
        _DEFAULTS[model] = defaults
    record = object.__new__(model)
    fields = dict(defaults)
    fields.update(values)
    fields["extra"] = extra
    object.__setattr__(record, "__dict__", fields)
    object.__setattr__(record, "__pydantic_fields_set__", set(values))
    object.__setattr__(record, "__pydantic_extra__", None)
    object.__setattr__(record, "__pydantic_private__", None)
    return record


def _find_sources(
    path: Path,
) -> tuple[dict[str, tuple[str, Callable[[], tuple[list[str], RowSource]]]], str]:
    if not path.exists():
        raise UsageError(f"{path}: no such file or folder")
    if path.is_dir():
        by_stem: dict[str, tuple[str, Callable[[], tuple[list[str], RowSource]]]] = {}
        for child in sorted(path.iterdir()):
            stem = child.name.lower().removesuffix(".csv")
            if child.is_file() and child.name.lower().endswith(".csv") and stem in FILES:
                by_stem[stem] = (child.name, functools.partial(_csv_rows, child))
        if not by_stem:
            workbooks = sorted(p for p in path.iterdir() if p.suffix.lower() == ".xlsx")
            if len(workbooks) == 1:
                return _xlsx_sheets(workbooks[0]), str(workbooks[0])
            raise UsageError(
                f"{path}: not a dataset (no people.csv, links.csv, locations.csv or vehicles.csv)"
            )
        return by_stem, str(path)
    if path.suffix.lower() == ".xlsx":
        return _xlsx_sheets(path), str(path)
    raise UsageError(f"{path}: not a dataset (give a folder of CSV files or an .xlsx workbook)")


def read_dataset(
    path: str | Path, *, collect_links: bool = True, today: dt.date | None = None
) -> IngestResult:
    """Read and validate a dataset folder or workbook.

    Parameters
    ----------
    path : str or Path
        A folder holding ``people.csv``, ``links.csv`` and optionally ``locations.csv``
        and ``vehicles.csv``, or an ``.xlsx`` workbook with sheets of those names.
    collect_links : bool, default True
        Keep the accepted links in the dataset.  ``False`` validates and counts them
        without keeping them, so validating a file of millions of links needs memory
        only for the entities and the link ids.
    today : date, optional
        The day against which "not in the future" is judged; today by default.

    Returns
    -------
    IngestResult
        The accepted rows as a :class:`Dataset`, a :class:`FileReport` per file and
        every :class:`Reject`.

    Raises
    ------
    UsageError
        When ``path`` does not exist or is not a dataset at all.

    Examples
    --------
    >>> result = read_dataset("fixtures/demo")
    >>> result.ok
    True
    """
    path = Path(path)
    sources, label = _find_sources(path)
    reader = _Reader(collect_links, today)
    reader.dataset.source = label
    # Millions of small records and no cycles among them: the cyclic garbage collector
    # would only rescan them again and again while they are being read.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _read_all(reader, sources)
    finally:
        if collecting:
            gc.enable()
    return IngestResult(reader.dataset, reader.files, reader.rejects)


def _read_all(
    reader: _Reader, sources: dict[str, tuple[str, Callable[[], tuple[list[str], RowSource]]]]
) -> None:
    for stem in FILES:
        if stem not in sources:
            name = f"{stem}.csv"
            required = stem in _REQUIRED_FILES
            reader.files[stem] = FileReport(
                name,
                error=f"{name} is required but missing" if required else None,
                present=required,
            )
            continue
        name, opener = sources[stem]
        report = reader.files[stem] = FileReport(name)
        try:
            header, rows = opener()
            if not header:
                report.error = f"{name} is empty (no header row)"
                continue
            if stem == "links":
                reader.read_links(name, header, rows)
            else:
                reader.read_entities(stem, name, header, rows)
        except _FileProblem as problem:
            report.error = f"{name}: {problem}"
        except OSError as exc:
            report.error = f"{name}: cannot be read ({exc.strerror or exc})"


def write_rejects(rejects: list[Reject], path: str | Path) -> int:
    """Write the rejected rows, each with its file, line and reasons, as a CSV to fix and resend.

    One output row per rejected input row; when a row broke several rules its columns
    and reasons are joined with ``"; "``.  Cells that a spreadsheet would read as a
    formula are neutralised.  Returns the number of rows written.
    """
    from graphguard.export import safe_cell

    grouped: dict[tuple[str, int], list[Reject]] = {}
    for reject in rejects:
        grouped.setdefault((reject.file, reject.line), []).append(reject)
    data_columns: list[str] = []
    for group in grouped.values():
        for column in group[0].row:
            if column not in data_columns:
                data_columns.append(column)
    from graphguard.files import atomic_file

    with atomic_file(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "line", "column", "reason", *data_columns])
        for (file, line), group in grouped.items():
            columns = "; ".join(r.column or "" for r in group)
            reasons = "; ".join(r.reason for r in group)
            row = group[0].row
            writer.writerow(
                [file, line, columns, safe_cell(reasons)]
                + [safe_cell(row.get(c, "")) for c in data_columns]
            )
    return len(grouped)
