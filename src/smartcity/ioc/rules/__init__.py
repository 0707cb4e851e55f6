"""The operations centre's rules: data (API and YAML files, validated and versioned), evaluated as the hub's
committed changes stream in and by timers, back-tested against the hub's history. See docs/ioc.md (Rules).

* :mod:`.model`: the rule schema and its validation; :mod:`.files`: YAML files;
* :mod:`.engine`, :mod:`.kinds`, :mod:`.tracker`: evaluation (pure, clock given by the caller);
* :mod:`.service`: the live engine on the change feed, signals to the alert manager;
* :mod:`.backtest`: replays of the history; :mod:`.repository`: storage; :mod:`.api`: ``/ioc/rules``.
"""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Mount the rules API and register the live engine (after the alerts: it signals ``app.state.ioc.alerts``)."""
    from smartcity.ioc.rules import api
    from smartcity.ioc.rules.engine import Engine
    from smartcity.ioc.rules.repository import RuleBook
    from smartcity.ioc.rules.service import RulesService
    from smartcity.web import background

    runtime = app.state.ioc
    expand = app.state.contexts.resolve(None).expand_term  # the NGSI-LD core @context (bundled: no network)
    service = RulesService(
        runtime,
        RuleBook(app.state.store, runtime.tenant),
        app.state.hub,
        app.state.store.feed,
        Engine(expand),
        rules_dir=app.state.settings.ioc_rules,
    )
    runtime.rules = service
    app.include_router(api.router)
    background.register(app, service)
