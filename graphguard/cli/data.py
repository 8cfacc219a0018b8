"""Data commands: ``validate``, ``synth``, ``analyse``, ``load`` and ``check``."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from graphguard.audit import Event, audited
from graphguard.cli.base import role_graph, warn_data_problems
from graphguard.cli.options import AS_OF, FORCE, FORMAT, HALF_LIFE, REJECTS
from graphguard.errors import DataError, UsageError
from graphguard.files import check_destination

__all__ = ["analyse", "check", "load", "synth", "validate"]


# --------------------------------------------------------------------------- validate


@click.command()
@click.argument("dataset", type=click.Path(path_type=Path))
@REJECTS
@FORCE
@FORMAT
def validate(dataset: Path, rejects_path: Path | None, force: bool, output_format: str) -> None:
    """Check DATASET (a folder of CSVs or an .xlsx workbook) against the input format.

    DATASET may also be a folder of agency extracts (input format v2: one subfolder
    per source, with sources.csv and decisions.csv); the report is then per source.
    Exits 0 when every row is valid and 1 when any row was rejected or a file could
    not be read.  What was read all the same but is not quite the format (an encoding
    other than UTF-8, semicolons between cells, a title above the header) is printed
    as a warning and does not change the exit code.
    """
    from graphguard.ingest import read_dataset

    destination = check_destination(rejects_path, force=force, option="--rejects")
    # Records only: checking the format needs no entity resolution.
    result = read_dataset(dataset, collect_links=False, resolve=False)
    _write_rejects(result, dataset, destination)
    if output_format == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        _print_report(result, rejects_path)
    if not result.ok:
        sys.exit(1)


def _print_report(result: Any, rejects_path: Path | None) -> None:
    for warning in result.warnings:
        click.echo(f"warning: {warning}")
    if result.records.version == 2:
        _print_sources(result)
    else:
        for report in result.files.values():
            _print_file(report)
    for reject in result.rejects:
        click.echo(str(reject))
    if result.ok:
        click.echo("All rows valid.")
    else:
        rows = result.rejected_rows
        errors = len(result.file_errors)
        parts = []
        if rows:
            parts.append(f"{rows} row{'s' if rows != 1 else ''} rejected")
        if errors:
            parts.append(f"{errors} file{'s' if errors != 1 else ''} could not be read")
        where = f"; rejected rows written to {rejects_path}" if rejects_path and rows else ""
        click.echo(", ".join(parts) + where + ".")


def _print_file(report: Any, indent: str = "") -> None:
    if not report.present:
        return
    if report.error:
        click.echo(f"{indent}{report.file}: ERROR {report.error}")
    else:
        click.echo(
            f"{indent}{report.file}: {report.rows} rows, {report.accepted} accepted, "
            f"{report.rejected} rejected"
        )
    for warning in report.warnings:
        click.echo(f"{indent}{report.file}: warning: {warning}")


def _print_sources(result: Any) -> None:
    """A v2 report: sources.csv, then each source's totals and its files, then decisions.csv."""
    if "sources" in result.files:
        _print_file(result.files["sources"])
    summary = result.source_summary()
    by_source: dict[str, list[Any]] = {}
    for report in result.files.values():
        if report.source is not None:
            by_source.setdefault(report.source, []).append(report)
    for source, reports in by_source.items():
        totals = summary.get(source)
        if totals is not None and source in result.records.sources:
            said = [f"agency {totals['agency']}"] if totals["agency"] else []
            if totals["extracted_on"]:
                said.append(f"extracted {totals['extracted_on']}")
            about = f" ({', '.join(said)})" if said else ""
            click.echo(
                f"{source}{about}: {totals['rows']} rows, {totals['accepted']} accepted, "
                f"{totals['rejected']} rejected"
            )
            for report in reports:
                _print_file(report, indent="  ")
        else:
            for report in reports:
                _print_file(report)
    if "decisions" in result.files:
        _print_file(result.files["decisions"])


