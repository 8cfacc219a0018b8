"""A town as the agencies would send it: one extract per agency, own ids, realistic noise.

:func:`split_town` takes a version 1 dataset with true ids — a town from
:func:`graphguard.synth.write_town` or the bundled demo — and writes it as a
version 2 dataset (DATA-FORMAT.md, "Version 2"): subfolders ``police``,
``social_care``, ``education``, ``youth_service``, ``health`` and ``anpr``, each
with its own local id scheme and only what that agency would know, a
``sources.csv``, and ``truth.csv`` beside them saying which records are the same
person, place or vehicle.  :func:`write_agencies` makes a synthetic town and splits
it in one call (``graphguard synth OUT --agencies``).

Each link of the town goes to the extract of the agency that recorded it (its
``agency`` column: housing records go to social care, the voluntary sector's to the
youth service, other partners' to the police, ANPR reads to ``anpr``), with its
provenance unchanged, so a perfect resolution gives back exactly the links of the
true town.  A source holds a record for every person, place and vehicle its links
name, plus what it would hold anyway (health: registered patients; social care:
every looked-after child and missing episode).

The same person then appears in several extracts with the noise real extracts have:
nicknames (Jess / Jessica), a date of birth with day and month transposed, one digit
off or missing, typos, postcodes and phone numbers in other formats, aliases; places
under other names and addresses, with a UPRN in some sources.  And the traps a
resolver must not fall into, labelled in ``truth.csv``:

``twin``
    Two young people of one household given the same date of birth: same surname,
    date of birth and address, different first names.
``father_son``
    An adult and a young person of one family sharing a full name and address.
``namesake``
    Two unrelated people of the same role given the same name (every other pair also
    the same date of birth, which the naive "same name and date of birth" rule joins).
``within_source_duplicate``
    One person recorded twice in one agency's extract (half the time with the same
    identifier: PNC id, UPN or NHS number); half the time the second record's
    ``same_as`` column names the first, which is how a source says two of its records
    are one person.

Everything follows from the seed: the same input and seed give byte-identical
files.  Everything is invented: names and places come from the input town, phone
numbers from Ofcom's drama range (07700 900000–900999), NHS numbers from the
999 range never issued to patients, emails at ``example.org``.
"""

from __future__ import annotations

import csv
import io
import random
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from graphguard import synth_noise as noise
from graphguard.errors import UsageError
from graphguard.files import atomic_folder, refuse_foreign
from graphguard.resolve.types import qualify

__all__ = [
    "SOURCES",
    "TRAPS",
    "TruthRecord",
    "AgencyTruth",
    "read_agency_truth",
    "split_town",
    "write_agencies",
]

#: The extracts, in the order ``sources.csv`` lists them.
SOURCES: tuple[str, ...] = (
    "police", "social_care", "education", "youth_service", "health", "anpr",
)  # fmt: skip
#: The trap labels ``truth.csv`` uses.
TRAPS: tuple[str, ...] = ("twin", "father_son", "namesake", "within_source_duplicate")

