"""Query results as plain Python values, and the graph of the nodes and links they hold."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

from graphguard.errors import UsageError
from graphguard.privacy import (
    YoungPersonScrubber,
    neutral_text,
    safe_cell,
    safe_json,
    withhold_identities,
)

__all__ = [
    "FORMATS",
    "QueryResult",
    "format_result",
    "plain_value",
    "result_graph",
    "without_identities",
    "young_people_scrubber",
]

#: The output formats of a query result.
FORMATS = ("table", "csv", "json")
_CELL_WIDTH = 60


@dataclass(frozen=True)
class QueryResult:
    """The answer to one query, in plain Python values.

    Attributes
    ----------
    columns : list of str
        The result's columns, in order.
    rows : list of dict
        One dict per row, keyed by column.  Nodes become ``{"id", "labels",
        "properties"}`` (``id`` is the entity id), relationships ``{"id", "type",
        "start", "end", "properties"}``, paths alternating lists of those; Neo4j dates,
        times and durations become ISO 8601 strings.
    truncated : bool
        True when rows were left out: the result had more than ``row_limit`` rows, or
        (``cut_by_bytes``) the next row would have passed the byte limit.
    row_limit : int
        The most rows returned.
    elapsed : float
        Seconds from the start of the checks to the last row.
    graph : networkx.MultiDiGraph or None
        The nodes and relationships found anywhere in the rows (keyed by entity id and
        link id), or None when the result holds none.
    query_name : str or None
        The library query's name; None for ad-hoc Cypher.
    notices : tuple of str
        The server's warnings about the query, one line each, such as "The property
        `nme` does not exist. Verify that the spelling is correct. (line 1, column 27)".
    cut_by_bytes : bool
        True when the result was cut at ``byte_limit`` bytes rather than at the row limit
        (a huge row, such as ``RETURN range(1, 20000000)``, is left out whole).
    byte_limit : int or None
        The most bytes of result fetched, when one applied.
    """

    columns: list[str]
    rows: list[dict[str, Any]]
    truncated: bool
    row_limit: int
    elapsed: float
    graph: nx.MultiDiGraph | None = None
    query_name: str | None = None
    notices: tuple[str, ...] = ()
    cut_by_bytes: bool = False
    byte_limit: int | None = None

    def table(self) -> list[list[Any]]:
        """The rows as lists in column order (for CSV writers and data frames)."""
        return [[row.get(column) for column in self.columns] for row in self.rows]


def _node_key(node: Any) -> str:
    value = node.get("id") if len(node) else None
    return str(value) if value is not None else str(node.element_id)


def _relationship_key(relationship: Any) -> str:
    value = relationship.get("link_id") if len(relationship) else None
    return str(value) if value is not None else str(relationship.element_id)


def plain_value(value: Any) -> Any:
    """A JSON-friendly Python value for anything the driver returns."""
    from neo4j.graph import Node, Path, Relationship
    from neo4j.spatial import Point

    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Node):
        return {
            "id": _node_key(value),
            "labels": sorted(value.labels),
            "properties": {k: plain_value(v) for k, v in sorted(value.items())},
        }
    if isinstance(value, Relationship):
        return {
            "id": _relationship_key(value),
            "type": value.type,
            "start": _node_key(value.start_node),
            "end": _node_key(value.end_node),
            "properties": {k: plain_value(v) for k, v in sorted(value.items())},
        }
    if isinstance(value, Path):
        items: list[Any] = [plain_value(value.start_node)]
        for relationship, node in zip(value.relationships, value.nodes[1:], strict=True):
            items += [plain_value(relationship), plain_value(node)]
        return items
    if isinstance(value, Point):
        return {"srid": value.srid, "coordinates": list(value)}
    # Neo4j's temporal types (a Duration is also a tuple) and Python's own
    for method in ("iso_format", "isoformat"):
        to_iso = getattr(value, method, None)
        if callable(to_iso):
            return to_iso()
    if isinstance(value, Mapping):
        return {str(k): plain_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_value(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return value.hex()
    return str(value)


def _native(value: Any) -> Any:
    to_native = getattr(value, "to_native", None)
    if callable(to_native):
        try:
            return to_native()
        except (ValueError, OverflowError):
            return plain_value(value)
    return plain_value(value)


def result_graph(records: list[Any]) -> nx.MultiDiGraph | None:
    """The nodes and relationships found anywhere in the records, as one graph."""
    from neo4j.graph import Node, Path, Relationship

    graph = nx.MultiDiGraph()
    found = False

    def add_node(node: Any) -> None:
        attributes = {k: _native(v) for k, v in node.items() if k != "id"}
        attributes["labels"] = sorted(node.labels)
        key = _node_key(node)
        if key in graph and not len(node):
            return
        graph.add_node(key, **attributes)

    def add_relationship(relationship: Any) -> None:
        for end in (relationship.start_node, relationship.end_node):
            key = _node_key(end)
            if key not in graph:
                add_node(end)
        attributes = {k: _native(v) for k, v in relationship.items()}
        attributes["type"] = relationship.type
        graph.add_edge(
            _node_key(relationship.start_node),
            _node_key(relationship.end_node),
            key=_relationship_key(relationship),
            **attributes,
        )

    def walk(value: Any) -> None:
        nonlocal found
        if isinstance(value, Node):
            found = True
            add_node(value)
        elif isinstance(value, Relationship):
            found = True
            add_relationship(value)
        elif isinstance(value, Path):
            found = True
            for node in value.nodes:
                add_node(node)
            for relationship in value.relationships:
                add_relationship(relationship)
        elif isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    for record in records:
        for value in record.values():
            walk(value)
    return graph if found else None


def young_people_scrubber(driver: Any, database: str | None = None) -> YoungPersonScrubber:
    """A scrubber of young people's identifying values as Neo4j holds them now, ids kept.

    Read at each run, not cached with the data: a query reads the database as it is,
    so a young person loaded a minute ago is withheld too.
    """
    from graphguard.store.base import Filters
    from graphguard.store.neo4j import Neo4jStore

    young = Neo4jStore(driver, database=database).graph(Filters(kinds=frozenset({"young_person"})))
    return YoungPersonScrubber.from_graph(young, ids=False)


def without_identities(result: QueryResult, scrubber: YoungPersonScrubber) -> QueryResult:
    """A copy of ``result`` without young people's identities, for a file or a shared view.

    Young people's nodes lose their identifying properties, and every string — column
    names included — is scrubbed of their names, aliases, dates of birth and
    identifiers (:func:`graphguard.privacy.withhold_identities`).  With a scrubber built
    with ``ids=False``, as the CLI and the dashboard build it, ids stay: they are the
    graph's keys, and no Cypher can turn one into a name.  The graph is dropped (a
    drawing is for the screen).
    """
    columns: list[str] = []
    for column in result.columns:
        name = str(scrubber(column))
        number = 1
        while (name if number == 1 else f"{name} ({number})") in columns:
            number += 1
        columns.append(name if number == 1 else f"{name} ({number})")
    renamed = dict(zip(result.columns, columns, strict=True))
    rows = [
        {renamed.get(k, k): withhold_identities(v, scrubber) for k, v in row.items()}
        for row in result.rows
    ]
    return dataclasses.replace(result, columns=columns, rows=rows, graph=None)


def format_result(result: QueryResult, output_format: str) -> str:
    """The result as text: ``table`` (aligned), ``csv`` or ``json`` (a list of objects).

    CSV cells (the header too) and JSON strings and keys are made safe to open in a
    spreadsheet with :func:`graphguard.privacy.safe_cell`: control and bidirectional
    characters are neutralised, and text starting with ``=``, ``+``, ``-``, ``@``, a tab
    or a carriage return gets a leading apostrophe.  Numbers are left as they are.
    The table's text is neutralised too, so a value cannot drive the terminal.
    Scrubbing young people's identities is the caller's choice
    (:func:`without_identities`), made before formatting.
    """
    if output_format == "json":
        rows = [safe_json(row) for row in result.rows]
        return json.dumps(rows, indent=2, ensure_ascii=False, default=str) + "\n"
    if output_format == "csv":
        buffer = io.StringIO()
        # CRLF line ends (RFC 4180, as graphguard.export writes): a carriage return inside
        # a cell is then quoted, so it cannot start a new row (and a formula) in Excel.
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([safe_cell(column) for column in result.columns])
        for row in result.table():
            writer.writerow([_csv_cell(value) for value in row])
        return buffer.getvalue()
    if output_format == "table":
        return _table(result)
    raise UsageError(f"unknown format {output_format!r} (one of {', '.join(FORMATS)})")


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _is_flat_list(value: Any) -> bool:
    return isinstance(value, list) and not any(isinstance(v, list | dict) for v in value)


def _cell_text(value: Any) -> str:
    """A cell's text: lists of plain values joined by '; ', nodes and paths as JSON."""
    if _is_flat_list(value):
        return "; ".join(_scalar(v) for v in value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return _scalar(value)


def _csv_cell(value: Any) -> str:
    """A CSV cell, safe in a spreadsheet (a number is never a formula, so stays as it is)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _scalar(value)
    return str(safe_cell(_cell_text(value)))



def _table_cell(value: Any) -> str:
    text = ", ".join(_scalar(v) for v in value) if _is_flat_list(value) else _cell_text(value)
    text = neutral_text(" ".join(text.split()))
    return text if len(text) <= _CELL_WIDTH else text[: _CELL_WIDTH - 1] + "…"


def _table(result: QueryResult) -> str:
    cells = [[_table_cell(value) for value in row] for row in result.table()]
    columns = [neutral_text(column) for column in result.columns]
    widths = [
        max([len(column), *(len(row[i]) for row in cells)]) for i, column in enumerate(columns)
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    lines = [line(columns), line(["-" * w for w in widths])]
    lines += [line(row) for row in cells]
    count = len(result.rows)
    more = ""
    if result.truncated:
        more = " (cut at the byte limit)" if result.cut_by_bytes else " (cut at the row limit)"
    lines.append(f"({count} row{'s' if count != 1 else ''}{more}, {result.elapsed:.2f} s)")
    return "\n".join(lines) + "\n"
