"""Network: the whole picture, filtered, or one entity and its neighbourhood."""

from __future__ import annotations

import common
import records
import streamlit as st
from wording import count, plain

from graphguard.model import NODE_KINDS, node_kind
from graphguard.viz import DEFAULT_MAX_NODES, KIND_STYLES, entity_label

view = common.current_view()
st.title("Network")
nodes = common.entities(view)
result = common.analysis(view.source, view.filters)

choices = common.focus_choices(view.source, view.filters)


def describe(entity_id: str) -> str:
    data = nodes[entity_id]
    label = entity_label(entity_id, data, view.show_names)
    kind = KIND_STYLES[node_kind(data)]["label"]
    return f"{entity_id} · {label} ({kind})" if label != entity_id else f"{entity_id} ({kind})"


groups = {group.id: group for group in result.groups}
top, middle, bottom = st.columns([2, 2, 1])
with top:
    focus = common.pick(
        "Focus on",
        choices,
        nodes,
        index=None,
        format_func=describe,
        placeholder="the whole network (pick an entity to focus)",
        key="network_focus",
        what="entity",
    )
    steps = st.slider("Steps from the focus", 1, 3, 2, key="network_steps", disabled=not focus)
with middle:
    kinds = st.multiselect(
        "Entity kinds",
        list(NODE_KINDS),
        default=list(NODE_KINDS),
        format_func=lambda kind: KIND_STYLES[kind]["label"],
        key="network_kinds",
    )
    group_id = st.selectbox(
        "Peer group",
        list(groups),
        index=None,
        format_func=lambda g: f"{g} ({count(len(groups[g].members), 'young person')})",
        placeholder="all",
        key="network_group",
        help="A group's young people, the adults of concern reaching them, and the places "
        "and vehicles they meet in.",
    )
with bottom:
    max_nodes = st.number_input(
        "Most entities drawn", 50, 2000, DEFAULT_MAX_NODES, step=50, key="network_max"
    )

entities = None
if group_id:
    group = groups[group_id]
    entities = tuple(
        sorted(
            {*group.members}
            | {a["id"] for a in group.adults_of_concern}
            | {c["id"] for c in group.contexts}
        )
    )
if focus and entities is not None and focus not in entities:
    st.warning(
        f"{plain(focus)} is not in peer group {plain(group_id)}; showing the group without a focus."
    )
    focus = None

drawn = common.drawing(
    view.source,
    view.filters,
    entities=entities,
    focus=focus,
    steps=steps,
    kinds=tuple(kinds) if set(kinds) != set(NODE_KINDS) else None,
    show_names=view.show_names,
    max_nodes=int(max_nodes),
)
if drawn.capped:
    st.warning(
        f"Showing {drawn.shown_nodes} of {count(drawn.total_nodes, 'entity', 'entities')}: "
        "drawing more would "
        "freeze the browser. Focus on an entity, pick a peer group, narrow the filters, or "
        "raise 'Most entities drawn'."
    )
else:
    st.caption(
        f"{count(drawn.shown_nodes, 'entity', 'entities')}. Hover for details; drag to move; "
        "scroll to zoom."
    )
common.show_drawing(drawn, "network drawing")
if focus:
    common.show_categories(view, focus)
    records.show_provenance(view, focus)
