"""The retention policy: which rule gives each record its review date.

A policy is a CSV file, one rule a row, read top to bottom: the first rule whose
columns all match a record is the record's rule (docs/data-protection.md).  It is the
file ``GRAPHGUARD_RETENTION_POLICY`` names, else ``retention-policy.csv`` in the state
home, else graphguard's defaults (:data:`DEFAULT_POLICY`), which are a starting point
for the partnership's own policy, not a policy the partnership has agreed.

Columns (case-insensitive, any order; lists separated by ``;``):

``name``
    The rule's name, unique: it is what the review list and the deletion log cite.
``agency``, ``source``, ``link_type``, ``category``, ``age_at_time``
    What the rule is for; an empty cell matches anything.  ``age_at_time`` is
    ``child`` (a young person under 18 on the record's date) or ``adult``.  A rule
    with a ``link_type`` is for links only.
``review_after``
    How long after the record's date (a link's last seen date) it is reviewed:
    ``6 years``, ``18 months``, ``90 days``.
``until_age``
    Optional: not reviewed before the young person the record is about reaches this
    age (when their date of birth is recorded).
``reason``
    Why this period: shown with the policy, kept with it.

The last rule must be a catch-all (every matching column empty), so every record has
a rule.  A bad file is refused with one line naming the file, the line and the reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from graphguard.errors import UsageError
from graphguard.model import Agency, Category, LinkType

__all__ = [
    "AGES",
    "DEFAULT_POLICY",
    "POLICY_FILE",
    "Period",
    "Policy",
    "Rule",
    "load_policy",
    "parse_period",
    "parse_policy",
    "policy_path",
]

#: The policy file's name in the state home.
POLICY_FILE = "retention-policy.csv"
#: What ``age_at_time`` may say.
AGES = ("child", "adult")
#: The defaults' source, shipped with graphguard.
DEFAULT_POLICY = "default-policy.csv"

_COLUMNS = (
    "name",
    "agency",
    "source",
    "link_type",
    "category",
    "age_at_time",
    "review_after",
    "until_age",
    "reason",
)
_MATCHING = ("agency", "source", "link_type", "category", "age_at_time")
_PERIOD = re.compile(r"^\s*(\d{1,4})\s*(years?|y|months?|m|days?|d)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    """A length of time in years, months or days (calendar arithmetic, as people count)."""

    amount: int
    unit: str  # "years", "months" or "days"

    def after(self, day: dt.date) -> dt.date:
        """The day this period after ``day`` (29 February + 1 year is 28 February).

        >>> Period(6, "years").after(dt.date(2020, 2, 29))
        datetime.date(2026, 2, 28)
        >>> Period(18, "months").after(dt.date(2025, 8, 31))
        datetime.date(2027, 2, 28)
        """
        if self.unit == "days":
            return day + dt.timedelta(days=self.amount)
        months = self.amount * (12 if self.unit == "years" else 1)
        year, month = divmod(day.month - 1 + months, 12)
        return _clamped(day.year + year, month + 1, day.day)

    def __str__(self) -> str:
        unit = self.unit if self.amount != 1 else self.unit[:-1]
        return f"{self.amount} {unit}"


def _clamped(year: int, month: int, day: int) -> dt.date:
    while True:
        try:
            return dt.date(year, month, day)
        except ValueError:
            day -= 1


def parse_period(text: str) -> Period:
    """``"6 years"``, ``"18 months"``, ``"90 days"`` (or ``6y``, ``18m``, ``90d``).

    >>> str(parse_period("6y"))
    '6 years'
    """
    found = _PERIOD.match(text)
    if not found:
        raise ValueError(f"{text!r} is not a period: write e.g. '6 years', '18 months', '90 days'")
    unit = found.group(2).lower()[0]
    return Period(int(found.group(1)), {"y": "years", "m": "months", "d": "days"}[unit])


@dataclass(frozen=True)
class Rule:
    """One row of the policy: what it is for, how long, and why."""

    name: str
    line: int
    review_after: Period
    agencies: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    link_types: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    age_at_time: str | None = None
    until_age: int | None = None
    reason: str = ""

    @property
    def catch_all(self) -> bool:
        """Whether the rule matches every record."""
        return not (
            self.agencies or self.sources or self.link_types or self.categories or self.age_at_time
        )

    def matches(
        self,
        *,
        agency: str | None,
        source: str | None,
        link_type: str | None,
        categories: Iterable[str],
        child: bool | None,
    ) -> bool:
        """Whether a record with these facts falls under this rule.

        ``link_type`` is None for a person, place or vehicle record; ``child`` is None
        when no age is known (then only rules without ``age_at_time`` match).
        """
        if self.agencies and agency not in self.agencies:
            return False
        if self.sources and source not in self.sources:
            return False
        if self.link_types and link_type not in self.link_types:
            return False
        if self.categories and not self.categories.intersection(categories):
            return False
        return self.age_at_time is None or child == (self.age_at_time == "child")

    def describe(self) -> str:
        """The rule in one phrase: ``police-harm (10 years; to age 25)``."""
        until = f"; not before age {self.until_age}" if self.until_age else ""
        return f"{self.name} ({self.review_after}{until})"


@dataclass(frozen=True)
class Policy:
    """The rules, in order, and where they were read from."""

    rules: tuple[Rule, ...]
    origin: str

    def rule_for(
        self,
        *,
        agency: str | None,
        source: str | None,
        link_type: str | None,
        categories: Iterable[str],
        child: bool | None,
    ) -> Rule:
        """The first rule that matches (the last rule is a catch-all, so there is one)."""
        wanted = tuple(categories)
        for rule in self.rules:
            if rule.matches(
                agency=agency,
                source=source,
                link_type=link_type,
                categories=wanted,
                child=child,
            ):
                return rule
        return self.rules[-1]  # unreachable while parse_policy demands a catch-all


def policy_path(settings: object = None) -> Path | None:
    """The policy file in force: the setting's, else the state home's if present, else None."""
    from graphguard.settings import Settings, get_settings

    chosen = settings if isinstance(settings, Settings) else get_settings()
    if chosen.retention_policy is not None:
        return chosen.retention_policy.expanduser().absolute()
    path = chosen.home / POLICY_FILE
    return path if path.exists() else None


def load_policy(settings: object = None) -> Policy:
    """The policy in force (see :func:`policy_path`), parsed and checked.

    Raises
    ------
    UsageError
        When the file cannot be read, or a row breaks a rule (one line: file, line,
        reason).
    """
    path = policy_path(settings)
    if path is None:
        text = resources.files("graphguard.retention").joinpath(DEFAULT_POLICY).read_text("utf-8")
        return parse_policy(text, "graphguard's default retention policy")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{path}: the retention policy file does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise UsageError(f"{path}: the retention policy cannot be read ({reason})") from None
    return parse_policy(text, str(path))


def parse_policy(text: str, origin: str) -> Policy:
    """Parse a policy's CSV ``text``; ``origin`` names it in errors and in the listing.

    Raises
    ------
    UsageError
        ``"<origin> line N: <reason>"`` for the first problem found.

    Examples
    --------
    >>> policy = parse_policy("name,review_after\\nall,6 years\\n", "p.csv")
    >>> policy.rules[0].describe()
    'all (6 years)'
    >>> parse_policy("name,review_after\\nall,soon\\n", "p.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphguard.errors.UsageError: p.csv line 2, column review_after: 'soon' is not a period: ...
    """
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise UsageError(f"{origin}: the retention policy is empty (no header row)") from None
    except csv.Error as error:
        raise UsageError(f"{origin} line 1: {error}") from None
    columns = [c.strip().lower() for c in header]
    for column in columns:
        if column and column not in _COLUMNS:
            raise UsageError(
                f"{origin} line 1: unknown column {column!r} (the columns are "
                f"{', '.join(_COLUMNS)})"
            )
    for required in ("name", "review_after"):
        if required not in columns:
            raise UsageError(f"{origin} line 1: required column {required} is missing")
    rules: list[Rule] = []
    names: dict[str, int] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
                raise UsageError(
                    f"{origin} line {line}: the row has {len(cells)} cells but the header "
                    f"has {len(columns)}"
                )
            row = {c: (cells[i].strip() if i < len(cells) else "") for i, c in enumerate(columns)}
            rule = _rule(row, line, origin)
            if rule.name in names:
                raise UsageError(
                    f"{origin} line {line}, column name: rule {rule.name!r} is already on "
                    f"line {names[rule.name]}"
                )
            names[rule.name] = line
            rules.append(rule)
    except csv.Error as error:
        raise UsageError(f"{origin} line {reader.line_num}: {error}") from None
    if not rules:
        raise UsageError(f"{origin}: the retention policy has no rules")
    if not rules[-1].catch_all:
        raise UsageError(
            f"{origin} line {rules[-1].line}: the last rule must be a catch-all (agency, "
            "source, link_type, category and age_at_time all empty), so every record has a rule"
        )
    for rule in rules[:-1]:
        if rule.catch_all:
            raise UsageError(
                f"{origin} line {rule.line}: rule {rule.name!r} matches every record, so the "
                "rules after it are never used: make it the last"
            )
    return Policy(tuple(rules), origin)


def _rule(row: dict[str, str], line: int, origin: str) -> Rule:
    def problem(column: str, reason: str) -> UsageError:
        return UsageError(f"{origin} line {line}, column {column}: {reason}")

    name = row.get("name", "")
    if not name:
        raise problem("name", "every rule needs a name")
    if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", name):
        raise problem("name", f"{name!r} is not a rule name (1-64 of A-Z a-z 0-9 _ . : -)")
    try:
        period = parse_period(row.get("review_after", ""))
    except ValueError as error:
        raise problem("review_after", str(error)) from None
    lists: dict[str, frozenset[str]] = {}
    vocabularies: dict[str, tuple[str, ...] | None] = {
        "agency": tuple(a.value for a in Agency),
        "source": None,
        "link_type": tuple(t.value for t in LinkType),
        "category": tuple(c.value for c in Category),
    }
    for column, known in vocabularies.items():
        values = [v.strip() for v in row.get(column, "").split(";") if v.strip()]
        if column == "link_type":
            values = [v.upper() for v in values]
        elif column != "source":
            values = [v.lower() for v in values]
        for value in values:
            if known is not None and value not in known:
                raise problem(column, f"{value!r} is not one of {', '.join(known)}")
        lists[column] = frozenset(values)
    age = row.get("age_at_time", "").lower() or None
    if age is not None and age not in AGES:
        raise problem("age_at_time", f"{age!r} is not child or adult")
    until_text = row.get("until_age", "")
    until: int | None = None
    if until_text:
        if not until_text.isdigit() or not 1 <= int(until_text) <= 120:
            raise problem("until_age", f"{until_text!r} is not an age in years (1-120)")
        until = int(until_text)
    return Rule(
        name=name,
        line=line,
        review_after=period,
        agencies=lists["agency"],
        sources=lists["source"],
        link_types=lists["link_type"],
        categories=lists["category"],
        age_at_time=age,
        until_age=until,
        reason=row.get("reason", ""),
    )
