"""The standard social-network measures of every entity, as i2 Analyst's Notebook users know them.

Degree, betweenness, closeness and eigenvector centrality are computed on the
*simple undirected* graph of the entities: two entities are adjacent when any link
joins them, whatever its type, direction or number of records.  They describe
position in the network, not risk — the risk scores are in :mod:`.hubs` and
:mod:`.contexts` — and are normalised as NetworkX normalises them.

Up to :data:`EXACT_LIMIT` entities everything is exact.  Above it, betweenness is
estimated from sampled breadth-first-search sources drawn with ``seed`` as
``nx.betweenness_centrality(G, k=samples, seed=seed)`` draws them (Brandes & Pich
2007), linearly scaled (Geisberger, Sanders & Schultes 2008), and closeness from the
same searches (Eppstein & Wang 2004).  How many sources: as many as
:data:`SAMPLE_BUDGET` arc visits buy, at least :data:`DEFAULT_SAMPLES`
(:func:`sample_count`).  See ``docs/methodology.md``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from graphguard.analysis.centrality import adjacency, eigenvector, shortest_path_measures
from graphguard.model import node_kind

__all__ = [
    "EXACT_LIMIT",
    "DEFAULT_SAMPLES",
    "SAMPLE_BUDGET",
    "MeasureRow",
    "NetworkMeasures",
    "simple_graph",
    "network_measures",
    "sample_count",
]

#: Graphs with at most this many entities get exact betweenness and closeness.
EXACT_LIMIT = 5000

#: The fewest breadth-first-search sources sampled above the limit.
DEFAULT_SAMPLES = 128

#: Arc visits the sampled searches may cost: about 1,000 sources on a town of 100k
#: links (so its top 100 by betweenness agree with the exact top 100 about 80%), the
#: minimum on a town of a million, where each search costs ten times as much.
SAMPLE_BUDGET = 200_000_000


@dataclass(frozen=True)
class MeasureRow:
    """One entity's measures: one row of ``measures.csv``."""

    id: str
    kind: str
    degree: float
    betweenness: float
    closeness: float
    eigenvector: float
    group: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "degree": self.degree,
            "betweenness": self.betweenness,
            "closeness": self.closeness,
            "eigenvector": self.eigenvector,
            "group": self.group,
        }


@dataclass(frozen=True)
class NetworkMeasures:
    """The measures of every entity and how they were computed.

    Attributes
    ----------
    rows : list of MeasureRow
        One per entity, in id order.
    exact : bool
        Whether betweenness and closeness are exact (not sampled).
    samples : int or None
        The number of sampled sources when not exact.
    seed : int
        The seed the sample was drawn with.
    eigenvector_converged : bool
        False if the power iteration stopped at its iteration limit.
    stability : float
        Sampled only: the share of the top 100 by betweenness on which the two halves
        of the sample agree; 1.0 when exact.
    budgeted : bool
        Whether the number of samples was the budget's choice (not given).
    """

    rows: list[MeasureRow] = field(default_factory=list)
    exact: bool = True
    samples: int | None = None
    seed: int = 0
    eigenvector_converged: bool = True
    stability: float = 1.0
    budgeted: bool = True

    def by_id(self) -> dict[str, MeasureRow]:
        return {row.id: row for row in self.rows}

    def method(self) -> dict[str, Any]:
        """How the measures were computed, for ``summary.json``."""
        return {
            "exact": self.exact,
            "samples": self.samples,
            "seed": self.seed,
            "eigenvector_converged": self.eigenvector_converged,
            "exact_limit": EXACT_LIMIT,
            "betweenness_estimator": "exact" if self.exact else "linear-scaled source sample",
            "betweenness_top100_stability": round(self.stability, 4),
            "betweenness_top100_agreement_10k_town": (
                _AGREEMENT_10K
                if self.budgeted and not self.exact and (self.samples or 0) >= _AGREEMENT_SAMPLES
                else None
            ),
        }


#: Measured (``benchmarks/scale.py --accuracy``) on the 10k-young-people synthetic
#: town: the share of the exact top 100 by betweenness that the sampled top 100 finds
#: with the default sample, so the figure an analyst reads beside ``stability``.  It
#: was measured with the sample the budget buys there; a bigger town's budget buys
#: fewer sources (128 at 100k young people), so it is quoted only for a sample at
#: least as big, never for one it does not describe.
_AGREEMENT_10K = 0.81
_AGREEMENT_SAMPLES = 1000


