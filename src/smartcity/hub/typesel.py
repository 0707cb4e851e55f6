"""The NGSI-LD entity type selection language (ETSI GS CIM 009 v1.8, clause 4.17).

``,`` and ``|`` mean OR, ``;`` means AND (binding tighter), parentheses group. A type name is made of
Unicode word characters and ``- : / # .`` and starts with a word character, so full IRIs
(``https://uri.fiware.org/ns/data-models#Building``) and compact IRIs (``schema:Place``) are names.
Whitespace is allowed only around the whole expression.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TypeAlias, cast

from lark import Lark, Token, Tree
from lark.exceptions import LarkError

from smartcity.hub.qlang import describe_lark_error

MAX_LENGTH = 4096
MAX_DEPTH = 64
TYPE_NAME_RE = r"\w[\w\-:\/#.]*"


@dataclass(frozen=True)
class TypeName:
    name: str


@dataclass(frozen=True)
class AllOf:
    """Entities having every one of the types."""

    items: tuple[TypeExpr, ...]


@dataclass(frozen=True)
class AnyOf:
    """Entities having at least one of the types."""

    items: tuple[TypeExpr, ...]


TypeExpr: TypeAlias = TypeName | AllOf | AnyOf


class TypeSelectionError(ValueError):
    """The text is not a valid type selection; ``position`` is the 0-based offset, when known."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


_GRAMMAR = r"""
start: any_of
any_of: all_of (_OR all_of)*
all_of: _factor (_AND _factor)*
_factor: NAME | _LPAR any_of _RPAR

_OR: /[,|]/
_AND: ";"
_LPAR: "("
_RPAR: ")"
NAME: /@NAME@/
"""


@functools.cache
def _parser() -> Lark:
    return Lark(_GRAMMAR.replace("@NAME@", TYPE_NAME_RE), parser="lalr", lexer="contextual")


def parse_types(text: str) -> TypeExpr:
    """Parse a type selection; raises :class:`TypeSelectionError` for any invalid text."""
    if len(text) > MAX_LENGTH:
        raise TypeSelectionError(f"type selection longer than {MAX_LENGTH} characters")
    body = text.strip()
    offset = len(text) - len(text.lstrip())
    if not body:
        raise TypeSelectionError("empty type selection")
    try:
        tree = _parser().parse(body)
    except LarkError as exc:
        message, pos = describe_lark_error(exc, body, {"_OR": "','"})
        raise TypeSelectionError(message, None if pos is None else pos + offset) from None
    stack = [(tree, -1)]
    while stack:
        current, depth = stack.pop()
        if current.data == "any_of":
            depth += 1
            if depth > MAX_DEPTH:
                raise TypeSelectionError(f"parentheses nested deeper than {MAX_DEPTH} levels")
        stack.extend((child, depth) for child in current.children if isinstance(child, Tree))
    return _build(cast(Tree[Token], tree.children[0]))


def _build(item: Tree[Token] | Token) -> TypeExpr:
    if isinstance(item, Token):
        return TypeName(str(item))
    parts = [_build(child) for child in item.children]
    if len(parts) == 1:
        return parts[0]
    kind = AllOf if item.data == "all_of" else AnyOf
    flat: list[TypeExpr] = []
    for part in parts:
        flat.extend(part.items if isinstance(part, kind) else (part,))
    return kind(tuple(flat))


def unparse(expr: TypeExpr) -> str:
    """Canonical text (``,`` for OR); ``parse_types(unparse(e)) == e`` for every ``parse_types`` result.

    Raises ValueError when ``expr`` cannot be written (an invalid name or an empty group).
    """
    if isinstance(expr, TypeName):
        if not re.fullmatch(TYPE_NAME_RE, expr.name):
            raise ValueError(f"type name {expr.name!r} cannot be written in a type selection")
        return expr.name
    if not expr.items:
        raise ValueError(f"{type(expr).__name__} without items")
    if isinstance(expr, AnyOf):
        return ",".join(unparse(item) for item in expr.items)
    return ";".join(
        f"({unparse(item)})" if isinstance(item, AnyOf) and len(item.items) > 1 else unparse(item)
        for item in expr.items
    )


def map_names(expr: TypeExpr, fn: Callable[[str], str]) -> TypeExpr:
    """The same expression with every type name replaced by ``fn(name)``."""
    if isinstance(expr, TypeName):
        return TypeName(fn(expr.name))
    return type(expr)(tuple(map_names(item, fn) for item in expr.items))


def names(expr: TypeExpr) -> set[str]:
    """Every type name the expression mentions."""
    if isinstance(expr, TypeName):
        return {expr.name}
    return {name for item in expr.items for name in names(item)}


def matches(expr: TypeExpr, types: Collection[str]) -> bool:
    """Whether an entity with the given types is selected."""
    if isinstance(expr, TypeName):
        return expr.name in types
    if isinstance(expr, AllOf):
        return all(matches(item, types) for item in expr.items)
    return any(matches(item, types) for item in expr.items)
