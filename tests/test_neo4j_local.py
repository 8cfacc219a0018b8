"""The local real Neo4j: start, status, auth, stop, restart with data kept, clear errors.

The tests marked ``neo4j`` start a real Neo4j 5.26 server (a JVM) on a free port in a
temporary directory: two full starts for the whole module plus two aborted ones. The others
check the launcher's own logic without a JVM.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

neo4j = pytest.importorskip("neo4j")

from graphguard.errors import BackendUnavailable  # noqa: E402
from graphguard.neo4j_local import (  # noqa: E402
    MAIN_CLASS,
    ServerInfo,
    env_lines,
    free_port,
    health,
    start,
    status,
    stop,
)
from graphguard.neo4j_local import conf as neo4j_conf  # noqa: E402
from graphguard.neo4j_local import server as srv  # noqa: E402


def _supervisor_pids(data_dir: Path) -> list[int]:
    """Supervisors of this data dir still alive."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if (
            b"graphguard.neo4j_local.supervisor" in argv
            and str(data_dir).encode() in argv
            and state != "Z"
        ):
            found.append(int(proc.name))
    return found


def _java_pids(data_dir: Path) -> list[int]:
    """Neo4j JVMs whose command line names this data dir (to prove nothing is left behind)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if MAIN_CLASS.encode() in argv and f"--home-dir={data_dir}".encode() in argv:
            found.append(int(proc.name))
    return found


def _run(info: ServerInfo, query: str, password: str | None = None) -> list[dict[str, object]]:
    auth = (info.username, password if password is not None else info.password)
    with neo4j.GraphDatabase.driver(info.uri, auth=auth) as driver:
        records, _, _ = driver.execute_query(query)
        return [r.data() for r in records]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("neo4j-local") / "neo4j"
    yield path
    stop(path)


@pytest.fixture(scope="module")
def server(data_dir: Path) -> ServerInfo:
    steps: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("NEO4J_PASSWORD", raising=False)  # exercise the generated password
        info = start(data_dir, port=free_port(), heap="512m", progress=steps.append)
    assert any(step.startswith("starting Neo4j") for step in steps)
    return info


# --------------------------------------------------------------------------------------------
# against the real server
# --------------------------------------------------------------------------------------------


@pytest.mark.neo4j
def test_start_reports_a_running_server_with_auth(server: ServerInfo, data_dir: Path) -> None:
    assert server.running
    assert server.uri.startswith("bolt://127.0.0.1:")
    assert server.username == "neo4j"
    assert server.data_dir == data_dir.resolve()
    assert server.pid is not None and _java_pids(server.data_dir) == [server.pid]

    now = status(data_dir)
    assert now.running and now.pid == server.pid and now.uri == server.uri

    password_file = data_dir / "password"
    assert password_file.read_text().strip() == server.password
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert len(server.password) >= 16

    assert _run(server, "RETURN 1 AS one") == [{"one": 1}]


@pytest.mark.neo4j
def test_start_waits_for_the_database_and_status_says_it_is_ready(server: ServerInfo) -> None:
    now = status(server.data_dir)
    assert now.ready and now.database == "online" and now.problem is None
    # The database takes a transaction, not only Bolt answers.
    assert _run(server, "RETURN 1 AS one") == [{"one": 1}]


@pytest.mark.neo4j
def test_data_dir_store_logs_and_auth_are_owner_only(server: ServerInfo) -> None:
    home = server.data_dir
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    auth = home / "data" / "dbms" / "auth.ini"
    assert auth.is_file()
    checked = 0
    for path in [home, *home.rglob("*")]:
        if "build" in path.relative_to(home).parts or path.is_symlink():
            continue  # Maven's classpath cache: no data
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode & 0o077 == 0, f"{path} is {mode:o}"
        checked += 1
    tx_logs = list((home / "data" / "transactions" / "neo4j").glob("neostore.transaction.db*"))
    assert tx_logs and checked > 20


@pytest.mark.neo4j
def test_the_conf_bounds_transaction_memory_and_time(server: ServerInfo) -> None:
    rows = _run(
        server,
        "SHOW SETTINGS YIELD name, value WHERE name IN ['db.memory.transaction.max', "
        "'dbms.memory.transaction.total.max', 'db.transaction.timeout', "
        "'db.tx_state.memory_allocation'] RETURN name, value",
    )
    values = {row["name"]: row["value"] for row in rows}
    heap = neo4j_conf.heap_bytes("512m")  # the fixture's heap
    assert values["db.memory.transaction.max"] == f"{heap // 4}B" or values[
        "db.memory.transaction.max"
    ].lower() in ("128m", "128.00mib", f"{heap // 4}")
    assert values["db.transaction.timeout"] in ("5m", "300s", "PT5M")
    assert values["db.tx_state.memory_allocation"] == "ON_HEAP"
    assert values["dbms.memory.transaction.total.max"]


@pytest.mark.neo4j
def test_bolt_listens_on_loopback_only(server: ServerInfo) -> None:
    port = int(server.uri.rsplit(":", 1)[1])
    conf = (server.data_dir / "conf" / "neo4j.conf").read_text()
    assert f"server.bolt.listen_address=127.0.0.1:{port}" in conf
    assert "server.http.enabled=false" in conf
    # Every socket listening on the port is a loopback one (Java binds an IPv6 socket to
    # ::ffff:127.0.0.1, so look at tcp6 as well as tcp).
    addresses = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                addresses.append(address)
    assert addresses
    loopback = ("0100007F", "0000000000000000FFFF00000100007F", "00000000000000000000000001000000")
    assert all(address in loopback for address in addresses), addresses


@pytest.mark.neo4j
def test_start_is_idempotent(server: ServerInfo, data_dir: Path) -> None:
    again = start(data_dir, port=free_port())  # already running: the port is not changed
    assert again == server


@pytest.mark.neo4j
def test_wrong_password_is_refused(server: ServerInfo) -> None:
    with pytest.raises(neo4j.exceptions.AuthError):
        _run(server, "RETURN 1", password="not-the-password")


@pytest.mark.neo4j
def test_env_lines_are_shell_quoted(server: ServerInfo, data_dir: Path) -> None:
    lines = env_lines(data_dir)
    assert lines == [
        f"export NEO4J_URI={shlex.quote(server.uri)}",
        "export NEO4J_USERNAME=neo4j",
        f"export NEO4J_PASSWORD={shlex.quote(server.password)}",
    ]
    assert [shlex.split(line)[1].split("=", 1)[0] for line in lines] == [
        "NEO4J_URI",
        "NEO4J_USERNAME",
        "NEO4J_PASSWORD",
    ]


@pytest.mark.neo4j
def test_port_taken_is_a_clear_error(server: ServerInfo, tmp_path: Path) -> None:
    port = int(server.uri.rsplit(":", 1)[1])  # taken by the running server
    with pytest.raises(BackendUnavailable, match=rf"port {port} .* already in use"):
        start(tmp_path / "other", port=port)
    with socket.socket() as sock:  # and by any other listener
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        other = sock.getsockname()[1]
        with pytest.raises(BackendUnavailable, match=rf"port {other} "):
            start(tmp_path / "other", port=other)
    assert not _java_pids((tmp_path / "other").resolve())


@pytest.mark.neo4j
def test_death_at_start_shows_the_log(server: ServerInfo, tmp_path: Path, monkeypatch) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(server.data_dir / "build", broken / "build")  # skip a Maven run
    monkeypatch.setattr(srv, "JVM_OPTIONS", (*srv.JVM_OPTIONS, "-XX:+NoSuchGraphguardOption"))
    with pytest.raises(BackendUnavailable, match=r"died while starting.*NoSuchGraphguardOption"):
        start(broken, port=free_port())
    assert not status(broken).running


@pytest.mark.neo4j
def test_timeout_stops_the_server(server: ServerInfo, tmp_path: Path) -> None:
    slow = tmp_path / "slow"
    shutil.copytree(server.data_dir / "build", slow / "build")
    with pytest.raises(BackendUnavailable, match=r"did not answer .* within 1 s"):
        start(slow, port=free_port(), timeout=1.0)
    assert not _java_pids(slow.resolve())
    assert not status(slow).running


@pytest.mark.neo4j
def test_stop_keeps_data_and_restart_finds_it(server: ServerInfo, data_dir: Path) -> None:
    _run(server, "CREATE (:Probe {name: 'kept across restarts'})")

    assert stop(data_dir) is True
    after = status(data_dir)
    assert not after.running and after.pid is None
    assert not _java_pids(server.data_dir)
    assert stop(data_dir) is False  # nothing left to stop

    port = int(server.uri.rsplit(":", 1)[1])
    again = start(data_dir, port=port)
    assert again.running and again.password == server.password and again.pid != server.pid
    assert _run(again, "MATCH (p:Probe) RETURN p.name AS name") == [
        {"name": "kept across restarts"}
    ]
    assert stop(data_dir) is True
    assert not _java_pids(server.data_dir)


@pytest.mark.neo4j
def test_a_killed_server_is_restarted_and_the_query_that_lost_it_is_audited(
    server: ServerInfo, data_dir: Path, tmp_path: Path
) -> None:
    from graphguard.audit import read_audit
    from graphguard.cypher import run_query
    from graphguard.errors import BackendUnavailable as Lost
    from graphguard.store.neo4j import connect

    info = start(data_dir, port=int(server.uri.rsplit(":", 1)[1]))
    assert info.ready
    first = info.pid
    assert first is not None and _supervisor_pids(info.data_dir)
    audit = tmp_path / "audit.jsonl"
    long_query = "UNWIND range(1, 100000000000) AS i WITH i WHERE i % 7 = 0 RETURN count(*)"

    def kill_once_it_runs() -> None:
        """Kill the JVM under the query (as the OOM killer or a crash would end it)."""
        deadline = time.monotonic() + 120
        with neo4j.GraphDatabase.driver(info.uri, auth=(info.username, info.password)) as d:
            while time.monotonic() < deadline:
                records, _, _ = d.execute_query(
                    "SHOW TRANSACTIONS YIELD currentQuery RETURN currentQuery"
                )
                if any(str(r["currentQuery"]).startswith("UNWIND range") for r in records):
                    break
                time.sleep(0.2)
        os.kill(first, signal.SIGKILL)

    killer = threading.Thread(target=kill_once_it_runs, daemon=True)
    killer.start()
    driver = connect(info.uri, info.username, info.password)
    try:
        with pytest.raises(Lost, match="stopped answering while this query ran"):
            run_query(
                driver,
                long_query,
                timeout=120,
                row_limit=10,
                audit_path=audit,
            )
    finally:
        killer.join(timeout=130)
        driver.close()
    started, entry = read_audit(audit)
    assert (started["outcome"], entry["outcome"]) == ("started", "server_lost")
    assert entry["text"].startswith("UNWIND range(1, 100000000000)")

    # The supervisor restarts it; start() waits for that restart instead of racing it.
    again = start(data_dir, port=free_port())
    assert again.ready and again.pid not in (None, first) and again.uri == info.uri
    assert _java_pids(info.data_dir) == [again.pid]
    log = (info.data_dir / "logs" / "restarts.log").read_text()
    assert f"pid {first}) exited with code -9" in log and "restarting it" in log

    assert stop(data_dir) is True
    assert not _java_pids(info.data_dir)
    deadline = time.monotonic() + 10
    while _supervisor_pids(info.data_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _supervisor_pids(info.data_dir)


def _mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


@pytest.mark.neo4j
def test_a_full_disk_is_reported_with_its_cause_and_the_recovery_works(
    server: ServerInfo, tmp_path: Path
) -> None:
    """A data dir on a small tmpfs fills during a load; status says so; room + the step named."""
    mount = tmp_path / f"small-disk-{uuid.uuid4().hex[:6]}"
    if os.geteuid() != 0 or not _mount_tmpfs(mount, "192m"):
        pytest.skip("mounting a tmpfs needs root")
    try:
        home = mount / "neo4j"
        shutil.copytree(server.data_dir / "build", home / "build")  # skip a Maven run
        ballast = mount / "ballast"
        with ballast.open("wb") as handle:  # room to make later
            handle.write(b"\0" * (96 << 20))
        info = start(home, port=free_port(), heap="512m")
        assert info.ready
        space = health.free_space(home)
        assert space.mount == mount and 0 < space.free < 96 << 20
        with pytest.raises(BackendUnavailable, match=r"this load needs about \d+ MiB"):
            health.require_free_space(home, space.free + (1 << 20))

        # Load 4 MB batches until the disk is full.
        batches = 0
        auth = (info.username, info.password)
        with (
            neo4j.GraphDatabase.driver(info.uri, auth=auth) as d,
            pytest.raises(neo4j.exceptions.Neo4jError),
        ):
            for batch in range(100):
                d.execute_query(
                    "UNWIND range(1, 400) AS i CREATE (:Filler {batch: $batch, s: $s})",
                    batch=batch,
                    s="x" * 10_000,
                )
                batches += 1
        assert batches > 0

        broken = status(home)
        assert broken.running and not broken.ready
        assert broken.problem is not None and "disk is full" in broken.problem
        assert f"on {mount}" in broken.problem and "graphguard neo4j stop" in broken.problem
        cli = subprocess.run(
            ["graphguard", "neo4j", "status", "--data-dir", str(home)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert cli.returncode == 4, cli.stdout + cli.stderr
        assert "disk is full" in cli.stdout

        # Make room and follow the recovery the message names.
        ballast.unlink()
        assert stop(home) is True
        try:
            again = start(home, port=free_port(), heap="512m")
        except BackendUnavailable as exc:
            assert "--repair-tx-log" in str(exc) and "will not come online" in str(exc)
            assert not status(home).running
            try:
                again = start(home, port=free_port(), heap="512m", repair_tx_log=True)
            except BackendUnavailable:
                shutil.copytree(home / "logs", tmp_path / "logs-of-the-repair")
                raise
        assert again.ready
        with neo4j.GraphDatabase.driver(again.uri, auth=(again.username, again.password)) as d:
            records, _, _ = d.execute_query(
                "MATCH (f:Filler) RETURN count(DISTINCT f.batch) AS batches, count(f) AS n"
            )
        # Every batch the server acknowledged is there, whole.
        assert records[0]["batches"] >= batches and records[0]["n"] == 400 * records[0]["batches"]
    finally:
        stop(mount / "neo4j")
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)


# --------------------------------------------------------------------------------------------
# the launcher's own logic, no JVM
# --------------------------------------------------------------------------------------------


def test_conf_bounds_memory_and_time_from_the_heap(tmp_path: Path) -> None:
    lines = neo4j_conf.neo4j_conf(tmp_path, 7687, "2g").splitlines()
    assert "db.memory.transaction.max=512m" in lines
    assert "dbms.memory.transaction.total.max=1024m" in lines
    assert "db.memory.transaction.total.max=1024m" in lines
    assert f"db.transaction.timeout={neo4j_conf.TRANSACTION_TIMEOUT}" in lines
    assert "server.memory.heap.max_size=2g" in lines
    # An out-of-memory error ends the query that caused it, not the JVM.
    assert "-XX:+ExitOnOutOfMemoryError" not in neo4j_conf.JVM_OPTIONS
    assert neo4j_conf.memory_limits("512m")["db.memory.transaction.max"] == "128m"


@pytest.mark.parametrize("heap", ["lots", "0g", "100m", "1t", ""])
def test_bad_or_tiny_heaps_are_usage_errors(heap: str) -> None:
    from graphguard.errors import UsageError

    with pytest.raises(UsageError, match="heap size"):
        neo4j_conf.heap_bytes(heap)


def test_require_free_space_refuses_with_the_device(tmp_path: Path) -> None:
    space = health.free_space(tmp_path / "not-yet" / "neo4j")
    assert space.total > 0 and space.mount.is_dir()
    assert health.require_free_space(tmp_path, 1) == health.free_space(tmp_path)
    with pytest.raises(BackendUnavailable, match=rf"MiB is free on {space.mount} "):
        health.require_free_space(tmp_path, space.total + 1)


def _debug_log(data_dir: Path, text: str) -> None:
    (data_dir / "logs").mkdir(parents=True, exist_ok=True)
    (data_dir / "logs" / "debug.log").write_text(
        "2026-01-01 INFO  [o.n.g.f.m.GlobalModule] Logging config in use: old start\n"
        "Caused by: java.io.IOException: No space left on device\n"
        "2026-01-02 INFO  [o.n.g.f.m.GlobalModule] Logging config in use: this start\n"
        + text
    )


def test_diagnose_names_the_cause_and_the_recovery(tmp_path: Path) -> None:
    _debug_log(
        tmp_path,
        "Caused by: java.lang.RuntimeException: Error reading transaction logs, recovery not "
        "possible. To force the database to start anyway, you can specify "
        "'internal.dbms.tx_log.fail_on_corrupted_log_files=false'.\n",
    )
    offline = health.DatabaseHealth("offline", "An error occurred! Unable to start", failed=True)
    message = health.diagnose(tmp_path, offline)
    assert "will not come online" in message and "partly written transaction" in message
    assert f"--data-dir {tmp_path} --repair-tx-log" in message and "MiB free of" in message

    # Only this start's lines count: the full disk of an older start is not the cause now.
    _debug_log(tmp_path, "Caused by: java.lang.IllegalStateException: store version\n")
    message = health.diagnose(tmp_path, offline)
    assert "disk" not in message and "IllegalStateException: store version" in message

    # A repair start that found no room either: the full disk is the cause to name.
    _debug_log(
        tmp_path,
        "Caused by: java.lang.RuntimeException: Error reading transaction logs, recovery not "
        "possible.\nCaused by: java.io.IOException: No space left on device\n",
    )
    message = health.diagnose(tmp_path, offline)
    assert "disk is full" in message and "--repair-tx-log" not in message

    panicked = health.DatabaseHealth("online", "No space left on device", failed=True)
    message = health.diagnose(tmp_path, panicked)
    assert "stopped because the disk is full" in message
    assert f"graphguard neo4j stop --data-dir {tmp_path} && graphguard neo4j start" in message

    starting = health.DatabaseHealth("starting")
    expected = "the neo4j database is not online yet (it is starting)"
    assert health.diagnose(tmp_path, starting) == expected


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_password_from_env_is_kept_owner_only(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("NEO4J_PASSWORD", "from-the-environment")
    assert srv._resolve_password(tmp_path) == "from-the-environment"
    assert stat.S_IMODE((tmp_path / "password").stat().st_mode) == 0o600
    assert srv._resolve_password(tmp_path) == "from-the-environment"  # stable
    monkeypatch.setenv("NEO4J_PASSWORD", "something-else")
    with pytest.raises(BackendUnavailable, match="differs"):
        srv._resolve_password(tmp_path)
    monkeypatch.delenv("NEO4J_PASSWORD")
    assert srv._resolve_password(tmp_path) == "from-the-environment"


def test_generated_password_and_short_env_password(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("NEO4J_PASSWORD", raising=False)
    (tmp_path / "a").mkdir()
    first = srv._resolve_password(tmp_path / "a")
    assert len(first) >= 16 and srv._resolve_password(tmp_path / "a") == first
    assert all(srv._generate_password()[0] != "-" for _ in range(200))
    (tmp_path / "b").mkdir()
    monkeypatch.setenv("NEO4J_PASSWORD", "short")
    with pytest.raises(BackendUnavailable, match="too short"):
        srv._resolve_password(tmp_path / "b")


def test_java_missing_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(BackendUnavailable, match=r"`java` is not on PATH"):
        start(tmp_path / "neo4j", port=free_port())


def test_maven_missing_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    java = shutil.which("java")
    if java is None:
        pytest.skip("no java here")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "java").symlink_to(os.path.realpath(java))
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(BackendUnavailable, match=r"`mvn` is not on PATH"):
        start(tmp_path / "neo4j", port=free_port())


def test_bad_heap_is_a_usage_error(tmp_path: Path) -> None:
    from graphguard.errors import UsageError

    with pytest.raises(UsageError, match="heap"):
        start(tmp_path / "neo4j", heap="lots")


def test_status_and_env_of_a_fresh_dir(tmp_path: Path) -> None:
    info = status(tmp_path / "nothing")
    assert not info.running and info.pid is None
    assert stop(tmp_path / "nothing") is False
    with pytest.raises(BackendUnavailable, match="graphguard neo4j start"):
        env_lines(tmp_path / "nothing")
