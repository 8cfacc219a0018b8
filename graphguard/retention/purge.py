"""Purge: delete what is past review and not kept, from everywhere graphguard keeps it.

:func:`plan_purge` reads a dataset and finds the records due (:mod:`.review`);
:func:`purge` deletes them, audited, in this order:

1. **The deletion log** (:mod:`.log`): one line per record (its id or pseudonym, kind,
   rule, review date, who, when, the audit run), in one transaction, *first*: if it
   cannot be written nothing is deleted.  From then on the dataset, read again, holds
   those records back (:func:`graphguard.ingest.read_dataset`), so every command,
   page and output made from it leaves them out, and a later extract that sends them
   again is held back too, until ``graphguard review restore``.
2. **Neo4j** (when ``NEO4J_URI`` is set): the links, the records (v2) or entities
   (v1); an entity that no record resolves to any more; then the dataset is loaded
   again so an entity that kept other records is rebuilt from those alone.
3. **The meeting state** (workspace database, or Neo4j): an alert citing a deleted
   link or naming a deleted entity loses those references and its explanation (which
   quoted them), and its history says why; an action whose target was deleted keeps
   its id and history but loses the target's label.  Both stay: they are the
   partnership's own record of what it did.
4. **The dashboard's cache**: every entry (they are rebuilt from the data on demand).
5. **Resolve outputs** graphguard wrote (found in the audit log): resolved again from
   their dataset, now without the records, or deleted when the dataset is gone.
6. **The identity store**: what it holds for the deleted records and entities
   (:func:`forget_identities`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphguard.ingest import IngestResult, read_dataset
from graphguard.retention.log import Deletion, keep_decisions, record_deletions
from graphguard.retention.policy import Policy, load_policy
from graphguard.retention.review import RecordReview, review_records
from graphguard.settings import Settings, get_settings, pseudonym_key

__all__ = [
    "PurgePlan",
    "PurgeReport",
    "forget_identities",
    "plan_purge",
    "plan_summary",
    "purge",
]

#: What an alert's explanation becomes when records it quoted are deleted.
WITHHELD = "[withheld: it cited records deleted under the retention policy; see the deletion log]"
#: What an action's target label becomes when its target is deleted.
DELETED_TARGET = "[deleted under the retention policy]"


@dataclass
class PurgePlan:
    """What a purge of one dataset would delete: the reading, the due records, the gone entities."""

    dataset: Path
    result: IngestResult
    policy: Policy
    due: list[RecordReview]
    #: Entity ids that no record would resolve to any more.
    gone_entities: set[str]
    today: dt.date

    @property
    def link_ids(self) -> set[str]:
        return {r.record_id for r in self.due if r.kind == "link"}

    @property
    def entity_records(self) -> set[str]:
        return {r.record_id for r in self.due if r.kind != "link"}


@dataclass
class PurgeReport:
    """What a purge did, place by place (counts and paths: never content)."""

    deletions: list[Deletion] = field(default_factory=list)
    neo4j: dict[str, int] | None = None
    alerts: int = 0
    actions: int = 0
    cache_entries: int = 0
    resolve_outputs: list[str] = field(default_factory=list)
    identities: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "deleted": len(self.deletions),
            "neo4j": self.neo4j,
            "alerts_rewritten": self.alerts,
            "actions_rewritten": self.actions,
            "cache_entries_removed": self.cache_entries,
            "resolve_outputs": self.resolve_outputs,
            "identities_forgotten": self.identities,
        }


def plan_purge(
    dataset: str | Path, *, today: dt.date | None = None, settings: Settings | None = None
) -> PurgePlan:
    """Read ``dataset`` and find what is past review and not kept on ``today``."""
    settings = settings or get_settings()
    today = today or dt.date.today()
    path = Path(dataset)
    result = read_dataset(path)
    policy = load_policy(settings)
    reviews = review_records(
        result, policy, pseudonym_key(settings), kept=keep_decisions(settings), today=today
    )
    due = [r for r in reviews if r.due(today)]
    return PurgePlan(path, result, policy, due, _gone_entities(result, due), today)


def _gone_entities(result: IngestResult, due: list[RecordReview]) -> set[str]:
    purged = {r.record_id for r in due if r.kind != "link"}
    resolution = result.dataset.resolution
    if resolution is None:  # v1: each entity is its own record
        return purged
    records_of: dict[str, set[str]] = defaultdict(set)
    for record, entity in resolution.entity_of.items():
        records_of[entity].add(record)
    return {entity for entity, records in records_of.items() if records <= purged}


def purge(plan: PurgePlan, *, settings: Settings | None = None) -> PurgeReport:
    """Delete what ``plan`` found due, from every place graphguard keeps it (see above).

    Raises
    ------
    AuditError
        When the purge cannot be audited: nothing is deleted.
    GraphguardError
        When the deletion log cannot be written: nothing is deleted.
    """
    from graphguard.audit import Event, audited

    settings = settings or get_settings()
    report = PurgeReport()
    if not plan.due:
        return report
    with audited(
        Event.RETENTION_PURGE,
        dataset=str(plan.dataset.resolve()),
        policy=plan.policy.origin,
        records=len(plan.due),
    ) as action:
        report.deletions = record_deletions(
            ((r.ref, r.kind, r.rule.name, r.review_on) for r in plan.due), action.run, settings
        )
        store = None
        if settings.neo4j_uri:
            from graphguard.store.open import open_neo4j

            store = open_neo4j(settings)
            report.neo4j = _purge_neo4j(store, plan)
        report.alerts, report.actions = _purge_meeting(store or plan.dataset, plan, settings)
        report.cache_entries = _purge_cache(settings)
        report.resolve_outputs = _purge_resolve_outputs(plan, settings)
        report.identities = forget_identities(
            [*(r.record_id for r in plan.due), *plan.gone_entities], settings
        )
        action.note(**{k: v for k, v in report.as_dict().items() if k != "resolve_outputs"})
    return report


def _purge_neo4j(store: Any, plan: PurgePlan) -> dict[str, int]:
    from graphguard.store import queries
    from graphguard.store.neo4j import LoadReport

    records = plan.result.records
    stored = _stored_ids(plan)
    by_type: dict[str, set[str]] = defaultdict(set)
    for link in records.links:
        if link.link_id in plan.link_ids:
            by_type[str(link.type)].add(stored(link.link_id))
    gone = sorted(stored(e) for e in plan.gone_entities)
    report = LoadReport()
    with store.reachable("purging"), store.lock("purge") as lock:
        store.delete_links(by_type, lock, report)
        if records.version == 2:
            purged = sorted(stored(r) for r in plan.entity_records)
            store.delete(queries.DELETE_RECORDS, purged, lock, report)
            store.delete(queries.DELETE_ORPHANS, gone, lock, report)
        else:
            store.delete(queries.DELETE_ENTITIES, gone, lock, report)
    # The dataset read again holds the deleted records back: an entity that kept other
    # records is rewritten from those alone.
    again = read_dataset(plan.dataset)
    store.load(again.dataset, records=again.records, purpose="purge")
    return {
        "relationships_deleted": report.counters.get("relationships_deleted", 0),
        "nodes_deleted": report.counters.get("nodes_deleted", 0),
    }


def _stored_ids(plan: PurgePlan) -> Callable[[str], str]:
    """graphguard's id of an entity, record or link → the id Neo4j holds it by.

    Neo4j holds a young person's entity and records by pseudonym
    (:func:`graphguard.store.stored.stored_form`), everything else by its own id.
    """
    from graphguard.store.stored import stored_form

    form = stored_form(plan.result.dataset, plan.result.records, pseudonym_key(get_settings()))
    return form.stored


def _purge_meeting(source: Any, plan: PurgePlan, settings: Settings) -> tuple[int, int]:
    from graphguard.access import current_identity
    from graphguard.meeting.state import MeetingState
    from graphguard.privacy import pseudonym

    state = MeetingState.open(source, settings=settings, notice=lambda _line: None)
    key = pseudonym_key(settings)
    links = plan.link_ids
    gone = plan.gone_entities
    gone_young = {pseudonym(e, key) for e in gone}
    when = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    who = current_identity().user
    alerts = 0
    for alert in state.records("alert"):
        cited = [i for i in (*alert.get("evidence", []), *alert.get("trigger", [])) if i in links]
        named = [i for i in (*alert.get("adults", []), *alert.get("contexts", [])) if i in gone]
        young = [y for y in alert.get("young_people", []) if y in gone_young]
        if not (cited or named or young):
            continue
        changed = dict(alert)
        for name, dropped in (
            ("evidence", links),
            ("trigger", links),
            ("adults", gone),
            ("contexts", gone),
            ("young_people", gone_young),
        ):
            changed[name] = [i for i in alert.get(name, []) if i not in dropped]
        changed["explanation"] = WITHHELD
        if changed.get("subject") in gone | gone_young:
            changed["subject"] = DELETED_TARGET
        changed["history"] = [
            *alert.get("history", []),
            {
                "from": alert.get("state"),
                "to": alert.get("state"),
                "by": who,
                "at": when,
                "reason": f"{len(set(cited)) + len(set(named)) + len(young)} record(s) it "
                "cited deleted under the retention policy",
            },
        ]
        state.put("alert", str(alert["key"]), changed)
        alerts += 1
    actions = 0
    for record in state.records("action"):
        if record.get("target_id") not in gone or record.get("target_label") == DELETED_TARGET:
            continue
        changed = dict(record)
        changed["target_label"] = DELETED_TARGET
        changed["history"] = [
            *record.get("history", []),
            {"at": when, "by": who, "changes": {"target_label": ["[withheld]", DELETED_TARGET]}},
        ]
        state.put("action", str(record["id"]), changed)
        actions += 1
    return alerts, actions


def _purge_cache(settings: Settings) -> int:
    from graphguard.viewcache import CACHE_FOLDER

    folder = settings.home / CACHE_FOLDER
    if not folder.is_dir():
        return 0
    removed = 0
    for entry in folder.iterdir():
        if entry.is_file() and not entry.is_symlink():
            entry.unlink(missing_ok=True)
            removed += 1
    return removed


def _purge_resolve_outputs(plan: PurgePlan, settings: Settings) -> list[str]:
    """Resolve outputs graphguard wrote that name a deleted record: resolved again, or removed."""
    from graphguard.audit import Event, read_audit
    from graphguard.resolve.outputs import OUTPUT_FILES

    wanted = {r.record_id for r in plan.due if r.kind != "link"}
    wanted |= {r.ref for r in plan.due if r.kind != "link"}
    done: list[str] = []
    seen: set[str] = set()
    for line in read_audit(settings.audit_path):
        if line.get("event") != str(Event.RESOLVE) or line.get("outcome") != "ok":
            continue
        out = str(line.get("out") or "")
        if not out or out in seen:
            continue
        seen.add(out)
        folder = Path(out)
        entities = folder / "entities.csv"
        if not entities.is_file() or not _names_any(entities, wanted):
            continue
        dataset = Path(str(line.get("dataset") or ""))
        if dataset.exists():
            _resolve_again(dataset, folder, bool(line.get("pseudonymised")), settings)
            done.append(f"{folder} (resolved again)")
        else:
            for name in OUTPUT_FILES:
                (folder / name).unlink(missing_ok=True)
            done.append(f"{folder} (removed: its dataset {dataset} is gone)")
    return done


def _names_any(entities: Path, wanted: set[str]) -> bool:
    import csv

    with entities.open(encoding="utf-8", newline="") as handle:
        return any(row.get("record_id") in wanted for row in csv.DictReader(handle))


def _resolve_again(dataset: Path, folder: Path, pseudonymised: bool, settings: Settings) -> None:
    from graphguard.privacy import pseudonym
    from graphguard.resolve import match_records
    from graphguard.resolve.outputs import write_resolution

    result = read_dataset(dataset, collect_links=False)
    records = result.records
    resolution = result.dataset.resolution or match_records(records)
    rename = None
    if pseudonymised:
        key = pseudonym_key(settings)
        young = {r for r, p in records.people.items() if p.role.value == "young_person"}

        def rename(record_id: str) -> str:
            return pseudonym(record_id, key) if record_id in young else record_id

    write_resolution(resolution, folder, rename=rename)


def forget_identities(keys: Iterable[str], settings: Settings | None = None) -> int:
    """Remove what the identity store holds for the deleted records and entities.

    The one hook between retention and the identity store
    (:meth:`graphguard.workspace.identity.IdentityStore.forget`, which takes record,
    entity and link ids): returns how many entries were forgotten.
    """
    from graphguard.workspace.identity import IdentityStore

    return IdentityStore.default(settings).forget(sorted(set(keys)))


def plan_summary(plan: PurgePlan) -> dict[str, Any]:
    """What a ``--dry-run`` says: the records, by kind and rule (refs, never content)."""
    by_rule: dict[str, int] = defaultdict(int)
    for review in plan.due:
        by_rule[review.rule.name] += 1
    return {
        "dataset": str(plan.dataset),
        "as_of": plan.today.isoformat(),
        "due": len(plan.due),
        "by_rule": dict(sorted(by_rule.items())),
        "entities_gone": len(plan.gone_entities),
        "records": [r.as_dict() for r in plan.due],
    }
