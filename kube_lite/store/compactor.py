"""Periodic compaction on the injected clock, the way the Kubernetes API server compacts etcd.

Every `interval` seconds the compactor compacts to the revision that was current one interval
earlier, so that between one and two intervals of history stay readable and watchable (five
minutes by default, as in Kubernetes) while the store's size stays bounded under steady churn.
"""

from __future__ import annotations

from typing import Protocol

import structlog

from kube_lite.clock import Clock
from kube_lite.store.backend import StoreError

DEFAULT_COMPACT_INTERVAL = 300.0

log = structlog.get_logger(__name__)


class _Compactable(Protocol):
    async def current_revision(self) -> int: ...

    async def compact_revision(self) -> int: ...

    async def compact(self, revision: int) -> None: ...


async def run_periodic_compaction(clock: Clock, interval: float, backend: _Compactable) -> None:
    """Compact `backend` every `interval` seconds of `clock` time, forever (cancel to stop).

    A failed compaction is logged and retried at the next tick: it never ends the loop.
    """
    previous: int | None = None
    while True:
        await clock.sleep(interval)
        current = await backend.current_revision()
        if previous is not None and previous > await backend.compact_revision():
            try:
                await backend.compact(previous)
            except StoreError as exc:  # e.g. the revision went back after a restore
                log.warning("periodic compaction failed", revision=previous, error=str(exc))
        previous = current
