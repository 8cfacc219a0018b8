"""One load at a time per database: a lock held in Neo4j itself.

Two analysts loading into one database at once interleave their batches, and each
decides from what it read before the other wrote: the database can end up with one
link id on two relationships.  So every writer (``load``, ``check --repair``, ``clear``)
first takes the database's load lock:

* the lock is a ``GraphguardLock`` node whose ``name`` is unique (a constraint), created
  in its own transaction, so exactly one of two writers can take it; it records who
  holds it (purpose, user, host, pid, when it was taken);
* the holder keeps it alive: a background thread touches it every few seconds, and so
  does every write transaction of the load, as its first statement.  That statement
  also checks the lock is still this writer's, so a writer whose lock was taken over
  (it was paused for longer than the lock's lifetime) writes nothing more;
* it is released in a ``finally``; a writer that was killed leaves it behind, and the
  next writer takes it over at once when the holder ran on this host and its process is
  gone, or when it has not been touched for ``stale_after`` seconds (any host);
* a second writer waits for the lock up to ``wait`` seconds, then is refused with a
  message naming the holder.
"""

from __future__ import annotations

import getpass
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from graphguard.errors import RefusedError
from graphguard.store import queries

__all__ = ["LoadLock", "LockHolder", "LoadLockHeld", "LoadLockLost"]

#: Seconds between the holder's touches of the lock.
HEARTBEAT_SECONDS = 5.0
#: Seconds without a touch after which a lock counts as abandoned.
STALE_SECONDS = 30.0
#: Seconds between two looks at a lock somebody else holds.
POLL_SECONDS = 0.5


class LoadLockHeld(RefusedError):
    """Another writer held the database's load lock for longer than we would wait."""


class LoadLockLost(RefusedError):
    """Our lock was taken over while we held it: we stopped writing."""


@dataclass(frozen=True)
class LockHolder:
    """Who holds a lock, as recorded on its node."""

    token: str
    purpose: str
    user: str
    host: str
    pid: int
    started: str
    idle_seconds: int

    @classmethod
    def from_record(cls, record: Any) -> LockHolder:
        return cls(
            token=str(record["token"]),
            purpose=str(record["purpose"] or "a load"),
            user=str(record["user"] or "?"),
            host=str(record["host"] or "?"),
            pid=int(record["pid"] or 0),
            started=str(record["started"] or "?")[:19].replace("T", " "),
            idle_seconds=int(record["idle_seconds"] or 0),
        )

    def describe(self) -> str:
        """One phrase: ``graphguard load town (alice on host1, pid 4242, since …)``."""
        return (
            f"`graphguard {self.purpose}` ({self.user} on {self.host}, pid {self.pid}, "
            f"since {self.started} UTC, last active {self.idle_seconds} s ago)"
        )

    def stale_reason(self, stale_after: float) -> str | None:
        """Why this lock is abandoned, or None when its holder may still be working."""
        here = self.host == socket.gethostname() and self.pid != os.getpid()
        if here and not _alive(self.pid):
            return f"its process {self.pid} on this host is no longer running"
        if self.idle_seconds > stale_after:
            return f"it has not been touched for {self.idle_seconds} s"
        return None


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's process: it exists
        return True
    return True


