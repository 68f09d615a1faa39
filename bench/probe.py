"""How fast the machine is right now, for the figures' context.

On a shared machine the same code measures two or three times slower when other work
takes the cores. Each benchmark prints the time of a fixed pure-Python loop next to its
figures, before and after: compare runs only when those agree.
"""

import time

#: The loop: summing ten million integers (about 100-300 ms on the development machine).
LOOP = 10_000_000


def reference_ms() -> float:
    """The best of three runs of the reference loop, in milliseconds (lower is faster)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        sum(range(LOOP))
        best = min(best, time.perf_counter() - started)
    return best * 1000
