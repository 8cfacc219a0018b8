"""``graphguard resolve`` and ``resolve decide`` (issue 13 items 3, 4): files, audit, decisions."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from graphguard import audit
from graphguard.cli import main
from graphguard.errors import UsageError
from graphguard.privacy import pseudonym
from graphguard.resolve.decisions import record_decision
from graphguard.settings import get_settings, pseudonym_key

POLICE = """person_id,role,name,date_of_birth,postcode,phone
P1,young_person,Jess Marlow,2010-03-04,S1 2AB,07700 900123
A1,adult,Tom Reed,1980-01-02,S1 9ZZ,
"""
SCHOOL = """person_id,role,name,date_of_birth,postcode
S1,young_person,Jessica Marlow,2010-04-03,s12ab
S2,young_person,Amy Marlow,2010-03-04,S1 2AB
"""
HEALTH = """person_id,role,name,date_of_birth,postcode
H9,adult,Thomas Reed,1980-01-02,S1 9ZZ
"""
LINKS = "link_id,source_id,target_id,type\n"
YOUNG_VALUES = ("Jess", "Jessica", "Amy", "Marlow", "2010-03-04", "2010-04-03", "S1 2AB")


def run(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def extracts(tmp_path: Path) -> Path:
    folder = tmp_path / "town"
    for source, people in (("police", POLICE), ("school", SCHOOL), ("health", HEALTH)):
        (folder / source).mkdir(parents=True)
        (folder / source / "people.csv").write_text(people, encoding="utf-8")
        (folder / source / "links.csv").write_text(LINKS, encoding="utf-8")
    return folder


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def entity_of(out: Path) -> dict[str, str]:
    return {r["record_id"]: r["entity_id"] for r in rows(out / "entities.csv")}


def test_resolve_writes_entities_candidates_and_a_summary(
    extracts: Path, tmp_path: Path, home: Path
) -> None:
    out = tmp_path / "resolved"
    code, stdout, stderr = run("resolve", extracts, "--out", out)
    assert code == 0, stdout + stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "candidates.csv",
        "entities.csv",
        "summary.json",
    ]
    entities = entity_of(out)
    assert len(entities) == 5
    assert entities["police:P1"] == entities["school:S1"]
    assert entities["police:A1"] == entities["health:H9"]
    assert entities["school:S2"] != entities["police:P1"]  # the twin
    candidates = rows(out / "candidates.csv")
    assert list(candidates[0]) == [
        "record_a", "record_b", "kind", "match_probability", "outcome", "agreements", "rule",
    ]  # fmt: skip
    jess = next(
        c for c in candidates if (c["record_a"], c["record_b"]) == ("police:P1", "school:S1")
    )
    assert jess["outcome"] == "joined"
    assert "date of birth: day and month transposed" in jess["agreements"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["records"]["person"] == 5 and summary["entities"]["person"] == 3
    assert summary["settings"]["join_threshold"] == 0.95
    assert "person: 5 records → 3 entities" in stdout
    assert any(
        "same surname, different first name" in r for r in summary["held_for_review_by_rule"]
    )


def test_the_files_hold_no_young_persons_name_or_birthday(
    extracts: Path, tmp_path: Path, home: Path
) -> None:
    out = tmp_path / "resolved"
    assert run("resolve", extracts, "--out", out)[0] == 0
    text = "\n".join(p.read_text(encoding="utf-8") for p in out.iterdir()).lower()
    for value in YOUNG_VALUES:
        assert value.lower() not in text, value
    assert "tom" in text  # an adult's nickname is explained with the names


def test_pseudonymise_replaces_young_peoples_record_ids(
    extracts: Path, tmp_path: Path, home: Path
) -> None:
    out = tmp_path / "resolved"
    code, _, stderr = run("resolve", "run", extracts, "--out", out, "--pseudonymise")
    assert code == 0, stderr
    text = "\n".join(p.read_text(encoding="utf-8") for p in out.iterdir())
    key = pseudonym_key()
    for record in ("police:P1", "school:S1", "school:S2"):
        assert record not in text
        assert pseudonym(record, key) in text
    assert "police:A1" in text  # adults keep their ids


def test_an_output_folder_is_replaced_only_with_force(
    extracts: Path, tmp_path: Path, home: Path
) -> None:
    out = tmp_path / "resolved"
    assert run("resolve", extracts, "--out", out)[0] == 0
    code, _, stderr = run("resolve", extracts, "--out", out)
    assert code == 2 and "--force" in stderr and stderr.count("\n") == 1
    assert run("resolve", extracts, "--out", out, "--force")[0] == 0


def test_resolve_is_audited_and_writes_nothing_when_the_audit_fails(
    extracts: Path, tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "resolved"
    assert run("resolve", extracts, "--out", out)[0] == 0
    lines = [line for line in audit.read_audit() if line["event"] == "resolve"]
    assert [line["outcome"] for line in lines] == ["started", "ok"]
    assert lines[-1]["records"] == 5
    monkeypatch.setenv("GRAPHGUARD_AUDIT_LOG", "/dev/full")
    get_settings.cache_clear()
    elsewhere = tmp_path / "second"
    code, _, stderr = run("resolve", extracts, "--out", elsewhere)
    assert code == 3 and "audit log" in stderr
    assert not elsewhere.exists()


def test_rejected_rows_are_left_out_and_the_exit_is_1(
    extracts: Path, tmp_path: Path, home: Path
) -> None:
    with (extracts / "school" / "people.csv").open("a", encoding="utf-8") as handle:
        handle.write("S3,young_person,Bad Date,2010-13-45,\n")
    out = tmp_path / "resolved"
    code, _, stderr = run("resolve", extracts, "--out", out)
    assert code == 1 and "rejected" in stderr
    assert "school:S3" not in entity_of(out) and "school:S1" in entity_of(out)


def test_running_twice_writes_identical_files(extracts: Path, tmp_path: Path, home: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    assert run("resolve", extracts, "--out", first)[0] == 0
    assert run("resolve", extracts, "--out", second)[0] == 0
    for name in ("entities.csv", "candidates.csv", "summary.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


# ----------------------------------------------------------------------------- decide


def test_a_decision_is_appended_audited_and_overrides_the_machine(
    extracts: Path, tmp_path: Path, home: Path
) -> None:
    code, stdout, stderr = run(
        "resolve", "decide", "police:P1", "school:S1", "different",
        "--reason", "different schools", "--dataset", extracts,
    )  # fmt: skip
    assert code == 0, stdout + stderr
    assert "decisions.csv line 2" in stdout
    decided = rows(extracts / "decisions.csv")
    assert decided[0]["decision"] == "different" and decided[0]["reason"] == "different schools"
    assert decided[0]["decided_by"] == audit.acting_user()
    lines = [line for line in audit.read_audit() if line["event"] == "match decision"]
    assert [line["outcome"] for line in lines] == ["started", "ok"]
    key = pseudonym_key()
    assert lines[0]["record_a"] == pseudonym("police:P1", key)  # never a young person's id
    assert "police:P1" not in json.dumps(lines)

    out = tmp_path / "resolved"
    assert run("resolve", extracts, "--out", out)[0] == 0
    assert entity_of(out)["police:P1"] != entity_of(out)["school:S1"]

    # A later decision on the pair reverses it; nothing else is re-read.
    assert run("resolve", "decide", "school:S1", "police:P1", "same", "--dataset", extracts)[0] == 0
    assert len(rows(extracts / "decisions.csv")) == 2
    assert run("resolve", extracts, "--out", out, "--force")[0] == 0
    assert entity_of(out)["police:P1"] == entity_of(out)["school:S1"]


def test_a_decision_on_an_unknown_record_is_refused_in_one_line(extracts: Path, home: Path) -> None:
    code, _, stderr = run(
        "resolve", "decide", "police:P1", "police:NOPE", "same", "--dataset", extracts
    )
    assert code == 2 and stderr.count("\n") == 1
    assert "police:NOPE is not a record of" in stderr
    assert not (extracts / "decisions.csv").exists()
    with pytest.raises(UsageError, match="is one record"):
        record_decision(extracts, "police:P1", "police:P1", "same")  # itself: refused too
    code, _, stderr = run(
        "resolve", "decide", "police:P1", "school:S1", "maybe", "--dataset", extracts
    )
    assert code == 2


def test_no_decision_is_written_when_its_audit_fails(
    extracts: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRAPHGUARD_AUDIT_LOG", "/dev/full")
    get_settings.cache_clear()
    code, _, stderr = run(
        "resolve", "decide", "police:P1", "school:S1", "same", "--dataset", extracts
    )
    assert code == 3 and "audit log" in stderr
    assert not (extracts / "decisions.csv").exists()


def test_record_decision_keeps_an_existing_files_rows_and_columns(
    extracts: Path, home: Path
) -> None:
    existing = "Record_A,record_b,decision,decided_by,decided_on,reason,ticket\n"
    existing += "police:A1,health:H9,same,ann,2026-11-01,checked,T-1"  # no final newline
    (extracts / "decisions.csv").write_text(existing, encoding="utf-8")
    made = record_decision(extracts, "police:P1", "school:S2", "different", "twins", user="bo")
    assert made.line == 3 and made.decided_by == "bo"
    text = (extracts / "decisions.csv").read_text(encoding="utf-8")
    assert text.startswith(existing + "\n")
    assert rows(extracts / "decisions.csv")[1]["ticket"] == ""


def test_record_decision_checks_records_already_read_without_reading_the_dataset_again(
    extracts: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graphguard import ingest

    records = ingest.read_dataset(extracts, resolve=False).records

    def read_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("the dataset was read again")

    monkeypatch.setattr(ingest, "read_dataset", read_again)
    made = record_decision(extracts, "police:P1", "school:S2", "different", records=records)
    assert made.line == 2
    with pytest.raises(UsageError, match="police:NOPE is not a record of"):
        record_decision(extracts, "police:P1", "police:NOPE", "same", records=records)
