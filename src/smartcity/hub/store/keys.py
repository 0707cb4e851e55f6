"""Compact index keys for attribute names.

The attribute indexes are keyed by a signed 64-bit key of the attribute IRI rather than by the IRI: the first
8 bytes of its MD5, big-endian. PostgreSQL computes the same key in SQL (migration 0006), SQLite through the
``ngsi_name_key`` function the store registers. Two IRIs sharing a key would need an MD5 prefix collision on
64 bits; the rows also keep the IRI itself, which is what reads return.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache


@lru_cache(maxsize=65536)
def name_key(iri: str) -> int:
    """The index key of an attribute IRI."""
    return int.from_bytes(hashlib.md5(iri.encode("utf-8"), usedforsecurity=False).digest()[:8], "big", signed=True)


def sql_name_key(iri: object) -> int | None:
    """:func:`name_key` as an SQLite function (NULL for anything but text)."""
    return name_key(iri) if isinstance(iri, str) else None
