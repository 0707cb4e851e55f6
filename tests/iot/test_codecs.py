"""Device payloads: the JSON and UltraLight 2.0 formats of the FIWARE IoT Agents, and MQTT topics.

Examples are those of the FIWARE user manuals (iotagent-json and iotagent-ul, docs/usermanual.md); the property
tests feed arbitrary bytes: only the agent's own DecodeError may come out.
"""

from __future__ import annotations

import contextlib

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartcity.iot import jsonpayload, ultralight
from smartcity.iot.inbound import Address, Inbound, decode, parse_topic
from smartcity.iot.measures import MAX_PAYLOAD, DecodeError, MeasureGroup

PROPERTY = settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def test_json_measures_from_the_manual() -> None:
    assert jsonpayload.decode_measures(b'{"h": "45%", "t": "23", "l": "1570"}') == [
        MeasureGroup({"h": "45%", "t": "23", "l": "1570"})
    ]
    multi = b'[{"h": "45%", "t": "23", "l": "1570"}, {"h": "47%", "t": "21", "l": "1321"}]'
    assert [g.measures["t"] for g in jsonpayload.decode_measures(multi)] == ["23", "21"]
    nested = jsonpayload.decode_measures(b'{"h": "45%", "t": "23", "l": {"a": 2, "b": "up", "c": ["1", "3"]}}')
    assert nested[0].measures["l"] == {"a": 2, "b": "up", "c": ["1", "3"]}


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b"{bad", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[]", "empty array"),
        (b"{}", "no measures"),
        (b"42", "JSON object of measures"),
        (b'[{"t": 1}, 3]', "element 1"),
        (b'[{"t": 1}, {}]', "no measures"),
        (b"\xff\xfe{}", "not valid JSON"),
        (b"{" + b" " * MAX_PAYLOAD + b"}", "more than"),
    ],
)
def test_bad_json_says_why(payload: bytes, why: str) -> None:
    with pytest.raises(DecodeError, match=why):
        jsonpayload.decode_measures(payload)


def test_json_single_measures() -> None:
    assert jsonpayload.decode_single(b"70", "h") == [MeasureGroup({"h": 70})]
    assert jsonpayload.decode_single(b'"on"', "s") == [MeasureGroup({"s": "on"})]
    series = b'[{"timestamp": "2025-01-26T12:00:00Z", "value":44},{"timestamp": "2025-01-27T09:00:00Z", "value":33}]'
    assert jsonpayload.decode_single(series, "h") == [
        MeasureGroup({"h": 44}, "2025-01-26T12:00:00Z"),
        MeasureGroup({"h": 33}, "2025-01-27T09:00:00Z"),
    ]
    # not JSON: binary content, as its hex string (the manual's attrHex example)
    assert jsonpayload.decode_single(b"hello", "attrHex") == [MeasureGroup({"attrHex": "68656c6c6f"})]
    with pytest.raises(DecodeError, match="empty"):
        jsonpayload.decode_single(b"  ", "h")


def test_ultralight_from_the_manual() -> None:
    assert ultralight.decode_measures(b"t|15|k|abc") == [MeasureGroup({"t": "15", "k": "abc"})]
    assert ultralight.decode_measures(b"gps|1.2/3.4#t|10") == [
        MeasureGroup({"gps": "1.2/3.4"}),
        MeasureGroup({"t": "10"}),
    ]
    assert ultralight.decode_measures(b"2016-06-13T00:35:30Z|lle|100") == [
        MeasureGroup({"lle": "100"}, "2016-06-13T00:35:30Z")
    ]
    assert ultralight.decode_measures(b"t|25.3|h|70\n") == [MeasureGroup({"t": "25.3", "h": "70"})]
    mixed = b"2016-06-13T00:35:30Z|t|1#t|2#"
    assert ultralight.decode_measures(mixed) == [
        MeasureGroup({"t": "1"}, "2016-06-13T00:35:30Z"),
        MeasureGroup({"t": "2"}),
    ]
    assert ultralight.decode_single(b" 70 ", "h") == [MeasureGroup({"h": "70"})]


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        (b"#", "no measures"),
        (b"t|15|k", "odd number of fields"),
        (b"2016-06-13T00:35:30Z", "no measures"),
        (b"|15", "without a name"),
        (b"t|1\x00", "NUL"),
        (b"t|\xff", "not UTF-8"),
    ],
)
def test_bad_ultralight_says_why(payload: bytes, why: str) -> None:
    with pytest.raises(DecodeError, match=why):
        ultralight.decode_measures(payload)


