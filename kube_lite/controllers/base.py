"""What every controller shares: informers that only enqueue keys, a rate-limited workqueue,
and workers that call `reconcile(key)`, in the manner of sample-controller.

A subclass sets up its informers in `__init__` (through `self.informer(...)`), maps events to
keys in handlers, and implements `reconcile(key)`: read the caches, converge, return None (done)
or a float (look again after that many seconds); an exception requeues with backoff.

Informers come from a `SharedInformerFactory`: the controller manager passes one factory to
every controller (`informers=`), so that all controllers watching pods share one cache and one
watch, and runs it. A controller built without one makes its own and runs it in `run()`.
"""

from __future__ import annotations

from typing import Any

import anyio
import structlog

from kube_lite.client.client import Client
from kube_lite.client.events import EventRecorder, EventSink
from kube_lite.client.informer import Informer, SharedInformerFactory
from kube_lite.client.workqueue import WorkQueue, run_workers
from kube_lite.clock import Clock, RealClock


class Controller:
    """Base of the controllers: owns its queue and workers; its informers are shared."""

    name = "controller"
    #: The source component of this controller's Events, Kubernetes' name for it.
    event_source = "controller"
    workers = 2

    def __init__(
        self,
        client: Client,
        clock: Clock | None = None,
        recorder: EventRecorder | None = None,
        *,
        informers: SharedInformerFactory | None = None,
    ) -> None:
        self.client = client
        self.clock = clock or RealClock()
        # The manager's one recorder, recording as this controller's source component.
        self.recorder: EventSink | None = recorder.named(self.event_source) if recorder is not None else None
        self.queue: WorkQueue[str] = WorkQueue(clock=self.clock, name=self.name)
        self._owns_factory = informers is None
        self.informer_factory = informers if informers is not None else SharedInformerFactory(client, clock=self.clock)
        # The informers this controller reads (and waits for before its workers start).
        self.informers: list[Informer] = []
        self.log = structlog.get_logger(f"kube_lite.controllers.{self.name}")

    def informer(self, kind: str, **options: Any) -> Informer:
        """The shared informer of `kind` (options: namespace, label_selector, field_selector)."""
        informer = self.informer_factory.informer(kind, **options)
        if all(informer is not known for known in self.informers):
            self.informers.append(informer)
        return informer

    def _event(self, obj: dict[str, Any], type_: str, reason: str, message: str) -> None:
        """Record an Event about `obj` through the recorder the controller was given (the
        manager's one recorder, source component `event_source`); none: not recorded."""
        if self.recorder is not None:
            self.recorder.event(obj, type_, reason, message)

    async def reconcile(self, key: str) -> float | None:
        raise NotImplementedError

    def enqueue(self, key: str) -> None:
        self.queue.add(key)

    @property
    def idle(self) -> bool:
        return self.queue.is_idle()

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Wait for the informers' caches (running them first if the factory is this
        controller's own), then run the workers until cancelled."""
        async with anyio.create_task_group() as tg:
            if self._owns_factory:
                await tg.start(self.informer_factory.run)
            for informer in self.informers:
                await informer.wait_synced()
            task_status.started()
            try:
                await run_workers(self.queue, self.workers, self.reconcile, clock=self.clock)
            finally:
                tg.cancel_scope.cancel()
