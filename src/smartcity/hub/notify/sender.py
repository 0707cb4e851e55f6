"""The one small interface every notification protocol implements (HTTP, MQTT), and its one error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class DeliveryError(Exception):
    """A notification was not confirmed by its receiver; ``unreachable`` when no connection could be made."""

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


class Sender(Protocol):
    """Sends notifications to the endpoints of one or more URI schemes.

    Implementations convert every error of their protocol library into :class:`DeliveryError`; returning
    normally means the receiver confirmed the notification (so its outbox row may be deleted).
    """

    schemes: tuple[str, ...]

    def lane_of(self, endpoint: str) -> str:
        """The key of the delivery lane of ``endpoint`` (one per HTTP origin, one per MQTT broker connection).

        Raises DeliveryError when the endpoint cannot be used.
        """
        ...

    async def send(self, endpoint: str, headers: Mapping[str, str], body: bytes) -> None:
        """Deliver one notification; raises DeliveryError unless the receiver confirmed it."""
        ...

    async def close(self) -> None:
        """Close every connection."""
        ...
