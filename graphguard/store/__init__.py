"""Stores keep the graph; analysis reads it through :meth:`Store.graph`."""

from graphguard.store.base import Filters, Store
from graphguard.store.memory import MemoryStore, graph_from_dataset

__all__ = ["Filters", "Store", "MemoryStore", "graph_from_dataset"]
