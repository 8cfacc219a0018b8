"""The domain vocabulary of graphguard: the input format, version 1, as pydantic models.

Every rule of ``DATA-FORMAT.md`` lives here once, as a small *cell parser* (a function
from the text of one cell to a normalised value, raising :class:`ValueError` with a
plain reason) or as a cross-field check.  The pydantic models use the same parsers as
``BeforeValidator`` s, so ``Person.model_validate({...})`` and the streaming ingester
in :mod:`graphguard.ingest` enforce exactly the same rules.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar, cast

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

__all__ = [
    "Role",
    "EntityKind",
    "LocationKind",
    "PlacementArea",
    "Agency",
    "SourceGrade",
    "IntelGrade",
    "Handling",
    "LinkType",
    "SYMMETRIC_TYPES",
    "LINK_ENDS",
    "PROTECTED_CHARACTERISTICS",
    "Person",
    "Location",
    "Vehicle",
    "Link",
    "Entity",
    "ID_PATTERN",
    "parse_id",
    "parse_bool",
    "parse_date",
    "parse_int",
    "parse_decimal",
    "parse_text",
    "parse_registration",
    "parse_enum",
    "parse_postcode",
    "parse_phone",
    "parse_email",
    "parse_nhs_number",
    "parse_upn",
    "parse_pnc_id",
    "parse_uprn",
    "parse_list",
    "parse_categories",
    "Category",
    "MatchDecision",
    "SOURCE_NAME_PATTERN",
    "parse_source_name",
    "parse_record_id",
    "IDENTITY_COLUMNS",
    "check_link_ends",
    "node_kind",
    "NODE_KINDS",
    "column_parsers",
    "REQUIRED_COLUMNS",
    "field_defaults",
    "construct_parsed",
]


class _CaseInsensitiveEnum(StrEnum):
    """A string enum whose values are matched case-insensitively, spaces trimmed."""

    @classmethod
    def parse(cls, value: object) -> _CaseInsensitiveEnum:
        if isinstance(value, cls):
            return value
        table = cls._lookup()
        member = table.get(value) if isinstance(value, str) else None
        if member is None:
            text = str(value).strip()
            member = table.get(text.lower())
            if member is None:
                allowed = ", ".join(m.value for m in cls)
                raise ValueError(f"{text!r} is not one of {allowed}")
        return member

    @classmethod
    def _lookup(cls) -> dict[str, Any]:
        table: dict[str, Any] | None = cls.__dict__.get("_table_")
        if table is None:
            table = {m.value.lower(): m for m in cls}
            table.update({m.value: m for m in cls})
            type.__setattr__(cls, "_table_", table)
        return table

    def __str__(self) -> str:
        return str(self.value)


class Role(_CaseInsensitiveEnum):
    """A person's role: under 18 (or a care leaver up to 25) is a young person."""

    YOUNG_PERSON = "young_person"
    ADULT = "adult"


class EntityKind(_CaseInsensitiveEnum):
    """The three entity files, one namespace of ids."""

    PERSON = "person"
    LOCATION = "location"
    VEHICLE = "vehicle"


class LocationKind(_CaseInsensitiveEnum):
    HOME = "home"
    SCHOOL = "school"
    CARE_HOME = "care_home"
    HOTEL = "hotel"
    TAKEAWAY = "takeaway"
    SHOP = "shop"
    PARK = "park"
    STREET = "street"
    TRANSPORT_HUB = "transport_hub"
    CAR_PARK = "car_park"
    LICENSED_PREMISES = "licensed_premises"
    DOCK = "dock"
    RESIDENTIAL = "residential"
    ONLINE = "online"
    OTHER = "other"


class PlacementArea(_CaseInsensitiveEnum):
    IN_AREA = "in_area"
    OUT_OF_AREA = "out_of_area"


class Agency(_CaseInsensitiveEnum):
    POLICE = "police"
    SOCIAL_CARE = "social_care"
    EDUCATION = "education"
    YOUTH_SERVICE = "youth_service"
    HEALTH = "health"
    VOLUNTARY = "voluntary"
    HOUSING = "housing"
    OTHER = "other"


