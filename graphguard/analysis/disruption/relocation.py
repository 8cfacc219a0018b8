"""Relocation compared with disruption: what moving a child cuts, and what it leaves.

Moving a child away cuts their place-based ties and their protective ties, but not
the contact that adults who exploit children keep up; the adults and contexts stay
where they are, exposing the other young people around them — the *victim vacuum*
(Firmin).  :func:`relocation_comparison` puts the numbers side by side with
disrupting the child's adults and contexts instead.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from graphguard.analysis.disruption.exposure import DIGITS, Exposure, entity_label, surviving
from graphguard.analysis.disruption.impact import (
    LINKED_FALL,
    _prepare,
    candidates,
    greedy_plan,
)
from graphguard.analysis.hubs import Hub
from graphguard.analysis.options import AnalysisOptions
from graphguard.analysis.town import Record, Town
from graphguard.errors import UsageError

__all__ = [
    "Alternative",
    "ProtectiveTie",
    "RelocationComparison",
    "Placement",
    "VacuumEntry",
    "current_placement",
    "relocation_comparison",
    "relocation_conclusion",
    "relocation_cuts",
]

_CONTEXTS = frozenset({"location", "vehicle"})
#: A young person's links to places that a move cuts.
_PLACE_TYPES = frozenset({"LIVES_AT", "PLACED_AT", "ATTENDS", "SEEN_AT", "FOUND_AT", "WORKS_AT"})


@dataclass(frozen=True)
class ProtectiveTie:
    """A protective relationship a move would cut.

    ``reason`` is ``family``, ``school``, ``club or activity`` (ATTENDS elsewhere),
    ``trusted adult`` or ``marked protective``;
    ``distance_m`` is how far its other end is from the address checked, where known.
    """

    link_id: str
    type: str
    other: str
    other_kind: str
    label: str
    reason: str
    reference: str | None
    grading: str
    first_seen: dt.date | None
    last_seen: dt.date | None
    distance_m: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "link_id": self.link_id,
            "type": self.type,
            "other": self.other,
            "other_kind": self.other_kind,
            "label": self.label,
            "reason": self.reason,
            "reference": self.reference,
            "grading": self.grading,
            "first_seen": self.first_seen.isoformat() if self.first_seen else None,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "distance_m": None if self.distance_m is None else round(self.distance_m),
        }


def _tie_reason(graph: nx.MultiDiGraph, record: Record) -> str | None:
    if record.type == "FAMILY_OF":
        return "family"
    if record.type == "ATTENDS":
        school = graph.nodes[record.target].get("location_kind") == "school"
        return "school" if school else "club or activity"
    if record.type == "SUPPORTS":
        return "trusted adult"
    if record.protective:
        return "marked protective"
    return None


def relocation_cuts(
    graph: nx.MultiDiGraph, young_person_id: str, *, exposure: Exposure | None = None
) -> tuple[list[str], list[ProtectiveTie], list[str]]:
    """The links a move would cut, the protective ties among them, and the links kept.

    A move cuts the young person's place-based ties — living, placed, attending,
    working, seen or found at a (non-online) location — their association with
    local peers (ASSOCIATES_WITH another young person), and every protective tie:
    FAMILY_OF, SUPPORTS, ATTENDS and any link marked protective.  It keeps phone,
    message and online contact (CONTACTED, online places), intimate and harmful
    relationships (PARTNER_OF, ALLEGED_HARM), links with adults who are not
    protective, and vehicles: adults who exploit children keep in touch, and a car
    can come to wherever the child is.

    Returns
    -------
    cut : list of str
        Link ids cut, in id order.
    ties : list of ProtectiveTie
        The protective ties among them, in link id order.
    kept : list of str
        Link ids the move keeps, in id order.
    """
    town = exposure.town if exposure is not None else Town(graph)
    if not town.is_young_person(young_person_id):
        raise UsageError(f"{young_person_id} is not a young person in the graph")
    cut: list[str] = []
    kept: list[str] = []
    ties: list[ProtectiveTie] = []
    for record in sorted(town.links.get(young_person_id, ()), key=lambda r: r.link_id):
        other = record.other(young_person_id)
        reason = _tie_reason(graph, record)
        located = town.kind.get(other) == "location"
        online = located and graph.nodes[other].get("location_kind") == "online"
        local_peer = record.type == "ASSOCIATES_WITH" and town.is_young_person(other)
        place = record.type in _PLACE_TYPES and located and not online
        if reason is not None or place or local_peer:
            cut.append(record.link_id)
            if reason is not None:
                ties.append(_tie(graph, town, record, other, reason))
        else:
            kept.append(record.link_id)
    return cut, ties, kept


def _tie(
    graph: nx.MultiDiGraph, town: Town, record: Record, other: str, reason: str
) -> ProtectiveTie:
    return ProtectiveTie(
        link_id=record.link_id,
        type=record.type,
        other=other,
        other_kind=town.kind.get(other, ""),
        label=entity_label(graph, other),
        reason=reason,
        reference=record.reference,
        grading=record.evidence.label,
        first_seen=record.first_seen,
        last_seen=record.last_seen,
    )


@dataclass(frozen=True)
class VacuumEntry:
    """Another young person still exposed to the same adults and contexts.

    ``likelihood = shared_exposure * (1 + vulnerability)``: who is most likely to be
    drawn in next.
    """

    young_person: str
    shared_exposure: float
    vulnerability: float
    likelihood: float
    adults: list[str]
    contexts: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "young_person": self.young_person,
            "shared_exposure": round(self.shared_exposure, 4),
            "vulnerability": round(self.vulnerability, 4),
            "likelihood": round(self.likelihood, 4),
            "adults": self.adults,
            "contexts": self.contexts,
        }


@dataclass(frozen=True)
class Alternative:
    """Disrupting some of the child's adults or contexts instead of moving the child."""

    name: str
    targets: list[str]
    labels: list[str]
    total_fall: float
    own_after: float
    others_fall: float
    young_people_protected: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "targets": self.targets,
            "labels": self.labels,
            "total_fall": round(self.total_fall, 4),
            "own_exposure_after": round(self.own_after, 4),
            "others_fall": round(self.others_fall, 4),
            "young_people_protected": self.young_people_protected,
        }


