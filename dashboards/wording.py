"""Words on screen: text from the data shown as text, and counts that agree with their noun.

Names, references, notes and explanations come from partner agencies' records, and a
record can hold anything, ``![b](http://…/beacon)`` or ``<img src=…>`` included.
Streamlit renders Markdown (images, links, ``:red[…]`` directives, LaTeX) in titles,
alerts, captions and labels, so every value from the data passes through :func:`plain`
before it is put into one; tables (``st.dataframe``), option lists and the drawings'
tooltips show text as text already.
"""

from __future__ import annotations

import re
import string

__all__ = ["count", "plain", "plain_keeping_code", "plural"]

# CommonMark lets a backslash escape any ASCII punctuation character, and an escaped
# character is always literal: nothing after it can open an image, a link, emphasis,
# code, HTML, a directive or maths.
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")
# Line breaks would let a value start a heading, a list or a rule; bidirectional
# overrides and other control characters would make it read as something it is not.
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+")

# Streamlit's Markdown turns bare web and e-mail addresses into links after the
# escapes are read (GitHub's autolink literals), so a zero-width space goes after the
# scheme or before the "@": the address still reads the same, and is not a link.
_AUTOLINK = re.compile(r"(?i)\b(https?|ftp|www)(?=[:.])|(?=@)")
_ZERO_WIDTH_SPACE = "\u200b"

_IRREGULAR = {"young person": "young people", "person": "people", "child": "children"}


def plain(value: object) -> str:
    r"""``value`` as literal text inside Streamlit Markdown: no markup, one line.

    >>> plain("![b](http://127.0.0.1/beacon)")
    '\\!\\[b\\]\\(http\u200b\\:\\/\\/127\\.0\\.0\\.1\\/beacon\\)'
    >>> plain("www.example.org or jo@example.org").count("\u200b")
    2
    >>> plain("Kestrel House")
    'Kestrel House'
    >>> plain("two\nlines\u202e")
    'two lines'
    """
    return _defuse(_INVISIBLE.sub(" ", str(value)).strip())


def _defuse(text: str) -> str:
    unlinked = _AUTOLINK.sub(lambda m: (m.group(1) or "") + _ZERO_WIDTH_SPACE, text)
    return _PUNCTUATION.sub(r"\\\1", unlinked)


def plain_keeping_code(value: object) -> str:
    r"""Like :func:`plain`, but a `code span` (graphguard's own messages use them) stays one.

    A code span's content is shown literally by Markdown, so it needs no escaping;
    with an odd number of backticks nothing is taken for code.

    >>> plain_keeping_code("run `graphguard neo4j start` for ![b](x)")
    'run `graphguard neo4j start` for \\!\\[b\\]\\(x\\)'
    >>> plain_keeping_code("odd ` tick")
    'odd \\` tick'
    """
    parts = _INVISIBLE.sub(" ", str(value)).strip().split("`")
    if len(parts) % 2 == 0:
        return plain(value)
    return "`".join(part if number % 2 else _defuse(part) for number, part in enumerate(parts))


def plural(number: int, noun: str, many: str | None = None) -> str:
    """``noun`` agreeing with ``number``: the plural is ``many``, else a regular one.

    >>> plural(1, "row"), plural(2, "row"), plural(0, "young person")
    ('row', 'rows', 'young people')
    >>> plural(3, "missing episode"), plural(2, "match", "matches")
    ('missing episodes', 'matches')
    """
    if number == 1:
        return noun
    if many is not None:
        return many
    for singular, irregular in _IRREGULAR.items():
        if noun.endswith(singular):
            return noun[: -len(singular)] + irregular
    return noun + "s"


def count(number: int, noun: str, many: str | None = None) -> str:
    """A number and its noun: ``1 row``, ``2 rows``, ``1 young person``.

    >>> count(1, "missing episode"), count(4, "young person"), count(2, "vehicle")
    ('1 missing episode', '4 young people', '2 vehicles')
    """
    return f"{number} {plural(number, noun, many)}"
