"""Issue 13's "done when": agency extracts go through every command and page, on entities.

The multi-agency demo is read, resolved and used by every command that reads a dataset
and by every dashboard page.  Each must succeed, speak of resolved entities (never of a
bare source record where an entity is meant), and never print a young person's name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from graphguard.cli import main
from graphguard.ingest import IngestResult, read_dataset
from graphguard.model import LinkType, Role
from graphguard.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
AGENCIES = ROOT / "fixtures" / "demo-agencies"
APP = ROOT / "dashboards" / "app.py"
ENTITY_ID = re.compile(r"\b[PLV]-[0-9a-f]{12}\b")


@pytest.fixture(scope="module")
def agencies() -> IngestResult:
    return read_dataset(AGENCIES)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("GRAPHGUARD_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NEO4J_URI", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def young_peoples_names(result: IngestResult) -> set[str]:
    """Every name any source recorded for a young person (long enough not to be a word)."""
    names = set()
    for person in result.records.people.values():
        if person.role is Role.YOUNG_PERSON and person.name and len(person.name) > 6:
            names.add(person.name)
    assert len(names) > 50, "the check would be empty"
    return names


def placed_young_person(result: IngestResult) -> str:
    """A young person's entity id with a recorded home or placement that has coordinates."""
    data = result.dataset
    for link in sorted(data.links, key=lambda link: link.link_id):
        if link.type in (LinkType.PLACED_AT, LinkType.LIVES_AT):
            person = data.people.get(link.source_id)
            place = data.locations.get(link.target_id)
            if (
                person is not None
                and person.role is Role.YOUNG_PERSON
                and place is not None
                and place.latitude is not None
            ):
                return link.source_id
    raise AssertionError("the demo has no young person with a home or placement")


def test_the_demo_is_resolved_into_fewer_entities_than_records(agencies: IngestResult) -> None:
    assert agencies.dataset.version == 2 and agencies.dataset.resolution is not None
    assert len(agencies.dataset.people) < len(agencies.records.people)
    assert all(ENTITY_ID.fullmatch(entity) for entity in agencies.dataset.people)


def test_every_command_runs_on_entities_and_names_no_young_person(
    home: Path, agencies: IngestResult
) -> None:
    town = str(AGENCIES)
    young = placed_young_person(agencies)
    out = home / "out"
    commands = [
        ["validate", town],
        ["analyse", town, "--out", str(out / "analysis")],
        ["targets", town, "--out", str(out / "targets.csv")],
        ["plan", town],
        ["relocation", young, town],
        ["placement-check", town, "--young-person", young],
        ["resolve", town, "--out", str(out / "resolved")],
        ["changes", town, "--from", "2026-06-01"],
        ["watch", town],
        ["actions", "list", town],
        ["briefing", town, "--out", str(out / "mace.pdf")],
    ]
    printed = []
    for command in commands:
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 0, (command, result.output, result.exception)
        printed.append(result.output)
    hubs = json.loads((out / "analysis" / "hubs.json").read_text(encoding="utf-8"))
    ranked = [hub["id"] for hub in hubs]
    assert ranked and all(ENTITY_ID.fullmatch(str(hub)) for hub in ranked), ranked[:5]
    written = [
        path.read_text(encoding="utf-8")
        for path in out.rglob("*")
        if path.is_file() and path.suffix in (".csv", ".json")
    ]
    everything = "\n".join(printed + written)
    assert ENTITY_ID.search(everything)
    leaked = sorted(name for name in young_peoples_names(agencies) if name in everything)
    assert not leaked, leaked[:5]


@pytest.mark.parametrize(
    "page",
    [
        "overview",
        "network",
        "groups",
        "hubs",
        "contexts",
        "timeline",
        "disruption",
        "cypher",
        "matches",
        "changes",
        "alerts",
        "actions",
    ],
)
def test_every_page_shows_the_agency_extracts(
    home: Path, monkeypatch: pytest.MonkeyPatch, agencies: IngestResult, page: str
) -> None:
    monkeypatch.setenv("GRAPHGUARD_DATASET", str(AGENCIES))
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.switch_page(f"views/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    kinds = ("markdown", "caption", "text", "dataframe")
    shown = "\n".join(str(e.value) for kind in kinds for e in at.get(kind))
    leaked = sorted(name for name in young_peoples_names(agencies) if name in shown)
    assert not leaked, leaked[:5]
