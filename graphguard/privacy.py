"""What of a young person may leave graphguard: the one place that decides.

Every export, download and shared view goes through these functions; the CLI and the
dashboard call them alike and never copy them.

* **Pseudonyms.** :func:`pseudonym` turns a young person's id into a keyed HMAC-SHA256
  pseudonym (``YP-3f9c1a2b7d``): stable for the same key, so a disruption team can
  refer to the same child across exports, and without the key an id can be neither
  recovered nor confirmed by guessing.
* **Scrubbing.** :class:`YoungPersonScrubber` finds every identifying value of every
  young person — id, name, aliases, date of birth (as it is commonly written), phone,
  e-mail, NHS number, UPN, PNC id, and any other identifier column
  (:func:`is_identifying`) — **anywhere** in a text: inside a reference
  (``INT-2026-00540-YP003``), glued to other words (``CarsYP001``), in any letter case,
  with any separators (``ada_byron``, ``07700 900 123``), accents or full-width forms.
  Text and values are compared as their *skeletons* (letters and digits only, case-
  and accent-folded) with one compiled trie-shaped pattern (one pass, cost independent
  of how many young people there are), longest value first, overlaps merged; dates of
  birth are found by how dates are written (``2010-03-14``, ``14/03/2010``,
  ``14 March 2010``, ``20100314`` …) and compared as days.  Two
  rules keep ordinary text readable: a run of digits is never split (``YP1`` is not
  found in ``YP10``, a date of birth is not found inside a longer number), and a
  name or alias of fewer than :data:`MIN_ANYWHERE` letters and digits (``Ed``,
  ``Red``) is found only as a whole word.
* **Neutral text.** :func:`neutral_text` turns control and bidirectional-override
  characters into visible ``[U+202E]`` marks; :func:`safe_cell` also makes text that a
  spreadsheet would run as a formula start with an apostrophe.
* **What a view may show.** :func:`withhold_identities` takes young people's identities
  out of any value (query results, tables); :func:`disclosed` applies the rule: names
  only on screen, when the analyst asked for them, and never in a file.
* **What a role may see.** :func:`sight_of` reads an identity's row of the access
  matrix as a :class:`Sight` (every record; the shareable view without handling code
  C; or its own agency's records and what others share), and :func:`role_view` cuts a
  graph down to it *before* any analysis, so every score is computed on what the role
  may see, never on evidence it is not shown.  The CLI and the dashboard both use them.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import networkx as nx

from graphguard.collector import collector_paused
from graphguard.errors import RefusedError, UsageError

if TYPE_CHECKING:
    from graphguard.access import Identity

__all__ = [
    "EVERYTHING",
    "IDENTIFYING_PROPERTIES",
    "MIN_ANYWHERE",
    "PLACEHOLDER",
    "SHAREABLE",
    "Sight",
    "YoungPersonScrubber",
    "disclosed",
    "identifying_values",
    "is_identifying",
    "neutral_text",
    "pseudonym",
    "role_view",
    "safe_cell",
    "safe_json",
    "safe_slugs",
    "scrub_graph",
    "sight_of",
    "skeleton",
    "subjects_of",
    "withhold_handling_c",
    "withhold_identities",
    "withhold_unseen",
]

#: What replaces a young person's identifying value found in any exported text.
PLACEHOLDER = "[young person]"

#: A young person's properties that identify them (besides their id), by name.
IDENTIFYING_PROPERTIES: frozenset[str] = frozenset(
    {
        "name",
        "aliases",
        "date_of_birth",
        "postcode",
        "phone",
        "email",
        "nhs_number",
        "upn",
        "pnc_id",
        "address",
    }
)

#: Other columns read as identifiers by their names: ``social_care_id``, ``ni_number``,
#: ``case_ref``, ``known_as``, ``surname``, ``mobile``, ``dob`` …
_IDENTIFIER_NAME = re.compile(
    r"(?:^|_)(?:id|ids|number|no|ref|reference|identifier|name|names|surname|forename|"
    r"alias|aliases|nickname|known_as|dob|birth|phone|mobile|email|address)$"
)

#: Names and aliases shorter than this (in letters and digits) match whole words only.
MIN_ANYWHERE = 4

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Bidirectional embeddings, overrides and isolates (the "Trojan Source" characters,
# CVE-2021-42574), the implicit marks, C0 controls but tab and newline, DEL and C1.
_UNSAFE_CHARACTERS = re.compile(
    "[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\x00-\x08\x0b-\x1f\x7f-\x9f]"
)
_LINE_BREAKS = re.compile("\r\n?|[\u2028\u2029\x85]")

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]")
_NOT_ASCII_ALNUM = re.compile(r"[^A-Za-z0-9]+")
_WORD = re.compile(r"[^\W_]+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH_NAME = "|".join(f"{m[:3]}(?:{m[3:]})?" for m in _MONTHS) + "|Sept"
_GAP = r"[\s.,/_-]"
#: A date as people write one: 2010-03-14, 14/03/2010 (or 03/14/2010), 14.3.2010,
#: 20100314, 14032010, 14 March 2010, 14th of Mar 2010, March 14th, 2010 — never inside
#: a longer number.  In a look-ahead, so overlapping candidates are all tried.
_DATE_IN_TEXT = re.compile(
    r"(?<!\d)(?=(?P<date>"
    rf"(?P<iy>\d{{4}}){_GAP}{{1,3}}(?P<im>\d{{1,2}}){_GAP}{{1,3}}(?P<id>\d{{1,2}})"
    rf"|(?P<na>\d{{1,2}}){_GAP}{{1,3}}(?P<nb>\d{{1,2}}){_GAP}{{1,3}}(?P<ny>\d{{4}})"
    r"|(?P<eight>\d{8})"
    rf"|(?P<td>\d{{1,2}})(?:st|nd|rd|th)?{_GAP}*(?:of\s+)?(?P<tm>{_MONTH_NAME})\.?{_GAP}*"
    r"(?P<ty>\d{4})"
    rf"|(?P<um>{_MONTH_NAME})\.?{_GAP}*(?P<ud>\d{{1,2}})(?:st|nd|rd|th)?{_GAP}*(?P<uy>\d{{4}})"
    r")(?!\d))",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------- pseudonyms


def pseudonym(young_person_id: str, key: bytes, prefix: str = "YP") -> str:
    """A keyed, stable pseudonym for a young person's id.

    The same id and key always give the same pseudonym; without the key the id
    cannot be recovered or confirmed by guessing.

    >>> pseudonym("YP014", b"k")
    'YP-c7bf1db98d'
    >>> pseudonym("YP014", b"k") != pseudonym("YP014", b"other key")
    True
    """
    digest = hmac.new(key, young_person_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{prefix}-{digest[:10]}"


# --------------------------------------------------------------------------- neutral text


def neutral_text(text: str) -> str:
    """``text`` with control and bidirectional-override characters made visible and inert.

    A right-to-left override (U+202E) and its kin can make ``exe.txt`` read as
    ``txt.exe`` or reorder a whole cell; other control characters (an escape starts a
    terminal command, NUL breaks readers) have no business in a cell either.  Each
    becomes a visible ``[U+XXXX]`` mark; line breaks (CR LF, CR, U+2028) become a
    newline, and tab and newline stay.

    >>> neutral_text("invoice\\u202eFDP.exe")
    'invoice[U+202E]FDP.exe'
    >>> neutral_text("line one\\r\\nline two\\x1b[2J")
    'line one\\nline two[U+001B][2J'
    """
    text = _LINE_BREAKS.sub("\n", text)
    return _UNSAFE_CHARACTERS.sub(lambda m: f"[U+{ord(m.group(0)):04X}]", text)


def safe_cell(value: object) -> object:
    """A value safe in a spreadsheet cell: neutral text, and never a formula.

    Text has control and bidirectional characters neutralised (:func:`neutral_text`),
    and text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (OWASP
    CSV injection) gets a leading apostrophe, which Excel and LibreOffice show as
    text.  Numbers pass as they are.

    >>> safe_cell('=HYPERLINK("http://x")')
    '\\'=HYPERLINK("http://x")'
    >>> safe_cell(-3)
    -3
    """
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_STARTS):
        value = "'" + value
    return neutral_text(value)



def safe_json(value: Any) -> Any:
    """``value`` with every string in it, keys included, made safe by :func:`safe_cell`.

    JSON is often pasted into spreadsheets, so its strings are treated as cells.

    >>> safe_json({"=k": ["+1", 2]})
    {"'=k": ["'+1", 2]}
    """
    if isinstance(value, list):
        return [safe_json(v) for v in value]
    if isinstance(value, dict):
        return {safe_cell(k): safe_json(v) for k, v in value.items()}
    return safe_cell(value)


# --------------------------------------------------------------------------- skeletons


@functools.lru_cache(maxsize=8192)
def _fold(character: str) -> str:
    """A character's letters and digits: compatibility-decomposed, accents dropped, folded."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", character).casefold())
    return "".join(c for c in folded if c.isalnum())


