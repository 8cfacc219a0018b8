"""Loader benchmark: graphguard's batched loader against a naive loader and LOAD CSV.

All three write the same graph model into the same real Neo4j, in one run, so the
figures can be compared as ratios on a noisy machine:

* **graphguard** — ``Neo4jStore.load``: ``UNWIND $rows … MERGE`` batches, one managed
  write transaction per batch, under the load lock (touched first in every batch) and
  after reading which relationship holds each link id (the one link-id namespace);
* **unlocked** — the same statements and batches without the lock and without that read:
  what serialising and the namespace cost;
* **naive** — one ``MERGE`` per row, one transaction per row, on a sample of links
  (rows per second extrapolates; running it on a million rows would take hours);
* **LOAD CSV** — Neo4j's own server-side ``LOAD CSV … CALL { … } IN TRANSACTIONS``
  on the same files, copied into the server's import folder.

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
from graphguard.store.neo4j import Neo4jStore, connect, entity_labels, entity_row, link_row
from graphguard.synth import write_town

NAIVE_SAMPLE = 2_000


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
    groups: dict[tuple[str, ...], list[Any]] = {}
    for entity in dataset.entities():
        groups.setdefault(entity_labels(entity), []).append(entity_row(entity))
    for labels, rows in groups.items():
        for i in range(0, len(rows), batch_size):
            write(queries.merge_entities(labels), rows[i : i + batch_size])
    by_type: dict[str, list[Any]] = {}
    for link in dataset.links:
        link_type, row = link_row(link)
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
    """Seconds and links of Neo4j's server-side LOAD CSV over the same files."""
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
            dataset = read_dataset(town).dataset
            n_links = len(dataset.links)

            store.clear()
            report = store.load(dataset)
            ours = n_links / report.seconds
            t0 = time.perf_counter()
            again = store.load(dataset)
            reload_s = time.perf_counter() - t0
            assert again.counters.get("relationships_created", 0) == 0

            store.clear()
            unlocked = n_links / unlocked_load(driver, dataset, args.batch_size)

            naive = naive_load(driver, dataset, NAIVE_SAMPLE)

            csv_rate = None
            if import_dir is not None:
                store.clear()
                seconds, loaded = load_csv(driver, town, import_dir)
                csv_rate = loaded / seconds
            rows.append((size, n_links, report.seconds, ours, reload_s, unlocked, naive, csv_rate))
    finally:
        driver.close()
        if local is not None and data_dir is not None:
            local.stop(data_dir)

    print(f"\nNeo4j loader benchmark (batch size {args.batch_size}); rates are links per second")
    print(
        f"{'young people':>12} {'links':>9} {'ours s':>8} {'ours/s':>9} {'reload s':>9} "
        f"{'unlocked/s':>10} {'naive/s':>8} {'LOAD CSV/s':>10} {'vs unlocked':>11} "
        f"{'vs naive':>9} {'vs LOAD CSV':>11}"
    )
    for size, n_links, seconds, ours, reload_s, unlocked, naive, csv_rate in rows:
        vs_csv = f"{ours / csv_rate:.2f}x" if csv_rate else "n/a"
        csv_text = f"{csv_rate:,.0f}" if csv_rate else "n/a"
        print(
            f"{size:>12,} {n_links:>9,} {seconds:>8.1f} {ours:>9,.0f} {reload_s:>9.1f} "
            f"{unlocked:>10,.0f} {naive:>8,.0f} {csv_text:>10} {ours / unlocked:>10.2f}x "
            f"{ours / naive:>8.0f}x {vs_csv:>11}"
        )


if __name__ == "__main__":
    main()
