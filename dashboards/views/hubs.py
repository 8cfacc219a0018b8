"""Hubs: the adults around whom risk to young people is organised, and why."""

from __future__ import annotations

import common
import pandas as pd
import records
import streamlit as st
from wording import count, plain

from graphguard.analysis.hubs import COMPONENT_WEIGHTS

view = common.current_view()
st.title("Hubs")
st.caption(
    "Adults ranked by how much risk to young people is organised around them. Every score "
    "is a sum of named components resting on graded, dated links; young people are never "
    "scored. A flag of 'suspected' is one modest component: structure decides the ranking."
)
nodes = common.entities(view)
result = common.analysis(view.source, view.filters)
everyone = common.adults(view.source, view.filters)
if not everyone:
    st.info("No adult in this view of the network.")
    st.stop()
scored = result.hubs
if not scored:
    st.info("No adult in this view scores above 0: no risk to young people is organised here.")

concern_only = st.toggle(
    "Only adults of concern",
    value=True,
    key="hubs_concern_only",
    help="Off: every adult scoring above 0. Any adult, those scoring 0 too, can be found "
    "by typing a name in the box below the table.",
)
hubs = ([hub for hub in scored if hub.concern] or scored[:10]) if concern_only else scored
table = pd.DataFrame(
    [
        {
            "rank": hub.rank,
            "id": hub.id,
            "name": common.entity_name(view, hub.id),
            "score": round(hub.score, 2),
            "suspected": bool(nodes[hub.id].get("suspected")) if hub.id in nodes else False,
            "categories": common.categories(view, hub.id).label(),
            "young people reached": int(hub.components.get("young_people_reached", 0)),
            **{name: round(hub.components.get(name, 0.0), 2) for name in COMPONENT_WEIGHTS},
        }
        for hub in hubs
    ]
)
if not table.empty:
    st.dataframe(
        table,
        hide_index=True,
        height=min(38 + 35 * len(table), 360),
        column_config={
            "suspected": st.column_config.CheckboxColumn("suspected", help="flagged by a partner"),
            "score": st.column_config.ProgressColumn(
                "score",
                min_value=0.0,
                max_value=float(max(table["score"], default=0.0) or 1.0),
                format="%.2f",
            ),
        },
    )

by_id = {hub.id: hub for hub in scored}
shown = [hub.id for hub in hubs]
listed = set(shown)
# Every adult can be picked, not only the table's: typing a name finds anyone, and an
# adult scoring 0 is where the explanation of a protective hub is read.
chosen = common.pick(
    "Adult (type a name or id to find any adult, those scoring 0 too)",
    shown + [adult for adult in everyone if adult not in listed],
    set(everyone),
    format_func=lambda i: (
        f"#{by_id[i].rank} {i} · {common.entity_name(view, i)}"
        if i in by_id
        else f"{i} · {common.entity_name(view, i)} (score 0)"
    ),
    key="hub_pick",
    what="adult",
)
assert chosen is not None  # the list always has its first adult chosen
hub = by_id.get(chosen) or common.adult(view.source, view.filters, chosen)
st.subheader(plain(f"#{hub.rank} {common.entity_name(view, hub.id)} ({hub.id})"))
common.show_categories(view, hub.id)
st.info(plain(hub.explanation))
records.show_provenance(view, hub.id)

left, right = st.columns([1, 2])
with left:
    st.markdown("**What the score is made of** (component x weight)")
    parts = pd.DataFrame(
        [
            {"component": name, "points": round(hub.components.get(name, 0.0) * weight, 3)}
            for name, weight in COMPONENT_WEIGHTS.items()
        ]
    )
    if hub.score > 0:
        st.bar_chart(parts, x="component", y="points", horizontal=True, height=240)
    else:
        st.markdown("Nothing counts towards this adult's score.")
    if hub.contexts:
        st.markdown("**Places and vehicles:** " + plain(", ".join(hub.contexts)))
with right:
    st.markdown("**Evidence** (strongest first)")
    if hub.evidence:
        st.dataframe(pd.DataFrame(hub.evidence), hide_index=True)
    else:
        st.markdown("No link counts as evidence of risk.")

steps = st.slider("Steps shown around this adult", 1, 3, 2, key="hub_steps")
drawn = common.drawing(
    view.source, view.filters, focus=hub.id, steps=steps, show_names=view.show_names
)
if drawn.capped:
    st.warning(
        f"Showing the {drawn.shown_nodes} nearest of "
        f"{count(drawn.total_nodes, 'entity', 'entities')} within {count(steps, 'step')}."
    )
common.show_drawing(drawn, f"network around {hub.id}")
