"""What changed between two pictures: the move is named, every change cites its links."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from graphguard.analysis.groups import PeerGroup
from graphguard.analysis.options import AnalysisOptions
from graphguard.cli import main
from graphguard.meeting.changes import ChangeReport, _groups, compare
from graphguard.meeting.months import MonthsTruth, write_months
from graphguard.store import MemoryStore
from graphguard.store.base import Filters


@pytest.fixture(scope="module")
def months(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, MonthsTruth]:
    folder = tmp_path_factory.mktemp("months")
    return folder, write_months(folder, 200, seed=5)


def _compare(folder: Path, truth: MonthsTruth, a: int, b: int) -> ChangeReport:
    store = MemoryStore.from_path(folder)
    dates = truth.dates()
    return compare(
        store.graph(Filters(as_of=dates[a])),
        store.graph(Filters(as_of=dates[b])),
        options=AnalysisOptions(),
        date_from=dates[a],
        date_to=dates[b],
        pseudonymise=lambda y: f"P[{y}]",
    )


def test_changes_name_the_move_after_the_closure(months: tuple[Path, MonthsTruth]) -> None:
    folder, truth = months
    report = _compare(folder, truth, 1, 2)
    moved = [m for m in report.moves if m["adult"] == truth.boss]
    assert moved, report.moves
    assert truth.closed in moved[0]["from"] and moved[0]["to"] == [truth.moved_to]
    assert moved[0]["links"] and all(link.startswith("LM02-") for link in moved[0]["links"])
    new_contexts = {c["id"] for c in report.contexts if c["change"] == "new"}
    assert truth.moved_to in new_contexts
    assert {a["id"] for a in report.adults if a["change"] == "new"} >= {truth.recruiter}
    # Before the closure nothing moved: the network was still at its flat.
    assert not [m for m in _compare(folder, truth, 0, 1).moves if m["adult"] == truth.boss]


def test_every_change_cites_new_links(months: tuple[Path, MonthsTruth]) -> None:
    folder, truth = months
    report = _compare(folder, truth, 1, 2)
    for change in report.adults + report.contexts:
        if change["change"] in ("new", "rising"):
            assert change["links"], change
    kinds = {link["reason"] for link in report.new_links_of_concern}
    assert kinds == {
        "found after going missing",
        "an allegation of harm",
        "contact between an adult of concern and a young person",
    }
    assert all("LM02-" in link["link_id"] for link in report.new_links_of_concern)


def test_young_people_newly_exposed_are_counted_by_pseudonym(
    months: tuple[Path, MonthsTruth],
) -> None:
    folder, truth = months
    data = _compare(folder, truth, 1, 2).as_dict()
    exposed = data["young_people_newly_exposed"]
    assert data["summary"]["young_people_newly_exposed"] == len(exposed)
    names = {row["young_person"] for row in exposed}
    assert {f"P[{y}]" for y in truth.new_victims[1:]} <= names
    assert all(row["adults"] and row["links"] for row in exposed)


def test_groups_are_matched_by_overlap_not_by_id() -> None:
    before = [PeerGroup("G01", ["Y1", "Y2", "Y3", "Y4"]), PeerGroup("G02", ["Y7", "Y8"])]
    after = [PeerGroup("G01", ["Y5", "Y6", "Y9"]), PeerGroup("G02", ["Y1", "Y2", "Y3", "Y5"])]
    rows = {(r["group_from"], r["group_to"]): r for r in _groups(before, after)}
    changed = rows[("G01", "G02")]
    assert changed["joined"] == ["Y5"] and changed["left"] == ["Y4"]
    assert rows[(None, "G01")]["change"] == "new"
    assert rows[("G02", None)]["change"] == "gone"


def test_cli_changes_json_pseudonymised_to_a_file(
    months: tuple[Path, MonthsTruth], tmp_path: Path
) -> None:
    folder, truth = months
    out = tmp_path / "changes.json"
    args = ["changes", str(folder), "--from", truth.months[1], "--to", truth.months[2]]
    result = CliRunner().invoke(main, [*args, "--format", "json", "--pseudonymise", "--out",
                                       str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    data = json.loads(text)
    assert data["moves"]
    for young_person in truth.new_victims:
        assert young_person not in text
    shown = CliRunner().invoke(main, args)
    assert shown.exit_code == 0 and "Moves:" in shown.stdout and truth.moved_to in shown.stdout
    backwards = CliRunner().invoke(
        main, ["changes", str(folder), "--from", truth.months[2], "--to", truth.months[1]]
    )
    assert backwards.exit_code == 2 and "before" in backwards.output


def test_briefing_lines_count_young_people_and_name_the_move(
    months: tuple[Path, MonthsTruth],
) -> None:
    from graphguard.meeting.changes import as_of_graph, briefing_lines

    folder, truth = months
    store = MemoryStore.from_path(folder)
    dates = truth.dates()
    full = store.graph()
    # The copy as of a day is exactly what the store gives for that day.
    ours, theirs = as_of_graph(full, dates[1]), store.graph(Filters(as_of=dates[1]))
    assert sorted(ours.edges(keys=True)) == sorted(theirs.edges(keys=True))
    assert dict(ours.edges) == dict(theirs.edges)
    lines = briefing_lines(full, since=dates[1], as_of=dates[2], options=AnalysisOptions(),
                           key=b"k")  # fmt: skip
    text = "\n".join(lines)
    assert truth.moved_to in text and "the activity moved" in text
    for young_person in truth.new_victims:
        assert young_person not in text


def test_a_later_picture_given_is_the_one_compare_would_make(
    months: tuple[Path, MonthsTruth],
) -> None:
    from graphguard.meeting.changes import as_of_graph, briefing_lines, picture

    folder, truth = months
    full = MemoryStore.from_path(folder).graph()
    dates = truth.dates()
    options = AnalysisOptions(as_of=dates[2])
    now = picture(as_of_graph(full, dates[2]), options)
    given = briefing_lines(full, since=dates[1], as_of=dates[2], options=options, key=b"k",
                           after=now)  # fmt: skip
    made = briefing_lines(full, since=dates[1], as_of=dates[2], options=options, key=b"k")
    assert given == made and truth.moved_to in "\n".join(given)
    with pytest.raises(ValueError, match="later picture"):
        compare(as_of_graph(full, dates[0]), full, options=options, date_from=dates[0],
                date_to=dates[1], pseudonymise=str, after=now)  # fmt: skip
