"""The dashboard's analysis cache: what every page shows of one view, kept on disk.

Reading a town of a million links, building its graph and analysing it takes minutes;
an analyst restarting the dashboard, or opening it again tomorrow on the same
extract, should not wait for that again.  A :class:`ViewDigest` holds everything the
pages show of one view of the data — the counts, the analysis (hubs, contexts, peer
groups), the timeline, the map's points, the ingest report, the resolution's
provenance and a :class:`~graphguard.drawing_index.DrawingIndex` to draw from — and
:func:`load` and :func:`save` keep it in the state home's ``dashboard-cache`` folder.

**The key** (:func:`digest_key`) is a SHA-256 of the data's *content* (every file of
the dataset, byte for byte: :func:`content_hash`), the analysis options, the
sidebar's filters, graphguard's version and this cache's format.  Touching a file
without changing it still hits; changing one byte, a setting that changes the
analysis or a filter misses.

**What it holds, and what it never holds.**  No young person's identifying value:
of a young person only the id, role and the safeguarding flags the pages show
(:data:`~graphguard.drawing_index.SHOWN_ATTRIBUTES`), and in their provenance only
which record and source recorded each attribute, the values themselves withheld
(:data:`WITHHELD`), apart from those same flags.  Adults, places and vehicles are kept
with the names, registrations and addresses the pages show.  The analysis results
are kept as the CLI writes them (ids, references, explanations).  Rejected rows are
kept without their cells.  Each file is owner-only (``0600``) in an owner-only folder,
written atomically (:func:`graphguard.files.write_bytes`), and read only when it is
still a private regular file of this user; only the :data:`KEEP` most recently used
entries are kept, so a deleted record does not linger.  A page that shows young
people's names reads the data itself.

Neo4j has no content hash to key by, so only datasets read from files are cached on
disk; a Neo4j view is kept in memory while the dashboard runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import pickle
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

import graphguard
from graphguard.analysis import AnalysisOptions, Context, Hub, PeerGroup, analyse
from graphguard.drawing_index import SHOWN_ATTRIBUTES, DrawingIndex
from graphguard.errors import GraphguardError
from graphguard.files import private_folder, write_bytes
from graphguard.ingest import FileReport, IngestResult, Reject
from graphguard.model import node_kind
from graphguard.resolve.types import (
    AttributeValue,
    Candidate,
    EntityProvenance,
    Finding,
    Resolution,
)
from graphguard.settings import Settings, private_file, state_home
from graphguard.store.base import graph_summary
from graphguard.viz import link_timeline, location_points

__all__ = [
    "CACHE_FOLDER",
    "FORMAT",
    "KEEP",
    "WITHHELD",
    "IngestReport",
    "ViewDigest",
    "build_digest",
    "cache_folder",
    "content_hash",
    "dataset_files",
    "digest_key",
    "load",
    "save",
]

_LOG = logging.getLogger("graphguard.viewcache")

#: The folder in the state home.
CACHE_FOLDER = "dashboard-cache"
#: Bumped whenever :class:`ViewDigest` changes shape or content (3: texts scrubbed of
#: young people's identifying values; 4: people's categories): older entries then miss.
FORMAT = 4
#: How many entries are kept (the most recently used).
KEEP = 8
#: What stands for a young person's identifying value in a cached provenance.
WITHHELD = "(withheld)"
_SUFFIX = ".digest"
_CHUNK = 1 << 20


def dataset_files(path: str | Path) -> list[tuple[str, Path]]:
    """Every file of a dataset, by its path inside it, in sorted order.

    A folder is walked, subfolders (v2 sources) included; hidden files and Excel's
    lock files (``~$…``) are left out, as the readers leave them out.  A single file
    (a workbook) is itself, by its name.

    Examples
    --------
    >>> "links.csv" in dict(dataset_files("fixtures/demo"))
    True
    """
    root = Path(path)
    if not root.is_dir():
        return [(root.name, root)]
    return sorted(
        (p.relative_to(root).as_posix(), p)
        for p in root.rglob("*")
        if p.is_file()
        and not any(part.startswith((".", "~$")) for part in p.relative_to(root).parts)
    )


def content_hash(path: str | Path) -> str:
    """A SHA-256 of a dataset's content: every file's path inside it, size and bytes.

    The files are :func:`dataset_files`'s, and which records the retention policy's
    deletions hold back (:func:`graphguard.retention.log.held_stamp`): the same files
    read after a purge or a restore are different data.

    Examples
    --------
    >>> len(content_hash("fixtures/demo"))
    64
    """
    digest = hashlib.sha256()
    for name, file in dataset_files(path):
        digest.update(f"{name}\0{file.stat().st_size}\0".encode())
        with open(file, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    from graphguard.retention.log import held_stamp

    digest.update(f"\0held\0{held_stamp()}".encode())
    return digest.hexdigest()


def digest_key(content: str, options: AnalysisOptions, filters: Any) -> str:
    """The cache key of one view: data content, analysis options, filters, versions.

    ``filters`` is any value whose ``repr`` is canonical (the dashboard passes its
    sorted filter tuple).
    """
    text = json.dumps(
        {
            "format": FORMAT,
            "graphguard": graphguard.__version__,
            "data": content,
            "options": options.as_dict(),
            "filters": repr(filters),
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class IngestReport:
    """How the dataset was read, without the rejected rows' cells."""

    files: dict[str, FileReport]
    rejects: list[Reject]
    warnings: list[str]

    @classmethod
    def of(cls, ingest: IngestResult) -> IngestReport:
        return cls(
            files=dict(ingest.files),
            rejects=[dataclasses.replace(r, row={}) for r in ingest.rejects],
            warnings=list(ingest.warnings),
        )


