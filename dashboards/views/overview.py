"""Overview: what the data holds, how fresh it is, what the last load rejected."""

from __future__ import annotations

import datetime as dt

import altair as alt
import common
import pandas as pd
import streamlit as st
from wording import count, plain

view = common.current_view()
st.title("Overview")
st.caption(f"Data: {plain(view.source.label)}")

whole = common.summary(view.source, view.filters)
counts = whole["by_kind"]
columns = st.columns(5)
for column, (label, value) in zip(
    columns,
    [
        ("Young people", counts.get("young_person", 0)),
        ("Adults", counts.get("adult", 0)),
        ("Locations", counts.get("location", 0)),
        ("Vehicles", counts.get("vehicle", 0)),
        ("Links", whole["links"]),
    ],
    strict=True,
):
    column.metric(label, value)

st.subheader("Data freshness")
if whole["last_date"]:
    last = dt.date.fromisoformat(whole["last_date"])
    age = (dt.date.today() - last).days
    st.markdown(
        f"Links run from **{whole['first_date']}** to **{whole['last_date']}** "
        f"(the newest record is {count(age, 'day')} old)."
    )
else:
    st.markdown("No link carries a date.")


def bars(counts: dict[str, int], what: str) -> alt.Chart:
    """Horizontal bars, largest first, every label shown."""
    rows: list[tuple[str, int]] = sorted(counts.items(), key=lambda item: item[1], reverse=True)
    table = pd.DataFrame(rows, columns=[what, "links"])
    return (
        alt.Chart(table)
        .mark_bar()
        .encode(
            x=alt.X("links:Q", title="links"),
            y=alt.Y(f"{what}:N", sort="-x", title=None, axis=alt.Axis(labelOverlap=False)),
            tooltip=[what, "links"],
        )
        .properties(height=alt.Step(20))
    )


left, right = st.columns(2)
with left:
    st.subheader("Links by agency")
    st.altair_chart(bars(whole["by_agency"], "agency"))
with right:
    st.subheader("Links by type")
    st.altair_chart(bars(whole["by_type"], "type"))

st.subheader("Rejected rows from the last load")
ingest = common.digest(view.source, view.filters).ingest
if ingest is None:
    st.info(
        "Data read from Neo4j: `graphguard load DATASET --rejects FILE` reports the rows it "
        "rejected when the data was loaded."
    )
else:
    files = pd.DataFrame(
        [{"file": r.file, **r.as_dict()} for r in ingest.files.values() if r.present]
    )
    st.dataframe(files, hide_index=True)
    if ingest.rejects:
        rejected = count(len(ingest.rejects), "row")
        verb = "was" if len(ingest.rejects) == 1 else "were"
        st.warning(f"{rejected} {verb} rejected; the valid rows are shown.")
        st.dataframe(
            pd.DataFrame([r.as_dict() for r in ingest.rejects]), hide_index=True, height=240
        )
    else:
        st.success("Every row was accepted.")

st.subheader("Where to go next")
result = common.analysis(view.source, view.filters)
scored = result.hubs
if scored:
    top_hubs = ", ".join(
        plain(f"{common.entity_name(view, hub.id)} ({hub.id})") for hub in scored[:3]
    )
    top_contexts = ", ".join(
        plain(f"{common.entity_name(view, c.id)} ({c.id})") for c in result.contexts[:3]
    )
    lines = [f"Highest-scoring adults: {top_hubs}."]
    if top_contexts:
        lines.append(f"Highest-scoring contexts: {top_contexts}.")
    st.markdown("  \n".join(lines))
st.page_link("views/hubs.py", label="Hubs: who risk is organised around, and why")
st.page_link("views/contexts.py", label="Places and vehicles: where harm happens, with a map")
st.page_link("views/groups.py", label="Peer groups: for safety planning")
st.page_link("views/network.py", label="Network: the whole picture, filtered and focused")
st.page_link("views/disruption.py", label="Disruption planner: the ranked target list")
