"""What Neo4j holds of young people: pseudonyms and analytic attributes, nothing identifying.

Each test loads a dataset into the real Neo4j and reads back every property of every
node and relationship, as any Cypher could; the oracle is graphguard's own scrubber
(every identifying value of every young person, ids included, however written) and
the young people's surnames in location labels ("(Whimbrelwhistle household)").
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphguard.ingest import Dataset, read_dataset
from graphguard.model import Link, Location, Person
from graphguard.privacy import YoungPersonScrubber
from graphguard.store.base import node_attributes
from graphguard.store.check import check
from graphguard.store.memory import graph_from_dataset
from graphguard.store.neo4j import Neo4jStore

ROOT = Path(__file__).resolve().parent.parent
# What the graph holds instead of a child: their pseudonyms (hex, so a young person's
# id may appear inside one by chance: "YP-014ab…" is not YP014).
PSEUDONYM = re.compile(r"\b(?:YP|YR|LK)-[0-9a-f]{10}\b")
# Likewise a row's content hash, a SHA-256 of the stored row ("…6c04cae" is not C04):
# a digest of the stored row, which itself holds no identity, so the oracle skips it.
DIGEST = re.compile(r"\b[0-9a-f]{64}\b")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
    elif value is not None:
        yield str(value)  # numbers too: an NHS number stored as an integer


def everything_cypher_reads(store: Neo4jStore) -> list[str]:
    """Every property value of every node and relationship, and every label and type."""
    texts: list[str] = []
    for record in store.read("MATCH (n) RETURN labels(n) AS labels, properties(n) AS props"):
        texts += record["labels"]
        for name, value in record["props"].items():
            texts += [name, *_strings(value)]
    for record in store.read("MATCH ()-[r]->() RETURN type(r) AS type, properties(r) AS props"):
        texts.append(record["type"])
        for name, value in record["props"].items():
            texts += [name, *_strings(value)]
    return texts


def identifying_texts(records: Dataset, texts: list[str]) -> list[str]:
    """The texts in which any young person's identifying value (or surname) is found."""
    young = {
        person.id: {**node_attributes(person), "local_id": person.id.partition(":")[2]}
        for person in records.people.values()
        if person.role.value == "young_person"
    }
    scrub = YoungPersonScrubber(young)
    surnames = {
        str(data["name"]).split()[-1] for data in young.values() if " " in str(data.get("name"))
    }
    found = []
    for text in texts:
        plain = DIGEST.sub("", PSEUDONYM.sub("", text))
        if scrub(plain) != plain or any(f"{s} household" in plain for s in surnames):
            found.append(text)
    return found


