"""The graphguard exception hierarchy.

Every error a user can meet derives from :class:`GraphguardError` and carries the
process exit code the CLI uses for it (see DESIGN.md: 1 data problems, 2 usage,
3 refused, 4 backend unavailable).
"""

from __future__ import annotations

__all__ = [
    "GraphguardError",
    "DataError",
    "UsageError",
    "RefusedError",
    "BackendUnavailable",
]


class GraphguardError(Exception):
    """Base class of every error graphguard raises on purpose."""

    exit_code: int = 2


class DataError(GraphguardError):
    """The data had problems (rejected rows, an unreadable file)."""

    exit_code = 1


class UsageError(GraphguardError):
    """The command was used wrongly: a missing folder, a bad option, a bad parameter."""

    exit_code = 2


class RefusedError(GraphguardError):
    """The request was refused: a write in read-only Cypher, a permission."""

    exit_code = 3


class BackendUnavailable(GraphguardError):
    """A backend (Neo4j, Java, Maven) could not be reached or started."""

    exit_code = 4
