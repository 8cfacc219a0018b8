"""What retention costs: reading a dataset with records held back, and the review itself.

Usage::

    python benchmarks/retention.py [--young-people 5000] [--seed 1] [--held 1000] [--repeat 3]

A synthetic town (:func:`graphguard.synth.write_town`, about ten links per young
person) is written to a temporary folder, and then, in this one process, each step is
timed ``--repeat`` times (the best kept):

``read``
    the baseline: ``read_dataset(path, held={})``, nothing held back;
``read held``
    ``read_dataset(path, held=H)`` with ``--held`` links and a fifth as many young
    people held back (so every young person's row is pseudonymised to be checked);
``review``
    ``review_records`` over the reading, with the default policy.

``x read`` is each step's time over the baseline's, from the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _best(repeat: int, step: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--young-people", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--held", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from graphguard.ingest import read_dataset
    from graphguard.privacy import pseudonym
    from graphguard.retention import load_policy, review_records
    from graphguard.retention.log import Deletion
    from graphguard.settings import pseudonym_key
    from graphguard.synth import write_town

    with tempfile.TemporaryDirectory() as folder:
        # A state home of this run's own: its pseudonym key, nobody's real one.
        os.environ["GRAPHGUARD_HOME"] = str(Path(folder) / "home")
        key = pseudonym_key()
        town = Path(folder) / "town"
        write_town(town, args.young_people, args.seed)
        first = read_dataset(town, held={})
        links = [link.link_id for link in first.dataset.links][: args.held]
        young = [p for p, x in first.dataset.people.items() if x.role.value == "young_person"]
        when = dt.datetime.now(dt.UTC).isoformat()

        def deletion(ref: str) -> Deletion:
            return Deletion(0, ref, "link", "bench", dt.date(2020, 1, 1), "b", "analyst", when, "r")

        held = {ref: deletion(ref) for ref in links}
        held |= {pseudonym(y, key): deletion(pseudonym(y, key)) for y in young[: args.held // 5]}

        policy = load_policy()
        baseline = _best(args.repeat, lambda: read_dataset(town, held={}))
        held_read = _best(args.repeat, lambda: read_dataset(town, held=held))
        review = _best(args.repeat, lambda: review_records(first, policy, key))
    rows = len(first.dataset.links) + len(first.dataset.people)
    print(
        f"town: {args.young_people} young people, {len(first.dataset.links)} links, "
        f"{len(held)} records held back"
    )
    print(f"{'step':<12}{'seconds':>10}{'x read':>9}")
    for name, seconds in (("read", baseline), ("read held", held_read), ("review", review)):
        print(f"{name:<12}{seconds:>10.3f}{seconds / baseline:>9.2f}")
    print(f"review: {rows / review:,.0f} records a second")


if __name__ == "__main__":
    main()
