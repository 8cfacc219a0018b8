"""Sampled betweenness ranks a seeded synthetic town's best-placed entities as exact does.

``benchmarks/scale.py --accuracy`` measures this on the 10k-young-people town; here a
town small enough for CI (about 1,100 entities) is sampled with the exact limit set
below its size, so the sampled path runs and is compared with exact on the spot.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from graphguard.analysis.centrality import adjacency, shortest_path_measures
from graphguard.analysis.measures import network_measures, simple_graph
from graphguard.store import MemoryStore
from graphguard.synth import write_town

SOURCES = 100
SEEDS = (0, 1, 2)
TOP = 50


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> nx.MultiDiGraph:
    folder = Path(tmp_path_factory.mktemp("accuracy")) / "town"
    write_town(folder, 400, 3)
    return MemoryStore.from_path(folder).graph()


def _top(values: dict[str, float]) -> set[str]:
    return set(sorted(values, key=lambda node: (-values[node], node))[:TOP])


def test_the_sampled_top_agrees_with_exact_better_than_networkx_s_estimate(
    town: nx.MultiDiGraph,
) -> None:
    nodes = sorted(town.nodes)
    arrays = adjacency(town, nodes)
    exact = dict(zip(nodes, shortest_path_measures(arrays).betweenness.tolist(), strict=True))
    best = _top(exact)
    simple = simple_graph(town)
    ours = plain = 0
    for seed in SEEDS:
        rows = network_measures(town, exact_limit=10, samples=SOURCES, seed=seed).rows
        ours += len(best & _top({row.id: row.betweenness for row in rows}))
        plain += len(best & _top(nx.betweenness_centrality(simple, k=SOURCES, seed=seed)))
    # Measured when written: 96 of 150 against NetworkX's estimator's fewer.
    assert ours >= 0.55 * TOP * len(SEEDS)
    assert ours > plain


def test_stability_is_reported_and_tracks_the_sample_size(town: nx.MultiDiGraph) -> None:
    few = network_measures(town, exact_limit=10, samples=20, seed=0)
    many = network_measures(town, exact_limit=10, samples=400, seed=0)
    exact = network_measures(town)
    assert exact.exact and exact.stability == 1.0
    assert few.method()["betweenness_top100_stability"] == round(few.stability, 4)
    assert 0.0 <= few.stability < many.stability <= 1.0
    assert np.isfinite([row.betweenness for row in many.rows]).all()
