"""Matches: the pairs of agency records the resolver is unsure of, for an analyst to decide."""

from __future__ import annotations

import common
import pandas as pd
import records
import streamlit as st
from wording import count, plain

from graphguard.access import Permission
from graphguard.errors import GraphguardError
from graphguard.resolve.types import Outcome

view = common.current_view()
st.title("Matches")
st.caption(
    "Each agency sends its own records with its own ids; graphguard joins those that are "
    "the same person, place or vehicle. Pairs it is sure of are joined, pairs it is unsure "
    "of wait here for an analyst, and your decision overrides the machine: it is written "
    "to the dataset's decisions.csv, audited, and can be reversed by a later decision."
)
if view.source.is_neo4j:
    st.info(
        "Matches are decided on the agency extracts themselves: open the dashboard on the "
        "dataset folder (`graphguard dashboard DATASET`), or use `graphguard resolve decide`."
    )
    st.stop()
ingest = getattr(common.store(view.source), "ingest", None)
resolution = ingest.dataset.resolution if ingest is not None else None
if ingest is None or resolution is None:
    st.info(
        "This dataset is in one namespace (format version 1): its records are already "
        "joined, so there is nothing to match. Agency extracts (version 2, one folder per "
        "source) are joined by graphguard and their uncertain pairs shown here."
    )
    st.stop()

made = common.decisions_made(view.source)
if made:
    last = made[-1]
    st.success(
        plain(
            f"Recorded: {last.record_a} and {last.record_b} are "
            f"{'the same' if last.decision == 'same' else 'different'} "
            f"({last.decided_by}, {last.decided_on.isoformat()}). The entities below are "
            "resolved again with it."
        )
    )

outcomes = [candidate.outcome for candidate in resolution.candidates]
left, middle, right, far = st.columns(4)
left.metric("Waiting for review", outcomes.count(Outcome.REVIEW))
middle.metric("Joined", outcomes.count(Outcome.JOINED))
right.metric("Kept apart", outcomes.count(Outcome.APART))
far.metric("Decided by analysts", sum(c.decision is not None for c in resolution.candidates))

waiting = sorted(resolution.for_review(), key=lambda c: (-c.match_probability, c.record_a))
if not waiting:
    st.success("No pair is waiting for review: every candidate pair is joined or kept apart.")
    st.stop()
kinds = sorted({c.kind for c in waiting})
kind = st.radio(
    "Kind", ["all", *kinds], horizontal=True, key="matches_kind", format_func=str.capitalize
)
shown = [c for c in waiting if kind in ("all", c.kind)]
st.dataframe(
    pd.DataFrame(
        [
            {
                "record A": c.record_a,
                "record B": c.record_b,
                "kind": c.kind,
                "probability": round(c.match_probability, 3),
                "the machine found": "; ".join(c.agreements),
            }
            for c in shown
        ]
    ),
    hide_index=True,
    height=min(38 + 35 * len(shown), 320),
    column_config={
        "probability": st.column_config.ProgressColumn(
            "probability", min_value=0.0, max_value=1.0, format="%.3f"
        )
    },
)

pairs = {f"{c.record_a} + {c.record_b}": c for c in shown}
chosen = st.selectbox(
    "Pair to decide",
    list(pairs),
    format_func=lambda p: f"{p} ({pairs[p].kind}, {pairs[p].match_probability:.3f})",
    key="matches_pick",
)
candidate = pairs[chosen]
st.subheader(plain(f"{candidate.record_a} and {candidate.record_b}"))
st.markdown(
    "  \n".join(
        plain(records.source_line(ingest.records, r))
        for r in (candidate.record_a, candidate.record_b)
    )
)
table, withheld = records.side_by_side(ingest.records, candidate, view.show_names)
st.dataframe(table, hide_index=True)
if withheld:
    st.caption(
        "A young person's identifying values are withheld (whether they agree is shown): "
        "turn on 'Show young people's names' in the sidebar to compare them."
    )
reasons = [f"probability {candidate.match_probability:.3f}", *candidate.agreements]
st.info(plain("The machine: " + "; ".join(reasons)))
if candidate.rule:
    st.warning(plain(f"Rule: {candidate.rule}"))

if not common.may(Permission.DECIDE_MATCHES):
    st.caption("Deciding matches is for roles that decide them (docs/access.md).")
    st.stop()
with st.form("matches_decision", clear_on_submit=True):
    verdict = st.radio(
        "Your decision",
        ["same", "different"],
        format_func=lambda d: "the same" if d == "same" else "different",
        horizontal=True,
        key="matches_verdict",
    )
    reason = st.text_area(
        "Reason (required: it is kept with the decision and in the audit log)",
        key="matches_reason",
    )
    submitted = st.form_submit_button("Record the decision")
if submitted:
    common.refuse_unless(Permission.DECIDE_MATCHES, "record a match decision")
    if not reason.strip():
        st.error("Give a reason for the decision: nothing was recorded.")
    else:
        try:
            common.decide(view.source, candidate.record_a, candidate.record_b, verdict, reason)
        except GraphguardError as error:
            common.show_error(error)
        else:
            st.rerun()
st.caption(
    f"{count(len(waiting), 'pair')} waiting in all. A decision takes effect at once: the "
    "extracts are not read again."
)
