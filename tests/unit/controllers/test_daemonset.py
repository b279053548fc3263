"""The DaemonSet controller.

Two layers, as sample-controller tests its controller:

- pure helpers (which nodes admit a daemon pod, the pods' tolerations and node affinity, the
  rolling-update limits) and reconcile(key) against informers pre-filled from a fake client
  that records every write and never answers a watch unless told to;
- the seeds' story on an in-process Cluster (scheduler, node agents, fake runtime) on a
  VirtualClock: the tainted control-plane node is skipped until a toleration admits it, a new
  node gets a pod, an image update rolls through one node at a time.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio

from kube_lite.api.errors import APIError
from kube_lite.client.client import WatchEvent
from kube_lite.clock import VirtualClock
from kube_lite.cluster import CONTROL_PLANE_TAINT, Cluster, NodeSpec
from kube_lite.controllers.daemonset import (
    DAEMON_POD_TOLERATIONS,
    REVISION_HASH_LABEL,
    TEMPLATE_GENERATION_ANNOTATION,
    TEMPLATE_GENERATION_LABEL,
    DaemonSetController,
    add_daemon_tolerations,
    daemon_pod_template,
    is_pod_updated,
    node_name_affinity,
    node_should_run,
    revision_hash,
    revision_name,
    revision_patch,
    rolling_limits,
    target_node,
)
from tests.unit.controllers.fakes import FakeRecorder

Object = dict[str, Any]


# ---------------------------------------------------------------------------------- fixtures


def daemonset(*, tolerations: list[Object] | None = None, image: str = "gcr.io/google_containers/echoserver:1.4",
              node_selector: dict[str, str] | None = None, strategy: Object | None = None, status: Object | None = None,
              generation: int = 1) -> Object:
    pod_spec: Object = {"containers": [{"name": "echoserver", "image": image}]}
    if tolerations is not None:
        pod_spec["tolerations"] = tolerations
    if node_selector is not None:
        pod_spec["nodeSelector"] = node_selector
    obj: Object = {
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "echoserver", "namespace": "default", "uid": "ds-uid", "generation": generation,
                     "resourceVersion": "10"},
        "spec": {
            "selector": {"matchLabels": {"name": "echoserver"}},
            "template": {"metadata": {"labels": {"name": "echoserver"}}, "spec": pod_spec},
            "updateStrategy": strategy or {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
            "revisionHistoryLimit": 10,
        },
    }
    if status is not None:
        obj["status"] = status
    return obj


def node(name: str, *, taints: list[Object] | None = None, labels: dict[str, str] | None = None) -> Object:
    obj: Object = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels or {}}, "spec": {}}
    if taints:
        obj["spec"]["taints"] = taints
    return obj


DS_REF = {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "echoserver", "uid": "ds-uid", "controller": True,
          "blockOwnerDeletion": True}


def daemon_pod(name: str, node_name: str, hash_: str, *, ready: bool = True, bound: bool = True) -> Object:
    spec: Object = {"containers": [{"name": "echoserver", "image": "x"}],
                    "affinity": node_name_affinity(None, node_name)}
    if bound:
        spec["nodeName"] = node_name
    status: Object = {"phase": "Running"}
    if ready:
        status["conditions"] = [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}]
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}", "resourceVersion": "5",
                     "labels": {"name": "echoserver", REVISION_HASH_LABEL: hash_}, "ownerReferences": [dict(DS_REF)],
                     "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": spec, "status": status,
    }


def current_revision(ds: Object, revision: int = 1) -> Object:
    hash_ = revision_hash(ds)
    return {
        "apiVersion": "apps/v1", "kind": "ControllerRevision",
        "metadata": {"name": revision_name("echoserver", hash_), "namespace": "default", "uid": f"rev-{hash_}",
                     "labels": {"name": "echoserver", REVISION_HASH_LABEL: hash_}, "ownerReferences": [dict(DS_REF)],
                     "resourceVersion": "3"},
        "data": revision_patch(ds), "revision": revision,
    }


class FakeClient:
    """Lists what the test put in `objects`; watches deliver nothing; every write is recorded
    in `actions` as (verb, resource, name, body) and answered as the API would."""

    def __init__(self, **objects: list[Object]) -> None:
        self.objects = {kind: [copy.deepcopy(o) for o in items] for kind, items in objects.items()}
        self.actions: list[tuple[str, str, str, Any]] = []
        self._created = 0

    def writes(self, verb: str | None = None, resource: str | None = None) -> list[tuple[str, str, str, Any]]:
        return [a for a in self.actions if a[0] != "get" and (verb is None or a[0] == verb)
                and (resource is None or a[1] == resource)]

    async def list(self, kind: str, **_: Any) -> Object:
        return {"items": copy.deepcopy(self.objects.get(kind, [])), "metadata": {"resourceVersion": "10"}}

    @asynccontextmanager
    async def watch(self, kind: str, **_: Any) -> AsyncIterator[AsyncIterator[WatchEvent]]:
        send, recv = anyio.create_memory_object_stream[WatchEvent](100)

        async def events() -> AsyncIterator[WatchEvent]:
            async for event in recv:
                yield event

        try:
            yield events()
        finally:
            send.close()

    async def get(self, kind: str, name: str, *, namespace: str | None = None, **_: Any) -> Object:
        self.actions.append(("get", kind, name, None))
        for obj in self.objects.get(kind, []):
            if obj["metadata"]["name"] == name:
                return copy.deepcopy(obj)
        raise APIError(404, "NotFound", f'{kind} "{name}" not found')

    async def create(self, kind: str, obj: Object, *, namespace: str | None = None, **_: Any) -> Object:
        created = copy.deepcopy(obj)
        self._created += 1
        if not created["metadata"].get("name"):
            created["metadata"]["name"] = f"{obj['metadata'].get('generateName', '')}{self._created:05d}"
        self.actions.append(("create", kind, created["metadata"]["name"], obj))
        return created

    async def update(self, kind: str, obj: Object, *, namespace: str | None = None, **_: Any) -> Object:
        self.actions.append(("update", kind, obj["metadata"]["name"], obj))
        return obj

    async def patch(self, kind: str, name: str, patch: Object, *, namespace: str | None = None, **_: Any) -> Object:
        self.actions.append(("patch", kind, name, patch))
        return {"metadata": {"name": name}}

    async def delete(self, kind: str, name: str, *, namespace: str | None = None, **_: Any) -> Object:
        self.actions.append(("delete", kind, name, None))
        return {}

    async def update_status(self, kind: str, obj: Object, *, namespace: str | None = None) -> Object:
        self.actions.append(("update-status", kind, obj["metadata"]["name"], obj))
        return obj


@asynccontextmanager
async def started(ctrl: DaemonSetController) -> AsyncIterator[None]:
    async with anyio.create_task_group() as tg:
        for informer in ctrl.informers:
            tg.start_soon(informer.run)
        for informer in ctrl.informers:
            await informer.wait_synced()
        await anyio.wait_all_tasks_blocked()
        yield
        tg.cancel_scope.cancel()


WORKERS = [node("node1"), node("node2"), node("node3")]
CONTROL = node("control-plane", taints=[dict(CONTROL_PLANE_TAINT)], labels={"node-role.kubernetes.io/control-plane": ""})


def make(ds: Object, *, nodes: list[Object], pods: list[Object] = (), revisions: list[Object] | None = None,  # type: ignore[assignment]
         ) -> tuple[DaemonSetController, FakeClient, FakeRecorder]:
    client = FakeClient(daemonsets=[ds], nodes=nodes, pods=list(pods),
                        controllerrevisions=revisions if revisions is not None else [current_revision(ds)])
    recorder = FakeRecorder()
    ctrl = DaemonSetController(client, VirtualClock(), recorder)  # type: ignore[arg-type]
    return ctrl, client, recorder


# ---------------------------------------------------------------------------------- pure helpers


def test_pods_carry_the_template_generation_of_the_daemonsets_annotation() -> None:
    # Kubernetes' API server keeps a DaemonSet's template generation in the annotation
    # deprecated.daemonset.template.generation; the controller copies it to the label
    # pod-template-generation of the pods it creates, next to controller-revision-hash.
    ds = daemonset()
    assert TEMPLATE_GENERATION_LABEL not in daemon_pod_template(ds, "abc")["metadata"]["labels"]
    ds["metadata"]["annotations"] = {TEMPLATE_GENERATION_ANNOTATION: "3"}
    labels = daemon_pod_template(ds, "abc")["metadata"]["labels"]
    assert labels == {"name": "echoserver", TEMPLATE_GENERATION_LABEL: "3", REVISION_HASH_LABEL: "abc"}
    # A pod of that generation counts as updated even when the hash differs.
    pod = {"metadata": {"labels": {TEMPLATE_GENERATION_LABEL: "3", REVISION_HASH_LABEL: "old"}}}
    assert is_pod_updated(pod, "abc", "3") and not is_pod_updated(pod, "abc", "4")


def test_a_tainted_node_is_skipped_until_a_toleration_admits_it() -> None:
    assert node_should_run(CONTROL, daemonset()) == (False, True)  # NoSchedule: an existing pod may stay
    assert node_should_run(CONTROL, daemonset(tolerations=[{"key": "node-role.kubernetes.io/control-plane",
                                                            "operator": "Exists"}])) == (True, True)
    assert node_should_run(CONTROL, daemonset(tolerations=[{"operator": "Exists"}])) == (True, True)
    no_execute = node("n", taints=[{"key": "k", "effect": "NoExecute"}])
    assert node_should_run(no_execute, daemonset()) == (False, False)
    # The default daemon tolerations: unschedulable and not-ready nodes still run daemon pods.
    cordoned = node("n", taints=[{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
                                 {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}])
    assert node_should_run(cordoned, daemonset()) == (True, True)


def test_node_selector_and_affinity_restrict_the_nodes() -> None:
    ds = daemonset(node_selector={"disk": "ssd"})
    assert node_should_run(node("a", labels={"disk": "ssd"}), ds) == (True, True)
    assert node_should_run(node("b"), ds) == (False, False)
    ds = daemonset()
    ds["spec"]["template"]["spec"]["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}}}
    assert node_should_run(node("a", labels={"zone": "a"}), ds)[0]
    assert not node_should_run(node("b", labels={"zone": "b"}), ds)[0]


def test_daemon_pods_get_the_default_tolerations_and_a_node_name_affinity() -> None:
    spec = add_daemon_tolerations({"containers": [], "tolerations": [{"operator": "Exists"}]})
    assert spec["tolerations"] == [{"operator": "Exists"}, *DAEMON_POD_TOLERATIONS]
    host = add_daemon_tolerations({"containers": [], "hostNetwork": True})
    assert host["tolerations"][-1] == {"key": "node.kubernetes.io/network-unavailable", "operator": "Exists", "effect": "NoSchedule"}
    affinity = node_name_affinity({"podAffinity": {}}, "node2")
    assert affinity == {"podAffinity": {}, "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node2"]}]}]}}}
    assert target_node({"spec": {"affinity": affinity}}) == "node2"


def test_rolling_limits() -> None:
    assert rolling_limits(daemonset(), 4) == (0, 1)
    ds = daemonset(strategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "30%", "maxSurge": 0}})
    assert rolling_limits(ds, 4) == (0, 2)  # rounded up
    ds = daemonset(strategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "10%"}})
    assert rolling_limits(ds, 4) == (1, 0)
    assert rolling_limits(daemonset(strategy={"type": "OnDelete"}), 4) == (0, 0)


# ---------------------------------------------------------------------------------- reconcile


async def test_creates_one_pod_per_eligible_node_pinned_by_affinity() -> None:
    ds = daemonset()
    ctrl, client, recorder = make(ds, nodes=[CONTROL, *WORKERS])
    async with started(ctrl):
        assert await ctrl.reconcile("default/echoserver") is None
    creates = client.writes("create", "pods")
    assert len(creates) == 3
    targets = sorted(target_node(c[3]) for c in creates)
    assert targets == ["node1", "node2", "node3"]
    body = creates[0][3]
    hash_ = revision_hash(ds)
    assert body["metadata"]["generateName"] == "echoserver-"
    assert body["metadata"]["labels"] == {"name": "echoserver", REVISION_HASH_LABEL: hash_}
    assert body["metadata"]["ownerReferences"] == [DS_REF]
    assert "nodeName" not in body["spec"]  # the scheduler binds it
    assert body["spec"]["tolerations"] == list(DAEMON_POD_TOLERATIONS)
    assert [e[1] for e in recorder.events] == ["SuccessfulCreate"] * 3
    (status,) = client.writes("update-status")
    assert status[3]["status"] == {"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 3,
                                   "numberReady": 0, "numberUnavailable": 3, "observedGeneration": 1}


async def test_first_sync_snapshots_the_template_as_a_controller_revision() -> None:
    ds = daemonset()
    ctrl, client, _ = make(ds, nodes=WORKERS, revisions=[])
    async with started(ctrl):
        await ctrl.reconcile("default/echoserver")
    (create,) = client.writes("create", "controllerrevisions")
    body = create[3]
    hash_ = revision_hash(ds)
    assert body["metadata"]["name"] == f"echoserver-{hash_}"
    assert body["metadata"]["labels"] == {"name": "echoserver", REVISION_HASH_LABEL: hash_}
    assert body["revision"] == 1
    assert body["data"]["spec"]["template"]["$patch"] == "replace"


async def test_status_counts_and_misscheduled_pods_are_deleted() -> None:
    ds = daemonset(node_selector={"kubernetes.io/os": "linux"})
    hash_ = revision_hash(ds)
    pods = [daemon_pod(f"p{i}", f"node{i}", hash_) for i in (1, 2, 3)] + [daemon_pod("pc", "control-plane", hash_)]
    control = node("control-plane", taints=[dict(CONTROL_PLANE_TAINT)], labels={"kubernetes.io/os": "linux"})
    nodes = [node(f"node{i}", labels={"kubernetes.io/os": "linux"}) for i in (1, 2)] + [node("node3"), control]
    ctrl, client, recorder = make(ds, nodes=nodes, pods=pods, revisions=[current_revision(ds)])
    async with started(ctrl):
        await ctrl.reconcile("default/echoserver")
    # node3 no longer matches the selector: its pod goes; control-plane's pod may stay (only NoSchedule).
    assert [d[2] for d in client.writes("delete")] == ["p3"]
    assert ("Normal", "SuccessfulDelete", "Deleted pod: p3") in recorder.events
    status = client.writes("update-status")[-1][3]["status"]
    assert status["desiredNumberScheduled"] == 2
    assert status["numberMisscheduled"] == 2
    assert status["currentNumberScheduled"] == 2 and status["numberReady"] == 2
    assert status["updatedNumberScheduled"] == 2 and status["numberAvailable"] == 2
    assert "numberUnavailable" not in status


async def test_rolling_update_deletes_one_old_pod_at_a_time() -> None:
    old_ds = daemonset(image="v1")
    ds = daemonset(image="v2", generation=2)
    old_hash = revision_hash(old_ds)
    pods = [daemon_pod(f"p{i}", f"node{i}", old_hash) for i in (1, 2, 3)]
    ctrl, client, _ = make(ds, nodes=WORKERS, pods=pods, revisions=[current_revision(old_ds, 1)])
    async with started(ctrl):
        await ctrl.reconcile("default/echoserver")
    (rev,) = client.writes("create", "controllerrevisions")
    assert rev[3]["revision"] == 2
    assert len(client.writes("delete", "pods")) == 1
    assert not client.writes("create", "pods")


async def test_rolling_update_with_surge_starts_the_new_pod_beside_the_old() -> None:
    old_ds = daemonset(image="v1")
    ds = daemonset(image="v2", strategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}})
    pods = [daemon_pod(f"p{i}", f"node{i}", revision_hash(old_ds)) for i in (1, 2, 3)]
    ctrl, client, _ = make(ds, nodes=WORKERS, pods=pods, revisions=[current_revision(old_ds, 1)])
    async with started(ctrl):
        await ctrl.reconcile("default/echoserver")
    assert not client.writes("delete", "pods")
    (create,) = client.writes("create", "pods")
    assert create[3]["metadata"]["labels"][REVISION_HASH_LABEL] == revision_hash(ds)


async def test_on_delete_leaves_old_pods_alone() -> None:
    old_ds = daemonset(image="v1")
    ds = daemonset(image="v2", strategy={"type": "OnDelete"})
    pods = [daemon_pod(f"p{i}", f"node{i}", revision_hash(old_ds)) for i in (1, 2, 3)]
    ctrl, client, _ = make(ds, nodes=WORKERS, pods=pods, revisions=[current_revision(old_ds, 1)])
    async with started(ctrl):
        await ctrl.reconcile("default/echoserver")
    assert not client.writes("delete", "pods")
    assert "updatedNumberScheduled" not in client.writes("update-status")[-1][3]["status"]


async def test_old_revisions_beyond_the_limit_are_deleted_unless_a_pod_uses_them() -> None:
    revisions = [current_revision(daemonset(image=f"v{i}"), i) for i in range(1, 5)]
    ds = daemonset(image="v9")
    ds["spec"]["revisionHistoryLimit"] = 1
    pods = [daemon_pod("p1", "node1", revision_hash(daemonset(image="v1")))]
    ctrl, client, _ = make(ds, nodes=[WORKERS[0]], pods=pods, revisions=revisions)
    async with started(ctrl):
        await ctrl.reconcile("default/echoserver")
    deleted = [d[2] for d in client.writes("delete", "controllerrevisions")]
    # Three of the four old ones are too many; v1 is still in use by a pod, so v2, v3, v4 go.
    assert deleted == [r["metadata"]["name"] for r in revisions[1:]]


# ---------------------------------------------------------------------------------- a cluster


@asynccontextmanager
async def running_cluster() -> AsyncIterator[tuple[Cluster, anyio.abc.TaskGroup]]:
    clock = VirtualClock()
    async with Cluster(nodes=3, runtime="fake", backend="memory:", clock=clock) as cluster:
        with anyio.fail_after(30):
            await cluster.wait_ready()
            await cluster.controller_manager.leading.wait()
        running = {type(c) for c in cluster.controller_manager.controllers}
        async with anyio.create_task_group() as tg:
            if DaemonSetController not in running:
                await tg.start(DaemonSetController(cluster.client, clock, cluster.controller_manager.recorder).run)
            yield cluster, tg
            tg.cancel_scope.cancel()


async def wait_for(cluster: Cluster, predicate: Callable[[Object, list[Object]], bool], what: str,
                   on_poll: Callable[[Object, list[Object]], None] | None = None) -> Object:
    ds: Object = {}
    for _ in range(3000):
        ds = await cluster.client.get("daemonsets", "echoserver")
        pods = (await cluster.client.list("pods", label_selector="name=echoserver"))["items"]
        if on_poll is not None:
            on_poll(ds, pods)
        if predicate(ds, pods):
            return ds
        await cluster._pause()  # noqa: SLF001
    raise AssertionError(f"timed out waiting for {what}: {ds.get('status')}")


def rolled_out(count: int) -> Callable[[Object, list[Object]], bool]:
    """kubectl rollout status's test, and exactly one live pod on each of `count` nodes."""
    def check(ds: Object, pods: list[Object]) -> bool:
        s = ds.get("status") or {}
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        return (s.get("observedGeneration", 0) >= ds["metadata"]["generation"] and s.get("desiredNumberScheduled") == count
                and s.get("updatedNumberScheduled") == count and s.get("numberAvailable") == count
                and s.get("numberReady") == count and len(live) == count
                and len({p["spec"].get("nodeName") for p in live}) == count)
    return check


