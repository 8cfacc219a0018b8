"""Keeps the local Neo4j JVM running: restarts it when it dies without being asked to stop.

``graphguard neo4j start`` runs this module as a small background process
(``python -m graphguard.neo4j_local.supervisor DATA_DIR``) that starts the JVM described
by ``<data-dir>/run/launch.json`` and waits for it.  When the JVM exits:

* after ``graphguard neo4j stop`` (a SIGTERM to this process, passed on to the JVM), or
  before it ever became ready (``start`` reports that failure itself), it exits too;
* otherwise — killed by the kernel's out-of-memory killer, by ``kill -9``, or ended by a
  hostile query — it writes a line to ``logs/restarts.log`` and starts the JVM again, at
  most :data:`MAX_RESTARTS` times in :data:`RESTART_WINDOW` seconds, so that a server that
  cannot stay up is not restarted for ever.

Every process it starts runs with umask 077: the store files, transaction logs, logs and
``auth.ini`` the JVM creates are readable by their owner only.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import deque
from pathlib import Path
from types import FrameType

__all__ = ["MAX_RESTARTS", "RESTART_WINDOW", "UMASK", "main"]

MAX_RESTARTS = 3
RESTART_WINDOW = 600.0
UMASK = 0o077
_READY_TIMEOUT = 300.0  # seconds a restarted JVM may take to answer on Bolt


def launch_file(data_dir: Path) -> Path:
    return data_dir / "run" / "launch.json"


def ready_file(data_dir: Path) -> Path:
    """Present while the JVM has answered at least once since it was (re)started."""
    return data_dir / "run" / "ready"


def exit_file(data_dir: Path) -> Path:
    """The last JVM's pid and exit code, for ``start`` to report a failed start."""
    return data_dir / "run" / "last-exit.json"


def supervisor_pid_file(data_dir: Path) -> Path:
    return data_dir / "run" / "supervisor.pid"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, owner-read/write only from creation."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def main(argv: list[str]) -> int:
    """Run the JVM of ``argv[0]`` (a data dir) until it is stopped; restart it if it dies."""
    os.umask(UMASK)
    data_dir = Path(argv[0])
    launch = json.loads(launch_file(data_dir).read_text(encoding="utf-8"))
    stopping = False
    child: subprocess.Popen[bytes] | None = None

    def on_stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    write_private(supervisor_pid_file(data_dir), f"{os.getpid()}\n")
    restarts: deque[float] = deque()
    try:
        while not stopping:
            child = _start_jvm(data_dir, launch)
            began = time.monotonic()
            code = _wait(child, data_dir, int(launch["port"]), lambda: stopping)
            write_private(exit_file(data_dir), json.dumps({"pid": child.pid, "code": code}))
            was_ready = ready_file(data_dir).exists()
            ready_file(data_dir).unlink(missing_ok=True)
            if stopping or not was_ready:
                break
            now = time.monotonic()
            restarts.append(now)
            while restarts and now - restarts[0] > RESTART_WINDOW:
                restarts.popleft()
            giving_up = len(restarts) > MAX_RESTARTS
            _record(
                data_dir,
                f"Neo4j (pid {child.pid}) exited with code {code} after "
                f"{now - began:.0f} s without being asked to stop; "
                + (
                    f"not restarting: it died {len(restarts)} times in {RESTART_WINDOW:.0f} s"
                    if giving_up
                    else "restarting it"
                ),
            )
            if giving_up:
                break
            time.sleep(1.0)
    finally:
        supervisor_pid_file(data_dir).unlink(missing_ok=True)
    return 0


def _start_jvm(data_dir: Path, launch: dict[str, object]) -> subprocess.Popen[bytes]:
    console = data_dir / "logs" / "console.log"
    fd = os.open(console, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "ab") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting Neo4j\n".encode())
        log.flush()
        child = subprocess.Popen(
            [str(part) for part in launch["cmd"]],  # type: ignore[attr-defined]
            cwd=str(launch["cwd"]),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            close_fds=True,
        )
    write_private(data_dir / "neo4j.pid", f"{child.pid}\n")
    return child


def _wait(child: subprocess.Popen[bytes], data_dir: Path, port: int, stopping: object) -> int:
    """Wait for the JVM to exit; mark it ready once Bolt answers (after a restart)."""
    from graphguard.neo4j_local.server import _bolt_answers

    deadline = time.monotonic() + _READY_TIMEOUT
    while True:
        try:
            return child.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            pass
        if (
            not ready_file(data_dir).exists()
            and time.monotonic() < deadline
            and not stopping()  # type: ignore[operator]
            and _bolt_answers(port, timeout=1.0)
        ):
            write_private(ready_file(data_dir), f"{child.pid}\n")


def _record(data_dir: Path, message: str) -> None:
    line = f"{time.strftime('%Y-%m-%dT%H:%M:%S%z')} {message}\n"
    fd = os.open(data_dir / "logs" / "restarts.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(line)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
