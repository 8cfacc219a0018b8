"""What changed between two pictures of the same data: the monthly meeting's first question.

Each picture is the analysis ``as_of`` its date under the same options
(:class:`~graphguard.analysis.options.AnalysisOptions`), so scores are comparable:
the later picture differs only by the links first seen in between and by the ageing
of the evidence.  :func:`compare` reports

* **adults** and **contexts** that are new (of concern now, not before), rising,
  falling or no longer of concern, each with the new links that made the difference;
* **moves**: an adult of concern reaching young people through a context that is new
  to them while a context they used before went quiet (no link since the earlier
  picture) — the flat closed, the line moved;
* **young people newly exposed**, counted and named only by pseudonym;
* **new links of concern**: found after going missing, alleged harm, and contact
  between an adult of concern and a young person;
* **peer groups** that gained or lost members, matched across the two dates by
  membership overlap (group ids are per picture).

Every change cites link ids.  The functions are pure: graphs in, a report out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from graphguard.analysis.contexts import Context, contexts_from_town
from graphguard.analysis.disruption.exposure import Exposure, entity_label, exposure_from_town
from graphguard.analysis.evidence import default_as_of
from graphguard.analysis.groups import PeerGroup, groups_from_town
from graphguard.analysis.hubs import Hub, hubs_from_town
from graphguard.analysis.options import AnalysisOptions
from graphguard.analysis.routes import NEGLIGIBLE
from graphguard.store.base import Filters, filter_graph

__all__ = [
    "CHANGE_RATIO",
    "CHANGE_MINIMUM",
    "CONTEXT_CONCERN",
    "GROUP_OVERLAP",
    "Picture",
    "ChangeReport",
    "picture",
    "compare",
    "as_of_graph",
    "briefing_lines",
]

#: A score is rising (falling) when it grew (shrank) by at least this fraction…
CHANGE_RATIO = 0.25
#: …and by at least this much: evidence ageing alone (a month is about 5% at the
#: default half-life of a year) is never called a fall.
CHANGE_MINIMUM = 0.1
#: Two peer groups of different dates are one group when their Jaccard overlap is at
#: least this (a third: most members in common, some joined or left).
GROUP_OVERLAP = 1 / 3
#: A context is of concern when adults of concern are linked to it and it scores at
#: least this (a school the network's car was seen at once scores next to nothing).
CONTEXT_CONCERN = 0.01
#: Links cited per change.
_CITED = 8

#: New links always of concern, and the contact types that are when an adult of
#: concern and a young person are the two ends.
_ALWAYS = frozenset({"FOUND_AT", "ALLEGED_HARM"})
_CONTACT = frozenset({"CONTACTED", "ASSOCIATES_WITH", "PARTNER_OF"})


@dataclass
class Picture:
    """The analysis of one date: hubs, contexts, peer groups and exposure."""

    as_of: dt.date
    graph: nx.MultiDiGraph
    hubs: list[Hub]
    contexts: list[Context]
    groups: list[PeerGroup]
    exposure: Exposure

    @property
    def adults_of_concern(self) -> set[str]:
        return {hub.id for hub in self.hubs if hub.concern}


def picture(graph: nx.MultiDiGraph, options: AnalysisOptions) -> Picture:
    """The analysis of ``graph`` (already filtered to ``options.as_of``) under ``options``."""
    town = options.town(graph)
    hubs = hubs_from_town(town)
    contexts = contexts_from_town(town, hubs)
    groups = groups_from_town(
        town,
        hubs,
        seed=options.seed,
        min_ties=options.min_group_ties,
        min_size=options.min_group_size,
        max_context_size=options.max_context_size,
    )
    return Picture(town.as_of, graph, hubs, contexts, groups, exposure_from_town(town, hubs=hubs))


@dataclass
class ChangeReport:
    """What changed from one picture to the next; :meth:`as_dict` is the JSON form."""

    date_from: dt.date
    date_to: dt.date
    options: dict[str, Any]
    adults: list[dict[str, Any]] = field(default_factory=list)
    contexts: list[dict[str, Any]] = field(default_factory=list)
    moves: list[dict[str, Any]] = field(default_factory=list)
    newly_exposed: list[dict[str, Any]] = field(default_factory=list)
    new_links_of_concern: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    new_links: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "options": self.options,
            "summary": {
                "new_links": self.new_links,
                "adults": _counts(self.adults),
                "contexts": _counts(self.contexts),
                "moves": len(self.moves),
                "young_people_newly_exposed": len(self.newly_exposed),
                "new_links_of_concern": len(self.new_links_of_concern),
                "groups_changed": len(self.groups),
            },
            "adults": self.adults,
            "contexts": self.contexts,
            "moves": self.moves,
            "young_people_newly_exposed": self.newly_exposed,
            "new_links_of_concern": self.new_links_of_concern,
            "groups": self.groups,
        }


def _counts(changes: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for change in changes:
        counts[change["change"]] = counts.get(change["change"], 0) + 1
    return dict(sorted(counts.items()))


def compare(
    graph_from: nx.MultiDiGraph,
    graph_to: nx.MultiDiGraph,
    *,
    options: AnalysisOptions,
    date_from: dt.date,
    date_to: dt.date | None = None,
    pseudonymise: Callable[[str], str],
    after: Picture | None = None,
) -> ChangeReport:
    """What changed between the picture on ``date_from`` and the one on ``date_to``.

    Parameters
    ----------
    graph_from, graph_to : networkx.MultiDiGraph
        The store's graph filtered ``as_of`` each date (``Filters(as_of=...)``).
    options : AnalysisOptions
        The options both pictures share; their ``as_of`` is replaced by each date.
    date_from : date
        The earlier picture's date.
    date_to : date, optional
        The later picture's date; the latest date in ``graph_to`` if None.
    pseudonymise : callable
        A young person's id to their pseudonym (newly exposed young people are
        never named otherwise).
    after : Picture, optional
        The later picture (:func:`picture` of ``graph_to``), when the caller has it
        already; computed if None.

    Raises
    ------
    ValueError
        When ``date_from`` is not before ``date_to``, or ``after`` is of another date.
    """
    date_to = date_to or default_as_of(graph_to)
    if date_from >= date_to:
        raise ValueError(
            f"--from {date_from.isoformat()} must be before --to {date_to.isoformat()}"
        )
    if after is not None and after.as_of != date_to:
        raise ValueError(f"the later picture is of {after.as_of}, not {date_to.isoformat()}")
    before = picture(graph_from, _at(options, date_from))
    after = after or picture(graph_to, _at(options, date_to))
    new = _new_links(graph_to, date_from, date_to)
    report = ChangeReport(date_from, date_to, _at(options, date_to).as_dict(), new_links=len(new))
    report.options.pop("as_of", None)
    report.adults = _scored(
        after.graph,
        {h.id: (h.score, h.concern, h.evidence, h.explanation) for h in before.hubs},
        {h.id: (h.score, h.concern, h.evidence, h.explanation) for h in after.hubs},
        new,
        graph_from,
    )
    report.contexts = _scored(
        after.graph,
        {c.id: _context_row(c) for c in before.contexts},
        {c.id: _context_row(c) for c in after.contexts},
        new,
        graph_from,
    )
    report.moves = _moves(before, after, new)
    report.newly_exposed = _newly_exposed(before, after, pseudonymise)
    report.new_links_of_concern = _links_of_concern(after, new)
    report.groups = _groups(before.groups, after.groups)
    return report


def _at(options: AnalysisOptions, day: dt.date) -> AnalysisOptions:
    return AnalysisOptions(**{**options.__dict__, "as_of": day})


def _new_links(
    graph: nx.MultiDiGraph, since: dt.date, until: dt.date
) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Links first seen after ``since`` and on or before ``until``, by link id."""
    new = {}
    for source, target, data in graph.edges(data=True):
        first = data.get("first_seen")
        if first is not None and since < first <= until:
            new[data["link_id"]] = (source, target, data)
    return dict(sorted(new.items()))


