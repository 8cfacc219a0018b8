"""Small helpers the tests share: writing datasets to a folder."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

PEOPLE = ["person_id", "role", "name", "date_of_birth", "gender", "looked_after", "area"]
LINKS = [
    "link_id",
    "source_id",
    "target_id",
    "type",
    "first_seen",
    "last_seen",
    "count",
    "agency",
    "reference",
    "source_grade",
    "intel_grade",
    "handling",
    "protective",
]


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
    return path


def small_town(folder: Path) -> Path:
    """A valid three-person dataset with a location and a vehicle."""
    write_csv(
        folder / "people.csv",
        ["person_id", "role", "name", "gender", "looked_after"],
        [
            ["YP1", "young_person", "Ada Fictional", "female", "yes"],
            ["YP2", "young_person", "Bo Invented", "male", "no"],
            ["AD1", "adult", "Cy Madeup", "male", ""],
        ],
    )
    write_csv(
        folder / "locations.csv",
        ["location_id", "kind", "latitude", "longitude", "area"],
        [
            ["LO1", "hotel", "53.74", "-0.33", "Docklands"],
        ],
    )
    write_csv(
        folder / "vehicles.csv",
        ["vehicle_id", "registration", "private_hire"],
        [
            ["VE1", " ab12 cde ", "false"],
        ],
    )
    write_csv(
        folder / "links.csv",
        LINKS,
        [
            [
                "L1",
                "AD1",
                "YP1",
                "ALLEGED_HARM",
                "2025-01-01",
                "2025-03-01",
                "",
                "police",
                "INT-1",
                "1",
                "B",
                "P",
                "",
            ],
            [
                "L2",
                "AD1",
                "YP1",
                "ALLEGED_HARM",
                "2025-04-01",
                "",
                "",
                "police",
                "INT-2",
                "2",
                "C",
                "C",
                "",
            ],
            [
                "L3",
                "YP1",
                "LO1",
                "FOUND_AT",
                "2025-02-02",
                "",
                "",
                "social_care",
                "RHI-1",
                "",
                "",
                "",
                "",
            ],
            [
                "L4",
                "YP2",
                "VE1",
                "PASSENGER_IN",
                "2024-05-01",
                "2024-06-01",
                "3",
                "police",
                "ANPR-9",
                "1",
                "A",
                "P",
                "",
            ],
            ["L5", "YP1", "YP2", "ASSOCIATES_WITH", "", "", "", "education", "", "", "", "", ""],
        ],
    )
    return folder