class LoadLock:
    """The load lock of one database, as a context manager.

    Parameters
    ----------
    session : callable
        Opens a session on the database (``Neo4jStore._session``).
    purpose : str
        What the holder is doing, shown to whoever waits (``load town/``).
    wait : float, default 60
        Seconds to wait for a lock somebody else holds before :class:`LoadLockHeld`.
    user : str, optional
        Who is loading (the operating-system user when not given).
    notice : callable, optional
        Told, in one line each, when we wait and when we take over an abandoned lock.
    stale_after : float, default STALE_SECONDS
        Seconds without a touch after which a lock counts as abandoned.
    name : str, default "load"
        The lock's name: one lock per name per database.
    """

    def __init__(
        self,
        session: Callable[..., Any],
        purpose: str,
        *,
        wait: float = 60.0,
        user: str | None = None,
        notice: Callable[[str], None] | None = None,
        stale_after: float = STALE_SECONDS,
        heartbeat: float = HEARTBEAT_SECONDS,
        name: str = "load",
    ) -> None:
        self._session = session
        self.purpose = purpose
        self.wait = wait
        self.user = user or getpass.getuser()
        self.notice = notice or (lambda _line: None)
        self.stale_after = stale_after
        self.heartbeat = heartbeat
        self.name = name
        self.token = uuid.uuid4().hex
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def parameters(self) -> dict[str, str]:
        """``$name`` and ``$token`` for :data:`~graphguard.store.queries.LOCK_TOUCH`."""
        return {"name": self.name, "token": self.token}

    # ------------------------------------------------------------------ taking
    def __enter__(self) -> LoadLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock, waiting up to ``wait`` seconds; :class:`LoadLockHeld` if we can't."""
        from neo4j.exceptions import ConstraintError

        self._ensure_constraint()
        deadline = time.monotonic() + self.wait
        said_waiting = False
        while True:
            try:
                with self._session() as session:
                    session.execute_write(self._take)
                break
            except ConstraintError:
                pass
            holder = self.holder()
            if holder is None:
                continue  # released between our attempt and our look: try again
            reason = holder.stale_reason(self.stale_after)
            if reason is not None:
                with self._session() as session:
                    session.run(queries.LOCK_RELEASE, name=self.name, token=holder.token).consume()
                self.notice(f"took over the load lock of {holder.describe()}: {reason}")
                continue
            if time.monotonic() >= deadline:
                raise LoadLockHeld(
                    f"another load is writing to this database: {holder.describe()}; "
                    f"waited {self.wait:.0f} s for it (raise --wait, or run again later)"
                )
            if not said_waiting:
                self.notice(f"waiting up to {self.wait:.0f} s for {holder.describe()} to finish")
                said_waiting = True
            time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        self._thread = threading.Thread(target=self._keep_alive, name="graphguard-lock")
        self._thread.daemon = True
        self._thread.start()

    def _take(self, tx: Any) -> None:
        tx.run(
            queries.LOCK_TAKE,
            name=self.name,
            token=self.token,
            purpose=self.purpose,
            user=self.user,
            host=socket.gethostname(),
            pid=os.getpid(),
        ).consume()

    def _ensure_constraint(self) -> None:
        from neo4j.exceptions import Neo4jError

        # Two writers creating the constraint at once can make one of them fail even
        # with IF NOT EXISTS; the second attempt then finds it.
        for attempt in range(3):
            try:
                with self._session() as session:
                    session.run(queries.LOCK_CONSTRAINT).consume()
                return
            except Neo4jError:
                if attempt == 2:
                    raise
                time.sleep(POLL_SECONDS)

    def holder(self) -> LockHolder | None:
        """Who holds the lock now, or None."""
        with self._session(default_access_mode="READ") as session:
            record = session.run(queries.LOCK_READ, name=self.name).single()
        return LockHolder.from_record(record) if record is not None else None

    # ------------------------------------------------------------------ holding
    def touch(self, tx: Any) -> None:
        """Inside a write transaction: keep the lock alive, or :class:`LoadLockLost`."""
        record = tx.run(queries.LOCK_TOUCH, **self.parameters).single()
        if record is None or not record["held"]:
            raise LoadLockLost(
                "this load's lock was taken over by another writer (this load was paused "
                f"for more than {self.stale_after:.0f} s?); it stopped writing: "
                "run it again once the other has finished"
            )

    def _keep_alive(self) -> None:
        while not self._stop.wait(self.heartbeat):
            try:
                with self._session() as session:
                    session.run(queries.LOCK_TOUCH, **self.parameters).consume()
            except Exception:  # the loader itself reports a lost server
                continue

    def release(self) -> None:
        """Stop touching the lock and delete it; a lost server leaves it to go stale."""
        self._stop.set()
        if self._thread is not None:
            # A touch stuck on a server that went away must not hold the exit up; the
            # thread is a daemon and ends with the process.
            self._thread.join(timeout=self.heartbeat)
            self._thread = None
        try:
            with self._session() as session:
                session.run(queries.LOCK_RELEASE, **self.parameters).consume()
        except Exception:  # abandoned: the next writer takes it over
            pass
