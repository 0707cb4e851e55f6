"""A publication's dataset in the catalogue, as a CKAN package dictionary: its metadata from the definition, its
coverage computed from the data, and its one datastore resource (downloadable at ``/datastore/dump/{id}``).

Titles and descriptions are in Vietnamese (``title``, ``notes``: the portal's first language) and in both
languages as ckanext-fluent keeps them (``title_translated``, ``notes_translated``). A publication of modelled or
synthetic values says so in both languages, in its notes and tags, and in its extra ``modelled``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from smartcity.opendata.contracts import Dataset, Resource
from smartcity.opendata.publish.definition import Publication

MODELLED_NOTE = {
    "vi": "Lưu ý: đây là dữ liệu mô phỏng (tổng hợp) do nền tảng tạo ra cho bản trình diễn, không phải số đo "
    "thực tế tại Thành phố Hồ Chí Minh.",
    "en": "Note: these are modelled (synthetic) values produced for the demonstration, not real measurements in "
    "Ho Chi Minh City.",
}
MODELLED_TAG = "modelled data"
PUBLISHED_BY = {
    "vi": "Xuất bản tự động từ nền tảng dữ liệu đô thị (publication {id}).",
    "en": "Published automatically from the city data hub (publication {id}).",
}


@dataclass(frozen=True)
class Coverage:
    temporal_start: str | None = None  # ISO 8601
    temporal_end: str | None = None
    spatial: dict[str, Any] | None = None  # GeoJSON geometry


def notes(pub: Publication) -> dict[str, str]:
    out = {}
    for lang in ("vi", "en"):
        text = getattr(pub.dataset.notes, lang)
        parts = [text]
        if pub.modelled:
            parts.append(MODELLED_NOTE[lang])
        parts.append(PUBLISHED_BY[lang].format(id=pub.id))
        out[lang] = "\n\n".join(parts)
    return out


def resource_dict(pub: Publication, resource_id: str | None, download: str | None) -> Resource:
    meta = pub.dataset
    resource: Resource = {
        "name": meta.resource_name.vi,
        "name_en": meta.resource_name.en,  # resource extras are plain values: the English text beside
        "description": meta.resource_description.vi,
        "description_en": meta.resource_description.en,
        "format": "CSV",
        "mimetype": "text/csv",
        "url": download or "",
        "url_type": "datastore",
        "datastore_active": download is not None,
        "publication_id": pub.id,
    }
    if resource_id is not None:
        resource["id"] = resource_id
    return resource


def package_dict(
    pub: Publication,
    *,
    dataset_id: str | None = None,
    resource: Resource | None = None,
    others: list[Resource] | None = None,
    coverage: Coverage | None = None,
) -> Dataset:
    """The dataset as the catalogue stores it (``others``: resources someone added besides the publication's)."""
    meta = pub.dataset
    text = notes(pub)
    tags = [*meta.tags, MODELLED_TAG] if pub.modelled else list(meta.tags)
    package: Dataset = {
        "name": pub.id,
        "title": meta.title.vi,
        "title_translated": {"vi": meta.title.vi, "en": meta.title.en},
        "notes": text["vi"],
        "notes_translated": text,
        "owner_org": meta.organization,
        "groups": [{"name": g} for g in meta.groups],
        "tags": [{"name": t} for t in dict.fromkeys(tags)],
        "license_id": meta.license,
        "frequency": meta.frequency,
        "extras": [
            {"key": "modelled", "value": "true" if pub.modelled else "false"},
            {"key": "publication", "value": pub.id},
        ],
        "private": False,
        "state": "active",
        "resources": [*(others or []), *([resource] if resource is not None else [])],
    }
    if dataset_id is not None:
        package["id"] = dataset_id
    if coverage is not None:
        if coverage.temporal_start is not None:
            package["temporal_start"] = coverage.temporal_start
        if coverage.temporal_end is not None:
            package["temporal_end"] = coverage.temporal_end
        if coverage.spatial is not None:
            package["spatial"] = orjson.dumps(coverage.spatial).decode()
    return package


def find_resource(dataset: Mapping[str, Any], pub: Publication, resource_id: str | None) -> Resource | None:
    """The publication's resource in a stored dataset: by id, else by its ``publication_id`` mark."""
    resources = [r for r in dataset.get("resources") or [] if isinstance(r, dict)]
    for resource in resources:
        if resource_id is not None and resource.get("id") == resource_id:
            return resource
    for resource in resources:
        if resource.get("publication_id") == pub.id:
            return resource
    return None
