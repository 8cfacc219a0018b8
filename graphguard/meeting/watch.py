"""Watch rules: readable Cypher in ``cypher/alerts/``, run after every load and on demand.

Each rule is one ``.cypher`` file in the liaison library's format (a ``//`` header
naming it, its question, parameters and columns; ``docs/cypher.md``), returning one
row per alert with the columns ``subject, young_people, adults, contexts, trigger,
evidence``.  The rules take the same parameters: ``$adults_of_concern`` (the adults
the analysis finds of concern on ``as_of``: one definition, the hubs'), ``$since``
and ``$as_of`` (links first seen after ``since`` and on or before ``as_of`` are new).

**Two evaluations, one meaning.**  Against Neo4j the Cypher runs in the database;
for a dataset read from files (the embedded store) :data:`PYTHON_RULES` evaluates
each rule over the graph, with the same semantics, and the test suite proves both
give the same alerts on the demo.  A rule file without a Python twin is refused.

**Raised once.**  An alert's key is a hash of its rule and its *trigger* (the links
that make the event: the first new links of a pair, a find, a sighting), so running
the rules again — after the next load, over an overlapping window — never raises the
same alert twice; the evidence around it (``evidence``) may grow without re-raising.

**Kept durably, audited.**  Alerts live in the meeting state
(:class:`graphguard.meeting.state.MeetingState`: Neo4j when it is the store, else
the state home) with a state — ``new``, ``acknowledged``, ``dismissed`` (a reason
is required) or ``actioned`` — and their history.  Every raise and every change of
state is audited before it is kept.  Young people appear only as keyed pseudonyms.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from graphguard.errors import UsageError

if TYPE_CHECKING:
    from graphguard.analysis.options import AnalysisOptions
    from graphguard.cypher.library import QuerySpec
    from graphguard.meeting.state import MeetingState
    from graphguard.store.base import Store

__all__ = [
    "ALERT_KIND",
    "STATES",
    "WATCH_WINDOW_DAYS",
    "PYTHON_RULES",
    "Match",
    "WatchRun",
    "alert_key",
    "alerts",
    "change_state",
    "cypher_matches",
    "find_alert",
    "load_rules",
    "python_matches",
    "rules_dir",
    "run_watch",
]

#: The meeting-state kind alerts are kept under.
ALERT_KIND = "alert"

#: An alert's states, the first when it is raised.
STATES: tuple[str, ...] = ("new", "acknowledged", "dismissed", "actioned")

#: Without ``--since``, links first seen in this many days before ``as_of`` are new: a
#: month of meetings, with a day to spare.
WATCH_WINDOW_DAYS = 31

#: Links through which an adult reaches a young person directly (never family,
#: support or a link marked protective).
REACHING = frozenset({"ALLEGED_HARM", "CONTACTED", "ASSOCIATES_WITH", "PARTNER_OF"})

_UNDATED = dt.date.min


def rules_dir() -> Path:
    """The watch rules' folder: ``cypher/alerts`` (``GRAPHGUARD_CYPHER_DIR`` moves ``cypher/``)."""
    from graphguard.paths import cypher_dir

    return cypher_dir() / "alerts"


def load_rules(folder: Path | None = None) -> dict[str, QuerySpec]:
    """Every watch rule of ``folder`` (default :func:`rules_dir`), by name.

    Raises
    ------
    QueryFileError
        For a rule file that breaks the library format, or returns other columns.
    UsageError
        For a rule that has no Python evaluation (it could not run without Neo4j).
    """
    from graphguard.cypher.library import QueryFileError, load_library

    rules = load_library(folder or rules_dir())
    for name, spec in rules.items():
        if spec.returns != list(_COLUMNS):
            raise QueryFileError(f"{spec.path}: a watch rule returns {', '.join(_COLUMNS)}")
        if name not in PYTHON_RULES:
            raise UsageError(
                f"{spec.path}: watch rule {name!r} has no Python evaluation in "
                "graphguard.meeting.watch, so it could not run on a dataset"
            )
    return rules


_COLUMNS = ("subject", "young_people", "adults", "contexts", "trigger", "evidence")


