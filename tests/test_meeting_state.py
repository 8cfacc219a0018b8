"""Durable meeting state: the workspace database backend and the Neo4j backend."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import sqlite3
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from graphguard.errors import DataError, RefusedError, UsageError
from graphguard.ingest import Dataset
from graphguard.meeting.state import LABEL, MeetingState, dataset_key, legacy_file
from graphguard.settings import Settings
from graphguard.store import MemoryStore
from graphguard.store.neo4j import Neo4jStore
from graphguard.workspace import SCHEMA_VERSION, database_path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


def _database(settings: Settings) -> Path:
    return settings.home / "workspace" / "workspace.sqlite3"


def _rows(settings: Settings) -> list[tuple[str, str, str, str]]:
    with contextlib.closing(sqlite3.connect(_database(settings))) as connection:
        return connection.execute(
            "SELECT dataset, kind, key, record FROM meeting_record ORDER BY dataset, kind, key"
        ).fetchall()


def test_workspace_backend_keeps_records_across_opens(settings: Settings) -> None:
    state = MeetingState.open(DEMO, settings=settings)
    assert state.backend == "workspace"
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
    assert dataset_key(DEMO) != dataset_key(other)
    assert [(row[0], row[2]) for row in _rows(settings)] == [(dataset_key(DEMO), "A1")]


def test_a_store_or_a_dataset_opens_the_state_of_its_path(settings: Settings) -> None:
    store = MemoryStore.from_path(DEMO)
    MeetingState.open(store, settings=settings).put("action", "A1", {"via": "store"})
    assert MeetingState.open(store.dataset, settings=settings).get("action", "A1") == {
        "via": "store"
    }
    with pytest.raises(UsageError, match="kept per dataset"):
        MeetingState.open(Dataset(), settings=settings)


def test_the_database_is_owner_only_wal_and_versioned(settings: Settings) -> None:
    state = MeetingState.open(DEMO, settings=settings)
    state.put("action", "A1", {"x": 1})
    path = _database(settings)
    assert state.location == f"{path} (dataset {dataset_key(DEMO)})"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    (row,) = _rows(settings)
    assert row[1:] == ("action", "A1", '{"x": 1}')
    with contextlib.closing(sqlite3.connect(path)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        # While a connection writes, SQLite's -wal and -shm files take the file's mode.
        connection.execute("UPDATE meeting_record SET updated = 'now'")
        for suffix in ("-wal", "-shm"):
            sidecar = Path(f"{path}{suffix}")
            assert stat.S_IMODE(sidecar.stat().st_mode) == 0o600
        connection.commit()
    assert sorted(p.name for p in path.parent.iterdir()) == ["workspace.sqlite3"]


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


@pytest.mark.parametrize(
    "damage",
    [b"SQLite format 3\x00" + b"\xff" * 200, b"", b'{"format": "graphguard meeting state"'],
    ids=["garbage", "empty", "json"],
)
def test_a_damaged_database_is_one_clear_error_and_is_left_alone(
    settings: Settings, damage: bytes
) -> None:
    state = MeetingState.open(DEMO, settings=settings)
    state.put("action", "A1", {"x": 1})
    path = _database(settings)
    path.write_bytes(damage)
    for attempt in (
        lambda: state.records("action"),
        lambda: state.put("action", "A2", {"x": 2}),
        lambda: MeetingState.open(DEMO, settings=settings).add("alert", "r:1", {}),
    ):
        with pytest.raises(DataError) as raised:
            attempt()
        message = str(raised.value)
        assert message.startswith(f"{path}: not a") and "\n" not in message
        assert "nothing was changed" in message
    assert path.read_bytes() == damage


def test_another_programs_database_or_a_newer_schema_is_refused(settings: Settings) -> None:
    path = _database(settings)
    path.parent.mkdir(parents=True, mode=0o700)
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
        connection.commit()
    os.chmod(path, 0o600)
    with pytest.raises(DataError, match="not a graphguard workspace database"):
        MeetingState.open(DEMO, settings=settings).records("action")
    path.unlink()
    MeetingState.open(DEMO, settings=settings).put("action", "A1", {"x": 1})
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(DataError, match=f"version {SCHEMA_VERSION + 1} is newer"):
        MeetingState.open(DEMO, settings=settings).records("action")


def test_a_linked_or_shared_file_is_refused(settings: Settings, tmp_path: Path) -> None:
    state = MeetingState.open(DEMO, settings=settings)
    state.put("action", "A1", {"x": 1})
    path = _database(settings)
    os.chmod(path, 0o644)
    with pytest.raises(RefusedError, match="other users"):
        state.records("action")
    os.chmod(path, 0o600)
    target = tmp_path / "planted.sqlite3"
    path.rename(target)
    path.symlink_to(target)
    with pytest.raises(RefusedError, match="symbolic link"):
        state.get("action", "A1")
    path.unlink()
    target.rename(path)
    state.get("action", "A1")
    Path(f"{path}-wal").symlink_to(tmp_path / "elsewhere-wal")
    with pytest.raises(RefusedError, match="symbolic link"):
        state.put("action", "A2", {"x": 2})


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


def _raise_alerts(home: str, writer: int, won: Any) -> None:
    state = MeetingState.open(DEMO, settings=Settings(home=Path(home)))
    for n in range(20):
        if state.add("alert", f"rule:evidence-{n}", {"writer": writer}):
            won.put(n)


def test_two_processes_adding_the_same_alerts_raise_each_once(settings: Settings) -> None:
    context = multiprocessing.get_context("fork")
    won = context.Queue()
    workers = [
        context.Process(target=_raise_alerts, args=(str(settings.home), w, won)) for w in (1, 2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    added = sorted(won.get(timeout=5) for _ in range(20))
    assert won.empty()
    assert added == list(range(20))
    assert len(MeetingState.open(DEMO, settings=settings).records("alert")) == 20


# ---------------------------------------------------------------------------- the JSON files


def _legacy(settings: Settings, records: dict[str, Any]) -> Path:
    path = legacy_file(DEMO, settings)
    path.parent.mkdir(parents=True, mode=0o700)
    content = {"format": "graphguard meeting state", "version": 1, "records": records}
    path.write_text(json.dumps(content))
    os.chmod(path, 0o600)
    return path


def test_an_old_json_file_is_imported_once_and_left_alone(settings: Settings) -> None:
    path = _legacy(
        settings,
        {
            "alert": {"r:1": {"state": "acknowledged"}},
            "action": {"ACT-0001": {"tactic": "cawn"}, "ACT-0002": {"tactic": "sro"}},
        },
    )
    before = path.read_bytes()
    told: list[str] = []
    state = MeetingState.open(DEMO, settings=settings, notice=told.append)
    (line,) = told
    assert line.startswith("imported 1 alert and 2 actions from ") and str(path) in line
    assert "\n" not in line
    assert state.get("alert", "r:1") == {"state": "acknowledged"}
    assert [r["tactic"] for r in state.records("action")] == ["cawn", "sro"]
    assert path.read_bytes() == before
    state.put("alert", "r:1", {"state": "dismissed"})
    MeetingState.open(DEMO, settings=settings, notice=told.append)
    assert len(told) == 1
    assert state.get("alert", "r:1") == {"state": "dismissed"}


def test_an_import_never_overwrites_the_database(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    MeetingState.open(DEMO, settings=settings).put("action", "ACT-0001", {"tactic": "kept"})
    _legacy(settings, {"action": {"ACT-0001": {"tactic": "old"}, "ACT-0002": {"tactic": "new"}}})
    state = MeetingState.open(DEMO, settings=settings)
    assert [r["tactic"] for r in state.records("action")] == ["kept", "new"]
    said = capsys.readouterr().err
    assert said.startswith("graphguard: imported 0 alerts and 1 action from ")
    assert "(1 already there kept as they were)" in said and said.count("\n") == 1


def test_a_damaged_old_json_file_is_refused_and_nothing_imported(settings: Settings) -> None:
    path = _legacy(settings, {"action": {"ACT-0001": {"tactic": "cawn"}}})
    path.write_text('{"format": "graphguard meeting state", "version": 1, "records": {')
    with pytest.raises(DataError, match=r"not valid meeting state.*nothing was imported"):
        MeetingState.open(DEMO, settings=settings)
    os.chmod(path, 0o644)
    with pytest.raises(RefusedError, match="other users"):
        MeetingState.open(DEMO, settings=settings)
    path.unlink()
    assert MeetingState.open(DEMO, settings=settings).records("action") == []


# ---------------------------------------------------------------------------- the URL setting


def test_the_workspace_url_names_another_database(settings: Settings, tmp_path: Path) -> None:
    elsewhere = tmp_path / "volume" / "graphguard.sqlite3"
    moved = settings.model_copy(update={"workspace_url": f"sqlite:///{elsewhere}"})
    assert database_path(moved) == elsewhere
    MeetingState.open(DEMO, settings=moved).put("action", "A1", {"x": 1})
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o600
    assert MeetingState.open(DEMO, settings=settings).get("action", "A1") is None
    assert MeetingState.open(DEMO, settings=moved).get("action", "A1") == {"x": 1}


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql://gg:secret@db.example/graphguard", "only sqlite:////absolute/path"),
        ("sqlite://gg:secret@db.example/ws.sqlite3", "no host or options"),
        ("sqlite:///relative.sqlite3", "absolute path"),
        ("sqlite://", "absolute path"),
        ("sqlite:///:memory:", "absolute path"),
        ("sqlite:////srv/ws.sqlite3?mode=ro", "no host or options"),
    ],
)
def test_other_workspace_urls_are_refused(settings: Settings, url: str, reason: str) -> None:
    moved = settings.model_copy(update={"workspace_url": url})
    with pytest.raises(UsageError, match="GRAPHGUARD_WORKSPACE_URL") as raised:
        MeetingState.open(DEMO, settings=moved)
    message = str(raised.value)
    assert reason in message and "\n" not in message and "secret" not in message


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
    before, counted = neo4j_store.graph(), neo4j_store.counts()
    MeetingState.open(neo4j_store).put("action", "A1", {"id": "A1", "kind": "location"})
    after = neo4j_store.graph()
    assert neo4j_store.counts() == counted
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
