"""The NGSI-LD query language ``q`` (ETSI GS CIM 009 v1.8, clause 4.9): parser, AST and canonical printer.

Tokenisation (the lexer is contextual, so each position only admits the tokens the grammar allows there):

* An attribute path is ``name(.name)*([key])*``. Name characters are Unicode word characters (letters,
  digits, ``_``) and the IRI characters ``- : / #``; a path starts with a word character. ``~``, ``!``,
  ``=``, ``<``, ``>``, ``;``, ``|``, ``(``, ``)``, ``,``, ``"`` and whitespace never occur in names.
* ``.`` separates sub-attributes, except inside a full IRI (a segment containing ``://``): there a dot
  belongs to the IRI while its authority is unfinished (no ``/`` or ``#`` after ``://`` yet) or when the
  following piece contains ``/`` or ``#`` (and no ``://``). So ``https://example.org/ns/temp.observedAt`` is
  attribute ``https://example.org/ns/temp`` with sub-attribute ``observedAt``.
* Keys in ``[...]`` may also contain ``.``.
* Values: numbers, ``"quoted"`` strings (``\\"`` and ``\\\\`` escapes), date-times, dates, times,
  ``true``/``false``; any other unquoted word after ``==``/``!=`` (starting with a letter, made of RFC 3986
  characters other than ``( ) , ;``, never containing ``..``) is a URI.
* A pattern after ``~=``/``!~=`` is raw text up to the next ``;``, ``|`` or ``)`` outside parentheses and
  character classes; backslash escapes are honoured. It may not contain whitespace (write ``\\s``), may
  nest groups at most 16 deep and must compile with Python :mod:`re`; inside a character class ``[`` must
  be escaped and ``--``, ``&&``, ``~~``, ``||`` are refused (future set syntax).
* Whitespace is allowed only around the whole query.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Literal, TypeAlias, cast

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

MAX_LENGTH = 4096
MAX_DEPTH = 64
_REGEX_GROUP_DEPTH = 16

# --------------------------------------------------------------------------- AST


@dataclass(frozen=True)
class AttrPath:
    """``attr.sub1.sub2[key1][key2]``."""

    attr: str
    sub: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Number:
    value: int | float


@dataclass(frozen=True)
class Text:
    value: str


@dataclass(frozen=True)
class DateTime:
    value: str


@dataclass(frozen=True)
class Date:
    value: str


@dataclass(frozen=True)
class Time:
    value: str


@dataclass(frozen=True)
class Bool:
    value: bool


@dataclass(frozen=True)
class Uri:
    value: str


Value: TypeAlias = Number | Text | DateTime | Date | Time | Bool | Uri
Op: TypeAlias = Literal["==", "!=", ">", ">=", "<", "<="]


@dataclass(frozen=True)
class Range:
    low: Value
    high: Value


@dataclass(frozen=True)
class ValueList:
    values: tuple[Value, ...]


@dataclass(frozen=True)
class Comparison:
    path: AttrPath
    op: Op
    operand: Value | Range | ValueList


@dataclass(frozen=True)
class Pattern:
    path: AttrPath
    regex: str
    negated: bool = False


@dataclass(frozen=True)
class Exists:
    path: AttrPath
    negated: bool = False


@dataclass(frozen=True)
class And:
    terms: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    terms: tuple[Node, ...]


Node: TypeAlias = Comparison | Pattern | Exists | And | Or


class QuerySyntaxError(ValueError):
    """The text is not a valid query; ``position`` is the 0-based offset of the problem, when known."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


# --------------------------------------------------------------------------- grammar

