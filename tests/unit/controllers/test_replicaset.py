"""The ReplicaSet and ReplicationController controllers.

Two layers, as sample-controller tests its controller:

- reconcile(key) against informers pre-filled from a fake client that records every action
  (create, get, patch, delete, status update) and never answers a watch unless told to, so a
  test decides what the controller's caches have seen;
- scenarios on an in-process Cluster (scheduler, node agents, fake runtime) on a VirtualClock.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kube_lite.api.errors import APIError
from kube_lite.client.client import WatchEvent
from kube_lite.client.events import EventRecorder
from kube_lite.client.informer import object_key
from kube_lite.clock import VirtualClock
from kube_lite.cluster import Cluster
from kube_lite.controllers.podcontrol import (
    EXPECTATIONS_TIMEOUT,
    Expectations,
    UIDTrackingExpectations,
    is_pod_available,
    pod_from_template,
    pods_to_delete,
    rank_pods_for_deletion,
    slow_start_batch,
)
from kube_lite.controllers.replicaset import ReplicaSetController, ReplicationManager
from tests.unit.controllers.fakes import FakeRecorder

Object = dict[str, Any]
START = VirtualClock().time()  # the wall time a fresh VirtualClock starts at


def ts(seconds_from_start: float) -> str:
    return dt.datetime.fromtimestamp(START + seconds_from_start, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------- fixtures


def replicaset(name: str = "web", replicas: int = 3, *, uid: str = "rs-uid", generation: int = 1,
               min_ready: int = 0, status: Object | None = None, labels: dict[str, str] | None = None,
               selector: Object | None = None) -> Object:
    labels = labels or {"app": name}
    spec: Object = {
        "replicas": replicas,
        "selector": selector if selector is not None else {"matchLabels": labels},
        "template": {"metadata": {"labels": dict(labels)}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}},
    }
    if min_ready:
        spec["minReadySeconds"] = min_ready
    obj: Object = {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": "default", "uid": uid, "generation": generation, "resourceVersion": "10"},
        "spec": spec,
    }
    if status is not None:
        obj["status"] = status
    return obj


def rs_ref(name: str = "web", uid: str = "rs-uid", kind: str = "ReplicaSet", api_version: str = "apps/v1") -> Object:
    return {"apiVersion": api_version, "kind": kind, "name": name, "uid": uid, "controller": True, "blockOwnerDeletion": True}


def pod(name: str, *, labels: dict[str, str] | None = None, owner: Object | None = None, node: str | None = "node1",
        phase: str = "Running", ready_since: float | None = 0.0, created: float = 0.0, restarts: int = 0,
        deleting: bool = False, annotations: dict[str, str] | None = None) -> Object:
    meta: Object = {
        "name": name, "namespace": "default", "uid": f"uid-{name}", "resourceVersion": "5",
        "labels": labels if labels is not None else {"app": "web"}, "creationTimestamp": ts(created),
    }
    if owner is not None:
        meta["ownerReferences"] = [owner]
    if deleting:
        meta["deletionTimestamp"] = ts(30)
    if annotations:
        meta["annotations"] = annotations
    status: Object = {"phase": phase, "containerStatuses": [{"name": "c", "restartCount": restarts}]}
    if ready_since is not None:
        status["conditions"] = [{"type": "Ready", "status": "True", "lastTransitionTime": ts(ready_since)}]
    spec: Object = {"containers": [{"name": "c", "image": "busybox"}]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


class FakeClient:
    """Lists what the test put in `objects`; watches deliver only what `emit` sends; every
    write is recorded in `actions` as (verb, resource, name, body) and answered as the API
    would. `fail[verb]` is a function of the call's body returning an error to raise, or None."""

    def __init__(self, **objects: list[Object]) -> None:
        self.objects = {kind: [copy.deepcopy(o) for o in items] for kind, items in objects.items()}
        self.actions: list[tuple[str, str, str, Any]] = []
        self.fail: dict[str, Callable[[Any], Exception | None]] = {}
        self._streams: dict[str, Any] = {}
        self._created = 0

    def emit(self, kind: str, type_: str, obj: Object) -> None:
        self._streams[kind][0].send_nowait(WatchEvent(type_, obj))

    def writes(self, verb: str | None = None) -> list[tuple[str, str, str, Any]]:
        return [a for a in self.actions if a[0] != "get" and (verb is None or a[0] == verb)]

    def _check(self, verb: str, body: Any) -> None:
        if verb in self.fail and (exc := self.fail[verb](body)) is not None:
            raise exc

    async def list(self, kind: str, **_: Any) -> Object:
        return {"items": copy.deepcopy(self.objects.get(kind, [])), "metadata": {"resourceVersion": "10"}}

    @asynccontextmanager
    async def watch(self, kind: str, **_: Any) -> AsyncIterator[AsyncIterator[WatchEvent]]:
        send, recv = anyio.create_memory_object_stream[WatchEvent](100)
        self._streams[kind] = (send, recv)

        async def events() -> AsyncIterator[WatchEvent]:
            async for event in recv:
                yield event

        yield events()

    async def get(self, kind: str, name: str, *, namespace: str | None = None, **_: Any) -> Object:
        self.actions.append(("get", kind, name, None))
        self._check("get", name)
        for obj in self.objects.get(kind, []):
            if obj["metadata"]["name"] == name:
                return copy.deepcopy(obj)
        raise APIError(404, "NotFound", f'{kind} "{name}" not found')

    async def create(self, kind: str, obj: Object, *, namespace: str | None = None, **_: Any) -> Object:
        self._check("create", obj)
        created = copy.deepcopy(obj)
        self._created += 1
        created["metadata"]["name"] = f"{obj['metadata'].get('generateName', '')}{self._created:05d}"
        self.actions.append(("create", kind, created["metadata"]["name"], obj))
        return created

    async def patch(self, kind: str, name: str, patch: Object, *, namespace: str | None = None,
                    patch_type: str = "merge", **_: Any) -> Object:
        self.actions.append(("patch", kind, name, (patch_type, patch)))
        self._check("patch", patch)
        return {"metadata": {"name": name}}

    async def delete(self, kind: str, name: str, *, namespace: str | None = None, **_: Any) -> Object:
        self.actions.append(("delete", kind, name, None))
        self._check("delete", name)
        return {}

    async def update_status(self, kind: str, obj: Object, *, namespace: str | None = None) -> Object:
        self.actions.append(("update-status", kind, obj["metadata"]["name"], obj))
        self._check("update-status", obj)
        return obj


