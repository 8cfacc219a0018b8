"""Drawing the network: pure functions from a graph to a self-contained page and to tables.

Nothing here imports Streamlit.  :func:`network_html` turns a (sub)graph into one HTML
page drawn by vis-network through pyvis, with every script and style sheet in-line,
so it works with no internet connection; the dashboard shows it in an iframe.

How the drawing reads (the legend in the page says the same):

* **colour and shape by kind and role** — young people orange dots, adults blue
  dots (a red ring when a partner agency flags them as suspected, light blue when
  recorded as professional), locations purple squares, vehicles grey triangles;
* **size by score** — adults by hub score and places or vehicles by context score,
  when scores are given; young people are never scored, so never sized by one;
* **link colour by type** — red alleged harm, purple intimate partner, orange found
  after a missing episode, dark grey contact, association and family, steel blue
  vehicles, light grey being at a place; **green** when the link is protective;
* **dashed** when the grading is low (source graded 3, or intelligence D or E).

Young people's names appear only when ``show_names`` is true (the analyst asked to
see them); otherwise a young person is shown by id.  Adults, places and vehicles
are labelled by name or registration: they are what disruption acts on.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict, deque
from collections.abc import Hashable, Mapping
from typing import Any, NamedTuple

import networkx as nx
import pandas as pd

from graphguard.categories import person_categories
from graphguard.errors import UsageError
from graphguard.model import node_kind

__all__ = [
    "DEFAULT_MAX_NODES",
    "CONCERN_LINK_TYPES",
    "KIND_STYLES",
    "LINK_STYLES",
    "LINK_TYPE_COLOURS",
    "LOCATION_KIND_COLOURS",
    "MapView",
    "NetworkDrawing",
    "entity_label",
    "entity_tooltip",
    "is_low_grading",
    "link_style",
    "neighbourhood",
    "network_html",
    "remote_references",
    "link_timeline",
    "location_points",
    "map_view",
]

#: The most entities drawn at once: beyond this a browser's layout grinds to a halt.
DEFAULT_MAX_NODES = 300

#: How each kind of entity is drawn: colour (Okabe-Ito, safe for colour blindness),
#: shape (so kind reads without colour too) and the legend's words.
KIND_STYLES: Mapping[str, Mapping[str, str]] = {
    "young_person": {"color": "#E69F00", "shape": "dot", "label": "young person"},
    "adult": {"color": "#0072B2", "shape": "dot", "label": "adult"},
    "location": {"color": "#CC79A7", "shape": "square", "label": "location"},
    "vehicle": {"color": "#7F7F7F", "shape": "triangle", "label": "vehicle"},
}
_SUSPECTED_BORDER = "#D55E00"
_PROFESSIONAL_COLOUR = "#56B4E9"

#: Link colours by what the link says, in the legend's order.
LINK_STYLES: Mapping[str, Mapping[str, Any]] = {
    "harm": {"color": "#C0392B", "label": "alleged harm", "types": ("ALLEGED_HARM",)},
    "partner": {"color": "#8E44AD", "label": "intimate partner", "types": ("PARTNER_OF",)},
    "found": {"color": "#E67E22", "label": "found at (after missing)", "types": ("FOUND_AT",)},
    "personal": {
        "color": "#4D4D4D",
        "label": "contact, association, family",
        "types": ("CONTACTED", "ASSOCIATES_WITH", "FAMILY_OF"),
    },
    "vehicle": {
        "color": "#2C6E9B",
        "label": "drives, keeper of, passenger in",
        "types": ("DRIVES", "KEEPER_OF", "PASSENGER_IN"),
    },
    "place": {
        "color": "#A8B2BD",
        "label": "lives, attends, works, placed or seen at",
        "types": ("LIVES_AT", "ATTENDS", "WORKS_AT", "PLACED_AT", "SEEN_AT"),
    },
    "protective": {"color": "#2E9E44", "label": "protective (support, family)", "types": ()},
}
_CATEGORY_OF_TYPE = {t: name for name, style in LINK_STYLES.items() for t in style["types"]}

#: A colour for each link type where types are told apart (the timeline): warm colours
#: for the links that tell of risk to a child, cool colours and greys for the rest.
LINK_TYPE_COLOURS: Mapping[str, str] = {
    "ALLEGED_HARM": "#C0392B",
    "PARTNER_OF": "#E84393",
    "FOUND_AT": "#E67E22",
    "CONTACTED": "#B7950B",
    "ASSOCIATES_WITH": "#424949",
    "FAMILY_OF": "#52BE80",
    "SUPPORTS": "#1E8449",
    "LIVES_AT": "#8FC1E3",
    "ATTENDS": "#2E86DE",
    "PLACED_AT": "#7D3C98",
    "WORKS_AT": "#BB8FCE",
    "SEEN_AT": "#99A3A4",
    "DRIVES": "#1F3A93",
    "KEEPER_OF": "#5D6D7E",
    "PASSENGER_IN": "#48C9B0",
}
#: The link types drawn in warm colours: harm, intimacy, being found after going
#: missing, and contact.
CONCERN_LINK_TYPES = ("ALLEGED_HARM", "PARTNER_OF", "FOUND_AT", "CONTACTED")

#: A colour for each kind of location on the map (tableau20, one hue each).
LOCATION_KIND_COLOURS: Mapping[str, str] = {
    "home": "#FFBB78",
    "residential": "#C49C94",
    "school": "#1F77B4",
    "care_home": "#AEC7E8",
    "hotel": "#D62728",
    "takeaway": "#FF7F0E",
    "licensed_premises": "#9467BD",
    "dock": "#8C564B",
    "shop": "#E377C2",
    "park": "#2CA02C",
    "street": "#7F7F7F",
    "transport_hub": "#17BECF",
    "car_park": "#BCBD22",
    "online": "#98DF8A",
    "other": "#C7C7C7",
}
_SYMMETRIC = frozenset({"ASSOCIATES_WITH", "FAMILY_OF", "PARTNER_OF"})
_LINKS_IN_TOOLTIP = 6
#: In a drawing of at most ``_LABELLED_NODES`` entities labels read at about
#: ``_LABEL_PX`` pixels once the layout is fitted, never bigger than ``_LABEL_MAX`` (in
#: the drawing's units) whatever the zoom.  A bigger drawing has no room for them all:
#: its labels keep their size and show as the analyst zooms in.
_LABEL_PX = 13
_LABEL_MAX = 44
_LABELLED_NODES = 120
_MIN_SIZE = 10.0
_SCORE_SIZE = 30.0

#: A tag that would load something from another host: what "works offline" forbids.
_REMOTE_TAG = re.compile(
    r"<(?:script|link|img|iframe|source|embed)\b[^>]*?\b(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//",
    re.IGNORECASE,
)
# pyvis 0.3 links Bootstrap from a CDN even with in-line resources; only its
# drop-down menus use it, which are not drawn here, so it is left out.
_BOOTSTRAP_TAG = re.compile(
    r"<(link|script)\b[^>]*bootstrap[^>]*?(?:/>|>\s*</script>)", re.IGNORECASE | re.DOTALL
)
_EMPTY_HEADING = re.compile(r"<center>\s*<h1>\s*</h1>\s*</center>", re.IGNORECASE)
# The template's commented-out local links, and the source map a browser's developer
# tools would try to fetch.
_TEMPLATE_COMMENT = re.compile(r"\n<!--.*?-->", re.DOTALL)
_SOURCE_MAP = re.compile(r"//# sourceMappingURL=[^\s<]+")


def _kind(attributes: Mapping[str, Any]) -> str:
    """The drawn kind of an entity; a query-result node of no known kind is drawn as a place."""
    try:
        return node_kind(attributes)
    except ValueError:
        return "location"


class NetworkDrawing(NamedTuple):
    """A drawn network: the page and whether it had to leave entities out."""

    html: str
    shown_nodes: int
    total_nodes: int
    capped: bool


def is_low_grading(link: Mapping[str, Any]) -> bool:
    """Whether a link's 3x5x2 grading is low: source graded 3, or intelligence D or E.

    >>> is_low_grading({"source_grade": "3", "intel_grade": "B"})
    True
    >>> is_low_grading({"source_grade": "1", "intel_grade": "E"})
    True
    >>> is_low_grading({"source_grade": "2", "intel_grade": "C"}), is_low_grading({})
    (False, False)
    """
    return str(link.get("source_grade")) == "3" or str(link.get("intel_grade")) in {"D", "E"}


def link_style(link: Mapping[str, Any]) -> str:
    """The :data:`LINK_STYLES` key a link is drawn with.

    >>> link_style({"type": "SUPPORTS"}), link_style({"type": "FAMILY_OF", "protective": True})
    ('protective', 'protective')
    >>> link_style({"type": "ALLEGED_HARM"}), link_style({"type": "FAMILY_OF"})
    ('harm', 'personal')
    """
    if link.get("protective") or link.get("type") == "SUPPORTS":
        return "protective"
    return _CATEGORY_OF_TYPE.get(str(link.get("type")), "place")


def entity_label(entity_id: Hashable, attributes: Mapping[str, Any], show_names: bool) -> str:
    """How an entity is named on screen: a young person by id unless names are shown.

    >>> entity_label("YP1", {"kind": "person", "role": "young_person", "name": "Ada"}, False)
    'YP1'
    >>> entity_label("YP1", {"kind": "person", "role": "young_person", "name": "Ada"}, True)
    'Ada'
    >>> entity_label("V1", {"kind": "vehicle", "registration": "AB12CDE"}, False)
    'AB12CDE'
    """
    kind = _kind(attributes)
    if kind == "young_person" and not show_names:
        return str(entity_id)
    if kind == "vehicle":
        return str(attributes.get("registration") or entity_id)
    return str(attributes.get("name") or entity_id)


def entity_tooltip(
    entity_id: Hashable,
    attributes: Mapping[str, Any],
    show_names: bool,
    score: float | None = None,
) -> str:
    """The lines shown when the pointer rests on an entity (plain text)."""
    kind = _kind(attributes)
    lines = [f"{entity_id} · {KIND_STYLES[kind]['label']}"]
    label = entity_label(entity_id, attributes, show_names)
    if label != str(entity_id):
        lines.append(label)
    if kind == "location":
        lines.append(
            ", ".join(
                str(attributes[k]) for k in ("location_kind", "postcode") if attributes.get(k)
            )
        )
    elif kind == "vehicle":
        lines.append(
            " ".join(str(attributes[k]) for k in ("colour", "make", "model") if attributes.get(k))
        )
        if attributes.get("private_hire"):
            operator = attributes.get("operator")
            lines.append("private hire" + (f" ({operator})" if operator else ""))
    if attributes.get("area"):
        lines.append(f"area: {attributes['area']}")
    flags = [
        text
        for key, text in (
            ("suspected", "flagged as suspected"),
            ("professional", "professional"),
            ("looked_after", "looked after"),
            ("excluded_from_school", "excluded from school"),
        )
        if attributes.get(key)
    ]
    if attributes.get("missing_episodes"):
        episodes = int(attributes["missing_episodes"])
        flags.append(f"{episodes} missing episode{'' if episodes == 1 else 's'}")
    if flags:
        lines.append("; ".join(flags))
    if kind in ("young_person", "adult"):
        found = person_categories(attributes)
        if found.all:
            lines.append(f"categories: {found.label()}")
    if score is not None:
        lines.append(f"score {score:.2f}")
    return "\n".join(line for line in lines if line)


def _grading(link: Mapping[str, Any]) -> str:
    parts = [str(link.get(k) or "-") for k in ("source_grade", "intel_grade", "handling")]
    return "ungraded" if parts == ["-", "-", "-"] else "/".join(parts)


def _link_line(link: Mapping[str, Any]) -> str:
    first, last = link.get("first_seen"), link.get("last_seen")
    dates = f"{first or '?'} to {last}" if last and last != first else f"{first or 'undated'}"
    parts = [
        str(link.get("link_id", "")),
        str(link.get("reference") or "no reference"),
        str(link.get("agency") or "agency not recorded"),
        _grading(link),
        dates,
    ]
    if link.get("count") and int(link["count"]) > 1:
        parts.append(f"x{link['count']}")
    return " · ".join(parts)


def neighbourhood(graph: nx.MultiDiGraph, entity_id: Hashable, steps: int) -> nx.MultiDiGraph:
    """An entity and everything within ``steps`` links of it, whatever their direction.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A graphguard graph.
    entity_id : hashable
        The entity in focus.
    steps : int
        How many links away to look (0 is the entity alone).

    Returns
    -------
    networkx.MultiDiGraph
        A copy of the subgraph induced on those entities, with all their links.

    Examples
    --------
    >>> g = nx.MultiDiGraph([("a", "b"), ("c", "b"), ("c", "d")])
    >>> sorted(neighbourhood(g, "a", 2))
    ['a', 'b', 'c']
    """
    if entity_id not in graph:
        raise UsageError(f"{entity_id} is not in this view of the network (check the filters)")
    if steps < 0:
        raise UsageError("steps must be 0 or more")
    return graph.subgraph(_distances(graph, entity_id, steps)).copy()


def _distances(graph: nx.MultiDiGraph, start: Hashable, limit: int | None) -> dict[Hashable, int]:
    seen = {start: 0}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        depth = seen[node]
        if limit is not None and depth >= limit:
            continue
        for other in (*graph.successors(node), *graph.predecessors(node)):
            if other not in seen:
                seen[other] = depth + 1
                queue.append(other)
    return seen


def _kept_nodes(
    graph: nx.MultiDiGraph,
    scores: Mapping[str, float],
    focus: Hashable | None,
    max_nodes: int,
) -> list[Hashable]:
    """The entities drawn under the cap: nearest the focus, then highest score, then busiest."""
    distance = _distances(graph, focus, None) if focus in graph else {}
    far = len(graph) + 1

    def priority(node: Hashable) -> tuple[int, float, int, str]:
        return (
            distance.get(node, far),
            -scores.get(str(node), 0.0),
            -graph.degree(node),
            str(node),
        )

    return sorted(graph.nodes, key=priority)[:max_nodes]


def network_html(
    graph: nx.MultiDiGraph,
    *,
    scores: Mapping[str, float] | None = None,
    show_names: bool = False,
    max_nodes: int = DEFAULT_MAX_NODES,
    focus: Hashable | None = None,
    height_px: int = 620,
) -> NetworkDrawing:
    """Draw a graphguard graph as one self-contained HTML page (vis-network via pyvis).

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        The entities and links to draw (node and edge attributes as the stores
        give them).
    scores : mapping, optional
        Entity id to score (hub scores for adults, context scores for places and
        vehicles); sizes the entity.
    show_names : bool, default False
        Whether young people are labelled by name rather than id.
    max_nodes : int, default :data:`DEFAULT_MAX_NODES`
        Draw at most this many entities: those nearest ``focus``, then the highest
        scored, then the most linked.  The page says when some were left out.
    focus : hashable, optional
        The entity in focus, drawn with a thick border.
    height_px : int
        Height of the drawing.

    Returns
    -------
    NetworkDrawing
        ``(html, shown_nodes, total_nodes, capped)``.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("YP1", kind="person", role="young_person", name="Ada Fictional")
    >>> g.add_node("AD1", kind="person", role="adult", name="Cy Madeup")
    >>> _ = g.add_edge("AD1", "YP1", key="L1", type="CONTACTED", link_id="L1")
    >>> drawing = network_html(g)
    >>> drawing.shown_nodes, drawing.capped, "Ada Fictional" in drawing.html
    (2, False, False)
    """
    scores = scores or {}
    total = graph.number_of_nodes()
    capped = total > max_nodes
    if capped:
        graph = graph.subgraph(_kept_nodes(graph, scores, focus, max_nodes))
    return _render(graph, scores, show_names, focus, height_px, total)


def _render(
    graph: nx.MultiDiGraph,
    scores: Mapping[str, float],
    show_names: bool,
    focus: Hashable | None,
    height_px: int,
    total: int,
) -> NetworkDrawing:
    """The page of the entities chosen to be drawn, ``total`` being how many there were."""
    from pyvis.network import Network

    capped = total > graph.number_of_nodes()
    # Relative to the highest score of all, so a view of harmless places stays small.
    top_score = max(scores.values(), default=0.0)

    network = Network(
        height=f"{height_px}px",
        width="100%",
        directed=True,
        cdn_resources="in_line",
        bgcolor="#ffffff",
    )
    titles: dict[str, str] = {}
    for node, data in sorted(graph.nodes(data=True), key=lambda item: str(item[0])):
        kind = _kind(data)
        style = KIND_STYLES[kind]
        score = scores.get(node)
        size = _MIN_SIZE
        if score is not None and top_score > 0 and kind != "young_person":
            size += _SCORE_SIZE * math.sqrt(max(score, 0.0) / top_score)
        colour = style["color"]
        if kind == "adult" and data.get("professional"):
            colour = _PROFESSIONAL_COLOUR
        border = _SUSPECTED_BORDER if data.get("suspected") else colour
        titles[str(node)] = entity_tooltip(node, data, show_names, score)
        network.add_node(
            str(node),
            label=entity_label(node, data, show_names),
            shape=style["shape"],
            size=size,
            color={"background": colour, "border": border},
            borderWidth=5 if node == focus else (3 if data.get("suspected") else 1),
        )
    for (source, target, category, low), links in sorted(_drawn_links(graph).items()):
        first = links[0]
        lines = [f"{first.get('type')} · {len(links)} record{'s' if len(links) > 1 else ''}"]
        lines += [_link_line(link) for link in links[:_LINKS_IN_TOOLTIP]]
        if len(links) > _LINKS_IN_TOOLTIP:
            lines.append(f"… and {len(links) - _LINKS_IN_TOOLTIP} more")
        network.add_edge(
            str(source),
            str(target),
            title="\n".join(lines),
            color=LINK_STYLES[category]["color"],
            width=(2.5 if category == "harm" else 1.2) + math.log2(len(links)),
            dashes=low,
            arrows={"to": {"enabled": first.get("type") not in _SYMMETRIC, "scaleFactor": 0.5}},
        )
    network.options = _vis_options(graph.number_of_nodes())
    page = _finish_page(network.generate_html(), graph.number_of_nodes(), total, capped, titles)
    return NetworkDrawing(page, graph.number_of_nodes(), total, capped)


def _drawn_links(
    graph: nx.MultiDiGraph,
) -> dict[tuple[str, str, str, bool], list[dict[str, Any]]]:
    """Records of the same pair, type and style drawn as one line, thicker for more."""
    drawn: dict[tuple[str, str, str, bool], list[dict[str, Any]]] = defaultdict(list)
    for source, target, data in graph.edges(data=True):
        ends = (str(source), str(target))
        if data.get("type") in _SYMMETRIC:
            ends = (min(ends), max(ends))
        drawn[(*ends, link_style(data), is_low_grading(data))].append(data)
    for links in drawn.values():
        links.sort(key=lambda link: str(link.get("link_id", "")))
    return drawn


def _vis_options(nodes: int) -> dict[str, Any]:
    return {
        "physics": {
            "solver": "barnesHut",
            "barnesHut": {
                "gravitationalConstant": -6000,
                "centralGravity": 0.25,
                # Longer springs where labels are drawn large (see _LABELLED_NODES).
                "springLength": 150 if nodes <= _LABELLED_NODES else 110,
                "springConstant": 0.03,
                "damping": 0.35,
                "avoidOverlap": 0.3 if nodes <= _LABELLED_NODES else 0.15,
            },
            "stabilization": {"enabled": True, "iterations": 250 if nodes <= 150 else 120},
            "minVelocity": 1.0,
        },
        "interaction": {"hover": True, "tooltipDelay": 120, "hideEdgesOnDrag": nodes > 150},
        "edges": {"smooth": False},
        "nodes": {
            "font": {
                "size": _LABEL_PX,
                "face": "sans-serif",
                "strokeWidth": 3,
                "strokeColor": "#ffffff",
            }
        },
    }


def remote_references(page: str) -> list[str]:
    """The tags of a page that would load something from another host (none, we hope)."""
    return [match.group(0) for match in _REMOTE_TAG.finditer(page)]


def _script_json(value: Any) -> str:
    """JSON that can sit inside a <script> element whatever text it carries."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _finish_page(page: str, shown: int, total: int, capped: bool, titles: Mapping[str, str]) -> str:
    page = _BOOTSTRAP_TAG.sub("", page)
    page = _EMPTY_HEADING.sub("", page)
    page = _TEMPLATE_COMMENT.sub("", page)
    page = _SOURCE_MAP.sub("", page)
    remote = remote_references(page)
    if remote:
        raise RuntimeError(f"the drawing would load {remote[0]!r} from the internet")
    if page.count("return network;") != 1:
        raise RuntimeError("pyvis's page template has changed: cannot add the drawing hooks")
    # Tooltips are given to vis-network only now: pyvis switches every tooltip to a
    # popup written as HTML (and breaks those of links) as soon as one node's title
    # holds "href", while vis-network itself shows a text title as text.
    # Physics off once laid out, so a big drawing does not keep the browser busy, and
    # labels sized for the zoom the layout was fitted at (see _LABELLED_NODES); the
    # body attributes tell a browser test the canvas was drawn and laid out.
    tooltips = [{"id": node, "title": title} for node, title in titles.items()]
    boost = "_LABEL_PX / network.getScale()" if shown <= _LABELLED_NODES else "_LABEL_PX"
    hooks = (
        (
            f"nodes.update({_script_json(tooltips)});\n"
            'network.once("stabilizationIterationsDone", function () {'
            " network.setOptions({physics: false}); network.fit();"
            # A margin round the fitted drawing, so labels at its edges are not cut off.
            " network.moveTo({scale: network.getScale() * 0.88});"
            f" var size = Math.min(Math.max({boost}, _LABEL_PX), _LABEL_MAX);"
            " network.setOptions({nodes: {font: {size: size}}});"
            ' document.body.setAttribute("data-label-size", String(Math.round(size)));'
            ' document.body.setAttribute("data-graph-stable", "1"); });\n'
            'network.once("afterDrawing", function () {'
            ' document.body.setAttribute("data-graph-drawn", "1"); });\n'
            "return network;"
        )
        .replace("_LABEL_PX", str(_LABEL_PX))
        .replace("_LABEL_MAX", str(_LABEL_MAX))
    )
    page = page.replace("return network;", hooks)
    extra = _STYLE + _legend(shown, total, capped)
    return page.replace("</body>", extra + "</body>", 1)


