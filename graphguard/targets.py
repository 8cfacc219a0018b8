"""The disruption target list: who and what to disrupt, why, and with which tactic.

One row per target — an adult of concern, a location, a vehicle or a business —
ranked by its **impact**, the fall in total exposure of all young people if it were
disrupted (:mod:`graphguard.analysis.disruption`).  The columns are
:data:`TARGET_COLUMNS` (plus :data:`EXTRA_COLUMNS`).

Rules every list keeps (DESIGN.md, principles 1, 2 and 7):

* **Young people are never targets.**  They appear only as a count and as keyed
  pseudonyms (:func:`graphguard.privacy.pseudonym`), never by id or name; any young
  person's identifying value that reaches a text cell — an id inside a reference, a
  name in a place name or an operator — is replaced by ``[young person]``
  (:class:`graphguard.privacy.YoungPersonScrubber`, on every text cell, the target
  id and the notes included).  No person's name is exported at all: adults are
  identified by id, homes by kind and postcode.
* **Every number says what it rests on.**  ``evidence`` lists the records that tie
  the target to young people, each with its 3x5x2 grading, e.g.
  ``INT-2026-00123 (1/B/P)``.
* **Shareable lists respect handling codes.**  With ``shareable=True`` a record
  with handling code C is withheld from every cell, and a target tied to young
  people only by C records is left out.  A record with no handling code recorded
  is treated as P (partner agencies' own records — case notes, registers — are not
  3x5x2 graded); the "about" sheet says so.

``suggested_tactics`` comes from :data:`TACTICS`, a mapping of the Home Office
*Child exploitation disruption toolkit* (2019, updated 2022) to the signals in the
data; each tactic names its legal basis.  They are suggestions for a disruption
panel, whose legal advisers check each power's tests.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from graphguard.analysis.disruption import (
    LINKED_FALL,
    Candidate,
    DisruptionAnalysis,
    Impact,
    Route,
    check_options,
    disruption_analysis,
)
from graphguard.analysis.evidence import age_in_years
from graphguard.analysis.options import AnalysisOptions
from graphguard.export import write_table
from graphguard.privacy import SHAREABLE, YoungPersonScrubber, pseudonym, role_view

__all__ = [
    "EXTRA_COLUMNS",
    "TACTICS",
    "TARGET_COLUMNS",
    "TargetList",
    "build_target_list",
    "suggested_tactics",
    "write_target_list",
]

#: The columns of a target list, in order.
TARGET_COLUMNS: tuple[str, ...] = (
    "rank",
    "target_id",
    "kind",
    "label",
    "score",
    "impact",
    "linked_young_people",
    "evidence",
    "suggested_tactics",
    "explanation",
)
#: Written after :data:`TARGET_COLUMNS`.
EXTRA_COLUMNS: tuple[str, ...] = ("linked_young_people_pseudonyms", "handling")

#: The tactics, each with its legal basis, from the Home Office Child exploitation
#: disruption toolkit (2019, updated 2022).  :func:`suggested_tactics` says when each
#: one is suggested.
TACTICS: Mapping[str, str] = {
    "cawn": "Child Abduction Warning Notice (Child Abduction Act 1984 s2 for a child under "
    "16; Children Act 1989 s49 for a looked-after child under 18)",
    "sro": "Sexual Risk Order (Sexual Offences Act 2003 s122A)",
    "stro": "Slavery and Trafficking Risk Order (Modern Slavery Act 2015 s23)",
    "closure_sexual": "Closure notice (Sexual Offences Act 2003 s136B)",
    "closure_asb": "Closure notice (Anti-social Behaviour, Crime and Policing Act 2014 s76)",
    "hotel_notice": "Hotel guest-information notice (Anti-social Behaviour, Crime and "
    "Policing Act 2014 s116)",
    "licensing_review": "Licensing review (Licensing Act 2003 s51)",
    "makesafe": "Operation Makesafe engagement",
    "dispersal": "Dispersal direction (Anti-social Behaviour, Crime and Policing Act 2014 "
    "s35) and targeted patrols",
    "transport": "Transport operator and British Transport Police engagement",
    "online": "Report to the platform; digital investigation",
    "guardianship": "Context safeguarding plan with the people responsible for the place",
    "anpr": "ANPR marker",
    "taxi_licensing": "Taxi/private-hire licensing referral (Local Government "
    "(Miscellaneous Provisions) Act 1976 ss60-61)",
    "operator": "Operator engagement",
    "operator_licensing": "Private-hire operator licence review (Local Government "
    "(Miscellaneous Provisions) Act 1976 s62)",
    "panel": "Exploitation disruption panel review (no power indicated by the evidence)",
}

_PUBLIC_PLACES = frozenset({"park", "street", "transport_hub", "car_park", "dock"})
_DWELLINGS = frozenset({"home", "residential"})
_EVIDENCE_SHOWN = 8
_CITED_IN_EXPLANATION = 3


# --------------------------------------------------------------------------- evidence


@dataclass
class _Item:
    """One record reference as evidence: its links' gradings and handling codes."""

    reference: str
    weight: float = 0.0
    gradings: dict[str, str] = field(default_factory=dict)  # link id -> grading label
    handling: dict[str, str | None] = field(default_factory=dict)  # link id -> P / C / None

    def shown(self, shareable: bool) -> str | None:
        links = [
            link for link in sorted(self.gradings) if not (shareable and self.handling[link] == "C")
        ]
        if not links:
            return None
        labels = list(dict.fromkeys(self.gradings[link] for link in links))
        return f"{self.reference} ({', '.join(labels)})"


