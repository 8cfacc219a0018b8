"""The access matrix in the CLI: every command declares a permission, and each role runs
exactly the commands its row allows (refused ones: one line, exit 3, audited).

Also the role's view of the data: a role without handling code C gets scores
recomputed without those records, and a partner practitioner its own agency's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from graphguard.access import MATRIX, Identity, Permission, Role, acting
from graphguard.audit import read_audit
from graphguard.cli import main
from graphguard.cli.base import COMMAND_PERMISSIONS, GraphguardGroup, command_paths
from graphguard.privacy import Sight, role_view, sight_of

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo"

#: For each command, arguments that parse (so a refusal, not a usage error, is what a
#: role without the permission meets).  Nothing runs: each is refused before it does.
ARGS: dict[str, list[str]] = {
    "validate": [str(DEMO)],
    "synth": ["OUT", "--young-people", "100"],
    "analyse": [str(DEMO), "--out", "OUT"],
    "load": [str(DEMO)],
    "check": [str(DEMO)],
    "targets": [str(DEMO), "--out", "OUT.csv"],
    "plan": [str(DEMO)],
    "relocation": ["YP001", str(DEMO)],
    "placement-check": [str(DEMO)],
    "resolve run": [str(DEMO), "--out", "OUT"],
    "resolve decide": ["a:1", "b:1", "same", "--dataset", str(DEMO)],
    "actions add": [
        "--target",
        "AD001",
        "--tactic",
        "cawn",
        "--lead-agency",
        "police",
        "--owner",
        "x",
        "--start",
        "2026-01-01",
        "--review",
        "2026-02-01",
    ],
    "actions update": ["A1"],
    "actions list": [],
    "actions displacement": [],
    "briefing": ["--out", "OUT.pdf"],
    "cypher list": [],
    "cypher show": ["x"],
    "cypher run": ["--query", "RETURN 1"],
    "neo4j start": [],
    "neo4j stop": [],
    "neo4j status": [],
    "neo4j env": [],
    "dashboard": [],
    "changes": ["--from", "2026-01-01"],
    "watch": [],
    "alerts list": [],
    "alerts ack": ["K"],
    "alerts dismiss": ["K", "--reason", "r"],
    "alerts action": ["K"],
    "audit verify": [],
    "where": [],
    "fairness": [str(DEMO), "--out", "OUT.html"],
    "review list": [str(DEMO)],
    "review keep": ["L00001", "--until", "2099-01-01", "--reason", "r"],
    "review log": [],
    "review policy": [],
    "review purge": [str(DEMO), "--dry-run"],
    "review restore": ["L00001", "--reason", "r"],
    "subject-access": ["AD001", str(DEMO), "--out", "OUT"],
}


def run(role: Role, *args: str, agency: str | None = None) -> click.testing.Result:
    env = {"GRAPHGUARD_ROLE": role.value, "GRAPHGUARD_AGENCY": agency}
    from graphguard.settings import get_settings

    get_settings.cache_clear()
    try:
        return CliRunner(env=env).invoke(main, list(args))
    finally:
        get_settings.cache_clear()


def registered() -> dict[str, click.Command]:
    return dict(command_paths(main))


def test_every_registered_command_declares_a_permission() -> None:
    commands = registered()
    assert set(commands) == set(COMMAND_PERMISSIONS), (
        "undeclared: "
        f"{sorted(set(commands) - set(COMMAND_PERMISSIONS))}; declared but not a command: "
        f"{sorted(set(COMMAND_PERMISSIONS) - set(commands))}"
    )
    # The commands that touch nothing personal are these, and only these.
    assert {p for p, need in COMMAND_PERMISSIONS.items() if need is None} == {
        "synth",
        "where",
        "dashboard",
    }


def test_a_command_without_a_declared_permission_cannot_be_registered() -> None:
    group = GraphguardGroup("graphguard")

    @click.command("no-such-command")
    def forgot() -> None:
        """Declares nothing."""

    with pytest.raises(LookupError, match=r"no-such-command.*COMMAND_PERMISSIONS"):
        group.add_command(forgot)


def test_the_arguments_here_cover_every_command() -> None:
    assert set(ARGS) == set(registered())


REFUSALS = [
    (role, path)
    for role in Role
    for path, need in sorted(COMMAND_PERMISSIONS.items())
    if need is not None and need not in MATRIX[role].permissions
]


@pytest.mark.parametrize(("role", "path"), REFUSALS, ids=[f"{r}-{p}" for r, p in REFUSALS])
def test_a_role_is_refused_what_its_row_lacks(
    role: Role, path: str, home: Path, tmp_path: Path
) -> None:
    args = [a.replace("OUT", str(tmp_path / "out")) for a in ARGS[path]]
    result = run(role, *path.split(), *args, agency="education")
    assert result.exit_code == 3, result.output
    lines = result.stderr.strip().splitlines()
    need = COMMAND_PERMISSIONS[path]
    assert lines == [
        f"graphguard: error: {lines[0].split(': ', 2)[2].split(' (')[0]} ({role.spoken}) may "
        f"not run `graphguard {path}`: the role lacks '{need}' (docs/access.md)"
    ]
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob("out*"))
    audit = read_audit(home / "audit.jsonl")
    assert [(e["event"], e["role"], e["permission"], e["action"]) for e in audit] == [
        ("refused", role.value, str(need), f"run `graphguard {path}`")
    ]


def test_help_version_where_and_synth_need_nothing(home: Path, tmp_path: Path) -> None:
    assert run(Role.ADMINISTRATOR, "analyse", "--help").exit_code == 0
    assert run(Role.ADMINISTRATOR, "--version").exit_code == 0
    assert run(Role.PARTNER_PRACTITIONER, "where").exit_code == 0
    made = run(Role.ADMINISTRATOR, "synth", str(tmp_path / "town"), "--young-people", "100")
    assert made.exit_code == 0, made.output
    assert (tmp_path / "town" / "people.csv").exists()
    assert not (home / "audit.jsonl").exists() or not [
        e for e in read_audit(home / "audit.jsonl") if e["event"] == "refused"
    ]


def test_each_role_runs_what_its_row_allows(home: Path, tmp_path: Path) -> None:
    """A command of each permission the role holds runs (a real run, not a mock)."""
    for role in (Role.ANALYST, Role.DISRUPTION_TEAM, Role.POLICE_LIAISON):
        out = tmp_path / role.value
        result = run(role, "analyse", str(DEMO), "--out", str(out))
        assert result.exit_code == 0, (role, result.output)
        assert json.loads((out / "hubs.json").read_text())
    partner = run(
        Role.PARTNER_PRACTITIONER,
        "analyse",
        str(DEMO),
        "--out",
        str(tmp_path / "p"),
        agency="education",
    )
    assert partner.exit_code == 0, partner.output
    listed = run(Role.DISRUPTION_TEAM, "targets", str(DEMO), "--out", str(tmp_path / "t.json"))
    assert listed.exit_code == 0, listed.output
    assert "shareable" in listed.stdout  # a role without code C writes only shareable lists
    assert run(Role.POLICE_LIAISON, "cypher", "list").exit_code == 0
    assert run(Role.ADMINISTRATOR, "audit", "verify").exit_code == 0
    assert run(Role.ADMINISTRATOR, "validate", str(DEMO)).exit_code == 0
    assert not [e for e in read_audit(home / "audit.jsonl") if e["event"] == "refused"]


def test_a_partner_practitioner_without_an_agency_is_refused_in_one_line(
    home: Path, tmp_path: Path
) -> None:
    result = run(Role.PARTNER_PRACTITIONER, "analyse", str(DEMO), "--out", str(tmp_path / "o"))
    assert result.exit_code == 3, result.output
    assert result.stderr.count("\n") == 1
    assert "no agency is set: set GRAPHGUARD_AGENCY" in result.stderr
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------ the role's view of the data


def _demo_graph() -> Any:
    from graphguard.store.memory import MemoryStore

    return MemoryStore.from_path(DEMO).graph()


def test_the_sight_of_each_role() -> None:
    def sight(role: Role, agency: str | None = None) -> Sight:
        return sight_of(Identity("u", role, agency))

    assert sight(Role.ANALYST) == sight(Role.POLICE_LIAISON) == Sight()
    assert sight(Role.DISRUPTION_TEAM) == Sight(handling_c=False)
    assert sight(Role.PARTNER_PRACTITIONER, " Education ") == Sight(False, "education")
    from graphguard.errors import RefusedError

    with pytest.raises(RefusedError, match="may not see personal data"):
        sight(Role.ADMINISTRATOR)
    from graphguard.errors import UsageError

    with pytest.raises(UsageError, match="'educaton' is not an agency of the data"):
        sight(Role.PARTNER_PRACTITIONER, "educaton")


def test_role_view_withholds_handling_c_and_keeps_own_agency() -> None:
    graph = _demo_graph()
    codes = {(d.get("agency"), d.get("handling")) for _, _, d in graph.edges(data=True)}
    assert ("police", "C") in codes and ("education", "C") in codes  # the demo has both
    shareable = role_view(graph, Sight(handling_c=False))
    assert all(d.get("handling") != "C" for _, _, d in shareable.edges(data=True))
    assert shareable.number_of_edges() == graph.number_of_edges() - sum(
        1 for _, _, d in graph.edges(data=True) if d.get("handling") == "C"
    )
    own = role_view(graph, Sight(handling_c=False, agency="education"))
    c_links = {d["agency"] for _, _, d in own.edges(data=True) if d.get("handling") == "C"}
    assert c_links == {"education"}
    # Nothing withheld from the analyst, and the graph given is never changed.
    assert role_view(graph, Sight()) is graph
    assert graph.number_of_edges() == _demo_graph().number_of_edges()


def test_an_entity_only_withheld_records_name_is_not_in_the_view() -> None:
    import networkx as nx

    graph = nx.MultiDiGraph()
    graph.add_node("YP1", role="young_person")
    graph.add_node("AD1", role="adult", name="Known Only To Police")
    graph.add_node("AD2", role="adult")
    graph.add_node("L1")  # recorded, linked by nothing: stays
    graph.add_edge("AD1", "YP1", handling="C", agency="police")
    graph.add_edge("AD2", "YP1", handling="P", agency="police")
    graph.add_node("YP2", role="young_person")
    graph.add_edge("AD1", "YP2", handling="C", agency="police")
    # The adult goes; young people stay, so every scrubber of the view still knows them.
    assert sorted(role_view(graph, Sight(handling_c=False)).nodes) == ["AD2", "L1", "YP1", "YP2"]


def _hub_scores(out: Path) -> dict[str, float]:
    return {h["id"]: h["score"] for h in json.loads((out / "hubs.json").read_text())}


def test_a_role_without_handling_c_gets_recomputed_scores_and_none_of_the_evidence(
    home: Path, tmp_path: Path
) -> None:
    graph = _demo_graph()

    def references(c: bool) -> set[str]:
        return {
            str(d["reference"])
            for _, _, d in graph.edges(data=True)
            if (d.get("handling") == "C") == c and d.get("reference")
        }

    c_refs = references(True) - references(False)  # a report can cite both kinds
    c_links = {str(d["link_id"]) for _, _, d in graph.edges(data=True) if d.get("handling") == "C"}
    assert c_refs and c_links
    for role in (Role.ANALYST, Role.DISRUPTION_TEAM):
        assert run(role, "analyse", str(DEMO), "--out", str(tmp_path / role.value)).exit_code == 0
    analyst = _hub_scores(tmp_path / "analyst")
    team = _hub_scores(tmp_path / "disruption_team")
    assert analyst != team
    # Recomputed, not the analyst's scores with rows dropped: some shared hub moved.
    shared = set(analyst) & set(team)
    assert any(abs(analyst[h] - team[h]) > 1e-9 for h in shared)
    with acting(Identity("u", Role.DISRUPTION_TEAM)):
        from graphguard.analysis import AnalysisOptions, analyse

        expected = analyse(role_view(graph, Sight(handling_c=False)), AnalysisOptions())
    assert team == {h.id: round(h.score, 4) for h in expected.hubs}
    written = "".join(p.read_text() for p in (tmp_path / "disruption_team").iterdir())
    assert not [ref for ref in c_refs if ref in written]
    assert not [link for link in c_links if f'"{link}"' in written]
    targets = tmp_path / "t.json"
    assert run(Role.DISRUPTION_TEAM, "targets", str(DEMO), "--out", str(targets)).exit_code == 0
    listed = targets.read_text()
    assert not [ref for ref in c_refs if ref in listed]


def test_target_list_export_audits_its_subjects(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    assert run(Role.ANALYST, "targets", str(DEMO), "--out", str(out)).exit_code == 0
    rows = json.loads(out.read_text())
    rows = rows["targets"] if isinstance(rows, dict) else rows
    done = [e for e in read_audit(home / "audit.jsonl") if e["outcome"] == "ok"]
    assert done[-1]["event"] == "export targets"
    subjects = done[-1]["subjects"]
    assert subjects == sorted(subjects)
    assert {r["target_id"] for r in rows} <= set(subjects)
    assert {p for r in rows for p in r["linked_young_people_pseudonyms"]} <= set(subjects)
    assert not [s for s in subjects if s.startswith("YP0")]  # never a young person's id


def test_permissions_are_all_used_by_some_command_or_page() -> None:
    """A permission no command or page asks for would be a matrix row nobody enforces."""
    used = {need for need in COMMAND_PERMISSIONS.values() if need is not None}
    # Reveal and handling code C are asked for by the views, not by a command.
    assert set(Permission) - used == {Permission.REVEAL_IDENTITY, Permission.SEE_HANDLING_C}
