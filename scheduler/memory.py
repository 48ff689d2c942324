"""The cyclic garbage collector, paused around the application's large, short-lived work.

Evaluating an agency allocates about a million small acyclic tuples; each allocation burst
triggers collections that rescan everything alive, which cost more than the work itself
(3.1 s against 1.8 s at 100,000 employees).  Whether the collector runs is a choice for the
whole process, so it is made here, by the callers that know how large their work is (the
tick, the matrix, the digest, the simulation, the sheets), never inside the pure engine.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while results are built, and restore its previous
    state after.  Nothing built under it should form a cycle: such garbage waits for the
    next collection after the pause."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
