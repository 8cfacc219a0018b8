"""The audit log: the one writer, named events, a hash chain, and it fails closed.

Every command and dashboard action that discloses data — an export, an analysis, a
plan, a view of a young person, a Cypher run, a download — is audited here, by the CLI
and the dashboard alike, in two lines: one *before* anything is disclosed (outcome
``started``) and one after it with the outcome (``ok``, ``refused``, ``error``,
``timeout`` or ``interrupted``) and what was disclosed (rows, the resolved path).  If
the first line cannot be written, :func:`audited` raises :class:`AuditError` (exit 3)
and nothing is exported, shown or sent to Neo4j.

The log is one JSON object per line (``GRAPHGUARD_AUDIT_LOG``, else ``audit.jsonl`` in
the state home), owner-only, appended under an exclusive lock and ``fsync``\\ ed.  Each
line carries its number (``seq``), the hash of the line before it (``prev``) and its
own hash (``hash``: SHA-256 of ``prev`` and the line's other fields), so
:func:`verify_log` (``graphguard audit verify``) finds a line deleted, edited or moved.

Young people are never named in the log: callers pass pseudonyms, and the parameters
and string literals of a Cypher query are recorded as keyed pseudonyms
(:func:`pseudonymised_params`, :func:`pseudonymised_text`).  The acting user is the
operating-system account (:func:`acting_user`), which an environment variable cannot
change.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import fcntl
import hashlib
import json
import os
import pwd
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphguard.errors import GraphguardError, RefusedError

__all__ = [
    "Event",
    "AuditError",
    "Audited",
    "audited",
    "acting_user",
    "read_audit",
    "verify_log",
    "ChainReport",
    "pseudonymised_params",
    "pseudonymised_text",
    "GENESIS",
]

#: ``prev`` of the first line of a log.
GENESIS = "0" * 64


class Event(enum.StrEnum):
    """Every audited action, by the name its lines carry in ``event``."""

    ANALYSE = "analyse"
    EXPORT_TARGETS = "export targets"
    EXPORT_REJECTS = "export rejects"
    PLAN = "view plan"
    RELOCATION = "view relocation"
    PLACEMENT_CHECK = "view placement check"
    CYPHER = "cypher run"
    DOWNLOAD_TARGETS = "download targets"
    DOWNLOAD_CYPHER = "download cypher result"
    RESOLVE = "resolve"
    MATCH_DECISION = "match decision"
    ACTION_ADD = "action add"
    ACTION_UPDATE = "action update"
    VIEW_ACTIONS = "view actions"
    VIEW_DISPLACEMENT = "view displacement"
    EXPORT_BRIEFING = "export briefing"
    DOWNLOAD_BRIEFING = "download briefing"
    CHANGES = "view changes"
    WATCH = "watch raise alerts"
    ALERTS = "view alerts"
    ALERT_STATE = "alert state"
    REFUSED = "refused"
    SIGN_IN = "sign in"
    SIGN_OUT = "sign out"
    RETENTION_REVIEW = "view retention review"
    RETENTION_KEEP = "retention keep"
    RETENTION_RESTORE = "retention restore"
    RETENTION_PURGE = "retention purge"
    SUBJECT_ACCESS = "subject access"
    #: An analyst showed young people's names, with a stated reason (its hash is logged).
    REVEAL = "reveal identity"
    #: A dashboard page showing personal data was viewed (its ``subjects`` say whose).
    VIEW_PAGE = "view page"
    #: The fairness report written (``fairness``) or downloaded from its page.
    EXPORT_FAIRNESS = "export fairness report"
    #: The fairness page viewed (aggregates only: no subjects).
    VIEW_FAIRNESS = "view fairness report"


class AuditError(RefusedError):
    """The audit log could not be written, so nothing was disclosed (exit 3)."""


def acting_user() -> str:
    """Who is acting: the operating-system account of this process.

    Read from the password database by user id, not from ``$USER`` or ``$LOGNAME``,
    which anyone can set.

    Raises
    ------
    RefusedError
        When ``GRAPHGUARD_USER`` names somebody else (it is no longer honoured, and a
        run that believes it is recorded under another name must not go ahead).
    """
    uid = os.geteuid()
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = f"uid {uid}"
    claimed = os.environ.get("GRAPHGUARD_USER")
    if claimed and claimed != user:
        raise RefusedError(
            f"GRAPHGUARD_USER is {claimed!r}, but graphguard records the operating-system "
            f"user ({user}) in the audit log and cannot act as anyone else: unset it"
        )
    return user


# ---------------------------------------------------------------------------- writing


@dataclass
class Audited:
    """One audited action in progress: its ``started`` line is written, its outcome not yet.

    Add what was disclosed with :meth:`note` (rows, a resolved path); the outcome line
    carries it.
    """

    event: Event
    run: str
    details: dict[str, Any] = field(default_factory=dict)

    def note(self, **details: Any) -> None:
        """Record more about the action for its outcome line (rows, a path, a reason)."""
        self.details.update(details)


@contextlib.contextmanager
def audited(event: Event, log: Path | None = None, **fields: Any) -> Iterator[Audited]:
    """Audit the action in the ``with`` block: a line before it, a line with its outcome.

    Parameters
    ----------
    event : Event
        What is being done.
    log : Path, optional
        The audit log (default: the configured one, ``GRAPHGUARD_AUDIT_LOG`` or the state
        home's ``audit.jsonl``).
    **fields
        What the action is about (a pseudonym, a resolved output path, options); they
        go on both lines.  Never pass a young person's id: pass its pseudonym.

    Yields
    ------
    Audited
        :meth:`Audited.note` adds to the outcome line.

    Raises
    ------
    AuditError
        Before the block runs, when the first line cannot be written: nothing must be
        disclosed then.  After a block that succeeded, when its outcome cannot be
        recorded.
    """
    log = log or configured_path()
    run = secrets.token_hex(6)
    append(log, {"event": str(event), "run": run, "outcome": "started", **fields})
    action = Audited(event, run)
    try:
        yield action
    except BaseException as error:
        outcome = _outcome_of(error)
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        with contextlib.suppress(GraphguardError):  # keep the first error, not the audit's
            append(
                log,
                {
                    "event": str(event),
                    "run": run,
                    "outcome": outcome,
                    **fields,
                    "reason": reason,
                    **action.details,
                },
            )
        raise
    append(
        log,
        {"event": str(event), "run": run, "outcome": "ok", **fields, **action.details},
        consequence="it went ahead, but its outcome is not recorded",
    )


def _outcome_of(error: BaseException) -> str:
    if isinstance(error, KeyboardInterrupt | SystemExit):
        return "interrupted"
    from graphguard.cypher.execute import QueryOutOfMemory, QueryTimeout, ServerLost

    if isinstance(error, QueryTimeout):
        return "timeout"
    if isinstance(error, QueryOutOfMemory):
        return "out_of_memory"
    if isinstance(error, ServerLost):
        return "server_lost"
    if isinstance(error, RefusedError):
        return "refused"
    return "error"


def configured_path() -> Path:
    """The audit log settings name (``GRAPHGUARD_AUDIT_LOG``, else the state home's)."""
    from graphguard.settings import get_settings, state_home

    settings = get_settings()
    if settings.audit_log is None:
        state_home(settings)  # a home that is not the user's own is refused first
    return settings.audit_path


def append(
    path: Path, fields: Mapping[str, Any], *, consequence: str = "nothing was disclosed"
) -> dict[str, Any]:
    """Append one chained line to the audit log at ``path``; returns the line as written.

    The time, the acting user, the process id, ``seq``, ``prev`` and ``hash`` are added
    here; ``consequence`` ends the message of a failure.  The log is locked while its
    last line is read and the new one written, so two processes (the CLI and the
    dashboard) never fork the chain.

    Raises
    ------
    AuditError
        When the log cannot be opened (not a private regular file of this user) or
        written (a full disk): one line naming the log and the reason.
    """
    from graphguard.access import current_identity
    from graphguard.settings import private_file

    who = current_identity().audit_fields()
    try:
        handle = private_file(path, "the audit log", create=True, append=True)
    except RefusedError as error:
        raise AuditError(f"{error}; {consequence}") from error
    try:
        with handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            seq, prev = _last_link(handle)
            entry: dict[str, Any] = {
                "seq": seq + 1,
                "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
                **who,
                "pid": os.getpid(),
                **fields,
                "prev": prev,
            }
            entry = json.loads(json.dumps(entry, ensure_ascii=False, default=_plain))
            entry["hash"] = _hash(entry)
            line = json.dumps(entry, ensure_ascii=False) + "\n"
            end = handle.seek(0, os.SEEK_END)
            try:
                _write_all(handle.fileno(), line.encode("utf-8"))
                os.fsync(handle.fileno())
            except OSError:
                # A full disk can take part of the line: cut it off, or the chain is torn.
                with contextlib.suppress(OSError):
                    os.ftruncate(handle.fileno(), end)
                raise
    except OSError as error:
        from graphguard.files import write_error

        raise AuditError(
            f"the audit log cannot be written: {write_error(path, error)}; {consequence}"
        ) from error
    return entry


def _write_all(descriptor: int, data: bytes) -> None:
    """Write every byte: a full disk can take part of a write without an error."""
    view = memoryview(data)
    while view:
        written = os.write(descriptor, view)
        view = view[written:]


def _last_link(handle: Any) -> tuple[int, str]:
    """``seq`` and ``hash`` of the log's last line (0 and :data:`GENESIS` when empty)."""
    end = handle.seek(0, os.SEEK_END)
    if end == 0:
        return 0, GENESIS
    chunk, position = b"", end
    while position > 0 and chunk.count(b"\n") < 2:
        step = min(4096, position)
        position -= step
        handle.seek(position)
        chunk = handle.read(step) + chunk
    last = chunk.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    try:
        entry = json.loads(last)
        return int(entry["seq"]), str(entry["hash"])
    except (ValueError, KeyError, TypeError):
        # A line graphguard did not write (or a torn one): chain on to its bytes, and let
        # `audit verify` report it.
        return 0, hashlib.sha256(last).hexdigest()


def _hash(entry: Mapping[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


# ---------------------------------------------------------------------------- reading


def read_audit(path: Path | None = None) -> list[dict[str, Any]]:
    """Every entry of the audit log (empty when there is none yet)."""
    log = path or configured_path()
    if not log.exists():
        return []
    with log.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@dataclass(frozen=True)
class ChainReport:
    """What :func:`verify_log` found: how many lines, the last hash, every broken line."""

    path: Path
    lines: int
    head: str
    problems: list[tuple[int, str]]

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_log(path: Path | None = None) -> ChainReport:
    """Check the hash chain of the audit log, line by line.

    A line whose hash does not match its content was edited; a line whose ``prev`` is
    not the hash of the line before it, or whose ``seq`` does not follow, comes after
    a deleted, inserted or moved line.  Deleting the *last* lines leaves a valid
    chain: compare ``head`` and ``lines`` with those of an earlier verification.

    Returns
    -------
    ChainReport
        ``problems`` lists ``(line number, reason)``, first line 1.
    """
    log = path or configured_path()
    problems: list[tuple[int, str]] = []
    prev, seq, count = GENESIS, 0, 0
    if not log.exists():
        return ChainReport(log, 0, GENESIS, [])
    with log.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            count = number
            try:
                entry = json.loads(raw)
                recorded = str(entry["hash"])
                claimed_prev, claimed_seq = str(entry["prev"]), int(entry["seq"])
            except (ValueError, KeyError, TypeError):
                problems.append((number, "is not a chained audit line (edited, or torn)"))
                prev, seq = hashlib.sha256(raw.rstrip(b"\n")).hexdigest(), 0
                continue
            if _hash(entry) != recorded:
                problems.append((number, "was edited: its hash does not match its content"))
            elif claimed_prev != prev or claimed_seq != seq + 1:
                missing = claimed_seq - seq - 1
                why = (
                    f"{missing} line{'s' if missing != 1 else ''} before it "
                    f"{'were' if missing != 1 else 'was'} deleted"
                    if missing > 0
                    else "the line before it is not the one it was chained to"
                )
                problems.append((number, f"does not follow the line before it: {why}"))
            prev, seq = recorded, claimed_seq
    return ChainReport(log, count, prev, problems)


# ---------------------------------------------------------------------------- pseudonyms


def pseudonymised_params(params: Mapping[str, Any], key: bytes) -> dict[str, Any]:
    """Cypher parameters as the audit records them: every string as a keyed pseudonym.

    A parameter may name a young person (``young_person_id``, but also ``entity_id`` or
    ``person_id``), and the log cannot tell which without reading the data, so every
    text value becomes ``ID-`` and the same 10 hex digits as that id's ``YP-`` pseudonym
    in exports.  Numbers, booleans, dates and nulls are kept as they are.

    >>> pseudonymised_params({"adult_id": "AD017", "max_steps": 2}, b"k")["max_steps"]
    2
    >>> pseudonymised_params({"ids": ["YP1"]}, b"k")["ids"][0].startswith("ID-")
    True
    """
    return {name: _pseudonymised(value, key) for name, value in params.items()}


def _pseudonymised(value: Any, key: bytes) -> Any:
    from graphguard.privacy import pseudonym

    if isinstance(value, str):
        return pseudonym(value, key, prefix="ID")
    if isinstance(value, list | tuple):
        return [_pseudonymised(v, key) for v in value]
    if isinstance(value, dict):
        return {k: _pseudonymised(v, key) for k, v in value.items()}
    return value


def pseudonymised_text(text: str, key: bytes) -> str:
    """Cypher text as the audit records it: string literals pseudonymised, comments withheld.

    An ad-hoc query can carry a young person's id or name as a literal
    (``{id: 'YP003'}``) or in a comment; the audit keeps the query's shape and the
    ``sha256`` of the exact text (on its line), so the query can still be confirmed.

    >>> pseudonymised_text("MATCH (p {id: 'YP003'}) // Ada\\nRETURN p", b"k")
    "MATCH (p {id: 'ID-3aac36139a'}) /* comment withheld */ RETURN p"
    """
    from graphguard.cypher.lexer import tokens
    from graphguard.privacy import pseudonym

    try:
        found = tokens(text)
    except GraphguardError:
        return "[withheld: the text does not tokenise]"
    parts: list[str] = []
    position = 0
    for token in found:
        gap = text[position : token.offset]
        parts.append(gap if not gap.strip() else " /* comment withheld */ ")
        if token.kind == "string":
            parts.append("'" + pseudonym(token.text, key, prefix="ID") + "'")
        else:
            parts.append(text[token.offset : token.end])
        position = token.end
    if text[position:].strip():
        parts.append(" /* comment withheld */")
    return "".join(parts)
