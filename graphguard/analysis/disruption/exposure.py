"""Exposure: how strongly adults of concern reach each young person, route by route.

``exposure(y) = sum over adults of concern a of concern(a) * reach(a, y)``, where
``concern(a) = s / (s + CONCERN_SCORE)`` for the adult's hub score ``s`` and
``reach(a, y) = 1 - prod(1 - strength)`` over every route of at most three steps
from ``a`` to ``y`` (independent reports, as the analysis combines them).

A route's strength multiplies the evidence weight of each of its links
(:mod:`graphguard.analysis.evidence`), a factor for each link's type
(:data:`DIRECT_FACTORS`, :data:`ADULT_PRESENCE`, :data:`YOUNG_PRESENCE`,
:data:`ASSOCIATE_FACTORS`, :data:`PEER_FACTORS`), a decay per step
(:data:`STEP_DECAY`), the busy-place discount ``1 / (1 + (people / 10) ** 2)`` of the
place or vehicle it passes, and a discount for how far apart in time two links
were.  The routes:

* **direct** — ALLEGED_HARM, PARTNER_OF, CONTACTED or ASSOCIATES_WITH (1 step);
* **shared context** — the adult and the young person linked to one place or
  vehicle (2 steps);
* **vehicle to place** — a vehicle the adult uses, seen where the young person is
  (3 steps);
* **associate** — an adult *not* of concern in contact with the adult and with the
  young person (2 steps);
* **peer** — a young person the adult reaches directly, in contact with another
  young person (2 steps).

The routes are :mod:`graphguard.analysis.routes`' — the hubs' own, plus those
through an associate or a peer — under its one protective rule: protective links
(SUPPORTS, FAMILY_OF, links marked ``protective``) and school transport are never a
step; the analysis' risk rules (:class:`~graphguard.analysis.town.RiskRules`)
decide which of an adult's links can carry risk, and which young people an adult
is protective of.

The routes are found once and indexed by the entities and links they pass through,
so :meth:`Exposure.what_if` re-evaluates only the pairs a disruption touches.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import networkx as nx

from graphguard.analysis.hubs import CONCERN_SCORE, Hub, hubs_from_town
from graphguard.analysis.options import AnalysisOptions
from graphguard.analysis.routes import (
    ADULT_PRESENCE,
    ASSOCIATE_FACTORS,
    DIRECT_FACTORS,
    NEGLIGIBLE,
    PEER_FACTORS,
    STEP_DECAY,
    YOUNG_PRESENCE,
    Route,
    combined_reach,
    exposure_routes,
)
from graphguard.analysis.town import Town

__all__ = [
    "ADULT_PRESENCE",
    "ASSOCIATE_FACTORS",
    "DIGITS",
    "DIRECT_FACTORS",
    "NEGLIGIBLE",
    "PEER_FACTORS",
    "STEP_DECAY",
    "YOUNG_PRESENCE",
    "Exposure",
    "Route",
    "WhatIf",
    "concern_weights",
    "entity_label",
    "exposure",
    "exposure_from_town",
    "surviving",
]

#: Rounding of exposure before it is compared, so float noise never decides a tie.
DIGITS = 9
#: Location kinds whose names may name a household: labelled by kind and postcode.
_DWELLINGS = frozenset({"home", "residential"})


def concern_weights(hubs: Iterable[Hub]) -> dict[str, float]:
    """The adults of concern and how much each one's reach counts: ``s / (s + 1)``.

    >>> from graphguard.analysis.hubs import Hub
    >>> hub = Hub("A1", "adult", 1, 3.0, {}, [], "", concern=True)
    >>> concern_weights([hub])
    {'A1': 0.75}
    """
    return {
        hub.id: hub.score / (hub.score + CONCERN_SCORE)
        for hub in sorted(hubs, key=lambda h: h.id)
        if hub.concern and hub.score > 0
    }


# --------------------------------------------------------------------------- exposure


@dataclass(frozen=True)
class WhatIf:
    """Exposure if some entities were disrupted or some links cut.

    Attributes
    ----------
    total_before, total_after, fall : float
        Total exposure now, after, and the difference.
    young_people : dict of str to float
        Each young person whose exposure falls, by how much, largest first.
    adults : dict of str to float
        Each adult of concern whose contribution falls, by how much, largest first.
    """

    total_before: float
    total_after: float
    fall: float
    young_people: dict[str, float]
    adults: dict[str, float]


class Exposure:
    """Every young person's exposure to harm, and the route index behind it.

    Build it with :func:`exposure`.  ``what_if`` answers "what if these were
    disrupted?" incrementally, re-evaluating only the (adult, young person) pairs
    whose routes pass through what is removed.

    Attributes
    ----------
    as_of : date
    half_life_days : float
    concern : dict of str to float
        The adults of concern and the weight of each one's reach.
    routes : list of Route
    total : float
        Total exposure over all young people.
    young_people : dict of str to float
        Each exposed young person's exposure, highest first (ties by id).
    hubs : list of Hub or None
        The hubs the concern weights came from, when :func:`exposure` computed them.
    """

    def __init__(
        self,
        town: Town,
        concern: Mapping[str, float],
        routes: list[Route],
        hubs: list[Hub] | None = None,
    ) -> None:
        self.town = town
        self.as_of = town.as_of
        self.half_life_days = town.half_life_days
        self.concern = dict(concern)
        self.routes = routes
        self.hubs = hubs
        pair_ids: dict[tuple[str, str], int] = {}
        self.pair_adult: list[str] = []
        self.pair_young: list[str] = []
        self.pair_routes: list[list[int]] = []
        node_pairs: dict[str, set[int]] = defaultdict(set)
        link_pairs: dict[str, set[int]] = defaultdict(set)
        for index, route in enumerate(routes):
            key = (route.adult, route.young_person)
            pair = pair_ids.get(key)
            if pair is None:
                pair = pair_ids[key] = len(self.pair_adult)
                self.pair_adult.append(route.adult)
                self.pair_young.append(route.young_person)
                self.pair_routes.append([])
            self.pair_routes[pair].append(index)
            for entity in route.entities:
                node_pairs[entity].add(pair)
            for link in route.links:
                link_pairs[link].add(pair)
        self._pair_ids = pair_ids
        self._young_pairs: dict[str, list[int]] = defaultdict(list)
        for pair, young_person in enumerate(self.pair_young):
            self._young_pairs[young_person].append(pair)
        self._node_pairs = {n: sorted(p) for n, p in node_pairs.items()}
        self._link_pairs = {n: sorted(p) for n, p in link_pairs.items()}
        self.pair_reach = [combined_reach(routes[r] for r in rs) for rs in self.pair_routes]
        by_young: dict[str, float] = defaultdict(float)
        for pair, reach in enumerate(self.pair_reach):
            by_young[self.pair_young[pair]] += self.concern[self.pair_adult[pair]] * reach
        self.young_people = dict(sorted(by_young.items(), key=lambda item: (-item[1], item[0])))
        self.total = math.fsum(self.young_people.values())

    def __repr__(self) -> str:
        return (
            f"<Exposure total={self.total:.4f} young_people={len(self.young_people)} "
            f"adults={len(self.concern)} routes={len(self.routes)}>"
        )

    def of(self, young_person: str) -> float:
        """One young person's exposure (0 when no route reaches them)."""
        return self.young_people.get(young_person, 0.0)

    def reach(self, adult: str, young_person: str) -> float:
        """How strongly an adult of concern reaches a young person, in ``[0, 1]``."""
        pair = self._pair_ids.get((adult, young_person))
        return 0.0 if pair is None else self.pair_reach[pair]

    def pairs_of(self, young_person: str) -> list[int]:
        """The (adult, young person) pairs reaching this young person."""
        return self._young_pairs.get(young_person, [])

    def touched(self, entities: Iterable[str] = (), links: Iterable[str] = ()) -> list[int]:
        """The pairs with a route through any of these entities or links."""
        pairs: set[int] = set()
        for entity in entities:
            pairs.update(self._node_pairs.get(entity, ()))
        for link in links:
            pairs.update(self._link_pairs.get(link, ()))
        return sorted(pairs)

    def routes_through(self, entities: Iterable[str]) -> list[Route]:
        """Every route passing through (or starting at) any of these entities."""
        entities = frozenset(entities)
        return [
            self.routes[r]
            for pair in self.touched(entities)
            for r in self.pair_routes[pair]
            if not entities.isdisjoint(self.routes[r].entities)
        ]

    def what_if(self, *, without: Iterable[str] = (), cut_links: Iterable[str] = ()) -> WhatIf:
        """Exposure if the entities in ``without`` were disrupted and ``cut_links`` cut.

        Incremental: only pairs with a route through what is removed are looked at.
        Young people cannot be disrupted (:class:`ValueError`).
        """
        removed = frozenset(without)
        cut = frozenset(cut_links)
        _refuse_young_people(self.town, removed)
        fall, young, adults = _evaluate(self, self.touched(removed, cut), removed, cut)
        return WhatIf(
            total_before=self.total,
            total_after=self.total - fall,
            fall=fall,
            young_people=_ranked(young),
            adults=_ranked(adults),
        )


