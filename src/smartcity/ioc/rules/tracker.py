"""The life of one rule's verdict about one subject: idle → pending → firing → clearing → idle.

A subject's value is fed as :class:`Sample`s; the rule says whether it *holds* (the condition is true) and whether
it has *ended* (past the hysteresis ``clear`` value; without one, simply no longer holding). The tracker:

* starts *pending* on the first holding sample and *fires* once the condition has held for ``for`` (on a later
  sample, or on a timer when no new sample comes: :meth:`Tracker.due`);
* while firing, refreshes at most every :data:`~smartcity.ioc.contracts.REFRESH_SECONDS`;
* starts *clearing* on the first ended sample and clears once it has stayed ended for ``clearFor``; a value
  between ``clear`` and the threshold neither clears nor re-fires, so values hovering at the threshold do not flap.

Times: a sample carries its event time (``at``: when it was observed) and when the engine received it
(``arrived``, the engine's clock). A timer measures how long a condition has held as the last sample's event time
plus the time the engine has waited since it arrived, so live data, a replay faster than real time and a
back-test all measure durations in the data's own time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from smartcity.ioc.contracts import REFRESH_SECONDS

IDLE, PENDING, FIRING, CLEARING = "idle", "pending", "firing", "clearing"
REFRESH = timedelta(seconds=REFRESH_SECONDS)


@dataclass(frozen=True)
class Sample:
    subject: str
    value: Any
    at: datetime  # event time
    arrived: datetime  # engine clock
    subject_type: str | None = None
    location: dict[str, Any] | None = None
    ward: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Transition:
    """A verdict to send: ``firing`` True (raised or refreshed) or False (ended)."""

    firing: bool
    at: datetime
    sample: Sample
    started: datetime  # when the episode fired
    peak: Any = None
    refresh: bool = False


@dataclass
class State:
    phase: str = IDLE
    since: datetime | None = None  # pending since / clearing since
    fired_at: datetime | None = None
    refreshed_at: datetime | None = None
    last: Sample | None = None
    peak: Any = None


@dataclass
class Tracker:
    for_s: float
    clear_for_s: float
    peak_of: str = "last"  # "max", "min" or "last": which value an episode reports as its peak
    refresh: timedelta = REFRESH
    states: dict[str, State] = field(default_factory=dict)
    timed: set[str] = field(default_factory=set)  # subjects pending or clearing

    @property
    def firing(self) -> int:
        return sum(1 for s in self.states.values() if s.phase in (FIRING, CLEARING))

    def update(self, sample: Sample, holds: bool, ended: bool) -> Transition | None:
        """Feed one sample; ``ended`` must be True whenever ``holds`` is False and the value is past the
        hysteresis (without hysteresis: ``ended == not holds``)."""
        state = self.states.get(sample.subject)
        if state is None:
            if not holds:
                return None
            state = self.states[sample.subject] = State()
        state.last = sample
        at = sample.at
        if state.phase == IDLE:
            if not holds:
                self._drop(sample.subject, state)
                return None
            state.phase, state.since, state.peak = PENDING, at, sample.value
            self.timed.add(sample.subject)
        elif state.phase == PENDING:
            if not holds:
                self._drop(sample.subject, state)
                return None
            state.peak = self._peak(state.peak, sample.value)
        elif state.phase in (FIRING, CLEARING):
            if ended:
                if state.phase == FIRING:
                    state.phase, state.since = CLEARING, at
                    self.timed.add(sample.subject)
                assert state.since is not None
                if (at - state.since).total_seconds() >= self.clear_for_s:
                    return self._clear(sample.subject, state, state.since + timedelta(seconds=self.clear_for_s))
                return None
            if state.phase == CLEARING:
                state.phase, state.since = FIRING, None
                self.timed.discard(sample.subject)
            if holds:
                state.peak = self._peak(state.peak, sample.value)
            if holds and state.refreshed_at is not None and at - state.refreshed_at >= self.refresh:
                state.refreshed_at = at
                assert state.fired_at is not None
                return Transition(True, at, sample, state.fired_at, state.peak, refresh=True)
            return None
        assert state.phase == PENDING and state.since is not None
        if (at - state.since).total_seconds() >= self.for_s:
            return self._fire(sample.subject, state, max(at, state.since + timedelta(seconds=self.for_s)))
        return None

    def due(self, now: datetime) -> list[Transition]:
        """Pending conditions that have now held for ``for`` and clearings that have lasted ``clearFor``, with no
        new sample (``now`` is the engine's clock)."""
        out: list[Transition] = []
        for subject in list(self.timed):
            state = self.states.get(subject)
            if state is None or state.last is None or state.since is None:
                self.timed.discard(subject)
                continue
            virtual = state.last.at + (now - state.last.arrived)
            if state.phase == PENDING and (virtual - state.since).total_seconds() >= self.for_s:
                out.append(self._fire(subject, state, state.since + timedelta(seconds=self.for_s)))
            elif state.phase == CLEARING and (virtual - state.since).total_seconds() >= self.clear_for_s:
                out.append(self._clear(subject, state, state.since + timedelta(seconds=self.clear_for_s)))
        return out

    def end(self, subject: str, at: datetime) -> Transition | None:
        """The subject is gone (entity deleted, rule switched off): clear it at once if it was firing."""
        state = self.states.pop(subject, None)
        self.timed.discard(subject)
        if state is None or state.phase not in (FIRING, CLEARING) or state.last is None:
            return None
        assert state.fired_at is not None
        return Transition(False, at, state.last, state.fired_at, state.peak)

    def end_all(self, at: datetime) -> list[Transition]:
        return [t for subject in list(self.states) if (t := self.end(subject, at)) is not None]

    def restore(self, sample: Sample, fired_at: datetime) -> None:
        """Take up a subject that was firing before the platform restarted (its end is then noticed)."""
        self.states[sample.subject] = State(FIRING, None, fired_at, sample.at, sample, sample.value)

    def _fire(self, subject: str, state: State, at: datetime) -> Transition:
        assert state.last is not None
        state.phase, state.since, state.fired_at, state.refreshed_at = FIRING, None, at, at
        self.timed.discard(subject)
        return Transition(True, at, state.last, at, state.peak)

    def _clear(self, subject: str, state: State, at: datetime) -> Transition:
        assert state.last is not None and state.fired_at is not None
        self._drop(subject, state)
        return Transition(False, at, state.last, state.fired_at, state.peak)

    def _drop(self, subject: str, state: State) -> None:
        self.states.pop(subject, None)
        self.timed.discard(subject)

    def _peak(self, old: Any, new: Any) -> Any:
        if self.peak_of == "last" or not _num(old) or not _num(new):
            return new
        return max(old, new) if self.peak_of == "max" else min(old, new)


def _num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
