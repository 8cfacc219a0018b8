"""Data-protection categories of people: recorded per source record, and derived.

The Data Protection Act 2018, Part 3 (s38(3)), asks a controller to distinguish the
categories of the people whose data it processes: suspects, convicted people,
victims, witnesses and others.  A person can be several (a child exploited into
crime is a victim first).  graphguard keeps, for every person:

* ``category``: the categories the source records give (the ``category`` column of
  people.csv; for an entity of a version 2 dataset, the union of its records');
* ``category_records``: which source record said which, one ``"record: categories"``
  text per record that gave any (version 2; a version 1 row is its own record);
* ``category_derived``: the categories graphguard derives, by :data:`DERIVATION_RULES`
  only, marked as derived wherever they are shown.

The derivations are deliberately few.  A young person named as the target of an
``ALLEGED_HARM`` link is a victim, whatever the link's grading: for safeguarding a
disclosure or intelligence of harm is enough to treat a child as a victim.  An adult
whose record flags them ``suspected`` (named by a partner as a person who may pose
a risk) is a suspect.  Nothing else makes anyone a suspect: not an ``ALLEGED_HARM``
link (an allegation, not a finding, often graded low), not associating with, driving
or being seen with young people.  An adult who is a target but a suspect in no record
is a *person of interest* (:data:`PERSON_OF_INTEREST`), and target lists say so.

Categories are not identifying, so they are stored on ``Person`` nodes in Neo4j and
shown beside a young person's pseudonym; they never carry a young person's identity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphguard.linktable import LinkTable
from graphguard.model import Category, LinkType, Person, Role

if TYPE_CHECKING:
    from graphguard.ingest import Dataset
    from graphguard.resolve.types import EntityProvenance

__all__ = [
    "CATEGORY_ORDER",
    "DERIVATION_RULES",
    "DERIVED_BECAUSE",
    "PERSON_OF_INTEREST",
    "PersonCategories",
    "categorise",
    "person_categories",
]

#: The order categories are shown in: victim first (a child exploited into crime is a
#: victim before anything else), then the rest as the Act lists them.
CATEGORY_ORDER: tuple[Category, ...] = (
    Category.VICTIM,
    Category.WITNESS,
    Category.SUSPECT,
    Category.CONVICTED,
    Category.OTHER,
)
#: Derived category → the rule that derives it, in words (docs/data-format.md).
DERIVATION_RULES: Mapping[Category, str] = {
    Category.VICTIM: "a young person named as the target of an ALLEGED_HARM link, whatever "
    "its grading (safeguarding treats a disclosure or intelligence of harm as enough)",
    Category.SUSPECT: "an adult whose record flags them as suspected (named by a partner "
    "as a person who may pose a risk)",
}
#: Derived category → why, in a few words, as exports show it beside the category.
DERIVED_BECAUSE: Mapping[Category, str] = {
    Category.VICTIM: "named as the target of alleged harm",
    Category.SUSPECT: "flagged as suspected by a partner",
}
#: What a target list says of an adult target who is a suspect in no record.
PERSON_OF_INTEREST = "person of interest: no partner has named them"

_RANK = {category: rank for rank, category in enumerate(CATEGORY_ORDER)}


def _ordered(categories: Iterable[Category | str]) -> tuple[Category, ...]:
    found = {Category(c) if not isinstance(c, Category) else c for c in categories}
    return tuple(sorted(found, key=_RANK.__getitem__))


@dataclass(frozen=True)
class PersonCategories:
    """The data-protection categories of one person, as shown in pages and exports.

    Attributes
    ----------
    recorded : tuple of Category
        What the source records say, victim first.
    derived : tuple of Category
        What graphguard derived (:data:`DERIVATION_RULES`) and no record says.
    records : tuple of str
        Which record said which (``"police:NOM1: victim, suspect"``); empty in v1.
    """

    recorded: tuple[Category, ...] = ()
    derived: tuple[Category, ...] = ()
    records: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[Category, ...]:
        """Every category, recorded or derived, victim first."""
        return _ordered((*self.recorded, *self.derived))

    @property
    def named_suspect(self) -> bool:
        """Whether any record names the person a suspect (or convicted), or flags them."""
        return bool({Category.SUSPECT, Category.CONVICTED} & set(self.all))

    def label(self) -> str:
        """One short text: ``"victim (derived); suspect"``, or ``"none recorded"``.

        Examples
        --------
        >>> PersonCategories((Category.SUSPECT,), (Category.VICTIM,)).label()
        'victim (derived); suspect'
        >>> PersonCategories().label()
        'none recorded'
        """
        parts = [f"{c.value} (derived)" if c not in self.recorded else c.value for c in self.all]
        return "; ".join(parts) or "none recorded"

    def sources(self) -> str:
        """Which record said which, and each derivation's rule, in one text."""
        parts = list(self.records)
        parts += [f"{c.value}: derived, {DERIVED_BECAUSE[c]}" for c in self.derived]
        return " | ".join(parts)


