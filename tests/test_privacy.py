"""Privacy: pseudonyms, scrubbing young people's identifying values, neutral cells.

Unit tests of :mod:`graphguard.privacy`, and property-based tests (hypothesis,
derandomised so every run tries the same cases) that embed young people's ids, names,
aliases, dates of birth and identifiers in references, notes, operators and place
names, in any letter case, with any separators, glued to other text, and look for them
in every cell of every export: the ``targets`` command's CSV, every XML part of its
XLSX and its JSON, the dashboard's target-list downloads, and Cypher results as CSV,
JSON and table — from the CLI and from the dashboard's Cypher page on the real Neo4j.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import html
import io
import json
import re
import sys
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphguard.cypher.results import QueryResult, format_result, without_identities
from graphguard.privacy import (
    PLACEHOLDER,
    YoungPersonScrubber,
    disclosed,
    identifying_values,
    is_identifying,
    neutral_text,
    pseudonym,
    safe_cell,
    withhold_identities,
)
from graphguard.store import MemoryStore
from graphguard.targets import build_target_list

from .helpers import write_csv

ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS = ROOT / "dashboards"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
UNSAFE = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Every test of this module tries the same cases on every run (a failure reproduces).
SEEDED = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def letters_and_digits(text: str) -> str:
    """What a reader would recognise of a value: its letters and digits, any case, accents off.

    Written here on its own (not graphguard's skeleton) so the tests check the scrubber
    against an independent idea of "the value is still there".
    """
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    return "".join(re.findall(r"[^\W_]", decomposed))


def _graph(**young: dict[str, Any]) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    for person, attributes in young.items():
        graph.add_node(person, kind="person", role="young_person", **attributes)
    graph.add_node("AD1", kind="person", role="adult", name="Adult Person")
    return graph


# --------------------------------------------------------------------------- pseudonyms


def test_pseudonyms_are_the_keyed_hmac_they_always_were() -> None:
    for person, key in (("YP014", b"k"), ("police:P001", b"\x00" * 32), ("Y", b"another")):
        digest = hmac.new(key, person.encode("utf-8"), hashlib.sha256).hexdigest()
        assert pseudonym(person, key) == f"YP-{digest[:10]}"
    assert pseudonym("YP014", b"k") != pseudonym("YP014", b"l")
    assert pseudonym("YP014", b"k") != pseudonym("YP015", b"k")


# --------------------------------------------------------------------------- scrubbing

CASES = [
    # (text, expected) for young person YP003 "Ada Byron", alias "Bee", born 2010-03-14,
    # NHS number 943 476 5919, phone +447700900123, social care id SC-77801
    ("INT-2026-00540-YP003", f"INT-2026-00540-{PLACEHOLDER}"),
    ("Marsh Cars YP003", f"Marsh Cars {PLACEHOLDER}"),
    ("marshcarsyp003x", f"marshcars{PLACEHOLDER}x"),
    ("yp-003 and Y P 0 0 3", f"{PLACEHOLDER} and {PLACEHOLDER}"),
    ("ＹＰ００３", PLACEHOLDER),
    ("YP0031 is someone else; YP00 too", "YP0031 is someone else; YP00 too"),
    # Two names side by side read as one surname-first name across them too ("byron,
    # ada"): one placeholder covers both.
    ("seen with ADA  BYRON, ada_byron and Ada-Byron's friend",
     f"seen with {PLACEHOLDER} and {PLACEHOLDER}'s friend"),
    ("seen with ADA BYRON; and ada_byron", f"seen with {PLACEHOLDER}; and {PLACEHOLDER}"),
    ("Âdá Býron", PLACEHOLDER),
    ("BYRON, Ada (YOS); Byron Ada", f"{PLACEHOLDER} (YOS); {PLACEHOLDER}"),
    ("xadabyronx", f"x{PLACEHOLDER}x"),
    ("Bee said so; Beech Road; bee", f"{PLACEHOLDER} said so; Beech Road; {PLACEHOLDER}"),
    ("born 14/03/2010, 2010-03-14, 14 March 2010, 14th Mar 2010 and 14.3.2010",
     f"born {PLACEHOLDER}, {PLACEHOLDER}, {PLACEHOLDER}, {PLACEHOLDER} and {PLACEHOLDER}"),
    ("ref 2010031415 is another number", "ref 2010031415 is another number"),
    ("20100314, 14032010, 03/14/2010, March 14th, 2010, 14-Mar-2010",
     ", ".join([PLACEHOLDER] * 5)),
    ("2026-01-14/03/2010 overlaps; 2010-03-15 is a different day",
     f"2026-01-{PLACEHOLDER} overlaps; 2010-03-15 is a different day"),
    ("NHS 943 476 5919 / 9434765919", f"NHS {PLACEHOLDER} / {PLACEHOLDER}"),
    ("call 07700 900123 or +44 7700 900 123", f"call {PLACEHOLDER} or +{PLACEHOLDER}"),
    ("case SC-77801 closed", f"case {PLACEHOLDER} closed"),
    ("Adult Person, AD1, area Docks", "Adult Person, AD1, area Docks"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_scrubber_finds_every_identifying_value_anywhere(text: str, expected: str) -> None:
    graph = _graph(
        YP003={
            "name": "Ada Byron",
            "aliases": "Bee; Lady B",
            "date_of_birth": dt.date(2010, 3, 14),
            "nhs_number": "9434765919",
            "phone": "+447700900123",
            "social_care_id": "SC-77801",
            "area": "Docks",
        }
    )
    assert YoungPersonScrubber.from_graph(graph)(text) == expected


def test_longest_value_first_and_overlaps_merged() -> None:
    graph = _graph(YP1={"name": "Ann Lee"}, YP12={"name": "Ann Leeming"})
    scrub = YoungPersonScrubber.from_graph(graph)
    assert scrub("YP12 YP1 ann leeming") == " ".join([PLACEHOLDER] * 3)
    # "Ann Lee" and "Leeming" overlap: one placeholder covers both, nothing is left over.
    graph = _graph(YP1={"name": "Ann Lee", "aliases": "Leeming"})
    assert YoungPersonScrubber.from_graph(graph)("annleeming!") == f"{PLACEHOLDER}!"


def test_ids_can_be_kept_or_pseudonymised() -> None:
    graph = _graph(YP1={"name": "Ada Byron"})
    keep = YoungPersonScrubber.from_graph(graph, ids=False)
    assert keep("YP1 is Ada Byron") == f"YP1 is {PLACEHOLDER}"
    named = YoungPersonScrubber.from_graph(graph, replace_id=lambda y: pseudonym(y, b"k"))
    assert named("ref-YP1: Ada Byron") == f"ref-{pseudonym('YP1', b'k')}: {PLACEHOLDER}"


def test_scrub_walks_values_and_numbers() -> None:
    scrub = YoungPersonScrubber.from_graph(_graph(YP1={"nhs_number": "9434765919"}))
    value = {"a": ["YP1", ("x", 9434765919)], "b": 3, "c": True, "d": None}
    assert scrub.scrub(value) == {"a": [PLACEHOLDER, ["x", PLACEHOLDER]], "b": 3, "c": True,
                                  "d": None}  # fmt: skip


def test_what_is_identifying() -> None:
    identifying = ("name", "aliases", "date_of_birth", "nhs_number", "upn", "pnc_id", "phone",
                   "email", "lccis_id", "ni_number", "case_ref", "known_as", "dob",
                   "postcode")  # fmt: skip
    for name in identifying:
        assert is_identifying(name), name
    for name in ("area", "gender", "looked_after", "missing_episodes", "role", "birth_year"):
        assert not is_identifying(name), name
    values = identifying_values("Y1", {"aliases": "A; B", "dob": "2011-02-03", "area": "X"})
    assert set(values) == {"A; B", "A", "B", "2011-02-03", "Y1"}
    assert "X" not in values and values["Y1"] is True and values["A"] is False


def test_withholding_identities_from_query_results() -> None:
    scrub = YoungPersonScrubber.from_graph(_graph(YP1={"name": "Ada"}), ids=False)
    rows = [
        {
            "y": {"id": "YP1", "labels": ["Person", "YoungPerson"],
                  "properties": {"id": "YP1", "name": "Ada", "aliases": "Bo", "area": "D"}},
            "a": {"id": "AD1", "labels": ["Adult"], "properties": {"name": "Cy"}},
            "name": "ADA",
            "names": ["Ada", "Cy"],
        }
    ]  # fmt: skip
    clean = withhold_identities(rows, scrub)
    assert clean[0]["y"]["properties"] == {"id": "YP1", "area": "D"}
    assert clean[0]["a"]["properties"] == {"name": "Cy"}
    assert clean[0]["name"] == PLACEHOLDER and clean[0]["names"] == [PLACEHOLDER, "Cy"]
    assert rows[0]["name"] == "ADA"  # the original is left alone
    assert disclosed(rows, scrub, names_shown=True) is rows
    assert disclosed(rows, scrub) == clean


# --------------------------------------------------------------------------- neutral cells


@SEEDED
@given(st.text(max_size=40))
def test_safe_cells_are_never_formulas_nor_carry_controls(text: str) -> None:
    cell = safe_cell(text)
    assert isinstance(cell, str)
    assert not UNSAFE.search(cell) and "\r" not in cell
    assert not cell.startswith(FORMULA_STARTS)
    # Nothing else is lost: the cell is the text, its unsafe characters named.
    assert neutral_text(text).removeprefix("'") in cell


def test_neutral_text_names_what_it_neutralised() -> None:
    text = "a\u202eb\u2066c\x1bd\x85e\r\nf\tg"
    assert neutral_text(text) == "a[U+202E]b[U+2066]c[U+001B]d\ne\nf\tg"
    assert safe_cell("\u202e=1") == "[U+202E]=1" and safe_cell("=1\u202e") == "'=1[U+202E]"


# --------------------------------------------------------------------------- towns to export


@dataclass(frozen=True)
class Young:
    """One young person's identifying values, and how they are written into the data."""

    person_id: str
    name: str
    alias: str
    short_alias: str
    born: dt.date
    nhs_number: str
    phone: str
    lccis_id: str

    def long_values(self) -> list[str]:
        """Values a reader would recognise anywhere (the short alias only as a word)."""
        return [self.person_id, self.name, self.alias, self.born.isoformat(),
                self.born.strftime("%d/%m/%Y"), self.nhs_number, self.phone, self.lccis_id,
                "0" + self.phone[3:]]  # fmt: skip


def _nhs_number(digits: list[int]) -> str:
    """A valid NHS number (modulus 11) from nine digits: v2 ingest may check it."""
    while True:
        total = sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True))
        check = (11 - total % 11) % 11
        if check != 10:
            return "".join(map(str, digits)) + str(check)
        digits = [*digits[:-1], (digits[-1] + 1) % 10]


