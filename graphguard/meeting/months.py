"""A seeded town over a sequence of months: a network that is disrupted and then moves.

The monthly meeting asks what changed since last month.  :func:`write_months` writes
one dataset whose links are dated month by month after a synthetic town
(:func:`graphguard.synth.write_town`) ends, so that each month's picture is the
analysis ``as_of`` that month's date, and ``months.json`` beside it says what
happened when:

* **month 1** — the first planted criminal network carries on at its flat; its
  suspected adult (the *boss*) contacts a young person it never reached before, who
  is then found at the flat after going missing;
* **the disruption** — the flat is closed on the first month's date (a closure
  notice): nothing more is recorded there;
* **month 2** — the network moves to a new flat: the boss and the driver are seen
  there, one of the network's victims is found there, the network's car is seen at
  a school, and a new adult (the *recruiter*, an associate of the boss) contacts three
  young people, harming one of them;
* **month 3 on** — the network carries on at the new flat with people it already
  knows: nothing new for a watch rule.

Every month also has ordinary activity among young people (sightings at busy
places, new friendships) and a youth worker's new support for young people, which
no watch rule may take for risk.  ``months.json`` lists the alerts each watch rule
must raise and in which month, by the links that trigger them, so tests and
benchmarks can check that each fires once.

Everything follows from the seed; no date is after the last month.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from graphguard.errors import UsageError
from graphguard.synth import write_town

__all__ = ["ExpectedAlert", "MonthsTruth", "add_months", "read_months", "write_months"]

#: The day the town's own records end, and the first meeting's picture.
DEFAULT_START = dt.date(2026, 6, 1)

#: Ids of what the months add (the town's ids are two letters and digits only).
NEW_FLAT = "LOMOVED01"
RECRUITER = "ADRECRUIT01"


@dataclass(frozen=True)
class ExpectedAlert:
    """An alert a watch rule must raise once: the rule, the month and its trigger links."""

    rule: str
    month: int
    links: list[str]


@dataclass
class MonthsTruth:
    """What :func:`write_months` made happen, written as ``months.json``.

    Attributes
    ----------
    seed, young_people : int
        The arguments of the town.
    months : list of str
        The meeting dates (ISO), month 0 first: month *k*'s links are first seen after
        month *k-1*'s date and on or before month *k*'s.
    network : str
        The planted network that is disrupted and moves (``N01``).
    boss, driver, recruiter : str
        The network's suspected adult, its unflagged driver, the adult it recruits.
    vehicle : str
        The network's car.
    closed : str
        The flat closed on ``closed_on`` (month 1's date).
    moved_to : str
        The flat the network moves to in month 2.
    school : str
        The school the car is seen at in month 2.
    new_victims : list of str
        Young people the network reaches for the first time, in order.
    alerts : list of ExpectedAlert
        The alerts the watch rules must raise, once each.
    """

    seed: int
    young_people: int
    months: list[str]
    network: str
    boss: str
    driver: str
    recruiter: str
    vehicle: str
    closed: str
    closed_on: str
    moved_to: str
    school: str
    new_victims: list[str] = field(default_factory=list)
    alerts: list[ExpectedAlert] = field(default_factory=list)

    def dates(self) -> list[dt.date]:
        """The meeting dates as dates."""
        return [dt.date.fromisoformat(day) for day in self.months]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> MonthsTruth:
        data = json.loads(text)
        data["alerts"] = [ExpectedAlert(**alert) for alert in data.get("alerts", [])]
        return cls(**data)


def read_months(path: str | Path) -> MonthsTruth:
    """Read ``months.json`` from a folder written by :func:`write_months` (or the file)."""
    path = Path(path)
    if path.is_dir():
        path = path / "months.json"
    return MonthsTruth.from_json(path.read_text(encoding="utf-8"))


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months later (the month's last day if shorter).

    >>> add_months(dt.date(2026, 1, 31), 1)
    datetime.date(2026, 2, 28)
    """
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class _Rows:
    """New rows for the town's CSV files, each with an id of its month."""

    def __init__(self) -> None:
        self.links: list[dict[str, Any]] = []
        self.people: list[dict[str, Any]] = []
        self.locations: list[dict[str, Any]] = []
        self._numbers: dict[int, int] = {}

    def link(
        self,
        month: int,
        source: str,
        target: str,
        kind: str,
        first: dt.date,
        last: dt.date | None = None,
        **fields: Any,
    ) -> str:
        number = self._numbers.get(month, 0) + 1
        self._numbers[month] = number
        link_id = f"LM{month:02d}-{number:04d}"
        self.links.append(
            {
                "link_id": link_id,
                "source_id": source,
                "target_id": target,
                "type": kind,
                "first_seen": first.isoformat(),
                "last_seen": (last or first).isoformat(),
                **fields,
            }
        )
        return link_id


def _append(path: Path, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    with path.open(encoding="utf-8", newline="") as handle:
        columns = next(csv.reader(handle))
    with path.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns, lineterminator="\n")
        for row in rows:
            writer.writerow({column: row.get(column, "") for column in columns})


def _locations_of_kind(path: Path, kinds: set[str]) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [row["location_id"] for row in csv.DictReader(handle) if row["kind"] in kinds]


def write_months(
    out: str | Path,
    young_people: int,
    seed: int,
    *,
    months: int = 3,
    start: dt.date = DEFAULT_START,
) -> MonthsTruth:
    """Write a town whose records go on for ``months`` months after ``start``.

    Parameters
    ----------
    out : str or Path
        The dataset folder to write (as :func:`~graphguard.synth.write_town`), with
        ``truth.json`` and ``months.json``.
    young_people, seed : int
        The town's size and seed; everything follows from them.
    months : int, default 3
        Months after ``start`` (at least 2: the network must be disrupted and move).
    start : date, default 2026-06-01
        The day the town's own records end: month 0's picture.

    Returns
    -------
    MonthsTruth
        What happened when, as also written to ``months.json``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     truth = write_months(folder, 100, seed=1)
    >>> truth.months
    ['2026-06-01', '2026-07-01', '2026-08-01', '2026-09-01']
    >>> sorted({alert.rule for alert in truth.alerts})  # doctest: +NORMALIZE_WHITESPACE
    ['adult_newly_reaching_three', 'vehicle_of_concern_at_school',
     'young_person_found_at_context_of_concern', 'young_person_newly_linked_to_adult_of_concern']
    """
    if months < 2:
        raise UsageError(f"a month sequence needs at least 2 months, not {months}")
    out = Path(out)
    town = write_town(out, young_people, seed, end=start)
    dates = [add_months(start, k) for k in range(months + 1)]
    if dates[-1] > dt.date.today():
        raise UsageError(
            f"the last month ({dates[-1].isoformat()}) would be in the future: start earlier"
        )
    network = next(n for n in town.networks if n.style == "criminal")
    boss, driver = network.adults[0], network.unflagged_adults[0]
    flat, vehicle = network.locations[0], network.vehicles[0]
    rng = random.Random(f"months:{seed}")
    planted = {y for n in town.networks for y in n.victims}
    planted |= {p["young_person"] for p in town.placements}
    ordinary = sorted({y for group in town.peer_groups for y in group} - planted)
    rng.shuffle(ordinary)
    new_victims, ordinary = ordinary[:4], ordinary[4:]
    schools = _locations_of_kind(out / "locations.csv", {"school"})
    busy = sorted(
        set(_locations_of_kind(out / "locations.csv", {"shop", "park", "takeaway", "street"}))
        - set(network.locations)
    )
    school = schools[0]
    rows = _Rows()
    alerts: list[ExpectedAlert] = []
    graded: dict[str, Any] = {
        "agency": "police",
        "source_grade": "1",
        "intel_grade": "B",
        "handling": "P",
    }

    def day(month: int, offset: int) -> dt.date:
        return dates[month - 1] + dt.timedelta(days=offset)

    # Month 1: carrying on at the flat; a young person newly reached, then found there.
    first = new_victims[0]
    rows.link(1, boss, flat, "SEEN_AT", day(1, 2), day(1, 20), count=4, **graded)
    contact = rows.link(1, boss, first, "CONTACTED", day(1, 5), day(1, 25), count=12, **graded)
    found = rows.link(1, first, flat, "FOUND_AT", day(1, 14), reference="RHI-M01", **graded)
    alerts.append(ExpectedAlert("young_person_newly_linked_to_adult_of_concern", 1, [contact]))
    alerts.append(ExpectedAlert("young_person_found_at_context_of_concern", 1, [found]))

    # Month 2: the flat was closed on month 1's date; the network moves to a new flat.
    rows.locations.append(
        {
            "location_id": NEW_FLAT,
            "kind": "residential",
            "name": "Flat 4, Quay House",
            "postcode": "GG9 4QH",
            "area": "Docklands",
        }
    )
    rows.link(2, boss, NEW_FLAT, "SEEN_AT", day(2, 3), day(2, 28), count=6, **graded)
    rows.link(2, driver, NEW_FLAT, "SEEN_AT", day(2, 4), day(2, 27), count=5, **graded)
    rows.link(2, vehicle, NEW_FLAT, "SEEN_AT", day(2, 4), day(2, 26), count=9, **graded)
    victim = network.victims[0]
    moved_find = rows.link(
        2, victim, NEW_FLAT, "FOUND_AT", day(2, 12), reference="RHI-M02", **graded
    )
    at_school = rows.link(
        2, vehicle, school, "SEEN_AT", day(2, 15), count=3, reference="ANPR-M02", **graded
    )
    alerts.append(ExpectedAlert("young_person_found_at_context_of_concern", 2, [moved_find]))
    alerts.append(ExpectedAlert("vehicle_of_concern_at_school", 2, [at_school]))
    rows.people.append(
        {
            "person_id": RECRUITER,
            "role": "adult",
            "suspected": "true",
            "area": "Docklands",
        }
    )
    rows.link(2, boss, RECRUITER, "ASSOCIATES_WITH", day(2, 1), day(2, 25), **graded)
    reached: list[str] = []
    for number, young_person in enumerate(new_victims[1:], start=1):
        link = rows.link(
            2,
            RECRUITER,
            young_person,
            "CONTACTED",
            day(2, 5 + number),
            day(2, 26),
            count=8,
            **graded,
        )
        links = [link]
        if number == 1:
            links.append(
                rows.link(
                    2,
                    RECRUITER,
                    young_person,
                    "ALLEGED_HARM",
                    day(2, 20),
                    reference="INT-M02",
                    **graded,
                )
            )
        reached.extend(links)
        alerts.append(ExpectedAlert("young_person_newly_linked_to_adult_of_concern", 2, links))
    alerts.append(ExpectedAlert("adult_newly_reaching_three", 2, reached))

    # Month 3 on: the same people at the new flat — nothing new for a watch rule.
    for month in range(3, months + 1):
        rows.link(
            month, boss, NEW_FLAT, "SEEN_AT", day(month, 2), day(month, 25), count=5, **graded
        )
        rows.link(
            month, victim, NEW_FLAT, "SEEN_AT", day(month, 6), day(month, 20), count=2, **graded
        )
        rows.link(
            month,
            RECRUITER,
            new_victims[1],
            "CONTACTED",
            day(month, 3),
            day(month, 24),
            count=10,
            **graded,
        )

    # Every month: ordinary life, and a youth worker's new support (protective).
    worker = town.youth_workers[0] if town.youth_workers else None
    for month in range(1, months + 1):
        for _ in range(12):
            rows.link(
                month,
                rng.choice(ordinary),
                rng.choice(busy),
                "SEEN_AT",
                day(month, rng.randrange(1, 27)),
                agency="youth_service",
            )
        for _ in range(6):
            a, b = rng.sample(ordinary, 2)
            rows.link(
                month, a, b, "ASSOCIATES_WITH", day(month, rng.randrange(1, 27)), agency="education"
            )
        if worker is not None:
            for young_person in rng.sample(ordinary, 3):
                rows.link(
                    month,
                    worker,
                    young_person,
                    "SUPPORTS",
                    day(month, 10),
                    agency="youth_service",
                    protective="true",
                )

    _append(out / "people.csv", rows.people)
    _append(out / "locations.csv", rows.locations)
    _append(out / "links.csv", rows.links)
    truth = MonthsTruth(
        seed=seed,
        young_people=young_people,
        months=[d.isoformat() for d in dates],
        network=network.id,
        boss=boss,
        driver=driver,
        recruiter=RECRUITER,
        vehicle=vehicle,
        closed=flat,
        closed_on=dates[1].isoformat(),
        moved_to=NEW_FLAT,
        school=school,
        new_victims=new_victims,
        alerts=alerts,
    )
    (out / "months.json").write_text(truth.to_json(), encoding="utf-8", newline="\n")
    return truth
