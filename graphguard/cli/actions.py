"""Meeting commands: ``actions add|list|update|displacement`` and ``briefing``.

A thin layer over :mod:`graphguard.meeting.actions`, :mod:`graphguard.meeting.displacement`
and :mod:`graphguard.meeting.briefing`.  Actions are kept in the meeting state of the
data they are about: DATASET's rows of the workspace database, or Neo4j when no
DATASET is given and ``NEO4J_URI`` is set.  Every change and every view is audited first.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click
import networkx as nx

from graphguard.audit import Event, audited
from graphguard.cli.base import role_graph, sees_handling_c, warn_data_problems
from graphguard.cli.options import DATASET, DATE, FORCE, FORMAT, HALF_LIFE
from graphguard.model import Agency
from graphguard.targets import TACTICS

__all__ = ["actions", "briefing"]

_STATUSES = ["agreed", "in_progress", "completed", "stopped"]
_AGENCIES = [agency.value for agency in Agency]


def _store(dataset: Path | None) -> Any:
    from graphguard.store.open import open_store

    store = open_store(dataset)
    warn_data_problems(store)
    return store


def _source(dataset: Path | None) -> str:
    return str(dataset) if dataset is not None else "neo4j"


def _state_and_graph(dataset: Path | None) -> tuple[Any, nx.MultiDiGraph]:
    from graphguard.meeting.state import MeetingState

    store = _store(dataset)
    return MeetingState.open(store), role_graph(store)


def _state_only(dataset: Path | None) -> Any:
    """The meeting state, without reading the dataset (listing needs no graph)."""
    from graphguard.meeting.state import MeetingState
    from graphguard.store.open import open_store

    return MeetingState.open(dataset if dataset is not None else open_store(None))


def _key() -> bytes:
    from graphguard.settings import pseudonym_key

    return pseudonym_key()


def _emit(data: Any, output_format: str, text: str) -> None:
    import json

    from graphguard.privacy import neutral_text

    if output_format == "json":
        click.echo(neutral_text(json.dumps(data, indent=2, ensure_ascii=False)))
    else:
        click.echo(neutral_text(text))


@click.group("actions")
def actions() -> None:
    """Disruption actions the meeting agreed: record, review, measure displacement.

    Actions are kept with the data they are about: in Neo4j when it is the store, else
    in the workspace database in the state home, under the dataset.  Every change is
    audited.
    """


@actions.command("add")
@DATASET
@click.option(
    "--target", "target_id", required=True, help="The target's id, as on the target list."
)
@click.option(
    "--tactic",
    required=True,
    type=click.Choice(list(TACTICS), case_sensitive=False),
    help="The tactic, from the disruption toolkit the target list suggests from.",
)
@click.option(
    "--lead-agency",
    required=True,
    type=click.Choice(_AGENCIES, case_sensitive=False),
    help="The agency leading it.",
)
@click.option("--owner", required=True, help="Who carries it out (a practitioner or team).")
@click.option("--start", required=True, type=DATE, help="When it starts (YYYY-MM-DD).")
@click.option("--review", required=True, type=DATE, help="When the meeting reviews it.")
@click.option(
    "--status",
    type=click.Choice(_STATUSES),
    default="agreed",
    show_default=True,
    help="Where it stands.",
)
@click.option("--notes", help="Anything else the meeting recorded.")
def add(
    dataset: Path | None,
    target_id: str,
    tactic: str,
    lead_agency: str,
    owner: str,
    start: dt.date,
    review: dt.date,
    status: str,
    notes: str | None,
) -> None:
    """Record an action the meeting agreed against a target of DATASET (or of Neo4j).

    The target is an adult, location, vehicle or business of the target list, never
    a young person.  Young people's identifying values in free text are replaced
    (an id by its pseudonym) before anything is kept.
    """
    from graphguard.meeting.actions import add_action

    state, graph = _state_and_graph(dataset)
    action = add_action(
        state,
        graph,
        key=_key(),
        target_id=target_id,
        tactic=tactic,
        lead_agency=lead_agency,
        owner=owner,
        start=start,
        review=review,
        status=status,
        notes=notes,
        source=_source(dataset),
    )
    click.echo(
        f"Recorded {action.id}: {action.tactic_text.split(' (')[0]} against "
        f"{action.target_label}, led by {action.lead_agency} ({action.owner}), from "
        f"{action.start.isoformat()}, review {action.review.isoformat()}."
    )


@actions.command("update")
@click.argument("action_id")
@DATASET
@click.option("--status", type=click.Choice(_STATUSES), help="Where it stands now.")
@click.option("--outcome", help="What came of it.")
@click.option("--owner", help="A new owner.")
@click.option(
    "--lead-agency", type=click.Choice(_AGENCIES, case_sensitive=False), help="A new lead agency."
)
@click.option("--review", type=DATE, help="A new review date.")
@click.option("--notes", help="New notes (replacing the old).")
def update(
    action_id: str,
    dataset: Path | None,
    status: str | None,
    outcome: str | None,
    owner: str | None,
    lead_agency: str | None,
    review: dt.date | None,
    notes: str | None,
) -> None:
    """Change ACTION_ID: its status, outcome, owner, lead agency, review date or notes.

    Each change joins the action's history with who made it and when.
    """
    from graphguard.meeting.actions import update_action

    state, graph = _state_and_graph(dataset)
    action = update_action(
        state,
        graph,
        action_id,
        key=_key(),
        status=status,
        outcome=outcome,
        owner=owner,
        lead_agency=lead_agency,
        review=review,
        notes=notes,
        source=_source(dataset),
    )
    changed = ", ".join(sorted(action.history[-1]["changes"]))
    click.echo(f"Updated {action.id} ({changed}); status {action.status}.")


@actions.command("list")
@DATASET
@click.option("--due", "only_due", is_flag=True, help="Only actions overdue or due for review.")
@click.option(
    "--within",
    type=click.IntRange(0, 366),
    default=28,
    show_default=True,
    help="Days ahead an open action's review counts as due.",
)
@click.option("--today", type=DATE, help="The day to count from [default: today].")
@FORMAT
def list_(
    dataset: Path | None,
    only_due: bool,
    within: int,
    today: dt.date | None,
    output_format: str,
) -> None:
    """Every action of DATASET (or of Neo4j), overdue and due ones marked."""
    from graphguard.meeting.actions import list_actions

    state = _state_only(dataset)
    day = today or dt.date.today()
    found = list_actions(state)
    if only_due:
        found = [a for a in found if a.due_state(day, within)]
    rows = [{**a.as_dict(), "due": a.due_state(day, within)} for a in found]
    with audited(Event.VIEW_ACTIONS, source=_source(dataset), state=state.location, rows=len(rows)):
        _emit({"today": day.isoformat(), "actions": rows}, output_format, _render(rows, day))


def _render(rows: list[dict[str, Any]], day: dt.date) -> str:
    if not rows:
        return "No actions recorded."
    lines = [f"Actions (review due within the days counted from {day.isoformat()}):"]
    for row in rows:
        mark = {"overdue": "OVERDUE ", "due": "due "}.get(row["due"] or "", "")
        lines.append(
            f"  {row['id']} [{row['status']}] {mark}review {row['review']}: "
            f"{row['tactic_text'].split(' (')[0]} against {row['target_label']} "
            f"({row['target_id']}); lead {row['lead_agency']}, owner {row['owner']}; "
            f"from {row['start']}" + (f"; outcome: {row['outcome']}" if row["outcome"] else "")
        )
    return "\n".join(lines)


@actions.command("displacement")
@DATASET
@click.option(
    "--action",
    "action_ids",
    multiple=True,
    help="An action to measure (repeatable) [default: every action started before the end].",
)
@click.option("--end", type=DATE, help="The end of the later data [default: its latest date].")
@click.option(
    "--shareable", is_flag=True, help="Leave out records with handling code C before measuring."
)
@HALF_LIFE
@FORMAT
def displacement_(
    dataset: Path | None,
    action_ids: tuple[str, ...],
    end: dt.date | None,
    shareable: bool,
    half_life: float | None,
    output_format: str,
) -> None:
    """After each action's start, did exposure through its target stop or move elsewhere?

    Compares the same number of days before and after the start: exposure through
    the target, and the rise of the same young people's and adults' exposure through
    other adults, places and vehicles.  Young people appear only as counts and
    pseudonyms.
    """
    from graphguard.analysis.options import AnalysisOptions
    from graphguard.meeting.actions import get_action, list_actions
    from graphguard.meeting.displacement import displacements, latest_date

    state, graph = _state_and_graph(dataset)
    if action_ids:
        chosen = [get_action(state, action_id) for action_id in action_ids]
    else:
        last = end or latest_date(graph)
        chosen = [a for a in list_actions(state) if last is None or a.start <= last]
    options = AnalysisOptions.from_settings(half_life_days=half_life)
    key = _key()
    results = displacements(graph, chosen, key=key, end=end, options=options, shareable=shareable)
    with audited(
        Event.VIEW_DISPLACEMENT,
        source=_source(dataset),
        actions=[a.id for a in chosen],
        shareable=shareable,
    ):
        data = {"displacement": [r.as_dict() for r in results]}
        text = "\n".join(f"{r.verdict.upper()}: {r.finding}" for r in results)
        _emit(data, output_format, text or "No action has started yet.")


# ---------------------------------------------------------------------------- briefing


@click.command("briefing")
@DATASET
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The PDF to write, e.g. mace-2026-09.pdf.",
)
@FORCE
@click.option(
    "--shareable",
    is_flag=True,
    help="Withhold records with handling code C, and targets that rest only on them.",
)
@click.option(
    "--as-of", "as_of", type=DATE, help="The meeting's picture [default: the latest date]."
)
@click.option(
    "--since",
    type=DATE,
    help="The last meeting's picture, for what changed [default: a month before --as-of].",
)
@click.option(
    "--top",
    type=click.IntRange(1, 50),
    default=5,
    show_default=True,
    help="How many targets the pack shows.",
)
@HALF_LIFE
def briefing(
    dataset: Path | None,
    out: Path,
    force: bool,
    shareable: bool,
    as_of: dt.date | None,
    since: dt.date | None,
    top: int,
    half_life: float | None,
) -> None:
    """Write the meeting's briefing pack of DATASET (or of Neo4j) as a PDF.

    Summary, what changed since the last meeting, new alerts, the top targets with
    their evidence and tactics, agreed actions, a context assessment of each top
    place, actions due, and network pictures.  Pseudonymised like the target list;
    --shareable withholds handling code C as the target list does.
    """
    from graphguard.files import check_destination
    from graphguard.meeting.briefing import build_briefing, write_briefing

    if out.suffix.lower() != ".pdf":
        raise click.UsageError(f"--out {out}: the briefing pack is a .pdf file")
    destination = check_destination(out, force=force)
    from graphguard.meeting.state import MeetingState

    shareable = shareable or not sees_handling_c()  # such a role never holds code C
    store = _store(dataset)
    pack = build_briefing(
        role_graph(store),
        MeetingState.open(store),
        key=_key(),
        as_of=as_of,
        since=since,
        top=top,
        shareable=shareable,
        half_life_days=half_life,
        source=_source(dataset),
    )
    with audited(
        Event.EXPORT_BRIEFING,
        path=str(destination),
        shareable=shareable,
        as_of=pack.as_of.isoformat(),
        targets=len(pack.targets.rows),
        source=_source(dataset),
    ) as audit:
        pages = write_briefing(pack, destination)
        audit.note(pages=pages, subjects=pack.targets.subjects)
    handling = "shareable" if shareable else "includes handling code C: not for sharing as it is"
    click.echo(f"Wrote the briefing pack ({pages} pages, {handling}) to {out}.")
