"""What every controller shares: informers that only enqueue keys, a rate-limited workqueue,
and workers that call `reconcile(key)`, in the manner of sample-controller.

A subclass sets up its informers in `__init__` (through `self.informer(...)`), maps events to
keys in handlers, and implements `reconcile(key)`: read the caches, converge, return None (done)
or a float (look again after that many seconds); an exception requeues with backoff.
"""

from __future__ import annotations

from typing import Any

import anyio
import structlog

from kube_lite.client.client import Client
from kube_lite.client.events import EventRecorder
from kube_lite.client.informer import Informer
from kube_lite.client.workqueue import WorkQueue, run_workers
from kube_lite.clock import Clock, RealClock


class Controller:
    """Base of the controllers: owns its informers, queue and workers."""

    name = "controller"
    workers = 2

    def __init__(self, client: Client, clock: Clock | None = None, recorder: EventRecorder | None = None) -> None:
        self.client = client
        self.clock = clock or RealClock()
        self.recorder = recorder
        self.queue: WorkQueue[str] = WorkQueue(clock=self.clock)
        self.informers: list[Informer] = []
        self.log = structlog.get_logger(f"kube_lite.controllers.{self.name}")

    def informer(self, kind: str, **options: Any) -> Informer:
        informer = Informer(self.client, kind, clock=self.clock, **options)
        self.informers.append(informer)
        return informer

    async def reconcile(self, key: str) -> float | None:
        raise NotImplementedError

    def enqueue(self, key: str) -> None:
        self.queue.add(key)

    @property
    def idle(self) -> bool:
        return self.queue.is_idle()

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Start the informers, wait for their caches, then run the workers until cancelled."""
        async with anyio.create_task_group() as tg:
            for informer in self.informers:
                tg.start_soon(informer.run)
            for informer in self.informers:
                await informer.wait_synced()
            task_status.started()
            try:
                await run_workers(self.queue, self.workers, self.reconcile, clock=self.clock)
            finally:
                tg.cancel_scope.cancel()
