"""The access matrix in the dashboard, per role, through Streamlit's AppTest.

Which pages each role's menu runs and which it refuses (one line, audited); which
buttons and downloads exist; the analyst's reveal of names (a typed reason, audited,
never for another role); the page views' audit lines naming whom they showed; and,
property-based over generated names, that no page or download of a role that may not
reveal carries a young person's identifying value.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from streamlit.testing.v1 import AppTest

from graphguard.access import MATRIX, Permission, Role
from graphguard.audit import read_audit
from tests.helpers import page_text

from .test_privacy import (
    SEEDED,
    Town,
    Young,
    assert_no_young_person,
    export_strings,
    letters_and_digits,
    towns,
    write_town,
)

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboards" / "app.py"
sys.path.insert(0, str(ROOT / "dashboards"))
import menu  # noqa: E402  (the dashboard's page list, as app.py reads it)

sys.path.remove(str(ROOT / "dashboards"))

PAGE_FILES = {title: file for pages in menu.PAGES.values() for file, title, _ in pages}
NEEDS = {title: need for pages in menu.PAGES.values() for _, title, need in pages}


def _settings_changed() -> None:
    from graphguard.settings import get_settings

    get_settings.cache_clear()


@pytest.fixture
def as_role(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Set the acting role (and agency) the way local mode reads them: from settings."""

    def set_role(role: Role, agency: str | None = "police") -> Path:
        monkeypatch.setenv("GRAPHGUARD_ROLE", role.value)
        if agency is None:
            monkeypatch.delenv("GRAPHGUARD_AGENCY", raising=False)
        else:
            monkeypatch.setenv("GRAPHGUARD_AGENCY", agency)
        _settings_changed()
        return home / "audit.jsonl"

    monkeypatch.delenv("GRAPHGUARD_DATASET", raising=False)
    yield set_role
    _settings_changed()


def start(**state: Any) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def visit(at: AppTest, title: str) -> AppTest:
    at.switch_page(PAGE_FILES[title])
    return at.run()


def errors(at: AppTest) -> list[str]:
    return [str(e.value) for e in at.error]


def audit(log: Path) -> list[dict[str, Any]]:
    return read_audit(log) if log.exists() else []


def page_strings(at: AppTest) -> list[str]:
    """What a page shows, as separate texts: each element, cell, option and drawn text.

    A drawing's HTML is read as the texts it shows (its data's string literals and the
    text between tags), not its numbers nor the drawing library's code: a layout
    coordinate is not a phone number.
    """
    import html
    import re

    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "code"):
        parts += [_unescaped(str(getattr(e, "value", ""))) for e in at.get(kind)]
    for alerts in (at.info, at.warning, at.success, at.error):
        parts += [_unescaped(str(e.value)) for e in alerts]
    for frame in at.dataframe:
        parts += [str(cell) for cell in frame.value.astype(str).to_numpy().ravel()]
        parts += [str(column) for column in frame.value.columns]
    parts += [str(option) for box in at.selectbox for option in box.options]
    parts += [str(option) for box in at.multiselect for option in box.options]
    for drawn in at.get("iframe"):
        source = html.unescape(str(drawn.proto.srcdoc))
        # The drawing library's own code comes first; the drawing's data is the last script.
        cut = source.rfind('<script type="text/javascript">')
        data, rest = (source[cut:], source[: source.find("<script")]) if cut >= 0 else ("", source)
        parts += re.findall(r'"((?:[^"\\]|\\.)*)"', data)
        parts += re.findall(r">([^<>]+)<", rest + data)
    return parts


def _assert_no_identity(strings: list[str], young: list[Young]) -> None:
    """No young person's name, alias, date of birth or identifier (ids are the keys)."""
    import re

    for text in strings:
        folded = letters_and_digits(text)
        words = {w.casefold() for w in re.findall(r"[^\W_]+", text)}
        for person in young:
            for value in person.long_values()[1:]:
                assert letters_and_digits(value) not in folded, (value, text)
            assert person.short_alias.casefold() not in words, (person.short_alias, text)


def _unescaped(text: str) -> str:
    import re

    return re.sub(r"\\(.)", r"\1", text)


