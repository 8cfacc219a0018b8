"""Peer groups: seeded Leiden on classic networks, Newman projection, planted truth, the demo."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest

from graphguard.analysis.groups import (
    MIN_TIES,
    PURPOSE,
    cohesive_cores,
    communities,
    group_members,
    peer_groups,
)
from graphguard.analysis.partitions import labels, normalized_mutual_information
from graphguard.analysis.projection import PEER_LINK_TYPES, newman_projection, peer_graph
from graphguard.store import MemoryStore
from graphguard.synth import write_town

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo"

#: Freeman (2003), the consensus of 21 analyses of Davis, Gardner and Gardner's data.
DAVIS_GROUPS = (
    {
        "Evelyn Jefferson", "Laura Mandeville", "Theresa Anderson", "Brenda Rogers",
        "Charlotte McDowd", "Frances Anderson", "Eleanor Nye", "Pearl Oglethorpe",
        "Ruth DeSand",
    },
    {
        "Verne Sanderson", "Myra Liddel", "Katherina Rogers", "Sylvia Avondale", "Nora Fayette",
        "Helen Lloyd", "Dorothy Murchison", "Olivia Carleton", "Flora Price",
    },
)  # fmt: skip


def agreement(found: list[set[object]], label: dict[object, object]) -> float:
    """Share of nodes whose community's majority label is their own label."""
    agreeing = 0
    for community in found:
        _, count = Counter(label[n] for n in community).most_common(1)[0]
        agreeing += count
    return agreeing / len(label)


@pytest.mark.parametrize("seed", [0, 1, 2, 42])
def test_karate_club_communities_stay_within_the_split(seed: int) -> None:
    graph = nx.karate_club_graph()
    found = communities(graph, seed=seed)
    assert nx.community.is_partition(graph, found)
    assert all(nx.is_connected(graph.subgraph(community)) for community in found)
    clubs = nx.get_node_attributes(graph, "club")
    assert agreement(found, clubs) >= 0.9
    assert not any({0, 33} <= community for community in found)


def test_communities_are_stable_under_the_seed_and_the_input_order() -> None:
    graph = nx.karate_club_graph()
    shuffled = nx.Graph()
    shuffled.add_nodes_from(reversed(list(graph)))
    shuffled.add_edges_from(reversed(list(graph.edges(data=True))))
    assert communities(graph, seed=7) == communities(graph, seed=7) == communities(shuffled, seed=7)
    sizes = [len(c) for c in communities(graph, seed=7)]
    assert sizes == sorted(sizes, reverse=True)


def test_davis_southern_women_cores_lie_within_the_consensus_groups() -> None:
    bipartite = nx.davis_southern_women_graph()
    women = bipartite.graph["top"]
    projected = newman_projection(bipartite, women)
    found = communities(projected, seed=0)
    assert nx.community.is_partition(projected, found)
    first, second = found[:2]
    assert len(first) >= 5 and len(second) >= 5
    assert (first <= DAVIS_GROUPS[0] and second <= DAVIS_GROUPS[1]) or (
        first <= DAVIS_GROUPS[1] and second <= DAVIS_GROUPS[0]
    )


def test_newman_weighting_makes_busy_contexts_count_for_little() -> None:
    bipartite = nx.Graph()
    crowd = [f"p{i}" for i in range(50)]
    bipartite.add_edges_from((person, "school") for person in crowd)
    bipartite.add_edges_from([("p0", "car"), ("p1", "car")])
    projected = newman_projection(bipartite, crowd)
    assert projected["p0"]["p1"]["weight"] == pytest.approx(1 + 1 / 49)
    assert projected["p2"]["p3"]["weight"] == pytest.approx(1 / 49)
    capped = newman_projection(bipartite, crowd, max_context_size=10)
    assert capped["p0"]["p1"]["weight"] == pytest.approx(1.0)
    assert not capped.has_edge("p2", "p3")


@pytest.fixture(scope="module")
def demo() -> nx.MultiDiGraph:
    return MemoryStore.from_path(DEMO).graph()


