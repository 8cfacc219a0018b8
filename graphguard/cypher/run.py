"""Run one statement through every read-only layer, and audit it."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphguard.audit import Audited, Event, audited, pseudonymised_params, pseudonymised_text
from graphguard.cypher.execute import (
    BYTE_LIMIT_SETTING,
    DEFAULT_BYTE_LIMIT,
    TIMEOUT_SETTING,
    ServerLost,
    execute_read,
    explain_query,
)
from graphguard.cypher.guard import check_plan_read_only, check_read_only_text
from graphguard.cypher.library import QuerySpec, coerce_params
from graphguard.cypher.results import QueryResult, plain_value, result_graph
from graphguard.errors import BackendUnavailable, UsageError
from graphguard.privacy import subjects_of
from graphguard.settings import pseudonym_key

if TYPE_CHECKING:
    from graphguard.settings import Settings

__all__ = ["ROW_LIMIT_SETTING", "run_options", "run_query", "run_library_query"]

ROW_LIMIT_SETTING = "GRAPHGUARD_CYPHER_ROW_LIMIT"


def run_options(
    settings: Settings | None = None,
    *,
    timeout: float | None = None,
    row_limit: int | None = None,
    byte_limit: int | None = None,
) -> dict[str, Any]:
    """The options of a run, from the settings, overridden by what the user gave.

    The one place the CLI (``--timeout``, ``--row-limit``, ``--byte-limit``) and the
    dashboard take them from, as keyword arguments of :func:`run_query` and
    :func:`run_library_query`.

    >>> from graphguard.settings import Settings
    >>> run_options(Settings(cypher_timeout=5), row_limit=10)["row_limit"]
    10
    """
    from graphguard.settings import get_settings

    settings = settings or get_settings()
    return {
        "timeout": timeout if timeout is not None else settings.cypher_timeout,
        "row_limit": row_limit if row_limit is not None else settings.cypher_row_limit,
        "byte_limit": byte_limit if byte_limit is not None else settings.cypher_byte_limit,
        "database": settings.neo4j_database,
    }


def run_query(
    driver: Any,
    text: str,
    params: Mapping[str, Any] | None = None,
    *,
    timeout: float,
    row_limit: int,
    audit_path: Path | None = None,
    database: str | None = None,
    query_name: str | None = None,
    byte_limit: int = DEFAULT_BYTE_LIMIT,
) -> QueryResult:
    """Run one Cypher statement read-only, in depth, and audit it.

    Parameters
    ----------
    driver : neo4j.Driver
        An open driver (``graphguard.store.neo4j.connect``); never created here.
    text : str
        One Cypher statement.
    params : mapping, optional
        Its ``$parameters``.
    timeout : float
        Transaction timeout in seconds (the server stops the query after it).
    row_limit : int
        The most rows returned; ``truncated`` says when there were more.
    audit_path : Path, optional
        The audit log (default: the configured one).  A line is written before
        anything reaches the server, and one with the outcome whatever happens.
    database : str, optional
        The database (default: the server's default database).
    query_name : str, optional
        The library query's name; None for ad-hoc Cypher.
    byte_limit : int, optional
        The most bytes of result fetched (``GRAPHGUARD_CYPHER_BYTE_LIMIT``); a result
        that would pass it is cut there, with ``cut_by_bytes`` set.

    Returns
    -------
    QueryResult

    Raises
    ------
    AuditError
        When the audit line cannot be written: the query is not run.
    RefusedError
        When any layer refuses (static check, EXPLAIN's plan, READ access mode).
    QueryTimeout
        When the query ran past ``timeout``.
    QueryOutOfMemory
        When the server stopped it at its transaction memory limit.
    UsageError
        For Cypher the server cannot run, or a bad timeout or row limit.
    BackendUnavailable
        When Neo4j cannot be reached, or stops answering while the query runs.  In that
        last case the audit line's outcome is ``server_lost``: the query may be what
        brought the server down.
    """
    params = dict(params or {})
    started = time.perf_counter()
    with _audited(audit_path, text, params, database, query_name) as action:
        action.note(rows=None, truncated=False)  # until rows come back
        try:
            if not timeout > 0 or not math.isfinite(timeout):
                raise UsageError(
                    f"the Cypher timeout must be a positive number of seconds, "
                    f"not {timeout!r} ({TIMEOUT_SETTING})"
                )
            if row_limit < 1:
                raise UsageError(
                    f"the Cypher row limit must be at least 1, not {row_limit!r} "
                    f"({ROW_LIMIT_SETTING})"
                )
            if byte_limit < 1:
                raise UsageError(
                    f"the Cypher byte limit must be at least 1, not {byte_limit!r} "
                    f"({BYTE_LIMIT_SETTING})"
                )
            statement = check_read_only_text(text)
            plan = explain_query(driver, statement, params, database=database, timeout=timeout)
            check_plan_read_only(plan)
            try:
                fetched = execute_read(
                    driver,
                    statement,
                    params,
                    database=database,
                    timeout=timeout,
                    row_limit=row_limit,
                    byte_limit=byte_limit,
                    metadata={"app": "graphguard", "query": query_name or "ad hoc"},
                )
            except BackendUnavailable:
                if _server_answers(driver):
                    raise
                # The server planned the query a moment ago and has gone while running it:
                # the audit records the run as server_lost.
                raise ServerLost(
                    "Neo4j stopped answering while this query ran (it may be what brought the "
                    "server down; the audit log records it as server_lost)"
                ) from None
            action.note(rows=len(fetched.records), truncated=fetched.truncated)
            result = QueryResult(
                columns=fetched.columns,
                rows=[
                    {column: plain_value(record[column]) for column in fetched.columns}
                    for record in fetched.records
                ],
                truncated=fetched.truncated,
                row_limit=row_limit,
                elapsed=time.perf_counter() - started,
                graph=result_graph(fetched.records),
                query_name=query_name,
                notices=plan.notices,
                cut_by_bytes=fetched.cut_by_bytes,
                byte_limit=byte_limit,
            )
            # Who the result names (nodes it returns), as subject access reads the log.
            action.note(subjects=subjects_of(result.graph, pseudonym_key()))
        finally:
            action.note(duration_ms=round((time.perf_counter() - started) * 1000))
    return result


def run_library_query(
    driver: Any,
    spec: QuerySpec,
    raw_params: Mapping[str, Any] | None = None,
    *,
    timeout: float,
    row_limit: int,
    audit_path: Path | None = None,
    database: str | None = None,
    byte_limit: int = DEFAULT_BYTE_LIMIT,
) -> QueryResult:
    """Validate ``raw_params`` against ``spec`` and run it with :func:`run_query`.

    A parameter error is audited (outcome ``error``) before it is raised.
    """
    try:
        params = coerce_params(spec, raw_params or {})
    except UsageError:
        with _audited(audit_path, spec.text, dict(raw_params or {}), database, spec.name):
            raise
    return run_query(
        driver,
        spec.text,
        params,
        timeout=timeout,
        row_limit=row_limit,
        audit_path=audit_path,
        database=database,
        query_name=spec.name,
        byte_limit=byte_limit,
    )


def _server_answers(driver: Any) -> bool:
    """Whether the server still answers (after a query lost its connection)."""
    try:
        driver.verify_connectivity()
    except Exception:
        return False
    return True


def _audited(
    path: Path | None,
    text: str,
    params: Mapping[str, Any],
    database: str | None,
    query_name: str | None,
) -> AbstractContextManager[Audited]:
    """The audit of one run: young people's ids and names never reach the log."""
    key = pseudonym_key()
    return audited(
        Event.CYPHER,
        path,
        query=query_name,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        text=pseudonymised_text(text, key),
        params=pseudonymised_params(params, key),
        database=database,
    )