@asynccontextmanager
async def started(ctrl: ReplicaSetController) -> AsyncIterator[None]:
    """The controller's informers listed and watching; no workers (the test calls reconcile)."""
    async with anyio.create_task_group() as tg:
        for informer in ctrl.informers:
            tg.start_soon(informer.run)
        for informer in ctrl.informers:
            await informer.wait_synced()
        await anyio.wait_all_tasks_blocked()  # the watches are open
        yield
        tg.cancel_scope.cancel()


def make(ctrl_cls: type[ReplicaSetController] = ReplicaSetController, *, owners: list[Object], pods: list[Object] = (),  # type: ignore[assignment]
         resource: str = "replicasets") -> tuple[ReplicaSetController, FakeClient, FakeRecorder, VirtualClock]:
    client = FakeClient(**{resource: owners, "pods": list(pods)})
    recorder = FakeRecorder()
    clock = VirtualClock()
    ctrl = ctrl_cls(client, clock, recorder)  # type: ignore[arg-type]
    return ctrl, client, recorder, clock


def quota_error(body: Any) -> APIError:
    name = body["metadata"]["generateName"] + "xxxxx"
    return APIError(403, "Forbidden", f'pods "{name}" is forbidden: exceeded quota: q, requested: pods=1, used: pods=3, limited: pods=3')


# ---------------------------------------------------------------------------------- reconcile


async def test_creates_the_missing_pods_from_the_template_owned_by_the_replicaset() -> None:
    ctrl, client, recorder, _ = make(owners=[replicaset(replicas=3)])
    async with started(ctrl):
        assert await ctrl.reconcile("default/web") is None

    creates = client.writes("create")
    assert len(creates) == 3
    body = creates[0][3]
    assert body["metadata"] == {
        "generateName": "web-", "namespace": "default", "labels": {"app": "web"}, "ownerReferences": [rs_ref()],
    }
    assert body["spec"] == {"containers": [{"name": "c", "image": "busybox"}]}
    assert recorder.events == [("Normal", "SuccessfulCreate", f"Created pod: {c[2]}") for c in creates]
    assert set(recorder.sources) == {"replicaset-controller"}  # as kubectl describe shows the source
    (status_write,) = client.writes("update-status")
    assert status_write[3]["status"] == {"replicas": 0, "terminatingReplicas": 0, "observedGeneration": 1}
    assert client.writes()[-1][0] == "update-status"


async def test_a_slow_watch_never_makes_it_create_twice_until_expectations_expire() -> None:
    ctrl, client, _, clock = make(owners=[replicaset(replicas=3)])
    async with started(ctrl):
        await ctrl.reconcile("default/web")
        await ctrl.reconcile("default/web")  # the informer has seen none of the three pods
        assert len(client.writes("create")) == 3
        assert ctrl.expectations.get("default/web") == (3, 0)

        # Two of them arrive: still waiting for the third.
        for name in ("web-00001", "web-00002"):
            client.emit("pods", "ADDED", pod(name, owner=rs_ref()))
        await anyio.wait_all_tasks_blocked()
        assert ctrl.expectations.get("default/web") == (1, 0)
        await ctrl.reconcile("default/web")
        assert len(client.writes("create")) == 3

        # Five minutes without news of the third: the controller stops waiting, counts two
        # pods and creates one more.
        await clock.advance(EXPECTATIONS_TIMEOUT + 1)
        await ctrl.reconcile("default/web")
        assert len(client.writes("create")) == 4


