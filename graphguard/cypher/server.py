"""The two calls to the server: ``EXPLAIN`` a query, and run it read-only.

Driver errors become graphguard errors here, each one clear line.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

from graphguard.cypher.guard import PlanCheck, walk_plan
from graphguard.errors import BackendUnavailable, GraphguardError, RefusedError, UsageError

__all__ = ["QueryTimeout", "FetchedRecords", "TIMEOUT_SETTING", "explain_query", "execute_read"]

TIMEOUT_SETTING = "GRAPHGUARD_CYPHER_TIMEOUT"


class QueryTimeout(RefusedError):
    """The server stopped a query that ran longer than its transaction timeout."""


def explain_query(
    driver: Any,
    text: str,
    params: Mapping[str, Any] | None = None,
    *,
    database: str | None = None,
    timeout: float | None = None,
) -> PlanCheck:
    """Ask the server to ``EXPLAIN`` ``text`` (nothing runs) and read the plan.

    Raises
    ------
    UsageError
        When the server cannot plan the query (a syntax error, an unknown procedure).
    BackendUnavailable
        When the server cannot be reached.
    """
    import neo4j

    try:
        with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS) as s:
            summary = s.run(neo4j.Query(f"EXPLAIN {text}", timeout=timeout), params).consume()
    except Exception as exc:
        raise _server_error(exc, timeout) from None
    operators: set[str] = set()
    procedures: set[str] = set()
    walk_plan(summary.plan or {}, operators, procedures)
    return PlanCheck(str(summary.query_type), frozenset(operators), frozenset(procedures))


@dataclass(frozen=True)
class FetchedRecords:
    """The records :func:`execute_read` fetched (driver records: see :class:`QueryResult`)."""

    columns: list[str]
    records: list[Any]
    truncated: bool


def execute_read(
    driver: Any,
    text: str,
    params: Mapping[str, Any] | None = None,
    *,
    database: str | None = None,
    timeout: float,
    row_limit: int,
    metadata: Mapping[str, Any] | None = None,
) -> FetchedRecords:
    """Run ``text`` in a READ access-mode transaction that is always rolled back.

    Fetches at most ``row_limit + 1`` records; the rest of the result is discarded.

    Raises
    ------
    RefusedError
        When the server refuses a write in read access mode, or a permission.
    QueryTimeout
        When the server stops the transaction at its ``timeout``.
    UsageError
        For a query the server rejects (syntax, types, missing parameters).
    BackendUnavailable
        When the server cannot be reached.
    """
    import neo4j

    try:
        with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS) as s:
            tx = s.begin_transaction(metadata=dict(metadata or {}), timeout=timeout)
            try:
                result = tx.run(text, params)
                records = list(islice(result, row_limit + 1))
                columns = list(result.keys())
            finally:
                if not tx.closed():
                    # Never commit; a failed rollback must not hide the error being raised.
                    with contextlib.suppress(Exception):
                        tx.rollback()
    except Exception as exc:
        raise _server_error(exc, timeout) from None
    truncated = len(records) > row_limit
    return FetchedRecords(columns, records[:row_limit], truncated)


def _server_error(exc: Exception, timeout: float | None) -> GraphguardError:
    """One clear graphguard error for what the driver raised."""
    from neo4j.exceptions import DriverError, Neo4jError, ServiceUnavailable, SessionExpired

    if isinstance(exc, GraphguardError):
        return exc
    if isinstance(exc, ServiceUnavailable | SessionExpired):
        return BackendUnavailable(f"lost the connection to Neo4j: {_first_line(str(exc))}")
    if isinstance(exc, Neo4jError):
        code = exc.code or ""
        message = _first_line(exc.message or str(exc))
        if "TransactionTimedOut" in code:
            return QueryTimeout(
                f"the query ran longer than its timeout of {timeout:g} s and was stopped; "
                f"allow more time with {TIMEOUT_SETTING} (seconds) or --timeout"
            )
        if code.endswith("Statement.AccessMode"):
            return RefusedError(f"the server refused it in read access mode: {message}")
        if code.startswith("Neo.ClientError.Security"):
            return RefusedError(f"the server refused it: {message}")
        if code.startswith("Neo.ClientError"):
            return UsageError(f"Neo4j could not run the query: {message}")
        return BackendUnavailable(f"Neo4j failed: {message} ({code})")
    if isinstance(exc, DriverError):
        return BackendUnavailable(f"the Neo4j driver failed: {_first_line(str(exc))}")
    return GraphguardError(f"{type(exc).__name__}: {_first_line(str(exc))}")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""
