"""``graphguard dashboard``: start the Streamlit dashboard on a dataset, Neo4j or the demo.

The command only works out what to show and runs ``python -m streamlit run
dashboards/app.py`` with it; the dataset travels in ``GRAPHGUARD_DATASET``.  The
server never sends Streamlit's usage statistics and never stops to ask for an e-mail
address.

With an identity provider configured (``GRAPHGUARD_OIDC_*``, :mod:`graphguard.signin`)
Streamlit is given its sign-in configuration in a private secrets file and every page
asks for sign-in; it may then listen on another address (behind a reverse proxy).
Without one the dashboard is a local single-user tool and listens on the loopback
interface only: any other ``--address`` is refused.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

import click

from graphguard.access import cli_identity
from graphguard.errors import BackendUnavailable, UsageError
from graphguard.paths import project_root
from graphguard.settings import get_settings
from graphguard.signin import check_local_address, sign_in, write_streamlit_secrets
from graphguard.store.open import DATASET_ENV, choose_data

__all__ = ["DATASET_ENV", "dashboard", "dashboard_app", "dashboard_env", "streamlit_command"]


def dashboard_app() -> Path:
    """The dashboard's entry script, ``dashboards/app.py`` of the checkout."""
    app = project_root() / "dashboards" / "app.py"
    if not app.is_file():
        raise UsageError(f"the dashboard is not here: {app} is missing")
    return app


def dashboard_env(dataset: Path | None, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment the dashboard runs with: which data to show, no usage statistics.

    A DATASET given on the command line wins; else ``GRAPHGUARD_DATASET`` as already
    set; else Neo4j when ``NEO4J_URI`` is set; else the demo town.

    >>> env = dashboard_env(None, {})
    >>> Path(env["GRAPHGUARD_DATASET"]).name
    'demo'
    >>> "GRAPHGUARD_DATASET" in dashboard_env(None, {"NEO4J_URI": "bolt://127.0.0.1:7687"})
    False
    """
    env = dict(environ)
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    choice = choose_data(dataset, env.get(DATASET_ENV), env.get("NEO4J_URI"))
    if choice.is_neo4j:
        env.pop(DATASET_ENV, None)
    else:
        env[DATASET_ENV] = choice.location
    return env


def streamlit_command(
    app: Path, port: int, headless: bool, address: str, secrets_file: Path | None = None
) -> list[str]:
    """The ``python -m streamlit run`` command line for the dashboard.

    ``secrets_file`` is the only secrets file Streamlit reads (the sign-in
    configuration); without it, none is read, so a ``.streamlit/secrets.toml`` in the
    working directory cannot switch sign-in on or change it.
    """
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true" if headless else "false",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
        # Streamlit otherwise asks for an e-mail address on a fresh machine's first run.
        "--server.showEmailPrompt",
        "false",
        "--secrets.files",
        str(secrets_file) if secrets_file is not None else _NO_SECRETS,
    ]


# Streamlit reads no secrets from a path that does not exist.
_NO_SECRETS = os.devnull + ".graphguard-no-secrets"


@click.command()
@click.argument("dataset", required=False, type=click.Path(path_type=Path))
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8501, show_default=True, help="HTTP port."
)
@click.option("--headless", is_flag=True, help="Serve only: do not open a browser.")
@click.option(
    "--address",
    default="127.0.0.1",
    show_default=True,
    help="The address to listen on: 127.0.0.1 without sign-in; with sign-in, the address "
    "the reverse proxy reaches (docs/deploy.md).",
)
def dashboard(dataset: Path | None, port: int, headless: bool, address: str) -> None:
    """Start the Streamlit dashboard on DATASET, on Neo4j (NEO4J_URI), or on the demo town.

    Without DATASET it shows GRAPHGUARD_DATASET if set, else Neo4j when NEO4J_URI is
    set, else the bundled demo town (fixtures/demo).  Stop it with Ctrl+C.

    With GRAPHGUARD_OIDC_METADATA_URL set, everyone signs in with the identity
    provider (docs/deploy.md); without it, the dashboard is local single-user, on
    127.0.0.1 only, as the operating-system user in GRAPHGUARD_ROLE.
    """
    settings = get_settings()
    config = sign_in(settings, port)
    if config is None:
        check_local_address(address)
        secrets_file = None
        mode = f"local single-user mode, as {cli_identity(settings).user}"
    else:
        secrets_file = write_streamlit_secrets(config, settings)
        mode = f"sign-in with {config.metadata_url}"
    env = dashboard_env(dataset, os.environ)
    # Streamlit reads the secrets from its private file; the page code needs none of them.
    for name in ("GRAPHGUARD_OIDC_CLIENT_SECRET", "GRAPHGUARD_OIDC_COOKIE_SECRET"):
        env.pop(name, None)
    command = streamlit_command(dashboard_app(), port, headless, address, secrets_file)
    shown = env.get(DATASET_ENV) or f"Neo4j at {env.get('NEO4J_URI')}"
    click.echo(f"graphguard dashboard on {shown} ({mode}): http://{address}:{port}", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    # Become Streamlit rather than wait for it, so a SIGTERM or Ctrl+C sent to this
    # process reaches the server itself and nothing is left listening.
    try:
        os.execvpe(command[0], command, env)
    except OSError as error:
        raise BackendUnavailable(f"cannot start Streamlit ({error.strerror})") from None