async def test_creation_starts_slow_and_stops_at_the_first_failing_batch() -> None:
    ctrl, client, recorder, _ = make(owners=[replicaset(replicas=10)])
    calls = 0

    def fourth_fails(body: Any) -> Exception | None:
        nonlocal calls
        calls += 1
        return quota_error(body) if calls == 4 else None

    client.fail["create"] = fourth_fails
    async with started(ctrl):
        with pytest.raises(APIError, match="exceeded quota"):
            await ctrl.reconcile("default/web")

    # Batches of 1 and 2 succeed; the batch of 4 has one failure; the rest is never tried.
    assert calls == 7
    assert len(client.writes("create")) == 6
    assert ctrl.expectations.get("default/web") == (6, 0)
    warnings = [e for e in recorder.events if e[0] == "Warning"]
    assert warnings == [("Warning", "FailedCreate", "Error creating: " + str(quota_error({"metadata": {"generateName": "web-"}})))]
    (status_write,) = client.writes("update-status")
    (condition,) = status_write[3]["status"]["conditions"]
    assert condition["type"] == "ReplicaFailure" and condition["status"] == "True"
    assert condition["reason"] == "FailedCreate"
    assert condition["message"].startswith('pods "web-xxxxx" is forbidden: exceeded quota')
    assert condition["lastTransitionTime"] == ts(0)


async def test_replica_failure_is_cleared_once_creation_succeeds() -> None:
    failure = {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": "quota",
               "lastTransitionTime": ts(0)}
    owned = [pod(f"web-{i}", owner=rs_ref()) for i in range(3)]
    rs = replicaset(replicas=3, status={"replicas": 3, "conditions": [failure], "observedGeneration": 1})
    ctrl, client, _, _ = make(owners=[rs], pods=owned)
    async with started(ctrl):
        await ctrl.reconcile("default/web")
    (status_write,) = client.writes("update-status")
    assert "conditions" not in status_write[3]["status"]


async def test_scale_down_deletes_the_least_valuable_pods_first() -> None:
    ref = rs_ref()
    pods = [
        pod("ready-long", owner=ref, ready_since=-10_000, created=-20_000),
        pod("ready-recently", owner=ref, ready_since=-2, created=-20_000),
        pod("not-ready", owner=ref, ready_since=None),
        pod("pending", owner=ref, phase="Pending", ready_since=None),
        pod("unscheduled", owner=ref, node=None, phase="Pending", ready_since=None),
    ]
    ctrl, client, recorder, _ = make(owners=[replicaset(replicas=2)], pods=pods)
    async with started(ctrl):
        await ctrl.reconcile("default/web")
        deleted = [a[2] for a in client.writes("delete")]
        assert sorted(deleted) == ["not-ready", "pending", "unscheduled"]
        assert sorted(recorder.events) == sorted(("Normal", "SuccessfulDelete", f"Deleted pod: {n}") for n in deleted)
        assert ctrl.expectations.expected_pod_deletions("default/web") == {
            "default/not-ready", "default/pending", "default/unscheduled",
        }

        # The deletions are observed once each, however many times the informer reports them.
        gone = pod("pending", owner=ref, phase="Pending", ready_since=None, deleting=True)
        gone["metadata"]["resourceVersion"] = "6"
        client.emit("pods", "MODIFIED", gone)
        client.emit("pods", "DELETED", gone)
        await anyio.wait_all_tasks_blocked()
        assert ctrl.expectations.get("default/web") == (0, 2)
        await ctrl.reconcile("default/web")
        assert len(client.writes("delete")) == 3  # still waiting for two: nothing more


async def test_delete_errors_lower_the_expectations_and_are_reported() -> None:
    ref = rs_ref()
    pods = [pod("a", owner=ref, created=-5000), pod("b", owner=ref, created=-1)]
    ctrl, client, recorder, _ = make(owners=[replicaset(replicas=1)], pods=pods)
    client.fail["delete"] = lambda name: APIError(500, "InternalError", "etcd is sad")
    async with started(ctrl):
        with pytest.raises(RuntimeError, match="unable to delete pods: etcd is sad"):
            await ctrl.reconcile("default/web")
    assert [a[2] for a in client.writes("delete")] == ["b"]  # the newer one
    assert ctrl.expectations.satisfied("default/web")
    assert recorder.events == [("Warning", "FailedDelete", "Error deleting: etcd is sad")]
    condition = client.writes("update-status")[0][3]["status"]["conditions"][0]
    assert (condition["reason"], condition["message"]) == ("FailedDelete", "unable to delete pods: etcd is sad")


