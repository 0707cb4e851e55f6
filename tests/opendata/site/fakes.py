"""In-memory stand-ins of the catalogue and the datastore (the two protocols of ``opendata/contracts.py``), with a
small city's worth of test datasets: an hourly air-quality series with station coordinates, car parks with point
geometries, a dataset with a hostile title, and filler datasets for paging. Test data, never shown as real.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from smartcity.opendata.contracts import (
    Dataset,
    FieldSpec,
    NotFound,
    Resource,
    SearchError,
    SearchQuery,
    SearchResult,
    TablePage,
    TableQuery,
    TableStats,
)

AIR = "chat-luong-khong-khi-theo-gio"
AIR_RESOURCE = "3f0d2c1e-0000-4000-8000-000000000001"
PARKING = "bai-do-xe-hien-tai"
PARKING_RESOURCE = "3f0d2c1e-0000-4000-8000-000000000002"
HOSTILE = "hostile"
HOSTILE_TITLE = "<script>alert('title')</script> & \"quoted\""
HOSTILE_NOTES = "</p><img src=x onerror=alert(1)> {{ 7*7 }}"
HOSTILE_TAG = "<b>tag</b>"
START = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


ORGS = [
    {
        "name": "so-tnmt",
        "title": "Sở Tài nguyên và Môi trường",
        "title_translated": {
            "vi": "Sở Tài nguyên và Môi trường",
            "en": "Department of Natural Resources and Environment",
        },
        "description": "Quan trắc môi trường",
    },
    {
        "name": "so-gtvt",
        "title": "Sở Giao thông vận tải",
        "title_translated": {"vi": "Sở Giao thông vận tải", "en": "Department of Transport"},
        "description": "",
    },
]
GROUPS = [
    {"name": "moi-truong", "title_translated": {"vi": "Môi trường", "en": "Environment"}, "title": "Môi trường"},
    {"name": "giao-thong", "title_translated": {"vi": "Giao thông", "en": "Transport"}, "title": "Giao thông"},
]
LICENSES = [
    {
        "id": "CC-BY-4.0",
        "title": "Creative Commons Attribution 4.0",
        "url": "https://creativecommons.org/licenses/by/4.0/",
    },
    {
        "id": "ODC-BY-1.0",
        "title": "Open Data Commons Attribution License 1.0",
        "url": "https://opendatacommons.org/licenses/by/1-0/",
    },
]


def _resource(rid: str, name: str, fmt: str = "CSV", *, datastore: bool = True) -> Resource:
    return {
        "id": rid,
        "name": name,
        "description": f"Mô tả {name}",
        "format": fmt,
        "url": f"http://portal.test/datastore/dump/{rid}",
        "datastore_active": datastore,
    }


def _dataset(
    name: str,
    title_vi: str,
    title_en: str,
    org: int,
    groups: Sequence[int],
    tags: Sequence[str],
    resources: Sequence[Resource],
    *,
    notes: tuple[str, str] = ("", ""),
    license_id: str = "CC-BY-4.0",
    modified: datetime = START,
    **extra: Any,
) -> Dataset:
    return {
        "id": "id-" + name,
        "name": name,
        "title": title_vi,
        "title_translated": {"vi": title_vi, "en": title_en},
        "notes": notes[0],
        "notes_translated": {"vi": notes[0], "en": notes[1]},
        "organization": ORGS[org],
        "owner_org": ORGS[org]["name"],
        "groups": [GROUPS[g] for g in groups],
        "tags": [{"name": t, "display_name": t} for t in tags],
        "license_id": license_id,
        "resources": list(resources),
        "state": "active",
        "private": False,
        "metadata_created": START.replace(tzinfo=None).isoformat(),
        "metadata_modified": modified.replace(tzinfo=None).isoformat(),
        **extra,
    }


def datasets() -> list[Dataset]:
    found = [
        _dataset(
            AIR,
            "Chất lượng không khí theo giờ",
            "Hourly air quality",
            0,
            [0],
            ["không khí", "VN_AQI"],
            [_resource(AIR_RESOURCE, "Chỉ số theo giờ")],
            notes=("Chỉ số VN_AQI theo giờ của từng trạm.\n\nDữ liệu kiểm thử.", "Hourly VN_AQI per station."),
            frequency="hourly",
            temporal_start="2026-11-20",
            temporal_end="2026-11-21",
            spatial='{"type": "Polygon", "coordinates": [[[106.6, 10.7], [106.8, 10.7], [106.8, 10.9], '
            "[106.6, 10.9], [106.6, 10.7]]]}",
            modified=START + timedelta(days=3),
        ),
        _dataset(
            PARKING,
            "Bãi đỗ xe hiện tại",
            "Car parks now",
            1,
            [1],
            ["bãi đỗ xe"],
            [
                _resource(PARKING_RESOURCE, "Bãi đỗ xe", "GeoJSON"),
                _resource("link-only", "Trang gốc", "HTML", datastore=False),
            ],
            notes=("Số chỗ trống của các bãi đỗ xe.", "Free spaces in car parks."),
            license_id="ODC-BY-1.0",
            frequency="continuous",
            modified=START + timedelta(days=2),
        ),
        _dataset(
            HOSTILE,
            HOSTILE_TITLE,
            HOSTILE_TITLE,
            1,
            [],
            [HOSTILE_TAG],
            [],
            notes=(HOSTILE_NOTES, HOSTILE_NOTES),
            modified=START + timedelta(days=1),
        ),
    ]
    for i in range(25):
        found.append(
            _dataset(
                f"muc-nuoc-{i:02d}",
                f"Mực nước trạm {i:02d}",
                f"Water level gauge {i:02d}",
                0,
                [0],
                ["ngập"],
                [_resource(f"water-{i:02d}", "Mực nước", "CSV", datastore=False)],
                modified=START - timedelta(days=i + 1),
            )
        )
    return found


class FakeCatalogue:
    """Search over titles, notes, tags and resource names, with or without diacritics; CKAN-like facets."""

    def __init__(self, items: Sequence[Dataset] | None = None) -> None:
        self.items = {d["name"]: d for d in (items if items is not None else datasets())}
        self.fail_with: Exception | None = None

    def _check(self) -> None:
        if self.fail_with is not None:
            raise self.fail_with

    def show_dataset(self, id_or_name: str, *, include_private: bool = False) -> Dataset:
        self._check()
        for d in self.items.values():
            if id_or_name in (d["name"], d["id"]):
                return d
        raise NotFound(f"Dataset {id_or_name} not found")

    def _values(self, d: Dataset, facet: str) -> list[str]:
        if facet == "organization":
            return [d["organization"]["name"]]
        if facet == "groups":
            return [g["name"] for g in d["groups"]]
        if facet == "tags":
            return [t["name"] for t in d["tags"]]
        if facet == "res_format":
            return sorted({r["format"] for r in d["resources"]})
        if facet == "license_id":
            return [d["license_id"]]
        return [str(d.get(facet, ""))]

    def search(self, query: SearchQuery) -> SearchResult:
        self._check()
        if query.q.count('"') % 2:
            raise SearchError('Unbalanced quote in q: "')
        words = [] if query.q in ("", "*:*") else fold(query.q).split()
        found = []
        for d in self.items.values():
            text = fold(
                " ".join(
                    [d["title"], d["notes"], *[t["name"] for t in d["tags"]], *[r["name"] for r in d["resources"]]]
                )
            )
            if not all(w in text for w in words):
                continue
            if not all(v in self._values(d, f) for f, v in query.fq):
                continue
            found.append(d)
        facets: dict[str, dict[str, int]] = {}
        for facet in query.facet_fields:
            counts: dict[str, int] = {}
            for d in found:
                for value in self._values(d, facet):
                    counts[value] = counts.get(value, 0) + 1
            facets[facet] = {k: v for k, v in counts.items() if v >= query.facet_mincount}
        for key, order in reversed(list(query.sort)):
            if key == "score":
                continue
            found.sort(key=lambda d: str(d.get(key, "")), reverse=order == "desc")
        return SearchResult(len(found), found[query.start : query.start + query.rows], facets)

    def show_resource(self, resource_id: str) -> Resource:
        for d in self.items.values():
            for r in d["resources"]:
                if r["id"] == resource_id:
                    return dict(r)
        raise NotFound("Resource not found")

    def organizations(self, *, all_fields: bool = False) -> list[Any]:
        self._check()
        return [dict(o) for o in ORGS] if all_fields else [o["name"] for o in ORGS]

    def show_organization(self, id_or_name: str, *, include_datasets: bool = False) -> dict[str, Any]:
        self._check()
        for o in ORGS:
            if o["name"] == id_or_name:
                return dict(o)
        raise NotFound("Organization not found")

    def groups(self, *, all_fields: bool = False) -> list[Any]:
        return [dict(g) for g in GROUPS] if all_fields else [g["name"] for g in GROUPS]

    def show_group(self, id_or_name: str, *, include_datasets: bool = False) -> dict[str, Any]:
        for g in GROUPS:
            if g["name"] == id_or_name:
                return dict(g)
        raise NotFound("Group not found")

    def tags(self, *, query: str | None = None) -> list[str]:
        return sorted({t["name"] for d in self.items.values() for t in d["tags"]})

    def licenses(self) -> list[dict[str, Any]]:
        return [dict(item) for item in LICENSES]

    def list_datasets(self, *, limit: int | None = None, offset: int = 0) -> list[str]:
        return sorted(self.items)[offset : None if limit is None else offset + limit]

    def modified_since(self, since: datetime | None) -> Iterator[Dataset]:
        return iter(self.items.values())

    def create_dataset(self, data: Mapping[str, Any], *, user: str) -> Dataset:
        raise NotImplementedError("the site never writes")

    update_dataset = patch_dataset = create_dataset

    def delete_dataset(self, id_or_name: str, *, user: str) -> None:
        raise NotImplementedError("the site never writes")


@dataclass
class Table:
    fields: list[FieldSpec]
    records: list[dict[str, Any]] = field(default_factory=list)


def tables() -> dict[str, Table]:
    air = Table(
        [
            FieldSpec("observed_at", "timestamp", {"label": "Thời điểm", "label_en": "Observed at", "notes": "UTC"}),
            FieldSpec("station", "text"),
            FieldSpec("aqi", "int", {"label": "VN_AQI"}),
            FieldSpec("pm25", "float"),
            FieldSpec("latitude", "float"),
            FieldSpec("longitude", "float"),
        ]
    )
    for hour in range(48):
        at = (START + timedelta(hours=hour)).isoformat().replace("+00:00", "Z")
        for station, lat, lon, base in (("tram-a", 10.78, 106.70, 60), ("tram-b", 10.75, 106.66, 90)):
            aqi = base + (hour * 7) % 40
            air.records.append(
                {"observed_at": at, "station": station, "aqi": aqi, "pm25": aqi / 3, "latitude": lat, "longitude": lon}
            )
    parking = Table(
        [
            FieldSpec("name", "text"),
            FieldSpec("free", "int"),
            FieldSpec("total", "int"),
            FieldSpec("location", "geometry"),
        ],
        [
            {
                "name": "Bãi A <b>",
                "free": 12,
                "total": 50,
                "location": {"type": "Point", "coordinates": [106.70, 10.77]},
            },
            {"name": "Bãi B", "free": 0, "total": 80, "location": {"type": "Point", "coordinates": [106.69, 10.78]}},
        ],
    )
    return {AIR_RESOURCE: air, PARKING_RESOURCE: parking}


class FakeDatastore:
    def __init__(self, found: dict[str, Table] | None = None) -> None:
        self.tables = found if found is not None else tables()
        self.fail_with: Exception | None = None

    def _table(self, resource_id: str) -> Table:
        if self.fail_with is not None:
            raise self.fail_with
        table = self.tables.get(resource_id)
        if table is None:
            raise NotFound(f"Resource {resource_id} is not in the datastore")
        return table

    def stats(self, resource_id: str) -> TableStats:
        table = self._table(resource_id)
        return TableStats(
            row_count=len(table.records),
            last_modified=START,
            fields=[FieldSpec("_id", "int"), *table.fields],
            has_geometry=any(f.type == "geometry" for f in table.fields),
        )

    def search(self, query: TableQuery) -> TablePage:
        table = self._table(query.resource_id)
        rows = [r for r in table.records if all(r.get(k) == v for k, v in query.filters.items())]
        for key, order in reversed(list(query.sort)):
            rows.sort(key=lambda r: r.get(key), reverse=order == "desc")
        names = list(query.fields) or [f.id for f in table.fields]
        page = [{n: r.get(n) for n in names} for r in rows[query.offset : query.offset + query.limit]]
        specs = [f for f in table.fields if f.id in names]
        return TablePage(fields=specs, records=page, total=len(rows) if query.include_total else None)

    def info(self, resource_id: str) -> dict[str, Any]:
        table = self._table(resource_id)
        return {"meta": {"count": len(table.records)}, "fields": [{"id": f.id, "type": f.type} for f in table.fields]}

    def rows(self, resource_id: str) -> Iterator[dict[str, Any]]:
        return iter(self._table(resource_id).records)
