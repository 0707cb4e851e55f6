"""package_search's parameters read as CKAN: fq and q clauses, sorts, numbers, booleans and JSON lists."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.opendata.ckan import params
from smartcity.opendata.ckan.query import FILTER_FIELDS, parse_fq, parse_q, parse_sort, search_query
from smartcity.opendata.contracts import SearchError, SearchQuery, ValidationFailed


def test_fq_clauses() -> None:
    assert parse_fq('organization:so-y-te +tags:"chất lượng" AND res_format:CSV') == [
        ("organization", "so-y-te"),
        ("tags", "chất lượng"),
        ("res_format", "CSV"),
    ]
    assert parse_fq(r"tags:mực\ nước") == [("tags", "mực nước")]
    assert parse_fq(r'tags:"say \"hi\""') == [("tags", 'say "hi"')]
    assert parse_fq("  ") == []


@pytest.mark.parametrize("fq", ["author:x", "organization", "tags:", ":x", "-tags:x", "tags:x OR tags:y x"])
def test_unreadable_fq_is_a_search_query_error(fq: str) -> None:
    with pytest.raises(SearchError):
        parse_fq(fq)


VALUES = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)


@given(st.lists(st.tuples(st.sampled_from(sorted(FILTER_FIELDS)), VALUES), max_size=5), st.booleans())
def test_quoted_fq_round_trips(clauses: list[tuple[str, str]], plus: bool) -> None:
    def quote(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    text = " ".join(f"{'+' if plus else ''}{field}:{quote(value)}" for field, value in clauses)
    assert parse_fq(text) == clauses


@given(st.text(max_size=80))
def test_any_fq_text_parses_or_is_a_search_error(text: str) -> None:
    try:
        found = parse_fq(text)
    except SearchError:
        return
    assert all(field in FILTER_FIELDS for field, _ in found)


@given(st.text(max_size=80))
def test_any_q_text_gives_text_and_known_filters(text: str) -> None:
    rest, filters = parse_q(text)
    assert all(field in FILTER_FIELDS for field, _ in filters)
    assert rest == rest.strip()


def test_q_takes_filters_and_text_fields() -> None:
    assert parse_q("*:*") == ("", [])
    assert parse_q('khong khi tags:"PM2.5" organization:so-y-te') == (
        "khong khi",
        [("tags", "PM2.5"), ("organization", "so-y-te")],
    )
    assert parse_q("title:mực nước") == ("mực nước", [])
    assert parse_q("http://example.org") == ("http://example.org", [])


def test_sort() -> None:
    assert parse_sort("score desc, metadata_modified desc") == [("score", "desc"), ("metadata_modified", "desc")]
    assert parse_sort("name") == [("name", "asc")]
    assert parse_sort("") == []
    with pytest.raises(SearchError):
        parse_sort("name up")


def test_search_query_from_get_strings() -> None:
    query = search_query(
        {
            "q": "muc nuoc",
            "fq": "groups:flood",
            "fq_list": '["tags:ngập"]',
            "rows": "20",
            "start": "40",
            "sort": "name asc",
            "facet.field": '["tags", "groups"]',
            "facet.limit": "-1",
            "facet.mincount": "2",
            "include_private": "true",
        },
        may_see_private=True,
    )
    assert query == SearchQuery(
        q="muc nuoc",
        fq=(("groups", "flood"), ("tags", "ngập")),
        rows=20,
        start=40,
        sort=(("name", "asc"),),
        facet_fields=("tags", "groups"),
        facet_limit=-1,
        facet_mincount=2,
        include_private=True,
    )
    assert search_query({"include_private": True}, may_see_private=False).include_private is False
    assert search_query({"rows": 100000}, may_see_private=False).rows == 1000
    assert search_query({"facet": "false", "facet.field": ["tags"]}, may_see_private=False).facet_fields == ()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"rows": "ten"}, "rows"),
        ({"rows": -1}, "rows"),
        ({"start": True}, "start"),
        ({"facet.field": "tags"}, "facet.field"),
        ({"facet.field": "[1]"}, "facet.field"),
        ({"include_private": "perhaps"}, "include_private"),
        ({"q": ["a"]}, "q"),
    ],
)
def test_bad_parameters_are_validation_errors(data: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        search_query(data, may_see_private=False)
    assert list(caught.value.errors) == [field]


def test_request_data_helpers() -> None:
    assert params.mixed([("a", "1"), ("b", "2"), ("a", "3")]) == {"a": ["1", "3"], "b": "2"}
    assert params.from_body(b"") == {}
    assert params.from_form([('{"id": "x"}', "1")]) == {"id": "x"}
    assert params.from_form([("id", "x")]) == {"id": "x"}
    with pytest.raises(params.BadRequest):
        params.from_body(b'"text"')


@given(st.integers(min_value=0, max_value=10**9))
def test_integers_read_from_text_and_numbers(n: int) -> None:
    assert params.integer({"k": str(n)}, "k", 0) == params.integer({"k": n}, "k", 0) == n
