"""Towns as the agencies send them: valid extracts, nothing lost, noise and traps as planted."""

from __future__ import annotations

import csv
import datetime as dt
import filecmp
import importlib.util
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner

from graphguard.cli import main
from graphguard.errors import UsageError
from graphguard.ingest import read_dataset
from graphguard.model import parse_postcode
from graphguard.synth import write_town
from graphguard.synth_agencies import (
    SOURCES,
    TRAPS,
    AgencyTruth,
    read_agency_truth,
    split_town,
    write_agencies,
)

ROOT = Path(__file__).resolve().parents[1]
END = dt.date(2026, 11, 1)
_ID = {"people": "person_id", "locations": "location_id", "vehicles": "vehicle_id"}
_KIND = {"people": "person", "locations": "location", "vehicles": "vehicle"}


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, AgencyTruth]:
    """A 600-young-person town with true ids, and the same town split by agency."""
    base = tmp_path_factory.mktemp("agencies")
    write_town(base / "town", 600, seed=7, end=END)
    truth = split_town(base / "town", base / "agencies", seed=7)
    return base / "town", base / "agencies", truth


def test_every_extract_is_valid_input(town: tuple[Path, Path, AgencyTruth]) -> None:
    _, agencies, _ = town
    assert sorted(p.name for p in agencies.iterdir() if p.is_dir()) == sorted(SOURCES)
    for source in SOURCES:
        result = read_dataset(agencies / source, today=END + dt.timedelta(days=1))
        assert not result.file_errors, (source, [r.error for r in result.file_errors])
        assert not result.rejects, (source, [str(r) for r in result.rejects[:5]])


def test_sources_csv_names_every_source(town: tuple[Path, Path, AgencyTruth]) -> None:
    _, agencies, _ = town
    rows = _rows(agencies / "sources.csv")
    assert [r["source"] for r in rows] == list(SOURCES)
    assert {r["source"]: r["agency"] for r in rows}["anpr"] == "police"
    assert {r["extracted_on"] for r in rows} == {"2026-12-01"}


def test_truth_names_every_record_and_every_true_entity(
    town: tuple[Path, Path, AgencyTruth],
) -> None:
    original, agencies, truth = town
    written: dict[str, str] = {}
    for source in SOURCES:
        for stem, column in _ID.items():
            for row in _rows(agencies / source / f"{stem}.csv"):
                written[f"{source}:{row[column]}"] = _KIND[stem]
    assert written == {r: t.kind for r, t in truth.records.items()}
    assert read_agency_truth(agencies).records == truth.records
    for stem, column in _ID.items():
        true_ids = {row[column] for row in _rows(original / f"{stem}.csv")}
        assert true_ids == {t.true_id for t in truth.of_kind(_KIND[stem])}, stem


def test_every_link_travels_unchanged_in_its_agencys_extract(
    town: tuple[Path, Path, AgencyTruth],
) -> None:
    original, agencies, truth = town
    fields = ("type", "first_seen", "last_seen", "count", "agency", "reference", "source_grade",
              "intel_grade", "handling", "protective", "notes")  # fmt: skip

    def key(row: dict[str, str], ends: tuple[str, str]) -> tuple[str, ...]:
        return (*ends, *(row[f] for f in fields))

    expected = Counter(
        key(r, (r["source_id"], r["target_id"])) for r in _rows(original / "links.csv")
    )
    found: Counter[tuple[str, ...]] = Counter()
    for source in SOURCES:
        for row in _rows(agencies / source / "links.csv"):
            ends = (truth.true_id(f"{source}:{row['source_id']}"),
                    truth.true_id(f"{source}:{row['target_id']}"))  # fmt: skip
            found[key(row, ends)] += 1
            if source == "anpr":
                assert row["reference"].startswith("ANPR") and row["type"] == "SEEN_AT"
    assert found == expected


