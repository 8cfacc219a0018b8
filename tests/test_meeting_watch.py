"""Watch rules and the alert inbox: once each, the same in Cypher and Python, audited states."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from graphguard.analysis.options import AnalysisOptions
from graphguard.audit import read_audit
from graphguard.cli import main
from graphguard.errors import UsageError
from graphguard.meeting.months import MonthsTruth, write_months
from graphguard.meeting.state import MeetingState
from graphguard.meeting.watch import (
    PYTHON_RULES,
    change_state,
    cypher_matches,
    load_rules,
    python_matches,
    run_watch,
)
from graphguard.store import MemoryStore
from graphguard.store.base import Filters

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo"
KEY = b"test key"


@pytest.fixture(scope="module")
def months(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, MonthsTruth]:
    folder = tmp_path_factory.mktemp("months")
    return folder, write_months(folder, 200, seed=11)


def _run_month(store: Any, state: Any, truth: MonthsTruth, month: int) -> Any:
    dates = truth.dates()
    return run_watch(
        store,
        state=state,
        options=AnalysisOptions(as_of=dates[month]),
        since=dates[month - 1],
        key=KEY,
    )


def test_every_rule_file_has_a_python_twin_and_the_shared_columns() -> None:
    rules = load_rules()
    assert set(rules) == set(PYTHON_RULES)
    assert all(spec.returns[-2:] == ["trigger", "evidence"] for spec in rules.values())


def test_each_planted_event_raises_its_alert_once_over_the_months(
    months: tuple[Path, MonthsTruth], home: Path
) -> None:
    folder, truth = months
    store = MemoryStore.from_path(folder)
    state = MeetingState.open(folder)
    raised: dict[int, list[dict[str, Any]]] = {}
    for month in range(1, len(truth.months)):
        raised[month] = _run_month(store, state, truth, month).raised
    for expected in truth.alerts:
        hits = [
            alert
            for month_alerts in raised.values()
            for alert in month_alerts
            if alert["rule"] == expected.rule
            and set(alert["trigger"]) <= set(expected.links)
            and alert["trigger"]
        ]
        assert len(hits) == 1, (expected, hits)
        assert hits[0] in raised[expected.month]
        assert set(expected.links) <= set(hits[0]["evidence"])
    everything = [a for month_alerts in raised.values() for a in month_alerts]
    assert len(everything) == len(truth.alerts), [a["explanation"] for a in everything]
    assert raised[3] == []  # the network carries on with people it knows: nothing new
    # Again, over the same months and an overlapping window: nothing is raised twice.
    for month in range(1, len(truth.months)):
        again = _run_month(store, state, truth, month)
        assert again.raised == [] and again.already == len(raised[month])
    wide = run_watch(store, state=state, options=AnalysisOptions(), since=truth.dates()[0], key=KEY)
    assert wide.raised == [] and wide.already == len(everything)


def test_alerts_name_young_people_only_by_pseudonym(
    months: tuple[Path, MonthsTruth], home: Path
) -> None:
    folder, truth = months
    run = _run_month(MemoryStore.from_path(folder), None, truth, 2)
    text = json.dumps(run.raised)
    for young_person in truth.new_victims:
        assert young_person not in text
    assert any(a["young_people"] for a in run.raised)
    assert all(y.startswith("YP-") for a in run.raised for y in a["young_people"])


def test_a_protective_youth_worker_raises_nothing(
    months: tuple[Path, MonthsTruth], home: Path
) -> None:
    folder, truth = months
    store = MemoryStore.from_path(folder)
    run = run_watch(store, options=AnalysisOptions(), since=truth.dates()[0], key=KEY)
    graph = store.graph()
    workers = {n for n, d in graph.nodes(data=True) if d.get("professional")}
    assert workers
    assert not any(set(a["adults"]) & workers and a["rule"] == "adult_newly_reaching_three"
                   for a in run.raised)  # fmt: skip


def test_state_changes_are_kept_audited_and_dismissing_needs_a_reason(
    months: tuple[Path, MonthsTruth], home: Path
) -> None:
    folder, truth = months
    state = MeetingState.open(folder)
    _run_month(MemoryStore.from_path(folder), state, truth, 1)
    key = state.records("alert")[0]["key"]
    with pytest.raises(UsageError, match="reason"):
        change_state(state, key, "dismissed", user="analyst", scrub=str)
    change_state(state, key[:6], "acknowledged", user="analyst", scrub=str)
    dismissed = change_state(
        state, key, "dismissed", user="analyst", scrub=str, reason="known, in hand"
    )
    assert MeetingState.open(folder).get("alert", key) == dismissed
    assert [(h["from"], h["to"]) for h in dismissed["history"]] == [
        ("new", "acknowledged"),
        ("acknowledged", "dismissed"),
    ]
    lines = [e for e in read_audit() if e["event"] == "alert state" and e["alert"] == key]
    assert [e["state_to"] for e in lines if e["outcome"] == "ok"] == ["acknowledged", "dismissed"]
    with pytest.raises(UsageError, match="already"):
        change_state(state, key, "dismissed", user="analyst", scrub=str, reason="again")


def test_a_dismissal_reason_keeps_no_young_persons_identity(
    months: tuple[Path, MonthsTruth], home: Path
) -> None:
    import csv

    from graphguard.privacy import YoungPersonScrubber, pseudonym

    folder, truth = months
    victim = truth.new_victims[0]
    with (folder / "people.csv").open(newline="") as handle:
        name = next(r["name"] for r in csv.DictReader(handle) if r["person_id"] == victim)
    store = MemoryStore.from_path(folder)
    state = MeetingState.open(folder)
    _run_month(store, state, truth, 1)
    key = state.records("alert")[0]["key"]
    scrub = YoungPersonScrubber.from_graph(store.graph(), replace_id=lambda y: pseudonym(y, KEY))
    reason = f"{victim} ({name}) is placed out of area"
    change_state(state, key, "dismissed", user="analyst", scrub=scrub, reason=reason)
    kept = json.dumps(MeetingState.open(folder).get("alert", key))
    assert victim not in kept and name not in kept
    assert pseudonym(victim, KEY) in kept


def test_a_state_change_that_cannot_be_audited_is_not_kept(
    months: tuple[Path, MonthsTruth], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graphguard.audit import AuditError

    folder, truth = months
    state = MeetingState.open(folder)
    _run_month(MemoryStore.from_path(folder), state, truth, 1)
    key = state.records("alert")[0]["key"]
    monkeypatch.setenv("GRAPHGUARD_AUDIT_LOG", "/dev/full")
    from graphguard.settings import get_settings

    get_settings.cache_clear()
    with pytest.raises(AuditError):
        change_state(state, key, "actioned", user="analyst", scrub=str)
    assert state.get("alert", key)["state"] == "new"


def test_cli_watch_and_inbox(months: tuple[Path, MonthsTruth], home: Path) -> None:
    folder, truth = months
    runner = CliRunner()
    args = ["watch", str(folder), "--as-of", truth.months[2], "--since", truth.months[1]]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "6 new alerts" in first.stdout
    again = runner.invoke(main, args)
    assert "0 new alerts, 6 raised before" in again.stdout
    listed = runner.invoke(main, ["alerts", "list", str(folder), "--format", "json"])
    rows = json.loads(listed.stdout)
    assert len(rows) == 6 and {r["state"] for r in rows} == {"new"}
    key = rows[0]["key"]
    refused = runner.invoke(main, ["alerts", "dismiss", key, str(folder)])
    assert refused.exit_code == 2 and "--reason" in refused.output
    done = runner.invoke(main, ["alerts", "action", key, str(folder), "--note", "CAWN served"])
    assert done.exit_code == 0 and "actioned" in done.stdout
    inbox = json.loads(runner.invoke(main, ["alerts", "list", str(folder), "--format",
                                            "json"]).stdout)  # fmt: skip
    assert key not in {r["key"] for r in inbox} and len(inbox) == 5
    unknown = runner.invoke(main, ["alerts", "ack", "ffffffffffff", str(folder)])
    assert unknown.exit_code == 2 and "no alert" in unknown.output


# ------------------------------------------------------------------ Neo4j


def _same_in_both(store: Any, graph_source: MemoryStore, since: dt.date, as_of: dt.date) -> Any:
    from graphguard.analysis.hubs import hubs_from_town

    graph = graph_source.graph(Filters(as_of=as_of))
    concern = [h.id for h in hubs_from_town(AnalysisOptions(as_of=as_of).town(graph)) if h.concern]
    rules = load_rules()
    in_python = python_matches(graph, rules, adults_of_concern=concern, since=since, as_of=as_of)
    in_cypher = cypher_matches(store, rules, adults_of_concern=concern, since=since, as_of=as_of)
    assert in_cypher == in_python
    return in_python


@pytest.mark.neo4j
def test_cypher_and_python_give_the_same_alerts(
    neo4j_driver: Any, demo: Any, months: tuple[Path, MonthsTruth]
) -> None:
    from graphguard.ingest import read_dataset
    from graphguard.store.neo4j import Neo4jStore

    store = Neo4jStore(neo4j_driver, batch_size=500)
    store.clear()
    try:
        store.load(demo.dataset)
        found = _same_in_both(store, MemoryStore(demo.dataset), dt.date(2025, 6, 1),
                              dt.date(2026, 11, 30))  # fmt: skip
        assert len({m.rule for m in found}) >= 3
        folder, truth = months
        store.clear()
        town = read_dataset(folder)
        store.load(town.dataset)
        dates = truth.dates()
        found = _same_in_both(store, MemoryStore(town.dataset), dates[1], dates[2])
        assert {m.rule for m in found} == set(PYTHON_RULES)
    finally:
        store.clear()
        store.load(demo.dataset)


@pytest.mark.neo4j
def test_load_runs_the_watch_rules_and_keeps_alerts_in_neo4j(
    neo4j_env: Any, neo4j_driver: Any, demo: Any, months: tuple[Path, MonthsTruth], home: Path
) -> None:
    from graphguard.store.neo4j import Neo4jStore

    folder, truth = months
    store = Neo4jStore(neo4j_driver)
    store.clear()
    try:
        loaded = CliRunner().invoke(main, ["load", str(folder)])
        assert loaded.exit_code == 0, loaded.output
        # The default window is the month before the latest date: month 3, nothing new.
        assert "Watch rules (cypher)" in loaded.stdout
        watched = CliRunner().invoke(
            main, ["watch", "--as-of", truth.months[2], "--since", truth.months[1]]
        )
        assert watched.exit_code == 0, watched.output
        assert "6 new alerts" in watched.stdout
        kept = MeetingState.open(store).records("alert")
        assert len(kept) == 6
        skipped = CliRunner().invoke(main, ["load", str(folder), "--no-watch"])
        assert "Watch rules" not in skipped.stdout
    finally:
        store.clear()
        store.load(demo.dataset)


def test_a_rule_file_without_a_python_twin_is_refused(tmp_path: Path) -> None:
    from graphguard.meeting.watch import rules_dir

    source = (rules_dir() / "vehicle_of_concern_at_school.cypher").read_text(encoding="utf-8")
    (tmp_path / "vehicle_at_hotel.cypher").write_text(
        source.replace("vehicle_of_concern_at_school", "vehicle_at_hotel"), encoding="utf-8"
    )
    with pytest.raises(UsageError, match="no Python evaluation"):
        load_rules(tmp_path)
