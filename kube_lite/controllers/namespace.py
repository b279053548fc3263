"""The namespace controller: empties a namespace being deleted, then releases it, as
kube-controller-manager's namespace controller does.

Deleting a namespace only marks it (deletionTimestamp, phase Terminating); the API server keeps
it while spec.finalizers holds "kubernetes" and refuses new content in it meanwhile. For such a
namespace, reconcile:

1. sets phase Terminating if something left it otherwise;
2. deletes every namespaced kind's objects in it (deletecollection where the kind allows it,
   else one by one; Background propagation, so that no orphan finalizer is added), with the
   kind registry read on every pass so that custom resources are included;
3. lists what remains and writes the five deletion conditions (NamespaceDeletionDiscoveryFailure,
   NamespaceDeletionGroupVersionParsingFailure, NamespaceDeletionContentFailure,
   NamespaceContentRemaining, NamespaceFinalizersRemaining) with Kubernetes' reasons and
   messages ("Some resources are remaining: pods. has 2 resource instances");
4. while content remains, looks again later: after half the estimate plus one second, as
   Kubernetes does (the longest grace period of the pods, or 15 s when finalizers hold
   objects), but never more than `content_poll_max` seconds, and after one second when
   nothing explains what remains (Kubernetes retries those with backoff);
5. when nothing remains, removes "kubernetes" from spec.finalizers through the finalize
   subresource; the API server then removes the namespace (if no metadata finalizer holds it).
"""

from __future__ import annotations

import copy
import datetime as _dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from kube_lite.api.errors import APIError
from kube_lite.api.registry import KindInfo, KindRegistry
from kube_lite.client.client import Client
from kube_lite.client.events import EventRecorder
from kube_lite.client.informer import SharedInformerFactory
from kube_lite.clock import Clock
from kube_lite.controllers.base import Controller

FINALIZER_KUBERNETES = "kubernetes"

# Kubernetes' guess of how long finalizers on remaining content take.
FINALIZER_ESTIMATE_SECONDS = 15
# Pass again after this long when objects remain that no grace period or finalizer explains.
UNEXPECTED_CONTENT_RECHECK = 1.0
WRITE_RETRIES = 5

DISCOVERY_FAILURE = "NamespaceDeletionDiscoveryFailure"
GV_PARSING_FAILURE = "NamespaceDeletionGroupVersionParsingFailure"
CONTENT_FAILURE = "NamespaceDeletionContentFailure"
CONTENT_REMAINING = "NamespaceContentRemaining"
FINALIZERS_REMAINING = "NamespaceFinalizersRemaining"

# The condition types the controller maintains, in the order Kubernetes adds them, with the
# reason and message of their "all is well" (status False) variant.
CONDITION_TYPES: tuple[tuple[str, str, str], ...] = (
    (DISCOVERY_FAILURE, "ResourcesDiscovered", "All resources successfully discovered"),
    (GV_PARSING_FAILURE, "ParsedGroupVersions", "All legacy kube types successfully parsed"),
    (CONTENT_FAILURE, "ContentDeleted", "All content successfully deleted, may be waiting on finalization"),
    (CONTENT_REMAINING, "ContentRemoved", "All content successfully removed"),
    (FINALIZERS_REMAINING, "ContentHasNoFinalizers", "All content-preserving finalizers finished"),
)


def resource_label(info: KindInfo) -> str:
    """How the conditions name a resource: "<resource>.<group>" ("pods.", "deployments.apps")."""
    return f"{info.plural}.{info.group}"


def gvr_string(info: KindInfo) -> str:
    """A group-version-resource as Kubernetes prints one: "/v1, Resource=pods"."""
    return f"{info.group}/{info.version}, Resource={info.plural}"


