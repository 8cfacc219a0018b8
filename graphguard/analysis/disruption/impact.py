"""Disruption impact: what disrupting each target would change, and the best k together.

``impact(T)`` is the fall in total exposure if target ``T`` — an adult of concern, a
location, a vehicle, or a business (every vehicle or premises of one operator) — were
disrupted: every route through it removed, all other evidence held as it is.
:func:`greedy_plan` chooses the best ``k`` together, each next one for what it adds
(Borgatti's key-player problem), with lazy evaluation under true upper bounds.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from graphguard.analysis.contexts import Context, contexts_from_town
from graphguard.analysis.disruption.exposure import (
    DIGITS,
    Exposure,
    _evaluate,
    _ranked,
    _slug,
    entity_label,
    exposure,
    exposure_from_town,
)
from graphguard.analysis.hubs import Hub, hubs_from_town
from graphguard.analysis.options import AnalysisOptions

__all__ = [
    "KIND_ORDER",
    "LINKED_FALL",
    "TARGET_KINDS",
    "Candidate",
    "DisruptionAnalysis",
    "Impact",
    "Plan",
    "PlanStep",
    "candidates",
    "check_options",
    "disruption_analysis",
    "disruption_impacts",
    "greedy_plan",
]

#: A young person whose exposure falls by at least this is "linked" to a target.
LINKED_FALL = 0.01
#: Tie-break order of target kinds: the most specific target first.
KIND_ORDER: Mapping[str, int] = {"adult": 0, "location": 1, "vehicle": 2, "business": 3}


@dataclass(frozen=True)
class Candidate:
    """A possible disruption target: one adult, location or vehicle, or one business.

    Attributes
    ----------
    id : str
        The entity id; a business is ``business:<operator, slugged>``.
    kind : str
        ``adult``, ``location``, ``vehicle`` or ``business``.  Never a young person.
    members : tuple of str
        The entities disrupted together (one, except for a business).
    label : str
        A neutral description: no person's name (names are never exported).
    details : dict
        ``location_kind``, ``area``, ``private_hire``, ``operator``, … as recorded.
    """

    id: str
    kind: str
    members: tuple[str, ...]
    label: str
    details: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def order(self) -> tuple[int, str]:
        return KIND_ORDER[self.kind], self.id


#: The kinds of target a plan may be asked for: ``contexts`` are what Contextual
#: Safeguarding asks to change — places, vehicles and businesses.
TARGET_KINDS: Mapping[str, frozenset[str]] = {
    "all": frozenset(KIND_ORDER),
    "contexts": frozenset({"location", "vehicle", "business"}),
    "adults": frozenset({"adult"}),
}


def candidates(
    graph: nx.MultiDiGraph, ex: Exposure, *, kinds: Iterable[str] | None = None
) -> list[Candidate]:
    """Every possible target: adults of concern, locations, vehicles and businesses.

    A business is every vehicle (and every location) recorded under one
    ``operator`` — or, for a location, a ``business`` column — so that disrupting a
    private-hire firm disrupts all its cars.  Young people are never candidates.
    Sorted by kind (adult, location, vehicle, business) and id.  ``kinds`` keeps
    only those kinds of target (see :data:`TARGET_KINDS`).
    """
    wanted = frozenset(KIND_ORDER if kinds is None else kinds)
    unknown = wanted - set(KIND_ORDER)
    if unknown:
        raise ValueError(f"unknown target kinds {sorted(unknown)}; use {', '.join(KIND_ORDER)}")
    found: list[Candidate] = []
    for adult in sorted(ex.concern):
        found.append(Candidate(adult, "adult", (adult,), entity_label(graph, adult)))
    businesses: dict[str, list[str]] = defaultdict(list)
    names: dict[str, str] = {}
    for node in sorted(graph.nodes):
        data = graph.nodes[node]
        kind = data.get("kind")
        if kind not in ("location", "vehicle"):
            continue
        details = {
            k: data[k]
            for k in ("location_kind", "area", "private_hire", "operator", "registration")
            if data.get(k) is not None
        }
        found.append(Candidate(node, kind, (node,), entity_label(graph, node), details))
        owner = data.get("operator") or (data.get("business") if kind == "location" else None)
        if owner and str(owner).strip():
            key = _slug(str(owner))
            businesses[key].append(node)
            names.setdefault(key, str(owner).strip())
    for key in sorted(businesses):
        members = tuple(businesses[key])
        vehicles = sum(graph.nodes[m].get("kind") == "vehicle" for m in members)
        premises = len(members) - vehicles
        parts = []
        if vehicles:
            parts.append(f"{vehicles} vehicle{'s' if vehicles != 1 else ''}")
        if premises:
            parts.append(f"{premises} premises")
        hire = any(graph.nodes[m].get("private_hire") for m in members)
        what = "private-hire operator" if hire else "business"
        label = f"{names[key]} ({what}, {' and '.join(parts)})"
        details = {"operator": names[key], "private_hire": hire, "members": list(members)}
        found.append(Candidate(f"business:{key}", "business", members, label, details))
    found.sort(key=lambda c: c.order)
    return [c for c in found if c.kind in wanted]


@dataclass(frozen=True)
class Impact:
    """What disrupting one target would change.

    Attributes
    ----------
    target : Candidate
    rank : int
        1 for the largest impact (ties by kind, then id).
    impact : float
        The fall in total exposure.
    share : float
        ``impact / total exposure``.
    young_people : dict of str to float
        Each young person whose exposure falls, by how much, largest first.
    adults : dict of str to float
        Each adult of concern whose reach it cuts, by how much, largest first.
    """

    target: Candidate
    rank: int
    impact: float
    share: float
    young_people: dict[str, float]
    adults: dict[str, float]

    def linked_young_people(self, threshold: float = LINKED_FALL) -> list[str]:
        """Young people whose exposure falls by at least ``threshold``."""
        return [y for y, fall in self.young_people.items() if fall >= threshold]


def _prepare(
    graph: nx.MultiDiGraph,
    ex: Exposure | None,
    hubs: Sequence[Hub] | None,
    options: AnalysisOptions | None,
) -> Exposure:
    """The exposure given, checked against ``options``; else one computed under them."""
    if ex is None:
        return exposure(graph, hubs=hubs, options=options)
    if options is not None:
        check_options(ex, options)
    return ex


def check_options(ex: Exposure, options: AnalysisOptions) -> None:
    """Refuse an exposure weighed under other options than ``options`` (:class:`ValueError`).

    An exposure computed elsewhere must have been weighed on the same day with the
    same half-life, or the numbers built on it would mix two pictures.
    """
    as_of = options.as_of or ex.as_of
    if (as_of, options.half_life_days) != (ex.as_of, ex.half_life_days):
        raise ValueError(
            f"the exposure given was weighed as of {ex.as_of.isoformat()} with a half-life "
            f"of {ex.half_life_days:g} days, not as of {as_of.isoformat()} with "
            f"{options.half_life_days:g}: compute it with the same options"
        )


def disruption_impacts(
    graph: nx.MultiDiGraph,
    *,
    exposure: Exposure | None = None,
    targets: Sequence[Candidate] | None = None,
    hubs: Sequence[Hub] | None = None,
    options: AnalysisOptions | None = None,
) -> list[Impact]:
    """The fall in total exposure if each candidate target alone were disrupted.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
    exposure : Exposure, optional
        Computed on ``graph`` if None (with ``hubs`` and ``options``).
    targets : list of Candidate, optional
        Every :func:`candidates` if None.

    Returns
    -------
    list of Impact
        Every target, largest impact first (ties by kind, then id).

    Notes
    -----
    The routes were enumerated once, by :func:`exposure`; each target re-evaluates
    only the pairs with a route through it, so ranking every target costs about as
    much as the routes through all of them — a small multiple of one exposure.
    """
    ex = _prepare(graph, exposure, hubs, options)
    pool = list(targets) if targets is not None else candidates(graph, ex)
    scored: list[tuple[Candidate, float, dict[str, float], dict[str, float]]] = []
    for target in pool:
        pairs = ex.touched(target.members)
        if not pairs:
            scored.append((target, 0.0, {}, {}))
            continue
        fall, young, adults = _evaluate(ex, pairs, frozenset(target.members), frozenset())
        scored.append((target, fall, young, adults))
    scored.sort(key=lambda item: (-round(item[1], DIGITS), item[0].order))
    return [
        Impact(
            target=target,
            rank=rank,
            impact=fall,
            share=fall / ex.total if ex.total > 0 else 0.0,
            young_people=_ranked(young),
            adults=_ranked(adults),
        )
        for rank, (target, fall, young, adults) in enumerate(scored, start=1)
    ]


@dataclass(frozen=True)
class PlanStep:
    """One target of a greedy plan and what it adds."""

    target: Candidate
    added_impact: float
    cumulative_impact: float
    total_after: float
    young_people: dict[str, float]


@dataclass(frozen=True)
class Plan:
    """The best ``k`` targets together, chosen greedily.

    Attributes
    ----------
    steps : list of PlanStep
        In the order chosen; fewer than ``k`` when nothing more would reduce exposure.
    total_before, total_after : float
    evaluations : int
        How many exact evaluations the lazy greedy made (a measure of its work).
    """

    steps: list[PlanStep]
    total_before: float
    total_after: float
    evaluations: int

    @property
    def targets(self) -> list[str]:
        return [step.target.id for step in self.steps]

    @property
    def impact(self) -> float:
        return self.total_before - self.total_after


class _PlanState:
    """A plan being built: which routes are dead, and each pair's reach now."""

    def __init__(self, ex: Exposure) -> None:
        self.ex = ex
        self.alive = bytearray(b"\x01") * len(ex.routes)
        self.current = list(ex.pair_reach)

    def gain(self, target: Candidate, pairs: Sequence[int]) -> tuple[float, dict[str, float]]:
        fall, young, _ = _evaluate(
            self.ex, pairs, frozenset(target.members), frozenset(), self.alive, self.current
        )
        return fall, young

    def bound(self, pairs: Sequence[int]) -> float:
        """No removal can take more from these pairs than the exposure left on them."""
        ex = self.ex
        return sum(self.current[p] * ex.concern[ex.pair_adult[p]] for p in pairs)

    def apply(self, target: Candidate, pairs: Sequence[int]) -> None:
        removed = frozenset(target.members)
        ex = self.ex
        for pair in pairs:
            remaining = 1.0
            for r in ex.pair_routes[pair]:
                if not self.alive[r]:
                    continue
                if not removed.isdisjoint(ex.routes[r].entities):
                    self.alive[r] = 0
                else:
                    remaining *= 1.0 - ex.routes[r].strength
            self.current[pair] = 1.0 - remaining


