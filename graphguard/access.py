"""Who may see and do what: roles, the permission matrix, and who is acting.

One matrix (docs/access.md) decides, for each role, the pages, commands and exports it
may use, whether it may reveal a young person's identity and whether it sees records
with handling code C.  The CLI and the dashboard both ask it, through :func:`require`
and :func:`allowed`, so a rule is written once.

Who is acting is an :class:`Identity`: the signed-in user and the role their identity
provider's claims map to (dashboard with OpenID Connect), or the operating-system user
with the role settings give (the CLI, and the dashboard in local single-user mode).
:func:`acting` makes an identity the one the audit log records for the code inside it.
"""

from __future__ import annotations

import contextlib
import contextvars
import enum
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphguard.errors import RefusedError, UsageError

__all__ = [
    "MATRIX",
    "Identity",
    "Permission",
    "Role",
    "RoleRow",
    "acting",
    "allowed",
    "cli_identity",
    "current_identity",
    "identity_from_claims",
    "require",
]


class Role(enum.StrEnum):
    """A graphguard role (docs/access.md)."""

    ANALYST = "analyst"
    DISRUPTION_TEAM = "disruption_team"
    POLICE_LIAISON = "police_liaison"
    PARTNER_PRACTITIONER = "partner_practitioner"
    ADMINISTRATOR = "administrator"

    @property
    def spoken(self) -> str:
        """The role as people say it: "police liaison"."""
        return self.value.replace("_", " ")


class Permission(enum.StrEnum):
    """Something a role may do; each page, command and export needs one."""

    #: Peer groups, hubs, contexts, the network, the timeline (pages and ``analyse``).
    VIEW_ANALYSIS = "view analysis"
    #: Show a young person's name and identifying details (with a reason, audited).
    REVEAL_IDENTITY = "reveal identity"
    #: See links and records with handling code C (police only).
    SEE_HANDLING_C = "see handling code C"
    #: The disruption plan, relocation comparison and placement check.
    PLAN_DISRUPTION = "plan disruption"
    #: Target lists: ``targets`` and the dashboard's downloads.
    EXPORT_TARGETS = "export target lists"
    #: The Cypher library and read-only ad-hoc Cypher, and their downloads.
    RUN_CYPHER = "run Cypher"
    #: Entity resolution's candidate pairs and the records behind an entity.
    VIEW_MATCHES = "view matches"
    #: Decide that two records are (or are not) one person or place.
    DECIDE_MATCHES = "decide matches"
    #: The monthly meeting's picture: what changed, the alert inbox, actions.
    VIEW_MEETING = "view meeting"
    #: Acknowledge, dismiss or action alerts; run the watch rules.
    MANAGE_ALERTS = "manage alerts"
    #: Record and update disruption actions.
    MANAGE_ACTIONS = "manage actions"
    #: The briefing pack (PDF).
    EXPORT_BRIEFING = "export briefing"
    #: Validate and load data into Neo4j, check and repair it, run the local server.
    MANAGE_DATA = "manage data"
    #: Read and verify the audit log.
    READ_AUDIT = "read audit log"
    #: The fairness report (``fairness`` and its page), on the role's view like every
    #: score: roles that see every agency's records.
    VIEW_FAIRNESS = "view fairness report"
    #: The retention review: what is due, and decisions to keep a record longer.
    REVIEW_RECORDS = "review records"
    #: Delete what is past review (``review purge``) and let a deleted record back in.
    PURGE_RECORDS = "purge records"
    #: Write a subject-access pack: everything graphguard holds about one person.
    SUBJECT_ACCESS = "answer subject access"


class Scope(enum.StrEnum):
    """Whose records a role sees."""

    #: Every agency's records (handling code C only with :attr:`Permission.SEE_HANDLING_C`).
    ALL = "all agencies"
    #: Its own agency's records, and what other agencies recorded as shareable.
    OWN_AGENCY = "own agency and shareable"
    #: No personal data at all.
    NONE = "none"


