"""The audit fails closed and can't be switched off; one state home (issue 11 items 3 and 4).

Each row of issue 11's table that this covers is a test here: ``GRAPHGUARD_AUDIT_LOG``
at a folder, ``/dev/full`` or ``/dev/null``; a ``.env`` in the working directory;
running from another folder; file modes in the state home.  Plus the hash chain
(``graphguard audit verify`` names a deleted or edited line), two processes appending
at once, and pseudonyms instead of young people's ids.
"""

from __future__ import annotations

import itertools
import json
import os
import pwd
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from graphguard import audit
from graphguard.cli import main
from graphguard.cypher import run_query
from graphguard.errors import RefusedError
from graphguard.privacy import pseudonym
from graphguard.settings import get_settings, pseudonym_key

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo"
ME = pwd.getpwuid(os.geteuid()).pw_name


def run(*args: object, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], input=input)
    return result.exit_code, result.stdout, result.stderr


def settings_changed() -> None:
    get_settings.cache_clear()


class RecordingDriver:
    """A driver that fails the test if anything is sent to it."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        raise AssertionError(f"the query reached the driver ({name}) before it was audited")


# ------------------------------------------------------------------------------ the chain


def test_every_line_is_chained_to_the_one_before(home: Path) -> None:
    for number in range(5):
        with audit.audited(audit.Event.PLAN, k=number) as action:
            action.note(targets=[f"AD{number}"])
    entries = audit.read_audit()
    assert [e["seq"] for e in entries] == list(range(1, 11))
    assert entries[0]["prev"] == audit.GENESIS
    assert all(b["prev"] == a["hash"] for a, b in itertools.pairwise(entries))
    assert [e["outcome"] for e in entries[:2]] == ["started", "ok"]
    assert entries[0]["run"] == entries[1]["run"] != entries[2]["run"]
    assert entries[1]["targets"] == ["AD0"] and entries[1]["user"] == ME
    report = audit.verify_log()
    assert report.intact and report.lines == 10 and report.head == entries[-1]["hash"]
    assert run("audit", "verify") == (
        0,
        f"{get_settings().audit_path}: 10 lines, chain intact; head {report.head}\n",
        "",
    )


def _write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(lines), encoding="utf-8")


def test_audit_verify_names_an_edited_line(home: Path) -> None:
    for _ in range(3):
        with audit.audited(audit.Event.EXPORT_TARGETS, path="/x/targets.csv"):
            pass
    log = get_settings().audit_path
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3].replace('"/x/targets.csv"', '"/elsewhere.csv"')
    _write_lines(log, lines)
    code, stdout, stderr = run("audit", "verify")
    assert code == 1
    assert stdout == f"{log}:4: line 4 was edited: its hash does not match its content\n"
    assert stderr == f"graphguard: error: the audit log {log} is broken at line 4 (1 broken line)\n"


def test_audit_verify_names_the_line_after_a_deleted_one(home: Path) -> None:
    for _ in range(3):
        with audit.audited(audit.Event.PLAN):
            pass
    log = get_settings().audit_path
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    del lines[2]
    _write_lines(log, lines)
    report = audit.verify_log()
    assert report.problems == [
        (3, "does not follow the line before it: 1 line before it was deleted")
    ]
    assert run("audit", "verify", "--format", "json")[0] == 1
    # Moving lines (or recomputing one hash) breaks the chain too.
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[0], lines[1] = lines[1], lines[0]
    _write_lines(log, lines)
    assert [n for n, _ in audit.verify_log().problems][:2] == [1, 2]


def test_two_processes_appending_at_once_keep_one_chain(home: Path) -> None:
    script = (
        "from graphguard import audit\n"
        "for n in range(40):\n"
        "    with audit.audited(audit.Event.PLAN, k=n):\n"
        "        pass\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GRAPHGUARD_HOME": str(home)}
    writers = [
        subprocess.Popen([sys.executable, "-c", script], env=env, cwd=ROOT) for _ in range(3)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0]
    report = audit.verify_log()
    assert report.intact, report.problems
    assert report.lines == 3 * 40 * 2


# ------------------------------------------------------------------------------ fail closed


@pytest.mark.parametrize("where", ["folder", "/dev/full", "/dev/null", "symlink"])
def test_an_audit_log_that_cannot_be_written_stops_the_export(
    where: str, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if where == "folder":
        target = tmp_path / "a-folder"
        target.mkdir()
    elif where == "symlink":
        target = tmp_path / "audit.jsonl"
        target.symlink_to("/dev/null")
    else:
        target = Path(where)
    monkeypatch.setenv("GRAPHGUARD_AUDIT_LOG", str(target))
    settings_changed()
    out = tmp_path / "targets.csv"
    code, stdout, stderr = run("targets", DEMO, "--out", out)
    assert code == 3, stderr
    assert stdout == "" and stderr.count("\n") == 1
    assert f"the audit log {target}" in stderr and "nothing was disclosed" in stderr
    assert not out.exists() and not list(tmp_path.glob(".targets.csv*"))
    code, _, stderr = run("plan", DEMO)
    assert code == 3 and "refused" in stderr


def test_a_cypher_query_never_reaches_the_server_when_its_audit_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GRAPHGUARD_AUDIT_LOG", "/dev/full")
    settings_changed()
    driver = RecordingDriver()
    with pytest.raises(audit.AuditError, match="is not a regular file"):
        run_query(driver, "MATCH (n) RETURN count(n) AS n", timeout=5, row_limit=10)
    assert driver.calls == []


def test_a_full_disk_under_the_audit_log_stops_the_export(tmp_path: Path) -> None:
    from .test_files import fill

    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    disk = tmp_path / "tiny"
    disk.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(disk)],
        capture_output=True,
    ).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        os.environ["GRAPHGUARD_AUDIT_LOG"] = str(disk / "audit.jsonl")
        settings_changed()
        with audit.audited(audit.Event.PLAN):
            pass
        fill(disk)
        with pytest.raises(audit.AuditError):  # until the log's last page is full too
            for _ in range(100):
                with audit.audited(audit.Event.PLAN):
                    pass
        out = tmp_path / "targets.json"
        code, _, stderr = run("targets", DEMO, "--out", out)
        assert code == 3, stderr
        assert "no space left on device on tmpfs" in stderr and "nothing was disclosed" in stderr
        assert not out.exists()
        assert audit.verify_log().intact  # no torn line either
    finally:
        del os.environ["GRAPHGUARD_AUDIT_LOG"]
        subprocess.run(["umount", "-l", str(disk)], check=False)


# ------------------------------------------------------------------------------ who and what


def test_graphguard_user_cannot_name_somebody_else(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRAPHGUARD_USER", "the-chief-constable")
    out = tmp_path / "targets.csv"
    code, _, stderr = run("targets", DEMO, "--out", out)
    assert code == 3 and "GRAPHGUARD_USER" in stderr and ME in stderr
    assert not out.exists()
    monkeypatch.setenv("GRAPHGUARD_USER", ME)  # naming yourself is harmless
    assert run("targets", DEMO, "--out", out)[0] == 0


def test_a_pseudonym_key_from_the_environment_is_refused(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRAPHGUARD_PSEUDONYM_KEY", "known to the attacker")
    code, _, stderr = run("targets", DEMO, "--out", tmp_path / "t.csv")
    assert code == 3 and "GRAPHGUARD_PSEUDONYM_KEY" in stderr
    assert not (tmp_path / "t.csv").exists()


def test_audit_lines_carry_pseudonyms_never_a_young_persons_id(home: Path) -> None:
    with pytest.raises(RefusedError):
        run_query(
            None,
            "MATCH (y {id: 'YP028', name: 'Ada Fictional'}) // YP029\nDETACH DELETE y",
            {"young_person_id": "YP030", "ids": ["YP031"], "steps": 2},
            timeout=5,
            row_limit=10,
        )
    assert run("relocation", "YP028", DEMO)[0] == 0
    assert run("plan", DEMO, "--k", "2")[0] == 0
    text = get_settings().audit_path.read_text(encoding="utf-8")
    for identifying in ("YP028", "YP029", "YP030", "YP031", "Ada Fictional"):
        assert identifying not in text
    _started, refused = audit.read_audit()[:2]
    key = pseudonym_key()
    assert refused["params"] == {
        "young_person_id": pseudonym("YP030", key, prefix="ID"),
        "ids": [pseudonym("YP031", key, prefix="ID")],
        "steps": 2,
    }
    assert pseudonym("YP028", key, prefix="ID") in refused["text"]
    events = [(e["event"], e["outcome"]) for e in audit.read_audit()]
    assert ("view plan", "ok") in events and ("view relocation", "ok") in events


# ------------------------------------------------------------------------------ state home


def test_the_state_home_is_the_per_user_data_directory_wherever_you_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GRAPHGUARD_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    pseudonyms = []
    for folder in ("one", "two"):
        cwd = tmp_path / folder
        cwd.mkdir()
        monkeypatch.chdir(cwd)
        settings_changed()
        assert get_settings().home == tmp_path / "xdg" / "graphguard"
        assert run("targets", DEMO, "--out", "t.json")[0] == 0
        rows = json.loads((cwd / "t.json").read_text(encoding="utf-8"))
        pseudonyms.append([r["linked_young_people_pseudonyms"] for r in rows])
        assert sorted(p.name for p in cwd.iterdir()) == ["t.json"]  # no .graphguard here
    assert pseudonyms[0] == pseudonyms[1]  # one key: the same child, the same pseudonym
    home = tmp_path / "xdg" / "graphguard"
    assert sorted(p.name for p in home.iterdir()) == ["audit.jsonl", "pseudonym.key"]
    assert len([e for e in audit.read_audit() if e["outcome"] == "ok"]) == 2


def test_a_dotenv_in_the_working_directory_is_not_read(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = tmp_path / "hostile"
    cwd.mkdir()
    (cwd / ".env").write_text(
        "GRAPHGUARD_AUDIT_LOG=/dev/null\nGRAPHGUARD_PSEUDONYM_KEY=known\n"
        f"GRAPHGUARD_USER=somebody-else\nGRAPHGUARD_HOME={tmp_path / 'elsewhere'}\n"
        "NEO4J_URI=bolt://attacker.invalid:7687\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(cwd)
    settings_changed()
    settings = get_settings()
    assert settings.audit_log is None and settings.neo4j_uri is None
    assert settings.home == home
    assert run("targets", DEMO, "--out", "t.csv")[0] == 0
    (_started, finished) = audit.read_audit()
    assert finished["user"] == ME and finished["outcome"] == "ok"
    assert not (tmp_path / "elsewhere").exists()


def test_the_settings_file_in_the_state_home_is_read_when_private(home: Path) -> None:
    home.mkdir(mode=0o700)
    settings_file = home / "settings.env"
    settings_file.write_text("GRAPHGUARD_CYPHER_ROW_LIMIT=7\n", encoding="utf-8")
    settings_file.chmod(0o600)
    settings_changed()
    assert get_settings().cypher_row_limit == 7
    settings_file.chmod(0o644)
    settings_changed()
    with pytest.raises(RefusedError, match="can be read or written by other users"):
        get_settings()


def test_everything_in_the_state_home_is_owner_only_from_creation(home: Path) -> None:
    previous = os.umask(0)  # the loosest umask: modes come from graphguard, not from it
    try:
        assert run("targets", DEMO, "--out", home.parent / "t.csv")[0] == 0
    finally:
        os.umask(previous)
    assert home.stat().st_mode & 0o777 == 0o700
    for name in ("audit.jsonl", "pseudonym.key"):
        assert (home / name).stat().st_mode & 0o777 == 0o600, name
    assert (home.parent / "t.csv").stat().st_mode & 0o777 == 0o600


def test_a_state_home_others_can_write_or_another_users_is_refused(
    home: Path, tmp_path: Path
) -> None:
    home.mkdir(mode=0o700)
    home.chmod(0o777)
    code, _, stderr = run("targets", DEMO, "--out", tmp_path / "t.csv")
    assert code == 3 and "can be written by other users" in stderr
    assert not (tmp_path / "t.csv").exists()
    if os.geteuid() == 0:
        home.chmod(0o700)
        os.chown(home, 65534, 65534)  # nobody
        code, _, stderr = run("where")
        assert code == 3 and "belongs to another user" in stderr


def test_a_planted_key_or_log_that_is_not_a_private_file_is_refused(
    home: Path, tmp_path: Path
) -> None:
    home.mkdir(mode=0o700)
    (home / "pseudonym.key").symlink_to(tmp_path / "attacker.key")
    (tmp_path / "attacker.key").write_text("0" * 64)
    code, _, stderr = run("targets", DEMO, "--out", tmp_path / "t.csv")
    assert code == 3 and "the pseudonym key" in stderr and "symbolic link" in stderr
    (home / "pseudonym.key").unlink()
    (home / "audit.jsonl").symlink_to("/dev/null")
    code, _, stderr = run("targets", DEMO, "--out", tmp_path / "t.csv")
    assert code == 3 and "the audit log" in stderr
    assert not (tmp_path / "t.csv").exists()


def test_where_prints_the_state_home_and_what_is_in_it(home: Path, tmp_path: Path) -> None:
    assert run("targets", DEMO, "--out", tmp_path / "t.csv")[0] == 0
    code, stdout, _ = run("where")
    assert code == 0
    assert stdout.splitlines()[0] == f"state home: {home} (GRAPHGUARD_HOME)"
    assert f"{home / 'audit.jsonl'}  " in stdout and "2 lines" in stdout
    assert f"{home / 'pseudonym.key'}  64 bytes, mode 0600" in stdout
    found = json.loads(run("where", "--format", "json")[1])
    assert found["home"] == str(home) and found["local Neo4j"]["exists"] is False
    assert found["workspace"] == {
        "path": str(home / "workspace" / "workspace.sqlite3"),
        "exists": False,
        "state": "(not created yet)",
    }


def test_neo4j_data_dir_defaults_to_the_state_home(home: Path) -> None:
    from graphguard.cli.neo4j import neo4j

    start = neo4j.commands["start"]
    (option,) = [p for p in start.params if p.name == "data_dir"]
    default = option.get_default(click_context(start))
    assert Path(str(default)) == home / "neo4j"


def click_context(command: Any) -> Any:
    import click

    return click.Context(command)


def test_an_outcome_that_cannot_be_recorded_says_the_action_went_ahead(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_append = audit.append

    def append_then_fail(path: Path, fields: Any, **kw: Any) -> Any:
        if fields["outcome"] != "started":
            raise audit.AuditError(f"the audit log {path} cannot be written; {kw['consequence']}")
        return real_append(path, fields, **kw)

    monkeypatch.setattr(audit, "append", append_then_fail)
    ran = []
    unrecorded = pytest.raises(audit.AuditError, match="its outcome is not recorded")
    with unrecorded, audit.audited(audit.Event.PLAN):
        ran.append(True)
    assert ran == [True]
