"""Entity resolution: which records of a v2 dataset are the same person, place or vehicle.

The engine (Splink on DuckDB) and the merge are imported when first used, so reading a
v1 dataset, or importing :mod:`graphguard.resolve.types`, never pays for loading them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from graphguard.resolve.ids import anchor_of, entity_id
from graphguard.resolve.types import (
    AttributeValue,
    Candidate,
    Decision,
    EntityProvenance,
    Finding,
    Outcome,
    Resolution,
    SourceInfo,
    qualify,
    split_qualified,
)

if TYPE_CHECKING:
    from graphguard.resolve.decisions import record_decision
    from graphguard.resolve.engine import (
        MatchOptions,
        latest_decisions,
        match_records,
        naive_match,
    )
    from graphguard.resolve.merge import merge_records

#: Names served from a submodule imported on first use.
_LAZY = {
    "MatchOptions": "graphguard.resolve.engine",
    "latest_decisions": "graphguard.resolve.engine",
    "match_records": "graphguard.resolve.engine",
    "naive_match": "graphguard.resolve.engine",
    "merge_records": "graphguard.resolve.merge",
    "record_decision": "graphguard.resolve.decisions",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "AttributeValue",
    "Candidate",
    "Decision",
    "EntityProvenance",
    "Finding",
    "MatchOptions",
    "Outcome",
    "Resolution",
    "SourceInfo",
    "anchor_of",
    "entity_id",
    "latest_decisions",
    "match_records",
    "merge_records",
    "naive_match",
    "record_decision",
    "qualify",
    "split_qualified",
]