def _evidence(
    graph: nx.MultiDiGraph,
    routes: Iterable[Route],
    members: frozenset[str],
    concern: Mapping[str, float],
) -> list[_Item]:
    """The records on the cut routes that touch the target, heaviest first."""
    items: dict[str, _Item] = {}
    for route in routes:
        for record in route.every_record:
            if record.source not in members and record.target not in members:
                continue
            reference = record.reference or record.link_id
            item = items.setdefault(reference, _Item(reference))
            item.weight += concern[route.adult] * route.strength
            item.gradings[record.link_id] = record.evidence.label
            edge = graph.edges[record.source, record.target, record.link_id]
            item.handling[record.link_id] = edge.get("handling")
    return sorted(items.values(), key=lambda i: (-i.weight, i.reference))


def _handling(items: Sequence[_Item], shareable: bool) -> str:
    codes = {
        code or "not recorded"
        for item in items
        for code in item.handling.values()
        if not (shareable and code == "C")
    }
    order = {"P": 0, "C": 1}
    return ", ".join(sorted(codes, key=lambda c: (order.get(c, 2), c)))


# --------------------------------------------------------------------------- tactics


@dataclass(frozen=True)
class _Signals:
    """What the routes a target cuts show, for choosing tactics."""

    under_16: int = 0
    looked_after_under_18: int = 0
    intimate: int = 0
    via_hotel: int = 0
    found: int = 0
    carried: int = 0
    adults: int = 0
    intimate_adults: int = 0


