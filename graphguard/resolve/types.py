"""The vocabulary of entity resolution: sources, decisions, candidates and a resolution.

A version 2 dataset (DATA-FORMAT.md, "Version 2") holds one extract per source, and
every record in it is known by its *qualified id* ``source:local_id``.  Resolution
assigns every record to an *entity* (one person, place or vehicle) and says why:
:class:`Candidate` pairs carry the machine's probability, its outcome and the fields
that agreed in words, and :class:`Decision` rows are analysts' confirmations or
rejections, which always override the machine.

These types are shared by the reader (:mod:`graphguard.ingest`), the resolver, the
stores and the dashboard, so they hold data only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "SourceInfo",
    "Decision",
    "Outcome",
    "Candidate",
    "AttributeValue",
    "Finding",
    "EntityProvenance",
    "Resolution",
    "qualify",
    "split_qualified",
]


def qualify(source: str, local_id: str) -> str:
    """The qualified id of a record: ``qualify("police", "P001") == "police:P001"``."""
    return f"{source}:{local_id}"


def split_qualified(record_id: str) -> tuple[str, str]:
    """``("police", "P001")`` for ``"police:P001"``; the source is before the first colon."""
    source, _, local = record_id.partition(":")
    return source, local


@dataclass(frozen=True)
class SourceInfo:
    """One source of a v2 dataset: its subfolder name and what ``sources.csv`` says of it."""

    source: str
    agency: str | None = None  # an Agency value
    extracted_on: dt.date | None = None
    contact: str | None = None
    #: Where the source's files are: the subfolder, or its workbook.
    path: str | None = None


@dataclass(frozen=True)
class Decision:
    """One row of ``decisions.csv``: an analyst says two records are, or are not, the same."""

    record_a: str
    record_b: str
    decision: str  # "same" or "different"
    decided_by: str
    decided_on: dt.date
    reason: str | None = None
    #: Where the row is: ``decisions.csv line N``.
    line: int | None = None

    @property
    def pair(self) -> tuple[str, str]:
        """The two records in sorted order: a later row for the same pair replaces this one."""
        a, b = sorted((self.record_a, self.record_b))
        return a, b


class Outcome(StrEnum):
    """What became of a candidate pair."""

    JOINED = "joined"
    REVIEW = "review"
    APART = "apart"


@dataclass(frozen=True)
class Candidate:
    """A pair of records the resolver compared, with its verdict and the reasons for it."""

    record_a: str
    record_b: str
    kind: str  # "person", "location" or "vehicle"
    match_probability: float
    outcome: Outcome
    #: Per-field agreement in words: ``"date of birth: day and month transposed"``.
    agreements: tuple[str, ...] = ()
    #: Why the outcome is not what the probability alone would give (a hard rule, a decision).
    rule: str | None = None
    #: The analyst's decision that settled the pair, if any.
    decision: Decision | None = None


@dataclass(frozen=True)
class AttributeValue:
    """What one source record said about one attribute of an entity."""

    record_id: str
    source: str
    value: Any


@dataclass(frozen=True)
class Finding:
    """A data-quality finding about an entity: its records disagree, or a link folded away."""

    entity_id: str
    attribute: str | None
    message: str
    records: tuple[str, ...] = ()


@dataclass
class EntityProvenance:
    """The records an entity was made from and, for each attribute, which source said what."""

    entity_id: str
    kind: str
    records: tuple[str, ...]
    #: attribute → every record's value for it (only records that recorded one).
    attributes: dict[str, list[AttributeValue]] = field(default_factory=dict)
    #: Attributes whose records disagree, as plain findings.
    conflicts: list[Finding] = field(default_factory=list)

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(split_qualified(r)[0] for r in self.records))


@dataclass
class Resolution:
    """Every record of a v2 dataset assigned to an entity, with the pairs that decided it."""

    #: record id → entity id, for every accepted record of every kind.
    entity_of: dict[str, str]
    #: record id → kind ("person", "location", "vehicle").
    kind_of: dict[str, str]
    candidates: list[Candidate] = field(default_factory=list)
    provenance: dict[str, EntityProvenance] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    #: The settings the resolver ran with (thresholds, seed, method), for the summary.
    settings: dict[str, Any] = field(default_factory=dict)

    def records_of(self, entity_id: str) -> tuple[str, ...]:
        """The record ids behind one entity, sorted."""
        known = self.provenance.get(entity_id)
        if known is not None:
            return known.records
        return tuple(sorted(r for r, e in self.entity_of.items() if e == entity_id))

    def for_review(self) -> list[Candidate]:
        return [c for c in self.candidates if c.outcome is Outcome.REVIEW]
