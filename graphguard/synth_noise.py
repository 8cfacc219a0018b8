"""The noise of real agency extracts, drawn from one random stream.

Each function takes the true value and a seeded :class:`random.Random` and returns
the value as one agency's record might hold it: a nickname, a typo, a date of birth
read the other way, a postcode or phone number in another format, a place under
another name.  Used by :mod:`graphguard.synth_agencies`; all values are invented
(NHS numbers from the 999 range, never issued to patients).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

__all__ = [
    "MONIKERS",
    "nhs_number",
    "nhs_format",
    "uprn",
    "noisy_date",
    "postcode_format",
    "phone_format",
    "nickname",
    "typo",
    "place_name",
]

# Nicknames both ways; gendered short forms pick by the record's gender.
NICKNAMES = {
    "Jessica": "Jess", "Thomas": "Tom", "Rebecca": "Becky", "Natalie": "Nat",
    "Joanne": "Jo", "Nicola": "Nicky", "Andrew": "Andy", "Robert": "Rob", "Richard": "Rich",
    "Steven": "Steve", "Daniel": "Dan", "Benjamin": "Ben", "Oliver": "Olly",
    "Olivia": "Liv", "Samantha": "Sam", "Samuel": "Sam", "Alexander": "Alex",
    "Victoria": "Vicky", "Amanda": "Mandy", "Zachary": "Zak", "Matthew": "Matt",
    "Christopher": "Chris", "Elizabeth": "Liz", "Katherine": "Kate", "James": "Jamie",
    "Callum": "Cal", "Tomasz": "Tomek", "Theodore": "Theo", "Rosalind": "Rosie",
    "Jess": "Jessica", "Tom": "Thomas", "Ben": "Benjamin", "Dan": "Daniel", "Jo": "Joanne",
    "Vicky": "Victoria", "Zak": "Zachary", "Jamie": "James", "Olly": "Oliver",
    "Theo": "Theodore", "Matt": "Matthew", "Chris": "Christopher",
}  # fmt: skip
GENDERED = {"Sam": ("Samantha", "Samuel"), "Alex": ("Alexandra", "Alexander")}
MONIKERS = ("Tiny", "Ghost", "Skiz", "Flash", "Lil T", "Bandz", "Smokey", "Kidz", "Nano")
STREET_WORDS = (("Road", "Rd"), ("Street", "St"), ("Lane", "Ln"), ("Avenue", "Ave"))


def nhs_number(rng: random.Random) -> str:
    """A valid NHS number in the 999 range, never issued to a patient."""
    while True:
        digits = "999" + f"{rng.randrange(10**6):06d}"
        total = sum(int(d) * w for d, w in zip(digits, range(10, 1, -1), strict=True))
        check = 11 - total % 11
        if check != 10:
            return digits + str(0 if check == 11 else check)


def nhs_format(number: str, rng: random.Random) -> str:
    """An NHS number as typed: ``999 123 4567`` half the time, else the ten digits."""
    return f"{number[:3]} {number[3:6]} {number[6:]}" if rng.random() < 0.5 else number


def uprn(true_location_id: str) -> str:
    """An invented 12-digit UPRN, the same for a place in every source that records one."""
    digits = "".join(c for c in true_location_id if c.isdigit())
    return "99" + digits.zfill(10)[-10:]


def noisy_date(value: str, rng: random.Random, *, missing: float) -> str:
    """A date of birth as a record holds it: missing, day and month transposed, a digit off.

    >>> noisy_date("2010-03-04", random.Random(1), missing=0.0) in (
    ...     "2010-03-04", "2010-04-03", "2010-03-03", "2010-03-05", "2010-02-22", "2010-03-14")
    True
    """
    if not value:
        return ""
    draw = rng.random()
    if draw < missing:
        return ""
    year, month, day = int(value[:4]), int(value[5:7]), int(value[8:10])
    if draw < missing + 0.04 and day <= 12 and day != month:
        return date(year, day, month).isoformat()  # day and month read the other way
    if draw < missing + 0.08:
        shifted = date(year, month, day) + timedelta(days=rng.choice((-10, -1, 1, 10)))
        if shifted.year == year:
            return shifted.isoformat()  # one digit off
    return value


def postcode_format(postcode: str, rng: random.Random) -> str:
    """A postcode in one of the ways agencies type it: ``GG1 2AB``, ``gg12ab``, …"""
    if not postcode:
        return ""
    return rng.choice((postcode, postcode.lower(), postcode.replace(" ", ""),
                       postcode.replace(" ", "").lower()))  # fmt: skip


def phone_format(phone: str, rng: random.Random) -> str:
    """A UK mobile number (``07700900123``) as typed: spaces, ``+44``, ``+44 (0)``."""
    rest = phone[1:]
    return rng.choice(
        (phone, f"{phone[:5]} {phone[5:]}", f"+44 {rest[:4]} {rest[4:]}", f"+44 (0){rest}")
    )


def nickname(first: str, gender: str, rng: random.Random) -> str:
    """The other form of a first name (Jess → Jessica, Tom → Thomas), or ``""``."""
    if first in GENDERED:
        female, male = GENDERED[first]
        return (
            female
            if gender == "female"
            else male
            if gender == "male"
            else rng.choice((female, male))
        )
    return NICKNAMES.get(first, "")


def typo(word: str, rng: random.Random) -> str:
    """One slip of the keyboard, never in the first letter."""
    if len(word) < 4:
        return word
    at = 1 + rng.randrange(len(word) - 2)
    kind = rng.randrange(3)
    if kind == 0:  # adjacent letters swapped
        return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    if kind == 1:  # a letter dropped
        return word[:at] + word[at + 1 :]
    return word[:at] + rng.choice("aeinorst") + word[at + 1 :]  # a letter mistyped


def place_name(name: str, rng: random.Random) -> str:
    """The same place as another agency writes it: abbreviations, flat numbers, case."""
    text = name
    for long, short in STREET_WORDS:
        text = text.replace(long, short)
    if text.startswith("Flat ") and ", " in text:
        number, _, building = text[5:].partition(", ")
        text = f"{number} {building}"
    if text.startswith("The ") and rng.random() < 0.5:
        text = text[4:]
    return text.upper() if rng.random() < 0.3 else text
