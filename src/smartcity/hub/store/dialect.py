"""What differs between SQLite and PostgreSQL SQL: JSON paths, regular expressions, lists, boxes.

Every method returns an SQL fragment with ``?`` parameter markers and the values to bind to them; the
PostgreSQL backend turns ``?`` into psycopg's ``%s`` when it runs a statement.
"""

from __future__ import annotations

from typing import Any, Protocol

Fragment = tuple[str, list[Any]]


class Dialect(Protocol):
    name: str
    #: the attrs table as a correlated probe names it: on the (entity_pk, name_id, dataset_id) key
    attrs_probe: str

    def regex(self, expr: str) -> str:
        """``expr`` matches the bound pattern."""
        ...

    def in_list(self, expr: str, values: list[Any]) -> Fragment:
        """``expr`` is one of ``values`` (one bound parameter whatever the length)."""
        ...

    def json_exists(self, col: str, path: list[str]) -> Fragment: ...

    def json_number(self, col: str, path: list[str]) -> Fragment:
        """The number at ``path`` in the JSON column, NULL when it is not a number."""
        ...

    def json_text(self, col: str, path: list[str]) -> Fragment:
        """The string at ``path``, NULL when it is not a string."""
        ...

    def json_bool(self, col: str, path: list[str], value: bool) -> Fragment: ...

    def json_time(self, col: str, path: list[str]) -> Fragment:
        """The date-time at ``path`` in the store's normal form (see ``model.normal_time``), else NULL."""
        ...

    #: the regular-expression match operator (``expr OP pattern``)
    regex_op: str

    def any_element(self, col: str, key: str, kind: str, op: str, *, members: bool = False) -> Fragment:
        """Some element of the array (``members``: some member value of the object) at ``key`` is a JSON
        ``kind`` ("number" or "string") that satisfies ``element op ?``; the caller binds the last ``?``."""
        ...


def _sqlite_path(path: list[str]) -> str:
    return "$" + "".join('."' + key.replace('"', '\\"') + '"' for key in path)


class SqliteDialect:
    name = "sqlite"
    attrs_probe = "attrs INDEXED BY attrs_key"
    regex_op = "REGEXP"

    def any_element(self, col: str, key: str, kind: str, op: str, *, members: bool = False) -> Fragment:
        kinds = "IN ('integer', 'real')" if kind == "number" else "= 'text'"
        return (
            f"EXISTS (SELECT 1 FROM json_each({col}, ?) j WHERE j.type {kinds} AND j.value {op} ?)",
            [_sqlite_path([key])],
        )

    def regex(self, expr: str) -> str:
        return f"{expr} REGEXP ?"

    def in_list(self, expr: str, values: list[Any]) -> Fragment:
        import orjson

        return f"{expr} IN (SELECT value FROM json_each(?))", [orjson.dumps(values).decode()]

    def json_exists(self, col: str, path: list[str]) -> Fragment:
        return f"json_type({col}, ?) IS NOT NULL", [_sqlite_path(path)]

    def json_number(self, col: str, path: list[str]) -> Fragment:
        p = _sqlite_path(path)
        return f"(CASE WHEN json_type({col}, ?) IN ('integer', 'real') THEN json_extract({col}, ?) END)", [
            p,
            p,
        ]

    def json_text(self, col: str, path: list[str]) -> Fragment:
        p = _sqlite_path(path)
        return f"(CASE WHEN json_type({col}, ?) = 'text' THEN json_extract({col}, ?) END)", [p, p]

    def json_bool(self, col: str, path: list[str], value: bool) -> Fragment:
        return f"json_type({col}, ?) = ?", [_sqlite_path(path), "true" if value else "false"]

    def json_time(self, col: str, path: list[str]) -> Fragment:
        text, params = self.json_text(col, path)
        return f"ngsi_time({text})", params


class PostgresDialect:
    name = "postgresql"
    attrs_probe = "attrs"
    regex_op = "~"

    def any_element(self, col: str, key: str, kind: str, op: str, *, members: bool = False) -> Fragment:
        path = '$."' + key.replace('"', '\\"') + ('".*' if members else '"[*]')
        value = "(j #>> '{}')::float8" if kind == "number" else "(j #>> '{}')"
        return (
            f"EXISTS (SELECT 1 FROM jsonb_path_query({col}, ?::jsonpath) j "
            f"WHERE jsonb_typeof(j) = ? AND {value} {op} ?)",
            [path, kind],
        )

    def regex(self, expr: str) -> str:
        return f"{expr} ~ ?"

    def in_list(self, expr: str, values: list[Any]) -> Fragment:
        return f"{expr} = ANY(?)", [list(values)]

    def json_exists(self, col: str, path: list[str]) -> Fragment:
        return f"({col} #> ?::text[]) IS NOT NULL", [path]

    def json_number(self, col: str, path: list[str]) -> Fragment:
        return (
            f"(CASE WHEN jsonb_typeof({col} #> ?::text[]) = 'number' THEN ({col} #>> ?::text[])::double precision END)",
            [path, path],
        )

    def json_text(self, col: str, path: list[str]) -> Fragment:
        return (
            f"(CASE WHEN jsonb_typeof({col} #> ?::text[]) = 'string' THEN ({col} #>> ?::text[]) END)",
            [path, path],
        )

    def json_bool(self, col: str, path: list[str], value: bool) -> Fragment:
        return f"({col} #> ?::text[]) = ?::jsonb", [path, "true" if value else "false"]

    def json_time(self, col: str, path: list[str]) -> Fragment:
        text, params = self.json_text(col, path)
        return f"ngsi_time({text})", params
