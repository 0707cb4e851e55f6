"""In-memory fakes of the portal's Catalogue and Datastore protocols (smartcity.opendata.contracts), strict enough
to catch a publication that writes what the real ones would refuse: unknown organisations, groups or licences,
rows with unknown columns, upserts without a primary key, resource ids that are not UUIDs."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from smartcity.opendata.contracts import FieldSpec, NotFound, ValidationFailed

ORGANIZATIONS = frozenset(
    {"ubnd-tp", "so-giao-thong-van-tai", "so-tai-nguyen-va-moi-truong", "trung-tam-chong-ngap", "so-y-te"}
)
GROUPS = frozenset({"transport", "environment", "flood", "weather", "health", "administration"})
LICENSES = frozenset({"CC-BY-4.0", "ODC-BY-1.0", "CC0-1.0"})
KNOWN = frozenset(
    {
        "id", "name", "title", "notes", "title_translated", "notes_translated", "owner_org", "private", "state",
        "license_id", "tags", "groups", "extras", "frequency", "temporal_start", "temporal_end", "spatial",
        "resources",
    }
)  # fmt: skip


class FakeCatalogue:
    def __init__(self) -> None:
        self.datasets: dict[str, dict[str, Any]] = {}  # id -> package
        self.writes: list[tuple[str, str, str]] = []  # (action, name, user)
        self.fail_with: Exception | None = None

    def _check(self, data: Mapping[str, Any]) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        errors: dict[str, list[str]] = {}
        if data.get("owner_org") not in ORGANIZATIONS:
            errors["owner_org"] = [f"organization {data.get('owner_org')!r} does not exist"]
        for group in data.get("groups") or []:
            if group.get("name") not in GROUPS:
                errors.setdefault("groups", []).append(f"group {group.get('name')!r} does not exist")
        if data.get("license_id") not in LICENSES:
            errors["license_id"] = ["unknown licence"]
        if not data.get("name") or not data.get("title"):
            errors["name"] = ["missing"]
        for i, resource in enumerate(data.get("resources") or []):
            for key, value in resource.items():  # resource extras are plain values (as the real catalogue says)
                if value is not None and not isinstance(value, str | int | float | bool):
                    errors[f"resources/{i}/{key}"] = ["Must be a string, a number or a boolean"]
        for key in data:
            if key not in KNOWN:
                errors[key] = ["not a field of the catalogue (use extras)"]
        if errors:
            raise ValidationFailed("the dataset is not valid", errors)

    def _store(self, data: Mapping[str, Any], dataset_id: str) -> dict[str, Any]:
        package = copy.deepcopy(dict(data))
        package["id"] = dataset_id
        for resource in package.get("resources") or []:
            resource.setdefault("id", str(uuid.uuid4()))
            resource["package_id"] = dataset_id
        package["metadata_modified"] = datetime.now(UTC).replace(tzinfo=None).isoformat()
        self.datasets[dataset_id] = package
        return copy.deepcopy(package)

    def _by_name(self, id_or_name: str) -> dict[str, Any] | None:
        for package in self.datasets.values():
            if id_or_name in (package["id"], package["name"]):
                return package
        return None

    def create_dataset(self, data: Mapping[str, Any], *, user: str) -> dict[str, Any]:
        self._check(data)
        if self._by_name(str(data["name"])) is not None:
            raise ValidationFailed("that name is in use", {"name": ["That URL is already in use."]})
        self.writes.append(("create", str(data["name"]), user))
        return self._store(data, str(uuid.uuid4()))

    def update_dataset(self, data: Mapping[str, Any], *, user: str) -> dict[str, Any]:
        self._check(data)
        found = self._by_name(str(data.get("id") or data["name"]))
        if found is None:
            raise NotFound("dataset not found")
        self.writes.append(("update", str(data["name"]), user))
        return self._store(data, found["id"])

    def show_dataset(self, id_or_name: str, *, include_private: bool = False) -> dict[str, Any]:
        found = self._by_name(id_or_name)
        if found is None:
            raise NotFound("dataset not found")
        return copy.deepcopy(found)

    def show_resource(self, resource_id: str) -> dict[str, Any]:
        for package in self.datasets.values():
            for resource in package.get("resources") or []:
                if resource["id"] == resource_id:
                    return copy.deepcopy(resource)
        raise NotFound("resource not found")


class FakeDatastore:
    def __init__(self) -> None:
        self.fields: dict[str, list[FieldSpec]] = {}
        self.keys: dict[str, tuple[str, ...]] = {}
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self.calls: list[tuple[str, str]] = []

    def create(
        self,
        resource_id: str,
        fields: Sequence[FieldSpec],
        *,
        primary_key: Sequence[str] = (),
        indexes: Sequence[str] = (),
    ) -> None:
        uuid.UUID(resource_id)  # ValueError for anything but a UUID
        names = [f.id for f in fields]
        assert set(primary_key) <= set(names) and set(indexes) <= set(names)
        self.calls.append(("create", resource_id))
        self.fields[resource_id] = list(fields)
        self.keys[resource_id] = tuple(primary_key)
        self.tables.setdefault(resource_id, [])

    def _rows(self, resource_id: str, records: Iterator[Mapping[str, Any]]) -> list[dict[str, Any]]:
        names = {f.id for f in self.fields[resource_id]}
        out = []
        for record in records:
            unknown = set(record) - names
            if unknown:
                raise ValidationFailed(f"unknown columns {sorted(unknown)}", {"records": ["unknown column"]})
            out.append(dict(record))
        return out

    def upsert(
        self, resource_id: str, records: Iterator[Mapping[str, Any]], *, method: Literal["insert", "upsert"] = "insert"
    ) -> int:
        self.calls.append((method, resource_id))
        rows = self._rows(resource_id, records)
        table = self.tables[resource_id]
        if method == "upsert":
            key = self.keys[resource_id]
            if not key:
                raise ValidationFailed("upsert needs a primary key", {"method": ["no primary key"]})
            position = {tuple(r[k] for k in key): i for i, r in enumerate(table)}
            for row in rows:
                at = position.get(tuple(row[k] for k in key))
                if at is None:
                    position[tuple(row[k] for k in key)] = len(table)
                    table.append(row)
                else:
                    table[at] = row
        else:
            table.extend(rows)
        return len(rows)

    def replace(self, resource_id: str, records: Iterator[Mapping[str, Any]]) -> int:
        self.calls.append(("replace", resource_id))
        rows = self._rows(resource_id, records)
        self.tables[resource_id] = rows
        return len(rows)

    def rows(self, resource_id: str) -> Iterator[dict[str, Any]]:
        if resource_id not in self.tables:
            raise NotFound("no such table")
        yield from (dict(r) for r in self.tables[resource_id])