def sample_count(arcs: int, n: int, samples: int | None = None) -> int:
    """How many sources to sample: ``samples`` if given, else what the budget buys.

    ``arcs`` is twice the number of adjacent pairs (each search visits each once).

    >>> sample_count(200_000, 27_000), sample_count(2_000_000, 270_000)
    (1000, 128)
    >>> sample_count(2_000_000, 270_000, samples=64)
    64
    """
    if samples is None:
        samples = max(DEFAULT_SAMPLES, SAMPLE_BUDGET // max(arcs, 1))
    return min(samples, n)


def _ordered(nodes: Any) -> list[Hashable]:
    """Nodes in a reproducible order: sorted, or by their text when types are mixed."""
    try:
        return sorted(nodes)
    except TypeError:
        return sorted(nodes, key=str)


def simple_graph(graph: nx.Graph) -> nx.Graph:
    """The simple undirected graph of ``graph``: one edge per adjacent pair, nodes sorted.

    Works for a plain :class:`networkx.Graph` as well as graphguard's
    :class:`networkx.MultiDiGraph`.  Self-loops are dropped.

    >>> g = nx.MultiDiGraph([("b", "a"), ("a", "b"), ("a", "c")])
    >>> sorted(simple_graph(g).edges())
    [('a', 'b'), ('a', 'c')]
    """
    simple = nx.Graph()
    simple.add_nodes_from(_ordered(graph.nodes))
    simple.add_edges_from((u, v) for u, v in graph.edges() if u != v)
    return simple


def _kind(data: Mapping[str, Any]) -> str:
    """The entity's kind, or empty for a graph that is not a graphguard town (karate club)."""
    try:
        return node_kind(data)
    except ValueError:
        return ""


def network_measures(
    graph: nx.Graph,
    *,
    groups: Mapping[Any, str] | None = None,
    exact_limit: int = EXACT_LIMIT,
    samples: int | None = None,
    seed: int = 0,
) -> NetworkMeasures:
    """Degree, betweenness, closeness and eigenvector centrality of every entity.

    Parameters
    ----------
    graph : networkx graph
        graphguard's typed multigraph, or any NetworkX graph.
    groups : mapping, optional
        Entity id → peer-group id, copied into each row's ``group``.
    exact_limit : int, default :data:`EXACT_LIMIT`
        Above this many entities betweenness and closeness are sampled.
    samples : int, optional
        Sources sampled above the limit; :func:`sample_count` chooses if None.
    seed : int, default 0
        Seed of the sample.

    Returns
    -------
    NetworkMeasures

    Notes
    -----
    degree is ``nx.degree_centrality``; betweenness ``nx.betweenness_centrality``
    (normalised, endpoints excluded); closeness ``nx.closeness_centrality`` with the
    Wasserman–Faust correction for disconnected graphs; eigenvector
    ``nx.eigenvector_centrality`` on each connected component (see
    :func:`graphguard.analysis.centrality.eigenvector`).

    Examples
    --------
    >>> rows = network_measures(nx.florentine_families_graph()).rows
    >>> max(rows, key=lambda row: row.betweenness).id
    'Medici'
    """
    nodes: Sequence[Hashable] = _ordered(graph.nodes)
    arrays = adjacency(graph, nodes)
    degree = np.diff(arrays.indptr)
    n = len(nodes)
    exact = n <= exact_limit
    sources = None if exact else sample_count(len(arrays.indices), n, samples)
    betweenness, closeness, _, stability = shortest_path_measures(
        arrays, sources=sources, seed=seed
    )
    eigen, converged = eigenvector(arrays)
    groups = groups or {}
    rows = [
        MeasureRow(
            id=str(node),
            kind=_kind(graph.nodes[node]),
            degree=float(degree[i]) / (n - 1) if n > 1 else 1.0,
            betweenness=float(betweenness[i]),
            closeness=float(closeness[i]),
            eigenvector=float(eigen[i]),
            group=groups.get(node),
        )
        for i, node in enumerate(nodes)
    ]
    return NetworkMeasures(
        rows=rows,
        exact=exact,
        samples=sources,
        seed=seed,
        eigenvector_converged=converged,
        stability=stability,
        budgeted=samples is None,
    )
