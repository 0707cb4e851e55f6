"""Password hashing (argon2id) and the password policy.

Production uses argon2-cffi's RFC 9106 low-memory profile (t=3, m=64 MiB, p=4); tests use :meth:`Passwords.fast`.
A stored hash carries its own parameters, so raising the cost later only needs :meth:`Passwords.needs_rehash` at the
next successful sign-in.
"""

from __future__ import annotations

import logging

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

log = logging.getLogger(__name__)

MIN_LENGTH = 10
#: argon2 accepts any length; a cap keeps a megabyte "password" from being a cheap way to burn CPU
MAX_LENGTH = 1024


class Passwords:
    """Hashes and verifies passwords with argon2id at the given cost."""

    def __init__(
        self,
        *,
        time_cost: int = RFC_9106_LOW_MEMORY.time_cost,
        memory_cost: int = RFC_9106_LOW_MEMORY.memory_cost,
        parallelism: int = RFC_9106_LOW_MEMORY.parallelism,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            hash_len=RFC_9106_LOW_MEMORY.hash_len,
            salt_len=RFC_9106_LOW_MEMORY.salt_len,
        )

    @classmethod
    def fast(cls) -> Passwords:
        """The cheapest argon2id parameters (tests only: never for real passwords)."""
        return cls(time_cost=1, memory_cost=8, parallelism=1)

    def hash(self, password: str) -> str:
        """The encoded argon2id hash of ``password`` (ValueError if it cannot be encoded as UTF-8)."""
        return self._hasher.hash(_encode(password))

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` matches ``password_hash``; a malformed hash or password is a mismatch."""
        try:
            encoded = _encode(password)
        except ValueError:
            return False
        try:
            return self._hasher.verify(password_hash, encoded)
        except InvalidHashError:
            log.warning("a stored password hash is not a valid argon2 hash")
            return False
        except VerificationError:
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether ``password_hash`` was made with other parameters than this hasher's."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError):
            return True


def _encode(password: str) -> bytes:
    if not isinstance(password, str):
        raise ValueError("a password must be text")
    try:
        return password.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("the password contains characters that cannot be encoded") from None


def check_password(password: str, username: str) -> None:
    """Raise ValueError, with a message fit for the user, when ``password`` is too weak for ``username``."""
    if not isinstance(password, str):
        raise ValueError("a password must be text")
    if len(password) < MIN_LENGTH:
        raise ValueError(f"the password must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        raise ValueError(f"the password must be at most {MAX_LENGTH} characters long")
    if password.strip().casefold() == username.strip().casefold():
        raise ValueError("the password must not be the username")
    if len(set(password)) == 1:
        raise ValueError("the password must not be a single character repeated")
    _encode(password)
