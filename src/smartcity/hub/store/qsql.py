"""The NGSI-LD query language compiled to SQL: every value is a bound parameter.

A term on a plain attribute uses the indexed columns of ``attrs`` (``vtype``, ``num``, ``txt``); a term that
goes into a sub-attribute (``a.b``) or a structured value (``a[k]``) reads the instance's JSON document.
A term matches when any instance of the attribute matches (clause 4.9).
"""

from __future__ import annotations

from typing import Any

from smartcity.hub.model import normal_time
from smartcity.hub.qlang import (
    And,
    AttrPath,
    Bool,
    Comparison,
    Date,
    DateTime,
    Exists,
    Node,
    Number,
    Or,
    Pattern,
    Range,
    Text,
    Time,
    Uri,
    Value,
    ValueList,
)
from smartcity.hub.store.dialect import Dialect, Fragment
from smartcity.hub.store.keys import name_key

#: members of an attribute instance that a path may name after a ``.`` (not sub-attributes)
META_MEMBERS = frozenset({"observedAt", "createdAt", "modifiedAt", "unitCode", "datasetId", "object"})

_TEXTUAL = "('string', 'relationship', 'datetime')"
_SQL_OPS = {"==": "=", "!=": "=", ">": ">", ">=": ">=", "<": "<", "<=": "<="}


def compile_q(node: Node, dialect: Dialect, entity_pk: str = "e.pk") -> Fragment:
    """A boolean SQL expression over the entity row whose primary key is ``entity_pk``."""
    if isinstance(node, And | Or):
        parts = [compile_q(term, dialect, entity_pk) for term in node.terms]
        joiner = " AND " if isinstance(node, And) else " OR "
        return "(" + joiner.join(sql for sql, _ in parts) + ")", [p for _, params in parts for p in params]
    if isinstance(node, Exists):
        sql = f"EXISTS (SELECT 1 FROM {dialect.attrs_probe} WHERE entity_pk = {entity_pk} AND name_id = ?"
        params: list[Any] = [name_key(node.path.attr)]
        if node.path.sub or node.path.keys:
            ex_sql, ex_params = dialect.json_exists("doc", _doc_path(node.path))
            sql += " AND " + ex_sql
            params += ex_params
        sql += ")"
        return (f"NOT {sql}" if node.negated else sql), params
    if isinstance(node, Pattern):
        target, t_params = _text_target(node.path, dialect)
        pred = dialect.regex(target)
        if not node.path.sub and not node.path.keys:
            elements, e_params = _text_elements(dialect, dialect.regex_op, node.regex)
            pred = f"({pred} OR {elements})"
            return _attr_term(
                node.path,
                pred,
                [*t_params, node.regex, *e_params],
                negated=node.negated,
                entity_pk=entity_pk,
                dialect=dialect,
            )
        return _attr_term(
            node.path, pred, [*t_params, node.regex], negated=node.negated, entity_pk=entity_pk, dialect=dialect
        )
    if isinstance(node, Comparison):
        pred, params = _comparison(node, dialect)
        return _attr_term(node.path, pred, params, negated=node.op == "!=", entity_pk=entity_pk, dialect=dialect)
    raise TypeError(f"unknown query node {node!r}")


def _attr_term(
    path: AttrPath, pred: str, params: list[Any], *, negated: bool, entity_pk: str, dialect: Dialect
) -> Fragment:
    """The entity has an instance of the attribute whose value satisfies (or, negated, fails) ``pred``.

    Written as a correlated EXISTS: one probe of the (entity_pk, name_id) index per candidate entity.
    """
    cond = f"NOT COALESCE(({pred}), FALSE)" if negated else f"({pred})"
    table = dialect.attrs_probe
    return (
        f"EXISTS (SELECT 1 FROM {table} WHERE entity_pk = {entity_pk} AND name_id = ? AND {cond})",
        [name_key(path.attr), *params],
    )


def driver(node: Node, dialect: Dialect) -> list[Fragment]:
    """Index-range subqueries (``SELECT entity_pk FROM attrs ...``) that every match must appear in.

    One per top-level AND term that can use the (name, num) or (name, txt) index; the store may use the
    most selective of them to drive the query instead of scanning the tenant's entities.
    """
    terms = node.terms if isinstance(node, And) else (node,)
    by_attr: dict[str, list[Fragment]] = {}
    for term in terms:
        if isinstance(term, Comparison) and term.op != "!=" and not term.path.sub and not term.path.keys:
            by_attr.setdefault(term.path.attr, []).append(_comparison(term, dialect, elements=False))
    out: list[Fragment] = []
    for attr, preds in by_attr.items():
        # the comparisons on one attribute make one range (pm25>100;pm25<102). Entities with several instances
        # of the attribute (datasetIds) stay candidates, since each term may match another instance, and so do
        # rows holding arrays or languageMaps, whose elements the range index does not see.
        cond = " AND ".join(f"({sql})" for sql, _ in preds)
        out.append(
            (
                f"SELECT entity_pk FROM attrs WHERE name_id = ? AND {cond} "
                "UNION SELECT entity_pk FROM attrs WHERE name_id = ? AND dataset_id <> '' "
                "UNION SELECT entity_pk FROM attrs WHERE name_id = ? AND vtype IN ('array', 'language')",
                [name_key(attr), *(p for _, ps in preds for p in ps), name_key(attr), name_key(attr)],
            )
        )
    return out


