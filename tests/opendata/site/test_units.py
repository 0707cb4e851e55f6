"""The site's pure parts: reading the search address (a parser: hypothesis), languages, bilingual fields."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from hypothesis import given
from hypothesis import strategies as st

from smartcity.opendata.contracts import FieldSpec
from smartcity.opendata.site import i18n
from smartcity.opendata.site.dataset import _categories, _screen, explore, resources, script_json
from smartcity.opendata.site.search import FACETS, MAX_PAGE, ROWS, SORTS, SearchState, facets, pages, parse
from tests.opendata.site.fakes import AIR_RESOURCE, FakeDatastore

KEYS = st.sampled_from(["q", "page", "sort", "lang", "x", *FACETS])
PARAMS = st.lists(st.tuples(KEYS, st.text(max_size=40)), max_size=12)


@given(PARAMS)
def test_any_address_gives_a_usable_search(params: list[tuple[str, str]]) -> None:
    state = parse(params)
    assert 1 <= state.page <= MAX_PAGE
    assert state.sort in SORTS
    assert all(field in FACETS and value == value.strip() and value for field, value in state.filters)
    assert len(set(state.filters)) == len(state.filters)
    query = state.query()
    assert query.rows == ROWS and query.start == (state.page - 1) * ROWS
    assert tuple(query.fq) == state.filters


@given(PARAMS)
def test_the_address_of_a_search_reads_back_as_the_same_search(params: list[tuple[str, str]]) -> None:
    state = parse(params)
    again = parse(parse_qsl(urlsplit(state.url()).query, keep_blank_values=True))
    assert again == state


@given(PARAMS, st.sampled_from(FACETS), st.text(min_size=1, max_size=20).map(str.strip).filter(bool))
def test_toggling_a_filter_twice_gives_the_search_back_on_page_one(
    params: list[tuple[str, str]], facet: str, value: str
) -> None:
    state = parse(params)
    toggled = state.toggled(facet, value)
    assert toggled.active(facet, value) != state.active(facet, value)
    assert toggled.page == 1
    back = toggled.toggled(facet, value)
    assert set(back.filters) == set(state.filters) and back.page == 1


def test_facets_keep_active_filters_listed_and_sort_by_count() -> None:
    state = SearchState(filters=(("tags", "gone"),))
    found = facets(state, {"tags": {"a": 1, "b": 5}}, {"organization": {"x": "X"}})
    tags = next(f for f in found if f.field == "tags")
    assert [i.value for i in tags.items] == ["gone", "b", "a"]
    assert tags.items[0].active and tags.items[0].url == "/data"
    assert pages(state, 0) == 1 and pages(state, 41) == 3


def test_the_language_comes_from_the_address_then_the_cookie() -> None:
    assert i18n.choose(None, None) == ("vi", False)
    assert i18n.choose("en", None) == ("en", True)
    assert i18n.choose("en", "en") == ("en", False)
    assert i18n.choose(None, "en") == ("en", False)
    assert i18n.choose("xx", "en") == ("en", False)
    assert i18n.choose("vi", "en") == ("vi", True)


def test_bilingual_fields_in_every_shape_portals_use() -> None:
    fluent = {"title": "Tiêu đề", "title_translated": {"vi": "Tiêu đề", "en": "Title"}}
    assert i18n.localized(fluent, "title", "en") == "Title"
    assert i18n.localized({"title_translated": {"vi": "Chỉ tiếng Việt", "en": ""}}, "title", "en") == "Chỉ tiếng Việt"
    extras = {"title": "Tiêu đề", "extras": [{"key": "title_en", "value": "From an extra"}]}
    assert i18n.localized(extras, "title", "en") == "From an extra"
    assert i18n.localized({"title": "Tiêu đề"}, "title", "en") == "Tiêu đề"
    assert i18n.localized({"title": 5}, "title", "vi") == ""


def test_times_dates_frequencies_and_numbers_as_the_city_reads_them() -> None:
    assert i18n.show_time("2026-11-24T17:30:00.123456", "vi") == "00:30 25/11/2026"
    assert i18n.show_time("2026-11-24T17:30:00", "en") == "2026-11-25 00:30"
    assert i18n.show_time("not a time", "en") == "not a time"
    assert i18n.show_date("2026-01-31", "vi") == "31/01/2026"
    assert i18n.frequency("http://publications.europa.eu/resource/authority/frequency/DAILY", "vi") == "Hằng ngày"
    assert i18n.frequency("weird", "en") == "weird"
    assert i18n.show_number(1234567, "vi") == "1.234.567"
    assert i18n.show_number(1234567, "en") == "1,234,567"


def test_resources_link_datastore_dumps_and_drop_unsafe_source_links() -> None:
    dataset = {
        "resources": [
            {"id": "r1", "name": "A", "format": "csv", "datastore_active": True, "url": "javascript:alert(1)"},
            {"id": "r2", "name": "B", "format": "pdf", "datastore_active": False, "url": "https://x.test/b.pdf"},
            "not a resource",
        ]
    }
    found = resources(dataset, "vi", {"r1": True})
    assert [d.format for d in found[0].downloads] == ["CSV", "JSON", "GEOJSON", "PARQUET"]
    assert found[0].url == ""
    assert found[1].downloads == [] and found[1].url == "https://x.test/b.pdf"
    assert len(found) == 2


def test_exploring_without_a_datastore_or_a_table() -> None:
    assert explore(None, "r").state == "none"
    assert explore(FakeDatastore(), "missing").state == "none"
    found = explore(FakeDatastore(), AIR_RESOURCE)
    assert found.state == "ok" and found.total == 96 and len(found.rows) == 20


def test_embedded_json_cannot_end_its_script_element() -> None:
    text = script_json({"a": "</script><!-- & -->"})
    assert "<" not in text and ">" not in text and "&" not in text


def test_chart_times_carry_their_offset() -> None:
    store = FakeDatastore()
    for record in store.tables[AIR_RESOURCE].records:
        record["observed_at"] = record["observed_at"].removesuffix("Z")  # CKAN's habit: UTC without an offset
    chart = explore(store, AIR_RESOURCE).chart
    assert chart is not None
    assert chart["rows"][0][0] == "2026-11-20T00:00:00+00:00"


def test_series_are_split_by_the_most_readable_text_column() -> None:
    specs = [FieldSpec("station_id", "text"), FieldSpec("note", "text"), FieldSpec("station_name", "text")]
    assert _categories(specs) == ["station_name", "station_id", "note"]


def test_map_geometries_are_made_small_for_the_screen() -> None:
    point = _screen({"type": "Point", "coordinates": [106.123456789, 10.987654321]})
    assert point == {"type": "Point", "coordinates": [106.12346, 10.98765]}
    wiggly = {"type": "LineString", "coordinates": [[106.7 + i * 1e-6, 10.7 + (i % 2) * 1e-7] for i in range(500)]}
    line = _screen(wiggly)
    assert line is not None and line["type"] == "LineString"
    assert len(line["coordinates"]) < 10
    assert _screen({"type": "Polygon", "coordinates": "nonsense"}) == {"type": "Polygon", "coordinates": "nonsense"}
