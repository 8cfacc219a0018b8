"""How much ranking every disruption target costs, against one exposure and the naive way.

Usage::

    python benchmarks/disruption.py [--sizes 1000,10000] [--tmp DIR] [--seed 1]
                                    [--sample 40] [--k 10] [--json FILE]

For each size (young people) a synthetic town is written with
:func:`graphguard.synth.write_town` into ``DIR/town-<size>-seed<seed>`` (about ten
links per young person: the default sizes give about 10k and 100k links), or reused
when that folder already holds it.  The dataset is read into a graph (not timed),
then, each timed alone:

``read``
    the graph read into the analysis' :class:`~graphguard.analysis.town.Town`
    (every link's evidence weight, presence at every context) — shared by every
    score, done once;
``hubs``
    the perpetrator-centred hubs, whose scores weight the adults of concern;
``exposure``
    one exposure computation on the read town: every route of up to three steps
    from every adult of concern enumerated, combined, and indexed;
``rank all``
    :func:`~graphguard.analysis.disruption.disruption_impacts` for every candidate
    target (adults of concern, locations, vehicles, businesses), incremental;
``plan``
    :func:`~graphguard.analysis.disruption.greedy_plan` of ``k`` targets, lazy;
``naive``
    the naive way, per candidate: recompute exposure from scratch with the candidate
    removed (``exposure_from_town(..., without=members)``, reusing the read town —
    generous to the naive way), on a seeded sample of candidates, extrapolated to all
    of them; ``naive+read`` also rebuilds the town per candidate (what calling
    :func:`~graphguard.analysis.disruption.exposure` per candidate costs), on a
    smaller sample.

The sampled naive falls are checked against the incremental ones.  Ratios printed:
``rank all / exposure`` (the brief: a small multiple), ``naive / rank all``, and the
naive greedy (``k`` steps of recomputing every candidate) over the lazy plan.  The
cyclic garbage collector is frozen after the town is read (``gc.freeze``), so no
measurement pays for scanning the million objects the read leaves behind.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DEFAULT_SIZES = (1000, 10_000)


def _town(tmp: Path, size: int, seed: int) -> Path:
    from graphguard.synth import read_truth, write_town

    folder = tmp / f"town-{size}-seed{seed}"
    try:
        truth = read_truth(folder)
        if truth.young_people == size and truth.seed == seed:
            return folder
    except (OSError, ValueError, TypeError, KeyError):
        pass
    write_town(folder, size, seed)
    return folder


def _timed(step: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    value = step()
    return value, time.perf_counter() - start


def measure(folder: Path, *, sample: int, k: int, seed: int) -> dict[str, Any]:
    from graphguard.analysis.disruption import (
        candidates,
        disruption_impacts,
        exposure,
        exposure_from_town,
        greedy_plan,
    )
    from graphguard.analysis.hubs import hubs_from_town
    from graphguard.analysis.town import Town
    from graphguard.store import MemoryStore

    graph = MemoryStore.from_path(folder).graph()
    gc.collect()
    town, read = _timed(lambda: Town(graph))
    gc.collect()
    gc.freeze()
    hubs, hub_seconds = _timed(lambda: hubs_from_town(town))
    ex, one = _timed(lambda: exposure_from_town(town, hubs=hubs))
    pool, candidate_seconds = _timed(lambda: candidates(graph, ex))
    impacts, rank_all = _timed(lambda: disruption_impacts(graph, exposure=ex, targets=pool))
    plan, plan_seconds = _timed(lambda: greedy_plan(graph, k, exposure=ex, targets=pool))

    rng = random.Random(seed)
    chosen = rng.sample(pool, min(sample, len(pool)))
    by_id = {impact.target.id: impact.impact for impact in impacts}
    naive_times = []
    worst = 0.0
    for target in chosen:
        again, seconds = _timed(
            lambda t=target: exposure_from_town(town, hubs=hubs, without=t.members)
        )
        naive_times.append(seconds)
        worst = max(worst, abs((ex.total - again.total) - by_id[target.id]))
    with_read = []
    for target in chosen[: max(1, min(3, len(chosen)))]:
        _, seconds = _timed(lambda t=target: exposure(graph, hubs=hubs, without=t.members))
        with_read.append(seconds)
    gc.unfreeze()
    per_candidate = statistics.fmean(naive_times)
    naive = per_candidate * len(pool)
    naive_with_read = statistics.fmean(with_read) * len(pool)
    naive_plan = naive * len(plan.steps)
    return {
        "young_people": int(folder.name.split("-")[1]),
        "links": graph.number_of_edges(),
        "adults_of_concern": len(ex.concern),
        "routes": len(ex.routes),
        "candidates": len(pool),
        "with_impact": sum(1 for i in impacts if i.impact > 0),
        "read_s": read,
        "hubs_s": hub_seconds,
        "exposure_s": one,
        "candidates_s": candidate_seconds,
        "rank_all_s": rank_all,
        "plan_s": plan_seconds,
        "plan_k": len(plan.steps),
        "plan_evaluations": plan.evaluations,
        "naive_sample": len(chosen),
        "naive_per_candidate_s": per_candidate,
        "naive_s": naive,
        "naive_with_read_s": naive_with_read,
        "naive_plan_s": naive_plan,
        "max_difference": worst,
        "rank_all_over_exposure": rank_all / one,
        "rank_all_over_exposure_and_read": rank_all / (one + read),
        "naive_over_rank_all": naive / rank_all,
        "naive_with_read_over_rank_all": naive_with_read / rank_all,
        "naive_plan_over_plan": naive_plan / plan_seconds if plan_seconds else float("inf"),
    }


def _print(results: list[dict[str, Any]]) -> None:
    print(f"python {platform.python_version()} on {platform.machine()} ({platform.system()})")
    header = (
        f"{'links':>8} {'routes':>7} {'cands':>6} {'read':>7} {'exposure':>9} {'rank all':>9} "
        f"{'plan':>7} {'naive':>9} {'naive+rd':>10} {'rank/exp':>9} {'naive/rank':>11} "
        f"{'nplan/plan':>11}"
    )
    print(header)
    for r in results:
        print(
            f"{r['links']:>8} {r['routes']:>7} {r['candidates']:>6} {r['read_s']:>6.2f}s "
            f"{r['exposure_s']:>8.3f}s {r['rank_all_s']:>8.3f}s {r['plan_s']:>6.3f}s "
            f"{r['naive_s']:>8.1f}s {r['naive_with_read_s']:>9.0f}s "
            f"{r['rank_all_over_exposure']:>8.1f}x {r['naive_over_rank_all']:>10.0f}x "
            f"{r['naive_plan_over_plan']:>10.0f}x"
        )
    for r in results:
        print(
            f"  {r['links']} links: {r['adults_of_concern']} adults of concern, "
            f"{r['with_impact']} of {r['candidates']} candidates with an impact; plan of "
            f"{r['plan_k']} took {r['plan_evaluations']} exact evaluations; naive sampled on "
            f"{r['naive_sample']} candidates ({r['naive_per_candidate_s'] * 1000:.1f} ms each), "
            f"largest difference from incremental {r['max_difference']:.1e}; rank all / "
            f"(read + exposure) {r['rank_all_over_exposure_and_read']:.2f}x"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES))
    parser.add_argument("--tmp", type=Path, default=None, help="Where the towns are kept.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample", type=int, default=40, help="Candidates timed the naive way.")
    parser.add_argument("--k", type=int, default=10, help="Targets in the greedy plan.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures here.")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    tmp = args.tmp or Path(tempfile.gettempdir()) / "graphguard-bench"
    tmp.mkdir(parents=True, exist_ok=True)
    results = []
    for size in sizes:
        folder = _town(tmp, size, args.seed)
        results.append(measure(folder, sample=args.sample, k=args.k, seed=args.seed))
    _print(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    ok = all(r["max_difference"] < 1e-9 for r in results)
    if not ok:
        print("incremental and naive impacts differ", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
