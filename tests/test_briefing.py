"""The briefing pack: its pages as images, its text, and what a shareable pack withholds."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner, Result
from PIL import Image
from pypdf import PdfReader

from graphguard.audit import read_audit
from graphguard.cli import main
from graphguard.meeting.months import MonthsTruth, write_months
from graphguard.meeting.state import MeetingState
from graphguard.settings import get_settings


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, MonthsTruth]:
    """The months town with every record of the recruiter under handling code C."""
    folder = tmp_path_factory.mktemp("briefing") / "town"
    truth = write_months(folder, 120, 11, months=3)
    links = folder / "links.csv"
    with links.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if truth.recruiter in (row["source_id"], row["target_id"]):
            row["handling"] = "C"
    with links.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return folder, truth


@pytest.fixture(autouse=True)
def _own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPHGUARD_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def prepare(folder: Path, truth: MonthsTruth) -> None:
    """An agreed action against the closed flat, and three alerts in the meeting state."""
    added = run(
        "actions", "add", str(folder), "--target", truth.closed, "--tactic", "closure_asb",
        "--lead-agency", "police", "--owner", "ASB team", "--start", truth.closed_on,
        "--review", truth.months[2],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    links = rows(folder, "links.csv")
    c_link = next(r for r in links if r["handling"] == "C" and r["source_id"] == truth.recruiter)
    p_link = next(r for r in links if r["target_id"] == truth.moved_to and r["handling"] == "P")
    victim = truth.new_victims[0]
    state = MeetingState.open(folder)
    # As graphguard.meeting.watch keeps them; the first rests on a record of handling code C.
    state.put("alert", "a1", {"rule": "r1", "title": "newly linked to an adult of concern",
              "state": "new", "raised_on": "2026-08-02", "evidence": [c_link["link_id"]],
              "explanation": f"{victim} newly linked to {truth.recruiter}"})  # fmt: skip
    state.put("alert", "a2", {"rule": "r2", "title": "found at a context of concern",
              "state": "new", "raised_on": "2026-07-14", "evidence": [p_link["link_id"]],
              "explanation": "found at the new flat"})  # fmt: skip
    state.put("alert", "a3", {"rule": "r3", "title": "vehicle of concern at a school",
              "state": "dismissed", "raised_on": "2026-07-10", "evidence": [],
              "explanation": "dismissed one"})  # fmt: skip


def pdf_text(path: Path) -> str:
    """The pack's text with its line breaks as spaces (a table cell wraps its lines)."""
    return " ".join(" ".join(page.extract_text() or "" for page in PdfReader(path).pages).split())


def page_images(path: Path, folder: Path) -> list[Image.Image]:
    document = pdfium.PdfDocument(path)
    images = []
    for number in range(len(document)):
        image = document[number].render(scale=1.5).to_pil().convert("RGB")
        image.save(folder / f"{path.stem}-{number + 1}.png")  # to look at when a test fails
        images.append(image)
    return images


def near(image: Image.Image, colour: tuple[int, int, int], tolerance: int = 40) -> int:
    """How many pixels are within ``tolerance`` of ``colour`` on every channel."""
    return sum(
        count
        for count, pixel in image.getcolors(maxcolors=1 << 24) or []
        if all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))
    )


def identifying(folder: Path) -> set[str]:
    """Every young person's id, name and date of birth in the town."""
    values = set()
    for person in rows(folder, "people.csv"):
        if person["role"] == "young_person":
            found = (person["person_id"], person["name"], person["date_of_birth"])
            values.update(v for v in found if v)
    return values


def only_handling_c(folder: Path) -> set[str]:
    """References and ids that only records of handling code C carry."""
    links = rows(folder, "links.csv")
    shared = {r["reference"] for r in links if r["handling"] != "C" and r["reference"]}
    found = set()
    for r in links:
        if r["handling"] == "C":
            if r["reference"] and r["reference"] not in shared:
                found.add(r["reference"])
            found.add(r["link_id"])
    return found


