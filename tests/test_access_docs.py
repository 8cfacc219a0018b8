"""docs/access.md says what the code enforces: the matrix, commands and pages per role."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from graphguard.access import MATRIX, Permission, Role
from graphguard.cli.base import COMMAND_PERMISSIONS

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "access.md").read_text(encoding="utf-8")
ROLES = list(Role)


def _menu() -> object:
    sys.path.insert(0, str(ROOT / "dashboards"))
    try:
        import menu
    finally:
        sys.path.remove(str(ROOT / "dashboards"))
    return menu


def _table(first: str) -> list[list[str]]:
    """The rows of the doc's table whose header starts with ``| first |``, as cells."""
    lines = DOC.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first} |"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return [rows[0], *rows[2:]]  # without the |---| line


def _yes(flag: bool) -> str:
    return "yes" if flag else ""


def test_the_matrix_table_is_the_matrix() -> None:
    header, *rows = _table("permission")
    assert header == ["permission", *(role.spoken for role in ROLES)]
    expected = [[str(p), *(_yes(p in MATRIX[r].permissions) for r in ROLES)] for p in Permission]
    expected.append(["whose records", *(str(MATRIX[r].scope) for r in ROLES)])
    assert rows == expected


def test_each_role_is_described_with_its_summary() -> None:
    for role in ROLES:
        assert f"- **{role.spoken}** (`{role.value}`): {MATRIX[role].summary}." in DOC


def test_the_commands_table_is_what_the_cli_enforces() -> None:
    header, *rows = _table("command")
    assert header == ["command", "needs", *(role.spoken for role in ROLES)]
    expected = [
        [
            f"`graphguard {path}`",
            str(need) if need is not None else "nothing personal",
            *(_yes(need is None or need in MATRIX[r].permissions) for r in ROLES),
        ]
        for path, need in sorted(COMMAND_PERMISSIONS.items())
    ]
    assert rows == expected


def test_the_pages_table_is_what_the_dashboard_builds() -> None:
    menu = _menu()
    header, *rows = _table("page")
    assert header == ["page", "needs", *(role.spoken for role in ROLES)]
    expected = [
        [f"{title} ({section})", str(need), *(_yes(need in MATRIX[r].permissions) for r in ROLES)]
        for section, pages in menu.PAGES.items()  # type: ignore[attr-defined]
        for _, title, need in pages
    ]
    expected.append(["Your access", "nothing", *("yes" for _ in ROLES)])
    assert rows == expected


@pytest.mark.parametrize("role", ROLES)
def test_a_roles_pages_in_the_doc_are_its_menu(role: Role) -> None:
    menu = _menu()
    _, *rows = _table("page")
    column = 2 + ROLES.index(role)
    in_doc = [row[0].split(" (")[0] for row in rows if row[column] == "yes"]
    assert in_doc == menu.pages_of(role)  # type: ignore[attr-defined]
