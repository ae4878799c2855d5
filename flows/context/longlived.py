"""What a process has loaded when its first cycle starts lives as long as the process: it is
frozen out of the garbage collector's sight once, so no later collection walks it again.

Python's full collection visits every object the collector tracks, and a process that has
loaded Prefect (its client, and its API when it runs in the process), SQLAlchemy, httpx and
feedparser tracks some 370,000: a full collection took ~0.2 CPU-s, and one came every 2-4
no-change cycles over 1,000 feeds (an object alive during a younger collection moves to the
oldest generation, however short its life, and a full collection comes once those add up to a
quarter of it). Frozen (`gc.freeze`), they are left out: a full collection then took ~4 ms.

Once per process, not once per cycle: a frozen object is never collected as cyclic garbage,
so freezing at the first cycle keeps at most what was garbage at that moment (a bounded
amount, once), whereas freezing at every cycle would keep, each time, what that cycle left
behind for good. `serve`'s forkserver freezes what it loaded itself (`flows.serving.warm`).
"""

from __future__ import annotations

import gc
import threading

_lock = threading.Lock()
_frozen = False


def freeze_loaded() -> None:
    """Freeze every object tracked now, the first time it is called in this process."""
    global _frozen
    with _lock:
        if not _frozen:
            gc.freeze()
            _frozen = True
