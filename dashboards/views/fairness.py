"""Fairness: who the analysis picks out, by protected characteristic (graphguard.fairness)."""

from __future__ import annotations

import common
import pandas as pd
import streamlit as st
from wording import plain

from graphguard.audit import Event, audited
from graphguard.errors import GraphguardError
from graphguard.fairness import (
    ALPHA,
    GROUPS,
    HUBS_SHOWN,
    RATIO_THRESHOLD,
    SECONDARY_MARK,
    SUPPRESS_BELOW,
    render_html,
)

view = common.current_view()
st.title("Fairness")
st.caption(
    "For each protected characteristic recorded in the data: how hub-ranked adults, adult "
    "targets and young people counted as exposed are distributed over its values, against "
    "everyone of the same role in this view (and an area population, if you give one). No "
    "score reads these characteristics; this report exists to check that the people picked "
    f"out are not drawn disproportionately from one group. Counts from 1 to "
    f"{SUPPRESS_BELOW - 1} show as <{SUPPRESS_BELOW}, and {SECONDARY_MARK} marks a count "
    "withheld so that a total cannot give one away."
)
left, right = st.columns([1, 2])
hubs_shown = int(
    left.number_input(
        "Hub-ranked adults: the first",
        min_value=1,
        max_value=500,
        value=HUBS_SHOWN,
        key="fairness_hubs",
        help="How many of the hub ranking's first adults (scoring above 0) count as hubs.",
    )
)
uploaded = right.file_uploader(
    "Area population (CSV: characteristic,value,count)",
    type=["csv"],
    key="fairness_population",
)
population = uploaded.getvalue().decode("utf-8-sig", errors="replace") if uploaded else None
try:
    report = common.fairness(view.source, view.filters, population, hubs_shown)
except GraphguardError as error:
    common.show_error(error)
    st.stop()
common.audit_view(Event.VIEW_FAIRNESS, view.source, findings=len(report.findings))

st.subheader("Findings")
if report.findings:
    for finding in report.findings:
        st.warning(plain(finding.statement()))
else:
    st.success(f"No group is over-represented by this test ({report.tests} comparisons).")
st.caption(
    f"A group is stated as over-represented when its share of the people picked out is at "
    f"least {RATIO_THRESHOLD} times its share of the baseline and a two-sided exact test gives "
    f"p < {ALPHA} after Holm's correction for all {report.tests} comparisons (Fisher's exact "
    "test against the data; the exact binomial test against an area population). It is a "
    "prompt to examine the data sources behind it, not a finding of bias."
)

if not report.tables:
    st.info("No protected characteristic is recorded for anyone in this view.")
for table in report.tables:
    st.subheader(plain(table.characteristic.replace("_", " ")))
    rows = []
    for value in table.values:
        row: dict[str, str] = {"value": value}
        for name, column in table.columns.items():
            title = GROUPS.get(name, name)
            cell = column.cells[value]
            share = column.share(value)
            hidden = cell.suppressed or column.total_suppressed or share is None
            row[title] = cell.shown
            row[f"{title} %"] = "–" if hidden else f"{100 * (share or 0):.1f}%"
        rows.append(row)
    st.dataframe(pd.DataFrame(rows), hide_index=True)
if report.unrecorded:
    st.caption(plain("Not recorded for anyone: " + ", ".join(report.unrecorded) + "."))


def _report_file() -> bytes:
    """The HTML report, made only when its button is clicked, and audited then.

    If the audit line cannot be written the file is not made.
    """
    with audited(
        Event.EXPORT_FAIRNESS,
        source=view.source.location,
        channel="dashboard",
        findings=len(report.findings),
    ):
        return render_html(report).encode("utf-8")


st.download_button(
    "Download the report (HTML)",
    _report_file,
    file_name="fairness.html",
    mime="text/html",
    on_click="ignore",
    key="fairness_html",
)
