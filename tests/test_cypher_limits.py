"""Hostile read-only Cypher against the real server: it is stopped, cut or refused, never fatal.

Each query of the resource-exhaustion corpus is read-only, so every layer of the read-only
guard lets it through; what bounds it is the server's configuration (transaction memory
per query and in total, the transaction timeout, an out-of-memory error that ends the query
and not the JVM) and graphguard's own limits on what it fetches (rows and bytes).  After
each one the server must still answer.

Left out, because Neo4j cannot stop them early (docs/neo4j-local.md says so): a single row
holding a lazily built value of a billion elements (``RETURN reduce(l = [1], i IN
range(1, 30) | l + l)``), which the server packs whole before sending a byte, and a
``reduce`` that builds a string over millions of steps; neither checks its transaction's
timeout.  Both leave the server answering, but use a core for minutes.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from graphguard.audit import read_audit
from graphguard.cypher import DEFAULT_BYTE_LIMIT, QueryOutOfMemory, run_query
from graphguard.cypher.execute import FetchedRecords, byte_counter_installed, execute_read
from graphguard.errors import BackendUnavailable, RefusedError

# name, query, the outcomes that are acceptable (audit outcome; "cut" = ok, cut in bytes).
# Which limit stops a query first depends on the machine's speed: on a loaded one the
# timeout can come before the memory limit.
CORPUS: list[tuple[str, str, set[str]]] = [
    (
        "string doubled 30 times (issue 11: killed the server)",
        "RETURN size(reduce(s = 'x', i IN range(1, 30) | s + s)) AS n",
        {"out_of_memory"},
    ),
    (
        "one 64 MiB string row",
        "RETURN reduce(s = 'x', i IN range(1, 26) | s + s) AS s",
        {"cut", "out_of_memory"},
    ),
    (
        "one row of a 20-million-element list (issue 11: 309 MB in 129 s)",
        "RETURN range(1, 20000000) AS numbers",
        {"cut", "timeout"},
    ),
    (
        "a list doubled 30 times, its size",
        "RETURN size(reduce(l = [1], i IN range(1, 30) | l + l)) AS n",
        {"ok", "out_of_memory"},
    ),
    (
        "collect of 50 million numbers",
        "UNWIND range(1, 50000000) AS i RETURN size(collect(i)) AS n",
        {"out_of_memory", "timeout"},
    ),
    (
        "collect of 5 million strings",
        "UNWIND range(1, 5000000) AS i "
        "RETURN size(collect(toString(i) + '-padding-padding-padding-padding')) AS n",
        {"out_of_memory", "timeout"},
    ),
    (
        "count DISTINCT over 30 million values",
        "UNWIND range(1, 30000000) AS i RETURN count(DISTINCT i) AS n",
        {"out_of_memory", "timeout"},
    ),
    (
        "cartesian product of 10^5 x 10^5 rows",
        "UNWIND range(1, 100000) AS a UNWIND range(1, 100000) AS b RETURN count(*) AS n",
        {"timeout"},
    ),
    (
        "sorted cartesian product",
        "UNWIND range(1, 3000) AS a UNWIND range(1, 3000) AS b "
        "WITH a, b ORDER BY a * b DESC RETURN collect(a)[0] AS n",
        {"out_of_memory", "timeout"},
    ),
    (
        "cartesian product of every node with every node, three times",
        "MATCH (a), (b), (c) RETURN count(*) AS n",
        {"ok", "timeout"},
    ),
    (
        "every path of any length",
        "MATCH p = (a)-[*]-(b) RETURN count(p) AS n",
        {"ok", "timeout", "out_of_memory"},
    ),
    (
        "ten billion rows counted",
        "UNWIND range(1, 10000000000) AS i RETURN count(i) AS n",
        {"timeout"},
    ),
    (
        "a million rows of 1,000-element lists",
        "UNWIND range(1, 1000000) AS i RETURN i, range(1, 1000) AS l",
        {"cut"},
    ),
]

TIMEOUT = 10.0
BYTE_LIMIT = 4 << 20


def _answers(driver: Any) -> bool:
    try:
        records, _, _ = driver.execute_query("RETURN 1 AS one")
    except Exception:
        return False
    return records[0]["one"] == 1


def _outcome(driver: Any, text: str, audit: Path) -> str:
    try:
        result = run_query(
            driver,
            text,
            timeout=TIMEOUT,
            row_limit=10_000,
            byte_limit=BYTE_LIMIT,
            audit_path=audit,
        )
    except (RefusedError, BackendUnavailable):
        return str(read_audit(audit)[-1]["outcome"])
    return "cut" if result.cut_by_bytes else "ok"


@pytest.mark.neo4j
def test_the_resource_exhaustion_corpus_never_stops_the_server(
    neo4j_driver: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    audit = tmp_path / "audit.jsonl"
    assert _answers(neo4j_driver)
    figures = []
    for name, text, acceptable in CORPUS:
        began = time.monotonic()
        outcome = _outcome(neo4j_driver, text, audit)
        elapsed = time.monotonic() - began
        figures.append(f"{outcome:14s} {elapsed:6.1f} s  {name}")
        assert outcome in acceptable, f"{name}: {outcome} ({read_audit(audit)[-1]['reason']})"
        assert _answers(neo4j_driver), f"the server stopped answering after: {name}"
    with capsys.disabled():
        print("\nresource-exhaustion corpus (outcome, seconds, query):")
        print("\n".join(figures))
    entries = [e for e in read_audit(audit) if e["outcome"] != "started"]
    digests = [hashlib.sha256(text.encode("utf-8")).hexdigest() for _, text, _ in CORPUS]
    assert [e["sha256"] for e in entries] == digests
    refused = [e for e in entries if e["outcome"] != "ok"]
    assert all(e["reason"] for e in refused)


@pytest.mark.neo4j
def test_a_huge_row_is_cut_at_the_byte_limit_and_said(neo4j_driver: Any, tmp_path: Path) -> None:
    assert byte_counter_installed()
    began = time.monotonic()
    fetched = execute_read(
        neo4j_driver,
        "UNWIND [1, 2, 3] AS i RETURN i, CASE WHEN i = 3 THEN range(1, 20000000) END AS l",
        timeout=60,
        row_limit=100,
        byte_limit=1 << 20,
    )
    assert isinstance(fetched, FetchedRecords)
    # The two small rows arrive; the third, 20 million numbers, is left out whole.
    assert [record["i"] for record in fetched.records] == [1, 2]
    assert fetched.truncated and fetched.cut_by_bytes
    assert time.monotonic() - began < 60
    assert _answers(neo4j_driver)

    # Within the limit nothing is cut, and the row limit still applies on its own.
    small = execute_read(
        neo4j_driver,
        "UNWIND range(1, 50) AS i RETURN i",
        timeout=10,
        row_limit=10,
        byte_limit=DEFAULT_BYTE_LIMIT,
    )
    assert len(small.records) == 10 and small.truncated and not small.cut_by_bytes


@pytest.mark.neo4j
def test_the_cli_says_a_result_was_cut_at_the_byte_limit(neo4j_env: Any) -> None:
    from graphguard.cli import main

    result = CliRunner().invoke(
        main,
        [
            "cypher",
            "run",
            "--format",
            "json",
            "--byte-limit",
            "65536",
            "-q",
            "UNWIND range(1, 100000) AS i RETURN i, 'padding-padding-padding' AS p",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "the next would pass the byte limit of 65536 bytes" in result.stderr
    assert "--byte-limit" in result.stderr
    rows = json.loads(result.stdout)
    assert 0 < len(rows) < 100000 and rows[0] == {"i": 1, "p": "padding-padding-padding"}


@pytest.mark.neo4j
def test_memory_limit_refusal_is_one_clear_line(neo4j_driver: Any, tmp_path: Path) -> None:
    with pytest.raises(QueryOutOfMemory) as raised:
        run_query(
            neo4j_driver,
            "UNWIND range(1, 50000000) AS i RETURN size(collect(i)) AS n",
            timeout=120,
            row_limit=10,
            audit_path=tmp_path / "audit.jsonl",
        )
    message = str(raised.value)
    assert "\n" not in message and "more memory than a query may take" in message
    assert raised.value.exit_code == 3
    assert read_audit(tmp_path / "audit.jsonl")[-1]["outcome"] == "out_of_memory"
