"""How good a resolution is, measured against the truth of a synthetic multi-agency town.

A town written by :func:`graphguard.synth_agencies.split_town` comes with
``truth.csv``: every record's true entity and trap.  Against it, a resolution (any
mapping of record id → entity id, such as :attr:`Resolution.entity_of`) is scored
as record-linkage papers score one:

- **pairwise precision, recall and F1** per kind: of the record pairs the resolution
  put in one entity, how many are truly one (precision); of the pairs that are truly
  one, how many it put together (recall);
- **the joins that must never happen**: a young person's record joined with an
  adult's, and the planted twins, namesakes and father/son pairs joined;
- **whether the analysis still finds the same people and places**: the top hubs and
  contexts found on the resolved town against those found on the same records
  joined by the truth, each entity named by the true id most of its records have.

Everything here is a pure function of its arguments.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from graphguard.analysis.partitions import pair_counts
from graphguard.resolve.types import Resolution, split_qualified
from graphguard.synth_agencies import TRAPS, AgencyTruth, read_agency_truth

if TYPE_CHECKING:
    from graphguard.ingest import Dataset

__all__ = [
    "FORBIDDEN_TRAPS",
    "KINDS",
    "TOP_K",
    "PairScores",
    "Quality",
    "TrapJoins",
    "assess",
    "pairwise_scores",
    "cross_role_joins",
    "trap_joins",
    "true_names",
    "top_overlap",
]

#: The kinds of record scored, in the order reports list them.
KINDS: tuple[str, ...] = ("person", "location", "vehicle")
#: The traps whose records must never be joined with each other.
FORBIDDEN_TRAPS: tuple[str, ...] = ("twin", "namesake", "father_son")


@dataclass(frozen=True)
class PairScores:
    """Pairwise scores of one kind of record.

    Attributes
    ----------
    kind : str
        ``"person"``, ``"location"`` or ``"vehicle"``.
    records : int
        Records of that kind in the truth.
    true_pairs, predicted_pairs, correct_pairs : int
        Record pairs truly one entity; put in one entity; both.
    """

    kind: str
    records: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        """Correct pairs over predicted pairs; 1.0 when nothing was joined."""
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        """Correct pairs over true pairs; 1.0 when nothing should have been joined."""
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        """The harmonic mean of precision and recall."""
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


@dataclass(frozen=True)
class TrapJoins:
    """How many instances of one trap the resolution fell into.

    Attributes
    ----------
    trap : str
        The trap label of ``truth.csv``.
    groups : int
        Instances planted (a pair of twins is one).
    joined : int
        Instances with records of two different true entities in one entity (for
        ``within_source_duplicate``: instances whose two records were joined, which is
        right, but only when the source says so).
    """

    trap: str
    groups: int
    joined: int


def _entity(entity_of: Mapping[str, str], record_id: str) -> str:
    """The record's entity; a record the resolution does not name is its own entity."""
    return entity_of.get(record_id, f"unresolved:{record_id}")


def pairwise_scores(entity_of: Mapping[str, str], truth: AgencyTruth, kind: str) -> PairScores:
    """Pairwise precision, recall and F1 of one kind of record.

    Parameters
    ----------
    entity_of : mapping of str to str
        Record id → entity id; records missing from it count as entities of their own.
    truth : AgencyTruth
        What :func:`~graphguard.synth_agencies.read_agency_truth` reads.
    kind : str
        ``"person"``, ``"location"`` or ``"vehicle"``.

    Returns
    -------
    PairScores

    Examples
    --------
    >>> from graphguard.synth_agencies import AgencyTruth, TruthRecord
    >>> truth = AgencyTruth({r: TruthRecord(r, t, "person") for r, t in
    ...                      [("a:1", "P1"), ("b:1", "P1"), ("c:1", "P2")]})
    >>> scores = pairwise_scores({"a:1": "E1", "b:1": "E1", "c:1": "E1"}, truth, "person")
    >>> scores.precision, scores.recall
    (0.3333333333333333, 1.0)
    """
    records = truth.of_kind(kind)
    predicted, true, correct = pair_counts(
        [_entity(entity_of, r.record_id) for r in records], [r.true_id for r in records]
    )
    return PairScores(
        kind=kind,
        records=len(records),
        true_pairs=true,
        predicted_pairs=predicted,
        correct_pairs=correct,
    )


def cross_role_joins(entity_of: Mapping[str, str], truth: AgencyTruth) -> int:
    """Pairs of a young person's record and an adult's record put in one entity (must be 0)."""
    roles: dict[str, Counter[str]] = defaultdict(Counter)
    for record in truth.of_kind("person"):
        roles[_entity(entity_of, record.record_id)][record.role] += 1
    return sum(c["young_person"] * c["adult"] for c in roles.values())


def trap_joins(entity_of: Mapping[str, str], truth: AgencyTruth, trap: str) -> TrapJoins:
    """How many planted instances of ``trap`` the resolution joined.

    For the traps in :data:`FORBIDDEN_TRAPS` an instance is joined when any entity
    holds records of two of its true entities; for ``within_source_duplicate`` when
    the person's two records of one source are in one entity.
    """
    groups = truth.traps(trap)
    joined = 0
    for members in groups.values():
        if trap == "within_source_duplicate":
            by_source: dict[str, list[str]] = defaultdict(list)
            for member in members:
                source, _ = split_qualified(member.record_id)
                by_source[source].append(_entity(entity_of, member.record_id))
            joined += any(len(e) > 1 and len(set(e)) == 1 for e in by_source.values())
            continue
        true_ids: dict[str, set[str]] = defaultdict(set)
        for member in members:
            true_ids[_entity(entity_of, member.record_id)].add(member.true_id)
        joined += any(len(ids) > 1 for ids in true_ids.values())
    return TrapJoins(trap=trap, groups=len(groups), joined=joined)