_AGENCY = {
    "police": "police", "social_care": "social_care", "education": "education",
    "youth_service": "youth_service", "health": "health", "anpr": "police",
}  # fmt: skip
_CONTACT = {
    "police": "Force intelligence bureau", "social_care": "Children's services data team",
    "education": "Education data and attendance", "youth_service": "Youth service records",
    "health": "Safeguarding children team, integrated care board",
    "anpr": "Force ANPR bureau",
}  # fmt: skip
# The recording agency of a link → the extract it travels in.
_SOURCE_OF_AGENCY = {
    "police": "police", "social_care": "social_care", "housing": "social_care",
    "education": "education", "youth_service": "youth_service", "voluntary": "youth_service",
    "health": "health", "other": "police", "": "police",
}  # fmt: skip
# Each source's local id scheme: (people, locations, vehicles, links).
_ID_PREFIX = {
    "police": ("NOM", "PLC", "VEH", "INT"),
    "social_care": ("SC", "ADDR", "SCV", "CN"),
    "education": ("PUP", "EST", "EDV", "EDL"),
    "youth_service": ("YS", "VEN", "YSV", "YSL"),
    "health": ("H", "HADR", "HV", "HLK"),
    "anpr": ("ANP", "CAM", "VRM", "READ"),
}
# What each source records about a person, beyond id, role and name.
_PERSON_COLUMNS = {
    "police": ("aliases", "date_of_birth", "gender", "postcode", "phone", "pnc_id",
               "category", "suspected", "area"),
    "social_care": ("date_of_birth", "gender", "looked_after", "placement_area",
                    "missing_episodes", "postcode", "phone", "email", "nhs_number", "upn",
                    "professional", "area"),
    "education": ("date_of_birth", "gender", "upn", "excluded_from_school", "postcode",
                  "phone", "email", "professional", "area"),
    "youth_service": ("aliases", "phone", "professional", "area"),
    "health": ("date_of_birth", "gender", "nhs_number", "postcode", "phone",
               "professional", "area"),
    "anpr": (),
}  # fmt: skip
#: The column a source names its own other record of the same person in (docs/resolution.md).
_SAME_AS = "same_as"
#: The sources that keep duplicates of a person, and so a same_as column.
_DUPLICATING = ("police", "social_care", "education")
# Where an attribute goes when none of the person's sources records it.
_HOME_OF = {
    "suspected": "police", "looked_after": "social_care", "placement_area": "social_care",
    "missing_episodes": "social_care", "excluded_from_school": "education",
    "professional": "youth_service",
}  # fmt: skip
_LOCATION_COLUMNS = (
    "location_id", "kind", "name", "address", "postcode", "uprn", "latitude", "longitude",
    "area",
)  # fmt: skip
_VEHICLE_COLUMNS = (
    "vehicle_id", "registration", "make", "model", "colour", "private_hire", "operator",
)  # fmt: skip
_LINK_COLUMNS = (
    "link_id", "source_id", "target_id", "type", "first_seen", "last_seen", "count", "agency",
    "reference", "source_grade", "intel_grade", "handling", "protective", "notes",
)  # fmt: skip
_TRUTH_COLUMNS = ("record_id", "true_id", "kind", "role", "trap", "trap_group")
_PROPERTY_KINDS = frozenset({"home", "residential", "care_home", "school"})
#: What :func:`split_town` writes into its folder (anything else there is refused).
_OWNED = ("sources.csv", "truth.csv", "README.md", *SOURCES)

# --------------------------------------------------------------------------- the truth


@dataclass(frozen=True)
class TruthRecord:
    """One row of ``truth.csv``: which true entity a record is, and its trap if any."""

    record_id: str
    true_id: str
    kind: str  # "person", "location" or "vehicle"
    role: str = ""  # people only
    trap: str = ""
    #: The records of one trap instance share it (both twins, both namesakes).
    trap_group: str = ""


@dataclass
class AgencyTruth:
    """What :func:`split_town` wrote: every record's true entity, and the counts."""

    records: dict[str, TruthRecord] = field(default_factory=dict)
    #: Rows written per ``source/file``.
    counts: dict[str, int] = field(default_factory=dict)

    def true_id(self, record_id: str) -> str:
        """The true id of a record."""
        return self.records[record_id].true_id

    def of_kind(self, kind: str) -> list[TruthRecord]:
        """Every record of one kind, sorted by record id."""
        return [r for _, r in sorted(self.records.items()) if r.kind == kind]

    def traps(self, trap: str) -> dict[str, list[TruthRecord]]:
        """Trap group → its records, for one trap label."""
        groups: dict[str, list[TruthRecord]] = {}
        for _, record in sorted(self.records.items()):
            if record.trap == trap:
                groups.setdefault(record.trap_group, []).append(record)
        return groups


