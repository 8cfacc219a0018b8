"""Routes: the ways an adult reaches a young person in at most three steps.

One route finder serves both the perpetrator-centred hubs (:mod:`.hubs`, whose
``reach`` combines an adult's *own* routes) and exposure
(:mod:`.disruption.exposure`, which adds routes through an associate or a peer), so
the two can never weigh the same evidence differently.  The shapes:

``direct`` (1 step)
    ALLEGED_HARM, PARTNER_OF, CONTACTED or ASSOCIATES_WITH between the adult and the
    young person.
``context`` (2 steps)
    the adult and the young person linked to one place or vehicle.
``vehicle`` (3 steps)
    a vehicle the adult uses, seen (SEEN_AT) at a place where the young person is.
``associate`` (2 steps, exposure only)
    an adult of concern in contact with an adult *not* of concern who has a direct
    link with the young person.
``peer`` (2 steps, exposure only)
    a young person the adult reaches directly, in contact with another young person.

A **step** is every record joining two entities, combined as independent reports
("noisy or") and cited by its strongest record, so repeating a record cannot
multiply the routes through a place: a route through a place is never stronger than
the evidence that the young person was there.  A route's strength is
``scale * prod(step values)``: ``scale`` is the step decay (:data:`STEP_DECAY`) times
the busy-place discount of the place the young person is at; a step's value is
``noisy_or(factor * weight * overlap)`` over its records, ``overlap`` being the time
overlap with the strongest record of the step before.

**The protective rule**, once for every shape: a link marked protective, SUPPORTS,
FAMILY_OF and school transport are never a step of a route, wherever they are on
it; which of the adult's own links carry risk is :class:`~.town.RiskRules`'
decision (ALLEGED_HARM and PARTNER_OF always do); and a young person the adult is
family to or protective of is reached only by a direct ALLEGED_HARM or PARTNER_OF
link.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from graphguard.analysis.town import Record, RiskRules, Town, time_overlap

__all__ = [
    "ADULT_PRESENCE",
    "ASSOCIATE_FACTORS",
    "DIRECT_FACTORS",
    "NEGLIGIBLE",
    "OWN_SHAPES",
    "PEER_FACTORS",
    "STEP_DECAY",
    "YOUNG_PRESENCE",
    "Route",
    "busy_discount",
    "combined_reach",
    "exposure_routes",
    "own_routes",
    "usable",
]

#: How telling a direct link between an adult and a young person is.
DIRECT_FACTORS: Mapping[str, float] = {
    "ALLEGED_HARM": 1.0,
    "PARTNER_OF": 1.0,
    "CONTACTED": 0.8,
    "ASSOCIATES_WITH": 0.7,
}
#: How much an adult's link puts them *at* a place or in a vehicle.
ADULT_PRESENCE: Mapping[str, float] = {
    "SEEN_AT": 1.0,
    "DRIVES": 1.0,
    "KEEPER_OF": 0.8,
    "LIVES_AT": 0.8,
    "PASSENGER_IN": 0.7,
    "WORKS_AT": 0.5,
    "ATTENDS": 0.3,
}
#: How telling a young person's presence at a place or in a vehicle is of exposure.
YOUNG_PRESENCE: Mapping[str, float] = {
    "FOUND_AT": 1.0,
    "PASSENGER_IN": 0.8,
    "SEEN_AT": 0.7,
    "DRIVES": 0.5,
    "KEEPER_OF": 0.5,
    "PLACED_AT": 0.4,
    "LIVES_AT": 0.3,
    "WORKS_AT": 0.3,
    "ATTENDS": 0.15,
}
#: An adult of concern's link to an associate (an adult not of concern) through whom
#: a young person is reached.
ASSOCIATE_FACTORS: Mapping[str, float] = {
    "CONTACTED": 1.0,
    "ASSOCIATES_WITH": 0.8,
    "PARTNER_OF": 0.8,
}
#: A young person's link to a peer through whom the peer is drawn in.  Low on
#: purpose: two young people associating says much less than being found at a flat.
PEER_FACTORS: Mapping[str, float] = {
    "PARTNER_OF": 0.3,
    "ASSOCIATES_WITH": 0.25,
    "CONTACTED": 0.2,
}
#: Decay of a route's strength with the steps it takes to reach a young person.
STEP_DECAY: Mapping[int, float] = {1: 1.0, 2: 0.5, 3: 0.25}
#: Routes weaker than this are not followed (they could not change a ranking).
NEGLIGIBLE = 1e-3
#: The shapes that make up an adult's own reach (a hub's ``reach``).
OWN_SHAPES: frozenset[str] = frozenset({"direct", "context", "vehicle"})

#: A place or vehicle with this many people linked to it counts half.
_BUSY_AT = 10.0
#: Links that reach a young person even when the adult is otherwise protective of them.
_ALWAYS = frozenset({"ALLEGED_HARM", "PARTNER_OF"})
_NEVER = frozenset({"FAMILY_OF", "SUPPORTS"})

#: One step of a route: each record joining its two ends, with its type factor.
Step = tuple[tuple[float, Record], ...]


def busy_discount(people: int) -> float:
    """A place or vehicle many people are linked to says little about any two of them.

    >>> busy_discount(10), round(busy_discount(100), 3)
    (0.5, 0.01)
    """
    return 1.0 / (1.0 + (people / _BUSY_AT) ** 2)


def usable(record: Record) -> bool:
    """Whether a link can be a step after the adult's own (the protective rule)."""
    return not record.protective and record.type not in _NEVER and not record.school_transport


