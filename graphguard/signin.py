"""Dashboard sign-in by OpenID Connect, and the local single-user mode without it.

Sign-in is on when ``GRAPHGUARD_OIDC_METADATA_URL`` names an identity provider's
discovery document.  ``graphguard dashboard`` then gives Streamlit its ``[auth]``
configuration (the provider, the client id and secret, the redirect URI and the
cookie-signing key) in a ``secrets.toml`` of its own, written owner-only into the
state home's ``dashboard/`` folder and passed with Streamlit's ``secrets.files``
option, so the secrets never sit in the working directory, on a command line or in
a log.  The dashboard (``dashboards/signin.py``) asks every visitor to sign in with
``st.login`` and maps their claims to a role with
:func:`graphguard.access.identity_from_claims`.

Without an identity provider the dashboard is a local single-user tool: it listens
on the loopback interface only and acts as the operating-system user in the role
``GRAPHGUARD_ROLE`` gives (:func:`graphguard.access.cli_identity`).
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from graphguard.errors import RefusedError, UsageError
from graphguard.settings import Settings, private_file, state_home

__all__ = [
    "SECRETS_FILE",
    "SignIn",
    "check_local_address",
    "is_loopback",
    "sign_in",
    "write_streamlit_secrets",
]

#: Streamlit's auth configuration, in the state home.
SECRETS_FILE = Path("dashboard") / "secrets.toml"
#: The generated cookie-signing key, in the state home, when none is configured.
COOKIE_SECRET_FILE = Path("dashboard") / "cookie-secret"

# Streamlit only accepts a redirect URI ending with its callback route.
_CALLBACK = "/oauth2callback"
# 256 bits: Streamlit warns below 112.
_COOKIE_SECRET_BYTES = 32


@dataclass(frozen=True)
class SignIn:
    """The identity provider the dashboard signs people in with."""

    metadata_url: str
    client_id: str
    client_secret: str
    redirect_uri: str
    cookie_secret: str
    scope: str

    def __repr__(self) -> str:
        # Never the secrets, should this land in a log or a traceback.
        return f"SignIn(metadata_url={self.metadata_url!r}, client_id={self.client_id!r})"

    def auth_section(self) -> dict[str, object]:
        """Streamlit's ``[auth]`` section for this provider."""
        return {
            "redirect_uri": self.redirect_uri,
            "cookie_secret": self.cookie_secret,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "server_metadata_url": self.metadata_url,
            "client_kwargs": {"scope": self.scope},
        }


def is_loopback(address: str | None) -> bool:
    """Whether ``address`` is this machine's loopback interface only.

    >>> [is_loopback(a) for a in ("127.0.0.1", "::1", "localhost", "0.0.0.0", "", None)]
    [True, True, True, False, False, False]
    """
    if not address:
        return False  # Streamlit listens on every interface when no address is given
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name could resolve anywhere


def check_local_address(address: str | None) -> None:
    """Refuse a non-loopback address for the dashboard in local single-user mode.

    Raises
    ------
    UsageError
        One line: local mode listens on 127.0.0.1 only.
    """
    if not is_loopback(address):
        raise UsageError(
            f"the dashboard has no sign-in, so it listens on 127.0.0.1 only, not "
            f"{address or 'every interface'}: set GRAPHGUARD_OIDC_METADATA_URL to sign people "
            "in (docs/deploy.md)"
        )


def sign_in(settings: Settings, port: int = 8501) -> SignIn | None:
    """The sign-in configuration from settings, or None in local single-user mode.

    The cookie-signing key, when not configured, is generated once into the state
    home (owner-only), so a restarted dashboard keeps its users signed in.

    Raises
    ------
    UsageError
        When sign-in is configured but incomplete (no client id or secret, a redirect
        URI not ending ``/oauth2callback``, no role map), one line naming the setting.
    RefusedError
        When a secret's file cannot be read.
    """
    if not settings.oidc_metadata_url:
        return None
    if not settings.oidc_client_id:
        raise UsageError("GRAPHGUARD_OIDC_METADATA_URL is set but GRAPHGUARD_OIDC_CLIENT_ID is not")
    if not settings.oidc_role_map:
        raise UsageError(
            "sign-in is configured but GRAPHGUARD_OIDC_ROLE_MAP is not: nobody would have a "
            "role (docs/access.md)"
        )
    redirect_uri = settings.oidc_redirect_uri or f"http://localhost:{port}{_CALLBACK}"
    if not redirect_uri.endswith(_CALLBACK):
        raise UsageError(
            f"GRAPHGUARD_OIDC_REDIRECT_URI must end with {_CALLBACK} (the dashboard's "
            f"callback), not {redirect_uri!r}"
        )
    return SignIn(
        metadata_url=settings.oidc_metadata_url,
        client_id=settings.oidc_client_id,
        client_secret=_client_secret(settings),
        redirect_uri=redirect_uri,
        cookie_secret=_cookie_secret(settings),
        scope=settings.oidc_scope,
    )


def _client_secret(settings: Settings) -> str:
    if settings.oidc_client_secret is not None:
        return settings.oidc_client_secret.get_secret_value()
    path = settings.oidc_client_secret_file
    if path is None:
        raise UsageError(
            "GRAPHGUARD_OIDC_METADATA_URL is set but neither GRAPHGUARD_OIDC_CLIENT_SECRET "
            "nor GRAPHGUARD_OIDC_CLIENT_SECRET_FILE is"
        )
    try:
        secret = Path(path).expanduser().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise RefusedError(
            f"GRAPHGUARD_OIDC_CLIENT_SECRET_FILE {path} cannot be read: {reason}"
        ) from None
    if not secret:
        raise UsageError(f"GRAPHGUARD_OIDC_CLIENT_SECRET_FILE {path} is empty")
    return secret


def _cookie_secret(settings: Settings) -> str:
    if settings.oidc_cookie_secret is not None:
        return settings.oidc_cookie_secret.get_secret_value()
    from graphguard.files import atomic_file

    path = state_home(settings) / COOKIE_SECRET_FILE
    if not path.exists():
        with atomic_file(path) as handle:
            handle.write(secrets.token_hex(_COOKIE_SECRET_BYTES) + "\n")
    with private_file(path, "the dashboard's cookie secret") as handle:
        secret = handle.read().decode("ascii", errors="replace").strip()
    if len(secret) < 2 * _COOKIE_SECRET_BYTES:
        raise RefusedError(f"the dashboard's cookie secret {path} is too short: delete it")
    return str(secret)


def _toml_value(value: object) -> str:
    # JSON's string escapes are a subset of TOML's basic strings'.
    if isinstance(value, dict):
        inner = ", ".join(f"{key} = {_toml_value(item)}" for key, item in value.items())
        return "{ " + inner + " }"
    return json.dumps(str(value), ensure_ascii=True)


def write_streamlit_secrets(config: SignIn, settings: Settings) -> Path:
    """Write Streamlit's ``[auth]`` section to the state home, owner-only; its path.

    The file is rewritten whole at every start (atomically, ``0600`` from creation),
    so what it says is always what the settings say now.
    """
    from graphguard.files import atomic_file

    path = state_home(settings) / SECRETS_FILE
    lines = ["# Written by `graphguard dashboard` from GRAPHGUARD_OIDC_*: do not edit.", "[auth]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in config.auth_section().items()]
    with atomic_file(path) as handle:
        handle.write("\n".join(lines) + "\n")
    return path
