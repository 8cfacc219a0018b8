"""What ``graphguard resolve`` writes: entities, candidate pairs and a summary.

The files hold record ids, entity ids and words only — never a name, a date of birth
or an identifier: agreements say *that* a field agreed, and a young person's name is
never quoted even in a nickname agreement.  With a pseudonym key, every young person's
record id becomes its keyed pseudonym (as in every other export), in the rules' words
too.  The three files are written as one set (:func:`graphguard.files.atomic_folder`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from graphguard.files import atomic_folder
from graphguard.resolve.rules import HELD
from graphguard.resolve.types import Finding, Outcome, Resolution

__all__ = ["OUTPUT_FILES", "summarise", "write_resolution", "render_summary"]

#: The files ``resolve`` writes, in order.
OUTPUT_FILES: tuple[str, ...] = ("entities.csv", "candidates.csv", "summary.json")

_CANDIDATE_COLUMNS = (
    "record_a",
    "record_b",
    "kind",
    "match_probability",
    "outcome",
    "agreements",
    "rule",
)
_RECORD_ID = re.compile(r"[A-Za-z0-9_.\-]+:[A-Za-z0-9_.:\-]+")


def _rule_name(rule: str) -> str:
    """The hard rule a held pair names, for counting: its words up to any bracket."""
    first = rule.removeprefix(HELD).split("; ")[0]
    if first.startswith("both records are from"):
        return "two records of one source"
    if first.startswith("cut to keep apart"):
        return "cut to keep decided or conflicting records apart"
    return first.split(" (")[0]


def _resolver_finding(finding: Finding) -> bool:
    """A finding of the resolver itself (not a disagreement between an entity's records)."""
    return not finding.entity_id or finding.attribute in (None, "same_as")


def summarise(resolution: Resolution) -> dict[str, Any]:
    """The counts of a resolution: records and entities per kind, outcomes, rules, settings."""
    kinds = ("person", "location", "vehicle")
    records = Counter(resolution.kind_of.values())
    entities = Counter(
        resolution.kind_of[r]
        for r in {e: r for r, e in sorted(resolution.entity_of.items(), reverse=True)}.values()
    )
    outcomes = {
        kind: {
            outcome.value: sum(
                1 for c in resolution.candidates if c.kind == kind and c.outcome is outcome
            )
            for outcome in Outcome
        }
        for kind in kinds
    }
    held = Counter(
        _rule_name(c.rule)
        for c in resolution.candidates
        if c.rule and c.rule.startswith(HELD) and c.outcome is Outcome.REVIEW
    )
    return {
        "records": {kind: records.get(kind, 0) for kind in kinds},
        "entities": {kind: entities.get(kind, 0) for kind in kinds},
        "candidates": outcomes,
        "held_for_review_by_rule": dict(sorted(held.items())),
        "decisions_applied": sum(1 for c in resolution.candidates if c.decision is not None),
        # Disagreements between an entity's records quote values (a name, an address):
        # only their number per attribute travels here; the resolver's own findings
        # (decisions and same_as that could not be applied) name record ids only.
        "disagreements": dict(
            sorted(
                Counter(
                    f.attribute
                    for f in resolution.findings
                    if f.entity_id and f.attribute and f.attribute != "same_as"
                ).items()
            )
        ),
        "findings": [f.message for f in resolution.findings if _resolver_finding(f)],
        "settings": resolution.settings,
    }


def render_summary(summary: Mapping[str, Any]) -> str:
    """The summary as lines of text for the terminal."""
    lines = []
    for kind in ("person", "location", "vehicle"):
        outcome = summary["candidates"][kind]
        lines.append(
            f"{kind}: {summary['records'][kind]} records → {summary['entities'][kind]} entities; "
            f"pairs joined {outcome['joined']}, for review {outcome['review']}, "
            f"apart {outcome['apart']}"
        )
    held = summary["held_for_review_by_rule"]
    if held:
        lines.append("held for review by a hard rule:")
        lines.extend(f"  {count} × {rule}" for rule, count in held.items())
    if summary["decisions_applied"]:
        lines.append(f"analysts' decisions applied: {summary['decisions_applied']}")
    disagreements = summary["disagreements"]
    if disagreements:
        shown = ", ".join(f"{n} on {attribute}" for attribute, n in disagreements.items())
        lines.append(f"entities whose records disagree: {shown}")
    for finding in summary["findings"]:
        lines.append(f"finding: {finding}")
    settings = summary["settings"]
    lines.append(
        f"method: {settings.get('method')}; join ≥ {settings.get('join_threshold')}, "
        f"review ≥ {settings.get('review_threshold')}; parameters: "
        + ", ".join(f"{k} {v}" for k, v in settings.get("parameters", {}).items())
    )
    return "\n".join(lines)


def _csv(rows: list[tuple[Any, ...]], header: tuple[str, ...]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write_resolution(
    resolution: Resolution,
    destination: str | Path,
    *,
    rename: Callable[[str], str] | None = None,
) -> list[Path]:
    """Write ``entities.csv``, ``candidates.csv`` and ``summary.json`` to ``destination``.

    Parameters
    ----------
    resolution : Resolution
        What :func:`graphguard.resolve.match_records` found.
    destination : path
        The folder; it gets the previous complete set or the new one, never half.
    rename : callable, optional
        Record id → what the files show for it (a young person's pseudonym); applied
        to record ids inside the rules' words as well.

    Returns
    -------
    list of Path
        The files written.
    """
    show = rename or (lambda record_id: record_id)

    def words(text: str | None) -> str:
        if not text:
            return ""
        return _RECORD_ID.sub(lambda m: show(m.group(0)), text)

    entities = sorted(
        (entity, resolution.kind_of[record], show(record))
        for record, entity in resolution.entity_of.items()
    )
    candidates = [
        (
            show(c.record_a),
            show(c.record_b),
            c.kind,
            f"{c.match_probability:.6f}",
            c.outcome.value,
            "; ".join(c.agreements),
            words(c.rule),
        )
        for c in resolution.candidates
    ]
    summary = summarise(resolution)
    summary["findings"] = [words(f) for f in summary["findings"]]
    texts = {
        "entities.csv": _csv(entities, ("entity_id", "kind", "record_id")),
        "candidates.csv": _csv(candidates, _CANDIDATE_COLUMNS),
        "summary.json": json.dumps(summary, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
    }
    destination = Path(destination)
    with atomic_folder(destination, OUTPUT_FILES) as staging:
        for name in OUTPUT_FILES:
            (staging / name).write_text(texts[name], encoding="utf-8", newline="")
    return [destination / name for name in OUTPUT_FILES]
