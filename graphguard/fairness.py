"""Fairness monitoring: who the analysis picks out, by protected characteristic.

The one module that reads protected characteristics (``model.PROTECTED_CHARACTERISTICS``:
gender, ethnicity, religion, …).  No score reads them (a test proves it); this
report reads them to check that the people the analysis picks out — **hub-ranked
adults**, adult **targets** and young people counted as **exposed** — are not drawn
disproportionately from one group, as the Metropolitan Police's Gangs Matrix was.

For each characteristic recorded in the data, each picked-out group's distribution
over its values is set against a **baseline** of the same role in the data (all
adults for hubs and targets, all young people for the exposed), and against an area
population (:func:`read_population`) when one is given.

**Over-representation** is stated where a value's share of the group is at least
:data:`RATIO_THRESHOLD` (1.25) times its share of the baseline *and* a two-sided
exact test gives p < :data:`ALPHA` (0.05) after Holm's correction for the number of
comparisons in the report:

* against the data, Fisher's exact test (the hypergeometric distribution): the group
  is drawn from the baseline without replacement, so this is the exact test of "the
  group is a random draw from the baseline";
* against an area population, the exact binomial test with the population's share
  as the probability: the population is far larger than the data.

The ratio alone would flag a group of three; the test alone would flag a tiny
difference in a large town.  Holm's correction keeps the chance of any false
statement in a report at 5% however many values are tested.

**Small numbers are suppressed**: a count from 1 to 4 is shown as ``<5``, with its
share and ratio; while the column's total and shown counts would let a suppressed
count be worked out, the smallest count of 5 or more is withheld too (secondary
suppression, shown ``*``), or the total when there is none.  A statement about a
suppressed cell gives no figures.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx

from graphguard.analysis.disruption import DisruptionAnalysis, disruption_analysis
from graphguard.analysis.options import AnalysisOptions
from graphguard.errors import DataError
from graphguard.model import PROTECTED_CHARACTERISTICS

__all__ = [
    "ALPHA",
    "GROUPS",
    "HUBS_SHOWN",
    "RATIO_THRESHOLD",
    "SECONDARY_MARK",
    "SUPPRESS_BELOW",
    "Cell",
    "Column",
    "FairnessReport",
    "Finding",
    "Table",
    "fairness_report",
    "parse_population",
    "read_population",
    "recoverable",
    "render_html",
]

#: Shares at least this many times the baseline's can be stated as over-represented.
RATIO_THRESHOLD = 1.25
#: The family-wise significance level (Holm-corrected).
ALPHA = 0.05
#: Counts from 1 up to (not including) this are shown as "<5".
SUPPRESS_BELOW = 5
#: How a count withheld to protect a small one is shown (it is 5 or more).
SECONDARY_MARK = "*"
#: How many of the hub ranking's first adults (with a score above zero) count as hubs.
HUBS_SHOWN = 20
#: The picked-out groups: key → what the report calls them.
GROUPS: Mapping[str, str] = {
    "hubs": "hub-ranked adults",
    "targets": "adult targets",
    "exposed": "young people counted as exposed",
}
#: Each group's baseline in the data: key → (role, what the report calls it).
_BASELINE_OF = {
    "hubs": ("adult", "all adults in the data"),
    "targets": ("adult", "all adults in the data"),
    "exposed": ("young_person", "all young people in the data"),
}
NOT_RECORDED = "not recorded"


# --------------------------------------------------------------------------- statistics


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def _two_sided(pmf: Sequence[float], observed: int) -> float:
    """The two-sided exact p-value: every outcome no more likely than the observed one."""
    limit = pmf[observed] * (1 + 1e-7)  # a relative tolerance, as R and SciPy use
    return min(1.0, sum(p for p in pmf if p <= limit))


def fisher_p(k: int, n: int, successes: int, total: int) -> float:
    """Two-sided Fisher exact p of ``k`` in a group of ``n`` drawn from ``total``.

    ``successes`` of the ``total`` hold the value.

    Examples
    --------
    >>> round(fisher_p(3, 4, 4, 8), 4)  # Fisher's tea-tasting lady
    0.4857
    """
    low, high = max(0, n - (total - successes)), min(n, successes)
    denominator = _log_comb(total, n)
    pmf = [0.0] * (high + 1)
    for x in range(low, high + 1):
        pmf[x] = math.exp(
            _log_comb(successes, x) + _log_comb(total - successes, n - x) - denominator
        )
    return _two_sided(pmf, k)


def binomial_p(k: int, n: int, p: float) -> float:
    """Two-sided exact binomial p of ``k`` successes in ``n`` trials of probability ``p``.

    Examples
    --------
    >>> round(binomial_p(9, 10, 0.5) * 1024, 6)  # 9 heads in 10 fair tosses: 22 in 1024
    22.0
    """
    if p <= 0.0 or p >= 1.0:
        return 1.0 if k == round(p * n) else 0.0
    pmf = [
        math.exp(_log_comb(n, x) + x * math.log(p) + (n - x) * math.log1p(-p)) for x in range(n + 1)
    ]
    return _two_sided(pmf, k)


def _holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the given order."""
    order = sorted(range(len(pvalues)), key=pvalues.__getitem__)
    adjusted = [1.0] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(pvalues) - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


