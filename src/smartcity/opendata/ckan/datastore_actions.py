"""CKAN's datastore actions: datastore_search, datastore_search_sql, datastore_info (public reads) and
datastore_create, datastore_upsert, datastore_delete (publishers), on ``runtime.datastore``.

Parameters are parsed as CKAN parses them (:mod:`smartcity.opendata.datastore.params`); results have CKAN's
shape (``records``, ``fields``, ``total``, ``_links``, ...).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from smartcity.opendata.ckan.registry import ActionContext, action
from smartcity.opendata.contracts import FieldSpec, NotAuthorized, NotFound, TablePage, TableQuery, ValidationFailed
from smartcity.opendata.datastore import params as P
from smartcity.opendata.datastore.access import visible

SEARCH_PATH = "/api/3/action/datastore_search"


def _datastore(ctx: ActionContext) -> Any:
    datastore = getattr(ctx.runtime, "datastore", None)
    if datastore is None:
        raise NotFound("the datastore is not available")
    return datastore


def _readable(ctx: ActionContext, resource_id: str) -> None:
    if not visible(ctx.runtime, resource_id):
        raise NotFound(f'Resource "{resource_id}" was not found.')


def _field(spec: FieldSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"id": spec.id, "type": spec.type}
    if spec.info:
        out["info"] = dict(spec.info)
    return out


def _delimited(rows: list[list[Any]], delimiter: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    for row in rows:
        writer.writerow(["" if v is None else v if not isinstance(v, dict | list | bool) else _text(v) for v in row])
    return buffer.getvalue()


def _text(value: Any) -> str:
    import orjson

    if isinstance(value, bool):
        return "true" if value else "false"
    return orjson.dumps(value).decode()


def format_records(page: TablePage, records_format: str) -> Any:
    """The page's records as CKAN's ``records_format`` asks: objects, lists, or csv/tsv text without header."""
    if records_format == "objects":
        return page.records
    names = [f.id for f in page.fields]
    rows = [[record.get(n) for n in names] for record in page.records]
    if records_format == "lists":
        return rows
    return _delimited(rows, "," if records_format == "csv" else "\t")


def _links(params: Mapping[str, Any], resource_id: str, offset: int, limit: int) -> dict[str, str]:
    kept = {
        k: v if isinstance(v, str) else _text(v)
        for k, v in params.items()
        if k not in ("offset", "resource_id", "id") and v is not None
    }
    start = {"resource_id": resource_id, **kept}
    return {
        "start": f"{SEARCH_PATH}?{urlencode(start)}",
        "next": f"{SEARCH_PATH}?{urlencode({**start, 'offset': offset + limit})}",
    }


@action("datastore_search")
def datastore_search(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Search a datastore resource's rows: filters, q (full text), fields, sort, limit (<= 32000), offset."""
    resource_id = P.resource_id_of(params, "resource_id", "id")
    limit = P.parse_int(params.get("limit"), "limit", default=100, low=0, high=32000)
    offset = P.parse_int(params.get("offset"), "offset", default=0, low=0, high=2**31)
    include_total = P.parse_bool(params.get("include_total"), "include_total", default=True)
    distinct = P.parse_bool(params.get("distinct"), "distinct", default=False)
    records_format = P.parse_records_format(params.get("records_format"))
    query = TableQuery(
        resource_id=resource_id,
        filters=P.parse_filters(params.get("filters")),
        q=P.parse_q(params.get("q")),
        fields=P.parse_names(params.get("fields"), "fields"),
        sort=P.parse_sort(params.get("sort")),
        limit=limit,
        offset=offset,
        include_total=include_total,
        distinct=distinct,
    )
    datastore = _datastore(ctx)
    _readable(ctx, resource_id)
    page: TablePage = datastore.search(query)
    result: dict[str, Any] = {
        "include_total": include_total,
        "resource_id": resource_id,
        "fields": [_field(f) for f in page.fields],
        "records_format": records_format,
        "records": format_records(page, records_format),
        "limit": limit,
        "_links": _links(params, resource_id, offset, limit),
    }
    if offset:
        result["offset"] = offset
    if query.filters:
        result["filters"] = dict(query.filters)
    if query.q:
        result["q"] = query.q
    if query.sort:
        result["sort"] = ", ".join(f"{c} {d}" for c, d in query.sort)
    if include_total:
        result["total"] = page.total
        result["total_was_estimated"] = page.total_was_estimated
    return result


