"""Entity ids: stable, opaque and short, from the smallest record id of the entity."""

from __future__ import annotations

import hashlib

__all__ = ["entity_id", "KIND_PREFIX"]

#: The first letters of an entity id, by kind.
KIND_PREFIX = {"person": "P-", "location": "L-", "vehicle": "V-"}


def entity_id(kind: str, anchor: str) -> str:
    """The id of the entity of ``kind`` whose smallest record id is ``anchor``.

    The anchor is the smallest qualified record id of the entity's records, so adding
    a record that joins no existing entity renames none, and the id says nothing of
    who the person is.

    Parameters
    ----------
    kind : {"person", "location", "vehicle"}
        The kind of entity.
    anchor : str
        The smallest record id of the entity.

    Returns
    -------
    str
        ``P-``, ``L-`` or ``V-`` and the first 12 hex digits of SHA-256 of ``anchor``.

    Examples
    --------
    >>> entity_id("person", "police:P001")
    'P-9c52e762e0df'
    """
    return KIND_PREFIX[kind] + hashlib.sha256(anchor.encode("utf-8")).hexdigest()[:12]