async def test_matching_orphans_are_adopted_and_unmatching_pods_released() -> None:
    other = rs_ref("other", "other-uid")
    pods = [
        pod("orphan"),
        pod("mine"),
        pod("relabelled", labels={"app": "db"}),
        pod("someone-elses", owner=other),
        pod("unrelated-orphan", labels={"app": "db"}),
    ]
    pods[1]["metadata"]["ownerReferences"] = [rs_ref()]
    pods[2]["metadata"]["ownerReferences"] = [rs_ref()]
    ctrl, client, _, _ = make(owners=[replicaset(replicas=2)], pods=pods)
    async with started(ctrl):
        await ctrl.reconcile("default/web")

    assert ("get", "replicasets", "web", None) in client.actions  # the owner re-read before adopting
    patches = {a[2]: a[3] for a in client.writes("patch")}
    assert patches == {
        "orphan": ("strategic", {"metadata": {"ownerReferences": [rs_ref()], "uid": "uid-orphan"}}),
        "relabelled": ("strategic", {"metadata": {"ownerReferences": [{"$patch": "delete", "uid": "rs-uid"}], "uid": "uid-relabelled"}}),
    }
    assert client.writes("create") == [] and client.writes("delete") == []
    assert client.writes("update-status")[0][3]["status"]["replicas"] == 2


async def test_no_adoption_for_a_replicaset_recreated_or_being_deleted() -> None:
    ctrl, client, _, _ = make(owners=[replicaset(replicas=1)], pods=[pod("orphan")])
    async with started(ctrl):
        client.objects["replicasets"][0]["metadata"]["uid"] = "a-new-one"  # what a fresh GET sees
        with pytest.raises(RuntimeError, match="original ReplicaSet default/web is gone: got uid a-new-one, wanted rs-uid"):
            await ctrl.reconcile("default/web")
    assert client.writes("patch") == [] and client.writes("create") == []

    deleting = replicaset(replicas=1)
    deleting["metadata"]["deletionTimestamp"] = ts(0)
    ctrl, client, _, _ = make(owners=[deleting], pods=[pod("orphan"), pod("mine", labels={"app": "x"}, owner=rs_ref())])
    async with started(ctrl):
        await ctrl.reconcile("default/web")
    # Neither adopted nor released, and no pods made for an owner on its way out.
    assert [a[0] for a in client.writes()] == ["update-status"]


async def test_terminal_and_terminating_pods_do_not_count() -> None:
    ref = rs_ref()
    pods = [
        pod("running", owner=ref),
        pod("done", owner=ref, phase="Succeeded", ready_since=None),
        pod("failed", owner=ref, phase="Failed", ready_since=None),
        pod("going", owner=ref, deleting=True),
    ]
    ctrl, client, _, _ = make(owners=[replicaset(replicas=2)], pods=pods)
    async with started(ctrl):
        await ctrl.reconcile("default/web")
    assert len(client.writes("create")) == 1
    status = client.writes("update-status")[0][3]["status"]
    assert status == {"replicas": 1, "fullyLabeledReplicas": 1, "readyReplicas": 1, "availableReplicas": 1,
                      "terminatingReplicas": 1, "observedGeneration": 1}


async def test_status_counts_and_min_ready_seconds_requeue() -> None:
    ref = rs_ref()
    pods = [
        pod("old", owner=ref, ready_since=-100),
        pod("new", owner=ref, ready_since=-4),
        pod("starting", owner=ref, ready_since=None),
        pod("extra-label", owner=ref, labels={"app": "web"}, ready_since=None),
    ]
    rs = replicaset(replicas=4, min_ready=10)
    rs["spec"]["template"]["metadata"]["labels"]["tier"] = "front"  # only fully labelled pods have it
    pods[3]["metadata"]["labels"] = {"app": "web", "tier": "front"}
    ctrl, client, _, _ = make(owners=[rs], pods=pods)
    async with started(ctrl):
        requeue = await ctrl.reconcile("default/web")
    status = client.writes("update-status")[0][3]["status"]
    assert status["replicas"] == 4
    assert status["fullyLabeledReplicas"] == 1
    assert status["readyReplicas"] == 2
    assert status["availableReplicas"] == 1
    assert requeue == pytest.approx(6.0, abs=0.1)  # "new" becomes available in 6 s


async def test_an_unchanged_status_is_not_written() -> None:
    pods = [pod(f"web-{i}", owner=rs_ref()) for i in range(2)]
    current = {"replicas": 2, "fullyLabeledReplicas": 2, "readyReplicas": 2, "availableReplicas": 2,
               "terminatingReplicas": 0, "observedGeneration": 1}
    ctrl, client, _, _ = make(owners=[replicaset(replicas=2, status=current)], pods=pods)
    async with started(ctrl):
        assert await ctrl.reconcile("default/web") is None
    assert client.writes() == []

    # A new generation alone is a change: observedGeneration must follow.
    ctrl, client, _, _ = make(owners=[replicaset(replicas=2, status=current, generation=2)], pods=pods)
    async with started(ctrl):
        await ctrl.reconcile("default/web")
    assert client.writes("update-status")[0][3]["status"]["observedGeneration"] == 2


async def test_a_failed_status_write_is_retried_once_on_a_fresh_read() -> None:
    ctrl, client, _, _ = make(owners=[replicaset(replicas=0)])
    attempts = 0

    def conflict_once(body: Any) -> Exception | None:
        nonlocal attempts
        attempts += 1
        return APIError(409, "Conflict", "the object has been modified") if attempts == 1 else None

    client.fail["update-status"] = conflict_once
    async with started(ctrl):
        await ctrl.reconcile("default/web")
    assert [a[0] for a in client.actions] == ["update-status", "get", "update-status"]


