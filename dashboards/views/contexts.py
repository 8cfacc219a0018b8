"""Places and vehicles: the contexts where adults of concern and young people meet, on a map."""

from __future__ import annotations

import altair as alt
import common
import pandas as pd
import records
import streamlit as st
from wording import count, plain

from graphguard.errors import GraphguardError
from graphguard.settings import get_settings
from graphguard.viz import LOCATION_KIND_COLOURS, map_view

#: The map's size in pixels: fixed, so a basemap's tiles fall where the points are.
MAP_WIDTH, MAP_HEIGHT = 900, 460

view = common.current_view()
st.title("Places and vehicles")
st.caption(
    "Contexts ranked by the co-presence there of adults of concern and young people — above "
    "all young people found there after going missing — divided by how many people the "
    "context joins, so a busy school ranks below a flat where a few meet. Disrupting a "
    "context protects every young person in it; moving one child does not."
)
result = common.analysis(view.source, view.filters)
contexts = result.contexts
if not contexts:
    st.info(
        "No place or vehicle in this view scores above 0: no adult of concern meets a "
        "young person there."
    )
    st.stop()

table = pd.DataFrame(
    [
        {
            "rank": c.rank,
            "id": c.id,
            "name": c.details.get("name") or c.details.get("registration") or c.id,
            "kind": c.details.get("location_kind") or c.kind,
            "area": c.details.get("area", ""),
            "score": round(c.score, 3),
            "adults of concern": ", ".join(c.adults_of_concern),
            "young people": int(c.components.get("young_people", 0)),
            "found here after missing": int(c.components.get("young_people_found_here", 0)),
        }
        for c in contexts
    ]
)
st.dataframe(table, hide_index=True, height=min(38 + 35 * len(table), 360))

st.subheader("Map of locations")
points = common.digest(view.source, view.filters).points
if points.empty:
    st.info("No location in this view has coordinates.")
else:
    settings = get_settings()
    try:
        where = map_view(points, width=MAP_WIDTH, height=MAP_HEIGHT, tiles=settings.map_tiles)
    except GraphguardError as error:
        st.warning(plain(error))
        where = map_view(points, width=MAP_WIDTH, height=MAP_HEIGHT)
    # Drawn with Vega-Lite, which Streamlit bundles, on a projection fixed to the tile
    # grid so a configured basemap's tiles line up; without one nothing is fetched.
    kinds = [k for k in LOCATION_KIND_COLOURS if k in set(points["location_kind"])]
    dots = (
        alt.Chart(points)
        .mark_circle(opacity=0.85, stroke="#333333", strokeWidth=0.5, clip=True)
        .encode(
            longitude="longitude:Q",
            latitude="latitude:Q",
            size=alt.Size(
                "score:Q",
                scale=alt.Scale(range=[30, 900]),
                title="context score",
                legend=alt.Legend(orient="bottom"),
            ),
            color=alt.Color(
                "location_kind:N",
                title="kind of place",
                scale=alt.Scale(domain=kinds, range=[LOCATION_KIND_COLOURS[k] for k in kinds]),
                legend=alt.Legend(orient="bottom", columns=5, symbolLimit=0, labelLimit=200),
            ),
            tooltip=["id", "name", "location_kind", "area", alt.Tooltip("score:Q", format=".2f")],
        )
    )
    layers: list[alt.Chart] = []
    if not where.tiles.empty:
        layers.append(
            alt.Chart(where.tiles)
            .mark_image(
                width=where.tile_px, height=where.tile_px, align="left", baseline="top", clip=True
            )
            .encode(longitude="longitude:Q", latitude="latitude:Q", url="url:N")
        )
    chart = (
        alt.layer(*layers, dots)
        .project(
            type="mercator",
            scale=where.scale,
            center=list(where.center),
            translate=list(where.translate),
        )
        # "pad", not Streamlit's default "fit": fitting would shrink the frame to make
        # room for the legends and cut off the points the fixed projection placed.
        .properties(width=where.width, height=where.height, autosize=alt.AutoSizeParams(type="pad"))
    )
    st.altair_chart(chart, width="content")
    scored = count(len(contexts), "place or vehicle", "places and vehicles")
    shown = count(len(points), "location")
    if where.tiles.empty:
        basemap = (
            "No basemap is configured, so the points stand on their coordinates alone and "
            "nothing is fetched from another host (set `GRAPHGUARD_MAP_TILES` to a tile "
            "server to draw streets underneath)."
        )
    else:
        credit = settings.map_attribution or "the configured tile server"
        basemap = f"Basemap: {plain(credit)}."
    st.caption(
        f"{shown} with coordinates; the bigger, the higher the context score (of the "
        f"{scored} scoring above 0). {basemap}"
    )

by_id = {c.id: c for c in result.contexts}
chosen = st.selectbox(
    "Place or vehicle",
    [c.id for c in contexts],
    format_func=lambda i: f"#{by_id[i].rank} {i} · {common.entity_name(view, i)}",
    key="context_pick",
)
context = by_id[chosen]
st.subheader(plain(f"#{context.rank} {common.entity_name(view, context.id)} ({context.id})"))
st.info(plain(context.explanation))
records.show_provenance(view, context.id)
left, right = st.columns([1, 2])
with left:
    st.markdown("**Components**")
    st.dataframe(
        pd.DataFrame(
            [{"component": k, "value": round(v, 3)} for k, v in context.components.items()]
        ),
        hide_index=True,
    )
with right:
    st.markdown("**Evidence** (strongest first)")
    st.dataframe(pd.DataFrame(context.evidence), hide_index=True)
drawn = common.drawing(
    view.source, view.filters, focus=context.id, steps=1, show_names=view.show_names
)
common.show_drawing(drawn, f"network around {context.id}")