# Letters no template word, hex pseudonym or grading uses in a row: a generated value
# found in an export is then a leak, not a coincidence.
RARE = "qxzjkvwy"
rare_word = st.text(RARE, min_size=3, max_size=7).map(lambda w: "Q" + w + "x")


@st.composite
def young_people(draw: st.DrawFn) -> list[Young]:
    found = []
    for index in range(3):
        found.append(
            Young(
                person_id=f"QZ{draw(st.text(RARE.upper(), min_size=1, max_size=3))}{index}"
                f"{draw(st.integers(10, 999))}",
                name=f"{draw(rare_word).title()} {draw(rare_word).title()}",
                alias=draw(rare_word),
                short_alias="J" + draw(st.text("qxz", min_size=1, max_size=2)),
                born=draw(st.dates(dt.date(2006, 1, 1), dt.date(2013, 12, 31))),
                nhs_number=_nhs_number(draw(st.lists(st.integers(0, 9), min_size=9, max_size=9))),
                phone=f"+447700{draw(st.integers(100000, 999999))}",
                lccis_id=f"LQ{draw(st.integers(10000, 99999))}",
            )
        )
    return found


@st.composite
def written(draw: st.DrawFn, value: str) -> str:
    """``value`` as someone might type it: any case, any separator between its words."""
    separator = draw(st.sampled_from([" ", "  ", "_", "-", ".", "\u200b", " \u202e"]))
    case = draw(st.sampled_from([str, str.upper, str.lower, str.swapcase]))
    return case(separator.join(value.split(" ")))


