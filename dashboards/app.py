"""The graphguard dashboard: routes the pages and shows which data is loaded.

Run it with ``graphguard dashboard [DATASET]`` or ``streamlit run dashboards/app.py``.
Without a dataset it shows Neo4j when ``NEO4J_URI`` is set, else the demo town.

Each run acts as :func:`common.acting_identity` (audited as them), whose row of the
access matrix (docs/access.md) builds the menu: a page the role may not use is not
in it, and its address is refused, audited.  The data every page reads is the
role's view of it, and a page showing people is audited with whom it shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import common
import sidebar
import signin
import streamlit as st
from menu import ACCESS_PAGE, PAGES
from wording import count, plain

from graphguard.access import Identity, Permission, Scope, acting
from graphguard.audit import Event
from graphguard.errors import GraphguardError
from graphguard.privacy import EVERYTHING, Sight, subjects_of
from graphguard.settings import pseudonym_key

# No icons: Streamlit shows a page's Material icon as the tab's favicon by fetching it
# from fonts.gstatic.com, and the dashboard must work offline.
st.set_page_config(page_title="graphguard", layout="wide")
# Sign-in (or local mode's checks and banner) before the menu or any data is shown;
# it stops the run for anyone not let in.
signin.gate()


def _navigation(identity: Identity) -> tuple[Any, str, Permission | None]:
    """The menu of the pages ``identity``'s role may use, and the page asked for.

    Returns the page, its name (its file's, ``hubs``) and, when the role may not use
    it, the permission it lacks.

    A page the role may not use is not in the menu and never runs; it is registered
    hidden only so that its address, opened anyway, is refused (audited) rather than
    silently showing another page.
    """
    needs: dict[str, Permission] = {}
    names: dict[str, str] = {}
    sections: dict[str, list[Any]] = {}
    first = True
    for section, pages in PAGES.items():
        for file, title, permission in pages:
            allowed = identity.may(permission)
            page = st.Page(
                file,
                title=title,
                default=allowed and first,
                visibility="visible" if allowed else "hidden",
            )
            first = first and not allowed
            needs[page.url_path] = permission
            names[page.url_path] = Path(file).stem  # the default page's address is ""
            sections.setdefault(section, []).append(page)
    file, title = ACCESS_PAGE
    sections["You"] = [st.Page(file, title=title, default=first)]
    page = st.navigation(sections)
    needed = needs.get(page.url_path)
    name = names.get(page.url_path, "access")
    return page, name, (needed if needed is not None and not identity.may(needed) else None)


def _entities_shown(view: common.View, name: str) -> list[str] | None:
    """Whom a page shows (entity keys, young people by pseudonym), for its audit line.

    The explore pages list, pick and draw what is named here; the other pages audit
    their own views.  With names shown every page also shows every young person.
    """
    found = common.digest(view.source, view.filters)
    shown: list[str] | None
    if name == "overview":
        shown = [h.id for h in found.hubs[:3]] + [c.id for c in found.contexts[:3]]
    elif name in ("network", "groups"):
        shown = list(found.index.ids)
    elif name == "hubs":
        shown = list(found.adults)
    elif name == "contexts":
        shown = [c.id for c in found.contexts]
    else:
        shown = None
    if view.show_names:
        shown = sorted(set(shown or ()) | {e for e in found.index.ids if _young(found, e)})
    if shown is None:
        return None
    return subjects_of(found.index.nodes, pseudonym_key(), only=shown)


def _young(found: Any, entity: str) -> bool:
    return found.index.nodes[entity].get("role") == "young_person"


def _data_sidebar(page: Any) -> common.View:
    """Open the data, draw the sidebar's data box and filters; stop the run if it fails."""
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
            "The dashboard reads the dataset given to `graphguard dashboard DATASET`, or "
            "Neo4j when `NEO4J_URI` is set, or else the demo town. To use a local Neo4j run "
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
        if source.sight != EVERYTHING:
            st.caption(f"You see the {plain(_sight_words(source.sight))}.")
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
    return view


def _sight_words(sight: Sight) -> str:
    if sight.agency is not None:
        return f"records of {sight.agency} and what other agencies share"
    return "shareable view (records of handling code C withheld)"


def main(identity: Identity) -> None:
    """One run of the dashboard, as ``identity``."""
    page, name, refused = _navigation(identity)
    st.sidebar.markdown("**graphguard** · contextual safeguarding")
    if identity.via != "oidc":  # signed in, the sign-in block above names them already
        st.sidebar.caption(f"{plain(identity.user)} · {identity.role.spoken}")
    if refused is not None:
        st.title(page.title)
        common.refuse_unless(refused, f"open the {page.title} page")
    if name != "access" and identity.row.scope is not Scope.NONE:
        view = _data_sidebar(page)
        shown = _entities_shown(view, name)
        if shown is not None:
            common.audit_view(
                Event.VIEW_PAGE,
                view.source,
                subjects=shown,
                page=page.title,
                names_shown=view.show_names,
            )
    try:
        page.run()
    except Exception as error:
        common.show_error(error)


try:
    who = common.acting_identity()
except GraphguardError as error:  # signed in, but no graphguard role: nothing at all
    common.show_error(error)
    st.stop()
with acting(who):
    main(who)
