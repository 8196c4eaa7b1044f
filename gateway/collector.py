"""The cycle-collector policy of a gateway process (``edigate serve`` applies it at start-up).

CPython's cycle collector runs a young collection whenever the tracked containers
(objects that can hold references: model instances, lists, dicts, sets ...) allocated
since the last one, less those freed, pass the young threshold: 700 by default. Mapping
one 50-line purchase order holds about 1,300 of them at once (the order's five models a
line, their field sets and their empty lists) and frees them when the next order
replaces it. At 700, every order therefore triggers a young collection while it is
being built; the collections move the order's live objects to the older generations,
and those promotions trigger full collections, each of which walks every container of
the process (for a 2,000-order interchange, the ~340,000 parsed segments as well). That
was about 0.25 ms per order, a quarter of the mapping time (``docs/benchmarks.md``).

With the young threshold at :data:`YOUNG_THRESHOLD`, a whole order is built and freed
between two young collections, so little is promoted and full collections become rare.
Nothing else changes: reference counting still frees everything that is not in a cycle
at once, and cyclic garbage is still collected, after at most that many net new
containers (a few MB at worst). The older generations keep the interpreter's thresholds.
"""

from __future__ import annotations

import gc

__all__ = ["YOUNG_THRESHOLD", "tune_collector"]

#: Young-generation threshold of a gateway process (CPython's default is 700).
YOUNG_THRESHOLD = 10_000


def tune_collector() -> tuple[int, int, int]:
    """Raise the young-generation threshold of this process to :data:`YOUNG_THRESHOLD`; returns the
    thresholds in force. A higher threshold, or 0 (automatic collection turned off), is kept."""
    young, middle, old = gc.get_threshold()
    if 0 < young < YOUNG_THRESHOLD:
        gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    return gc.get_threshold()
