"""AQI categories of both scales, with names and colours.

* VN_AQI: Table 1 of Decision 1459/QĐ-TCMT (Vietnam Environment Administration, 12 Nov 2019): six bands with
  the Vietnamese names of the decision; the English names are the platform's translation.
* US EPA AQI: 40 CFR Part 58, Appendix G (Table 2), with the EPA's colours.  The English names are the EPA's; the
  Vietnamese names are the platform's translation, so a Vietnamese user interface can label either scale.

Both scales share the same six colours.  A value must be an integer from 0 to 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["US_CATEGORIES", "VN_CATEGORIES", "Category", "Scale", "category_for", "us_category", "vn_category"]

Scale = Literal["VN_AQI", "US_EPA_AQI"]


@dataclass(frozen=True)
class Category:
    """One band of an AQI scale: ``low <= value <= high``."""

    key: str
    name_vi: str
    name_en: str
    colour_hex: str
    rgb: tuple[int, int, int]
    low: int
    high: int

    def contains(self, value: int) -> bool:
        return self.low <= value <= self.high


_GREEN = ("#00E400", (0, 228, 0))
_YELLOW = ("#FFFF00", (255, 255, 0))
_ORANGE = ("#FF7E00", (255, 126, 0))
_RED = ("#FF0000", (255, 0, 0))
_PURPLE = ("#8F3F97", (143, 63, 151))
_MAROON = ("#7E0023", (126, 0, 35))

VN_CATEGORIES: tuple[Category, ...] = (
    Category("good", "Tốt", "Good", *_GREEN, 0, 50),
    Category("moderate", "Trung bình", "Moderate", *_YELLOW, 51, 100),
    Category("poor", "Kém", "Poor", *_ORANGE, 101, 150),
    Category("bad", "Xấu", "Bad", *_RED, 151, 200),
    Category("very_bad", "Rất xấu", "Very bad", *_PURPLE, 201, 300),
    Category("hazardous", "Nguy hại", "Hazardous", *_MAROON, 301, 500),
)
"""Table 1 of Decision 1459/QĐ-TCMT."""

US_CATEGORIES: tuple[Category, ...] = (
    Category("good", "Tốt", "Good", *_GREEN, 0, 50),
    Category("moderate", "Trung bình", "Moderate", *_YELLOW, 51, 100),
    Category(
        "unhealthy_sensitive",
        "Không lành mạnh cho nhóm nhạy cảm",
        "Unhealthy for Sensitive Groups",
        *_ORANGE,
        101,
        150,
    ),
    Category("unhealthy", "Không lành mạnh", "Unhealthy", *_RED, 151, 200),
    Category("very_unhealthy", "Rất không lành mạnh", "Very Unhealthy", *_PURPLE, 201, 300),
    Category("hazardous", "Nguy hại", "Hazardous", *_MAROON, 301, 500),
)
"""EPA AQI categories (40 CFR Part 58, Appendix G)."""


def _lookup(table: tuple[Category, ...], value: int, scale: str) -> Category:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{scale} value must be an integer, got {type(value).__name__} {value!r}")
    for category in table:
        if category.contains(value):
            return category
    raise ValueError(f"{scale} value must be between 0 and 500, got {value}")


def vn_category(value: int) -> Category:
    """The VN_AQI category (Table 1 of Decision 1459/QĐ-TCMT) of an integer index value 0..500."""
    return _lookup(VN_CATEGORIES, value, "VN_AQI")


def us_category(value: int) -> Category:
    """The US EPA AQI category of an integer index value 0..500."""
    return _lookup(US_CATEGORIES, value, "US_EPA_AQI")


def category_for(scale: Scale, value: int) -> Category:
    """The category of ``value`` on ``scale``."""
    if scale == "VN_AQI":
        return vn_category(value)
    if scale == "US_EPA_AQI":
        return us_category(value)
    raise ValueError(f"unknown AQI scale {scale!r}; expected 'VN_AQI' or 'US_EPA_AQI'")
