"""When a failed notification is tried again: exponential backoff with jitter, capped."""

from __future__ import annotations

import random

#: the delay after the first failure (seconds); it doubles with each further failure
BASE_DELAY = 0.5


def retry_delay(attempts: int, max_backoff: float, rng: random.Random | None = None) -> float:
    """Seconds to wait after the ``attempts``-th failed try (1 for the first): base·2^(attempts-1), capped.

    The jitter takes the delay at random between half of it and all of it, so that the notifications of one
    receiver that failed together do not all come back in the same instant.
    """
    delay = min(max_backoff, BASE_DELAY * 2.0 ** min(max(attempts, 1) - 1, 60))
    return delay * (0.5 + 0.5 * (rng or random).random())
