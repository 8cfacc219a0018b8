"""Configuration from the environment, and graphguard's state home.

Neo4j's own variable names (``NEO4J_URI``, ``NEO4J_USERNAME``, ``NEO4J_PASSWORD``,
``NEO4J_DATABASE``) are used as they are, so a shell set up for cypher-shell works for
graphguard too; everything else is ``GRAPHGUARD_*``.

**The state home** holds what graphguard keeps for itself: the pseudonym key, the audit
log, an optional settings file and the local Neo4j's data.  It is ``GRAPHGUARD_HOME``
when that is set, else the per-user data directory (platformdirs: on Linux
``~/.local/share/graphguard``), never the working directory, so running from another
folder uses the same key and the same audit log.  It must be a folder of your own that
nobody else can write; everything graphguard creates in it is owner-only from creation.

No ``.env`` is read from the working directory (a file dropped there could switch the
audit off or set a known pseudonym key).  Settings can be kept in the state home's
``settings.env`` instead (dotenv format, owner-only), which the environment overrides.
"""

from __future__ import annotations

import os
import secrets
import stat
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from graphguard.errors import RefusedError

__all__ = [
    "HOME_VARIABLE",
    "SETTINGS_FILE",
    "Settings",
    "get_settings",
    "pseudonym_key",
    "state_home",
    "private_file",
]

#: The variable naming the state home.
HOME_VARIABLE = "GRAPHGUARD_HOME"
#: The optional settings file in the state home.
SETTINGS_FILE = "settings.env"
#: The pseudonym key and the audit log in the state home.
KEY_FILE = "pseudonym.key"
AUDIT_FILE = "audit.jsonl"

# The key is a secret: at least 128 bits of it, written as hex by graphguard itself.
_SHORTEST_KEY = 32


def _default_home() -> Path:
    configured = os.environ.get(HOME_VARIABLE)
    if configured:
        return Path(configured).expanduser().absolute()
    return platformdirs.user_data_path("graphguard", appauthor=False)


