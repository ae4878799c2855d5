"""A one-off command's process collects cyclic garbage in larger steps than Python's default.

Python runs a young collection every 700 net allocations of tracked objects, and every tenth
of those a middle one; an object alive at a young collection moves on, however short its life,
and a full collection comes once those add up to a quarter of what the oldest generation holds.
A first poll of 1,000 feeds (`watchfloor run`: parsing, storing, detecting and Prefect's API
in one process) allocates tens of millions of objects that live for one article or one feed:
at the default it ran ~1,770 young, ~160 middle and ~13 full collections, 0.9-1.2 CPU-s of
its thread time (gc.callbacks, 2 runs each), and the full ones walked every object the process
had loaded. With a young collection every FIRST_GENERATION_EVERY allocations, the same poll
ran 16-18 young collections, one middle and no full one: 0.3-0.4 CPU-s.

`watchfloor replay` does the same from its start: a whole-process replay of 10,000 seed files
took 15.6 -> 14.8 and 16.7 -> 15.9 CPU-s (medians of 4, two A/B series at load 1.5-6.7;
with the detection queue's one-statement take, whose own share is ~0.06 CPU-s), peak RSS
282 -> 287 MB.

What is cyclic garbage waits longer to be freed: at most about FIRST_GENERATION_EVERY young
objects (a few MB); peak RSS of that poll moved by less than its run-to-run spread (330-355 MB
both ways). A process that keeps running (`serve`) keeps the defaults: its cycles are small,
and `flows.context.longlived` freezes what it loaded instead.
"""

from __future__ import annotations

import gc

FIRST_GENERATION_EVERY = 50_000
# Python's own ratios between generations: a middle collection every 10 young ones, and so on.
OLDER_GENERATIONS_EVERY = (10, 10)


def collect_in_larger_steps() -> None:
    """Collect the youngest generation every FIRST_GENERATION_EVERY allocations, for the rest
    of this process."""
    gc.set_threshold(FIRST_GENERATION_EVERY, *OLDER_GENERATIONS_EVERY)
