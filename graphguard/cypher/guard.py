"""The checks that keep liaison Cypher read-only before it runs.

:func:`check_read_only_text` is the static layer (no server); :func:`check_plan_read_only`
judges what the server's ``EXPLAIN`` said (see :func:`graphguard.cypher.execute.explain_query`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphguard.cypher.lexer import Token, tokens
from graphguard.errors import RefusedError, UsageError

__all__ = [
    "READ_PROCEDURES",
    "DBMS_READ_PROCEDURES",
    "PlanCheck",
    "check_read_only_text",
    "check_plan_read_only",
    "read_plan",
]

#: Procedures a liaison may CALL: they describe the schema and read nothing else.
READ_PROCEDURES: frozenset[str] = frozenset(
    {
        "db.labels",
        "db.relationshiptypes",
        "db.propertykeys",
        "db.schema.visualization",
        "db.schema.nodetypeproperties",
        "db.schema.reltypeproperties",
        "dbms.components",
    }
)

#: Allowed procedures the server types as DBMS (``'s'``) rather than read (``'r'``).
DBMS_READ_PROCEDURES: frozenset[str] = frozenset({"dbms.components"})

# Namespaces of Cypher's built-in functions; any other dotted function (a plugin's, such
# as apoc.cypher.run*) is refused, since plugins can run Cypher or reach files and URLs.
_BUILTIN_FUNCTION_NAMESPACES = frozenset(
    {
        "date",
        "datetime",
        "localdatetime",
        "localtime",
        "time",
        "duration",
        "point",
        "db",
        "graph",
        "vector",
    }
)

# Clauses that write data or schema, refused wherever they appear as a keyword.
_WRITE_CLAUSES = frozenset(
    {"CREATE", "MERGE", "DELETE", "DETACH", "SET", "REMOVE", "FOREACH", "INSERT"}
)
# Administration and other non-read commands, refused wherever they appear as a keyword.
_ADMIN_KEYWORDS = frozenset(
    {
        "DROP",
        "ALTER",
        "GRANT",
        "DENY",
        "REVOKE",
        "RENAME",
        "SHOW",
        "TERMINATE",
        "DEALLOCATE",
        "REALLOCATE",
    }
)
# A statement must begin (after any CYPHER options) with one of these.
_READ_STARTS = frozenset({"MATCH", "OPTIONAL", "WITH", "UNWIND", "RETURN", "CALL"})

# Operators a DBMS-typed plan may hold and still only read (dbms.components()).
_DBMS_READ_OPERATORS = frozenset(
    {
        "ProduceResults",
        "ProcedureCall",
        "Projection",
        "Filter",
        "Sort",
        "Top",
        "Limit",
        "Skip",
        "Distinct",
        "EagerAggregation",
        "OrderedAggregation",
        "Argument",
        "Unwind",
    }
)


def _statements(tokens: list[Token]) -> list[list[Token]]:
    statements: list[list[Token]] = [[]]
    for token in tokens:
        if token.kind == "punct" and token.text == ";":
            statements.append([])
        else:
            statements[-1].append(token)
    return [s for s in statements if s]


def _keyword_at(tokens: list[Token], i: int) -> str | None:
    """The upper-cased keyword at ``i``, or None where the word is a name, not a keyword.

    A word right after ``.`` (a property or namespace), ``:`` (a label or type) or the
    keyword ``AS`` (an alias), or right before ``:`` (a map key or a variable with a label)
    is a name.  Only a keyword ``AS`` makes an alias: in ``WITH 1 AS AS CREATE …`` the
    second ``AS`` is the alias, so ``CREATE`` is a clause (and the alias is refused, see
    :func:`_check_aliases`); after a property or label called ``AS`` (``WHERE n.AS
    CREATE …``) the next word is read as a keyword too.
    """
    token = tokens[i]
    if token.kind != "word":
        return None
    if i > 0:
        prev = tokens[i - 1]
        if prev.kind == "punct" and prev.text in ".:":
            return None
        if prev.is_word("AS") and _is_alias_keyword(tokens, i - 1):
            return None
    if i + 1 < len(tokens):
        nxt = tokens[i + 1]
        if nxt.kind == "punct" and nxt.text == ":":
            return None
    return token.text.upper()


def _is_alias_keyword(tokens: list[Token], i: int) -> bool:
    """Whether the word ``AS`` at ``i`` is the keyword (not a name spelled ``AS``).

    In a run of ``AS`` words, the first is a keyword unless it follows ``.`` or ``:``;
    after that they alternate, keyword then alias.  Counted without recursion, so a long
    run cannot exhaust the stack.
    """
    first = i
    while first > 0 and tokens[first - 1].is_word("AS"):
        first -= 1
    prev = tokens[first - 1] if first > 0 else None
    first_is_keyword = not (prev is not None and prev.kind == "punct" and prev.text in ".:")
    return first_is_keyword == ((i - first) % 2 == 0)


def _skip_cypher_options(tokens: list[Token]) -> int:
    """The index of the first token after any ``CYPHER 5 runtime=slotted …`` prefixes."""
    i = 0
    while i < len(tokens) and tokens[i].is_word("CYPHER"):
        i += 1
        while i < len(tokens):
            if tokens[i].kind == "number":
                i += 1
            elif (
                tokens[i].kind == "word"
                and i + 2 < len(tokens)
                and tokens[i + 1].kind == "punct"
                and tokens[i + 1].text == "="
            ):
                i += 3
            else:
                break
    return i


def _dotted_name(tokens: list[Token], i: int) -> tuple[str, int]:
    """A dotted name (``db.schema.visualization``) starting at ``i``, and the index after it."""
    parts = [tokens[i].text]
    j = i + 1
    while (
        j + 1 < len(tokens)
        and tokens[j].kind == "punct"
        and tokens[j].text == "."
        and tokens[j + 1].kind in ("word", "name")
    ):
        parts.append(tokens[j + 1].text)
        j += 2
    return ".".join(parts), j


def check_read_only_text(text: str) -> str:
    """Refuse Cypher that is not one read-only statement, before it reaches the server.

    Parameters
    ----------
    text : str
        The Cypher, as typed or as read from a library file (comments allowed).

    Returns
    -------
    str
        The statement to send, without a trailing ``;``.

    Raises
    ------
    RefusedError
        With a one-line reason, for a ``\\u`` escape anywhere (Neo4j decodes them before
        it reads the query, even in strings and comments), a backslash outside a string
        literal, more than one statement, a write clause, ``LOAD CSV``,
        ``CALL … IN TRANSACTIONS``, ``USE``, an administration command, an ``EXPLAIN`` or
        ``PROFILE`` prefix, a procedure outside :data:`READ_PROCEDURES` or a function
        outside Cypher's own namespaces.
    UsageError
        For an empty query or an unterminated string, name or comment.

    Notes
    -----
    This layer is a filter, not a parser: it errs towards refusing (a variable called
    ``set`` is refused), and the server's ``EXPLAIN`` and ``READ`` access mode stand
    behind it for anything it cannot see.

    Examples
    --------
    >>> check_read_only_text("MATCH (n:Adult) RETURN n.id // who?")
    'MATCH (n:Adult) RETURN n.id'
    >>> check_read_only_text("RETURN 'a; CREATE (n)' AS text;")
    "RETURN 'a; CREATE (n)' AS text"
    >>> check_read_only_text("MATCH (n) /* just looking */ DETACH DELETE n")
    Traceback (most recent call last):
    ...
    graphguard.errors.RefusedError: DETACH is a write clause: liaison Cypher is read-only
    """
    _check_escapes(text)
    found = tokens(text)
    _check_backslashes(found)
    statements = _statements(found)
    if not statements:
        raise UsageError("the query is empty")
    if len(statements) > 1:
        raise RefusedError(f"{len(statements)} statements: run one read-only statement at a time")
    statement = statements[0]
    _check_statement(statement)
    # Send the statement alone: no comments before it, no ';' or comments after it.
    return text[statement[0].offset : statement[-1].end]


def _check_escapes(text: str) -> None:
    """Refuse any ``\\u`` escape, wherever it is.

    Neo4j decodes ``\\uXXXX`` in the whole query text before it reads it — in keywords
    and names (``\\u004cOAD CSV`` is ``LOAD CSV``), in strings (``'\\u0027`` closes the
    string), in back-quoted names (``\\u0060`` closes the name) and in comments
    (``\\u000a`` ends a ``//`` comment) — so no check that reads the text as written
    can trust one.  The character itself can always be typed instead.
    """
    at = text.find("\\u")
    if at >= 0:
        escape = text[at : at + 6]
        shown = "".join(c if c.isprintable() and not c.isspace() else "?" for c in escape)
        raise RefusedError(
            f"the query uses the escape {shown} (character {at + 1}): Neo4j decodes \\uXXXX "
            "escapes anywhere in a query, even in strings and comments, so liaison Cypher "
            "may not use them; type the character itself"
        )


def _check_backslashes(tokens: list[Token]) -> None:
    """Refuse a backslash anywhere but inside a string literal (or a comment).

    Outside strings Cypher has no use for one; refusing it leaves no escape form, known
    or future, for the keyword checks to miss.
    """
    for token in tokens:
        if (token.kind == "punct" and token.text == "\\") or (
            token.kind in ("name", "param") and "\\" in token.text
        ):
            raise RefusedError(
                f"a backslash outside a string literal (character {token.offset + 1}): "
                "Cypher has no use for one there, so liaison Cypher may not use it"
            )


def _check_statement(tokens: list[Token]) -> None:
    start = _skip_cypher_options(tokens)
    if start >= len(tokens):
        raise UsageError("the query has CYPHER options but no statement")
    first = tokens[start]
    first_word = first.text.upper() if first.kind == "word" else first.text
    if first_word in ("EXPLAIN", "PROFILE"):
        raise RefusedError(
            f"{first_word} is not available here: graphguard explains every query itself; "
            "run the query without it"
        )
    if first_word == "USE":
        raise RefusedError("USE is not allowed: liaison Cypher runs on the graphguard database")
    if first_word == "LOAD":
        raise RefusedError("LOAD CSV is not allowed: liaison Cypher reads only the graph")
    if (
        first_word in _WRITE_CLAUSES
        or first_word in _ADMIN_KEYWORDS
        or first_word not in _READ_STARTS
    ):
        kind = "a write clause" if first_word in _WRITE_CLAUSES else "not a read query"
        raise RefusedError(
            f"a statement starting with {first_word} is {kind}: liaison Cypher is read-only "
            "(start with MATCH, OPTIONAL MATCH, WITH, UNWIND, RETURN or CALL)"
        )
    _check_aliases(tokens, start)
    for i in range(start, len(tokens)):
        keyword = _keyword_at(tokens, i)
        if keyword is None:
            continue
        if keyword in _WRITE_CLAUSES:
            raise RefusedError(f"{keyword} is a write clause: liaison Cypher is read-only")
        if keyword in _ADMIN_KEYWORDS:
            raise RefusedError(
                f"{keyword} is an administration command: liaison Cypher is read-only"
            )
        if keyword == "LOAD":
            raise RefusedError("LOAD CSV is not allowed: liaison Cypher reads only the graph")
        if keyword == "USE":
            raise RefusedError("USE is not allowed: liaison Cypher runs on the graphguard database")
        if keyword == "TRANSACTIONS":
            raise RefusedError(
                "CALL { … } IN TRANSACTIONS is not allowed: it commits work in batches"
            )
        if keyword == "CALL":
            _check_call(tokens, i)
    for i, token in enumerate(tokens):
        previous = tokens[i - 1] if i else None
        after_dot = previous is not None and previous.kind == "punct" and previous.text == "."
        procedure = previous is not None and previous.is_word("CALL")
        if token.kind in ("word", "name") and not after_dot and not procedure:
            _check_function(tokens, i)


def _check_aliases(tokens: list[Token], start: int) -> None:
    """Refuse an alias spelled ``AS`` (``WITH 1 AS AS …``) unless it is back-quoted.

    Cypher accepts it, but it exists only to make a reader take the next clause for an
    alias; refusing it leaves no doubt about where each clause starts.
    """
    for i in range(start + 1, len(tokens)):
        if (
            tokens[i].is_word("AS")
            and tokens[i - 1].is_word("AS")
            and _is_alias_keyword(tokens, i - 1)
        ):
            raise RefusedError(
                "a variable named AS: a keyword as a name hides where the next clause "
                "starts; back-quote it (`AS`) or rename it"
            )


def _check_call(tokens: list[Token], i: int) -> None:
    if i + 1 >= len(tokens):
        raise RefusedError("CALL without a procedure or subquery")
    nxt = tokens[i + 1]
    if nxt.kind == "punct" and nxt.text in "{(":
        return  # a subquery: its clauses are checked like any others
    if nxt.kind not in ("word", "name"):
        raise RefusedError(f"cannot tell what CALL {nxt.text} calls")
    name, _ = _dotted_name(tokens, i + 1)
    if name.lower() not in READ_PROCEDURES:
        allowed = ", ".join(sorted(_display_procedures()))
        raise RefusedError(f"procedure {name} is not on the read-only allowlist ({allowed})")


def _display_procedures() -> list[str]:
    spelled = {
        "db.relationshiptypes": "db.relationshipTypes",
        "db.propertykeys": "db.propertyKeys",
        "db.schema.nodetypeproperties": "db.schema.nodeTypeProperties",
        "db.schema.reltypeproperties": "db.schema.relTypeProperties",
    }
    return [spelled.get(name, name) for name in READ_PROCEDURES]


def _check_function(tokens: list[Token], i: int) -> None:
    """Refuse a dotted function call (``apoc.x.y(…)``) outside Cypher's own namespaces."""
    name, j = _dotted_name(tokens, i)
    called = j < len(tokens) and tokens[j].kind == "punct" and tokens[j].text == "("
    if called and not _builtin_function(name):
        raise RefusedError(f"function {name} is not one of Cypher's built-in functions")


def _builtin_function(name: str) -> bool:
    """Whether a function name is in one of Cypher's own namespaces (or has none).

    Neo4j refuses to register a plugin function in the root namespace, so an undotted
    name is always one of Cypher's.
    """
    return "." not in name or name.split(".", 1)[0].lower() in _BUILTIN_FUNCTION_NAMESPACES


@dataclass(frozen=True)
class PlanCheck:
    """What ``EXPLAIN`` told us about a query.

    Attributes
    ----------
    query_type : str
        The server's query type: ``r``, ``rw``, ``w`` or ``s``.
    operators : frozenset of str
        The plan's operator types, without their runtime suffix (``LoadCSV``, ``Create``).
    procedures : frozenset of str
        The procedures its ``ProcedureCall`` operators call, lower-cased.
    functions : frozenset of str
        The dotted function names (``vector.similarity.cosine``) the operators' details
        call; undotted names are always Cypher's own.
    notices : tuple of str
        The server's warnings about the query, one line each (an unknown property, a
        deprecated form).
    """

    query_type: str
    operators: frozenset[str]
    procedures: frozenset[str]
    functions: frozenset[str] = frozenset()
    notices: tuple[str, ...] = ()


# Operators of SHOW and TERMINATE commands: typed 'r' by the server, and allowed in a READ
# transaction, yet they list other users' queries and parameters, settings, or stop work.
_COMMAND_OPERATOR_PREFIXES = ("Show", "Terminate")

# Plan arguments that describe the planner, not the query.
_PLAN_META_ARGS = frozenset(
    {
        "string-representation",
        "planner",
        "planner-impl",
        "planner-version",
        "runtime",
        "runtime-impl",
        "runtime-version",
        "version",
        "batch-size",
        "PipelineInfo",
    }
)
_CALL_IN_TEXT = re.compile(r"([A-Za-z_][\w]*(?:\s*\.\s*`?[A-Za-z_][\w]*`?)+)\s*\(")


def read_plan(query_type: str, plan: Any, notices: Sequence[str] = ()) -> PlanCheck:
    """A :class:`PlanCheck` from the query type and the plan ``EXPLAIN`` returned.

    Walks every operator: collects its type, the procedure a ``ProcedureCall`` calls (from
    its ``Details``, such as ``db.labels() :: (label :: STRING)``) and the dotted
    functions its arguments call.
    """
    operators: set[str] = set()
    procedures: set[str] = set()
    functions: set[str] = set()
    walk_plan(plan, operators, procedures, functions)
    return PlanCheck(
        str(query_type),
        frozenset(operators),
        frozenset(procedures),
        frozenset(functions),
        tuple(notices),
    )


def walk_plan(
    plan: Any, operators: set[str], procedures: set[str], functions: set[str] | None = None
) -> None:
    if not isinstance(plan, Mapping):
        return
    operator = str(plan.get("operatorType", "")).split("@", 1)[0]
    operators.add(operator)
    args = plan.get("args") or {}
    if not isinstance(args, Mapping):
        args = {}
    for key, value in args.items():
        if key in _PLAN_META_ARGS or not isinstance(value, str):
            continue
        text = value
        if operator == "ProcedureCall" and key == "Details":
            # Past the procedure's name, the details are its arguments and signature.
            text = value.partition("(")[2]
        if functions is not None:
            functions.update(_called_functions(text))
    if operator == "ProcedureCall":
        # A missing or unreadable name is recorded as it is, and so refused.
        name = str(args.get("Details", "")).partition("(")[0]
        procedures.add(name.replace("`", "").replace(" ", "").lower())
    for child in plan.get("children", []) or []:
        walk_plan(child, operators, procedures, functions)


def _called_functions(text: str) -> set[str]:
    """The dotted names called in an operator's details (``date.truncate($x, …)``)."""
    try:
        found = tokens(text)
    except UsageError:
        # Not Cypher-like after all: read it crudely, which can only find more.
        return {re.sub(r"[\s`]", "", name) for name in _CALL_IN_TEXT.findall(text)}
    names: set[str] = set()
    for i, token in enumerate(found):
        if token.kind not in ("word", "name"):
            continue
        previous = found[i - 1] if i else None
        if previous is not None and previous.kind == "punct" and previous.text in ".:":
            continue
        name, j = _dotted_name(found, i)
        if "." in name and j < len(found) and found[j].kind == "punct" and found[j].text == "(":
            names.add(name)
    return names


def check_plan_read_only(plan: PlanCheck) -> None:
    """Refuse a plan that writes, or reads anything but the graph.

    Refused, in this order:

    * a query type other than read-only (``'r'``) — the one exception is a DBMS-typed
      (``'s'``) plan made only of read operators around a call of a
      :data:`DBMS_READ_PROCEDURES` procedure, such as ``dbms.components()``;
    * a ``SHOW …`` or ``TERMINATE …`` command operator (``ShowTransactions``,
      ``TerminateTransactions``, ``ShowSettings`` …), which the server types as reads
      although they show other users' queries and parameters, or stop their work;
    * a ``LoadCSV`` operator, which the server types as a read although it fetches files
      and URLs (and a URL can carry data out);
    * a ``ProcedureCall`` of a procedure outside :data:`READ_PROCEDURES`;
    * a dotted function outside Cypher's own namespaces, where the plan shows it (plugin
      functions such as APOC's can run Cypher or reach files and URLs).

    Raises
    ------
    RefusedError
        With a one-line reason naming what the server's plan showed.
    """
    if plan.query_type != "r" and not (
        plan.query_type == "s"
        and plan.procedures
        and plan.procedures <= DBMS_READ_PROCEDURES
        and plan.operators <= _DBMS_READ_OPERATORS
    ):
        meaning = {"rw": "reads and writes", "w": "writes", "s": "changes the schema or the DBMS"}
        what = meaning.get(plan.query_type, f"is of type {plan.query_type!r}")
        raise RefusedError(
            f"the server's EXPLAIN says this query {what}: liaison Cypher is read-only"
        )
    commands = sorted(o for o in plan.operators if o.startswith(_COMMAND_OPERATOR_PREFIXES))
    if commands:
        raise RefusedError(
            f"the server's EXPLAIN shows a command ({commands[0]} operator): liaison Cypher "
            "runs read queries, not SHOW or TERMINATE commands"
        )
    if "LoadCSV" in plan.operators:
        raise RefusedError(
            "the server's EXPLAIN shows a LOAD CSV (LoadCSV operator): liaison Cypher reads "
            "only the graph"
        )
    outside = sorted(p for p in plan.procedures if p not in READ_PROCEDURES)
    if outside:
        raise RefusedError(
            f"the server's EXPLAIN shows a call of procedure {outside[0] or '(unnamed)'}, "
            "which is not on the read-only allowlist"
        )
    foreign = sorted(f for f in plan.functions if not _builtin_function(f))
    if foreign:
        raise RefusedError(
            f"the server's EXPLAIN shows a call of function {foreign[0]}, which is not one "
            "of Cypher's built-in functions"
        )
