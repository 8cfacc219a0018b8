"""The comparisons and blocking rules of the resolver, with their words and their priors.

Each comparison looks at one field of two records and says which *level* of agreement
they reach — ``date of birth: day and month transposed`` — in the linkage library's
terms (Splink comparison levels, SQL on the columns of :mod:`graphguard.resolve.features`,
``l.`` the one record and ``r.`` the other).  Every level carries the words that
``candidates.csv`` shows, and a prior m probability (how often records of one person
reach it) and u probability (how often records of two different people do).  The
priors are used as they are when the data is too small to estimate them (see
:func:`graphguard.resolve.engine.match_records`); on larger data u is estimated by
random sampling and m by expectation maximisation, starting from them.

Levels are listed from the strongest agreement to the weakest; the first that holds
is the pair's level.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Level",
    "Comparison",
    "PERSON_COMPARISONS",
    "LOCATION_COMPARISONS",
    "PERSON_BLOCKING",
    "LOCATION_BLOCKING",
    "PERSON_TRAINING_BLOCKS",
    "LOCATION_TRAINING_BLOCKS",
    "PERSON_CERTAIN",
    "LOCATION_CERTAIN",
]


@dataclass(frozen=True)
class Level:
    """One level of agreement: its SQL condition, its words and its priors."""

    sql: str
    words: str
    m: float
    u: float


@dataclass(frozen=True)
class Comparison:
    """One field compared: the column it writes, the field's name in words, its levels."""

    column: str
    field: str
    #: When this holds, the field was not recorded on one side: the pair is not judged on it.
    null_sql: str
    levels: tuple[Level, ...]

    def splink(self) -> dict[str, Any]:
        """The comparison as a Splink ``CustomComparison`` dictionary."""
        levels: list[dict[str, Any]] = [
            {
                "sql_condition": _sides(self.null_sql),
                "label_for_charts": "not recorded",
                "is_null_level": True,
            }
        ]
        for level in self.levels:
            levels.append(
                {
                    "sql_condition": _sides(level.sql),
                    "label_for_charts": level.words,
                    "m_probability": level.m,
                    "u_probability": level.u,
                }
            )
        return {
            "output_column_name": self.column,
            "comparison_description": self.field,
            "comparison_levels": levels,
        }

    def words_of(self, gamma: int) -> str | None:
        """The words of the level Splink numbered ``gamma`` (-1 is "not recorded": None).

        Splink numbers the levels from the last (0) up to the first (``len - 1``).
        """
        if gamma < 0:
            return None
        return self.levels[len(self.levels) - 1 - gamma].words


_SIDE = re.compile(r"\b([lr])\.(\w+)")


def _sides(sql: str) -> str:
    """``l.name`` as Splink names the columns of a pair's two sides: ``"name_l"``."""
    return _SIDE.sub(lambda m: f'"{m.group(2)}_{m.group(1)}"', sql)


def _null(*columns: str) -> str:
    return " OR ".join(f"l.{c} IS NULL OR r.{c} IS NULL" for c in columns)


def _identifier(column: str, field: str) -> Comparison:
    """A value that names one person (NHS number, UPN, PNC id): same or different."""
    return Comparison(
        column,
        field,
        _null(column),
        (
            Level(f"l.{column} = r.{column}", "same", 0.98, 0.000001),
            Level("ELSE", "different", 0.02, 0.999999),
        ),
    )


def _contact(column: str, field: str) -> Comparison:
    """A contact detail (phone, email): people change them, and households share them."""
    return Comparison(
        column,
        field,
        _null(column),
        (
            Level(f"l.{column} = r.{column}", "same", 0.7, 0.0005),
            Level("ELSE", "different", 0.3, 0.9995),
        ),
    )


def _postcode(m: tuple[float, float, float, float]) -> Comparison:
    """Postcodes: same, same sector, same district, different (``m`` in that order)."""
    return Comparison(
        "postcode",
        "postcode",
        _null("postcode"),
        (
            Level("l.postcode = r.postcode", "same", m[0], 0.01),
            Level("l.postcode_sector = r.postcode_sector", "same sector", m[1], 0.03),
            Level("l.postcode_district = r.postcode_district", "same district", m[2], 0.08),
            Level("ELSE", "different", m[3], 0.88),
        ),
    )


_SIMILAR_NAMES = (
    "(jaro_winkler_similarity(l.first_name, r.first_name) >= 0.88 "
    "AND jaro_winkler_similarity(l.surname, r.surname) >= 0.88) "
    "OR (length(l.first_name) >= 5 AND damerau_levenshtein(l.first_name, r.first_name) <= 1 "
    "AND damerau_levenshtein(l.surname, r.surname) <= 2)"
)
_NICKNAME = "l.surname = r.surname AND list_contains(l.first_forms, r.first_name)"