def _context_row(context: Context) -> tuple[float, bool, list[dict[str, Any]], str]:
    concern = bool(context.adults_of_concern) and context.score >= CONTEXT_CONCERN
    return context.score, concern, context.evidence, context.explanation


def _scored(
    graph: nx.MultiDiGraph,
    before: Mapping[str, tuple[float, bool, list[dict[str, Any]], str]],
    after: Mapping[str, tuple[float, bool, list[dict[str, Any]], str]],
    new: Mapping[str, tuple[str, str, dict[str, Any]]],
    graph_from: nx.MultiDiGraph,
) -> list[dict[str, Any]]:
    """Adults (or contexts) that are new, rising, falling or no longer of concern."""
    touching: dict[str, list[str]] = {}
    for link_id, (source, target, _) in new.items():
        touching.setdefault(source, []).append(link_id)
        touching.setdefault(target, []).append(link_id)
    known = {d["link_id"] for _, _, d in graph_from.edges(data=True)}
    changes: list[dict[str, Any]] = []
    for entity in sorted(set(before) | set(after)):
        old_score, old_concern, _, _ = before.get(entity, (0.0, False, [], ""))
        score, concern, evidence, explanation = after.get(entity, (0.0, False, [], ""))
        if abs(score - old_score) < CHANGE_MINIMUM:
            continue  # a score at the edge of concern is not news either way
        if concern and not old_concern:
            change = "new"
        elif old_concern and not concern:
            change = "no longer of concern"
        elif not concern:
            continue
        elif score - old_score >= CHANGE_RATIO * old_score:
            change = "rising"
        elif old_score - score >= CHANGE_RATIO * old_score:
            change = "falling"
        else:
            continue
        cited = [e["link_id"] for e in evidence if e["link_id"] not in known]
        cited += [link for link in touching.get(entity, []) if link not in cited]
        if change in ("rising", "new"):
            why = f"new links {', '.join(cited[:_CITED])}" if cited else "no new links"
        else:
            quiet = "no new links" if not touching.get(entity) else "new links did not make up"
            why = f"{quiet}; its evidence aged or the adults around it count less"
        changes.append(
            {
                "id": entity,
                "label": entity_label(graph, entity) if entity in graph else entity,
                "change": change,
                "score_from": round(old_score, 4),
                "score_to": round(score, 4),
                "links": cited[:_CITED],
                "reason": f"{change}: score {old_score:.2f} -> {score:.2f}; {why}",
                "explanation": explanation,
            }
        )
    order = {"new": 0, "rising": 1, "falling": 2, "no longer of concern": 3}
    changes.sort(key=lambda c: (order[c["change"]], -abs(c["score_to"] - c["score_from"]), c["id"]))
    return changes


