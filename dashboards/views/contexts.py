"""Places and vehicles: the contexts where adults of concern and young people meet, on a map."""

from __future__ import annotations

import altair as alt
import common
import pandas as pd
import streamlit as st

from graphguard.viz import location_points

view = common.current_view()
st.title("Places and vehicles")
st.caption(
    "Contexts ranked by the co-presence there of adults of concern and young people — above "
    "all young people found there after going missing — divided by how many people the "
    "context joins, so a busy school ranks below a flat where a few meet. Disrupting a "
    "context protects every young person in it; moving one child does not."
)
graph = common.network(view.source, view.filters)
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
points = location_points(graph, {c.id: c.score for c in contexts})
if points.empty:
    st.info("No location in this view has coordinates.")
else:
    # Drawn with Vega-Lite, which Streamlit bundles: no map tiles to fetch, so it works
    # offline; the coordinates are projected, without streets underneath.
    chart = (
        alt.Chart(points)
        .mark_circle(opacity=0.8, stroke="#333333", strokeWidth=0.5)
        .encode(
            longitude="longitude:Q",
            latitude="latitude:Q",
            size=alt.Size("score:Q", scale=alt.Scale(range=[30, 900]), title="context score"),
            color=alt.Color("location_kind:N", title="kind", scale=alt.Scale(scheme="tableau20")),
            tooltip=["id", "name", "location_kind", "area", alt.Tooltip("score:Q", format=".2f")],
        )
        .project(type="mercator")
        .properties(height=420)
    )
    st.altair_chart(chart)
    st.caption(
        f"{len(points)} locations with coordinates; the bigger, the higher the context score "
        f"(the {len(contexts)} places and vehicles above score above 0)."
    )

by_id = {c.id: c for c in result.contexts}
chosen = st.selectbox(
    "Place or vehicle",
    [c.id for c in contexts],
    format_func=lambda i: f"#{by_id[i].rank} {i} · {common.entity_name(graph, i, view.show_names)}",
    key="context_pick",
)
context = by_id[chosen]
st.subheader(
    f"#{context.rank} {common.entity_name(graph, context.id, view.show_names)} ({context.id})"
)
st.info(context.explanation)
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
