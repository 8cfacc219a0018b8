"""What changed: the picture on one date against the picture on another, for the meeting."""

from __future__ import annotations

import datetime as dt
from typing import Any

import common
import pandas as pd
import streamlit as st
from wording import count, plain

from graphguard.analysis.evidence import default_as_of
from graphguard.analysis.options import AnalysisOptions
from graphguard.audit import Event
from graphguard.meeting.changes import compare
from graphguard.meeting.months import add_months
from graphguard.privacy import YoungPersonScrubber, pseudonym, role_view
from graphguard.settings import pseudonym_key
from graphguard.store.base import Filters


@st.cache_data(show_spinner="Comparing the two pictures…", max_entries=8)
def _changes(
    location: str, stamp: Any, sight: str, date_from: dt.date, date_to: dt.date, _source: Any
) -> dict[str, Any]:
    """The changes report (cached by the data's location, stamp and sight and the two dates)."""
    store = common.store(_source)
    key = pseudonym_key()
    # Read afresh (compare may annotate what it is given), as the role may see it.
    graph_to = role_view(store.graph(Filters(as_of=date_to)), _source.sight)
    report = compare(
        role_view(store.graph(Filters(as_of=date_from)), _source.sight),
        graph_to,
        options=AnalysisOptions.from_settings(),
        date_from=date_from,
        date_to=date_to,
        pseudonymise=lambda y: pseudonym(y, key),
    )
    scrubbed: dict[str, Any] = YoungPersonScrubber.from_graph(graph_to, ids=False).scrub(
        report.as_dict()
    )
    return scrubbed


view = common.current_view()
st.title("What changed")
st.caption(
    "Each picture is the analysis as of its date under the same options, so scores "
    "compare. Every change cites the new links behind it; young people newly exposed "
    "are counted and shown only by pseudonym."
)
latest = default_as_of(common.network(view.source, Filters()))
left, right = st.columns(2)
date_to = right.date_input("To (the later picture)", value=latest, key="changes_to")
date_from = left.date_input(
    "From (the earlier picture)", value=add_months(latest, -1), key="changes_from"
)
if not isinstance(date_from, dt.date) or not isinstance(date_to, dt.date):
    st.stop()
if date_from >= date_to:
    st.error("The earlier picture must be before the later one.")
    st.stop()
common.audit_view(
    Event.CHANGES, view.source, date_from=date_from.isoformat(), date_to=date_to.isoformat()
)
try:
    data = _changes(
        view.source.location,
        view.source.stamp,
        view.source.sight.key,
        date_from,
        date_to,
        view.source,
    )
except Exception as error:
    common.show_error(error)
    st.stop()
summary = data["summary"]
columns = st.columns(4)
columns[0].metric("New links", summary["new_links"])
columns[1].metric("Moves", summary["moves"])
columns[2].metric("Young people newly exposed", summary["young_people_newly_exposed"])
columns[3].metric("New links of concern", summary["new_links_of_concern"])

st.subheader("Moves")
if not data["moves"]:
    st.write("No adult of concern moved from a context gone quiet to a new one.")
for move in data["moves"]:
    st.warning(plain(move["reason"]))


def _table(rows: list[dict[str, Any]], columns: list[str], empty: str) -> None:
    if not rows:
        st.write(empty)
        return
    frame = pd.DataFrame([{c: row.get(c) for c in columns} for row in rows])
    for column in frame.columns:
        if frame[column].map(lambda v: isinstance(v, list)).any():
            frame[column] = frame[column].map(lambda v: ", ".join(v or []))
    st.dataframe(frame, hide_index=True)


st.subheader("Adults")
_table(data["adults"], ["id", "change", "score_from", "score_to", "links", "reason"],
       "No adult of concern is new, rising or falling.")  # fmt: skip
st.subheader("Places and vehicles")
_table(data["contexts"], ["label", "change", "score_from", "score_to", "links", "reason"],
       "No context of concern is new, rising or falling.")  # fmt: skip
exposed = data["young_people_newly_exposed"]
st.subheader(f"Young people newly exposed: {count(len(exposed), 'young person', 'young people')}")
_table(exposed, ["young_person", "exposure", "adults", "links"], "Nobody newly exposed.")
st.subheader("New links of concern")
_table(data["new_links_of_concern"],
       ["link_id", "type", "source", "target", "first_seen", "reference", "reason"],
       "No new link of concern.")  # fmt: skip
st.subheader("Peer groups")
_table(data["groups"], ["group_from", "group_to", "change", "size_from", "size_to", "joined",
                        "left"], "No peer group gained or lost members.")  # fmt: skip
