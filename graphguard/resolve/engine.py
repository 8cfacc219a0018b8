"""Match records into entities: probabilistic linkage, hard rules, analysts' decisions.

:func:`match_records` takes the record-level dataset of a v2 reading (every id
qualified ``source:local_id``) and says which records are one person, place or vehicle:

1. **People and places** are scored pair by pair with Splink's Fellegi-Sunter model
   (:mod:`graphguard.resolve.linkage`) on the comparisons of
   :mod:`graphguard.resolve.comparisons`; **vehicles** with the same normalised
   registration are one vehicle (DATA-FORMAT.md).
2. Each pair's outcome follows from its probability: *joined* at or above
   ``GRAPHGUARD_MATCH_JOIN_THRESHOLD``, *review* at or above
   ``GRAPHGUARD_MATCH_REVIEW_THRESHOLD``, else *apart*; a hard rule
   (:mod:`graphguard.resolve.rules`) holds a join back for review.
3. **Decisions** override the machine: the latest decision on a pair makes it joined
   (``same``) or apart (``different``), and a ``different`` decision splits an entity
   that other joins still held together (:mod:`graphguard.resolve.clusters`).
4. Entities are the connected components of the joins; each is named
   :func:`graphguard.resolve.ids.entity_id` of its smallest record id.

:func:`naive_match` is the rule the resolver is measured against: same normalised name
and date of birth.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphguard.errors import UsageError
from graphguard.resolve import comparisons as C
from graphguard.resolve.clusters import Join, Split, cluster
from graphguard.resolve.features import (
    LOCATION_COLUMNS,
    PERSON_COLUMNS,
    location_row,
    normal_text,
    person_row,
    source_of,
    vehicle_key,
)
from graphguard.resolve.ids import entity_id
from graphguard.resolve.linkage import ScoredPair, Scoring, score_pairs
from graphguard.resolve.rules import HELD, SEPARATING, location_rules, person_rules
from graphguard.resolve.types import Candidate, Decision, Finding, Outcome, Resolution

if TYPE_CHECKING:
    from graphguard.ingest import Dataset
    from graphguard.settings import Settings

__all__ = ["MatchOptions", "match_records", "naive_match", "latest_decisions", "SAME_AS"]

#: The column by which a source says two of its own records are one (local ids, ``;``).
SAME_AS = "same_as"
_YOUNG = "young_person"


@dataclass(frozen=True)
class MatchOptions:
    """The resolver's thresholds and seed, from the settings (docs/resolution.md)."""

    join_threshold: float = 0.95
    review_threshold: float = 0.5
    candidate_floor: float = 0.01
    train_from: int = 5_000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.review_threshold > self.join_threshold:
            raise UsageError(
                f"GRAPHGUARD_MATCH_REVIEW_THRESHOLD ({self.review_threshold}) is above "
                f"GRAPHGUARD_MATCH_JOIN_THRESHOLD ({self.join_threshold}): "
                "the review threshold must be the lower"
            )

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> MatchOptions:
        """The options of ``settings`` (default: this process's settings)."""
        from graphguard.settings import get_settings

        settings = settings or get_settings()
        return cls(
            join_threshold=settings.match_join_threshold,
            review_threshold=settings.match_review_threshold,
            candidate_floor=settings.match_candidate_floor,
            train_from=settings.match_train_from,
            seed=settings.match_seed,
        )

    def outcome(self, probability: float) -> Outcome:
        if probability >= self.join_threshold:
            return Outcome.JOINED
        if probability >= self.review_threshold:
            return Outcome.REVIEW
        return Outcome.APART


def latest_decisions(decisions: Iterable[Decision]) -> dict[tuple[str, str], Decision]:
    """Each pair's decision in force: a later decision for a pair replaces an earlier one.

    >>> import datetime as dt
    >>> day = dt.date(2026, 11, 1)
    >>> first = Decision("a:1", "b:2", "same", "ann", day)
    >>> later = Decision("b:2", "a:1", "different", "bo", day)
    >>> latest_decisions([first, later])[("a:1", "b:2")].decision
    'different'
    """
    latest: dict[tuple[str, str], Decision] = {}
    for decision in decisions:
        latest[decision.pair] = decision
    return latest


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def _kinds(records: Dataset) -> dict[str, str]:
    kind_of = dict.fromkeys(records.people, "person")
    kind_of.update(dict.fromkeys(records.locations, "location"))
    kind_of.update(dict.fromkeys(records.vehicles, "vehicle"))
    return kind_of


