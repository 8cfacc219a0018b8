"""The query connection's own Neo4j account (GRAPHGUARD_NEO4J_READER_*), on the real server.

Community edition has users but not roles, so what is tested is that ``cypher run``
connects as the reader account and only as it; Enterprise's ``reader`` role then makes
that connection read-only in the database too (docs/deploy.md).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from graphguard.cli import main
from graphguard.settings import get_settings

pytestmark = pytest.mark.neo4j
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def reader(neo4j_driver: Any) -> Iterator[tuple[str, str]]:
    """A second Neo4j user, made for this test and dropped after it."""
    name = f"liaison_{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(16)
    neo4j_driver.execute_query(
        f"CREATE USER {name} SET PASSWORD $password CHANGE NOT REQUIRED",
        password=password,
        database_="system",
    )
    try:
        yield name, password
    finally:
        neo4j_driver.execute_query(f"DROP USER {name}", database_="system")


def _run(monkeypatch: pytest.MonkeyPatch, **env: str) -> Any:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return CliRunner().invoke(
        main, ["cypher", "run", "--query", "RETURN 1 AS one", "--format", "csv"]
    )


def test_cypher_run_connects_as_the_reader_account(
    neo4j_env: Any, reader: tuple[str, str], monkeypatch: pytest.MonkeyPatch, home: Any
) -> None:
    name, password = reader
    # The loader's password is wrong here: only the reader account can connect.
    result = _run(
        monkeypatch,
        NEO4J_PASSWORD="not-the-loaders-password",
        GRAPHGUARD_NEO4J_READER_USERNAME=name,
        GRAPHGUARD_NEO4J_READER_PASSWORD=password,
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:2] == ["one", "1"]


def test_a_wrong_reader_password_is_not_rescued_by_the_loaders(
    neo4j_env: Any, reader: tuple[str, str], monkeypatch: pytest.MonkeyPatch, home: Any
) -> None:
    name, _ = reader
    result = _run(
        monkeypatch,
        GRAPHGUARD_NEO4J_READER_USERNAME=name,
        GRAPHGUARD_NEO4J_READER_PASSWORD="wrong",
    )
    assert result.exit_code == 4, result.output
    assert "Traceback" not in result.output


def test_the_dashboards_cypher_connection_is_the_readers(
    neo4j_env: Any, reader: tuple[str, str], monkeypatch: pytest.MonkeyPatch, home: Any
) -> None:
    name, password = reader
    monkeypatch.setenv("GRAPHGUARD_NEO4J_READER_USERNAME", name)
    monkeypatch.setenv("GRAPHGUARD_NEO4J_READER_PASSWORD", password)
    get_settings.cache_clear()
    monkeypatch.syspath_prepend(str(ROOT / "dashboards"))
    import common

    driver = common.neo4j_driver(get_settings())
    records, _, _ = driver.execute_query("SHOW CURRENT USER YIELD user", database_="system")
    assert [record["user"] for record in records] == [name]
    common.clear_caches()
