"""``graphguard review``: the retention review, keep decisions, purge and the deletion log.

``graphguard review [DATASET]`` (the ``list`` subcommand, which a dataset given
straight after ``review`` stands for) lists what is due; ``keep`` and ``restore``
record decisions; ``purge`` deletes what is due; ``log`` shows the deletion log and
``policy`` the rules in force.  ``graphguard subject-access`` writes what graphguard
holds about one person.  See docs/data-protection.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import click

from graphguard.cli.options import DATE, FORMAT
from graphguard.errors import UsageError

__all__ = ["review", "subject_access"]

_DATASET = click.argument("dataset", required=False, type=click.Path(exists=True, path_type=Path))
_AS_OF = click.option(
    "--as-of",
    "as_of",
    type=DATE,
    default=None,
    help="Judge what is due on DATE (YYYY-MM-DD) [default: today].",
)


class _ListByDefault(click.Group):
    """A group whose first argument, when it names no subcommand, is ``list``'s DATASET."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["list", *args]
        return super().parse_args(ctx, args)


def _dataset(dataset: Path | None) -> Path:
    if dataset is not None:
        return dataset
    configured = os.environ.get("GRAPHGUARD_DATASET")
    if not configured:
        raise UsageError(
            "give DATASET (the extract the records came from, also what Neo4j was loaded "
            "from) or set GRAPHGUARD_DATASET"
        )
    path = Path(configured)
    if not path.exists():
        raise UsageError(f"GRAPHGUARD_DATASET names {path}, which does not exist")
    return path


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise UsageError("--reason must say why, in words")
    return reason


@click.group("review", cls=_ListByDefault)
def review() -> None:
    """Retention review: what is due, keep decisions, purge, the deletion log.

    \b
    graphguard review [DATASET]                      (the same as `review list`)
    graphguard review keep RECORD --until DATE --reason TEXT
    graphguard review restore RECORD --reason TEXT
    graphguard review purge [DATASET] [--dry-run]
    graphguard review log
    graphguard review policy
    """


@review.command("list")
@_DATASET
@_AS_OF
@click.option("--all", "show_all", is_flag=True, help="List every record, not only those due.")
@FORMAT
def list_due(
    dataset: Path | None, as_of: dt.date | None, show_all: bool, output_format: str
) -> None:
    """List DATASET's records due for review: record, rule, review date and why.

    Young people's records are named by pseudonym.  A record kept by a decision is
    due again when the decision runs out.  DATASET defaults to GRAPHGUARD_DATASET.
    """
    from graphguard.audit import Event, audited
    from graphguard.ingest import read_dataset
    from graphguard.retention import keep_decisions, load_policy, review_records
    from graphguard.settings import pseudonym_key

    path = _dataset(dataset)
    today = as_of or dt.date.today()
    policy = load_policy()
    # The review reads records, not entities: no need to resolve a v2 extract.
    result = read_dataset(path, resolve=False)
    reviews = review_records(result, policy, pseudonym_key(), kept=keep_decisions(), today=today)
    shown = [r for r in reviews if show_all or r.due(today)]
    with audited(
        Event.RETENTION_REVIEW, dataset=str(path.resolve()), as_of=today.isoformat()
    ) as action:
        action.note(rows=len(shown))
        if output_format == "json":
            click.echo(json.dumps([r.as_dict() | {"due": r.due(today)} for r in shown], indent=2))
            return
        due = sum(1 for r in reviews if r.due(today))
        click.echo(
            f"{due} of {len(reviews)} records due for review on {today.isoformat()} "
            f"(policy: {policy.origin})."
        )
        for r in shown:
            kept = f" kept until {r.kept.until}" if r.kept and r.kept.until else ""
            click.echo(
                f"{r.ref}\t{r.kind}\t{r.rule.name}\t{r.review_on.isoformat()}{kept}\t{r.why}"
            )


@review.command("keep")
@click.argument("record")
@click.option("--until", "until", type=DATE, required=True, help="Keep it until DATE (YYYY-MM-DD).")
@click.option(
    "--reason",
    required=True,
    help="Why it must be kept longer (kept in the workspace; the audit keeps its hash).",
)
@click.option(
    "--dataset",
    "dataset",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Check RECORD against this dataset's records [default: GRAPHGUARD_DATASET, if set].",
)
def keep(record: str, until: dt.date, reason: str, dataset: Path | None) -> None:
    """Record a decision to keep RECORD past its review date, until DATE.

    RECORD is as `graphguard review` lists it (a young person's by pseudonym; their
    record id is taken too when the dataset is known).  A later decision on the same
    record replaces this one.
    """
    from graphguard.audit import Event, audited
    from graphguard.retention import record_decision

    reason = _reason(reason)
    if until <= dt.date.today():
        raise UsageError(f"--until {until.isoformat()} is not in the future")
    ref = _checked_ref(record, dataset)
    with audited(
        Event.RETENTION_KEEP, record=ref, until=until.isoformat(), reason_sha256=_sha256(reason)
    ):
        made = record_decision(ref, "keep", reason, until=until)
    click.echo(
        f"Recorded: keep {ref} until {until.isoformat()} "
        f"(decision {made.seq}, by {made.decided_by})."
    )


