"""The public site's pages through the in-process app, on the in-memory catalogue and datastore (:mod:`.fakes`)."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import orjson
import pytest

from smartcity.opendata.contracts import FieldSpec, OpenDataError
from tests.ioc.dashboard import city
from tests.opendata.site.conftest import Portal
from tests.opendata.site.fakes import AIR, AIR_RESOURCE, HOSTILE, PARKING, PARKING_RESOURCE, Table


def _links(html: str, css_class: str | None = None) -> list[str]:
    pattern = r'<a href="([^"]+)"' if css_class is None else rf'<a (?:class="{css_class}" )?href="([^"]+)"'
    return [unescape(h) for h in re.findall(pattern, html)]


def _names(html: str) -> list[str]:
    return re.findall(r'<a href="/data/dataset/([^"]+)">', html)


def _json_block(html: str, element_id: str) -> object:
    found = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    assert found is not None, element_id
    return orjson.loads(found.group(1))


# -- search ----------------------------------------------------------------------------------------------------------


def test_the_search_page_lists_every_dataset_in_vietnamese_by_default(portal: Portal) -> None:
    response = portal.client.get("/data")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-language"] == "vi"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    html = response.text
    assert '<html lang="vi">' in html
    assert "28 bộ dữ liệu" in html
    assert len(_names(html)) == 20  # first page
    assert "Sở Tài nguyên và Môi trường" in html  # organisation facet shown by its title
    assert "Creative Commons Attribution 4.0" in html  # licence facet by its title


def test_a_query_without_diacritics_finds_the_vietnamese_title(portal: Portal) -> None:
    html = portal.client.get("/data", params={"q": "chat luong khong khi"}).text
    assert _names(html) == [AIR]
    assert "Chất lượng không khí theo giờ" in html
    assert 'value="chat luong khong khi"' in html  # the box keeps the query
    with_marks = portal.client.get("/data", params={"q": "Chất lượng không khí"}).text
    assert _names(with_marks) == [AIR]


def test_facet_links_filter_and_unfilter(portal: Portal) -> None:
    html = portal.client.get("/data").text
    link = next(h for h in _links(html) if "organization=so-gtvt" in h)
    assert dict(parse_qsl(urlsplit(link).query)) == {"organization": "so-gtvt"}
    filtered = portal.client.get(link).text
    assert sorted(_names(filtered)) == sorted([PARKING, HOSTILE])
    assert "2 bộ dữ liệu" in filtered
    # the active filter is marked and its link removes it
    active = re.search(r'<a href="([^"]*)" class="on" data-value="so-gtvt"', filtered)
    assert active is not None
    assert unescape(active.group(1)) == "/data"
    # a second facet narrows further (AND), each facet field listed with its counts
    tag_link = next(h for h in _links(filtered) if "tags=" in h and "organization=so-gtvt" in h and "b%C3%A3i" in h)
    both = portal.client.get(tag_link).text
    assert _names(both) == [PARKING]
    for facet in ("organization", "groups", "tags", "res_format", "license_id"):
        assert f'data-facet="{facet}"' in html


def test_formats_and_themes_are_facets_too(portal: Portal) -> None:
    html = portal.client.get("/data", params={"res_format": "GeoJSON"}).text
    assert _names(html) == [PARKING]
    themes = portal.client.get("/data", params={"groups": "giao-thong", "lang": "en"}).text
    assert "Transport" in themes
    assert sorted(_names(themes)) == [PARKING]


def test_paging_and_sorting(portal: Portal) -> None:
    first = portal.client.get("/data", params={"sort": "modified"}).text
    assert _names(first)[:3] == [AIR, PARKING, HOSTILE]  # newest first
    assert "Trang 1 / 2" in first
    next_link = re.search(r'<a rel="next" href="([^"]+)"', first)
    assert next_link is not None
    second = portal.client.get(unescape(next_link.group(1))).text
    assert len(_names(second)) == 8
    assert "Trang 2 / 2" in second
    assert not set(_names(first)) & set(_names(second))
    by_name = portal.client.get("/data", params={"sort": "name"}).text
    assert _names(by_name)[0] == "bai-do-xe-hien-tai"


@pytest.mark.parametrize(
    "params", [{"page": "abc"}, {"page": "-3"}, {"page": "999999999999"}, {"sort": "drop table"}, {"tags": "x" * 5000}]
)
def test_unusable_parameters_give_a_page_never_an_error(portal: Portal, params: dict[str, str]) -> None:
    response = portal.client.get("/data", params=params)
    assert response.status_code == 200


def test_a_search_the_catalogue_refuses_is_a_400_page_with_its_message(portal: Portal) -> None:
    response = portal.client.get("/data", params={"q": 'air "quality'})
    assert response.status_code == 400
    assert "Unbalanced quote" in response.text
    assert "<html" in response.text


# -- languages -------------------------------------------------------------------------------------------------------


def test_english_is_switchable_and_remembered(portal: Portal) -> None:
    switched = portal.client.get("/data", params={"lang": "en"})
    assert switched.headers["content-language"] == "en"
    assert "data_lang=en" in switched.headers["set-cookie"]
    assert "28 datasets" in switched.text
    assert "Department of Natural Resources and Environment" in switched.text
    # the switch link leads back to Vietnamese, keeping the rest of the address
    assert 'href="/data?lang=vi"' in switched.text
    remembered = portal.client.get(f"/data/dataset/{AIR}")
    assert '<html lang="en">' in remembered.text
    assert "Hourly air quality" in remembered.text
    assert "Hourly VN_AQI per station." in remembered.text
    assert "Hourly" in remembered.text  # the update frequency in English
    assert 'title="observed_at (timestamp): UTC">Observed at</th>' in remembered.text  # the data dictionary
    back = portal.client.get(f"/data/dataset/{AIR}", params={"lang": "vi"})
    assert "Chất lượng không khí theo giờ" in back.text
    assert "Hằng giờ" in back.text
    assert portal.client.get("/data").headers["content-language"] == "vi"


def test_an_unknown_language_falls_back_to_vietnamese(portal: Portal) -> None:
    response = portal.client.get("/data", params={"lang": "fr"})
    assert response.headers["content-language"] == "vi"
    assert "set-cookie" not in response.headers


# -- escaping --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/data", f"/data/dataset/{HOSTILE}", "/data/organization/so-gtvt"])
def test_hostile_titles_notes_and_tags_are_escaped(portal: Portal, path: str) -> None:
    html = portal.client.get(path).text
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "<b>tag</b>" not in html
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in html
    if path != "/data/organization/so-gtvt":
        assert "&lt;b&gt;tag&lt;/b&gt;" in html
    if "dataset" in path:
        assert "{{ 7*7 }}" in html  # shown as written, never evaluated
        assert "49" not in html


def test_hostile_values_in_the_datastore_cannot_close_the_data_script(portal: Portal) -> None:
    table = portal.datastore.tables[AIR_RESOURCE]
    for record in table.records[:4]:
        record["station"] = "</script><script>alert(1)</script>"
    html = portal.client.get(f"/data/dataset/{AIR}").text
    assert "<script>alert(1)" not in html
    chart = _json_block(html, "chart-data")
    assert isinstance(chart, dict)
    assert any("</script><script>alert(1)</script>" in row for row in chart["rows"])
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html  # in the preview table


def test_a_hostile_name_in_the_address_is_escaped_on_the_404_page(portal: Portal) -> None:
    response = portal.client.get("/data/dataset/%3Cimg%20src%3Dx%20onerror%3D%22alert(1)%22%3E")
    assert response.status_code == 404
    assert "<img src" not in response.text
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in response.text


# -- a dataset -------------------------------------------------------------------------------------------------------


def test_the_dataset_page_shows_its_metadata(portal: Portal) -> None:
    html = portal.client.get(f"/data/dataset/{AIR}").text
    assert '<h1 id="title">Chất lượng không khí theo giờ</h1>' in html
    assert "Chỉ số VN_AQI theo giờ của từng trạm." in html
    assert 'href="/data/organization/so-tnmt"' in html
    assert '<a href="https://creativecommons.org/licenses/by/4.0/" rel="license">' in html
    assert "Hằng giờ" in html  # update frequency
    assert "20/11/2026 \u2013 21/11/2026" in html  # temporal coverage
    assert "07:00 23/11/2026" in html  # last update, in the city's time
    assert 'href="/data?groups=moi-truong"' in html
    assert 'href="/data?tags=kh%C3%B4ng+kh%C3%AD"' in html


def test_every_datastore_resource_downloads_in_every_format(portal: Portal) -> None:
    air = portal.client.get(f"/data/dataset/{AIR}").text
    formats = re.findall(rf'href="/datastore/dump/{AIR_RESOURCE}\?format=(\w+)"', air)
    assert formats == ["csv", "json", "parquet"]  # no geometry column: no GeoJSON
    parking = portal.client.get(f"/data/dataset/{PARKING}").text
    formats = re.findall(rf'href="/datastore/dump/{PARKING_RESOURCE}\?format=(\w+)"', parking)
    assert formats == ["csv", "json", "geojson", "parquet"]
    assert 'href="http://portal.test/datastore/dump/link-only"' in parking  # a link-only resource keeps its link


def test_the_preview_table_shows_the_first_rows_with_labels(portal: Portal) -> None:
    html = portal.client.get(f"/data/dataset/{AIR}").text
    table = re.search(r'<table id="preview-table">(.*?)</table>', html, re.S)
    assert table is not None
    headers = re.findall(r"<th [^>]*>([^<]*)</th>", table.group(1))
    assert headers == ["Thời điểm", "station", "VN_AQI", "pm25", "latitude", "longitude"]
    rows = re.findall(r"<tr><td>([^<]*)</td>", table.group(1))
    assert len(rows) == 20
    assert rows[0] == "2026-11-20T00:00:00Z"  # as stored (and as downloaded)
    assert "20 dòng đầu trên tổng 96" in html


def test_the_chart_data_is_the_latest_series_oldest_first(portal: Portal) -> None:
    html = portal.client.get(f"/data/dataset/{AIR}").text
    chart = _json_block(html, "chart-data")
    assert isinstance(chart, dict)
    assert [v["id"] for v in chart["values"]] == ["aqi", "pm25"]  # coordinates are not series
    assert [t["id"] for t in chart["time"]] == ["observed_at"]
    assert chart["series"][0] == "station"
    times = [row[0] for row in chart["rows"]]
    assert times == sorted(times) and len(times) == 96
    assert '<select id="chart-value">' in html
    assert "/ioc/ui/vendor/uplot/uPlot.iife.min.js" in html


def test_the_map_data_has_one_feature_per_place(portal: Portal) -> None:
    air = _json_block(portal.client.get(f"/data/dataset/{AIR}").text, "map-data")
    assert isinstance(air, dict)
    assert len(air["features"]["features"]) == 2  # two stations, 96 rows
    assert air["spatial"]["type"] == "Polygon"
    parking_html = portal.client.get(f"/data/dataset/{PARKING}").text
    parking = _json_block(parking_html, "map-data")
    assert isinstance(parking, dict)
    assert [f["geometry"]["coordinates"] for f in parking["features"]["features"]] == [[106.70, 10.77], [106.69, 10.78]]
    assert "chart-data" not in parking_html  # one moment: no time series
    assert "/ioc/ui/vendor/leaflet/leaflet.js" in parking_html


def test_another_resource_can_be_previewed_and_an_unknown_one_falls_back(portal: Portal) -> None:
    portal.datastore.tables["second"] = Table([FieldSpec("word", "text")], [{"word": "xin chào"}])
    dataset = portal.catalogue.items[AIR]
    dataset["resources"].append({"id": "second", "name": "Thứ hai", "format": "CSV", "datastore_active": True})
    html = portal.client.get(f"/data/dataset/{AIR}", params={"resource": "second"}).text
    assert "xin chào" in html
    assert "chart-data" not in html
    fallback = portal.client.get(f"/data/dataset/{AIR}", params={"resource": "nope"}).text
    assert "Thứ hai" in fallback and "chart-data" in fallback


def test_the_api_examples_use_the_public_address(portal: Portal) -> None:
    html = unescape(portal.client.get(f"/data/dataset/{AIR}").text)
    assert f"curl 'http://portal.test/api/3/action/package_show?id={AIR}'" in html
    assert f"curl 'http://portal.test/api/3/action/datastore_search?resource_id={AIR_RESOURCE}&limit=5'" in html
    assert 'portal = RemoteCKAN("http://portal.test")' in html
    assert f'portal.action.package_show(id="{AIR}")' in html
    assert f"curl 'http://portal.test/dataset/id-{AIR}.ttl'" in html


def test_a_failing_datastore_leaves_the_dataset_page_up(portal: Portal) -> None:
    portal.datastore.fail_with = RuntimeError("database went away")
    response = portal.client.get(f"/data/dataset/{AIR}")
    assert response.status_code == 200
    assert "Tạm thời không xem trước được dữ liệu." in response.text
    assert "Chất lượng không khí theo giờ" in response.text
    portal.datastore.fail_with = OpenDataError("refused")
    assert portal.client.get(f"/data/dataset/{AIR}").status_code == 200


def test_a_resource_missing_from_the_datastore_says_so(portal: Portal) -> None:
    del portal.datastore.tables[AIR_RESOURCE]
    html = portal.client.get(f"/data/dataset/{AIR}").text
    assert "Tài nguyên này không có trong kho dữ liệu truy vấn được." in html


# -- organisations, themes, the API page ----------------------------------------------------------------------------


def test_organisation_and_theme_pages_list_their_datasets(portal: Portal) -> None:
    org = portal.client.get("/data/organization/so-gtvt", params={"lang": "en"}).text
    assert '<h1 id="title">Department of Transport</h1>' in org
    assert sorted(_names(org)) == sorted([PARKING, HOSTILE])
    assert 'href="/data?organization=so-gtvt"' in org
    theme = portal.client.get("/data/group/moi-truong", params={"lang": "vi"}).text
    assert "26 bộ dữ liệu" in theme
    assert len(_names(theme)) == 20
    index = portal.client.get("/data/organization").text
    assert 'href="/data/organization/so-tnmt"' in index and "26 bộ dữ liệu" in index
    themes = portal.client.get("/data/group").text
    assert 'href="/data/group/giao-thong"' in themes


def test_the_api_page_links_the_openapi_description(portal: Portal) -> None:
    html = portal.client.get("/data/api").text
    assert 'href="/openapi.json"' in html and 'href="/docs"' in html
    assert "package_search?q=chat+luong+khong+khi" in html
    spec = portal.client.get("/openapi.json").json()
    assert "/data/dataset/{dataset_name}" in spec["paths"]


# -- errors ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/data/dataset/no-such-dataset", "Không có bộ dữ liệu nào tên “no-such-dataset”."),
        ("/data/organization/no-such-org", "Không có cơ quan nào tên “no-such-org”."),
        ("/data/group/no-such-theme", "Không có chủ đề nào tên “no-such-theme”."),
    ],
)
def test_unknown_names_are_404_pages(portal: Portal, path: str, message: str) -> None:
    response = portal.client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert message in response.text
    assert '<meta name="robots" content="noindex">' in response.text
    assert 'href="/data"' in response.text


def test_an_unknown_address_under_data_is_a_404_page(portal: Portal) -> None:
    for path in ("/data/nothing/here", "/data/static/js/missing.js", "/data/static/../policy.py"):
        response = portal.client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")
        assert "Không tìm thấy" in response.text


def test_a_failing_or_missing_catalogue_is_a_503_page_never_a_500(portal: Portal) -> None:
    portal.catalogue.fail_with = RuntimeError("database went away")
    for path in ("/data", f"/data/dataset/{AIR}", "/data/organization/so-tnmt", "/data/organization"):
        response = portal.client.get(path)
        assert response.status_code == 503, path
        assert "Danh mục dữ liệu tạm thời không trả lời" in response.text
    portal.app.state.opendata.catalogue = None
    assert portal.client.get("/data").status_code == 503


def test_only_get_is_served(portal: Portal) -> None:
    response = portal.client.post("/data", data={"q": "x"})
    assert response.status_code in (403, 405)
    assert "500" not in str(response.status_code)


# -- files -----------------------------------------------------------------------------------------------------------


def test_static_files_have_etags_and_revalidate(portal: Portal) -> None:
    first = portal.client.get("/data/static/js/main.js")
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/javascript")
    etag = first.headers["etag"]
    again = portal.client.get("/data/static/js/main.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    css = portal.client.get("/data/static/site.css")
    assert css.headers["content-type"].startswith("text/css")


def test_every_file_a_page_refers_to_is_served_and_nothing_comes_from_outside(portal: Portal) -> None:
    seen: set[str] = set()
    for path in ("/data", f"/data/dataset/{AIR}", f"/data/dataset/{PARKING}", "/data/api"):
        html = portal.client.get(path).text
        refs = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
        for ref in refs:
            assert ref.startswith("/") or ref.startswith("data:") or ref.startswith("?"), (path, ref)
            if ref.startswith("/"):
                seen.add(ref.split("?")[0])
    assert "/ioc/ui/vendor/leaflet/leaflet.css" in seen
    for ref in seen:
        if ref.startswith("/data?") or ref.startswith("/data/dataset"):
            continue
        assert portal.client.get(ref).status_code == 200, ref
    # the JS modules main.js imports
    for module in ("copy.js", "chart.js", "map.js"):
        assert portal.client.get(f"/data/static/js/{module}").status_code == 200


def test_modelled_data_is_marked_as_such_wherever_it_is_shown(portal: Portal) -> None:
    portal.catalogue.items[AIR]["extras"] = [{"key": "modelled", "value": "true"}]
    page = portal.client.get(f"/data/dataset/{AIR}").text
    assert '<p class="modelled-note" id="modelled">' in page
    assert "Đây là dữ liệu mô phỏng (tổng hợp), không phải số đo thực tế." in page
    listed = portal.client.get("/data", params={"q": "khong khi"}).text
    assert "Dữ liệu mô phỏng" in listed
    assert "Dữ liệu mô phỏng" not in portal.client.get(f"/data/dataset/{PARKING}").text


def test_the_ward_outlines_are_public_and_revalidate(portal: Portal) -> None:
    empty = portal.client.get("/data/wards.geojson")
    assert empty.status_code == 200
    assert empty.json() == {"type": "FeatureCollection", "features": []}
    site = portal.app.state.opendata_site
    assert site.city is not None
    city.load(portal.app.state.hub, city.ward_bodies(3))
    site.city.forget_wards()
    found = portal.client.get("/data/wards.geojson")
    assert found.headers["content-type"].startswith("application/geo+json")
    assert len(found.json()["features"]) == 3
    again = portal.client.get("/data/wards.geojson", headers={"If-None-Match": found.headers["etag"]})
    assert again.status_code == 304