class Category(_CaseInsensitiveEnum):
    """A data-protection category of a person in one source's records (DPA 2018 Part 3)."""

    SUSPECT = "suspect"
    CONVICTED = "convicted"
    VICTIM = "victim"
    WITNESS = "witness"
    OTHER = "other"


class MatchDecision(_CaseInsensitiveEnum):
    """An analyst's verdict on two records in ``decisions.csv``."""

    SAME = "same"
    DIFFERENT = "different"


class SourceGrade(_CaseInsensitiveEnum):
    """3x5x2 source evaluation: 1 reliable, 2 untested, 3 not reliable."""

    RELIABLE = "1"
    UNTESTED = "2"
    NOT_RELIABLE = "3"


class IntelGrade(_CaseInsensitiveEnum):
    """3x5x2 intelligence assessment, A (known directly) to E (suspected to be false)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"


class Handling(_CaseInsensitiveEnum):
    """3x5x2 handling code: P lawful sharing permitted, C sharing only with conditions."""

    P = "P"
    C = "C"


class LinkType(_CaseInsensitiveEnum):
    ASSOCIATES_WITH = "ASSOCIATES_WITH"
    FAMILY_OF = "FAMILY_OF"
    PARTNER_OF = "PARTNER_OF"
    CONTACTED = "CONTACTED"
    ALLEGED_HARM = "ALLEGED_HARM"
    SUPPORTS = "SUPPORTS"
    LIVES_AT = "LIVES_AT"
    ATTENDS = "ATTENDS"
    PLACED_AT = "PLACED_AT"
    WORKS_AT = "WORKS_AT"
    SEEN_AT = "SEEN_AT"
    FOUND_AT = "FOUND_AT"
    DRIVES = "DRIVES"
    KEEPER_OF = "KEEPER_OF"
    PASSENGER_IN = "PASSENGER_IN"


#: Link types whose direction carries no meaning.
SYMMETRIC_TYPES: frozenset[LinkType] = frozenset(
    {LinkType.ASSOCIATES_WITH, LinkType.FAMILY_OF, LinkType.PARTNER_OF}
)

# Endpoint kinds: "person" matches either role; "young_person" and "adult" one role.
EndpointKind = Literal["person", "young_person", "adult", "location", "vehicle"]

#: For each link type, the endpoint kinds allowed at (source, target).
LINK_ENDS: dict[LinkType, tuple[frozenset[str], frozenset[str]]] = {
    LinkType.ASSOCIATES_WITH: (frozenset({"person"}), frozenset({"person"})),
    LinkType.FAMILY_OF: (frozenset({"person"}), frozenset({"person"})),
    LinkType.PARTNER_OF: (frozenset({"person"}), frozenset({"person"})),
    LinkType.CONTACTED: (frozenset({"person"}), frozenset({"person"})),
    LinkType.ALLEGED_HARM: (frozenset({"adult"}), frozenset({"young_person"})),
    LinkType.SUPPORTS: (frozenset({"adult"}), frozenset({"young_person"})),
    LinkType.LIVES_AT: (frozenset({"person"}), frozenset({"location"})),
    LinkType.ATTENDS: (frozenset({"person"}), frozenset({"location"})),
    LinkType.PLACED_AT: (frozenset({"young_person"}), frozenset({"location"})),
    LinkType.WORKS_AT: (frozenset({"person"}), frozenset({"location"})),
    LinkType.SEEN_AT: (frozenset({"person", "vehicle"}), frozenset({"location"})),
    LinkType.FOUND_AT: (frozenset({"young_person"}), frozenset({"location"})),
    LinkType.DRIVES: (frozenset({"person"}), frozenset({"vehicle"})),
    LinkType.KEEPER_OF: (frozenset({"person"}), frozenset({"vehicle"})),
    LinkType.PASSENGER_IN: (frozenset({"person"}), frozenset({"vehicle"})),
}

#: Columns that hold protected characteristics: recorded and filterable, never scored.
PROTECTED_CHARACTERISTICS: frozenset[str] = frozenset(
    {
        "gender",
        "sex",
        "ethnicity",
        "race",
        "religion",
        "belief",
        "disability",
        "sexual_orientation",
        "gender_reassignment",
        "pregnancy",
        "marriage",
        "nationality",
    }
)

# --------------------------------------------------------------------------- cells

ID_PATTERN = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")
_DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


def parse_text(value: object) -> str:
    """Trim a text cell."""
    return str(value).strip()


def parse_id(value: object) -> str:
    """An id: 1–64 characters of ``A-Z a-z 0-9 _ . : -``."""
    text = str(value).strip()
    if ID_PATTERN.fullmatch(text):
        return text
    if len(text) > 64:
        raise ValueError(f"id is {len(text)} characters long; the limit is 64")
    bad = sorted({c for c in text if not ID_PATTERN.fullmatch(c)})
    shown = " ".join(repr(c) for c in bad)
    raise ValueError(f"id {text!r} contains characters not allowed in an id: {shown}")


def parse_bool(value: object) -> bool:
    """``true/false``, ``yes/no``, ``y/n``, ``1/0`` in any case."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(
        f"{str(value).strip()!r} is not a boolean (use true/false, yes/no, y/n or 1/0)"
    )


