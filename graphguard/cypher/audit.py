"""The audit log: one JSON line per Cypher run, allowed or refused."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from graphguard.cypher.results import plain_value

__all__ = ["AuditEntry", "append_audit", "read_audit", "audit_user"]


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log: who ran what, with which parameters, and what happened."""

    time: str
    user: str
    query: str | None
    sha256: str
    text: str
    params: dict[str, Any]
    database: str | None
    rows: int | None
    truncated: bool
    outcome: str  # ok | refused | error | timeout
    reason: str | None
    duration_ms: int


def append_audit(path: Path, entry: AuditEntry) -> None:
    """Append ``entry`` to the audit log at ``path`` as one JSON line.

    The log is created owner-read/write only (it holds query text and parameters).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(asdict(entry), ensure_ascii=False, default=_json_default) + "\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        handle.write(line)


def read_audit(path: Path) -> list[dict[str, Any]]:
    """Every entry of the audit log at ``path`` (empty when there is none yet)."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return plain_value(value)


def audit_user(user: str | None) -> str:
    if user:
        return user
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