@dataclass(frozen=True)
class RelocationComparison:
    """Moving one young person compared with disrupting what exposes them.

    Attributes
    ----------
    young_person : str
    as_of : date
    exposure_now, exposure_if_moved : float
        The young person's own exposure now and after a move.
    kept : list of dict
        Each adult of concern who still reaches them after a move: ``adult``,
        ``reach_now``, ``reach_if_moved`` and the link ids still joining them.
    cut_links : list of str
    protective_ties : list of ProtectiveTie
    relocation_total_fall : float
        The fall in total exposure (all young people) that moving them gives.
    vacuum : list of VacuumEntry
        The other young people still exposed to the same adults and contexts after
        the move, most likely to be drawn in next first.
    alternatives : list of Alternative
        Disrupting the contexts, the adults, and both, chosen greedily from those
        that expose this young person.
    move : Alternative
        The move itself in the same terms, so it can be set beside the
        alternatives: its total fall, their exposure after, the others' fall (the
        peers whose routes ran through them) and how many young people's exposure
        falls by at least ``LINKED_FALL``.
    """

    young_person: str
    as_of: dt.date
    exposure_now: float
    exposure_if_moved: float
    kept: list[dict[str, Any]]
    cut_links: list[str]
    protective_ties: list[ProtectiveTie]
    relocation_total_fall: float
    vacuum: list[VacuumEntry]
    alternatives: list[Alternative]
    move: Alternative
    #: The protective ties an earlier move already ended (last seen before it).
    ties_already_cut: list[ProtectiveTie] = field(default_factory=list)
    #: Where the young person lives or is placed now, if recorded (:class:`Placement`).
    placement: Placement | None = None
    #: The comparison in plain words, ending with what to do.
    conclusion: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "young_person": self.young_person,
            "as_of": self.as_of.isoformat(),
            "exposure_now": round(self.exposure_now, 4),
            "exposure_if_moved": round(self.exposure_if_moved, 4),
            "relocation_total_fall": round(self.relocation_total_fall, 4),
            "kept_after_move": self.kept,
            "cut_links": self.cut_links,
            "protective_ties_cut": [t.as_dict() for t in self.protective_ties],
            "victim_vacuum": [v.as_dict() for v in self.vacuum],
            "alternatives": [a.as_dict() for a in self.alternatives],
            "move": self.move.as_dict(),
            "placement": self.placement.as_dict() if self.placement else None,
            "protective_ties_already_cut": [t.as_dict() for t in self.ties_already_cut],
            "conclusion": self.conclusion,
        }


