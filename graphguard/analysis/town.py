"""The graph read once for the scores: who is who, and every link with its evidence weight.

Every score in :mod:`graphguard.analysis` reads the graph through :class:`Town`, so
each link's evidence weight is computed once and every score sees the same roles,
the same protective flags and the same presence at places and vehicles.  Protected
characteristics (``model.PROTECTED_CHARACTERISTICS``) are never read here, and so
cannot reach any score.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import networkx as nx

from graphguard.analysis.evidence import (
    DEFAULT_HALF_LIFE_DAYS,
    Evidence,
    age_in_years,
    default_as_of,
    evidence_components,
)
from graphguard.collector import collector_paused
from graphguard.model import LinkType

__all__ = [
    "PRESENCE_TYPES",
    "SCORED_ATTRIBUTES",
    "Record",
    "Presence",
    "Town",
    "RiskRules",
    "cite",
    "noisy_or",
    "time_overlap",
]

#: Links that put a person (or, for SEEN_AT, a vehicle) at a location or in a vehicle.
PRESENCE_TYPES: frozenset[str] = frozenset(
    t.value
    for t in (
        LinkType.SEEN_AT,
        LinkType.FOUND_AT,
        LinkType.PASSENGER_IN,
        LinkType.ATTENDS,
        LinkType.PLACED_AT,
        LinkType.LIVES_AT,
        LinkType.WORKS_AT,
        LinkType.DRIVES,
        LinkType.KEEPER_OF,
    )
)

#: Every node attribute any score reads.  No protected characteristic is among them
#: (a test checks), so none can change a score.
SCORED_ATTRIBUTES: frozenset[str] = frozenset(
    {
        "kind",
        "role",
        "location_kind",
        "looked_after",
        "missing_episodes",
        "excluded_from_school",
        "suspected",
        "professional",
        "date_of_birth",
        "private_hire",
    }
)

_VEHICLE_USE = frozenset({"PASSENGER_IN", "DRIVES", "KEEPER_OF"})

#: How many missing episodes make a young person count as fully vulnerable on that signal.
_MISSING_FULL = 5


class Record(NamedTuple):
    """One link as the scores see it (a named tuple: a million of them are made per town)."""

    link_id: str
    type: str
    source: str
    target: str
    evidence: Evidence
    reference: str | None
    agency: str | None
    first_seen: dt.date | None
    last_seen: dt.date | None
    protective: bool
    #: A vehicle link recorded by education — a passenger, a driver, a keeper, or the
    #: vehicle seen somewhere: home-to-school transport the education service arranges.
    school_transport: bool = False

    @property
    def weight(self) -> float:
        return self.evidence.weight

    def other(self, node: str) -> str:
        return self.target if node == self.source else self.source

    def as_evidence(self) -> dict[str, object]:
        """The record as evidence: link id, type, reference, grading and weight."""
        return {
            "link_id": self.link_id,
            "type": self.type,
            "reference": self.reference,
            "grading": self.evidence.label,
            "weight": round(self.weight, 4),
        }

    @property
    def span(self) -> tuple[dt.date | None, dt.date | None]:
        first = self.first_seen or self.last_seen
        last = self.last_seen or self.first_seen
        return first, last


class Presence(NamedTuple):
    """One person (or vehicle) at one context, over all the links that put them there.

    ``weight`` combines the links' evidence weights as independent reports
    ("noisy or"): ``1 - prod(1 - w)``.
    """

    weight: float
    records: tuple[Record, ...]


def cite(record: Record) -> str:
    """A record as an explanation cites it: ``L00123 INT-2026-0012 graded 1/B/P``."""
    reference = f" {record.reference}" if record.reference else ""
    label = record.evidence.label
    grading = "ungraded" if label == "ungraded" else f"graded {label}"
    return f"{record.link_id}{reference} {grading}"


def time_overlap(first: Record, second: Record, half_life_days: float) -> float:
    """Were they there at the same time?  Halves with every half-life between the spans.

    Undated records count as overlapping: there is nothing to say they did not.
    """
    a_start, a_end = first.span
    b_start, b_end = second.span
    if a_start is None or a_end is None or b_start is None or b_end is None:
        return 1.0
    gap = max(0, (b_start - a_end).days, (a_start - b_end).days)
    return 0.5 ** (gap / half_life_days)


def noisy_or(weights: Iterable[float]) -> float:
    """Independent reports combined: ``1 - prod(1 - w)``.

    >>> round(noisy_or([0.5, 0.5]), 2)
    0.75
    """
    remaining = 1.0
    for weight in weights:
        remaining *= 1.0 - weight
    return 1.0 - remaining


class Town:
    """A graphguard graph read once: roles, flags, weighted links, presence at contexts.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        graphguard's typed graph.
    as_of : date, optional
        The day evidence is weighed against; the graph's latest link date if None.
        Records' dates after it are read as that day: the picture as it stood then.
    half_life_days : float, default 365
        The half-life of evidence (see :mod:`.evidence`).
    """

    def __init__(
        self,
        graph: nx.MultiDiGraph,
        *,
        as_of: dt.date | None = None,
        half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
    ) -> None:
        with collector_paused():
            self._read(graph, as_of, half_life_days)

    def _read(self, graph: nx.MultiDiGraph, as_of: dt.date | None, half_life_days: float) -> None:
        self.graph = graph
        self.as_of = as_of or default_as_of(graph)
        self.half_life_days = half_life_days
        self.kind: dict[str, str] = {}
        for node, data in graph.nodes(data=True):
            self.kind[node] = str(data.get("role") or data.get("kind") or "")
        self.young_people = sorted(n for n, k in self.kind.items() if k == "young_person")
        self.adults = sorted(n for n, k in self.kind.items() if k == "adult")
        self.links: dict[str, list[Record]] = defaultdict(list)
        presence: dict[str, dict[str, list[Record]]] = defaultdict(lambda: defaultdict(list))
        weigh = evidence_components
        # A town's links share a few thousand gradings, days and counts: each distinct
        # evidence is weighed once and the same (immutable) Evidence shared.
        weighed: dict[tuple[object, ...], Evidence] = {}
        day, kind, links = self.as_of, self.kind, self.links
        for source, target, data in graph.edges(data=True):
            get = data.get
            link_type = get("type", "")
            agency = get("agency")
            first, last = get("first_seen"), get("last_seen")
            key = (
                get("source_grade"),
                get("intel_grade"),
                get("handling"),
                agency,
                last or first,
                get("count"),
            )
            evidence = weighed.get(key)
            if evidence is None:
                evidence = weighed[key] = weigh(data, as_of=day, half_life_days=half_life_days)
            # The picture as it stood on as_of: nothing was seen after it (a later
            # sighting weighs as fresh, and no explanation may cite a later day).
            if first is not None and first > day:
                first = day
            if last is not None and last > day:
                last = day
            record = Record(
                str(get("link_id", "")),
                link_type,
                source,
                target,
                evidence,
                get("reference"),
                agency,
                first,
                last,
                bool(get("protective")) or link_type == "SUPPORTS",
                agency == "education"
                and (link_type in _VEHICLE_USE or kind.get(source) == "vehicle"),
            )
            links[source].append(record)
            links[target].append(record)
            if link_type in PRESENCE_TYPES:
                presence[target][source].append(record)
        self.presence: dict[str, dict[str, Presence]] = {
            context: {
                who: Presence(noisy_or(r.weight for r in records), tuple(records))
                for who, records in sorted(members.items())
            }
            for context, members in sorted(presence.items())
        }
        self._found = {
            who
            for members in self.presence.values()
            for who, presence in members.items()
            if any(r.type == "FOUND_AT" for r in presence.records)
        }
        self._vulnerability: dict[str, float] = {}
        self._rules: dict[str, RiskRules] = {}
        self._busyness = {
            context: sum(1 for who in members if self.kind.get(who) in _PEOPLE)
            for context, members in self.presence.items()
        }

    # ----------------------------------------------------------------- people

    def attributes(self, node: str) -> dict[str, object]:
        data: dict[str, object] = self.graph.nodes[node]
        return data

    def is_young_person(self, node: str) -> bool:
        return self.kind.get(node) == "young_person"

    def is_adult(self, node: str) -> bool:
        return self.kind.get(node) == "adult"

    def age(self, node: str) -> int | None:
        """Age in whole years on ``as_of``; None when the date of birth is not recorded."""
        return age_in_years(self.graph.nodes[node].get("date_of_birth"), self.as_of)

    def found_after_missing(self, young_person: str) -> bool:
        """Whether the young person was found somewhere after going missing (FOUND_AT)."""
        return young_person in self._found

    def vulnerability(self, young_person: str) -> float:
        """How vulnerable a young person is on the recorded signals, in ``[0, 1]``.

        Looked after 0.3; missing episodes up to 0.3 (full at five); found somewhere
        after going missing 0.2; excluded from school 0.2.
        """
        value = self._vulnerability.get(young_person)
        if value is None:
            data = self.graph.nodes[young_person]
            missing = min(int(data.get("missing_episodes") or 0), _MISSING_FULL) / _MISSING_FULL
            value = (
                0.3 * bool(data.get("looked_after"))
                + 0.3 * missing
                + 0.2 * self.found_after_missing(young_person)
                + 0.2 * bool(data.get("excluded_from_school"))
            )
            self._vulnerability[young_person] = value
        return value

    def rules(self, adult: str) -> RiskRules:
        """Which of an adult's links may carry risk (built once per adult)."""
        rules = self._rules.get(adult)
        if rules is None:
            rules = self._rules[adult] = RiskRules(self, adult)
        return rules

    # ----------------------------------------------------------------- contexts

    def people_at(self, context: str) -> dict[str, Presence]:
        """Everyone (and, at a location, every vehicle) linked to a context, by id."""
        return self.presence.get(context, {})

    def busyness(self, context: str) -> int:
        """How many distinct people are linked to a context at all."""
        return self._busyness.get(context, 0)

    def contexts(self) -> Iterator[str]:
        """Every location and vehicle, in id order."""
        return iter(sorted(n for n, k in self.kind.items() if k in ("location", "vehicle")))


