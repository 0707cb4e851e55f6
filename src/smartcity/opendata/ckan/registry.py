"""The CKAN actions the portal answers, by name: each part registers its own with :func:`action`.

An action is a plain function ``fn(ctx, params) -> result`` (``result`` is what goes into CKAN's ``result``
member). It raises :mod:`smartcity.opendata.contracts` errors; the edge (``ckan/api.py``) builds CKAN's
envelope and status codes from them. Actions run in a worker thread (they may query the database).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from smartcity.security.principal import Principal


@dataclass(frozen=True)
class ActionContext:
    """Who calls, and the portal's parts (``runtime`` is ``app.state.opendata``)."""

    principal: Principal
    runtime: Any  # smartcity.opendata.runtime.OpenDataRuntime
    user: str  # the caller's name for metadata and audit ("" when anonymous)
    may_write: bool  # the caller holds a publisher role (administrator, data_publisher)
    base_url: str  # the portal's public base URL, for resource URLs and _links


ActionFn = Callable[[ActionContext, Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Action:
    name: str
    fn: ActionFn
    write: bool  # needs a publisher credential; audited
    help: str  # CKAN's "help" member links to the action's documentation


ACTIONS: dict[str, Action] = {}


def action(name: str, *, write: bool = False) -> Callable[[ActionFn], ActionFn]:
    """Register ``fn`` as the CKAN action ``name`` (its docstring's first line is its help)."""

    def register(fn: ActionFn) -> ActionFn:
        if name in ACTIONS:
            raise ValueError(f"the CKAN action {name} is registered twice")
        doc = (fn.__doc__ or name).strip().splitlines()[0]
        ACTIONS[name] = Action(name, fn, write, doc)
        return fn

    return register
