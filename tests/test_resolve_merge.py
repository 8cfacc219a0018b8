"""merge_records: entities from resolved records, every disagreement a finding.

The resolutions here are built by hand, so each test says exactly which records are
one entity and checks the rule that combines them (graphguard/resolve/merge.py).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from graphguard.ingest import Dataset, read_dataset
from graphguard.model import Link, LinkType, Location, Person, Role, Vehicle
from graphguard.resolve import Resolution, SourceInfo, entity_id, merge_records
from tests.helpers import write_csv

SOURCES = {name: SourceInfo(source=name) for name in ("police", "social_care", "education")}


def person(record_id: str, role: str = "young_person", **fields: object) -> Person:
    return Person.model_validate({"person_id": record_id, "role": role, **fields})


def records(*people: Person, links: list[Link] | None = None, **more: object) -> Dataset:
    return Dataset(
        people={p.person_id: p for p in people},
        links=links or [],
        version=2,
        sources=dict(SOURCES),
        **more,  # type: ignore[arg-type]
    )


def joined(*record_ids: str, kind: str = "person") -> Resolution:
    """One entity of these records, named as the resolver names it."""
    entity = entity_id(kind, min(record_ids))
    return Resolution(entity_of=dict.fromkeys(record_ids, entity), kind_of={})


def only(dataset: Dataset) -> Person:
    [entity] = dataset.people.values()
    return entity


def test_records_absent_from_entity_of_are_entities_of_their_own() -> None:
    data = records(person("police:P1"), person("education:S1"))
    merged = merge_records(data, Resolution(entity_of={}, kind_of={}))
    assert set(merged.people) == {
        entity_id("person", "police:P1"),
        entity_id("person", "education:S1"),
    }
    resolution = merged.resolution
    assert resolution is not None
    assert resolution.entity_of["police:P1"] == entity_id("person", "police:P1")
    assert resolution.kind_of == {"police:P1": "person", "education:S1": "person"}
    assert not resolution.findings
    assert merged.version == 2 and merged.sources == data.sources


def test_entity_is_keyed_by_entity_id_and_keeps_its_records() -> None:
    data = records(person("police:P1", name="Jess Marlow"), person("education:S1"))
    resolution = joined("police:P1", "education:S1")
    merged = merge_records(data, resolution)
    jess = only(merged)
    entity = entity_id("person", "education:S1")
    assert jess.person_id == entity and merged.people[entity] is jess
    assert merged.resolution is not None
    provenance = merged.resolution.provenance[entity]
    assert provenance.records == ("education:S1", "police:P1")
    assert provenance.sources == ("education", "police")
    [said] = provenance.attributes["name"]
    assert (said.record_id, said.source, said.value) == ("police:P1", "police", "Jess Marlow")
    assert resolution.provenance == {}  # the given resolution is not changed


def test_role_is_young_person_if_any_record_says_so_and_the_conflict_is_a_finding() -> None:
    data = records(person("police:P1", "adult"), person("education:S1", "young_person"))
    merged = merge_records(data, joined("police:P1", "education:S1"))
    assert only(merged).role is Role.YOUNG_PERSON
    assert merged.resolution is not None
    [finding] = merged.resolution.findings
    assert finding.attribute == "role"
    assert finding.records == ("police:P1", "education:S1")
    assert finding.message == (
        "role: the records disagree (police:P1 says 'adult'; education:S1 says "
        "'young_person'); young person is used: safeguarding errs towards protecting"
    )
    provenance = merged.resolution.provenance[finding.entity_id]
    assert provenance.conflicts == [finding]


def test_flags_are_true_if_any_record_says_true() -> None:
    data = records(
        person("police:P1", looked_after=False, excluded_from_school=True),
        person("social_care:C1", looked_after=True),
    )
    merged = merge_records(data, joined("police:P1", "social_care:C1"))
    jess = only(merged)
    assert jess.looked_after is True and jess.excluded_from_school is True
    assert merged.resolution is not None
    # only looked_after has two values; excluded_from_school was recorded once
    assert [f.attribute for f in merged.resolution.findings] == ["looked_after"]
    assert "true is used: any record saying true counts" in merged.resolution.findings[0].message


def test_counts_take_the_largest() -> None:
    data = records(
        person("police:P1", missing_episodes=3),
        person("social_care:C1", missing_episodes=5),
        person("education:S1", missing_episodes=5),
    )
    merged = merge_records(data, joined("police:P1", "social_care:C1", "education:S1"))
    assert only(merged).missing_episodes == 5
    assert merged.resolution is not None
    [finding] = merged.resolution.findings
    assert finding.attribute == "missing_episodes" and "the largest, 5, is used" in finding.message


def test_dates_take_the_value_most_records_give() -> None:
    data = records(
        person("police:P1", date_of_birth="2010-03-04"),
        person("social_care:C1", date_of_birth="2010-04-03"),
        person("education:S1", date_of_birth="2010-04-03"),
    )
    merged = merge_records(data, joined("police:P1", "social_care:C1", "education:S1"))
    assert only(merged).date_of_birth == dt.date(2010, 4, 3)
    assert merged.resolution is not None
    [finding] = merged.resolution.findings
    assert finding.attribute == "date_of_birth"
    # a child's identifying values are not quoted in a finding; provenance has them
    assert "2010" not in finding.message
    assert finding.message == (
        "date of birth: the records disagree (2 different values in police:P1, "
        "social_care:C1, education:S1); the value most records give is used"
    )


def test_a_tie_goes_to_the_earliest_source_in_sources_csv_order() -> None:
    # sources.csv order: police, social_care, education — not alphabetical.
    data = records(
        person("education:S1", area="Docklands"),
        person("police:P1", area="Old Town"),
    )
    merged = merge_records(data, joined("police:P1", "education:S1"))
    assert only(merged).area == "Old Town"
    assert merged.resolution is not None
    [finding] = merged.resolution.findings
    assert "'Old Town' is used (the earliest source's)" in finding.message
    reordered = records(
        person("education:S1", area="Docklands"), person("police:P1", area="Old Town")
    )
    reordered.sources = {n: SOURCES[n] for n in ("education", "police", "social_care")}
    assert only(merge_records(reordered, joined("police:P1", "education:S1"))).area == "Docklands"


def test_a_tie_within_one_source_goes_to_the_smallest_record_id() -> None:
    data = records(person("police:P2", area="Docklands"), person("police:P1", area="Old Town"))
    assert only(merge_records(data, joined("police:P1", "police:P2"))).area == "Old Town"


def test_text_differing_only_in_case_and_spacing_is_no_disagreement() -> None:
    data = records(person("police:P1", area="Old  Town"), person("education:S1", area="old town"))
    merged = merge_records(data, joined("police:P1", "education:S1"))
    assert only(merged).area == "Old  Town"
    assert merged.resolution is not None and not merged.resolution.findings


def test_names_disagree_and_the_other_name_becomes_an_alias() -> None:
    data = records(
        person("police:P1", name="Jess Marlow", aliases="JJ"),
        person("education:S1", name="Jessica Marlow", aliases="Jay;JJ"),
        person("social_care:C1", name="Jess Marlow"),
    )
    merged = merge_records(data, joined("police:P1", "education:S1", "social_care:C1"))
    jess = only(merged)
    assert jess.name == "Jess Marlow"
    assert jess.aliases == ("JJ", "Jay", "Jessica Marlow")
    assert merged.resolution is not None
    assert [f.attribute for f in merged.resolution.findings] == ["name"]


def test_categories_are_the_union_and_no_disagreement() -> None:
    data = records(
        person("police:P1", "adult", category="suspect"),
        person("social_care:C1", "adult", category="victim;suspect"),
    )
    merged = merge_records(data, joined("police:P1", "social_care:C1"))
    assert [c.value for c in only(merged).category or ()] == ["suspect", "victim"]
    assert merged.resolution is not None and not merged.resolution.findings


def test_unknown_columns_are_combined_like_text() -> None:
    data = records(
        person("police:P1", extra={"school_year": "9"}),
        person("education:S1", extra={"school_year": "10"}),
        person("social_care:C1", extra={"school_year": "10"}),
    )
    merged = merge_records(data, joined("police:P1", "education:S1", "social_care:C1"))
    assert only(merged).extra == {"school_year": "10"}
    assert merged.resolution is not None
    [finding] = merged.resolution.findings
    assert finding.attribute == "extra.school_year"


def test_places_keep_one_pair_of_coordinates() -> None:
    data = Dataset(
        locations={
            "police:L1": Location(
                location_id="police:L1", kind="hotel", latitude=53.0, longitude=-1.0
            ),
            "education:L9": Location(
                location_id="education:L9", kind="hotel", latitude=54.0, longitude=-2.0
            ),
        },
        version=2,
        sources=dict(SOURCES),
    )
    merged = merge_records(data, joined("police:L1", "education:L9", kind="location"))
    [place] = merged.locations.values()
    assert (place.latitude, place.longitude) == (53.0, -1.0)  # never (53.0, -2.0)
    assert place.location_id.startswith("L-")
    assert merged.resolution is not None
    [finding] = merged.resolution.findings
    assert finding.attribute == "coordinates" and "53.0" in finding.message


def test_vehicles_merge_too() -> None:
    data = Dataset(
        vehicles={
            "police:V1": Vehicle(
                vehicle_id="police:V1", registration="AB12CDE", private_hire=False
            ),
            "anpr:R7": Vehicle(vehicle_id="anpr:R7", registration="AB12CDE", private_hire=True),
        },
        version=2,
    )
    merged = merge_records(data, joined("police:V1", "anpr:R7", kind="vehicle"))
    [car] = merged.vehicles.values()
    assert car.private_hire is True and car.registration == "AB12CDE"


def _link(link_id: str, source: str, target: str, kind: LinkType) -> Link:
    return Link(link_id=link_id, source_id=source, target_id=target, type=kind)


def test_links_are_rewritten_to_entities_and_keep_their_ids() -> None:
    data = records(
        person("police:P1", "adult"),
        person("police:P2"),
        person("education:S1"),
        links=[
            _link("police:L1", "police:P1", "police:P2", LinkType.ALLEGED_HARM),
            _link("education:E1", "police:P1", "education:S1", LinkType.ALLEGED_HARM),
        ],
    )
    resolution = joined("police:P2", "education:S1")
    merged = merge_records(data, resolution)
    child = entity_id("person", "education:S1")
    adult = entity_id("person", "police:P1")
    assert [(x.link_id, x.source_id, x.target_id) for x in merged.links] == [
        ("police:L1", adult, child),
        ("education:E1", adult, child),
    ]
    assert len(data.links) == 2 and data.links[0].target_id == "police:P2"  # records unchanged


def test_a_link_folded_into_one_entity_is_dropped_with_a_finding() -> None:
    data = records(
        person("police:P1"),
        person("education:S1"),
        links=[_link("police:L1", "police:P1", "education:S1", LinkType.ASSOCIATES_WITH)],
    )
    merged = merge_records(data, joined("police:P1", "education:S1"))
    assert merged.links == []
    assert merged.resolution is not None
    [finding] = merged.resolution.findings
    assert finding.records == ("police:P1", "education:S1") and finding.attribute is None
    assert finding.message.startswith("link police:L1 (ASSOCIATES_WITH) joins police:P1 and")
    assert "kept with the records" in finding.message


def test_a_link_whose_ends_no_longer_fit_is_kept_with_a_finding() -> None:
    data = records(
        person("police:P1", "adult"),
        person("education:S1", "young_person"),
        person("education:S2", "young_person"),
        links=[_link("police:L1", "police:P1", "education:S2", LinkType.SUPPORTS)],
    )
    merged = merge_records(data, joined("police:P1", "education:S1"))
    assert len(merged.links) == 1
    assert merged.resolution is not None
    messages = [f.message for f in merged.resolution.findings]
    assert any("SUPPORTS must start at an adult, not a young person" in m for m in messages)


def test_resolver_findings_come_first_and_are_kept() -> None:
    from graphguard.resolve import Finding

    data = records(person("police:P1", "adult"), person("education:S1"))
    resolution = joined("police:P1", "education:S1")
    resolution.findings.append(Finding("X", None, "from the resolver"))
    merged = merge_records(data, resolution)
    assert merged.resolution is not None
    assert merged.resolution.findings[0].message == "from the resolver"
    assert len(merged.resolution.findings) == 2


def test_two_kinds_in_one_entity_is_refused() -> None:
    data = records(person("police:P1"))
    data.locations["police:L1"] = Location(location_id="police:L1", kind="home")
    with pytest.raises(ValueError, match="different kinds"):
        merge_records(data, joined("police:P1", "police:L1"))


def test_an_entity_of_for_a_record_not_in_the_dataset_is_refused() -> None:
    with pytest.raises(ValueError, match="does not hold"):
        merge_records(records(person("police:P1")), joined("police:P1", "police:P404"))


def test_read_dataset_resolves_a_v2_folder_into_entities(tmp_path: Path) -> None:
    people = ["person_id", "role", "name", "date_of_birth", "nhs_number"]
    write_csv(
        tmp_path / "police" / "people.csv",
        people,
        [
            ["P1", "young_person", "Jess Marlow", "2010-03-04", "9434765919"],
            ["P2", "adult", "", "", ""],
        ],
    )
    write_csv(
        tmp_path / "police" / "links.csv",
        ["source_id", "target_id", "type"],
        [["P2", "P1", "ALLEGED_HARM"]],
    )
    write_csv(
        tmp_path / "health" / "people.csv",
        people,
        [["H7", "young_person", "Jess Marlow", "2010-03-04", "9434765919"]],
    )
    result = read_dataset(tmp_path)
    assert result.ok and result.records is not result.dataset
    assert len(result.records.people) == 3
    resolution = result.dataset.resolution
    assert resolution is not None and result.dataset.version == 2
    # every record has an entity, and every entity is in the dataset under its id
    assert set(resolution.entity_of) == set(result.records.people)
    assert set(resolution.entity_of.values()) == set(result.dataset.people)
    for link in result.dataset.links:
        assert link.source_id in result.dataset.people and link.target_id in result.dataset.people
    assert read_dataset(tmp_path, resolve=False).dataset.resolution is None
