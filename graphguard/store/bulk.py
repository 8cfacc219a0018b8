"""``graphguard load --initial``: a first load through ``neo4j-admin database import``.

An offline import writes the store files directly and is the fastest way to fill an
empty database.  It writes exactly what the loader writes — the same stored form
(:mod:`graphguard.store.stored`: labels, properties, pseudonyms, scrubbed text, content
hashes, relationships, records and sources), and keeps the same identities — then the
server is started again and the schema (``cypher/schema.cypher``) applied, so that a
later ``graphguard load`` or ``check`` finds the database as if the loader had filled it.

Because the import replaces a database, it is refused (:class:`~graphguard.errors.RefusedError`,
one line) unless the database holds nothing and the server is the local one graphguard
manages (``graphguard neo4j start``), which it can stop and start again.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from graphguard.errors import RefusedError
from graphguard.ingest import Dataset
from graphguard.store.neo4j import LoadReport, Neo4jStore, _is_loopback
from graphguard.store.rows import RECORD_LABEL, RESOLVED_TO
from graphguard.store.stored import StoredForm

__all__ = ["ImportFiles", "initial_load", "write_import_files"]

#: Between the items of a list property in the import files (no list item holds one:
#: aliases and categories are read from ``;``-separated cells).
ARRAY_DELIMITER = ";"


@dataclass
class ImportFiles:
    """The CSV files of one import, with how many rows each kind holds."""

    nodes: list[Path] = field(default_factory=list)
    relationships: list[Path] = field(default_factory=list)
    entities: int = 0
    records: int = 0
    links: int = 0


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, list):
        return "string[]"
    return "string"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return ARRAY_DELIMITER.join(str(v) for v in value)
    return str(value)


def _write_table(
    path: Path, key_columns: list[str], rows: list[tuple[list[str], dict[str, Any]]]
) -> Path:
    """One import file: the key columns, then every property any row has, typed."""
    types: dict[str, str] = {}
    for _, props in rows:
        for name, value in props.items():
            if value is not None and name not in types:
                types[name] = _type_of(value)
    names = sorted(types)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*key_columns, *(f"{n}:{types[n]}" for n in names)])
        for keys, props in rows:
            writer.writerow([*keys, *(_cell(props.get(n)) for n in names)])
    return path


def write_import_files(form: StoredForm, folder: Path) -> ImportFiles:
    """Write the neo4j-admin import files of a dataset's stored form to ``folder``."""
    files = ImportFiles()
    by_labels: dict[tuple[str, ...], list[tuple[list[str], dict[str, Any]]]] = defaultdict(list)
    for row in form.entities:
        props = {k: v for k, v in row["props"].items() if k != "id"}
        by_labels[row["labels"]].append(([row["id"], ";".join(("Entity", *row["labels"]))], props))
        files.entities += 1
    for number, (_, rows) in enumerate(sorted(by_labels.items())):
        files.nodes.append(
            _write_table(folder / f"entities-{number}.csv", ["id:ID(Entity)", ":LABEL"], rows)
        )
    if form.records:
        record_rows: list[tuple[list[str], dict[str, Any]]] = []
        resolved: list[tuple[list[str], dict[str, Any]]] = []
        for row in form.records:
            props = {k: v for k, v in row["props"].items() if k != "record_id"}
            record_rows.append(([row["id"], RECORD_LABEL], props))
            resolved.append(([row["id"], row["entity"], RESOLVED_TO], {}))
            files.records += 1
        files.nodes.append(
            _write_table(folder / "records.csv", ["record_id:ID(Record)", ":LABEL"], record_rows)
        )
        files.relationships.append(
            _write_table(
                folder / "resolved.csv", [":START_ID(Record)", ":END_ID(Entity)", ":TYPE"], resolved
            )
        )
    sources = []
    for source in form.sources:
        props = {k: v for k, v in source["props"].items() if k != "name"}
        sources.append(([source["name"], "Source"], props))
    if sources:
        files.nodes.append(
            _write_table(folder / "sources.csv", ["name:ID(Source)", ":LABEL"], sources)
        )
    by_type: dict[str, list[tuple[list[str], dict[str, Any]]]] = defaultdict(list)
    for link_type, row in form.links:
        by_type[link_type].append(([row["source"], row["target"], link_type], row["props"]))
        files.links += 1
    for link_type, rows in sorted(by_type.items()):
        files.relationships.append(
            _write_table(
                folder / f"links-{link_type.lower()}.csv",
                [":START_ID(Entity)", ":END_ID(Entity)", ":TYPE"],
                rows,
            )
        )
    return files


