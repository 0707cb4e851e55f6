"""A device message once decoded: groups of measures, whatever the payload format was.

A *measure group* is one observation of a device: ``measure name -> raw value`` and, when the payload gave one,
its timestamp. A JSON object is one group, a JSON array several; UltraLight separates groups with ``#``. Each
group becomes its own update of the entity (its own instances in the history).
"""

from __future__ import annotations

from typing import Any, NamedTuple

#: the largest payload the agent decodes (bytes); a device message is a few hundred bytes
MAX_PAYLOAD = 64 * 1024
#: the most measure groups in one message
MAX_GROUPS = 1000


class DecodeError(ValueError):
    """A payload that is not a valid message of its format; ``str()`` says why, for the dead-letter store."""


class MeasureGroup(NamedTuple):
    measures: dict[str, Any]
    timestamp: str | None = None  # the group's own time (UltraLight prefix, JSON single-measure array)


def check_size(payload: bytes) -> None:
    if len(payload) > MAX_PAYLOAD:
        raise DecodeError(f"the payload has {len(payload)} bytes, more than {MAX_PAYLOAD}")
