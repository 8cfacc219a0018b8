"""The fairness report: small cells suppressed, a planted over-representation flagged,
nothing flagged when nothing is planted, and the fairness module the only reader of
protected characteristics."""

from __future__ import annotations

import ast
import csv
import random
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from graphguard.analysis.disruption import disruption_analysis
from graphguard.audit import read_audit
from graphguard.cli import main
from graphguard.errors import DataError
from graphguard.fairness import (
    HUBS_SHOWN,
    Cell,
    Column,
    _suppress,
    binomial_p,
    fairness_report,
    fisher_p,
    read_population,
    recoverable,
    render_html,
)
from graphguard.model import PROTECTED_CHARACTERISTICS
from graphguard.settings import get_settings
from graphguard.store import MemoryStore
from graphguard.synth import write_town

ROOT = Path(__file__).resolve().parents[1]
SEED = 11


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fair-town")
    write_town(folder, 300, seed=SEED)
    return folder


def with_ethnicity(graph: nx.MultiDiGraph, plant: bool) -> nx.MultiDiGraph:
    """Everyone given an ethnicity, 15% 'group b' at random (seeded); with ``plant``,
    most of the hub-ranked adults are made 'group b' too (no score reads it)."""
    rng = random.Random(SEED)
    marked = graph.copy()
    for _, data in marked.nodes(data=True):
        if data["kind"] == "person":
            data["ethnicity"] = "group b" if rng.random() < 0.15 else "group a"
    if plant:
        hubs = [h.id for h in disruption_analysis(graph).hubs if h.score > 0][:HUBS_SHOWN]
        for adult in hubs:
            if rng.random() < 0.8:
                marked.nodes[adult]["ethnicity"] = "group b"
    return marked


@pytest.fixture(scope="module")
def graph(town: Path) -> nx.MultiDiGraph:
    return MemoryStore.from_path(town).graph()


def test_a_planted_over_representation_among_hubs_is_flagged(graph: nx.MultiDiGraph) -> None:
    report = fairness_report(with_ethnicity(graph, plant=True))
    flagged = [(f.characteristic, f.value, f.group) for f in report.findings]
    assert ("ethnicity", "group b", "hub-ranked adults") in flagged
    finding = next(f for f in report.findings if f.characteristic == "ethnicity")
    assert finding.ratio >= 1.25 and finding.p_adjusted < 0.05
    assert "group b" in finding.statement() and "hub-ranked adults" in finding.statement()
    # the plant changed nothing the analysis scores
    planted = disruption_analysis(with_ethnicity(graph, plant=True)).hubs
    assert [h.id for h in planted] == [h.id for h in disruption_analysis(graph).hubs]


def test_nothing_is_flagged_when_nothing_is_planted(graph: nx.MultiDiGraph) -> None:
    report = fairness_report(with_ethnicity(graph, plant=False))
    assert report.tests > 0
    assert not [f for f in report.findings if f.characteristic == "ethnicity"]
    assert "ethnicity" in {t.characteristic for t in report.tables}


def _column(**counts: int) -> Column:
    column = Column("g", {v: Cell(v, n) for v, n in counts.items()})
    _suppress(column)
    return column


def test_small_cells_are_suppressed_and_cannot_be_recovered() -> None:
    one = _column(a=3, b=40, c=12)
    # 3 alone would be 55 - 40 - 12: the next smallest count of 5 or more is withheld
    assert {v: c.shown for v, c in one.cells.items()} == {"a": "<5", "b": "40", "c": "*"}
    assert not one.total_suppressed and not recoverable(one)
    # two small cells holding 3 together: 1 and 2, or 2 and 1; nothing more to hide
    two = _column(a=2, b=1, c=9)
    assert [c.shown for c in two.cells.values()] == ["<5", "<5", "9"]
    # two small cells holding 8 together can only be 4 and 4
    full = _column(a=4, b=4, c=9, d=30)
    assert [c.shown for c in full.cells.values()] == ["<5", "<5", "*", "30"]
    # one small and one withheld cell holding 6 could only be 1 and 5: one more withheld
    six = _column(a=1, b=5, c=7, d=20)
    assert [c.shown for c in six.cells.values()] == ["<5", "*", "*", "20"]
    assert not recoverable(six)
    # a zero is no protection (it is shown): with nothing else to withhold, the total is
    alone = _column(a=4, b=0)
    assert alone.cells["a"].shown == "<5" and alone.cells["b"].shown == "0"
    assert alone.total_suppressed
    nothing = _column(a=0, b=12, c=30)
    assert not any(c.suppressed for c in nothing.cells.values())


def test_the_report_suppresses_small_cells(graph: nx.MultiDiGraph) -> None:
    marked = with_ethnicity(graph, plant=True)
    # three people of a rare group: their count must never be printed
    for node in [n for n, d in marked.nodes(data=True) if d["kind"] == "person"][:3]:
        marked.nodes[node]["ethnicity"] = "group c"
    report = fairness_report(marked)
    table = next(t for t in report.tables if t.characteristic == "ethnicity")
    for column in table.columns.values():
        counts = [c.count for c in column.cells.values()]
        assert all(c.suppressed for c in column.cells.values() if 0 < c.count < 5)
        assert not recoverable(column), column.name
        assert sum(counts) == column.total
    page = render_html(report)
    assert "&lt;5" in page and "group c" in page


