"""The local real Neo4j: start, status, auth, stop, restart with data kept, clear errors.

The tests marked ``neo4j`` start a real Neo4j 5.26 server (a JVM) on a free port in a
temporary directory: two full starts for the whole module plus two aborted ones. The others
check the launcher's own logic without a JVM.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import stat
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
    start,
    status,
    stop,
)
from graphguard.neo4j_local import server as srv  # noqa: E402


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


# --------------------------------------------------------------------------------------------
# the launcher's own logic, no JVM
# --------------------------------------------------------------------------------------------


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
