"""Retention: the policy file, review dates, keep decisions, purge, hold-back, restore."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from graphguard.cli import main
from graphguard.errors import UsageError
from graphguard.ingest import read_dataset
from graphguard.retention import (
    deletions,
    held_back,
    keep_decisions,
    load_policy,
    parse_policy,
    review_records,
)
from graphguard.retention.purge import DELETED_TARGET, WITHHELD
from tests.helpers import LINKS, PEOPLE, write_csv

AS_OF = "2026-12-01"
TODAY = dt.date.fromisoformat(AS_OF)


def _run(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result


def _town(folder: Path) -> Path:
    """A town whose review dates are known by hand (see each link's comment)."""
    write_csv(
        folder / "people.csv",
        PEOPLE,
        [
            ["YP1", "young_person", "Ada Quillfeather", "2008-01-01", "", "", "Old Town"],
            ["AD1", "adult", "Bob Stonewright", "1980-02-02", "", "", "Old Town"],
            ["AD2", "adult", "Cal Marshbank", "1979-03-03", "", "", "Old Town"],
        ],
    )
    write_csv(
        folder / "locations.csv",
        ["location_id", "kind", "name"],
        [["LOC1", "takeaway", "Chip Inn"], ["LOC2", "park", "Sluice Park"]],
    )

    def link(link_id: str, a: str, b: str, kind: str, last: str, agency: str) -> list[str]:
        return [link_id, a, b, kind, "", last, "1", agency, f"REF-{link_id}", "1", "B", "P", ""]

    write_csv(
        folder / "links.csv",
        LINKS,
        [
            # police ALLEGED_HARM: 10 years → 2034-06-01, not due
            link("L1", "AD1", "YP1", "ALLEGED_HARM", "2024-06-01", "police"),
            # police other: 6 years → 2024-01-10, due
            link("L2", "AD2", "LOC1", "SEEN_AT", "2018-01-10", "police"),
            # catch-all: 6 years → 2025-03-01, due
            link("L3", "AD1", "AD2", "ASSOCIATES_WITH", "2019-03-01", "housing"),
            # social care, a child then: not before 25 → 2033-01-01, not due
            link("L4", "YP1", "LOC2", "SEEN_AT", "2019-05-05", "social_care"),
        ],
    )
    return folder


@pytest.fixture
def town(tmp_path: Path, home: Path) -> Path:
    return _town(tmp_path / "town")


# ---------------------------------------------------------------------------- policy


@pytest.mark.parametrize(
    ("text", "where", "reason"),
    [
        ("name,review_after,colour\nall,6 years,red\n", "line 1", "unknown column 'colour'"),
        ("name\nall\n", "line 1", "required column review_after"),
        ("name,review_after\nall,soon\n", "line 2, column review_after", "not a period"),
        ("name,agency,review_after\np,police,6y\n", "line 2", "must be a catch-all"),
        ("name,review_after\na,6y\na,7y\n", "line 3, column name", "already on line 2"),
        ("name,agency,review_after\np,polis,6y\nall,,6y\n", "line 2, column agency", "'polis'"),
        ("name,review_after\nall,6y\nmore,7y\n", "line 2", "make it the last"),
        ("name,review_after,until_age\nall,6y,old\n", "line 2, column until_age", "'old'"),
        ("name,age_at_time,review_after\nk,teen,6y\nall,,6y\n", "line 2", "child or adult"),
        ("name,review_after\n\n", "", "has no rules"),
        ("", "", "empty"),
        ('name,review_after\n"all,6y\n', "line", ""),
    ],
)
def test_a_bad_policy_is_one_line_naming_file_line_and_reason(
    text: str, where: str, reason: str
) -> None:
    with pytest.raises(UsageError) as caught:
        parse_policy(text, "retention-policy.csv")
    message = str(caught.value)
    assert message.startswith("retention-policy.csv")
    assert where in message and reason in message
    assert "\n" not in message


def test_the_policy_file_of_the_setting_is_read_and_its_errors_name_it(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graphguard.settings import get_settings

    path = tmp_path / "ours.csv"
    path.write_text("name,review_after,reason\nours,2 years,we agreed\n", encoding="utf-8")
    monkeypatch.setenv("GRAPHGUARD_RETENTION_POLICY", str(path))
    get_settings.cache_clear()
    policy = load_policy()
    assert [r.name for r in policy.rules] == ["ours"] and policy.origin == str(path)
    path.write_text("name,review_after\nours,forever\n", encoding="utf-8")
    result = _run("review", "policy")
    assert result.exit_code == 2
    assert result.output.startswith(f"graphguard: error: {path} line 2")


def test_the_state_home_policy_file_is_used_when_no_setting_names_one(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "retention-policy.csv").write_text("name,review_after\nhome,3y\n", encoding="utf-8")
    assert [r.name for r in load_policy().rules] == ["home"]


def test_the_default_policy_gives_every_rule_its_reasoning(home: Path) -> None:
    policy = load_policy()
    assert policy.rules[-1].catch_all
    assert all(rule.reason for rule in policy.rules)
    assert any("MoPI" in rule.reason for rule in policy.rules)


# ---------------------------------------------------------------------------- review


def test_every_record_gets_the_review_date_its_rule_gives(town: Path) -> None:
    reviews = {
        r.ref: r for r in review_records(read_dataset(town), load_policy(), b"k" * 32, today=TODAY)
    }
    expected = {
        "L1": ("police-harm", "2034-06-01"),
        "L2": ("police-other", "2024-01-10"),
        "L3": ("everything-else", "2025-03-01"),
        "L4": ("social-care-child", "2033-01-01"),
    }
    for ref, (rule, day) in expected.items():
        assert (reviews[ref].rule.name, reviews[ref].review_on.isoformat()) == (rule, day)
    # A person or place stays while a link about it stays.
    assert reviews["AD2"].review_on == dt.date(2025, 3, 1)
    assert reviews["AD1"].review_on == dt.date(2034, 6, 1)
    assert reviews["LOC1"].review_on == dt.date(2024, 1, 10)
    # The young person is reviewed under their pseudonym only.
    assert "YP1" not in reviews and any(r.startswith("YP-") for r in reviews)
    due = sorted(r.ref for r in reviews.values() if r.due(TODAY))
    assert due == ["AD2", "L2", "L3", "LOC1"]


def test_review_lists_what_is_due_and_why(town: Path) -> None:
    result = _run("review", str(town), "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 0, result.output
    listed = {row["record"]: row for row in json.loads(result.output)}
    assert sorted(listed) == ["AD2", "L2", "L3", "LOC1"]
    assert listed["L2"]["rule"] == "police-other"
    assert "last seen 2018-01-10" in listed["L2"]["why"]


# ---------------------------------------------------------------------------- keep


def test_a_keep_decision_holds_a_record_and_its_ends_and_the_audit_keeps_a_hash(
    town: Path, home: Path
) -> None:
    reason = "Operation Kestrel is still open on Cal Marshbank"
    result = _run("review", "keep", "L3", "--until", "2030-01-01", "--reason", reason)
    assert result.exit_code == 0, result.output
    assert keep_decisions()["L3"].until == dt.date(2030, 1, 1)
    listed = json.loads(_run("review", str(town), "--as-of", AS_OF, "--format", "json").output)
    assert sorted(row["record"] for row in listed) == ["L2", "LOC1"]  # AD2 held by L3
    audit = (home / "audit.jsonl").read_text(encoding="utf-8")
    assert hashlib.sha256(reason.encode()).hexdigest() in audit
    assert "Marshbank" not in audit


def test_a_young_persons_keep_is_recorded_by_pseudonym(town: Path, home: Path) -> None:
    result = _run(
        "review",
        "keep",
        "YP1",
        "--until",
        "2031-01-01",
        "--reason",
        "open case",
        "--dataset",
        str(town),
    )
    assert result.exit_code == 0, result.output
    (record,) = keep_decisions()
    assert record.startswith("YP-") and "YP1" not in result.output
    assert "YP1" not in (home / "audit.jsonl").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["L3", "--until", "2020-01-01", "--reason", "x"], "not in the future"),
        (["L3", "--until", "2030-01-01", "--reason", "  "], "must say why"),
        (["L3", "--until", "soon", "--reason", "x"], "not a date"),
    ],
)
def test_a_bad_keep_is_refused_and_records_nothing(
    town: Path, args: list[str], message: str
) -> None:
    result = _run("review", "keep", *args)
    assert result.exit_code == 2 and message in result.output
    assert keep_decisions() == {}


