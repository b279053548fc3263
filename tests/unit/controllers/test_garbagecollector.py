"""The garbage collector: the graph and the decisions on plain dicts, then scenarios against an
in-process cluster on a virtual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest

from kube_lite.api.errors import APIError
from kube_lite.api.registry import KindRegistry
from kube_lite.clock import VirtualClock
from kube_lite.cluster import Cluster
from kube_lite.controllers.garbagecollector import (
    BACKGROUND,
    DELETE,
    FOREGROUND,
    KEEP,
    ORPHAN,
    REMOVE_REFERENCES,
    DependencyGraph,
    GarbageCollector,
    OwnerRef,
    collectable_kinds,
    decide_dependent,
)

# ---------------------------------------------------------------------------------- helpers


def cm(name: str, uid: str, *owners: dict[str, Any], namespace: str = "default", **meta: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "uid": uid, **meta}
    if owners:
        metadata["ownerReferences"] = list(owners)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata}


def owner(name: str, uid: str, *, kind: str = "ConfigMap", api_version: str = "v1", block: bool | None = None) -> dict[str, Any]:
    ref: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "name": name, "uid": uid}
    if block is not None:
        ref["blockOwnerDeletion"] = block
    return ref


def ref(name: str, uid: str) -> OwnerRef:
    return OwnerRef("v1", "ConfigMap", name, uid)


# ---------------------------------------------------------------------------------- graph


def test_new_dependent_of_an_unknown_owner_asks_to_verify_the_owner() -> None:
    graph = DependencyGraph()
    work = graph.upsert(cm("child", "c1", owner("parent", "p1")))
    assert work.delete == {"p1"} and not work.orphan
    assert graph.virtual["p1"].name == "parent" and graph.virtual["p1"].namespace == "default"
    assert [d.ref.uid for d in graph.dependents("p1")] == ["c1"]
    # a second dependent of the same unverified owner asks nothing more
    assert not graph.upsert(cm("child2", "c2", owner("parent", "p1")))
    # the owner shows up: no longer virtual, nothing to do
    assert not graph.upsert(cm("parent", "p1"))
    assert "p1" not in graph.virtual


def test_dependent_of_a_known_owner_needs_nothing() -> None:
    graph = DependencyGraph()
    graph.upsert(cm("parent", "p1"))
    assert not graph.upsert(cm("child", "c1", owner("parent", "p1")))


def test_owner_deleted_asks_to_look_at_its_dependents() -> None:
    graph = DependencyGraph()
    graph.upsert(cm("parent", "p1"))
    graph.upsert(cm("a", "c1", owner("parent", "p1")))
    graph.upsert(cm("b", "c2", owner("parent", "p1")))
    graph.upsert(cm("other", "o1"))
    work = graph.remove(cm("parent", "p1"))
    assert work.delete == {"c1", "c2"}
    # a later dependent of the deleted owner is garbage at once
    assert graph.upsert(cm("late", "c3", owner("parent", "p1"))).delete == {"c3"}


def test_reference_to_a_live_uid_under_another_name_is_looked_at() -> None:
    graph = DependencyGraph()
    graph.upsert(cm("parent", "p1"))
    assert graph.upsert(cm("child", "c1", owner("someone-else", "p1"))).delete == {"c1"}
    # and the other way round: the dependent first, then an owner with that uid but another name
    graph = DependencyGraph()
    graph.upsert(cm("child", "c1", owner("someone-else", "p1")))
    assert graph.upsert(cm("parent", "p1")).delete == {"c1"}


def test_namespaced_owner_in_another_namespace_is_looked_at() -> None:
    graph = DependencyGraph()
    graph.upsert(cm("parent", "p1", namespace="a"))
    assert graph.upsert(cm("child", "c1", owner("parent", "p1"), namespace="b")).delete == {"c1"}


def test_owner_absent_asks_for_its_dependents_and_is_remembered() -> None:
    graph = DependencyGraph()
    graph.upsert(cm("child", "c1", owner("parent", "p1")))
    work = graph.owner_absent(graph.virtual["p1"], namespaced=True)
    assert work.delete == {"c1"} and "p1" not in graph.virtual
    assert graph.absent.has(ref("parent", "p1"), "default")
    assert not graph.absent.has(ref("parent", "p1"), "elsewhere")
    assert not graph.absent.has(ref("other-name", "p1"), "default")


def test_foreground_deletion_asks_for_owner_and_dependents_and_blocking_ones_are_known() -> None:
    graph = DependencyGraph()
    graph.upsert(cm("parent", "p1"))
    graph.upsert(cm("blocks", "c1", owner("parent", "p1", block=True)))
    graph.upsert(cm("free", "c2", owner("parent", "p1")))
    work = graph.upsert(cm("parent", "p1", deletionTimestamp="2026-01-01T00:00:00Z", finalizers=["foregroundDeletion"]))
    assert work.delete == {"p1", "c1", "c2"}
    assert [d.ref.uid for d in graph.blocking_dependents("p1")] == ["c1"]
    # the blocking dependent goes: the owner is looked at again
    assert graph.remove(cm("blocks", "c1")).delete == {"p1"}
    assert graph.blocking_dependents("p1") == []
    # a dependent dropping its reference also tells the waiting owner
    assert graph.upsert(cm("free", "c2")).delete == {"p1"}
    assert graph.dependents("p1") == []


def test_orphan_finalizer_asks_to_orphan() -> None:
    graph = DependencyGraph()
    graph.upsert(cm("parent", "p1"))
    work = graph.upsert(cm("parent", "p1", deletionTimestamp="2026-01-01T00:00:00Z", finalizers=["orphan"]))
    assert work.orphan == {"p1"} and not work.delete
    # an orphan finalizer without a deletionTimestamp means nothing yet
    assert not graph.upsert(cm("other", "o1", finalizers=["orphan"]))


def test_owner_references_changes_move_edges() -> None:
    graph = DependencyGraph()
    graph.upsert(cm("a", "pa"))
    graph.upsert(cm("b", "pb"))
    graph.upsert(cm("child", "c1", owner("a", "pa")))
    graph.upsert(cm("child", "c1", owner("b", "pb")))
    assert graph.dependents("pa") == [] and [d.ref.uid for d in graph.dependents("pb")] == ["c1"]
    graph.remove(cm("child", "c1"))
    assert graph.dependents("pb") == []


def test_updates_that_leave_references_finalizers_and_deletion_alone_change_nothing() -> None:
    gc = GarbageCollector(None, VirtualClock(), resources=[])  # type: ignore[arg-type]
    gc._observe(cm("a", "pa"))  # noqa: SLF001 - the informer handlers, called as an informer would
    gc._observe(cm("b", "pb"))  # noqa: SLF001
    child = cm("child", "c1", owner("a", "pa"))
    gc._observe(child)  # noqa: SLF001
    node = gc.graph.nodes["c1"]
    # A data (or status) change: the graph keeps its node, no work is queued.
    gc._observe_update(child, {**child, "data": {"k": "v"}})  # noqa: SLF001
    assert gc.graph.nodes["c1"] is node and gc.queue.is_idle()
    # A reference that moves is seen, as before.
    moved = cm("child", "c1", owner("b", "pb"))
    gc._observe_update(child, moved)  # noqa: SLF001
    assert gc.graph.dependents("pa") == [] and [d.ref.uid for d in gc.graph.dependents("pb")] == ["c1"]
    assert gc.queue.is_idle()
    # So is a deletion with an orphan finalizer, which asks to orphan.
    orphaning = cm("child", "c1", owner("b", "pb"), deletionTimestamp="2024-01-01T00:00:00Z", finalizers=["orphan"])
    gc._observe_update(moved, orphaning)  # noqa: SLF001
    assert gc.graph.nodes["c1"].being_deleted and not gc.queue.is_idle()


def test_owner_reference_parsing_skips_malformed_entries() -> None:
    obj = cm("x", "u", {"kind": "ConfigMap", "name": "no-uid"}, "not a dict",  # type: ignore[arg-type]
             owner("p", "p1", block=True))
    assert OwnerRef.all_of(obj) == (OwnerRef("v1", "ConfigMap", "p", "p1", False, True),)
    assert OwnerRef.all_of({"metadata": {"ownerReferences": "junk"}}) == ()


def test_collectable_kinds_leave_out_events_and_request_kinds() -> None:
    plurals = {(k.group, k.plural) for k in collectable_kinds(KindRegistry.with_builtins())}
    for wanted in [("", "pods"), ("apps", "replicasets"), ("apps", "deployments"), ("apps", "daemonsets"),
                   ("apps", "statefulsets"), ("batch", "jobs"), ("batch", "cronjobs"), ("apps", "controllerrevisions"),
                   ("", "replicationcontrollers"), ("", "endpoints"), ("discovery.k8s.io", "endpointslices"),
                   ("", "configmaps"), ("", "secrets"), ("", "services"), ("", "serviceaccounts"),
                   ("", "persistentvolumeclaims"), ("coordination.k8s.io", "leases")]:
        assert wanted in plurals
    assert ("", "events") not in plurals and ("events.k8s.io", "events") not in plurals
    assert ("", "bindings") not in plurals and ("policy", "evictions") not in plurals


# ---------------------------------------------------------------------------------- decisions


def test_decisions() -> None:
    a, b = ref("a", "ua"), ref("b", "ub")
    assert decide_dependent([], [a], [], []).action == KEEP
    d = decide_dependent([], [a], [b], [])
    assert (d.action, d.remove_owner_uids) == (REMOVE_REFERENCES, ("ub",))
    d = decide_dependent([], [a], [], [b])
    assert (d.action, d.remove_owner_uids) == (REMOVE_REFERENCES, ("ub",))
    assert decide_dependent([], [], [a], []) == decide_dependent([], [], [a], [b])
    assert decide_dependent([], [], [a], []).policy == BACKGROUND
    assert decide_dependent(["orphan"], [], [a], []).policy == ORPHAN
    assert decide_dependent(["foregroundDeletion"], [], [a], []).policy == FOREGROUND
    d = decide_dependent([], [], [], [a], has_dependents=True)
    assert (d.action, d.policy, d.unblock) == (DELETE, FOREGROUND, False)
    assert decide_dependent([], [], [], [a], has_dependents=True, a_dependent_deletes_dependents=True).unblock
    # waiting owner, no dependents of its own: a plain background delete
    assert decide_dependent([], [], [], [a]).policy == BACKGROUND


# ---------------------------------------------------------------------------------- scenarios


@asynccontextmanager
async def collected_cluster(nodes: int = 0) -> AsyncIterator[tuple[Cluster, VirtualClock]]:
    """An in-process cluster with a garbage collector (the manager's, once it runs one)."""
    clock = VirtualClock()
    async with Cluster(nodes=nodes, clock=clock, control_plane_node=False) as cluster:
        cluster.api.registry.garbage_collector_running = True
        if nodes:
            with anyio.fail_after(10):
                await cluster.wait_ready()
        async with anyio.create_task_group() as tg:
            with anyio.fail_after(10):
                await cluster.controller_manager.leading.wait()
            if not any(isinstance(c, GarbageCollector) for c in cluster.controller_manager.controllers):
                await tg.start(GarbageCollector(cluster.client, clock).run)
            yield cluster, clock
            tg.cancel_scope.cancel()


async def eventually(clock: VirtualClock, check: Callable[[], Awaitable[bool]], *, seconds: float = 60.0,
                     step: float = 0.05) -> None:
    elapsed = 0.0
    while not await check():
        if elapsed > seconds:
            raise AssertionError(f"not true after {seconds} s of cluster time")
        for _ in range(20):
            await anyio.lowlevel.checkpoint()
        await clock.advance(step)
        elapsed += step


async def exists(cluster: Cluster, kind: Any, name: str, namespace: str = "default") -> bool:
    try:
        await cluster.client.get(kind, name, namespace=namespace)
    except APIError as exc:
        if exc.code == 404:
            return False
        raise
    return True


async def family(cluster: Cluster, *, block: bool | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    client = cluster.client
    parent = await client.create("configmaps", {"metadata": {"name": "parent"}})
    ref_ = owner("parent", parent["metadata"]["uid"], block=block)
    children = [await client.create("configmaps", {"metadata": {"name": f"child-{i}", "ownerReferences": [ref_]}})
                for i in range(3)]
    return parent, children


async def names(cluster: Cluster, kind: str = "configmaps") -> set[str]:
    return {o["metadata"]["name"] for o in (await cluster.client.list(kind, namespace="default"))["items"]}


async def test_background_delete_removes_dependents() -> None:
    async with collected_cluster() as (cluster, clock):
        await family(cluster)
        await cluster.client.create("configmaps", {"metadata": {"name": "bystander"}})
        await cluster.client.delete("configmaps", "parent")  # Background is the default
        assert not await exists(cluster, "configmaps", "parent")

        async def only_bystander() -> bool:
            return (await names(cluster)) & {"child-0", "child-1", "child-2", "bystander"} == {"bystander"}

        await eventually(clock, only_bystander)


async def test_orphan_delete_keeps_dependents_without_the_reference() -> None:
    async with collected_cluster() as (cluster, clock):
        await family(cluster)
        gone = await cluster.client.delete("configmaps", "parent", propagation_policy="Orphan")
        assert "orphan" in gone["metadata"]["finalizers"]

        async def parent_gone() -> bool:
            return not await exists(cluster, "configmaps", "parent")

        await eventually(clock, parent_gone)
        for i in range(3):
            child = await cluster.client.get("configmaps", f"child-{i}")
            assert "ownerReferences" not in child["metadata"]
        await cluster.settle()
        assert {"child-0", "child-1", "child-2"} <= await names(cluster)


async def test_foreground_delete_keeps_the_owner_until_blocking_dependents_are_gone() -> None:
    async with collected_cluster() as (cluster, clock):
        client = cluster.client
        parent, children = await family(cluster, block=True)
        # one dependent holds on with a finalizer of its own
        await client.patch("configmaps", "child-0", {"metadata": {"finalizers": ["example.com/hold"]}})
        await client.delete("configmaps", "parent", propagation_policy="Foreground")

        async def others_gone() -> bool:
            return not (await names(cluster)) & {"child-1", "child-2"}

        await eventually(clock, others_gone)
        await cluster.settle()
        held = await client.get("configmaps", "child-0")
        assert held["metadata"].get("deletionTimestamp")
        owner_now = await client.get("configmaps", "parent")
        assert owner_now["metadata"].get("deletionTimestamp")
        assert owner_now["metadata"]["finalizers"] == ["foregroundDeletion"]

        await client.patch("configmaps", "child-0", {"metadata": {"finalizers": None}})

        async def all_gone() -> bool:
            return not (await names(cluster)) & {"parent", "child-0"}

        await eventually(clock, all_gone)


async def test_dependent_with_another_live_owner_loses_only_the_reference() -> None:
    async with collected_cluster() as (cluster, clock):
        client = cluster.client
        a = await client.create("configmaps", {"metadata": {"name": "owner-a"}})
        b = await client.create("configmaps", {"metadata": {"name": "owner-b"}})
        refs = [owner("owner-a", a["metadata"]["uid"]), owner("owner-b", b["metadata"]["uid"])]
        await client.create("configmaps", {"metadata": {"name": "shared", "ownerReferences": refs}})
        await client.delete("configmaps", "owner-a")

        async def one_reference_left() -> bool:
            refs_now = (await client.get("configmaps", "shared"))["metadata"].get("ownerReferences") or []
            return [r["name"] for r in refs_now] == ["owner-b"]

        await eventually(clock, one_reference_left)


async def test_dangling_references_are_collected() -> None:
    async with collected_cluster() as (cluster, clock):
        client = cluster.client
        live = await client.create("configmaps", {"metadata": {"name": "live"}})
        await client.create("configmaps", {"metadata": {"name": "never-owned",
                                                        "ownerReferences": [owner("nobody", "0000-missing")]}})
        await client.create("configmaps", {"metadata": {"name": "wrong-uid",
                                                        "ownerReferences": [owner("live", "1111-not-live")]}})
        await client.create("configmaps", {"metadata": {"name": "right-uid",
                                                        "ownerReferences": [owner("live", live["metadata"]["uid"])]}})

        async def collected() -> bool:
            return not (await names(cluster)) & {"never-owned", "wrong-uid"}

        await eventually(clock, collected)
        await cluster.settle()
        assert {"live", "right-uid"} <= await names(cluster)


def _pod(name: str, rs: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"app": "web"}, "ownerReferences": [
            {**owner(rs["metadata"]["name"], rs["metadata"]["uid"], kind="ReplicaSet", api_version="apps/v1",
                     block=True), "controller": True}]},
        "spec": {"containers": [{"name": "c", "image": "busybox"}], "terminationGracePeriodSeconds": 5},
    }


