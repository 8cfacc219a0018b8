"""What the Neo4j store writes for each element: labels or type, properties, content hash.

Three kinds of element (docs/loading.md, "The graph model"):

* an **entity** node (``Entity`` plus ``Person``/``YoungPerson``/``Adult``,
  ``Location`` or ``Vehicle``), keyed by ``id`` (a young person's: their pseudonym):
  one per entity of the (entity-level) dataset;
* a **record** node (``Record``, v2 only), keyed by ``record_id`` (the qualified id
  ``source:local_id``; a young person's: its pseudonym), with the record's own
  attributes and one ``RESOLVED_TO`` relationship to its entity: a merge or an
  un-merge of entities re-points records;
* a **link** relationship between two entities, of the link's type, keyed by
  ``link_id``; in v2 it also carries the (stored) record ids of its two ends as the
  agency wrote them (``source_record``, ``target_record``), so a record that moves to another entity
  takes exactly its links with it.

Each row carries its content hash (:mod:`graphguard.store.content`) in its properties,
so a reload writes only rows whose hash Neo4j does not hold already.

What a young person's entity, record and link hold (pseudonyms, no identifying
property, scrubbed text) is decided in one place, :func:`graphguard.store.stored.stored_form`,
which builds every row from the helpers here.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any

from graphguard.model import Entity, Location, Person, Vehicle
from graphguard.resolve.types import SourceInfo
from graphguard.store.content import element_hash

__all__ = [
    "RECORD_LABEL",
    "RESOLVED_TO",
    "entity_hash",
    "entity_labels",
    "link_hash",
    "plain_values",
    "record_hash",
    "source_row",
]

#: The label of a source record's node (v2).
RECORD_LABEL = "Record"
#: The relationship from a record to the entity it was resolved to.
RESOLVED_TO = "RESOLVED_TO"


def entity_labels(entity: Entity) -> tuple[str, ...]:
    """The Neo4j labels of an entity (besides ``Entity``)."""
    if isinstance(entity, Person):
        return ("Person", "YoungPerson" if entity.role.value == "young_person" else "Adult")
    if isinstance(entity, Location):
        return ("Location",)
    if isinstance(entity, Vehicle):
        return ("Vehicle",)
    raise TypeError(f"not an entity: {entity!r}")


def plain_values(props: dict[str, Any]) -> dict[str, Any]:
    """``props`` with tuples as lists of plain values (what Neo4j holds), changed in place."""
    # Neo4j holds lists, not tuples, and plain strings: aliases and categories are
    # tuples (of enums) in the model; every other value is plain already.
    for name, value in props.items():
        if type(value) is tuple:
            props[name] = [v.value if isinstance(v, Enum) else v for v in value]
    return props


def entity_hash(entity_id: str, labels: Iterable[str], props: dict[str, Any]) -> str:
    """The content hash of an entity node: its id, every label (``Entity`` too), properties."""
    return element_hash("entity", entity_id, sorted(labels), props)


def record_hash(record_id: str, entity: str | list[str], props: dict[str, Any]) -> str:
    """The content hash of a record node: its id, the entity it resolves to, properties.

    ``entity`` is a list when a record node resolves to more than one (only ever found
    in Neo4j, by ``check``: the loader resolves each record to one).
    """
    return element_hash("record", record_id, [RECORD_LABEL], entity, props)


def link_hash(
    link_id: str | None, link_type: str, source: str, target: str, props: dict[str, Any]
) -> str:
    """The content hash of a link relationship: its id, type, both ends, properties."""
    return element_hash("link", link_id, link_type, source, target, props)


def source_row(name: str, info: SourceInfo) -> dict[str, Any]:
    """``{name, props}`` of a source node (v2): its name, agency, extract date, contact."""
    props = {
        k: v
        for k, v in (
            ("name", name),
            ("agency", info.agency),
            ("extracted_on", info.extracted_on),
            ("contact", info.contact),
        )
        if v is not None
    }
    return {"name": name, "props": props}
