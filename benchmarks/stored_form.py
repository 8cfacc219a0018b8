"""What keeping identities out of Neo4j costs a load: the stored form against plain rows.

Every load computes the stored form of its dataset (``graphguard.store.stored``): young
people's pseudonyms, identifying properties taken out, every text of every element
scrubbed of every young person's identifying values, content hashes.  The baseline, in
the same run on the same town, is what a load computed before: each element's
attributes and content hash, without pseudonyms or scrubbing.  The ratio is the price
of the scrubbing; the load's Neo4j writes (``benchmarks/load.py``) cost far more.

Usage::

    python benchmarks/stored_form.py --young-people 1000,10000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from graphguard.ingest import Dataset, read_dataset
from graphguard.store.base import link_attributes, node_attributes
from graphguard.store.rows import entity_hash, entity_labels, link_hash, plain_values
from graphguard.store.stored import stored_form
from graphguard.synth import write_town

KEY = b"0123456789abcdef0123456789abcdef"


def plain_rows(dataset: Dataset) -> int:
    """The rows of a load without pseudonyms or scrubbing (the baseline); how many."""
    rows = 0
    for entity in dataset.entities():
        props = plain_values(node_attributes(entity))
        entity_hash(entity.id, ("Entity", *entity_labels(entity)), props)
        rows += 1
    for link in dataset.links:
        props = link_attributes(link)
        link_type = str(props.pop("type"))
        link_hash(link.link_id, link_type, link.source_id, link.target_id, props)
        rows += 1
    return rows


def best_of(runs: int, work: object) -> float:
    """The fastest of ``runs`` timings of ``work()`` (the least disturbed by the machine)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--young-people", default="1000,10000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="graphguard-bench-stored-") as folder:
        print(f"{'young people':>12} {'rows':>9} {'plain s':>8} {'stored s':>9} {'ratio':>6}")
        for size in [int(s) for s in args.young_people.split(",")]:
            town = Path(folder) / f"town-{size}"
            write_town(town, size, seed=1)
            dataset = read_dataset(town).dataset
            rows = plain_rows(dataset)
            plain = best_of(args.runs, lambda d=dataset: plain_rows(d))
            stored = best_of(args.runs, lambda d=dataset: stored_form(d, None, KEY))
            print(f"{size:>12,} {rows:>9,} {plain:>8.2f} {stored:>9.2f} {stored / plain:>6.1f}")


if __name__ == "__main__":
    main()
