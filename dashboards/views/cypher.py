"""Cypher: the liaison library, a form per query, and ad-hoc read-only Cypher."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import common
import pandas as pd
import streamlit as st
from wording import count, plain_keeping_code

from graphguard.audit import Event, audited
from graphguard.cypher import (
    ParamSpec,
    QueryResult,
    QuerySpec,
    load_library,
    run_library_query,
    run_options,
    run_query,
)
from graphguard.cypher.results import young_people_scrubber
from graphguard.errors import BackendUnavailable, GraphguardError, RefusedError
from graphguard.privacy import disclosed, subjects_of
from graphguard.settings import get_settings, pseudonym_key
from graphguard.viz import network_html

view = common.current_view()
settings = get_settings()
st.title("Cypher")
st.caption(
    "Named, parameterised queries for the police liaison, and ad-hoc Cypher. Everything "
    "runs read-only (checked here, by the server's query plan, and in a read-only "
    "transaction) and every run is audited."
)

library = load_library()

if not settings.neo4j_uri:
    st.warning("Cypher needs Neo4j, and `NEO4J_URI` is not set.")
    st.markdown(
        "Start a local Neo4j, point the dashboard at it and load the data:\n\n"
        "```bash\n"
        "graphguard neo4j start\n"
        'eval "$(graphguard neo4j env)"\n'
        "graphguard load fixtures/demo\n"
        "graphguard dashboard\n"
        "```"
    )
    st.subheader("The query library")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "query": spec.name,
                    "question": spec.question,
                    "parameters": ", ".join(p.name for p in spec.params),
                }
                for spec in library.values()
            ]
        ),
        hide_index=True,
    )
    st.stop()

neo4j_source = common.DataSource("neo4j", settings.neo4j_uri, settings.neo4j_database)
driver = common.neo4j_driver(settings)
options = run_options(settings)


def parameter_widget(spec: QuerySpec, param: ParamSpec) -> Any:
    """One form field for a parameter, prefilled with its default or the header's example."""
    key = f"cypher_{spec.name}_{param.name}"
    label = f"{param.name} ({param.type}{', required' if param.required else ''})"
    start = spec.examples.get(param.name, param.default)
    if param.type == "boolean":
        return st.checkbox(label, value=bool(start), help=param.description, key=key)
    if param.type in ("integer", "float"):
        number: Any = int if param.type == "integer" else float
        low = number(param.minimum) if param.minimum is not None else None
        high = number(param.maximum) if param.maximum is not None else None
        value = number(start) if start is not None else (low if low is not None else number(0))
        return st.number_input(
            label, min_value=low, max_value=high, value=value, help=param.description, key=key
        )
    if isinstance(start, list):
        start = ", ".join(str(item) for item in start)
    if isinstance(start, dt.date):
        start = start.isoformat()
    placeholder = (
        "YYYY-MM-DD"
        if param.type == "date"
        else "comma, separated"
        if "list" in (param.type)
        else ""
    )
    return st.text_input(
        label,
        value="" if start is None else str(start),
        placeholder=placeholder,
        help=param.description,
        key=key,
    )


def run(label: str, action: Any) -> None:
    """Run a query and keep its result (or its refusal) for this session."""
    st.session_state.pop("cypher_result", None)
    st.session_state.pop("cypher_error", None)
    down = common.backend_problem(neo4j_source)
    if down is not None:
        st.session_state["cypher_error"] = f"Not run: Neo4j is not answering ({down})."
        return
    try:
        result = action()
        # Young people as Neo4j holds them at this run (the page's cached graph may be older).
        scrubber = young_people_scrubber(driver, settings.neo4j_database)
        st.session_state["cypher_result"] = (label, result, scrubber)
    except RefusedError as error:
        st.session_state["cypher_error"] = f"Refused: {error}"
    except BackendUnavailable as error:
        # It stopped between the check and the run: say so plainly, and check afresh.
        common.backend_problem.clear()
        why = common.backend_problem(neo4j_source) or str(error)
        st.session_state["cypher_error"] = f"Not run: Neo4j is not answering ({why})."
    except GraphguardError as error:
        st.session_state["cypher_error"] = str(error)


