"""Parsers of what a citizen sends: form fields, coordinates, attribute values, dates. Pure functions: each returns
a clean value or raises :class:`InvalidInput` with a message a citizen's app can show (never a 500).

Text is refused when it carries markup or script: an HTML tag, comment or declaration (``<`` followed by a letter,
``/``, ``!`` or ``?``, or by spaces and a dangerous tag name such as ``script``), a character reference
(``&#...;``, ``&name;``), a ``javascript:``, ``vbscript:`` or ``data:text/html`` URL. The check runs on the NFKC
form, so that look-alike characters (a full-width less-than sign) are caught too. Control and
bidirectional-override characters are refused everywhere, line breaks outside multi-line fields. Stored text is NFC.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from smartcity.ioc.open311.catalogue import Attribute, Service
from smartcity.ioc.open311.errors import InvalidInput

MAX_DESCRIPTION = 4000  # GeoReport v2: "may be limited to 4,000 characters"
MAX_ADDRESS = 500
MAX_NAME = 100
MAX_STRING = 500
MAX_FIELDS = 100
MAX_CHOICES = 50
MAX_ID = 128

_MARKUP = re.compile(
    r"<[a-z!/?]|<\s+/?(script|style|iframe|img|svg|object|embed|link|meta|a)\b"
    r"|&#|&[a-z][a-z0-9]*;|javascript\s*:|vbscript\s*:|data\s*:\s*text/html",
    re.I,
)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")
_BREAKS = re.compile("[\t\n\r\u2028\u2029]")
_DECIMAL = re.compile(r"^[+-]?\d{1,3}(\.\d{1,15})?$")
_NUMBER = re.compile(r"^[+-]?\d{1,15}(\.\d{1,15})?$")
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}$")
_PHONE = re.compile(r"^\+?[0-9 ().-]{6,24}$")
_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\[\]]{1,64})\](\[\])?$")


def clean_text(value: str, name: str, limit: int, *, multiline: bool = False) -> str:
    """Trimmed NFC text of at most ``limit`` characters, without markup, script or control characters."""
    text = unicodedata.normalize("NFC", value).strip()
    if len(text) > limit:
        raise InvalidInput(f"{name} is too long: at most {limit} characters")
    if _CONTROL.search(text) or (not multiline and _BREAKS.search(text)):
        raise InvalidInput(f"{name} contains control characters")
    if _MARKUP.search(unicodedata.normalize("NFKC", text)):
        raise InvalidInput(f"{name} must be plain text: markup, HTML tags and script are not accepted")
    return text


def parse_coordinates(lat: str | None, lon: str | None) -> tuple[float, float] | None:
    """(lat, long) in WGS 84 decimal degrees, or None when neither is given."""
    if lat is None and lon is None:
        return None
    if not lat or not lon:
        raise InvalidInput("lat and long go together: give both, in decimal degrees (WGS 84)")
    lat, lon = lat.strip(), lon.strip()
    if not _DECIMAL.match(lat) or not _DECIMAL.match(lon):
        raise InvalidInput("lat and long must be decimal degrees, such as lat=10.7725&long=106.6980")
    y, x = float(lat), float(lon)
    if not (-90.0 <= y <= 90.0 and -180.0 <= x <= 180.0):
        raise InvalidInput("lat must be within [-90, 90] and long within [-180, 180]")
    return y, x


def parse_datetime(value: str, name: str) -> datetime:
    """An ISO 8601 date-time with its time zone (``Z`` or ``+07:00``), as UTC."""
    text = value.strip()
    if len(text) > 40:
        raise InvalidInput(f"{name} is not an ISO 8601 date-time")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name} is not an ISO 8601 date-time, such as 2026-03-01T08:00:00+07:00") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"{name} needs a time zone (Z or an offset such as +07:00)")
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise InvalidInput(f"{name} is out of range") from None


def parse_email(value: str) -> str:
    text = value.strip()
    if len(text) > 254 or not _EMAIL.match(text):
        raise InvalidInput("email is not a valid e-mail address")
    return text


def parse_phone(value: str) -> str:
    text = value.strip()
    if not _PHONE.match(text) or sum(c.isdigit() for c in text) < 6:
        raise InvalidInput("phone is not a valid telephone number")
    return text


def parse_code(value: str, name: str) -> str:
    text = value.strip()
    if not _CODE.match(text):
        raise InvalidInput(f"{name} is not valid")
    return text


AttributeValue = str | list[str]


def collect_attributes(fields: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """The ``attribute[code]`` and ``attribute[code][]`` form fields, by code, in the order given."""
    found: dict[str, list[str]] = {}
    for key, value in fields:
        if not key.startswith("attribute["):
            continue
        match = _ATTRIBUTE_KEY.match(key)
        if match is None:
            raise InvalidInput(f"{key[:80]!r} is not an attribute field: use attribute[code]=value")
        found.setdefault(match.group(1), []).append(value)
    return found


def check_attributes(service: Service, given: Mapping[str, list[str]]) -> dict[str, AttributeValue]:
    """Attribute values checked against the service definition: known codes, required ones present, datatypes and
    allowed values respected. Empty values count as absent."""
    out: dict[str, AttributeValue] = {}
    for code, values in given.items():
        attribute = service.attribute(code)
        if attribute is None:
            raise InvalidInput(f"the service {service.code} has no attribute {code[:64]!r}")
        present = [v for v in values if v.strip()]
        if present:
            out[code] = _attribute_value(attribute, present)
    for attribute in service.attributes:
        if attribute.required and attribute.code not in out:
            raise InvalidInput(f"attribute[{attribute.code}] is required for the service {service.code}")
    return out


def _attribute_value(attribute: Attribute, values: list[str]) -> AttributeValue:
    name = f"attribute[{attribute.code}]"
    if attribute.datatype == "multivaluelist":
        if len(values) > MAX_CHOICES:
            raise InvalidInput(f"{name} has too many values")
        keys: list[str] = []
        for value in values:
            key = value.strip()
            if attribute.choice(key) is None:
                raise InvalidInput(f"{name}: {key[:64]!r} is not one of {_keys(attribute)}")
            if key not in keys:
                keys.append(key)
        return keys
    if len(values) > 1:
        raise InvalidInput(f"{name} takes one value")
    value = values[0]
    if attribute.datatype == "singlevaluelist":
        key = value.strip()
        if attribute.choice(key) is None:
            raise InvalidInput(f"{name}: {key[:64]!r} is not one of {_keys(attribute)}")
        return key
    if attribute.datatype == "number":
        return _number(attribute, value.strip(), name)
    if attribute.datatype == "datetime":
        return parse_datetime(value, name).strftime("%Y-%m-%dT%H:%M:%SZ")
    multiline = attribute.datatype == "text"
    return clean_text(value, name, MAX_DESCRIPTION if multiline else MAX_STRING, multiline=multiline)


def _number(attribute: Attribute, text: str, name: str) -> str:
    if not _NUMBER.match(text):
        raise InvalidInput(f"{name} must be a number")
    number = float(text)
    if not math.isfinite(number):
        raise InvalidInput(f"{name} must be a number")
    if attribute.minimum is not None and number < attribute.minimum:
        raise InvalidInput(f"{name} must be at least {attribute.minimum:g}")
    if attribute.maximum is not None and number > attribute.maximum:
        raise InvalidInput(f"{name} must be at most {attribute.maximum:g}")
    return f"{number:g}" if number.is_integer() and abs(number) < 1e15 else repr(number)


def _keys(attribute: Attribute) -> str:
    return ", ".join(c.key for c in attribute.values)


@dataclass
class Submission:
    """A POST requests form, parsed (the location and attributes are checked later, against wards and service)."""

    service_code: str
    jurisdiction_id: str | None = None
    api_key: str | None = None
    coordinates: tuple[float, float] | None = None
    address: str | None = None
    address_id: str | None = None
    description: str | None = None
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    device_id: str | None = None
    media_url: str | None = None
    attributes: dict[str, list[str]] = field(default_factory=dict)


def _one(fields: Mapping[str, list[str]], name: str) -> str | None:
    values = fields.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise InvalidInput(f"{name} is given more than once")
    return values[0] if values[0].strip() else None


def parse_submission(pairs: list[tuple[str, str]]) -> Submission:
    """The fields of ``POST requests`` (form-urlencoded or multipart), checked one by one."""
    if len(pairs) > MAX_FIELDS:
        raise InvalidInput(f"too many form fields: at most {MAX_FIELDS}")
    fields: dict[str, list[str]] = {}
    for key, value in pairs:
        fields.setdefault(key, []).append(value)
    code = _one(fields, "service_code")
    if code is None:
        raise InvalidInput("service_code is required")
    out = Submission(service_code=parse_code(code, "service_code"))
    if (jurisdiction := _one(fields, "jurisdiction_id")) is not None:
        out.jurisdiction_id = jurisdiction.strip()
    if (given_key := _one(fields, "api_key")) is not None:
        out.api_key = given_key.strip()
    out.coordinates = parse_coordinates(_one(fields, "lat"), _one(fields, "long"))
    if (address := _one(fields, "address_string")) is not None:
        out.address = clean_text(address, "address_string", MAX_ADDRESS)
    if (address_id := _one(fields, "address_id")) is not None:
        out.address_id = clean_text(address_id, "address_id", MAX_ID)
    if (description := _one(fields, "description")) is not None:
        out.description = clean_text(description, "description", MAX_DESCRIPTION, multiline=True)
    if (email := _one(fields, "email")) is not None:
        out.email = parse_email(email)
    if (phone := _one(fields, "phone")) is not None:
        out.phone = parse_phone(phone)
    if (first := _one(fields, "first_name")) is not None:
        out.first_name = clean_text(first, "first_name", MAX_NAME)
    if (last := _one(fields, "last_name")) is not None:
        out.last_name = clean_text(last, "last_name", MAX_NAME)
    if (device := _one(fields, "device_id")) is not None:
        out.device_id = clean_text(device, "device_id", MAX_ID)
    if (media_url := _one(fields, "media_url")) is not None:
        out.media_url = clean_text(media_url, "media_url", 1000)
    out.attributes = collect_attributes(pairs)
    return out
