"""What the controllers that own pods share, as Kubernetes' pkg/controller does for its own:

- `PodControl`: create a pod from a template on behalf of an owner (its controller reference,
  generateName "<owner>-", the template's labels, annotations and finalizers), delete one, patch
  one, and record the Events Kubernetes records for each (SuccessfulCreate, FailedCreate,
  SuccessfulDelete, FailedDelete).
- `ControllerRefManager`: the adopt/release/claim loop (Kubernetes' ControllerRefManager): an
  owner claims the objects it controls and that its selector matches, adopts matching orphans
  (after a fresh read proves the owner still there) and releases owned objects that no longer
  match. Every controller that owns by selector claims through it: ReplicaSets and
  ReplicationControllers, DaemonSets, StatefulSets and Jobs their pods (a Job with its tracking
  finalizer), Deployments their ReplicaSets. `CONTROLLER_UID_INDEX` / `controller_uid_index` index a cache by controller uid (orphans
  under `orphan_index_key(namespace)`), so that an owner finds its candidates without walking
  its namespace (`owned_and_orphans`).
- `Expectations` and `UIDTrackingExpectations`: how many creations and deletions a controller
  is still waiting to see through its informer, per controller key, so that a slow watch never
  makes it act twice; an expectation older than five minutes counts as satisfied.
- Pod predicates: active, terminating, ready, available after minReadySeconds.
- `rank_pods_for_deletion` / `pods_to_delete`: the order in which a scale-down removes pods,
  least valuable first.

Everything here is a pure function of its arguments except `PodControl`, which does the I/O.
Pods and owners are plain JSON dicts, as the informers cache them; nothing is mutated.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cmp_to_key
from typing import Any

import anyio
import structlog

from kube_lite.api.errors import APIError
from kube_lite.api.selectors import OP_DOUBLE_EQUALS, OP_EQUALS, OP_IN, LabelSelector
from kube_lite.client.client import Client
from kube_lite.client.events import NORMAL, WARNING, EventSink
from kube_lite.client.informer import Informer
from kube_lite.clock import Clock

log = structlog.get_logger(__name__)

Object = dict[str, Any]

# Event reasons, as Kubernetes' pod control spells them.
SUCCESSFUL_CREATE = "SuccessfulCreate"
FAILED_CREATE = "FailedCreate"
SUCCESSFUL_DELETE = "SuccessfulDelete"
FAILED_DELETE = "FailedDelete"

# client-go's ExpectationsTimeout: a controller that saw none of what it expected in this long
# stops waiting (a lost watch event must not wedge it forever).
EXPECTATIONS_TIMEOUT = 5 * 60.0

POD_DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
NAMESPACE_TERMINATING_CAUSE = "NamespaceTerminating"

_MAX_NAME_LENGTH = 253  # a DNS subdomain
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


# ---------------------------------------------------------------------------------- references


def controller_ref(owner: Object, api_version: str, kind: str) -> Object:
    """The ownerReference that makes `owner` the controller of an object (controller and
    blockOwnerDeletion true), as Kubernetes' NewControllerRef builds it."""
    meta = owner.get("metadata") or {}
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controller_of(obj: Object) -> Object | None:
    """The ownerReference of `obj` that has `controller: true`, or None."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def has_status_cause(exc: BaseException, cause: str) -> bool:
    """Whether an APIError's Status lists a cause of this type (e.g. NamespaceTerminating)."""
    if not isinstance(exc, APIError):
        return False
    return any(c.get("reason") == cause for c in (exc.details or {}).get("causes") or [])


# ---------------------------------------------------------------------------------- claiming

# Kubernetes' PodControllerUIDIndex: objects by the uid of their controller; orphans (no
# controller) by namespace, under a key no uid can take.
CONTROLLER_UID_INDEX = "controller-uid"
_ORPHAN_PREFIX = "<orphan>/"


def orphan_index_key(namespace: str) -> str:
    """The CONTROLLER_UID_INDEX value of the orphans of `namespace`."""
    return _ORPHAN_PREFIX + namespace


