"""The identity store: encrypted at rest, owner-only, atomic, one clear line when broken."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphguard.errors import RefusedError
from graphguard.workspace.identity import (
    IDENTITY_FILE,
    IDENTITY_KEY_FILE,
    HeldIdentity,
    IdentityStore,
)

NAMES = st.text(
    alphabet=st.characters(categories=("L",), min_codepoint=65), min_size=6, max_size=20
)


def _store(folder: Path) -> IdentityStore:
    return IdentityStore(folder / IDENTITY_FILE, folder / IDENTITY_KEY_FILE)


def _person(pseudonym: str, entity_id: str, name: str) -> HeldIdentity:
    return HeldIdentity(
        pseudonym,
        "young_person",
        entity_id,
        {"name": name, "date_of_birth": dt.date(2011, 4, 2), "aliases": ("Bandz", name[:3])},
    )


# No deadline: a shared machine makes an encrypted write of a few ms take seconds.
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(names=st.lists(NAMES, min_size=1, max_size=8, unique=True))
def test_the_file_holds_no_plaintext_name_and_gives_every_value_back(
    names: list[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("ids")
    store = _store(folder)
    store.replace(_person(f"YP-{i:010d}", f"YP{i:03d}", n) for i, n in enumerate(names))
    data = (folder / IDENTITY_FILE).read_bytes()
    for i, name in enumerate(names):
        for form in (name.encode("utf-8"), name.encode("utf-16-le"), f"YP{i:03d}".encode()):
            assert form not in data
    assert b"2011-04-02" not in data
    again = _store(folder)  # a fresh reader: from the file, not a cache
    for i, name in enumerate(names):
        assert again.reveal(f"YP-{i:010d}") == {
            "name": name,
            "date_of_birth": dt.date(2011, 4, 2),
            "aliases": ("Bandz", name[:3]),
        }
        assert again.entity_of(f"YP-{i:010d}") == f"YP{i:03d}"
        # … and by the young person's own id, as the graph read back names them.
        assert again.reveal(f"YP{i:03d}") == again.reveal(f"YP-{i:010d}")


def test_files_are_owner_only_and_writes_replace_the_file(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.replace([_person("YP-a", "YP1", "Ada Whimbrel")])
    first = os.stat(tmp_path / IDENTITY_FILE).st_ino
    for name in (IDENTITY_FILE, IDENTITY_KEY_FILE):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600
    store.update([_person("YP-b", "YP2", "Bea Sluice")])
    # Atomic: a new file renamed over the old one, never the old one rewritten in place.
    assert os.stat(tmp_path / IDENTITY_FILE).st_ino != first
    assert set(store.ids()) == {"YP-a", "YP-b"}
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_update_with_keep_follows_the_graph_and_forget_deletes(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.replace([_person("YP-a", "YP1", "Ada"), _person("YP-b", "YP2", "Bea")])
    store.update([_person("YP-c", "YP3", "Cy")], keep=["YP-a"])
    assert set(store.ids()) == {"YP-a", "YP-c"}
    # Forget by graphguard's id or by pseudonym; how many were forgotten.
    assert store.forget(["YP1", "YP-c", "nobody"]) == 2
    assert store.held() == {}
    assert store.reveal("YP-a") is None


def test_a_wrong_key_or_a_damaged_file_is_one_clear_line(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.replace([_person("YP-a", "YP1", "Ada")])
    path = tmp_path / IDENTITY_FILE
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(RefusedError, match="wrong key or damaged file") as damaged:
        _store(tmp_path).held()
    assert "\n" not in str(damaged.value)
    store.replace([_person("YP-a", "YP1", "Ada")])
    key = tmp_path / IDENTITY_KEY_FILE
    key.write_text("ab" * 32)  # another valid key
    with pytest.raises(RefusedError, match="wrong key or damaged file"):
        _store(tmp_path).held()
    key.unlink()
    with pytest.raises(RefusedError, match="has no key"):
        _store(tmp_path).held()


def test_a_store_readable_by_others_is_refused(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.replace([_person("YP-a", "YP1", "Ada")])
    os.chmod(tmp_path / IDENTITY_FILE, 0o644)
    with pytest.raises(RefusedError, match="can be read or written by other users"):
        _store(tmp_path).held()


def test_the_default_store_lives_in_the_state_home(home: Path) -> None:
    store = IdentityStore.default()
    assert store.path == home / IDENTITY_FILE and store.key_path == home / IDENTITY_KEY_FILE
    assert store.held() == {}  # nothing held yet, and no key made for nothing
    assert not store.key_path.exists()
