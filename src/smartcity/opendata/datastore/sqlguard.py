"""datastore_search_sql's first line of defence: one SELECT over datastore tables, rewritten to their SQL names.

The statement is parsed with sqlglot in the engine's dialect. It must be exactly one ``SELECT`` (or a ``UNION`` /
``INTERSECT`` / ``EXCEPT`` of them) with no data-changing or schema-changing part anywhere (a ``DELETE`` in a
``WITH``, ``SELECT ... INTO``, ``PRAGMA``, ``ATTACH``, ...). Each table it reads must be a ``WITH`` name of the
statement itself or a datastore resource of this portal, named by its id as in CKAN
(``SELECT * FROM "5b0c...-..."``); tables qualified by a schema or database, table functions and functions
outside a fixed list are refused. The engine then runs the rewritten text under its own restrictions (see
:mod:`.engines`): a refusal here is never the only barrier.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from smartcity.opendata.contracts import ValidationFailed
from smartcity.opendata.datastore.engines import SQLITE_FUNCTIONS
from smartcity.opendata.datastore.sqltext import SCHEMA

MAX_SQL_CHARS = 20_000

#: functions sqlglot does not know by type that a query may call (on either engine)
ALLOWED_FUNCTIONS = SQLITE_FUNCTIONS | frozenset(
    [
        "date_trunc",
        "date_part",
        "to_char",
        "to_date",
        "to_timestamp",
        "age",
        "string_agg",
        "array_agg",
        "percentile_cont",
        "percentile_disc",
        "mode",
        "stddev",
        "stddev_pop",
        "stddev_samp",
        "variance",
        "var_pop",
        "var_samp",
        "corr",
        "covar_pop",
        "covar_samp",
        "regr_slope",
        "regr_intercept",
        "greatest",
        "least",
        "concat",
        "concat_ws",
        "split_part",
        "left",
        "right",
        "lpad",
        "rpad",
        "position",
        "strpos",
        "initcap",
        "jsonb_array_length",
        "jsonb_typeof",
        "jsonb_extract_path_text",
        "json_extract_path_text",
        "width_bucket",
        "trunc",
        "div",
        "median",
    ]
)

_FORBIDDEN_NAMES = (
    "Insert",
    "Update",
    "Delete",
    "Merge",
    "Create",
    "Drop",
    "Alter",
    "Command",
    "Pragma",
    "Set",
    "Transaction",
    "Commit",
    "Rollback",
    "Copy",
    "Into",
    "Attach",
    "Detach",
    "Use",
    "Lock",
    "LoadData",
    "Analyze",
    "Grant",
    "Revoke",
    "TruncateTable",
)
FORBIDDEN: tuple[type[exp.Expression], ...] = tuple(
    getattr(exp, name) for name in _FORBIDDEN_NAMES if isinstance(getattr(exp, name, None), type)
)
QUERY_ROOTS = (exp.Select, exp.Union, exp.Intersect, exp.Except)


@dataclass(frozen=True)
class Checked:
    sql: str  # the statement to run, with tables renamed
    tables: tuple[str, ...]  # the SQL names of the datastore tables it reads


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, {"sql": [message]})


def check(sql: str, engine: str, lookup: Callable[[str], str | None]) -> Checked:
    """The statement rewritten for ``engine`` ("sqlite" or "postgresql"), or ValidationFailed saying why not.

    ``lookup`` gives the SQL table name of a datastore resource id of this portal (None: not one).
    """
    if not isinstance(sql, str) or not sql.strip():
        raise _refuse("sql must be a SELECT statement")
    if len(sql) > MAX_SQL_CHARS:
        raise _refuse(f"sql is longer than {MAX_SQL_CHARS} characters")
    dialect = "sqlite" if engine == "sqlite" else "postgres"
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except (SqlglotError, RecursionError, ValueError) as exc:
        raise _refuse(f"sql cannot be parsed: {str(exc).splitlines()[0] if str(exc) else 'syntax error'}") from None
    if len(statements) != 1:
        raise _refuse("sql must be exactly one SELECT statement")
    tree = statements[0]
    if not isinstance(tree, QUERY_ROOTS):
        raise _refuse("only SELECT statements are allowed")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    tables: list[str] = []
    for node in list(tree.walk()):
        if isinstance(node, FORBIDDEN):
            raise _refuse(f"{node.key.upper()} is not allowed in datastore_search_sql")
        if isinstance(node, exp.Anonymous):
            name = str(node.name).lower()
            if name not in ALLOWED_FUNCTIONS:
                raise _refuse(f"the function {name} is not allowed")
        elif isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
            raise _refuse("qualified function names are not allowed")
        elif isinstance(node, exp.Table):
            tables.append(_rewrite(node, engine, ctes, lookup))
    try:
        text = tree.sql(dialect=dialect)
    except SqlglotError as exc:
        raise _refuse(f"sql cannot be rewritten: {exc}") from None
    return Checked(text, tuple(dict.fromkeys(t for t in tables if t)))


def _rewrite(node: exp.Table, engine: str, ctes: set[str], lookup: Callable[[str], str | None]) -> str:
    if not isinstance(node.this, exp.Identifier):
        raise _refuse("table functions are not allowed")
    if node.args.get("db") is not None or node.args.get("catalog") is not None:
        raise _refuse("tables are named by resource id alone, without a schema")
    name = node.name
    if name in ctes:
        return ""
    internal = lookup(name)
    if internal is None:
        raise _refuse(f"{name!r} is not a datastore resource")
    alias = node.alias or name
    node.set("this", exp.to_identifier(internal))
    if engine != "sqlite":
        node.set("db", exp.to_identifier(SCHEMA))
    node.set("alias", exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
    return internal
