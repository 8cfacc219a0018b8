"""Disruption planning: disrupt the context, not the child.

Contextual Safeguarding (Firmin) asks what would change if the adults, places,
vehicles and businesses around which harm is organised were disrupted, and what
would *not* change if the child were moved instead.  This package answers both in
one currency, **exposure** (:mod:`.exposure`): how strongly adults of concern reach
each young person, by evidence-weighted routes of at most three steps.

* :func:`exposure` — each young person's exposure, and the total;
* :func:`disruption_impacts` — the fall in total exposure if each adult of
  concern, location, vehicle or business were disrupted (:mod:`.impact`);
* :func:`greedy_plan` — the best ``k`` targets together (Borgatti's key-player
  problem), with lazy evaluation that stays exact;
* :func:`relocation_comparison` — a young person's exposure now and if moved, the
  protective ties a move cuts, the victim vacuum, and disrupting instead
  (:mod:`.relocation`);
* :func:`placement_check` — contexts of concern near a placement or a proposed
  address (:mod:`.placement`).

Every function is a pure function of a graph plus keyword options.  Young people
are never targets.  docs/methodology.md ("Disruption") explains every number.

References
----------
.. [1] Firmin, C. (2020). *Contextual Safeguarding and Child Protection: Rewriting
   the Rules.* Routledge.
.. [2] Borgatti, S. P. (2006). Identifying sets of key players in a social network.
   *Computational and Mathematical Organization Theory* 12, 21–34.
.. [3] Home Office (2019, updated 2022). *Child exploitation disruption toolkit.*

>>> from graphguard.analysis.disruption import exposure, disruption_impacts, greedy_plan
"""

from graphguard.analysis.disruption.exposure import (
    ADULT_PRESENCE,
    ASSOCIATE_FACTORS,
    DIRECT_FACTORS,
    NEGLIGIBLE,
    PEER_FACTORS,
    STEP_DECAY,
    YOUNG_PRESENCE,
    Exposure,
    Route,
    WhatIf,
    concern_weights,
    entity_label,
    exposure,
    exposure_from_town,
)
from graphguard.analysis.disruption.impact import (
    KIND_ORDER,
    LINKED_FALL,
    TARGET_KINDS,
    Candidate,
    DisruptionAnalysis,
    Impact,
    Plan,
    PlanStep,
    candidates,
    check_options,
    disruption_analysis,
    disruption_impacts,
    greedy_plan,
)
from graphguard.analysis.disruption.placement import (
    PlacementCheck,
    PlacementContext,
    haversine_m,
    placement_check,
)
from graphguard.analysis.disruption.relocation import (
    Alternative,
    ProtectiveTie,
    RelocationComparison,
    VacuumEntry,
    relocation_comparison,
    relocation_cuts,
)

__all__ = [
    "ADULT_PRESENCE",
    "ASSOCIATE_FACTORS",
    "DIRECT_FACTORS",
    "KIND_ORDER",
    "LINKED_FALL",
    "NEGLIGIBLE",
    "PEER_FACTORS",
    "STEP_DECAY",
    "TARGET_KINDS",
    "YOUNG_PRESENCE",
    "Alternative",
    "Candidate",
    "DisruptionAnalysis",
    "Exposure",
    "Impact",
    "PlacementCheck",
    "PlacementContext",
    "Plan",
    "PlanStep",
    "ProtectiveTie",
    "RelocationComparison",
    "Route",
    "VacuumEntry",
    "WhatIf",
    "candidates",
    "check_options",
    "concern_weights",
    "disruption_analysis",
    "disruption_impacts",
    "entity_label",
    "exposure",
    "exposure_from_town",
    "greedy_plan",
    "haversine_m",
    "placement_check",
    "relocation_comparison",
    "relocation_cuts",
]