def _step(step: Step, before: Record | None, half_life_days: float) -> tuple[float, Record]:
    """A step's value (its records as independent reports) and its strongest record.

    Each record is discounted by its time overlap with ``before``, the strongest
    record of the step before (none for the first step); ties go to the larger id.
    """
    remaining = 1.0
    best: Record | None = None
    best_value = -1.0
    for factor, record in step:
        value = factor * record.weight
        if before is not None:
            value *= time_overlap(before, record, half_life_days)
        remaining *= 1.0 - value
        if best is None or (value, record.link_id) > (best_value, best.link_id):
            best, best_value = record, value
    assert best is not None, "a step has at least one record"
    return 1.0 - remaining, best


def _combine(steps: Iterable[Step], half_life_days: float) -> tuple[float, tuple[Record, ...]]:
    """The product of the steps' values, and the strongest record of each step."""
    value = 1.0
    cited: list[Record] = []
    before: Record | None = None
    for step in steps:
        step_value, before = _step(step, before, half_life_days)
        value *= step_value
        cited.append(before)
    return value, tuple(cited)


@dataclass(frozen=True, slots=True)
class Route:
    """One way an adult reaches a young person.

    Attributes
    ----------
    adult, young_person : str
        The ends.
    strength : float
        In ``[0, 1]``: ``scale`` times the product of the steps' values.
    via : tuple of str
        The entities between them, from the adult's end (empty for a direct link).
    records : tuple of Record
        The strongest record of each step, from the adult's end: what an
        explanation cites.
    shape : str
        ``direct``, ``context``, ``vehicle``, ``associate`` or ``peer``.
    steps : tuple of Step
        Every record of each step with its type factor.
    scale : float
        Step decay times the busy-place discount.
    """

    adult: str
    young_person: str
    strength: float
    via: tuple[str, ...]
    records: tuple[Record, ...]
    shape: str
    steps: tuple[Step, ...]
    scale: float

    @property
    def entities(self) -> tuple[str, ...]:
        """The adult and every entity between them: what a disruption can remove."""
        return (self.adult, *self.via)

    @property
    def every_record(self) -> tuple[Record, ...]:
        """Every record on the route, in step order (``records`` cites one per step)."""
        return tuple(record for step in self.steps for _, record in step)

    @property
    def links(self) -> tuple[str, ...]:
        """Every link id on the route, in step order."""
        return tuple(record.link_id for step in self.steps for _, record in step)

    def step_types(self, index: int) -> frozenset[str]:
        """The link types of one step (``-1`` for the young person's end)."""
        return frozenset(record.type for _, record in self.steps[index])

    @property
    def own(self) -> bool:
        """Whether the route is one of the adult's own (counted in a hub's reach)."""
        return self.shape in OWN_SHAPES

    def strength_without(self, cut: Collection[str], half_life_days: float) -> float:
        """The strength left if the links in ``cut`` were cut (0 when a step is gone).

        Recomputed exactly as the route finder computes it, so cutting a link and
        finding the routes again without it give the same strength.
        """
        if not any(link in cut for link in self.links):
            return self.strength
        steps = [tuple(item for item in step if item[1].link_id not in cut) for step in self.steps]
        if not all(steps):
            return 0.0
        value, _ = _combine(steps, half_life_days)
        strength = min(1.0, self.scale * value)
        return strength if strength >= NEGLIGIBLE else 0.0


