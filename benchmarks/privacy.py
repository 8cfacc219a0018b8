"""How fast young people's identifying values are scrubbed from text, against two baselines.

Usage::

    python benchmarks/privacy.py [--young-people 10000] [--seed 1] [--tmp DIR]
                                 [--naive-sample 300] [--json FILE]

A synthetic town of ``--young-people`` young people is written with
:func:`graphguard.synth.write_town` into ``DIR/town-<n>-seed<seed>`` (or reused) and
read into a graph (not timed).  Every young person is given, seeded, an alias, a phone
number and an NHS number besides the town's names and dates of birth, so the scrubber
looks for every kind of value.  The texts scrubbed are the town's own: every link's
reference and notes and every place's name, with one in fifty carrying a young
person's id, name or date of birth glued into it (as a hostile or careless sender
writes them).  Timed, each alone:

``build``
    :class:`graphguard.privacy.YoungPersonScrubber` from the graph: collecting every
    identifying value (dates of birth in all their written forms) and compiling the
    one trie-shaped pattern (the compile cache is cleared first);
``scrub``
    every text through the scrubber;
``naive``
    the same texts, on a seeded sample, through one plain alternation of every value,
    escaped, longest first, ignoring case (``re`` tries each alternative at each
    position), extrapolated to all texts;
``token``
    the previous whole-token scrubber (ids as whole tokens, names as whole runs of
    words), which misses ids glued into references: for speed only.

Times are CPU seconds of this process (``time.process_time``: every step is single-
threaded), so that other work on a shared machine does not inflate them.  Printed:
values, texts and megabytes, seconds, megabytes per second and microseconds
per text, and the ratios ``naive / scrub`` and ``scrub / token``; with the count of
planted values left in the scrubbed texts (it must be 0).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _town(tmp: Path, size: int, seed: int) -> Path:
    from graphguard.synth import write_town

    folder = tmp / f"town-{size}-seed{seed}"
    if not (folder / "links.csv").exists():
        print(f"writing a town of {size} young people into {folder} …", file=sys.stderr)
        write_town(folder, size, seed=seed)
    return folder


def _with_identities(graph: Any, seed: int) -> list[tuple[str, dict[str, Any]]]:
    """Each young person, given an alias, a phone and an NHS number (seeded)."""
    rng = random.Random(seed)
    young = []
    for node, data in graph.nodes(data=True):
        if data.get("role") != "young_person":
            continue
        data["aliases"] = f"{rng.choice(['Little', 'Big', 'Young', 'Lil'])} {node[-4:]}x"
        data["phone"] = f"+447700{rng.randrange(10**6):06d}"
        data["nhs_number"] = f"{rng.randrange(10**10):010d}"
        young.append((str(node), data))
    return young


def _texts(
    graph: Any, young: list[tuple[str, dict[str, Any]]], seed: int
) -> tuple[list[str], list[tuple[int, str]]]:
    """The town's references, notes and place names; one in fifty with a value glued in."""
    rng = random.Random(seed + 1)
    texts = [str(d[k]) for _, _, d in graph.edges(data=True) for k in ("reference", "notes")
             if d.get(k)]  # fmt: skip
    texts += [str(d["name"]) for _, d in graph.nodes(data=True)
              if d.get("kind") == "location" and d.get("name")]  # fmt: skip
    planted = []
    for index in range(0, len(texts), 50):
        person, data = rng.choice(young)
        value = rng.choice([person, str(data.get("name") or person), person.lower()])
        texts[index] = f"{texts[index]}-{value}x"
        planted.append((index, value))
    return texts, planted


def _naive(young: list[tuple[str, dict[str, Any]]]) -> re.Pattern[str]:
    from graphguard.privacy import identifying_values

    values = {v for person, data in young for v in identifying_values(person, data)}
    ordered = sorted(values, key=len, reverse=True)
    return re.compile("|".join(re.escape(v) for v in ordered), re.IGNORECASE)


