"""The identity store: young people's identifying values, kept out of the graph.

Neo4j holds a young person as a keyed pseudonym (:func:`graphguard.privacy.pseudonym`)
with analytic attributes only (:mod:`graphguard.store.stored`), so no Cypher can read a
child's name, date of birth, contact details or identifiers, and a location whose label
names a household is stored scrubbed.  What was taken out lives here, in the state home:

* ``identities.bin``: one file, owner-only, encrypted at rest with AES-256-GCM
  (``cryptography``), whose authentication tag also detects any change to it;
* ``identity.key``: its 256-bit key, owner-only, created on first use like the
  pseudonym key.  Back up the two together: without the key the file is noise.

Each entry is a :class:`HeldIdentity`: the pseudonym Neo4j knows (an entity's
``YP-…``, a record's ``YR-…``, a location's id), what it is, the id graphguard knows it
by, and the values taken out.  Every write replaces the file atomically (a temporary
file renamed over it) under an exclusive lock on ``identities.lock``, so a reader sees
the old set or the new one, never half of either.

Only graphguard reads the store: the Neo4j store to give the graph back its ids and
names (:meth:`graphguard.store.neo4j.Neo4jStore.graph`), a reveal for a role allowed to
(audited, :mod:`graphguard.access`), and issue 15's purge through :meth:`forget`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from graphguard.errors import RefusedError
from graphguard.files import private_folder
from graphguard.settings import Settings, create_key_file, private_file, state_home

__all__ = [
    "IDENTITY_FILE",
    "IDENTITY_KEY_FILE",
    "HeldIdentity",
    "IdentityStore",
]

#: The encrypted identity store and its key, in the state home.
IDENTITY_FILE = "identities.bin"
IDENTITY_KEY_FILE = "identity.key"
_LOCK_FILE = "identities.lock"

# The file starts with this; it is also the AES-GCM associated data, so a file of
# another format or version fails authentication rather than being misread.
_MAGIC = b"GGIDv1\n"
_NONCE_BYTES = 12
_KEY_HEX_CHARS = 64  # 256 bits, written as hex

#: What a held identity belongs to: a young person's entity, one of their source
#: records (v2), or a location whose label named a household.
Kind = Literal["young_person", "record", "location"]


@dataclass(frozen=True)
class HeldIdentity:
    """What the graph does not hold about one element, and how the graph knows it.

    Attributes
    ----------
    pseudonym : str
        The key Neo4j holds (``YP-…`` for a young person, ``YR-…`` for their record,
        the location's own id for a location).
    kind : {"young_person", "record", "location"}
    entity_id : str
        The id graphguard knows the element by (a young person's entity id, a
        record's qualified id, a location's id).
    values : dict
        The values taken out of the graph: identifying properties of a young person
        or record (:func:`graphguard.privacy.is_identifying`), a location's original
        ``name`` and ``address``.
    """

    pseudonym: str
    kind: Kind
    entity_id: str
    values: dict[str, Any] = field(default_factory=dict)


def _encode(value: Any) -> Any:
    # JSON has no dates or tuples; both come back as the model holds them.
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"date"}:
        return dt.date.fromisoformat(value["date"])
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)
    return value


class IdentityStore:
    """The encrypted store of the identifying values Neo4j does not hold.

    Parameters
    ----------
    path : Path
        The store's file (``identities.bin`` in the state home by default).
    key_path : Path
        Its key file, created owner-only on first use when missing.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> store = IdentityStore(folder / "ids.bin", folder / "ids.key")
    >>> store.replace([HeldIdentity("YP-1a", "young_person", "YP1", {"name": "Ada"})])
    >>> store.reveal("YP-1a")
    {'name': 'Ada'}
    >>> store.forget(["YP1"])
    1
    >>> store.reveal("YP-1a") is None
    True
    """

    def __init__(self, path: Path, key_path: Path) -> None:
        self.path = Path(path)
        self.key_path = Path(key_path)
        self._cache: tuple[tuple[int, int, int], dict[str, HeldIdentity]] | None = None

    @classmethod
    def default(cls, settings: Settings | None = None) -> IdentityStore:
        """The identity store of the state home (``GRAPHGUARD_HOME``)."""
        home = state_home(settings)
        return cls(home / IDENTITY_FILE, home / IDENTITY_KEY_FILE)

    # ------------------------------------------------------------------ the key
    def _key(self, *, create: bool) -> bytes | None:
        if not os.path.lexists(self.key_path):
            if not create:
                return None
            private_folder(self.key_path.parent)
            create_key_file(self.key_path)
        with private_file(self.key_path, "the identity store's key") as handle:
            text = handle.read().strip()
        try:
            key = bytes.fromhex(text.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            key = b""
        if len(key) * 2 != _KEY_HEX_CHARS:
            raise RefusedError(
                f"the identity store's key {self.key_path} is not a 256-bit hex key: refused"
            )
        return key

    # ------------------------------------------------------------------ reading
    def held(self) -> dict[str, HeldIdentity]:
        """Every held identity by pseudonym (empty when the store does not exist yet).

        Raises
        ------
        RefusedError
            One line: the file or key is not a private file, the key is missing, or the
            file cannot be decrypted with the key (a wrong key, or a damaged file).
        """
        if not os.path.lexists(self.path):
            return {}
        with private_file(self.path, "the identity store") as handle:
            found = os.fstat(handle.fileno())
            stamp = (found.st_ino, found.st_size, found.st_mtime_ns)
            if self._cache is not None and self._cache[0] == stamp:
                return self._cache[1]
            data = handle.read()
        key = self._key(create=False)
        if key is None:
            raise RefusedError(
                f"the identity store {self.path} has no key ({self.key_path} is missing): "
                "restore the key file from the backup it was saved with"
            )
        held = self._decrypt(data, key)
        self._cache = (stamp, held)
        return held

    def _decrypt(self, data: bytes, key: bytes) -> dict[str, HeldIdentity]:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        broken = RefusedError(
            f"the identity store {self.path} cannot be read with the key {self.key_path}: "
            "wrong key or damaged file (restore both from the same backup)"
        )
        if not data.startswith(_MAGIC) or len(data) < len(_MAGIC) + _NONCE_BYTES:
            raise broken
        nonce = data[len(_MAGIC) : len(_MAGIC) + _NONCE_BYTES]
        try:
            plain = AESGCM(key).decrypt(nonce, data[len(_MAGIC) + _NONCE_BYTES :], _MAGIC)
            rows = json.loads(plain)
        except (InvalidTag, ValueError):
            raise broken from None
        return {
            row["pseudonym"]: HeldIdentity(
                row["pseudonym"],
                row["kind"],
                row["entity_id"],
                {name: _decode(value) for name, value in row["values"].items()},
            )
            for row in rows
        }

    def reveal(self, pseudonym: str) -> dict[str, Any] | None:
        """The identifying values held for ``pseudonym``, or None when none are held.

        ``pseudonym`` is what Neo4j holds (``YP-…``, ``YR-…``) or a young person's own
        entity id, as the graph graphguard reads back names them.  The caller decides
        who may see the values and audits the reveal (:mod:`graphguard.access`).
        """
        held = self.held()
        found = held.get(pseudonym) or next(
            (h for h in held.values() if h.kind == "young_person" and h.entity_id == pseudonym),
            None,
        )
        return dict(found.values) if found is not None else None

    def entity_of(self, pseudonym: str) -> str | None:
        """The id graphguard knows ``pseudonym`` by, or None when it is not held."""
        found = self.held().get(pseudonym)
        return found.entity_id if found is not None else None

    def ids(self) -> dict[str, str]:
        """Pseudonym → the id graphguard knows it by, for every held identity."""
        return {p: h.entity_id for p, h in self.held().items()}

    # ------------------------------------------------------------------ writing
    def replace(self, identities: Iterable[HeldIdentity]) -> None:
        """Make the store hold exactly ``identities``, in one atomic write."""
        with self._locked():
            self._write({h.pseudonym: h for h in identities})

    def update(
        self, identities: Iterable[HeldIdentity], *, keep: Iterable[str] | None = None
    ) -> None:
        """Add or replace ``identities``; with ``keep``, drop every other pseudonym not in it.

        The loader calls it with what it wrote and ``keep`` = the pseudonyms Neo4j still
        holds, so the store follows the graph: a load adds, a prune or a merge removes.
        """
        new = {h.pseudonym: h for h in identities}
        with self._locked():
            held = dict(self.held())
            if keep is not None:
                wanted = set(keep) | set(new)
                held = {p: h for p, h in held.items() if p in wanted}
            held.update(new)
            self._write(held)

    def forget(self, keys: Iterable[str]) -> int:
        """Delete what is held for each key (a pseudonym or the id graphguard knows); how many.

        A young person's entity id forgets their entity entry; a record id, that
        record's; a location id, its original label.  Issue 15's purge calls this for
        every record and entity it deletes.
        """
        wanted = set(keys)
        with self._locked():
            held = self.held()
            kept = {
                p: h for p, h in held.items() if p not in wanted and h.entity_id not in wanted
            }
            if len(kept) != len(held):
                self._write(kept)
            return len(held) - len(kept)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # One writer at a time: a load and a purge must not each write the set they read.
        with private_file(self.path.with_name(_LOCK_FILE), "the identity store's lock",
                          create=True, append=True) as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _write(self, held: Mapping[str, HeldIdentity]) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        from graphguard.files import write_bytes

        key = self._key(create=True)
        assert key is not None
        rows = [
            {
                "pseudonym": h.pseudonym,
                "kind": h.kind,
                "entity_id": h.entity_id,
                "values": {name: _encode(value) for name, value in h.values.items()},
            }
            for _, h in sorted(held.items())
        ]
        plain = json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        nonce = secrets.token_bytes(_NONCE_BYTES)  # fresh for every write: GCM needs it
        write_bytes(self.path, _MAGIC + nonce + AESGCM(key).encrypt(nonce, plain, _MAGIC))
        self._cache = None
