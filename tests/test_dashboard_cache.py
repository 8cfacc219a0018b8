"""The dashboard's analysis cache on disk: keyed by content and options, private, identity-free.

A restart is a new ``AppTest`` after Streamlit's in-memory caches are cleared: it
must show the pages from the cache without reading the data, and a change in the
data or in the analysis options must miss it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from graphguard import viewcache
from graphguard.analysis import AnalysisOptions
from graphguard.ingest import read_dataset
from graphguard.resolve.types import (
    AttributeValue,
    Candidate,
    EntityProvenance,
    Finding,
    Outcome,
    Resolution,
)
from graphguard.settings import get_settings
from graphguard.store.memory import MemoryStore

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboards" / "app.py"
DEMO = ROOT / "fixtures" / "demo"


@pytest.fixture
def town(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "town"
    shutil.copytree(DEMO, copy)
    monkeypatch.setenv("GRAPHGUARD_DATASET", str(copy))
    return copy


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every time the dashboard reads a dataset from its files."""
    seen: list[str] = []
    real = MemoryStore.from_path.__func__  # type: ignore[attr-defined]

    def counted(cls: type[MemoryStore], path: Any) -> MemoryStore:
        seen.append(str(path))
        return real(cls, path)  # type: ignore[no-any-return]

    monkeypatch.setattr(MemoryStore, "from_path", classmethod(counted))
    return seen


def restart() -> AppTest:
    """A dashboard as a new process finds it: no in-memory cache, first run done."""
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def metric(at: AppTest, label: str) -> str:
    return next(str(m.value) for m in at.metric if m.label == label)


def entries(home: Path) -> list[Path]:
    return sorted((home / viewcache.CACHE_FOLDER).glob("*.digest"))


# ------------------------------------------------------------------------------ restarts


def test_a_restart_reads_the_cache_not_the_data(home: Path, town: Path, reads: list[str]) -> None:
    first = restart()
    assert reads == [str(town)]
    assert len(entries(home)) == 1
    again = restart()
    assert reads == [str(town)], "the restarted dashboard read the data again"
    assert metric(again, "Links") == metric(first, "Links")
    for page in ("hubs", "network", "groups", "contexts", "timeline"):
        again.switch_page(f"views/{page}.py")
        again.run()
        assert not again.exception, (page, [e.value for e in again.exception])
        if page in ("hubs", "network", "groups"):
            assert again.get("iframe"), f"{page} drew nothing"
    assert reads == [str(town)], "a page read the data behind the cache"


def test_a_change_in_the_data_misses_the_cache(home: Path, town: Path, reads: list[str]) -> None:
    before = metric(restart(), "Locations")
    with (town / "locations.csv").open("a", encoding="utf-8") as handle:
        handle.write("LO999,park,New Park,,,,Old Town\n")
    after = restart()
    assert len(reads) == 2
    assert int(metric(after, "Locations")) == int(before) + 1
    assert len(entries(home)) == 2


def test_touching_a_file_without_changing_it_still_hits(
    home: Path, town: Path, reads: list[str]
) -> None:
    restart()
    os.utime(town / "links.csv", (1_700_000_000, 1_700_000_000))
    restart()
    assert len(reads) == 1
    assert len(entries(home)) == 1


