"""The Scheduler component: informers in, bindings, status updates and events out.

    scheduler = Scheduler(client, clock)
    async with anyio.create_task_group() as tg:
        await tg.start(scheduler.run)       # returns once the informers have synced
        ...
        scheduler.idle                      # nothing queued for now, nothing in flight

It is a client of the API like any other: informers on nodes, pods (not finished ones, as
kube-scheduler watches them), PriorityClasses, namespaces (for namespaceSelector) and
PodDisruptionBudgets feed the cache and the queue; handlers only update those and move pods
between pools. One task runs the scheduling cycles, one pod at a time: pop the highest-priority
pod, run the framework on the cache (which cannot change during the synchronous cycle, so it is
the snapshot), assume the pod on the chosen node and hand the binding to a pool of binder tasks,
so the next cycle starts at once. A binding that fails un-assumes the pod and requeues it.

A pod no node takes gets PostFilter (preemption), a FailedScheduling event with Kubernetes'
message, and its PodScheduled condition set to False/Unschedulable with the same message
(patched on the status subresource, only when it changes), and waits in the queue.

Priority: the API server does not run Priority admission, so the scheduler resolves a pod's
priority itself: spec.priority when set, else its priorityClassName's value (the two system
classes are built in), else the globalDefault PriorityClass's value, else 0.

Pods whose spec.schedulerName is not one of `profiles` are ignored (another scheduler's, or a
person's with `kubectl create binding`); pods with spec.nodeName set are never scheduled but
count on their node.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.lowlevel
import structlog
from anyio.abc import TaskStatus

from kube_lite.api.errors import APIError
from kube_lite.client.client import Client
from kube_lite.client.events import NORMAL, WARNING, EventRecorder
from kube_lite.client.informer import Informer, object_key
from kube_lite.clock import Clock
from kube_lite.scheduler.cache import DEFAULT_ASSUME_TTL, SchedulerCache
from kube_lite.scheduler.framework import FitError, Framework, NoNodesAvailable
from kube_lite.scheduler.plugin import (
    NAMESPACE_CHANGE,
    NODE_ADD,
    NODE_ALLOCATABLE,
    NODE_DELETE,
    NODE_LABEL,
    NODE_TAINT,
    POD_ADD,
    POD_DELETE,
    POD_UPDATE,
    WILDCARD,
    Plugin,
)
from kube_lite.scheduler.plugins import default_plugins
from kube_lite.scheduler.podinfo import DEFAULT_SCHEDULER_NAME, PodInfo, scheduling_inputs_changed
from kube_lite.scheduler.preemption import DisruptionBudget, preempt
from kube_lite.scheduler.queue import (
    BACKOFF_FLUSH_INTERVAL,
    UNSCHEDULABLE_FLUSH_INTERVAL,
    Nominator,
    QueuedPodInfo,
    SchedulingQueue,
)

log = structlog.get_logger(__name__)

# The two classes every cluster has (Kubernetes creates them at startup).
SYSTEM_PRIORITY_CLASSES = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}
POD_PHASE_SELECTOR = "status.phase!=Succeeded,status.phase!=Failed"
DEFAULT_BIND_WORKERS = 16
DEFAULT_STATUS_WORKERS = 4


def _rfc3339(clock: Clock) -> str:
    return clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")


class Scheduler:
    """kube-scheduler for kube-lite; see the module doc.

    `profiles`: the scheduler names this scheduler answers for (one plugin set for all).
    `percentage_of_nodes_to_score`: None or 0 for Kubernetes' adaptive default.
    `record_events`: turn off the Scheduled/FailedScheduling events (benchmarks of the bare
    path; Kubernetes always records them).
    """

    def __init__(
        self,
        client: Client,
        clock: Clock,
        profiles: tuple[str, ...] = (DEFAULT_SCHEDULER_NAME,),
        percentage_of_nodes_to_score: int | None = None,
        *,
        plugins: list[Plugin] | None = None,
        rng: random.Random | None = None,
        bind_workers: int = DEFAULT_BIND_WORKERS,
        assume_ttl: float = DEFAULT_ASSUME_TTL,
        record_events: bool = True,
    ) -> None:
        self.client = client
        self.clock = clock
        self.profiles = tuple(profiles)
        self.rng = rng or random.Random()
        self.framework = Framework(plugins if plugins is not None else default_plugins(), percentage_of_nodes_to_score, self.rng)
        self.cache = SchedulerCache(assume_ttl)
        self.queue = SchedulingQueue(clock, plugin_events=self.framework.plugin_events)
        self.nominator = Nominator()
        self.record_events = record_events
        self.recorders = {name: EventRecorder(client, component=name, clock=clock, buffer=10_000) for name in self.profiles}
        self.nodes = Informer(client, "nodes", clock=clock)
        self.pods = Informer(client, "pods", field_selector=POD_PHASE_SELECTOR, clock=clock)
        self.priority_classes = Informer(client, "priorityclasses.scheduling.k8s.io", clock=clock)
        self.namespaces = Informer(client, "namespaces", clock=clock)
        self.pdbs = Informer(client, "poddisruptionbudgets.policy", clock=clock)
        self.bind_workers = bind_workers
        # Resolved once: naming the kind by string costs a registry lookup per request.
        self._pods_kind = client.kind("pods")
        self._classes: dict[str, dict[str, Any]] = {}
        self._budgets: dict[str, DisruptionBudget] = {}
        self._next_start = 0
        self._bind_send, self._bind_recv = anyio.create_memory_object_stream[tuple[QueuedPodInfo, PodInfo, str, int]](
            float("inf"))
        self._side_send, self._side_recv = anyio.create_memory_object_stream[Callable[[], Awaitable[None]]](float("inf"))
        self._pending_binds = 0
        self._pending_side = 0
        self._cycle_running = False
        self.running = False
        # Counters, for introspection and benchmarks.
        self.scheduled = 0
        self.failed = 0
        self.bind_errors = 0
        self.preemptions = 0
        self._register_handlers()

    # ------------------------------------------------------------------ introspection

    @property
    def idle(self) -> bool:
        """Nothing to schedule now and nothing in flight: no active pod, no cycle, no binding,
        status update, preemption or event under way. Pods may still wait in backoff or as
        unschedulable (a later event or the clock moves them)."""
        return (
            self.running
            and not self._cycle_running
            and self.queue.active_count == 0
            and self.queue.in_flight_count == 0
            and self._pending_binds == 0
            and self._pending_side == 0
            and all(r.pending == 0 for r in self.recorders.values())
        )

    def next_wakeup(self) -> float | None:
        """When (monotonic clock time) the earliest pod in backoff may be retried, if any: a
        settling test on a virtual clock can advance to it."""
        return self.queue.next_backoff_expiry()

    def responsible_for(self, pod: PodInfo) -> bool:
        return pod.scheduler_name in self.profiles

    # ------------------------------------------------------------------ running

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Run until cancelled. Signals `started` once every informer has synced."""
        async with anyio.create_task_group() as tg:
            for recorder in self.recorders.values():
                tg.start_soon(recorder.run)
            informers = (self.priority_classes, self.namespaces, self.pdbs, self.nodes, self.pods)
            for informer in informers:
                tg.start_soon(informer.run)
            for informer in informers:
                await informer.wait_synced()
            # Pods listed before their PriorityClass get their priority again now.
            self._reprioritize()
            for _ in range(self.bind_workers):
                tg.start_soon(self._bind_worker)
            for _ in range(DEFAULT_STATUS_WORKERS):
                tg.start_soon(self._side_worker)
            tg.start_soon(self._housekeeping)
            tg.start_soon(self._schedule_loop)
            self.running = True
            task_status.started()
            try:
                await anyio.sleep_forever()
            finally:
                self.running = False

    async def _schedule_loop(self) -> None:
        while True:
            qpi = await self.queue.pop()
            self._cycle_running = True
            try:
                self.schedule_one(qpi)
            except Exception:  # a bug in one cycle must not stop the scheduler
                log.exception("scheduling cycle failed", pod=qpi.key)
                self.queue.requeue_failed(qpi, (), self.queue.scheduling_cycle)
            finally:
                self._cycle_running = False
            await anyio.lowlevel.checkpoint()

    async def _housekeeping(self) -> None:
        """Kubernetes' periodic flushes: backoff every second, unschedulable leftovers every
        30 s; expired assumed pods every second."""
        last_unschedulable_flush = self.clock.monotonic()
        while True:
            await self.clock.sleep(BACKOFF_FLUSH_INTERVAL)
            now = self.clock.monotonic()
            self.queue.flush_backoff()
            expired = self.cache.cleanup_expired(now)
            for key in expired:
                log.warning("assumed pod expired: its binding never showed up", pod=key)
            if expired:
                self.queue.move_all(POD_DELETE)
            if now - last_unschedulable_flush >= UNSCHEDULABLE_FLUSH_INTERVAL:
                self.queue.flush_unschedulable()
                last_unschedulable_flush = now

    # ------------------------------------------------------------------ one cycle

    def schedule_one(self, qpi: QueuedPodInfo) -> None:
        """One scheduling cycle for a popped pod (synchronous: the cache is the snapshot)."""
        pod = qpi.pod
        cycle = self.queue.scheduling_cycle
        if qpi.deleted or pod.terminating or self.cache.pod(pod.key) is not None:
            self.queue.done(pod.key)  # gone, being deleted, or already assumed/bound
            return
        nodes = self.cache.node_list
        try:
            result = self.framework.schedule(pod, self.cache, self._next_start, self.nominator.by_node)
        except NoNodesAvailable as exc:
            self._failed(qpi, cycle, str(exc), (), reason="SchedulerError")
            return
        except FitError as fit:
            self._next_start = (self._next_start + fit.evaluated) % max(len(nodes), 1)
            self._unschedulable(qpi, cycle, fit)
            return
        self._next_start = (self._next_start + result.evaluated) % max(len(nodes), 1)
        assumed = self.cache.assume_pod(pod, result.node)
        self.nominator.remove(pod.key)
        self.queue.done(pod.key)
        self._pending_binds += 1
        self._bind_send.send_nowait((qpi, assumed, result.node, cycle))

    def _unschedulable(self, qpi: QueuedPodInfo, cycle: int, fit: FitError) -> None:
        """PostFilter (preemption), then the failure handling of an unschedulable pod."""
        pod = qpi.pod
        nominated_node: str | None = None
        clear_nominated = False
        if fit.pre_filter_status is None:
            outcome = preempt(self.framework, fit.states, pod, self.cache, fit.statuses, self.nominator.by_node,
                              list(self._budgets.values()), self.rng)
            if outcome.node is not None:
                nominated_node = outcome.node
                self.preemptions += 1
                self._start_preemption(pod, outcome.node, outcome.victims, outcome.clear_nominated)
            else:
                fit.post_filter_message = outcome.message
                clear_nominated = outcome.eligible and bool(pod.nominated_node_name)
        self._failed(qpi, cycle, fit.message(), fit.unschedulable_plugins, nominated_node=nominated_node,
                     clear_nominated=clear_nominated)

    def _failed(self, qpi: QueuedPodInfo, cycle: int, message: str, plugins: Any, *, reason: str = "Unschedulable",
                nominated_node: str | None = None, clear_nominated: bool = False) -> None:
        """Kubernetes' handleSchedulingFailure: requeue, nominate, record, update the status."""
        self.failed += 1
        pod = qpi.pod
        if nominated_node:
            pod.nominated_node_name = nominated_node
            self.nominator.add(pod, nominated_node)
        elif clear_nominated:
            pod.nominated_node_name = ""
            self.nominator.remove(pod.key)
        self.queue.requeue_failed(qpi, plugins, cycle)
        self._event(pod.obj, pod.scheduler_name, WARNING, "FailedScheduling", message)
        condition = {"type": "PodScheduled", "status": "False", "reason": reason, "message": message}
        self._side(lambda: self._update_status(pod, condition, nominated_node, clear_nominated))

    # ------------------------------------------------------------------ side effects

    def _event(self, obj: dict[str, Any], profile: str, type_: str, reason: str, message: str) -> None:
        if not self.record_events:
            return
        recorder = self.recorders.get(profile) or next(iter(self.recorders.values()))
        recorder.event(obj, type_, reason, message)

    def _side(self, action: Callable[[], Awaitable[None]]) -> None:
        self._pending_side += 1
        self._side_send.send_nowait(action)

    async def _side_worker(self) -> None:
        async for action in self._side_recv:
            try:
                await action()
            except APIError as exc:
                if exc.code != 404:
                    log.warning("scheduler API call failed", error=exc.message)
            except Exception:  # noqa: BLE001 - a failed side effect must not stop the worker
                log.exception("scheduler side effect failed")
            finally:
                self._pending_side -= 1

    async def _update_status(self, pod: PodInfo, condition: dict[str, Any], nominated_node: str | None,
                             clear_nominated: bool) -> None:
        """Patch PodScheduled (and status.nominatedNodeName) unless they already say so."""
        current = self.pods.get(pod.key) or pod.obj
        if (current.get("spec") or {}).get("nodeName") or self.cache.pod(pod.key) is not None:
            return  # scheduled meanwhile (a later cycle, or a person): the failure is old news
        status = current.get("status") or {}
        old = next((c for c in status.get("conditions") or () if c.get("type") == "PodScheduled"), None)
        patch: dict[str, Any] = {}
        same = old is not None and all(old.get(k) == condition[k] for k in ("status", "reason", "message"))
        if not same:
            new = dict(condition)
            new["lastProbeTime"] = None
            keep = old is not None and old.get("status") == condition["status"] and old.get("lastTransitionTime")
            new["lastTransitionTime"] = old["lastTransitionTime"] if keep and old else _rfc3339(self.clock)
            patch["conditions"] = [new]
        if nominated_node and status.get("nominatedNodeName") != nominated_node:
            patch["nominatedNodeName"] = nominated_node
        elif clear_nominated and status.get("nominatedNodeName"):
            patch["nominatedNodeName"] = None
        if not patch:
            return
        await self.client.patch(self._pods_kind, pod.name, {"status": patch}, namespace=pod.namespace,
                                subresource="status", patch_type="strategic")

    def _start_preemption(self, pod: PodInfo, node: str, victims: list[PodInfo], clear: list[PodInfo]) -> None:
        for victim in victims:
            self._side(lambda v=victim: self._evict(pod, v, node))
        for other in clear:
            self.nominator.remove(other.key)
            self._side(lambda o=other: self.client.patch(
                self._pods_kind, o.name, {"status": {"nominatedNodeName": None}}, namespace=o.namespace,
                subresource="status", patch_type="strategic"))

    async def _evict(self, preemptor: PodInfo, victim: PodInfo, node: str) -> None:
        """Mark a victim (DisruptionTarget), delete it, and say why on its events."""
        condition = {
            "type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler",
            "message": f"{preemptor.scheduler_name}: preempting to accommodate a higher priority pod",
            "lastTransitionTime": _rfc3339(self.clock),
        }
        await self.client.patch(self._pods_kind, victim.name, {"status": {"conditions": [condition]}}, namespace=victim.namespace,
                                subresource="status", patch_type="strategic")
        await self.client.delete(self._pods_kind, victim.name, namespace=victim.namespace,
                                 preconditions={"uid": victim.uid} if victim.uid else None)
        self._event(victim.obj, preemptor.scheduler_name, NORMAL, "Preempted",
                    f"Preempted by pod {preemptor.uid} on node {node}")

    async def _bind_worker(self) -> None:
        async for qpi, assumed, node, cycle in self._bind_recv:
            try:
                await self._bind(qpi, assumed, node, cycle)
            except Exception:  # noqa: BLE001 - a binder must outlive any one binding
                log.exception("binding failed unexpectedly", pod=assumed.key)
                self.cache.forget_pod(assumed.key)
            finally:
                self._pending_binds -= 1

    async def _bind(self, qpi: QueuedPodInfo, assumed: PodInfo, node: str, cycle: int) -> None:
        try:
            await self.client.create_subresource(
                self._pods_kind, assumed.name, "binding",
                {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": assumed.name, "namespace": assumed.namespace},
                 "target": {"apiVersion": "v1", "kind": "Node", "name": node}},
                namespace=assumed.namespace,
            )
        except APIError as exc:
            self.bind_errors += 1
            self.cache.forget_pod(assumed.key)
            self.queue.move_all(POD_DELETE)  # the room it held is free again
            current = self.pods.get(assumed.key)
            if current is None or (current.get("spec") or {}).get("nodeName"):
                return  # deleted or bound meanwhile: nothing left to schedule
            qpi.pod = PodInfo.of(current)
            qpi.pod.priority, qpi.pod.preemption_policy = self._priority(qpi.pod)
            self._failed(qpi, cycle, f"Binding rejected: {exc.message}", (), reason="SchedulerError")
            return
        self.cache.finish_binding(assumed.key, self.clock.monotonic())
        self.scheduled += 1
        self._event(assumed.obj, assumed.scheduler_name, NORMAL, "Scheduled",
                    f"Successfully assigned {assumed.namespace}/{assumed.name} to {node}")

    # ------------------------------------------------------------------ priority

    def _priority(self, pod: PodInfo) -> tuple[int, str]:
        """(priority, preemptionPolicy) of a pod, resolved as Priority admission would."""
        spec = pod.obj.get("spec") or {}
        explicit_policy = spec.get("preemptionPolicy")
        name = spec.get("priorityClassName")
        pc: dict[str, Any] | None = None
        if name:
            pc = self._classes.get(name)
        else:
            pc = next((c for c in self._classes.values() if c.get("globalDefault")), None)
        priority = spec.get("priority")
        if not isinstance(priority, int):
            if pc is not None:
                priority = int(pc.get("value") or 0)
            elif name in SYSTEM_PRIORITY_CLASSES:
                priority = SYSTEM_PRIORITY_CLASSES[name]
            else:
                priority = 0
        policy = explicit_policy or (pc or {}).get("preemptionPolicy") or "PreemptLowerPriority"
        return priority, policy

    def _info(self, obj: dict[str, Any]) -> PodInfo:
        info = PodInfo.of(obj)
        info.priority, info.preemption_policy = self._priority(info)
        return info

    def _reprioritize(self) -> None:
        def priority_of(p: PodInfo) -> int:
            p.priority, p.preemption_policy = self._priority(p)
            return p.priority

        self.queue.reprioritize(priority_of)
        for p in self.cache.all_pods():
            priority_of(p)

    # ------------------------------------------------------------------ informer handlers

    def _register_handlers(self) -> None:
        self.nodes.add_handler(self._node_added, self._node_updated, self._node_deleted)
        self.pods.add_handler(self._pod_added, self._pod_updated, self._pod_deleted)
        self.priority_classes.add_handler(self._class_changed, lambda old, new: self._class_changed(new),
                                          self._class_deleted)
        self.namespaces.add_handler(self._namespace_added, self._namespace_updated, self._namespace_deleted)
        self.pdbs.add_handler(self._pdb_changed, lambda old, new: self._pdb_changed(new),
                              lambda obj: self._budgets.pop(object_key(obj), None))

    def _node_added(self, node: dict[str, Any]) -> None:
        self.cache.add_node(node)
        self.queue.move_all(NODE_ADD)

    def _node_updated(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.cache.update_node(new)
        old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
        if (old.get("metadata") or {}).get("labels") != (new.get("metadata") or {}).get("labels"):
            self.queue.move_all(NODE_LABEL)
        if old_spec.get("taints") != new_spec.get("taints") or bool(old_spec.get("unschedulable")) != bool(
                new_spec.get("unschedulable")):
            self.queue.move_all(NODE_TAINT)
        old_status, new_status = old.get("status") or {}, new.get("status") or {}
        if (old_status.get("allocatable"), old_status.get("capacity")) != (
                new_status.get("allocatable"), new_status.get("capacity")):
            self.queue.move_all(NODE_ALLOCATABLE)

    def _node_deleted(self, node: dict[str, Any]) -> None:
        self.cache.remove_node((node.get("metadata") or {}).get("name") or "")
        self.queue.move_all(NODE_DELETE)

    def _pod_added(self, obj: dict[str, Any]) -> None:
        spec = obj.get("spec") or {}
        if spec.get("nodeName"):
            self._assigned(obj)
            return
        info = self._info(obj)
        if not self.responsible_for(info):
            return
        self.queue.add(info)
        if info.nominated_node_name:
            self.nominator.add(info, info.nominated_node_name)

    def _assigned(self, obj: dict[str, Any], labels_changed: bool = False) -> None:
        key = object_key(obj)
        cached = self.cache.pod(key)
        old_labels = cached.labels if cached is not None else None
        if cached is not None and old_labels == ((obj.get("metadata") or {}).get("labels") or {}):
            info = cached.with_object(obj)
            info.node_name = (obj.get("spec") or {}).get("nodeName") or ""
        else:
            info = self._info(obj)
        newly_bound = cached is None or self.cache.is_assumed(key)
        self.cache.add_pod(info)
        self.queue.delete(key)
        self.nominator.remove(key)
        if newly_bound:
            self.queue.move_all(POD_ADD)
        elif labels_changed:
            self.queue.move_all(POD_UPDATE)

    def _pod_updated(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        new_spec = new.get("spec") or {}
        if new_spec.get("nodeName"):
            old_labels = (old.get("metadata") or {}).get("labels")
            new_labels = (new.get("metadata") or {}).get("labels")
            if not (old.get("spec") or {}).get("nodeName"):
                self._assigned(new)
            else:
                self._assigned(new, labels_changed=old_labels != new_labels)
            return
        info = self._info(new)
        if not self.responsible_for(info):
            self.queue.delete(info.key)
            return
        self.queue.update(info, moved=scheduling_inputs_changed(old, new))
        if info.nominated_node_name:
            self.nominator.add(info, info.nominated_node_name)
        elif self.nominator.node_of(info.key) and (old.get("status") or {}).get("nominatedNodeName"):
            self.nominator.remove(info.key)

    def _pod_deleted(self, obj: dict[str, Any]) -> None:
        key = object_key(obj)
        self.queue.delete(key)
        self.nominator.remove(key)
        if self.cache.pod(key) is not None and not self.cache.is_assumed(key):
            self.cache.remove_pod(key)
            self.queue.move_all(POD_DELETE)
        elif (obj.get("spec") or {}).get("nodeName"):
            self.cache.remove_pod(key)
            self.queue.move_all(POD_DELETE)

    def _class_changed(self, pc: dict[str, Any]) -> None:
        self._classes[(pc.get("metadata") or {}).get("name") or ""] = pc
        if self.running:
            self._reprioritize()
            self.queue.move_all(WILDCARD)

    def _class_deleted(self, pc: dict[str, Any]) -> None:
        self._classes.pop((pc.get("metadata") or {}).get("name") or "", None)
        if self.running:
            self._reprioritize()
            self.queue.move_all(WILDCARD)

    def _namespace_added(self, ns: dict[str, Any]) -> None:
        meta = ns.get("metadata") or {}
        self.cache.namespace_labels[meta.get("name") or ""] = meta.get("labels") or {}

    def _namespace_updated(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self._namespace_added(new)
        if (old.get("metadata") or {}).get("labels") != (new.get("metadata") or {}).get("labels"):
            self.queue.move_all(NAMESPACE_CHANGE)

    def _namespace_deleted(self, ns: dict[str, Any]) -> None:
        self.cache.namespace_labels.pop((ns.get("metadata") or {}).get("name") or "", None)

    def _pdb_changed(self, pdb: dict[str, Any]) -> None:
        self._budgets[object_key(pdb)] = DisruptionBudget.of(pdb)
