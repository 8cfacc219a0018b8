"""Evidence weights: 3x5x2 grading, recency and count, each in [0, 1] and monotone."""

from __future__ import annotations

import datetime as dt
import itertools

import networkx as nx
import pytest

from graphguard.analysis.evidence import (
    INTEL_FACTORS,
    SOURCE_FACTORS,
    default_as_of,
    evidence_components,
    link_weight,
)

DAY = dt.date(2026, 6, 1)


def weight(**edge: object) -> float:
    return link_weight(edge, as_of=DAY)


def test_graded_three_or_e_counts_for_very_little() -> None:
    best = weight(source_grade="1", intel_grade="A", last_seen=DAY)
    assert weight(source_grade="3", intel_grade="E", last_seen=DAY) < best / 50
    assert weight(source_grade="3", intel_grade="A", last_seen=DAY) < best / 4
    assert weight(source_grade="1", intel_grade="E", last_seen=DAY) < best / 10


@pytest.mark.parametrize("table", [SOURCE_FACTORS, INTEL_FACTORS])
def test_grading_factors_fall_with_the_grade(table: dict[str, float]) -> None:
    values = [table[grade] for grade in sorted(table)]
    assert values == sorted(values, reverse=True)
    assert values[0] == 1.0 and all(0 < v <= 1 for v in values)


def test_older_counts_less_and_halves_each_half_life() -> None:
    fresh = weight(source_grade="1", intel_grade="B", last_seen=DAY)
    year_old = weight(source_grade="1", intel_grade="B", last_seen=DAY - dt.timedelta(days=365))
    five_years = weight(source_grade="1", intel_grade="B", last_seen=dt.date(2021, 6, 1))
    assert year_old == pytest.approx(fresh / 2)
    assert five_years < year_old < fresh
    quarter = {"source_grade": "1", "last_seen": DAY - dt.timedelta(days=90)}
    assert link_weight(quarter, as_of=DAY, half_life_days=90) == pytest.approx(
        link_weight({"source_grade": "1", "last_seen": DAY}, as_of=DAY) / 2
    )


def test_last_seen_wins_over_first_seen_and_future_dates_count_as_fresh() -> None:
    old_first = weight(first_seen=dt.date(2020, 1, 1), last_seen=DAY)
    assert old_first == pytest.approx(weight(first_seen=DAY))
    assert weight(last_seen=DAY + dt.timedelta(days=30)) == pytest.approx(weight(last_seen=DAY))


def test_undated_is_a_documented_default_below_fresh() -> None:
    parts = evidence_components({"source_grade": "1", "intel_grade": "A"}, as_of=DAY)
    assert parts.recency == 0.5
    assert parts.weight < weight(source_grade="1", intel_grade="A", last_seen=DAY)


def test_count_has_diminishing_returns() -> None:
    counts = (1, 2, 3, 10, 100)
    factors = [evidence_components({"count": n}, as_of=DAY).count_factor for n in counts]
    assert factors == sorted(factors)
    gains = [b - a for a, b in itertools.pairwise(factors)]
    assert gains == sorted(gains, reverse=True)
    assert factors[-1] <= 1.0


def test_ungraded_defaults_depend_on_the_agency() -> None:
    police = evidence_components({"agency": "police", "last_seen": DAY}, as_of=DAY)
    school = evidence_components({"agency": "education", "last_seen": DAY}, as_of=DAY)
    unknown = evidence_components({"last_seen": DAY}, as_of=DAY)
    assert police.defaulted and school.defaulted
    assert police.label == "ungraded"
    assert police.grading < school.grading
    assert unknown.grading == police.grading
    partial = evidence_components({"agency": "police", "source_grade": "1"}, as_of=DAY)
    assert partial.grading == SOURCE_FACTORS["1"] * INTEL_FACTORS["C"]
    assert partial.label == "1/-/-"


def test_handling_code_never_changes_a_weight() -> None:
    base = {"source_grade": "2", "intel_grade": "B", "last_seen": DAY}
    assert link_weight({**base, "handling": "P"}, as_of=DAY) == link_weight(
        {**base, "handling": "C"}, as_of=DAY
    )


def test_every_weight_is_in_the_unit_interval() -> None:
    for source in ("1", "2", "3", None):
        for intel in ("A", "B", "C", "D", "E", None):
            for count in (1, 5, 500):
                value = link_weight(
                    {"source_grade": source, "intel_grade": intel, "count": count}, as_of=DAY
                )
                assert 0 <= value <= 1


def test_default_as_of_is_the_latest_date_in_the_graph_never_today() -> None:
    g = nx.MultiDiGraph()
    g.add_edge("a", "b", first_seen=dt.date(2024, 1, 1), last_seen=dt.date(2025, 3, 1))
    g.add_edge("b", "c", first_seen=dt.date(2025, 5, 1))
    assert default_as_of(g) == dt.date(2025, 5, 1)
    assert default_as_of(nx.MultiDiGraph([("a", "b")])) == dt.date.today()


def test_half_life_must_be_positive() -> None:
    with pytest.raises(ValueError, match="half_life_days"):
        link_weight({}, as_of=DAY, half_life_days=0)
