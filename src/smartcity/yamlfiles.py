"""Definition files in YAML, read the same way wherever the platform takes them (IOC rules, open data
publications): PyYAML's safe loader (no tags, no objects), one definition per file, a list, a mapping holding the
list under one key, or several YAML documents (``---``); scalars as JSON has them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

MAX_FILE_BYTES = 1_000_000


class YamlInvalid(ValueError):
    """The text is not YAML; the message is the parser's."""


def items(text: str, list_key: str) -> list[Any]:
    """The definitions of a YAML text, JSON-like. A mapping with ``list_key`` and no ``id`` holds a list of them."""
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise YamlInvalid(str(exc)) from exc
    out: list[Any] = []
    for document in documents:
        if isinstance(document, Mapping) and list_key in document and "id" not in document:
            document = document[list_key]
        if isinstance(document, list):
            out.extend(jsonable(d) for d in document)
        else:
            out.append(jsonable(document))
    return out


def files(directory: Path) -> list[Path]:
    """The ``*.yaml`` and ``*.yml`` files of a directory, in name order."""
    return sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])


def jsonable(value: Any) -> Any:
    """YAML scalars as JSON has them (dates and times as ISO text), keys as text."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