def _source_assertions(
    records: Dataset, kind_of: Mapping[str, str], findings: list[Finding]
) -> set[tuple[str, str]]:
    """Pairs a source says are one record of its own, by its ``same_as`` column."""
    asserted: set[tuple[str, str]] = set()
    for entities in (records.people, records.locations):
        for record_id, entity in sorted(entities.items()):
            named = entity.extra.get(SAME_AS)
            if not named:
                continue
            source = source_of(record_id)
            for local in (part.strip() for part in named.split(";")):
                if not local:
                    continue
                other = f"{source}:{local}" if source else local
                if kind_of.get(other) != kind_of[record_id] or other == record_id:
                    findings.append(
                        Finding(
                            "",
                            SAME_AS,
                            f"{record_id} says it is the same as {other}, which is not a "
                            f"{kind_of[record_id]} record of {source or 'the dataset'}",
                            (record_id,),
                        )
                    )
                    continue
                asserted.add(_pair(record_id, other))
    return asserted


def _agreements(
    comparisons: Sequence[C.Comparison],
    pair: ScoredPair,
    a: Mapping[str, Any],
    b: Mapping[str, Any],
) -> tuple[str, ...]:
    """Per field, in words; a young person's name is never quoted."""
    words = []
    for comparison in comparisons:
        level = comparison.words_of(pair.levels[comparison.column])
        if level is None:
            continue
        if level == "nickname" and _YOUNG not in (a.get("role"), b.get("role")):
            level = f"nickname ({str(a['first_name']).title()} / {str(b['first_name']).title()})"
        words.append(f"{comparison.field}: {level}")
    return tuple(words)


def _levels(comparisons: Sequence[C.Comparison], pair: ScoredPair) -> dict[str, str | None]:
    return {c.column: c.words_of(pair.levels[c.column]) for c in comparisons}


def _judge(
    kind: str,
    scoring: Scoring,
    rows: Mapping[str, Mapping[str, Any]],
    options: MatchOptions,
    asserted: set[tuple[str, str]],
) -> list[Candidate]:
    comparisons = C.PERSON_COMPARISONS if kind == "person" else C.LOCATION_COMPARISONS
    judged = []
    for pair in scoring.pairs:
        a, b = rows[pair.record_a], rows[pair.record_b]
        said = (pair.record_a, pair.record_b) in asserted
        if kind == "person":
            rules = person_rules(a, b, _levels(comparisons, pair), asserted=said)
        else:
            rules = location_rules(a, b, _levels(comparisons, pair), asserted=said)
        outcome = options.outcome(pair.match_probability)
        rule = "; ".join(rules) or None
        if said:
            outcome, rule = Outcome.JOINED, "their source says they are one (same_as)"
        elif rules and outcome is Outcome.JOINED:
            outcome, rule = Outcome.REVIEW, HELD + "; ".join(rules)
        judged.append(
            Candidate(
                pair.record_a,
                pair.record_b,
                kind,
                pair.match_probability,
                outcome,
                _agreements(comparisons, pair, a, b),
                rule,
            )
        )
    return judged


def _vehicle_candidates(records: Dataset) -> list[Candidate]:
    """Vehicles with one registration: each record joined to the first of them."""
    by_registration: dict[str, list[str]] = defaultdict(list)
    for record_id, vehicle in sorted(records.vehicles.items()):
        key = vehicle_key(vehicle)
        if key:
            by_registration[key].append(record_id)
    found = []
    for group in by_registration.values():
        for other in group[1:]:
            found.append(
                Candidate(
                    group[0],
                    other,
                    "vehicle",
                    1.0,
                    Outcome.JOINED,
                    ("registration: same",),
                    "the same registration is one vehicle",
                )
            )
    return found


def _unscored(a: str, b: str, kind: str, why: str) -> Candidate:
    return Candidate(a, b, kind, 0.0, Outcome.APART, (why,), None)


def _decide(candidate: Candidate, decision: Decision) -> Candidate:
    outcome = Outcome.JOINED if decision.decision == "same" else Outcome.APART
    rule = (
        f"an analyst decided {decision.decision} ({decision.decided_by}, "
        f"{decision.decided_on.isoformat()})"
    )
    return dataclasses.replace(candidate, outcome=outcome, rule=rule, decision=decision)


#: The most times the entities are re-formed to keep conflicting records apart.
_ROUNDS = 8

#: Values two records of one entity cannot disagree on, by kind, and their words.
_CANNOT_DIFFER: dict[str, tuple[tuple[str, str], ...]] = {
    "person": (
        ("role", "whose roles differ"),
        ("nhs_number", "whose NHS numbers differ"),
        ("upn", "whose UPNs differ"),
        ("pnc_id", "whose PNC ids differ"),
    ),
    "location": (("uprn", "whose UPRNs differ"),),
}


