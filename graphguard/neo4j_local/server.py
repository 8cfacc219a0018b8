"""Start, stop and inspect a local real Neo4j 5.26 LTS Community server.

The server is the one the standalone distribution runs: its entry class
``org.neo4j.server.CommunityEntryPoint`` (the ``neo4j.mainClass`` property of
``org.neo4j.assembly:neo4j-community-standalone``), on a classpath that Maven resolves from
Maven Central through ``pom.xml`` beside this file (``org.neo4j:neo4j`` and
``org.neo4j.app:neo4j-server``), configured by a generated ``neo4j.conf``.

Everything lives in one data directory (default ``.graphguard/neo4j``)::

    <data-dir>/
        password          the neo4j user's password (mode 0600)
        server.json       port, uri, pid, heap, version of the last start
        neo4j.pid         the JVM's pid while it runs
        build/            classpath.txt resolved by Maven, maven.log
        conf/neo4j.conf   generated on every start
        data/             databases, transactions, dbms/auth.ini
        logs/             console.log (JVM stdout/stderr), neo4j.log, debug.log
        run/ import/ plugins/

Bolt listens on 127.0.0.1 only; the HTTP and HTTPS connectors are off; authentication is on.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from graphguard.errors import BackendUnavailable, UsageError
from graphguard.neo4j_local.conf import JVM_OPTIONS, PAGECACHE, heap_bytes, neo4j_conf
from graphguard.neo4j_local.health import DATABASE, DatabaseHealth, database_health, diagnose
from graphguard.neo4j_local.supervisor import (
    UMASK,
    exit_file,
    launch_file,
    ready_file,
    supervisor_pid_file,
    write_private,
)

__all__ = [
    "ADMIN_CLASS",
    "MAIN_CLASS",
    "NEO4J_VERSION",
    "ServerInfo",
    "env_lines",
    "free_port",
    "run_admin",
    "start",
    "status",
    "stop",
]

NEO4J_VERSION = "5.26.30"
"""The Neo4j version ``pom.xml`` pins (the newest 5.26 LTS patch on Maven Central)."""

MAIN_CLASS = "org.neo4j.server.CommunityEntryPoint"
"""The standalone distribution's entry class (``neo4j.mainClass`` of its POM)."""

ADMIN_CLASS = "org.neo4j.cli.AdminTool"
"""``neo4j-admin``'s entry class; used for ``dbms set-initial-password``."""

USERNAME = "neo4j"
DEFAULT_DATA_DIR = Path(".graphguard/neo4j")
MIN_PASSWORD_LENGTH = 8  # Neo4j's dbms.security.auth_minimum_password_length default
MAVEN_TIMEOUT = 1800.0  # a first resolution downloads ~125 MB
POM = Path(__file__).with_name("pom.xml")

_BOLT_MAGIC = b"\x60\x60\xb0\x17"
# Bolt handshake proposals: 5.x (range 5.0-5.8), 4.4-4.2, 4.1, 3.0. Any server answers one.
_BOLT_PROPOSALS = b"\x00\x08\x08\x05\x00\x02\x04\x04\x00\x00\x01\x04\x00\x00\x00\x03"


class _Daemon(subprocess.Popen[bytes]):
    """A server meant to outlive this process: no "still running" ResourceWarning at exit."""

    def __del__(self) -> None:
        if self.returncode is not None:
            super().__del__()


# The JVMs this process started, so that they can be reaped (no zombies while we live).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class ServerInfo:
    """Where a local Neo4j is, how to log in to it, and whether its database can be used.

    ``running`` says the JVM is alive and Bolt answers; ``database`` is the ``neo4j``
    database's status (``online``, ``offline``, ``starting`` … or ``unknown``) and
    ``problem`` why it cannot be used, with the recovery step, or None.  Only a server that
    is :attr:`ready` can be used.
    """

    uri: str  # "bolt://127.0.0.1:PORT"
    username: str  # "neo4j"
    password: str
    pid: int | None
    data_dir: Path
    running: bool
    database: str = "unknown"
    problem: str | None = None

    @property
    def ready(self) -> bool:
        return self.running and self.database == "online" and self.problem is None


