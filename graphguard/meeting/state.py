"""Durable meeting state: alerts and disruption actions, kept beside the data they are about.

What the monthly meeting creates must outlive a reload of the data: an alert's state
(new, acknowledged, dismissed, actioned), the actions the partnership agreed.
:class:`MeetingState` keeps such records, each a JSON-ready ``dict`` under a ``kind``
and a ``key``:

- **In Neo4j when Neo4j is the store**: one ``GraphguardMeeting`` node per record,
  ``uid`` unique (``kind:key``), the record as JSON text in ``record``.  The node carries
  no ``Entity`` label, so nothing that reads the analysis graph (``MATCH (n:Entity)``,
  every store and library query) ever sees it.
- **Else in the workspace database** (:mod:`graphguard.workspace`: SQLite in the state
  home): one ``meeting_record`` row per record, keyed by the dataset (``<name>-<digest>``,
  the digest of the dataset's resolved path, so the same folder always finds its state
  and two folders of the same name do not share one), the kind and the key.  Each
  write is one transaction and the database takes several writers at once, so the CLI
  and the dashboard writing together lose nothing.  A dataset's JSON file of earlier
  versions (``meeting/<name>-<digest>.json`` in the state home) is imported once, with
  one line saying so, and then left alone.

Records hold no young person's identifying values: callers store pseudonyms, entity
ids of adults, places and vehicles, and their own wording.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from graphguard.errors import DataError, UsageError
from graphguard.settings import Settings, get_settings, private_file
from graphguard.workspace import Workspace

__all__ = [
    "KINDS",
    "LEGACY_FOLDER",
    "MeetingState",
    "dataset_key",
    "legacy_file",
]

#: The kinds of record the meeting keeps.
KINDS: tuple[str, ...] = ("alert", "action")

#: The folder of the state home where graphguard kept meeting state before the
#: workspace database (one JSON file per dataset, imported once).
LEGACY_FOLDER = "meeting"

#: The label of a meeting record's node in Neo4j (never an ``Entity``).
LABEL = "GraphguardMeeting"

_LEGACY_FORMAT = "graphguard meeting state"
_LEGACY_VERSION = 1
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
        #: ``"neo4j"`` or ``"workspace"``.
        self.backend = name

    @property
    def location(self) -> str:
        """Where the records are kept: the workspace database and dataset, or Neo4j."""
        return self._backend.location

    @classmethod
    def open(
        cls,
        source: Any,
        *,
        settings: Settings | None = None,
        notice: Callable[[str], None] | None = None,
    ) -> MeetingState:
        """The meeting state of a store, a dataset or a dataset's path.

        Parameters
        ----------
        source : Store, Dataset, str or Path
            A ``Neo4jStore`` (the state lives in its database), or a ``MemoryStore``,
            ``Dataset`` or path of a dataset read from files (the state lives in the
            workspace database, under the dataset's key).
        settings : Settings, optional
            Where the state home and the workspace database are; the process's
            settings by default.
        notice : callable, optional
            Told, in one line, when the dataset's JSON file of an earlier graphguard
            is imported into the workspace database; by default the line goes to
            standard error.

        Raises
        ------
        UsageError
            When the dataset was not read from a path, so there is nothing to key its
            state by.
        BackendUnavailable
            When Neo4j cannot be reached.
        DataError
            When the workspace database (or an old JSON file to import) is damaged.
        RefusedError
            When the workspace database is a symbolic link, not a regular file, or
            readable by other users.
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
        settings = settings or get_settings()
        backend = _WorkspaceBackend(Workspace.open(settings), dataset_key(path))
        backend.import_legacy(legacy_file(path, settings), notice or _say)
        return cls(backend, "workspace")

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


def dataset_key(dataset: str | Path) -> str:
    """The key of a dataset's records: its folder's name and a digest of its resolved path.

    Examples
    --------
    >>> key = dataset_key("/data/town-2026-11")
    >>> key.startswith("town-2026-11-"), len(key) == len("town-2026-11-") + 16
    (True, True)
    >>> dataset_key("/data/town-2026-11/") == key
    True
    """
    resolved = Path(dataset).expanduser().resolve()
    digest = hashlib.sha256(str(resolved).encode("utf-8")).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", resolved.name).strip("-")[:40] or "dataset"
    return f"{name}-{digest}"


def legacy_file(dataset: str | Path, settings: Settings | None = None) -> Path:
    """Where graphguard before the workspace database kept a dataset's meeting state.

    Examples
    --------
    >>> from graphguard.settings import Settings
    >>> path = legacy_file("/data/town-2026-11", Settings(home="/h"))
    >>> path.parent.as_posix(), path.name == dataset_key("/data/town-2026-11") + ".json"
    ('/h/meeting', True)
    """
    settings = settings or get_settings()
    return settings.home / LEGACY_FOLDER / f"{dataset_key(dataset)}.json"


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


# ---------------------------------------------------------------------------- workspace backend


class _WorkspaceBackend:
    """The dataset's rows of the workspace database's ``meeting_record`` table."""

    def __init__(self, workspace: Workspace, dataset: str) -> None:
        self.workspace = workspace
        self.dataset = dataset
        self.location = f"{workspace.path} (dataset {dataset})"

    def records(self, kind: str) -> list[tuple[str, str]]:
        with self.workspace.reading() as connection:
            rows = connection.execute(
                "SELECT key, record FROM meeting_record WHERE dataset = ? AND kind = ? "
                "ORDER BY key",
                (self.dataset, kind),
            ).fetchall()
        return [(str(key), str(record)) for key, record in rows]

    def get(self, uid: str) -> str | None:
        kind, key = uid.split(":", 1)
        with self.workspace.reading() as connection:
            found = connection.execute(
                "SELECT record FROM meeting_record WHERE dataset = ? AND kind = ? AND key = ?",
                (self.dataset, kind, key),
            ).fetchone()
        return None if found is None else str(found[0])

    def put(self, kind: str, key: str, text: str) -> None:
        with self.workspace.writing() as connection:
            connection.execute(
                "INSERT INTO meeting_record (dataset, kind, key, record, updated) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (dataset, kind, key) "
                "DO UPDATE SET record = excluded.record, updated = excluded.updated",
                (self.dataset, kind, key, text, _now()),
            )

    def add(self, kind: str, key: str, text: str) -> bool:
        with self.workspace.writing() as connection:
            return _insert_new(connection, self.dataset, kind, key, text)

    def import_legacy(self, path: Path, notice: Callable[[str], None]) -> None:
        """Import the JSON file of an earlier graphguard once; the file is left alone."""
        if not os.path.lexists(path):
            return
        source = str(path)
        with self.workspace.reading() as connection:
            done = connection.execute(
                "SELECT 1 FROM meeting_import WHERE source = ?", (source,)
            ).fetchone()
        if done:
            return
        stored = _read_legacy(path)
        added = {kind: 0 for kind in KINDS}
        with self.workspace.writing() as connection:
            if connection.execute(
                "SELECT 1 FROM meeting_import WHERE source = ?", (source,)
            ).fetchone():
                return  # another process imported it while this one read the file
            for kind, key, text in stored:
                # What the database already holds wins: an import never overwrites.
                added[kind] += _insert_new(connection, self.dataset, kind, key, text)
            connection.execute(
                "INSERT INTO meeting_import (source, dataset, imported, records) "
                "VALUES (?, ?, ?, ?)",
                (source, self.dataset, _now(), sum(added.values())),
            )
        kept = len(stored) - sum(added.values())
        notice(
            f"imported {_counted(added['alert'], 'alert')} and "
            f"{_counted(added['action'], 'action')} from {path} into the workspace database "
            f"{self.workspace.path}"
            + (f" ({kept} already there kept as they were)" if kept else "")
            + "; the file is left as it was and is no longer read"
        )


def _insert_new(connection: Any, dataset: str, kind: str, key: str, text: str) -> bool:
    cursor = connection.execute(
        "INSERT INTO meeting_record (dataset, kind, key, record, updated) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (dataset, kind, key) DO NOTHING",
        (dataset, kind, key, text, _now()),
    )
    return bool(cursor.rowcount == 1)


def _read_legacy(path: Path) -> list[tuple[str, str, str]]:
    """The records of a JSON meeting file of graphguard before the workspace database."""
    with private_file(path, "the old meeting state") as handle:
        raw = handle.read()
    try:
        content = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(
            f"{path}: not valid meeting state ({error}); nothing was imported: repair or "
            "move the file"
        ) from None
    if not isinstance(content, dict) or content.get("format") != _LEGACY_FORMAT:
        raise DataError(f"{path}: not a graphguard meeting state file; nothing was imported")
    if content.get("version") != _LEGACY_VERSION:
        raise DataError(
            f"{path}: meeting state version {content.get('version')!r} is not "
            f"{_LEGACY_VERSION}; nothing was imported"
        )
    stored = content.get("records")
    if not isinstance(stored, dict) or not set(stored) <= set(KINDS):
        raise DataError(f"{path}: meeting state has no records object of {', '.join(KINDS)}")
    found: list[tuple[str, str, str]] = []
    for kind in KINDS:
        of_kind = stored.get(kind) or {}
        if not isinstance(of_kind, dict):
            raise DataError(f"{path}: meeting state's {kind} records are not an object")
        for key, record in sorted(of_kind.items()):
            try:
                _check_key(key)
                found.append((kind, key, _serialised(record)))
            except ValueError as error:
                raise DataError(f"{path}: {kind} {key!r}: {error}; nothing was imported") from None
    return found


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _counted(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _say(line: str) -> None:
    print(f"graphguard: {line}", file=sys.stderr)


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
