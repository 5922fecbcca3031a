"""The one thread the signer core lives on.

The core's nonce ledger and limits store are SQLite connections, which may only be used on
the thread that opened them. Textual runs each thread worker on a thread of its own, so the
workers hand every core call to this single thread and wait for it; the UI thread never does.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

_T = TypeVar("_T")


class CoreThread:
    """Runs calls one at a time, in order, on one long-lived thread."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coldsign-core")

    def call(self, function: Callable[[], _T]) -> _T:
        """Run ``function`` on the core thread and return its result (or raise its error).

        Call it from a worker thread: it blocks until the core thread is done.
        """
        return self._executor.submit(function).result()

    def shutdown(self) -> None:
        """Finish what was submitted and stop the thread."""
        self._executor.shutdown(wait=True)
