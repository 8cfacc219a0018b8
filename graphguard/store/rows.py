"""What the Neo4j store writes for each element: labels or type, properties, content hash.

Three kinds of element (docs/loading.md, "The graph model"):

* an **entity** node (``Entity`` plus ``Person``/``YoungPerson``/``Adult``,
  ``Location`` or ``Vehicle``), keyed by ``id``: one per entity of the (entity-level)
  dataset, exactly as in version 1;
* a **record** node (``Record``, v2 only), keyed by ``record_id`` (the qualified id
  ``source:local_id``), with the record's own attributes and one ``RESOLVED_TO``
  relationship to its entity: a merge or an un-merge of entities re-points records;
* a **link** relationship between two entities, of the link's type, keyed by
  ``link_id``; in v2 it also carries the record ids of its two ends as the agency wrote
  them (``source_record``, ``target_record``), so a record that moves to another entity
  takes exactly its links with it.

Each row carries its content hash (:mod:`graphguard.store.content`) in its properties,
so a reload writes only rows whose hash Neo4j does not hold already.

A young person's record node holds no identifying property (name, aliases, date of
birth, contact details, identifiers: :func:`graphguard.privacy.is_identifying`): it
names those it recorded in ``identity_recorded`` instead.  The entity node keeps what it
kept in version 1, no more, so the records add no copy of a child's identity to Neo4j.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any

from graphguard.model import Entity, Link, Location, Person, Role, Vehicle
from graphguard.privacy import is_identifying
from graphguard.resolve.types import SourceInfo, split_qualified
from graphguard.store.base import link_attributes, node_attributes
from graphguard.store.content import HASH_PROPERTY, element_hash

__all__ = [
    "RECORD_LABEL",
    "RESOLVED_TO",
    "entity_hash",
    "entity_labels",
    "entity_row",
    "link_hash",
    "link_row",
    "record_hash",
    "record_row",
    "source_row",
]

#: The label of a source record's node (v2).
RECORD_LABEL = "Record"
#: The relationship from a record to the entity it was resolved to.
RESOLVED_TO = "RESOLVED_TO"

# The record's own id fields repeat record_id.
_RECORD_ID_FIELDS = frozenset({"person_id", "location_id", "vehicle_id"})


def entity_labels(entity: Entity) -> tuple[str, ...]:
    """The Neo4j labels of an entity (besides ``Entity``)."""
    if isinstance(entity, Person):
        return ("Person", "YoungPerson" if entity.role.value == "young_person" else "Adult")
    if isinstance(entity, Location):
        return ("Location",)
    if isinstance(entity, Vehicle):
        return ("Vehicle",)
    raise TypeError(f"not an entity: {entity!r}")


def _stored(props: dict[str, Any]) -> dict[str, Any]:
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


def entity_row(entity: Entity) -> dict[str, Any]:
    """``{id, labels, props}`` of an entity node; ``props`` holds its content hash.

    The hash covers the id, every label (``Entity`` included) and every property.
    """
    props = _stored(node_attributes(entity))
    props["id"] = entity.id
    labels = entity_labels(entity)
    props[HASH_PROPERTY] = entity_hash(entity.id, ("Entity", *labels), props)
    return {"id": entity.id, "labels": labels, "props": props}


def link_row(link: Link, ends: tuple[str, str] | None = None) -> tuple[str, dict[str, Any]]:
    """The type and ``{source, target, props}`` row of a link; ``props`` holds its hash.

    ``ends`` are the record ids of the link's source and target as its record named
    them (v2): stored as ``source_record`` and ``target_record``.  The hash covers the
    link id, the type, both ends and every property.
    """
    props = link_attributes(link)  # no tuples among a link's fields
    link_type = str(props.pop("type"))
    if ends is not None:
        props["source_record"], props["target_record"] = ends
    props[HASH_PROPERTY] = link_hash(link.link_id, link_type, link.source_id, link.target_id, props)
    return link_type, {"source": link.source_id, "target": link.target_id, "props": props}


def record_row(record: Entity, entity_id: str) -> dict[str, Any]:
    """``{id, entity, props}`` of a record node resolved to ``entity_id`` (v2).

    ``props`` are the record's own attributes (a young person's without identifying
    ones), ``record_id``, ``source`` and ``local_id``, and the content hash, which also
    covers the entity the record is resolved to: re-pointing a record changes its hash.
    """
    props = {
        k: v for k, v in _stored(node_attributes(record)).items() if k not in _RECORD_ID_FIELDS
    }
    if isinstance(record, Person) and record.role is Role.YOUNG_PERSON:
        withheld = sorted(k for k in props if is_identifying(k))
        for name in withheld:
            del props[name]
        if withheld:
            props["identity_recorded"] = withheld
    source, local_id = split_qualified(record.id)
    props.update(record_id=record.id, source=source, local_id=local_id)
    props[HASH_PROPERTY] = record_hash(record.id, entity_id, props)
    return {"id": record.id, "entity": entity_id, "props": props}


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
