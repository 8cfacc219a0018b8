"""Entity resolution: which records of a v2 dataset are the same person, place or vehicle."""

from graphguard.resolve.engine import MatchOptions, latest_decisions, match_records, naive_match
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
    "qualify",
    "split_qualified",
]
