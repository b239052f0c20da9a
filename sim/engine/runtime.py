"""How the model runs in a process: fewer garbage collections while a run allocates.

Imports only the standard library, so the command line can import it at no cost.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

#: objects allocated (net) between two collections of the youngest generation while a
#: replication runs; Python's default is 700
GC_THRESHOLD = 50_000
_gc_lock = threading.Lock()
_gc_depth = 0
_gc_saved: tuple[int, ...] = ()


@contextlib.contextmanager
def few_collections(threshold: int = GC_THRESHOLD) -> Iterator[None]:
    """Collect cyclic garbage less often while a replication runs; restored afterwards.

    A replication allocates millions of small objects that live until it ends (the status
    log, the calls, SimPy's events) and almost no cyclic garbage. With Python's default
    threshold the collector runs every 700 allocations and scans them again and again:
    about a third of a run's time. Every object is freed as before (reference counting; the
    collector still runs, less often), so results are unchanged. Nested and concurrent uses
    (Dask worker threads) share one setting, restored when the last one ends.
    """
    global _gc_depth, _gc_saved
    with _gc_lock:
        if _gc_depth == 0:
            _gc_saved = gc.get_threshold()
            gc.set_threshold(max(threshold, _gc_saved[0]), *_gc_saved[1:])
        _gc_depth += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0:
                gc.set_threshold(*_gc_saved)
