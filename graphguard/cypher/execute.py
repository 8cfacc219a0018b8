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

__all__ = [
    "ServerLost",
    "BYTE_LIMIT_SETTING",
    "DEFAULT_BYTE_LIMIT",
    "FetchedRecords",
    "QueryOutOfMemory",
    "QueryTimeout",
    "ResultTooLarge",
    "TIMEOUT_SETTING",
    "byte_counter_installed",
    "execute_read",
    "explain_query",
]

TIMEOUT_SETTING = "GRAPHGUARD_CYPHER_TIMEOUT"
BYTE_LIMIT_SETTING = "GRAPHGUARD_CYPHER_BYTE_LIMIT"


class QueryTimeout(RefusedError):
    """The server stopped a query that ran longer than its transaction timeout."""


class QueryOutOfMemory(RefusedError):
    """The server stopped a query that needed more memory than a transaction may take."""


class ServerLost(BackendUnavailable):
    """The server stopped answering while a query ran (the query may be what stopped it)."""


# Neo4j's codes for a query stopped at a memory limit, or by the heap running out in it.
_MEMORY_CODES = (
    "Neo.TransientError.General.MemoryPoolOutOfMemoryError",
    "Neo.TransientError.General.TransactionMemoryLimit",
    "Neo.ClientError.General.TransactionOutOfMemoryError",
    "Neo.TransientError.General.OutOfMemoryError",
)


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
        with _read_session(driver, database, notifications_min_severity="WARNING") as s:
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
    """Drops the driver's log records on a thread while it is inside our sessions."""

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(self.local, "quiet", False)


_QUIET = _QuietFilter()
# Notifications, and the driver's own reports of a dropped connection (a result cut at its
# byte limit, a lost server): the caller raises one clear line for those instead.
for _logger in ("neo4j.notifications", "neo4j.io", "neo4j.pool", "neo4j.session", "neo4j"):
    logging.getLogger(_logger).addFilter(_QUIET)


@contextlib.contextmanager
def _read_session(driver: Any, database: str | None, **options: Any) -> Iterator[Any]:
    """A READ session of ``driver``, with the server's notifications kept off stderr."""
    import neo4j

    with (
        _quiet_notifications(),
        driver.session(database=database, default_access_mode=neo4j.READ_ACCESS, **options) as s,
    ):
        yield s


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
    """The records :func:`execute_read` fetched (driver records: see :class:`QueryResult`).

    ``truncated`` says that rows were left out, at the row limit or, when
    ``cut_by_bytes``, because the next row would have passed the byte limit.
    """

    columns: list[str]
    records: list[Any]
    truncated: bool
    cut_by_bytes: bool = False


DEFAULT_BYTE_LIMIT = 32 << 20
"""The most bytes of result a query may bring back (``GRAPHGUARD_CYPHER_BYTE_LIMIT``)."""

# Records pulled from the server per round trip: a few at a time, so that a result of huge
# rows is never asked for (and buffered) far ahead of the limits.
_FETCH_SIZE = 100