def _require_local(store: Neo4jStore, uri: str, data_dir: Path) -> None:
    from graphguard import neo4j_local

    info = neo4j_local.status(data_dir)
    ours = urlsplit(info.uri)
    theirs = urlsplit(uri)
    same = _is_loopback(theirs.hostname or "") and theirs.port == ours.port
    if not (info.running and same):
        where = (
            f"the server of {data_dir} runs at {info.uri}"
            if info.running
            else (f"no graphguard-managed Neo4j runs in {data_dir}")
        )
        raise RefusedError(
            f"--initial refused: it stops, imports into and restarts the local Neo4j "
            f"graphguard manages (`graphguard neo4j start`), and NEO4J_URI {uri} is not that "
            f"server ({where}; give its --data-dir)"
        )


def initial_load(
    store: Neo4jStore,
    dataset: Dataset,
    *,
    uri: str,
    data_dir: Path,
    records: Dataset | None = None,
    notice: Callable[[str], None] | None = None,
    wait: float = 60.0,
    user: str | None = None,
) -> LoadReport:
    """Fill an empty database with ``dataset`` through ``neo4j-admin database import``.

    Parameters
    ----------
    store : Neo4jStore
        The store of the server at ``uri``.
    dataset : Dataset
        The accepted rows (v2: the entity-level dataset, with ``records``).
    uri : str
        ``NEO4J_URI``: must be the server of ``data_dir``.
    data_dir : Path
        The data directory of the local server (``graphguard neo4j start --data-dir``).
    records : Dataset, optional
        v2: the record-level dataset.
    notice : callable, optional
        Told each step in one line.

    Raises
    ------
    RefusedError
        The server is not the local one of ``data_dir``, or the database holds data.
    """
    from graphguard.neo4j_local.admin import import_database

    say = notice or (lambda _line: None)
    if dataset.version != 2:
        records = None
    start = time.perf_counter()
    report = LoadReport()
    _require_local(store, uri, data_dir)
    with store.reachable("loading"), store.lock("load --initial", wait=wait, user=user):
        held = store.counts()["nodes"]
        if held:
            raise RefusedError(
                f"--initial refused: the database holds {held:,} nodes and neo4j-admin "
                "import replaces a database; load without --initial (it writes only what "
                "changed)"
            )
        store.check_free_space(len(dataset) + (len(records) if records else 0))
        form = store.stored_form(dataset, records)
        identities = store.identities
        if identities is not None:
            identities.update(form.identities)  # first, as a load does
        with tempfile.TemporaryDirectory(prefix="import-", dir=data_dir) as folder:
            say("writing the import files…")
            files = write_import_files(form, Path(folder))
            database = store.database or "neo4j"
            import_database(
                data_dir,
                database,
                files.nodes,
                files.relationships,
                array_delimiter=ARRAY_DELIMITER,
                progress=say,
            )
    # The lock's own constraint went with the database the import replaced: taking the
    # lock again creates it, so the schema is the loader's exactly.
    with store.reachable("loading"), store.lock("load --initial", wait=wait, user=user):
        say("creating the constraints and indexes…")
        store.apply_schema()
        store.await_indexes()
        store.keep_identities(form)
    report.nodes, report.relationships, report.records_total = (
        files.entities,
        files.links,
        files.records,
    )
    report.entities.added, report.links.added, report.records.added = (
        files.entities,
        files.links,
        files.records,
    )
    report.method = "neo4j-admin import"
    report.seconds = time.perf_counter() - start
    return report
