"""CKAN dataset dictionaries shaped like the portal's (``package_show`` results), for the DCAT-AP tests.

Written for the tests: the titles, departments and coordinates look like the city's, but these are not published
datasets and their values are not measurements.
"""

from __future__ import annotations

from typing import Any

CITY_BOX = {
    "type": "Polygon",
    "coordinates": [[[106.36, 10.37], [107.03, 10.37], [107.03, 11.16], [106.36, 11.16], [106.36, 10.37]]],
}

ENVIRONMENT_DEPT = {
    "id": "0d6f6c1e-6a0e-4c55-9a0a-3b1b0b6e0a01",
    "name": "so-tai-nguyen-moi-truong",
    "title": "Sở Tài nguyên và Môi trường",
    "title_translated": {"vi": "Sở Tài nguyên và Môi trường", "en": "Department of Natural Resources and Environment"},
}
TRANSPORT_DEPT = {
    "id": "0d6f6c1e-6a0e-4c55-9a0a-3b1b0b6e0a02",
    "name": "so-giao-thong-van-tai",
    "title": "Sở Giao thông Vận tải",
}


def group(name: str, vi: str, en: str) -> dict[str, Any]:
    return {"id": f"group-{name}", "name": name, "title": vi, "title_translated": {"vi": vi, "en": en}}


def air_quality() -> dict[str, Any]:
    """Hourly history in the datastore (no geometry), bilingual, every optional part."""
    return {
        "id": "6b1d3c9e-2f4a-4b8e-9d51-0a7e5c1f2b01",
        "name": "chat-luong-khong-khi-theo-gio",
        "type": "dataset",
        "state": "active",
        "private": False,
        "title": "Chất lượng không khí theo giờ",
        "title_translated": {"vi": "Chất lượng không khí theo giờ", "en": "Hourly air quality"},
        "notes": "PM2.5, PM10, O3, NO2, CO, SO2 và VN_AQI theo giờ tại các trạm quan trắc.",
        "notes_translated": {
            "vi": "PM2.5, PM10, O3, NO2, CO, SO2 và VN_AQI theo giờ tại các trạm quan trắc.",
            "en": "Hourly PM2.5, PM10, O3, NO2, CO, SO2 and VN_AQI at the monitoring stations.",
        },
        "organization": ENVIRONMENT_DEPT,
        "owner_org": ENVIRONMENT_DEPT["id"],
        "groups": [group("environment", "Môi trường", "Environment"), group("health", "Y tế", "Health")],
        "tags": [{"name": "air-quality", "display_name": "air-quality"}, {"name": "vn-aqi", "display_name": "vn-aqi"}],
        "license_id": "CC-BY-4.0",
        "license_title": "Creative Commons Attribution 4.0",
        "license_url": "https://creativecommons.org/licenses/by/4.0/",
        "frequency": "hourly",
        "temporal_start": "2021-02-23T00:00:00",
        "temporal_end": "2022-06-21T23:00:00",
        "spatial": CITY_BOX,
        "maintainer": "Phòng Quan trắc Môi trường",
        "maintainer_email": "quantrac@example.org",
        "version": "1.2",
        "metadata_created": "2026-01-05T02:00:00.000000",
        "metadata_modified": "2026-11-24T08:00:00.123456",
        "resources": [
            {
                "id": "9e3b8f6a-1111-4c2e-8f00-aaaaaaaaaa01",
                "package_id": "6b1d3c9e-2f4a-4b8e-9d51-0a7e5c1f2b01",
                "name": "Số liệu theo giờ",
                "name_translated": {"vi": "Số liệu theo giờ", "en": "Hourly readings"},
                "description": "Một dòng cho mỗi trạm và mỗi giờ.",
                "format": "CSV",
                "url": "/datastore/dump/9e3b8f6a-1111-4c2e-8f00-aaaaaaaaaa01?format=csv",
                "datastore_active": True,
                "created": "2026-01-05T02:00:00",
                "last_modified": "2026-11-24T08:00:00",
            }
        ],
    }


