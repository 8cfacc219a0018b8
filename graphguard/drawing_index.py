"""A compact index of a graph, to draw parts of it fast, without young people's identities.

A NetworkX graph of a million links takes tens of seconds to build and as long to
unpickle, so the dashboard's on-disk cache (:mod:`graphguard.viewcache`) keeps this
instead: every entity's id and the few attributes a drawing, a label or a table
shows (:data:`SHOWN_ATTRIBUTES`), and every link as two integer arrays and a few
columns.  :meth:`DrawingIndex.draw` picks the entities to draw with NumPy and builds a
graph of those alone, so drawing the neighbourhood of one adult in a town of a
million links takes a fraction of a second, and gives the very page
:func:`graphguard.viz.network_html` gives from the full graph.

What it holds of a young person is their id, role and the safeguarding flags the
pages show (looked after, missing episodes, excluded from school, area): never a
name, date of birth, alias, contact detail or identifier.  A page that shows young
people's names draws from the full graph instead.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from graphguard.errors import UsageError
from graphguard.viz import DEFAULT_MAX_NODES, NetworkDrawing, _kind, _render

__all__ = ["SHOWN_ATTRIBUTES", "DRAWN_LINK_ATTRIBUTES", "DrawingIndex", "NodeTable"]

# Data-protection categories (graphguard.categories) are shown wherever a person is; they
# are not identifying, so a young person's are kept too.
_CATEGORIES = ("category", "category_derived", "category_records")
#: The entity attributes kept, by drawn kind: what labels, tooltips and the pages' tables show.
SHOWN_ATTRIBUTES: Mapping[str, tuple[str, ...]] = {
    "young_person": (
        "kind",
        "role",
        "area",
        "looked_after",
        "placement_area",
        "missing_episodes",
        "excluded_from_school",
        *_CATEGORIES,
    ),
    "adult": ("kind", "role", "name", "area", "suspected", "professional", *_CATEGORIES),
    "location": ("kind", "location_kind", "name", "postcode", "area", "latitude", "longitude"),
    "vehicle": ("kind", "registration", "make", "model", "colour", "private_hire", "operator"),
}
#: The link attributes a drawing reads (style, grading and the tooltip's lines).
DRAWN_LINK_ATTRIBUTES: tuple[str, ...] = (
    "link_id",
    "type",
    "protective",
    "source_grade",
    "intel_grade",
    "handling",
    "reference",
    "agency",
    "first_seen",
    "last_seen",
    "count",
)
_DATES = frozenset({"first_seen", "last_seen"})
# A few hundred distinct values (types, agencies, grades) are kept as small codes.
_MOST_CODES = 60_000


class _Column:
    """One attribute of every entity or link, stored to unpickle in a moment.

    Dates as day numbers; a few thousand distinct values (types, agencies, grades,
    areas) as small codes into a list; many distinct strings (ids, references,
    names) as one string and the offsets where each value starts.  A million values
    then unpickle as a handful of arrays rather than a million objects.
    """

    def __init__(self, name: str, raw: list[Any]) -> None:
        self.kind = "raw"
        self.codes: np.ndarray | None = None
        self.values: Any = raw
        if name in _DATES:
            self.kind = "date"
            self.codes = np.array(
                [v.toordinal() if v is not None else 0 for v in raw], dtype=np.int32
            )
            self.values = None
            return
        try:
            distinct = list(dict.fromkeys(raw))
        except TypeError:  # lists (a person's categories by record): kept as they are
            return
        if len(distinct) <= _MOST_CODES:
            self.kind = "coded"
            number = {value: code for code, value in enumerate(distinct)}
            self.codes = np.array([number[v] for v in raw], dtype=np.uint16)
            self.values = distinct
        elif all(v is None or isinstance(v, str) for v in raw):
            self.kind = "text"
            lengths = np.array([-1 if v is None else len(v) for v in raw], dtype=np.int64)
            self.codes = np.zeros(len(raw) + 1, dtype=np.int64)
            np.cumsum(np.maximum(lengths, 0), out=self.codes[1:])
            self.values = ("".join(v for v in raw if v is not None), lengths < 0)

    def __len__(self) -> int:
        if self.kind == "text":
            assert self.codes is not None
            return len(self.codes) - 1
        return len(self.codes if self.codes is not None else self.values)

    def value(self, row: int) -> Any:
        """The value of one entity or link (None where it was not recorded)."""
        if self.kind == "raw":
            return self.values[row]
        assert self.codes is not None
        if self.kind == "date":
            day = int(self.codes[row])
            return dt.date.fromordinal(day) if day else None
        if self.kind == "coded":
            return self.values[int(self.codes[row])]
        text, missing = self.values
        if missing[row]:
            return None
        return text[int(self.codes[row]) : int(self.codes[row + 1])]

    def all(self) -> list[Any]:
        """Every value, in order (slicing all at once: a million in a fraction of a second)."""
        if self.kind != "text":
            return [self.value(row) for row in range(len(self))]
        assert self.codes is not None
        text, missing = self.values
        bounds = self.codes.tolist()
        found: list[Any] = [text[a:b] for a, b in itertools.pairwise(bounds)]
        for row in np.flatnonzero(missing).tolist():
            found[row] = None
        return found


class NodeTable(Mapping[str, dict[str, Any]]):
    """Each entity's shown attributes by id, built on lookup from columns."""

    def __init__(self, ids: _Column, columns: dict[str, _Column]) -> None:
        self._ids = ids
        self._columns = columns
        self._numbers: dict[str, int] | None = None

    def number(self, entity_id: str) -> int | None:
        """The entity's position, or None when it is not in the table."""
        if self._numbers is None:
            self._numbers = {node: n for n, node in enumerate(self._ids.all())}
        return self._numbers.get(entity_id)

    def id_at(self, number: int) -> str:
        return str(self._ids.value(number))

    def __getitem__(self, entity_id: str) -> dict[str, Any]:
        number = self.number(entity_id)
        if number is None:
            raise KeyError(entity_id)
        found = {}
        for name, column in self._columns.items():
            value = column.value(number)
            if value is not None:
                found[name] = value
        return found

    def __contains__(self, entity_id: object) -> bool:
        return isinstance(entity_id, str) and self.number(entity_id) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids.all())

    def __len__(self) -> int:
        return len(self._ids)

    def __getstate__(self) -> dict[str, Any]:
        return {"_ids": self._ids, "_columns": self._columns, "_numbers": None}


