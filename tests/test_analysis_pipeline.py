"""The whole analysis: output files, determinism, and protected characteristics never scored."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
from pathlib import Path

import networkx as nx
import pytest

from graphguard.analysis import (
    MEASURE_COLUMNS,
    OUTPUT_FILES,
    AnalysisOptions,
    analyse,
    write_outputs,
)
from graphguard.analysis.town import SCORED_ATTRIBUTES
from graphguard.ingest import Dataset, read_dataset
from graphguard.model import PROTECTED_CHARACTERISTICS
from graphguard.resolve import match_records, merge_records
from graphguard.store import MemoryStore

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo"
DEMO_AGENCIES = DEMO.parent / "demo-agencies"


@pytest.fixture(scope="module")
def demo_graph() -> nx.MultiDiGraph:
    return MemoryStore.from_path(DEMO).graph()


def run(graph: nx.MultiDiGraph, out: Path, **options: object) -> dict[str, bytes]:
    write_outputs(analyse(graph, AnalysisOptions(**options)), out)  # type: ignore[arg-type]
    return {name: (out / name).read_bytes() for name in OUTPUT_FILES}


def protected_values(i: int) -> dict[str, str]:
    """The ``i``-th person's made-up value of every protected characteristic."""
    values = {"gender": ("female", "male", "non-binary", "not recorded")[i % 4]}
    for j, name in enumerate(sorted(PROTECTED_CHARACTERISTICS - {"gender"})):
        values[name] = f"{name}-{(i + j) % 3}"
    return values


def disguised(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """The same graph with every protected characteristic changed or added."""
    changed = graph.copy()
    for i, (_, data) in enumerate(changed.nodes(data=True)):
        if data.get("kind") == "person":
            data.update(protected_values(i))
    return changed


def disguised_records(records: Dataset) -> Dataset:
    """The same records with every protected characteristic changed or added."""
    people = {}
    for i, (record_id, person) in enumerate(records.people.items()):
        values = protected_values(i)
        gender = values.pop("gender")
        people[record_id] = person.model_copy(
            update={"gender": gender, "extra": {**person.extra, **values}}
        )
    return dataclasses.replace(records, people=people)


def test_writes_the_five_files_as_the_contract_says(
    demo_graph: nx.MultiDiGraph, tmp_path: Path
) -> None:
    files = run(demo_graph, tmp_path)
    assert sorted(files) == sorted(OUTPUT_FILES)
    hubs = json.loads(files["hubs.json"])
    contexts = json.loads(files["contexts.json"])
    groups = json.loads(files["groups.json"])
    for items in (hubs, contexts):
        assert [item["rank"] for item in items] == list(range(1, len(items) + 1))
        for item in items:
            assert {"id", "kind", "rank", "score", "explanation", "components"} <= set(item)
    assert all(group["id"] and group["members"] for group in groups)
    with (tmp_path / "measures.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == MEASURE_COLUMNS
    assert len(rows) == demo_graph.number_of_nodes()
    summary = json.loads(files["summary.json"])
    assert summary["as_of"] == "2026-11-30"
    assert summary["seed"] == 0
    assert summary["top_hubs"] == [hub["id"] for hub in hubs[:10]]
    assert summary["counts"]["links"] == demo_graph.number_of_edges()


def test_young_people_never_appear_in_hubs(demo_graph: nx.MultiDiGraph, tmp_path: Path) -> None:
    hubs_json = run(demo_graph, tmp_path)["hubs.json"].decode("utf-8")
    young = [n for n, d in demo_graph.nodes(data=True) if d.get("role") == "young_person"]
    assert all(hub["kind"] == "adult" for hub in json.loads(hubs_json))
    for person in young:
        assert f'"{person}"' not in hubs_json and f" {person} " not in hubs_json


def test_same_graph_and_seed_give_byte_identical_files(
    demo_graph: nx.MultiDiGraph, tmp_path: Path
) -> None:
    first = run(demo_graph, tmp_path / "a", seed=3)
    second = run(demo_graph.copy(), tmp_path / "b", seed=3)
    assert first == second


def test_input_order_does_not_change_the_result(
    demo_graph: nx.MultiDiGraph, tmp_path: Path
) -> None:
    reordered = nx.MultiDiGraph()
    reordered.add_nodes_from(reversed(list(demo_graph.nodes(data=True))))
    reordered.add_edges_from(reversed(list(demo_graph.edges(keys=True, data=True))))
    assert run(demo_graph, tmp_path / "a") == run(reordered, tmp_path / "b")


def test_protected_characteristics_change_no_output(
    demo_graph: nx.MultiDiGraph, tmp_path: Path
) -> None:
    assert run(demo_graph, tmp_path / "a") == run(disguised(demo_graph), tmp_path / "b")
    # v2: nor any join, review or entity of the resolution, nor so any score after it
    records = read_dataset(DEMO_AGENCIES).records
    changed = disguised_records(records)
    assert any(changed.people[r].gender != p.gender for r, p in records.people.items())
    resolved, resolved_changed = match_records(records), match_records(changed)
    assert resolved.entity_of == resolved_changed.entity_of
    assert resolved.candidates == resolved_changed.candidates
    entities = MemoryStore(merge_records(records, resolved)).graph()
    entities_changed = MemoryStore(merge_records(changed, resolved_changed)).graph()
    assert run(entities, tmp_path / "c") == run(entities_changed, tmp_path / "d")


class _Watched(dict[str, object]):
    """A node's attributes that remember which were read."""

    def __init__(self, data: dict[str, object], read: set[str]) -> None:
        super().__init__(data)
        self.read = read

    def __getitem__(self, key: str) -> object:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.read.add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.read.add(str(key))
        return super().__contains__(key)


def test_no_score_reads_a_protected_characteristic(demo_graph: nx.MultiDiGraph) -> None:
    """Every attribute the analysis and the disruption planning read, watched as they run."""
    from graphguard.analysis.disruption import disruption_analysis, greedy_plan

    watched = disguised(demo_graph)
    read: set[str] = set()
    for node, data in list(watched.nodes(data=True)):
        watched._node[node] = _Watched(data, read)
    analyse(watched)
    scored = set(read)
    found = disruption_analysis(watched)
    greedy_plan(watched, 3, exposure=found.exposure)
    assert scored and read >= scored
    assert not read & PROTECTED_CHARACTERISTICS, sorted(read & PROTECTED_CHARACTERISTICS)
    # what the scores read is what summary.json declares (plus names for labels)
    assert {"role", "kind", "looked_after", "missing_episodes"} <= scored
    assert scored - SCORED_ATTRIBUTES <= {"name", "area", "operator", "registration", "business"}


def test_as_of_and_half_life_are_honoured(demo_graph: nx.MultiDiGraph) -> None:
    earlier = analyse(demo_graph, AnalysisOptions(as_of=dt.date(2026, 1, 1)))
    assert earlier.summary["as_of"] == "2026-01-01"
    assert earlier.summary["options"]["as_of"] == "2026-01-01"
    default = analyse(demo_graph)
    short = analyse(demo_graph, AnalysisOptions(half_life_days=30))
    assert short.hubs[0].score != default.hubs[0].score
    assert set(default.timings) == {"read", "hubs", "contexts", "groups", "measures"}


def test_groups_appear_in_measures(demo_graph: nx.MultiDiGraph) -> None:
    result = analyse(demo_graph)
    membership = {m: g.id for g in result.groups for m in g.members}
    rows = {row.id: row for row in result.measures.rows}
    assert membership
    for member, group in membership.items():
        assert rows[member].group == group
    assert all(row.group is None for row in rows.values() if row.kind != "young_person")
