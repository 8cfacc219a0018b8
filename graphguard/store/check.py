"""``graphguard check``: does Neo4j hold exactly a dataset?  And, asked to, make it so.

The check reads every entity and every relationship between entities back from Neo4j
and compares them, element by element, with what a load of the dataset writes:
counts per label and per relationship type, a content hash of each side (the SHA-256
of the sorted canonical lines of every element, so equal hashes mean equal content),
and the differences by id — missing, extra and changed entities and links, and link
ids held by more than one relationship (Neo4j Community cannot forbid that across
relationship types).

A repair, under the load lock, does what ``load --prune`` does, but from the
differences, so it touches only what is wrong: it deletes extra entities and every
relationship that is extra or holds a link id in the wrong type or between the wrong
ends, then writes the missing and changed elements with the loader's own statements.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphguard.ingest import Dataset
from graphguard.store import queries
from graphguard.store.lock import LoadLock
from graphguard.store.neo4j import (
    LoadReport,
    Neo4jStore,
    entity_labels,
    entity_row,
    link_row,
    native_properties,
)

__all__ = ["CheckReport", "RepairReport", "check", "repair"]


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return {type(value).__name__: value.isoformat()}
    raise TypeError(f"cannot hash a {type(value).__name__}")


def _line(*parts: Any) -> str:
    return json.dumps(parts, sort_keys=True, default=_json_value, ensure_ascii=False)


def _digest(lines: list[str]) -> str:
    sha = hashlib.sha256()
    for line in sorted(lines):
        sha.update(line.encode("utf-8"))
        sha.update(b"\n")
    return sha.hexdigest()


#: A relationship: element id (None on the dataset's side), link id (None when it has
#: none), type, source, target, properties.
_Link = tuple[str | None, str | None, str, str, str, dict[str, Any]]


@dataclass(frozen=True)
class _Side:
    """One side's elements: entities by id, relationships with their element ids."""

    entities: dict[str, tuple[tuple[str, ...], dict[str, Any]]]
    links: list[_Link]

    def counts(self) -> dict[str, int]:
        counted: Counter[str] = Counter()
        for labels, _ in self.entities.values():
            counted.update(labels)
        counted.update(link[2] for link in self.links)
        return dict(counted)

    def content_hash(self) -> str:
        lines = [_line("entity", i, labels, props) for i, (labels, props) in self.entities.items()]
        lines += [_line("link", lid, t, s, e, props) for _, lid, t, s, e, props in self.links]
        return _digest(lines)


def _dataset_side(dataset: Dataset) -> _Side:
    entities = {}
    for entity in dataset.entities():
        row = entity_row(entity)
        entities[entity.id] = (tuple(sorted(("Entity", *entity_labels(entity)))), row["props"])
    links: list[_Link] = []
    for link in dataset.links:
        link_type, row = link_row(link)
        links.append((None, link.link_id, link_type, row["source"], row["target"], row["props"]))
    return _Side(entities, links)


def _neo4j_side(store: Neo4jStore) -> _Side:
    entities = {}
    for record in store.read(queries.CHECK_ENTITIES):
        entities[record["id"]] = (
            tuple(sorted(record["labels"])),
            native_properties(record["props"]),
        )
    links: list[_Link] = []
    for record in store.read(queries.CHECK_LINKS):
        props = native_properties(record["props"])
        element = (record["element_id"], props.get("link_id"), record["type"])
        links.append((*element, record["source"], record["target"], props))
    return _Side(entities, links)


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
    missing_links: list[str] = field(default_factory=list)
    #: Link ids in Neo4j but not in the dataset (``"(no link_id)"`` for relationships
    #: without one).
    extra_links: list[str] = field(default_factory=list)
    changed_links: list[str] = field(default_factory=list)
    #: Link ids held by more than one relationship, with how many hold each.
    duplicate_link_ids: dict[str, int] = field(default_factory=dict)
    # What a repair does: element ids to delete, entity ids and links to (re)write.
    _delete_relationships: list[str] = field(default_factory=list, repr=False)
    _write_entities: list[str] = field(default_factory=list, repr=False)
    _write_links: list[str] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        """Whether Neo4j holds exactly the dataset."""
        return self.dataset_hash == self.neo4j_hash and not self.duplicate_link_ids

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
            "missing_links": self.missing_links,
            "extra_links": self.extra_links,
            "changed_links": self.changed_links,
            "duplicate_link_ids": self.duplicate_link_ids,
        }