def _refuse_young_people(town: Town, entities: Iterable[str]) -> None:
    young = sorted(e for e in entities if town.is_young_person(e))
    if young:
        raise ValueError("young people are never disruption targets")


def _ranked(values: Mapping[str, float]) -> dict[str, float]:
    kept = {k: v for k, v in values.items() if round(v, DIGITS) > 0}
    return dict(sorted(kept.items(), key=lambda item: (-item[1], item[0])))


def surviving(
    route: Route, removed: frozenset[str], cut: frozenset[str], half_life: float
) -> float:
    """A route's strength once ``removed`` are disrupted and ``cut`` links cut.

    0 when it passes a disrupted entity or loses a step; less when a cut takes some,
    not all, of the records of a step.
    """
    if removed and not removed.isdisjoint(route.entities):
        return 0.0
    return route.strength_without(cut, half_life) if cut else route.strength


def _evaluate(
    ex: Exposure,
    pairs: Iterable[int],
    removed: frozenset[str],
    cut: frozenset[str],
    alive: bytearray | None = None,
    current: Sequence[float] | None = None,
) -> tuple[float, dict[str, float], dict[str, float]]:
    """The fall in exposure on ``pairs`` if routes hit by the removal die.

    ``alive`` and ``current`` describe a plan already applied (routes dead, pairs'
    reach now); without them the fall is measured from the full picture.
    """
    reach_now = current if current is not None else ex.pair_reach
    total = 0.0
    young: dict[str, float] = defaultdict(float)
    adults: dict[str, float] = defaultdict(float)
    routes = ex.routes
    half_life = ex.half_life_days
    for pair in pairs:
        before = reach_now[pair]
        if before <= 0.0:
            continue
        remaining = 1.0
        for r in ex.pair_routes[pair]:
            if alive is not None and not alive[r]:
                continue
            remaining *= 1.0 - surviving(routes[r], removed, cut, half_life)
        fall = (before - (1.0 - remaining)) * ex.concern[ex.pair_adult[pair]]
        if fall > 0.0:
            total += fall
            young[ex.pair_young[pair]] += fall
            adults[ex.pair_adult[pair]] += fall
    return total, young, adults


