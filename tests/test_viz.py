"""graphguard.viz: the drawing works offline, caps big graphs, has a legend, hides names."""

from __future__ import annotations

import datetime as dt
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from graphguard.errors import UsageError
from graphguard.model import LinkType, LocationKind
from graphguard.store.memory import MemoryStore
from graphguard.viz import (
    CONCERN_LINK_TYPES,
    KIND_STYLES,
    LINK_STYLES,
    LINK_TYPE_COLOURS,
    LOCATION_KIND_COLOURS,
    is_low_grading,
    link_style,
    link_timeline,
    location_points,
    map_view,
    neighbourhood,
    network_html,
    remote_references,
)

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo"


@pytest.fixture(scope="module")
def demo_graph() -> nx.MultiDiGraph:
    return MemoryStore.from_path(DEMO).graph()


def _pyvis_lib(name: str) -> str:
    import pyvis

    return (Path(pyvis.__file__).parent / "lib" / name).read_text(encoding="utf-8")


def _small() -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    graph.add_node("YP1", kind="person", role="young_person", name="Ada Fictional")
    graph.add_node("AD1", kind="person", role="adult", name="Cy Madeup", suspected=True)
    graph.add_node("AD2", kind="person", role="adult", name="Di Support", professional=True)
    graph.add_node("LO1", kind="location", name="The Flat", latitude=53.7, longitude=-0.3)
    graph.add_node("VE1", kind="vehicle", registration="AB12CDE")
    graph.add_edge("AD1", "YP1", key="L1", link_id="L1", type="ALLEGED_HARM", source_grade="3")
    graph.add_edge("AD2", "YP1", key="L2", link_id="L2", type="SUPPORTS", protective=True)
    graph.add_edge("YP1", "LO1", key="L3", link_id="L3", type="FOUND_AT")
    graph.add_edge(
        "AD1", "VE1", key="L4", link_id="L4", type="DRIVES", first_seen=dt.date(2026, 1, 5)
    )
    return graph


def test_the_page_loads_nothing_from_the_internet(demo_graph: nx.MultiDiGraph) -> None:
    page = network_html(demo_graph).html
    assert remote_references(page) == []
    assert not re.search(r"""<(script|link)\b[^>]*\b(src|href)\s*=""", page, re.IGNORECASE)
    assert "bootstrap" not in page.lower()
    # vis-network itself is in the page; the only https:// left are inside its code
    # (licence comments, an error message), which the browser never fetches.
    library = _pyvis_lib("vis-9.1.2/vis-network.min.js").split("//# sourceMappingURL=")[0]
    assert library in page
    assert "sourceMappingURL" not in page
    assert "https://" not in page.replace(library, "")


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.opened = self.closed = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.opened += tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self.closed += tag == "script"


def test_every_script_of_the_page_is_closed(demo_graph: nx.MultiDiGraph) -> None:
    scripts = _Scripts()
    scripts.feed(network_html(demo_graph).html)
    assert scripts.opened == scripts.closed == 3  # pyvis utils, vis-network, the drawing
    assert network_html(demo_graph).html.rstrip().endswith("</html>")


def test_remote_references_catches_a_cdn_tag() -> None:
    assert remote_references('<script src="https://cdn.example/x.js"></script>')
    assert remote_references("<link rel=stylesheet href=//cdn.example/x.css>")
    assert not remote_references("<script>var u = 'https://example.org';</script>")


def test_a_big_graph_is_capped_with_a_message(demo_graph: nx.MultiDiGraph) -> None:
    drawing = network_html(demo_graph, max_nodes=40)
    assert drawing.capped
    assert (drawing.shown_nodes, drawing.total_nodes) == (40, demo_graph.number_of_nodes())
    assert "Showing 40 of 300 entities" in drawing.html
    drawn = set(re.findall(r'"id": "([A-Z]+\d+)"', drawing.html)) & set(demo_graph)
    assert len(drawn) == 40


def test_the_cap_keeps_the_focus_and_its_neighbours_first(demo_graph: nx.MultiDiGraph) -> None:
    near = set(neighbourhood(demo_graph, "AD097", 1))
    drawing = network_html(demo_graph, max_nodes=len(near), focus="AD097")
    drawn = set(re.findall(r'"id": "([A-Z]+\d+)"', drawing.html)) & set(demo_graph)
    assert drawn == near


