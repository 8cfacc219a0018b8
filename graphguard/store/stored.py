"""What Neo4j holds of a dataset: its stored form, computed in one place.

Neo4j is read by the police liaison's Cypher, so it holds no young person's identity
(issue 14; docs/loading.md, "What the graph holds of a young person").  Every writer —
the loader (:meth:`~graphguard.store.neo4j.Neo4jStore.load`), the first load through
``neo4j-admin import`` (:mod:`~graphguard.store.bulk`) and ``graphguard check``
(:mod:`~graphguard.store.check`) — writes the rows of :func:`stored_form`, and nothing
else:

* a young person's entity node is keyed by their keyed pseudonym
  (:func:`graphguard.privacy.pseudonym`, ``YP-…``) and keeps the analytic attributes
  only (``birth_year`` stands for the date of birth): every identifying property
  (:func:`graphguard.privacy.is_identifying`: name,
  aliases, date of birth, postcode, phone, e-mail, NHS number, UPN, PNC id, any other
  identifier column) is taken out;
* a young person's record node (v2) is keyed ``YR-…`` (the record id's pseudonym),
  keeps its source but not the agency's own id, and lists the identifying properties
  its source recorded in ``identity_recorded``; a link's ``source_record`` and
  ``target_record`` name such a record by that pseudonym;
* every other text anywhere — a location's name or address ("121 Sluice Road
  (Whimbrelwhistle household)"), a link's reference or notes, an adult's extra column,
  a link id — is scrubbed of every young person's identifying values
  (:class:`graphguard.privacy.YoungPersonScrubber`): a young person's id becomes their
  pseudonym, any other value ``[young person]``; a link id that held one, or that was
  derived from the content of a young person's link (``auto:…``), becomes ``LK-…``.

What was taken out is returned as :class:`~graphguard.workspace.identity.HeldIdentity`
entries for the identity store, which gives the graph back its ids and values when
graphguard reads it (:func:`restore_node`, :func:`restore_link`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphguard.ingest import Dataset
from graphguard.model import Entity, Link, Location, Person, Role
from graphguard.privacy import YoungPersonScrubber, is_identifying, pseudonym
from graphguard.resolve.types import split_qualified
from graphguard.store.base import link_attributes, node_attributes
from graphguard.store.content import HASH_PROPERTY
from graphguard.store.rows import (
    entity_hash,
    entity_labels,
    link_hash,
    plain_values,
    record_hash,
    source_row,
)
from graphguard.workspace.identity import HeldIdentity

__all__ = [
    "BIRTH_YEAR",
    "ENTITY_PREFIX",
    "LINK_PREFIX",
    "RECORD_PREFIX",
    "StoredForm",
    "held_key",
    "restore_link",
    "restore_node",
    "stored_form",
]

#: What a young person's node holds of their date of birth: the year (for their age).
BIRTH_YEAR = "birth_year"

#: Pseudonym prefixes: a young person's entity, their record, a link id that named one.
ENTITY_PREFIX = "YP"
RECORD_PREFIX = "YR"
LINK_PREFIX = "LK"

# A record's own id fields repeat record_id.
_RECORD_ID_FIELDS = frozenset({"person_id", "location_id", "vehicle_id"})
# Numbers below this cannot be an identifier worth finding (NHS numbers have 10 digits).
_SHORTEST_NUMBER = 100_000
# What starts a link id derived from the row's content (graphguard.ingest).
_DERIVED = "auto:"
# The texts of a location that may name a household.
_LOCATION_LABELS = ("name", "address")
# Ids and keys the store sets itself, and the model's enumerated fields (DATA-FORMAT.md):
# never scrubbed as text, as no child's value can be one of them.
_KEYS = frozenset(
    {"id", "record_id", "link_id", "source", HASH_PROPERTY}
    | {"kind", "role", "location_kind", "placement_area", "category"}
    | {"agency", "source_grade", "intel_grade", "handling"}
)


def held_key(element: str, stored_id: str) -> str:
    """The identity store's key for an element other than a young person's entity or record.

    >>> held_key("link", "L1")
    'link:L1'
    """
    return f"{element}:{stored_id}"


@dataclass
class StoredForm:
    """The rows a load writes to Neo4j, and the identities kept out of them.

    Attributes
    ----------
    entities : list of dict
        ``{id, labels, props}`` per entity node (``props`` with its content hash).
    records : list of dict
        v2: ``{id, entity, props}`` per record node.
    links : list of (str, dict)
        Type and ``{source, target, props}`` per link relationship.
    sources : list of dict
        v2: ``{name, props}`` per source node.
    identities : list of HeldIdentity
        What the rows do not hold, for the identity store.
    stored_ids : dict
        graphguard's entity, record or link id → the id Neo4j holds, where they differ.
    """

    entities: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    links: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    identities: list[HeldIdentity] = field(default_factory=list)
    stored_ids: dict[str, str] = field(default_factory=dict)

    def entity_ids(self) -> set[str]:
        """The entity ids Neo4j holds after a load of this form."""
        return {row["id"] for row in self.entities}

    def record_ids(self) -> set[str]:
        """The record ids Neo4j holds after a load of this form."""
        return {row["id"] for row in self.records}

    def link_ids(self) -> set[str]:
        """The link ids Neo4j holds after a load of this form."""
        return {row["props"]["link_id"] for _, row in self.links}

    def stored(self, graphguard_id: str) -> str:
        """The id Neo4j holds for an entity, record or link id of the dataset."""
        return self.stored_ids.get(graphguard_id, graphguard_id)


def _surnames(attributes: Mapping[str, Any]) -> Iterator[str]:
    """The last word of a young person's name and of each alias (a household's name)."""
    names: list[Any] = [attributes.get("name"), *(attributes.get("aliases") or ())]
    for name in names:
        words = str(name or "").split()
        if len(words) > 1:
            yield words[-1]


def _is_young(entity: Entity) -> bool:
    return isinstance(entity, Person) and entity.role is Role.YOUNG_PERSON


class _Former:
    """Builds a :class:`StoredForm`: one scrubber, one key, one pass over the dataset."""

    def __init__(self, dataset: Dataset, records: Dataset | None, key: bytes) -> None:
        self.key = key
        self.form = StoredForm()
        young: dict[str, Mapping[str, Any]] = {}
        for person in dataset.people.values():
            if person.role is Role.YOUNG_PERSON:
                young[person.id] = node_attributes(person)
                self.form.stored_ids[person.id] = pseudonym(person.id, key, ENTITY_PREFIX)
        if records is not None:
            for record in records.people.values():
                if record.role is Role.YOUNG_PERSON:
                    attributes = dict(node_attributes(record))
                    # The agency's own id of a child is an identifier too ("NOM03608").
                    attributes["local_id"] = split_qualified(record.id)[1]
                    young[record.id] = attributes
                    self.form.stored_ids[record.id] = pseudonym(record.id, key, RECORD_PREFIX)
        self.young = frozenset(young)
        self.scrubber = YoungPersonScrubber(young, replace_id=self._replacement)
        # A location's label names a household by its surname ("121 Sluice Road
        # (Whimbrelwhistle household)"): a child's surnames are looked for there too.
        self.households = YoungPersonScrubber(
            {person: {"name": list(_surnames(data))} for person, data in young.items()},
            ids=False,
        )

    def _replacement(self, young_id: str) -> str:
        return self.form.stored_ids.get(young_id) or pseudonym(young_id, self.key, ENTITY_PREFIX)

    def _scrubbed(self, props: dict[str, Any]) -> dict[str, Any]:
        """Scrub every value but the store's keys in place; the originals of those changed."""
        originals: dict[str, Any] = {}
        for name, value in props.items():
            if name in _KEYS or isinstance(value, bool | float | dt.date):
                continue
            if isinstance(value, int) and abs(value) < _SHORTEST_NUMBER:
                continue  # a count or an episode number, not a phone or NHS number
            clean = self.scrubber.scrub(value)
            if isinstance(value, tuple):
                clean = tuple(clean)
            if clean != value:
                originals[name] = value
                props[name] = clean
        return originals

    def _hold(self, key: str, kind: Any, graphguard_id: str, values: dict[str, Any]) -> None:
        if values:
            self.form.identities.append(HeldIdentity(key, kind, graphguard_id, values))

    def _households(self, entity: Entity, props: dict[str, Any]) -> dict[str, Any]:
        """A location's name and address without young people's surnames; the originals."""
        originals: dict[str, Any] = {}
        if isinstance(entity, Location):
            for name in _LOCATION_LABELS:
                value = props.get(name)
                if isinstance(value, str) and self.households(value) != value:
                    originals[name] = value
                    props[name] = self.households(value)
        return originals

    def entity(self, entity: Entity) -> None:
        props = node_attributes(entity)
        stored_id = self.form.stored(entity.id)
        held: dict[str, Any] = {}
        if _is_young(entity):
            held = {k: props.pop(k) for k in sorted(props) if is_identifying(k)}
            born = held.get("date_of_birth")
            if isinstance(born, dt.date):
                # Age is analytic, the date of birth identifying: the graph keeps the year.
                props.setdefault(BIRTH_YEAR, born.year)
        held.update(self._scrubbed(props))
        held = {**self._households(entity, props), **held}
        props = plain_values(props)
        props["id"] = stored_id
        labels = entity_labels(entity)
        props[HASH_PROPERTY] = entity_hash(stored_id, ("Entity", *labels), props)
        self.form.entities.append({"id": stored_id, "labels": labels, "props": props})
        if _is_young(entity):
            self.form.identities.append(
                HeldIdentity(stored_id, "young_person", entity.id, plain_values(held))
            )
        else:
            self._hold(held_key("entity", stored_id), "entity", entity.id, plain_values(held))

    def record(self, record: Entity, entity_id: str) -> None:
        props = {k: v for k, v in node_attributes(record).items() if k not in _RECORD_ID_FIELDS}
        stored_id = self.form.stored(record.id)
        source, local_id = split_qualified(record.id)
        held: dict[str, Any] = {}
        if _is_young(record):
            held = {k: props.pop(k) for k in sorted(props) if is_identifying(k)}
            if held:
                props["identity_recorded"] = sorted(held)
            held["local_id"] = local_id
        held.update(self._scrubbed(props))
        held = {**self._households(record, props), **held}
        props = plain_values(props)
        props.update(record_id=stored_id, source=source)
        if not _is_young(record):
            props["local_id"] = local_id
        entity = self.form.stored(entity_id)
        props[HASH_PROPERTY] = record_hash(stored_id, entity, props)
        self.form.records.append({"id": stored_id, "entity": entity, "props": props})
        if _is_young(record):
            self.form.identities.append(
                HeldIdentity(stored_id, "record", record.id, plain_values(held))
            )
        else:
            self._hold(held_key("record", stored_id), "record", record.id, plain_values(held))

    def link(self, link: Link, ends: tuple[str, str] | None) -> None:
        props = link_attributes(link)  # no tuples among a link's fields
        link_type = str(props.pop("type"))
        held = self._scrubbed(props)
        # A link id derived from the row's content (``auto:`` + SHA-1, DATA-FORMAT.md) is an
        # unkeyed hash of the row, a child's id included: with the rest of the row in
        # Neo4j, guessing ids would confirm one.  Such an id of a child's link is keyed too.
        derived = _DERIVED in link.link_id and (
            link.source_id in self.young or link.target_id in self.young
        )
        if derived or self.scrubber(link.link_id) != link.link_id:
            stored_link = pseudonym(link.link_id, self.key, LINK_PREFIX)
            self.form.stored_ids[link.link_id] = stored_link
            props["link_id"] = stored_link
            held["link_id"] = link.link_id
        if ends is not None:
            props["source_record"], props["target_record"] = (self.form.stored(e) for e in ends)
        source, target = self.form.stored(link.source_id), self.form.stored(link.target_id)
        props[HASH_PROPERTY] = link_hash(props["link_id"], link_type, source, target, props)
        self.form.links.append((link_type, {"source": source, "target": target, "props": props}))
        self._hold(held_key("link", props["link_id"]), "link", link.link_id, held)


