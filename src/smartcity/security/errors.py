"""The security pillar's errors, in the platform's problem-details format (see :mod:`smartcity.web.errors`)."""

from __future__ import annotations

from typing import ClassVar

from smartcity.hub.errors import NgsiError

SECURITY_ERRORS = "https://smartcity.hcmc.gov.vn/errors/"


class SecurityError(NgsiError):
    """Errors of our own (NGSI-LD defines no authentication errors), with our own type URIs."""

    headers: ClassVar[dict[str, str]] = {}

    def response_headers(self) -> dict[str, str]:
        """Headers the response must carry (``WWW-Authenticate``, ``Retry-After``)."""
        return dict(self.headers)

    @property
    def type_uri(self) -> str:
        return SECURITY_ERRORS + self.error_type


class Unauthorized(SecurityError):
    """No credential, or one that is wrong, expired or revoked."""

    error_type = "Unauthorized"
    status = 401
    title = "Authentication required"
    headers = {"WWW-Authenticate": 'Bearer realm="smartcity"'}


class Forbidden(SecurityError):
    """A known caller whose role does not allow this action."""

    error_type = "Forbidden"
    status = 403
    title = "Not allowed"


class TooManyRequests(SecurityError):
    error_type = "TooManyRequests"
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = max(1, int(retry_after + 0.999))

    def response_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class Conflict(SecurityError):
    error_type = "Conflict"
    status = 409
    title = "Conflict"
