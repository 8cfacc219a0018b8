"""Timeline: links over time, by type or by the agency that recorded them."""

from __future__ import annotations

import altair as alt
import common
import streamlit as st
from wording import count

from graphguard.viz import CONCERN_LINK_TYPES, LINK_TYPE_COLOURS

view = common.current_view()
st.title("Timeline")
st.caption("Links per month of their first sighting. Undated links are left out.")
links = common.summary(view.source, view.filters)["links"]
by = st.radio(
    "Split by",
    ["type", "agency"],
    horizontal=True,
    format_func=lambda b: "link type" if b == "type" else "agency",
    key="timeline_by",
)
timeline = common.timeline(view.source, view.filters, by)
undated = links - int(timeline["links"].sum())
if timeline.empty:
    st.info("No link in this view carries a date.")
    st.stop()

if by == "type":
    # One colour per link type, the links telling of risk in warm colours and first.
    present = set(timeline["type"])
    order = [t for t in CONCERN_LINK_TYPES if t in present]
    order += [t for t in LINK_TYPE_COLOURS if t in present and t not in order]
    order += sorted(present - set(order))
    colours = [LINK_TYPE_COLOURS.get(t, "#000000") for t in order]
    colour = alt.Color(
        "type:N",
        title="link type",
        sort=order,
        scale=alt.Scale(domain=order, range=colours),
        legend=alt.Legend(symbolLimit=0, labelLimit=200),
    )
else:
    order = sorted(set(timeline["agency"]))
    colour = alt.Color("agency:N", title="agency", sort=order, scale=alt.Scale(scheme="tableau10"))
# Stacked in the legend's order, so the warm colours sit together at the bottom.
timeline = timeline.assign(stack_order=timeline[by].map({v: i for i, v in enumerate(order)}))
chart = (
    alt.Chart(timeline)
    .mark_bar()
    .encode(
        x=alt.X("month:T", title="month first seen", timeUnit="yearmonth"),
        y=alt.Y("links:Q", title="links", stack="zero"),
        color=colour,
        order=alt.Order("stack_order:Q"),
        tooltip=["month", by, "links"],
    )
    .properties(height=420)
)
st.altair_chart(chart)
st.caption(
    f"{count(int(timeline['links'].sum()), 'dated link')} from {timeline['month'].min()} "
    f"to {timeline['month'].max()}; {undated} undated."
)
with st.expander("The numbers"):
    table = timeline.pivot_table(index="month", columns=by, values="links", fill_value=0)
    st.dataframe(table)
