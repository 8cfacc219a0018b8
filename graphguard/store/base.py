"""The Store protocol, graph filters, and the one canonical way a record becomes a graph element.

Both stores build their graphs through :func:`node_attributes` and
:func:`link_attributes`, so ``MemoryStore`` and ``Neo4jStore`` return equal graphs
for the same data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol, runtime_checkable

import networkx as nx

from graphguard.model import (
    NODE_KINDS,
    Entity,
    IntelGrade,
    Link,
    Location,
    Person,
    SourceGrade,
    node_kind,
)
from graphguard.store.content import STORE_PROPERTIES

__all__ = [
    "RESERVED_ATTRIBUTES",
    "Filters",
    "Store",
    "node_attributes",
    "link_attributes",
    "link_passes",
    "node_passes",
    "finish_graph",
    "filter_graph",
    "graph_summary",
]

#: The kinds a filter can ask for: a person's role, or the entity kind.

#: Node and link attribute names graphguard sets itself (in the graph, or in Neo4j: the
#: content hash and a link's record ends); an unknown input column of the same name is
#: kept as ``extra_<name>``.
RESERVED_ATTRIBUTES: frozenset[str] = frozenset(
    {"id", "kind", "role", "location_kind", "labels"} | STORE_PROPERTIES
)


@dataclass(frozen=True)
class Filters:
    """Which part of the graph to look at.

    Parameters
    ----------
    as_of : date, optional
        Ignore links first seen after this day (the picture as it stood then).
    since : date, optional
        Ignore links last seen before this day (the last seen date, or the first seen
        date when no last seen date is recorded).
    min_source_grade : SourceGrade, optional
        Keep only links whose source is graded at least this well (1 is best).
    min_intel_grade : IntelGrade, optional
        Keep only links whose intelligence is assessed at least this well (A is best).
    include_ungraded : bool, default True
        Whether links without the grade being filtered on pass a grade filter.
    areas : frozenset of str, optional
        Keep only people and locations in these areas (case-insensitive).  Vehicles
        have no area: they are kept when a kept link joins them to the rest.
    kinds : frozenset of str, optional
        Keep only these kinds of entity, from :data:`NODE_KINDS`.
    """

    as_of: dt.date | None = None
    since: dt.date | None = None
    min_source_grade: SourceGrade | None = None
    min_intel_grade: IntelGrade | None = None
    include_ungraded: bool = True
    areas: frozenset[str] | None = None
    kinds: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.areas is not None:
            object.__setattr__(self, "areas", frozenset(a.strip().lower() for a in self.areas))
        if self.kinds is not None:
            unknown = set(self.kinds) - set(NODE_KINDS)
            if unknown:
                raise ValueError(f"unknown kinds {sorted(unknown)}; use {', '.join(NODE_KINDS)}")
            object.__setattr__(self, "kinds", frozenset(self.kinds))

    @property
    def is_empty(self) -> bool:
        return self == Filters()


@runtime_checkable
class Store(Protocol):
    """Where the graph is kept.  Analysis only ever sees ``graph()``'s result."""

    def graph(self, filters: Filters | None = None) -> nx.MultiDiGraph:
        """The (filtered) graph: one node per entity, one edge per link keyed by link_id."""
        ...


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    return value


def node_attributes(entity: Entity) -> dict[str, Any]:
    """The node attributes of an entity: ``kind``, ``role`` for people, every recorded field.

    Fields not recorded are left out (Neo4j stores no nulls); enums become their
    values; dates stay :class:`datetime.date`.  A location's ``kind`` column becomes
    ``location_kind`` because ``kind`` names the entity kind.
    """
    attributes: dict[str, Any] = {"kind": entity.entity_kind.value}
    # A model's __dict__ holds exactly its fields (extra="forbid"), in field order, and
    # reading it is 2-3 times faster than iterating the model (issue 17's profile).
    for name, value in entity.__dict__.items():
        if name == "extra" or value is None:
            continue
        if isinstance(entity, Location) and name == "kind":
            attributes["location_kind"] = _plain(value)
        else:
            attributes[name] = _plain(value)
    if isinstance(entity, Person):
        attributes["role"] = entity.role.value
    for name, value in entity.extra.items():
        key = f"extra_{name}" if name in RESERVED_ATTRIBUTES or name in attributes else name
        attributes[key] = value
    return attributes


