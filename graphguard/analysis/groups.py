"""Peer groups: young people who spend time together, for safety planning.

Contextual Safeguarding works with peer groups as a whole — the same group meets
the same adults in the same places — so a plan for one child that ignores their
friends leaves the others exposed.  Peer groups here exist for safety planning and
coordinated support, **not surveillance**; every summary says so.

Groups are communities of the young-person peer graph (:mod:`.projection`: direct
peer links plus Newman-weighted co-presence), found with the Leiden algorithm
maximising asymptotical surprise (:func:`communities`; no resolution to tune),
seeded so the same data and seed give the same groups, and then narrowed to their
cohesive cores: every member has direct peer links with at least two others
(:func:`cohesive_cores`).  NetworkX stays the graph API; igraph and leidenalg are
used only inside :func:`communities`.  Each group is summarised: its young people,
the adults of concern whose risk reaches its members, the contexts it meets in, and
a plain reason why it matters.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import igraph
import leidenalg
import networkx as nx

from graphguard.analysis.hubs import Hub, hubs_from_town
from graphguard.analysis.projection import MAX_CONTEXT_SIZE, MIN_TIES, peer_graph_from_town
from graphguard.analysis.town import Town

__all__ = [
    "MIN_TIES",
    "PURPOSE",
    "PeerGroup",
    "cohesive_cores",
    "communities",
    "group_members",
    "groups_from_town",
    "peer_groups",
]

#: What every peer-group summary says it is for.
PURPOSE = "For safety planning and coordinated support, not surveillance."

#: leidenalg takes a seed in C's unsigned range; larger or negative seeds wrap into it.
_SEED_RANGE = 2**31

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
    graph: nx.Graph, *, seed: int = 0, weight: str | None = "weight"
) -> list[set[Hashable]]:
    """Seeded Leiden communities maximising asymptotical surprise, largest first.

    The Leiden algorithm (Traag, Waltman and van Eck 2019) as ``leidenalg`` implements
    it, optimising asymptotical surprise (Traag, Aldecoa and Delvenne 2015): how
    unlikely it is, were the links spread at random over the pairs, that so large a
    share of the link weight falls inside the communities when so small a share of
    the pairs does.  Surprise has no resolution parameter and, unlike modularity, no
    resolution limit, so it finds small dense groups in a large sparse graph.  Leiden
    runs leidenalg's default two iterations: iterating until nothing moves gave the
    same agreement with the planted groups on every town of ``benchmarks/groups.py``,
    at up to 1.6 times the time.

    The graph is handed to igraph with its nodes and edges in sorted order, so the
    result depends only on the graph's content and the seed, not on the order the
    records arrived in.  Self-loops are ignored.

    Parameters
    ----------
    graph : networkx.Graph
        An undirected graph; weights, if any, must not be negative.
    seed : int, default 0
        The seed of Leiden's random node order and refinement.
    weight : str or None, default "weight"
        The edge attribute holding the weight (missing means 1); unweighted if None.

    Returns
    -------
    list of set
        A partition of the nodes: largest community first, ties by the smallest node.

    Examples
    --------
    >>> two = nx.union(nx.complete_graph(5), nx.complete_graph(range(5, 10)))
    >>> two.add_edge(0, 5)
    >>> [sorted(c) for c in communities(two, seed=0)]
    [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    """
    nodes = sorted(graph.nodes, key=_key)
    if not nodes:
        return []
    index = {node: i for i, node in enumerate(nodes)}
    edges = sorted(
        (
            (*sorted((index[u], index[v])), float(data.get(weight, 1.0)) if weight else 1.0)
            for u, v, data in graph.edges(data=True)
            if u != v
        ),
    )
    converted = igraph.Graph(n=len(nodes), edges=[(u, v) for u, v, _ in edges])
    partition = leidenalg.find_partition(
        converted,
        leidenalg.SurpriseVertexPartition,
        weights=[w for _, _, w in edges],
        seed=seed % _SEED_RANGE,
    )
    found = [{nodes[i] for i in members} for members in partition]
    return sorted(found, key=lambda c: (-len(c), min(map(_key, c))))


def cohesive_cores(
    peers: nx.Graph, community: Iterable[Hashable], *, min_ties: int = MIN_TIES
) -> list[set[Hashable]]:
    """The members of a community who each have direct peer links with ``min_ties`` others.

    Members with fewer direct links (ASSOCIATES_WITH, CONTACTED, PARTNER_OF: the
    ``direct`` part of a :mod:`.projection` peer-graph edge) to the rest are left out,
    repeatedly, until every one left has enough; what remains is split where direct
    links no longer join it.  A young person whose only tie to a group is one friend
    in it is that friend's friend, not a member; shared places alone do not make a
    member either.  With ``min_ties`` 0 the community is returned whole.

    Examples
    --------
    >>> peers = nx.Graph()
    >>> peers.add_edges_from([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")], direct=0.5)
    >>> [sorted(core) for core in cohesive_cores(peers, "abcd")]
    [['a', 'b', 'c']]
    """
    members = set(community)
    if min_ties <= 0:
        return [members]
    while True:
        loose = {
            member
            for member in members
            if sum(1 for other, data in peers[member].items() if other in members and
                   other != member and data.get("direct", 0.0) > 0) < min_ties
        }  # fmt: skip
        if not loose:
            break
        members -= loose
    direct = nx.Graph()
    direct.add_nodes_from(members)
    direct.add_edges_from(
        (member, other)
        for member in members
        for other, data in peers[member].items()
        if other in members and data.get("direct", 0.0) > 0
    )
    cores = [set(core) for core in nx.connected_components(direct)]
    return sorted(cores, key=lambda c: (-len(c), min(map(_key, c))))


def group_members(
    peers: nx.Graph, *, seed: int = 0, min_ties: int = MIN_TIES, min_size: int = 2
) -> list[set[Hashable]]:
    """The peer groups of a peer graph, as sets of young people, largest first.

    :func:`communities` of the young people with any peer tie, each narrowed to its
    :func:`cohesive_cores`; cores smaller than ``min_size`` are not groups.  Ties in
    size are ordered by the smallest member, so group ids are stable.
    """
    # Young people with no peer tie are left out before the search: surprise counts
    # pairs, and a town's many unlinked young people would dilute it.  (A graph of the
    # edges, not a subgraph view: iterating a view's edges costs more than the search.)
    linked = nx.Graph(peers.edges(data=True))
    cores = [
        core
        for community in communities(linked, seed=seed)
        for core in cohesive_cores(peers, community, min_ties=min_ties)
        if len(core) >= min_size
    ]
    return sorted(cores, key=lambda c: (-len(c), min(map(_key, c))))


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
    min_ties: int = MIN_TIES,
    min_size: int = 2,
    max_context_size: int = MAX_CONTEXT_SIZE,
) -> list[PeerGroup]:
    """:func:`peer_groups` on a graph already read into a :class:`Town`."""
    peers = peer_graph_from_town(town, max_context_size=max_context_size)
    found = group_members(peers, seed=seed, min_ties=min_ties, min_size=min_size)
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
    min_ties: int = MIN_TIES,
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
        The Leiden seed: the same graph and seed give the same groups.
    min_ties : int, default 2
        Each member has direct peer links with at least this many other members
        (:func:`cohesive_cores`); 0 keeps every community whole.
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
        min_ties=min_ties,
        min_size=min_size,
        max_context_size=max_context_size,
    )
