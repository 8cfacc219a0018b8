"""Hostile and careless files: nothing dropped silently, every oddity said, memory capped.

The cases of ``fixtures/invalid`` are checked in ``test_ingest.py``; these tests build
their files here, to vary what a fixture cannot (the caps, random text, the CLI).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import random
import string
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from graphguard.cli import main
from graphguard.errors import DataError
from graphguard.ingest import read_dataset, write_rejects
from graphguard.readers import ReadLimits

from .helpers import write_csv

ROOT = Path(__file__).resolve().parents[1]
INVALID = ROOT / "fixtures" / "invalid"
CASES = json.loads((INVALID / "cases.json").read_text(encoding="utf-8"))
PEOPLE = ["person_id", "role", "name"]
LINKS = ["source_id", "target_id", "type"]


def _people_and_links(folder: Path, people: list[list[str]], links: list[list[str]]) -> Path:
    write_csv(folder / "people.csv", PEOPLE, people)
    write_csv(folder / "links.csv", LINKS, links)
    return folder


# --------------------------------------------------------------------------- the CLI


def test_validate_shows_warnings_in_text_and_json() -> None:
    case = str(INVALID / "sep_line")
    text = CliRunner().invoke(main, ["validate", case])
    assert text.exit_code == 1, text.output
    assert "people.csv: warning: line 1 ('sep=;') is Excel's delimiter line" in text.output
    as_json = CliRunner().invoke(main, ["validate", case, "--format", "json"])
    report = json.loads(as_json.stdout)
    assert any("semicolon-separated" in w for w in report["files"]["people.csv"]["warnings"])
    assert "warnings" not in report["files"]["links.csv"]  # a clean file says nothing
    assert report["warnings"] == []


def test_validate_rejects_file_of_a_windows_1252_dataset(tmp_path: Path) -> None:
    """Before: UnicodeEncodeError (surrogates) and a rejects file holding only its header."""
    rejects = tmp_path / "rejects.csv"
    result = CliRunner().invoke(
        main, ["validate", str(INVALID / "cp1252"), "--rejects", str(rejects)]
    )
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    [row] = list(csv.DictReader(rejects.open(encoding="utf-8")))
    assert row["name"] == "Test Chloé Boss" and "boss" in row["reason"]


def test_dataset_level_warnings_are_shown(tmp_path: Path) -> None:
    _people_and_links(tmp_path, [["YP1", "young_person", "A"]], [])
    (tmp_path / "people (copy).csv").write_text("person_id,role\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "warning: people (copy).csv is not one of people.csv" in result.output


def test_a_zip_bomb_is_one_line_and_exit_1() -> None:
    """Before: 4.3 GB of memory and exit 0, or exit 2 with an empty reason."""
    result = CliRunner().invoke(main, ["validate", str(INVALID / "xlsx_zip_bomb")])
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert "zip bomb" in line and "GRAPHGUARD_XLSX_MAX_RATIO" in line


# --------------------------------------------------------------------------- folders and sheets


def test_two_csv_files_for_one_file_are_a_file_error_naming_both(tmp_path: Path) -> None:
    _people_and_links(tmp_path, [["YP1", "young_person", "A"], ["YP2", "adult", "B"]], [])
    write_csv(tmp_path / "Links .csv", LINKS, [["YP2", "YP1", "SUPPORTS"]])
    result = read_dataset(tmp_path)
    [error] = result.file_errors
    assert "'Links .csv' and 'links.csv'" in (error.error or "")
    assert result.dataset.links == [] and len(result.dataset.people) == 2


def test_sheets_that_are_not_files_are_named(tmp_path: Path) -> None:
    book = Workbook()
    people = book.active
    assert people is not None
    people.title = "people"
    people.append(PEOPLE)
    people.append(["YP1", "young_person", "A"])
    book.create_sheet("links").append(LINKS)
    book.create_sheet("Notes").append(["hello"])
    book.save(tmp_path / "town.xlsx")
    result = read_dataset(tmp_path / "town.xlsx")
    assert result.ok
    assert result.warnings == [
        "sheet 'Notes' is not one of people, locations, vehicles, links: not read"
    ]


def test_a_csv_file_that_is_a_workbook_is_named_as_such(tmp_path: Path) -> None:
    book = Workbook()
    book.save(tmp_path / "people.csv")
    write_csv(tmp_path / "links.csv", LINKS, [])
    [error] = read_dataset(tmp_path).file_errors
    assert "not a CSV text file (it is a zip archive" in (error.error or "")


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("codec", "bom", "said"),
    [
        ("utf-16-be", b"", "UTF-16 (big-endian) text without a byte-order mark"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "UTF-16 text"),
        ("utf-32-le", codecs.BOM_UTF32_LE, "UTF-32 text"),
        ("utf-8", codecs.BOM_UTF8, None),
    ],
)
def test_unicode_encodings_are_read(tmp_path: Path, codec: str, bom: bytes, said: str) -> None:
    text = "person_id,role,name\nYP1,young_person,Zoë\nAD1,adult,Łukasz £\n"
    (tmp_path / "people.csv").write_bytes(bom + text.encode(codec))
    write_csv(tmp_path / "links.csv", LINKS, [["AD1", "YP1", "SUPPORTS"]])
    result = read_dataset(tmp_path)
    assert result.ok, [str(r) for r in result.rejects]
    assert result.dataset.people["AD1"].name == "Łukasz £"
    warnings = result.files["people"].warnings
    if said is None:
        assert warnings == []
    else:
        [warning] = warnings
        assert said in warning


def test_a_file_pasted_together_from_utf8_and_windows_1252_reads_both(tmp_path: Path) -> None:
    data = "person_id,role,name\nYP1,young_person,Zoë\n".encode() + b"AD1,adult,Ren\xe9e\n"
    (tmp_path / "people.csv").write_bytes(data)
    write_csv(tmp_path / "links.csv", LINKS, [])
    result = read_dataset(tmp_path)
    assert [p.name for p in result.dataset.people.values()] == ["Zoë", "Renée"]
    [warning] = result.files["people"].warnings
    assert "line 3" in warning and "Windows-1252" in warning


def test_the_encoding_check_reads_past_the_first_megabyte(tmp_path: Path) -> None:
    rows = [[f"YP{n}", "young_person", "Plain Name"] for n in range(60_000)]
    rows.append(["AD1", "adult", "Ren\udce9e"])  # written below as the byte 0xE9
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([PEOPLE, *rows])
    (tmp_path / "people.csv").write_bytes(buffer.getvalue().encode("utf-8", "surrogateescape"))
    write_csv(tmp_path / "links.csv", LINKS, [])
    result = read_dataset(tmp_path, collect_links=False)
    assert result.dataset.people["AD1"].name == "Renée"
    assert "line 60002" in result.files["people"].warnings[0]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=400))
def test_rejects_can_always_be_written(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    """Whatever bytes a file holds, its rejects reach the rejects file."""
    folder = tmp_path_factory.mktemp("bytes")
    (folder / "people.csv").write_bytes(b"person_id,role,name\n" + data)
    write_csv(folder / "links.csv", LINKS, [])
    result = read_dataset(folder)
    written = write_rejects(result.rejects, folder / "rejects.csv")
    assert written == len({(r.file, r.line) for r in result.rejects})


# --------------------------------------------------------------------------- shapes


def test_a_column_the_header_leaves_unnamed_is_said_when_it_holds_values(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text("person_id,,role\nYP1,,young_person\nAD1,x,adult\n")
    write_csv(tmp_path / "links.csv", LINKS, [])
    result = read_dataset(tmp_path)
    assert result.ok
    assert result.files["people"].warnings == [
        "column 2 has no name in the header, so its values (the first on line 3) are not "
        "read: name the column to keep them"
    ]


def test_a_missing_column_error_says_what_the_header_holds(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text("id;type\nYP1;young_person\n")
    write_csv(tmp_path / "links.csv", LINKS, [])
    [error] = read_dataset(tmp_path).file_errors
    assert error.error == (
        "people.csv: required columns person_id, role missing from the header "
        "(line 1 holds 'id, type')"
    )


def test_rows_above_the_title_limit_are_not_searched(tmp_path: Path) -> None:
    titles = "".join(f"Title line {n}\n" for n in range(11))
    (tmp_path / "people.csv").write_text(titles + "person_id,role\nYP1,adult\n")
    write_csv(tmp_path / "links.csv", LINKS, [])
    [error] = read_dataset(tmp_path).file_errors
    assert "missing from the header (line 1 holds 'Title line 0')" in (error.error or "")


# --------------------------------------------------------------------------- unclosed quotes


def test_a_legitimate_multiline_note_with_commas_is_kept(tmp_path: Path) -> None:
    note = "Seen at the hub, twice.\nKeyworker: J. Smith, team 2\nFollow-up: none"
    write_csv(
        tmp_path / "people.csv", PEOPLE, [["YP1", "young_person", "A"], ["AD1", "adult", "B"]]
    )
    write_csv(tmp_path / "links.csv", [*LINKS, "notes"], [["AD1", "YP1", "SUPPORTS", note]] * 2)
    result = read_dataset(tmp_path)
    assert result.ok, [str(r) for r in result.rejects]
    assert [link.notes for link in result.dataset.links] == [note, note]


def test_an_unclosed_quote_past_the_cell_cap_is_rejected_and_the_rest_kept(tmp_path: Path) -> None:
    rows = [[f"YP{n}", "young_person", f"Name {n}"] for n in range(400)]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([PEOPLE, *rows])
    text = buffer.getvalue().replace("YP3,young_person,Name 3", 'YP3,young_person,"Name 3')
    (tmp_path / "people.csv").write_text(text)
    write_csv(tmp_path / "links.csv", LINKS, [])
    result = read_dataset(tmp_path, limits=ReadLimits(max_cell_chars=1000))
    [reject] = result.rejects
    assert (reject.line, reject.column) == (5, "name")
    assert "is not closed within 1,000 characters" in reject.reason
    assert len(result.dataset.people) == 399


def test_an_unquoted_cell_past_the_cap_is_rejected_and_the_rest_kept(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "people.csv",
        PEOPLE,
        [["YP1", "young_person", "A"], ["YP2", "young_person", "x" * 2000], ["YP3", "adult", "C"]],
    )
    write_csv(tmp_path / "links.csv", LINKS, [])
    result = read_dataset(tmp_path, limits=ReadLimits(max_cell_chars=1000))
    [reject] = result.rejects
    assert reject.line == 3 and "longer than 1,000 characters" in reject.reason
    assert set(result.dataset.people) == {"YP1", "YP3"}


# --------------------------------------------------------------------------- workbooks


def _workbook(path: Path, rows: list[list[Any]]) -> Path:
    book = Workbook()
    people = book.active
    assert people is not None
    people.title = "people"
    for row in rows:
        people.append(row)
    book.create_sheet("links").append(LINKS)
    book.save(path)
    return path


def _replace_in_part(path: Path, part: str, old: bytes, new: bytes) -> None:
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    assert old in parts[part]
    parts[part] = parts[part].replace(old, new)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, content in parts.items():
            target.writestr(name, content)


def test_workbook_cells_read_as_a_csv_export_would_hold_them(tmp_path: Path) -> None:
    """Dates, numbers, booleans and text, typed as a spreadsheet types them (seeded)."""
    rng = random.Random(7)
    header = ["person_id", "role", "date_of_birth", "missing_episodes", "looked_after", "score"]
    rows: list[list[Any]] = [header]
    for n in range(200):
        rows.append(
            [
                f"YP{n}" if n % 3 else n + 1000,
                rng.choice(["young_person", "adult"]),
                dt.date(2000, 1, 1) + dt.timedelta(days=rng.randrange(8000)),
                rng.choice([0, 1, 2.0, 7]),
                rng.choice([True, False, "yes", None]),
                rng.choice([0.1, 53.741, -0.333, 1e-7, 12345678.5, "text, with comma"]),
            ]
        )
    path = _workbook(tmp_path / "town.xlsx", rows)
    result = read_dataset(path)
    assert result.ok, [str(r) for r in result.rejects[:3]]
    expected = load_workbook(path)["people"]
    for values in expected.iter_rows(min_row=2, values_only=True):
        person = result.dataset.people[str(values[0])]
        assert person.date_of_birth == values[2].date()
        assert person.missing_episodes == int(values[3])
        assert person.looked_after == (None if values[4] is None else values[4] in (True, "yes"))
        assert person.extra["score"] == str(values[5])  # 0.1, 1e-07, "text, with comma"


def test_workbook_over_the_unpacked_cap_is_refused_before_reading(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "town.xlsx", [PEOPLE, ["YP1", "young_person", "A"]])
    with pytest.raises(DataError, match="GRAPHGUARD_XLSX_MAX_UNPACKED_MB"):
        read_dataset(path, limits=ReadLimits(max_unpacked_bytes=4096))


def test_an_inline_cell_over_the_cap_rejects_its_row(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "town.xlsx",
        [PEOPLE, ["YP1", "young_person", "A"], ["YP2", "young_person", "y" * 50], ["YP3", "adult"]],
    )
    result = read_dataset(path, limits=ReadLimits(max_cell_chars=40))
    [reject] = result.rejects
    assert (reject.file, reject.line, reject.column) == ("people", 3, "name")
    assert "holds 50 characters; the limit is 40" in reject.reason
    assert set(result.dataset.people) == {"YP1", "YP3"}


def test_text_past_the_cap_is_cut_off_before_it_is_held(tmp_path: Path) -> None:
    """A 40 MB cell with a cap of 1,000 characters: refused, memory stays small."""
    path = _workbook(tmp_path / "town.xlsx", [PEOPLE, ["YP1", "young_person", "HUGE"]])
    _replace_in_part(path, "xl/worksheets/sheet1.xml", b">HUGE<", b">" + b"z" * 40_000_000 + b"<")
    tracemalloc.start()
    try:
        # (a ratio this high is itself refused by default; here the cell cap is tested)
        result = read_dataset(path, limits=ReadLimits(max_cell_chars=1000, max_ratio=1e9))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [error] = result.file_errors
    assert "longer than 1,000 characters" in (error.error or "")
    assert peak < 20_000_000, peak  # half the cell: it was never held whole


def test_the_zip_bomb_is_refused_without_unpacking_it() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="zip bomb"):
            read_dataset(INVALID / "xlsx_zip_bomb")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000, peak  # the shared strings unpack to 64 MiB


def test_a_merged_cell_in_an_unnamed_column_is_formatting_only(tmp_path: Path) -> None:
    path = tmp_path / "town.xlsx"
    book = Workbook()
    people = book.active
    assert people is not None
    people.title = "people"
    for row in [PEOPLE, ["YP1", "young_person", "A"], ["YP2", "young_person", "B"]]:
        people.append(row)
    people.merge_cells("E2:E3")  # beyond the header's columns
    book.create_sheet("links").append(LINKS)
    book.save(path)
    assert read_dataset(path).ok


# --------------------------------------------------------------------------- one code path


@pytest.mark.parametrize(
    "case", [c for c in CASES if not c.get("dataset_error")], ids=lambda c: c["case"]
)
def test_validate_and_load_accept_the_same_rows(case: dict) -> None:
    """``validate`` reads without keeping links, ``load`` keeps them: the verdicts agree."""
    counted = read_dataset(INVALID / case["case"], collect_links=False)
    kept = read_dataset(INVALID / case["case"])
    assert counted.as_dict() == kept.as_dict()
    assert [str(r) for r in counted.rejects] == [str(r) for r in kept.rejects]
    assert kept.files["links"].accepted == len(kept.dataset.links)
    for record in [*kept.dataset.entities(), *kept.dataset.links]:
        # what the store writes as property keys and values: plain str only
        for key, value in record.extra.items():
            assert type(key) is str and type(value) is str
            (key + value).encode("utf-8")  # no surrogates: Neo4j and the rejects file take it


# --------------------------------------------------------------------------- property-based

_name_text = st.text(alphabet=string.ascii_letters + ' ,;"\n\ré£', max_size=14)
_row = st.tuples(
    st.from_regex(r"[A-Z]{2}[0-9]{1,3}", fullmatch=True),
    st.sampled_from(["young_person", "adult", "boss"]),
    _name_text,
    st.sampled_from(["", "Docklands", "Old Town, east", 'the "Quay"']),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(_row, min_size=1, max_size=12),
    edits=st.lists(st.tuples(st.floats(0, 1), st.sampled_from(["insert", "delete"])), max_size=3),
    delimiter=st.sampled_from([",", ";"]),
)
def test_random_csv_never_loses_rows_while_saying_all_valid(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[str, ...]],
    edits: list[tuple[float, str]],
    delimiter: str,
) -> None:
    """Rows written properly, then quotes added or removed at random, as a careless editor
    would: ``validate`` either finds a problem or reads every row that was written."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["person_id", "role", "name", "area"])
    header = buffer.getvalue()
    writer.writerows(rows)
    body = buffer.getvalue()[len(header) :]
    for where, edit in edits:
        at = int(where * len(body))
        if edit == "insert":
            body = body[:at] + '"' + body[at:]
        elif '"' in body:
            quote = body.find('"', at) if '"' in body[at:] else body.rfind('"')
            body = body[:quote] + body[quote + 1 :]
    folder = tmp_path_factory.mktemp("random")
    (folder / "people.csv").write_text(header + body, encoding="utf-8", newline="")
    write_csv(folder / "links.csv", LINKS, [])
    result = read_dataset(folder, collect_links=False)
    people = result.files["people"]
    assert not (result.ok and people.rows < len(rows)), (people, header + body)
