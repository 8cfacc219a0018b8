"""The graphguard dashboard: routes the pages and shows which data is loaded.

Run it with ``graphguard dashboard [DATASET]`` or ``streamlit run dashboards/app.py``.
Without a dataset it shows Neo4j when ``NEO4J_URI`` is set, else the demo town.
"""

from __future__ import annotations

import common
import sidebar
import streamlit as st
from wording import count, plain

# No icons: Streamlit shows a page's Material icon as the tab's favicon by fetching it
# from fonts.gstatic.com, and the dashboard must work offline.
st.set_page_config(page_title="graphguard", layout="wide")

PAGES = {
    "Explore": [
        st.Page("views/overview.py", title="Overview", default=True),
        st.Page("views/network.py", title="Network"),
        st.Page("views/groups.py", title="Peer groups"),
        st.Page("views/hubs.py", title="Hubs"),
        st.Page("views/contexts.py", title="Places and vehicles"),
        st.Page("views/timeline.py", title="Timeline"),
        st.Page("views/fairness.py", title="Fairness"),
    ],
    "Act": [
        st.Page("views/disruption.py", title="Disruption planner"),
        st.Page("views/cypher.py", title="Cypher"),
    ],
    "Resolve": [
        st.Page("views/matches.py", title="Matches"),
    ],
    "Meeting": [
        st.Page("views/changes.py", title="What changed"),
        st.Page("views/alerts.py", title="Alerts"),
        st.Page("views/actions.py", title="Disruption actions"),
    ],
}

page = st.navigation(PAGES)

st.sidebar.markdown("**graphguard** · contextual safeguarding")
try:
    source = common.data_source()
    if source.is_neo4j:
        common.store(source)  # a dataset is read only when its view is not in the cache
    view = sidebar.sidebar_filters(source)
except Exception as error:
    st.sidebar.error("No data loaded")
    st.title(page.title)
    common.show_error(error)
    st.info(
        "The dashboard reads the dataset given to `graphguard dashboard DATASET`, or Neo4j "
        "when `NEO4J_URI` is set, or else the demo town. To use a local Neo4j run "
        '`graphguard neo4j start`, then `eval "$(graphguard neo4j env)"`, then '
        "`graphguard load fixtures/demo`; or unset `NEO4J_URI` to use the demo town."
    )
    st.stop()

st.session_state["gg_view"] = view
whole = common.summary(source, view.filters)
counts = whole["by_kind"]
notice = common.backend_notice(source, view.filters)
with st.sidebar.container(border=True):
    backend = "Neo4j" if source.is_neo4j else "embedded"
    st.markdown(f"**Backend:** {backend}" + (" — not answering" if notice else ""))
    st.caption(plain(source.location if not source.is_neo4j else source.label))
    if whole["first_date"]:
        st.markdown(f"**Data:** {whole['first_date']} to {whole['last_date']}")
    st.markdown(
        " · ".join(
            count(number, noun)
            for number, noun in (
                (counts.get("young_person", 0), "young person"),
                (counts.get("adult", 0), "adult"),
                (counts.get("location", 0), "location"),
                (counts.get("vehicle", 0), "vehicle"),
                (whole["links"], "link"),
            )
        )
    )
    if not view.filters.is_empty:
        st.caption("Counts after the filters.")
if st.sidebar.button("Reload data", help="Read the data again after it changed."):
    common.clear_caches()
    st.rerun()

if notice:
    st.error(notice)
try:
    page.run()
except Exception as error:
    common.show_error(error)