def _write_rejects(result: Any, dataset: Path, destination: Path | None) -> None:
    """Write the rejected rows (which hold what the agencies sent) to --rejects, audited."""
    if destination is None:
        return
    from graphguard.ingest import write_rejects

    with audited(Event.EXPORT_REJECTS, path=str(destination), dataset=str(dataset)) as action:
        action.note(rows=write_rejects(result.rejects, destination))


# --------------------------------------------------------------------------- synth


@click.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--young-people",
    "young_people",
    type=click.IntRange(100, 1_000_000),
    default=500,
    show_default=True,
    help="How many young people the town has (about ten links each).",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Random seed: same seed, same town."
)
@click.option(
    "--agencies",
    is_flag=True,
    help="Write the town as the agencies would send it (input format v2: one extract per "
    "agency, own ids, noise and traps), with truth.csv saying which records are the same.",
)
def synth(out: Path, young_people: int, seed: int, agencies: bool) -> None:
    """Write a seeded synthetic town to OUT in the input format (for demos, tests, benchmarks)."""
    from tqdm import tqdm

    from graphguard.synth import write_town
    from graphguard.synth_agencies import SOURCES, write_agencies

    with tqdm(desc="writing links", unit=" links", disable=None, file=sys.stderr) as bar:

        def written(total: int) -> None:
            bar.update(total - bar.n)

        if agencies:
            split = write_agencies(out, young_people, seed, progress=written)
            said = (
                f"as agency extracts to {out}: {len(split.records)} records in "
                f"{len(SOURCES)} sources; truth.csv says which are the same"
            )
        else:
            truth = write_town(out, young_people, seed, progress=written)
            said = f"to {out}: " + ", ".join(f"{n} {name}" for name, n in truth.counts.items())
    click.echo(f"Wrote a synthetic town {said}.")


# --------------------------------------------------------------------------- analyse


@click.command()
@click.argument("dataset", required=False, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for hubs.json, contexts.json, groups.json, measures.csv, summary.json "
    "(written as one set: a failed run leaves the previous set).",
)
@FORCE
@AS_OF
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of peer-group detection and sampled measures.",
)
@HALF_LIFE
def analyse(
    dataset: Path | None,
    out_dir: Path,
    force: bool,
    as_of: dt.date | None,
    seed: int,
    half_life: float | None,
) -> None:
    """Find peer groups, perpetrator-centred hubs and risky contexts; write them to --out.

    Reads DATASET, or Neo4j (NEO4J_URI) when no DATASET is given.  Every ranking
    comes with its score components and a plain-English explanation citing the
    evidence; the same data and seed give identical files.  An --out folder that
    already holds outputs needs --force.
    """
    from graphguard.analysis import AnalysisOptions, write_outputs
    from graphguard.analysis import analyse as run_analysis
    from graphguard.store.base import Filters
    from graphguard.store.open import open_store

    destination = check_destination(out_dir, force=force)
    store = open_store(dataset)
    warn_data_problems(store)
    options = AnalysisOptions.from_settings(as_of=as_of, seed=seed, half_life_days=half_life)
    # --as-of is the picture as it stood then: later links are left out, not only weighed.
    graph = role_graph(store, Filters(as_of=options.as_of))
    del store  # the graph holds all the analysis reads: the records need not stay in memory
    result = run_analysis(graph, options)
    with audited(
        Event.ANALYSE,
        out=str(destination),
        source=str(dataset) if dataset is not None else "neo4j",
        as_of=result.summary.get("as_of"),
        seed=seed,
    ):
        paths = write_outputs(result, destination)
    click.echo(f"Wrote {', '.join(p.name for p in paths)} to {out_dir}.")
    for hub in result.hubs[:3]:
        click.echo(f"  hub {hub.rank}: {hub.id} (score {hub.score:.2f})")
    for context in result.contexts[:3]:
        click.echo(f"  context {context.rank}: {context.id} (score {context.score:.2f})")


# --------------------------------------------------------------------------- load

