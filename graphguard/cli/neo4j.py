"""``graphguard neo4j``: a local real Neo4j for development, demos and tests."""

from __future__ import annotations

import sys
from pathlib import Path

import click

__all__ = ["neo4j"]

# --------------------------------------------------------------------------- neo4j

_DATA_DIR = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: _state_home_neo4j(),
    show_default="the state home's neo4j/, see `graphguard where`",
    help="Where the server keeps its data, logs, configuration and password.",
)


def _state_home_neo4j() -> Path:
    from graphguard.settings import state_home

    return state_home() / "neo4j"


@click.group()
def neo4j() -> None:
    """A local real Neo4j 5.26 Community server (from Maven Central) for development."""


@neo4j.command("start")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=7687,
    show_default=True,
    help="The Bolt port, on 127.0.0.1 only.",
)
@_DATA_DIR
@click.option("--heap", default="1g", show_default=True, help="The JVM heap size.")
def neo4j_start(port: int, data_dir: Path, heap: str) -> None:
    """Start the server in the background (building it on first use) and print its URI."""
    from graphguard import neo4j_local

    info = neo4j_local.start(
        data_dir, port=port, heap=heap, progress=lambda m: click.echo(m, err=True)
    )
    click.echo(f"Neo4j is running at {info.uri} (user {info.username}); data in {info.data_dir}.")
    click.echo(f'Set up a shell with: eval "$(graphguard neo4j env --data-dir {data_dir})"')


@neo4j.command("stop")
@_DATA_DIR
def neo4j_stop(data_dir: Path) -> None:
    """Shut the server down cleanly; its data is kept."""
    from graphguard import neo4j_local

    if neo4j_local.stop(data_dir):
        click.echo("Neo4j stopped.")
    else:
        click.echo("Neo4j was not running.")


@neo4j.command("status")
@_DATA_DIR
def neo4j_status(data_dir: Path) -> None:
    """Say whether the server is running; exit 4 when it is not."""
    from graphguard import neo4j_local

    info = neo4j_local.status(data_dir)
    if info.running:
        click.echo(f"Neo4j is running at {info.uri} (pid {info.pid}); data in {info.data_dir}.")
    else:
        click.echo(f"Neo4j is not running (data dir {info.data_dir}).")
        sys.exit(4)


@neo4j.command("env")
@_DATA_DIR
@click.option(
    "--prefix",
    default="",
    help="Put this before each variable name (tests use "
    "GRAPHGUARD_TEST_ so they never touch a real NEO4J_URI).",
)
def neo4j_env(data_dir: Path, prefix: str) -> None:
    """Print export lines for a shell to eval: NEO4J_URI, NEO4J_USERNAME, NEO4J_PASSWORD."""
    from graphguard import neo4j_local

    for line in neo4j_local.env_lines(data_dir):
        click.echo(line.replace("export ", f"export {prefix}", 1))
