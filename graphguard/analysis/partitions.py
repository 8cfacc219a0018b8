"""How far two groupings of the same people agree: normalised mutual information and adjusted Rand.

Used to measure peer groups against a synthetic town's planted groups
(``benchmarks/groups.py``, the tests) and available to compare, say, this month's
groups with last month's.  A grouping is a list of sets; anyone in ``people`` whom
no set holds counts as a group of their own, so a method that leaves a young person
out of every group is scored as having put them alone, not skipped.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Hashable, Iterable, Sequence

__all__ = ["adjusted_rand_index", "labels", "normalized_mutual_information", "pair_counts"]


def labels(groups: Iterable[Collection[Hashable]], people: Sequence[Hashable]) -> list[int]:
    """One label per person: the index of their group, or a fresh label when in none.

    Examples
    --------
    >>> labels([{"b", "c"}], ["a", "b", "c", "d"])
    [1, 0, 0, 2]
    """
    label: dict[Hashable, int] = {}
    for index, group in enumerate(groups):
        for person in group:
            if person in label:
                raise ValueError(f"{person!r} is in two groups")
            label[person] = index
    fresh = max(label.values(), default=-1) + 1
    out = []
    for person in people:
        if person not in label:
            label[person] = fresh
            fresh += 1
        out.append(label[person])
    return out


def _entropy(counts: Iterable[int], n: int) -> float:
    return -sum(c / n * math.log(c / n) for c in counts)


def normalized_mutual_information(first: Sequence[Hashable], second: Sequence[Hashable]) -> float:
    """Mutual information of two labellings over the mean of their entropies.

    The arithmetic-mean normalisation (Strehl and Ghosh 2002; scikit-learn's default):
    1 when the two partitions are the same, near 0 when independent.

    Examples
    --------
    >>> normalized_mutual_information([0, 0, 1, 1], [5, 5, 7, 7])
    1.0
    >>> round(normalized_mutual_information([0, 0, 1, 1], [0, 1, 0, 1]), 6)
    0.0
    """
    if len(first) != len(second):
        raise ValueError("the two labellings must cover the same people")
    n = len(first)
    if n == 0:
        return 1.0
    count_a, count_b = Counter(first), Counter(second)
    joint = Counter(zip(first, second, strict=True))
    mutual = sum(c / n * math.log(c * n / (count_a[a] * count_b[b])) for (a, b), c in joint.items())
    mean_entropy = (_entropy(count_a.values(), n) + _entropy(count_b.values(), n)) / 2
    return 1.0 if mean_entropy == 0 else max(0.0, mutual / mean_entropy)


def pair_counts(first: Sequence[Hashable], second: Sequence[Hashable]) -> tuple[int, int, int]:
    """Pairs of people with one label in ``first``, in ``second``, and in both.

    The counts behind :func:`adjusted_rand_index`, and behind pairwise precision
    and recall (:mod:`graphguard.resolution_quality`: pairs joined, pairs truly one,
    pairs both).

    Examples
    --------
    >>> pair_counts(["a", "a", "a", "b"], [1, 1, 2, 2])
    (3, 2, 1)
    """
    if len(first) != len(second):
        raise ValueError("the two labellings must cover the same people")

    def pairs(counts: Iterable[int]) -> int:
        return sum(c * (c - 1) // 2 for c in counts)

    together = pairs(Counter(zip(first, second, strict=True)).values())
    return pairs(Counter(first).values()), pairs(Counter(second).values()), together


def adjusted_rand_index(first: Sequence[Hashable], second: Sequence[Hashable]) -> float:
    """Agreement on pairs (together or apart), corrected for chance (Hubert and Arabie 1985).

    Examples
    --------
    >>> adjusted_rand_index([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    >>> round(adjusted_rand_index([0, 0, 1, 1], [0, 1, 0, 1]), 6)
    -0.5
    """
    in_a, in_b, together = pair_counts(first, second)
    total = len(first) * (len(first) - 1) / 2
    expected = in_a * in_b / total if total else 0.0
    most = (in_a + in_b) / 2
    return 1.0 if most == expected else (together - expected) / (most - expected)