# The legend stands in a column of its own beside the drawing, never over it.
_STYLE = """<style>
body { margin: 0; font-family: sans-serif; }
.card { border: none; }
#mynetwork { border: 1px solid #e6e6e6 !important; width: calc(100% - 232px) !important; }
div.vis-tooltip { white-space: pre-line; font-size: 12px; max-width: 420px; }
#gg-legend { position: absolute; top: 0; right: 0; width: 214px; max-height: 100%;
  overflow-y: auto; box-sizing: border-box; background: #ffffff;
  border: 1px solid #ddd; border-radius: 6px; padding: 6px 8px; font-size: 12px;
  line-height: 1.5; z-index: 10; }
#gg-legend summary { cursor: pointer; }
#gg-legend .sw { display: inline-block; width: 10px; height: 10px; margin-right: 5px;
  vertical-align: middle; }
#gg-legend .ln { display: inline-block; width: 18px; height: 0; margin-right: 5px;
  vertical-align: middle; border-top: 3px solid; }
#gg-cap { position: absolute; bottom: 8px; left: 8px; right: 240px; background: #fff4e5;
  border: 1px solid #f0b35b; border-radius: 6px; padding: 4px 8px; font-size: 12px;
  z-index: 10; }
</style>
"""


def _legend(shown: int, total: int, capped: bool) -> str:
    rows = []
    for style in KIND_STYLES.values():
        radius = "50%" if style["shape"] == "dot" else "0"
        rows.append(
            f'<div><span class="sw" style="background:{style["color"]};border-radius:{radius}">'
            f"</span>{style['label']}</div>"
        )
    rows.append(
        f'<div><span class="sw" style="background:{KIND_STYLES["adult"]["color"]};'
        f'border-radius:50%;outline:2px solid {_SUSPECTED_BORDER}"></span>'
        "adult flagged suspected</div>"
    )
    rows.append(
        f'<div><span class="sw" style="background:{_PROFESSIONAL_COLOUR};border-radius:50%">'
        "</span>professional</div>"
    )
    for style in LINK_STYLES.values():
        rows.append(
            f'<div><span class="ln" style="border-color:{style["color"]}"></span>'
            f"{style['label']}</div>"
        )
    rows.append(
        '<div><span class="ln" style="border-top-style:dashed;border-color:#666"></span>'
        "low grading (source 3, intelligence D/E)</div>"
    )
    rows.append("<div>size: hub or context score</div>")
    legend = (
        '<details id="gg-legend" open><summary><b>Legend</b></summary>'
        + "".join(rows)
        + "</details>"
    )
    if capped:
        legend += (
            f'<div id="gg-cap">Showing {shown} of {total} entities (those nearest the focus, '
            "then the highest scored). Narrow the filters or focus on one entity to see the "
            "rest.</div>"
        )
    return legend


