"""What a write transaction changed, for the parts of the hub that follow every change (history, subscriptions).

A :class:`~smartcity.hub.store.sql.EntityWriter` records one :class:`Change` per entity it creates, saves or
deletes. Before the transaction commits, the scope hands the changes to every registered :data:`WriteHook`, on
the same connection: what a hook writes (temporal instances, queued notifications) commits or rolls back together
with the change itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from smartcity.hub.model import Entity

if TYPE_CHECKING:
    from smartcity.hub.store.sql import Db

ChangeKind = Literal["create", "update", "delete"]


@dataclass(frozen=True)
class Change:
    """One entity's change: ``before`` is None for a creation, ``after`` is None for a deletion."""

    kind: ChangeKind
    entity_id: str
    before: Entity | None
    after: Entity | None
    at: str  # the modification time (ISO 8601, UTC)


@dataclass(frozen=True)
class WriteContext:
    """The open write transaction a hook runs in, bound to one tenant."""

    db: Db
    tenant_id: int
    tenant: str  # the tenant's name ('' for the default tenant)


WriteHook = Callable[[WriteContext, Sequence[Change]], None]
