"""The police-liaison Cypher library: parse it, validate parameters, run Cypher read-only.

The library is a folder of ``.cypher`` files (``cypher/queries``), one query each, with a
header of ``//`` comments naming it, the question it answers, its parameters and the
columns it returns (the format is documented in ``docs/cypher.md``).  The CLI
(``graphguard cypher``) and the dashboard's Cypher page both use this module.

Every query — from the library or typed ad hoc — runs through :func:`run_query`, which
keeps the liaison role read-only in depth:

1. :func:`check_read_only_text` refuses, before anything reaches the server, any
   ``\\u`` escape (Neo4j decodes them anywhere in the text, even in strings and
   comments), a backslash outside a string literal, more than one statement, write
   clauses, ``LOAD CSV``, ``CALL … IN TRANSACTIONS``, ``USE``, administration commands,
   ``EXPLAIN``/``PROFILE`` prefixes, procedures outside :data:`READ_PROCEDURES` and
   functions outside Cypher's own namespaces.  Comments, string literals and
   back-quoted names are tokenised first, so a ``;`` or a keyword inside a string cannot
   confuse it and a write after a comment cannot hide.
2. :func:`explain_query` asks the server to ``EXPLAIN`` the query and
   :func:`check_plan_read_only` refuses anything whose query type is not ``'r'`` (read
   only) — with one exception: a plan that only calls a DBMS information procedure of
   :data:`DBMS_READ_PROCEDURES` (``dbms.components()`` is typed ``'s'`` by the server) —
   and any read-typed plan with a ``LoadCSV`` operator, a ``ProcedureCall`` outside
   :data:`READ_PROCEDURES` or, where the operators' details show one, a function outside
   Cypher's own namespaces.
3. :func:`execute_read` runs it in a ``READ`` access-mode session, inside an explicit
   transaction with a timeout that is always rolled back, and fetches lazily at most
   ``row_limit + 1`` records and ``byte_limit`` bytes, so it can say when a limit was
   hit (a row too big for the byte limit is left out whole, and the connection dropped).

Every run, allowed or refused, is audited by :mod:`graphguard.audit`: a line before
anything reaches the server (if it cannot be written, nothing runs) and a line with
the outcome.
"""

from graphguard.cypher.execute import (
    BYTE_LIMIT_SETTING,
    DEFAULT_BYTE_LIMIT,
    TIMEOUT_SETTING,
    FetchedRecords,
    QueryOutOfMemory,
    QueryTimeout,
    execute_read,
    explain_query,
)
from graphguard.cypher.guard import (
    DBMS_READ_PROCEDURES,
    READ_PROCEDURES,
    PlanCheck,
    check_plan_read_only,
    check_read_only_text,
    read_plan,
)
from graphguard.cypher.lexer import parse_literal
from graphguard.cypher.library import (
    PARAM_TYPES,
    ParamSpec,
    QueryFileError,
    QuerySpec,
    coerce_params,
    library_dir,
    library_reference,
    load_library,
    parse_query,
)
from graphguard.cypher.results import QueryResult
from graphguard.cypher.run import ROW_LIMIT_SETTING, run_library_query, run_options, run_query

__all__ = [
    "PARAM_TYPES",
    "READ_PROCEDURES",
    "DBMS_READ_PROCEDURES",
    "TIMEOUT_SETTING",
    "ROW_LIMIT_SETTING",
    "BYTE_LIMIT_SETTING",
    "DEFAULT_BYTE_LIMIT",
    "ParamSpec",
    "QuerySpec",
    "QueryResult",
    "PlanCheck",
    "FetchedRecords",
    "QueryFileError",
    "QueryTimeout",
    "QueryOutOfMemory",
    "parse_query",
    "load_library",
    "library_dir",
    "library_reference",
    "coerce_params",
    "parse_literal",
    "check_read_only_text",
    "explain_query",
    "check_plan_read_only",
    "read_plan",
    "execute_read",
    "run_options",
    "run_query",
    "run_library_query",
]