def read_agency_truth(path: str | Path) -> AgencyTruth:
    """Read ``truth.csv`` from a folder :func:`split_town` wrote (or the file itself)."""
    path = Path(path)
    if path.is_dir():
        path = path / "truth.csv"
    truth = AgencyTruth()
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            record = TruthRecord(**{column: row[column] for column in _TRUTH_COLUMNS})
            truth.records[record.record_id] = record
    return truth


# --------------------------------------------------------------------------- the town read


@dataclass
class _Person:
    row: dict[str, str]
    sources: set[str] = field(default_factory=set)
    home: str = ""  # the true id of the first place they live at
    family: list[str] = field(default_factory=list)
    trap: str = ""
    trap_group: str = ""
    duplicated_in: str = ""  # the source holding two records of them
    phone: str = ""
    nhs_number: str = ""
    upn: str = ""
    pnc_id: str = ""
    victim: bool = False

    @property
    def first(self) -> str:
        return (self.row.get("name") or "").partition(" ")[0]

    @property
    def surname(self) -> str:
        return (self.row.get("name") or "").partition(" ")[2]


def _rows(path: Path) -> Iterator[dict[str, str]]:
    """The rows of one CSV file of the town, keyed by lower-case column names, cells trimmed."""
    if not path.exists():
        return
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = [name.strip().lower() for name in next(reader, [])]
        for cells in reader:
            yield dict(zip(header, (cell.strip() for cell in cells), strict=False))


def _link_source(row: dict[str, str]) -> str:
    if row.get("reference", "").upper().startswith("ANPR"):
        return "anpr"
    return _SOURCE_OF_AGENCY.get(row.get("agency", "").lower(), "police")


class _Ids:
    """Local ids of one source and kind: a prefix and a scrambled, zero-padded number."""

    def __init__(self, prefix: str, capacity: int, rng: random.Random) -> None:
        self.prefix = prefix
        self.width = max(5, len(str(capacity * 4)))
        # A seeded sample, so neither the order nor the numbers say anything about whom.
        self.numbers = rng.sample(range(10**self.width), capacity)
        self.issued = 0

    def next(self) -> str:
        number = self.numbers[self.issued]
        self.issued += 1
        return f"{self.prefix}{number:0{self.width}d}"


# --------------------------------------------------------------------------- the split


