"""The Neo4j store: a batched, idempotent, serialised loader and a Store that reads the graph.

The driver is always injected (``Neo4jStore(driver, database=None, batch_size=...)``);
:func:`connect` builds one from settings for the CLI and the dashboard, and turns an
unreachable server, refused credentials or a URI that is not Bolt into one clear error.

Graph model (DESIGN.md): labels ``Entity`` plus ``Person`` (+ ``YoungPerson`` or
``Adult``), ``Location`` or ``Vehicle``; the entity id in property ``id``; one
relationship per link, of the link's type, keeping ``link_id`` and all provenance.
Every statement is in :mod:`graphguard.store.queries`.

Writes are serialised: each load (and ``check --repair``, and :meth:`Neo4jStore.clear`)
holds the database's load lock (:mod:`graphguard.store.lock`).  Neo4j 5 Community
has no uniqueness constraint across relationship types, so the one namespace of link
ids is kept by the loader: under the lock it reads which relationship holds each link
id, and deletes any holder of another type or between other ends before it merges the
link, so it never leaves one link id on two relationships (a duplicate written behind
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
from graphguard.model import Entity, Link, Location, Person, Vehicle
from graphguard.store import queries
from graphguard.store.base import Filters, finish_graph, link_attributes, node_attributes
from graphguard.store.lock import LoadLock

__all__ = [
    "BOLT_SCHEMES",
    "Neo4jStore",
    "LoadReport",
    "LinkHolder",
    "connect",
    "entity_labels",
    "entity_row",
    "link_row",
]

#: The URI schemes of Neo4j's Bolt protocol, the only one graphguard speaks.
BOLT_SCHEMES: tuple[str, ...] = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")

#: Seconds the driver retries a transaction that failed for a passing reason (a
#: deadlock, a leader switch) before giving up: long enough for those, short enough
#: that a server that went away is reported within seconds rather than half a minute.
RETRY_SECONDS = 10.0

#: Disk a load needs per row (entity or link) on a fresh database, store files and
#: transaction log together: about 0.75 KB measured on a synthetic town, rounded up
#: (docs/loading.md).
BYTES_PER_ROW = 1024
#: Room Neo4j needs beyond the rows themselves (checkpoints, a new log file).
DISK_HEADROOM = 32 * 1024 * 1024


def entity_labels(entity: Entity) -> tuple[str, ...]:
    """The Neo4j labels of an entity (besides ``Entity``)."""
    if isinstance(entity, Person):
        return ("Person", "YoungPerson" if entity.role.value == "young_person" else "Adult")
    if isinstance(entity, Location):
        return ("Location",)
    if isinstance(entity, Vehicle):
        return ("Vehicle",)
    raise TypeError(f"not an entity: {entity!r}")


def entity_row(entity: Entity) -> dict[str, Any]:
    """The ``{id, props}`` row :func:`~graphguard.store.queries.merge_entities` takes."""
    props = node_attributes(entity)
    props["id"] = entity.id
    return {"id": entity.id, "props": props}


def link_row(link: Link) -> tuple[str, dict[str, Any]]:
    """The type and ``{source, target, props}`` row of :func:`~.queries.merge_links`."""
    props = link_attributes(link)
    link_type = str(props.pop("type"))
    return link_type, {"source": link.source_id, "target": link.target_id, "props": props}


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
    """A relationship holding a link id: its type and ends."""

    type: str
    source: str
    target: str


@dataclass
class LoadReport:
    """What one load wrote."""

    nodes: int = 0
    relationships: int = 0
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
    """

    backend = "neo4j"

    def __init__(self, driver: Any, database: str | None = None, batch_size: int = 5_000) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.driver = driver
        self.database = database
        self.batch_size = batch_size

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
        progress: Callable[[int], object] | None = None,
        prune: bool = False,
        wait: float = 60.0,
        user: str | None = None,
        notice: Callable[[str], None] | None = None,
        purpose: str = "load",
    ) -> LoadReport:
        """Write a dataset under the load lock: schema, then nodes, then relationships.

        Idempotent: entities are merged on ``id`` and links on ``link_id``, and every
        property is set from the row, so a second load of the same data changes
        nothing and a changed row updates its node or relationship.  A link whose type
        or ends changed is moved (its old relationship deleted) so no link id is ever
        held twice; a link id of the dataset already held twice is repaired the same
        way.  A load stopped part way and run again converges.

        A link is known by its ``link_id``: a link loaded without one gets an id
        derived from its content, so a corrected row is a new record and the old one
        stays — unless ``prune`` is set, which makes the database hold exactly this
        dataset: entities and links it does not contain are deleted after the load.

        Parameters
        ----------
        dataset : Dataset
            The accepted rows.
        progress : callable, optional
            Called with the number of rows each batch wrote.
        prune : bool, default False
            Delete the entities and links the dataset does not contain.
        wait : float, default 60
            Seconds to wait while another writer holds the load lock.
        user : str, optional
            Who is loading, shown to a writer that has to wait.
        notice : callable, optional
            Told in one line when this load waits, or takes over an abandoned lock.
        purpose : str, default "load"
            What this load is, shown to a writer that has to wait.
        """
        start = time.perf_counter()
        report = LoadReport()
        with self.reachable("loading"):
            self.check_free_space(len(dataset))
            with self.lock(purpose, wait=wait, user=user, notice=notice) as lock:
                self.apply_schema()
                self._load(dataset, lock, report, progress or (lambda _n: None), prune)
        report.seconds = time.perf_counter() - start
        return report

    def _load(
        self,
        dataset: Dataset,
        lock: LoadLock,
        report: LoadReport,
        tick: Callable[[int], object],
        prune: bool,
    ) -> None:
        report.nodes = self.write_entities(dataset.entities(), lock, report, tick)
        existing = self.existing_links()
        stale: dict[str, set[str]] = defaultdict(set)  # type -> link ids to delete
        rows: list[tuple[str, dict[str, Any]]] = []
        for link in dataset.links:
            link_type, row = link_row(link)
            wanted = LinkHolder(link_type, link.source_id, link.target_id)
            holders = existing.get(link.link_id, [])
            wrong = [holder for holder in holders if holder != wanted]
            for holder in wrong:
                stale[holder.type].add(link.link_id)
            if len(holders) > 1:
                report.repaired_duplicates += 1
            elif wrong:
                report.moved += 1
            rows.append((link_type, row))
        self.delete_links(stale, lock, report)
        report.relationships = self.write_links(rows, lock, report, tick)
        kept = {link.link_id for link in dataset.links}
        if prune:
            self._prune(dataset, kept, existing, lock, report)
        else:
            report.duplicates_left = sorted(
                link_id for link_id, h in existing.items() if len(h) > 1 and link_id not in kept
            )

    def write_entities(
        self,
        entities: Iterable[Entity],
        lock: LoadLock,
        report: LoadReport,
        tick: Callable[[int], object] = lambda _n: None,
    ) -> int:
        """Upsert entities in batches, one transaction each; how many were written."""
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for entity in entities:
            groups[entity_labels(entity)].append(entity_row(entity))
        written = 0
        for labels, rows in groups.items():
            query = queries.merge_entities(labels)
            for batch in _batches(rows, self.batch_size):
                self._write(query, batch, lock, report)
                written += len(batch)
                tick(len(batch))
        return written

    def write_links(
        self,
        rows: list[tuple[str, dict[str, Any]]],
        lock: LoadLock,
        report: LoadReport,
        tick: Callable[[int], object] = lambda _n: None,
    ) -> int:
        """Upsert links (``(type, row)`` from :func:`link_row`) in batches; how many."""
        by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for link_type, row in rows:
            by_type[link_type].append(row)
        written = 0
        for link_type, typed in sorted(by_type.items()):
            query = queries.merge_links(link_type)
            for batch in _batches(typed, self.batch_size):
                self._write(query, batch, lock, report)
                written += len(batch)
                tick(len(batch))
        return written

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
        dataset: Dataset,
        kept: set[str],
        existing: dict[str, list[LinkHolder]],
        lock: LoadLock,
        report: LoadReport,
    ) -> None:
        stale: dict[str, set[str]] = defaultdict(set)
        for link_id, holders in existing.items():
            if link_id not in kept:
                for holder in holders:
                    stale[holder.type].add(link_id)
                    report.pruned_relationships += 1
        self.delete_links(stale, lock, report)
        ids = {entity.id for entity in dataset.entities()}
        with self._session(default_access_mode="READ") as session:
            gone = [r["id"] for r in session.run(queries.ENTITY_IDS) if r["id"] not in ids]
        self.delete(queries.DELETE_ENTITIES, gone, lock, report)
        report.pruned_nodes += len(gone)

    def _write(self, query: str, rows: list[Any], lock: LoadLock, report: LoadReport) -> None:
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
            counts = session.execute_write(work)
        report.batches += 1
        for key, value in counts.items():
            report.counters[key] = report.counters.get(key, 0) + value

    def existing_links(self) -> dict[str, list[LinkHolder]]:
        """Which relationships hold each link id (more than one is a duplicate)."""
        found: dict[str, list[LinkHolder]] = defaultdict(list)
        with self._session(default_access_mode="READ") as session:
            for record in session.run(queries.EXISTING_LINKS):
                found[record["link_id"]].append(
                    LinkHolder(record["type"], record["source"], record["target"])
                )
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
        with (
            self.reachable("reading the graph"),
            self._session(default_access_mode="READ") as session,
        ):
            for record in session.run(queries.READ_ENTITIES, params):
                props = native_properties(record["props"])
                props.pop("id", None)
                graph.add_node(record["id"], **props)
            for record in session.run(queries.READ_LINKS, params):
                props = native_properties(record["props"])
                props["type"] = record["type"]
                graph.add_edge(record["source"], record["target"], key=props["link_id"], **props)
        return finish_graph(graph, filters)

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
