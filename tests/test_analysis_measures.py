"""Network measures on the classic networks, and agreement with NetworkX itself."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from graphguard.analysis.centrality import adjacency, eigenvector, shortest_path_measures
from graphguard.analysis.measures import network_measures, simple_graph


def by_id(graph: nx.Graph, **options: object) -> dict[str, dict[str, float]]:
    result = network_measures(graph, **options)  # type: ignore[arg-type]
    return {row.id: row.as_dict() for row in result.rows}


def top(rows: dict[str, dict[str, float]], measure: str, n: int) -> set[str]:
    ranked = sorted(rows, key=lambda node: (-rows[node][measure], node))
    return set(ranked[:n])


def test_karate_club_leaders_top_betweenness() -> None:
    rows = by_id(nx.karate_club_graph())
    assert top(rows, "betweenness", 2) == {"0", "33"}
    assert top(rows, "degree", 2) == {"0", "33"}


def test_florentine_families_medici_on_top() -> None:
    rows = by_id(nx.florentine_families_graph())
    for measure in ("betweenness", "closeness", "degree"):
        assert top(rows, measure, 1) == {"Medici"}, measure


@pytest.mark.parametrize(
    "graph",
    [
        nx.karate_club_graph(),
        nx.florentine_families_graph(),
        nx.gnm_random_graph(120, 260, seed=4),
        nx.disjoint_union(nx.path_graph(6), nx.gnm_random_graph(60, 150, seed=2)),
    ],
    ids=["karate", "florentine", "random", "disconnected"],
)
def test_exact_measures_equal_networkx(graph: nx.Graph) -> None:
    rows = by_id(graph)
    expected = {
        "degree": nx.degree_centrality(graph),
        "betweenness": nx.betweenness_centrality(graph),
        "closeness": nx.closeness_centrality(graph),
    }
    for measure, values in expected.items():
        for node, value in values.items():
            assert rows[str(node)][measure] == pytest.approx(value, abs=1e-12), (measure, node)


def test_eigenvector_equals_networkx_on_a_connected_graph() -> None:
    graph = nx.karate_club_graph()
    rows = by_id(graph)
    for node, value in nx.eigenvector_centrality(graph).items():
        assert rows[str(node)]["eigenvector"] == pytest.approx(value, abs=1e-6)


def test_eigenvector_per_component_on_a_disconnected_graph() -> None:
    graph = nx.disjoint_union(nx.star_graph(4), nx.complete_graph(3))
    graph.add_node("alone")
    nodes = list(graph)
    values, converged = eigenvector(adjacency(graph, nodes))
    assert converged
    by_node = dict(zip(nodes, values, strict=True))
    assert by_node["alone"] == 0.0
    assert by_node[0] == max(by_node[n] for n in range(5))  # the star's centre
    assert by_node[5] > 0  # the triangle is not left at zero
    assert sum(v * v for v in values) == pytest.approx(1 - 1 / len(nodes))


def test_sampled_sources_are_networkx_s_and_the_estimate_is_close() -> None:
    graph = nx.gnm_random_graph(300, 700, seed=9)
    nodes = list(graph)
    measured = shortest_path_measures(adjacency(graph, nodes), sources=40, seed=5)
    assert measured.sampled == random.Random(5).sample(nodes, 40)
    exact = nx.betweenness_centrality(graph)
    total = sum(exact.values())
    error = sum(abs(measured.betweenness[i] - exact[node]) for i, node in enumerate(nodes))
    assert error / total < 0.25
    closeness = nx.closeness_centrality(graph)
    worst = max(abs(measured.closeness[i] - closeness[node]) for i, node in enumerate(nodes))
    assert worst < 0.05
    assert 0.0 <= measured.stability <= 1.0


def test_linear_scaling_ranks_the_top_better_than_networkx_s_estimator() -> None:
    graph = nx.barabasi_albert_graph(1500, 2, seed=7)
    nodes = list(graph)
    exact = nx.betweenness_centrality(graph)
    best = set(sorted(nodes, key=lambda n: (-exact[n], n))[:100])
    ours = shortest_path_measures(adjacency(graph, nodes), sources=60, seed=1).betweenness
    found = set(sorted(nodes, key=lambda n: (-ours[nodes.index(n)], n))[:100])
    plain = nx.betweenness_centrality(graph, k=60, seed=1)
    plain_found = set(sorted(nodes, key=lambda n: (-plain[n], n))[:100])
    assert len(found & best) > len(plain_found & best)


def test_a_lone_sampled_source_in_a_small_component_gets_its_exact_closeness() -> None:
    # A path of three beside a big random graph: some seed puts exactly one of the
    # samples in the path; that source's closeness was once estimated as 0.
    graph = nx.disjoint_union(nx.gnm_random_graph(200, 500, seed=3), nx.path_graph(3))
    nodes = list(graph)
    small = {200, 201, 202}
    exact = nx.closeness_centrality(graph)
    lone = 0
    for seed in range(200):
        measured = shortest_path_measures(adjacency(graph, nodes), sources=20, seed=seed)
        assert measured.sampled is not None
        inside = [node for node in measured.sampled if node in small]
        if len(inside) != 1:
            continue
        lone += 1
        [source] = inside
        assert measured.closeness[source] == pytest.approx(exact[source], abs=1e-12)
        assert measured.closeness[source] > 0
    assert lone >= 3


def test_above_the_limit_measures_are_sampled_and_seeded() -> None:
    graph = nx.barabasi_albert_graph(400, 2, seed=1)
    first = network_measures(graph, exact_limit=100, samples=50, seed=3)
    again = network_measures(graph, exact_limit=100, samples=50, seed=3)
    other = network_measures(graph, exact_limit=100, samples=50, seed=4)
    assert not first.exact and first.samples == 50
    assert first.rows == again.rows
    assert first.rows != other.rows
    exact = nx.betweenness_centrality(graph)
    sampled = {row.id: row.as_dict() for row in first.rows}
    best = {str(n) for n in sorted(exact, key=lambda n: (-exact[n], n))[:10]}
    assert len(best & top(sampled, "betweenness", 20)) >= 8


def test_multigraph_is_measured_as_a_simple_undirected_graph() -> None:
    multi = nx.MultiDiGraph()
    multi.add_node("YP1", kind="person", role="young_person")
    multi.add_node("AD1", kind="person", role="adult")
    multi.add_node("LO1", kind="location")
    multi.add_edge("AD1", "YP1", key="L1")
    multi.add_edge("YP1", "AD1", key="L2")
    multi.add_edge("YP1", "LO1", key="L3")
    assert sorted(simple_graph(multi).edges()) == [("AD1", "YP1"), ("LO1", "YP1")]
    rows = {row.id: row for row in network_measures(multi, groups={"YP1": "G01"}).rows}
    assert [rows[n].kind for n in ("AD1", "LO1", "YP1")] == ["adult", "location", "young_person"]
    assert rows["YP1"].degree == 1.0 and rows["YP1"].betweenness == 1.0
    assert rows["YP1"].group == "G01" and rows["AD1"].group is None


def test_tiny_graphs() -> None:
    assert network_measures(nx.Graph()).rows == []
    [row] = network_measures(nx.Graph([(1, 1)])).rows
    assert (row.degree, row.betweenness, row.closeness, row.eigenvector) == (1.0, 0.0, 0.0, 0.0)


def test_the_10k_agreement_is_quoted_only_for_a_sample_it_describes() -> None:
    from graphguard.analysis.measures import NetworkMeasures

    quoted = "betweenness_top100_agreement_10k_town"
    assert NetworkMeasures(exact=False, samples=1000).method()[quoted] == 0.81
    assert NetworkMeasures(exact=False, samples=128).method()[quoted] is None  # 100k's budget
    assert NetworkMeasures(exact=True).method()[quoted] is None
    assert NetworkMeasures(exact=False, samples=1000, budgeted=False).method()[quoted] is None
