"""Perpetrator-centred hubs: how much risk to young people is organised around each adult.

Every adult is scored; a young person never is.  The score adds up named
components, each resting on links weighed by their evidence (:mod:`.evidence`):

``reach``
    The distinct young people the adult reaches — directly (contact, association,
    intimate or alleged-harm links), through a place or vehicle they share (two
    steps), or through a vehicle the adult drives and the places it is seen (three
    steps) — each counted once, by the strength of the evidence joining them.
``vulnerable_reach``
    The same young people weighted by how vulnerable they are (looked after,
    missing episodes, found somewhere after going missing, excluded from school).
``allegations``
    ALLEGED_HARM links by their evidence weight: an allegation is not a fact, and
    one graded 3 or E counts for very little.
``under_18_contact``
    Intimate or contact links with young people under 18 on ``as_of``.
``vehicles``
    Young people carried in vehicles the adult drives or keeps.
``associates``
    Association and contact with other adults around whom risk is organised
    (co-offending), each weighted by that adult's own score.
``suspected``
    Whether partners flag the adult as a person who may pose a risk: one modest
    component, so that structure, not a flag list, decides the ranking.

The routes behind ``reach`` are :func:`graphguard.analysis.routes.own_routes`, the
same routes exposure starts from, under the same protective rule: SUPPORTS links,
links marked ``protective``, FAMILY_OF links and school transport are never a step
of a route, and the young people the adult is family to or supports are left out of
``reach``; for an adult recorded as ``professional``, the work links (WORKS_AT,
ATTENDS, driving a private-hire vehicle, and the service's own records of contact
with young people) are left out too.  ALLEGED_HARM and PARTNER_OF links always
count.  See ``docs/methodology.md`` for every weight and why.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from graphguard.analysis.options import AnalysisOptions
from graphguard.analysis.routes import Route, combined_reach, own_routes
from graphguard.analysis.town import Record, Town, cite, noisy_or

__all__ = [
    "COMPONENT_WEIGHTS",
    "CONCERN_SCORE",
    "Hub",
    "perpetrator_hubs",
    "hubs_from_town",
]

#: How much each component adds to the score per unit.
COMPONENT_WEIGHTS: Mapping[str, float] = {
    "reach": 0.15,
    "vulnerable_reach": 1.0,
    "allegations": 2.0,
    "under_18_contact": 1.0,
    "vehicles": 0.5,
    "associates": 2.0,
    "suspected": 0.25,
}

#: An adult scoring at least this is an *adult of concern* in group and context
#: summaries: about one allegation graded 1/B this year plus contact with the child.
CONCERN_SCORE = 1.0

#: Links between adults through which risk is organised together.
_ASSOCIATE = {"CONTACTED": 1.0, "ASSOCIATES_WITH": 0.8, "PARTNER_OF": 0.8}
#: Intimate and contact links that count towards ``under_18_contact``.
_CONTACT = {"PARTNER_OF": 1.0, "CONTACTED": 0.6, "ASSOCIATES_WITH": 0.4}
#: A young person reached at least this strongly is counted in the explanation.
_COUNTED = 0.05
#: Evidence items kept per hub.
_EVIDENCE_CAP = 8
#: An intimate or contact link with a young person no more than this many years
#: younger counts a third (peers, not an adult's power over a child).
_PEER_AGE_GAP = 3


@dataclass(frozen=True)
class Hub:
    """One adult's score, its components, the evidence it rests on and why.

    Attributes
    ----------
    id : str
        The adult's id.
    kind : str
        Always ``"adult"``: young people are never scored.
    rank : int
        1 for the highest score.
    score : float
        The sum of the weighted components.
    components : dict of str to float
        Each named component (unweighted) and counts used in the explanation.
    evidence : list of dict
        The links the score rests on, those adding most to it first: ``link_id``,
        ``type``, ``reference``, ``grading``, ``weight`` (the evidence weight).
    explanation : str
        A plain-English reason citing link ids, references and gradings.
    concern : bool
        Whether the score reaches :data:`CONCERN_SCORE`.
    """

    id: str
    kind: str
    rank: int
    score: float
    components: dict[str, float]
    evidence: list[dict[str, Any]]
    explanation: str
    concern: bool
    contexts: list[str] = field(default_factory=list)
    #: Young person → the link ids of the strongest path reaching them.  Kept for
    #: safety planning (peer groups); never written to ``hubs.json``.
    routes: dict[str, list[str]] = field(default_factory=dict, repr=False)
    #: Young person → how strongly the adult's own routes reach them, in ``[0, 1]``
    #: (:func:`~graphguard.analysis.routes.combined_reach`).  Never written to
    #: ``hubs.json``.
    reach: dict[str, float] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """The hub as written to ``hubs.json`` (young people appear only as counts)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "rank": self.rank,
            "score": round(self.score, 4),
            "concern": self.concern,
            "components": {k: round(v, 4) for k, v in self.components.items()},
            "evidence": self.evidence,
            "explanation": self.explanation,
            "contexts": self.contexts,
        }


