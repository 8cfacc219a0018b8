"""Disruption actions and displacement, on a seeded town whose network is disrupted and moves."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pypdf import PdfReader

from graphguard.audit import read_audit
from graphguard.cli import main
from graphguard.errors import UsageError
from graphguard.meeting.actions import Action, actions_due, add_action, list_actions
from graphguard.meeting.displacement import displacement
from graphguard.meeting.months import MonthsTruth, write_months
from graphguard.meeting.state import LABEL, MeetingState
from graphguard.settings import get_settings
from graphguard.store import MemoryStore
from graphguard.store.neo4j import Neo4jStore
from graphguard.workspace import database_path

KEY = b"k" * 32


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, MonthsTruth]:
    folder = tmp_path_factory.mktemp("months") / "town"
    truth = write_months(folder, 120, 7, months=3)
    return folder, truth


@pytest.fixture(autouse=True)
def _own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A state home per test, so one test's actions are not another's."""
    home = tmp_path / "home"
    monkeypatch.setenv("GRAPHGUARD_HOME", str(home))
    get_settings.cache_clear()
    return home


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result


def closure(truth: MonthsTruth, target: str | None = None) -> Action:
    return Action(
        "ACT-0001",
        target or truth.closed,
        "location",
        "the flat",
        "closure_asb",
        "police",
        "PC Shaw",
        dt.date.fromisoformat(truth.closed_on),
        dt.date.fromisoformat(truth.months[2]),
    )


def young_people(folder: Path) -> dict[str, dict[str, str]]:
    with (folder / "people.csv").open(newline="") as handle:
        return {r["person_id"]: r for r in csv.DictReader(handle) if r["role"] == "young_person"}


# ---------------------------------------------------------------------------- recording


