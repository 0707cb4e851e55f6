"""The CKAN Action API at ``/api/3/action/{name}`` and ``/api/action/{name}``, as CKAN 2.10 answers it.

* :mod:`.registry`: the actions by name (each part registers its own); :mod:`.actions`: the catalogue's;
  ``datastore_actions`` (the datastore part's), loaded when present;
* :mod:`.api`: one route per action (GET and POST), the fallback for unknown names; :mod:`.params` and
  :mod:`.query`: CKAN's parameters; :mod:`.envelope`: CKAN's envelope and errors (also for every platform
  error under ``/api/``); :mod:`.policy`: the routes' rows of the platform's policy table.

See docs/opendata.md, section "CKAN Action API".
"""

from __future__ import annotations

import importlib
import importlib.util

from fastapi import FastAPI

#: the modules that register CKAN actions: the catalogue's, then the datastore part's when it exists
ACTION_MODULES = ("smartcity.opendata.ckan.actions", "smartcity.opendata.ckan.datastore_actions")


def load_actions() -> None:
    """Import every module that registers actions (once; modules register at import)."""
    for name in ACTION_MODULES:
        # the datastore part's module is optional: a portal without it simply has no datastore_* actions
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)


def install(app: FastAPI) -> None:
    """Mount the Action API (after the catalogue and the datastore) and CKAN's error envelope under /api/."""
    from smartcity.opendata.ckan import api
    from smartcity.opendata.ckan.envelope import PREFIX, platform_error
    from smartcity.web import errors as web_errors

    load_actions()
    if not any(prefix == PREFIX for prefix, _ in web_errors.FAMILIES):
        web_errors.FAMILIES.insert(0, (PREFIX, platform_error))
    app.include_router(api.router())
