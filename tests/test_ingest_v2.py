"""Reading version 2 datasets: agency extracts in source folders, qualified ids.

The rules are DATA-FORMAT.md, "Version 2".  These read with ``resolve=False`` (the
records as the sources sent them); resolution into entities is tested with the
resolver and in ``test_resolve_merge.py``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from openpyxl import Workbook

from graphguard.errors import DataError
from graphguard.ingest import read_dataset, write_rejects
from graphguard.model import Agency
from tests.helpers import write_csv

PEOPLE = ["person_id", "role", "name", "date_of_birth", "nhs_number", "postcode"]
LINKS = ["link_id", "source_id", "target_id", "type", "agency"]
SOURCES = ["source", "agency", "extracted_on", "contact"]
DECISIONS = ["record_a", "record_b", "decision", "decided_by", "decided_on", "reason"]


def two_agencies(root: Path) -> Path:
    """Police and education, both with a P001 of their own, and one cross-source link."""
    write_csv(
        root / "police" / "people.csv",
        PEOPLE,
        [
            ["P001", "young_person", "Jess Marlow", "2010-03-04", "943 476 5919", "s1 2ab"],
            ["P002", "adult", "Dan Kerr", "1990-01-01", "", ""],
        ],
    )
    write_csv(
        root / "police" / "links.csv",
        LINKS,
        [
            ["L1", "P002", "P001", "ALLEGED_HARM", ""],
            ["L2", "P001", "education:S14", "ATTENDS", "education"],
        ],
    )
    write_csv(
        root / "education" / "people.csv",
        PEOPLE,
        [["P001", "young_person", "Jessica Marlow", "2010-04-03", "", "S1 2AB"]],
    )
    write_csv(
        root / "education" / "locations.csv",
        ["location_id", "kind", "name"],
        [["S14", "school", "Northgate Academy"]],
    )
    write_csv(root / "education" / "links.csv", LINKS, [["", "P001", "S14", "ATTENDS", ""]])
    write_csv(
        root / "sources.csv",
        SOURCES,
        [
            ["police", "police", "2026-11-01", "intel unit"],
            ["education", "education", "2026-10-28", ""],
        ],
    )
    return root


def test_every_record_is_known_by_its_qualified_id(tmp_path: Path) -> None:
    result = read_dataset(two_agencies(tmp_path), resolve=False)
    assert result.ok, [str(r) for r in result.rejects]
    records = result.records
    assert records is result.dataset and records.version == 2
    assert sorted(records.people) == ["education:P001", "police:P001", "police:P002"]
    assert records.people["police:P001"].person_id == "police:P001"
    assert records.people["education:P001"].name == "Jessica Marlow"  # a different P001
    assert list(records.locations) == ["education:S14"]
    ends = {(link.source_id, link.target_id) for link in records.links}
    assert ends == {
        ("police:P002", "police:P001"),
        ("police:P001", "education:S14"),  # a cross-source link, by qualified id
        ("education:P001", "education:S14"),
    }


def test_link_ids_are_qualified_derived_ones_too(tmp_path: Path) -> None:
    records = read_dataset(two_agencies(tmp_path), resolve=False).records
    ids = sorted(link.link_id for link in records.links)
    assert ids[1:] == ["police:L1", "police:L2"]
    assert ids[0].startswith("education:auto:")


def test_link_agency_defaults_to_the_sources_agency(tmp_path: Path) -> None:
    records = read_dataset(two_agencies(tmp_path), resolve=False).records
    agency = {link.link_id: link.agency for link in records.links}
    assert agency["police:L1"] is Agency.POLICE  # empty cell: police's agency
    assert agency["police:L2"] is Agency.EDUCATION  # the row's own agency wins


def test_sources_in_sources_csv_order_with_what_it_says(tmp_path: Path) -> None:
    records = read_dataset(two_agencies(tmp_path), resolve=False).records
    assert list(records.sources) == ["police", "education"]
    police = records.sources["police"]
    assert police.agency == "police" and police.extracted_on == dt.date(2026, 11, 1)
    assert police.contact == "intel unit" and police.path == str(tmp_path / "police")


def test_identity_columns_are_normalised(tmp_path: Path) -> None:
    records = read_dataset(two_agencies(tmp_path), resolve=False).records
    jess = records.people["police:P001"]
    assert jess.nhs_number == "9434765919" and jess.postcode == "S1 2AB"


def test_file_reports_are_keyed_per_source(tmp_path: Path) -> None:
    result = read_dataset(two_agencies(tmp_path), resolve=False)
    present = {key: r for key, r in result.files.items() if r.present}
    assert set(present) == {
        "sources",
        "police/people",
        "police/links",
        "education/people",
        "education/locations",
        "education/links",
    }
    assert present["police/people"].file == "police/people.csv"
    assert present["police/people"].source == "police" and present["sources"].source is None
    summary = result.source_summary()
    assert summary["police"]["accepted"] == 4 and summary["education"]["accepted"] == 3
    assert summary["police"]["agency"] == "police"


def test_a_reject_names_its_source_file_line_and_column(tmp_path: Path) -> None:
    two_agencies(tmp_path)
    write_csv(
        tmp_path / "education" / "people.csv",
        PEOPLE,
        [
            ["P001", "young_person", "Jessica Marlow", "2010-04-03", "", ""],
            ["P009", "young_person", "Test Pupil", "", "943 476 5918", ""],
        ],
    )
    result = read_dataset(tmp_path, resolve=False)
    [reject] = result.rejects
    assert reject.source == "education" and reject.file == "education/people.csv"
    assert (reject.line, reject.column) == (3, "nhs_number")
    assert str(reject) == (
        "education/people.csv line 3, column nhs_number: "
        "'9434765918' is not a valid NHS number (its check digit is wrong)"
    )
    assert reject.as_dict()["source"] == "education"
    assert result.files["education/people"].rejected == 1
    assert "education:P001" in result.records.people  # the other row is kept


def test_rejects_csv_of_a_v2_dataset_has_a_source_column(tmp_path: Path) -> None:
    two_agencies(tmp_path / "data")
    write_csv(
        tmp_path / "data" / "police" / "links.csv",
        LINKS,
        [["L1", "P002", "P404", "ALLEGED_HARM", ""]],
    )
    result = read_dataset(tmp_path / "data", resolve=False)
    out = tmp_path / "rejects.csv"
    assert write_rejects(result.rejects, out) == 1
    [row] = list(csv.DictReader(out.open(encoding="utf-8")))
    assert (row["file"], row["source"], row["line"]) == ("police/links.csv", "police", "2")
    assert row["reason"] == "unknown id 'P404': not defined in any entity file of police"


def test_a_local_id_is_looked_up_in_its_own_source_only(tmp_path: Path) -> None:
    two_agencies(tmp_path)
    # S14 is education's; police must name it education:S14.
    write_csv(tmp_path / "police" / "links.csv", LINKS, [["L2", "P001", "S14", "ATTENDS", ""]])
    [reject] = read_dataset(tmp_path, resolve=False).rejects
    assert reject.reason == "unknown id 'S14': not defined in any entity file of police"


def test_cross_source_link_to_an_unknown_record(tmp_path: Path) -> None:
    two_agencies(tmp_path)
    write_csv(
        tmp_path / "police" / "links.csv",
        LINKS,
        [
            ["L2", "P001", "education:S99", "ATTENDS", ""],
            ["L3", "P001", "health:H1", "FAMILY_OF", ""],
        ],
    )
    rejects = read_dataset(tmp_path, resolve=False).rejects
    assert [r.reason for r in rejects] == [
        "unknown record 'education:S99': not defined in any entity file of education",
        "unknown id 'health:H1': not defined in any entity file of police",
    ]


def test_cross_source_link_to_a_rejected_record(tmp_path: Path) -> None:
    two_agencies(tmp_path)
    write_csv(
        tmp_path / "education" / "locations.csv",
        ["location_id", "kind", "name"],
        [["S14", "castle", "Northgate Academy"]],
    )
    result = read_dataset(tmp_path, resolve=False)
    reasons = {(r.file, r.column): r.reason for r in result.rejects}
    assert reasons[("police/links.csv", "target_id")] == (
        "'education:S14' was rejected (education/locations.csv line 2), so this link is too"
    )


def test_same_local_id_twice_in_one_source_is_a_duplicate(tmp_path: Path) -> None:
    two_agencies(tmp_path)
    write_csv(
        tmp_path / "education" / "locations.csv",
        ["location_id", "kind", "name"],
        [["P001", "school", "Northgate Academy"], ["S14", "school", "x"]],
    )
    result = read_dataset(tmp_path, resolve=False)
    [reject] = result.rejects
    assert reject.reason == "duplicate id 'P001': already used in education/people.csv line 2"


def test_a_bad_source_name_is_a_file_level_error_naming_it(tmp_path: Path) -> None:
    two_agencies(tmp_path)
    write_csv(tmp_path / "Youth Service" / "people.csv", PEOPLE, [["Y1", "adult", "", "", "", ""]])
    result = read_dataset(tmp_path, resolve=False)
    [error] = result.file_errors
    assert error.file == "Youth Service/" and error.source == "Youth Service"
    assert error.error == (
        "source folder Youth Service/: 'Youth Service' is not a source name "
        "(1 to 32 characters of a-z 0-9 _ -): rename the folder"
    )
    # Not among the sources, yet in the summary, with its error.
    entry = result.source_summary()["Youth Service"]
    assert entry["agency"] is None and entry["files"] == ["Youth Service/"]
    assert entry["errors"] == [error.error]
    assert "police:P001" in result.records.people  # the other sources are read


def test_v1_files_beside_source_folders_are_refused(tmp_path: Path) -> None:
    two_agencies(tmp_path)
    write_csv(tmp_path / "people.csv", PEOPLE, [["X1", "adult", "", "", "", ""]])
    with pytest.raises(DataError) as raised:
        read_dataset(tmp_path, resolve=False)
    assert str(raised.value) == (
        f"{tmp_path}: holds dataset files (people.csv) beside source folders "
        "(education/, police/); a dataset has one layout: "
        "move those files into a source folder of their own"
    )


def test_a_v1_folder_with_an_empty_subfolder_stays_v1(tmp_path: Path) -> None:
    write_csv(tmp_path / "people.csv", ["person_id", "role"], [["P1", "adult"]])
    write_csv(tmp_path / "links.csv", LINKS[:4], [])
    (tmp_path / "notes").mkdir()
    result = read_dataset(tmp_path)
    assert result.dataset.version == 1 and list(result.dataset.people) == ["P1"]
    assert result.records is result.dataset and result.dataset.resolution is None


def test_sources_csv_row_without_a_folder_is_rejected(tmp_path: Path) -> None:
    two_agencies(tmp_path)
    with (tmp_path / "sources.csv").open("a", encoding="utf-8") as handle:
        handle.write("health,health,2026-11-02,\n")
    result = read_dataset(tmp_path, resolve=False)
    [reject] = result.rejects
    assert str(reject) == (
        "sources.csv line 4, column source: no source folder 'health' in the dataset: "
        "its extract is missing (or the folder has another name)"
    )
    assert reject.source is None


def test_folder_without_a_sources_row_is_read_with_a_warning(tmp_path: Path) -> None:
    two_agencies(tmp_path)
    write_csv(tmp_path / "youth" / "people.csv", PEOPLE, [["Y1", "adult", "", "", "", ""]])
    result = read_dataset(tmp_path, resolve=False)
    assert result.ok and "youth:Y1" in result.records.people
    assert list(result.records.sources) == ["police", "education", "youth"]
    assert result.warnings == [
        "youth has no row in sources.csv: read, with no agency to give links that name none"
    ]


def test_sources_csv_rows_are_validated(tmp_path: Path) -> None:
    two_agencies(tmp_path)
    write_csv(
        tmp_path / "sources.csv",
        SOURCES,
        [
            ["police", "constabulary", "2026-11-01", ""],
            ["education", "education", "2099-01-01", ""],
            ["education", "education", "2026-01-01", ""],
            ["education", "health", "2026-01-01", ""],
        ],
    )
    result = read_dataset(tmp_path, resolve=False)
    reasons = [(r.line, r.column, r.reason) for r in result.rejects]
    assert reasons[0][:2] == (2, "agency") and "constabulary" in reasons[0][2]
    assert reasons[1][:2] == (3, "extracted_on") and "future" in reasons[1][2]
    assert reasons[2] == (5, "source", "source 'education' already has a row (line 4)")
    assert len(reasons) == 3
    # The police row was rejected: its folder is read all the same, with no agency.
    assert result.records.sources["police"].agency is None
    assert result.records.sources["education"].agency == "education"


def write_decisions(root: Path, rows: list[list[str]]) -> None:
    write_csv(root / "decisions.csv", DECISIONS, rows)


def test_decisions_are_read_and_a_later_row_replaces_an_earlier(tmp_path: Path) -> None:
    two_agencies(tmp_path)
    write_decisions(
        tmp_path,
        [
            ["police:P001", "education:P001", "different", "A. Analyst", "2026-11-02", ""],
            ["police:P002", "education:P001", "different", "A. Analyst", "2026-11-02", ""],
            ["education:P001", "police:P001", "SAME", "B. Analyst", "2026-11-03", "same school"],
        ],
    )
    result = read_dataset(tmp_path, resolve=False)
    assert result.ok, [str(r) for r in result.rejects]
    decisions = result.records.decisions
    assert [(d.pair, d.decision, d.line) for d in decisions] == [
        (("education:P001", "police:P002"), "different", 3),
        (("education:P001", "police:P001"), "same", 4),
    ]
    assert decisions[1].reason == "same school" and decisions[1].decided_by == "B. Analyst"


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (
            ["police:P001", "education:P001", "maybe", "A", "2026-11-02", ""],
            "decision",
            "'maybe' is not one of same, different",
        ),
        (
            ["police:P001", "education:P001", "same", "A", "02/11/2026", ""],
            "decided_on",
            "'02/11/2026' is not a date in the form YYYY-MM-DD",
        ),
        (
            ["police:P001", "education:P001", "same", "", "2026-11-02", ""],
            "decided_by",
            "decided_by is required but empty",
        ),
        (
            ["P001", "education:P001", "same", "A", "2026-11-02", ""],
            "record_a",
            "'P001' is not a qualified record id (source:local_id, such as police:P001)",
        ),
        (
            ["police:P001", "education:P404", "same", "A", "2026-11-02", ""],
            "record_b",
            "unknown record 'education:P404': not defined in any entity file of education",
        ),
        (
            ["police:P001", "health:H1", "same", "A", "2026-11-02", ""],
            "record_b",
            "unknown record 'health:H1': there is no source 'health' in the dataset",
        ),
        (
            ["police:P001", "police:P001", "same", "A", "2026-11-02", ""],
            "record_b",
            "a decision is about two different records",
        ),
        (
            ["police:P001", "education:S14", "different", "A", "2026-11-02", ""],
            "record_b",
            "'education:S14' is a location and 'police:P001' a person: "
            "a decision is about two records of one kind",
        ),
    ],
)
def test_a_bad_decision_row_is_rejected(
    tmp_path: Path, row: list[str], column: str, reason: str
) -> None:
    two_agencies(tmp_path)
    write_decisions(tmp_path, [row])
    result = read_dataset(tmp_path, resolve=False)
    [reject] = result.rejects
    assert (reject.file, reject.line, reject.column, reject.reason) == (
        "decisions.csv",
        2,
        column,
        reason,
    )
    assert result.records.decisions == []


def test_decisions_csv_missing_a_required_column_is_a_file_error(tmp_path: Path) -> None:
    two_agencies(tmp_path)
    write_csv(tmp_path / "decisions.csv", ["record_a", "record_b", "decision"], [])
    [error] = read_dataset(tmp_path, resolve=False).file_errors
    assert error.file == "decisions.csv"
    assert "required columns decided_by, decided_on missing from the header" in (error.error or "")


def test_a_source_may_be_a_workbook_and_its_rejects_name_the_sheet(tmp_path: Path) -> None:
    two_agencies(tmp_path)
    for name in ("people.csv", "locations.csv", "links.csv"):
        (tmp_path / "education" / name).unlink()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "people"
    sheet.append(PEOPLE)
    sheet.append(["S1", "young_person", "Test Pupil", "2011-01-01", "", ""])
    sheet.append(["S2", "young_person", "Test Pupil Two", "", "", "not a postcode"])
    book.save(tmp_path / "education" / "town.xlsx")
    write_csv(
        tmp_path / "police" / "links.csv", LINKS, [["L1", "P002", "P001", "ALLEGED_HARM", ""]]
    )
    result = read_dataset(tmp_path, resolve=False)
    [reject] = result.rejects
    assert reject.file == "education/town.xlsx sheet people" and reject.source == "education"
    assert str(reject).startswith("education/town.xlsx sheet people row 3, column postcode:")
    assert "education:S1" in result.records.people


def test_rejects_pointing_into_a_workbook_sheet_say_row(tmp_path: Path) -> None:
    # A sheet has rows, not lines: a reason naming another row of it says so too.
    two_agencies(tmp_path)
    for name in ("people.csv", "locations.csv", "links.csv"):
        (tmp_path / "education" / name).unlink()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "people"
    sheet.append(PEOPLE)
    sheet.append(["S1", "young_person", "Test Pupil", "2011-01-01", "", ""])
    sheet.append(["S1", "young_person", "Test Pupil Again", "2011-01-01", "", ""])
    sheet.append(["S14", "young_person", "Bad Postcode", "", "", "not a postcode"])
    book.save(tmp_path / "education" / "town.xlsx")
    result = read_dataset(tmp_path, resolve=False)
    reasons = {(r.file, r.line): r.reason for r in result.rejects}
    assert reasons[("education/town.xlsx sheet people", 3)] == (
        "duplicate id 'S1': already used in education/town.xlsx sheet people row 2"
    )
    assert reasons[("police/links.csv", 3)] == (
        "'education:S14' was rejected (education/town.xlsx sheet people row 4), "
        "so this link is too"
    )


def test_a_source_may_send_only_the_files_it_has(tmp_path: Path) -> None:
    two_agencies(tmp_path)
    write_csv(
        tmp_path / "anpr" / "vehicles.csv", ["vehicle_id", "registration"], [["V1", "ab12 cde"]]
    )
    result = read_dataset(tmp_path, resolve=False)
    assert result.ok and result.records.vehicles["anpr:V1"].registration == "AB12CDE"
    assert not result.files["anpr/people"].present


def test_as_dict_reports_per_source(tmp_path: Path) -> None:
    report = read_dataset(two_agencies(tmp_path), resolve=False).as_dict()
    assert report["version"] == 2
    assert report["sources"]["education"]["files"] == [
        "education/people.csv",
        "education/locations.csv",
        "education/links.csv",
    ]
    assert report["files"]["police/people.csv"]["source"] == "police"
    json.dumps(report)  # plain JSON all the way down


# --------------------------------------------------------------------------- fixtures/invalid

INVALID = Path(__file__).resolve().parent.parent / "fixtures" / "invalid"
V2_CASES = json.loads((INVALID / "cases_v2.json").read_text(encoding="utf-8"))


def test_every_v2_rule_has_an_invalid_case() -> None:
    assert {c["case"] for c in V2_CASES} >= {
        "v2_bad_source_name",
        "v2_mixed_layout",
        "v2_bad_nhs_number",
        "v2_bad_decision",
        "v2_cross_source_unknown",
        "v2_missing_extract",
    }


@pytest.mark.parametrize("case", V2_CASES, ids=lambda c: c["case"])
def test_v2_invalid_case_gives_its_exact_message(case: dict) -> None:
    folder = INVALID / case["case"]
    if case["kind"] == "dataset_error":
        with pytest.raises(DataError) as raised:
            read_dataset(folder, resolve=False)
        assert str(raised.value) == case["message"].format(path=folder)
        return
    result = read_dataset(folder, resolve=False)
    if case["kind"] == "file_error":
        [error] = result.file_errors
        assert (error.file, error.source, error.error) == (
            case["file"],
            case["source"],
            case["message"],
        )
        assert not result.rejects
    else:
        # the broken row (and what names it); every other row is kept
        assert [str(r) for r in result.rejects] == [case["message"], *case.get("also", [])]
        reject = result.rejects[0]
        assert (reject.source, reject.file, reject.line, reject.column) == (
            case["source"],
            case["file"],
            case["line"],
            case["column"],
        )
        assert not result.file_errors
    records = result.records
    assert len(records.people) == case["valid_people"]
    assert len(records.locations) == case["valid_locations"]
    assert len(records.links) == case["valid_links"]
    if "valid_decisions" in case:
        assert len(records.decisions) == case["valid_decisions"]
    for report in result.files.values():
        assert report.accepted + report.rejected == report.rows, report


# --------------------------------------------------------------------------- validate


def _validate(*args: str) -> tuple[int, str, str]:
    from click.testing import CliRunner

    from graphguard.cli import main

    result = CliRunner().invoke(main, ["validate", *args])
    return result.exit_code, result.stdout, result.stderr


def test_validate_reports_per_source_in_text(tmp_path: Path) -> None:
    _bad_nhs_town(tmp_path)
    code, out, err = _validate(str(tmp_path))
    assert code == 1, out + err
    lines = out.splitlines()
    assert lines[:9] == [
        "sources.csv: 2 rows, 2 accepted, 0 rejected",
        "police (agency police, extracted 2026-11-01): 4 rows, 4 accepted, 0 rejected",
        "  police/people.csv: 2 rows, 2 accepted, 0 rejected",
        "  police/links.csv: 2 rows, 2 accepted, 0 rejected",
        "education (agency education, extracted 2026-10-28): 4 rows, 3 accepted, 1 rejected",
        "  education/people.csv: 2 rows, 1 accepted, 1 rejected",
        "  education/locations.csv: 1 rows, 1 accepted, 0 rejected",
        "  education/links.csv: 1 rows, 1 accepted, 0 rejected",
        "education/people.csv line 3, column nhs_number: "
        "'9434765918' is not a valid NHS number (its check digit is wrong)",
    ]
    assert lines[-1] == "1 row rejected."


def test_validate_reports_per_source_in_json(tmp_path: Path) -> None:
    _bad_nhs_town(tmp_path)
    code, out, _ = _validate(str(tmp_path), "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert report["version"] == 2
    assert report["sources"]["education"]["rejected"] == 1
    assert report["sources"]["police"]["rejected"] == 0
    assert report["files"]["education/people.csv"] == {
        "rows": 2,
        "accepted": 1,
        "rejected": 1,
        "source": "education",
    }
    assert report["rejects"][0]["source"] == "education"


def test_validate_refuses_a_mixed_layout_in_one_line(tmp_path: Path) -> None:
    two_agencies(tmp_path)
    write_csv(tmp_path / "links.csv", LINKS, [])
    code, out, err = _validate(str(tmp_path))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "a dataset has one layout" in err and "Traceback" not in err


def _bad_nhs_town(root: Path) -> None:
    two_agencies(root)
    write_csv(
        root / "education" / "people.csv",
        PEOPLE,
        [
            ["P001", "young_person", "Jessica Marlow", "2010-04-03", "", ""],
            ["P009", "young_person", "Test Pupil", "", "943 476 5918", ""],
        ],
    )


def test_a_source_folder_that_cannot_be_read_is_an_error_of_that_source(tmp_path: Path) -> None:
    two_agencies(tmp_path)
    health = tmp_path / "health"
    health.mkdir()
    for name in ("a.xlsx", "b.xlsx"):
        Workbook().save(health / name)
    (tmp_path / "sources").mkdir()  # a source may be called "sources": its report is its own
    (tmp_path / "sources" / "damaged.xlsx").write_bytes(b"not a workbook at all")
    result = read_dataset(tmp_path, resolve=False)
    errors = {r.file: r.error for r in result.file_errors}
    assert errors["health/"] == (
        "source folder health/: holds 2 workbooks and no CSV files: give one workbook"
    )
    assert (errors["sources/"] or "").startswith("source folder sources/: ")
    assert result.files["sources"].file == "sources.csv" and not result.files["sources"].error
    assert "police:P001" in result.records.people


def test_a_v1_report_keeps_its_shape(tmp_path: Path) -> None:
    """v1 outputs are unchanged: no source column, no version or source keys."""
    result = read_dataset(INVALID / "bad_role")
    report = result.as_dict()
    assert "version" not in report and "sources" not in report
    assert all("source" not in r for r in report["rejects"])
    assert all("source" not in f for f in report["files"].values())
    out = tmp_path / "rejects.csv"
    write_rejects(result.rejects, out)
    header = out.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("file,line,column,reason,")
