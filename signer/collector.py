"""``collector_paused``: Python's cyclic garbage collector held off while one request is handled."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while one request is decoded, prepared or decided.

    A batch keeps every item's decoded request, review and verdict alive, and every decision,
    audit field and entry until the log is written: tens of thousands of new objects, which
    make the collector run collections over the objects in the process (the prepared request,
    the registries, the UI), full ones included, several times per batch, for nothing, since
    none of them is garbage. Reference counting still frees everything else at once; the
    collector runs again when the request is done, and the memory it may have to reclaim then
    is bounded by one request (intake caps its parts and sizes). The previous state is
    restored, so a caller that had disabled the collector keeps it disabled.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
