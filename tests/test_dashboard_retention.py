"""The Retention review page through AppTest: what is due, keep, purge, the deletion log."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from graphguard.retention import deletions, keep_decisions
from graphguard.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboards" / "app.py"


@pytest.fixture
def town(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the demo town (nine records past review), a state home of its own."""
    copy = tmp_path / "town"
    shutil.copytree(ROOT / "fixtures" / "demo", copy)
    monkeypatch.setenv("GRAPHGUARD_DATASET", str(copy))
    monkeypatch.setenv("GRAPHGUARD_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield copy
    get_settings.cache_clear()


def _page(role: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("GRAPHGUARD_ROLE", role)
    get_settings.cache_clear()
    at = AppTest.from_file(str(APP), default_timeout=300).run()
    at.switch_page("views/retention.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _due(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value["record"])


def test_the_page_lists_what_is_due_and_records_a_keep(
    town: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _page("analyst", monkeypatch)
    assert [t.value for t in at.title] == ["Retention review"]
    due = _due(at)
    assert len(due) == 9 and "L00005" in due
    at.selectbox[0].set_value("L00005")
    at.text_input[0].set_value("Operation Kestrel is still open")
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "L00005" in keep_decisions()
    assert "L00005" not in _due(at)


def test_purge_needs_confirming_and_deletes_what_is_due(
    town: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _page("analyst", monkeypatch)
    purge: Any = next(b for b in at.button if b.label == "Purge")
    assert purge.disabled
    at.checkbox[0].check().run()
    next(b for b in at.button if b.label == "Purge").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(deletions()) == 9
    assert any("Purged 9 records" in s.value for s in at.success)


@pytest.mark.parametrize(
    "role", ["disruption_team", "police_liaison", "partner_practitioner", "administrator"]
)
def test_roles_without_review_are_refused_the_page(
    town: Path, monkeypatch: pytest.MonkeyPatch, role: str
) -> None:
    monkeypatch.setenv("GRAPHGUARD_ROLE", role)
    get_settings.cache_clear()
    at = AppTest.from_file(str(APP), default_timeout=300).run()
    at.switch_page("views/retention.py")
    at.run()
    assert any("may not open the Retention review page" in e.value for e in at.error)
    assert not at.dataframe and not at.button
    assert deletions() == []


def _sidebar(at: AppTest) -> str:
    return "\n".join(str(m.value) for m in at.sidebar.markdown)


def test_a_purge_from_the_cli_while_the_dashboard_runs_is_seen_at_the_next_rerun(
    town: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from graphguard.cli import main

    at = _page("analyst", monkeypatch)
    assert "785 links" in _sidebar(at)
    result = CliRunner().invoke(main, ["review", "purge", str(town)])
    assert result.exit_code == 0, result.output
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "777 links" in _sidebar(at)  # the eight links purged, without a restart


def test_the_analyst_prepares_a_subject_access_pack_for_an_adult(
    town: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _page("analyst", monkeypatch)
    assert not at.get("download_button")  # nothing until someone is named
    at.text_input(key="subject_access_person").set_value("AD001").run()
    assert not at.exception, [e.value for e in at.exception]
    said = " ".join(str(m.value) for m in at.markdown).replace("\\", "")
    assert "AD001 (adult):" in said and "record" in said
    assert len(at.get("download_button")) == 1

    at.text_input(key="subject_access_person").set_value("nobody-here").run()
    assert at.error and not at.get("download_button")  # one line, no pack
