"""Loads are serialised and self-checking, against the real Neo4j 5.26.

Two loads at once, a loader killed mid-load, a server lost mid-load, a stale lock,
duplicates planted behind the loader's back, and ``graphguard check`` finding and
repairing them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from graphguard.cli import main
from graphguard.errors import BackendUnavailable, UsageError
from graphguard.ingest import Dataset, read_dataset
from graphguard.model import LinkType
from graphguard.store import graph_from_dataset
from graphguard.store.check import check
from graphguard.store.lock import LoadLock, LoadLockHeld, LoadLockLost
from graphguard.store.neo4j import LoadReport, Neo4jStore, check_uri
from graphguard.synth import write_town

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo"


def as_comparable(graph: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    nodes = dict(graph.nodes(data=True))
    edges = {key: (u, v, data) for u, v, key, data in graph.edges(keys=True, data=True)}
    return nodes, edges


@pytest.fixture
def store(neo4j_driver: Any, demo: Any) -> Iterator[Neo4jStore]:
    """An empty database; afterwards the demo is loaded again, the state other tests expect."""
    store = Neo4jStore(neo4j_driver, batch_size=200)
    with neo4j_driver.session() as session:  # a lock left by a failed test must not linger
        session.run("MATCH (l:GraphguardLock) DELETE l").consume()
    store.clear()
    yield store
    with neo4j_driver.session() as session:
        session.run("MATCH (l:GraphguardLock) DELETE l").consume()
    store.clear()
    store.load(demo.dataset)


def cli_env(server: Any, tmp_path: Path, uri: str | None = None) -> dict[str, str]:
    return {
        **os.environ,
        "NEO4J_URI": uri or server.uri,
        "NEO4J_USERNAME": server.username,
        "NEO4J_PASSWORD": server.password,
        # This process's state home: one installation, whose pseudonym key and identity
        # store the loads in child processes and the checks here share.
        "GRAPHGUARD_HOME": os.environ["GRAPHGUARD_HOME"],
    }


def graphguard(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "graphguard.cli", *map(str, args)]


def error_lines(stderr: str) -> list[str]:
    """stderr without progress-bar frames (tqdm is off when stderr is not a terminal)."""
    return [line for line in stderr.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def towns(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two different synthetic towns with the same ids (as `synth` makes them)."""
    base = tmp_path_factory.mktemp("towns")
    for seed in (1, 2):
        write_town(base / f"town{seed}", 120, seed=seed)
    return base / "town1", base / "town2"


# ------------------------------------------------------------------------ concurrent loads


