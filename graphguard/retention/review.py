"""Every record's review date, from the retention policy, and what is due.

A **record** is one row an agency sent: in a v1 dataset each person, place, vehicle
and link row; in v2 each source's record (``police:N12``) and link.  Its **date** is
a link's last seen date (else its first seen date, else its source's extract date);
a person, place or vehicle record is dated by the latest link naming it.  Its
**rule** is the policy's first that matches (:mod:`.policy`), and its **review date**
is the rule's period after the date, and not before the young person it is about
reaches the rule's ``until_age``.  A person, place or vehicle is never reviewed
before a link about it: it stays while anything recorded about it stays.  A record
with no date at all is due at once (its age cannot be known), which says so.

A record kept by an analyst's decision (``graphguard review keep``) is not due until
the decision's date.  Young people's records are named by pseudonym throughout.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from graphguard.ingest import Dataset, IngestResult
from graphguard.model import Link, Person, Role
from graphguard.retention.log import Decision
from graphguard.retention.policy import Period, Policy, Rule

__all__ = ["RECORD_PREFIX", "RecordReview", "record_ref", "review_records"]


@dataclass(frozen=True)
class RecordReview:
    """One record's review: its rule, its date, when it is reviewed and why."""

    #: The record's id in the dataset (qualified in v2): never shown for a young person.
    record_id: str
    #: How the record is named outside: its id, or a young person's pseudonym.
    ref: str
    #: ``person``, ``location``, ``vehicle`` or ``link``.
    kind: str
    rule: Rule
    dated: dt.date | None
    review_on: dt.date
    why: str
    young_person: bool = False
    kept: Decision | None = None

    def due(self, today: dt.date) -> bool:
        """Past its review date and not kept beyond ``today``."""
        if self.kept is not None and self.kept.until is not None and self.kept.until >= today:
            return False
        return self.review_on <= today

    def as_dict(self) -> dict[str, str | None]:
        """The review as ``graphguard review --format json`` writes it (no content)."""
        return {
            "record": self.ref,
            "kind": self.kind,
            "rule": self.rule.name,
            "dated": None if self.dated is None else self.dated.isoformat(),
            "review_on": self.review_on.isoformat(),
            "why": self.why,
            "kept_until": (
                None
                if self.kept is None or self.kept.until is None
                else self.kept.until.isoformat()
            ),
        }


def record_ref(record_id: str, young_person: bool, key: bytes, *, qualified: bool = False) -> str:
    """How a record is named in the review, the deletion log and the audit.

    A young person's record by pseudonym: ``YP-…`` in a v1 dataset (where the record
    is the entity, so it is the entity's pseudonym everywhere), ``YR-…`` for a v2
    source record (``qualified``), as Neo4j's record nodes are keyed.

    >>> record_ref("police:L1", False, b"k")
    'police:L1'
    >>> record_ref("YP1", True, b"k").startswith("YP-")
    True
    >>> record_ref("police:N12", True, b"k", qualified=True).startswith("YR-")
    True
    """
    from graphguard.privacy import pseudonym

    if not young_person:
        return record_id
    return pseudonym(record_id, key, prefix=RECORD_PREFIX if qualified else "YP")


#: The pseudonym prefix of a young person's v2 source record.
RECORD_PREFIX = "YR"


def _birthday(born: dt.date, age: int) -> dt.date:
    return Period(age, "years").after(born)


def _link_date(link: Link, extracted: dt.date | None) -> tuple[dt.date | None, str]:
    if link.last_seen is not None:
        return link.last_seen, f"last seen {link.last_seen.isoformat()}"
    if link.first_seen is not None:
        return link.first_seen, f"first seen {link.first_seen.isoformat()}"
    if extracted is not None:
        return extracted, f"undated; extracted {extracted.isoformat()}"
    return None, "no date recorded, so its age cannot be known"


def _child(people: Iterable[Person], day: dt.date | None) -> bool | None:
    """Whether a young person among ``people`` was under 18 on ``day`` (None: no people)."""
    found = list(people)
    if not found:
        return None
    for person in found:
        if person.role is not Role.YOUNG_PERSON:
            continue
        age = person.age_on(day) if day is not None else None
        if age is None or age < 18:
            return True
    return False


