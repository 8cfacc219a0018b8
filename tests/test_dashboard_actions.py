"""The Disruption actions page through AppTest: record, update, displacement, the pack."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from graphguard.audit import read_audit
from graphguard.meeting.actions import list_actions
from graphguard.meeting.months import MonthsTruth, write_months
from graphguard.meeting.state import MeetingState
from graphguard.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboards" / "app.py"


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, MonthsTruth]:
    folder = tmp_path_factory.mktemp("dash-actions") / "town"
    return folder, write_months(folder, 120, 7, months=3)


@pytest.fixture
def page(
    town: tuple[Path, MonthsTruth], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AppTest:
    monkeypatch.setenv("GRAPHGUARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GRAPHGUARD_DATASET", str(town[0]))
    get_settings.cache_clear()
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.run()
    at.switch_page("views/actions.py")
    return at.run()


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The callables the page's download buttons run on a click, by file name."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    files: dict[str, Any] = {}
    original = MediaFileManager.add_deferred

    def capture(self: Any, data_callable: Any, mimetype: Any, coordinates: str, **kw: Any) -> str:
        files[kw.get("file_name") or coordinates] = data_callable
        return original(self, data_callable, mimetype, coordinates, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", capture)
    return files


def shown(elements: Any) -> list[str]:
    """The texts of Markdown elements as a reader sees them (escapes removed)."""
    return [re.sub(r"\\(.)", r"\1", str(e.value)) for e in elements]


def assert_fine(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def record(at: AppTest, truth: MonthsTruth) -> AppTest:
    target = at.selectbox(key="action_target")
    assert any(option.startswith(truth.closed) for option in target.options)
    target.set_value(truth.closed)
    at.selectbox(key="action_tactic").set_value("closure_asb")
    at.selectbox(key="action_agency").set_value("housing")
    at.text_input(key="action_owner").input("ASB team")
    at.date_input(key="action_start").set_value(dt.date.fromisoformat(truth.closed_on))
    at.date_input(key="action_review").set_value(dt.date.fromisoformat(truth.months[2]))
    next(b for b in at.button if b.proto.label == "Record the action").click()
    return at.run()


def test_the_page_records_an_action_and_measures_displacement(
    page: AppTest, town: tuple[Path, MonthsTruth]
) -> None:
    folder, truth = town
    assert_fine(page)
    assert [t.value for t in page.title] == ["Disruption actions"]
    assert any("No action has been recorded yet" in text for text in shown(page.info))
    at = record(page, truth)
    assert_fine(at)
    assert any("Recorded ACT-0001" in text for text in shown(at.success))
    (action,) = list_actions(MeetingState.open(folder))
    assert (action.target_id, action.tactic, action.lead_agency) == (
        truth.closed,
        "closure_asb",
        "housing",
    )
    table = at.dataframe[0].value
    assert list(table["action"]) == ["ACT-0001"]
    assert "ACT-0001: displaced" in shown(at.subheader)
    moved = at.dataframe[1].value
    assert moved["moved to"].iloc[0] == truth.moved_to
    lines = read_audit()
    assert [line["outcome"] for line in lines if line["event"] == "action add"] == ["started", "ok"]
    assert any(line["event"] == "view displacement" for line in lines)
    at.switch_page("views/disruption.py")
    planner = at.run()
    assert_fine(planner)
    assert any("1 action overdue for review" in text for text in shown(planner.warning))


def test_the_page_updates_an_action(page: AppTest, town: tuple[Path, MonthsTruth]) -> None:
    folder, truth = town
    at = record(page, truth)
    assert at.selectbox(key="update_status_ACT-0001").value == "agreed"  # as it stands
    at.selectbox(key="update_status_ACT-0001").set_value("completed")
    at.text_input(key="update_outcome_ACT-0001").input("closure order granted")
    next(b for b in at.button if b.proto.label == "Update").click()
    at = at.run()
    assert_fine(at)
    (action,) = list_actions(MeetingState.open(folder))
    assert (action.status, action.outcome) == ("completed", "closure order granted")
    assert any("Updated ACT-0001: completed" in text for text in shown(at.success))
    assert at.selectbox(key="update_status_ACT-0001").value == "completed"
    next(b for b in at.button if b.proto.label == "Update").click()  # nothing changed
    at = at.run()
    assert any("nothing to change" in text for text in shown(at.error))
    assert len(list_actions(MeetingState.open(folder))[0].history) == 1


def test_the_pack_button_gives_the_pdf_audited_on_click(
    page: AppTest, town: tuple[Path, MonthsTruth], downloads: dict[str, Any], tmp_path: Path
) -> None:
    at = page.run()  # again, with the download captured
    assert_fine(at)
    (name,) = [n for n in downloads if n.endswith(".pdf")]
    assert name.startswith("mace-")
    before = [line for line in read_audit() if line["event"] == "download briefing"]
    assert before == []  # nothing is made before the click
    data = downloads[name]()
    assert data.startswith(b"%PDF-")
    pack = tmp_path / "pack.pdf"
    pack.write_bytes(data)
    assert "Top targets" in " ".join((p.extract_text() or "") for p in PdfReader(pack).pages)
    after = [line for line in read_audit() if line["event"] == "download briefing"]
    assert [line["outcome"] for line in after] == ["started", "ok"]
    at.toggle(key="actions_shareable").set_value(True)
    at = at.run()
    assert any(n.endswith("-shareable.pdf") for n in downloads)
