"""Retention: the policy, review dates, keep decisions, purge and the deletion log.

- :mod:`.policy`: the rules (a CSV settings file, or graphguard's defaults).
- :mod:`.review`: every record's review date and what is due.
- :mod:`.log`: keep and restore decisions and the deletion log (workspace database).
- :mod:`.purge`: deleting what is due from every place graphguard keeps it.

See docs/data-protection.md.
"""

from graphguard.retention.log import (
    Decision,
    Deletion,
    deletions,
    held_back,
    keep_decisions,
    record_decision,
    record_deletions,
)
from graphguard.retention.policy import Policy, Rule, load_policy, parse_policy
from graphguard.retention.review import RecordReview, record_ref, review_records

__all__ = [
    "Decision",
    "Deletion",
    "Policy",
    "RecordReview",
    "Rule",
    "deletions",
    "held_back",
    "keep_decisions",
    "load_policy",
    "parse_policy",
    "record_decision",
    "record_deletions",
    "record_ref",
    "review_records",
]
