"""The UltraLight 2.0 payload (FIWARE iotagent-ul user manual, "Measure Payload Syntax").

``t|15|k|abc``: measure name and value pairs separated by ``|``; several groups (one observation each) separated
by ``#``, as in ``gps|1.2/3.4#t|10``; a group may start with its timestamp, ``2016-06-13T00:35:30Z|lle|100``.
Values are text: the agent casts them by the attribute's provisioned type. Surrounding white space (a device's
trailing newline) is ignored; empty groups (``t|1#``) are skipped.

Only :class:`~smartcity.iot.measures.DecodeError` leaves these functions, whatever the bytes.
"""

from __future__ import annotations

import re

from smartcity.iot.measures import MAX_GROUPS, DecodeError, MeasureGroup, check_size

#: what makes the odd first field of a group its timestamp (its validity is checked when it is used)
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d")


def _text(payload: bytes) -> str:
    check_size(payload)
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"the payload is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    text = text.strip()
    if not text:
        raise DecodeError("the payload is empty")
    if "\x00" in text:
        raise DecodeError("the payload holds a NUL character")
    return text


def _group(chunk: str, index: int) -> MeasureGroup:
    fields = chunk.split("|")
    stamp: str | None = None
    if len(fields) % 2 == 1:
        first = fields[0].strip()
        if not _TIMESTAMP.match(first):
            raise DecodeError(
                f"measure group {index + 1} has an odd number of fields and does not start with a timestamp"
            )
        stamp = first
        fields = fields[1:]
    if not fields:
        raise DecodeError(f"measure group {index + 1} holds a timestamp but no measures")
    measures: dict[str, str] = {}
    for key, value in zip(fields[::2], fields[1::2], strict=True):
        name = key.strip()
        if not name:
            raise DecodeError(f"measure group {index + 1} has a measure without a name")
        measures[name] = value.strip()
    return MeasureGroup(dict(measures), stamp)


def decode_measures(payload: bytes) -> list[MeasureGroup]:
    """An UltraLight 2.0 payload: one or more measure groups."""
    text = _text(payload)
    chunks = [c.strip() for c in text.split("#")]
    chunks = [c for c in chunks if c]
    if not chunks:
        raise DecodeError("the payload holds no measures")
    if len(chunks) > MAX_GROUPS:
        raise DecodeError(f"the payload holds {len(chunks)} measure groups, more than {MAX_GROUPS}")
    return [_group(chunk, index) for index, chunk in enumerate(chunks)]


def decode_single(payload: bytes, name: str) -> list[MeasureGroup]:
    """The value of one measure (``/ul/<key>/<id>/attrs/<name>``): the payload is the value."""
    return [MeasureGroup({name: _text(payload)})]
