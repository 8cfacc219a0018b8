"""The evidence weight of one link: how much a score may rest on it.

A link is one record from one source.  Its weight, a number in ``[0, 1]``, is the
product of three factors, each documented in ``docs/methodology.md``:

* **grading** — the 3x5x2 source evaluation (1 reliable, 2 untested, 3 not reliable)
  times the intelligence assessment (A known directly … E suspected to be false).
  Intelligence graded 3 or E counts for very little.  A record without a grading
  takes a documented default that depends on the agency that made it.
* **recency** — exponential decay with a half-life (365 days by default) from the
  day the link was last seen (or first seen) to ``as_of``.
* **count** — how many sightings or contacts the row stands for, with diminishing
  returns: each further sighting closes a fixed share of the gap to 1.

The handling code (P/C) says who may see a record, not how true it is, so it never
changes a weight.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, NamedTuple

import networkx as nx

__all__ = [
    "DEFAULT_HALF_LIFE_DAYS",
    "SOURCE_FACTORS",
    "INTEL_FACTORS",
    "DEFAULT_GRADES",
    "UNDATED_AGE_IN_HALF_LIVES",
    "COUNT_STEP",
    "Evidence",
    "evidence_components",
    "link_weight",
    "grading_label",
    "default_as_of",
    "age_in_years",
]

#: The half-life of evidence, in days, unless ``GRAPHGUARD_HALF_LIFE_DAYS`` or an
#: option says otherwise (:class:`~graphguard.analysis.options.AnalysisOptions`).
DEFAULT_HALF_LIFE_DAYS = 365.0

#: 3x5x2 source evaluation → factor.  1 reliable, 2 untested, 3 not reliable.
SOURCE_FACTORS: Mapping[str, float] = {"1": 1.0, "2": 0.6, "3": 0.2}

#: 3x5x2 intelligence assessment → factor.  A known directly, B known indirectly and
#: corroborated, C known indirectly, D not known, E suspected to be false.
INTEL_FACTORS: Mapping[str, float] = {"A": 1.0, "B": 0.8, "C": 0.55, "D": 0.3, "E": 0.05}

#: The grades assumed for a part of the grading that was not recorded, by agency.
#: Police intelligence is graded as a matter of course, so an ungraded police record
#: is treated as from an untested source, known indirectly (2/C).  Other agencies
#: record their own business (a placement, an attendance, a case note) and do not
#: grade it; such a record is treated as from a reliable source, known indirectly
#: (1/C).  A record whose agency is not known is treated like ungraded police
#: intelligence.
DEFAULT_GRADES: Mapping[str, tuple[str, str]] = {
    "police": ("2", "C"),
    "unknown": ("2", "C"),
    "other_agency": ("1", "C"),
}

#: An undated record is treated as this many half-lives old: it counts, but less
#: than anything seen within the last year.
UNDATED_AGE_IN_HALF_LIVES = 1.0

#: Each sighting or contact a row stands for closes this share of the gap to 1, so
#: one sighting gives 0.5, two 0.75, three 0.875, five 0.97.
COUNT_STEP = 0.5


class Evidence(NamedTuple):
    """The parts of a link's evidence weight, so an explanation can cite them.

    Attributes
    ----------
    weight : float
        ``grading * recency * count_factor``, in ``[0, 1]``.
    grading : float
        The 3x5x2 factor.
    recency : float
        The half-life decay against ``as_of``.
    count_factor : float
        The diminishing-returns factor of the row's count.
    label : str
        The grading as analysts write it, e.g. ``"1/B/P"``; a part not recorded is
        ``-``; a record with no grading at all is ``"ungraded"``.
    defaulted : bool
        Whether any part of the grading was defaulted.
    """

    weight: float
    grading: float
    recency: float
    count_factor: float
    label: str
    defaulted: bool


def grading_label(edge: Mapping[str, Any]) -> str:
    """The 3x5x2 grading of a link as analysts write it.

    >>> grading_label({"source_grade": "1", "intel_grade": "B", "handling": "P"})
    '1/B/P'
    >>> grading_label({"source_grade": "3"})
    '3/-/-'
    >>> grading_label({})
    'ungraded'
    """
    return _grading(
        edge.get("source_grade"), edge.get("intel_grade"), edge.get("handling"), edge.get("agency")
    )[2]


@lru_cache(maxsize=1024)
def _grading(
    source: str | None, intel: str | None, handling: str | None, agency: str | None
) -> tuple[float, bool, str]:
    """Factor, whether any part was defaulted, and label of one grading from one agency."""
    if agency == "police":
        default_source, default_intel = DEFAULT_GRADES["police"]
    elif agency is None:
        default_source, default_intel = DEFAULT_GRADES["unknown"]
    else:
        default_source, default_intel = DEFAULT_GRADES["other_agency"]
    factor = (
        SOURCE_FACTORS[str(source or default_source)] * INTEL_FACTORS[str(intel or default_intel)]
    )
    parts = [str(part or "-") for part in (source, intel, handling)]
    label = "ungraded" if parts == ["-", "-", "-"] else "/".join(parts)
    return factor, source is None or intel is None, label


def _recency_factor(edge: Mapping[str, Any], as_of: dt.date, half_life_days: float) -> float:
    seen = edge.get("last_seen") or edge.get("first_seen")
    if seen is None:
        return 0.5**UNDATED_AGE_IN_HALF_LIVES
    age_days = max(0, (as_of - seen).days)
    return 0.5 ** (age_days / half_life_days)


def _count_factor(edge: Mapping[str, Any]) -> float:
    count = max(1, int(edge.get("count") or 1))
    return 1.0 - (1.0 - COUNT_STEP) ** count


def evidence_components(
    edge: Mapping[str, Any], *, as_of: dt.date, half_life_days: float = DEFAULT_HALF_LIFE_DAYS
) -> Evidence:
    """The evidence weight of a link together with its parts.

    Parameters
    ----------
    edge : mapping
        The link's edge attributes (``source_grade``, ``intel_grade``, ``agency``,
        ``first_seen``, ``last_seen``, ``count``; any may be absent).
    as_of : date
        The day the picture is taken on; links seen after it count as fresh.
    half_life_days : float, default 365
        After this many days a link counts half as much.

    Returns
    -------
    Evidence

    Examples
    --------
    >>> import datetime as dt
    >>> day = dt.date(2026, 1, 1)
    >>> strong = evidence_components(
    ...     {"source_grade": "1", "intel_grade": "A", "last_seen": day, "count": 3}, as_of=day)
    >>> round(strong.weight, 3), strong.label
    (0.875, '1/A/-')
    """
    if half_life_days <= 0:
        raise ValueError("half_life_days must be positive")
    grading, defaulted, label = _grading(
        edge.get("source_grade"), edge.get("intel_grade"), edge.get("handling"), edge.get("agency")
    )
    recency = _recency_factor(edge, as_of, half_life_days)
    count = _count_factor(edge)
    return Evidence(
        weight=grading * recency * count,
        grading=grading,
        recency=recency,
        count_factor=count,
        label=label,
        defaulted=defaulted,
    )


def link_weight(
    edge: Mapping[str, Any], *, as_of: dt.date, half_life_days: float = DEFAULT_HALF_LIFE_DAYS
) -> float:
    """The evidence weight of a link, in ``[0, 1]``: grading × recency × count.

    Examples
    --------
    >>> import datetime as dt
    >>> day = dt.date(2026, 1, 1)
    >>> good = link_weight({"source_grade": "1", "intel_grade": "A", "last_seen": day}, as_of=day)
    >>> poor = link_weight({"source_grade": "3", "intel_grade": "E", "last_seen": day}, as_of=day)
    >>> round(good, 3), round(poor, 4)
    (0.5, 0.005)
    """
    return evidence_components(edge, as_of=as_of, half_life_days=half_life_days).weight


def default_as_of(graph: nx.Graph) -> dt.date:
    """The latest date on any link of the graph: a reproducible "today".

    A graph whose links carry no dates at all has no such day; it falls back to
    today, which then only moves ages (recency treats every undated link alike).
    Pass ``as_of`` to make such an analysis reproducible.
    """
    latest: dt.date | None = None
    for _, _, data in graph.edges(data=True):
        for name in ("last_seen", "first_seen"):
            day = data.get(name)
            if day is not None and (latest is None or day > latest):
                latest = day
    return latest or dt.date.today()


def age_in_years(born: dt.date | None, day: dt.date) -> int | None:
    """Whole years from ``born`` to ``day``; None when the date of birth is not known.

    >>> import datetime as dt
    >>> age_in_years(dt.date(2010, 6, 2), dt.date(2026, 6, 1))
    15
    """
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
