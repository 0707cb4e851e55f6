"""A run's rows: values converted to the column types, spooled to a temporary file while the hub is read (so a
large publication never sits in memory and no hub transaction stays open while the datastore writes), with the
run's temporal and spatial extent.

Values are JSON-ready, as the datastore's records are: ``timestamp`` an ISO 8601 text in UTC with its offset,
``geometry`` a GeoJSON geometry, ``json`` any JSON value; a value that does not fit its column's type is left
empty (None) rather than guessed.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from smartcity.hub.model import parse_time
from smartcity.opendata.contracts import FieldSpec, FieldType
from smartcity.opendata.publish.definition import Publication
from smartcity.opendata.publish.privacy import positions

#: rows kept in memory before the spool moves to a temporary file
SPOOL_BYTES = 8 * 1024 * 1024


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def convert(value: Any, kind: FieldType) -> Any:
    """``value`` as a value of a column of type ``kind`` (None when it does not fit)."""
    if value is None:
        return None
    if kind == "text":
        if isinstance(value, str):
            return value
        if isinstance(value, bool | int | float):
            return str(value).lower() if isinstance(value, bool) else str(value)
        return orjson.dumps(value).decode()
    if kind == "int":
        number = _number(value)
        return None if number is None else round(number)
    if kind == "float":
        return _number(value)
    if kind == "bool":
        return value if isinstance(value, bool) else None
    if kind == "timestamp":
        if isinstance(value, datetime):
            return iso(value)
        if isinstance(value, dict) and isinstance(value.get("@value"), str):
            value = value["@value"]
        moment = parse_time(value)
        return iso(moment) if moment is not None else None
    if kind == "date":
        text = value.get("@value") if isinstance(value, dict) else value
        if isinstance(text, str) and len(text) >= 10:
            try:
                return datetime.fromisoformat(text[:10]).date().isoformat()
            except ValueError:
                return None
        return None
    if kind == "geometry":
        return value if isinstance(value, dict) and isinstance(value.get("type"), str) else None
    return value  # json


def fields_of(pub: Publication) -> list[FieldSpec]:
    """The datastore columns of a publication, with their labels (CKAN's data dictionary)."""
    out = []
    for c in pub.columns:
        info: dict[str, str] = {}
        if c.label is not None:
            info["label"] = c.label.vi
            info["label_en"] = c.label.en
        if c.notes is not None:
            info["notes"] = c.notes.vi
            info["notes_en"] = c.notes.en
        out.append(FieldSpec(c.id, c.type, info))
    return out


class Extent:
    """The bounding box of positions and the time range of instants seen."""

    def __init__(self) -> None:
        self.west = self.south = math.inf
        self.east = self.north = -math.inf
        self.first: str | None = None
        self.last: str | None = None

    def add_geometry(self, geometry: Any) -> None:
        for lon, lat in positions(geometry):
            self.west, self.east = min(self.west, lon), max(self.east, lon)
            self.south, self.north = min(self.south, lat), max(self.north, lat)

    def add_time(self, text: str) -> None:
        if self.first is None or text < self.first:
            self.first = text
        if self.last is None or text > self.last:
            self.last = text

    def box(self) -> tuple[float, float, float, float] | None:
        """(west, south, east, north), or None when no position was seen."""
        if self.west == math.inf:
            return None
        return self.west, self.south, self.east, self.north


class Spool:
    """Rows written once, read back once, in order."""

    def __init__(self, pub: Publication) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - closed by close()
        self.count = 0
        self.extent = Extent()
        self.last_period_end: datetime | None = None  # history: the end of the latest period a row holds
        self._times = [c.id for c in pub.columns if c.type == "timestamp" and c.source != "period_end"]
        self._ends = [c.id for c in pub.columns if c.source == "period_end"]
        self._geometries = [c.id for c in pub.columns if c.type == "geometry"]

    def add(self, row: Mapping[str, Any]) -> None:
        self._file.write(orjson.dumps(row))
        self._file.write(b"\n")
        self.count += 1
        for name in self._times:
            value = row.get(name)
            if isinstance(value, str):
                self.extent.add_time(value)
        for name in self._ends:  # the end of the last period is where the coverage stops
            value = row.get(name)
            if isinstance(value, str) and (self.extent.last is None or value > self.extent.last):
                self.extent.last = value
        for name in self._geometries:
            self.extent.add_geometry(row.get(name))

    def add_period_row(self, row: Mapping[str, Any], period_end: datetime) -> None:
        self.add(row)
        if self.last_period_end is None or period_end > self.last_period_end:
            self.last_period_end = period_end

    def rows(self) -> Iterator[dict[str, Any]]:
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            if line.strip():
                row: dict[str, Any] = orjson.loads(line)
                yield row

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