def car_parks() -> dict[str, Any]:
    """Current state in the datastore with geometry (GeoJSON download), spatial as text, extras."""
    return {
        "id": "6b1d3c9e-2f4a-4b8e-9d51-0a7e5c1f2b02",
        "name": "bai-do-xe-hien-tai",
        "state": "active",
        "private": False,
        "title": "Bãi đỗ xe: số chỗ trống hiện tại",
        "title_translated": {"vi": "Bãi đỗ xe: số chỗ trống hiện tại", "en": "Car parks: free spaces now"},
        "notes_translated": {"vi": "Số chỗ trống của các bãi đỗ xe.", "en": "Free spaces at the city's car parks."},
        "organization": TRANSPORT_DEPT,
        "groups": [group("transport", "Giao thông", "Transport")],
        "tags": [{"name": "parking"}],
        "license_id": "odc-by",
        "extras": [
            {"key": "frequency", "value": "continuous"},
            {
                "key": "spatial",
                "value": '{"type": "MultiPoint", "coordinates": [[106.7009, 10.7769], [106.6953, 10.7721]]}',
            },
        ],
        "metadata_created": "2026-03-01T00:00:00",
        "metadata_modified": "2026-11-24T08:05:00",
        "resources": [
            {
                "id": "9e3b8f6a-1111-4c2e-8f00-aaaaaaaaaa02",
                "name": "Bãi đỗ xe",
                "format": "CSV",
                "url": "",
                "datastore_active": True,
                "last_modified": "2026-11-24T08:05:00",
            },
            {
                "id": "9e3b8f6a-1111-4c2e-8f00-aaaaaaaaaa03",
                "name": "API",
                "format": "API",
                "url": "https://example.org/ngsi-ld/v1/entities?type=OffStreetParking",
            },
        ],
    }


def wards() -> dict[str, Any]:
    """A file resource with size and media type, a Vietnamese-only description, a date-only coverage."""
    return {
        "id": "6b1d3c9e-2f4a-4b8e-9d51-0a7e5c1f2b03",
        "name": "ranh-gioi-phuong-xa",
        "state": "active",
        "title": "Ranh giới phường, xã",
        "title_translated": {"vi": "Ranh giới phường, xã", "en": "Ward boundaries"},
        "notes": "168 phường, xã và đặc khu từ ngày 1/7/2025.",
        "organization": {"id": "org-3", "name": "so-noi-vu", "title": "Sở Nội vụ"},
        "groups": [group("administration", "Hành chính", "Administration")],
        "license_id": "ODbL-1.0",
        "frequency": "irregular",
        "temporal_start": "2025-07-01",
        "spatial": {"type": "Feature", "properties": {}, "geometry": CITY_BOX},
        "author": "Sở Nội vụ",
        "author_email": "noivu@example.org",
        "metadata_created": "2025-07-01T00:00:00",
        "metadata_modified": "2025-07-02T00:00:00",
        "resources": [
            {
                "id": "9e3b8f6a-1111-4c2e-8f00-aaaaaaaaaa04",
                "name": "Ranh giới (GeoJSON)",
                "format": "GeoJSON",
                "mimetype": "application/geo+json",
                "size": 5027343,
                "url": "https://example.org/files/hcmc_wards_2025.geojson",
                "created": "2025-07-01T00:00:00",
            }
        ],
    }


def minimal() -> dict[str, Any]:
    """Only what CKAN requires: no notes, organisation, licence, frequency, coverage or resources."""
    return {
        "id": "6b1d3c9e-2f4a-4b8e-9d51-0a7e5c1f2b04",
        "name": "danh-sach-toi-thieu",
        "title": "Danh sách tối thiểu",
        "metadata_modified": "2026-02-02T00:00:00",
    }


def bus_stops() -> dict[str, Any]:
    """A group without an EU theme, a format without an EU file type, an unusable spatial value."""
    return {
        "id": "6b1d3c9e-2f4a-4b8e-9d51-0a7e5c1f2b05",
        "name": "tram-xe-buyt",
        "title": "Trạm xe buýt",
        "notes": "Các trạm dừng xe buýt.",
        "organization": TRANSPORT_DEPT,
        "groups": [group("bus", "Xe buýt", "Buses")],
        "license_id": "other-open",
        "license_url": "https://example.org/licence",
        "license_title": "Giấy phép của thành phố",
        "frequency": "P1W",
        "spatial": "not geojson",
        "metadata_created": "2026-04-01T00:00:00",
        "metadata_modified": "2026-04-02T00:00:00",
        "resources": [
            {"id": "9e3b8f6a-1111-4c2e-8f00-aaaaaaaaaa05", "name": "GTFS", "format": "GTFS", "url": "/files/gtfs.zip"}
        ],
    }


def all_datasets() -> list[dict[str, Any]]:
    return [air_quality(), car_parks(), wards(), minimal(), bus_stops()]


#: the resources whose datastore tables have geometry
WITH_GEOMETRY = {"9e3b8f6a-1111-4c2e-8f00-aaaaaaaaaa02"}
