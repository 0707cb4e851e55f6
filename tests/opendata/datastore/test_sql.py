"""datastore_search_sql: answers over datastore tables, and refuses (or stops) everything else, never running it."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from smartcity.hub.store import Store
from smartcity.opendata.contracts import SearchError, TableQuery, ValidationFailed
from smartcity.opendata.datastore.store import TableStore

Rows = tuple[str, list[dict[str, Any]]]


def test_a_select_with_aggregates_joins_and_ctes(datastore: TableStore, readings: Rows) -> None:
    rid, rows = readings
    page = datastore.search_sql(
        f'SELECT station, count(*) AS n, max(pm25) AS top FROM "{rid}" WHERE ok GROUP BY station ORDER BY station'
    )
    counts = Counter(r["station"] for r in rows if r["ok"])
    tops = {s: max(r["pm25"] for r in rows if r["ok"] and r["station"] == s) for s in counts}
    assert page.records == [{"station": s, "n": counts[s], "top": tops[s]} for s in sorted(counts)]
    assert [f.id for f in page.fields] == ["station", "n", "top"] and page.fields[1].type == "int"
    assert not page.records_truncated
    page = datastore.search_sql(
        f'WITH w AS (SELECT ward, aqi FROM "{rid}" AS r WHERE r.aqi IS NOT NULL) '
        f'SELECT count(*) AS n FROM w JOIN "{rid}" AS o ON o.ward = w.ward WHERE o._id = 1'
    )
    assert page.records == [{"n": sum(1 for r in rows if r["aqi"] is not None and r["ward"] == rows[0]["ward"])}]
    page = datastore.search_sql(f'SELECT "{rid}".station FROM "{rid}" WHERE _id = 2')
    assert page.records == [{"station": rows[1]["station"]}]


def test_the_row_cap_truncates_and_says_so(datastore: TableStore, readings: Rows) -> None:
    rid, _ = readings  # the fixture's cap is 50 rows
    page = datastore.search_sql(f'SELECT _id FROM "{rid}" ORDER BY _id')
    assert [r["_id"] for r in page.records] == list(range(1, 51)) and page.records_truncated
    page = datastore.search_sql(f'SELECT _id FROM "{rid}" ORDER BY _id LIMIT 50')
    assert len(page.records) == 50 and not page.records_truncated


REFUSED = [
    'DROP TABLE "{rid}"',
    'DELETE FROM "{rid}"',
    "INSERT INTO \"{rid}\" (station) VALUES ('x')",
    'UPDATE "{rid}" SET pm25 = 0',
    'WITH gone AS (DELETE FROM "{rid}" RETURNING *) SELECT * FROM gone',
    'SELECT * INTO stolen FROM "{rid}"',
    'CREATE TABLE stolen AS SELECT * FROM "{rid}"',
    "ATTACH DATABASE '/tmp/other.db' AS other",
    "PRAGMA writable_schema = 1",
    'SELECT 1; DELETE FROM "{rid}"',
    'SELECT * FROM "{rid}"; SELECT 1',
    "SELECT * FROM sqlite_master",
    "SELECT * FROM main.sqlite_master",
    "SELECT * FROM pg_catalog.pg_tables",
    "SELECT * FROM pg_tables",
    "SELECT * FROM information_schema.tables",
    "SELECT * FROM entities",
    "SELECT * FROM security_users",
    "SELECT * FROM datastore_tables",
    'SELECT * FROM "{rid}" WHERE station IN (SELECT name FROM tenants)',
    'SELECT * FROM datastore."{table}"',
    "SELECT * FROM pragma_table_info('entities')",
    "SELECT pg_sleep(30)",
    "SELECT pg_catalog.pg_sleep(30)",
    "SELECT set_config('statement_timeout', '0', false)",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT load_extension('x')",
    "SELECT current_setting('is_superuser')",
    "SELECT lo_import('/etc/passwd')",
    "SELECT query_to_xml('SELECT * FROM entities', true, true, '')",
    "SELECT readfile('/etc/passwd')",
    "VACUUM",
    "",
    "SELECT FROM WHERE",
]


@pytest.mark.parametrize("template", REFUSED)
def test_anything_else_is_refused_and_never_runs(datastore: TableStore, readings: Rows, template: str) -> None:
    rid, _ = readings
    table = "ds_" + rid.replace("-", "")
    with pytest.raises(ValidationFailed):
        datastore.search_sql(template.format(rid=rid, table=table))
    assert datastore.search(TableQuery(rid, limit=0)).total == 60  # still all there
    assert datastore.info(rid)["meta"]["count"] == 60


def test_the_engine_refuses_other_tables_even_past_the_parser(
    store: Store, datastore: TableStore, readings: Rows
) -> None:
    """The second barrier alone: the read-only connection (SQLite authorizer, PostgreSQL role) of free SQL."""
    rid, _ = readings
    table = "ds_" + rid.replace("-", "")
    # (SQLite asks its authorizer about each column read: a bare count(*) of another table would pass this barrier
    # alone, and the parser refuses it first)
    for sql in (
        "SELECT resource_id FROM datastore_tables",
        "SELECT name FROM tenants",
        "SELECT sql FROM sqlite_master",
    ):
        with pytest.raises(ValidationFailed):
            datastore.engine.run_readonly(sql, [table], timeout=2.0, max_rows=10)
    qualified = f'"{table}"' if datastore.engine.name == "sqlite" else f'datastore."{table}"'
    with pytest.raises(ValidationFailed):
        datastore.engine.run_readonly(f"DELETE FROM {qualified}", [table], timeout=2.0, max_rows=10)
    _, rows = datastore.engine.run_readonly(f"SELECT count(*) FROM {qualified}", [table], timeout=2.0, max_rows=10)
    assert rows[0][0] == 60


def test_a_statement_that_runs_too_long_is_stopped(store: Store, readings: Rows) -> None:
    rid, _ = readings
    quick = TableStore(store, "", sql_timeout=0.3)
    joins = ", ".join(f'"{rid}" AS t{n}' for n in range(8))  # 60^8 rows: hours of work
    with pytest.raises(SearchError):
        quick.search_sql(f"SELECT count(*) FROM {joins}")
    counting = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c"
    with pytest.raises(SearchError):
        quick.search_sql(counting)
    assert quick.search_sql(f'SELECT count(*) AS n FROM "{rid}"').records == [{"n": 60}]  # the connection is fine