def _dated_review(
    rule: Rule, dated: dt.date | None, people: Iterable[Person], today: dt.date
) -> tuple[dt.date, str]:
    """The rule's review date for a record dated ``dated`` about ``people``, and why."""
    if dated is None:
        return today, f"{rule.name}: due now"
    review_on = rule.review_after.after(dated)
    why = f"{rule.name}: {rule.review_after} after"
    if rule.until_age is not None:
        births = [
            p.date_of_birth for p in people if p.role is Role.YOUNG_PERSON and p.date_of_birth
        ]
        if births:
            birthday = _birthday(max(births), rule.until_age)
            if birthday > review_on:
                return birthday, f"{rule.name}: not before the young person is {rule.until_age}"
    return review_on, why


def review_records(
    result: IngestResult | Dataset,
    policy: Policy,
    key: bytes,
    *,
    kept: dict[str, Decision] | None = None,
    today: dt.date | None = None,
) -> list[RecordReview]:
    """The review of every record of a reading, in review-date order.

    Parameters
    ----------
    result : IngestResult or Dataset
        A reading (its record-level dataset is reviewed) or a record-level dataset.
    policy : Policy
        The retention policy.
    key : bytes
        The pseudonym key (young people are named by pseudonym).
    kept : dict, optional
        Keep decisions by record ref (:func:`graphguard.retention.log.keep_decisions`).
    today : date, optional
        The day an undated record is due; today by default.
    """
    records = result.records if isinstance(result, IngestResult) else result
    today = today or dt.date.today()
    kept = kept or {}
    people = records.people
    reviews: list[RecordReview] = []
    # Entity record id → the reviews of links naming it (they hold it back).
    naming: dict[str, list[RecordReview]] = defaultdict(list)
    for link in records.links:
        source = _source_of(records, link.link_id)
        extracted = _extracted(records, source)
        dated, when = _link_date(link, extracted)
        ends = [people[e] for e in (link.source_id, link.target_id) if e in people]
        categories = {str(c) for p in ends for c in (p.category or ())}
        rule = policy.rule_for(
            agency=None if link.agency is None else str(link.agency),
            source=source,
            link_type=str(link.type),
            categories=categories,
            child=_child(ends, dated),
        )
        review_on, why = _dated_review(rule, dated, ends, today)
        review = RecordReview(
            link.link_id,
            link.link_id,
            "link",
            rule,
            dated,
            review_on,
            f"{when}; {why}",
            kept=kept.get(link.link_id),
        )
        reviews.append(review)
        for end in (link.source_id, link.target_id):
            naming[end].append(review)
    for entity in records.entities():
        young = isinstance(entity, Person) and entity.role is Role.YOUNG_PERSON
        ref = record_ref(entity.id, young, key, qualified=records.version == 2)
        source = _source_of(records, entity.id)
        links = naming.get(entity.id, [])
        dates = [r.dated for r in links if r.dated is not None]
        dated = max(dates) if dates else None
        about = [entity] if isinstance(entity, Person) else []
        rule = policy.rule_for(
            agency=_agency(records, source),
            source=source,
            link_type=None,
            categories={str(c) for c in getattr(entity, "category", None) or ()},
            child=_child(about, dated),
        )
        extracted = _extracted(records, source)
        if dated is None and extracted is not None:
            # A record no dated link names was current when its source was extracted.
            dated = extracted
            review_on, why = _dated_review(rule, dated, about, today)
            why = f"no dated link; extracted {extracted.isoformat()}; {why}"
        elif dated is None and not links:
            review_on, why = today, f"no link names it; {rule.name}: due now"
        else:
            review_on, why = _dated_review(rule, dated, about, today)
            why = f"latest link {dated.isoformat() if dated else 'undated'}; {why}"
        # Never before a link about it: the latest review (or keep) among them.
        held_by = [r.review_on for r in links] + [
            r.kept.until for r in links if r.kept is not None and r.kept.until is not None
        ]
        if held_by and max(held_by) > review_on:
            review_on = max(held_by)
            why = f"{why}; held until its last link's review"
        reviews.append(
            RecordReview(
                entity.id,
                ref,
                str(entity.entity_kind),
                rule,
                dated,
                review_on,
                why,
                young_person=young,
                kept=kept.get(ref),
            )
        )
    reviews.sort(key=lambda r: (r.review_on, r.kind, r.ref))
    return reviews


def _source_of(records: Dataset, record_id: str) -> str | None:
    if records.version != 2:
        return None
    return record_id.partition(":")[0] or None


def _extracted(records: Dataset, source: str | None) -> dt.date | None:
    info = records.sources.get(source) if source else None
    return None if info is None else info.extracted_on


def _agency(records: Dataset, source: str | None) -> str | None:
    info = records.sources.get(source) if source else None
    return None if info is None else info.agency