NAME_CHARS = r"\w\-:\/#"
PATH_RE = rf"\w[{NAME_CHARS}]*(?:\.[{NAME_CHARS}]+)*(?:\[[{NAME_CHARS}.]+\])*"
_TIME = r"[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+\-][0-9]{2}:[0-9]{2})?"
DATETIME_RE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T" + _TIME
DATE_RE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
TIME_RE = _TIME
NUMBER_RE = r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+\-]?[0-9]+)?"
STRING_RE = r'"(?:[^"\\]|\\[\s\S])*"'
BOOL_RE = r"(?:true|false)(?![^;|),])"
URI_RE = r"[^\W\d_](?:[\w\-~:\/?#\[\]@!$&'*+=%]|\.(?!\.))*"


def _regex_terminal(depth: int) -> str:
    """Raw pattern text: balanced groups up to ``depth``, escapes, classes; no whitespace."""
    esc = r"\\\S"
    cls = r"\[\^?\]?(?:\\\S|[^\s\\\[\]\-&~|]|-(?!-)|&(?!&)|~(?!~)|\|(?!\|))*\]"
    group = rf"\((?:[^\s\\\[()]|{esc}|{cls})*\)"
    for _ in range(depth - 1):
        group = rf"\((?:[^\s\\\[()]|{esc}|{cls}|{group})*\)"
    return rf"(?:[^\s\\\[();|]|{esc}|{cls}|{group})+"


REGEX_RE = _regex_terminal(_REGEX_GROUP_DEPTH)

_GRAMMAR = r"""
start: disj
disj: conj (_OR conj)*
conj: _factor (_AND _factor)*
_factor: term | _LPAR disj _RPAR

term: PATH                   -> exists
    | _NOT PATH              -> not_exists
    | PATH CMP_OP comparable -> compare
    | PATH EQ_OP eq_operand  -> compare
    | PATH PAT_OP REGEX      -> pattern

?eq_operand: value | value_list | range
?value: comparable | BOOL | URI
?comparable: NUMBER | STRING | DATETIME | DATE | TIME
value_list: value (_COMMA value)+
range: comparable _DOTDOT comparable

_OR: "|"
_AND: ";"
_LPAR: "("
_RPAR: ")"
_NOT: "!"
_COMMA: ","
_DOTDOT: ".."
CMP_OP: /[<>]=?/
EQ_OP: /[=!]=/
PAT_OP: /!?~=/
PATH: /@PATH@/
DATETIME.5: /@DATETIME@/
DATE.4: /@DATE@/
TIME.4: /@TIME@/
NUMBER.3: /@NUMBER@/
STRING: /@STRING@/
BOOL.2: /@BOOL@/
URI.1: /@URI@/
REGEX: /@REGEX@/
"""

_FRIENDLY = {
    "_OR": "'|'",
    "_AND": "';'",
    "_LPAR": "'('",
    "_RPAR": "')'",
    "_NOT": "'!'",
    "_COMMA": "','",
    "_DOTDOT": "'..'",
    "CMP_OP": "an operator",
    "EQ_OP": "an operator",
    "PAT_OP": "an operator",
    "PATH": "an attribute name",
    "DATETIME": "a date-time",
    "DATE": "a date",
    "TIME": "a time",
    "NUMBER": "a number",
    "STRING": "a quoted string",
    "BOOL": "true or false",
    "URI": "a URI",
    "VALUE": "a value",
    "COMPARABLE": "a number, quoted string, date-time, date or time",
    "REGEX": "a regular expression",
    "NAME": "a type name",
    "$END": "the end",
}


@functools.cache
def _parser() -> Lark:
    grammar = _GRAMMAR
    for key, pattern in {
        "PATH": PATH_RE,
        "DATETIME": DATETIME_RE,
        "DATE": DATE_RE,
        "TIME": TIME_RE,
        "NUMBER": NUMBER_RE,
        "STRING": STRING_RE,
        "BOOL": BOOL_RE,
        "URI": URI_RE,
        "REGEX": REGEX_RE,
    }.items():
        grammar = grammar.replace(f"@{key}@", pattern)
    return Lark(grammar, parser="lalr", lexer="contextual")


