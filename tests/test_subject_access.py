"""Subject access: a pack holds exactly the person's records and disclosures, no third party."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from graphguard.cli import main

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo"


def _rows(name: str) -> list[dict[str, str]]:
    with (DEMO / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _pack(folder: Path) -> dict[str, Any]:
    return {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir()}


def _whole_word(value: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(value)}(?![\w-])", text) is not None


def _audit(*lines: dict[str, Any]) -> None:
    from graphguard import audit

    for fields in lines:
        audit.append(audit.configured_path(), fields)


def test_an_adults_pack_holds_exactly_their_records_and_disclosures_and_no_childs_identity(
    home: Path, tmp_path: Path
) -> None:
    _audit(
        {"event": "export targets", "outcome": "ok", "subjects": ["AD001", "AD097"], "rows": 9},
        {"event": "view plan", "outcome": "ok", "target": "AD097"},  # an older line, no subjects
        {"event": "export targets", "outcome": "started", "subjects": ["AD097"]},
        {"event": "export targets", "outcome": "ok", "subjects": ["AD001"]},
        {"event": "view plan", "outcome": "ok", "target": "AD0970"},
    )
    out = tmp_path / "pack"
    result = CliRunner().invoke(main, ["subject-access", "AD097", str(DEMO), "--out", str(out)])
    assert result.exit_code == 0, result.output
    pack = _pack(out)
    assert sorted(pack) == sorted(
        ["README.txt", "summary.json", "records.json", "derived.json", "disclosures.json"]
    )
    records = json.loads(pack["records.json"])
    assert [r["fields"]["person_id"] for r in records["person"]] == ["AD097"]
    expected_links = sorted(
        row["link_id"]
        for row in _rows("links.csv")
        if "AD097" in (row["source_id"], row["target_id"])
    )
    assert sorted(link["link_id"] for link in records["links"]) == expected_links
    for link in records["links"]:
        assert "AD097" in (link["source_id"], link["target_id"])  # provenance kept
        assert "agency" in link and "reference" in link

    disclosures = json.loads(pack["disclosures.json"])
    assert [(d["event"], d.get("target")) for d in disclosures] == [
        ("export targets", None),
        ("view plan", "AD097"),
    ]
    assert all(d["user"] and d["role"] for d in disclosures)  # to whom

    derived = json.loads(pack["derived.json"])
    assert derived["hub"]["id"] == "AD097" and derived["hub"]["explanation"]
    assert derived["measures"]["id"] == "AD097"

    text = "\n".join(pack.values())
    for person in _rows("people.csv"):
        if person["role"] != "young_person":
            continue
        assert not _whole_word(person["person_id"], text), person["person_id"]
        assert person["name"] not in text
        if person["date_of_birth"]:
            assert person["date_of_birth"] not in text
    for person in _rows("people.csv"):
        if person["role"] == "adult" and person["person_id"] != "AD097" and person["name"]:
            assert person["name"] not in text  # other adults are third parties too

    lines = [
        json.loads(line)
        for line in (home / "audit.jsonl").read_text(encoding="utf-8").splitlines()
        if '"subject access"' in line
    ]
    assert [line["outcome"] for line in lines] == ["started", "ok"]
    assert lines[-1]["subjects"] == ["AD097"] and lines[-1]["links"] == len(expected_links)


def test_a_young_persons_pack_names_them_by_pseudonym_and_withholds_adults(
    home: Path, tmp_path: Path
) -> None:
    from graphguard.privacy import pseudonym
    from graphguard.settings import pseudonym_key

    out = tmp_path / "pack"
    result = CliRunner().invoke(main, ["subject-access", "YP013", str(DEMO), "--out", str(out)])
    assert result.exit_code == 0, result.output
    pack = _pack(out)
    summary = json.loads(pack["summary.json"])
    assert summary["subject"] == pseudonym("YP013", pseudonym_key())
    assert summary["kind"] == "young person"
    records = json.loads(pack["records.json"])
    assert records["person"][0]["fields"]["name"]  # their own data, for them
    assert json.loads(pack["derived.json"])["targets"] == []
    text = "\n".join(pack.values())
    for person in _rows("people.csv"):
        if person["role"] == "adult":
            assert not _whole_word(person["person_id"], text), person["person_id"]
            if person["name"]:
                assert person["name"] not in text
        elif person["person_id"] != "YP013" and person["name"]:
            assert person["name"] not in text


def test_a_pack_for_nobody_is_one_line(home: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["subject-access", "NOBODY", str(DEMO), "--out", str(tmp_path / "p")]
    )
    assert result.exit_code == 2
    assert result.output.startswith("graphguard: error: 'NOBODY' is not a person")
    assert not (tmp_path / "p").exists()


def test_a_v2_pack_lists_each_source_record_behind_the_entity(home: Path, tmp_path: Path) -> None:
    from graphguard.ingest import read_dataset

    agencies = ROOT / "fixtures" / "demo-agencies"
    result = read_dataset(agencies)
    resolution = result.dataset.resolution
    assert resolution is not None
    behind: dict[str, list[str]] = {}
    for record, entity in resolution.entity_of.items():
        if entity in result.dataset.people and result.records.people[record].role.value == "adult":
            behind.setdefault(entity, []).append(record)
    entity, records = max(behind.items(), key=lambda item: len(item[1]))
    out = tmp_path / "pack"
    ran = CliRunner().invoke(main, ["subject-access", entity, str(agencies), "--out", str(out)])
    assert ran.exit_code == 0, ran.output
    person = json.loads((out / "records.json").read_text(encoding="utf-8"))["person"]
    assert sorted(r["record_id"] for r in person) == sorted(records)
    assert all(r["source"] and r["extracted_on"] for r in person)


def test_the_dashboards_zip_holds_the_files_the_cli_writes(home: Path, tmp_path: Path) -> None:
    import io
    import zipfile

    from graphguard.ingest import read_dataset
    from graphguard.settings import pseudonym_key
    from graphguard.subject_access import PACK_FILES, build_pack, pack_zip, write_pack

    pack = build_pack(read_dataset(DEMO), "AD001", key=pseudonym_key(), audit_lines=[])
    write_pack(pack, tmp_path / "pack")
    data = pack_zip(pack)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == list(PACK_FILES)
        for name in PACK_FILES:
            assert archive.read(name) == (tmp_path / "pack" / name).read_bytes(), name
    assert pack_zip(pack) == data  # the same pack, the same bytes
