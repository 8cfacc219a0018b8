"""Content hashes of what the Neo4j store writes: one implementation for ``load`` and ``check``.

Every element a load writes — an entity node, a record node (v2), a relationship — has
a canonical line (its kind, its key, its labels or type, its ends, its properties, as
sorted-key JSON) and a *content hash*, the SHA-256 of that line.  The loader stores the
hash on the element (property :data:`HASH_PROPERTY`), so a reload compares hashes and
writes only the elements whose hash differs; ``graphguard check`` hashes what Neo4j
actually holds the same way, so an element edited behind graphguard's back is found.
"""

from __future__ import annotations

import datetime as dt  # noqa: F401 (the doctest's dates)
import hashlib
from collections.abc import Iterable
from typing import Any

__all__ = ["HASH_PROPERTY", "STORE_PROPERTIES", "element_line", "element_hash", "digest"]

#: The property holding an element's content hash (never part of the hash itself).
HASH_PROPERTY = "content_hash"

#: Properties the store keeps for itself on relationships (the hash, and in v2 the
#: record ids of a link's two ends): not part of the analysed graph, so
#: :meth:`Neo4jStore.graph` leaves them out and both stores return equal graphs.
STORE_PROPERTIES: frozenset[str] = frozenset({HASH_PROPERTY, "source_record", "target_record"})


def element_line(*parts: Any) -> str:
    """The canonical line of one element: the ``repr`` of its parts, mappings as sorted items.

    Every value the store writes is a ``str``, ``int``, ``float``, ``bool``,
    :class:`datetime.date` or a list of those (enums and tuples are turned into plain
    values and lists before: :mod:`graphguard.store.rows`), and Neo4j gives back the same
    types, so the line of an element read from Neo4j is the line it was written with.  The
    ``repr`` of those types is fixed (floats by their shortest round-trip form) and made
    in C, about half the cost of sorted-key JSON with a hook for dates.

    >>> element_line("entity", "YP1", ["Entity"], {"b": 1, "a": dt.date(2026, 1, 2)})
    "('entity', 'YP1', ['Entity'], [('a', datetime.date(2026, 1, 2)), ('b', 1)])"
    """
    return repr(tuple(sorted(p.items()) if isinstance(p, dict) else p for p in parts))


def element_hash(*parts: Any) -> str:
    """The content hash of one element: the SHA-256 (hex) of :func:`element_line`."""
    return hashlib.sha256(element_line(*parts).encode("utf-8")).hexdigest()


def digest(hashes: Iterable[str]) -> str:
    """The content hash of a whole side: the SHA-256 of its elements' sorted hashes."""
    sha = hashlib.sha256()
    for value in sorted(hashes):
        sha.update(value.encode("ascii"))
        sha.update(b"\n")
    return sha.hexdigest()
