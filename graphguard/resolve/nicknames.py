"""Nicknames: the short forms of English first names that agencies record interchangeably.

A police log says *Jess*, the school roll *Jessica*; both are one name here.  The
table is small and deliberate: each row is a formal name and the familiar forms of it
seen in UK records.  Two first names are nickname-equivalent when they share a row
(``Tom`` and ``Thomas``, or ``Tom`` and ``Tommy``).  A form that belongs to two formal
names (``Alex`` for Alexander and Alexandra) is in both rows.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["NICKNAMES", "name_forms", "canonical_first_name"]

#: Formal name → its familiar forms (lower case).
NICKNAMES: dict[str, tuple[str, ...]] = {
    "abigail": ("abi", "abby", "gail"),
    "alexander": ("alex", "alec", "sandy", "xander"),
    "alexandra": ("alex", "lexi", "sandra", "sasha"),
    "andrew": ("andy", "drew"),
    "anthony": ("tony", "ant"),
    "benjamin": ("ben", "benji", "benny"),
    "catherine": ("cathy", "cat", "kate", "katie", "kath"),
    "charles": ("charlie", "chaz", "chas"),
    "charlotte": ("charlie", "lottie", "lotte"),
    "christopher": ("chris", "kit"),
    "daniel": ("dan", "danny"),
    "david": ("dave", "davey"),
    "deborah": ("debbie", "deb", "debs"),
    "edward": ("ed", "eddie", "ted", "teddy"),
    "elizabeth": ("liz", "lizzie", "beth", "betty", "eliza", "libby"),
    "emily": ("em", "emmy", "millie"),
    "frederick": ("fred", "freddie"),
    "gabriel": ("gabe",),
    "jacob": ("jake",),
    "james": ("jim", "jimmy", "jamie"),
    "jennifer": ("jen", "jenny"),
    "jessica": ("jess", "jessie"),
    "john": ("jack", "johnny", "jon"),
    "jonathan": ("jon", "jonny"),
    "joseph": ("joe", "joey"),
    "joshua": ("josh",),
    "katherine": ("kate", "katie", "kathy", "kat"),
    "kimberley": ("kim",),
    "lawrence": ("larry", "laurie"),
    "leonard": ("leo", "len", "lenny"),
    "margaret": ("maggie", "meg", "peggy", "maisie"),
    "matthew": ("matt", "matty"),
    "michael": ("mike", "mick", "micky", "mikey"),
    "nathaniel": ("nathan", "nate", "nat"),
    "nicholas": ("nick", "nicky"),
    "oliver": ("ollie", "olly"),
    "patricia": ("pat", "patsy", "tricia", "trish"),
    "patrick": ("pat", "paddy"),
    "rebecca": ("becky", "becca", "bex"),
    "richard": ("rich", "richie", "rick", "dick"),
    "robert": ("rob", "robbie", "bob", "bobby", "bert"),
    "samantha": ("sam", "sammy"),
    "samuel": ("sam", "sammy"),
    "sarah": ("sadie", "sally"),
    "stephen": ("steve", "stevie"),
    "steven": ("steve", "stevie"),
    "susan": ("sue", "suzy"),
    "thomas": ("tom", "tommy"),
    "timothy": ("tim", "timmy"),
    "victoria": ("vicky", "vikki", "tori"),
    "william": ("will", "bill", "billy", "liam", "willy"),
    "zachary": ("zach", "zac"),
}


@lru_cache(maxsize=1)
def _forms() -> dict[str, frozenset[str]]:
    """Every name in the table → the names it is nickname-equivalent to (itself included)."""
    forms: dict[str, set[str]] = {}
    for formal, short in NICKNAMES.items():
        row = {formal, *short}
        for name in row:
            forms.setdefault(name, set()).update(row)
    return {name: frozenset(row) for name, row in forms.items()}


def name_forms(first_name: str) -> frozenset[str]:
    """The first names nickname-equivalent to ``first_name`` (lower case, itself included).

    >>> sorted(name_forms("Jess"))
    ['jess', 'jessica', 'jessie']
    >>> sorted(name_forms("Zed"))
    ['zed']
    """
    name = first_name.strip().lower()
    return _forms().get(name, frozenset({name}))


def canonical_first_name(first_name: str) -> str:
    """One key shared by nickname-equivalent first names: the first formal name they share.

    Names that are in no row are their own key, so blocking on it never separates
    records that a plain comparison of names would bring together.

    >>> canonical_first_name("Tommy"), canonical_first_name("thomas"), canonical_first_name("Zed")
    ('thomas', 'thomas', 'zed')
    """
    name = first_name.strip().lower()
    return _canonical().get(name, name)


@lru_cache(maxsize=1)
def _canonical() -> dict[str, str]:
    keys: dict[str, str] = {}
    for formal in sorted(NICKNAMES):
        for name in (formal, *NICKNAMES[formal]):
            keys.setdefault(name, formal)
    return keys
