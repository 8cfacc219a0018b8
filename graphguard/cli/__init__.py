"""The ``graphguard`` command: a thin layer that parses options and calls the library.

One module per command group: :mod:`~graphguard.cli.data` (validate, synth, analyse,
load), :mod:`~graphguard.cli.disruption` (targets, plan, relocation, placement-check),
:mod:`~graphguard.cli.cypher`, :mod:`~graphguard.cli.neo4j`, :mod:`~graphguard.cli.resolve`,
:mod:`~graphguard.cli.dashboard`, :mod:`~graphguard.cli.meeting` (changes, watch,
alerts), :mod:`~graphguard.cli.actions` (actions, briefing) and
:mod:`~graphguard.cli.audit` (audit verify, where) and
:mod:`~graphguard.cli.retention` (review).
What they share is in :mod:`~graphguard.cli.base` and :mod:`~graphguard.cli.options`.
"""

from __future__ import annotations

import click

from graphguard import __version__
from graphguard.cli import actions, data, disruption, meeting
from graphguard.cli.audit import audit, where
from graphguard.cli.base import GraphguardGroup
from graphguard.cli.cypher import cypher
from graphguard.cli.dashboard import dashboard
from graphguard.cli.fairness import fairness
from graphguard.cli.neo4j import neo4j
from graphguard.cli.resolve import resolve
from graphguard.cli.retention import review, subject_access

__all__ = ["main"]

_DEBUG_HELP = "Show the full traceback of an error instead of one line."


@click.group(cls=GraphguardGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help=_DEBUG_HELP)
@click.version_option(__version__, prog_name="graphguard")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Contextual-safeguarding network analysis.

    Joins what partner agencies know about young people at risk of exploitation into
    one graph of young people, adults, locations and vehicles, finds peer groups and
    perpetrator-centred hubs, and ranks the contexts whose disruption would most
    reduce the risk.  Without NEO4J_URI the embedded store is used.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


for _command in (
    data.validate,
    data.synth,
    data.analyse,
    data.load,
    data.check,
    disruption.targets,
    disruption.plan,
    disruption.relocation,
    disruption.placement_check,
    resolve,
    actions.actions,
    actions.briefing,
    cypher,
    neo4j,
    dashboard,
    meeting.changes,
    meeting.watch,
    meeting.alerts,
    review,
    subject_access,
    audit,
    where,
    fairness,
):
    main.add_command(_command)
