"""Citizen reports: a checked submission becomes a stored report, then an incident of the department that owns it.

Routing: the service says the incident type and the city department; the location says the ward (the ward polygon
containing lat/long, or the ward an address names). A ward-bound service (urban order, environment nuisances,
administrative procedures) leaves the department to the incident desk, which gives the incident to that ward's
People's Committee. What a citizen sees of a report (status, status notes, the expected date, the agency) comes
from the incident's public status; personal data (e-mail, phone, names, device, account, API key) is stored for
the departments and never published.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from smartcity.hub.model import to_micros
from smartcity.ioc.contracts import DEPARTMENTS, SEVERITY_RANK, IncidentDesk, IncidentRequest, IncidentStatus, Severity
from smartcity.ioc.events import EventHub
from smartcity.ioc.open311.catalogue import Catalogue, Service
from smartcity.ioc.open311.errors import InvalidInput, NotFound
from smartcity.ioc.open311.inputs import AttributeValue, Submission, check_attributes
from smartcity.ioc.open311.photos import NAME as MEDIA_NAME
from smartcity.ioc.open311.photos import MediaStore
from smartcity.ioc.open311.repository import NewReport, Report, ReportFilter, ReportRepository
from smartcity.ioc.open311.wards import Ward, WardIndex

log = logging.getLogger(__name__)

JURISDICTION = "tphcm.gov.vn"
MEDIA_PATH = "/open311/v2/media/"
DEFAULT_DAYS = 90
MAX_RESULTS = 1000
CLOSED = frozenset({IncidentStatus.RESOLVED.value, IncidentStatus.CLOSED.value})
HCMC = timezone(timedelta(hours=7), "ICT")  # Asia/Ho_Chi_Minh: no daylight saving time
_DEPARTMENTS = {d.code: d for d in DEPARTMENTS}
_MEDIA_URL = re.compile(r"^(?:https?://[^/?#]+)?/open311/v2/media/([^/?#]+)$")

Clock = Callable[[], datetime]


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso(value: Any) -> str | None:
    """An ISO time from the incident desk, in the GeoReport form (seconds, Z)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return utc_text(moment) if moment.tzinfo is not None else None


@dataclass(frozen=True)
class RequestQuery:
    """``GET requests``: ids (which make every other filter ignored), codes, dates, statuses, wards."""

    ids: tuple[str, ...] | None = None
    service_codes: tuple[str, ...] | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: frozenset[str] | None = None
    wards: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Receipt:
    """The answer to ``POST requests``."""

    service_request_id: str
    token: str
    service_notice: str | None
    account_id: str | None
    view: Mapping[str, Any]