def parse_date(value: object) -> dt.date:
    """A ``YYYY-MM-DD`` date (or an Excel date cell)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not _DATE_PATTERN.fullmatch(text):
        raise ValueError(f"{text!r} is not a date in the form YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a real calendar date") from None


def parse_int(value: object, minimum: int) -> int:
    """A whole number no smaller than ``minimum``."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        text = str(value).strip()
        try:
            number = int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
    if number < minimum:
        raise ValueError(f"{number} is below the minimum of {minimum}")
    return number


def parse_decimal(value: object, low: float, high: float) -> float:
    """A decimal number between ``low`` and ``high`` inclusive."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a decimal number")
    try:
        number = float(str(value).strip()) if not isinstance(value, int | float) else float(value)
    except ValueError:
        raise ValueError(f"{str(value).strip()!r} is not a decimal number") from None
    if number != number or not low <= number <= high:  # NaN fails the first test
        raise ValueError(f"{number} is outside {low:g}..{high:g}")
    return number


def parse_registration(value: object) -> str:
    """A vehicle registration, upper case without spaces."""
    return "".join(str(value).split()).upper()


_POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})")
_UPN = re.compile(r"[A-Z][0-9A-Z]{12}")
_PNC = re.compile(r"(\d{2}|\d{4})/(\d{1,7})([A-Z])")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def parse_postcode(value: object) -> str:
    """A UK postcode, upper case with one space before the inward code.

    >>> parse_postcode(" s1 2ab "), parse_postcode("SW1A1AA")
    ('S1 2AB', 'SW1A 1AA')
    """
    text = "".join(str(value).split()).upper()
    if not _POSTCODE.fullmatch(text):
        raise ValueError(f"{str(value).strip()!r} is not a UK postcode")
    return f"{text[:-3]} {text[-3:]}"


def parse_phone(value: object) -> str:
    """A phone number; UK numbers normalised to ``+44…``, others kept as digits with ``+``.

    >>> parse_phone("07700 900123"), parse_phone("+44 (0)7700-900123")
    ('+447700900123', '+447700900123')
    """
    text = str(value).strip()
    plus = text.startswith("+") or text.startswith("00")
    cleaned = text.replace("(0)", "")
    digits = "".join(c for c in cleaned if c.isdigit())
    if any(c.isalpha() for c in cleaned) or not 7 <= len(digits) <= 15:
        raise ValueError(f"{text!r} is not a phone number")
    if text.startswith("00"):
        digits = digits[2:]
    if digits.startswith("440") and len(digits) in (12, 13):
        digits = "44" + digits[3:]  # "+44 07700 900123": the trunk 0 written after the code
    if plus:
        if digits.startswith("0"):
            raise ValueError(f"{text!r} is not a phone number (no country code begins with 0)")
        return "+" + digits
    if digits.startswith("0") and len(digits) in (10, 11):
        return "+44" + digits[1:]
    if digits.startswith("44") and len(digits) in (11, 12):
        return "+" + digits
    raise ValueError(f"{text!r} is not a UK phone number (give it with +country code)")


def parse_email(value: object) -> str:
    """An email address, lower-cased."""
    text = str(value).strip().lower()
    if not _EMAIL.fullmatch(text):
        raise ValueError(f"{str(value).strip()!r} is not an email address")
    return text


def parse_nhs_number(value: object) -> str:
    """A 10-digit NHS number (spaces allowed) whose modulus-11 check digit is valid.

    >>> parse_nhs_number("943 476 5919")
    '9434765919'
    """
    text = "".join(str(value).split()).replace("-", "")
    if not (len(text) == 10 and text.isdigit()):
        raise ValueError(f"{str(value).strip()!r} is not an NHS number (10 digits)")
    total = sum(int(d) * w for d, w in zip(text[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    if check == 10 or check != int(text[9]):
        raise ValueError(f"{text!r} is not a valid NHS number (its check digit is wrong)")
    return text


def parse_upn(value: object) -> str:
    """A Unique Pupil Number: 13 characters, a letter then 12 digits or letters."""
    text = str(value).strip().upper()
    if not _UPN.fullmatch(text):
        raise ValueError(
            f"{str(value).strip()!r} is not a UPN "
            "(13 characters: a letter, then 12 digits or letters)"
        )
    return text


def parse_pnc_id(value: object, today: dt.date | None = None) -> str:
    """A Police National Computer id, ``YYYY/NNNNNNN`` then a letter.

    The short form police systems also print (``YY/NNNNNN`` and a letter) is read too
    and written in full, so two extracts that write one id two ways agree: a two-digit
    year up to this year's is this century's, a later one the last century's.  The
    number is padded with zeros to seven digits; spaces are dropped.

    >>> parse_pnc_id("2009/0123456x"), parse_pnc_id("09/123456X", dt.date(2026, 1, 1))
    ('2009/0123456X', '2009/0123456X')
    """
    text = "".join(str(value).split()).upper()
    match = _PNC.fullmatch(text)
    if not match:
        raise ValueError(f"{str(value).strip()!r} is not a PNC id (YYYY/NNNNNNN and a letter)")
    year, number, letter = match.groups()
    if len(year) == 2:
        now = (today or dt.date.today()).year
        century = now // 100 * 100
        full = century + int(year)
        year = str(full if full <= now else full - 100)
    return f"{year}/{number.zfill(7)}{letter}"


def parse_uprn(value: object) -> str:
    """A Unique Property Reference Number: 1–12 digits (leading zeros dropped)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, float) and value.is_integer():
        value = str(int(value))
    text = str(value).strip()
    if not (text.isdigit() and 1 <= len(text) <= 12):
        raise ValueError(f"{text!r} is not a UPRN (1 to 12 digits)")
    return str(int(text))