def describe_lark_error(exc: LarkError, text: str, friendly: Mapping[str, str] | None = None) -> tuple[str, int | None]:
    """A human message and 0-based position for a lark parse error over ``text``.

    ``friendly`` overrides the descriptions of terminals in the "expected ..." part.
    """
    names = {**_FRIENDLY, **(friendly or {})}
    if isinstance(exc, UnexpectedCharacters) and exc.pos_in_stream is not None:
        pos = exc.pos_in_stream
        return f"unexpected character {text[pos]!r} at position {pos + 1}{_expected(exc.allowed, names)}", pos
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        if token.type == "$END":
            return f"unexpected end of input{_expected(exc.expected, names)}", len(text)
        pos = token.start_pos
        shown = str(token) if len(token) <= 30 else str(token)[:27] + "..."
        where = f" at position {pos + 1}" if pos is not None else ""
        return f"unexpected {shown!r}{where}{_expected(exc.expected, names)}", pos
    if isinstance(exc, UnexpectedInput):
        return "unexpected input", None
    return f"cannot parse: {exc}", None


_VALUE_TERMINALS = {"NUMBER", "STRING", "DATETIME", "DATE", "TIME", "BOOL", "URI"}


def _expected(terminals: set[str] | frozenset[str] | None, names: Mapping[str, str]) -> str:
    if not terminals:
        return ""
    wanted = set(terminals)
    if "NUMBER" in wanted:
        any_value = "URI" in wanted
        wanted -= _VALUE_TERMINALS
        wanted.add("VALUE" if any_value else "COMPARABLE")
    friendly = sorted({names.get(name, name) for name in wanted})
    return "; expected " + (", ".join(friendly[:-1]) + " or " + friendly[-1] if len(friendly) > 1 else friendly[0])


# --------------------------------------------------------------------------- parsing


def parse_q(text: str) -> Node:
    """Parse a ``q`` query; raises :class:`QuerySyntaxError` for any invalid text."""
    if len(text) > MAX_LENGTH:
        raise QuerySyntaxError(f"query longer than {MAX_LENGTH} characters")
    body = text.strip()
    offset = len(text) - len(text.lstrip())
    if not body:
        raise QuerySyntaxError("empty query")
    try:
        tree = _parser().parse(body)
    except LarkError as exc:
        message, pos = describe_lark_error(exc, body)
        raise QuerySyntaxError(message, None if pos is None else pos + offset) from None
    _check_depth(tree)
    try:
        return _node(_child_tree(tree, 0))
    except QuerySyntaxError as exc:
        if exc.position is not None:
            exc.position += offset
        raise


def _check_depth(tree: Tree[Token]) -> None:
    stack = [(tree, -1)]
    while stack:
        current, depth = stack.pop()
        if current.data == "disj":
            depth += 1
            if depth > MAX_DEPTH:
                raise QuerySyntaxError(f"parentheses nested deeper than {MAX_DEPTH} levels")
        stack.extend((child, depth) for child in current.children if isinstance(child, Tree))


def _child_tree(tree: Tree[Token], index: int) -> Tree[Token]:
    return cast(Tree[Token], tree.children[index])


def _node(tree: Tree[Token]) -> Node:
    kind = tree.data
    if kind in ("disj", "conj"):
        terms = [_node(cast(Tree[Token], child)) for child in tree.children]
        if len(terms) == 1:
            return terms[0]
        return _flat(And, terms) if kind == "conj" else _flat(Or, terms)
    tokens = cast(list[Token], tree.children)
    if kind == "exists":
        return Exists(split_path(tokens[0]))
    if kind == "not_exists":
        return Exists(split_path(tokens[0]), negated=True)
    if kind == "pattern":
        _check_regex(tokens[2])
        return Pattern(split_path(tokens[0]), str(tokens[2]), negated=tokens[1] == "!~=")
    if kind == "compare":
        op = cast(Op, str(tokens[1]))
        return Comparison(split_path(tokens[0]), op, _operand(tree.children[2]))
    raise QuerySyntaxError(f"unexpected construct {kind!r}")  # unreachable with this grammar


