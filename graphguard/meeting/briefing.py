"""The briefing pack: what a chair circulates before the monthly meeting.

:func:`build_briefing` gathers, for one picture (``as_of``), every section of the
pack — a summary, what changed since the last meeting, new alerts, the top targets
with their evidence and tactics (the target list itself,
:func:`graphguard.targets.build_target_list`), the actions agreed, a context
assessment for each top place (who is linked, when, what happens there, what would
change it), actions due, displacement after actions started, and network pictures —
and :func:`write_briefing` renders it as a PDF (:mod:`graphguard.meeting.pdf`),
atomically.

The pack keeps the target list's rules exactly, by reusing it: young people appear
only as counts and keyed pseudonyms, no person's name is shown, and every text
passes :class:`graphguard.privacy.YoungPersonScrubber`.  With ``shareable=True`` the
target list withholds handling code C as it does on its own, and every other section
is computed on the picture without handling code C records, so nothing in the pack
rests on, cites or draws them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from graphguard.analysis.disruption import DisruptionAnalysis, disruption_impacts, entity_label
from graphguard.analysis.options import AnalysisOptions
from graphguard.meeting.actions import Action, actions_due, list_actions
from graphguard.meeting.changes import Picture as ChangesPicture
from graphguard.meeting.changes import as_of_graph, briefing_lines, picture
from graphguard.meeting.displacement import Displacement, displacements, latest_date
from graphguard.meeting.months import add_months
from graphguard.meeting.state import MeetingState
from graphguard.privacy import YoungPersonScrubber, pseudonym, withhold_handling_c
from graphguard.targets import TargetList, build_target_list

__all__ = [
    "Briefing",
    "ContextAssessment",
    "Picture",
    "build_briefing",
    "write_briefing",
]

#: Pictures drawn: one per top target, at most this many.
PICTURES = 4
#: The most entities a picture holds (the target's nearest first).
PICTURE_SIZE = 24
#: Context assessments: the top places of the target list, at most this many.
PLACES = 3

_WHAT_HAPPENS = {
    "FOUND_AT": "young people found there after going missing",
    "SEEN_AT": "sightings",
    "LIVES_AT": "people living there",
    "WORKS_AT": "people working there",
    "ATTENDS": "people attending",
    "PLACED_AT": "young people placed there",
}


@dataclass(frozen=True)
class ContextAssessment:
    """A top place as the meeting weighs it: who, when, what happens, what would change it."""

    id: str
    label: str
    adults: list[str]
    young_people: int
    young_people_pseudonyms: list[str]
    first_seen: str | None
    last_seen: str | None
    by_month: list[tuple[str, int]]
    happens: list[str]
    evidence: list[str]
    would_change: list[str]


@dataclass(frozen=True)
class Picture:
    """A network picture: positioned entities and the links between them."""

    title: str
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]


@dataclass
class Briefing:
    """Every section of a briefing pack, ready to render.  Every text is scrubbed."""

    as_of: dt.date
    since: dt.date
    source: str
    shareable: bool
    made_on: dt.date
    summary: list[tuple[str, str]]
    changes: list[str]
    alerts: list[dict[str, Any]]
    targets: TargetList
    actions: list[Action]
    overdue: list[Action]
    due: list[Action]
    contexts: list[ContextAssessment]
    displacement: list[Displacement]
    pictures: list[Picture] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"MACE briefing, {self.as_of.strftime('%B %Y')}"


def build_briefing(
    graph: nx.MultiDiGraph,
    state: MeetingState,
    *,
    key: bytes,
    as_of: dt.date | None = None,
    since: dt.date | None = None,
    top: int = 5,
    shareable: bool = False,
    half_life_days: float | None = None,
    source: str | None = None,
    made_on: dt.date | None = None,
) -> Briefing:
    """Gather the sections of the briefing pack of one picture.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        The whole graph (later links are left out here, as of ``as_of``).
    state : MeetingState
        Where the meeting's actions and alerts are kept.
    key : bytes
        The pseudonym key.
    as_of : date, optional
        The meeting's picture; the latest date in the data if None.
    since : date, optional
        The last meeting's picture, for what changed; a month before ``as_of`` if None.
    top : int, default 5
        How many targets the pack shows.
    shareable : bool, default False
        Withhold handling code C as a shareable target list does.
    half_life_days : float, optional
        The half-life of evidence; the settings' if None.
    source : str, optional
        Where the data came from, for the summary.
    made_on : date, optional
        The day the pack is made (today if None): actions due count from it.

    Returns
    -------
    Briefing
    """
    made_on = made_on or dt.date.today()
    as_of = as_of or latest_date(graph) or made_on
    since = since or add_months(as_of, -1)
    options = AnalysisOptions.from_settings(as_of=as_of, half_life_days=half_life_days)
    full = as_of_graph(graph, as_of)
    seen = withhold_handling_c(full) if shareable else full
    scrub = YoungPersonScrubber.from_graph(full, replace_id=lambda y: pseudonym(y, key))
    # One analysis of the meeting's picture serves the targets and "what changed".
    now = picture(seen, options)
    analysis = DisruptionAnalysis(
        now.exposure, now.hubs, now.contexts, disruption_impacts(seen, exposure=now.exposure)
    )
    # Every target, once: the pack shows the first ``top``, and the top places among them all.
    # A shareable list is scored on the shareable picture, never on withheld evidence.
    every = build_target_list(
        seen, key=key, shareable=shareable, options=options, analysis=analysis, source=source
    )
    targets = dataclasses.replace(every, rows=every.rows[:top])
    actions = [_scrubbed(action, scrub) for action in list_actions(state)]
    overdue, due = actions_due(actions, made_on)
    started = [a for a in actions if a.start <= as_of]
    moved = displacements(
        graph,
        [a for a in started if a.target_id in graph or a.target_id.startswith("business:")],
        key=key,
        end=as_of,
        options=options,
        shareable=shareable,
    )
    alerts = _alerts(state, full, shareable, scrub, known=_link_ids(graph))
    exposed = analysis.exposure.young_people
    summary = [
        ("Picture as of", as_of.isoformat()),
        ("What changed since", since.isoformat()),
        ("Source", scrub(source or "not recorded")),
        ("Handling", "shareable (handling code C withheld)" if shareable else "NOT FOR SHARING"),
        ("Young people exposed to adults of concern", str(len(exposed))),
        ("Total exposure", f"{analysis.exposure.total:.2f}"),
        ("Adults of concern", str(len(analysis.exposure.concern))),
        ("Targets in this pack", str(len(targets.rows))),
        ("Actions open", str(sum(a.is_open for a in actions))),
        ("Actions overdue for review / due", f"{len(overdue)} / {len(due)}"),
        ("New alerts", str(sum(a["state"] == "new" for a in alerts))),
    ]
    places = [r for r in every.rows if r["kind"] == "location" and r["target_id"] in seen][:PLACES]
    contexts = [
        _assess(seen, row, analysis.exposure.concern, actions, moved, key, scrub) for row in places
    ]
    pictures = [
        _picture(seen, row, analysis.exposure.concern, key, scrub)
        for row in targets.rows[:PICTURES]
        if row["target_id"] in seen
    ]
    return Briefing(
        as_of=as_of,
        since=since,
        source=scrub(source or "not recorded"),
        shareable=shareable,
        made_on=made_on,
        summary=summary,
        changes=_changes(graph, since, as_of, options, key, shareable, scrub, now),
        alerts=alerts,
        targets=targets,
        actions=actions,
        overdue=overdue,
        due=due,
        contexts=contexts,
        displacement=moved,
        pictures=pictures,
        notes=targets.notes,
    )


def _scrubbed(action: Action, scrub: Callable[[str], str]) -> Action:
    """An action with its texts scrubbed again (a young person may have joined the data)."""
    texts = ("target_label", "owner", "outcome", "notes")
    changes: dict[str, Any] = {
        name: scrub(getattr(action, name)) for name in texts if getattr(action, name)
    }
    return dataclasses.replace(action, **changes)


# ---------------------------------------------------------------------------- what changed


def _changes(
    graph: nx.MultiDiGraph,
    since: dt.date,
    as_of: dt.date,
    options: AnalysisOptions,
    key: bytes,
    shareable: bool,
    scrub: Callable[[str], str],
    now: ChangesPicture,
) -> list[str]:
    """The lines of "what changed", from :func:`graphguard.meeting.changes.briefing_lines`."""
    seen = withhold_handling_c(graph) if shareable else graph
    lines = briefing_lines(seen, since=since, as_of=as_of, options=options, key=key, after=now)
    return [scrub(line) for line in lines]


# ---------------------------------------------------------------------------- alerts


def _link_ids(graph: nx.MultiDiGraph) -> set[str]:
    return {str(d.get("link_id")) for _, _, d in graph.edges(data=True)}


def _alerts(
    state: MeetingState,
    graph: nx.MultiDiGraph,
    shareable: bool,
    scrub: Callable[[str], str],
    *,
    known: set[str] | None = None,
) -> list[dict[str, Any]]:
    """The alerts not yet closed, newest first, each with its evidence as references.

    In a shareable pack an alert resting on a record of handling code C is left out,
    and so is one resting on a record not in ``known`` (the links of the graph the
    pack is made from): a role's view that withheld a record withholds its alerts.
    """
    handling = {d.get("link_id"): d.get("handling") for _, _, d in graph.edges(data=True)}
    references = {d.get("link_id"): d.get("reference") for _, _, d in graph.edges(data=True)}
    shown = []
    for record in state.records("alert"):
        status = str(record.get("state", "new"))
        if status not in ("new", "acknowledged"):
            continue
        links = [str(link) for link in record.get("evidence") or []]
        if shareable and any(handling.get(link) == "C" for link in links):
            continue
        if known is not None and not known.issuperset(links):
            continue
        shown.append(
            {
                "rule": scrub(str(record.get("title") or record.get("rule") or "alert")),
                "state": status,
                "raised": str(record.get("raised_on") or record.get("raised_at") or "")[:10],
                "summary": scrub(str(record.get("explanation") or "")),
                "evidence": [scrub(str(references.get(link) or link)) for link in links][:6],
            }
        )
    return sorted(shown, key=lambda a: (a["state"] != "new", a["raised"]))


# ---------------------------------------------------------------------------- contexts


def _assess(
    graph: nx.MultiDiGraph,
    row: dict[str, Any],
    concern: dict[str, float],
    actions: list[Action],
    moved: list[Displacement],
    key: bytes,
    scrub: Callable[[str], str],
) -> ContextAssessment:
    place = str(row["target_id"])
    edges = [*graph.in_edges(place, data=True), *graph.out_edges(place, data=True)]
    adults: dict[str, int] = defaultdict(int)
    young: set[str] = set()
    happens: Counter[str] = Counter()
    months: Counter[str] = Counter()
    days: list[dt.date] = []
    evidence: dict[str, str] = {}
    for source, target, data in edges:
        other = source if target == place else target
        node = graph.nodes[other]
        kind = data.get("type", "")
        if node.get("role") == "young_person":
            young.add(other)
        elif node.get("role") == "adult" or node.get("kind") == "vehicle":
            adults[other] += 1
        what = _WHAT_HAPPENS.get(kind, kind.replace("_", " ").lower())
        if kind == "SEEN_AT" and other in concern:
            what = "sightings of adults of concern"
        elif kind == "SEEN_AT" and node.get("kind") == "vehicle":
            what = "vehicle sightings"
        elif kind == "SEEN_AT" and node.get("role") == "young_person":
            what = "young people seen there"
        happens[what] += int(data.get("count") or 1)
        for name in ("first_seen", "last_seen"):
            if data.get(name):
                days.append(data[name])
        day = data.get("last_seen") or data.get("first_seen")
        if day:
            months[day.strftime("%Y-%m")] += 1
        reference = data.get("reference") or data.get("link_id")
        grading = "/".join(
            str(data.get(k) or "-") for k in ("source_grade", "intel_grade", "handling")
        )
        evidence.setdefault(str(reference), f"{reference} ({grading}, {kind})")
    who = [
        f"{entity_label(graph, a)}{' - of concern' if a in concern else ''} ({n} link"
        f"{'s' if n != 1 else ''})"
        for a, n in sorted(adults.items(), key=lambda item: (-item[1], item[0]))
    ]
    change = [f"Disrupting it would cut total exposure by {row['impact']:.2f}."]
    change += [f"Suggested: {tactic}" for tactic in row["suggested_tactics"]]
    for action in actions:
        if action.target_id == place:
            change.append(
                f"Agreed: {action.id} {action.tactic_text.split(' (')[0]}, lead "
                f"{action.lead_agency}, {action.status}, review {action.review.isoformat()}"
            )
    change += [f"Since {d.action}: {d.finding}" for d in moved if d.target_id == place]
    return ContextAssessment(
        id=scrub(place),
        label=scrub(str(row["label"])),
        adults=[scrub(w) for w in who[:8]],
        young_people=len(young),
        young_people_pseudonyms=sorted(pseudonym(y, key) for y in young),
        first_seen=min(days).isoformat() if days else None,
        last_seen=max(days).isoformat() if days else None,
        by_month=sorted(months.items())[-6:],
        happens=[f"{what}: {n}" for what, n in happens.most_common()],
        evidence=[scrub(text) for text in list(evidence.values())[:8]],
        would_change=[scrub(text) for text in change],
    )


# ---------------------------------------------------------------------------- pictures


def _picture(
    graph: nx.MultiDiGraph,
    row: dict[str, Any],
    concern: dict[str, float],
    key: bytes,
    scrub: Callable[[str], str],
) -> Picture:
    """The target and what is nearest it, laid out with a seeded spring layout."""
    centre = str(row["target_id"])
    undirected = graph.to_undirected(as_view=True)  # a view: no copy of a big graph
    distance = nx.single_source_shortest_path_length(undirected, centre, cutoff=2)
    near = sorted(distance, key=lambda n: (distance[n], -undirected.degree(n), n))
    chosen = near[:PICTURE_SIZE]
    sub = nx.Graph(undirected.subgraph(chosen))  # one edge per pair, for the layout
    layout = nx.spring_layout(sub, seed=7) if len(sub) > 1 else {centre: (0.0, 0.0)}
    nodes = []
    for node in chosen:
        data = graph.nodes[node]
        if data.get("role") == "young_person":
            kind, label = "young_person", pseudonym(node, key)
        elif data.get("kind") == "person":
            kind = "adult_of_concern" if node in concern else "adult"
            label = node
        elif data.get("kind") == "vehicle":
            kind, label = "vehicle", str(data.get("registration") or node)
        else:
            kind, label = "location", f"{node} ({data.get('location_kind', 'place')})"
        x, y = layout[node]
        nodes.append(
            {
                "kind": kind,
                "label": scrub(label) if kind != "young_person" else label,
                "x": float(x),
                "y": float(y),
                "centre": node == centre,
            }
        )
    # Edges name their ends by position, so no young person's id is kept in the picture.
    position = {node: index for index, node in enumerate(chosen)}
    edges = [
        {
            "source": position[source],
            "target": position[target],
            "type": data.get("type", ""),
            "protective": bool(data.get("protective")),
        }
        for source, target, data in graph.edges(data=True)
        if source in position and target in position
    ]
    return Picture(
        title=scrub(f"{row['rank']}. {row['label']}"),
        nodes=nodes,
        edges=edges,
    )


# ---------------------------------------------------------------------------- writing


def write_briefing(pack: Briefing, path: str | Path) -> int:
    """Render the pack as a PDF and write it atomically to ``path``; returns its pages."""
    from graphguard.files import write_bytes
    from graphguard.meeting.pdf import render_briefing

    data, pages = render_briefing(pack)
    write_bytes(path, data)
    return pages
