"""Merge resolved records into entities: one person, place or vehicle per entity.

Given which entity each record belongs to (:attr:`Resolution.entity_of`), build the
entity-level :class:`~graphguard.ingest.Dataset` every command works on.  Each
attribute of an entity is combined from its records by one documented rule, and
every disagreement between records is kept as a :class:`Finding`, never silently
chosen:

- ``role``: young person if any record says so (safeguarding errs towards
  protecting);
- flags (``looked_after``, ``excluded_from_school``, ``suspected``, ``professional``,
  ``private_hire``): true if any record says true;
- counts (``missing_episodes``): the largest;
- ``aliases`` and ``category``: the union, in record order (not a disagreement); the
  names that lose the vote for ``name`` join the aliases, so no name a child is
  known by is dropped;
- everything else (text, dates, enumerated values, identifiers, unknown columns,
  and latitude with longitude as one pair): the value most records give, compared
  without regard to case and spacing for text; a tie goes to the earliest source in
  ``sources.csv`` order, then to the smallest record id.

Links keep their own (qualified record) ids and have their ends rewritten to entity
ids; a link whose two ends fold into one entity leaves the entity graph with a
finding saying so (it stays in the record-level dataset).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from graphguard.categories import categorise
from graphguard.model import (
    IDENTITY_COLUMNS,
    Link,
    Location,
    Person,
    Role,
    Vehicle,
    check_link_ends,
    node_kind,
)
from graphguard.resolve.ids import entity_id
from graphguard.resolve.types import (
    AttributeValue,
    EntityProvenance,
    Finding,
    Resolution,
    split_qualified,
)

if TYPE_CHECKING:
    from graphguard.ingest import Dataset

__all__ = ["merge_records", "COMBINING_RULES"]

Record = Person | Location | Vehicle

_ANY_TRUE = frozenset(
    {"looked_after", "excluded_from_school", "suspected", "professional", "private_hire"}
)
_LARGEST = frozenset({"missing_episodes"})
_UNION = frozenset({"aliases", "category"})
#: Set on the merged entities by graphguard.categories, not combined from records.
_CATEGORISED = ("category_derived", "category_records")
#: The fields that are an entity's id, not an attribute.
_ID_FIELDS = {"person": "person_id", "location": "location_id", "vehicle": "vehicle_id"}
_MODELS: dict[str, type[Record]] = {"person": Person, "location": Location, "vehicle": Vehicle}
#: Per kind, the attributes combined one by one (coordinates are combined as a pair).
_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    kind: tuple(
        name
        for name in model.model_fields
        if name not in (_ID_FIELDS[kind], "extra", "latitude", "longitude", *_CATEGORISED)
    )
    for kind, model in _MODELS.items()
}
_KIND_OF_STORE = {"people": "person", "locations": "location", "vehicles": "vehicle"}

#: Attribute (or kind of attribute) → the rule that combines it, in words.
COMBINING_RULES: dict[str, str] = {
    "role": "young person if any record says so: safeguarding errs towards protecting",
    "flags": "true if any record says true",
    "counts": "the largest",
    "aliases, category": "the union of every record's",
    "everything else": (
        "the value most records give; a tie goes to the earliest source in sources.csv "
        "order, then to the smallest record id"
    ),
}


def merge_records(records: Dataset, resolution: Resolution) -> Dataset:
    """The entity-level dataset: one person, place or vehicle per resolved entity.

    Parameters
    ----------
    records : Dataset
        The record-level dataset of a version 2 dataset, every id qualified.
    resolution : Resolution
        Which entity each record belongs to (``entity_of``); a record absent from it
        is an entity of its own, named by :func:`~graphguard.resolve.entity_id`.

    Returns
    -------
    Dataset
        Entities keyed by entity id, links rewritten to entity ids, ``version`` 2, the
        records' ``sources`` and ``decisions``, and as ``resolution`` a copy of the
        given one completed: ``entity_of`` and ``kind_of`` for every record, the
        ``provenance`` of every entity (its records and which said what), and in
        ``findings`` the resolver's own findings followed by every disagreement and
        every link that folded away.  The given resolution is not changed.

    Raises
    ------
    ValueError
        When ``entity_of`` puts records of two kinds (a person and a place) in one
        entity, or names a record the dataset does not hold.

    Examples
    --------
    >>> from graphguard.ingest import Dataset
    >>> from graphguard.model import Person
    >>> from graphguard.resolve import Resolution
    >>> records = Dataset(version=2, people={
    ...     "police:P1": Person(person_id="police:P1", role="adult", suspected=True),
    ...     "health:H7": Person(person_id="health:H7", role="young_person")})
    >>> one = "P-0123456789ab"
    >>> merged = merge_records(records, Resolution(
    ...     entity_of={"police:P1": one, "health:H7": one}, kind_of={}))
    >>> person = merged.people[one]
    >>> person.role.value, person.suspected
    ('young_person', True)
    >>> [f.attribute for f in merged.resolution.findings]
    ['role']
    """
    from graphguard.ingest import Dataset

    source_rank = {name: rank for rank, name in enumerate(records.sources)}
    order = _record_order(source_rank)
    entity_of: dict[str, str] = {}
    kind_of: dict[str, str] = {}
    members: dict[str, list[Record]] = {}
    for store, kind in _KIND_OF_STORE.items():
        table: dict[str, Record] = getattr(records, store)
        for record_id, record in table.items():
            entity = resolution.entity_of.get(record_id) or entity_id(kind, record_id)
            entity_of[record_id] = entity
            kind_of[record_id] = kind
            members.setdefault(entity, []).append(record)
    unknown = sorted(set(resolution.entity_of) - set(entity_of))
    if unknown:
        raise ValueError(
            f"the resolution names {len(unknown)} record(s) the dataset does not hold, "
            f"such as {unknown[0]!r}"
        )
    out = Dataset(
        source=records.source,
        version=2,
        sources=dict(records.sources),
        decisions=list(records.decisions),
    )
    provenance: dict[str, EntityProvenance] = {}
    findings: list[Finding] = list(resolution.findings)
    for entity, group in members.items():
        kinds = {kind_of[r.id] for r in group}
        if len(kinds) > 1:
            raise ValueError(
                f"entity {entity} holds records of different kinds "
                f"({', '.join(sorted(kinds))}): {', '.join(sorted(r.id for r in group))}"
            )
        kind = kinds.pop()
        ordered = sorted(group, key=lambda r: order(r.id))
        merged, known = _merge_one(entity, kind, ordered, order)
        getattr(out, _store_of(kind))[entity] = merged
        provenance[entity] = known
        findings.extend(known.conflicts)
    out.links = _entity_links(records.links, entity_of, out, findings)
    out.resolution = dataclasses.replace(
        resolution,
        entity_of=entity_of,
        kind_of=kind_of,
        provenance=provenance,
        findings=findings,
    )
    return categorise(out)


def _store_of(kind: str) -> str:
    return {"person": "people", "location": "locations", "vehicle": "vehicles"}[kind]


def _record_order(source_rank: dict[str, int]) -> Callable[[str], tuple[int, str]]:
    """Sort key of a record id: its source's place in sources.csv, then the id."""
    last = len(source_rank)

    def key(record_id: str) -> tuple[int, str]:
        return source_rank.get(split_qualified(record_id)[0], last), record_id

    return key