# --------------------------------------------------------------------------- model


@dataclass
class Cell:
    """One value's count in one column, and whether it is shown."""

    value: str
    count: int
    #: Not shown: a count from 1 to 4, or (``secondary``) one hidden to protect one.
    suppressed: bool = False
    secondary: bool = False

    @property
    def shown(self) -> str:
        if self.secondary:
            return SECONDARY_MARK
        return f"<{SUPPRESS_BELOW}" if self.suppressed else str(self.count)


@dataclass
class Column:
    """One group's (or baseline's) distribution over a characteristic's values."""

    name: str
    cells: dict[str, Cell]
    total_suppressed: bool = False

    @property
    def total(self) -> int:
        return sum(cell.count for cell in self.cells.values())

    def share(self, value: str) -> float | None:
        total = self.total
        return self.cells[value].count / total if total else None


@dataclass
class Finding:
    """A plain statement that a group is over-represented, with its test."""

    characteristic: str
    value: str
    group: str
    against: str
    ratio: float
    p_adjusted: float
    test: str
    suppressed: bool

    def statement(self) -> str:
        """The statement as the report prints it (no figures for a suppressed cell)."""
        who = f"People recorded as {self.characteristic} '{self.value}'"
        if self.suppressed:
            return (
                f"{who} are over-represented among {self.group} compared with {self.against} "
                f"(figures withheld: fewer than {SUPPRESS_BELOW} people; {self.test})."
            )
        return (
            f"{who} are over-represented among {self.group} compared with {self.against}: "
            f"{self.ratio:.2f} times their share (p = {self.p_adjusted:.2g} after Holm's "
            f"correction, {self.test})."
        )


@dataclass
class Table:
    """One characteristic: every group's column beside its baselines."""

    characteristic: str
    values: list[str]
    columns: dict[str, Column]
    #: Group key → name of the column it is compared with, in the data and population.
    compared: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class FairnessReport:
    """The fairness report of one dataset."""

    as_of: dt.date
    source: str | None
    sizes: dict[str, int]
    tables: list[Table]
    findings: list[Finding]
    population: str | None = None
    tests: int = 0
    #: Characteristics that no person in the data has recorded.
    unrecorded: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- population


def read_population(path: str | Path) -> dict[str, dict[str, int]]:
    """Read an area population file: ``characteristic,value,count`` with a header.

    Characteristics and values are matched case-insensitively with surrounding spaces
    trimmed; a characteristic must be a protected one (``model.PROTECTED_CHARACTERISTICS``);
    a count is a whole number ≥ 0; a repeated (characteristic, value) is an error.

    Raises
    ------
    DataError
        One line naming the file, line, column and reason of the first problem.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(
            f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc})"
        ) from exc
    return parse_population(text, str(path))


def parse_population(text: str, name: str) -> dict[str, dict[str, int]]:
    """An area population file's text (:func:`read_population`); ``name`` is for errors."""
    path = name
    rows = csv.reader(text.removeprefix("\ufeff").splitlines())
    header = [h.strip().lower() for h in next(rows, [])]
    wanted = ("characteristic", "value", "count")
    missing = [c for c in wanted if c not in header]
    if missing:
        raise DataError(
            f"{path}: line 1: missing column {missing[0]!r} (needs {', '.join(wanted)})"
        )
    at = {name: header.index(name) for name in wanted}
    found: dict[str, dict[str, int]] = {}
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {name: (row[i].strip() if i < len(row) else "") for name, i in at.items()}
        characteristic = cells["characteristic"].lower()
        if characteristic not in PROTECTED_CHARACTERISTICS:
            raise DataError(
                f"{path}: line {line}, column characteristic: {cells['characteristic']!r} is "
                f"not a protected characteristic ({', '.join(sorted(PROTECTED_CHARACTERISTICS))})"
            )
        value = _normal(cells["value"])
        if not value:
            raise DataError(f"{path}: line {line}, column value: empty")
        if not cells["count"].isdigit():
            raise DataError(
                f"{path}: line {line}, column count: {cells['count']!r} is not a whole number ≥ 0"
            )
        counts = found.setdefault(characteristic, {})
        if value in counts:
            raise DataError(f"{path}: line {line}: {characteristic} {value!r} is given twice")
        counts[value] = int(cells["count"])
    return found


