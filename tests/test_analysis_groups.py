"""Peer groups: seeded Leiden on the classic networks, Newman projection, planted truth, the demo."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest

from graphguard.analysis.groups import PURPOSE, communities, peer_groups
from graphguard.analysis.projection import newman_projection, peer_graph
from graphguard.store import MemoryStore

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


def test_demo_peer_groups_recover_the_story(demo: nx.MultiDiGraph, story: dict) -> None:
    groups = peer_groups(demo, seed=0)
    young = {n for n, d in demo.nodes(data=True) if d.get("role") == "young_person"}
    members = [set(group.members) for group in groups]
    assert all(m <= young for m in members)
    assert sum(len(m) for m in members) == len(set().union(*members))
    for name, planted in story["peer_groups"].items():
        best = max(members, key=lambda m: len(m & set(planted)))
        assert len(best & set(planted)) >= 0.75 * len(planted), name
    assert [g.id for g in groups] == [f"G{i:02d}" for i in range(1, len(groups) + 1)]


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
