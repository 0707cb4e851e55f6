"""The services catalogue: what a citizen can report, in Vietnamese and English, and where each report goes.

Loaded once from the packaged ``data/services.yaml`` (a deployment may point to its own file). Each service is a
GeoReport v2 service (code, name, description, keywords, group) with its service definition (attributes) and its
routing: the incident type, the city department and whether it is ward-bound. See docs/ioc.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from smartcity.ioc.contracts import DEPARTMENTS, Severity

LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"
DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LISTS = ("singlevaluelist", "multivaluelist")


class CatalogueError(ValueError):
    """The catalogue file is not valid; raised at start-up."""


@dataclass(frozen=True)
class Text:
    vi: str
    en: str

    def __call__(self, locale: str) -> str:
        return self.en if locale == "en" else self.vi


@dataclass(frozen=True)
class Choice:
    key: str
    name: Text
    severity: Severity | None = None


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: str
    required: bool
    order: int
    description: Text
    datatype_description: Text | None = None
    values: tuple[Choice, ...] = ()
    minimum: float | None = None
    maximum: float | None = None

    def choice(self, key: str) -> Choice | None:
        return next((c for c in self.values if c.key == key), None)


@dataclass(frozen=True)
class Service:
    code: str
    group: str
    group_name: Text
    name: Text
    description: Text
    keywords: Text
    incident_type: str
    department: str
    ward_bound: bool
    severity: Severity
    service_notice: Text | None
    attributes: tuple[Attribute, ...]

    @property
    def metadata(self) -> bool:
        """Whether the service has a definition with attributes (GeoReport v2 ``metadata``)."""
        return bool(self.attributes)

    def attribute(self, code: str) -> Attribute | None:
        return next((a for a in self.attributes if a.code == code), None)


class Catalogue:
    def __init__(self, services: tuple[Service, ...]) -> None:
        self.services = services
        self._by_code = {s.code: s for s in services}

    def get(self, code: str) -> Service | None:
        return self._by_code.get(code)

    def __iter__(self) -> Any:
        return iter(self.services)

    @classmethod
    def packaged(cls) -> Catalogue:
        text = resources.files("smartcity.ioc.open311").joinpath("data/services.yaml").read_text("utf-8")
        return cls.parse(text)

    @classmethod
    def from_file(cls, path: Path) -> Catalogue:
        return cls.parse(path.read_text("utf-8"))

    @classmethod
    def parse(cls, text: str) -> Catalogue:
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise CatalogueError(f"the services catalogue is not valid YAML: {exc}") from exc
        if not isinstance(doc, dict):
            raise CatalogueError("the services catalogue must be a mapping with 'groups' and 'services'")
        groups = {str(k): _text(v, f"group {k}") for k, v in (doc.get("groups") or {}).items()}
        items = doc.get("services")
        if not isinstance(items, list) or not items:
            raise CatalogueError("the services catalogue has no services")
        services = tuple(_service(item, groups) for item in items)
        codes = [s.code for s in services]
        if len(set(codes)) != len(codes):
            raise CatalogueError("service codes must be unique")
        return cls(services)


_DEPARTMENTS = {d.code for d in DEPARTMENTS}


def _text(value: Any, where: str) -> Text:
    if isinstance(value, Mapping) and isinstance(value.get("vi"), str) and isinstance(value.get("en"), str):
        return Text(value["vi"], value["en"])
    raise CatalogueError(f"{where}: needs a 'vi' and an 'en' text")


def _severity(value: Any, where: str) -> Severity:
    try:
        return Severity(str(value))
    except ValueError:
        raise CatalogueError(f"{where}: unknown severity {value!r}") from None


def _service(item: Any, groups: Mapping[str, Text]) -> Service:
    if not isinstance(item, Mapping) or not isinstance(item.get("code"), str):
        raise CatalogueError("every service needs a 'code'")
    code = item["code"]
    where = f"service {code}"
    group = str(item.get("group", ""))
    if group not in groups:
        raise CatalogueError(f"{where}: unknown group {group!r}")
    department = str(item.get("department", ""))
    if department not in _DEPARTMENTS:
        raise CatalogueError(f"{where}: unknown department {department!r}")
    attributes = tuple(_attribute(a, where) for a in item.get("attributes") or ())
    if len({a.code for a in attributes}) != len(attributes):
        raise CatalogueError(f"{where}: attribute codes must be unique")
    notice = item.get("service_notice")
    return Service(
        code=code,
        group=group,
        group_name=groups[group],
        name=_text(item.get("name"), f"{where} name"),
        description=_text(item.get("description"), f"{where} description"),
        keywords=_text(item.get("keywords"), f"{where} keywords"),
        incident_type=str(item.get("incident_type") or ""),
        department=department,
        ward_bound=bool(item.get("ward_bound", False)),
        severity=_severity(item.get("severity", "minor"), where),
        service_notice=_text(notice, f"{where} service_notice") if notice is not None else None,
        attributes=tuple(sorted(attributes, key=lambda a: a.order)),
    )


def _attribute(item: Any, service: str) -> Attribute:
    if not isinstance(item, Mapping) or not isinstance(item.get("code"), str):
        raise CatalogueError(f"{service}: every attribute needs a 'code'")
    where = f"{service} attribute {item['code']}"
    datatype = str(item.get("datatype", ""))
    if datatype not in DATATYPES:
        raise CatalogueError(f"{where}: datatype must be one of {', '.join(DATATYPES)}")
    for v in item.get("values") or ():
        if not isinstance(v, Mapping) or not isinstance(v.get("key"), str):
            raise CatalogueError(f"{where}: every value needs a text key (quote yes, no, on, off)")
    values = tuple(
        Choice(
            v["key"],
            _text(v.get("name"), f"{where} value"),
            _severity(v["severity"], where) if v.get("severity") else None,
        )
        for v in item.get("values") or ()
    )
    if (datatype in LISTS) != bool(values):
        raise CatalogueError(f"{where}: list datatypes, and only they, need values")
    described = item.get("datatype_description")
    return Attribute(
        code=item["code"],
        datatype=datatype,
        required=bool(item.get("required", False)),
        order=int(item.get("order", 0)),
        description=_text(item.get("description"), f"{where} description"),
        datatype_description=_text(described, where) if described is not None else None,
        values=values,
        minimum=float(item["min"]) if "min" in item else None,
        maximum=float(item["max"]) if "max" in item else None,
    )