def skeleton(text: str) -> str:
    """The letters and digits of ``text``, case- and accent-folded: what scrubbing compares.

    >>> skeleton("Zoë  O'NEILL-Smith")
    'zoeoneillsmith'
    >>> skeleton("ＹＰ００３")
    'yp003'
    """
    if text.isascii():
        return _NOT_ASCII_ALNUM.sub("", text).lower()
    return "".join(_fold(c) for c in text)


def _skeleton_with_positions(text: str) -> tuple[str, list[int]]:
    """The skeleton, and for each of its characters the index in ``text`` it came from."""
    if text.isascii():
        return _NOT_ASCII_ALNUM.sub("", text).lower(), [
            m.start() for m in _ASCII_ALNUM.finditer(text)
        ]
    characters: list[str] = []
    positions: list[int] = []
    for index, character in enumerate(text):
        folded = _fold(character)
        if folded:
            characters.append(folded)
            positions.extend([index] * len(folded))
    return "".join(characters), positions


# --------------------------------------------------------------------------- identifying values


def is_identifying(property_name: str) -> bool:
    """Whether a person's property (or input column) identifies them.

    >>> [is_identifying(p) for p in ("name", "aliases", "lccis_id", "ni_number", "area")]
    [True, True, True, True, False]
    """
    name = property_name.removeprefix("extra_").strip().lower()
    return name in IDENTIFYING_PROPERTIES or bool(_IDENTIFIER_NAME.search(name))


