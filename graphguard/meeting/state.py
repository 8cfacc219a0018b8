"""Durable meeting state: alerts and disruption actions, kept beside the data they are about.

What the monthly meeting creates must outlive a reload of the data: an alert's state
(new, acknowledged, dismissed, actioned), the actions the partnership agreed.
:class:`MeetingState` keeps such records, each a JSON-ready ``dict`` under a ``kind``
and a ``key``:

- **In Neo4j when Neo4j is the store**: one ``GraphguardMeeting`` node per record,
  ``uid`` unique (``kind:key``), the record as JSON text in ``record``.  The node carries
  no ``Entity`` label, so nothing that reads the analysis graph (``MATCH (n:Entity)``,
  every store and library query) ever sees it.
- **Else in the state home**: one JSON file per dataset, ``meeting/<name>-<digest>.json``
  (the digest is of the dataset's resolved path, so the same folder always finds its
  state and two folders of the same name do not share one), owner-only, rewritten
  atomically under an exclusive lock, so the CLI and the dashboard writing at once
  lose nothing.

Records hold no young person's identifying values: callers store pseudonyms, entity
ids of adults, places and vehicles, and their own wording.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from graphguard.errors import DataError, UsageError
from graphguard.settings import Settings, get_settings, private_file, state_home

__all__ = [
    "KINDS",
    "STATE_FOLDER",
    "MeetingState",
    "state_file",
]

#: The kinds of record the meeting keeps.
KINDS: tuple[str, ...] = ("alert", "action")

#: The folder of the state home holding the file backend's files.
STATE_FOLDER = "meeting"

#: The label of a meeting record's node in Neo4j (never an ``Entity``).
LABEL = "GraphguardMeeting"

_FORMAT = "graphguard meeting state"
_VERSION = 1
_LONGEST_KEY = 200

# The Neo4j backend's statements; values travel only as parameters.
STATE_CONSTRAINT = (
    f"CREATE CONSTRAINT graphguard_meeting_uid IF NOT EXISTS "
    f"FOR (m:{LABEL}) REQUIRE m.uid IS UNIQUE"
)
STATE_KIND_INDEX = f"CREATE INDEX graphguard_meeting_kind IF NOT EXISTS FOR (m:{LABEL}) ON (m.kind)"
STATE_RECORDS = (
    f"MATCH (m:{LABEL} {{kind: $kind}}) RETURN m.key AS key, m.record AS record ORDER BY m.key"
)
STATE_GET = f"MATCH (m:{LABEL} {{uid: $uid}}) RETURN m.record AS record"
STATE_PUT = (
    f"MERGE (m:{LABEL} {{uid: $uid}}) "
    "SET m.kind = $kind, m.key = $key, m.record = $record, m.updated = datetime()"
)
STATE_CREATE = (
    f"CREATE (:{LABEL} {{uid: $uid, kind: $kind, key: $key, record: $record, updated: datetime()}})"
)


class _Backend(Protocol):
    location: str

    def records(self, kind: str) -> list[tuple[str, str]]: ...

    def get(self, uid: str) -> str | None: ...

    def put(self, kind: str, key: str, text: str) -> None: ...

    def add(self, kind: str, key: str, text: str) -> bool: ...


class MeetingState:
    """The alerts and actions of one picture: a dataset, or the Neo4j database.

    Open one with :meth:`open`; every call reads or writes the durable copy, so two
    processes (the CLI and the dashboard) see each other's changes.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from graphguard.settings import Settings
    >>> home = Path(tempfile.mkdtemp())
    >>> state = MeetingState.open("fixtures/demo", settings=Settings(home=home))
    >>> state.put("action", "A1", {"tactic": "CAWN", "status": "agreed"})
    >>> state.get("action", "A1")["status"]
    'agreed'
    >>> [r["tactic"] for r in state.records("action")]
    ['CAWN']
    """

    def __init__(self, backend: _Backend, name: str) -> None:
        self._backend = backend
        #: ``"neo4j"`` or ``"file"``.
        self.backend = name

    @property
    def location(self) -> str:
        """Where the records are kept: the file, or the Neo4j URI and database."""
        return self._backend.location

    @classmethod
    def open(cls, source: Any, *, settings: Settings | None = None) -> MeetingState:
        """The meeting state of a store, a dataset or a dataset's path.

        Parameters
        ----------
        source : Store, Dataset, str or Path
            A ``Neo4jStore`` (the state lives in its database), or a ``MemoryStore``,
            ``Dataset`` or path of a dataset read from files (the state lives in the
            state home, one file per dataset).
        settings : Settings, optional
            Where the state home is; the process's settings by default.

        Raises
        ------
        UsageError
            When the dataset was not read from a path, so there is nothing to key its
            state by.
        BackendUnavailable
            When Neo4j cannot be reached.
        """
        if getattr(source, "backend", None) == "neo4j" and hasattr(source, "driver"):
            return cls(_Neo4jBackend(source), "neo4j")
        dataset = getattr(source, "dataset", source)
        path = getattr(dataset, "source", dataset)
        if not isinstance(path, str | Path):
            raise UsageError(
                "meeting state is kept per dataset: read the dataset from a folder or "
                "workbook, or use Neo4j"
            )
        return cls(_FileBackend(state_file(path, settings)), "file")

    def records(self, kind: str) -> list[dict[str, Any]]:
        """Every record of ``kind``, ordered by key."""
        _check_kind(kind)
        return [_parsed(text, self.location) for _, text in self._backend.records(kind)]

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        """The record of ``kind`` under ``key``, or None."""
        _check_kind(kind)
        _check_key(key)
        text = self._backend.get(f"{kind}:{key}")
        return None if text is None else _parsed(text, self.location)

    def put(self, kind: str, key: str, record: dict[str, Any]) -> None:
        """Keep ``record`` under ``key``, replacing any record there.

        Raises
        ------
        ValueError
            When ``record`` is not a dict of JSON values (no NaN, no dates: callers
            store ISO strings).
        """
        _check_kind(kind)
        _check_key(key)
        self._backend.put(kind, key, _serialised(record))

    def add(self, kind: str, key: str, record: dict[str, Any]) -> bool:
        """Keep ``record`` under ``key`` only if nothing is there yet.

        Returns
        -------
        bool
            True when it was added; False when a record was already kept under ``key``
            (by this process or another at the same moment), which is left unchanged.
        """
        _check_kind(kind)
        _check_key(key)
        return self._backend.add(kind, key, _serialised(record))


def state_file(dataset: str | Path, settings: Settings | None = None) -> Path:
    """The file backend's file for a dataset, in the state home (not created).

    Examples
    --------
    >>> from graphguard.settings import Settings
    >>> path = state_file("/data/town-2026-11", Settings(home="/h"))
    >>> path.parent.as_posix(), path.name.startswith("town-2026-11-")
    ('/h/meeting', True)
    """
    resolved = Path(dataset).expanduser().resolve()
    digest = hashlib.sha256(str(resolved).encode("utf-8")).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", resolved.name).strip("-")[:40] or "dataset"
    settings = settings or get_settings()
    return settings.home / STATE_FOLDER / f"{name}-{digest}.json"


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown meeting record kind {kind!r}; use {', '.join(KINDS)}")


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not key or len(key) > _LONGEST_KEY:
        raise ValueError(f"a meeting record key is 1-{_LONGEST_KEY} characters, not {key!r}")


def _serialised(record: dict[str, Any]) -> str:
    if not isinstance(record, dict):
        raise ValueError(f"a meeting record is a dict, not {type(record).__name__}")
    try:
        return json.dumps(record, sort_keys=True, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"a meeting record must hold JSON values only: {error}") from None


def _parsed(text: str, where: str) -> dict[str, Any]:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise DataError(f"{where}: a meeting record is not valid JSON ({error})") from None
    if not isinstance(record, dict):
        raise DataError(f"{where}: a meeting record is not a JSON object")
    return record


# ---------------------------------------------------------------------------- file backend


class _FileBackend:
    """One private JSON file, read whole and rewritten atomically under a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)

    def _read(self) -> dict[str, dict[str, Any]]:
        if not os.path.lexists(self.path):
            return {kind: {} for kind in KINDS}
        with private_file(self.path, "the meeting state") as handle:
            raw = handle.read()
        try:
            content = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise DataError(
                f"{self.path}: not valid meeting state ({error}); nothing was changed"
            ) from None
        if not isinstance(content, dict) or content.get("format") != _FORMAT:
            raise DataError(f"{self.path}: not a graphguard meeting state file")
        if content.get("version") != _VERSION:
            raise DataError(
                f"{self.path}: meeting state version {content.get('version')!r} is not "
                f"{_VERSION}: use the graphguard that wrote it"
            )
        stored = content.get("records")
        if not isinstance(stored, dict):
            raise DataError(f"{self.path}: meeting state has no records object")
        return {kind: dict(stored.get(kind) or {}) for kind in KINDS}

    def _write(self, records: dict[str, dict[str, Any]]) -> None:
        from graphguard.files import write_text

        content = {"format": _FORMAT, "version": _VERSION, "records": records}
        write_text(self.path, json.dumps(content, indent=1, sort_keys=True, ensure_ascii=False))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """An exclusive lock on a sibling ``.lock`` file, so read-change-write is one step."""
        from graphguard.files import private_folder, write_error

        state_home()  # refuses a state home that is not the user's own
        private_folder(self.path.parent)
        lock = self.path.with_name(f".{self.path.name}.lock")
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            descriptor = os.open(lock, flags, 0o600)
        except OSError as error:
            raise write_error(lock, error) from error
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)

    def records(self, kind: str) -> list[tuple[str, str]]:
        stored = self._read()[kind]
        return [(key, json.dumps(stored[key])) for key in sorted(stored)]

    def get(self, uid: str) -> str | None:
        kind, key = uid.split(":", 1)
        found = self._read()[kind].get(key)
        return None if found is None else json.dumps(found)

    def put(self, kind: str, key: str, text: str) -> None:
        with self._locked():
            records = self._read()
            records[kind][key] = json.loads(text)
            self._write(records)

    def add(self, kind: str, key: str, text: str) -> bool:
        with self._locked():
            records = self._read()
            if key in records[kind]:
                return False
            records[kind][key] = json.loads(text)
            self._write(records)
            return True


