"""Orders pulled from the stores' platforms: every rule of the scheduled pull here.

- lease.py: at most one worker pulls a store at a time;
- sweep.py: which stores are due, beat's sweep, [Sync now];
- run.py: one pull of one store, page by page, the cursor moved only after commit.
"""

from .lease import LEASE, LeaseLost, lease_acquire, lease_release, lease_renew
from .run import FIRST_PULL_WINDOW, OVERLAP, pull_run_execute
from .sweep import QUEUE_STALE, SWEEP_LIMIT, pull_request, pull_run_redelivered, pull_sweep, stores_due

__all__ = [
    "FIRST_PULL_WINDOW",
    "LEASE",
    "OVERLAP",
    "QUEUE_STALE",
    "SWEEP_LIMIT",
    "LeaseLost",
    "lease_acquire",
    "lease_release",
    "lease_renew",
    "pull_request",
    "pull_run_redelivered",
    "pull_run_execute",
    "pull_sweep",
    "stores_due",
]
