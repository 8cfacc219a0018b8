"""Outputs are atomic and go where the user meant (issue 10 item 2, issue 11 item 7).

Every file appears whole or not at all, owner-only; ``analyse --out`` swaps in a whole
set; an interrupt (a real SIGINT to a real process) or a full disk (a real tiny tmpfs)
leaves the previous outputs as they were; ``--out`` onto an existing file or through
a symbolic link needs ``--force``, and the audit records the resolved path.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from graphguard.cli import main
from graphguard.errors import BackendUnavailable, UsageError
from graphguard.export import write_table
from graphguard.files import atomic_file, atomic_folder, check_destination, write_text

from .helpers import small_town

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo"
OUTPUTS = ("hubs.json", "contexts.json", "groups.json", "measures.csv", "summary.json")


def run(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too), by relative name."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def audit_outcomes() -> list[dict[str, object]]:
    from graphguard.audit import read_audit

    return [e for e in read_audit() if e["outcome"] != "started"]


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 256 KiB tmpfs (CI runs as root), to fill up."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path, leave: int = 0) -> None:
    """Fill ``disk`` until at most ``leave`` bytes are free."""
    with open(disk / "filler", "ab") as handle:
        while True:
            free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
            if free <= leave:
                return
            try:
                handle.write(b"\0" * min(4096, max(free - leave, 1)))
                handle.flush()
            except OSError:
                return


# ------------------------------------------------------------------------------ files


def test_a_file_is_replaced_whole_owner_only_and_leaves_nothing_beside(tmp_path: Path) -> None:
    target = tmp_path / "new" / "folder" / "out.txt"
    write_text(target, "first\n")
    assert target.read_text() == "first\n"
    assert target.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o700
    write_text(target, "second\n")
    assert target.read_text() == "second\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.txt"]


def test_a_failed_write_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    write_text(target, "the good one\n")
    with pytest.raises(RuntimeError), atomic_file(target) as handle:
        handle.write("half of a new one")
        raise RuntimeError("the writer failed")
    assert target.read_text() == "the good one\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_the_temporary_file_is_owner_only_while_it_is_written(tmp_path: Path) -> None:
    with atomic_file(tmp_path / "secret.csv") as handle:
        (partial,) = [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
        assert partial.stat().st_mode & 0o777 == 0o600
        assert partial.parent == tmp_path  # beside its destination: the rename is atomic
        handle.write("x")


@pytest.mark.parametrize("kind", ["csv", "xlsx", "json"])
def test_a_full_disk_is_one_line_and_the_previous_export_stays(tiny_disk: Path, kind: str) -> None:
    rows = [{"id": f"AD{i:03}", "note": "x" * 200} for i in range(40)]
    target = tiny_disk / f"targets.{kind}"
    write_table(rows[:3], ["id", "note"], target)
    before = target.read_bytes()
    fill(tiny_disk, leave=2048)
    with pytest.raises(BackendUnavailable) as raised:
        write_table(rows * 20, ["id", "note"], target)
    message = str(raised.value)
    assert "\n" not in message
    assert str(target) in message and "no space left on device" in message
    assert f"tmpfs (mounted on {tiny_disk})" in message
    assert target.read_bytes() == before  # never truncated, never a 0-byte workbook
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["filler", target.name]


def test_targets_on_a_full_disk_exits_non_zero_naming_the_file_and_device(
    tiny_disk: Path, home: Path
) -> None:
    target = tiny_disk / "targets.xlsx"
    assert run("targets", DEMO, "--out", target, "--top", "2")[0] == 0
    before = target.read_bytes()
    assert before  # a real workbook
    fill(tiny_disk, leave=1024)
    code, _, stderr = run("targets", DEMO, "--out", target, "--force")
    assert code == 4, stderr
    assert stderr.count("\n") == 1 and stderr.startswith("graphguard: error: ")
    assert f"{target}: no space left on device on tmpfs (mounted on {tiny_disk})" in stderr
    assert target.read_bytes() == before
    assert audit_outcomes()[-1]["outcome"] == "error"


def test_analyse_on_a_full_disk_leaves_the_previous_complete_set(
    tiny_disk: Path, home: Path
) -> None:
    out = tiny_disk / "analysis"
    # A tiny town first, so its set fits; then the demo's bigger set cannot.
    town = small_town(home.parent / "town")
    assert run("analyse", town, "--out", out)[0] == 0
    before = snapshot(out)
    assert sorted(before) == sorted(OUTPUTS)
    fill(tiny_disk, leave=4096)
    code, _, stderr = run("analyse", DEMO, "--out", out, "--force")
    assert code == 4, stderr
    assert stderr.count("\n") == 1 and "no space left on device on tmpfs" in stderr
    assert snapshot(out) == before
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["analysis", "filler"]


# ------------------------------------------------------------------------------ folders


def test_a_set_of_outputs_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with atomic_folder(out, ("a.txt", "b.txt")) as staging:
        (staging / "a.txt").write_text("1")
        (staging / "b.txt").write_text("1")
        assert not out.exists()  # nothing is visible until the set is complete
    assert snapshot(out) == {"a.txt": b"1", "b.txt": b"1"}
    assert out.stat().st_mode & 0o777 == 0o700
    with pytest.raises(RuntimeError), atomic_folder(out, ("a.txt", "b.txt")) as staging:
        (staging / "a.txt").write_text("2")
        raise RuntimeError("failed before b.txt")
    assert snapshot(out) == {"a.txt": b"1", "b.txt": b"1"}
    with atomic_folder(out, ("a.txt", "b.txt")) as staging:
        (staging / "a.txt").write_text("3")
    assert snapshot(out) == {"a.txt": b"3"}  # the new set, not a mixture
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_files_in_subfolders_are_synced_before_the_swap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A v2 dataset's source folders: their files must be on disk before the swap."""
    from graphguard import files

    synced: list[str] = []
    monkeypatch.setattr(files, "_sync_file", lambda path: synced.append(path.name))
    out = tmp_path / "agencies"
    with atomic_folder(out, ("sources.csv", "police")) as staging:
        (staging / "sources.csv").write_text("source\npolice\n")
        (staging / "police").mkdir()
        (staging / "police" / "people.csv").write_text("person_id\n")
    assert sorted(synced) == ["people.csv", "sources.csv"]
    assert (out / "police" / "people.csv").read_text() == "person_id\n"


