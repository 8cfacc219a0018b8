"""Thin Streamlit glue shared by the pages: where the data is, and cached loaders.

What the pages show of a view (data and filters) is one
:class:`~graphguard.viewcache.ViewDigest`: counts, the analysis, the timeline, the
map's points and a drawing index.  For a dataset it is kept on disk too, in the
state home, keyed by the data's content hash, the analysis options and the filters
(:mod:`graphguard.viewcache`), so a restarted dashboard shows its first page
without reading or analysing the data again.  Only what needs the whole graph reads
the data itself: young people's names (never in the cache), the disruption planner.

In memory, caching follows Streamlit's split:

* ``st.cache_resource`` holds what is shared and never copied — the store (a Neo4j
  driver, or the embedded store over a dataset), the filtered graphs it returns, the
  digests and the disruption analysis (which holds its graph), all of which pages
  only read;
* ``st.cache_data`` holds results — drawings, plans, the target list and its files —
  keyed by the data's identity (for a dataset its path and the size and
  modification time of every file in it; for Neo4j its URI and database) and by the
  filters.

Every cached function reads only its arguments; an argument starting with ``_`` is
left out of the key (the settings carrying the Neo4j password, the pseudonym key).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd
import signin
import streamlit as st
from wording import plain, plain_keeping_code

from graphguard import viewcache
from graphguard.access import Identity, Permission, current_identity, require
from graphguard.analysis import AnalysisOptions, Context, Hub, PeerGroup
from graphguard.analysis.disruption import (
    DisruptionAnalysis,
    PlacementCheck,
    Plan,
    RelocationComparison,
    disruption_analysis,
    greedy_plan,
    placement_check,
    relocation_comparison,
)
from graphguard.audit import Event, audited
from graphguard.categories import PersonCategories, person_categories
from graphguard.cypher.results import QueryResult, format_result, without_identities
from graphguard.errors import GraphguardError, UsageError
from graphguard.fairness import FairnessReport, fairness_report, parse_population
from graphguard.ingest import IngestResult
from graphguard.model import node_kind
from graphguard.privacy import (
    EVERYTHING,
    SHAREABLE,
    Sight,
    YoungPersonScrubber,
    pseudonym,
    role_view,
    scrub_graph,
    sight_of,
)
from graphguard.resolve.types import Decision
from graphguard.retention.log import held_stamp
from graphguard.settings import Settings, get_settings, pseudonym_key
from graphguard.store.base import Filters, Store
from graphguard.store.open import DATASET_ENV, choose_data
from graphguard.targets import TargetList, build_target_list, write_target_list
from graphguard.viewcache import ViewDigest, build_digest, content_hash, digest_key
from graphguard.viz import (
    DEFAULT_MAX_NODES,
    NetworkDrawing,
    entity_label,
    neighbourhood,
    network_html,
)

_LOG = logging.getLogger("graphguard.dashboard")

#: Height of every network drawing, in pixels; its frame is a little taller.
DRAWING_HEIGHT = 600


def acting_identity() -> Identity:
    """Who is using the dashboard: the one function every page and audit line asks.

    In local single-user mode the operating-system user in the role settings give
    (:func:`graphguard.access.cli_identity`); with sign-in, the signed-in user
    (``signin.gate`` checked them at the top of the run).
    """
    return signin.acting_identity()


@dataclass(frozen=True)
class DataSource:
    """Which data the dashboard shows, what of it the role sees, and a stamp of the data.

    ``sight`` is the acting role's view (:func:`graphguard.privacy.sight_of`): every
    cache keyed by the source is then kept per view, and what a page reads is already
    the role's view, analysed on what it may see.
    """

    backend: str
    location: str
    database: str | None = None
    stamp: tuple[tuple[str, int, int], ...] = ()
    sight: Sight = EVERYTHING

    @property
    def is_neo4j(self) -> bool:
        return self.backend == "neo4j"

    @property
    def whole(self) -> DataSource:
        """The same data, all of it: what the store is opened on (one per data, not per view)."""
        return dataclasses.replace(self, sight=EVERYTHING)

    @property
    def label(self) -> str:
        if self.is_neo4j:
            return f"Neo4j at {self.location} ({self.database or 'default database'})"
        return f"embedded, {self.location}"


@dataclass(frozen=True)
class View:
    """What every page looks at: the data, the sidebar's filters, whether names show."""

    source: DataSource
    filters: Filters
    show_names: bool