def test_exact_tests_agree_with_known_values() -> None:
    # Fisher's lady tasting tea (Agresti, Categorical Data Analysis, 3.5.1): p = 0.486
    assert fisher_p(3, 4, 4, 8) == pytest.approx(0.4857, abs=1e-4)
    assert fisher_p(4, 4, 4, 8) == pytest.approx(0.0286, abs=1e-4)
    # 9 heads of 10 fair tosses, two-sided: 22/1024
    assert binomial_p(9, 10, 0.5) == pytest.approx(22 / 1024)
    assert binomial_p(5, 10, 0.5) == pytest.approx(1.0)


def test_population_file_and_its_errors(tmp_path: Path) -> None:
    good = tmp_path / "pop.csv"
    good.write_text("Characteristic,Value,Count\nethnicity, Group A ,900\nethnicity,group b,100\n")
    assert read_population(good) == {"ethnicity": {"group a": 900, "group b": 100}}
    for body, words in [
        ("characteristic,value\n", "missing column 'count'"),
        ("characteristic,value,count\nshoe size,9,3\n", "line 2, column characteristic"),
        ("characteristic,value,count\ngender,female,many\n", "line 2, column count"),
        ("characteristic,value,count\ngender,f,1\ngender,F,2\n", "line 3"),
    ]:
        bad = tmp_path / "bad.csv"
        bad.write_text(body)
        with pytest.raises(DataError, match=words) as caught:
            read_population(bad)
        assert str(bad) in str(caught.value) and "\n" not in str(caught.value)


def test_a_population_is_compared_with_too(graph: nx.MultiDiGraph) -> None:
    # an area where group b is half the people: the data's 15% is under, so group a
    # (85% of every group against 50% of the area) is over-represented, group b never
    population = {"ethnicity": {"Group A": 500, "group b": 500}}
    report = fairness_report(with_ethnicity(graph, plant=False), population=population)
    table = next(t for t in report.tables if t.characteristic == "ethnicity")
    assert "area population" in table.columns
    values = {(f.value, f.against) for f in report.findings if f.characteristic == "ethnicity"}
    assert values and {v for v, _ in values} == {"group a"}
    assert all("area population" in a for _, a in values)
    skewed = {"ethnicity": {"group a": 990, "group b": 10}}
    report = fairness_report(with_ethnicity(graph, plant=False), population=skewed)
    against = {f.against for f in report.findings if f.value == "group b"}
    assert any("area population" in a for a in against)


def test_cli_writes_the_report_atomically_and_audits_it(
    town: Path, tmp_path: Path, home: Path
) -> None:
    people = town / "people.csv"
    marked = tmp_path / "marked"
    marked.mkdir()
    for name in ("links.csv", "locations.csv", "vehicles.csv"):
        (marked / name).write_bytes((town / name).read_bytes())
    with people.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rng = random.Random(SEED)
    with (marked / "people.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, [*rows[0], "ethnicity"])
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "ethnicity": "b" if rng.random() < 0.2 else "a"})
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["fairness", str(marked), "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "<h2>ethnicity</h2>" in page and "hub-ranked adults" in page
    assert not list(tmp_path.glob(".*report*"))  # no staging file left behind
    events = [e for e in read_audit() if e["event"] == "export fairness report"]
    assert [e["outcome"] for e in events] == ["started", "ok"]
    assert events[-1]["path"] == str(out.resolve())
    again = CliRunner().invoke(main, ["fairness", str(marked), "--out", str(out)])
    assert again.exit_code == 2 and "exists" in again.output


def test_the_dashboard_page(home: Path) -> None:
    get_settings.cache_clear()
    at = AppTest.from_file(str(ROOT / "dashboards" / "app.py"), default_timeout=120).run()
    at.switch_page("views/fairness.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Fairness"]
    assert at.dataframe, "no table"
    assert any(e["event"] == "view fairness report" for e in read_audit())


# ------------------------------------------------------------------------------ one reader

#: Modules that may name a protected characteristic, and why: the vocabulary and its
#: column parser, the synthetic towns that write one, and the one reader.
ALLOWED = {
    "graphguard/model.py",
    "graphguard/synth.py",
    "graphguard/synth_agencies.py",
    "graphguard/fairness.py",
}


def _names_a_characteristic(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value in PROTECTED_CHARACTERISTICS:
            return True
        if isinstance(node, ast.Attribute) and node.attr in PROTECTED_CHARACTERISTICS:
            return True
        if isinstance(node, ast.Name | ast.alias) and "PROTECTED_CHARACTERISTICS" in (
            getattr(node, "id", None),
            getattr(node, "name", None),
        ):
            return True
    return False


def test_the_fairness_module_is_the_only_reader_of_protected_characteristics() -> None:
    found = set()
    for folder in ("graphguard", "dashboards"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if _names_a_characteristic(ast.parse(path.read_text(encoding="utf-8"))):
                found.add(str(path.relative_to(ROOT)))
    assert found == ALLOWED, sorted(found ^ ALLOWED)