def _signals(
    graph: nx.MultiDiGraph,
    linked: Sequence[str],
    adults: Sequence[str],
    routes: Sequence[Route],
    as_of: dt.date,
    shareable: bool,
) -> _Signals:
    """Ages, intimate links, hotels, being found or carried, among the linked young people."""
    under_16 = looked_after = 0
    for young_person in linked:
        data = graph.nodes[young_person]
        age = age_in_years(data.get("date_of_birth"), as_of)
        if age is not None and age < 16:
            under_16 += 1
        elif age is not None and age < 18 and data.get("looked_after"):
            looked_after += 1
    wanted = set(linked)
    intimate, hotel, found, carried = set(), set(), set(), set()
    for route in routes:
        if route.young_person not in wanted:
            continue
        if any(r.type == "PARTNER_OF" for r in route.every_record):
            intimate.add(route.young_person)
        if any(graph.nodes[v].get("location_kind") == "hotel" for v in route.via):
            hotel.add(route.young_person)
        last = route.step_types(-1)
        if "FOUND_AT" in last:
            found.add(route.young_person)
        if "PASSENGER_IN" in last and route.step_types(0) & {"DRIVES", "KEEPER_OF"}:
            carried.add(route.young_person)
    intimate_adults = 0
    for adult in adults:
        edges = [*graph.out_edges(adult, data=True), *_in_edges(graph, adult)]
        if any(
            data.get("type") == "PARTNER_OF"
            and graph.nodes[other].get("role") == "young_person"
            and not (shareable and data.get("handling") == "C")
            for _, other, data in edges
        ):
            intimate_adults += 1
    return _Signals(
        under_16=under_16,
        looked_after_under_18=looked_after,
        intimate=len(intimate),
        via_hotel=len(hotel),
        found=len(found),
        carried=len(carried),
        adults=len(adults),
        intimate_adults=intimate_adults,
    )