@PROPERTY
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_raise_only_decode_errors(payload: bytes) -> None:
    for decoder in (jsonpayload.decode_measures, ultralight.decode_measures):
        try:
            groups = decoder(payload)
        except DecodeError:
            continue
        assert groups and all(isinstance(g, MeasureGroup) and g.measures for g in groups)
    for single in (jsonpayload.decode_single, ultralight.decode_single):
        with contextlib.suppress(DecodeError):
            assert single(payload, "m")


_UL_TEXT = st.text(alphabet=st.sampled_from("t|#h12.5-:TZ \n0abc"), max_size=200)


@PROPERTY
@given(_UL_TEXT)
def test_ultralight_like_text_raises_only_decode_errors(text: str) -> None:
    try:
        groups = ultralight.decode_measures(text.encode())
    except DecodeError:
        return
    for group in groups:
        assert all(name and "|" not in name and "#" not in name for name in group.measures)


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@PROPERTY
@given(_JSON)
def test_any_json_document_decodes_or_says_why(document: object) -> None:
    payload = orjson.dumps(document)
    try:
        groups = jsonpayload.decode_measures(payload)
    except DecodeError:
        assert not (isinstance(document, dict) and document) and not (
            isinstance(document, list) and document and all(isinstance(x, dict) and x for x in document)
        )
        return
    expected = document if isinstance(document, list) else [document]
    assert [g.measures for g in groups] == expected


def test_topics_of_both_manuals() -> None:
    j, u = "/iot/json", "/iot/d"  # the group resource each protocol prefix stands for
    assert parse_topic("/json/ABCDEF/id_sen1/attrs") == Address("ABCDEF", "id_sen1", "json", None, j)
    assert parse_topic("/json/ABCDEF/id_sen1/attrs/h") == Address("ABCDEF", "id_sen1", "json", "h", j)
    assert parse_topic("/ul/ABCDEF/id_sen1/attrs") == Address("ABCDEF", "id_sen1", "ul", None, u)
    assert parse_topic("/ul/ABCDEF/id_sen1/attrs/h") == Address("ABCDEF", "id_sen1", "ul", "h", u)
    assert parse_topic("/ABCDEF/id_sen1/attrs") == Address("ABCDEF", "id_sen1", None)
    assert parse_topic("/ABCDEF/id_sen1/attrs/h") == Address("ABCDEF", "id_sen1", None, "h")
    for other in ("ABCDEF/id/attrs", "/ABCDEF/id/cmd", "/json/K/D/cmdexe", "/K//attrs", "/K/D/attrs/", "/"):
        assert parse_topic(other) is None, other


def _inbound(topic: str, payload: bytes) -> Inbound:
    address = parse_topic(topic)
    assert address is not None
    return Inbound("mqtt", address, topic, payload, 0)


def test_the_plain_topic_is_decoded_as_the_device_speaks() -> None:
    ul = _inbound("/K/D/attrs", b"t|25.3|h|70")
    decode(ul, None)  # unknown device: not JSON-looking, so UltraLight
    assert ul.decoded_as == "ul" and ul.groups == [MeasureGroup({"t": "25.3", "h": "70"})]
    js = _inbound("/K/D/attrs", b' {"t": 25.3}')
    decode(js, None)
    assert js.decoded_as == "json" and js.groups == [MeasureGroup({"t": 25.3})]
    told = _inbound("/K/D/attrs", b'{"t": 1}')
    decode(told, True)  # provisioned as UltraLight: the braces are UltraLight's problem
    assert told.error is not None and "odd number" in str(told.error)