@st.composite
def glued(draw: st.DrawFn, value: str) -> str:
    """``value`` written into other text: inside a reference, glued to letters, spaced."""
    text = draw(written(value))
    return draw(
        st.sampled_from(
            [f"INT-2026-00540-{text}", f"{text}x", f"Cars{text}", f"re {text}.", f"({text})"]
        )
    )


@dataclass(frozen=True)
class Town:
    young: list[Young]
    texts: dict[str, str]


@st.composite
def towns(draw: st.DrawFn) -> Town:
    young = draw(young_people())
    a, b, c = young
    dates = [
        draw(st.sampled_from(["%d/%m/%Y", "%Y-%m-%d", "%d %B %Y", "%d.%m.%Y"]))
        for _ in range(3)
    ]
    texts = {
        "L1": draw(glued(a.person_id)),
        "L1 notes": f"{draw(written(a.name))} born {a.born.strftime(dates[0])}",
        "L2": f"ANPR {draw(glued(b.name))}",
        "L3": f"RHI-{draw(written(b.person_id))}-{b.nhs_number}",
        "L4": f"INT call {'0' + c.phone[3:5] + ' ' + c.phone[5:]}",
        "L5": f"{c.born.strftime(dates[1])} {draw(glued(c.lccis_id))}",
        "L6": f"\u202e{draw(glued(a.alias))} aka {a.short_alias} \x1b[2J",
        "L7": f"=HYPERLINK(\"http://x\",\"{b.born.strftime(dates[2])}\")",
        "L8": f"+cmd {draw(glued(c.name))}",
        "L9": f"@SUM(1) {draw(glued(b.alias))} {c.short_alias}",
        "flat": f"{draw(glued(b.name))} Flat",
        "hotel": f"Hotel {draw(glued(c.person_id))}",
        "operator": f"{draw(written(a.name))} Cars {draw(glued(a.person_id))}",
        "area": draw(glued(c.alias)),
    }
    return Town(young, texts)


