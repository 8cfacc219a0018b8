"""``graphguard audit verify`` and ``graphguard where``: the audit chain and the state home."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import click

from graphguard.cli.options import FORMAT
from graphguard.errors import DataError

__all__ = ["audit", "where"]


@click.group("audit")
def audit() -> None:
    """The audit log: every export, analysis, plan, view and Cypher run, hash-chained."""


@audit.command("verify")
@FORMAT
def verify(output_format: str) -> None:
    """Check the audit log's hash chain; name every deleted, edited or moved line.

    Exits 0 when the chain is intact and 1 when a line is broken.  Deleting the last
    lines leaves a valid chain: keep the printed head and line count, and compare
    them with a later run.
    """
    from graphguard.audit import verify_log

    report = verify_log()
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    "path": str(report.path),
                    "lines": report.lines,
                    "head": report.head,
                    "intact": report.intact,
                    "problems": [{"line": n, "reason": r} for n, r in report.problems],
                },
                indent=2,
            )
        )
    else:
        for number, reason in report.problems:
            click.echo(f"{report.path}:{number}: line {number} {reason}")
        if report.intact:
            click.echo(f"{report.path}: {report.lines} lines, chain intact; head {report.head}")
    if not report.intact:
        raise DataError(
            f"the audit log {report.path} is broken at line {report.problems[0][0]} "
            f"({len(report.problems)} broken line{'s' if len(report.problems) != 1 else ''})"
        )


@click.command("where")
@FORMAT
def where(output_format: str) -> None:
    """Print the state home and what is in it: keys, identities, audit log, workspace, Neo4j.

    The state home is GRAPHGUARD_HOME, else the per-user data directory; never the
    working directory.
    """
    from graphguard.settings import SETTINGS_FILE, get_settings, state_home
    from graphguard.workspace import database_path
    from graphguard.workspace.identity import IDENTITY_FILE, IDENTITY_KEY_FILE

    settings = get_settings()
    home = state_home(settings)
    items = {
        "settings file": home / SETTINGS_FILE,
        "pseudonym key": home / "pseudonym.key",
        "identity store": home / IDENTITY_FILE,
        "identity key": home / IDENTITY_KEY_FILE,
        "audit log": settings.audit_path,
        "workspace": database_path(settings),
        "local Neo4j": home / "neo4j",
    }
    found = {name: _describe(path) for name, path in items.items()}
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    "home": str(home),
                    "from": "GRAPHGUARD_HOME" if os.environ.get("GRAPHGUARD_HOME") else "default",
                    **{name: {"path": str(items[name]), **found[name]} for name in items},
                },
                indent=2,
            )
        )
        return
    origin = "GRAPHGUARD_HOME" if os.environ.get("GRAPHGUARD_HOME") else "the per-user default"
    click.echo(f"state home: {home} ({origin})")
    width = max(len(name) for name in items)
    for name, path in items.items():
        click.echo(f"  {name.ljust(width)}  {path}  {found[name]['state']}")


def _describe(path: Path) -> dict[str, Any]:
    """What is at ``path``: missing, or its kind, mode and size (lines for the audit log)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return {"exists": False, "state": "(not created yet)"}
    mode = stat.S_IMODE(info.st_mode)
    if stat.S_ISDIR(info.st_mode):
        return {"exists": True, "mode": f"{mode:04o}", "state": f"folder, mode {mode:04o}"}
    if not stat.S_ISREG(info.st_mode):
        return {"exists": True, "mode": f"{mode:04o}", "state": "NOT A REGULAR FILE (refused)"}
    described: dict[str, Any] = {"exists": True, "mode": f"{mode:04o}", "bytes": info.st_size}
    state = f"{info.st_size} bytes, mode {mode:04o}"
    if path.suffix == ".jsonl":
        with path.open("rb") as handle:
            lines = sum(1 for _ in handle)
        described["lines"] = lines
        state += f", {lines} lines"
    described["state"] = state
    return described
