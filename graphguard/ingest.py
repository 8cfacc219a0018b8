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
import dataclasses
import datetime as dt
import functools
import hashlib
from collections.abc import Callable, Iterator, Mapping, MutableSequence, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphguard.categories import categorise
from graphguard.collector import collector_paused
from graphguard.errors import DataError, UsageError
from graphguard.linktable import LinkTable
from graphguard.model import (
    REQUIRED_COLUMNS,
    Agency,
    Entity,
    Link,
    LinkType,
    Location,
    Person,
    Role,
    Vehicle,
    check_link_ends,
    column_parsers,
    construct_parsed,
    coordinates_problem,
    dates_problem,
    field_defaults,
    node_kind,
    parse_source_name,
)
from graphguard.readers import ReadLimits, Row, Table, TableProblem
from graphguard.readers.table import Required, shown
from graphguard.readers.text import open_csv
from graphguard.resolve.types import Decision, Resolution, SourceInfo, qualify, split_qualified

if TYPE_CHECKING:
    from graphguard.readers.workbook import Workbook
    from graphguard.retention.log import Deletion

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
    """One rejected row: where it is, which column broke which rule, and the row itself.

    In a version 2 dataset ``source`` names the agency extract the row came from and
    ``file`` includes it (``police/people.csv``, ``education/town.xlsx sheet people``).
    """

    file: str
    line: int
    column: str | None
    reason: str
    row: dict[str, str] = field(default_factory=dict, compare=False)
    source: str | None = None
    #: What ``line`` counts in a message: ``"row"`` for a v2 workbook sheet.
    unit: str = field(default="line", compare=False)

    def __str__(self) -> str:
        column = f", column {self.column}" if self.column else ""
        return f"{self.file} {self.unit} {self.line}{column}: {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "reason": self.reason,
        }
        if self.source is not None:
            out["source"] = self.source
        return out


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
    #: v2: the source (agency extract) the file belongs to; None for v1 and top-level files.
    source: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": self.rejected,
        }
        if self.source is not None:
            out["source"] = self.source
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
    #: v2: analysts' match decisions: for each pair the last row of decisions.csv, in
    #: the order of those rows (a later row for a pair replaces an earlier one).
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
    """A dataset together with the report of how it was read.

    ``dataset`` is what every command works on.  For a version 2 dataset it is the
    *entity-level* dataset (one person, place or vehicle per resolved entity, with its
    ``resolution``) and :attr:`records` is the record-level one, every id qualified
    ``source:local_id``; for version 1 the two are the same object.
    """

    dataset: Dataset
    files: dict[str, FileReport]
    rejects: list[Reject]
    #: About the dataset as a whole: files or sheets that are not part of the format.
    warnings: list[str] = field(default_factory=list)
    #: v2: the records as the sources sent them; None when they are ``dataset`` itself.
    record_level: Dataset | None = None

    @property
    def records(self) -> Dataset:
        """The record-level dataset: for v2 every record under its qualified id."""
        return self.dataset if self.record_level is None else self.record_level

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
        out: dict[str, Any] = {
            "files": {r.file: r.as_dict() for r in self.files.values() if r.present},
            "rejects": [r.as_dict() for r in self.rejects],
            "warnings": list(self.warnings),
        }
        if self.records.version == 2:
            out = {"version": 2, "sources": self.source_summary(), **out}
        return out

    def resolved_with(self, decision: Decision) -> IngestResult:
        """This v2 reading resolved again with one more analyst's decision.

        The records already read are resolved again (the extracts are not read),
        exactly as :func:`read_dataset` resolves them, with ``decision`` after the
        decisions they carry: what reading the dataset again would give once the
        decision is in its ``decisions.csv``.
        """
        if self.record_level is None:
            raise UsageError("match decisions are made on a dataset of agency extracts")
        records = dataclasses.replace(
            self.record_level, decisions=[*self.record_level.decisions, decision]
        )
        return _resolved(records, self.files, self.rejects, self.warnings)

    def source_summary(self) -> dict[str, dict[str, Any]]:
        """v2: per source, its agency and the rows read, accepted and rejected in its files."""
        summary = {name: _source_entry(info) for name, info in self.records.sources.items()}
        for report in self.files.values():
            if report.source is None or not report.present:
                continue
            # A folder whose name is not a source name is not among the sources.
            entry = summary.setdefault(report.source, _source_entry(SourceInfo(report.source)))
            entry["rows"] += report.rows
            entry["accepted"] += report.accepted
            entry["rejected"] += report.rejected
            entry["files"].append(report.file)
            if report.error:
                entry.setdefault("errors", []).append(report.error)
        return summary


