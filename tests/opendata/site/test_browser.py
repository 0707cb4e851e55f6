"""The public site in a real browser: headless Chromium (Debian's, never a downloaded one) driven by Playwright.

The platform runs for real (uvicorn on a free port, SQLite in a temporary folder, production security; the
visitor is anonymous), the test datasets created through its catalogue (:mod:`.realdata`). The tests search (without
diacritics), open a dataset, and check the preview table, the chart, the map, the language switch, the phone
layout and the absence of console errors and of requests to anywhere but the platform. Screenshots are kept in
``test-artifacts/opendata-site/`` (git-ignored).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from smartcity.app import create_app
from smartcity.hub.store import open_store
from tests.conftest import IN_CI
from tests.ioc.dashboard import city
from tests.ioc.dashboard.server import serving
from tests.opendata.site.fakes import AIR, PARKING
from tests.opendata.site.realdata import load
from tests.security.support import production

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "opendata-site"


def _require_chromium() -> None:
    """Skip loudly without Chromium; under CI=true its absence is a failure, never a skip."""
    if os.access(CHROMIUM, os.X_OK):
        return
    message = f"{CHROMIUM} is missing (scripts/services.sh installs it: apt-get install chromium)"
    if IN_CI:
        pytest.fail(f"{message}; required under CI=true")
    pytest.skip(message)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _require_chromium()
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('site')}/hub.db")
    try:
        app = create_app(production(), store=store)
        load(app)  # through the real catalogue (and the real datastore once installed)
        city.load(app.state.hub, city.ward_bodies())  # the demo's 168 wards, drawn under the maps
        with serving(app) as url:
            yield url
    finally:
        store.close()


@pytest.fixture(scope="module")
def browser(base: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def _open(browser: Any, base: str, viewport: dict[str, int]) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport=viewport, locale="vi-VN")
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    tab.on("request", lambda r: None if r.url.startswith((base, "data:")) else problems.append(f"outside: {r.url}"))
    return context, tab, problems


@pytest.fixture
def page(browser: Any, base: str) -> Iterator[Any]:
    context, tab, problems = _open(browser, base, {"width": 1280, "height": 900})
    yield tab
    context.close()
    assert problems == [], problems


@pytest.fixture
def phone(browser: Any, base: str) -> Iterator[Any]:
    context, tab, problems = _open(browser, base, {"width": 390, "height": 844})
    yield tab
    context.close()
    assert problems == [], problems


def _shot(page: Any, name: str, **kw: Any) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), **kw)


def _ready(page: Any) -> None:
    page.wait_for_selector("body[data-ready='1']", timeout=15_000)


def test_search_open_a_dataset_and_see_the_preview_the_chart_and_the_map(page: Any, base: str) -> None:
    page.goto(base + "/data")
    _ready(page)
    assert page.locator("html").get_attribute("lang") == "vi"
    page.fill("#q", "chat luong khong khi")
    page.press("#q", "Enter")
    page.wait_for_url("**/data?q=chat+luong+khong+khi")
    _ready(page)
    results = page.locator(".dataset-item h2 a")
    assert results.count() == 1
    _shot(page, "search", full_page=True)
    results.first.click()
    page.wait_for_url(f"**/data/dataset/{AIR}")
    _ready(page)
    assert page.locator("#title").inner_text() == "Chất lượng không khí theo giờ"
    assert page.locator("#preview-table tbody tr").count() == 20
    page.wait_for_selector("#chart .uplot canvas", timeout=10_000)
    assert page.locator("#chart").get_attribute("data-points") == "48"  # one station of two, 48 hours
    assert page.locator("#chart-series option").count() == 2
    page.wait_for_selector("#map path.feature", timeout=10_000)
    assert page.locator("#map path.feature").count() == 2
    assert page.locator("#map path.coverage").count() == 1
    page.wait_for_selector("#map[data-wards='168']", timeout=10_000)
    _shot(page, "dataset", full_page=True)


def test_the_chart_follows_the_column_and_series_chosen(page: Any, base: str) -> None:
    page.goto(f"{base}/data/dataset/{AIR}")
    _ready(page)
    page.wait_for_selector("#chart .uplot canvas")
    legend = page.locator("#chart .u-legend .u-series").nth(1)
    assert "VN_AQI" in legend.inner_text()
    page.select_option("#chart-value", "pm25")
    assert "pm25" in page.locator("#chart .u-legend .u-series").nth(1).inner_text()
    page.select_option("#chart-series", "tram-b")
    assert page.locator("#chart").get_attribute("data-points") == "48"
    assert page.locator("#chart .uplot").count() == 1  # redrawn, not stacked


def test_a_geographic_dataset_draws_its_features_with_text_only_popups(page: Any, base: str) -> None:
    page.goto(f"{base}/data/dataset/{PARKING}")
    _ready(page)
    page.wait_for_selector("#map path.feature")
    assert page.locator("#map path.feature").count() == 2
    assert page.locator("#chart").count() == 0
    page.locator("#map path.feature").first.click(force=True)
    page.wait_for_selector(".leaflet-popup-content dl")
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert "Bãi A <b>" in popup  # the value as text, not markup
    assert page.locator(".leaflet-popup-content b").count() == 0
    downloads = page.locator("a.download")
    assert [downloads.nth(i).inner_text() for i in range(downloads.count())] == ["CSV", "JSON", "GEOJSON", "PARQUET"]
    _shot(page, "geographic")


def test_facets_narrow_the_search(page: Any, base: str) -> None:
    page.goto(base + "/data")
    _ready(page)
    page.click("[data-facet='organization'] a[data-value='so-giao-thong-van-tai']")
    page.wait_for_url("**/data?organization=so-giao-thong-van-tai")
    assert page.locator(".dataset-item").count() == 2
    page.click("[data-facet='res_format'] a[data-value='GeoJSON']")
    page.wait_for_url("**res_format=GeoJSON")
    assert page.locator(".dataset-item").count() == 1
    page.click("a.chip")  # remove the first filter
    assert page.locator(".dataset-item").count() == 1


def test_the_language_switch_is_remembered(page: Any, base: str) -> None:
    page.goto(f"{base}/data/dataset/{AIR}")
    _ready(page)
    page.click("#lang-switch")
    page.wait_for_url("**lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#title").inner_text() == "Hourly air quality"
    page.goto(base + "/data")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "datasets" in page.locator("#count").inner_text()
    page.click("#lang-switch")
    assert page.locator("html").get_attribute("lang") == "vi"


def test_the_dataset_page_fits_a_phone_screen(phone: Any, base: str) -> None:
    phone.goto(f"{base}/data/dataset/{AIR}")
    _ready(phone)
    phone.wait_for_selector("#chart .uplot canvas")
    phone.wait_for_selector("#map path.feature")
    overflow = phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    chart_width = phone.evaluate("document.querySelector('#chart .uplot').getBoundingClientRect().width")
    assert chart_width <= 390
    _shot(phone, "phone-dataset", full_page=True)
    phone.goto(base + "/data")
    _ready(phone)
    assert phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    _shot(phone, "phone-search", full_page=True)
