"""Observation times of device messages: ``TimeInstant`` measures, UltraLight prefixes, the HTTP ``t`` parameter.

An ISO 8601 date-time with an offset (``Z``, ``+07:00``) is taken as it is; one without an offset is local time of
the device's ``timezone`` (device, else group), or UTC when neither has one. Times become UTC with microseconds,
as the hub writes ``observedAt``.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime
from functools import lru_cache

from smartcity.hub.model import format_time, to_micros

#: the earliest observation time accepted (older is a device clock that was never set)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


class BadTimestamp(ValueError):
    """Not an ISO 8601 date-time the agent can place in time."""


@lru_cache(maxsize=64)
def _zone(name: str | None) -> zoneinfo.ZoneInfo | None:
    if name is None:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def parse(text: object, timezone: str | None = None) -> datetime:
    """The UTC instant of ``text``; BadTimestamp says why it is not one."""
    if not isinstance(text, str) or not 10 <= len(text) <= 64:
        raise BadTimestamp(f"{text!r} is not an ISO 8601 date-time")
    try:
        moment = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise BadTimestamp(f"{text!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_zone(timezone) or UTC)
    try:
        moment = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise BadTimestamp(f"{text!r} is out of range") from None
    if moment < EARLIEST:
        raise BadTimestamp(f"{text!r} is before {EARLIEST:%Y}: the device clock is not set")
    return moment


def iso(moment: datetime) -> str:
    return format_time(moment)


def canonical(text: str, moment: datetime) -> str:
    """``moment`` as the hub writes times; ``text`` itself when it is written so already (no formatting)."""
    if len(text) == 27 and text[26] == "Z" and text[19] == "." and text[10] == "T":
        return text
    return format_time(moment)


def micros(moment: datetime) -> int:
    return to_micros(moment)