def person_categories(attributes: Mapping[str, Any]) -> PersonCategories:
    """The categories of a person from their node attributes (graph or Neo4j).

    Parameters
    ----------
    attributes : mapping
        A person's node attributes, as :func:`graphguard.store.base.node_attributes`
        gives them or as Neo4j returns a ``Person`` node's properties.

    Returns
    -------
    PersonCategories
        Empty for a node that is not a person or records none.
    """
    derived = _ordered(attributes.get("category_derived") or ())
    recorded = _ordered(attributes.get("category") or ())
    return PersonCategories(
        recorded=recorded,
        derived=tuple(c for c in derived if c not in recorded),
        records=tuple(attributes.get("category_records") or ()),
    )


def categorise(dataset: Dataset) -> Dataset:
    """Set every person's ``category_derived`` (and, in v2, ``category_records``).

    Parameters
    ----------
    dataset : Dataset
        A version 1 dataset, or the entity level of a version 2 one (with its
        ``resolution.provenance``).  Its people are replaced, in place, by copies
        carrying the derived categories; people with nothing to add are kept as
        they are.

    Returns
    -------
    Dataset
        ``dataset`` itself.

    Examples
    --------
    >>> from graphguard.ingest import Dataset
    >>> from graphguard.model import Link, Person
    >>> town = Dataset(people={
    ...     "A1": Person(person_id="A1", role="adult", suspected=True),
    ...     "Y1": Person(person_id="Y1", role="young_person", category="suspect")},
    ...     links=[Link(link_id="L1", source_id="A1", target_id="Y1", type="ALLEGED_HARM")])
    >>> categorise(town).people["Y1"].category_derived
    (<Category.VICTIM: 'victim'>,)
    >>> person_categories({"category": ("suspect",), "category_derived": ("victim",)}).label()
    'victim (derived); suspect'
    """
    harmed = _harmed(dataset)
    provenance = dataset.resolution.provenance if dataset.resolution is not None else {}
    for person_id, person in list(dataset.people.items()):
        derived = _derived(person, person_id in harmed)
        records = _records(provenance.get(person_id))
        if derived or records:
            dataset.people[person_id] = person.model_copy(
                update={"category_derived": derived or None, "category_records": records or None}
            )
    return dataset


def _harmed(dataset: Dataset) -> set[str]:
    """The ids of everyone named as the target of an ALLEGED_HARM link."""
    links = dataset.links
    if isinstance(links, LinkTable):
        # two columns, not a model or an attribute dict per link
        pairs = zip(links.column("type"), links.column("target_id"), strict=True)
        return {target for kind, target in pairs if kind == LinkType.ALLEGED_HARM}
    return {link.target_id for link in links if link.type is LinkType.ALLEGED_HARM}


def _derived(person: Person, harmed: bool) -> tuple[Category, ...]:
    recorded = set(person.category or ())
    derived: list[Category] = []
    if harmed and person.role is Role.YOUNG_PERSON:
        derived.append(Category.VICTIM)
    if person.suspected and person.role is Role.ADULT:
        derived.append(Category.SUSPECT)
    return _ordered(c for c in derived if c not in recorded)


def _records(known: EntityProvenance | None) -> tuple[str, ...]:
    """``"record: categories"`` for every record of an entity that recorded any.

    The categories are joined by ``", "``: ``";"`` separates the items of a list
    property in Neo4j's import files (:mod:`graphguard.store.bulk`).
    """
    if known is None:
        return ()
    return tuple(
        f"{said.record_id}: {', '.join(c.value for c in _ordered(said.value))}"
        for said in known.attributes.get("category", ())
        if said.value
    )