@dataclass
class _Own:
    """What an adult's own links show, before associates are counted."""

    reach: dict[str, float] = field(default_factory=dict)
    paths: dict[str, list[Route]] = field(default_factory=dict)
    allegations: list[Record] = field(default_factory=list)
    contacts: dict[str, tuple[float, Record]] = field(default_factory=dict)
    vehicle_reach: dict[str, float] = field(default_factory=dict)
    protected: int = 0
    family: int = 0


def _carried(town: Town, route: Route) -> bool:
    """Whether a route runs through a vehicle the adult drives or keeps."""
    return (
        route.shape in ("context", "vehicle")
        and town.kind.get(route.via[0]) == "vehicle"
        and any(r.type in ("DRIVES", "KEEPER_OF") for _, r in route.steps[0])
    )


def _own(town: Town, adult: str) -> _Own:
    rules = town.rules(adult)
    own = _Own(protected=len(rules.protected), family=len(rules.family))
    for route in own_routes(town, adult):
        own.paths.setdefault(route.young_person, []).append(route)
    for young_person, paths in own.paths.items():
        own.reach[young_person] = combined_reach(paths)
        carried = [p for p in paths if _carried(town, p)]
        if carried:
            own.vehicle_reach[young_person] = combined_reach(carried)
    adult_age = town.age(adult)
    for record in town.links.get(adult, ()):
        if not rules.carries_risk(town, adult, record):
            continue
        other = record.other(adult)
        if record.type == "ALLEGED_HARM" and town.is_young_person(other):
            own.allegations.append(record)
        factor = _CONTACT.get(record.type)
        if factor is None or not town.is_young_person(other):
            continue
        if rules.shields(other) and record.type != "PARTNER_OF":
            continue
        age = town.age(other)
        if age is not None and age >= 18:
            continue
        if age is not None and adult_age is not None and adult_age - age <= _PEER_AGE_GAP:
            factor /= 3.0
        value = factor * record.weight
        if value > own.contacts.get(other, (0.0, record))[0]:
            own.contacts[other] = (value, record)
    return own


def _own_score(town: Town, adult: str, own: _Own) -> dict[str, float]:
    components = {
        "reach": sum(own.reach.values()),
        "vulnerable_reach": sum(s * town.vulnerability(y) for y, s in own.reach.items()),
        "allegations": sum(r.weight for r in own.allegations),
        "under_18_contact": sum(v for v, _ in own.contacts.values()),
        "vehicles": sum(s * town.vulnerability(y) for y, s in own.vehicle_reach.items()),
        "associates": 0.0,
        "suspected": 1.0 if town.attributes(adult).get("suspected") else 0.0,
    }
    return components


def _weighted(components: Mapping[str, float]) -> float:
    return sum(COMPONENT_WEIGHTS[name] * components[name] for name in COMPONENT_WEIGHTS)


def _associates(
    town: Town, adult: str, own_scores: Mapping[str, float]
) -> tuple[float, list[tuple[float, str, Record, float]]]:
    """Links to other adults, each weighted by how much risk is organised around them."""
    rules = town.rules(adult)
    strongest: dict[str, list[Record]] = defaultdict(list)
    for record in town.links.get(adult, ()):
        other = record.other(adult)
        if (
            record.type in _ASSOCIATE
            and town.is_adult(other)
            and rules.carries_risk(town, adult, record)
        ):
            strongest[other].append(record)
    total = 0.0
    cited: list[tuple[float, str, Record, float]] = []
    for other, records in sorted(strongest.items()):
        score = own_scores.get(other, 0.0)
        if score <= 0:
            continue
        link = noisy_or(_ASSOCIATE[r.type] * r.weight for r in records)
        value = link * score / (score + CONCERN_SCORE)
        total += value
        best = max(records, key=lambda r: (r.weight, r.link_id))
        cited.append((value, other, best, score))
    cited.sort(key=lambda item: (-item[0], item[1]))
    return total, cited


