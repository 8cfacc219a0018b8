"""Retention review: what is due, keep decisions, purge, the deletion log.

The page calls the same functions as ``graphguard review``; every decision and the
purge are audited there.  docs/data-protection.md says what a purge deletes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os

import common
import pandas as pd
import streamlit as st
from wording import count, plain

from graphguard.access import Permission
from graphguard.audit import Event, audited
from graphguard.errors import GraphguardError
from graphguard.ingest import read_dataset
from graphguard.retention import (
    deletions,
    held_back,
    keep_decisions,
    load_policy,
    record_decision,
    review_records,
)
from graphguard.retention.purge import plan_purge, purge
from graphguard.settings import get_settings, pseudonym_key
from graphguard.store.open import choose_data

st.title("Retention review")
st.caption(
    "Every record has a review date from the retention policy. Records past review and "
    "not kept by a decision are purged: from Neo4j, the meeting state, the cache, resolve "
    "outputs and the identity store, each deletion logged first. A deleted record that "
    "arrives again is held back until someone restores it."
)
# The dataset the dashboard was opened on (the review reads its records, not the view).
settings = get_settings()
choice = choose_data(
    None, os.environ.get(common.DATASET_ENV), settings.neo4j_uri, settings.neo4j_database
)
if choice.is_neo4j:
    st.info(
        "The review reads the extract the records came from: open the dashboard on the "
        "dataset folder (`graphguard dashboard DATASET`), or use `graphguard review DATASET`."
    )
    st.stop()

dataset = choice.location
today = dt.date.today()
try:
    policy = load_policy()
    reviews = review_records(
        read_dataset(dataset), policy, pseudonym_key(), kept=keep_decisions(), today=today
    )
except GraphguardError as error:
    common.show_error(error)
    st.stop()
due = [r for r in reviews if r.due(today)]
try:
    with audited(
        Event.RETENTION_REVIEW, dataset=dataset, as_of=today.isoformat(), channel="dashboard"
    ) as action:
        action.note(rows=len(due))
except GraphguardError as error:
    common.show_error(error)
    st.stop()

left, middle, right = st.columns(3)
left.metric("Records", len(reviews))
middle.metric("Due for review", len(due))
right.metric("Held back (deleted)", len(held_back()))
st.caption(plain(f"Policy: {policy.origin}."))

if due:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "record": r.ref,
                    "kind": r.kind,
                    "rule": r.rule.name,
                    "review date": r.review_on.isoformat(),
                    "why": r.why,
                }
                for r in due
            ]
        ),
        hide_index=True,
    )
else:
    st.success("Nothing is past review.")

if due and common.may(Permission.REVIEW_RECORDS):
    with st.form("keep"):
        st.subheader("Keep a record longer")
        record = st.selectbox("Record", [r.ref for r in due])
        until = st.date_input("Keep until", value=today + dt.timedelta(days=365))
        reason = st.text_input("Reason (required; the audit log keeps its hash)")
        submitted = st.form_submit_button("Record the decision")
    if submitted:
        common.refuse_unless(Permission.REVIEW_RECORDS, "keep a record past its review")
        if not reason.strip():
            st.error("Say why the record must be kept longer.")
        elif until <= today:
            st.error("The date to keep it until must be in the future.")
        else:
            try:
                with audited(
                    Event.RETENTION_KEEP,
                    record=record,
                    until=until.isoformat(),
                    reason_sha256=hashlib.sha256(reason.strip().encode()).hexdigest(),
                    channel="dashboard",
                ):
                    record_decision(record, "keep", reason.strip(), until=until)
            except GraphguardError as error:
                common.show_error(error)
            else:
                st.success(plain(f"Recorded: keep {record} until {until.isoformat()}."))
                st.rerun()

if due and common.may(Permission.PURGE_RECORDS):
    st.subheader("Purge")
    confirmed = st.checkbox(f"Delete the {count(len(due), 'record')} past review, everywhere")
    if st.button("Purge", disabled=not confirmed, type="primary"):
        common.refuse_unless(Permission.PURGE_RECORDS, "purge records past review")
        try:
            report = purge(plan_purge(dataset, today=today))
        except GraphguardError as error:
            common.show_error(error)
        else:
            common.clear_caches()
            purged = count(len(report.deletions), "record")
            st.success(plain(f"Purged {purged}; see the deletion log."))

log = deletions()
if log:
    st.subheader("Deletion log")
    held = held_back()
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "deleted at": d.deleted_at,
                    "record": d.record,
                    "kind": d.kind,
                    "rule": d.rule,
                    "by": f"{d.deleted_by} ({d.role})",
                    "held back": held.get(d.record) == d,
                }
                for d in log
            ]
        ),
        hide_index=True,
    )

if common.may(Permission.SUBJECT_ACCESS):
    st.subheader("Subject access")
    st.caption(
        "Everything graphguard holds about one person, as `graphguard subject-access` "
        "writes it: every record with its provenance, every score that used it, the alerts "
        "and actions naming them, and every disclosure of them in the audit log. Other "
        "young people appear by pseudonym only, other adults as [third party]. Read the "
        "free text before the pack is released."
    )
    wanted = st.text_input(
        "Person (an entity id, a record id such as police:P001, or a young person's pseudonym)",
        key="subject_access_person",
    ).strip()
    if wanted:
        from graphguard.audit import read_audit
        from graphguard.meeting.state import MeetingState
        from graphguard.subject_access import build_pack, pack_zip

        try:
            state = MeetingState.open(dataset, notice=lambda _line: None)
            pack = build_pack(
                read_dataset(dataset),
                wanted,
                key=pseudonym_key(),
                audit_lines=read_audit(),
                meeting={kind: state.records(kind) for kind in ("alert", "action")},
            )
        except GraphguardError as error:
            common.show_error(error)
        else:
            st.write(
                plain(
                    f"{pack.subject} ({pack.kind}): "
                    f"{count(pack.summary['records'], 'record')}, "
                    f"{count(pack.summary['links'], 'link')}, "
                    f"{count(pack.summary['disclosures'], 'disclosure')}."
                )
            )

            def _pack_file() -> bytes:
                """The pack as a zip, made only when its button is clicked, and audited then."""
                common.refuse_unless(Permission.SUBJECT_ACCESS, "write a subject-access pack")
                with audited(
                    Event.SUBJECT_ACCESS,
                    subjects=[pack.subject],
                    dataset=dataset,
                    channel="dashboard",
                ) as action:
                    data = pack_zip(pack)
                    action.note(
                        records=pack.summary["records"],
                        links=pack.summary["links"],
                        disclosures=pack.summary["disclosures"],
                    )
                return data

            st.download_button(
                "Download the subject-access pack (zip)",
                _pack_file,
                file_name=f"subject-access-{pack.subject}.zip",
                mime="application/zip",
                on_click="ignore",
                key="subject_access_zip",
            )
