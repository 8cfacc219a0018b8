"""What ``validate`` accepts, ``load`` stores, against a real Neo4j: hostile files included."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from graphguard.cli import main
from graphguard.ingest import ENTITY_FILES, read_dataset
from graphguard.store.neo4j import Neo4jStore

pytestmark = pytest.mark.neo4j

ROOT = Path(__file__).resolve().parents[1]
INVALID = ROOT / "fixtures" / "invalid"
CASES = json.loads((INVALID / "cases.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def module_store(neo4j_driver: Any, demo: Any) -> Iterator[Neo4jStore]:
    """One store for the module; afterwards the demo is loaded again, as other tests expect."""
    store = Neo4jStore(neo4j_driver, batch_size=200)
    yield store
    store.clear()
    store.load(demo.dataset)


@pytest.fixture
def store(module_store: Neo4jStore) -> Neo4jStore:
    module_store.clear()
    return module_store


#: The cases of awkward and hostile files, and one whose rejects reach the links.
LOADED = {
    "bom_crlf_quoted",
    "link_to_rejected_id",
    "unclosed_quote",
    "unclosed_quote_runs_on",
    "cp1252",
    "utf16_tab",
    "semicolon",
    "sep_line",
    "title_row",
    "nul_in_row",
    "binary_garbage",
    "xlsx_two_sheets_one_file",
    "xlsx_dimension_too_small",
    "xlsx_merged_cells",
    "xlsx_huge_cell",
}


@pytest.mark.parametrize("case", [c for c in CASES if c["case"] in LOADED], ids=lambda c: c["case"])
def test_load_stores_exactly_what_validate_accepts(store: Neo4jStore, case: dict) -> None:
    validated = read_dataset(INVALID / case["case"], collect_links=False)
    report = store.load(read_dataset(INVALID / case["case"]).dataset)
    entities = sum(validated.files[stem].accepted for stem in ENTITY_FILES)
    links = validated.files["links"].accepted
    assert (report.nodes, report.relationships) == (entities, links)
    counts = store.counts()
    assert (counts["nodes"], counts["relationships"]) == (entities, links)


def test_load_of_a_windows_1252_dataset_with_rejects(
    neo4j_env: Any, store: Neo4jStore, neo4j_driver: Any, tmp_path: Path
) -> None:
    """Before: a surrogate crash, a rejects file with only its header, nothing loaded; and
    ``Map keys must be strings`` for an extra column whose name is not ASCII."""
    rejects = tmp_path / "rejects.csv"
    result = CliRunner().invoke(main, ["load", str(INVALID / "cp1252"), "--rejects", str(rejects)])
    assert result.exit_code == 1, result.output + result.stderr
    assert "Windows-1252" in result.stderr  # the warning reaches the person loading
    [row] = list(csv.DictReader(rejects.open(encoding="utf-8")))
    assert row["person_id"] == "XX1"
    assert store.counts()["nodes"] == 5
    young = {v: k for k, v in store.graphguard_ids().items()}["YP1"]  # by its pseudonym
    [person], _, _ = neo4j_driver.execute_query(
        "MATCH (p {id: $id}) RETURN p.`prénom_usuel` AS value", id=young
    )
    [link], _, _ = neo4j_driver.execute_query(
        "MATCH ()-[r {link_id: 'L2'}]->() RETURN r.`référence_école` AS value, r.notes AS notes"
    )
    assert (person["value"], link["value"], link["notes"]) == (
        "Zoé",
        "É-12",
        "Paid £20 in the café",
    )
