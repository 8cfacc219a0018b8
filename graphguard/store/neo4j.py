"""The Neo4j store: a batched, idempotent loader and a Store that reads the graph back.

The driver is always injected (``Neo4jStore(driver, database=None, batch_size=...)``);
:func:`connect` builds one from settings for the CLI and the dashboard, and turns an
unreachable server or refused credentials into :class:`BackendUnavailable`.

Graph model (DESIGN.md): labels ``Entity`` plus ``Person`` (+ ``YoungPerson`` or
``Adult``), ``Location`` or ``Vehicle``; the entity id in property ``id``; one
relationship per link, of the link's type, keeping ``link_id`` and all provenance.
Labels and relationship types are formatted into queries only from the model's
enums, back-quoted; every value travels as a ``$parameter``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from graphguard.errors import BackendUnavailable
from graphguard.ingest import Dataset
from graphguard.model import Entity, LinkType, Location, Person, Vehicle
from graphguard.paths import cypher_dir
from graphguard.store.base import (
    Filters,
    StoreInfo,
    finish_graph,
    graph_summary,
    link_attributes,
    node_attributes,
)

__all__ = ["Neo4jStore", "LoadReport", "connect", "schema_statements", "entity_labels"]

_ALL_ENTITY_LABELS = ("Person", "YoungPerson", "Adult", "Location", "Vehicle")


def entity_labels(entity: Entity) -> tuple[str, ...]:
    """The Neo4j labels of an entity (besides ``Entity``)."""
    if isinstance(entity, Person):
        return ("Person", "YoungPerson" if entity.role.value == "young_person" else "Adult")
    if isinstance(entity, Location):
        return ("Location",)
    if isinstance(entity, Vehicle):
        return ("Vehicle",)
    raise TypeError(f"not an entity: {entity!r}")


def _quoted(name: str, allowed: Iterable[str]) -> str:
    if name not in set(allowed):
        raise ValueError(f"{name!r} is not a graphguard label or relationship type")
    return f"`{name}`"


def schema_statements(path: Path | None = None) -> list[str]:
    """The statements of ``cypher/schema.cypher``, comments removed."""
    text = (path or cypher_dir() / "schema.cypher").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.strip().startswith("//")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def connect(uri: str, username: str, password: str | None) -> Any:
    """A verified driver for ``uri``, or :class:`BackendUnavailable` with one clear line."""
    import neo4j
    from neo4j.exceptions import AuthError, Neo4jError, ServiceUnavailable

    try:
        driver = neo4j.GraphDatabase.driver(uri, auth=(username, password or ""))
    except (ValueError, neo4j.exceptions.ConfigurationError) as exc:
        raise BackendUnavailable(f"bad NEO4J_URI {uri!r}: {exc}") from None
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


@dataclass
class LoadReport:
    """What one load wrote."""

    nodes: int = 0
    relationships: int = 0
    moved: int = 0
    pruned_nodes: int = 0
    pruned_relationships: int = 0
    batches: int = 0
    seconds: float = 0.0
    counters: dict[str, int] = field(default_factory=dict)


def _native(value: Any) -> Any:
    to_native = getattr(value, "to_native", None)
    if to_native is not None:
        return to_native()
    return value


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

    # ------------------------------------------------------------------ writing
    def _session(self, **kwargs: Any) -> Any:
        return self.driver.session(database=self.database, **kwargs)

    def apply_schema(self) -> None:
        """Create the constraints and indexes of ``cypher/schema.cypher`` (idempotent)."""
        with self._session() as session:
            for statement in schema_statements():
                session.run(statement).consume()

    def load(
        self,
        dataset: Dataset,
        *,
        progress: Callable[[int], None] | None = None,
        prune: bool = False,
    ) -> LoadReport:
        """Write a dataset: schema, then nodes, then relationships, in batches.

        Idempotent: entities are merged on ``id`` and links on ``link_id``, and every
        property is set from the row, so a second load of the same data changes
        nothing and a changed row updates its node or relationship.  A link whose type
        or ends changed is moved (its old relationship deleted) so no link_id is ever
        held twice.  A load stopped part way and run again converges.

        A link is known by its ``link_id``: a link loaded without one gets an id
        derived from its content, so a corrected row is a new record and the old one
        stays — unless ``prune`` is set, which makes the database hold exactly this
        dataset: entities and links it does not contain are deleted after the load.
        """
        import time

        start = time.perf_counter()
        report = LoadReport()
        self.apply_schema()
        tick = progress or (lambda _n: None)

        groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for entity in dataset.entities():
            props = node_attributes(entity)
            props["id"] = entity.id
            groups[entity_labels(entity)].append({"id": entity.id, "props": props})
        for labels, rows in groups.items():
            query = self._node_query(labels)
            for batch in _batches(rows, self.batch_size):
                self._write(query, batch, report)
                report.nodes += len(batch)
                tick(len(batch))

        existing = self._existing_links()
        moved: dict[str, list[str]] = defaultdict(list)
        by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for link in dataset.links:
            props = link_attributes(link)
            link_type = str(props.pop("type"))
            known = existing.get(link.link_id)
            if known is not None and known != (link_type, link.source_id, link.target_id):
                moved[known[0]].append(link.link_id)
            by_type[link_type].append(
                {"source": link.source_id, "target": link.target_id, "props": props}
            )
        for old_type, link_ids in sorted(moved.items()):
            rel = _quoted(old_type, (t.value for t in LinkType))
            for batch in _batches(link_ids, self.batch_size):
                self._write(
                    f"UNWIND $rows AS link_id MATCH ()-[r:{rel} {{link_id: link_id}}]->() DELETE r",
                    batch,
                    report,
                )
                report.moved += len(batch)
        for link_type, rows in sorted(by_type.items()):
            query = self._link_query(link_type)
            for batch in _batches(rows, self.batch_size):
                self._write(query, batch, report)
                report.relationships += len(batch)
                tick(len(batch))
        if prune:
            self._prune(dataset, existing, report)
        report.seconds = time.perf_counter() - start
        return report

    def _prune(
        self, dataset: Dataset, existing: dict[str, tuple[str, str, str]], report: LoadReport
    ) -> None:
        kept = {link.link_id for link in dataset.links}
        stale: dict[str, list[str]] = defaultdict(list)
        for link_id, (link_type, _, _) in existing.items():
            if link_id not in kept:
                stale[link_type].append(link_id)
        for link_type, link_ids in sorted(stale.items()):
            rel = _quoted(link_type, (t.value for t in LinkType))
            for batch in _batches(link_ids, self.batch_size):
                self._write(
                    f"UNWIND $rows AS link_id MATCH ()-[r:{rel} {{link_id: link_id}}]->() DELETE r",
                    batch,
                    report,
                )
                report.pruned_relationships += len(batch)
        ids = {entity.id for entity in dataset.entities()}
        with self._session(default_access_mode="READ") as session:
            gone = [
                r["id"]
                for r in session.run("MATCH (n:Entity) RETURN n.id AS id")
                if r["id"] not in ids
            ]
        for batch in _batches(gone, self.batch_size):
            self._write(
                "UNWIND $rows AS id MATCH (n:Entity {id: id}) DETACH DELETE n", batch, report
            )
            report.pruned_nodes += len(batch)

    @staticmethod
    def _node_query(labels: tuple[str, ...]) -> str:
        remove = ":".join(_quoted(label, _ALL_ENTITY_LABELS) for label in _ALL_ENTITY_LABELS)
        add = ":".join(_quoted(label, _ALL_ENTITY_LABELS) for label in labels)
        return (
            "UNWIND $rows AS row "
            "MERGE (n:Entity {id: row.id}) "
            f"SET n = row.props REMOVE n:{remove} SET n:{add}"
        )

    @staticmethod
    def _link_query(link_type: str) -> str:
        rel = _quoted(link_type, (t.value for t in LinkType))
        return (
            "UNWIND $rows AS row "
            "MATCH (s:Entity {id: row.source}) "
            "MATCH (t:Entity {id: row.target}) "
            f"MERGE (s)-[r:{rel} {{link_id: row.props.link_id}}]->(t) "
            "SET r = row.props"
        )

    def _write(self, query: str, rows: list[Any], report: LoadReport) -> None:
        def work(tx: Any) -> dict[str, int]:
            summary = tx.run(query, rows=rows).consume()
            counters = summary.counters
            return {
                "nodes_created": counters.nodes_created,
                "relationships_created": counters.relationships_created,
                "relationships_deleted": counters.relationships_deleted,
                "properties_set": counters.properties_set,
            }

        with self._session() as session:
            counts = session.execute_write(work)
        report.batches += 1
        for key, value in counts.items():
            report.counters[key] = report.counters.get(key, 0) + value

    def _existing_links(self) -> dict[str, tuple[str, str, str]]:
        query = (
            "MATCH (s:Entity)-[r]->(t:Entity) WHERE r.link_id IS NOT NULL "
            "RETURN r.link_id AS link_id, type(r) AS type, s.id AS source, t.id AS target"
        )
        with self._session() as session:
            return {
                record["link_id"]: (record["type"], record["source"], record["target"])
                for record in session.run(query)
            }

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
        node_filter = (
            "($kinds IS NULL OR coalesce(n.role, n.kind) IN $kinds) AND "
            "($areas IS NULL OR n.kind = 'vehicle' OR toLower(trim(n.area)) IN $areas)"
        )
        link_filter = (
            "($as_of IS NULL OR r.first_seen IS NULL OR r.first_seen <= $as_of) AND "
            "($since IS NULL OR coalesce(r.last_seen, r.first_seen) IS NULL "
            " OR coalesce(r.last_seen, r.first_seen) >= $since) AND "
            "($min_source IS NULL OR (r.source_grade IS NULL AND $ungraded) "
            " OR r.source_grade <= $min_source) AND "
            "($min_intel IS NULL OR (r.intel_grade IS NULL AND $ungraded) "
            " OR r.intel_grade <= $min_intel)"
        )
        with self._session(default_access_mode="READ") as session:
            for record in session.run(
                f"MATCH (n:Entity) WHERE {node_filter} RETURN n.id AS id, properties(n) AS props",
                params,
            ):
                props = {k: _native(v) for k, v in record["props"].items() if k != "id"}
                graph.add_node(record["id"], **props)
            query = (
                "MATCH (s:Entity)-[r]->(t:Entity) "
                f"WHERE {link_filter} AND {node_filter.replace('n.', 's.')} "
                f"AND {node_filter.replace('n.', 't.')} "
                "RETURN s.id AS source, t.id AS target, type(r) AS type, properties(r) AS props"
            )
            for record in session.run(query, params):
                props = {k: _native(v) for k, v in record["props"].items()}
                props["type"] = record["type"]
                graph.add_edge(record["source"], record["target"], key=props["link_id"], **props)
        return finish_graph(graph, filters)

    def info(self) -> StoreInfo:
        summary = graph_summary(self.graph())
        first, last = summary["first_date"], summary["last_date"]
        return StoreInfo(
            backend=self.backend,
            location=f"{getattr(self.driver, 'uri', 'neo4j')} ({self.database or 'default'})",
            counts={**summary["by_kind"], "links": summary["links"]},
            first_date=dt.date.fromisoformat(first) if first else None,
            last_date=dt.date.fromisoformat(last) if last else None,
        )

    def counts(self) -> dict[str, int]:
        """Node, relationship and property counts (for tests and status lines)."""
        with self._session(default_access_mode="READ") as session:
            record = session.run(
                "MATCH (n) WITH count(n) AS nodes, sum(size(keys(n))) AS node_props "
                "OPTIONAL MATCH ()-[r]->() "
                "RETURN nodes, node_props, count(r) AS relationships, "
                "sum(size(keys(r))) AS rel_props"
            ).single()
        assert record is not None
        return {
            "nodes": record["nodes"],
            "relationships": record["relationships"],
            "properties": (record["node_props"] or 0) + (record["rel_props"] or 0),
        }

    def clear(self) -> None:
        """Delete every node and relationship (tests and demos only)."""
        with self._session() as session:
            session.run(
                "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
            ).consume()


def _batches(rows: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