async def test_a_deleted_replicaset_is_forgotten_and_an_invalid_selector_not_retried() -> None:
    bad = replicaset(selector={"matchExpressions": [{"key": "app", "operator": "Near", "values": ["x"]}]})
    ctrl, client, _, _ = make(owners=[bad])
    ctrl.expectations.expect_creations("default/gone", 2)
    async with started(ctrl):
        assert await ctrl.reconcile("default/gone") is None
        assert await ctrl.reconcile("default/web") is None
    assert ctrl.expectations.get("default/gone") is None
    assert client.actions == []


async def test_pod_events_queue_the_owner() -> None:
    rs = replicaset(replicas=1)
    ctrl, client, _, _ = make(owners=[rs, replicaset("db", uid="db-uid")])
    async with started(ctrl):
        while len(ctrl.queue):  # the initial adds
            ctrl.queue.done(await ctrl.queue.get())
        client.emit("pods", "ADDED", pod("orphan"))  # selected by web only
        client.emit("pods", "ADDED", pod("db-1", owner=rs_ref("db", "db-uid"), labels={"app": "db"}))
        client.emit("pods", "ADDED", pod("stranger", owner=rs_ref("web", "old-uid")))  # a previous "web"
        await anyio.wait_all_tasks_blocked()
        assert sorted([await ctrl.queue.get() for _ in range(len(ctrl.queue))]) == ["default/db", "default/web"]


async def test_updates_that_change_nothing_a_sync_reads_and_its_own_echoes_queue_nothing() -> None:
    rs = replicaset(replicas=1)
    running = pod("web-1", owner=rs_ref(), ready_since=None, phase="Pending")
    ctrl, client, _, _ = make(owners=[rs], pods=[running])
    async with started(ctrl):
        while len(ctrl.queue):  # the initial adds
            ctrl.queue.done(await ctrl.queue.get())
        # An IP and a container state: nothing a sync reads.
        moved = copy.deepcopy(running)
        moved["metadata"]["resourceVersion"] = "6"
        moved["status"]["podIP"] = "10.0.0.5"
        client.emit("pods", "MODIFIED", moved)
        await anyio.wait_all_tasks_blocked()
        assert len(ctrl.queue) == 0
        # Ready: that counts.
        ready = copy.deepcopy(moved)
        ready["metadata"]["resourceVersion"] = "7"
        ready["status"]["phase"] = "Running"
        ready["status"]["conditions"] = [{"type": "Ready", "status": "True", "lastTransitionTime": ts(1)}]
        client.emit("pods", "MODIFIED", ready)
        await anyio.wait_all_tasks_blocked()
        assert [await ctrl.queue.get() for _ in range(len(ctrl.queue))] == ["default/web"]
        ctrl.queue.done("default/web")
        # The controller's own status write comes back through the watch: no news to it.
        written = {**copy.deepcopy(rs), "status": {"replicas": 1}}
        written["metadata"]["resourceVersion"] = "11"
        ctrl.owner_writes.mutation(written, echo=True)
        client.emit("replicasets", "MODIFIED", written)
        await anyio.wait_all_tasks_blocked()
        assert len(ctrl.queue) == 0
        # Someone else's write is.
        scaled = copy.deepcopy(written)
        scaled["metadata"]["resourceVersion"] = "12"
        scaled["spec"]["replicas"] = 2
        client.emit("replicasets", "MODIFIED", scaled)
        await anyio.wait_all_tasks_blocked()
        assert [await ctrl.queue.get() for _ in range(len(ctrl.queue))] == ["default/web"]
        # ... and the sync reads it, not the older version it wrote.
        assert ctrl.owner_writes.get("default/web") is scaled


# ---------------------------------------------------------------------------------- ReplicationController


def replication_controller(replicas: int = 2) -> Object:
    return {
        "apiVersion": "v1", "kind": "ReplicationController",
        "metadata": {"name": "web", "namespace": "default", "uid": "rc-uid", "generation": 1, "resourceVersion": "10"},
        "spec": {"replicas": replicas, "selector": {"app": "web"},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}},
    }


