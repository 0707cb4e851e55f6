"""Fixtures of the credential tests: a clock the test moves, cheap argon2, the facade on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smartcity.hub.store import Store
from smartcity.security.credentials import Credentials
from smartcity.security.passwords import Passwords

PASSWORD = "correct horse battery"
START = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **span: float) -> datetime:
        self.now += timedelta(**span)
        return self.now


@pytest.fixture(scope="session")
def passwords() -> Passwords:
    return Passwords.fast()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def creds(store: Store, clock: Clock, passwords: Passwords) -> Credentials:
    return Credentials(store, passwords=passwords, clock=clock)
