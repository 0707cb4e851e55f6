"""The history of the hub's entities, independent of HTTP: what the temporal API, forecasting and dashboards call.

Reads return :class:`TemporalResult` (entities with their instances, or their aggregates); writes change
only the history (see :mod:`smartcity.hub.temporal.writer`). Inputs are validated and expanded already.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from smartcity.hub.errors import BadRequestData, ResourceNotFound
from smartcity.hub.model import Entity, Instance, iso_to_micros, now_iso
from smartcity.hub.query import EntityQuery
from smartcity.hub.store import Store, StoreQueryError
from smartcity.hub.temporal import paging
from smartcity.hub.temporal.aggregate import Aggregates, Series, aggregate
from smartcity.hub.temporal.query import Aggregation, Period, TemporalQuery, TimeWindow
from smartcity.hub.temporal.reader import Record, TemporalEntityHead, TemporalReader
from smartcity.hub.temporal.writer import TemporalWriter


@dataclass
class TemporalResult:
    entities: list[TemporalEntityHead]
    total: int | None = None
    range: paging.Range | None = None
    aggregates: Aggregates | None = None  # set with an aggregation (entities then carry no instances)
    query: TemporalQuery = field(default_factory=TemporalQuery)


def _now() -> int:
    return iso_to_micros(now_iso()) or 0


class TemporalService:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- reads -------------------------------------------------------------------------------------

    def query(self, tenant: str | None, selection: EntityQuery, tq: TemporalQuery) -> TemporalResult:
        """Temporal entities selected by ``selection`` (one page of them), with their history in the window."""
        try:
            with self.store.tenant(tenant).snapshot() as ctx:
                reader = TemporalReader(ctx.db, ctx.tenant_id)
                heads, total = reader.select(selection)
                result = self._fill(reader, heads, tq)
        except StoreQueryError as exc:
            raise BadRequestData(f"the query cannot be evaluated: {exc}") from exc
        result.total = total
        return result

    def retrieve(self, tenant: str | None, entity_id: str, tq: TemporalQuery) -> TemporalResult:
        with self.store.tenant(tenant).snapshot() as ctx:
            reader = TemporalReader(ctx.db, ctx.tenant_id)
            head = reader.head(entity_id)
            if head is None:
                raise ResourceNotFound(f"no temporal evolution of entity {entity_id}")
            return self._fill(reader, [head], tq)

    def _fill(self, reader: TemporalReader, heads: list[TemporalEntityHead], tq: TemporalQuery) -> TemporalResult:
        ids = [h.id for h in heads]
        if tq.aggregation is not None:
            return TemporalResult(heads, aggregates=aggregate(reader, ids, tq), query=tq)
        per_attribute, newest, _ = paging.plan(tq)
        records = reader.instances(ids, tq, per_attribute, newest=newest)
        kept, rng = paging.paginate(records, tq)
        by_id = {h.id: h for h in heads}
        for record in kept:
            by_id[record.entity_id].attrs.setdefault(record.name, []).append(record)
        return TemporalResult(heads, range=rng, query=tq)

    def series(
        self, tenant: str | None, entity_id: str, attr: str, window: TimeWindow | None = None
    ) -> list[tuple[int, Any]]:
        """(time µs, value) of every instance of one attribute in the window, oldest first, without paging
        (for forecasting and dashboards; deletion instances are left out)."""
        tq = TemporalQuery(window=window or TimeWindow(), attrs=(attr,))
        with self.store.tenant(tenant).snapshot() as ctx:
            records = TemporalReader(ctx.db, ctx.tenant_id).instances([entity_id], tq, 2**62, newest=False)
        return [(r.time, _value(r)) for r in records if "deletedAt" not in r.doc]

    def aggregate(
        self,
        tenant: str | None,
        entity_id: str,
        attr: str,
        methods: Sequence[str],
        period: Period | None = None,
        window: TimeWindow | None = None,
    ) -> Series:
        """Aggregates of one attribute (its default instance) per period, computed in the database: the periods
        that hold instances, as columns (``Series.buckets()`` gives them one by one)."""
        tq = TemporalQuery(
            window=window or TimeWindow(), aggregation=Aggregation(tuple(methods), period), attrs=(attr,)
        )
        with self.store.tenant(tenant).snapshot() as ctx:
            found = aggregate(TemporalReader(ctx.db, ctx.tenant_id), [entity_id], tq).get((entity_id, attr, ""))
        return found if found is not None else Series([], [], {method: [] for method in methods})

    # -- writes ------------------------------------------------------------------------------------

    def upsert(self, tenant: str | None, entity: Entity) -> bool:
        """Create the temporal evolution of an entity, or add instances to it; True when created."""
        with self.store.tenant(tenant, create=True).transaction() as ctx:
            return TemporalWriter(ctx).upsert(entity, _now())

    def add_attrs(self, tenant: str | None, entity_id: str, attrs: dict[str, list[Instance]]) -> None:
        with self.store.tenant(tenant).transaction() as ctx:
            TemporalWriter(ctx).add_attrs(entity_id, attrs, _now())

    def delete_entity(self, tenant: str | None, entity_id: str) -> None:
        with self.store.tenant(tenant).transaction() as ctx:
            TemporalWriter(ctx).delete_entity(entity_id)

    def delete_attr(
        self, tenant: str | None, entity_id: str, attr: str, *, dataset_id: str | None = None, delete_all: bool = False
    ) -> None:
        with self.store.tenant(tenant).transaction() as ctx:
            TemporalWriter(ctx).delete_attr(entity_id, attr, dataset_id, delete_all=delete_all, now=_now())

    def patch_instance(self, tenant: str | None, entity_id: str, attr: str, row_id: int, patch: Instance) -> None:
        with self.store.tenant(tenant).transaction() as ctx:
            TemporalWriter(ctx).patch_instance(entity_id, attr, row_id, patch, _now())

    def delete_instance(self, tenant: str | None, entity_id: str, attr: str, row_id: int) -> None:
        with self.store.tenant(tenant).transaction() as ctx:
            TemporalWriter(ctx).delete_instance(entity_id, attr, row_id, _now())


def _value(record: Record) -> Any:
    doc = record.doc
    for key in ("value", "object", "languageMap"):
        if key in doc:
            return doc[key]
    return None
