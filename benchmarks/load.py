"""Loader benchmark: graphguard's loader against a naive loader and LOAD CSV, first and again.

Everything writes the same graph model into the same real Neo4j, in one run, so the
figures can be compared as ratios on a noisy machine:

* **first load** — ``Neo4jStore.load`` into an empty database: content hashes computed,
  the (empty) hashes in Neo4j read, ``UNWIND $rows … CREATE`` batches, one managed write
  transaction per batch, under the load lock (touched first in every batch);
* **unchanged reload** — the same dataset again: the hashes read and compared, nothing
  written (the target: under 10% of the first load);
* **delta reload** — a "next month" of the town with about 5% of its links new, changed
  or removed (a third each), loaded with ``prune`` so the removed go too: only the delta
  is written;
* **unlocked** — the previous loader's statements (``MERGE``) and batches without the
  lock, without hashes and without reading what Neo4j holds;
* **naive** — one ``MERGE`` per row, one transaction per row, on a sample of links
  (rows per second extrapolates; running it on a million rows would take hours);
* **neo4j-admin import** — ``load --initial``: the import files written, the server
  stopped, ``neo4j-admin database import full`` run, the server started, the schema's
  constraints and indexes created and online (all of it timed), into an empty database;
* **LOAD CSV** — Neo4j's own server-side ``LOAD CSV … CALL { … } IN TRANSACTIONS``
  (``MERGE`` on the ids, as an idempotent load must) on the same files, copied into the
  server's import folder: into an empty database (against the first load), and the next
  month's files into a database holding this month (against the delta reload; LOAD CSV
  cannot tell what changed, so it merges every row, and it removes nothing).

Usage::

    python benchmarks/load.py --young-people 10000,100000 [--batch-size 5000]

It starts its own Neo4j (``graphguard.neo4j_local``) in a temporary folder unless
``GRAPHGUARD_TEST_NEO4J_URI`` and ``GRAPHGUARD_TEST_NEO4J_PASSWORD`` are set.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from graphguard.ingest import read_dataset
from graphguard.model import LinkType
from graphguard.store import queries
from graphguard.store.neo4j import Neo4jStore, connect
from graphguard.store.stored import stored_form
from graphguard.synth import write_town

NAIVE_SAMPLE = 2_000
#: The share of links a monthly delta touches: a third each new, changed and removed.
DELTA_SHARE = 0.05


def write_delta(town: Path, delta: Path, seed: int = 7) -> tuple[int, int, int]:
    """``delta``: ``town`` a month on, about DELTA_SHARE of its links new, changed, removed."""
    import csv
    import random

    delta.mkdir(parents=True, exist_ok=True)
    for name in ("people.csv", "locations.csv", "vehicles.csv"):
        shutil.copy(town / name, delta / name)
    rng = random.Random(seed)
    third = DELTA_SHARE / 3
    added = changed = removed = 0
    with (
        (town / "links.csv").open(encoding="utf-8", newline="") as source,
        (delta / "links.csv").open("w", encoding="utf-8", newline="") as out,
    ):
        reader = csv.DictReader(source)
        writer = csv.DictWriter(out, fieldnames=list(reader.fieldnames or ()))
        writer.writeheader()
        for row in reader:
            draw = rng.random()
            if draw < third:
                removed += 1
                continue
            if draw < 2 * third:
                row["count"] = str(int(row.get("count") or 1) + 1)
                changed += 1
            writer.writerow(row)
            if 2 * third <= draw < 3 * third:
                writer.writerow({**row, "link_id": f"{row['link_id']}-NEXT"})
                added += 1
    return added, changed, removed


def _server(workdir: Path) -> tuple[str, str, str, Path | None, Any]:
    uri = os.environ.get("GRAPHGUARD_TEST_NEO4J_URI")
    if uri:
        return uri, "neo4j", os.environ["GRAPHGUARD_TEST_NEO4J_PASSWORD"], None, None
    from graphguard import neo4j_local

    data_dir = workdir / "neo4j"
    info = neo4j_local.start(
        data_dir, port=neo4j_local.free_port(), heap="2g", allow_csv_import=True
    )
    return info.uri, info.username, info.password, data_dir, neo4j_local


def _import_dir(data_dir: Path | None) -> Path | None:
    if data_dir is None:
        return None
    for conf in data_dir.rglob("neo4j.conf"):
        for line in conf.read_text().splitlines():
            if line.startswith("server.directories.import="):
                return Path(line.split("=", 1)[1].strip())
    return None


def naive_load(driver: Any, dataset: Any, sample: int) -> float:
    """Rows per second of one MERGE and one transaction per link."""
    from graphguard.store.base import link_attributes

    links = dataset.links[:sample]
    start = time.perf_counter()
    with driver.session() as session:
        for link in links:
            props = link_attributes(link)
            rel = str(props.pop("type"))
            query = (
                "MATCH (s:Entity {id: $s}) MATCH (t:Entity {id: $t}) "
                f"MERGE (s)-[r:`{rel}` {{link_id: $id}}]->(t) SET r = $props"
            )
            session.execute_write(
                lambda tx, q=query, link=link, props=props: tx.run(
                    q, s=link.source_id, t=link.target_id, id=link.link_id, props=props
                ).consume()
            )
    return len(links) / (time.perf_counter() - start)


def unlocked_load(driver: Any, dataset: Any, batch_size: int) -> float:
    """Seconds of the loader's own batches with no lock, no fence and no link-id read."""

    def write(query: str, rows: list[Any]) -> None:
        with driver.session() as session:
            session.execute_write(lambda tx: tx.run(query, rows=rows).consume())

    start = time.perf_counter()
    form = stored_form(dataset, None, b"benchmark key")
    groups: dict[tuple[str, ...], list[Any]] = {}
    for entity_row in form.entities:
        groups.setdefault(entity_row["labels"], []).append(entity_row)
    for labels, rows in groups.items():
        for i in range(0, len(rows), batch_size):
            write(queries.merge_entities(labels), rows[i : i + batch_size])
    by_type: dict[str, list[Any]] = {}
    for link_type, row in form.links:
        by_type.setdefault(link_type, []).append(row)
    for link_type, rows in sorted(by_type.items()):
        for i in range(0, len(rows), batch_size):
            write(queries.merge_links(link_type), rows[i : i + batch_size])
    return time.perf_counter() - start


