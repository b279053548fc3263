"""The StatefulSet controller.

Two layers, as sample-controller tests its controller:

- reconcile(key) against informers pre-filled from a fake client that records every write and
  never answers a watch, so a test decides what the controller's caches have seen;
- scenarios on an in-process Cluster (scheduler, node agents, fake runtime) on a VirtualClock.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest

from kube_lite.api.errors import APIError
from kube_lite.client.client import WatchEvent
from kube_lite.client.events import EventRecorder
from kube_lite.clock import VirtualClock
from kube_lite.cluster import Cluster
from kube_lite.controllers.manager import default_controllers
from kube_lite.controllers.statefulset import (
    POD_INDEX_LABEL,
    POD_NAME_LABEL,
    REVISION_HASH_LABEL,
    REVISION_LABEL,
    StatefulSetController,
    claim_owner_refs,
    claims_for,
    new_pod,
    new_revision,
    revision_data,
    revision_hash,
    revisions_to_delete,
)
from tests.unit.controllers.fakes import FakeRecorder

Object = dict[str, Any]

TEMPLATE = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
CLAIM = {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}


def statefulset(replicas: int = 3, *, policy: str = "OrderedReady", partition: int | None = None, claims: bool = False,
                retention: Object | None = None, status: Object | None = None, image: str = "busybox") -> Object:
    template = copy.deepcopy(TEMPLATE)
    template["spec"]["containers"][0]["image"] = image
    spec: Object = {
        "replicas": replicas, "serviceName": "web", "selector": {"matchLabels": {"app": "web"}}, "template": template,
        "podManagementPolicy": policy, "updateStrategy": {"type": "RollingUpdate"},
    }
    if partition is not None:
        spec["updateStrategy"]["rollingUpdate"] = {"partition": partition}
    if claims:
        spec["volumeClaimTemplates"] = [copy.deepcopy(CLAIM)]
    if retention:
        spec["persistentVolumeClaimRetentionPolicy"] = retention
    obj: Object = {
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "default", "uid": "sts-uid", "generation": 1, "resourceVersion": "3"},
        "spec": spec,
    }
    if status is not None:
        obj["status"] = status
    return obj


# ---------------------------------------------------------------------------------- pure parts


def test_pods_have_stable_identity_claims_and_revision() -> None:
    sts = statefulset(claims=True)
    pod = new_pod(sts, TEMPLATE, "web-abc", 2)
    meta = pod["metadata"]
    assert meta["name"] == "web-2" and "generateName" not in meta
    assert meta["labels"] == {"app": "web", POD_NAME_LABEL: "web-2", POD_INDEX_LABEL: "2", REVISION_LABEL: "web-abc"}
    assert meta["ownerReferences"] == [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "sts-uid",
                                        "controller": True, "blockOwnerDeletion": True}]
    assert pod["spec"]["hostname"] == "web-2" and pod["spec"]["subdomain"] == "web"
    assert pod["spec"]["volumes"] == [{"name": "data", "persistentVolumeClaim": {"claimName": "data-web-2"}}]
    (claim,) = claims_for(sts, 2)
    assert claim["metadata"]["name"] == "data-web-2" and claim["metadata"]["labels"] == {"app": "web"}
    assert claim["spec"] == CLAIM["spec"]


def test_revisions_are_named_by_hash_and_collisions_change_the_name() -> None:
    sts = statefulset()
    rev = new_revision(sts, 1, 0)
    hash_ = rev["metadata"]["labels"][REVISION_HASH_LABEL]
    assert rev["metadata"]["name"] == f"web-{hash_}" and rev["revision"] == 1
    assert rev["data"]["spec"]["template"]["$patch"] == "replace"
    assert hash_ == revision_hash(revision_data(sts), 0) != revision_hash(revision_data(sts), 1)
    assert new_revision(statefulset(image="nginx"), 2, 0)["metadata"]["name"] != rev["metadata"]["name"]


def test_history_keeps_live_revisions_and_the_limit() -> None:
    sts = statefulset()
    sts["spec"]["revisionHistoryLimit"] = 1
    revs = [{"metadata": {"name": f"r{i}"}, "revision": i} for i in range(1, 6)]
    pods = [{"metadata": {"labels": {REVISION_LABEL: "r2"}}}]
    assert [r["metadata"]["name"] for r in revisions_to_delete(sts, revs, pods, "r4", "r5")] == ["r1"]


def test_claim_owners_follow_the_retention_policy() -> None:
    claim: Object = {"metadata": {"name": "data-web-3"}}
    pod = {"metadata": {"name": "web-3", "uid": "pod-uid"}}

    def owners(deleted: str, scaled: str, condemned: bool) -> list[str]:
        sts = statefulset(retention={"whenDeleted": deleted, "whenScaled": scaled})
        return [r["kind"] for r in claim_owner_refs(claim, sts, pod, condemned)]

    assert owners("Retain", "Retain", True) == []
    assert owners("Delete", "Retain", False) == owners("Delete", "Retain", True) == ["StatefulSet"]
    assert owners("Retain", "Delete", False) == []
    assert owners("Retain", "Delete", True) == ["Pod"]
    assert owners("Delete", "Delete", False) == ["StatefulSet"]
    assert owners("Delete", "Delete", True) == ["Pod"]


# ---------------------------------------------------------------------------------- reconcile


class FakeClient:
    """Lists what the test put in `objects`; watches never deliver; every write is recorded in
    `actions` as (verb, resource, name) and answered as the API would."""

    def __init__(self, **objects: list[Object]) -> None:
        self.objects = {kind: [copy.deepcopy(o) for o in items] for kind, items in objects.items()}
        self.actions: list[tuple[str, str, str]] = []
        self.bodies: list[Object] = []

    async def list(self, kind: str, **_: Any) -> Object:
        return {"items": copy.deepcopy(self.objects.get(kind, [])), "metadata": {"resourceVersion": "10"}}

    @asynccontextmanager
    async def watch(self, kind: str, **_: Any) -> AsyncIterator[AsyncIterator[WatchEvent]]:
        async def events() -> AsyncIterator[WatchEvent]:
            await anyio.sleep_forever()
            yield WatchEvent("ADDED", {})  # pragma: no cover

        yield events()

    async def get(self, kind: str, name: str, **_: Any) -> Object:
        for obj in self.objects.get(kind, []):
            if obj["metadata"]["name"] == name:
                return copy.deepcopy(obj)
        raise APIError(404, "NotFound", f'{kind} "{name}" not found')

    def _record(self, verb: str, kind: str, name: str, body: Any = None) -> None:
        self.actions.append((verb, kind, name))
        self.bodies.append(body)

    async def create(self, kind: str, obj: Object, **_: Any) -> Object:
        self._record("create", kind, obj["metadata"]["name"], obj)
        return copy.deepcopy(obj)

    async def update(self, kind: str, obj: Object, **_: Any) -> Object:
        self._record("update", kind, obj["metadata"]["name"], obj)
        return copy.deepcopy(obj)

    async def patch(self, kind: str, name: str, patch: Object, **_: Any) -> Object:
        self._record("patch", kind, name, patch)
        return {"metadata": {"name": name}}

    async def delete(self, kind: str, name: str, **_: Any) -> Object:
        self._record("delete", kind, name)
        return {}

    async def update_status(self, kind: str, obj: Object, **_: Any) -> Object:
        self._record("update-status", kind, obj["metadata"]["name"], obj)
        return obj

    def writes(self, kind: str | None = None, verb: str | None = None) -> list[str]:
        return [n for v, k, n in self.actions if (kind is None or k == kind) and (verb is None or v == verb)]


def running(sts: Object, ordinal: int, revision: Object, *, ready: bool = True, phase: str = "Running") -> Object:
    pod = new_pod(sts, TEMPLATE if "template" not in sts["spec"] else sts["spec"]["template"], revision["metadata"]["name"], ordinal)
    pod["metadata"].update(uid=f"uid-{ordinal}", resourceVersion="5")
    pod["status"] = {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    return pod


@asynccontextmanager
async def reconciler(sts: Object, pods: list[Object] = (), revisions: list[Object] = (),  # type: ignore[assignment]
                     claims: list[Object] = ()) -> AsyncIterator[tuple[StatefulSetController, FakeClient, FakeRecorder]]:  # type: ignore[assignment]
    client = FakeClient(statefulsets=[sts], pods=list(pods), controllerrevisions=list(revisions),
                        persistentvolumeclaims=list(claims))
    recorder = FakeRecorder()
    ctrl = StatefulSetController(client, VirtualClock(), recorder)  # type: ignore[arg-type]
    async with anyio.create_task_group() as tg:
        for informer in ctrl.informers:
            tg.start_soon(informer.run)
        for informer in ctrl.informers:
            await informer.wait_synced()
        yield ctrl, client, recorder
        tg.cancel_scope.cancel()


def stored_revision(sts: Object, number: int = 1) -> Object:
    rev = new_revision(sts, number, 0)
    rev["metadata"]["uid"] = f"rev-{number}"
    return rev


async def test_ordered_ready_creates_only_the_first_missing_pod_with_its_claims() -> None:
    sts = statefulset(claims=True)
    async with reconciler(sts) as (ctrl, client, recorder):
        await ctrl.reconcile("default/web")
    assert client.actions[:3] == [("create", "controllerrevisions", new_revision(sts, 1, 0)["metadata"]["name"]),
                                  ("create", "persistentvolumeclaims", "data-web-0"), ("create", "pods", "web-0")]
    assert [m for _, _, m in recorder.events] == [
        "create Claim data-web-0 Pod web-0 in StatefulSet web success",
        "create Pod web-0 in StatefulSet web successful",
    ]
    status = client.bodies[-1]["status"]
    assert status["replicas"] == 0 and status["collisionCount"] == 0
    assert status["currentRevision"] == status["updateRevision"] == new_revision(sts, 1, 0)["metadata"]["name"]


async def test_ordered_ready_waits_for_an_unready_pod_and_parallel_does_not() -> None:
    sts = statefulset()
    rev = stored_revision(sts)
    async with reconciler(sts, [running(sts, 0, rev, ready=False)], [rev]) as (ctrl, client, _):
        await ctrl.reconcile("default/web")
        assert client.writes("pods") == []
    par = statefulset(policy="Parallel")
    rev = stored_revision(par)
    async with reconciler(par, [running(par, 0, rev, ready=False)], [rev]) as (ctrl, client, _):
        await ctrl.reconcile("default/web")
        assert client.writes("pods", "create") == ["web-1", "web-2"]


async def test_scale_down_deletes_the_highest_ordinal_first_one_at_a_time() -> None:
    sts = statefulset(replicas=1)
    rev = stored_revision(sts)
    pods = [running(sts, i, rev) for i in range(3)]
    async with reconciler(sts, pods, [rev]) as (ctrl, client, recorder):
        await ctrl.reconcile("default/web")
    assert client.writes("pods") == ["web-2"]
    assert recorder.events == [("Normal", "SuccessfulDelete", "delete Pod web-2 in StatefulSet web successful")]


async def test_rolling_update_respects_the_partition_and_updates_highest_first() -> None:
    old = statefulset(partition=1)
    old_rev = stored_revision(old, 1)
    new = statefulset(partition=1, image="nginx")
    new_rev = new_revision(new, 2, 0)
    new["status"] = {"currentRevision": old_rev["metadata"]["name"], "updateRevision": new_rev["metadata"]["name"]}
    pods = [running(old, i, old_rev) for i in range(3)]
    async with reconciler(new, pods, [old_rev]) as (ctrl, client, _):
        await ctrl.reconcile("default/web")
    assert client.writes("pods") == ["web-2"]
    # web-2 recreated at the new revision, web-1 next; web-0 (below the partition) never.
    pods = [running(old, 0, old_rev), running(old, 1, old_rev), running(new, 2, new_rev)]
    async with reconciler(new, pods, [old_rev, new_rev]) as (ctrl, client, _):
        await ctrl.reconcile("default/web")
    assert client.writes("pods") == ["web-1"]
    pods = [running(old, 0, old_rev), running(new, 1, new_rev), running(new, 2, new_rev)]
    async with reconciler(new, pods, [old_rev, new_rev]) as (ctrl, client, _):
        await ctrl.reconcile("default/web")
        # A missing pod below the partition comes back at the old revision.
        assert client.writes("pods") == []
    async with reconciler(new, pods[1:], [old_rev, new_rev]) as (ctrl, client, _):
        await ctrl.reconcile("default/web")
    (body,) = [b for (v, k, _), b in zip(client.actions, client.bodies, strict=True) if k == "pods"]
    assert body["metadata"]["labels"][REVISION_LABEL] == old_rev["metadata"]["name"]


async def test_failed_pods_are_deleted_to_be_recreated() -> None:
    sts = statefulset(replicas=1)
    rev = stored_revision(sts)
    async with reconciler(sts, [running(sts, 0, rev, phase="Failed", ready=False)], [rev]) as (ctrl, client, _):
        await ctrl.reconcile("default/web")
    assert client.writes("pods", "delete") == ["web-0"]


async def test_an_equal_older_revision_is_renumbered_rather_than_recreated() -> None:
    sts = statefulset()
    first = stored_revision(sts, 1)
    other = stored_revision(statefulset(image="nginx"), 2)
    async with reconciler(sts, [], [first, other]) as (ctrl, client, _):
        await ctrl.reconcile("default/web")
    i = client.actions.index(("update", "controllerrevisions", first["metadata"]["name"]))
    assert client.bodies[i]["revision"] == 3


# ---------------------------------------------------------------------------------- on a cluster


def _exclude() -> tuple[str, ...]:
    """Keep the cluster's own manager from running a second StatefulSet controller, once the
    manager knows one."""
    try:
        default_controllers(exclude=("statefulset",))
    except ValueError:
        return ()
    return ("statefulset",)


class Scenario:
    def __init__(self, cluster: Cluster, ctrl: StatefulSetController, recorder: EventRecorder) -> None:
        self.cluster = cluster
        self.client = cluster.client
        self.clock: VirtualClock = cluster.clock  # type: ignore[assignment]
        self.ctrl = ctrl
        self.recorder = recorder
        # Every pod watch event as (type, name, ready, being deleted), in order.
        self.history: list[tuple[str, str, bool, bool]] = []

    async def watch_pods(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        rv = (await self.client.list("pods", namespace="default"))["metadata"]["resourceVersion"]
        async with self.client.watch("pods", namespace="default", resource_version=rv) as events:
            task_status.started()
            async for event in events:
                pod = event.object
                ready = any(c["type"] == "Ready" and c["status"] == "True" for c in (pod.get("status") or {}).get("conditions") or [])
                self.history.append((event.type, pod["metadata"]["name"], ready, bool(pod["metadata"].get("deletionTimestamp"))))

    def first(self, name: str, what: str) -> int:
        """Index in `history` of the first event of pod `name` that is: added, ready, deleting
        or deleted."""
        for i, (type_, pod, ready, deleting) in enumerate(self.history):
            if pod == name and {"added": type_ == "ADDED", "ready": ready, "deleting": deleting or type_ == "DELETED",
                                "deleted": type_ == "DELETED"}[what]:
                return i
        raise AssertionError(f"{name} never {what}")

    async def until(self, check: Callable[[], Awaitable[bool]], what: str) -> None:
        for _ in range(600):
            await self.cluster.settle()
            if self.ctrl.idle and self.recorder.pending == 0 and await check():
                return
            await self.clock.advance(0.05)
        raise AssertionError(f"never happened: {what}")

    async def pods(self) -> dict[str, Object]:
        items = (await self.client.list("pods", namespace="default"))["items"]
        return {p["metadata"]["name"]: p for p in items}

    async def ready(self, replicas: int, *, updated: int | None = None) -> Object:
        found: Object = {}

        async def check() -> bool:
            sts = await self.client.get("statefulsets", "web")
            found.clear()
            found.update(sts)
            status = sts.get("status") or {}
            pods = await self.pods()
            return (status.get("replicas") == replicas and status.get("readyReplicas", 0) == replicas
                    and status.get("observedGeneration") == sts["metadata"]["generation"]
                    and sorted(pods) == [f"web-{i}" for i in range(replicas)]
                    and (updated is None or status.get("updatedReplicas", 0) == updated))

        await self.until(check, f"web with {replicas} ready pods")
        return found

    async def events(self, reason: str) -> list[str]:
        items = (await self.client.list("events", namespace="default"))["items"]
        items.sort(key=lambda e: int(e["metadata"]["resourceVersion"]))
        return [e["message"] for e in items if e["reason"] == reason]

    async def claims(self) -> dict[str, Object]:
        items = (await self.client.list("persistentvolumeclaims", namespace="default"))["items"]
        return {c["metadata"]["name"]: c for c in items}


@asynccontextmanager
async def scenario() -> AsyncIterator[Scenario]:
    clock = VirtualClock()
    async with Cluster(nodes=2, clock=clock, exclude_controllers=_exclude()) as cluster:
        with anyio.fail_after(20):
            await cluster.wait_ready()
        recorder = EventRecorder(cluster.client, "statefulset-controller", clock=clock)
        ctrl = StatefulSetController(cluster.client, clock, recorder)
        async with anyio.create_task_group() as tg:
            await tg.start(recorder.run)
            await tg.start(ctrl.run)
            s = Scenario(cluster, ctrl, recorder)
            await tg.start(s.watch_pods)
            with anyio.fail_after(25):
                yield s
            tg.cancel_scope.cancel()


def manifest(replicas: int = 3, **kwargs: Any) -> Object:
    obj = statefulset(replicas, **kwargs)
    obj["metadata"] = {"name": "web"}
    return obj


async def test_cluster_ordered_creation_scaling_and_identity() -> None:
    async with scenario() as s:
        await s.client.create("statefulsets", manifest(3))
        sts = await s.ready(3)
        assert await s.events("SuccessfulCreate") == [f"create Pod web-{i} in StatefulSet web successful" for i in range(3)]
        pods = await s.pods()
        # Ordered: each pod was created only once the previous one was Running and Ready.
        for i in (1, 2):
            assert s.first(f"web-{i}", "added") > s.first(f"web-{i - 1}", "ready")
        web1 = pods["web-1"]
        assert web1["spec"]["hostname"] == "web-1" and web1["spec"]["subdomain"] == "web"
        assert web1["metadata"]["labels"][POD_NAME_LABEL] == "web-1" and web1["metadata"]["labels"][POD_INDEX_LABEL] == "1"
        assert web1["metadata"]["labels"][REVISION_LABEL] == sts["status"]["updateRevision"] == sts["status"]["currentRevision"]
        assert sts["status"]["currentReplicas"] == sts["status"]["updatedReplicas"] == sts["status"]["availableReplicas"] == 3
        (rev,) = (await s.client.list("controllerrevisions", namespace="default"))["items"]
        assert rev["metadata"]["name"] == sts["status"]["updateRevision"] and rev["revision"] == 1

        await s.client.patch("statefulsets", "web", {"spec": {"replicas": 5}}, subresource="scale")
        await s.ready(5)
        await s.client.patch("statefulsets", "web", {"spec": {"replicas": 2}}, subresource="scale")
        await s.ready(2)
        assert await s.events("SuccessfulDelete") == [f"delete Pod web-{i} in StatefulSet web successful" for i in (4, 3, 2)]
        # One at a time: each deletion starts once the higher ordinal is gone.
        assert s.first("web-3", "deleting") > s.first("web-4", "deleted")
        assert s.first("web-2", "deleting") > s.first("web-3", "deleted")

        # A deleted pod comes back under the same name.
        uid = (await s.pods())["web-1"]["metadata"]["uid"]
        await s.client.delete("pods", "web-1")
        await s.ready(2)
        assert (await s.pods())["web-1"]["metadata"]["uid"] != uid


async def test_cluster_rolling_update_with_partition() -> None:
    async with scenario() as s:
        await s.client.create("statefulsets", manifest(3, partition=1))
        old = (await s.ready(3))["status"]["currentRevision"]
        await s.client.patch("statefulsets", "web", {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
        sts = await s.ready(3, updated=2)
        new = sts["status"]["updateRevision"]
        assert new != old and sts["status"]["currentRevision"] == old and sts["status"]["currentReplicas"] == 1
        pods = await s.pods()
        assert {n: p["metadata"]["labels"][REVISION_LABEL] for n, p in pods.items()} == {"web-0": old, "web-1": new, "web-2": new}
        assert pods["web-0"]["spec"]["containers"][0]["image"] == "busybox"
        assert pods["web-2"]["spec"]["containers"][0]["image"] == "nginx"
        assert await s.events("SuccessfulDelete") == [f"delete Pod web-{i} in StatefulSet web successful" for i in (2, 1)]
        # web-1 went only once web-2 was back and ready at the new revision.
        back = max(i for i, e in enumerate(s.history) if e[1] == "web-2" and e[0] == "ADDED")
        ready_again = next(i for i, e in enumerate(s.history) if i > back and e[1] == "web-2" and e[2])
        assert s.first("web-1", "deleting") > ready_again
        # Partition 0 finishes the rollout: the update revision becomes the current one.
        await s.client.patch("statefulsets", "web", {"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}})
        sts = await s.ready(3, updated=3)
        await s.until(lambda: _current_is(s, new), "rollout complete")
        revs = (await s.client.list("controllerrevisions", namespace="default"))["items"]
        assert sorted(r["revision"] for r in revs) == [1, 2]


async def _current_is(s: Scenario, revision: str) -> bool:
    status = (await s.client.get("statefulsets", "web")).get("status") or {}
    return status.get("currentRevision") == revision and status.get("currentReplicas") == 3


async def test_cluster_claims_created_by_name_and_retained() -> None:
    async with scenario() as s:
        await s.client.create("statefulsets", manifest(2, claims=True))
        await s.ready(2)
        claims = await s.claims()
        assert sorted(claims) == ["data-web-0", "data-web-1"]
        assert claims["data-web-0"]["metadata"]["labels"] == {"app": "web"}
        assert not claims["data-web-0"]["metadata"].get("ownerReferences")
        assert (await s.pods())["web-0"]["spec"]["volumes"][0] == {"name": "data", "persistentVolumeClaim": {"claimName": "data-web-0"}}
        assert "create Claim data-web-0 Pod web-0 in StatefulSet web success" in await s.events("SuccessfulCreate")
        await s.client.patch("statefulsets", "web", {"spec": {"replicas": 1}}, subresource="scale")
        await s.ready(1)
        assert sorted(await s.claims()) == ["data-web-0", "data-web-1"]  # Retain


@pytest.mark.parametrize("when_deleted", ["Delete", "Retain"])
async def test_cluster_claims_deleted_per_policy(when_deleted: str) -> None:
    async with scenario() as s:
        created = await s.client.create("statefulsets", manifest(2, claims=True, retention={"whenDeleted": when_deleted, "whenScaled": "Delete"}))
        await s.ready(2)
        refs = (await s.claims())["data-web-0"]["metadata"].get("ownerReferences") or []
        assert [r["uid"] for r in refs] == ([created["metadata"]["uid"]] if when_deleted == "Delete" else [])
        # Scaled down: the condemned pod's claim goes with it.
        await s.client.patch("statefulsets", "web", {"spec": {"replicas": 1}}, subresource="scale")
        await s.ready(1)

        async def claims_are(names: list[str]) -> bool:
            return sorted(await s.claims()) == names

        await s.until(lambda: claims_are(["data-web-0"]), "data-web-1 deleted")
        # The set deleted: its claims go too under whenDeleted=Delete.
        await s.client.delete("statefulsets", "web")
        expected = [] if when_deleted == "Delete" else ["data-web-0"]
        await s.until(lambda: claims_are(expected), f"claims {expected}")


async def test_cluster_parallel_creates_all_at_once() -> None:
    async with scenario() as s:
        await s.client.create("statefulsets", manifest(3, policy="Parallel"))
        await s.ready(3)
        pods = await s.pods()
        # All three created before any became ready.
        assert max(s.first(n, "added") for n in pods) < min(s.first(n, "ready") for n in pods)
        await s.client.patch("statefulsets", "web", {"spec": {"replicas": 0}}, subresource="scale")
        await s.until(lambda: _no_pods(s), "all pods gone")
        # All three deleted at once: each started going before any was gone.
        assert max(s.first(n, "deleting") for n in pods) < min(s.first(n, "deleted") for n in pods)


async def _no_pods(s: Scenario) -> bool:
    return not await s.pods()
