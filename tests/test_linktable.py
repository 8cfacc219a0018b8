"""LinkTable: links kept by column give back the same models and the same edges."""

from __future__ import annotations

import datetime as dt
import sys

import pytest

from graphguard.ingest import _construct, read_dataset
from graphguard.linktable import LinkTable
from graphguard.model import Link, LinkType
from graphguard.store.base import link_attributes
from graphguard.store.memory import graph_from_dataset


def _model(**values: object) -> Link:
    link: Link = _construct(Link, dict(values), {})
    return link


def test_reading_keeps_links_by_column_and_gives_back_equal_models() -> None:
    links = read_dataset("fixtures/demo").dataset.links
    assert isinstance(links, LinkTable)
    models = list(links)
    assert len(models) == len(links) > 0
    for i, link in enumerate(models):
        assert isinstance(link, Link)
        assert links[i] == link
        assert link.model_fields_set == links[i].model_fields_set
    assert links[-1] == models[-1]
    assert links[1:3] == models[1:3]
    with pytest.raises(IndexError):
        links[len(links)]


def test_edges_equal_link_attributes_key_for_key_in_order() -> None:
    links = read_dataset("fixtures/demo").dataset.links
    assert isinstance(links, LinkTable)
    for link, (source, target, link_id, attributes) in zip(links, links.edges(), strict=True):
        assert (source, target, link_id) == (link.source_id, link.target_id, link.link_id)
        assert list(attributes.items()) == list(link_attributes(link).items())
        assert all(type(value) is not LinkType for value in attributes.values())


def test_unknown_columns_and_their_clashes_reach_the_edges() -> None:
    table = LinkTable()
    table.add(
        {"link_id": "L1", "source_id": "A", "target_id": "B", "type": LinkType.SEEN_AT},
        {"colour": "red", "type": "odd"},
    )
    [(_, _, _, attributes)] = list(table.edges())
    assert attributes["colour"] == "red" and attributes["extra_type"] == "odd"
    assert attributes["type"] == "SEEN_AT" and attributes["count"] == 1
    assert table[0].extra == {"colour": "red", "type": "odd"}
    table[0].extra["colour"] = "blue"  # a made model's dict is its own
    assert table[0].extra["colour"] == "red"


def test_a_list_and_a_table_build_the_same_graph() -> None:
    dataset = read_dataset("fixtures/demo").dataset
    from_table = graph_from_dataset(dataset)
    dataset.links = list(dataset.links)
    from_list = graph_from_dataset(dataset)
    assert from_table.number_of_edges() == len(dataset.links)
    assert list(from_table.edges(keys=True, data=True)) == list(
        from_list.edges(keys=True, data=True)
    )


def test_mutating_like_a_list() -> None:
    day = dt.date(2026, 1, 2)
    one = _model(link_id="L1", source_id="A", target_id="B", type=LinkType.SEEN_AT, count=1)
    two = _model(
        link_id="L2", source_id="B", target_id="C", type=LinkType.DRIVES, first_seen=day, count=2
    )
    table = LinkTable([one])
    table.append(two)
    assert list(table) == [one, two]
    table.insert(0, two)
    assert [link.link_id for link in table] == ["L2", "L1", "L2"]
    del table[0]
    assert list(table) == [one, two]
    table[1] = one
    assert list(table) == [one, one]
    assert table == [one, one] and table != [one]


def test_a_link_costs_a_fraction_of_a_model() -> None:
    links = read_dataset("fixtures/demo").dataset.links
    assert isinstance(links, LinkTable)
    model = links[0]
    per_model = sys.getsizeof(model.__dict__) + sys.getsizeof(model.model_fields_set)
    columns = len(links._columns) + 2  # a pointer per field, given fields and extras
    assert columns * 8 < per_model / 3


def test_a_table_survives_pickling_as_the_dashboard_cache_does() -> None:
    import pickle

    dataset = read_dataset("fixtures/demo").dataset
    again = pickle.loads(pickle.dumps(dataset))
    assert isinstance(again.links, LinkTable)
    assert again.links == dataset.links