def count_names(report: CheckReport) -> list[str]:
    """The labels, then the relationship types, either side counts."""
    names = set(report.dataset_counts) | set(report.neo4j_counts)
    labels = [n for n in ("Entity", *queries.ENTITY_LABELS) if n in names]
    return labels + sorted(names - set(labels))


def _compare(expected: _Side, actual: _Side) -> CheckReport:
    report = CheckReport(
        dataset_counts=expected.counts(),
        neo4j_counts=actual.counts(),
        dataset_hash=expected.content_hash(),
        neo4j_hash=actual.content_hash(),
    )
    for entity_id, element in expected.entities.items():
        found = actual.entities.get(entity_id)
        if found is None:
            report.missing_entities.append(entity_id)
        elif found != element:
            report.changed_entities.append(entity_id)
    report.extra_entities = sorted(set(actual.entities) - set(expected.entities))
    report.missing_entities.sort()
    report.changed_entities.sort()
    report._write_entities = report.missing_entities + report.changed_entities

    holders: dict[str | None, list[tuple[str | None, str, str, str, dict[str, Any]]]]
    holders = defaultdict(list)
    for element_id, link_id, link_type, source, target, props in actual.links:
        holders[link_id].append((element_id, link_type, source, target, props))
    for element_id, *_ in holders.pop(None, []):
        report.extra_links.append("(no link_id)")
        report._delete_relationships.append(str(element_id))
    wanted = {str(lid): (t, s, e, props) for _, lid, t, s, e, props in expected.links}
    for link_id, held in holders.items():
        assert link_id is not None
        if len(held) > 1:
            report.duplicate_link_ids[link_id] = len(held)
        if link_id not in wanted:
            report.extra_links.append(link_id)
            report._delete_relationships.extend(str(h[0]) for h in held)
            continue
        link_type, source, target, props = wanted[link_id]
        exact = [h for h in held if h[1:] == (link_type, source, target, props)]
        if not exact:
            report.changed_links.append(link_id)
            report._write_links.append(link_id)
        # Keep one exact holder if there is one, else the holder of the right type
        # between the right ends (the merge rewrites its properties); every other goes.
        keep = exact[:1] or [h for h in held if h[1:4] == (link_type, source, target)]
        report._delete_relationships.extend(str(h[0]) for h in held if h not in keep)
    report.missing_links = sorted(set(wanted) - set(holders))
    report._write_links += report.missing_links
    report.extra_links.sort()
    report.changed_links.sort()
    return report


def check(store: Neo4jStore, dataset: Dataset) -> CheckReport:
    """Compare Neo4j with ``dataset``.

    Run it holding the load lock (``with store.lock("check"):``) so that no load
    writes while it reads, and so that a :func:`repair` after it finds the database
    as it was read.
    """
    with store.reachable("checking the database"):
        return _compare(_dataset_side(dataset), _neo4j_side(store))


@dataclass
class RepairReport:
    """What a repair changed, and the check after it."""

    deleted_entities: int
    deleted_relationships: int
    written_entities: int
    written_links: int
    after: CheckReport


def repair(
    store: Neo4jStore,
    dataset: Dataset,
    found: CheckReport,
    lock: LoadLock,
    progress: Callable[[int], object] | None = None,
) -> RepairReport:
    """Make Neo4j hold exactly ``dataset``, from the differences ``found`` (under ``lock``).

    ``found`` must have been checked under the same ``lock``, so that nothing has
    changed since (the element ids it names are still the ones it read).
    """
    tick = progress or (lambda _n: None)
    load = LoadReport()
    with store.reachable("repairing the database"):
        store.apply_schema()
        store.delete(queries.DELETE_RELATIONSHIPS, found._delete_relationships, lock, load)
        store.delete(queries.DELETE_ENTITIES, found.extra_entities, lock, load)
        wanted = set(found._write_entities)
        store.write_entities([e for e in dataset.entities() if e.id in wanted], lock, load, tick)
        links = set(found._write_links)
        rows = [link_row(link) for link in dataset.links if link.link_id in links]
        store.write_links(rows, lock, load, tick)
    return RepairReport(
        deleted_entities=load.counters.get("nodes_deleted", 0),
        deleted_relationships=load.counters.get("relationships_deleted", 0),
        written_entities=len(wanted),
        written_links=len(rows),
        after=check(store, dataset),
    )
