"""CSV text files as agencies really send them.

The format asks for UTF-8 and commas; what arrives is often Windows-1252 (Excel on
Windows saving "CSV"), UTF-16 (Excel's "Unicode text"), semicolons (Excel in much of
Europe), tabs, an Excel ``sep=`` line, a title above the header, or a cell whose
quote is never closed.  Each is read as what it is and said in a warning, so nothing
is misread silently:

- **Encoding.**  A byte-order mark names UTF-8, UTF-16 or UTF-32; UTF-16 without one
  is recognised by its zero bytes.  Otherwise the whole file is checked as UTF-8
  first; if any of it is not UTF-8, those bytes are read as Windows-1252 (and valid
  UTF-8 sequences as UTF-8, for the file pasted together from both).  Binary data
  (NUL bytes and control characters, a zip, a PDF) is "not a CSV text file".
- **Delimiter.**  A first line ``sep=;`` says it; otherwise the delimiter is the one
  of ``, ; tab |`` that yields a header naming the required columns.
- **Unclosed quotes.**  A quote that opens a cell and is never closed would make the
  rest of the file, or everything up to the next quote, one cell, and the rows in it
  vanish.  A quoted cell that spans lines is taken as an unclosed quote when it never
  closes, when its closing quote is followed by more text, when the record then has
  more cells than the header, when a whole line inside it is, on its own, a row of
  the file (the header's number of cells, or required cells that all pass), or when
  the line it closes on starts as a row (required cells that pass): the row where it
  opened is rejected naming that line, and the lines after it are read again as rows
  of their own.  A note with line breaks in it, properly quoted, is none of these.

Line numbers are physical lines, the first line of the file being line 1.
"""

from __future__ import annotations

import bisect
import codecs
import csv
import io
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from graphguard.readers.table import (
    NO_PROBLEMS,
    TITLE_ROWS,
    ReadLimits,
    Required,
    Row,
    Table,
    TableProblem,
    find_header,
)

__all__ = ["open_csv"]

_HEAD_BYTES = 1 << 16
_CHUNK_BYTES = 1 << 20
_SAMPLE_CHARS = 1 << 16
_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
_SEP_LINE = re.compile(r'\s*"?sep=(.)"?[\s,;|]*', re.IGNORECASE)
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of bytes that are not UTF-8

# Bytes text never holds (tab, line feed, vertical tab, form feed and carriage return apart).
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])
_TEXT_BYTES = bytes(b for b in range(256) if b not in _CONTROL_BYTES)

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
_MAGIC = (
    (
        b"PK\x03\x04",
        "it is a zip archive: an .xlsx workbook with a .csv name? "
        "Give the workbook itself, or save it as CSV UTF-8",
    ),
    (
        b"\xd0\xcf\x11\xe0",
        "it is an old-style Excel (.xls) or other Office file: save it as CSV UTF-8",
    ),
    (b"%PDF", "it is a PDF"),
    (b"\x1f\x8b", "it is gzip-compressed: unpack it first"),
    (b"\x89PNG", "it is an image"),
    (b"\xff\xd8\xff", "it is an image"),
)

# Bytes that are not UTF-8 are read as Windows-1252; the five bytes Windows-1252
# leaves undefined become the control characters of the same number, as Windows
# itself reads them.
_CP1252 = [bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(256)]
_FALLBACK = "graphguard-cp1252"


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(_CP1252[b] for b in bad), error.end


codecs.register_error(_FALLBACK, _cp1252_fallback)


@dataclass(frozen=True)
class _Encoding:
    codec: str
    errors: str = "strict"
    warning: str | None = None