def _moves(
    before: Picture, after: Picture, new: Mapping[str, tuple[str, str, dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Adults of concern now reaching young people through a new context, an old one quiet."""
    active: dict[str, list[str]] = {}
    for link_id, (source, target, _) in new.items():
        active.setdefault(source, []).append(link_id)
        active.setdefault(target, []).append(link_id)
    earlier = {hub.id: hub for hub in before.hubs}
    moves = []
    for hub in after.hubs:
        if not hub.concern or hub.id not in earlier:
            continue
        old = earlier[hub.id].contexts
        gained = [c for c in hub.contexts if c not in old and active.get(c)]
        quiet = [c for c in old if not active.get(c)]
        if not gained or not quiet:
            continue
        graph = after.graph
        to_text = ", ".join(entity_label(graph, c) for c in gained)
        from_text = ", ".join(entity_label(graph, c) for c in quiet[:3])
        links = sorted({link for c in gained for link in active[c]})
        moves.append(
            {
                "adult": hub.id,
                "from": quiet,
                "to": gained,
                "links": links[:_CITED],
                "reason": (
                    f"Adult of concern {hub.id} now reaches young people through {to_text} "
                    f"(new links {', '.join(links[:_CITED])}); no link at {from_text} since "
                    f"{before.as_of.isoformat()}: the activity moved"
                ),
            }
        )
    return moves


def _newly_exposed(
    before: Picture, after: Picture, pseudonymise: Callable[[str], str]
) -> list[dict[str, Any]]:
    """Young people exposed now who were not before, by pseudonym, with the routes' links."""
    rows = []
    for young_person, value in after.exposure.young_people.items():
        if value < NEGLIGIBLE or before.exposure.of(young_person) >= NEGLIGIBLE:
            continue
        routes = [r for r in after.exposure.routes if r.young_person == young_person]
        routes.sort(key=lambda r: (-r.strength, r.links))
        rows.append(
            {
                "young_person": pseudonymise(young_person),
                "exposure": round(value, 4),
                "adults": sorted({r.adult for r in routes}),
                "links": list(routes[0].links) if routes else [],
            }
        )
    return rows


def _links_of_concern(
    after: Picture, new: Mapping[str, tuple[str, str, dict[str, Any]]]
) -> list[dict[str, Any]]:
    concern = after.adults_of_concern
    graph = after.graph
    rows = []
    for link_id, (source, target, data) in new.items():
        kind = data["type"]
        roles = {graph.nodes[source].get("role"), graph.nodes[target].get("role")}
        if kind == "FOUND_AT":
            reason = "found after going missing"
        elif kind == "ALLEGED_HARM":
            reason = "an allegation of harm"
        elif (
            kind in _CONTACT
            and roles == {"adult", "young_person"}
            and (source in concern or target in concern)
            and not data.get("protective")
        ):
            reason = "contact between an adult of concern and a young person"
        else:
            continue
        rows.append(
            {
                "link_id": link_id,
                "type": kind,
                "source": source,
                "target": target,
                "first_seen": data["first_seen"].isoformat(),
                "reference": data.get("reference"),
                "reason": reason,
            }
        )
    return rows


def _groups(before: Sequence[PeerGroup], after: Sequence[PeerGroup]) -> list[dict[str, Any]]:
    """Peer groups matched by membership overlap: gained or lost members, new or gone."""
    pairs = []
    for old in before:
        for new in after:
            a, b = set(old.members), set(new.members)
            overlap = len(a & b) / len(a | b)
            if overlap >= GROUP_OVERLAP:
                pairs.append((-overlap, old.id, new.id, old, new))
    pairs.sort(key=lambda p: p[:3])
    matched_old: set[str] = set()
    matched_new: set[str] = set()
    rows = []
    for _, _, _, old, new in pairs:
        if old.id in matched_old or new.id in matched_new:
            continue
        matched_old.add(old.id)
        matched_new.add(new.id)
        joined = sorted(set(new.members) - set(old.members))
        left = sorted(set(old.members) - set(new.members))
        if joined or left:
            rows.append(
                {
                    "change": "changed",
                    "group_from": old.id,
                    "group_to": new.id,
                    "size_from": len(old.members),
                    "size_to": len(new.members),
                    "joined": joined,
                    "left": left,
                }
            )
    for new in after:
        if new.id not in matched_new:
            rows.append(
                {
                    "change": "new",
                    "group_from": None,
                    "group_to": new.id,
                    "size_from": 0,
                    "size_to": len(new.members),
                    "joined": list(new.members),
                    "left": [],
                }
            )
    for old in before:
        if old.id not in matched_old:
            rows.append(
                {
                    "change": "gone",
                    "group_from": old.id,
                    "group_to": None,
                    "size_from": len(old.members),
                    "size_to": 0,
                    "joined": [],
                    "left": list(old.members),
                }
            )
    return rows


def as_of_graph(graph: nx.MultiDiGraph, day: dt.date) -> nx.MultiDiGraph:
    """A copy of ``graph`` as it stood on ``day``: what ``store.graph(Filters(as_of=day))`` gives.

    Links first seen later are left out, later dates read as ``day``; every entity stays.
    """
    return filter_graph(graph, Filters(as_of=day))


def briefing_lines(
    graph: nx.MultiDiGraph,
    *,
    since: dt.date,
    as_of: dt.date,
    options: AnalysisOptions,
    key: bytes,
    after: Picture | None = None,
) -> list[str]:
    """ "What changed" since the last meeting as short lines for the briefing pack.

    Young people are only counted here; adults, places and vehicles are named with the
    links behind each change.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        The graph the pack is drawn from (already without what the reader may not see).
    since, as_of : date
        The last meeting's picture and this one's.
    options : AnalysisOptions
        The options of both pictures (their ``as_of`` is replaced).
    key : bytes
        The pseudonym key.
    after : Picture, optional
        This meeting's picture of ``graph``, when the pack has analysed it already.
    """
    from graphguard.privacy import pseudonym

    report = compare(
        as_of_graph(graph, since),
        after.graph if after is not None else as_of_graph(graph, as_of),
        options=options,
        date_from=since,
        date_to=as_of,
        pseudonymise=lambda y: pseudonym(y, key),
        after=after,
    )
    lines = [
        f"{report.new_links} new links from {since.isoformat()} to {as_of.isoformat()}; "
        f"{len(report.newly_exposed)} young people newly exposed; "
        f"{len(report.new_links_of_concern)} new links of concern."
    ]
    lines += [move["reason"] + "." for move in report.moves]
    for change in report.adults:
        lines.append(f"Adult {change['id']}: {change['reason']}.")
    for change in report.contexts:
        lines.append(f"{change['label']}: {change['reason']}.")
    for group in report.groups:
        if group["change"] == "changed":
            lines.append(
                f"Peer group {group['group_to']} (was {group['group_from']}): "
                f"{len(group['joined'])} joined, {len(group['left'])} left."
            )
        else:
            size = group["size_to"] or group["size_from"]
            lines.append(f"A peer group of {size} is {group['change']}.")
    return lines
