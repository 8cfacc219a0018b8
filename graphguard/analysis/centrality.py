"""Array implementations of NetworkX's betweenness, closeness and eigenvector centrality.

NetworkX's own implementations walk Python dictionaries, which on a town of a million
links takes hours for exact betweenness and minutes for a few hundred sampled
sources.  These functions run the *same* algorithms — Brandes' accumulation over
breadth-first searches, Wasserman–Faust closeness, power iteration on ``A + I`` —
level by level over NumPy arrays, and rescale exactly as NetworkX does, so their
results equal NetworkX's to rounding error (the tests check this on the classic
networks and on random graphs).  Above the exact limit betweenness is estimated from
sampled sources with linear scaling, which estimates the same measure with less
error near the top of the ranking (see :func:`shortest_path_measures`).
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import networkx as nx
import numpy as np
import numpy.typing as npt

__all__ = [
    "TOP_RANKED",
    "Adjacency",
    "PathMeasures",
    "adjacency",
    "shortest_path_measures",
    "eigenvector",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Adjacency:
    """A simple undirected graph as compressed sparse rows over node positions."""

    nodes: Sequence[Hashable]
    indptr: IntArray
    indices: IntArray
    rows: IntArray
    component: IntArray
    component_size: IntArray

    @property
    def n(self) -> int:
        return len(self.nodes)


def adjacency(graph: nx.Graph, nodes: Sequence[Hashable]) -> Adjacency:
    """The CSR arrays of the simple undirected graph of ``graph``, nodes in ``nodes`` order.

    ``graph`` may be directed or a multigraph: two nodes are adjacent when any edge
    joins them, whatever its direction; self-loops are dropped.
    """
    position = {node: i for i, node in enumerate(nodes)}
    n = len(nodes)
    ends = np.fromiter(
        (position[end] for u, v in graph.edges() if u != v for end in (u, v)), dtype=np.int64
    ).reshape(-1, 2)
    low = np.minimum(ends[:, 0], ends[:, 1])
    high = np.maximum(ends[:, 0], ends[:, 1])
    pair = np.unique(low * max(n, 1) + high)
    low, high = pair // max(n, 1), pair % max(n, 1)
    sources = np.concatenate([low, high])
    targets = np.concatenate([high, low])
    order = np.lexsort((targets, sources))
    sources, targets = sources[order], targets[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(sources, minlength=n), out=indptr[1:])
    component = _components(n, sources, targets)
    return Adjacency(
        nodes=nodes,
        indptr=indptr,
        indices=targets,
        rows=sources,
        component=component,
        component_size=np.bincount(component).astype(np.int64) if n else component,
    )


def _components(n: int, sources: IntArray, targets: IntArray) -> IntArray:
    """Connected components by label propagation with pointer jumping.

    Every node ends labelled with the smallest node position in its component; the
    labels are then renumbered 0, 1, … in that order, so they are reproducible.
    """
    label = np.arange(n, dtype=np.int64)
    while True:
        lowest = label.copy()
        np.minimum.at(lowest, sources, label[targets])
        lowest = lowest[lowest]
        if np.array_equal(lowest, label):
            break
        label = lowest
    _, component = np.unique(label, return_inverse=True)
    return component.astype(np.int64)


def _arc_positions(indptr: IntArray, frontier: IntArray) -> IntArray:
    """Positions in ``indices`` of every arc leaving the nodes of ``frontier``."""
    starts = indptr[frontier]
    counts = indptr[frontier + 1] - starts
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    shifts = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    return shifts + np.arange(total, dtype=np.int64)


Levels = list[tuple[IntArray, IntArray]]


def _search(graph: Adjacency, source: int) -> tuple[IntArray, FloatArray, Levels]:
    """Breadth-first search: distances, shortest-path counts and the arcs of each level.

    Each level is ``(tails, heads)``, the shortest-path arcs from the nodes at one
    distance to the next.  Whole-array operations per level are cheaper in NumPy
    than sorting each frontier, because the town's big levels touch most nodes.
    """
    dist = np.full(graph.n, -1, dtype=np.int64)
    sigma = np.zeros(graph.n)
    dist[source] = 0
    sigma[source] = 1.0
    frontier = np.array([source], dtype=np.int64)
    levels: Levels = []
    depth = 0
    while frontier.size:
        arcs = _arc_positions(graph.indptr, frontier)
        if arcs.size == 0:
            break
        tails = graph.rows[arcs]
        heads = graph.indices[arcs]
        dist[heads[dist[heads] < 0]] = depth + 1
        onward = dist[heads] == depth + 1
        tails, heads = tails[onward], heads[onward]
        frontier = np.flatnonzero(dist == depth + 1)
        sigma += np.bincount(heads, weights=sigma[tails], minlength=graph.n)
        levels.append((tails, heads))
        depth += 1
    return dist, sigma, levels


def _dependencies(
    n: int, sigma: FloatArray, levels: Levels, dist: IntArray | None = None
) -> FloatArray:
    """Brandes' accumulation of pair dependencies, deepest level first.

    With ``dist``, each pair's dependency on a node is scaled by the node's share of
    the pair's distance, ``d(s, v) / d(s, t)`` (Geisberger, Sanders & Schultes'
    "linear scaling"): a source's nearest neighbours no longer take the whole of its
    dependency, which is what makes a plain source sample overrate them.
    """
    delta = np.zeros(n)
    if dist is None:
        for tails, heads in reversed(levels):
            shares = sigma[tails] / sigma[heads] * (1.0 + delta[heads])
            delta += np.bincount(tails, weights=shares, minlength=n)
        return delta
    inverse = np.zeros(n)
    np.divide(1.0, dist, out=inverse, where=dist > 0)
    for tails, heads in reversed(levels):
        shares = sigma[tails] / sigma[heads] * (inverse[heads] + delta[heads])
        delta += np.bincount(tails, weights=shares, minlength=n)
    return delta * np.maximum(dist, 0)


class PathMeasures(NamedTuple):
    """What :func:`shortest_path_measures` returns."""

    betweenness: FloatArray
    closeness: FloatArray
    #: The sampled source nodes, or None when exact.
    sampled: list[Hashable] | None
    #: Sampled only: the share of the top :data:`TOP_RANKED` by betweenness that the
    #: sample's two halves agree on (1.0 when exact).
    stability: float = 1.0


#: How many of the best-ranked nodes the sample's stability is judged on.
TOP_RANKED = 100


def _top(values: FloatArray, count: int) -> set[int]:
    order = np.lexsort((np.arange(len(values)), -values))
    return set(order[:count].tolist())


def shortest_path_measures(
    graph: Adjacency, *, sources: int | None = None, seed: int = 0
) -> PathMeasures:
    """Normalised betweenness and Wasserman–Faust closeness, exact or from sampled sources.

    With ``sources=None`` every node is a source and both measures are exact, equal
    to ``nx.betweenness_centrality(G)`` and ``nx.closeness_centrality(G)``.  With
    ``sources=k`` the k sources are drawn exactly as ``nx.betweenness_centrality(G,
    k=k, seed=seed)`` draws them (``random.Random(seed).sample(list(G), k)``), each
    source's dependencies are linearly scaled (Geisberger, Sanders & Schultes 2008;
    see :func:`_dependencies`) and rescaled as NetworkX rescales a sample: an
    unbiased estimate of the same normalised betweenness that ranks the best-placed
    nodes far better than NetworkX's own estimator from the same sources.  The two
    halves of the sample are also estimated apart; ``stability`` says how many of
    the top :data:`TOP_RANKED` they agree on (a low value says the ranking is noise).
    Closeness is estimated from the same searches (Eppstein & Wang 2004): a node's
    total distance to its component is its component's size times its mean distance
    to the sampled sources in that component; a sampled source's own total is exact
    (its search measured it); a component that holds no sampled source is small (it
    escaped a uniform sample) and is computed exactly.

    Returns
    -------
    PathMeasures
        Betweenness and closeness in node order, the sampled sources, the stability.
    """
    n = graph.n
    betweenness = np.zeros(n)
    closeness = np.zeros(n)
    if n == 0:
        return PathMeasures(betweenness, closeness, None)
    sampled: list[Hashable] | None = None
    if sources is None or sources >= n:
        chosen = np.arange(n, dtype=np.int64)
    else:
        sampled = random.Random(seed).sample(list(graph.nodes), sources)
        position = {node: i for i, node in enumerate(graph.nodes)}
        chosen = np.array([position[node] for node in sampled], dtype=np.int64)
    size = graph.component_size[graph.component]
    distance_sum = np.zeros(n)
    exact_sum = np.zeros(n)
    pivots_seen = np.zeros(n)
    is_source = np.zeros(n, dtype=bool)
    is_source[chosen[size[chosen] > 1]] = True
    halves = (np.zeros(n), np.zeros(n))
    for number, source in enumerate(chosen):
        if size[source] == 1:
            continue
        dist, sigma, levels = _search(graph, int(source))
        delta = _dependencies(n, sigma, levels, None if sampled is None else dist)
        delta[source] = 0.0
        betweenness += delta
        if sampled is not None:
            halves[number % 2][:] += delta
        reached = dist >= 0
        exact_sum[source] = dist[reached].sum()
        if sampled is not None:
            distance_sum[reached] += dist[reached]
            pivots_seen[reached] += 1
    if sampled is None:
        distance_sum = exact_sum
    else:
        estimated = pivots_seen > 0
        distance_sum[estimated] *= size[estimated] / pivots_seen[estimated]
        # A sampled source's own search gave its exact total distance; the estimate
        # would count its zero distance to itself as a pivot's (and be 0 when it is
        # the only sample in its component).
        distance_sum[is_source] = exact_sum[is_source]
        for node in np.flatnonzero(~estimated & (size > 1)):
            dist, _, _ = _search(graph, int(node))
            distance_sum[node] = dist[dist >= 0].sum()
    linked = distance_sum > 0
    if n > 1:
        reach = size[linked] - 1.0
        closeness[linked] = (reach / distance_sum[linked]) * (reach / (n - 1))
    scale = _betweenness_scale(n, chosen, sampled is not None)
    if sampled is None:
        return PathMeasures(betweenness * scale, closeness, None)
    # Linear scaling credits each unordered pair once over its two ends; NetworkX
    # counts both orders.
    betweenness *= 2.0 * scale
    count = min(TOP_RANKED, n)
    agreed = len(_top(halves[0] * scale, count) & _top(halves[1] * scale, count))
    return PathMeasures(betweenness, closeness, sampled, agreed / count)


def _betweenness_scale(n: int, chosen: IntArray, sampled: bool) -> FloatArray:
    """NetworkX's normalisation of undirected betweenness, endpoints excluded."""
    pairs_through = n - 1
    scale = np.ones(n)
    if pairs_through < 2:
        return scale
    if not sampled:
        return scale / (pairs_through * (pairs_through - 1))
    k = len(chosen)
    scale /= k * (pairs_through - 1)
    scale[chosen] = 1 / ((k - 1) * (pairs_through - 1)) if k > 1 else np.nan
    return scale


