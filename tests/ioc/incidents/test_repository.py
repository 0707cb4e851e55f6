"""The incident rows on both backends: optimistic locking, source links under a race, tenant and department
binding of every statement."""

from __future__ import annotations

from dataclasses import replace

from smartcity.hub.store import Store
from smartcity.ioc.incidents.model import SYSTEM, Filter, Viewer
from smartcity.ioc.incidents.repository import IncidentRows
from tests.ioc.incidents.support import START, Clock, desk_on, request


def test_a_change_is_written_only_over_the_version_it_read(store: Store) -> None:
    iid = desk_on(store, Clock()).open(request())["id"]
    with store.tenant("").transaction() as tx:
        rows = IncidentRows(tx, SYSTEM)
        current = rows.get(iid)
        assert current is not None and current.version == 1
        assert rows.save(replace(current, title="first", version=2), 1)
        assert not rows.save(replace(current, title="stale", version=2), 1)
        found = rows.get(iid)
        assert found is not None and (found.title, found.version) == ("first", 2)


def test_a_source_is_claimed_once_and_relinked_only_from_the_incident_it_names(store: Store) -> None:
    with store.tenant("", create=True).transaction() as tx:
        rows = IncidentRows(tx, SYSTEM)
        assert rows.claim_source("alert", "a-1", "inc-1", None)
        assert not rows.claim_source("alert", "a-1", "inc-2", None)  # a concurrent opening lost the race
        assert not rows.claim_source("alert", "a-1", "inc-3", "inc-2")  # relinking needs the current link
        assert rows.claim_source("alert", "a-1", "inc-3", "inc-1")
        assert rows.source_incident("alert", "a-1") == "inc-3"
        assert rows.source_incident("open311", "a-1") is None


def test_every_statement_is_bound_to_the_tenant_and_the_viewer_s_department(store: Store) -> None:
    iid = desk_on(store, Clock()).open(request(type="noise", ward="26743"))["id"]  # department ward:26743
    other = store.tenant("elsewhere", create=True)
    with other.transaction() as tx:
        rows = IncidentRows(tx, SYSTEM)
        assert rows.get(iid) is None and rows.query(Filter(), START)[1] == 0 and rows.timeline(iid) == []
    with store.tenant("").transaction() as tx:
        ward = IncidentRows(tx, Viewer("w", "ward:26743", restricted=True))
        police = IncidentRows(tx, Viewer("p", "police", restricted=True))
        nobody = IncidentRows(tx, Viewer("x", None, restricted=True))
        current = ward.get(iid)
        assert current is not None and police.get(iid) is None and nobody.get(iid) is None
        assert not police.save(replace(current, title="hijack", version=2), 1)
        assert police.query(Filter(), START)[1] == 0 and ward.query(Filter(), START)[1] == 1
