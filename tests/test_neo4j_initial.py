"""``load --initial`` through neo4j-admin import gives the graph the loader gives.

These tests need a server they may stop and start, so they start their own local Neo4j
(not the session's), once for the module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from graphguard.cli import main
from graphguard.errors import RefusedError
from graphguard.ingest import read_dataset
from graphguard.store import queries
from graphguard.store.bulk import initial_load
from graphguard.store.check import check
from graphguard.store.neo4j import Neo4jStore, connect, native_properties
from tests.test_neo4j_records import records, resolve_by_hand

# A server stopped and started under a loaded machine can take minutes.
pytestmark = [pytest.mark.neo4j, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from graphguard.neo4j_local import free_port, start, stop

    data_dir = tmp_path_factory.mktemp("initial") / "neo4j"
    info = start(data_dir, port=free_port(), heap="512m")
    try:
        yield info
    finally:
        stop(data_dir)


@pytest.fixture
def store(local: Any) -> Iterator[Neo4jStore]:
    driver = connect(local.uri, local.username, local.password)
    try:
        store = Neo4jStore(driver, batch_size=100)
        store.clear()
        yield store
    finally:
        driver.close()


def snapshot(store: Neo4jStore) -> dict[str, Any]:
    """Everything the two ways of loading must agree on."""

    def rows(query: str, drop: tuple[str, ...] = ()) -> list[Any]:
        found = []
        for record in store.read(query):
            data = {k: v for k, v in record.items() if k not in drop}
            data["props"] = sorted(native_properties(data.get("props", {})).items())
            for name in ("labels", "entities"):  # label order means nothing
                if name in data:
                    data[name] = sorted(data[name])
            found.append(repr(sorted(data.items())))
        return sorted(found)

    schema = store.read(
        "SHOW CONSTRAINTS YIELD name, type, labelsOrTypes, properties "
        "RETURN name, type, labelsOrTypes, properties ORDER BY name"
    )
    indexes = store.read(
        "SHOW INDEXES YIELD name, type, labelsOrTypes, properties, state "
        "RETURN name, type, labelsOrTypes, properties, state ORDER BY name"
    )
    return {
        "entities": rows(queries.CHECK_ENTITIES),
        "links": rows(queries.CHECK_LINKS, drop=("element_id",)),
        "records": rows(queries.CHECK_RECORDS),
        "sources": rows("MATCH (s:Source) RETURN labels(s) AS labels, properties(s) AS props"),
        "constraints": [dict(r) for r in schema],
        "indexes": [dict(r) for r in indexes],
        "counts": store.counts(),
    }


def test_initial_load_of_the_demo_equals_the_loaders(store: Neo4jStore, local: Any) -> None:
    demo = read_dataset(ROOT / "fixtures" / "demo").dataset
    store.load(demo)
    loaded = snapshot(store)
    store.clear()
    report = initial_load(store, demo, uri=local.uri, data_dir=local.data_dir)
    assert report.method == "neo4j-admin import"
    assert report.links.added == len(demo.links) > 700
    imported = snapshot(store)
    assert imported["counts"] == loaded["counts"]
    for part in ("entities", "links", "constraints", "indexes"):
        assert imported[part] == loaded[part], part
    assert check(store, demo).ok
    # The hashes it stored are the loader's: a normal load afterwards writes nothing.
    assert not store.load(demo).changed_anything


def test_initial_load_of_agency_extracts_equals_the_loaders(
    store: Neo4jStore, local: Any
) -> None:
    data = records()
    merged = resolve_by_hand(data, [["police:P1", "education:S17"]])
    store.load(merged, records=data)
    loaded = snapshot(store)
    store.clear()
    initial_load(store, merged, records=data, uri=local.uri, data_dir=local.data_dir)
    assert snapshot(store) == loaded
    assert check(store, merged, data).ok


def test_initial_load_is_refused_on_a_database_with_data_or_a_server_not_ours(
    store: Neo4jStore, local: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = read_dataset(ROOT / "fixtures" / "demo").dataset
    with pytest.raises(RefusedError, match="not that server"):
        initial_load(store, demo, uri=local.uri, data_dir=tmp_path / "elsewhere")
    store.load(demo)
    before = store.counts()
    with pytest.raises(RefusedError, match=r"holds .* nodes"):
        initial_load(store, demo, uri=local.uri, data_dir=local.data_dir)
    assert store.counts() == before
    # The command says it in one line and exits 3.
    from graphguard.settings import get_settings

    monkeypatch.setenv("NEO4J_URI", local.uri)
    monkeypatch.setenv("NEO4J_USERNAME", local.username)
    monkeypatch.setenv("NEO4J_PASSWORD", local.password)
    get_settings.cache_clear()
    result = CliRunner().invoke(
        main,
        ["load", str(ROOT / "fixtures" / "demo"), "--initial", "--data-dir", str(local.data_dir)],
    )
    assert result.exit_code == 3, result.output
    assert result.stderr.strip().count("\n") == 0
    assert "--initial refused: the database holds" in result.stderr