@dataclass
class DrawingIndex:
    """Entities and links of a graph, arranged for picking and drawing parts of it.

    Attributes
    ----------
    nodes : NodeTable
        Each entity's :data:`SHOWN_ATTRIBUTES`, by id.
    sources, targets : numpy.ndarray
        Each link's two ends, as entity numbers (positions in ``nodes``).
    """

    nodes: NodeTable
    sources: np.ndarray
    targets: np.ndarray
    _columns: dict[str, _Column]
    _offsets: np.ndarray
    _neighbours: np.ndarray
    _kinds: np.ndarray
    _kind_names: tuple[str, ...]

    @classmethod
    def from_graph(cls, graph: nx.MultiDiGraph) -> DrawingIndex:
        """Index a graphguard graph (as ``Store.graph()`` returns it)."""
        number = {node: n for n, node in enumerate(graph.nodes)}
        kind_names = tuple(SHOWN_ATTRIBUTES)
        kinds = np.empty(len(number), dtype=np.int8)
        shown = list(dict.fromkeys(a for names in SHOWN_ATTRIBUTES.values() for a in names))
        attributes: dict[str, list[Any]] = {name: [] for name in shown}
        for n, (_, data) in enumerate(graph.nodes(data=True)):
            kind = _kind(data)
            kinds[n] = kind_names.index(kind)
            kept = SHOWN_ATTRIBUTES[kind]
            for name, values in attributes.items():
                values.append(data.get(name) if name in kept else None)
        ends: list[tuple[int, int]] = []
        raw: dict[str, list[Any]] = {name: [] for name in DRAWN_LINK_ATTRIBUTES}
        for source, target, data in graph.edges(data=True):
            ends.append((number[source], number[target]))
            for name, values in raw.items():
                values.append(data.get(name))
        pairs = np.array(ends, dtype=np.int32).reshape(-1, 2)
        sources, targets = pairs[:, 0].copy(), pairs[:, 1].copy()
        offsets, neighbours = _adjacency(len(number), sources, targets)
        nodes = NodeTable(
            _Column("id", [str(node) for node in graph.nodes]),
            {name: _Column(name, values) for name, values in attributes.items()},
        )
        return cls(
            nodes=nodes,
            sources=sources,
            targets=targets,
            _columns={name: _Column(name, values) for name, values in raw.items()},
            _offsets=offsets,
            _neighbours=neighbours,
            _kinds=kinds,
            _kind_names=kind_names,
        )

    def __len__(self) -> int:
        return len(self.nodes)

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self.nodes

    @property
    def ids(self) -> list[str]:
        """Every entity's id, in number order."""
        return list(self.nodes)

    @property
    def links(self) -> int:
        """How many links there are."""
        return len(self.sources)

    def kind(self, entity_id: str) -> str:
        """The drawn kind of an entity: ``young_person``, ``adult``, ``location``, ``vehicle``."""
        return self._kind_names[int(self._kinds[self._number(entity_id)])]

    def _number(self, entity_id: str) -> int:
        number = self.nodes.number(entity_id)
        if number is None:
            raise UsageError(f"{entity_id} is not in this view of the network (check the filters)")
        return number

    def draw(
        self,
        *,
        scores: Mapping[str, float] | None = None,
        entities: Iterable[str] | None = None,
        focus: str | None = None,
        steps: int = 1,
        kinds: Iterable[str] | None = None,
        max_nodes: int = DEFAULT_MAX_NODES,
        height_px: int = 620,
    ) -> NetworkDrawing:
        """The drawing of some of the network: what ``network_html`` draws of the same part.

        Parameters
        ----------
        scores : mapping, optional
            Entity id to hub or context score.
        entities : iterable of str, optional
            Only these entities (and the links between them).
        focus : str, optional
            Only this entity and those within ``steps`` links of it (among ``entities``).
        steps : int
            How far from the focus to look.
        kinds : iterable of str, optional
            Only entities of these drawn kinds (the focus always stays).
        max_nodes : int
            Draw at most this many: nearest the focus, then highest scored, then busiest.
        height_px : int
            Height of the drawing.

        Returns
        -------
        NetworkDrawing
            Young people are labelled by id: the index holds no names.
        """
        scores = scores or {}
        size = len(self.nodes)
        chosen = np.ones(size, dtype=bool)
        if entities is not None:
            chosen[:] = False
            chosen[self._known(entities)] = True
        start = None
        if focus is not None:
            start = self._number(focus)
            if not chosen[start]:
                raise UsageError(f"{focus} is not in this view of the network (check the filters)")
            if steps < 0:
                raise UsageError("steps must be 0 or more")
            chosen = self._distances(start, steps, chosen) >= 0
        if kinds is not None:
            wanted = [self._kind_names.index(kind) for kind in kinds]
            kept = np.isin(self._kinds, wanted)
            if start is not None:
                kept[start] = True
            chosen &= kept
        members = np.flatnonzero(chosen)
        inside = self._links_among(chosen)
        total = len(members)
        if total > max_nodes:
            members = self._kept(members, inside, chosen, start, scores, max_nodes)
            chosen = np.zeros(size, dtype=bool)
            chosen[members] = True
            inside = self._links_among(chosen)
        graph = self._graph(members, inside)
        return _render(graph, scores, False, focus, height_px, total)

    def _known(self, entities: Iterable[str]) -> list[int]:
        """The numbers of those entities that are in the index (as a subgraph ignores the rest)."""
        numbers = (self.nodes.number(entity) for entity in entities)
        return [n for n in numbers if n is not None]

    def _links_among(self, chosen: np.ndarray) -> np.ndarray:
        """The links whose two ends are both chosen."""
        return np.flatnonzero(chosen[self.sources] & chosen[self.targets])

    def _distances(self, start: int, limit: int | None, allowed: np.ndarray) -> np.ndarray:
        """Links from ``start`` to each allowed entity within ``limit``, through allowed ones.

        -1 for those not reached.
        """
        distance = np.full(len(self.nodes), -1, dtype=np.int32)
        distance[start] = 0
        frontier = np.array([start], dtype=np.int64)
        depth = 0
        while frontier.size and (limit is None or depth < limit):
            begin, end = self._offsets[frontier], self._offsets[frontier + 1]
            lengths = end - begin
            if not lengths.sum():
                break
            runs = np.repeat(begin - np.cumsum(lengths) + lengths, lengths)
            near = self._neighbours[np.arange(lengths.sum()) + runs]
            near = np.unique(near[allowed[near] & (distance[near] < 0)])
            depth += 1
            distance[near] = depth
            frontier = near
        return distance

    def _kept(
        self,
        members: np.ndarray,
        inside: np.ndarray,
        chosen: np.ndarray,
        start: int | None,
        scores: Mapping[str, float],
        max_nodes: int,
    ) -> np.ndarray:
        """The entities drawn under the cap, in ``viz._kept_nodes``'s order of priority."""
        far = len(members) + 1
        if start is not None:
            distance = self._distances(start, None, chosen)[members]
            distance = np.where(distance < 0, far, distance)
        else:
            distance = np.full(len(members), far)
        size = len(self.nodes)
        degree = np.bincount(self.sources[inside], minlength=size) + np.bincount(
            self.targets[inside], minlength=size
        )
        names = np.array([self.nodes.id_at(int(m)) for m in members], dtype=str)
        score = np.array([scores.get(name, 0.0) for name in names], dtype=float)
        # lexsort sorts by the last key first: distance, then score, degree and id.
        order = np.lexsort((names, -degree[members], -score, distance))
        return np.sort(members[order[:max_nodes]])

    def _graph(self, members: np.ndarray, inside: np.ndarray) -> nx.MultiDiGraph:
        """A graph of the chosen entities and links, attributes as the store gave them."""
        graph = nx.MultiDiGraph()
        for m in members:
            entity_id = self.nodes.id_at(int(m))
            graph.add_node(entity_id, **self.nodes[entity_id])
        for row in inside:
            data = {}
            for name, column in self._columns.items():
                value = column.value(int(row))
                if value is not None:
                    data[name] = value
            graph.add_edge(
                self.nodes.id_at(int(self.sources[row])),
                self.nodes.id_at(int(self.targets[row])),
                key=data.get("link_id", int(row)),
                **data,
            )
        return graph


def _adjacency(
    size: int, sources: np.ndarray, targets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every entity's neighbours whatever the links' direction, as offsets into one array."""
    ends = np.concatenate([sources, targets])
    others = np.concatenate([targets, sources])
    order = np.argsort(ends, kind="stable")
    counts = np.bincount(ends, minlength=size)
    offsets = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets, others[order].astype(np.int32)
