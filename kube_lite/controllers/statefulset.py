"""The StatefulSet controller: pods with stable ordinal identities and per-pod claims, as
Kubernetes' statefulset controller keeps them.

A StatefulSet NAME with replicas N and ordinals.start S owns pods NAME-S .. NAME-(S+N-1). Each
pod carries its identity (labels statefulset.kubernetes.io/pod-name and
apps.kubernetes.io/pod-index, hostname NAME-i, subdomain spec.serviceName), its revision
(label controller-revision-hash = the ControllerRevision's name) and, for every
volumeClaimTemplate T, a volume T pointing at the claim T-NAME-i, created before the pod.

reconcile(key), in order:

1. The StatefulSet is gone from the cache: done. An invalid or empty selector: logged, not
   retried (only an edit can fix it).
2. Pods of the namespace are claimed (matching orphans adopted after a fresh GET of the set,
   owned pods that no longer match released), and so are its ControllerRevisions.
3. History: the revision of the current template is found (an equal one reused, renumbered if
   it is not the newest) or created as `NAME-HASH` (FNV-32 of the data and the collision count;
   a name taken by a different revision bumps status.collisionCount and is retried). The current
   revision is status.currentRevision's, or the update revision when there is none.
4. Unless the set is being deleted, the pods converge (`_converge`):
   - each ordinal in range, lowest first: a Failed or Succeeded pod is deleted (recreated on a
     later pass); a missing pod gets its claims then is created, from the current revision's
     template below the partition (RollingUpdate) and the update revision's otherwise. With
     OrderedReady the pass stops at the first pod missing, terminating or not Running and Ready;
     Parallel goes on;
   - claims' ownerReferences follow persistentVolumeClaimRetentionPolicy (whenDeleted=Delete:
     owned by the set; whenScaled=Delete: a condemned pod's claims owned by that pod, so that
     the garbage collector deletes them with it);
   - pods at ordinals out of range are deleted, highest first: one at a time, each only once it
     is the only unhealthy one, with OrderedReady; all at once with Parallel;
   - RollingUpdate: from the highest ordinal down to the partition, the first pod of another
     revision is deleted (it comes back at the update revision), one at a time, waiting for each
     to be Running and available. OnDelete: pods change only when someone deletes them.
5. Status (replicas, readyReplicas, currentReplicas, updatedReplicas, availableReplicas,
   currentRevision, updateRevision, collisionCount, observedGeneration) is written through the
   status subresource when it changed; a finished rolling update makes the update revision the
   current one. Old revisions not used by any pod beyond revisionHistoryLimit are deleted.
6. Failures raise (retried with backoff); pods ready but not yet available for minReadySeconds
   make the key come back when the first of them will be.

No PersistentVolume provisioner runs in kube-lite: claims stay Pending, and pods are created and
started without waiting for them to bind.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kube_lite.api.errors import APIError
from kube_lite.api.selectors import LabelSelector, SelectorError, from_label_selector
from kube_lite.client.client import Client
from kube_lite.client.events import NORMAL, WARNING, EventRecorder
from kube_lite.client.informer import NAMESPACE_INDEX, SharedInformerFactory, object_key, split_key
from kube_lite.clock import Clock
from kube_lite.controllers.base import Controller
from kube_lite.controllers.deploymentutil import safe_encode
from kube_lite.controllers.objects import labels as _labels
from kube_lite.controllers.objects import meta as _meta
from kube_lite.controllers.objects import spec as _spec
from kube_lite.controllers.podcontrol import (
    CONTROLLER_UID_INDEX,
    ControllerRefManager,
    available_in,
    controller_of,
    controller_ref,
    controller_uid_index,
    is_pod_available,
    is_pod_ready,
    owned_and_orphans,
    pod_from_template,
)

Object = dict[str, Any]

API_VERSION = "apps/v1"
KIND = "StatefulSet"

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
REVISION_LABEL = "controller-revision-hash"
REVISION_HASH_LABEL = "controller.kubernetes.io/hash"

ORDERED_READY = "OrderedReady"
PARALLEL = "Parallel"
ROLLING_UPDATE = "RollingUpdate"
ON_DELETE = "OnDelete"
RETAIN = "Retain"
DELETE = "Delete"

STATUS_UPDATE_RETRIES = 1
AVAILABILITY_SLACK = 0.01
# Room for "-<hash>" in a 253-character name, as Kubernetes truncates the prefix.
_REVISION_PREFIX_MAX = 223





# ---------------------------------------------------------------------------------- the spec


def replicas_of(sts: Object) -> int:
    value = _spec(sts).get("replicas")
    return 1 if value is None else int(value)


def start_ordinal(sts: Object) -> int:
    return int((_spec(sts).get("ordinals") or {}).get("start") or 0)


def is_parallel(sts: Object) -> bool:
    return _spec(sts).get("podManagementPolicy") == PARALLEL


def strategy_type(sts: Object) -> str:
    return (_spec(sts).get("updateStrategy") or {}).get("type") or ROLLING_UPDATE


def partition_of(sts: Object) -> int:
    rolling = (_spec(sts).get("updateStrategy") or {}).get("rollingUpdate") or {}
    return int(rolling.get("partition") or 0)


def retention_policy(sts: Object) -> tuple[str, str]:
    """(whenDeleted, whenScaled), Retain when unset."""
    policy = _spec(sts).get("persistentVolumeClaimRetentionPolicy") or {}
    return policy.get("whenDeleted") or RETAIN, policy.get("whenScaled") or RETAIN


def selector_of(sts: Object) -> LabelSelector:
    """The set's pod selector. Raises SelectorError when it is invalid or empty (an empty
    selector would select every pod of the namespace)."""
    selector = from_label_selector(_spec(sts).get("selector"))
    if selector.empty:
        raise SelectorError("selector is empty")
    return selector


# ---------------------------------------------------------------------------------- identity

_ORDINAL_RE = re.compile(r"^(.*)-([0-9]+)$")


def parent_and_ordinal(pod: Object) -> tuple[str, int] | None:
    """(set name, ordinal) parsed from a pod's name "NAME-i", or None."""
    match = _ORDINAL_RE.match(_meta(pod).get("name") or "")
    if match is None:
        return None
    return match.group(1), int(match.group(2))


