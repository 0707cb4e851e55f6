"""Where the catalogue is kept: a :class:`SqlCatalogue` is bound to one hub tenant, every query scoped by its id.

It implements :class:`smartcity.opendata.contracts.Catalogue` on both engines (migration 0019). Writes check
the dataset (:mod:`.validation`), build its ``package_show`` dictionary once (:mod:`.documents`) and keep, in
the same transaction, its resources, its filter and facet terms and its full-text entry. Organisations and
groups are seeded (:mod:`.reference`, only those missing) and created, edited and deleted through the API; a
change to one is carried, in the same transaction, into the dictionaries and index entries of its datasets.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from smartcity.hub.store import Store, StoreConflict
from smartcity.hub.store.changes import WriteContext
from smartcity.hub.store.sql import Db
from smartcity.opendata.catalogue import documents, search
from smartcity.opendata.catalogue.documents import GroupRow
from smartcity.opendata.catalogue.folding import fold
from smartcity.opendata.catalogue.reference import licenses, parties, tag_id
from smartcity.opendata.catalogue.validation import check_dataset, check_party, ckan_time
from smartcity.opendata.contracts import (
    Dataset,
    NotAuthorized,
    NotFound,
    Resource,
    SearchQuery,
    SearchResult,
    ValidationFailed,
)

log = logging.getLogger(__name__)
MODIFIED_BATCH = 200
#: seconds a process keeps its copy of the organisations and groups for reads (another process's change shows
#: within this time; writes always read the table)
GROUPS_TTL = 5.0


def now_ckan() -> str:
    """Now, as CKAN writes times (UTC, no offset, microseconds)."""
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def _visibility(doc: Mapping[str, Any]) -> int:
    if doc["state"] != "active":
        return 0
    return 1 if doc["private"] else 2


class SqlCatalogue:
    """The datasets, resources, organisations, groups, tags and licences of one tenant's portal."""

    def __init__(self, store: Store, tenant: str) -> None:
        self._store = store
        self._tenant = tenant
        self._groups: dict[str, GroupRow] | None = None  # id -> row, as committed
        self._groups_read = 0.0  # when (time.monotonic()) they were read
        self._generation = 0  # bumped after each committed change of the organisations and groups
        self._lock = threading.Lock()

    @property
    def tenant(self) -> str:
        return self._tenant

    def _write(self) -> Any:
        return self._store.tenant(self._tenant, create=True).transaction()

    def _read(self) -> Any:
        return self._store.tenant(self._tenant, create=True).snapshot()

    # -- reference data -------------------------------------------------------------------------------

    def seed(self) -> int:
        """Add the organisations and groups of ``reference.yaml`` that this tenant lacks; returns how many.

        One that exists (by id or by name) is left as it is, so an operator's edits, renames and deletions of a
        seeded organisation survive restarts."""
        added = 0
        ctx: WriteContext
        try:
            with self._write() as ctx:
                rows = ctx.db.run("SELECT id, name FROM opendata_groups WHERE tenant_id = ?", [ctx.tenant_id])
                have = {value for row in rows.fetchall() for value in row}
                now = now_ckan()
                for party in parties():
                    if party.name in have or party.id in have:
                        continue
                    doc = documents.party_doc(party, now)
                    ctx.db.run(
                        "INSERT INTO opendata_groups (tenant_id, id, name, is_organization, title, doc) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        [ctx.tenant_id, party.id, party.name, int(party.is_organization), doc["title"], _dumps(doc)],
                    )
                    added += 1
        finally:
            self._forget_groups()
        if added:
            log.info("seeded %d organisations and groups into the catalogue of tenant %r", added, self._tenant)
        return added

    def _forget_groups(self) -> None:
        with self._lock:
            self._groups = None
            self._generation += 1

    def _all_groups(self, ctx: WriteContext, *, fresh: bool = False) -> dict[str, GroupRow]:
        """Every organisation and group (deleted ones too). Reads use a copy kept for ``GROUPS_TTL`` seconds
        (another API process's change shows within that time, this process's at once); writes (``fresh``) read
        the table in their own transaction, so a dataset never takes a department's old name or title."""
        with self._lock:
            cached, generation, read_at = self._groups, self._generation, self._groups_read
        if not fresh and cached is not None and time.monotonic() - read_at < GROUPS_TTL:
            return cached
        started = time.monotonic()
        loaded = _load_groups(ctx)
        if not fresh:  # a write's view may hold its own uncommitted changes: never shared
            with self._lock:
                if self._generation == generation:  # not changed meanwhile: the rows read are still current
                    self._groups, self._groups_read = loaded, started
        return loaded

    def _refs(self, ctx: WriteContext, organizations: bool) -> dict[str, str]:
        """id and name -> id, of the active organisations or of the active groups."""
        out: dict[str, str] = {}
        for row in self._all_groups(ctx, fresh=True).values():
            if row.is_organization == organizations and row.doc.get("state", "active") == "active":
                out[row.id] = row.id
                out[row.name] = row.id
        return out

    # -- datasets: writes -----------------------------------------------------------------------------

    def create_dataset(self, data: Mapping[str, Any], *, user: str) -> Dataset:
        ctx: WriteContext
        with self._write() as ctx:
            fields = self._check(ctx, data)
            if self._find(ctx, fields["name"]) is not None:
                raise ValidationFailed("That URL is already in use.", {"name": ["That URL is already in use."]})
            dataset_id = fields.get("id") or str(uuid.uuid4())
            if fields.get("id") and self._find(ctx, dataset_id) is not None:
                raise ValidationFailed("That id is already in use.", {"id": ["That id is already in use."]})
            now = now_ckan()
            doc = self._document(ctx, fields, dataset_id, now, now, user, fields["resources"] or [], {})
            self._save(ctx, None, doc)
        return doc

    def update_dataset(self, data: Mapping[str, Any], *, user: str) -> Dataset:
        key = data.get("id") or data.get("name")
        if not isinstance(key, str) or not key:
            raise ValidationFailed("Missing value", {"id": ["Missing value"]})
        ctx: WriteContext
        with self._write() as ctx:
            found = self._find(ctx, key)
            if found is None:
                raise NotFound(f"Dataset {key} was not found")
            pk, before = found
            fields = self._check(ctx, {**data, "id": before["id"]})
            if fields["name"] != before["name"]:
                other = self._find(ctx, fields["name"])
                if other is not None and other[0] != pk:
                    raise ValidationFailed("That URL is already in use.", {"name": ["That URL is already in use."]})
            given = fields["resources"] if fields["resources"] is not None else _editable(before["resources"])
            old = {r["id"]: r for r in before["resources"]}
            doc = self._document(
                ctx, fields, before["id"], before["metadata_created"], now_ckan(), before["creator_user_id"], given, old
            )
            self._save(ctx, pk, doc)
        return doc

    def patch_dataset(self, data: Mapping[str, Any], *, user: str) -> Dataset:
        key = data.get("id") or data.get("name")
        if not isinstance(key, str) or not key:
            raise ValidationFailed("Missing value", {"id": ["Missing value"]})
        current = self.show_dataset(key, include_private=True, include_deleted=True)
        merged = {**current, **{k: v for k, v in data.items() if k != "id"}, "id": current["id"]}
        return self.update_dataset(merged, user=user)

    def delete_dataset(self, id_or_name: str, *, user: str) -> None:
        current = self.show_dataset(id_or_name, include_private=True, include_deleted=True)
        if current["state"] != "deleted":
            self.update_dataset({**current, "state": "deleted"}, user=user)

    def _check(self, ctx: WriteContext, data: Mapping[str, Any]) -> dict[str, Any]:
        return check_dataset(
            data,
            organizations=self._refs(ctx, True),
            groups=self._refs(ctx, False),
            licenses={lic["id"] for lic in licenses()},
        )

    def _document(
        self,
        ctx: WriteContext,
        fields: Mapping[str, Any],
        dataset_id: str,
        created: str,
        modified: str,
        creator: str,
        given: list[dict[str, Any]],
        old: Mapping[str, dict[str, Any]],
    ) -> dict[str, Any]:
        rows = self._all_groups(ctx, fresh=True)
        return documents.package(
            fields,
            dataset_id=dataset_id,
            created=created,
            modified=modified,
            creator=creator,
            organization=rows[fields["owner_org"]],
            groups=[rows[g] for g in fields["groups"]],
            resource_docs=documents.resources(given, old, dataset_id, modified),
        )

    def _save(
        self, ctx: WriteContext, pk: int | None, doc: dict[str, Any], rows: Mapping[str, GroupRow] | None = None
    ) -> None:
        db, tid = ctx.db, ctx.tenant_id
        rows = self._all_groups(ctx, fresh=True) if rows is None else rows
        org = rows[doc["owner_org"]]
        groups = [rows[g["id"]] for g in doc["groups"]]
        vis = _visibility(doc)
        values = [doc["id"], doc["name"], fold(doc["title"]), vis, doc["metadata_created"], doc["metadata_modified"]]
        try:
            if pk is None:
                row = db.run(
                    "INSERT INTO opendata_datasets (tenant_id, id, name, title_sort, visibility, metadata_created, "
                    "metadata_modified, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING pk",
                    [tid, *values, _dumps(doc)],
                ).fetchone()
                pk = int(row[0])
            else:
                db.run(
                    "UPDATE opendata_datasets SET id = ?, name = ?, title_sort = ?, visibility = ?, "
                    "metadata_created = ?, metadata_modified = ?, doc = ? WHERE pk = ? AND tenant_id = ?",
                    [*values, _dumps(doc), pk, tid],
                )
                old = db.run(
                    "SELECT field, value, visibility FROM opendata_dataset_terms WHERE dataset_pk = ?", [pk]
                ).fetchall()
                _count(db, tid, [(f, v, int(w)) for f, v, w in old], -1)
                db.run("DELETE FROM opendata_dataset_terms WHERE dataset_pk = ?", [pk])
                db.run("DELETE FROM opendata_resources WHERE dataset_pk = ?", [pk])
        except StoreConflict as exc:
            raise ValidationFailed("That URL is already in use.", {"name": ["That URL is already in use."]}) from exc
        new = documents.terms(doc, org, groups)
        db.many(
            "INSERT INTO opendata_dataset_terms (tenant_id, dataset_pk, field, value, visibility) "
            "VALUES (?, ?, ?, ?, ?)",
            [(tid, pk, field, value, vis) for field, value in new],
        )
        _count(db, tid, [(field, value, vis) for field, value in new], 1)
        if db.dialect.name != "postgresql":  # SQLite: the same terms as numbers (see search.py)
            keys = [(tid, field, value) for field, value in new]
            db.many(
                "INSERT INTO opendata_terms (tenant_id, field, value) VALUES (?, ?, ?) "
                "ON CONFLICT (tenant_id, field, value) DO NOTHING",
                keys,
            )
            db.run("DELETE FROM opendata_dataset_term_ids WHERE dataset_pk = ?", [pk])
            db.many(
                "INSERT INTO opendata_dataset_term_ids (dataset_pk, term_id) SELECT ?, id FROM opendata_terms "
                "WHERE tenant_id = ? AND field = ? AND value = ?",
                [(pk, *key) for key in keys],
            )
        try:
            db.many(
                "INSERT INTO opendata_resources (tenant_id, id, dataset_pk) VALUES (?, ?, ?)",
                [(tid, r["id"], pk) for r in doc["resources"]],
            )
        except StoreConflict as exc:
            message = "A resource id is already used by another dataset"
            raise ValidationFailed(message, {"resources": [message]}) from exc
        title, tags, body = documents.index_text(doc, org, groups)
        if db.dialect.name == "postgresql":
            db.run(
                "UPDATE opendata_datasets SET search = CASE WHEN ? THEN "
                "setweight(to_tsvector('simple', ?), 'A') || setweight(to_tsvector('simple', ?), 'B') || "
                "setweight(to_tsvector('simple', ?), 'C') END, terms = ? WHERE pk = ?",
                [vis > 0, title, tags, body, sorted(search.term_key(f, v) for f, v in new), pk],
            )
        else:
            db.run("DELETE FROM opendata_search WHERE rowid = ?", [pk])
            if vis > 0:
                db.run(
                    "INSERT INTO opendata_search (rowid, title, tags, body) VALUES (?, ?, ?, ?)",
                    [pk, title, tags, body],
                )

    # -- datasets: reads ------------------------------------------------------------------------------

    def _find(self, ctx: WriteContext, id_or_name: str) -> tuple[int, dict[str, Any]] | None:
        row = ctx.db.run(
            "SELECT pk, doc FROM opendata_datasets WHERE tenant_id = ? AND (id = ? OR name = ?) "
            "ORDER BY CASE WHEN id = ? THEN 0 ELSE 1 END LIMIT 1",
            [ctx.tenant_id, id_or_name, id_or_name, id_or_name],
        ).fetchone()
        return None if row is None else (int(row[0]), orjson.loads(row[1]))

    def show_dataset(
        self, id_or_name: str, *, include_private: bool = False, include_deleted: bool | None = None
    ) -> Dataset:
        """A dataset by id or name. Private and deleted ones only for callers that may see them
        (``include_deleted`` follows ``include_private`` unless given)."""
        ctx: WriteContext
        with self._read() as ctx:
            found = self._find(ctx, id_or_name)
        if found is None:
            raise NotFound("Dataset not found")
        doc = found[1]
        if doc["state"] != "active" and not (include_private if include_deleted is None else include_deleted):
            raise NotFound("Dataset not found")
        if doc["private"] and not include_private:
            raise NotAuthorized(f"User not authorized to read package {doc['id']}")
        return doc

    def list_datasets(self, *, limit: int | None = None, offset: int = 0) -> list[str]:
        sql = "SELECT name FROM opendata_datasets WHERE tenant_id = ? AND visibility = 2 ORDER BY name"
        ctx: WriteContext
        with self._read() as ctx:
            params: list[Any] = [ctx.tenant_id]
            if limit is not None:
                sql += " LIMIT ? OFFSET ?"
                params += [limit, offset]
            elif offset:
                sql += " OFFSET ?" if ctx.db.dialect.name == "postgresql" else " LIMIT -1 OFFSET ?"
                params.append(offset)
            rows = ctx.db.run(sql, params).fetchall()
        return [r[0] for r in rows]

    def search(self, query: SearchQuery) -> SearchResult:
        ctx: WriteContext
        with self._read() as ctx:
            plan = search.Plan(ctx.db, ctx.tenant_id, query)
            total, docs, counts = search.run(plan, query, ctx.tenant_id)
        return SearchResult(total, [orjson.loads(d) for d in docs], counts)

    def show_resource(self, resource_id: str, *, include_private: bool = False) -> Resource:
        """A resource of an active dataset (a private one only with ``include_private``)."""
        ctx: WriteContext
        with self._read() as ctx:
            row = ctx.db.run(
                "SELECT d.doc FROM opendata_resources r JOIN opendata_datasets d ON d.pk = r.dataset_pk "
                "WHERE r.tenant_id = ? AND r.id = ? AND d.visibility >= ?",
                [ctx.tenant_id, resource_id, 1 if include_private else 2],
            ).fetchone()
        if row is not None:
            for res in orjson.loads(row[0])["resources"]:
                if res["id"] == resource_id:
                    return dict(res)
        raise NotFound("Resource was not found.")

    def modified_since(self, since: datetime | None) -> Iterator[Dataset]:
        """Active public datasets modified at or after ``since``, oldest change first, read in batches."""
        after = ckan_time(since) if since is not None else ""
        last_pk = 0
        last_modified = after or ""
        first = True
        while True:
            ctx: WriteContext
            with self._read() as ctx:
                rows = ctx.db.run(
                    "SELECT pk, metadata_modified, doc FROM opendata_datasets WHERE tenant_id = ? AND visibility = 2 "
                    "AND (metadata_modified > ? OR (metadata_modified = ? AND pk > ?)) "
                    "ORDER BY metadata_modified, pk LIMIT ?",
                    [ctx.tenant_id, last_modified, last_modified, -1 if first else last_pk, MODIFIED_BATCH],
                ).fetchall()
            first = False
            for row in rows:
                yield orjson.loads(row[2])
            if len(rows) < MODIFIED_BATCH:
                return
            last_modified, last_pk = rows[-1][1], int(rows[-1][0])

    # -- organisations, groups, tags, licences --------------------------------------------------------

    def _parties(self, is_org: bool, include_deleted: bool = False) -> list[dict[str, Any]]:
        ctx: WriteContext
        with self._read() as ctx:
            rows = self._all_groups(ctx)
            field = "organization" if is_org else "groups"
            counts = dict(
                ctx.db.run(
                    "SELECT value, count(*) FROM opendata_dataset_terms WHERE tenant_id = ? AND field = ? "
                    "AND visibility = 2 GROUP BY value",
                    [ctx.tenant_id, field],
                ).fetchall()
            )
        out = []
        for row in rows.values():
            if row.is_organization == is_org and (include_deleted or row.doc.get("state", "active") == "active"):
                out.append({**row.doc, "package_count": int(counts.get(row.name, 0))})
        return sorted(out, key=lambda d: d["name"])

    def organizations(self, *, all_fields: bool = False) -> list[Any]:
        found = self._parties(True)
        return found if all_fields else [d["name"] for d in found]

    def groups(self, *, all_fields: bool = False) -> list[Any]:
        found = self._parties(False)
        return found if all_fields else [d["name"] for d in found]

    def _show_party(
        self, id_or_name: str, is_org: bool, include_datasets: bool, include_deleted: bool
    ) -> dict[str, Any]:
        for doc in self._parties(is_org, include_deleted):
            if id_or_name in (doc["id"], doc["name"]):
                if include_datasets:
                    field = "organization" if is_org else "groups"
                    found = self.search(SearchQuery(fq=((field, doc["name"]),), rows=1000))
                    doc["packages"] = found.results
                return doc
        raise NotFound("Organization not found" if is_org else "Group not found")

    def show_organization(
        self, id_or_name: str, *, include_datasets: bool = False, include_deleted: bool = False
    ) -> dict[str, Any]:
        """An organisation by id or name; a deleted one only with ``include_deleted`` (publishers)."""
        return self._show_party(id_or_name, True, include_datasets, include_deleted)

    def show_group(
        self, id_or_name: str, *, include_datasets: bool = False, include_deleted: bool = False
    ) -> dict[str, Any]:
        """A group by id or name; a deleted one only with ``include_deleted`` (publishers)."""
        return self._show_party(id_or_name, False, include_datasets, include_deleted)

    # -- organisations and groups: writes -------------------------------------------------------------

    def create_organization(self, data: Mapping[str, Any], *, user: str) -> dict[str, Any]:
        return self._create_party(data, True, user)

    def update_organization(self, data: Mapping[str, Any], *, user: str) -> dict[str, Any]:
        return self._update_party(data, True, user)

    def patch_organization(self, data: Mapping[str, Any], *, user: str) -> dict[str, Any]:
        return self._patch_party(data, True, user)

    def delete_organization(self, id_or_name: str, *, user: str) -> None:
        self._patch_party({"id": id_or_name, "state": "deleted"}, True, user)

    def create_group(self, data: Mapping[str, Any], *, user: str) -> dict[str, Any]:
        return self._create_party(data, False, user)

    def update_group(self, data: Mapping[str, Any], *, user: str) -> dict[str, Any]:
        return self._update_party(data, False, user)

    def patch_group(self, data: Mapping[str, Any], *, user: str) -> dict[str, Any]:
        return self._patch_party(data, False, user)

    def delete_group(self, id_or_name: str, *, user: str) -> None:
        self._patch_party({"id": id_or_name, "state": "deleted"}, False, user)

    def _create_party(self, data: Mapping[str, Any], is_org: bool, user: str) -> dict[str, Any]:
        fields = check_party(data, is_organization=is_org)
        ctx: WriteContext
        try:
            with self._write() as ctx:
                rows = _load_groups(ctx)
                _name_free(rows, fields["name"], None)
                party_id = fields.get("id") or str(uuid.uuid4())
                if party_id in rows:
                    raise ValidationFailed("That id is already in use.", {"id": ["That id is already in use."]})
                doc = documents.party_document(fields, party_id=party_id, is_organization=is_org, created=now_ckan())
                try:
                    ctx.db.run(
                        "INSERT INTO opendata_groups (tenant_id, id, name, is_organization, title, doc) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        [ctx.tenant_id, party_id, doc["name"], int(is_org), doc["title"], _dumps(doc)],
                    )
                except StoreConflict as exc:  # created meanwhile by another request
                    raise ValidationFailed(NAME_IN_USE, {"name": [NAME_IN_USE]}) from exc
        finally:
            self._forget_groups()
        log.info("%s %s created by %r", doc["type"], doc["name"], user)
        return {**doc, "package_count": 0}

    def _update_party(self, data: Mapping[str, Any], is_org: bool, user: str) -> dict[str, Any]:
        key = data.get("id") or data.get("name")
        if not isinstance(key, str) or not key:
            raise ValidationFailed("Missing value", {"id": ["Missing value"]})
        ctx: WriteContext
        try:
            with self._write() as ctx:
                rows = _load_groups(ctx)
                before = _party_row(rows, key, is_org)
                fields = check_party({**data, "id": before.id}, is_organization=is_org)
                _name_free(rows, fields["name"], before.id)
                doc = documents.party_document(
                    fields, party_id=before.id, is_organization=is_org, created=before.doc["created"]
                )
                if doc["state"] == "deleted" and before.doc.get("state", "active") != "deleted":
                    self._check_deletable(ctx, before)
                try:
                    ctx.db.run(
                        "UPDATE opendata_groups SET name = ?, title = ?, doc = ? WHERE tenant_id = ? AND id = ?",
                        [doc["name"], doc["title"], _dumps(doc), ctx.tenant_id, before.id],
                    )
                except StoreConflict as exc:  # the new name was taken meanwhile by another request
                    raise ValidationFailed(NAME_IN_USE, {"name": [NAME_IN_USE]}) from exc
                after = GroupRow(before.id, doc["name"], is_org, doc["title"], doc)
                self._restate_datasets(ctx, before, {**rows, before.id: after})
                count = ctx.db.run(
                    "SELECT count(*) FROM opendata_dataset_terms WHERE tenant_id = ? AND field = ? AND value = ? "
                    "AND visibility = 2",
                    [ctx.tenant_id, "organization" if is_org else "groups", doc["name"]],
                ).fetchone()
        finally:
            self._forget_groups()
        log.info("%s %s updated by %r (state %s)", doc["type"], doc["name"], user, doc["state"])
        return {**doc, "package_count": int(count[0])}

    def _patch_party(self, data: Mapping[str, Any], is_org: bool, user: str) -> dict[str, Any]:
        key = data.get("id") or data.get("name")
        if not isinstance(key, str) or not key:
            raise ValidationFailed("Missing value", {"id": ["Missing value"]})
        current = self._show_party(key, is_org, False, True)
        merged = {**current, **{k: v for k, v in data.items() if k != "id"}, "id": current["id"]}
        if "extras" not in data:
            merged["extras"] = [{"key": e["key"], "value": e["value"]} for e in current.get("extras", [])]
        return self._update_party(merged, is_org, user)

    def _check_deletable(self, ctx: WriteContext, party: GroupRow) -> None:
        """CKAN 2.10 (``ckan.auth.create_unowned_dataset`` off, its default) refuses to delete an organisation
        while it owns datasets that are not deleted (drafts and private ones included)."""
        if not party.is_organization:
            return
        for doc in _datasets_of(ctx, party):
            if doc["state"] != "deleted":
                message = "Organization cannot be deleted while it still has datasets"
                raise ValidationFailed(message, {"message": [message]})

    def _restate_datasets(self, ctx: WriteContext, before: GroupRow, rows: Mapping[str, GroupRow]) -> None:
        """Carry an organisation's or group's change into its datasets' dictionaries, terms and index entries.
        A deleted group loses its datasets, as CKAN deletes its memberships."""
        after = rows[before.id]
        for pk, doc in _datasets_of(ctx, before, with_pk=True):
            if before.is_organization:
                doc["organization"] = documents.short_org(after)
            elif after.doc["state"] == "deleted":
                doc["groups"] = [g for g in doc["groups"] if g["id"] != before.id]
            else:
                doc["groups"] = [documents.short_group(rows[g["id"]]) for g in doc["groups"]]
            self._save(ctx, pk, doc, rows)

    def tags(self, *, query: str | None = None) -> list[str]:
        """The tags of active public datasets; ``query`` keeps those containing it (folded, so without accents)."""
        ctx: WriteContext
        with self._read() as ctx:
            rows = ctx.db.run(
                "SELECT DISTINCT value FROM opendata_dataset_terms WHERE tenant_id = ? AND field = ? "
                "AND visibility = 2 ORDER BY value",
                [ctx.tenant_id, "tags"],
            ).fetchall()
        names = [r[0] for r in rows]
        if query:
            needle = fold(query)
            names = [n for n in names if needle in fold(n)]
        return names

    def tag_dicts(self, names: list[str]) -> list[dict[str, Any]]:
        return [{"id": tag_id(n), "name": n, "display_name": n, "vocabulary_id": None} for n in names]

    def licenses(self) -> list[dict[str, Any]]:
        return [dict(lic) for lic in licenses()]

    def titles(self) -> dict[str, str]:
        """Organisation and group names -> titles (facet display names)."""
        with self._lock:  # every search asks: a copy young enough needs no transaction
            rows = self._groups if time.monotonic() - self._groups_read < GROUPS_TTL else None
        if rows is None:
            ctx: WriteContext
            with self._read() as ctx:
                rows = self._all_groups(ctx)
        return {row.name: row.title for row in rows.values()}


