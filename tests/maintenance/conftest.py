"""Fixtures of the history maintenance tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from smartcity.hub.store import Store
from tests.maintenance.support import drop_partitions


@pytest.fixture
def pg(pg_store: Store) -> Iterator[Store]:
    """The PostgreSQL store with an empty history and no partition but the default one."""
    drop_partitions(pg_store)
    with pg_store.transaction(write=True) as db:
        db.run("TRUNCATE temporal_instances, temporal_entities")
    yield pg_store
    drop_partitions(pg_store)
    with pg_store.transaction(write=True) as db:
        db.run("TRUNCATE temporal_instances, temporal_entities")
