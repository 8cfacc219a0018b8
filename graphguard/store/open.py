"""Choosing a store the way every command does: a dataset path, else Neo4j, else an error."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from graphguard.errors import UsageError
from graphguard.settings import Settings, get_settings
from graphguard.store.base import Store
from graphguard.store.memory import MemoryStore

if TYPE_CHECKING:
    from graphguard.store.neo4j import Neo4jStore

__all__ = ["DATASET_ENV", "DataChoice", "choose_data", "open_store", "open_neo4j", "data_problems"]

#: The environment variable that names the dashboard's dataset.
DATASET_ENV = "GRAPHGUARD_DATASET"


@dataclass(frozen=True)
class DataChoice:
    """Which data to show: a dataset (``embedded``) at a resolved path, or Neo4j at a URI."""

    backend: str
    location: str
    database: str | None = None

    @property
    def is_neo4j(self) -> bool:
        return self.backend == "neo4j"


def choose_data(
    dataset: str | Path | None,
    configured: str | None,
    neo4j_uri: str | None,
    database: str | None = None,
) -> DataChoice:
    """The dashboard's data: DATASET, else ``GRAPHGUARD_DATASET``, else Neo4j, else the demo.

    The one rule the ``graphguard dashboard`` command and the dashboard itself follow.

    Parameters
    ----------
    dataset : path, optional
        A dataset named on the command line.
    configured : str, optional
        The value of ``GRAPHGUARD_DATASET``.
    neo4j_uri, database : str, optional
        ``NEO4J_URI`` and ``NEO4J_DATABASE``.

    Raises
    ------
    UsageError
        When the dataset named does not exist.

    Examples
    --------
    >>> choose_data(None, None, None).location.endswith("demo")
    True
    >>> choose_data(None, None, "bolt://127.0.0.1:7687").backend
    'neo4j'
    """
    from graphguard.paths import demo_dataset

    named = dataset if dataset is not None else configured or None
    if named is not None:
        path = Path(named).expanduser()
        if not path.exists():
            where = f"{DATASET_ENV}={named}" if dataset is None else str(named)
            raise UsageError(f"{where}: no such folder or workbook")
        return DataChoice("embedded", str(path.resolve()))
    if neo4j_uri:
        return DataChoice("neo4j", neo4j_uri, database)
    return DataChoice("embedded", str(demo_dataset()))


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
