"""The hash chain of the audit trail.

Each record is hashed over its canonical bytes: the JSON object of every stored field except ``hash`` (so
including ``seq`` and ``prev_hash``), keys sorted at every depth, as orjson writes it. The record's ``prev_hash``
is the ``hash`` of the record before it; the first record's is :data:`GENESIS` (64 zeros). The canonical form is
the export form (:meth:`AuditEntry.to_json`) without ``hash``, so an exported trail can be checked on its own.

What the chain proves:

* With a key (``SMARTCITY_AUDIT_KEY``), each hash is HMAC-SHA256 under that key. Whoever can write to the database
  but does not hold the key cannot edit, remove, insert or reorder a record without breaking the chain: they
  cannot compute a valid hash for the changed record, nor for any record after it.
* Without a key, each hash is a plain SHA-256. The chain still catches accidental damage and careless tampering,
  but someone with write access can recompute every hash from the changed record onwards and rewrite the head
  row: the trail then verifies. Only a copy of the head kept elsewhere catches that.

Removing records at the end of the trail (truncation) leaves a valid chain behind, so the store keeps the last
``seq`` and ``hash`` in the one-row ``audit_head`` table, updated in the same transaction as every append: a trail
shorter than its head was truncated. Someone who truncates the tail and also rewinds the head row goes unnoticed
by the database alone; an external anchor catches it: note the head printed by ``smartcity audit verify``
somewhere the database's users cannot write (a ticket, a signed e-mail, a WORM bucket) and check later with
``--expect-head SEQ:HASH``. The record at that seq must still exist and still have that hash.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import orjson

#: the ``prev_hash`` of the first record
GENESIS = "0" * 64


def canonical(fields: Mapping[str, Any]) -> bytes:
    """The bytes hashed for a record: every field but ``hash``, as JSON with sorted keys."""
    return orjson.dumps({k: v for k, v in fields.items() if k != "hash"}, option=orjson.OPT_SORT_KEYS)


def link(prev_hash: str, fields: Mapping[str, Any], key: bytes | None) -> str:
    """The hash of a record (its stored fields with ``seq``) chained to ``prev_hash``, as 64 hex digits.

    HMAC-SHA256 under ``key`` when there is one, else SHA-256.
    """
    data = canonical({**fields, "prev_hash": prev_hash})
    if key:
        return hmac.new(key, data, hashlib.sha256).hexdigest()
    return hashlib.sha256(data).hexdigest()


def matches(fields: Mapping[str, Any], key: bytes | None) -> bool:
    """Whether a stored record's ``hash`` is the hash of its other fields (its own ``prev_hash`` included)."""
    expected = link(str(fields.get("prev_hash", "")), fields, key)
    return hmac.compare_digest(expected.encode(), str(fields.get("hash", "")).encode())