def link_timeline(graph: nx.MultiDiGraph, by: str = "type") -> pd.DataFrame:
    """Links per month of their first sighting, split by link ``type`` or ``agency``.

    Undated links are left out (they have no place on a timeline).

    >>> g = nx.MultiDiGraph()
    >>> import datetime as dt
    >>> _ = g.add_edge("a", "b", type="SEEN_AT", agency="police", first_seen=dt.date(2026, 3, 4))
    >>> link_timeline(g).to_dict("records")
    [{'month': '2026-03', 'type': 'SEEN_AT', 'links': 1}]
    """
    if by not in ("type", "agency"):
        raise UsageError("a timeline is by 'type' or by 'agency'")
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for _, _, data in graph.edges(data=True):
        first = data.get("first_seen")
        if first is None:
            continue
        counts[(first.strftime("%Y-%m"), str(data.get(by) or "not recorded"))] += 1
    rows = [{"month": m, by: value, "links": n} for (m, value), n in sorted(counts.items())]
    return pd.DataFrame(rows, columns=["month", by, "links"])


def location_points(
    graph: nx.MultiDiGraph, scores: Mapping[str, float] | None = None
) -> pd.DataFrame:
    """Every location with coordinates, with its context score (0 when not scored)."""
    scores = scores or {}
    rows = [
        {
            "id": str(node),
            "name": str(data.get("name") or node),
            "location_kind": str(data.get("location_kind") or ""),
            "area": str(data.get("area") or ""),
            "latitude": float(data["latitude"]),
            "longitude": float(data["longitude"]),
            "score": float(scores.get(node, 0.0)),
        }
        for node, data in graph.nodes(data=True)
        if data.get("kind") == "location"
        and data.get("latitude") is not None
        and data.get("longitude") is not None
    ]
    columns = ["id", "name", "location_kind", "area", "latitude", "longitude", "score"]
    return pd.DataFrame(rows, columns=columns).sort_values("score", ascending=False)


