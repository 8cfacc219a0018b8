"""Options shared by the commands of ``graphguard/cli.py`` and ``graphguard/targets_cli.py``."""

from __future__ import annotations

import datetime as dt

import click

from graphguard.errors import UsageError

__all__ = ["AS_OF", "parse_as_of"]

#: ``--as-of DATE``: the picture as it stood then, for every command that reads the graph.
AS_OF = click.option(
    "--as-of",
    "as_of",
    metavar="DATE",
    help="The picture as it stood on DATE (YYYY-MM-DD): later links are left out and "
    "evidence is weighed against DATE [default: the latest date in the data].",
)


def parse_as_of(value: str | None) -> dt.date | None:
    """The day an ``--as-of`` value names, or a usage error saying what is wrong."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--as-of {value!r} is not a date in the form YYYY-MM-DD") from None
