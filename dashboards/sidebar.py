"""The sidebar's data filters: the time window, gradings, areas, and whether names show."""

from __future__ import annotations

import datetime as dt

import streamlit as st
from common import DataSource, View, areas, summary

from graphguard.model import IntelGrade, SourceGrade
from graphguard.store.base import Filters

_ANY = "any"


def sidebar_filters(source: DataSource) -> View:
    """Draw the sidebar's data filters and return what every page should show."""
    whole = summary(source, Filters())
    first = dt.date.fromisoformat(whole["first_date"]) if whole["first_date"] else None
    last = dt.date.fromisoformat(whole["last_date"]) if whole["last_date"] else None
    since = as_of = None
    with st.sidebar.expander("Filters", expanded=False):
        if first and last:
            window = st.date_input(
                "Time window",
                value=(first, last),
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
            [_ANY, "1", "2", "3"],
            key="gg_source_grade",
            help="3x5x2 source evaluation: 1 reliable, 2 untested, 3 not reliable.",
        )
        intel_grade = st.selectbox(
            "Minimum intelligence grade",
            [_ANY, "A", "B", "C", "D", "E"],
            key="gg_intel_grade",
            help="A known directly … E suspected to be false.",
        )
        include_ungraded = st.checkbox(
            "Keep ungraded links",
            value=True,
            key="gg_ungraded",
            help="Whether links without the grade filtered on pass a grade filter.",
        )
        chosen_areas = st.multiselect("Areas", areas(source), key="gg_areas")
    show_names = st.sidebar.toggle(
        "Show young people's names",
        value=False,
        key="gg_show_names",
        help="Off: young people are shown by id. Downloads never carry names.",
    )
    filters = Filters(
        as_of=as_of,
        since=since,
        min_source_grade=SourceGrade(source_grade) if source_grade != _ANY else None,
        min_intel_grade=IntelGrade(intel_grade) if intel_grade != _ANY else None,
        include_ungraded=include_ungraded,
        areas=frozenset(chosen_areas) if chosen_areas else None,
    )
    return View(source, filters, show_names)
