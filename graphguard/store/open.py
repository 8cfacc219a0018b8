"""Choosing a store the way every command does: a dataset path, else Neo4j, else an error."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from graphguard.errors import UsageError
from graphguard.settings import Settings, get_settings
from graphguard.store.base import Store
from graphguard.store.memory import MemoryStore

if TYPE_CHECKING:
    from graphguard.store.neo4j import Neo4jStore

__all__ = ["open_store", "open_neo4j", "data_problems"]


def open_neo4j(settings: Settings | None = None, batch_size: int | None = None) -> Neo4jStore:
    """A :class:`Neo4jStore` for ``NEO4J_URI``; BackendUnavailable when it cannot connect."""
    from graphguard.store.neo4j import Neo4jStore, connect

    settings = settings or get_settings()
    if not settings.neo4j_uri:
        raise UsageError("NEO4J_URI is not set (see `graphguard neo4j env`)")
    password = settings.neo4j_password.get_secret_value() if settings.neo4j_password else None
    driver = connect(settings.neo4j_uri, settings.neo4j_username, password)
    return Neo4jStore(driver, settings.neo4j_database, batch_size or settings.batch_size)


def open_store(dataset: str | Path | None, settings: Settings | None = None) -> Store:
    """The embedded store over ``dataset`` when given, else Neo4j when ``NEO4J_URI`` is set."""
    settings = settings or get_settings()
    if dataset is not None:
        return MemoryStore.from_path(dataset)
    if settings.neo4j_uri:
        return open_neo4j(settings)
    raise UsageError("give a DATASET folder or workbook, or set NEO4J_URI to read from Neo4j")


def data_problems(store: Store) -> str | None:
    """One line saying what was wrong with the data a store was read from, or None.

    Only the embedded store reads files; a Neo4j store holds what a load accepted.
    """
    ingest = getattr(store, "ingest", None)
    if ingest is None or ingest.ok:
        return None
    parts = []
    rows = ingest.rejected_rows
    if rows:
        parts.append(f"{rows} row{'s' if rows != 1 else ''} rejected")
    for report in ingest.file_errors:
        parts.append(report.error)
    return "; ".join(parts) + " (run `graphguard validate` for details)"
