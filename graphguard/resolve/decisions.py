"""Analysts' match decisions: recorded in the dataset's ``decisions.csv``, audited.

A decision says two records are, or are not, one person (place, vehicle).  It is
data (DATA-FORMAT.md, "Match decisions"): one row appended to ``decisions.csv`` in the
dataset folder, so the dataset travels with its decisions and a later row for the
same pair replaces an earlier one — a decision is reversed by deciding again, and
nothing needs to be re-read but the dataset itself.  The CLI
(``graphguard resolve decide``) and the dashboard both call :func:`record_decision`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import TYPE_CHECKING

from graphguard.errors import UsageError
from graphguard.resolve.types import Decision

if TYPE_CHECKING:
    from graphguard.ingest import Dataset

__all__ = ["DECISIONS_FILE", "DECISION_COLUMNS", "record_decision"]

#: The file in a dataset folder that holds the decisions.
DECISIONS_FILE = "decisions.csv"
#: Its columns, in the order a new file gets them.
DECISION_COLUMNS: tuple[str, ...] = (
    "record_a",
    "record_b",
    "decision",
    "decided_by",
    "decided_on",
    "reason",
)
_DECISIONS = ("same", "different")


def _kinds_and_roles(
    dataset_path: Path, records: Dataset | None
) -> tuple[dict[str, str], set[str]]:
    """Every record id of the dataset → its kind, and the young people's record ids."""
    if records is None:
        from graphguard.ingest import read_dataset

        records = read_dataset(dataset_path, collect_links=False, resolve=False).records
    kinds = dict.fromkeys(records.people, "person")
    kinds.update(dict.fromkeys(records.locations, "location"))
    kinds.update(dict.fromkeys(records.vehicles, "vehicle"))
    young = {r for r, p in records.people.items() if p.role.value == "young_person"}
    return kinds, young


def _appended(path: Path, row: dict[str, str]) -> tuple[str, int]:
    """The text of ``decisions.csv`` with ``row`` added, and the row's line number."""
    if not path.exists():
        text = ""
        header = list(DECISION_COLUMNS)
    else:
        text = path.read_text(encoding="utf-8-sig")
        first = next(csv.reader(io.StringIO(text)), None)
        header = [c.strip().lower() for c in first] if first else list(DECISION_COLUMNS)
        missing = [c for c in DECISION_COLUMNS[:5] if c not in header]
        if missing:
            raise UsageError(
                f"{path} line 1: its header lacks {', '.join(missing)}: fix it before "
                "adding a decision"
            )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if not text.strip():
        text = ""
        writer.writerow(header)
    elif not text.endswith(("\n", "\r")):
        buffer.write("\n")
    before = text + buffer.getvalue()
    writer.writerow([row.get(column, "") for column in header])
    return text + buffer.getvalue(), before.count("\n") + 1


def record_decision(
    dataset_path: str | Path,
    record_a: str,
    record_b: str,
    decision: str,
    reason: str | None = None,
    user: str | None = None,
    *,
    today: dt.date | None = None,
    records: Dataset | None = None,
) -> Decision:
    """Record that two records are (``same``) or are not (``different``) one entity.

    Parameters
    ----------
    dataset_path : path
        The v2 dataset folder; its ``decisions.csv`` gets one row (created with a
        header when missing), written atomically.
    record_a, record_b : str
        Qualified ids (``police:P001``) of two records of one kind in the dataset.
    decision : {"same", "different"}
        What the analyst decided.
    reason : str, optional
        Why, in the analyst's words (kept in ``decisions.csv``, not in the audit log).
    user : str, optional
        Who decided (default: the acting operating-system user).
    today : date, optional
        The day of the decision (default: today).
    records : Dataset, optional
        The dataset's record-level records when the caller has read them already (the
        dashboard has): the record ids are checked against them, and the dataset is
        not read again.

    Returns
    -------
    Decision
        The row as written, with its line in ``decisions.csv``.

    Raises
    ------
    UsageError
        An unknown record, a record paired with itself, two kinds of record, a
        decision that is not ``same`` or ``different``, or a dataset that is not a folder.
    AuditError
        When the audit log cannot be written: then no decision is written either.
    """
    from graphguard.audit import Event, acting_user, audited
    from graphguard.files import write_text
    from graphguard.privacy import pseudonym
    from graphguard.settings import pseudonym_key

    folder = Path(dataset_path)
    if not folder.is_dir():
        raise UsageError(
            f"{folder} is not a dataset folder: decisions are kept in a v2 dataset "
            f"folder's {DECISIONS_FILE}"
        )
    decision = decision.strip().lower()
    if decision not in _DECISIONS:
        raise UsageError(f"decision {decision!r} is not 'same' or 'different'")
    if record_a == record_b:
        raise UsageError(f"{record_a} is one record: a decision names two")
    kinds, young = _kinds_and_roles(folder, records)
    for record in (record_a, record_b):
        if record not in kinds:
            raise UsageError(
                f"{record} is not a record of {folder} (give its qualified id, source:local_id)"
            )
    if kinds[record_a] != kinds[record_b]:
        raise UsageError(
            f"{record_a} is a {kinds[record_a]} and {record_b} a {kinds[record_b]}: "
            "only records of one kind can be the same"
        )
    decided_by = user or acting_user()
    day = today or dt.date.today()
    path = folder / DECISIONS_FILE
    row = {
        "record_a": record_a,
        "record_b": record_b,
        "decision": decision,
        "decided_by": decided_by,
        "decided_on": day.isoformat(),
        "reason": (reason or "").strip(),
    }
    text, line = _appended(path, row)
    key = pseudonym_key() if young & {record_a, record_b} else b""

    def shown(record: str) -> str:
        return pseudonym(record, key) if record in young else record

    with audited(
        Event.MATCH_DECISION,
        dataset=str(folder.resolve()),
        record_a=shown(record_a),
        record_b=shown(record_b),
        decision=decision,
        decided_by=decided_by,
    ) as action:
        write_text(path, text)
        action.note(path=str(path.resolve()), line=line)
    return Decision(record_a, record_b, decision, decided_by, day, row["reason"] or None, line)
