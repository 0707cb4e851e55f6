"""Publication definition files: YAML, one publication per file, a list, a mapping with ``publications:``, or
several YAML documents (``---``). Read with PyYAML's safe loader (no tags, no objects); every publication is
validated (:func:`smartcity.opendata.publish.definition.parse_publication`) and ids are unique across files.

The demo's publications are shipped in ``publish/definitions``; an operator's directory replaces them.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from smartcity import yamlfiles
from smartcity.opendata.publish.definition import DefinitionInvalid, Publication, parse_publication
from smartcity.yamlfiles import MAX_FILE_BYTES


def shipped_directory() -> Path:
    """The demo's publications, shipped with the package."""
    return Path(str(resources.files("smartcity.opendata.publish").joinpath("definitions")))


def parse_text(text: str, source: str = "<text>") -> list[Publication]:
    """Every publication of a YAML text; an invalid one raises DefinitionInvalid naming the source and the field."""
    try:
        items = yamlfiles.items(text, "publications")
    except yamlfiles.YamlInvalid as exc:
        raise DefinitionInvalid(source, f"not valid YAML: {exc}") from exc
    out: list[Publication] = []
    for index, item in enumerate(items):
        which = item.get("id") if isinstance(item, Mapping) else None
        try:
            out.append(parse_publication(item, origin=source))
        except DefinitionInvalid as exc:
            where = f"{source}, publication {which or index + 1}" + (f", {exc.where}" if exc.where else "")
            raise DefinitionInvalid(where, exc.why) from exc
    return out


def load_directory(directory: Path) -> list[Publication]:
    """The publications of every ``*.yaml``/``*.yml`` file of a directory, in file name order."""
    if not directory.is_dir():
        raise DefinitionInvalid(str(directory), "is not a directory of publication definitions")
    out: list[Publication] = []
    seen: dict[str, str] = {}
    for path in yamlfiles.files(directory):
        if path.stat().st_size > MAX_FILE_BYTES:
            raise DefinitionInvalid(path.name, f"is larger than {MAX_FILE_BYTES} bytes")
        for pub in parse_text(path.read_text(encoding="utf-8"), path.name):
            if pub.id in seen:
                raise DefinitionInvalid(path.name, f"publication {pub.id} is also defined in {seen[pub.id]}")
            seen[pub.id] = path.name
            out.append(pub)
    return out