# ---------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def status(data_dir: Path = DEFAULT_DATA_DIR) -> ServerInfo:
    """The local server of ``data_dir``: running when its JVM is alive and Bolt answers.

    A running server is asked about its ``neo4j`` database (see :attr:`ServerInfo.ready`);
    when that cannot be used, ``problem`` says why (read from the server's ``debug.log``)
    and what to do.
    """
    data_dir = _abs(data_dir)
    state = _read_state(data_dir)
    port = _state_port(state, 7687)
    pid = _live_pid(data_dir)
    running = pid is not None and _bolt_answers(port)
    password = _stored_password(data_dir) or os.environ.get("NEO4J_PASSWORD", "")
    database, problem = "unknown", None
    if running:
        health = _health(port, password)
        database = health.status
        if not health.usable:
            problem = diagnose(data_dir, health)
    return ServerInfo(
        uri=_uri(port),
        username=USERNAME,
        password=password,
        pid=pid,
        data_dir=data_dir,
        running=running,
        database=database,
        problem=problem,
    )


def _health(port: int, password: str) -> DatabaseHealth:
    import neo4j
    from neo4j.exceptions import AuthError

    try:
        with neo4j.GraphDatabase.driver(
            _uri(port), auth=(USERNAME, password), connection_timeout=5.0
        ) as driver:
            return database_health(driver)
    except AuthError as exc:
        return DatabaseHealth("unknown", f"the server refused the password: {exc.message}")
    except Exception as exc:
        return DatabaseHealth("unknown", f"{type(exc).__name__}: {exc}")


