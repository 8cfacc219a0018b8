"""Subject access: everything graphguard holds about one person, as one folder.

``graphguard subject-access ENTITY [DATASET] --out DIR`` writes:

``records.json``
    Every record about the person with its provenance: in a v2 dataset each source
    record behind the entity (source, agency, extract date, every field), in v1 the
    person's row; and every link that names them (type, dates, agency, reference,
    grading, handling, notes).
``derived.json``
    Every score and explanation that used those records: the hub entry, contexts and
    peer groups naming them, their network measures, target-list entries, and the
    meeting's alerts and actions that name them.
``disclosures.json``
    Every audit line that disclosed them: lines whose ``subjects`` hold their key
    (young people by pseudonym), and older lines naming them in any field — which
    export, query or page view, when, by whom, in what role.
``summary.json`` and ``README.txt``
    What the pack holds, what was withheld and why, for the data-protection officer.

**Third parties are withheld**: every other young person is named only by their
pseudonym, and every other adult as ``[third party]``, in every field and free text
(:class:`graphguard.privacy.YoungPersonScrubber` finds names, aliases, dates of birth
and identifiers wherever they are written).  Free text (notes, references) is
scrubbed that way; the officer still reads it before release.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphguard.errors import UsageError
from graphguard.ingest import IngestResult
from graphguard.model import Role
from graphguard.retention.review import record_ref

__all__ = ["PACK_FILES", "SubjectPack", "build_pack", "pack_texts", "pack_zip", "write_pack"]

#: The files of a pack.
PACK_FILES: tuple[str, ...] = (
    "README.txt",
    "summary.json",
    "records.json",
    "derived.json",
    "disclosures.json",
)
#: What another adult becomes in a pack.
THIRD_PARTY = "[third party]"

# Audit fields about who acted and the chain, never about whom.
_AUDIT_OWN = frozenset(
    {"seq", "time", "user", "role", "via", "agency", "pid", "prev", "hash", "run"}
)


@dataclass
class SubjectPack:
    """A subject-access pack in memory: each file's JSON value."""

    subject: str
    kind: str
    summary: dict[str, Any]
    records: dict[str, Any]
    derived: dict[str, Any]
    disclosures: list[dict[str, Any]]


def _subject_entity(result: IngestResult, wanted: str, key: bytes) -> str:
    """The entity id ``wanted`` names: an entity id, a record id, or a young person's pseudonym."""
    from graphguard.privacy import pseudonym

    dataset = result.dataset
    if dataset.people.get(wanted) is not None:
        return wanted
    resolution = dataset.resolution
    if resolution is not None and wanted in resolution.entity_of:
        entity = resolution.entity_of[wanted]
        if entity in dataset.people:
            return entity
    for person_id, person in dataset.people.items():
        if person.role is Role.YOUNG_PERSON and pseudonym(person_id, key) == wanted:
            return person_id
    if resolution is not None:
        for record, entity in resolution.entity_of.items():
            if record_ref(record, True, key, qualified=True) == wanted and entity in dataset.people:
                return entity
    raise UsageError(
        f"{wanted!r} is not a person in {dataset.source}: give their entity id, a record "
        "id, or a young person's pseudonym"
    )


def _walk(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list | tuple):
        return [_walk(v, change) for v in value]
    if isinstance(value, dict):
        return {k: _walk(v, change) for k, v in value.items()}
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list | frozenset | set):
        return [_plain(v) for v in value]
    if hasattr(value, "value") and not isinstance(value, str | int | float | bool):
        return value.value
    return value


def _fields(record: Any) -> dict[str, Any]:
    out = {
        name: _plain(value)
        for name, value in record.model_dump(exclude={"extra"}).items()
        if value is not None
    }
    out.update(getattr(record, "extra", {}) or {})
    return out


def _mentions(value: Any, names: frozenset[str], pattern: re.Pattern[str]) -> bool:
    if isinstance(value, str):
        return value in names or bool(pattern.search(value))
    if isinstance(value, list | tuple):
        return any(_mentions(v, names, pattern) for v in value)
    if isinstance(value, dict):
        return any(_mentions(v, names, pattern) for v in value.values())
    return False


