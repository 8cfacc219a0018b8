"""``graphguard resolve``: join agency extracts into entities; record analysts' decisions.

``graphguard resolve DATASET --out DIR`` (the ``run`` subcommand, which a dataset
given straight after ``resolve`` stands for) writes ``entities.csv``,
``candidates.csv`` and ``summary.json``; ``graphguard resolve decide A B same|different``
appends an analyst's decision to the dataset's ``decisions.csv``.  Both are audited
before anything is written.  See docs/resolution.md.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from graphguard.audit import Event, audited
from graphguard.cli.base import DATA_PROBLEMS
from graphguard.cli.options import FORCE, FORMAT, PSEUDONYMISE
from graphguard.files import check_destination

__all__ = ["resolve"]


class _RunByDefault(click.Group):
    """A group whose first argument, when it names no subcommand, is ``run``'s DATASET."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group("resolve", cls=_RunByDefault)
def resolve() -> None:
    """Join agency extracts into people, places and vehicles, and record decisions.

    \b
    graphguard resolve DATASET --out DIR          (the same as `resolve run`)
    graphguard resolve decide A B same|different --reason TEXT --dataset DATASET
    """


def _records_and_resolution(dataset: Path) -> tuple[Any, Any, Any]:
    """The reading, its record-level dataset, and its resolution (made here for v1)."""
    from graphguard.ingest import read_dataset
    from graphguard.resolve import match_records

    result = read_dataset(dataset, collect_links=False)
    records = result.records
    resolution = result.dataset.resolution
    if resolution is None:
        resolution = match_records(records)
    return result, records, resolution


@resolve.command("run")
@click.argument("dataset", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for entities.csv, candidates.csv and summary.json (written as one set: "
    "a failed run leaves the previous set).",
)
@FORCE
@PSEUDONYMISE
@FORMAT
def run(dataset: Path, out_dir: Path, force: bool, pseudonymise: bool, output_format: str) -> None:
    """Resolve DATASET's records into entities; write them and the candidate pairs to --out.

    entities.csv has one row per record (entity_id, kind, record_id); candidates.csv
    one row per pair compared (record_a, record_b, kind, match_probability, outcome,
    agreements, rule), where outcome is joined, review (waiting for an analyst) or
    apart; summary.json the counts and settings, also printed.  Thresholds are the
    GRAPHGUARD_MATCH_* settings.  The files hold ids and words, never a name or a date
    of birth.  Exits 1 when rows of DATASET were rejected (the rest is resolved).
    """
    from graphguard.privacy import neutral_text, pseudonym
    from graphguard.resolve.outputs import render_summary, summarise, write_resolution

    destination = check_destination(out_dir, force=force)
    result, records, resolution = _records_and_resolution(dataset)
    rename = None
    if pseudonymise:
        from graphguard.settings import pseudonym_key

        key = pseudonym_key()
        young = {r for r, p in records.people.items() if p.role.value == "young_person"}

        def rename(record_id: str) -> str:
            return pseudonym(record_id, key) if record_id in young else record_id

    with audited(
        Event.RESOLVE, out=str(destination), dataset=str(dataset), pseudonymised=pseudonymise
    ) as action:
        paths = write_resolution(resolution, destination, rename=rename)
        action.note(
            records=len(resolution.entity_of), entities=len(set(resolution.entity_of.values()))
        )
    summary = summarise(resolution)
    if output_format == "json":
        click.echo(neutral_text(json.dumps(summary, indent=2, ensure_ascii=False)))
    else:
        click.echo(f"Wrote {', '.join(p.name for p in paths)} to {out_dir}.")
        click.echo(neutral_text(render_summary(summary)))
    if not result.ok:
        rows = result.rejected_rows
        click.echo(
            f"graphguard: warning: {rows} row{'s' if rows != 1 else ''} of {dataset} "
            "rejected or files unreadable; resolved the rest (see graphguard validate)",
            err=True,
        )
        click.get_current_context().meta[DATA_PROBLEMS] = True


@resolve.command("decide")
@click.argument("record_a")
@click.argument("record_b")
@click.argument("decision", type=click.Choice(["same", "different"], case_sensitive=False))
@click.option(
    "--reason",
    default=None,
    help="Why, in your words (kept in decisions.csv, not in the audit log).",
)
@click.option(
    "--dataset",
    "dataset",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="The v2 dataset folder whose decisions.csv gets the decision "
    "[default: GRAPHGUARD_DATASET].",
)
def decide(
    record_a: str, record_b: str, decision: str, reason: str | None, dataset: Path | None
) -> None:
    """Record that records A and B are the same entity, or different ones.

    A and B are qualified record ids (police:P001).  The decision is appended to the
    dataset's decisions.csv with you as decided_by and today as decided_on, audited
    first (no audit, no decision), and overrides the machine the next time the
    dataset is read.  A later decision on the same pair replaces this one.
    """
    from graphguard.errors import UsageError
    from graphguard.resolve.decisions import record_decision

    if dataset is None:
        configured = os.environ.get("GRAPHGUARD_DATASET")
        if not configured:
            raise UsageError("give --dataset DATASET (or set GRAPHGUARD_DATASET)")
        dataset = Path(configured)
    made = record_decision(dataset, record_a, record_b, decision, reason)
    verdict = "the same" if made.decision == "same" else "different"
    click.echo(
        f"Recorded: {made.record_a} and {made.record_b} are {verdict} "
        f"(decisions.csv line {made.line}, by {made.decided_by} on {made.decided_on})."
    )
