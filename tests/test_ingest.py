"""Ingestion: every rule of DATA-FORMAT.md, lines and columns of rejects, nothing valid lost."""

from __future__ import annotations

import csv
import datetime as dt
import json
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from graphguard.errors import DataError, UsageError
from graphguard.ingest import IngestResult, read_dataset, write_rejects
from graphguard.store import graph_from_dataset

from .helpers import small_town, write_csv

ROOT = Path(__file__).resolve().parents[1]
INVALID = ROOT / "fixtures" / "invalid"
CASES = json.loads((INVALID / "cases.json").read_text(encoding="utf-8"))


def test_small_town_is_valid(tmp_path: Path) -> None:
    result = read_dataset(small_town(tmp_path))
    assert result.ok, [str(r) for r in result.rejects]
    data = result.dataset
    assert (len(data.people), len(data.locations), len(data.vehicles), len(data.links)) == (
        3,
        1,
        1,
        5,
    )
    assert data.vehicles["VE1"].registration == "AB12CDE"
    assert data.people["YP1"].looked_after is True
    assert {r.file: r.accepted for r in result.files.values()} == {
        "people.csv": 3,
        "locations.csv": 1,
        "vehicles.csv": 1,
        "links.csv": 5,
    }


def test_bom_crlf_quoted_newlines_and_unknown_columns(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_bytes(
        b"\xef\xbb\xbfPerson_ID , ROLE,name,shoe_size\r\n"
        b'YP1,Young_Person,"Smith, ""Al""\r\nsecond line",9\r\n'
        b"YP2,teenager,,\r\n"
        b"AD1, ADULT ,Bo,\r\n"
    )
    (tmp_path / "links.csv").write_bytes(
        b"source_id,target_id,type,protective\r\nAD1,YP1,supports,\r\nAD1,YP2,CONTACTED,\r\n"
    )
    result = read_dataset(tmp_path)
    people = result.dataset.people
    assert set(people) == {"YP1", "AD1"}
    assert people["YP1"].name == 'Smith, "Al"\r\nsecond line'
    assert people["YP1"].extra == {"shoe_size": "9"}
    # the quoted newline makes YP2's record start on physical line 4
    [reject_yp2, reject_link] = result.rejects
    assert (reject_yp2.file, reject_yp2.line, reject_yp2.column) == ("people.csv", 4, "role")
    assert "teenager" in reject_yp2.reason
    assert (reject_link.line, reject_link.column) == (3, "target_id")
    assert "rejected" in reject_link.reason and "people.csv line 4" in reject_link.reason
    [link] = result.dataset.links
    assert link.protective is True  # SUPPORTS is always protective
    assert link.link_id.startswith("auto:")


def test_derived_link_ids_are_stable(tmp_path: Path) -> None:
    small_town(tmp_path)
    rows = list(csv.reader((tmp_path / "links.csv").open(encoding="utf-8")))
    write_csv(tmp_path / "links.csv", rows[0][1:], [r[1:] for r in rows[1:]] + [rows[1][1:]])
    first = [link.link_id for link in read_dataset(tmp_path).dataset.links]
    second = [link.link_id for link in read_dataset(tmp_path).dataset.links]
    assert first == second
    assert len(set(first)) == 6  # an identical row is a second record, not a collision
    assert first[5] == first[0] + "-2"


def test_missing_required_column_is_a_file_error(tmp_path: Path) -> None:
    write_csv(tmp_path / "people.csv", ["person_id", "name"], [["YP1", "A"]])
    write_csv(tmp_path / "links.csv", ["source_id", "target_id", "type"], [])
    result = read_dataset(tmp_path)
    [error] = result.file_errors
    assert error.file == "people.csv"
    assert "required column role missing" in (error.error or "")
    assert not result.ok


def test_missing_links_file_is_a_file_error(tmp_path: Path) -> None:
    write_csv(tmp_path / "people.csv", ["person_id", "role"], [["YP1", "young_person"]])
    result = read_dataset(tmp_path)
    assert [r.file for r in result.file_errors] == ["links.csv"]
    assert len(result.dataset.people) == 1


def test_not_a_dataset(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(UsageError, match="not a dataset"):
        read_dataset(tmp_path)
    with pytest.raises(UsageError, match="no such file"):
        read_dataset(tmp_path / "absent")


def test_not_utf8_is_read_as_windows_1252_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_bytes(
        b"person_id,role,name\nYP2,young_person,Ok\nYP1,young_person,Z\xe9ro \xa35\n"
    )
    write_csv(tmp_path / "links.csv", ["source_id", "target_id", "type"], [])
    result = read_dataset(tmp_path)
    assert result.ok
    assert result.dataset.people["YP1"].name == "Zéro £5"
    [warning] = result.files["people"].warnings
    assert "Windows-1252" in warning and "line 3" in warning


def test_workbook(tmp_path: Path) -> None:
    book = Workbook()
    people = book.active
    assert people is not None
    people.title = "People"
    people.append(["person_id", "role", "date_of_birth", "looked_after"])
    people.append(["YP1", "young_person", dt.datetime(2010, 5, 4), True])
    people.append(["YP2", "alien", None, None])
    people.append([1001, "adult", "2024-13-40", None])
    links = book.create_sheet("links")
    links.append(["source_id", "target_id", "type", "count", "first_seen"])
    links.append([1001, "YP1", "CONTACTED", 2, dt.datetime(2025, 1, 2)])
    path = tmp_path / "town.xlsx"
    book.save(path)
    result = read_dataset(path)
    assert result.dataset.people["YP1"].date_of_birth == dt.date(2010, 5, 4)
    assert result.dataset.people["YP1"].looked_after is True
    assert [(r.file, r.line, r.column) for r in result.rejects] == [
        ("People", 3, "role"),
        ("People", 4, "date_of_birth"),
        ("links", 2, "source_id"),
    ]


def test_write_rejects_round_trip(tmp_path: Path) -> None:
    result = read_dataset(INVALID / "bad_role")
    out = tmp_path / "rejects.csv"
    assert write_rejects(result.rejects, out) == len({(r.file, r.line) for r in result.rejects})
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows and all(r["file"] and r["line"] and r["reason"] for r in rows)
    assert rows[0]["person_id"]  # the original row travels with its reason


# --------------------------------------------------------------------------- fixtures/invalid


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if not c.get("file_error") and not c.get("dataset_error")],
    ids=lambda c: c["case"],
)
def test_invalid_case_rejected_for_the_right_reason(case: dict) -> None:
    result = read_dataset(INVALID / case["case"])
    if case.get("valid"):
        assert result.ok, [str(r) for r in result.rejects]
    else:
        hits = [
            r
            for r in result.rejects
            if r.file == case["file"] and r.line == case["line"] and r.column == case["column"]
        ]
        assert hits, (
            f"expected a reject at {case['file']}:{case['line']}:{case['column']}, "
            f"got {[str(r) for r in result.rejects]}"
        )
        assert any(case["reason_contains"].lower() in r.reason.lower() for r in hits), hits
        assert len({(r.file, r.line) for r in result.rejects}) == case.get("rejected_rows", 1)
        for also in case.get("also_rejected", []):
            assert any(
                r.file == also["file"]
                and r.line == also["line"]
                and r.column == also["column"]
                and also["reason_contains"].lower() in r.reason.lower()
                for r in result.rejects
            ), also
    _assert_counts(result, case)
    _assert_warnings(result, case)
    _assert_values(result, case)


