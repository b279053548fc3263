"""Garbage-collector tuning for the long-running commands (`kube-lite server`, `up`) and, when
they opt in, for embedding programs (`Cluster(tune_gc=True)` or `with gc_tuned():`).

The watch cache holds every object as Python dicts; with tens of thousands of objects, CPython's
full collections walk all of them and pause the event loop for hundreds of milliseconds, which
is what the API's p99 latency then shows (at 30,000 pods the default collector took about half
of the process's CPU). The cache's objects are acyclic and long-lived, so after each full
collection the survivors are moved to the permanent generation (`gc.freeze`): later collections
only look at what is new. Cycles among frozen objects are never reclaimed; the store creates
none.

Embedding applications keep their own GC policy unless they ask: the CLI calls `tune_gc()`; an
embedding program may use `gc_tuned()`, which restores the thresholds and unfreezes on exit.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Any

THRESHOLDS = (50_000, 20, 100)


def _freeze_after_full_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()


def tune_gc() -> None:
    """Collect less often and freeze what survives full collections."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    if _freeze_after_full_collection not in gc.callbacks:
        gc.callbacks.append(_freeze_after_full_collection)


def untune_gc(thresholds: tuple[int, int, int]) -> None:
    """Undo `tune_gc`: the given thresholds back, nothing frozen any more, no callback."""
    with contextlib.suppress(ValueError):
        gc.callbacks.remove(_freeze_after_full_collection)
    gc.set_threshold(*thresholds)
    gc.unfreeze()


@contextlib.contextmanager
def gc_tuned() -> Iterator[None]:
    """`tune_gc()` for the duration of the block (an embedding program's opt-in); on exit the
    previous thresholds come back and the frozen objects are collectable again. Does nothing
    if the collector is tuned already (by the CLI, or an enclosing block)."""
    if _freeze_after_full_collection in gc.callbacks:
        yield
        return
    thresholds = gc.get_threshold()
    tune_gc()
    try:
        yield
    finally:
        untune_gc(thresholds)