def deletable_kinds(kinds: KindRegistry) -> list[KindInfo]:
    """The namespaced kinds whose objects a namespace's deletion removes: every namespaced
    kind with the delete verb and a way to find its objects (list or deletecollection), once,
    at its group's preferred version."""
    out: dict[tuple[str, str], KindInfo] = {}
    for info in kinds:
        verbs = set(info.verbs)
        if info.subresource_of is not None or not info.namespaced or "delete" not in verbs:
            continue
        if not verbs & {"list", "deletecollection"}:
            continue
        preferred = kinds.by_kind(info.group, info.kind) or info
        out.setdefault((preferred.group, preferred.plural), preferred)
    return sorted(out.values(), key=lambda i: (i.group, i.plural))


@dataclass(slots=True)
class KindContent:
    """What deleting one kind's objects left: seconds its graceful deletions may still take,
    how many objects remain, the finalizers holding them, and the error met, if any."""

    estimate: int = 0
    remaining: int = 0
    finalizers: Counter[str] = field(default_factory=Counter)
    error: str | None = None


@dataclass(slots=True)
class ContentTotals:
    """A whole pass over a namespace's content."""

    estimate: int = 0
    remaining: dict[str, int] = field(default_factory=dict)  # resource label -> objects
    finalizers: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def add(self, info: KindInfo, content: KindContent) -> None:
        self.estimate = max(self.estimate, content.estimate)
        if content.remaining:
            label = resource_label(info)
            self.remaining[label] = self.remaining.get(label, 0) + content.remaining
            self.finalizers.update(content.finalizers)
        if content.error:
            self.errors.append(content.error)

    @property
    def empty(self) -> bool:
        return not self.remaining and not self.errors


def failing_conditions(totals: ContentTotals, discovery_error: str | None = None) -> list[dict[str, str]]:
    """The conditions that report a problem (status True), with Kubernetes' reasons and
    messages, for a pass that ended with `totals`."""
    out: list[dict[str, str]] = []
    if discovery_error:
        out.append({"type": DISCOVERY_FAILURE, "status": "True", "reason": "DiscoveryFailed", "message": discovery_error})
    if totals.remaining:
        parts = sorted(f"{label} has {n} resource instances" for label, n in totals.remaining.items() if n)
        out.append({
            "type": CONTENT_REMAINING, "status": "True", "reason": "SomeResourcesRemain",
            "message": f"Some resources are remaining: {', '.join(parts)}",
        })
    if totals.finalizers:
        parts = sorted(f"{name} in {n} resource instances" for name, n in totals.finalizers.items() if n)
        out.append({
            "type": FINALIZERS_REMAINING, "status": "True", "reason": "SomeFinalizersRemain",
            "message": f"Some content in the namespace has finalizers remaining: {', '.join(parts)}",
        })
    if totals.errors:
        messages = sorted(totals.errors)
        out.append({
            "type": CONTENT_FAILURE, "status": "True", "reason": "ContentDeletionFailed",
            "message": f"Failed to delete all resource types, {len(messages)} remaining: {', '.join(messages)}",
        })
    return out


def merge_conditions(
    current: list[dict[str, Any]], failing: list[dict[str, str]], now: str,
) -> tuple[list[dict[str, Any]], bool]:
    """The namespace's conditions after a pass: each maintained type takes its failing
    variant from `failing`, or else its "all is well" variant. An existing condition is
    updated in place (its lastTransitionTime moves only when its status changes); a missing
    one is appended. Returns the new list and whether anything changed."""
    conditions = [dict(c) for c in current if isinstance(c, dict)]
    changed = False
    wanted = {c["type"]: c for c in failing}
    for kind, ok_reason, ok_message in CONDITION_TYPES:
        want = wanted.get(kind) or {"type": kind, "status": "False", "reason": ok_reason, "message": ok_message}
        existing = next((c for c in conditions if c.get("type") == kind), None)
        if existing is None:
            conditions.append({**want, "lastTransitionTime": now})
            changed = True
            continue
        if (existing.get("status"), existing.get("reason"), existing.get("message")) == (
            want["status"], want["reason"], want["message"],
        ):
            continue
        if existing.get("status") != want["status"]:
            existing["lastTransitionTime"] = now
        existing.update(status=want["status"], reason=want["reason"], message=want["message"])
        changed = True
    return conditions, changed


