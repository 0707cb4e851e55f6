"""Downloads: ``GET /datastore/dump/{resource_id}?format=csv|tsv|json|geojson|parquet`` (CKAN's dump URL).

The body is streamed from a server-side cursor, one batch at a time. ``ETag`` (from the table's last change and
row count) and ``Last-Modified`` let clients revalidate (304 on ``If-None-Match`` / ``If-Modified-Since``);
``X-Row-Count`` gives the number of rows before the body arrives. Errors are rendered by the family registered
for ``/datastore/`` (CKAN's envelope).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from smartcity.hub.errors import InvalidRequest, ResourceNotFound
from smartcity.opendata.contracts import NotFound, TableStats
from smartcity.opendata.datastore.access import visible
from smartcity.opendata.datastore.dump import FORMATS, MEDIA_TYPES, writer_for
from smartcity.opendata.datastore.store import TableStore
from smartcity.opendata.runtime import runtime_of

BATCH = 2000  # rows per chunk of a download (and per Parquet row group)


def etag(resource_id: str, stats: TableStats, fmt: str) -> str:
    seed = f"{resource_id}|{stats.last_modified.isoformat()}|{stats.row_count}|{fmt}"
    return '"' + hashlib.sha256(seed.encode()).hexdigest()[:32] + '"'


def not_modified(request: Request, tag: str, modified: datetime) -> bool:
    """Whether the client's copy is current (If-None-Match wins over If-Modified-Since, RFC 9110 13.2.2)."""
    match = request.headers.get("if-none-match")
    if match is not None:
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        return "*" in tags or tag in tags
    since = request.headers.get("if-modified-since")
    if since is None:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return modified.replace(microsecond=0) <= when


def router() -> APIRouter:
    routes = APIRouter(tags=["open data: datastore"])

    @routes.get("/datastore/dump/{resource_id}", name="datastore_dump", summary="Download a resource's table")
    async def dump(request: Request, resource_id: str, format: str = "csv") -> Response:
        fmt = format.strip().lower()
        if fmt not in FORMATS:
            raise InvalidRequest(f"format must be one of {', '.join(FORMATS)}")
        runtime = runtime_of(request)
        datastore: TableStore | None = runtime.datastore
        if datastore is None:
            raise ResourceNotFound("the datastore is not available")
        if not await run_in_threadpool(visible, runtime, resource_id):
            raise ResourceNotFound(f'Resource "{resource_id}" was not found.')
        try:
            stats = await run_in_threadpool(datastore.stats, resource_id)
        except NotFound as exc:
            raise ResourceNotFound(exc.message) from None
        if fmt == "geojson" and not stats.has_geometry:
            raise InvalidRequest("this resource has no geometry column: download it as csv, json or parquet")
        tag = etag(resource_id, stats, fmt)
        headers = {
            "ETag": tag,
            "Last-Modified": format_datetime(stats.last_modified.astimezone(UTC), usegmt=True),
            "X-Row-Count": str(stats.row_count),
            "Cache-Control": "public, max-age=60",
        }
        if not_modified(request, tag, stats.last_modified):
            return Response(status_code=304, headers=headers)
        try:
            fields, batches = await run_in_threadpool(datastore.row_batches, resource_id, BATCH)
        except NotFound as exc:
            raise ResourceNotFound(exc.message) from None
        headers["Content-Disposition"] = f'attachment; filename="{resource_id}.{fmt}"'
        return StreamingResponse(writer_for(fmt, fields, batches), media_type=MEDIA_TYPES[fmt], headers=headers)

    return routes
