"""The operations centre's alerts: one active alert per (rule, subject), acknowledged and cleared as separate
facts, cleared automatically when the rule's condition ends, silences, escalation policies, notification
channels (webhook, e-mail, MQTT) through a durable outbox, and an NGSI-LD ``Alert`` entity in the hub for each.

* :mod:`.manager`: the alert manager (``app.state.ioc.alerts``: contracts.AlertSink and AlertsView);
* :mod:`.silencing`, :mod:`.escalation`, :mod:`.delivery`: silences, the escalation service, the deliverer;
* :mod:`.api`: ``/ioc/alerts``, ``/ioc/silences``, ``/ioc/escalation-policies``, ``/ioc/channels``.

See docs/ioc.md, section Alerts.
"""

from __future__ import annotations

from fastapi import FastAPI

from smartcity.web import background


def install(app: FastAPI) -> None:
    """Mount the alert manager, its routes and its two background services (escalation, delivery)."""
    from smartcity.ioc.alerts import api, configuration
    from smartcity.ioc.alerts.delivery import Deliverer
    from smartcity.ioc.alerts.entity import AlertEntities
    from smartcity.ioc.alerts.escalation import Escalator
    from smartcity.ioc.alerts.manager import AlertManager
    from smartcity.ioc.alerts.repository import AlertTables
    from smartcity.ioc.alerts.senders import Senders

    settings = app.state.settings
    runtime = app.state.ioc
    expand = app.state.contexts.resolve(None).expand_term  # the NGSI-LD core @context (bundled: no network)
    manager = AlertManager(
        AlertTables(app.state.store, runtime.tenant),
        events=runtime.events,
        entities=AlertEntities(app.state.hub, runtime.tenant, expand),
    )
    manager.senders = Senders(timeout=settings.notify_timeout, smtp_url=settings.smtp_url, smtp_from=settings.smtp_from)
    runtime.alerts = manager
    app.include_router(api.router)
    background.register(app, Escalator(manager, on_start=lambda: configuration.load_demo(manager, settings)))
    background.register(app, Deliverer(manager, manager.senders))
