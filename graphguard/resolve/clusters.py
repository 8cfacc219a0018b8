"""From joined pairs to entities: connected components, split where an analyst said no.

Records are one entity when a chain of *joins* connects them: machine joins (a pair
at or above the join threshold that no hard rule holds back), ``same`` decisions, a
source's own ``same_as`` and vehicles' shared registrations.  A ``different`` decision
about two records that such a chain still connects splits their entity: the machine
joins that hold them together are cut at the weakest point — a minimum cut, each join
weighing its match probability — so the fewest, least certain joins are undone.
Decisions, ``same_as`` and registrations are never cut; when only they connect the
two records the decisions contradict each other, and that is reported, not guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx

__all__ = ["Join", "Split", "cluster"]


@dataclass(frozen=True)
class Join:
    """Two records joined: by the machine (``probability``) or for certain (None)."""

    record_a: str
    record_b: str
    probability: float | None = None


@dataclass
class Split:
    """What the ``different`` decisions did to the joins."""

    #: Machine joins cut, each with the decided pair that cut it.
    cut: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    #: Decided-different pairs that certain joins still connect.
    contradicted: list[tuple[str, str]] = field(default_factory=list)


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def cluster(
    records: Iterable[str], joins: Sequence[Join], apart: Iterable[tuple[str, str]]
) -> tuple[list[tuple[str, ...]], Split]:
    """The entities: groups of record ids, each sorted, listed by their smallest record.

    Parameters
    ----------
    records : iterable of str
        Every record id (a record joined to nothing is an entity of its own).
    joins : sequence of Join
        The pairs joined.
    apart : iterable of (str, str)
        Pairs an analyst decided are different.

    Returns
    -------
    list of tuple of str
        The entities.
    Split
        The machine joins cut to keep decided pairs apart, and the contradictions.

    Examples
    --------
    >>> joins = [Join("a", "b", 0.99), Join("b", "c", 0.96)]
    >>> groups, split = cluster("abcd", joins, [("a", "c")])
    >>> groups, split.cut
    ([('a', 'b'), ('c',), ('d',)], {('b', 'c'): ('a', 'c')})
    """
    graph = nx.Graph()
    graph.add_nodes_from(sorted(records))
    for join in sorted(joins, key=lambda j: _pair(j.record_a, j.record_b)):
        a, b = _pair(join.record_a, join.record_b)
        known = graph.get_edge_data(a, b)
        if known is not None and known.get("probability") is None:
            continue  # a certain join stays certain
        graph.add_edge(a, b, probability=join.probability)
    split = Split()
    for a, b in sorted({_pair(a, b) for a, b in apart}):
        if a not in graph or b not in graph or not nx.has_path(graph, a, b):
            continue
        cut = _weakest_cut(graph, a, b)
        if cut is None:
            split.contradicted.append((a, b))
            continue
        for edge in cut:
            graph.remove_edge(*edge)
            split.cut[edge] = (a, b)
    groups = [tuple(sorted(c)) for c in nx.connected_components(graph)]
    groups.sort()
    return groups, split


def _weakest_cut(graph: nx.Graph, a: str, b: str) -> list[tuple[str, str]] | None:
    """The machine joins whose removal separates ``a`` from ``b`` at least cost, or None."""
    component = nx.node_connected_component(graph, a)
    flow = nx.DiGraph()
    for u, v, data in graph.subgraph(component).edges(data=True):
        probability = data.get("probability")
        # Integer capacities: the same cut, run after run; a certain join has none (infinite).
        attrs: Mapping[str, int] = (
            {} if probability is None else {"capacity": max(1, round(probability * 1_000_000))}
        )
        flow.add_edge(u, v, **attrs)
        flow.add_edge(v, u, **attrs)
    try:
        _, (near, _far) = nx.minimum_cut(flow, a, b)
    except nx.NetworkXUnbounded:
        return None
    cut = sorted(
        _pair(u, v) for u, v in graph.subgraph(component).edges() if (u in near) != (v in near)
    )
    return cut
