"""Durable meeting state: the state-home file backend and the Neo4j backend."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from graphguard.errors import DataError, RefusedError, UsageError
from graphguard.ingest import Dataset
from graphguard.meeting.state import LABEL, MeetingState, state_file
from graphguard.settings import Settings
from graphguard.store import MemoryStore
from graphguard.store.neo4j import Neo4jStore

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


def test_file_backend_keeps_records_across_opens(settings: Settings) -> None:
    state = MeetingState.open(DEMO, settings=settings)
    assert state.backend == "file"
    assert state.records("action") == []
    assert state.get("action", "A2") is None
    state.put("action", "A2", {"tactic": "CAWN", "n": 2})
    state.put("action", "A1", {"tactic": "closure notice", "n": 1})
    state.put("alert", "A1", {"rule": "newly linked"})
    again = MeetingState.open(str(DEMO) + "/", settings=settings)
    assert [r["n"] for r in again.records("action")] == [1, 2]
    assert again.records("alert") == [{"rule": "newly linked"}]
    again.put("action", "A2", {"tactic": "CAWN", "n": 3})
    assert state.get("action", "A2") == {"tactic": "CAWN", "n": 3}


def test_each_dataset_has_its_own_state(settings: Settings, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "demo"
    other.mkdir(parents=True)
    MeetingState.open(DEMO, settings=settings).put("action", "A1", {"where": "demo"})
    assert MeetingState.open(other, settings=settings).get("action", "A1") is None
    assert state_file(DEMO, settings) != state_file(other, settings)


def test_a_store_or_a_dataset_opens_the_state_of_its_path(settings: Settings) -> None:
    store = MemoryStore.from_path(DEMO)
    MeetingState.open(store, settings=settings).put("action", "A1", {"via": "store"})
    assert MeetingState.open(store.dataset, settings=settings).get("action", "A1") == {
        "via": "store"
    }
    with pytest.raises(UsageError, match="kept per dataset"):
        MeetingState.open(Dataset(), settings=settings)


def test_the_file_and_its_folder_are_owner_only(settings: Settings) -> None:
    state = MeetingState.open(DEMO, settings=settings)
    state.put("action", "A1", {"x": 1})
    path = Path(state.location)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert json.loads(path.read_text())["records"]["action"] == {"A1": {"x": 1}}
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".partial")] == []


def test_add_keeps_the_first_record(settings: Settings) -> None:
    state = MeetingState.open(DEMO, settings=settings)
    assert state.add("alert", "rule:evidence", {"state": "new"})
    state.put("alert", "rule:evidence", {"state": "acknowledged"})
    assert not state.add("alert", "rule:evidence", {"state": "new"})
    assert state.get("alert", "rule:evidence") == {"state": "acknowledged"}


def test_bad_kinds_keys_and_records_are_refused(settings: Settings) -> None:
    state = MeetingState.open(DEMO, settings=settings)
    with pytest.raises(ValueError, match="unknown meeting record kind"):
        state.put("target", "A1", {})
    with pytest.raises(ValueError, match="key"):
        state.put("action", "", {})
    with pytest.raises(ValueError, match="JSON values"):
        state.put("action", "A1", {"when": object()})
    with pytest.raises(ValueError, match="JSON values"):
        state.put("action", "A1", {"score": float("nan")})
    assert state.records("action") == []


def test_a_damaged_file_is_one_clear_error_and_is_left_alone(settings: Settings) -> None:
    state = MeetingState.open(DEMO, settings=settings)
    state.put("action", "A1", {"x": 1})
    path = Path(state.location)
    path.write_text('{"format": "graphguard meeting state", "version": 1, "records": {')
    with pytest.raises(DataError, match="not valid meeting state"):
        state.records("action")
    with pytest.raises(DataError, match="not valid meeting state"):
        state.put("action", "A2", {"x": 2})
    assert path.read_text().endswith("{")


def test_a_linked_or_shared_file_is_refused(settings: Settings, tmp_path: Path) -> None:
    state = MeetingState.open(DEMO, settings=settings)
    state.put("action", "A1", {"x": 1})
    path = Path(state.location)
    os.chmod(path, 0o644)
    with pytest.raises(RefusedError, match="other users"):
        state.records("action")
    os.chmod(path, 0o600)
    target = tmp_path / "planted.json"
    path.rename(target)
    path.symlink_to(target)
    with pytest.raises(RefusedError, match="symbolic link"):
        state.get("action", "A1")


def _add_many(home: str, start: int) -> None:
    state = MeetingState.open(DEMO, settings=Settings(home=Path(home)))
    for n in range(start, start + 15):
        state.put("action", f"A{n:03d}", {"n": n})


def test_two_processes_writing_at_once_lose_nothing(settings: Settings) -> None:
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_add_many, args=(str(settings.home), s)) for s in (0, 100)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    kept = MeetingState.open(DEMO, settings=settings).records("action")
    assert sorted(r["n"] for r in kept) == [*range(15), *range(100, 115)]


# ---------------------------------------------------------------------------- Neo4j


@pytest.fixture
def neo4j_store(neo4j_driver: Any) -> Any:
    """The shared test database, without meeting records before or after."""
    store = Neo4jStore(neo4j_driver)

    def forget() -> None:
        with neo4j_driver.session() as session:
            session.run(f"MATCH (m:{LABEL}) DETACH DELETE m").consume()

    forget()
    yield store
    forget()


@pytest.mark.neo4j
def test_neo4j_backend_keeps_records_in_the_database(neo4j_store: Neo4jStore) -> None:
    state = MeetingState.open(neo4j_store)
    assert state.backend == "neo4j"
    state.put("action", "A2", {"tactic": "CAWN", "nested": {"dates": ["2026-11-01"]}})
    state.put("action", "A1", {"tactic": "closure notice"})
    assert state.add("alert", "r:1", {"state": "new"})
    assert not state.add("alert", "r:1", {"state": "other"})
    again = MeetingState.open(neo4j_store)
    assert [r["tactic"] for r in again.records("action")] == ["closure notice", "CAWN"]
    assert again.get("action", "A2") == {"tactic": "CAWN", "nested": {"dates": ["2026-11-01"]}}
    assert again.get("alert", "r:1") == {"state": "new"}
    assert again.get("action", "A3") is None
    state.put("action", "A1", {"tactic": "closure notice", "status": "done"})
    assert again.get("action", "A1") == {"tactic": "closure notice", "status": "done"}


@pytest.mark.neo4j
def test_neo4j_records_stay_out_of_the_analysis_graph(neo4j_store: Neo4jStore) -> None:
    before = neo4j_store.graph()
    MeetingState.open(neo4j_store).put("action", "A1", {"id": "A1", "kind": "location"})
    after = neo4j_store.graph()
    assert sorted(after.nodes) == sorted(before.nodes)
    assert "A1" not in after and "action:A1" not in after
    with neo4j_store.driver.session() as session:
        labels = session.run(f"MATCH (m:{LABEL}) RETURN labels(m) AS labels").single()
    assert labels is not None and labels["labels"] == [LABEL]


@pytest.mark.neo4j
def test_neo4j_add_at_once_keeps_exactly_one(neo4j_store: Neo4jStore) -> None:
    state = MeetingState.open(neo4j_store)
    won: list[bool] = []
    barrier = threading.Barrier(4)

    def race(n: int) -> None:
        barrier.wait()
        won.append(state.add("alert", "same-evidence", {"writer": n}))

    threads = [threading.Thread(target=race, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(won) == [False, False, False, True]
    assert len(state.records("alert")) == 1
