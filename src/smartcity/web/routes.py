"""The application's routes as a flat list (FastAPI keeps included routers nested)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fastapi import FastAPI


@dataclass(frozen=True)
class RouteInfo:
    name: str
    path: str
    methods: frozenset[str]
    documented: bool


def iter_routes(app: FastAPI) -> Iterator[RouteInfo]:
    """Every route the app serves: its name, full path template, methods and whether OpenAPI shows it."""
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            for ctx in contexts():
                yield RouteInfo(ctx.name, ctx.path_format, frozenset(ctx.methods or ()), bool(ctx.include_in_schema))
        else:
            methods = getattr(route, "methods", None) or frozenset()
            yield RouteInfo(
                str(getattr(route, "name", "")),
                str(getattr(route, "path", "")),
                frozenset(methods),
                bool(getattr(route, "include_in_schema", False)),
            )
