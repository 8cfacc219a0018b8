"""Every Cypher statement the Neo4j store runs, named and parameterised, in one place.

As in the Neo4j GraphRAG package's ``neo4j_queries`` module, each statement is a named
constant, or a small function when a label or relationship type must be formatted in.
Values only ever travel as ``$parameters``; a label or type is formatted in only after
it was checked against the model's enums, and back-quoted.  The graph's constraints and
indexes are kept in ``cypher/schema.cypher`` (:func:`schema_statements` reads them).

The load lock (see :mod:`graphguard.store.lock`) is one ``GraphguardLock`` node per
database, its ``name`` unique; it carries no entity label, so nothing that reads the
graph (``MATCH (n:Entity)``) ever sees it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from graphguard.model import LinkType
from graphguard.paths import cypher_dir

__all__ = [
    "ENTITY_LABELS",
    "LINK_TYPES",
    "schema_statements",
    "merge_entities",
    "merge_links",
    "create_entities",
    "create_links",
    "delete_links",
    "CREATE_RECORDS",
    "UPDATE_RECORDS",
    "MERGE_SOURCES",
    "DELETE_RECORDS",
    "DELETE_ORPHANS",
    "EXISTING_ENTITIES",
    "EXISTING_RECORDS",
    "HELD_KEYS",
    "RECORDS_PRESENT",
    "CHECK_RECORDS",
    "DELETE_ENTITIES",
    "DELETE_RELATIONSHIPS",
    "CLEAR",
    "EXISTING_LINKS",
    "READ_ENTITIES",
    "READ_LINKS",
    "CHECK_ENTITIES",
    "CHECK_LINKS",
    "COUNTS",
    "DUPLICATE_LINK_IDS",
    "DATA_DIRECTORY",
    "AWAIT_INDEXES",
    "LOCK_CONSTRAINT",
    "LOCK_TAKE",
    "LOCK_READ",
    "LOCK_TOUCH",
    "LOCK_RELEASE",
]

#: The labels an entity may carry besides ``Entity``.
ENTITY_LABELS: tuple[str, ...] = ("Person", "YoungPerson", "Adult", "Location", "Vehicle")

#: The relationship types: the link types of DATA-FORMAT.md.
LINK_TYPES: tuple[str, ...] = tuple(t.value for t in LinkType)


def _quoted(name: str, allowed: Iterable[str]) -> str:
    if name not in set(allowed):
        raise ValueError(f"{name!r} is not a graphguard label or relationship type")
    return f"`{name}`"


def schema_statements(path: Path | None = None) -> list[str]:
    """The statements of ``cypher/schema.cypher``, comments removed."""
    text = (path or cypher_dir() / "schema.cypher").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.strip().startswith("//")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


# ---------------------------------------------------------------------------- writing


def merge_entities(labels: tuple[str, ...]) -> str:
    """Upsert entities of these labels: ``$rows`` of ``{id, props}``.

    Every property is replaced from the row and every other entity label removed, so a
    person whose role changed loses the old role's label.
    """
    remove = ":".join(_quoted(label, ENTITY_LABELS) for label in ENTITY_LABELS)
    add = ":".join(_quoted(label, ENTITY_LABELS) for label in labels)
    return (
        "UNWIND $rows AS row "
        "MERGE (n:Entity {id: row.id}) "
        f"SET n = row.props REMOVE n:{remove} SET n:{add}"
    )


def merge_links(link_type: str) -> str:
    """Upsert relationships of one type: ``$rows`` of ``{source, target, props}``.

    Merged on ``link_id`` between the two ends, every property replaced from the row.
    """
    rel = _quoted(link_type, LINK_TYPES)
    return (
        "UNWIND $rows AS row "
        "MATCH (s:Entity {id: row.source}) "
        "MATCH (t:Entity {id: row.target}) "
        f"MERGE (s)-[r:{rel} {{link_id: row.props.link_id}}]->(t) "
        "SET r = row.props"
    )


def create_entities(labels: tuple[str, ...]) -> str:
    """Create entities the load found missing: ``$rows`` of ``{id, props}``.

    Only ever run under the load lock for ids it read as absent, so it cannot make a
    duplicate (and the ``entity_id`` constraint would refuse one); creating is several
    times cheaper than merging.
    """
    add = ":".join(_quoted(label, ENTITY_LABELS) for label in labels)
    return f"UNWIND $rows AS row CREATE (n:Entity:{add}) SET n = row.props"


def create_links(link_type: str) -> str:
    """Create relationships of one type the load found missing: ``$rows`` as merge_links."""
    rel = _quoted(link_type, LINK_TYPES)
    return (
        "UNWIND $rows AS row "
        "MATCH (s:Entity {id: row.source}) "
        "MATCH (t:Entity {id: row.target}) "
        f"CREATE (s)-[r:{rel}]->(t) SET r = row.props"
    )


def delete_links(link_type: str) -> str:
    """Delete the relationships of one type holding the link ids in ``$rows``."""
    rel = _quoted(link_type, LINK_TYPES)
    return f"UNWIND $rows AS link_id MATCH ()-[r:{rel} {{link_id: link_id}}]->() DELETE r"


#: Create the records the load found missing, each resolved to its entity: ``$rows`` of
#: ``{id, entity, props}``.
CREATE_RECORDS = (
    "UNWIND $rows AS row "
    "MATCH (e:Entity {id: row.entity}) "
    "CREATE (r:Record)-[:RESOLVED_TO]->(e) SET r = row.props"
)

#: Rewrite changed records and re-point each to its entity (a merge or an un-merge moves
#: a record by deleting one RESOLVED_TO and creating another): rows as CREATE_RECORDS.
UPDATE_RECORDS = (
    "UNWIND $rows AS row "
    "MATCH (r:Record {record_id: row.id}) "
    "SET r = row.props "
    "WITH r, row "
    "CALL (r) { MATCH (r)-[old:RESOLVED_TO]->() DELETE old } "
    "WITH r, row "
    "MATCH (e:Entity {id: row.entity}) "
    "CREATE (r)-[:RESOLVED_TO]->(e)"
)

#: The sources of a v2 dataset: ``$rows`` of ``{name, props}`` (a handful: always written).
MERGE_SOURCES = "UNWIND $rows AS row MERGE (s:Source {name: row.name}) SET s = row.props"

#: Delete the records whose record ids are in ``$rows``.
DELETE_RECORDS = "UNWIND $rows AS id MATCH (r:Record {record_id: id}) DETACH DELETE r"

#: Delete the entities in ``$rows`` that no record resolves to any more (a merge folded
#: them into another entity), with their relationships.
DELETE_ORPHANS = (
    "UNWIND $rows AS id MATCH (n:Entity {id: id}) "
    "WHERE NOT EXISTS { (n)<-[:RESOLVED_TO]-(:Record) } DETACH DELETE n"
)

#: Delete the entities whose ids are in ``$rows``, with their relationships.
DELETE_ENTITIES = "UNWIND $rows AS id MATCH (n:Entity {id: id}) DETACH DELETE n"

#: Delete the relationships whose element ids are in ``$rows`` (only ever ids read
#: under the load lock, so no other writer can have reused them).
DELETE_RELATIONSHIPS = (
    "UNWIND $rows AS element_id MATCH ()-[r]->() WHERE elementId(r) = element_id DELETE r"
)

#: Delete every node and relationship except the load lock (tests and demos).
CLEAR = (
    "MATCH (n) WHERE NOT n:GraphguardLock "
    "CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
)

# ---------------------------------------------------------------------------- reading

#: Every relationship holding a link id, with its type and content hash (what a load
#: compares the dataset with; the hash covers the ends, so they need not be read).
EXISTING_LINKS = (
    "MATCH ()-[r]->() WHERE r.link_id IS NOT NULL "
    "RETURN r.link_id AS link_id, type(r) AS type, r.content_hash AS hash"
)

#: Every entity's id and content hash, and whether records resolve to it (v2).
EXISTING_ENTITIES = (
    "MATCH (n:Entity) "
    # Any relationship from a Record is its RESOLVED_TO; naming the type would make Neo4j
    # warn about an unknown type on a database that never held a v2 load.
    "RETURN n.id AS id, n.content_hash AS hash, EXISTS { (n)<--(:Record) } AS resolved"
)

#: Which of the record ids in ``$ids`` Neo4j holds.
RECORDS_PRESENT = "UNWIND $ids AS id MATCH (r:Record {record_id: id}) RETURN id"

#: The identity store's key of every element Neo4j holds (graphguard.store.stored):
#: a young person's or record's pseudonym, and entity:, record:, link: of every id.
HELD_KEYS = (
    "MATCH (n:YoungPerson) RETURN n.id AS key "
    "UNION ALL MATCH (n:Entity) RETURN 'entity:' + n.id AS key "
    "UNION ALL MATCH (r:Record) RETURN r.record_id AS key "
    "UNION ALL MATCH (r:Record) RETURN 'record:' + r.record_id AS key "
    "UNION ALL MATCH (:Entity)-[l]->(:Entity) WHERE l.link_id IS NOT NULL "
    "RETURN 'link:' + l.link_id AS key"
)

#: Every record's id and content hash.
EXISTING_RECORDS = "MATCH (r:Record) RETURN r.record_id AS id, r.content_hash AS hash"


# The filters of Store.graph, on one node ``n`` or relationship ``r``; ``None``
# parameters switch a condition off.
_NODE_FILTER = (
    "($kinds IS NULL OR coalesce(n.role, n.kind) IN $kinds) AND "
    "($areas IS NULL OR n.kind = 'vehicle' OR toLower(trim(n.area)) IN $areas)"
)
_LINK_FILTER = (
    "($as_of IS NULL OR r.first_seen IS NULL OR r.first_seen <= $as_of) AND "
    "($since IS NULL OR coalesce(r.last_seen, r.first_seen) IS NULL "
    " OR coalesce(r.last_seen, r.first_seen) >= $since) AND "
    "($min_source IS NULL OR (r.source_grade IS NULL AND $ungraded) "
    " OR r.source_grade <= $min_source) AND "
    "($min_intel IS NULL OR (r.intel_grade IS NULL AND $ungraded) "
    " OR r.intel_grade <= $min_intel)"
)

#: The entities passing the filters ``$kinds``, ``$areas``.
READ_ENTITIES = f"MATCH (n:Entity) WHERE {_NODE_FILTER} RETURN n.id AS id, properties(n) AS props"

#: The links passing the filters ``$as_of``, ``$since``, ``$min_source``, ``$min_intel``,
#: ``$ungraded`` whose two ends pass ``$kinds`` and ``$areas``.
READ_LINKS = (
    "MATCH (s:Entity)-[r]->(t:Entity) "
    f"WHERE {_LINK_FILTER} AND {_NODE_FILTER.replace('n.', 's.')} "
    f"AND {_NODE_FILTER.replace('n.', 't.')} "
    "RETURN s.id AS source, t.id AS target, type(r) AS type, properties(r) AS props"
)

#: Every entity with its labels, for ``graphguard check``.
CHECK_ENTITIES = "MATCH (n:Entity) RETURN n.id AS id, labels(n) AS labels, properties(n) AS props"

#: Every relationship between entities, for ``graphguard check`` (element ids so that a
#: repair can delete exactly one of two relationships holding the same link id).
CHECK_LINKS = (
    "MATCH (s:Entity)-[r]->(t:Entity) "
    "RETURN elementId(r) AS element_id, type(r) AS type, s.id AS source, t.id AS target, "
    "properties(r) AS props"
)

#: Every record with the entity it is resolved to, for ``graphguard check`` (``entities``
#: lists every entity it points to: more than one is a fault).
CHECK_RECORDS = (
    "MATCH (r:Record) OPTIONAL MATCH (r)-->(e:Entity) "
    "RETURN r.record_id AS id, labels(r) AS labels, properties(r) AS props, "
    "collect(e.id) AS entities"
)

#: Node, relationship and property counts of the data (not graphguard's lock or meeting nodes).
COUNTS = (
    "MATCH (n) WHERE NOT n:GraphguardLock AND NOT n:GraphguardMeeting "
    "WITH count(n) AS nodes, sum(size(keys(n))) AS node_props "
    "OPTIONAL MATCH ()-[r]->() "
    "RETURN nodes, node_props, count(r) AS relationships, sum(size(keys(r))) AS rel_props"
)

#: Link ids held by more than one relationship (of any types): ``link_id``, ``holders``.
DUPLICATE_LINK_IDS = (
    "MATCH ()-[r]->() WHERE r.link_id IS NOT NULL "
    "WITH r.link_id AS link_id, count(r) AS holders WHERE holders > 1 "
    "RETURN link_id, holders ORDER BY link_id"
)

#: Wait up to ``$seconds`` for every index to come online (after an import).
AWAIT_INDEXES = "CALL db.awaitIndexes($seconds)"

#: Where the server keeps its databases (for the free-space check of a local server).
DATA_DIRECTORY = (
    "SHOW SETTINGS YIELD name, value WHERE name = 'server.directories.data' RETURN value"
)

# ---------------------------------------------------------------------------- the load lock

#: One lock node per name: the constraint makes taking it atomic.
LOCK_CONSTRAINT = (
    "CREATE CONSTRAINT graphguard_lock_name IF NOT EXISTS "
    "FOR (l:GraphguardLock) REQUIRE l.name IS UNIQUE"
)

#: Take the lock ``$name`` (fails with a constraint error while somebody holds it).
LOCK_TAKE = (
    "CREATE (:GraphguardLock {name: $name, token: $token, purpose: $purpose, user: $user, "
    "host: $host, pid: $pid, started: datetime(), heartbeat: datetime()})"
)

#: Who holds the lock ``$name``, and for how many seconds they have been silent
#: (measured on the server's clock, so two machines' clocks need not agree).
LOCK_READ = (
    "MATCH (l:GraphguardLock {name: $name}) "
    "RETURN l.token AS token, l.purpose AS purpose, l.user AS user, l.host AS host, "
    "l.pid AS pid, toString(l.started) AS started, "
    "duration.inSeconds(l.heartbeat, datetime()).seconds AS idle_seconds"
)

#: Mark the lock ``$name`` as still held by ``$token``; ``held`` is 0 when it is not.
#: Run first in every write transaction of a load, it also takes the lock node's write
#: lock, so a takeover cannot slip in between this check and the batch's writes.
LOCK_TOUCH = (
    "MATCH (l:GraphguardLock {name: $name, token: $token}) "
    "SET l.heartbeat = datetime() RETURN count(l) AS held"
)

#: Release (or break, when it is stale) the lock ``$name`` held by ``$token``.
LOCK_RELEASE = "MATCH (l:GraphguardLock {name: $name, token: $token}) DELETE l"
