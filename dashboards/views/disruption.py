"""Disruption planner: disrupt the context, not the child."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import altair as alt
import common
import pandas as pd
import streamlit as st
from wording import count, plain

from graphguard.access import Permission, current_identity, require
from graphguard.audit import Event, audited
from graphguard.errors import GraphguardError
from graphguard.meeting.actions import DUE_WITHIN_DAYS, actions_due, list_actions
from graphguard.meeting.state import MeetingState
from graphguard.settings import pseudonym_key
from graphguard.viz import neighbourhood

view = common.current_view()
st.title("Disruption planner")
st.caption(
    "Contextual Safeguarding: disrupt the adults, places, vehicles and businesses around "
    "which harm is organised, rather than move the child. Exposure is how strongly adults "
    "of concern reach each young person, by graded, dated routes of up to three links. "
    "Young people are never targets."
)
graph = common.network(view.source, view.filters)
found = common.disruption(view.source, view.filters)
if not found.exposure.young_people:
    st.info("No young person in this view is exposed to an adult of concern.")
    st.stop()


def named(entity_id: str) -> str:
    """On screen, the entity's name where the analyst needs it (never in a download)."""
    return common.entity_name(view, entity_id) if entity_id in graph else ""


# ------------------------------------------------------------------------------ the plan
st.header("The plan")
k = st.slider("Targets to disrupt together (k)", 1, 10, 3, key="plan_k")
chosen = common.plan(view.source, view.filters, k)
common.audit_view(Event.PLAN, view.source, k=k)
before, after = chosen.total_before, chosen.total_after
left, middle, right = st.columns(3)
left.metric("Total exposure now", f"{before:.2f}")
middle.metric(f"After disrupting {len(chosen.steps)}", f"{after:.2f}", f"{after - before:.2f}")
right.metric("Fall", f"{(before - after) / before:.0%}" if before else "0%")
steps = pd.DataFrame(
    [
        {
            "step": number,
            "target": step.target.id,
            "kind": step.target.kind,
            "name": named(step.target.id) if len(step.target.members) == 1 else "",
            "description": step.target.label,
            "adds": round(step.added_impact, 3),
            "cumulative fall": round(step.cumulative_impact, 3),
            "exposure after": round(step.total_after, 3),
            "young people protected": len(step.young_people),
        }
        for number, step in enumerate(chosen.steps, start=1)
    ]
)
st.dataframe(steps, hide_index=True)
if not steps.empty:
    st.altair_chart(
        alt.Chart(steps)
        .mark_bar()
        .encode(
            x=alt.X("target:N", sort=None, title="target, in the order chosen"),
            y=alt.Y("adds:Q", title="fall in total exposure it adds"),
            tooltip=["step", "target", "adds", "cumulative fall"],
        )
        .properties(height=220)
    )
st.caption(
    "Each next target is the one adding most to the fall, given those already chosen "
    "(Borgatti's key-player problem, greedy)."
)
agreed = list_actions(MeetingState.open(common.store(view.source)))
planned = {step.target.id for step in chosen.steps}
on_plan = [a for a in agreed if a.target_id in planned]
overdue, due = actions_due(agreed, dt.date.today())
if on_plan:
    st.markdown("**Agreed actions on these targets**")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "action": a.id,
                    "target": a.target_id,
                    "tactic": a.tactic_text,
                    "lead agency": a.lead_agency,
                    "status": a.status,
                    "review": a.review.isoformat(),
                }
                for a in on_plan
            ]
        ),
        hide_index=True,
    )
if overdue or due:
    st.warning(
        f"{count(len(overdue), 'action')} overdue for review, {len(due)} due within "
        f"{count(DUE_WITHIN_DAYS, 'day')}."
    )
st.page_link("views/actions.py", label="Record and review disruption actions")
members = {m for step in chosen.steps for m in step.target.members if m in graph}
protected = {y for step in chosen.steps for y in step.young_people if y in graph}
around = set(members) | protected
for member in members:
    around |= set(neighbourhood(graph, member, 1))
