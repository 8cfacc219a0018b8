"""Retention's durable records: keep and restore decisions, and the deletion log.

Both live in the workspace database (:mod:`graphguard.workspace`), in append-only
tables (SQLite triggers refuse an update or a delete), so the history of what was
kept, deleted and let back in can be read in full.  A record is named as the review
lists it (:func:`record_ref`): its id, or a young person's pseudonym; no row holds
a record's content.

A deletion is written *before* anything is deleted, in one transaction: if the log
cannot be written, nothing is deleted (fail closed, like the audit log).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass

from graphguard.settings import Settings, get_settings
from graphguard.workspace import Workspace, database_path

__all__ = [
    "Decision",
    "Deletion",
    "held_back",
    "held_stamp",
    "keep_decisions",
    "record_decision",
    "record_deletions",
    "deletions",
]


@dataclass(frozen=True)
class Decision:
    """A decision on one record: ``keep`` (until a date) or ``restore`` (let it back in)."""

    seq: int
    record: str
    decision: str
    until: dt.date | None
    reason: str
    decided_by: str
    role: str
    decided_at: str


@dataclass(frozen=True)
class Deletion:
    """One line of the deletion log: which record, under which rule, by whom, when."""

    seq: int
    record: str
    kind: str
    rule: str
    review_on: dt.date
    deleted_by: str
    role: str
    deleted_at: str
    run: str

    @property
    def deleted_on(self) -> str:
        """The day of the deletion, as messages give it."""
        return self.deleted_at[:10]

    def as_dict(self) -> dict[str, str | int]:
        """The line as ``graphguard review log --format json`` writes it."""
        return {
            "seq": self.seq,
            "record": self.record,
            "kind": self.kind,
            "rule": self.rule,
            "review_on": self.review_on.isoformat(),
            "deleted_by": self.deleted_by,
            "role": self.role,
            "deleted_at": self.deleted_at,
            "run": self.run,
        }


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _exists(settings: Settings | None) -> bool:
    """Whether the workspace database exists (reading must never create the state home)."""
    return os.path.lexists(database_path(settings or get_settings()))


def record_decision(
    record: str,
    decision: str,
    reason: str,
    *,
    until: dt.date | None = None,
    settings: Settings | None = None,
) -> Decision:
    """Append a keep or restore decision for ``record``; returns it as stored."""
    from graphguard.access import current_identity

    who = current_identity()
    row = (
        record,
        decision,
        None if until is None else until.isoformat(),
        reason,
        who.user,
        str(who.role),
        _now(),
    )
    with Workspace.open(settings).writing() as connection:
        cursor = connection.execute(
            "INSERT INTO retention_decision"
            " (record, decision, until, reason, decided_by, role, decided_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            row,
        )
        seq = int(cursor.lastrowid or 0)
    return Decision(seq, record, decision, until, reason, who.user, str(who.role), row[-1])


def _decisions(settings: Settings | None) -> list[Decision]:
    if not _exists(settings):
        return []
    with Workspace.open(settings).reading() as connection:
        rows = connection.execute(
            "SELECT seq, record, decision, until, reason, decided_by, role, decided_at"
            " FROM retention_decision ORDER BY seq"
        ).fetchall()
    return [
        Decision(
            seq,
            record,
            decision,
            None if until is None else dt.date.fromisoformat(until),
            reason,
            by,
            role,
            at,
        )
        for seq, record, decision, until, reason, by, role, at in rows
    ]


def keep_decisions(settings: Settings | None = None) -> dict[str, Decision]:
    """Each record's latest keep decision (a later one replaces an earlier one)."""
    return {d.record: d for d in _decisions(settings) if d.decision == "keep"}


def record_deletions(
    entries: Iterable[tuple[str, str, str, dt.date]],
    run: str,
    settings: Settings | None = None,
) -> list[Deletion]:
    """Append ``(record, kind, rule, review_on)`` lines to the deletion log in one transaction.

    Raises
    ------
    GraphguardError
        When the workspace database cannot be written: then nothing is logged, and
        the caller must delete nothing.
    """
    from graphguard.access import current_identity

    who = current_identity()
    at = _now()
    written: list[Deletion] = []
    with Workspace.open(settings).writing() as connection:
        for record, kind, rule, review_on in entries:
            cursor = connection.execute(
                "INSERT INTO deletion"
                " (record, kind, rule, review_on, deleted_by, role, deleted_at, run)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (record, kind, rule, review_on.isoformat(), who.user, str(who.role), at, run),
            )
            written.append(
                Deletion(
                    int(cursor.lastrowid or 0),
                    record,
                    kind,
                    rule,
                    review_on,
                    who.user,
                    str(who.role),
                    at,
                    run,
                )
            )
    return written


def deletions(settings: Settings | None = None) -> list[Deletion]:
    """The whole deletion log, oldest first."""
    if not _exists(settings):
        return []
    with Workspace.open(settings).reading() as connection:
        rows = connection.execute(
            "SELECT seq, record, kind, rule, review_on, deleted_by, role, deleted_at, run"
            " FROM deletion ORDER BY seq"
        ).fetchall()
    return [
        Deletion(seq, record, kind, rule, dt.date.fromisoformat(review), by, role, at, run)
        for seq, record, kind, rule, review, by, role, at, run in rows
    ]


def held_back(settings: Settings | None = None) -> dict[str, Deletion]:
    """Deleted records not restored since: record → its latest deletion.

    Empty (and nothing created) when there is no workspace database yet.  A database
    that cannot be read raises: a deleted record must not come back because the log
    could not be read.
    """
    restored: dict[str, str] = {}
    for decision in _decisions(settings):
        if decision.decision == "restore":
            restored[decision.record] = decision.decided_at
    latest: dict[str, Deletion] = {}
    for deletion in deletions(settings):
        latest[deletion.record] = deletion
    # Both times are UTC ISO strings to the microsecond, so they compare as text: a
    # restore after the latest deletion lets the record back, a later deletion wins.
    return {
        record: deletion
        for record, deletion in latest.items()
        if restored.get(record, "") <= deletion.deleted_at
    }


def held_stamp(settings: Settings | None = None) -> str:
    """A digest of which records are held back: it changes with every purge and restore.

    The dashboard's cache keys its entries by it (with the data's content), so a view
    built before a purge or a restore is never shown after it.
    """
    import hashlib

    held = held_back(settings)
    text = "\n".join(f"{ref}\t{held[ref].seq}" for ref in sorted(held))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
