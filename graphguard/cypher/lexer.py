"""A small Cypher lexer: enough to find keywords and read literals, never to execute.

Comments are dropped; string literals, back-quoted names and parameters each become one
token, so a ``;`` or a keyword inside a string is never mistaken for Cypher.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from graphguard.errors import UsageError

__all__ = ["Token", "tokens", "parse_literal", "cypher_literal", "iso_date"]


@dataclass(frozen=True)
class Token:
    """One lexical token of Cypher: enough to find keywords, never to execute."""

    kind: str  # word | name (back-quoted) | string | number | param | punct
    text: str  # the word, the unescaped string or name, the punctuation character
    offset: int  # where it starts in the text
    end: int  # where it ends (exclusive)

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words


_NUMBER = re.compile(r"0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?")
_LINE_BREAK = re.compile("[\r\n\x0b\x0c\x85\u2028\u2029]")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "\\": "\\", "'": "'", '"': '"'}


def tokens(text: str) -> list[Token]:
    """Tokenise Cypher, dropping comments; strings and back-quoted names become one token.

    Raises
    ------
    UsageError
        For an unterminated string, back-quoted name or block comment.
    """
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif text.startswith("//", i):
            # End at any line break the server might honour, so nothing hides after one.
            match = _LINE_BREAK.search(text, i)
            i = n if match is None else match.end()
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise UsageError("the query has an unterminated /* comment")
            i = end + 2
        elif ch in "'\"":
            value, i2 = _read_string(text, i)
            tokens.append(Token("string", value, i, i2))
            i = i2
        elif ch == "`":
            value, i2 = _read_backquoted(text, i)
            tokens.append(Token("name", value, i, i2))
            i = i2
        elif ch == "$":
            j = i + 1
            if j < n and text[j] == "`":
                value, j = _read_backquoted(text, j)
            else:
                while j < n and (text[j].isalnum() or text[j] == "_"):
                    j += 1
                value = text[i + 1 : j]
            tokens.append(Token("param", value, i, j))
            i = j
        elif "0" <= ch <= "9":
            match = _NUMBER.match(text, i)
            assert match is not None
            tokens.append(Token("number", match.group(), i, match.end()))
            i = match.end()
        elif ch.isalpha() or ch == "_":
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            tokens.append(Token("word", text[i:j], i, j))
            i = j
        else:
            tokens.append(Token("punct", ch, i, i + 1))
            i += 1
    return tokens


def _read_string(text: str, start: int) -> tuple[str, int]:
    # Neo4j decodes \uXXXX in the whole query text before it lexes it (so \u0027 can close
    # a string); the guard refuses any \u in a query before it tokenises, so decoding it
    # here only serves parse_literal, whose values are sent as parameters.
    quote, out, i = text[start], [], start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[i + 2 : i + 6]):
                out.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
        elif ch == quote:
            return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    raise UsageError("the query has an unterminated string literal")


def _read_backquoted(text: str, start: int) -> tuple[str, int]:
    out, i = [], start + 1
    while i < len(text):
        if text[i] == "`":
            if text.startswith("``", i):
                out.append("`")
                i += 2
                continue
            return "".join(out), i + 1
        out.append(text[i])
        i += 1
    raise UsageError("the query has an unterminated `back-quoted` name")


def parse_literal(text: str) -> Any:
    """A Python value for a Cypher literal, as written after ``:param name =>``.

    Understands strings, integers, floats, ``true``/``false``/``null``,
    ``date('YYYY-MM-DD')`` and lists of these.

    Raises
    ------
    ValueError
        When ``text`` is not one such literal.

    Examples
    --------
    >>> parse_literal("'AD017'"), parse_literal("3"), parse_literal("['1', '2']")
    ('AD017', 3, ['1', '2'])
    >>> parse_literal("date('2026-06-01')")
    datetime.date(2026, 6, 1)
    """
    try:
        found = tokens(text)
    except UsageError as exc:
        raise ValueError(str(exc)) from None
    value, i = _literal(found, 0)
    if i != len(found):
        raise ValueError(f"unexpected {found[i].text!r} after the value")
    return value


def _literal(tokens: list[Token], i: int) -> tuple[Any, int]:
    if i >= len(tokens):
        raise ValueError("a value is missing")
    token = tokens[i]
    if token.kind == "string":
        return token.text, i + 1
    if token.kind == "punct" and token.text == "-" and i + 1 < len(tokens):
        value, j = _literal(tokens, i + 1)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return -value, j
    if token.kind == "number":
        number = token.text.replace("_", "")
        if re.fullmatch(r"\d+", number):
            return int(number), i + 1
        return float(number), i + 1
    if token.is_word("TRUE", "FALSE"):
        return token.text.upper() == "TRUE", i + 1
    if token.is_word("NULL"):
        return None, i + 1
    if (
        token.is_word("DATE")
        and i + 3 < len(tokens)
        and tokens[i + 1].text == "("
        and tokens[i + 2].kind == "string"
        and tokens[i + 3].text == ")"
    ):
        return iso_date(tokens[i + 2].text), i + 4
    if token.kind == "punct" and token.text == "[":
        items: list[Any] = []
        j = i + 1
        if j < len(tokens) and tokens[j].text == "]":
            return items, j + 1
        while True:
            item, j = _literal(tokens, j)
            items.append(item)
            if j < len(tokens) and tokens[j].text == ",":
                j += 1
            elif j < len(tokens) and tokens[j].text == "]":
                return items, j + 1
            else:
                raise ValueError("a list must end with ]")
    raise ValueError(f"{token.text!r} is not a literal value")


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_date(text: str) -> dt.date:
    if not _ISO_DATE.fullmatch(text.strip()):
        raise ValueError(f"{text!r} is not a date in the form YYYY-MM-DD")
    return dt.date.fromisoformat(text.strip())


def cypher_literal(value: Any) -> str:
    """The Cypher literal for a parameter value (for headers and ``:param`` lines)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return f"date('{value.isoformat()}')"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(cypher_literal(v) for v in value) + "]"
    return repr(value)