# --------------------------------------------------------------------------- the report


def _normal(value: object) -> str:
    return " ".join(str(value).split()).lower()


def _value_of(attributes: Mapping[str, object], characteristic: str) -> str:
    value = attributes.get(characteristic)
    text = _normal(value) if value is not None else ""
    return text or NOT_RECORDED


def _suppress(column: Column) -> None:
    """Primary suppression (1 to 4), then secondary until no hidden count can be worked out.

    A reader knows the column's total, every shown count, that a ``<5`` cell holds 1 to
    4 and that a cell withheld for another's sake holds 5 or more.  While those bounds
    pin any ``<5`` cell to one value (:func:`recoverable`), the smallest shown count of 5
    or more is withheld too; when none is left, the total is.
    """
    for cell in column.cells.values():
        cell.suppressed = 0 < cell.count < SUPPRESS_BELOW
        cell.secondary = False
    column.total_suppressed = False
    while recoverable(column):
        shown = sorted(
            (c for c in column.cells.values() if not c.suppressed and c.count >= SUPPRESS_BELOW),
            key=lambda c: (c.count, c.value),
        )
        if not shown:
            column.total_suppressed = True
            return
        shown[0].suppressed = shown[0].secondary = True


def recoverable(column: Column) -> bool:
    """Whether the shown total and counts pin a ``<5`` cell of ``column`` to one value."""
    if column.total_suppressed:
        return False
    hidden = [c for c in column.cells.values() if c.suppressed]
    left = column.total - sum(c.count for c in column.cells.values() if not c.suppressed)
    bounds = [
        (SUPPRESS_BELOW, math.inf) if c.secondary else (1, SUPPRESS_BELOW - 1) for c in hidden
    ]
    for i, cell in enumerate(hidden):
        if cell.secondary:
            continue
        others_low = sum(low for j, (low, _) in enumerate(bounds) if j != i)
        others_high = sum(high for j, (_, high) in enumerate(bounds) if j != i)
        low = max(bounds[i][0], left - others_high)
        high = min(bounds[i][1], left - others_low)
        if low >= high:
            return True
    return False