def test_a_small_graph_is_not_capped() -> None:
    drawing = network_html(_small())
    assert (drawing.shown_nodes, drawing.total_nodes, drawing.capped) == (5, 5, False)
    assert 'id="gg-cap"' not in drawing.html


def test_the_legend_names_every_kind_and_link_style() -> None:
    page = network_html(_small()).html
    legend = page[page.index('id="gg-legend"') :]
    for style in (*KIND_STYLES.values(), *LINK_STYLES.values()):
        assert style["label"] in legend
    assert "low grading" in legend


def test_young_peoples_names_are_hidden_unless_asked_for() -> None:
    hidden = network_html(_small(), show_names=False).html
    assert "Ada Fictional" not in hidden
    assert '"label": "YP1"' in hidden
    assert "Cy Madeup" in hidden  # adults are what disruption acts on
    shown = network_html(_small(), show_names=True).html
    assert "Ada Fictional" in shown


def test_link_styles_read_type_protection_and_grading() -> None:
    page = network_html(_small()).html
    assert LINK_STYLES["harm"]["color"] in page
    assert LINK_STYLES["protective"]["color"] in page
    assert '"dashes": true' in page  # the 3-graded allegation
    assert link_style({"type": "FAMILY_OF", "protective": True}) == "protective"
    assert is_low_grading({"intel_grade": "E"}) and not is_low_grading({"source_grade": "1"})


def test_size_follows_score() -> None:
    page = network_html(_small(), scores={"AD1": 4.0, "LO1": 1.0}).html
    sizes = dict(re.findall(r'"id": "(\w+)".*?"size": ([\d.]+)', page))
    assert float(sizes["AD1"]) > float(sizes["LO1"]) > float(sizes["AD2"])
    assert float(sizes["YP1"]) == float(sizes["AD2"])  # young people are never sized by a score


def test_recorded_text_cannot_become_markup() -> None:
    graph = _small()
    graph.nodes["AD1"]["name"] = '<img src=x onerror="alert(1)"> href'
    page = network_html(graph).html
    assert '<img src=x onerror="alert(1)">' not in page


def test_neighbourhood_follows_links_both_ways(demo_graph: nx.MultiDiGraph) -> None:
    one = neighbourhood(demo_graph, "LOC008", 1)
    assert "LOC008" in one and "YP028" in one  # found at the flat: an incoming link
    assert set(one) <= set(neighbourhood(demo_graph, "LOC008", 2))
    assert list(neighbourhood(demo_graph, "LOC008", 0)) == ["LOC008"]
    with pytest.raises(UsageError, match="not in this view"):
        neighbourhood(demo_graph, "NOBODY", 1)


def test_timeline_and_map_tables() -> None:
    graph = _small()
    assert link_timeline(graph, by="type").to_dict("records") == [
        {"month": "2026-01", "type": "DRIVES", "links": 1}
    ]
    with pytest.raises(UsageError):
        link_timeline(graph, by="colour")
    points = location_points(graph, {"LO1": 0.5})
    assert points.to_dict("records")[0]["score"] == 0.5


def _drawn_data(page: str, what: str) -> list[dict[str, Any]]:
    """The nodes or edges handed to vis-network, as the page's JSON gives them."""
    start = page.index(f"{what} = new vis.DataSet(") + len(f"{what} = new vis.DataSet(")
    return list(json.JSONDecoder().raw_decode(page[start:])[0])


def _tooltips(page: str) -> dict[str, str]:
    start = page.rindex("nodes.update(") + len("nodes.update(")
    return {n["id"]: n["title"] for n in json.JSONDecoder().raw_decode(page[start:])[0]}


