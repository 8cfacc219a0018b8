"""Version 2 in Neo4j: source records resolved to entities, merges and un-merges, provenance.

The datasets are built by hand here (records, a resolution, the entity-level dataset
made from them), so these tests pin the store's side of the v2 contract on their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graphguard.cypher import run_library_query
from graphguard.cypher.library import load_library
from graphguard.ingest import Dataset
from graphguard.model import Entity, Link, Location, Person
from graphguard.resolve.types import EntityProvenance, Resolution, SourceInfo
from graphguard.store import graph_from_dataset
from graphguard.store.check import check, repair
from graphguard.store.neo4j import Neo4jStore

pytestmark = pytest.mark.neo4j

ROOT = Path(__file__).resolve().parents[1]


def records() -> Dataset:
    """Two agencies' extracts: the same girl in both, an adult, a flat, a school."""
    people = {
        "police:P1": Person(
            person_id="police:P1",
            role="young_person",
            name="Jess Marlow",
            date_of_birth=dt.date(2010, 3, 4),
            area="Docklands",
            pnc_id="2024/0012345A",
            category="victim",
        ),
        "education:S17": Person(
            person_id="education:S17",
            role="young_person",
            name="Jessica Marlow",
            date_of_birth=dt.date(2010, 4, 3),
            area="Docklands",
            upn="A123456789012",
        ),
        "police:A1": Person(
            person_id="police:A1", role="adult", name="Dean Krill", suspected=True, area="Docklands"
        ),
    }
    locations = {
        "police:L1": Location(location_id="police:L1", kind="residential", name="Flat 3"),
        "education:L9": Location(location_id="education:L9", kind="school", name="Dock High"),
    }
    links = [
        Link(
            link_id="police:K1",
            source_id="police:A1",
            target_id="police:P1",
            type="ALLEGED_HARM",
            agency="police",
            source_grade="2",
            intel_grade="B",
        ),
        Link(link_id="police:K2", source_id="police:P1", target_id="police:L1", type="SEEN_AT"),
        Link(
            link_id="education:K1",
            source_id="education:S17",
            target_id="education:L9",
            type="ATTENDS",
            agency="education",
        ),
        Link(link_id="police:K3", source_id="police:A1", target_id="police:L1", type="LIVES_AT"),
    ]
    return Dataset(
        people=people,
        locations=locations,
        links=links,
        version=2,
        sources={
            "police": SourceInfo("police", agency="police", extracted_on=dt.date(2026, 11, 30)),
            "education": SourceInfo("education", agency="education"),
        },
    )


def resolve_by_hand(data: Dataset, groups: list[list[str]]) -> Dataset:
    """The entity-level dataset: one entity per group (the others alone), anchored on the
    smallest record id, links rewritten to entity ids."""
    clusters = {r: [r] for r in [e.id for e in data.entities()]}
    for group in groups:
        for record_id in group:
            clusters[record_id] = sorted(group)
    entity_of = {r: "E-" + min(members) for r, members in clusters.items()}
    kind_of = {e.id: e.entity_kind.value for e in data.entities()}
    entities: dict[str, Entity] = {}
    for record in data.entities():
        eid = entity_of[record.id]
        if record.id == min(clusters[record.id]):
            field = {"person": "person_id", "location": "location_id"}[kind_of[record.id]]
            entities[eid] = record.model_copy(update={field: eid})
    provenance = {
        eid: EntityProvenance(eid, kind_of[min(m)], tuple(m))
        for eid, m in {entity_of[r]: clusters[r] for r in clusters}.items()
    }
    return Dataset(
        people={k: v for k, v in entities.items() if isinstance(v, Person)},
        locations={k: v for k, v in entities.items() if isinstance(v, Location)},
        links=[
            link.model_copy(
                update={
                    "source_id": entity_of[link.source_id],
                    "target_id": entity_of[link.target_id],
                }
            )
            for link in data.links
        ],
        version=2,
        sources=data.sources,
        resolution=Resolution(entity_of, kind_of, provenance=provenance),
    )