def test_each_source_holds_only_what_it_would_know(
    town: tuple[Path, Path, AgencyTruth],
) -> None:
    _, agencies, truth = town
    header = {
        s: next(csv.reader((agencies / s / "people.csv").open(encoding="utf-8"))) for s in SOURCES
    }
    assert "date_of_birth" not in header["youth_service"]
    assert "nhs_number" in header["health"] and "nhs_number" not in header["police"]
    assert "pnc_id" in header["police"] and "pnc_id" not in header["education"]
    assert _rows(agencies / "anpr" / "people.csv") == []
    assert _rows(agencies / "anpr" / "vehicles.csv")
    health = _rows(agencies / "health" / "people.csv")
    assert sum(1 for r in health if r["nhs_number"]) / len(health) > 0.9
    pupils = [
        r for r in _rows(agencies / "education" / "people.csv") if r["role"] == "young_person"
    ]
    assert sum(1 for r in pupils if r["upn"]) / len(pupils) > 0.9
    # The same person is in several extracts: most young people in three or more.
    sources_of: dict[str, set[str]] = defaultdict(set)
    for record in truth.of_kind("person"):
        if record.role == "young_person":
            sources_of[record.true_id].add(record.record_id.partition(":")[0])
    assert sum(1 for s in sources_of.values() if len(s) >= 3) / len(sources_of) > 0.5


def test_records_carry_realistic_noise(town: tuple[Path, Path, AgencyTruth]) -> None:
    original, agencies, truth = town
    people = {r["person_id"]: r for r in _rows(original / "people.csv")}
    names = dates = transposed = raw_postcodes = dotted_phones = 0
    records = 0
    for source in SOURCES:
        for row in _rows(agencies / source / "people.csv"):
            record = truth.records[f"{source}:{row['person_id']}"]
            true = people[record.true_id]
            records += 1
            if not record.trap:  # traps change names on purpose; noise is the rest
                names += row["name"] != true["name"]
            born = row.get("date_of_birth", "")
            if born and born != true["date_of_birth"] and not record.trap:
                dates += 1
                transposed += born[5:7] == true["date_of_birth"][8:10]
            postcode = row.get("postcode", "")
            if postcode:
                raw_postcodes += postcode != parse_postcode(postcode)
            dotted_phones += row.get("phone", "").startswith("+44 (0)")
    assert 0.05 < names / records < 0.4
    assert 0.01 < dates / records < 0.2 and transposed > 0
    assert raw_postcodes > 0 and dotted_phones > 0


def test_traps_are_planted_as_described(town: tuple[Path, Path, AgencyTruth]) -> None:
    original, agencies, truth = town
    roles = {r["person_id"]: r["role"] for r in _rows(original / "people.csv")}
    dates: dict[str, Counter[str]] = defaultdict(Counter)
    surnames: dict[str, Counter[str]] = defaultdict(Counter)
    for source in SOURCES:
        for row in _rows(agencies / source / "people.csv"):
            true_id = truth.true_id(f"{source}:{row['person_id']}")
            if row.get("date_of_birth"):
                dates[true_id][row["date_of_birth"]] += 1
            surnames[true_id][row["name"].split(" ", 1)[-1].lower()] += 1

    def shared(a: str, b: str, recorded: dict[str, Counter[str]]) -> bool:
        """Whether some record of each says the same (noise may change any one record)."""
        return bool(recorded[a].keys() & recorded[b].keys())

    for trap in TRAPS:
        assert truth.traps(trap), f"no {trap} planted"
    for members in truth.traps("twin").values():
        a, b = sorted({m.true_id for m in members})
        assert roles[a] == roles[b] == "young_person"
        assert shared(a, b, dates) and shared(a, b, surnames)
    for members in truth.traps("father_son").values():
        assert sorted(roles[t] for t in {m.true_id for m in members}) == ["adult", "young_person"]
    for members in truth.traps("namesake").values():
        a, b = sorted({m.true_id for m in members})
        assert roles[a] == roles[b] and shared(a, b, surnames)
    for members in truth.traps("within_source_duplicate").values():
        assert len({m.true_id for m in members}) == 1
        assert max(Counter(m.record_id.partition(":")[0] for m in members).values()) == 2
    # Some duplicates are flagged by their source (same_as names the other record), some not.
    flagged = 0
    for source in ("police", "social_care", "education"):
        for row in _rows(agencies / source / "people.csv"):
            if row["same_as"]:
                record = truth.records[f"{source}:{row['person_id']}"]
                assert record.trap == "within_source_duplicate"
                assert truth.true_id(f"{source}:{row['same_as']}") == record.true_id
                flagged += 1
    assert 0 < flagged < len(truth.traps("within_source_duplicate"))