#: ``--wait SECONDS``: how long a writer waits while another holds the load lock.
WAIT = click.option(
    "--wait",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    default=60.0,
    show_default=True,
    help="Seconds to wait while another load holds the database's load lock; then the "
    "command is refused (exit 3) naming who holds it.",
)


def _say_what_was_read(result: Any) -> None:
    """On stderr: the warnings about how the files were read, then the unreadable files."""
    for warning in result.warnings:
        click.echo(f"graphguard: warning: {warning}", err=True)
    for report in result.files.values():
        for warning in report.warnings:
            click.echo(f"graphguard: warning: {report.file}: {warning}", err=True)
    for unreadable in result.file_errors:
        click.echo(f"graphguard: {unreadable.error}", err=True)


def _notice(line: str) -> None:
    click.echo(f"graphguard: {line}", err=True)


@click.command()
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option(
    "--batch-size",
    type=click.IntRange(1, 1_000_000),
    default=None,
    help="Rows per write transaction [default: GRAPHGUARD_BATCH_SIZE or 5000].",
)
@REJECTS
@FORCE
@click.option(
    "--prune",
    is_flag=True,
    help="Make Neo4j hold exactly DATASET: delete entities, records and links it does not contain "
    "(refused when any row was rejected, so nothing is deleted by mistake).",
)
@WAIT
@click.option(
    "--initial",
    is_flag=True,
    help="First load into an empty database through `neo4j-admin database import` "
    "(offline: the local server is stopped, the import run, the server started again); "
    "refused on a database that holds data or a server graphguard does not manage.",
)
@click.option(
    "--data-dir",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="With --initial: the data directory of the local Neo4j "
    "(as given to `graphguard neo4j start`) [default: .graphguard/neo4j].",
)
@click.option(
    "--watch/--no-watch",
    "watch_after_load",
    default=True,
    show_default=True,
    help="Run the watch rules (cypher/alerts) after the load and keep new alerts.",
)
def load(
    dataset: Path,
    batch_size: int | None,
    rejects_path: Path | None,
    force: bool,
    prune: bool,
    wait: float,
    initial: bool,
    data_dir: Path | None,
    watch_after_load: bool,
) -> None:
    """Validate DATASET and load its valid rows into Neo4j (NEO4J_URI), idempotently.

    Every entity, record and link carries a content hash, so a load writes only what
    changed and says, per kind, how many were added, changed, removed and unchanged:
    loading the same data again writes nothing.  Agency extracts (format v2) are
    loaded as resolved entities with their source records, so after a match decision
    only the records and links that moved are rewritten.  One load at a time writes to
    a database (a second waits up to --wait seconds); a link id is held by one
    relationship, whatever its type.  Exits 1 when rows were rejected (the valid rows
    are still loaded).
    """
    from tqdm import tqdm

    from graphguard.audit import acting_user
    from graphguard.ingest import read_dataset
    from graphguard.store.open import open_neo4j

    destination = check_destination(rejects_path, force=force, option="--rejects")
    result = read_dataset(dataset)
    _say_what_was_read(result)
    _write_rejects(result, dataset, destination)
    if prune and not result.ok:
        raise DataError(
            "--prune refused: rows were rejected or files unreadable, and pruning would "
            "delete what they held; fix them (see `graphguard validate`) or load without --prune"
        )
    if data_dir is not None and not initial:
        raise UsageError("--data-dir is for --initial only")
    if initial and prune:
        raise UsageError("--initial loads into an empty database: --prune has nothing to do")
    store = open_neo4j(batch_size=batch_size)
    records = _records_of(result)
    if initial:
        _initial_load(store, result.dataset, records, data_dir, wait, dataset, result)
        if watch_after_load:
            _watch_after_load(store)
        if not result.ok:
            sys.exit(1)
        return
    total = len(result.dataset) + (len(records) if records is not None else 0)
    with tqdm(total=total, desc="loading", unit=" rows", disable=None, file=sys.stderr) as bar:
        report = store.load(
            result.dataset,
            records=records,
            progress=bar.update,
            prune=prune,
            wait=wait,
            user=acting_user(),
            notice=_notice,
            purpose=f"load {dataset}",
        )
    click.echo(_load_summary(report, dataset, result.rejected_rows, records is not None))
    if watch_after_load:
        _watch_after_load(store)
    if report.duplicates_left:
        _notice(
            f"warning: {len(report.duplicates_left)} link ids not in {dataset} are held by "
            f"more than one relationship ({_some(report.duplicates_left)}); "
            f"`graphguard check {dataset} --repair` or `load --prune` removes them"
        )
    if not result.ok:
        sys.exit(1)


