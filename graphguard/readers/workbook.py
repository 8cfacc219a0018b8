"""Excel workbooks (.xlsx), streamed row by row, with nothing left out and nothing trusted.

- **Every cell is read.**  The used range a sheet records (its ``<dimension>``) is
  ignored: a program that wrote a wrong one would otherwise hide rows and columns
  (openpyxl's read-only mode trusts it).
- **Merged cells are said, not read as empty.**  Only the first cell of a merged
  range holds its value; every row the range covers is rejected naming the range.
- **A hostile archive is refused before it is unpacked.**  The sizes the archive
  declares are checked first, in total (``GRAPHGUARD_XLSX_MAX_UNPACKED_MB``) and part
  by part against their packed size (``GRAPHGUARD_XLSX_MAX_RATIO``, what a zip bomb
  exceeds).  Python's zipfile never unpacks more than a part declares, so a header
  that lies about its size gives a damaged-archive error rather than more data.
  While parsing, text that grows past the longest cell allowed
  (``GRAPHGUARD_MAX_CELL_CHARS``) stops the parse before it is held whole.

Cells become the text a CSV export of them would hold: numbers without a needless
``.0``, date cells as ``YYYY-MM-DD``, booleans as ``true``/``false``, and a formula
with no saved value as its formula text, so nothing vanishes silently.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl.formula.translate import Translator, TranslatorError
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

from graphguard.errors import DataError
from graphguard.readers.table import NO_PROBLEMS, ReadLimits, Row, Table, TableProblem, find_header

__all__ = ["Sheet", "Workbook"]

_CHUNK_BYTES = 1 << 16
_MAX_COLUMN = 16_384  # Excel's last column, XFD
_MERGE = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\b[^>]*?\bref=[\"']"
    rb"([A-Za-z]{1,3}[0-9]{1,7}(?::[A-Za-z]{1,3}[0-9]{1,7})?)[\"']"
)
_REFERENCE = re.compile(r"([A-Za-z]{1,3})([0-9]{1,7})")


#: The sheet elements read, in the order ``Workbook._rows`` and ``_value`` unpack them.
_SHEET_TAGS = ("sheetData", "row", "c", "v", "f", "is", "t", "r")


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _namespace(element: ET.Element) -> str:
    """``"{uri}"`` of an element's tag: transitional and strict OOXML differ in it."""
    tag = element.tag
    return tag[: tag.index("}") + 1] if tag.startswith("{") else ""


def _mib(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB"


@dataclass(frozen=True)
class Sheet:
    """One sheet of a workbook: its name, its part in the archive, hidden or not."""

    name: str
    part: str | None
    state: str = "visible"
    kind: str = "worksheet"

    @property
    def hidden(self) -> bool:
        return self.state != "visible"


@dataclass(frozen=True)
class _Merge:
    reference: str
    first_column: int
    first_row: int
    last_column: int
    last_row: int


def _merge(reference: str) -> _Merge | None:
    corners = [_REFERENCE.fullmatch(corner) for corner in reference.split(":")]
    if len(corners) != 2 or not all(corners):
        return None  # one cell "merged" with itself hides nothing
    (c1, r1), (c2, r2) = ((_column_number(m.group(1)), int(m.group(2))) for m in corners if m)
    return _Merge(reference.upper(), min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2))


_COLUMNS: dict[str, int] = {}


def _column_number(letters: str) -> int:
    number = _COLUMNS.get(letters)
    if number is None:
        number = 0
        for letter in letters.upper():
            number = number * 26 + ord(letter) - 64
        _COLUMNS[letters] = number
    return number


@dataclass
class _SheetState:
    """What the row stream learns once the header is known."""

    #: Column numbers (1-based) the header names; merges elsewhere are formatting only.
    columns: set[int] | None = None
    shared_formulas: dict[str, Translator] = field(default_factory=dict)


