"""The DaemonSet controller: one pod of each DaemonSet on every node its pod template admits,
as Kubernetes' daemon controller keeps them.

A node admits a DaemonSet's pod when the template's nodeName (if any) is the node's, its
nodeSelector and required node affinity match the node, and every NoSchedule and NoExecute
taint of the node is tolerated by the template's tolerations plus the tolerations every daemon
pod gets (`DAEMON_POD_TOLERATIONS`). A pod already there stays while the node's NoExecute
taints are tolerated (`node_should_run`).

Pods are created unbound, with their required node affinity replaced by `matchFields
metadata.name In [NODE]`, so that the scheduler binds each to its node; they carry the labels
`controller-revision-hash` (and `pod-template-generation` when the DaemonSet has the
`deprecated.daemonset.template.generation` annotation).

reconcile(key), in order:

1. The DaemonSet is gone: forget its expectations; done. An invalid or empty selector: logged,
   not retried. Being deleted: nothing (the garbage collector removes its pods).
2. History: the ControllerRevisions it controls (orphans matching its selector adopted) are
   split into the current one (data equal to the template patch `{"spec": {"template": ...,
   "$patch": "replace"}}`) and the old ones; the current one is created (name `<ds>-<hash>`,
   revision max(old)+1) or renumbered above the old ones. A name taken by another template
   bumps status.collisionCount and retries.
3. Only once the expectations are satisfied: pods are created on nodes that should run one and
   have none, deleted from nodes that should not (and failed pods replaced, with a backoff),
   then, for RollingUpdate, old pods are replaced within maxUnavailable (or, with maxSurge,
   new pods started beside old ones within maxSurge and the old removed once the new is
   available); old revisions beyond revisionHistoryLimit that no pod uses are deleted.
4. Status (desiredNumberScheduled, currentNumberScheduled, numberMisscheduled, numberReady,
   updatedNumberScheduled, numberAvailable, numberUnavailable, observedGeneration) is written
   when it changed. Pods ready but not yet available under minReadySeconds bring the key back.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any

import anyio

from kube_lite.api.errors import APIError
from kube_lite.api.selectors import LabelSelector, SelectorError, from_label_selector
from kube_lite.client.client import Client
from kube_lite.client.events import WARNING, EventRecorder
from kube_lite.client.informer import NAMESPACE_INDEX, SharedInformerFactory, object_key
from kube_lite.clock import Clock
from kube_lite.controllers.base import Controller
from kube_lite.controllers.deploymentutil import compute_hash, scaled_value
from kube_lite.controllers.objects import labels as _labels
from kube_lite.controllers.objects import meta as _meta
from kube_lite.controllers.objects import spec as _spec
from kube_lite.controllers.podcontrol import (
    CONTROLLER_UID_INDEX,
    NAMESPACE_TERMINATING_CAUSE,
    ControllerRefManager,
    PodControl,
    UIDTrackingExpectations,
    available_in,
    controller_of,
    controller_ref,
    controller_uid_index,
    has_status_cause,
    is_pod_available,
    is_pod_ready,
    is_terminal,
    owned_and_orphans,
    parse_time,
    slow_start_batch,
)
from kube_lite.scheduler.plugins.tainttoleration import tolerated
from kube_lite.scheduler.podinfo import node_selector_matches

Object = dict[str, Any]

API_VERSION = "apps/v1"
KIND = "DaemonSet"

# Labels and annotations, as Kubernetes spells them.
REVISION_HASH_LABEL = "controller-revision-hash"
TEMPLATE_GENERATION_LABEL = "pod-template-generation"
TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"

FAILED_DAEMON_POD = "FailedDaemonPod"

BURST_REPLICAS = 250
SLOW_START_INITIAL_BATCH_SIZE = 1
# Failed daemon pods are replaced with an exponential backoff per node (Kubernetes: 1 s to 15 min).
FAILED_POD_BACKOFF_INITIAL = 1.0
FAILED_POD_BACKOFF_MAX = 15 * 60.0
AVAILABILITY_SLACK = 0.01
DEFAULT_REVISION_HISTORY_LIMIT = 10

_NOT_READY = "node.kubernetes.io/not-ready"
_UNREACHABLE = "node.kubernetes.io/unreachable"
_DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
_PID_PRESSURE = "node.kubernetes.io/pid-pressure"
_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
_NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"

DAEMON_POD_TOLERATIONS: tuple[Object, ...] = (
    {"key": _NOT_READY, "operator": "Exists", "effect": "NoExecute"},
    {"key": _UNREACHABLE, "operator": "Exists", "effect": "NoExecute"},
    {"key": _DISK_PRESSURE, "operator": "Exists", "effect": "NoSchedule"},
    {"key": _MEMORY_PRESSURE, "operator": "Exists", "effect": "NoSchedule"},
    {"key": _PID_PRESSURE, "operator": "Exists", "effect": "NoSchedule"},
    {"key": _UNSCHEDULABLE, "operator": "Exists", "effect": "NoSchedule"},
)
HOST_NETWORK_TOLERATION: Object = {"key": _NETWORK_UNAVAILABLE, "operator": "Exists", "effect": "NoSchedule"}





# ---------------------------------------------------------------------------------- pure helpers


def _same_toleration(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return all((a.get(f) or "") == (b.get(f) or "") for f in ("key", "operator", "value", "effect")) and (
        a.get("tolerationSeconds") == b.get("tolerationSeconds")
    )


def add_daemon_tolerations(pod_spec: Object) -> Object:
    """`pod_spec` (a copy) with the tolerations every daemon pod gets appended where the pod
    has no such toleration already (network-unavailable only for hostNetwork pods)."""
    out = copy.deepcopy(pod_spec)
    tolerations = list(out.get("tolerations") or [])
    wanted = list(DAEMON_POD_TOLERATIONS)
    if out.get("hostNetwork"):
        wanted.append(HOST_NETWORK_TOLERATION)
    for toleration in wanted:
        if not any(_same_toleration(t, toleration) for t in tolerations):
            tolerations.append(dict(toleration))
    out["tolerations"] = tolerations
    return out


def node_name_affinity(affinity: Object | None, node_name: str) -> Object:
    """`affinity` (a copy) whose required node affinity is exactly `matchFields metadata.name
    In [node_name]` (the rest of the affinity is kept)."""
    out = copy.deepcopy(affinity or {})
    node_affinity = out.setdefault("nodeAffinity", {})
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node_name]}]}]
    }
    return out


def target_node(pod: Object) -> str:
    """The node a daemon pod is for: spec.nodeName, or the single name its required node
    affinity's matchFields allow; "" when neither says."""
    spec = _spec(pod)
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    for term in required.get("nodeSelectorTerms") or []:
        for field in term.get("matchFields") or []:
            if field.get("key") == "metadata.name" and field.get("operator") == "In" and len(field.get("values") or []) == 1:
                return str(field["values"][0])
    return ""


