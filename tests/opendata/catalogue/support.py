"""Datasets for the catalogue's tests (made up for the tests, in the city's terms)."""

from __future__ import annotations

from typing import Any


def air_quality(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "chat-luong-khong-khi",
        "title": "Chất lượng không khí theo giờ",
        "title_translated": {"vi": "Chất lượng không khí theo giờ", "en": "Hourly air quality"},
        "notes": "Nồng độ PM2.5, PM10 và chỉ số VN_AQI tại các trạm quan trắc.",
        "notes_translated": {"vi": "Nồng độ PM2.5, PM10 và chỉ số VN_AQI.", "en": "PM2.5, PM10 and VN_AQI by station."},
        "owner_org": "so-tai-nguyen-va-moi-truong",
        "groups": [{"name": "environment"}],
        "tags": [{"name": "không khí"}, {"name": "PM2.5"}],
        "license_id": "CC-BY-4.0",
        "frequency": "hourly",
        "temporal_start": "2025-01-01",
        "spatial": {"type": "Point", "coordinates": [106.7, 10.78]},
        "resources": [
            {"url": "https://data.example/aq.csv", "name": "Số liệu theo giờ", "description": "Một dòng mỗi giờ"},
            {"url": "https://data.example/aq.parquet", "name": "Parquet", "format": "parquet"},
        ],
    }
    data.update(overrides)
    return data


def car_parks(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "bai-do-xe",
        "title": "Bãi đỗ xe: chỗ trống hiện tại",
        "title_translated": {"vi": "Bãi đỗ xe: chỗ trống hiện tại", "en": "Car parks: free spaces now"},
        "notes": "Số chỗ trống của các bãi đỗ xe công cộng.",
        "owner_org": "so-giao-thong-van-tai",
        "groups": [{"name": "transport"}],
        "tags": ["giao thông", "đỗ xe"],
        "license_id": "ODC-BY-1.0",
        "frequency": "continuous",
        "resources": [{"url": "https://data.example/parks.json", "name": "Bãi đỗ xe", "format": "JSON"}],
    }
    data.update(overrides)
    return data


def flood(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "muc-nuoc",
        "title": "Mực nước và điểm ngập",
        "notes": "Mực nước tại các trạm đo; chất lượng số liệu được kiểm tra hằng ngày.",
        "owner_org": "trung-tam-chong-ngap",
        "groups": ["flood", "environment"],
        "tags": ["ngập", "mực nước"],
        "license_id": "CC-BY-4.0",
        "frequency": "hourly",
        "resources": [{"url": "https://data.example/water.csv", "name": "Mực nước"}],
    }
    data.update(overrides)
    return data
