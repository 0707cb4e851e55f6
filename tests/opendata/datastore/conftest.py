"""The datastore on both backends, and a small table of synthetic hourly air readings computed here."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from smartcity.hub.store import Store
from smartcity.opendata.contracts import FieldSpec
from smartcity.opendata.datastore.store import TableStore

T0 = datetime(2026, 3, 1, tzinfo=UTC)
STATIONS = ["Quận 1", "Thủ Đức", "Bình Thạnh", "Gò Vấp"]
WARDS = ["Bến Nghé", "Linh Trung", "Phường 25", None]
READING_FIELDS = [
    FieldSpec("station", "text", {"label": "Trạm quan trắc", "notes": "synthetic"}),
    FieldSpec("ward", "text"),
    FieldSpec("time", "timestamp"),
    FieldSpec("day", "date"),
    FieldSpec("pm25", "float"),
    FieldSpec("aqi", "int"),
    FieldSpec("ok", "bool"),
    FieldSpec("tags", "json"),
    FieldSpec("location", "geometry"),
]


def reading(n: int) -> dict[str, Any]:
    """Row ``n`` of the synthetic readings (every value derived from n, so tests compute expectations alone)."""
    moment = T0 + timedelta(hours=n)
    return {
        "station": STATIONS[n % 4],
        "ward": WARDS[n % 4],
        "time": moment.isoformat(),
        "day": moment.date().isoformat(),
        "pm25": round(5 + (n * 7919 % 600) / 10, 1),
        "aqi": None if n % 11 == 0 else n * 37 % 200,
        "ok": n % 3 != 0,
        "tags": {"n": n, "even": n % 2 == 0},
        "location": {"type": "Point", "coordinates": [106.6 + n % 4 / 100, 10.7 + n % 4 / 100]},
    }


def expected_time(n: int) -> str:
    return (T0 + timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%S")


@pytest.fixture
def datastore(store: Store) -> TableStore:
    return TableStore(store, "", sql_timeout=2.0, sql_max_rows=50, batch=7)


@pytest.fixture
def readings(datastore: TableStore) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A resource with 60 readings (written in batches of 7), and the rows as written."""
    rid = str(uuid.uuid4())
    datastore.create(rid, READING_FIELDS, primary_key=["station", "time"], indexes=["station,time", "ward"])
    rows = [reading(n) for n in range(60)]
    assert datastore.upsert(rid, iter(rows)) == 60
    yield rid, rows
