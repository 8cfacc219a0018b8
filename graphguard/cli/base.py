"""What every ``graphguard`` command shares: one-line errors, exit codes, permissions.

Errors reach the user as one line on stderr and an exit code (DESIGN.md): 0 success,
1 the data had problems, 2 usage error, 3 refused, 4 a backend unavailable.  Run with
``--debug`` for the traceback instead.

Every command declares, in :data:`COMMAND_PERMISSIONS`, the permission of the access
matrix (docs/access.md) it needs; :class:`GraphguardGroup` refuses a command the acting
role lacks before it runs (audited, one line, exit 3), and refuses to register a
command that declares nothing, so a new command cannot forget.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click

from graphguard.access import Permission, current_identity, require
from graphguard.errors import GraphguardError

__all__ = [
    "COMMAND_PERMISSIONS",
    "DATA_PROBLEMS",
    "GraphguardGroup",
    "command_paths",
    "role_graph",
    "sees_everything",
    "sees_handling_c",
    "warn_data_problems",
]

_P = Permission

#: The permission each command needs, by its path under ``graphguard``; ``None`` for a
#: command that touches nothing personal (a synthetic town, where files are, launching
#: the dashboard, whose pages each ask the matrix themselves).
COMMAND_PERMISSIONS: dict[str, Permission | None] = {
    "validate": _P.MANAGE_DATA,
    "synth": None,
    "analyse": _P.VIEW_ANALYSIS,
    "load": _P.MANAGE_DATA,
    "check": _P.MANAGE_DATA,
    "targets": _P.EXPORT_TARGETS,
    "plan": _P.PLAN_DISRUPTION,
    "relocation": _P.PLAN_DISRUPTION,
    "placement-check": _P.PLAN_DISRUPTION,
    "resolve run": _P.VIEW_MATCHES,
    "resolve decide": _P.DECIDE_MATCHES,
    "actions add": _P.MANAGE_ACTIONS,
    "actions update": _P.MANAGE_ACTIONS,
    "actions list": _P.VIEW_MEETING,
    "actions displacement": _P.VIEW_MEETING,
    "briefing": _P.EXPORT_BRIEFING,
    "cypher list": _P.RUN_CYPHER,
    "cypher show": _P.RUN_CYPHER,
    "cypher run": _P.RUN_CYPHER,
    "neo4j start": _P.MANAGE_DATA,
    "neo4j stop": _P.MANAGE_DATA,
    "neo4j status": _P.MANAGE_DATA,
    "neo4j env": _P.MANAGE_DATA,
    "dashboard": None,
    "changes": _P.VIEW_MEETING,
    "watch": _P.MANAGE_ALERTS,
    "alerts list": _P.VIEW_MEETING,
    "alerts ack": _P.MANAGE_ALERTS,
    "alerts dismiss": _P.MANAGE_ALERTS,
    "alerts action": _P.MANAGE_ALERTS,
    "audit verify": _P.READ_AUDIT,
    "review list": _P.REVIEW_RECORDS,
    "review keep": _P.REVIEW_RECORDS,
    "review log": _P.READ_AUDIT,
    "review policy": _P.READ_AUDIT,
    "review purge": _P.PURGE_RECORDS,
    "review restore": _P.PURGE_RECORDS,
    "subject-access": _P.SUBJECT_ACCESS,
    "where": None,
    "fairness": _P.VIEW_FAIRNESS,
}

#: ``ctx.meta`` key a command sets when it went on past rejected rows: the exit is then 1.
DATA_PROBLEMS = "graphguard.data_problems"


def warn_data_problems(store: Any) -> None:
    """Say on stderr, in one line, that the data had problems; the command then exits 1."""
    from graphguard.store.open import data_problems

    problem = data_problems(store)
    if problem:
        click.echo(f"graphguard: warning: {problem}", err=True)
        click.get_current_context().meta[DATA_PROBLEMS] = True


def command_paths(command: click.Command, path: str = "") -> Iterator[tuple[str, click.Command]]:
    """Every command that runs under ``command`` (groups' leaves), with its path."""
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from command_paths(sub, f"{path} {name}".strip())
    else:
        yield path, command


def _guarded(path: str, callback: Callable[..., Any]) -> Callable[..., Any]:
    """``callback``, run only when the acting role has the permission ``path`` needs."""
    permission = COMMAND_PERMISSIONS[path]
    if permission is None:
        return callback

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        require(current_identity(), permission, f"run `graphguard {path}`")
        return callback(*args, **kwargs)

    return run


def role_graph(store: Any, filters: Any = None) -> Any:
    """The graph of ``store`` the acting role may see: every CLI command reads it so.

    Through :func:`graphguard.privacy.role_view`, before any analysis: a role without
    handling code C gets scores computed without those records, and a partner
    practitioner its own agency's records and what others share.
    """
    from graphguard.privacy import role_view, sight_of
    from graphguard.store.base import Filters

    sight = sight_of(current_identity())  # refused (one line) before the data is read
    return role_view(store.graph(filters if filters is not None else Filters()), sight)


def sees_everything() -> bool:
    """Whether the acting role sees every record (else alerts on withheld ones are withheld)."""
    from graphguard.privacy import EVERYTHING, sight_of

    return sight_of(current_identity()) == EVERYTHING


def sees_handling_c() -> bool:
    """Whether the acting role sees handling code C (else every output it makes is shareable)."""
    return current_identity().may(Permission.SEE_HANDLING_C)


class GraphguardGroup(click.Group):
    """The ``graphguard`` group: the access matrix, one-line errors, the right exit code.

    Adding a command wraps each command under it so the acting role's permission is
    checked before it runs (``--help`` is answered before that, by click).
    """

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """Register ``cmd``, each of its commands guarded by its declared permission.

        Raises
        ------
        LookupError
            When a command under ``cmd`` declares no permission in
            :data:`COMMAND_PERMISSIONS` (a programming error, found on import).
        """
        name = name or cmd.name
        super().add_command(cmd, name)
        for sub_path, command in command_paths(cmd, name or ""):
            if sub_path not in COMMAND_PERMISSIONS:
                raise LookupError(
                    f"`graphguard {sub_path}` declares no permission: add it to "
                    "graphguard.cli.base.COMMAND_PERMISSIONS"
                )
            if command.callback is not None and not getattr(command, "_gg_guarded", False):
                command.callback = _guarded(sub_path, command.callback)
                command._gg_guarded = True  # type: ignore[attr-defined]

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
