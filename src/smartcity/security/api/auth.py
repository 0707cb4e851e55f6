"""Signing in: browser sessions (``/auth/login``) and OAuth2 client-credentials tokens (``/auth/token``).

Both answer the same way whatever went wrong with the credentials (unknown user, wrong password, disabled or
locked account), so that nobody learns which accounts exist; the security log records the real reason.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import parse_qsl, unquote

import orjson
from fastapi import APIRouter, Request, Response

from smartcity.hub.errors import BadRequestData
from smartcity.security.api.common import audit_details, call, iso, json_response, runtime
from smartcity.security.audit import SecurityEvent
from smartcity.security.authn import SESSION_COOKIE
from smartcity.security.errors import Unauthorized
from smartcity.security.principal import Principal
from smartcity.security.runtime import principal_of

router = APIRouter(prefix="/auth", tags=["authentication"])

MAX_FORM = 16 * 1024
SIGN_IN_FAILED = "wrong username or password (or the account is locked after repeated failures)"


async def _fields(request: Request) -> dict[str, str]:
    """The request's fields, from a JSON object or an ``application/x-www-form-urlencoded`` body."""
    body = await request.body()
    if len(body) > MAX_FORM:
        raise BadRequestData("the request body is too large")
    ctype = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if ctype == "application/x-www-form-urlencoded":
        try:
            return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body)))
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadRequestData("the form body cannot be read") from exc
    if ctype in ("application/json", ""):
        try:
            data: Any = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError as exc:
            raise BadRequestData(f"the body is not valid JSON: {exc}") from exc
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise BadRequestData("the body must be a JSON object of strings")
        return data
    raise BadRequestData("send application/json or application/x-www-form-urlencoded")


def _who(principal: Principal) -> dict[str, Any]:
    return {
        "subject": principal.subject,
        "kind": principal.kind,
        "role": principal.role.value,
        "department": principal.department,
        "tenants": None if principal.tenants is None else sorted(principal.tenants),
    }


@router.post("/login", name="login", summary="Sign in with a username and password (opens a browser session)")
async def login(request: Request) -> Response:
    fields = await _fields(request)
    username, password = fields.get("username", ""), fields.get("password", "")
    if not username or not password:
        raise BadRequestData("username and password are required")
    rt = runtime(request)
    caller = principal_of(request)
    outcome = await call(request, rt.credentials.authenticate_password, username, password, client=caller.client)
    audit_details(request, username=username[:64], result=outcome.reason)
    if outcome.principal is None:
        who = Principal(subject=username[:64], kind="user", client=caller.client)
        rt.emit(
            SecurityEvent.of("auth.failure", who, action="security.session.login", details={"reason": outcome.reason})
        )
        if outcome.locked_now:
            rt.emit(SecurityEvent.of("auth.lockout", who, action="security.session.login"))
        raise Unauthorized(SIGN_IN_FAILED)
    session = await call(request, rt.credentials.open_session, outcome.principal.subject, client=caller.client)
    rt.emit(
        SecurityEvent.of("auth.success", session.principal.with_client(caller.client), action="security.session.login")
    )
    response = json_response(
        {**_who(session.principal), "csrfToken": session.csrf, "expiresAt": iso(session.expires_at)}
    )
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        max_age=int(rt.settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=rt.settings.secure_cookies,
        path="/",
    )
    return response


@router.post("/logout", name="logout", status_code=204, summary="End the browser session")
async def logout(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await call(request, runtime(request).credentials.close_session, token)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/session", name="who_am_i", summary="Who the caller is: subject, role, department and tenants")
async def who_am_i(request: Request) -> Response:
    principal = principal_of(request)
    body = _who(principal)
    if principal.session_csrf is not None:
        body["csrfToken"] = principal.session_csrf
    return json_response(body)


def _oauth_error(error: str, description: str, status: int = 400, basic: bool = False) -> Response:
    headers = {"Cache-Control": "no-store"}
    if basic:
        headers["WWW-Authenticate"] = 'Basic realm="smartcity"'
    return json_response({"error": error, "error_description": description}, status, headers)


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    client_id, _, secret = decoded.partition(":")
    return unquote(client_id), unquote(secret)


@router.post("/token", name="issue_token", summary="OAuth2 client credentials: an access token for an application")
async def issue_token(request: Request) -> Response:
    """RFC 6749 section 4.4; errors in the RFC's own format (section 5.2)."""
    try:
        fields = await _fields(request)
    except BadRequestData as exc:
        return _oauth_error("invalid_request", exc.detail)
    if fields.get("grant_type") != "client_credentials":
        return _oauth_error("unsupported_grant_type", "only grant_type=client_credentials is supported")
    basic = _basic(request)
    client_id, secret = basic if basic is not None else (fields.get("client_id", ""), fields.get("client_secret", ""))
    if not client_id or not secret:
        return _oauth_error("invalid_request", "client_id and client_secret are required (form fields or Basic)")
    rt = runtime(request)
    caller = principal_of(request)
    issued = await call(request, rt.credentials.issue_token, client_id, secret)
    who = Principal(subject=f"client:{client_id[:64]}", kind="client", client=caller.client)
    if issued is None:
        rt.emit(SecurityEvent.of("auth.failure", who, action="security.token.issue"))
        return _oauth_error("invalid_client", "client authentication failed", 401, basic=basic is not None)
    token, expires_in = issued
    rt.emit(SecurityEvent.of("token.issued", who, action="security.token.issue"))
    return json_response(
        {"access_token": token, "token_type": "Bearer", "expires_in": expires_in},
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )
