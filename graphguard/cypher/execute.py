"""The two calls to the server: ``EXPLAIN`` a query, and run it read-only.

Driver errors become graphguard errors here, each one clear line.  The driver's own
reports of the server's notifications (a ``neo4j.notifications`` log record, a
``Neo4jWarning`` in development mode) are long and span lines, so they are kept quiet
in the sessions opened here: the run asks the server for none, and the ``EXPLAIN``
keeps the server's warnings as one-line notices (:attr:`PlanCheck.notices`) instead.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

from graphguard.cypher.guard import PlanCheck, read_plan
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

    The server's warnings about the query (an unknown property, a deprecated form) come
    back as :attr:`PlanCheck.notices`, one line each; the driver prints nothing.

    Raises
    ------
    UsageError
        When the server cannot plan the query (a syntax error, an unknown procedure).
    BackendUnavailable
        When the server cannot be reached.
    """
    import neo4j

    try:
        with (
            _quiet_notifications(),
            driver.session(
                database=database,
                default_access_mode=neo4j.READ_ACCESS,
                notifications_min_severity="WARNING",
            ) as s,
        ):
            summary = s.run(neo4j.Query(f"{_EXPLAIN}{text}", timeout=timeout), params).consume()
    except Exception as exc:
        raise _server_error(exc, timeout) from None
    return read_plan(str(summary.query_type), summary.plan or {}, _notices(summary))


_EXPLAIN = "EXPLAIN "
_NOTICE_LENGTH = 240


def _notices(summary: Any) -> list[str]:
    """The server's notifications about an ``EXPLAIN``, one short line each."""
    notices: list[str] = []
    for status in getattr(summary, "gql_status_objects", None) or []:
        if not getattr(status, "is_notification", False):
            continue
        text = " ".join(str(status.status_description or "").split())
        text = re.sub(r"^(?:warn|info|note):\s*", "", text)
        if not text:
            continue
        if len(text) > _NOTICE_LENGTH:
            text = text[: _NOTICE_LENGTH - 1] + "…"
        position = getattr(status, "position", None)
        if position is not None and position.line >= 1 and position.column >= 1:
            # The positions count the EXPLAIN prefix on the first line.
            column = position.column - len(_EXPLAIN) if position.line == 1 else position.column
            if column >= 1:
                text += f" (line {position.line}, column {column})"
        if text not in notices:
            notices.append(text)
    return notices


class _QuietFilter(logging.Filter):
    """Drops ``neo4j.notifications`` records on a thread while it is inside our sessions."""

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(self.local, "quiet", False)


_QUIET = _QuietFilter()
logging.getLogger("neo4j.notifications").addFilter(_QUIET)


@contextlib.contextmanager
def _quiet_notifications() -> Iterator[None]:
    """Keep the driver from printing the server's notifications while the block runs.

    The driver logs each notification on ``neo4j.notifications`` (which reaches stderr
    when nothing handles logging) and, in development mode, also warns; both are long
    and span lines.  The log records are dropped on this thread only; the warnings are
    ignored with :func:`warnings.catch_warnings`.
    """
    from neo4j.warnings import Neo4jWarning

    before = getattr(_QUIET.local, "quiet", False)
    _QUIET.local.quiet = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Neo4jWarning)
            yield
    finally:
        _QUIET.local.quiet = before


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
        with (
            _quiet_notifications(),
            driver.session(
                database=database,
                default_access_mode=neo4j.READ_ACCESS,
                # The EXPLAIN already gave the server's warnings; do not send them again.
                notifications_min_severity="OFF",
            ) as s,
        ):
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
