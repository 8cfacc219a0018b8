"""Read what partner agencies send — a folder of CSVs or one workbook — into a Dataset.

The readers in :mod:`graphguard.readers` turn each file or sheet into a table of
text cells, saying what was odd about it (its encoding, its delimiter, a title row,
an unclosed quote, a merged cell); here every row of every table goes through the
cell parsers of :mod:`graphguard.model`.  A row that breaks a rule is *rejected*
with its file, line, column and a plain reason; every other row is kept.  A file
that cannot be read at all, or lacks a required column, is a file-level error and
says so.  ``validate``, ``load`` and every command that reads a dataset call
:func:`read_dataset`, so what one accepts the others store.

Lines are physical lines in the file, the first line being line 1, so a quoted cell
that spans two lines moves every later row down by one, exactly as a text editor
shows it.  In a workbook, the line is the sheet's row number.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import gc
import hashlib
from collections.abc import Callable, Iterator, MutableSequence, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphguard.errors import UsageError
from graphguard.linktable import LinkTable
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
from graphguard.readers import ReadLimits, Row, Table, TableProblem
from graphguard.readers.table import Required, shown
from graphguard.readers.text import open_csv
from graphguard.resolve.types import Decision, Resolution, SourceInfo

if TYPE_CHECKING:
    from graphguard.readers.workbook import Workbook

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
    #: What was odd but read all the same: the encoding, the delimiter, a title row.
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": self.rejected,
        }
        if self.error:
            out["error"] = self.error
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


@dataclass
class Dataset:
    """The accepted entities and links of one dataset."""

    people: dict[str, Person] = field(default_factory=dict)
    locations: dict[str, Location] = field(default_factory=dict)
    vehicles: dict[str, Vehicle] = field(default_factory=dict)
    #: A :class:`~graphguard.linktable.LinkTable` when read from files (columns, not
    #: a million models); any mutable sequence of links otherwise.
    links: MutableSequence[Link] = field(default_factory=LinkTable)
    source: str | None = None
    #: 1 for one joined namespace; 2 for agency extracts (DATA-FORMAT.md, "Version 2").
    version: int = 1
    #: v2: source name → what sources.csv says of it.
    sources: dict[str, SourceInfo] = field(default_factory=dict)
    #: v2: analysts' match decisions, in file order.
    decisions: list[Decision] = field(default_factory=list)
    #: v2, entity level only: how the records were resolved into these entities.
    resolution: Resolution | None = None

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
    #: About the dataset as a whole: files or sheets that are not part of the format.
    warnings: list[str] = field(default_factory=list)

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
            "warnings": list(self.warnings),
        }


# --------------------------------------------------------------------------- sources

#: Opens one file or sheet as a table, given the columns its header must name.
Opener = Callable[[Required], Table]


@dataclass
class _Sources:
    """The files of a dataset, found but not yet read."""

    label: str
    files: dict[str, tuple[str, Opener]] = field(default_factory=dict)
    #: File stem → why it cannot be read (two files or sheets claim it).
    conflicts: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    workbook: Workbook | None = None  # closed once the dataset is read


_KNOWN = ", ".join(f"{stem}.csv" for stem in FILES)


def _stem(name: str) -> str:
    """The file a CSV or sheet name stands for: ``" Links.CSV "`` → ``"links"``."""
    name = name.strip().lower()
    return name.removesuffix(".csv").strip()


def _claim(
    sources: _Sources, claims: dict[str, list[str]], what: str, describe: Callable[[str], str]
) -> None:
    for stem, names in claims.items():
        if len(names) > 1:
            listed = " and ".join(describe(n) for n in names)
            sources.conflicts[stem] = (
                f"{what} {listed} both stand for {stem}.csv, so neither was read: "
                "delete or rename all but one"
            )


def _folder_sources(path: Path, limits: ReadLimits) -> _Sources:
    sources = _Sources(str(path))
    claims: dict[str, list[str]] = {}
    workbooks = []
    for child in sorted(path.iterdir()):
        if not child.is_file():
            continue
        if child.suffix.lower() == ".xlsx" and not child.name.startswith("~$"):
            workbooks.append(child)
        elif child.suffix.lower() == ".csv":
            stem = _stem(child.name)
            if stem in FILES:
                claims.setdefault(stem, []).append(child.name)
                sources.files[stem] = (
                    child.name,
                    functools.partial(open_csv, child, child.name, limits=limits),
                )
            else:
                sources.warnings.append(f"{child.name} is not one of {_KNOWN}: not read")
    if not sources.files:
        if len(workbooks) == 1:
            return _workbook_sources(workbooks[0], limits)
        if workbooks:
            raise UsageError(
                f"{path}: holds {len(workbooks)} workbooks and no CSV files: give one workbook"
            )
        raise UsageError(
            f"{path}: not a dataset (no people.csv, links.csv, locations.csv or vehicles.csv)"
        )
    for workbook in workbooks:
        sources.warnings.append(f"{workbook.name} is not read: this folder's CSV files are")
    _claim(sources, claims, "files", repr)
    return sources


def _workbook_sources(path: Path, limits: ReadLimits) -> _Sources:
    # Imported here: openpyxl (for its date formats) is 20 MB of memory CSV never needs.
    from graphguard.readers.workbook import Workbook

    workbook = Workbook(path, limits)
    sources = _Sources(str(path), workbook=workbook)
    claims: dict[str, list[str]] = {}
    hidden = {sheet.name for sheet in workbook.sheets if sheet.hidden}
    for sheet in workbook.sheets:
        stem = _stem(sheet.name)
        if stem not in FILES:
            sources.warnings.append(
                f"sheet {sheet.name!r} is not one of {', '.join(FILES)}: not read"
            )
            continue
        claims.setdefault(stem, []).append(sheet.name)
        sources.files[stem] = (sheet.name, functools.partial(workbook.table, sheet))
    _claim(
        sources,
        claims,
        "sheets",
        lambda name: f"{name!r} (hidden)" if name in hidden else repr(name),
    )
    return sources


# --------------------------------------------------------------------------- reading


class _Reader:
    """The state of one ingestion: ids seen so far, rejected ids, the report."""

    def __init__(self, collect_links: bool, today: dt.date | None) -> None:
        self.links = LinkTable()
        self.dataset = Dataset(links=self.links)
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
        self, stem: str, table: Table
    ) -> list[tuple[int, str, Callable[[object], Any] | None]]:
        parsers = self.parsers[stem]
        columns: list[tuple[int, str, Callable[[object], Any] | None]] = []
        seen: set[str] = set()
        for index, raw in enumerate(table.header):
            column = raw.strip().lower()
            if not column:
                continue
            if column in seen:
                raise TableProblem(f"column {column!r} appears twice in the header")
            seen.add(column)
            columns.append((index, column, parsers.get(column)))
        missing = [c for c in REQUIRED_COLUMNS[stem] if c not in seen]
        if missing:
            names = ", ".join(missing)
            plural = "s" if len(missing) > 1 else ""
            raise TableProblem(
                f"required column{plural} {names} missing from the header "
                f"({table.unit} {table.header_line} holds {shown(table.header)})"
            )
        return columns

    def _parse_row(
        self,
        stem: str,
        columns: list[tuple[int, str, Callable[[object], Any] | None]],
        width_expected: int,
        record: list[str],
        found: Sequence[tuple[int | None, str]],
    ) -> tuple[dict[str, Any], dict[str, str], list[tuple[str | None, str]]]:
        values: dict[str, Any] = {}
        extra: dict[str, str] = {}
        # What the reader found wrong with the row (an unclosed quote, a merged cell)
        # comes first, named by the column it is in.
        problems: list[tuple[str | None, str]] = [
            (self._column_at(columns, index), reason) for index, reason in found
        ]
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
        if "\x00" in "".join(record):
            problems.append((None, "row holds a NUL character, which text never does"))
        for column in REQUIRED_COLUMNS[stem]:
            if not record:
                break  # a row the reader could not read at all: its problem says why
            if column not in values and (not problems or not any(c == column for c, _ in problems)):
                problems.append((column, f"{column} is required but empty"))
        return values, extra, problems

    @staticmethod
    def _column_at(
        columns: list[tuple[int, str, Callable[[object], Any] | None]], index: int | None
    ) -> str | None:
        return next((column for i, column, _ in columns if i == index), None)

    @staticmethod
    def _unnamed_columns(report: FileReport, table: Table) -> Iterator[Row]:
        """The rows, warning (once) when a column the header leaves unnamed holds values."""
        unnamed = [i for i, raw in enumerate(table.header) if not raw.strip()]
        if not unnamed:
            return table.rows  # the common case pays for no generator in between
        return _warn_unnamed(report, table, unnamed)

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
    def read_entities(self, stem: str, table: Table) -> None:
        report = self.files[stem]
        name = table.name
        columns = self._columns(stem, table)
        width = len(table.header)
        id_column = _ID_COLUMN[stem]
        model = _MODELS[stem]
        store: dict[str, Any] = getattr(self.dataset, stem)
        for line, record, found in self._unnamed_columns(report, table):
            if not found and not any(c and not c.isspace() for c in record):
                continue
            report.rows += 1
            values, extra, problems = self._parse_row(stem, columns, width, record, found)
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

    def read_links(self, table: Table) -> None:
        report = self.files["links"]
        name = table.name
        columns = self._columns("links", table)
        width = len(table.header)
        for line, record, found in self._unnamed_columns(report, table):
            if not found and not any(c and not c.isspace() for c in record):
                continue
            report.rows += 1
            values, extra, problems = self._parse_row("links", columns, width, record, found)
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
                self.links.add(values, extra)
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


def _warn_unnamed(report: FileReport, table: Table, unnamed: list[int]) -> Iterator[Row]:
    rows = table.rows
    for row in rows:
        record = row[1]
        filled = [i for i in unnamed if i < len(record) and record[i].strip()]
        if filled:
            report.warnings.append(
                f"column {filled[0] + 1} has no name in the header, so its values (the "
                f"first on {table.unit} {row[0]}) are not read: name the column to keep them"
            )
            yield row
            yield from rows
            return
        yield row


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


def _find_sources(path: Path, limits: ReadLimits) -> _Sources:
    if not path.exists():
        raise UsageError(f"{path}: no such file or folder")
    if path.is_dir():
        return _folder_sources(path, limits)
    if path.suffix.lower() == ".xlsx":
        return _workbook_sources(path, limits)
    raise UsageError(f"{path}: not a dataset (give a folder of CSV files or an .xlsx workbook)")


def read_dataset(
    path: str | Path,
    *,
    collect_links: bool = True,
    today: dt.date | None = None,
    limits: ReadLimits | None = None,
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
        only for the entities and the link ids.  Which rows are accepted is the same
        either way.
    today : date, optional
        The day against which "not in the future" is judged; today by default.
    limits : ReadLimits, optional
        Caps on cell length and workbook size; from the settings by default.

    Returns
    -------
    IngestResult
        The accepted rows as a :class:`Dataset`, a :class:`FileReport` per file and
        every :class:`Reject`.

    Raises
    ------
    UsageError
        When ``path`` does not exist or is not a dataset at all.
    DataError
        When a workbook cannot be opened at all (damaged, not a workbook, over a cap).

    Examples
    --------
    >>> result = read_dataset("fixtures/demo")
    >>> result.ok
    True
    """
    if limits is None:
        from graphguard.settings import get_settings

        limits = ReadLimits.from_settings(get_settings())
    sources = _find_sources(Path(path), limits)
    reader = _Reader(collect_links, today)
    reader.dataset.source = sources.label
    # Millions of small records and no cycles among them: the cyclic garbage collector
    # would only rescan them again and again while they are being read.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _read_all(reader, sources)
    finally:
        if collecting:
            gc.enable()
        if sources.workbook is not None:
            sources.workbook.close()
    return IngestResult(reader.dataset, reader.files, reader.rejects, sources.warnings)