def _assert_counts(result: IngestResult, case: dict) -> None:
    data = result.dataset
    assert len(data.people) == case["valid_people"]
    assert len(data.links) == case["valid_links"]
    if "valid_locations" in case:
        assert len(data.locations) == case["valid_locations"]
    if "valid_vehicles" in case:
        assert len(data.vehicles) == case["valid_vehicles"]
    for report in result.files.values():
        # every row read is either accepted or rejected: none is lost between the two
        assert report.accepted + report.rejected == report.rows, report


def _assert_warnings(result: IngestResult, case: dict) -> None:
    """Each file named in the case warns with every fragment; the others do not warn."""
    expected = case.get("warnings", {})
    for report in result.files.values():
        said = " | ".join(report.warnings).lower()
        for fragment in expected.get(report.file, []):
            assert fragment.lower() in said, (report.file, fragment, report.warnings)
        if report.file not in expected:
            assert not report.warnings, (report.file, report.warnings)


def _assert_values(result: IngestResult, case: dict) -> None:
    """The values rows normalise to, where the case names them (``expect``)."""
    by_stem: dict[str, dict[str, Any]] = {
        "people": result.dataset.people,
        "locations": result.dataset.locations,
        "vehicles": result.dataset.vehicles,
        "links": {link.link_id: link for link in result.dataset.links},
    }
    for stem, records in case.get("expect", {}).items():
        for record_id, fields in records.items():
            record = by_stem[stem][record_id]
            for name, value in fields.items():
                got = getattr(record, name)
                got = got.value if hasattr(got, "value") else got
                assert got == value, (stem, record_id, name, got, value)


