"""Synthetic towns are always valid input, reproducible, and their truth matches their data."""

from __future__ import annotations

import datetime as dt
import filecmp
import math
import os
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphguard.errors import UsageError
from graphguard.ingest import Dataset, IngestResult, read_dataset
from graphguard.model import Agency, Handling, IntelGrade, Link, LinkType, Role, SourceGrade
from graphguard.store import graph_from_dataset
from graphguard.synth import MIN_YOUNG_PEOPLE, TownTruth, read_truth, write_town

END = dt.date(2026, 11, 1)
TOWN_FILES = ("people.csv", "locations.csv", "vehicles.csv", "links.csv", "truth.json")


def _read(folder: Path) -> IngestResult:
    # ``today=END`` keeps validation independent of the wall clock: every date is <= END.
    return read_dataset(folder, today=END)


def _assert_valid(result: IngestResult, truth: TownTruth) -> None:
    assert not result.file_errors, [r.error for r in result.file_errors]
    assert not result.rejects, [str(r) for r in result.rejects[:10]]
    for stem, written in truth.counts.items():
        report = result.files[stem]
        assert report.rows == report.accepted == written, (stem, report, written)


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TownTruth, IngestResult]:
    folder = tmp_path_factory.mktemp("town")
    truth = write_town(folder, 300, seed=7)
    return folder, truth, _read(folder)


@pytest.fixture(scope="module")
def by_end(town: tuple[Path, TownTruth, IngestResult]) -> dict[str, list[Link]]:
    """Every link, listed under both of its ends."""
    links: dict[str, list[Link]] = defaultdict(list)
    for link in town[2].dataset.links:
        links[link.source_id].append(link)
        links[link.target_id].append(link)
    return links


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine) between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


# --------------------------------------------------------------------------- validity


def test_round_trip_synth_ingest_graph(town: tuple[Path, TownTruth, IngestResult]) -> None:
    folder, truth, result = town
    _assert_valid(result, truth)
    assert result.ok
    graph = graph_from_dataset(result.dataset)
    counts = truth.counts
    assert graph.number_of_nodes() == counts["people"] + counts["locations"] + counts["vehicles"]
    assert graph.number_of_edges() == counts["links"] == len(result.dataset.links)
    young = sum(p.role is Role.YOUNG_PERSON for p in result.dataset.people.values())
    assert young == truth.young_people == 300
    assert read_truth(folder) == truth


@pytest.mark.parametrize("young_people", [100, 1000])
def test_sizes_are_valid_with_about_ten_links_per_young_person(
    tmp_path: Path, young_people: int
) -> None:
    truth = write_town(tmp_path, young_people, seed=3)
    _assert_valid(_read(tmp_path), truth)
    assert 7 <= truth.counts["links"] / young_people <= 14


@settings(max_examples=5, deadline=None)
@given(young_people=st.integers(100, 400), seed=st.integers(0, 2**32))
def test_every_town_is_valid_input(young_people: int, seed: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        truth = write_town(folder, young_people, seed)
        _assert_valid(_read(Path(folder)), truth)
    assert len(truth.networks) >= 2


def test_too_small_a_town_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="at least"):
        write_town(tmp_path, MIN_YOUNG_PEOPLE - 1, seed=1)


# --------------------------------------------------------------------------- reproducibility


def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path: Path) -> None:
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    write_town(first, 200, seed=11)
    write_town(second, 200, seed=11)
    write_town(other, 200, seed=12)
    for name in TOWN_FILES:
        assert filecmp.cmp(first / name, second / name, shallow=False), name
    assert (first / "links.csv").read_bytes() != (other / "links.csv").read_bytes()


def test_same_seed_is_identical_in_another_process(tmp_path: Path) -> None:
    # String hashing differs between processes; nothing may depend on it.
    here, there = tmp_path / "here", tmp_path / "there"
    write_town(here, 150, seed=4)
    script = f"from graphguard.synth import write_town; write_town({str(there)!r}, 150, seed=4)"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", script], check=True, env=env)
    for name in TOWN_FILES:
        assert filecmp.cmp(here / name, there / name, shallow=False), name


