"""Analysis options built once from the settings, and the as-of day honoured everywhere."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from click.testing import CliRunner

from graphguard.analysis import AnalysisOptions
from graphguard.analysis.disruption import (
    disruption_analysis,
    exposure,
    greedy_plan,
    placement_check,
    relocation_comparison,
)
from graphguard.cli import main
from graphguard.settings import Settings, get_settings
from graphguard.store import MemoryStore
from graphguard.store.base import Filters

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo"
STORY = json.loads((DEMO / "story.json").read_text(encoding="utf-8"))
VICTIM = STORY["network_1"]["victims"][2]
PLACED = STORY["placement"]["young_person"]
DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def run(*args: object) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout


def outputs(out: Path, *options: object) -> dict[str, Any]:
    """Every output of the analysis and disruption commands on the demo, under ``options``."""
    out.mkdir(parents=True, exist_ok=True)
    run("analyse", DEMO, "--out", out / "analysis", *options)
    run("targets", DEMO, "--out", out / "targets.json", *options)
    files = {
        name: (out / "analysis" / name).read_text(encoding="utf-8")
        for name in ("hubs.json", "contexts.json", "groups.json", "summary.json")
    }
    files["targets.json"] = (out / "targets.json").read_text(encoding="utf-8")
    files["plan"] = run("plan", DEMO, "--format", "json", *options)
    files["relocation"] = run("relocation", VICTIM, DEMO, "--format", "json", *options)
    files["placement"] = run(
        "placement-check", DEMO, "--young-person", PLACED, "--format", "json", *options
    )
    files["plan text"] = run("plan", DEMO, *options)
    files["relocation text"] = run("relocation", VICTIM, DEMO, *options)
    files["placement text"] = run("placement-check", DEMO, "--young-person", PLACED, *options)
    return files


def test_from_settings_takes_the_setting_and_the_overrides() -> None:
    settings = Settings(half_life_days=90)
    assert AnalysisOptions.from_settings(settings).half_life_days == 90
    day = dt.date(2026, 6, 30)
    options = AnalysisOptions.from_settings(settings, as_of=day, half_life_days=None, seed=4)
    assert (options.as_of, options.half_life_days, options.seed) == (day, 90, 4)
    assert AnalysisOptions.from_settings(settings, half_life_days=30).half_life_days == 30
    with pytest.raises(TypeError, match="unknown analysis options: colour"):
        AnalysisOptions.from_settings(settings, colour="red")


def test_a_half_life_setting_reaches_every_command_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = outputs(tmp_path / "default")
    monkeypatch.setenv("GRAPHGUARD_HALF_LIFE_DAYS", "90")
    get_settings.cache_clear()
    short = outputs(tmp_path / "short")
    for name in default:
        if name != "groups.json":  # peer groups rest on presence, not on recency alone
            assert short[name] != default[name], name
    # the option gives what the setting gives
    monkeypatch.delenv("GRAPHGUARD_HALF_LIFE_DAYS")
    get_settings.cache_clear()
    assert outputs(tmp_path / "flag", "--half-life", "90") == short

    # every command weighed the evidence exactly as analyse and the library do
    options = AnalysisOptions(half_life_days=90)
    graph = MemoryStore.from_path(DEMO).graph()
    found = disruption_analysis(graph, options=options)
    hubs = {hub["id"]: hub["score"] for hub in json.loads(short["hubs.json"])}
    assert hubs == {hub.id: round(hub.score, 4) for hub in found.hubs}
    summary = json.loads(short["summary.json"])
    assert summary["options"]["half_life_days"] == 90
    for row in json.loads(short["targets.json"]):
        if row["kind"] == "adult":
            assert row["score"] == hubs[row["target_id"]]
    impacts = {i.target.id: round(i.impact, 4) for i in found.impacts}
    assert {r["target_id"]: r["impact"] for r in json.loads(short["targets.json"])}.items() <= (
        impacts.items()
    )
    plan = json.loads(short["plan"])
    expected = greedy_plan(graph, 5, exposure=found.exposure)
    assert plan["total_exposure"] == round(found.exposure.total, 4)
    assert [s["target_id"] for s in plan["steps"]] == expected.targets
    moved = json.loads(short["relocation"])
    comparison = relocation_comparison(graph, VICTIM, exposure=found.exposure)
    assert moved == comparison.as_dict()
    placed = json.loads(short["placement"])
    assert (
        placed == placement_check(graph, young_person_id=PLACED, exposure=found.exposure).as_dict()
    )


def test_an_exposure_weighed_otherwise_is_refused(demo_graph: nx.MultiDiGraph) -> None:
    ex = exposure(demo_graph)
    with pytest.raises(ValueError, match=r"half-life of 365 days, not .* with 90"):
        greedy_plan(demo_graph, 3, exposure=ex, options=AnalysisOptions(half_life_days=90))
    with pytest.raises(ValueError, match="as of 2026-11-30"):
        relocation_comparison(
            demo_graph, VICTIM, exposure=ex, options=AnalysisOptions(as_of=dt.date(2026, 6, 30))
        )
    same = AnalysisOptions(as_of=ex.as_of)
    assert greedy_plan(demo_graph, 2, exposure=ex, options=same).targets == (
        greedy_plan(demo_graph, 2, exposure=ex).targets
    )


@pytest.fixture(scope="module")
def demo_graph() -> nx.MultiDiGraph:
    return MemoryStore.from_path(DEMO).graph()


def _later(text: str, day: dt.date) -> list[str]:
    found = []
    for match in DATE.finditer(text):
        try:
            seen = dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            continue
        if seen > day:
            found.append(match.group(0))
    return found


def test_no_date_after_as_of_appears_in_any_output(tmp_path: Path) -> None:
    """analyse --as-of 2026-06-30 once explained hubs with "most recent 2026-11-21"."""
    day = dt.date(2026, 6, 30)
    files = outputs(tmp_path, "--as-of", day.isoformat())
    for name, text in files.items():
        assert not _later(text, day), name
    # the data holds later dates, so the check could fail
    assert _later((DEMO / "links.csv").read_text(encoding="utf-8"), day)
    # the graph a store gives for the day carries none either (pages draw it)
    graph = MemoryStore.from_path(DEMO).graph(Filters(as_of=day))
    for _, _, data in graph.edges(data=True):
        for name in ("first_seen", "last_seen"):
            assert data.get(name) is None or data[name] <= day


def test_explanations_cite_no_later_day_even_from_an_unfiltered_graph(
    demo_graph: nx.MultiDiGraph,
) -> None:
    from graphguard.analysis import analyse

    day = dt.date(2026, 6, 30)
    result = analyse(demo_graph, AnalysisOptions(as_of=day))
    texts = [hub.explanation for hub in result.hubs] + [c.explanation for c in result.contexts]
    assert any("most recent" in text for text in texts)
    assert not [text for text in texts if _later(text, day)]
    found = disruption_analysis(demo_graph, options=AnalysisOptions(as_of=day))
    moved = relocation_comparison(demo_graph, PLACED, exposure=found.exposure).as_dict()
    assert not _later(json.dumps(moved), day)