def node_should_run(node: Object, ds: Object) -> tuple[bool, bool]:
    """(should run, should continue running) a daemon pod of `ds` on `node`: the template's
    nodeName, nodeSelector and required node affinity admit the node, and its NoSchedule and
    NoExecute taints are tolerated (a pod already there may stay while only NoSchedule taints
    are untolerated)."""
    pod_spec = _spec(_spec(ds).get("template"))
    name = _meta(node).get("name") or ""
    if pod_spec.get("nodeName") and pod_spec["nodeName"] != name:
        return False, False
    labels = _labels(node)
    for key, value in (pod_spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False, False
    required = ((pod_spec.get("affinity") or {}).get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is not None and not node_selector_matches(required.get("nodeSelectorTerms") or [], labels, name):
        return False, False
    tolerations = add_daemon_tolerations(pod_spec)["tolerations"]
    taints = _spec(node).get("taints") or []
    if any(t.get("effect") in ("NoSchedule", "NoExecute") and not tolerated(t, tolerations) for t in taints):
        no_execute = any(t.get("effect") == "NoExecute" and not tolerated(t, tolerations) for t in taints)
        return False, not no_execute
    return True, True


def template_generation(ds: Object) -> str | None:
    value = (_meta(ds).get("annotations") or {}).get(TEMPLATE_GENERATION_ANNOTATION)
    return str(value) if value is not None else None


def revision_patch(ds: Object) -> Object:
    """What a ControllerRevision of `ds` stores: a patch replacing spec.template."""
    template = copy.deepcopy(_spec(ds).get("template") or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def revision_hash(ds: Object) -> str:
    """The hash naming the current revision: the template's, with status.collisionCount."""
    return compute_hash(_spec(ds).get("template") or {}, ((ds.get("status") or {}).get("collisionCount")))


def revision_name(ds_name: str, hash_: str) -> str:
    prefix = ds_name if len(ds_name) <= 223 else ds_name[:223]
    return f"{prefix}-{hash_}"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def revision_matches(ds: Object, revision: Object) -> bool:
    return _canonical(revision.get("data")) == _canonical(revision_patch(ds))


def is_pod_updated(pod: Object, hash_: str, generation: str | None) -> bool:
    labels = _labels(pod)
    return bool(hash_) and labels.get(REVISION_HASH_LABEL) == hash_ or (
        generation is not None and labels.get(TEMPLATE_GENERATION_LABEL) == generation
    )


def daemon_pod_template(ds: Object, hash_: str) -> Object:
    """The template of new pods: the DaemonSet's, with the daemon tolerations and the
    revision hash (and template generation) labels."""
    template = copy.deepcopy(_spec(ds).get("template") or {})
    meta = template.setdefault("metadata", {})
    labels = dict(meta.get("labels") or {})
    generation = template_generation(ds)
    if generation is not None:
        labels[TEMPLATE_GENERATION_LABEL] = generation
    if hash_:
        labels[REVISION_HASH_LABEL] = hash_
    meta["labels"] = labels
    template["spec"] = add_daemon_tolerations(template.get("spec") or {})
    return template


def _created_key(pod: Object) -> tuple[bool, float, str]:
    """Scheduled first, then oldest first, then by name (Kubernetes' podByCreationTimestampAndPhase)."""
    created = parse_time(_meta(pod).get("creationTimestamp"))
    return (not _spec(pod).get("nodeName"), created if created is not None else 0.0, _meta(pod).get("name") or "")


def oldest_first(pods: Sequence[Object]) -> list[Object]:
    return sorted(pods, key=_created_key)


def updated_and_old(pods: Sequence[Object], hash_: str, generation: str | None) -> tuple[Object | None, Object | None, bool]:
    """(the updated pod, the old pod, ok) among a node's pods not being deleted; ok is False
    when there are two of either (the manage pass must clean the node up first)."""
    new = old = None
    for pod in pods:
        if _meta(pod).get("deletionTimestamp"):
            continue
        if is_pod_updated(pod, hash_, generation):
            if new is not None:
                return None, None, False
            new = pod
        else:
            if old is not None:
                return None, None, False
            old = pod
    return new, old, True


def rolling_limits(ds: Object, desired: int) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) against `desired` nodes, percentages rounded up; both 0
    makes maxUnavailable 1. (0, 0) for OnDelete."""
    strategy = _spec(ds).get("updateStrategy") or {}
    if (strategy.get("type") or "RollingUpdate") != "RollingUpdate":
        return 0, 0
    rolling = strategy.get("rollingUpdate") or {}
    surge = scaled_value(rolling.get("maxSurge") if rolling.get("maxSurge") is not None else 0, desired, True)
    unavailable = scaled_value(rolling.get("maxUnavailable") if rolling.get("maxUnavailable") is not None else 1, desired, True)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


# ---------------------------------------------------------------------------------- controller


class DaemonSetController(Controller):
    """Keeps one pod of every DaemonSet on each eligible node; see the module doc."""

    name = "daemonset"
    event_source = "daemonset-controller"
    workers = 2  # kube-controller-manager's --concurrent-daemonset-syncs

    def __init__(
        self,
        client: Client,
        clock: Clock | None = None,
        recorder: EventRecorder | None = None,
        *,
        burst_replicas: int = BURST_REPLICAS,
        informers: SharedInformerFactory | None = None,
    ) -> None:
        super().__init__(client, clock, recorder, informers=informers)
        self.burst_replicas = burst_replicas
        self.expectations = UIDTrackingExpectations(self.clock)
        self.pod_control = PodControl(client, self.recorder)
        # (ds key, node) -> (next allowed deletion time, current backoff) for failed pods.
        self._failed_backoff: dict[tuple[str, str], tuple[float, float]] = {}
        self.daemonsets = self.informer("daemonsets")
        self.pods = self.informer("pods")
        self.pods.add_indexer(CONTROLLER_UID_INDEX, controller_uid_index)
        self.nodes = self.informer("nodes")
        self.revisions = self.informer("controllerrevisions")
        self.daemonsets.add_handler(self._on_ds_add, self._on_ds_update, self._on_ds_delete)
        self.pods.add_handler(self._on_pod_add, self._on_pod_update, self._on_pod_delete)
        self.nodes.add_handler(self._on_node_change, self._on_node_update, self._on_node_change)
        self.revisions.add_handler(self._on_revision, lambda old, new: self._on_revision(new), self._on_revision)

    # ------------------------------------------------------------------ event handlers

    def _on_ds_add(self, ds: Object) -> None:
        self.enqueue(object_key(ds))

    def _on_ds_update(self, old: Object, new: Object) -> None:
        if _meta(old).get("uid") != _meta(new).get("uid"):
            self._on_ds_delete(old)
        self.enqueue(object_key(new))

    def _on_ds_delete(self, ds: Object) -> None:
        key = object_key(ds)
        self.expectations.delete(key)
        self.enqueue(key)

    def _resolve(self, namespace: str, ref: Object | None) -> Object | None:
        if ref is None or ref.get("kind") != KIND:
            return None
        ds = self.daemonsets.get(f"{namespace}/{ref.get('name')}")
        if ds is None or _meta(ds).get("uid") != ref.get("uid"):
            return None
        return ds

    def _selecting(self, obj: Object) -> list[Object]:
        found = []
        for ds in self.daemonsets.by_index(NAMESPACE_INDEX, _meta(obj).get("namespace") or ""):
            try:
                selector = from_label_selector(_spec(ds).get("selector"))
            except SelectorError:
                continue
            if not selector.empty and selector.matches(_labels(obj)):
                found.append(ds)
        return found

    def _on_pod_add(self, pod: Object) -> None:
        if _meta(pod).get("deletionTimestamp"):
            self._on_pod_delete(pod)
            return
        ref = controller_of(pod)
        if ref is not None:
            ds = self._resolve(_meta(pod).get("namespace") or "", ref)
            if ds is not None:
                key = object_key(ds)
                self.expectations.creation_observed(key)
                self.enqueue(key)
            return
        for ds in self._selecting(pod):
            self.enqueue(object_key(ds))

    def _on_pod_update(self, old: Object, cur: Object) -> None:
        if _meta(old).get("resourceVersion") == _meta(cur).get("resourceVersion"):
            return
        if _meta(cur).get("deletionTimestamp"):
            self._on_pod_delete(cur)
            return
        namespace = _meta(cur).get("namespace") or ""
        cur_ref, old_ref = controller_of(cur), controller_of(old)
        if cur_ref != old_ref and (previous := self._resolve(namespace, old_ref)) is not None:
            self.enqueue(object_key(previous))
        if cur_ref is not None:
            ds = self._resolve(namespace, cur_ref)
            if ds is None:
                return
            key = object_key(ds)
            self.enqueue(key)
            min_ready = int(_spec(ds).get("minReadySeconds") or 0)
            if min_ready > 0 and not is_pod_ready(old) and is_pod_ready(cur):
                self.queue.add_after(key, min_ready + 1.0)
            return
        if _labels(old) != _labels(cur) or cur_ref != old_ref:
            for ds in self._selecting(cur):
                self.enqueue(object_key(ds))

    def _on_pod_delete(self, pod: Object) -> None:
        ds = self._resolve(_meta(pod).get("namespace") or "", controller_of(pod))
        if ds is None:
            return
        key = object_key(ds)
        self.expectations.pod_deletion_observed(key, object_key(pod))
        self.enqueue(key)

    def _on_node_change(self, node: Object) -> None:
        for ds in self.daemonsets.list():
            self.enqueue(object_key(ds))

    def _on_node_update(self, old: Object, new: Object) -> None:
        # Heartbeats and status changes do not change where daemon pods belong.
        if _labels(old) == _labels(new) and _spec(old) == _spec(new):
            return
        self._on_node_change(new)

    def _on_revision(self, revision: Object) -> None:
        ds = self._resolve(_meta(revision).get("namespace") or "", controller_of(revision))
        if ds is not None:
            self.enqueue(object_key(ds))

    # ------------------------------------------------------------------ reconcile

    async def reconcile(self, key: str) -> float | None:
        ds = self.daemonsets.get(key)
        if ds is None:
            self.expectations.delete(key)
            for backoff_key in [k for k in self._failed_backoff if k[0] == key]:
                del self._failed_backoff[backoff_key]
            return None
        try:
            selector = from_label_selector(_spec(ds).get("selector"))
        except SelectorError as exc:
            self.log.error("invalid selector; not syncing", key=key, error=str(exc))
            return None
        if selector.empty:
            self.log.error("empty selector selects nothing; not syncing", key=key)
            return None
        if _meta(ds).get("deletionTimestamp"):
            return None

        nodes = self.nodes.list()
        current, old = await self._construct_history(ds, selector)
        hash_ = _labels(current).get(REVISION_HASH_LABEL) or revision_hash(ds)
        node_pods = await self._node_to_pods(ds, selector)

        requeue: list[float] = []
        if self.expectations.satisfied(key):
            wait = await self._manage(key, ds, nodes, node_pods, hash_)
            if wait is not None:
                requeue.append(wait)
            if self.expectations.satisfied(key):
                strategy = (_spec(ds).get("updateStrategy") or {}).get("type") or "RollingUpdate"
                if strategy == "RollingUpdate":
                    await self._rolling_update(key, ds, nodes, await self._node_to_pods(ds, selector), hash_)
            await self._cleanup_history(ds, old, node_pods)

        wait = await self._update_status(ds, nodes, await self._node_to_pods(ds, selector), hash_)
        if wait is not None:
            requeue.append(wait)
        return min(requeue) if requeue else None

    # ------------------------------------------------------------------ pods

    async def _node_to_pods(self, ds: Object, selector: LabelSelector) -> dict[str, list[Object]]:
        """The daemon pods of `ds` (after adoption and release) by target node; pods both
        finished and being deleted are left out."""
        claimed = await self._claim_pods(ds, selector)
        by_node: dict[str, list[Object]] = {}
        for pod in claimed:
            if is_terminal(pod) and _meta(pod).get("deletionTimestamp"):
                continue
            by_node.setdefault(target_node(pod), []).append(pod)
        return by_node

    async def _claim_pods(self, ds: Object, selector: LabelSelector) -> list[Object]:
        """The pods `ds` controls, after adopting matching orphans (once a fresh read shows it
        still there) and releasing owned pods that no longer match; raises the first failure."""
        manager = ControllerRefManager(self.client, ds, selector, api_version=API_VERSION, kind=KIND, owner_resource="daemonsets")
        return await manager.claim(owned_and_orphans(self.pods, ds))

    async def _manage(
        self, key: str, ds: Object, nodes: list[Object], node_pods: dict[str, list[Object]], hash_: str,
    ) -> float | None:
        """Create the missing daemon pods and delete the misplaced, surplus and failed ones.
        Returns when to look again for a failed pod still in its backoff, or None."""
        max_surge, _ = rolling_limits(ds, len(nodes))
        generation = template_generation(ds)
        now = self.clock.monotonic()
        wait: float | None = None
        to_create: list[str] = []
        to_delete: list[Object] = []
        node_names = set()
        for node in nodes:
            name = _meta(node).get("name") or ""
            node_names.add(name)
            should_run, should_continue = node_should_run(node, ds)
            pods = node_pods.get(name, [])
            live = [p for p in pods if not _meta(p).get("deletionTimestamp")]
            if should_run and not pods:
                to_create.append(name)
            elif should_continue:
                running: list[Object] = []
                for pod in live:
                    phase = (pod.get("status") or {}).get("phase")
                    if phase == "Failed":
                        backoff_key = (key, name)
                        allowed, delay = self._failed_backoff.get(backoff_key, (0.0, 0.0))
                        if now < allowed:
                            wait = min(wait, allowed - now) if wait is not None else allowed - now
                            continue
                        delay = min(max(delay * 2, FAILED_POD_BACKOFF_INITIAL), FAILED_POD_BACKOFF_MAX)
                        self._failed_backoff[backoff_key] = (now + delay, delay)
                        self._event(ds, WARNING, FAILED_DAEMON_POD,
                                    f"Found failed daemon pod {object_key(pod)} on node {name}, will try to kill it")
                        to_delete.append(pod)
                    elif phase == "Succeeded":
                        to_delete.append(pod)
                    else:
                        running.append(pod)
                if max_surge == 0:
                    # Never two: keep the oldest.
                    to_delete += oldest_first(running)[1:]
                else:
                    # Surging: keep the oldest updated and the oldest old pod (the rolling
                    # update removes the old one once the new one is available).
                    kept_new = kept_old = False
                    for pod in oldest_first(running):
                        if is_pod_updated(pod, hash_, generation):
                            if kept_new:
                                to_delete.append(pod)
                            kept_new = True
                        else:
                            if kept_old:
                                to_delete.append(pod)
                            kept_old = True
            elif not should_continue:
                to_delete += live
        # Pods for nodes that no longer exist: unbound ones (the daemon controller's), and
        # bound ones (the pod garbage collector's job in Kubernetes; kube-lite has none).
        for name, pods in node_pods.items():
            if name not in node_names:
                to_delete += [p for p in pods if not _meta(p).get("deletionTimestamp")]
        await self._sync_nodes(key, ds, to_delete, to_create, hash_)
        return wait

    async def _sync_nodes(self, key: str, ds: Object, to_delete: list[Object], to_create: list[str], hash_: str) -> None:
        """Delete `to_delete` and create one pod on each node of `to_create` (at most the burst
        of each, creations in slow-start batches). Raises the first failure."""
        namespace = _meta(ds).get("namespace") or ""
        to_create = to_create[: self.burst_replicas]
        to_delete = to_delete[: self.burst_replicas]
        if not to_create and not to_delete:
            return
        self.expectations.set(key, len(to_create), 0)
        if to_delete:
            self.expectations.expect_pod_deletions(key, [object_key(p) for p in to_delete])
            self.expectations.raise_expectations(key, len(to_create), 0)
        template = daemon_pod_template(ds, hash_)
        ref = controller_ref(ds, API_VERSION, KIND)
        errors: list[Exception] = []
        pending = list(to_create)

        async def create() -> None:
            node_name = pending.pop(0)
            pod_template = copy.deepcopy(template)
            pod_template["spec"]["affinity"] = node_name_affinity(pod_template["spec"].get("affinity"), node_name)
            try:
                await self.pod_control.create_pod(namespace, pod_template, ds, ref)
            except APIError as exc:
                if not has_status_cause(exc, NAMESPACE_TERMINATING_CAUSE):
                    raise

        if to_create:
            created, error = await slow_start_batch(len(to_create), SLOW_START_INITIAL_BATCH_SIZE, create)
            skipped = len(to_create) - created
            if skipped:
                self.expectations.lower_expectations(key, skipped, 0)
            if error is not None:
                errors.append(error)

        async def delete(pod: Object) -> None:
            try:
                await self.pod_control.delete_pod(namespace, _meta(pod)["name"], ds)
            except Exception as exc:
                self.expectations.pod_deletion_observed(key, object_key(pod))
                if not (isinstance(exc, APIError) and exc.code == 404):
                    errors.append(exc)

        async with anyio.create_task_group() as tg:
            for pod in to_delete:
                tg.start_soon(delete, pod)
        if errors:
            raise errors[0]

    async def _rolling_update(self, key: str, ds: Object, nodes: list[Object], node_pods: dict[str, list[Object]], hash_: str) -> None:
        """Replace old pods: within maxUnavailable (delete the old, the manage pass creates the
        new), or with maxSurge (start the new beside the old, delete the old once the new one
        is available)."""
        desired = sum(1 for node in nodes if node_should_run(node, ds)[0])
        max_surge, max_unavailable = rolling_limits(ds, desired)
        generation = template_generation(ds)
        min_ready = _spec(ds).get("minReadySeconds") or 0
        now = self.clock.time()
        node_names = {_meta(n).get("name") or "" for n in nodes}
        if max_surge == 0:
            unavailable = 0
            replacements: list[Object] = []
            candidates: list[Object] = []
            for name in sorted(node_pods):
                if name not in node_names:
                    continue
                new, old, ok = updated_and_old(node_pods[name], hash_, generation)
                if not ok or (new is None) == (old is None):
                    unavailable += 1
                elif new is not None:
                    if not is_pod_available(new, min_ready, now):
                        unavailable += 1
                elif old is not None:
                    if not is_pod_available(old, min_ready, now):
                        replacements.append(old)
                    elif unavailable < max_unavailable:
                        candidates.append(old)
            room = max(0, min(max_unavailable - unavailable, len(candidates)))
            await self._sync_nodes(key, ds, replacements + candidates[:room], [], hash_)
            return
        surge = 0
        new_nodes: list[str] = []
        old_to_delete: list[Object] = []
        for name in sorted(node_pods):
            if name not in node_names:
                continue
            new, old, ok = updated_and_old(node_pods[name], hash_, generation)
            if not ok:
                surge += 1
                continue
            if old is None:
                continue
            if new is None:
                if not is_pod_available(old, min_ready, now):
                    new_nodes.append(name)
                elif surge < max_surge:
                    surge += 1
                    new_nodes.append(name)
            elif not is_pod_available(new, min_ready, now):
                surge += 1
            else:
                old_to_delete.append(old)
        await self._sync_nodes(key, ds, old_to_delete, new_nodes, hash_)

    # ------------------------------------------------------------------ history

    async def _construct_history(self, ds: Object, selector: LabelSelector) -> tuple[Object, list[Object]]:
        """(the current revision, the old ones), creating or renumbering the current one. The
        revisions are claimed as pods are: matching orphans adopted, non-matching ones released."""
        namespace = _meta(ds).get("namespace") or ""
        manager = ControllerRefManager(
            self.client, ds, selector, api_version=API_VERSION, kind=KIND, owner_resource="daemonsets",
            resource="controllerrevisions",
        )
        owned = await manager.claim(self.revisions.by_index(NAMESPACE_INDEX, namespace))
        current = [r for r in owned if revision_matches(ds, r)]
        old = [r for r in owned if not revision_matches(ds, r)]
        next_revision = max((int(r.get("revision") or 0) for r in old), default=0) + 1
        if not current:
            return await self._snapshot(ds, next_revision), old
        # Duplicates of the current template: keep the highest-numbered one.
        current.sort(key=lambda r: int(r.get("revision") or 0), reverse=True)
        keep = current[0]
        for duplicate in current[1:]:
            await self._delete_revision(namespace, duplicate)
        if int(keep.get("revision") or 0) < next_revision:
            keep = await self.client.update("controllerrevisions", {**keep, "revision": next_revision}, namespace=namespace)
        return keep, old

    async def _snapshot(self, ds: Object, revision: int) -> Object:
        meta = _meta(ds)
        namespace = meta.get("namespace") or ""
        hash_ = revision_hash(ds)
        labels = dict(_labels(_spec(ds).get("template")))
        labels[REVISION_HASH_LABEL] = hash_
        revision_meta: Object = {
            "name": revision_name(meta.get("name") or "", hash_),
            "namespace": namespace,
            "labels": labels,
            "ownerReferences": [controller_ref(ds, API_VERSION, KIND)],
        }
        if meta.get("annotations"):
            revision_meta["annotations"] = dict(meta["annotations"])
        body = {"apiVersion": API_VERSION, "kind": "ControllerRevision", "metadata": revision_meta,
                "data": revision_patch(ds), "revision": revision}
        try:
            return await self.client.create("controllerrevisions", body, namespace=namespace)
        except APIError as exc:
            if exc.code != 409:
                raise
        existing = await self.client.get("controllerrevisions", revision_meta["name"], namespace=namespace)
        if revision_matches(ds, existing) and (controller_of(existing) or {}).get("uid") == meta.get("uid"):
            return existing
        # Another template took the name: count the collision so that the next hash differs.
        fresh = await self.client.get("daemonsets", meta["name"], namespace=namespace)
        status = dict(fresh.get("status") or {})
        status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
        await self.client.update_status("daemonsets", {**fresh, "status": status}, namespace=namespace)
        raise RuntimeError(f"found a hash collision for DaemonSet {meta['name']!r}: bumping collisionCount to {status['collisionCount']} to resolve it")

    async def _delete_revision(self, namespace: str, revision: Object) -> None:
        try:
            await self.client.delete("controllerrevisions", _meta(revision)["name"], namespace=namespace)
        except APIError as exc:
            if exc.code != 404:
                raise

    async def _cleanup_history(self, ds: Object, old: list[Object], node_pods: dict[str, list[Object]]) -> None:
        """Delete the oldest old revisions beyond revisionHistoryLimit that no pod still uses."""
        limit = _spec(ds).get("revisionHistoryLimit")
        limit = DEFAULT_REVISION_HISTORY_LIMIT if limit is None else int(limit)
        to_kill = len(old) - limit
        if to_kill <= 0:
            return
        live = {_labels(p).get(REVISION_HASH_LABEL) for pods in node_pods.values() for p in pods}
        for revision in sorted(old, key=lambda r: int(r.get("revision") or 0)):
            if to_kill <= 0:
                break
            if _labels(revision).get(REVISION_HASH_LABEL) in live:
                continue
            await self._delete_revision(_meta(ds).get("namespace") or "", revision)
            to_kill -= 1

    # ------------------------------------------------------------------ status

    def calculate_status(self, ds: Object, nodes: list[Object], node_pods: dict[str, list[Object]], hash_: str, now: float) -> Object:
        """The counts `kubectl get ds` shows, from the nodes and the pods on them."""
        generation = template_generation(ds)
        min_ready = _spec(ds).get("minReadySeconds") or 0
        desired = current = misscheduled = ready = available = updated = 0
        for node in nodes:
            should_run, _ = node_should_run(node, ds)
            pods = node_pods.get(_meta(node).get("name") or "", [])
            if not should_run:
                if pods:
                    misscheduled += 1
                continue
            desired += 1
            if not pods:
                continue
            current += 1
            pod = oldest_first(pods)[0]
            if is_pod_ready(pod):
                ready += 1
                if is_pod_available(pod, min_ready, now):
                    available += 1
            if is_pod_updated(pod, hash_, generation):
                updated += 1
        status = dict(ds.get("status") or {})
        status.update({
            "currentNumberScheduled": current,
            "numberMisscheduled": misscheduled,
            "desiredNumberScheduled": desired,
            "numberReady": ready,
        })
        for name, value in (("updatedNumberScheduled", updated), ("numberAvailable", available),
                            ("numberUnavailable", desired - available)):
            if value:
                status[name] = value
            else:
                status.pop(name, None)
        generation_now = _meta(ds).get("generation")
        if generation_now:
            status["observedGeneration"] = generation_now
        return status

    async def _update_status(self, ds: Object, nodes: list[Object], node_pods: dict[str, list[Object]], hash_: str) -> float | None:
        now = self.clock.time()
        status = self.calculate_status(ds, nodes, node_pods, hash_, now)
        if status != (ds.get("status") or {}):
            meta = _meta(ds)
            try:
                await self.client.update_status("daemonsets", {**ds, "status": status}, namespace=meta.get("namespace"))
            except APIError as exc:
                if exc.code != 409:
                    raise
                # Written meanwhile (a collision count, another writer): once more on a fresh read.
                fresh = await self.client.get("daemonsets", meta["name"], namespace=meta.get("namespace"))
                retry = dict(status)
                collisions = (fresh.get("status") or {}).get("collisionCount")
                if collisions is not None:
                    retry["collisionCount"] = collisions
                await self.client.update_status("daemonsets", {**fresh, "status": retry}, namespace=meta.get("namespace"))
        min_ready = _spec(ds).get("minReadySeconds") or 0
        if not min_ready:
            return None
        waits = [
            wait for pods in node_pods.values() for pod in pods
            if not is_pod_available(pod, min_ready, now) and (wait := available_in(pod, min_ready, now)) is not None
        ]
        return min(waits) + AVAILABILITY_SLACK if waits else None
