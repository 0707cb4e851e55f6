"""Authentication: which credential a request presents, and the principal it stands for.

A request presents at most one credential:

* ``Authorization: Bearer <token>``: an OAuth2 access token (``scat_...``) or an API key (``scak_...``);
* ``X-API-Key: <key>``: an API key (devices and publishers);
* as CKAN clients (ckanapi) send it: ``Authorization: <API key>`` with no scheme, and ``X-CKAN-API-Key: <key>``
  (an API key only: a bare token or anything else in ``Authorization`` is refused);
* the ``smartcity_session`` cookie: a browser session opened by ``POST /auth/login``.

No credential makes the caller anonymous. A credential that is presented but not valid (unknown, expired,
revoked, disabled) is an error, never a silent fall back to anonymous.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie

from starlette.concurrency import run_in_threadpool

from smartcity.security.principal import Principal
from smartcity.security.runtime import SecurityRuntime

SESSION_COOKIE = "smartcity_session"
API_KEY_PREFIX = "scak_"
MAX_SECRET = 512


@dataclass(frozen=True)
class Presented:
    """The credential a request carries: its kind (``session``, ``token``, ``apikey``) and the secret."""

    kind: str
    secret: str

    @property
    def label(self) -> str:
        """A name for logs and events that never contains the secret."""
        if self.kind == "apikey" and self.secret.startswith(API_KEY_PREFIX):
            key_id = self.secret[len(API_KEY_PREFIX) :].split("_", 1)[0]
            return f"apikey:{key_id[:32]}"
        return self.kind


class BadCredential(Exception):
    """The request's credential is malformed or does not authenticate; the message says which, not why."""


def presented(headers: dict[bytes, bytes]) -> Presented | None:
    """The one credential in a request's headers, or None; BadCredential when it cannot be read."""
    auth = headers.get(b"authorization")
    if auth is not None:
        scheme, _, value = auth.decode("latin-1").strip().partition(" ")
        value = value.strip()
        if scheme.startswith(API_KEY_PREFIX) and not value:  # CKAN's habit: the bare API key
            return _checked(Presented("apikey", scheme))
        if scheme.lower() == "basic":
            return None  # client credentials for POST /auth/token, read by that route alone
        if scheme.lower() != "bearer" or not value:
            raise BadCredential("use 'Authorization: Bearer <token or API key>'")
        return _checked(Presented("apikey" if value.startswith(API_KEY_PREFIX) else "token", value))
    key = headers.get(b"x-api-key")
    if key is None:
        key = headers.get(b"x-ckan-api-key")
    if key is not None:
        return _checked(Presented("apikey", key.decode("latin-1").strip()))
    cookie = headers.get(b"cookie")
    if cookie is not None:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(cookie.decode("latin-1"))
        except CookieError:
            return None
        morsel = jar.get(SESSION_COOKIE)
        if morsel is not None and morsel.value:
            return _checked(Presented("session", morsel.value))
    return None


def _checked(found: Presented) -> Presented:
    if not found.secret or len(found.secret) > MAX_SECRET or not found.secret.isascii():
        raise BadCredential(f"the {found.kind} is malformed")
    return found


async def resolve(runtime: SecurityRuntime, found: Presented) -> Principal:
    """The principal of a presented credential; BadCredential when it does not authenticate."""
    credentials = runtime.credentials
    resolver: Callable[[str], Principal | None]
    if found.kind == "apikey":
        resolver = credentials.resolve_api_key
    elif found.kind == "token":
        resolver = credentials.resolve_token
    else:
        resolver = credentials.resolve_session
    principal = resolver(found.secret) if runtime.inline else await run_in_threadpool(resolver, found.secret)
    if principal is None:
        what = {"apikey": "API key", "token": "access token", "session": "session"}[found.kind]
        raise BadCredential(f"the {what} is not valid (unknown, expired or revoked)")
    return principal
