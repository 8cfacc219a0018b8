"""The hard rules a safeguarding partnership insists on, whatever the probability says.

A rule never joins records: it only holds a pair the machine would have joined for an
analyst to decide (outcome ``review``), and says why in ``Candidate.rule``.  The rules:

- **roles**: a young person and an adult are never joined automatically;
- **one source**: two records of one source are joined only when the source says so
  (its ``same_as`` column names the other record), because an agency that keeps two
  records knows of both;
- **identifiers**: two different NHS numbers, UPNs or PNC ids (or UPRNs, for places)
  name two people (places);
- **twins**: people with the same surname and a different first name — twins and
  siblings share a surname, a birthday and an address — are not joined on those alone,
  only with an NHS number, UPN or PNC id in common;
- **namesakes**: the same name and date of birth with different postcodes and nothing
  else in common (no identifier, phone, email or alias) — two children of one name
  born on one day are rarer than agencies' errors, but they exist, and a join of two
  children is the costlier mistake;
- **branches**: places with different postcodes and no UPRN in common — the branches
  of a chain share a name and often an address line.

The namesake and branch rules also keep the two records in different entities when
other joins would chain them together (a third record with no postcode that matches
both): see :data:`SEPARATING`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["person_rules", "location_rules", "HELD", "NAMESAKES", "BRANCHES", "SEPARATING"]

#: How a rule's words begin when it changed the outcome (joined → review).
HELD = "held for review: "

NAMESAKES = (
    "the same name and date of birth but different postcodes, and nothing else in "
    "common (namesakes share a name and a birthday)"
)
BRANCHES = (
    "different postcodes and no UPRN in common (the branches of a chain share a name "
    "and often an address line)"
)
#: Rules whose pairs are kept in different entities, not only held back from a join.
SEPARATING = (NAMESAKES, BRANCHES)

_IDENTIFIERS = (("nhs_number", "NHS numbers"), ("upn", "UPNs"), ("pnc_id", "PNC ids"))
_CORROBORATING = ("nhs_number", "upn", "pnc_id", "phone", "email")
_ALIAS_SHARED = "a name of one is an alias of the other"


def _one_source(a: Mapping[str, Any], b: Mapping[str, Any], asserted: bool) -> str | None:
    if asserted or a["source"] != b["source"]:
        return None
    source = a["source"] or "the dataset"
    return f"both records are from {source}, which does not say they are one (same_as)"


def person_rules(
    a: Mapping[str, Any],
    b: Mapping[str, Any],
    levels: Mapping[str, str | None],
    *,
    asserted: bool = False,
) -> list[str]:
    """The hard rules that hold for two person rows, in words (empty: none).

    Parameters
    ----------
    a, b : mapping
        The two rows (:func:`graphguard.resolve.features.person_row`).
    levels : mapping
        Comparison column → the words of the pair's level (None: not recorded).
    asserted : bool
        Their source says they are one record (``same_as``).
    """
    rules = []
    if a["role"] != b["role"]:
        rules.append("a young person and an adult are never joined automatically")
    same_source = _one_source(a, b, asserted)
    if same_source:
        rules.append(same_source)
    for column, plural in _IDENTIFIERS:
        if a[column] and b[column] and a[column] != b[column]:
            rules.append(f"different {plural} are two people")
    shared_identifier = any(a[c] and a[c] == b[c] for c, _ in _IDENTIFIERS)
    alias_shared = levels.get("aliases") == _ALIAS_SHARED
    if (
        levels.get("name") == "same surname, different first name"
        and not alias_shared
        and not shared_identifier
    ):
        rules.append(
            "same surname, different first name (twins and siblings share a surname, "
            "a birthday and an address): not joined without an NHS number, UPN or PNC id "
            "in common"
        )
    corroborated = alias_shared or any(a[c] and a[c] == b[c] for c in _CORROBORATING)
    if (
        levels.get("name") in ("same", "similar spelling", "nickname")
        and levels.get("date_of_birth") == "same"
        and levels.get("postcode") not in (None, "same")
        and not corroborated
    ):
        rules.append(NAMESAKES)
    return rules


def location_rules(
    a: Mapping[str, Any],
    b: Mapping[str, Any],
    levels: Mapping[str, str | None],
    *,
    asserted: bool = False,
) -> list[str]:
    """The hard rules that hold for two location rows, in words (empty: none)."""
    rules = []
    same_source = _one_source(a, b, asserted)
    if same_source:
        rules.append(same_source)
    if a["uprn"] and b["uprn"] and a["uprn"] != b["uprn"]:
        rules.append("different UPRNs are two properties")
    if levels.get("postcode") not in (None, "same") and levels.get("uprn") != "same":
        rules.append(BRANCHES)
    return rules