def exposure(
    graph: nx.MultiDiGraph,
    *,
    hubs: Sequence[Hub] | None = None,
    adults_of_concern: Mapping[str, float] | Iterable[str] | None = None,
    options: AnalysisOptions | None = None,
    without: Iterable[str] = (),
    cut_links: Iterable[str] = (),
) -> Exposure:
    """Each young person's exposure to harm through adults of concern and shared contexts.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        graphguard's typed graph.
    hubs : list of Hub, optional
        The perpetrator-centred hubs: adults with ``concern`` are the sources of
        exposure, weighted ``s / (s + 1)`` by score ``s``.  Computed if neither this
        nor ``adults_of_concern`` is given.
    adults_of_concern : mapping of str to float, or iterable of str, optional
        The adults of concern with their weights in ``(0, 1]`` (an iterable of ids
        weighs each 1), instead of ``hubs``.
    options : AnalysisOptions, optional
        ``as_of`` and the half-life of evidence; the defaults if None.
    without : iterable of str, optional
        Entities (adults, locations, vehicles) to treat as disrupted: no route
        passes through them.  Never a young person.
    cut_links : iterable of str, optional
        Link ids to treat as cut.

    Returns
    -------
    Exposure

    Examples
    --------
    >>> import datetime as dt
    >>> g = nx.MultiDiGraph()
    >>> day = dt.date(2026, 1, 1)
    >>> g.add_node("A1", kind="person", role="adult")
    >>> g.add_node("Y1", kind="person", role="young_person")
    >>> g.add_node("L1", kind="location", location_kind="residential")
    >>> for key, (s, t, kind) in {"L1": ("A1", "L1", "SEEN_AT"),
    ...                           "L2": ("Y1", "L1", "FOUND_AT")}.items():
    ...     _ = g.add_edge(s, t, key=key, link_id=key, type=kind, source_grade="1",
    ...                    intel_grade="A", last_seen=day, count=5)
    >>> ex = exposure(g, adults_of_concern={"A1": 1.0})
    >>> [r.via for r in ex.routes], ex.of("Y1") == ex.reach("A1", "Y1") > 0
    ([('L1',)], True)
    >>> ex.what_if(without=["L1"]).total_after
    0.0
    """
    town = (options or AnalysisOptions()).town(graph)
    if adults_of_concern is None:
        return exposure_from_town(town, hubs=hubs, without=without, cut_links=cut_links)
    if isinstance(adults_of_concern, Mapping):
        concern = {str(a): float(w) for a, w in adults_of_concern.items()}
    else:
        concern = dict.fromkeys((str(a) for a in adults_of_concern), 1.0)
    return exposure_from_town(town, concern=concern, without=without, cut_links=cut_links)


