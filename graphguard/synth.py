"""Seeded synthetic towns: a whole local area in the input format, with the answers.

:func:`write_town` writes a dataset an analyst can follow — schools, households, peer
groups, busy shops and parks, youth workers and teachers — with exploitation networks
planted in it, decoys that look suspicious to a naive analysis but are not, and
looked-after children placed near a network's haunt.  ``truth.json`` beside the CSV
files says what was planted where, so tests and benchmarks can check that analysis
finds the networks and is not fooled by the decoys.

Everything follows from the seed: the same ``(young_people, seed, end)`` gives
byte-identical files, on any machine and any day.  Rows are streamed to disk as they
are made, so a town of 100,000 young people (about a million links) needs memory only
for lists of ids, never for the links.

Everything here is invented.  Names are drawn from short lists of common names,
postcodes use the non-existent ``GG`` area, and gender is drawn independently of
every role, because it must never matter to any score.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import random
from array import array
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from graphguard.errors import UsageError
from graphguard.files import atomic_folder

__all__ = [
    "MIN_YOUNG_PEOPLE",
    "PlantedNetwork",
    "TownTruth",
    "read_truth",
    "write_town",
]

#: The smallest town :func:`write_town` makes: enough young people for two networks
#: and one of each decoy without them sharing victims.
MIN_YOUNG_PEOPLE = 100

_PEOPLE_COLUMNS = (
    "person_id", "role", "name", "date_of_birth", "gender", "looked_after", "placement_area",
    "missing_episodes", "excluded_from_school", "suspected", "professional", "area",
)  # fmt: skip
_LOCATION_COLUMNS = ("location_id", "kind", "name", "postcode", "latitude", "longitude", "area")
_VEHICLE_COLUMNS = (
    "vehicle_id", "registration", "make", "model", "colour", "private_hire", "operator",
)  # fmt: skip
_LINK_COLUMNS = (
    "link_id", "source_id", "target_id", "type", "first_seen", "last_seen", "count", "agency",
    "reference", "source_grade", "intel_grade", "handling", "protective", "notes",
)  # fmt: skip

_WARDS = (
    "Northfield", "Riverside", "Eastmoor", "Westgate", "Old Town", "Southbank", "Marsh End",
    "Hillcrest", "Kingsway", "Priory",
)  # fmt: skip
_FIRST_NAMES = (
    "Alex", "Amir", "Amy", "Ava", "Ben", "Callum", "Chloe", "Daniel", "Ella", "Ethan", "Freya",
    "Grace", "Harley", "Harry", "Isla", "Jack", "Jade", "Jamie", "Jordan", "Kai", "Kayla", "Leah",
    "Leo", "Liam", "Lily", "Logan", "Maya", "Mia", "Noah", "Oliver", "Olivia", "Owen", "Poppy",
    "Riley", "Ruby", "Ryan", "Sam", "Sophie", "Taylor", "Tyler", "Zain", "Zara", "Ewa", "Kacper",
    "Tomasz", "Aisha", "Bilal", "Hassan", "Niamh", "Precious", "Tendai", "Dylan", "Erin", "Lewis",
)  # fmt: skip
_SURNAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Wilson", "Walker", "Robinson", "Wright", "Thompson",
    "White", "Hughes", "Edwards", "Green", "Hall", "Wood", "Harris", "Clarke", "Jackson", "Turner",
    "Hill", "Moore", "Cooper", "Ward", "Morris", "King", "Baker", "Patel", "Khan", "Ahmed", "Ali",
    "Nowak", "Kowalski", "Murphy", "Kelly", "Okafor", "Mensah", "Dube", "Shaw", "Marshall",
    "Atkinson", "Dawson", "Hewitt", "Pearson", "Hardy", "Booth",
)  # fmt: skip
# Drawn independently of role and of every planted structure (gender must never matter).
_GENDERS = ("female",) * 47 + ("male",) * 47 + ("non-binary",) * 3 + ("not stated",) * 3
_SCHOOL_STYLES = ("High School", "Community College", "Secondary School", "School")
_SHOPS = (
    "Costcutter", "Spar", "Premier Stores", "Nisa Local", "One Stop", "Food & Wine",
    "Mini Market", "Vape Shop", "Phone Repairs", "Londis",
)  # fmt: skip
_TAKEAWAYS = (
    "Chicken Spot", "Kebab House", "Golden Fry", "Noodle Bar", "Pizza Place", "Peri Grill",
    "Curry Corner", "Fish Bar",
)  # fmt: skip
_HOTELS = ("Station Hotel", "Riverside Lodge", "Budget Inn", "Park View Hotel", "City Rooms")
_PUBS = ("The Crown", "The Anchor", "The Ship", "The Plough", "The Bell", "The Mariners")
_STREETS = ("Church Street", "High Street", "Victoria Road", "Mill Lane", "Station Road")
_COURTS = ("Priory Court", "Kestrel House", "Anchor Court", "Beacon Heights", "Elm Court")
_OPERATORS = ("Castle Cars", "City Private Hire", "Eastmoor Taxis", "Star Cabs", "A1 Cars")
_SCHOOL_RUN_OPERATORS = ("County Travel", "Safe Journeys School Transport")
_MAKES = (
    ("Ford", "Fiesta"), ("Vauxhall", "Corsa"), ("Volkswagen", "Golf"), ("Toyota", "Prius"),
    ("Skoda", "Octavia"), ("BMW", "3 Series"), ("Audi", "A3"), ("Nissan", "Qashqai"),
    ("Kia", "Sportage"), ("Mercedes-Benz", "C-Class"),
)  # fmt: skip
_COLOURS = ("black", "white", "silver", "grey", "blue", "red")

# The town sits in a box around (53.74, -0.33); the docks run along its southern edge.
_LATITUDES = (53.700, 53.780)
_LONGITUDES = (-0.440, -0.220)
_DOCK_LATITUDES = (53.736, 53.741)
_METRES_PER_DEGREE = 111_320.0

_ID_SCRAMBLE = 387_493  # odd and not a multiple of 5, so a bijection modulo any 10**width
_PROGRESS_EVERY = 10_000
_RECENT_DAYS = 548  # the planted networks are active in the last 18 months

_T = TypeVar("_T")
Grading = tuple[str, str, str]
Record = tuple[str, str, Grading]
Span = tuple[str, str]

_UNGRADED: Grading = ("", "", "")
_ANPR: Grading = ("1", "A", "P")
_UNDATED: Span = ("", "")


def _weighted(table: Sequence[tuple[Any, int]]) -> tuple[Any, ...]:
    """Expand ``(value, weight)`` pairs into a tuple that ``rng.choice`` draws from by weight."""
    return tuple(value for value, weight in table for _ in range(weight))


# Police intelligence: mostly untested sources, B/C assessments, some conditions on handling.
_POLICE_GRADINGS: tuple[Grading, ...] = _weighted(
    [
        ((source, intel, handling), ws * wi * wh)
        for source, ws in (("1", 3), ("2", 6), ("3", 1))
        for intel, wi in (("A", 2), ("B", 6), ("C", 6), ("D", 2), ("E", 1))
        for handling, wh in (("P", 6), ("C", 1))
    ]
)
# Partner agencies often record no grading, or grade what they saw themselves 1/A.
_PARTNER_GRADINGS: tuple[Grading, ...] = _weighted(
    [(_UNGRADED, 11), (("1", "A", "P"), 7), (("2", "B", "P"), 2), (("1", "A", "C"), 1)]
)
_ALLEGATION_GRADINGS: tuple[Grading, ...] = _weighted(
    [
        ((source, intel, handling), wh)
        for source in ("1", "2")
        for intel in ("B", "C")
        for handling, wh in (("P", 4), ("C", 1))
    ]
)
_RETURN_INTERVIEW_GRADINGS: tuple[Grading, ...] = _weighted(
    [(("2", "B", "P"), 3), (("1", "B", "P"), 1), (_UNGRADED, 2)]
)
_PEER_AGENCIES = _weighted(
    [("education", 4), ("youth_service", 3), ("police", 2), ("voluntary", 1)]
)
_CONTACT_AGENCIES = _weighted([("police", 5), ("social_care", 3), ("youth_service", 2)])
_SIGHTING_AGENCIES = _weighted(
    [("police", 7), ("youth_service", 6), ("voluntary", 3), ("other", 2), ("education", 2)]
)
_FAMILY_AGENCIES = _weighted([("social_care", 5), ("education", 3), ("health", 2)])
_HOME_AGENCIES = _weighted([("housing", 7), ("social_care", 2), ("health", 1)])
_CASE_NOTE_AGENCIES = frozenset(
    {"social_care", "education", "youth_service", "health", "voluntary"}
)


# --------------------------------------------------------------------------- the truth


@dataclass
class PlantedNetwork:
    """One exploitation network planted in a town.

    Attributes
    ----------
    id : str
        ``N01``, ``N02``, … in the order planted.
    style : str
        ``"criminal"`` (county lines: a flat, a car, missing episodes) or ``"sexual"``
        (a takeaway, a hotel, a private-hire taxi, a "boyfriend").
    adults : list of str
        Every adult of the network, the suspected one first.
    unflagged_adults : list of str
        Adults of the network *not* flagged ``suspected=true`` but structurally central
        (the driver, always): what analysis should surface that a flag list misses.
    locations, vehicles : list of str
        The network's places and vehicles (a flat or takeaway and hotel; a car or taxi).
    victims : list of str
        The young people it exploits.
    """

    id: str
    style: str
    adults: list[str] = field(default_factory=list)
    unflagged_adults: list[str] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)
    vehicles: list[str] = field(default_factory=list)
    victims: list[str] = field(default_factory=list)


@dataclass
class TownTruth:
    """What :func:`write_town` planted, written as ``truth.json`` beside the dataset.

    Attributes
    ----------
    seed, young_people : int
        The arguments the town was made from.
    networks : list of PlantedNetwork
        The planted exploitation networks.
    youth_workers : list of str
        Professional adults who each support 30–40 young people: protective hubs.
    large_family_parents : list of str
        Decoy: a parent of 6–8 young people, every link protective.
    school_run_drivers, school_run_vehicles : list of str
        Decoy: a private-hire school-run taxi with 8–15 young passengers, all recorded
        by education, graded 1/A/P, no allegations.
    malicious_allegation_adults : list of str
        Decoy: an adult with one allegation graded 3/E/C and nothing else suspicious.
    historic_offenders : list of str
        Decoy: a suspected adult whose links are all 6–8 years old.
    peer_groups : list of list of str
        The planted peer groups: every young person in exactly one, 5–12 pupils of one
        school who associate and keep in touch (the last group of a school may be
        smaller; a group of one has no peer links).
    placements : list of dict
        Looked-after young people placed out of area in a care home near a dock that a
        criminal network frequents: ``young_person``, ``care_home``, ``dock`` and
        ``protective_links`` (the link ids of the family and school links that a
        relocation strains).
    counts : dict of str to int
        Rows written to each file: ``people``, ``locations``, ``vehicles``, ``links``.
    end : str
        The last day of the town's records (ISO date); no date is after it.
    """

    seed: int
    young_people: int
    networks: list[PlantedNetwork] = field(default_factory=list)
    youth_workers: list[str] = field(default_factory=list)
    large_family_parents: list[str] = field(default_factory=list)
    school_run_drivers: list[str] = field(default_factory=list)
    school_run_vehicles: list[str] = field(default_factory=list)
    malicious_allegation_adults: list[str] = field(default_factory=list)
    historic_offenders: list[str] = field(default_factory=list)
    peer_groups: list[list[str]] = field(default_factory=list)
    placements: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    end: str = ""

    def to_json(self) -> str:
        """The truth as indented JSON, fields in a fixed order."""
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> TownTruth:
        """Parse what :meth:`to_json` wrote."""
        data = json.loads(text)
        data["networks"] = [PlantedNetwork(**n) for n in data.get("networks", [])]
        return cls(**data)


def read_truth(path: str | Path) -> TownTruth:
    """Read ``truth.json`` from a town folder (or the file itself)."""
    path = Path(path)
    if path.is_dir():
        path = path / "truth.json"
    return TownTruth.from_json(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- writing rows


class _Ids:
    """Ids of one kind: a prefix and a zero-padded number, scrambled so order means nothing."""

    def __init__(self, prefix: str, capacity: int) -> None:
        self.prefix = prefix
        self.width = max(6, len(str(capacity)))
        self.modulus = 10**self.width
        self.issued = 0

    def next(self) -> str:
        if self.issued >= self.modulus:  # pragma: no cover - capacity is a safe upper bound
            raise RuntimeError(f"more than {self.modulus} {self.prefix} ids")
        number = (self.issued * _ID_SCRAMBLE + 1) % self.modulus
        self.issued += 1
        return f"{self.prefix}{number:0{self.width}d}"


#: The files a town folder holds (graphguard.files.atomic_folder replaces them as one).
_OWNED = ("people.csv", "locations.csv", "vehicles.csv", "links.csv", "truth.json")


class _Files:
    """The four CSV files of a town, each written a row at a time, and the rows counted."""

    def __init__(self, out: Path, stack: ExitStack) -> None:
        def opened(name: str, columns: Sequence[str]) -> Callable[[Sequence[object]], Any]:
            handle = stack.enter_context((out / name).open("w", encoding="utf-8", newline=""))
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            return writer.writerow

        self.person = opened("people.csv", _PEOPLE_COLUMNS)
        self.location = opened("locations.csv", _LOCATION_COLUMNS)
        self.vehicle = opened("vehicles.csv", _VEHICLE_COLUMNS)
        self.link = opened("links.csv", _LINK_COLUMNS)


# --------------------------------------------------------------------------- the town

# What planning decided about each young person (one byte each).
_ORDINARY, _PLACED, _LARGE_FAMILY, _USED = 0, 1, 2, 3


@dataclass(slots=True)
class _Household:
    kind: str  # "ordinary", "placement" (a grandparent) or "large" (the decoy parent)
    first: int  # index of its first young person; its young people are consecutive
    size: int
    area: int


class _Town:
    """One town being written: the random stream, the files, and the id lists per group."""

    def __init__(
        self,
        files: _Files,
        young_people: int,
        seed: int,
        end: date,
        progress: Callable[[int], None] | None,
    ) -> None:
        self.files = files
        self.n = young_people
        self.rng = random.Random(seed)
        self.random = self.rng.random
        self.end = end
        self.end_day = end.toordinal()
        self.progress = progress
        self.truth = TownTruth(seed=seed, young_people=young_people, end=end.isoformat())
        self.counts = {"people": 0, "locations": 0, "vehicles": 0, "links": 0}
        capacity = 4 * young_people + 1000
        self.yp_ids = _Ids("YP", young_people)
        self.adult_ids = _Ids("AD", capacity)
        self.location_ids = _Ids("LO", capacity)
        self.vehicle_ids = _Ids("VE", capacity)
        self._days: dict[int, str] = {}
        self._references: dict[str, int] = {}

    # -- draws ----------------------------------------------------------------
    # Cheaper than ``Random.choice`` and ``randint`` (which draw bits until unbiased); the
    # bias of scaling one float is far below anything a synthetic town could show.
    def pick(self, options: Sequence[_T]) -> _T:
        return options[int(self.random() * len(options))]

    def between(self, low: int, high: int) -> int:
        return low + int(self.random() * (high - low + 1))

    def below(self, stop: int) -> int:
        return int(self.random() * stop)

    # -- dates ----------------------------------------------------------------
    def day(self, ordinal: int) -> str:
        text = self._days.get(ordinal)
        if text is None:
            text = self._days[ordinal] = date.fromordinal(ordinal).isoformat()
        return text

    def years_ago(self, years: int) -> int:
        try:
            return self.end.replace(year=self.end.year - years).toordinal()
        except ValueError:  # 29 February
            return self.end.replace(year=self.end.year - years, day=28).toordinal()

    def span(self, start: int, stop: int | None = None) -> Span:
        """A first and last seen date between two days (ordinals), in order."""
        stop = self.end_day if stop is None else stop
        first = self.between(start, stop)
        return self.day(first), self.day(self.between(first, stop))

    def ordinary(self) -> Span:
        """Dates of an everyday record: some time in the last four years."""
        return self.span(self.end_day - 1460)

    def recent(self) -> Span:
        """Dates of a planted network's record: the last 18 months."""
        return self.span(self.end_day - _RECENT_DAYS)

    def born(self, youngest: int, oldest: int) -> str:
        """A date of birth for someone ``youngest``–``oldest`` years old on the end day."""
        return self.day(self.between(self.years_ago(oldest + 1) + 1, self.years_ago(youngest)))

    # -- provenance -----------------------------------------------------------
    def reference(self, prefix: str, span: Span) -> str:
        number = self._references.get(prefix, 0) + 1
        self._references[prefix] = number
        year = span[0][:4] or str(self.end.year)
        return f"{prefix}-{year}-{number:05d}"

    def police(self, span: Span) -> Record:
        return "police", self.reference("INT", span), self.pick(_POLICE_GRADINGS)

    def anpr(self, span: Span) -> Record:
        return "police", self.reference("ANPR", span), _ANPR

    def allegation(self, span: Span) -> Record:
        return "police", self.reference("INT", span), self.pick(_ALLEGATION_GRADINGS)

    def return_interview(self, span: Span) -> Record:
        grading = self.pick(_RETURN_INTERVIEW_GRADINGS)
        return "social_care", self.reference("RHI", span), grading

    def partner(self, agency: str, span: Span) -> Record:
        """A record by a partner agency: a case note half the time, often ungraded."""
        if agency == "police":
            return self.police(span)
        note = agency in _CASE_NOTE_AGENCIES and self.random() < 0.5
        reference = self.reference("CN", span) if note else ""
        return agency, reference, self.pick(_PARTNER_GRADINGS)

    # -- rows -----------------------------------------------------------------
    def link(
        self,
        source: str,
        target: str,
        link_type: str,
        span: Span,
        record: Record,
        count: int | str = "",
        protective: str = "",
        notes: str = "",
    ) -> str:
        """Write one link row and return its id."""
        number = self.counts["links"] = self.counts["links"] + 1
        link_id = f"L{number:07d}"
        agency, reference, (source_grade, intel_grade, handling) = record
        self.files.link(
            (link_id, source, target, link_type, span[0], span[1], count, agency, reference,
             source_grade, intel_grade, handling, protective, notes)
        )  # fmt: skip
        if self.progress is not None and number % _PROGRESS_EVERY == 0:
            self.progress(number)
        return link_id

    def name(self, surname: str | None = None) -> str:
        return f"{self.pick(_FIRST_NAMES)} {surname or self.pick(_SURNAMES)}"

    def adult(
        self,
        area: int,
        ages: tuple[int, int],
        *,
        surname: str | None = None,
        suspected: bool = False,
        professional: bool = False,
    ) -> str:
        person_id = self.adult_ids.next()
        self.files.person(
            (person_id, "adult", self.name(surname), self.born(*ages), self.pick(_GENDERS),
             "", "", "", "", "true" if suspected else "", "true" if professional else "",
             self.areas[area])
        )  # fmt: skip
        self.counts["people"] += 1
        return person_id

    def location(
        self, kind: str, name: str, area: int, where: tuple[float, float] | None = None
    ) -> str:
        """Write a location near its ward's centre (or at ``where``) and return its id."""
        location_id = self.location_ids.next()
        latitude, longitude = where or self.near(area)
        postcode = (
            f"GG{area + 1} {self.between(1, 9)}"
            f"{self.pick('ABDEFGHJLNPQRSTUWXYZ')}{self.pick('ABDEFGHJLNPQRSTUWXYZ')}"
        )
        self.files.location(
            (location_id, kind, name, postcode, f"{latitude:.6f}", f"{longitude:.6f}",
             self.areas[area])
        )  # fmt: skip
        self.counts["locations"] += 1
        return location_id

    def vehicle(self, *, private_hire: bool, operator: str = "") -> str:
        vehicle_id = self.vehicle_ids.next()
        letters = "ABCDEFGHJKLMNOPRSTUVWXY"
        registration = f"{self.pick(letters)}{self.pick(letters)}{self.between(51, 75)} " + "".join(
            self.pick(letters) for _ in range(3)
        )
        make, model = self.pick(_MAKES)
        self.files.vehicle(
            (vehicle_id, registration, make, model, self.pick(_COLOURS),
             "true" if private_hire else "false", operator)
        )  # fmt: skip
        self.counts["vehicles"] += 1
        return vehicle_id

    # -- geography ------------------------------------------------------------
    def near(self, area: int, spread: float = 1.0) -> tuple[float, float]:
        latitude, longitude = self.centres[area]
        latitude += self.rng.uniform(-0.008, 0.008) * spread
        longitude += self.rng.uniform(-0.014, 0.014) * spread
        return (
            min(max(latitude, _LATITUDES[0]), _LATITUDES[1]),
            min(max(longitude, _LONGITUDES[0]), _LONGITUDES[1]),
        )

    def metres_from(
        self, point: tuple[float, float], low: float, high: float
    ) -> tuple[float, float]:
        """A point ``low``–``high`` metres from ``point`` in a random direction."""
        distance = self.rng.uniform(low, high)
        bearing = self.rng.uniform(0.0, 2.0 * math.pi)
        latitude = point[0] + distance * math.cos(bearing) / _METRES_PER_DEGREE
        longitude = point[1] + distance * math.sin(bearing) / (
            _METRES_PER_DEGREE * math.cos(math.radians(point[0]))
        )
        return latitude, longitude

    def build_geography(self) -> None:
        rng, n = self.rng, self.n
        self.areas = rng.sample(_WARDS, min(8, 4 + n // 2500))
        self.centres = [
            (rng.uniform(53.744, 53.772), rng.uniform(-0.42, -0.24)) for _ in self.areas
        ]
        areas = range(len(self.areas))

        # Schools: secondaries spread over the wards, one academy, one pupil referral unit.
        self.schools: list[str] = []
        self.school_area: list[int] = []
        for k in range(max(1, n // 1000)):
            area = k % len(self.areas)
            style = _SCHOOL_STYLES[(k // len(self.areas)) % len(_SCHOOL_STYLES)]
            self.schools.append(self.location("school", f"{self.areas[area]} {style}", area))
            self.school_area.append(area)
        academy_area = self.below(len(self.areas))
        self.schools.append(self.location("school", "Humber Academy", academy_area))
        self.school_area.append(academy_area)
        self.mainstream = len(self.schools)
        self.pru = len(self.schools)
        pru_area = self.below(len(self.areas))
        self.schools.append(self.location("school", "Pupil Referral Unit", pru_area))
        self.school_area.append(pru_area)
        self.schools_by_area: list[list[int]] = [[] for _ in areas]
        for index in range(self.mainstream):
            self.schools_by_area[self.school_area[index]].append(index)

        # Busy places: where many young people are seen, so being seen there means little.
        # Each ward's list repeats its places by weight; the town-wide list is every ward's.
        self.busy_by_area: list[list[str]] = [[] for _ in areas]
        self.shops: list[tuple[str, int]] = []
        self.parks: list[tuple[str, int]] = []
        self.takeaways: list[tuple[str, int]] = []
        for k in range(max(2 * len(self.areas), n // 250)):
            area = k % len(self.areas)
            shop = self.location("shop", f"{self.pick(_SHOPS)}, {self.areas[area]}", area)
            self.shops.append((shop, area))
            self.busy_by_area[area].extend((shop, shop, shop))
        for k in range(max(len(self.areas), n // 800)):
            area = k % len(self.areas)
            park = self.location("park", f"{self.areas[area]} Park", area, self.near(area, 1.5))
            self.parks.append((park, area))
            self.busy_by_area[area].extend((park, park))
        for k in range(max(len(self.areas), n // 1000)):
            area = k % len(self.areas)
            street = self.location("street", f"{self.pick(_STREETS)}, {self.areas[area]}", area)
            self.busy_by_area[area].append(street)
        for k in range(max(2, n // 1500)):
            area = k % len(self.areas)
            takeaway = self.location("takeaway", self.pick(_TAKEAWAYS), area)
            self.takeaways.append((takeaway, area))
            self.busy_by_area[area].extend((takeaway, takeaway))
        self.town_busy: list[str] = []
        self.hubs: list[str] = []
        for k in range(max(1, n // 40_000)):
            area = self.below(len(self.areas))
            name = "Central Interchange" if k == 0 else f"{self.areas[area]} Bus Station"
            hub = self.location("transport_hub", name, area)
            self.hubs.append(hub)
            self.town_busy.extend((hub, hub, hub, hub))
        for k in range(max(1, n // 5000)):
            area = k % len(self.areas)
            self.town_busy.append(self.location("car_park", "Multi-storey car park", area))
        self.pubs: list[tuple[str, int]] = []
        for k in range(max(2, n // 1500)):
            area = k % len(self.areas)
            self.pubs.append((self.location("licensed_premises", self.pick(_PUBS), area), area))
        self.hotels: list[tuple[str, int]] = []
        for k in range(max(1, n // 5000)):
            area = k % len(self.areas)
            self.hotels.append((self.location("hotel", self.pick(_HOTELS), area), area))
        self.youth_centres = [
            self.location("other", f"{self.areas[a]} Youth Centre", a) for a in areas
        ]
        self.care_homes = [
            self.location("care_home", f"{self.areas[k % len(self.areas)]} Children's Home",
                          k % len(self.areas))
            for k in range(max(1, n // 2000))
        ]  # fmt: skip

        # Docks, each with a children's home a few hundred metres away, for placements.
        self.docks: list[str] = []
        self.placement_homes: list[str] = []
        for k in range(max(1, round(n / 500))):
            area = self.below(len(self.areas))
            quay = (rng.uniform(*_DOCK_LATITUDES), rng.uniform(-0.40, -0.26))
            self.docks.append(self.location("dock", f"Dock {k + 1} (Alexandra Quay)", area, quay))
            home = self.metres_from(quay, 120.0, 280.0)
            self.placement_homes.append(self.location("care_home", "Quayside House", area, home))

    # -- planning who is who --------------------------------------------------
    def plan_young_people(self) -> None:
        """Decide households, victims, schools and flags before any person row is written."""
        n = self.n
        n_areas = len(self.areas)
        self.households: list[_Household] = []
        first = 0

        def household(kind: str, size: int) -> None:
            nonlocal first
            self.households.append(_Household(kind, first, size, self.below(n_areas)))
            first += size

        for _ in self.docks:
            household("placement", 1)
        for _ in range(max(1, round(n / 300))):
            household("large", self.between(6, 8))
        while first < n:
            household("ordinary", min(n - first, self.pick((1, 1, 2, 2, 2, 3))))

        self.role = bytearray(n)
        self.area_of = bytearray(n)
        self.yp_by_area: list[list[int]] = [[] for _ in range(n_areas)]
        for home in self.households:
            marker = {"placement": _PLACED, "large": _LARGE_FAMILY}.get(home.kind, _ORDINARY)
            for index in range(home.first, home.first + home.size):
                self.role[index] = marker
                self.area_of[index] = home.area
                self.yp_by_area[home.area].append(index)

        # Everyday records: a few excluded, looked after or missing who are not victims.
        self.missing = array("H", bytes(2 * n))
        self.looked_after = bytearray(n)
        self.excluded = bytearray(n)
        for index in range(n):
            if self.role[index] == _ORDINARY:
                draw = self.random()
                if draw < 0.015:
                    self.excluded[index] = 1
                elif draw < 0.025:
                    self.looked_after[index] = 1
                    self.missing[index] = self.between(0, 2)
                elif draw < 0.055:
                    self.missing[index] = self.between(1, 2)

        # Victims of each planted network: mostly from the network's own ward.
        self.network_plans: list[tuple[str, int, list[int]]] = []
        for k in range(max(2, round(n / 100))):
            style = "criminal" if k % 2 == 0 else "sexual"
            area = self.below(n_areas)
            victims = [self.free_young_person(area) for _ in range(self.between(4, 8))]
            for index in victims:
                self.missing[index] = self.between(1, 9 if style == "criminal" else 6)
                self.looked_after[index] = self.random() < 0.35
                self.excluded[index] = self.random() < (0.4 if style == "criminal" else 0.2)
            self.network_plans.append((style, area, victims))

        placed = [h.first for h in self.households if h.kind == "placement"]
        for index in placed:
            self.looked_after[index] = 1

        # Schools: siblings share one in their ward; excluded pupils attend the PRU.
        self.school_of = array("H", bytes(2 * n))
        for home in self.households:
            options = self.schools_by_area[home.area] or list(range(self.mainstream))
            school = self.pick(options)
            if self.random() < 0.15:  # the academy draws from the whole town
                school = self.mainstream - 1
            for index in range(home.first, home.first + home.size):
                self.school_of[index] = self.pru if self.excluded[index] else school
        self.pupils: list[list[int]] = [[] for _ in self.schools]
        for index in range(n):
            self.pupils[self.school_of[index]].append(index)

    def free_young_person(self, area: int) -> int:
        """An ordinary young person not yet used by any plant, preferably from ``area``."""
        pool = self.yp_by_area[area] if self.random() < 0.75 and self.yp_by_area[area] else None
        for _ in range(60):
            index = self.pick(pool) if pool else self.below(self.n)
            if self.role[index] == _ORDINARY:
                self.role[index] = _USED
                return index
        for index in range(self.n):  # pragma: no cover - only when almost no one is free
            if self.role[index] == _ORDINARY:
                self.role[index] = _USED
                return index
        raise UsageError("too few young people for the planted networks")  # pragma: no cover

    def yp(self, index: int) -> str:
        return self.yp_names[index]

    # -- households, schools, peers --------------------------------------------
    def write_households(self) -> None:
        self.yp_names = [self.yp_ids.next() for _ in range(self.n)]
        self.parents_by_area: list[list[str]] = [[] for _ in self.areas]
        placement_homes = iter(zip(self.docks, self.placement_homes, strict=True))
        for home in self.households:
            area = home.area
            surname = self.pick(_SURNAMES)
            home_id = self.location("home", f"{self.between(1, 180)} {self.areas[area]} Road", area)
            if home.kind == "placement":
                parents = [self.adult(area, (58, 80), surname=surname)]
            elif home.kind == "large":
                parents = [self.adult(area, (32, 50), surname=surname)]
                self.truth.large_family_parents.append(parents[0])
            else:
                parents = [self.adult(area, (28, 55), surname=surname)]
                if self.random() < 0.55:
                    parents.append(self.adult(area, (28, 58)))
            for parent in parents:
                self.link(parent, home_id, "LIVES_AT", self.ordinary(), self.home_record())
                self.parents_by_area[area].append(parent)
            if home.kind == "ordinary" and self.random() < 0.25:
                car = self.vehicle(private_hire=False)
                self.link(parents[0], car, "KEEPER_OF", self.ordinary(), ("other", "", _UNGRADED))
            previous = ""
            for index in range(home.first, home.first + home.size):
                young_person = self.write_young_person(index, surname)
                protective_links = []
                for parent in parents:
                    agency = self.pick(_FAMILY_AGENCIES)
                    span = self.ordinary() if self.random() < 0.7 else _UNDATED
                    protective_links.append(
                        self.link(parent, young_person, "FAMILY_OF", span,
                                  self.partner(agency, span), protective="true")
                    )  # fmt: skip
                if previous:
                    span = _UNDATED
                    record = self.partner(self.pick(_FAMILY_AGENCIES), span)
                    self.link(previous, young_person, "FAMILY_OF", span, record)
                previous = young_person
                school = self.school_of[index]
                joined = date(self.end.year - self.between(1, 5), 9, 1).toordinal()
                span = self.day(joined), self.day(self.end_day - self.between(0, 30))
                attends = self.link(
                    young_person, self.schools[school], "ATTENDS", span,
                    ("education", "", self.pick(_PARTNER_GRADINGS)), protective="true",
                )  # fmt: skip
                if home.kind == "placement":
                    dock, care_home = next(placement_homes)
                    self.place(young_person, care_home)
                    self.truth.placements.append(
                        {"young_person": young_person, "care_home": care_home, "dock": dock,
                         "protective_links": [*protective_links, attends]}
                    )  # fmt: skip
                elif self.looked_after[index]:
                    self.place(young_person, self.pick(self.care_homes))
                else:
                    self.link(young_person, home_id, "LIVES_AT", self.ordinary(),
                              self.home_record())  # fmt: skip

    def home_record(self) -> Record:
        agency = self.pick(_HOME_AGENCIES)
        return agency, "", self.pick(_PARTNER_GRADINGS)

    def place(self, young_person: str, care_home: str) -> None:
        span = self.span(self.end_day - 720)
        record = ("social_care", self.reference("CN", span), ("1", "A", "P"))
        self.link(young_person, care_home, "PLACED_AT", span, record)

    def write_young_person(self, index: int, surname: str) -> str:
        young_person = self.yp(index)
        looked_after = self.looked_after[index]
        placement = ""
        if looked_after:
            placement = "out_of_area" if self.role[index] == _PLACED else "in_area"
        self.files.person(
            (young_person, "young_person", self.name(surname if self.random() < 0.8 else None),
             self.born(11, 17), self.pick(_GENDERS), "true" if looked_after else "false",
             placement, str(self.missing[index]), "true" if self.excluded[index] else "false",
             "", "", self.areas[self.area_of[index]])
        )  # fmt: skip
        self.counts["people"] += 1
        return young_person

    def write_schools_and_peers(self) -> None:
        """Teachers, and peer groups of 5–12 within each school who associate and keep in touch."""
        rng = self.rng
        for school, area, pupils in zip(self.schools, self.school_area, self.pupils, strict=True):
            for _ in range(max(2, len(pupils) // 150)):
                teacher = self.adult(area, (24, 62), professional=True)
                span = self.ordinary()
                self.link(teacher, school, "WORKS_AT", span, ("education", "", ("1", "A", "P")))
            members = list(pupils)
            rng.shuffle(members)
            start = 0
            while start < len(members):
                rest = len(members) - start
                size = rest if rest <= 12 else self.between(5, min(12, rest - 5))
                group = [self.yp(i) for i in members[start : start + size]]
                self.truth.peer_groups.append(group)
                self.write_peer_group(group)
                start += size

    def write_peer_group(self, group: list[str]) -> None:
        size = len(group)
        if size < 2:
            return
        for position, young_person in enumerate(group):
            for link_type, times in (
                ("ASSOCIATES_WITH", self.between(1, 2)),
                ("CONTACTED", self.between(1, 2)),
            ):
                for _ in range(times):
                    other = self.below(size - 1)
                    other += other >= position
                    span = self.ordinary()
                    count: int | str = ""
                    if link_type == "CONTACTED":
                        agency, count = self.pick(_CONTACT_AGENCIES), self.between(1, 30)
                    else:
                        agency = self.pick(_PEER_AGENCIES)
                    self.link(young_person, group[other], link_type, span,
                              self.partner(agency, span), count=count)  # fmt: skip

    def write_sightings(self) -> None:
        """Every young person is seen at one to three busy places."""
        for index in range(self.n):
            young_person = self.yp(index)
            local = self.busy_by_area[self.area_of[index]]
            for _ in range(self.pick((1, 1, 2, 3))):
                place = self.pick(self.town_busy if self.random() < 0.25 else local)
                span = self.ordinary()
                self.link(young_person, place, "SEEN_AT", span,
                          self.partner(self.pick(_SIGHTING_AGENCIES), span),
                          count=self.between(1, 6))  # fmt: skip

    # -- everyday adults and professionals -------------------------------------
    def write_ordinary_adults(self) -> None:
        for shop, area in self.shops + self.takeaways + self.pubs + self.hotels:
            for _ in range(self.between(1, 2)):
                worker = self.adult(area, (19, 70))
                self.link(worker, shop, "WORKS_AT", self.ordinary(), ("other", "", _UNGRADED))
        for k in range(max(5, self.n // 25)):
            area = k % len(self.areas)
            self.neighbour(area)
        for k in range(max(2, self.n // 1500)):
            area = k % len(self.areas)
            driver = self.adult(area, (25, 68))
            taxi = self.vehicle(private_hire=True, operator=self.pick(_OPERATORS))
            self.link(driver, taxi, "DRIVES", self.ordinary(), ("other", "", ("1", "A", "P")))
            for _ in range(self.between(0, 3)):
                span = self.ordinary()
                passenger = self.yp(self.pick(self.yp_by_area[area] or [0]))
                self.link(passenger, taxi, "PASSENGER_IN", span, self.partner("police", span))

    def neighbour(self, area: int) -> str:
        """An adult with a home, a friend among the parents, and a local haunt."""
        adult = self.adult(area, (19, 85))
        home = self.location("home", f"{self.between(1, 180)} {self.areas[area]} Road", area)
        self.link(adult, home, "LIVES_AT", self.ordinary(), self.home_record())
        parents = self.parents_by_area[area]
        if parents:
            span = self.ordinary()
            self.link(adult, self.pick(parents), "ASSOCIATES_WITH", span,
                      self.partner(self.pick(("housing", "other")), span))  # fmt: skip
        if self.random() < 0.5:
            haunt = self.pick(self.pubs)[0] if self.random() < 0.5 else self.pick(self.parks)[0]
            span = self.ordinary()
            self.link(adult, haunt, "SEEN_AT", span, self.partner("other", span),
                      count=self.between(1, 4))  # fmt: skip
        return adult

    def write_youth_workers(self) -> None:
        """Professional protective hubs: each supports 30–40 young people."""
        rng = self.rng
        for k in range(max(1, round(self.n / 150))):
            area = k % len(self.areas)
            worker = self.adult(area, (22, 58), professional=True)
            self.truth.youth_workers.append(worker)
            self.link(worker, self.youth_centres[area], "WORKS_AT", self.ordinary(),
                      ("youth_service", "", ("1", "A", "P")))  # fmt: skip
            local = self.yp_by_area[area]
            pool = local if len(local) >= 40 else range(self.n)
            for index in rng.sample(pool, self.between(30, min(40, len(pool)))):
                span = self.ordinary()
                self.link(worker, self.yp(index), "SUPPORTS", span,
                          self.partner("youth_service", span), protective="true")  # fmt: skip

    # -- planted networks -------------------------------------------------------
    def write_networks(self) -> None:
        criminal: list[PlantedNetwork] = []
        for k, (style, area, victim_indices) in enumerate(self.network_plans):
            network = PlantedNetwork(id=f"N{k + 1:02d}", style=style)
            network.victims = [self.yp(i) for i in victim_indices]
            if style == "criminal":
                self.criminal_network(network, area)
                criminal.append(network)
            else:
                self.sexual_network(network, area)
            self.truth.networks.append(network)
        # Each placement's dock is a haunt of a criminal network's adults (and their car).
        for k, dock in enumerate(self.docks):
            network = criminal[k % len(criminal)]
            network.locations.append(dock)
            for adult in network.adults:
                span = self.recent()
                self.link(adult, dock, "SEEN_AT", span, self.police(span),
                          count=self.between(2, 8))  # fmt: skip
            span = self.recent()
            self.link(network.vehicles[0], dock, "SEEN_AT", span, self.anpr(span),
                      count=self.between(2, 12))  # fmt: skip

    def network_adults(self, network: PlantedNetwork, area: int) -> list[str]:
        """Two or three adults: the first suspected, the last (the driver) never flagged."""
        adults = [self.adult(area, (22, 45), suspected=True)]
        if self.random() < 0.5:
            middle_flagged = self.random() < 0.5
            adults.append(self.adult(area, (18, 35), suspected=middle_flagged))
            if not middle_flagged:
                network.unflagged_adults.append(adults[-1])
        adults.append(self.adult(area, (20, 50)))
        network.unflagged_adults.append(adults[-1])
        network.adults = adults
        for first, second in itertools.pairwise(adults):
            span = self.recent()
            self.link(first, second, "ASSOCIATES_WITH", span, self.police(span))
            span = self.recent()
            self.link(first, second, "CONTACTED", span, self.police(span),
                      count=self.between(10, 200))  # fmt: skip
        return adults

    def exploit(self, network: PlantedNetwork, place: str, vehicle: str) -> None:
        """The links every network has with its victims: contact, harm, rides, being found."""
        rng = self.rng
        adults = network.adults
        for position, victim in enumerate(network.victims):
            for adult in rng.sample(adults, self.between(1, len(adults))):
                span = self.recent()
                self.link(adult, victim, "CONTACTED", span, self.police(span),
                          count=self.between(3, 80))  # fmt: skip
            if position == 0 or self.random() < 0.8:
                span = self.recent()
                self.link(adults[0], victim, "ALLEGED_HARM", span, self.allegation(span))
            span = self.recent()
            self.link(victim, vehicle, "PASSENGER_IN", span, self.police(span),
                      count=self.between(1, 5))  # fmt: skip
            span = self.recent()
            self.link(victim, place, "FOUND_AT", span, self.return_interview(span),
                      count=self.between(1, 3), notes="found after a missing episode")  # fmt: skip
            other = network.victims[(position + 1) % len(network.victims)]
            span = self.recent()
            self.link(victim, other, "ASSOCIATES_WITH", span, self.police(span))

    def criminal_network(self, network: PlantedNetwork, area: int) -> None:
        """County lines: a cuckooed flat, a car driven by an unflagged adult, missing children."""
        flat = self.location(
            "residential", f"Flat {self.between(1, 40)}, {self.pick(_COURTS)}", area
        )
        tenant = self.adult(area, (30, 70))  # the vulnerable tenant whose flat was taken over
        self.link(tenant, flat, "LIVES_AT", self.ordinary(), self.home_record())
        adults = self.network_adults(network, area)
        car = self.vehicle(private_hire=False)
        network.locations.append(flat)
        network.vehicles.append(car)
        span = self.recent()
        self.link(adults[-1], car, "DRIVES", span, self.police(span), count=self.between(2, 10))
        for adult in adults:
            span = self.recent()
            self.link(adult, flat, "SEEN_AT", span, self.police(span), count=self.between(2, 15))
        span = self.recent()
        self.link(car, flat, "SEEN_AT", span, self.anpr(span), count=self.between(4, 25))
        span = self.recent()
        self.link(car, self.pick(self.hubs), "SEEN_AT", span, self.anpr(span),
                  count=self.between(2, 10))  # fmt: skip
        self.exploit(network, flat, car)

    def sexual_network(self, network: PlantedNetwork, area: int) -> None:
        """A takeaway worker, a hotel, a private-hire taxi and a "boyfriend"."""
        takeaway = self.location("takeaway", self.pick(_TAKEAWAYS), area)
        hotel = self.location("hotel", self.pick(_HOTELS), area)
        taxi = self.vehicle(private_hire=True, operator=self.pick(_OPERATORS))
        network.locations.extend((takeaway, hotel))
        network.vehicles.append(taxi)
        adults = self.network_adults(network, area)
        self.link(adults[0], takeaway, "WORKS_AT", self.ordinary(), ("other", "", _UNGRADED))
        span = self.recent()
        self.link(adults[-1], taxi, "DRIVES", span, ("other", "", ("1", "A", "P")),
                  notes="licensed private-hire driver")  # fmt: skip
        for adult in adults:
            span = self.recent()
            self.link(adult, hotel, "SEEN_AT", span, self.police(span), count=self.between(1, 8))
        for place, times in ((hotel, (3, 15)), (takeaway, (2, 10))):
            span = self.recent()
            self.link(taxi, place, "SEEN_AT", span, self.anpr(span), count=self.between(*times))
        boyfriend = adults[1] if len(adults) == 3 else adults[0]
        for victim in network.victims[: self.between(1, 2)]:
            span = self.recent()
            self.link(boyfriend, victim, "PARTNER_OF", span, self.partner("social_care", span),
                      notes="described by the young person as their partner")  # fmt: skip
        for victim in network.victims:
            span = self.recent()
            place = hotel if self.random() < 0.6 else takeaway
            self.link(victim, place, "SEEN_AT", span, self.police(span), count=self.between(1, 6))
        self.exploit(network, hotel, taxi)

    # -- decoys ----------------------------------------------------------------
    def write_decoys(self) -> None:
        for _ in range(max(1, round(self.n / 300))):
            self.school_run()
            area = self.below(len(self.areas))
            accused = self.neighbour(area)
            self.truth.malicious_allegation_adults.append(accused)
            span = self.span(self.end_day - 365)
            target = self.yp(self.free_young_person(area))
            self.link(accused, target, "ALLEGED_HARM", span,
                      ("police", self.reference("INT", span), ("3", "E", "C")),
                      notes="anonymous report")  # fmt: skip
            self.historic_offender(self.below(len(self.areas)))

    def school_run(self) -> None:
        """A contracted private-hire taxi taking 8–15 pupils of one school, all recorded by it."""
        rng = self.rng
        largest = max(range(self.mainstream), key=lambda s: len(self.pupils[s]))
        school = self.pick(
            [s for s in range(self.mainstream) if len(self.pupils[s]) >= 30] or [largest]
        )
        area = self.school_area[school]
        driver = self.adult(area, (30, 66))
        taxi = self.vehicle(private_hire=True, operator=self.pick(_SCHOOL_RUN_OPERATORS))
        self.truth.school_run_drivers.append(driver)
        self.truth.school_run_vehicles.append(taxi)
        vetted: Record = ("education", "", ("1", "A", "P"))
        term_start = date(self.end.year if self.end.month >= 9 else self.end.year - 1, 9, 1)
        span = self.day(term_start.toordinal()), self.day(self.end_day)
        self.link(driver, taxi, "DRIVES", span, vetted, notes="home-to-school transport contract")
        self.link(taxi, self.schools[school], "SEEN_AT", span, vetted, count=self.between(60, 190))
        pupils = [i for i in self.pupils[school] if self.role[i] == _ORDINARY]
        for index in rng.sample(pupils, min(len(pupils), self.between(8, 15))):
            self.link(self.yp(index), taxi, "PASSENGER_IN", span, vetted,
                      count=self.between(60, 190))  # fmt: skip

    def historic_offender(self, area: int) -> None:
        """A suspected adult whose every record is six to eight years old."""
        offender = self.adult(area, (40, 70), suspected=True)
        self.truth.historic_offenders.append(offender)
        window = self.years_ago(8), self.years_ago(6)
        for _ in range(self.between(3, 5)):
            young_person = self.yp(self.free_young_person(area))
            span = self.span(*window)
            self.link(offender, young_person, "ALLEGED_HARM", span, self.allegation(span))
        for _ in range(self.between(1, 3)):
            span = self.span(*window)
            self.link(offender, self.pick(self.parks)[0], "SEEN_AT", span, self.police(span),
                      count=self.between(1, 4))  # fmt: skip

    # -- the whole town ---------------------------------------------------------
    def write(self) -> TownTruth:
        self.build_geography()
        self.plan_young_people()
        self.write_households()
        self.write_schools_and_peers()
        self.write_sightings()
        self.write_ordinary_adults()
        self.write_youth_workers()
        self.write_networks()
        self.write_decoys()
        self.truth.counts = dict(self.counts)
        if self.progress is not None:
            self.progress(self.counts["links"])
        return self.truth


def write_town(
    out: str | Path,
    young_people: int,
    seed: int,
    *,
    end: date = date(2026, 11, 1),
    progress: Callable[[int], None] | None = None,
) -> TownTruth:
    """Write a synthetic town as a dataset folder, with ``truth.json`` saying what was planted.

    Parameters
    ----------
    out : str or Path
        The folder to write ``people.csv``, ``locations.csv``, ``vehicles.csv``,
        ``links.csv`` and ``truth.json`` into, as one set that replaces a previous town
        there; created if missing.  A folder holding any other file is refused.
    young_people : int
        How many young people live in the town (at least :data:`MIN_YOUNG_PEOPLE`).
        There are about ten links per young person.
    seed : int
        Everything follows from it: the same arguments give byte-identical files.
    end : date, default 2026-11-01
        The last day of the records.  No date in the town is after it; the planted
        networks are active in the 18 months before it, the historic offender six to
        eight years before it.
    progress : callable, optional
        Called with the number of links written so far, every 10,000 links and once
        at the end.

    Returns
    -------
    TownTruth
        What was planted, as also written to ``truth.json``.

    Raises
    ------
    UsageError
        When ``young_people`` is below :data:`MIN_YOUNG_PEOPLE`.

    Notes
    -----
    Each young person attends a school, lives in a household of one to three young
    people with one or two parents (``FAMILY_OF``, protective), belongs to a peer
    group of 5–12 within the school, and is seen at one to three busy places.  There
    is about one planted network per 100 young people (at least two, alternating
    criminal and sexual exploitation, 4–8 victims each), one of each decoy per 300
    (large family, school-run taxi, malicious allegation, historic offender; at least
    one of each) and one out-of-area placement near a dock per 500 (at least one).

    Examples
    --------
    >>> import tempfile
    >>> from graphguard.ingest import read_dataset
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     truth = write_town(folder, 100, seed=1)
    ...     result = read_dataset(folder)
    >>> result.ok, len(truth.networks), truth.counts["links"] == len(result.dataset.links)
    (True, 2, True)
    """
    if isinstance(young_people, bool) or not isinstance(young_people, int):
        raise UsageError(f"young_people must be a whole number, not {young_people!r}")
    if young_people < MIN_YOUNG_PEOPLE:
        raise UsageError(
            f"a town needs at least {MIN_YOUNG_PEOPLE} young people, not {young_people}"
        )
    # The town's files take the folder's place as one set: an interrupted run leaves
    # the previous town whole, never a people.csv without its links.
    with atomic_folder(out, _OWNED) as staging:
        with ExitStack() as stack:
            town = _Town(_Files(staging, stack), young_people, seed, end, progress)
            truth = town.write()
        (staging / "truth.json").write_text(truth.to_json(), encoding="utf-8", newline="\n")
    return truth
