"""The measure table of issue 17: every step at two town sizes, with same-run baselines.

Usage::

    python benchmarks/scale.py [--sizes 10000,100000] [--tmp DIR] [--seed 1]
                               [--baseline-commit 648b0e8] [--accuracy] [--json FILE]

For each size (young people; about ten links each, so the defaults give about 106k
and 1.06M links) a synthetic town is written into ``DIR/town-<size>-seed<seed>``, or
reused (the folders ``benchmarks/analyse.py`` uses).  Each step runs in a fresh
Python process, so none inherits another's memory, and reports wall time, CPU time
(the steadier figure on a shared machine) and the process's peak resident memory:

``validate``
    :func:`graphguard.ingest.read_dataset` without keeping the links, as
    ``graphguard validate`` reads.
``analyse``
    What ``graphguard analyse DATASET --out DIR`` does: read the dataset, build the
    graph, run every analysis, write the five files.
``analyse (previous)``
    The same, in the same run, by the previous release: a ``git worktree`` of
    ``--baseline-commit`` (the commit this work started from) imported in place of
    this tree.  ``x prev`` is this tree's time over that one.  Skipped with a note
    when git or the commit is not available.
``load first`` / ``load again``
    The store lane's ``measure_loads(folder)`` from ``benchmarks/load.py`` when it
    offers one (it needs a real Neo4j); otherwise these rows say they were skipped.
``dashboard cold``
    Not measured here: ``benchmarks/dashboard.py`` starts the dashboard in a browser,
    which is not cheap; the table says so.

The last column is the growth exponent between the two sizes, ``log(t2 / t1) /
log(links2 / links1)``: 1 is linear in the links.  ``--accuracy`` adds, on the
smallest town, the share of the exact top 100 by betweenness (igraph's exact Brandes,
minutes on a 10k town) that the sampled measures find — the figure
``summary.json`` quotes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = (10_000, 100_000)
#: The commit this work started from: "the previous release" of the table.
BASELINE_COMMIT = "648b0e8"


def _peak_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes vs KiB


def _measured(step: Any) -> dict[str, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    extra = step() or {}
    return {
        "seconds": time.perf_counter() - wall,
        "cpu_seconds": time.process_time() - cpu,
        "peak_mb": _peak_mb(),
        **extra,
    }


# --------------------------------------------------------------------------- children


def _validate(folder: Path) -> dict[str, Any]:
    from graphguard.ingest import read_dataset

    result = read_dataset(folder, collect_links=False)
    return {"links": result.files["links"].accepted}


def _analyse(folder: Path, out: Path) -> dict[str, Any]:
    import shutil

    from graphguard.analysis import AnalysisOptions, analyse, write_outputs
    from graphguard.store import MemoryStore

    shutil.rmtree(out, ignore_errors=True)
    graph = MemoryStore.from_path(folder).graph()
    result = analyse(graph, AnalysisOptions())
    write_outputs(result, out)
    return {
        "links": graph.number_of_edges(),
        "steps": {name: round(seconds, 2) for name, seconds in result.timings.items()},
        "measures": result.summary["methods"]["measures"],
    }


def _loads(folder: Path) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import load

    measure = getattr(load, "measure_loads", None)
    if measure is None:
        return {"skipped": "load rows skipped: benchmarks/load.py offers no measure_loads(folder)"}
    figures: dict[str, Any] = measure(folder)
    return figures


def _accuracy(folder: Path) -> dict[str, Any]:
    import igraph
    import numpy as np

    from graphguard.analysis.centrality import adjacency, shortest_path_measures
    from graphguard.analysis.measures import sample_count
    from graphguard.store import MemoryStore

    graph = MemoryStore.from_path(folder).graph()
    nodes = sorted(graph.nodes)
    arrays = adjacency(graph, nodes)
    n = arrays.n
    upper = arrays.rows < arrays.indices
    simple = igraph.Graph(
        n=n,
        edges=list(zip(arrays.rows[upper].tolist(), arrays.indices[upper].tolist(), strict=True)),
    )
    start = time.perf_counter()
    exact = np.array(simple.betweenness(directed=False))
    exact_seconds = time.perf_counter() - start
    samples = sample_count(len(arrays.indices), n)
    start = time.perf_counter()
    sampled = shortest_path_measures(arrays, sources=samples, seed=0)
    sampled_seconds = time.perf_counter() - start
    best = set(np.lexsort((np.arange(n), -exact))[:100].tolist())
    found = set(np.lexsort((np.arange(n), -sampled.betweenness))[:100].tolist())
    return {
        "entities": n,
        "samples": samples,
        "top100_agreement": len(best & found) / 100,
        "stability": sampled.stability,
        "exact_seconds": exact_seconds,
        "sampled_seconds": sampled_seconds,
    }


def _child(argv: list[str]) -> int:
    step, folder, out = argv[0], Path(argv[1]), Path(argv[2])
    if step == "validate":
        figures = _measured(lambda: _validate(folder))
    elif step == "analyse":
        figures = _measured(lambda: _analyse(folder, out))
    elif step == "loads":
        figures = _loads(folder)
    else:
        figures = _accuracy(folder)
    print(json.dumps(figures))
    return 0


def _run(step: str, folder: Path, out: Path, tree: Path = ROOT) -> dict[str, Any]:
    """One step in a fresh interpreter importing graphguard from ``tree``."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    done = subprocess.run(
        [sys.executable, __file__, "--child", step, str(folder), str(out)],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tree,
    )
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


# --------------------------------------------------------------------------- parent