def _stamp(path: Path) -> tuple[tuple[str, int, int], ...]:
    """Every file's path, modification time and size: the files the content hash reads.

    With the retention policy's deletions (which records are held back) as one more
    entry, so a purge or a restore made by the CLI while the dashboard runs re-reads
    the data rather than showing what was deleted.
    """
    stamps = []
    for name, file in viewcache.dataset_files(path):
        found = file.stat()
        stamps.append((name, found.st_mtime_ns, found.st_size))
    stamps.append((f"held:{held_stamp()}", 0, 0))
    return tuple(stamps)


def data_source(settings: Settings | None = None, sight: Sight | None = None) -> DataSource:
    """``GRAPHGUARD_DATASET``, else Neo4j when ``NEO4J_URI`` is set, else the demo town.

    Seen as ``sight`` gives, by default what the acting identity's role may see
    (refused, one line, for a role that sees no personal data).
    """
    settings = settings or get_settings()
    sight = sight if sight is not None else sight_of(current_identity())
    choice = choose_data(
        None, os.environ.get(DATASET_ENV), settings.neo4j_uri, settings.neo4j_database
    )
    if choice.is_neo4j:
        return DataSource("neo4j", choice.location, choice.database, sight=sight)
    return DataSource(
        "embedded", choice.location, stamp=_stamp(Path(choice.location)), sight=sight
    )


def _filters_key(filters: Filters) -> tuple[Any, ...]:
    """A canonical key: equal filters always hash alike, whatever order sets were built in."""
    return tuple(
        tuple(sorted(value)) if isinstance(value, frozenset) else value
        for value in dataclasses.astuple(filters)
    )


def _view_key(filters: Filters, sight: Sight) -> tuple[Any, ...]:
    """The disk cache's key of a view: the filters, and the sight when it is not everything."""
    if sight == EVERYTHING:
        return _filters_key(filters)
    return (_filters_key(filters), sight.key)


_HASH_FUNCS: dict[Any, Callable[[Any], Any]] = {
    Filters: _filters_key,
    DataSource: dataclasses.astuple,
}


def _close_store(store: Store) -> None:
    """Close a Neo4j store's driver when its cache entry goes (reload, eviction)."""
    driver = getattr(store, "driver", None)
    if driver is not None:
        driver.close()


@st.cache_resource(
    show_spinner="Opening the data…",
    max_entries=4,
    hash_funcs=_HASH_FUNCS,
    on_release=_close_store,
)
def _open_store(source: DataSource, _settings: Settings) -> Store:
    from graphguard.store.memory import MemoryStore
    from graphguard.store.open import open_neo4j

    if source.is_neo4j:
        return open_neo4j(_settings)
    with _CARRIED_LOCK:
        carried = _CARRIED.pop(source, None)
    if carried is not None:
        return carried
    return MemoryStore.from_path(source.location)


# A store resolved again after a decision, waiting for the data source its new
# decisions.csv gives: the extracts are not read again for it.
_CARRIED: dict[DataSource, Store] = {}
_CARRIED_LOCK = threading.Lock()
_DECISIONS: dict[str, list[Decision]] = {}


def decisions_made(source: DataSource) -> list[Decision]:
    """The match decisions recorded on this dataset from this dashboard, oldest first."""
    return list(_DECISIONS.get(source.location, []))