#: How two person records are compared.
PERSON_COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "name",
        "name",
        _null("name"),
        (
            Level("l.name = r.name", "same", 0.6, 0.001),
            Level(_NICKNAME, "nickname", 0.12, 0.0005),
            Level(_SIMILAR_NAMES, "similar spelling", 0.14, 0.003),
            Level("l.surname = r.surname", "same surname, different first name", 0.04, 0.02),
            Level(
                "l.first_name = r.first_name OR list_contains(l.first_forms, r.first_name)",
                "same first name, different surname",
                0.05,
                0.01,
            ),
            Level("ELSE", "different", 0.05, 0.9655),
        ),
    ),
    Comparison(
        "aliases",
        "aliases",
        "(l.aliases IS NULL AND r.aliases IS NULL) OR l.names_known IS NULL "
        "OR r.names_known IS NULL",
        (
            Level(
                "list_has_any(l.names_known, r.names_known) AND l.name IS DISTINCT FROM r.name",
                "a name of one is an alias of the other",
                0.3,
                0.0005,
            ),
            Level("ELSE", "no name in common", 0.7, 0.9995),
        ),
    ),
    Comparison(
        "date_of_birth",
        "date of birth",
        _null("date_of_birth"),
        (
            Level("l.date_of_birth = r.date_of_birth", "same", 0.85, 0.0003),
            Level(
                "l.birth_year = r.birth_year AND l.birth_month = r.birth_day "
                "AND l.birth_day = r.birth_month",
                "day and month transposed",
                0.03,
                0.00003,
            ),
            Level(
                "damerau_levenshtein(l.date_of_birth, r.date_of_birth) = 1",
                "one digit off",
                0.06,
                0.003,
            ),
            Level("l.birth_year = r.birth_year", "same year", 0.03, 0.1),
            Level("ELSE", "different", 0.03, 0.89667),
        ),
    ),
    # People move, and their records lag behind: a different postcode is weak evidence.
    _postcode((0.6, 0.08, 0.07, 0.25)),
    _contact("phone", "phone"),
    _contact("email", "email"),
    _identifier("nhs_number", "NHS number"),
    _identifier("upn", "UPN"),
    _identifier("pnc_id", "PNC id"),
)

_KM = (
    "12742 * asin(sqrt(pow(sin(radians(r.latitude - l.latitude) / 2), 2) + "
    "cos(radians(l.latitude)) * cos(radians(r.latitude)) * "
    "pow(sin(radians(r.longitude - l.longitude) / 2), 2)))"
)

#: How two location records are compared.
LOCATION_COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "uprn",
        "UPRN",
        _null("uprn"),
        (
            Level("l.uprn = r.uprn", "same", 0.95, 0.00001),
            Level("ELSE", "different", 0.05, 0.99999),
        ),
    ),
    Comparison(
        "address",
        "address",
        _null("address"),
        (
            Level("l.address = r.address", "same", 0.7, 0.001),
            Level(
                "jaro_winkler_similarity(l.address, r.address) >= 0.9",
                "similar",
                0.12,
                0.005,
            ),
            Level(
                "contains(l.address, r.address) OR contains(r.address, l.address)",
                "one contains the other",
                0.08,
                0.002,
            ),
            Level("ELSE", "different", 0.1, 0.993),
        ),
    ),
    # Places do not move: a different postcode is strong evidence of two places.
    _postcode((0.9, 0.04, 0.03, 0.03)),
    Comparison(
        "coordinates",
        "coordinates",
        _null("latitude"),
        (
            Level(f"{_KM} <= 0.05", "within 50 m", 0.7, 0.001),
            Level(f"{_KM} <= 0.25", "within 250 m", 0.15, 0.01),
            Level(f"{_KM} <= 1", "within 1 km", 0.1, 0.05),
            Level("ELSE", "further apart", 0.05, 0.939),
        ),
    ),
    Comparison(
        "place_name",
        "name",
        _null("name"),
        (
            Level("l.name = r.name", "same", 0.6, 0.002),
            Level("jaro_winkler_similarity(l.name, r.name) >= 0.9", "similar", 0.15, 0.01),
            Level(
                "contains(l.name, r.name) OR contains(r.name, l.name)",
                "one contains the other",
                0.1,
                0.003,
            ),
            Level("ELSE", "different", 0.15, 0.985),
        ),
    ),
    Comparison(
        "kind",
        "kind",
        _null("kind"),
        (
            Level("l.kind = r.kind", "same", 0.9, 0.2),
            Level("ELSE", "different", 0.1, 0.8),
        ),
    ),
)

#: Which pairs of people are compared at all (any rule admits a pair).  Each rule is
#: a conjunction of equal columns, narrow enough for a million records.
PERSON_BLOCKING: tuple[tuple[str, ...], ...] = (
    ("dob_key", "surname"),
    ("first_key", "surname"),
    ("dob_key", "first_key"),
    ("first_key", "surname_initial", "birth_year"),
    ("surname", "postcode"),
    ("first_key", "postcode"),
    ("nhs_number",),
    ("upn",),
    ("pnc_id",),
    ("phone",),
    ("email",),
)

#: Which pairs of locations are compared.
LOCATION_BLOCKING: tuple[tuple[str, ...], ...] = (
    ("uprn",),
    ("address",),
    ("postcode", "kind"),
    ("name", "kind"),
    ("grid_cell",),
)

#: Blocking rules of the expectation-maximisation passes: each leaves the fields it
#: blocks on out of its estimates, so two passes together estimate every field.
PERSON_TRAINING_BLOCKS: tuple[tuple[str, ...], ...] = (("dob_key",), ("first_key", "surname"))
LOCATION_TRAINING_BLOCKS: tuple[tuple[str, ...], ...] = (("postcode",), ("name", "kind"))

#: Rules that admit almost no false matches, for estimating how many pairs match.
PERSON_CERTAIN: tuple[tuple[str, ...], ...] = (
    ("name", "date_of_birth"),
    ("nhs_number",),
    ("upn",),
    ("pnc_id",),
)
LOCATION_CERTAIN: tuple[tuple[str, ...], ...] = (("uprn",), ("address", "postcode"))