@pytest.mark.neo4j
def test_two_concurrent_loads_never_leave_a_duplicate_link_id(
    store: Neo4jStore, neo4j_server: Any, towns: tuple[Path, Path], tmp_path: Path
) -> None:
    env = cli_env(neo4j_server, tmp_path)
    first, second = (read_dataset(t).dataset for t in towns)
    shared = {x.link_id for x in first.links} & {x.link_id for x in second.links}
    differing = {x.link_id for x in first.links} ^ {x.link_id for x in second.links}
    assert len(shared) > 1000 and differing  # same ids, different content
    waited = 0
    for _round in range(5):
        store.clear()
        processes = [
            subprocess.Popen(
                graphguard("load", town, "--batch-size", "100"),
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for town in towns
        ]
        outcomes = [p.communicate(timeout=300) for p in processes]
        for process, (out, err) in zip(processes, outcomes, strict=True):
            assert process.returncode == 0, out + err
        assert store.duplicate_link_ids() == {}
        # The load that waited wrote last: Neo4j holds each of its links exactly.
        late = [i for i, (_, err) in enumerate(outcomes) if "waiting up to" in err]
        waited += len(late)
        last = (first, second)[late[0]] if late else None
        if last is not None:
            found = check(store, last)
            assert (found.missing_links, found.changed_links) == ([], [])
            assert (found.missing_entities, found.changed_entities) == ([], [])
    assert waited >= 1, "the two loads never overlapped: the test proved nothing"


@pytest.mark.neo4j
def test_a_held_lock_refuses_a_load_naming_the_holder(store: Neo4jStore, neo4j_env: Any) -> None:
    with store.lock("load somebody-else", wait=0, user="alice"):
        result = CliRunner().invoke(main, ["load", str(DEMO), "--wait", "0.5"])
    assert result.exit_code == 3, result.output
    lines = error_lines(result.stderr)
    assert lines[-1].startswith("graphguard: error: another load is writing to this database")
    assert "`graphguard load somebody-else` (alice on " in lines[-1]
    assert f"pid {os.getpid()}" in lines[-1]
    assert store.counts()["nodes"] == 0


@pytest.mark.neo4j
def test_a_lock_left_by_a_dead_process_on_this_host_is_taken_over(store: Neo4jStore) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    _plant_lock(store, host=socket.gethostname(), pid=dead.pid, idle_seconds=0)
    notices: list[str] = []
    data = read_dataset(DEMO).dataset
    store.load(data, wait=0, notice=notices.append)
    assert len(notices) == 1 and "took over the load lock" in notices[0]
    assert f"process {dead.pid} on this host is no longer running" in notices[0]
    assert store.counts()["relationships"] == len(data.links)
    assert _locks(store) == 0


@pytest.mark.neo4j
def test_a_silent_lock_from_another_host_is_stale_a_fresh_one_is_not(
    store: Neo4jStore,
) -> None:
    _plant_lock(store, host="elsewhere.example", pid=4242, idle_seconds=5)
    with pytest.raises(LoadLockHeld, match=r"root on elsewhere.example, pid 4242"):
        store.load(read_dataset(DEMO).dataset, wait=1)
    assert store.counts()["nodes"] == 0
    with store.driver.session() as session:
        session.run("MATCH (l:GraphguardLock) DELETE l").consume()
    _plant_lock(store, host="elsewhere.example", pid=4242, idle_seconds=120)
    notices: list[str] = []
    store.load(read_dataset(DEMO).dataset, wait=0, notice=notices.append)
    assert "has not been touched for 12" in notices[0]


@pytest.mark.neo4j
def test_a_load_whose_lock_was_taken_over_writes_nothing_more(store: Neo4jStore) -> None:
    lock = LoadLock(store._session, "load", wait=0, heartbeat=3600)
    with lock:
        with store.driver.session() as session:  # what a takeover by another writer does
            session.run("MATCH (l:GraphguardLock) DELETE l").consume()
        rows = store.stored_form(read_dataset(DEMO).dataset).entities
        with pytest.raises(LoadLockLost, match="taken over"):
            store.write_entities(rows, lock, LoadReport())
    assert store.counts()["nodes"] == 0


@pytest.mark.neo4j
def test_the_lock_is_released_when_a_load_fails(store: Neo4jStore) -> None:
    broken = read_dataset(DEMO).dataset
    link = broken.links[0]
    # A link to an end that is not there would be silently skipped by MATCH; a bad
    # property type is a real failure inside a batch.
    bad = link.model_copy(update={"extra": {"nested": {"no": "maps"}}})
    with pytest.raises(Exception, match=r"(?i)map|property"):
        store.load(Dataset(broken.people, broken.locations, broken.vehicles, [bad]))
    assert _locks(store) == 0
    store.load(broken, wait=0)  # nobody is left waiting on a lock nobody holds


# ------------------------------------------------------------------------ interrupted loads


@pytest.mark.neo4j
def test_a_loader_killed_mid_load_leaves_a_lock_the_next_load_takes_over(
    store: Neo4jStore, neo4j_server: Any, tmp_path: Path
) -> None:
    town = tmp_path / "town"
    write_town(town, 400, seed=11)
    process = subprocess.Popen(
        graphguard("load", town, "--batch-size", "50"),
        env=cli_env(neo4j_server, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while store.counts()["relationships"] < 300 and time.monotonic() < deadline:
        assert process.poll() is None, "the load finished before it could be interrupted"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert _locks(store) == 1  # kill -9 runs no finally
    data = read_dataset(town).dataset
    assert 0 < store.counts()["relationships"] < len(data.links)
    notices: list[str] = []
    store.load(data, wait=0, notice=notices.append)
    assert any(f"process {process.pid} on this host" in n for n in notices)
    assert check(store, data).ok
    assert as_comparable(store.graph()) == as_comparable(graph_from_dataset(data))


class _Proxy:
    """A TCP relay to the real server that can be cut, as a server that dies is."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.cut_off = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.cut_off.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.cut_off.is_set():
                client.close()
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass

    def cut(self) -> None:
        self.cut_off.set()
        with contextlib.suppress(OSError):  # wakes the accepting thread (close alone does not)
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


@pytest.mark.neo4j
def test_a_server_lost_mid_load_is_one_line_and_exit_4(
    store: Neo4jStore, neo4j_server: Any, tmp_path: Path
) -> None:
    town = tmp_path / "town"
    write_town(town, 400, seed=5)
    host, port = neo4j_server.uri.rsplit("/", 1)[-1].rsplit(":", 1)
    proxy = _Proxy(host, int(port))
    process = subprocess.Popen(
        graphguard("load", town, "--batch-size", "50"),
        env=cli_env(neo4j_server, tmp_path, uri=f"bolt://127.0.0.1:{proxy.port}"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while store.counts()["relationships"] < 300 and time.monotonic() < deadline:
        assert process.poll() is None, "the load finished before the server was lost"
        time.sleep(0.05)
    proxy.cut()
    lost = time.monotonic()
    out, err = process.communicate(timeout=120)
    assert process.returncode == 4, out + err
    lines = error_lines(err)
    assert len(lines) == 1, err  # no driver log lines, no traceback
    assert lines[0].startswith("graphguard: error: lost Neo4j while loading"), err
    assert "run the command again" in lines[0]
    assert "resolved to" not in lines[0]  # the driver's repetition of the address
    assert time.monotonic() - lost < 30  # the driver's retries are bounded
    data = read_dataset(town).dataset
    store.load(data, wait=0)  # the lock it left behind belongs to a dead process
    assert check(store, data).ok


# ------------------------------------------------------------------------ one link id namespace


def _plant_duplicate(store: Neo4jStore, data: Dataset) -> str:
    """A second relationship, of another type, holding an existing link id."""
    link = next(x for x in data.links if x.type is LinkType.ASSOCIATES_WITH)
    with store.driver.session() as session:
        session.run(
            "MATCH (s:Entity {id: $s}), (t:Entity {id: $t}) "
            "CREATE (s)-[:CONTACTED {link_id: $id, agency: 'police'}]->(t)",
            s=link.source_id,
            t=link.target_id,
            id=link.link_id,
        ).consume()
    assert store.duplicate_link_ids() == {link.link_id: 2}
    return link.link_id


@pytest.mark.neo4j
def test_a_load_repairs_a_duplicate_of_a_link_id_it_holds(store: Neo4jStore) -> None:
    data = read_dataset(DEMO).dataset
    store.load(data)
    _plant_duplicate(store, data)
    report = store.load(data)
    assert report.repaired_duplicates == 1
    assert store.duplicate_link_ids() == {}
    assert as_comparable(store.graph()) == as_comparable(graph_from_dataset(data))


@pytest.mark.neo4j
def test_a_duplicate_the_dataset_cannot_resolve_is_named_and_pruned(
    store: Neo4jStore, neo4j_env: Any, tmp_path: Path
) -> None:
    data = read_dataset(DEMO).dataset
    store.load(data)
    link_id = _plant_duplicate(store, data)
    smaller = tmp_path / "smaller"
    _write_without_link(DEMO, smaller, link_id)
    result = CliRunner().invoke(main, ["load", str(smaller)])
    assert result.exit_code == 0, result.output
    assert f"1 link ids not in {smaller} are held by more than one" in result.stderr
    assert link_id in result.stderr
    assert store.duplicate_link_ids() == {link_id: 2}
    result = CliRunner().invoke(main, ["load", str(smaller), "--prune"])
    assert result.exit_code == 0, result.output
    assert store.duplicate_link_ids() == {}


def _write_without_link(source: Path, out: Path, link_id: str) -> None:
    out.mkdir()
    for file in source.glob("*.csv"):
        lines = file.read_text(encoding="utf-8").splitlines(keepends=True)
        if file.name == "links.csv":
            lines = [line for line in lines if not line.startswith(f"{link_id},")]
        (out / file.name).write_text("".join(lines), encoding="utf-8")


# ------------------------------------------------------------------------ graphguard check


@pytest.mark.neo4j
def test_check_finds_planted_differences_and_repair_removes_them(
    store: Neo4jStore, neo4j_env: Any
) -> None:
    data = read_dataset(DEMO).dataset
    store.load(data)
    result = CliRunner().invoke(main, ["check", str(DEMO)])
    assert result.exit_code == 0, result.output
    assert f"Neo4j holds exactly {DEMO}" in result.stdout

    duplicate = _plant_duplicate(store, data)
    missing, changed = [x for x in data.links if x.link_id != duplicate][5:7]
    person = next(iter(data.people))
    with store.driver.session() as session:
        session.run("MATCH ()-[r {link_id: $id}]->() DELETE r", id=missing.link_id).consume()
        session.run(
            "MATCH ()-[r {link_id: $id}]->() SET r.agency = 'tampered'", id=changed.link_id
        ).consume()
        session.run(
            "MATCH (s:Entity {id: $p}), (t:Entity) WHERE t.id <> $p WITH s, t LIMIT 1 "
            "CREATE (s)-[:SEEN_AT {link_id: 'PLANTED-1'}]->(t), (:Entity:Vehicle {id: 'VPLANT'})",
            p=person,
        ).consume()
    result = CliRunner().invoke(main, ["check", str(DEMO)])
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert f"1 link ids held by more than one relationship: {duplicate} (2 relationships)" in out
    assert f"1 links missing from Neo4j: {missing.link_id}" in out
    assert "1 links in Neo4j only: PLANTED-1" in out
    assert "1 entities in Neo4j only: VPLANT" in out
    assert changed.link_id in out.split("links that differ:")[1].splitlines()[0]
    assert "Neo4j differs from" in out

    result = CliRunner().invoke(main, ["check", str(DEMO), "--repair"])
    assert result.exit_code == 0, result.output
    assert "Repaired: deleted" in result.stdout
    assert f"Neo4j holds exactly {DEMO}" in result.stdout
    assert store.duplicate_link_ids() == {}
    assert as_comparable(store.graph()) == as_comparable(graph_from_dataset(data))
    assert CliRunner().invoke(main, ["check", str(DEMO)]).exit_code == 0


@pytest.mark.neo4j
def test_check_json_and_the_content_hash(store: Neo4jStore, neo4j_env: Any) -> None:
    import json

    data = read_dataset(DEMO).dataset
    store.load(data)
    result = CliRunner().invoke(main, ["check", str(DEMO), "--format", "json"])
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["content_hash"]["dataset"] == report["content_hash"]["neo4j"]
    assert report["counts"]["Entity"]["neo4j"] == len(list(data.entities()))
    assert report["counts"]["SEEN_AT"]["dataset"] == sum(
        x.type is LinkType.SEEN_AT for x in data.links
    )
    with store.driver.session() as session:  # one property of one entity
        query = "MATCH (n:Entity {id: $id}) SET n.area = 'Elsewhere'"
        session.run(query, id=data.links[0].source_id).consume()
    report = json.loads(CliRunner().invoke(main, ["check", str(DEMO), "--format", "json"]).stdout)
    assert report["ok"] is False
    assert report["content_hash"]["dataset"] != report["content_hash"]["neo4j"]
    assert report["changed_entities"] == [data.links[0].source_id]


@pytest.mark.neo4j
def test_check_repair_is_refused_when_rows_were_rejected(store: Neo4jStore, neo4j_env: Any) -> None:
    store.load(read_dataset(DEMO).dataset)
    before = store.counts()
    case = ROOT / "fixtures" / "invalid" / "link_to_rejected_id"
    result = CliRunner().invoke(main, ["check", str(case), "--repair"])
    assert result.exit_code == 1, result.output
    assert "--repair refused" in result.stderr
    assert store.counts() == before


# ------------------------------------------------------------------------ free space


@pytest.mark.neo4j
def test_a_load_is_refused_when_the_local_disk_is_obviously_too_small(
    store: Neo4jStore, neo4j_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    directory = store.local_data_directory()
    assert directory is not None and directory.is_dir()  # the test server is local
    real = shutil.disk_usage

    def nearly_full(path: Any) -> Any:
        usage = real(path)
        return type(usage)(usage.total, usage.total - 1_000_000, 1_000_000)

    with monkeypatch.context() as patch:  # undone before the fixture reloads the demo
        patch.setattr(shutil, "disk_usage", nearly_full)
        result = CliRunner().invoke(main, ["load", str(DEMO)])
    assert result.exit_code == 4, result.output
    (line,) = error_lines(result.stderr)
    assert f"Neo4j's data directory {directory} has 1 MB free" in line
    assert "nothing was loaded" in line
    assert store.counts()["nodes"] == 0


# ------------------------------------------------------------------------ without a server


@pytest.mark.parametrize("uri", ["http://127.0.0.1:7474", "https://db.example.org", "db:7687"])
def test_a_uri_that_is_not_bolt_is_a_usage_error(uri: str) -> None:
    with pytest.raises(UsageError) as caught:
        check_uri(uri)
    message = str(caught.value)
    assert uri in message and "\n" not in message
    for scheme in ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://"):
        assert scheme in message


def test_load_with_an_http_uri_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    from graphguard.settings import get_settings

    monkeypatch.setenv("NEO4J_URI", "http://127.0.0.1:7474")
    monkeypatch.setenv("NEO4J_PASSWORD", "whatever-it-is")
    get_settings.cache_clear()
    result = CliRunner().invoke(main, ["load", str(DEMO)])
    assert result.exit_code == 2, result.output
    (line,) = error_lines(result.stderr)
    assert line.startswith("graphguard: error: NEO4J_URI 'http://127.0.0.1:7474' is not a Bolt")


def test_a_full_disk_during_a_write_is_named() -> None:
    class Driver:
        def session(self, **_: Any) -> Any:
            raise OSError("TransactionLogError: No space left on device")

    store = Neo4jStore(Driver())
    with pytest.raises(BackendUnavailable, match="its disk looks full"), store.reachable("loading"):
        store.counts()


# ------------------------------------------------------------------------ helpers


def _plant_lock(store: Neo4jStore, *, host: str, pid: int, idle_seconds: int) -> None:
    with store.driver.session() as session:
        session.run(
            "CREATE CONSTRAINT graphguard_lock_name IF NOT EXISTS "
            "FOR (l:GraphguardLock) REQUIRE l.name IS UNIQUE"
        ).consume()
        session.run(
            "CREATE (:GraphguardLock {name: 'load', token: 'planted', purpose: 'load old', "
            "user: 'root', host: $host, pid: $pid, started: datetime() - duration('PT1H'), "
            "heartbeat: datetime() - duration({seconds: $idle})})",
            host=host,
            pid=pid,
            idle=idle_seconds,
        ).consume()


def _locks(store: Neo4jStore) -> int:
    with store.driver.session() as session:
        record = session.run("MATCH (l:GraphguardLock) RETURN count(l) AS n").single()
    return int(record["n"])


def test_labels_and_types_are_checked_before_they_are_formatted_in() -> None:
    from graphguard.store import queries

    assert "`SEEN_AT`" in queries.merge_links("SEEN_AT")
    assert "`YoungPerson`" in queries.merge_entities(("Person", "YoungPerson"))
    for bad in ("SEEN_AT]->() DETACH DELETE r //", "seen_at", "Entity"):
        with pytest.raises(ValueError, match="not a graphguard"):
            queries.merge_links(bad)
        with pytest.raises(ValueError, match="not a graphguard"):
            queries.delete_links(bad)
    with pytest.raises(ValueError, match="not a graphguard"):
        queries.merge_entities(("Person", "Admin"))


def test_a_lock_is_stale_when_its_process_is_gone_or_it_fell_silent() -> None:
    from graphguard.store.lock import LockHolder

    dead = subprocess.Popen(["true"])
    dead.wait()
    here = socket.gethostname()
    holder = LockHolder("t", "load x", "alice", here, dead.pid, "2026-12-02 07:00:00", 0)
    assert "no longer running" in str(holder.stale_reason(30))
    alive = LockHolder("t", "load x", "alice", here, os.getppid(), "2026-12-02 07:00:00", 0)
    assert alive.stale_reason(30) is None
    # Another host's process cannot be looked at: only its silence counts.
    remote = LockHolder("t", "load x", "alice", "elsewhere", dead.pid, "2026-12-02", 29)
    assert remote.stale_reason(30) is None
    silent = dataclasses.replace(remote, idle_seconds=31)
    assert "not been touched for 31 s" in str(silent.stale_reason(30))