def relocation_comparison(
    graph: nx.MultiDiGraph,
    young_person_id: str,
    *,
    exposure: Exposure | None = None,
    hubs: Sequence[Hub] | None = None,
    options: AnalysisOptions | None = None,
    k: int = 3,
    vacuum_size: int = 10,
) -> RelocationComparison:
    """A young person's exposure now and if moved, the victim vacuum, and the alternatives.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
    young_person_id : str
    exposure : Exposure, optional
        Computed on ``graph`` if None (with ``hubs`` and ``options``).
    options : AnalysisOptions, optional
        ``as_of`` and the half-life; checked against ``exposure`` when both are given.
    k : int, default 3
        How many targets each alternative disrupts.
    vacuum_size : int, default 10
        How many other young people the victim vacuum lists.

    Notes
    -----
    The move is modelled by :func:`relocation_cuts`.  The victim vacuum is every
    other young person reached, after the move, by an adult who reaches this one or
    through a context on this one's routes; their ``shared_exposure`` counts only
    those routes.  The alternatives are greedy plans (:func:`greedy_plan`) over the
    targets on this young person's routes: the locations, vehicles and businesses
    ("disrupt the contexts"), the adults ("disrupt the adults"), and both.
    """
    ex = _prepare(graph, exposure, hubs, options)
    town = ex.town
    cut, ties, _ = relocation_cuts(graph, young_person_id, exposure=ex)
    placement = current_placement(graph, young_person_id, ex.as_of, town=town)
    ties, ties_already_cut = _still_there(ties, placement)
    moved = ex.what_if(cut_links=cut)
    own_now = ex.of(young_person_id)
    own_after = own_now - moved.young_people.get(young_person_id, 0.0)
    cut_set = frozenset(cut)
    kept: list[dict[str, Any]] = []
    own_pairs = ex.pairs_of(young_person_id)
    adults: set[str] = set()
    contexts: set[str] = set()
    for pair in own_pairs:
        adults.add(ex.pair_adult[pair])
        survivors = [
            (route, strength)
            for route in (ex.routes[r] for r in ex.pair_routes[pair])
            if (strength := surviving(route, frozenset(), cut_set, ex.half_life_days)) > 0
        ]
        for r in ex.pair_routes[pair]:
            contexts.update(e for e in ex.routes[r].via if town.kind.get(e) in _CONTEXTS)
        if survivors:
            reach = 1.0 - math.prod(1.0 - strength for _, strength in survivors)
            links = sorted(
                {link for route, _ in survivors for link in route.links if link not in cut_set}
            )
            kept.append(
                {
                    "adult": ex.pair_adult[pair],
                    "reach_now": round(ex.pair_reach[pair], 4),
                    "reach_if_moved": round(reach, 4),
                    "links": links,
                }
            )
    kept.sort(key=lambda item: (-item["reach_if_moved"], item["adult"]))
    vacuum = _vacuum(ex, young_person_id, cut_set)[:vacuum_size]
    pool = [
        c
        for c in candidates(graph, ex)
        if (c.kind == "adult" and c.id in adults)
        or (c.kind != "adult" and not contexts.isdisjoint(c.members))
    ]
    alternatives = []
    for name, kinds in (
        ("disrupt the contexts", {"location", "vehicle", "business"}),
        ("disrupt the adults", {"adult"}),
        ("disrupt adults and contexts", {"adult", "location", "vehicle", "business"}),
    ):
        plan = greedy_plan(graph, k, exposure=ex, targets=[c for c in pool if c.kind in kinds])
        removed = frozenset(m for step in plan.steps for m in step.target.members)
        result = ex.what_if(without=removed)
        own_fall = result.young_people.get(young_person_id, 0.0)
        alternatives.append(
            Alternative(
                name=name,
                targets=plan.targets,
                labels=[step.target.label for step in plan.steps],
                total_fall=result.fall,
                own_after=own_now - own_fall,
                others_fall=result.fall - own_fall,
                young_people_protected=sum(
                    1 for fall in result.young_people.values() if fall >= LINKED_FALL
                ),
            )
        )
    comparison = RelocationComparison(
        young_person=young_person_id,
        as_of=ex.as_of,
        exposure_now=own_now,
        exposure_if_moved=own_after,
        kept=kept,
        cut_links=cut,
        protective_ties=ties,
        relocation_total_fall=moved.fall,
        vacuum=vacuum,
        alternatives=alternatives,
        move=Alternative(
            name="move the young person",
            targets=[],
            labels=[],
            total_fall=moved.fall,
            own_after=own_after,
            others_fall=moved.fall - (own_now - own_after),
            young_people_protected=sum(
                1 for fall in moved.young_people.values() if fall >= LINKED_FALL
            ),
        ),
        ties_already_cut=ties_already_cut,
        placement=placement,
    )
    return dataclasses.replace(comparison, conclusion=relocation_conclusion(comparison))