class CitizenReports:
    """The Open311 part of the operations centre (``app.state.ioc.open311``)."""

    def __init__(
        self,
        catalogue: Catalogue,
        wards: WardIndex,
        repository: ReportRepository,
        media: MediaStore,
        events: EventHub,
        desk: Callable[[], IncidentDesk | None],
        *,
        public_url: str = "",
        clock: Clock | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.wards = wards
        self.repository = repository
        self.media = media
        self.events = events
        self._desk = desk
        self.public_url = public_url.rstrip("/")
        self.clock: Clock = clock or (lambda: datetime.now(UTC))

    # -- submitting ------------------------------------------------------------------------------------------

    def service(self, code: str) -> Service:
        service = self.catalogue.get(code)
        if service is None:
            raise NotFound(f"service_code {code} not found")
        return service

    def submit(
        self,
        submission: Submission,
        photo: bytes | None,
        *,
        locale: str,
        account_id: str | None = None,
        api_key_id: str | None = None,
    ) -> Receipt:
        """Check, store, route and announce a report (blocking: run it off the event loop)."""
        if submission.jurisdiction_id is not None and submission.jurisdiction_id != JURISDICTION:
            raise NotFound(f"jurisdiction_id {submission.jurisdiction_id[:64]} not found (this is {JURISDICTION})")
        service = self.service(submission.service_code)
        attributes = check_attributes(service, submission.attributes)
        lat, lon, ward = self._locate(submission)
        media = self._media(submission, photo)
        now = self.clock()
        report = self.repository.insert(
            NewReport(
                token=secrets.token_urlsafe(18),
                service_code=service.code,
                description=submission.description,
                address=submission.address,
                lat=lat,
                lon=lon,
                ward=ward.code if ward is not None else None,
                attributes=dict(attributes),
                media=media,
                email=submission.email,
                phone=submission.phone,
                first_name=submission.first_name,
                last_name=submission.last_name,
                device_id=submission.device_id,
                account_id=account_id,
                api_key_id=api_key_id,
                locale=locale,
                requested_at=utc_text(now),
                requested_us=to_micros(now),
            )
        )
        incident = self._open_incident(report, service, ward, attributes)
        if incident is not None:
            report = self.repository.get(report.service_request_id) or report
        view = self.view(report, locale)
        self.events.publish("report.received", self.view(report, "vi"))
        return Receipt(
            service_request_id=report.service_request_id,
            token=report.token,
            service_notice=self._notice(service, view, locale),
            account_id=account_id,
            view=view,
        )

    def _locate(self, submission: Submission) -> tuple[float | None, float | None, Ward | None]:
        if submission.coordinates is not None:
            lat, lon = submission.coordinates
            ward = self.wards.locate(lat, lon)
            if ward is None and not self.wards.within_city(lat, lon):
                raise InvalidInput("the location (lat, long) is outside Ho Chi Minh City")
            return lat, lon, ward
        if submission.address is not None:
            ward = self.wards.named_in(submission.address)
            if ward is None:
                raise InvalidInput(
                    "without lat and long, address_string must name the ward, commune or special zone "
                    "(such as 'Phường Bến Thành')"
                )
            return None, None, ward
        if submission.address_id is not None:
            raise InvalidInput("address_id is not known here: give lat and long, or an address_string naming the ward")
        raise InvalidInput(
            "a report needs a location: lat and long, or an address_string naming its ward (such as 'Phường Bến Thành')"
        )

    def _media(self, submission: Submission, photo: bytes | None) -> str | None:
        if photo is not None and submission.media_url is not None:
            raise InvalidInput("give a photo as media or as media_url, not both")
        if photo is not None:
            return self.media.put(photo).name
        if submission.media_url is None:
            return None
        url = submission.media_url
        match = _MEDIA_URL.match(url)
        ours = MEDIA_PATH, *((self.public_url + MEDIA_PATH,) if self.public_url else ())
        own_prefix = url.startswith(ours)
        name = match.group(1) if match is not None and own_prefix else ""
        if not MEDIA_NAME.match(name) or self.media.path_of(name) is None:
            raise InvalidInput("media_url must be a photo of this service's media store: upload the photo as media")
        return name

    def _severity(self, service: Service, attributes: Mapping[str, AttributeValue]) -> Severity:
        severity = service.severity
        for code, value in attributes.items():
            attribute = service.attribute(code)
            if attribute is None:
                continue
            for key in [value] if isinstance(value, str) else value:
                choice = attribute.choice(key)
                better = choice.severity if choice is not None else None
                if better is not None and SEVERITY_RANK[better] < SEVERITY_RANK[severity]:
                    severity = better
        return severity

    def _open_incident(
        self, report: Report, service: Service, ward: Ward | None, attributes: Mapping[str, AttributeValue]
    ) -> Mapping[str, Any] | None:
        desk = self._desk()
        if desk is None:
            log.warning("no incident desk: report %s is stored without an incident", report.service_request_id)
            return None
        place = ward.full_name if ward is not None else (report.address or "")
        title = f"{service.name.vi} - {place}" if place else service.name.vi
        request = IncidentRequest(
            type=service.incident_type,
            title=title[:200],
            description=self._internal_description(report, service, attributes),
            severity=self._severity(service, attributes),
            source="open311",
            opened_by="open311",
            source_ref=report.service_request_id,
            department=None if service.ward_bound and ward is not None else service.department,
            ward=ward.code if ward is not None else None,
            location={"type": "Point", "coordinates": [report.lon, report.lat]} if report.lat is not None else None,
            labels={"serviceCode": service.code, "group": service.group},
        )
        try:
            incident = desk.open(request)
        except Exception:
            self.repository.delete(report.service_request_id)
            raise
        self.repository.link_incident(
            report.service_request_id,
            str(incident["id"]),
            str(incident.get("department") or "") or None,
            utc_text(self.clock()),
        )
        return incident

    def _internal_description(self, report: Report, service: Service, attributes: Mapping[str, AttributeValue]) -> str:
        """The incident's description for the department (no personal data of the reporter)."""
        lines = [report.description or service.description.vi]
        if report.address:
            lines.append(f"Địa chỉ: {report.address}")
        for code, value in attributes.items():
            attribute = service.attribute(code)
            if attribute is None:
                continue
            keys = [value] if isinstance(value, str) else value
            names = [c.name.vi if (c := attribute.choice(k)) is not None else k for k in keys]
            lines.append(f"{attribute.description.vi} {', '.join(names)}")
        if report.media:
            lines.append(f"Ảnh: {self.media_url(report.media)}")
        lines.append(f"Open311: {report.service_request_id}")
        return "\n".join(lines)

    def _notice(self, service: Service, view: Mapping[str, Any], locale: str) -> str | None:
        parts: list[str] = []
        agency = view.get("agency_responsible")
        expected = view.get("expected_datetime")
        if agency:
            parts.append(f"Đã chuyển đến {agency}." if locale == "vi" else f"Sent to {agency}.")
        if isinstance(expected, str):
            local = datetime.fromisoformat(expected.replace("Z", "+00:00")).astimezone(HCMC)
            when = local.strftime("%H:%M %d/%m/%Y")
            parts.append(f"Dự kiến xử lý trước {when}." if locale == "vi" else f"Expected to be handled by {when}.")
        if service.service_notice is not None:
            parts.append(service.service_notice(locale))
        return " ".join(parts) or None

    # -- reading ---------------------------------------------------------------------------------------------

    def media_url(self, name: str) -> str:
        return f"{self.public_url}{MEDIA_PATH}{name}"

    def view(self, report: Report, locale: str) -> dict[str, Any]:
        """The published view of a report: GeoReport v2 request fields plus ``ward``, ``ward_name`` and
        ``incident_id``; never the reporter's personal data."""
        service = self.catalogue.get(report.service_code)
        desk = self._desk()
        public = desk.public_status(report.incident_id) if desk is not None and report.incident_id else None
        status = "open"
        notes: str | None = None
        expected: str | None = None
        updated = report.updated_at
        agency = self._agency(report, service, locale)
        if public is not None:
            status = "closed" if str(public.get("status")) in CLOSED else "open"
            notes = public.get("statusNotes") or None
            expected = _iso(public.get("expectedAt"))
            updated = max(updated, _iso(public.get("updatedAt")) or updated)
            names = public.get("departmentName")
            if isinstance(names, Mapping) and isinstance(names.get(locale), str):
                agency = names[locale]
        ward = self.wards.by_code(report.ward) if report.ward else None
        return {
            "service_request_id": report.service_request_id,
            "status": status,
            "status_notes": notes,
            "service_name": service.name(locale) if service is not None else report.service_code,
            "service_code": report.service_code,
            "description": report.description,
            "agency_responsible": agency,
            "service_notice": service.service_notice(locale) if service and service.service_notice else None,
            "requested_datetime": report.requested_at,
            "updated_datetime": updated,
            "expected_datetime": expected,
            "address": report.address,
            "address_id": None,
            "zipcode": None,
            "lat": report.lat,
            "long": report.lon,
            "media_url": self.media_url(report.media) if report.media else None,
            "ward": report.ward,
            "ward_name": (ward.full_name_en if locale == "en" else ward.full_name) if ward is not None else None,
            "incident_id": report.incident_id,
        }

    def _agency(self, report: Report, service: Service | None, locale: str) -> str | None:
        code = report.department or (service.department if service is not None else None)
        department = _DEPARTMENTS.get(code or "")
        if department is None:
            return None
        return department.name_en if locale == "en" else department.name_vi

    def get(self, service_request_id: str, locale: str) -> dict[str, Any]:
        report = self.repository.get(service_request_id)
        if report is None:
            raise NotFound(f"service_request_id {service_request_id[:64]} not found")
        return self.view(report, locale)

    def by_token(self, token: str) -> dict[str, Any]:
        report = self.repository.by_token(token)
        if report is None:
            raise NotFound("token not found")
        return {"service_request_id": report.service_request_id, "token": report.token}

    def find(self, query: RequestQuery, locale: str) -> list[dict[str, Any]]:
        """``GET requests``: newest first, at most 1000; without ids or dates, the last 90 days."""
        if query.ids is not None:
            where = ReportFilter(ids=query.ids)
            statuses = None
        else:
            end, start = query.end, query.start
            if start is None and end is None:
                start = self.clock() - timedelta(days=DEFAULT_DAYS)
            elif start is None and end is not None:
                start = end - timedelta(days=DEFAULT_DAYS)
            where = ReportFilter(
                service_codes=query.service_codes,
                wards=query.wards,
                start_us=to_micros(start) if start is not None else None,
                end_us=to_micros(end) if end is not None else None,
            )
            statuses = query.statuses
        found: list[dict[str, Any]] = []
        offset, page = 0, 500
        while len(found) < MAX_RESULTS:
            reports = self.repository.query(where, page, offset)
            for report in reports:
                view = self.view(report, locale)
                if statuses is None or view["status"] in statuses:
                    found.append(view)
                    if len(found) >= MAX_RESULTS:
                        break
            if len(reports) < page:
                break
            offset += page
        return found

    # -- following incidents ---------------------------------------------------------------------------------

    def on_incident(self, kind: str, data: Mapping[str, Any]) -> None:
        """An ``incident.changed`` of a citizen report's incident: announce ``report.changed``."""
        if kind != "incident.changed" or data.get("source") != "open311":
            return
        incident_id = data.get("id")
        if not isinstance(incident_id, str):
            return
        report = self.repository.by_incident(incident_id)
        if report is None:
            ref = data.get("sourceRef")
            report = self.repository.get(ref) if isinstance(ref, str) else None
        if report is not None:
            self.events.publish("report.changed", self.view(report, "vi"))