@pytest.mark.parametrize("case", [c for c in CASES if c.get("file_error")], ids=lambda c: c["case"])
def test_invalid_case_file_error(case: dict) -> None:
    result = read_dataset(INVALID / case["case"])
    errors = [r for r in result.file_errors if r.file == case["file"]]
    assert errors, result.files
    assert case["reason_contains"].lower() in (errors[0].error or "").lower()
    _assert_counts(result, case)
    _assert_warnings(result, case)


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.get("dataset_error")], ids=lambda c: c["case"]
)
def test_invalid_case_dataset_error(case: dict) -> None:
    """A workbook that cannot be opened at all: one clear error, nothing read."""
    with pytest.raises(DataError) as raised:
        read_dataset(INVALID / case["case"])
    message = str(raised.value)
    assert case["dataset_error"] in message.lower(), message
    assert "\n" not in message and "town.xlsx" in message


def test_every_rule_has_an_invalid_case() -> None:
    names = {c["case"] for c in CASES}
    needed = {
        "bad_role",
        "bad_date",
        "dob_in_future",
        "last_before_first",
        "bad_bool",
        "bad_count",
        "bad_agency",
        "bad_source_grade",
        "bad_intel_grade",
        "bad_handling",
        "unknown_link_type",
        "wrong_kinds",
        "self_link",
        "link_to_unknown_id",
        "link_to_rejected_id",
        "missing_required_column",
        "duplicate_id_across_files",
        "bad_id_chars",
        "id_too_long",
        "lat_without_lon",
        "lat_out_of_range",
        "bad_location_kind",
        "bad_placement_area",
        "negative_missing_episodes",
        "bom_crlf_quoted",
        # hostile files (issue 10): nothing dropped silently
        "unclosed_quote",
        "unclosed_quote_runs_on",
        "unclosed_quote_last_line",
        "cp1252",
        "utf16_tab",
        "utf16_no_bom",
        "semicolon",
        "sep_line",
        "title_row",
        "nul_in_row",
        "binary_garbage",
        "xlsx_two_sheets_one_file",
        "xlsx_hidden_sheet_one_file",
        "xlsx_dimension_too_small",
        "xlsx_merged_cells",
        "xlsx_title_row",
        "xlsx_zip_bomb",
        "xlsx_lying_sizes",
        "xlsx_huge_cell",
    }
    assert needed <= names, needed - names


# --------------------------------------------------------------------------- property-based

