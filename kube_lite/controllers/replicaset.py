"""The ReplicaSet and ReplicationController controllers: keep `spec.replicas` pods matching
`spec.selector`, as Kubernetes' replicaset controller and its ReplicationManager do.

One implementation serves both kinds (Kubernetes runs the RC through the RS code the same way);
`ReplicaKind` holds what differs: the resource, the owner reference, the selector's form (a
LabelSelector, or an RC's plain label map) and whether status counts terminating pods.

reconcile(key), in order:

1. The owner is gone from the cache: forget its expectations; done.
2. An invalid selector: logged, not retried (only an edit can fix it).
3. Pods of the namespace that are active (not being deleted, not Succeeded or Failed) are
   claimed: matching orphans are adopted (after a fresh GET proves the owner is still there and
   not being deleted), owned pods whose labels no longer match are released.
4. Only if the expectations are satisfied (everything created or deleted last time has been
   seen by the pod informer, or five minutes passed) and the owner is not being deleted:
   create the missing pods in slow-start batches (1, 2, 4, ...) or delete the surplus, least
   valuable first, at most `burst_replicas` per pass.
5. Status (replicas, fullyLabeledReplicas, readyReplicas, availableReplicas, terminatingReplicas
   for ReplicaSets, observedGeneration, the ReplicaFailure condition) is written through the
   status subresource when it changed.
6. A failure of step 3, 4 or 5 raises: the key is retried with backoff. Pods ready but not yet
   available for minReadySeconds make the key come back when the first of them will be.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio

from kube_lite.api.errors import APIError
from kube_lite.api.selectors import (
    NOTHING,
    LabelSelector,
    SelectorError,
    from_label_selector,
    selector_from_set,
)
from kube_lite.client.client import Client
from kube_lite.client.events import EventRecorder
from kube_lite.client.informer import NAMESPACE_INDEX, object_key, split_key
from kube_lite.clock import Clock
from kube_lite.controllers.base import Controller
from kube_lite.controllers.podcontrol import (
    NAMESPACE_TERMINATING_CAUSE,
    PodControl,
    UIDTrackingExpectations,
    adopt_patch,
    available_in,
    controller_of,
    controller_ref,
    has_status_cause,
    is_pod_active,
    is_pod_available,
    is_pod_ready,
    is_pod_terminating,
    pods_to_delete,
    release_patch,
    slow_start_batch,
)

Object = dict[str, Any]

# Kubernetes' figures: at most this many creations or deletions per sync, the first batch of a
# slow start, and one retry of a status write after re-reading the object.
BURST_REPLICAS = 500
SLOW_START_INITIAL_BATCH_SIZE = 1
STATUS_UPDATE_RETRIES = 1

REPLICA_FAILURE = "ReplicaFailure"
# minReadySeconds is compared strictly ("ready for longer than"): look just after the moment.
AVAILABILITY_SLACK = 0.01


def _meta(obj: Object) -> Object:
    return obj.get("metadata") or {}


def _spec(obj: Object) -> Object:
    return obj.get("spec") or {}


def _labels(obj: Object) -> dict[str, str]:
    return _meta(obj).get("labels") or {}


def _rs_selector(owner: Object) -> LabelSelector:
    return from_label_selector(_spec(owner).get("selector"))


def _rc_selector(owner: Object) -> LabelSelector:
    # An RC's selector is a label map: nil selects nothing, as the conversion to a
    # LabelSelector (matchLabels) makes it.
    selector = _spec(owner).get("selector")
    return NOTHING if selector is None else from_label_selector({"matchLabels": selector})


@dataclass(frozen=True)
class ReplicaKind:
    """What differs between ReplicaSets and ReplicationControllers."""

    resource: str
    api_version: str
    kind: str
    selector_of: Callable[[Object], LabelSelector]
    # status.terminatingReplicas (Kubernetes' DeploymentReplicaSetTerminatingReplicas, beta and
    # on by default); a ReplicationController's status has no such field.
    tracks_terminating: bool

    def selector(self, owner: Object) -> LabelSelector:
        """The owner's pod selector. Raises SelectorError when it is invalid."""
        return self.selector_of(owner)

    @staticmethod
    def replicas(owner: Object) -> int:
        replicas = _spec(owner).get("replicas")
        return 1 if replicas is None else int(replicas)


