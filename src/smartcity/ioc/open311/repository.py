"""The table of citizen reports (migration 0016), bound to one hub tenant: a query outside it cannot be written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from smartcity.hub.store import Store

COLUMNS = (
    "id, service_request_id, token, service_code, description, address, lat, lon, ward, attributes, media, "
    "email, phone, first_name, last_name, device_id, account_id, api_key_id, locale, incident_id, department, "
    "requested_at, requested_us, updated_at"
)


@dataclass(frozen=True)
class Report:
    """One stored report. ``email`` to ``api_key_id`` are private: never in a published view."""

    row_id: int
    service_request_id: str
    token: str
    service_code: str
    description: str | None
    address: str | None
    lat: float | None
    lon: float | None
    ward: str | None
    attributes: dict[str, Any]
    media: str | None
    email: str | None
    phone: str | None
    first_name: str | None
    last_name: str | None
    device_id: str | None
    account_id: str | None
    api_key_id: str | None
    locale: str
    incident_id: str | None
    department: str | None
    requested_at: str
    requested_us: int
    updated_at: str


@dataclass(frozen=True)
class NewReport:
    token: str
    service_code: str
    description: str | None
    address: str | None
    lat: float | None
    lon: float | None
    ward: str | None
    attributes: dict[str, Any]
    media: str | None
    email: str | None
    phone: str | None
    first_name: str | None
    last_name: str | None
    device_id: str | None
    account_id: str | None
    api_key_id: str | None
    locale: str
    requested_at: str
    requested_us: int


@dataclass(frozen=True)
class ReportFilter:
    """Filters of ``GET requests`` that the database applies (status is applied on the live incident status)."""

    ids: tuple[str, ...] | None = None
    service_codes: tuple[str, ...] | None = None
    wards: tuple[str, ...] | None = None
    start_us: int | None = None
    end_us: int | None = None


def _report(row: Sequence[Any]) -> Report:
    values = list(row)
    values[9] = orjson.loads(values[9]) if values[9] else {}
    values[0] = int(values[0])
    values[6] = float(values[6]) if values[6] is not None else None
    values[7] = float(values[7]) if values[7] is not None else None
    values[22] = int(values[22])
    return Report(*values)


class ReportRepository:
    """Reports of one tenant (``''`` is the default tenant)."""

    def __init__(self, store: Store, tenant: str) -> None:
        self._store = store
        self._tenant = tenant

    def _scope(self) -> Any:
        return self._store.tenant(self._tenant, create=True)

    def insert(self, new: NewReport) -> Report:
        """Store a report; its public id is its row id."""
        with self._scope().transaction() as tx:
            row = tx.db.run(
                "INSERT INTO open311_requests (tenant_id, token, service_code, description, address, lat, lon, ward, "
                "attributes, media, email, phone, first_name, last_name, device_id, account_id, api_key_id, locale, "
                "requested_at, requested_us, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                [
                    tx.tenant_id,
                    new.token,
                    new.service_code,
                    new.description,
                    new.address,
                    new.lat,
                    new.lon,
                    new.ward,
                    orjson.dumps(new.attributes).decode(),
                    new.media,
                    new.email,
                    new.phone,
                    new.first_name,
                    new.last_name,
                    new.device_id,
                    new.account_id,
                    new.api_key_id,
                    new.locale,
                    new.requested_at,
                    new.requested_us,
                    new.requested_at,
                ],
            ).fetchone()
            row_id = int(row[0])
            tx.db.run(
                "UPDATE open311_requests SET service_request_id = ? WHERE tenant_id = ? AND id = ?",
                [str(row_id), tx.tenant_id, row_id],
            )
            found = self._one(tx, "id = ?", row_id)
        assert found is not None
        return found

    def link_incident(self, service_request_id: str, incident_id: str, department: str | None, at: str) -> None:
        with self._scope().transaction() as tx:
            tx.db.run(
                "UPDATE open311_requests SET incident_id = ?, department = ?, updated_at = ? "
                "WHERE tenant_id = ? AND service_request_id = ?",
                [incident_id, department, at, tx.tenant_id, service_request_id],
            )

    def delete(self, service_request_id: str) -> None:
        with self._scope().transaction() as tx:
            tx.db.run(
                "DELETE FROM open311_requests WHERE tenant_id = ? AND service_request_id = ?",
                [tx.tenant_id, service_request_id],
            )

    def get(self, service_request_id: str) -> Report | None:
        with self._scope().snapshot() as tx:
            return self._one(tx, "service_request_id = ?", service_request_id)

    def by_token(self, token: str) -> Report | None:
        with self._scope().snapshot() as tx:
            return self._one(tx, "token = ?", token)

    def by_incident(self, incident_id: str) -> Report | None:
        with self._scope().snapshot() as tx:
            return self._one(tx, "incident_id = ?", incident_id)

    def query(self, where: ReportFilter, limit: int, offset: int) -> list[Report]:
        """Reports matching the filter, newest first."""
        clauses = ["tenant_id = ?"]
        params: list[Any] = []
        for column, values in (
            ("service_request_id", where.ids),
            ("service_code", where.service_codes),
            ("ward", where.wards),
        ):
            if values is not None:
                clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
                params.extend(values)
        if where.start_us is not None:
            clauses.append("requested_us >= ?")
            params.append(where.start_us)
        if where.end_us is not None:
            clauses.append("requested_us <= ?")
            params.append(where.end_us)
        with self._scope().snapshot() as tx:
            rows = tx.db.run(  # fixed fragments only: every value is a bound parameter
                f"SELECT {COLUMNS} FROM open311_requests WHERE {' AND '.join(clauses)} "  # noqa: S608
                "ORDER BY requested_us DESC, id DESC LIMIT ? OFFSET ?",
                [tx.tenant_id, *params, limit, offset],
            ).fetchall()
        return [_report(r) for r in rows]

    @staticmethod
    def _one(tx: Any, clause: str, value: Any) -> Report | None:
        sql = f"SELECT {COLUMNS} FROM open311_requests WHERE tenant_id = ? AND {clause}"  # noqa: S608 - fixed clauses
        row = tx.db.run(sql, [tx.tenant_id, value]).fetchone()
        return _report(row) if row is not None else None