def test_the_pack_has_every_section_and_draws_its_pictures(
    town: tuple[Path, MonthsTruth], tmp_path: Path
) -> None:
    folder, truth = town
    prepare(folder, truth)
    out = tmp_path / "mace-2026-08.pdf"
    result = run("briefing", str(folder), "--out", str(out), "--as-of", truth.months[-1])
    assert result.exit_code == 0, result.output
    pages = int(result.output.split("(")[1].split(" pages")[0])
    text = pdf_text(out)
    for heading in (
        "MACE briefing, September 2026", "Summary", "What changed since 2026-08-01",
        "New alerts", "Top targets", "Tactics and agreed actions", "Actions due",
        "Displacement after actions started", "Context assessments of the top places",
        "Network pictures",
    ):  # fmt: skip
        assert heading in text, heading
    assert "Not available" not in text and "new links from 2026-08-01" in text
    assert "ACT-0001" in text and "Closure notice" in text
    assert "DISPLACED: ACT-0001" in text and truth.moved_to in text
    assert truth.boss in text
    assert "newly linked to an adult of concern" in text and "dismissed one" not in text
    assert "NOT FOR SHARING" in text
    assert "Categories: " in text  # each adult target's data-protection categories
    images = page_images(out, tmp_path)
    assert len(images) == pages == len(PdfReader(out).pages)
    for image in images:
        assert image.size[0] < image.size[1]  # A4 upright
        assert near(image, (0, 0, 0), 60) > 500, "a page with almost no ink"
    pictures = [i for i in images if near(i, (0xD6, 0x27, 0x28)) > 200]
    assert pictures, "no page shows an adult of concern in red"
    assert any(near(i, (0x1F, 0x77, 0xB4)) > 200 for i in pictures), "no young person drawn"
    assert any(near(i, (0x7F, 0x7F, 0x7F), 12) > 100 for i in pictures), "no place drawn"
    header = images[0].crop((0, 0, images[0].size[0], images[0].size[1] // 20))
    assert near(header, (0, 0, 0), 60) > 100, "the handling line is missing from the header"
    audit = [line for line in read_audit() if line["event"] == "export briefing"]
    assert [line["outcome"] for line in audit] == ["started", "ok"]
    assert audit[-1]["pages"] == pages and audit[-1]["path"] == str(out.resolve())


def test_no_young_persons_identity_in_any_pack(
    town: tuple[Path, MonthsTruth], tmp_path: Path
) -> None:
    folder, truth = town
    prepare(folder, truth)
    for flags in ([], ["--shareable"]):
        out = tmp_path / f"pack{len(flags)}.pdf"
        assert run("briefing", str(folder), "--out", str(out), *flags).exit_code == 0
        text = pdf_text(out)
        raw = out.read_bytes()
        leaked = {v for v in identifying(folder) if v in text or v.encode() in raw}
        assert not leaked, f"{flags}: {sorted(leaked)[:5]}"
        assert "YP-" in text  # young people are there, by pseudonym


def test_a_shareable_pack_holds_no_handling_code_c(
    town: tuple[Path, MonthsTruth], tmp_path: Path
) -> None:
    folder, truth = town
    prepare(folder, truth)
    full, shared = tmp_path / "full.pdf", tmp_path / "shared.pdf"
    assert run("briefing", str(folder), "--out", str(full)).exit_code == 0
    result = run("briefing", str(folder), "--out", str(shared), "--shareable")
    assert result.exit_code == 0 and "shareable" in result.output
    full_text, shared_text = pdf_text(full), pdf_text(shared)
    assert truth.recruiter in full_text  # the control: C evidence is in the full pack
    assert truth.recruiter not in shared_text
    withheld = only_handling_c(folder)
    assert withheld & set(full_text.split()), "the control: C references in the full pack"
    assert not {w for w in withheld if w in shared_text}
    assert "/C)" not in shared_text and "/C," not in shared_text
    assert "found at a context of concern" in shared_text  # an alert on P evidence stays
    assert "newly linked to an adult of concern" not in shared_text
    assert "SHAREABLE" in shared_text and "NOT FOR SHARING AS IT IS -" not in shared_text


def test_the_pack_is_written_only_where_meant(
    town: tuple[Path, MonthsTruth], tmp_path: Path
) -> None:
    folder, _ = town
    wrong = run("briefing", str(folder), "--out", str(tmp_path / "pack.txt"))
    assert wrong.exit_code == 2 and ".pdf" in wrong.output
    out = tmp_path / "pack.pdf"
    out.write_bytes(b"an earlier pack")
    refused = run("briefing", str(folder), "--out", str(out))
    assert refused.exit_code == 2 and "--force" in refused.output
    assert out.read_bytes() == b"an earlier pack"
    assert run("briefing", str(folder), "--out", str(out), "--force").exit_code == 0
    assert out.read_bytes().startswith(b"%PDF-")
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def test_the_same_data_gives_the_same_pack(town: tuple[Path, MonthsTruth], tmp_path: Path) -> None:
    folder, truth = town
    prepare(folder, truth)
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    day = dt.date(2026, 9, 2).isoformat()
    for out in (first, second):
        run("briefing", str(folder), "--out", str(out), "--as-of", day)
    assert pdf_text(first) == pdf_text(second)