def write_town(folder: Path, town: Town) -> Path:
    t = town.texts
    write_csv(
        folder / "people.csv",
        ["person_id", "role", "name", "date_of_birth", "aliases", "nhs_number", "phone",
         "lccis_id", "looked_after", "suspected", "area"],
        [[y.person_id, "young_person", y.name, y.born.isoformat(), f"{y.alias}; {y.short_alias}",
          y.nhs_number, y.phone, y.lccis_id, "yes", "", "Docks"] for y in town.young]
        + [["AD1", "adult", "Adult One", "", "", "", "", "", "", "yes", "Docks"],
           ["AD2", "adult", "Adult Two", "", "", "", "", "", "", "yes", t["area"]]],
    )  # fmt: skip
    write_csv(
        folder / "locations.csv",
        ["location_id", "kind", "name", "latitude", "longitude", "area"],
        [["LO1", "takeaway", t["flat"], "53.74", "-0.33", t["area"]],
         ["LO2", "hotel", t["hotel"], "53.741", "-0.331", "Docks"]],
    )  # fmt: skip
    write_csv(
        folder / "vehicles.csv",
        ["vehicle_id", "registration", "private_hire", "operator"],
        [["VE1", "QX12ABC", "true", t["operator"]]],
    )
    a, b, c = (y.person_id for y in town.young)
    links = [
        ["L1", "AD1", a, "ALLEGED_HARM", "C", t["L1 notes"]],
        ["L2", "AD1", "LO1", "SEEN_AT", "P", ""],
        ["L3", b, "LO1", "SEEN_AT", "P", ""],
        ["L4", "AD2", "VE1", "DRIVES", "P", ""],
        ["L5", c, "VE1", "PASSENGER_IN", "P", ""],
        ["L6", "AD2", c, "ALLEGED_HARM", "P", t["L1 notes"]],
        ["L7", "AD1", "LO2", "SEEN_AT", "P", ""],
        ["L8", c, "LO2", "FOUND_AT", "P", ""],
        ["L9", "AD2", b, "ALLEGED_HARM", "P", ""],
    ]
    write_csv(
        folder / "links.csv",
        ["link_id", "source_id", "target_id", "type", "first_seen", "last_seen", "count",
         "agency", "reference", "source_grade", "intel_grade", "handling", "notes"],
        [[link, s, o, kind, "2026-01-05", "2026-03-01", "3", "police", t[link], "1", "A", code,
          notes] for link, s, o, kind, code, notes in links],
    )  # fmt: skip
    return folder


