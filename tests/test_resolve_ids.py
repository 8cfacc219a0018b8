"""Entity ids: short, opaque, stable, named after the smallest record id."""

from __future__ import annotations

import pytest

from graphguard.model import ID_PATTERN
from graphguard.resolve import anchor_of, entity_id


def test_entity_id_shape_and_kind_letter() -> None:
    for kind, letter in (("person", "P"), ("location", "L"), ("vehicle", "V")):
        made = entity_id(kind, "police:P001")
        assert made.startswith(f"{letter}-") and len(made) == 14
        assert ID_PATTERN.fullmatch(made)
        assert "police" not in made and "P001" not in made


def test_entity_id_is_stable_and_distinguishes_anchors() -> None:
    assert entity_id("person", "police:P001") == entity_id("person", "police:P001")
    assert entity_id("person", "police:P001") != entity_id("person", "police:P002")


def test_entity_id_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="not an entity kind"):
        entity_id("young_person", "police:P001")


def test_anchor_is_the_smallest_record_id() -> None:
    assert anchor_of(["police:P9", "education:S14", "police:P10"]) == "education:S14"
    with pytest.raises(ValueError):
        anchor_of([])