def execute_read(
    driver: Any,
    text: str,
    params: Mapping[str, Any] | None = None,
    *,
    database: str | None = None,
    timeout: float,
    row_limit: int,
    byte_limit: int = DEFAULT_BYTE_LIMIT,
    metadata: Mapping[str, Any] | None = None,
) -> FetchedRecords:
    """Run ``text`` in a READ access-mode transaction that is always rolled back.

    Fetches lazily, a few records per round trip, at most ``row_limit + 1`` records and at
    most ``byte_limit`` bytes off the wire: a result (or one row, such as
    ``RETURN range(1, 20000000)``) that would pass it is cut where it passes, the
    connection is dropped so that the server stops sending, and ``cut_by_bytes`` says so.

    Raises
    ------
    RefusedError
        When the server refuses a write in read access mode, or a permission.
    QueryTimeout
        When the server stops the transaction at its ``timeout``.
    UsageError
        For a query the server rejects (syntax, types, missing parameters).
    BackendUnavailable
        When the server cannot be reached, or the connection is lost.
    """

    records: list[Any] = []
    columns: list[str] = []
    budget = _ByteBudget(byte_limit)
    try:
        # The EXPLAIN already gave the server's warnings; do not send them again.
        with _read_session(
            driver, database, fetch_size=_FETCH_SIZE, notifications_min_severity="OFF"
        ) as s:
            tx = s.begin_transaction(metadata=dict(metadata or {}), timeout=timeout)
            try:
                result = tx.run(text, params)
                columns = list(result.keys())
                with budget.counting():
                    records.extend(islice(result, row_limit + 1))
            finally:
                if not tx.closed():
                    # Never commit; a failed rollback must not hide the error being raised.
                    with contextlib.suppress(Exception):
                        tx.rollback()
    except Exception as exc:
        if not budget.exceeded:
            raise _server_error(exc, timeout) from None
    if budget.exceeded:
        return FetchedRecords(columns, records[:row_limit], True, cut_by_bytes=True)
    truncated = len(records) > row_limit
    return FetchedRecords(columns, records[:row_limit], truncated)


class ResultTooLarge(OSError):
    """Raised inside the driver's socket read when a result passes its byte limit.

    An ``OSError``, so that the driver treats it as a broken connection: it drops the
    connection (the server then stops the query) and raises to the caller, who knows
    from :attr:`_ByteBudget.exceeded` that the cut was ours.
    """


class _ByteBudget:
    """Counts the bytes the driver reads on this thread while :meth:`counting` is open.

    The driver reads every message through one function (``receive_into_buffer`` of its
    Bolt I/O module); :func:`_install_byte_counter` wraps it once, and the wrapper charges
    the budget of the thread that reads, if any.  Nothing else is changed.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.exceeded = False

    @contextlib.contextmanager
    def counting(self) -> Iterator[None]:
        _install_byte_counter()
        before = getattr(_BUDGETS, "current", None)
        _BUDGETS.current = self
        try:
            yield
        finally:
            _BUDGETS.current = before

    def charge(self, n_bytes: int) -> None:
        self.used += n_bytes
        if self.used > self.limit:
            self.exceeded = True
            raise ResultTooLarge(f"the result passed its byte limit of {self.limit} bytes")


_BUDGETS = threading.local()
_COUNTER_LOCK = threading.Lock()


def _install_byte_counter() -> None:
    """Wrap the driver's socket read so that a thread's :class:`_ByteBudget` sees each read.

    Without the driver's Bolt I/O module (another driver version), rows are still bounded
    by the row limit; :func:`byte_counter_installed` tells the tests which holds.
    """
    with _COUNTER_LOCK:
        try:
            from neo4j._sync.io._bolt import _common as bolt_io
        except ImportError:  # pragma: no cover - depends on the driver's layout
            return
        read = getattr(bolt_io, "receive_into_buffer", None)
        if read is None or getattr(read, "_graphguard_counted", False):
            return

        def counted_read(sock: Any, buffer: Any, n_bytes: int) -> Any:
            budget = getattr(_BUDGETS, "current", None)
            if budget is not None:
                budget.charge(n_bytes)  # before the buffer grows for them
            return read(sock, buffer, n_bytes)

        counted_read._graphguard_counted = True  # type: ignore[attr-defined]
        bolt_io.receive_into_buffer = counted_read


def byte_counter_installed() -> bool:
    """Whether results are bounded in bytes off the wire (the driver's layout is known)."""
    _install_byte_counter()
    try:
        from neo4j._sync.io._bolt import _common as bolt_io
    except ImportError:  # pragma: no cover - depends on the driver's layout
        return False
    return bool(getattr(bolt_io.receive_into_buffer, "_graphguard_counted", False))


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
        if code in _MEMORY_CODES:
            return QueryOutOfMemory(
                f"the query needed more memory than a query may take and was stopped "
                f"({message}); ask for less: fewer rows, a LIMIT, no huge lists or strings"
            )
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