def test_add_list_update_through_the_cli(town: tuple[Path, MonthsTruth]) -> None:
    folder, truth = town
    added = run(
        "actions", "add", str(folder), "--target", truth.closed, "--tactic", "closure_asb",
        "--lead-agency", "Housing", "--owner", "ASB team", "--start", truth.closed_on,
        "--review", truth.months[2],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "Recorded ACT-0001" in added.output and truth.closed in added.output
    second = run(
        "actions", "add", str(folder), "--target", truth.boss, "--tactic", "cawn",
        "--lead-agency", "police", "--owner", "DC Rahman", "--start", truth.closed_on,
        "--review", "2026-12-01",
    )  # fmt: skip
    assert "Recorded ACT-0002" in second.output, second.output
    listed = json.loads(
        run("actions", "list", str(folder), "--today", "2026-07-20", "--format", "json").output
    )
    by_id = {a["id"]: a for a in listed["actions"]}
    assert by_id["ACT-0001"]["lead_agency"] == "housing"
    assert by_id["ACT-0001"]["due"] == "due" and by_id["ACT-0002"]["due"] is None
    late = run("actions", "list", str(folder), "--due", "--today", "2026-08-02")
    assert "ACT-0001" in late.output and "OVERDUE" in late.output
    assert "ACT-0002" not in late.output
    updated = run(
        "actions", "update", "ACT-0001", str(folder), "--status", "completed",
        "--outcome", "closure order granted",
    )  # fmt: skip
    assert updated.exit_code == 0, updated.output
    action = list_actions(MeetingState.open(folder))[0]
    assert (action.status, action.outcome) == ("completed", "closure order granted")
    assert action.history[-1]["changes"]["status"] == ["agreed", "completed"]
    assert "ACT-0001" not in run("actions", "list", str(folder), "--due").output
    events = [line["event"] for line in read_audit() if line["outcome"] == "ok"]
    assert events.count("action add") == 2 and events.count("action update") == 1


def test_a_young_person_is_never_a_target(town: tuple[Path, MonthsTruth]) -> None:
    folder, truth = town
    result = run(
        "actions", "add", str(folder), "--target", truth.new_victims[0], "--tactic", "cawn",
        "--lead-agency", "police", "--owner", "x", "--start", "2026-07-01",
        "--review", "2026-08-01",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "a young person is never a disruption target" in result.output
    assert list_actions(MeetingState.open(folder)) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--target", "NOSUCH"], "no adult, location or vehicle 'NOSUCH'"),
        (["--review", "2026-06-01"], "is before the start"),
        (["--tactic", "hugs"], "'hugs' is not one of"),
        (["--owner", "  "], "the owner must not be empty"),
    ],
)
def test_bad_actions_are_one_line_errors(
    town: tuple[Path, MonthsTruth], change: list[str], message: str
) -> None:
    folder, truth = town
    options = {
        "--target": truth.closed, "--tactic": "closure_asb", "--lead-agency": "police",
        "--owner": "PC Shaw", "--start": "2026-07-01", "--review": "2026-08-01",
    }  # fmt: skip
    options[change[0]] = change[1]
    args = [part for pair in options.items() for part in pair]
    result = run("actions", "add", str(folder), *args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert list_actions(MeetingState.open(folder)) == []


def test_free_text_keeps_no_young_persons_identity(town: tuple[Path, MonthsTruth]) -> None:
    folder, truth = town
    victim = truth.new_victims[0]
    name = young_people(folder)[victim]["name"]
    store = MemoryStore.from_path(folder)
    state = MeetingState.open(store)
    action = add_action(
        state, store.graph(), key=KEY, target_id=truth.closed, tactic="closure_asb",
        lead_agency="police", owner="PC Shaw", start=dt.date(2026, 7, 1),
        review=dt.date(2026, 8, 1), notes=f"{victim} ({name}) was found here",
    )  # fmt: skip
    database = database_path()
    with contextlib.closing(sqlite3.connect(database)) as connection:
        kept = "\n".join(connection.iterdump())
    assert action.id in kept
    assert victim not in kept and name not in kept
    assert victim.encode() not in database.read_bytes()
    assert action.notes is not None and action.notes.startswith("YP-")
    assert "[young person]" in action.notes


def test_a_failed_audit_keeps_nothing(
    town: tuple[Path, MonthsTruth], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, truth = town
    blocked = tmp_path / "audit-folder"
    blocked.mkdir()
    monkeypatch.setenv("GRAPHGUARD_AUDIT_LOG", str(blocked))
    get_settings.cache_clear()
    result = run(
        "actions", "add", str(folder), "--target", truth.closed, "--tactic", "closure_asb",
        "--lead-agency", "police", "--owner", "x", "--start", "2026-07-01",
        "--review", "2026-08-01",
    )  # fmt: skip
    assert result.exit_code == 3, result.output
    assert list_actions(MeetingState.open(folder)) == []


def test_due_and_overdue_follow_the_review_date() -> None:
    base = Action(
        "ACT-0001", "L1", "location", "flat", "closure_asb", "police", "x",
        dt.date(2026, 7, 1), dt.date(2026, 8, 1),
    )  # fmt: skip
    later = dt.date(2026, 9, 1)
    soon = Action(**{**base.__dict__, "id": "ACT-0002", "review": dt.date(2026, 9, 29)})
    far = Action(**{**base.__dict__, "id": "ACT-0003", "review": dt.date(2026, 9, 30)})
    stopped = Action(**{**base.__dict__, "id": "ACT-0004", "status": "stopped"})
    overdue, due = actions_due([far, soon, stopped, base], later)
    assert [a.id for a in overdue] == ["ACT-0001"]
    assert [a.id for a in due] == ["ACT-0002"]  # 28 days ahead, not 29
    assert [a.id for a in actions_due([far], later, within_days=29)[1]] == ["ACT-0003"]


# ---------------------------------------------------------------------------- displacement


def test_closing_the_flat_displaces_to_the_new_flat(town: tuple[Path, MonthsTruth]) -> None:
    folder, truth = town
    graph = MemoryStore.from_path(folder).graph()
    found = displacement(graph, closure(truth), key=KEY)
    assert found.verdict == "displaced", found.finding
    assert found.through_before > 0 and found.through_after < found.through_before
    assert found.destinations[0].id == truth.moved_to
    assert truth.moved_to in found.finding and "moved" in found.finding
    assert found.destinations[0].young_people[0].startswith("YP-")


def test_without_the_move_nothing_is_displaced(town: tuple[Path, MonthsTruth]) -> None:
    folder, truth = town
    graph = MemoryStore.from_path(folder).graph()
    graph.remove_node(truth.moved_to)  # the same months, but the network found no new flat
    found = displacement(graph, closure(truth), key=KEY)
    assert found.verdict == "not displaced", found.finding
    assert truth.moved_to not in found.finding
    assert found.through_after < found.through_before


def test_warning_off_the_boss_moves_the_line_to_the_recruiter(
    town: tuple[Path, MonthsTruth],
) -> None:
    folder, truth = town
    graph = MemoryStore.from_path(folder).graph()
    action = Action(**{**closure(truth).__dict__, "target_id": truth.boss, "tactic": "cawn"})
    found = displacement(graph, action, key=KEY)
    assert found.verdict in ("displaced", "partly displaced"), found.finding
    assert found.destinations[0].id == truth.recruiter
    assert len(found.destinations[0].young_people) >= 3


def test_a_quiet_target_or_no_later_data_is_not_measurable(
    town: tuple[Path, MonthsTruth],
) -> None:
    folder, truth = town
    graph = MemoryStore.from_path(folder).graph()
    quiet = displacement(graph, closure(truth, truth.school), key=KEY)
    assert quiet.verdict == "not measurable"
    assert "no exposure ran through it" in quiet.finding
    future = Action(**{**closure(truth).__dict__, "start": dt.date(2027, 1, 1)})
    assert "no data after" in displacement(graph, future, key=KEY).finding


def test_measuring_actions_together_finds_what_each_alone_finds(
    town: tuple[Path, MonthsTruth],
) -> None:
    from graphguard.meeting.displacement import displacements

    folder, truth = town
    graph = MemoryStore.from_path(folder).graph()
    boss = Action(**{**closure(truth).__dict__, "id": "ACT-0002", "target_id": truth.boss})
    future = Action(**{**closure(truth).__dict__, "id": "ACT-0003", "start": dt.date(2027, 1, 1)})
    actions = [closure(truth), boss, future]
    together = displacements(graph, actions, key=KEY)
    assert together == [displacement(graph, action, key=KEY) for action in actions]
    assert [found.action for found in together] == ["ACT-0001", "ACT-0002", "ACT-0003"]
    assert together[0].verdict == "displaced"


def test_shareable_displacement_does_not_rest_on_handling_code_c(
    town: tuple[Path, MonthsTruth], tmp_path: Path
) -> None:
    folder, truth = town
    copy = tmp_path / "town"
    shutil.copytree(folder, copy)
    links = copy / "links.csv"
    with links.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
        fields = list(rows[0])
    for row in rows:
        if truth.moved_to in (row["source_id"], row["target_id"]):
            row["handling"] = "C"
    with links.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fields)
        writer.writeheader()
        writer.writerows(rows)
    graph = MemoryStore.from_path(copy).graph()
    full = displacement(graph, closure(truth), key=KEY)
    shared = displacement(graph, closure(truth), key=KEY, shareable=True)
    assert truth.moved_to in [d.id for d in full.destinations]
    assert truth.moved_to not in [d.id for d in shared.destinations]
    assert truth.moved_to not in shared.finding


def test_displacement_command_names_the_move(town: tuple[Path, MonthsTruth]) -> None:
    folder, truth = town
    run(
        "actions", "add", str(folder), "--target", truth.closed, "--tactic", "closure_asb",
        "--lead-agency", "police", "--owner", "x", "--start", truth.closed_on,
        "--review", truth.months[2],
    )  # fmt: skip
    result = run("actions", "displacement", str(folder), "--format", "json")
    assert result.exit_code == 0, result.output
    (found,) = json.loads(result.output)["displacement"]
    assert found["verdict"] == "displaced"
    assert found["destinations"][0]["id"] == truth.moved_to
    text = run("actions", "displacement", str(folder), "--action", "ACT-0001").output
    assert text.startswith("DISPLACED: ACT-0001")
    for young_person in young_people(folder):
        assert young_person not in result.output
    assert run("actions", "displacement", str(folder), "--action", "ACT-0009").exit_code == 2


# ---------------------------------------------------------------------------- Neo4j


@pytest.fixture
def neo4j_town(neo4j_env: Any, neo4j_driver: Any, demo: Any, town: tuple[Path, MonthsTruth]):
    """The months town loaded in Neo4j; afterwards the demo again, the state other tests expect."""
    store = Neo4jStore(neo4j_driver, batch_size=2000)
    store.clear()
    store.load(MemoryStore.from_path(town[0]).dataset)
    yield store
    store.clear()
    store.load(demo.dataset)


@pytest.mark.neo4j
def test_actions_are_kept_in_neo4j_when_it_is_the_store(
    neo4j_town: Neo4jStore, town: tuple[Path, MonthsTruth], tmp_path: Path
) -> None:
    folder, truth = town
    added = run(
        "actions", "add", "--target", truth.closed, "--tactic", "closure_sexual",
        "--lead-agency", "police", "--owner", "x", "--start", truth.closed_on,
        "--review", truth.months[2],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    with neo4j_town.driver.session() as session:
        kept = session.run(f"MATCH (m:{LABEL} {{kind: 'action'}}) RETURN m.key AS key").single()
    assert kept is not None and kept["key"] == "ACT-0001"
    assert list_actions(MeetingState.open(folder)) == []  # not in the dataset's file
    listed = json.loads(run("actions", "list", "--format", "json").output)
    assert [a["id"] for a in listed["actions"]] == ["ACT-0001"]
    moved = json.loads(run("actions", "displacement", "--format", "json").output)
    assert moved["displacement"][0]["destinations"][0]["id"] == truth.moved_to
    assert "ACT-0001" not in neo4j_town.graph()
    pack = tmp_path / "mace.pdf"
    written = run("briefing", "--out", str(pack))
    assert written.exit_code == 0, written.output
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(pack).pages).split())
    assert "Source neo4j" in text and "ACT-0001" in text and "DISPLACED: ACT-0001" in text