def exposure_from_town(
    town: Town,
    *,
    hubs: Sequence[Hub] | None = None,
    concern: Mapping[str, float] | None = None,
    without: Iterable[str] = (),
    cut_links: Iterable[str] = (),
) -> Exposure:
    """:func:`exposure` on a graph already read into a :class:`Town`."""
    if concern is None:
        if hubs is None:
            hubs = hubs_from_town(town)
        concern = concern_weights(hubs)
    for adult, weight in concern.items():
        if not town.is_adult(adult):
            raise ValueError(f"{adult!r} is not an adult in the graph")
        if not 0.0 < weight <= 1.0:
            raise ValueError(f"the concern weight of {adult!r} must be in (0, 1], not {weight}")
    removed = frozenset(without)
    cut = frozenset(cut_links)
    _refuse_young_people(town, removed)
    routes = [
        route
        for adult in sorted(concern)
        for route in exposure_routes(town, adult, concern, without=removed, cut=cut)
    ]
    return Exposure(town, concern, routes, hubs=list(hubs) if hubs is not None else None)


def entity_label(graph: nx.MultiDiGraph, node: str) -> str:
    """A neutral label for an entity: never a person's name, nor a household's.

    People are labelled by role, id and area; homes and residential addresses by
    kind, id and postcode (their names often carry a household's surname); other
    places by name and kind; vehicles by registration and description.

    >>> g = nx.MultiDiGraph()
    >>> g.add_node("H1", kind="location", location_kind="hotel", name="Bay Hotel", area="Old Town")
    >>> g.add_node("A1", kind="person", role="adult", name="Jo Bloggs", area="Old Town")
    >>> entity_label(g, "H1"), entity_label(g, "A1")
    ('Bay Hotel (hotel, Old Town)', 'adult A1 (Old Town)')
    """
    data = graph.nodes[node]
    kind = data.get("kind")
    area = data.get("area")
    if kind == "person":
        role = "professional" if data.get("professional") else str(data.get("role", "person"))
        return f"{role.replace('_', ' ')} {node}" + (f" ({area})" if area else "")
    if kind == "vehicle":
        words = [data.get(k) for k in ("registration", "colour", "make", "model")]
        text = " ".join(str(w) for w in words if w) or f"vehicle {node}"
        if data.get("private_hire"):
            operator = data.get("operator")
            text += f" (private hire{', ' + str(operator) if operator else ''})"
        return text
    what = str(data.get("location_kind") or "location").replace("_", " ")
    if data.get("location_kind") in _DWELLINGS or not data.get("name"):
        where = ", ".join(str(v) for v in (data.get("postcode"), area) if v)
        return f"{what} {node}" + (f" ({where})" if where else "")
    return f"{data['name']} ({what}" + (f", {area})" if area else ")")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.strip().lower()).strip("-") or "unnamed"