class _Splitter:
    def __init__(self, town: Path, seed: int, extracted_on: date) -> None:
        self.town = town
        self.extracted_on = extracted_on
        self.rng = random.Random(seed)
        self.people: dict[str, _Person] = {}
        for row in _rows(town / "people.csv"):
            self.people[row["person_id"]] = _Person(row)
        self.locations = {r["location_id"]: r for r in _rows(town / "locations.csv")}
        self.vehicles = {r["vehicle_id"]: r for r in _rows(town / "vehicles.csv")}
        self.place_sources: dict[str, set[str]] = {k: set() for k in self.locations}
        self.vehicle_sources: dict[str, set[str]] = {k: set() for k in self.vehicles}
        if not self.people:
            raise UsageError(f"{town}: no people.csv rows to split into agency extracts")
        self._unique_addresses()
        self.links = 0  # counted by survey(), which reads every link anyway
        sizes = (2 * len(self.people), len(self.locations), len(self.vehicles))
        self.ids = {
            source: [
                _Ids(prefix, size + 1, self.rng)
                for prefix, size in zip(prefixes[:3], sizes, strict=True)
            ]
            for source, prefixes in _ID_PREFIX.items()
        }
        self.truth = AgencyTruth()
        self.local: dict[tuple[str, str], list[str]] = {}  # (source, true id) → local ids

    def _unique_addresses(self) -> None:
        """Renumber homes that share an address with another home of the town.

        A synthetic town may give two households the same house number on the same
        road (with different postcodes); in a real town they would be one building.
        Every later home of such a pair moves to the next free number on its road, so
        the extracts hold no two different homes at one address.
        """
        taken = {row.get("name", "").lower() for row in self.locations.values()}
        first: set[str] = set()
        for true_id in sorted(self.locations):
            row = self.locations[true_id]
            name = row.get("name", "")
            if row.get("kind") not in ("home", "residential") or not name:
                continue
            if name.lower() not in first:
                first.add(name.lower())
                continue
            number = re.search(r"\d+", name)
            if number is None:
                continue
            value = int(number.group())
            while True:
                value += 1
                moved = f"{name[: number.start()]}{value}{name[number.end() :]}"
                if moved.lower() not in taken:
                    break
            taken.add(moved.lower())
            first.add(moved.lower())
            row["name"] = moved

    # -- pass 1: who is known where -------------------------------------------------
    def survey(self) -> None:
        for row in _rows(self.town / "links.csv"):
            self.links += 1
            source = _link_source(row)
            for end in (row["source_id"], row["target_id"]):
                self._known(end, source)
            kind = row["type"].upper()
            a, b = row["source_id"], row["target_id"]
            if kind == "LIVES_AT" and a in self.people and not self.people[a].home:
                self.people[a].home = b
            elif kind == "FAMILY_OF" and a in self.people and b in self.people:
                self.people[a].family.append(b)
                self.people[b].family.append(a)
            elif kind == "ALLEGED_HARM" and b in self.people:
                self.people[b].victim = True
        for person in self.people.values():
            row, young = person.row, person.row["role"] == "young_person"
            if young and self.rng.random() < 0.6:
                person.sources.add("health")  # a registered patient, with no links to send
            if young and (_true(row.get("looked_after")) or _count(row.get("missing_episodes"))):
                person.sources.add("social_care")
            for attribute, home in _HOME_OF.items():
                if row.get(attribute, "") not in ("", "false") and not any(
                    attribute in _PERSON_COLUMNS[s] for s in person.sources
                ):
                    person.sources.add(home)
            if not person.sources:
                person.sources.add("education" if young else "social_care")

    def _known(self, true_id: str, source: str) -> None:
        if true_id in self.people:
            self.people[true_id].sources.add(source)
        elif true_id in self.place_sources:
            self.place_sources[true_id].add(source)
        elif true_id in self.vehicle_sources:
            self.vehicle_sources[true_id].add(source)

    # -- identifiers and traps -------------------------------------------------------
    def identify(self) -> None:
        rng = self.rng
        phones = rng.sample(range(1000), 1000)
        for true_id in sorted(self.people):
            person = self.people[true_id]
            if phones and rng.random() < 0.7:
                person.phone = f"07700900{phones.pop():03d}"
            person.nhs_number = noise.nhs_number(rng)
            if person.row["role"] == "young_person":
                person.upn = "".join(
                    (rng.choice("ABCDEFGHJKLMNPQRTUVWXYZ"), "999", f"{rng.randrange(10**9):09d}")
                )
            if _true(person.row.get("suspected")) or rng.random() < 0.3:
                # First arrested at 10 (the age of criminal responsibility) or later.
                arrested = _year(person.row.get("date_of_birth")) + 10 + rng.randrange(15)
                year = min(arrested, self.extracted_on.year)
                person.pnc_id = f"{year}/{rng.randrange(10**7):07d}{rng.choice('ABCDEFGHJKLM')}"

    def plant_traps(self) -> None:
        rng, people = self.rng, self.people
        young = sorted(k for k, p in people.items() if p.row["role"] == "young_person")
        adults = sorted(k for k, p in people.items() if p.row["role"] == "adult")
        used: set[str] = set()

        def mark(trap: str, group: str, *ids: str) -> None:
            for true_id in ids:
                people[true_id].trap, people[true_id].trap_group = trap, group
                used.add(true_id)

        siblings = sorted({
            (a, b) for a in young for b in people[a].family
            if a < b and b in people and people[b].row["role"] == "young_person"
            and people[a].home and people[a].home == people[b].home
            and people[a].surname == people[b].surname and people[a].first != people[b].first
        })  # fmt: skip
        for k, (a, b) in enumerate(
            rng.sample(siblings, min(len(siblings), max(2, len(young) // 150)))
        ):
            if a in used or b in used:
                continue
            people[b].row["date_of_birth"] = people[a].row["date_of_birth"]
            mark("twin", f"TW{k + 1:03d}", a, b)
        parents = sorted({
            (adult, child) for adult in adults for child in people[adult].family
            if child in people and people[child].row["role"] == "young_person"
            and people[adult].surname == people[child].surname
        })  # fmt: skip
        # A father and son where the genders say so, else any parent and child.
        fathers = [p for p in parents if all(people[i].row.get("gender") == "male" for i in p)]
        parents = fathers if len(fathers) >= 2 else parents
        for k, (adult, child) in enumerate(
            rng.sample(parents, min(len(parents), max(2, len(young) // 200)))
        ):
            if adult in used or child in used:
                continue
            people[child].row["name"] = people[adult].row["name"]
            if people[adult].home and not people[child].home:
                people[child].home = people[adult].home
            mark("father_son", f"FS{k + 1:03d}", adult, child)
        for k in range(max(2, len(people) // 150)):
            pool = young if k % 2 == 0 else adults
            a, b = rng.sample(pool, 2)
            if a in used or b in used or people[a].surname == people[b].surname:
                continue
            people[b].row["name"] = people[a].row["name"]
            if k % 4 < 2:  # every other pair of each role shares the date of birth too
                people[b].row["date_of_birth"] = people[a].row["date_of_birth"]
            mark("namesake", f"NS{k + 1:03d}", a, b)
        for true_id in sorted(people):
            person = people[true_id]
            choices = sorted(person.sources & set(_DUPLICATING))
            if true_id not in used and choices and rng.random() < 0.03:
                person.duplicated_in = rng.choice(choices)
                person.trap, person.trap_group = "within_source_duplicate", f"DU-{true_id}"

    # -- records --------------------------------------------------------------------
    def person_records(self) -> dict[str, list[dict[str, str]]]:
        out: dict[str, list[dict[str, str]]] = {s: [] for s in SOURCES}
        for true_id in sorted(self.people):
            person = self.people[true_id]
            for source in sorted(person.sources):
                copies = 2 if person.duplicated_in == source else 1
                for copy in range(copies):
                    local = self.ids[source][0].next()
                    self.local.setdefault((source, true_id), []).append(local)
                    same_identifier = copy == 0 or self.rng.random() < 0.5
                    row = self.person_row(person, source, local, same_identifier)
                    if copy and self.rng.random() < 0.5:
                        # Half the time the agency has noticed, and says so (same_as).
                        row[_SAME_AS] = self.local[(source, true_id)][0]
                    out[source].append(row)
                    self._truth(source, local, true_id, "person", person)
        return out

    def person_row(
        self, person: _Person, source: str, local: str, identifier: bool
    ) -> dict[str, str]:
        rng, true = self.rng, person.row
        young = true["role"] == "young_person"
        row = {"person_id": local, "role": true["role"], "name": self.noisy_name(person)}
        for column in _PERSON_COLUMNS[source]:
            value = true.get(column, "")
            if column == "date_of_birth":
                value = noise.noisy_date(value, rng, missing=0.05 if young else 0.12)
            elif column == "postcode":
                home = self.locations.get(person.home, {})
                value = (
                    noise.postcode_format(home.get("postcode", ""), rng)
                    if rng.random() < 0.85
                    else ""
                )
            elif column == "phone":
                value = (
                    noise.phone_format(person.phone, rng)
                    if person.phone and rng.random() < 0.6
                    else ""
                )
            elif column == "email":
                value = "" if young or rng.random() < 0.7 else _email(person)
            elif column == "nhs_number":
                wanted = source == "health" or rng.random() < 0.6
                value = noise.nhs_format(person.nhs_number, rng) if wanted and identifier else ""
            elif column == "upn":
                wanted = source == "education" or _true(true.get("looked_after"))
                value = person.upn if wanted and identifier else ""
            elif column == "pnc_id":
                value = person.pnc_id if identifier else ""
            elif column == "aliases":
                value = self.aliases(person, source)
            elif column == "category":
                value = (
                    "suspect"
                    if _true(true.get("suspected"))
                    else ("victim" if person.victim else "other")
                )
            elif column == "gender" and rng.random() < 0.2:
                value = ""  # not every extract records it
            row[column] = value
        return row

    def noisy_name(self, person: _Person) -> str:
        rng = self.rng
        first, surname = person.first, person.surname
        if not first:
            return ""
        draw = rng.random()
        if draw < 0.10:
            first = noise.nickname(first, person.row.get("gender", ""), rng) or first
        elif draw < 0.15:
            first = noise.typo(first, rng)
        elif draw < 0.21 and surname:
            surname = noise.typo(surname, rng)
        elif draw < 0.24:
            first, surname = first.upper(), surname.upper()
        return f"{first} {surname}".strip()

    def aliases(self, person: _Person, source: str) -> str:
        rng = self.rng
        if rng.random() > (0.25 if source == "police" else 0.1):
            return ""
        names = [rng.choice(noise.MONIKERS)]
        nickname = noise.nickname(person.first, person.row.get("gender", ""), rng)
        if nickname:
            names.append(f"{nickname} {person.surname}")
        return ";".join(names)

    def location_records(self) -> dict[str, list[dict[str, str]]]:
        out: dict[str, list[dict[str, str]]] = {s: [] for s in SOURCES}
        for true_id in sorted(self.locations):
            sources = self.place_sources[true_id] or {"police"}
            for source in sorted(sources):
                local = self.ids[source][1].next()
                self.local[(source, true_id)] = [local]
                out[source].append(self.location_row(self.locations[true_id], source, local))
                self._truth(source, local, true_id, "location")
        return out

    def location_row(self, true: dict[str, str], source: str, local: str) -> dict[str, str]:
        rng = self.rng
        kind, name, area = true.get("kind", ""), true.get("name", ""), true.get("area", "")
        shown = noise.place_name(name, rng) if rng.random() < 0.35 else name
        if source == "anpr":
            shown = f"ANPR camera {rng.randrange(1, 400):03d}, {name}"
        has_uprn = kind in _PROPERTY_KINDS and rng.random() < (
            0.85 if source in ("social_care", "education", "health") else 0.25
        )
        coordinates = source in ("police", "anpr") or rng.random() < 0.3
        latitude, longitude = true.get("latitude", ""), true.get("longitude", "")
        if coordinates and latitude and longitude:
            latitude, longitude = f"{float(latitude):.4f}", f"{float(longitude):.4f}"
        else:
            latitude = longitude = ""
        return {
            "location_id": local,
            "kind": kind,
            "name": shown,
            "address": f"{noise.place_name(name, rng)}, {area}".strip(", ")
            if rng.random() < 0.6
            else "",
            "postcode": noise.postcode_format(true.get("postcode", ""), rng)
            if rng.random() < 0.9
            else "",
            "uprn": noise.uprn(true["location_id"]) if has_uprn else "",
            "latitude": latitude,
            "longitude": longitude,
            "area": area,
        }

    def vehicle_records(self) -> dict[str, list[dict[str, str]]]:
        out: dict[str, list[dict[str, str]]] = {s: [] for s in SOURCES}
        for true_id in sorted(self.vehicles):
            true = self.vehicles[true_id]
            for source in sorted(self.vehicle_sources[true_id] or {"police"}):
                local = self.ids[source][2].next()
                self.local[(source, true_id)] = [local]
                registration = true.get("registration", "")
                if self.rng.random() < 0.5:
                    registration = registration.replace(" ", "").lower()
                row = dict(true, vehicle_id=local, registration=registration)
                if source == "anpr" or self.rng.random() < 0.2:
                    row["operator"] = ""  # a camera read knows the plate, not the firm
                out[source].append({c: row.get(c, "") for c in _VEHICLE_COLUMNS})
                self._truth(source, local, true_id, "vehicle")
        return out

    def _truth(
        self, source: str, local: str, true_id: str, kind: str, person: _Person | None = None
    ) -> None:
        record_id = qualify(source, local)
        self.truth.records[record_id] = TruthRecord(
            record_id=record_id,
            true_id=true_id,
            kind=kind,
            role=person.row["role"] if person else "",
            trap=person.trap if person else "",
            trap_group=person.trap_group if person else "",
        )

    # -- pass 2: the links ----------------------------------------------------------
    def write_links(self, folder: Path) -> dict[str, int]:
        """Stream every link into its source's ``links.csv``; return the rows per source.

        Links keep the town's order and get a source's own running numbers, as a log
        would: only the entity files need holding in memory, never the links.
        """
        counts = dict.fromkeys(SOURCES, 0)
        width = max(6, len(str(self.links)))
        with ExitStack() as stack:
            writers = {}
            for source in SOURCES:
                handle = stack.enter_context(
                    (folder / source / "links.csv").open("w", encoding="utf-8", newline="")
                )
                writers[source] = csv.writer(handle, lineterminator="\n")
                writers[source].writerow(_LINK_COLUMNS)
            for row in _rows(self.town / "links.csv"):
                source = _link_source(row)
                ends = []
                for end in (row["source_id"], row["target_id"]):
                    locals_ = self.local.get((source, end))
                    if not locals_:
                        raise UsageError(
                            f"{self.town}: link {row['link_id']} names {end!r}, "
                            "which no entity file holds: validate the town first"
                        )
                    ends.append(locals_[0] if len(locals_) == 1 else self.rng.choice(locals_))
                counts[source] += 1
                link = {c: row.get(c, "") for c in _LINK_COLUMNS}
                link.update(
                    link_id=f"{_ID_PREFIX[source][3]}{counts[source]:0{width}d}",
                    source_id=ends[0],
                    target_id=ends[1],
                )
                writers[source].writerow([link[c] for c in _LINK_COLUMNS])
        return counts


# --------------------------------------------------------------------------- noise


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "yes", "y", "1")


def _count(value: str | None) -> int:
    text = (value or "").strip()
    return int(text) if text.isdigit() else 0


def _year(value: str | None) -> int:
    text = value or ""
    return int(text[:4]) if text[:4].isdigit() else 1990


def _email(person: _Person) -> str:
    first, surname = person.first.lower(), person.surname.lower().replace(" ", "")
    return f"{first}.{surname}@example.org" if first and surname else ""


# --------------------------------------------------------------------------- writing


def _csv(rows: list[dict[str, str]], columns: tuple[str, ...], key: str) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(sorted(rows, key=lambda r: r[key]))
    return buffer.getvalue()


def split_town(
    town: str | Path,
    out: str | Path,
    seed: int,
    *,
    extracted_on: date = date(2026, 12, 1),
    describe: Callable[[AgencyTruth, Path], str] | None = None,
) -> AgencyTruth:
    """Write a version 1 dataset with true ids as the agencies would send it.

    Parameters
    ----------
    town : str or Path
        A version 1 dataset folder of CSV files (a :func:`graphguard.synth.write_town`
        town, or ``fixtures/demo``); its rows are taken as true and valid.
    out : str or Path
        The folder to write: ``sources.csv``, ``truth.csv`` and one subfolder per
        source in :data:`SOURCES`.  Written atomically: it holds the previous complete
        set or the new one.  An existing folder holding anything else is refused.
    seed : int
        Every random choice (which agency knows whom, the noise, the traps, the local
        ids) follows from it: the same town and seed give byte-identical files.
    extracted_on : date, default 2026-12-01
        The extraction date ``sources.csv`` gives every source.
    describe : callable, optional
        Called with the truth and the folder being written (every other file is in it);
        what it returns is written as ``README.md`` beside ``sources.csv``.

    Returns
    -------
    AgencyTruth
        Every record's true entity and trap, as written to ``truth.csv``.

    Raises
    ------
    UsageError
        When ``town`` has no people, or ``out`` holds files that are not this output's.

    Examples
    --------
    >>> import tempfile
    >>> from graphguard.synth import write_town
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = write_town(f"{folder}/town", 100, seed=1)
    ...     truth = split_town(f"{folder}/town", f"{folder}/agencies", seed=1)
    >>> sorted({r.record_id.split(":")[0] for r in truth.records.values()})[:3]
    ['anpr', 'education', 'health']
    """
    town, out = Path(town), Path(out)
    refuse_foreign(out, _OWNED)  # before the work, not after it
    splitter = _Splitter(town, seed, extracted_on)
    splitter.survey()
    splitter.identify()
    splitter.plant_traps()
    people = splitter.person_records()
    places = splitter.location_records()
    vehicles = splitter.vehicle_records()
    truth = splitter.truth
    with atomic_folder(out, _OWNED) as staging:
        sources = io.StringIO()
        writer = csv.writer(sources, lineterminator="\n")
        writer.writerow(("source", "agency", "extracted_on", "contact"))
        for source in SOURCES:
            writer.writerow((source, _AGENCY[source], extracted_on.isoformat(), _CONTACT[source]))
            folder = staging / source
            folder.mkdir()
            person_columns = ("person_id", "role", "name", *_PERSON_COLUMNS[source])
            if source in _DUPLICATING:
                person_columns += (_SAME_AS,)
            tables = {
                "people": (people[source], person_columns, "person_id"),
                "locations": (places[source], _LOCATION_COLUMNS, "location_id"),
                "vehicles": (vehicles[source], _VEHICLE_COLUMNS, "vehicle_id"),
            }
            for name, (rows, columns, key) in tables.items():
                if rows or name == "people":  # people.csv is required, even empty
                    text = _csv(rows, columns, key)
                    (folder / f"{name}.csv").write_text(text, encoding="utf-8", newline="")
                    truth.counts[f"{source}/{name}"] = len(rows)
        for source, rows_written in splitter.write_links(staging).items():
            truth.counts[f"{source}/links"] = rows_written
        (staging / "sources.csv").write_text(sources.getvalue(), encoding="utf-8", newline="")
        listing = io.StringIO()
        writer = csv.writer(listing, lineterminator="\n")
        writer.writerow(_TRUTH_COLUMNS)
        for record_id in sorted(truth.records):
            r = truth.records[record_id]
            writer.writerow((r.record_id, r.true_id, r.kind, r.role, r.trap, r.trap_group))
        (staging / "truth.csv").write_text(listing.getvalue(), encoding="utf-8", newline="")
        if describe is not None:
            text = describe(truth, staging)
            (staging / "README.md").write_text(text, encoding="utf-8", newline="")
    return truth


def write_agencies(
    out: str | Path,
    young_people: int,
    seed: int,
    *,
    end: date = date(2026, 11, 1),
    progress: Callable[[int], None] | None = None,
) -> AgencyTruth:
    """Make a synthetic town (:func:`graphguard.synth.write_town`) and split it by agency.

    Parameters
    ----------
    out : str or Path
        The folder :func:`split_town` writes.
    young_people : int
        The town's size, as :func:`~graphguard.synth.write_town` takes it.
    seed : int
        Seeds both the town and the split: same arguments, byte-identical files.
    end : date, default 2026-11-01
        The last day of the town's records; the extracts are dated the day after.
    progress : callable, optional
        Passed to :func:`~graphguard.synth.write_town`: links of the town written so far.

    Returns
    -------
    AgencyTruth
        As :func:`split_town` returns it.
    """
    from graphguard.synth import write_town

    refuse_foreign(out, _OWNED)  # a refused folder must not cost a whole town's writing first
    with tempfile.TemporaryDirectory(prefix="graphguard-town-") as folder:
        write_town(folder, young_people, seed, end=end, progress=progress)
        return split_town(folder, out, seed, extracted_on=end + timedelta(days=1))