def combined_reach(routes: Iterable[Route]) -> float:
    """Routes between one adult and one young person as independent reports.

    >>> combined_reach([])
    0.0
    """
    return 1.0 - math.prod(1.0 - route.strength for route in routes)


class _Finder:
    """The routes of one adult, skipping entities in ``without`` and links in ``cut``."""

    def __init__(
        self, town: Town, adult: str, without: Collection[str], cut: Collection[str]
    ) -> None:
        self.town = town
        self.adult = adult
        self.rules: RiskRules = town.rules(adult)
        self.without = without
        self.cut = cut
        self.found: list[Route] = []

    def add(
        self,
        young_person: str,
        via: tuple[str, ...],
        shape: str,
        steps: tuple[Step, ...],
        scale: float,
    ) -> None:
        """Keep the route unless it is negligible."""
        value, cited = _combine(steps, self.town.half_life_days)
        strength = scale * value
        if strength >= NEGLIGIBLE:
            self.found.append(
                Route(self.adult, young_person, min(1.0, strength), via, cited, shape, steps, scale)
            )

    def own(self) -> list[Route]:
        """The direct, shared-context and vehicle-to-place routes (found so far)."""
        town, adult, rules = self.town, self.adult, self.rules
        at: dict[str, list[tuple[float, Record]]] = defaultdict(list)
        for first in town.links.get(adult, ()):
            if first.link_id in self.cut or not rules.carries_risk(town, adult, first):
                continue
            other = first.other(adult)
            if other in self.without:
                continue
            if town.is_young_person(other):
                factor = DIRECT_FACTORS.get(first.type)
                if factor and (first.type in _ALWAYS or not rules.shields(other)):
                    self.add(other, (), "direct", (((factor, first),),), STEP_DECAY[1])
            elif first.source == adult and first.type in ADULT_PRESENCE:
                at[other].append((ADULT_PRESENCE[first.type], first))
        for context, presence in sorted(at.items()):
            step = tuple(presence)
            self.through(context, (context,), "context", (step,))
            if town.kind.get(context) == "vehicle":
                self.from_vehicle(context, step)
        return self.found

    def from_vehicle(self, vehicle: str, presence: Step) -> None:
        seen: dict[str, list[tuple[float, Record]]] = defaultdict(list)
        for sighting in self.town.links.get(vehicle, ()):
            place = sighting.target
            if (
                sighting.type == "SEEN_AT"
                and sighting.source == vehicle
                and place not in self.without
                and sighting.link_id not in self.cut
                and usable(sighting)
            ):
                seen[place].append((1.0, sighting))
        for place, sightings in sorted(seen.items()):
            self.through(place, (vehicle, place), "vehicle", (presence, tuple(sightings)))

    def through(
        self, context: str, via: tuple[str, ...], shape: str, chain: tuple[Step, ...]
    ) -> None:
        """Young people linked to the context at the end of ``chain``."""
        town = self.town
        half_life = town.half_life_days
        scale = STEP_DECAY[len(chain) + 1] * busy_discount(town.busyness(context))
        head, cited = _combine(chain, half_life)
        if scale * head < NEGLIGIBLE:
            return
        for who, presence in town.people_at(context).items():
            if not town.is_young_person(who) or self.rules.shields(who):
                continue
            step = tuple(
                (YOUNG_PRESENCE[r.type], r)
                for r in presence.records
                if r.type in YOUNG_PRESENCE and r.link_id not in self.cut and usable(r)
            )
            if not step:
                continue
            # the chain is the same for everyone here: only the last step is new
            value, best = _step(step, cited[-1], half_life)
            strength = scale * (head * value)
            if strength >= NEGLIGIBLE:
                self.found.append(
                    Route(
                        self.adult,
                        who,
                        min(1.0, strength),
                        via,
                        (*cited, best),
                        shape,
                        (*chain, step),
                        scale,
                    )
                )

    def peers(self, direct: Iterable[Route]) -> None:
        """Young people in contact with a young person the adult reaches directly."""
        town = self.town
        for route in direct:
            peer = route.young_person
            if route.strength * STEP_DECAY[2] < NEGLIGIBLE:
                continue
            for second in town.links.get(peer, ()):
                young_person = second.other(peer)
                factor = PEER_FACTORS.get(second.type)
                if (
                    factor is None
                    or young_person == peer
                    or not town.is_young_person(young_person)
                    or second.link_id in self.cut
                    or not usable(second)
                    or self.rules.shields(young_person)
                ):
                    continue
                steps = (*route.steps, ((factor, second),))
                self.add(young_person, (peer,), "peer", steps, STEP_DECAY[2])

    def associates(self, concern: Collection[str]) -> None:
        """Young people reached through an adult who is not themselves of concern."""
        town, adult = self.town, self.adult
        for first in town.links.get(adult, ()):
            factor = ASSOCIATE_FACTORS.get(first.type)
            associate = first.other(adult)
            if (
                factor is None
                or first.link_id in self.cut
                or not town.is_adult(associate)
                or associate in concern
                or associate in self.without
                or not self.rules.carries_risk(town, adult, first)
            ):
                continue
            if factor * first.weight * STEP_DECAY[2] < NEGLIGIBLE:
                continue
            theirs = town.rules(associate)
            for second in town.links.get(associate, ()):
                young_person = second.other(associate)
                direct = DIRECT_FACTORS.get(second.type)
                if (
                    direct is None
                    or not town.is_young_person(young_person)
                    or second.link_id in self.cut
                    or not theirs.carries_risk(town, associate, second)
                ):
                    continue
                shielded = theirs.shields(young_person) or self.rules.shields(young_person)
                if shielded and second.type not in _ALWAYS:
                    continue
                steps = (((factor, first),), ((direct, second),))
                self.add(young_person, (associate,), "associate", steps, STEP_DECAY[2])


def own_routes(
    town: Town, adult: str, *, without: Collection[str] = (), cut: Collection[str] = ()
) -> list[Route]:
    """An adult's own routes (direct, shared context, vehicle to place): a hub's reach.

    Parameters
    ----------
    town : Town
    adult : str
    without : collection of str, optional
        Entities treated as disrupted: no route passes through them.
    cut : collection of str, optional
        Link ids treated as cut.
    """
    if adult in without:
        return []
    return _Finder(town, adult, without, cut).own()


def exposure_routes(
    town: Town,
    adult: str,
    concern: Collection[str],
    *,
    without: Collection[str] = (),
    cut: Collection[str] = (),
) -> list[Route]:
    """Every route of an adult of concern: their own, then through peers and associates.

    ``concern`` is the set of adults of concern: an associate who is one of them is
    not an intermediary (their own routes count for them).
    """
    if adult in without:
        return []
    finder = _Finder(town, adult, without, cut)
    own = finder.own()
    finder.peers([r for r in own if r.shape == "direct"])
    finder.associates(concern)
    return finder.found