def _one_source_conflicts(
    group: Sequence[str], certain: set[tuple[str, str]], found: dict[tuple[str, str], str]
) -> None:
    """Records of one source in ``group`` that their source (or an analyst) did not join."""
    by_source: dict[str, list[str]] = defaultdict(list)
    for record_id in group:
        by_source[source_of(record_id)].append(record_id)
    for source, members in sorted(by_source.items()):
        if len(members) < 2:
            continue
        joined = [Join(a, b) for a, b in certain if a in members and b in members]
        parts, _ = cluster(members, joined, ())
        holders = [part[0] for part in parts]
        for i, x in enumerate(holders):
            for y in holders[i + 1 :]:
                found.setdefault(
                    (x, y),
                    f"both from {source or 'the dataset'}, which does not say they are one",
                )


def _conflicts(
    groups: Sequence[tuple[str, ...]],
    rows: Mapping[str, Mapping[str, Any]],
    certain: set[tuple[str, str]],
) -> dict[tuple[str, str], str]:
    """Pairs of records in one group that cannot be one: two sources' identifiers or
    roles differ, or one source keeps both and does not say they are one."""
    found: dict[tuple[str, str], str] = {}
    for group in groups:
        if len(group) < 2 or group[0] not in rows:
            continue
        _one_source_conflicts(group, certain, found)
        kind_columns = _CANNOT_DIFFER["person" if "role" in rows[group[0]] else "location"]
        for column, words in kind_columns:
            first_with: dict[Any, str] = {}
            for record_id in group:
                value = rows[record_id].get(column)
                if value:
                    first_with.setdefault(value, record_id)
            holders = sorted(first_with.values())
            for i, x in enumerate(holders):
                for y in holders[i + 1 :]:
                    found.setdefault((x, y), words)
    return found


#: Agreements that tell one person (place) from a namesake (branch): a shared identifier,
#: contact, postcode, address or alias.  A name, a date of birth, a kind of place do not.
_TELLING = re.compile(r"^(?!name:|date of birth:|kind:)[^:]+: same$|^aliases: a name of one")


def _telling(candidate: Candidate) -> bool:
    return any(_TELLING.match(words) for words in candidate.agreements)


def _bridges(
    groups: Sequence[tuple[str, ...]],
    split: Split,
    joins: Sequence[Join],
    by_pair: Mapping[tuple[str, str], Candidate],
    apart: Mapping[tuple[str, str], str],
) -> dict[tuple[str, str], str]:
    """The machine joins of bridges between namesakes (branches) that tell them apart by nothing.

    The minimum cut keeps two likely namesakes apart by cutting a bridge record's joins
    to one side, but which side is a matter of join weights when the bridge (a record
    with a name and a date of birth only) agrees with both alike.  Unless the joins it
    keeps carry an agreement its cut joins lack (:data:`_TELLING`), all its joins go
    to review: the bridge stays on its own for an analyst.
    """
    entity = {record: group for group in groups for record in group}
    cut_of: dict[str, list[tuple[str, str]]] = {}
    for edge, held in split.cut.items():
        if not apart.get(held, "").startswith("held apart by a hard rule"):
            continue
        for record in edge:
            cut_of.setdefault(record, []).append(edge)
    found: dict[tuple[str, str], str] = {}
    for record, cut in sorted(cut_of.items()):
        kept = [
            (j.record_a, j.record_b)
            for j in joins
            if j.probability is not None
            and record in (j.record_a, j.record_b)
            and (j.record_a, j.record_b) not in split.cut
            and j.record_a in entity[record]
            and j.record_b in entity[record]
        ]
        if not kept or any(_telling(by_pair[e]) for e in kept) > any(
            _telling(by_pair[e]) for e in cut
        ):
            continue
        x, y = split.cut[cut[0]]
        for edge in (*kept, *cut):
            found[edge] = (
                f"{record} bridged {x} and {y}, kept apart by a hard rule, and nothing "
                "tells to which of them it belongs"
            )
    return found