@pytest.fixture(scope="module")
def story() -> dict[str, object]:
    return json.loads((DEMO / "story.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_demo_peer_groups_recover_the_story(demo: nx.MultiDiGraph, story: dict, seed: int) -> None:
    groups = peer_groups(demo, seed=seed)
    young = {n for n, d in demo.nodes(data=True) if d.get("role") == "young_person"}
    members = [set(group.members) for group in groups]
    assert all(m <= young for m in members)
    assert sum(len(m) for m in members) == len(set().union(*members))
    for name, planted in story["peer_groups"].items():
        best = max(members, key=lambda m: len(m & set(planted)))
        assert len(best & set(planted)) >= 0.75 * len(planted), name
    assert [g.id for g in groups] == [f"G{i:02d}" for i in range(1, len(groups) + 1)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_demo_groups_are_the_size_the_story_says(
    demo: nx.MultiDiGraph, story: dict, seed: int
) -> None:
    """Friends of one member and school-run passengers do not swell a group past the story's."""
    planted = [set(members) for members in story["peer_groups"].values()]
    low, high = min(map(len, planted)), max(map(len, planted))
    sizes = [len(group.members) for group in peer_groups(demo, seed=seed)]
    assert len(sizes) == len(planted)
    assert all(low <= size <= high for size in sizes), sizes


def test_demo_groups_say_why_they_matter_and_what_they_are_for(
    demo: nx.MultiDiGraph, story: dict
) -> None:
    groups = peer_groups(demo, seed=0)
    network_adults = set(story["network_1"]["adults"]) | set(story["network_2"]["adults"])
    for group in groups:
        assert group.reason.endswith(PURPOSE)
        assert group.as_dict()["purpose"] == PURPOSE
    victims = set(story["network_1"]["victims"]) | set(story["network_2"]["victims"])
    with_victims = [g for g in groups if victims & set(g.members)]
    assert with_victims
    for group in with_victims:
        linked = {adult["id"] for adult in group.adults_of_concern}
        assert linked & network_adults, group.id
        assert all(adult["links"] for adult in group.adults_of_concern)
        assert any(adult["id"] in group.reason for adult in group.adults_of_concern)


def test_peer_graph_keeps_both_parts(demo: nx.MultiDiGraph) -> None:
    peers = peer_graph(demo)
    assert peers.number_of_edges() > 0
    for _, _, data in peers.edges(data=True):
        assert data["weight"] == pytest.approx(data["co_presence"] + data["direct"])


@pytest.mark.parametrize(("location_kind", "linked"), [("home", False), ("care_home", True)])
def test_family_homes_are_not_peer_contexts(location_kind: str, linked: bool) -> None:
    graph = nx.MultiDiGraph()
    graph.add_node("H", kind="location", location_kind=location_kind)
    for person in ("Y1", "Y2"):
        graph.add_node(person, kind="person", role="young_person")
        graph.add_edge(person, "H", key=person, link_id=person, type="LIVES_AT")
    assert peer_graph(graph).has_edge("Y1", "Y2") is linked


# --------------------------------------------------------------------------- planted truth


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> tuple[nx.MultiDiGraph, list[set[str]]]:
    folder = tmp_path_factory.mktemp("town")
    truth = write_town(folder, 400, seed=11)
    return MemoryStore.from_path(folder).graph(), [set(g) for g in truth.peer_groups]


def _plain_louvain(graph: nx.MultiDiGraph, young: set[str], seed: int) -> list[set[str]]:
    """NetworkX Louvain, resolution 1, on the direct peer links between young people."""
    direct = nx.Graph()
    direct.add_edges_from(
        (u, v)
        for u, v, data in graph.edges(data=True)
        if u in young and v in young and u != v and data["type"] in PEER_LINK_TYPES
    )
    return [set(c) for c in nx.community.louvain_communities(direct, seed=seed)]


def test_synthetic_groups_beat_plain_louvain_on_the_planted_truth(
    town: tuple[nx.MultiDiGraph, list[set[str]]],
) -> None:
    graph, planted = town
    young = sorted(n for n, d in graph.nodes(data=True) if d.get("role") == "young_person")
    truth = labels(planted, young)
    ours = [set(g.members) for g in peer_groups(graph, seed=0)]
    louvain = [c for c in _plain_louvain(graph, set(young), seed=0) if len(c) >= 2]
    found = normalized_mutual_information(truth, labels(ours, young))
    plain = normalized_mutual_information(truth, labels(louvain, young))
    assert found >= plain, (found, plain)
    assert found >= 0.95


def test_synthetic_groups_are_cohesive_and_disjoint(
    town: tuple[nx.MultiDiGraph, list[set[str]]],
) -> None:
    graph, _ = town
    peers = peer_graph(graph)
    found = group_members(peers, seed=0)
    assert found and sum(map(len, found)) == len(set().union(*found))
    for group in found:
        for member in group:
            direct = [o for o in peers[member] if o in group and peers[member][o]["direct"] > 0]
            assert len(direct) >= MIN_TIES, member
    assert [len(g) for g in found] == sorted((len(g) for g in found), reverse=True)


def test_same_seed_same_groups_whatever_the_order(
    town: tuple[nx.MultiDiGraph, list[set[str]]],
) -> None:
    graph, _ = town
    peers = peer_graph(graph)
    shuffled = nx.Graph()
    shuffled.add_nodes_from(reversed(list(peers)))
    shuffled.add_edges_from(reversed(list(peers.edges(data=True))))
    first = group_members(peers, seed=3)
    assert first == group_members(peers, seed=3) == group_members(shuffled, seed=3)


def test_a_friend_of_one_member_is_not_a_member() -> None:
    peers = nx.Graph()
    clique = ["Y1", "Y2", "Y3", "Y4"]
    peers.add_edges_from(
        ((u, v) for i, u in enumerate(clique) for v in clique[i + 1 :]), direct=0.6, weight=0.6
    )
    peers.add_edge("Y1", "F1", direct=0.9, weight=0.9)  # one strong friendship
    peers.add_edges_from(((y, "S1") for y in clique), direct=0.0, weight=0.2)  # a school run
    assert cohesive_cores(peers, [*clique, "F1", "S1"]) == [set(clique)]
    assert cohesive_cores(peers, [*clique, "F1", "S1"], min_ties=0) == [{*clique, "F1", "S1"}]
    assert group_members(peers, seed=0) == [set(clique)]
