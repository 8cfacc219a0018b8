"""The meeting's dashboard pages through AppTest: what changed, and the alert inbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from graphguard.audit import read_audit
from graphguard.meeting.months import MonthsTruth, write_months
from graphguard.meeting.state import MeetingState

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboards" / "app.py"


@pytest.fixture(scope="module")
def months(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, MonthsTruth]:
    folder = tmp_path_factory.mktemp("months")
    return folder, write_months(folder, 200, seed=7)


@pytest.fixture
def town(
    months: tuple[Path, MonthsTruth], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, MonthsTruth]]:
    from graphguard.settings import get_settings

    monkeypatch.setenv("GRAPHGUARD_DATASET", str(months[0]))
    monkeypatch.setenv("GRAPHGUARD_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield months
    get_settings.cache_clear()


def _page(name: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=180).run()
    at.switch_page(f"views/{name}.py")
    return at.run()


def test_changes_page_names_the_move(town: tuple[Path, MonthsTruth]) -> None:
    _, truth = town
    at = _page("changes")
    assert not at.exception, [e.value for e in at.exception]
    at.date_input(key="changes_from").set_value(dt.date.fromisoformat(truth.months[1]))
    at.date_input(key="changes_to").set_value(dt.date.fromisoformat(truth.months[2]))
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    moves = " ".join(w.value for w in at.warning)
    assert truth.moved_to in moves and truth.boss in moves
    page = " ".join(str(m.value) for m in at.markdown) + str([f.value for f in at.dataframe])
    for young_person in truth.new_victims:
        assert young_person not in page.replace(truth.boss, "")
    assert any(e["event"] == "view changes" for e in read_audit())


def test_alerts_page_runs_the_rules_and_triages(town: tuple[Path, MonthsTruth]) -> None:
    folder, truth = town
    at = _page("alerts")
    assert not at.exception, [e.value for e in at.exception]
    at.date_input(key="alerts_since").set_value(dt.date.fromisoformat(truth.months[1]))
    at.button(key="alerts_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    kept = MeetingState.open(folder).records("alert")
    assert len(kept) == len([a for a in truth.alerts if a.month >= 2])
    key = at.selectbox(key="alerts_key").value
    at.radio(key="alerts_to").set_value("dismissed").run()
    at.button(key="alerts_apply").click().run()
    assert at.error, "dismissing without a reason must be refused"
    assert MeetingState.open(folder).get("alert", key)["state"] == "new"
    at.text_input(key="alerts_reason").input("already in hand").run()
    at.button(key="alerts_apply").click().run()
    assert not at.error, [e.value for e in at.error]
    assert MeetingState.open(folder).get("alert", key)["state"] == "dismissed"
    changes = [e for e in read_audit() if e["event"] == "alert state" and e.get("alert") == key]
    assert changes and changes[-1]["state_to"] == "dismissed"
