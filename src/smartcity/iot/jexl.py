"""A small, safe evaluator of the JEXL subset the FIWARE IoT Agent documents for attribute ``expression``s.

No library fits: ``pyjexl`` (the Python JEXL) is an unmaintained alpha that needs Python 2 compatibility shims.
This module parses into a tree of tuples and walks it; nothing is ever handed to ``eval`` and only the
transforms below can be called. Supported:

* literals: numbers, strings (``'...'`` or ``"..."``), ``true``, ``false``, ``null``, arrays ``[a, b]`` and
  objects ``{key: value, 'key': value}``; identifiers read the context (measures by name), ``a.b`` and ``a[i]``;
* operators with JavaScript's meaning: ``+`` (string concatenation when either side is a string), ``-``, ``*``,
  ``/``, ``//`` (floor division), ``%``, ``^`` (power), ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``&&``,
  ``||``, ``!``, unary ``-``, ``in`` (substring or member), the conditional ``a ? b : c`` and ``a ?: b``;
* transforms ``value|name(args)`` (:data:`TRANSFORMS`, the common set of the FIWARE IoT Agent library).

:class:`JexlError` is raised for a syntax error (at provisioning) and for a failed evaluation (per message).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import orjson

MAX_LENGTH = 2000
MAX_DEPTH = 64
MAX_RESULT = 65_536  # characters of a string result


class JexlError(ValueError):
    """An expression that cannot be parsed, or that failed on the values given."""


Node = tuple[Any, ...]

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<str>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
    r"|(?P<name>[A-Za-z_$][A-Za-z0-9_$]*)"
    r"|(?P<op>//|==|!=|<=|>=|&&|\|\||\?:|[-+*/%^<>!?:|.,()\[\]{}]))"
)
_BINARY = {
    "||": 10,
    "&&": 20,
    "==": 30,
    "!=": 30,
    "<": 40,
    "<=": 40,
    ">": 40,
    ">=": 40,
    "in": 40,
    "+": 50,
    "-": 50,
    "*": 60,
    "/": 60,
    "//": 60,
    "%": 60,
    "^": 70,
}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text[1:-1])


def tokenize(source: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    pos = 0
    source = source.rstrip()
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None or match.end() == pos:
            raise JexlError(f"unexpected character {source[pos:].strip()[:1]!r} at {pos}")
        pos = match.end()
        kind = match.lastgroup
        text = match.group(kind or "op")
        if kind == "num":
            tokens.append(("lit", float(text) if any(c in text for c in ".eE") else int(text)))
        elif kind == "str":
            tokens.append(("lit", _unquote(text)))
        elif kind == "name" and text in ("true", "false", "null"):
            tokens.append(("lit", {"true": True, "false": False, "null": None}[text]))
        elif kind == "name" and text == "in":
            tokens.append(("op", "in"))
        else:
            tokens.append((kind or "op", text))
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, Any]]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def is_op(self, *ops: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "op" and token[1] in ops

    def expect(self, op: str) -> None:
        if not self.is_op(op):
            found = self.peek()
            raise JexlError(f"expected {op!r}, found {found[1] if found else 'the end'!r}")
        self.pos += 1

    def expression(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise JexlError("the expression is nested too deeply")
        node = self.binary(0)
        if self.is_op("?"):
            self.pos += 1
            then = self.expression()
            self.expect(":")
            node = ("if", node, then, self.expression())
        elif self.is_op("?:"):
            self.pos += 1
            node = ("elvis", node, self.expression())
        self.depth -= 1
        return node

    def binary(self, floor: int) -> Node:
        left = self.unary()
        while True:
            token = self.peek()
            if token is None or token[0] != "op" or token[1] not in _BINARY or _BINARY[token[1]] <= floor:
                return left
            self.pos += 1
            power = _BINARY[token[1]]
            right = self.binary(power - 1 if token[1] == "^" else power)  # ^ is right-associative
            left = ("bin", token[1], left, right)

    def unary(self) -> Node:
        if self.is_op("!", "-"):
            op = self.tokens[self.pos][1]
            self.pos += 1
            return ("not" if op == "!" else "neg", self.unary())
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while True:
            if self.is_op("."):
                self.pos += 1
                token = self.peek()
                if token is None or token[0] != "name":
                    raise JexlError("a name must follow '.'")
                self.pos += 1
                node = ("get", node, ("lit", token[1]))
            elif self.is_op("["):
                self.pos += 1
                index = self.expression()
                self.expect("]")
                node = ("get", node, index)
            elif self.is_op("|"):
                self.pos += 1
                token = self.peek()
                if token is None or token[0] != "name":
                    raise JexlError("a transform name must follow '|'")
                self.pos += 1
                if token[1].lower() not in TRANSFORMS:
                    raise JexlError(f"unknown transform {token[1]!r}")
                args = self.arguments() if self.is_op("(") else []
                node = ("call", token[1].lower(), node, *args)
            else:
                return node

    def arguments(self) -> list[Node]:
        self.expect("(")
        args: list[Node] = []
        while not self.is_op(")"):
            args.append(self.expression())
            if not self.is_op(")"):
                self.expect(",")
        self.pos += 1
        return args

    def primary(self) -> Node:
        token = self.peek()
        if token is None:
            raise JexlError("the expression ends too early")
        self.pos += 1
        kind, value = token
        if kind == "lit":
            return ("lit", value)
        if kind == "name":
            return ("var", value)
        if value == "(":
            node = self.expression()
            self.expect(")")
            return node
        if value == "[":
            items: list[Node] = []
            while not self.is_op("]"):
                items.append(self.expression())
                if not self.is_op("]"):
                    self.expect(",")
            self.pos += 1
            return ("array", *items)
        if value == "{":
            pairs: list[Node] = []
            while not self.is_op("}"):
                key = self.peek()
                if key is None or key[0] not in ("name", "lit") or not isinstance(key[1], str):
                    raise JexlError("an object key must be a name or a string")
                self.pos += 1
                self.expect(":")
                pairs.append((key[1], self.expression()))
                if not self.is_op("}"):
                    self.expect(",")
            self.pos += 1
            return ("object", *pairs)
        raise JexlError(f"unexpected {value!r}")


def parse(source: str) -> Node:
    """The tree of an expression; JexlError when it is not valid JEXL of the supported subset."""
    if not isinstance(source, str) or not source.strip():
        raise JexlError("an expression must be a non-empty string")
    if len(source) > MAX_LENGTH:
        raise JexlError(f"an expression is at most {MAX_LENGTH} characters")
    parser = _Parser(tokenize(source))
    node = parser.expression()
    if parser.peek() is not None:
        raise JexlError(f"unexpected {parser.peek()[1]!r} after the expression")  # type: ignore[index]
    return node


# -- evaluation ------------------------------------------------------------------------------------------


def to_text(value: Any) -> str:
    """JavaScript's String(value)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, list):
        return ",".join("" if v is None else to_text(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


def to_number(value: Any) -> float | int:
    """JavaScript's Number(value) (NaN for what is not a number)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if value is None:
        return 0
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0
        try:
            number = float(text)
        except ValueError:
            return math.nan
        return int(number) if number.is_integer() and re.fullmatch(r"[+-]?\d+", text) else number
    return math.nan


def _truthy(value: Any) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return False
    return value not in (None, False, 0, "")


def _arith(op: str, a: Any, b: Any) -> Any:
    if op == "+" and (isinstance(a, str) or isinstance(b, str) or isinstance(a, list | dict)):
        return _limit(to_text(a) + to_text(b))
    x, y = to_number(a), to_number(b)
    try:
        if op == "+":
            return x + y
        if op == "-":
            return x - y
        if op == "*":
            return x * y
        if op == "/":
            if y == 0:
                return math.nan if x == 0 or math.isnan(x) else math.copysign(math.inf, x)
            return x / y
        if op == "//":
            return math.floor(x / y) if y != 0 else math.nan
        if op == "%":
            return math.fmod(x, y) if y != 0 else math.nan
        if abs(y) >= 1024:
            return math.nan
        if isinstance(x, int) and isinstance(y, int) and y >= 0:
            return x**y if abs(x) < 2**32 else float(x) ** y
        return float(x) ** y
    except (OverflowError, ValueError, ZeroDivisionError):
        return math.nan


def _compare(op: str, a: Any, b: Any) -> bool:
    if op == "==":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    if op == "in":
        if isinstance(b, str):
            return to_text(a) in b
        return isinstance(b, list | dict) and a in b
    if not (isinstance(a, str) and isinstance(b, str)):
        a, b = to_number(a), to_number(b)
    try:
        return bool({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op])
    except TypeError:
        return False


def _limit(text: str) -> str:
    if len(text) > MAX_RESULT:
        raise JexlError(f"a string result is at most {MAX_RESULT} characters")
    return text


def evaluate(node: Node, context: Mapping[str, Any]) -> Any:
    """The value of a parsed expression over ``context`` (measures and device fields by name)."""
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "var":
        return context.get(node[1])
    if kind == "bin":
        op = node[1]
        if op == "&&":
            left = evaluate(node[2], context)
            return evaluate(node[3], context) if _truthy(left) else left
        if op == "||":
            left = evaluate(node[2], context)
            return left if _truthy(left) else evaluate(node[3], context)
        a, b = evaluate(node[2], context), evaluate(node[3], context)
        if op in ("==", "!=", "<", "<=", ">", ">=", "in"):
            return _compare(op, a, b)
        return _arith(op, a, b)
    if kind == "not":
        return not _truthy(evaluate(node[1], context))
    if kind == "neg":
        return -to_number(evaluate(node[1], context))
    if kind == "if":
        return evaluate(node[2] if _truthy(evaluate(node[1], context)) else node[3], context)
    if kind == "elvis":
        value = evaluate(node[1], context)
        return value if _truthy(value) else evaluate(node[2], context)
    if kind == "get":
        return _member(evaluate(node[1], context), evaluate(node[2], context))
    if kind == "array":
        return [evaluate(item, context) for item in node[1:]]
    if kind == "object":
        return {key: evaluate(value, context) for key, value in node[1:]}
    if kind == "call":
        args = [evaluate(arg, context) for arg in node[2:]]
        try:
            return TRANSFORMS[node[1]](*args)
        except JexlError:
            raise
        except (TypeError, ValueError, IndexError, KeyError, AttributeError, OverflowError, re.error) as exc:
            raise JexlError(f"{node[1]}: {exc}") from None
    raise JexlError(f"unknown node {kind!r}")


def _member(target: Any, key: Any) -> Any:
    if isinstance(target, dict):
        return target.get(to_text(key))
    if isinstance(target, list | str) and isinstance(key, int | float) and not isinstance(key, bool):
        index = int(key)
        return target[index] if 0 <= index < len(target) else None
    if isinstance(target, list | str) and key == "length":
        return len(target)
    return None


def _round(value: Any) -> Any:
    number = to_number(value)
    return number if math.isnan(number) or math.isinf(number) else math.floor(number + 0.5)


def _fixed(value: Any, decimals: Any = 0) -> str:
    digits = int(to_number(decimals))
    if not 0 <= digits <= 100:
        raise JexlError("tofixed takes 0 to 100 decimals")
    return f"{float(to_number(value)):.{digits}f}"


def _substr(value: Any, start: Any, length: Any = None) -> str:
    text = to_text(value)
    begin = int(to_number(start))
    begin = max(len(text) + begin, 0) if begin < 0 else begin
    return text[begin:] if length is None else text[begin : begin + max(int(to_number(length)), 0)]


def _parse_int(value: Any) -> Any:
    match = re.match(r"\s*([+-]?\d+)", to_text(value))
    return int(match.group(1)) if match else math.nan


def _parse_float(value: Any) -> Any:
    match = re.match(r"\s*([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)", to_text(value))
    return to_number(match.group(1)) if match else math.nan


def _iso_date(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        moment = dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC)
    else:
        moment = dt.datetime.fromisoformat(to_text(value).replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "undefined" if value is None else "object"


def _mapper(value: Any, values: list[Any], choices: list[Any]) -> Any:
    for index, candidate in enumerate(values):
        if candidate == value:
            return choices[index] if index < len(choices) else None
    return None


TRANSFORMS: dict[str, Callable[..., Any]] = {
    "tostring": to_text,
    "round": _round,
    "floor": lambda v: math.floor(to_number(v)),
    "ceil": lambda v: math.ceil(to_number(v)),
    "tofixed": _fixed,
    "parseint": _parse_int,
    "parsefloat": _parse_float,
    "trim": lambda v: to_text(v).strip(),
    "length": lambda v: len(to_text(v)),
    "indexof": lambda v, ch: to_text(v).find(to_text(ch)),
    "substr": _substr,
    "touppercase": lambda v: to_text(v).upper(),
    "tolowercase": lambda v: to_text(v).lower(),
    "replacestr": lambda v, a, b: to_text(v).replace(to_text(a), to_text(b), 1),
    "replaceallstr": lambda v, a, b: _limit(to_text(v).replace(to_text(a), to_text(b))),
    "split": lambda v, ch: to_text(v).split(to_text(ch)) if to_text(ch) else list(to_text(v)),
    "joinarrtostr": lambda arr, ch=",": _limit(to_text(ch).join(to_text(x) for x in arr)),
    "concatarr": lambda a, b: list(a) + list(b),
    "slice": lambda arr, start=0, end=None: arr[int(start) : None if end is None else int(end)],
    "lengtharray": lambda arr: len(arr),
    "addreduce": lambda arr: sum(to_number(x) for x in arr),
    "isarray": lambda v: isinstance(v, list),
    "isnan": lambda v: math.isnan(to_number(v)),
    "typeof": _type_of,
    "jsonparse": lambda v: orjson.loads(to_text(v)),
    "jsonstringify": lambda v: orjson.dumps(v).decode(),
    "toisodate": _iso_date,
    "toisostring": _iso_date,
    "mapper": _mapper,
}


class Expression:
    """A compiled expression: parse once (at provisioning), evaluate per message."""

    __slots__ = ("source", "tree")

    def __init__(self, source: str) -> None:
        self.source = source
        self.tree = parse(source)

    def __call__(self, context: Mapping[str, Any]) -> Any:
        try:
            return evaluate(self.tree, context)
        except RecursionError:
            raise JexlError("the expression is nested too deeply") from None
