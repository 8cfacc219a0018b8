"""Entity resolution: which records of a v2 dataset are the same person, place or vehicle."""

from graphguard.resolve.ids import anchor_of, entity_id
from graphguard.resolve.merge import merge_records
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

__all__ = [
    "AttributeValue",
    "Candidate",
    "Decision",
    "EntityProvenance",
    "Finding",
    "Outcome",
    "Resolution",
    "SourceInfo",
    "anchor_of",
    "entity_id",
    "merge_records",
    "qualify",
    "split_qualified",
]
