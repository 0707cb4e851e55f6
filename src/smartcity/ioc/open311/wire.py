"""GeoReport v2 documents in JSON and XML: one data shape (lists of flat records), two renderings.

XML follows the specification's examples: a root element (``services``, ``service_requests``, ``errors``,
``service_definition``), one child per record (``service``, ``request``, ``error``), one element per field, empty
elements for absent values, ``true``/``false`` for booleans, lists nested (``attributes``/``attribute``,
``values``/``value``). Text is escaped by the standard library's ElementTree; characters XML 1.0 cannot carry are
dropped. Every document is UTF-8 with the XML declaration.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

#: the element of each item of a nested list
ITEM_TAGS = {"attributes": "attribute", "values": "value", "errors": "error"}
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def negotiate(accept: str) -> str:
    """``xml`` when the Accept header prefers an XML type to JSON, else ``json``."""
    best = {"json": -1.0, "xml": -1.0}
    for position, part in enumerate(accept.split(",")[:32]):
        media, *params = (p.strip().lower() for p in part.split(";"))
        q = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        q -= position * 1e-6  # the first listed wins a tie
        kind = "xml" if media.endswith("/xml") else "json" if media.endswith("/json") else None
        if kind is not None and q > 0:
            best[kind] = max(best[kind], q)
    return "xml" if best["xml"] > best["json"] else "json"


def to_json(document: Any) -> bytes:
    return orjson.dumps(document)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value: Any, tag: str) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), item, key)
    elif isinstance(value, list | tuple):
        item_tag = ITEM_TAGS.get(tag, "item")
        for item in value:
            _fill(ET.SubElement(element, item_tag), item, item_tag)
    else:
        element.text = _text(value)


def to_xml(root: str, item: str | None, document: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> bytes:
    """A list of records under ``<root>`` as ``<item>`` elements, or one record as ``<root>`` itself."""
    element = ET.Element(root)
    if isinstance(document, Mapping):
        _fill(element, document, root)
    else:
        for record in document:
            _fill(ET.SubElement(element, item or "item"), record, item or "item")
    return DECLARATION + ET.tostring(element, encoding="unicode").encode("utf-8")


def errors_xml(errors: Iterable[tuple[int, str]]) -> bytes:
    return to_xml("errors", "error", [{"code": code, "description": text} for code, text in errors])