class _TokenScrubber:
    """The previous scrubber: ids as whole tokens, names as whole runs of words."""

    _TOKEN = re.compile(r"[A-Za-z0-9_.:-]+")
    _WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")

    def __init__(self, young: list[tuple[str, dict[str, Any]]]) -> None:
        self.ids = {person for person, _ in young}
        self.names = {
            tuple(w.casefold() for w in self._WORD.findall(str(d.get("name") or "")))
            for _, d in young
        } - {()}
        self.longest = max((len(n) for n in self.names), default=0)

    def __call__(self, text: str) -> str:
        text = self._TOKEN.sub(lambda m: "[young person]" if m.group(0) in self.ids else m[0], text)
        words = list(self._WORD.finditer(text))
        spans, i = [], 0
        while i < len(words):
            for size in range(min(self.longest, len(words) - i), 0, -1):
                if tuple(w.group(0).casefold() for w in words[i : i + size]) in self.names:
                    spans.append((words[i].start(), words[i + size - 1].end()))
                    i += size
                    break
            else:
                i += 1
        for start, end in reversed(spans):
            text = text[:start] + "[young person]" + text[end:]
        return text


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--young-people", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tmp", type=Path, default=Path(tempfile.gettempdir()) / "gg-bench")
    parser.add_argument("--naive-sample", type=int, default=300)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    from graphguard import privacy
    from graphguard.privacy import YoungPersonScrubber, skeleton
    from graphguard.store.memory import MemoryStore

    graph = MemoryStore.from_path(_town(args.tmp, args.young_people, args.seed)).graph()
    young = _with_identities(graph, args.seed)
    texts, planted = _texts(graph, young, args.seed)
    megabytes = sum(len(t) for t in texts) / 1e6

    privacy._compiled.cache_clear()
    start = time.process_time()
    scrubber = YoungPersonScrubber.from_graph(graph)
    build = time.process_time() - start

    start = time.process_time()
    scrubbed = [scrubber(t) for t in texts]
    scrub = time.process_time() - start

    left = sum(skeleton(value) in skeleton(scrubbed[index]) for index, value in planted)

    naive_pattern = _naive(young)
    sample = random.Random(args.seed).sample(texts, min(args.naive_sample, len(texts)))
    start = time.process_time()
    for text in sample:
        naive_pattern.sub("[young person]", text)
    naive = (time.process_time() - start) * len(texts) / len(sample)

    token_scrubber = _TokenScrubber(young)
    start = time.process_time()
    for text in texts:
        token_scrubber(text)
    token = time.process_time() - start

    figures = {
        "python": platform.python_version(),
        "young_people": len(young),
        "values": len(scrubber),
        "texts": len(texts),
        "megabytes": round(megabytes, 3),
        "build_s": round(build, 3),
        "scrub_s": round(scrub, 3),
        "scrub_mb_per_s": round(megabytes / scrub, 2),
        "scrub_us_per_text": round(scrub / len(texts) * 1e6, 2),
        "naive_s_extrapolated": round(naive, 1),
        "token_s": round(token, 3),
        "naive_over_scrub": round(naive / scrub, 1),
        "scrub_over_token": round(scrub / token, 2),
        "planted_left": left,
    }
    print(
        f"{figures['young_people']} young people, {figures['values']} identifying values; "
        f"{figures['texts']} texts, {figures['megabytes']} MB\n"
        f"  build   {build:8.3f} s  (collect every value, compile one pattern)\n"
        f"  scrub   {scrub:8.3f} s  {figures['scrub_mb_per_s']} MB/s, "
        f"{figures['scrub_us_per_text']} µs a text\n"
        f"  naive   {naive:8.1f} s  (one plain alternation, extrapolated from "
        f"{len(sample)} texts)  naive / scrub = {figures['naive_over_scrub']}\n"
        f"  token   {token:8.3f} s  (the previous whole-token scrubber)  "
        f"scrub / token = {figures['scrub_over_token']}\n"
        f"  planted values left after scrubbing: {left}"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return figures


if __name__ == "__main__":
    main()
