"""Category tables of both scales and every boundary."""

from __future__ import annotations

import itertools

import pytest

from smartcity.aqi import US_CATEGORIES, VN_CATEGORIES, Category, us_category, vn_category
from smartcity.aqi.categories import category_for

VN_EXPECTED = [
    ("good", "Tốt", "Good", "#00E400", (0, 228, 0), 0, 50),
    ("moderate", "Trung bình", "Moderate", "#FFFF00", (255, 255, 0), 51, 100),
    ("poor", "Kém", "Poor", "#FF7E00", (255, 126, 0), 101, 150),
    ("bad", "Xấu", "Bad", "#FF0000", (255, 0, 0), 151, 200),
    ("very_bad", "Rất xấu", "Very bad", "#8F3F97", (143, 63, 151), 201, 300),
    ("hazardous", "Nguy hại", "Hazardous", "#7E0023", (126, 0, 35), 301, 500),
]

US_EXPECTED = [
    ("good", "Good", "#00E400", 0, 50),
    ("moderate", "Moderate", "#FFFF00", 51, 100),
    ("unhealthy_sensitive", "Unhealthy for Sensitive Groups", "#FF7E00", 101, 150),
    ("unhealthy", "Unhealthy", "#FF0000", 151, 200),
    ("very_unhealthy", "Very Unhealthy", "#8F3F97", 201, 300),
    ("hazardous", "Hazardous", "#7E0023", 301, 500),
]


def test_vn_table_1() -> None:
    got = [(c.key, c.name_vi, c.name_en, c.colour_hex, c.rgb, c.low, c.high) for c in VN_CATEGORIES]
    assert got == VN_EXPECTED


def test_us_table() -> None:
    got = [(c.key, c.name_en, c.colour_hex, c.low, c.high) for c in US_CATEGORIES]
    assert got == US_EXPECTED
    assert all(c.name_vi for c in US_CATEGORIES)


@pytest.mark.parametrize("table", [VN_CATEGORIES, US_CATEGORIES])
def test_tables_cover_0_to_500_without_gaps(table: tuple[Category, ...]) -> None:
    assert table[0].low == 0
    assert table[-1].high == 500
    for a, b in itertools.pairwise(table):
        assert b.low == a.high + 1


@pytest.mark.parametrize("table", [VN_CATEGORIES, US_CATEGORIES])
def test_hex_matches_rgb(table: tuple[Category, ...]) -> None:
    for c in table:
        assert c.colour_hex == "#{:02X}{:02X}{:02X}".format(*c.rgb)


@pytest.mark.parametrize(
    ("value", "vn_key", "us_key"),
    [
        (0, "good", "good"),
        (50, "good", "good"),
        (51, "moderate", "moderate"),
        (100, "moderate", "moderate"),
        (101, "poor", "unhealthy_sensitive"),
        (150, "poor", "unhealthy_sensitive"),
        (151, "bad", "unhealthy"),
        (200, "bad", "unhealthy"),
        (201, "very_bad", "very_unhealthy"),
        (300, "very_bad", "very_unhealthy"),
        (301, "hazardous", "hazardous"),
        (500, "hazardous", "hazardous"),
    ],
)
def test_every_boundary(value: int, vn_key: str, us_key: str) -> None:
    assert vn_category(value).key == vn_key
    assert us_category(value).key == us_key
    assert category_for("VN_AQI", value).key == vn_key
    assert category_for("US_EPA_AQI", value).key == us_key


@pytest.mark.parametrize("value", [-1, 501, 1000])
def test_out_of_range(value: int) -> None:
    with pytest.raises(ValueError, match="between 0 and 500"):
        vn_category(value)
    with pytest.raises(ValueError, match="between 0 and 500"):
        us_category(value)


@pytest.mark.parametrize("value", [50.5, "50", True, None])
def test_non_integer_values(value: object) -> None:
    with pytest.raises(ValueError, match="integer"):
        vn_category(value)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="integer"):
        us_category(value)  # type: ignore[arg-type]


def test_unknown_scale() -> None:
    with pytest.raises(ValueError, match="unknown AQI scale"):
        category_for("CN_AQI", 10)  # type: ignore[arg-type]