async def test_deleting_a_deployment_removes_its_replicasets_and_pods() -> None:
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    spec = {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": template}
    async with collected_cluster(nodes=1) as (cluster, clock):
        client = cluster.client
        running_controllers = {c.name for c in cluster.controller_manager.controllers}
        deploy = await client.create("deployments", {"metadata": {"name": "web"}, "spec": spec})
        # What the Deployment and ReplicaSet controllers would make, where they do not run.
        if "deployment" not in running_controllers:
            rs = await client.create("replicasets", {
                "metadata": {"name": "web-1", "labels": {"app": "web"}, "ownerReferences": [{
                    **owner("web", deploy["metadata"]["uid"], kind="Deployment", api_version="apps/v1", block=True),
                    "controller": True}]},
                "spec": spec,
            })
            if "replicaset" not in running_controllers:
                for i in range(2):
                    await client.create("pods", _pod(f"web-1-{i}", rs))

        async def running() -> bool:
            pods = (await client.list("pods", namespace="default"))["items"]
            return len(pods) == 2 and all((p.get("status") or {}).get("phase") == "Running" for p in pods)

        await eventually(clock, running)
        assert (await client.list("replicasets", namespace="default"))["items"]
        await client.delete("deployments", "web")

        async def all_gone() -> bool:
            rs_left = (await client.list("replicasets", namespace="default"))["items"]
            pods_left = (await client.list("pods", namespace="default"))["items"]
            return not rs_left and not pods_left

        await eventually(clock, all_gone)


@pytest.mark.parametrize("policy", [None, "Foreground"])
async def test_deployment_chain_with_foreground_or_background(policy: str | None) -> None:
    # without nodes: pods go at once; Foreground must wait for the whole chain
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    spec = {"replicas": 0, "selector": {"matchLabels": {"app": "web"}}, "template": template}
    async with collected_cluster() as (cluster, clock):
        client = cluster.client
        deploy = await client.create("deployments", {"metadata": {"name": "web"}, "spec": spec})
        rs = await client.create("replicasets", {
            "metadata": {"name": "web-1", "labels": {"app": "web"}, "ownerReferences": [{
                **owner("web", deploy["metadata"]["uid"], kind="Deployment", api_version="apps/v1", block=True),
                "controller": True}]},
            "spec": spec,
        })
        pod = await client.create("pods", {**_pod("web-1-a", rs), "metadata": {
            **_pod("web-1-a", rs)["metadata"], "finalizers": ["example.com/hold"]}})
        await client.delete("deployments", "web", propagation_policy=policy)
        if policy == "Foreground":
            await eventually(clock, lambda: _terminating(cluster, "pods", "web-1-a"))
            await cluster.settle()
            assert await exists(cluster, "deployments", "web")
            assert await exists(cluster, "replicasets", "web-1")
        await client.patch("pods", pod["metadata"]["name"], {"metadata": {"finalizers": None}})

        async def all_gone() -> bool:
            return not any([await exists(cluster, "deployments", "web"), await exists(cluster, "replicasets", "web-1"),
                            await exists(cluster, "pods", "web-1-a")])

        await eventually(clock, all_gone)


async def _terminating(cluster: Cluster, kind: str, name: str) -> bool:
    try:
        obj = await cluster.client.get(kind, name)
    except APIError:
        return False
    return bool(obj["metadata"].get("deletionTimestamp"))


async def test_cluster_scoped_owner_of_namespaced_dependents() -> None:
    async with collected_cluster() as (cluster, clock):
        client = cluster.client
        role = await client.create("clusterroles", {"metadata": {"name": "owner-role"}, "rules": []})
        ref_ = owner("owner-role", role["metadata"]["uid"], kind="ClusterRole", api_version="rbac.authorization.k8s.io/v1")
        await client.create("configmaps", {"metadata": {"name": "owned", "ownerReferences": [ref_]}})
        await client.create("configmaps", {"metadata": {"name": "owned", "ownerReferences": [ref_]}}, namespace="kube-public")
        await cluster.settle()
        assert await exists(cluster, "configmaps", "owned")
        await client.delete("clusterroles", "owner-role")

        async def collected() -> bool:
            return not await exists(cluster, "configmaps", "owned") and not await exists(
                cluster, "configmaps", "owned", "kube-public")

        await eventually(clock, collected)


async def test_custom_resources_registered_later_are_collected() -> None:
    from kube_lite.api.registry import KindInfo
    from kube_lite.controllers.garbagecollector import RESCAN_PERIOD

    async with collected_cluster() as (cluster, clock):
        client = cluster.client
        widgets = KindInfo(group="example.com", version="v1", kind="Widget", plural="widgets", namespaced=True)
        cluster.api.kinds.register(widgets)
        await clock.advance(RESCAN_PERIOD + 1)
        await cluster.settle()
        parent = await client.create("configmaps", {"metadata": {"name": "parent"}})
        await client.create(widgets, {"metadata": {"name": "w", "ownerReferences": [
            owner("parent", parent["metadata"]["uid"])]}})
        widget = await client.get(widgets, "w")
        await client.create("configmaps", {"metadata": {"name": "grandchild", "ownerReferences": [
            owner("w", widget["metadata"]["uid"], kind="Widget", api_version="example.com/v1")]}})
        await client.delete("configmaps", "parent")

        async def collected() -> bool:
            return not await exists(cluster, widgets, "w") and not await exists(cluster, "configmaps", "grandchild")

        await eventually(clock, collected)
