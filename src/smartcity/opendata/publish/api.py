"""The publications' admin API: ``GET /opendata/publications`` (each with its last run) and
``POST /opendata/publications/{publication_id}/run`` (publish now). Publishers only (see :mod:`.policy`); errors
in the platform's default shape."""

from __future__ import annotations

from typing import Any, ClassVar

import orjson
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from smartcity.hub.errors import NgsiError, ResourceNotFound
from smartcity.opendata.publish.publisher import Publisher, RunInProgress, UnknownPublication
from smartcity.opendata.runtime import runtime_of
from smartcity.security.runtime import principal_of

router = APIRouter(prefix="/opendata/publications", tags=["open data: publications"])


class RunUnderWay(NgsiError):
    error_type = "Conflict"
    status: ClassVar[int] = 409
    title = "Conflict"


class PublishingOff(NgsiError):
    error_type = "OperationNotSupported"
    status: ClassVar[int] = 503
    title = "Service unavailable"


def _publisher(request: Request) -> Publisher:
    publisher: Publisher | None = runtime_of(request).publisher
    if publisher is None:
        raise PublishingOff("publications are not set up in this deployment")
    return publisher


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


@router.get("", name="opendata_list_publications", summary="The publications, each with its last run")
async def list_publications(request: Request) -> Response:
    publisher = _publisher(request)
    items = await run_in_threadpool(publisher.listing)
    return _json({"count": len(items), "publications": items})


@router.post(
    "/{publication_id}/run", name="opendata_run_publication", summary="Publish now (the run's outcome is returned)"
)
async def run_publication(request: Request, publication_id: str) -> Response:
    publisher = _publisher(request)
    if publication_id not in publisher.publications:
        raise ResourceNotFound(f"no publication {publication_id!r}")
    principal = principal_of(request)
    try:
        await run_in_threadpool(publisher.run, publication_id, cause="manual", user=principal.subject)
    except UnknownPublication as exc:
        raise ResourceNotFound(f"no publication {publication_id!r}") from exc
    except RunInProgress as exc:
        raise RunUnderWay(f"publication {publication_id} is being published already; try again when it ends") from exc
    runs = await run_in_threadpool(publisher.log.runs, publication_id, 1)
    body = {"publication": publication_id, "run": runs[0].view() if runs else None}
    return _json(body)