# ------------------------------------------------------------------------------ pages per role


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_each_role_runs_its_pages_and_is_refused_the_others(role: Role, as_role: Any) -> None:
    log = as_role(role)
    at = start()
    assert not at.exception, [e.value for e in at.exception]
    first = menu.pages_of(role)[0]
    assert [t.value for t in at.title] == [first]  # the role's first page opens
    for title, need in NEEDS.items():
        before = len(audit(log))
        at = visit(at, title)
        assert not at.exception, (title, [e.value for e in at.exception])
        refusals = [e for e in audit(log)[before:] if e["event"] == "refused"]
        if need in MATRIX[role].permissions:
            assert not refusals, (title, refusals)
            assert not [e for e in errors(at) if "may not" in e], (title, errors(at))
        else:
            # One line saying who may not, and why; the page's own content never ran.
            assert [_unescaped(e) for e in errors(at)] == [
                f"{at.session_state['gg_user'] if 'gg_user' in at.session_state else _user()} "
                f"({role.spoken}) may not open the {title} page: the role lacks '{need}' "
                "(docs/access.md)"
            ]
            assert [t.value for t in at.title] == [title]
            assert not at.dataframe and not at.get("iframe") and not at.metric
            assert [(e["permission"], e["action"], e["role"]) for e in refusals] == [
                (str(need), f"open the {title} page", role.value)
            ]


def _user() -> str:
    from graphguard.audit import acting_user

    return acting_user()


def test_the_administrator_sees_no_data_only_its_access(as_role: Any) -> None:
    as_role(Role.ADMINISTRATOR)
    at = start()
    assert not at.exception and not errors(at)
    assert [t.value for t in at.title] == ["Your access"]
    text = page_text(at)
    assert "administrator" in text and "none" in text
    # No data box, no filters, no names toggle: nothing of the data was read or shown.
    assert not at.sidebar.toggle and not at.sidebar.button
    assert "young person" not in text.lower().replace("young person's identity", "")


def test_a_partner_practitioner_without_an_agency_is_refused_in_one_line(as_role: Any) -> None:
    as_role(Role.PARTNER_PRACTITIONER, agency=None)
    at = start()
    assert not at.exception
    assert any("no agency is set" in e for e in errors(at)), errors(at)
    assert not at.dataframe and not at.metric


# ------------------------------------------------------------------------------ controls per role


def _labels(at: AppTest) -> set[str]:
    found = {b.label for b in at.button}
    found |= {str(e.proto.label) for e in at.get("download_button")}
    return found


@pytest.mark.parametrize("role", [Role.ANALYST, Role.DISRUPTION_TEAM, Role.POLICE_LIAISON,
                                  Role.PARTNER_PRACTITIONER], ids=lambda r: r.value)  # fmt: skip
def test_buttons_and_downloads_exist_only_with_their_permission(role: Role, as_role: Any) -> None:
    as_role(role)
    may = MATRIX[role].permissions
    at = start()
    assert bool(at.sidebar.toggle) == (Permission.REVEAL_IDENTITY in may)
    at = visit(at, "Alerts")
    assert not at.exception
    labels = _labels(at)
    assert ("Run the watch rules now" in labels) == (Permission.MANAGE_ALERTS in may)
    at = visit(at, "Disruption actions")
    assert not at.exception, [e.value for e in at.exception]
    labels = _labels(at)
    assert ("Record the action" in labels) == (Permission.MANAGE_ACTIONS in may)
    assert any(label.startswith("Download the briefing pack") for label in labels) == (
        Permission.EXPORT_BRIEFING in may
    )
    # Without handling code C all a role sees is shareable: there is nothing to switch.
    assert _has(at, "actions_shareable") == (Permission.SEE_HANDLING_C in may)
    if Permission.PLAN_DISRUPTION in may:
        at = visit(at, "Disruption planner")
        assert not at.exception
        labels = _labels(at)
        assert ("Download CSV" in labels) == (Permission.EXPORT_TARGETS in may)


def _has(at: AppTest, key: str) -> bool:
    return any(getattr(t, "key", None) == key for t in at.toggle)