@action("datastore_search_sql")
def datastore_search_sql(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Run one read-only SELECT over datastore tables (named by resource id), with a time limit and a row cap."""
    sql = params.get("sql")
    if not isinstance(sql, str) or not sql.strip():
        raise P.invalid("sql", "Missing value")
    page: TablePage = _datastore(ctx).search_sql(sql, visible=lambda rid: visible(ctx.runtime, rid))
    return {
        "sql": sql,
        "fields": [_field(f) for f in page.fields],
        "records": page.records,
        "records_truncated": page.records_truncated,
    }


@action("datastore_info")
def datastore_info(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """A datastore resource's columns (type and data dictionary) and row count."""
    resource_id = P.resource_id_of(params, "id", "resource_id")
    datastore = _datastore(ctx)
    _readable(ctx, resource_id)
    info: dict[str, Any] = datastore.info(resource_id)
    return info


def _publisher(ctx: ActionContext) -> None:
    if not ctx.may_write:
        raise NotAuthorized("a publisher credential is needed to change the datastore")


def _check_resource(ctx: ActionContext, resource_id: str) -> None:
    """A datastore table belongs to a resource of the catalogue (when the catalogue is running)."""
    catalogue = getattr(ctx.runtime, "catalogue", None)
    if catalogue is not None:
        catalogue.show_resource(resource_id)


@action("datastore_create", write=True)
def datastore_create(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Create a resource's datastore table (or add columns and indexes to it), optionally with its first records."""
    _publisher(ctx)
    resource_id = P.resource_id_of(params, "resource_id")
    fields = P.parse_field_specs(params.get("fields"))
    primary_key = P.parse_names(params.get("primary_key"), "primary_key")
    indexes = P.parse_indexes(params.get("indexes"))
    records = P.parse_records(params.get("records"))
    datastore = _datastore(ctx)
    _check_resource(ctx, resource_id)
    datastore.create(resource_id, fields, primary_key=primary_key, indexes=indexes)
    if records:
        datastore.upsert(resource_id, iter(records), method="insert")
    info = datastore.info(resource_id)
    return {
        "resource_id": resource_id,
        "fields": [{"id": f["id"], "type": f["type"], "info": f["info"]} for f in info["fields"]],
        "primary_key": info["meta"]["primary_key"],
        "indexes": info["meta"]["indexes"],
        "method": "insert",
        "records_written": len(records),
    }


@action("datastore_upsert", write=True)
def datastore_upsert(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Add records to a datastore table, or update them by primary key (method insert or upsert)."""
    _publisher(ctx)
    resource_id = P.resource_id_of(params, "resource_id")
    method = params.get("method") or "upsert"
    if method not in ("insert", "upsert"):
        raise P.invalid("method", "must be insert or upsert")
    records = P.parse_records(params.get("records"))
    written = _datastore(ctx).upsert(resource_id, iter(records), method=method)
    return {"resource_id": resource_id, "method": method, "records_written": written}


@action("datastore_delete", write=True)
def datastore_delete(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Delete the rows matching filters, or the whole datastore table when no filters are given."""
    _publisher(ctx)
    resource_id = P.resource_id_of(params, "resource_id", "id")
    raw = params.get("filters")
    filters = None if raw is None else P.parse_filters(raw)
    try:
        _datastore(ctx).delete(resource_id, filters)
    except ValidationFailed:
        raise
    return {"resource_id": resource_id, "filters": filters or {}}
