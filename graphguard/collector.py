"""Pausing Python's cyclic garbage collector while many acyclic objects are made.

Reading a big dataset, compiling the scrubber's pattern of some 50k values, and reading
a town for analysis each make millions of small objects with no reference cycles among
them.  Each collection of the oldest generation walks every object alive, so with the
collector running those steps spend most of their time collecting nothing.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector in the ``with`` block (if it was running)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
