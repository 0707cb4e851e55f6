"""The IoT Agent JSON payload (FIWARE iotagent-json user manual, "Measure reporting").

* multi-measure (``/iot/json``, ``/json/<key>/<id>/attrs``): a JSON object ``{"t": 23, "h": 70}`` (one group),
  or an array of such objects (one group each, a *multimeasure*);
* single measure (``/json/<key>/<id>/attrs/<name>``): the raw value; an array of ``{"timestamp", "value"}``
  objects is a series of values of that measure; a payload that is not JSON is binary, kept as its hex string.

Only :class:`~smartcity.iot.measures.DecodeError` leaves these functions, whatever the bytes.
"""

from __future__ import annotations

from typing import Any

import orjson

from smartcity.iot.measures import MAX_GROUPS, DecodeError, MeasureGroup, check_size


def _loads(payload: bytes) -> Any:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"the payload is not valid JSON: {exc}") from None


def decode_measures(payload: bytes) -> list[MeasureGroup]:
    """A JSON object of measures, or an array of them."""
    check_size(payload)
    data = _loads(payload)
    items = data if isinstance(data, list) else [data]
    if not items:
        raise DecodeError("the payload is an empty array: no measures")
    if len(items) > MAX_GROUPS:
        raise DecodeError(f"the payload holds {len(items)} measure groups, more than {MAX_GROUPS}")
    groups: list[MeasureGroup] = []
    for index, item in enumerate(items):
        where = "the payload" if not isinstance(data, list) else f"element {index} of the array"
        if not isinstance(item, dict):
            raise DecodeError(f"{where} must be a JSON object of measures, not {type(item).__name__}")
        if not item:
            raise DecodeError(f"{where} holds no measures")
        groups.append(MeasureGroup(item))
    return groups


def decode_single(payload: bytes, name: str) -> list[MeasureGroup]:
    """The value of one measure (``.../attrs/<name>``)."""
    check_size(payload)
    if not payload.strip():
        raise DecodeError("the payload is empty")
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return [MeasureGroup({name: payload.hex()})]  # not JSON: binary content, as its hex string (FIWARE)
    if isinstance(data, list) and data and all(isinstance(x, dict) and "value" in x for x in data):
        if len(data) > MAX_GROUPS:
            raise DecodeError(f"the payload holds {len(data)} values, more than {MAX_GROUPS}")
        groups: list[MeasureGroup] = []
        for item in data:
            stamp = item.get("timestamp")
            if stamp is not None and not isinstance(stamp, str):
                raise DecodeError("a 'timestamp' of the value series must be a string")
            groups.append(MeasureGroup({name: item["value"]}, stamp))
        return groups
    return [MeasureGroup({name: data})]