def _vacuum(ex: Exposure, young_person: str, cut: frozenset[str]) -> list[VacuumEntry]:
    """Other young people exposed, after the move, to this one's adults and contexts.

    Each adult counts by how strongly they reach this young person, relative to the
    strongest (``w_a = reach(a, y) / max reach(., y)``); each context on this young
    person's routes by their strongest route through it, relative to their
    strongest route of all.  An adult's routes to another young person count in
    full times ``w_a``; another adult's routes count only through those contexts,
    times the context's weight.
    """
    town = ex.town
    own = ex.pairs_of(young_person)
    strongest = max((ex.pair_reach[p] for p in own), default=0.0)
    if strongest <= 0:
        return []
    adult_weight = {ex.pair_adult[p]: ex.pair_reach[p] / strongest for p in own}
    best_route = max(ex.routes[r].strength for p in own for r in ex.pair_routes[p])
    context_weight: dict[str, float] = {}
    for pair in own:
        for r in ex.pair_routes[pair]:
            route = ex.routes[r]
            for entity in route.via:
                if town.kind.get(entity) in _CONTEXTS:
                    weight = route.strength / best_route
                    context_weight[entity] = max(context_weight.get(entity, 0.0), weight)
    shared: dict[str, float] = defaultdict(float)
    via_adults: dict[str, set[str]] = defaultdict(set)
    via_contexts: dict[str, set[str]] = defaultdict(set)
    for pair in ex.touched(set(adult_weight) | set(context_weight)):
        other = ex.pair_young[pair]
        if other == young_person:
            continue
        adult = ex.pair_adult[pair]
        remaining = 1.0
        for r in ex.pair_routes[pair]:
            route = ex.routes[r]
            strength = surviving(route, frozenset(), cut, ex.half_life_days)
            if strength <= 0:
                continue
            through = [c for c in route.via if c in context_weight]
            via_contexts[other].update(through)
            if adult in adult_weight:
                remaining *= 1.0 - strength
            elif through:
                remaining *= 1.0 - strength * max(context_weight[c] for c in through)
        reach = 1.0 - remaining
        if reach <= 0:
            continue
        if adult in adult_weight:
            reach *= adult_weight[adult]
            via_adults[other].add(adult)
        shared[other] += ex.concern[adult] * reach
    entries = []
    for other, value in shared.items():
        if round(value, DIGITS) <= 0:
            continue
        vulnerability = town.vulnerability(other)
        entries.append(
            VacuumEntry(
                young_person=other,
                shared_exposure=value,
                vulnerability=vulnerability,
                likelihood=value * (1.0 + vulnerability),
                adults=sorted(via_adults[other]),
                contexts=sorted(via_contexts[other]),
            )
        )
    entries.sort(key=lambda e: (-round(e.likelihood, DIGITS), e.young_person))
    return entries


# --------------------------------------------------------------------------- placement now


@dataclass(frozen=True)
class Placement:
    """Where a young person lives or is placed now: the latest home or placement link.

    ``out_of_area`` is the recorded ``placement_area`` of a looked-after child.
    """

    link_id: str
    type: str
    location: str
    label: str
    since: dt.date | None
    out_of_area: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "link_id": self.link_id,
            "type": self.type,
            "location": self.location,
            "label": self.label,
            "since": self.since.isoformat() if self.since else None,
            "out_of_area": self.out_of_area,
        }


_HOME_TYPES = frozenset({"LIVES_AT", "PLACED_AT"})


def current_placement(
    graph: nx.MultiDiGraph,
    young_person_id: str,
    as_of: dt.date | None = None,
    *,
    town: Town | None = None,
) -> Placement | None:
    """The young person's home or placement now: the one begun last, on or before ``as_of``.

    None when no LIVES_AT or PLACED_AT link is recorded.  A placement and a home
    begun the same day count as the placement (it is what the care plan says).
    """
    town = town or Town(graph)
    homes = [
        record
        for record in town.links.get(young_person_id, ())
        if record.type in _HOME_TYPES
        and record.source == young_person_id
        and (as_of is None or record.first_seen is None or record.first_seen <= as_of)
    ]
    if not homes:
        return None
    latest = max(
        homes,
        key=lambda r: (r.first_seen or dt.date.min, r.type == "PLACED_AT", r.link_id),
    )
    data = graph.nodes[young_person_id]
    return Placement(
        link_id=latest.link_id,
        type=latest.type,
        location=latest.target,
        label=entity_label(graph, latest.target),
        since=latest.first_seen,
        out_of_area=str(data.get("placement_area") or "") == "out_of_area",
    )