# ------------------------------------------------------------------------------ the reveal


def test_names_show_only_after_a_reason_and_the_reveal_is_audited(as_role: Any) -> None:
    from graphguard.ingest import read_dataset
    from graphguard.privacy import pseudonym
    from graphguard.settings import pseudonym_key

    log = as_role(Role.ANALYST)
    demo = read_dataset(ROOT / "fixtures" / "demo").dataset
    young = {p.person_id: p.name for p in demo.people.values() if p.role.value == "young_person"}
    at = visit(start(), "Network")
    assert not [n for n in young.values() if n and n in page_text(at)]
    at.sidebar.toggle[0].set_value(True).run()
    # Asked why; until a reason is recorded nothing shows.
    assert at.sidebar.text_input(key="gg_reveal_reason")
    assert not [n for n in young.values() if n and n in page_text(at)]
    at.sidebar.text_input(key="gg_reveal_reason").input("short")
    at.sidebar.button[0].click().run()
    assert any("at least 10 characters" in _unescaped(e) for e in errors(at)), errors(at)
    assert not [e for e in audit(log) if e["event"] == "reveal identity"]
    reason = "strategy meeting for G01, ref MACE-7"
    at.sidebar.text_input(key="gg_reveal_reason").input(reason)
    at.sidebar.button[0].click().run()
    assert not at.exception and not errors(at), errors(at)
    assert [n for n in young.values() if n and n in page_text(at)]  # names now show
    reveals = [e for e in audit(log) if e["event"] == "reveal identity" and e["outcome"] == "ok"]
    assert len(reveals) == 1
    line = reveals[0]
    assert line["reason_sha256"] == hashlib.sha256(reason.encode()).hexdigest()
    key = pseudonym_key()
    assert line["subjects"] == sorted(pseudonym(y, key) for y in young)
    raw = log.read_text(encoding="utf-8")
    assert reason not in raw and not [n for n in young.values() if n and n in raw]
    assert not [y for y in young if f'"{y}"' in raw]  # never a young person's id
    # Every page viewed with names shown is audited, naming the young people shown.
    before = len(audit(log))
    at = visit(at, "Hubs")
    views = [e for e in audit(log)[before:] if e["event"] == "view page" and e["outcome"] == "ok"]
    assert [(e["page"], e["names_shown"]) for e in views] == [("Hubs", True)]
    assert set(line["subjects"]) <= set(views[0]["subjects"])
    # Turning names off ends the reveal: on again asks again.
    at.sidebar.toggle[0].set_value(False).run()
    at.sidebar.toggle[0].set_value(True).run()
    assert not [n for n in young.values() if n and n in page_text(at)]


@pytest.mark.parametrize("role", [Role.DISRUPTION_TEAM, Role.POLICE_LIAISON],
                         ids=lambda r: r.value)  # fmt: skip
def test_names_asked_for_by_another_role_are_refused_and_audited(role: Role, as_role: Any) -> None:
    from graphguard.ingest import read_dataset

    log = as_role(role)
    names = [
        p.name
        for p in read_dataset(ROOT / "fixtures" / "demo").dataset.people.values()
        if p.role.value == "young_person" and p.name
    ]
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["names"] = "1"  # a link sent by an analyst, names on
    at.run()
    assert not at.exception
    assert any("may not show young people's names" in _unescaped(e) for e in errors(at))
    assert not at.sidebar.toggle
    assert not [n for n in names if n in page_text(at)]
    refusals = [e for e in audit(log) if e["event"] == "refused"]
    assert [(e["permission"], e["role"]) for e in refusals] == [
        (str(Permission.REVEAL_IDENTITY), role.value)
    ]


