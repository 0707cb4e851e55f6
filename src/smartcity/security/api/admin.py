"""Administration of credentials: users, API keys and OAuth2 clients (administrators only, see the policy).

Secrets (passwords, keys, client secrets) go in once and come out once: a created key or client secret is in
the creation response and nowhere else, ever.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from smartcity.hub.errors import BadRequestData, ResourceNotFound
from smartcity.security.api.common import audit_details, call, iso, json_response, runtime
from smartcity.security.credentials import ApiKeyInfo, ClientInfo, CredentialError, User

router = APIRouter(prefix="/security", tags=["security administration"])


class Scoped(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str
    department: str | None = None
    tenants: list[str] | None = Field(default=None, description="hub tenants; omitted: the default tenant only")
    all_tenants: bool = Field(default=False, alias="allTenants")

    def tenant_scope(self) -> tuple[str, ...] | None:
        if self.all_tenants:
            return None
        return tuple(self.tenants) if self.tenants is not None else ("",)


class NewUser(Scoped):
    username: str
    password: str = Field(min_length=1)
    display_name: str | None = Field(default=None, alias="displayName")


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str | None = None
    department: str | None = None
    disabled: bool | None = None
    password: str | None = None


class NewCredential(Scoped):
    name: str = Field(min_length=1, max_length=200)


def _user(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "displayName": user.display_name,
        "role": user.role.value,
        "department": user.department,
        "tenants": None if user.tenants is None else sorted(user.tenants),
        "disabled": user.disabled,
        "lockedUntil": iso(user.locked_until),
        "createdAt": iso(user.created_at),
        "lastLoginAt": iso(user.last_login_at),
    }


def _key(info: ApiKeyInfo | ClientInfo) -> dict[str, Any]:
    ident = info.id if isinstance(info, ApiKeyInfo) else info.client_id
    return {
        "id": ident,
        "name": info.name,
        "role": info.role.value,
        "department": info.department,
        "tenants": None if info.tenants is None else sorted(info.tenants),
        "revoked": info.revoked,
        "createdAt": iso(info.created_at),
        "lastUsedAt": iso(info.last_used_at),
    }


def _bad(exc: CredentialError | ValueError) -> BadRequestData:
    return BadRequestData(str(exc))


@router.get("/users", name="list_users", summary="List users (never their password hashes)")
async def list_users(request: Request) -> Response:
    users = await call(request, runtime(request).credentials.list_users)
    return json_response([_user(u) for u in users])


@router.post("/users", name="add_user", status_code=201, summary="Add a user")
async def add_user(request: Request, body: NewUser) -> Response:
    audit_details(request, username=body.username, role=body.role, department=body.department)
    creds = runtime(request).credentials
    try:
        user = await call(
            request,
            creds.add_user,
            body.username,
            body.password,
            body.role,
            department=body.department,
            tenants=body.tenant_scope(),
            display_name=body.display_name,
        )
    except (CredentialError, ValueError) as exc:
        raise _bad(exc) from exc
    return json_response(_user(user), 201, {"Location": f"/security/users/{user.username}"})


async def _find(request: Request, username: str) -> User:
    user = await call(request, runtime(request).credentials.get_user, username)
    if user is None:
        raise ResourceNotFound(f"no user {username!r}")
    return user


@router.get("/users/{username}", name="get_user", summary="One user")
async def get_user(request: Request, username: str) -> Response:
    return json_response(_user(await _find(request, username)))


@router.patch("/users/{username}", name="change_user", summary="Change a user's role, department, state or password")
async def change_user(request: Request, username: str, body: UserChange) -> Response:
    await _find(request, username)
    changed = sorted(k for k, v in body.model_dump().items() if v is not None)
    if not changed:
        raise BadRequestData("nothing to change: give role, department, disabled or password")
    audit_details(request, username=username, changed=changed, role=body.role, disabled=body.disabled)
    creds = runtime(request).credentials
    try:
        if body.role is not None:
            await call(request, creds.set_role, username, body.role, department=body.department)
        elif body.department is not None:
            raise BadRequestData("a department is set together with the role department_officer")
        if body.password is not None:
            await call(request, creds.set_password, username, body.password)
        if body.disabled is True:
            await call(request, creds.disable_user, username)
        elif body.disabled is False:
            await call(request, creds.enable_user, username)
    except (CredentialError, ValueError) as exc:
        raise _bad(exc) from exc
    return json_response(_user(await _find(request, username)))


@router.get("/apikeys", name="list_api_keys", summary="List API keys (never the keys themselves)")
async def list_api_keys(request: Request) -> Response:
    keys = await call(request, runtime(request).credentials.list_api_keys)
    return json_response([_key(k) for k in keys])


@router.post("/apikeys", name="create_api_key", status_code=201, summary="Create an API key (shown once)")
async def create_api_key(request: Request, body: NewCredential) -> Response:
    audit_details(request, name=body.name, role=body.role, tenants=body.tenant_scope())
    try:
        info, key = await call(
            request,
            runtime(request).credentials.create_api_key,
            body.name,
            body.role,
            department=body.department,
            tenants=body.tenant_scope(),
        )
    except (CredentialError, ValueError) as exc:
        raise _bad(exc) from exc
    return json_response({**_key(info), "key": key}, 201, {"Cache-Control": "no-store"})


@router.delete("/apikeys/{key_id}", name="revoke_api_key", summary="Revoke an API key")
async def revoke_api_key(request: Request, key_id: str) -> Response:
    audit_details(request, key=key_id)
    try:
        info = await call(request, runtime(request).credentials.revoke_api_key, key_id)
    except CredentialError as exc:
        raise ResourceNotFound(str(exc)) from exc
    return json_response(_key(info))


@router.get("/clients", name="list_clients", summary="List OAuth2 client applications")
async def list_clients(request: Request) -> Response:
    clients = await call(request, runtime(request).credentials.list_clients)
    return json_response([_key(c) for c in clients])


@router.post("/clients", name="create_client", status_code=201, summary="Register an application (secret shown once)")
async def create_client(request: Request, body: NewCredential) -> Response:
    audit_details(request, name=body.name, role=body.role, tenants=body.tenant_scope())
    try:
        info, secret = await call(
            request,
            runtime(request).credentials.create_client,
            body.name,
            body.role,
            department=body.department,
            tenants=body.tenant_scope(),
        )
    except (CredentialError, ValueError) as exc:
        raise _bad(exc) from exc
    return json_response({**_key(info), "clientSecret": secret}, 201, {"Cache-Control": "no-store"})


@router.delete("/clients/{client_id}", name="revoke_client", summary="Revoke an application and its tokens")
async def revoke_client(request: Request, client_id: str) -> Response:
    audit_details(request, client=client_id)
    try:
        info = await call(request, runtime(request).credentials.revoke_client, client_id)
    except CredentialError as exc:
        raise ResourceNotFound(str(exc)) from exc
    return json_response(_key(info))