@dataclass(frozen=True)
class RoleRow:
    """One row of the matrix: what a role may do and whose records it sees."""

    role: Role
    permissions: frozenset[Permission]
    scope: Scope
    summary: str


_P = Permission

#: The permission matrix: one row per role (docs/access.md renders it).
MATRIX: dict[Role, RoleRow] = {
    row.role: row
    for row in (
        RoleRow(
            Role.ANALYST,
            frozenset(_P),
            Scope.ALL,
            "the partnership's intelligence analyst (a police-vetted post): explores the "
            "whole network, resolves records, and alone may reveal a young person's identity",
        ),
        RoleRow(
            Role.DISRUPTION_TEAM,
            frozenset(
                {
                    _P.VIEW_ANALYSIS,
                    _P.PLAN_DISRUPTION,
                    _P.EXPORT_TARGETS,
                    _P.VIEW_MEETING,
                    _P.MANAGE_ACTIONS,
                    _P.EXPORT_BRIEFING,
                    _P.VIEW_FAIRNESS,
                }
            ),
            Scope.ALL,
            "plans and records disruption of adults, places and vehicles on the shareable view",
        ),
        RoleRow(
            Role.POLICE_LIAISON,
            frozenset(
                {
                    _P.VIEW_ANALYSIS,
                    _P.SEE_HANDLING_C,
                    _P.RUN_CYPHER,
                    _P.VIEW_MEETING,
                    _P.MANAGE_ALERTS,
                    _P.VIEW_FAIRNESS,
                }
            ),
            Scope.ALL,
            "the force's liaison: read-only Cypher and police-only intelligence",
        ),
        RoleRow(
            Role.PARTNER_PRACTITIONER,
            frozenset({_P.VIEW_ANALYSIS, _P.VIEW_MEETING}),
            Scope.OWN_AGENCY,
            "a school, social-care or youth-service practitioner: its own agency's records "
            "and what others share",
        ),
        RoleRow(
            Role.ADMINISTRATOR,
            frozenset({_P.MANAGE_DATA, _P.READ_AUDIT}),
            Scope.NONE,
            "runs the deployment: loads and checks data, reads the audit log; sees no "
            "personal data",
        ),
    )
}


@dataclass(frozen=True)
class Identity:
    """Who is acting: a user, their role, their agency, and how they were identified.

    ``via`` is ``"local"`` (the operating-system user: the CLI, or the dashboard with
    no identity provider) or ``"oidc"`` (signed in to the dashboard).
    """

    user: str
    role: Role
    agency: str | None = None
    via: str = "local"

    @property
    def row(self) -> RoleRow:
        """This identity's row of the matrix."""
        return MATRIX[self.role]

    def may(self, permission: Permission) -> bool:
        """Whether this identity's role has ``permission``."""
        return permission in self.row.permissions

    def audit_fields(self) -> dict[str, Any]:
        """What every audit line records about who acted."""
        fields: dict[str, Any] = {"user": self.user, "role": str(self.role), "via": self.via}
        if self.agency:
            fields["agency"] = self.agency
        return fields


def allowed(identity: Identity, permission: Permission) -> bool:
    """Whether ``identity`` may do what ``permission`` names."""
    return identity.may(permission)


def require(identity: Identity, permission: Permission, what: str) -> None:
    """Refuse (exit 3) when ``identity`` may not do ``permission``; audit the refusal.

    ``what`` names the action in the message ("export a target list").  The refusal is
    audited first; if that fails, the audit error is raised instead (still a refusal).
    """
    if identity.may(permission):
        return
    from graphguard import audit

    message = (
        f"{identity.user} ({identity.role.spoken}) may not {what}: the role lacks "
        f"'{permission}' (docs/access.md)"
    )
    audit.append(
        audit.configured_path(),
        {
            "event": str(audit.Event.REFUSED),
            "outcome": "refused",
            "permission": str(permission),
            "action": what,
        },
        consequence="and the action is refused",
    )
    raise RefusedError(message)


