"""Shared fixtures: the real Neo4j server and its driver, the demo dataset.

Integration tests run against a real Neo4j 5.26.  ``.ci/run`` starts one and sets
``GRAPHGUARD_TEST_NEO4J_URI`` / ``_USERNAME`` / ``_PASSWORD``; without those the
session starts its own through :mod:`graphguard.neo4j_local` on a free port in a
temporary folder, and stops it at the end.  Tests never read ``NEO4J_URI``: that
may name somebody's real database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graphguard.ingest import IngestResult, read_dataset

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo"


@pytest.fixture(scope="session", autouse=True)
def _session_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The session's state home, set before any module fixture loads Neo4j.

    A load keeps young people's identities in the state home's identity store, keyed by
    its pseudonym key: a module fixture that loads before the function-scoped
    ``_no_real_neo4j`` ran would otherwise write them into the developer's real home.
    """
    patch = pytest.MonkeyPatch()
    patch.setenv("GRAPHGUARD_HOME", str(tmp_path_factory.getbasetemp() / "home"))
    yield
    patch.undo()


@pytest.fixture(autouse=True)
def _no_real_neo4j(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Keep tests away from a developer's real database and home folder."""
    for name in ("NEO4J_URI", "NEO4J_USERNAME", "NEO4J_PASSWORD", "NEO4J_DATABASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GRAPHGUARD_HOME", str(tmp_path_factory.getbasetemp() / "home"))
    from graphguard.settings import get_settings

    get_settings.cache_clear()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A state home of this test's own (so its settings, key and audit lines are its own)."""
    from graphguard.settings import get_settings

    folder = tmp_path / "home"
    monkeypatch.setenv("GRAPHGUARD_HOME", str(folder))
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def demo() -> IngestResult:
    return read_dataset(DEMO)


@pytest.fixture(scope="session")
def neo4j_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A running real Neo4j: the CI's, or one started for this session."""
    from graphguard.neo4j_local import ServerInfo, free_port, start, stop

    uri = os.environ.get("GRAPHGUARD_TEST_NEO4J_URI")
    if uri:
        yield ServerInfo(
            uri=uri,
            username=os.environ.get("GRAPHGUARD_TEST_NEO4J_USERNAME", "neo4j"),
            password=os.environ["GRAPHGUARD_TEST_NEO4J_PASSWORD"],
            pid=None,
            data_dir=Path("."),
            running=True,
        )
        return
    data_dir = tmp_path_factory.mktemp("neo4j")
    info = start(data_dir, port=free_port(), heap="1g")
    try:
        yield info
    finally:
        stop(data_dir)


@pytest.fixture(scope="session")
def neo4j_driver(neo4j_server: Any) -> Iterator[Any]:
    from graphguard.store.neo4j import connect

    driver = connect(neo4j_server.uri, neo4j_server.username, neo4j_server.password)
    try:
        yield driver
    finally:
        driver.close()


@pytest.fixture
def neo4j_env(neo4j_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """NEO4J_* set for code under test (the CLI, the dashboard) to find the test server."""
    from graphguard.settings import get_settings

    monkeypatch.setenv("NEO4J_URI", neo4j_server.uri)
    monkeypatch.setenv("NEO4J_USERNAME", neo4j_server.username)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_server.password)
    get_settings.cache_clear()
    return neo4j_server