def test_a_keep_naming_no_record_of_the_dataset_is_refused(town: Path) -> None:
    result = _run(
        "review", "keep", "L99", "--until", "2030-01-01", "--reason", "x", "--dataset", str(town)
    )
    assert result.exit_code == 2 and "holds no record 'L99'" in result.output


# ---------------------------------------------------------------------------- purge


def _seed_outputs(town: Path, home: Path, tmp_path: Path) -> dict[str, Path]:
    """A resolve output, an alert citing L2, an action on AD2, a dashboard cache entry."""
    from graphguard.meeting.state import MeetingState

    resolved = tmp_path / "resolved"
    assert _run("resolve", str(town), "--out", str(resolved)).exit_code == 0
    state = MeetingState.open(town)
    state.put(
        "alert",
        "A1",
        {
            "key": "A1",
            "rule": "r",
            "title": "t",
            "subject": "AD2",
            "young_people": [],
            "adults": ["AD2"],
            "contexts": ["LOC1"],
            "trigger": ["L2"],
            "evidence": ["L2", "L1"],
            "explanation": "Cal Marshbank seen at Chip Inn (REF-L2).",
            "state": "new",
            "history": [],
        },
    )
    state.put(
        "action", "ACT1", {"id": "ACT1", "target_id": "AD2", "target_label": "Cal M", "history": []}
    )
    state.put(
        "action", "ACT2", {"id": "ACT2", "target_id": "AD1", "target_label": "Bob S", "history": []}
    )
    cache = home / "dashboard-cache"
    cache.mkdir(mode=0o700, parents=True, exist_ok=True)
    (cache / "entry.pickle").write_bytes(b"old view")
    return {"resolved": resolved, "cache": cache}


