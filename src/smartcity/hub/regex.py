"""The regular expressions ``idPattern`` and ``q``'s ``~=`` accept: the subset both engines agree on.

SQLite evaluates patterns with Python's ``re``, PostgreSQL with its own ARE engine. A pattern outside the
common subset would match differently (or not compile) on one of them, so it is refused on both with the same
message: the hub behaves the same whatever the engine.
"""

from __future__ import annotations

import re
import warnings

MAX_LENGTH = 1024

_INLINE_FLAGS_AT_START = "(?i)"
_PYTHON_ONLY_GROUPS = {
    "(?P": "named groups ((?P<name>...)) are not portable",
    "(?>": "atomic groups ((?>...)) are not portable",
    "(?(": "conditional groups are not portable",
}
_PORTABLE_GROUPS = ("(?:", "(?=", "(?!", "(?<=", "(?<!", "(?#")


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be used, or None when both engines read it the same way."""
    if len(pattern) > MAX_LENGTH:
        return f"a pattern may have at most {MAX_LENGTH} characters"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            re.compile(pattern)
    except (re.error, FutureWarning, DeprecationWarning) as exc:
        return f"not a valid regular expression: {exc}"
    return _portability_problem(pattern)


def _portability_problem(pattern: str) -> str | None:
    i = 0
    in_class = False
    if pattern.startswith(_INLINE_FLAGS_AT_START):
        i = len(_INLINE_FLAGS_AT_START)
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            nxt = pattern[i + 1 : i + 2]
            if not in_class and nxt in ("b", "B"):
                return "\\b and \\B are not portable (PostgreSQL reads \\b as a backspace); use a lookaround"
            if nxt == "N":
                return f"the escape \\{nxt} is not portable"
            i += 2
            continue
        if in_class:
            if ch == "]" and pattern[i - 1] != "[" and pattern[i - 2 : i] != "[^":
                in_class = False
            i += 1
            continue
        if ch == "[":
            in_class = True
            i += 1
            continue
        if ch == "(" and pattern[i + 1 : i + 2] == "?":
            head = pattern[i : i + 4]
            for prefix, why in _PYTHON_ONLY_GROUPS.items():
                if head.startswith(prefix):
                    return why
            if not head.startswith(_PORTABLE_GROUPS):
                return "inline flags are portable only as (?i) at the very start of the pattern"
        if ch in "*+?}" and pattern[i + 1 : i + 2] == "+":
            return "possessive quantifiers (*+, ++, ?+, {n}+) are not portable"
        if ch == "{" and pattern[i + 1 : i + 2] == ",":
            return "write {0,n}, not {,n}"
        i += 1
    return None
