"""A synthetic town with planted networks and every decoy: the analysis finds the networks."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from graphguard.analysis import OUTPUT_FILES, AnalysisResult, analyse, write_outputs
from graphguard.store import MemoryStore
from graphguard.synth import TownTruth, write_town

from .test_analysis_pipeline import disguised


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> tuple[TownTruth, nx.MultiDiGraph]:
    folder = tmp_path_factory.mktemp("town")
    truth = write_town(folder, 800, seed=11)
    return truth, MemoryStore.from_path(folder).graph()


@pytest.fixture(scope="module")
def result(town: tuple[TownTruth, nx.MultiDiGraph]) -> AnalysisResult:
    return analyse(town[1])


def planted(truth: TownTruth) -> list[str]:
    return [adult for network in truth.networks for adult in network.adults]


def test_planted_adults_are_at_the_top(
    town: tuple[TownTruth, nx.MultiDiGraph], result: AnalysisResult
) -> None:
    truth, _ = town
    rank = {hub.id: hub.rank for hub in result.hubs}
    adults = planted(truth)
    assert max(rank[a] for a in adults) <= len(adults) + 2
    unflagged = [a for network in truth.networks for a in network.unflagged_adults]
    assert unflagged and max(rank[a] for a in unflagged) <= len(adults) + 2


def test_decoys_are_not_in_the_top_ranks(
    town: tuple[TownTruth, nx.MultiDiGraph], result: AnalysisResult
) -> None:
    truth, _ = town
    hubs = {hub.id: hub for hub in result.hubs}
    top = len(planted(truth))
    decoys = (
        truth.youth_workers
        + truth.large_family_parents
        + truth.school_run_drivers
        + truth.malicious_allegation_adults
    )
    assert decoys
    for decoy in decoys:
        assert hubs[decoy].rank > top and not hubs[decoy].concern, decoy
    worst_active = max(hubs[a].rank for a in planted(truth))
    for offender in truth.historic_offenders:
        assert hubs[offender].rank > worst_active


def test_network_places_are_risky_contexts(
    town: tuple[TownTruth, nx.MultiDiGraph], result: AnalysisResult
) -> None:
    truth, _ = town
    rank = {context.id: context.rank for context in result.contexts}
    places = [p for network in truth.networks for p in network.locations + network.vehicles]
    assert sorted(rank[p] for p in places)[len(places) // 2] <= 2 * len(places)
    for vehicle in truth.school_run_vehicles:
        assert rank[vehicle] > len(places)


def test_no_young_person_is_a_hub(
    town: tuple[TownTruth, nx.MultiDiGraph], result: AnalysisResult
) -> None:
    _, graph = town
    assert all(graph.nodes[hub.id]["role"] == "adult" for hub in result.hubs)


def test_two_runs_write_identical_files(
    town: tuple[TownTruth, nx.MultiDiGraph], result: AnalysisResult, tmp_path: Path
) -> None:
    write_outputs(result, tmp_path / "a")
    write_outputs(analyse(town[1]), tmp_path / "b")
    for name in OUTPUT_FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_gender_and_other_protected_characteristics_change_nothing(
    town: tuple[TownTruth, nx.MultiDiGraph], result: AnalysisResult, tmp_path: Path
) -> None:
    write_outputs(result, tmp_path / "a")
    write_outputs(analyse(disguised(town[1])), tmp_path / "b")
    for name in OUTPUT_FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
