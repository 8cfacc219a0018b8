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
    column_parsers,
    parse_bool,
    parse_email,
    parse_id,
    parse_nhs_number,
    parse_phone,
    parse_pnc_id,
    parse_postcode,
    parse_record_id,
    parse_source_name,
    parse_upn,
    parse_uprn,
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


# --------------------------------------------------------------------------- identity columns
# DATA-FORMAT.md, "Identity columns": each rule with values it takes and values it refuses.


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("943 476 5919", "9434765919"),  # NHS Digital's test number
        ("9434765870", "9434765870"),  # 11 - 0 = 11, written as the check digit 0
        ("401 023 2137", "4010232137"),
        ("9990000018", "9990000018"),
    ],
)
def test_nhs_numbers_with_a_valid_check_digit(text: str, normal: str) -> None:
    assert parse_nhs_number(text) == normal


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("943 476 5918", "check digit is wrong"),
        ("9434765910", "check digit is wrong"),
        ("123456789", "10 digits"),
        ("94347659190", "10 digits"),
        ("943476591X", "10 digits"),
        ("1000000010", "check digit is wrong"),  # 11 - 1 = 10: no valid number has it
    ],
)
def test_nhs_numbers_refused(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_nhs_number(text)


def test_nhs_check_digit_of_eleven_is_zero() -> None:
    # 0000000000: weights sum to 0, 11 - 0 = 11, written 0.
    assert parse_nhs_number("000 000 0000") == "0000000000"


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("s1 2ab", "S1 2AB"),
        ("SW1A1AA", "SW1A 1AA"),
        (" m60  1nw ", "M60 1NW"),
        ("EC1A 1BB", "EC1A 1BB"),
    ],
)
def test_postcodes_normalised(text: str, normal: str) -> None:
    assert parse_postcode(text) == normal


@pytest.mark.parametrize("text", ["S1", "12345", "SW1A 1A", "Sheffield", "S1 2ABC"])
def test_postcodes_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a UK postcode"):
        parse_postcode(text)


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("07700 900123", "+447700900123"),
        ("+44 7700 900123", "+447700900123"),
        ("+44 (0)7700-900123", "+447700900123"),
        ("+44 07700 900123", "+447700900123"),
        ("0044 7700 900123", "+447700900123"),
        ("447700900123", "+447700900123"),
        ("0114 496 0000", "+441144960000"),
        ("+33 1 23 45 67 89", "+33123456789"),
    ],
)
def test_phone_numbers_normalised(text: str, normal: str) -> None:
    assert parse_phone(text) == normal


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("call me", "not a phone number"),
        ("07700 900123 ext 4", "not a phone number"),
        ("12345", "not a phone number"),
        ("7700 900123", "not a UK phone number"),
        ("+07700 900123", "no country code begins with 0"),
        ("000 7700 900123", "no country code begins with 0"),
    ],
)
def test_phone_numbers_refused(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_phone(text)


def test_emails_lower_cased_and_checked() -> None:
    assert parse_email(" Jess.M@Example.ORG ") == "jess.m@example.org"
    for bad in ("jess", "jess@", "jess@example", "a b@example.org"):
        with pytest.raises(ValueError, match="not an email address"):
            parse_email(bad)


@pytest.mark.parametrize("text", ["A123456789012", "a12345678901b", "H80112345678A"])
def test_upns_are_a_letter_then_twelve(text: str) -> None:
    assert parse_upn(text) == text.upper()


@pytest.mark.parametrize(
    "text", ["1234567890123", "A12345678901", "A1234567890123", "A12345-789012"]
)
def test_upns_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a UPN"):
        parse_upn(text)


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("2009/0123456X", "2009/0123456X"),
        ("2009/123456x", "2009/0123456X"),
        ("2009/0123456 X", "2009/0123456X"),
        ("09/123456X", "2009/0123456X"),
        ("98/7654321Z", "1998/7654321Z"),
    ],
)
def test_pnc_ids_written_in_full(text: str, normal: str) -> None:
    assert parse_pnc_id(text, today=dt.date(2026, 12, 2)) == normal


@pytest.mark.parametrize(
    "text", ["2009/0123456", "2009-0123456X", "209/0123456X", "2009/12345678X"]
)
def test_pnc_ids_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a PNC id"):
        parse_pnc_id(text)


@pytest.mark.parametrize(
    ("value", "normal"), [("100023336956", "100023336956"), ("0012", "12"), (12.0, "12")]
)
def test_uprns(value: object, normal: str) -> None:
    assert parse_uprn(value) == normal


@pytest.mark.parametrize("text", ["1000233369561", "12a", "-5", ""])
def test_uprns_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a UPRN"):
        parse_uprn(text)


def test_aliases_and_categories_are_lists() -> None:
    person = Person.model_validate(
        {
            "person_id": "P1",
            "role": "adult",
            "aliases": "Bee; ;Lady B;Bee",
            "category": "Suspect;witness",
        }
    )
    assert person.aliases == ("Bee", "Lady B")
    assert [c.value for c in person.category or ()] == ["suspect", "witness"]
    with pytest.raises(ValidationError, match="'informant' is not one of"):
        Person.model_validate({"person_id": "P1", "role": "adult", "category": "informant"})


def test_identity_columns_go_through_the_streaming_parsers_too() -> None:
    parsers = column_parsers(dt.date(2026, 12, 2))["people"]
    assert parsers["nhs_number"]("943 476 5919") == "9434765919"
    assert parsers["pnc_id"]("09/123456X") == "2009/0123456X"
    assert column_parsers()["locations"]["uprn"]("0012") == "12"
    with pytest.raises(ValueError, match="check digit"):
        parsers["nhs_number"]("943 476 5918")


@pytest.mark.parametrize("good", ["police", "social_care", "anpr-2", "a" * 32])
def test_source_names(good: str) -> None:
    assert parse_source_name(good) == good


@pytest.mark.parametrize("bad", ["Police", "youth service", "a" * 33, "", "pol/ice", "pólice"])
def test_bad_source_names(bad: str) -> None:
    with pytest.raises(ValueError, match="not a source name"):
        parse_source_name(bad)


def test_qualified_record_ids() -> None:
    assert parse_record_id("police:P001") == "police:P001"
    assert parse_record_id("police:auto:1f") == "police:auto:1f"  # the local id may hold a colon
    for bad in ("P001", "Police:P001", ":P001"):
        with pytest.raises(ValueError, match="not a qualified record id"):
            parse_record_id(bad)
    with pytest.raises(ValueError, match="not allowed"):
        parse_record_id("police:P 1")