def _flat(kind: type[And] | type[Or], terms: list[Node]) -> Node:
    flat: list[Node] = []
    for term in terms:
        flat.extend(term.terms if isinstance(term, kind) else (term,))
    return kind(tuple(flat))


def _operand(item: Tree[Token] | Token) -> Value | Range | ValueList:
    if isinstance(item, Token):
        return _value(item)
    tokens = cast(list[Token], item.children)
    if item.data == "range":
        return Range(_value(tokens[0]), _value(tokens[1]))
    return ValueList(tuple(_value(token) for token in tokens))


_TEMPORAL_KINDS: dict[str, type[DateTime] | type[Date] | type[Time]] = {
    "DATETIME": DateTime,
    "DATE": Date,
    "TIME": Time,
}


def _value(token: Token) -> Value:
    raw = str(token)
    kind = token.type
    if kind == "NUMBER":
        return Number(_number(raw, token.start_pos))
    if kind == "STRING":
        return Text(re.sub(r'\\(["\\])', r"\1", raw[1:-1]))
    if kind == "BOOL":
        return Bool(raw == "true")
    if kind == "URI":
        return Uri(raw)
    maker = _TEMPORAL_KINDS[kind]
    if not _valid_temporal(maker, raw):
        raise QuerySyntaxError(f"invalid {kind.lower()} {raw!r} at position {_at(token)}", token.start_pos)
    return maker(raw)


def _number(raw: str, pos: int | None) -> int | float:
    try:
        if not re.search(r"[.eE]", raw):
            return int(raw)
        number = float(raw)
    except ValueError:
        number = math.inf
    if not math.isfinite(number):
        raise QuerySyntaxError(f"number {raw[:20]!r} is out of range", pos)
    return number


def _valid_temporal(kind: type[DateTime] | type[Date] | type[Time], raw: str) -> bool:
    parse: Callable[[str], object] = {DateTime: datetime.fromisoformat, Date: date.fromisoformat}.get(
        kind, time.fromisoformat
    )
    try:
        parse(raw)
    except (ValueError, OverflowError):
        return False
    return True


def _at(token: Token) -> str:
    return "?" if token.start_pos is None else str(token.start_pos + 1)


def _check_regex(token: Token) -> None:
    reason = regex_problem(str(token))
    if reason is not None:
        raise QuerySyntaxError(
            f"invalid regular expression {str(token)!r} at position {_at(token)}: {reason}", token.start_pos
        )