# -------------------------------------------------------------------------- who is acting

_ACTING: contextvars.ContextVar[Identity | None] = contextvars.ContextVar(
    "graphguard_acting", default=None
)


@contextlib.contextmanager
def acting(identity: Identity) -> Iterator[Identity]:
    """Make ``identity`` the one audited for the code in the ``with`` block."""
    token = _ACTING.set(identity)
    try:
        yield identity
    finally:
        _ACTING.reset(token)


def current_identity() -> Identity:
    """Who is acting here: the identity :func:`acting` set, else the CLI's."""
    identity = _ACTING.get()
    return identity if identity is not None else cli_identity()


def cli_identity(settings: Any = None) -> Identity:
    """The operating-system user, in the role settings give (``GRAPHGUARD_ROLE``)."""
    from graphguard.audit import acting_user
    from graphguard.settings import get_settings

    settings = settings or get_settings()
    return Identity(acting_user(), Role(settings.role), settings.agency, "local")


def _claim_values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable):
        return [str(v) for v in value]
    return [str(value)]


def identity_from_claims(claims: Mapping[str, Any], settings: Any = None) -> Identity:
    """The identity of a signed-in user from their identity provider's claims.

    The user is the ``email`` claim, else ``preferred_username``, else ``sub``.  The
    role claim (``GRAPHGUARD_OIDC_ROLE_CLAIM``, default ``roles``; a list or one
    string, as Entra ID's app roles or a ``groups`` claim give it) is mapped through
    ``GRAPHGUARD_OIDC_ROLE_MAP``; a user with several mapped roles gets the one that
    sees least (the later row of the matrix never widens what an earlier one gives).

    Raises
    ------
    RefusedError
        When no claim value maps to a graphguard role: the user may not use graphguard.
    """
    from graphguard.settings import get_settings

    settings = settings or get_settings()
    user = str(
        claims.get("email") or claims.get("preferred_username") or claims.get("sub") or ""
    )
    if not user:
        raise RefusedError("the identity provider gave no email, username or subject")
    mapping = role_map(settings)
    claimed = _claim_values(claims.get(settings.oidc_role_claim))
    roles = {mapping[value] for value in claimed if value in mapping}
    if not roles:
        raise RefusedError(
            f"{user} has no graphguard role: none of their '{settings.oidc_role_claim}' "
            "claims is in GRAPHGUARD_OIDC_ROLE_MAP"
        )
    role = _least(roles)
    agency_values = _claim_values(claims.get(settings.oidc_agency_claim))
    return Identity(user, role, agency_values[0] if agency_values else None, "oidc")


# A user holding several roles gets the one that sees least, in this order.
_LEAST_FIRST = (
    Role.ADMINISTRATOR,
    Role.PARTNER_PRACTITIONER,
    Role.DISRUPTION_TEAM,
    Role.POLICE_LIAISON,
    Role.ANALYST,
)


def _least(roles: set[Role]) -> Role:
    return next(role for role in _LEAST_FIRST if role in roles)


def role_map(settings: Any) -> dict[str, Role]:
    """``GRAPHGUARD_OIDC_ROLE_MAP``: claim value → role, checked (a JSON object)."""
    text = settings.oidc_role_map
    if not text:
        return {}
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"GRAPHGUARD_OIDC_ROLE_MAP is not JSON: {error.msg}") from error
    if not isinstance(raw, dict):
        raise UsageError("GRAPHGUARD_OIDC_ROLE_MAP must be a JSON object: claim value → role")
    mapping: dict[str, Role] = {}
    for claim, role in raw.items():
        try:
            mapping[str(claim)] = Role(role)
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise UsageError(
                f"GRAPHGUARD_OIDC_ROLE_MAP maps {claim!r} to {role!r}, which is not a role "
                f"({known})"
            ) from None
    return mapping