def true_names(entity_of: Mapping[str, str], truth: AgencyTruth) -> dict[str, str]:
    """Entity id → the true id most of its records have (ties: the smallest true id)."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for record_id, record in truth.records.items():
        votes[_entity(entity_of, record_id)][record.true_id] += 1
    return {
        entity: min(count, key=lambda true_id: (-count[true_id], true_id))
        for entity, count in votes.items()
    }


def top_overlap(found: Iterable[str], expected: Iterable[str], k: int) -> float:
    """The share of the first ``k`` of ``expected`` that are among the first ``k`` of ``found``.

    Both are id lists best first, named alike (true ids).  1.0 means the same top ``k``
    in any order; with fewer than ``k`` expected, the share of those there are.

    >>> top_overlap(["a", "b", "c"], ["b", "a", "d"], 2)
    1.0
    >>> top_overlap(["a", "c"], ["a", "b"], 2)
    0.5
    """
    want = list(expected)[:k]
    if not want:
        return 1.0
    got = set(list(found)[:k])
    return sum(1 for item in want if item in got) / len(want)


# --------------------------------------------------------------------------- a whole town

#: How many of the top hubs and contexts :func:`assess` compares.
TOP_K = 10


@dataclass(frozen=True)
class Quality:
    """Everything :func:`assess` measured of one resolver on one town.

    Attributes
    ----------
    method : str
        The resolver's name, as given to :func:`assess`.
    scores : dict of str to PairScores
        Kind → pairwise scores.
    cross_role_joins : int
        Young-person/adult record pairs joined (must be 0).
    traps : dict of str to TrapJoins
        Trap label → how many of its instances were joined.
    review : int
        Candidate pairs left for an analyst to review.
    hub_overlap, context_overlap : float
        Share of the true town's top :data:`TOP_K` hubs (contexts) that are among the
        resolved town's top ones.
    seconds : float
        Wall-clock seconds the resolver took.
    """

    method: str
    scores: dict[str, PairScores]
    cross_role_joins: int
    traps: dict[str, TrapJoins]
    review: int
    hub_overlap: float
    context_overlap: float
    seconds: float


def assess(
    folder: str | Path,
    methods: Mapping[str, Callable[[Dataset], Resolution]],
    *,
    top_k: int = TOP_K,
    seed: int = 0,
) -> list[Quality]:
    """Resolve a synthetic multi-agency town with each method and measure the result.

    Parameters
    ----------
    folder : str or Path
        A v2 dataset written by :func:`~graphguard.synth_agencies.split_town`, with
        its ``truth.csv``.
    methods : mapping of str to callable
        Name → a resolver taking the record-level dataset and returning a
        :class:`~graphguard.resolve.types.Resolution` (``match_records``,
        ``naive_match``).
    top_k : int, default :data:`TOP_K`
        How many top hubs and contexts to compare.
    seed : int, default 0
        The analysis seed, the same for every town analysed.

    Returns
    -------
    list of Quality
        One per method, in the order given.

    Notes
    -----
    The "true town" is the same records joined by ``truth.csv`` (each record's entity
    is its true id) and merged into entities exactly as a resolution is, so the two
    analyses differ only by what the resolver joined.
    """
    from graphguard.analysis import AnalysisOptions, analyse
    from graphguard.ingest import read_dataset
    from graphguard.resolve.merge import merge_records
    from graphguard.store.memory import MemoryStore

    records = read_dataset(folder, resolve=False).records
    truth = read_agency_truth(folder)
    options = AnalysisOptions(seed=seed)

    def top(resolution: Resolution) -> tuple[list[str], list[str]]:
        result = analyse(MemoryStore(merge_records(records, resolution)).graph(), options)
        names = true_names(resolution.entity_of, truth)
        return (
            [names.get(h.id, h.id) for h in result.hubs],
            [names.get(c.id, c.id) for c in result.contexts],
        )

    kinds = {r: t.kind for r, t in truth.records.items()}
    true_hubs, true_contexts = top(
        Resolution(entity_of={r: t.true_id for r, t in truth.records.items()}, kind_of=kinds)
    )
    out = []
    for method, match in methods.items():
        started = time.perf_counter()
        resolution = match(records)
        seconds = time.perf_counter() - started
        hubs, contexts = top(resolution)
        out.append(
            Quality(
                method=method,
                scores={k: pairwise_scores(resolution.entity_of, truth, k) for k in KINDS},
                cross_role_joins=cross_role_joins(resolution.entity_of, truth),
                traps={t: trap_joins(resolution.entity_of, truth, t) for t in TRAPS},
                review=len(resolution.for_review()),
                hub_overlap=top_overlap(hubs, true_hubs, top_k),
                context_overlap=top_overlap(contexts, true_contexts, top_k),
                seconds=seconds,
            )
        )
    return out