# --------------------------------------------------------------------------- reading exports


def export_strings(name: str, data: bytes) -> list[str]:
    """Every piece of text in an exported file, one cell (or XML text or attribute) each."""
    if name.endswith(".xlsx"):
        pieces = []
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            for part in book.namelist():
                xml = book.read(part).decode("utf-8")
                pieces += [html.unescape(p) for p in re.findall(r">([^<]+)<", xml)]
                pieces += [html.unescape(p) for p in re.findall(r'="([^"]*)"', xml)]
        return pieces
    text = data.decode("utf-8")
    if name.endswith(".json"):
        return _strings(json.loads(text))
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def table_cells(table: str) -> list[str]:
    """The cells of an aligned table (columns are two or more spaces apart)."""
    return [cell for line in table.splitlines() for cell in re.split(r"\s{2,}", line)]


def export_cells(name: str, data: bytes) -> list[str]:
    """The text cells of an exported file (for XLSX, of every sheet; never a formula)."""
    if not name.endswith(".xlsx"):
        return export_strings(name, data)
    from openpyxl import load_workbook

    cells = []
    for sheet in load_workbook(io.BytesIO(data)).worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (name, cell.coordinate)
                if isinstance(cell.value, str):
                    cells.append(cell.value)
    return cells


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (str(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [str(value)]


def assert_no_young_person(strings: list[str], young: list[Young], *, ids: bool = True) -> None:
    for cell in strings:
        folded = letters_and_digits(cell)
        for person in young:
            values = person.long_values()[0 if ids else 1 :]
            for value in values:
                assert letters_and_digits(value) not in folded, (value, cell)
            words = {w.casefold() for w in re.findall(r"[^\W_]+", cell)}
            assert person.short_alias.casefold() not in words, (person.short_alias, cell)
        assert not UNSAFE.search(cell), cell


def _cli_exports(folder: Path, out: Path) -> Iterator[tuple[str, bytes]]:
    from graphguard.cli import main

    for shareable in (False, True):
        for suffix in (".csv", ".xlsx", ".json"):
            path = out / f"targets-{shareable}{suffix}"
            args = ["targets", str(folder), "--out", str(path)]
            result = CliRunner().invoke(main, args + (["--shareable"] if shareable else []))
            assert result.exit_code == 0, result.output
            yield path.name, path.read_bytes()


def _dashboard_exports(folder: Path) -> Iterator[tuple[str, bytes]]:
    if str(DASHBOARDS) not in sys.path:
        sys.path.insert(0, str(DASHBOARDS))
    import common  # the dashboard's own module, as its pages call it

    from graphguard.store.base import Filters

    # A fresh folder each time: its path alone keeps the page caches apart.
    source = common.DataSource("embedded", str(folder))
    for shareable in (False, True):
        for kind in ("csv", "xlsx"):
            data = common.target_file(source, Filters(), shareable, kind, b"k", dt.date.today())
            yield f"dashboard-{shareable}.{kind}", data


@pytest.fixture(autouse=True)
def _quiet_streamlit_cache_warnings() -> None:
    import logging

    logging.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)


@settings(SEEDED, max_examples=12)
@given(towns())
def test_no_export_carries_a_young_persons_identifying_value(town: Town) -> None:
    with tempfile.TemporaryDirectory() as work:
        folder = write_town(Path(work) / "data", town)
        graph = MemoryStore.from_path(folder).graph()
        assert all(y.person_id in graph for y in town.young)  # nobody rejected
        exports = [*_cli_exports(folder, Path(work)), *_dashboard_exports(folder)]
        for name, data in exports:
            assert_no_young_person(export_strings(name, data), town.young)
            cells = export_cells(name, data)
            assert not [s for s in cells if s.startswith(FORMULA_STARTS)], name
        csv_text = dict(exports)["targets-False.csv"].decode("utf-8")
        # The texts reached the export and were scrubbed there, not dropped on the way.
        assert csv_text.count(PLACEHOLDER) >= 5
        assert "Hotel " in csv_text and " Cars " in csv_text
        target_ids = [row[1] for row in csv.reader(io.StringIO(csv_text))][1:]
        assert any(t.startswith("business:") for t in target_ids)


@settings(SEEDED, max_examples=40)
@given(towns(), st.data())
def test_no_cypher_download_carries_a_name_or_a_date_of_birth(town: Town, data: Any) -> None:
    graph = nx.MultiDiGraph()
    for y in town.young:
        graph.add_node(y.person_id, kind="person", role="young_person", name=y.name,
                       aliases=f"{y.alias}; {y.short_alias}", date_of_birth=y.born,
                       nhs_number=y.nhs_number, phone=y.phone, lccis_id=y.lccis_id)  # fmt: skip
    scrubber = YoungPersonScrubber.from_graph(graph, ids=False)
    texts = list(town.texts.values())
    y = town.young[0]
    node = {"id": y.person_id, "labels": ["Entity", "Person", "YoungPerson"],
            "properties": {"id": y.person_id, "name": y.name, "date_of_birth": y.born.isoformat(),
                           "nhs_number": y.nhs_number, "area": "Docks"}}  # fmt: skip
    rows = [
        {
            "name": data.draw(written(y.name)).upper(),
            "dob": y.born.isoformat(),
            "y": node,
            "path": [node, {"id": "L1", "type": "ALLEGED_HARM", "properties": {"notes": texts[1]}}],
            "refs": data.draw(st.lists(st.sampled_from(texts), max_size=4)),
            "n": int(y.nhs_number),
        }
    ]
    result = QueryResult(columns=list(rows[0]), rows=rows, truncated=False, row_limit=10,
                         elapsed=0.1)  # fmt: skip
    for kind in ("csv", "json"):
        text = format_result(without_identities(result, scrubber), kind)
        strings = export_strings(f"result.{kind}", text.encode("utf-8"))
        assert_no_young_person(strings, town.young, ids=False)
        assert not [s for s in strings if s.startswith(FORMULA_STARTS)]
        assert y.person_id in text  # ids stay: the graph's keys
    table = format_result(without_identities(result, scrubber), "table")
    assert_no_young_person(table_cells(table), town.young, ids=False)


def test_a_business_id_never_carries_a_young_persons_id(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "people.csv",
        ["person_id", "role", "name", "date_of_birth", "suspected"],
        [["YP001", "young_person", "Ada Byron", "2011-01-01", ""],
         ["YP002", "young_person", "", "2011-01-01", ""], ["AD1", "adult", "", "", "yes"]],
    )  # fmt: skip
    write_csv(
        tmp_path / "vehicles.csv",
        ["vehicle_id", "registration", "private_hire", "operator"],
        [["VE1", "AB12CDE", "true", "Ada Byron Cars YP001"],
         ["VE2", "AB12CDF", "true", "Ada Byron Cars YP002"]],
    )  # fmt: skip
    links = [
        ("L1", "AD1", "VE1", "DRIVES"), ("L2", "AD1", "VE2", "DRIVES"),
        ("L3", "YP001", "VE1", "PASSENGER_IN"), ("L4", "YP002", "VE2", "PASSENGER_IN"),
        ("L5", "AD1", "YP001", "ALLEGED_HARM"), ("L6", "AD1", "YP002", "ALLEGED_HARM"),
    ]  # fmt: skip
    write_csv(
        tmp_path / "links.csv",
        ["link_id", "source_id", "target_id", "type", "first_seen", "last_seen", "count",
         "agency", "reference", "source_grade", "intel_grade", "handling"],
        [[*link, "2026-01-01", "2026-03-01", "4", "police", f"R{i}", "1", "A", "P"]
         for i, link in enumerate(links)],
    )  # fmt: skip
    graph = MemoryStore.from_path(tmp_path).graph()
    rows = build_target_list(graph, key=b"k").rows
    businesses = sorted(r["target_id"] for r in rows if r["kind"] == "business")
    # Two operators stay two businesses, and neither id carries the child's id or name.
    assert businesses == [
        "business:young-person-cars-young-person",
        "business:young-person-cars-young-person-2",
    ]
    text = json.dumps(rows)
    assert "yp00" not in text.lower() and "byron" not in text.lower()


# --------------------------------------------------------------------------- the real Neo4j

IDENTITY_QUERY = (
    "MATCH (y:YoungPerson) RETURN toUpper(y.name) AS shout, y.date_of_birth AS born, "
    "y.name + ' / ' + y.aliases AS who, y, '=HYPERLINK(\"http://x\",\"y\")' AS link, "
    "'+cmd|calc' AS plus, '@SUM(1)' AS at, y.id AS id ORDER BY id"
)


@pytest.fixture(scope="module")
def identity_town(neo4j_driver: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    """The test server holding a town with identities, then the demo again afterwards."""
    from graphguard.ingest import read_dataset
    from graphguard.store.neo4j import Neo4jStore

    town = _fixed_town()
    folder = write_town(tmp_path_factory.mktemp("identities"), town)
    store = Neo4jStore(neo4j_driver)
    store.clear()
    store.load(read_dataset(folder).dataset)
    try:
        yield town
    finally:
        store.clear()
        store.load(read_dataset(ROOT / "fixtures" / "demo").dataset)


def _pseudonym(young_person_id: str) -> str:
    """What Neo4j holds for a young person: their pseudonym under this state home's key."""
    from graphguard.settings import pseudonym_key

    return pseudonym(young_person_id, pseudonym_key())


def _fixed_town() -> Town:
    young = [
        Young(f"QZX{i}0{i}", f"Qjx{i}zx Qkvz{i}x", f"Qwyx{i}x", f"Jq{'x' * i}",
              dt.date(2009, 3, 10 + i), _nhs_number([9, 4, 3, 4, 7, 6, 5, 9, i]),
              f"+44770090012{i}", f"LQ7780{i}")
        for i in range(3)
    ]  # fmt: skip
    a, b, c = young
    texts = {
        "L1": f"INT-2026-00540-{a.person_id}", "L1 notes": f"{a.name} born 10/03/2009",
        "L2": f"ANPR {b.name.upper()}", "L3": f"RHI-{b.person_id.lower()}-{b.nhs_number}",
        "L4": "INT call", "L5": f"{c.born:%d %B %Y} {c.lccis_id}",
        "L6": f"\u202e{a.alias} aka {a.short_alias}", "L7": "=HYPERLINK(\"http://x\")",
        "L8": f"+cmd {c.name}", "L9": f"@SUM(1) {b.alias}", "flat": f"{b.name} Flat",
        "hotel": f"Hotel {c.person_id}", "operator": f"{a.name} Cars {a.person_id}",
        "area": c.alias,
    }  # fmt: skip
    return Town(young, texts)


@pytest.mark.neo4j
def test_cli_cypher_output_withholds_identities_and_formulas(
    identity_town: Town, neo4j_env: Any
) -> None:
    from graphguard.cli import main

    for kind in ("csv", "json", "table"):
        result = CliRunner().invoke(main, ["cypher", "run", "-q", IDENTITY_QUERY, "--format", kind])
        assert result.exit_code == 0, result.output
        out = result.stdout
        # The graph's keys are the young people's pseudonyms, never their ids.
        assert all(_pseudonym(y.person_id) in out for y in identity_town.young)
        assert not any(y.person_id in out for y in identity_town.young)
        cells = table_cells(out) if kind == "table" else export_strings(f"r.{kind}", out.encode())
        assert_no_young_person(cells, identity_town.young, ids=False)
        if kind != "table":
            assert not [c for c in cells if c.startswith(FORMULA_STARTS)], cells
            assert "'=HYPERLINK" in out and "'+cmd|calc" in out and "'@SUM(1)" in out


@pytest.mark.neo4j
def test_dashboard_cypher_downloads_withhold_identities_and_formulas(
    identity_town: Town,
    neo4j_env: Any,
    neo4j_driver: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.testing.v1 import AppTest

    from graphguard.ingest import read_dataset
    from graphguard.store.neo4j import Neo4jStore

    # Downloads are made on click (Streamlit's deferred download): keep what each
    # button would run, and run it as the click does.
    offered: dict[str, Any] = {}
    original = MediaFileManager.add_deferred

    def capture(self: Any, data_callable: Any, mimetype: Any, coordinates: str, **kw: Any) -> str:
        offered[kw.get("file_name") or coordinates] = data_callable
        return original(self, data_callable, mimetype, coordinates, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", capture)
    # The page first sees (and caches) the demo; the young people are loaded afterwards,
    # as when `graphguard load` runs beside an open dashboard: they are withheld too.
    store = Neo4jStore(neo4j_driver)
    store.clear()
    store.load(read_dataset(ROOT / "fixtures" / "demo").dataset)
    at = AppTest.from_file(str(DASHBOARDS / "app.py"), default_timeout=120).run()
    at.switch_page("views/cypher.py")
    at.run()
    at.text_area(key="cypher_text").set_value("MATCH (y:YoungPerson) RETURN y.name LIMIT 1")
    at.button[1].click().run()
    store.clear()
    store.load(read_dataset(write_town(tmp_path / "identities", identity_town)).dataset)
    at.text_area(key="cypher_text").set_value(IDENTITY_QUERY)
    at.button[1].click().run()  # the ad-hoc form's "Run Cypher"
    assert not at.exception, [e.value for e in at.exception]
    assert {"ad_hoc.csv", "ad_hoc.json"} <= set(offered)
    files: dict[str, bytes] = {}
    for name in ("ad_hoc.csv", "ad_hoc.json"):
        data = offered[name]()
        files[name] = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    for name in ("ad_hoc.csv", "ad_hoc.json"):
        cells = export_strings(name, files[name])
        assert_no_young_person(cells, identity_town.young, ids=False)
        assert not [c for c in cells if c.startswith(FORMULA_STARTS)], cells
        assert "'=HYPERLINK" in files[name].decode() and "'@SUM(1)" in files[name].decode()
        assert all(_pseudonym(y.person_id) in files[name].decode() for y in identity_town.young)
    # The file is the CLI's: the same formatter over the same withheld result.
    assert files["ad_hoc.csv"].decode().startswith("shout,born,who,y,link,plus,at,id\r\n")
