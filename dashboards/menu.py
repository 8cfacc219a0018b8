"""The dashboard's pages, by menu section, and the permission each needs.

Plain data (no Streamlit), so docs/access.md's table of pages per role is tested
against it.  ``app.py`` builds the menu of the acting identity from it.
"""

from __future__ import annotations

from graphguard.access import Permission, Role, RoleRow

__all__ = ["ACCESS_PAGE", "PAGES", "pages_of"]

_P = Permission

#: Every page, by menu section: its file, title and the permission it needs.
PAGES: dict[str, list[tuple[str, str, Permission]]] = {
    "Explore": [
        ("views/overview.py", "Overview", _P.VIEW_ANALYSIS),
        ("views/network.py", "Network", _P.VIEW_ANALYSIS),
        ("views/groups.py", "Peer groups", _P.VIEW_ANALYSIS),
        ("views/hubs.py", "Hubs", _P.VIEW_ANALYSIS),
        ("views/contexts.py", "Places and vehicles", _P.VIEW_ANALYSIS),
        ("views/timeline.py", "Timeline", _P.VIEW_ANALYSIS),
        ("views/fairness.py", "Fairness", _P.VIEW_FAIRNESS),
    ],
    "Act": [
        ("views/disruption.py", "Disruption planner", _P.PLAN_DISRUPTION),
        ("views/cypher.py", "Cypher", _P.RUN_CYPHER),
    ],
    "Resolve": [
        ("views/matches.py", "Matches", _P.VIEW_MATCHES),
    ],
    "Meeting": [
        ("views/changes.py", "What changed", _P.VIEW_MEETING),
        ("views/alerts.py", "Alerts", _P.VIEW_MEETING),
        ("views/actions.py", "Disruption actions", _P.VIEW_MEETING),
    ],
    "Data protection": [
        ("views/retention.py", "Retention review", _P.REVIEW_RECORDS),
    ],
}

#: The page every role has: who you are and what your role may do.
ACCESS_PAGE = ("views/access.py", "Your access")


def pages_of(row: RoleRow | Role) -> list[str]:
    """The titles of the pages a role's menu holds, in menu order (``Your access`` last)."""
    from graphguard.access import MATRIX

    permissions = (MATRIX[row] if isinstance(row, Role) else row).permissions
    titles = [
        title
        for pages in PAGES.values()
        for _, title, permission in pages
        if permission in permissions
    ]
    return [*titles, ACCESS_PAGE[1]]
