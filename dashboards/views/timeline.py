"""Timeline: links over time, by type or by the agency that recorded them."""

from __future__ import annotations

import altair as alt
import common
import streamlit as st

view = common.current_view()
st.title("Timeline")
st.caption("Links per month of their first sighting. Undated links are left out.")
graph = common.network(view.source, view.filters)
by = st.radio(
    "Split by",
    ["type", "agency"],
    horizontal=True,
    format_func=lambda b: "link type" if b == "type" else "agency",
    key="timeline_by",
)
timeline = common.timeline(view.source, view.filters, by)
undated = graph.number_of_edges() - int(timeline["links"].sum())
if timeline.empty:
    st.info("No link in this view carries a date.")
    st.stop()

chart = (
    alt.Chart(timeline)
    .mark_bar()
    .encode(
        x=alt.X("month:T", title="month first seen", timeUnit="yearmonth"),
        y=alt.Y("links:Q", title="links", stack="zero"),
        color=alt.Color(f"{by}:N", title="link type" if by == "type" else "agency"),
        tooltip=["month", by, "links"],
    )
    .properties(height=420)
)
st.altair_chart(chart)
st.caption(
    f"{int(timeline['links'].sum())} dated links from {timeline['month'].min()} to "
    f"{timeline['month'].max()}; {undated} undated."
)
with st.expander("The numbers"):
    table = timeline.pivot_table(index="month", columns=by, values="links", fill_value=0)
    st.dataframe(table)
