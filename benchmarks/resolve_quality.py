"""How well the resolver joins agency extracts, beside the naive rule in the same run.

Usage::

    python benchmarks/resolve_quality.py [--sizes 200,1000,3000] [--seed 1] [--demo]
                                         [--tmp DIR] [--json FILE]

For each size (young people) a synthetic town is written as the agencies would send
it (:func:`graphguard.synth_agencies.write_agencies`, the same as ``graphguard synth
OUT --agencies``) into ``DIR/agencies-<size>-seed<seed>``; ``--demo`` adds the bundled
``fixtures/demo-agencies``.  Each town is resolved by the resolver
(:func:`graphguard.resolve.match_records`) and by the naive rule "same name and date
of birth" (:func:`graphguard.resolve.naive_match`), and each resolution is measured
against the town's ``truth.csv`` (:func:`graphguard.resolution_quality.assess`):

- pairwise precision, recall and F1 for people, places and vehicles;
- young-person/adult record pairs joined (must be 0);
- planted twins, namesakes and father/son pairs joined (must be 0), and
  within-source duplicates joined (right, but only when the source says so);
- candidate pairs left for review;
- overlap of the top 10 hubs and contexts with those of the same records joined by
  the truth (1.0: the analysis finds the same people and places);
- seconds to resolve, and the resolver's time over the naive rule's (same run).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphguard.resolution_quality import FORBIDDEN_TRAPS, KINDS, Quality, assess  # noqa: E402
from graphguard.resolve import match_records, naive_match  # noqa: E402
from graphguard.synth_agencies import write_agencies  # noqa: E402

DEFAULT_SIZES = (200, 1000, 3000)


def _row(town: str, quality: Quality, naive_seconds: float) -> dict[str, Any]:
    records = sum(scores.records for scores in quality.scores.values())
    row: dict[str, Any] = {"town": town, "records": records, "method": quality.method}
    for kind in KINDS:
        scores = quality.scores[kind]
        row[kind] = {
            "precision": round(scores.precision, 4),
            "recall": round(scores.recall, 4),
            "f1": round(scores.f1, 4),
        }
    row["cross_role_joins"] = quality.cross_role_joins
    row["traps_joined"] = {t: f"{j.joined}/{j.groups}" for t, j in quality.traps.items()}
    row["review"] = quality.review
    row["hub_overlap"] = round(quality.hub_overlap, 3)
    row["context_overlap"] = round(quality.context_overlap, 3)
    row["seconds"] = round(quality.seconds, 3)
    row["x_naive"] = round(quality.seconds / naive_seconds, 1) if naive_seconds else None
    return row


def _print(row: dict[str, Any]) -> None:
    scores = "  ".join(
        f"{kind[:6]} P {row[kind]['precision']:.3f} R {row[kind]['recall']:.3f} "
        f"F1 {row[kind]['f1']:.3f}"
        for kind in KINDS
    )
    shown = (*FORBIDDEN_TRAPS, "within_source_duplicate")
    traps = " ".join(f"{t} {row['traps_joined'][t]}" for t in shown)
    print(
        f"{row['town']:>14} {row['records']:>7} {row['method']:>6}  {scores}  "
        f"yp/adult {row['cross_role_joins']}  {traps}  review {row['review']}  "
        f"hubs {row['hub_overlap']:.2f} contexts {row['context_overlap']:.2f}  "
        f"{row['seconds']:.2f}s (x{row['x_naive']} naive)",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--demo", action="store_true", help="also the bundled demo town")
    parser.add_argument("--tmp", type=Path, default=None, help="where towns are written")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="graphguard-quality-") as scratch:
        base = args.tmp or Path(scratch)
        towns: list[tuple[str, Path]] = []
        if args.demo:
            towns.append(("demo", ROOT / "fixtures" / "demo-agencies"))
        for size in sizes:
            folder = base / f"agencies-{size}-seed{args.seed}"
            write_agencies(folder, size, args.seed)
            towns.append((f"{size} yp", folder))
        for name, folder in towns:
            results = assess(folder, {"splink": match_records, "naive": naive_match})
            naive = next(q for q in results if q.method == "naive").seconds
            for quality in results:
                rows.append(_row(name, quality, naive))
                _print(rows[-1])
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
