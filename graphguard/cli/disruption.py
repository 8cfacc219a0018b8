"""Disruption commands: ``targets``, ``plan``, ``relocation`` and ``placement-check``.

A thin layer over :mod:`graphguard.targets` and :mod:`graphguard.analysis.disruption`:
each command reads DATASET (or Neo4j, when no DATASET is given and ``NEO4J_URI`` is
set), calls the library and writes a file or prints text or JSON.  Every export and
every view is audited by :mod:`graphguard.audit` before it is written or shown (if the
audit cannot be written, nothing is), naming young people only by pseudonym.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import networkx as nx

from graphguard.audit import Event, audited
from graphguard.cli.base import role_graph, sees_handling_c, warn_data_problems
from graphguard.cli.options import AS_OF, DATASET, FORCE, FORMAT, HALF_LIFE, PSEUDONYMISE
from graphguard.errors import UsageError
from graphguard.export import export_format
from graphguard.files import check_destination
from graphguard.privacy import YoungPersonScrubber, neutral_text, pseudonym

if TYPE_CHECKING:
    from graphguard.analysis.options import AnalysisOptions

__all__ = ["targets", "plan", "relocation", "placement_check"]


def _options(as_of: dt.date | None, half_life: float | None) -> AnalysisOptions:
    """The analysis options: the settings, overridden by --as-of and --half-life."""
    from graphguard.analysis.options import AnalysisOptions

    return AnalysisOptions.from_settings(as_of=as_of, half_life_days=half_life)


def _graph(dataset: Path | None, options: AnalysisOptions) -> tuple[nx.MultiDiGraph, str]:
    from graphguard.store.base import Filters
    from graphguard.store.open import open_store

    store = open_store(dataset)
    warn_data_problems(store)
    source = str(dataset) if dataset is not None else "neo4j"
    # --as-of is the picture as it stood then: later links are left out, not only weighed.
    return role_graph(store, Filters(as_of=options.as_of)), source


def _key() -> bytes:
    from graphguard.settings import pseudonym_key

    return pseudonym_key()


def _pseudonymised(data: dict[str, Any], graph: nx.MultiDiGraph, key: bytes) -> dict[str, Any]:
    """``data`` with young people's ids as pseudonyms and their other identifying values gone.

    An id anywhere in a text (alone, or inside a reference) becomes its pseudonym; a
    name, alias, date of birth or identifier becomes ``[young person]``.
    """
    scrubber = YoungPersonScrubber.from_graph(graph, replace_id=lambda y: pseudonym(y, key))
    scrubbed: dict[str, Any] = scrubber.scrub(data)
    return scrubbed


def _emit(
    data: dict[str, Any], output_format: str, render: Callable[[dict[str, Any]], str]
) -> None:
    # Neutral text: a place or reference from the data can't drive the terminal (an
    # escape sequence) or reorder the line (a right-to-left override).
    if output_format == "json":
        click.echo(neutral_text(json.dumps(data, indent=2, ensure_ascii=False)))
    else:
        click.echo(neutral_text(render(data)))


# --------------------------------------------------------------------------- targets


@click.command("targets")
@DATASET
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write: .csv, .xlsx (with an 'about' sheet) or .json.",
)
@FORCE
@click.option(
    "--top",
    type=click.IntRange(1, None),
    default=None,
    help="Keep the first N targets [default: every target with an impact].",
)
@click.option(
    "--shareable",
    is_flag=True,
    help="Withhold records with handling code C, and targets that rest only on them; "
    "scores are computed again without them.",
)
@AS_OF
@HALF_LIFE
def targets(
    dataset: Path | None,
    out: Path,
    force: bool,
    top: int | None,
    shareable: bool,
    as_of: dt.date | None,
    half_life: float | None,
) -> None:
    """Write the ranked disruption target list of DATASET (or of Neo4j) to --out.

    One row per adult of concern, location, vehicle or business, ranked by the fall
    in total exposure of all young people if it were disrupted, with the evidence
    (references and gradings), suggested tactics from the Home Office disruption
    toolkit and a plain-English explanation.  Young people are never targets: they
    appear only as a count and as keyed pseudonyms.
    """
    from graphguard.targets import build_target_list, write_target_list

    export_format(out)
    destination = check_destination(out, force=force)
    kind = export_format(destination)  # a link's target decides what is written
    options = _options(as_of, half_life)
    # A role that may not see handling code C never holds it: what it writes is shareable.
    shareable = shareable or not sees_handling_c()
    graph, source = _graph(dataset, options)
    target_list = build_target_list(
        graph, key=_key(), top=top, shareable=shareable, options=options, source=source
    )
    with audited(
        Event.EXPORT_TARGETS,
        path=str(destination),
        format=kind,
        rows=len(target_list.rows),
        shareable=shareable,
        as_of=target_list.as_of.isoformat(),
        source=source,
    ) as audit:
        write_target_list(target_list, destination)
        audit.note(subjects=target_list.subjects)
    handling = "shareable" if shareable else "includes handling code C: not for sharing as it is"
    count = len(target_list.rows)
    click.echo(
        f"Wrote {count} target{'s' if count != 1 else ''} to {out} ({handling}; "
        f"evidence as of {target_list.as_of.isoformat()})."
    )


# --------------------------------------------------------------------------- plan


@click.command("plan")
@DATASET
@click.option(
    "--k",
    "k",
    type=click.IntRange(1, 100),
    default=5,
    show_default=True,
    help="How many targets to disrupt together.",
)
@click.option(
    "--targets",
    "target_kinds",
    type=click.Choice(["all", "contexts", "adults"]),
    default="all",
    show_default=True,
    help="Which targets the plan may choose: contexts are places, vehicles and businesses.",
)
@AS_OF
@HALF_LIFE
@FORMAT
def plan(
    dataset: Path | None,
    k: int,
    target_kinds: str,
    as_of: dt.date | None,
    half_life: float | None,
    output_format: str,
) -> None:
    """The K targets whose disruption together most reduces exposure, chosen greedily.

    Each next target is the one adding most to the fall in total exposure, given
    those already chosen (Borgatti's key-player problem); --targets contexts plans
    only places, vehicles and businesses.  No young person is ever a target or named.
    """
    from graphguard.analysis.disruption import TARGET_KINDS, candidates, exposure, greedy_plan

    options = _options(as_of, half_life)
    graph, source = _graph(dataset, options)
    ex = exposure(graph, options=options)
    pool = candidates(graph, ex, kinds=TARGET_KINDS[target_kinds])
    result = greedy_plan(graph, k, exposure=ex, targets=pool)
    scrub = YoungPersonScrubber.from_graph(graph)  # a place or operator named after a child
    data = {
        "as_of": ex.as_of.isoformat(),
        "targets": target_kinds,
        "total_exposure": round(result.total_before, 4),
        "total_after": round(result.total_after, 4),
        "steps": [
            {
                "step": number,
                "target_id": scrub(step.target.id),
                "kind": step.target.kind,
                "label": scrub(step.target.label),
                "added_impact": round(step.added_impact, 4),
                "cumulative_impact": round(step.cumulative_impact, 4),
                "total_after": round(step.total_after, 4),
                "young_people_protected": len(step.young_people),
            }
            for number, step in enumerate(result.steps, start=1)
        ],
    }
    targets = [step.target.id for step in result.steps]
    _add_agreed_actions(data, dataset, targets, scrub)
    with audited(Event.PLAN, source=source, k=k, as_of=data["as_of"], targets=targets):
        _emit(data, output_format, _render_plan)


def _add_agreed_actions(
    data: dict[str, Any], dataset: Path | None, targets: list[str], scrub: YoungPersonScrubber
) -> None:
    """The meeting's agreed actions on each step's target, and the actions due for review."""
    from graphguard.meeting.actions import actions_due, list_actions
    from graphguard.meeting.state import MeetingState
    from graphguard.store.open import open_store

    store = open_store(None) if dataset is None else None
    try:
        agreed = list_actions(MeetingState.open(dataset if store is None else store))
    finally:
        if store is not None:
            store.driver.close()  # type: ignore[attr-defined]
    for step, target in zip(data["steps"], targets, strict=True):
        step["actions"] = [
            scrub(f"{a.id} {a.tactic_text.split(' (')[0]} ({a.status}, review {a.review})")
            for a in agreed
            if a.target_id == target
        ]
    overdue, due = actions_due(agreed, dt.date.today())
    data["actions_due"] = {"overdue": [a.id for a in overdue], "due": [a.id for a in due]}


def _render_plan(data: dict[str, Any]) -> str:
    among = {
        "all": "",
        "contexts": " among places, vehicles and businesses",
        "adults": " among adults",
    }
    lines = [
        f"Disruption plan{among[data['targets']]} (evidence as of {data['as_of']}): total "
        f"exposure {data['total_exposure']:.2f} -> {data['total_after']:.2f}"
    ]
    for step in data["steps"]:
        lines.append(
            f"  {step['step']}. {step['target_id']} ({step['kind']}) {step['label']}: "
            f"+{step['added_impact']:.2f} (cumulative {step['cumulative_impact']:.2f})"
        )
        lines.extend(f"       agreed: {action}" for action in step.get("actions", []))
    if not data["steps"]:
        lines.append("  No target would reduce exposure.")
    due = data.get("actions_due")
    if due and (due["overdue"] or due["due"]):
        overdue, soon = ", ".join(due["overdue"]) or "-", ", ".join(due["due"]) or "-"
        lines.append(
            f"Actions: {len(due['overdue'])} overdue for review ({overdue}), "
            f"{len(due['due'])} due ({soon}): see `graphguard actions list --due`"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- relocation


@click.command("relocation")
@click.argument("young_person_id")
@DATASET
@click.option(
    "--k",
    "k",
    type=click.IntRange(1, 20),
    default=3,
    show_default=True,
    help="How many adults or contexts each alternative disrupts.",
)
@AS_OF
@HALF_LIFE
@FORMAT
@PSEUDONYMISE
def relocation(
    young_person_id: str,
    dataset: Path | None,
    k: int,
    as_of: dt.date | None,
    half_life: float | None,
    output_format: str,
    pseudonymise: bool,
) -> None:
    """Moving YOUNG_PERSON_ID compared with disrupting what exposes them.

    Starts with a plain-language conclusion (what to do, and why), then shows their
    exposure now and if moved (a move cuts place-based and protective ties, not the
    contact adults keep up), the protective ties they have now that a move would cut
    (those an earlier move already ended are listed apart, not counted), the
    victim vacuum (other young people still exposed to the same adults and contexts,
    most likely to be drawn in next first), and the exposure removed by disrupting
    their adults and contexts instead.
    """
    from graphguard.analysis.disruption import relocation_comparison

    options = _options(as_of, half_life)
    graph, source = _graph(dataset, options)
    comparison = relocation_comparison(graph, young_person_id, options=options, k=k)
    key = _key()
    data = comparison.as_dict()
    if pseudonymise:
        data = _pseudonymised(data, graph, key)
    with audited(
        Event.RELOCATION,
        young_person=pseudonym(young_person_id, key),
        source=source,
        pseudonymised=pseudonymise,
    ):
        _emit(data, output_format, _render_relocation)


def _render_relocation(data: dict[str, Any]) -> str:
    now, moved = data["exposure_now"], data["exposure_if_moved"]
    placement = data.get("placement") or {}
    moved_before = placement.get("type") == "PLACED_AT"
    again, a_move = (" again", "another move") if moved_before else ("", "a move")
    lines = [
        f"Relocation compared with disruption for {data['young_person']} "
        f"(evidence as of {data['as_of']})",
        "",
        *data.get("conclusion", "").splitlines(),
        "",
        f"Their exposure now: {now:.2f}; if moved{again}: {moved:.2f}. A move removes "
        f"{data['relocation_total_fall']:.2f} of all young people's exposure.",
    ]
    if data["kept_after_move"]:
        lines.append("Adults still reaching them after a move (contact, intimate links, vehicles):")
        for kept in data["kept_after_move"]:
            lines.append(
                f"  {kept['adult']}: reach {kept['reach_now']:.2f} -> {kept['reach_if_moved']:.2f}"
                f" by {', '.join(kept['links'])}"
            )
    ties = data["protective_ties_cut"]
    lines.append(f"Protective ties they have now, which {a_move} would cut ({len(ties)}):")
    lines.extend(f"  {_tie_line(tie)}" for tie in ties)
    if not ties:
        lines.append("  none recorded")
    ended = data.get("protective_ties_already_cut") or []
    if ended:
        lines.append(f"Protective ties the earlier move already cut ({len(ended)}, not counted):")
        lines.extend(f"  {_tie_line(tie)}" for tie in ended)
    vacuum = data["victim_vacuum"]
    lines.append(
        "Victim vacuum: other young people still exposed to the same adults and contexts, "
        "most likely to be drawn in next first:"
    )
    for number, entry in enumerate(vacuum, start=1):
        via = ", ".join(entry["adults"] + entry["contexts"])
        lines.append(
            f"  {number}. {entry['young_person']}: likelihood {entry['likelihood']:.2f} "
            f"(shared exposure {entry['shared_exposure']:.2f}, vulnerability "
            f"{entry['vulnerability']:.2f}) via {via}"
        )
    if not vacuum:
        lines.append("  none")
    lines.append("Instead of moving them:")
    moving = data["relocation_total_fall"]
    for alternative in data["alternatives"]:
        targets = ", ".join(alternative["targets"]) or "nothing to disrupt"
        times = (
            f" ({alternative['total_fall'] / moving:.1f} times what moving them removes)"
            if moving > 0
            else ""
        )
        lines.append(
            f"  {alternative['name']} ({targets}): removes {alternative['total_fall']:.2f} "
            f"of all young people's exposure{times}; theirs falls to "
            f"{alternative['own_exposure_after']:.2f}; protects "
            f"{alternative['young_people_protected']} young people"
        )
    return "\n".join(lines)


def _tie_line(tie: dict[str, Any]) -> str:
    distance = tie.get("distance_m")
    away = f", {distance / 1000:.1f} km away" if distance is not None else ""
    reference = f"; {tie['reference']} ({tie['grading']})" if tie.get("reference") else ""
    return f"{tie['link_id']} {tie['type']} {tie['label']}{away}: {tie['reason']}{reference}"


# --------------------------------------------------------------------------- placement


@click.command("placement-check")
@DATASET
@click.option("--young-person", "young_person", metavar="ID", help="Check this young person.")
@click.option("--lat", "latitude", type=float, help="Latitude of a proposed address.")
@click.option("--lon", "longitude", type=float, help="Longitude of a proposed address.")
@click.option(
    "--radius",
    "radius",
    type=click.FloatRange(min=1.0),
    default=1000.0,
    show_default=True,
    help="How far to look, in metres.",
)
@AS_OF
@HALF_LIFE
@FORMAT
@PSEUDONYMISE
def placement_check(
    dataset: Path | None,
    young_person: str | None,
    latitude: float | None,
    longitude: float | None,
    radius: float,
    as_of: dt.date | None,
    half_life: float | None,
    output_format: str,
    pseudonymise: bool,
) -> None:
    """Contexts of concern near a placement (--young-person) or an address (--lat --lon).

    Lists the places within --radius metres where adults of concern are seen or
    through which young people's exposure runs, nearest first, and — for a young
    person — the protective ties the move cuts.  With --young-person alone, their
    current placement (or home) is checked; add --lat and --lon to check a proposed
    address for them.
    """
    from graphguard.analysis.disruption import placement_check as check_placement

    if young_person is None and (latitude is None or longitude is None):
        raise UsageError("give --young-person ID, or --lat and --lon (or all three)")
    options = _options(as_of, half_life)
    graph, source = _graph(dataset, options)
    check = check_placement(
        graph,
        young_person_id=young_person,
        latitude=latitude,
        longitude=longitude,
        radius_m=radius,
        options=options,
    )
    key = _key()
    data = check.as_dict()
    if pseudonymise:
        data = _pseudonymised(data, graph, key)
    with audited(
        Event.PLACEMENT_CHECK,
        young_person=pseudonym(young_person, key) if young_person else None,
        source=source,
        pseudonymised=pseudonymise,
    ):
        _emit(data, output_format, _render_placement)


def _render_placement(data: dict[str, Any]) -> str:
    who = f" for {data['young_person']}" if data["young_person"] else ""
    where = f"{data['latitude']:.5f}, {data['longitude']:.5f}"
    origin = "" if data["origin"] == "given" else f" ({data['origin']})"
    contexts = data["contexts_of_concern"]
    lines = [
        f"Placement check{who} at {where}{origin}, within {data['radius_m']:.0f} m "
        f"(evidence as of {data['as_of']})",
        "",
        f"Contexts of concern, nearest first ({len(contexts)}):",
    ]
    for context in contexts:
        adults = ", ".join(context["adults_of_concern"]) or "no adult of concern"
        lines.append(
            f"  {context['distance_m']:>6} m  {context['id']} {context['label']}: {adults}; "
            f"exposure through it {context['exposure_through']:.2f}; "
            f"{context['young_people_found_here']} found here after going missing"
        )
    if not contexts:
        lines.append("  none")
    if data["young_person"]:
        ties = data["protective_ties_cut"]
        lines.append(f"Protective ties the move cuts ({len(ties)}):")
        lines.extend(f"  {_tie_line(tie)}" for tie in ties)
        if not ties:
            lines.append("  none recorded")
    return "\n".join(lines)