def _date(year: str, month: str, day: str) -> dt.date | None:
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None


def _iso_date(text: str) -> dt.date | None:
    if not _ISO_DATE.fullmatch(text):
        return None
    return _date(text[:4], text[5:7], text[8:])


def _month(name: str) -> int:
    return [m[:3] for m in _MONTHS].index(name[:3].title()) + 1


def _dates_in(text: str) -> Iterator[tuple[int, int, set[dt.date]]]:
    """Every date written in ``text``: ``(start, end, the days it may mean)``."""
    for match in _DATE_IN_TEXT.finditer(text):
        g = match.groupdict()
        days: set[dt.date | None] = set()
        if g["iy"]:
            days.add(_date(g["iy"], g["im"], g["id"]))
        elif g["na"]:  # day first, as in the UK, or month first, as in the US
            days |= {_date(g["ny"], g["nb"], g["na"]), _date(g["ny"], g["na"], g["nb"])}
        elif g["eight"]:
            eight = g["eight"]
            days |= {
                _date(eight[:4], eight[4:6], eight[6:]),
                _date(eight[4:], eight[2:4], eight[:2]),
            }
        elif g["td"]:
            days.add(_date(g["ty"], str(_month(g["tm"])), g["td"]))
        else:
            days.add(_date(g["uy"], str(_month(g["um"])), g["ud"]))
        found = {day for day in days if day is not None}
        if found:
            yield match.start("date"), match.end("date"), found


def _values(value: Any) -> Iterator[str]:
    """The text forms of one property's value (aliases split on ``;``, dates as ISO 8601)."""
    if value is None or isinstance(value, bool | float):
        return
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        yield value.isoformat()
        return
    if isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _values(item)
        return
    text = str(value).strip()
    yield text
    if ";" in text:
        yield from (part.strip() for part in text.split(";"))
    if text.startswith("+44"):
        yield "0" + text[3:]  # a UK number as written at home