def test_a_change_in_the_options_misses_the_cache(
    home: Path, town: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    restart()
    monkeypatch.setenv("GRAPHGUARD_HALF_LIFE_DAYS", "90")
    get_settings.cache_clear()
    restart()
    assert len(reads) == 2
    assert len(entries(home)) == 2
    kept = [viewcache.load(p.stem) for p in entries(home)]
    assert sorted(d.analysis_summary["options"]["half_life_days"] for d in kept if d) == [90, 365]


def test_a_filter_is_part_of_the_key(home: Path, town: Path, reads: list[str]) -> None:
    at = restart()
    whole = metric(at, "Links")
    at.session_state["gg_areas"] = ["Old Town"]
    at.run()
    assert not at.exception
    assert int(metric(at, "Links")) < int(whole)
    assert len(entries(home)) == 2  # the whole town (the sidebar's) and the filtered view


# ------------------------------------------------------------------------------ the files


@pytest.fixture(scope="module")
def demo_graph() -> nx.MultiDiGraph:
    return MemoryStore.from_path(DEMO).graph()


def _digest(graph: nx.MultiDiGraph, resolution: Resolution | None = None) -> viewcache.ViewDigest:
    options = AnalysisOptions()
    key = viewcache.digest_key(viewcache.content_hash(DEMO), options, ())
    return viewcache.build_digest(key, graph, options, resolution=resolution)


def test_entries_are_private_and_hold_no_young_persons_identity(
    home: Path, demo_graph: nx.MultiDiGraph
) -> None:
    path = viewcache.save(_digest(demo_graph))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    data = path.read_bytes()
    people = read_dataset(DEMO).dataset.people.values()
    young = [p for p in people if p.role.value == "young_person"]
    adults = [p for p in people if p.role.value == "adult" and p.name]
    assert young and adults
    for person in young:
        assert person.name and person.name.encode() not in data, person.id
    assert adults[0].name.encode() in data  # adults are shown by name: the test can fail


def test_a_damaged_or_shared_entry_is_a_miss_and_is_replaced(
    home: Path, demo_graph: nx.MultiDiGraph
) -> None:
    built = _digest(demo_graph)
    path = viewcache.save(built)
    assert viewcache.load(built.key) is not None
    path.chmod(0o644)
    assert viewcache.load(built.key) is None
    viewcache.save(built)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_bytes(b"not a pickle")
    assert viewcache.load(built.key) is None
    assert viewcache.load("0" * 64) is None


def test_only_the_newest_entries_are_kept(home: Path, demo_graph: nx.MultiDiGraph) -> None:
    built = _digest(demo_graph)
    for number in range(viewcache.KEEP + 3):
        built.key = f"{number:064d}"
        path = viewcache.save(built)
        os.utime(path, (1_700_000_000 + number, 1_700_000_000 + number))
    kept = entries(home)
    assert len(kept) == viewcache.KEEP
    assert kept[0].stem == f"{3:064d}"


def test_the_content_hash_follows_bytes_not_times(tmp_path: Path) -> None:
    copy = tmp_path / "town"
    shutil.copytree(DEMO, copy)
    first = viewcache.content_hash(copy)
    os.utime(copy / "people.csv", (1_600_000_000, 1_600_000_000))
    assert viewcache.content_hash(copy) == first
    (copy / "police").mkdir()
    (copy / "police" / "people.csv").write_text("person_id,role\nP1,adult\n", encoding="utf-8")
    assert viewcache.content_hash(copy) != first


def test_the_stamp_follows_the_files_the_hash_reads(
    town: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An Excel lock file or a hidden file beside the data is not a new version of it."""
    monkeypatch.syspath_prepend(str(ROOT / "dashboards"))
    import common

    first = common.data_source()
    (town / "~$links.xlsx").write_bytes(b"lock")
    (town / ".DS_Store").write_bytes(b"finder")
    assert common.data_source() == first
    (town / "notes.txt").write_text("read by nothing, but a file of the folder", encoding="utf-8")
    assert common.data_source() != first


def test_a_cached_resolution_withholds_young_peoples_values(
    home: Path, demo_graph: nx.MultiDiGraph
) -> None:
    young, adult = "YP001", "AD003"
    resolution = Resolution(
        entity_of={"police:P1": young, "education:S1": young, "police:P2": adult},
        kind_of={"police:P1": "person", "education:S1": "person", "police:P2": "person"},
        candidates=[
            Candidate("education:S1", "police:P1", "person", 0.7, Outcome.REVIEW, ("name: same",))
        ],
        provenance={
            young: EntityProvenance(
                young,
                "person",
                ("education:S1", "police:P1"),
                attributes={
                    "date_of_birth": [
                        AttributeValue("police:P1", "police", dt.date(2011, 7, 24)),
                        AttributeValue("education:S1", "education", dt.date(2011, 4, 7)),
                    ],
                    "looked_after": [AttributeValue("police:P1", "police", True)],
                },
                conflicts=[
                    Finding(young, "date_of_birth", "2011-07-24 (police) or 2011-04-07", ())
                ],
            ),
            adult: EntityProvenance(
                adult,
                "person",
                ("police:P2",),
                attributes={"name": [AttributeValue("police:P2", "police", "Carl Rimewhistle")]},
            ),
        },
    )
    cached = _digest(demo_graph, resolution).resolution
    assert cached is not None
    kept = cached.provenance[young]
    assert kept.records == ("education:S1", "police:P1")
    assert {v.value for v in kept.attributes["date_of_birth"]} == {viewcache.WITHHELD}
    assert kept.attributes["looked_after"][0].value is True
    assert "2011" not in kept.conflicts[0].message
    assert cached.provenance[adult].attributes["name"][0].value == "Carl Rimewhistle"
    assert cached.candidates == []  # pairs of young people's records are read from the data
