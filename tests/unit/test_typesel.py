"""The NGSI-LD entity type selection language: examples, precedence, errors and properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcity.hub.typesel import (
    MAX_DEPTH,
    MAX_LENGTH,
    AllOf,
    AnyOf,
    TypeExpr,
    TypeName,
    TypeSelectionError,
    map_names,
    matches,
    names,
    parse_types,
    unparse,
)

PROPERTY_SETTINGS = settings(max_examples=250, deadline=None)

A, B, C, D = TypeName("A"), TypeName("B"), TypeName("C"), TypeName("D")
FIWARE_BUILDING = "https://uri.fiware.org/ns/data-models#Building"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Building", TypeName("Building")),
        ("Building,Vehicle", AnyOf((TypeName("Building"), TypeName("Vehicle")))),
        ("Building|Vehicle", AnyOf((TypeName("Building"), TypeName("Vehicle")))),
        ("Building;Smart", AllOf((TypeName("Building"), TypeName("Smart")))),
        (FIWARE_BUILDING, TypeName(FIWARE_BUILDING)),
        (f"{FIWARE_BUILDING},schema:Place", AnyOf((TypeName(FIWARE_BUILDING), TypeName("schema:Place")))),
        ("ex:Off-Street_Parking.v2", TypeName("ex:Off-Street_Parking.v2")),
        ("  A  ", A),
        ("((A))", A),
    ],
)
def test_examples(text: str, expected: TypeExpr) -> None:
    assert parse_types(text) == expected
    assert parse_types(unparse(expected)) == expected


def test_and_binds_tighter_than_or() -> None:
    assert parse_types("A;B|C") == AnyOf((AllOf((A, B)), C))
    assert parse_types("A,B;C") == AnyOf((A, AllOf((B, C))))
    assert parse_types("(A|B);C") == AllOf((AnyOf((A, B)), C))
    assert unparse(parse_types("(A|B);C")) == "(A,B);C"


def test_flattening() -> None:
    assert parse_types("A,(B|C),D") == AnyOf((A, B, C, D))
    assert parse_types("A;(B;C);D") == AllOf((A, B, C, D))
    assert parse_types("A,B|C") == AnyOf((A, B, C))


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        ",",
        "A,",
        ",A",
        "A,,B",
        "A;|B",
        "(A",
        "A)",
        "()",
        "A B",
        "A, B",
        "A&B",
        "A==B",
        '"A"',
        "-A",
        "A(B)",
        "(" * (MAX_DEPTH + 1) + "A" + ")" * (MAX_DEPTH + 1),
        "(" * 2000 + "A" + ")" * 2000,
        "A" * (MAX_LENGTH + 1),
    ],
)
def test_syntax_errors(text: str) -> None:
    with pytest.raises(TypeSelectionError):
        parse_types(text)


def test_error_message_names_position() -> None:
    with pytest.raises(TypeSelectionError, match="position 3") as info:
        parse_types("A,,B")
    assert info.value.position == 2
    with pytest.raises(TypeSelectionError, match="end of input"):
        parse_types("(A")


def test_depth_limit_is_inclusive() -> None:
    assert parse_types("(" * MAX_DEPTH + "A" + ")" * MAX_DEPTH) == A


def test_matches() -> None:
    expr = parse_types("(A|B);C,D")
    assert matches(expr, {"A", "C"})
    assert matches(expr, {"B", "C"})
    assert matches(expr, {"D"})
    assert not matches(expr, {"A", "B"})
    assert not matches(expr, set())
    assert matches(TypeName("A"), ["A"])


def test_names_and_map_names() -> None:
    expr = parse_types("(A|B);C,A")
    assert names(expr) == {"A", "B", "C"}
    mapped = map_names(expr, lambda name: "https://example.org/ns#" + name)
    assert names(mapped) == {"https://example.org/ns#" + n for n in "ABC"}
    assert (
        unparse(mapped)
        == "(https://example.org/ns#A,https://example.org/ns#B);https://example.org/ns#C,https://example.org/ns#A"
    )


@pytest.mark.parametrize("expr", [TypeName(""), TypeName("A B"), TypeName("A,B"), AnyOf(()), AllOf((A, TypeName("(")))])
def test_unparse_refuses_unwritable(expr: TypeExpr) -> None:
    with pytest.raises(ValueError, match=r"."):
        unparse(expr)


# --------------------------------------------------------------------------- properties

type_names = st.builds(
    TypeName,
    st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,6}", fullmatch=True)
    | st.sampled_from([FIWARE_BUILDING, "schema:Place", "ex:a.b-c", "Tòa_nhà"]),
)


def _combine(kind: type[AllOf] | type[AnyOf], items: list[TypeExpr]) -> TypeExpr:
    flat: list[TypeExpr] = []
    for item in items:
        flat.extend(item.items if isinstance(item, kind) else (item,))
    return kind(tuple(flat))


type_exprs = st.recursive(
    type_names,
    lambda children: st.builds(_combine, st.sampled_from([AllOf, AnyOf]), st.lists(children, min_size=2, max_size=3)),
    max_leaves=10,
)


@PROPERTY_SETTINGS
@given(type_exprs)
def test_round_trip(expr: TypeExpr) -> None:
    text = unparse(expr)
    assert parse_types(text) == expr
    assert unparse(parse_types(text)) == text


@PROPERTY_SETTINGS
@given(type_exprs, st.sets(st.sampled_from(["A", "B", "C", FIWARE_BUILDING, "schema:Place"])))
def test_matches_is_monotone(expr: TypeExpr, types: set[str]) -> None:
    assert matches(expr, names(expr))
    assert not matches(expr, set())
    if matches(expr, types):
        assert matches(expr, types | {"Z"})
        assert matches(expr, types & names(expr))


TYPE_ALPHABET = st.sampled_from([*";,|() .:/#-_aZ09\n\"'", "A", "ex:T", "https://x.org/a#B"])


@PROPERTY_SETTINGS
@given(st.text(max_size=40) | st.lists(TYPE_ALPHABET, max_size=25).map("".join))
def test_arbitrary_text_parses_or_raises_selection_error(text: str) -> None:
    try:
        expr = parse_types(text)
    except TypeSelectionError as exc:
        assert str(exc)
        return
    assert parse_types(unparse(expr)) == expr
