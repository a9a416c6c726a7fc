"""The wait before the next try of a call to a warehouse or a store, one rule for all of
fulfilment: doubling from `first` up to `cap`, each wait ±25 % at random so the calls
that failed together do not come back together, and never shorter than the other side's
Retry-After."""

import random
from datetime import timedelta


def backoff(attempt: int, *, first: timedelta, cap: timedelta, retry_after: float | None = None, rng=None) -> timedelta:
    rng = rng or random
    base = min(first * (2 ** max(attempt - 1, 0)), cap)
    wait = base * rng.uniform(0.75, 1.25)
    if retry_after:
        wait = max(wait, timedelta(seconds=float(retry_after)))
    return wait
