"""The 168 wards, communes and special zone of Ho Chi Minh City since 1 July 2025, as ``AdministrativeArea``.

Source: the official boundaries (sapnhap.bando.com.vn) as exported by thanglequoc/vietnamese-provinces-database.
Each boundary is simplified with shapely (Douglas-Peucker, :data:`TOLERANCE_DEG` = 0.0001° ≈ 11 m, topology of each
ward preserved) to keep entities small: about 217,000 positions become about 29,000 and no ward's area changes by
more than 1 %. Neighbouring wards are simplified independently, so their shared edges may differ by up to the
tolerance. Names, codes and areas are unchanged.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

from smartcity.demo import sources

log = logging.getLogger(__name__)

TOLERANCE_DEG = 0.0001
ENTITY_TYPE = "AdministrativeArea"
#: the first word(s) of ``fullName`` -> the kind of unit
LEVELS = {"Phường": "ward", "Xã": "commune", "Đặc khu": "special zone"}


def entity_id(code: str) -> str:
    return f"urn:ngsi-ld:AdministrativeArea:HCMC:{code}"


def simplify(geometry: dict[str, Any], tolerance: float = TOLERANCE_DEG) -> dict[str, Any]:
    """A GeoJSON (Multi)Polygon simplified and rounded to 6 decimals (0.1 m); the original if that breaks it."""
    original: BaseGeometry = shape(geometry)
    simpler = original.simplify(tolerance, preserve_topology=True)
    if isinstance(simpler, Polygon):
        simpler = MultiPolygon([simpler])
    rounded = shapely.set_precision(simpler, 1e-6)
    if isinstance(rounded, Polygon):
        rounded = MultiPolygon([rounded])
    if rounded.is_empty or not rounded.is_valid or not isinstance(rounded, MultiPolygon):
        log.debug("simplification changed a ward's validity: keeping its original boundary")
        return geometry
    out: dict[str, Any] = json.loads(json.dumps(mapping(rounded)))
    return out


def level_of(full_name: str) -> str:
    for prefix, level in LEVELS.items():
        if full_name.startswith(prefix):
            return level
    return "unknown"


def entity(feature: dict[str, Any]) -> dict[str, Any]:
    p = feature["properties"]
    body: dict[str, Any] = {
        "id": entity_id(str(p["code"])),
        "type": ENTITY_TYPE,
        "name": {"type": "Property", "value": p["name"]},
        "nameEn": {"type": "Property", "value": p["nameEn"]},
        "fullName": {"type": "Property", "value": p["fullName"]},
        "fullNameEn": {"type": "Property", "value": p["fullNameEn"]},
        "code": {"type": "Property", "value": str(p["code"])},
        "administrativeLevel": {"type": "Property", "value": level_of(str(p["fullName"]))},
        "area": {"type": "Property", "value": p["areaKm2"], "unitCode": "KMK"},
        "provinceCode": {"type": "Property", "value": str(p["provinceCode"])},
        "location": {"type": "GeoProperty", "value": simplify(feature["geometry"])},
    }
    if p.get("mergedFrom"):
        body["mergedFrom"] = {"type": "Property", "value": p["mergedFrom"]}
    body.update(
        sources.provenance(
            "Vietnam Natural Resources, Environment and Cartography Publishing House (sapnhap.bando.com.vn)",
            sources.REPO_WARDS,
            modelled=False,
            description=f"Official boundary since 1 July 2025, simplified with a {TOLERANCE_DEG}° tolerance "
            "(about 11 m) for the demo.",
        )
    )
    return body


def read() -> list[dict[str, Any]]:
    """The 168 ward entities, in file order."""
    collection = json.loads(sources.text_of(sources.WARDS))
    return [entity(feature) for feature in collection["features"]]
