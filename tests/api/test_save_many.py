"""EntityWriter.save_many: the same rows (and attribute order) as one save after the other, on both backends."""

from __future__ import annotations

from itertools import pairwise

import pytest

from smartcity.hub.model import Entity
from smartcity.hub.store import Store
from smartcity.hub.store.sql import StoreConflict

P = "https://example.org/"
GEO = "https://uri.etsi.org/ngsi-ld/GeoProperty"


def _steps(entity_id: str) -> list[Entity]:
    """Successive states of one entity: updates, a removal, a re-addition, a new type, a dataset, a geometry."""
    a = Entity(entity_id, [P + "T"], {P + "a": [{"type": "Property", "value": 1}]}, "2025", "2025")
    b = a.copy()
    b.attrs[P + "b"] = [{"type": "Property", "value": "x"}]
    b.attrs[P + "a"] = [{"type": "Property", "value": 2}]
    c = b.copy()
    del c.attrs[P + "a"]
    c.types.append(P + "U")
    c.attrs[P + "loc"] = [{"type": GEO, "value": {"type": "Point", "coordinates": [2.0, 48.0]}}]
    d = c.copy()
    d.attrs[P + "a"] = [{"type": "Property", "value": 3}, {"type": "Property", "value": 4, "datasetId": "urn:d"}]
    d.attrs[P + "loc"] = [{"type": "Property", "value": "gone"}]
    return [a, b, c, d]


def test_save_many_matches_saves(store: Store) -> None:
    ids = ["urn:ngsi-ld:T:one", "urn:ngsi-ld:T:many"]
    with store.tenant(None).write() as w:
        w.insert_many([_steps(i)[0] for i in ids])
    with store.tenant(None).write() as w:
        w.get_many(ids, lock=True)
        steps = _steps(ids[0])
        for before, after in pairwise(steps):
            w.save(before, after)
        steps = _steps(ids[1])
        w.save_many(list(pairwise(steps)))
        kinds = [(c.kind, c.entity_id) for c in w.changes]
    assert kinds == [("update", ids[0])] * 3 + [("update", ids[1])] * 3
    with store.tenant(None).read() as r:
        got = r.get_many(ids)
        one, many = got[ids[0]], got[ids[1]]
        assert list(one.attrs.items()) == list(many.attrs.items())
        assert one.attrs == _steps("x")[3].attrs
        assert one.types == many.types == [P + "T", P + "U"]
        typed = r.type_info([P + "U"])
        assert typed[0].entity_count == 2


def test_save_many_of_a_vanished_entity_conflicts(store: Store) -> None:
    ghost = Entity("urn:ngsi-ld:T:ghost", [P + "T"], {}, "2025", "2025")
    with pytest.raises(StoreConflict), store.tenant(None).write() as w:
        w.save_many([(ghost, ghost.copy())])