@dataclass
class ViewDigest:
    """Everything the pages show of one view of the data (filters applied).

    Attributes
    ----------
    key : str
        The :func:`digest_key` it was made for.
    summary : dict
        Counts by kind, type and agency and the date range (``graph_summary``).
    areas : list of str
        Every area recorded for a person or a location.
    hubs : list of Hub
        Adults scoring above 0, best first, without per-child routes.
    adults : list of str
        Every adult's id, best first (those scoring 0 after, by rank); :meth:`hub`
        gives any one's finding.
    contexts : list of Context
        Places and vehicles scoring above 0, best first.
    groups : list of PeerGroup
        Peer groups, largest first.
    analysis_summary : dict
        ``summary.json`` of the analysis.
    timelines : dict of str to DataFrame
        Links per month, by ``type`` and by ``agency``.
    points : DataFrame
        Locations with coordinates and their context score.
    index : DrawingIndex
        The network, to draw parts of it.
    ingest : IngestReport or None
        How the dataset was read (None for Neo4j).
    resolution : Resolution or None
        v2: records behind each entity, candidates and findings; young people's
        identifying values withheld.
    scores : dict of str to float
        Hub scores of adults and context scores of places and vehicles above 0, by id.
    build_seconds : float
        How long making it took.
    """

    key: str
    summary: dict[str, Any]
    areas: list[str]
    hubs: list[Hub]
    adults: list[str]
    contexts: list[Context]
    groups: list[PeerGroup]
    analysis_summary: dict[str, Any]
    timelines: dict[str, pd.DataFrame]
    points: pd.DataFrame
    index: DrawingIndex
    scores: dict[str, float]
    #: The findings of adults scoring 0, pickled: most adults of a town score 0, and
    #: unpickling them all would slow every restart for the few an analyst reads.
    unscored: bytes = b""
    ingest: IngestReport | None = None
    resolution: Resolution | None = None
    build_seconds: float = 0.0

    def hub(self, adult_id: str) -> Hub | None:
        """One adult's finding whatever their score, or None if not an adult of this view."""
        for hub in self.hubs:
            if hub.id == adult_id:
                return hub
        if adult_id not in self.index.nodes:
            return None
        unscored = self.__dict__.get("_unscored")
        if unscored is None:
            unscored = self.__dict__["_unscored"] = pickle.loads(self.unscored)
        found: Hub | None = unscored.get(adult_id)
        return found

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_unscored", None)
        return state