def decide(source: DataSource, record_a: str, record_b: str, verdict: str, reason: str) -> Decision:
    """Record an analyst's match decision, and resolve the records again with it.

    ``graphguard.resolve.record_decision`` appends it to the dataset's
    ``decisions.csv``, audited (nothing is written if the audit line cannot be).  The
    records already read are then resolved again with every decision, and the new
    entities are what the next run shows: the extracts are not read again.
    """
    from graphguard.resolve.decisions import record_decision
    from graphguard.store.memory import MemoryStore

    ingest: IngestResult | None = getattr(store(source), "ingest", None)
    if ingest is None or ingest.record_level is None:
        raise UsageError("match decisions are made on a dataset of agency extracts")
    decision = record_decision(
        Path(source.location), record_a, record_b, verdict, reason, records=ingest.records
    )
    resolved = ingest.resolved_with(decision)
    with _CARRIED_LOCK:
        _CARRIED[data_source().whole] = MemoryStore(resolved.dataset, resolved)
        _DECISIONS.setdefault(source.location, []).append(decision)
    return decision


def store(source: DataSource) -> Store:
    """The (cached) store of a data source: one driver per Neo4j, one read per dataset.

    All of the data, whatever the view: read what a page shows through :func:`network`.
    """
    return _open_store(source.whole, get_settings())


@st.cache_resource(show_spinner="Reading the network…", max_entries=8, hash_funcs=_HASH_FUNCS)
def identified_network(source: DataSource, filters: Filters) -> nx.MultiDiGraph:
    """The filtered graph as the role may see it, texts as recorded: for names shown only.

    Cut to the source's sight (:func:`graphguard.privacy.role_view`) before anything
    is analysed.  ``graph.graph["read_at"]`` says when it was read, for the notice that
    Neo4j has stopped answering since.  Shared: pages never change it.
    """
    graph = role_view(store(source).graph(filters), source.sight)
    graph.graph["read_at"] = dt.datetime.now()
    return graph


@st.cache_resource(show_spinner="Reading the network…", max_entries=8, hash_funcs=_HASH_FUNCS)
def network(source: DataSource, filters: Filters) -> nx.MultiDiGraph:
    """The filtered graph every page reads: the role's view, with no text naming a child.

    :func:`identified_network` with every text scrubbed of young people's identifying
    values (:func:`graphguard.privacy.scrub_graph`): a place named for a household, an
    operator, a note.  Young people's own properties stay, so scrubbers built from it
    know them.  Shared: pages never change it.
    """
    return scrub_graph(identified_network(source, filters))


@st.cache_resource(show_spinner=False, max_entries=4, hash_funcs=_HASH_FUNCS)
def _content(source: DataSource) -> str:
    """The content hash of a dataset, once per version of its files (the stamp)."""
    return content_hash(source.whole.location)


@st.cache_resource(show_spinner="Analysing the network…", max_entries=8, hash_funcs=_HASH_FUNCS)
def digest(source: DataSource, filters: Filters) -> ViewDigest:
    """What the pages show of one view: from the disk cache, else analysed (and saved).

    Shared and never copied: pages only read it.  A cache that cannot be read or
    written (a full disk, a state home refused) is logged and the view analysed as
    if there were none: the cache only ever saves time.
    """
    options = analysis_options(filters)
    if source.is_neo4j:
        key = digest_key(
            f"neo4j {source.location} {source.database}",
            options,
            _view_key(filters, source.sight),
        )
        return _build(key, source, filters)
    key = digest_key(_content(source.whole), options, _view_key(filters, source.sight))
    try:
        found = viewcache.load(key, get_settings())
    except GraphguardError as error:
        _LOG.warning("the dashboard cache is not used: %s", error)
        return _build(key, source, filters)
    if found is not None:
        return found
    built = _build(key, source, filters)
    try:
        viewcache.save(built, get_settings())
    except GraphguardError as error:
        _LOG.warning("the dashboard cache was not written: %s", error)
    return built


def _build(key: str, source: DataSource, filters: Filters) -> ViewDigest:
    found = store(source)
    dataset = getattr(found, "dataset", None)
    return build_digest(
        key,
        network(source, filters),
        analysis_options(filters),
        ingest=getattr(found, "ingest", None),
        resolution=getattr(dataset, "resolution", None),
    )


