"""The disruption target list and the disruption commands, through click's runner."""

from __future__ import annotations

import csv
import html
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import click
import networkx as nx
import pytest
from click.testing import CliRunner

from graphguard.cli.disruption import placement_check, plan, relocation, targets
from graphguard.privacy import PLACEHOLDER, YoungPersonScrubber, pseudonym
from graphguard.settings import get_settings, pseudonym_key
from graphguard.store import MemoryStore
from graphguard.synth import write_town
from graphguard.targets import (
    EXTRA_COLUMNS,
    TARGET_COLUMNS,
    build_target_list,
)

from .helpers import LINKS, write_csv

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo"
STORY = json.loads((DEMO / "story.json").read_text(encoding="utf-8"))
COMMANDS = (targets, plan, relocation, placement_check)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def cli() -> click.Group:
    """The ``graphguard`` group when it carries these commands, else a group like it."""
    from graphguard.cli import main
    from graphguard.cli.base import GraphguardGroup

    if all(command.name in main.commands for command in COMMANDS):
        return main
    return GraphguardGroup("graphguard", commands={c.name: c for c in COMMANDS if c.name})


def run(cli: click.Group, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def demo_graph() -> nx.MultiDiGraph:
    return MemoryStore.from_path(DEMO).graph()


@pytest.fixture(scope="module")
def synth_town(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synth")
    write_town(folder, 500, seed=5)
    return folder


def _young_people(folder: Path) -> list[tuple[str, str]]:
    with (folder / "people.csv").open(encoding="utf-8-sig", newline="") as handle:
        return [
            (row["person_id"], row.get("name") or "")
            for row in csv.DictReader(handle)
            if row["role"].strip().lower() == "young_person"
        ]


def _export_texts(path: Path) -> list[str]:
    """Every piece of text a file carries: the bytes, and for XLSX every XML part."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as book:
            return [book.read(name).decode("utf-8") for name in book.namelist()]
    return [path.read_bytes().decode("utf-8")]


def _cells(path: Path) -> list[list[Any]]:
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.reader(handle))
    if path.suffix == ".json":
        rows = json.loads(path.read_text(encoding="utf-8"))
        return [list(rows[0])] + [list(row.values()) for row in rows] if rows else []
    from openpyxl import load_workbook

    sheet = load_workbook(path)["targets"]
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


# --------------------------------------------------------------------------- no young person


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".json"])
@pytest.mark.parametrize("which", ["demo", "synth"])
@pytest.mark.parametrize("shareable", [False, True])
def test_no_young_person_id_or_name_in_any_export(
    cli: click.Group, tmp_path: Path, synth_town: Path, suffix: str, which: str, shareable: bool
) -> None:
    folder = DEMO if which == "demo" else synth_town
    out = tmp_path / f"targets{suffix}"
    args = ["targets", folder, "--out", out] + (["--shareable"] if shareable else [])
    code, stdout, stderr = run(cli, *args)
    assert code == 0, stdout + stderr
    texts = _export_texts(out)
    blob = "\n".join(texts)
    young = _young_people(folder)
    assert young
    for person_id, name in young:
        assert not re.search(
            rf"(?<![A-Za-z0-9_.:-]){re.escape(person_id)}(?![A-Za-z0-9_.:-])", blob
        ), person_id
        if name:
            for variant in {name, html.escape(name), html.escape(name, quote=False)}:
                assert variant.casefold() not in blob.casefold(), name
    cells = _cells(out)
    assert cells[0] == list(TARGET_COLUMNS + EXTRA_COLUMNS)
    rows = [dict(zip(cells[0], row, strict=True)) for row in cells[1:]]
    assert rows
    ids = {person_id for person_id, _ in young}
    key = pseudonym_key()
    pseudonyms = {pseudonym(person_id, key) for person_id in ids}
    for row in rows:
        assert row["kind"] in ("adult", "location", "vehicle", "business")
        assert row["target_id"] not in ids
        linked = row["linked_young_people_pseudonyms"]
        linked = (
            linked if isinstance(linked, list) else [p for p in (linked or "").split("; ") if p]
        )
        assert len(linked) == int(row["linked_young_people"])
        assert set(linked) <= pseudonyms


def test_adult_names_are_not_exported(cli: click.Group, tmp_path: Path) -> None:
    out = tmp_path / "targets.csv"
    assert run(cli, "targets", DEMO, "--out", out)[0] == 0
    text = out.read_text(encoding="utf-8")
    with (DEMO / "people.csv").open(encoding="utf-8") as handle:
        names = [row["name"] for row in csv.DictReader(handle) if row["name"]]
    assert not [name for name in names if name in text]


def test_scrubber_replaces_ids_and_names() -> None:
    graph = nx.MultiDiGraph()
    graph.add_node("YP1", kind="person", role="young_person", name="Mary-Jane O'Neill")
    graph.add_node("AD1", kind="person", role="adult", name="Adult Person")
    scrub = YoungPersonScrubber.from_graph(graph)
    text = "RHI YP1 / ref YP1-2 / mary-jane o'neill said; AD1; YP10; Adult Person"
    assert scrub(text) == (
        f"RHI {PLACEHOLDER} / ref {PLACEHOLDER}-2 / {PLACEHOLDER} said; AD1; YP10; Adult Person"
    )


# --------------------------------------------------------------------------- formula injection


def _injection_dataset(folder: Path) -> Path:
    write_csv(
        folder / "people.csv",
        ["person_id", "role", "name", "date_of_birth", "looked_after", "suspected", "area"],
        [
            ["YP1", "young_person", "=cmd|' /C calc'!A0", "2012-02-02", "yes", "", "-Area"],
            ["YP2", "young_person", "+Plus Name", "2011-03-03", "no", "", "@Area"],
            ["AD1", "adult", "@SUM(1+1)", "1980-01-01", "", "yes", "=Area"],
        ],
    )
    write_csv(
        folder / "locations.csv",
        ["location_id", "kind", "name", "latitude", "longitude", "area"],
        [
            ["LO1", "hotel", '=HYPERLINK("http://evil.example","click")', "53.74", "-0.33", "+1"],
            ["LO2", "takeaway", "-1", "53.741", "-0.331", "@SUM(A1)"],
        ],
    )
    write_csv(
        folder / "vehicles.csv",
        ["vehicle_id", "registration", "private_hire", "operator"],
        [["VE1", "-1", "true", "@SUM(1)"]],
    )
    links = [
        ["L1", "AD1", "YP1", "ALLEGED_HARM", "2026-01-01", "2026-03-01", "", "police",
         '=HYPERLINK("http://evil.example")', "1", "B", "P", ""],
        ["L2", "AD1", "LO1", "SEEN_AT", "2026-01-01", "2026-03-01", "4", "police", "+1", "1",
         "A", "P", ""],
        ["L3", "YP1", "LO1", "FOUND_AT", "2026-02-01", "2026-02-01", "", "police", "-1", "1",
         "A", "P", ""],
        ["L4", "AD1", "VE1", "DRIVES", "2026-01-01", "2026-03-01", "5", "police", "@SUM(1)",
         "1", "A", "P", ""],
        ["L5", "YP2", "VE1", "PASSENGER_IN", "2026-01-01", "2026-03-01", "", "police",
         "=1+1", "1", "A", "P", ""],
        ["L6", "AD1", "LO2", "WORKS_AT", "2025-01-01", "2026-03-01", "", "other", "=2", "1",
         "A", "P", ""],
        ["L7", "YP2", "LO2", "SEEN_AT", "2026-01-01", "2026-03-01", "3", "police", "-2", "1",
         "A", "P", ""],
    ]  # fmt: skip
    write_csv(folder / "links.csv", LINKS, links)
    return folder


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".json"])
def test_formula_injection_is_neutralised(cli: click.Group, tmp_path: Path, suffix: str) -> None:
    folder = _injection_dataset(tmp_path / "data")
    out = tmp_path / f"targets{suffix}"
    code, stdout, stderr = run(cli, "targets", folder, "--out", out)
    assert code == 0, stdout + stderr
    cells = _cells(out)
    texts = [s for row in cells[1:] for cell in row for s in _strings(cell)]
    assert {row[1] for row in cells[1:]} >= {"AD1", "LO1", "LO2", "VE1"}
    assert not [t for t in texts if t.startswith(FORMULA_STARTS)]
    joined = "\n".join(texts)
    for dangerous in ('=HYPERLINK("http://evil.example","click")', "@SUM(1)"):
        assert f"'{dangerous}" in joined
    assert any(t.startswith("'-1") for t in texts)  # the takeaway named "-1", the plate "-1"
    assert "cmd" not in joined and "Plus Name" not in joined  # young people's names
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(out)
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", cell.coordinate


# --------------------------------------------------------------------------- shareable


def _handling_codes(evidence: list[str]) -> list[str]:
    """The handling code of every grading in evidence items like ``REF (1/B/P, 2/C/C)``."""
    codes = []
    for item in evidence:
        match = re.search(r"\(([^)]*)\)$", item)
        if match:
            codes += [label.split("/")[2] for label in match.group(1).split(", ") if "/" in label]
    return codes


def test_shareable_drops_targets_resting_only_on_handling_code_c(
    demo_graph: nx.MultiDiGraph,
) -> None:
    full = build_target_list(demo_graph, key=b"k")
    shared = build_target_list(demo_graph, key=b"k", shareable=True)
    full_ids = {row["target_id"] for row in full.rows}
    shared_ids = {row["target_id"] for row in shared.rows}
    assert shared_ids < full_ids
    only_c = {
        row["target_id"]
        for row in full.rows
        if set(_handling_codes([e for e in row["evidence"] if not e.startswith("and ")])) == {"C"}
    }
    assert only_c and not only_c & shared_ids
    assert any("C" in _handling_codes(row["evidence"]) for row in full.rows)
    for row in shared.rows:
        assert "C" not in _handling_codes(row["evidence"])
        assert "C" not in row["handling"].split(", ")
        assert not re.search(r"\d/[A-E-]/C\b", row["explanation"])
    assert any("SHAREABLE" in note for note in shared.notes)
    assert any("NOT FOR SHARING" in note for note in full.notes)


def test_shareable_drops_an_adult_known_only_from_c_intelligence(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "people.csv",
        ["person_id", "role", "date_of_birth"],
        [["YP1", "young_person", "2012-01-01"], ["AD1", "adult", ""], ["AD2", "adult", ""]],
    )
    links = [
        ["L1", "AD1", "YP1", "ALLEGED_HARM", "2026-01-01", "2026-02-01", "3", "police", "INT-1",
         "1", "A", "P", ""],
        ["L2", "AD2", "YP1", "ALLEGED_HARM", "2026-01-01", "2026-02-01", "3", "police", "INT-2",
         "1", "A", "C", ""],
    ]  # fmt: skip
    write_csv(tmp_path / "links.csv", LINKS, links)
    graph = MemoryStore.from_path(tmp_path).graph()
    full = [row["target_id"] for row in build_target_list(graph, key=b"k").rows]
    shared = [row["target_id"] for row in build_target_list(graph, key=b"k", shareable=True).rows]
    assert set(full) == {"AD1", "AD2"}
    assert shared == ["AD1"]


# --------------------------------------------------------------------------- content


def test_demo_target_list_tells_the_story(demo_graph: nx.MultiDiGraph) -> None:
    rows = {row["target_id"]: row for row in build_target_list(demo_graph, key=b"k").rows}
    planted = [STORY[n][k] for n in ("network_1", "network_2") for k in ("adults", "locations")]
    planted += [STORY[n]["vehicles"] for n in ("network_1", "network_2")]
    assert {i for ids in planted for i in ids} <= set(rows)
    assert [row["rank"] for row in rows.values()] == list(range(1, len(rows) + 1))
    impacts = [row["impact"] for row in rows.values()]
    assert impacts == sorted(impacts, reverse=True)

    def tactics(target: str) -> str:
        return " | ".join(rows[target]["suggested_tactics"])

    assert "Child Abduction Warning Notice" in tactics("AD097")
    assert "Slavery and Trafficking Risk Order" in tactics("AD097")
    assert "Sexual Risk Order" in tactics("AD053")
    hotel = tactics(STORY["network_2"]["hotel"])
    assert "s116" in hotel and "s136B" in hotel and "Makesafe" in hotel and "Licensing" in hotel
    assert "Licensing review" in tactics(STORY["network_2"]["takeaway"])
    assert "s76" in tactics(STORY["network_1"]["flat"])
    taxi = tactics(STORY["network_2"]["taxi"])
    assert "ANPR marker" in taxi and "private-hire licensing" in taxi and "Marsh Cars" in taxi
    assert tactics(STORY["network_1"]["car"]).startswith("ANPR marker")
    assert "business:marsh-cars" in rows
    assert "Dispersal" in tactics(STORY["network_1"]["dock"])
    for row in rows.values():
        assert row["evidence"] and all(re.search(r"\(.+\)$", e) for e in row["evidence"][:1])
        assert row["explanation"].endswith(".")
    decoys = STORY["decoys"]
    for decoy in ("youth_worker", "large_family_parent", "school_run_driver", "school_run_vehicle",
                  "malicious_allegation_adult"):  # fmt: skip
        assert decoys[decoy] not in rows


def test_top_limits_the_list(demo_graph: nx.MultiDiGraph) -> None:
    assert len(build_target_list(demo_graph, key=b"k", top=3).rows) == 3


def test_targets_are_deterministic(cli: click.Group, tmp_path: Path) -> None:
    outputs = []
    for name in ("a", "b"):
        for suffix in (".csv", ".json"):
            out = tmp_path / f"{name}{suffix}"
            assert run(cli, "targets", DEMO, "--out", out)[0] == 0
            outputs.append(out.read_bytes())
    assert outputs[0] == outputs[2] and outputs[1] == outputs[3]


def test_xlsx_has_header_frozen_panes_widths_and_about_sheet(
    cli: click.Group, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "targets.xlsx"
    code, stdout, stderr = run(cli, "targets", DEMO, "--out", out, "--shareable")
    assert code == 0, stdout + stderr
    assert "shareable" in stdout
    book = load_workbook(out)
    assert book.sheetnames == ["targets", "about"]
    sheet = book["targets"]
    assert [c.value for c in sheet[1]] == list(TARGET_COLUMNS + EXTRA_COLUMNS)
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "B2"
    assert sheet.auto_filter.ref
    assert sheet.column_dimensions["J"].width > 20
    about = "\n".join(str(row[0].value) for row in book["about"].iter_rows())
    assert "as of 2026-11-30" in about
    assert "pseudonym" in about and "SHAREABLE" in about and "exported on" in about


def test_export_is_audited_without_young_people(cli: click.Group, tmp_path: Path) -> None:
    out = tmp_path / "targets.json"
    assert run(cli, "targets", DEMO, "--out", out, "--top", "3")[0] == 0
    assert run(cli, "relocation", "YP028", DEMO)[0] == 0
    log = get_settings().audit_path.read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in log[-4:]]
    assert [(e["event"], e["outcome"]) for e in entries] == [
        ("export targets", "started"),
        ("export targets", "ok"),
        ("view relocation", "started"),
        ("view relocation", "ok"),
    ]
    assert entries[1]["rows"] == 3 and entries[1]["path"] == str(out.resolve())
    assert entries[3]["young_person"] == pseudonym("YP028", pseudonym_key())
    assert "YP028" not in "\n".join(log)


def test_every_explanation_counts_the_linked_young_people(demo_graph: nx.MultiDiGraph) -> None:
    """LOC069 once said "for 4 young people" with 0 linked young people."""
    for shareable in (False, True):
        rows = build_target_list(demo_graph, key=b"k", shareable=shareable).rows
        assert shareable or any(row["linked_young_people"] == 0 for row in rows)
        for row in rows:
            said = re.search(r"lowering it for (\d+) young pe", row["explanation"])
            if row["linked_young_people"]:
                assert said and int(said.group(1)) == row["linked_young_people"], row
            else:
                assert said is None, row
                assert "lowering no young person's exposure by 0.01 or more" in row["explanation"]


def test_young_people_reached_and_linked_are_two_named_counts(
    demo_graph: nx.MultiDiGraph,
) -> None:
    """ "Reaches 8 young people" (Hubs) and 13 linked young people (targets) for one adult:
    two definitions, each under its own name, each counted as documented."""
    from graphguard.analysis.disruption import disruption_analysis

    found = disruption_analysis(demo_graph)
    hubs = {hub.id: hub for hub in found.hubs}
    impacts = {impact.target.id: impact for impact in found.impacts}
    rows = {
        row["target_id"]: row
        for row in build_target_list(demo_graph, key=b"k", analysis=found).rows
    }
    differ = 0
    for adult in found.exposure.concern:
        hub, row = hubs[adult], rows[adult]
        reached = sum(1 for value in hub.reach.values() if value >= 0.05)
        assert hub.components["young_people_reached"] == reached
        assert f"Reaches {reached} young pe" in hub.explanation
        linked = [y for y, fall in impacts[adult].young_people.items() if fall >= 0.01]
        assert row["linked_young_people"] == len(linked)
        assert "reach" not in row["explanation"].lower()
        differ += reached != len(linked)
    assert differ  # the two counts are not the same thing


# --------------------------------------------------------------------------- commands


def test_targets_usage_errors(cli: click.Group, tmp_path: Path) -> None:
    code, _, stderr = run(cli, "targets", DEMO, "--out", tmp_path / "targets.txt")
    assert code == 2
    assert stderr.count("\n") == 1 and ".csv, .xlsx or .json" in stderr
    code, _, stderr = run(cli, "targets", DEMO, "--out", tmp_path / "t.csv", "--as-of", "soon")
    assert code == 2 and "YYYY-MM-DD" in stderr
    code, _, stderr = run(cli, "targets", "--out", tmp_path / "t.csv")
    assert code == 2 and "NEO4J_URI" in stderr


def test_targets_as_of_leaves_later_links_out(cli: click.Group, tmp_path: Path) -> None:
    out = tmp_path / "targets.json"
    code, stdout, stderr = run(cli, "targets", DEMO, "--out", out, "--as-of", "2026-03-01")
    assert code == 0, stdout + stderr
    assert "as of 2026-03-01" in stdout
    earlier = json.loads(out.read_text(encoding="utf-8"))
    assert earlier and all(isinstance(row["evidence"], list) for row in earlier)


def test_relocation_command(cli: click.Group) -> None:
    code, stdout, stderr = run(cli, "relocation", "YP028", DEMO)
    assert code == 0, stdout + stderr
    assert "Victim vacuum" in stdout and "disrupt the contexts" in stdout
    assert "times what moving them removes" in stdout
    code, stdout, _ = run(cli, "relocation", "YP028", DEMO, "--format", "json", "--pseudonymise")
    assert code == 0
    data = json.loads(stdout)
    assert set(data) >= {"exposure_now", "exposure_if_moved", "victim_vacuum", "alternatives"}
    assert not re.search(r"\bYP\d{3}\b", stdout)
    assert data["young_person"] == pseudonym("YP028", pseudonym_key())
    code, stdout, _ = run(cli, "relocation", "YP076", DEMO, "--pseudonymise")
    assert code == 0 and "Do not move YP-" in stdout  # the conclusion too
    assert not re.search(r"\bYP\d{3}\b", stdout)
    code, _, stderr = run(cli, "relocation", "AD097", DEMO)
    assert code == 2 and "not a young person" in stderr


def test_placement_check(cli: click.Group) -> None:
    code, stdout, stderr = run(cli, "placement-check", DEMO, "--young-person", "YP076")
    assert code == 0, stdout + stderr
    first = next(line for line in stdout.splitlines() if " m  " in line)
    assert STORY["placement"]["dock"] in first
    for link in STORY["placement"]["protective_links"]:
        assert link in stdout
    code, stdout, _ = run(
        cli, "placement-check", DEMO, "--lat", "53.7317", "--lon", "-0.3255", "--radius", "400",
        "--format", "json",
    )  # fmt: skip
    assert code == 0
    data = json.loads(stdout)
    assert [c["id"] for c in data["contexts_of_concern"]] == [STORY["placement"]["dock"]]
    code, _, stderr = run(cli, "placement-check", DEMO)
    assert code == 2 and "--young-person" in stderr


def test_plan_command(cli: click.Group) -> None:
    code, stdout, stderr = run(cli, "plan", DEMO, "--k", "3", "--format", "json")
    assert code == 0, stdout + stderr
    data = json.loads(stdout)
    assert [s["step"] for s in data["steps"]] == [1, 2, 3]
    assert data["steps"][0]["target_id"] == "AD097"
    code, stdout, _ = run(cli, "plan", DEMO, "--k", "2")
    assert code == 0 and "1. AD097" in stdout
    code, stdout, _ = run(cli, "plan", DEMO, "--targets", "contexts", "--format", "json")
    assert code == 0
    data = json.loads(stdout)
    assert data["targets"] == "contexts" and len(data["steps"]) == 5
    assert {s["kind"] for s in data["steps"]} <= {"location", "vehicle", "business"}
    assert STORY["network_1"]["flat"] in {s["target_id"] for s in data["steps"]}


@pytest.mark.neo4j
def test_targets_from_neo4j_equal_targets_from_the_dataset(
    cli: click.Group, neo4j_env: Any, neo4j_driver: Any, demo: Any, tmp_path: Path
) -> None:
    from graphguard.store.neo4j import Neo4jStore

    store = Neo4jStore(neo4j_driver, batch_size=500)
    store.clear()
    store.load(demo.dataset)  # the state the other Neo4j tests leave behind
    from_neo4j, from_dataset = tmp_path / "neo4j.json", tmp_path / "dataset.json"
    code, stdout, stderr = run(cli, "targets", "--out", from_neo4j, "--shareable")
    assert code == 0, stdout + stderr
    assert run(cli, "targets", DEMO, "--out", from_dataset, "--shareable")[0] == 0
    assert json.loads(from_neo4j.read_text(encoding="utf-8")) == json.loads(
        from_dataset.read_text(encoding="utf-8")
    )