def ordinal_of(pod: Object) -> int:
    parsed = parent_and_ordinal(pod)
    return -1 if parsed is None else parsed[1]


def is_member_of(sts: Object, pod: Object) -> bool:
    parsed = parent_and_ordinal(pod)
    return parsed is not None and parsed[0] == _meta(sts).get("name")


def pod_name(sts: Object, ordinal: int) -> str:
    return f"{_meta(sts).get('name')}-{ordinal}"


def claim_name(template_name: str, sts: Object, ordinal: int) -> str:
    return f"{template_name}-{_meta(sts).get('name')}-{ordinal}"


def identity_matches(sts: Object, pod: Object) -> bool:
    """The pod has the name and identity labels of its ordinal in this set."""
    parsed = parent_and_ordinal(pod)
    if parsed is None or parsed[0] != _meta(sts).get("name"):
        return False
    labels = _labels(pod)
    return (
        _meta(pod).get("namespace") == _meta(sts).get("namespace")
        and labels.get(POD_NAME_LABEL) == _meta(pod).get("name")
        and labels.get(POD_INDEX_LABEL) == str(parsed[1])
    )


def claims_for(sts: Object, ordinal: int) -> list[Object]:
    """The PersistentVolumeClaims the pod at `ordinal` needs: one per volumeClaimTemplate,
    named TEMPLATE-SET-ORDINAL, with the template's labels and the selector's matchLabels."""
    meta = _meta(sts)
    match_labels = (_spec(sts).get("selector") or {}).get("matchLabels") or {}
    claims = []
    for template in _spec(sts).get("volumeClaimTemplates") or []:
        tmeta = _meta(template)
        labels = {**(tmeta.get("labels") or {}), **match_labels}
        cmeta: Object = {"name": claim_name(tmeta.get("name") or "", sts, ordinal), "namespace": meta.get("namespace")}
        if labels:
            cmeta["labels"] = labels
        if tmeta.get("annotations"):
            cmeta["annotations"] = dict(tmeta["annotations"])
        claims.append({
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": cmeta,
            "spec": copy.deepcopy(_spec(template)),
        })
    return claims