def hubs_from_town(town: Town) -> list[Hub]:
    """:func:`perpetrator_hubs` on a graph already read into a :class:`Town`."""
    owns = {adult: _own(town, adult) for adult in town.adults}
    parts = {adult: _own_score(town, adult, own) for adult, own in owns.items()}
    own_scores = {adult: _weighted(c) for adult, c in parts.items()}
    scored: list[tuple[float, str, dict[str, float], list[tuple[float, str, Record, float]]]] = []
    for adult in town.adults:
        components = dict(parts[adult])
        components["associates"], cited = _associates(town, adult, own_scores)
        scored.append((_weighted(components), adult, components, cited))
    scored.sort(key=lambda item: (-round(item[0], 9), item[1]))
    hubs: list[Hub] = []
    for rank, (score, adult, components, cited) in enumerate(scored, start=1):
        own = owns[adult]
        hubs.append(_hub(town, adult, rank, score, components, own, cited))
    return hubs


def _hub(
    town: Town,
    adult: str,
    rank: int,
    score: float,
    components: dict[str, float],
    own: _Own,
    cited: list[tuple[float, str, Record, float]],
) -> Hub:
    counted = sorted(y for y, s in own.reach.items() if s >= _COUNTED)
    contexts = _contexts_used(town, own, counted)
    evidence = _evidence(own, cited)
    summary = dict(components)
    summary["young_people_reached"] = float(len(counted))
    summary["looked_after_reached"] = float(
        sum(bool(town.attributes(y).get("looked_after")) for y in counted)
    )
    summary["missing_reached"] = float(
        sum(bool(town.attributes(y).get("missing_episodes")) for y in counted)
    )
    summary["found_after_missing_reached"] = float(
        sum(town.found_after_missing(y) for y in counted)
    )
    summary["under_18_contacts"] = float(len(own.contacts))
    summary["allegation_count"] = float(len(own.allegations))
    latest = _latest(_evidence_records(own, cited))
    summary["recency"] = (
        0.5 ** (max(0, (town.as_of - latest).days) / town.half_life_days) if latest else 0.0
    )
    return Hub(
        id=adult,
        kind="adult",
        rank=rank,
        score=score,
        components=summary,
        evidence=[r.as_evidence() for r in evidence],
        explanation=_explain(town, adult, summary, own, cited, contexts, latest),
        concern=score >= CONCERN_SCORE,
        contexts=contexts,
        routes={
            y: [r.link_id for r in max(own.paths[y], key=_path_order).records] for y in counted
        },
        reach=dict(sorted(own.reach.items())),
    )


def _path_order(path: Route) -> tuple[float, list[str]]:
    return path.strength, [r.link_id for r in path.records]


def _evidence_records(own: _Own, cited: list[tuple[float, str, Record, float]]) -> Iterable[Record]:
    for paths in own.paths.values():
        for path in paths:
            yield from path.records
    yield from own.allegations
    for _, record in own.contacts.values():
        yield record
    for _, _, record, _ in cited:
        yield record


def _latest(records: Iterable[Record]) -> dt.date | None:
    days = [r.span[1] for r in records if r.span[1] is not None]
    return max(days) if days else None


def _contexts_used(town: Town, own: _Own, counted: list[str]) -> list[str]:
    """Places and vehicles through which the adult reaches young people, strongest first.

    The place where the young person is, and the vehicle the adult drives or keeps
    on the way there.
    """
    through: dict[str, float] = defaultdict(float)
    for young_person in counted:
        for path in own.paths[young_person]:
            if not path.via:
                continue
            through[path.via[-1]] += path.strength
            if len(path.via) > 1 and _carried(town, path):
                through[path.via[0]] += path.strength
    return [c for c, _ in sorted(through.items(), key=lambda item: (-item[1], item[0]))]


def _evidence(own: _Own, cited: list[tuple[float, str, Record, float]]) -> list[Record]:
    contribution: dict[str, tuple[float, Record]] = {}

    def add(record: Record, value: float) -> None:
        best = contribution.get(record.link_id)
        if best is None or value > best[0]:
            contribution[record.link_id] = (value, record)

    for record in own.allegations:
        add(record, 2.0 * record.weight)
    for value, record in own.contacts.values():
        add(record, value)
    for paths in own.paths.values():
        for path in paths:
            for record in path.records:
                add(record, path.strength)
    for value, _, record, _ in cited:
        add(record, value)
    ranked = sorted(contribution.values(), key=lambda item: (-item[0], item[1].link_id))
    return [record for _, record in ranked[:_EVIDENCE_CAP]]


