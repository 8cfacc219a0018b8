"""The Matches page and the records behind entities, on the multi-agency demo (AppTest)."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from graphguard.ingest import IngestResult, read_dataset
from graphguard.resolve.types import Outcome
from graphguard.settings import get_settings
from graphguard.store.memory import MemoryStore

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboards" / "app.py"
AGENCIES = ROOT / "fixtures" / "demo-agencies"


@pytest.fixture(scope="module")
def agencies() -> IngestResult:
    return read_dataset(AGENCIES)


@pytest.fixture
def town(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the multi-agency demo, a state home of its own, nothing cached in memory."""
    copy = tmp_path / "town"
    shutil.copytree(AGENCIES, copy)
    monkeypatch.setenv("GRAPHGUARD_DATASET", str(copy))
    monkeypatch.setenv("GRAPHGUARD_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield copy
    get_settings.cache_clear()


def start(**state: Any) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=300)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def visit(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"views/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def text(at: AppTest) -> str:
    parts = [
        str(getattr(e, "value", ""))
        for k in ("markdown", "caption", "subheader")
        for e in at.get(k)
    ]
    parts += [str(e.value) for alerts in (at.info, at.warning, at.success) for e in alerts]
    parts += [e.value.to_csv() for e in at.dataframe]
    parts += [str(e.label) for e in at.get("expander")]
    return "\n".join(parts)


def young_names(found: IngestResult) -> set[str]:
    return {
        p.name
        for p in found.records.people.values()
        if p.role.value == "young_person" and p.name and len(p.name) > 3
    }


def young_pair(found: IngestResult) -> Any:
    """A pair waiting for review whose records are both young people."""
    people = found.records.people
    return next(
        c
        for c in found.dataset.resolution.for_review()  # type: ignore[union-attr]
        if c.kind == "person"
        and people[c.record_a].role.value == "young_person"
        and people[c.record_b].role.value == "young_person"
    )


def choose(at: AppTest, pair: Any) -> AppTest:
    at.selectbox(key="matches_pick").set_value(f"{pair.record_a} + {pair.record_b}").run()
    return at


def test_on_a_v1_dataset_there_is_nothing_to_match(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRAPHGUARD_DATASET", raising=False)
    at = visit(start(), "matches")
    assert [t.value for t in at.title] == ["Matches"]
    assert "format version 1" in " ".join(i.value for i in at.info)


def test_matches_counts_the_resolvers_outcomes(town: Path, agencies: IngestResult) -> None:
    at = visit(start(), "matches")
    resolution = agencies.dataset.resolution
    assert resolution is not None
    shown = {
        m.label: int(m.value) for m in at.metric if m.label in ("Waiting for review", "Joined")
    }
    outcomes = [c.outcome for c in resolution.candidates]
    assert shown == {
        "Waiting for review": outcomes.count(Outcome.REVIEW),
        "Joined": outcomes.count(Outcome.JOINED),
    }
    assert shown["Waiting for review"] > 0
    listed = at.dataframe[0].value
    assert len(listed) == len(resolution.for_review())
    assert set(listed["probability"]) <= {
        round(c.match_probability, 3) for c in resolution.candidates
    }


def test_two_young_peoples_records_side_by_side_withhold_their_identity(
    town: Path, agencies: IngestResult
) -> None:
    pair = young_pair(agencies)
    at = choose(visit(start(), "matches"), pair)
    assert not at.exception
    shown = text(at)
    leaked = sorted(name for name in young_names(agencies) if name in shown)
    assert not leaked, leaked[:3]
    table = at.dataframe[1].value
    assert list(table.columns) == ["field", pair.record_a, pair.record_b, "agreement"]
    name_row = table[table["field"] == "name"].iloc[0]
    assert name_row[pair.record_a] == "(withheld)"
    assert name_row["agreement"] in ("agree", "disagree")
    people = agencies.records.people
    same = people[pair.record_a].name == people[pair.record_b].name
    assert (name_row["agreement"] == "agree") == same
    assert "record" in shown and pair.record_a.split(":")[0] in shown


def test_with_names_shown_the_analyst_compares_the_values(
    town: Path, agencies: IngestResult
) -> None:
    pair = young_pair(agencies)
    at = choose(visit(start(gg_show_names=True, gg_revealed=True), "matches"), pair)
    table = at.dataframe[1].value
    name_row = table[table["field"] == "name"].iloc[0]
    assert name_row[pair.record_a] == agencies.records.people[pair.record_a].name


def test_a_decision_needs_a_reason(town: Path, agencies: IngestResult) -> None:
    at = choose(visit(start(), "matches"), young_pair(agencies))
    at.radio(key="matches_verdict").set_value("different")
    next(b for b in at.button if "Record the decision" in str(b.label)).click().run()
    assert any("Give a reason" in e.value for e in at.error)
    assert not (town / "decisions.csv").exists() or "different" not in (
        town / "decisions.csv"
    ).read_text(encoding="utf-8")


def _audit_events() -> list[dict[str, Any]]:
    path = get_settings().audit_path
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_decision_is_written_audited_and_applied_without_reading_the_extracts(
    town: Path, agencies: IngestResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    real = MemoryStore.from_path.__func__  # type: ignore[attr-defined]

    def counted(cls: type[MemoryStore], path: Any) -> MemoryStore:
        reads.append(str(path))
        return real(cls, path)  # type: ignore[no-any-return]

    monkeypatch.setattr(MemoryStore, "from_path", classmethod(counted))
    pair = young_pair(agencies)
    at = choose(visit(start(), "matches"), pair)
    import graphguard.ingest

    read = graphguard.ingest.read_dataset

    def read_counted(path: Any, *args: Any, **options: Any) -> IngestResult:
        reads.append(f"read_dataset {path}")
        return read(path, *args, **options)

    monkeypatch.setattr(graphguard.ingest, "read_dataset", read_counted)
    decided = int(next(m.value for m in at.metric if m.label == "Decided by analysts"))
    at.radio(key="matches_verdict").set_value("different")
    at.text_area(key="matches_reason").input("different schools and UPNs on the roll")
    next(b for b in at.button if "Record the decision" in str(b.label)).click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    with open(town / "decisions.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {(r["record_a"], r["record_b"], r["decision"]) for r in rows} >= {
        (pair.record_a, pair.record_b, "different")
    } or {(r["record_b"], r["record_a"], r["decision"]) for r in rows} >= {
        (pair.record_a, pair.record_b, "different")
    }
    assert any(r["reason"] == "different schools and UPNs on the roll" for r in rows)
    assert any("decision" in str(e.get("event", "")) for e in _audit_events())
    assert any("Recorded" in s.value for s in at.success)
    after = int(next(m.value for m in at.metric if m.label == "Decided by analysts"))
    assert after == decided + 1
    listed = at.dataframe[0].value
    assert not ((listed["record A"] == pair.record_a) & (listed["record B"] == pair.record_b)).any()
    assert len(reads) == 1, f"the extracts were read again for the decision: {reads}"


def test_an_entity_shows_the_records_it_was_made_from(town: Path, agencies: IngestResult) -> None:
    at = visit(start(), "hubs")
    chosen = at.selectbox(key="hub_pick").value
    resolution = agencies.dataset.resolution
    assert resolution is not None
    made = resolution.provenance[chosen]
    labels = [str(e.label) for e in at.get("expander")]
    assert any(f"{len(made.records)} record" in label for label in labels), labels
    table = next(
        d.value
        for d in at.dataframe
        if list(d.value.columns)[:3] == ["attribute", "value", "record"]
    )
    assert set(table["record"]) == set(made.records)


def test_a_young_persons_records_show_without_their_values(
    town: Path, agencies: IngestResult
) -> None:
    resolution = agencies.dataset.resolution
    assert resolution is not None
    young = next(
        e
        for e, p in agencies.dataset.people.items()
        if p.role.value == "young_person" and len(resolution.records_of(e)) > 1
    )
    at = start()
    at.session_state["network_focus"] = young
    at = visit(at, "network")
    shown = text(at)
    assert f"Records behind {young}".replace("-", "\\-") in shown
    leaked = sorted(name for name in young_names(agencies) if name in shown)
    assert not leaked, leaked[:3]
    assert "(withheld)" in shown