class Settings(BaseSettings):
    """Every setting graphguard reads, with its environment variable and default."""

    model_config = SettingsConfigDict(env_prefix="GRAPHGUARD_", env_file=None, extra="ignore")

    neo4j_uri: str | None = Field(default=None, validation_alias=AliasChoices("NEO4J_URI"))
    neo4j_username: str = Field(default="neo4j", validation_alias=AliasChoices("NEO4J_USERNAME"))
    neo4j_password: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("NEO4J_PASSWORD")
    )
    neo4j_database: str | None = Field(
        default=None, validation_alias=AliasChoices("NEO4J_DATABASE")
    )

    #: The query connection's own Neo4j account (``graphguard cypher run`` and the
    #: dashboard's Cypher page), when it is not NEO4J_USERNAME: on Enterprise, a user
    #: with the built-in ``reader`` role, so the liaison's connection cannot write.
    neo4j_reader_username: str | None = None
    neo4j_reader_password: SecretStr | None = None

    #: The state home: the pseudonym key, the audit log, settings.env, the local Neo4j.
    home: Path = Field(default_factory=_default_home)
    #: Half-life, in days, of the evidence of a link (see docs/methodology.md); every
    #: analysis reads it through ``AnalysisOptions.from_settings``.
    half_life_days: float = Field(default=365.0, gt=0)
    #: Ad-hoc Cypher: transaction timeout in seconds and the most rows returned.
    cypher_timeout: float = 30.0
    cypher_row_limit: int = 10_000
    #: Ad-hoc Cypher: the most bytes of result fetched (a bigger row is left out).
    cypher_byte_limit: int = 32 << 20
    #: The audit log, when it is kept outside the state home (a separate volume).
    audit_log: Path | None = None
    #: The workspace database (alerts, disruption actions), when it is not the state
    #: home's ``workspace/workspace.sqlite3``: ``sqlite:////absolute/path`` for now.
    workspace_url: str | None = None
    #: Batch size of the Neo4j loader.
    batch_size: int = 5_000
    #: The longest cell read from a CSV file or workbook, in characters.
    max_cell_chars: int = Field(default=1_000_000, ge=1)
    #: The most a workbook may unpack to, in MiB, checked before it is unpacked.
    xlsx_max_unpacked_mb: int = Field(default=2048, ge=1)
    #: The most a workbook part may unpack to as a multiple of its packed size.
    xlsx_max_ratio: float = Field(default=100.0, gt=1)
    #: The dashboard map's basemap: a tile server's URL template with {z}, {x} and {y}
    #: (none by default, so nothing is fetched from another host), and its credit line.
    map_tiles: str | None = None
    map_attribution: str | None = None
    #: Entity resolution (docs/resolution.md): a pair at or above the join threshold is
    #: joined, at or above the review threshold it waits for an analyst, else it is apart.
    match_join_threshold: float = Field(default=0.95, gt=0, le=1)
    match_review_threshold: float = Field(default=0.5, gt=0, le=1)
    #: Pairs below this probability are not kept as candidates at all.
    match_candidate_floor: float = Field(default=0.01, ge=0, le=1)
    #: From this many records of a kind, the resolver estimates its parameters from the
    #: data (u by random sampling, m by expectation maximisation); below it, the priors.
    match_train_from: int = Field(default=5_000, ge=2)
    #: Seed of the resolver's random sampling.
    match_seed: int = 0
    #: The role of the operating-system user: the CLI's, and the dashboard's in local
    #: single-user mode (docs/access.md).
    role: Literal[
        "analyst", "disruption_team", "police_liaison", "partner_practitioner", "administrator"
    ] = "analyst"
    #: The agency of the operating-system user (a partner practitioner sees its own).
    agency: str | None = None
    #: Sign-in (OpenID Connect): the claim holding a user's roles or groups, the JSON
    #: object mapping its values to graphguard roles, and the claim naming their agency.
    oidc_role_claim: str = "roles"
    oidc_role_map: str | None = None
    oidc_agency_claim: str = "agency"
    #: Sign-in: the identity provider's discovery document (``.../.well-known/
    #: openid-configuration``); setting it turns sign-in on (docs/deploy.md).
    oidc_metadata_url: str | None = None
    #: Sign-in: the dashboard's client id and secret registered with the provider.
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    #: Sign-in: the client secret read from this file instead (a mounted secret).
    oidc_client_secret_file: Path | None = None
    #: Sign-in: where the provider sends users back, the dashboard's public address
    #: ending ``/oauth2callback``; default ``http://localhost:PORT/oauth2callback``.
    oidc_redirect_uri: str | None = None
    #: Sign-in: the key signing the dashboard's sign-in cookie; default, one generated
    #: once into the state home's ``dashboard/cookie-secret``.
    oidc_cookie_secret: SecretStr | None = None
    #: Sign-in: the scopes asked of the provider (some need one that carries roles).
    oidc_scope: str = "openid profile email"
    #: The retention policy (a CSV file of rules, docs/data-protection.md), when it is
    #: not the state home's ``retention-policy.csv`` or graphguard's defaults.
    retention_policy: Path | None = None

    def query_account(self) -> tuple[str, str | None]:
        """The Neo4j user and password for read-only queries: the reader's, else NEO4J_*."""
        if self.neo4j_reader_username:
            password = self.neo4j_reader_password
            return self.neo4j_reader_username, password.get_secret_value() if password else None
        password = self.neo4j_password
        return self.neo4j_username, password.get_secret_value() if password else None

    @property
    def audit_path(self) -> Path:
        """The audit log: ``GRAPHGUARD_AUDIT_LOG``, else ``audit.jsonl`` in the state home."""
        return (self.audit_log or self.home / AUDIT_FILE).expanduser().absolute()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (read once): the environment, then ``settings.env``.

    Raises
    ------
    RefusedError
        When the state home's ``settings.env`` is not a private file of this user.
    """
    home = _default_home()
    settings_file = home / SETTINGS_FILE
    env_file = None
    if os.path.lexists(settings_file):
        private_file(settings_file, "the settings file").close()
        env_file = settings_file
    # The state home comes from the environment only: a settings file inside it cannot move it.
    return Settings(_env_file=env_file, home=home)  # type: ignore[call-arg]


def state_home(settings: Settings | None = None) -> Path:
    """The state home, created owner-only (``0700``) if missing.

    Raises
    ------
    RefusedError
        When it is not a folder, belongs to another user or other users can write to it.
    """
    from graphguard.files import private_folder

    home = (settings or get_settings()).home
    private_folder(home)
    try:
        found = os.stat(home)
    except OSError as error:
        raise RefusedError(f"the state home {home} cannot be used: {error.strerror}") from error
    if not stat.S_ISDIR(found.st_mode):
        raise RefusedError(f"the state home {home} ({HOME_VARIABLE}) is not a folder")
    if found.st_uid != os.geteuid():
        raise RefusedError(
            f"the state home {home} ({HOME_VARIABLE}) belongs to another user: "
            "use a folder of your own"
        )
    if found.st_mode & 0o022:
        raise RefusedError(
            f"the state home {home} ({HOME_VARIABLE}) can be written by other users: "
            f"make it yours alone (chmod 700 {home}) or choose another"
        )
    return home


def private_file(path: Path, what: str, *, create: bool = False, append: bool = False) -> Any:
    """Open one of graphguard's own files, refusing anything but a private regular file.

    The file (the audit log, the pseudonym key, the settings file) must be a regular
    file — not a symbolic link, a device such as ``/dev/null`` or ``/dev/full``, a
    folder or a pipe — owned by this user and unreadable by anyone else.

    Parameters
    ----------
    path : Path
        The file.
    what : str
        What it is, for the message ("the audit log").
    create : bool
        Create it (owner-only, ``0600``) when it does not exist.
    append : bool
        Open it for reading and appending (binary), else for reading.

    Returns
    -------
    file object
        Opened in binary mode.

    Raises
    ------
    RefusedError
        Exit 3, with one line naming the file and what is wrong with it.
    """
    flags = (os.O_RDWR | os.O_APPEND) if append else os.O_RDONLY
    flags |= (
        getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    )
    if create:
        flags |= os.O_CREAT
    if os.path.islink(path):
        raise RefusedError(f"{what} {path} is a symbolic link: refused (it could lead anywhere)")
    if os.path.isdir(path):
        raise RefusedError(f"{what} {path} is a folder, not a file: refused")
    if create:
        from graphguard.files import private_folder

        private_folder(path.parent)
    try:
        descriptor = os.open(path, flags, 0o600)
    except OSError as error:
        raise RefusedError(f"{what} {path} cannot be opened: {error.strerror}") from error
    try:
        found = os.fstat(descriptor)
        problem = None
        if not stat.S_ISREG(found.st_mode):
            problem = "is not a regular file (a device, a pipe or a socket)"
        elif found.st_uid != os.geteuid():
            problem = "belongs to another user"
        elif found.st_mode & 0o077:
            problem = f"can be read or written by other users (chmod 600 {path})"
        if problem:
            raise RefusedError(f"{what} {path} {problem}: refused")
        if getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "a+b" if append else "rb", buffering=0 if append else -1)
    except BaseException:
        os.close(descriptor)
        raise


def pseudonym_key(settings: Settings | None = None) -> bytes:
    """The local secret for keyed pseudonyms, kept in the state home (``pseudonym.key``).

    The key is generated on first use, owner-only from creation, so the same young
    person gets the same pseudonym in every export made with this state home.  To share
    pseudonyms between machines, copy the file (keeping it ``0600``).

    Raises
    ------
    RefusedError
        When ``GRAPHGUARD_PSEUDONYM_KEY`` is set (a key from the environment is no longer
        taken), or the key file is not a private regular file, or it is too short.
    """
    if os.environ.get("GRAPHGUARD_PSEUDONYM_KEY"):
        raise RefusedError(
            "GRAPHGUARD_PSEUDONYM_KEY is set, and a key from the environment is refused "
            "(anyone who knows it can reverse every pseudonym): unset it, and put a shared key "
            f"in {KEY_FILE} in the state home (see `graphguard where`)"
        )
    home = state_home(settings)
    path = home / KEY_FILE
    if not os.path.lexists(path):
        create_key_file(path)
    with private_file(path, "the pseudonym key") as handle:
        key = handle.read().strip()
    if len(key) < _SHORTEST_KEY:
        raise RefusedError(
            f"the pseudonym key {path} is shorter than {_SHORTEST_KEY} characters: refused"
        )
    return bytes(key)


def create_key_file(path: Path) -> None:
    """Write a new 256-bit key (hex) at ``path``, owner-only, unless another process won.

    The key is written beside ``path`` and linked into place, so two first runs agree
    on one key.  The pseudonym key and the identity store's key are made this way.
    """
    from graphguard.files import new_private_file

    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.partial")
    with new_private_file(temporary) as handle:
        handle.write(secrets.token_hex(32))
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(temporary, path)  # fails if it exists: two first runs agree on one key
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)