def _checked_ref(record: str, dataset: Path | None) -> str:
    """RECORD as the review names it, checked against the dataset when one is known."""
    from graphguard.ingest import read_dataset
    from graphguard.model import Person, Role
    from graphguard.retention import record_ref
    from graphguard.settings import pseudonym_key

    configured = os.environ.get("GRAPHGUARD_DATASET")
    path = dataset or (Path(configured) if configured else None)
    if path is None:
        return record
    records = read_dataset(path, resolve=False).records
    key = pseudonym_key()
    if any(link.link_id == record for link in records.links):
        return record
    for entity in records.entities():
        young = isinstance(entity, Person) and entity.role is Role.YOUNG_PERSON
        ref = record_ref(entity.id, young, key, qualified=records.version == 2)
        if record in (entity.id, ref):
            return ref
    raise UsageError(f"{path} holds no record {record!r} (give it as `graphguard review` lists it)")


@review.command("restore")
@click.argument("record")
@click.option(
    "--reason",
    required=True,
    help="Why the deleted record may come back (kept in the workspace; the audit keeps its hash).",
)
def restore(record: str, reason: str) -> None:
    """Let a deleted RECORD back in: the next reading of an extract that holds it keeps it.

    RECORD is as the deletion log names it (`graphguard review log`).  The deletion
    stays in the log; the restore is recorded beside it.
    """
    from graphguard.audit import Event, audited
    from graphguard.retention import held_back, record_decision

    reason = _reason(reason)
    held = held_back()
    if record not in held:
        raise UsageError(f"{record} is not held back (see `graphguard review log`)")
    with audited(Event.RETENTION_RESTORE, record=record, reason_sha256=_sha256(reason)):
        made = record_decision(record, "restore", reason)
    click.echo(
        f"Restored: {record} (deleted on {held[record].deleted_on} under rule "
        f"{held[record].rule}) is no longer held back (decision {made.seq})."
    )


@review.command("purge")
@_DATASET
@_AS_OF
@click.option("--dry-run", is_flag=True, help="Say what would be deleted, and delete nothing.")
@FORMAT
def purge(dataset: Path | None, as_of: dt.date | None, dry_run: bool, output_format: str) -> None:
    """Delete DATASET's records past review and not kept, from everywhere graphguard keeps them.

    Neo4j (when NEO4J_URI is set), the meeting state, the dashboard's cache, resolve
    outputs and the identity store; each deletion goes in the deletion log first (no
    log, no deletion), and the records are held back whenever an extract holds them
    again.  The dataset's own files are the agencies': they are not changed.
    """
    from graphguard.retention.purge import plan_purge, plan_summary
    from graphguard.retention.purge import purge as run_purge

    plan = plan_purge(_dataset(dataset), today=as_of)
    if dry_run:
        summary = plan_summary(plan)
        if output_format == "json":
            click.echo(json.dumps(summary, indent=2))
            return
        click.echo(
            f"Would delete {summary['due']} records ({_by_rule(summary['by_rule'])}); "
            f"{summary['entities_gone']} entities would go. Nothing was deleted."
        )
        for r in plan.due:
            click.echo(f"{r.ref}\t{r.kind}\t{r.rule.name}\t{r.review_on.isoformat()}")
        return
    report = run_purge(plan)
    if output_format == "json":
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    if not report.deletions:
        click.echo("Nothing is past review: nothing was deleted.")
        return
    places = [f"{len(report.deletions)} records in the deletion log"]
    if report.neo4j is not None:
        places.append(
            f"Neo4j: {report.neo4j['relationships_deleted']} links and "
            f"{report.neo4j['nodes_deleted']} nodes"
        )
    places.append(f"{report.alerts} alerts and {report.actions} actions rewritten")
    places.append(f"{report.cache_entries} dashboard cache entries")
    places.append(f"{len(report.resolve_outputs)} resolve outputs")
    places.append(
        "identity store: none yet"
        if report.identities is None
        else f"identity store: {report.identities}"
    )
    click.echo("Purged: " + "; ".join(places) + ".")
    for output in report.resolve_outputs:
        click.echo(f"  {output}")


