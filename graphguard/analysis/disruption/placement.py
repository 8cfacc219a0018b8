"""The placement check: contexts of concern near a placement, and the ties a move cuts.

The check that would have caught a placement "as far away as possible" that was
next to a dock where the same network's adults are seen.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

from graphguard.analysis.disruption.exposure import ADULT_PRESENCE, DIGITS, Exposure, entity_label
from graphguard.analysis.disruption.impact import _prepare
from graphguard.analysis.disruption.relocation import ProtectiveTie, relocation_cuts
from graphguard.analysis.hubs import Hub
from graphguard.analysis.options import AnalysisOptions
from graphguard.analysis.town import Record, RiskRules, Town
from graphguard.errors import UsageError

__all__ = ["PlacementCheck", "PlacementContext", "haversine_m", "placement_check"]

_EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points in decimal degrees.

    >>> round(haversine_m(53.7317, -0.3255, 53.729, -0.326))
    302
    """
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class PlacementContext:
    """A context of concern near a placement: what it is, how far, and why it matters."""

    id: str
    location_kind: str
    label: str
    distance_m: float
    adults_of_concern: list[str]
    exposure_through: float
    young_people_found: int
    evidence: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "location_kind": self.location_kind,
            "label": self.label,
            "distance_m": round(self.distance_m),
            "adults_of_concern": self.adults_of_concern,
            "exposure_through": round(self.exposure_through, 4),
            "young_people_found_here": self.young_people_found,
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class PlacementCheck:
    """Contexts of concern around an address, nearest first, and the ties a move cuts.

    Attributes
    ----------
    young_person : str or None
    latitude, longitude : float
        The address checked.
    origin : str
        Where the address came from: ``"given"``, or the placement or home link used.
    radius_m : float
    contexts : list of PlacementContext
        Within ``radius_m``, nearest first (ties by id).
    protective_ties : list of ProtectiveTie
        For a young person: the protective ties the move cuts (for their current
        placement, those that began before it), with distances where known.
    """

    young_person: str | None
    latitude: float
    longitude: float
    origin: str
    radius_m: float
    as_of: dt.date
    contexts: list[PlacementContext]
    protective_ties: list[ProtectiveTie]

    @property
    def concern(self) -> bool:
        return bool(self.contexts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "young_person": self.young_person,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "origin": self.origin,
            "radius_m": self.radius_m,
            "as_of": self.as_of.isoformat(),
            "contexts_of_concern": [c.as_dict() for c in self.contexts],
            "protective_ties_cut": [t.as_dict() for t in self.protective_ties],
        }


def _coordinates(graph: nx.MultiDiGraph, node: str) -> tuple[float, float] | None:
    data = graph.nodes[node]
    latitude, longitude = data.get("latitude"), data.get("longitude")
    if latitude is None or longitude is None:
        return None
    return float(latitude), float(longitude)


def _where(graph: nx.MultiDiGraph, town: Town, node: str) -> tuple[float, float] | None:
    """Where an entity is: a location's coordinates, or a person's home or workplace."""
    if town.kind.get(node) == "location":
        return _coordinates(graph, node)
    for wanted in ("LIVES_AT", "WORKS_AT"):
        records = sorted(
            town.links.get(node, ()),
            key=lambda r: (r.span[1] or dt.date.min, r.link_id),
            reverse=True,
        )
        for record in records:
            if record.type == wanted and record.source == node:
                point = _coordinates(graph, record.target)
                if point is not None:
                    return point
    return None


def _home_of(
    graph: nx.MultiDiGraph, town: Town, young_person: str
) -> tuple[tuple[float, float], Record] | None:
    """The young person's latest placement with coordinates, else their latest home."""
    for wanted in ("PLACED_AT", "LIVES_AT"):
        records = [
            r
            for r in town.links.get(young_person, ())
            if r.type == wanted and r.source == young_person
        ]
        records.sort(key=lambda r: (r.span[1] or dt.date.min, r.link_id), reverse=True)
        for record in records:
            point = _coordinates(graph, record.target)
            if point is not None:
                return point, record
    return None


def _adults_present(ex: Exposure, location: str) -> dict[str, list[Record]]:
    """Adults of concern at a location by their own links, or by a vehicle they use."""
    town = ex.town
    present: dict[str, list[Record]] = defaultdict(list)
    for who, presence in town.people_at(location).items():
        if who in ex.concern:
            rules = RiskRules(town, who)
            for record in presence.records:
                if record.type in ADULT_PRESENCE and rules.carries_risk(town, who, record):
                    present[who].append(record)
        elif town.kind.get(who) == "vehicle":
            for use in town.links.get(who, ()):
                driver = use.source
                if (
                    use.type in ("DRIVES", "KEEPER_OF")
                    and driver in ex.concern
                    and RiskRules(town, driver).carries_risk(town, driver, use)
                ):
                    present[driver].extend(r for r in presence.records if not r.school_transport)
    return {a: rs for a, rs in present.items() if rs}