def identifying_values(
    young_person_id: str, attributes: Mapping[str, Any], *, ids: bool = True
) -> dict[str, bool]:
    """Every identifying value of one young person, each with whether it is their id.

    >>> values = identifying_values("YP1", {"name": "Ada Byron", "area": "Docks"})
    >>> sorted(values.items())
    [('Ada Byron', False), ('Byron Ada', False), ('YP1', True)]
    """
    found: dict[str, bool] = {}
    for key, value in attributes.items():
        if not is_identifying(str(key)):
            continue
        for text in _values(value):
            if text and text != young_person_id:
                found.setdefault(text, False)
                parts = text.split()
                if key == "name" and len(parts) > 1:
                    # Records write a name surname first too ("BYRON, Ada", "Byron Ada").
                    found.setdefault(" ".join([parts[-1], *parts[:-1]]), False)
    if ids:
        found[young_person_id] = True
    return found


# --------------------------------------------------------------------------- the matcher


def _trie_pattern(words: list[str]) -> str:
    """One regular expression matching any of ``words`` (sorted, unique), longest first.

    Words sharing a prefix share a branch, so the engine tries a handful of characters
    at each position however many words there are.
    """

    def branch(low: int, high: int, depth: int) -> str:
        if high - low == 1:
            return re.escape(words[low][depth:])
        whole = len(words[low]) == depth  # sorted: the word that ends here comes first
        start = low + 1 if whole else low
        parts = []
        while start < high:
            character = words[start][depth]
            end = start + 1
            while end < high and words[end][depth] == character:
                end += 1
            parts.append(re.escape(character) + branch(start, end, depth + 1))
            start = end
        body = parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"
        return f"(?:{body})?" if whole else body

    return branch(0, len(words), 0)


@functools.lru_cache(maxsize=4)
def _compiled(words: frozenset[str]) -> re.Pattern[str] | None:
    """The overlapping-match pattern of a set of skeletons (kept: compiling costs most)."""
    if not words:
        return None
    pattern = f"(?=({_trie_pattern(sorted(words))}))"
    # Parsing a pattern of some 50k values makes a million short-lived objects; the
    # cyclic collector would scan the whole heap (a loaded graph) again and again for
    # nothing, which doubles the time.
    with collector_paused():
        return re.compile(pattern)