def stored_form(dataset: Dataset, records: Dataset | None, key: bytes) -> StoredForm:
    """The rows Neo4j holds for ``dataset`` (v2: with its ``records``), and what they withhold.

    Parameters
    ----------
    dataset : Dataset
        The (entity-level) dataset.
    records : Dataset, optional
        v2: the record-level dataset; ignored for version 1.
    key : bytes
        The pseudonym key (:func:`graphguard.settings.pseudonym_key`): the same key
        gives the same pseudonyms, in the graph and in every export.

    Returns
    -------
    StoredForm
    """
    if dataset.version != 2 or dataset.resolution is None:
        records = None
    former = _Former(dataset, records, key)
    for entity in dataset.entities():
        former.entity(entity)
    ends: dict[str, tuple[str, str]] | None = None
    if records is not None:
        assert dataset.resolution is not None
        entity_of = dataset.resolution.entity_of
        for record in records.entities():
            former.record(record, entity_of[record.id])
        former.form.sources = [
            source_row(name, info) for name, info in sorted(dataset.sources.items())
        ]
        ends = {link.link_id: (link.source_id, link.target_id) for link in records.links}
    for link in dataset.links:
        former.link(link, ends[link.link_id] if ends is not None else None)
    return former.form


# --------------------------------------------------------------------------- reading back