def _said(record: Record, name: str) -> Any:
    if name.startswith("extra."):
        return record.extra.get(name[6:])
    value = record.__dict__.get(name)  # the field's value, without pydantic's lookup
    if value == ():
        return None
    return value


def _comparable(value: Any) -> Any:
    """Text compared without regard to case or spacing; anything else as it is."""
    if isinstance(value, str):
        return " ".join(value.casefold().split())
    return value


def _words(name: str) -> str:
    return name.removeprefix("extra.").replace("_", " ")


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_shown(v) for v in value) + ")"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _merge_one(
    entity: str,
    kind: str,
    ordered: Sequence[Record],
    order: Callable[[str], tuple[int, str]],
) -> tuple[Record, EntityProvenance]:
    """One entity from its records (in tie-break order) and the account of how."""
    id_field = _ID_FIELDS[kind]
    known = EntityProvenance(entity, kind, tuple(sorted(r.id for r in ordered)))
    if len(ordered) == 1:
        return _single(entity, id_field, ordered[0], known), known
    # People's identifying values are not quoted in findings: a finding may be shown
    # where a child's identity may not; the provenance holds the values themselves.
    private = _PRIVATE if kind == "person" else frozenset()
    names = _ATTRIBUTES[kind]
    extras = list(dict.fromkeys(column for r in ordered for column in r.extra))
    values: dict[str, Any] = {id_field: entity}
    extra: dict[str, str] = {}
    for name in [*names, *(f"extra.{c}" for c in extras)]:
        said = [(r.id, _said(r, name)) for r in ordered]
        said = [(record_id, value) for record_id, value in said if value is not None]
        if not said:
            continue
        known.attributes[name] = [
            AttributeValue(record_id, split_qualified(record_id)[0], value)
            for record_id, value in said
        ]
        chosen, finding = _combine(entity, name, said, quote=name not in private)
        if finding is not None:
            known.conflicts.append(finding)
        if name.startswith("extra."):
            extra[name[6:]] = chosen
        else:
            values[name] = chosen
    if kind == "location":
        _merge_coordinates(entity, ordered, known, values)
    if kind == "person":
        _keep_other_names(known, values)
    # A copy of the first record with every combined value: no validation to repeat.
    return ordered[0].model_copy(update={**values, "extra": extra}), known


_PRIVATE = frozenset(IDENTITY_COLUMNS["people"])


