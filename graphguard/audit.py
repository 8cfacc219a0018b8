"""The audit log: one JSON line for every export, analysis and sensitive view.

Cypher runs are audited by :mod:`graphguard.cypher.audit` into the same file
(``GRAPHGUARD_AUDIT_LOG``, by default ``GRAPHGUARD_HOME/audit.jsonl``), created
owner-read/write only.  Young people are only ever named in it by pseudonym.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from typing import Any

__all__ = ["audit_event"]


def audit_event(action: str, **fields: Any) -> None:
    """Append one JSON line: the time (UTC), the user, the action and its details."""
    from graphguard.settings import get_settings

    settings = get_settings()
    try:
        user = settings.user or getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    entry = {
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "user": user,
        "action": action,
        **fields,
    }
    path = settings.audit_path
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
