"""Analysis options: built once, from the settings, and passed to every analysis.

Every entry point (the ``graphguard`` commands, the dashboard) builds one
:class:`AnalysisOptions` with :meth:`AnalysisOptions.from_settings` — the settings
(``GRAPHGUARD_HALF_LIFE_DAYS``) overridden by what the user asked for (``--as-of``,
``--half-life``, ``--seed``) — and hands it to the library, so ``hubs.json``, the
target list, the plan, the relocation comparison and the placement check always
weigh evidence the same way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import networkx as nx

from graphguard.analysis.evidence import DEFAULT_HALF_LIFE_DAYS
from graphguard.analysis.measures import EXACT_LIMIT
from graphguard.analysis.projection import MAX_CONTEXT_SIZE, MIN_TIES
from graphguard.analysis.town import Town

if TYPE_CHECKING:
    from graphguard.settings import Settings

__all__ = ["AnalysisOptions"]


@dataclass(frozen=True)
class AnalysisOptions:
    """Everything that can change the analysis, with its default.

    Attributes
    ----------
    as_of : date, optional
        The day evidence is weighed against; the latest link date in the graph if None.
    seed : int, default 0
        Seed of the peer-group search (Leiden) and of the sampled measures.
    half_life_days : float, default 365
        After this many days a link's evidence counts half.
    min_group_ties : int, default 2
        Each peer-group member has direct peer links with this many other members.
    min_group_size : int, default 2
        Smaller peer groups are not reported.
    max_context_size : int
        Contexts with more young people add nothing to the peer projection.
    exact_limit : int
        Graphs with more entities get sampled betweenness and closeness.
    samples : int, optional
        Sources sampled above ``exact_limit``; chosen by the sample budget if None
        (:func:`graphguard.analysis.measures.sample_count`).

    Examples
    --------
    >>> AnalysisOptions(half_life_days=90).half_life_days
    90
    >>> AnalysisOptions(half_life_days=0)
    Traceback (most recent call last):
    ...
    ValueError: half_life_days must be positive, not 0
    """

    as_of: dt.date | None = None
    seed: int = 0
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS
    min_group_ties: int = MIN_TIES
    min_group_size: int = 2
    max_context_size: int = MAX_CONTEXT_SIZE
    exact_limit: int = EXACT_LIMIT
    samples: int | None = None

    def __post_init__(self) -> None:
        if not self.half_life_days > 0:
            raise ValueError(f"half_life_days must be positive, not {self.half_life_days}")

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> AnalysisOptions:
        """The options the settings give, with the ``overrides`` that are not None.

        Parameters
        ----------
        settings : Settings, optional
            :func:`graphguard.settings.get_settings` if None.
        **overrides
            Any field of :class:`AnalysisOptions`; a None value keeps the setting
            (so a command passes its options as they came, given or not).

        Examples
        --------
        >>> from graphguard.settings import Settings
        >>> AnalysisOptions.from_settings(Settings(half_life_days=90), as_of=None).half_life_days
        90.0
        """
        from graphguard.settings import get_settings

        settings = settings or get_settings()
        unknown = set(overrides) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise TypeError(f"unknown analysis options: {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {"half_life_days": settings.half_life_days}
        values.update({name: value for name, value in overrides.items() if value is not None})
        return cls(**values)

    def town(self, graph: nx.MultiDiGraph) -> Town:
        """The graph read for the scores under these options."""
        return Town(graph, as_of=self.as_of, half_life_days=self.half_life_days)

    def as_dict(self) -> dict[str, Any]:
        options = dataclasses.asdict(self)
        options["as_of"] = self.as_of.isoformat() if self.as_of else None
        return options