class YoungPersonScrubber:
    """Replaces every identifying value of every young person, anywhere in a text.

    Parameters
    ----------
    young_people : mapping of str to mapping
        Each young person's id and attributes (node attributes, or Neo4j properties).
        Identifying attributes are chosen by :func:`is_identifying`.
    ids : bool, default True
        Whether ids count as identifying.  Query results for the police liaison keep
        ids (the graph's keys) and lose names and dates of birth.
    replace_id : callable, optional
        What an id found alone becomes (say its :func:`pseudonym`); every other value,
        and an id without ``replace_id``, becomes :data:`PLACEHOLDER`.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("YP1", kind="person", role="young_person", name="Ada Byron")
    >>> scrub = YoungPersonScrubber.from_graph(g)
    >>> scrub("INT-2026-00540-YP1; seen with ADA_BYRON; Cars YP1x; YP10")
    'INT-2026-00540-[young person]; seen with [young person]; Cars [young person]x; YP10'
    """

    def __init__(
        self,
        young_people: Mapping[str, Mapping[str, Any]],
        *,
        ids: bool = True,
        replace_id: Callable[[str], str] | None = None,
    ) -> None:
        self.replace_id = replace_id
        #: skeleton -> the ids of the young people it identifies, and whether it is an id
        self._owners: dict[str, tuple[frozenset[str], bool]] = {}
        #: dates of birth (and any other identifying date), found by how dates are written
        self._dates: set[dt.date] = set()
        anywhere: set[str] = set()
        words: set[str] = set()
        for person, attributes in young_people.items():
            for value, is_id in identifying_values(str(person), attributes, ids=ids).items():
                day = _iso_date(value) if not is_id else None
                if day is not None:
                    self._dates.add(day)
                    continue
                folded = skeleton(value)
                if not folded:
                    continue
                owners, was_id = self._owners.get(folded, (frozenset(), True))
                self._owners[folded] = (owners | {str(person)}, was_id and is_id)
                (anywhere if is_id or len(folded) >= MIN_ANYWHERE else words).add(folded)
        # Every written date holds its year: texts without one of these skip the date search.
        self._years = re.compile("|".join(sorted({str(day.year) for day in self._dates})))
        self._words = frozenset(words)
        self._anywhere = frozenset(anywhere)
        self._pattern = _compiled(self._anywhere)
        # Short names and aliases, as whole words of an ASCII text (others are folded).
        self._short = (
            re.compile(
                r"(?<![^\W_])(?:" + "|".join(map(re.escape, sorted(words))) + r")(?![^\W_])",
                re.IGNORECASE,
            )
            if words
            else None
        )

    @classmethod
    def from_graph(cls, graph: nx.MultiDiGraph, **options: Any) -> YoungPersonScrubber:
        """A scrubber of the young people of a graph (nodes with ``role`` young_person)."""
        return cls(
            {
                str(node): data
                for node, data in graph.nodes(data=True)
                if data.get("role") == "young_person"
            },
            **options,
        )

    def __len__(self) -> int:
        """How many distinct identifying values (skeletons and dates) it looks for."""
        return len(self._owners) + len(self._dates)

    def _spans(self, text: str) -> list[tuple[int, int, str]]:
        """``(start, end, found skeleton)`` of every identifying value in ``text``."""
        spans: list[tuple[int, int, str]] = []
        ascii_text = text.isascii()
        if self._pattern is not None:
            # Most texts hold no value: their skeleton is searched once, and the map back
            # to the text's own positions is only made for those that do.
            folded = _NOT_ASCII_ALNUM.sub("", text).lower() if ascii_text else None
            if folded is None or self._pattern.search(folded):
                folded, positions = _skeleton_with_positions(text)
                for match in self._pattern.finditer(folded):
                    start, found = match.start(), match.group(1)
                    found = self._whole_digits(text, positions, start, found)
                    if found:
                        first, last = positions[start], positions[start + len(found) - 1]
                        spans.append((first, last + 1, found))
        if self._dates and self._years.search(text):
            for start, end, days in _dates_in(text):
                if days & self._dates:
                    spans.append((start, end, ""))
        if self._short is not None and ascii_text:
            for word in self._short.finditer(text):
                spans.append((word.start(), word.end(), word.group(0).lower()))
        elif self._short is not None:
            for word in _WORD.finditer(text):
                found = skeleton(word.group(0))
                if found in self._words:
                    spans.append((word.start(), word.end(), found))
        return spans

    def _whole_digits(self, text: str, positions: list[int], start: int, found: str) -> str:
        """The longest of ``found`` and its prefixes that splits no run of digits, or ''."""
        before = positions[start] - 1
        if found[0].isdigit() and before >= 0 and text[before].isdigit():
            return ""
        for size in range(len(found), 0, -1):
            candidate = found[:size]
            if size < len(found) and candidate not in self._anywhere:
                continue
            after = positions[start + size - 1] + 1
            if not (candidate[-1].isdigit() and after < len(text) and text[after].isdigit()):
                return candidate
        return ""

    def __call__(self, text: str) -> str:
        """``text`` with every identifying value replaced."""
        spans = sorted(self._spans(text))
        if not spans:
            return text
        merged: list[list[Any]] = []
        for start, end, found in spans:
            if merged and start < merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
                merged[-1][2].add(found)
            else:
                merged.append([start, end, {found}])
        pieces = []
        cursor = 0
        for start, end, found_set in merged:
            pieces += [text[cursor:start], self._replacement(found_set)]
            cursor = end
        pieces.append(text[cursor:])
        return "".join(pieces)

    def _replacement(self, found: set[str]) -> str:
        if self.replace_id is None or len(found) != 1:
            return PLACEHOLDER
        owners, is_id = self._owners.get(next(iter(found)), (frozenset(), False))
        if is_id and len(owners) == 1:
            return self.replace_id(next(iter(owners)))
        return PLACEHOLDER

    def scrub(self, value: Any) -> Any:
        """``value`` with every string in it scrubbed (lists, tuples, dict values; keys stay).

        A number whose digits are an identifying value (an NHS number as an integer)
        becomes the placeholder text.
        """
        if isinstance(value, str):
            return self(value)
        if isinstance(value, Mapping):
            return {k: self.scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub(v) for v in value]
        if isinstance(value, int) and not isinstance(value, bool):
            text = str(value)
            return value if self(text) == text else self(text)
        return value


