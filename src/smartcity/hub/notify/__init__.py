"""Delivery of queued notifications over HTTP and MQTT, at least once, with retries.

The subscription matcher queues each notification in ``notification_outbox``, in the transaction of the change
that caused it; the :class:`~smartcity.hub.notify.deliverer.Deliverer` sends them in the background and deletes
a row only once its receiver confirmed it, so nothing queued is lost to a crash, a restart or a dead receiver.
"""

from __future__ import annotations

from fastapi import FastAPI

from smartcity.hub.notify.deliverer import Deliverer
from smartcity.settings import Settings
from smartcity.web import background


def install(app: FastAPI) -> None:
    """Register the deliverer of the notification outbox as a background service of ``app``."""
    settings: Settings = app.state.settings
    deliverer = Deliverer(app.state.store, timeout=settings.notify_timeout, max_backoff=settings.notify_max_backoff)
    app.state.deliverer = deliverer
    background.register(app, deliverer)