library_tab, adhoc_tab = st.tabs(["Library", "Ad-hoc Cypher"])
with library_tab:
    name = st.selectbox(
        "Query",
        list(library),
        format_func=lambda n: f"{n} — {library[n].question}",
        key="cypher_query",
    )
    spec = library[name]
    st.markdown(f"**{spec.question}**")
    for note in spec.notes:
        st.caption(note)
    st.caption("Returns: " + ", ".join(spec.returns))
    with st.form(f"cypher_form_{spec.name}"):
        raw = {param.name: parameter_widget(spec, param) for param in spec.params}
        submitted = st.form_submit_button("Run query", type="primary")
    with st.expander("The Cypher"):
        st.code(spec.text, language="cypher")
    if submitted:
        run(spec.name, lambda: run_library_query(driver, spec, raw, **options))

with adhoc_tab:
    with st.form("cypher_adhoc"):
        text = st.text_area(
            "Read-only Cypher",
            value="MATCH (a:Adult)-[r:ALLEGED_HARM]->(y:YoungPerson) RETURN a, r, y LIMIT 25",
            height=140,
            key="cypher_text",
        )
        submitted_adhoc = st.form_submit_button("Run Cypher", type="primary")
    if submitted_adhoc:
        run("ad hoc", lambda: run_query(driver, text, {}, **options))

if "cypher_error" in st.session_state:
    st.error(plain_keeping_code(st.session_state["cypher_error"]))
if "cypher_result" in st.session_state:
    label, result, scrubber = st.session_state["cypher_result"]
    assert isinstance(result, QueryResult)
    if result.cut_by_bytes:
        more = f" (cut at the byte limit of {result.byte_limit:,} bytes: there were more)"
    elif result.truncated:
        more = f" (cut at {result.row_limit}: there were more)"
    else:
        more = ""
    st.subheader(f"Result of {label}")
    st.caption(f"{count(len(result.rows), 'row')}{more} in {result.elapsed:.2f} s.")
    shown = disclosed(result.rows, scrubber, names_shown=view.show_names)
    table = pd.DataFrame(
        [
            {c: json.dumps(v) if isinstance(v, dict | list) else v for c, v in row.items()}
            for row in shown
        ],
        columns=result.columns,
    )
    st.dataframe(table, hide_index=True)

    def download(kind: str) -> Callable[[], str]:
        """The result as a file, generated only when its button is clicked, and audited then."""

        def generate() -> str:
            with audited(
                Event.DOWNLOAD_CYPHER,
                query=label,
                format=kind,
                rows=len(result.rows),
                channel="dashboard",
            ) as audit:
                audit.note(subjects=subjects_of(result.graph, pseudonym_key()))
                return common.cypher_file(result, kind, scrubber)

        return generate

    left, right = st.columns(2)
    left.download_button(
        "Download CSV",
        download("csv"),
        file_name=f"{label.replace(' ', '_')}.csv",
        mime="text/csv",
        on_click="ignore",
    )
    right.download_button(
        "Download JSON",
        download("json"),
        file_name=f"{label.replace(' ', '_')}.json",
        mime="application/json",
        on_click="ignore",
    )
    st.caption(
        "Downloads never carry young people's names, aliases, dates of birth or identifiers, "
        "and are safe to open in a spreadsheet."
    )
    if result.graph is not None and result.graph.number_of_nodes():
        drawn = network_html(
            result.graph, show_names=view.show_names, height_px=common.DRAWING_HEIGHT
        )
        if drawn.capped:
            st.warning(
                f"Showing {drawn.shown_nodes} of {count(drawn.total_nodes, 'entity', 'entities')}."
            )
        common.show_drawing(drawn, "query result graph")