def summary(source: DataSource, filters: Filters) -> dict[str, Any]:
    """Counts by kind, type and agency and the date range of the filtered graph."""
    return digest(source, filters).summary


def areas(source: DataSource) -> list[str]:
    """Every area recorded for a person or a location, for the area filter."""
    return digest(source, Filters()).areas


@dataclass(frozen=True)
class Findings:
    """What the pages show of the analysis: adults and contexts scoring above 0, the groups.

    :func:`adult` gives any one adult's finding, those scoring 0 too.
    """

    hubs: list[Hub]
    contexts: list[Context]
    groups: list[PeerGroup]
    summary: dict[str, Any]


def analysis_options(filters: Filters) -> AnalysisOptions:
    """The analysis options of a view: the settings, and the sidebar's as-of day.

    Built exactly as the CLI builds them (``AnalysisOptions.from_settings``), so the
    pages and ``graphguard analyse``/``targets`` agree.  The settings are read once
    per process, so the cached functions below still depend only on their arguments.
    """
    return AnalysisOptions.from_settings(as_of=filters.as_of)


def analysis(source: DataSource, filters: Filters) -> Findings:
    """Scored hubs and contexts and the peer groups of the filtered graph."""
    found = digest(source, filters)
    return Findings(
        hubs=found.hubs,
        contexts=found.contexts,
        groups=found.groups,
        summary=found.analysis_summary,
    )


def adults(source: DataSource, filters: Filters) -> list[str]:
    """Every adult's id, highest hub score first (those scoring 0 after, by rank)."""
    return digest(source, filters).adults


def adult(source: DataSource, filters: Filters, adult_id: str) -> Hub:
    """One adult's hub finding whatever their score, without its per-child routes.

    An adult scoring 0 is worth reading too: the explanation says why a youth worker
    who supports forty children is not a hub of risk.
    """
    found = digest(source, filters).hub(adult_id)
    if found is None:
        raise UsageError(f"{adult_id} is not an adult in this view of the network")
    return found


def scores(source: DataSource, filters: Filters) -> dict[str, float]:
    """Hub scores of adults and context scores of places and vehicles, by id."""
    return digest(source, filters).scores


def timeline(source: DataSource, filters: Filters, by: str) -> pd.DataFrame:
    """Links per month of their first sighting, by link type or agency."""
    found = digest(source, filters).timelines
    if by not in found:
        raise UsageError("a timeline is by 'type' or by 'agency'")
    return found[by]


#: The most entities a pick list offers: a longer one is slow to send and to scroll.
#: Beyond it, a box beside the list takes any id.
MOST_CHOICES = 2_000


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs=_HASH_FUNCS)
def focus_choices(source: DataSource, filters: Filters) -> list[str]:
    """Every entity of the view: adults and contexts scoring above 0 by rank, then by id."""
    found = digest(source, filters)
    ranked = [hub.id for hub in found.hubs] + [c.id for c in found.contexts]
    seen = set(ranked)
    return ranked + sorted(entity for entity in found.index.ids if entity not in seen)


def pick(
    label: str,
    choices: list[str],
    known: Container[str],
    *,
    key: str,
    format_func: Callable[[str], str],
    what: str,
    **options: Any,
) -> str | None:
    """A pick list of at most :data:`MOST_CHOICES`, and a box for any other id past it.

    ``known`` says which ids the box accepts (an id it does not know is a warning,
    and the list's choice stands); ``what`` names them ("adult", "entity").
    """
    chosen: str | None = st.selectbox(
        label, choices[:MOST_CHOICES], format_func=format_func, key=key, **options
    )
    if len(choices) <= MOST_CHOICES:
        return chosen
    typed = st.text_input(
        f"Or type any {what}'s id (the list holds the first {MOST_CHOICES:,} of {len(choices):,})",
        key=f"{key}_typed",
    ).strip()
    if not typed:
        return chosen
    if typed not in known:
        st.warning(f"{plain(typed)} is not {_with_article(what)} in this view of the network.")
        return chosen
    return typed


