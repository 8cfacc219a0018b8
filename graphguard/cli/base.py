"""What every ``graphguard`` command shares: one-line errors, exit codes, data warnings.

Errors reach the user as one line on stderr and an exit code (DESIGN.md): 0 success,
1 the data had problems, 2 usage error, 3 refused, 4 a backend unavailable.  Run with
``--debug`` for the traceback instead.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from graphguard.errors import GraphguardError

__all__ = ["DATA_PROBLEMS", "GraphguardGroup", "warn_data_problems"]

#: ``ctx.meta`` key a command sets when it went on past rejected rows: the exit is then 1.
DATA_PROBLEMS = "graphguard.data_problems"


def warn_data_problems(store: Any) -> None:
    """Say on stderr, in one line, that the data had problems; the command then exits 1."""
    from graphguard.store.open import data_problems

    problem = data_problems(store)
    if problem:
        click.echo(f"graphguard: warning: {problem}", err=True)
        click.get_current_context().meta[DATA_PROBLEMS] = True


class GraphguardGroup(click.Group):
    """A command group that turns errors into one line on stderr and the right exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            result = super().invoke(ctx)
            if ctx.meta.get(DATA_PROBLEMS):
                ctx.exit(1)  # the output was written from the valid rows; the data had problems
            return result
        except GraphguardError as error:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"graphguard: error: {error}", err=True)
            ctx.exit(error.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:
            # The reader went away (`graphguard ... | head`): stop quietly, as Unix tools do.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(141)
        except KeyboardInterrupt:
            click.echo("graphguard: interrupted", err=True)
            ctx.exit(130)
        except Exception as error:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            message = str(error).splitlines()[0] if str(error) else ""
            name = type(error).__name__
            click.echo(
                f"graphguard: error: {name}: {message} (run with --debug for details)", err=True
            )
            ctx.exit(2)
