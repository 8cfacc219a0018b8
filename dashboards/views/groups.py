"""Peer groups: young people who spend time together, for safety planning."""

from __future__ import annotations

import common
import pandas as pd
import streamlit as st
from wording import count, plain

from graphguard.analysis.groups import PURPOSE

view = common.current_view()
st.title("Peer groups")
st.caption(
    "Young people who spend time together, found as communities of who is linked to whom "
    f"and who is seen in the same places. {PURPOSE}"
)
shown = common.entities(view)
result = common.analysis(view.source, view.filters)
if not result.groups:
    st.info("No peer groups in this view of the network.")
    st.stop()

table = pd.DataFrame(
    [
        {
            "group": group.id,
            "young people": len(group.members),
            "adults of concern": ", ".join(a["id"] for a in group.adults_of_concern),
            "meets at": ", ".join(c["id"] for c in group.contexts),
            "missing episodes": int(group.components.get("missing_episodes", 0)),
            "looked after": int(group.components.get("looked_after", 0)),
            "found after missing": int(group.components.get("found_after_missing", 0)),
        }
        for group in result.groups
    ]
)
st.dataframe(table, hide_index=True, height=min(38 + 35 * len(table), 320))

groups = {group.id: group for group in result.groups}
chosen = st.selectbox(
    "Peer group",
    list(groups),
    format_func=lambda g: f"{g} ({count(len(groups[g].members), 'young person')})",
    key="group_pick",
)
group = groups[chosen]
st.subheader(plain(f"{group.id}: {count(len(group.members), 'young person')}"))
st.info(plain(group.reason))


def flags(entity_id: str) -> str:
    data = shown.get(entity_id, {})
    found = []
    if data.get("looked_after"):
        found.append("looked after")
    if data.get("missing_episodes"):
        found.append(count(int(data["missing_episodes"]), "missing episode"))
    if data.get("excluded_from_school"):
        found.append("excluded from school")
    return "; ".join(found)


left, middle, right = st.columns(3)
with left:
    st.markdown("**Young people**")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "young person": common.entity_name(view, m),
                    "needs": flags(m),
                    "categories": common.categories(view, m).label(),
                }
                for m in group.members
            ]
        ),
        hide_index=True,
    )
with middle:
    st.markdown("**Adults of concern reaching them**")
    if group.adults_of_concern:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "adult": common.entity_name(view, a["id"]),
                        "id": a["id"],
                        "categories": common.categories(view, a["id"]).label(),
                        "score": round(a["score"], 2),
                        "members reached": a["members_reached"],
                    }
                    for a in group.adults_of_concern
                ]
            ),
            hide_index=True,
        )
    else:
        st.markdown("None linked.")
with right:
    st.markdown("**Where they meet**")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "context": f"{c['id']} · {common.entity_name(view, c['id'])}",
                    "kind": c.get("location_kind") or c["kind"],
                    "members": c["members"],
                }
                for c in group.contexts
            ]
        ),
        hide_index=True,
    )

entities = tuple(
    sorted(
        {*group.members}
        | {a["id"] for a in group.adults_of_concern}
        | {c["id"] for c in group.contexts}
    )
)
drawn = common.drawing(view.source, view.filters, entities=entities, show_names=view.show_names)
common.show_drawing(drawn, f"peer group {group.id}")
