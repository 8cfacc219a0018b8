"""graphguard's own durable things: the workspace database (see :mod:`.database`)."""

from graphguard.workspace.database import (
    APPLICATION_ID,
    BUSY_TIMEOUT,
    DATABASE_FILE,
    SCHEMA_VERSION,
    URL_VARIABLE,
    WORKSPACE_FOLDER,
    Workspace,
    database_path,
)

__all__ = [
    "APPLICATION_ID",
    "BUSY_TIMEOUT",
    "DATABASE_FILE",
    "SCHEMA_VERSION",
    "URL_VARIABLE",
    "WORKSPACE_FOLDER",
    "Workspace",
    "database_path",
]