_PEOPLE = frozenset({"young_person", "adult"})
_WORK_TYPES = frozenset({"WORKS_AT", "ATTENDS", "SUPPORTS"})


class RiskRules:
    """Which of one adult's links may carry risk (see :mod:`graphguard.analysis.hubs`).

    ALLEGED_HARM and PARTNER_OF always do.  SUPPORTS, FAMILY_OF and links marked
    protective never do, and the young people they join the adult to are shielded
    from the adult's reach.  For a professional, WORKS_AT, ATTENDS, driving or
    keeping a private-hire vehicle, and the service's own records of contact with
    young people (anything not recorded by the police) are work, not risk.  For
    anyone, school transport (a vehicle link recorded by education) is provision,
    not risk.
    """

    def __init__(self, town: Town, adult: str) -> None:
        data = town.attributes(adult)
        self.professional = bool(data.get("professional"))
        self.family: set[str] = set()
        self.protected: set[str] = set()
        for record in town.links.get(adult, ()):
            other = record.other(adult)
            if not town.is_young_person(other):
                continue
            if record.type == "FAMILY_OF":
                self.family.add(other)
            elif record.protective:
                self.protected.add(other)

    def carries_risk(self, town: Town, adult: str, record: Record) -> bool:
        if record.type in ("ALLEGED_HARM", "PARTNER_OF"):
            return True
        if record.protective or record.type in ("SUPPORTS", "FAMILY_OF"):
            return False
        if record.school_transport:
            return False
        if not self.professional:
            return True
        if record.type in _WORK_TYPES:
            return False
        other = record.other(adult)
        if record.type in ("DRIVES", "KEEPER_OF"):
            return not town.attributes(other).get("private_hire")
        if town.is_young_person(other) and record.type in ("CONTACTED", "ASSOCIATES_WITH"):
            return record.agency == "police"
        return True

    def shields(self, young_person: str) -> bool:
        return young_person in self.family or young_person in self.protected
