"""The CLI through click's runner: exit codes, one-line errors, the JSON report."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from graphguard.cli import main

from .helpers import small_town, write_csv

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_validate_valid_dataset(tmp_path: Path) -> None:
    code, out, err = run("validate", str(small_town(tmp_path)))
    assert code == 0, out + err
    assert "people.csv: 3 rows, 3 accepted, 0 rejected" in out
    assert "All rows valid." in out


def test_validate_rejects_exit_1_with_json_and_rejects_file(tmp_path: Path) -> None:
    small_town(tmp_path)
    write_csv(
        tmp_path / "people.csv",
        ["person_id", "role"],
        [["YP1", "young_person"], ["YP2", "martian"], ["AD1", "adult"]],
    )
    rejects = tmp_path / "rejects.csv"
    code, out, err = run("validate", str(tmp_path), "--format", "json", "--rejects", str(rejects))
    assert code == 1, out + err
    report = json.loads(out)
    assert report["files"]["people.csv"] == {"rows": 3, "accepted": 2, "rejected": 1}
    assert report["rejects"][0] == {
        "file": "people.csv",
        "line": 3,
        "column": "role",
        "reason": "'martian' is not one of young_person, adult",
    }
    # L4 and L5 involve YP2, rejected with it; the other links are kept
    assert report["files"]["links.csv"]["accepted"] == 3
    rows = list(csv.DictReader(rejects.open(encoding="utf-8")))
    assert [(r["file"], r["line"]) for r in rows] == [
        ("people.csv", "3"),
        ("links.csv", "5"),
        ("links.csv", "6"),
    ]


def test_validate_missing_folder_is_usage_error(tmp_path: Path) -> None:
    code, out, err = run("validate", str(tmp_path / "nowhere"))
    assert code == 2
    assert err.strip().count("\n") == 0 and "no such file or folder" in err
    assert "Traceback" not in err + out


def test_validate_not_a_dataset(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("x")
    code, _, err = run("validate", str(tmp_path))
    assert code == 2 and "not a dataset" in err


def test_validate_demo_is_clean() -> None:
    code, out, err = run("validate", str(ROOT / "fixtures" / "demo"))
    assert code == 0, out + err


def test_every_command_has_help() -> None:
    code, out, _ = run("--help")
    assert code == 0
    commands = [line.split()[0] for line in out.split("Commands:")[1].splitlines() if line.strip()]
    assert {"validate", "load", "neo4j", "synth"} <= set(commands)
    for command in commands:
        code, text, err = run(command, "--help")
        assert code == 0 and "Usage:" in text, (command, err)


def test_analyse_and_targets_exit_1_when_rows_were_rejected(tmp_path: Path) -> None:
    case = ROOT / "fixtures" / "invalid" / "link_to_rejected_id"
    code, out, err = run("analyse", str(case), "--out", str(tmp_path / "out"))
    assert code == 1, out + err
    assert (tmp_path / "out" / "hubs.json").exists()  # written from the valid rows
    assert "rows rejected" in err and len(err.strip().splitlines()) == 1
    code, out, err = run("targets", str(case), "--out", str(tmp_path / "t.csv"))
    assert code == 1, out + err
    assert (tmp_path / "t.csv").exists()


def test_analyse_on_the_demo_exits_0(tmp_path: Path) -> None:
    code, out, err = run("analyse", str(ROOT / "fixtures" / "demo"), "--out", str(tmp_path))
    assert code == 0, out + err
    assert err == ""


def test_one_rule_chooses_the_dashboards_data(tmp_path: Path) -> None:
    """The `dashboard` command and the dashboard itself choose their data by one rule."""
    from graphguard.cli.dashboard import dashboard_env
    from graphguard.errors import UsageError
    from graphguard.store.open import DATASET_ENV, choose_data

    uri = "bolt://127.0.0.1:7687"
    named = tmp_path / "named"
    named.mkdir()
    assert choose_data(named, None, uri).location == str(named.resolve())
    assert choose_data(None, str(named), uri).location == str(named.resolve())
    assert choose_data(None, None, uri).is_neo4j
    assert dashboard_env(None, {"NEO4J_URI": uri}).get(DATASET_ENV) is None
    assert dashboard_env(named, {"NEO4J_URI": uri})[DATASET_ENV] == str(named.resolve())
    with pytest.raises(UsageError, match=f"{DATASET_ENV}=.*no such folder"):
        dashboard_env(None, {DATASET_ENV: str(tmp_path / "gone")})
