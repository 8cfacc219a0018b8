"""The records behind an entity, and two records side by side (v2 agency extracts).

A version 2 dataset's entities are made from agency records (DATA-FORMAT.md,
"Version 2").  Wherever an entity is shown the analyst can open which records it was
made from, which source said what, and the data-quality findings where the records
disagree.  A young person's identifying values stay hidden exactly as elsewhere: the
cached provenance holds none (:mod:`graphguard.viewcache`), and they are read from
the data only when the analyst shows young people's names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import common
import pandas as pd
import streamlit as st
from wording import count, plain

from graphguard.categories import DERIVED_BECAUSE
from graphguard.drawing_index import SHOWN_ATTRIBUTES
from graphguard.ingest import Dataset
from graphguard.resolve.types import Candidate, Resolution, split_qualified
from graphguard.viewcache import WITHHELD


def resolution(view: common.View) -> Resolution | None:
    """The view's resolution: the cached one, or with names shown the data's own (None for v1)."""
    if view.show_names and not view.source.is_neo4j:
        dataset = getattr(common.store(view.source), "dataset", None)
        return getattr(dataset, "resolution", None)
    return common.digest(view.source, view.filters).resolution


def _shown(value: Any) -> str:
    """A recorded value as text: enums by value, lists joined, dates in ISO form."""
    if isinstance(value, tuple | list | set | frozenset):
        return "; ".join(_shown(v) for v in value)
    return str(getattr(value, "value", value))


def show_provenance(view: common.View, entity_id: str) -> None:
    """The records behind an entity, who said what, and where they disagree (v2 only)."""
    found = resolution(view)
    if found is None or entity_id not in found.provenance:
        return
    made = found.provenance[entity_id]
    sources = ", ".join(made.sources)
    title = f"Records behind {entity_id}: {count(len(made.records), 'record')} from {sources}"
    problems = list(made.conflicts) + [
        f for f in found.findings if f.entity_id == entity_id and f not in made.conflicts
    ]
    with st.expander(plain(title) + (f" · {count(len(problems), 'finding')}" if problems else "")):
        rows = [
            {
                "attribute": attribute,
                "value": _shown(value.value),
                "record": value.record_id,
                "source": value.source,
            }
            for attribute, values in made.attributes.items()
            for value in values
        ]
        rows += [
            {
                "attribute": "category",
                "value": f"{category.value} (derived)",
                "record": "graphguard",
                "source": f"derived: {DERIVED_BECAUSE[category]}",
            }
            for category in common.categories(view, entity_id).derived
        ]
        st.dataframe(pd.DataFrame(rows), hide_index=True)
        if any(row["value"] == WITHHELD for row in rows):
            st.caption("A young person's identifying values show with young people's names.")
        for problem in problems:
            st.warning(plain(problem.message))
        if not problems:
            st.caption("The records agree on every attribute they share.")


def record(records: Dataset, record_id: str) -> Mapping[str, Any] | None:
    """One record's recorded fields, by name (extras included), or None if unknown."""
    found = records.entity(record_id)
    if found is None:
        return None
    fields = {name: value for name, value in found if name != "extra" and value is not None}
    fields.update(found.extra)
    return fields


def _young(fields: Mapping[str, Any] | None) -> bool:
    return fields is not None and _shown(fields.get("role")) == "young_person"


def side_by_side(
    records: Dataset, candidate: Candidate, show_names: bool
) -> tuple[pd.DataFrame, bool]:
    """Two records field by field: both values, and whether they agree.

    A young person's fields other than the safeguarding flags are withheld unless
    names are shown; whether they agree is still said.  Returns the table and
    whether anything was withheld.
    """
    first, second = record(records, candidate.record_a), record(records, candidate.record_b)
    hide = not show_names and (_young(first) or _young(second))
    open_fields = set(SHOWN_ATTRIBUTES["young_person"])
    ids = {"person_id", "location_id", "vehicle_id"}  # the columns are the records' ids
    names = [n for n in dict.fromkeys([*(first or {}), *(second or {})]) if n not in ids]
    rows = []
    withheld = False
    for name in names:
        a, b = (first or {}).get(name), (second or {}).get(name)
        if a is None or b is None:
            verdict = f"only in {candidate.record_a if b is None else candidate.record_b}"
        elif _shown(a).strip().casefold() == _shown(b).strip().casefold():
            verdict = "agree"
        else:
            verdict = "disagree"
        shown_a = "" if a is None else _shown(a)
        shown_b = "" if b is None else _shown(b)
        if hide and name not in open_fields:
            shown_a = WITHHELD if a is not None else ""
            shown_b = WITHHELD if b is not None else ""
            withheld = True
        rows.append(
            {
                "field": name,
                candidate.record_a: shown_a,
                candidate.record_b: shown_b,
                "agreement": verdict,
            }
        )
    return pd.DataFrame(rows), withheld


def source_line(records: Dataset, record_id: str) -> str:
    """Where a record came from: its source, the agency and the day it was extracted."""
    source, local = split_qualified(record_id)
    info = records.sources.get(source)
    parts = [f"{record_id}: record {local} of {source}"]
    if info is not None and info.agency:
        parts.append(f"agency {info.agency}")
    if info is not None and info.extracted_on:
        parts.append(f"extracted {info.extracted_on.isoformat()}")
    return ", ".join(parts)
