"""``neo4j-admin database import full`` against the local server of a data directory.

The import tool writes a database's store files directly, offline: the server is
stopped, the import run, and the server started again with the settings it ran with
(port, heap, LOAD CSV allowed or not).  Used by ``graphguard load --initial``
(:mod:`graphguard.store.bulk`), which decides whether an import is allowed at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from graphguard.errors import BackendUnavailable
from graphguard.neo4j_local.server import (
    ServerInfo,
    _abs,
    _classpath,
    _find_java,
    _read_state,
    run_admin,
    start,
    stop,
)

__all__ = ["IMPORT_TIMEOUT", "import_database"]

#: Seconds an import may take (a county's millions of links take minutes).
IMPORT_TIMEOUT = 3600.0


def import_database(
    data_dir: Path,
    database: str,
    nodes: Sequence[Path],
    relationships: Sequence[Path],
    *,
    array_delimiter: str = ";",
    heap: str = "1g",
    progress: Callable[[str], None] | None = None,
) -> ServerInfo:
    """Stop the server of ``data_dir``, import the CSV files into ``database``, start it.

    Each file in ``nodes`` and ``relationships`` is a complete file with its own header
    (neo4j-admin's ``:ID``/``:LABEL``/``:START_ID``/``:END_ID``/``:TYPE`` header format).
    The database is replaced (``--overwrite-destination``): the caller must have made
    sure it held nothing.  The server is started again whether or not the import worked.

    Raises
    ------
    BackendUnavailable
        One line with neo4j-admin's own reason when the import fails.
    """
    say = progress or (lambda _msg: None)
    data_dir = _abs(data_dir)
    state = _read_state(data_dir)
    port = state.get("port")
    server_heap = state.get("heap")
    if not isinstance(port, int) or not isinstance(server_heap, str):
        raise BackendUnavailable(f"no local Neo4j has been started in {data_dir}")
    allow_csv = bool(state.get("allow_csv_import", False))
    java = _find_java()
    classpath = _classpath(data_dir, say)
    arguments = [
        "database",
        "import",
        "full",
        "--overwrite-destination=true",
        f"--array-delimiter={array_delimiter}",
        "--skip-duplicate-nodes=false",
        "--multiline-fields=true",  # notes may hold line breaks
        *(f"--nodes={path}" for path in nodes),
        *(f"--relationships={path}" for path in relationships),
        "--",
        database,
    ]
    say("stopping Neo4j for the offline import…")
    stop(data_dir)
    try:
        say(f"importing into database {database!r} with neo4j-admin…")
        run_admin(
            java,
            classpath,
            data_dir,
            arguments,
            what="neo4j-admin database import",
            heap=heap,
            timeout=IMPORT_TIMEOUT,
            reason_lines=3,
        )
    finally:
        say("starting Neo4j again…")
        info = start(data_dir, port=port, heap=server_heap, allow_csv_import=allow_csv)
    return info