def _watch_after_load(store: Any) -> None:
    from graphguard.cli.meeting import report_watch
    from graphguard.meeting.state import MeetingState

    # Watch rules run after every load, on the picture the load made.
    report_watch(store, MeetingState.open(store), None, None, "neo4j")


def _initial_load(
    store: Any,
    data: Any,
    records: Any,
    data_dir: Path | None,
    wait: float,
    dataset: Path,
    result: Any,
) -> None:
    from graphguard.audit import acting_user
    from graphguard.neo4j_local.server import DEFAULT_DATA_DIR
    from graphguard.settings import get_settings
    from graphguard.store.bulk import initial_load

    report = initial_load(
        store,
        data,
        uri=str(get_settings().neo4j_uri),
        data_dir=data_dir or DEFAULT_DATA_DIR,
        records=records,
        notice=_notice,
        wait=wait,
        user=acting_user(),
    )
    click.echo(_load_summary(report, dataset, result.rejected_rows, records is not None))


def _records_of(result: Any) -> Any:
    """The record-level dataset of a version 2 read (``IngestResult.records``), else None."""
    if result.dataset.version != 2:
        return None
    return getattr(result, "records", None)


def _load_summary(report: Any, dataset: Path, rejected: int, v2: bool) -> str:
    """What a load did, in one paragraph: per kind, added, changed, removed, unchanged."""
    kinds = [report.entities.describe("entity", "entities")]
    if v2:
        kinds.append(report.records.describe("record"))
    kinds.append(report.links.describe("link"))
    how = (
        "neo4j-admin import" if not report.batches else _count(report.batches, "write transaction")
    )
    timing = f"({how}, {report.seconds:.1f} s); {_count(rejected, 'row')} rejected."
    if not report.changed_anything:
        head = f"Nothing changed: Neo4j already held every element of {dataset} "
        return head + f"({'; '.join(kinds)}) {timing}"
    text = f"Loaded {dataset} into Neo4j: {'; '.join(kinds)} {timing}"
    if report.moved:
        text += f" {_count(report.moved, 'link')} changed type (moved to a new relationship)."
    if report.repaired_duplicates:
        text += (
            f" Removed the extra holders of {report.repaired_duplicates} link ids held "
            "by more than one relationship."
        )
    return text


# --------------------------------------------------------------------------- check


