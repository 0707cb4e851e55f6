"""Opaque secrets: generation, shape checks and hashing.

Every secret carries 32 random bytes (43 url-safe base64 characters), so SHA-256 is the right way to store it: no
dictionary can guess it, and a lookup by its hash costs one index probe instead of an argon2 run.

| secret          | shape                       | stored as                       |
|-----------------|-----------------------------|---------------------------------|
| API key         | ``scak_<id>_<secret>``      | id in clear, SHA-256 of secret  |
| client secret   | ``sccs_<secret>``           | SHA-256 of the whole string     |
| access token    | ``scat_<secret>``           | SHA-256 of the whole string     |
| session token   | ``<secret>``                | SHA-256 of the whole string     |

Key and client ids use lowercase letters and digits only, so the ``_`` after an API key's id always ends it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string

API_KEY_PREFIX = "scak_"
CLIENT_SECRET_PREFIX = "sccs_"
ACCESS_TOKEN_PREFIX = "scat_"

SECRET_BYTES = 32
SECRET_CHARS = 43  # url-safe base64 of 32 bytes, without padding
ID_CHARS = 12
_ID_ALPHABET = string.ascii_lowercase + string.digits

_SECRET = r"[A-Za-z0-9_\-]{43}"
_API_KEY = re.compile(rf"scak_([a-z0-9]{{8,32}})_({_SECRET})", re.ASCII)
_CLIENT_SECRET = re.compile(rf"sccs_{_SECRET}", re.ASCII)
_ACCESS_TOKEN = re.compile(rf"scat_{_SECRET}", re.ASCII)
_SESSION_TOKEN = re.compile(_SECRET, re.ASCII)
_PUBLIC_ID = re.compile(r"[a-z0-9]{8,32}", re.ASCII)


def new_secret() -> str:
    """32 random bytes as url-safe base64 (43 characters)."""
    return secrets.token_urlsafe(SECRET_BYTES)


def new_id(length: int = ID_CHARS) -> str:
    """A random public identifier of lowercase letters and digits."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def hash_secret(secret: str) -> str:
    """The SHA-256 (hex) under which a secret is stored and looked up."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def hash_matches(secret: str, expected_hash: str) -> bool:
    """Whether ``secret`` hashes to ``expected_hash``, compared in constant time."""
    return hmac.compare_digest(hash_secret(secret), expected_hash)


def new_api_key() -> tuple[str, str, str]:
    """(key id, secret, full key ``scak_<id>_<secret>``)."""
    key_id = new_id()
    secret = new_secret()
    return key_id, secret, f"{API_KEY_PREFIX}{key_id}_{secret}"


def parse_api_key(key: object) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed API key; None for anything else, never an exception."""
    if not isinstance(key, str) or len(key) > 128:
        return None
    match = _API_KEY.fullmatch(key)
    return None if match is None else (match.group(1), match.group(2))


def new_client_secret() -> str:
    return CLIENT_SECRET_PREFIX + new_secret()


def new_access_token() -> str:
    return ACCESS_TOKEN_PREFIX + new_secret()


def new_session_token() -> str:
    return new_secret()


def new_csrf_token() -> str:
    return new_secret()


def is_client_secret(value: object) -> bool:
    return isinstance(value, str) and len(value) < 64 and _CLIENT_SECRET.fullmatch(value) is not None


def is_access_token(value: object) -> bool:
    return isinstance(value, str) and len(value) < 64 and _ACCESS_TOKEN.fullmatch(value) is not None


def is_session_token(value: object) -> bool:
    return isinstance(value, str) and len(value) < 64 and _SESSION_TOKEN.fullmatch(value) is not None


def is_public_id(value: object) -> bool:
    """Whether ``value`` has the shape of a key or client id."""
    return isinstance(value, str) and len(value) <= 32 and _PUBLIC_ID.fullmatch(value) is not None