def test_an_href_in_a_tooltip_leaves_every_tooltip_plain_text() -> None:
    graph = _small()
    graph.nodes["LO1"]["name"] = 'Flat <a href="http://127.0.0.1:9/x">see</a> & co'
    page = network_html(graph).html
    # pyvis's HTML popup (which broke every link's tooltip) is never switched on...
    assert "function showPopup" not in page and "popup.innerHTML" not in page
    # ...links keep their tooltips, and the node's comes as text, escaped for the script.
    assert all(edge.get("title") for edge in _drawn_data(page, "edges"))
    assert (
        _tooltips(page)["LO1"].splitlines()[1] == 'Flat <a href="http://127.0.0.1:9/x">see</a> & co'
    )
    assert '<a href="http://127.0.0.1:9/x">' not in page
    assert not any("title" in node for node in _drawn_data(page, "nodes"))


def test_the_legend_stands_beside_the_drawing_and_labels_scale_with_the_zoom() -> None:
    page = network_html(_small()).html
    style = page[page.index("#gg-legend {") :].split("}")[0]
    assert "right: 0" in style and "left" not in style
    assert "width: calc(100% - 232px)" in page  # the drawing leaves the legend its column
    assert "_LABEL_PX / network.getScale()" not in page  # every constant filled in
    assert "13 / network.getScale()" in page and "data-label-size" in page


def test_a_big_drawing_keeps_its_labels_small(demo_graph: nx.MultiDiGraph) -> None:
    # 300 labels at a readable size would cover each other: they show on zooming in.
    page = network_html(demo_graph).html
    assert "/ network.getScale()" not in page and "data-label-size" in page


def test_every_link_type_has_its_own_colour_warm_for_concern() -> None:
    import colorsys

    assert set(LINK_TYPE_COLOURS) == {t.value for t in LinkType}
    assert len(set(LINK_TYPE_COLOURS.values())) == len(LINK_TYPE_COLOURS)

    def warm(colour: str) -> bool:
        red, green, blue = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        hue, _, saturation = colorsys.rgb_to_hls(red, green, blue)
        return saturation > 0.3 and (hue * 360 < 65 or hue * 360 > 300)

    for link_type, colour in LINK_TYPE_COLOURS.items():
        assert warm(colour) == (link_type in CONCERN_LINK_TYPES), link_type
    assert set(LOCATION_KIND_COLOURS) == {k.value for k in LocationKind}
    assert len(set(LOCATION_KIND_COLOURS.values())) == len(LOCATION_KIND_COLOURS)


def _pixel(view: Any, longitude: float, latitude: float) -> tuple[float, float]:
    """Where d3's Mercator with the view's scale, centre and translate puts a point."""
    import math

    def project(lon: float, lat: float) -> tuple[float, float]:
        return (
            view.scale * math.radians(lon),
            -view.scale * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)),
        )

    x, y = project(longitude, latitude)
    cx, cy = project(*view.center)
    return x - cx + view.translate[0], y - cy + view.translate[1]


def test_the_map_fits_the_points_and_its_tiles_cover_the_frame(
    demo_graph: nx.MultiDiGraph,
) -> None:
    points = location_points(demo_graph)
    view = map_view(points, width=900, height=460, tiles="http://127.0.0.1:1/{z}/{x}/{y}.png")
    inside = [
        _pixel(view, lon, lat)
        for lon, lat in zip(points["longitude"], points["latitude"], strict=True)
    ]
    assert all(0 <= x <= 900 and 0 <= y <= 460 for x, y in inside)
    xs, ys = [x for x, _ in inside], [y for _, y in inside]
    assert max(xs) - min(xs) > 600 or max(ys) - min(ys) > 300  # fitted, not a dot
    corners = [
        _pixel(view, lon, lat)
        for lon, lat in zip(view.tiles["longitude"], view.tiles["latitude"], strict=True)
    ]
    assert min(x for x, _ in corners) <= 0 and min(y for _, y in corners) <= 0
    assert max(x for x, _ in corners) + view.tile_px >= 900
    assert max(y for _, y in corners) + view.tile_px >= 460
    level = int(view.zoom)
    assert all(url.startswith(f"http://127.0.0.1:1/{level}/") for url in view.tiles["url"])
    assert 256 <= view.tile_px < 512
    # Neighbouring tiles meet edge to edge.
    first, second = sorted(corners)[0], sorted(corners)[-1]
    assert (
        abs((second[0] - first[0]) / view.tile_px - round((second[0] - first[0]) / view.tile_px))
        < 1e-6
    )
    assert map_view(points, width=900, height=460).tiles.empty
    with pytest.raises(UsageError, match=r"\{z\}"):
        map_view(points, width=900, height=460, tiles="http://tiles.invalid/map.png")


