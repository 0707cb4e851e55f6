"""Putting silences in force and ending them: active alerts are re-evaluated each time (and on every tick of
the escalation service, for windows that open or close by themselves).

An alert that becomes silenced stops escalating and is not notified; one whose silence ended is notified now
if it never was, and its escalation clock starts again from that moment.
"""

from __future__ import annotations

from smartcity.hub.errors import ResourceNotFound
from smartcity.ioc.alerts import model as m
from smartcity.ioc.alerts.manager import AlertManager, new_id
from smartcity.ioc.alerts.model import Fact, iso
from smartcity.ioc.alerts.silences import Silence, parse_silence


def add_silence(manager: AlertManager, body: object, by: str) -> Silence:
    silence = parse_silence(body, silence_id=new_id(), by=by, now=manager.clock())
    with manager._change() as (tx, _):
        tx.add_silence(silence)
    reevaluate(manager)
    return silence


def end_silence(manager: AlertManager, silence_id: str) -> Silence:
    """End a silence now (its row stays, for the record); active alerts are re-evaluated at once."""
    now = iso(manager.clock()) or ""
    with manager._change() as (tx, _):
        silence = tx.get_silence(silence_id)
        if silence is None:
            raise ResourceNotFound(f"silence {silence_id} not found")
        if silence.ends_at > now:
            tx.end_silence(silence_id, max(now, silence.starts_at))
    reevaluate(manager)
    with manager.tables.read() as tx:
        ended = tx.get_silence(silence_id)
    assert ended is not None
    return ended


def list_silences(manager: AlertManager, *, expired: bool) -> list[Silence]:
    now = iso(manager.clock()) or ""
    with manager.tables.read() as tx:
        return tx.silences(ending_after=None if expired else now)


def reevaluate(manager: AlertManager) -> int:
    """Silence or unsilence active alerts by the silences in force now; the number of alerts changed."""
    changed = 0
    with manager._change() as (tx, fx):
        now = iso(manager.clock()) or ""
        silences = tx.silences(ending_after=now)
        for alert in tx.active():
            match = next((s.id for s in silences if s.silences(alert, now)), None)
            if (match is not None) == alert.silenced:
                continue
            changed += 1
            alert.silenced = match is not None
            alert.updated_at = now
            if alert.silenced:
                tx.add_fact(alert.id, Fact(now, m.SILENCED, m.SYSTEM, {"silenceId": match}))
                tx.save(alert)
            else:
                alert.escalate_from = now
                tx.add_fact(alert.id, Fact(now, m.UNSILENCED, m.SYSTEM, {}))
                tx.save(alert)
                if not alert.notified:
                    manager.route(tx, fx, alert, "raised")
            fx.announce("alert.updated", alert)
    return changed
