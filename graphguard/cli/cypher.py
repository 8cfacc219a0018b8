"""``graphguard cypher``: the police-liaison query library and read-only ad-hoc Cypher.

A thin layer over :mod:`graphguard.cypher`: it parses options, connects with the
settings (``NEO4J_URI`` …), runs, and prints a table, CSV or JSON.  Errors are raised
as :class:`~graphguard.errors.GraphguardError` subclasses for the ``graphguard`` command
to print as one line with its exit code (2 usage, 3 refused, 4 Neo4j unavailable).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from graphguard.cypher import (
    BYTE_LIMIT_SETTING,
    ROW_LIMIT_SETTING,
    TIMEOUT_SETTING,
    load_library,
    parse_literal,
    run_library_query,
    run_options,
    run_query,
)
from graphguard.cypher.results import (
    FORMATS,
    format_result,
    without_identities,
    young_people_scrubber,
)
from graphguard.errors import UsageError
from graphguard.privacy import neutral_text

__all__ = ["cypher"]


@click.group("cypher")
def cypher() -> None:
    """The police-liaison Cypher library and read-only ad-hoc Cypher against Neo4j.

    Every query runs read-only (checked before it is sent, by the server's EXPLAIN, and
    in a READ transaction), with a timeout and a row limit, and is written to the audit
    log.  See docs/cypher.md.
    """


@cypher.command("list")
def list_queries() -> None:
    """List the library's queries: name and the question each answers."""
    library = load_library()
    width = max((len(name) for name in library), default=0)
    for spec in library.values():
        click.echo(f"{spec.name.ljust(width)}  {spec.question}")


@cypher.command("show")
@click.argument("name")
def show_query(name: str) -> None:
    """Print query NAME: its header (parameters, columns) and its Cypher."""
    click.echo(_spec(name).source.rstrip("\n"))


@cypher.command("run")
@click.argument("name", required=False)
@click.option(
    "--query",
    "-q",
    "query_text",
    metavar="TEXT",
    help="Run this ad-hoc Cypher instead of a library query ('-' reads it from stdin).",
)
@click.option(
    "--param",
    "-p",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A parameter, as often as needed: --param adult_id=AD017 --param max_steps=3.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="Aligned table, CSV (header and rows) or JSON (a list of objects); CSV and JSON "
    "cells are made safe to open in a spreadsheet. Young people's names, aliases, dates of "
    "birth and identifiers are withheld in every format.",
)
@click.option(
    "--row-limit",
    type=click.IntRange(1, 10_000_000),
    default=None,
    help=f"The most rows returned [default: {ROW_LIMIT_SETTING} or 10000].",
)
@click.option(
    "--byte-limit",
    type=click.IntRange(1, 1 << 40),
    default=None,
    help=f"The most bytes of result fetched; a row that would pass it is left out "
    f"[default: {BYTE_LIMIT_SETTING} or 33554432 (32 MiB)].",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.001, 86_400),
    default=None,
    help=f"Seconds before the server stops the query [default: {TIMEOUT_SETTING} or 30].",
)
def run(
    name: str | None,
    query_text: str | None,
    params: Sequence[str],
    output_format: str,
    row_limit: int | None,
    byte_limit: int | None,
    timeout: float | None,
) -> None:
    """Run library query NAME with --param KEY=VALUE, or ad-hoc Cypher with --query.

    Library parameters are checked against the query's header (see `cypher show NAME`).
    Ad-hoc parameter values are read as Cypher literals when they are one (3, 2.5, true,
    'text', date('2026-01-01'), ['a', 'b']) and as strings otherwise.
    """
    from graphguard.settings import get_settings
    from graphguard.store.neo4j import connect

    if (name is None) == (query_text is None):
        raise UsageError("give a library query NAME or --query TEXT (one of the two)")
    raw = _parse_params(params)
    spec = _spec(name) if name is not None else None
    if query_text == "-":
        query_text = sys.stdin.read()

    settings = get_settings()
    if not settings.neo4j_uri:
        raise UsageError("NEO4J_URI is not set: point it at the shared Neo4j (see docs/cypher.md)")
    # The reader account when one is configured (docs/deploy.md), else NEO4J_*.
    username, password = settings.query_account()
    options = run_options(settings, timeout=timeout, row_limit=row_limit, byte_limit=byte_limit)
    driver = connect(settings.neo4j_uri, username, password)
    try:
        if spec is not None:
            result = run_library_query(driver, spec, raw, **options)
        else:
            assert query_text is not None
            literal_params = {key: _ad_hoc_value(value) for key, value in raw.items()}
            result = run_query(driver, query_text, literal_params, **options)
        scrubber = young_people_scrubber(driver, settings.neo4j_database)
    finally:
        driver.close()
    click.echo(format_result(without_identities(result, scrubber), output_format), nl=False)
    for notice in result.notices:
        click.echo(f"graphguard: Neo4j notice: {neutral_text(_one_line(notice))}", err=True)
    if result.cut_by_bytes:
        click.echo(
            f"graphguard: showing the first {len(result.rows)} rows only; the next would pass "
            f"the byte limit of {result.byte_limit} bytes (raise it with --byte-limit or "
            f"{BYTE_LIMIT_SETTING})",
            err=True,
        )
    elif result.truncated:
        click.echo(
            f"graphguard: showing the first {result.row_limit} rows only; the result has more "
            f"(raise the limit with --row-limit or {ROW_LIMIT_SETTING})",
            err=True,
        )


def _spec(name: str) -> Any:
    library = load_library()
    if name not in library:
        raise UsageError(f"no library query named {name!r} (see `graphguard cypher list`)")
    return library[name]


def _parse_params(params: Sequence[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in params:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--param {item!r} is not KEY=VALUE")
        if key in values:
            raise UsageError(f"--param {key} is given twice")
        values[key] = value
    return values


def _ad_hoc_value(value: str) -> Any:
    try:
        return parse_literal(value)
    except ValueError:
        return value


def _one_line(text: str) -> str:
    return " ".join(text.split())