_POD_CHANGE = st.tuples(
    st.integers(0, 2),  # which pod
    st.sampled_from(["put", "put", "put", "remove", "sync"]),
    st.sampled_from(["ours", "ours", "other", "orphan"]),  # its controller
    st.sampled_from([{"app": "web", "v": "1"}, {"app": "web"}, {"app": "db"}]),  # its labels
    st.booleans(),  # ready
    st.sampled_from(["Running", "Running", "Succeeded"]),
    st.booleans(),  # being deleted
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_POD_CHANGE, max_size=30))
def test_counts_kept_between_syncs_are_those_counted_afresh(changes: list[tuple[Any, ...]]) -> None:
    """Whatever pod events came between syncs, the counts a sync starts from are the ones it
    would count from the informer's cache afresh."""
    owner = replicaset()
    owner["spec"]["template"]["metadata"]["labels"] = {"app": "web", "v": "1"}
    ctrl, _, _, _ = make(owners=[owner])
    ctrl.owners._upsert("default/web", owner)
    selector = ctrl.replica_kind.selector(owner)
    refs = {"ours": rs_ref(), "other": rs_ref("db", uid="db-uid"), "orphan": None}

    def afresh() -> tuple[Any, ...]:
        owned = ctrl._owned_pods("default/web", owner, selector)
        counted = (owned.active, owned.fully_labeled, owned.ready, owned.terminating, owned.mismatched,
                   [object_key(p) for p in owned.pods()], [object_key(p) for p in owned.pods(selected=False)])
        ctrl._forget_owned("default/web")
        fresh = ctrl._owned_pods("default/web", owner, selector)
        assert counted == (fresh.active, fresh.fully_labeled, fresh.ready, fresh.terminating, fresh.mismatched,
                           [object_key(p) for p in fresh.pods()], [object_key(p) for p in fresh.pods(selected=False)])
        return counted

    for rv, (index, op, ref, labels, ready, phase, deleting) in enumerate(changes, start=100):
        key = f"default/p{index}"
        if op == "sync":
            afresh()
        elif op == "remove":
            ctrl.pods._remove(key)
        else:
            obj = pod(f"p{index}", labels=dict(labels), owner=refs[ref], ready_since=0.0 if ready else None, phase=phase,
                      deleting=deleting)
            obj["metadata"]["resourceVersion"] = str(rv)
            ctrl.pods._upsert(key, obj)
    afresh()


async def test_replication_controller_uses_its_label_map_and_a_v1_owner_reference() -> None:
    rc_ref = rs_ref(uid="rc-uid", kind="ReplicationController", api_version="v1")
    pods = [pod("orphan"), pod("rs-owned", owner=rs_ref()), pod("other", labels={"app": "db"})]
    ctrl, client, recorder, _ = make(ReplicationManager, owners=[replication_controller(2)], pods=pods, resource="replicationcontrollers")
    async with started(ctrl):
        await ctrl.reconcile("default/web")
    assert ("get", "replicationcontrollers", "web", None) in client.actions
    assert [(a[2], a[3][1]["metadata"]["ownerReferences"]) for a in client.writes("patch")] == [("orphan", [rc_ref])]
    (create,) = client.writes("create")
    assert create[3]["metadata"]["ownerReferences"] == [rc_ref]
    assert recorder.events == [("Normal", "SuccessfulCreate", f"Created pod: {create[2]}")]
    status = client.writes("update-status")[0][3]["status"]
    assert status == {"replicas": 1, "fullyLabeledReplicas": 1, "readyReplicas": 1, "availableReplicas": 1, "observedGeneration": 1}


# ---------------------------------------------------------------------------------- podcontrol


async def test_expectations_are_satisfied_when_observed_or_expired() -> None:
    clock = VirtualClock()
    exp = Expectations(clock)
    assert exp.satisfied("ns/a")  # never set
    exp.expect_creations("ns/a", 2)
    assert not exp.satisfied("ns/a")
    exp.creation_observed("ns/a")
    exp.raise_expectations("ns/a", 1, 1)
    assert exp.get("ns/a") == (2, 1)
    exp.lower_expectations("ns/a", 2, 1)
    assert exp.satisfied("ns/a")
    exp.expect_deletions("ns/b", 1)
    await clock.advance(EXPECTATIONS_TIMEOUT)  # exactly at the timeout: still waiting
    assert not exp.satisfied("ns/b")
    await clock.advance(0.5)
    assert exp.satisfied("ns/b")
    exp.delete("ns/b")
    assert exp.get("ns/b") is None


def test_uid_tracking_counts_each_pod_deletion_once() -> None:
    exp = UIDTrackingExpectations(VirtualClock())
    exp.expect_pod_deletions("ns/rs", ["ns/a", "ns/b"])
    exp.pod_deletion_observed("ns/rs", "ns/a")
    exp.pod_deletion_observed("ns/rs", "ns/a")
    exp.pod_deletion_observed("ns/rs", "ns/unrelated")
    assert exp.get("ns/rs") == (0, 1)
    exp.pod_deletion_observed("ns/rs", "ns/b")
    assert exp.satisfied("ns/rs")
    exp.delete("ns/rs")
    assert exp.expected_pod_deletions("ns/rs") == frozenset()


async def test_slow_start_batch_sizes() -> None:
    calls: list[int] = []

    async def ok() -> None:
        calls.append(1)

    assert await slow_start_batch(10, 1, ok) == (10, None)
    assert len(calls) == 10
    assert await slow_start_batch(0, 1, ok) == (0, None)

    async def boom() -> None:
        raise ValueError("no")

    successes, error = await slow_start_batch(10, 1, boom)
    assert successes == 0 and isinstance(error, ValueError)