def restore_node(
    stored_id: str, props: dict[str, Any], held: Mapping[str, HeldIdentity]
) -> tuple[str, dict[str, Any]]:
    """An entity as graphguard knows it, from what Neo4j holds and the identity store.

    Without a held identity (no identity store, or one of another state home) the node
    keeps its pseudonym and stored values: the graph still analyses.
    """
    found = held.get(stored_id) or held.get(held_key("entity", stored_id))
    if found is None:
        return stored_id, props
    props.update(found.values)
    born = found.values.get("date_of_birth")
    if isinstance(born, dt.date) and props.get(BIRTH_YEAR) == born.year:
        del props[BIRTH_YEAR]  # the date it was derived from is back
    return found.entity_id, props


def restore_link(props: dict[str, Any], held: Mapping[str, HeldIdentity]) -> dict[str, Any]:
    """A link's properties as graphguard knows them (its own id, unscrubbed text)."""
    found = held.get(held_key("link", str(props.get("link_id"))))
    if found is not None:
        props.update(found.values)
    return props


def stored_ids(held: Mapping[str, HeldIdentity]) -> Iterator[tuple[str, str]]:
    """``(id Neo4j holds, graphguard's id)`` for every held element whose id differs."""
    for key, found in held.items():
        if found.kind in ("young_person", "record"):
            yield key, found.entity_id
        elif found.kind == "link" and "link_id" in found.values:
            yield key.removeprefix("link:"), found.entity_id