_LOAD_CSV_NODES = """
LOAD CSV WITH HEADERS FROM 'file:///{file}' AS row
CALL (row) {{
  MERGE (n:Entity {{id: row.{id}}})
  SET n += {{kind: '{kind}'}}, n:{label}
}} IN TRANSACTIONS OF 10000 ROWS
"""

_LOAD_CSV_LINKS = """
LOAD CSV WITH HEADERS FROM 'file:///links.csv' AS row
WITH row WHERE row.type = '{type}'
CALL (row) {{
  MATCH (s:Entity {{id: row.source_id}})
  MATCH (t:Entity {{id: row.target_id}})
  MERGE (s)-[r:{type} {{link_id: row.link_id}}]->(t)
  SET r.first_seen = date(row.first_seen), r.last_seen = date(row.last_seen),
      r.count = toInteger(row.count), r.agency = row.agency, r.reference = row.reference,
      r.source_grade = row.source_grade, r.intel_grade = row.intel_grade,
      r.handling = row.handling
}} IN TRANSACTIONS OF 10000 ROWS
"""


def load_csv(driver: Any, town: Path, import_dir: Path) -> tuple[float, int]:
    """Seconds and links (in the database after it) of Neo4j's server-side LOAD CSV."""
    import_dir.mkdir(parents=True, exist_ok=True)
    for name in ("people.csv", "locations.csv", "vehicles.csv", "links.csv"):
        shutil.copy(town / name, import_dir / name)
    start = time.perf_counter()
    with driver.session() as session:
        for file, id_column, kind, label in (
            ("people.csv", "person_id", "person", "Person"),
            ("locations.csv", "location_id", "location", "Location"),
            ("vehicles.csv", "vehicle_id", "vehicle", "Vehicle"),
        ):
            session.run(
                _LOAD_CSV_NODES.format(file=file, id=id_column, kind=kind, label=label)
            ).consume()
        for link_type in LinkType:
            session.run(_LOAD_CSV_LINKS.format(type=link_type.value)).consume()
        links = session.run("MATCH ()-[r]->() RETURN count(r) AS n").single()["n"]
    return time.perf_counter() - start, links


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--young-people",
        default="10000,100000",
        help="comma-separated town sizes (about ten links per young person)",
    )
    parser.add_argument("--batch-size", type=int, default=5_000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--skip-naive", action="store_true", help="leave out the naive and unlocked loaders"
    )
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="graphguard-bench-load-"))
    uri, user, password, data_dir, local = _server(workdir)
    driver = connect(uri, user, password)
    store = Neo4jStore(driver, batch_size=args.batch_size)
    import_dir = _import_dir(data_dir)
    rows = []
    try:
        for size in [int(s) for s in args.young_people.split(",")]:
            town = workdir / f"town-{size}"
            if not (town / "links.csv").exists():
                write_town(town, size, seed=1)
            month = workdir / f"town-{size}-next"
            added, changed, removed = write_delta(town, month)
            dataset = read_dataset(town).dataset
            next_month = read_dataset(month).dataset
            n_links = len(dataset.links)
            figures: dict[str, Any] = {"size": size, "links": n_links}
            figures["delta"] = f"+{added:,} ~{changed:,} -{removed:,}"

            store.clear()
            figures["first"] = store.load(dataset).seconds
            again = store.load(dataset)
            assert not again.changed_anything, again
            figures["reload"] = again.seconds
            delta = store.load(next_month, prune=True)
            assert (delta.links.added, delta.links.changed, delta.links.removed) == (
                added,
                changed,
                removed,
            ), delta.links
            figures["delta_s"] = delta.seconds

            if not args.skip_naive:
                store.clear()
                figures["unlocked"] = unlocked_load(driver, dataset, args.batch_size)
                figures["naive"] = naive_load(driver, dataset, NAIVE_SAMPLE)

            if import_dir is not None:
                store.clear()
                figures["csv"], _ = load_csv(driver, town, import_dir)
                figures["csv_delta"], _ = load_csv(driver, month, import_dir)
            if data_dir is not None:
                from graphguard.store.bulk import initial_load

                store.clear()
                imported = initial_load(store, dataset, uri=uri, data_dir=data_dir)
                assert imported.links.added == n_links
                figures["admin"] = imported.seconds
            rows.append(figures)
    finally:
        driver.close()
        if local is not None and data_dir is not None:
            local.stop(data_dir)

    print(f"\nNeo4j loader benchmark (batch size {args.batch_size}); seconds, and ratios")
    print("of the same run (a ratio below 1 means graphguard took less time)")
    header = (
        f"{'young people':>12} {'links':>9} {'delta (+new ~chg -gone)':>24} {'first s':>8} "
        f"{'reload s':>8} {'delta s':>8} {'CSV s':>7} {'CSV Δ s':>8} {'import s':>8} "
        f"{'reload/first':>12} {'delta/first':>11} {'first/CSV':>9} {'delta/CSV Δ':>11} "
        f"{'import/first':>12}"
    )
    print(header)
    nan = float("nan")
    for f in rows:
        csv_s, csv_d, admin = f.get("csv"), f.get("csv_delta"), f.get("admin")
        print(
            f"{f['size']:>12,} {f['links']:>9,} {f['delta']:>24} {f['first']:>8.1f} "
            f"{f['reload']:>8.1f} {f['delta_s']:>8.1f} "
            f"{csv_s if csv_s is not None else nan:>7.1f} "
            f"{csv_d if csv_d is not None else nan:>8.1f} "
            f"{admin if admin is not None else nan:>8.1f} "
            f"{f['reload'] / f['first']:>12.3f} {f['delta_s'] / f['first']:>11.3f} "
            f"{f['first'] / csv_s if csv_s else nan:>9.2f} "
            f"{f['delta_s'] / csv_d if csv_d else nan:>11.2f} "
            f"{admin / f['first'] if admin else nan:>12.2f}"
        )
    if not args.skip_naive:
        print("\nlinks per second: unlocked MERGE loader, and naive (one MERGE per transaction)")
        for f in rows:
            print(
                f"{f['size']:>12,} unlocked {f['links'] / f['unlocked']:>9,.0f}/s   "
                f"naive {f['naive']:>7,.0f}/s"
            )


if __name__ == "__main__":
    main()
