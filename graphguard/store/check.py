"""``graphguard check``: does Neo4j hold exactly a dataset?  And, asked to, make it so.

The check reads every entity and every relationship between entities back from Neo4j
(and, in version 2, every record) back from Neo4j and compares them, element by
element, with what a load of the dataset writes: counts per label and per relationship
type, a content hash of each side (the digest of every element's content hash, the one
implementation in :mod:`graphguard.store.content` that the loader stores on each
element, so equal hashes mean equal content), and the differences by id — missing,
extra and changed entities, records and links (an element whose stored hash is stale
counts as changed: a load trusts stored hashes), and link ids held by more than one
relationship (Neo4j Community cannot forbid that across relationship types).

A repair, under the load lock, does what ``load --prune`` does, but from the
differences, so it touches only what is wrong: it deletes extra entities and every
relationship that is extra or holds a link id in the wrong type or between the wrong
ends, then writes the missing and changed elements with the loader's own statements.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphguard.ingest import Dataset
from graphguard.store import queries
from graphguard.store.content import HASH_PROPERTY, digest
from graphguard.store.lock import LoadLock
from graphguard.store.neo4j import LoadReport, Neo4jStore, native_properties
from graphguard.store.rows import RECORD_LABEL, entity_hash, link_hash, record_hash
from graphguard.store.stored import StoredForm

__all__ = ["CheckReport", "RepairReport", "check", "repair"]


#: A relationship: element id (None on the dataset's side), link id (None when it has
#: none), type, source, target, properties (without the stored hash), stored hash.
_Link = tuple[str | None, str | None, str, str, str, dict[str, Any], str | None]

#: An entity: labels, properties (without the stored hash), stored hash.
_Node = tuple[tuple[str, ...], dict[str, Any], str | None]

#: A record: the entity ids it is resolved to, properties, stored hash.
_Record = tuple[tuple[str, ...], dict[str, Any], str | None]


def _split(props: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    props = dict(props)
    return props, props.pop(HASH_PROPERTY, None)


@dataclass(frozen=True)
class _Side:
    """One side's elements: entities and records by id, relationships with element ids."""

    entities: dict[str, _Node]
    links: list[_Link]
    records: dict[str, _Record]

    def counts(self) -> dict[str, int]:
        counted: Counter[str] = Counter()
        for labels, _, _ in self.entities.values():
            counted.update(labels)
        counted.update(link[2] for link in self.links)
        if self.records:
            counted["Record"] = len(self.records)
            counted["RESOLVED_TO"] = sum(len(r[0]) for r in self.records.values())
        return dict(counted)

    def entity_hash(self, entity_id: str) -> str:
        labels, props, _ = self.entities[entity_id]
        return entity_hash(entity_id, labels, props)

    def record_hash(self, record_id: str) -> str:
        entities, props, _ = self.records[record_id]
        entity = entities[0] if len(entities) == 1 else list(entities)
        return record_hash(record_id, entity, props)

    @staticmethod
    def link_hash(link: _Link) -> str:
        _, link_id, link_type, source, target, props, _ = link
        return link_hash(link_id, link_type, source, target, props)

    def content_hash(self) -> str:
        """The digest of every element's content hash, computed from what it holds."""
        hashes = [self.entity_hash(i) for i in self.entities]
        hashes += [self.record_hash(i) for i in self.records]
        hashes += [self.link_hash(link) for link in self.links]
        return digest(hashes)


def _dataset_side(form: StoredForm) -> _Side:
    entities: dict[str, _Node] = {}
    for row in form.entities:
        props, stored = _split(row["props"])
        entities[row["id"]] = (tuple(sorted(("Entity", *row["labels"]))), props, stored)
    links: list[_Link] = []
    for link_type, row in form.links:
        props, stored = _split(row["props"])
        link_id = props["link_id"]
        links.append((None, link_id, link_type, row["source"], row["target"], props, stored))
    side_records: dict[str, _Record] = {}
    for row in form.records:
        props, stored = _split(row["props"])
        side_records[row["id"]] = ((row["entity"],), props, stored)
    return _Side(entities, links, side_records)


