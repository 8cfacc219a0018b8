"""``neo4j-admin database import full`` against the local server of a data directory.

The import tool writes a database's store files directly, offline: the server is
stopped, the import run, and the server started again with the settings it ran with
(port, heap, LOAD CSV allowed or not).  Used by ``graphguard load --initial``
(:mod:`graphguard.store.bulk`), which decides whether an import is allowed at all.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from graphguard.errors import BackendUnavailable
from graphguard.neo4j_local.server import (
    ADMIN_CLASS,
    UMASK,
    ServerInfo,
    _abs,
    _classpath,
    _find_java,
    _read_state,
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
    home = data_dir
    command = [
        java,
        f"-Xmx{heap}",
        "-cp",
        classpath,
        ADMIN_CLASS,
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
    env = dict(os.environ, NEO4J_HOME=str(home), NEO4J_CONF=str(home / "conf"))
    say("stopping Neo4j for the offline import…")
    stop(data_dir)
    try:
        say(f"importing into database {database!r} with neo4j-admin…")
        try:
            done = subprocess.run(
                command,
                env=env,
                cwd=home,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=IMPORT_TIMEOUT,
                check=False,
                umask=UMASK,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BackendUnavailable(f"neo4j-admin database import failed: {exc}") from None
        if done.returncode != 0:
            lines = [ln.strip() for ln in (done.stderr + done.stdout).splitlines() if ln.strip()]
            lines = [ln for ln in lines if not ln.startswith("at ")][-3:]
            raise BackendUnavailable(
                "neo4j-admin database import failed: " + (" | ".join(lines) or "no output")
            )
    finally:
        say("starting Neo4j again…")
        info = start(data_dir, port=port, heap=server_heap, allow_csv_import=allow_csv)
    return info