def requeue_delay(totals: ContentTotals, poll_max: float) -> float:
    """When to look again at a namespace whose content remains."""
    if totals.estimate > 0:
        return min(float(totals.estimate // 2 + 1), poll_max)
    return min(UNEXPECTED_CONTENT_RECHECK, poll_max)


def _parse_time(value: Any) -> _dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class NamespaceController(Controller):
    """Removes the content of namespaces being deleted, then their "kubernetes" finalizer."""

    name = "namespace"
    event_source = "namespace-controller"
    workers = 2

    def __init__(
        self,
        client: Client,
        clock: Clock | None = None,
        recorder: EventRecorder | None = None,
        *,
        content_poll_max: float = 5.0,
        informers: SharedInformerFactory | None = None,
    ) -> None:
        super().__init__(client, clock, recorder, informers=informers)
        self.content_poll_max = content_poll_max
        self.namespaces = self.informer("namespaces")
        self.namespaces.add_handler(
            on_add=self._on_namespace, on_update=lambda old, new: self._on_namespace(new),
        )

    def _on_namespace(self, ns: dict[str, Any]) -> None:
        if (ns.get("metadata") or {}).get("deletionTimestamp"):
            self.enqueue(ns["metadata"]["name"])

    async def reconcile(self, key: str) -> float | None:
        """One pass over namespace `key`. None when it is gone, not being deleted or no longer
        ours to finalize; a delay while content remains. API errors raise (backoff)."""
        ns = await self._get(key)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return None
        ns = await self._ensure_terminating(ns)
        if ns is None:
            return None
        if FINALIZER_KUBERNETES not in ((ns.get("spec") or {}).get("finalizers") or []):
            return None
        totals = await self.delete_all_content(ns)
        await self._write_conditions(ns, totals)
        if not totals.empty:
            if totals.errors and not totals.remaining:
                raise RuntimeError(f"deleting the content of namespace {key} failed: {'; '.join(totals.errors)}")
            return requeue_delay(totals, self.content_poll_max)
        await self._finalize(key)
        return None

    # -- content

    async def delete_all_content(self, ns: dict[str, Any]) -> ContentTotals:
        """Delete every namespaced object in `ns` and report what remains."""
        name = ns["metadata"]["name"]
        deleted_at = _parse_time(ns["metadata"].get("deletionTimestamp"))
        totals = ContentTotals()
        for info in deletable_kinds(self.client.kinds):
            totals.add(info, await self._delete_kind(info, name, deleted_at))
        return totals

    async def _delete_kind(self, info: KindInfo, namespace: str, deleted_at: _dt.datetime | None) -> KindContent:
        verbs = set(info.verbs)
        estimate = 0
        try:
            if info.plural == "pods" and info.group == "":
                estimate = await self._estimate_pods(info, namespace, deleted_at)
            if "deletecollection" in verbs:
                await self._delete_collection(info, namespace)
            else:
                await self._delete_each(info, namespace)
        except APIError as exc:
            return KindContent(estimate, error=exc.message)
        if "list" not in verbs:
            return KindContent(estimate)
        try:
            items = (await self.client.list(info, namespace=namespace)).get("items") or []
        except APIError as exc:
            return KindContent(estimate, error=exc.message)
        if items and estimate == 0:
            finalizers: Counter[str] = Counter(
                f for item in items for f in ((item.get("metadata") or {}).get("finalizers") or [])
            )
            if finalizers:
                return KindContent(FINALIZER_ESTIMATE_SECONDS, len(items), finalizers)
            return KindContent(
                0, len(items), error=f"unexpected items still remain in namespace: {namespace} for gvr: {gvr_string(info)}",
            )
        return KindContent(estimate, len(items))

    async def _estimate_pods(self, info: KindInfo, namespace: str, deleted_at: _dt.datetime | None) -> int:
        """The longest grace period of the namespace's running pods, or 0 once that long has
        passed since the namespace's deletion began."""
        estimate = 0
        for pod in (await self.client.list(info, namespace=namespace)).get("items") or []:
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            grace = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
            if isinstance(grace, int) and grace > estimate:
                estimate = grace
        if deleted_at is not None and (self.clock.now() - deleted_at).total_seconds() >= estimate:
            return 0
        return estimate

    async def _delete_collection(self, info: KindInfo, namespace: str) -> None:
        # Background: the namespace must not wait for orphan finalizers the collector would add
        options = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        delete_collection = getattr(self.client, "delete_collection", None)
        if delete_collection is not None:
            await delete_collection(info, namespace=namespace, propagation_policy="Background")
            return
        await self.client._call("DELETE", self.client.path(info, namespace), body=options)  # noqa: SLF001

    async def _delete_each(self, info: KindInfo, namespace: str) -> None:
        for item in (await self.client.list(info, namespace=namespace)).get("items") or []:
            try:
                await self.client.delete(info, item["metadata"]["name"], namespace=namespace, propagation_policy="Background")
            except APIError as exc:
                if exc.code != 404:
                    raise

    # -- the namespace itself

    async def _get(self, name: str) -> dict[str, Any] | None:
        try:
            return await self.client.get("namespaces", name)
        except APIError as exc:
            if exc.code == 404:
                return None
            raise

    async def _ensure_terminating(self, ns: dict[str, Any]) -> dict[str, Any] | None:
        """`ns` with phase Terminating (written if it had another); None once it is gone."""
        name = ns["metadata"]["name"]
        for _ in range(WRITE_RETRIES):
            if (ns.get("status") or {}).get("phase") == "Terminating":
                return ns
            updated = copy.deepcopy(ns)
            updated.setdefault("status", {})["phase"] = "Terminating"
            try:
                return await self.client.update_status("namespaces", updated)
            except APIError as exc:
                if exc.code == 404:
                    return None
                if exc.code != 409:
                    raise
            found = await self._get(name)
            if found is None:
                return None
            ns = found
        raise RuntimeError(f"namespace {name} kept changing")

    async def _write_conditions(self, ns: dict[str, Any], totals: ContentTotals) -> None:
        status = ns.get("status") or {}
        now = self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        conditions, changed = merge_conditions(list(status.get("conditions") or []), failing_conditions(totals), now)
        if not changed:
            return
        updated = copy.deepcopy(ns)
        updated.setdefault("status", {})["conditions"] = conditions
        try:
            await self.client.update_status("namespaces", updated)
        except APIError as exc:
            # as Kubernetes: the conditions are advice; the next pass writes them again
            self.log.warning("namespace conditions not written", namespace=ns["metadata"]["name"], error=exc.message)

    async def _finalize(self, name: str) -> None:
        """Remove "kubernetes" from spec.finalizers (PUT .../finalize), retried on conflicts."""
        for _ in range(WRITE_RETRIES):
            ns = await self._get(name)
            if ns is None:
                return
            finalizers = list((ns.get("spec") or {}).get("finalizers") or [])
            if FINALIZER_KUBERNETES not in finalizers:
                return
            body = copy.deepcopy(ns)
            body.setdefault("spec", {})["finalizers"] = [f for f in finalizers if f != FINALIZER_KUBERNETES]
            try:
                await self.client.update("namespaces", body, subresource="finalize")
                self.log.info("namespace emptied and finalized", namespace=name)
                return
            except APIError as exc:
                if exc.code == 404:
                    return
                if exc.code != 409:
                    raise
        raise RuntimeError(f"namespace {name} kept changing")