def link_attributes(link: Link) -> dict[str, Any]:
    """The edge attributes of a link: ``type``, ``link_id``, every provenance field recorded."""
    attributes: dict[str, Any] = {}
    for name, value in link.__dict__.items():  # as in node_attributes: fields only
        if name in ("extra", "source_id", "target_id") or value is None:
            continue
        attributes[name] = _plain(value)
    for name, value in link.extra.items():
        reserved = name in attributes or name in STORE_PROPERTIES
        attributes[f"extra_{name}" if reserved else name] = value
    return attributes


_SOURCE_ORDER = {"1": 1, "2": 2, "3": 3}


def link_passes(attributes: dict[str, Any], filters: Filters) -> bool:
    """Whether a link (as edge attributes) passes the link filters."""
    if filters.as_of is not None:
        first = attributes.get("first_seen")
        if first is not None and first > filters.as_of:
            return False
    if filters.since is not None:
        last = attributes.get("last_seen") or attributes.get("first_seen")
        if last is not None and last < filters.since:
            return False
    if filters.min_source_grade is not None:
        grade = attributes.get("source_grade")
        if grade is None:
            if not filters.include_ungraded:
                return False
        elif _SOURCE_ORDER[grade] > _SOURCE_ORDER[filters.min_source_grade.value]:
            return False
    if filters.min_intel_grade is not None:
        grade = attributes.get("intel_grade")
        if grade is None:
            if not filters.include_ungraded:
                return False
        elif grade > filters.min_intel_grade.value:
            return False
    return True


def node_passes(attributes: dict[str, Any], filters: Filters) -> bool:
    """Whether an entity (as node attributes) passes the kind and area filters."""
    if filters.kinds is not None and node_kind(attributes) not in filters.kinds:
        return False
    if filters.areas is not None and attributes["kind"] != "vehicle":
        area = attributes.get("area")
        if area is None or str(area).strip().lower() not in filters.areas:
            return False
    return True


def finish_graph(graph: nx.MultiDiGraph, filters: Filters) -> nx.MultiDiGraph:
    """The shared last step of every store.

    Under an as-of filter a link's dates after the day are read as the day (the
    picture as it stood then: nothing shown, drawn or explained may carry a later
    date); under an area filter unlinked vehicles are dropped.
    """
    if filters.as_of is not None:
        day = filters.as_of
        for _, _, data in graph.edges(data=True):
            for name in ("first_seen", "last_seen"):
                seen = data.get(name)
                if seen is not None and seen > day:
                    data[name] = day
    if filters.areas is not None:
        lonely = [
            n for n, d in graph.nodes(data=True) if d["kind"] == "vehicle" and graph.degree(n) == 0
        ]
        graph.remove_nodes_from(lonely)
    return graph


def filter_graph(graph: nx.MultiDiGraph, filters: Filters) -> nx.MultiDiGraph:
    """What ``store.graph(filters)`` gives, from a graph already read: a filtered copy.

    Used to take several pictures (as of several dates, or windows) from one read of
    the store.  ``graph`` is left as it is.
    """
    picture = nx.MultiDiGraph()
    picture.add_nodes_from(
        (node, dict(data)) for node, data in graph.nodes(data=True) if node_passes(data, filters)
    )
    nodes = picture.nodes
    picture.add_edges_from(
        (source, target, key, dict(data))
        for source, target, key, data in graph.edges(keys=True, data=True)
        if source in nodes and target in nodes and link_passes(data, filters)
    )
    return finish_graph(picture, filters)


def graph_summary(graph: nx.MultiDiGraph) -> dict[str, Any]:
    """Counts by kind and link type, and the date range, of a graph."""
    kinds: dict[str, int] = dict.fromkeys(NODE_KINDS, 0)
    for _, data in graph.nodes(data=True):
        kinds[node_kind(data)] = kinds.get(node_kind(data), 0) + 1
    types: dict[str, int] = {}
    agencies: dict[str, int] = {}
    dates: list[dt.date] = []
    for _, _, data in graph.edges(data=True):
        types[data["type"]] = types.get(data["type"], 0) + 1
        agency = data.get("agency", "not recorded")
        agencies[agency] = agencies.get(agency, 0) + 1
        dates.extend(d for d in (data.get("first_seen"), data.get("last_seen")) if d)
    return {
        "entities": graph.number_of_nodes(),
        "links": graph.number_of_edges(),
        "by_kind": kinds,
        "by_type": dict(sorted(types.items())),
        "by_agency": dict(sorted(agencies.items())),
        "first_date": min(dates).isoformat() if dates else None,
        "last_date": max(dates).isoformat() if dates else None,
    }
