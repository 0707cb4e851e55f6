"""A stored subscription as a client reads it: terms compacted with the request's @context, status members added."""

from __future__ import annotations

import time
from typing import Any

from smartcity.hub import qlang, typesel
from smartcity.hub.jsonld import ResolvedContext
from smartcity.hub.store.qsql import META_MEMBERS
from smartcity.hub.subscriptions import spec
from smartcity.hub.subscriptions.repository import SubscriptionRow


def status_of(row: SubscriptionRow, now: int | None = None) -> str:
    """active, paused (isActive false) or expired (expiresAt passed) (clause 5.2.12)."""
    moment = time.time_ns() // 1000 if now is None else now
    if row.expires_at is not None and row.expires_at <= moment:
        return "expired"
    return "active" if row.is_active else "paused"


def _types_text(tree: spec.TypeTree, ctx: ResolvedContext) -> str:
    expr = spec.type_expr(tree)
    for candidate in (typesel.map_names(expr, ctx.compact_iri), expr):
        try:
            return typesel.unparse(candidate)
        except ValueError:
            continue
    return ",".join(sorted(typesel.names(expr)))


def _q_text(text: str, ctx: ResolvedContext) -> str:
    def compact(path: qlang.AttrPath) -> qlang.AttrPath:
        subs = tuple(s if s in META_MEMBERS else ctx.compact_iri(s) for s in path.sub)
        return qlang.AttrPath(ctx.compact_iri(path.attr), subs, path.keys)

    try:
        return qlang.unparse(qlang.map_paths(qlang.parse_q(text), compact))
    except (ValueError, qlang.QuerySyntaxError):
        return text


def render(row: SubscriptionRow, ctx: ResolvedContext, *, sys_attrs: bool = False) -> dict[str, Any]:
    doc = row.doc
    out: dict[str, Any] = {"id": row.id, "type": "Subscription"}
    for key in ("subscriptionName", "description"):
        if key in doc:
            out[key] = doc[key]
    if "entities" in doc:
        entities = []
        for item in doc["entities"]:
            shown: dict[str, Any] = {}
            if "id" in item:
                shown["id"] = item["id"]
            if "idPattern" in item:
                shown["idPattern"] = item["idPattern"]
            shown["type"] = _types_text(item["type"], ctx)
            entities.append(shown)
        out["entities"] = entities
    if "watchedAttributes" in doc:
        out["watchedAttributes"] = [ctx.compact_iri(n) for n in doc["watchedAttributes"]]
    if "notificationTrigger" in doc:
        out["notificationTrigger"] = doc["notificationTrigger"]
    if "timeInterval" in doc:
        out["timeInterval"] = doc["timeInterval"]
    if "q" in doc:
        out["q"] = _q_text(doc["q"], ctx)
    if "geoQ" in doc:
        out["geoQ"] = {**doc["geoQ"], "geoproperty": ctx.compact_iri(doc["geoQ"]["geoproperty"])}
    out["isActive"] = row.is_active
    out["notification"] = _notification(row, ctx)
    for key in ("expiresAt", "throttling", "lang", "jsonldContext"):
        if key in doc:
            out[key] = doc[key]
    out["status"] = status_of(row)
    if sys_attrs:
        out["createdAt"] = row.created_at
        out["modifiedAt"] = row.modified_at
    return out


def _notification(row: SubscriptionRow, ctx: ResolvedContext) -> dict[str, Any]:
    stored = row.doc["notification"]
    out: dict[str, Any] = {}
    if "attributes" in stored:
        out["attributes"] = [ctx.compact_iri(n) for n in stored["attributes"]]
    out["format"] = stored.get("format", "normalized")
    if "sysAttrs" in stored:
        out["sysAttrs"] = stored["sysAttrs"]
    out["endpoint"] = stored["endpoint"]
    out["timesSent"] = row.times_sent
    out["timesFailed"] = row.times_failed
    for key, value in (
        ("lastNotification", row.last_notification),
        ("lastSuccess", row.last_success),
        ("lastFailure", row.last_failure),
    ):
        if value is not None:
            out[key] = value
    if row.last_failure is not None and (row.last_success is None or row.last_failure > row.last_success):
        out["status"] = "failed"
    elif row.last_success is not None:
        out["status"] = "ok"
    return out
