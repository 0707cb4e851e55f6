"""Path parameter convertors: entity ids, type and attribute names are IRIs and may contain ``/``.

Starlette decodes ``%2F`` before routing, so ``{entityId}`` (no ``/``) would never match
``https://example.org/entity/1``. ``{entityId:uri}`` matches any non-empty text that does not go on with
an ``/attrs`` segment (so ``/entities/{id}/attrs/...`` stays unambiguous); ``{name:term}`` matches any
non-empty text.
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor


class EntityIdConvertor(Convertor[str]):
    regex = r"(?:(?!/attrs(?:/|$)).)+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class TermConvertor(Convertor[str]):
    regex = r".+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("uri", EntityIdConvertor())
register_url_convertor("term", TermConvertor())
