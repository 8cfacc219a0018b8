"""Who is using the dashboard: sign-in with OpenID Connect, or the local single user.

:func:`gate` runs at the top of every page, before the page list is built.

* **Sign-in configured** (``GRAPHGUARD_OIDC_METADATA_URL``; ``graphguard dashboard``
  hands Streamlit its ``[auth]`` section): a visitor who is not signed in sees only a
  sign-in button (``st.login``); a signed-in user's claims (``st.user``) become an
  :class:`~graphguard.access.Identity` through
  :func:`graphguard.access.identity_from_claims`; a user with no mapped role is
  refused, and the refusal is audited.  The first page of a session audits the
  sign-in; "Sign out" audits the sign-out and calls ``st.logout``.
* **Local single-user mode** (no identity provider): the operating-system user in
  the role settings give; refused when the server listens beyond the loopback
  interface or the visitor is not on this machine; every page says so in a banner.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NoReturn

import streamlit as st
from streamlit.errors import StreamlitAuthError
from wording import plain, plain_keeping_code

from graphguard import access, audit
from graphguard.errors import GraphguardError, RefusedError
from graphguard.settings import get_settings
from graphguard.signin import is_loopback

__all__ = ["acting_identity", "gate", "local_banner", "signed_in"]

# The signed-in identity of this browser session, and whether its sign-in is audited.
_IDENTITY_KEY = "gg_signed_in_identity"
_AUDITED_KEY = "gg_sign_in_audited"


def signed_in() -> bool:
    """Whether sign-in with an identity provider is configured (else local mode)."""
    return bool(get_settings().oidc_metadata_url)


def local_banner(identity: access.Identity) -> str:
    """What every page says in local single-user mode."""
    return f"Local single-user mode: you are {identity.user} ({identity.role.spoken}); no sign-in"


def acting_identity() -> access.Identity:
    """Who is using this session: the signed-in identity, or the local user.

    Pages call it (through ``common.acting_identity``) after :func:`gate` let them
    run, so with sign-in configured it is always the identity the gate checked.

    Raises
    ------
    RefusedError
        With sign-in configured, when nobody signed in passed the gate in this session.
    """
    if not signed_in():
        return access.cli_identity()
    identity = st.session_state.get(_IDENTITY_KEY)
    if not isinstance(identity, access.Identity):
        raise RefusedError("nobody is signed in to this session")
    return identity


def gate() -> access.Identity:
    """Let the page run only for someone entitled to it; returns who they are.

    Stops the script (``st.stop``) after showing the sign-in button, a refusal, or
    why local mode will not serve this visitor.
    """
    if not signed_in():
        return _local()
    return _signed_in()


# ---------------------------------------------------------------------------- local mode


def _local() -> access.Identity:
    address = st.get_option("server.address")
    visitor = st.context.ip_address  # None for a visitor on this machine
    if address and not is_loopback(str(address)):
        _stop(
            f"This dashboard has no sign-in, so it serves 127.0.0.1 only, but it listens on "
            f"{address}. Restart it with `graphguard dashboard`, or configure sign-in "
            "(docs/deploy.md)."
        )
    if isinstance(visitor, str) and not is_loopback(visitor):
        _stop(
            "This dashboard has no sign-in and serves only the machine it runs on (docs/deploy.md)."
        )
    try:
        identity = access.cli_identity()
    except GraphguardError as error:
        _stop(str(error))
    st.info(plain(local_banner(identity)))
    return identity


# ------------------------------------------------------------------------------- sign-in


def _signed_in() -> access.Identity:
    claims = st.user.to_dict()
    if not claims.get("is_logged_in"):
        st.session_state.pop(_IDENTITY_KEY, None)
        st.session_state.pop(_AUDITED_KEY, None)
        st.title("graphguard")
        st.markdown(
            "Contextual safeguarding for the partnership. Sign in with your organisation's "
            "account; what you may see depends on your role (docs/access.md)."
        )
        if st.button("Sign in", type="primary"):
            _login()
        st.stop()
    try:
        identity = access.identity_from_claims(claims)
    except RefusedError as refusal:
        _refuse_sign_in(claims, str(refusal))
    st.session_state[_IDENTITY_KEY] = identity
    if not st.session_state.get(_AUDITED_KEY):
        with access.acting(identity):
            _audit_or_stop({"event": str(audit.Event.SIGN_IN), "outcome": "ok"})
        st.session_state[_AUDITED_KEY] = True
    agency = f", {identity.agency}" if identity.agency else ""
    # Claims are the provider's text: shown literally, never as Markdown or a link.
    st.sidebar.markdown(
        f"Signed in as **{plain(identity.user)}** ({identity.role.spoken}{plain(agency)})"
    )
    if st.sidebar.button("Sign out"):
        with access.acting(identity):
            _audit_or_stop({"event": str(audit.Event.SIGN_OUT), "outcome": "ok"})
        _logout()
    return identity


def _login() -> None:
    try:
        st.login()
    except StreamlitAuthError as error:  # Streamlit was given no [auth] section
        _stop(
            f"Sign-in is configured but Streamlit was not given it ({error}): start the "
            "dashboard with `graphguard dashboard`."
        )


def _logout() -> NoReturn:
    st.session_state.pop(_IDENTITY_KEY, None)
    st.session_state.pop(_AUDITED_KEY, None)
    st.logout()
    st.stop()  # st.logout sends the browser away; nothing more of this run is shown


def _refuse_sign_in(claims: Mapping[str, object], reason: str) -> NoReturn:
    """Show the refusal (with a way to sign in as someone else), audit it, stop."""
    if not st.session_state.get(_AUDITED_KEY):
        user = claims.get("email") or claims.get("preferred_username") or claims.get("sub")
        # Nobody acts here: the line names the person refused, and no role.
        _audit_or_stop(
            {
                "event": str(audit.Event.REFUSED),
                "outcome": "refused",
                "action": "sign in",
                "user": str(user or "unknown"),
                "role": None,
                "via": "oidc",
                "reason": reason,
            }
        )
        st.session_state[_AUDITED_KEY] = True
    st.title("graphguard")
    st.error(f"Not allowed: {plain(reason)}. Ask your administrator for a graphguard role.")
    if st.button("Sign out"):
        _logout()
    st.stop()


def _audit_or_stop(fields: dict[str, object]) -> None:
    try:
        audit.append(audit.configured_path(), fields, consequence="so nothing is shown")
    except GraphguardError as error:
        _stop(str(error))


def _stop(message: str) -> NoReturn:
    st.error(plain_keeping_code(message))
    st.stop()
