"""The outbox wake-up: coalesced while pending, never lost after it was taken."""

from __future__ import annotations

import asyncio
import threading

from smartcity.hub.notify.wakeup import Wakeup


def test_a_burst_of_signals_from_threads_wakes_the_waiter_once_and_later_signals_wake_it_again() -> None:
    async def scenario() -> list[bool]:
        signal = Wakeup()
        signal.bind()
        loop = asyncio.get_running_loop()
        scheduled = 0
        original = loop.call_soon_threadsafe

        def counting(*args: object, **kwargs: object) -> object:
            nonlocal scheduled
            scheduled += 1
            return original(*args, **kwargs)  # type: ignore[arg-type]

        loop.call_soon_threadsafe = counting  # type: ignore[method-assign]
        burst = [threading.Thread(target=lambda: [signal.set() for _ in range(200)]) for _ in range(4)]
        for thread in burst:
            thread.start()
        for thread in burst:
            thread.join()
        results = [await signal.wait(1.0), await signal.wait(0.05)]  # one wake-up for the burst, then nothing
        assert scheduled == 1
        later = threading.Thread(target=signal.set)
        later.start()
        later.join()
        results.append(await signal.wait(1.0))  # a signal after the waiter took the last one is not lost
        signal.unbind()
        return results

    assert asyncio.run(scenario()) == [True, False, True]
