"""The portable regular-expression subset: refused the same way on both engines, with a reason."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcity.hub.regex import regex_problem


@pytest.mark.parametrize(
    "pattern",
    [
        "^urn:ngsi-ld:Station:.*$",
        "(?i)^ben",
        "a{0,3}b",
        "(?:ab|cd)+",
        "x(?=y)",
        "(?<!a)b",
        "[\\b]",
        "[]a]",
        r"\d+\.\d*",
    ],
)
def test_portable_patterns_are_accepted(pattern: str) -> None:
    assert regex_problem(pattern) is None


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(?P<n>urn)", "named groups"),
        ("(?>urn)", "atomic groups"),
        ("u++rn", "possessive"),
        ("(?i:URN)", "inline flags"),
        ("(?s:u.)", "inline flags"),
        ("a(?i)b", "regular expression"),  # global flags must open the pattern (Python refuses it too)
        ("\\bword\\b", "\\b and \\B"),
        ("a{,3}", "{0,n}"),
        ("\\N{BULLET}", "\\N"),
        ("(unclosed", "not a valid regular expression"),
        ("x" * 2000, "at most"),
    ],
)
def test_engine_specific_patterns_are_refused_with_a_reason(pattern: str, reason: str) -> None:
    problem = regex_problem(pattern)
    assert problem is not None and reason in problem


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab()?*+{},:<>=!PiIs\\[]^$.|0123", max_size=24))
def test_any_text_gives_a_verdict_never_an_exception(pattern: str) -> None:
    problem = regex_problem(pattern)
    assert problem is None or isinstance(problem, str)
