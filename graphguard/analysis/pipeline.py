"""The whole analysis in one call, and the files ``graphguard analyse`` writes.

:func:`analyse` reads the graph once (:class:`~graphguard.analysis.town.Town`) and
runs, in order: perpetrator-centred hubs, risky contexts (weighted by the hubs),
peer groups (citing the hubs), and the network measures (carrying each young
person's group).  :func:`write_outputs` writes ``hubs.json``, ``contexts.json``,
``groups.json``, ``measures.csv`` and ``summary.json``.

The output is reproducible: the same graph and options give byte-identical files.
``as_of`` defaults to the latest date in the graph, never today's date; every
randomised step takes ``seed``; floats are rounded; no file carries a timestamp.
Wall-clock timings are kept on the result for benchmarks, never written.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import networkx as nx

from graphguard.analysis.contexts import Context, contexts_from_town
from graphguard.analysis.evidence import (
    DEFAULT_GRADES,
    INTEL_FACTORS,
    SOURCE_FACTORS,
)
from graphguard.analysis.groups import PURPOSE, PeerGroup, groups_from_town
from graphguard.analysis.hubs import COMPONENT_WEIGHTS, CONCERN_SCORE, Hub, hubs_from_town
from graphguard.analysis.measures import NetworkMeasures, network_measures
from graphguard.analysis.options import AnalysisOptions
from graphguard.analysis.town import SCORED_ATTRIBUTES, Town
from graphguard.collector import collector_paused
from graphguard.files import atomic_folder, new_private_file

__all__ = [
    "OUTPUT_FILES",
    "MEASURE_COLUMNS",
    "AnalysisOptions",
    "AnalysisResult",
    "analyse",
    "write_outputs",
]

#: The files :func:`write_outputs` writes, in the order it writes them.
OUTPUT_FILES: tuple[str, ...] = (
    "hubs.json",
    "contexts.json",
    "groups.json",
    "measures.csv",
    "summary.json",
)

#: The columns of ``measures.csv``, exactly.
MEASURE_COLUMNS: tuple[str, ...] = (
    "id",
    "kind",
    "degree",
    "betweenness",
    "closeness",
    "eigenvector",
    "group",
)

#: Top entries named in ``summary.json``.
_TOP = 10

_T = TypeVar("_T")


@dataclass
class AnalysisResult:
    """What :func:`analyse` found.

    Attributes
    ----------
    hubs : list of Hub
        Every adult, best first.
    contexts : list of Context
        Every location and vehicle, best first.
    groups : list of PeerGroup
        Peer groups, largest first.
    measures : NetworkMeasures
        Degree, betweenness, closeness and eigenvector of every entity.
    summary : dict
        Counts, the ``as_of`` used, options, top ids, methods: ``summary.json``.
    timings : dict of str to float
        Seconds spent in each step; never written to a file.
    """

    hubs: list[Hub]
    contexts: list[Context]
    groups: list[PeerGroup]
    measures: NetworkMeasures
    summary: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)


def _timed(timings: dict[str, float], name: str, step: Callable[[], _T]) -> _T:
    start = time.perf_counter()
    value = step()
    timings[name] = time.perf_counter() - start
    return value


def analyse(graph: nx.MultiDiGraph, options: AnalysisOptions | None = None) -> AnalysisResult:
    """Run the whole analysis on a graph.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        graphguard's typed graph, from ``MemoryStore.graph()`` or ``Neo4jStore.graph()``.
    options : AnalysisOptions, optional
        ``AnalysisOptions()`` (the documented defaults) if None; entry points pass
        :meth:`AnalysisOptions.from_settings`.

    Returns
    -------
    AnalysisResult

    Examples
    --------
    >>> from graphguard.store import MemoryStore
    >>> result = analyse(MemoryStore.from_path("fixtures/demo").graph())
    >>> all(hub.kind == "adult" for hub in result.hubs)
    True
    """
    options = options or AnalysisOptions()
    with collector_paused():
        return _analyse(graph, options)


def _analyse(graph: nx.MultiDiGraph, options: AnalysisOptions) -> AnalysisResult:
    timings: dict[str, float] = {}
    town = _timed(timings, "read", lambda: options.town(graph))
    hubs = _timed(timings, "hubs", lambda: hubs_from_town(town))
    contexts = _timed(timings, "contexts", lambda: contexts_from_town(town, hubs))
    groups = _timed(
        timings,
        "groups",
        lambda: groups_from_town(
            town,
            hubs,
            seed=options.seed,
            min_ties=options.min_group_ties,
            min_size=options.min_group_size,
            max_context_size=options.max_context_size,
        ),
    )
    membership = {member: group.id for group in groups for member in group.members}
    measures = _timed(
        timings,
        "measures",
        lambda: network_measures(
            graph,
            groups=membership,
            exact_limit=options.exact_limit,
            samples=options.samples,
            seed=options.seed,
        ),
    )
    summary = _summary(town, options, hubs, contexts, groups, measures)
    return AnalysisResult(hubs, contexts, groups, measures, summary, timings)


def _summary(
    town: Town,
    options: AnalysisOptions,
    hubs: list[Hub],
    contexts: list[Context],
    groups: list[PeerGroup],
    measures: NetworkMeasures,
) -> dict[str, Any]:
    kinds: dict[str, int] = {}
    for kind in town.kind.values():
        kinds[kind] = kinds.get(kind, 0) + 1
    return {
        "as_of": town.as_of.isoformat(),
        "seed": options.seed,
        "options": options.as_dict(),
        "counts": {
            "entities": town.graph.number_of_nodes(),
            "links": town.graph.number_of_edges(),
            "by_kind": dict(sorted(kinds.items())),
            "hubs": len(hubs),
            "adults_of_concern": sum(hub.concern for hub in hubs),
            "contexts": len(contexts),
            "groups": len(groups),
        },
        "top_hubs": [hub.id for hub in hubs[:_TOP]],
        "top_contexts": [context.id for context in contexts[:_TOP]],
        "methods": {
            "hub_component_weights": dict(COMPONENT_WEIGHTS),
            "concern_score": CONCERN_SCORE,
            "grading_factors": {"source": dict(SOURCE_FACTORS), "intel": dict(INTEL_FACTORS)},
            "ungraded_defaults": {k: "/".join(v) for k, v in DEFAULT_GRADES.items()},
            "measures": measures.method(),
            "attributes_scored": sorted(SCORED_ATTRIBUTES),
            "groups_purpose": PURPOSE,
        },
    }


def _json(path: Path, value: Any) -> None:
    text = json.dumps(value, indent=2, ensure_ascii=False, default=_plain)
    with new_private_file(path) as handle:
        handle.write(text + "\n")


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _number(value: float) -> str:
    return repr(round(value, 6))


def write_outputs(
    result: AnalysisResult,
    out_dir: str | Path,
    *,
    categories: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write the analysis files into ``out_dir`` as one set: all of them or none.

    ``categories`` (entity id → its data-protection categories as shown,
    :meth:`graphguard.categories.PersonCategories.label`) adds a ``categories`` field
    to every hub in ``hubs.json``; no score reads them.

    They are written into a private folder beside ``out_dir`` that then takes its
    place (:func:`graphguard.files.atomic_folder`), so an interrupted or failed run
    leaves the previous complete set, never new files beside old ones.  An existing
    ``out_dir`` holding other files than these is refused.

    Returns
    -------
    list of Path
        The files written, in :data:`OUTPUT_FILES` order.
    """
    out = Path(out_dir)
    with atomic_folder(out, OUTPUT_FILES) as staging:
        hubs, contexts, groups, measures, summary = (staging / name for name in OUTPUT_FILES)
        _json(
            hubs,
            [
                hub.as_dict()
                if categories is None
                else {**hub.as_dict(), "categories": categories.get(hub.id, "none recorded")}
                for hub in result.hubs
            ],
        )
        _json(contexts, [context.as_dict() for context in result.contexts])
        _json(groups, [group.as_dict() for group in result.groups])
        with new_private_file(measures, "w", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(MEASURE_COLUMNS)
            for row in result.measures.rows:
                writer.writerow(
                    (
                        row.id,
                        row.kind,
                        _number(row.degree),
                        _number(row.betweenness),
                        _number(row.closeness),
                        _number(row.eigenvector),
                        row.group or "",
                    )
                )
        _json(summary, result.summary)
    return [out / name for name in OUTPUT_FILES]
