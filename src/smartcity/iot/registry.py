"""The device registry in SQL: config groups and devices of every service, on either engine.

Every function takes an open :class:`~smartcity.hub.store.sql.Db` (one transaction) and a hub tenant id; the
routes open the transaction (see :mod:`smartcity.iot.api`). Rows keep the FIWARE JSON of the group or device
(``doc``) next to the columns the agent looks them up by. Each change bumps ``iot_registry.version`` so that
every process drops its cached devices (:mod:`smartcity.iot.directory`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import orjson

from smartcity.hub.model import now_iso
from smartcity.hub.store.sql import Db, StoreConflict
from smartcity.iot.errors import BadRequest, DuplicateDevice, DuplicateGroup, IotError
from smartcity.iot.model import ConfigGroup, Device, Scope
from smartcity.iot.provisioning import parse_device, parse_group, render_device, render_group

log = logging.getLogger(__name__)

BUMP = (
    "INSERT INTO iot_registry (id, version) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET version = iot_registry.version + 1"
)
GROUP_COLUMNS = "tenant_id, service_path, apikey, resource, entity_type, doc, created_at, modified_at"
DEVICE_COLUMNS = "tenant_id, service_path, device_id, apikey, entity_name, entity_type, doc, created_at, modified_at"


def _doc(rendered: dict[str, Any]) -> str:
    body = {k: v for k, v in rendered.items() if k not in ("service", "subservice", "service_path")}
    return orjson.dumps(body).decode()


def version(db: Db) -> int:
    row = db.run("SELECT version FROM iot_registry WHERE id = 1").fetchone()
    return int(row[0]) if row is not None else 0


def bump(db: Db) -> None:
    db.run(BUMP)


def _path_clause(scope: Scope) -> tuple[str, list[Any]]:
    if scope.all_paths:
        return "", []
    return " AND service_path = ?", [scope.service_path]


# -- config groups -------------------------------------------------------------------------------------


def _group(row: Sequence[Any], tenant: str) -> ConfigGroup:
    return parse_group(orjson.loads(row[1]), Scope(tenant, row[0]))


def insert_groups(db: Db, tenant_id: int, groups: Sequence[ConfigGroup]) -> None:
    """Add the groups; an API key and resource already used by any group (in any service) is DuplicateGroup
    (FIWARE identifies a group by both: several groups may share an API key with different resources)."""
    keys = [(g.apikey, g.resource) for g in groups]
    if len(set(keys)) != len(keys):
        raise DuplicateGroup("the request provisions the same apikey and resource twice")
    in_sql, params = db.dialect.in_list("apikey", sorted({g.apikey for g in groups}))
    rows = db.run(f"SELECT apikey, resource FROM iot_groups WHERE {in_sql}", params).fetchall()
    taken = {(r[0], r[1]) for r in rows}
    clash = [k for k in keys if k in taken]
    if clash:
        raise DuplicateGroup(f"a config group with apikey {clash[0][0]!r} and resource {clash[0][1]!r} already exists")
    now = now_iso()
    try:
        db.many(
            f"INSERT INTO iot_groups ({GROUP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (tenant_id, g.scope.service_path, g.apikey, g.resource, g.entity_type, _doc(render_group(g)), now, now)
                for g in groups
            ],
        )
    except StoreConflict as exc:
        raise DuplicateGroup("a config group with this apikey and resource already exists") from exc
    bump(db)


def list_groups(db: Db, tenant_id: int, scope: Scope, limit: int, offset: int) -> tuple[list[ConfigGroup], int]:
    where, params = _path_clause(scope)
    count = db.run(f"SELECT count(*) FROM iot_groups WHERE tenant_id = ?{where}", [tenant_id, *params]).fetchone()
    total = int(count[0])
    rows = db.run(
        f"SELECT service_path, doc FROM iot_groups WHERE tenant_id = ?{where} ORDER BY id LIMIT ? OFFSET ?",
        [tenant_id, *params, limit, offset],
    ).fetchall()
    return [_group(r, scope.tenant) for r in rows], total


def find_group(db: Db, tenant_id: int, scope: Scope, apikey: str, resource: str | None) -> ConfigGroup | None:
    """The group of ``apikey`` and ``resource``; without ``resource``, the only group of the API key (several:
    BadRequest, the resource must say which)."""
    where, params = _path_clause(scope)
    sql = f"SELECT service_path, doc, resource FROM iot_groups WHERE tenant_id = ? AND apikey = ?{where} ORDER BY id"
    rows = db.run(sql, [tenant_id, apikey, *params]).fetchall()
    if resource is not None:
        rows = [r for r in rows if r[2] == resource]
    elif len(rows) > 1:
        raise BadRequest(f"several config groups have the apikey {apikey!r}: name the one meant with ?resource=")
    return _group(rows[0], scope.tenant) if rows else None


def groups_of(db: Db, tenant_id: int, tenant: str, apikey: str) -> list[ConfigGroup]:
    """The groups of an API key in a tenant, in provisioning order."""
    rows = db.run(
        "SELECT service_path, doc FROM iot_groups WHERE tenant_id = ? AND apikey = ? ORDER BY id", [tenant_id, apikey]
    ).fetchall()
    return [_group(r, tenant) for r in rows]


def group_apikey_for(db: Db, tenant_id: int, service_path: str, entity_type: str) -> str | None:
    """The API key of the first group of ``entity_type`` in the scope (a device provisioned without one)."""
    row = db.run(
        "SELECT apikey FROM iot_groups WHERE tenant_id = ? AND service_path = ? AND entity_type = ? ORDER BY id",
        [tenant_id, service_path, entity_type],
    ).fetchone()
    return None if row is None else str(row[0])


def replace_group(db: Db, tenant_id: int, group: ConfigGroup) -> None:
    db.run(
        "UPDATE iot_groups SET entity_type = ?, doc = ?, modified_at = ? "
        "WHERE tenant_id = ? AND apikey = ? AND resource = ?",
        [group.entity_type, _doc(render_group(group)), now_iso(), tenant_id, group.apikey, group.resource],
    )
    bump(db)


def delete_group(db: Db, tenant_id: int, group: ConfigGroup, *, with_devices: bool) -> int:
    """Remove the group (and, when asked, its devices: those with its API key); returns devices removed."""
    db.run(
        "DELETE FROM iot_groups WHERE tenant_id = ? AND apikey = ? AND resource = ?",
        [tenant_id, group.apikey, group.resource],
    )
    removed = 0
    if with_devices:
        removed = int(
            db.run(
                "SELECT count(*) FROM iot_devices WHERE tenant_id = ? AND apikey = ?", [tenant_id, group.apikey]
            ).fetchone()[0]
        )
        db.run("DELETE FROM iot_devices WHERE tenant_id = ? AND apikey = ?", [tenant_id, group.apikey])
    bump(db)
    return removed


# -- devices -------------------------------------------------------------------------------------------


def _device(row: Sequence[Any], tenant: str) -> Device:
    doc = orjson.loads(row[1])
    return parse_device(doc, Scope(tenant, row[0]), lambda _type: doc.get("apikey"))


def insert_devices(db: Db, tenant_id: int, devices: Sequence[Device]) -> None:
    """Add the devices; a (apikey, device_id) pair that exists already, in any service, is DuplicateDevice."""
    keys = [(d.apikey, d.device_id) for d in devices]
    if len(set(keys)) != len(keys):
        raise DuplicateDevice("the request provisions the same device twice")
    in_sql, params = db.dialect.in_list("device_id", sorted({d.device_id for d in devices}))
    rows = db.run(f"SELECT apikey, device_id FROM iot_devices WHERE {in_sql}", params).fetchall()
    existing = {(r[0], r[1]) for r in rows}
    clash = [k for k in keys if k in existing]
    if clash:
        raise DuplicateDevice(f"device {clash[0][1]!r} (apikey {clash[0][0]!r}) already exists")
    now = now_iso()
    try:
        db.many(
            f"INSERT INTO iot_devices ({DEVICE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    tenant_id,
                    d.scope.service_path,
                    d.device_id,
                    d.apikey,
                    d.entity_name,
                    d.entity_type,
                    _doc(render_device(d)),
                    now,
                    now,
                )
                for d in devices
            ],
        )
    except StoreConflict as exc:
        raise DuplicateDevice("one of the devices already exists") from exc
    bump(db)


def list_devices(db: Db, tenant_id: int, scope: Scope, limit: int, offset: int) -> tuple[list[Device], int]:
    where, params = _path_clause(scope)
    total = int(
        db.run(f"SELECT count(*) FROM iot_devices WHERE tenant_id = ?{where}", [tenant_id, *params]).fetchone()[0]
    )
    rows = db.run(
        f"SELECT service_path, doc FROM iot_devices WHERE tenant_id = ?{where} ORDER BY id LIMIT ? OFFSET ?",
        [tenant_id, *params, limit, offset],
    ).fetchall()
    return [_device(r, scope.tenant) for r in rows], total


def find_devices(db: Db, tenant_id: int, scope: Scope, device_id: str, apikey: str | None) -> list[Device]:
    """The devices with this id in the scope (one per API key; ``apikey`` narrows to one)."""
    where, params = _path_clause(scope)
    if apikey is not None:
        where += " AND apikey = ?"
        params.append(apikey)
    rows = db.run(
        f"SELECT service_path, doc FROM iot_devices WHERE tenant_id = ? AND device_id = ?{where} ORDER BY id",
        [tenant_id, device_id, *params],
    ).fetchall()
    return [_device(r, scope.tenant) for r in rows]


def replace_device(db: Db, tenant_id: int, device: Device) -> None:
    db.run(
        "UPDATE iot_devices SET doc = ?, modified_at = ? WHERE tenant_id = ? AND apikey = ? AND device_id = ?",
        [_doc(render_device(device)), now_iso(), tenant_id, device.apikey, device.device_id],
    )
    bump(db)


def delete_device(db: Db, tenant_id: int, device: Device) -> None:
    db.run(
        "DELETE FROM iot_devices WHERE tenant_id = ? AND apikey = ? AND device_id = ?",
        [tenant_id, device.apikey, device.device_id],
    )
    bump(db)


def insert_autoprovisioned(db: Db, rows: Sequence[tuple[int, Device]]) -> None:
    """Register devices created by their first measure (``(tenant id, device)``); one registered meanwhile (by
    another process, or provisioned) stays as it is. The registry version is not bumped: every process would
    build the same binding for the device anyway."""
    now = now_iso()
    db.many(
        f"INSERT INTO iot_devices ({DEVICE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (apikey, device_id) DO NOTHING",
        [
            (
                tid,
                d.scope.service_path,
                d.device_id,
                d.apikey,
                d.entity_name,
                d.entity_type,
                _doc(render_device(d)),
                now,
                now,
            )
            for tid, d in rows
        ],
    )


# -- the southbound's look-ups (any tenant) ------------------------------------------------------------


def southbound_rows(
    db: Db, keys: Sequence[tuple[str, str]]
) -> tuple[dict[tuple[str, str], tuple[str, Device]], dict[str, list[tuple[str, ConfigGroup]]]]:
    """Devices by (apikey, device_id) and groups by apikey (in provisioning order) for the keys of incoming
    messages, with the name of their tenant: ``({key: (tenant, device)}, {apikey: [(tenant, group), ...]})``."""
    if not keys:
        return {}, {}
    in_sql, params = db.dialect.in_list("d.device_id", sorted({k[1] for k in keys}))
    wanted = set(keys)
    devices: dict[tuple[str, str], tuple[str, Device]] = {}
    for tenant, path, doc, apikey, device_id in db.run(
        f"SELECT t.name, d.service_path, d.doc, d.apikey, d.device_id FROM iot_devices d "
        f"JOIN tenants t ON t.id = d.tenant_id WHERE {in_sql}",
        params,
    ).fetchall():
        if (apikey, device_id) in wanted:
            try:
                devices[(apikey, device_id)] = (tenant, _device((path, doc), tenant))
            except IotError as exc:  # stored by an older version with other rules: its messages are refused
                log.error("device %r (apikey %r) in the registry cannot be read: %s", device_id, apikey, exc)
    in_sql, params = db.dialect.in_list("g.apikey", sorted({k[0] for k in keys}))
    groups: dict[str, list[tuple[str, ConfigGroup]]] = {}
    for tenant, path, doc, apikey in db.run(
        f"SELECT t.name, g.service_path, g.doc, g.apikey FROM iot_groups g JOIN tenants t ON t.id = g.tenant_id "
        f"WHERE {in_sql} ORDER BY g.id",
        params,
    ).fetchall():
        try:
            groups.setdefault(apikey, []).append((tenant, _group((path, doc), tenant)))
        except IotError as exc:
            log.error("config group %r in the registry cannot be read: %s", apikey, exc)
    return devices, groups


def command_devices(db: Db) -> list[tuple[str, Device, list[ConfigGroup]]]:
    """Devices that may take commands (theirs or their group's), each with its tenant and the groups of its API
    key in that tenant (in provisioning order)."""
    like = '%"commands"%'
    groups: dict[tuple[str, str], list[ConfigGroup]] = {}
    keys: set[str] = set()
    for tenant, path, doc, apikey in db.run(
        "SELECT t.name, g.service_path, g.doc, g.apikey FROM iot_groups g JOIN tenants t ON t.id = g.tenant_id "
        "ORDER BY g.id"
    ).fetchall():
        try:
            group = _group((path, doc), tenant)
        except IotError:
            continue
        groups.setdefault((tenant, apikey), []).append(group)
        if '"commands"' in doc:
            keys.add(apikey)
    in_sql, params = db.dialect.in_list("d.apikey", sorted(keys)) if keys else ("1 = 0", [])
    out: list[tuple[str, Device, list[ConfigGroup]]] = []
    for tenant, path, doc in db.run(
        f"SELECT t.name, d.service_path, d.doc FROM iot_devices d JOIN tenants t ON t.id = d.tenant_id "
        f"WHERE d.doc LIKE ? OR {in_sql} ORDER BY d.id",
        [like, *params],
    ).fetchall():
        try:
            device = _device((path, doc), tenant)
        except IotError:
            continue
        out.append((tenant, device, groups.get((tenant, device.apikey), [])))
    return out
