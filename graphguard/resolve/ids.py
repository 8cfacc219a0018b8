"""Entity ids: short, opaque and stable names for resolved people, places and vehicles.

An entity is named after its *anchor*, the smallest qualified record id among its
records.  Adding a record that joins no existing entity creates a new entity and
renames none; a record that joins an entity renames it only if its id sorts before
the current anchor.  The id is a digest, so it says nothing about the person (no
source, no local id, no name) and can travel into Neo4j, exports and logs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

__all__ = ["ENTITY_PREFIXES", "entity_id", "anchor_of"]

#: Entity kind → the letter its ids start with.
ENTITY_PREFIXES: dict[str, str] = {"person": "P", "location": "L", "vehicle": "V"}


def entity_id(kind: str, anchor_record_id: str) -> str:
    """The id of the entity of this kind whose smallest record id is ``anchor_record_id``.

    Parameters
    ----------
    kind : str
        ``"person"``, ``"location"`` or ``"vehicle"``.
    anchor_record_id : str
        The smallest qualified record id (``source:local_id``) of the entity's records.

    Returns
    -------
    str
        The kind's letter, a hyphen and 12 hexadecimal digits of the SHA-256 of the
        anchor: 14 characters, a valid id of the input format.

    Raises
    ------
    ValueError
        For a kind that is not one of the three.

    Examples
    --------
    >>> entity_id("person", "police:P001")
    'P-9c52e762e0df'
    >>> entity_id("person", "police:P001") == entity_id("person", "police:P001")
    True
    """
    prefix = ENTITY_PREFIXES.get(kind)
    if prefix is None:
        raise ValueError(f"{kind!r} is not an entity kind (person, location or vehicle)")
    digest = hashlib.sha256(anchor_record_id.encode("utf-8")).hexdigest()[:12]
    return f"{prefix}-{digest}"


def anchor_of(record_ids: Iterable[str]) -> str:
    """The anchor of a group of record ids: the smallest, as Python sorts strings.

    >>> anchor_of(["police:P9", "education:S14", "police:P10"])
    'education:S14'
    """
    ids = list(record_ids)
    if not ids:
        raise ValueError("an entity has at least one record")
    return min(ids)
