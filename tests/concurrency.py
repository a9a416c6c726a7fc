"""Running work in threads that start together, for the race tests on PostgreSQL."""

import threading

from django.db import connection


def together(*works) -> list:
    """Call each of `works` in its own thread, all released at once; their results in the
    same order, an exception standing where one was raised (each thread closes its own
    database connection)."""
    barrier = threading.Barrier(len(works))
    results: list = [None] * len(works)

    def run(index, work):
        try:
            barrier.wait(timeout=10)
            results[index] = work()
        except Exception as exc:  # noqa: BLE001 (the caller looks at what each thread met)
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, work)) for i, work in enumerate(works)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