drawn = common.drawing(
    view.source,
    view.filters,
    entities=tuple(sorted(around)),
    show_names=view.show_names,
)
if drawn.capped:
    st.warning(
        f"Showing {drawn.shown_nodes} of the {count(drawn.total_nodes, 'entity', 'entities')} "
        "around the plan."
    )
common.show_drawing(drawn, "the plan's targets and who they expose")

# ------------------------------------------------------------------------------ relocation
st.header("Move the child, or disrupt the context?")
exposed = list(found.exposure.young_people)
young_person = st.selectbox(
    "Young person",
    exposed,
    format_func=lambda y: f"{named(y) or y} (exposure {found.exposure.young_people[y]:.2f})",
    key="relocation_pick",
)
comparison = common.relocation(view.source, view.filters, young_person)
common.audit_view(Event.RELOCATION, view.source, young_person)
conclusion = comparison.conclusion.splitlines()
if conclusion:
    st.info("  \n".join([f"**{plain(conclusion[0])}**", *(plain(line) for line in conclusion[1:])]))
moved_before = comparison.placement is not None and comparison.placement.type == "PLACED_AT"
left, middle, right = st.columns(3)
left.metric("Their exposure now", f"{comparison.exposure_now:.2f}")
middle.metric(
    "If moved again" if moved_before else "If moved",
    f"{comparison.exposure_if_moved:.2f}",
    f"{comparison.exposure_if_moved - comparison.exposure_now:.2f}",
    delta_color="off",
    help="Lower only because they would be further away from the adults, who are not "
    "stopped and go on exposing others (the victim vacuum below).",
)
right.metric("Protective ties a move would cut", len(comparison.protective_ties))
options = [
    {
        "option": alternative.name,
        "targets": ", ".join(alternative.targets),
        "fall in total exposure": round(alternative.total_fall, 3),
        "their exposure after": round(alternative.own_after, 3),
        "others' fall": round(alternative.others_fall, 3),
        "young people protected": alternative.young_people_protected,
    }
    for alternative in [comparison.move, *comparison.alternatives]
]
st.dataframe(pd.DataFrame(options), hide_index=True)
ties, still = st.columns(2)
with ties:
    st.markdown("**Protective ties they have now, which a move would cut**")
    if comparison.protective_ties:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "tie": tie.reason,
                        "with": named(tie.other) or tie.label,
                        "link": f"{tie.type} {tie.link_id}",
                        "reference": tie.reference or "",
                        "grading": tie.grading,
                    }
                    for tie in comparison.protective_ties
                ]
            ),
            hide_index=True,
        )
    else:
        st.markdown("None recorded.")
    if comparison.ties_already_cut:
        st.caption(
            "Not counted, as the earlier move already cut them: "
            + plain(
                "; ".join(
                    f"{tie.reason}: {named(tie.other) or tie.label} ({tie.link_id}, last "
                    f"seen {tie.last_seen})"
                    for tie in comparison.ties_already_cut
                )
            )
            + "."
        )
with still:
    st.markdown("**Adults who would still reach them after a move**")
    if comparison.kept:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "adult": f"{kept['adult']} · {named(kept['adult'])}",
                        "reach now": kept["reach_now"],
                        "reach if moved": kept["reach_if_moved"],
                        "still joined by": ", ".join(kept["links"]),
                    }
                    for kept in comparison.kept
                ]
            ),
            hide_index=True,
        )
    else:
        st.markdown("None.")
st.markdown(
    "**The victim vacuum**: other young people still exposed to the same adults and "
    "contexts after the move, most likely to be drawn in next first."
)
st.dataframe(
    pd.DataFrame(
        [
            {
                "young person": named(entry.young_person) or entry.young_person,
                "shared exposure": round(entry.shared_exposure, 3),
                "vulnerability": round(entry.vulnerability, 2),
                "likelihood": round(entry.likelihood, 3),
                "adults": ", ".join(entry.adults),
                "contexts": ", ".join(entry.contexts),
            }
            for entry in comparison.vacuum
        ],
        columns=[
            "young person",
            "shared exposure",
            "vulnerability",
            "likelihood",
            "adults",
            "contexts",
        ],
    ),
    hide_index=True,
)