def _resolve(
    records: Dataset,
    candidates: list[Candidate],
    rows: Mapping[str, Mapping[str, Any]],
    asserted: set[tuple[str, str]],
    decided: Mapping[tuple[str, str], Decision],
    kind_of: Mapping[str, str],
    findings: list[Finding],
    settings: dict[str, Any],
) -> Resolution:
    """Decisions and source assertions over the machine's candidates, then the entities."""
    by_pair = {(c.record_a, c.record_b): c for c in candidates}
    not_compared = "not compared: no blocking rule brought the two records together"
    for pair in sorted(asserted):
        if pair not in by_pair:
            kind = kind_of[pair[0]]
            by_pair[pair] = dataclasses.replace(
                _unscored(*pair, kind, not_compared),
                outcome=Outcome.JOINED,
                rule="their source says they are one (same_as)",
            )
    for pair, decision in sorted(decided.items()):
        kinds = {kind_of.get(pair[0]), kind_of.get(pair[1])}
        if None in kinds or len(kinds) != 1 or pair[0] == pair[1]:
            findings.append(
                Finding(
                    "",
                    None,
                    f"the decision on {pair[0]} and {pair[1]} (decisions.csv line "
                    f"{decision.line}) names an unknown record, a record itself, or two "
                    "kinds of record: it is not applied",
                    pair,
                )
            )
            continue
        known = by_pair.get(pair) or _unscored(*pair, kind_of[pair[0]], not_compared)
        by_pair[pair] = _decide(known, decision)
    joins = [
        # A decision or a source's word is certain; the machine's join can be cut.
        Join(c.record_a, c.record_b, None if certain else c.match_probability)
        for c in by_pair.values()
        if c.outcome is Outcome.JOINED
        for certain in [c.decision is not None or (c.record_a, c.record_b) in asserted]
    ]
    certain_pairs = set(asserted) | {p for p, d in decided.items() if d.decision == "same"}
    apart = {
        pair: "which an analyst decided are different"
        for pair, d in decided.items()
        if d.decision == "different" and pair in by_pair
    }
    for c in by_pair.values():
        # Likely namesakes or branches stay apart unless an analyst or the source joins them.
        pair = (c.record_a, c.record_b)
        if c.decision is None and pair not in asserted and c.rule:
            for words in SEPARATING:
                if words in c.rule:
                    apart.setdefault(pair, f"held apart by a hard rule: {words}")
    # A chain of joins can bring together records that cannot be one (two NHS numbers,
    # a young person and an adult): they are kept apart as a decision would keep them.
    bridged: dict[tuple[str, str], str] = {}
    for _ in range(_ROUNDS):
        groups, split = cluster(kind_of, joins, apart)
        conflicts = {
            p: w for p, w in _conflicts(groups, rows, certain_pairs).items() if p not in apart
        }
        bridges = _bridges(groups, split, joins, by_pair, apart)
        if not conflicts and not bridges:
            break
        apart.update(conflicts)
        bridged.update(bridges)
        joins = [j for j in joins if (j.record_a, j.record_b) not in bridges]
    for edge, words in bridged.items():
        by_pair[edge] = dataclasses.replace(
            by_pair[edge], outcome=Outcome.REVIEW, rule=f"{HELD}{words}"
        )
    for edge, (x, y) in split.cut.items():
        by_pair[edge] = dataclasses.replace(
            by_pair[edge],
            outcome=Outcome.REVIEW,
            rule=f"{HELD}cut to keep apart {x} and {y}, {apart[(x, y)]}",
        )
    entity_of: dict[str, str] = {}
    for group in groups:
        named = entity_id(kind_of[group[0]], group[0])
        for record_id in group:
            entity_of[record_id] = named
    for x, y in split.contradicted:
        findings.append(
            Finding(
                entity_of[x],
                None,
                f"{x} and {y} are one entity by decisions or their source's same_as, "
                f"but they cannot be: they are the two records {apart[(x, y)]}",
                (x, y),
            )
        )
    ordered = sorted(by_pair.values(), key=lambda c: (c.kind, c.record_a, c.record_b))
    return Resolution(
        entity_of=dict(sorted(entity_of.items())),
        kind_of=dict(sorted(kind_of.items())),
        candidates=ordered,
        findings=findings,
        settings=settings,
    )