def controller_uid_index(obj: Object) -> list[str]:
    """The CONTROLLER_UID_INDEX function: [controller uid], or [orphan key] for an orphan."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or ():
        if ref.get("controller"):
            uid = ref.get("uid")
            return [str(uid)] if uid else []
    return [orphan_index_key((obj.get("metadata") or {}).get("namespace") or "")]


def label_matcher(selector: LabelSelector) -> Callable[[Mapping[str, str] | None], bool]:
    """`selector.matches`, made cheap for the usual selector (matchLabels: terms `key=value`)
    that a controller tests against every one of its pods on every sync."""
    if selector.matches_nothing:
        return lambda labels: False
    pairs: list[tuple[str, str]] = []
    for requirement in selector.requirements:
        if requirement.operator not in (OP_EQUALS, OP_DOUBLE_EQUALS, OP_IN) or len(requirement.values) != 1:
            return selector.matches
        pairs.append((requirement.key, requirement.values[0]))
    terms = tuple(pairs)

    def matches(labels: Mapping[str, str] | None) -> bool:
        if not labels:
            return not terms
        for key, value in terms:
            if labels.get(key) != value:
                return False
        return True

    return matches


def owned_and_orphans(informer: Informer, owner: Object, *, orphans: bool = True) -> list[Object]:
    """The cached objects `owner` controls, and (with `orphans`) the orphans of its namespace,
    in key order (Kubernetes' FilterPodsByOwner). The informer must carry CONTROLLER_UID_INDEX."""
    meta = owner.get("metadata") or {}
    keys = informer.index_keys(CONTROLLER_UID_INDEX, str(meta.get("uid") or ""))
    if orphans:
        keys += informer.index_keys(CONTROLLER_UID_INDEX, orphan_index_key(meta.get("namespace") or ""))
        keys.sort()
    found = []
    for key in keys:
        obj = informer.get(key)
        if obj is not None:
            found.append(obj)
    return found


def adopt_patch(pod: Object, ref: Object) -> Object:
    """The strategic merge patch that adds `ref` to an object's ownerReferences, guarded by
    the object's uid (a different object of the same name is left alone)."""
    return {"metadata": {"ownerReferences": [dict(ref)], "uid": (pod.get("metadata") or {}).get("uid")}}


def release_patch(pod: Object, owner_uid: str) -> Object:
    """The strategic merge patch that removes the ownerReference to `owner_uid` from an object."""
    return {
        "metadata": {
            "ownerReferences": [{"$patch": "delete", "uid": owner_uid}],
            "uid": (pod.get("metadata") or {}).get("uid"),
        }
    }


class OwnerGone(RuntimeError):
    """A fresh read shows the owner deleted, replaced, or being deleted: it must not adopt."""


async def recheck_owner(client: Client, resource: str, owner: Object) -> None:
    """Kubernetes' RecheckDeletionTimestamp: read `owner` from the API (the cache may be stale)
    and raise OwnerGone if it is another object by now or is being deleted (adopting for it would
    orphan the object again); API errors propagate."""
    meta = owner.get("metadata") or {}
    fresh = await client.get(resource, meta["name"], namespace=meta.get("namespace"))
    fresh_meta = fresh.get("metadata") or {}
    kind = owner.get("kind") or resource
    if fresh_meta.get("uid") != meta.get("uid"):
        raise OwnerGone(
            f"original {kind} {meta.get('namespace')}/{meta['name']} is gone: got uid {fresh_meta.get('uid')}, wanted {meta.get('uid')}"
        )
    if fresh_meta.get("deletionTimestamp"):
        raise OwnerGone(f"{meta.get('namespace')}/{meta['name']} has just been deleted at {fresh_meta['deletionTimestamp']}")


class ControllerRefManager:
    """Claims objects (pods, ControllerRevisions, ...) for one owner, as Kubernetes'
    ControllerRefManager does for every controller that owns objects by selector.

    `claim(candidates)` returns the candidates the owner controls and its selector matches
    (adopted orphans included), and on the way:
    - releases owned objects that no longer match (not while the owner is being deleted);
      a release finding the object gone or no longer the same (404, 422) is no failure;
    - adopts matching orphans that are not being deleted (not while the owner is being
      deleted), once `recheck_owner` has read the owner fresh (at most once per claim);
      a 404 leaves the orphan out;
    - tries every candidate, then raises the first failure.
    Writes are strategic merge patches guarded by the object's uid; with `finalizers` (the Job
    controller's tracking finalizer) an adoption adds them and a release removes them, as
    Kubernetes' PodControllerRefManager does with its own. Nothing cached is mutated.
    """

    def __init__(
        self, client: Client, owner: Object, selector: LabelSelector, *, api_version: str, kind: str,
        owner_resource: str, resource: str = "pods", finalizers: Sequence[str] = (),
    ) -> None:
        self.client = client
        self.owner = owner
        self.selector = selector
        self.ref = controller_ref(owner, api_version, kind)
        self.owner_resource = owner_resource
        self.resource = resource
        self.finalizers = list(finalizers)
        meta = owner.get("metadata") or {}
        self.uid = meta.get("uid")
        self.deleting = bool(meta.get("deletionTimestamp"))
        self._can_adopt: Exception | None | bool = False  # False: not checked yet

    async def claim(self, candidates: Iterable[Object]) -> list[Object]:
        claimed: list[Object] = []
        errors: list[Exception] = []
        matches = label_matcher(self.selector)
        for obj in candidates:
            meta = obj.get("metadata") or {}
            ref = controller_of(obj)
            if ref is not None:
                if ref.get("uid") != self.uid:
                    continue  # someone else's
                if matches(meta.get("labels") or {}):
                    claimed.append(obj)
                elif not self.deleting:
                    try:
                        await self.release(obj)
                    except Exception as exc:
                        errors.append(exc)
                continue
            if self.deleting or meta.get("deletionTimestamp") or not matches(meta.get("labels") or {}):
                continue
            try:
                adopted = await self.adopt(obj)
            except Exception as exc:
                errors.append(exc)
                continue
            if adopted is not None:
                claimed.append(adopted)
        if errors:
            raise errors[0]
        return claimed

    async def adopt(self, obj: Object) -> Object | None:
        """Make the owner `obj`'s controller. Returns the adopted object (as the API answered,
        or, if the answer is not that object, `obj` as the patch makes it), None when it is
        gone; raises when the owner may not adopt or the API refuses."""
        if self._can_adopt is False:
            try:
                await recheck_owner(self.client, self.owner_resource, self.owner)
                self._can_adopt = None
            except Exception as exc:
                self._can_adopt = exc
        if isinstance(self._can_adopt, Exception):
            raise self._can_adopt
        meta = obj.get("metadata") or {}
        patch = adopt_patch(obj, self.ref)
        if self.finalizers:
            patch["metadata"]["finalizers"] = list(self.finalizers)
        try:
            patched = await self.client.patch(self.resource, meta["name"], patch, namespace=meta.get("namespace"), patch_type="strategic")
        except APIError as exc:
            if exc.code == 404:  # gone meanwhile: simply not ours
                return None
            raise
        log.info("adopted", resource=self.resource, owner=(self.owner.get("metadata") or {}).get("name"), name=meta["name"])
        same = isinstance(patched, dict) and (patched.get("metadata") or {}).get("uid") == meta.get("uid") and meta.get("uid")
        if same:
            return patched
        # What the patch made of it (a copy: the cached object stays as it is).
        refs = [*(meta.get("ownerReferences") or []), dict(self.ref)]
        finalizers = [*(meta.get("finalizers") or []), *(f for f in self.finalizers if f not in (meta.get("finalizers") or []))]
        adopted_meta = {**meta, "ownerReferences": refs}
        if finalizers:
            adopted_meta["finalizers"] = finalizers
        return {**obj, "metadata": adopted_meta}

    async def release(self, obj: Object) -> None:
        """Remove the owner's reference from `obj`; gone or replaced (404, 422) is no failure."""
        meta = obj.get("metadata") or {}
        patch = release_patch(obj, str(self.uid or ""))
        if self.finalizers:
            patch["metadata"]["$deleteFromPrimitiveList/finalizers"] = list(self.finalizers)
        try:
            await self.client.patch(self.resource, meta["name"], patch, namespace=meta.get("namespace"), patch_type="strategic")
        except APIError as exc:
            if exc.code in (404, 422):
                return
            raise
        log.info("released", resource=self.resource, owner=(self.owner.get("metadata") or {}).get("name"), name=meta["name"])


# ---------------------------------------------------------------------------------- pod control


def pod_name_prefix(owner_name: str) -> str:
    """generateName for the pods of `owner_name`: "<owner>-", or the bare name if that would
    not be a valid name."""
    prefix = f"{owner_name}-"
    return prefix if len(prefix) <= _MAX_NAME_LENGTH else owner_name


def pod_from_template(template: Object, owner: Object, ref: Object | None, *, namespace: str) -> Object:
    """The pod a controller creates from `template`: the template's labels, annotations,
    finalizers and spec (copied), generateName from the owner's name, `ref` as its only
    ownerReference. Raises ValueError when the template has no labels (a controller could
    never find such a pod again)."""
    tmeta = template.get("metadata") or {}
    labels = dict(tmeta.get("labels") or {})
    if not labels:
        raise ValueError("unable to create pods, no labels")
    meta: Object = {
        "generateName": pod_name_prefix((owner.get("metadata") or {}).get("name") or ""),
        "namespace": namespace,
        "labels": labels,
    }
    if tmeta.get("annotations"):
        meta["annotations"] = dict(tmeta["annotations"])
    if tmeta.get("finalizers"):
        meta["finalizers"] = list(tmeta["finalizers"])
    if ref is not None:
        meta["ownerReferences"] = [dict(ref)]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": copy.deepcopy(template.get("spec") or {})}


@dataclass
class PodControl:
    """Creates and deletes pods for controllers, recording the Events about the owner."""

    client: Client
    recorder: EventSink | None = None

    def _event(self, owner: Object, type_: str, reason: str, message: str) -> None:
        if self.recorder is not None:
            self.recorder.event(owner, type_, reason, message)

    async def create_pod(
        self, namespace: str, template: Object, owner: Object, ref: Object | None, *, node_name: str | None = None,
    ) -> Object:
        """Create one pod from `template` owned by `owner` (see `pod_from_template`); returns the
        created pod. Records SuccessfulCreate `Created pod: NAME`, or FailedCreate `Error
        creating: MESSAGE` (not when the namespace is terminating). Raises what the API raised."""
        pod = pod_from_template(template, owner, ref, namespace=namespace)
        if node_name:
            pod["spec"]["nodeName"] = node_name
        try:
            created = await self.client.create("pods", pod, namespace=namespace)
        except APIError as exc:
            if not has_status_cause(exc, NAMESPACE_TERMINATING_CAUSE):
                self._event(owner, WARNING, FAILED_CREATE, f"Error creating: {exc.message}")
            raise
        name = (created.get("metadata") or {}).get("name")
        log.debug("controller created pod", owner=(owner.get("metadata") or {}).get("name"), pod=name)
        self._event(owner, NORMAL, SUCCESSFUL_CREATE, f"Created pod: {name}")
        return created

    async def delete_pod(self, namespace: str, name: str, owner: Object) -> None:
        """Delete pod `name` (its own grace period). Records SuccessfulDelete `Deleted pod:
        NAME`, or FailedDelete `Error deleting: MESSAGE`. A pod already gone raises the 404
        without an Event; other failures raise RuntimeError("unable to delete pods: ...")."""
        try:
            await self.client.delete("pods", name, namespace=namespace)
        except APIError as exc:
            if exc.code == 404:
                raise
            self._event(owner, WARNING, FAILED_DELETE, f"Error deleting: {exc.message}")
            raise RuntimeError(f"unable to delete pods: {exc.message}") from exc
        self._event(owner, NORMAL, SUCCESSFUL_DELETE, f"Deleted pod: {name}")

    async def patch_pod(self, namespace: str, name: str, patch: Object) -> Object:
        """A strategic merge patch of a pod (adoption and release of ownerReferences)."""
        return await self.client.patch("pods", name, patch, namespace=namespace, patch_type="strategic")


async def _collect_error(fn: Callable[[], Awaitable[None]], errors: list[Exception]) -> None:
    try:
        await fn()
    except Exception as exc:  # collected: the caller decides what a failure means
        errors.append(exc)


async def slow_start_batch(
    count: int, initial_batch_size: int, fn: Callable[[], Awaitable[None]],
) -> tuple[int, Exception | None]:
    """Call `fn` `count` times in batches of growing size (initial, 2*initial, 4*initial, ...),
    the calls of a batch concurrently, stopping after the first batch in which a call raised.

    Returns (calls that succeeded, the first error or None). A controller creating many pods
    against a failing API (a quota, an admission webhook) thus sends a handful of doomed
    requests rather than hundreds."""
    remaining = count
    successes = 0
    batch = min(remaining, initial_batch_size)
    while batch > 0:
        errors: list[Exception] = []
        async with anyio.create_task_group() as tg:
            for _ in range(batch):
                tg.start_soon(_collect_error, fn, errors)
        successes += batch - len(errors)
        if errors:
            return successes, errors[0]
        remaining -= batch
        batch = min(2 * batch, remaining)
    return successes, None


# ---------------------------------------------------------------------------------- expectations


@dataclass
class _Expectation:
    add: int
    delete: int
    timestamp: float

    @property
    def fulfilled(self) -> bool:
        return self.add <= 0 and self.delete <= 0


class Expectations:
    """Creations and deletions a controller has made and not yet seen through its informer,
    per controller key (client-go's ControllerExpectations).

    A controller sets expectations before it acts (`expect_creations`), its pod handlers lower
    them as the informer reports the results (`creation_observed`), and it only acts again for
    a key once `satisfied(key)`: all seen, or set more than `timeout` seconds ago, or never set.
    """

    def __init__(self, clock: Clock, timeout: float = EXPECTATIONS_TIMEOUT) -> None:
        self.clock = clock
        self.timeout = timeout
        self._store: dict[str, _Expectation] = {}

    def get(self, key: str) -> tuple[int, int] | None:
        """The (adds, deletes) still expected for `key`, or None when none are recorded."""
        exp = self._store.get(key)
        return None if exp is None else (exp.add, exp.delete)

    def satisfied(self, key: str) -> bool:
        """True when the controller may act for `key`: nothing recorded, everything expected
        observed, or the record expired."""
        exp = self._store.get(key)
        if exp is None or exp.fulfilled:
            return True
        if self.clock.monotonic() - exp.timestamp > self.timeout:
            log.info("expectations expired", key=key, add=exp.add, delete=exp.delete)
            return True
        return False

    def set(self, key: str, add: int, delete: int) -> None:
        """Replace `key`'s expectations (and restart its timeout)."""
        self._store[key] = _Expectation(add, delete, self.clock.monotonic())

    def expect_creations(self, key: str, adds: int) -> None:
        self.set(key, adds, 0)

    def expect_deletions(self, key: str, deletes: int) -> None:
        self.set(key, 0, deletes)

    def raise_expectations(self, key: str, add: int, delete: int) -> None:
        """Expect more of both, if `key` has a record (the timeout is not restarted)."""
        exp = self._store.get(key)
        if exp is not None:
            exp.add += add
            exp.delete += delete

    def lower_expectations(self, key: str, add: int, delete: int) -> None:
        """Expect fewer of both, if `key` has a record."""
        exp = self._store.get(key)
        if exp is not None:
            exp.add -= add
            exp.delete -= delete

    def creation_observed(self, key: str) -> None:
        self.lower_expectations(key, 1, 0)

    def deletion_observed(self, key: str) -> None:
        self.lower_expectations(key, 0, 1)

    def delete(self, key: str) -> None:
        """Forget `key` (its controller is gone)."""
        self._store.pop(key, None)


class UIDTrackingExpectations(Expectations):
    """Expectations whose deletions name the pods expected to go (client-go's
    UIDTrackingControllerExpectations), so that a pod reported deleted twice (once when its
    deletionTimestamp is set, again when it is removed) is counted once."""

    def __init__(self, clock: Clock, timeout: float = EXPECTATIONS_TIMEOUT) -> None:
        super().__init__(clock, timeout)
        self._pods: dict[str, set[str]] = {}

    def expected_pod_deletions(self, key: str) -> frozenset[str]:
        """The pod keys ("namespace/name") whose deletion `key` still waits for."""
        return frozenset(self._pods.get(key, ()))

    def expect_pod_deletions(self, key: str, pod_keys: Iterable[str]) -> None:
        """Expect exactly these pods to be deleted (replaces the previous expectations)."""
        pods = set(pod_keys)
        if self._pods.get(key):
            log.warning("clobbering existing delete expectations", key=key)
        self._pods[key] = pods
        self.expect_deletions(key, len(pods))

    def pod_deletion_observed(self, key: str, pod_key: str) -> None:
        """Pod `pod_key` is gone (or going): lower `key`'s deletions if it was expected."""
        pods = self._pods.get(key)
        if pods is not None and pod_key in pods:
            pods.discard(pod_key)
            self.lower_expectations(key, 0, 1)

    def delete(self, key: str) -> None:
        super().delete(key)
        self._pods.pop(key, None)


# ---------------------------------------------------------------------------------- pod predicates


def parse_time(value: Any) -> float | None:
    """Seconds since the epoch of an RFC 3339 timestamp, or None if absent or malformed."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _seconds(now: datetime | float) -> float:
    return now.timestamp() if isinstance(now, datetime) else float(now)


def pod_key(pod: Object) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace') or ''}/{meta.get('name') or ''}"


def is_terminal(pod: Object) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def is_pod_active(pod: Object) -> bool:
    """Counted by a controller: not Succeeded or Failed, and not being deleted."""
    return not is_terminal(pod) and not (pod.get("metadata") or {}).get("deletionTimestamp")


def is_pod_terminating(pod: Object) -> bool:
    """Being deleted and not yet Succeeded or Failed."""
    return bool((pod.get("metadata") or {}).get("deletionTimestamp")) and not is_terminal(pod)


def pod_ready_condition(pod: Object) -> Object | None:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond
    return None


def is_pod_ready(pod: Object) -> bool:
    """The pod's Ready condition is True."""
    cond = pod_ready_condition(pod)
    return cond is not None and cond.get("status") == "True"


def pod_ready_since(pod: Object) -> float | None:
    """When a ready pod became ready (epoch seconds), or None (not ready, or not recorded)."""
    if not is_pod_ready(pod):
        return None
    return parse_time((pod_ready_condition(pod) or {}).get("lastTransitionTime"))


def is_pod_available(pod: Object, min_ready_seconds: int | float | None, now: datetime | float) -> bool:
    """Ready, and (when minReadySeconds > 0) ready for longer than minReadySeconds at `now`."""
    if not is_pod_ready(pod):
        return False
    if not min_ready_seconds:
        return True
    since = pod_ready_since(pod)
    return since is not None and since + min_ready_seconds < _seconds(now)


def available_in(pod: Object, min_ready_seconds: int | float | None, now: datetime | float) -> float | None:
    """Seconds until a ready pod becomes available (0 if it is), or None if waiting cannot
    make it available (not ready, or its ready time is unknown)."""
    if not is_pod_ready(pod):
        return None
    if not min_ready_seconds:
        return 0.0
    since = pod_ready_since(pod)
    if since is None:
        return None
    return max(since + min_ready_seconds - _seconds(now), 0.0)


# ---------------------------------------------------------------------------------- deletion ranking

_PHASE_ORDER = {"Pending": 0, "Unknown": 1, "Running": 2}


def _deletion_cost(pod: Object) -> int:
    raw = ((pod.get("metadata") or {}).get("annotations") or {}).get(POD_DELETION_COST)
    if raw is None:
        return 0
    try:
        cost = int(raw)
    except (TypeError, ValueError):
        return 0
    return cost if _INT32_MIN <= cost <= _INT32_MAX else 0


def _max_restarts(pod: Object) -> tuple[int, int]:
    """(most restarts of a regular container, most restarts of a sidecar init container)."""
    status = pod.get("status") or {}
    regular = max((int(s.get("restartCount") or 0) for s in status.get("containerStatuses") or []), default=0)
    sidecars = {
        c.get("name") for c in (pod.get("spec") or {}).get("initContainers") or [] if c.get("restartPolicy") == "Always"
    }
    sidecar = max(
        (int(s.get("restartCount") or 0) for s in status.get("initContainerStatuses") or [] if s.get("name") in sidecars),
        default=0,
    )
    return regular, sidecar


def _log_rank(t: float, now: float) -> int:
    """The power-of-two bucket of the age of `t` (nanoseconds, as Kubernetes' logarithmic
    scale-down counts it); -1 for no age."""
    age_ns = (now - t) * 1e9
    return -1 if age_ns <= 0 else int(math.log2(age_ns))


@dataclass(slots=True)
class _Ranked:
    """A pod with what the ranking compares of it, read once (a sort compares each pod some
    log2(n) times; parsing its times and walking its statuses on each of those is most of the
    cost of a scale-down of hundreds of pods)."""

    pod: Object
    rank: int  # active related pods on the same node
    uid: str
    assigned: bool
    phase: int
    ready: bool
    cost: int
    ready_since: float | None
    ready_bucket: int | None  # _log_rank of ready_since at `now` (None: no now, or no time)
    restarts: tuple[int, int]
    created: float | None
    created_bucket: int | None

    @classmethod
    def of(cls, pod: Object, rank: int, now: float | None) -> _Ranked:
        ready = is_pod_ready(pod)
        ready_since = pod_ready_since(pod) if ready else None
        created = parse_time((pod.get("metadata") or {}).get("creationTimestamp"))
        return cls(
            pod=pod, rank=rank, uid=str((pod.get("metadata") or {}).get("uid") or ""),
            assigned=bool((pod.get("spec") or {}).get("nodeName")),
            phase=_PHASE_ORDER.get((pod.get("status") or {}).get("phase") or "", 0),
            ready=ready, cost=_deletion_cost(pod),
            ready_since=ready_since,
            ready_bucket=None if now is None or ready_since is None else _log_rank(ready_since, now),
            restarts=_max_restarts(pod),
            created=created,
            created_bucket=None if now is None or created is None else _log_rank(created, now),
        )


def _compare(a: _Ranked, b: _Ranked) -> int:
    """-1 when `a` should go before `b` (a is worth less)."""
    # 1. Unscheduled before scheduled.
    if a.assigned != b.assigned:
        return -1 if not a.assigned else 1
    # 2. Pending before Unknown before Running.
    if a.phase != b.phase:
        return -1 if a.phase < b.phase else 1
    # 3. Not ready before ready.
    if a.ready != b.ready:
        return -1 if not a.ready else 1
    # 4. Lower pod-deletion-cost before higher.
    if a.cost != b.cost:
        return -1 if a.cost < b.cost else 1
    # 5. Doubled up (more related pods on its node) before not.
    if a.rank != b.rank:
        return -1 if a.rank > b.rank else 1
    # 6. Both ready: ready more recently before ready longer (in log2 buckets of age).
    if a.ready and b.ready and a.ready_since != b.ready_since:
        result = _newer_first(a.ready_since, b.ready_since, a.ready_bucket, b.ready_bucket, a.uid, b.uid)
        if result:
            return result
    # 7. More container restarts before fewer.
    if a.restarts[0] != b.restarts[0]:
        return -1 if a.restarts[0] > b.restarts[0] else 1
    if a.restarts[1] != b.restarts[1]:
        return -1 if a.restarts[1] > b.restarts[1] else 1
    # 8. Newer before older (log2 buckets of age).
    if a.created != b.created:
        return _newer_first(a.created, b.created, a.created_bucket, b.created_bucket, a.uid, b.uid)
    return 0


def _newer_first(ta: float | None, tb: float | None, bucket_a: int | None, bucket_b: int | None, uid_a: str, uid_b: str) -> int:
    """Order two times newest first, an unknown time first of all; with buckets (their
    `_log_rank` at a `now`), times in the same power-of-two age bucket count as equal and the
    uids decide."""
    if ta is None or tb is None or bucket_a is None or bucket_b is None:
        if ta is None or tb is None:
            return -1 if ta is None else 1
        return -1 if ta > tb else 1
    diff = bucket_a - bucket_b
    if diff == 0:
        return 0 if uid_a == uid_b else (-1 if uid_a < uid_b else 1)
    return -1 if diff < 0 else 1


def related_pod_ranks(pods: Sequence[Object], related: Iterable[Object]) -> list[int]:
    """For each pod, how many active `related` pods share its node (Kubernetes ranks pods of
    the same owner family doubled up on a node as the better ones to delete)."""
    on_node: dict[str, int] = {}
    for pod in related:
        if is_pod_active(pod):
            node = (pod.get("spec") or {}).get("nodeName") or ""
            on_node[node] = on_node.get(node, 0) + 1
    return [on_node.get((pod.get("spec") or {}).get("nodeName") or "", 0) for pod in pods]


def rank_pods_for_deletion(
    pods: Sequence[Object], now: datetime | float | None = None, related: Iterable[Object] = (),
) -> list[Object]:
    """`pods` ordered least valuable first: unscheduled < scheduled; Pending < Unknown <
    Running; not ready < ready; lower pod-deletion-cost first; more related pods on the same
    node first; ready more recently first; more restarts first; newer first. With `now`, ages
    compare in power-of-two buckets (Kubernetes' logarithmic scale-down), ties broken by uid."""
    ranks = related_pod_ranks(pods, related)
    now_s = None if now is None else _seconds(now)
    ranked = [_Ranked.of(pod, rank, now_s) for pod, rank in zip(pods, ranks, strict=True)]
    ranked.sort(key=cmp_to_key(_compare))
    return [r.pod for r in ranked]


def pods_to_delete(
    pods: Sequence[Object], count: int, now: datetime | float | None = None, related: Iterable[Object] = (),
) -> list[Object]:
    """The `count` least valuable of `pods` (all of them, unranked, when count covers them)."""
    if count >= len(pods):
        return list(pods)
    return rank_pods_for_deletion(pods, now, related)[:count]
