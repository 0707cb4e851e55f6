"""JEXL attribute expressions: the examples of the FIWARE IoT Agent library's documentation, property tests of the
parser and evaluator (never anything but a value or JexlError), and an expression applied to real messages."""

from __future__ import annotations

import contextlib
import math
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcity.iot import jexl
from smartcity.iot.jexl import Expression, JexlError
from tests.iot.support import deadletters, entity, provision

CONTEXT = {"value": 6, "ts": 1637245214901, "name": "DevId629", "object": {"name": "John"}, "array": [1, 3]}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("5 * value", 30),
        ("(6 + value) * 3", 36),
        ("value / 12 + 1", 1.5),
        ("(5 + 2) * (value + 7)", 91),
        ('"Pruebas " + "De Strings"', "Pruebas De Strings"),
        ('name + " value is " + value', "DevId629 value is 6"),
        ("{coordinates: [value,value], type: 'Point'}", {"coordinates": [6, 6], "type": "Point"}),
        ("ts|toisodate", "2021-11-18T14:20:14.901Z"),
        ('" a "| trim', "a"),
        ("name|length", 8),
        ('name|indexOf("e")', 1),
        ('name|substr(0,name|indexOf("e")+1)', "De"),
        ("value|toString", "6"),
        ("value|tostring + 'C'", "6C"),
        ("2.5|round", 3),
        ("(-2.5)|round", -2),  # Math.round: halves go up
        ("-2.5|round", -3),  # a transform binds tighter than the unary minus
        ("3.14159|tofixed(2)", "3.14"),
        ("value > 5 ? 'hot' : 'cold'", "hot"),
        ("value > 7 && name == 'DevId629' || value == 6", True),
        ("missing ?: 'default'", "default"),
        ("object.name + array[1]", "John3"),
        ("'Dev' in name", True),
        ("2 ^ 3 ^ 2", 512),
        ("value|mapper([5, 6], ['five', 'six'])", "six"),
        ("'a,b'|split(',')|joinarrtostr('-')|touppercase", "A-B"),
        ("!(value == 6)", False),
        ("value // 4 + value % 4", 3),
    ],
)
def test_the_documented_expressions_give_the_documented_values(source: str, expected: Any) -> None:
    assert Expression(source)(CONTEXT) == expected


@pytest.mark.parametrize("source", ["", "5 *", "(1", "a |", "a|nosuch", "{1: 2}", "a ? b", "'open", "1 2", "a.", "#"])
def test_invalid_expressions_are_refused_when_parsed(source: str) -> None:
    with pytest.raises(JexlError):
        jexl.parse(source)


def test_deep_or_huge_expressions_are_refused_not_crashing() -> None:
    with pytest.raises(JexlError):
        jexl.parse("(" * 200 + "1" + ")" * 200)
    with pytest.raises(JexlError):
        jexl.parse("1 + " * 1000 + "1")
    with pytest.raises(JexlError):
        Expression("'x'|replaceallstr('x', name)|replaceallstr('D', name)|replaceallstr('e', name)")(
            {"name": "De" * 200}
        )


_NUMBERS = st.integers(-(10**6), 10**6) | st.floats(-1e6, 1e6, allow_nan=False)


@st.composite
def _expressions(draw: st.DrawFn, depth: int = 0) -> str:
    """Random well-formed expressions of the subset: literals, names, operators, transforms, conditionals."""
    if depth > 3 or draw(st.booleans()):
        return draw(
            st.sampled_from(["value", "name", "missing", "true", "null", "'txt'", '"a\'b"'])
            | _NUMBERS.map(lambda n: repr(abs(n)))
        )
    left = draw(_expressions(depth + 1))
    right = draw(_expressions(depth + 1))
    shape = draw(st.sampled_from(["bin", "paren", "cond", "transform", "not", "array"]))
    if shape == "bin":
        op = draw(st.sampled_from(["+", "-", "*", "/", "//", "%", "^", "==", "!=", "<", ">=", "&&", "||", "in"]))
        return f"{left} {op} {right}"
    if shape == "paren":
        return f"({left})"
    if shape == "cond":
        return f"{left} ? {right} : {left}"
    if shape == "transform":
        return f"({left})|" + draw(st.sampled_from(["round", "toString", "trim", "length", "floor", "typeof"]))
    if shape == "not":
        return f"!{left}"
    return f"[{left}, {right}]"


