"""The controller manager: every controller, run only while this instance leads.

Several managers may run against one API server (HA); a Lease in kube-system decides which one
acts. The controllers' caches and queues are rebuilt on each win, as Kubernetes' manager does by
restarting.

As in kube-controller-manager, the controllers share one `SharedInformerFactory` (one informer,
one cache and one watch per kind, whichever controllers read it) and one event recorder (one
correlator, one writer), through which each controller records as its own source component
(`replicaset-controller`, `deployment-controller`, ...), as `kubectl describe` shows them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

import anyio
import structlog

from kube_lite.client.client import Client
from kube_lite.client.events import EventRecorder
from kube_lite.client.informer import SharedInformerFactory
from kube_lite.client.leaderelection import LeaderElector
from kube_lite.clock import Clock, RealClock
from kube_lite.controllers.base import Controller
from kube_lite.controllers.cronjob import CronJobController
from kube_lite.controllers.daemonset import DaemonSetController
from kube_lite.controllers.deployment import DeploymentController
from kube_lite.controllers.garbagecollector import GarbageCollector
from kube_lite.controllers.job import JobController, TTLAfterFinishedController
from kube_lite.controllers.namespace import NamespaceController
from kube_lite.controllers.nodeipam import NodeIPAMController
from kube_lite.controllers.replicaset import ReplicaSetController, ReplicationManager
from kube_lite.controllers.statefulset import StatefulSetController

log = structlog.get_logger(__name__)

COMPONENT = "kube-controller-manager"


class ControllerFactory(Protocol):
    """Builds one controller (a controller class is one): the manager's client, clock, event
    recorder and shared informers."""

    def __call__(
        self, client: Client, clock: Clock, recorder: EventRecorder, /, *, informers: SharedInformerFactory,
    ) -> Controller: ...


def default_controllers(
    cluster_cidr: str = "10.244.0.0/16", node_cidr_mask_size: int = 24, *, exclude: Collection[str] = ()
) -> list[ControllerFactory]:
    """The controllers kube-lite runs, as factories (a fresh set per leadership term), minus
    those named in `exclude` (e.g. a test that drives one controller itself)."""

    named: list[tuple[str, ControllerFactory]] = [
        ("nodeipam", lambda c, k, r, *, informers: NodeIPAMController(
            c, k, r, cluster_cidr=cluster_cidr, node_cidr_mask_size=node_cidr_mask_size, informers=informers)),
        ("replicaset", ReplicaSetController),
        ("replicationcontroller", ReplicationManager),
        ("deployment", DeploymentController),
        ("garbagecollector", GarbageCollector),
        ("namespace", NamespaceController),
        ("job", JobController),
        ("ttl-after-finished", TTLAfterFinishedController),
        ("cronjob", CronJobController),
        ("daemonset", DaemonSetController),
        ("statefulset", StatefulSetController),
    ]
    unknown = set(exclude) - {name for name, _ in named}
    if unknown:
        raise ValueError(f"unknown controllers: {', '.join(sorted(unknown))}")
    return [factory for name, factory in named if name not in exclude]


class ControllerManager:
    def __init__(
        self,
        client: Client,
        identity: str,
        *,
        clock: Clock | None = None,
        factories: Sequence[ControllerFactory] | None = None,
        leader_elect: bool = True,
    ) -> None:
        self.client = client
        self.identity = identity
        self.clock = clock or RealClock()
        self.factories = list(factories) if factories is not None else default_controllers()
        self.leader_elect = leader_elect
        self.controllers: list[Controller] = []
        self.informers: SharedInformerFactory | None = None
        self.recorder = EventRecorder(client, COMPONENT, clock=self.clock)
        self.leading = anyio.Event()

    @property
    def idle(self) -> bool:
        return all(c.idle for c in self.controllers) and self.recorder.pending == 0

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        async with anyio.create_task_group() as tg:
            await tg.start(self.recorder.run)
            if not self.leader_elect:
                await self._lead(task_status)
                return
            elector = LeaderElector(self.client, "kube-system", "kube-controller-manager", self.identity, self.clock)
            task_status.started()
            await elector.run(self._lead)

    async def _lead(self, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        informers = self.informers = SharedInformerFactory(self.client, clock=self.clock)
        self.controllers = [factory(self.client, self.clock, self.recorder, informers=informers) for factory in self.factories]
        try:
            async with anyio.create_task_group() as tg:
                # Every controller's informers are registered by now: start them all at once
                # (each controller waits for its own caches before its workers start).
                await tg.start(informers.run)
                for controller in self.controllers:
                    await tg.start(controller.run)
                self.leading.set()
                log.info("controllers running", controllers=[c.name for c in self.controllers])
                task_status.started()
                await anyio.sleep_forever()
        finally:
            self.leading = anyio.Event()
            self.controllers = []
            self.informers = None