def test_unknown_action_is_a_usage_error(town: tuple[Path, MonthsTruth]) -> None:
    from graphguard.meeting.actions import get_action

    with pytest.raises(UsageError, match="no action 'ACT-0042'"):
        get_action(MeetingState.open(town[0]), "ACT-0042")


def test_the_plan_shows_agreed_actions_and_what_is_due(town: tuple[Path, MonthsTruth]) -> None:
    folder, truth = town
    before = json.loads(
        run("plan", str(folder), "--targets", "contexts", "--format", "json").output
    )
    assert all(step["actions"] == [] for step in before["steps"])
    assert before["actions_due"] == {"overdue": [], "due": []}
    run(
        "actions", "add", str(folder), "--target", truth.closed, "--tactic", "closure_asb",
        "--lead-agency", "police", "--owner", "x", "--start", truth.closed_on,
        "--review", truth.months[2],
    )  # fmt: skip
    after = json.loads(run("plan", str(folder), "--targets", "contexts", "--format", "json").output)
    on_flat = [s["actions"] for s in after["steps"] if s["target_id"] == truth.closed]
    assert on_flat and on_flat[0][0].startswith("ACT-0001 Closure notice (agreed")
    assert all(not s["actions"] for s in after["steps"] if s["target_id"] != truth.closed)
    assert after["actions_due"]["overdue"] == ["ACT-0001"]  # its review date has passed
    text = run("plan", str(folder), "--targets", "contexts").output
    assert "agreed: ACT-0001" in text and "1 overdue for review (ACT-0001)" in text
