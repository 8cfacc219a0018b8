"""Disruption actions: what the partnership agreed against each target, and how it went.

An :class:`Action` records one agreed disruption of one target of the target list —
an adult of concern, a location, a vehicle or a business, never a young person —
with a tactic from the toolkit mapping the target list uses
(:data:`graphguard.targets.TACTICS`), the lead agency, the owner, the start and
review dates, the status and the outcome.  Actions are kept in the meeting state
(:class:`~graphguard.meeting.state.MeetingState`: Neo4j when it is the store, else the
state home) and every change is audited before it is kept.

Free text (the outcome, notes) is scrubbed of young people's identifying values
before it is kept: an id becomes its keyed pseudonym, a name ``[young person]``.

:func:`actions_due` sorts open actions into overdue (review date passed) and due
(review date within the coming days); :mod:`~graphguard.meeting.displacement`
measures what moved after an action started.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx

from graphguard.audit import Event, acting_user, audited
from graphguard.errors import UsageError
from graphguard.meeting.state import MeetingState
from graphguard.model import Agency
from graphguard.privacy import YoungPersonScrubber, pseudonym
from graphguard.targets import TACTICS

__all__ = [
    "DUE_WITHIN_DAYS",
    "OPEN_STATUSES",
    "Action",
    "ActionStatus",
    "actions_due",
    "add_action",
    "get_action",
    "list_actions",
    "target_of",
    "update_action",
]

#: An open action whose review date falls within this many days is due.
DUE_WITHIN_DAYS = 28

#: Free text is cut to this many characters.
_LONGEST_TEXT = 2000


class ActionStatus(enum.StrEnum):
    """Where an action stands."""

    AGREED = "agreed"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    STOPPED = "stopped"


#: The statuses of an action still to be reviewed.
OPEN_STATUSES: frozenset[str] = frozenset({ActionStatus.AGREED, ActionStatus.IN_PROGRESS})


@dataclass(frozen=True)
class Action:
    """One agreed disruption action.

    Attributes
    ----------
    id : str
        ``ACT-0001``, ``ACT-0002``, … in the order they were agreed.
    target_id, target_kind, target_label : str
        The target as the target list names it (kind ``adult``, ``location``,
        ``vehicle`` or ``business``; the label never a person's name).
    tactic : str
        A key of :data:`~graphguard.targets.TACTICS` (``cawn``, ``closure_asb``, …).
    lead_agency : str
        An agency of DATA-FORMAT.md (``police``, ``housing``, …).
    owner : str
        Who carries it out (a practitioner or a team).
    start, review : date
        When it starts; when the meeting reviews it (not before the start).
    status : str
        An :class:`ActionStatus` value.
    outcome, notes : str or None
        What came of it; anything else the meeting recorded.
    created_by, created_at : str
        The operating-system user who recorded it, and when (UTC, ISO).
    history : tuple of dict
        Every change after it was recorded: ``at``, ``by`` and ``changes`` (field →
        ``[old, new]``).
    """

    id: str
    target_id: str
    target_kind: str
    target_label: str
    tactic: str
    lead_agency: str
    owner: str
    start: dt.date
    review: dt.date
    status: str = ActionStatus.AGREED
    outcome: str | None = None
    notes: str | None = None
    created_by: str = ""
    created_at: str = ""
    history: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def tactic_text(self) -> str:
        """The tactic in words, with its legal basis."""
        return TACTICS.get(self.tactic, self.tactic)

    @property
    def is_open(self) -> bool:
        """Whether the action is still to be reviewed (agreed or in progress)."""
        return self.status in OPEN_STATUSES

    def due_state(self, today: dt.date, within_days: int = DUE_WITHIN_DAYS) -> str | None:
        """``"overdue"``, ``"due"`` or None (closed, or review further off)."""
        if not self.is_open:
            return None
        if self.review < today:
            return "overdue"
        if self.review <= today + dt.timedelta(days=within_days):
            return "due"
        return None

    def as_record(self) -> dict[str, Any]:
        """The action as kept in the meeting state (JSON values only)."""
        return {
            "id": self.id,
            "target_id": self.target_id,
            "target_kind": self.target_kind,
            "target_label": self.target_label,
            "tactic": self.tactic,
            "lead_agency": self.lead_agency,
            "owner": self.owner,
            "start": self.start.isoformat(),
            "review": self.review.isoformat(),
            "status": str(self.status),
            "outcome": self.outcome,
            "notes": self.notes,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "history": list(self.history),
        }

    def as_dict(self) -> dict[str, Any]:
        """The record with the tactic in words, for ``--format json`` and the dashboard."""
        return {**self.as_record(), "tactic_text": self.tactic_text}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Action:
        """An action read back from the meeting state."""
        return cls(
            id=str(record["id"]),
            target_id=str(record["target_id"]),
            target_kind=str(record["target_kind"]),
            target_label=str(record.get("target_label") or record["target_id"]),
            tactic=str(record["tactic"]),
            lead_agency=str(record["lead_agency"]),
            owner=str(record["owner"]),
            start=dt.date.fromisoformat(record["start"]),
            review=dt.date.fromisoformat(record["review"]),
            status=str(record.get("status") or ActionStatus.AGREED),
            outcome=record.get("outcome"),
            notes=record.get("notes"),
            created_by=str(record.get("created_by") or ""),
            created_at=str(record.get("created_at") or ""),
            history=tuple(record.get("history") or ()),
        )


# ---------------------------------------------------------------------------- checking


def target_of(graph: nx.MultiDiGraph, target_id: str) -> tuple[str, str, tuple[str, ...]]:
    """The kind, label and members of a target named by its target-list id.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
    target_id : str
        An adult, location or vehicle id, or a business's ``business:…`` id.

    Returns
    -------
    tuple
        ``(kind, label, members)``.

    Raises
    ------
    UsageError
        For a young person (never a target) or an id the data does not hold.
    """
    from graphguard.analysis.disruption import entity_label

    if target_id.startswith("business:"):
        for candidate in _businesses(graph):
            if candidate.id == target_id:
                return "business", _label(graph, candidate.label), tuple(candidate.members)
        raise UsageError(f"no business {target_id!r} in the data (see `graphguard targets`)")
    if target_id not in graph:
        raise UsageError(f"no adult, location or vehicle {target_id!r} in the data")
    data = graph.nodes[target_id]
    if data.get("role") == "young_person":
        raise UsageError(
            "a young person is never a disruption target: record the action against the "
            "adult, place or vehicle that exposes them"
        )
    kind = "adult" if data.get("kind") == "person" else str(data.get("kind"))
    return kind, _label(graph, entity_label(graph, target_id)), (target_id,)


def _label(graph: nx.MultiDiGraph, label: str) -> str:
    """A target's label as the target list shows it: no young person's value in it."""
    return YoungPersonScrubber.from_graph(graph)(label)


def _businesses(graph: nx.MultiDiGraph) -> list[Any]:
    from graphguard.analysis.disruption import candidates, exposure

    return candidates(graph, exposure(graph, adults_of_concern=()), kinds={"business"})


def _tactic(tactic: str) -> str:
    key = tactic.strip().lower()
    if key not in TACTICS:
        raise UsageError(f"unknown tactic {tactic!r}; use one of {', '.join(TACTICS)}")
    return key


def _agency(agency: str) -> str:
    try:
        return Agency(agency).value
    except ValueError:
        raise UsageError(
            f"unknown lead agency {agency!r}; use one of {', '.join(a.value for a in Agency)}"
        ) from None


def _status(status: str) -> str:
    try:
        return ActionStatus(status.strip().lower()).value
    except ValueError:
        raise UsageError(
            f"unknown status {status!r}; use one of {', '.join(s.value for s in ActionStatus)}"
        ) from None


def _text(
    value: str | None, what: str, scrub: YoungPersonScrubber, *, required: bool = False
) -> str | None:
    if value is None:
        if required:
            raise UsageError(f"{what} is required")
        return None
    text = " ".join(value.split())
    if not text:
        if required:
            raise UsageError(f"{what} must not be empty")
        return None
    if len(text) > _LONGEST_TEXT:
        raise UsageError(f"{what} is longer than {_LONGEST_TEXT} characters")
    return scrub(text)


def _scrubber(graph: nx.MultiDiGraph, key: bytes) -> YoungPersonScrubber:
    return YoungPersonScrubber.from_graph(graph, replace_id=lambda y: pseudonym(y, key))


def _dates(start: dt.date, review: dt.date) -> None:
    if review < start:
        raise UsageError(
            f"the review date {review.isoformat()} is before the start {start.isoformat()}"
        )


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------- recording


def list_actions(state: MeetingState) -> list[Action]:
    """Every action of the meeting state, in the order they were agreed."""
    return [Action.from_record(record) for record in state.records("action")]


def get_action(state: MeetingState, action_id: str) -> Action:
    """The action ``action_id``; UsageError when there is none."""
    record = state.get("action", action_id) if action_id else None
    if record is None:
        raise UsageError(f"no action {action_id!r} (see `graphguard actions list`)")
    return Action.from_record(record)


def add_action(
    state: MeetingState,
    graph: nx.MultiDiGraph,
    *,
    key: bytes,
    target_id: str,
    tactic: str,
    lead_agency: str,
    owner: str,
    start: dt.date,
    review: dt.date,
    status: str = ActionStatus.AGREED,
    notes: str | None = None,
    source: str | None = None,
) -> Action:
    """Record an agreed action, audited (``action add``) before it is kept.

    Parameters
    ----------
    state : MeetingState
    graph : networkx.MultiDiGraph
        The picture the target is checked against.
    key : bytes
        The pseudonym key, for young people's ids in free text.
    target_id, tactic, lead_agency, owner, start, review, status, notes
        As in :class:`Action`.
    source : str, optional
        Where the data came from, for the audit.

    Returns
    -------
    Action
        As kept, with its new id.

    Raises
    ------
    UsageError
        A young person or unknown target, an unknown tactic, agency or status, a
        review before the start, an empty owner.
    AuditError
        When the audit cannot be written; nothing is kept then.
    """
    kind, label, _ = target_of(graph, target_id)
    scrub = _scrubber(graph, key)
    _dates(start, review)
    owner_text = _text(owner, "the owner", scrub, required=True)
    assert owner_text is not None
    user = acting_user()
    draft = Action(
        id="",
        target_id=target_id,
        target_kind=kind,
        target_label=label,
        tactic=_tactic(tactic),
        lead_agency=_agency(lead_agency),
        owner=owner_text,
        start=start,
        review=review,
        status=_status(str(status)),
        notes=_text(notes, "the notes", scrub),
        created_by=user,
        created_at=_now(),
    )
    with audited(
        Event.ACTION_ADD,
        target=target_id,
        target_kind=kind,
        tactic=draft.tactic,
        lead_agency=draft.lead_agency,
        start=start.isoformat(),
        review=review.isoformat(),
        state=state.location,
        source=source,
    ) as audit:
        action = _keep_new(state, draft)
        audit.note(action=action.id)
    return action


def _keep_new(state: MeetingState, draft: Action) -> Action:
    """Keep ``draft`` under the next free id; another writer taking one moves us on."""
    taken = [a.id for a in list_actions(state)]
    number = max((int(i.split("-")[1]) for i in taken if i.startswith("ACT-")), default=0)
    while True:
        number += 1
        action = replace(draft, id=f"ACT-{number:04d}")
        if state.add("action", action.id, action.as_record()):
            return action


def update_action(
    state: MeetingState,
    graph: nx.MultiDiGraph,
    action_id: str,
    *,
    key: bytes,
    status: str | None = None,
    outcome: str | None = None,
    owner: str | None = None,
    lead_agency: str | None = None,
    review: dt.date | None = None,
    notes: str | None = None,
    source: str | None = None,
) -> Action:
    """Change an action, audited (``action update``) before it is kept.

    Only the fields given change; each change is added to the action's history with
    who made it and when.  Changing nothing is a usage error.

    Raises
    ------
    UsageError
        An unknown action, status or agency, a review before the start, no change.
    AuditError
        When the audit cannot be written; nothing is changed then.
    """
    action = get_action(state, action_id)
    scrub = _scrubber(graph, key)
    wanted: dict[str, Any] = {}
    if status is not None:
        wanted["status"] = _status(status)
    if outcome is not None:
        wanted["outcome"] = _text(outcome, "the outcome", scrub)
    if owner is not None:
        wanted["owner"] = _text(owner, "the owner", scrub, required=True)
    if lead_agency is not None:
        wanted["lead_agency"] = _agency(lead_agency)
    if review is not None:
        _dates(action.start, review)
        wanted["review"] = review
    if notes is not None:
        wanted["notes"] = _text(notes, "the notes", scrub)
    changes = {
        name: [_plain(getattr(action, name)), _plain(value)]
        for name, value in wanted.items()
        if getattr(action, name) != value
    }
    if not changes:
        raise UsageError(f"{action_id}: nothing to change (it already says that)")
    entry = {"at": _now(), "by": acting_user(), "changes": changes}
    changed = replace(action, **wanted, history=(*action.history, entry))
    with audited(
        Event.ACTION_UPDATE,
        action=action.id,
        target=action.target_id,
        changed=sorted(changes),
        status=str(changed.status),
        state=state.location,
        source=source,
    ):
        state.put("action", changed.id, changed.as_record())
    return changed


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


# ---------------------------------------------------------------------------- review


def actions_due(
    actions: Iterable[Action], today: dt.date, within_days: int = DUE_WITHIN_DAYS
) -> tuple[list[Action], list[Action]]:
    """The open actions overdue for review, and those due within ``within_days``.

    Each list is ordered by review date, then id.

    Examples
    --------
    >>> day = dt.date(2026, 9, 1)
    >>> late = Action("ACT-0001", "L1", "location", "flat L1", "closure_asb", "police",
    ...               "PC Shaw", dt.date(2026, 7, 1), dt.date(2026, 8, 1))
    >>> soon = replace(late, id="ACT-0002", review=dt.date(2026, 9, 10))
    >>> done = replace(late, id="ACT-0003", status="completed")
    >>> [[a.id for a in group] for group in actions_due([soon, done, late], day)]
    [['ACT-0001'], ['ACT-0002']]
    """
    ordered = sorted(actions, key=lambda a: (a.review, a.id))
    overdue = [a for a in ordered if a.due_state(today, within_days) == "overdue"]
    due = [a for a in ordered if a.due_state(today, within_days) == "due"]
    return overdue, due
