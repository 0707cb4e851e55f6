"""CKAN's dictionaries built from the catalogue's checked fields: the package, its resources, organisations.

The catalogue stores each dataset's whole ``package_show`` dictionary, built here once per write, so reads and
search results are one JSON document each.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from smartcity.opendata.catalogue.folding import folded_text
from smartcity.opendata.catalogue.reference import Party, license_by_id, tag_id


@dataclass(frozen=True)
class GroupRow:
    """An organisation or group as stored: ``doc`` is its organization_show/group_show dictionary."""

    id: str
    name: str
    is_organization: bool
    title: str
    doc: dict[str, Any]


def party_doc(party: Party, created: str) -> dict[str, Any]:
    """A seeded organisation's or group's dictionary (reference.yaml)."""
    title = party.title["vi"] or party.title["en"]
    fields = {
        "name": party.name,
        "title": title,
        "title_translated": dict(party.title),
        "description": party.description["vi"],
        "description_translated": dict(party.description),
        "image_url": "",
        "state": "active",
        "extras": [],
    }
    return party_document(fields, party_id=party.id, is_organization=party.is_organization, created=created)


def party_document(fields: Mapping[str, Any], *, party_id: str, is_organization: bool, created: str) -> dict[str, Any]:
    """The organization_show/group_show dictionary of checked fields (:func:`.validation.check_party`)."""
    return {
        "id": party_id,
        "name": fields["name"],
        "title": fields["title"],
        "display_name": fields["title"] or fields["name"],
        "title_translated": dict(fields["title_translated"]),
        "description": fields["description"],
        "description_translated": dict(fields["description_translated"]),
        "type": "organization" if is_organization else "group",
        "is_organization": is_organization,
        "approval_status": "approved",
        "state": fields["state"],
        "image_url": fields["image_url"],
        "image_display_url": fields["image_url"],
        "created": created,
        "num_followers": 0,
        "extras": [{**e, "state": "active"} for e in fields["extras"]],
        "groups": [],
        "tags": [],
        "users": [],
    }


def short_org(row: GroupRow) -> dict[str, Any]:
    keys = ("id", "name", "title", "title_translated", "type", "description", "image_url", "created")
    return {
        **{k: row.doc.get(k) for k in keys},
        "is_organization": True,
        "approval_status": "approved",
        "state": row.doc.get("state", "active"),
    }


def short_group(row: GroupRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "title": row.title,
        "display_name": row.title,
        "title_translated": row.doc.get("title_translated", {}),
        "description": row.doc.get("description", ""),
        "image_display_url": row.doc.get("image_display_url", ""),
    }


def resources(
    given: list[dict[str, Any]], before: Mapping[str, dict[str, Any]], dataset_id: str, now: str
) -> list[dict[str, Any]]:
    """The resources' dictionaries: new ones get an id; unchanged ones keep their times."""
    out: list[dict[str, Any]] = []
    for position, item in enumerate(given):
        rid = item.get("id") or str(uuid.uuid4())
        old = before.get(rid)
        body = {k: v for k, v in item.items() if k != "id"}
        res: dict[str, Any] = {
            "id": rid,
            "package_id": dataset_id,
            **body,
            "position": position,
            "state": "active",
            "created": old["created"] if old else now,
            "metadata_modified": now,
        }
        if old is not None and {k: old.get(k) for k in res if k != "metadata_modified"} == {
            k: v for k, v in res.items() if k != "metadata_modified"
        }:
            res["metadata_modified"] = old.get("metadata_modified", now)
        out.append(res)
    return out


def package(
    fields: Mapping[str, Any],
    *,
    dataset_id: str,
    created: str,
    modified: str,
    creator: str,
    organization: GroupRow,
    groups: list[GroupRow],
    resource_docs: list[dict[str, Any]],
) -> dict[str, Any]:
    """The package_show dictionary."""
    lic = license_by_id().get(fields["license_id"], {})
    tags = [
        {"id": tag_id(t), "name": t, "display_name": t, "state": "active", "vocabulary_id": None}
        for t in fields["tags"]
    ]
    doc: dict[str, Any] = {
        "id": dataset_id,
        "name": fields["name"],
        "title": fields["title"],
        "title_translated": fields["title_translated"],
        "notes": fields["notes"],
        "notes_translated": fields["notes_translated"],
        "type": "dataset",
        "state": fields["state"],
        "private": fields["private"],
        "owner_org": organization.id,
        "organization": short_org(organization),
        "license_id": fields["license_id"],
        "license_title": lic.get("title", fields["license_id"]),
        "license_url": lic.get("url", ""),
        "isopen": lic.get("od_conformance") == "approved",
        "frequency": fields["frequency"],
        "temporal_start": fields["temporal_start"],
        "temporal_end": fields["temporal_end"],
        "spatial": fields["spatial"],
        "version": fields["version"],
        "url": fields["url"],
        "author": fields["author"],
        "author_email": fields["author_email"],
        "maintainer": fields["maintainer"],
        "maintainer_email": fields["maintainer_email"],
        "creator_user_id": creator,
        "metadata_created": created,
        "metadata_modified": modified,
        "tags": tags,
        "num_tags": len(tags),
        "groups": [short_group(g) for g in groups],
        "extras": list(fields["extras"]),
        "resources": resource_docs,
        "num_resources": len(resource_docs),
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }
    return doc


def index_text(doc: Mapping[str, Any], organization: GroupRow, groups: list[GroupRow]) -> tuple[str, str, str]:
    """The folded (title, tags, body) a dataset is found by."""
    tt = doc.get("title_translated") or {}
    nt = doc.get("notes_translated") or {}
    title = folded_text(doc["title"], tt.get("vi"), tt.get("en"), doc["name"].replace("-", " "))
    tags = folded_text(*(t["name"] for t in doc["tags"]))
    parts: list[str | None] = [doc.get("notes"), nt.get("vi"), nt.get("en")]
    for res in doc["resources"]:
        parts += [res.get("name"), res.get("description"), res.get("format")]
    ot = organization.doc.get("title_translated") or {}
    parts += [organization.name.replace("-", " "), ot.get("vi"), ot.get("en")]
    for group in groups:
        gt = group.doc.get("title_translated") or {}
        parts += [group.name, gt.get("vi"), gt.get("en")]
    return title, tags, folded_text(*parts)


def terms(doc: Mapping[str, Any], organization: GroupRow, groups: list[GroupRow]) -> list[tuple[str, str]]:
    """(field, value) a dataset is filtered and faceted by."""
    out = {("organization", organization.name), ("owner_org", organization.id)}
    out |= {("groups", g.name) for g in groups}
    out |= {("tags", t["name"]) for t in doc["tags"]}
    out |= {("res_format", r["format"]) for r in doc["resources"] if r.get("format")}
    out.add(("license_id", doc["license_id"]))
    if doc.get("frequency"):
        out.add(("frequency", doc["frequency"]))
    return sorted(out)
