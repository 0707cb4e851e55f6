"""How the open data portal's parts talk to each other.

catalogue (datasets, organisations, groups, search) ← ckan (the Action API edge), dcat (DCAT-AP), site (/data)
datastore (resource tables, queries, downloads)      ← ckan (datastore_*), site (previews), downloads
publish (hub → datasets on a schedule)               → catalogue + datastore

Each part implements or consumes these and nothing else of the others, so each can be built and tested alone.
Dataset and resource dictionaries are CKAN's own shapes (``package_show`` / ``resource_show`` results, see
docs/opendata.md): the catalogue stores and returns them, the CKAN edge passes them through, DCAT-AP maps them.
Times are timezone-aware UTC; CKAN's dictionaries carry them as ISO 8601 strings without offset (CKAN's habit,
``2026-11-24T08:00:00.123456``), DCAT-AP as ``xsd:dateTime`` with ``Z``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

# -- errors (the CKAN edge maps them to CKAN's __type and status codes) -------------------------------------------


class OpenDataError(Exception):
    """Base of the portal's domain errors; ``message`` is shown to the caller."""

    def __init__(self, message: str, errors: Mapping[str, Sequence[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors: Mapping[str, Sequence[str]] = errors or {}


class NotFound(OpenDataError):  # CKAN "Not Found Error", 404
    pass


class ValidationFailed(OpenDataError):  # CKAN "Validation Error", 409, with a field -> messages dict
    pass


class NotAuthorized(OpenDataError):  # CKAN "Authorization Error", 403
    pass


class SearchError(OpenDataError):  # CKAN "Search Query Error" / "Search Error", 409 / 400
    pass


# -- catalogue ----------------------------------------------------------------------------------------------------

Dataset = dict[str, Any]  # a CKAN package dict (package_show's result)
Resource = dict[str, Any]  # a CKAN resource dict (resource_show's result)


@dataclass(frozen=True)
class SearchQuery:
    """package_search's parameters, validated by the CKAN edge (rows <= 1000, start >= 0)."""

    q: str = ""  # free text (Vietnamese with or without diacritics); "" or "*:*" means everything
    fq: Sequence[tuple[str, str]] = ()  # (field, value) filters: organization, groups, tags, res_format,
    # license_id, frequency, name, id, type; values compare exactly (CKAN's fq "field:value" / 'field:"value"')
    rows: int = 10
    start: int = 0
    sort: Sequence[tuple[str, Literal["asc", "desc"]]] = ()  # score, name, title, metadata_modified, ...
    facet_fields: Sequence[str] = ()
    facet_limit: int = 50  # -1: no limit
    facet_mincount: int = 1
    include_private: bool = False  # only honoured for callers allowed to see private datasets


@dataclass(frozen=True)
class SearchResult:
    count: int
    results: list[Dataset]
    # facet field -> value -> count (value as stored; the edge builds CKAN's search_facets with display names)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


class Catalogue(Protocol):
    """Datasets, resources, organisations, groups, tags and licences of one portal (bound to one tenant)."""

    def create_dataset(self, data: Mapping[str, Any], *, user: str) -> Dataset: ...
    def update_dataset(self, data: Mapping[str, Any], *, user: str) -> Dataset: ...  # full replace
    def patch_dataset(self, data: Mapping[str, Any], *, user: str) -> Dataset: ...  # given keys only
    def delete_dataset(self, id_or_name: str, *, user: str) -> None: ...  # state -> "deleted"
    def show_dataset(self, id_or_name: str, *, include_private: bool = False) -> Dataset: ...
    def list_datasets(self, *, limit: int | None = None, offset: int = 0) -> list[str]: ...  # names
    def search(self, query: SearchQuery) -> SearchResult: ...
    def show_resource(self, resource_id: str) -> Resource: ...
    def organizations(self, *, all_fields: bool = False) -> list[Any]: ...
    def show_organization(
        self, id_or_name: str, *, include_datasets: bool = False, include_deleted: bool = False
    ) -> dict[str, Any]: ...
    def groups(self, *, all_fields: bool = False) -> list[Any]: ...
    def show_group(
        self, id_or_name: str, *, include_datasets: bool = False, include_deleted: bool = False
    ) -> dict[str, Any]: ...
    # organisations and groups: create, update (full replace), patch (given keys only), delete (state ->
    # "deleted"; an organisation that still owns datasets that are not deleted is refused, as CKAN does)
    def create_organization(self, data: Mapping[str, Any], *, user: str) -> dict[str, Any]: ...
    def update_organization(self, data: Mapping[str, Any], *, user: str) -> dict[str, Any]: ...
    def patch_organization(self, data: Mapping[str, Any], *, user: str) -> dict[str, Any]: ...
    def delete_organization(self, id_or_name: str, *, user: str) -> None: ...
    def create_group(self, data: Mapping[str, Any], *, user: str) -> dict[str, Any]: ...
    def update_group(self, data: Mapping[str, Any], *, user: str) -> dict[str, Any]: ...
    def patch_group(self, data: Mapping[str, Any], *, user: str) -> dict[str, Any]: ...
    def delete_group(self, id_or_name: str, *, user: str) -> None: ...
    def tags(self, *, query: str | None = None) -> list[str]: ...
    def licenses(self) -> list[dict[str, Any]]: ...
    def modified_since(self, since: datetime | None) -> Iterator[Dataset]: ...  # active public datasets


# -- datastore ----------------------------------------------------------------------------------------------------

#: CKAN datastore column types the datastore keeps
FieldType = Literal["text", "int", "float", "bool", "timestamp", "date", "json", "geometry"]


@dataclass(frozen=True)
class FieldSpec:
    id: str  # column name as users see it (a-z, 0-9, _ ; at most 63 characters; not starting with _)
    type: FieldType
    info: Mapping[str, str] = field(default_factory=dict)  # label, notes (CKAN's data dictionary)


@dataclass(frozen=True)
class TableQuery:
    """datastore_search's parameters, validated by the edge."""

    resource_id: str
    filters: Mapping[str, Any] = field(default_factory=dict)  # column -> value or list of values (IN)
    q: str | Mapping[str, str] = ""  # full text over text columns (or per column)
    fields: Sequence[str] = ()  # () = all
    sort: Sequence[tuple[str, Literal["asc", "desc"]]] = ()
    limit: int = 100  # <= 32000
    offset: int = 0
    include_total: bool = True
    distinct: bool = False


@dataclass(frozen=True)
class TablePage:
    fields: list[FieldSpec]  # CKAN also lists "_id" (int) first
    records: list[dict[str, Any]]  # JSON-ready values (timestamps ISO 8601, geometry GeoJSON)
    total: int | None
    total_was_estimated: bool = False
    records_truncated: bool = False  # datastore_search_sql: more rows matched than the row cap let through


class Datastore(Protocol):
    """Resource tables: one SQL table per datastore resource, in the platform's database."""

    def create(
        self,
        resource_id: str,
        fields: Sequence[FieldSpec],
        *,
        primary_key: Sequence[str] = (),
        indexes: Sequence[str] = (),
    ) -> None: ...  # creates the table, or adds new columns and indexes to an existing one
    def upsert(
        self, resource_id: str, records: Iterator[Mapping[str, Any]], *, method: Literal["insert", "upsert"] = "insert"
    ) -> int: ...  # rows written; "upsert" needs a primary key
    def replace(self, resource_id: str, records: Iterator[Mapping[str, Any]]) -> int: ...  # truncate + insert, atomic
    def delete(self, resource_id: str, filters: Mapping[str, Any] | None = None) -> None: ...  # None: drop the table
    def search(self, query: TableQuery) -> TablePage: ...
    def search_sql(self, sql: str) -> TablePage: ...  # one read-only SELECT over datastore tables only
    def info(self, resource_id: str) -> dict[str, Any]: ...  # {"meta": {...}, "fields": [...]} as CKAN
    def rows(self, resource_id: str) -> Iterator[dict[str, Any]]: ...  # every row, streamed (downloads)
    def stats(self, resource_id: str) -> TableStats: ...


@dataclass(frozen=True)
class TableStats:
    row_count: int
    last_modified: datetime  # timezone-aware UTC
    fields: list[FieldSpec]
    has_geometry: bool