def test_pod_from_template() -> None:
    template = {"metadata": {"labels": {"app": "x"}, "annotations": {"a": "1"}, "finalizers": ["f"], "name": "ignored"},
                "spec": {"containers": [{"name": "c"}]}}
    owner = {"metadata": {"name": "x" * 253}}
    made = pod_from_template(template, owner, None, namespace="ns")
    assert made["metadata"] == {"generateName": "x" * 253, "namespace": "ns", "labels": {"app": "x"},
                                "annotations": {"a": "1"}, "finalizers": ["f"]}
    made["spec"]["containers"][0]["name"] = "changed"
    assert template["spec"]["containers"][0]["name"] == "c"  # a copy
    with pytest.raises(ValueError, match="no labels"):
        pod_from_template({"spec": {}}, owner, None, namespace="ns")


def test_availability_is_ready_for_longer_than_min_ready_seconds() -> None:
    p = pod("p", ready_since=0)
    assert is_pod_available(p, 0, START)
    assert not is_pod_available(p, 10, START + 10)
    assert is_pod_available(p, 10, START + 10.5)
    assert is_pod_available(p, 10, dt.datetime.fromtimestamp(START + 11, dt.UTC))
    assert not is_pod_available(pod("q", ready_since=None), 0, START)


def test_deletion_ranking() -> None:
    now = START + 100_000
    pods = [
        pod("old-ready", ready_since=0, created=0),
        pod("restarts", ready_since=0, created=0, restarts=5),
        pod("new", ready_since=0, created=99_990),
        pod("recently-ready", ready_since=99_990, created=0),
        pod("costly-unready", ready_since=None, annotations={"controller.kubernetes.io/pod-deletion-cost": "100"}),
        pod("unready", ready_since=None),
        pod("unknown", phase="Unknown", ready_since=None),
        pod("pending", phase="Pending", ready_since=None),
        pod("unscheduled", node=None, phase="Pending", ready_since=None),
    ]
    order = [p["metadata"]["name"] for p in rank_pods_for_deletion(pods, now)]
    assert order == ["unscheduled", "pending", "unknown", "unready", "costly-unready", "recently-ready",
                     "restarts", "new", "old-ready"]
    # Related pods (same owner family) doubled up on a node make its pods go first.
    a, b = pod("a", node="n1"), pod("b", node="n2")
    related = [a, b, pod("sibling", node="n2")]
    assert [p["metadata"]["name"] for p in rank_pods_for_deletion([a, b], now, related)] == ["b", "a"]
    assert [p["metadata"]["name"] for p in pods_to_delete(pods, 2, now)] == ["unscheduled", "pending"]


# ---------------------------------------------------------------------------------- on a cluster

TEMPLATE = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
RS = {"metadata": {"name": "web"}, "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE}}


class Scenario:
    def __init__(self, cluster: Cluster, ctrl: ReplicaSetController, recorder: EventRecorder) -> None:
        self.cluster = cluster
        self.client = cluster.client
        self.clock: VirtualClock = cluster.clock  # type: ignore[assignment]
        self.ctrl = ctrl
        self.recorder = recorder

    async def until(self, check: Callable[[], Awaitable[bool]], what: str) -> None:
        """Let the cluster and the controller work (advancing virtual time a little at a
        time) until `check()` holds with nothing left to do."""
        for _ in range(400):
            await self.cluster.settle()
            if self.ctrl.idle and self.recorder.pending == 0 and await check():
                return
            await self.clock.advance(0.05)
        raise AssertionError(f"never happened: {what}")

    async def pods(self) -> list[Object]:
        return (await self.client.list("pods", namespace="default"))["items"]

    async def owned(self, uid: str) -> list[Object]:
        return [p for p in await self.pods() if any(r["uid"] == uid for r in p["metadata"].get("ownerReferences") or [])]

    async def ready(self, resource: str, name: str, replicas: int) -> Object:
        found: Object = {}

        async def check() -> bool:
            obj = await self.client.get(resource, name)
            found.update(obj)
            status = obj.get("status") or {}
            return (status.get("replicas") == replicas and status.get("readyReplicas", 0) == replicas
                    and status.get("observedGeneration") == obj["metadata"]["generation"]
                    and len([p for p in await self.owned(obj["metadata"]["uid"]) if p["status"].get("phase") == "Running"
                             and not p["metadata"].get("deletionTimestamp")]) == replicas
                    and len(await self.owned(obj["metadata"]["uid"])) == replicas)

        await self.until(check, f"{resource}/{name} with {replicas} ready pods")
        return found

    async def events(self, reason: str) -> list[str]:
        items = (await self.client.list("events", namespace="default"))["items"]
        return [e["message"] for e in items if e["reason"] == reason]


@asynccontextmanager
async def scenario(ctrl_cls: type[ReplicaSetController] = ReplicaSetController) -> AsyncIterator[Scenario]:
    clock = VirtualClock()
    # The cluster's own manager must not run a second copy of the controller under test.
    async with Cluster(nodes=2, clock=clock, exclude_controllers=("replicaset", "replicationcontroller", "deployment")) as cluster:
        with anyio.fail_after(20):
            await cluster.wait_ready()
        recorder = EventRecorder(cluster.client, "replicaset-controller", clock=clock)
        ctrl = ctrl_cls(cluster.client, clock, recorder)
        async with anyio.create_task_group() as tg:
            await tg.start(recorder.run)
            await tg.start(ctrl.run)
            with anyio.fail_after(20):
                yield Scenario(cluster, ctrl, recorder)
            tg.cancel_scope.cancel()


async def test_cluster_replicaset_runs_scales_and_replaces() -> None:
    async with scenario() as s:
        rs = await s.client.create("replicasets", RS)
        uid = rs["metadata"]["uid"]
        rs = await s.ready("replicasets", "web", 3)
        assert rs["status"]["availableReplicas"] == 3 and rs["status"]["fullyLabeledReplicas"] == 3
        first = {p["metadata"]["name"] for p in await s.owned(uid)}
        assert sorted(await s.events("SuccessfulCreate")) == sorted(f"Created pod: {n}" for n in first)
        ref = (await s.owned(uid))[0]["metadata"]["ownerReferences"]
        assert ref == [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": uid,
                        "controller": True, "blockOwnerDeletion": True}]

        # Up to 5 (through the scale subresource, as kubectl scale does), much later.
        await s.clock.advance(100)
        await s.client.patch("replicasets", "web", {"spec": {"replicas": 5}}, subresource="scale")
        await s.ready("replicasets", "web", 5)
        added = {p["metadata"]["name"] for p in await s.owned(uid)} - first
        assert len(added) == 2

        # Down to 3: the two newest go; then to 1.
        await s.client.patch("replicasets", "web", {"spec": {"replicas": 3}}, subresource="scale")
        await s.ready("replicasets", "web", 3)
        assert {p["metadata"]["name"] for p in await s.owned(uid)} == first
        assert sorted(await s.events("SuccessfulDelete")) == sorted(f"Deleted pod: {n}" for n in added)
        scale = await s.client.patch("replicasets", "web", {"spec": {"replicas": 1}}, subresource="scale")
        assert scale["spec"]["replicas"] == 1
        await s.ready("replicasets", "web", 1)

        # A deleted pod is replaced.
        (victim,) = await s.owned(uid)
        await s.client.delete("pods", victim["metadata"]["name"])
        await s.ready("replicasets", "web", 1)
        (replacement,) = await s.owned(uid)
        assert replacement["metadata"]["name"] != victim["metadata"]["name"]