def _encoding(path: Path) -> _Encoding:
    """How the file is encoded, from its first bytes and, for UTF-8, all of it."""
    with path.open("rb") as handle:
        head = handle.read(_HEAD_BYTES)
        for bom, codec, label in _BOMS:
            if head.startswith(bom):
                if codec != "utf-8-sig":
                    _check_decodes(handle, codec, label)
                    return _Encoding(codec, warning=f"is {label} text, not UTF-8: read as {label}")
                break
        utf16 = _utf16_without_bom(head)
        if utf16:
            codec, label = utf16
            _check_decodes(handle, codec, label)
            return _Encoding(
                codec, warning=f"is {label} text without a byte-order mark: read as {label}"
            )
        _check_text(head)
        first_bad = _first_line_not_utf8(handle)
    if first_bad is None:
        return _Encoding("utf-8-sig")
    return _Encoding(
        "utf-8-sig",
        _FALLBACK,
        f"is not UTF-8 text (the first character that is not is on line {first_bad}): "
        'read as Windows-1252, which Excel on Windows saves as "CSV"; check that '
        "accented letters and symbols such as é and £ are right, and save as "
        '"CSV UTF-8" next time',
    )


def _utf16_without_bom(head: bytes) -> tuple[str, str] | None:
    """UTF-16 text of mostly Latin letters has a zero in every other byte."""
    pairs = len(head) // 2
    if pairs < 2:
        return None
    even_zeros, odd_zeros = head[0 : 2 * pairs : 2].count(0), head[1 : 2 * pairs : 2].count(0)
    if odd_zeros > 0.3 * pairs and even_zeros < 0.02 * pairs:
        return "utf-16-le", "UTF-16 (little-endian)"
    if even_zeros > 0.3 * pairs and odd_zeros < 0.02 * pairs:
        return "utf-16-be", "UTF-16 (big-endian)"
    return None