def test_a_folder_holding_someone_elses_files_is_never_replaced(tmp_path: Path) -> None:
    out = tmp_path / "documents"
    out.mkdir()
    (out / "thesis.docx").write_text("years of work")
    refused = pytest.raises(UsageError, match=r"not graphguard's outputs \(thesis.docx\)")
    with refused, atomic_folder(out, OUTPUTS):
        pytest.fail("the block must not run")
    assert (out / "thesis.docx").read_text() == "years of work"
    code, _, stderr = run("analyse", DEMO, "--out", out, "--force")
    assert code == 2 and "thesis.docx" in stderr
    assert snapshot(out) == {"thesis.docx": b"years of work"}


# ------------------------------------------------------------------------------ SIGINT

_INTERRUPTIBLE = """
import signal, sys, time
from pathlib import Path
import graphguard.{module} as target

# A shell's background job starts with SIGINT ignored, and Python then keeps it so:
# take it as a terminal's Ctrl-C would come, however the tests were started.
signal.signal(signal.SIGINT, signal.default_int_handler)

marker = Path(sys.argv[1])
original = target.{function}

def slow(*args, **kwargs):
    if not marker.exists():
        marker.write_text("writing")
        time.sleep(60)  # SIGINT arrives here, mid-write
    return original(*args, **kwargs)

target.{function} = slow
from graphguard.cli import main
main(sys.argv[2:], prog_name="graphguard")
"""


