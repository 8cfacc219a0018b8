"""The Neo4j store against a real Neo4j 5.26: loading, idempotency, equality with memory."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from click.testing import CliRunner

from graphguard.cli import main
from graphguard.ingest import Dataset, read_dataset
from graphguard.model import IntelGrade, LinkType, SourceGrade
from graphguard.store import Filters, MemoryStore, graph_from_dataset
from graphguard.store.neo4j import Neo4jStore
from graphguard.synth import write_town

pytestmark = pytest.mark.neo4j

ROOT = Path(__file__).resolve().parents[1]
FILTERS = [
    Filters(),
    Filters(as_of=dt.date(2025, 6, 1)),
    Filters(
        since=dt.date(2026, 1, 1),
        min_source_grade=SourceGrade("2"),
        min_intel_grade=IntelGrade("B"),
    ),
    Filters(min_intel_grade=IntelGrade("C"), include_ungraded=False),
    Filters(areas=frozenset({"Docklands"}), kinds=frozenset({"young_person", "adult", "vehicle"})),
]


def as_comparable(graph: nx.MultiDiGraph) -> tuple[dict[str, Any], dict[str, Any]]:
    nodes = dict(graph.nodes(data=True))
    edges = {key: (u, v, data) for u, v, key, data in graph.edges(keys=True, data=True)}
    return nodes, edges


@pytest.fixture
def store(neo4j_driver: Any, demo: Any) -> Any:
    """An empty database; afterwards the demo is loaded again, the state other tests expect."""
    store = Neo4jStore(neo4j_driver, batch_size=200)
    store.clear()
    yield store
    store.clear()
    store.load(demo.dataset)


def test_demo_loads_and_reads_back_the_same_graph(store: Neo4jStore, demo: Any) -> None:
    report = store.load(demo.dataset)
    data = demo.dataset
    entities = len(data.people) + len(data.locations) + len(data.vehicles)
    assert (report.nodes, report.relationships) == (entities, len(data.links))
    counts = store.counts()
    assert (counts["nodes"], counts["relationships"]) == (entities, len(data.links))
    for filters in FILTERS:
        expected = graph_from_dataset(data, filters)
        assert expected.number_of_edges() > 0, filters
        assert as_comparable(store.graph(filters)) == as_comparable(expected), filters


def test_second_load_changes_nothing(store: Neo4jStore, demo: Any) -> None:
    store.load(demo.dataset)
    before = (store.counts(), as_comparable(store.graph()))
    again = store.load(demo.dataset)
    # Every content hash was in Neo4j already: not one batch was written.
    assert again.batches == 0 and again.counters == {}
    assert not again.changed_anything
    assert again.entities.unchanged == len(list(demo.dataset.entities()))
    assert again.links.unchanged == len(demo.dataset.links)
    assert (store.counts(), as_comparable(store.graph())) == before


def test_changed_rows_update_in_place(store: Neo4jStore, demo: Any) -> None:
    store.load(demo.dataset)
    data: Dataset = demo.dataset
    person_id, person = next(iter(data.people.items()))
    changed_person = person.model_copy(update={"area": "Renamed Ward", "name": None})
    first, second = data.links[0], data.links[1]
    retyped = (
        first.model_copy(update={"type": LinkType.CONTACTED})
        if first.type in (LinkType.ASSOCIATES_WITH, LinkType.PARTNER_OF, LinkType.FAMILY_OF)
        else first.model_copy(update={"reference": "CHANGED-REF", "count": 7})
    )
    moved = second.model_copy(update={"first_seen": dt.date(2020, 1, 1), "last_seen": None})
    changed = Dataset(
        people={**data.people, person_id: changed_person},
        locations=data.locations,
        vehicles=data.vehicles,
        links=[retyped, moved, *data.links[2:]],
    )
    store.load(changed)
    assert as_comparable(store.graph()) == as_comparable(graph_from_dataset(changed))
    assert store.counts()["relationships"] == len(data.links)


def test_link_moved_to_another_type_or_end_keeps_one_relationship(store: Neo4jStore) -> None:
    folder = ROOT / "fixtures" / "demo"
    data = read_dataset(folder).dataset
    store.load(data)
    link = next(x for x in data.links if x.type is LinkType.ASSOCIATES_WITH)
    other = next(p for p in data.people if p not in (link.source_id, link.target_id))
    changed = Dataset(
        data.people,
        data.locations,
        data.vehicles,
        [
            link.model_copy(update={"type": LinkType.CONTACTED, "target_id": other})
            if x.link_id == link.link_id
            else x
            for x in data.links
        ],
    )
    report = store.load(changed)
    assert report.moved == 1
    graph = store.graph()
    [(u, v, attrs)] = [
        (u, v, d) for u, v, k, d in graph.edges(keys=True, data=True) if k == link.link_id
    ]
    assert (u, v, attrs["type"]) == (link.source_id, other, "CONTACTED")
    assert store.counts()["relationships"] == len(data.links)


def test_synthetic_town_round_trip(store: Neo4jStore, tmp_path: Path) -> None:
    write_town(tmp_path, 400, seed=3)
    result = read_dataset(tmp_path)
    assert result.ok
    store.load(result.dataset)
    assert as_comparable(store.graph()) == as_comparable(MemoryStore(result.dataset).graph())


def test_constraints_reject_duplicate_ids_behind_the_loaders_back(
    store: Neo4jStore, demo: Any
) -> None:
    from neo4j.exceptions import ConstraintError

    store.load(demo.dataset)
    person_id = next(iter(demo.dataset.people))
    with store.driver.session() as session, pytest.raises(ConstraintError):
        session.run("CREATE (:Entity:Location {id: $id})", id=person_id).consume()
    link = demo.dataset.links[0]
    with store.driver.session() as session, pytest.raises(ConstraintError):
        session.run(
            f"MATCH (s:Entity {{id: $s}}), (t:Entity {{id: $t}}) "
            f"CREATE (s)-[:`{link.type.value}` {{link_id: $id}}]->(t)",
            s=link.source_id,
            t=link.target_id,
            id=link.link_id,
        ).consume()


def test_load_cli_with_wrong_password_exits_4(neo4j_server: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("NEO4J_URI", neo4j_server.uri)
    monkeypatch.setenv("NEO4J_PASSWORD", "definitely-not-it")
    from graphguard.settings import get_settings

    get_settings.cache_clear()
    result = CliRunner().invoke(main, ["load", str(ROOT / "fixtures" / "demo")])
    assert result.exit_code == 4, result.output
    assert "refused the credentials" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_load_cli_unreachable_exits_4(monkeypatch: Any) -> None:
    from graphguard.neo4j_local import free_port
    from graphguard.settings import get_settings

    monkeypatch.setenv("NEO4J_URI", f"bolt://127.0.0.1:{free_port()}")
    monkeypatch.setenv("NEO4J_PASSWORD", "whatever-it-is")
    get_settings.cache_clear()
    result = CliRunner().invoke(main, ["load", str(ROOT / "fixtures" / "demo")])
    assert result.exit_code == 4, result.output
    assert "cannot reach Neo4j" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_load_cli_loads_and_reports(neo4j_env: Any, store: Neo4jStore, demo: Any) -> None:
    result = CliRunner().invoke(main, ["load", str(ROOT / "fixtures" / "demo")])
    assert result.exit_code == 0, result.output + result.stderr
    data = demo.dataset
    entities = len(data.people) + len(data.locations) + len(data.vehicles)
    # The fixture's store starts empty: the first load adds everything.
    assert (
        f"{entities} entities: {entities} added, 0 changed, 0 removed, 0 unchanged" in result.stdout
    )
    links = len(data.links)
    assert f"{links} links: {links} added, 0 changed, 0 removed, 0 unchanged" in result.stdout
    assert "Nothing changed" not in result.stdout
    assert store.counts()["relationships"] == len(data.links)
    # An identical second load writes nothing, and says so.
    again = CliRunner().invoke(main, ["load", str(ROOT / "fixtures" / "demo")])
    assert again.exit_code == 0, again.output + again.stderr
    assert again.stdout.startswith("Nothing changed: Neo4j already held every element of")
    assert f"{links} links: 0 added, 0 changed, 0 removed, {links} unchanged" in again.stdout
    assert "0 rows rejected" in again.stdout


def test_load_cli_with_rejects_loads_the_valid_rows_and_exits_1(
    neo4j_env: Any, store: Neo4jStore, tmp_path: Path
) -> None:
    case = ROOT / "fixtures" / "invalid" / "link_to_rejected_id"
    rejects = tmp_path / "rejects.csv"
    result = CliRunner().invoke(main, ["load", str(case), "--rejects", str(rejects)])
    assert result.exit_code == 1, result.output + result.stderr
    valid = read_dataset(case).dataset
    assert store.counts()["relationships"] == len(valid.links) > 0
    assert rejects.read_text(encoding="utf-8").count("\n") == 3  # header + two rejected rows


def test_prune_makes_neo4j_hold_exactly_the_dataset(store: Neo4jStore, demo: Any) -> None:
    data: Dataset = demo.dataset
    store.load(data)
    person_id = next(iter(data.people))
    dropped_links = [x for x in data.links if person_id in (x.source_id, x.target_id)]
    assert dropped_links
    smaller = Dataset(
        people={k: v for k, v in data.people.items() if k != person_id},
        locations=data.locations,
        vehicles=data.vehicles,
        links=[x for x in data.links if person_id not in (x.source_id, x.target_id)],
    )
    unpruned = store.load(smaller)
    assert (unpruned.pruned_nodes, unpruned.pruned_relationships) == (0, 0)
    assert store.counts()["relationships"] == len(data.links)  # without --prune, records stay
    report = store.load(smaller, prune=True)
    assert report.pruned_nodes == 1
    assert report.pruned_relationships == len(dropped_links)
    assert as_comparable(store.graph()) == as_comparable(graph_from_dataset(smaller))


def test_load_cli_refuses_prune_when_rows_were_rejected(
    neo4j_env: Any, store: Neo4jStore, demo: Any
) -> None:
    store.load(demo.dataset)
    before = store.counts()
    case = ROOT / "fixtures" / "invalid" / "link_to_rejected_id"
    result = CliRunner().invoke(main, ["load", str(case), "--prune"])
    assert result.exit_code == 1, result.output + result.stderr
    assert "--prune refused" in result.stderr
    assert store.counts() == before
