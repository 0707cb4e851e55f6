"""datastore_search against values computed here from the rows as written, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from smartcity.hub.store import Store
from smartcity.opendata.contracts import FieldSpec, NotFound, TableQuery, ValidationFailed
from smartcity.opendata.datastore.store import TableStore
from tests.opendata.datastore.conftest import STATIONS, expected_time, reading

Rows = tuple[str, list[dict[str, Any]]]


def ids(records: list[dict[str, Any]]) -> list[int]:
    return [r["_id"] for r in records]


def test_all_rows_come_back_in_id_order_with_json_ready_values(datastore: TableStore, readings: Rows) -> None:
    rid, rows = readings
    page = datastore.search(TableQuery(rid, limit=100))
    assert page.total == 60 and ids(page.records) == list(range(1, 61))
    assert [f.id for f in page.fields] == [
        "_id",
        "station",
        "ward",
        "time",
        "day",
        "pm25",
        "aqi",
        "ok",
        "tags",
        "location",
    ]
    for n, record in enumerate(page.records):
        source = rows[n]
        assert record["time"] == expected_time(n)  # UTC, no offset, as CKAN writes it
        assert record["day"] == source["day"]
        assert record["ok"] is source["ok"]
        assert record["tags"] == source["tags"] and record["location"] == source["location"]
        assert record["aqi"] == source["aqi"] and record["pm25"] == source["pm25"]
        assert record["station"] == source["station"] and record["ward"] == source["ward"]


def test_filters_take_a_value_or_a_list_and_null(datastore: TableStore, readings: Rows) -> None:
    rid, rows = readings
    page = datastore.search(TableQuery(rid, filters={"station": "Thủ Đức"}, limit=100))
    assert ids(page.records) == [n + 1 for n, r in enumerate(rows) if r["station"] == "Thủ Đức"]
    assert page.total == 15
    wanted = ["Quận 1", "Gò Vấp"]
    page = datastore.search(TableQuery(rid, filters={"station": wanted, "ok": "true"}, limit=100))
    assert ids(page.records) == [n + 1 for n, r in enumerate(rows) if r["station"] in wanted and r["ok"]]
    assert page.total == len(page.records)
    page = datastore.search(TableQuery(rid, filters={"ward": None}, limit=100))
    assert ids(page.records) == [n + 1 for n, r in enumerate(rows) if r["ward"] is None]
    page = datastore.search(TableQuery(rid, filters={"time": "2026-03-01T10:00:00+07:00"}))
    assert ids(page.records) == [4]  # 03:00 UTC is row 3
    page = datastore.search(TableQuery(rid, filters={"aqi": ["37", 74]}))
    assert ids(page.records) == [n + 1 for n, r in enumerate(rows) if r["aqi"] in (37, 74)]


def test_full_text_finds_words_with_or_without_diacritics(datastore: TableStore, readings: Rows) -> None:
    rid, rows = readings
    for q in ("thu duc", "Thủ Đức", "THU"):
        page = datastore.search(TableQuery(rid, q=q, limit=100))
        assert ids(page.records) == [n + 1 for n, r in enumerate(rows) if r["station"] == "Thủ Đức"], q
    page = datastore.search(TableQuery(rid, q="linh", limit=100))  # a word of the ward column
    assert ids(page.records) == [n + 1 for n, r in enumerate(rows) if r["ward"] == "Linh Trung"]
    page = datastore.search(TableQuery(rid, q={"ward": "phuong"}, limit=100))
    assert ids(page.records) == [n + 1 for n, r in enumerate(rows) if r["ward"] == "Phường 25"]
    assert datastore.search(TableQuery(rid, q={"station": "phuong"})).records == []
    assert datastore.search(TableQuery(rid, q="nowhere")).total == 0


def test_fields_sort_limit_and_offset(datastore: TableStore, readings: Rows) -> None:
    rid, rows = readings
    page = datastore.search(
        TableQuery(rid, fields=["station", "pm25"], sort=[("station", "asc"), ("pm25", "desc")], limit=7, offset=5)
    )
    expected = sorted((r["station"], -r["pm25"]) for r in rows)[5:12]
    assert [(r["station"], -r["pm25"]) for r in page.records] == expected
    assert all(set(r) == {"station", "pm25"} for r in page.records)
    assert page.total == 60
    page = datastore.search(TableQuery(rid, fields=["_id", "aqi"], sort=[("aqi", "desc"), ("_id", "asc")], limit=100))
    with_values = sorted((n for n, r in enumerate(rows) if r["aqi"] is not None), key=lambda n: (-rows[n]["aqi"], n))
    nulls = [n for n, r in enumerate(rows) if r["aqi"] is None]
    assert ids(page.records) == [n + 1 for n in with_values + nulls]  # NULLs last descending, on both engines
    page = datastore.search(TableQuery(rid, fields=["_id"], sort=[("aqi", "asc"), ("_id", "asc")], limit=100))
    assert ids(page.records) == [n + 1 for n in nulls + sorted(with_values, key=lambda n: (rows[n]["aqi"], n))]
    assert datastore.search(TableQuery(rid, limit=0)).records == []
    assert datastore.search(TableQuery(rid, offset=100)).records == []


def test_include_total_and_distinct(datastore: TableStore, readings: Rows) -> None:
    rid, rows = readings
    assert datastore.search(TableQuery(rid, include_total=False)).total is None
    page = datastore.search(TableQuery(rid, fields=["station"], distinct=True, sort=[("station", "asc")]))
    assert [r["station"] for r in page.records] == sorted(STATIONS)
    assert page.total == 4
    page = datastore.search(TableQuery(rid, fields=["station", "ok"], distinct=True, filters={"ward": None}))
    assert page.total == len({(r["station"], r["ok"]) for r in rows if r["ward"] is None})


def test_bad_parameters_are_validation_errors(datastore: TableStore, readings: Rows) -> None:
    rid, _ = readings
    for query in (
        TableQuery(rid, fields=["nope"]),
        TableQuery(rid, sort=[("nope", "asc")]),
        TableQuery(rid, filters={"nope": 1}),
        TableQuery(rid, filters={"aqi": "many"}),
        TableQuery(rid, q={"aqi": "x"}),
        TableQuery(rid, limit=32001),
        TableQuery(rid, offset=-1),
    ):
        with pytest.raises(ValidationFailed):
            datastore.search(query)
    for missing in (str(uuid.uuid4()), "not-a-uuid"):
        with pytest.raises(NotFound):
            datastore.search(TableQuery(missing))


def test_upsert_updates_by_primary_key_and_insert_refuses_duplicates(datastore: TableStore, readings: Rows) -> None:
    rid, rows = readings
    changed = {"station": rows[3]["station"], "time": rows[3]["time"], "pm25": 999.5}
    new = reading(1000)
    assert datastore.upsert(rid, iter([changed, new]), method="upsert") == 2
    page = datastore.search(TableQuery(rid, filters={"pm25": 999.5}))
    assert ids(page.records) == [4] and page.records[0]["aqi"] == rows[3]["aqi"]  # other columns kept
    assert datastore.stats(rid).row_count == 61
    moved = {"station": rows[5]["station"], "time": rows[5]["time"], "ward": "Tân Định"}
    datastore.upsert(rid, iter([moved]), method="upsert")  # the full-text index follows the update
    assert ids(datastore.search(TableQuery(rid, q="tan dinh")).records) == [6]
    assert 6 not in ids(datastore.search(TableQuery(rid, q=rows[5]["ward"] or "", limit=100)).records)
    with pytest.raises(ValidationFailed):
        datastore.upsert(rid, iter([rows[0]]), method="insert")
    assert datastore.stats(rid).row_count == 61  # the failed write left nothing behind
    with pytest.raises(ValidationFailed):
        datastore.upsert(rid, iter([{"station": "x", "colour": "red"}]))
    with pytest.raises(ValidationFailed):
        datastore.upsert(rid, iter([{"station": "x", "location": {"type": "Nowhere"}}]))


def test_replace_is_atomic_and_delete_by_filter_or_whole(datastore: TableStore, readings: Rows) -> None:
    rid, _ = readings
    before = datastore.stats(rid)
    assert datastore.replace(rid, iter([reading(n) for n in range(100, 110)])) == 10
    page = datastore.search(TableQuery(rid, q="quan", limit=100))  # the full-text index was rebuilt
    assert [r["time"] for r in page.records] == [expected_time(n) for n in range(100, 110) if n % 4 == 0]
    assert datastore.stats(rid).last_modified >= before.last_modified
    with pytest.raises(ValidationFailed):
        datastore.replace(rid, iter([reading(200), {"aqi": "bad"}]))
    assert datastore.stats(rid).row_count == 10  # the failed replace changed nothing
    datastore.delete(rid, {"station": "Quận 1"})
    assert datastore.stats(rid).row_count == 10 - len([n for n in range(100, 110) if n % 4 == 0])
    assert datastore.search(TableQuery(rid, q="quan")).total == 0
    datastore.delete(rid)
    with pytest.raises(NotFound):
        datastore.info(rid)


def test_create_adds_columns_and_indexes_and_keeps_types(datastore: TableStore, readings: Rows) -> None:
    rid, _ = readings
    datastore.create(rid, [FieldSpec("note", "text", {"label": "Ghi chú"}), FieldSpec("aqi", "int")], indexes=["aqi"])
    datastore.upsert(rid, iter([{**reading(500), "note": "mưa lớn"}]))
    info = datastore.info(rid)
    assert info["meta"]["count"] == 61 and info["meta"]["indexes"] == ["station,time", "ward", "aqi"]
    assert info["fields"][-1] == {
        "id": "note",
        "type": "text",
        "info": {"label": "Ghi chú"},
        "schema": info["fields"][-1]["schema"],
    }
    assert info["fields"][0]["info"]["label"] == "Trạm quan trắc"
    assert ids(datastore.search(TableQuery(rid, q="mua lon")).records) == [61]  # new text column indexed
    with pytest.raises(ValidationFailed):
        datastore.create(rid, [FieldSpec("aqi", "text")])
    for bad in ("_id", "Station", "a-b", "x" * 64, ""):
        with pytest.raises(ValidationFailed):
            datastore.create(str(uuid.uuid4()), [FieldSpec(bad, "text")])


def test_another_tenant_sees_none_of_the_tables(store: Store, datastore: TableStore, readings: Rows) -> None:
    rid, _ = readings
    other = TableStore(store, "other-city")
    assert not other.exists(rid)
    with pytest.raises(NotFound):
        other.search(TableQuery(rid))
    with pytest.raises(ValidationFailed):
        other.create(rid, [FieldSpec("x", "text")])
    with pytest.raises(ValidationFailed):
        other.search_sql(f'SELECT * FROM "{rid}"')


def test_rows_stream_every_row(datastore: TableStore, readings: Rows) -> None:
    rid, rows = readings
    streamed = list(datastore.rows(rid))
    assert [r["_id"] for r in streamed] == list(range(1, 61))
    assert [r["pm25"] for r in streamed] == [r["pm25"] for r in rows]