def _neo4j_side(store: Neo4jStore) -> _Side:
    entities: dict[str, _Node] = {}
    for record in store.read(queries.CHECK_ENTITIES):
        props, stored = _split(native_properties(record["props"]))
        entities[record["id"]] = (tuple(sorted(record["labels"])), props, stored)
    links: list[_Link] = []
    for record in store.read(queries.CHECK_LINKS):
        props, stored = _split(native_properties(record["props"]))
        element = (record["element_id"], props.get("link_id"), record["type"])
        links.append((*element, record["source"], record["target"], props, stored))
    side_records: dict[str, _Record] = {}
    for record in store.read(queries.CHECK_RECORDS):
        props, stored = _split(native_properties(record["props"]))
        side_records[record["id"]] = (tuple(sorted(record["entities"])), props, stored)
    return _Side(entities, links, side_records)


@dataclass
class CheckReport:
    """How Neo4j differs from a dataset (every list sorted; empty lists: no difference)."""

    dataset_counts: dict[str, int]
    neo4j_counts: dict[str, int]
    dataset_hash: str
    neo4j_hash: str
    missing_entities: list[str] = field(default_factory=list)
    extra_entities: list[str] = field(default_factory=list)
    changed_entities: list[str] = field(default_factory=list)
    #: v2: record ids missing from Neo4j, in Neo4j only, and that differ (a property,
    #: or the entity the record is resolved to).
    missing_records: list[str] = field(default_factory=list)
    extra_records: list[str] = field(default_factory=list)
    changed_records: list[str] = field(default_factory=list)
    missing_links: list[str] = field(default_factory=list)
    #: Link ids in Neo4j but not in the dataset (``"(no link_id)"`` for relationships
    #: without one).
    extra_links: list[str] = field(default_factory=list)
    changed_links: list[str] = field(default_factory=list)
    #: Link ids held by more than one relationship, with how many hold each.
    duplicate_link_ids: dict[str, int] = field(default_factory=dict)
    # What a repair does: element ids to delete, ids of what to (re)write.
    _delete_relationships: list[str] = field(default_factory=list, repr=False)
    _write_entities: list[str] = field(default_factory=list, repr=False)
    _write_records: list[str] = field(default_factory=list, repr=False)
    _write_links: list[str] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        """Whether Neo4j holds exactly the dataset."""
        # A stale stored content hash is a difference too (a load would trust it), and
        # is listed as a changed element while the content digests still agree.
        return (
            self.dataset_hash == self.neo4j_hash
            and not self.duplicate_link_ids
            and not (self.changed_entities or self.changed_records or self.changed_links)
        )

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (``check --format json``)."""
        return {
            "ok": self.ok,
            "counts": {
                name: {
                    "dataset": self.dataset_counts.get(name, 0),
                    "neo4j": self.neo4j_counts.get(name, 0),
                }
                for name in count_names(self)
            },
            "content_hash": {"dataset": self.dataset_hash, "neo4j": self.neo4j_hash},
            "missing_entities": self.missing_entities,
            "extra_entities": self.extra_entities,
            "changed_entities": self.changed_entities,
            "missing_records": self.missing_records,
            "extra_records": self.extra_records,
            "changed_records": self.changed_records,
            "missing_links": self.missing_links,
            "extra_links": self.extra_links,
            "changed_links": self.changed_links,
            "duplicate_link_ids": self.duplicate_link_ids,
        }


def count_names(report: CheckReport) -> list[str]:
    """The labels, then the relationship types, either side counts."""
    names = set(report.dataset_counts) | set(report.neo4j_counts)
    labels = [n for n in ("Entity", *queries.ENTITY_LABELS, RECORD_LABEL) if n in names]
    return labels + sorted(names - set(labels))


def _differences(
    expected: dict[str, _Node],
    expected_hash: Callable[[str], str],
    actual: dict[str, _Node],
    actual_hash: Callable[[str], str],
) -> tuple[list[str], list[str], list[str]]:
    """The missing, changed and extra ids of one kind of node (entities or records), sorted.

    A node is as it should be when what it holds hashes to the dataset's hash and it
    carries that hash (so that a load, which trusts stored hashes, skips it rightly).
    """
    missing: list[str] = []
    changed: list[str] = []
    for node_id in expected:
        if node_id not in actual:
            missing.append(node_id)
            continue
        wanted = expected_hash(node_id)
        if (actual_hash(node_id), actual[node_id][2]) != (wanted, wanted):
            changed.append(node_id)
    return sorted(missing), sorted(changed), sorted(set(actual) - set(expected))


def _compare(expected: _Side, actual: _Side) -> CheckReport:
    report = CheckReport(
        dataset_counts=expected.counts(),
        neo4j_counts=actual.counts(),
        dataset_hash=expected.content_hash(),
        neo4j_hash=actual.content_hash(),
    )
    report.missing_entities, report.changed_entities, report.extra_entities = _differences(
        expected.entities, expected.entity_hash, actual.entities, actual.entity_hash
    )
    report._write_entities = report.missing_entities + report.changed_entities
    report.missing_records, report.changed_records, report.extra_records = _differences(
        expected.records, expected.record_hash, actual.records, actual.record_hash
    )
    report._write_records = report.missing_records + report.changed_records

    holders: dict[str | None, list[_Link]] = defaultdict(list)
    for link in actual.links:
        holders[link[1]].append(link)
    for link in holders.pop(None, []):
        report.extra_links.append("(no link_id)")
        report._delete_relationships.append(str(link[0]))
    wanted_links = {str(link[1]): link for link in expected.links}
    for link_id, held in holders.items():
        assert link_id is not None
        if len(held) > 1:
            report.duplicate_link_ids[link_id] = len(held)
        if link_id not in wanted_links:
            report.extra_links.append(link_id)
            report._delete_relationships.extend(str(h[0]) for h in held)
            continue
        want = wanted_links[link_id]
        wanted = _Side.link_hash(want)
        exact = [h for h in held if (_Side.link_hash(h), h[6]) == (wanted, wanted)]
        if not exact:
            report.changed_links.append(link_id)
            report._write_links.append(link_id)
        # Keep one exact holder if there is one, else the holder of the right type
        # between the right ends (the merge rewrites its properties); every other goes.
        keep = exact[:1] or [h for h in held if h[2:5] == want[2:5]]
        report._delete_relationships.extend(str(h[0]) for h in held if h not in keep)
    report.missing_links = sorted(set(wanted_links) - set(holders))
    report._write_links += report.missing_links
    report.extra_links.sort()
    report.changed_links.sort()
    return report


def check(store: Neo4jStore, dataset: Dataset, records: Dataset | None = None) -> CheckReport:
    """Compare Neo4j with ``dataset`` (v2: and its ``records``, the record-level dataset).

    Run it holding the load lock (``with store.lock("check"):``) so that no load
    writes while it reads, and so that a :func:`repair` after it finds the database
    as it was read.
    """
    form = store.stored_form(dataset, records)
    with store.reachable("checking the database"):
        return _compare(_dataset_side(form), _neo4j_side(store))


@dataclass
class RepairReport:
    """What a repair changed, and the check after it."""

    deleted_entities: int
    deleted_relationships: int
    written_entities: int
    written_links: int
    after: CheckReport
    deleted_records: int = 0
    written_records: int = 0


def repair(
    store: Neo4jStore,
    dataset: Dataset,
    found: CheckReport,
    lock: LoadLock,
    progress: Callable[[int], object] | None = None,
    records: Dataset | None = None,
) -> RepairReport:
    """Make Neo4j hold exactly ``dataset``, from the differences ``found`` (under ``lock``).

    ``found`` must have been checked under the same ``lock``, so that nothing has
    changed since (the element ids it names are still the ones it read).
    """
    form = store.stored_form(dataset, records)
    tick = progress or (lambda _n: None)
    load = LoadReport()
    with store.reachable("repairing the database"):
        identities = store.identities
        if identities is not None:
            identities.update(form.identities)  # first, as a load does
        store.apply_schema()
        store.delete(queries.DELETE_RELATIONSHIPS, found._delete_relationships, lock, load)
        store.delete(queries.DELETE_RECORDS, found.extra_records, lock, load)
        deleted_records = load.counters.get("nodes_deleted", 0)
        store.delete(queries.DELETE_ENTITIES, found.extra_entities, lock, load)
        wanted = set(found._write_entities)
        store.write_entities([r for r in form.entities if r["id"] in wanted], lock, load, tick)
        chosen = set(found._write_records)
        record_rows = [row for row in form.records if row["id"] in chosen]
        if record_rows:
            store.write_records(record_rows, lock, load, tick)
        links = set(found._write_links)
        rows = [(t, row) for t, row in form.links if row["props"]["link_id"] in links]
        store.write_links(rows, lock, load, tick)
        store.keep_identities(form)
    return RepairReport(
        deleted_entities=load.counters.get("nodes_deleted", 0) - deleted_records,
        deleted_relationships=load.counters.get("relationships_deleted", 0),
        written_entities=len(wanted),
        written_links=len(rows),
        after=check(store, dataset, records),
        deleted_records=deleted_records,
        written_records=len(record_rows),
    )