def fairness_report(
    graph: nx.MultiDiGraph,
    *,
    options: AnalysisOptions | None = None,
    population: Mapping[str, Mapping[str, int]] | None = None,
    population_name: str | None = None,
    hubs_shown: int = HUBS_SHOWN,
    source: str | None = None,
    analysis: DisruptionAnalysis | None = None,
) -> FairnessReport:
    """The fairness report of a graph: each picked-out group by protected characteristic.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        The graph the analysis reads (``Store.graph()``).
    options : AnalysisOptions, optional
        As the hubs and targets were computed (the defaults if None).
    population : mapping, optional
        Characteristic → value → count in the area (:func:`read_population`).
    population_name : str, optional
        What the report calls the population (its file).
    hubs_shown : int, default :data:`HUBS_SHOWN`
        How many of the hub ranking's first adults with a score above zero are hubs.
    source : str, optional
        Where the data came from, for the report.
    analysis : DisruptionAnalysis, optional
        The graph's analysis with ``options``, when the caller has it already.

    Returns
    -------
    FairnessReport
        One table per characteristic recorded for anyone; findings for every
        over-represented value (:data:`RATIO_THRESHOLD`, :data:`ALPHA`, Holm-corrected).
    """
    found = analysis or disruption_analysis(graph, options=options)
    people = {n: d for n, d in graph.nodes(data=True) if d.get("kind") == "person"}
    members = {
        "hubs": [h.id for h in found.hubs if h.score > 0][:hubs_shown],
        "targets": list(
            dict.fromkeys(
                i.target.id
                for i in found.impacts
                if i.target.kind == "adult" and round(i.impact, 4) > 0
            )
        ),
        "exposed": [y for y, v in found.exposure.young_people.items() if v > 0],
    }
    baselines = {
        role: [n for n, d in people.items() if d.get("role") == role]
        for role in ("adult", "young_person")
    }
    recorded = sorted(c for c in PROTECTED_CHARACTERISTICS if any(c in d for d in people.values()))
    tables: list[Table] = []
    pending: list[tuple[Table, str, str, str, float, float, str, bool]] = []
    for characteristic in recorded:
        table = _table(characteristic, people, members, baselines, population)
        tables.append(table)
        pending += _tests(table, population_name)
    adjusted = _holm([p for *_, p, _test, _s in pending])
    findings = [
        Finding(table.characteristic, value, GROUPS[group], against, ratio, p_adj, test, hidden)
        for (table, value, group, against, ratio, _p, test, hidden), p_adj in zip(
            pending, adjusted, strict=True
        )
        if ratio >= RATIO_THRESHOLD and p_adj < ALPHA
    ]
    return FairnessReport(
        as_of=found.exposure.as_of,
        source=source,
        sizes={key: len(ids) for key, ids in members.items()}
        | {"adults": len(baselines["adult"]), "young_people": len(baselines["young_person"])},
        tables=tables,
        findings=findings,
        population=population_name,
        tests=len(pending),
        unrecorded=sorted(PROTECTED_CHARACTERISTICS - set(recorded)),
    )


def _table(
    characteristic: str,
    people: Mapping[str, Mapping[str, object]],
    members: Mapping[str, list[str]],
    baselines: Mapping[str, list[str]],
    population: Mapping[str, Mapping[str, int]] | None,
) -> Table:
    def counted(ids: Iterable[str]) -> Counter[str]:
        return Counter(_value_of(people[i], characteristic) for i in ids)

    counts = {
        "all adults": counted(baselines["adult"]),
        "all young people": counted(baselines["young_person"]),
        **{key: counted(ids) for key, ids in members.items()},
    }
    area = {_normal(v): c for v, c in (population or {}).get(characteristic, {}).items()}
    if area:
        counts["area population"] = Counter(area)
    everyone = counts["all adults"] + counts["all young people"] + Counter(area)
    values = sorted(everyone, key=lambda v: (v == NOT_RECORDED, -everyone[v], v))
    columns: dict[str, Column] = {}
    for name, counter in counts.items():
        column = Column(name, {v: Cell(v, counter.get(v, 0)) for v in values})
        if name != "area population":  # published figures: nothing of ours to protect
            _suppress(column)
        columns[name] = column
    table = Table(characteristic, values, columns)
    for key in members:
        table.compared[key] = [
            "all adults" if _BASELINE_OF[key][0] == "adult" else "all young people",
            *(["area population"] if area else []),
        ]
    return table


def _tests(
    table: Table, population_name: str | None
) -> list[tuple[Table, str, str, str, float, float, str, bool]]:
    """Every (value, group, baseline) comparison of a table, with its raw p-value."""
    tests = []
    for key, against in table.compared.items():
        group = table.columns[key]
        for base_name in against:
            base = table.columns[base_name]
            in_area = base_name == "area population"
            # the population has no "not recorded": compare among recorded values only
            values = [v for v in table.values if not (in_area and v == NOT_RECORDED)]
            n = sum(group.cells[v].count for v in values)
            total = sum(base.cells[v].count for v in values)
            if n == 0 or total == 0:
                continue
            for value in values:
                if value == NOT_RECORDED:
                    continue  # missing data is a data-quality matter, not a group
                k, successes = group.cells[value].count, base.cells[value].count
                if successes == 0:
                    continue
                ratio = (k / n) / (successes / total)
                if in_area:
                    p = binomial_p(k, n, successes / total)
                    test = "two-sided exact binomial test against the area population"
                    named = f"the area population ({population_name or 'given'})"
                else:
                    p = fisher_p(k, n, successes, total)
                    test = "two-sided Fisher exact test"
                    named = _BASELINE_OF[key][1]
                # the ratio with the shown totals would give away a withheld count
                hidden = any(
                    (column.cells[value].suppressed or column.total_suppressed)
                    for column in (group, base)
                    if column.name != "area population"
                )
                tests.append((table, value, key, named, ratio, p, test, hidden))
    return tests


