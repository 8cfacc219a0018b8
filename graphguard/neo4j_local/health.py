"""Is the local server's database usable, and if not, why and what to do; free disk space.

A server whose Bolt port answers is not yet a server that can be used: the ``neo4j``
database may still be starting, may have failed to start (a transaction log cut short by a
full disk cannot be recovered as it is), or may have stopped itself after a critical
error (a write that found no room left).  :func:`database_health` asks the server
(``SHOW DATABASE neo4j`` on the system database, then a probe transaction on the
database itself), and :func:`diagnose` reads the server's ``debug.log`` for the cause and
names the recovery step.  :func:`free_space` and :func:`require_free_space` let a loader
refuse before a load that obviously cannot fit.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphguard.errors import BackendUnavailable

__all__ = [
    "DATABASE",
    "DatabaseHealth",
    "DiskSpace",
    "database_health",
    "diagnose",
    "free_space",
    "require_free_space",
]

DATABASE = "neo4j"
"""The database graphguard uses on the local server (Neo4j's default)."""

_MIB = 1 << 20
# What Neo4j's logs say when a write found no room.
_DISK_FULL = ("No space left on device", "out of disk space")
# How much of debug.log to read for a cause: its last few megabytes hold the last start.
_LOG_TAIL = 4 * _MIB


@dataclass(frozen=True)
class DatabaseHealth:
    """What the server says of the ``neo4j`` database.

    ``status`` is the server's ``currentStatus`` (``online``, ``offline``, ``starting`` …)
    or ``unknown``; ``message`` its ``statusMessage`` or the probe's error, empty when the
    database is usable; ``failed`` says it will not come online by waiting.
    """

    status: str
    message: str = ""
    failed: bool = False

    @property
    def usable(self) -> bool:
        return self.status == "online" and not self.message


def database_health(driver: Any) -> DatabaseHealth:
    """Ask the server, through ``driver``, whether the ``neo4j`` database can be used.

    A database that is ``online`` but has stopped itself after a critical error (Neo4j
    calls it a panic; it keeps ``online`` and sets a status message) fails the probe
    transaction and is reported as failed with that message.
    """
    try:
        # A session's auto-commit run, not execute_query: that would retry a database that
        # is still starting for half a minute before answering.
        with driver.session(database="system") as session:
            records = list(
                session.run(
                    "SHOW DATABASE $name YIELD currentStatus, requestedStatus, statusMessage",
                    name=DATABASE,
                )
            )
    except Exception as exc:  # the system database itself is still starting
        return DatabaseHealth("unknown", _first_line(str(exc)))
    if not records:
        return DatabaseHealth("unknown", f"the server has no database called {DATABASE}")
    current = str(records[0]["currentStatus"])
    requested = str(records[0]["requestedStatus"])
    message = str(records[0]["statusMessage"] or "")
    if current != "online":
        # Asked to be online but offline with a reason: its start failed, waiting won't help.
        failed = requested == "online" and current == "offline" and bool(message)
        return DatabaseHealth(current, message, failed=failed)
    try:
        with driver.session(database=DATABASE) as session:
            session.run("RETURN 1").consume()
    except Exception as exc:
        probe = getattr(exc, "message", None) or str(exc)
        # A database error (not a transient one, such as a database still opening) means
        # the database has stopped itself: waiting will not help.
        code = str(getattr(exc, "code", None) or "")
        failed = bool(message) or code.startswith("Neo.DatabaseError")
        return DatabaseHealth("online", message or _first_line(probe), failed=failed)
    return DatabaseHealth("online", message, failed=bool(message))


def diagnose(data_dir: Path, health: DatabaseHealth) -> str:
    """One line: why the ``neo4j`` database of ``data_dir`` cannot be used, and what to do.

    Reads the cause from ``logs/debug.log`` (a full disk, a transaction log that cannot
    be recovered) and names the recovery step with the commands to run.
    """
    log = _log_tail(data_dir / "logs" / "debug.log")
    space = free_space(data_dir)
    where = f"{space.free // _MIB} MiB free of {space.total // _MIB} MiB on {space.mount}"
    dd = shlex_path(data_dir)
    restart = f"graphguard neo4j stop --data-dir {dd} && graphguard neo4j start --data-dir {dd}"
    cause = health.message or f"it is {health.status}"
    if not health.failed:
        return f"the {DATABASE} database is not online yet ({cause})"
    # This start's own log decides: a full disk first (it is also why a repair fails), then
    # a transaction log that a full disk cut short.
    if any(marker in cause or marker in log for marker in _DISK_FULL):
        return (
            f"the {DATABASE} database stopped because the disk is full ({cause}; {where}); "
            "make room on the disk (Neo4j grows its store files 64 MiB at a time), then "
            f"restart it: {restart}"
        )
    unrecoverable_log = "recovery not possible" in log or "fail_on_corrupted_log_files" in log
    if unrecoverable_log and health.status != "online":
        return (
            f"the {DATABASE} database will not come online: its transaction log ends in a "
            f"partly written transaction (a write that found the disk full; {where}); make "
            f"room on the disk, then run `graphguard neo4j stop --data-dir {dd}` and "
            f"`graphguard neo4j start --data-dir {dd} --repair-tx-log`, which keeps every "
            "committed transaction and drops the partial one, then run the load again"
        )
    found = _last_cause(log)
    return (
        f"the {DATABASE} database cannot be used: {cause}"
        + (f" ({found})" if found and found not in cause else "")
        + f"; see {data_dir / 'logs' / 'debug.log'}, then restart it: {restart}"
    )


@dataclass(frozen=True)
class DiskSpace:
    """Free and total bytes of the file system that holds a path, and its mount point."""

    path: Path
    mount: Path
    free: int
    total: int


def free_space(data_dir: Path) -> DiskSpace:
    """The free space where the Neo4j data of ``data_dir`` is written.

    ``free`` counts the bytes an unprivileged writer may use (a root-owned process may use
    a reserve beyond it on some file systems).  ``data_dir`` need not exist yet: its
    nearest existing parent is measured.

    Examples
    --------
    >>> space = free_space(Path("."))
    >>> 0 <= space.free <= space.total
    True
    """
    path = Path(data_dir).expanduser().resolve()
    data = path / "data"
    probe = data if data.exists() else path
    while not probe.exists():
        probe = probe.parent
    usage = shutil.disk_usage(probe)
    return DiskSpace(path=path, mount=_mount_point(probe), free=usage.free, total=usage.total)


def require_free_space(data_dir: Path, needed: int) -> DiskSpace:
    """Refuse, with one line, when fewer than ``needed`` bytes are free for ``data_dir``.

    A loader calls it before a load with its own estimate of what the load writes (the
    store and the transaction log each hold the data once, so about three times the
    dataset's size, plus a margin, is a fair estimate).

    Raises
    ------
    BackendUnavailable
        When the disk is obviously too small, naming the device and what is free.
    """
    space = free_space(data_dir)
    if space.free < needed:
        raise BackendUnavailable(
            f"only {space.free // _MIB} MiB is free on {space.mount} for the Neo4j data in "
            f"{space.path}, and this load needs about {-(-needed // _MIB)} MiB: make room "
            "first (a load that fills the disk stops the database)"
        )
    return space


def shlex_path(path: Path) -> str:
    """``path`` quoted for a shell command line in a message."""
    import shlex

    return shlex.quote(str(path))


def _mount_point(path: Path) -> Path:
    path = path.resolve()
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return path


def _log_tail(path: Path) -> str:
    """The last part of a log, from the server's last start on (where the cause is)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - _LOG_TAIL))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    # Each start of the server opens with the line naming its logging configuration.
    starts = [m.start() for m in re.finditer(r"Logging config in use", text)]
    return text[starts[-1] :] if starts else text


def _last_cause(log: str) -> str:
    causes = re.findall(r"Caused by: ([^\n]{1,300})", log)
    return causes[-1].strip() if causes else ""


def _first_line(text: str) -> str:
    text = text.strip()
    return text.splitlines()[0] if text else ""