#: A source name (the name of a v2 dataset's subfolder): 1–32 of ``a-z 0-9 _ -``.
SOURCE_NAME_PATTERN = re.compile(r"[a-z0-9_\-]{1,32}")


def parse_source_name(value: object) -> str:
    """A source name: 1–32 characters of ``a-z 0-9 _ -`` (the subfolder's own name).

    >>> parse_source_name(" social_care ")
    'social_care'
    """
    text = str(value).strip()
    if SOURCE_NAME_PATTERN.fullmatch(text):
        return text
    raise ValueError(f"{text!r} is not a source name (1 to 32 characters of a-z 0-9 _ -)")


def parse_record_id(value: object) -> str:
    """A qualified record id, ``source:local_id`` (``police:P001``).

    >>> parse_record_id(" police:P001 ")
    'police:P001'
    """
    text = str(value).strip()
    source, colon, local = text.partition(":")
    if not colon or not SOURCE_NAME_PATTERN.fullmatch(source):
        raise ValueError(
            f"{text!r} is not a qualified record id (source:local_id, such as police:P001)"
        )
    return f"{source}:{parse_id(local)}"


def parse_list(value: object) -> tuple[str, ...]:
    """A ``;``-separated list of texts, each trimmed, empties dropped, order kept."""
    items = [part.strip() for part in str(value).split(";")]
    return tuple(dict.fromkeys(item for item in items if item))