def _plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


def _explain(
    town: Town,
    adult: str,
    summary: Mapping[str, float],
    own: _Own,
    cited: list[tuple[float, str, Record, float]],
    contexts: list[str],
    latest: dt.date | None,
) -> str:
    parts: list[str] = []
    reached = int(summary["young_people_reached"])
    if reached:
        details = []
        for key, label in (
            ("looked_after_reached", "looked after"),
            ("missing_reached", "with missing episodes"),
            ("found_after_missing_reached", "found somewhere after going missing"),
        ):
            if summary[key]:
                details.append(f"{int(summary[key])} {label}")
        detail = f" ({', '.join(details)})" if details else ""
        routes = []
        for context in contexts[:3]:
            routes.append(f"{town.kind.get(context, 'context')} {context}")
        direct = any(
            not p.via for y, paths in own.paths.items() if own.reach[y] >= _COUNTED for p in paths
        )
        if routes:
            route = (" directly and through " if direct else " through ") + " and ".join(routes)
        else:
            route = " directly"
        parts.append(f"Reaches {_plural(reached, 'young person', 'young people')}{detail}{route}")
    if own.allegations:
        ranked = sorted(own.allegations, key=lambda r: (-r.weight, r.link_id))
        shown = ", ".join(cite(r) for r in ranked[:3])
        more = ", …" if len(ranked) > 3 else ""
        parts.append(f"{_plural(len(ranked), 'allegation')} ({shown}{more})")
    if own.contacts:
        records = sorted(
            (r for _, r in own.contacts.values()), key=lambda r: (-r.weight, r.link_id)
        )
        shown = ", ".join(f"{r.type} {cite(r)}" for r in records[:2])
        parts.append(f"contact with {_plural(len(own.contacts), 'under-18')} ({shown})")
    concerning = [(other, record) for _, other, record, score in cited if score >= CONCERN_SCORE]
    if concerning:
        shown = ", ".join(f"{other} via {cite(record)}" for other, record in concerning[:2])
        more = ", …" if len(concerning) > 2 else ""
        parts.append(f"associates with adults of concern ({shown}{more})")
    if summary["suspected"]:
        parts.append("flagged as suspected by partners")
    if not parts and summary["reach"] + summary["associates"] > 0:
        text = "Only weak, indirect links to young people in the evidence"
    elif not parts:
        text = "No risk to young people found in the evidence"
    else:
        text = "; ".join(parts)
        text = text[0].upper() + text[1:]
    if own.protected or own.family:
        shielded = []
        if own.protected:
            shielded.append(f"supports {_plural(own.protected, 'young person', 'young people')}")
        if own.family:
            shielded.append(f"is family to {_plural(own.family, 'young person', 'young people')}")
        text += f"; protective relationships ({', '.join(shielded)}) are not counted as risk"
    if town.attributes(adult).get("professional"):
        text += "; work links of a professional are not counted as risk"
    if latest is not None and parts:
        text += f"; most recent {latest.isoformat()}"
    return text + "."


def perpetrator_hubs(
    graph: nx.MultiDiGraph, *, options: AnalysisOptions | None = None
) -> list[Hub]:
    """Score every adult for how much risk to young people is organised around them.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        graphguard's typed graph (from a store).
    options : AnalysisOptions, optional
        ``as_of`` and the half-life of evidence; the defaults if None.

    Returns
    -------
    list of Hub
        Every adult, best first (ties by id); never a young person.

    Examples
    --------
    >>> import datetime as dt
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("A1", kind="person", role="adult")
    >>> g.add_node("Y1", kind="person", role="young_person", missing_episodes=3)
    >>> g.add_edge("A1", "Y1", key="L1", link_id="L1", type="ALLEGED_HARM",
    ...            source_grade="1", intel_grade="B", last_seen=dt.date(2026, 1, 1))
    'L1'
    >>> [hub] = perpetrator_hubs(g)
    >>> hub.id, hub.kind, hub.rank
    ('A1', 'adult', 1)
    >>> "L1" in hub.explanation
    True
    """
    return hubs_from_town((options or AnalysisOptions()).town(graph))