# ------------------------------------------------------------------------------ placement
st.header("Placement check")
radius = st.slider("How far to look (metres)", 250, 3000, 1000, step=250, key="placement_radius")
proposed = st.toggle("Check a proposed address instead", key="placement_proposed")
address: tuple[float, float] | None = None
if proposed:
    lat, lon = st.columns(2)
    address = (
        lat.number_input("Latitude", -90.0, 90.0, 53.74, format="%.5f", key="placement_lat"),
        lon.number_input("Longitude", -180.0, 180.0, -0.33, format="%.5f", key="placement_lon"),
    )
try:
    check = common.placement(view.source, view.filters, young_person, float(radius), address)
except GraphguardError as error:
    st.info(plain(f"No placement check for {young_person}: {error}"))
else:
    common.audit_view(
        Event.PLACEMENT_CHECK, view.source, young_person, radius=radius, proposed=address
    )
    where = "the proposed address" if proposed else f"where they live now ({plain(check.origin)})"
    if check.contexts:
        st.warning(
            f"{count(len(check.contexts), 'context')} of concern within {radius} m of {where}."
        )
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "context": f"{c.id} · {named(c.id) or c.label}",
                        "kind": c.location_kind,
                        "metres": round(c.distance_m),
                        "adults of concern": ", ".join(c.adults_of_concern),
                        "exposure through it": round(c.exposure_through, 3),
                        "young people found here": c.young_people_found,
                        "evidence": "; ".join(c.evidence),
                    }
                    for c in check.contexts
                ]
            ),
            hide_index=True,
        )
    else:
        st.success(f"No context of concern within {radius} m of {where}.")
    if check.protective_ties:
        st.caption(
            f"Protective ties cut by the placement: {len(check.protective_ties)} ("
            + plain(", ".join(sorted({t.reason for t in check.protective_ties})))
            + ")."
        )

# ------------------------------------------------------------------------------ the list
st.header("Target list")
# A role that may not see handling code C never holds it: its list is shareable.
shareable = (
    st.toggle(
        "Shareable: withhold records with handling code C",
        key="targets_shareable",
        help="Records with 3x5x2 handling code C are withheld, and targets resting only on "
        "them; scores are computed again without them.",
    )
    if common.may(Permission.SEE_HANDLING_C)
    else True
)
key = pseudonym_key()
today = dt.date.today()
targets = common.target_list(view.source, view.filters, shareable, key, today)
shown = pd.DataFrame(targets.rows, columns=list(targets.columns)).drop(
    columns=["linked_young_people_pseudonyms"]
)
st.dataframe(
    shown,
    hide_index=True,
    column_config={
        "evidence": st.column_config.ListColumn("evidence"),
        "suggested_tactics": st.column_config.ListColumn("suggested tactics"),
    },
)
st.caption(
    plain(
        " ".join(targets.notes[3:5]).replace("with --shareable", "with the Shareable switch above")
    )
)


def download(kind: str) -> Callable[[], bytes]:
    """The target list file, generated only when its button is clicked, and audited then.

    No file (and no download URL) exists before the click; if the audit line cannot be
    written the file is not made, so nothing leaves without an audit line.
    """

    def generate() -> bytes:
        # Drawn only for a role that may export; checked again when the file is made.
        require(current_identity(), Permission.EXPORT_TARGETS, "download a target list")
        with audited(
            Event.DOWNLOAD_TARGETS,
            format=kind,
            rows=len(targets.rows),
            shareable=shareable,
            as_of=targets.as_of.isoformat(),
            source=view.source.location,
            channel="dashboard",
        ) as audit:
            audit.note(subjects=targets.subjects)
            return common.target_file(view.source, view.filters, shareable, kind, key, today)

    return generate


if not common.may(Permission.EXPORT_TARGETS):
    st.caption("Downloading the list is for roles that export target lists (docs/access.md).")
    st.stop()
csv_file, xlsx_file = st.columns(2)
csv_file.download_button(
    "Download CSV",
    download("csv"),
    file_name="targets.csv",
    mime="text/csv",
    on_click="ignore",
    key="targets_csv",
)
xlsx_file.download_button(
    "Download XLSX",
    download("xlsx"),
    file_name="targets.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    on_click="ignore",
    key="targets_xlsx",
)