def _read_all(reader: _Reader, sources: _Sources) -> None:
    for stem in FILES:
        conflict = sources.conflicts.get(stem)
        if conflict:
            reader.files[stem] = FileReport(f"{stem}.csv", error=conflict)
            continue
        if stem not in sources.files:
            name = f"{stem}.csv"
            required = stem in _REQUIRED_FILES
            reader.files[stem] = FileReport(
                name,
                error=f"{name} is required but missing" if required else None,
                present=required,
            )
            continue
        name, opener = sources.files[stem]
        report = reader.files[stem] = FileReport(name)
        try:
            table = opener({c: reader.parsers[stem][c] for c in REQUIRED_COLUMNS[stem]})
            # The same list: warnings found while the rows are read land in the report.
            report.warnings = table.warnings
            if not table.header:
                report.error = f"{name} is empty (no header row)"
                continue
            if stem == "links":
                reader.read_links(table)
            else:
                reader.read_entities(stem, table)
        except TableProblem as problem:
            report.error = f"{name}: {problem}"
        except OSError as exc:
            report.error = f"{name}: cannot be read ({exc.strerror or exc})"


def write_rejects(rejects: list[Reject], path: str | Path) -> int:
    """Write the rejected rows, each with its file, line and reasons, as a CSV to fix and resend.

    One output row per rejected input row; when a row broke several rules its columns
    and reasons are joined with ``"; "``.  Cells that a spreadsheet would read as a
    formula are neutralised.  Returns the number of rows written.
    """
    from graphguard.privacy import safe_cell

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
