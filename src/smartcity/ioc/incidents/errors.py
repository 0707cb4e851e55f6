"""Errors of the incident desk with their own type URIs (bad input and unknown incidents use the platform's
``BadRequestData`` and ``ResourceNotFound``)."""

from __future__ import annotations

from smartcity.hub.errors import NgsiError

IOC_ERRORS = "https://smartcity.hcmc.gov.vn/errors/ioc/"


class IncidentError(NgsiError):
    @property
    def type_uri(self) -> str:
        return IOC_ERRORS + self.error_type


class InvalidTransition(IncidentError):
    """The state machine does not allow this change of status."""

    error_type = "InvalidTransition"
    status = 409
    title = "Invalid status transition"


class ConcurrentChange(IncidentError):
    """Someone else changed the incident at the same moment, again and again: try again."""

    error_type = "ConcurrentChange"
    status = 409
    title = "Concurrent change"


class NotYourDepartment(IncidentError):
    """A department officer acting for another department."""

    error_type = "Forbidden"
    status = 403
    title = "Not allowed"


class AlertsUnavailable(IncidentError):
    """Opening from an alert while the alert manager is not installed."""

    error_type = "AlertsUnavailable"
    status = 503
    title = "Alerts unavailable"