def new_pod(sts: Object, template: Object, revision_name: str, ordinal: int) -> Object:
    """The pod for `ordinal` built from `template` (the set's, or an older revision's): the
    template's labels, annotations and spec, the set as controller, its identity, its claims as
    volumes and its revision label."""
    namespace = _meta(sts).get("namespace") or "default"
    pod = pod_from_template(template, sts, controller_ref(sts, API_VERSION, KIND), namespace=namespace)
    meta = pod["metadata"]
    meta.pop("generateName", None)
    name = pod_name(sts, ordinal)
    meta["name"] = name
    meta["labels"][POD_NAME_LABEL] = name
    meta["labels"][POD_INDEX_LABEL] = str(ordinal)
    meta["labels"][REVISION_LABEL] = revision_name
    spec = pod["spec"]
    spec["hostname"] = name
    if _spec(sts).get("serviceName"):
        spec["subdomain"] = _spec(sts)["serviceName"]
    claim_volumes = [
        {"name": _meta(t).get("name"), "persistentVolumeClaim": {"claimName": claim_name(_meta(t).get("name") or "", sts, ordinal)}}
        for t in _spec(sts).get("volumeClaimTemplates") or []
    ]
    if claim_volumes:
        taken = {v["name"] for v in claim_volumes}
        spec["volumes"] = claim_volumes + [v for v in spec.get("volumes") or [] if v.get("name") not in taken]
    return pod


# ---------------------------------------------------------------------------------- pod state


def is_created(pod: Object) -> bool:
    return bool((pod.get("status") or {}).get("phase"))


def is_terminating(pod: Object) -> bool:
    return bool(_meta(pod).get("deletionTimestamp"))


def is_failed_or_succeeded(pod: Object) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Failed", "Succeeded")


def is_running_and_ready(pod: Object) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and is_pod_ready(pod)


def is_healthy(pod: Object) -> bool:
    return is_running_and_ready(pod) and not is_terminating(pod)


def revision_of(pod: Object) -> str:
    return _labels(pod).get(REVISION_LABEL) or ""


# ---------------------------------------------------------------------------------- history


