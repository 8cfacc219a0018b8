"""Risky contexts: where adults of concern and young people meet, normalised by busyness."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from graphguard.analysis.contexts import Context, risky_contexts
from graphguard.store import MemoryStore

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo"
DAY = dt.date(2026, 6, 1)
GOOD = {"source_grade": "1", "intel_grade": "B", "agency": "police", "last_seen": DAY}


@pytest.fixture(scope="module")
def story() -> dict[str, Any]:
    return json.loads((DEMO / "story.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def contexts() -> list[Context]:
    return risky_contexts(MemoryStore.from_path(DEMO).graph())


def test_demo_network_places_and_vehicles_rank_high(
    story: dict[str, Any], contexts: list[Context]
) -> None:
    rank = {c.id: c.rank for c in contexts}
    for key in ("network_1", "network_2"):
        network = story[key]
        for place in network["locations"] + network["vehicles"]:
            assert rank[place] <= 12, (key, place)
    main_places = [story["network_1"]["flat"], story["network_2"]["hotel"]]
    assert {c.id for c in contexts[:3]} >= set(main_places)


def test_demo_decoy_contexts_rank_low(story: dict[str, Any], contexts: list[Context]) -> None:
    rank = {c.id: c for c in contexts}
    for place in (story["decoys"]["youth_centre"], story["decoys"]["school_run_vehicle"]):
        assert rank[place].rank > 8
        assert rank[place].components["adults_of_concern"] == 0
    for school in story["schools"].values():
        assert rank[school].rank > 8


def test_demo_contexts_explain_and_cite(story: dict[str, Any], contexts: list[Context]) -> None:
    assert {c.kind for c in contexts} == {"location", "vehicle"}
    top = contexts[0].as_dict()
    for field in ("id", "kind", "rank", "score", "explanation", "components", "evidence"):
        assert field in top
    hotel = next(c for c in contexts if c.id == story["network_2"]["hotel"])
    assert hotel.details["location_kind"] == "hotel"
    assert "found here after going missing" in hotel.explanation
    assert set(hotel.adults_of_concern) & set(story["network_2"]["adults"])
    taxi = next(c for c in contexts if c.id == story["network_2"]["taxi"])
    assert taxi.details["private_hire"] is True and taxi.details["operator"]


def _meeting(graph: nx.MultiDiGraph, place: str, bystanders: int) -> None:
    graph.add_node(place, kind="location", location_kind="other")
    graph.add_edge("A", place, key=f"{place}-a", link_id=f"{place}-a", type="SEEN_AT", **GOOD)
    for i in range(3):
        graph.add_edge(f"Y{i}", place, key=f"{place}-{i}", link_id=f"{place}-{i}",
                       type="SEEN_AT", **GOOD)  # fmt: skip
    for i in range(bystanders):
        person = f"B{place}{i}"
        graph.add_node(person, kind="person", role="adult")
        graph.add_edge(person, place, key=f"{place}-b{i}", link_id=f"{place}-b{i}",
                       type="SEEN_AT", **GOOD)  # fmt: skip


def test_the_same_meeting_counts_less_in_a_busy_place() -> None:
    graph = nx.MultiDiGraph()
    graph.add_node("A", kind="person", role="adult")
    for i in range(3):
        graph.add_node(f"Y{i}", kind="person", role="young_person", missing_episodes=2)
        graph.add_edge("A", f"Y{i}", key=f"h{i}", link_id=f"h{i}", type="ALLEGED_HARM", **GOOD)
    _meeting(graph, "QUIET", 0)
    _meeting(graph, "BUSY", 100)
    ranked = {c.id: c for c in risky_contexts(graph)}
    assert ranked["QUIET"].rank == 1
    assert ranked["BUSY"].score < ranked["QUIET"].score / 20
    assert ranked["QUIET"].components["co_presence"] == pytest.approx(
        ranked["BUSY"].components["co_presence"]
    )


def test_found_after_missing_marks_a_place_even_without_a_known_adult() -> None:
    graph = nx.MultiDiGraph()
    for place in ("P1", "P2"):
        graph.add_node(place, kind="location", location_kind="park")
    graph.add_node("Y", kind="person", role="young_person", missing_episodes=3)
    graph.add_edge("Y", "P1", key="f", link_id="f", type="FOUND_AT", **GOOD)
    graph.add_edge("Y", "P2", key="s", link_id="s", type="SEEN_AT", **GOOD)
    ranked = {c.id: c for c in risky_contexts(graph)}
    assert ranked["P1"].score > 0 == ranked["P2"].score
