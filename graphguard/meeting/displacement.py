"""Displacement: after a disruption starts, did the exposure stop or move elsewhere?

Closing a flat or warning an adult off can protect young people, or it can move the
harm: the network opens another flat, the phone line passes to another adult, the
car is seen somewhere new.  :func:`displacement` compares two windows of equal
length either side of an action's start:

* **before** — links seen in the days up to the start (picture as of the day before);
* **after** — links seen from the start to the end of the data (picture as of then).

It looks at the action's **cohort**: the young people whose exposure ran through the
target before the start, the adults of concern whose routes ran through it and, for
an adult target, the adults of concern they associate with or contact (at any date:
the associate who takes the line over is often first recorded with them afterwards).
Routes through the target itself count, whoever they reach.  In
each window it sums, over the cohort's exposure routes (:mod:`graphguard.analysis.
disruption`), each route's strength weighted by its adult's concern: the exposure
**through the target**, and the exposure carried by each other adult, place and
vehicle on those routes.  Those whose share rose after the start are where the
exposure may have moved (the **destinations**); the exposure **elsewhere** is that of
the cohort's routes through any destination (each route counted once), and its rise
is compared with the fall through the target.  The same adults of concern and weights (those of the
picture at the end) are used for both windows, so the two are comparable.

The finding then says how far exposure through the target fell, where the cohort's
exposure rose, and what share of the fall the rise makes up:

* ``displaced`` — the rise elsewhere is at least :data:`DISPLACED_SHARE` of the fall;
* ``partly displaced`` — at least :data:`PARTLY_SHARE`;
* ``not displaced`` — less (the disruption looks to have worked);
* ``no fall`` — exposure through the target fell by less than :data:`FALL_SHARE` of
  what it was;
* ``not measurable`` — nothing ran through the target before, or no data after.

Young people are counted and named only by keyed pseudonym; labels never carry a
person's name; evidence shows references with their 3x5x2 gradings.  With
``shareable=True`` records of handling code C are left out before anything is
measured, as on a shareable target list.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from graphguard.analysis.disruption import Route, entity_label, exposure
from graphguard.analysis.options import AnalysisOptions
from graphguard.meeting.actions import Action, target_of
from graphguard.privacy import YoungPersonScrubber, pseudonym, withhold_handling_c
from graphguard.store.base import Filters, filter_graph

__all__ = [
    "DISPLACED_SHARE",
    "FALL_SHARE",
    "PARTLY_SHARE",
    "Destination",
    "Displacement",
    "displacement",
    "displacements",
    "latest_date",
]

#: The rise elsewhere, as a share of the fall through the target, that is displacement.
DISPLACED_SHARE = 0.5
#: The share that is partial displacement.
PARTLY_SHARE = 0.1
#: The fall, as a share of the exposure through the target before, that counts as one.
FALL_SHARE = 0.1
#: Exposure below this is nothing.
_NOTHING = 1e-3
#: Links through which an adult's line or victims pass to another adult.
_ASSOCIATION = frozenset({"ASSOCIATES_WITH", "CONTACTED"})
_DESTINATIONS_SHOWN = 5
_EVIDENCE_SHOWN = 5


@dataclass(frozen=True)
class Destination:
    """An adult, place or vehicle whose share of the cohort's exposure rose after the start."""

    id: str
    kind: str
    label: str
    before: float
    after: float
    young_people: list[str]
    evidence: list[str]

    @property
    def rise(self) -> float:
        return self.after - self.before

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "before": round(self.before, 4),
            "after": round(self.after, 4),
            "rise": round(self.rise, 4),
            "young_people": len(self.young_people),
            "young_people_pseudonyms": self.young_people,
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class Displacement:
    """What happened to the exposure around a target after its action started.

    Attributes
    ----------
    action, target_id, target_label : str
    start, end : date
        The action's start and the end of the later data.
    window_days : int
        The length of each window.
    through_before, through_after : float
        The cohort's exposure through the target in each window.
    elsewhere_before, elsewhere_after : float
        The cohort's exposure through the destinations (not the target) in each window.
    destinations : list of Destination
        Where it rose, most first.
    cohort_young_people : int
        Young people exposed through the target before the start.
    verdict : str
        ``displaced``, ``partly displaced``, ``not displaced``, ``no fall`` or
        ``not measurable``.
    finding : str
        The finding in plain English.
    shareable : bool
    """

    action: str
    target_id: str
    target_label: str
    start: dt.date
    end: dt.date
    window_days: int
    through_before: float
    through_after: float
    elsewhere_before: float
    elsewhere_after: float
    cohort_young_people: int
    verdict: str
    finding: str
    shareable: bool
    destinations: list[Destination] = field(default_factory=list)

    @property
    def fall(self) -> float:
        return self.through_before - self.through_after

    @property
    def rise(self) -> float:
        return max(0.0, self.elsewhere_after - self.elsewhere_before)

    @property
    def moved_share(self) -> float | None:
        """The rise elsewhere as a share of the fall (None when nothing fell)."""
        return min(1.0, self.rise / self.fall) if self.fall > _NOTHING else None

    def as_dict(self) -> dict[str, Any]:
        share = self.moved_share
        return {
            "action": self.action,
            "target_id": self.target_id,
            "target_label": self.target_label,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "window_days": self.window_days,
            "through_target": {
                "before": round(self.through_before, 4),
                "after": round(self.through_after, 4),
            },
            "elsewhere": {
                "before": round(self.elsewhere_before, 4),
                "after": round(self.elsewhere_after, 4),
            },
            "moved_share": None if share is None else round(share, 4),
            "cohort_young_people": self.cohort_young_people,
            "verdict": self.verdict,
            "finding": self.finding,
            "shareable": self.shareable,
            "destinations": [d.as_dict() for d in self.destinations],
        }