def eigenvector(
    graph: Adjacency, *, max_iter: int = 1000, tol: float = 1.0e-6
) -> tuple[FloatArray, bool]:
    """Eigenvector centrality by NetworkX's power iteration on ``A + I``, per component.

    On a connected graph this is ``nx.eigenvector_centrality(G)``.  On a
    disconnected one, NetworkX's iteration drifts to the component with the largest
    eigenvalue and leaves every other component near zero, which says nothing about
    who matters inside them.  Here each component is normalised on its own, then
    scaled by the square root of its share of the nodes, so the whole vector still
    has unit length and larger components weigh more; an isolated node scores 0.

    Returns
    -------
    centrality : array in node order
    converged : bool
        False when ``max_iter`` iterations did not reach ``tol``; the last iterate is
        returned rather than failing the whole analysis.
    """
    n = graph.n
    if n == 0:
        return np.zeros(0), True
    component = graph.component
    x = np.full(n, 1.0 / n)
    converged = False
    for _ in range(max_iter):
        last = x
        x = last + np.bincount(graph.rows, weights=last[graph.indices], minlength=n)
        norms = np.sqrt(np.bincount(component, weights=x * x))
        norms[norms == 0] = 1.0
        x = x / norms[component]
        if np.abs(x - last).sum() < n * tol:
            converged = True
            break
    size = graph.component_size[component]
    x = x * np.sqrt(size / n)
    x[size == 1] = 0.0
    return x, converged
