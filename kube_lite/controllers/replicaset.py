"""The ReplicaSet and ReplicationController controllers: keep `spec.replicas` pods matching
`spec.selector`, as Kubernetes' replicaset controller and its ReplicationManager do.

One implementation serves both kinds (Kubernetes runs the RC through the RS code the same way);
`ReplicaKind` holds what differs: the resource, the owner reference, the selector's form (a
LabelSelector, or an RC's plain label map) and whether status counts terminating pods.

reconcile(key), in order:

1. The owner is gone from the cache: forget its expectations; done.
2. An invalid selector: logged, not retried (only an edit can fix it).
3. The active pods (not being deleted, not Succeeded or Failed) it controls and the active
   orphans of its namespace (found through the pod informer's controller-uid index) are
   claimed: matching orphans are adopted (after a fresh GET proves the owner is still there and
   not being deleted), owned pods whose labels no longer match are released. What a sync
   counts of the pods it controls is kept per owner (`_OwnedPods`) and brought up to date with
   the pods whose events came since the last sync, rather than recounted from a thousand pods
   on each of the thousand syncs of a rollout; the counts are the same.
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
from kube_lite.client.informer import (
    NAMESPACE_INDEX,
    Informer,
    MutationCache,
    SharedInformerFactory,
    object_key,
)
from kube_lite.clock import Clock
from kube_lite.controllers.base import Controller
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
    is_pod_active,
    is_pod_available,
    is_pod_ready,
    is_pod_terminating,
    label_matcher,
    orphan_index_key,
    parse_time,
    pod_ready_condition,
    pods_to_delete,
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





def _rs_selector(owner: Object) -> LabelSelector:
    return from_label_selector(_spec(owner).get("selector"))


def _rc_selector(owner: Object) -> LabelSelector:
    # An RC's selector is a label map: nil selects nothing, as the conversion to a
    # LabelSelector (matchLabels) makes it.
    selector = _spec(owner).get("selector")
    return NOTHING if selector is None else from_label_selector({"matchLabels": selector})


def _ready_condition(pod: Object) -> tuple[Any, Any]:
    cond = pod_ready_condition(pod)
    return (None, None) if cond is None else (cond.get("status"), cond.get("lastTransitionTime"))


def _seen_change(old: Object, cur: Object) -> bool:
    """Whether a pod update changes anything a sync reads of a pod when it counts and claims:
    labels, controller reference, deletion, phase, or the Ready condition (its status and since
    when, for minReadySeconds). Which pods to delete is decided on the state at that sync."""
    old_meta, cur_meta = _meta(old), _meta(cur)
    if (old_meta.get("labels") != cur_meta.get("labels")
            or old_meta.get("deletionTimestamp") != cur_meta.get("deletionTimestamp")
            or old_meta.get("ownerReferences") != cur_meta.get("ownerReferences")):
        return True
    if (old.get("status") or {}).get("phase") != (cur.get("status") or {}).get("phase"):
        return True
    return _ready_condition(old) != _ready_condition(cur)


class _PodFacts:
    """What a sync reads of one version of a pod it controls (the cache replaces, never
    mutates, a pod: `pod` is that version), worked out once per version against the owner's
    selector and template labels."""

    __slots__ = ("active", "fully_labeled", "pod", "ready", "ready_since", "selected", "terminating")

    def __init__(self, pod: Object, selects: Callable[[Any], bool], template_selects: Callable[[Any], bool]) -> None:
        labels = _meta(pod).get("labels") or {}
        self.pod = pod
        self.active = is_pod_active(pod)
        self.terminating = is_pod_terminating(pod)
        self.selected = selects(labels)
        self.fully_labeled = template_selects(labels)
        cond = pod_ready_condition(pod)
        self.ready = cond is not None and cond.get("status") == "True"
        self.ready_since = parse_time(cond.get("lastTransitionTime")) if self.ready and cond is not None else None

    def is_available(self, min_ready: float, now: float) -> bool:
        """Ready, and ready for longer than `min_ready` seconds at `now` (if not 0)."""
        return self.ready and (not min_ready or (self.ready_since is not None and self.ready_since + min_ready < now))


class _OwnedPods:
    """The pods one owner controls (its uid's entries in the pod informer's controller-uid
    index), as its last sync counted them, for one selector and one set of template labels.

    The pod event handlers put the key of every pod that changed under this uid in `dirty`;
    `refresh` recounts those, so a sync costs what changed since the last, not the owner's size.
    `active` counts the active pods that match the selector (the owner's replicas), of which
    `fully_labeled` carry the template's labels and `ready` are Ready; `terminating` counts
    matching pods being deleted; `mismatched` the active ones the selector no longer matches
    (to be released)."""

    __slots__ = (
        "active", "dirty", "facts", "fully_labeled", "mismatched", "ready", "selector_text", "selects", "template_selects",
        "template_text", "terminating", "uid",
    )

    def __init__(self, uid: str, selector_text: str, selects: Callable[[Any], bool], template_text: str,
                 template_selects: Callable[[Any], bool]) -> None:
        self.uid = uid
        self.selector_text = selector_text
        self.selects = selects
        self.template_text = template_text
        self.template_selects = template_selects
        self.facts: dict[str, _PodFacts] = {}
        self.dirty: set[str] = set()
        self.active = self.fully_labeled = self.ready = self.terminating = self.mismatched = 0

    def _count(self, fact: _PodFacts, sign: int) -> None:
        if fact.active:
            if fact.selected:
                self.active += sign
                self.fully_labeled += sign if fact.fully_labeled else 0
                self.ready += sign if fact.ready else 0
            else:
                self.mismatched += sign
        elif fact.terminating and fact.selected:
            self.terminating += sign

    def put(self, key: str, pod: Object | None) -> None:
        """Count `pod` (the informer's version under `key`, None if gone) instead of what was
        counted under `key`; a pod this owner does not control counts for nothing."""
        old = self.facts.pop(key, None)
        if old is not None:
            self._count(old, -1)
        if pod is None or (controller_of(pod) or {}).get("uid") != self.uid:
            return
        fact = self.facts[key] = _PodFacts(pod, self.selects, self.template_selects)
        self._count(fact, 1)

    def refresh(self, pods: Informer) -> bool:
        """Recount the pods changed since the last refresh. Returns False when the count no
        longer agrees with the informer's index (a change no handler reported): the caller
        must then count afresh."""
        dirty, self.dirty = self.dirty, set()
        for key in dirty:
            self.put(key, pods.get(key))
        return len(self.facts) == pods.count_index(CONTROLLER_UID_INDEX, self.uid)

    def pods(self, *, selected: bool = True) -> list[Object]:
        """The active pods (matching the selector, or with `selected=False` not matching it),
        as last counted, in key order."""
        return [f.pod for _, f in sorted(self.facts.items()) if f.active and f.selected is selected]


@dataclass
class _Claimed:
    """The active pods an owner controls in one sync: the counted ones and those adopted now."""

    owned: _OwnedPods
    adopted: list[Object]

    @property
    def count(self) -> int:
        return self.owned.active + len(self.adopted)

    def pods(self) -> list[Object]:
        """Every one of them (built on demand: only a scale-down or minReadySeconds needs them)."""
        return self.owned.pods() + self.adopted

    def facts(self) -> list[_PodFacts]:
        adopted = [_PodFacts(pod, self.owned.selects, self.owned.template_selects) for pod in self.adopted]
        return [f for f in self.owned.facts.values() if f.active and f.selected] + adopted


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
    event_source = "replicaset-controller"
    workers = 5  # kube-controller-manager's --concurrent-replicaset-syncs
    replica_kind: ReplicaKind = REPLICA_SET

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
        # What each owner's last sync counted of its pods, by owner key and by owner uid (the
        # pod handlers find it by the uid of the pod's controller).
        self._owned: dict[str, _OwnedPods] = {}
        self._owned_by_uid: dict[str, _OwnedPods] = {}
        self.owners = self.informer(self.replica_kind.resource)
        # Its own status writes, read back until the informer delivers them.
        self.owner_writes = MutationCache(self.owners)
        self.pods = self.informer("pods")
        self.pods.add_indexer(CONTROLLER_UID_INDEX, controller_uid_index)
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
        elif self.owner_writes.echo(new):
            # The echo of its own status write: the sync that wrote it saw everything up to
            # then, and what changed since (pods) queued the key by itself.
            return
        self.enqueue(object_key(new))

    def _on_owner_delete(self, owner: Object) -> None:
        key = object_key(owner)
        self.expectations.delete(key)
        self._forget_owned(key)
        self.enqueue(key)

    def _forget_owned(self, key: str) -> None:
        owned = self._owned.pop(key, None)
        if owned is not None and self._owned_by_uid.get(owned.uid) is owned:
            del self._owned_by_uid[owned.uid]

    def _note_changed(self, pod: Object) -> None:
        """Mark `pod` for a recount by the owner controlling it, if that one counts its pods."""
        if self._owned_by_uid:
            ref = controller_of(pod)
            if ref is not None:
                owned = self._owned_by_uid.get(ref.get("uid") or "")
                if owned is not None:
                    owned.dirty.add(object_key(pod))

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
        self._note_changed(pod)
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
        # Every new version is counted anew (a scale-down ranks pods by their latest state).
        self._note_changed(cur)
        if controller_of(old) != controller_of(cur):
            self._note_changed(old)
        if not _seen_change(old, cur):
            # Nothing a sync reads of the pod changed (a binding, IPs, container states): a
            # sync now would reach the very decisions and status the last one reached.
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
        self._note_changed(pod)
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
        owner = self.owner_writes.get(key)
        if owner is None:
            self.expectations.delete(key)
            self._forget_owned(key)
            return None
        try:
            selector = self.replica_kind.selector(owner)
        except SelectorError as exc:
            # Only an edit of the object can fix it; the edit will queue the key again.
            self.log.error("invalid selector; not syncing", key=key, error=str(exc))
            return None
        needs_sync = self.expectations.satisfied(key)
        owned = self._owned_pods(key, owner, selector)
        # Only the pods it controls and the orphans of its namespace can be its pods: the
        # controller-uid index finds them without walking the namespace. Controlled pods that
        # match are claimed as they are (what the claim would decide, without a call); orphans
        # and pods that no longer match go through the claim.
        to_claim = [pod for pod in self.pods.by_index(CONTROLLER_UID_INDEX, orphan_index_key(_meta(owner).get("namespace") or ""))
                    if is_pod_active(pod)]
        if owned.mismatched:
            to_claim = sorted(to_claim + owned.pods(selected=False), key=object_key)
        claimed = _Claimed(owned, await self._claim_pods(owner, selector, to_claim) if to_claim else [])

        manage_error: Exception | None = None
        if needs_sync and not _meta(owner).get("deletionTimestamp"):
            try:
                await self._manage_replicas(key, owner, claimed)
            except Exception as exc:  # reported in status first, then raised for a retry
                manage_error = exc
        now = self.clock.time()
        status = self._calculate_status(owner, claimed, manage_error, now)
        await self._update_status(owner, status)
        if manage_error is not None:
            raise manage_error
        return self._next_availability_check(owner, claimed, now)

    def _owned_pods(self, key: str, owner: Object, selector: LabelSelector) -> _OwnedPods:
        """The owner's counted pods, brought up to date; counted afresh for a new owner, a new
        selector or new template labels."""
        uid = str(_meta(owner).get("uid") or "")
        selector_text = f"{selector.matches_nothing}:{selector}"  # NOTHING and the empty selector print alike
        template_selector = selector_from_set(((_spec(owner).get("template") or {}).get("metadata") or {}).get("labels"))
        template_text = f"{template_selector.matches_nothing}:{template_selector}"
        owned = self._owned.get(key)
        if (owned is not None and owned.uid == uid and owned.selector_text == selector_text
                and owned.template_text == template_text and owned.refresh(self.pods)):
            return owned
        self._forget_owned(key)
        owned = _OwnedPods(uid, selector_text, label_matcher(selector), template_text, label_matcher(template_selector))
        for pod_key in self.pods.index_keys(CONTROLLER_UID_INDEX, uid):
            owned.put(pod_key, self.pods.get(pod_key))
        self._owned[key] = self._owned_by_uid[uid] = owned
        return owned

    async def _claim_pods(self, owner: Object, selector: LabelSelector, pods: list[Object]) -> list[Object]:
        """The pods this owner controls after adopting matching orphans and releasing owned
        pods that no longer match. Raises the first adoption or release failure (after trying
        every pod)."""
        manager = ControllerRefManager(
            self.client, owner, selector, api_version=self.replica_kind.api_version, kind=self.replica_kind.kind,
            owner_resource=self.replica_kind.resource,
        )
        return await manager.claim(pods)

    async def _manage_replicas(self, key: str, owner: Object, claimed: _Claimed) -> None:
        """Create or delete pods so that the claimed (active) pods number spec.replicas.
        Raises the first failure."""
        namespace = _meta(owner).get("namespace") or ""
        diff = claimed.count - self.replica_kind.replicas(owner)
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
            pods = claimed.pods()
            # Ranking (and the related pods it weighs) only when not every pod goes.
            victims = pods if count >= len(pods) else pods_to_delete(pods, count, self.clock.time(), self._indirectly_related_pods(owner))
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
        one Deployment), each once, in key order; empty for an owner without a controller."""
        parent = controller_of(owner)
        if parent is None:
            return []
        namespace = _meta(owner).get("namespace") or ""
        matchers: list[Callable[[Any], bool]] = []
        for sibling in self.owners.by_index(NAMESPACE_INDEX, namespace):
            if (controller_of(sibling) or {}).get("uid") != parent.get("uid"):
                continue
            try:
                matchers.append(label_matcher(self.replica_kind.selector(sibling)))
            except SelectorError:
                continue
        related: list[Object] = []
        if not matchers:
            return related
        # One pass over the namespace's pods, whatever the number of siblings.
        for pod in self.pods.by_index(NAMESPACE_INDEX, namespace):
            labels = (pod.get("metadata") or {}).get("labels") or {}
            for matches in matchers:
                if matches(labels):
                    related.append(pod)
                    break
        return related

    # ------------------------------------------------------------------ status

    def _calculate_status(self, owner: Object, claimed: _Claimed, error: Exception | None, now: float) -> Object:
        """The status the owner should have (observedGeneration is set on write)."""
        spec = _spec(owner)
        status: Object = dict(owner.get("status") or {})
        min_ready = spec.get("minReadySeconds") or 0
        owned = claimed.owned
        if claimed.adopted or min_ready:
            facts = claimed.facts()
            fully_labeled = sum(1 for f in facts if f.fully_labeled)
            ready = sum(1 for f in facts if f.ready)
            available = sum(1 for f in facts if f.is_available(min_ready, now))
        else:
            fully_labeled, ready, available = owned.fully_labeled, owned.ready, owned.ready

        conditions = [dict(c) for c in status.get("conditions") or []]
        failure = next((c for c in conditions if c.get("type") == REPLICA_FAILURE), None)
        if error is not None and failure is None:
            diff = claimed.count - self.replica_kind.replicas(owner)
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
        status["replicas"] = claimed.count
        for name, value in (("fullyLabeledReplicas", fully_labeled), ("readyReplicas", ready), ("availableReplicas", available)):
            if value:
                status[name] = value
            else:
                status.pop(name, None)
        if self.replica_kind.tracks_terminating:
            status["terminatingReplicas"] = owned.terminating
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
                written = await self.client.update_status(self.replica_kind.resource, obj, namespace=meta.get("namespace"))
                # A first attempt wrote over the version this sync acted on: its echo is no
                # news. A retry wrote over a fresh read whose spec this sync never acted on.
                self.owner_writes.mutation(written, echo=attempt == 0)
                return written
            except APIError:
                if attempt >= STATUS_UPDATE_RETRIES:
                    raise
            fresh = await self.client.get(self.replica_kind.resource, meta["name"], namespace=meta.get("namespace"))
            obj = {**fresh, "status": status}
        raise AssertionError("unreachable")

    def _next_availability_check(self, owner: Object, claimed: _Claimed, now: float) -> float | None:
        """Seconds until the first ready pod becomes available under minReadySeconds, or None."""
        min_ready = _spec(owner).get("minReadySeconds") or 0
        if not min_ready:
            return None
        waits = [
            wait for pod in claimed.pods()
            if not is_pod_available(pod, min_ready, now) and (wait := available_in(pod, min_ready, now)) is not None
        ]
        return min(waits) + AVAILABILITY_SLACK if waits else None


class ReplicationManager(ReplicaSetController):
    """Keeps the pods of every ReplicationController (Kubernetes' ReplicationManager): the
    ReplicaSet controller on an equality-based label-map selector and a v1 owner reference."""

    name = "replicationcontroller"
    event_source = "replication-controller"
    replica_kind = REPLICATION_CONTROLLER