def safe_slugs(texts: Mapping[str, str], scrubber: YoungPersonScrubber) -> dict[str, str]:
    """A readable, unique slug for each text, made after scrubbing it.

    An id derived from free text (a business from its operator's name) can then never
    carry a young person's identifying value; two texts whose scrubbed slugs meet get
    ``-2``, ``-3`` … in the order of their keys.

    >>> import networkx as nx
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("YP001", role="young_person")
    >>> safe_slugs({"a": "Cars YP001", "b": "Cars yp-001", "c": "Marsh Cars"},
    ...            YoungPersonScrubber.from_graph(g))
    {'a': 'cars-young-person', 'b': 'cars-young-person-2', 'c': 'marsh-cars'}
    """
    slugs: dict[str, str] = {}
    taken: set[str] = set()
    for key in sorted(texts):
        base = re.sub(r"[^a-z0-9]+", "-", scrubber(texts[key]).lower()).strip("-") or "unnamed"
        slug, number = base, 1
        while slug in taken:
            number += 1
            slug = f"{base}-{number}"
        taken.add(slug)
        slugs[key] = slug
    return slugs


# --------------------------------------------------------------------------- what a view shows


def withhold_handling_c(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A copy of ``graph`` without the links of handling code C (police only).

    What a shareable pack or measure is computed on, so nothing in it rests on, cites
    or draws such a record.
    """
    shareable = graph.copy()
    shareable.remove_edges_from(
        [(s, t, k) for s, t, k, d in graph.edges(keys=True, data=True) if d.get("handling") == "C"]
    )
    return shareable


def scrub_graph(
    graph: nx.MultiDiGraph, scrubber: YoungPersonScrubber | None = None
) -> nx.MultiDiGraph:
    """A copy of ``graph`` whose texts name no young person: what a screen may show.

    Every text of every link and entity — a place named for a household ("12 Dock Row
    (Byron household)"), an operator, an area, a reference, a note — is scrubbed of
    young people's identifying values, except young people's own identifying
    properties, kept so that reveal and every later scrubber still know them.  Ids stay
    (the graph's keys; ``scrubber`` defaults to one built with ``ids=False``).

    >>> g = nx.MultiDiGraph()
    >>> g.add_node("YP1", role="young_person", name="Ada Byron")
    >>> g.add_node("L2", kind="location", name="Ada Byron's flat")
    >>> scrub_graph(g).nodes["L2"]["name"], scrub_graph(g).nodes["YP1"]["name"]
    ("[young person]'s flat", 'Ada Byron')
    """
    scrubber = scrubber or YoungPersonScrubber.from_graph(graph, ids=False)
    shown = graph.copy()

    def clean(data: dict[str, Any], young: bool) -> None:
        for name, value in data.items():
            if young and (name == "id" or is_identifying(name)):
                continue
            if isinstance(value, str | list | tuple):
                data[name] = scrubber.scrub(value)

    for _, data in shown.nodes(data=True):
        clean(data, _is_young(data))
    for _, _, data in shown.edges(data=True):
        clean(data, False)
    return shown


def withhold_identities(value: Any, scrubber: YoungPersonScrubber) -> Any:
    """``value`` without young people's identities: for files and for views without names.

    A young person's node (a mapping whose ``labels`` hold ``YoungPerson``, as query
    results carry nodes) loses its identifying properties (all but ``id``); every
    string left, anywhere, is scrubbed.

    >>> import networkx as nx
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("YP1", role="young_person", name="Ada Byron", date_of_birth="2010-03-14")
    >>> scrub = YoungPersonScrubber.from_graph(g, ids=False)
    >>> rows = [{"y": {"id": "YP1", "labels": ["YoungPerson"],
    ...                "properties": {"id": "YP1", "name": "Ada Byron", "area": "Docks"}},
    ...          "who": "ADA BYRON", "born": "14/03/2010", "n": 3}]
    >>> withhold_identities(rows, scrub)[0]
    {'y': {'id': 'YP1', 'labels': ['YoungPerson'], 'properties': {'id': 'YP1', 'area': 'Docks'}}, \
'who': '[young person]', 'born': '[young person]', 'n': 3}
    """
    if isinstance(value, Mapping):
        young = "YoungPerson" in (value.get("labels") or ())
        out: dict[Any, Any] = {}
        for key, inner in value.items():
            if young and key == "properties" and isinstance(inner, Mapping):
                inner = {k: v for k, v in inner.items() if k == "id" or not is_identifying(k)}
            out[key] = withhold_identities(inner, scrubber)
        return out
    if isinstance(value, list | tuple):
        return [withhold_identities(v, scrubber) for v in value]
    return scrubber.scrub(value)


def disclosed(value: Any, scrubber: YoungPersonScrubber, *, names_shown: bool = False) -> Any:
    """What of ``value`` a view may show: all of it only on screen with names shown.

    Names are shown to an analyst who asked for them in the dashboard; a file, a
    download or a view without names gets :func:`withhold_identities`.
    """
    return value if names_shown else withhold_identities(value, scrubber)


# --------------------------------------------------------------------------- who was disclosed


def _is_young(attributes: Mapping[str, Any]) -> bool:
    return attributes.get("role") == "young_person" or "YoungPerson" in (
        attributes.get("labels") or ()
    )


def subjects_of(
    entities: Mapping[str, Mapping[str, Any]] | nx.MultiDiGraph | None,
    key: bytes,
    *,
    only: Iterable[str] | None = None,
) -> list[str]:
    """Whom a disclosure names, for its audit line's ``subjects``: sorted entity keys.

    Adults, locations and vehicles by their entity id; young people by
    :func:`pseudonym` only, so the audit log never holds a child's id.  ``entities``
    is a graph (its nodes) or a mapping of id to attributes; ``only`` keeps the ids
    shown, when a page shows some of them.

    >>> g = nx.MultiDiGraph()
    >>> g.add_node("YP1", role="young_person")
    >>> g.add_node("AD1", role="adult")
    >>> subjects_of(g, b"k")
    ['AD1', 'YP-65d6d0a29e']
    """
    if entities is None:
        return []
    nodes: Mapping[str, Mapping[str, Any]] = (
        entities.nodes if isinstance(entities, nx.MultiDiGraph) else entities
    )
    wanted = nodes if only is None else [e for e in only if e in nodes]
    return sorted(
        pseudonym(str(e), key) if _is_young(nodes[e]) else str(e) for e in wanted
    )


# --------------------------------------------------------------------------- what a role sees


@dataclass(frozen=True)
class Sight:
    """Which records a role sees: all, the shareable view, or its agency's and the shareable.

    ``handling_c`` is whether links of handling code C are seen at all; ``agency``, when
    set, limits them to that agency's own (other agencies' links are seen when they
    are shareable, that is not of handling code C).  Frozen and small, so the
    dashboard keys its caches by it: one analysis per view, not per user.
    """

    handling_c: bool = True
    agency: str | None = None

    @property
    def key(self) -> str:
        """A short name of the view: ``all``, ``shareable`` or ``agency:police``."""
        if self.agency is not None:
            return f"agency:{self.agency}"
        return "all" if self.handling_c else "shareable"

    def sees(self, link: Mapping[str, Any]) -> bool:
        """Whether a link (its attributes) is in this view."""
        if link.get("handling") != "C":
            return True
        if self.agency is not None:
            return _folded_agency(link.get("agency")) == self.agency
        return self.handling_c


#: What the analyst and the police liaison see: every record.
EVERYTHING = Sight()
#: The shareable view: every record but those of handling code C.
SHAREABLE = Sight(handling_c=False)


def _folded_agency(value: Any) -> str | None:
    text = str(getattr(value, "value", value) or "").strip().lower()
    return text or None


def sight_of(identity: Identity) -> Sight:
    """What of the records ``identity``'s role sees (its row of the access matrix).

    Raises
    ------
    RefusedError
        For a role that sees no personal data (administrator), and for a partner
        practitioner without an agency (``GRAPHGUARD_AGENCY``, or the identity
        provider's agency claim): whose records are "its own" is then unknown.
    UsageError
        For a partner practitioner whose agency is none the data knows (a typo would
        otherwise quietly show it only what others share).
    """
    from graphguard.access import Permission, Scope

    scope = identity.row.scope
    if scope is Scope.NONE:
        raise RefusedError(
            f"{identity.user} ({identity.role.spoken}) may not see personal data "
            "(docs/access.md)"
        )
    if scope is Scope.OWN_AGENCY:
        agency = _folded_agency(identity.agency)
        if agency is None:
            raise RefusedError(
                f"{identity.user} ({identity.role.spoken}) sees its own agency's records, "
                "but no agency is set: set GRAPHGUARD_AGENCY (or the identity provider's "
                "agency claim)"
            )
        from graphguard.model import Agency

        known = [a.value for a in Agency]
        if agency not in known:
            raise UsageError(
                f"{identity.user}'s agency {identity.agency!r} is not an agency of the data "
                f"({', '.join(known)}): set GRAPHGUARD_AGENCY (or the agency claim) to one"
            )
        return Sight(handling_c=False, agency=agency)
    if identity.may(Permission.SEE_HANDLING_C):
        return EVERYTHING
    return SHAREABLE


def role_view(graph: nx.MultiDiGraph, sight: Sight) -> nx.MultiDiGraph:
    """What of ``graph`` a role with ``sight`` may see: the graph its analysis runs on.

    Links outside the sight are taken out, and so is an adult, place or vehicle that
    only they linked (who it is would be disclosed by the withheld record alone).
    Young people all stay: they are shown by pseudonym only, and every scrubber built
    from the view must still know each of them, whatever text mentions them.
    Analysing the result recomputes every score on what the role may see.  ``graph``
    itself is returned when nothing is withheld; otherwise a copy (``graph`` is never
    changed).

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_nodes_from(["YP1", "YP2"], role="young_person")
    >>> g.add_edge("AD1", "YP1", handling="C", agency="police")
    0
    >>> g.add_edge("AD2", "YP1", handling="P", agency="education")
    0
    >>> g.add_edge("AD1", "YP2", handling="C", agency="police")
    0
    >>> sorted(role_view(g, Sight(handling_c=False)).nodes)
    ['AD2', 'YP1', 'YP2']
    >>> role_view(g, Sight(handling_c=False, agency="police")).number_of_edges()
    3
    """
    if sight == EVERYTHING:
        return graph
    withheld = [
        (s, t, k) for s, t, k, data in graph.edges(keys=True, data=True) if not sight.sees(data)
    ]
    if not withheld:
        return graph
    seen = graph.copy()
    seen.remove_edges_from(withheld)
    touched = {node for s, t, _ in withheld for node in (s, t)}
    seen.remove_nodes_from(
        [
            node
            for node in touched
            if seen.degree(node) == 0 and not _is_young(seen.nodes[node])
        ]
    )
    return seen


def withhold_unseen(
    records: list[dict[str, Any]], graph: nx.MultiDiGraph, *, evidence: str = "evidence"
) -> list[dict[str, Any]]:
    """The records (alerts) whose every evidence link is in ``graph``, the role's view.

    An alert raised on a record the role may not see says what that record said: it
    is withheld with it.

    >>> g = nx.MultiDiGraph()
    >>> g.add_edge("AD1", "YP1", link_id="L1")
    0
    >>> [a["key"] for a in withhold_unseen([{"key": "a", "evidence": ["L1"]},
    ...                                     {"key": "b", "evidence": ["L1", "L2"]}], g)]
    ['a']
    """
    seen = {str(data.get("link_id")) for _, _, data in graph.edges(data=True)}
    return [r for r in records if seen.issuperset(str(link) for link in r.get(evidence) or ())]