def build_pack(
    result: IngestResult,
    wanted: str,
    *,
    key: bytes,
    audit_lines: list[dict[str, Any]],
    meeting: dict[str, list[dict[str, Any]]] | None = None,
    options: Any = None,
) -> SubjectPack:
    """What graphguard holds about the person ``wanted`` names (see the module's notes).

    Parameters
    ----------
    result : IngestResult
        The dataset's reading (v2: its records are kept beside the entities).
    wanted : str
        An entity id, a record id or a young person's pseudonym.
    key : bytes
        The pseudonym key.
    audit_lines : list of dict
        The audit log (:func:`graphguard.audit.read_audit`).
    meeting : dict, optional
        ``{"alert": [...], "action": [...]}``: the meeting state's records.
    options : AnalysisOptions, optional
        The analysis options (from the settings by default).
    """
    from graphguard.analysis import AnalysisOptions, analyse
    from graphguard.privacy import YoungPersonScrubber, pseudonym
    from graphguard.store import MemoryStore
    from graphguard.targets import build_target_list

    entity = _subject_entity(result, wanted, key)
    dataset = result.dataset
    person = dataset.people[entity]
    young = person.role is Role.YOUNG_PERSON
    shown = pseudonym(entity, key) if young else entity
    resolution = dataset.resolution
    record_ids = sorted(
        r for r, e in (resolution.entity_of.items() if resolution else ()) if e == entity
    ) or [entity]
    qualified = result.records.version == 2
    names = frozenset(
        {
            entity,
            shown,
            *record_ids,
            *(record_ref(r, True, key, qualified=qualified) for r in record_ids),
        }
    )
    pattern = re.compile(
        r"(?<![\w:.-])(?:"
        + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        + r")(?![\w:.-])"
    )

    # Everyone else, in every record of the reading, is a third party.
    records = result.records
    young_ids = {p for p, x in dataset.people.items() if x.role is Role.YOUNG_PERSON}
    young_ids |= {r for r, x in records.people.items() if x.role is Role.YOUNG_PERSON}
    others: dict[str, dict[str, Any]] = {}
    for people in (dataset.people, records.people):
        for pid, other in people.items():
            if pid in names:
                continue
            others[pid] = {k: v for k, v in _fields(other).items()}

    def replace_id(pid: str) -> str:
        return pseudonym(pid, key) if pid in young_ids else THIRD_PARTY

    scrub = YoungPersonScrubber(others, replace_id=replace_id)

    def withheld(value: Any) -> Any:
        return _walk(value, lambda text: text if text in names else scrub(text))

    # Records: the records behind the entity, and every link naming one of them.
    behind: list[dict[str, Any]] = []
    for record_id in record_ids:
        record = records.people.get(record_id)
        if record is None:
            continue
        source = record_id.partition(":")[0] if records.version == 2 else None
        info = records.sources.get(source) if source else None
        behind.append(
            {
                "record_id": record_ref(record_id, young, key, qualified=records.version == 2),
                "source": source,
                "agency": None if info is None else info.agency,
                "extracted_on": None
                if info is None or info.extracted_on is None
                else info.extracted_on.isoformat(),
                "fields": _fields(record),
            }
        )
    if young and records.version != 2:
        for row in behind:
            row["record_id"] = shown
    links = []
    for link in records.links:
        if link.source_id not in names and link.target_id not in names:
            continue
        fields = _fields(link)
        for end in ("source_id", "target_id"):
            value = fields[end]
            fields[end] = (
                shown
                if value in names
                else replace_id(value)
                if value in young_ids or value in others
                else value
            )
        links.append(fields)
    record_part = {"person": behind, "links": withheld(links)}

    # Derived: the analysis of the whole reading, and what in it names the person.
    graph = MemoryStore(dataset).graph()
    options = options or AnalysisOptions.from_settings()
    analysis = analyse(graph, options)
    derived: dict[str, Any] = {
        "hub": next((h.as_dict() for h in analysis.hubs if h.id == entity), None),
        "contexts": [
            c.as_dict() for c in analysis.contexts if _mentions(c.as_dict(), names, pattern)
        ],
        "groups": [g.as_dict() for g in analysis.groups if entity in g.members],
        "measures": next((m.as_dict() for m in analysis.measures.rows if m.id == entity), None),
    }
    if not young:
        targets = build_target_list(graph, key=key, options=options)
        derived["targets"] = [
            row
            for row in targets.rows
            if row.get("target_id") == entity
            or _mentions(row.get("explanation", ""), names, pattern)
        ]
    else:
        derived["targets"] = []  # young people are never targets (DESIGN.md, principle 1)
    meeting = meeting or {}
    derived["alerts"] = [a for a in meeting.get("alert", []) if _mentions(a, names, pattern)]
    derived["actions"] = [a for a in meeting.get("action", []) if _mentions(a, names, pattern)]
    derived = withheld(_walk(derived, lambda t: shown if t == entity else t))

    disclosures = [
        {k: v for k, v in line.items() if k not in ("prev", "hash", "pid")}
        for line in audit_lines
        if line.get("outcome") != "started"
        and (
            any(s in names for s in line.get("subjects", []) or [])
            or _mentions({k: v for k, v in line.items() if k not in _AUDIT_OWN}, names, pattern)
        )
    ]
    disclosures = withheld(disclosures)
    summary: dict[str, Any] = {
        "subject": shown,
        "kind": "young person" if young else "adult",
        "dataset": str(dataset.source),
        "made_on": dt.date.today().isoformat(),
        "records": len(behind),
        "links": len(links),
        "derived": {
            k: (len(v) if isinstance(v, list) else int(v is not None)) for k, v in derived.items()
        },
        "disclosures": len(disclosures),
        "withheld": (
            "Every other young person is named by pseudonym and every other adult as "
            f"{THIRD_PARTY}, in every field and in free text."
        ),
    }
    return SubjectPack(shown, summary["kind"], summary, record_part, derived, disclosures)


