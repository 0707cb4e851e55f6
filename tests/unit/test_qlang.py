"""The NGSI-LD query language: spec examples, precedence, errors, and round-trip / robustness properties."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcity.hub.qlang import (
    MAX_DEPTH,
    MAX_LENGTH,
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
    QuerySyntaxError,
    Range,
    Text,
    Time,
    Uri,
    Value,
    ValueList,
    attribute_names,
    map_paths,
    parse_q,
    unparse,
)

PROPERTY_SETTINGS = settings(max_examples=250, deadline=None)


def p(attr: str, *sub: str, keys: tuple[str, ...] = ()) -> AttrPath:
    return AttrPath(attr, sub, keys)


def ex(attr: str) -> Exists:
    return Exists(p(attr))


# --------------------------------------------------------------------------- spec examples

EXAMPLES: list[tuple[str, Node]] = [
    (
        "temperature>20;humidity<50",
        And((Comparison(p("temperature"), ">", Number(20)), Comparison(p("humidity"), "<", Number(50)))),
    ),
    ('brandName!="Mercedes"', Comparison(p("brandName"), "!=", Text("Mercedes"))),
    (
        "isParked==urn:ngsi-ld:OffStreetParking:Downtown1",
        Comparison(p("isParked"), "==", Uri("urn:ngsi-ld:OffStreetParking:Downtown1")),
    ),
    ("temperature==20..30", Comparison(p("temperature"), "==", Range(Number(20), Number(30)))),
    (
        "temperature==1,2,3",
        Comparison(p("temperature"), "==", ValueList((Number(1), Number(2), Number(3)))),
    ),
    ("name~=(?i)^foo", Pattern(p("name"), "(?i)^foo", negated=False)),
    ("name!~=^ba[rz]$", Pattern(p("name"), "^ba[rz]$", negated=True)),
    ("!location", Exists(p("location"), negated=True)),
    ("location", Exists(p("location"))),
    ("observedAt>=2020-01-01T00:00:00Z", Comparison(p("observedAt"), ">=", DateTime("2020-01-01T00:00:00Z"))),
    ('address[city]=="Saigon"', Comparison(p("address", keys=("city",)), "==", Text("Saigon"))),
    (
        "temperature.observedAt<2021-01-01T00:00:00Z",
        Comparison(p("temperature", "observedAt"), "<", DateTime("2021-01-01T00:00:00Z")),
    ),
    ("a.b.c[d][e]==true", Comparison(p("a", "b", "c", keys=("d", "e")), "==", Bool(True))),
    (
        "(a==1|b==2);c",
        And((Or((Comparison(p("a"), "==", Number(1)), Comparison(p("b"), "==", Number(2)))), ex("c"))),
    ),
]


@pytest.mark.parametrize(("text", "expected"), EXAMPLES, ids=[text for text, _ in EXAMPLES])
def test_spec_examples(text: str, expected: Node) -> None:
    assert parse_q(text) == expected
    assert unparse(expected) == text
    assert parse_q(unparse(expected)) == expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("a==0", Number(0)),
        ("a==-7", Number(-7)),
        ("a==3.25", Number(3.25)),
        ("a==-1.5e3", Number(-1500.0)),
        ("a==2E-2", Number(0.02)),
        ("a==true", Bool(True)),
        ("a==false", Bool(False)),
        ("a==truex", Uri("truex")),
        ('a=="x \\"quoted\\" \\\\ back"', Text('x "quoted" \\ back')),
        ('a==";|()"', Text(";|()")),
        ('a==""', Text("")),
        ("a==2018-12-04", Date("2018-12-04")),
        ("a==2018-12-04T12:00:00.123+07:00", DateTime("2018-12-04T12:00:00.123+07:00")),
        ("a==12:00:00Z", Time("12:00:00Z")),
        ("a==12:00:00", Time("12:00:00")),
        ("a==https://example.org/things/1?x=y#f", Uri("https://example.org/things/1?x=y#f")),
        ("a==Mercedes", Uri("Mercedes")),
    ],
)
def test_values(text: str, value: Value) -> None:
    node = parse_q(text)
    assert node == Comparison(p("a"), "==", value)
    assert parse_q(unparse(node)) == node


def test_number_kinds() -> None:
    int_node = parse_q("a==10")
    float_node = parse_q("a==10.0")
    assert isinstance(int_node, Comparison) and isinstance(int_node.operand, Number)
    assert isinstance(float_node, Comparison) and isinstance(float_node.operand, Number)
    assert type(int_node.operand.value) is int
    assert type(float_node.operand.value) is float


def test_ranges_and_lists() -> None:
    assert parse_q("a!=-5..-1") == Comparison(p("a"), "!=", Range(Number(-5), Number(-1)))
    assert parse_q("a==1.5..2.5") == Comparison(p("a"), "==", Range(Number(1.5), Number(2.5)))
    assert parse_q("d==2018-01-01..2018-12-31") == Comparison(
        p("d"), "==", Range(Date("2018-01-01"), Date("2018-12-31"))
    )
    assert parse_q('s=="a".."m"') == Comparison(p("s"), "==", Range(Text("a"), Text("m")))
    assert parse_q('a==urn:x:1,"two",3,true') == Comparison(
        p("a"), "==", ValueList((Uri("urn:x:1"), Text("two"), Number(3), Bool(True)))
    )


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("https://example.org/temp>5", p("https://example.org/temp")),
        ("https://example.org/ns/temp.observedAt>5", p("https://example.org/ns/temp", "observedAt")),
        (
            "https://smartdatamodels.org/dataModel.Environment/NO2>5",
            p("https://smartdatamodels.org/dataModel.Environment/NO2"),
        ),
        ("https://example.org>5", p("https://example.org")),
        ("http://example.org/ns#temp[k.1]>5", p("http://example.org/ns#temp", keys=("k.1",))),
        ("temperature.https://example.org/ns/by>5", p("temperature", "https://example.org/ns/by")),
        ("schema:name>5", p("schema:name")),
        ("ex:temp.ex:unit>5", p("ex:temp", "ex:unit")),
        ("nhiệtĐộ>5", p("nhiệtĐộ")),
        ("air-quality_2>5", p("air-quality_2")),
    ],
)
def test_iri_attribute_names(text: str, path: AttrPath) -> None:
    node = parse_q(text)
    assert node == Comparison(path, ">", Number(5))
    assert parse_q(unparse(node)) == node


def test_iri_attribute_with_equality_and_uri_value() -> None:
    node = parse_q('schema:name=="x";https://example.org/rel==urn:ngsi-ld:B:1')
    assert node == And(
        (
            Comparison(p("schema:name"), "==", Text("x")),
            Comparison(p("https://example.org/rel"), "==", Uri("urn:ngsi-ld:B:1")),
        )
    )


# --------------------------------------------------------------------------- structure


def test_and_binds_tighter_than_or() -> None:
    assert parse_q("a|b;c") == Or((ex("a"), And((ex("b"), ex("c")))))
    assert parse_q("a;b|c") == Or((And((ex("a"), ex("b"))), ex("c")))
    assert parse_q("a;b|c;d") == Or((And((ex("a"), ex("b"))), And((ex("c"), ex("d")))))


def test_parentheses_override_precedence() -> None:
    node = parse_q("(a==1|b==2);c")
    assert node == And((Or((Comparison(p("a"), "==", Number(1)), Comparison(p("b"), "==", Number(2)))), ex("c")))
    assert unparse(node) == "(a==1|b==2);c"
    assert parse_q("a;(b|c)") == And((ex("a"), Or((ex("b"), ex("c")))))


def test_flattening_and_redundant_parentheses() -> None:
    assert parse_q("a;(b;c);d") == And((ex("a"), ex("b"), ex("c"), ex("d")))
    assert parse_q("(a|b)|(c|d)") == Or((ex("a"), ex("b"), ex("c"), ex("d")))
    assert parse_q("((((a))))") == ex("a")
    assert parse_q("((a;b))") == And((ex("a"), ex("b")))
    assert unparse(parse_q("(a;b)|((c))")) == "a;b|c"


def test_patterns_stop_at_unparenthesised_separators() -> None:
    assert parse_q("n~=x|b") == Or((Pattern(p("n"), "x"), ex("b")))
    assert parse_q("n~=(x|y);b") == And((Pattern(p("n"), "(x|y)"), ex("b")))
    assert parse_q("(n~=a(b)c)") == Pattern(p("n"), "a(b)c")
    assert parse_q("n~=[;|)]") == Pattern(p("n"), "[;|)]")
    assert parse_q(r"n~=a\)\;") == Pattern(p("n"), r"a\)\;")
    assert parse_q("n~=a==b>c") == Pattern(p("n"), "a==b>c")


def test_surrounding_whitespace_is_ignored() -> None:
    assert parse_q("  a==1\n") == Comparison(p("a"), "==", Number(1))


def test_nesting_limit() -> None:
    deep_ok = "(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH
    assert parse_q(deep_ok) == ex("a")
    with pytest.raises(QuerySyntaxError, match="nested"):
        parse_q("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1))
    with pytest.raises(QuerySyntaxError):
        parse_q("(" * 2000 + "a" + ")" * 2000)


def test_length_limit() -> None:
    text = ";".join(["a"] * (MAX_LENGTH // 2))
    assert isinstance(parse_q(text[: MAX_LENGTH - 1]), And)
    with pytest.raises(QuerySyntaxError, match="longer"):
        parse_q("a" * (MAX_LENGTH + 1))


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "(",
        "a)",
        "(a",
        "(a==1|b",
        "()",
        "a;",
        "|a",
        "a;;b",
        "a==",
        "a>foo",
        "a>true",
        "a>1..2",
        "a>1,2",
        "a==1,",
        "a==1..",
        "a==1..urn:x",
        "a==5abc",
        "a==x>5",
        "a===1",
        "a = 1",
        "a ==1",
        "a== 1",
        "a==1 ;b",
        "a~=",
        "a~=(",
        "a~=a(?i)",
        "a~=*",
        "a~=[[x]",
        "a~=[a--b]",
        "a~=x y",
        'a=="unterminated',
        'a=="x"y',
        "a>2018-13-01",
        "a>2018-02-30T00:00:00Z",
        "a>25:00:00",
        "a==1e999",
        "a.b[c].d",
        "a[b",
        "a[]",
        "a..b",
        ".a",
        "!!a",
        "!a==1",
        "a~b",
        "a<>b",
        "a==1.2.3",
    ],
)
def test_syntax_errors(text: str) -> None:
    with pytest.raises(QuerySyntaxError):
        parse_q(text)


def test_error_messages_name_the_problem() -> None:
    with pytest.raises(QuerySyntaxError, match="position 3") as info:
        parse_q("a>foo")
    assert info.value.position == 2
    with pytest.raises(QuerySyntaxError, match="end of input") as info:
        parse_q("(a==1|b")
    with pytest.raises(QuerySyntaxError, match="regular expression") as info:
        parse_q("name~=a(?i)")
    assert info.value.position == 6
    with pytest.raises(QuerySyntaxError, match="empty"):
        parse_q("")
    with pytest.raises(QuerySyntaxError, match="invalid date") as info:
        parse_q("  d>2018-13-01")
    assert info.value.position == 4


# --------------------------------------------------------------------------- utilities and unparse guards


def test_map_paths_and_attribute_names() -> None:
    node = parse_q("(a.b==1|!c[k]);d~=x;e")
    assert attribute_names(node) == {"a", "c", "d", "e"}
    mapped = map_paths(node, lambda path: AttrPath("ex:" + path.attr, path.sub, path.keys))
    assert attribute_names(mapped) == {"ex:a", "ex:c", "ex:d", "ex:e"}
    assert unparse(mapped) == "(ex:a.b==1|!ex:c[k]);ex:d~=x;ex:e"


@pytest.mark.parametrize(
    "node",
    [
        Exists(p("a;b")),
        Exists(p("")),
        Exists(p("a", keys=("x]",))),
        Comparison(p("a"), "==", Uri("has space")),
        Comparison(p("a"), "==", Uri("true")),
        Comparison(p("a"), "==", Number(float("nan"))),
        Comparison(p("a"), "==", DateTime("yesterday")),
        Comparison(p("a"), "==", Date("2018-13-01")),
        Comparison(p("a"), ">", Range(Number(1), Number(2))),
        Comparison(p("a"), ">", Bool(True)),
        Comparison(p("a"), "==", Range(Uri("urn:a"), Uri("urn:b"))),
        Comparison(p("a"), "==", ValueList((Number(1),))),
        Pattern(p("a"), "x|y"),
        Pattern(p("a"), "(unbalanced"),
        And(()),
    ],
)
def test_unparse_refuses_unwritable_trees(node: Node) -> None:
    with pytest.raises(ValueError, match=r"."):
        unparse(node)


# --------------------------------------------------------------------------- properties

simple_names = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,6}", fullmatch=True)
iri_names = st.sampled_from(
    [
        "https://example.org/ns/temperature",
        "https://smartdatamodels.org/dataModel.Environment/NO2",
        "http://example.org/ns#speed",
        "schema:name",
        "ex:a-b",
    ]
)
names = simple_names | iri_names
keys = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,5}", fullmatch=True)
attr_paths = st.builds(
    AttrPath,
    names,
    st.lists(simple_names | iri_names, max_size=2).map(tuple),
    st.lists(keys, max_size=2).map(tuple),
)

numbers = st.builds(Number, st.integers() | st.floats(allow_nan=False, allow_infinity=False))
texts = st.builds(Text, st.text(max_size=12))
offsets = st.sampled_from(["", "Z", "+07:00", "-03:30"])
times_text = st.builds(lambda t, z: t.isoformat() + z, st.times(), offsets)
dates = st.builds(Date, st.dates().map(lambda d: d.isoformat()))
times = st.builds(Time, times_text)
datetimes = st.builds(DateTime, st.builds(lambda d, t: d.isoformat() + "T" + t, st.dates(), times_text))
comparable = numbers | texts | dates | times | datetimes
uris = st.builds(
    Uri,
    st.from_regex(r"urn:ngsi-ld:[A-Za-z]{1,6}:[A-Za-z0-9.\-]{0,6}[A-Za-z0-9]", fullmatch=True)
    | st.sampled_from(["https://example.org/x/y?z=1", "Mercedes", "truex", "a.b"]),
)
any_value = comparable | st.builds(Bool, st.booleans()) | uris
regexes = st.sampled_from(["^foo$", "(?i)bar", "a(b|c;)?d", r"\d+\.\d*", "[;|)(]x", "^[^a-z]+", "(a(b(c)))"])

comparisons = st.builds(Comparison, attr_paths, st.sampled_from([">", ">=", "<", "<="]), comparable) | st.builds(
    Comparison,
    attr_paths,
    st.sampled_from(["==", "!="]),
    any_value
    | st.builds(Range, comparable, comparable)
    | st.lists(any_value, min_size=2, max_size=4).map(lambda vs: ValueList(tuple(vs))),
)
leaves = (
    comparisons | st.builds(Pattern, attr_paths, regexes, st.booleans()) | st.builds(Exists, attr_paths, st.booleans())
)


def _combine(kind: type[And] | type[Or], terms: list[Node]) -> Node:
    flat: list[Node] = []
    for term in terms:
        flat.extend(term.terms if isinstance(term, kind) else (term,))
    return kind(tuple(flat))


trees = st.recursive(
    leaves,
    lambda children: st.builds(_combine, st.sampled_from([And, Or]), st.lists(children, min_size=2, max_size=3)),
    max_leaves=8,
)


@PROPERTY_SETTINGS
@given(trees)
def test_round_trip(node: Node) -> None:
    text = unparse(node)
    assert parse_q(text) == node
    assert unparse(parse_q(text)) == text


QUERY_ALPHABET = st.sampled_from([*';|()=!~<>[]."\\,:/#-_ aZbT0129eE+\n', "true", "..", "==", "~="])


@PROPERTY_SETTINGS
@given(st.text(max_size=40) | st.lists(QUERY_ALPHABET, max_size=30).map("".join))
def test_arbitrary_text_parses_or_raises_syntax_error(text: str) -> None:
    try:
        node = parse_q(text)
    except QuerySyntaxError as exc:
        assert str(exc)
        return
    assert parse_q(unparse(node)) == node


@PROPERTY_SETTINGS
@given(trees, st.integers(min_value=0), st.text(alphabet=';|()=!~<>[]."\\,x1', max_size=3))
def test_corrupted_queries_parse_or_raise_syntax_error(node: Node, where: int, junk: str) -> None:
    text = unparse(node)
    cut = where % (len(text) + 1)
    with contextlib.suppress(QuerySyntaxError):
        parse_q(text[:cut] + junk + text[cut:])