def _by_rule(by_rule: dict[str, int]) -> str:
    return ", ".join(f"{count} under {rule}" for rule, count in by_rule.items()) or "none"


@review.command("log")
@FORMAT
def log(output_format: str) -> None:
    """Show the deletion log: each record deleted, its rule, who deleted it and when.

    Never the deleted content.  A record restored since is marked so.
    """
    from graphguard.retention import deletions, held_back

    held = held_back()
    lines = deletions()
    if output_format == "json":
        click.echo(
            json.dumps(
                [d.as_dict() | {"held_back": held.get(d.record) == d} for d in lines], indent=2
            )
        )
        return
    if not lines:
        click.echo("The deletion log is empty.")
        return
    for d in lines:
        state = "held back" if held.get(d.record) == d else "restored or deleted again"
        click.echo(
            f"{d.deleted_at}\t{d.record}\t{d.kind}\t{d.rule}\t{d.deleted_by} ({d.role})\t{state}"
        )


@review.command("policy")
@FORMAT
def policy(output_format: str) -> None:
    """Show the retention policy in force: where it comes from, and each rule and why."""
    from graphguard.retention import load_policy

    found = load_policy()
    rules: list[dict[str, Any]] = [
        {
            "name": r.name,
            "line": r.line,
            "agency": sorted(r.agencies),
            "source": sorted(r.sources),
            "link_type": sorted(r.link_types),
            "category": sorted(r.categories),
            "age_at_time": r.age_at_time,
            "review_after": str(r.review_after),
            "until_age": r.until_age,
            "reason": r.reason,
        }
        for r in found.rules
    ]
    if output_format == "json":
        click.echo(json.dumps({"origin": found.origin, "rules": rules}, indent=2))
        return
    click.echo(f"Retention policy: {found.origin} (first matching rule wins).")
    for rule, row in zip(found.rules, rules, strict=True):
        scope = ", ".join(
            f"{name}={'/'.join(row[name])}"
            for name in ("agency", "source", "link_type", "category")
            if row[name]
        )
        if rule.age_at_time:
            scope = f"{scope}, age_at_time={rule.age_at_time}".lstrip(", ")
        click.echo(f"{rule.describe()}\t{scope or 'every record'}\t{rule.reason}")


@click.command("subject-access")
@click.argument("entity")
@_DATASET
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the pack (README.txt, summary.json, records.json, derived.json, "
    "disclosures.json), written as one set.",
)
@click.option("--force", is_flag=True, help="Replace an earlier pack in --out.")
def subject_access(entity: str, dataset: Path | None, out_dir: Path, force: bool) -> None:
    """Write everything graphguard holds about one person to --out (a subject-access pack).

    ENTITY is an entity id, a record id (police:P001) or a young person's pseudonym.
    The pack holds every record about them with its provenance, every score and
    explanation that used it, the alerts and actions naming them, and every disclosure
    of them in the audit log.  Other young people appear by pseudonym only, other
    adults as [third party].  DATASET defaults to GRAPHGUARD_DATASET.  Audited.
    """
    from graphguard.audit import Event, audited, read_audit
    from graphguard.files import check_destination
    from graphguard.ingest import read_dataset
    from graphguard.meeting.state import MeetingState
    from graphguard.settings import pseudonym_key
    from graphguard.subject_access import build_pack, write_pack

    path = _dataset(dataset)
    destination = check_destination(out_dir, force=force)
    key = pseudonym_key()
    result = read_dataset(path)
    state = MeetingState.open(path, notice=lambda _line: None)
    meeting = {kind: state.records(kind) for kind in ("alert", "action")}
    pack = build_pack(result, entity, key=key, audit_lines=read_audit(), meeting=meeting)
    with audited(
        Event.SUBJECT_ACCESS,
        subjects=[pack.subject],
        out=str(destination),
        dataset=str(path.resolve()),
    ) as action:
        write_pack(pack, destination)
        action.note(
            records=pack.summary["records"],
            links=pack.summary["links"],
            disclosures=pack.summary["disclosures"],
        )
    click.echo(
        f"Wrote the subject-access pack of {pack.subject} ({pack.kind}) to {out_dir}: "
        f"{pack.summary['records']} records, {pack.summary['links']} links, "
        f"{pack.summary['disclosures']} disclosures."
    )