def test_no_two_homes_share_an_address(town: tuple[Path, Path, AgencyTruth]) -> None:
    _, agencies, truth = town

    def address(name: str) -> str:
        text = name.upper().replace("FLAT ", "").replace(",", "")
        for long, short in (("ROAD", "RD"), ("STREET", "ST"), ("LANE", "LN"), ("AVENUE", "AVE")):
            text = text.replace(long, short)
        return text

    homes: dict[str, set[str]] = defaultdict(set)
    for source in SOURCES:
        for row in _rows(agencies / source / "locations.csv"):
            if row["kind"] in ("home", "residential"):
                homes[address(row["name"])].add(truth.true_id(f"{source}:{row['location_id']}"))
    shared = {name: ids for name, ids in homes.items() if len(ids) > 1}
    assert not shared


def test_same_seed_same_bytes_other_seed_other_files(tmp_path: Path) -> None:
    write_agencies(tmp_path / "a", 150, seed=11)
    write_agencies(tmp_path / "b", 150, seed=11)
    write_agencies(tmp_path / "c", 150, seed=12)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    assert _tree(tmp_path / "a")["truth.csv"] != _tree(tmp_path / "c")["truth.csv"]


def test_the_committed_demo_is_a_fresh_regeneration(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "make_demo_agencies", ROOT / "fixtures" / "make_demo_agencies.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    split_town(module.DEMO, tmp_path / "demo", module.SEED, describe=module.describe)
    committed = ROOT / "fixtures" / "demo-agencies"
    fresh = _tree(tmp_path / "demo")
    assert sorted(fresh) == sorted(_tree(committed))
    comparison = filecmp.dircmp(committed, tmp_path / "demo")
    assert fresh == _tree(committed), comparison.diff_files


def test_an_empty_town_is_refused(tmp_path: Path) -> None:
    (tmp_path / "town").mkdir()
    (tmp_path / "town" / "people.csv").write_text("person_id,role\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"no people\.csv rows"):
        split_town(tmp_path / "town", tmp_path / "out", seed=1)


def test_a_folder_of_someone_elses_files_is_refused_before_the_town_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the town was written before the folder was refused")

    monkeypatch.setattr("graphguard.synth.write_town", never)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(UsageError, match=r"notes\.txt"):
        write_agencies(tmp_path / "out", 100, seed=1)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["notes.txt"]


def test_cli_synth_agencies(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["synth", str(tmp_path / "v2"), "--agencies", "--young-people",
                                  "100", "--seed", "3"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (tmp_path / "v2" / "truth.csv").exists() and (tmp_path / "v2" / "police").is_dir()
    assert "truth.csv" in result.output
    # Without --agencies the v1 town is written as before.
    result = runner.invoke(main, ["synth", str(tmp_path / "v1"), "--young-people", "100"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "v1" / "people.csv").exists() and not (
        tmp_path / "v1" / "truth.csv"
    ).exists()
    # A folder holding someone else's files is never replaced.
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine", encoding="utf-8")
    result = runner.invoke(main, ["synth", str(tmp_path / "mine"), "--agencies"])
    assert result.exit_code == 2
    assert "notes.txt" in result.output and "Traceback" not in result.output
    assert (tmp_path / "mine" / "notes.txt").read_text(encoding="utf-8") == "mine"