def nodes_of(pods: list[Object]) -> set[str]:
    return {p["spec"].get("nodeName") for p in pods if not p["metadata"].get("deletionTimestamp")}


async def test_the_seeds_story_on_a_cluster() -> None:
    async with running_cluster() as (cluster, tg):
        client = cluster.client
        manifest = daemonset()
        for field in ("uid", "generation", "resourceVersion"):
            del manifest["metadata"][field]
        del manifest["spec"]["updateStrategy"], manifest["spec"]["revisionHistoryLimit"]
        await client.create("daemonsets", manifest)

        # The control-plane node is tainted: three pods on three workers.
        ds = await wait_for(cluster, rolled_out(3), "3 pods")
        pods = (await client.list("pods", label_selector="name=echoserver"))["items"]
        assert nodes_of(pods) == {"node1", "node2", "node3"}
        assert all(p["metadata"]["labels"][REVISION_HASH_LABEL] for p in pods)

        # A toleration with operator Exists: the control-plane node gets one too.
        await client.patch("daemonsets", "echoserver", {"spec": {"template": {"spec": {"tolerations": [
            {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}]}}}}, patch_type="strategic")
        await wait_for(cluster, rolled_out(4), "4 pods")
        pods = (await client.list("pods", label_selector="name=echoserver"))["items"]
        assert nodes_of(pods) == {"control-plane", "node1", "node2", "node3"}

        # A new node gets a pod.
        agent = cluster._make_agent(NodeSpec("node4", "127.0.1.5"))  # noqa: SLF001
        node4_scope = anyio.CancelScope()

        async def run_node4(*, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
            with node4_scope:
                await agent.run(task_status=task_status)

        await tg.start(run_node4)
        await wait_for(cluster, rolled_out(5), "5 pods")

        # An image update rolls through one node at a time (maxUnavailable 1).
        worst = [0]

        def watch_availability(ds: Object, pods: list[Object]) -> None:
            ready_nodes = {p["spec"].get("nodeName") for p in pods if not p["metadata"].get("deletionTimestamp")
                           and any(c.get("type") == "Ready" and c.get("status") == "True"
                                   for c in (p.get("status") or {}).get("conditions") or [])}
            worst[0] = max(worst[0], 5 - len(ready_nodes))

        await client.patch("daemonsets", "echoserver", {"spec": {"template": {"spec": {"containers": [
            {"name": "echoserver", "image": "gcr.io/google_containers/echoserver:1.10"}]}}}}, patch_type="strategic")
        ds = await wait_for(cluster, rolled_out(5), "image rollout", on_poll=watch_availability)
        assert worst[0] <= 1, worst
        pods = [p for p in (await client.list("pods", label_selector="name=echoserver"))["items"]
                if not p["metadata"].get("deletionTimestamp")]
        assert {p["spec"]["containers"][0]["image"] for p in pods} == {"gcr.io/google_containers/echoserver:1.10"}
        revisions = (await client.list("controllerrevisions", label_selector="name=echoserver"))["items"]
        assert sorted(r["revision"] for r in revisions) == [1, 2, 3]
        newest = max(revisions, key=lambda r: r["revision"])
        assert {p["metadata"]["labels"][REVISION_HASH_LABEL] for p in pods} == {newest["metadata"]["labels"][REVISION_HASH_LABEL]}
        assert newest["metadata"]["name"] == f"echoserver-{newest['metadata']['labels'][REVISION_HASH_LABEL]}"
        reasons = {e.get("reason") for e in (await client.list("events"))["items"]}
        assert {"SuccessfulCreate", "SuccessfulDelete"} <= reasons
        assert ds["status"]["observedGeneration"] == ds["metadata"]["generation"]

        # A removed node loses its pod.
        node4_scope.cancel()
        await client.delete("nodes", "node4")
        await wait_for(cluster, rolled_out(4), "4 pods again")
        pods = (await client.list("pods", label_selector="name=echoserver"))["items"]
        assert nodes_of(pods) == {"control-plane", "node1", "node2", "node3"}
