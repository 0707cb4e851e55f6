"""What became of a device message: the entity updates it makes, and the problems that made the agent drop
all or part of it (each with a reason code, counted per device and kept in the dead-letter store).

A message with some good and some bad measures is *partial*: its good measures are written, the bad ones are
dropped, and the message is kept as a dead letter naming each dropped measure (``partial`` true). A message
with nothing to write is *rejected*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from smartcity.hub.model import Instance

if TYPE_CHECKING:
    from smartcity.iot.binding import Binding
    from smartcity.iot.inbound import Inbound

# reason codes
MALFORMED = "malformed_payload"
UNKNOWN_APIKEY = "unknown_apikey"
UNKNOWN_DEVICE = "unknown_device"
WRONG_TYPE = "wrong_type"
IMPLAUSIBLE = "implausible_value"
UNKNOWN_UNIT = "unknown_unit"
INVALID_NAME = "invalid_name"
BAD_TIMESTAMP = "bad_timestamp"
FUTURE_TIMESTAMP = "future_timestamp"
EMPTY = "empty_message"
STORE_REJECTED = "store_rejected"
AGENT_ERROR = "agent_error"  # an unexpected error of the agent itself (logged with its traceback)
REASONS = (
    MALFORMED,
    UNKNOWN_APIKEY,
    UNKNOWN_DEVICE,
    WRONG_TYPE,
    IMPLAUSIBLE,
    UNKNOWN_UNIT,
    INVALID_NAME,
    BAD_TIMESTAMP,
    FUTURE_TIMESTAMP,
    EMPTY,
    STORE_REJECTED,
    AGENT_ERROR,
)


@dataclass(slots=True)
class Problem:
    reason: str
    detail: str
    measure: str | None = None
    group: int | None = None  # index of the measure group in the message (None: the whole message)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"reason": self.reason, "detail": self.detail}
        if self.measure is not None:
            out["measure"] = self.measure
        if self.group is not None:
            out["group"] = self.group
        return out


@dataclass(slots=True)
class Observation:
    """One measure group as an update of the device's entity (attributes expanded, each with observedAt)."""

    binding: Binding
    observed_at: int  # microseconds since the epoch
    observed_iso: str
    attrs: dict[str, list[Instance]]
    values: dict[str, Any]  # attribute name -> value written (canonical unit), for derived attributes (AQI)


@dataclass(slots=True)
class Outcome:
    inbound: Inbound
    binding: Binding | None = None
    observations: list[Observation] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return bool(self.observations)

    @property
    def partial(self) -> bool:
        return bool(self.observations) and bool(self.problems)

    def reject(self, reason: str, detail: str) -> Outcome:
        self.observations.clear()
        self.problems.append(Problem(reason, detail))
        return self

    @property
    def reason(self) -> str | None:
        """The main reason of a rejection or partial drop (the first problem)."""
        return self.problems[0].reason if self.problems else None

    def summary(self) -> str:
        return "; ".join(
            (f"{p.measure}: " if p.measure else "") + f"{p.reason}: {p.detail}" for p in self.problems[:20]
        )