def placement_check(
    graph: nx.MultiDiGraph,
    *,
    young_person_id: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    radius_m: float = 1000.0,
    exposure: Exposure | None = None,
    hubs: Sequence[Hub] | None = None,
    options: AnalysisOptions | None = None,
) -> PlacementCheck:
    """Contexts of concern within ``radius_m`` of a placement or proposed address.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
    young_person_id : str, optional
        Check this young person's current placement (their latest PLACED_AT, else
        LIVES_AT, location with coordinates), or — with ``latitude`` and
        ``longitude`` — a proposed address for them.
    latitude, longitude : float, optional
        The address to check (both or neither).
    radius_m : float, default 1000
        How far to look, by great-circle (haversine) distance.
    exposure : Exposure, optional
        Computed on ``graph`` if None (with ``hubs`` and ``options``).
    options : AnalysisOptions, optional
        ``as_of`` and the half-life; checked against ``exposure`` when both are given.

    Returns
    -------
    PlacementCheck

    Notes
    -----
    A *context of concern* is a location with coordinates (not an online one) where
    an adult of concern is present — by their own sighting, residence or work, or
    by a vehicle they drive or keep being seen there — or through which any young
    person's exposure runs.  For a proposed address every protective tie of the
    young person is cut (:func:`relocation_cuts`); for the current placement the
    ties cut are those that began before the placement did (or are undated).
    """
    if (latitude is None) != (longitude is None):
        raise UsageError("give both a latitude and a longitude, or neither")
    if young_person_id is None and latitude is None:
        raise UsageError("give a young person, or a latitude and longitude to check")
    if (
        latitude is not None
        and longitude is not None
        and not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0)
    ):
        raise UsageError("latitude must be in -90..90 and longitude in -180..180")
    if radius_m <= 0:
        raise UsageError("the radius must be positive")
    ex = _prepare(graph, exposure, hubs, options)
    town = ex.town
    ties: list[ProtectiveTie] = []
    if young_person_id is not None:
        if not town.is_young_person(young_person_id):
            raise UsageError(f"{young_person_id} is not a young person in the graph")
        _, ties, _ = relocation_cuts(graph, young_person_id, exposure=ex)
    if latitude is not None and longitude is not None:
        point = (latitude, longitude)
        origin = "given"
    else:
        assert young_person_id is not None
        found = _home_of(graph, town, young_person_id)
        if found is None:
            raise UsageError(
                f"no placement or home with coordinates is recorded for {young_person_id}; "
                "give a latitude and longitude"
            )
        point, record = found
        origin = f"{record.type} {record.target} ({record.link_id})"
        start = record.span[0]
        ties = [t for t in ties if start is None or t.first_seen is None or t.first_seen < start]
    ties = [_with_distance(graph, town, tie, point) for tie in ties]
    contexts = []
    for node in sorted(n for n in town.contexts() if town.kind[n] == "location"):
        data = graph.nodes[node]
        where = _coordinates(graph, node)
        if where is None or data.get("location_kind") == "online":
            continue
        distance = haversine_m(point[0], point[1], where[0], where[1])
        if distance > radius_m:
            continue
        present = _adults_present(ex, node)
        through = ex.what_if(without=[node]).fall if ex.touched([node]) else 0.0
        if not present and round(through, DIGITS) <= 0:
            continue
        records = sorted(
            {r.link_id: r for rs in present.values() for r in rs}.values(),
            key=lambda r: (-r.weight, r.link_id),
        )
        found_here = {
            who
            for who, presence in town.people_at(node).items()
            if any(r.type == "FOUND_AT" for r in presence.records)
        }
        contexts.append(
            PlacementContext(
                id=node,
                location_kind=str(data.get("location_kind", "")),
                label=entity_label(graph, node),
                distance_m=distance,
                adults_of_concern=sorted(present, key=lambda a: (-ex.concern[a], a)),
                exposure_through=through,
                young_people_found=len(found_here),
                evidence=[_cite(r) for r in records[:5]],
            )
        )
    contexts.sort(key=lambda c: (c.distance_m, c.id))
    return PlacementCheck(
        young_person=young_person_id,
        latitude=point[0],
        longitude=point[1],
        origin=origin,
        radius_m=radius_m,
        as_of=ex.as_of,
        contexts=contexts,
        protective_ties=ties,
    )


def _with_distance(
    graph: nx.MultiDiGraph, town: Town, tie: ProtectiveTie, point: tuple[float, float]
) -> ProtectiveTie:
    where = _where(graph, town, tie.other)
    if where is None:
        return tie
    distance = haversine_m(point[0], point[1], where[0], where[1])
    return dataclasses.replace(tie, distance_m=distance)


def _cite(record: Record) -> str:
    """``REFERENCE (grading)``, or the link id when no reference is recorded."""
    return f"{record.reference or record.link_id} ({record.evidence.label})"
