"""Peer groups: young people who spend time together, for safety planning.

Contextual Safeguarding works with peer groups as a whole — the same group meets
the same adults in the same places — so a plan for one child that ignores their
friends leaves the others exposed.  Peer groups here exist for safety planning and
coordinated support, **not surveillance**; every summary says so.

Groups are communities of the young-person peer graph (:mod:`.projection`: direct
peer links plus Newman-weighted co-presence), found with the Louvain method
(Blondel et al. 2008) as NetworkX implements it, seeded so the same data and seed
give the same groups.  Each group is summarised: its young people, the adults of
concern whose risk reaches its members, the contexts it meets in, and a plain reason
why it matters.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from graphguard.analysis.hubs import Hub, hubs_from_town
from graphguard.analysis.projection import MAX_CONTEXT_SIZE, peer_graph_from_town
from graphguard.analysis.town import Town

__all__ = ["PURPOSE", "PeerGroup", "communities", "peer_groups", "groups_from_town"]

#: What every peer-group summary says it is for.
PURPOSE = "For safety planning and coordinated support, not surveillance."

#: Contexts listed per group.
_CONTEXTS_SHOWN = 5


@dataclass(frozen=True)
class PeerGroup:
    """One peer group and why it matters.

    Attributes
    ----------
    id : str
        ``G01``, ``G02``, …: largest first, ties by the smallest member id.
    members : list of str
        The young people in the group (entity ids).
    adults_of_concern : list of dict
        Adults of concern whose risk reaches members: ``id``, ``score``,
        ``members_reached`` and ``links`` (the link ids of the strongest route).
    contexts : list of dict
        Places and vehicles where at least two members are present: ``id``,
        ``kind``, ``location_kind``, ``members``.
    components : dict of str to float
        Counts the reason rests on.
    reason : str
        Why the group matters, in plain English, ending with :data:`PURPOSE`.
    """

    id: str
    members: list[str]
    adults_of_concern: list[dict[str, Any]] = field(default_factory=list)
    contexts: list[dict[str, Any]] = field(default_factory=list)
    components: dict[str, float] = field(default_factory=dict)
    reason: str = ""

    @property
    def young_people(self) -> list[str]:
        return self.members

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "size": len(self.members),
            "members": self.members,
            "adults_of_concern": self.adults_of_concern,
            "contexts": self.contexts,
            "components": self.components,
            "reason": self.reason,
            "purpose": PURPOSE,
        }


def _key(node: Hashable) -> tuple[str, Hashable]:
    return str(node), node


def communities(
    graph: nx.Graph, *, seed: int = 0, resolution: float = 1.0, weight: str | None = "weight"
) -> list[set[Hashable]]:
    """Seeded Louvain communities, in a stable order: largest first, then smallest node.

    The graph is rebuilt with its nodes and edges in sorted order first, so the
    result depends only on the graph's content and the seed, not on the order the
    records arrived in.

    Examples
    --------
    >>> parts = communities(nx.karate_club_graph(), seed=0)
    >>> nx.community.is_partition(nx.karate_club_graph(), parts)
    True
    """
    ordered = nx.Graph()
    ordered.add_nodes_from(sorted(graph.nodes, key=_key))
    edges = sorted(
        ((*sorted((u, v), key=_key), data) for u, v, data in graph.edges(data=True)),
        key=lambda e: (_key(e[0]), _key(e[1])),
    )
    ordered.add_edges_from(edges)
    found = nx.community.louvain_communities(
        ordered, weight=weight, resolution=resolution, seed=seed
    )
    return sorted((set(c) for c in found), key=lambda c: (-len(c), min(map(_key, c))))


def _group_ids(count: int) -> list[str]:
    width = max(2, len(str(count)))
    return [f"G{i:0{width}d}" for i in range(1, count + 1)]


def _adults_of_concern(members: list[str], reaching: dict[str, list[Hub]]) -> list[dict[str, Any]]:
    reached_by: dict[str, list[str]] = {}
    hubs: dict[str, Hub] = {}
    for member in members:
        for hub in reaching.get(member, ()):
            reached_by.setdefault(hub.id, []).append(member)
            hubs[hub.id] = hub
    found: list[dict[str, Any]] = [
        {
            "id": adult,
            "score": round(hubs[adult].score, 4),
            "members_reached": len(reached),
            "links": hubs[adult].routes[reached[0]],
        }
        for adult, reached in reached_by.items()
    ]
    found.sort(key=lambda a: (-a["members_reached"], -a["score"], a["id"]))
    return found


def _contexts(town: Town, members: list[str], met_at: dict[str, set[str]]) -> list[dict[str, Any]]:
    present: Counter[str] = Counter()
    for member in members:
        present.update(met_at.get(member, ()))
    ranked = sorted(
        ((c, n) for c, n in present.items() if n >= 2), key=lambda item: (-item[1], item[0])
    )[:_CONTEXTS_SHOWN]
    return [
        {
            "id": context,
            "kind": town.kind[context],
            "location_kind": town.attributes(context).get("location_kind"),
            "members": count,
        }
        for context, count in ranked
    ]


def _summary(town: Town, members: Iterable[str]) -> dict[str, float]:
    members = list(members)

    def count(test: Any) -> float:
        return float(sum(1 for m in members if test(town.attributes(m), m)))

    return {
        "size": float(len(members)),
        "missing_episodes": count(lambda d, _: bool(d.get("missing_episodes"))),
        "looked_after": count(lambda d, _: bool(d.get("looked_after"))),
        "excluded_from_school": count(lambda d, _: bool(d.get("excluded_from_school"))),
        "found_after_missing": count(lambda _, m: town.found_after_missing(m)),
    }


def _reason(
    summary: dict[str, float], adults: list[dict[str, Any]], contexts: list[dict[str, Any]]
) -> str:
    size = int(summary["size"])
    parts = [f"Peer group of {size} young people"]
    if contexts:
        shown = ", ".join(
            f"{c['id']} ({c['location_kind'] or c['kind']}, {c['members']})" for c in contexts[:3]
        )
        parts[0] += f" who meet at {shown}"
    signals = []
    for key, one, many in (
        ("missing_episodes", "has had missing episodes", "have had missing episodes"),
        ("found_after_missing", "was found somewhere after going missing",
         "were found somewhere after going missing"),
        ("looked_after", "is looked after", "are looked after"),
        ("excluded_from_school", "is excluded from school", "are excluded from school"),
    ):  # fmt: skip
        count = int(summary[key])
        if count:
            signals.append(f"{count} of {size} {one if count == 1 else many}")
    if signals:
        parts.append(", ".join(signals))
    if adults:
        shown = ", ".join(
            f"{a['id']} reaches {a['members_reached']} via {' and '.join(a['links'])}"
            for a in adults[:3]
        )
        linked = len(adults)
        parts.append(f"{linked} adult{'s' if linked != 1 else ''} of concern linked ({shown})")
    else:
        parts.append("no adult of concern linked")
    return "; ".join(parts) + ". " + PURPOSE


def groups_from_town(
    town: Town,
    hubs: Sequence[Hub],
    *,
    seed: int = 0,
    resolution: float = 1.0,
    min_size: int = 2,
    max_context_size: int = MAX_CONTEXT_SIZE,
) -> list[PeerGroup]:
    """:func:`peer_groups` on a graph already read into a :class:`Town`."""
    peers = peer_graph_from_town(town, max_context_size=max_context_size)
    peers.remove_nodes_from([n for n in list(peers) if peers.degree(n) == 0])
    found = [c for c in communities(peers, seed=seed, resolution=resolution) if len(c) >= min_size]
    reaching: dict[str, list[Hub]] = {}
    for hub in hubs:
        if hub.concern:
            for young_person in hub.routes:
                reaching.setdefault(young_person, []).append(hub)
    met_at: dict[str, set[str]] = {}
    for context, people in town.presence.items():
        if town.attributes(context).get("location_kind") == "home":
            continue
        for who in people:
            if town.is_young_person(who):
                met_at.setdefault(who, set()).add(context)
    groups = []
    for group_id, members in zip(_group_ids(len(found)), found, strict=True):
        names = sorted(str(m) for m in members)
        adults = _adults_of_concern(names, reaching)
        contexts = _contexts(town, names, met_at)
        summary = _summary(town, names)
        summary["adults_of_concern"] = float(len(adults))
        groups.append(
            PeerGroup(
                id=group_id,
                members=names,
                adults_of_concern=adults,
                contexts=contexts,
                components=summary,
                reason=_reason(summary, adults, contexts),
            )
        )
    return groups


def peer_groups(
    graph: nx.MultiDiGraph,
    *,
    hubs: Sequence[Hub] | None = None,
    as_of: dt.date | None = None,
    half_life_days: float = 365.0,
    seed: int = 0,
    resolution: float = 1.0,
    min_size: int = 2,
    max_context_size: int = MAX_CONTEXT_SIZE,
) -> list[PeerGroup]:
    """Find and summarise the peer groups of the young people in a graph.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        graphguard's typed graph.
    hubs : list of Hub, optional
        The perpetrator-centred hubs, for the adults of concern; computed if None.
    as_of : date, optional
        The day evidence is weighed against; the latest link date if None.
    half_life_days : float, default 365
        The half-life of evidence.
    seed : int, default 0
        The Louvain seed: the same graph and seed give the same groups.
    resolution : float, default 1.0
        Louvain resolution: above 1 favours smaller groups, below 1 larger ones.
    min_size : int, default 2
        Smaller communities (a young person with no peer links) are not reported.
    max_context_size : int
        See :data:`graphguard.analysis.projection.MAX_CONTEXT_SIZE`.

    Returns
    -------
    list of PeerGroup
        Largest first.
    """
    town = Town(graph, as_of=as_of, half_life_days=half_life_days)
    if hubs is None:
        hubs = hubs_from_town(town)
    return groups_from_town(
        town,
        hubs,
        seed=seed,
        resolution=resolution,
        min_size=min_size,
        max_context_size=max_context_size,
    )
