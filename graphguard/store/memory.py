"""The embedded default store: the graph is built in memory from a Dataset."""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from graphguard.ingest import Dataset, IngestResult, read_dataset
from graphguard.linktable import LinkTable
from graphguard.store.base import (
    Filters,
    finish_graph,
    link_attributes,
    link_passes,
    node_attributes,
    node_passes,
)

__all__ = ["MemoryStore", "graph_from_dataset"]


def graph_from_dataset(dataset: Dataset, filters: Filters | None = None) -> nx.MultiDiGraph:
    """Build the typed multigraph of a dataset, filtered.

    Every entity that passes the filters is a node keyed by its id; every link that
    passes, and whose two ends passed, is an edge from source to target keyed by its
    ``link_id``, so two records of the same pair stay two edges.
    """
    filters = filters or Filters()
    graph = nx.MultiDiGraph()
    for entity in dataset.entities():
        attributes = node_attributes(entity)
        if node_passes(attributes, filters):
            graph.add_node(entity.id, **attributes)
    links = dataset.links
    # A LinkTable gives the edges from its columns, without making a model per link.
    edges = (
        links.edges()
        if isinstance(links, LinkTable)
        else ((k.source_id, k.target_id, k.link_id, link_attributes(k)) for k in links)
    )
    nodes = graph.nodes
    graph.add_edges_from(
        edge
        for edge in edges
        if edge[0] in nodes and edge[1] in nodes and link_passes(edge[3], filters)
    )
    return finish_graph(graph, filters)


class MemoryStore:
    """A :class:`~graphguard.store.base.Store` over a dataset held in memory.

    Parameters
    ----------
    dataset : Dataset
        The accepted rows of an ingestion.
    ingest : IngestResult, optional
        The report of the ingestion, kept so views can show what was rejected.

    Examples
    --------
    >>> store = MemoryStore.from_path("fixtures/demo")
    >>> store.graph().number_of_edges() == len(store.dataset.links)
    True
    """

    backend = "embedded"

    def __init__(self, dataset: Dataset, ingest: IngestResult | None = None) -> None:
        self.dataset = dataset
        self.ingest = ingest

    @classmethod
    def from_path(cls, path: str | Path) -> MemoryStore:
        result = read_dataset(path)
        return cls(result.dataset, result)

    def graph(self, filters: Filters | None = None) -> nx.MultiDiGraph:
        return graph_from_dataset(self.dataset, filters)