def build_digest(
    key: str,
    graph: nx.MultiDiGraph,
    options: AnalysisOptions,
    *,
    ingest: IngestResult | None = None,
    resolution: Resolution | None = None,
) -> ViewDigest:
    """Analyse a view's graph and keep what the pages show of it.

    Parameters
    ----------
    key : str
        Its :func:`digest_key`.
    graph : networkx.MultiDiGraph
        The filtered graph.
    options : AnalysisOptions
        As the CLI builds them (``AnalysisOptions.from_settings``).
    ingest : IngestResult, optional
        How the dataset was read.
    resolution : Resolution, optional
        The v2 resolution of the dataset; kept with young people's values withheld.
    """
    start = time.perf_counter()
    result = analyse(graph, options)
    hubs = [dataclasses.replace(hub, routes={}, reach={}) for hub in result.hubs]
    unscored = {hub.id: hub for hub in hubs if hub.score <= 0}
    contexts = [context for context in result.contexts if context.score > 0]
    areas = sorted({str(d["area"]) for _, d in graph.nodes(data=True) if d.get("area")})
    scores = {hub.id: hub.score for hub in hubs if hub.score > 0}
    scores.update({context.id: context.score for context in contexts})
    return ViewDigest(
        key=key,
        summary=graph_summary(graph),
        areas=areas,
        hubs=[hub for hub in hubs if hub.score > 0],
        adults=[hub.id for hub in hubs],
        contexts=contexts,
        groups=result.groups,
        analysis_summary=result.summary,
        timelines={by: link_timeline(graph, by=by) for by in ("type", "agency")},
        points=location_points(graph, {c.id: c.score for c in contexts}),
        index=DrawingIndex.from_graph(graph),
        ingest=IngestReport.of(ingest) if ingest is not None else None,
        resolution=_without_identities(resolution, graph) if resolution is not None else None,
        build_seconds=time.perf_counter() - start,
        scores=scores,
        unscored=pickle.dumps(unscored, protocol=pickle.HIGHEST_PROTOCOL),
    )


def _without_identities(resolution: Resolution, graph: nx.MultiDiGraph) -> Resolution:
    """The resolution with every young person's identifying values withheld.

    Only the safeguarding flags the pages show of a young person keep their values;
    every other attribute keeps which record and source recorded it.  A finding about
    a young person keeps its attribute and records, not its message's values.
    """
    young = {
        entity
        for entity in resolution.provenance
        if entity in graph and node_kind(graph.nodes[entity]) == "young_person"
    }
    shown = set(SHOWN_ATTRIBUTES["young_person"])

    def values(entity: str, attribute: str, found: list[AttributeValue]) -> list[AttributeValue]:
        if entity not in young or attribute in shown:
            return list(found)
        return [dataclasses.replace(value, value=WITHHELD) for value in found]

    def finding(item: Finding) -> Finding:
        if item.entity_id not in young or item.attribute in shown:
            return item
        what = item.attribute or "a value"
        return dataclasses.replace(
            item, message=f"{what}: the records disagree (values withheld: show names to see them)"
        )

    provenance = {
        entity: EntityProvenance(
            entity_id=found.entity_id,
            kind=found.kind,
            records=found.records,
            attributes={a: values(entity, a, v) for a, v in found.attributes.items()},
            conflicts=[finding(f) for f in found.conflicts],
        )
        for entity, found in resolution.provenance.items()
    }
    young_records = {r for entity in young for r in resolution.records_of(entity)}
    candidates: list[Candidate] = [
        c
        for c in resolution.candidates
        if c.record_a not in young_records and c.record_b not in young_records
    ]
    return Resolution(
        entity_of=dict(resolution.entity_of),
        kind_of=dict(resolution.kind_of),
        candidates=candidates,
        provenance=provenance,
        findings=[finding(f) for f in resolution.findings],
        settings=dict(resolution.settings),
    )


def cache_folder(settings: Settings | None = None) -> Path:
    """The cache's folder in the state home, created owner-only."""
    return private_folder(state_home(settings) / CACHE_FOLDER)


def load(key: str, settings: Settings | None = None) -> ViewDigest | None:
    """The cached digest of ``key``, or None when there is none or it cannot be used.

    An entry that is not a private regular file of this user, or that cannot be read
    back (damaged, or written by another version), is a miss: it is logged and left
    to be replaced.
    """
    path = cache_folder(settings) / f"{key}{_SUFFIX}"
    if not os.path.lexists(path):
        return None
    try:
        with private_file(path, "the dashboard cache entry") as handle:
            found = pickle.load(handle)
    except GraphguardError as error:
        _LOG.warning("%s", error)
        return None
    except Exception as error:  # a damaged or foreign entry is a miss, never a failure
        _LOG.warning("the dashboard cache entry %s cannot be read (%s): ignored", path, error)
        return None
    if not isinstance(found, ViewDigest) or found.key != key:
        _LOG.warning("the dashboard cache entry %s is not this view's: ignored", path)
        return None
    os.utime(path)  # most recently used: kept by the next prune
    return found


def save(digest: ViewDigest, settings: Settings | None = None) -> Path:
    """Write a digest into the cache atomically and owner-only; keep the :data:`KEEP` newest."""
    folder = cache_folder(settings)
    path = write_bytes(
        folder / f"{digest.key}{_SUFFIX}", pickle.dumps(digest, protocol=pickle.HIGHEST_PROTOCOL)
    )
    entries = sorted(folder.glob(f"*{_SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[KEEP:]:
        old.unlink(missing_ok=True)
    return path