def _check_decodes(handle: io.BufferedReader, codec: str, label: str) -> None:
    handle.seek(0)
    decoder = codecs.getincrementaldecoder(codec)()
    offset = 0
    try:
        while chunk := handle.read(_CHUNK_BYTES):
            decoder.decode(chunk)
            offset += len(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise TableProblem(
            f"starts as {label} text but is not valid {label} near byte "
            f"{offset + exc.start:,}: save it as CSV UTF-8"
        ) from None


def _check_text(head: bytes) -> None:
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise TableProblem(f"not a CSV text file ({what})")
    controls = len(head.translate(None, _TEXT_BYTES))  # what is left once text is deleted
    if controls * 20 > len(head):
        raise TableProblem(
            "not a CSV text file (it holds binary data: "
            f"{controls:,} control bytes in its first {len(head):,}); save it as CSV UTF-8"
        )


def _first_line_not_utf8(handle: io.BufferedReader) -> int | None:
    """The line of the first byte that is not UTF-8, or None when all of the file is."""
    handle.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8-sig")("surrogateescape")
    lines = 0
    final = False
    while not final:
        chunk = handle.read(_CHUNK_BYTES)
        final = not chunk
        pending = decoder.getstate()[0]
        if chunk.isascii() and not pending and not final:
            lines += chunk.count(b"\n")  # ASCII is UTF-8: the common case, checked at C speed
            continue
        text = decoder.decode(chunk, final=final)
        bad = _NOT_UTF8.search(text)
        if bad:
            return lines + text.count("\n", 0, bad.start()) + 1
        lines += text.count("\n")
    return None


# --------------------------------------------------------------------------- lines


class _LineTooLong(Exception):
    def __init__(self, number: int) -> None:
        self.number = number


class _Lines:
    """The physical lines of a text file, numbered, holding those of the current record.

    Lines can be pushed back to be read again (the rows an unclosed quote swallowed).
    Iterating gives the one generator of lines, so that the csv reader and
    :meth:`skip` share it.
    """

    def __init__(self, handle: io.TextIOBase, limit: int) -> None:
        #: The longest line read, in characters (a longer one is not text).
        self.limit = limit
        self._pending: list[tuple[int, str]] = []
        #: The lines of the record being read, and the number of its first line.
        self.held: list[str] = []
        self.held_start = 1
        self._readline = handle.readline
        self._read = 0
        self._lines = self._generate()

    def __iter__(self) -> Iterator[str]:
        return self._lines

    @property
    def pending(self) -> bool:
        """Whether lines pushed back are still to be read."""
        return bool(self._pending)

    def restart(self) -> Iterator[str]:
        """A new generator of lines, for lines pushed back after the end of the file."""
        self._lines = self._generate()
        return self._lines

    def _generate(self) -> Iterator[str]:
        # A generator rather than __next__, as this runs once per line of the file; a
        # generator ends for good, so lines pushed back after the end need restart().
        readline, limit, pending, held = self._readline, self.limit, self._pending, self.held
        read = self._read
        while True:
            if pending:
                number, line = pending.pop()
            else:
                line = readline(limit)
                if not line:
                    self._read = read
                    return
                read += 1
                number = read
                if len(line) >= limit and line[-1] not in "\r\n":
                    raise _LineTooLong(number)
            if not held:
                self.held_start = number
            held.append(line)
            yield line

    def skip(self) -> None:
        """Read one line and forget it."""
        next(self._lines, None)
        self.release()

    def release(self) -> list[str]:
        """Forget the lines of the record just read, and return them."""
        lines = self.held[:]
        self.held.clear()
        return lines

    def push_back(self, lines: Sequence[str], first: int) -> None:
        """Read ``lines``, numbered from ``first``, again before the rest of the file."""
        self._pending.extend(reversed(list(zip(itertools.count(first), lines, strict=False))))


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class _OpenQuote:
    """A quote that swallowed lines: where it opened, and where (if anywhere) it closed."""

    line: int  # index into the record's lines
    cell: int
    closed_on: int | None  # index into the record's lines, None when never closed
    #: Whether lines it swallowed have the shape of rows (always, once it is closed).
    swallows_rows: bool = True


class _Records:
    """The rows of one CSV file, with unclosed quotes found, rejected and recovered from."""

    def __init__(self, handle: io.TextIOBase, delimiter: str, limits: ReadLimits) -> None:
        self.handle = handle
        self.delimiter = delimiter
        self.limits = limits
        self.lines = _Lines(handle, limit=4 * limits.max_cell_chars + 1024)
        #: The header's number of cells, once the header is known: a line inside a
        #: quoted cell with exactly this many cells is a swallowed row.
        self.width: int | None = None
        #: (cell index, check) of the required columns, once the header is known: a
        #: line inside a quoted cell whose required cells all pass is a swallowed row.
        self.required: list[tuple[int, Callable[[str], object]]] = []
        self._stop = re.compile(f"[{re.escape(delimiter)}\r\n]")

    def skip_line(self) -> None:
        self.lines.skip()

    def rows(self) -> Iterator[Row]:
        # The csv module's cap is process-wide; graphguard's readers all set it to theirs.
        csv.field_size_limit(self.limits.max_cell_chars)
        lines = self.lines
        reader = csv.reader(lines, delimiter=self.delimiter)
        with self.handle:
            while True:
                try:
                    for cells in reader:
                        held = lines.held
                        if len(held) > 1 or (
                            '"' in held[0] and _may_end_in_a_quote(held[0], cells)
                        ):
                            # More cells than the header across several lines: a quote
                            # ran on (a row properly written has the header's width).
                            too_wide = self.width is not None and len(cells) > self.width
                            quote = self._open_quote(held, too_wide)
                            if quote is not None:
                                yield self._reject_quote(quote, None)
                                continue
                        held.clear()
                        yield lines.held_start, cells, NO_PROBLEMS
                    if not lines.pending:
                        return
                    reader = csv.reader(lines.restart(), delimiter=self.delimiter)
                except csv.Error:
                    # The only error csv raises for lenient reading: a cell over the cap.
                    yield self._oversized()
                except _LineTooLong as long:
                    raise TableProblem(
                        f"line {long.number} is longer than {self.lines.limit - 1:,} "
                        "characters (not text, or a cell over GRAPHGUARD_MAX_CELL_CHARS): "
                        "not read from that line on"
                    ) from None

    def _oversized(self) -> Row:
        """The record whose cell grew past the cap, rejected; the reading goes on after it."""
        cap = self.limits.max_cell_chars
        quote = self._open_quote(self.lines.held)
        if quote is not None and quote.swallows_rows:
            return self._reject_quote(quote, cap)
        if quote is not None:
            # A quoted cell longer than the cap: where it ends cannot be told safely.
            raise TableProblem(
                f"line {self.lines.held_start + quote.line} opens a quoted cell longer than "
                f"{cap:,} characters (GRAPHGUARD_MAX_CELL_CHARS): not read from that line on"
            )
        start = self.lines.held_start
        self.lines.release()
        reason = f"a cell is longer than {cap:,} characters (GRAPHGUARD_MAX_CELL_CHARS)"
        return start, [], [(None, reason)]

    def _reject_quote(self, quote: _OpenQuote, unclosed_within: int | None) -> Row:
        """The row where the quote opened, rejected; the lines after it pushed back."""
        lines = self.lines
        start = lines.held_start
        held = lines.release()
        opened = start + quote.line
        swallowed = held[quote.line + 1 :]
        lines.push_back(swallowed, opened + 1)
        record = next(csv.reader(held[: quote.line + 1], delimiter=self.delimiter), [])
        if record:
            record[-1] = record[-1].rstrip("\r\n")
        if unclosed_within is not None:
            how = f"is not closed within {unclosed_within:,} characters"
        elif quote.closed_on is None:
            how = "is never closed"
        else:
            how = f"runs on to line {start + quote.closed_on}"
        reason = f"unclosed quote: the quote opening this cell on line {opened} {how}"
        if swallowed:
            reason += " (the lines after it were read as rows of their own)"
        return start, record, [(quote.cell, reason + "; close it and send this row again")]

    def _open_quote(self, held: list[str], too_wide: bool = False) -> _OpenQuote | None:
        """A quoted cell in this record that is really an unclosed quote, if there is one.

        A quote still open where the record's lines end is returned whether or not the
        lines after it look like rows: at the end of the file it is an unclosed quote;
        where the cell cap cut the record short it may be a long quoted cell.  When the
        record is ``too_wide``, its first quoted cell that spans lines is returned.
        """
        text = "".join(held)
        ends = list(itertools.accumulate(len(line) for line in held))

        def line_of(position: int) -> int:
            return bisect.bisect_right(ends, position)

        position, cell, length = 0, 0, len(text)
        while position < length:
            if text[position] == '"':
                opened = position
                search = position + 1
                while True:
                    close = text.find('"', search)
                    if close == -1:
                        line = line_of(opened)
                        return _OpenQuote(line, cell, None, self._swallowed_rows(held[line + 1 :]))
                    if text.startswith('"', close + 1):
                        search = close + 2  # a doubled quote inside the cell
                        continue
                    break
                first, last = line_of(opened), line_of(close)
                if first != last:
                    after = text[close + 1 : close + 2]
                    # What the closing line holds before the quote: the start of a row
                    # when the quote really opens a cell of a later row.
                    closing_start = ends[last - 1] if last else 0
                    if (
                        too_wide
                        or after not in (self.delimiter, "\r", "\n", "")
                        or self._swallowed_rows(held[first + 1 : last])
                        or self._required_cells_pass(self._cells(text[closing_start:close]))
                    ):
                        return _OpenQuote(first, cell, last)
                position = close + 1
            stop = self._stop.search(text, position)
            if stop is None or stop.group() != self.delimiter:
                return None
            cell += 1
            position = stop.end()
        return None

    def _swallowed_rows(self, inner: list[str]) -> bool:
        """Whether any of these lines, read on its own, is a row of this file."""
        width = self.width
        if width is None or width < 2:
            return False
        for line in inner:
            cells = self._cells(line)
            if len(cells) == width or self._required_cells_pass(cells):
                return True
        return False

    def _cells(self, line: str) -> list[str]:
        return next(csv.reader([line], delimiter=self.delimiter), [])

    def _required_cells_pass(self, cells: list[str]) -> bool:
        # One required column (a vehicle's id) is too little to tell a row from a note.
        if len(self.required) < 2:
            return False
        for index, check in self.required:
            if index >= len(cells):
                return False
            try:
                check(cells[index])
            except ValueError:
                return False
        return True


def _may_end_in_a_quote(line: str, cells: list[str]) -> bool:
    """Whether a one-line record that holds a quote may have left it open at the end."""
    return line[-1] not in "\r\n" or bool(cells and cells[-1][-1:] in ("\r", "\n"))


# --------------------------------------------------------------------------- the file


def _sample_lines(path: Path, encoding: _Encoding) -> list[str]:
    with path.open("r", encoding=encoding.codec, errors=encoding.errors, newline="") as handle:
        sample = handle.read(_SAMPLE_CHARS)
        complete = not handle.read(1)
    lines = io.StringIO(sample, newline="").readlines()
    if not complete and len(lines) > 1:
        lines.pop()  # cut off mid-line
    return lines


def _names_required(lines: list[str], delimiter: str, required: Iterable[str]) -> bool:
    wanted = set(required)
    try:
        for n, cells in enumerate(csv.reader(lines, delimiter=delimiter)):
            if wanted <= {c.strip().lower() for c in cells}:
                return True
            if n >= TITLE_ROWS:
                break
    except csv.Error:
        pass
    return False


def _delimiter(lines: list[str], required: Iterable[str]) -> str:
    for delimiter in _DELIMITERS:
        if _names_required(lines, delimiter, required):
            return delimiter
    # No delimiter finds the required columns: split the header as it looks split, so
    # the report of what is missing names the columns it does have.
    first = next((line for line in lines if line.strip()), "")
    return max(_DELIMITERS, key=first.count)


def open_csv(path: Path, name: str, required: Required, limits: ReadLimits) -> Table:
    """Open a CSV file as a :class:`Table`: encoding, delimiter and header found, and said.

    Parameters
    ----------
    path : Path
        The file.
    name : str
        What reports call it.
    required : mapping of str to callable
        The columns its header must name (lower case), each with a check of its cells
        (raising ValueError), to find the header and delimiter and to tell a row
        swallowed by an unclosed quote from a note with line breaks.
    limits : ReadLimits
        The longest cell allowed.

    Raises
    ------
    TableProblem
        When the file is not text at all.
    """
    encoding = _encoding(path)
    warnings = [encoding.warning] if encoding.warning else []
    lines = _sample_lines(path, encoding)
    skip = 0
    sep = _SEP_LINE.fullmatch(lines[0].rstrip("\r\n")) if lines else None
    if sep:
        delimiter = sep.group(1)
        skip = 1
        word = _DELIMITER_NAMES.get(delimiter, repr(delimiter))
        warnings.append(
            f"line 1 ({lines[0].strip()!r}) is Excel's delimiter line, not the header: "
            f"skipped, and the file read as {word}-separated"
        )
    else:
        delimiter = _delimiter(lines, required)
        if delimiter != ",":
            word = _DELIMITER_NAMES[delimiter]
            warnings.append(f"is {word}-separated, not comma-separated: read as {word}-separated")
    handle = path.open("r", encoding=encoding.codec, errors=encoding.errors, newline="")
    records = _Records(handle, delimiter, limits)
    if skip:
        records.skip_line()
    header, rows, title = find_header(records.rows(), required)
    if title:
        warnings.append(title)
    if header is None:
        return Table(name, [], 0, iter(()), warnings)
    records.width = len(header[1])
    names = [cell.strip().lower() for cell in header[1]]
    records.required = [(names.index(c), check) for c, check in required.items() if c in names]
    return Table(name, header[1], header[0], rows, warnings)