def _comparison(node: Comparison, dialect: Dialect, *, elements: bool = True) -> Fragment:
    """The predicate of a comparison on one attribute row; ``elements`` also looks into arrays of values
    and into LanguageProperty strings (a match of any element is a match, clause 4.9)."""
    operand = node.operand
    if isinstance(operand, ValueList):
        parts = [_compare_value(node.path, "==", v, dialect, elements) for v in operand.values]
        return "(" + " OR ".join(s for s, _ in parts) + ")", [p for _, ps in parts for p in ps]
    if isinstance(operand, Range):
        low_sql, low_params = _compare_value(node.path, ">=", operand.low, dialect, False)
        high_sql, high_params = _compare_value(node.path, "<=", operand.high, dialect, False)
        sql, params = f"({low_sql} AND {high_sql})", low_params + high_params
        if elements and not node.path.sub and not node.path.keys:
            ranged = _range_elements(operand, dialect)
            if ranged is not None:
                sql, params = f"({sql} OR {ranged[0]})", params + ranged[1]
        return sql, params
    return _compare_value(node.path, node.op, operand, dialect, elements)


def _text_elements(dialect: Dialect, op: str, value: object) -> Fragment:
    """Some string of an array value, of a multi-object relationship or of a languageMap ``op`` value."""
    in_value, p1 = dialect.any_element("doc", "value", "string", op)
    in_object, p2 = dialect.any_element("doc", "object", "string", op)
    in_langs, p3 = dialect.any_element("doc", "languageMap", "string", op, members=True)
    return (
        f"((vtype = 'array' AND ({in_value} OR {in_object})) OR (vtype = 'language' AND {in_langs}))",
        [*p1, value, *p2, value, *p3, value],
    )


def _range_elements(operand: Range, dialect: Dialect) -> Fragment | None:
    """Some number element of an array value lies in the range (both bounds on the same element)."""
    low, high = operand.low, operand.high
    if isinstance(low, Number) and isinstance(high, Number):
        between, p2 = dialect.any_element("doc", "value", "number", "BETWEEN ? AND")
        return f"(vtype = 'array' AND {between})", [*p2, _bindable(low.value), _bindable(high.value)]
    return None


def _compare_value(path: AttrPath, op: str, value: Value, dialect: Dialect, elements: bool = True) -> Fragment:
    sql_op = _SQL_OPS[op]
    plain = not path.sub and not path.keys
    if isinstance(value, Bool):
        if plain:
            return f"vtype = 'boolean' AND num {sql_op} ?", [1.0 if value.value else 0.0]
        sql, params = dialect.json_bool("doc", _value_path(path), value.value)
        return sql, params
    if isinstance(value, Number):
        number = _bindable(value.value)
        if plain and elements:
            any_sql, any_params = dialect.any_element("doc", "value", "number", sql_op)
            return (
                f"((vtype = 'number' AND num {sql_op} ?) OR (vtype = 'array' AND {any_sql}))",
                [number, *any_params, number],
            )
        if plain:
            return f"vtype = 'number' AND num {sql_op} ?", [number]
        target, params = dialect.json_number("doc", _value_path(path))
        return f"{target} {sql_op} ?", [*params, number]
    if isinstance(value, DateTime):
        # instants compare as instants: both sides in the store's normal form (UTC, microseconds, Z)
        target, params = _time_target(path, dialect)
        return f"{target} {sql_op} ?", [*params, normal_time(value.value)]
    if isinstance(value, Text | Date | Time | Uri):
        target, params = _text_target(path, dialect)
        if plain and elements:
            in_elements, e_params = _text_elements(dialect, sql_op, value.value)
            return f"({target} {sql_op} ? OR {in_elements})", [*params, value.value, *e_params]
        return f"{target} {sql_op} ?", [*params, value.value]
    raise TypeError(f"unknown query value {value!r}")


def _bindable(number: int | float) -> int | float:
    """Integers beyond 64 bits compare as floats (both engines store numbers as doubles here)."""
    if isinstance(number, int) and not -(2**63) <= number < 2**63:
        return float(number)
    return number


def _text_target(path: AttrPath, dialect: Dialect) -> Fragment:
    """An SQL expression for the attribute's textual value (string, relationship object, date-time)."""
    if not path.sub and not path.keys:
        return f"(CASE WHEN vtype IN {_TEXTUAL} THEN txt END)", []
    base = _doc_path(path)
    if path.keys or (path.sub and path.sub[-1] in META_MEMBERS):
        return dialect.json_text("doc", base)
    value_sql, value_params = dialect.json_text("doc", [*base, "value"])
    object_sql, object_params = dialect.json_text("doc", [*base, "object"])
    typed_sql, typed_params = dialect.json_text("doc", [*base, "value", "@value"])
    return f"COALESCE({value_sql}, {object_sql}, {typed_sql})", value_params + object_params + typed_params


def _time_target(path: AttrPath, dialect: Dialect) -> Fragment:
    if not path.sub and not path.keys:
        return "(CASE WHEN vtype IN ('datetime', 'string') THEN txt END)", []
    base = _doc_path(path)
    if path.keys or (path.sub and path.sub[-1] in META_MEMBERS):
        return dialect.json_time("doc", base)
    value_sql, value_params = dialect.json_time("doc", [*base, "value"])
    typed_sql, typed_params = dialect.json_time("doc", [*base, "value", "@value"])
    return f"COALESCE({value_sql}, {typed_sql})", value_params + typed_params


def _doc_path(path: AttrPath) -> list[str]:
    """JSON path inside an instance document: sub-attributes, then keys into the value."""
    parts = list(path.sub)
    if path.keys:
        if not parts or parts[-1] not in META_MEMBERS:
            parts.append("value")
        parts.extend(path.keys)
    return parts


def _value_path(path: AttrPath) -> list[str]:
    base = _doc_path(path)
    if path.keys or (path.sub and path.sub[-1] in META_MEMBERS):
        return base
    return [*base, "value"]
