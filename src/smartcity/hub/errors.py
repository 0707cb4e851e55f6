"""NGSI-LD errors: the domain raises these; the API edge turns them into problem details.

Each error carries the standard type URI of ETSI GS CIM 009 (clause 5.5.2) and its HTTP status.
"""

from __future__ import annotations

from typing import Any, ClassVar

ERROR_BASE = "https://uri.etsi.org/ngsi-ld/errors/"


class NgsiError(Exception):
    """Base class of every error the hub reports to a client."""

    error_type: ClassVar[str] = "InternalError"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    @property
    def type_uri(self) -> str:
        return ERROR_BASE + self.error_type

    def problem(self) -> dict[str, Any]:
        """The problem-details body (RFC 7807 members used by NGSI-LD)."""
        body: dict[str, Any] = {"type": self.type_uri, "title": self.title, "detail": self.detail}
        body.update(self.extra)
        return body


class InvalidRequest(NgsiError):
    error_type = "InvalidRequest"
    status = 400
    title = "Invalid request"


class BadRequestData(NgsiError):
    error_type = "BadRequestData"
    status = 400
    title = "Bad request data"


class AlreadyExists(NgsiError):
    error_type = "AlreadyExists"
    status = 409
    title = "Already exists"


class OperationNotSupported(NgsiError):
    error_type = "OperationNotSupported"
    status = 422
    title = "Operation not supported"


class ResourceNotFound(NgsiError):
    error_type = "ResourceNotFound"
    status = 404
    title = "Resource not found"


class NonexistentTenant(NgsiError):
    error_type = "NonexistentTenant"
    status = 404
    title = "Nonexistent tenant"


class TooManyResults(NgsiError):
    error_type = "TooManyResults"
    status = 403
    title = "Too many results"


class LdContextNotAvailable(NgsiError):
    error_type = "LdContextNotAvailable"
    status = 503
    title = "@context not available"


class NotAcceptable(NgsiError):
    """406: the Accept header names no media type the broker produces."""

    error_type = "NotAcceptable"
    status = 406
    title = "Not acceptable"


class UnsupportedMediaType(NgsiError):
    """415: the request body's Content-Type is not one NGSI-LD accepts."""

    error_type = "UnsupportedMediaType"
    status = 415
    title = "Unsupported media type"


class PayloadTooLarge(NgsiError):
    error_type = "BadRequestData"
    status = 413
    title = "Request body too large"


class MethodNotAllowed(NgsiError):
    error_type = "InvalidRequest"
    status = 405
    title = "Method not allowed"


class InternalError(NgsiError):
    pass