def _single(entity: str, id_field: str, record: Record, known: EntityProvenance) -> Record:
    """An entity of one record: the record under the entity's id; nothing to disagree."""
    source = split_qualified(record.id)[0]
    for name, value in record.__dict__.items():
        if name in (id_field, "extra") or value is None or value == ():
            continue
        if name in ("latitude", "longitude"):
            continue
        known.attributes[name] = [AttributeValue(record.id, source, value)]
    if isinstance(record, Location) and record.latitude is not None:
        pair = (record.latitude, record.longitude)
        known.attributes["coordinates"] = [AttributeValue(record.id, source, pair)]
    for column, value in record.extra.items():
        known.attributes[f"extra.{column}"] = [AttributeValue(record.id, source, value)]
    return record.model_copy(update={id_field: entity})


def _combine(
    entity: str, name: str, said: list[tuple[str, Any]], *, quote: bool
) -> tuple[Any, Finding | None]:
    """The value one attribute takes, and a finding when the records disagree."""
    if name in _UNION:
        union: dict[Any, None] = {}
        for _, value in said:
            union.update(dict.fromkeys(value))
        return tuple(union), None
    groups: dict[Any, list[tuple[str, Any]]] = {}
    for record_id, value in said:
        groups.setdefault(_comparable(value), []).append((record_id, value))
    if name == "role":
        young = groups.get(Role.YOUNG_PERSON)
        chosen = Role.YOUNG_PERSON if young else said[0][1]
        rule = "young person is used: safeguarding errs towards protecting"
    elif name in _ANY_TRUE:
        chosen = any(value for _, value in said)
        rule = f"{_shown(chosen)} is used: any record saying true counts"
    elif name in _LARGEST:
        chosen = max(value for _, value in said)
        rule = f"the largest, {chosen}, is used"
    else:
        # Most records first; among equals, the group whose first record comes first in
        # (source order, record id): ``said`` is in that order, so ``groups`` is, and
        # max keeps the first of equals.
        best = max(groups.values(), key=len)
        chosen = best[0][1]
        even = sum(1 for g in groups.values() if len(g) == len(best)) > 1
        how = "the earliest source's" if even else "the value most records give"
        rule = f"{_shown(chosen)!r} is used ({how})" if quote else f"{how} is used"
    if len(groups) < 2:
        return chosen, None
    if quote:
        parts = "; ".join(
            f"{', '.join(r for r, _ in group)} say{'s' if len(group) == 1 else ''} "
            f"{_shown(group[0][1])!r}"
            for group in groups.values()
        )
    else:
        parts = f"{len(groups)} different values in {', '.join(r for r, _ in said)}"
    message = f"{_words(name)}: the records disagree ({parts}); {rule}"
    return chosen, Finding(entity, name, message, tuple(r for r, _ in said))


def _merge_coordinates(
    entity: str, ordered: Sequence[Record], known: EntityProvenance, values: dict[str, Any]
) -> None:
    """Latitude and longitude as one pair, so a place is never put between two others."""
    said = [
        (r.id, (r.latitude, r.longitude))
        for r in ordered
        if isinstance(r, Location) and r.latitude is not None and r.longitude is not None
    ]
    if not said:
        return
    known.attributes["coordinates"] = [
        AttributeValue(record_id, split_qualified(record_id)[0], pair) for record_id, pair in said
    ]
    chosen, finding = _combine(entity, "coordinates", said, quote=True)
    values["latitude"], values["longitude"] = chosen
    if finding is not None:
        known.conflicts.append(finding)


def _keep_other_names(known: EntityProvenance, values: dict[str, Any]) -> None:
    """Names that lost the vote become aliases: a child is known by all of them."""
    chosen = values.get("name")
    others = [
        v.value
        for v in known.attributes.get("name", [])
        if _comparable(v.value) != _comparable(chosen)
    ]
    if others:
        aliases = dict.fromkeys(values.get("aliases") or ())
        aliases.update(dict.fromkeys(others))
        values["aliases"] = tuple(aliases)


def _entity_links(
    links: Iterable[Link], entity_of: dict[str, str], out: Dataset, findings: list[Finding]
) -> list[Link]:
    """The links between entities; a link folded into one entity becomes a finding."""
    kept: list[Link] = []
    for link in links:
        source = entity_of.get(link.source_id, link.source_id)
        target = entity_of.get(link.target_id, link.target_id)
        if source == target:
            findings.append(
                Finding(
                    source,
                    None,
                    f"link {link.link_id} ({link.type.value}) joins {link.source_id} and "
                    f"{link.target_id}, two records of this one entity, so it is not in the "
                    "entity graph (it is kept with the records)",
                    (link.source_id, link.target_id),
                )
            )
            continue
        moved = link.model_copy(update={"source_id": source, "target_id": target})
        ends = out.entity(source), out.entity(target)
        if ends[0] is not None and ends[1] is not None:
            problem = check_link_ends(link.type, node_kind(ends[0]), node_kind(ends[1]))
            if problem is not None:
                findings.append(
                    Finding(
                        source if problem[0] == "source_id" else target,
                        "role",
                        f"link {link.link_id}: {problem[1]}, now that its records are "
                        "merged (the link is kept: check the records' roles)",
                        (link.source_id, link.target_id),
                    )
                )
        kept.append(moved)
    return kept