def test_page_views_name_whom_they_show(as_role: Any) -> None:
    log = as_role(Role.DISRUPTION_TEAM)
    at = start()
    views = [e for e in audit(log) if e["event"] == "view page" and e["outcome"] == "ok"]
    assert [v["page"] for v in views] == ["Overview"]
    assert views[0]["subjects"] == sorted(views[0]["subjects"]) and views[0]["subjects"]
    assert views[0]["sight"] == "shareable" and views[0]["names_shown"] is False
    assert views[0]["role"] == "disruption_team" and views[0]["channel"] == "dashboard"
    at = visit(at, "Hubs")
    hubs = [e for e in audit(log) if e["event"] == "view page" and e.get("page") == "Hubs"]
    assert hubs and hubs[-1]["outcome"] == "ok"
    assert all(not s.startswith("YP0") for s in hubs[-1]["subjects"])
    assert {s[:2] for s in hubs[-1]["subjects"]} == {"AD"}  # the Hubs page lists adults


# ------------------------------------------------------------------------------ no identities


@pytest.fixture(autouse=True)
def _quiet_streamlit_cache_warnings() -> None:
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)


def _offered_downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What each download button would run when clicked (Streamlit defers the file)."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    offered: dict[str, Any] = {}
    original = MediaFileManager.add_deferred

    def capture(self: Any, data_callable: Any, mimetype: Any, coordinates: str, **kw: Any) -> str:
        offered[kw.get("file_name") or coordinates] = data_callable
        return original(self, data_callable, mimetype, coordinates, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", capture)
    return offered


@settings(
    SEEDED,
    max_examples=3,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],  # each example renders every page: no shrinking
)
@given(towns())
def test_no_page_or_download_of_a_role_that_may_not_reveal_names_a_young_person(
    town: Town,
) -> None:
    import tempfile

    from graphguard.settings import get_settings

    saved = {k: os.environ.get(k) for k in ("GRAPHGUARD_DATASET", "GRAPHGUARD_ROLE",
                                            "GRAPHGUARD_AGENCY", "GRAPHGUARD_HOME")}  # fmt: skip
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        offered = _offered_downloads(patch)
        dataset = write_town(Path(folder) / "town", town)
        patch.setenv("GRAPHGUARD_HOME", str(Path(folder) / "home"))
        patch.setenv("GRAPHGUARD_DATASET", str(dataset))
        try:
            made: set[str] = set()
            for role in (Role.DISRUPTION_TEAM, Role.POLICE_LIAISON, Role.PARTNER_PRACTITIONER):
                patch.setenv("GRAPHGUARD_ROLE", role.value)
                patch.setenv("GRAPHGUARD_AGENCY", "police")
                get_settings.cache_clear()
                offered.clear()
                # Names asked for in the address: refused for these roles, never shown.
                at = AppTest.from_file(str(APP), default_timeout=120)
                at.query_params["names"] = "1"
                at.run()
                shown = page_strings(at)
                for title in menu.pages_of(role)[:-1]:
                    if title == "Cypher":
                        continue  # needs Neo4j: tests/test_privacy.py checks its results
                    at = visit(at, title)
                    assert not at.exception, (role, title, [e.value for e in at.exception])
                    shown += page_strings(at)
                _assert_no_identity(shown, town.young)
                for name, make in offered.items():  # clicked while the role may download
                    data = make()
                    data = data.encode("utf-8") if isinstance(data, str) else bytes(data)
                    made.add(name)
                    if not name.endswith(".pdf"):  # the pack's text: tests/test_briefing.py
                        assert_no_young_person(export_strings(name, data), town.young)
            assert {"targets.csv", "targets.xlsx"} <= made
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            get_settings.cache_clear()


def test_a_download_reached_after_the_role_changed_is_refused_and_audited(
    as_role: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A download drawn for a role that may export, clicked once it may not: refused."""
    offered = _offered_downloads(monkeypatch)
    log = as_role(Role.DISRUPTION_TEAM)
    at = visit(start(), "Disruption planner")
    assert not at.exception
    assert "targets.csv" in offered
    as_role(Role.POLICE_LIAISON)  # the same session, now a role without target lists
    from graphguard.errors import RefusedError

    with pytest.raises(RefusedError, match="may not download a target list"):
        offered["targets.csv"]()
    lines = audit(log)
    assert [(e["event"], e["role"], e["action"]) for e in lines if e["event"] == "refused"] == [
        ("refused", "police_liaison", "download a target list")
    ]
    assert not [e for e in lines if e["event"] == "download targets"]
