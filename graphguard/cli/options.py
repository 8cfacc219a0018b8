"""Parameter types and option blocks that several ``graphguard`` commands share."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

__all__ = [
    "AS_OF",
    "DATASET",
    "DATE",
    "FORCE",
    "FORMAT",
    "HALF_LIFE",
    "PSEUDONYMISE",
    "REJECTS",
    "DateType",
]


class DateType(click.ParamType):
    """A calendar day written ``YYYY-MM-DD``; anything else is a usage error naming the option."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date in the form YYYY-MM-DD", param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "DATE"


#: The ``YYYY-MM-DD`` parameter type.
DATE = DateType()

#: ``--as-of DATE``: the picture as it stood then, for every command that reads the graph.
AS_OF = click.option(
    "--as-of",
    "as_of",
    type=DATE,
    help="The picture as it stood on DATE (YYYY-MM-DD): later links are left out and "
    "evidence is weighed against DATE [default: the latest date in the data].",
)

#: ``--half-life DAYS``: the half-life of evidence, for every command that weighs it.
HALF_LIFE = click.option(
    "--half-life",
    "half_life",
    type=click.FloatRange(min=1),
    default=None,
    help="Days after which a link's evidence counts half "
    "[default: GRAPHGUARD_HALF_LIFE_DAYS or 365].",
)

#: ``[DATASET]``: a dataset folder or workbook; without it, Neo4j when NEO4J_URI is set.
DATASET = click.argument("dataset", required=False, type=click.Path(exists=True, path_type=Path))

#: ``--format text|json`` for commands that print a result.
FORMAT = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Readable text or JSON on stdout.",
)

#: ``--pseudonymise`` for commands that show young people.
PSEUDONYMISE = click.option(
    "--pseudonymise",
    is_flag=True,
    help="Show every young person as a keyed pseudonym instead of their id (for sharing).",
)

#: ``--force`` for commands that write a file or a folder the user names.
FORCE = click.option(
    "--force",
    is_flag=True,
    help="Replace an existing output (file, or folder of graphguard's outputs) and write "
    "through a symbolic link; without it either is refused.",
)

#: ``--rejects FILE`` for commands that read a dataset: the rejected rows to fix and resend.
REJECTS = click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the rejected rows with their reasons to this CSV, to fix and resend.",
)