REPLICA_SET = ReplicaKind("replicasets", "apps/v1", "ReplicaSet", _rs_selector, tracks_terminating=True)
REPLICATION_CONTROLLER = ReplicaKind("replicationcontrollers", "v1", "ReplicationController", _rc_selector, tracks_terminating=False)


class ReplicaSetController(Controller):
    """Keeps the pods of every ReplicaSet; see the module doc."""

    name = "replicaset"
    workers = 5  # kube-controller-manager's --concurrent-replicaset-syncs
    replica_kind: ReplicaKind = REPLICA_SET

    def __init__(
        self,
        client: Client,
        clock: Clock | None = None,
        recorder: EventRecorder | None = None,
        *,
        burst_replicas: int = BURST_REPLICAS,
    ) -> None:
        super().__init__(client, clock, recorder)
        self.burst_replicas = burst_replicas
        self.expectations = UIDTrackingExpectations(self.clock)
        self.pod_control = PodControl(client, recorder)
        self.owners = self.informer(self.replica_kind.resource)
        self.pods = self.informer("pods")
        self.owners.add_handler(self._on_owner_add, self._on_owner_update, self._on_owner_delete)
        self.pods.add_handler(self._on_pod_add, self._on_pod_update, self._on_pod_delete)

    # ------------------------------------------------------------------ event handlers

    def _on_owner_add(self, owner: Object) -> None:
        self.enqueue(object_key(owner))

    def _on_owner_update(self, old: Object, new: Object) -> None:
        if _meta(old).get("uid") != _meta(new).get("uid"):
            # Deleted and re-created under the same name between two looks: the old one's
            # expectations must not hold the new one back.
            self._on_owner_delete(old)
        self.enqueue(object_key(new))

    def _on_owner_delete(self, owner: Object) -> None:
        key = object_key(owner)
        self.expectations.delete(key)
        self.enqueue(key)

    def _resolve(self, namespace: str, ref: Object) -> Object | None:
        """The cached owner a controller reference points at, if it is one of ours."""
        if ref.get("kind") != self.replica_kind.kind:
            return None
        owner = self.owners.get(f"{namespace}/{ref.get('name')}")
        if owner is None or _meta(owner).get("uid") != ref.get("uid"):
            return None
        return owner

    def _owners_selecting(self, pod: Object) -> list[Object]:
        """The owners in the pod's namespace whose (non-empty, valid) selector matches it."""
        found = []
        for owner in self.owners.by_index(NAMESPACE_INDEX, _meta(pod).get("namespace") or ""):
            try:
                selector = self.replica_kind.selector(owner)
            except SelectorError:
                continue
            # An empty selector must match nothing here, not everything.
            if not selector.empty and selector.matches(_labels(pod)):
                found.append(owner)
        return found

    def _on_pod_add(self, pod: Object) -> None:
        if _meta(pod).get("deletionTimestamp"):
            # Seen for the first time already being deleted (e.g. after a restart).
            self._on_pod_delete(pod)
            return
        ref = controller_of(pod)
        if ref is not None:
            owner = self._resolve(_meta(pod).get("namespace") or "", ref)
            if owner is not None:
                key = object_key(owner)
                self.expectations.creation_observed(key)
                self.enqueue(key)
            return
        # An orphan: whoever selects it may adopt it.
        for owner in self._owners_selecting(pod):
            self.enqueue(object_key(owner))

    def _on_pod_update(self, old: Object, cur: Object) -> None:
        if _meta(old).get("resourceVersion") == _meta(cur).get("resourceVersion"):
            return
        labels_changed = _labels(old) != _labels(cur)
        if _meta(cur).get("deletionTimestamp"):
            # Graceful deletion starts with an update; count it as the deletion it is.
            self._on_pod_delete(cur)
            if labels_changed:
                self._on_pod_delete(old)
            return
        namespace = _meta(cur).get("namespace") or ""
        cur_ref, old_ref = controller_of(cur), controller_of(old)
        ref_changed = cur_ref != old_ref
        if ref_changed and old_ref is not None:
            previous = self._resolve(namespace, old_ref)
            if previous is not None:
                self.enqueue(object_key(previous))
        if cur_ref is not None:
            owner = self._resolve(namespace, cur_ref)
            if owner is None:
                return
            key = object_key(owner)
            self.enqueue(key)
            min_ready = int(_spec(owner).get("minReadySeconds") or 0)
            if min_ready > 0 and not is_pod_ready(old) and is_pod_ready(cur):
                self.queue.add_after(key, min_ready + 1.0)
            return
        if labels_changed or ref_changed:
            for owner in self._owners_selecting(cur):
                self.enqueue(object_key(owner))

    def _on_pod_delete(self, pod: Object) -> None:
        ref = controller_of(pod)
        if ref is None:
            return
        owner = self._resolve(_meta(pod).get("namespace") or "", ref)
        if owner is None:
            return
        key = object_key(owner)
        self.expectations.pod_deletion_observed(key, object_key(pod))
        self.enqueue(key)

    # ------------------------------------------------------------------ reconcile

    async def reconcile(self, key: str) -> float | None:
        owner = self.owners.get(key)
        if owner is None:
            self.expectations.delete(key)
            return None
        namespace, _ = split_key(key)
        namespace = namespace or ""
        try:
            selector = self.replica_kind.selector(owner)
        except SelectorError as exc:
            # Only an edit of the object can fix it; the edit will queue the key again.
            self.log.error("invalid selector; not syncing", key=key, error=str(exc))
            return None
        needs_sync = self.expectations.satisfied(key)
        all_pods = self.pods.by_index(NAMESPACE_INDEX, namespace)
        terminating: list[Object] | None = None
        if self.replica_kind.tracks_terminating:
            uid = _meta(owner).get("uid")
            terminating = [
                p for p in all_pods
                if is_pod_terminating(p) and (controller_of(p) or {}).get("uid") == uid and selector.matches(_labels(p))
            ]
        pods = await self._claim_pods(owner, selector, [p for p in all_pods if is_pod_active(p)])

        manage_error: Exception | None = None
        if needs_sync and not _meta(owner).get("deletionTimestamp"):
            try:
                await self._manage_replicas(key, owner, pods)
            except Exception as exc:  # reported in status first, then raised for a retry
                manage_error = exc
        now = self.clock.time()
        status = self._calculate_status(owner, pods, terminating, manage_error, now)
        await self._update_status(owner, status)
        if manage_error is not None:
            raise manage_error
        return self._next_availability_check(owner, pods, now)

    async def _claim_pods(self, owner: Object, selector: LabelSelector, pods: list[Object]) -> list[Object]:
        """The pods this owner controls after adopting matching orphans and releasing owned
        pods that no longer match. Raises the first adoption or release failure (after trying
        every pod)."""
        uid = _meta(owner).get("uid")
        deleting = bool(_meta(owner).get("deletionTimestamp"))
        ref = controller_ref(owner, self.replica_kind.api_version, self.replica_kind.kind)
        claimed: list[Object] = []
        errors: list[Exception] = []
        can_adopt: Exception | None | bool = False  # False: not checked yet
        for pod in pods:
            pod_ref = controller_of(pod)
            matches = selector.matches(_labels(pod))
            if pod_ref is not None:
                if pod_ref.get("uid") != uid:
                    continue  # someone else's
                if matches:
                    claimed.append(pod)
                elif not deleting:
                    try:
                        await self._release(owner, pod)
                    except Exception as exc:
                        errors.append(exc)
                continue
            if deleting or not matches or _meta(pod).get("deletionTimestamp"):
                continue
            if can_adopt is False:
                can_adopt = await self._recheck_owner(owner)
            if isinstance(can_adopt, Exception):
                errors.append(can_adopt)
                continue
            try:
                await self.pod_control.patch_pod(_meta(pod).get("namespace") or "", _meta(pod)["name"], adopt_patch(pod, ref))
            except APIError as exc:
                if exc.code != 404:  # a pod gone meanwhile is simply not ours
                    errors.append(exc)
                continue
            self.log.info("adopted pod", owner=object_key(owner), pod=object_key(pod))
            claimed.append(pod)
        if errors:
            raise errors[0]
        return claimed

    async def _recheck_owner(self, owner: Object) -> Exception | None:
        """None when a fresh read shows the owner still there and not being deleted (the cache
        may be stale, and adopting for a deleted owner would orphan the pod again); otherwise
        the error to report."""
        meta = _meta(owner)
        try:
            fresh = await self.client.get(self.replica_kind.resource, meta["name"], namespace=meta.get("namespace"))
        except APIError as exc:
            return exc
        fresh_meta = _meta(fresh)
        if fresh_meta.get("uid") != meta.get("uid"):
            return RuntimeError(
                f"original {self.replica_kind.kind} {meta.get('namespace')}/{meta['name']} is gone: "
                f"got uid {fresh_meta.get('uid')}, wanted {meta.get('uid')}"
            )
        if fresh_meta.get("deletionTimestamp"):
            return RuntimeError(f"{meta.get('namespace')}/{meta['name']} has just been deleted at {fresh_meta['deletionTimestamp']}")
        return None

    async def _release(self, owner: Object, pod: Object) -> None:
        try:
            await self.pod_control.patch_pod(
                _meta(pod).get("namespace") or "", _meta(pod)["name"], release_patch(pod, _meta(owner).get("uid") or ""),
            )
        except APIError as exc:
            # Gone, or no longer ours (the uid guard failed): nothing left to release.
            if exc.code in (404, 422):
                return
            raise
        self.log.info("released pod", owner=object_key(owner), pod=object_key(pod))

    async def _manage_replicas(self, key: str, owner: Object, pods: list[Object]) -> None:
        """Create or delete pods so that `pods` (active, claimed) number spec.replicas.
        Raises the first failure."""
        namespace = _meta(owner).get("namespace") or ""
        diff = len(pods) - self.replica_kind.replicas(owner)
        if diff < 0:
            count = min(-diff, self.burst_replicas)
            # Expect before acting: the informer may report a pod before create() returns.
            self.expectations.expect_creations(key, count)
            template = _spec(owner).get("template") or {}
            ref = controller_ref(owner, self.replica_kind.api_version, self.replica_kind.kind)

            async def create() -> None:
                try:
                    await self.pod_control.create_pod(namespace, template, owner, ref)
                except APIError as exc:
                    # A terminating namespace takes no pods; nothing is wrong with the owner.
                    if not has_status_cause(exc, NAMESPACE_TERMINATING_CAUSE):
                        raise

            self.log.debug("too few replicas", key=key, creating=count)
            created, error = await slow_start_batch(count, SLOW_START_INITIAL_BATCH_SIZE, create)
            skipped = count - created
            if skipped > 0:
                # These will never be observed: stop waiting for them.
                self.expectations.lower_expectations(key, skipped, 0)
            if error is not None:
                raise error
        elif diff > 0:
            count = min(diff, self.burst_replicas)
            victims = pods_to_delete(pods, count, self.clock.time(), self._indirectly_related_pods(owner))
            self.expectations.expect_pod_deletions(key, [object_key(p) for p in victims])
            self.log.debug("too many replicas", key=key, deleting=count)
            errors: list[Exception] = []

            async def delete(pod: Object) -> None:
                try:
                    await self.pod_control.delete_pod(namespace, _meta(pod)["name"], owner)
                except Exception as exc:
                    # Not going to be deleted by us (or already gone): stop waiting for it.
                    self.expectations.pod_deletion_observed(key, object_key(pod))
                    if not (isinstance(exc, APIError) and exc.code == 404):
                        errors.append(exc)

            async with anyio.create_task_group() as tg:
                for pod in victims:
                    tg.start_soon(delete, pod)
            if errors:
                raise errors[0]

    def _indirectly_related_pods(self, owner: Object) -> list[Object]:
        """Pods selected by the owners that share this owner's controller (the ReplicaSets of
        one Deployment), each once; empty for an owner without a controller."""
        parent = controller_of(owner)
        if parent is None:
            return []
        namespace = _meta(owner).get("namespace") or ""
        related: list[Object] = []
        seen: set[str] = set()
        candidates = self.pods.by_index(NAMESPACE_INDEX, namespace)
        for sibling in self.owners.by_index(NAMESPACE_INDEX, namespace):
            if (controller_of(sibling) or {}).get("uid") != parent.get("uid"):
                continue
            try:
                selector = self.replica_kind.selector(sibling)
            except SelectorError:
                continue
            for pod in candidates:
                uid = _meta(pod).get("uid") or object_key(pod)
                if uid not in seen and selector.matches(_labels(pod)):
                    seen.add(uid)
                    related.append(pod)
        return related

    # ------------------------------------------------------------------ status

    def _calculate_status(
        self, owner: Object, pods: list[Object], terminating: list[Object] | None, error: Exception | None, now: float,
    ) -> Object:
        """The status the owner should have (observedGeneration is set on write)."""
        spec = _spec(owner)
        status: Object = dict(owner.get("status") or {})
        template_selector = selector_from_set(((spec.get("template") or {}).get("metadata") or {}).get("labels"))
        min_ready = spec.get("minReadySeconds") or 0
        fully_labeled = ready = available = 0
        for pod in pods:
            if template_selector.matches(_labels(pod)):
                fully_labeled += 1
            if is_pod_ready(pod):
                ready += 1
                if is_pod_available(pod, min_ready, now):
                    available += 1

        conditions = [dict(c) for c in status.get("conditions") or []]
        failure = next((c for c in conditions if c.get("type") == REPLICA_FAILURE), None)
        if error is not None and failure is None:
            diff = len(pods) - self.replica_kind.replicas(owner)
            reason = "FailedCreate" if diff < 0 else "FailedDelete" if diff > 0 else ""
            conditions.append({
                "type": REPLICA_FAILURE,
                "status": "True",
                "lastTransitionTime": self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "reason": reason,
                "message": str(error),
            })
        elif error is None and failure is not None:
            conditions = [c for c in conditions if c.get("type") != REPLICA_FAILURE]

        # On the wire as Kubernetes writes it: replicas always, the other counts when non-zero.
        status["replicas"] = len(pods)
        for name, value in (("fullyLabeledReplicas", fully_labeled), ("readyReplicas", ready), ("availableReplicas", available)):
            if value:
                status[name] = value
            else:
                status.pop(name, None)
        if terminating is not None:
            status["terminatingReplicas"] = len(terminating)
        if conditions:
            status["conditions"] = conditions
        else:
            status.pop("conditions", None)
        return status

    @staticmethod
    def _status_unchanged(owner: Object, status: Object) -> bool:
        old = owner.get("status") or {}
        return (
            all(old.get(f, 0) == status.get(f, 0) for f in ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas"))
            and old.get("terminatingReplicas") == status.get("terminatingReplicas")
            and (old.get("conditions") or []) == (status.get("conditions") or [])
            and old.get("observedGeneration", 0) == _meta(owner).get("generation", 0)
        )

    async def _update_status(self, owner: Object, status: Object) -> Object:
        """Write `status` through the status subresource unless nothing changed; one retry on
        a fresh read of the owner. Returns the owner as last written (or the cached one)."""
        if self._status_unchanged(owner, status):
            return owner
        generation = _meta(owner).get("generation")
        if generation:
            status = {**status, "observedGeneration": generation}
        obj = {**owner, "status": status}
        meta = _meta(owner)
        for attempt in range(STATUS_UPDATE_RETRIES + 1):
            try:
                return await self.client.update_status(self.replica_kind.resource, obj, namespace=meta.get("namespace"))
            except APIError:
                if attempt >= STATUS_UPDATE_RETRIES:
                    raise
            fresh = await self.client.get(self.replica_kind.resource, meta["name"], namespace=meta.get("namespace"))
            obj = {**fresh, "status": status}
        raise AssertionError("unreachable")

    def _next_availability_check(self, owner: Object, pods: list[Object], now: float) -> float | None:
        """Seconds until the first ready pod becomes available under minReadySeconds, or None."""
        min_ready = _spec(owner).get("minReadySeconds") or 0
        if not min_ready:
            return None
        waits = [
            wait for pod in pods
            if not is_pod_available(pod, min_ready, now) and (wait := available_in(pod, min_ready, now)) is not None
        ]
        return min(waits) + AVAILABILITY_SLACK if waits else None


class ReplicationManager(ReplicaSetController):
    """Keeps the pods of every ReplicationController (Kubernetes' ReplicationManager): the
    ReplicaSet controller on an equality-based label-map selector and a v1 owner reference."""

    name = "replicationcontroller"
    replica_kind = REPLICATION_CONTROLLER