def as_comparable(graph: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    nodes = dict(graph.nodes(data=True))
    edges = {key: (u, v, data) for u, v, key, data in graph.edges(keys=True, data=True)}
    return nodes, edges


def resolved_to(store: Neo4jStore) -> dict[str, list[str]]:
    """Record → entities as Neo4j holds them, pseudonyms read back as graphguard's ids."""
    ids = store.graphguard_ids()
    rows = store.read(
        "MATCH (r:Record)-[:RESOLVED_TO]->(e:Entity) RETURN r.record_id AS r, e.id AS e"
    )
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(ids.get(row["r"], row["r"]), []).append(ids.get(row["e"], row["e"]))
    return found


def stored_id(store: Neo4jStore, graphguard_id: str) -> str:
    """The id Neo4j holds for one of graphguard's (a young person's: a pseudonym)."""
    return {v: k for k, v in store.graphguard_ids().items()}.get(graphguard_id, graphguard_id)


@pytest.fixture
def store(neo4j_driver: Any, demo: Any) -> Iterator[Neo4jStore]:
    """An empty database; afterwards the demo is loaded again, the state other tests expect."""
    store = Neo4jStore(neo4j_driver, batch_size=2)  # several batches even on a tiny town
    store.clear()
    yield store
    store.clear()
    store.load(demo.dataset)


def test_v2_load_writes_records_resolved_to_entities(store: Neo4jStore) -> None:
    data = records()
    apart = resolve_by_hand(data, [])
    report = store.load(apart, records=data)
    assert (report.records.added, report.entities.added, report.links.added) == (5, 5, 4)
    assert resolved_to(store) == {
        r: [apart.resolution.entity_of[r]] for r in apart.resolution.entity_of
    }  # type: ignore[union-attr]
    # Entities are what every downstream command reads: the same graph as in memory.
    assert as_comparable(store.graph()) == as_comparable(graph_from_dataset(apart))
    # Each link keeps the record ids of its ends as the agency wrote them (a young
    # person's record by its pseudonym).
    ids = store.graphguard_ids()
    ends = {
        r["link_id"]: (ids.get(r["s"], r["s"]), ids.get(r["t"], r["t"]))
        for r in store.read(
            "MATCH ()-[r]->() WHERE r.link_id IS NOT NULL "
            "RETURN r.link_id AS link_id, r.source_record AS s, r.target_record AS t"
        )
    }
    assert ends == {link.link_id: (link.source_id, link.target_id) for link in data.links}
    sources = {
        r["name"]: r["agency"]
        for r in store.read("MATCH (s:Source) RETURN s.name AS name, s.agency AS agency")
    }
    assert sources == {"police": "police", "education": "education"}
    assert check(store, apart, data).ok


def test_young_peoples_records_hold_no_identifying_values(store: Neo4jStore) -> None:
    data = records()
    store.load(resolve_by_hand(data, []), records=data)
    props = {
        r["id"]: r["props"]
        for r in store.read("MATCH (r:Record) RETURN r.record_id AS id, properties(r) AS props")
    }
    assert "police:P1" not in props and "education:S17" not in props
    girl = props[stored_id(store, "police:P1")]
    assert girl["record_id"].startswith("YR-")
    for identifying in ("name", "date_of_birth", "pnc_id", "person_id", "local_id"):
        assert identifying not in girl
    assert girl["identity_recorded"] == ["date_of_birth", "name", "pnc_id"]
    assert (girl["area"], girl["category"], girl["source"]) == ("Docklands", ["victim"], "police")
    assert "Jess" not in str(girl) and "2010" not in str(girl)
    # An adult's record keeps what the adult's entity node keeps: the liaison acts on adults.
    assert props["police:A1"]["name"] == "Dean Krill"


def test_merge_then_unmerge_rewrites_only_what_moved(store: Neo4jStore) -> None:
    data = records()
    apart = resolve_by_hand(data, [])
    store.load(apart, records=data)
    # An analyst decides the two records of the girl are one person.
    merged = resolve_by_hand(data, [["police:P1", "education:S17"]])
    report = store.load(merged, records=data)
    # The anchor is the smallest record id (education:S17 < police:P1): the police record
    # is re-pointed, the entity it left deleted, the two links whose end it is
    # re-attached; nothing else is written.
    assert (report.records.changed, report.records.unchanged) == (1, 4)
    assert (report.entities.removed, report.entities.added, report.entities.changed) == (1, 0, 0)
    assert (report.links.changed, report.links.unchanged, report.links.added) == (2, 2, 0)
    assert resolved_to(store)["police:P1"] == ["E-education:S17"]
    assert as_comparable(store.graph()) == as_comparable(graph_from_dataset(merged))
    assert check(store, merged, data).ok
    # Reversed by a later decision: the entity comes back with its record and link.
    report = store.load(apart, records=data)
    assert (report.records.changed, report.entities.added, report.links.changed) == (1, 1, 2)
    assert as_comparable(store.graph()) == as_comparable(graph_from_dataset(apart))
    assert check(store, apart, data).ok
    again = store.load(apart, records=data)
    assert not again.changed_anything and again.batches == 1  # the sources only


def test_records_behind_an_entity_query(store: Neo4jStore, tmp_path: Path) -> None:
    data = records()
    # The anchor is the smallest record id: education:S17 < police:P1.
    merged = resolve_by_hand(data, [["police:P1", "education:S17"]])
    store.load(merged, records=data)
    spec = load_library()["records_behind_entity"]
    # The liaison names the girl by her pseudonym, and gets her records' pseudonyms.
    assert "E-education:S17" not in str(list(store.read("MATCH (n) RETURN properties(n)")))
    result = run_library_query(
        store.driver,
        spec,
        {"entity_id": stored_id(store, "E-education:S17")},
        timeout=30,
        row_limit=100,
        audit_path=tmp_path / "audit.log",
    )
    assert all(row["record_id"].startswith("YR-") for row in result.rows)
    ids = store.graphguard_ids()
    rows = {ids[row["record_id"]]: row for row in result.rows}
    assert set(rows) == {"education:S17", "police:P1"}
    police, school = rows["police:P1"], rows["education:S17"]
    assert (police["source"], police["agency"], police["extracted_on"]) == (
        "police",
        "police",
        "2026-11-30",
    )
    assert (school["agency"], school["extracted_on"]) == ("education", None)
    # Each record brought its own links: the police one the allegation and the sighting.
    assert (police["links"], school["links"]) == (2, 1)
    assert police["identity_recorded"] == ["date_of_birth", "name", "pnc_id"]
    assert school["identity_recorded"] == ["date_of_birth", "name", "upn"]
    assert police["record"]["properties"]["category"] == ["victim"]


def test_records_query_reads_the_v2_only_properties_by_key() -> None:
    # A v1 database has never held these: read as properties, each makes Neo4j add a
    # "property does not exist" notice to every run of the query there.
    text = load_library()["records_behind_entity"].text
    for name in ("identity_recorded", "source_record", "target_record", "extracted_on"):
        assert f".{name}" not in text and f"['{name}']" in text


def test_check_finds_and_repairs_a_record_moved_behind_the_loaders_back(
    store: Neo4jStore,
) -> None:
    data = records()
    apart = resolve_by_hand(data, [])
    store.load(apart, records=data)
    pupil = stored_id(store, "education:S17")
    with store.driver.session() as session:
        session.run(
            "MATCH (r:Record {record_id: $pupil})-[old:RESOLVED_TO]->() DELETE old "
            "WITH 1 AS one MATCH (r:Record {record_id: $pupil}), "
            "(e:Entity {id: 'E-police:A1'}) CREATE (r)-[:RESOLVED_TO]->(e)",
            pupil=pupil,
        ).consume()
        session.run("MATCH (r:Record {record_id: 'police:L1'}) DETACH DELETE r").consume()
    with store.lock("check") as lock:
        found = check(store, apart, data)
        assert not found.ok
        assert found.changed_records == [pupil]
        assert found.missing_records == ["police:L1"]
        fixed = repair(store, apart, found, lock, records=data)
    assert fixed.written_records == 2 and fixed.after.ok
    assert resolved_to(store)["education:S17"] == ["E-education:S17"]


def test_a_property_edited_behind_the_loaders_back_is_found_by_check(
    store: Neo4jStore, demo: Any
) -> None:
    store.load(demo.dataset)
    person_id = stored_id(store, next(iter(demo.dataset.people)))
    with store.driver.session() as session:
        session.run("MATCH (n:Entity {id: $id}) SET n.area = 'Elsewhere'", id=person_id).consume()
    # The stored hash still says the node is as loaded, so a load trusts it and skips it …
    assert store.load(demo.dataset).entities.changed == 0
    # … and check, which hashes what Neo4j holds, finds it; repair makes it right.
    with store.lock("check") as lock:
        found = check(store, demo.dataset)
        assert found.changed_entities == [person_id] and not found.ok
        assert repair(store, demo.dataset, found, lock).after.ok


def test_v2_dataset_without_its_records_is_refused(store: Neo4jStore) -> None:
    from graphguard.errors import UsageError

    with pytest.raises(UsageError, match="records and resolution"):
        store.load(resolve_by_hand(records(), []))


def test_demo_agencies_load_end_to_end(store: Neo4jStore, neo4j_env: Any) -> None:
    """The multi-agency demo as read_dataset resolves it: loaded, checked, queried."""
    from click.testing import CliRunner

    from graphguard.cli import main
    from graphguard.ingest import read_dataset

    folder = ROOT / "fixtures" / "demo-agencies"
    result = read_dataset(folder)
    assert result.ok and result.dataset.version == 2
    entities, data = result.dataset, result.records
    assert len(list(data.entities())) > len(list(entities.entities()))  # some joined
    store.batch_size = 500
    first = CliRunner().invoke(main, ["load", str(folder)])
    assert first.exit_code == 0, first.output + first.stderr
    n_records = len(list(data.entities()))
    assert f"{n_records:,} records: {n_records:,} added" in first.stdout
    assert as_comparable(store.graph()) == as_comparable(graph_from_dataset(entities))
    with store.lock("check"):
        assert check(store, entities, data).ok
    again = CliRunner().invoke(main, ["load", str(folder)])
    assert again.stdout.startswith("Nothing changed"), again.stdout
    checked = CliRunner().invoke(main, ["check", str(folder)])
    assert checked.exit_code == 0, checked.output
    assert "Record" in checked.stdout
    # Every entity's records are its provenance's records.
    assert entities.resolution is not None
    joined = next(p for p in entities.resolution.provenance.values() if len(p.records) > 1)
    ids = store.graphguard_ids()
    behind = {
        ids.get(r["id"], r["id"])
        for r in store.read(
            "MATCH (r:Record)-[:RESOLVED_TO]->(:Entity {id: $id}) RETURN r.record_id AS id",
            id=stored_id(store, joined.entity_id),
        )
    }
    assert behind == set(joined.records)


def test_v1_prune_after_v2_removes_the_records(store: Neo4jStore, demo: Any) -> None:
    data = records()
    store.load(resolve_by_hand(data, []), records=data)
    report = store.load(demo.dataset, prune=True)
    assert report.records.removed == len(list(data.entities()))
    assert list(store.read("MATCH (r:Record) RETURN r")) == []
    with store.lock("check"):
        assert check(store, demo.dataset).ok