def _source_entry(info: SourceInfo) -> dict[str, Any]:
    """A source's entry in :meth:`IngestResult.source_summary`, before its files are counted."""
    return {
        "agency": info.agency,
        "extracted_on": info.extracted_on.isoformat() if info.extracted_on else None,
        "rows": 0,
        "accepted": 0,
        "rejected": 0,
        "files": [],
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
#: The node kind of a record → its entity kind (the kind entity resolution compares).
_ENTITY_KIND = {
    "young_person": "person",
    "adult": "person",
    "location": "location",
    "vehicle": "vehicle",
}


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


def _folder_sources(path: Path, limits: ReadLimits, prefix: str = "") -> _Sources:
    """The files of a v1 layout folder; ``prefix`` (``"police/"``) names a v2 source's."""
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
            name = prefix + child.name
            if stem in FILES:
                claims.setdefault(stem, []).append(child.name)
                sources.files[stem] = (
                    name,
                    functools.partial(open_csv, child, name, limits=limits),
                )
            else:
                sources.warnings.append(f"{name} is not one of {_KNOWN}: not read")
    if not sources.files:
        if len(workbooks) == 1:
            return _workbook_sources(workbooks[0], limits, prefix)
        if workbooks:
            raise UsageError(
                f"{path}: holds {len(workbooks)} workbooks and no CSV files: give one workbook"
            )
        raise UsageError(
            f"{path}: not a dataset (no people.csv, links.csv, locations.csv or vehicles.csv)"
        )
    for workbook in workbooks:
        sources.warnings.append(
            f"{prefix}{workbook.name} is not read: this folder's CSV files are"
        )
    _claim(sources, claims, "files", repr)
    return sources


def _workbook_sources(path: Path, limits: ReadLimits, prefix: str = "") -> _Sources:
    # Imported here: openpyxl (for its date formats) is 20 MB of memory CSV never needs.
    from graphguard.readers.workbook import Workbook

    workbook = Workbook(path, limits)
    sources = _Sources(str(path), workbook=workbook)
    claims: dict[str, list[str]] = {}
    hidden = {sheet.name for sheet in workbook.sheets if sheet.hidden}
    # A v2 source's sheets are named with the source and workbook: one report holds many.
    where = f"{prefix}{path.name}" if prefix else ""
    for sheet in workbook.sheets:
        stem = _stem(sheet.name)
        if stem not in FILES:
            said = f"{where}: " if where else ""
            sources.warnings.append(
                f"{said}sheet {sheet.name!r} is not one of {', '.join(FILES)}: not read"
            )
            continue
        claims.setdefault(stem, []).append(sheet.name)
        name = f"{where} sheet {sheet.name}" if where else sheet.name
        sources.files[stem] = (name, functools.partial(workbook.table, sheet))
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
        # id → (file name, line, endpoint kind).  A duplicate id is of the same source,
        # whose files count lines in one unit (CSV files or one workbook), so the
        # current ``unit`` names the first use's too.
        self.ids: dict[str, tuple[str, int, str]] = {}
        # id → "file line N" ("… row N" in a v2 sheet) of rows that were rejected, to
        # explain links to them
        self.rejected_ids: dict[str, str] = {}
        self.link_ids: dict[str, int] = {}
        #: v2: the source being read, whose local ids are qualified with it; None for v1.
        self.source: str | None = None
        #: v2: the agency the current source's links default to (from sources.csv).
        self.agency: Agency | None = None
        #: What a line number counts in the current table's rejects.
        self.unit = "line"
        #: v2: every source folder of the dataset → why it could not be read ("" if it could).
        self.source_folders: dict[str, str] = {}
        #: Records deleted under the retention policy and not restored: ref → deletion.
        self.held: Mapping[str, Deletion] = {}
        #: The pseudonym key, when a held-back ref is a young person's pseudonym.
        self.held_key: bytes | None = None

    # -- helpers ------------------------------------------------------------
    def _key(self, local_id: str) -> str:
        """The id a record is known by: qualified with its source in v2, as written in v1."""
        return local_id if self.source is None else qualify(self.source, local_id)

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

    def _parsed_rows(
        self,
        stem: str,
        columns: list[tuple[int, str, Callable[[object], Any] | None]],
        table: Table,
        report: FileReport,
    ) -> Iterator[
        tuple[int, list[str], dict[str, Any], dict[str, str], list[tuple[str | None, str]]]
    ]:
        """Each row of ``table`` holding anything, counted in ``report``, with its cells parsed.

        Yields the line, the cells, the parsed values, the cells of columns the format
        does not name, and the problems found so far (the caller adds its own).
        """
        width = len(table.header)
        for line, record, found in self._unnamed_columns(report, table):
            if not found and not any(c and not c.isspace() for c in record):
                continue
            report.rows += 1
            yield line, record, *self._parse_row(stem, columns, width, record, found)

    def _reject(
        self,
        report: FileReport,
        line: int,
        columns: list[tuple[int, str, Callable[[object], Any] | None]],
        record: list[Any],
        problems: list[tuple[str | None, str]],
    ) -> None:
        report.rejected += 1
        raw_row = self._raw_row(columns, record)
        for column, reason in problems:
            self.rejects.append(
                Reject(report.file, line, column, reason, raw_row, self.source, self.unit)
            )

    def _held_back(self, key: str, young_person: bool) -> str | None:
        """Why the record ``key`` is held back (deleted, not restored), or None."""
        ref = key
        if young_person:
            if self.held_key is None:
                return None  # no young person's record is held back
            from graphguard.retention.review import record_ref

            ref = record_ref(key, True, self.held_key, qualified=self.source is not None)
        deletion = self.held.get(ref)
        if deletion is None:
            return None
        return (
            f"record {key} was deleted on {deletion.deleted_on} under rule {deletion.rule}; "
            f"held back until someone decides otherwise (graphguard review restore {ref})"
        )

    # -- files --------------------------------------------------------------
    def read_entities(self, stem: str, table: Table, report: FileReport) -> None:
        name = table.name
        columns = self._columns(stem, table)
        id_column = _ID_COLUMN[stem]
        model = _MODELS[stem]
        store: dict[str, Any] = getattr(self.dataset, stem)
        rows = self._parsed_rows(stem, columns, table, report)
        for line, record, values, extra, problems in rows:
            entity_id = values.get(id_column)
            key = None if entity_id is None else self._key(entity_id)
            if not problems and stem == "locations":
                problem = coordinates_problem(values.get("latitude"), values.get("longitude"))
                if problem:
                    problems.append(problem)
            if key is not None and key in self.ids:
                first_file, first_line, _ = self.ids[key]
                problems.append(
                    (
                        id_column,
                        f"duplicate id {entity_id!r}: "
                        f"already used in {first_file} {self.unit} {first_line}",
                    )
                )
            if self.held and key is not None and not problems:
                young = stem == "people" and values.get("role") is Role.YOUNG_PERSON
                held = self._held_back(key, young)
                if held:
                    problems.append((id_column, held))
            if problems:
                self._reject(report, line, columns, record, problems)
                raw_id = self._raw_row(columns, record).get(id_column, "").strip()
                if raw_id and self._key(raw_id) not in self.ids:
                    where = f"{name} {self.unit} {line}"
                    self.rejected_ids.setdefault(self._key(raw_id), where)
                continue
            assert key is not None  # required, so present when there are no problems
            values[id_column] = key
            entity = _construct(model, values, extra)
            self.ids[key] = (name, line, node_kind(entity))
            store[key] = entity
            report.accepted += 1

    def read_links(self, table: Table, report: FileReport) -> None:
        columns = self._columns("links", table)
        rows = self._parsed_rows("links", columns, table, report)
        for line, record, values, extra, problems in rows:
            source, target = values.get("source_id"), values.get("target_id")
            keys = {
                column: self._end_key(end)
                for column, end in (("source_id", source), ("target_id", target))
                if end is not None
            }
            if source is not None and keys.get("source_id") == keys.get("target_id"):
                problems.append(("target_id", "a link cannot join an entity to itself"))
            problem = dates_problem(values.get("first_seen"), values.get("last_seen"))
            if problem:
                problems.append(problem)
            kinds = []
            for column, end in (("source_id", source), ("target_id", target)):
                if end is None:
                    continue
                key = keys[column]
                known = self.ids.get(key)
                if known is None:
                    where = self.rejected_ids.get(key)
                    if where:
                        problems.append(
                            (column, f"{end!r} was rejected ({where}), so this link is too")
                        )
                    else:
                        problems.append((column, self._unknown_end(end)))
                else:
                    values[column] = key
                    kinds.append(known[2])
            link_type = values.get("type")
            if len(kinds) == 2 and isinstance(link_type, LinkType):
                problem = check_link_ends(link_type, kinds[0], kinds[1])
                if problem:
                    problems.append(problem)
            link_id = values.get("link_id")
            link_key = None if link_id is None else self._key(link_id)
            if self.held and link_key is not None:
                # A deleted record's deletion is its reason first, before its ends'.
                held = self._held_back(link_key, False)
                if held:
                    problems.insert(0, ("link_id", held))
            if link_key is not None and link_key in self.link_ids:
                problems.append(
                    (
                        "link_id",
                        f"duplicate link_id {link_id!r}: "
                        f"already used on {self.unit} {self.link_ids[link_key]}",
                    )
                )
            if link_key is None and not problems:
                link_key = self._derived_link_id(values)
                held = self._held_back(link_key, False) if self.held else None
                if held:
                    problems.append(("link_id", held))
            if problems:
                self._reject(report, line, columns, record, problems)
                continue
            assert link_key is not None  # derived above when the row had no problems
            values["link_id"] = link_key
            self.link_ids[link_key] = line
            if self.agency is not None and values.get("agency") is None:
                values["agency"] = self.agency  # the source's agency, from sources.csv
            if link_type is LinkType.SUPPORTS and values.get("protective") is None:
                values["protective"] = True  # SUPPORTS is always protective (DATA-FORMAT.md)
            values.setdefault("count", 1)
            if self.collect_links:
                self.links.add(values, extra)
            report.accepted += 1

    # -- version 2: sources.csv and decisions.csv --------------------------
    def read_sources(self, table: Table, report: FileReport) -> None:
        """Read ``sources.csv`` into the dataset's sources, in the file's order."""
        columns = self._columns("sources", table)
        lines: dict[str, int] = {}
        rows = self._parsed_rows("sources", columns, table, report)
        for line, record, values, _, problems in rows:
            source = values.get("source")
            if source is not None and source in lines:
                problems.append(
                    ("source", f"source {source!r} already has a row (line {lines[source]})")
                )
            elif source is not None and source not in self.source_folders:
                problems.append(
                    (
                        "source",
                        f"no source folder {source!r} in the dataset: "
                        "its extract is missing (or the folder has another name)",
                    )
                )
            if problems:
                self._reject(report, line, columns, record, problems)
                continue
            assert source is not None
            lines[source] = line
            agency = values.get("agency")
            self.dataset.sources[source] = SourceInfo(
                source=source,
                agency=None if agency is None else agency.value,
                extracted_on=values.get("extracted_on"),
                contact=values.get("contact"),
            )
            report.accepted += 1

    def read_decisions(self, table: Table, report: FileReport) -> None:
        """Read ``decisions.csv``: a later row for a pair replaces an earlier one."""
        columns = self._columns("decisions", table)
        by_pair: dict[tuple[str, str], Decision] = {}
        rows = self._parsed_rows("decisions", columns, table, report)
        for line, record, values, _, problems in rows:
            a, b = values.get("record_a"), values.get("record_b")
            if a is not None and a == b:
                problems.append(("record_b", "a decision is about two different records"))
            kinds: list[str] = []
            for column, record_id in (("record_a", a), ("record_b", b)):
                if record_id is None:
                    continue
                known = self.ids.get(record_id)
                if known is not None:
                    kinds.append(_ENTITY_KIND[known[2]])
                    continue
                where = self.rejected_ids.get(record_id)
                if where:
                    problems.append(
                        (column, f"{record_id!r} was rejected ({where}), so this decision is too")
                    )
                    continue
                owner = split_qualified(record_id)[0]
                if owner not in self.source_folders:
                    why = f"there is no source {owner!r} in the dataset"
                else:
                    unread = self.source_folders[owner] or self.unreadable_entity_files(owner)
                    why = f"not defined in any entity file of {owner}" + (
                        f" ({unread} could not be read)" if unread else ""
                    )
                problems.append((column, f"unknown record {record_id!r}: {why}"))
            if len(kinds) == 2 and kinds[0] != kinds[1]:
                problems.append(
                    (
                        "record_b",
                        f"{b!r} is a {kinds[1]} and {a!r} a {kinds[0]}: "
                        "a decision is about two records of one kind",
                    )
                )
            if problems:
                self._reject(report, line, columns, record, problems)
                continue
            assert a is not None and b is not None
            decision = Decision(
                record_a=a,
                record_b=b,
                decision=values["decision"].value,
                decided_by=values["decided_by"],
                decided_on=values["decided_on"],
                reason=values.get("reason"),
                line=line,
            )
            by_pair.pop(decision.pair, None)  # the later row replaces it, in its own place
            by_pair[decision.pair] = decision
            report.accepted += 1
        self.dataset.decisions = list(by_pair.values())

    def unreadable_entity_files(self, source: str | None = None) -> str:
        """The entity files of ``source`` (v1: of the dataset) that could not be read."""
        return ", ".join(
            r.file
            for key, r in self.files.items()
            if key.rpartition("/")[2] in ENTITY_FILES and r.error and r.source == source
        )

    def _end_key(self, end: str) -> str:
        """The record a link end names: first the source's own local id, then a qualified id."""
        if self.source is None:
            return end
        own = qualify(self.source, end)
        if own in self.ids or own in self.rejected_ids:
            return own
        if ":" in end and (end in self.ids or end in self.rejected_ids):
            return end
        return own

    def _unknown_end(self, end: str) -> str:
        """Why a link end names no record, saying which files could not be read."""
        if self.source is None:
            unread = self.unreadable_entity_files()
            note = f" ({unread} could not be read)" if unread else ""
            return f"unknown id {end!r}: not defined in any entity file{note}"
        owner, colon, _ = end.partition(":")
        if not (colon and owner in self.source_folders):
            owner = self.source
        why = self.source_folders.get(owner) or self.unreadable_entity_files(owner)
        note = f" ({why} could not be read)" if why else ""
        what = "record" if owner != self.source else "id"
        return f"unknown {what} {end!r}: not defined in any entity file of {owner}{note}"

    def _derived_link_id(self, values: dict[str, Any]) -> str:
        content = "|".join(f"{k}={values[k]}" for k in sorted(values))
        base = self._key("auto:" + hashlib.sha1(content.encode("utf-8")).hexdigest()[:16])
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


def _construct(model: type[Entity], values: dict[str, Any], extra: dict[str, str]) -> Entity:
    """The record of one accepted row: ``values`` parsed, the other fields defaulted."""
    fields = dict(field_defaults(model))
    fields.update(values)
    fields["extra"] = extra
    return construct_parsed(model, fields, set(values))


def _find_sources(path: Path, limits: ReadLimits) -> _Sources:
    if not path.exists():
        raise UsageError(f"{path}: no such file or folder")
    if path.is_dir():
        return _folder_sources(path, limits)
    if path.suffix.lower() == ".xlsx":
        return _workbook_sources(path, limits)
    raise UsageError(f"{path}: not a dataset (give a folder of CSV files or an .xlsx workbook)")


# --------------------------------------------------------------------------- version 2

#: The files at the top of a v2 dataset, beside its source folders.
_TOP_STEMS = ("sources", "decisions")


@dataclass
class _Layout:
    """A version 2 dataset folder: its source folders and top-level files, found not read."""

    path: Path
    #: Source name → its folder, for every folder holding a CSV file or a workbook.
    folders: dict[str, Path] = field(default_factory=dict)
    #: ``sources`` / ``decisions`` → the file.
    top: dict[str, Path] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _holds_data(folder: Path) -> bool:
    return any(
        child.is_file()
        and child.suffix.lower() in (".csv", ".xlsx")
        and not child.name.startswith("~$")
        for child in folder.iterdir()
    )


def _listed(names: Sequence[str], most: int = 3) -> str:
    shown_names = ", ".join(names[:most])
    return shown_names + (f" and {len(names) - most} more" if len(names) > most else "")


def _v2_layout(path: Path) -> _Layout | None:
    """The v2 layout of a folder with source subfolders, or None for a v1 folder.

    Raises DataError when the folder mixes the two layouts: dataset files at the top
    beside source folders would leave it unclear whose ids those files use.
    """
    children = sorted(path.iterdir())
    folders = [
        c for c in children if c.is_dir() and not c.name.startswith(".") and _holds_data(c)
    ]
    if not folders:
        return None
    dataset_files = [
        c.name
        for c in children
        if c.is_file()
        and (
            (c.suffix.lower() == ".csv" and _stem(c.name) in FILES)
            or (c.suffix.lower() == ".xlsx" and not c.name.startswith("~$"))
        )
    ]
    if dataset_files:
        raise DataError(
            f"{path}: holds dataset files ({_listed(dataset_files)}) beside source folders "
            f"({_listed([f.name + '/' for f in folders])}); a dataset has one layout: "
            "move those files into a source folder of their own"
        )
    layout = _Layout(path)
    for child in children:
        if child in folders:
            layout.folders[child.name] = child
        elif child.is_dir():
            if not child.name.startswith("."):
                layout.warnings.append(
                    f"folder {child.name}/ holds no CSV file or workbook: not read as a source"
                )
        elif child.suffix.lower() == ".csv" and _stem(child.name) in _TOP_STEMS:
            stem = _stem(child.name)
            if stem in layout.top:
                layout.warnings.append(
                    f"{child.name} is not read: {layout.top[stem].name} is this dataset's "
                    f"{stem}.csv"
                )
            else:
                layout.top[stem] = child
        elif child.suffix.lower() == ".csv":
            # As in a v1 folder, only CSV files are named: a README is not data.
            layout.warnings.append(
                f"{child.name} is not read: a dataset of agency extracts holds source folders, "
                "sources.csv and decisions.csv"
            )
    return layout


def _read_v2(reader: _Reader, layout: _Layout, limits: ReadLimits) -> list[str]:
    """Read a v2 dataset: sources.csv, every source's entities, then links, then decisions.

    Entities of every source are read before any links so that a link may name a
    record of another source.  Returns the dataset-level warnings.
    """
    dataset = reader.dataset
    dataset.version = 2
    warnings = list(layout.warnings)
    for name in layout.folders:
        try:
            parse_source_name(name)
        except ValueError as exc:
            reader.source_folders[name] = f"{name}/"
            reader.files[f"{name}/"] = FileReport(
                f"{name}/", error=f"source folder {name}/: {exc}: rename the folder", source=name
            )
        else:
            reader.source_folders[name] = ""
    if "sources" in layout.top:
        top = layout.top["sources"]
        report = reader.files["sources"] = FileReport(top.name)
        opener = functools.partial(open_csv, top, top.name, limits=limits)
        _read_table(reader, "sources", top.name, opener, report)
    readable = [n for n, unread in reader.source_folders.items() if not unread]
    if "sources" in layout.top and not reader.files["sources"].error:
        unlisted = [n for n in readable if n not in dataset.sources]
        if unlisted:
            warnings.append(
                f"{_listed(unlisted)} {'has' if len(unlisted) == 1 else 'have'} no row in "
                f"{layout.top['sources'].name}: read, with no agency to give links that name none"
            )
    # The order of sources.csv (which breaks ties between sources), then the rest by name.
    order = [n for n in dataset.sources if n in readable] + sorted(
        n for n in readable if n not in dataset.sources
    )
    dataset.sources = {
        n: dataclasses.replace(
            dataset.sources.get(n, SourceInfo(source=n)), path=str(layout.folders[n])
        )
        for n in order
    }
    opened: dict[str, _Sources] = {}
    try:
        for name in order:
            folder = layout.folders[name]
            try:
                opened[name] = _folder_sources(folder, limits, prefix=f"{name}/")
            except (UsageError, DataError) as exc:
                reader.source_folders[name] = f"{name}/"
                reason = str(exc).removeprefix(f"{folder}: ")
                reader.files[f"{name}/"] = FileReport(
                    f"{name}/", error=f"source folder {name}/: {reason}", source=name
                )
                continue
            warnings.extend(opened[name].warnings)
        for stems in (ENTITY_FILES, ("links",)):
            for name, files in opened.items():
                reader.source = name
                agency = dataset.sources[name].agency
                reader.agency = None if agency is None else Agency(agency)
                _read_all(reader, files, stems, required_files=())
    finally:
        reader.source, reader.agency = None, None
        for files in opened.values():
            if files.workbook is not None:
                files.workbook.close()
    if "decisions" in layout.top:
        top = layout.top["decisions"]
        report = reader.files["decisions"] = FileReport(top.name)
        opener = functools.partial(open_csv, top, top.name, limits=limits)
        _read_table(reader, "decisions", top.name, opener, report)
    return warnings


def read_dataset(
    path: str | Path,
    *,
    collect_links: bool = True,
    today: dt.date | None = None,
    limits: ReadLimits | None = None,
    resolve: bool = True,
    held: Mapping[str, Deletion] | None = None,
) -> IngestResult:
    """Read and validate a dataset folder or workbook.

    Parameters
    ----------
    path : str or Path
        A folder holding ``people.csv``, ``links.csv`` and optionally ``locations.csv``
        and ``vehicles.csv``, or an ``.xlsx`` workbook with sheets of those names
        (version 1); or a folder of agency extracts, one subfolder per source, with
        an optional ``sources.csv`` and ``decisions.csv`` (version 2).
    collect_links : bool, default True
        Keep the accepted links in the dataset.  ``False`` validates and counts them
        without keeping them, so validating a file of millions of links needs memory
        only for the entities and the link ids.  Which rows are accepted is the same
        either way.
    today : date, optional
        The day against which "not in the future" is judged; today by default.
    limits : ReadLimits, optional
        Caps on cell length and workbook size; from the settings by default.
    resolve : bool, default True
        Version 2 only: resolve the records into entities
        (:func:`graphguard.resolve.match_records`, then
        :func:`graphguard.resolve.merge_records`).  ``False`` gives the records
        alone, ``dataset is records``: what ``validate`` needs, and fast.
    held : mapping, optional
        Records deleted under the retention policy and not restored (record ref →
        :class:`~graphguard.retention.Deletion`); each is held back with a reject
        naming its deletion.  By default the workspace database's deletion log
        (nothing when there is no workspace database).

    Returns
    -------
    IngestResult
        The accepted rows as a :class:`Dataset`, a :class:`FileReport` per file and
        every :class:`Reject`.  For version 2, ``records`` is the record-level dataset
        and ``dataset`` the entity-level one.

    Raises
    ------
    UsageError
        When ``path`` does not exist or is not a dataset at all.
    DataError
        When a workbook cannot be opened at all (damaged, not a workbook, over a cap),
        or a folder mixes a v1 dataset's files with v2 source folders.

    Examples
    --------
    >>> result = read_dataset("fixtures/demo")
    >>> result.ok
    True
    """
    if limits is None:
        from graphguard.settings import get_settings

        limits = ReadLimits.from_settings(get_settings())
    path = Path(path)
    layout = _v2_layout(path) if path.is_dir() else None
    reader = _Reader(collect_links, today)
    _hold_back(reader, held)
    sources: _Sources | None = None
    # Millions of small records and no cycles among them: the cyclic garbage collector
    # would only rescan them again and again while they are being read.
    try:
        with collector_paused():
            if layout is not None:
                reader.dataset.source = str(layout.path)
                warnings = _read_v2(reader, layout, limits)
            else:
                sources = _find_sources(path, limits)
                reader.dataset.source = sources.label
                warnings = sources.warnings
                _read_all(reader, sources)
    finally:
        if sources is not None and sources.workbook is not None:
            sources.workbook.close()
    records = reader.dataset
    if layout is None:
        return IngestResult(categorise(records), reader.files, reader.rejects, warnings)
    if not resolve:
        return IngestResult(records, reader.files, reader.rejects, warnings)
    return _resolved(records, reader.files, reader.rejects, warnings)


def _hold_back(reader: _Reader, held: Mapping[str, Deletion] | None) -> None:
    """Give the reader the records to hold back, and the key if a young person's is one."""
    if held is None:
        from graphguard.retention.log import held_back

        held = held_back()
    reader.held = held
    if any(ref.startswith(("YP-", "YR-")) for ref in held):
        from graphguard.settings import pseudonym_key

        reader.held_key = pseudonym_key()


def _read_all(
    reader: _Reader,
    sources: _Sources,
    stems: Sequence[str] = FILES,
    required_files: Sequence[str] = _REQUIRED_FILES,
) -> None:
    """Read the files ``stems`` of one v1 layout: a v1 dataset, or the current v2 source."""
    prefix = "" if reader.source is None else f"{reader.source}/"
    for stem in stems:
        key = prefix + stem
        conflict = sources.conflicts.get(stem)
        if conflict:
            reader.files[key] = FileReport(
                f"{prefix}{stem}.csv", error=conflict, source=reader.source
            )
            continue
        if stem not in sources.files:
            name = f"{prefix}{stem}.csv"
            required = stem in required_files
            reader.files[key] = FileReport(
                name,
                error=f"{name} is required but missing" if required else None,
                present=required,
                source=reader.source,
            )
            continue
        name, opener = sources.files[stem]
        report = reader.files[key] = FileReport(name, source=reader.source)
        _read_table(reader, stem, name, opener, report)


def _read_table(
    reader: _Reader, stem: str, name: str, opener: Opener, report: FileReport
) -> None:
    """Open one file or sheet and read its rows into the reader, or say why it cannot be."""
    try:
        table = opener({c: reader.parsers[stem][c] for c in REQUIRED_COLUMNS[stem]})
        table.name = name  # a v2 sheet is reported with its source and workbook
        reader.unit = table.unit if reader.source is not None else "line"
        # The same list: warnings found while the rows are read land in the report.
        report.warnings = table.warnings
        if not table.header:
            report.error = f"{name} is empty (no header row)"
            return
        if stem == "links":
            reader.read_links(table, report)
        elif stem == "sources":
            reader.read_sources(table, report)
        elif stem == "decisions":
            reader.read_decisions(table, report)
        else:
            reader.read_entities(stem, table, report)
    except TableProblem as problem:
        report.error = f"{name}: {problem}"
    except OSError as exc:
        report.error = f"{name}: cannot be read ({exc.strerror or exc})"


def _resolved(
    records: Dataset, files: dict[str, FileReport], rejects: list[Reject], warnings: list[str]
) -> IngestResult:
    """The reading of v2 ``records`` resolved into entities (the records kept beside them)."""
    from graphguard.resolve import match_records, merge_records

    entities = merge_records(records, match_records(records))
    return IngestResult(entities, files, rejects, warnings, record_level=records)


def write_rejects(rejects: list[Reject], path: str | Path) -> int:
    """Write the rejected rows, each with its file, line and reasons, as a CSV to fix and resend.

    One output row per rejected input row; when a row broke several rules its columns
    and reasons are joined with ``"; "``.  Cells that a spreadsheet would read as a
    formula are neutralised.  Rejects of a version 2 dataset carry a ``source``
    column (empty for ``sources.csv`` and ``decisions.csv``) after ``file``.  Returns
    the number of rows written.
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
        # Only a v2 dataset's rejects name a source: a v1 report keeps its columns.
        by_source = any(r.source is not None for r in rejects)
        where = ["file", "source"] if by_source else ["file"]
        writer.writerow([*where, "line", "column", "reason", *data_columns])
        for (file, line), group in grouped.items():
            columns = "; ".join(r.column or "" for r in group)
            reasons = "; ".join(r.reason for r in group)
            row = group[0].row
            source = [group[0].source or ""] if by_source else []
            writer.writerow(
                [file, *source, line, columns, safe_cell(reasons)]
                + [safe_cell(row.get(c, "")) for c in data_columns]
            )
    return len(grouped)
