"""The subscription index: the literal prefix of anchored idPatterns (a key of the index)."""

from __future__ import annotations

import re

import pytest

from smartcity.hub.subscriptions.matcher import literal_prefix


@pytest.mark.parametrize(
    ("pattern", "prefix"),
    [
        ("^urn:ngsi-ld:Vehicle:.*", "urn:ngsi-ld:Vehicle:"),
        ("^urn:x:17$", "urn:x:17"),
        ("^a\\.b", "a.b"),
        ("^ab*c", "a"),
        ("^ab?", "a"),
        ("^ab{2}", "a"),
        ("^ab+c", "ab"),
        ("^a\\d", "a"),
        ("^a[bc]", "a"),
        ("abc", ""),
        ("^abc|x", ""),
        ("^(?i)abc", ""),
        (".*", ""),
    ],
)
def test_literal_prefix(pattern: str, prefix: str) -> None:
    assert literal_prefix(pattern) == prefix


@pytest.mark.parametrize("pattern", ["^ab*c", "^ab?d", "^a\\.b+", "^urn:x:1[0-9]$", "^x{0}y"])
def test_every_match_starts_with_the_prefix(pattern: str) -> None:
    compiled = re.compile(pattern)
    for text in ["ac", "abbc", "ad", "abd", "a.bb", "urn:x:15", "y", "xy"]:
        if compiled.search(text):
            assert text.startswith(literal_prefix(pattern)), (pattern, text)
