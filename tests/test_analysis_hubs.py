"""Perpetrator-centred hubs: the principles on small graphs, and the demo town's story."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from graphguard.analysis import AnalysisOptions
from graphguard.analysis.hubs import Hub, perpetrator_hubs
from graphguard.store import MemoryStore

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo"
DAY = dt.date(2026, 6, 1)


class Town:
    """A tiny typed graph built link by link."""

    def __init__(self) -> None:
        self.graph = nx.MultiDiGraph()
        self.links = 0

    def young(self, node: str, **data: Any) -> str:
        data.setdefault("date_of_birth", dt.date(2011, 1, 1))
        self.graph.add_node(node, kind="person", role="young_person", **data)
        return node

    def adult(self, node: str, **data: Any) -> str:
        self.graph.add_node(node, kind="person", role="adult", **data)
        return node

    def place(self, node: str, kind: str = "location", **data: Any) -> str:
        self.graph.add_node(node, kind=kind, **data)
        return node

    def link(self, source: str, target: str, link_type: str, **data: Any) -> str:
        self.links += 1
        link_id = f"L{self.links:04d}"
        data.setdefault("last_seen", DAY)
        self.graph.add_edge(source, target, key=link_id, link_id=link_id, type=link_type, **data)
        return link_id

    def hubs(self) -> dict[str, Hub]:
        return {
            hub.id: hub for hub in perpetrator_hubs(self.graph, options=AnalysisOptions(as_of=DAY))
        }


GOOD = {"source_grade": "1", "intel_grade": "B", "agency": "police", "reference": "INT-1"}


def test_only_adults_are_scored_and_ranks_run_from_one() -> None:
    town = Town()
    town.adult("A1")
    town.young("Y1", missing_episodes=2)
    town.link("A1", "Y1", "CONTACTED", count=10, **GOOD)
    town.link("Y1", "A1", "ASSOCIATES_WITH", **GOOD)
    hubs = perpetrator_hubs(town.graph)
    assert [(h.id, h.kind, h.rank) for h in hubs] == [("A1", "adult", 1)]


def test_youth_worker_supporting_forty_is_not_a_hub() -> None:
    town = Town()
    worker = town.adult("W", professional=True)
    centre = town.place("C", location_kind="other")
    town.link(worker, centre, "WORKS_AT", agency="youth_service")
    for i in range(40):
        child = town.young(f"Y{i:02d}", looked_after=i % 3 == 0, missing_episodes=i % 4)
        town.link(worker, child, "SUPPORTS", protective=True, agency="youth_service")
        town.link(worker, child, "CONTACTED", count=20, agency="youth_service", protective=True)
        town.link(child, centre, "ATTENDS", count=30, agency="youth_service")
    hub = town.hubs()[worker]
    assert hub.score == 0
    assert not hub.concern
    assert "supports 40 young people" in hub.explanation


def test_a_professional_with_a_real_allegation_still_scores() -> None:
    town = Town()
    worker = town.adult("W", professional=True)
    other = town.adult("X")
    child = town.young("Y", missing_episodes=3)
    town.link(worker, child, "SUPPORTS", protective=True, agency="youth_service")
    town.link(worker, child, "ALLEGED_HARM", **GOOD)
    town.link(other, child, "ALLEGED_HARM", **GOOD)
    hubs = town.hubs()
    assert hubs[worker].score > 0.5
    assert hubs[worker].score == pytest.approx(hubs[other].score)
    assert "INT-1" in hubs[worker].explanation


def test_parent_of_a_large_family_is_not_a_hub() -> None:
    town = Town()
    parent = town.adult("P")
    home = town.place("H", location_kind="home")
    town.link(parent, home, "LIVES_AT", agency="housing")
    for i in range(7):
        child = town.young(f"Y{i}", missing_episodes=1)
        town.link(parent, child, "FAMILY_OF", protective=True, agency="social_care")
        town.link(child, home, "LIVES_AT", agency="housing")
    assert town.hubs()[parent].score == 0


def test_school_run_recorded_by_education_is_provision_not_risk() -> None:
    town = Town()
    driver = town.adult("D")
    taxi = town.place("V", kind="vehicle", private_hire=True)
    school = town.place("S", location_kind="school")
    vetted = {"agency": "education", "source_grade": "1", "intel_grade": "A", "count": 190}
    town.link(driver, taxi, "DRIVES", **vetted)
    town.link(taxi, school, "SEEN_AT", **vetted)
    for i in range(12):
        child = town.young(f"Y{i:02d}", excluded_from_school=i < 3)
        town.link(child, taxi, "PASSENGER_IN", **vetted)
        town.link(child, school, "ATTENDS", agency="education")
    assert town.hubs()[driver].score < 0.01


def test_an_unreliable_suspected_false_report_counts_for_very_little() -> None:
    town = Town()
    accused = town.adult("M")
    named = town.adult("N")
    child = town.young("Y")
    town.link(accused, child, "ALLEGED_HARM", source_grade="3", intel_grade="E", agency="police")
    town.link(named, child, "ALLEGED_HARM", **GOOD)
    hubs = town.hubs()
    assert hubs[accused].score < hubs[named].score / 20
    assert not hubs[accused].concern
    assert "graded 3/E" in hubs[accused].explanation


def test_an_offender_whose_links_are_years_old_ranks_below_an_active_one() -> None:
    town = Town()
    for adult, seen in (("OLD", dt.date(2018, 6, 1)), ("NOW", DAY)):
        town.adult(adult, suspected=adult == "OLD")
        for i in range(3):
            child = town.young(f"{adult}{i}", missing_episodes=2)
            town.link(adult, child, "ALLEGED_HARM", last_seen=seen, **GOOD)
            town.link(adult, child, "CONTACTED", last_seen=seen, count=30, **GOOD)
    hubs = town.hubs()
    assert hubs["NOW"].rank == 1
    assert hubs["OLD"].score < hubs["NOW"].score / 5
    assert "most recent 2018-06-01" in hubs["OLD"].explanation


def test_structure_outweighs_the_suspected_flag() -> None:
    town = Town()
    flagged = town.adult("F", suspected=True)
    driver = town.adult("U")
    car = town.place("V", kind="vehicle")
    flat = town.place("LO", location_kind="residential")
    town.link(driver, car, "DRIVES", count=6, **GOOD)
    town.link(car, flat, "SEEN_AT", count=20, source_grade="1", intel_grade="A")
    for i in range(4):
        child = town.young(f"Y{i}", missing_episodes=3, looked_after=i == 0)
        town.link(child, car, "PASSENGER_IN", count=3, **GOOD)
        town.link(child, flat, "FOUND_AT", agency="social_care", reference=f"RHI-{i}")
        town.link(driver, child, "CONTACTED", count=40, **GOOD)
    hubs = town.hubs()
    assert hubs[driver].rank == 1 and hubs[driver].concern
    assert hubs[driver].score > 5 * hubs[flagged].score
    assert hubs[flagged].components["suspected"] == 1
    assert "vehicle V" in hubs[driver].explanation


def test_associates_of_a_hub_inherit_some_risk() -> None:
    town = Town()
    main = town.adult("MAIN", suspected=True)
    mate = town.adult("MATE")
    stranger = town.adult("STRANGER")
    for i in range(4):
        child = town.young(f"Y{i}", missing_episodes=4)
        town.link(main, child, "ALLEGED_HARM", **GOOD)
    town.link(main, mate, "CONTACTED", count=100, **GOOD)
    hubs = town.hubs()
    assert hubs[mate].components["associates"] > 0.5
    assert hubs[mate].score > hubs[stranger].score == 0
    assert "MAIN" in hubs[mate].explanation


def test_contact_with_under_18s_uses_the_date_of_birth() -> None:
    town = Town()
    adult = town.adult("A", date_of_birth=dt.date(1980, 1, 1))
    town.young("CHILD", date_of_birth=dt.date(2011, 1, 1))
    town.young("LEAVER", date_of_birth=dt.date(2005, 1, 1))
    town.link(adult, "CHILD", "PARTNER_OF", agency="social_care")
    town.link(adult, "LEAVER", "PARTNER_OF", agency="social_care")
    hub = town.hubs()[adult]
    assert hub.components["under_18_contacts"] == 1
    assert "contact with 1 under-18" in hub.explanation


def test_busy_places_say_little() -> None:
    town = Town()
    regular = town.adult("SHOPPER")
    visitor = town.adult("VISITOR")
    shop = town.place("SHOP", location_kind="shop")
    flat = town.place("FLAT", location_kind="residential")
    town.link(regular, shop, "SEEN_AT", count=10, **GOOD)
    town.link(visitor, flat, "SEEN_AT", count=10, **GOOD)
    for i in range(200):
        child = town.young(f"Y{i:03d}", missing_episodes=1)
        town.link(child, shop, "SEEN_AT", count=3, **GOOD)
        if i < 4:
            town.link(child, flat, "SEEN_AT", count=3, **GOOD)
    hubs = town.hubs()
    assert hubs["SHOPPER"].components["reach"] < hubs["VISITOR"].components["reach"] / 10


# --------------------------------------------------------------------------- the demo town


@pytest.fixture(scope="module")
def story() -> dict[str, Any]:
    return json.loads((DEMO / "story.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def hubs() -> list[Hub]:
    return perpetrator_hubs(MemoryStore.from_path(DEMO).graph())


def _network_adults(story: dict[str, Any]) -> list[str]:
    return [a for key in ("network_1", "network_2") for a in story[key]["adults"]]


def test_demo_network_adults_on_top(story: dict[str, Any], hubs: list[Hub]) -> None:
    adults = _network_adults(story)
    top = {hub.id for hub in hubs[: len(adults)]}
    assert top == set(adults)
    rank = {hub.id: hub.rank for hub in hubs}
    for key in ("network_1", "network_2"):
        assert rank[story[key]["unflagged_adult"]] <= 6
    assert all(hub.concern for hub in hubs[: len(adults)])


def test_demo_decoys_nowhere_near(story: dict[str, Any], hubs: list[Hub]) -> None:
    rank = {hub.id: hub for hub in hubs}
    decoys = story["decoys"]
    for role in ("youth_worker", "large_family_parent", "school_run_driver",
                 "malicious_allegation_adult"):  # fmt: skip
        hub = rank[decoys[role]]
        assert hub.rank > 10, role
        assert not hub.concern, role
    historic = rank[decoys["historic_offender"]]
    assert all(historic.rank > rank[a].rank for a in _network_adults(story))


def test_demo_hubs_are_only_adults(hubs: list[Hub]) -> None:
    graph = MemoryStore.from_path(DEMO).graph()
    adults = {n for n, d in graph.nodes(data=True) if d.get("role") == "adult"}
    assert {hub.id for hub in hubs} == adults
    assert [hub.rank for hub in hubs] == list(range(1, len(hubs) + 1))
    assert [hub.score for hub in hubs] == sorted((hub.score for hub in hubs), reverse=True)


def test_demo_explanations_cite_the_evidence(story: dict[str, Any], hubs: list[Hub]) -> None:
    graph = MemoryStore.from_path(DEMO).graph()
    link_ids = {key for _, _, key in graph.edges(keys=True)}
    for hub in hubs[: len(_network_adults(story))]:
        cited = set(re.findall(r"\bL\d+\b", hub.explanation))
        assert cited and cited <= link_ids, hub.id
        assert "graded" in hub.explanation
        assert hub.evidence and len(hub.evidence) <= 8
        for item in hub.evidence:
            assert set(item) == {"link_id", "type", "reference", "grading", "weight"}
            assert item["link_id"] in link_ids
    malicious = next(h for h in hubs if h.id == story["decoys"]["malicious_allegation_adult"])
    assert story["decoys"]["malicious_allegation_link"] in malicious.explanation
