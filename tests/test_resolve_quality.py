"""Resolution quality against the truth of synthetic multi-agency towns.

The measures are checked first on hand-built resolutions whose scores are known,
then on real resolutions: the resolver (``match_records``) and the naive rule
(``naive_match``) on seeded towns of a few sizes, where the hard rules must hold
(no young-person/adult joins, no planted twins, namesakes or father/son pairs
joined) and the analysis must find the same top hubs and contexts as on the same
records joined by the truth.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from graphguard.resolution_quality import (
    FORBIDDEN_TRAPS,
    Quality,
    assess,
    cross_role_joins,
    pairwise_scores,
    top_overlap,
    trap_joins,
    true_names,
)
from graphguard.synth_agencies import AgencyTruth, TruthRecord, write_agencies

ROOT = Path(__file__).resolve().parents[1]


def _truth(*rows: tuple[str, str, str, str, str, str]) -> AgencyTruth:
    return AgencyTruth({r[0]: TruthRecord(*r) for r in rows})


# Two sources; P1 is in both, P2 (an adult) shares P1's name, P3 and P4 are twins.
TRUTH = _truth(
    ("police:1", "P1", "person", "young_person", "", ""),
    ("health:1", "P1", "person", "young_person", "", ""),
    ("health:2", "P1", "person", "young_person", "", ""),
    ("police:2", "P2", "person", "adult", "father_son", "FS1"),
    ("police:3", "P3", "person", "young_person", "twin", "TW1"),
    ("health:3", "P4", "person", "young_person", "twin", "TW1"),
    ("police:4", "P5", "person", "adult", "within_source_duplicate", "DU1"),
    ("police:5", "P5", "person", "adult", "within_source_duplicate", "DU1"),
    ("police:L1", "L1", "location", "", "", ""),
    ("health:L1", "L1", "location", "", "", ""),
)


def _brute_force(entity_of: dict[str, str], truth: AgencyTruth, kind: str) -> tuple[int, int, int]:
    """True, predicted and correct pairs counted pair by pair, to check the counting."""
    records = [r for r in truth.records.values() if r.kind == kind]
    true = predicted = correct = 0
    for a, b in itertools.combinations(records, 2):
        same_entity = entity_of.get(a.record_id, a.record_id) == entity_of.get(
            b.record_id, b.record_id
        )
        same_truth = a.true_id == b.true_id
        true += same_truth
        predicted += same_entity
        correct += same_truth and same_entity
    return true, predicted, correct


def test_a_perfect_resolution_scores_one() -> None:
    perfect = {r: t.true_id for r, t in TRUTH.records.items()}
    for kind in ("person", "location", "vehicle"):
        scores = pairwise_scores(perfect, TRUTH, kind)
        assert scores.precision == scores.recall == scores.f1 == 1.0
    assert cross_role_joins(perfect, TRUTH) == 0
    assert all(trap_joins(perfect, TRUTH, t).joined == 0 for t in FORBIDDEN_TRAPS)
    assert trap_joins(perfect, TRUTH, "within_source_duplicate").joined == 1


def test_scores_count_pairs_as_a_brute_force_count_does() -> None:
    # Joins P1's records with the adult P2 and the twins together; leaves health:2 apart.
    resolution = {"police:1": "E1", "health:1": "E1", "police:2": "E1", "police:3": "E2",
                  "health:3": "E2", "police:L1": "E3", "health:L1": "E3"}  # fmt: skip
    scores = pairwise_scores(resolution, TRUTH, "person")
    assert (scores.true_pairs, scores.predicted_pairs, scores.correct_pairs) == _brute_force(
        resolution, TRUTH, "person"
    )
    assert scores.correct_pairs == 1 and scores.predicted_pairs == 4 and scores.true_pairs == 4
    assert scores.precision == 0.25 and scores.recall == 0.25
    assert cross_role_joins(resolution, TRUTH) == 2  # police:2 with police:1 and health:1
    assert trap_joins(resolution, TRUTH, "twin").joined == 1
    assert trap_joins(resolution, TRUTH, "father_son").joined == 0  # one record: nothing joined
    assert trap_joins(resolution, TRUTH, "within_source_duplicate").joined == 0
    assert pairwise_scores(resolution, TRUTH, "location").f1 == 1.0


def test_unresolved_records_are_their_own_entities() -> None:
    scores = pairwise_scores({}, TRUTH, "person")
    assert scores.predicted_pairs == 0 and scores.precision == 1.0 and scores.recall == 0.0
    assert scores.f1 == 0.0


def test_entities_are_named_by_their_records_majority() -> None:
    resolution = {"police:1": "E1", "health:1": "E1", "police:2": "E1"}
    names = true_names(resolution, TRUTH)
    assert names["E1"] == "P1"
    assert names["unresolved:health:2"] == "P1"


def test_top_overlap() -> None:
    assert top_overlap(["a", "b", "c"], ["c", "b", "a"], 3) == 1.0
    assert top_overlap(["a", "x", "y"], ["a", "b", "c"], 3) == pytest.approx(1 / 3)
    assert top_overlap(["b", "a"], ["a", "b"], 1) == 0.0
    assert top_overlap([], [], 5) == 1.0


# --------------------------------------------------------------------------- real towns


@pytest.fixture(scope="module", params=[None, (150, 1), (400, 2)], ids=["demo", "150yp", "400yp"])
def assessed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Quality]:
    """The bundled demo and two seeded towns, resolved by the resolver and the naive rule."""
    from graphguard.resolve import match_records, naive_match

    if request.param is None:
        folder = ROOT / "fixtures" / "demo-agencies"
    else:
        young_people, seed = request.param
        folder = tmp_path_factory.mktemp("quality") / "town"
        write_agencies(folder, young_people, seed)
    results = assess(folder, {"splink": match_records, "naive": naive_match})
    return {q.method: q for q in results}


def test_the_resolver_never_joins_a_young_person_with_an_adult(
    assessed: dict[str, Quality],
) -> None:
    assert assessed["splink"].cross_role_joins == 0


@pytest.mark.parametrize("trap", FORBIDDEN_TRAPS)
def test_the_resolver_never_joins_planted_traps(assessed: dict[str, Quality], trap: str) -> None:
    joins = assessed["splink"].traps[trap]
    assert joins.groups > 0, f"no {trap} planted"
    assert joins.joined == 0


def test_the_resolver_is_precise_and_finds_most_pairs(assessed: dict[str, Quality]) -> None:
    people = assessed["splink"].scores["person"]
    places = assessed["splink"].scores["location"]
    vehicles = assessed["splink"].scores["vehicle"]
    # Youth-service records carry a name and little else, so recall stays well below 1.
    assert people.precision > 0.95 and people.recall > 0.6, people
    assert places.precision > 0.85 and places.recall > 0.85, places
    assert vehicles.f1 == 1.0, vehicles


def test_the_resolver_beats_the_naive_rule(assessed: dict[str, Quality]) -> None:
    for kind in ("person", "location"):
        splink, naive = assessed["splink"].scores[kind], assessed["naive"].scores[kind]
        assert splink.f1 > naive.f1, (splink, naive)
    # The naive rule falls for namesakes born the same day; the resolver does not.
    assert assessed["naive"].traps["namesake"].joined > 0


def test_the_analysis_finds_the_same_hubs_and_contexts(assessed: dict[str, Quality]) -> None:
    assert assessed["splink"].hub_overlap >= 0.8
    assert assessed["splink"].context_overlap >= 0.8
