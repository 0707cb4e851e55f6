"""The privacy rules, applied to every value and row before anything is written (pure functions).

* ``drop``: attributes never read into a column (checked when the definition is parsed) and keys removed from
  structured values (``address.streetAddress``);
* ``round_coordinates``: every coordinate of a published geometry, and of the spatial coverage, rounded;
* ``delay``: a history publishes only periods that ended at least that long ago (:func:`history_window`);
* ``aggregate``: per group of entities, never single ones; groups with fewer than ``min_group_size`` reporting
  entities in a period are left out (:func:`large_enough`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from smartcity.opendata.publish.definition import History, Privacy

#: periods are counted from midnight in Ho Chi Minh City (UTC+7, no daylight saving): a day period is a local day
ORIGIN = datetime(1970, 1, 1, tzinfo=UTC) - timedelta(hours=7)


def round_geometry(geometry: Any, decimals: int | None) -> Any:
    """A GeoJSON geometry with every coordinate rounded (the geometry itself when ``decimals`` is None)."""
    if decimals is None or not isinstance(geometry, dict):
        return geometry
    out = dict(geometry)
    if "coordinates" in out:
        out["coordinates"] = _round(out["coordinates"], decimals)
    if isinstance(out.get("geometries"), list):
        out["geometries"] = [round_geometry(g, decimals) for g in out["geometries"]]
    return out


def _round(value: Any, decimals: int) -> Any:
    if isinstance(value, list | tuple):
        return [_round(v, decimals) for v in value]
    if isinstance(value, float):
        return round(value, decimals)
    return value


def without_keys(value: Any, keys: tuple[str, ...]) -> Any:
    """A structured value without the dropped keys (other values as they are)."""
    if not keys or not isinstance(value, dict):
        return value
    return {k: v for k, v in value.items() if k not in keys}


def floor_period(moment: datetime, period: timedelta) -> datetime:
    """The start of the period holding ``moment`` (periods counted from :data:`ORIGIN`)."""
    return moment - (moment - ORIGIN) % period


def history_window(
    now: datetime, history: History, privacy: Privacy, published_until: datetime | None
) -> tuple[datetime, datetime]:
    """``[start, end)`` of the periods a run publishes: complete periods that ended ``delay`` ago or earlier,
    from the backfill on the first run, else from the lookback before the end of the latest period published so
    far (late data; a source that replays or catches up is published as its data arrive), never further back than
    the backfill. ``start == end``: nothing to publish yet."""
    end = floor_period(now - privacy.delay, history.period)
    earliest = end - history.backfill
    if published_until is None:
        return earliest, end
    start = min(end, floor_period(published_until, history.period)) - history.lookback
    return max(earliest, start), end


def large_enough(entity_count: int, privacy: Privacy) -> bool:
    """Whether a group's row may be published (its reporting entities reach the minimum group size)."""
    rule = privacy.aggregate
    return rule is None or entity_count >= rule.min_group_size


def bbox(box: tuple[float, float, float, float] | None, decimals: int | None) -> dict[str, Any] | None:
    """The spatial coverage of a (west, south, east, north) box: a GeoJSON Polygon (a Point for one place), its
    coordinates rounded as the published ones are."""
    if box is None:
        return None
    west, south, east, north = (round(v, decimals) if decimals is not None else v for v in box)
    if west == east and south == north:
        return {"type": "Point", "coordinates": [west, south]}
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def positions(geometry: Any) -> list[tuple[float, float]]:
    """Every (lon, lat) position of a GeoJSON geometry."""
    if not isinstance(geometry, dict):
        return []
    if isinstance(geometry.get("geometries"), list):
        return [p for g in geometry["geometries"] for p in positions(g)]
    out: list[tuple[float, float]] = []

    def walk(value: Any) -> None:
        if (
            isinstance(value, list)
            and len(value) >= 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value[:2])
        ):
            out.append((float(value[0]), float(value[1])))
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(geometry.get("coordinates"))
    return out