def _with_article(noun: str) -> str:
    """``an adult``, ``a place``: the noun with its indefinite article."""
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def entities(view: View) -> Mapping[str, Mapping[str, Any]]:
    """Each entity's attributes as the pages show them, by id.

    From the cached digest, which holds no young person's name; when the analyst
    shows names, from the graph of the data itself.  Kept for the view, so a page
    naming two thousand entities looks the view up once.
    """
    return _entities(view)


@functools.lru_cache(maxsize=8)
def _entities(view: View) -> Mapping[str, Mapping[str, Any]]:
    if view.show_names:
        nodes: Mapping[str, Mapping[str, Any]] = identified_network(
            view.source, view.filters
        ).nodes
        return nodes
    return digest(view.source, view.filters).index.nodes


@st.cache_data(show_spinner="Drawing…", max_entries=32, hash_funcs=_HASH_FUNCS)
def drawing(
    source: DataSource,
    filters: Filters,
    *,
    entities: tuple[str, ...] | None = None,
    focus: str | None = None,
    steps: int = 1,
    kinds: tuple[str, ...] | None = None,
    show_names: bool = False,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> NetworkDrawing:
    """The drawn network: all of it, some ``entities``, or ``focus`` and its neighbourhood.

    ``kinds`` keeps only those kinds of entity (the focus always stays).  Drawn from
    the digest's index; with young people's names, from the graph of the data.
    """
    found = digest(source, filters)
    if not show_names:
        return found.index.draw(
            scores=found.scores,
            entities=entities,
            focus=focus,
            steps=steps,
            kinds=kinds,
            max_nodes=max_nodes,
            height_px=DRAWING_HEIGHT,
        )
    graph: nx.MultiDiGraph = identified_network(source, filters)
    if entities is not None:
        graph = graph.subgraph(entities)
    if focus is not None:
        graph = neighbourhood(graph, focus, steps)
    if kinds is not None:
        wanted = set(kinds)
        graph = graph.subgraph(
            n for n, d in graph.nodes(data=True) if n == focus or node_kind(d) in wanted
        )
    return network_html(
        graph,
        scores=found.scores,
        show_names=show_names,
        max_nodes=max_nodes,
        focus=focus,
        height_px=DRAWING_HEIGHT,
    )


def show_drawing(drawn: NetworkDrawing, alt: str) -> None:
    """Show a drawing in a frame that fits it (``alt`` names it for screen readers)."""
    st.iframe(drawn.html, height=DRAWING_HEIGHT + 24, alt=alt)


@st.cache_resource(show_spinner="Weighing disruption…", max_entries=8, hash_funcs=_HASH_FUNCS)
def disruption(source: DataSource, filters: Filters) -> DisruptionAnalysis:
    """Exposure and every target's impact (shared: it holds the graph, pages only read it)."""
    return disruption_analysis(network(source, filters), options=analysis_options(filters))


@st.cache_data(show_spinner="Building the fairness report…", max_entries=8, hash_funcs=_HASH_FUNCS)
def fairness(
    source: DataSource, filters: Filters, population_csv: str | None, hubs_shown: int
) -> FairnessReport:
    """The fairness report of the view, exactly as ``graphguard fairness`` builds it.

    ``population_csv`` is an uploaded area population file's text (or None).
    """
    population = (
        parse_population(population_csv, "the population file")
        if population_csv is not None
        else None
    )
    return fairness_report(
        network(source, filters),
        options=analysis_options(filters),
        population=population,
        population_name="the uploaded file" if population is not None else None,
        hubs_shown=hubs_shown,
        source=source.location,
        analysis=disruption(source, filters),
    )


@st.cache_data(show_spinner="Planning…", max_entries=32, hash_funcs=_HASH_FUNCS)
def plan(source: DataSource, filters: Filters, k: int) -> Plan:
    """The greedy plan of ``k`` targets."""
    found = disruption(source, filters)
    return greedy_plan(network(source, filters), k, exposure=found.exposure, hubs=found.hubs)


@st.cache_data(show_spinner=False, max_entries=32, hash_funcs=_HASH_FUNCS)
def relocation(source: DataSource, filters: Filters, young_person: str) -> RelocationComparison:
    """Moving one young person compared with disrupting what exposes them."""
    found = disruption(source, filters)
    return relocation_comparison(
        network(source, filters), young_person, exposure=found.exposure, hubs=found.hubs
    )


@st.cache_data(show_spinner=False, max_entries=32, hash_funcs=_HASH_FUNCS)
def placement(
    source: DataSource,
    filters: Filters,
    young_person: str,
    radius_m: float,
    address: tuple[float, float] | None = None,
) -> PlacementCheck:
    """Contexts of concern near a young person's placement, or near a proposed address."""
    found = disruption(source, filters)
    latitude, longitude = address if address is not None else (None, None)
    return placement_check(
        network(source, filters),
        young_person_id=young_person,
        latitude=latitude,
        longitude=longitude,
        radius_m=radius_m,
        exposure=found.exposure,
        hubs=found.hubs,
    )


@st.cache_data(show_spinner="Building the target list…", max_entries=8, hash_funcs=_HASH_FUNCS)
def target_list(
    source: DataSource, filters: Filters, shareable: bool, _key: bytes, exported_on: dt.date
) -> TargetList:
    """The ranked target list, exactly as ``graphguard targets`` builds it.

    A shareable list is scored on the shareable view of the data, never on the
    evidence it withholds.
    """
    if shareable and source.sight == EVERYTHING:
        source = dataclasses.replace(source, sight=SHAREABLE)
    return build_target_list(
        network(source, filters),
        key=_key,
        shareable=shareable,
        analysis=disruption(source, filters),
        exported_on=exported_on,
        source=source.location,
    )


@st.cache_data(show_spinner=False, max_entries=16, hash_funcs=_HASH_FUNCS)
def target_file(
    source: DataSource,
    filters: Filters,
    shareable: bool,
    kind: str,
    _key: bytes,
    exported_on: dt.date,
) -> bytes:
    """The target list as a CSV or XLSX file, written by the CLI's own writer."""
    targets = target_list(source, filters, shareable, _key, exported_on)
    with tempfile.TemporaryDirectory() as folder:
        return write_target_list(targets, Path(folder) / f"targets.{kind}").read_bytes()


def cypher_file(result: QueryResult, kind: str, scrubber: YoungPersonScrubber) -> str:
    """A Cypher result as a CSV or JSON download, exactly as ``graphguard cypher run`` prints it.

    The CLI's formatter (cells safe in a spreadsheet) over the result with young
    people's identities withheld, whatever the page shows.
    """
    return format_result(without_identities(result, scrubber), kind)


def neo4j_driver(settings: Settings) -> Any:
    """The driver for Cypher queries on ``NEO4J_URI``: the reader account's when one is
    configured (``GRAPHGUARD_NEO4J_READER_USERNAME``), else the one its store holds."""
    from graphguard.store.neo4j import Neo4jStore

    if not settings.neo4j_uri:
        raise UsageError("NEO4J_URI is not set (see `graphguard neo4j env`)")
    if settings.neo4j_reader_username:
        return _reader_driver(settings.neo4j_uri, settings.neo4j_reader_username, settings)
    found = store(DataSource("neo4j", settings.neo4j_uri, settings.neo4j_database))
    assert isinstance(found, Neo4jStore)
    return found.driver


@st.cache_resource(show_spinner=False)
def _reader_driver(uri: str, username: str, _settings: Settings) -> Any:
    from graphguard.store.neo4j import connect

    return connect(uri, *_settings.query_account())


def clear_caches() -> None:
    """Forget every cached store, graph and result (after the data changed)."""
    st.cache_data.clear()
    st.cache_resource.clear()
    _entities.cache_clear()


def current_view() -> View:
    """The view the sidebar set up for this run (``app.py`` stores it first)."""
    view = st.session_state.get("gg_view")
    if not isinstance(view, View):
        raise UsageError("open the dashboard through dashboards/app.py")
    return view


def audit_view(
    event: Event,
    source: DataSource,
    young_person: str | None = None,
    *,
    subjects: list[str] | None = None,
    **fields: Any,
) -> None:
    """Audit, before it is shown, that this session sees a view the CLI audits too.

    Once per session and subject (Streamlit reruns a page on every click); a young
    person is named by pseudonym.  ``subjects`` (sorted entity keys, young people by
    pseudonym: :func:`graphguard.privacy.subjects_of`) go on the outcome line: whom
    the view shows, as subject access reads the log.  When the line cannot be
    written the page stops here with one line, and nothing is shown.
    """
    if young_person is not None:
        fields["young_person"] = pseudonym(young_person, pseudonym_key())
    if source.sight != EVERYTHING:
        fields["sight"] = source.sight.key
    key = (
        str(event),
        source.location,
        tuple(sorted((k, str(v)) for k, v in fields.items())),
        tuple(subjects or ()),
    )
    seen: set[Any] = st.session_state.setdefault("gg_audited_views", set())
    if key in seen:
        return
    try:
        with audited(event, source=source.location, channel="dashboard", **fields) as action:
            if subjects is not None:
                action.note(subjects=subjects)
    except GraphguardError as error:
        show_error(error)
        st.stop()
    seen.add(key)


# ----------------------------------------------------------------------------- the matrix


def may(permission: Permission) -> bool:
    """Whether the acting identity's role has ``permission`` (a button or download exists)."""
    return current_identity().may(permission)


def refuse_unless(permission: Permission, what: str) -> None:
    """Stop the page with a one-line, audited refusal unless the role has ``permission``.

    What a button or download does calls it again when it runs: a control the role
    may not use is not drawn, and one reached anyway (an old session, a changed
    role) is refused rather than trusted.
    """
    try:
        require(current_identity(), permission, what)
    except GraphguardError as error:
        show_error(error)
        st.stop()


def young_subjects(view: View) -> list[str]:
    """The pseudonyms of every young person of the view (whose names a reveal shows)."""
    found = entities(view)
    key = pseudonym_key()
    return sorted(
        pseudonym(entity, key)
        for entity, data in found.items()
        if data.get("role") == "young_person"
    )


#: The fewest characters a reason for showing names may have: a word or two is not one.
MIN_REASON = 10


def reveal(view: View, reason: str) -> None:
    """Show young people's names in this session: the analyst's audited reveal.

    Refused (audited) for a role without :attr:`Permission.REVEAL_IDENTITY`, and for a
    reason shorter than :data:`MIN_REASON`.  The line names whose identities became
    visible (every young person of the view, by pseudonym) and a SHA-256 of the
    reason, never the names nor the words (they may name a child).

    Raises
    ------
    RefusedError
        When the role may not reveal, or the audit line cannot be written.
    UsageError
        When the reason is too short.
    """
    require(current_identity(), Permission.REVEAL_IDENTITY, "show young people's names")
    words = reason.strip()
    if len(words) < MIN_REASON:
        raise UsageError(
            f"say why you need the names (at least {MIN_REASON} characters): the reason "
            "is recorded with the reveal"
        )
    fields: dict[str, Any] = {
        "scope": "young people of the view",
        "reason_sha256": hashlib.sha256(words.encode("utf-8")).hexdigest(),
    }
    if view.source.sight != EVERYTHING:
        fields["sight"] = view.source.sight.key
    with audited(
        Event.REVEAL, source=view.source.location, channel="dashboard", **fields
    ) as action:
        action.note(subjects=young_subjects(view))


def show_error(error: BaseException) -> None:
    """One clear line for an error on a page, never a traceback (that goes to the log)."""
    if isinstance(error, GraphguardError):
        st.error(plain_keeping_code(error))
    elif _is_unreachable(error):
        st.error(
            f"Neo4j stopped answering ({plain(_first_line(error))}). Start it again "
            "(`graphguard neo4j start`), then press Reload data."
        )
    else:
        _LOG.exception("dashboard page failed")
        st.error(
            f"Something went wrong on this page ({type(error).__name__}: "
            f"{plain(_first_line(error))}). The dashboard's log has the details."
        )


def categories(view: View, entity_id: str) -> PersonCategories:
    """A person's data-protection categories as the view holds them (empty for others)."""
    return person_categories(entities(view).get(entity_id, {}))


def show_categories(view: View, entity_id: str) -> None:
    """One line under a person's heading: their categories and which record said which."""
    known = entities(view)
    if entity_id not in known or node_kind(known[entity_id]) not in ("young_person", "adult"):
        return
    found = person_categories(known[entity_id])
    line = f"Data-protection categories: {found.label()}"
    if found.sources():
        line += f" — {found.sources()}"
    st.caption(plain(line))


def entity_name(view: View, entity_id: str) -> str:
    """An entity's on-screen name (young people by id unless names are shown)."""
    found = entities(view)
    if entity_id not in found:
        return entity_id
    return entity_label(entity_id, found[entity_id], view.show_names)


#: How long a liveness check may take, and how long its answer is trusted.
LIVENESS_TIMEOUT_S = 2.0
LIVENESS_TTL_S = 5.0


def _first_line(error: BaseException) -> str:
    """The reason an error gives, in one line without the driver's address dump."""
    text = str(error).strip()
    first = text.splitlines()[0] if text else type(error).__name__
    # The driver repeats the address ("Couldn't connect to h:p (resolved to
    # ('h:p',)):") and gives the reason lines later ("(reason [Errno 111] Connection
    # refused)"), if at all: keep the reason.
    if "resolved to" in first:
        reason = re.search(r"\(reason (?:\[Errno \d+\] )?([^)]*)\)", text)
        first = reason.group(1).strip().lower() if reason else "nothing answered there"
    return first


def _is_unreachable(error: BaseException) -> bool:
    """Whether a page failed because the connection to Neo4j went."""
    from neo4j.exceptions import ServiceUnavailable, SessionExpired

    return isinstance(error, ServiceUnavailable | SessionExpired | ConnectionError)


def _verify(driver: Any) -> str | None:
    """Why the driver cannot reach its server within the timeout, or None if it can."""
    outcome: list[str | None] = []

    def check() -> None:
        try:
            driver.verify_connectivity()
        except Exception as error:  # any failure at all means "not answering"
            outcome.append(_first_line(error))
        else:
            outcome.append(None)

    # The driver's own connection timeout is long (30 s) and shared with real work:
    # the check runs aside and is given up on, so a page never waits long for it.
    worker = threading.Thread(target=check, name="neo4j-liveness", daemon=True)
    worker.start()
    worker.join(LIVENESS_TIMEOUT_S)
    if not outcome:
        return f"no answer within {LIVENESS_TIMEOUT_S:g} s"
    return outcome[0]


@st.cache_data(ttl=LIVENESS_TTL_S, show_spinner=False, hash_funcs=_HASH_FUNCS)
def backend_problem(source: DataSource) -> str | None:
    """Why the data source stopped answering (checked at most every few seconds), or None.

    Only Neo4j can stop: a dataset was read once, and what the pages show is it.
    """
    if not source.is_neo4j:
        return None
    found = store(source)
    driver = getattr(found, "driver", None)
    return None if driver is None else _verify(driver)


def backend_notice(source: DataSource, filters: Filters) -> str | None:
    """The notice every page shows while Neo4j is not answering, or None while it is."""
    problem = backend_problem(source)
    if problem is None:
        return None
    try:
        read_at = network(source, filters).graph.get("read_at")
    except Exception:  # not read before it stopped: the page will say so itself
        read_at = None
    when = f" at {read_at:%H:%M:%S}" if isinstance(read_at, dt.datetime) else ""
    return (
        f"Neo4j at {plain(source.location)} is not answering ({plain(problem)}). What the "
        f"pages show was read{when} and may be out of date, and nothing new can be read. "
        "Start Neo4j again (`graphguard neo4j start`), then press Reload data."
    )
