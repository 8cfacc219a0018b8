"""Score candidate pairs with Splink: Fellegi-Sunter linkage on an embedded DuckDB.

The one module that talks to the linkage library.  It takes the rows of
:mod:`graphguard.resolve.features` and the comparisons of
:mod:`graphguard.resolve.comparisons`, and gives back every blocked pair at or above
the candidate floor, with its match probability and each comparison's level.

Parameters come from the data when there is enough of it (``match_train_from``
records): the probability that two random records match from rules that admit almost
no false matches, u by random sampling (seeded) and m by expectation maximisation
(seeded sampling of the blocked pairs).  Below that, the documented priors of the
comparisons are used as they are, with the prior that a record has on average one
other record of the same entity (``1 / (n - 1)``, at most ``1 / 10``).  Either way the run is
deterministic: the table is sorted, training runs on one DuckDB thread, probabilities
are rounded to six decimals.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from graphguard.resolve.comparisons import Comparison

__all__ = ["ScoredPair", "Scoring", "score_pairs"]

#: Decimals a probability is rounded to, so that the last bits of floating-point
#: sums (which depend on thread scheduling) never reach the output.
DECIMALS = 6
#: Random pairs sampled to estimate u, and blocked pairs sampled for each
#: expectation-maximisation pass.
U_PAIRS = 2e6
EM_PAIRS = 1e6


@dataclass(frozen=True)
class ScoredPair:
    """One blocked pair: the two record ids (in order), its probability and its levels."""

    record_a: str
    record_b: str
    match_probability: float
    #: comparison column → Splink's level number (-1: not recorded on one side).
    levels: dict[str, int]


@dataclass(frozen=True)
class Scoring:
    """How the pairs of one kind were scored."""

    pairs: list[ScoredPair]
    #: The prior probability that two records chosen at random are one entity.
    probability_two_random_records_match: float
    #: True when u and m were estimated from the data, False when the priors were used.
    trained: bool


def _arrow_type(column: str) -> Any:
    import pyarrow as pa

    if column in ("first_forms", "names_known", "aliases"):
        return pa.list_(pa.string())
    if column in ("birth_year", "birth_month", "birth_day"):
        return pa.int32()
    if column in ("latitude", "longitude"):
        return pa.float64()
    return pa.string()


def _table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> Any:
    import pyarrow as pa

    schema = pa.schema([(c, _arrow_type(c)) for c in columns])
    return pa.table({c: [row[c] for row in rows] for c in columns}, schema=schema)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Splink's progress and advice go to its logger; a command's output is ours alone."""
    logger = logging.getLogger("splink")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _rule(columns: Sequence[str]) -> Any:
    from splink import block_on

    return block_on(*columns)


def score_pairs(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    comparisons: Sequence[Comparison],
    *,
    blocking: Sequence[Sequence[str]],
    training_blocks: Sequence[Sequence[str]],
    certain: Sequence[Sequence[str]],
    floor: float,
    train_from: int,
    seed: int,
) -> Scoring:
    """Score every pair of ``rows`` that a blocking rule admits.

    Parameters
    ----------
    rows : sequence of dict
        One row per record, sorted by ``unique_id``.
    columns : sequence of str
        The columns of a row, in order.
    comparisons : sequence of Comparison
        What is compared, with the priors.
    blocking : sequence of column tuples
        A pair is scored when it agrees on every column of at least one rule.
    training_blocks, certain : sequence of column tuples
        The blocking rules of the expectation-maximisation passes, and the rules that
        admit almost no false matches (to estimate how many pairs match).
    floor : float
        Pairs below this probability are left out.
    train_from : int
        From this many rows, estimate the parameters from the data.
    seed : int
        Seed of the random sampling.

    Returns
    -------
    Scoring
        The pairs, sorted by record ids.
    """
    n = len(rows)
    # On average one other record of the same entity; never above one in ten, so a
    # handful of records is not taken for a handful of matches.
    prior = 1.0 / max(n - 1, 10)
    if n < 2:
        return Scoring([], prior, trained=False)

    import duckdb
    from splink import DuckDBAPI, Linker, SettingsCreator
    from splink.comparison_library import CustomComparison

    connection = duckdb.connect(":memory:")
    db_api = DuckDBAPI(connection)
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[CustomComparison(**c.splink()) for c in comparisons],
        blocking_rules_to_generate_predictions=[_rule(b) for b in blocking],
        probability_two_random_records_match=prior,
        retain_matching_columns=True,  # keeps the gamma (level) columns
        retain_intermediate_calculation_columns=False,
    )
    trained = n >= train_from
    with _quiet():
        frame = db_api.register(_table(rows, columns))
        linker = Linker(frame, settings, log_level=None)
        prior = _match_rate(linker, certain, prior)
        if trained:
            _estimate(linker, connection, training_blocks, n, seed)
        predictions = linker.inference.predict(threshold_match_probability=floor or None)
        result = predictions.as_pyarrow_table()
    names = [c.column for c in comparisons]
    lefts = result.column("unique_id_l").to_pylist()
    rights = result.column("unique_id_r").to_pylist()
    probabilities = result.column("match_probability").to_pylist()
    gammas = [result.column(f"gamma_{name}").to_pylist() for name in names]
    pairs = []
    for i, (left, right, probability) in enumerate(zip(lefts, rights, probabilities, strict=True)):
        a, b = (left, right) if left < right else (right, left)
        levels = {name: int(g[i]) for name, g in zip(names, gammas, strict=True)}
        pairs.append(ScoredPair(a, b, round(float(probability), DECIMALS), levels))
    pairs.sort(key=lambda p: (p.record_a, p.record_b))
    connection.close()
    return Scoring(pairs, round(prior, 12), trained)


def _match_rate(linker: Any, certain: Sequence[Sequence[str]], prior: float) -> float:
    """The probability that two random records match, counted from rules that admit
    almost no false matches (taken to find 70% of the matches); ``prior`` when they
    find none."""
    try:
        linker.training.estimate_probability_two_random_records_match(
            [_rule(c) for c in certain], recall=0.7
        )
        estimated = float(linker._settings_obj._probability_two_random_records_match)
    except ValueError:  # more pairs than the recall allows: a tiny, all-matching input
        estimated = 0.0
    if not 0.0 < estimated < 0.5:
        estimated = prior
        linker._settings_obj._probability_two_random_records_match = prior
    return estimated


def _estimate(
    linker: Any, connection: Any, training_blocks: Sequence[Sequence[str]], n: int, seed: int
) -> None:
    """Estimate u by random sampling and m by expectation maximisation, from the data.

    Sampling is seeded (its counts are the same on any number of threads); the
    expectation-maximisation passes run on one DuckDB thread, so their sums add up in
    one order, run after run.
    """
    linker.training.estimate_u_using_random_sampling(
        max_pairs=min(U_PAIRS, n * (n - 1) / 2), seed=seed
    )
    connection.execute("SET threads TO 1")
    try:
        for block in training_blocks:
            linker.training.estimate_parameters_using_expectation_maximisation(
                _rule(block), max_pairs=EM_PAIRS, record_sample_proportion=1.0
            )
    finally:
        connection.execute("RESET threads")
