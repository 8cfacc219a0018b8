"""``graphguard fairness``: the fairness report of who the analysis picks out.

A thin layer over :mod:`graphguard.fairness`: reads DATASET (or Neo4j), writes the
HTML report atomically, audited before it is written (if the audit cannot be
written, nothing is).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from graphguard.audit import Event, audited
from graphguard.cli.base import role_graph, warn_data_problems
from graphguard.cli.options import AS_OF, DATASET, FORCE, HALF_LIFE
from graphguard.errors import UsageError
from graphguard.files import check_destination, write_text

__all__ = ["fairness"]


@click.command("fairness")
@DATASET
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The HTML file to write (.html).",
)
@FORCE
@click.option(
    "--population",
    "population_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An area population CSV (characteristic,value,count) to compare with as well.",
)
@click.option(
    "--hubs",
    "hubs_shown",
    type=click.IntRange(1, None),
    default=None,
    help="How many of the hub ranking's first adults (score above zero) count as "
    "hub-ranked [default: 20].",
)
@AS_OF
@HALF_LIFE
def fairness(
    dataset: Path | None,
    out: Path,
    force: bool,
    population_path: Path | None,
    hubs_shown: int | None,
    as_of: dt.date | None,
    half_life: float | None,
) -> None:
    """Write the fairness report of DATASET (or of Neo4j) to --out.

    For each protected characteristic recorded in the data (gender, ethnicity, …):
    its distribution among hub-ranked adults, adult targets and young people counted
    as exposed, against all adults or young people in the data and an area
    population if given; counts under 5 suppressed; a plain statement where a group
    is over-represented (ratio at least 1.25 and a two-sided exact test, p < 0.05
    after Holm's correction).
    """
    from graphguard.analysis.options import AnalysisOptions
    from graphguard.fairness import HUBS_SHOWN, fairness_report, read_population, render_html
    from graphguard.store.base import Filters
    from graphguard.store.open import open_store

    if out.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--out {out}: the report is HTML: name a .html file")
    destination = check_destination(out, force=force)
    population = read_population(population_path) if population_path is not None else None
    options = AnalysisOptions.from_settings(as_of=as_of, half_life_days=half_life)
    store = open_store(dataset)
    warn_data_problems(store)
    source = str(dataset) if dataset is not None else "neo4j"
    report = fairness_report(
        role_graph(store, Filters(as_of=options.as_of)),
        options=options,
        population=population,
        population_name=str(population_path) if population_path is not None else None,
        hubs_shown=hubs_shown or HUBS_SHOWN,
        source=source,
    )
    with audited(
        Event.EXPORT_FAIRNESS,
        path=str(destination),
        source=source,
        as_of=report.as_of.isoformat(),
        population=str(population_path) if population_path is not None else None,
        findings=len(report.findings),
    ):
        write_text(destination, render_html(report))
    found = len(report.findings)
    click.echo(
        f"Wrote the fairness report to {out}: {len(report.tables)} characteristic"
        f"{'s' if len(report.tables) != 1 else ''}, {found} over-representation"
        f"{'s' if found != 1 else ''} stated (evidence as of {report.as_of.isoformat()})."
    )