# ---------------------------------------------------------------------------- Neo4j backend


class _Neo4jBackend:
    """``GraphguardMeeting`` nodes in the store's database."""

    def __init__(self, store: Any) -> None:
        self.store = store
        database = f", database {store.database}" if store.database else ""
        self.location = f"Neo4j{database}"
        with store.reachable("preparing the meeting state"), self._session() as session:
            session.run(STATE_CONSTRAINT).consume()
            session.run(STATE_KIND_INDEX).consume()

    def _session(self, **kwargs: Any) -> Any:
        return self.store.driver.session(database=self.store.database, **kwargs)

    def records(self, kind: str) -> list[tuple[str, str]]:
        with (
            self.store.reachable("reading the meeting state"),
            self._session(default_access_mode="READ") as session,
        ):
            return [(r["key"], r["record"]) for r in session.run(STATE_RECORDS, kind=kind)]

    def get(self, uid: str) -> str | None:
        with (
            self.store.reachable("reading the meeting state"),
            self._session(default_access_mode="READ") as session,
        ):
            found = session.run(STATE_GET, uid=uid).single()
        return None if found is None else str(found["record"])

    def put(self, kind: str, key: str, text: str) -> None:
        def work(tx: Any) -> None:
            tx.run(STATE_PUT, uid=f"{kind}:{key}", kind=kind, key=key, record=text).consume()

        with self.store.reachable("writing the meeting state"), self._session() as session:
            session.execute_write(work)

    def add(self, kind: str, key: str, text: str) -> bool:
        from neo4j.exceptions import ConstraintError

        uid = f"{kind}:{key}"

        def work(tx: Any) -> bool:
            if tx.run(STATE_GET, uid=uid).single() is not None:
                return False
            tx.run(STATE_CREATE, uid=uid, kind=kind, key=key, record=text).consume()
            return True

        with self.store.reachable("writing the meeting state"), self._session() as session:
            try:
                return bool(session.execute_write(work))
            except ConstraintError:
                return False  # another writer created it between our look and our write