class MapView(NamedTuple):
    """Where a map looks and the basemap tiles under it, for a Vega-Lite chart.

    ``scale``, ``center`` and ``translate`` are the Mercator projection's (d3's terms);
    ``tiles`` has one row per tile: its ``url`` and the ``longitude`` and ``latitude``
    of its north-west corner, each drawn ``tile_px`` pixels square.  With no tile
    server configured ``tiles`` is empty and nothing is fetched.
    """

    width: int
    height: int
    scale: float
    center: tuple[float, float]
    translate: tuple[float, float]
    zoom: float
    tile_px: float
    tiles: pd.DataFrame


_TILE = 256
_MAX_ZOOM = 18
_TILE_FIELDS = ("{z}", "{x}", "{y}")


def _world_xy(longitude: float, latitude: float) -> tuple[float, float]:
    """Web Mercator coordinates in [0, 1], y growing southwards."""
    latitude = max(min(latitude, 85.0511), -85.0511)
    y = math.log(math.tan(math.radians(latitude)) + 1 / math.cos(math.radians(latitude)))
    return (longitude + 180.0) / 360.0, (1.0 - y / math.pi) / 2.0


def _world_lonlat(x: float, y: float) -> tuple[float, float]:
    latitude = math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * y))))
    return x * 360.0 - 180.0, latitude


