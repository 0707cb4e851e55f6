"""Subscriptions (NGSI-LD clause 5.8 / 6.10-6.11) and the notifications they queue.

``install(app)`` mounts ``/ngsi-ld/v1/subscriptions``, registers the write hook that matches every entity change
against the subscriptions of its tenant (:mod:`.matcher`) and the background service of periodic notifications
(:mod:`.periodic`). Notifications are rendered and queued in ``notification_outbox`` inside the transaction of
the change; :mod:`smartcity.hub.notify` sends them.
"""

from __future__ import annotations

import weakref

from fastapi import FastAPI

from smartcity.hub.store import Store
from smartcity.hub.subscriptions.matcher import Matcher
from smartcity.hub.subscriptions.periodic import PeriodicNotifier
from smartcity.hub.subscriptions.routes import router
from smartcity.web import background

PREFIX = "/ngsi-ld/v1"

#: one matcher per store: an application built again on the same store (tests) must not add a second hook
_matchers: weakref.WeakKeyDictionary[Store, Matcher] = weakref.WeakKeyDictionary()


def matcher_of(store: Store) -> Matcher | None:
    return _matchers.get(store)


def install(app: FastAPI) -> None:
    """Mount /ngsi-ld/v1/subscriptions and match every write against the subscriptions."""
    store: Store = app.state.store
    matcher = _matchers.get(store)
    if matcher is None:
        matcher = _matchers[store] = Matcher(app.state.contexts)
        store.add_write_hook(matcher)
    else:
        matcher.registry = app.state.contexts
        matcher.reset()
    app.include_router(router, prefix=PREFIX)
    background.register(app, PeriodicNotifier(store, app.state.contexts))