def interrupt_mid_write(
    tmp_path: Path, module: str, function: str, *args: object
) -> subprocess.CompletedProcess[str]:
    """Run ``graphguard ARGS`` in a real process and SIGINT it in the middle of its write."""
    marker = tmp_path / "writing.marker"
    script = _INTERRUPTIBLE.format(module=module, function=function)
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(marker), *map(str, args)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the write never started"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_sigint_during_analyse_leaves_the_previous_complete_set(tmp_path: Path, home: Path) -> None:
    out = tmp_path / "analysis"
    assert run("analyse", DEMO, "--out", out, "--seed", "1")[0] == 0
    before = snapshot(out)
    # Interrupted after hubs, contexts and groups are written, in the middle of measures.
    done = interrupt_mid_write(
        tmp_path, "analysis.pipeline", "_number", "analyse", DEMO, "--out", out, "--force"
    )
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "graphguard: interrupted"
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["analysis", "home", "writing.marker"]
    last = audit_outcomes()[-1]
    assert last["event"] == "analyse" and last["outcome"] == "interrupted"


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_sigint_during_targets_keeps_the_good_file(tmp_path: Path, home: Path, kind: str) -> None:
    target = tmp_path / f"targets.{kind}"
    assert run("targets", DEMO, "--out", target)[0] == 0
    before = target.read_bytes()
    done = interrupt_mid_write(
        tmp_path, "export", "_flat", "targets", DEMO, "--out", target, "--force", "--top", "3"
    )
    assert done.returncode == 130, done.stderr
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [target.name, "home", "writing.marker"]
    )


# ------------------------------------------------------------------------------ --force


def test_out_onto_an_existing_file_needs_force(tmp_path: Path, home: Path) -> None:
    target = tmp_path / "targets.csv"
    target.write_text("somebody's list\n")
    code, stdout, stderr = run("targets", DEMO, "--out", target)
    assert code == 2 and stdout == ""
    assert stderr == f"graphguard: error: --out {target} exists: give --force to replace it\n"
    assert target.read_text() == "somebody's list\n"
    assert run("targets", DEMO, "--out", target, "--force")[0] == 0
    assert target.read_text().startswith("rank,target_id")
    rejects = tmp_path / "rejects.csv"
    rejects.write_text("keep me\n")
    code, _, stderr = run("validate", ROOT / "fixtures" / "invalid", "--rejects", rejects)
    assert code == 2 and "--rejects" in stderr and rejects.read_text() == "keep me\n"


def test_out_through_a_symlink_needs_force_and_the_audit_has_the_real_path(
    tmp_path: Path, home: Path
) -> None:
    shared = tmp_path / "shared-drive"
    shared.mkdir()
    link = tmp_path / "targets.json"
    link.symlink_to(shared / "everyone-can-read.json")
    code, _, stderr = run("targets", DEMO, "--out", link)
    assert code == 2 and "is a symbolic link to" in stderr and "--force" in stderr
    assert not (shared / "everyone-can-read.json").exists()
    assert run("targets", DEMO, "--out", link, "--force")[0] == 0
    assert link.is_symlink()  # the link is kept; its target was written
    assert json.loads((shared / "everyone-can-read.json").read_text())
    started, finished = [e for e in _audit() if e["event"] == "export targets"][-2:]
    assert started["outcome"] == "started" and finished["outcome"] == "ok"
    assert started["path"] == finished["path"] == str(shared / "everyone-can-read.json")


def _audit() -> list[dict[str, object]]:
    from graphguard.audit import read_audit

    return read_audit()


def test_analyse_into_a_previous_analysis_needs_force(tmp_path: Path, home: Path) -> None:
    out = tmp_path / "analysis"
    assert run("analyse", DEMO, "--out", out)[0] == 0
    code, _, stderr = run("analyse", DEMO, "--out", out)
    assert code == 2 and "not empty" in stderr and "--force" in stderr
    assert run("analyse", DEMO, "--out", out, "--force")[0] == 0
    assert all(
        (out / name).stat().st_mode & 0o777 == 0o600 for name in OUTPUTS
    )  # owner-only from creation
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run("analyse", DEMO, "--out", empty)[0] == 0  # an empty folder is fine


def test_check_destination_resolves_what_was_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert check_destination(None, force=False) is None
    monkeypatch.chdir(tmp_path)
    assert check_destination("x.csv", force=False) == tmp_path.resolve() / "x.csv"


def test_a_links_target_decides_the_format_and_what_is_audited(tmp_path: Path, home: Path) -> None:
    link = tmp_path / "targets.csv"
    link.symlink_to(tmp_path / "really.json")
    assert run("targets", DEMO, "--out", link, "--force", "--top", "2")[0] == 0
    assert len(json.loads((tmp_path / "really.json").read_text(encoding="utf-8"))) == 2
    finished = audit_outcomes()[-1]
    assert finished["format"] == "json" and finished["path"] == str(tmp_path / "really.json")