class Workbook:
    """An open .xlsx workbook whose sizes have been checked.

    Parameters
    ----------
    path : Path
        The workbook.
    limits : ReadLimits
        The caps on unpacked size, packing ratio and cell length.

    Raises
    ------
    DataError
        When the file is not a workbook, is damaged, or would unpack past the caps.
    """

    def __init__(self, path: Path, limits: ReadLimits) -> None:
        self.path = path
        self.limits = limits
        try:
            self._zip = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            raise DataError(f"{path}: not an .xlsx workbook ({_what_it_is(path)})") from None
        except OSError as exc:
            raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
        try:
            self._parts = {info.filename: info for info in self._zip.infolist()}
            self._check_sizes()
            workbook = self._office_document()
            self.sheets, self._epoch = self._read_workbook(workbook)
            related = self._relationships(workbook)
            styles = next((t for k, t in related.values() if k == "styles"), None)
            self._date_styles, self._duration_styles = self._read_styles(styles)
            strings = next((t for k, t in related.values() if k == "sharedStrings"), None)
            self._strings, self._oversized = self._read_strings(strings)
        except TableProblem as problem:
            self._zip.close()
            raise DataError(f"{path}: {problem}") from None
        except BaseException:
            self._zip.close()
            raise

    def close(self) -> None:
        self._zip.close()

    # -- the archive --------------------------------------------------------
    def _check_sizes(self) -> None:
        limits = self.limits
        total = sum(info.file_size for info in self._parts.values())
        if total > limits.max_unpacked_bytes:
            raise TableProblem(
                f"refused: it would unpack to {_mib(total)}, more than the "
                f"{_mib(limits.max_unpacked_bytes)} allowed (GRAPHGUARD_XLSX_MAX_UNPACKED_MB): "
                "a zip bomb, or a workbook too large to read safely; send it as CSV files"
            )
        for info in self._parts.values():
            size, packed = info.file_size, max(info.compress_size, 1)
            if size > limits.ratio_grace_bytes and size > limits.max_ratio * packed:
                raise TableProblem(
                    f"refused: its part {info.filename} would unpack to {_mib(size)} from "
                    f"{_mib(packed)}, {size / packed:,.0f} times its packed size (the limit "
                    f"is {limits.max_ratio:g}, GRAPHGUARD_XLSX_MAX_RATIO): a zip bomb, or a "
                    "damaged workbook"
                )

    def _chunks(self, part: str) -> Iterator[bytes]:
        info = self._parts.get(part)
        if info is None:
            raise TableProblem(f"damaged: the part {part} is missing from the archive")
        try:
            with self._zip.open(info) as stream:
                while chunk := stream.read(_CHUNK_BYTES):
                    yield chunk
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise TableProblem(
                f"damaged: {part} cannot be unpacked ({exc}); open and save it again in Excel"
            ) from None
        except NotImplementedError as exc:  # an encryption or compression zipfile lacks
            raise TableProblem(f"cannot be unpacked: {exc}") from None

    def _events(self, part: str, events: Sequence[str]) -> Iterator[tuple[str, ET.Element]]:
        """Parse a part as it is unpacked; refuse text that grows past the longest cell."""
        # Typed loosely: typeshed's event tuples cannot say "an element for these events".
        parser: Any = ET.XMLPullParser(events)  # type: ignore[arg-type]
        # Bytes fed since an element last ended: text that long is being held in one
        # piece by the parser, so it is cut off here rather than grown further.
        unended = 0
        guard = 8 * self.limits.max_cell_chars + (1 << 20)
        first = True
        try:
            for chunk in self._chunks(part):
                if first and b"<!DOCTYPE" in chunk[:4096]:
                    raise TableProblem(f"refused: {part} declares a DOCTYPE, which .xlsx never has")
                first = False
                parser.feed(chunk)
                unended += len(chunk)
                for event, element in parser.read_events():
                    if event == "end":
                        unended = 0
                    yield event, element
                if unended > guard:
                    raise TableProblem(
                        f"{part} holds a cell longer than {self.limits.max_cell_chars:,} "
                        "characters (GRAPHGUARD_MAX_CELL_CHARS): not read"
                    )
            parser.close()
            yield from parser.read_events()
        except ET.ParseError as exc:
            raise TableProblem(f"damaged: {part} is not well-formed XML ({exc})") from None

    def _xml(self, part: str) -> ET.Element:
        root: ET.Element | None = None
        for event, element in self._events(part, ("start", "end")):
            if root is None and event == "start":
                root = element
        if root is None:
            raise TableProblem(f"damaged: {part} is empty")
        return root

    def _relationships(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship id → (type, target part) of one part."""
        folder, name = posixpath.split(part)
        rels = posixpath.join(folder, "_rels", name + ".rels")
        if rels not in self._parts:
            return {}
        found = {}
        for element in self._xml(rels):
            target = element.get("Target")
            if _local(element.tag) != "Relationship" or not target:
                continue
            if element.get("TargetMode") == "External":
                continue
            resolved = (
                target.lstrip("/")
                if target.startswith("/")
                else posixpath.normpath(posixpath.join(folder, target))
            )
            kind = element.get("Type", "").rpartition("/")[2]
            found[element.get("Id", "")] = (kind, resolved)
        return found

    def _office_document(self) -> str:
        for kind, target in self._relationships("").values():
            if kind == "officeDocument":
                return target
        if "xl/workbook.xml" in self._parts:
            return "xl/workbook.xml"
        raise TableProblem("not an .xlsx workbook (it holds no workbook part)")

    def _read_workbook(self, part: str) -> tuple[list[Sheet], dt.datetime]:
        related = self._relationships(part)
        sheets = []
        epoch = CALENDAR_WINDOWS_1900
        for element in self._xml(part).iter():
            tag = _local(element.tag)
            if tag == "workbookPr" and element.get("date1904", "").lower() in ("1", "true"):
                epoch = CALENDAR_MAC_1904
            elif tag == "sheet":
                rel = next((v for k, v in element.attrib.items() if _local(k) == "id"), "")
                kind, target = related.get(rel, ("", None))
                sheets.append(
                    Sheet(
                        element.get("name", ""),
                        target if target in self._parts else None,
                        element.get("state", "visible"),
                        kind or "worksheet",
                    )
                )
        return sheets, epoch

    def _read_styles(self, part: str | None) -> tuple[frozenset[int], frozenset[int]]:
        """The cell styles that show a number as a date, and as a duration."""
        if part is None or part not in self._parts:
            return frozenset(), frozenset()
        root = self._xml(part)
        custom: dict[int, str] = {}
        dates: set[int] = set()
        durations: set[int] = set()
        for element in root.iter():
            if _local(element.tag) == "numFmt":
                try:
                    custom[int(element.get("numFmtId", ""))] = element.get("formatCode", "")
                except ValueError:
                    continue
        for container in root:
            if _local(container.tag) != "cellXfs":
                continue
            for index, xf in enumerate(container):
                try:
                    number_format = int(xf.get("numFmtId", "0"))
                except ValueError:
                    continue
                code = custom.get(number_format, BUILTIN_FORMATS.get(number_format))
                if is_date_format(code):
                    dates.add(index)
                if is_timedelta_format(code):
                    durations.add(index)
        return frozenset(dates), frozenset(durations)

    def _read_strings(self, part: str | None) -> tuple[list[str], dict[int, int]]:
        """The shared strings, and the length of each one longer than a cell may be."""
        strings: list[str] = []
        oversized: dict[int, int] = {}
        if part is None or part not in self._parts:
            return strings, oversized
        root: ET.Element | None = None
        string_tag = text_tag = run_tag = ""
        cap = self.limits.max_cell_chars
        for event, element in self._events(part, ("start", "end")):
            if root is None:
                root = element
                string_tag, text_tag, run_tag = (_namespace(element) + t for t in ("si", "t", "r"))
                continue
            if event != "end" or element.tag != string_tag:
                continue
            text = _text_of(element, text_tag, run_tag)
            if len(text) > cap:
                oversized[len(strings)] = len(text)
                text = ""
            strings.append(text)
            root.remove(element)  # keep memory flat: the table holds the text only
        return strings, oversized

    # -- sheets -------------------------------------------------------------
    def table(self, sheet: Sheet, required: Iterable[str]) -> Table:
        """One sheet as a :class:`Table`, its header found below any title rows.

        Raises
        ------
        TableProblem
            When the sheet is a chart or is missing from the archive.
        """
        if sheet.kind != "worksheet":
            raise TableProblem(f"sheet {sheet.name!r} is a {sheet.kind}, not a table of rows")
        if sheet.part is None:
            raise TableProblem(f"damaged: the part of sheet {sheet.name!r} is missing")
        state = _SheetState()
        warnings = []
        if sheet.hidden:
            warnings.append(f"sheet {sheet.name!r} is hidden in the workbook: read all the same")
        header, rows, title = find_header(self._rows(sheet.part, state), required, unit="row")
        if title:
            warnings.append(title)
        if header is None:
            return Table(sheet.name, [], 0, iter(()), warnings, unit="row")
        state.columns = {n + 1 for n, cell in enumerate(header[1]) if cell.strip()}
        return Table(sheet.name, header[1], header[0], rows, warnings, unit="row")

    def _merges(self, part: str) -> list[_Merge]:
        """The merged ranges of a sheet, which its XML lists after all of its rows."""
        found: set[str] = set()
        tail = b""
        for chunk in self._chunks(part):
            window = tail + chunk
            found.update(m.group(1).decode("ascii") for m in _MERGE.finditer(window))
            tail = window[-512:]
        merges = [m for m in map(_merge, sorted(found)) if m is not None]
        return sorted(merges, key=lambda m: (m.first_row, m.first_column))

    def _rows(self, part: str, state: _SheetState) -> Iterator[Row]:
        merges = self._merges(part)
        waiting = 0  # merges[waiting:] start below the rows read so far
        active: list[_Merge] = []
        data: ET.Element | None = None
        tags: tuple[str, ...] = ()
        number = 0
        for event, element in self._events(part, ("start", "end")):
            if event == "start":
                if not tags:
                    tags = tuple(_namespace(element) + t for t in _SHEET_TAGS)
                elif element.tag == tags[0]:
                    data = element
                continue
            if element.tag != tags[1]:
                continue
            previous = number
            number = _row_number(element.get("r"), previous)
            cells, problems = self._cells(element, number, tags, state)
            if merges:
                if number < previous:  # rows out of order: look again from the top
                    waiting, active = 0, []
                while waiting < len(merges) and merges[waiting].first_row <= number:
                    active.append(merges[waiting])
                    waiting += 1
                active = [m for m in active if m.last_row >= number]
                for merge in active:
                    if state.columns is None or any(
                        merge.first_column <= c <= merge.last_column for c in state.columns
                    ):
                        problems.append(
                            (
                                merge.first_column - 1,
                                f"merged cells {merge.reference}: unmerge and fill the value",
                            )
                        )
            if data is not None:
                data.remove(element)  # keep memory flat: each row is let go once read
            yield number, cells, problems or NO_PROBLEMS

    def _cells(
        self, row: ET.Element, number: int, tags: tuple[str, ...], state: _SheetState
    ) -> tuple[list[str], list[tuple[int | None, str]]]:
        cell_tag = tags[2]
        cells: list[str] = []
        problems: list[tuple[int | None, str]] = []
        column = 0
        for cell in row:
            if cell.tag != cell_tag:
                continue
            reference = cell.get("r")
            if reference:
                column = _column_number(reference.rstrip("0123456789"))
                if not 1 <= column <= _MAX_COLUMN:
                    raise TableProblem(
                        f"damaged: row {number} has a cell at {reference!r}, beyond Excel's "
                        f"{_MAX_COLUMN:,} columns"
                    )
            else:
                column += 1
                reference = f"{_column_letters(column)}{number}"
            try:
                value = self._value(cell, reference, tags, state)
            except _CellProblem as problem:
                problems.append((column - 1, str(problem)))
                continue
            if not value:
                continue
            gap = column - 1 - len(cells)
            if gap >= 0:
                cells.extend([""] * gap)
                cells.append(value)
            else:
                cells[column - 1] = value
        return cells, problems

    def _value(
        self, cell: ET.Element, reference: str, tags: tuple[str, ...], state: _SheetState
    ) -> str:
        _, _, _, value_tag, formula_tag, inline_tag, text_tag, run_tag = tags
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            inline = cell.find(inline_tag)
            return self._capped("" if inline is None else _text_of(inline, text_tag, run_tag))
        raw = cell.findtext(value_tag)
        if not raw:  # no saved value (``<v/>`` from some writers)
            formula = cell.find(formula_tag)
            return "" if formula is None else _formula_text(formula, reference, state)
        if kind == "s":
            try:
                index = int(raw)
                text = self._strings[index]
            except (ValueError, IndexError):
                raise TableProblem(
                    f"damaged: cell {reference} names shared string {raw!r}, "
                    "which the workbook does not hold"
                ) from None
            if index in self._oversized:
                raise _CellProblem(self._too_long(self._oversized[index]))
            return text
        if kind == "b":
            return "true" if raw.strip() in ("1", "true") else "false"
        if kind in ("str", "e"):
            return self._capped(raw)
        if kind == "d":
            try:
                return dt.datetime.fromisoformat(raw.strip()).date().isoformat()
            except ValueError:
                return self._capped(raw)
        style = cell.get("s")
        if style and style.isdigit() and int(style) in self._date_styles:
            return self._date_text(raw, int(style), reference)
        return _number_text(raw)

    def _date_text(self, raw: str, style: int, reference: str) -> str:
        try:
            value = from_excel(float(raw), self._epoch, timedelta=style in self._duration_styles)
        except (ValueError, OverflowError):
            raise _CellProblem(
                f"cell {reference} is formatted as a date but {raw!r} is no date Excel can show"
            ) from None
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        return str(value)

    def _capped(self, text: str) -> str:
        if len(text) > self.limits.max_cell_chars:
            raise _CellProblem(self._too_long(len(text)))
        return text

    def _too_long(self, length: int) -> str:
        return (
            f"cell holds {length:,} characters; the limit is {self.limits.max_cell_chars:,} "
            "(GRAPHGUARD_MAX_CELL_CHARS)"
        )


class _CellProblem(Exception):
    """A cell that cannot be read faithfully: its row is rejected, the sheet read on."""


def _row_number(text: str | None, previous: int) -> int:
    if text is None:
        return previous + 1
    try:
        return int(text)
    except ValueError:
        try:
            return int(float(text))
        except ValueError:
            raise TableProblem(f"damaged: a row is numbered {text!r}") from None


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _text_of(element: ET.Element, text_tag: str, run_tag: str) -> str:
    """The text of a string item: its own text and its runs', never its phonetic guide."""
    parts = []
    for child in element:
        if child.tag == text_tag:
            parts.append(child.text or "")
        elif child.tag == run_tag:
            parts.extend(t.text or "" for t in child if t.tag == text_tag)
    return "".join(parts)


def _formula_text(formula: ET.Element, reference: str, state: _SheetState) -> str:
    """A formula with no saved value, as its text (a shared formula translated to its cell)."""
    text = formula.text
    group = formula.get("si")
    if formula.get("t") == "shared" and group is not None:
        if text:
            state.shared_formulas[group] = Translator("=" + text, origin=reference)
            return "=" + text
        translator = state.shared_formulas.get(group)
        if translator is None:
            return ""
        try:
            return str(translator.translate_formula(reference))
        except TranslatorError:
            return ""
    return "=" + text if text else ""


def _number_text(raw: str) -> str:
    text = raw.strip()
    if "." in text or "e" in text or "E" in text:
        try:
            number = float(text)
        except ValueError:
            return text
        if number.is_integer() and abs(number) < 2**53:
            return str(int(number))
        return repr(number)
    return text


def _what_it_is(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError:
        head = b""
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return (
            "it is an old-style .xls workbook, or one protected by a password: save it as "
            ".xlsx without a password, or as CSV UTF-8"
        )
    return "it is not a zip archive, as every .xlsx file is"