@click.command()
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option(
    "--repair",
    is_flag=True,
    help="Make Neo4j hold exactly DATASET: delete what it does not contain and duplicate "
    "link ids, write what is missing or changed (refused when any row was rejected).",
)
@FORMAT
@WAIT
def check(dataset: Path, repair: bool, output_format: str, wait: float) -> None:
    """Compare Neo4j (NEO4J_URI) with DATASET; with --repair, make it hold exactly DATASET.

    Compares the counts per label and relationship type, a content hash of each side,
    and every entity and link by id, and lists link ids held by more than one
    relationship.  Runs under the load lock, so it waits for a running load.  Exits 0
    when Neo4j holds exactly DATASET's valid rows (after --repair: when the repair
    made it so), 1 when it differs or rows of DATASET were rejected.
    """
    from graphguard.audit import acting_user
    from graphguard.ingest import read_dataset
    from graphguard.store.check import check as compare
    from graphguard.store.check import repair as make_equal
    from graphguard.store.open import open_neo4j

    result = read_dataset(dataset)
    _say_what_was_read(result)
    if not result.ok:
        if repair:
            raise DataError(
                "--repair refused: rows were rejected or files unreadable, and the repair "
                "would delete what they held; fix them (see `graphguard validate`) first"
            )
        _notice(
            f"warning: {result.rejected_rows} rows of {dataset} were rejected: "
            "Neo4j is compared with the valid rows only"
        )
    store = open_neo4j()
    records = _records_of(result)
    purpose = f"check {dataset}" + (" --repair" if repair else "")
    lock = store.lock(purpose, wait=wait, user=acting_user(), notice=_notice)
    with store.reachable("checking the database"), lock:
        found = compare(store, result.dataset, records)
        fixed = (
            make_equal(store, result.dataset, found, lock, records=records)
            if repair and not found.ok
            else None
        )
    after = fixed.after if fixed is not None else found
    if output_format == "json":
        data = found.as_dict()
        if fixed is not None:
            data["repaired"] = {
                "deleted_entities": fixed.deleted_entities,
                "deleted_relationships": fixed.deleted_relationships,
                "written_entities": fixed.written_entities,
                "written_links": fixed.written_links,
                "deleted_records": fixed.deleted_records,
                "written_records": fixed.written_records,
                "after": fixed.after.as_dict(),
            }
        click.echo(json.dumps(data, indent=2))
    else:
        _print_check(found, dataset)
        if fixed is not None:
            click.echo(
                f"Repaired: deleted {fixed.deleted_relationships} relationships, "
                f"{fixed.deleted_entities} entities and {fixed.deleted_records} records, "
                f"wrote {fixed.written_entities} entities, {fixed.written_records} records "
                f"and {fixed.written_links} links."
            )
        if after.ok:
            click.echo(f"Neo4j holds exactly {dataset} (content hash {after.neo4j_hash[:16]}).")
        elif fixed is not None:
            click.echo(f"Neo4j still differs from {dataset} after the repair: see above.")
        else:
            click.echo(
                f"Neo4j differs from {dataset}: `graphguard check {dataset} --repair` "
                "makes it hold exactly the dataset."
            )
    if not after.ok or not result.ok:
        sys.exit(1)


def _some(ids: list[str], shown: int = 5) -> str:
    more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
    return ", ".join(ids[:shown]) + more


def _print_check(report: Any, dataset: Path) -> None:
    from graphguard.store.check import count_names

    click.echo(f"{'':<16} {'dataset':>9} {'Neo4j':>9}")
    for name in count_names(report):
        ours, theirs = report.dataset_counts.get(name, 0), report.neo4j_counts.get(name, 0)
        flag = "" if ours == theirs else "  differs"
        click.echo(f"{name:<16} {ours:>9,} {theirs:>9,}{flag}")
    click.echo(
        f"content hash     {report.dataset_hash[:16]} (dataset)  {report.neo4j_hash[:16]} (Neo4j)"
    )
    for what, ids in (
        ("entities missing from Neo4j", report.missing_entities),
        ("entities in Neo4j only", report.extra_entities),
        ("entities that differ", report.changed_entities),
        ("records missing from Neo4j", report.missing_records),
        ("records in Neo4j only", report.extra_records),
        ("records that differ", report.changed_records),
        ("links missing from Neo4j", report.missing_links),
        ("links in Neo4j only", report.extra_links),
        ("links that differ", report.changed_links),
    ):
        if ids:
            click.echo(f"{len(ids)} {what}: {_some(ids)}")
    duplicates = report.duplicate_link_ids
    if duplicates:
        named = [f"{link_id} ({n} relationships)" for link_id, n in duplicates.items()]
        click.echo(f"{len(duplicates)} link ids held by more than one relationship: {_some(named)}")


def _count(number: int, noun: str, many: str | None = None) -> str:
    return f"{number} {noun if number == 1 else many or noun + 's'}"