def parse_categories(value: object) -> tuple[Category, ...]:
    """A ``;``-separated list of data-protection categories."""
    return tuple(dict.fromkeys(cast(Category, Category.parse(item)) for item in parse_list(value)))


def parse_enum(enum: type[_CaseInsensitiveEnum]) -> Callable[[object], Any]:
    """A fast cell parser for one of ``enum``'s values (exact spelling first, then any case)."""
    table = dict(enum._lookup())
    slow = enum.parse

    def parse(value: object) -> Any:
        member = table.get(value) if isinstance(value, str) else None
        return member if member is not None else slow(value)

    return parse


def _not_in_future(value: dt.date, today: dt.date | None = None) -> dt.date:
    today = today or dt.date.today()
    if value > today:
        raise ValueError(f"{value.isoformat()} is in the future")
    return value


def _past_date(value: object) -> dt.date:
    return _not_in_future(parse_date(value))


def _positive_count(value: object) -> int:
    return parse_int(value, minimum=1)


def _non_negative(value: object) -> int:
    return parse_int(value, minimum=0)


def _latitude(value: object) -> float:
    return parse_decimal(value, -90.0, 90.0)


def _longitude(value: object) -> float:
    return parse_decimal(value, -180.0, 180.0)


def _optional(parser: Callable[[object], Any]) -> Callable[[object], Any]:
    def parse(value: object) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return parser(value)

    return parse


def _cell(parser: Callable[[object], Any]) -> Any:
    """An optional field whose cells go through ``parser``."""
    return BeforeValidator(_optional(parser))


Id = Annotated[str, BeforeValidator(parse_id)]
Text = Annotated[str | None, _cell(parse_text)]
Flag = Annotated[bool | None, _cell(parse_bool)]
PastDate = Annotated[dt.date | None, _cell(_past_date)]


# --------------------------------------------------------------------------- models


class _Record(BaseModel):
    """Common configuration: frozen records, unknown columns kept in ``extra``."""

    model_config = ConfigDict(frozen=True, use_enum_values=False, extra="forbid")

    #: Unknown columns from the input, kept as extra properties (column name → text).
    extra: dict[str, str] = Field(default_factory=dict)