def _still_there(
    ties: list[ProtectiveTie], placement: Placement | None
) -> tuple[list[ProtectiveTie], list[ProtectiveTie]]:
    """The ties that exist now, and those last seen before the current home or placement.

    A tie last seen before the young person moved to where they live now was cut by
    that move: a new move cannot cut it again, so it is not counted against one.  A
    family tie counts as cut only by a care placement: a family that moves house
    moves with its children, and a relative's last record is not the end of them.
    """
    since = placement.since if placement is not None else None
    if placement is None or since is None:
        return ties, []
    placed = placement.type == "PLACED_AT"
    ended = [
        tie
        for tie in ties
        if tie.last_seen is not None
        and tie.last_seen < since
        and (placed or tie.type != "FAMILY_OF")
    ]
    return [tie for tie in ties if tie not in ended], ended


# --------------------------------------------------------------------------- in plain words


def _names(items: Sequence[str], limit: int = 4) -> str:
    shown = list(items[:limit])
    if len(items) > limit:
        shown.append(f"{len(items) - limit} more")
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def _count(number: int, noun: str, many: str) -> str:
    return f"{number} {noun if number == 1 else many}"


def _ties(ties: Sequence[ProtectiveTie]) -> str:
    return "; ".join(f"{tie.reason}: {tie.label}" for tie in ties)


def relocation_conclusion(comparison: RelocationComparison) -> str:
    """What the comparison means, in words a social-work manager can act on.

    The first line is the course the numbers support; the next lines say why: whether
    the young person was already moved and what that move cut, what a (new) move
    would cut and leave in place, who else stays exposed, and what disrupting does
    instead.  Lines are separated by newlines.
    """
    who = comparison.young_person
    now = comparison.exposure_now
    if now <= 0:
        return (
            f"No adult of concern reaches {who} in this data (exposure 0.00): nothing "
            "here argues for moving them."
        )
    placed = comparison.placement
    moved_before = placed is not None and placed.type == "PLACED_AT"
    again = " again" if moved_before else ""
    ties = comparison.protective_ties
    best = max(comparison.alternatives, key=lambda a: a.total_fall, default=None)
    moving = comparison.relocation_total_fall
    lines: list[str] = []
    if best is None or best.total_fall <= 0 or not best.targets:
        lines.append(
            f"Nothing on {who}'s routes can be disrupted in this data: plan around the "
            "protective ties they have and review what partners record."
        )
    elif best.total_fall > moving:
        keep = f", and keep the protective ties {who} has now" if ties else ""
        lines.append(
            f"Do not move {who}{again}: disrupt {_names(best.labels or best.targets)} with "
            f"the partner agencies{keep}."
        )
    else:
        lines.append(
            f"Disrupt {_names(best.labels or best.targets)} first; a move{again} removes "
            f"as much of {who}'s exposure but protects no one else, so weigh it only for "
            "their immediate safety."
        )
    if placed is not None and moved_before:
        where = " out of area" if placed.out_of_area else ""
        since = f" since {placed.since.isoformat()}" if placed.since else ""
        line = f"{who} was already moved (placed{where} at {placed.label}{since})"
        if comparison.ties_already_cut:
            line += f"; that move cut {_ties(comparison.ties_already_cut)}"
        lines.append(line + f". Their exposure is still {now:.2f}.")
    kept = [item["adult"] for item in comparison.kept]
    contact = f"{_names(kept)} would still be in contact with them, and" if kept else "but"
    cut = (
        f"would cut the {_count(len(ties), 'protective tie', 'protective ties')} they have "
        f"now ({_ties(ties)})"
        if ties
        else "would cut no protective tie on record"
    )
    lines.append(
        f"{'Another move' if moved_before else 'A move'} {cut}. Their own exposure would fall to "
        f"{comparison.exposure_if_moved:.2f} only because they would be further away: "
        f"{contact} no adult would be stopped."
    )
    if comparison.vacuum:
        lines.append(
            "The same adults and places would go on exposing "
            f"{_count(len(comparison.vacuum), 'other young person', 'other young people')}, "
            f"{comparison.vacuum[0].young_person} first."
        )
    if best is not None and best.total_fall > 0 and best.targets:
        times = f" ({best.total_fall / moving:.1f} times what a move removes)" if moving > 0 else ""
        lines.append(
            f"Disrupting them brings {who}'s exposure to {best.own_after:.2f} "
            f"and removes {best.total_fall:.2f} of all young people's exposure{times}, "
            f"protecting {_count(best.young_people_protected, 'young person', 'young people')}."
        )
    return "\n".join(lines)