def test_purge_deletes_everywhere_logs_each_deletion_and_a_reload_holds_it_back(
    town: Path, home: Path, tmp_path: Path
) -> None:
    from graphguard.meeting.state import MeetingState

    places = _seed_outputs(town, home, tmp_path)
    dry = _run("review", "purge", str(town), "--as-of", AS_OF, "--dry-run")
    assert dry.exit_code == 0 and "Would delete 4 records" in dry.output
    assert deletions() == [] and (places["cache"] / "entry.pickle").exists()

    result = _run("review", "purge", str(town), "--as-of", AS_OF)
    assert result.exit_code == 0, result.output

    logged = {d.record: d for d in deletions()}
    assert sorted(logged) == ["AD2", "L2", "L3", "LOC1"]
    assert logged["L2"].rule == "police-other" and logged["L2"].deleted_by
    # The log holds ids, rules, who and when: never the content.
    for file in (home / "workspace").iterdir():
        assert b"Marshbank" not in file.read_bytes() and b"Chip Inn" not in file.read_bytes()

    again = read_dataset(town)
    assert set(again.dataset.people) == {"YP1", "AD1"}
    assert set(again.dataset.locations) == {"LOC2"}
    assert sorted(link.link_id for link in again.dataset.links) == ["L1", "L4"]
    today = dt.date.today().isoformat()
    reasons = {(r.file, r.line): r.reason for r in reversed(again.rejects)}  # each row's first
    assert reasons[("links.csv", 3)].startswith(
        f"record L2 was deleted on {today} under rule police-other; held back until someone "
        "decides otherwise"
    )
    assert "record AD2 was deleted" in reasons[("people.csv", 4)]

    entities = (places["resolved"] / "entities.csv").read_text(encoding="utf-8")
    assert "AD2" not in entities and "AD1" in entities
    assert not (places["cache"] / "entry.pickle").exists()
    state = MeetingState.open(town)
    alert = state.get("alert", "A1")
    assert alert is not None
    assert alert["explanation"] == WITHHELD and alert["evidence"] == ["L1"]
    assert alert["adults"] == [] and alert["subject"] == DELETED_TARGET
    assert state.get("action", "ACT1")["target_label"] == DELETED_TARGET  # type: ignore[index]
    assert state.get("action", "ACT2")["target_label"] == "Bob S"  # type: ignore[index]

    validated = _run("validate", str(town))
    assert validated.exit_code == 1 and "held back until someone decides otherwise" in (
        validated.output
    )
    purge_lines = [
        json.loads(line)
        for line in (home / "audit.jsonl").read_text(encoding="utf-8").splitlines()
        if '"retention purge"' in line
    ]
    assert [line["outcome"] for line in purge_lines] == ["started", "ok"]
    assert {d.run for d in logged.values()} == {purge_lines[0]["run"]}


