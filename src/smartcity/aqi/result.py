"""The result of an AQI calculation on either scale."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from smartcity.aqi._numeric import round_half_up_to
from smartcity.aqi.categories import Category, Scale, category_for

__all__ = ["DOMINANCE_ORDER", "AqiResult", "Period", "build_result"]

Period = Literal["hourly", "daily"]

DOMINANCE_ORDER: tuple[str, ...] = ("pm25", "pm10", "o3", "no2", "so2", "co")
"""Tie-break for the dominant pollutant: when several sub-indices equal the maximum, the first parameter in this
order wins (particulate matter first: it is mandatory for VN_AQI and the usual driver in Ho Chi Minh City)."""


@dataclass(frozen=True)
class AqiResult:
    """An AQI value with everything needed to publish it.

    ``sub_indices`` maps parameter keys (``pm25``, ``pm10``, ``o3``, ``no2``, ``so2``, ``co``) to their rounded
    sub-index.  ``concentrations`` holds, in µg/m³, the averaged concentrations the sub-indices were computed from
    (NowCast, 24-hour mean, daily maximum...), keyed by the breakpoint column they were looked up in, e.g.
    ``o3_1h``/``o3_8h`` (see :mod:`smartcity.aqi.vn` and :mod:`smartcity.aqi.us`).  ``value`` is the maximum
    sub-index and ``dominant`` the parameter holding it (ties: :data:`DOMINANCE_ORDER`).
    Both mappings are read-only.  Construction checks the result is self-consistent.
    """

    scale: Scale
    period: Period
    value: int
    category: Category
    dominant: str
    sub_indices: Mapping[str, int] = field(hash=False)
    concentrations: Mapping[str, float] = field(hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sub_indices", MappingProxyType(dict(self.sub_indices)))
        object.__setattr__(self, "concentrations", MappingProxyType(dict(self.concentrations)))
        if self.period not in ("hourly", "daily"):
            raise ValueError(f"period must be 'hourly' or 'daily', got {self.period!r}")
        if category_for(self.scale, self.value) != self.category:
            raise ValueError(f"category {self.category.key!r} does not match {self.scale} value {self.value}")
        if not self.sub_indices:
            raise ValueError("an AQI result needs at least one sub-index")
        if self.sub_indices.get(self.dominant) != self.value or max(self.sub_indices.values()) != self.value:
            raise ValueError(f"value {self.value} must be the maximum sub-index, held by {self.dominant!r}")

    def as_properties(self) -> dict[str, Any]:
        """A JSON-able dict for an NGSI-LD entity (e.g. the ``airQualityIndex`` property of an AirQualityObserved).

        ``category`` is the Vietnamese name, ``categoryEn`` the English one; concentrations are in µg/m³
        (UN/CEFACT code ``GQ``) rounded half up to one decimal.
        """
        return {
            "value": self.value,
            "scale": self.scale,
            "period": self.period,
            "category": self.category.name_vi,
            "categoryEn": self.category.name_en,
            "categoryKey": self.category.key,
            "colour": self.category.colour_hex,
            "dominantPollutant": self.dominant,
            "subIndices": dict(self.sub_indices),
            "concentrations": {k: round_half_up_to(v, 1) for k, v in self.concentrations.items()},
            "concentrationUnitCode": "GQ",
        }


def build_result(
    scale: Scale, period: Period, sub_indices: Mapping[str, int], concentrations: Mapping[str, float]
) -> AqiResult:
    """Assemble a result: value = max sub-index, dominant by :data:`DOMINANCE_ORDER` on ties."""
    unknown = set(sub_indices) - set(DOMINANCE_ORDER)
    if unknown:
        raise ValueError(f"unknown parameter(s) in sub-indices: {', '.join(sorted(unknown))}")
    value = max(sub_indices.values())
    dominant = next(k for k in DOMINANCE_ORDER if sub_indices.get(k) == value)
    ordered = {k: sub_indices[k] for k in DOMINANCE_ORDER if k in sub_indices}
    return AqiResult(scale, period, value, category_for(scale, value), dominant, ordered, concentrations)