def greedy_plan(
    graph: nx.MultiDiGraph,
    k: int = 5,
    *,
    exposure: Exposure | None = None,
    targets: Sequence[Candidate] | None = None,
    hubs: Sequence[Hub] | None = None,
    options: AnalysisOptions | None = None,
) -> Plan:
    """The ``k`` targets whose disruption together most reduces total exposure, greedily.

    Each next target is the one adding most to the fall, given those already
    chosen (ties by kind, then id); the plan stops early when no target adds any.

    Notes
    -----
    Lazy evaluation with true upper bounds.  Exposure is not submodular in the
    targets removed (two routes between an adult and a child: cutting one barely
    helps, cutting both helps a lot), so a gain can *grow* after another target is
    chosen, and the stale gains of classic lazy greedy (CELF) would not be bounds.
    Instead, when a target is chosen, each target sharing a pair with it is
    re-queued under the exposure still left on its pairs — an upper bound on any
    gain it can have — and evaluated exactly only when that bound reaches the top.
    Targets sharing no pair with the choice keep their exact gain.  The plan is
    therefore exactly the plain greedy one, at a fraction of the evaluations.

    Like Borgatti's greedy for the key-player problem, the plan carries no
    guarantee of optimality: without submodularity no constant-factor bound holds.
    On small graphs a brute force over every set of ``k`` checks it (see tests).
    """
    if k < 0:
        raise ValueError("k must be at least 0")
    ex = _prepare(graph, exposure, hubs, options)
    pool = list(targets) if targets is not None else candidates(graph, ex)
    state = _PlanState(ex)
    pairs_of = [ex.touched(t.members) for t in pool]
    by_pair: dict[int, list[int]] = defaultdict(list)
    for index, pairs in enumerate(pairs_of):
        for pair in pairs:
            by_pair[pair].append(index)
    version = [0] * len(pool)
    heap: list[tuple[float, tuple[int, str], int, int, bool]] = []
    for index, target in enumerate(pool):
        if pairs_of[index]:
            bound = state.bound(pairs_of[index])
            heap.append((-round(bound, DIGITS), target.order, index, 0, False))
    heapq.heapify(heap)
    chosen: set[int] = set()
    steps: list[PlanStep] = []
    evaluations = 0
    cumulative = 0.0
    while heap and len(steps) < k:
        key, order, index, stamp, exact = heapq.heappop(heap)
        if stamp != version[index] or index in chosen:
            continue
        if not exact:
            evaluations += 1
            gain, _ = state.gain(pool[index], pairs_of[index])
            heapq.heappush(heap, (-round(gain, DIGITS), order, index, stamp, True))
            continue
        if -key <= 0:
            break
        target = pool[index]
        gain, young = state.gain(target, pairs_of[index])
        state.apply(target, pairs_of[index])
        chosen.add(index)
        cumulative += gain
        steps.append(PlanStep(target, gain, cumulative, ex.total - cumulative, _ranked(young)))
        stale = sorted({i for p in pairs_of[index] for i in by_pair[p]} - chosen)
        for other in stale:
            version[other] += 1
            bound = state.bound(pairs_of[other])
            entry = (-round(bound, DIGITS), pool[other].order, other, version[other], False)
            heapq.heappush(heap, entry)
    return Plan(steps, ex.total, ex.total - cumulative, evaluations)


@dataclass
class DisruptionAnalysis:
    """Everything a target list needs, from one reading of the graph.

    Attributes
    ----------
    exposure : Exposure
    hubs : list of Hub
        Every adult, best first (:func:`~graphguard.analysis.perpetrator_hubs`).
    contexts : list of Context
        Every location and vehicle, best first (:func:`~graphguard.analysis.risky_contexts`).
    impacts : list of Impact
        Every candidate target, largest impact first.
    """

    exposure: Exposure
    hubs: list[Hub]
    contexts: list[Context]
    impacts: list[Impact]


def disruption_analysis(
    graph: nx.MultiDiGraph, *, options: AnalysisOptions | None = None
) -> DisruptionAnalysis:
    """Hubs, contexts, exposure and every target's impact, reading the graph once.

    ``options`` (``as_of``, the half-life) are the analysis' own; the defaults if None.
    """
    town = (options or AnalysisOptions()).town(graph)
    hubs = hubs_from_town(town)
    contexts = contexts_from_town(town, hubs)
    ex = exposure_from_town(town, hubs=hubs)
    return DisruptionAnalysis(ex, hubs, contexts, disruption_impacts(graph, exposure=ex))