class Person(_Record):
    """One row of ``people.csv``."""

    person_id: Id
    role: Annotated[Role, BeforeValidator(Role.parse)]
    name: Text = None
    date_of_birth: PastDate = None
    gender: Text = None
    looked_after: Flag = None
    placement_area: Annotated[PlacementArea | None, _cell(PlacementArea.parse)] = None
    missing_episodes: Annotated[int | None, _cell(_non_negative)] = None
    excluded_from_school: Flag = None
    suspected: Flag = None
    professional: Flag = None
    area: Text = None
    # Identity columns (DATA-FORMAT.md, "Identity columns"): used to resolve records.
    aliases: Annotated[tuple[str, ...] | None, _cell(parse_list)] = None
    postcode: Annotated[str | None, _cell(parse_postcode)] = None
    phone: Annotated[str | None, _cell(parse_phone)] = None
    email: Annotated[str | None, _cell(parse_email)] = None
    nhs_number: Annotated[str | None, _cell(parse_nhs_number)] = None
    upn: Annotated[str | None, _cell(parse_upn)] = None
    pnc_id: Annotated[str | None, _cell(parse_pnc_id)] = None
    category: Annotated[tuple[Category, ...] | None, _cell(parse_categories)] = None
    # Set by graphguard.categories, never read from a file (no column parses into
    # them): the categories links and flags imply, and which record said which.
    category_derived: tuple[Category, ...] | None = None
    category_records: tuple[str, ...] | None = None

    @property
    def id(self) -> str:
        return self.person_id

    @property
    def entity_kind(self) -> EntityKind:
        return EntityKind.PERSON

    def age_on(self, day: dt.date) -> int | None:
        """Age in whole years on ``day``, or None when the date of birth is not recorded."""
        born = self.date_of_birth
        if born is None:
            return None
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class Location(_Record):
    """One row of ``locations.csv``."""

    location_id: Id
    kind: Annotated[LocationKind, BeforeValidator(LocationKind.parse)]
    name: Text = None
    postcode: Text = None
    latitude: Annotated[float | None, _cell(_latitude)] = None
    longitude: Annotated[float | None, _cell(_longitude)] = None
    area: Text = None
    address: Text = None
    uprn: Annotated[str | None, _cell(parse_uprn)] = None

    @model_validator(mode="after")
    def _both_or_neither(self) -> Location:
        problem = coordinates_problem(self.latitude, self.longitude)
        if problem:
            raise ValueError(problem[1])
        return self

    @property
    def id(self) -> str:
        return self.location_id

    @property
    def entity_kind(self) -> EntityKind:
        return EntityKind.LOCATION


class Vehicle(_Record):
    """One row of ``vehicles.csv``."""

    vehicle_id: Id
    registration: Annotated[str | None, _cell(parse_registration)] = None
    make: Text = None
    model: Text = None
    colour: Text = None
    private_hire: Flag = None
    operator: Text = None

    @property
    def id(self) -> str:
        return self.vehicle_id

    @property
    def entity_kind(self) -> EntityKind:
        return EntityKind.VEHICLE


class Link(_Record):
    """One row of ``links.csv``: one recorded relationship or sighting from one source record."""

    link_id: Id
    source_id: Id
    target_id: Id
    type: Annotated[LinkType, BeforeValidator(LinkType.parse)]
    first_seen: PastDate = None
    last_seen: PastDate = None
    count: Annotated[int, BeforeValidator(_optional(_positive_count))] = 1
    agency: Annotated[Agency | None, _cell(Agency.parse)] = None
    reference: Text = None
    source_grade: Annotated[SourceGrade | None, _cell(SourceGrade.parse)] = None
    intel_grade: Annotated[IntelGrade | None, _cell(IntelGrade.parse)] = None
    handling: Annotated[Handling | None, _cell(Handling.parse)] = None
    protective: Flag = None
    notes: Text = None

    @model_validator(mode="after")
    def _rules(self) -> Link:
        if self.source_id == self.target_id:
            raise ValueError("a link cannot join an entity to itself")
        problem = dates_problem(self.first_seen, self.last_seen)
        if problem:
            raise ValueError(problem[1])
        return self

    @property
    def grading(self) -> str:
        """The 3x5x2 grading as analysts write it, e.g. ``"1/B/P"``; ``"ungraded"`` if none."""
        parts = [
            str(g) if g is not None else "-"
            for g in (self.source_grade, self.intel_grade, self.handling)
        ]
        return "ungraded" if parts == ["-", "-", "-"] else "/".join(parts)


Entity = Person | Location | Vehicle

_R = TypeVar("_R", bound=_Record)


@functools.cache
def field_defaults(model: type[_Record]) -> dict[str, Any]:
    """Each field of ``model`` but ``extra`` → its default (None for a required one).

    The same dictionary on every call: copy it before changing it.
    """
    return {
        name: (None if info.is_required() else info.get_default(call_default_factory=True))
        for name, info in model.model_fields.items()
        if name != "extra"
    }


