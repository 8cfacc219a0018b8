"""The alert inbox: what the watch rules raised, and triage (acknowledge, dismiss, action)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import common
import pandas as pd
import streamlit as st
from wording import count, plain

from graphguard.access import Permission
from graphguard.analysis.evidence import default_as_of
from graphguard.audit import Event
from graphguard.errors import GraphguardError
from graphguard.meeting.state import MeetingState
from graphguard.meeting.watch import STATES, WATCH_WINDOW_DAYS, alerts, change_state, run_watch
from graphguard.privacy import EVERYTHING, YoungPersonScrubber, pseudonym, withhold_unseen
from graphguard.settings import pseudonym_key
from graphguard.store.base import Filters

view = common.current_view()
st.title("Alerts")
st.caption(
    "Raised by the watch rules of cypher/alerts after every load and on demand, each "
    "once, with its evidence. Every change of state is audited with who made it."
)


def _scrubber() -> YoungPersonScrubber:
    """A reason may name a child: it is kept and shown with their pseudonym instead."""
    key = pseudonym_key()
    graph = common.network(view.source, Filters())
    return YoungPersonScrubber.from_graph(graph, replace_id=lambda y: pseudonym(y, key))


def _state() -> MeetingState:
    source: Any = common.store(view.source) if view.source.is_neo4j else view.source.location
    return MeetingState.open(source)


try:
    state = _state()
except GraphguardError as error:
    common.show_error(error)
    st.stop()

latest = default_as_of(common.network(view.source, Filters()))
since = st.date_input(
    "Links new since",
    value=latest - dt.timedelta(days=WATCH_WINDOW_DAYS),
    max_value=latest - dt.timedelta(days=1),
    key="alerts_since",
)
manages = common.may(Permission.MANAGE_ALERTS)
if (
    manages
    and st.button("Run the watch rules now", key="alerts_run")
    and isinstance(since, dt.date)
):
    common.refuse_unless(Permission.MANAGE_ALERTS, "run the watch rules")
    try:
        run = run_watch(
            common.store(view.source), state=state, since=since, source=view.source.location
        )
        st.success(
            f"{count(len(run.raised), 'new alert')} on the picture of {run.as_of.isoformat()} "
            f"(links new since {run.since.isoformat()})."
        )
    except Exception as error:
        common.show_error(error)

shown = st.multiselect("States", list(STATES), default=["new", "acknowledged"], key="alerts_states")
rows = alerts(state, states=shown)
if view.source.sight != EVERYTHING:  # an alert on a withheld record says what it said
    rows = withhold_unseen(rows, common.network(view.source, Filters()))
common.audit_view(Event.ALERTS, view.source, states=",".join(shown))
if not rows:
    st.info("No alerts in these states.")
    st.stop()
st.dataframe(
    pd.DataFrame(
        [
            {
                "key": a["key"],
                "state": a["state"],
                "picture": a["raised_on"],
                "rule": a["rule"].replace("_", " "),
                "explanation": a["explanation"],
                "evidence": ", ".join(a["evidence"]),
            }
            for a in rows
        ]
    ),
    hide_index=True,
)

st.subheader("Triage")
chosen = st.selectbox("Alert", [a["key"] for a in rows], key="alerts_key")
alert = next(a for a in rows if a["key"] == chosen)
st.write(plain(alert["explanation"]))
for change in alert.get("history", []):
    st.caption(
        plain(
            f"{change['at']}: {change['from']} -> {change['to']} by {change['by']}"
            + (f" ({change['reason']})" if change.get("reason") else "")
        )
    )
if not manages:
    st.caption(
        "Your role sees the alerts; acknowledging, dismissing and actioning them is "
        "for roles that manage alerts (docs/access.md)."
    )
    st.stop()
target = st.radio(
    "Change to", ["acknowledged", "dismissed", "actioned"], horizontal=True, key="alerts_to"
)
reason = st.text_input("Reason (required to dismiss) or what was done", key="alerts_reason")
if st.button("Apply", key="alerts_apply"):
    common.refuse_unless(Permission.MANAGE_ALERTS, "change an alert's state")
    try:
        change_state(
            state,
            chosen,
            target,
            user=common.acting_identity().user,
            scrub=_scrubber(),
            reason=reason,
            source=view.source.location,
        )
        st.success(f"Alert {chosen} is now {target}.")
    except Exception as error:
        common.show_error(error)