# --------------------------------------------------------------------------- HTML

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; max-width: 70em; color: #1b1b1b; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.flag { background: #fde2e1; }
.note { color: #555; font-size: 0.92em; }
"""


def _percent(column: Column, value: str) -> str:
    cell = column.cells[value]
    share = column.share(value)
    if cell.suppressed or column.total_suppressed or share is None:
        return "–"
    return f"{100 * share:.1f}%"


def render_html(report: FairnessReport) -> str:
    """The report as one self-contained HTML page (no script, no outside resource)."""
    e = html.escape
    flagged = {(f.characteristic, f.value, f.group) for f in report.findings}
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>graphguard fairness report</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Fairness report</h1>",
        f"<p>Source: {e(report.source or 'not recorded')}; evidence as of "
        f"{report.as_of.isoformat()}. {report.sizes['hubs']} hub-ranked adults (the first "
        f"{HUBS_SHOWN} of the hub ranking with a score above zero at most), "
        f"{report.sizes['targets']} adult targets, {report.sizes['exposed']} young people "
        f"counted as exposed; {report.sizes['adults']} adults and "
        f"{report.sizes['young_people']} young people in the data.</p>",
        "<h2>Findings</h2>",
    ]
    if report.findings:
        parts.append("<ul>" + "".join(f"<li>{e(f.statement())}</li>" for f in report.findings))
        parts.append("</ul>")
    else:
        parts.append(
            f"<p>No group is over-represented by this report's test ({report.tests} "
            "comparisons).</p>"
        )
    parts.append(
        f'<p class="note">How to read this: a group is stated as over-represented when its share '
        f"of the people picked out is at least {RATIO_THRESHOLD} times its share of the "
        f"baseline and a two-sided exact test gives p &lt; {ALPHA} after Holm's correction for "
        f"all {report.tests} comparisons (Fisher's exact test against the data, from which the "
        "group is drawn; the exact binomial test against an area population). Both conditions: "
        "the ratio alone would flag groups of three, the test alone trivial differences in a "
        "large town. A statement is a prompt to examine the data sources and practice behind "
        "it, not a finding of bias; no score reads any protected characteristic. Counts from "
        f"1 to {SUPPRESS_BELOW - 1} are shown as &lt;{SUPPRESS_BELOW}; where the total would "
        f"reveal one, the smallest count of {SUPPRESS_BELOW} or more is withheld too (shown "
        f"{SECONDARY_MARK}), or the total.</p>"
    )
    for table in report.tables:
        parts.append(f"<h2>{e(table.characteristic.replace('_', ' '))}</h2>")
        names = list(table.columns)
        header = "".join(f"<th colspan=2>{e(_column_title(n))}</th>" for n in names)
        parts.append(f"<table><tr><th>value</th>{header}</tr>")
        for value in table.values:
            row = [f"<td>{e(value)}</td>"]
            for name in names:
                column = table.columns[name]
                group = GROUPS.get(name)
                css = ' class="flag"' if (table.characteristic, value, group) in flagged else ""
                row.append(f"<td{css}>{e(column.cells[value].shown)}</td>")
                row.append(f"<td{css}>{e(_percent(column, value))}</td>")
            parts.append("<tr>" + "".join(row) + "</tr>")
        totals = "".join(
            f"<td>{'&lt;' + str(SUPPRESS_BELOW) if c.total_suppressed else c.total}</td><td></td>"
            for c in table.columns.values()
        )
        parts.append(f"<tr><th>total</th>{totals}</tr></table>")
    if report.unrecorded:
        parts.append(
            '<p class="note">Not recorded for anyone in the data: '
            f"{e(', '.join(report.unrecorded))}.</p>"
        )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _column_title(name: str) -> str:
    return GROUPS.get(name, name)
