"""What the resolver compares: each record's identity values, normalised once.

Agencies write one name, address or postcode in many ways.  Before any comparison
every value is brought to one form here — lower case, accents and punctuation gone,
``Rd`` read as ``road`` — and split into the parts the comparisons and blocking rules
need (first name, surname, the nickname key, the date of birth with its day and month
in either order, the postcode's sector and district).  The rows are plain dicts of
columns, one per record, sorted by record id, so the linkage library sees the same
table in the same order for the same records.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from graphguard.model import Location, Person, Vehicle, parse_postcode
from graphguard.resolve.nicknames import canonical_first_name, name_forms

__all__ = [
    "source_of",
    "normal_text",
    "normal_address",
    "person_row",
    "location_row",
    "vehicle_key",
    "PERSON_COLUMNS",
    "LOCATION_COLUMNS",
]

_NOT_WORD = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s+")

#: Words of addresses written short, and the word they stand for.
_ADDRESS_WORDS = {
    "rd": "road",
    "st": "street",
    "ave": "avenue",
    "av": "avenue",
    "ln": "lane",
    "dr": "drive",
    "cres": "crescent",
    "ct": "court",
    "pl": "place",
    "sq": "square",
    "gdns": "gardens",
    "tce": "terrace",
    "clo": "close",
    "cl": "close",
    "hse": "house",
    "flt": "flat",
}


def source_of(record_id: str) -> str:
    """The source of a qualified record id; ``""`` for a v1 id (one joined namespace).

    >>> source_of("police:P001"), source_of("P001")
    ('police', '')
    """
    return record_id.partition(":")[0] if ":" in record_id else ""


def normal_text(value: str | None) -> str | None:
    """Lower case, accents and punctuation removed, single spaces; None when nothing is left.

    >>> normal_text("  O'Neil-Smith, Zoë ")
    'oneil smith zoe'
    """
    if value is None:
        return None
    decomposed = unicodedata.normalize("NFKD", value)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    # An apostrophe joins (O'Neil → oneil); a hyphen or comma separates words.
    plain = plain.replace("'", "").replace("’", "")
    text = _SPACES.sub(" ", _NOT_WORD.sub(" ", plain)).strip()
    return text or None


def normal_address(value: str | None) -> str | None:
    """An address in one form: :func:`normal_text` with common abbreviations spelt out.

    >>> normal_address("Flat 2, 14 Mill Rd.")
    'flat 2 14 mill road'
    """
    text = normal_text(value)
    if text is None:
        return None
    return " ".join(_ADDRESS_WORDS.get(word, word) for word in text.split())


def _postcode(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return parse_postcode(value)
    except ValueError:
        return "".join(value.split()).upper() or None


def _postcode_parts(postcode: str | None) -> tuple[str | None, str | None]:
    """``("S1 2", "S1")`` for ``"S1 2AB"``: the sector and the district."""
    if not postcode or " " not in postcode:
        return None, None
    outward, inward = postcode.split(" ", 1)
    return f"{outward} {inward[:1]}", outward


#: The columns of a person row, in order (the linkage table's schema).
PERSON_COLUMNS: tuple[str, ...] = (
    "unique_id",
    "source",
    "role",
    "name",
    "first_name",
    "surname",
    "surname_initial",
    "first_key",
    "first_forms",
    "names_known",
    "aliases",
    "date_of_birth",
    "dob_key",
    "birth_year",
    "birth_month",
    "birth_day",
    "postcode",
    "postcode_sector",
    "postcode_district",
    "phone",
    "email",
    "nhs_number",
    "upn",
    "pnc_id",
)


def _issued_nhs_number(number: str | None) -> str | None:
    """``number``, or None when it is a placeholder rather than a person's number.

    Every ten-digit number of one repeated digit (``0000000000``, ``9999999999``)
    passes the modulus-11 check, and systems write them for "not known": two
    children given the same placeholder must not be joined on it, nor two records of
    one child kept apart because one has it.

    >>> _issued_nhs_number("9434765919"), _issued_nhs_number("0000000000")
    ('9434765919', None)
    """
    if number is None or len(set(number)) == 1:
        return None
    return number


def person_row(record_id: str, person: Person) -> dict[str, Any]:
    """The columns the resolver compares for one person record.

    ``dob_key`` is the year with the day and month in ascending order, so a date of
    birth and the same date with day and month read the other way share a key.

    >>> row = person_row("police:P1", Person(person_id="P1", role="adult", name="Jess Marlow"))
    >>> row["first_name"], row["surname"], row["first_key"], row["source"]
    ('jess', 'marlow', 'jessica', 'police')
    """
    name = normal_text(person.name)
    parts = name.split() if name else []
    first = parts[0] if parts else None
    surname = parts[-1] if len(parts) > 1 else None
    aliases = sorted({a for a in (normal_text(x) for x in person.aliases or ()) if a})
    known = sorted({*aliases, *([name] if name else [])})
    born = person.date_of_birth
    postcode = _postcode(person.postcode)
    sector, district = _postcode_parts(postcode)
    return {
        "unique_id": record_id,
        "source": source_of(record_id),
        "role": person.role.value,
        "name": name,
        "first_name": first,
        "surname": surname,
        "surname_initial": surname[0] if surname else None,
        "first_key": canonical_first_name(first) if first else None,
        "first_forms": sorted(name_forms(first)) if first else None,
        "names_known": known or None,
        "aliases": aliases or None,
        "date_of_birth": born.isoformat() if born else None,
        "dob_key": (
            f"{born.year:04d}-{min(born.month, born.day):02d}-{max(born.month, born.day):02d}"
            if born
            else None
        ),
        "birth_year": born.year if born else None,
        "birth_month": born.month if born else None,
        "birth_day": born.day if born else None,
        "postcode": postcode,
        "postcode_sector": sector,
        "postcode_district": district,
        "phone": person.phone,
        "email": person.email,
        "nhs_number": _issued_nhs_number(person.nhs_number),
        "upn": person.upn,
        "pnc_id": person.pnc_id,
    }


#: The columns of a location row, in order.
LOCATION_COLUMNS: tuple[str, ...] = (
    "unique_id",
    "source",
    "kind",
    "name",
    "address",
    "postcode",
    "postcode_sector",
    "postcode_district",
    "uprn",
    "latitude",
    "longitude",
    "grid_cell",
)


def location_row(record_id: str, location: Location) -> dict[str, Any]:
    """The columns the resolver compares for one location record.

    ``grid_cell`` rounds the coordinates to about a hundred metres, for blocking.
    """
    postcode = _postcode(location.postcode)
    sector, district = _postcode_parts(postcode)
    lat, lon = location.latitude, location.longitude
    return {
        "unique_id": record_id,
        "source": source_of(record_id),
        "kind": location.kind.value,
        "name": normal_text(location.name),
        "address": normal_address(location.address),
        "postcode": postcode,
        "postcode_sector": sector,
        "postcode_district": district,
        "uprn": location.uprn,
        "latitude": lat,
        "longitude": lon,
        "grid_cell": (
            f"{round(lat, 3):.3f},{round(lon, 3):.3f}"
            if lat is not None and lon is not None
            else None
        ),
    }


def vehicle_key(vehicle: Vehicle) -> str | None:
    """What makes two vehicle records one vehicle: the same normalised registration."""
    return vehicle.registration or None
