"""Monthly-meeting commands: ``changes``, ``watch`` and ``alerts list|ack|dismiss|action``.

A thin layer over :mod:`graphguard.meeting.changes` and :mod:`graphguard.meeting.watch`.
Each command reads DATASET (or Neo4j, when no DATASET is given and ``NEO4J_URI`` is
set).  Alerts are kept in the meeting state of that data (Neo4j, or the state home);
every view and every change of state is audited first, and nothing is shown or kept
when the audit cannot be written.  Young people appear only as keyed pseudonyms in
alerts and in the young people newly exposed.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from graphguard.audit import Event, acting_user, audited
from graphguard.cli.base import role_graph, sees_everything, warn_data_problems
from graphguard.cli.options import DATASET, DATE, FORCE, FORMAT, HALF_LIFE, PSEUDONYMISE
from graphguard.errors import UsageError
from graphguard.files import check_destination, write_text
from graphguard.privacy import YoungPersonScrubber, neutral_text, pseudonym, withhold_unseen

__all__ = ["changes", "watch", "alerts", "report_watch"]


def _key() -> bytes:
    from graphguard.settings import pseudonym_key

    return pseudonym_key()


def _store(dataset: Path | None) -> tuple[Any, str]:
    from graphguard.store.open import open_store

    store = open_store(dataset)
    warn_data_problems(store)
    return store, str(dataset) if dataset is not None else "neo4j"


def _state(store: Any, dataset: Path | None) -> Any:
    from graphguard.meeting.state import MeetingState

    return MeetingState.open(store if dataset is None else dataset)


def _emit(text: str, out: Path | None, force: bool) -> None:
    """Print ``text``, or write it atomically to ``out``."""
    if out is None:
        click.echo(neutral_text(text))
        return
    destination = check_destination(out, force=force)
    write_text(destination, text + "\n")
    click.echo(f"Wrote {out}.")


_OUT = click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of stdout (atomically).",
)


# --------------------------------------------------------------------------- changes


@click.command("changes")
@DATASET
@click.option(
    "--from", "date_from", type=DATE, required=True, help="The earlier picture (YYYY-MM-DD)."
)
@click.option(
    "--to",
    "date_to",
    type=DATE,
    default=None,
    help="The later picture (YYYY-MM-DD) [default: the latest date in the data].",
)
@HALF_LIFE
@FORMAT
@_OUT
@FORCE
@PSEUDONYMISE
def changes(
    dataset: Path | None,
    date_from: dt.date,
    date_to: dt.date | None,
    half_life: float | None,
    output_format: str,
    out: Path | None,
    force: bool,
    pseudonymise: bool,
) -> None:
    """What changed in DATASET (or Neo4j) between the pictures of --from and --to.

    Each picture is the analysis as of its date under the same options, so scores
    compare: adults and contexts new, rising, falling or no longer of concern (with
    the new links that made the difference), activity that moved from a context gone
    quiet to a new one, young people newly exposed (counted, by pseudonym only), new
    links of concern (found after missing, alleged harm, contact between an adult of
    concern and a young person) and peer groups that gained or lost members.
    """
    from graphguard.analysis.options import AnalysisOptions
    from graphguard.meeting.changes import compare
    from graphguard.store.base import Filters

    options = AnalysisOptions.from_settings(half_life_days=half_life)
    store, source = _store(dataset)
    if date_to is not None and date_from >= date_to:
        raise UsageError(f"--from {date_from} must be before --to {date_to}")
    key = _key()
    graph_to = role_graph(store, Filters(as_of=date_to))
    try:
        report = compare(
            role_graph(store, Filters(as_of=date_from)),
            graph_to,
            options=options,
            date_from=date_from,
            date_to=date_to,
            pseudonymise=lambda y: pseudonym(y, key),
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    data = report.as_dict()
    replace = (lambda y: pseudonym(y, key)) if pseudonymise else None
    data = YoungPersonScrubber.from_graph(graph_to, replace_id=replace, ids=pseudonymise).scrub(
        data
    )
    text = (
        json.dumps(data, indent=2, ensure_ascii=False)
        if output_format == "json"
        else render_changes(data)
    )
    with audited(
        Event.CHANGES,
        source=source,
        date_from=data["from"],
        date_to=data["to"],
        path=str(out) if out else None,
        pseudonymised=pseudonymise,
    ):
        _emit(text, out, force)


def render_changes(data: dict[str, Any]) -> str:
    """The readable form of a changes report (``--format text``)."""
    summary = data["summary"]
    lines = [
        f"What changed from {data['from']} to {data['to']} "
        f"({summary['new_links']} new link{'s' if summary['new_links'] != 1 else ''})"
    ]

    def section(title: str, rows: list[str]) -> None:
        lines.append("")
        lines.append(f"{title}:" if rows else f"{title}: none")
        lines.extend(f"  {row}" for row in rows)

    section("Adults", [f"{c['id']} {c['reason']}" for c in data["adults"]])
    section("Contexts", [f"{c['label']} {c['reason']}" for c in data["contexts"]])
    section("Moves", [m["reason"] for m in data["moves"]])
    exposed = data["young_people_newly_exposed"]
    section(
        f"Young people newly exposed ({len(exposed)})",
        [
            f"{y['young_person']}: exposure {y['exposure']:.2f} through "
            f"{', '.join(y['adults'])} (links {', '.join(y['links'])})"
            for y in exposed
        ],
    )
    section(
        "New links of concern",
        [
            f"{link['link_id']} {link['type']} {link['source']} -> {link['target']} "
            f"{link['first_seen']}: {link['reason']}"
            for link in data["new_links_of_concern"]
        ],
    )
    section(
        "Peer groups",
        [
            f"{g['group_from'] or '-'} -> {g['group_to'] or '-'} ({g['change']}, "
            f"{g['size_from']} -> {g['size_to']}): joined {', '.join(g['joined']) or 'none'}; "
            f"left {', '.join(g['left']) or 'none'}"
            for g in data["groups"]
        ],
    )
    return "\n".join(lines)


# --------------------------------------------------------------------------- watch


@click.command("watch")
@DATASET
@click.option(
    "--as-of",
    "as_of",
    type=DATE,
    help="Run the rules on the picture of DATE (YYYY-MM-DD) [default: the latest date in "
    "the data].",
)
@click.option(
    "--since",
    "since",
    type=DATE,
    help="Links first seen after DATE are new [default: 31 days before the picture].",
)
@HALF_LIFE
@FORMAT
def watch(
    dataset: Path | None,
    as_of: dt.date | None,
    since: dt.date | None,
    half_life: float | None,
    output_format: str,
) -> None:
    """Run the watch rules of cypher/alerts on DATASET (or Neo4j) and keep new alerts.

    Each alert carries its evidence (link ids) and is raised once: running again, or
    after the next load, raises only what is new.  In Neo4j the rules run as Cypher;
    on a dataset the same rules are evaluated in Python.  `graphguard alerts list`
    shows the inbox.
    """
    from graphguard.analysis.options import AnalysisOptions

    options = AnalysisOptions.from_settings(as_of=as_of, half_life_days=half_life)
    store, source = _store(dataset)
    report_watch(store, _state(store, dataset), options, since, source, output_format)


def report_watch(
    store: Any,
    state: Any,
    options: Any,
    since: dt.date | None,
    source: str,
    output_format: str = "text",
) -> None:
    """Run the watch rules and say what was raised (also after ``graphguard load``)."""
    from graphguard.meeting.watch import run_watch

    run = run_watch(store, state=state, options=options, since=since, source=source)
    if output_format == "json":
        data = {
            "as_of": run.as_of.isoformat(),
            "since": run.since.isoformat(),
            "backend": run.backend,
            "raised": run.raised,
            "already_raised": run.already,
        }
        click.echo(neutral_text(json.dumps(data, indent=2, ensure_ascii=False)))
        return
    count = len(run.raised)
    click.echo(
        f"Watch rules ({run.backend}) on the picture of {run.as_of.isoformat()}, links new "
        f"since {run.since.isoformat()}: {count} new alert{'s' if count != 1 else ''}"
        + (f", {run.already} raised before" if run.already else "")
        + "."
    )
    for alert in run.raised:
        click.echo(neutral_text(f"  {alert['key']} {alert['rule']}: {alert['explanation']}"))


# --------------------------------------------------------------------------- alerts


@click.group("alerts")
def alerts() -> None:
    """The alert inbox: list alerts, acknowledge, dismiss (with a reason) or action them.

    Alerts are kept with the data (in Neo4j when no DATASET is given, else in the
    state home); every change of state is audited with who made it.
    """


@alerts.command("list")
@DATASET
@click.option(
    "--state",
    "states",
    type=click.Choice(["new", "acknowledged", "dismissed", "actioned", "all"]),
    multiple=True,
    help="Only alerts in this state (repeatable) [default: new and acknowledged].",
)
@FORMAT
def alerts_list(dataset: Path | None, states: tuple[str, ...], output_format: str) -> None:
    """The alerts of DATASET (or Neo4j), newest picture first."""
    from graphguard.meeting.watch import alerts as kept_alerts

    store, source = _store(dataset)
    state = _state(store, dataset)
    wanted = None if "all" in states else (states or ("new", "acknowledged"))
    rows = kept_alerts(state, states=wanted)
    if not sees_everything():
        rows = withhold_unseen(rows, role_graph(store))
    with audited(Event.ALERTS, source=source, rows=len(rows), states=list(wanted or ["all"])):
        if output_format == "json":
            click.echo(neutral_text(json.dumps(rows, indent=2, ensure_ascii=False)))
            return
        if not rows:
            click.echo("No alerts.")
        for alert in rows:
            click.echo(
                neutral_text(
                    f"{alert['key']}  {alert['state']:<12} {alert['raised_on']}  "
                    f"{alert['rule']}: {alert['explanation']}"
                )
            )


def _change(dataset: Path | None, key: str, to: str, reason: str | None) -> None:
    from graphguard.meeting.watch import change_state

    store, source = _store(dataset)
    secret = _key()
    # The reason is kept and shown: a young person it names is kept as their pseudonym.
    scrub = YoungPersonScrubber.from_graph(store.graph(), replace_id=lambda y: pseudonym(y, secret))
    alert = change_state(
        _state(store, dataset),
        key,
        to,
        user=acting_user(),
        scrub=scrub,
        reason=reason,
        source=source,
    )
    click.echo(f"Alert {alert['key']} is now {to}.")


_KEY = click.argument("key")


@alerts.command("ack")
@_KEY
@DATASET
def alerts_ack(key: str, dataset: Path | None) -> None:
    """Acknowledge alert KEY (seen, being looked at)."""
    _change(dataset, key, "acknowledged", None)


@alerts.command("dismiss")
@_KEY
@DATASET
@click.option("--reason", required=True, help="Why the alert needs nothing done (required).")
def alerts_dismiss(key: str, dataset: Path | None, reason: str) -> None:
    """Dismiss alert KEY, saying why."""
    _change(dataset, key, "dismissed", reason)


@alerts.command("action")
@_KEY
@DATASET
@click.option("--note", "note", help="What was done: an action id, a referral, a tactic.")
def alerts_action(key: str, dataset: Path | None, note: str | None) -> None:
    """Mark alert KEY actioned."""
    _change(dataset, key, "actioned", note)
