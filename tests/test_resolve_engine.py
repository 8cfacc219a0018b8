"""The resolver (issue 13 item 2): comparisons, hard rules, decisions, determinism, ids.

Every test builds its records by hand, as the v2 reader gives them (qualified ids), so
each asserts one behaviour of :func:`graphguard.resolve.match_records`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from graphguard.errors import UsageError
from graphguard.ingest import Dataset
from graphguard.model import Location, Person, Vehicle
from graphguard.resolve import (
    Decision,
    MatchOptions,
    Outcome,
    Resolution,
    match_records,
    naive_match,
)
from graphguard.resolve.clusters import Join, cluster
from graphguard.resolve.nicknames import canonical_first_name, name_forms
from graphguard.settings import Settings

NHS_1, NHS_2 = "9434765919", "9434765927"
DAY = dt.date(2026, 11, 20)


def person(record_id: str, **fields: Any) -> tuple[str, Person]:
    fields.setdefault("role", "young_person")
    return record_id, Person(person_id=record_id.split(":")[1], **fields)


def records(*people: tuple[str, Person], **more: Any) -> Dataset:
    return Dataset(people=dict(people), version=2, **more)


def candidate(resolution: Resolution, a: str, b: str) -> Any:
    pair = tuple(sorted((a, b)))
    found = [c for c in resolution.candidates if (c.record_a, c.record_b) == pair]
    assert found, f"{a} and {b} were not compared"
    return found[0]


def together(resolution: Resolution, a: str, b: str) -> bool:
    return resolution.entity_of[a] == resolution.entity_of[b]


JESS = person("police:P1", name="Jess Marlow", date_of_birth="2010-03-04", postcode="S1 2AB")
JESSICA = person("school:S1", name="Jessica Marlow", date_of_birth="2010-04-03", postcode="s12ab")


# ------------------------------------------------------------------- what is found


def test_a_nickname_with_day_and_month_transposed_is_one_young_person() -> None:
    resolution = match_records(records(JESS, JESSICA))
    assert together(resolution, "police:P1", "school:S1")
    pair = candidate(resolution, "police:P1", "school:S1")
    assert pair.outcome is Outcome.JOINED
    assert "name: nickname" in pair.agreements  # a child's names are never quoted
    assert "date of birth: day and month transposed" in pair.agreements
    assert "postcode: same" in pair.agreements
    assert not any("Jess" in words for words in pair.agreements)


def test_an_adults_nickname_is_explained_with_the_two_names() -> None:
    tom = person("police:A1", role="adult", name="Tom Reed", date_of_birth="1980-01-02")
    thomas = person("health:A9", role="adult", name="Thomas Reed", date_of_birth="1980-01-02")
    pair = candidate(match_records(records(tom, thomas)), "police:A1", "health:A9")
    assert "name: nickname (Thomas / Tom)" in pair.agreements or (
        "name: nickname (Tom / Thomas)" in pair.agreements
    )


def test_a_typo_and_a_date_one_digit_off_are_named_in_words() -> None:
    a = person("police:P2", name="Callum Brackwater", date_of_birth="1996-07-30", role="adult")
    b = person("social:S2", name="Callum Brckwater", date_of_birth="1996-07-31", role="adult")
    pair = candidate(match_records(records(a, b)), "police:P2", "social:S2")
    assert "name: similar spelling" in pair.agreements
    assert "date of birth: one digit off" in pair.agreements


def test_a_shared_nhs_number_joins_records_that_share_little_else() -> None:
    a = person("health:H1", name="Kai Moss", nhs_number=NHS_1)
    b = person("social:S1", name="Kai Mosse", nhs_number=NHS_1, date_of_birth="2011-05-06")
    resolution = match_records(records(a, b))
    assert together(resolution, "health:H1", "social:S1")
    assert "NHS number: same" in candidate(resolution, "health:H1", "social:S1").agreements


@pytest.mark.parametrize("placeholder", ["0000000000", "9999999999"])
def test_a_placeholder_nhs_number_neither_joins_nor_separates(placeholder: str) -> None:
    # Two children the same system wrote "not known" for: nothing else in common.
    a = person("health:H1", name="Kai Moss", nhs_number=placeholder)
    b = person("social:S1", name="Ruby Tate", nhs_number=placeholder)
    resolution = match_records(records(a, b))
    assert not together(resolution, "health:H1", "social:S1")
    # One child's two records, one carrying the placeholder: not held apart by it.
    same = {"name": "Logan Ahmed", "date_of_birth": "2014-05-25", "postcode": "GG4 4LL"}
    c = person("health:H2", **same, nhs_number=placeholder)
    d = person("social:S2", **same, nhs_number=NHS_2)
    resolution = match_records(records(c, d))
    assert "NHS numbers" not in (candidate(resolution, "health:H2", "social:S2").rule or "")
    assert together(resolution, "health:H2", "social:S2")


def test_nicknames_are_one_name_both_ways() -> None:
    assert "jessica" in name_forms("Jess") and "jess" in name_forms("JESSICA")
    assert canonical_first_name("Tommy") == canonical_first_name("Thomas")
    assert "tim" not in name_forms("Tom")


def test_same_registration_is_one_vehicle_and_places_join_on_uprn() -> None:
    dataset = Dataset(
        vehicles={
            "police:V1": Vehicle(vehicle_id="V1", registration="zx19 kwm"),
            "anpr:R7": Vehicle(vehicle_id="R7", registration="ZX19KWM"),
            "anpr:R8": Vehicle(vehicle_id="R8", registration="YT68MRC"),
        },
        locations={
            "police:L1": Location(
                location_id="L1", kind="takeaway", name="Golden Gull", uprn="100"
            ),
            "social:L4": Location(
                location_id="L4", kind="takeaway", name="Golden Gull Takeaway", uprn="100"
            ),
        },
        version=2,
    )
    resolution = match_records(dataset)
    assert together(resolution, "police:V1", "anpr:R7")
    assert not together(resolution, "anpr:R7", "anpr:R8")
    assert together(resolution, "police:L1", "social:L4")
    assert resolution.entity_of["police:V1"].startswith("V-")
    assert resolution.entity_of["police:L1"].startswith("L-")


# ------------------------------------------------------------------- hard rules


def test_a_young_person_and_an_adult_are_never_joined_automatically() -> None:
    same = {"name": "Steven Rimeby", "date_of_birth": "2009-11-05", "postcode": "ZZ1 1AA"}
    son = person("health:H1", **same, phone="07700 900123")
    father = person("social:S1", role="adult", **same, phone="07700 900123")
    resolution = match_records(records(son, father))
    pair = candidate(resolution, "health:H1", "social:S1")
    assert pair.match_probability >= 0.95  # the machine alone would have joined them
    assert pair.outcome is Outcome.REVIEW
    assert "a young person and an adult are never joined automatically" in pair.rule
    assert not together(resolution, "health:H1", "social:S1")


def test_twins_are_never_joined_on_surname_birthday_and_address() -> None:
    amy = person("school:S2", name="Amy Marlow", date_of_birth="2010-03-04", postcode="S1 2AB")
    resolution = match_records(records(JESS, amy))
    pair = candidate(resolution, "police:P1", "school:S2")
    assert "same surname, different first name" in pair.rule
    assert pair.outcome is not Outcome.JOINED
    assert not together(resolution, "police:P1", "school:S2")


def test_twins_with_one_nhs_number_are_one_person_after_all() -> None:
    a = person("health:H1", name="Amy Marlow", date_of_birth="2010-03-04", nhs_number=NHS_1)
    b = person("social:S1", name="Aimee Marlow", date_of_birth="2010-03-04", nhs_number=NHS_1)
    assert together(match_records(records(a, b)), "health:H1", "social:S1")


def test_two_records_of_one_source_are_joined_only_when_the_source_says_so() -> None:
    same = {"name": "Helen Nettlecombe", "date_of_birth": "1986-09-01", "role": "adult"}
    first = person("school:E1", **same, postcode="ZZ1 1AA")
    second = person("school:E2", **same, postcode="ZZ1 1AA")
    resolution = match_records(records(first, second))
    pair = candidate(resolution, "school:E1", "school:E2")
    assert pair.outcome is Outcome.REVIEW
    assert "both records are from school" in pair.rule
    assert not together(resolution, "school:E1", "school:E2")

    said = person("school:E2", **same, postcode="ZZ1 1AA", extra={"same_as": "E1"})
    resolution = match_records(records(first, said))
    assert together(resolution, "school:E1", "school:E2")
    assert "same_as" in candidate(resolution, "school:E1", "school:E2").rule


def test_two_different_nhs_numbers_are_never_joined() -> None:
    same = {"name": "Logan Ahmed", "date_of_birth": "2014-05-25", "postcode": "GG4 4LL"}
    a = person("health:H1", **same, nhs_number=NHS_1)
    b = person("social:S1", **same, nhs_number=NHS_2)
    resolution = match_records(records(a, b))
    pair = candidate(resolution, "health:H1", "social:S1")
    assert "different NHS numbers are two people" in pair.rule
    assert not together(resolution, "health:H1", "social:S1")


def test_a_bridge_record_does_not_chain_two_nhs_numbers_into_one_person() -> None:
    same = {"name": "Logan Ahmed", "date_of_birth": "2014-05-25", "postcode": "GG4 4LL"}
    a = person("health:H1", **same, nhs_number=NHS_1)
    b = person("social:S1", **same, nhs_number=NHS_2)
    bridge = person("school:E1", **same)
    resolution = match_records(records(a, b, bridge))
    assert not together(resolution, "health:H1", "social:S1")
    held = [c for c in resolution.candidates if c.rule and "cut to keep apart" in c.rule]
    assert held and all("whose NHS numbers differ" in c.rule for c in held)


def test_a_bridge_record_does_not_chain_two_records_of_one_source_together() -> None:
    same = {"name": "Ewa Patel", "date_of_birth": "2010-10-23"}
    first = person("social:S1", **same, postcode="GG4 1UL")
    second = person("social:S2", **same)
    bridge = person("health:H7", **same)
    resolution = match_records(records(first, second, bridge))
    assert not together(resolution, "social:S1", "social:S2")
    said = person("social:S2", **same, extra={"same_as": "S1"})
    assert together(match_records(records(first, said, bridge)), "social:S1", "health:H7")
    assert together(match_records(records(first, said, bridge)), "social:S1", "social:S2")


def test_namesakes_with_different_postcodes_and_nothing_else_are_held_apart() -> None:
    a = person("school:E1", name="Zara Orchard", date_of_birth="2009-05-13", postcode="ZZ4 3QR")
    b = person("health:H8", name="Zara Orchard", date_of_birth="2009-05-13", postcode="ZZ1 9XY")
    resolution = match_records(records(a, b))
    assert "namesakes" in candidate(resolution, "school:E1", "health:H8").rule
    assert not together(resolution, "school:E1", "health:H8")


def test_a_bridge_with_nothing_to_tell_two_namesakes_apart_joins_neither() -> None:
    # Seen at 3000 young people: a health record with a name and a date of birth only
    # matched two namesakes alike, and the cut left it with whichever side weighed more.
    same = {"name": "Lewis Pearson", "date_of_birth": "2014-04-09"}
    school = person("school:E1", **same, postcode="GG2 4EG")
    police = person("police:P1", **same, postcode="GG2 4EG")
    namesake = person("social:S9", **same, postcode="GG7 1AA")
    bridge = person("health:H1", **same)
    resolution = match_records(records(school, police, namesake, bridge))
    assert together(resolution, "school:E1", "police:P1")
    assert not together(resolution, "school:E1", "social:S9")
    assert not together(resolution, "health:H1", "school:E1")
    assert not together(resolution, "health:H1", "social:S9")
    kept = candidate(resolution, "health:H1", "school:E1")
    assert kept.outcome is Outcome.REVIEW
    assert "health:H1 bridged" in kept.rule and "nothing tells" in kept.rule


def test_a_bridge_that_shares_a_phone_with_one_namesake_stays_with_it() -> None:
    same = {"name": "Lewis Pearson", "date_of_birth": "2014-04-09"}
    school = person("school:E1", **same, postcode="GG2 4EG", phone="+447700900123")
    namesake = person("social:S9", **same, postcode="GG7 1AA")
    bridge = person("health:H1", **same, phone="+447700900123")
    resolution = match_records(records(school, namesake, bridge))
    assert together(resolution, "health:H1", "school:E1")
    assert not together(resolution, "health:H1", "social:S9")


# ------------------------------------------------------------------- decisions


def decision(a: str, b: str, verdict: str, line: int = 2) -> Decision:
    return Decision(a, b, verdict, "analyst", DAY, "checked the case file", line)


def test_a_different_decision_overrides_a_join_and_a_later_one_reverses_it() -> None:
    said_different = records(
        JESS, JESSICA, decisions=[decision("school:S1", "police:P1", "different")]
    )
    resolution = match_records(said_different)
    assert not together(resolution, "police:P1", "school:S1")
    pair = candidate(resolution, "police:P1", "school:S1")
    assert pair.outcome is Outcome.APART and pair.decision is not None
    assert "an analyst decided different" in pair.rule

    reversed_ = records(
        JESS,
        JESSICA,
        decisions=[
            decision("school:S1", "police:P1", "different", 2),
            decision("police:P1", "school:S1", "same", 3),
        ],
    )
    assert together(match_records(reversed_), "police:P1", "school:S1")


def test_a_same_decision_joins_what_the_rules_held_back() -> None:
    amy = person("school:S2", name="Amy Marlow", date_of_birth="2010-03-04", postcode="S1 2AB")
    dataset = records(JESS, amy, decisions=[decision("police:P1", "school:S2", "same")])
    resolution = match_records(dataset)
    assert together(resolution, "police:P1", "school:S2")
    assert candidate(resolution, "police:P1", "school:S2").outcome is Outcome.JOINED


def test_a_different_decision_splits_an_entity_held_by_a_chain_of_joins() -> None:
    youth = person("youth:Y1", name="Jess Marlow", postcode="S1 2AB", phone="07700 900123")
    jess = person(
        "police:P1", name="Jess Marlow", date_of_birth="2010-03-04", postcode="S1 2AB",
        phone="07700 900123",
    )  # fmt: skip
    resolution = match_records(records(jess, JESSICA, youth))
    assert together(resolution, "police:P1", "school:S1")
    assert together(resolution, "police:P1", "youth:Y1")
    apart = records(
        jess, JESSICA, youth, decisions=[decision("school:S1", "youth:Y1", "different")]
    )
    split = match_records(apart)
    assert not together(split, "school:S1", "youth:Y1")
    cut = [
        c
        for c in split.candidates
        if c.rule and "cut to keep apart school:S1 and youth:Y1" in c.rule
    ]
    assert cut and all(c.outcome is Outcome.REVIEW for c in cut)


def test_a_decision_naming_an_unknown_record_is_a_finding_not_applied() -> None:
    dataset = records(JESS, JESSICA, decisions=[decision("police:P1", "police:NOPE", "same")])
    resolution = match_records(dataset)
    assert any("police:NOPE" in f.message for f in resolution.findings)
    assert "police:NOPE" not in resolution.entity_of


def test_the_weakest_join_is_cut() -> None:
    joins = [Join("a", "b", 0.99), Join("b", "c", 0.96), Join("c", "d", 0.999)]
    groups, split = cluster("abcd", joins, [("a", "d")])
    assert groups == [("a", "b"), ("c", "d")]
    assert split.cut == {("b", "c"): ("a", "d")}
    groups, split = cluster("ab", [Join("a", "b")], [("a", "b")])
    assert groups == [("a", "b")] and split.contradicted == [("a", "b")]


# ------------------------------------------------------------------- settings, stability


def test_thresholds_are_settings_and_review_above_join_is_refused() -> None:
    dataset = records(JESS, JESSICA)
    probability = candidate(match_records(dataset), "police:P1", "school:S1").match_probability
    strict = Settings(match_join_threshold=1.0, match_review_threshold=probability)
    pair = candidate(match_records(dataset, settings=strict), "police:P1", "school:S1")
    if probability < 1.0:
        assert pair.outcome is Outcome.REVIEW
    with pytest.raises(UsageError, match="GRAPHGUARD_MATCH_REVIEW_THRESHOLD"):
        MatchOptions(join_threshold=0.6, review_threshold=0.9)


def _town() -> Dataset:
    people = dict(
        [
            JESS,
            JESSICA,
            person("youth:Y1", name="Jess Marlow", aliases="JJ", phone="07700 900123"),
            person("social:P7", name="Jess Marlow", phone="07700 900123", postcode="S1 2AB"),
            person("school:S2", name="Amy Marlow", date_of_birth="2010-03-04", postcode="S1 2AB"),
            person("police:A1", role="adult", name="Tom Reed", date_of_birth="1980-01-02"),
            person("health:A9", role="adult", name="Thomas Reed", date_of_birth="1980-01-02"),
            person("health:H1", name="Kai Moss", nhs_number=NHS_1),
            person("social:S9", name="Kai Mosse", nhs_number=NHS_1),
        ]
    )
    return Dataset(people=people, version=2)


def test_the_same_records_give_the_same_resolution_value_for_value() -> None:
    first, second = match_records(_town()), match_records(_town())
    assert first.entity_of == second.entity_of
    assert first.candidates == second.candidates
    assert first.settings == second.settings


def test_estimated_parameters_are_deterministic_too() -> None:
    settings = Settings(match_train_from=2, match_seed=7)
    first = match_records(_town(), settings=settings)
    second = match_records(_town(), settings=settings)
    assert first.settings["parameters"]["person"] == "estimated from the data"
    assert first.candidates == second.candidates and first.entity_of == second.entity_of


def test_adding_an_unrelated_record_renames_no_entity() -> None:
    before = match_records(_town())
    # Probabilities depend on all the records (the match rate), so a pair right on a
    # threshold could move; every entity here is held by joins far above it.
    town = _town()
    town.people["aaa:Z0"] = Person(person_id="Z0", role="adult", name="Unrelated Person")
    after = match_records(town)
    assert {r: after.entity_of[r] for r in before.entity_of} == before.entity_of
    assert after.entity_of["aaa:Z0"] not in before.entity_of.values()


def test_the_naive_rule_joins_exact_name_and_birthday_only() -> None:
    same = person("health:H5", name="Jess Marlow", date_of_birth="2010-03-04")
    naive = naive_match(records(JESS, JESSICA, same))
    assert naive.entity_of["police:P1"] == naive.entity_of["health:H5"]
    assert naive.entity_of["police:P1"] != naive.entity_of["school:S1"]