def latest_date(graph: nx.MultiDiGraph) -> dt.date | None:
    """The latest first or last seen date of any link of a graph."""
    days = [
        day
        for _, _, data in graph.edges(data=True)
        for day in (data.get("first_seen"), data.get("last_seen"))
        if day is not None
    ]
    return max(days) if days else None


def _window(graph: nx.MultiDiGraph, since: dt.date, until: dt.date) -> nx.MultiDiGraph:
    """The graph with only the links seen between ``since`` and ``until`` (inclusive)."""
    return filter_graph(graph, Filters(as_of=until, since=since))


def _associates(
    graph: nx.MultiDiGraph, target: frozenset[str], concern: Mapping[str, float]
) -> set[str]:
    """Adults of concern tied to a target adult by association or contact, at any date.

    When an adult is warned off, their line or their victims may pass to an associate,
    often one first recorded with them after the warning.
    """
    found: set[str] = set()
    for adult in target:
        if graph.nodes[adult].get("role") != "adult":
            continue
        edges = [*graph.out_edges(adult, data=True), *graph.in_edges(adult, data=True)]
        for source, other_end, data in edges:
            other = other_end if source == adult else source
            if data.get("type") in _ASSOCIATION and other in concern:
                found.add(other)
    return found


def _weight(route: Route, concern: Mapping[str, float]) -> float:
    return concern.get(route.adult, 0.0) * route.strength


def _carriers(route: Route, graph: nx.MultiDiGraph) -> list[str]:
    """What on a route could carry exposure: its adult and the places, vehicles, adults via."""
    return [
        node
        for node in dict.fromkeys(route.entities)
        if graph.nodes[node].get("role") != "young_person"
    ]


def displacement(
    graph: nx.MultiDiGraph,
    action: Action,
    *,
    key: bytes,
    end: dt.date | None = None,
    options: AnalysisOptions | None = None,
    shareable: bool = False,
) -> Displacement:
    """Measure where the exposure around an action's target went after the action started.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        The whole picture, later data included.
    action : Action
        The action (its target and start date).
    key : bytes
        The pseudonym key.
    end : date, optional
        The end of the later data; the latest date in the graph if None.
    options : AnalysisOptions, optional
        The half-life of evidence (its ``as_of`` is not used: each window has its own).
    shareable : bool, default False
        Leave out records of handling code C before measuring.

    Returns
    -------
    Displacement
    """
    [found] = displacements(graph, [action], key=key, end=end, options=options, shareable=shareable)
    return found