@settings(max_examples=300, deadline=None)
@given(_expressions(), _NUMBERS, st.text(max_size=20))
def test_well_formed_expressions_parse_and_evaluate_to_a_value_or_jexl_error(
    source: str, value: float, name: str
) -> None:
    expression = Expression(source)
    try:
        result = expression({"value": value, "name": name})
    except JexlError:
        return
    assert result is None or isinstance(result, bool | int | float | str | list | dict)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_text_parses_or_is_refused_cleanly(source: str) -> None:
    try:
        tree = jexl.parse(source)
    except JexlError:
        return
    with contextlib.suppress(JexlError):
        jexl.evaluate(tree, CONTEXT)


@given(st.integers(-(10**9), 10**9), st.integers(-(10**9), 10**9))
def test_arithmetic_follows_javascript_on_numbers(a: int, b: int) -> None:
    context = {"a": a, "b": b}
    assert Expression("a + b")(context) == a + b
    assert Expression("a * b")(context) == a * b
    quotient = Expression("a / b")(context)
    if b == 0:
        assert math.isnan(quotient) if a == 0 else math.isinf(quotient)
    else:
        assert quotient == a / b
    assert Expression("a + '' + b")(context) == f"{a}{b}"
    assert Expression("a < b ? a : b")(context) == min(a, b)


def test_an_expression_transforms_the_measure_before_it_is_written(
    agent_client: TestClient, publisher: dict[str, str]
) -> None:
    group = {
        "apikey": "xkey",
        "resource": "/iot/json",
        "entity_type": "WeatherObserved",
        "attributes": [
            # a sensor reporting tenths of a degree, and a label made of two measures
            {"object_id": "t", "name": "temperature", "type": "Number", "expression": "t / 10"},
            {"object_id": "s", "name": "name", "type": "Text", "expression": "'Station ' + s + ' (' + id + ')'"},
            {"object_id": "h", "name": "relativeHumidity", "type": "Number", "expression": "h > 1 ? h / 100 : h"},
        ],
    }
    provision(agent_client, [group], [], publisher)
    answer = agent_client.post("/iot/json", params={"k": "xkey", "i": "x1"}, json={"t": 315, "s": "Q1", "h": 74})
    assert answer.status_code == 200, answer.text
    current = entity(agent_client, "urn:ngsi-ld:WeatherObserved:x1")
    assert current["temperature"]["value"] == 31.5
    assert current["name"]["value"] == "Station Q1 (x1)"
    assert current["relativeHumidity"]["value"] == 0.74
    ul = agent_client.post("/iot/d", params={"k": "xkey", "i": "x1"}, content=b"t|250")
    assert (
        ul.status_code == 200 and entity(agent_client, "urn:ngsi-ld:WeatherObserved:x1")["temperature"]["value"] == 25
    )
    # a value the expression makes wrong for its type is refused like a wrong measure
    bad = agent_client.post("/iot/json", params={"k": "xkey", "i": "x1"}, json={"t": "warm"})
    assert bad.status_code == 400 and bad.json()["reason"] == "wrong_type"
    assert [d["reason"] for d in deadletters(agent_client, publisher)] == ["wrong_type"]
    listed = agent_client.get("/iot/services", headers=publisher).json()["services"][0]
    assert listed["attributes"][0]["expression"] == "t / 10"
    refused = agent_client.post(
        "/iot/services",
        json={
            "services": [
                {**group, "apikey": "ykey", "attributes": [{"name": "a", "type": "Number", "expression": "1 +"}]}
            ]
        },
        headers=publisher,
    )
    assert refused.status_code == 400 and refused.json()["name"] == "WRONG_SYNTAX"