def regex_problem(pattern: str) -> str | None:
    """Why Python :mod:`re` refuses ``pattern``, or None when it compiles."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return str(exc)
    except (OverflowError, RecursionError, ValueError, Warning) as exc:
        return str(exc) or type(exc).__name__
    return None


def _continues_iri(segment: str, piece: str) -> bool:
    if "://" not in segment or "://" in piece:
        return False
    after_scheme = segment.split("://", 1)[1]
    return not any(c in after_scheme for c in "/#") or any(c in piece for c in "/#")


def split_path(raw: str) -> AttrPath:
    """An attribute path from its text (see the module notes on dots inside full IRIs)."""
    name, bracket, rest = raw.partition("[")
    keys = tuple(re.findall(r"\[([^\]]*)\]", bracket + rest))
    segments: list[str] = []
    for piece in name.split("."):
        if segments and _continues_iri(segments[-1], piece):
            segments[-1] += "." + piece
        else:
            segments.append(piece)
    return AttrPath(segments[0], tuple(segments[1:]), keys)


# --------------------------------------------------------------------------- printing and tree utilities

_COMPARABLE = (Number, Text, DateTime, Date, Time)
_TEMPORAL_RE = {DateTime: DATETIME_RE, Date: DATE_RE, Time: TIME_RE}


def unparse(node: Node) -> str:
    """Canonical text for ``node``; ``parse_q(unparse(n)) == n`` for every tree ``parse_q`` can return.

    Raises ValueError for a tree that cannot be written in the language (e.g. a name with ``;``).
    """
    if isinstance(node, And | Or):
        if not node.terms:
            raise ValueError(f"{type(node).__name__} without terms")
        if isinstance(node, Or):
            return "|".join(unparse(term) for term in node.terms)
        return ";".join(f"({unparse(t)})" if isinstance(t, Or) and len(t.terms) > 1 else unparse(t) for t in node.terms)
    if isinstance(node, Exists):
        return ("!" if node.negated else "") + _path_text(node.path)
    if isinstance(node, Pattern):
        if not re.fullmatch(REGEX_RE, node.regex) or regex_problem(node.regex):
            raise ValueError(f"regular expression {node.regex!r} cannot be written in q")
        return _path_text(node.path) + ("!~=" if node.negated else "~=") + node.regex
    operand = node.operand
    if isinstance(operand, Range | ValueList) and node.op not in ("==", "!="):
        raise ValueError(f"{type(operand).__name__} needs '==' or '!=', not {node.op!r}")
    if node.op not in ("==", "!=") and not isinstance(operand, _COMPARABLE):
        raise ValueError(f"{operand!r} cannot be compared with {node.op!r}")
    return _path_text(node.path) + node.op + _operand_text(operand)


def _path_text(path: AttrPath) -> str:
    text = ".".join((path.attr, *path.sub)) + "".join(f"[{key}]" for key in path.keys)
    if not re.fullmatch(PATH_RE, text) or split_path(text) != path:
        raise ValueError(f"attribute path {path!r} cannot be written in q")
    return text


def _operand_text(operand: Value | Range | ValueList) -> str:
    if isinstance(operand, Range):
        if not isinstance(operand.low, _COMPARABLE) or not isinstance(operand.high, _COMPARABLE):
            raise ValueError("range bounds must be numbers, strings, dates or times")
        return _value_text(operand.low) + ".." + _value_text(operand.high)
    if isinstance(operand, ValueList):
        if len(operand.values) < 2:
            raise ValueError("a value list needs at least two values")
        return ",".join(_value_text(value) for value in operand.values)
    return _value_text(operand)


def _value_text(value: Value) -> str:
    if isinstance(value, Bool):
        return "true" if value.value else "false"
    if isinstance(value, Text):
        return '"' + value.value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, Number):
        number = value.value
        if isinstance(number, bool) or (isinstance(number, float) and not math.isfinite(number)):
            raise ValueError(f"{number!r} is not a finite number")
        return repr(number)
    if isinstance(value, Uri):
        if re.fullmatch(URI_RE, value.value) and value.value not in ("true", "false"):
            return value.value
    elif re.fullmatch(_TEMPORAL_RE[type(value)], value.value) and _valid_temporal(type(value), value.value):
        return value.value
    raise ValueError(f"{value!r} cannot be written in q")


def map_paths(node: Node, fn: Callable[[AttrPath], AttrPath]) -> Node:
    """The same tree with every attribute path replaced by ``fn(path)``."""
    if isinstance(node, And):
        return And(tuple(map_paths(term, fn) for term in node.terms))
    if isinstance(node, Or):
        return Or(tuple(map_paths(term, fn) for term in node.terms))
    if isinstance(node, Comparison):
        return Comparison(fn(node.path), node.op, node.operand)
    if isinstance(node, Pattern):
        return Pattern(fn(node.path), node.regex, node.negated)
    return Exists(fn(node.path), node.negated)


def paths(node: Node) -> list[AttrPath]:
    """Every attribute path of the tree, left to right."""
    if isinstance(node, And | Or):
        return [path for term in node.terms for path in paths(term)]
    return [node.path]


def attribute_names(node: Node) -> set[str]:
    """The top-level attribute names the query refers to."""
    return {path.attr for path in paths(node)}