# ------------------------------------------------------------------------------ drawing index


def _part(
    graph: nx.MultiDiGraph,
    entities: tuple[str, ...] | None = None,
    focus: str | None = None,
    steps: int = 1,
    kinds: tuple[str, ...] | None = None,
) -> nx.MultiDiGraph:
    """The part of the graph the dashboard drew from the whole graph before the index."""
    from graphguard.model import node_kind

    if entities is not None:
        graph = graph.subgraph(entities)
    if focus is not None:
        graph = neighbourhood(graph, focus, steps)
    if kinds is not None:
        graph = graph.subgraph(
            n for n, d in graph.nodes(data=True) if n == focus or node_kind(d) in set(kinds)
        )
    return graph


@pytest.mark.parametrize(
    "part",
    [
        {},
        {"max_nodes": 60},
        {"focus": "AD003", "steps": 2},
        {"focus": "AD003", "steps": 3, "max_nodes": 40},
        {"focus": "AD003", "steps": 2, "kinds": ("adult", "location")},
        {"entities": ("YP001", "YP002", "AD003", "LO002", "nobody")},
        {"entities": ("YP001", "YP002", "AD003", "LO002"), "focus": "AD003", "steps": 1},
    ],
)
def test_the_index_draws_the_page_the_graph_draws(
    demo_graph: nx.MultiDiGraph, part: dict[str, Any]
) -> None:
    from graphguard.analysis import analyse
    from graphguard.drawing_index import DrawingIndex

    result = analyse(demo_graph)
    scores = {h.id: h.score for h in result.hubs if h.score > 0}
    scores.update({c.id: c.score for c in result.contexts if c.score > 0})
    max_nodes = part.pop("max_nodes", 300)
    expected = network_html(
        _part(demo_graph, **part), scores=scores, max_nodes=max_nodes, focus=part.get("focus")
    )
    drawn = DrawingIndex.from_graph(demo_graph).draw(scores=scores, max_nodes=max_nodes, **part)
    assert drawn.html == expected.html
    assert drawn[1:] == expected[1:]
    if max_nodes < expected.total_nodes:
        assert drawn.capped


def test_the_index_holds_no_young_persons_identity(demo_graph: nx.MultiDiGraph) -> None:
    from graphguard.drawing_index import DrawingIndex
    from graphguard.model import node_kind

    index = DrawingIndex.from_graph(demo_graph)
    young = [n for n, d in demo_graph.nodes(data=True) if node_kind(d) == "young_person"]
    assert young and all(index.kind(y) == "young_person" for y in young)
    for person in young:
        assert not {"name", "date_of_birth", "gender"} & set(index.nodes[person]), person
    named = [n for n in demo_graph if demo_graph.nodes[n].get("role") == "adult"]
    assert index.nodes[named[0]].get("name") == demo_graph.nodes[named[0]].get("name")


def test_the_index_keeps_list_values_as_they_are(demo_graph: nx.MultiDiGraph) -> None:
    # A person's categories by record arrive as lists, which cannot be coded.
    from graphguard.drawing_index import DrawingIndex

    graph = demo_graph.copy()
    adults = [n for n in graph if graph.nodes[n].get("role") == "adult"]
    graph.nodes[adults[0]]["category_records"] = [["police:N1", "suspect"]]
    index = DrawingIndex.from_graph(graph)
    assert index.nodes[adults[0]]["category_records"] == [["police:N1", "suspect"]]
    assert index.nodes[adults[1]].get("category_records") in (None, [])


def test_the_index_refuses_a_focus_outside_the_view(demo_graph: nx.MultiDiGraph) -> None:
    from graphguard.drawing_index import DrawingIndex

    index = DrawingIndex.from_graph(demo_graph)
    with pytest.raises(UsageError, match="not in this view"):
        index.draw(focus="nobody")
    with pytest.raises(UsageError, match="not in this view"):
        index.draw(entities=("YP001",), focus="AD003")