def revision_data(sts: Object) -> Object:
    """What a ControllerRevision of `sts` holds: a strategic merge patch replacing the template."""
    template = copy.deepcopy(_spec(sts).get("template") or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def template_of_revision(revision: Object) -> Object:
    """The pod template a revision recorded."""
    template = copy.deepcopy(((revision.get("data") or {}).get("spec") or {}).get("template") or {})
    template.pop("$patch", None)
    return template


def _fnv32(data: bytes, value: int = 0x811C9DC5) -> int:
    for byte in data:
        value = ((value * 0x01000193) & 0xFFFFFFFF) ^ byte
    return value


def revision_hash(data: Object, collision_count: int) -> str:
    """FNV-32 of the revision's JSON, then of the collision count in decimal, safe-encoded."""
    digest = _fnv32(json.dumps(data, sort_keys=True, separators=(",", ":")).encode())
    digest = _fnv32(str(collision_count).encode(), digest)
    return safe_encode(str(digest))


def revision_name(sts: Object, hash_: str) -> str:
    return f"{(_meta(sts).get('name') or '')[:_REVISION_PREFIX_MAX]}-{hash_}"


def new_revision(sts: Object, number: int, collision_count: int) -> Object:
    """The ControllerRevision recording `sts`'s current template as revision `number`."""
    data = revision_data(sts)
    hash_ = revision_hash(data, collision_count)
    labels = dict(_labels(_spec(sts).get("template")))
    labels[REVISION_HASH_LABEL] = hash_
    return {
        "apiVersion": API_VERSION, "kind": "ControllerRevision",
        "metadata": {
            "name": revision_name(sts, hash_), "namespace": _meta(sts).get("namespace"), "labels": labels,
            "ownerReferences": [controller_ref(sts, API_VERSION, KIND)],
        },
        "data": data, "revision": number,
    }


def equal_revision(a: Object, b: Object) -> bool:
    return _labels(a).get(REVISION_HASH_LABEL) == _labels(b).get(REVISION_HASH_LABEL) and a.get("data") == b.get("data")


def sort_revisions(revisions: Iterable[Object]) -> list[Object]:
    return sorted(revisions, key=lambda r: (int(r.get("revision") or 0), _meta(r).get("creationTimestamp") or "", _meta(r).get("name") or ""))


def revisions_to_delete(sts: Object, revisions: list[Object], pods: list[Object], current: str, update: str) -> list[Object]:
    """Revisions beyond revisionHistoryLimit that neither a pod nor the status uses, oldest
    first."""
    live = {revision_of(p) for p in pods} | {current, update}
    history = [r for r in sort_revisions(revisions) if _meta(r).get("name") not in live]
    limit = _spec(sts).get("revisionHistoryLimit")
    limit = 10 if limit is None else int(limit)
    excess = len(history) - limit
    return history[:excess] if excess > 0 else []


# ---------------------------------------------------------------------------------- claims' owners


def _ref_to(owner: Object, api_version: str, kind: str, *, controller: bool) -> Object:
    ref: Object = {"apiVersion": api_version, "kind": kind, "name": _meta(owner).get("name"), "uid": _meta(owner).get("uid")}
    if controller:
        ref["controller"] = True
        ref["blockOwnerDeletion"] = True
    return ref


def claim_owner_refs(claim: Object, sts: Object, pod: Object | None, condemned: bool) -> list[Object]:
    """The ownerReferences a claim should have under the set's retention policy: the set's
    (whenDeleted=Delete and the pod is not condemned, or whenScaled=Retain) and the pod's
    (condemned under whenScaled=Delete); references to anything else are kept."""
    when_deleted, when_scaled = retention_policy(sts)
    set_uid = _meta(sts).get("uid")
    pod_uid = _meta(pod).get("uid") if pod is not None else None
    refs = [r for r in _meta(claim).get("ownerReferences") or [] if r.get("uid") not in (set_uid, pod_uid)]
    want_set = when_deleted == DELETE and not (when_scaled == DELETE and condemned)
    want_pod = when_scaled == DELETE and condemned and pod is not None
    if want_set:
        existing = next((r for r in _meta(claim).get("ownerReferences") or [] if r.get("uid") == set_uid), None)
        refs.append(existing or _ref_to(sts, API_VERSION, KIND, controller=True))
    if want_pod:
        existing = next((r for r in _meta(claim).get("ownerReferences") or [] if r.get("uid") == pod_uid), None)
        refs.append(existing or _ref_to(pod, "v1", "Pod", controller=False))  # type: ignore[arg-type]
    return refs


# ---------------------------------------------------------------------------------- status


def compute_status(sts: Object, pods: list[Object], current: str, update: str, collision_count: int, now: float) -> Object:
    """The status the set should have for these (claimed) pods, before any rolling update is
    declared complete."""
    min_ready = _spec(sts).get("minReadySeconds") or 0
    counts = {"replicas": 0, "readyReplicas": 0, "availableReplicas": 0, "currentReplicas": 0, "updatedReplicas": 0}
    for pod in pods:
        if not is_created(pod):
            continue
        counts["replicas"] += 1
        if is_running_and_ready(pod):
            counts["readyReplicas"] += 1
            if is_pod_available(pod, min_ready, now):
                counts["availableReplicas"] += 1
        if not is_terminating(pod):
            if revision_of(pod) == current:
                counts["currentReplicas"] += 1
            if revision_of(pod) == update:
                counts["updatedReplicas"] += 1
    status: Object = {**counts, "currentRevision": current, "updateRevision": update, "collisionCount": collision_count}
    if (
        strategy_type(sts) == ROLLING_UPDATE
        and counts["updatedReplicas"] == counts["replicas"]
        and counts["readyReplicas"] == counts["replicas"]
    ):
        status["currentReplicas"] = counts["updatedReplicas"]
        status["currentRevision"] = update
    # On the wire as Kubernetes writes it: the counts omitted when zero, but for replicas and
    # availableReplicas.
    for name in ("readyReplicas", "currentReplicas", "updatedReplicas"):
        if not status[name]:
            del status[name]
    if _meta(sts).get("generation"):
        status["observedGeneration"] = _meta(sts)["generation"]
    conditions = (sts.get("status") or {}).get("conditions")
    if conditions:
        status["conditions"] = conditions
    return status


_STATUS_FIELDS = (
    "replicas", "readyReplicas", "currentReplicas", "updatedReplicas", "availableReplicas", "currentRevision",
    "updateRevision", "collisionCount", "observedGeneration",
)


def status_unchanged(sts: Object, status: Object) -> bool:
    old = sts.get("status") or {}
    return all(old.get(f) == status.get(f) for f in _STATUS_FIELDS)


# ---------------------------------------------------------------------------------- the controller


@dataclass
class _Pass:
    """What one reconcile pass learned while converging."""

    created: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


class StatefulSetController(Controller):
    """Keeps the pods, claims and history of every StatefulSet; see the module doc."""

    name = "statefulset"
    event_source = "statefulset-controller"
    workers = 5  # kube-controller-manager's --concurrent-statefulset-syncs

    def __init__(
        self, client: Client, clock: Clock | None = None, recorder: EventRecorder | None = None, *,
        informers: SharedInformerFactory | None = None,
    ) -> None:
        super().__init__(client, clock, recorder, informers=informers)
        self.sets = self.informer("statefulsets")
        self.pods = self.informer("pods")
        self.pods.add_indexer(CONTROLLER_UID_INDEX, controller_uid_index)
        self.revisions = self.informer("controllerrevisions")
        self.claims = self.informer("persistentvolumeclaims")
        self.sets.add_handler(self._on_set_add, self._on_set_update, self._on_set_delete)
        self.pods.add_handler(self._on_pod_add, self._on_pod_update, self._on_pod_delete)
        self.revisions.add_handler(self._on_owned, lambda old, new: self._on_owned(new), self._on_owned)

    # ------------------------------------------------------------------ event handlers

    def _on_set_add(self, sts: Object) -> None:
        self.enqueue(object_key(sts))

    def _on_set_update(self, old: Object, new: Object) -> None:
        self.enqueue(object_key(new))

    def _on_set_delete(self, sts: Object) -> None:
        self.enqueue(object_key(sts))

    def _owner_key(self, obj: Object) -> str | None:
        ref = controller_of(obj)
        if ref is None or ref.get("kind") != KIND:
            return None
        key = f"{_meta(obj).get('namespace') or ''}/{ref.get('name')}"
        owner = self.sets.get(key)
        if owner is None or _meta(owner).get("uid") != ref.get("uid"):
            return None
        return key

    def _on_owned(self, obj: Object) -> None:
        key = self._owner_key(obj)
        if key is not None:
            self.enqueue(key)

    def _sets_selecting(self, pod: Object) -> list[Object]:
        found = []
        for sts in self.sets.by_index(NAMESPACE_INDEX, _meta(pod).get("namespace") or ""):
            try:
                if selector_of(sts).matches(_labels(pod)):
                    found.append(sts)
            except SelectorError:
                continue
        return found

    def _on_pod_add(self, pod: Object) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self.enqueue(key)
        elif controller_of(pod) is None:
            for sts in self._sets_selecting(pod):
                self.enqueue(object_key(sts))

    def _on_pod_update(self, old: Object, cur: Object) -> None:
        if _meta(old).get("resourceVersion") == _meta(cur).get("resourceVersion"):
            return
        old_key, cur_key = self._owner_key(old), self._owner_key(cur)
        if old_key is not None and old_key != cur_key:
            self.enqueue(old_key)
        if cur_key is not None:
            self.enqueue(cur_key)
            sts = self.sets.get(cur_key)
            min_ready = int(_spec(sts).get("minReadySeconds") or 0)
            if min_ready > 0 and not is_pod_ready(old) and is_pod_ready(cur):
                self.queue.add_after(cur_key, min_ready + 1.0)
        elif controller_of(cur) is None and (_labels(old) != _labels(cur) or controller_of(old) is not None):
            for sts in self._sets_selecting(cur):
                self.enqueue(object_key(sts))

    def _on_pod_delete(self, pod: Object) -> None:
        self._on_owned(pod)

    # ------------------------------------------------------------------ events

    def _pod_event(self, verb: str, sts: Object, name: str, error: Exception | None) -> None:
        set_name = _meta(sts).get("name")
        reason = f"{'Successful' if error is None else 'Failed'}{verb.capitalize()}"
        if error is None:
            self._event(sts, NORMAL, reason, f"{verb} Pod {name} in StatefulSet {set_name} successful")
        else:
            self._event(sts, WARNING, reason, f"{verb} Pod {name} in StatefulSet {set_name} failed error: {_message(error)}")

    def _claim_event(self, verb: str, sts: Object, pod: str, claim: str, error: Exception | None) -> None:
        set_name = _meta(sts).get("name")
        reason = f"{'Successful' if error is None else 'Failed'}{verb.capitalize()}"
        if error is None:
            self._event(sts, NORMAL, reason, f"{verb} Claim {claim} Pod {pod} in StatefulSet {set_name} success")
        else:
            self._event(sts, WARNING, reason, f"{verb} Claim {claim} for Pod {pod} in StatefulSet {set_name} failed error: {_message(error)}")

    # ------------------------------------------------------------------ reconcile

    async def reconcile(self, key: str) -> float | None:
        sts = self.sets.get(key)
        if sts is None:
            return None
        namespace = split_key(key)[0] or ""
        try:
            selector = selector_of(sts)
        except SelectorError as exc:
            self.log.error("invalid selector; not syncing", key=key, error=str(exc))
            return None
        pods = await self._claim_pods(sts, selector, owned_and_orphans(self.pods, sts))
        uid = _meta(sts).get("uid")
        revisions = [r for r in self.revisions.by_index(NAMESPACE_INDEX, namespace) if (controller_of(r) or {}).get("uid") == uid]
        collision_count = int((sts.get("status") or {}).get("collisionCount") or 0)
        update, collision_count = await self._update_revision(sts, revisions, collision_count)
        names = {_meta(r).get("name"): r for r in revisions}
        names[_meta(update)["name"]] = update
        current_name = (sts.get("status") or {}).get("currentRevision") or ""
        current = names.get(current_name) or update

        now = self.clock.time()
        members = [p for p in pods if is_member_of(sts, p)]
        status = compute_status(sts, members, _meta(current)["name"], _meta(update)["name"], collision_count, now)
        error: Exception | None = None
        if not _meta(sts).get("deletionTimestamp"):
            try:
                await self._converge(sts, members, current, update)
            except Exception as exc:  # status first, then the retry
                error = exc
        await self._update_status(sts, status)
        if error is not None:
            raise error
        for revision in revisions_to_delete(sts, list(names.values()), members, status["currentRevision"], status["updateRevision"]):
            try:
                await self.client.delete("controllerrevisions", _meta(revision)["name"], namespace=namespace)
            except APIError as exc:
                if exc.code != 404:
                    raise
        return self._next_availability_check(sts, members, now)

    # ------------------------------------------------------------------ claiming

    async def _claim_pods(self, sts: Object, selector: LabelSelector, pods: list[Object]) -> list[Object]:
        """The pods the set controls after adopting matching orphans and releasing owned pods
        that no longer match. Raises the first adoption or release failure."""
        manager = ControllerRefManager(self.client, sts, selector, api_version=API_VERSION, kind=KIND, owner_resource="statefulsets")
        return await manager.claim(pods)

    # ------------------------------------------------------------------ history

    async def _update_revision(self, sts: Object, revisions: list[Object], collision_count: int) -> tuple[Object, int]:
        """The revision of the set's current template (reused, renumbered or created) and the
        collision count after creating it."""
        ordered = sort_revisions(revisions)
        latest = int(ordered[-1].get("revision") or 0) if ordered else 0
        candidate = new_revision(sts, latest + 1, collision_count)
        equal = [r for r in ordered if r.get("data") == candidate["data"]]
        namespace = _meta(sts).get("namespace")
        if equal:
            found = equal[-1]
            if int(found.get("revision") or 0) == latest:
                return found, collision_count
            renumbered = {**copy.deepcopy(found), "revision": latest + 1}
            return await self.client.update("controllerrevisions", renumbered, namespace=namespace), collision_count
        while True:
            candidate = new_revision(sts, latest + 1, collision_count)
            try:
                return await self.client.create("controllerrevisions", candidate, namespace=namespace), collision_count
            except APIError as exc:
                if exc.code != 409:
                    raise
            existing = await self.client.get("controllerrevisions", _meta(candidate)["name"], namespace=namespace)
            if equal_revision(existing, candidate):
                return existing, collision_count
            collision_count += 1

    # ------------------------------------------------------------------ converging

    async def _converge(self, sts: Object, pods: list[Object], current: Object, update: Object) -> _Pass:
        """Create, delete and fix pods and claims one step towards the spec (see the module
        doc). Returns what it did; raises the first failure."""
        done = _Pass()
        start, count = start_ordinal(sts), replicas_of(sts)
        monotonic = not is_parallel(sts)
        replicas: dict[int, Object] = {}
        condemned: list[Object] = []
        for pod in pods:
            ordinal = ordinal_of(pod)
            if start <= ordinal < start + count:
                replicas[ordinal] = pod
            elif ordinal >= 0:
                condemned.append(pod)
        condemned.sort(key=ordinal_of, reverse=True)
        update_name = _meta(update)["name"]
        first_unhealthy = next(
            (p for p in [*(replicas[o] for o in sorted(replicas)), *condemned] if not is_healthy(p)), None,
        )

        # Every ordinal in range, lowest first.
        for ordinal in range(start, start + count):
            pod = replicas.get(ordinal)
            if pod is not None and is_failed_or_succeeded(pod) and not is_terminating(pod):
                await self._delete_pod(sts, pod, done)
                if monotonic:
                    return done
                continue
            if pod is None:
                use_current = (
                    strategy_type(sts) == ROLLING_UPDATE and ordinal - start < partition_of(sts)
                )
                revision = current if use_current else update
                await self._create_pod(sts, new_pod(sts, template_of_revision(revision), _meta(revision)["name"], ordinal), ordinal, done)
                if monotonic:
                    return done
                continue
            if is_terminating(pod) or not is_running_and_ready(pod):
                if monotonic:
                    return done
                continue
            await self._fix_identity_and_claims(sts, pod, ordinal, condemned=False, done=done)

        # Claims of condemned pods follow the retention policy before the pods go.
        for pod in condemned:
            await self._fix_claims(sts, pod, ordinal_of(pod), condemned=True)

        # Out-of-range ordinals, highest first.
        for pod in condemned:
            if is_terminating(pod):
                if monotonic:
                    return done
                continue
            if monotonic and not is_healthy(pod) and pod is not first_unhealthy:
                return done
            await self._delete_pod(sts, pod, done)
            if monotonic:
                return done

        if strategy_type(sts) != ROLLING_UPDATE:
            return done
        # Rolling update: highest ordinal first, down to the partition, one at a time.
        minimum = start + partition_of(sts)
        min_ready = _spec(sts).get("minReadySeconds") or 0
        now = self.clock.time()
        for ordinal in range(start + count - 1, minimum - 1, -1):
            pod = replicas.get(ordinal)
            if pod is None or _meta(pod).get("name") in done.created:
                return done
            if revision_of(pod) != update_name and not is_terminating(pod):
                await self._delete_pod(sts, pod, done)
                return done
            if not is_healthy(pod) or not is_pod_available(pod, min_ready, now):
                return done
        return done

    async def _create_pod(self, sts: Object, pod: Object, ordinal: int, done: _Pass) -> None:
        namespace = _meta(sts).get("namespace") or "default"
        name = _meta(pod)["name"]
        await self._create_claims(sts, name, ordinal)
        try:
            await self.client.create("pods", pod, namespace=namespace)
        except APIError as exc:
            if exc.code == 409:  # the cache is behind: it exists already
                return
            self._pod_event("create", sts, name, exc)
            raise
        done.created.append(name)
        self._pod_event("create", sts, name, None)

    async def _create_claims(self, sts: Object, pod: str, ordinal: int) -> None:
        """Create the pod's missing claims. Raises when one fails or is being deleted (the pod
        must wait for it to go and be made anew)."""
        namespace = _meta(sts).get("namespace") or "default"
        errors: list[Exception] = []
        for claim in claims_for(sts, ordinal):
            name = _meta(claim)["name"]
            existing = self.claims.get(f"{namespace}/{name}")
            if existing is not None:
                if is_terminating(existing):
                    errors.append(RuntimeError(f"pvc {name} is being deleted"))
                continue
            claim["metadata"]["ownerReferences"] = claim_owner_refs(claim, sts, None, condemned=False) or None
            if claim["metadata"]["ownerReferences"] is None:
                del claim["metadata"]["ownerReferences"]
            try:
                await self.client.create("persistentvolumeclaims", claim, namespace=namespace)
            except APIError as exc:
                if exc.code == 409:
                    continue
                self._claim_event("create", sts, pod, name, exc)
                errors.append(exc)
                continue
            self._claim_event("create", sts, pod, name, None)
        if errors:
            raise errors[0]

    async def _delete_pod(self, sts: Object, pod: Object, done: _Pass) -> None:
        name = _meta(pod)["name"]
        try:
            await self.client.delete("pods", name, namespace=_meta(pod).get("namespace"))
        except APIError as exc:
            if exc.code == 404:
                return
            self._pod_event("delete", sts, name, exc)
            raise
        done.deleted.append(name)
        self._pod_event("delete", sts, name, None)

    async def _fix_identity_and_claims(self, sts: Object, pod: Object, ordinal: int, *, condemned: bool, done: _Pass) -> None:
        if not identity_matches(sts, pod):
            # Labels are all that can change on a running pod (hostname and subdomain are
            # immutable); a pod of another name never gets here.
            patch = {"metadata": {"labels": {POD_NAME_LABEL: _meta(pod)["name"], POD_INDEX_LABEL: str(ordinal)}}}
            name = _meta(pod)["name"]
            try:
                await self.client.patch("pods", name, patch, namespace=_meta(pod).get("namespace"))
            except APIError as exc:
                self._pod_event("update", sts, name, exc)
                raise
            self._pod_event("update", sts, name, None)
        await self._create_claims(sts, _meta(pod)["name"], ordinal)
        await self._fix_claims(sts, pod, ordinal, condemned=condemned)

    async def _fix_claims(self, sts: Object, pod: Object, ordinal: int, *, condemned: bool) -> None:
        """Set the ownerReferences of the pod's existing claims per the retention policy."""
        namespace = _meta(sts).get("namespace") or "default"
        for wanted in claims_for(sts, ordinal):
            claim = self.claims.get(f"{namespace}/{_meta(wanted)['name']}")
            if claim is None or is_terminating(claim):
                continue
            refs = claim_owner_refs(claim, sts, pod, condemned)
            if refs == (_meta(claim).get("ownerReferences") or []):
                continue
            updated = copy.deepcopy(claim)
            if refs:
                updated["metadata"]["ownerReferences"] = refs
            else:
                updated["metadata"].pop("ownerReferences", None)
            try:
                await self.client.update("persistentvolumeclaims", updated, namespace=namespace)
            except APIError as exc:
                if exc.code != 404:
                    raise

    # ------------------------------------------------------------------ status

    async def _update_status(self, sts: Object, status: Object) -> None:
        if status_unchanged(sts, status):
            return
        meta = _meta(sts)
        obj = {**sts, "status": status}
        for attempt in range(STATUS_UPDATE_RETRIES + 1):
            try:
                await self.client.update_status("statefulsets", obj, namespace=meta.get("namespace"))
                return
            except APIError as exc:
                if exc.code == 404 or attempt >= STATUS_UPDATE_RETRIES:
                    if exc.code == 404:
                        return
                    raise
            fresh = await self.client.get("statefulsets", meta["name"], namespace=meta.get("namespace"))
            obj = {**fresh, "status": status}

    def _next_availability_check(self, sts: Object, pods: list[Object], now: float) -> float | None:
        min_ready = _spec(sts).get("minReadySeconds") or 0
        if not min_ready:
            return None
        waits = [
            wait for pod in pods
            if not is_pod_available(pod, min_ready, now) and (wait := available_in(pod, min_ready, now)) is not None
        ]
        return min(waits) + AVAILABILITY_SLACK if waits else None


def _message(error: Exception) -> str:
    return error.message if isinstance(error, APIError) else str(error)