_README = """Subject-access pack made by graphguard on {made_on}.

Subject: {subject} ({kind}); dataset: {dataset}.

records.json      every record about the subject, with its provenance, and every link
                  naming them ({records} records, {links} links)
derived.json      every score and explanation that used them: hub rank, contexts,
                  peer groups, network measures, target-list entries, alerts, actions
disclosures.json  every audit line that disclosed them ({disclosures}): what, when,
                  to whom, in what role

{withheld}
Read the free text (notes, references, explanations) before release: graphguard
withholds the names, aliases, dates of birth and identifiers it knows, not what a
writer may have described in other words.
"""


def pack_texts(pack: SubjectPack) -> dict[str, str]:
    """Each file of ``pack`` (:data:`PACK_FILES`) → its text, as the folder and the zip hold it."""
    values: dict[str, Any] = {
        "README.txt": _README.format(**pack.summary),
        "summary.json": pack.summary,
        "records.json": pack.records,
        "derived.json": pack.derived,
        "disclosures.json": pack.disclosures,
    }
    return {
        name: value
        if isinstance(value, str)
        else json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n"
        for name, value in values.items()
    }


def write_pack(pack: SubjectPack, destination: Path) -> list[Path]:
    """Write ``pack`` to ``destination`` as one folder, atomically (all files or none)."""
    from graphguard.files import atomic_folder

    with atomic_folder(destination, PACK_FILES) as staging:
        for name, text in pack_texts(pack).items():
            (staging / name).write_text(text, encoding="utf-8", newline="")
    return [destination / name for name in PACK_FILES]


def pack_zip(pack: SubjectPack) -> bytes:
    """``pack`` as one zip file of :data:`PACK_FILES` (the dashboard's download)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in pack_texts(pack).items():
            # A fixed time, so the same pack is the same bytes.
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()
