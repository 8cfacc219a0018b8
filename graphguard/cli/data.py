"""Data commands: ``validate``, ``synth``, ``analyse`` and ``load``."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from graphguard.cli.base import warn_data_problems
from graphguard.cli.options import AS_OF
from graphguard.errors import DataError

__all__ = ["analyse", "load", "synth", "validate"]


# --------------------------------------------------------------------------- validate


@click.command()
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the rejected rows with their reasons to this CSV, to fix and resend.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Report as readable text or as JSON on stdout.",
)
def validate(dataset: Path, rejects_path: Path | None, output_format: str) -> None:
    """Check DATASET (a folder of CSVs or an .xlsx workbook) against the input format.

    Exits 0 when every row is valid and 1 when any row was rejected or a file could
    not be read.
    """
    from graphguard.ingest import read_dataset, write_rejects

    result = read_dataset(dataset, collect_links=False)
    if rejects_path is not None:
        write_rejects(result.rejects, rejects_path)
    if output_format == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        _print_report(result, rejects_path)
    if not result.ok:
        sys.exit(1)


def _print_report(result: Any, rejects_path: Path | None) -> None:
    for report in result.files.values():
        if not report.present:
            continue
        if report.error:
            click.echo(f"{report.file}: ERROR {report.error}")
        else:
            click.echo(
                f"{report.file}: {report.rows} rows, {report.accepted} accepted, "
                f"{report.rejected} rejected"
            )
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
def synth(out: Path, young_people: int, seed: int) -> None:
    """Write a seeded synthetic town to OUT in the input format (for demos, tests, benchmarks)."""
    from tqdm import tqdm

    from graphguard.synth import write_town

    with tqdm(desc="writing links", unit=" links", disable=None, file=sys.stderr) as bar:

        def written(total: int) -> None:
            bar.update(total - bar.n)

        truth = write_town(out, young_people, seed, progress=written)
    counts = ", ".join(f"{n} {name}" for name, n in truth.counts.items())
    click.echo(f"Wrote a synthetic town to {out}: {counts}.")


# --------------------------------------------------------------------------- analyse


@click.command()
@click.argument("dataset", required=False, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for hubs.json, contexts.json, groups.json, measures.csv, summary.json.",
)
@AS_OF
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of peer-group detection and sampled measures.",
)
@click.option(
    "--half-life",
    "half_life",
    type=click.FloatRange(min=1),
    default=None,
    help="Days after which a link's evidence counts half "
    "[default: GRAPHGUARD_HALF_LIFE_DAYS or 365].",
)
def analyse(
    dataset: Path | None, out_dir: Path, as_of: dt.date | None, seed: int, half_life: float | None
) -> None:
    """Find peer groups, perpetrator-centred hubs and risky contexts; write them to --out.

    Reads DATASET, or Neo4j (NEO4J_URI) when no DATASET is given.  Every ranking
    comes with its score components and a plain-English explanation citing the
    evidence; the same data and seed give identical files.
    """
    from graphguard.analysis import AnalysisOptions, write_outputs
    from graphguard.analysis import analyse as run_analysis
    from graphguard.settings import get_settings
    from graphguard.store.base import Filters
    from graphguard.store.open import open_store

    store = open_store(dataset)
    warn_data_problems(store)
    options = AnalysisOptions(
        as_of=as_of,
        seed=seed,
        half_life_days=half_life or get_settings().half_life_days,
    )
    # --as-of is the picture as it stood then: later links are left out, not only weighed.
    result = run_analysis(store.graph(Filters(as_of=options.as_of)), options)
    paths = write_outputs(result, out_dir)
    from graphguard.audit import audit_event

    audit_event(
        "analyse",
        out=str(out_dir),
        source=str(dataset) if dataset is not None else "neo4j",
        as_of=result.summary.get("as_of"),
        seed=seed,
    )
    click.echo(f"Wrote {', '.join(p.name for p in paths)} to {out_dir}.")
    for hub in result.hubs[:3]:
        click.echo(f"  hub {hub.rank}: {hub.id} (score {hub.score:.2f})")
    for context in result.contexts[:3]:
        click.echo(f"  context {context.rank}: {context.id} (score {context.score:.2f})")


# --------------------------------------------------------------------------- load


@click.command()
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option(
    "--batch-size",
    type=click.IntRange(1, 1_000_000),
    default=None,
    help="Rows per write transaction [default: GRAPHGUARD_BATCH_SIZE or 5000].",
)
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the rejected rows with their reasons to this CSV.",
)
@click.option(
    "--prune",
    is_flag=True,
    help="Make Neo4j hold exactly DATASET: delete entities and links it does not contain "
    "(refused when any row was rejected, so nothing is deleted by mistake).",
)
def load(dataset: Path, batch_size: int | None, rejects_path: Path | None, prune: bool) -> None:
    """Validate DATASET and load its valid rows into Neo4j (NEO4J_URI), idempotently.

    Entities are merged on their id and links on their link_id, so loading the same
    data again changes nothing and a changed row updates what it describes.  Exits 1
    when rows were rejected (the valid rows are still loaded).
    """
    from tqdm import tqdm

    from graphguard.ingest import read_dataset, write_rejects
    from graphguard.store.open import open_neo4j

    result = read_dataset(dataset)
    for report in result.file_errors:
        click.echo(f"graphguard: {report.error}", err=True)
    if rejects_path is not None:
        write_rejects(result.rejects, rejects_path)
    if prune and not result.ok:
        raise DataError(
            "--prune refused: rows were rejected or files unreadable, and pruning would "
            "delete what they held; fix them (see `graphguard validate`) or load without --prune"
        )
    store = open_neo4j(batch_size=batch_size)
    total = len(result.dataset)
    with tqdm(total=total, desc="loading", unit=" rows", disable=None, file=sys.stderr) as bar:
        report = store.load(  # type: ignore[attr-defined]
            result.dataset, progress=bar.update, prune=prune
        )
    created = report.counters.get("nodes_created", 0) + report.counters.get(
        "relationships_created", 0
    )
    removed = report.counters.get("relationships_deleted", 0) + report.pruned_nodes
    # Neo4j counts a property written again with the same value as set, so only
    # additions and removals tell a repeated load apart.
    unchanged = not (created or removed or report.moved or report.pruned_relationships)
    click.echo(
        f"Loaded {_count(report.nodes, 'entity', 'entities')} and "
        f"{_count(report.relationships, 'link')} into Neo4j "
        f"in {_count(report.batches, 'batch', 'batches')} ({report.seconds:.1f} s); "
        f"{_count(result.rejected_rows, 'row')} rejected."
        + (" Nothing added or removed: all of it was in Neo4j already." if unchanged else "")
        + (
            f" Pruned {report.pruned_nodes} entities and {report.pruned_relationships} links "
            "not in the dataset."
            if prune
            else ""
        )
    )
    if not result.ok:
        sys.exit(1)


def _count(number: int, noun: str, many: str | None = None) -> str:
    return f"{number} {noun if number == 1 else many or noun + 's'}"
