"""Risky contexts: the places and vehicles where adults of concern and young people meet.

Contextual Safeguarding asks where harm happens — a flat, a takeaway, a hotel, a
car — because disrupting the context protects every young person in it, and moving
one child does not.  A context scores by the *co-presence* there of adults around
whom risk is organised (weighted by their hub score, :mod:`.hubs`) and young people
(sightings, being carried, and above all being found there after going missing),
divided as Newman (2001) divides co-authorship by how many people the context
joins, so a busy shop or a school where everyone is seen ranks below a flat where
a few are.

``co_presence``
    Sum over each adult ``a`` and young person ``y`` linked to the context of
    ``concern(a) * presence(a) * exposure(y)``, where ``concern(a) = s / (s + 1)``
    for the adult's hub score ``s``, ``presence`` is the evidence weight of the
    adult's links there combined (an adult's vehicle seen there counts), and
    ``exposure`` is the young person's strongest link there, by type, times
    ``0.25 + vulnerability``.  A pair is discounted by how far apart in time they
    were there (in contexts linking more than 250 people the overlap is taken as 1).
``found_after_missing``
    Young people found there after going missing, by evidence: a place of concern
    even where no adult is known.
``score``
    ``(co_presence + 0.5 * found_after_missing) / max(1, people - 1)``, ``people``
    being everyone linked to the context at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from graphguard.analysis.hubs import CONCERN_SCORE, Hub, hubs_from_town
from graphguard.analysis.options import AnalysisOptions
from graphguard.analysis.town import Record, Town, cite, noisy_or, time_overlap

__all__ = ["Context", "risky_contexts", "contexts_from_town"]

#: How telling each kind of young person's presence is.
_EXPOSURE = {
    "FOUND_AT": 2.0,
    "PASSENGER_IN": 1.2,
    "SEEN_AT": 1.0,
    "DRIVES": 1.0,
    "KEEPER_OF": 1.0,
    "PLACED_AT": 0.5,
    "LIVES_AT": 0.5,
    "WORKS_AT": 0.5,
    "ATTENDS": 0.3,
}
#: How much of a presence an adult's link is.
_ADULT_PRESENCE = {
    "SEEN_AT": 1.0,
    "DRIVES": 1.0,
    "KEEPER_OF": 0.8,
    "LIVES_AT": 0.8,
    "PASSENGER_IN": 0.7,
    "WORKS_AT": 0.7,
    "ATTENDS": 0.3,
}
#: A young person with no recorded vulnerability counts this much of one who has them all.
_BASE_EXPOSURE = 0.25
_FOUND_WEIGHT = 0.5
#: In a context linking more people than this, the time overlap of each pair is not
#: computed (it is taken as 1): the score is divided by the number of people anyway,
#: and the pairs of a bus station used by thousands would cost more than the town.
_PAIRWISE_LIMIT = 250
_EVIDENCE_CAP = 8


@dataclass(frozen=True)
class Context:
    """One location or vehicle, its score, components and why.

    Attributes
    ----------
    id, kind : str
        The entity id and ``"location"`` or ``"vehicle"``.
    rank : int
        1 for the highest score.
    score : float
    components : dict of str to float
    adults_of_concern : list of str
        Adults of concern linked to the context, highest hub score first.
    evidence : list of dict
        The links the score rests on, strongest first.
    explanation : str
    details : dict
        ``name``, ``location_kind``, ``area``, ``private_hire``, ``operator``,
        ``registration`` — whichever are recorded.
    """

    id: str
    kind: str
    rank: int
    score: float
    components: dict[str, float]
    adults_of_concern: list[str]
    evidence: list[dict[str, Any]]
    explanation: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "rank": self.rank,
            "score": round(self.score, 4),
            **self.details,
            "components": {k: round(v, 4) for k, v in self.components.items()},
            "adults_of_concern": self.adults_of_concern,
            "evidence": self.evidence,
            "explanation": self.explanation,
        }


_DETAILS = ("name", "location_kind", "area", "private_hire", "operator", "registration")


def _exposure(record: Record) -> float:
    """School transport counts as attending school; everything else by its type."""
    return _EXPOSURE["ATTENDS"] if record.school_transport else _EXPOSURE.get(record.type, 0.0)


def _adults_present(town: Town, context: str) -> dict[str, list[tuple[float, Record]]]:
    """Each adult at the context by their own links or through a vehicle they drive."""
    present: dict[str, list[tuple[float, Record]]] = {}
    for who, presence in town.people_at(context).items():
        if town.is_adult(who):
            for record in presence.records:
                if town.rules(who).carries_risk(town, who, record):
                    value = _ADULT_PRESENCE.get(record.type, 0.0) * record.weight
                    present.setdefault(who, []).append((value, record))
        elif town.kind.get(who) == "vehicle":
            for sighting in presence.records:
                for use in town.links.get(who, ()):
                    driver = use.source
                    if use.type not in ("DRIVES", "KEEPER_OF") or not town.is_adult(driver):
                        continue
                    if town.rules(driver).carries_risk(town, driver, use):
                        value = _ADULT_PRESENCE[use.type] * use.weight * sighting.weight
                        present.setdefault(driver, []).append((value, sighting))
    return present


def contexts_from_town(town: Town, hubs: Sequence[Hub]) -> list[Context]:
    """:func:`risky_contexts` on a graph already read into a :class:`Town`."""
    scores = {hub.id: hub.score for hub in hubs}
    scored = []
    for context in town.contexts():
        scored.append(_score(town, context, scores))
    scored.sort(key=lambda item: (-round(item[0], 9), item[1]))
    return [
        _context(town, rank, score, context, parts)
        for rank, (score, context, parts) in enumerate(scored, start=1)
    ]


def _score(
    town: Town, context: str, scores: Mapping[str, float]
) -> tuple[float, str, dict[str, Any]]:
    adults = _adults_present(town, context)
    young: dict[str, tuple[float, Record]] = {}
    found = 0.0
    found_records: list[Record] = []
    for who, presence in town.people_at(context).items():
        if not town.is_young_person(who):
            continue
        best = max(presence.records, key=lambda r: (_exposure(r) * r.weight, r.link_id))
        boost = _BASE_EXPOSURE + town.vulnerability(who)
        young[who] = (_exposure(best) * best.weight * boost, best)
        for record in presence.records:
            if record.type == "FOUND_AT":
                found += record.weight
                found_records.append(record)
    co_presence = 0.0
    concern_of: dict[str, float] = {}
    cited: dict[str, tuple[float, Record]] = {}
    present: list[tuple[float, Record]] = []
    for adult, presences in adults.items():
        score = scores.get(adult, 0.0)
        if score <= 0:
            continue
        concern_of[adult] = score
        value = noisy_or(v for v, _ in presences)
        _, best = max(presences, key=lambda item: (item[0], item[1].link_id))
        present.append((score / (score + CONCERN_SCORE) * value, best))
    if town.busyness(context) > _PAIRWISE_LIMIT:
        exposure_total = sum(e for e, _ in young.values())
        co_presence = sum(weight for weight, _ in present) * exposure_total
        for weight, record in present:
            cited[record.link_id] = (weight * exposure_total, record)
    else:
        for weight, record in present:
            for exposure, seen in young.values():
                pair = weight * exposure * time_overlap(record, seen, town.half_life_days)
                co_presence += pair
                for link in (record, seen):
                    if pair > cited.get(link.link_id, (0.0, link))[0]:
                        cited[link.link_id] = (pair, link)
    for record in found_records:
        cited.setdefault(record.link_id, (record.weight, record))
    people = town.busyness(context)
    score = (co_presence + _FOUND_WEIGHT * found) / max(1, people - 1)
    parts: dict[str, Any] = {
        "co_presence": co_presence,
        "found_after_missing": found,
        "people_linked": people,
        "young_people": young,
        "adults": concern_of,
        "cited": cited,
    }
    return score, context, parts


def _context(town: Town, rank: int, score: float, context: str, parts: dict[str, Any]) -> Context:
    young: dict[str, tuple[float, Record]] = parts["young_people"]
    adults: dict[str, float] = parts["adults"]
    of_concern = sorted(
        (a for a, s in adults.items() if s >= CONCERN_SCORE), key=lambda a: (-adults[a], a)
    )
    found_here = sorted({r.source for r in _records(parts) if r.type == "FOUND_AT"})
    looked_after = sum(bool(town.attributes(y).get("looked_after")) for y in young)
    components = {
        "co_presence": parts["co_presence"],
        "found_after_missing": parts["found_after_missing"],
        "people_linked": float(parts["people_linked"]),
        "young_people": float(len(young)),
        "young_people_found_here": float(len(found_here)),
        "looked_after_young_people": float(looked_after),
        "adults_of_concern": float(len(of_concern)),
    }
    cited = sorted(parts["cited"].values(), key=lambda item: (-item[1].weight, item[1].link_id))
    evidence = [record for _, record in cited[:_EVIDENCE_CAP]]
    data = town.attributes(context)
    details = {name: data[name] for name in _DETAILS if data.get(name) is not None}
    if details.get("location_kind") == "home":
        details.pop("name", None)  # a family home's name is its address: personal data
    return Context(
        id=context,
        kind=town.kind[context],
        rank=rank,
        score=score,
        components=components,
        adults_of_concern=of_concern,
        evidence=[r.as_evidence() for r in evidence],
        explanation=_explain(town, context, components, of_concern, evidence, details),
        details=details,
    )


def _records(parts: dict[str, Any]) -> list[Record]:
    return [record for _, record in parts["cited"].values()]


def _explain(
    town: Town,
    context: str,
    components: Mapping[str, float],
    adults: list[str],
    evidence: list[Record],
    details: Mapping[str, Any],
) -> str:
    what = details.get("location_kind") or town.kind[context]
    if details.get("private_hire"):
        what = "private-hire vehicle" + (
            f" ({details['operator']})" if details.get("operator") else ""
        )
    name = f" {details['name']}" if details.get("name") else ""
    what = what.replace("_", " ")
    head = f"{what[:1].upper()}{what[1:]} {context}{name}"
    young = int(components["young_people"])
    found = int(components["young_people_found_here"])
    parts = []
    if adults:
        listed = ", ".join(adults[:4]) + (", …" if len(adults) > 4 else "")
        parts.append(f"{len(adults)} adult{'s' if len(adults) != 1 else ''} of concern ({listed})")
    if young:
        detail = []
        if found:
            detail.append(f"{found} found here after going missing")
        if components["looked_after_young_people"]:
            detail.append(f"{int(components['looked_after_young_people'])} looked after")
        extra = f" ({', '.join(detail)})" if detail else ""
        parts.append(f"{young} young {'person' if young == 1 else 'people'}{extra}")
    if not parts:
        return f"{head}: no adult of concern or young person linked."
    text = f"{head}: {' and '.join(parts)} linked to it"
    if evidence:
        shown = ", ".join(cite(r) for r in evidence[:3])
        text += f", e.g. {shown}"
    people = int(components["people_linked"])
    text += f"; {people} {'person' if people == 1 else 'people'} in all are linked to it."
    return text


def risky_contexts(
    graph: nx.MultiDiGraph,
    *,
    hubs: Sequence[Hub] | None = None,
    options: AnalysisOptions | None = None,
) -> list[Context]:
    """Rank every location and vehicle by the risk to young people organised there.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        graphguard's typed graph.
    hubs : list of Hub, optional
        The perpetrator-centred hubs (their scores weight the adults); computed if None.
    options : AnalysisOptions, optional
        ``as_of`` and the half-life of evidence; the defaults if None.

    Returns
    -------
    list of Context
        Every location and vehicle, best first (ties by id).
    """
    town = (options or AnalysisOptions()).town(graph)
    if hubs is None:
        hubs = hubs_from_town(town)
    return contexts_from_town(town, hubs)