def comparable(graph: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    nodes = dict(graph.nodes(data=True))
    edges = {key: (u, v, data) for u, v, key, data in graph.edges(keys=True, data=True)}
    return nodes, edges


@pytest.fixture
def store(neo4j_driver: Any, demo: Any) -> Iterator[Neo4jStore]:
    """An empty database; afterwards the demo is loaded again, the state other tests expect."""
    store = Neo4jStore(neo4j_driver, batch_size=500)
    store.clear()
    yield store
    store.clear()
    store.load(demo.dataset)


def test_the_demo_in_neo4j_holds_no_young_persons_identity(
    store: Neo4jStore, demo: Any, neo4j_env: Any
) -> None:
    from click.testing import CliRunner

    from graphguard.cli import main

    # As users load: the command, with the watch rules run after it (their alerts are
    # kept in Neo4j, and read over below with everything else).
    loaded = CliRunner().invoke(main, ["load", str(ROOT / "fixtures" / "demo")])
    assert loaded.exit_code == 0, loaded.output
    texts = everything_cypher_reads(store)
    assert identifying_texts(demo.dataset, texts) == []
    # The oracle is not blind: the same values are found in the dataset itself.
    names = [p.name for p in demo.dataset.people.values() if p.role.value == "young_person"]
    assert identifying_texts(demo.dataset, [str(n) for n in names]) != []
    young = list(store.read("MATCH (y:YoungPerson) RETURN y.id AS id, properties(y) AS p"))
    assert young and all(re.fullmatch(r"YP-[0-9a-f]{10}", r["id"]) for r in young)
    assert not any("name" in r["p"] or "date_of_birth" in r["p"] for r in young)
    # … and graphguard reads it back as it was: the identity store gives ids and names back.
    assert comparable(store.graph()) == comparable(graph_from_dataset(demo.dataset))
    with store.lock("check"):
        assert check(store, demo.dataset).ok


def test_demo_agencies_in_neo4j_hold_no_young_persons_identity(store: Neo4jStore) -> None:
    result = read_dataset(ROOT / "fixtures" / "demo-agencies")
    store.load(result.dataset, records=result.records)
    texts = everything_cypher_reads(store)
    assert identifying_texts(result.records, texts) == []
    assert identifying_texts(result.dataset, texts) == []
    assert comparable(store.graph()) == comparable(graph_from_dataset(result.dataset))
    # Loading again writes nothing; check agrees; the records are the pseudonyms'.
    again = store.load(result.dataset, records=result.records)
    assert not again.changed_anything
    with store.lock("check"):
        assert check(store, result.dataset, result.records).ok


def test_without_the_identity_store_the_graph_is_pseudonymous_and_analyses(
    store: Neo4jStore, demo: Any, neo4j_driver: Any
) -> None:
    from graphguard.analysis.hubs import perpetrator_hubs

    store.load(demo.dataset)
    bare = Neo4jStore(neo4j_driver, identities=None).graph()
    full = store.graph()
    assert bare.number_of_nodes() == full.number_of_nodes()
    assert bare.number_of_edges() == full.number_of_edges()
    young = [n for n, d in bare.nodes(data=True) if d.get("role") == "young_person"]
    assert young and all(n.startswith("YP-") and "name" not in bare.nodes[n] for n in young)
    # Adults keep their ids, so the hubs are the same adults in the same order.
    assert [h.id for h in perpetrator_hubs(bare)][:5] == [h.id for h in perpetrator_hubs(full)][:5]


def test_a_reload_after_prune_forgets_the_identities_neo4j_let_go(
    store: Neo4jStore, demo: Any
) -> None:
    store.load(demo.dataset)
    identities = store.identities
    assert identities is not None
    young = [p for p in demo.dataset.people.values() if p.role.value == "young_person"]
    assert {young[0].id, young[1].id} <= set(identities.ids().values())
    smaller = Dataset(
        people={k: v for k, v in demo.dataset.people.items() if k != young[0].id},
        locations=dict(demo.dataset.locations),
        vehicles=dict(demo.dataset.vehicles),
        links=[
            link
            for link in demo.dataset.links
            if young[0].id not in (link.source_id, link.target_id)
        ],
    )
    store.load(smaller, prune=True)
    held = set(identities.ids().values())
    assert young[0].id not in held and young[1].id in held


# ------------------------------------------------------------------ generated towns

NAME = st.text(
    alphabet=st.characters(categories=("Lu", "Ll"), min_codepoint=65, max_codepoint=0x24F),
    min_size=5,
    max_size=12,
)


@st.composite
def towns(draw: Any) -> Dataset:
    """A small town: young people with generated (unicode) names, their households, adults."""
    n = draw(st.integers(min_value=1, max_value=5))
    firsts = draw(st.lists(NAME, min_size=n, max_size=n, unique=True))
    lasts = draw(st.lists(NAME, min_size=n, max_size=n, unique=True))
    people: dict[str, Person] = {}
    locations: dict[str, Location] = {}
    links: list[Link] = []
    for i, (first, last) in enumerate(zip(firsts, lasts, strict=True)):
        child, home = f"C{i:02d}", f"H{i:02d}"
        people[child] = Person(
            person_id=child,
            role="young_person",
            name=f"{first} {last}",
            aliases=(f"{first[:4]}z",),
            date_of_birth=dt.date(2010, 1 + i, 3 + i),
            phone=f"0770090{i:04d}",
            area="Docks",
        )
        locations[home] = Location(
            location_id=home, kind="home", name=f"{10 + i} Sluice Road ({last} household)"
        )
        links.append(Link(link_id=f"K{i:02d}a", source_id=child, target_id=home, type="LIVES_AT"))
        links.append(
            Link(
                link_id=f"K{i:02d}b",
                source_id="A1",
                target_id=child,
                type="ALLEGED_HARM",
                reference=f"INT-2026-0054-{child}",
                notes=f"seen with {first.upper()} {last} born {3 + i}/{1 + i}/2010",
            )
        )
    people["A1"] = Person(person_id="A1", role="adult", name="Dean Krill", suspected=True)
    return Dataset(people=people, locations=locations, links=links)


@settings(
    max_examples=6,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(town=towns())
def test_generated_towns_leave_no_identity_in_neo4j(store: Neo4jStore, town: Dataset) -> None:
    store.clear()
    store.load(town, prune=True)
    texts = everything_cypher_reads(store)
    assert identifying_texts(town, texts) == []
    assert comparable(store.graph()) == comparable(graph_from_dataset(town))


def test_a_derived_link_id_of_a_childs_link_is_keyed(tmp_path: Path) -> None:
    """``auto:`` + SHA-1 of the row would let a guessed id be confirmed: it is keyed."""
    from graphguard.store.stored import stored_form

    (tmp_path / "people.csv").write_text(
        "person_id,role,name\nYP1,young_person,Ada Whimbrel\nA1,adult,Dean Krill\n"
        "A2,adult,Sam Cole\n",
        encoding="utf-8",
    )
    (tmp_path / "links.csv").write_text(
        "source_id,target_id,type\nA1,YP1,ALLEGED_HARM\nA1,A2,ASSOCIATES_WITH\n",
        encoding="utf-8",
    )
    dataset = read_dataset(tmp_path).dataset
    assert all(link.link_id.startswith("auto:") for link in dataset.links)
    form = stored_form(dataset, None, b"k" * 32)
    stored = {row["props"]["link_id"]: (row["source"], row["target"]) for _, row in form.links}
    adults = next(link.link_id for link in dataset.links if link.target_id == "A2")
    assert stored.pop(adults) == ("A1", "A2")  # adults' links keep their ids
    ((child_link, ends),) = stored.items()
    assert re.fullmatch(r"LK-[0-9a-f]{10}", child_link) and ends[1].startswith("YP-")
    held = {h.pseudonym: h for h in form.identities}
    assert held[f"link:{child_link}"].entity_id.startswith("auto:")
