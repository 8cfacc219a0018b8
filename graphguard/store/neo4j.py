"""The Neo4j store: a batched, idempotent, serialised loader and a Store that reads the graph.

The driver is always injected (``Neo4jStore(driver, database=None, batch_size=...)``);
:func:`connect` builds one from settings for the CLI and the dashboard, and turns an
unreachable server, refused credentials or a URI that is not Bolt into one clear error.

Graph model (DESIGN.md, docs/loading.md): labels ``Entity`` plus ``Person`` (+
``YoungPerson`` or ``Adult``), ``Location`` or ``Vehicle``; the entity id in property
``id``; one relationship per link, of the link's type, keeping ``link_id`` and all
provenance; in version 2 also one ``Record`` node per source record, ``RESOLVED_TO``
its entity (:mod:`graphguard.store.rows`).  Every element carries its content hash, so
a load writes only what changed (:mod:`graphguard.store.content`).  Every statement is
in :mod:`graphguard.store.queries`.

Writes are serialised: each load (and ``check --repair``, and :meth:`Neo4jStore.clear`)
holds the database's load lock (:mod:`graphguard.store.lock`).  Neo4j 5 Community
has no uniqueness constraint across relationship types, so the one namespace of link
ids is kept by the loader: under the lock it reads which relationship holds each link
id, and deletes any holder whose content hash differs (another type, other ends, other
properties) before it creates the link, so it never leaves one link id on two
relationships (a duplicate written behind
its back is found, and repaired, by ``graphguard check``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import shutil
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import networkx as nx

from graphguard.errors import BackendUnavailable, UsageError
from graphguard.ingest import Dataset
from graphguard.store import queries
from graphguard.store.base import Filters, finish_graph
from graphguard.store.content import HASH_PROPERTY, STORE_PROPERTIES
from graphguard.store.lock import LoadLock
from graphguard.store.rows import entity_labels
from graphguard.store.stored import (
    StoredForm,
    restore_link,
    restore_node,
    stored_form,
    stored_ids,
)
from graphguard.workspace.identity import HeldIdentity, IdentityStore

__all__ = [
    "BOLT_SCHEMES",
    "Neo4jStore",
    "LoadReport",
    "Changes",
    "LinkHolder",
    "STATE_HOME",
    "connect",
    "entity_labels",
]

#: The URI schemes of Neo4j's Bolt protocol, the only one graphguard speaks.
BOLT_SCHEMES: tuple[str, ...] = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")

#: Seconds the driver retries a transaction that failed for a passing reason (a
#: deadlock, a leader switch) before giving up: long enough for those, short enough
#: that a server that went away is reported within seconds rather than half a minute.
RETRY_SECONDS = 10.0

#: The default identity store and pseudonym key of a :class:`Neo4jStore`: the state home's.
STATE_HOME = "state home"

#: Disk a load needs per row (entity or link) on a fresh database, store files and
#: transaction log together: about 0.75 KB measured on a synthetic town, rounded up
#: (docs/loading.md).
BYTES_PER_ROW = 1024
#: Room Neo4j needs beyond the rows themselves (checkpoints, a new log file).
DISK_HEADROOM = 32 * 1024 * 1024


def _quiet_driver_logs() -> None:
    # The driver logs each retry ("Transaction failed and will be retried in 1.1s (…)")
    # on the `neo4j` loggers; with no handler configured Python prints those on stderr.
    # A NullHandler keeps them off the terminal while an application that configures
    # logging still receives them.
    logger = logging.getLogger("neo4j")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())


def check_uri(uri: str) -> None:
    """:class:`UsageError` unless ``uri`` is a Bolt URI (``bolt://``, ``neo4j+s://``, …)."""
    scheme, sep, _ = uri.partition("://")
    if not sep or scheme.lower() not in BOLT_SCHEMES:
        accepted = ", ".join(f"{s}://" for s in BOLT_SCHEMES)
        raise UsageError(
            f"NEO4J_URI {uri!r} is not a Bolt URI: graphguard speaks Bolt only; use {accepted}"
        )


def connect(
    uri: str, username: str, password: str | None, *, retry_seconds: float = RETRY_SECONDS
) -> Any:
    """A verified driver for ``uri``, or one clear line: UsageError or BackendUnavailable."""
    check_uri(uri)
    _quiet_driver_logs()
    import neo4j
    from neo4j.exceptions import AuthError, Neo4jError, ServiceUnavailable

    try:
        driver = neo4j.GraphDatabase.driver(
            uri, auth=(username, password or ""), max_transaction_retry_time=retry_seconds
        )
    except (ValueError, neo4j.exceptions.ConfigurationError) as exc:
        raise UsageError(f"bad NEO4J_URI {uri!r}: {exc}") from None
    try:
        driver.verify_connectivity()
    except AuthError:
        driver.close()
        raise BackendUnavailable(
            f"Neo4j at {uri} refused the credentials for user {username!r} "
            "(check NEO4J_USERNAME and NEO4J_PASSWORD)"
        ) from None
    except (ServiceUnavailable, OSError) as exc:
        driver.close()
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        # The driver's own text repeats the address ("Couldn't connect to h:p (resolved
        # to ('h:p',)): ..."); keep only the reason it gives, if any.
        reason = first.rsplit("):", 1)[-1].strip(" :") if "resolved to" in first else first
        why = f" ({reason})" if reason else " (nothing answered there)"
        raise BackendUnavailable(
            f"cannot reach Neo4j at {uri}{why}; start one with `graphguard neo4j start`"
        ) from None
    except Neo4jError as exc:
        driver.close()
        raise BackendUnavailable(f"Neo4j at {uri} answered with an error: {exc.message}") from None
    return driver


class LinkHolder(NamedTuple):
    """A relationship holding a link id: its type and content hash (None: loaded before
    graphguard stored hashes)."""

    type: str
    hash: str | None


@dataclass
class Changes:
    """What a load did to one kind of element: added, changed, removed, unchanged."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0

    @property
    def any(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def describe(self, noun: str, many: str | None = None) -> str:
        """``"12 entities: 2 added, 1 changed, 0 removed, 9 unchanged"``."""
        total = self.added + self.changed + self.unchanged
        name = noun if total == 1 else many or noun + "s"
        return (
            f"{total:,} {name}: {self.added:,} added, {self.changed:,} changed, "
            f"{self.removed:,} removed, {self.unchanged:,} unchanged"
        )


@dataclass
class LoadReport:
    """What one load wrote."""

    #: Entities and links in the dataset (records: in the record-level dataset, v2).
    nodes: int = 0
    relationships: int = 0
    records_total: int = 0
    #: Per kind of element: added, changed (rewritten, moved or re-pointed), removed,
    #: unchanged (its content hash was in Neo4j already: not written).
    entities: Changes = field(default_factory=Changes)
    records: Changes = field(default_factory=Changes)
    links: Changes = field(default_factory=Changes)
    #: Links whose relationship changed type (deleted and created again).
    moved: int = 0
    pruned_nodes: int = 0
    pruned_relationships: int = 0
    #: Link ids of the dataset found on more than one relationship; the extra ones
    #: were deleted.
    repaired_duplicates: int = 0
    #: Link ids not in the dataset found on more than one relationship (without
    #: ``prune`` the load cannot tell which is right: ``graphguard check`` names them).
    duplicates_left: list[str] = field(default_factory=list)
    batches: int = 0
    seconds: float = 0.0
    counters: dict[str, int] = field(default_factory=dict)
    #: How it was written when not in write transactions ("neo4j-admin import").
    method: str | None = None

    @property
    def changed_anything(self) -> bool:
        """Whether the load wrote or deleted anything at all."""
        return (
            self.entities.any
            or self.records.any
            or self.links.any
            or bool(self.repaired_duplicates)
        )


def _native(value: Any) -> Any:
    to_native = getattr(value, "to_native", None)
    if to_native is not None:
        return to_native()
    return value


def native_properties(props: dict[str, Any]) -> dict[str, Any]:
    """Neo4j property values as Python ones (Neo4j dates become :class:`datetime.date`)."""
    return {k: _native(v) for k, v in props.items()}


class Neo4jStore:
    """A :class:`~graphguard.store.base.Store` over a Neo4j database.

    Parameters
    ----------
    driver : neo4j.Driver
        An open driver (see :func:`connect`); the store never creates one.
    database : str, optional
        The database to use; the server's default when None.
    batch_size : int, default 5000
        Rows per ``UNWIND`` batch, each batch one managed write transaction.
    identities : IdentityStore or None, default the state home's
        Where a load keeps what Neo4j does not hold (young people's identifying values,
        scrubbed text) and where reading the graph finds it again.  None: a load keeps
        nothing and the graph read back keeps its pseudonyms (it still analyses).
    key : bytes, optional
        The pseudonym key; the state home's (:func:`~graphguard.settings.pseudonym_key`)
        by default, read when a load first needs it.
    """

    backend = "neo4j"

    def __init__(
        self,
        driver: Any,
        database: str | None = None,
        batch_size: int = 5_000,
        *,
        identities: IdentityStore | str | None = STATE_HOME,
        key: bytes | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.driver = driver
        self.database = database
        self.batch_size = batch_size
        self._identities = identities
        self._key = key

    @property
    def identities(self) -> IdentityStore | None:
        """The identity store this store reads and keeps (opened on first use)."""
        if isinstance(self._identities, str):
            self._identities = IdentityStore.default()
        return self._identities

    def held(self) -> dict[str, HeldIdentity]:
        """What the identity store holds (empty without one)."""
        identities = self.identities
        return identities.held() if identities is not None else {}

    def stored_form(self, dataset: Dataset, records: Dataset | None = None) -> StoredForm:
        """What Neo4j holds of ``dataset`` (:func:`~graphguard.store.stored.stored_form`)."""
        if self._key is None:
            from graphguard.settings import pseudonym_key

            self._key = pseudonym_key()
        return stored_form(dataset, records, self._key)

    def keep_identities(self, form: StoredForm) -> None:
        """Update the identity store with ``form``'s identities, for what Neo4j now holds.

        Entries for elements Neo4j no longer holds (pruned, merged away) are dropped, so
        the store never keeps a child's identity the graph has let go of.
        """
        identities = self.identities
        if identities is None:
            return
        with self._session(default_access_mode="READ") as session:
            present = [r["key"] for r in session.run(queries.HELD_KEYS)]
        identities.update(form.identities, keep=present)

    def _session(self, **kwargs: Any) -> Any:
        return self.driver.session(database=self.database, **kwargs)

    @contextlib.contextmanager
    def reachable(self, doing: str) -> Iterator[None]:
        """Turn a server lost while ``doing`` something into one :class:`BackendUnavailable`."""
        from neo4j.exceptions import DatabaseUnavailable, ServiceUnavailable, SessionExpired

        try:
            yield
        except (ServiceUnavailable, SessionExpired, DatabaseUnavailable) as exc:
            raise BackendUnavailable(
                f"lost Neo4j while {doing} ({_driver_reason(exc)}); each batch is one "
                "transaction, so nothing is half-written: once Neo4j is back, run the "
                "command again"
            ) from None
        except Exception as exc:
            if _disk_full(exc):
                raise BackendUnavailable(
                    f"Neo4j could not write its files while {doing}: its disk looks full "
                    f"({_first_line(exc)}); make room, restart Neo4j, and run the command again"
                ) from None
            raise

    # ------------------------------------------------------------------ writing
    def apply_schema(self) -> None:
        """Create the constraints and indexes of ``cypher/schema.cypher`` (idempotent)."""
        with self._session() as session:
            for statement in queries.schema_statements():
                session.run(statement).consume()

    def await_indexes(self, seconds: int = 600) -> None:
        """Wait until every index (those of the constraints too) is online."""
        with self._session() as session:
            session.run(queries.AWAIT_INDEXES, seconds=seconds).consume()

    def lock(
        self,
        purpose: str,
        *,
        wait: float = 60.0,
        user: str | None = None,
        notice: Callable[[str], None] | None = None,
    ) -> LoadLock:
        """The database's load lock (taken by entering it): see :mod:`~.store.lock`."""
        return LoadLock(self._session, purpose, wait=wait, user=user, notice=notice)

    def load(
        self,
        dataset: Dataset,
        *,
        records: Dataset | None = None,
        progress: Callable[[int], object] | None = None,
        prune: bool = False,
        wait: float = 60.0,
        user: str | None = None,
        notice: Callable[[str], None] | None = None,
        purpose: str = "load",
    ) -> LoadReport:
        """Write a dataset under the load lock, writing only what changed.

        Every element (entity, record, link) carries a content hash
        (:mod:`graphguard.store.content`).  The load reads the hashes Neo4j holds and
        writes only the elements whose hash differs or is missing: a reload of the same
        data writes nothing, a changed row rewrites its node or relationship, a new one
        is created.  A link whose type or ends changed is deleted and created again, so
        no link id is ever held twice; a link id of the dataset already held twice is
        repaired the same way.  A load stopped part way and run again converges.

        A version 2 dataset (``dataset.version == 2``, ``dataset.resolution`` set) is
        written with its records (``records``, the record-level dataset): one
        ``Record`` node per record, ``RESOLVED_TO`` its entity.  After a merge or an
        un-merge only what moved is written: the records re-pointed, the links whose end
        they are re-attached, the entities created or rewritten; an entity that no
        record resolves to any more is deleted.

        A link is known by its ``link_id``: a link loaded without one gets an id
        derived from its content, so a corrected row is a new record and the old one
        stays — unless ``prune`` is set, which makes the database hold exactly this
        dataset: entities, records and links it does not contain are deleted.

        Parameters
        ----------
        dataset : Dataset
            The accepted rows (v2: the entity-level dataset).
        records : Dataset, optional
            v2: the record-level dataset (``IngestResult.records``); required then.
        progress : callable, optional
            Called with the number of rows each step compared or wrote.
        prune : bool, default False
            Delete the entities, records and links the dataset does not contain.
        wait : float, default 60
            Seconds to wait while another writer holds the load lock.
        user : str, optional
            Who is loading, shown to a writer that has to wait.
        notice : callable, optional
            Told in one line when this load waits, or takes over an abandoned lock.
        purpose : str, default "load"
            What this load is, shown to a writer that has to wait.

        Raises
        ------
        UsageError
            A version 2 dataset without its records or resolution.
        """
        if dataset.version == 2 and (records is None or dataset.resolution is None):
            raise UsageError(
                "a version 2 dataset is loaded with its records and resolution "
                "(read_dataset's .records and .dataset)"
            )
        if dataset.version != 2:
            records = None
        start = time.perf_counter()
        report = LoadReport()
        with self.reachable("loading"):
            self.check_free_space(len(dataset) + (len(records) if records else 0))
            with self.lock(purpose, wait=wait, user=user, notice=notice) as lock:
                self.apply_schema()
                self._load(dataset, records, lock, report, progress or (lambda _n: None), prune)
        report.seconds = time.perf_counter() - start
        return report

    def _load(
        self,
        dataset: Dataset,
        records: Dataset | None,
        lock: LoadLock,
        report: LoadReport,
        tick: Callable[[int], object],
        prune: bool,
    ) -> None:
        form = self.stored_form(dataset, records)
        identities = self.identities
        if identities is not None:
            # First: a load stopped part way leaves identities Neo4j does not hold yet
            # (dropped by the next load), never a pseudonym nobody can reveal.
            identities.update(form.identities)
        existing = self.existing_entities()
        report.nodes = len(form.entities)
        self._write_entities(form.entities, existing, lock, report, tick)
        if records is not None:
            if form.sources:
                self._write(queries.MERGE_SOURCES, form.sources, lock, report)
            self._write_records(form, lock, report, tick, prune)
        held = self.existing_links()
        kept = self._write_dataset_links(form, held, lock, report, tick)
        stored_entities = form.entity_ids()
        if records is not None:
            # Entities whose every record now resolves elsewhere: a merge folded them.
            gone = [
                entity_id
                for entity_id, (_, resolved) in existing.items()
                if resolved and entity_id not in stored_entities
            ]
            report.entities.removed += self._delete_counting(
                queries.DELETE_ORPHANS, gone, lock, report
            )
        if prune:
            if records is None:  # a v1 dataset holds no records: a v2 load's go
                self._prune_records(None, self.existing_records(), lock, report)
            self._prune(stored_entities, kept, held, existing, lock, report)
        else:
            report.duplicates_left = sorted(
                link_id for link_id, h in held.items() if len(h) > 1 and link_id not in kept
            )
        self.keep_identities(form)

    def _write_entities(
        self,
        rows: list[dict[str, Any]],
        existing: dict[str, tuple[str | None, bool]],
        lock: LoadLock,
        report: LoadReport,
        tick: Callable[[int], object],
    ) -> None:
        new: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        changed: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            held = existing.get(row["id"])
            if held is None:
                new[row["labels"]].append(row)
            elif held[0] != row["props"][HASH_PROPERTY]:
                changed[row["labels"]].append(row)
            else:
                report.entities.unchanged += 1
        tick(report.entities.unchanged)
        for labels, group in new.items():
            report.entities.added += self._write_all(
                queries.create_entities(labels), group, lock, report, tick
            )
        for labels, group in changed.items():
            report.entities.changed += self._write_all(
                queries.merge_entities(labels), group, lock, report, tick
            )

    def _write_records(
        self,
        form: StoredForm,
        lock: LoadLock,
        report: LoadReport,
        tick: Callable[[int], object],
        prune: bool,
    ) -> None:
        existing = self.existing_records()
        new: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        for row in form.records:
            held = existing.get(row["id"], False)
            if held is False:
                new.append(row)
            elif held != row["props"][HASH_PROPERTY]:
                changed.append(row)
            else:
                report.records.unchanged += 1
        report.records_total = len(form.records)
        tick(report.records.unchanged)
        report.records.added = self._write_all(queries.CREATE_RECORDS, new, lock, report, tick)
        report.records.changed = self._write_all(
            queries.UPDATE_RECORDS, changed, lock, report, tick
        )
        if prune:
            self._prune_records(form.record_ids(), existing, lock, report)

    def _prune_records(
        self,
        ids: set[str] | None,
        existing: dict[str, str | None],
        lock: LoadLock,
        report: LoadReport,
    ) -> None:
        """Delete the records Neo4j holds whose (stored) ids are not ``ids`` (None: every one)."""
        ids = ids or set()
        gone = [record_id for record_id in existing if record_id not in ids]
        report.records.removed = self._delete_counting(queries.DELETE_RECORDS, gone, lock, report)

    def _write_dataset_links(
        self,
        form: StoredForm,
        held: dict[str, list[LinkHolder]],
        lock: LoadLock,
        report: LoadReport,
        tick: Callable[[int], object],
    ) -> set[str]:
        """Create the dataset's new and changed links, deleting what they replace."""
        stale: dict[str, set[str]] = defaultdict(set)  # type -> link ids to delete
        rows: list[tuple[str, dict[str, Any]]] = []
        kept: set[str] = set()
        for link_type, row in form.links:
            link_id = row["props"]["link_id"]
            kept.add(link_id)
            wanted = row["props"][HASH_PROPERTY]
            holders = held.get(link_id, [])
            # A holder with the link's hash is the link as it should be (the hash covers
            # the type and both ends); every other holder is deleted.
            good = [holder for holder in holders if holder.hash == wanted]
            for holder in holders:
                if holder not in good[:1]:
                    stale[holder.type].add(link_id)
            if len(holders) > 1:
                report.repaired_duplicates += 1
            if good:
                report.links.unchanged += 1
                continue
            if holders:
                report.links.changed += 1
                if any(holder.type != link_type for holder in holders):
                    report.moved += 1
            else:
                report.links.added += 1
            rows.append((link_type, row))
        report.relationships = len(kept)
        tick(report.links.unchanged)
        self.delete_links(stale, lock, report)
        by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for link_type, row in rows:
            by_type[link_type].append(row)
        for link_type, typed in sorted(by_type.items()):
            self._write_all(queries.create_links(link_type), typed, lock, report, tick)
        return kept

    def _write_all(
        self,
        query: str,
        rows: list[Any],
        lock: LoadLock,
        report: LoadReport,
        tick: Callable[[int], object] = lambda _n: None,
    ) -> int:
        for batch in _batches(rows, self.batch_size):
            self._write(query, batch, lock, report)
            tick(len(batch))
        return len(rows)

    def _delete_counting(
        self, query: str, rows: list[str], lock: LoadLock, report: LoadReport
    ) -> int:
        deleted = 0
        for batch in _batches(sorted(rows), self.batch_size):
            deleted += self._write(query, batch, lock, report).get("nodes_deleted", 0)
        return deleted

    def write_entities(
        self,
        rows: Iterable[dict[str, Any]],
        lock: LoadLock,
        report: LoadReport,
        tick: Callable[[int], object] = lambda _n: None,
    ) -> int:
        """Upsert entity rows (of a :class:`StoredForm`, merged on id) in batches; how many."""
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            groups[row["labels"]].append(row)
        return sum(
            self._write_all(queries.merge_entities(labels), rows, lock, report, tick)
            for labels, rows in groups.items()
        )

    def write_links(
        self,
        rows: list[tuple[str, dict[str, Any]]],
        lock: LoadLock,
        report: LoadReport,
        tick: Callable[[int], object] = lambda _n: None,
    ) -> int:
        """Upsert links (``(type, row)`` of a :class:`StoredForm`) in batches; how many."""
        by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for link_type, row in rows:
            by_type[link_type].append(row)
        return sum(
            self._write_all(queries.merge_links(link_type), typed, lock, report, tick)
            for link_type, typed in sorted(by_type.items())
        )

    def write_records(
        self,
        rows: list[dict[str, Any]],
        lock: LoadLock,
        report: LoadReport,
        tick: Callable[[int], object] = lambda _n: None,
    ) -> int:
        """Rewrite records (rows of a :class:`StoredForm`) that exist, create the others."""
        with self._session(default_access_mode="READ") as session:
            ids = [row["id"] for row in rows]
            present = {r["id"] for r in session.run(queries.RECORDS_PRESENT, ids=ids)}
        self._write_all(
            queries.UPDATE_RECORDS, [r for r in rows if r["id"] in present], lock, report, tick
        )
        self._write_all(
            queries.CREATE_RECORDS, [r for r in rows if r["id"] not in present], lock, report, tick
        )
        return len(rows)

    def delete_links(
        self, by_type: dict[str, set[str]], lock: LoadLock, report: LoadReport
    ) -> None:
        """Delete the relationships of each type holding the given link ids."""
        for link_type, link_ids in sorted(by_type.items()):
            query = queries.delete_links(link_type)
            for batch in _batches(sorted(link_ids), self.batch_size):
                self._write(query, batch, lock, report)

    def delete(self, query: str, rows: list[str], lock: LoadLock, report: LoadReport) -> None:
        """Run a deleting statement of :mod:`~.queries` over ``rows`` in batches."""
        for batch in _batches(sorted(rows), self.batch_size):
            self._write(query, batch, lock, report)

    def _prune(
        self,
        entity_ids: set[str],
        kept: set[str],
        held: dict[str, list[LinkHolder]],
        existing: dict[str, tuple[str | None, bool]],
        lock: LoadLock,
        report: LoadReport,
    ) -> None:
        stale: dict[str, set[str]] = defaultdict(set)
        for link_id, holders in held.items():
            if link_id not in kept:
                for holder in holders:
                    stale[holder.type].add(link_id)
                    report.pruned_relationships += 1
        self.delete_links(stale, lock, report)
        report.links.removed += report.pruned_relationships
        gone = [entity_id for entity_id in existing if entity_id not in entity_ids]
        deleted = self._delete_counting(queries.DELETE_ENTITIES, gone, lock, report)
        report.pruned_nodes += deleted
        report.entities.removed += deleted

    def _write(
        self, query: str, rows: list[Any], lock: LoadLock, report: LoadReport
    ) -> dict[str, int]:
        def work(tx: Any) -> dict[str, int]:
            lock.touch(tx)  # first: no batch is written once the lock is no longer ours
            counters = tx.run(query, rows=rows).consume().counters
            return {
                "nodes_created": counters.nodes_created,
                "nodes_deleted": counters.nodes_deleted,
                "relationships_created": counters.relationships_created,
                "relationships_deleted": counters.relationships_deleted,
                "properties_set": counters.properties_set,
            }

        with self._session() as session:
            counts: dict[str, int] = session.execute_write(work)
        report.batches += 1
        for key, value in counts.items():
            report.counters[key] = report.counters.get(key, 0) + value
        return counts

    def existing_entities(self) -> dict[str, tuple[str | None, bool]]:
        """Entity id → (its content hash, whether records resolve to it)."""
        with self._session(default_access_mode="READ") as session:
            return {
                r["id"]: (r["hash"], r["resolved"]) for r in session.run(queries.EXISTING_ENTITIES)
            }

    def existing_records(self) -> dict[str, str | None]:
        """Record id → its content hash."""
        with self._session(default_access_mode="READ") as session:
            return {r["id"]: r["hash"] for r in session.run(queries.EXISTING_RECORDS)}

    def existing_links(self) -> dict[str, list[LinkHolder]]:
        """Which relationships hold each link id (more than one is a duplicate)."""
        found: dict[str, list[LinkHolder]] = defaultdict(list)
        with self._session(default_access_mode="READ") as session:
            for record in session.run(queries.EXISTING_LINKS):
                found[record["link_id"]].append(LinkHolder(record["type"], record["hash"]))
        return dict(found)

    def check_free_space(self, rows: int) -> None:
        """Refuse a load of ``rows`` rows when a local server's disk obviously lacks room.

        Only a server on this machine (a loopback address) can be checked: its data
        directory is asked of the server (``SHOW SETTINGS``) and measured here.
        """
        directory = self.local_data_directory()
        if directory is None:
            return
        free = shutil.disk_usage(directory).free
        needed = rows * BYTES_PER_ROW + DISK_HEADROOM
        if free < needed:
            raise BackendUnavailable(
                f"Neo4j's data directory {directory} has {_megabytes(free)} free and loading "
                f"{rows:,} rows needs about {_megabytes(needed)}: make room on that disk first "
                "(nothing was loaded)"
            )

    def local_data_directory(self) -> Path | None:
        """The server's data directory when the server runs on this machine, else None."""
        address = getattr(self.driver, "address", None)
        host = str(getattr(address, "host", "") or "")
        if not _is_loopback(host):
            return None
        from neo4j.exceptions import Neo4jError

        try:
            with self._session() as session:
                record = session.run(queries.DATA_DIRECTORY).single()
        except Neo4jError:  # a user without the privilege to see settings
            return None
        if record is None:
            return None
        directory = Path(str(record["value"]))
        return directory if directory.is_dir() else None

    def clear(self, *, wait: float = 60.0) -> None:
        """Delete every node and relationship (tests and demos only), under the load lock."""
        with (
            self.reachable("clearing the database"),
            self.lock("clear", wait=wait),
            self._session() as session,
        ):
            session.run(queries.CLEAR).consume()

    # ------------------------------------------------------------------ reading
    def graph(self, filters: Filters | None = None) -> nx.MultiDiGraph:
        """The filtered graph, pulled in two streamed queries (nodes, then links)."""
        filters = filters or Filters()
        params: dict[str, Any] = {
            "kinds": sorted(filters.kinds) if filters.kinds is not None else None,
            "areas": sorted(filters.areas) if filters.areas is not None else None,
            "as_of": filters.as_of,
            "since": filters.since,
            "min_source": filters.min_source_grade.value if filters.min_source_grade else None,
            "min_intel": filters.min_intel_grade.value if filters.min_intel_grade else None,
            "ungraded": filters.include_ungraded,
        }
        graph = nx.MultiDiGraph()
        with self.reachable("reading the graph"):
            held = self.held()
            # Pseudonyms back to graphguard's ids, names back on young people: the
            # graph is the one the embedded store gives (the identity store's, or, without
            # it, the pseudonymous graph Neo4j holds).
            ids: dict[str, str] = {}
            with self._session(default_access_mode="READ") as session:
                for record in session.run(queries.READ_ENTITIES, params):
                    props = native_properties(record["props"])
                    props.pop("id", None)
                    props.pop(HASH_PROPERTY, None)
                    # Neo4j gives lists back; the model's list fields (aliases,
                    # categories) are tuples, and both stores return equal graphs.
                    for name, value in props.items():
                        if isinstance(value, list):
                            props[name] = tuple(value)
                    node, props = restore_node(record["id"], props, held)
                    ids[record["id"]] = node
                    graph.add_node(node, **props)
                for record in session.run(queries.READ_LINKS, params):
                    props = native_properties(record["props"])
                    for name in STORE_PROPERTIES:
                        props.pop(name, None)
                    props = restore_link(props, held)
                    props["type"] = record["type"]
                    source = ids.get(record["source"], record["source"])
                    target = ids.get(record["target"], record["target"])
                    graph.add_edge(source, target, key=props["link_id"], **props)
        return finish_graph(graph, filters)

    def graphguard_ids(self) -> dict[str, str]:
        """The ids Neo4j holds (pseudonyms) → graphguard's, where they differ.

        For results read from Neo4j by Cypher (the watch rules) that graphguard then
        keeps or shows next to what the embedded store computes.
        """
        return dict(stored_ids(self.held()))

    def read(self, query: str, **parameters: Any) -> Iterator[Any]:
        """The records of a read statement of :mod:`~.queries`, streamed."""
        with self._session(default_access_mode="READ") as session:
            yield from session.run(query, parameters)

    def counts(self) -> dict[str, int]:
        """Node, relationship and property counts (for tests and status lines)."""
        with self._session(default_access_mode="READ") as session:
            record = session.run(queries.COUNTS).single()
        assert record is not None
        return {
            "nodes": record["nodes"],
            "relationships": record["relationships"],
            "properties": (record["node_props"] or 0) + (record["rel_props"] or 0),
        }

    def duplicate_link_ids(self) -> dict[str, int]:
        """Link ids held by more than one relationship, with how many hold each."""
        with self._session(default_access_mode="READ") as session:
            return {r["link_id"]: r["holders"] for r in session.run(queries.DUPLICATE_LINK_IDS)}


def _batches(rows: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "message", None) or error)
    return text.splitlines()[0] if text else type(error).__name__


def _driver_reason(error: BaseException) -> str:
    # "Couldn't connect to h:p (resolved to ('h:p',)): reason" -> "Couldn't connect to h:p: reason"
    first = _first_line(error)
    head, found, tail = first.partition(" (resolved to")
    if not found:
        return first
    reason = tail.rsplit("):", 1)[-1].strip(" :")
    return f"{head}: {reason}" if reason else head


def _disk_full(error: BaseException) -> bool:
    text = f"{type(error).__name__} {error}".lower()
    return "no space left" in text or "transactionlog" in text or "disk full" in text


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _megabytes(size: int) -> str:
    return f"{size / 1_048_576:,.0f} MB"
