"""A stored subscription made ready to match changes: parsed selectors, q, geo-query and rendering choices."""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from smartcity.hub import geo, qlang, typesel
from smartcity.hub.errors import BadRequestData
from smartcity.hub.jsonld import ContextError, ContextRegistry, ResolvedContext
from smartcity.hub.model import GEOPROPERTY, Entity
from smartcity.hub.query import EntityQuery, Selector
from smartcity.hub.subscriptions import spec
from smartcity.hub.subscriptions.repository import SubscriptionRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompiledSelector:
    id: str | None
    pattern: re.Pattern[str] | None
    types: typesel.TypeExpr

    def matches(self, entity_id: str, types: Collection[str]) -> bool:
        if self.id is not None and self.id != entity_id:
            return False
        if self.pattern is not None and self.pattern.search(entity_id) is None:
            return False
        return typesel.matches(self.types, types)


@dataclass(frozen=True)
class Endpoint:
    uri: str
    accept: str
    receiver_info: tuple[tuple[str, str], ...]
    notifier_info: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class CompiledSubscription:
    """Everything the matcher and the notification renderer need, computed once per stored version."""

    tenant_id: int
    id: str
    doc_key: tuple[str, str]  # (doc, context) texts: a new version of the row compiles anew
    selectors: tuple[CompiledSelector, ...] | None
    watched: frozenset[str] | None
    triggers: frozenset[str]
    q: qlang.Node | None
    geo: geo.GeoQuery | None
    is_active: bool
    expires_at: int | None
    time_interval: float | None
    throttling: float | None
    ctx: ResolvedContext
    pick: frozenset[str] | None
    format: str
    sys_attrs: bool
    lang: str | None
    endpoint: Endpoint
    link_context: str | None  # jsonldContext: the @context URL named in notifications

    def alive(self, now: int) -> bool:
        return self.is_active and (self.expires_at is None or self.expires_at > now)

    def selects(self, entity_id: str, types: Collection[str]) -> bool:
        return self.selectors is None or any(s.matches(entity_id, types) for s in self.selectors)

    def geo_matches(self, entity: Entity) -> bool:
        if self.geo is None:
            return True
        for inst in entity.attrs.get(self.geo.geoproperty, []):
            if inst.get("type") != GEOPROPERTY:
                continue
            try:
                if self.geo.matches(geo.parse_geojson(inst.get("value"))):
                    return True
            except geo.GeoError:
                continue
        return False

    def entity_query(self, limit: int, offset: int) -> EntityQuery:
        """The query of the entities this subscription selects (periodic notifications)."""
        selectors = (
            tuple(Selector(s.id, s.pattern.pattern if s.pattern else None, s.types) for s in self.selectors)
            if self.selectors is not None
            else None
        )
        return EntityQuery(
            q=self.q,
            geo=self.geo,
            selectors=selectors,
            attrs=tuple(self.watched) if self.watched is not None else None,
            limit=limit,
            offset=offset,
        )


def resolve_context(registry: ContextRegistry, context: Any) -> ResolvedContext:
    """The subscription's @context; the core context when it cannot be resolved any more (logged)."""
    try:
        return registry.resolve(context)
    except ContextError as exc:
        log.warning("subscription @context cannot be resolved (%s): notifications use the core context", exc)
        return registry.resolve(None)


def compile_row(row: SubscriptionRow, registry: ContextRegistry) -> CompiledSubscription:
    doc = row.doc
    selectors: tuple[CompiledSelector, ...] | None = None
    if "entities" in doc:
        selectors = tuple(
            CompiledSelector(
                item.get("id"),
                re.compile(item["idPattern"]) if "idPattern" in item else None,
                spec.type_expr(item["type"]),
            )
            for item in doc["entities"]
        )
    q = qlang.parse_q(doc["q"]) if "q" in doc else None
    geo_query: geo.GeoQuery | None = None
    if "geoQ" in doc:
        try:
            geo_query = spec.geo_query(doc["geoQ"])
        except BadRequestData:  # validated when stored: cannot happen unless the row was edited by hand
            log.warning("subscription %s has an invalid geoQ", row.id)
    notification = doc["notification"]
    endpoint = notification["endpoint"]
    pick = notification.get("attributes")
    return CompiledSubscription(
        tenant_id=row.tenant_id,
        id=row.id,
        doc_key=(row.doc_text, row.context_text),
        selectors=selectors,
        watched=frozenset(doc["watchedAttributes"]) if "watchedAttributes" in doc else None,
        triggers=frozenset(spec.triggers_of(doc)),
        q=q,
        geo=geo_query,
        is_active=row.is_active,
        expires_at=row.expires_at,
        time_interval=row.time_interval,
        throttling=row.throttling,
        ctx=resolve_context(registry, row.context),
        pick=frozenset(pick) if pick is not None else None,
        format=notification.get("format", "normalized"),
        sys_attrs=bool(notification.get("sysAttrs", False)),
        lang=doc.get("lang"),
        endpoint=Endpoint(
            uri=endpoint["uri"],
            accept=endpoint.get("accept", spec.JSON),
            receiver_info=tuple((kv["key"], kv["value"]) for kv in endpoint.get("receiverInfo", [])),
            notifier_info=tuple((kv["key"], kv["value"]) for kv in endpoint.get("notifierInfo", [])),
        ),
        link_context=doc.get("jsonldContext"),
    )
