"""The query library: headers, parameter specifications and their validation.

Each ``cypher/queries/*.cypher`` file is one query with a ``//`` header (documented in
``docs/cypher.md``); :func:`load_library` reads the folder and :func:`coerce_params`
checks and converts the values a liaison gives.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphguard.cypher.guard import check_read_only_text
from graphguard.cypher.lexer import cypher_literal, iso_date, parse_literal, tokens
from graphguard.errors import GraphguardError, UsageError
from graphguard.paths import cypher_dir

__all__ = [
    "PARAM_TYPES",
    "ParamSpec",
    "QuerySpec",
    "QueryFileError",
    "coerce_params",
    "parse_query",
    "load_library",
    "library_dir",
    "library_reference",
]

#: The parameter types a library header may declare.
PARAM_TYPES: tuple[str, ...] = ("string", "integer", "float", "boolean", "date", "list<string>")


class QueryFileError(UsageError):
    """A library file whose header or text breaks the library format."""


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a library query, as its header declares it.

    ``minimum`` and ``maximum`` bound integer and float parameters (inclusive), for
    values such as a number of steps that the query caps with a fixed upper bound.
    """

    name: str
    type: str
    required: bool
    default: Any = None
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None

    def describe(self) -> str:
        """The header form: ``max_steps integer 1..4 = 3 — how many links away``."""
        text = f"{self.name} {self.type}"
        if self.minimum is not None and self.maximum is not None:
            text += f" {_number(self.minimum)}..{_number(self.maximum)}"
        text += " (required)" if self.required else f" = {cypher_literal(self.default)}"
        return f"{text} — {self.description}" if self.description else text


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


def _coerce(param: ParamSpec, value: Any, query: str) -> Any:
    """``value`` as ``param.type``, or UsageError naming the parameter and what it wanted."""

    def wrong(why: str) -> UsageError:
        return UsageError(
            f"parameter {param.name!r} of {query} must be {_type_phrase(param.type)}: {why}"
        )

    kind = param.type
    if kind == "string":
        if not isinstance(value, str):
            raise wrong(f"got {type(value).__name__} {value!r}")
        result: Any = value
    elif kind == "integer":
        if isinstance(value, str):
            if not re.fullmatch(r"[+-]?\d+", value.strip()):
                raise wrong(f"{value!r} is not a whole number")
            result = int(value.strip())
        elif isinstance(value, int) and not isinstance(value, bool):
            result = value
        else:
            raise wrong(f"got {type(value).__name__} {value!r}")
    elif kind == "float":
        if isinstance(value, str):
            try:
                result = float(value.strip())
            except ValueError:
                raise wrong(f"{value!r} is not a number") from None
        elif isinstance(value, int | float) and not isinstance(value, bool):
            result = float(value)
        else:
            raise wrong(f"got {type(value).__name__} {value!r}")
        if not math.isfinite(result):
            raise wrong(f"{value!r} is not a finite number")
    elif kind == "boolean":
        if isinstance(value, bool):
            result = value
        elif isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            result = value.strip().lower() in _TRUE
        else:
            raise wrong(f"{value!r} is not true/false, yes/no or 1/0")
    elif kind == "date":
        if isinstance(value, dt.datetime):
            raise wrong(f"got a date and time {value!r}")
        if isinstance(value, dt.date):
            result = value
        elif isinstance(value, str):
            try:
                result = iso_date(value)
            except ValueError:
                raise wrong(f"{value!r} is not a date in the form YYYY-MM-DD") from None
        else:
            raise wrong(f"got {type(value).__name__} {value!r}")
    elif kind == "list<string>":
        if isinstance(value, str):
            result = [item.strip() for item in value.split(",") if item.strip()]
        elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            result = list(value)
        else:
            raise wrong(f"got {value!r}")
    else:  # pragma: no cover - parse_query only admits PARAM_TYPES
        raise wrong(f"unknown type {kind}")
    if param.minimum is not None and result < param.minimum:
        raise wrong(f"{result!r} is below the smallest allowed, {_number(param.minimum)}")
    if param.maximum is not None and result > param.maximum:
        raise wrong(f"{result!r} is above the largest allowed, {_number(param.maximum)}")
    return result


def _type_phrase(kind: str) -> str:
    return {
        "string": "a string",
        "integer": "a whole number",
        "float": "a number",
        "boolean": "true or false",
        "date": "a date (YYYY-MM-DD)",
        "list<string>": "a comma-separated list of strings",
    }[kind]


