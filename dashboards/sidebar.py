"""The sidebar's data filters: the time window, gradings, areas, and whether names show.

Names show only to a role that may reveal a young person's identity (the analyst),
after it says why: the reveal is audited (docs/access.md).

They are kept in the page's address (``?from=…&to=…&source_grade=2&area=Docklands&names=1``),
so a reload, a bookmark or a link sent to a colleague shows the same view.  The
address is read when a session starts and rewritten on every run; a value it holds
that the data does not (an area no longer recorded, a date out of range) is left out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st
from common import DataSource, View, areas, may, reveal, show_error, summary

from graphguard.access import Permission
from graphguard.errors import GraphguardError
from graphguard.model import IntelGrade, SourceGrade
from graphguard.store.base import Filters

_ANY = "any"
SOURCE_GRADES = [_ANY, *(grade.value for grade in SourceGrade)]
INTEL_GRADES = [_ANY, *(grade.value for grade in IntelGrade)]

#: Each filter's key in the address.
PARAMS = ("from", "to", "source_grade", "intel_grade", "ungraded", "area", "names")


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _seed(key: str, value: Any) -> None:
    """Give a widget its first value (from the address, else the default) once a session.

    Widgets are then made without a ``value``: Streamlit warns when both are given.
    """
    if key not in st.session_state:
        st.session_state[key] = value


def _seed_from_address(first: dt.date | None, last: dt.date | None, known_areas: list[str]) -> None:
    params = st.query_params
    if first and last:
        start = _date(params.get("from")) or first
        end = _date(params.get("to")) or last
        start, end = max(start, first), min(end, last)
        _seed("gg_window", (start, end) if start <= end else (first, last))
        # The data can change under a session (a reload, a purge of old records): a
        # window chosen before is kept inside the dates the data now has.
        window = st.session_state["gg_window"]
        if isinstance(window, tuple) and len(window) == 2:
            start, end = max(window[0], first), min(window[1], last)
            clamped = (start, end) if start <= end else (first, last)
            if clamped != window:
                st.session_state["gg_window"] = clamped
    source_grade = params.get("source_grade")
    _seed("gg_source_grade", source_grade if source_grade in SOURCE_GRADES else _ANY)
    intel_grade = (params.get("intel_grade") or "").upper()
    _seed("gg_intel_grade", intel_grade if intel_grade in INTEL_GRADES else _ANY)
    _seed("gg_ungraded", params.get("ungraded") != "0")
    _seed("gg_areas", [a for a in params.get_all("area") if a in known_areas])
    _seed("gg_show_names", params.get("names") == "1")


def _write_address(view: View, chosen_areas: list[str], names: bool) -> None:
    """Put the filters in the address: only those set, so a plain view has a plain URL."""
    filters = view.filters
    wanted: dict[str, str | list[str]] = {}
    if filters.since is not None:
        wanted["from"] = filters.since.isoformat()
    if filters.as_of is not None:
        wanted["to"] = filters.as_of.isoformat()
    if filters.min_source_grade is not None:
        wanted["source_grade"] = filters.min_source_grade.value
    if filters.min_intel_grade is not None:
        wanted["intel_grade"] = filters.min_intel_grade.value
    if not filters.include_ungraded:
        wanted["ungraded"] = "0"
    if chosen_areas:
        wanted["area"] = sorted(chosen_areas)  # as recorded (the filter compares folded)
    if names:
        wanted["names"] = "1"
    params = st.query_params
    for name in PARAMS:
        value = wanted.get(name)
        current = params.get_all(name)
        if value is None:
            if current:
                del params[name]
        elif current != (value if isinstance(value, list) else [value]):
            params[name] = value


def sidebar_filters(source: DataSource) -> View:
    """Draw the sidebar's data filters and return what every page should show."""
    whole = summary(source, Filters())
    first = dt.date.fromisoformat(whole["first_date"]) if whole["first_date"] else None
    last = dt.date.fromisoformat(whole["last_date"]) if whole["last_date"] else None
    known_areas = areas(source)
    _seed_from_address(first, last, known_areas)
    since = as_of = None
    with st.sidebar.expander("Filters", expanded=False):
        if first and last:
            window = st.date_input(
                "Time window",
                min_value=first,
                max_value=last,
                key="gg_window",
                help="Links first seen after the end are ignored (the picture as it stood "
                "then); links last seen before the start are ignored.",
            )
            if isinstance(window, tuple) and len(window) == 2:
                start, end = window
                since = start if start != first else None
                as_of = end if end != last else None
        source_grade = st.selectbox(
            "Minimum source grade",
            SOURCE_GRADES,
            key="gg_source_grade",
            help="3x5x2 source evaluation: 1 reliable, 2 untested, 3 not reliable.",
        )
        intel_grade = st.selectbox(
            "Minimum intelligence grade",
            INTEL_GRADES,
            key="gg_intel_grade",
            help="A known directly … E suspected to be false.",
        )
        include_ungraded = st.checkbox(
            "Keep ungraded links",
            key="gg_ungraded",
            help="Whether links without the grade filtered on pass a grade filter.",
        )
        chosen_areas = st.multiselect("Areas", known_areas, key="gg_areas")
    filters = Filters(
        as_of=as_of,
        since=since,
        min_source_grade=SourceGrade(source_grade) if source_grade != _ANY else None,
        min_intel_grade=IntelGrade(intel_grade) if intel_grade != _ANY else None,
        include_ungraded=include_ungraded,
        areas=frozenset(chosen_areas) if chosen_areas else None,
    )
    view = View(source, filters, _names_shown(View(source, filters, False)))
    # The address keeps the switch as set (a reload asks for the reason again).
    _write_address(view, list(chosen_areas), bool(st.session_state.get("gg_show_names")))
    return view


def _names_shown(view: View) -> bool:
    """Whether young people's names show: only the analyst's, with a reason, audited.

    The toggle exists only for a role that may reveal; turning it on asks why, and
    names show once the reason is recorded (:func:`common.reveal`).  Turning it off
    ends the reveal: the next asks again.  A role that may not reveal but arrives
    with names asked for (``names=1`` in a link sent to it) is refused, audited.
    """
    if not may(Permission.REVEAL_IDENTITY):
        if st.session_state.pop("gg_show_names", False):
            refused = st.sidebar.container()
            try:
                reveal(view, "")
            except GraphguardError as error:
                with refused:
                    show_error(error)
        return False
    wanted = st.sidebar.toggle(
        "Show young people's names",
        key="gg_show_names",
        help="Off: young people are shown by id. On: say why; the reveal is audited. "
        "Downloads never carry names.",
    )
    if not wanted:
        st.session_state.pop("gg_revealed", None)
        return False
    if st.session_state.get("gg_revealed"):
        st.sidebar.caption("Names shown: every page you view is audited.")
        return True
    with st.sidebar.form("gg_reveal_form", border=True):
        reason = st.text_input(
            "Why do you need the names?",
            key="gg_reveal_reason",
            help="Recorded with the reveal in the audit log (as a hash: the words may "
            "name a child).",
        )
        asked = st.form_submit_button("Show names")
    if not asked:
        return False
    try:
        reveal(view, reason)
    except GraphguardError as error:
        with st.sidebar:
            show_error(error)
        return False
    st.session_state["gg_revealed"] = True
    return True
