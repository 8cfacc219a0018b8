"""Content hashes of what the Neo4j store writes: one implementation for ``load`` and ``check``.

Every element a load writes — an entity node, a record node (v2), a relationship — has
a canonical line (its kind, its key, its labels or type, its ends, its properties, as
sorted-key JSON) and a *content hash*, the SHA-256 of that line.  The loader stores the
hash on the element (property :data:`HASH_PROPERTY`), so a reload compares hashes and
writes only the elements whose hash differs; ``graphguard check`` hashes what Neo4j
actually holds the same way, so an element edited behind graphguard's back is found.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from typing import Any

__all__ = ["HASH_PROPERTY", "STORE_PROPERTIES", "element_line", "element_hash", "digest"]

#: The property holding an element's content hash (never part of the hash itself).
HASH_PROPERTY = "content_hash"

#: Properties the store keeps for itself on relationships (the hash, and in v2 the
#: record ids of a link's two ends): not part of the analysed graph, so
#: :meth:`Neo4jStore.graph` leaves them out and both stores return equal graphs.
STORE_PROPERTIES: frozenset[str] = frozenset({HASH_PROPERTY, "source_record", "target_record"})


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return {type(value).__name__: value.isoformat()}
    raise TypeError(f"cannot hash a {type(value).__name__}")


def element_line(*parts: Any) -> str:
    """The canonical line of one element: sorted-key JSON, dates tagged with their type.

    >>> element_line("entity", "YP1", ["Entity"], {"b": 1, "a": None})
    '["entity", "YP1", ["Entity"], {"a": null, "b": 1}]'
    """
    return json.dumps(parts, sort_keys=True, default=_json_value, ensure_ascii=False)


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
