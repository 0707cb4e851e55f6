"""Rule YAML files: one rule per file, a list of rules, a mapping with ``rules:``, or several YAML documents
(``---``). Read with PyYAML's safe loader (no tags, no objects); every rule is validated like the API's JSON."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from smartcity import yamlfiles
from smartcity.ioc.rules.model import RuleInvalid, RuleSpec, parse_rule
from smartcity.yamlfiles import MAX_FILE_BYTES


def demo_directory() -> Path:
    """The demo's rules, shipped with the package."""
    return Path(str(resources.files("smartcity.ioc.rules").joinpath("demo")))


def parse_text(text: str, source: str = "<text>") -> list[RuleSpec]:
    """Every rule of a YAML text; an invalid one raises RuleInvalid naming the source, the rule and the field."""
    try:
        found = yamlfiles.items(text, "rules")
    except yamlfiles.YamlInvalid as exc:
        raise RuleInvalid("", f"{source} is not valid YAML: {exc}") from exc
    specs: list[RuleSpec] = []
    for index, item in enumerate(found):
        try:
            specs.append(parse_rule(item))
        except RuleInvalid as exc:
            which = item.get("id") if isinstance(item, Mapping) else None
            raise RuleInvalid(exc.field, f"{source}, rule {which or index + 1}: {exc.detail}") from exc
    ids = [s.id for s in specs]
    if len(set(ids)) != len(ids):
        raise RuleInvalid("id", f"{source} defines a rule id twice")
    return specs


def load_directory(directory: Path) -> list[tuple[str, RuleSpec]]:
    """(file name, rule) of every ``*.yaml``/``*.yml`` file of a directory, in name order."""
    out: list[tuple[str, RuleSpec]] = []
    seen: dict[str, str] = {}
    for path in yamlfiles.files(directory):
        if path.stat().st_size > MAX_FILE_BYTES:
            raise RuleInvalid("", f"{path.name} is larger than {MAX_FILE_BYTES} bytes")
        for spec in parse_text(path.read_text(encoding="utf-8"), path.name):
            if spec.id in seen:
                raise RuleInvalid("id", f"rule {spec.id} is defined in both {seen[spec.id]} and {path.name}")
            seen[spec.id] = path.name
            out.append((path.name, spec))
    return out