def start(
    data_dir: Path = DEFAULT_DATA_DIR,
    port: int = 7687,
    heap: str = "1g",
    timeout: float = 180.0,
    progress: Callable[[str], None] | None = None,
    allow_csv_import: bool = False,
    repair_tx_log: bool = False,
) -> ServerInfo:
    """Start the local Neo4j of ``data_dir`` in the background; wait until its database is online.

    Idempotent: when that data directory's server already runs, its info is returned (on the
    port it runs on, with the settings it was started with). The first start resolves Neo4j
    from Maven Central and sets the initial password (``NEO4J_PASSWORD``, or a generated one
    kept in ``<data-dir>/password``).
    Raises :class:`~graphguard.errors.BackendUnavailable` with one line when it cannot.

    Ready means the ``neo4j`` database is online and takes a transaction, not only that
    Bolt answers; a database that fails to come online is reported with its cause and the
    recovery step (and the server is stopped).  The JVM runs under a supervisor
    (:mod:`graphguard.neo4j_local.supervisor`) that restarts it if it dies without being
    stopped, with umask 077 so that everything it writes is owner-only.

    ``LOAD CSV`` from ``file:///`` URLs (the import folder) is off
    (``dbms.security.allow_csv_import_from_file_urls=false``) unless ``allow_csv_import``
    is true, as a benchmark that loads CSV files needs.

    ``repair_tx_log`` starts once with Neo4j's
    ``internal.dbms.tx_log.fail_on_corrupted_log_files=false``: a transaction log cut short
    (a disk that filled during a write) is truncated after its last whole transaction, so
    the database comes online with every committed transaction.
    """
    say = progress or (lambda _msg: None)
    heap_bytes(heap)  # a bad size is a usage error before anything starts
    if not 0 < port < 65536:
        raise UsageError(f"bad port {port}: use 1-65535")
    data_dir = _abs(data_dir)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Owner-only whatever an older version or a umask made of it: inside are the store,
    # the transaction logs and auth.ini.
    os.chmod(data_dir, 0o700)

    with _lock(data_dir):
        pid = _live_pid(data_dir)
        supervisor = _live_supervisor(data_dir)
        if pid is not None or supervisor is not None:
            running_port = _state_port(_read_state(data_dir), port)
            # Another start of this data dir, or a restart after a crash, is under way.
            say(f"Neo4j is already running or starting in {data_dir}; waiting for it…")
            password = _stored_password(data_dir) or ""
            pid = _await_pid(data_dir, supervisor, timeout)
            _wait_ready(data_dir, pid, running_port, password, timeout, own=False)
            return status(data_dir)
        _pid_file(data_dir).unlink(missing_ok=True)

        java = _find_java()
        _check_java_version(java)
        if not _port_free(port):
            raise BackendUnavailable(
                f"port {port} on 127.0.0.1 is already in use (another Neo4j?); "
                "choose another with --port, or stop what listens there"
            )
        password = _resolve_password(data_dir)
        classpath = _classpath(data_dir, say)
        home = data_dir
        for sub in ("conf", "data", "logs", "run", "import", "plugins"):
            (home / sub).mkdir(mode=0o700, exist_ok=True)
        conf = neo4j_conf(home, port, heap, allow_csv_import=allow_csv_import)
        if repair_tx_log:
            say("this start truncates a transaction log cut short after its last whole transaction")
            conf += "internal.dbms.tx_log.fail_on_corrupted_log_files=false\n"
        write_private(home / "conf" / "neo4j.conf", conf)
        _set_initial_password(java, classpath, home, password, say)

        say(f"starting Neo4j {NEO4J_VERSION} on {_uri(port)} (heap {heap})…")
        cmd = [
            java,
            f"-Xms{heap}",
            f"-Xmx{heap}",
            *JVM_OPTIONS,
            "-cp",
            classpath,
            MAIN_CLASS,
            f"--home-dir={home}",
            f"--config-dir={home / 'conf'}",
        ]
        write_private(
            launch_file(data_dir), json.dumps({"cmd": cmd, "cwd": str(home), "port": port})
        )
        for stale in (ready_file(data_dir), exit_file(data_dir)):
            stale.unlink(missing_ok=True)
        proc = _start_supervisor(data_dir)
        pid = _await_pid(data_dir, proc.pid, timeout)
        _write_state(
            data_dir,
            {
                "port": port,
                "uri": _uri(port),
                "pid": pid,
                "supervisor_pid": proc.pid,
                "heap": heap,
                "pagecache": PAGECACHE,
                "neo4j_version": NEO4J_VERSION,
                "allow_csv_import": allow_csv_import,
                "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            },
        )
        say("waiting for the database to come online…")
        began = time.monotonic()
        _wait_ready(data_dir, pid, port, password, timeout, own=True)
        say(f"Neo4j is ready on {_uri(port)} ({time.monotonic() - began:.1f} s)")
        return status(data_dir)


def _start_supervisor(data_dir: Path) -> subprocess.Popen[bytes]:
    """Start :mod:`graphguard.neo4j_local.supervisor` for ``data_dir`` in its own session."""
    package_root = str(Path(__file__).resolve().parents[2])
    path = os.environ.get("PYTHONPATH")
    env = dict(os.environ, PYTHONPATH=package_root + (os.pathsep + path if path else ""))
    fd = os.open(
        data_dir / "logs" / "supervisor.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600
    )
    with os.fdopen(fd, "ab") as log:
        proc = _Daemon(
            [sys.executable, "-m", "graphguard.neo4j_local.supervisor", str(data_dir)],
            cwd=data_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            umask=UMASK,
        )
    _CHILDREN[proc.pid] = proc
    return proc


def _live_supervisor(data_dir: Path) -> int | None:
    """The pid of the supervisor of ``data_dir`` while it runs."""
    try:
        pid = int(supervisor_pid_file(data_dir).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    if pid <= 0 or not _alive(pid):
        return None
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return pid  # no procfs: trust the pid file
    ours = b"graphguard.neo4j_local.supervisor" in argv and str(data_dir).encode() in argv
    return pid if ours else None


def _await_pid(data_dir: Path, supervisor: int | None, timeout: float) -> int:
    """The JVM's pid, once the supervisor has started it (it writes ``neo4j.pid``)."""
    deadline = time.monotonic() + min(timeout, 60.0)
    while True:
        pid = _live_pid(data_dir)
        if pid is not None:
            return pid
        if supervisor is None or not _alive(supervisor) or time.monotonic() >= deadline:
            lines = _start_failure_lines(data_dir)
            code = _exit_code(data_dir, -1)
            raise BackendUnavailable(
                f"Neo4j died while starting (exit {code if code is not None else '?'}): "
                f"{' | '.join(lines) or 'no log output'} (logs: {data_dir / 'logs'})"
            )
        time.sleep(0.1)


def stop(data_dir: Path = DEFAULT_DATA_DIR, timeout: float = 60.0) -> bool:
    """Shut the local server of ``data_dir`` down cleanly (SIGTERM, then wait); data is kept.

    Returns False when nothing was running. A server that has not stopped after ``timeout``
    seconds is killed (Neo4j recovers from its transaction log at the next start).
    """
    data_dir = _abs(data_dir)
    if not data_dir.is_dir():
        return False
    with _lock(data_dir):
        return _stop_all(data_dir, timeout)


def _stop_all(data_dir: Path, timeout: float) -> bool:
    """Stop the supervisor first (so it restarts nothing), then the JVM; True if either ran."""
    supervisor = _live_supervisor(data_dir)
    if supervisor is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(supervisor, signal.SIGTERM)  # it passes SIGTERM on to the JVM
    pid = _live_pid(data_dir)
    if pid is not None:
        _terminate(pid, timeout)
    if supervisor is not None:
        _terminate(supervisor, 10.0)
    _pid_file(data_dir).unlink(missing_ok=True)
    return pid is not None or supervisor is not None


def env_lines(data_dir: Path = DEFAULT_DATA_DIR) -> list[str]:
    """``export NEO4J_URI=…``, ``NEO4J_USERNAME``, ``NEO4J_PASSWORD`` lines for a shell's eval."""
    data_dir = _abs(data_dir)
    state = _read_state(data_dir)
    password = _stored_password(data_dir)
    if not state or password is None:
        raise BackendUnavailable(
            f"no local Neo4j has been started in {data_dir}; run `graphguard neo4j start` first"
        )
    return [
        f"export NEO4J_URI={shlex.quote(_uri(_state_port(state, 7687)))}",
        f"export NEO4J_USERNAME={shlex.quote(USERNAME)}",
        f"export NEO4J_PASSWORD={shlex.quote(password)}",
    ]


# ---------------------------------------------------------------------------------------------
# files in the data directory
# ---------------------------------------------------------------------------------------------


def _abs(data_dir: Path) -> Path:
    return Path(data_dir).expanduser().resolve()


def _uri(port: int) -> str:
    return f"bolt://127.0.0.1:{port}"


def _pid_file(data_dir: Path) -> Path:
    return data_dir / "neo4j.pid"


def _state_port(state: dict[str, object], default: int) -> int:
    value = state.get("port", default)
    return value if isinstance(value, int) else default


def _read_state(data_dir: Path) -> dict[str, object]:
    try:
        state = json.loads((data_dir / "server.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _write_state(data_dir: Path, state: dict[str, object]) -> None:
    write_private(data_dir / "server.json", json.dumps(state, indent=2) + "\n")


@contextlib.contextmanager
def _lock(data_dir: Path) -> Iterator[None]:
    """Serialise start/stop of one data directory across processes."""
    fd = os.open(data_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(fd, "r+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _stored_password(data_dir: Path) -> str | None:
    try:
        return (data_dir / "password").read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _resolve_password(data_dir: Path) -> str:
    """The neo4j user's password for this data dir; chosen and saved (0600) on first start."""
    path = data_dir / "password"
    env = os.environ.get("NEO4J_PASSWORD") or None
    stored = _stored_password(data_dir)
    if stored is not None:
        if env is not None and env != stored:
            raise BackendUnavailable(
                f"NEO4J_PASSWORD differs from the password {data_dir} was set up with "
                f"(kept in {path}); unset NEO4J_PASSWORD or use another --data-dir"
            )
        os.chmod(path, 0o600)
        return stored
    if (data_dir / "data" / "databases" / "system").exists() and env is None:
        raise BackendUnavailable(
            f"{data_dir} holds a Neo4j database but no password file; set NEO4J_PASSWORD to "
            "its password, or remove the directory to start afresh"
        )
    password = env if env is not None else _generate_password()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BackendUnavailable(
            f"NEO4J_PASSWORD is too short: Neo4j needs at least {MIN_PASSWORD_LENGTH} characters"
        )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(password + "\n")
    os.chmod(path, 0o600)
    return password


def _generate_password() -> str:
    """24 URL-safe characters that start with a letter or digit (never an option-like ``-``)."""
    while True:
        password = secrets.token_urlsafe(18)
        if password[0].isalnum():
            return password


# ---------------------------------------------------------------------------------------------
# Java, Maven
# ---------------------------------------------------------------------------------------------


def _find_java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("java")
    if found is None:
        raise BackendUnavailable(
            "Java 17 or 21 is needed to run Neo4j 5.26, but `java` is not on PATH "
            "(install OpenJDK 17, e.g. `apt-get install openjdk-17-jdk-headless`)"
        )
    return found


def _check_java_version(java: str) -> None:
    try:
        out = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BackendUnavailable(f"cannot run {java}: {exc}") from exc
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if match is None:
        return  # an unusual build; let Neo4j itself complain if it must
    major = int(match.group(1))
    if major == 1 and match.group(2):
        major = int(match.group(2))  # "1.8.0_…"
    if major < 17:
        raise BackendUnavailable(
            f"Neo4j 5.26 needs Java 17 or 21, but {java} is Java {major} "
            "(install OpenJDK 17 or set JAVA_HOME to one)"
        )


def _pom_digest() -> str:
    return hashlib.sha256(POM.read_bytes()).hexdigest()


def _classpath(data_dir: Path, say: Callable[[str], None]) -> str:
    """The server's classpath: cached in ``<data-dir>/build``, resolved by Maven when needed."""
    build = data_dir / "build"
    cp_file = build / "classpath.txt"
    digest_file = build / "pom.sha256"
    digest = _pom_digest()
    with contextlib.suppress(OSError):
        if digest_file.read_text(encoding="utf-8").strip() == digest:
            classpath = cp_file.read_text(encoding="utf-8").strip()
            if classpath and all(Path(p).is_file() for p in classpath.split(os.pathsep)):
                return classpath
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BackendUnavailable(
            "Maven is needed to fetch Neo4j from Maven Central on first use, but `mvn` is not "
            "on PATH (install Maven 3, e.g. `apt-get install maven`)"
        )
    build.mkdir(parents=True, exist_ok=True)
    say(f"resolving Neo4j {NEO4J_VERSION} from Maven Central (first run only)…")
    log_path = build / "maven.log"
    cmd = [
        mvn,
        "-B",
        "-q",
        "-f",
        str(POM),
        "dependency:build-classpath",
        f"-Dmdep.outputFile={cp_file}",
    ]
    began = time.monotonic()
    with open(log_path, "wb") as log:
        try:
            done = subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=MAVEN_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise BackendUnavailable(
                f"Maven did not resolve Neo4j within {MAVEN_TIMEOUT:.0f} s (log: {log_path})"
            ) from exc
    if done.returncode != 0 or not cp_file.is_file():
        tail = _last_lines(log_path, 10, skip_frames=True)
        raise BackendUnavailable(
            f"Maven could not resolve Neo4j {NEO4J_VERSION} from Maven Central "
            f"(exit {done.returncode}): {' | '.join(tail) or 'no output'} (log: {log_path})"
        )
    digest_file.write_text(digest + "\n", encoding="utf-8")
    say(f"resolved Neo4j {NEO4J_VERSION} in {time.monotonic() - began:.0f} s")
    return cp_file.read_text(encoding="utf-8").strip()


def _set_initial_password(
    java: str, classpath: str, home: Path, password: str, say: Callable[[str], None]
) -> None:
    """``neo4j-admin dbms set-initial-password`` before the very first start."""
    if (home / "data" / "databases" / "system").exists():
        return  # the system database already holds the users
    say("setting the initial password…")
    # The password may start with "-": "--" ends the options.  The tool creates
    # data/dbms/auth.ini, owner-only from creation (run_admin's umask).
    run_admin(
        java,
        classpath,
        home,
        ["dbms", "set-initial-password", "--", password],
        what="neo4j-admin set-initial-password",
        heap="256m",
        timeout=300,
    )


def run_admin(
    java: str,
    classpath: str,
    home: Path,
    arguments: list[str],
    *,
    what: str,
    heap: str,
    timeout: float,
    reason_lines: int = 5,
) -> None:
    """Run ``neo4j-admin`` (``ADMIN_CLASS``) with ``arguments`` against the server in ``home``.

    Owner-only from creation (``UMASK``), no input, output captured.

    Raises
    ------
    BackendUnavailable
        ``"{what} failed: …"`` in one line: the error, or the tool's last
        ``reason_lines`` lines of output (Java stack frames left out).
    """
    env = dict(os.environ, NEO4J_HOME=str(home), NEO4J_CONF=str(home / "conf"))
    try:
        done = subprocess.run(
            [java, f"-Xmx{heap}", "-cp", classpath, ADMIN_CLASS, *arguments],
            env=env,
            cwd=home,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            umask=UMASK,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BackendUnavailable(f"{what} failed: {exc}") from None
    if done.returncode != 0:
        lines = [ln.strip() for ln in (done.stderr + done.stdout).splitlines() if ln.strip()]
        lines = [ln for ln in lines if not ln.startswith("at ")][-reason_lines:]
        raise BackendUnavailable(f"{what} failed: " + (" | ".join(lines) or "no output"))


# ---------------------------------------------------------------------------------------------
# processes, ports
# ---------------------------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (zombies count as dead; our own dead children are reaped)."""
    proc = _CHILDREN.get(pid)
    if proc is not None:
        if proc.poll() is None:
            return True
        _CHILDREN.pop(pid, None)
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs: trust kill(0)
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _is_our_server(pid: int, data_dir: Path) -> bool:
    """The pid is a Neo4j JVM started for this data dir (guards against reused pids)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no procfs: trust the pid file
    return MAIN_CLASS.encode() in argv and f"--home-dir={data_dir}".encode() in argv


def _live_pid(data_dir: Path) -> int | None:
    try:
        pid = int(_pid_file(data_dir).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    if pid > 0 and _alive(pid) and _is_our_server(pid, data_dir):
        return pid
    return None


def _terminate(pid: int, timeout: float) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _bolt_answers(port: int, timeout: float = 2.0) -> bool:
    """A Bolt server on 127.0.0.1:port completes the version handshake."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(_BOLT_MAGIC + _BOLT_PROPOSALS)
            answer = b""
            while len(answer) < 4:
                chunk = s.recv(4 - len(answer))
                if not chunk:
                    return False
                answer += chunk
    except OSError:
        return False
    return answer != b"\x00\x00\x00\x00"


def _wait_ready(
    data_dir: Path, pid: int, port: int, password: str, timeout: float, *, own: bool
) -> None:
    """Wait until the driver logs in over Bolt; raise one clear line when it cannot."""
    try:
        import neo4j
        from neo4j.exceptions import AuthError
    except ImportError as exc:  # pragma: no cover - neo4j is a dependency of graphguard
        raise BackendUnavailable("the neo4j Python driver is missing: pip install neo4j") from exc

    deadline = time.monotonic() + timeout
    last_error = "no answer"
    while True:
        if not _alive(pid):
            _pid_file(data_dir).unlink(missing_ok=True)
            code = _exit_code(data_dir, pid)
            lines = _start_failure_lines(data_dir)
            raise BackendUnavailable(
                f"Neo4j died while starting (exit {code if code is not None else '?'}): "
                f"{' | '.join(lines) or 'no log output'} "
                f"(logs: {data_dir / 'logs'})"
            )
        if _bolt_answers(port, timeout=1.0):
            driver = neo4j.GraphDatabase.driver(
                _uri(port), auth=(USERNAME, password), connection_timeout=5.0
            )
            try:
                driver.verify_connectivity()
                health = database_health(driver)
                if health.usable:
                    return
                if health.failed:
                    problem = diagnose(data_dir, health)
                    if own:
                        _stop_all(data_dir, 30.0)
                        problem += " (the server was stopped)"
                    raise BackendUnavailable(problem)
                last_error = f"the {DATABASE} database is {health.status}"
                if health.message:
                    last_error += f": {health.message}"
            except AuthError as exc:
                if own:
                    _stop_all(data_dir, 30.0)
                raise BackendUnavailable(
                    f"Neo4j on {_uri(port)} rejected the password kept in "
                    f"{data_dir / 'password'} ({exc.message}); remove {data_dir} to start afresh"
                ) from exc
            except BackendUnavailable:
                raise
            except Exception as exc:  # still starting: ServiceUnavailable, DatabaseUnavailable…
                last_error = f"{type(exc).__name__}: {exc}"
            finally:
                driver.close()
        if time.monotonic() >= deadline:
            if own:
                _stop_all(data_dir, 30.0)
            raise BackendUnavailable(
                f"Neo4j did not answer on {_uri(port)} within {timeout:.0f} s "
                f"({last_error}); it was stopped (logs: {data_dir / 'logs'})"
            )
        time.sleep(0.25)


def _exit_code(data_dir: Path, pid: int) -> int | None:
    """The exit code the supervisor recorded for the JVM ``pid`` (any JVM: -1), if any yet."""
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
            found = json.loads(exit_file(data_dir).read_text(encoding="utf-8"))
            if pid < 0 or found["pid"] == pid:
                return int(found["code"])
        time.sleep(0.1)
    return None


def _last_lines(path: Path, n: int, *, skip_frames: bool = False) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if skip_frames:
        lines = [
            ln
            for ln in lines
            if not ln.startswith("at ") and not re.match(r"^\.\.\. \d+ more$", ln)
        ]
    return lines[-n:]


def _start_failure_lines(data_dir: Path, n: int = 10) -> list[str]:
    """The lines that tell why a start failed: the JVM's console, then neo4j.log's errors."""
    console = data_dir / "logs" / "console.log"
    lines: list[str] = []
    with contextlib.suppress(OSError):
        text = console.read_text(encoding="utf-8", errors="replace")
        last_run = text.rsplit("=== ", 1)[-1].splitlines()[1:]  # after our start marker
        lines = [
            ln.strip()
            for ln in last_run
            if ln.strip()
            and not ln.strip().startswith("at ")
            and not re.match(r"^\.\.\. \d+ more$", ln.strip())
        ]
    if len(lines) < n:
        recent = _last_lines(data_dir / "logs" / "neo4j.log", 400)
        starts = [i for i, ln in enumerate(recent) if ln.endswith("INFO  Starting...")]
        this_run = recent[starts[-1] :] if starts else recent
        problems = [ln for ln in this_run if " ERROR " in ln or " WARN " in ln]
        lines = problems[-(n - len(lines)) :] + lines
    return lines[-n:]