def _town(root: Path, young_people: int, seed: int) -> Path:
    folder = root / f"town-{young_people}-seed{seed}"
    try:
        truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
        if truth["young_people"] == young_people and truth["seed"] == seed:
            return folder
    except (OSError, ValueError, KeyError):
        pass  # missing or half-written: write it again
    print(f"writing a town of {young_people:,} young people into {folder}", file=sys.stderr)
    subprocess.run(
        [sys.executable, "-m", "graphguard.cli", "synth", str(folder),
         "--young-people", str(young_people), "--seed", str(seed)],
        check=True, stdout=subprocess.DEVNULL, env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )  # fmt: skip
    return folder


def _previous_release(root: Path, commit: str) -> tuple[Path | None, str]:
    """A worktree of ``commit`` to import the previous release from, or why not."""
    tree = root / f"previous-{commit}"
    if (tree / "graphguard" / "__init__.py").exists():
        return tree, ""
    done = subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), commit],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        return None, f"previous release not measured: {done.stderr.strip().splitlines()[-1]}"
    return tree, ""


def _cell(figures: dict[str, Any] | None) -> str:
    if not figures or "seconds" not in figures:
        return "—"
    return (
        f"{figures['seconds']:.1f} s ({figures['cpu_seconds']:.1f} s CPU), "
        f"{figures['peak_mb']:.0f} MB"
    )


def _exponent(rows: list[dict[str, Any] | None], links: list[int]) -> str:
    if len(rows) < 2 or not all(r and "cpu_seconds" in r for r in rows) or links[0] == links[-1]:
        return ""
    first, last = rows[0], rows[-1]
    assert first is not None and last is not None
    if first["cpu_seconds"] <= 0:
        return ""
    ratio = math.log(last["cpu_seconds"] / first["cpu_seconds"])
    return f"{ratio / math.log(links[-1] / links[0]):.2f}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return _child(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES),
                        help="comma-separated town sizes in young people")  # fmt: skip
    parser.add_argument(
        "--tmp", type=Path, default=Path(tempfile.gettempdir()) / "graphguard-bench",
        help="where the towns are written and reused (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=1, help="the towns' seed")
    parser.add_argument("--baseline-commit", default=BASELINE_COMMIT,
                        help="the previous release to compare analyse with")  # fmt: skip
    parser.add_argument("--no-baseline", action="store_true", help="skip the previous release")
    parser.add_argument("--accuracy", action="store_true",
                        help="also rank sampled betweenness against exact")  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    try:
        sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    except ValueError:
        parser.error(f"--sizes must be comma-separated whole numbers, not {args.sizes!r}")
    args.tmp.mkdir(parents=True, exist_ok=True)
    previous, note = (None, "previous release not measured (--no-baseline)")
    if not args.no_baseline:
        previous, note = _previous_release(args.tmp, args.baseline_commit)
    notes = [note] if note else []
    figures: dict[str, list[dict[str, Any] | None]] = {}
    links: list[int] = []
    for young_people in sizes:
        folder = _town(args.tmp, young_people, args.seed)
        out = args.tmp / f"scale-{young_people}-seed{args.seed}"
        print(f"measuring {young_people:,} young people", file=sys.stderr)
        analysed = _run("analyse", folder, out)
        links.append(int(analysed["links"]))
        figures.setdefault("validate", []).append(_run("validate", folder, out))
        figures.setdefault("analyse", []).append(analysed)
        figures.setdefault("analyse (previous)", []).append(
            _run("analyse", folder, out.with_name(out.name + "-previous"), previous)
            if previous
            else None
        )
        loads = _run("loads", folder, out)
        figures.setdefault("load first", []).append(loads.get("first"))
        figures.setdefault("load again", []).append(loads.get("again"))
        if "skipped" in loads and loads["skipped"] not in notes:
            notes.append(loads["skipped"])
        done = {step: rows[-1] for step, rows in figures.items()}
        print(f"{young_people:,} young people: {json.dumps(done)}", file=sys.stderr, flush=True)
    header = ["step", *(f"{y:,} young people ({n:,} links)" for y, n in zip(sizes, links,
              strict=True)), "growth exponent (CPU)"]  # fmt: skip
    lines = [header]
    for step, rows in figures.items():
        lines.append([step, *(_cell(r) for r in rows), _exponent(rows, links)])
    lines.append(["dashboard cold", *("see benchmarks/dashboard.py" for _ in sizes), ""])
    ratios = []
    for now, before in zip(figures["analyse"], figures["analyse (previous)"], strict=True):
        ratios.append(
            f"{now['cpu_seconds'] / before['cpu_seconds']:.2f}x CPU, "
            f"{now['peak_mb'] / before['peak_mb']:.2f}x memory"
            if now and before
            else "—"
        )
    lines.append(["analyse / previous", *ratios, ""])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for i, line in enumerate(lines):
        print(" | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
        if i == 0:
            print("-|-".join("-" * width for width in widths))
    for size, row in zip(sizes, figures["analyse"], strict=True):
        if row:
            steps = ", ".join(f"{k} {v:.1f}" for k, v in row["steps"].items())
            print(f"analyse steps at {size:,} young people (s): {steps}")
    for remark in notes:
        print(f"note: {remark}")
    accuracy = None
    if args.accuracy:
        smallest = _town(args.tmp, sizes[0], args.seed)
        accuracy = _run("accuracy", smallest, args.tmp)
        print(
            f"betweenness on {sizes[0]:,} young people ({accuracy['entities']:,} entities): "
            f"{accuracy['samples']} sampled sources find {accuracy['top100_agreement']:.0%} of "
            f"the exact top 100 (halves agree {accuracy['stability']:.0%}); sampled "
            f"{accuracy['sampled_seconds']:.1f} s, exact {accuracy['exact_seconds']:.1f} s"
        )
    if args.json:
        args.json.write_text(
            json.dumps({"sizes": sizes, "links": links, "steps": figures,
                        "accuracy": accuracy}, indent=2) + "\n",
            encoding="utf-8",
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