_cell = st.one_of(
    st.text(alphabet=string.printable + "éß\u2028", max_size=12),
    st.sampled_from(["young_person", "adult", "YES", "0", "2024-02-29", "", "A", "3", "E"]),
)
_PEOPLE_COLUMNS = ["person_id", "role", "date_of_birth", "looked_after", "missing_episodes"]
_LINK_COLUMNS = ["source_id", "target_id", "type", "first_seen", "count", "source_grade"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    people=st.lists(st.lists(_cell, min_size=5, max_size=5), max_size=8),
    links=st.lists(st.lists(_cell, min_size=6, max_size=6), max_size=8),
)
def test_random_rows_never_crash(
    tmp_path_factory: pytest.TempPathFactory, people: list, links: list
) -> None:
    folder = tmp_path_factory.mktemp("random")
    write_csv(folder / "people.csv", _PEOPLE_COLUMNS, people)
    write_csv(folder / "links.csv", _LINK_COLUMNS, links)
    result = read_dataset(folder)
    for reject in result.rejects:
        assert reject.file in ("people.csv", "links.csv")
        assert reject.line >= 2 and reject.reason
        assert reject.column is None or reject.column in _PEOPLE_COLUMNS + _LINK_COLUMNS
    people_report = result.files["people"]
    assert people_report.accepted + people_report.rejected == people_report.rows
    assert people_report.accepted == len(result.dataset.people)


_ids = st.from_regex(r"[A-Za-z0-9_.:\-]{1,10}", fullmatch=True)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ids=st.lists(_ids, min_size=2, max_size=10, unique=True),
    roles=st.lists(st.sampled_from(["young_person", "ADULT", " adult "]), min_size=10, max_size=10),
    flags=st.lists(st.sampled_from(["yes", "N", "1", "false", ""]), min_size=10, max_size=10),
)
def test_every_valid_row_is_accepted(
    tmp_path_factory: pytest.TempPathFactory, ids: list, roles: list, flags: list
) -> None:
    folder = tmp_path_factory.mktemp("valid")
    write_csv(
        folder / "people.csv",
        ["person_id", "role", "looked_after"],
        [[i, roles[n], flags[n]] for n, i in enumerate(ids)],
    )
    write_csv(
        folder / "links.csv",
        ["source_id", "target_id", "type"],
        [[ids[n], ids[n + 1], "ASSOCIATES_WITH"] for n in range(len(ids) - 1)],
    )
    result = read_dataset(folder)
    assert result.ok, [str(r) for r in result.rejects]
    assert set(result.dataset.people) == set(ids)
    graph = graph_from_dataset(result.dataset)
    assert graph.number_of_edges() == len(ids) - 1


def test_blank_header_column_is_ignored_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text("person_id,,role\nYP1,,young_person\nAD1,x,adult\n")
    write_csv(
        tmp_path / "links.csv", ["source_id", "target_id", "type"], [["AD1", "YP1", "SUPPORTS"]]
    )
    result = read_dataset(tmp_path)
    assert result.ok, [str(r) for r in result.rejects]
    assert set(result.dataset.people) == {"YP1", "AD1"}


def test_today_decides_what_is_in_the_future(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "people.csv",
        ["person_id", "role", "date_of_birth"],
        [["YP1", "young_person", "2026-11-20"]],
    )
    write_csv(tmp_path / "links.csv", ["source_id", "target_id", "type"], [])
    assert read_dataset(tmp_path, today=dt.date(2026, 11, 1)).rejects[0].column == "date_of_birth"
    assert read_dataset(tmp_path, today=dt.date(2026, 11, 30)).ok


def test_workbook_formula_without_a_saved_value_is_not_silently_empty(tmp_path: Path) -> None:
    book = Workbook()
    people = book.active
    assert people is not None
    people.title = "people"
    people.append(["person_id", "role", "name"])
    people.append(["YP1", "young_person", '=CONCATENATE("A","B")'])
    people.append(['=LOWER("X")', "adult", "Bo"])
    links = book.create_sheet("links")
    links.append(["source_id", "target_id", "type"])
    path = tmp_path / "town.xlsx"
    book.save(path)
    result = read_dataset(path)
    assert result.dataset.people["YP1"].name == '=CONCATENATE("A","B")'
    [reject] = result.rejects
    assert (reject.line, reject.column) == (3, "person_id")