def _in_edges(graph: nx.MultiDiGraph, node: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Incoming edges as ``(node, other, data)``, like out-edges seen from ``node``."""
    return [(node, source, data) for source, _, data in graph.in_edges(node, data=True)]


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _young(n: int) -> str:
    return _count(n, "young person", "young people")


def suggested_tactics(target: Candidate, signals: _Signals, graph: nx.MultiDiGraph) -> list[str]:
    """The tactics of :data:`TACTICS` the evidence points to, each with its trigger.

    Adults: a CAWN when linked to a child under 16, or a looked-after child under 18;
    a Sexual Risk Order when an intimate (PARTNER_OF) link or a hotel ties them to
    young people; a Slavery and Trafficking Risk Order when young people they are
    linked to were carried in their vehicle or found somewhere after going missing.
    Locations: closure notices (s136B for premises — not public places — that are
    hotels or are used by adults of concern with intimate links to young people;
    s76 for a home or flat where young people are found or several adults of
    concern meet),
    the hotel notice, licensing reviews, Makesafe, dispersal for public places.
    Vehicles: an ANPR marker, licensing referral and operator engagement for
    private hire.  Businesses: operator engagement and licence review.
    """
    tactics: list[str] = []
    if target.kind == "adult":
        children = []
        if signals.under_16:
            children.append(_count(signals.under_16, "child under 16", "children under 16"))
        if signals.looked_after_under_18:
            children.append(
                _count(signals.looked_after_under_18, "looked-after child", "looked-after children")
                + " under 18"
            )
        if children:
            tactics.append(f"{TACTICS['cawn']}: linked to {' and '.join(children)}")
        sexual = []
        if signals.intimate:
            sexual.append(f"intimate links with {_young(signals.intimate)}")
        if signals.via_hotel:
            sexual.append(f"{_young(signals.via_hotel)} reached through a hotel")
        if sexual:
            tactics.append(f"{TACTICS['sro']}: {' and '.join(sexual)}")
        moved = []
        if signals.carried:
            moved.append(f"{_young(signals.carried)} carried in their vehicle")
        if signals.found:
            moved.append(
                f"{_young(signals.found)} found after going missing at places linked to them"
            )
        if moved:
            tactics.append(f"{TACTICS['stro']}: {' and '.join(moved)}")
        return tactics or [TACTICS["panel"]]
    if target.kind == "location":
        kind = str(target.details.get("location_kind", ""))
        sexual_exploitation = kind == "hotel" or signals.intimate_adults > 0
        if kind == "online":
            return [TACTICS["online"]]
        if kind not in _PUBLIC_PLACES and sexual_exploitation:
            tactics.append(TACTICS["closure_sexual"])
        if kind in _DWELLINGS and (signals.found or signals.adults >= 2):
            tactics.append(TACTICS["closure_asb"])
        if kind == "hotel":
            tactics.append(TACTICS["hotel_notice"])
        if kind in ("hotel", "takeaway", "licensed_premises"):
            tactics.append(TACTICS["licensing_review"])
        if kind in ("hotel", "takeaway", "shop", "licensed_premises"):
            tactics.append(TACTICS["makesafe"])
        if kind in _PUBLIC_PLACES:
            tactics.append(TACTICS["dispersal"])
        if kind == "transport_hub":
            tactics.append(TACTICS["transport"])
        return tactics or [TACTICS["guardianship"]]
    if target.kind == "vehicle":
        data = graph.nodes[target.id]
        registration = data.get("registration")
        tactics.append(TACTICS["anpr"] + (f" ({registration})" if registration else ""))
        if data.get("private_hire"):
            tactics.append(TACTICS["taxi_licensing"])
            operator = data.get("operator")
            tactics.append(TACTICS["operator"] + (f" ({operator})" if operator else ""))
            tactics.append(TACTICS["makesafe"])
        return tactics
    operator = target.details.get("operator")
    tactics.append(TACTICS["operator"] + (f" ({operator})" if operator else ""))
    if target.details.get("private_hire"):
        tactics.append(TACTICS["operator_licensing"])
    tactics.append(TACTICS["makesafe"])
    return tactics


# --------------------------------------------------------------------------- explanation


def _shareable(route: Route, graph: nx.MultiDiGraph) -> bool:
    """Whether no record of a route has handling code C."""
    return all(
        graph.edges[r.source, r.target, r.link_id].get("handling") != "C"
        for r in route.every_record
    )


def _explain(
    target: Candidate,
    impact: Impact,
    linked: Sequence[str],
    score: float,
    signals: _Signals,
    routes: Sequence[Route],
    cited: Sequence[str],
    graph: nx.MultiDiGraph,
) -> str:
    """Why the target is on the list, in plain English, naming only adults and contexts.

    The young people counted and the adults and contexts named are those on
    ``routes``: for a shareable list, only routes without a record of handling code C.
    """
    details = []
    if signals.under_16:
        details.append(f"{signals.under_16} under 16")
    looked_after = sum(bool(graph.nodes[y].get("looked_after")) for y in linked)
    if looked_after:
        details.append(f"{looked_after} looked after")
    if signals.found:
        details.append(f"{signals.found} found after going missing")
    detail = f" ({', '.join(details)})" if details else ""
    if linked:
        whom = f"lowering it for {_count(len(linked), 'young person', 'young people')}{detail}"
    else:
        # The linked count is 0: say so, and count the smaller falls on the same
        # (shareable) routes the rest of the row rests on.
        on_routes = {route.young_person for route in routes}
        slight = sum(1 for y in impact.young_people if y in on_routes)
        whom = f"lowering no young person's exposure by {LINKED_FALL} or more"
        if slight:
            whom += f" (it lowers that of {_young(slight)}, each by less)"
    share = f"{impact.share:.0%}" if impact.share >= 0.01 else f"{impact.share:.1%}"
    it = "them" if target.kind == "adult" else "it"
    cut = (
        f"disrupting {it} would cut total exposure by {impact.impact:.2f} ({share} of all "
        f"young people's exposure), {whom}"
    )
    if target.kind == "adult":
        contexts: dict[str, float] = defaultdict(float)
        direct = False
        for route in routes:
            direct = direct or not route.via
            for entity in route.via:
                if graph.nodes[entity].get("kind") in ("location", "vehicle"):
                    contexts[entity] += route.strength
        ways = ["directly"] if direct else []
        top = sorted(contexts, key=lambda c: (-contexts[c], c))[:3]
        if top:
            ways.append("through " + ", ".join(top))
        # "Reaches N young people" is the hub's own count (routes reaching at 0.05 or
        # more); the linked young people are another count, so say "routes" here.
        how = f"; its routes run {' and '.join(ways)}" if ways else ""
        text = f"Adult of concern (hub score {score:.2f}): {cut}{how}"
    else:
        weight: dict[str, float] = defaultdict(float)
        for route in routes:
            weight[route.adult] += route.strength
        adults = sorted(weight, key=lambda a: (-weight[a], a))
        listed = ", ".join(adults[:4]) + (", …" if len(adults) > 4 else "")
        used = f" used by {_count(len(adults), 'adult', 'adults')} of concern ({listed})"
        text = f"{target.label}{used if adults else ''}: {cut}"
    if cited:
        text += f"; evidence includes {', '.join(cited)}"
    return text + "."


# --------------------------------------------------------------------------- the list


@dataclass
class TargetList:
    """A target list ready to write.

    Attributes
    ----------
    rows : list of dict
        One per target, best first, keyed by :data:`TARGET_COLUMNS` and
        :data:`EXTRA_COLUMNS`.  Every text is scrubbed of young people's identifying values.
    notes : list of str
        For the "about" sheet: handling conditions, dates, pseudonymisation.
    as_of : date
    shareable : bool
    """

    rows: list[dict[str, Any]]
    notes: list[str]
    as_of: dt.date
    shareable: bool

    @property
    def columns(self) -> tuple[str, ...]:
        return TARGET_COLUMNS + EXTRA_COLUMNS

    @property
    def subjects(self) -> list[str]:
        """Who the list discloses, for the audit: each target's id and the young people's
        pseudonyms it names, sorted."""
        found = {str(row["target_id"]) for row in self.rows}
        for row in self.rows:
            found.update(row["linked_young_people_pseudonyms"])
        return sorted(found)


def build_target_list(
    graph: nx.MultiDiGraph,
    *,
    key: bytes,
    top: int | None = None,
    shareable: bool = False,
    options: AnalysisOptions | None = None,
    analysis: DisruptionAnalysis | None = None,
    exported_on: dt.date | None = None,
    source: str | None = None,
) -> TargetList:
    """The ranked disruption target list of a graph.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
    key : bytes
        The pseudonym key (:func:`graphguard.settings.pseudonym_key`).
    top : int, optional
        Keep the first ``top`` targets; every target with an impact if None.
    shareable : bool, default False
        Withhold records with handling code C, and targets that rest only on them;
        without ``analysis``, scores and impacts are computed without them too.
    options : AnalysisOptions, optional
        ``as_of`` and the half-life of evidence (the defaults if None); checked
        against ``analysis`` when both are given.
    analysis : DisruptionAnalysis, optional
        Computed with ``options`` if None.
    exported_on : date, optional
        The export date written in the notes; today if None.
    source : str, optional
        Where the data came from, for the notes.

    Returns
    -------
    TargetList
        Adults, locations, vehicles and businesses only — never a young person.
    """
    if shareable and analysis is None:
        # Scored on the shareable picture, never on the evidence the list withholds.
        graph = role_view(graph, SHAREABLE)
    result = analysis or disruption_analysis(graph, options=options)
    ex = result.exposure
    if analysis is not None and options is not None:
        check_options(ex, options)
    scrub = YoungPersonScrubber.from_graph(graph)
    hub_scores = {hub.id: hub.score for hub in result.hubs}
    context_scores = {context.id: context.score for context in result.contexts}
    rows: list[dict[str, Any]] = []
    for impact in result.impacts:
        if top is not None and len(rows) >= top:
            break
        if round(impact.impact, 4) <= 0:
            break
        target = impact.target
        members = frozenset(target.members)
        if any(graph.nodes[m].get("role") == "young_person" for m in members):
            continue  # never a young person, whatever the analysis was given
        routes = ex.routes_through(members)
        items = _evidence(graph, routes, members, ex.concern)
        shown = [text for text in (item.shown(shareable) for item in items) if text]
        # What names or counts records rests on the routes that may be shared.
        named = [r for r in routes if _shareable(r, graph)] if shareable else routes
        if not shown or not named:
            continue  # rests only on records that may not be shared
        on_named = {r.young_person for r in named}
        linked = [y for y in impact.linked_young_people() if y in on_named]
        adults = [
            a
            for a, fall in impact.adults.items()
            if fall >= LINKED_FALL and any(r.adult == a for r in named)
        ]
        signals = _signals(graph, linked, adults, named, ex.as_of, shareable)
        if target.kind == "adult":
            score = hub_scores.get(target.id, 0.0)
        else:
            score = sum(context_scores.get(m, 0.0) for m in target.members)
        explanation = _explain(
            target, impact, linked, score, signals, named, shown[:_CITED_IN_EXPLANATION], graph
        )
        evidence = shown[:_EVIDENCE_SHOWN]
        if len(shown) > _EVIDENCE_SHOWN:
            evidence.append(f"and {len(shown) - _EVIDENCE_SHOWN} more")
        rows.append(
            {
                "rank": len(rows) + 1,
                "target_id": scrub(target.id),
                "kind": target.kind,
                "label": scrub(target.label),
                "score": round(score, 4),
                "impact": round(impact.impact, 4),
                "linked_young_people": len(linked),
                "evidence": [scrub(text) for text in evidence],
                "suggested_tactics": [scrub(t) for t in suggested_tactics(target, signals, graph)],
                "explanation": scrub(explanation),
                "linked_young_people_pseudonyms": sorted(pseudonym(y, key) for y in linked),
                "handling": _handling(items, shareable),
            }
        )
    notes = _notes(ex.as_of, shareable, exported_on or dt.date.today(), source, len(rows))
    return TargetList(
        rows=rows,
        notes=[scrub(note) for note in notes],
        as_of=ex.as_of,
        shareable=shareable,
    )


def _notes(
    as_of: dt.date, shareable: bool, exported_on: dt.date, source: str | None, rows: int
) -> list[str]:
    if shareable:
        handling = (
            "SHAREABLE: records with 3x5x2 handling code C are withheld from every cell, and "
            "targets tied to young people only by such records are left out. Records with no "
            "handling code recorded (partner agencies' own records) are treated as P."
        )
    else:
        handling = (
            "NOT FOR SHARING AS IT IS: this list includes records with 3x5x2 handling code C "
            "(sharing only with the conditions attached). Make a shareable list with --shareable."
        )
    return [
        "graphguard disruption target list",
        f"Source: {source}" if source else "Source: not recorded",
        f"Evidence weighed as of {as_of.isoformat()}; exported on {exported_on.isoformat()}; "
        f"{rows} target{'s' if rows != 1 else ''}.",
        handling,
        "Young people are never targets. They appear only as a count and as keyed "
        "pseudonyms (HMAC-SHA256 with this installation's secret key), never by id or name. "
        "No person's name is exported: adults are identified by id, homes by kind and postcode.",
        "impact: the fall in total exposure of all young people if the target were disrupted; "
        "score: the analysis score (hub score for adults, context score for places and "
        "vehicles). See docs/methodology.md, Disruption.",
        "An allegation is not a fact: each evidence item shows its 3x5x2 grading "
        "(source/intelligence/handling); intelligence graded 3 or E counts for little.",
        "suggested_tactics map the Home Office Child exploitation disruption toolkit "
        "(2019, updated 2022); each power's legal tests must be checked before use.",
    ]


def write_target_list(targets: TargetList, path: str | Path) -> Path:
    """Write a target list as CSV, XLSX (with an "about" sheet) or JSON, by the file name."""
    return write_table(targets.rows, targets.columns, path, sheet="targets", notes=targets.notes)
