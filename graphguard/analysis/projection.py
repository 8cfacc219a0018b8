"""Who is with whom: young people linked by co-presence at places and in vehicles.

Two young people repeatedly at the same place, or in the same car, are linked.  The
link is weighted as Newman (2001) weighted co-authorship: a context with ``n``
young people adds ``1 / (n - 1)`` to each pair there, so a school or a shop that
hundreds attend adds almost nothing to any one pair, while a car that carries three
adds a lot.  Each young person's presence is weighed by its evidence
(:mod:`.evidence`), so the pair's share is ``w_u * w_v / (n - 1)``.

Contexts with more than ``max_context_size`` young people are left out: under
Newman's weighting each of their pairs would get less than ``1 / max_context_size``,
and building all ``n²/2`` pairs of a school of 1,500 costs more than a whole town's
other links.  Family homes are left out too: a household is the family context, not
a peer context.

Direct peer links (ASSOCIATES_WITH, CONTACTED, PARTNER_OF between two young people)
add their evidence weights, combined as independent reports.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Hashable, Iterable

import networkx as nx

from graphguard.analysis.town import Town, noisy_or

__all__ = [
    "MAX_CONTEXT_SIZE",
    "PEER_LINK_TYPES",
    "newman_projection",
    "peer_graph",
    "peer_graph_from_town",
]

#: Contexts with more young people than this add nothing to the projection.
MAX_CONTEXT_SIZE = 50

#: Each member of a peer group has direct peer links (below) with at least this many
#: other members (see :mod:`graphguard.analysis.groups`).
MIN_TIES = 2

#: Links that join two young people directly as peers.
PEER_LINK_TYPES: frozenset[str] = frozenset({"ASSOCIATES_WITH", "CONTACTED", "PARTNER_OF"})


def _pairs(
    members: list[tuple[Hashable, float]], weights: dict[tuple[Hashable, Hashable], float]
) -> None:
    share = 1.0 / (len(members) - 1)
    for i, (u, wu) in enumerate(members):
        for v, wv in members[i + 1 :]:
            key = (u, v) if (str(u), u) <= (str(v), v) else (v, u)
            weights[key] += wu * wv * share


def _graph(
    people: Iterable[Hashable], weights: dict[tuple[Hashable, Hashable], float], name: str
) -> nx.Graph:
    projected = nx.Graph()
    projected.add_nodes_from(sorted(people, key=lambda p: (str(p), p)))
    for (u, v), weight in sorted(weights.items(), key=lambda item: (str(item[0]), item[0])):
        projected.add_edge(u, v, **{name: weight})
    return projected


def newman_projection(
    graph: nx.Graph,
    people: Iterable[Hashable],
    *,
    weight: str | None = None,
    max_context_size: int = MAX_CONTEXT_SIZE,
) -> nx.Graph:
    """Project a people–context bipartite graph onto the people, Newman-weighted.

    Parameters
    ----------
    graph : networkx graph
        Any bipartite graph of people and the contexts (events, places) they attend.
    people : iterable
        The nodes on the people side; every other node is a context.
    weight : str, optional
        An edge attribute in ``[0, 1]`` weighing each attendance; 1 if None.
    max_context_size : int
        Contexts with more people than this are left out.

    Returns
    -------
    networkx.Graph
        The people, with ``weight = sum over shared contexts of w_u w_v / (n - 1)``.

    Examples
    --------
    >>> b = nx.Graph([("ann", "party"), ("bo", "party"), ("cy", "party"), ("ann", "film")])
    >>> b.add_edge("bo", "film")
    >>> p = newman_projection(b, ["ann", "bo", "cy"])
    >>> p["ann"]["bo"]["weight"], p["ann"]["cy"]["weight"]
    (1.5, 0.5)
    """
    people = list(people)
    side = set(people)
    weights: dict[tuple[Hashable, Hashable], float] = defaultdict(float)
    contexts = sorted((n for n in graph if n not in side), key=lambda c: (str(c), c))
    for context in contexts:
        members = sorted(
            (
                (p, float(graph[context][p].get(weight, 1.0)) if weight else 1.0)
                for p in graph[context]
                if p in side
            ),
            key=lambda m: (str(m[0]), m[0]),
        )
        if 2 <= len(members) <= max_context_size:
            _pairs(members, weights)
    return _graph(people, weights, "weight")


def _co_presence(town: Town, max_context_size: int) -> dict[tuple[Hashable, Hashable], float]:
    weights: dict[tuple[Hashable, Hashable], float] = defaultdict(float)
    for context, people in town.presence.items():
        if town.attributes(context).get("location_kind") == "home":
            continue
        members: list[tuple[Hashable, float]] = [
            (who, presence.weight) for who, presence in people.items() if town.is_young_person(who)
        ]
        if 2 <= len(members) <= max_context_size:
            _pairs(members, weights)
    return weights


def _direct(town: Town) -> dict[tuple[Hashable, Hashable], float]:
    reports: dict[tuple[Hashable, Hashable], list[float]] = defaultdict(list)
    for young_person in town.young_people:
        for record in town.links.get(young_person, ()):
            if record.type not in PEER_LINK_TYPES or record.source != young_person:
                continue
            other = record.target
            if not town.is_young_person(other):
                continue
            key = (young_person, other) if young_person <= other else (other, young_person)
            reports[key].append(record.weight)
    return {key: noisy_or(values) for key, values in reports.items()}


def peer_graph_from_town(town: Town, *, max_context_size: int = MAX_CONTEXT_SIZE) -> nx.Graph:
    """:func:`peer_graph` on a graph already read into a :class:`Town`."""
    co_presence = _co_presence(town, max_context_size)
    direct = _direct(town)
    peers = nx.Graph()
    peers.add_nodes_from(town.young_people)
    for key in sorted(set(co_presence) | set(direct)):
        u, v = key
        together = co_presence.get(key, 0.0)
        linked = direct.get(key, 0.0)
        peers.add_edge(u, v, weight=together + linked, co_presence=together, direct=linked)
    return peers


def peer_graph(
    graph: nx.MultiDiGraph,
    *,
    as_of: dt.date | None = None,
    half_life_days: float = 365.0,
    max_context_size: int = MAX_CONTEXT_SIZE,
) -> nx.Graph:
    """The young-person peer graph: co-presence plus direct peer links.

    Each edge has ``weight = co_presence + direct``, with both parts kept as edge
    attributes so a group's reason can say which it rests on.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> for person in ("Y1", "Y2"):
    ...     g.add_node(person, kind="person", role="young_person")
    >>> g.add_node("V1", kind="vehicle")
    >>> for person in ("Y1", "Y2"):
    ...     _ = g.add_edge(person, "V1", key=person, link_id=person, type="PASSENGER_IN",
    ...                    source_grade="1", intel_grade="A", count=5)
    >>> round(peer_graph(g)["Y1"]["Y2"]["co_presence"], 3)
    0.235
    """
    town = Town(graph, as_of=as_of, half_life_days=half_life_days)
    return peer_graph_from_town(town, max_context_size=max_context_size)