def coerce_params(spec: QuerySpec, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``raw`` against the query's header and return every parameter, typed.

    Parameters
    ----------
    spec : QuerySpec
        The library query.
    raw : mapping
        Values as typed on the command line (strings) or as Python values (from the
        dashboard).  An empty string or None means "not given".

    Returns
    -------
    dict
        Every declared parameter: the given value converted to its type, else its
        default (so the query always receives each ``$parameter``).

    Raises
    ------
    UsageError
        Naming the parameter, for an unknown one, a missing required one, or a value of
        the wrong type or outside the allowed range.
    """
    known = {p.name: p for p in spec.params}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        names = ", ".join(known) or "none"
        raise UsageError(
            f"unknown parameter {unknown[0]!r} for {spec.name} (its parameters: {names})"
        )
    values: dict[str, Any] = {}
    for param in spec.params:
        value = raw.get(param.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if param.required:
                about = f": {param.description}" if param.description else ""
                raise UsageError(
                    f"missing parameter {param.name!r} ({param.type}) for {spec.name}{about}; "
                    f"give it with --param {param.name}=VALUE"
                )
            values[param.name] = param.default
        else:
            values[param.name] = _coerce(param, value, spec.name)
    return values


@dataclass(frozen=True)
class QuerySpec:
    """One library query: its header, its text and where it came from."""

    name: str
    question: str
    params: list[ParamSpec]
    returns: list[str]
    text: str
    path: Path | None = None
    notes: list[str] = field(default_factory=list)
    examples: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    def param(self, name: str) -> ParamSpec:
        for param in self.params:
            if param.name == name:
                return param
        raise KeyError(name)

    def param_lines(self) -> list[str]:
        """The ``:param`` lines that make the query runnable in cypher-shell or Browser."""
        return [f":param {k} => {cypher_literal(v)}" for k, v in self.examples.items()]


_HEADER_KEYS = ("name", "question", "param", "returns", "note")
_HEADER_LINE = re.compile(r"^(?P<key>[a-z]+):\s*(?P<value>.*)$")
_PARAM_EXAMPLE = re.compile(r"^:param\s+(?P<name>[A-Za-z_]\w*)\s*=>\s*(?P<value>.+)$")
_PARAM_DECLARATION = re.compile(
    r"^(?P<name>[A-Za-z_]\w*)\s+(?P<type>list<string>|[a-z]+)"
    r"(?:\s+(?P<min>-?\d+(?:\.\d+)?)\.\.(?P<max>-?\d+(?:\.\d+)?))?"
    r"(?:\s+(?P<required>\(required\)))?"
    r"(?:\s*=\s*(?P<default>.+?))?\s*$"
)
_DESCRIPTION_SEPARATOR = re.compile(r"\s+(?:—|--)\s+")
_QUERY_NAME = re.compile(r"[a-z][a-z0-9_]*")


def parse_query(source: str, path: Path | None = None) -> QuerySpec:
    """Parse one library file: its ``//`` header, then the query.

    The header is the run of ``//`` lines at the top; each is ``// key: value`` with
    key ``name``, ``question``, ``param`` (repeatable), ``returns`` or ``note``
    (repeatable), or ``// :param name => literal``; a line indented by two or more
    spaces after ``//`` continues the line above.  See ``docs/cypher.md``.

    Raises
    ------
    QueryFileError
        Naming the file and line, for a header that breaks the format, a parameter used
        in the query but not declared (or declared and not used), a required parameter
        without a ``:param`` example, or a query that is not read-only Cypher.
    """
    where = str(path) if path is not None else "<query>"

    def fail(line: int | None, why: str) -> QueryFileError:
        return QueryFileError(f"{where}{f':{line}' if line else ''}: {why}")

    lines = source.splitlines()
    fields: dict[str, list[tuple[int, str]]] = {key: [] for key in _HEADER_KEYS}
    examples: dict[str, tuple[int, str]] = {}
    last: list[tuple[int, str]] | None = None
    body_start = len(lines)
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped.startswith("//"):
            if stripped:
                body_start = number - 1
                break
            continue
        content = stripped[2:]
        if not content.strip():
            last = None
            continue
        if content.startswith("   ") and last:
            position, previous = last[-1]
            last[-1] = (position, f"{previous} {content.strip()}")
            continue
        content = content.strip()
        example = _PARAM_EXAMPLE.match(content)
        if example:
            if example["name"] in examples:
                raise fail(number, f":param {example['name']} is given twice")
            examples[example["name"]] = (number, example["value"].strip())
            last = None
            continue
        match = _HEADER_LINE.match(content)
        if not match or match["key"] not in _HEADER_KEYS:
            keys = ", ".join(_HEADER_KEYS)
            raise fail(number, f"not a header line ({keys} or :param): {content!r}")
        last = fields[match["key"]]
        last.append((number, match["value"].strip()))

    for key in ("name", "question", "returns"):
        if len(fields[key]) != 1 or not fields[key][0][1]:
            raise fail(None, f"the header needs exactly one '// {key}:' line")
    name = fields["name"][0][1]
    if not _QUERY_NAME.fullmatch(name):
        raise fail(fields["name"][0][0], f"name {name!r} must be lower_case_with_underscores")
    if path is not None and path.stem != name:
        raise fail(fields["name"][0][0], f"name {name!r} must match the file name {path.name}")

    params = [_parse_param(text, fail, number) for number, text in fields["param"]]
    declared = [p.name for p in params]
    if len(set(declared)) != len(declared):
        raise fail(None, "a parameter is declared twice")

    text = "\n".join(lines[body_start:]).strip()
    if not text:
        raise fail(None, "there is no query after the header")
    try:
        check_read_only_text(text)
    except GraphguardError as exc:
        raise fail(None, f"the query is not read-only Cypher: {exc}") from None
    used = {t.text for t in tokens(text) if t.kind == "param"}
    if undeclared := sorted(used - set(declared)):
        raise fail(None, f"${undeclared[0]} is used but has no '// param:' line")
    if unused := sorted(set(declared) - used):
        raise fail(None, f"parameter {unused[0]!r} is declared but the query never uses it")

    parsed_examples: dict[str, Any] = {}
    for param_name, (number, literal) in examples.items():
        if param_name not in declared:
            raise fail(number, f":param {param_name} is not a declared parameter")
        try:
            parsed_examples[param_name] = parse_literal(literal)
        except ValueError as exc:
            raise fail(number, f":param {param_name}: {exc}") from None
    for param in params:
        if param.required and param.name not in parsed_examples:
            raise fail(None, f"required parameter {param.name!r} needs a ':param' example")

    returns = [column.strip() for column in fields["returns"][0][1].split(",")]
    spec = QuerySpec(
        name=name,
        question=fields["question"][0][1],
        params=params,
        returns=[c for c in returns if c],
        text=text,
        path=path,
        notes=[value for _, value in fields["note"]],
        examples=parsed_examples,
        source=source,
    )
    try:
        coerce_params(spec, parsed_examples)
    except UsageError as exc:
        raise fail(None, f"the :param examples do not fit the header: {exc}") from None
    return spec


def _parse_param(
    text: str, fail: Callable[[int | None, str], QueryFileError], number: int
) -> ParamSpec:
    parts = _DESCRIPTION_SEPARATOR.split(text, maxsplit=1)
    declaration, description = parts[0].strip(), (parts[1].strip() if len(parts) > 1 else "")
    match = _PARAM_DECLARATION.match(declaration)
    if not match:
        raise fail(
            number,
            f"cannot read the parameter {text!r} (NAME TYPE [MIN..MAX] "
            "(required) | = DEFAULT — description)",
        )
    kind = match["type"]
    if kind not in PARAM_TYPES:
        raise fail(number, f"unknown type {kind!r} (one of {', '.join(PARAM_TYPES)})")
    required = match["required"] is not None
    has_default = match["default"] is not None
    if required == has_default:
        raise fail(
            number,
            f"parameter {match['name']!r} must say either (required) or "
            "= DEFAULT (= null for an optional filter)",
        )
    minimum = float(match["min"]) if match["min"] is not None else None
    maximum = float(match["max"]) if match["max"] is not None else None
    if minimum is not None and kind not in ("integer", "float"):
        raise fail(number, f"only numbers can have a range, not {kind}")
    param = ParamSpec(match["name"], kind, required, None, description, minimum, maximum)
    if has_default:
        try:
            default = parse_literal(match["default"])
        except ValueError as exc:
            raise fail(number, f"default of {param.name!r}: {exc}") from None
        if default is not None:
            try:
                default = _coerce(param, default, "the header")
            except UsageError as exc:
                raise fail(number, str(exc)) from None
        param = ParamSpec(param.name, kind, False, default, description, minimum, maximum)
    return param


def library_dir() -> Path:
    """The library folder: ``cypher/queries`` (``GRAPHGUARD_CYPHER_DIR`` moves ``cypher/``)."""
    return cypher_dir() / "queries"


def load_library(folder: Path | None = None) -> dict[str, QuerySpec]:
    """Every ``*.cypher`` query of ``folder`` (default :func:`library_dir`), by name, sorted.

    Raises
    ------
    QueryFileError
        For the first file that breaks the library format.
    UsageError
        When the folder does not exist.
    """
    folder = folder or library_dir()
    if not folder.is_dir():
        raise UsageError(f"the Cypher library folder {folder} does not exist")
    library: dict[str, QuerySpec] = {}
    for path in sorted(folder.glob("*.cypher")):
        spec = parse_query(path.read_text(encoding="utf-8"), path)
        library[spec.name] = spec
    return library


def library_reference(library: Mapping[str, QuerySpec]) -> str:
    """The Markdown reference of ``library``, as ``docs/cypher.md`` holds it.

    One section per query: its question, parameters, columns, notes and the ``:param``
    lines that make it runnable in cypher-shell or Neo4j Browser.
    """
    parts: list[str] = []
    for spec in library.values():
        lines = [f"### `{spec.name}`", "", spec.question, ""]
        if spec.params:
            lines += ["| parameter | type | default | meaning |", "|---|---|---|---|"]
            for param in spec.params:
                kind = param.type.replace("<", "&lt;").replace(">", "&gt;")
                if param.minimum is not None and param.maximum is not None:
                    kind += f" ({_number(param.minimum)}..{_number(param.maximum)})"
                default = "required" if param.required else f"`{cypher_literal(param.default)}`"
                lines.append(f"| `{param.name}` | {kind} | {default} | {param.description} |")
        else:
            lines.append("No parameters.")
        lines += ["", "Returns: " + ", ".join(f"`{c}`" for c in spec.returns) + "."]
        if spec.notes:
            lines.append("")
            lines += [f"- {note}" for note in spec.notes]
        if spec.examples:
            lines += ["", "```", *spec.param_lines(), "```"]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"