def construct_parsed(model: type[_R], fields: dict[str, Any], given: set[str]) -> _R:
    """A record made from values that already went through ``model``'s cell parsers.

    Equivalent to ``model.model_construct(**fields)`` with ``given`` as its fields set,
    at a fraction of the cost: the reader makes millions of records whose every cell it
    has just parsed, so pydantic neither validates them again nor copies ``fields``.
    ``fields`` must hold every field, ``extra`` included; the record keeps it.
    """
    record = object.__new__(model)
    object.__setattr__(record, "__dict__", fields)
    object.__setattr__(record, "__pydantic_fields_set__", given)
    object.__setattr__(record, "__pydantic_extra__", None)
    object.__setattr__(record, "__pydantic_private__", None)
    return record


# --------------------------------------------------------------------------- cross-field rules


def coordinates_problem(latitude: float | None, longitude: float | None) -> tuple[str, str] | None:
    """``(column, reason)`` when only one of latitude and longitude is given."""
    if latitude is not None and longitude is None:
        return "longitude", "latitude is given without longitude (give both or neither)"
    if longitude is not None and latitude is None:
        return "latitude", "longitude is given without latitude (give both or neither)"
    return None


def dates_problem(first: dt.date | None, last: dt.date | None) -> tuple[str, str] | None:
    """``(column, reason)`` when last_seen is before first_seen."""
    if first is not None and last is not None and last < first:
        return (
            "last_seen",
            f"last_seen {last.isoformat()} is before first_seen {first.isoformat()}",
        )
    return None


#: The kinds of node in the graph, as :func:`node_kind` names them.
NODE_KINDS: tuple[str, ...] = ("young_person", "adult", "location", "vehicle")

#: Neo4j labels that name a node kind, most specific first.
_LABEL_KINDS = (
    ("YoungPerson", "young_person"),
    ("Adult", "adult"),
    ("Location", "location"),
    ("Vehicle", "vehicle"),
)


def node_kind(node: Entity | Mapping[str, Any]) -> str:
    """Which kind of node this is: ``young_person``, ``adult``, ``location`` or ``vehicle``.

    The one place that works it out, for a model entity, a graph node's attributes
    (``role`` for people, else ``kind``) or a node in a Cypher result (its ``labels``).

    >>> node_kind({"kind": "person", "role": "adult"}), node_kind({"kind": "vehicle"})
    ('adult', 'vehicle')
    >>> node_kind({"labels": ["Entity", "Person", "YoungPerson"]})
    'young_person'
    """
    if isinstance(node, Person):
        return node.role.value
    if isinstance(node, Location | Vehicle):
        return node.entity_kind.value
    role = node.get("role")
    if role:
        return str(role)
    kind = node.get("kind")
    if kind:
        return str(kind)
    labels = set(node.get("labels") or ())
    for label, named in _LABEL_KINDS:
        if label in labels:
            return named
    raise ValueError(f"not a graph node: no role, kind or label in {sorted(node)}")


def _matches(kind: str, allowed: frozenset[str]) -> bool:
    return kind in allowed or (kind in ("young_person", "adult") and "person" in allowed)


def _a(kind: str) -> str:
    words = kind.replace("_", " ")
    return ("an " if words[0] in "aeiou" else "a ") + words


def check_link_ends(
    link_type: LinkType, source_kind: str, target_kind: str
) -> tuple[str, str] | None:
    """``(column, reason)`` when a link type does not join these kinds of entity.

    >>> check_link_ends(LinkType.SUPPORTS, "young_person", "adult")
    ('source_id', 'SUPPORTS must start at an adult, not a young person')
    >>> check_link_ends(LinkType.SEEN_AT, "vehicle", "location") is None
    True
    """
    sources, targets = LINK_ENDS[link_type]
    if not _matches(source_kind, sources):
        wanted = " or ".join(_a(s) for s in sorted(sources))
        return "source_id", f"{link_type.value} must start at {wanted}, not {_a(source_kind)}"
    if not _matches(target_kind, targets):
        wanted = " or ".join(_a(t) for t in sorted(targets))
        return "target_id", f"{link_type.value} must end at {wanted}, not {_a(target_kind)}"
    return None