def map_view(
    points: pd.DataFrame,
    *,
    width: int,
    height: int,
    tiles: str | None = None,
    margin: float = 0.08,
) -> MapView:
    """Fit ``points`` (``longitude``, ``latitude``) into a ``width`` x ``height`` map.

    Parameters
    ----------
    points : pandas.DataFrame
        At least one row with ``longitude`` and ``latitude`` in decimal degrees.
    width, height : int
        The map's size in pixels.
    tiles : str, optional
        A tile server's URL template with ``{z}``, ``{x}`` and ``{y}`` (the
        ``GRAPHGUARD_MAP_TILES`` setting).  None: no basemap, nothing to fetch.
    margin : float
        The share of each side left around the points.

    Returns
    -------
    MapView

    Examples
    --------
    >>> spot = pd.DataFrame({"longitude": [-0.33, -0.32], "latitude": [53.74, 53.75]})
    >>> view = map_view(spot, width=800, height=400)
    >>> round(view.zoom, 1), len(view.tiles)
    (14.8, 0)
    >>> tiled = map_view(spot, width=800, height=400, tiles="http://t/{z}/{x}/{y}.png")
    >>> tiled.tiles["url"].iloc[0]
    'http://t/14/8176/5279.png'
    """
    if tiles is not None and not all(field in tiles for field in _TILE_FIELDS):
        raise UsageError(
            f"the map's tile server {tiles!r} must have {{z}}, {{x}} and {{y}} in it "
            "(like https://tile.example.org/{z}/{x}/{y}.png)"
        )
    corners = [
        _world_xy(float(lon), float(lat))
        for lon, lat in points[["longitude", "latitude"]].itertuples(index=False)
    ]
    xs, ys = [x for x, _ in corners], [y for _, y in corners]
    span_x, span_y = max(xs) - min(xs), max(ys) - min(ys)
    room = 1.0 - 2.0 * margin
    fits = [
        math.log2(room * size / (_TILE * span))
        for size, span in ((width, span_x), (height, span_y))
        if span > 0
    ]
    zoom = min(max(min(fits, default=15.0), 1.0), float(_MAX_ZOOM))
    world_px = _TILE * 2.0**zoom
    centre_x, centre_y = (max(xs) + min(xs)) / 2.0, (max(ys) + min(ys)) / 2.0
    level = math.floor(zoom)
    tile_px = _TILE * 2.0 ** (zoom - level)
    rows = []
    if tiles is not None:
        count = 2**level
        left = (centre_x * world_px - width / 2.0) / tile_px
        top = (centre_y * world_px - height / 2.0) / tile_px
        for ty in range(
            max(math.floor(top), 0), min(math.floor(top + height / tile_px), count - 1) + 1
        ):
            for tx in range(
                max(math.floor(left), 0), min(math.floor(left + width / tile_px), count - 1) + 1
            ):
                longitude, latitude = _world_lonlat(tx / count, ty / count)
                url = tiles.replace("{z}", str(level)).replace("{x}", str(tx))
                rows.append(
                    {
                        "url": url.replace("{y}", str(ty)),
                        "longitude": longitude,
                        "latitude": latitude,
                    }
                )
    return MapView(
        width=width,
        height=height,
        scale=world_px / (2.0 * math.pi),
        center=_world_lonlat(centre_x, centre_y),
        translate=(width / 2.0, height / 2.0),
        zoom=zoom,
        tile_px=tile_px,
        tiles=pd.DataFrame(rows, columns=["url", "longitude", "latitude"]),
    )
