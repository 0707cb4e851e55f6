"""Helpers of the Open311 tests: an app with a few real wards, photos, a fake incident desk."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image

from smartcity.demo import wards as demo_wards
from smartcity.ioc.contracts import DEPARTMENTS, IncidentRequest

#: 8 wards of the 2025 boundaries (demo data, src/smartcity/demo/data/hcmc_wards_2025.geojson.gz), simplified
WARDS = Path(__file__).with_name("wards_sample.geojson")
BEN_THANH = ("26743", 10.772092, 106.694291)  # code, lat, long of a point inside Phường Bến Thành
SAI_GON = ("26740", 10.780573, 106.702905)
BINH_CHANH = ("27637", 10.672865, 106.596249)
HANOI = (21.0285, 105.8542)


def ward_features() -> list[dict[str, Any]]:
    features: list[dict[str, Any]] = json.loads(WARDS.read_text("utf-8"))["features"]
    return features


def load_wards(client: TestClient, codes: set[str] | None = None) -> None:
    entities = []
    for feature in ward_features():
        if codes is None or feature["properties"]["code"] in codes:
            props = dict(feature["properties"], areaKm2=1.0, provinceCode="79")
            entities.append(demo_wards.entity({"properties": props, "geometry": feature["geometry"]}))
    r = client.post("/ngsi-ld/v1/entityOperations/upsert", json=entities)
    assert r.status_code in (201, 204), r.text


def photo(kind: str = "JPEG", size: tuple[int, int] = (64, 48), *, exif_gps: bool = False) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    if exif_gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"  # Make
        exif[0x8825] = {1: "N", 2: (10.0, 46.0, 20.0)}  # GPS IFD
        image.save(out, kind, exif=exif)
    else:
        image.save(out, kind)
    return out.getvalue()


def xml(response: Any) -> ET.Element:
    assert response.headers["content-type"].startswith("text/xml"), response.headers
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)


def assert_georeport_error(response: Any, status: int, fmt: str = "json") -> str:
    """The GeoReport v2 error envelope with ``status``; returns its description."""
    assert response.status_code == status, response.text
    if fmt == "xml":
        root = xml(response)
        assert root.tag == "errors"
        errors = root.findall("error")
        assert len(errors) == 1
        assert errors[0].findtext("code") == str(status)
        description = errors[0].findtext("description") or ""
    else:
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        assert isinstance(body, list) and len(body) == 1 and set(body[0]) == {"code", "description"}, body
        assert body[0]["code"] == status
        description = body[0]["description"]
    assert description
    return description


class FakeDesk:
    """An incident desk that records what it is asked (contracts.IncidentDesk)."""

    def __init__(self) -> None:
        self.opened: list[IncidentRequest] = []
        self.status: dict[str, dict[str, Any]] = {}

    def open(self, request: IncidentRequest) -> Mapping[str, Any]:
        self.opened.append(request)
        incident_id = f"inc-{len(self.opened)}"
        department = request.department or (f"ward:{request.ward}" if request.ward else "urban_order")
        self.status[incident_id] = {
            "status": "new",
            "statusNotes": None,
            "expectedAt": "2026-03-01T10:00:00.000000Z",
            "updatedAt": "2026-03-01T02:00:00.000000Z",
            "department": department,
            "departmentName": {"vi": f"Đơn vị {department}", "en": f"Unit {department}"},
        }
        return {"id": incident_id, "status": "new", "department": department, "dueAt": "2026-03-01T10:00:00Z"}

    def get(self, incident_id: str) -> Mapping[str, Any] | None:
        return {"id": incident_id} if incident_id in self.status else None

    def public_status(self, incident_id: str) -> Mapping[str, Any] | None:
        return self.status.get(incident_id)

    def summary(self) -> Mapping[str, Any]:
        return {}


DEPARTMENT_CODES = {d.code for d in DEPARTMENTS}
