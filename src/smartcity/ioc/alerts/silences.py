"""Silences: for a time window, alerts matching them are still recorded (``silenced: true``) but neither
notified nor escalated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from smartcity.hub.errors import BadRequestData
from smartcity.hub.model import parse_time
from smartcity.ioc.alerts.matching import matches, parse_matchers
from smartcity.ioc.alerts.model import Alert, iso

MATCHERS = frozenset({"ruleId", "subject", "ward", "domain", "area"})
MAX_WINDOW = timedelta(days=366)


@dataclass(frozen=True)
class Silence:
    id: str
    matchers: dict[str, Any]
    starts_at: str
    ends_at: str
    comment: str
    created_by: str
    created_at: str

    def in_force(self, now: str) -> bool:
        return self.starts_at <= now < self.ends_at

    def silences(self, alert: Alert, now: str) -> bool:
        return self.in_force(now) and matches(self.matchers, alert)

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "matchers": self.matchers,
            "startsAt": self.starts_at,
            "endsAt": self.ends_at,
            "comment": self.comment,
            "createdBy": self.created_by,
            "createdAt": self.created_at,
        }


def _time(body: dict[str, Any], name: str, default: datetime | None) -> datetime:
    raw = body.get(name)
    if raw is None:
        if default is None:
            raise BadRequestData(f"'{name}' is required (an ISO 8601 date-time with a timezone)")
        return default
    moment = parse_time(raw)
    if moment is None:
        raise BadRequestData(f"'{name}' must be an ISO 8601 date-time with a timezone, not {raw!r}")
    return moment


def parse_silence(body: Any, *, silence_id: str, by: str, now: datetime) -> Silence:
    """A new silence from its JSON body (BadRequestData for a bad window or bad matchers)."""
    if not isinstance(body, dict):
        raise BadRequestData("the body must be a JSON object")
    unknown = set(body) - {"matchers", "startsAt", "endsAt", "comment"}
    if unknown:
        raise BadRequestData(f"unknown members {sorted(unknown)}")
    matchers = parse_matchers(body.get("matchers"), allowed=MATCHERS, require_one=True)
    starts = _time(body, "startsAt", now)
    ends = _time(body, "endsAt", None)
    if ends <= starts:
        raise BadRequestData("'endsAt' must be after 'startsAt'")
    if ends <= now:
        raise BadRequestData("'endsAt' is in the past: the silence would never be in force")
    if ends - starts > MAX_WINDOW:
        raise BadRequestData("a silence lasts at most 366 days")
    comment = body.get("comment", "")
    if not isinstance(comment, str) or len(comment) > 2000:
        raise BadRequestData("'comment' must be a text of at most 2000 characters")
    return Silence(silence_id, matchers, iso(starts) or "", iso(ends) or "", comment, by, iso(now) or "")
