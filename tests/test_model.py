"""The cell rules of DATA-FORMAT.md, one by one, through the pydantic models."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from graphguard.model import (
    Handling,
    IntelGrade,
    Link,
    LinkType,
    Location,
    LocationKind,
    Person,
    Role,
    Vehicle,
    check_link_ends,
    parse_bool,
    parse_id,
)


@pytest.mark.parametrize("text", ["true", "TRUE", " yes ", "Y", "1"])
def test_true_spellings(text: str) -> None:
    assert parse_bool(text) is True


@pytest.mark.parametrize("text", ["false", "No", "n", "0", " FALSE "])
def test_false_spellings(text: str) -> None:
    assert parse_bool(text) is False


@pytest.mark.parametrize("text", ["maybe", "2", "t", "oui"])
def test_other_booleans_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="not a boolean"):
        parse_bool(text)


@pytest.mark.parametrize("good", ["a", "YP-001", "x.y:z_1", "A" * 64])
def test_good_ids(good: str) -> None:
    assert parse_id(f"  {good} ") == good


@pytest.mark.parametrize(
    ("bad", "why"),
    [("A" * 65, "65 characters"), ("YP 1", "not allowed"), ("YP/1", "'/'"), ("é", "not allowed")],
)
def test_bad_ids(bad: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_id(bad)


def test_enums_match_case_insensitively_and_trimmed() -> None:
    person = Person.model_validate({"person_id": "P1", "role": " Young_Person "})
    assert person.role is Role.YOUNG_PERSON
    assert LocationKind.parse("CAR_PARK") is LocationKind.CAR_PARK
    assert IntelGrade.parse(" b ") is IntelGrade.B
    assert Handling.parse("c") is Handling.C
    assert LinkType.parse("seen_at") is LinkType.SEEN_AT


def test_registration_normalised() -> None:
    assert Vehicle.model_validate(
        {"vehicle_id": "V1", "registration": " ab12 cde"}
    ).registration == ("AB12CDE")


def test_dates_in_the_future_rejected() -> None:
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    with pytest.raises(ValidationError, match="in the future"):
        Person.model_validate({"person_id": "P1", "role": "adult", "date_of_birth": tomorrow})


@pytest.mark.parametrize("bad", ["2024-13-01", "2024-02-30", "01/02/2024", "2024-1-1"])
def test_bad_dates_rejected(bad: str) -> None:
    with pytest.raises(ValidationError):
        Person.model_validate({"person_id": "P1", "role": "adult", "date_of_birth": bad})


def test_empty_cells_mean_not_recorded() -> None:
    person = Person.model_validate({"person_id": "P1", "role": "adult", "looked_after": "  "})
    assert person.looked_after is None


def test_coordinates_both_or_neither() -> None:
    with pytest.raises(ValidationError, match="without longitude"):
        Location.model_validate({"location_id": "L1", "kind": "dock", "latitude": "53"})
    with pytest.raises(ValidationError, match="outside"):
        Location.model_validate(
            {"location_id": "L1", "kind": "dock", "latitude": "91", "longitude": "0"}
        )


def test_link_rules() -> None:
    with pytest.raises(ValidationError, match="itself"):
        Link.model_validate(
            {"link_id": "L", "source_id": "A", "target_id": "A", "type": "CONTACTED"}
        )
    with pytest.raises(ValidationError, match="before first_seen"):
        Link.model_validate(
            {
                "link_id": "L",
                "source_id": "A",
                "target_id": "B",
                "type": "CONTACTED",
                "first_seen": "2024-05-01",
                "last_seen": "2024-04-01",
            }
        )
    with pytest.raises(ValidationError, match="below the minimum"):
        Link.model_validate(
            {"link_id": "L", "source_id": "A", "target_id": "B", "type": "CONTACTED", "count": "0"}
        )
    link = Link.model_validate(
        {
            "link_id": "L",
            "source_id": "A",
            "target_id": "B",
            "type": "contacted",
            "source_grade": "1",
            "intel_grade": "b",
            "handling": "p",
        }
    )
    assert link.count == 1
    assert link.grading == "1/B/P"


@pytest.mark.parametrize(
    ("link_type", "source", "target", "ok"),
    [
        (LinkType.ALLEGED_HARM, "adult", "young_person", True),
        (LinkType.ALLEGED_HARM, "young_person", "young_person", False),
        (LinkType.SUPPORTS, "adult", "adult", False),
        (LinkType.SEEN_AT, "vehicle", "location", True),
        (LinkType.SEEN_AT, "adult", "vehicle", False),
        (LinkType.PLACED_AT, "adult", "location", False),
        (LinkType.FOUND_AT, "young_person", "location", True),
        (LinkType.DRIVES, "adult", "vehicle", True),
        (LinkType.LIVES_AT, "adult", "young_person", False),
        (LinkType.ASSOCIATES_WITH, "young_person", "adult", True),
        (LinkType.CONTACTED, "vehicle", "adult", False),
    ],
)
def test_link_ends(link_type: LinkType, source: str, target: str, ok: bool) -> None:
    assert (check_link_ends(link_type, source, target) is None) is ok
