"""How faithfully peer groups recover the planted peer groups, beside other community methods.

Usage::

    python benchmarks/groups.py [--sizes 500,2000,10000] [--seeds 1,2] [--tmp DIR]
                                [--runs 8] [--methods NAME,...] [--json FILE]

For each size (young people) and seed a synthetic town is written with
:func:`graphguard.synth.write_town` into ``DIR/town-<size>-seed<seed>`` (or reused
when that folder already holds it with its planted peer groups); the demo town
(``fixtures/demo``) is scored too, its truth being the five peer groups of
``story.json``.  Every method is scored in the same run on the same peer graph
(:func:`graphguard.analysis.projection.peer_graph_from_town`, built once per town and
timed on its own):

``baseline``
    Today's groups before this change: NetworkX Louvain, resolution 1, on the peer
    graph, groups of two or more.
``plain louvain``
    NetworkX Louvain, resolution 1, unweighted, on the direct peer links between
    young people alone (ASSOCIATES_WITH, CONTACTED, PARTNER_OF).
``louvain r=R``
    NetworkX Louvain on the peer graph at a tuned resolution R.
``leiden modularity`` / ``leiden cpm g=G`` / ``leiden surprise``
    leidenalg's Leiden on the peer graph, optimising modularity, the constant Potts
    model at resolution G, or asymptotical surprise (no resolution).
``consensus louvain``
    Consensus clustering over ``--runs`` Louvain seeds (Lancichinetti and Fortunato
    2012): pairs put together in at least half the runs are linked, and the runs are
    repeated on that graph until they agree.
``graphguard``
    :func:`graphguard.analysis.groups.group_members`: Leiden maximising surprise,
    each community narrowed to its cohesive core (every member has direct peer links
    with two others).

Scores are normalised mutual information and adjusted Rand index against the truth
over every young person of the town (anyone in no reported group counts as a group
of one, on both sides).  Seconds are wall time of the grouping alone, seed 0, on a
machine that may be shared: compare methods within one run, not across runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

import igraph
import leidenalg
import networkx as nx

from graphguard.analysis.groups import group_members
from graphguard.analysis.partitions import (
    adjusted_rand_index,
    labels,
    normalized_mutual_information,
)
from graphguard.analysis.projection import PEER_LINK_TYPES, peer_graph_from_town
from graphguard.analysis.town import Town
from graphguard.store import MemoryStore
from graphguard.synth import read_truth, write_town

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo"
DEFAULT_SIZES = (500, 2000, 10_000)
DEFAULT_SEEDS = (1, 2)

Groups = list[set[Hashable]]
Method = Callable[[nx.Graph, nx.Graph], Groups]


def _sorted_graph(graph: nx.Graph) -> nx.Graph:
    """The graph rebuilt in sorted order, as the old groups code did before Louvain."""
    ordered = nx.Graph()
    ordered.add_nodes_from(sorted(graph, key=str))
    ordered.add_edges_from(
        sorted(((*sorted((u, v), key=str), d) for u, v, d in graph.edges(data=True)),
               key=lambda e: (str(e[0]), str(e[1])))
    )  # fmt: skip
    return ordered


def louvain(resolution: float = 1.0, *, direct_only: bool = False, seed: int = 0) -> Method:
    def run(peers: nx.Graph, direct: nx.Graph) -> Groups:
        graph = direct if direct_only else peers
        return [
            set(c)
            for c in nx.community.louvain_communities(
                _sorted_graph(graph),
                weight=None if direct_only else "weight",
                resolution=resolution,
                seed=seed,
            )
        ]

    return run


def leiden(kind: Any, **options: float) -> Method:
    def run(peers: nx.Graph, _direct: nx.Graph) -> Groups:
        nodes = sorted(peers, key=str)
        index = {n: i for i, n in enumerate(nodes)}
        edges = sorted((*sorted((index[u], index[v])), d["weight"])
                       for u, v, d in peers.edges(data=True))  # fmt: skip
        graph = igraph.Graph(n=len(nodes), edges=[(u, v) for u, v, _ in edges])
        found = leidenalg.find_partition(
            graph, kind, weights=[w for *_, w in edges], seed=0, **options
        )
        return [{nodes[i] for i in c} for c in found]

    return run


def consensus(runs: int, threshold: float = 0.5, rounds: int = 10) -> Method:
    """Lancichinetti and Fortunato's consensus of Louvain runs, on the graph's own edges."""

    def run(peers: nx.Graph, _direct: nx.Graph) -> Groups:
        current = peers
        for _ in range(rounds):
            found = [louvain(seed=seed)(current, current) for seed in range(runs)]
            where = [{n: i for i, c in enumerate(p) for n in c} for p in found]
            agreed = nx.Graph()
            agreed.add_nodes_from(peers)
            unanimous = True
            for u, v in current.edges():
                share = sum(w[u] == w[v] for w in where) / runs
                unanimous &= share in (0.0, 1.0)
                if share >= threshold:
                    agreed.add_edge(u, v, weight=share)
            if unanimous:
                break
            current = agreed
        return found[0]

    return run


def graphguard_groups(peers: nx.Graph, _direct: nx.Graph) -> Groups:
    return group_members(peers, seed=0)


def methods(runs: int) -> dict[str, Method]:
    return {
        "baseline": louvain(),
        "plain louvain": louvain(direct_only=True),
        "louvain r=2": louvain(2.0),
        "louvain r=4": louvain(4.0),
        "louvain r=8": louvain(8.0),
        "leiden modularity": leiden(leidenalg.ModularityVertexPartition),
        "leiden cpm g=0.02": leiden(leidenalg.CPMVertexPartition, resolution_parameter=0.02),
        "leiden cpm g=0.05": leiden(leidenalg.CPMVertexPartition, resolution_parameter=0.05),
        "leiden cpm g=0.1": leiden(leidenalg.CPMVertexPartition, resolution_parameter=0.1),
        "leiden surprise": leiden(leidenalg.SurpriseVertexPartition),
        f"consensus louvain x{runs}": consensus(runs),
        "graphguard": graphguard_groups,
    }


def _direct_graph(town: Town) -> nx.Graph:
    direct = nx.Graph()
    for young_person in town.young_people:
        for record in town.links.get(young_person, ()):
            other = record.other(young_person)
            peer = record.type in PEER_LINK_TYPES and town.is_young_person(other)
            if peer and other != young_person:
                direct.add_edge(young_person, other)
    return direct


def score_town(name: str, folder: Path, truth: Groups, chosen: dict[str, Method]) -> dict[str, Any]:
    """Every method on one town: NMI, adjusted Rand, groups found, largest, seconds."""
    town = Town(MemoryStore.from_path(folder).graph())
    people = town.young_people
    expected = labels(truth, people)
    start = time.perf_counter()
    peers = peer_graph_from_town(town)
    peers.remove_nodes_from([n for n in list(peers) if peers.degree(n) == 0])
    projection = time.perf_counter() - start
    direct = _direct_graph(town)
    rows: dict[str, dict[str, float]] = {}
    for method, find in chosen.items():
        start = time.perf_counter()
        found = [g for g in find(peers, direct) if len(g) >= 2]
        seconds = time.perf_counter() - start
        got = labels(found, people)
        rows[method] = {
            "nmi": normalized_mutual_information(expected, got),
            "ari": adjusted_rand_index(expected, got),
            "groups": len(found),
            "largest": max((len(g) for g in found), default=0),
            "seconds": seconds,
        }
        print(f"  {name}: {method} {rows[method]['nmi']:.4f} in {seconds:.2f} s", file=sys.stderr)
    return {
        "town": name,
        "young_people": len(people),
        "planted_groups": len(truth),
        "peer_edges": peers.number_of_edges(),
        "projection_seconds": projection,
        "methods": rows,
    }


def towns(sizes: list[int], seeds: list[int], tmp: Path) -> list[tuple[str, Path, Groups]]:
    found = []
    for size in sizes:
        for seed in seeds:
            folder = tmp / f"town-{size}-seed{seed}"
            truth = read_truth(folder) if (folder / "truth.json").exists() else None
            if truth is None or truth.young_people != size or not truth.peer_groups:
                truth = write_town(folder, size, seed=seed)
            found.append((f"{size}/s{seed}", folder, [set(g) for g in truth.peer_groups]))
    story = json.loads((DEMO / "story.json").read_text(encoding="utf-8"))
    found.append(("demo", DEMO, [set(g) for g in story["peer_groups"].values()]))
    return found


def table(results: list[dict[str, Any]]) -> str:
    """The figures as a Markdown table: NMI per town, means, and time on the largest town."""
    names = [r["town"] for r in results]
    header = ["method", *(f"{n} NMI" for n in names)]
    header += ["mean NMI", "mean ARI", "s (largest)", "x base"]
    lines = [" | ".join(header), " | ".join("---" for _ in header)]
    largest = max(results, key=lambda r: r["young_people"])["methods"]
    base = largest.get("baseline", {}).get("seconds")
    for method in results[0]["methods"]:
        nmis = [r["methods"][method]["nmi"] for r in results]
        aris = [r["methods"][method]["ari"] for r in results]
        seconds = largest[method]["seconds"]
        lines.append(" | ".join([
            method,
            *(f"{v:.4f}" for v in nmis),
            f"{statistics.fmean(nmis):.4f}",
            f"{statistics.fmean(aris):.4f}",
            f"{seconds:.2f}",
            f"{seconds / base:.2f}" if base else "-",
        ]))  # fmt: skip
    lines.append("")
    for r in results:
        found = ", ".join(
            f"{method} {row['groups']} (largest {row['largest']})"
            for method, row in r["methods"].items()
            if method in ("baseline", "graphguard")
        )
        lines.append(
            f"{r['town']}: {r['young_people']} young people, {r['planted_groups']} planted groups; "
            f"groups found: {found}; peer graph {r['peer_edges']} edges in "
            f"{r['projection_seconds']:.2f} s"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--seeds", default=",".join(map(str, DEFAULT_SEEDS)))
    default_tmp = Path(tempfile.gettempdir()) / "graphguard-bench"
    parser.add_argument("--tmp", type=Path, default=default_tmp)
    parser.add_argument("--runs", type=int, default=8, help="Louvain runs per consensus round")
    parser.add_argument("--methods", help="only these methods, comma-separated")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    seeds = [int(s) for s in args.seeds.split(",") if s]
    chosen = methods(args.runs)
    if args.methods:
        names = [m.strip() for m in args.methods.split(",")]
        unknown = [m for m in names if m not in chosen]
        if unknown:
            parser.error(f"unknown method {unknown[0]!r}; choose from {', '.join(chosen)}")
        chosen = {m: chosen[m] for m in names}
    results = [
        score_town(name, folder, truth, chosen)
        for name, folder, truth in towns(sizes, seeds, args.tmp)
    ]
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
