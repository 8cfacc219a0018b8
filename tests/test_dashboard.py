"""The Streamlit dashboard through AppTest, and the ``graphguard dashboard`` command.

Every page renders without an exception or an error, shows its key elements, and
reacts to its controls.  The pages live in ``dashboards/views/``, not ``pages/``: with a
``pages/`` folder beside the entry script, AppTest reruns take Streamlit's legacy
multipage path and skip ``app.py`` (its sidebar, filters and error handling).
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from graphguard.cli.dashboard import dashboard, dashboard_env, streamlit_command
from tests.helpers import page_text

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboards" / "app.py"
DEMO = ROOT / "fixtures" / "demo"
STORY = json.loads((DEMO / "story.json").read_text(encoding="utf-8"))

PAGES = {
    "overview": "Overview",
    "network": "Network",
    "groups": "Peer groups",
    "hubs": "Hubs",
    "contexts": "Places and vehicles",
    "timeline": "Timeline",
    "disruption": "Disruption planner",
    "cypher": "Cypher",
    "fairness": "Fairness",
}


def _young_peoples_names() -> set[str]:
    from graphguard.ingest import read_dataset

    people = read_dataset(DEMO).dataset.people.values()
    return {p.name for p in people if p.role.value == "young_person" and p.name}


YOUNG_NAMES = _young_peoples_names()


def _settings_changed() -> None:
    from graphguard.settings import get_settings

    get_settings.cache_clear()


def start(**state: Any) -> AppTest:
    """A fresh app on its first run (Overview), with session state set beforehand."""
    at = AppTest.from_file(str(APP), default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def visit(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"views/{page}.py")
    return at.run()


def assert_fine(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def frame(at: AppTest, index: int = 0) -> str:
    """The HTML of the index-th drawing on the page."""
    frames = at.get("iframe")
    assert len(frames) > index, "no drawing on the page"
    return str(frames[index].proto.srcdoc)


def unescape(markdown: str) -> str:
    """The text a reader sees of Markdown whose punctuation was escaped."""
    return re.sub(r"\\(.)", r"\1", markdown)


@pytest.fixture(autouse=True)
def _demo_data(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("GRAPHGUARD_DATASET", raising=False)
    _settings_changed()
    yield
    _settings_changed()


@pytest.fixture(scope="module")
def app() -> AppTest:
    """One app on the demo town, shared by the read-only page checks."""
    return start()


# ------------------------------------------------------------------------------ every page


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders(app: AppTest, page: str) -> None:
    at = visit(app, page)
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == [PAGES[page]]


@pytest.mark.parametrize("page", [p for p in PAGES if p != "cypher"])
def test_no_young_persons_name_shows_unless_asked(app: AppTest, page: str) -> None:
    text = page_text(visit(app, page))
    shown = sorted(name for name in YOUNG_NAMES if name in text)
    assert not shown, f"{page} shows {shown[:3]}"


def test_the_sidebar_says_backend_dates_and_counts() -> None:
    at = start()
    assert_fine(at)
    sidebar = "\n".join(str(m.value) for m in at.sidebar.markdown)
    assert "**Backend:** embedded" in sidebar
    assert "**Data:** 2018-04-01 to 2026-11-30" in sidebar
    assert "80 young people · 110 adults · 107 locations · 3 vehicles · 785 links" in sidebar
    assert [t.label for t in at.sidebar.toggle] == ["Show young people's names"]


# ------------------------------------------------------------------------------ the pages


def test_overview_counts_freshness_and_rejects(app: AppTest) -> None:
    at = visit(app, "overview")
    assert_fine(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "Young people": "80",
        "Adults": "110",
        "Locations": "107",
        "Vehicles": "3",
        "Links": "785",
    }
    assert any("2026-11-30" in m.value for m in at.markdown)
    assert [s.value for s in at.success] == ["Every row was accepted."]
    files = at.dataframe[0].value
    assert int(files.loc[files["file"] == "links.csv", "accepted"].iloc[0]) == 785


def test_overview_lists_the_rejected_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPHGUARD_DATASET", str(ROOT / "fixtures" / "invalid" / "bad_date"))
    at = start()
    assert not at.exception
    assert any("rejected" in w.value for w in at.warning)
    rejects = at.dataframe[1].value
    assert set(rejects.columns) >= {"file", "line", "column", "reason"}


def test_network_is_drawn_with_legend_and_focus(app: AppTest) -> None:
    at = visit(app, "network")
    assert_fine(at)
    whole = frame(at)
    assert "gg-legend" in whole and "vis.Network" in whole
    assert "https://" not in whole.split("<script>", 3)[-1].split("</script>")[-1]
    at.selectbox(key="network_focus").set_value(STORY["network_1"]["unflagged_adult"]).run()
    assert_fine(at)
    focused = frame(at)
    assert focused != whole
    assert '"borderWidth": 5' in focused  # the entity in focus
    caption = at.caption[0].value
    assert int(caption.split()[0]) < 300


def test_network_caps_a_big_drawing_with_a_message(app: AppTest) -> None:
    at = visit(app, "network")
    at.selectbox(key="network_focus").set_value(None)
    at.number_input(key="network_max").set_value(50).run()
    assert_fine(at)
    assert any("Showing 50 of 300 entities" in w.value for w in at.warning)
    at.number_input(key="network_max").set_value(300).run()


def test_network_filters_by_kind_and_peer_group(app: AppTest) -> None:
    at = visit(app, "network")
    at.multiselect(key="network_kinds").set_value(["adult", "location"]).run()
    assert_fine(at)
    assert '"label": "YP0' not in frame(at)
    at.multiselect(key="network_kinds").set_value(["young_person", "adult", "location", "vehicle"])
    at.selectbox(key="network_group").set_value("G03").run()
    assert_fine(at)
    drawn = frame(at)
    assert "AD097" in drawn and "LOC008" in drawn
    at.selectbox(key="network_group").set_value(None).run()


def test_hubs_rank_the_unflagged_driver_and_selecting_one_changes_the_graph(
    app: AppTest,
) -> None:
    at = visit(app, "hubs")
    assert_fine(at)
    table = at.dataframe[0].value
    assert STORY["network_1"]["unflagged_adult"] in list(table["id"][:3])
    assert STORY["decoys"]["youth_worker"] not in list(table["id"][:10])
    first = frame(at)
    assert "Callum Brackwater" in first
    other = STORY["network_2"]["main_adult"]
    at.selectbox(key="hub_pick").set_value(other).run()
    assert_fine(at)
    assert other in at.subheader[0].value
    second = frame(at)
    assert second != first
    assert "Martin Oystercombe" in second
    assert any("allegation" in i.value for i in at.info)


def test_groups_show_a_group_and_names_only_when_asked() -> None:
    at = start(gg_show_names=True, gg_revealed=True)  # names shown, the reason given
    at = visit(at, "groups")
    assert_fine(at)
    assert "not surveillance" in at.caption[0].value
    at.selectbox(key="group_pick").set_value("G03").run()
    assert_fine(at)
    members = at.dataframe[1].value["young person"].tolist()
    assert any(name in YOUNG_NAMES for name in members)
    assert "AD097" in frame(at)


def test_contexts_rank_the_places_and_draw_a_map(app: AppTest) -> None:
    at = visit(app, "contexts")
    assert_fine(at)
    top = list(at.dataframe[0].value["id"][:5])
    assert STORY["network_2"]["hotel"] in top and STORY["network_1"]["flat"] in top
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1
    spec = json.loads(charts[0].proto.spec)
    assert spec["projection"]["type"] == "mercator"
    assert "tiles" not in json.dumps(spec)
    at.selectbox(key="context_pick").set_value(STORY["network_1"]["flat"]).run()
    assert_fine(at)
    assert any("Kestrel House" in s.value for s in at.subheader)


def test_timeline_by_type_and_by_agency(app: AppTest) -> None:
    at = visit(app, "timeline")
    assert_fine(at)
    assert len(at.get("vega_lite_chart")) == 1
    at.radio(key="timeline_by").set_value("agency").run()
    assert_fine(at)
    assert "agency" in at.get("vega_lite_chart")[0].proto.spec


def test_cypher_without_neo4j_says_how_to_start_one(app: AppTest) -> None:
    at = visit(app, "cypher")
    assert not at.exception
    assert any("NEO4J_URI" in w.value for w in at.warning)
    assert any("graphguard neo4j start" in m.value for m in at.markdown)
    library = at.dataframe[0].value
    assert "person_profile" in set(library["query"])


def test_sidebar_area_filter_narrows_every_page() -> None:
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.multiselect(key="gg_areas").set_value(["Docklands"]).run()
    assert_fine(at)
    metrics = {m.label: int(m.value) for m in at.metric}
    assert 0 < metrics["Links"] < 785
    at = visit(at, "hubs")
    assert_fine(at)


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What the page offers for download, by file name: the callable a click runs.

    Downloads are generated on click (Streamlit's deferred download): calling one is
    what clicking its button does in the browser.
    """
    from streamlit.runtime.media_file_manager import MediaFileManager

    files: dict[str, Any] = {}
    original = MediaFileManager.add_deferred

    def capture(self: Any, data_callable: Any, mimetype: Any, coordinates: str, **kw: Any) -> str:
        files[kw.get("file_name") or coordinates] = data_callable
        return original(self, data_callable, mimetype, coordinates, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", capture)
    return files


def clicked(downloads: dict[str, Any], name: str) -> bytes:
    """The bytes a click on the download button for ``name`` delivers."""
    data = downloads[name]()
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def audit_lines() -> list[dict[str, Any]]:
    from graphguard.audit import read_audit

    return read_audit()


def test_changing_k_changes_the_plan(app: AppTest) -> None:
    at = visit(app, "disruption")
    assert_fine(at)
    three = at.dataframe[0].value
    assert len(three) == 3
    assert STORY["network_1"]["unflagged_adult"] in set(three["target"])
    after_three = {m.label: m.value for m in at.metric}
    at.slider(key="plan_k").set_value(6).run()
    assert_fine(at)
    six = at.dataframe[0].value
    assert len(six) == 6
    assert list(six["target"][:3]) == list(three["target"])  # greedy: the first three stay
    assert {m.label: m.value for m in at.metric} != after_three
    assert not set(six["kind"]) & {"young_person", "young person"}
    at.slider(key="plan_k").set_value(3).run()


def test_relocation_shows_the_victim_vacuum_and_the_placement_check(app: AppTest) -> None:
    placed = STORY["placement"]["young_person"]
    at = visit(app, "disruption")
    at.selectbox(key="relocation_pick").set_value(placed).run()
    assert_fine(at)
    metrics = {m.label: m.value for m in at.metric}
    options = at.dataframe[1].value
    assert options["option"][0] == "move the young person"
    moved, *alternatives = options["fall in total exposure"]
    assert max(alternatives) > moved  # disrupting does more than moving the child
    vacuum = at.dataframe[4].value
    assert len(vacuum) > 0
    warnings = [w.value for w in at.warning]
    assert any("of concern within 1000 m" in w for w in warnings), warnings
    assert STORY["placement"]["dock"] in at.dataframe[5].value["context"].iloc[0]
    assert "If moved again" in metrics  # she was moved once already


def test_relocation_of_a_child_placed_out_of_area_counts_only_the_ties_she_has_now(
    app: AppTest,
) -> None:
    story = STORY["placement"]
    at = visit(app, "disruption")
    at.selectbox(key="relocation_pick").set_value(story["young_person"]).run()
    assert_fine(at)
    ties = at.dataframe[2].value
    grandmother, *ended = story["protective_links"]  # the old school and tutor ended
    assert any(grandmother in link for link in ties["link"])
    assert not any(e in link for e in ended for link in ties["link"])
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Protective ties a move would cut"]) == len(ties)
    not_counted = [c.value for c in at.caption if "already cut" in c.value]
    assert len(not_counted) == 1 and all(e in not_counted[0] for e in ended)
    conclusion = next(i.value for i in at.info if "again" in i.value)
    first = conclusion.split("  \n")[0]
    assert first.startswith(f"**Do not move {story['young_person']} again") and "disrupt" in first
    assert "already moved" in conclusion and "out of area" in conclusion


def test_the_move_row_shows_the_librarys_numbers(app: AppTest) -> None:
    """The "move the young person" row once had others' fall 0 and 1 protected, fixed."""
    from graphguard.analysis.disruption import relocation_comparison
    from graphguard.store import MemoryStore

    victim = "YP016"
    at = visit(app, "disruption")
    at.selectbox(key="relocation_pick").set_value(victim).run()
    assert_fine(at)
    move = at.dataframe[1].value.iloc[0]
    expected = relocation_comparison(MemoryStore.from_path(DEMO).graph(), victim).move
    assert move["option"] == expected.name == "move the young person"
    assert expected.others_fall > 0.1 and expected.young_people_protected > 1
    assert move["others' fall"] == round(expected.others_fall, 3)
    assert move["young people protected"] == expected.young_people_protected
    assert move["fall in total exposure"] == round(expected.total_fall, 3)


def test_target_list_downloads_carry_no_young_person(downloads: dict[str, Any]) -> None:
    from openpyxl import load_workbook

    at = visit(start(), "disruption")
    assert_fine(at)
    table = at.dataframe[-1].value
    assert set(table["kind"]) <= {"adult", "location", "vehicle", "business"}
    assert STORY["network_1"]["unflagged_adult"] in list(table["target_id"][:3])
    assert [d.proto.label for d in at.get("download_button")] == ["Download CSV", "Download XLSX"]
    csv_text = clicked(downloads, "targets.csv").decode("utf-8")
    assert csv_text.splitlines()[0].startswith("rank,target_id,kind,label,score,impact")
    young_ids = {y for group in STORY["peer_groups"].values() for y in group}
    workbook = load_workbook(io.BytesIO(clicked(downloads, "targets.xlsx")))
    for text in (csv_text, _xlsx_text(workbook)):
        assert not any(re.search(rf"\b{y}\b", text) for y in young_ids)
        assert not any(name in text for name in YOUNG_NAMES)
        assert "YP-" in text  # young people only as keyed pseudonyms


def test_the_download_is_the_clis_export(downloads: dict[str, Any], tmp_path: Path) -> None:
    import datetime as dt

    from graphguard.settings import pseudonym_key
    from graphguard.store.memory import MemoryStore
    from graphguard.targets import build_target_list, write_target_list

    visit(start(), "disruption")
    cli = build_target_list(
        MemoryStore.from_path(DEMO).graph(),
        key=pseudonym_key(),
        exported_on=dt.date.today(),
        source=str(DEMO),
    )
    expected = write_target_list(cli, tmp_path / "t.csv").read_bytes()
    assert clicked(downloads, "targets.csv") == expected


def test_downloads_are_made_on_click_and_audited_then(downloads: dict[str, Any]) -> None:
    at = visit(start(), "disruption")
    assert_fine(at)
    buttons = at.get("download_button")
    # No file and no /media URL exist before the click: only a deferred id.
    assert [b.proto.url for b in buttons] == ["", ""]
    assert all(b.proto.deferred_file_id for b in buttons)
    before = len(audit_lines())
    clicked(downloads, "targets.csv")
    started, finished = audit_lines()[before:]
    assert (started["event"], started["outcome"]) == ("download targets", "started")
    assert (finished["event"], finished["outcome"]) == ("download targets", "ok")
    assert finished["format"] == "csv" and finished["rows"] > 0


def test_a_download_whose_audit_fails_delivers_nothing(
    downloads: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from graphguard.audit import AuditError

    visit(start(), "disruption")
    monkeypatch.setenv("GRAPHGUARD_AUDIT_LOG", "/dev/full")
    _settings_changed()
    with pytest.raises(AuditError, match="nothing was disclosed"):
        downloads["targets.xlsx"]()


def _xlsx_text(book: Any) -> str:
    return "\n".join(
        str(cell)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if cell is not None
    )


# ------------------------------------------------------------------------------ first use


def test_hubs_find_an_adult_scoring_0_and_say_why(app: AppTest) -> None:
    worker = STORY["decoys"]["youth_worker"]
    at = visit(app, "hubs")
    box = at.selectbox(key="hub_pick")
    assert any("Wrenfield" in str(option) for option in box.options)  # typing finds her
    box.set_value(worker).run()
    assert_fine(at)
    assert "Jo Wrenfield" in at.subheader[0].value
    explanation = " ".join(i.value for i in at.info)
    assert "protective relationships" in explanation and "36 young people" in explanation
    assert worker not in set(at.dataframe[0].value["id"])  # the table ranks risk only
    assert "Nothing counts towards this adult's score." in page_text(at)


def test_filters_and_the_names_toggle_live_in_the_address() -> None:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params = {"area": "Docklands", "names": "1", "source_grade": "2"}
    at.run()
    assert_fine(at)
    assert at.multiselect(key="gg_areas").value == ["Docklands"]
    assert at.toggle(key="gg_show_names").value is True
    assert at.selectbox(key="gg_source_grade").value == "2"
    assert int({m.label: m.value for m in at.metric}["Links"]) < 785
    at.toggle(key="gg_show_names").set_value(False).run()
    at.selectbox(key="gg_intel_grade").set_value("B").run()
    assert_fine(at)
    assert at.query_params.get("names") is None
    assert at.query_params["intel_grade"] in ("B", ["B"])
    assert at.query_params["area"] in ("Docklands", ["Docklands"])


def test_an_address_with_values_the_data_lacks_is_ignored() -> None:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params = {"area": "Atlantis", "from": "1900-01-01", "to": "not-a-date"}
    at.run()
    assert_fine(at)
    assert at.multiselect(key="gg_areas").value == []
    assert {m.label: m.value for m in at.metric}["Links"] == "785"


def test_counts_agree_with_their_nouns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPHGUARD_DATASET", str(ROOT / "fixtures" / "invalid" / "bad_date"))
    at = start()
    assert not at.exception
    warnings = [w.value for w in at.warning]
    assert warnings == ["1 row was rejected; the valid rows are shown."], warnings
    visit(at, "contexts")
    monkeypatch.delenv("GRAPHGUARD_DATASET")
    text = page_text(visit(start(), "contexts"))
    assert "above score above" not in text
    assert re.search(r"of the \d+ places and vehicles scoring above 0", text)


def test_no_view_writes_a_number_before_a_fixed_plural() -> None:
    """Every count on screen goes through wording.count (no "1 rows" or "1 missing episodes")."""
    nouns = "rows|links|entities|episodes|young people|steps|days|targets|contexts|ties|records"
    fixed = re.compile(rf"\{{[^{{}}]+\}} ({nouns})\b")
    for path in sorted((ROOT / "dashboards").rglob("*.py")):
        found = fixed.findall(path.read_text(encoding="utf-8"))
        assert not found, f"{path.name}: {found}"


def test_wording_examples() -> None:
    import doctest

    sys.path.insert(0, str(ROOT / "dashboards"))
    try:
        import wording
    finally:
        sys.path.remove(str(ROOT / "dashboards"))
    result = doctest.testmod(wording)
    assert result.attempted >= 6 and result.failed == 0


def test_timeline_gives_each_link_type_its_colour(app: AppTest) -> None:
    from graphguard.viz import CONCERN_LINK_TYPES, LINK_TYPE_COLOURS

    at = visit(app, "timeline")
    at.radio(key="timeline_by").set_value("type").run()
    assert_fine(at)
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    scale = spec["encoding"]["color"]["scale"]
    assert len(scale["domain"]) >= 12
    assert scale["range"] == [LINK_TYPE_COLOURS[t] for t in scale["domain"]]
    assert len(set(scale["range"])) == len(scale["domain"])
    concern = [t for t in scale["domain"] if t in CONCERN_LINK_TYPES]
    assert scale["domain"][: len(concern)] == concern  # warm colours first, together


def _map_spec(at: AppTest) -> dict[str, Any]:
    charts = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert len(charts) == 1
    return charts[0]


def test_the_map_has_every_kind_in_its_legend_and_no_basemap_unless_configured(
    app: AppTest,
) -> None:
    at = visit(app, "contexts")
    assert_fine(at)
    spec = _map_spec(at)
    spec.pop("$schema", None)
    text = json.dumps(spec)
    assert '"image"' not in text and "http" not in text  # nothing to fetch
    colour = spec["layer"][-1]["encoding"]["color"]
    assert colour["legend"]["symbolLimit"] == 0  # every kind, however many
    kinds = set(pd_read_demo("locations.csv").dropna(subset=["latitude"])["kind"])
    assert set(colour["scale"]["domain"]) == kinds
    assert any("No basemap is configured" in c.value for c in at.caption)


def test_a_configured_tile_server_draws_a_basemap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPHGUARD_MAP_TILES", "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png")
    monkeypatch.setenv("GRAPHGUARD_MAP_ATTRIBUTION", "© test tiles")
    _settings_changed()
    at = visit(start(), "contexts")
    assert_fine(at)
    import pyarrow as pa

    spec = _map_spec(at)
    tiles = spec["layer"][0]
    assert tiles["mark"]["type"] == "image"
    chart = at.get("vega_lite_chart")[0].proto
    data = next(d.data.data for d in chart.datasets if d.name == tiles["data"]["name"])
    urls = set(pa.ipc.open_stream(data).read_pandas()["url"])
    assert urls and all(
        re.fullmatch(r"http://127\.0\.0\.1:9/tiles/\d+/\d+/\d+\.png", u) for u in urls
    )
    assert any("© test tiles" in c.value for c in at.caption)


def pd_read_demo(name: str) -> Any:
    import pandas as pd

    return pd.read_csv(DEMO / name)


# ------------------------------------------------------------------------------ hostile text


@pytest.fixture(scope="module")
def markup_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.helpers import markup_town

    return markup_town(DEMO, tmp_path_factory.mktemp("markup"), "http://127.0.0.1:9/beacon")


_RENDERED = ("title", "header", "subheader", "markdown", "caption")


def _rendered_markdown(at: AppTest) -> list[str]:
    """Every text on the page that Streamlit renders as Markdown."""
    parts = [str(getattr(e, "value", "")) for kind in _RENDERED for e in at.get(kind)]
    for alerts in (at.info, at.warning, at.success, at.error):
        parts += [str(e.value) for e in alerts]
    return parts


@pytest.mark.parametrize("page", [p for p in PAGES if p != "cypher"])
def test_names_references_and_notes_are_shown_as_text(
    page: str, markup_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRAPHGUARD_DATASET", str(markup_dataset))
    at = visit(start(), page)
    assert_fine(at)
    # Markup in a Markdown text would be live: "![b](" opens an image, "<img" HTML,
    # "](" a link, ":red[" a directive, "$" maths.  Escaped, each is plain text.
    # A bare address becomes a link by itself, unless broken by a zero-width space.
    live = re.compile(r"(?<!\\)(!\[|<img|<b>|\]\(|:red\[|\$x)|https?\\?:")
    for text in _rendered_markdown(at):
        assert not live.search(text), text
    if page in ("overview", "hubs", "contexts"):
        assert any("beacon" in text for text in _rendered_markdown(at)), page


# ------------------------------------------------------------------------------ error states


def test_unreachable_neo4j_is_a_clear_error_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEO4J_URI", "bolt://127.0.0.1:1")
    _settings_changed()
    at = start()
    assert not at.exception
    assert [e.value for e in at.sidebar.error] == ["No data loaded"]
    errors = [unescape(e.value) for e in at.error if e.value != "No data loaded"]
    assert len(errors) == 1 and "cannot reach Neo4j at bolt://127.0.0.1:1" in errors[0]
    assert "Traceback" not in page_text(at)
    assert any("graphguard neo4j start" in i.value for i in at.info)
    at = visit(at, "network")
    assert not at.exception and at.error


def test_a_missing_dataset_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPHGUARD_DATASET", "/nowhere/at/all")
    at = start()
    assert not at.exception
    assert "no such folder" in at.error[0].value


# ------------------------------------------------------------------------------ on Neo4j


@pytest.fixture(scope="module")
def demo_in_neo4j(neo4j_driver: Any) -> Any:
    """The test server holding exactly the demo town (the state other tests expect)."""
    from graphguard.ingest import read_dataset
    from graphguard.store.neo4j import Neo4jStore

    store = Neo4jStore(neo4j_driver)
    store.clear()
    store.load(read_dataset(DEMO).dataset)
    return neo4j_driver


@pytest.mark.neo4j
def test_on_neo4j_the_sidebar_says_so_and_a_write_is_refused(
    demo_in_neo4j: Any, neo4j_env: Any
) -> None:
    at = start()
    assert_fine(at)
    sidebar = "\n".join(str(m.value) for m in at.sidebar.markdown)
    assert "**Backend:** Neo4j" in sidebar
    assert {m.label: m.value for m in at.metric}["Links"] == "785"
    at = visit(at, "cypher")
    assert_fine(at)
    at.text_area(key="cypher_text").set_value("MATCH (n) DETACH DELETE n")
    at.button[1].click().run()  # the ad-hoc form's "Run Cypher"
    assert not at.exception
    refused = [unescape(e.value) for e in at.error]
    assert any(e.startswith("Refused:") for e in refused), refused


@pytest.mark.neo4j
def test_on_neo4j_a_library_query_runs_and_downloads_carry_no_names(
    demo_in_neo4j: Any, neo4j_env: Any, downloads: dict[str, Any]
) -> None:
    at = visit(start(), "cypher")
    at.selectbox(key="cypher_query").set_value("found_after_missing").run()
    at.button[0].click().run()  # the library form's "Run query"
    assert_fine(at)
    assert at.subheader[-1].value == "Result of found_after_missing"
    assert len(at.dataframe[-1].value) > 0
    buttons = at.get("download_button")
    assert [d.proto.label for d in buttons] == ["Download CSV", "Download JSON"]
    assert [d.proto.url for d in buttons] == ["", ""]  # made on click, not before
    before = len(audit_lines())
    rows = json.loads(clicked(downloads, "found_after_missing.json"))
    assert len(rows) == len(at.dataframe[-1].value)
    assert [(e["event"], e["outcome"]) for e in audit_lines()[before:]] == [
        ("download cypher result", "started"),
        ("download cypher result", "ok"),
    ]
    at.text_area(key="cypher_text").set_value(
        "MATCH (y:YoungPerson)-[r:FOUND_AT]->(l) RETURN y, y.name AS name, r, l LIMIT 5"
    )
    at.button[1].click().run()
    assert_fine(at)
    assert not any(name in page_text(at) for name in YOUNG_NAMES)
    # Neo4j holds no child's name to return, and knows each child by their pseudonym.
    shown = at.dataframe[-1].value
    assert len(shown) == 5 and shown["name"].isna().all()
    assert all(str(y).startswith('{"id": "YP-') for y in shown["y"])
    assert "FOUND_AT" in frame(at, -1)


@pytest.mark.neo4j
def test_when_neo4j_stops_every_page_says_so(
    demo_in_neo4j: Any, neo4j_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from urllib.parse import urlparse

    from tests.helpers import TcpProxy

    where = urlparse(neo4j_env.uri)
    proxy = TcpProxy(where.hostname or "127.0.0.1", where.port or 7687)
    monkeypatch.setenv("NEO4J_URI", f"bolt://127.0.0.1:{proxy.port}")
    _settings_changed()
    try:
        at = start()
        assert_fine(at)
        sidebar = "\n".join(str(m.value) for m in at.sidebar.markdown)
        assert "**Backend:** Neo4j" in sidebar and "not answering" not in sidebar
        at = visit(at, "cypher")  # read the network and open the page while it answers
        assert_fine(at)
        proxy.stop()
        sys.modules["common"].backend_problem.clear()  # not wait out the few seconds
        for page in ("overview", "hubs", "cypher"):
            at = visit(at, page)
            assert not at.exception
            sidebar = "\n".join(str(m.value) for m in at.sidebar.markdown)
            assert "**Backend:** Neo4j — not answering" in sidebar, page
            notices = [unescape(e.value) for e in at.error if "is not answering" in e.value]
            assert len(notices) == 1, (page, [e.value for e in at.error])
            assert "may be out of date" in notices[0] and "Reload data" in notices[0]
        at.text_area(key="cypher_text").set_value("MATCH (n) RETURN count(n) AS n")
        at.button[1].click().run()  # the ad-hoc form's "Run Cypher"
        assert not at.exception
        refused = [unescape(e.value) for e in at.error if "Not run" in e.value]
        assert len(refused) == 1 and "Neo4j is not answering" in refused[0], refused
        assert "resolved to" not in refused[0] and not refused[0].endswith(":)")
    finally:
        proxy.stop()
        st_caches_cleared()


def st_caches_cleared() -> None:
    """Forget the stopped store, so later tests open their own."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()


# ------------------------------------------------------------------------------ the command


def test_dashboard_defaults_to_the_demo_without_neo4j() -> None:
    env = dashboard_env(None, {"PATH": "/bin"})
    assert env["GRAPHGUARD_DATASET"] == str(DEMO)
    assert env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] == "false"
    assert "GRAPHGUARD_DATASET" not in dashboard_env(None, {"NEO4J_URI": "bolt://x:1"})
    assert dashboard_env(DEMO, {"NEO4J_URI": "bolt://x:1"})["GRAPHGUARD_DATASET"] == str(DEMO)


def test_dashboard_command_runs_streamlit(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_exec(program: str, command: list[str], env: dict[str, str]) -> None:
        seen.update(program=program, command=command, env=env)
        raise SystemExit(0)  # exec never returns

    monkeypatch.setattr(os, "execvpe", fake_exec)
    result = CliRunner().invoke(dashboard, [str(DEMO), "--port", "8600", "--headless"])
    assert result.exit_code == 0, result.output
    assert seen["program"] == seen["command"][0]
    assert seen["command"][1:5] == ["-m", "streamlit", "run", str(APP)]
    assert seen["command"] == streamlit_command(APP, 8600, True, "127.0.0.1")
    assert seen["env"]["GRAPHGUARD_DATASET"] == str(DEMO)


def test_graphguard_dashboard_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    """The real command: it serves the demo, and a SIGTERM leaves nothing listening."""
    import signal
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env["HOME"] = str(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "graphguard.cli", "dashboard", "--headless", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline and status is None:
            assert process.poll() is None, "the dashboard exited before serving"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as reply:
                    status = reply.status
            except OSError:
                time.sleep(0.5)
        assert status == 200
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
    finally:
        if process.poll() is None:
            process.kill()


def test_dashboard_command_refuses_a_missing_dataset(tmp_path: Path) -> None:
    result = CliRunner().invoke(dashboard, [str(tmp_path / "nowhere")])
    assert result.exit_code != 0
    assert "no such folder" in str(result.exception) + result.output


def test_the_planners_views_are_audited_once_by_pseudonym() -> None:
    """The plan, relocation and placement views are audited as the CLI audits them."""
    views = ("view plan", "view relocation", "view placement check")
    before = len(audit_lines())
    at = visit(start(), "disruption")
    assert_fine(at)
    lines = [line for line in audit_lines()[before:] if line["event"] in views]
    assert {line["event"] for line in lines} == set(views)
    # `via` says how the user was identified (local mode here); `channel` where they acted.
    assert all(line["channel"] == "dashboard" and line["via"] == "local" for line in lines)
    for line in lines:
        if "young_person" in line:
            assert re.fullmatch(r"YP-[0-9a-f]{10}", line["young_person"]), line
    # A rerun of the same views (any click) adds no line; another young person does.
    at.run()
    assert [line for line in audit_lines()[before:] if line["event"] in views] == lines
    pick = at.selectbox(key="relocation_pick")
    pick.select_index(1 if pick.index == 0 else 0).run()
    assert_fine(at)
    relocations = [line for line in audit_lines()[before:] if line["event"] == "view relocation"]
    assert len(relocations) > len([line for line in lines if line["event"] == "view relocation"])


def test_a_view_whose_audit_fails_is_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    at = start()
    monkeypatch.setenv("GRAPHGUARD_AUDIT_LOG", "/dev/full")
    _settings_changed()
    at = visit(at, "disruption")
    assert not at.exception, [e.value for e in at.exception]
    assert any("nothing was disclosed" in e.value for e in at.error), [e.value for e in at.error]
    # The page stopped at the first view it could not audit: the plan's numbers.
    assert not at.metric