def test_files_are_utf8_lf_with_header(town: tuple[Path, TownTruth, IngestResult]) -> None:
    for name in TOWN_FILES[:4]:
        data = (town[0] / name).read_bytes()
        assert b"\r" not in data
        data.decode("utf-8")
    header = (town[0] / "links.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("link_id,source_id,target_id,type,")


def test_progress_reports_links_written(tmp_path: Path) -> None:
    seen: list[int] = []
    truth = write_town(tmp_path, 1000, seed=5, progress=seen.append)
    assert seen == sorted(seen)
    assert seen[-1] == truth.counts["links"]
    assert seen[0] == 10_000


# --------------------------------------------------------------------------- realism


def test_dates_agencies_and_gradings(town: tuple[Path, TownTruth, IngestResult]) -> None:
    dataset = town[2].dataset
    dates = [d for link in dataset.links for d in (link.first_seen, link.last_seen) if d]
    assert max(dates) <= END
    births = [p.date_of_birth for p in dataset.people.values() if p.date_of_birth]
    assert max(births) <= END
    assert {link.agency for link in dataset.links} == set(Agency)
    assert {link.handling for link in dataset.links} >= {Handling.P, Handling.C}
    police = [link for link in dataset.links if link.agency is Agency.POLICE]
    assert all(link.reference for link in police)
    assert all(link.source_grade and link.intel_grade for link in police)
    found = [link for link in dataset.links if link.type is LinkType.FOUND_AT]
    assert found and all(str(link.reference).startswith("RHI-") for link in found)
    assert any(str(link.reference).startswith("CN-") for link in dataset.links)


def test_people_and_places(town: tuple[Path, TownTruth, IngestResult]) -> None:
    dataset = town[2].dataset
    genders = Counter(p.gender for p in dataset.people.values())
    assert None not in genders and len(genders) >= 3
    areas = {p.area for p in dataset.people.values()}
    assert 4 <= len(areas) <= 8
    kinds = Counter(str(loc.kind) for loc in dataset.locations.values())
    for kind in ("home", "school", "shop", "park", "transport_hub", "dock", "care_home"):
        assert kinds[kind] >= 1, kind
    for location in dataset.locations.values():
        assert location.latitude is not None and location.longitude is not None
        assert abs(location.latitude - 53.74) < 0.1 and abs(location.longitude + 0.33) < 0.15
    prefixes = {"YP": Role.YOUNG_PERSON, "AD": Role.ADULT}
    for person in dataset.people.values():
        assert prefixes[person.person_id[:2]] is person.role
    assert all(i.startswith("LO") for i in dataset.locations)
    assert all(i.startswith("VE") for i in dataset.vehicles)
    young = [p for p in dataset.people.values() if p.role is Role.YOUNG_PERSON]
    assert all(0 <= (p.age_on(END) or -1) < 18 for p in young)
    attends = Counter(link.source_id for link in dataset.links if link.type is LinkType.ATTENDS)
    assert all(attends[p.person_id] == 1 for p in young)


def test_busy_places_are_busy(town: tuple[Path, TownTruth, IngestResult]) -> None:
    dataset = town[2].dataset
    seen = Counter(
        link.target_id
        for link in dataset.links
        if link.type is LinkType.SEEN_AT and link.source_id.startswith("YP")
    )
    busiest = dataset.locations[seen.most_common(1)[0][0]]
    assert seen.most_common(1)[0][1] >= 20
    assert str(busiest.kind) in {"shop", "park", "transport_hub", "takeaway", "street", "car_park"}


# --------------------------------------------------------------------------- the truth


def test_planted_networks(
    town: tuple[Path, TownTruth, IngestResult], by_end: dict[str, list[Link]]
) -> None:
    _, truth, result = town
    dataset = result.dataset
    assert len(truth.networks) == 3
    assert [n.style for n in truth.networks] == ["criminal", "sexual", "criminal"]
    recent = _years_before(END, 2)
    for network in truth.networks:
        adults = [dataset.people[a] for a in network.adults]
        assert 2 <= len(adults) <= 3
        assert all(a.role is Role.ADULT for a in adults)
        assert adults[0].suspected is True
        assert network.unflagged_adults
        assert set(network.unflagged_adults) <= set(network.adults)
        assert all(dataset.people[a].suspected is not True for a in network.unflagged_adults)
        assert 4 <= len(network.victims) <= 8
        for victim_id in network.victims:
            victim = dataset.people[victim_id]
            assert victim.role is Role.YOUNG_PERSON
            assert (victim.missing_episodes or 0) >= 1
            types = {link.type for link in by_end[victim_id]}
            assert {LinkType.ASSOCIATES_WITH, LinkType.ATTENDS, LinkType.FOUND_AT} <= types
        kinds = {str(dataset.locations[loc].kind) for loc in network.locations}
        vehicle = dataset.vehicles[network.vehicles[0]]
        driver = network.adults[-1]
        drives = [
            link
            for link in by_end[driver]
            if link.type is LinkType.DRIVES and link.target_id == vehicle.vehicle_id
        ]
        assert drives and driver in network.unflagged_adults
        passengers = {
            link.source_id
            for link in by_end[vehicle.vehicle_id]
            if link.type is LinkType.PASSENGER_IN
        }
        assert set(network.victims) <= passengers
        harm = [
            link
            for adult in network.adults
            for link in by_end[adult]
            if link.type is LinkType.ALLEGED_HARM
        ]
        assert harm
        assert all(
            link.source_grade in (SourceGrade.RELIABLE, SourceGrade.UNTESTED) for link in harm
        )
        assert all(link.intel_grade in (IntelGrade.B, IntelGrade.C) for link in harm)
        network_links = [link for a in network.adults for link in by_end[a]]
        planted = [link for link in network_links if link.type is not LinkType.WORKS_AT]
        assert all(link.first_seen and link.first_seen >= recent for link in planted)
        if network.style == "criminal":
            assert "residential" in kinds
            assert vehicle.private_hire is False
            flat = next(
                loc
                for loc in network.locations
                if str(dataset.locations[loc].kind) == "residential"
            )
            anpr = [
                link
                for link in by_end[vehicle.vehicle_id]
                if link.type is LinkType.SEEN_AT and link.target_id == flat
            ]
            assert anpr and anpr[0].agency is Agency.POLICE
        else:
            assert {"takeaway", "hotel"} <= kinds
            assert vehicle.private_hire is True and vehicle.operator
            partners = [link for link in network_links if link.type is LinkType.PARTNER_OF]
            assert partners and all(p.target_id in network.victims for p in partners)
            works = [link for link in network_links if link.type is LinkType.WORKS_AT]
            assert works and str(dataset.locations[works[0].target_id].kind) == "takeaway"


def test_youth_workers_are_protective_hubs(
    town: tuple[Path, TownTruth, IngestResult], by_end: dict[str, list[Link]]
) -> None:
    _, truth, result = town
    assert len(truth.youth_workers) == 2
    for worker in truth.youth_workers:
        assert result.dataset.people[worker].professional is True
        supports = [link for link in by_end[worker] if link.type is LinkType.SUPPORTS]
        assert 30 <= len(supports) <= 40
        assert all(link.protective is True for link in supports)


def test_decoys(town: tuple[Path, TownTruth, IngestResult], by_end: dict[str, list[Link]]) -> None:
    _, truth, result = town
    dataset: Dataset = result.dataset
    for parent in truth.large_family_parents:
        family = [link for link in by_end[parent] if link.type is LinkType.FAMILY_OF]
        assert 6 <= len(family) <= 8
        assert all(link.protective is True for link in family)
        assert all(dataset.people[link.target_id].role is Role.YOUNG_PERSON for link in family)

    for driver, taxi in zip(truth.school_run_drivers, truth.school_run_vehicles, strict=True):
        assert dataset.vehicles[taxi].private_hire is True
        assert any(
            link.type is LinkType.DRIVES and link.target_id == taxi for link in by_end[driver]
        )
        assert not any(link.type is LinkType.ALLEGED_HARM for link in by_end[driver])
        assert dataset.people[driver].suspected is not True
        rides = [link for link in by_end[taxi] if link.type is LinkType.PASSENGER_IN]
        assert 8 <= len(rides) <= 15
        for link in rides:
            assert link.agency is Agency.EDUCATION
            assert link.grading == "1/A/P"

    for accused in truth.malicious_allegation_adults:
        assert dataset.people[accused].suspected is not True
        harm = [link for link in by_end[accused] if link.type is LinkType.ALLEGED_HARM]
        assert len(harm) == 1
        assert harm[0].grading == "3/E/C"
        assert {link.type for link in by_end[accused]} <= {
            LinkType.ALLEGED_HARM,
            LinkType.LIVES_AT,
            LinkType.ASSOCIATES_WITH,
            LinkType.SEEN_AT,
        }

    six, eight = _years_before(END, 6), _years_before(END, 8)
    for offender in truth.historic_offenders:
        assert dataset.people[offender].suspected is True
        links = by_end[offender]
        harmed = {link.target_id for link in links if link.type is LinkType.ALLEGED_HARM}
        assert 3 <= len(harmed) <= 5
        assert {link.type for link in links} == {LinkType.ALLEGED_HARM, LinkType.SEEN_AT}
        for link in links:
            assert link.first_seen is not None and link.last_seen is not None
            assert eight <= link.first_seen <= link.last_seen <= six


def test_placements_near_a_criminal_networks_dock(
    town: tuple[Path, TownTruth, IngestResult], by_end: dict[str, list[Link]]
) -> None:
    _, truth, result = town
    dataset = result.dataset
    assert len(truth.placements) == 1
    criminal_adults = {a for n in truth.networks if n.style == "criminal" for a in n.adults}
    for placement in truth.placements:
        child = dataset.people[placement["young_person"]]
        assert child.role is Role.YOUNG_PERSON and child.looked_after is True
        assert str(child.placement_area) == "out_of_area"
        home = dataset.locations[placement["care_home"]]
        dock = dataset.locations[placement["dock"]]
        assert str(home.kind) == "care_home" and str(dock.kind) == "dock"
        assert home.latitude and home.longitude and dock.latitude and dock.longitude
        assert _metres((home.latitude, home.longitude), (dock.latitude, dock.longitude)) <= 300
        assert any(
            link.type is LinkType.PLACED_AT and link.target_id == home.location_id
            for link in by_end[child.person_id]
        )
        visitors = {link.source_id for link in by_end[dock.location_id]}
        assert visitors & criminal_adults
        protective = {link.link_id: link for link in by_end[child.person_id]}
        kept = [protective[i] for i in placement["protective_links"]]
        assert {link.type for link in kept} == {LinkType.FAMILY_OF, LinkType.ATTENDS}
        assert all(link.protective is True for link in kept)


def test_a_town_replaces_the_previous_one_as_a_set_or_not_at_all(tmp_path: Path) -> None:
    folder = tmp_path / "town"
    write_town(folder, 150, seed=4)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def interrupt(written: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_town(folder, 200, seed=5, progress=interrupt)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["town"]  # no partial folder left

    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(UsageError, match=r"notes\.txt"):
        write_town(folder, 150, seed=4)
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "mine"