def test_restore_lets_a_deleted_record_back_and_the_log_keeps_its_deletion(
    town: Path, home: Path
) -> None:
    assert _run("review", "purge", str(town), "--as-of", AS_OF).exit_code == 0
    for record in ("AD2", "LOC1", "L2"):
        result = _run("review", "restore", record, "--reason", "the force asked to keep it")
        assert result.exit_code == 0, result.output
    assert sorted(held_back()) == ["L3"]
    again = read_dataset(town)
    assert "AD2" in again.dataset.people
    assert sorted(link.link_id for link in again.dataset.links) == ["L1", "L2", "L4"]
    assert len(deletions()) == 4  # the deletions stay in the log
    log = json.loads(_run("review", "log", "--format", "json").output)
    assert {row["record"]: row["held_back"] for row in log} == {
        "AD2": False,
        "L2": False,
        "L3": True,
        "LOC1": False,
    }
    refused = _run("review", "restore", "L2", "--reason", "again")
    assert refused.exit_code == 2 and "not held back" in refused.output


def test_purge_deletes_nothing_when_the_deletion_log_cannot_be_written(
    town: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graphguard.settings import get_settings

    places = _seed_outputs(town, home, tmp_path)
    before = (places["resolved"] / "entities.csv").read_text(encoding="utf-8")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the workspace folder should be", encoding="utf-8")
    monkeypatch.setenv("GRAPHGUARD_WORKSPACE_URL", f"sqlite:///{blocker}/ws.sqlite3")
    get_settings.cache_clear()
    result = _run("review", "purge", str(town), "--as-of", AS_OF)
    assert result.exit_code != 0 and result.output.startswith("graphguard: error:")
    assert (places["resolved"] / "entities.csv").read_text(encoding="utf-8") == before
    assert (places["cache"] / "entry.pickle").exists()
    monkeypatch.delenv("GRAPHGUARD_WORKSPACE_URL")
    get_settings.cache_clear()
    assert deletions() == [] and "AD2" in read_dataset(town).dataset.people


def test_a_purge_changes_the_dashboard_cache_key_of_the_same_files(town: Path) -> None:
    from graphguard.viewcache import content_hash

    before = content_hash(town)
    assert _run("review", "purge", str(town), "--as-of", AS_OF).exit_code == 0
    after = content_hash(town)
    assert before != after
    assert _run("review", "restore", "L3", "--reason", "back").exit_code == 0
    assert content_hash(town) not in (before, after)


def test_purge_asks_the_identity_store_to_forget_every_deleted_record_and_entity(
    town: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys
    import types

    forgotten: list[str] = []

    class IdentityStore:
        @classmethod
        def default(cls, settings: Any = None) -> IdentityStore:
            return cls()

        def forget(self, keys: list[str]) -> int:
            forgotten.extend(keys)
            return len(keys)

    fake = types.ModuleType("graphguard.workspace.identity")
    fake.IdentityStore = IdentityStore  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "graphguard.workspace.identity", fake)
    result = _run("review", "purge", str(town), "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 0, result.output
    assert sorted(forgotten) == ["AD2", "L2", "L3", "LOC1"]
    assert json.loads(result.output)["identities_forgotten"] == 4


# ---------------------------------------------------------------------------- Neo4j


@pytest.mark.neo4j
def test_purge_removes_records_from_neo4j_and_a_reload_of_the_old_extract_does_not_bring_them_back(
    neo4j_env: Any, neo4j_driver: Any, home: Path, tmp_path: Path
) -> None:
    from graphguard.store.neo4j import Neo4jStore

    extract = tmp_path / "agencies"
    shutil.copytree(Path(__file__).resolve().parents[1] / "fixtures" / "demo-agencies", extract)
    store = Neo4jStore(neo4j_driver)
    store.clear()
    try:
        assert _run("load", str(extract)).exit_code == 0
        listed = json.loads(_run("review", str(extract), "--format", "json").output)
        links = sorted(row["record"] for row in listed if row["kind"] == "link")
        assert links, "the demo extract has police links past MoPI's six years"

        def held(link_ids: list[str]) -> int:
            query = "MATCH ()-[r]->() WHERE r.link_id IN $ids RETURN count(r) AS n"
            with neo4j_driver.session() as session:
                return int(session.run(query, ids=link_ids).single()["n"])

        assert held(links) == len(links)
        from graphguard.workspace.identity import IdentityStore

        identities = IdentityStore.default()
        children = {key for key, h in identities.held().items() if h.kind == "record"}
        assert children, "the load put the young people's records in the identity store"
        result = _run("review", "purge", str(extract))
        assert result.exit_code == 0, result.output
        assert held(links) == 0
        purged = {d.record for d in deletions() if d.kind == "person"}  # YR-… pseudonyms
        assert purged and purged <= children
        left = {key for key, h in identities.held().items() if h.kind == "record"}
        assert left == children - purged
        reload = _run("load", str(extract), "--rejects", str(tmp_path / "rejects.csv"))
        assert reload.exit_code == 1  # the held-back rows are rejects
        assert held(links) == 0
        with (tmp_path / "rejects.csv").open(encoding="utf-8", newline="") as handle:
            rejected = list(csv.DictReader(handle))
        assert {row["link_id"] for row in rejected if "held back" in row["reason"]} >= {
            link.partition(":")[2] for link in links
        }
    finally:
        store.clear()


def test_a_young_persons_v2_record_is_logged_and_held_back_by_its_record_pseudonym(
    home: Path, tmp_path: Path
) -> None:
    extract = tmp_path / "agencies"
    shutil.copytree(Path(__file__).resolve().parents[1] / "fixtures" / "demo-agencies", extract)
    before = read_dataset(extract, resolve=False).records
    assert _run("review", "purge", str(extract)).exit_code == 0
    young = [d for d in deletions() if d.kind == "person"]
    assert young and all(d.record.startswith("YR-") for d in young)
    after = read_dataset(extract, resolve=False)
    gone = set(before.people) - set(after.records.people)
    assert len(gone) == len(young)
    record = sorted(gone)[0]
    assert record not in {d.record for d in deletions()}  # the agency's id is never logged
    assert any(
        f"record {record} was deleted on" in r.reason and "YR-" in r.reason for r in after.rejects
    )