def displacements(
    graph: nx.MultiDiGraph,
    actions: Iterable[Action],
    *,
    key: bytes,
    end: dt.date | None = None,
    options: AnalysisOptions | None = None,
    shareable: bool = False,
) -> list[Displacement]:
    """:func:`displacement` of each of ``actions``, reading the picture once for them all.

    The picture is made shareable, its adults of concern found (once per end date) and
    its scrubber built once, not once per action; the parameters are
    :func:`displacement`'s.
    """
    options = options or AnalysisOptions()
    if shareable:
        graph = withhold_handling_c(graph)
    found: dict[dt.date, Mapping[str, float]] = {}

    def concern_on(day: dt.date) -> Mapping[str, float]:
        if day not in found:
            found[day] = exposure(graph, options=dataclasses.replace(options, as_of=day)).concern
        return found[day]

    scrub = YoungPersonScrubber.from_graph(graph)
    last = end or latest_date(graph)
    return [
        _measure(graph, action, key, last, options, shareable, concern_on, scrub)
        for action in actions
    ]


def _measure(
    graph: nx.MultiDiGraph,
    action: Action,
    key: bytes,
    end: dt.date | None,
    options: AnalysisOptions,
    shareable: bool,
    concern_on: Callable[[dt.date], Mapping[str, float]],
    scrub: YoungPersonScrubber,
) -> Displacement:
    _, label, members = target_of(graph, action.target_id)
    target = frozenset(members)
    start = action.start
    end = end or start
    days = (end - start).days + 1
    common: dict[str, Any] = {
        "action": action.id,
        "target_id": action.target_id,
        "target_label": label,
        "start": start,
        "end": end,
        "shareable": shareable,
    }
    if days < 1:
        return _unmeasurable(common, max(days, 0), f"there is no data after {start.isoformat()}")
    before_day = start - dt.timedelta(days=1)
    concern = concern_on(end)
    before = exposure(
        _window(graph, start - dt.timedelta(days=days), before_day),
        adults_of_concern=concern,
        options=dataclasses.replace(options, as_of=before_day),
    )
    later = _window(graph, start, end)
    after = exposure(
        later, adults_of_concern=concern, options=dataclasses.replace(options, as_of=end)
    )

    through = before.routes_through(target)
    cohort_young = {r.young_person for r in through}
    cohort_adults = ({r.adult for r in through} | _associates(graph, target, concern)) - target
    if not through:
        return _unmeasurable(
            common, days, f"no exposure ran through it in the {days} days before the start"
        )

    def in_cohort(route: Route) -> bool:
        return route.young_person in cohort_young or route.adult in cohort_adults

    sums: dict[str, dict[str, float]] = {"before": defaultdict(float), "after": defaultdict(float)}
    through_target = {"before": 0.0, "after": 0.0}
    elsewhere: dict[str, list[tuple[float, list[str]]]] = {"before": [], "after": []}
    reached: dict[str, set[str]] = defaultdict(set)
    cited: dict[str, list[Route]] = defaultdict(list)
    for name, ex in (("before", before), ("after", after)):
        for route in ex.routes:
            passes = not target.isdisjoint(route.entities)
            if not (passes or in_cohort(route)):
                continue
            weight = _weight(route, concern)
            if passes:
                through_target[name] += weight  # the target's own, whoever it reaches
                continue
            carriers = _carriers(route, graph)
            elsewhere[name].append((weight, carriers))
            for carrier in carriers:
                sums[name][carrier] += weight
                if name == "after":
                    reached[carrier].add(route.young_person)
                    cited[carrier].append(route)
    # Where the cohort's exposure rose; each route counted once, however many of them it uses.
    rose = {c for c in sums["after"] if sums["after"][c] - sums["before"].get(c, 0.0) > _NOTHING}
    carried = {
        name: math.fsum(w for w, carriers in routes if rose.intersection(carriers))
        for name, routes in elsewhere.items()
    }
    rising = sorted(
        rose,
        key=lambda c: (-(sums["after"][c] - sums["before"].get(c, 0.0)), c),
    )
    destinations = [
        Destination(
            id=carrier,
            kind=_kind(graph, carrier),
            label=scrub(entity_label(graph, carrier)),
            before=sums["before"].get(carrier, 0.0),
            after=sums["after"][carrier],
            young_people=sorted(pseudonym(y, key) for y in reached[carrier]),
            evidence=[scrub(text) for text in _evidence(cited[carrier], carrier, start)],
        )
        for carrier in rising[:_DESTINATIONS_SHOWN]
    ]
    result = Displacement(
        **common,
        window_days=days,
        through_before=through_target["before"],
        through_after=through_target["after"],
        elsewhere_before=carried["before"],
        elsewhere_after=carried["after"],
        cohort_young_people=len(cohort_young),
        verdict="",
        finding="",
        destinations=destinations,
    )
    verdict = _verdict(result)
    finding = _finding(result, verdict, action, len(rising))
    return dataclasses.replace(result, verdict=verdict, finding=scrub(finding))