def match_records(records: Dataset, *, settings: Settings | None = None) -> Resolution:
    """Resolve the records of a v2 dataset into people, places and vehicles.

    Parameters
    ----------
    records : Dataset
        The record-level dataset: every record known by its qualified id, with the
        analysts' decisions in ``records.decisions``.
    settings : Settings, optional
        Where the thresholds, the candidate floor, the training size and the seed come
        from (default: this process's settings).

    Returns
    -------
    Resolution
        ``entity_of`` and ``kind_of`` for every record, the candidate pairs with their
        outcomes, agreements and rules (sorted by kind and record ids), findings about
        ``same_as`` columns and decisions that could not be applied, and the settings
        the run used.  Provenance is left for the reader to fill in.

    Notes
    -----
    The same records, decisions and settings give the same resolution, value for value.

    Examples
    --------
    >>> from graphguard.ingest import Dataset
    >>> from graphguard.model import Person
    >>> jess = Person(person_id="P1", role="young_person", name="Jess Marlow",
    ...               date_of_birth="2010-03-04", postcode="S1 2AB")
    >>> jessica = Person(person_id="S7", role="young_person", name="Jessica Marlow",
    ...                  date_of_birth="2010-04-03", postcode="S1 2AB")
    >>> records = Dataset(people={"police:P1": jess, "school:S7": jessica}, version=2)
    >>> resolution = match_records(records)
    >>> resolution.entity_of["police:P1"] == resolution.entity_of["school:S7"]
    True
    >>> resolution.candidates[0].agreements[:2]
    ('name: nickname', 'date of birth: day and month transposed')
    """
    import splink

    options = MatchOptions.from_settings(settings)
    kind_of = _kinds(records)
    findings: list[Finding] = []
    asserted = _source_assertions(records, kind_of, findings)
    candidates: list[Candidate] = []
    rows_of: dict[str, dict[str, Any]] = {}
    parameters: dict[str, str] = {}
    priors: dict[str, float] = {}
    people = [person_row(r, records.people[r]) for r in sorted(records.people)]
    places = [location_row(r, records.locations[r]) for r in sorted(records.locations)]
    for kind, rows, columns, comparisons, blocking, training, certain in (
        (
            "person",
            people,
            PERSON_COLUMNS,
            C.PERSON_COMPARISONS,
            C.PERSON_BLOCKING,
            C.PERSON_TRAINING_BLOCKS,
            C.PERSON_CERTAIN,
        ),
        (
            "location",
            places,
            LOCATION_COLUMNS,
            C.LOCATION_COMPARISONS,
            C.LOCATION_BLOCKING,
            C.LOCATION_TRAINING_BLOCKS,
            C.LOCATION_CERTAIN,
        ),
    ):
        scoring = score_pairs(
            rows,
            columns,
            comparisons,
            blocking=blocking,
            training_blocks=training,
            certain=certain,
            floor=options.candidate_floor,
            train_from=options.train_from,
            seed=options.seed,
        )
        parameters[kind] = scoring.parameters
        priors[kind] = scoring.probability_two_random_records_match
        by_id = {row["unique_id"]: row for row in rows}
        rows_of.update(by_id)
        candidates.extend(_judge(kind, scoring, by_id, options, asserted))
    candidates.extend(_vehicle_candidates(records))
    settings_used = {
        "method": f"splink {splink.__version__} (Fellegi-Sunter, DuckDB)",
        "join_threshold": options.join_threshold,
        "review_threshold": options.review_threshold,
        "candidate_floor": options.candidate_floor,
        "train_from": options.train_from,
        "seed": options.seed,
        "parameters": parameters,
        "probability_two_random_records_match": priors,
    }
    decided = latest_decisions(records.decisions)
    return _resolve(
        records, candidates, rows_of, asserted, decided, kind_of, findings, settings_used
    )


def naive_match(records: Dataset) -> Resolution:
    """The baseline: people with the same normalised name and date of birth are one.

    Places with the same normalised name and postcode are one, vehicles with the same
    registration; no probabilities, no rules, no decisions.  For comparison only.
    """
    kind_of = _kinds(records)
    keys: dict[tuple[Any, ...], list[str]] = defaultdict(list)
    for record_id, person in sorted(records.people.items()):
        name = normal_text(person.name)
        if name and person.date_of_birth:
            keys[("person", name, person.date_of_birth)].append(record_id)
    for record_id, place in sorted(records.locations.items()):
        name = normal_text(place.name)
        if name and place.postcode:
            keys[("location", name, "".join(place.postcode.split()).upper())].append(record_id)
    for record_id, vehicle in sorted(records.vehicles.items()):
        registration = vehicle_key(vehicle)
        if registration:
            keys[("vehicle", registration)].append(record_id)
    agreements = {
        "person": ("name: same", "date of birth: same"),
        "location": ("name: same", "postcode: same"),
        "vehicle": ("registration: same",),
    }
    candidates = [
        Candidate(group[0], other, key[0], 1.0, Outcome.JOINED, agreements[key[0]])
        for key, group in keys.items()
        for other in group[1:]
    ]
    joins = [Join(c.record_a, c.record_b) for c in candidates]
    groups, _ = cluster(kind_of, joins, ())
    entity_of = {r: entity_id(kind_of[g[0]], g[0]) for g in groups for r in g}
    return Resolution(
        entity_of=dict(sorted(entity_of.items())),
        kind_of=dict(sorted(kind_of.items())),
        candidates=sorted(candidates, key=lambda c: (c.kind, c.record_a, c.record_b)),
        settings={"method": "naive: same normalised name and date of birth"},
    )
