"""Data-protection categories: recorded per source record, derived and marked, in every output."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from graphguard.categories import PERSON_OF_INTEREST, categorise, person_categories
from graphguard.cli import main
from graphguard.ingest import Dataset, read_dataset
from graphguard.model import Category, Link, Person
from graphguard.resolve import Resolution, merge_records
from graphguard.settings import get_settings
from graphguard.store import MemoryStore
from graphguard.targets import build_target_list
from graphguard.viz import entity_tooltip

from .helpers import LINKS, write_csv

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboards" / "app.py"
PEOPLE = ["person_id", "role", "name", "suspected", "category"]


def town(folder: Path) -> Path:
    """A v1 town: two adults reaching three young people, one adult flagged suspected.

    AD1 (flagged) and AD2 (not flagged, recorded a witness elsewhere) both allege-harm
    YP1; YP2 is recorded a suspect (a child exploited into crime) and is harmed by AD2;
    YP3 is only associated with AD2.
    """
    write_csv(
        folder / "people.csv",
        PEOPLE,
        [
            ["YP1", "young_person", "Ada Fictional", "", ""],
            ["YP2", "young_person", "Bo Invented", "", "suspect"],
            ["YP3", "young_person", "Cass Madeup", "", ""],
            ["AD1", "adult", "Dee Sample", "yes", ""],
            ["AD2", "adult", "Eli Example", "", "witness"],
        ],
    )

    def link(i: int, source: str, target: str, kind: str) -> list[str]:
        return [f"L{i}", source, target, kind, "2026-01-0" + str(i), "", "", "police",
                f"INT-{i}", "1", "B", "P", ""]

    write_csv(
        folder / "links.csv",
        LINKS,
        [
            link(1, "AD1", "YP1", "ALLEGED_HARM"),
            link(2, "AD2", "YP1", "ALLEGED_HARM"),
            link(3, "AD2", "YP2", "ALLEGED_HARM"),
            link(4, "AD2", "YP3", "ASSOCIATES_WITH"),
            link(5, "AD1", "YP3", "CONTACTED"),
            link(6, "YP1", "YP2", "ASSOCIATES_WITH"),
        ],
    )
    return folder


@pytest.fixture
def v1(tmp_path: Path) -> Path:
    return town(tmp_path / "town")


def test_v1_categories_are_recorded_and_derived_marked(v1: Path) -> None:
    people = read_dataset(v1).dataset.people
    assert people["YP1"].category is None
    assert people["YP1"].category_derived == (Category.VICTIM,)
    # a child recorded a suspect and harmed is a victim first, the victim derived
    young = person_categories(MemoryStore.from_path(v1).graph().nodes["YP2"])
    assert young.all == (Category.VICTIM, Category.SUSPECT)
    assert young.label() == "victim (derived); suspect"
    # the suspected flag makes a suspect; an allegation alone does not
    assert people["AD1"].category_derived == (Category.SUSPECT,)
    assert people["AD2"].category == (Category.WITNESS,)
    assert people["AD2"].category_derived is None
    assert not person_categories(MemoryStore.from_path(v1).graph().nodes["AD2"]).named_suspect
    # only linked by association: nothing derived
    assert people["YP3"].category_derived is None


def test_a_recorded_category_is_not_derived_again() -> None:
    dataset = Dataset(
        people={
            "Y": Person(person_id="Y", role="young_person", category="victim"),
            "A": Person(person_id="A", role="adult", suspected=True, category="suspect"),
        },
        links=[Link(link_id="K", source_id="A", target_id="Y", type="ALLEGED_HARM")],
    )
    categorise(dataset)
    assert dataset.people["Y"].category_derived is None
    assert dataset.people["A"].category_derived is None


def test_v2_keeps_which_record_said_which() -> None:
    records = Dataset(
        version=2,
        people={
            "police:P1": Person(person_id="police:P1", role="adult", category="suspect"),
            "social_care:C1": Person(
                person_id="social_care:C1", role="adult", category="victim;witness"
            ),
            "health:H1": Person(person_id="health:H1", role="young_person"),
        },
        links=[
            Link(link_id="police:K1", source_id="police:P1", target_id="health:H1",
                 type="ALLEGED_HARM"),
        ],
    )
    adult, child = "P-000000000001", "P-000000000002"
    merged = merge_records(
        records,
        Resolution(
            entity_of={"police:P1": adult, "social_care:C1": adult, "health:H1": child},
            kind_of={},
        ),
    )
    person = merged.people[adult]
    assert person.category_records == (
        "police:P1: suspect",
        "social_care:C1: victim, witness",
    )
    shown = person_categories(MemoryStore(merged).graph().nodes[adult])
    assert shown.label() == "victim; witness; suspect"
    assert "police:P1: suspect" in shown.sources()
    assert merged.people[child].category_derived == (Category.VICTIM,)
    assert merged.people[child].category_records is None


def test_demo_agencies_categories_reach_the_graph() -> None:
    graph = MemoryStore.from_path(ROOT / "fixtures" / "demo-agencies").graph()
    recorded = [d for _, d in graph.nodes(data=True) if d.get("category_records")]
    assert recorded
    for data in recorded:
        for line in data["category_records"]:
            record, said = line.split(": ", 1)
            assert ":" in record and said  # a qualified record id, and what it said
    derived = [d for _, d in graph.nodes(data=True) if d.get("category_derived")]
    assert derived and all(d["role"] == "young_person" for d in derived)


def test_target_lists_carry_categories_and_person_of_interest(
    v1: Path, tmp_path: Path, home: Path
) -> None:
    graph = MemoryStore.from_path(v1).graph()
    targets = build_target_list(graph, key=b"k" * 32)
    adults = {row["target_id"]: row for row in targets.rows if row["kind"] == "adult"}
    assert set(adults) == {"AD1", "AD2"}
    assert adults["AD1"]["categories"] == "suspect (derived)"
    assert "flagged as suspected" in adults["AD1"]["category_sources"]
    assert adults["AD1"]["category_note"] == ""
    assert adults["AD2"]["categories"] == "witness"
    assert adults["AD2"]["category_note"] == PERSON_OF_INTEREST
    # every written format carries the columns
    for suffix in ("csv", "json", "xlsx"):
        out = tmp_path / f"targets.{suffix}"
        result = CliRunner().invoke(main, ["targets", str(v1), "--out", str(out)])
        assert result.exit_code == 0, result.output
        if suffix == "csv":
            with out.open(encoding="utf-8-sig", newline="") as handle:
                rows = {r["target_id"]: r for r in csv.DictReader(handle)}
        elif suffix == "json":
            rows = {r["target_id"]: r for r in json.loads(out.read_text(encoding="utf-8"))}
        else:
            sheet = openpyxl.load_workbook(out)["targets"]
            header, *body = [list(r) for r in sheet.iter_rows(values_only=True)]
            rows = {r[header.index("target_id")]: dict(zip(header, r, strict=True)) for r in body}
        assert rows["AD2"]["category_note"] == PERSON_OF_INTEREST, suffix
        assert rows["AD1"]["categories"] == "suspect (derived)", suffix


def test_hubs_json_carries_categories(v1: Path, tmp_path: Path, home: Path) -> None:
    out = tmp_path / "analysis"
    result = CliRunner().invoke(main, ["analyse", str(v1), "--out", str(out)])
    assert result.exit_code == 0, result.output
    hubs = {h["id"]: h for h in json.loads((out / "hubs.json").read_text(encoding="utf-8"))}
    assert hubs["AD1"]["categories"] == "suspect (derived)"
    assert hubs["AD2"]["categories"] == "witness"


def test_tooltips_show_categories_of_people_only(v1: Path) -> None:
    graph = MemoryStore.from_path(v1).graph()
    assert "categories: victim (derived); suspect" in entity_tooltip(
        "YP2", graph.nodes["YP2"], show_names=False
    )
    assert "categories" not in entity_tooltip("YP3", graph.nodes["YP3"], show_names=False)


# ------------------------------------------------------------------------------ the dashboard


@pytest.fixture
def dashboard(v1: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    monkeypatch.setenv("GRAPHGUARD_DATASET", str(v1))
    get_settings.cache_clear()
    yield AppTest.from_file(str(APP), default_timeout=120).run()
    get_settings.cache_clear()


def _frames(at: AppTest) -> list[Any]:
    return [d.value for d in at.dataframe]


def test_pages_show_categories(dashboard: AppTest) -> None:
    at = dashboard
    at.switch_page("views/hubs.py").run()
    assert not at.exception
    hubs = _frames(at)[0].set_index("id")
    assert hubs.loc["AD1", "categories"] == "suspect (derived)"
    assert any("Data\\-protection categories" in c.value for c in at.caption)

    at.switch_page("views/disruption.py").run()
    assert not at.exception
    targets = next(f for f in _frames(at) if "category_note" in f.columns).set_index("target_id")
    assert targets.loc["AD2", "category_note"] == PERSON_OF_INTEREST


# ------------------------------------------------------------------------------ Neo4j


@pytest.fixture
def neo4j_town(neo4j_driver: Any, demo: Any, v1: Path) -> Iterator[Any]:
    """The v1 town in Neo4j; afterwards the demo again, the state other tests expect."""
    from graphguard.store.neo4j import Neo4jStore

    store = Neo4jStore(neo4j_driver)
    store.clear()
    store.load(read_dataset(v1).dataset)
    yield store
    store.clear()
    store.load(demo.dataset)


@pytest.mark.neo4j
def test_neo4j_person_nodes_and_library_results_carry_categories(
    neo4j_town: Any, neo4j_driver: Any
) -> None:
    from graphguard.cypher import run_library_query
    from graphguard.cypher.library import load_library

    # young people are found by what they hold, not by id: Neo4j may key them by pseudonym
    young = sorted(
        (row["recorded"] or [], row["derived"] or [])
        for row in neo4j_town.read(
            "MATCH (p:YoungPerson) RETURN p.category AS recorded, p.category_derived AS derived"
        )
    )
    assert young == [([], []), ([], ["victim"]), (["suspect"], ["victim"])]
    adults = {
        row["id"]: row["derived"]
        for row in neo4j_town.read(
            "MATCH (p:Adult) RETURN p.id AS id, p.category_derived AS derived"
        )
    }
    assert adults == {"AD1": ["suspect"], "AD2": None}
    # the graph read back from Neo4j gives the same categories as the embedded store
    assert person_categories(neo4j_town.graph().nodes["YP2"]).label() == "victim (derived); suspect"

    library = load_library()
    found = run_library_query(neo4j_driver, library["allegations"], {}, timeout=30, row_limit=100)
    harmed_by = {
        adult: sorted(r["young_person_categories"] for r in found.rows if r["adult_id"] == adult)
        for adult in ("AD1", "AD2")
    }
    assert harmed_by == {
        "AD1": [["victim (derived)"]],
        "AD2": [["suspect", "victim (derived)"], ["victim (derived)"]],
    }
    categories_of = {r["adult_id"]: r["adult_categories"] for r in found.rows}
    assert categories_of == {"AD1": ["suspect (derived)"], "AD2": ["witness"]}
    profile = run_library_query(
        neo4j_driver, library["person_profile"], {"person_id": "AD2"}, timeout=30, row_limit=10
    )
    assert profile.rows[0]["categories"] == ["witness"]
