"""CKAN's datastore parameters: what CKAN accepts parses, anything else is a ValidationFailed (never a crash)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.opendata.contracts import ValidationFailed
from smartcity.opendata.datastore import params as P

column = st.from_regex(r"[a-z0-9][a-z0-9_]{0,20}", fullmatch=True)
scalar = st.none() | st.booleans() | st.integers(-(10**9), 10**9) | st.text(max_size=20)
junk = st.text(max_size=60) | st.integers() | st.floats(allow_nan=True) | st.lists(st.integers(), max_size=3)


@given(st.lists(st.tuples(column, st.sampled_from(["asc", "desc", ""])), max_size=6))
def test_sort_reads_back_what_was_written(keys: list[tuple[str, str]]) -> None:
    text = ", ".join(f"{c} {d}".strip() for c, d in keys)
    expected = [(c, d or "asc") for c, d in keys]
    assert P.parse_sort(text) == expected
    assert P.parse_sort(json.dumps([f"{c} {d}".strip() for c, d in keys])) == expected


@given(st.lists(column, max_size=8))
def test_names_as_comma_text_or_json_list(names: list[str]) -> None:
    assert P.parse_names(",".join(names), "fields") == names
    assert P.parse_names(json.dumps(names), "fields") == names
    assert P.parse_names(names, "fields") == names


@given(st.dictionaries(column, scalar | st.lists(scalar, max_size=4), max_size=5))
def test_filters_as_object_or_json_text(filters: dict[str, Any]) -> None:
    assert P.parse_filters(filters) == filters
    assert P.parse_filters(json.dumps(filters)) == filters


@given(st.integers(-(10**6), 10**6))
def test_integers_in_range_only(n: int) -> None:
    if 0 <= n <= 32000:
        assert P.parse_int(str(n), "limit", default=100, low=0, high=32000) == n
        assert P.parse_int(n, "limit", default=100, low=0, high=32000) == n
    else:
        with pytest.raises(ValidationFailed):
            P.parse_int(str(n), "limit", default=100, low=0, high=32000)


@given(junk)
def test_any_input_parses_or_is_a_validation_error(value: Any) -> None:
    parsers = [
        lambda v: P.parse_sort(v),
        lambda v: P.parse_names(v, "fields"),
        lambda v: P.parse_filters(v),
        lambda v: P.parse_int(v, "limit", default=100, low=0, high=32000),
        lambda v: P.parse_bool(v, "include_total", default=True),
        lambda v: P.parse_q(v),
        lambda v: P.parse_records_format(v),
        lambda v: P.parse_indexes(v),
        lambda v: P.parse_field_specs(v),
        lambda v: P.parse_records(v),
    ]
    for parse in parsers:
        try:
            parse(value)
        except ValidationFailed as exc:
            assert exc.errors  # names the parameter


def test_examples_as_ckan_sends_them() -> None:
    assert P.parse_bool("False", "x", default=True) is False and P.parse_bool(None, "x", default=True) is True
    assert P.parse_q('{"station": "thu duc"}') == {"station": "thu duc"} and P.parse_q("thu duc") == "thu duc"
    assert P.parse_indexes("a, b") == ["a", "b"] and P.parse_indexes([["a", "b"], "c"]) == ["a,b", "c"]
    assert P.parse_sort('"time" desc') == [("time", "desc")]
    for bad in ("time sideways", "a b c", "Bad-Name"):
        with pytest.raises(ValidationFailed):
            P.parse_sort(bad)
    with pytest.raises(ValidationFailed):
        P.parse_filters('{"a": {"nested": 1}}')
    with pytest.raises(ValidationFailed):
        P.parse_records_format("xml")
    specs = P.parse_field_specs([{"id": "pm25", "type": "numeric", "info": {"label": "PM2.5"}}])
    assert specs[0].type == "float" and specs[0].info == {"label": "PM2.5"}


@given(st.text(max_size=120) | st.sampled_from(["SELECT * FROM t", "SELECT 1", "WITH a AS (SELECT 1) SELECT * FROM a"]))
def test_the_sql_check_refuses_or_names_only_datastore_tables(sql: str) -> None:
    from smartcity.opendata.datastore import sqlguard

    known = {"t": "ds_" + "0" * 32}
    for engine in ("sqlite", "postgresql"):
        try:
            checked = sqlguard.check(sql, engine, known.get)
        except ValidationFailed:
            continue
        assert set(checked.tables) <= set(known.values())
