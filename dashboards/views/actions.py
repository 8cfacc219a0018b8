"""Disruption actions: what the meeting agreed, what is due, what moved, and the pack."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import common
import pandas as pd
import streamlit as st
from wording import count, plain

from graphguard.access import Permission, current_identity, require
from graphguard.analysis.options import AnalysisOptions
from graphguard.audit import Event, audited
from graphguard.errors import GraphguardError
from graphguard.meeting.actions import (
    DUE_WITHIN_DAYS,
    Action,
    ActionStatus,
    actions_due,
    add_action,
    list_actions,
    update_action,
)
from graphguard.meeting.briefing import build_briefing
from graphguard.meeting.displacement import Displacement, displacement
from graphguard.meeting.pdf import render_briefing
from graphguard.meeting.state import MeetingState
from graphguard.model import Agency
from graphguard.settings import pseudonym_key
from graphguard.store.base import Filters
from graphguard.targets import TACTICS

view = common.current_view()
st.title("Disruption actions")
st.caption(
    "What the partnership agreed against each target — tactic, lead agency, owner, start "
    "and review dates, status and outcome — kept with the data and audited; what is due "
    "for review; and, after an action starts, whether the exposure stopped or moved to "
    "other adults, places or vehicles. Young people are never targets."
)
# Actions are checked against, and displacement measured on, the whole picture: the
# sidebar's filters narrow what is looked at, not what was agreed.
whole = common.network(view.source, Filters())
state = MeetingState.open(common.store(view.source))
key = pseudonym_key()
today = dt.date.today()
agreed = list_actions(state)
common.audit_view(Event.VIEW_ACTIONS, view.source, rows=len(agreed))


def describe(action: Action) -> str:
    return f"{action.id}: {action.tactic_text.split(' (')[0]} against {action.target_label}"


@st.cache_data(show_spinner="Measuring displacement…", max_entries=64)
def measured(
    _source: common.DataSource,
    data: tuple[Any, ...],
    record: str,
    half_life: float,
    shareable: bool,
) -> Displacement:
    """Displacement after one action, cached by the data (``data``) and the action as kept."""
    action = Action.from_record(json.loads(record))
    graph = common.network(_source, Filters())
    options = AnalysisOptions(half_life_days=half_life)
    return displacement(graph, action, key=pseudonym_key(), options=options, shareable=shareable)


# ------------------------------------------------------------------------------ due
st.header("Due for review")
within = st.slider("Review due within (days)", 0, 90, DUE_WITHIN_DAYS, key="actions_within")
overdue, due = actions_due(agreed, today, within)
left, middle, right = st.columns(3)
left.metric("Open actions", sum(a.is_open for a in agreed))
middle.metric("Overdue for review", len(overdue))
right.metric(f"Due within {count(within, 'day')}", len(due))
for action in overdue:
    st.warning(plain(f"Overdue since {action.review.isoformat()}: {describe(action)}"))
for action in due:
    st.info(plain(f"Due {action.review.isoformat()}: {describe(action)}"))

# ------------------------------------------------------------------------------ all actions
st.header("Agreed actions")
if agreed:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "action": a.id,
                    "target": a.target_id,
                    "description": a.target_label,
                    "tactic": a.tactic_text,
                    "lead agency": a.lead_agency,
                    "owner": a.owner,
                    "start": a.start.isoformat(),
                    "review": a.review.isoformat(),
                    "status": a.status,
                    "due": a.due_state(today, within) or "",
                    "outcome": a.outcome or "",
                }
                for a in agreed
            ]
        ),
        hide_index=True,
    )
else:
    st.info("No action has been recorded yet: record one below.")

# Recording and updating actions is for roles that manage them; the others see the list.
manages = common.may(Permission.MANAGE_ACTIONS)
if not manages:
    st.caption(
        "Your role sees the agreed actions; recording and updating them is for roles that "
        "manage actions (docs/access.md)."
    )
else:
    # ------------------------------------------------------------------------------ record
    st.header("Record an action")
    targets = common.target_list(view.source, Filters(), False, key, today)
    choices = {row["target_id"]: f"{row['target_id']} — {row['label']}" for row in targets.rows}
    suggested = {row["target_id"]: row["suggested_tactics"] for row in targets.rows}
    if not choices:
        st.info("No target would reduce exposure, so there is nothing to act against.")
    else:
        with st.form("add_action"):
            target = st.selectbox(
                "Target", list(choices), format_func=choices.__getitem__, key="action_target"
            )
            tactic = st.selectbox(
                "Tactic", list(TACTICS), format_func=TACTICS.__getitem__, key="action_tactic"
            )
            agency = st.selectbox("Lead agency", [a.value for a in Agency], key="action_agency")
            owner = st.text_input("Owner", key="action_owner")
            start_on, review_on = st.columns(2)
            start = start_on.date_input("Start", today, key="action_start")
            review = review_on.date_input(
                "Review", today + dt.timedelta(days=DUE_WITHIN_DAYS), key="action_review"
            )
            notes = st.text_area("Notes", key="action_notes")
            if st.form_submit_button("Record the action"):
                common.refuse_unless(Permission.MANAGE_ACTIONS, "record an action")
                try:
                    action = add_action(
                        state,
                        whole,
                        key=key,
                        target_id=target,
                        tactic=tactic,
                        lead_agency=agency,
                        owner=owner,
                        start=start,
                        review=review,
                        notes=notes or None,
                        source=view.source.location,
                    )
                except GraphguardError as error:
                    common.show_error(error)
                else:
                    st.session_state["action_done"] = f"Recorded {describe(action)}."
                    st.rerun()
        hints = suggested.get(target, []) if choices else []
        if hints:
            st.caption(plain("Suggested for this target: " + "; ".join(hints)))
    if st.session_state.get("action_done"):
        st.success(plain(st.session_state.pop("action_done")))

    # ------------------------------------------------------------------------------ update
    if agreed:
        st.header("Update an action")
        by_id = {a.id: a for a in agreed}
        chosen = st.selectbox(
            "Action", list(by_id), format_func=lambda i: describe(by_id[i]), key="update_pick"
        )
        current = by_id[chosen]
        statuses = [s.value for s in ActionStatus]
        # One form per action, so its fields start from what that action says now.
        with st.form(f"update_action_{chosen}"):
            status = st.selectbox(
                "Status", statuses, statuses.index(current.status), key=f"update_status_{chosen}"
            )
            outcome = st.text_input(
                "Outcome", current.outcome or "", key=f"update_outcome_{chosen}"
            )
            new_review = st.date_input("Review", current.review, key=f"update_review_{chosen}")
            if st.form_submit_button("Update"):
                common.refuse_unless(Permission.MANAGE_ACTIONS, "update an action")
                try:
                    changed = update_action(
                        state,
                        whole,
                        chosen,
                        key=key,
                        status=status if status != current.status else None,
                        outcome=outcome if outcome != (current.outcome or "") else None,
                        review=new_review if new_review != current.review else None,
                        source=view.source.location,
                    )
                except GraphguardError as error:
                    common.show_error(error)
                else:
                    st.session_state["action_done"] = f"Updated {changed.id}: {changed.status}."
                    st.rerun()

# ------------------------------------------------------------------------------ displacement
st.header("Displacement")
started = [a for a in agreed if a.start <= today]
# A role that may not see handling code C never holds it: all it sees is shareable.
shareable = (
    st.toggle("Shareable (withhold handling code C)", value=False, key="actions_shareable")
    if common.may(Permission.SEE_HANDLING_C)
    else True
)
if not started:
    st.info("No action has started yet: displacement is measured after an action's start.")
else:
    half_life = common.analysis_options(view.filters).half_life_days
    common.audit_view(
        Event.VIEW_DISPLACEMENT,
        view.source,
        actions=[a.id for a in started],
        shareable=shareable,
    )
    for action in started:
        found = measured(
            view.source,
            dataclasses.astuple(view.source),
            json.dumps(action.as_record()),
            half_life,
            shareable,
        )
        st.subheader(plain(f"{action.id}: {found.verdict}"))
        st.markdown(plain(found.finding))
        if found.destinations:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "moved to": d.id,
                            "description": d.label,
                            "before": round(d.before, 3),
                            "after": round(d.after, 3),
                            "rise": round(d.rise, 3),
                            "young people": len(d.young_people),
                            "evidence": ", ".join(d.evidence),
                        }
                        for d in found.destinations
                    ]
                ),
                hide_index=True,
            )

# ------------------------------------------------------------------------------ the pack
if common.may(Permission.EXPORT_BRIEFING):
    st.header("Briefing pack")
    st.caption(
        "The PDF a chair circulates: summary, what changed, new alerts, top targets with "
        "evidence and tactics, agreed actions, context assessments of the top places, actions "
        "due, displacement and network pictures. Pseudonymised like the target list."
    )
    as_of = view.filters.as_of

    def pack_file(shareable_pack: bool) -> Callable[[], bytes]:
        """The pack, made only when its button is clicked, and audited then."""

        def generate() -> bytes:
            # Drawn only for a role that may export it; checked again when it is made.
            require(current_identity(), Permission.EXPORT_BRIEFING, "download the briefing pack")
            pack = build_briefing(
                whole,
                state,
                key=key,
                as_of=as_of,
                shareable=shareable_pack,
                source=view.source.location,
            )
            details: dict[str, Any] = {
                "shareable": shareable_pack,
                "as_of": pack.as_of.isoformat(),
                "targets": len(pack.targets.rows),
                "source": view.source.location,
            }
            with audited(Event.DOWNLOAD_BRIEFING, channel="dashboard", **details) as audit:
                data, pages = render_briefing(pack)
                audit.note(pages=pages, subjects=pack.targets.subjects)
            return data

        return generate

    month = (as_of or today).strftime("%Y-%m")
    st.download_button(
        "Download the briefing pack (PDF)" + (", shareable" if shareable else ""),
        pack_file(shareable),
        file_name=f"mace-{month}{'-shareable' if shareable else ''}.pdf",
        mime="application/pdf",
        on_click="ignore",
        key="briefing_pdf",
    )
    st.caption(
        "Shareable withholds records with handling code C, as the shareable target list does."
        if shareable
        else "Includes handling code C: not for sharing as it is. Switch Shareable on above "
        "for a pack to circulate."
    )
st.caption(count(len(agreed), "action") + " recorded in " + plain(state.location) + ".")