NAME_IN_USE = "Group name already exists in database"  # CKAN's message, for organisations too


def _load_groups(ctx: WriteContext) -> dict[str, GroupRow]:
    rows = ctx.db.run(
        "SELECT id, name, is_organization, title, doc FROM opendata_groups WHERE tenant_id = ? ORDER BY name",
        [ctx.tenant_id],
    ).fetchall()
    return {r[0]: GroupRow(r[0], r[1], bool(r[2]), r[3], orjson.loads(r[4])) for r in rows}


def _party_row(rows: Mapping[str, GroupRow], id_or_name: str, is_org: bool) -> GroupRow:
    for row in rows.values():
        if row.is_organization == is_org and id_or_name in (row.id, row.name):
            return row
    raise NotFound("Organization was not found." if is_org else "Group was not found.")


def _name_free(rows: Mapping[str, GroupRow], name: str, own_id: str | None) -> None:
    """Organisations and groups share one namespace (CKAN keeps both in its group table), deleted ones too."""
    if any(row.name == name and row.id != own_id for row in rows.values()):
        raise ValidationFailed(NAME_IN_USE, {"name": [NAME_IN_USE]})


def _datasets_of(ctx: WriteContext, party: GroupRow, *, with_pk: bool = False) -> list[Any]:
    """The datasets (any state) of an organisation (by id) or in a group (by name), as (pk, doc) or docs."""
    field, value = ("owner_org", party.id) if party.is_organization else ("groups", party.name)
    rows = ctx.db.run(
        "SELECT d.pk, d.doc FROM opendata_dataset_terms t JOIN opendata_datasets d ON d.pk = t.dataset_pk "
        "WHERE t.tenant_id = ? AND t.field = ? AND t.value = ? ORDER BY d.pk",
        [ctx.tenant_id, field, value],
    ).fetchall()
    docs = [(int(r[0]), orjson.loads(r[1])) for r in rows]
    return docs if with_pk else [doc for _, doc in docs]


def _count(db: Db, tenant_id: int, terms: list[tuple[str, str, int]], delta: int) -> None:
    """Add ``delta`` to the facet counters of these (field, value, visibility) terms (drafts and deleted: none)."""
    db.many(
        "INSERT INTO opendata_facet_counts (tenant_id, field, visibility, value, n) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (tenant_id, field, visibility, value) DO UPDATE SET n = opendata_facet_counts.n + excluded.n",
        [(tenant_id, field, vis, value, delta) for field, value, vis in terms if vis > 0],
    )


def _editable(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored resources as an update would send them back (computed members dropped)."""
    computed = ("package_id", "position", "state", "created", "metadata_modified")
    return [{k: v for k, v in r.items() if k not in computed} for r in resources]


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()