def _kind(graph: nx.MultiDiGraph, node: str) -> str:
    data = graph.nodes[node]
    return "adult" if data.get("kind") == "person" else str(data.get("kind"))


def _evidence(routes: Iterable[Route], carrier: str, start: dt.date) -> list[str]:
    """References of the later records at ``carrier``, heaviest route first, with gradings."""
    shown: dict[str, set[str]] = {}
    for route in sorted(routes, key=lambda r: -r.strength):
        for record in route.every_record:
            if carrier not in (record.source, record.target):
                continue
            seen = record.last_seen or record.first_seen
            if seen is not None and seen < start:
                continue
            shown.setdefault(record.reference or record.link_id, set()).add(record.evidence.label)
    return [f"{ref} ({', '.join(sorted(labels))})" for ref, labels in shown.items()][
        :_EVIDENCE_SHOWN
    ]


def _verdict(result: Displacement) -> str:
    if result.through_before <= _NOTHING:
        return "not measurable"
    if result.fall < FALL_SHARE * result.through_before:
        return "no fall"
    share = result.moved_share or 0.0
    if share >= DISPLACED_SHARE:
        return "displaced"
    if share >= PARTLY_SHARE:
        return "partly displaced"
    return "not displaced"


def _finding(result: Displacement, verdict: str, action: Action, rising: int) -> str:
    window = f"the {result.window_days} days"
    opening = (
        f"{action.id} ({action.tactic_text.split(' (')[0]} against {result.target_label}, "
        f"from {result.start.isoformat()}): exposure through the target went from "
        f"{result.through_before:.2f} in {window} before the start to "
        f"{result.through_after:.2f} in {window} after (to {result.end.isoformat()})"
    )
    if verdict == "no fall":
        return f"{opening}: it has not fallen, so nothing can have moved yet."
    places = [
        f"{d.label} (+{d.rise:.2f}, {len(d.young_people)} young "
        f"{'person' if len(d.young_people) == 1 else 'people'})"
        for d in result.destinations[:3]
    ]
    more = f" and {rising - 3} more" if rising > 3 else ""
    if result.rise <= _NOTHING or not places:
        return (
            f"{opening}; the same young people's and adults' exposure elsewhere did not rise: "
            "no displacement is seen."
        )
    share = result.moved_share or 0.0
    part = "more than the whole fall" if result.rise > result.fall else f"{share:.0%} of the fall"
    said = {
        "displaced": "the exposure looks to have moved",
        "partly displaced": "some of the exposure looks to have moved",
        "not displaced": "little of it looks to have moved",
    }[verdict]
    return (
        f"{opening}; over the same days the exposure of the same young people and adults "
        f"rose by {result.rise:.2f} elsewhere, {part}: {said}, to "
        f"{', '.join(places)}{more}."
    )


def _unmeasurable(common: dict[str, Any], days: int, why: str) -> Displacement:
    return Displacement(
        **common,
        window_days=days,
        through_before=0.0,
        through_after=0.0,
        elsewhere_before=0.0,
        elsewhere_after=0.0,
        cohort_young_people=0,
        verdict="not measurable",
        finding=f"Displacement after {common['action']} cannot be measured yet: {why}.",
    )