async def test_cluster_orphans_are_adopted_and_relabelled_pods_released() -> None:
    async with scenario() as s:
        orphan = await s.client.create("pods", {"metadata": {"name": "orphan", "labels": {"app": "web"}}, "spec": TEMPLATE["spec"]})
        rs = await s.client.create("replicasets", RS)
        uid = rs["metadata"]["uid"]
        await s.ready("replicasets", "web", 3)
        names = {p["metadata"]["name"] for p in await s.owned(uid)}
        assert "orphan" in names
        assert len(await s.events("SuccessfulCreate")) == 2  # only two were missing
        adopted = await s.client.get("pods", "orphan")
        assert adopted["metadata"]["uid"] == orphan["metadata"]["uid"]
        assert adopted["metadata"]["ownerReferences"][0]["controller"] is True

        # Relabelling one pod takes it out of the set: released, and replaced.
        await s.client.patch("pods", "orphan", {"metadata": {"labels": {"app": "debug"}}})
        await s.ready("replicasets", "web", 3)
        released = await s.client.get("pods", "orphan")
        assert not released["metadata"].get("ownerReferences")
        assert released["status"]["phase"] == "Running"  # left alone, not deleted
        assert len(await s.pods()) == 4
        assert len(await s.events("SuccessfulCreate")) == 3


async def test_cluster_replication_controller() -> None:
    rc = {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "web"},
          "spec": {"replicas": 2, "selector": {"app": "web"}, "template": TEMPLATE}}
    async with scenario(ReplicationManager) as s:
        orphan = await s.client.create("pods", {"metadata": {"name": "orphan", "labels": {"app": "web"}}, "spec": TEMPLATE["spec"]})
        created = await s.client.create("replicationcontrollers", rc)
        uid = created["metadata"]["uid"]
        status = (await s.ready("replicationcontrollers", "web", 2))["status"]
        assert status["availableReplicas"] == 2 and "terminatingReplicas" not in status
        pods = await s.owned(uid)
        assert orphan["metadata"]["name"] in {p["metadata"]["name"] for p in pods}
        assert pods[0]["metadata"]["ownerReferences"][0]["kind"] == "ReplicationController"
        assert pods[0]["metadata"]["ownerReferences"][0]["apiVersion"] == "v1"

        await s.client.patch("replicationcontrollers", "web", {"spec": {"replicas": 4}}, subresource="scale")
        await s.ready("replicationcontrollers", "web", 4)
        await s.client.delete("pods", "orphan")
        await s.ready("replicationcontrollers", "web", 4)
        assert "orphan" not in {p["metadata"]["name"] for p in await s.owned(uid)}
        await s.client.patch("replicationcontrollers", "web", {"spec": {"replicas": 1}}, subresource="scale")
        await s.ready("replicationcontrollers", "web", 1)
        assert len(await s.events("SuccessfulDelete")) == 3
