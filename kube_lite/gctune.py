"""Garbage-collector tuning for the long-running commands (`kube-lite server`, `up`).

The watch cache holds every object as Python dicts; with tens of thousands of objects, CPython's
full collections walk all of them and pause the event loop for hundreds of milliseconds, which
is what the API's p99 latency then shows. The cache's objects are acyclic and long-lived, so
after each full collection the survivors are moved to the permanent generation (`gc.freeze`):
later collections only look at what is new. Cycles among frozen objects are never reclaimed;
the store creates none. Embedding applications keep their own GC policy: only the CLI calls
this.
"""

from __future__ import annotations

import gc
from typing import Any


def _freeze_after_full_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()


def tune_gc() -> None:
    """Collect less often and freeze what survives full collections."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    if _freeze_after_full_collection not in gc.callbacks:
        gc.callbacks.append(_freeze_after_full_collection)