def _dates_until(today: dt.date) -> Callable[[object], dt.date]:
    """A parser of past dates against a fixed ``today``, remembering the dates it has seen."""
    seen: dict[object, dt.date] = {}

    def parse(value: object) -> dt.date:
        known = seen.get(value) if isinstance(value, str) else None
        if known is not None:
            return known
        day = _not_in_future(parse_date(value), today)
        if isinstance(value, str) and len(seen) < 100_000:
            seen[value] = day
        return day

    return parse


def column_parsers(today: dt.date | None = None) -> dict[str, dict[str, Callable[[object], Any]]]:
    """For each file stem, column name → cell parser (raising ValueError with a reason).

    ``today`` is the day against which "not in the future" is judged.
    """
    _past_date = _dates_until(today or dt.date.today())
    return {
        "people": {
            "person_id": parse_id,
            "role": parse_enum(Role),
            "name": parse_text,
            "date_of_birth": _past_date,
            "gender": parse_text,
            "looked_after": parse_bool,
            "placement_area": parse_enum(PlacementArea),
            "missing_episodes": _non_negative,
            "excluded_from_school": parse_bool,
            "suspected": parse_bool,
            "professional": parse_bool,
            "area": parse_text,
            "aliases": parse_list,
            "postcode": parse_postcode,
            "phone": parse_phone,
            "email": parse_email,
            "nhs_number": parse_nhs_number,
            "upn": parse_upn,
            "pnc_id": functools.partial(parse_pnc_id, today=today),
            "category": parse_categories,
        },
        "locations": {
            "location_id": parse_id,
            "kind": parse_enum(LocationKind),
            "name": parse_text,
            "postcode": parse_text,
            "latitude": _latitude,
            "longitude": _longitude,
            "area": parse_text,
            "address": parse_text,
            "uprn": parse_uprn,
        },
        "vehicles": {
            "vehicle_id": parse_id,
            "registration": parse_registration,
            "make": parse_text,
            "model": parse_text,
            "colour": parse_text,
            "private_hire": parse_bool,
            "operator": parse_text,
        },
        "links": {
            "link_id": parse_id,
            "source_id": parse_id,
            "target_id": parse_id,
            "type": parse_enum(LinkType),
            "first_seen": _past_date,
            "last_seen": _past_date,
            "count": _positive_count,
            "agency": parse_enum(Agency),
            "reference": parse_text,
            "source_grade": parse_enum(SourceGrade),
            "intel_grade": parse_enum(IntelGrade),
            "handling": parse_enum(Handling),
            "protective": parse_bool,
            "notes": parse_text,
        },
        "sources": {
            "source": parse_source_name,
            "agency": parse_enum(Agency),
            "extracted_on": _past_date,
            "contact": parse_text,
        },
        "decisions": {
            "record_a": parse_record_id,
            "record_b": parse_record_id,
            "decision": parse_enum(MatchDecision),
            "decided_by": parse_text,
            "decided_on": _past_date,
            "reason": parse_text,
        },
    }


#: Identity columns: values that say who a person is or which place a location is.
#: Resolution compares them; they are personal data wherever a young person's.
IDENTITY_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "people": (
        "name",
        "aliases",
        "date_of_birth",
        "postcode",
        "phone",
        "email",
        "nhs_number",
        "upn",
        "pnc_id",
    ),
    "locations": ("name", "address", "postcode", "uprn", "latitude", "longitude"),
    "vehicles": ("registration",),
}

#: File stem → the columns that must be present and non-empty.
REQUIRED_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "people": ("person_id", "role"),
    "locations": ("location_id", "kind"),
    "vehicles": ("vehicle_id",),
    "links": ("source_id", "target_id", "type"),
    # Version 2, at the top of the dataset folder.
    "sources": ("source",),
    "decisions": ("record_a", "record_b", "decision", "decided_by", "decided_on"),
}
