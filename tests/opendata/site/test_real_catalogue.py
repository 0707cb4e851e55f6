"""The site on the portal's real catalogue and datastore (SQLite and PostgreSQL), datasets created through them."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from smartcity.app import create_app
from smartcity.hub.store import Store
from tests.opendata.site.conftest import HTML
from tests.opendata.site.fakes import AIR, AIR_RESOURCE, HOSTILE, PARKING
from tests.opendata.site.realdata import load
from tests.security.support import production


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    app = create_app(production(), store=store)
    load(app)
    with TestClient(app, headers=HTML) as test_client:
        yield test_client


def _names(html: str) -> list[str]:
    return re.findall(r'<a href="/data/dataset/([^"]+)">', html)


def test_search_without_diacritics_facets_and_languages(client: TestClient) -> None:
    html = client.get("/data", params={"q": "chat luong khong khi"}).text
    assert _names(html) == [AIR]
    every = client.get("/data").text
    assert "5 bộ dữ liệu" in every
    assert "Sở Tài nguyên và Môi trường" in every  # the department's title, not its name
    link = re.search(r'<a href="([^"]+)" class="" data-value="so-giao-thong-van-tai"', every)
    assert link is not None
    filtered = client.get(link.group(1).replace("&amp;", "&")).text
    assert sorted(_names(filtered)) == sorted([PARKING, HOSTILE])
    english = client.get("/data", params={"lang": "en", "groups": "environment"}).text
    assert "Department of Natural Resources and Environment" in english
    assert "Hourly air quality" in english


def test_the_dataset_page_and_its_preview(client: TestClient) -> None:
    html = client.get(f"/data/dataset/{AIR}", params={"lang": "vi"}).text
    assert '<h1 id="title">Chất lượng không khí theo giờ</h1>' in html
    assert 'href="https://creativecommons.org/licenses/by/4.0/" rel="license"' in html
    assert f'href="/datastore/dump/{AIR_RESOURCE}?format=parquet"' in html
    assert html.count("<tr><td>") == 20
    assert 'id="chart-data"' in html and 'id="map-data"' in html
    assert "Hằng giờ" in html


def test_hostile_text_is_escaped_and_unknown_names_are_404_pages(client: TestClient) -> None:
    html = client.get(f"/data/dataset/{HOSTILE}").text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert client.get("/data/dataset/no-such-dataset").status_code == 404
    assert client.get("/data/organization/no-such-org").status_code == 404
    org = client.get("/data/organization/so-giao-thong-van-tai", params={"lang": "en"}).text
    assert "Department of Transport" in org and sorted(_names(org)) == sorted([PARKING, HOSTILE])
    index = client.get("/data/group").text
    assert 'href="/data/group/flood"' in index


def test_every_sort_and_the_pages(client: TestClient) -> None:
    by_name = _names(client.get("/data", params={"sort": "name"}).text)
    assert by_name == sorted(by_name)
    newest = _names(client.get("/data", params={"sort": "modified"}).text)
    assert sorted(newest) == sorted(by_name) and len(newest) == 5
    beyond = client.get("/data", params={"page": "2"}).text
    assert _names(beyond) == []  # 5 datasets: one page
    assert '<a rel="prev" href="/data">' in beyond  # and a way back


def test_every_download_link_of_a_dataset_page_answers(client: TestClient) -> None:
    for name in (AIR, PARKING):
        html = client.get(f"/data/dataset/{name}").text
        links = re.findall(r'<a class="download" href="([^"]+)"', html)
        assert len(links) >= 3
        for link in links:
            response = client.get(link.replace("&amp;", "&"))
            assert response.status_code == 200, link
            assert response.content, link