@dataclass(frozen=True)
class Match:
    """One row of a watch rule: what it is about and the links behind it (all sorted)."""

    rule: str
    subject: str
    young_people: tuple[str, ...]
    adults: tuple[str, ...]
    contexts: tuple[str, ...]
    trigger: tuple[str, ...]
    evidence: tuple[str, ...]

    @classmethod
    def of(cls, rule: str, row: Mapping[str, Any]) -> Match:
        """A match from a rule's row (a Cypher record or a dict)."""
        return cls(
            rule=rule,
            subject=str(row["subject"]),
            young_people=tuple(sorted({str(v) for v in row["young_people"]})),
            adults=tuple(sorted({str(v) for v in row["adults"]})),
            contexts=tuple(str(v) for v in row["contexts"]),
            trigger=tuple(sorted({str(v) for v in row["trigger"]})),
            evidence=tuple(sorted({str(v) for v in row["evidence"]})),
        )

    @property
    def key(self) -> str:
        return alert_key(self.rule, self.trigger)


def alert_key(rule: str, trigger: Iterable[str]) -> str:
    """The alert's key: a short hash of the rule and its trigger links, in any order.

    >>> alert_key("r", ["L2", "L1"]) == alert_key("r", ["L1", "L2"]) != alert_key("s", ["L1"])
    True
    """
    text = "\0".join([rule, *sorted(trigger)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


# ------------------------------------------------------------------ Python evaluation


def _role(graph: nx.MultiDiGraph, node: str) -> str | None:
    data = graph.nodes[node]
    return str(data["role"]) if data.get("kind") == "person" and data.get("role") else None


def _new(data: Mapping[str, Any], since: dt.date, as_of: dt.date) -> bool:
    first = data.get("first_seen")
    return first is not None and since < first <= as_of


def _in_picture(data: Mapping[str, Any], as_of: dt.date) -> bool:
    first = data.get("first_seen")
    return first is None or first <= as_of


def _person_pairs(graph: nx.MultiDiGraph) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Every link between an adult and a young person, either way, by (adult, young person)."""
    pairs: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for source, target, data in graph.edges(data=True):
        roles = (_role(graph, source), _role(graph, target))
        if roles == ("adult", "young_person"):
            pairs[(source, target)].append(data)
        elif roles == ("young_person", "adult"):
            pairs[(target, source)].append(data)
    return pairs


def _reaching(data: Mapping[str, Any]) -> bool:
    return data["type"] in REACHING and not data.get("protective")


def _newly_linked(
    graph: nx.MultiDiGraph, concern: frozenset[str], since: dt.date, as_of: dt.date
) -> list[dict[str, Any]]:
    rows = []
    for (adult, young_person), links in _person_pairs(graph).items():
        if adult not in concern:
            continue
        new = [d for d in links if _reaching(d) and _new(d, since, as_of)]
        if not new:
            continue
        if any(d.get("first_seen") is None or d["first_seen"] <= since for d in links):
            continue
        first = min(d["first_seen"] for d in new)
        rows.append(
            {
                "subject": young_person,
                "young_people": [young_person],
                "adults": [adult],
                "contexts": [],
                "trigger": [d["link_id"] for d in new if d["first_seen"] == first],
                "evidence": [d["link_id"] for d in new],
            }
        )
    return rows


def _found_at_concern(
    graph: nx.MultiDiGraph, concern: frozenset[str], since: dt.date, as_of: dt.date
) -> list[dict[str, Any]]:
    rows = []
    for young_person, place, found in graph.edges(data=True):
        if found["type"] != "FOUND_AT" or not _new(found, since, as_of):
            continue
        if _role(graph, young_person) != "young_person":
            continue
        if graph.nodes[place].get("kind") != "location":
            continue
        presences = [
            (adult, data)
            for adult, _, data in graph.in_edges(place, data=True)
            if adult in concern
            and _role(graph, adult) == "adult"
            and not data.get("protective")
            and (data.get("first_seen") is None or data["first_seen"] <= found["first_seen"])
        ]
        if presences:
            rows.append(
                {
                    "subject": young_person,
                    "young_people": [young_person],
                    "adults": sorted({adult for adult, _ in presences}),
                    "contexts": [place],
                    "trigger": [found["link_id"]],
                    "evidence": [found["link_id"]] + [d["link_id"] for _, d in presences],
                }
            )
    return rows


def _vehicle_at_school(
    graph: nx.MultiDiGraph, concern: frozenset[str], since: dt.date, as_of: dt.date
) -> list[dict[str, Any]]:
    rows = []
    for vehicle, school, sighting in graph.edges(data=True):
        if sighting["type"] != "SEEN_AT" or not _new(sighting, since, as_of):
            continue
        if graph.nodes[vehicle].get("kind") != "vehicle":
            continue
        if graph.nodes[school].get("location_kind") != "school":
            continue
        driving = [
            (adult, data)
            for adult, _, data in graph.in_edges(vehicle, data=True)
            if data["type"] in ("DRIVES", "KEEPER_OF")
            and adult in concern
            and _role(graph, adult) == "adult"
            and not data.get("protective")
            and _in_picture(data, as_of)
        ]
        if driving:
            rows.append(
                {
                    "subject": vehicle,
                    "young_people": [],
                    "adults": sorted({adult for adult, _ in driving}),
                    "contexts": [vehicle, school],
                    "trigger": [sighting["link_id"]],
                    "evidence": [sighting["link_id"]] + [d["link_id"] for _, d in driving],
                }
            )
    return rows


def _newly_reaching_three(
    graph: nx.MultiDiGraph, concern: frozenset[str], since: dt.date, as_of: dt.date
) -> list[dict[str, Any]]:
    reached: dict[str, list[tuple[dt.date, str, list[dict[str, Any]]]]] = defaultdict(list)
    for (adult, young_person), links in _person_pairs(graph).items():
        if graph.nodes[adult].get("professional"):
            continue
        kept = [d for d in links if _reaching(d) and _in_picture(d, as_of)]
        if kept:
            first = min(d.get("first_seen") or _UNDATED for d in kept)
            reached[adult].append((first, young_person, kept))
    rows = []
    for adult, entries in reached.items():
        entries.sort(key=lambda entry: (entry[0], entry[1]))
        if len(entries) < 3 or sum(first <= since for first, _, _ in entries) >= 3:
            continue
        rows.append(
            {
                "subject": adult,
                "young_people": [young_person for _, young_person, _ in entries],
                "adults": [adult],
                "contexts": [],
                "trigger": [
                    d["link_id"]
                    for first, _, links in entries[:3]
                    for d in links
                    if (d.get("first_seen") or _UNDATED) == first
                ],
                "evidence": [d["link_id"] for _, _, links in entries for d in links],
            }
        )
    return rows


_Rule = Callable[[nx.MultiDiGraph, frozenset[str], dt.date, dt.date], list[dict[str, Any]]]

#: The Python evaluation of each rule of ``cypher/alerts/``, by the rule's name.
PYTHON_RULES: Mapping[str, _Rule] = {
    "young_person_newly_linked_to_adult_of_concern": _newly_linked,
    "young_person_found_at_context_of_concern": _found_at_concern,
    "vehicle_of_concern_at_school": _vehicle_at_school,
    "adult_newly_reaching_three": _newly_reaching_three,
}


def python_matches(
    graph: nx.MultiDiGraph,
    rules: Iterable[str],
    *,
    adults_of_concern: Iterable[str],
    since: dt.date,
    as_of: dt.date,
) -> list[Match]:
    """The watch rules evaluated over a graph (the embedded store's way).

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        graphguard's typed graph; links first seen after ``as_of`` are left out.
    rules : iterable of str
        Rule names (keys of :data:`PYTHON_RULES`).
    adults_of_concern : iterable of str
        The adults of concern on ``as_of``.
    since, as_of : date
        Links first seen after ``since`` and on or before ``as_of`` are new.
    """
    concern = frozenset(adults_of_concern)
    matches = []
    for rule in rules:
        for row in PYTHON_RULES[rule](graph, concern, since, as_of):
            matches.append(Match.of(rule, row))
    return sorted(matches, key=_match_order)


def cypher_matches(
    store: Any,
    rules: Mapping[str, QuerySpec],
    *,
    adults_of_concern: Iterable[str],
    since: dt.date,
    as_of: dt.date,
) -> list[Match]:
    """The watch rules run as Cypher in Neo4j (a :class:`~graphguard.store.neo4j.Neo4jStore`)."""
    concern = sorted(adults_of_concern)
    matches = []
    with store.reachable("running the watch rules"):
        # Neo4j knows young people (and links that named them) by pseudonyms; alerts
        # are kept, and compared with the Python rules', under graphguard's ids.
        ids = store.graphguard_ids()
        for name, spec in rules.items():
            params: dict[str, Any] = {"since": since, "as_of": as_of}
            if any(p.name == "adults_of_concern" for p in spec.params):
                params["adults_of_concern"] = concern
            for record in store.read(spec.text, **params):
                row = {
                    key: [ids.get(v, v) for v in value]
                    if isinstance(value, list)
                    else ids.get(value, value)
                    for key, value in dict(record).items()
                }
                matches.append(Match.of(name, row))
    return sorted(matches, key=_match_order)


def _match_order(match: Match) -> tuple[str, str, tuple[str, ...]]:
    return match.rule, match.subject, match.trigger


# ------------------------------------------------------------------ running and keeping


@dataclass
class WatchRun:
    """One run of the watch rules.

    Attributes
    ----------
    as_of, since : date
        The picture and the start of what counted as new.
    backend : str
        ``"cypher"`` (in Neo4j) or ``"python"`` (over a dataset).
    adults_of_concern : list of str
        The adults of concern the rules were given.
    matches : list of Match
        Every row the rules returned.
    raised : list of dict
        The alerts raised by this run (their keys were not kept before).
    already : int
        Matches whose alert was kept before (not raised again).
    """

    as_of: dt.date
    since: dt.date
    backend: str
    adults_of_concern: list[str]
    matches: list[Match] = field(default_factory=list)
    raised: list[dict[str, Any]] = field(default_factory=list)
    already: int = 0


def run_watch(
    store: Store,
    *,
    state: MeetingState | None = None,
    options: AnalysisOptions | None = None,
    since: dt.date | None = None,
    key: bytes | None = None,
    source: str = "",
) -> WatchRun:
    """Run every watch rule on a store and keep the alerts not raised before.

    Parameters
    ----------
    store : Store
        A ``Neo4jStore`` (rules run as Cypher) or any other store (Python evaluation).
    state : MeetingState, optional
        Where alerts are kept; without it nothing is kept (``raised`` then holds every
        alert the run would raise).
    options : AnalysisOptions, optional
        ``as_of`` (default the latest date in the data) and the half-life, as for every
        analysis: the adults of concern are the hubs' under these options.
    since : date, optional
        Links first seen after this day are new; :data:`WATCH_WINDOW_DAYS` before
        ``as_of`` by default.
    key : bytes, optional
        The pseudonym key (the settings' by default).
    source : str
        What the data is (a dataset path or ``neo4j``), for the audit.

    Raises
    ------
    UsageError
        When ``since`` is not before ``as_of``.
    AuditError
        When raising alerts cannot be audited: nothing is kept then.
    """
    from graphguard.analysis.evidence import default_as_of
    from graphguard.analysis.hubs import hubs_from_town
    from graphguard.analysis.options import AnalysisOptions
    from graphguard.audit import Event, audited
    from graphguard.store.base import Filters

    options = options or AnalysisOptions.from_settings()
    graph = store.graph(Filters(as_of=options.as_of))
    as_of = options.as_of or default_as_of(graph)
    since = since or as_of - dt.timedelta(days=WATCH_WINDOW_DAYS)
    if since >= as_of:
        raise UsageError(
            f"--since {since.isoformat()} must be before the picture's date {as_of.isoformat()}"
        )
    town = options.town(graph)
    concern = sorted(hub.id for hub in hubs_from_town(town) if hub.concern)
    rules = load_rules()
    if getattr(store, "backend", None) == "neo4j":
        backend = "cypher"
        matches = cypher_matches(store, rules, adults_of_concern=concern, since=since, as_of=as_of)
    else:
        backend = "python"
        matches = python_matches(graph, rules, adults_of_concern=concern, since=since, as_of=as_of)
    run = WatchRun(as_of, since, backend, concern, matches)
    pseudonymise = _pseudonymiser(key)
    titles = {name: spec.question for name, spec in rules.items()}
    fresh: dict[str, dict[str, Any]] = {}
    scrub: Callable[[str], str] | None = None
    for match in matches:
        if match.key in fresh or (state is not None and state.get(ALERT_KIND, match.key)):
            run.already += 1
            continue
        if scrub is None:
            from graphguard.privacy import YoungPersonScrubber

            # A place or reference named after a child must not name them in an alert.
            scrub = YoungPersonScrubber.from_graph(graph, replace_id=pseudonymise)
        fresh[match.key] = _alert(graph, match, titles[match.rule], as_of, pseudonymise, scrub)
    if state is None or not fresh:
        run.raised = list(fresh.values())
        return run
    with audited(
        Event.WATCH,
        source=source,
        as_of=as_of.isoformat(),
        since=since.isoformat(),
        alerts=sorted(fresh),
    ) as action:
        for alert_id, alert in fresh.items():
            if state.add(ALERT_KIND, alert_id, alert):
                run.raised.append(alert)
            else:
                run.already += 1  # another process raised it at the same moment
        action.note(raised=len(run.raised))
    return run


def _pseudonymiser(key: bytes | None) -> Callable[[str], str]:
    from graphguard.privacy import pseudonym

    if key is None:
        from graphguard.settings import pseudonym_key

        key = pseudonym_key()
    secret = key
    return lambda young_person: pseudonym(young_person, secret)


def _cite(graph: nx.MultiDiGraph, links: Sequence[str]) -> str:
    where = _link_index(graph)
    parts = []
    for link in links:
        data = where.get(link)
        if data is None:
            parts.append(link)
            continue
        first = data.get("first_seen")
        parts.append(f"{data['type']} {link}" + (f" {first.isoformat()}" if first else ""))
    return ", ".join(parts)


def _link_index(graph: nx.MultiDiGraph) -> dict[str, dict[str, Any]]:
    cached = graph.graph.get("_watch_links")
    if cached is None:
        cached = {d["link_id"]: d for _, _, d in graph.edges(data=True)}
        graph.graph["_watch_links"] = cached
    links: dict[str, dict[str, Any]] = cached
    return links


def _alert(
    graph: nx.MultiDiGraph,
    match: Match,
    title: str,
    as_of: dt.date,
    pseudonymise: Callable[[str], str],
    scrub: Callable[[str], str],
) -> dict[str, Any]:
    from graphguard.analysis.disruption.exposure import entity_label

    young = {y: pseudonymise(y) for y in match.young_people}
    subject = young.get(match.subject, match.subject)
    adults = ", ".join(match.adults)
    if match.rule == "young_person_newly_linked_to_adult_of_concern":
        text = (
            f"Young person {subject} newly linked to adult of concern {adults}: "
            f"{_cite(graph, match.evidence)}"
        )
    elif match.rule == "young_person_found_at_context_of_concern":
        place = entity_label(graph, match.contexts[0])
        others = [link for link in match.evidence if link not in match.trigger]
        text = (
            f"Young person {subject} found at {place} ({_cite(graph, match.trigger)}), "
            f"where adult(s) of concern {adults} were already linked ({_cite(graph, others)})"
        )
    elif match.rule == "vehicle_of_concern_at_school":
        vehicle, school = (entity_label(graph, c) for c in match.contexts[:2])
        others = [link for link in match.evidence if link not in match.trigger]
        text = (
            f"Vehicle {vehicle}, driven or kept by adult(s) of concern {adults} "
            f"({_cite(graph, others)}), seen at {school} ({_cite(graph, match.trigger)})"
        )
    elif match.rule == "adult_newly_reaching_three":
        text = (
            f"Adult {subject} now reaches {len(match.young_people)} young people; the third "
            f"was reached after the watch window began: {_cite(graph, match.trigger)}"
        )
    else:  # a rule added to PYTHON_RULES without its own wording
        text = f"{title} {subject}: {_cite(graph, match.trigger)}"
    return {
        "key": match.key,
        "rule": match.rule,
        "title": title,
        "subject": subject,
        "young_people": sorted(young.values()),
        "adults": list(match.adults),
        "contexts": list(match.contexts),
        "trigger": list(match.trigger),
        "evidence": list(match.evidence),
        "explanation": scrub(text) + ".",
        "raised_on": as_of.isoformat(),
        "raised_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "state": "new",
        "history": [],
    }


def alerts(state: MeetingState, *, states: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The kept alerts, newest picture first, optionally only those in ``states``."""
    wanted = set(states) if states is not None else None
    kept = [a for a in state.records(ALERT_KIND) if wanted is None or a["state"] in wanted]
    return sorted(kept, key=lambda a: (a["raised_on"], a["rule"], a["key"]), reverse=True)


def find_alert(state: MeetingState, key: str) -> dict[str, Any]:
    """The alert whose key is ``key`` or starts with it (at least 4 characters).

    Raises
    ------
    UsageError
        When no alert, or more than one, has that key.
    """
    key = key.strip().lower()
    exact = state.get(ALERT_KIND, key) if key else None
    if exact is not None:
        return exact
    found = [a for a in state.records(ALERT_KIND) if len(key) >= 4 and a["key"].startswith(key)]
    if len(found) == 1:
        return found[0]
    if found:
        raise UsageError(f"alert key {key!r} is ambiguous: {', '.join(a['key'] for a in found)}")
    raise UsageError(f"no alert {key!r} (`graphguard alerts list` shows the keys)")


def change_state(
    state: MeetingState,
    key: str,
    to: str,
    *,
    user: str,
    scrub: Callable[[str], str],
    reason: str | None = None,
    source: str = "",
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Move an alert to state ``to``, audited, and keep it; returns the alert.

    Parameters
    ----------
    state : MeetingState
    key : str
        The alert's key (or a unique prefix of at least 4 characters).
    to : str
        ``acknowledged``, ``dismissed`` or ``actioned``.
    user : str
        Who changes it (:func:`graphguard.audit.acting_user`).
    scrub : callable
        The picture's :class:`~graphguard.privacy.YoungPersonScrubber`: the reason is
        free text, kept and shown, so a young person it names is kept as a pseudonym,
        as an action's notes are.
    reason : str, optional
        Why; required to dismiss.  For ``actioned``, what was done (an action id).
    now : datetime, optional
        When (UTC now by default).

    Raises
    ------
    UsageError
        For an unknown state, dismissing without a reason, or an alert already in ``to``.
    AuditError
        When the change cannot be audited: it is not kept then.
    """
    from graphguard.audit import Event, audited

    if to not in STATES[1:]:
        raise UsageError(f"an alert can be {', '.join(STATES[1:])}, not {to!r}")
    reason = (reason or "").strip() or None
    if to == "dismissed" and reason is None:
        raise UsageError("dismissing an alert needs a reason (--reason)")
    reason = scrub(reason) if reason is not None else None
    alert = find_alert(state, key)
    if alert["state"] == to:
        raise UsageError(f"alert {alert['key']} is {to} already")
    when = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    changed = dict(alert)
    changed["history"] = [
        *alert.get("history", []),
        {"from": alert["state"], "to": to, "by": user, "at": when, "reason": reason},
    ]
    changed["state"] = to
    with audited(
        Event.ALERT_STATE,
        alert=alert["key"],
        rule=alert["rule"],
        state_from=alert["state"],
        state_to=to,
        # The reason is free text that may name a child: the audit keeps its hash, the
        # alert's history the words.
        reason_sha256=hashlib.sha256(reason.encode("utf-8")).hexdigest() if reason else None,
        source=source,
    ):
        state.put(ALERT_KIND, alert["key"], changed)
    return changed
