"""Statements with identifiers: fixed SQL text, quoted names and bound values, rendered for one engine.

Table and column names cannot be bound parameters. They enter a statement only as :class:`Ident`, which checks
them once more against the strict pattern, and are quoted by :func:`render` alone: on PostgreSQL with
``psycopg.sql.Identifier``, on SQLite in double quotes (the pattern leaves nothing to escape). Values are always
bound (``?`` in the fixed text).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql as pgsql

IDENT_RE = re.compile(r"[a-z0-9_]{1,63}")
SCHEMA = "datastore"  # PostgreSQL: the schema of the resource tables


@dataclass(frozen=True)
class Ident:
    """A table or column name (already validated by the caller; checked again here)."""

    names: tuple[str, ...]

    def __post_init__(self) -> None:
        for name in self.names:
            if IDENT_RE.fullmatch(name) is None:
                raise ValueError(f"not a datastore identifier: {name!r}")


@dataclass
class Stmt:
    parts: list[str | Ident] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def sql(self, text: str, *params: Any) -> Stmt:
        self.parts.append(text)
        self.params.extend(params)
        return self

    def name(self, *names: str) -> Stmt:
        self.parts.append(Ident(names))
        return self

    def names(self, names: Iterable[str], sep: str = ", ") -> Stmt:
        for n, name in enumerate(names):
            if n:
                self.parts.append(sep)
            self.parts.append(Ident((name,)))
        return self

    def add(self, other: Stmt) -> Stmt:
        self.parts.extend(other.parts)
        self.params.extend(other.params)
        return self


def render(stmt: Stmt, engine: str) -> str | pgsql.Composed:
    """The statement's text for ``engine`` ("sqlite" or "postgresql"); bind ``stmt.params`` with it."""
    if engine == "sqlite":
        return "".join(p if isinstance(p, str) else ".".join(f'"{n}"' for n in p.names) for p in stmt.parts)
    pieces: list[pgsql.Composable] = []
    for p in stmt.parts:
        if isinstance(p, str):
            pieces.append(pgsql.SQL(p.replace("%", "%%").replace("?", "%s")))
        else:
            pieces.append(pgsql.Identifier(*p.names))
    return pgsql.Composed(pieces)
