"""The namespace controller: conditions and delays as pure functions, then namespaces deleted
in an in-process cluster on a virtual clock."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest

from kube_lite.api.errors import APIError
from kube_lite.api.registry import KindInfo, KindRegistry
from kube_lite.clock import VirtualClock
from kube_lite.cluster import Cluster
from kube_lite.controllers.namespace import (
    CONTENT_FAILURE,
    CONTENT_REMAINING,
    DISCOVERY_FAILURE,
    FINALIZERS_REMAINING,
    GV_PARSING_FAILURE,
    ContentTotals,
    KindContent,
    NamespaceController,
    deletable_kinds,
    failing_conditions,
    gvr_string,
    merge_conditions,
    requeue_delay,
    resource_label,
)

KINDS = KindRegistry.with_builtins()
PODS = KINDS.get("", "v1", "pods")
DEPLOYMENTS = KINDS.get("apps", "v1", "deployments")
assert PODS is not None and DEPLOYMENTS is not None


def by_type(conditions: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in conditions}


# ---------------------------------------------------------------------------------- pure parts


def test_labels_and_gvr_strings_are_kubernetes() -> None:
    assert resource_label(PODS) == "pods."
    assert resource_label(DEPLOYMENTS) == "deployments.apps"
    assert gvr_string(PODS) == "/v1, Resource=pods"
    assert gvr_string(DEPLOYMENTS) == "apps/v1, Resource=deployments"


def test_deletable_kinds_are_namespaced_and_deletable() -> None:
    kinds = {(k.group, k.plural) for k in deletable_kinds(KINDS)}
    assert {("", "pods"), ("", "configmaps"), ("apps", "deployments"), ("", "events"), ("batch", "jobs")} <= kinds
    assert ("", "namespaces") not in kinds and ("", "nodes") not in kinds
    assert ("", "bindings") not in kinds and ("policy", "evictions") not in kinds
    custom = KindInfo(group="example.com", version="v1", kind="Widget", plural="widgets", namespaced=True)
    registry = KindRegistry.with_builtins()
    registry.register(custom)
    assert custom in deletable_kinds(registry)


def test_clean_pass_gives_the_five_all_is_well_conditions() -> None:
    conditions, changed = merge_conditions([], failing_conditions(ContentTotals()), "2026-01-01T00:00:00Z")
    assert changed
    assert [c["type"] for c in conditions] == [
        DISCOVERY_FAILURE, GV_PARSING_FAILURE, CONTENT_FAILURE, CONTENT_REMAINING, FINALIZERS_REMAINING,
    ]
    assert all(c["status"] == "False" for c in conditions)
    found = by_type(conditions)
    assert found[CONTENT_REMAINING]["message"] == "All content successfully removed"
    assert found[CONTENT_REMAINING]["reason"] == "ContentRemoved"
    assert found[FINALIZERS_REMAINING]["message"] == "All content-preserving finalizers finished"
    assert found[CONTENT_FAILURE]["message"] == "All content successfully deleted, may be waiting on finalization"
    assert found[DISCOVERY_FAILURE]["reason"] == "ResourcesDiscovered"
    # the same pass again changes nothing
    assert merge_conditions(conditions, [], "2026-01-01T00:01:00Z") == (conditions, False)


def test_remaining_content_and_finalizers_messages() -> None:
    totals = ContentTotals()
    totals.add(PODS, KindContent(30, 2))
    totals.add(DEPLOYMENTS, KindContent(15, 1, Counter({"example.com/hold": 1})))
    totals.add(PODS, KindContent(0, 0, error="unexpected items still remain in namespace: x for gvr: /v1, Resource=pods"))
    failing = by_type(failing_conditions(totals))
    assert failing[CONTENT_REMAINING] == {
        "type": CONTENT_REMAINING, "status": "True", "reason": "SomeResourcesRemain",
        "message": "Some resources are remaining: deployments.apps has 1 resource instances, pods. has 2 resource instances",
    }
    assert failing[FINALIZERS_REMAINING]["message"] == (
        "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances"
    )
    assert failing[FINALIZERS_REMAINING]["reason"] == "SomeFinalizersRemain"
    assert failing[CONTENT_FAILURE]["message"] == (
        "Failed to delete all resource types, 1 remaining: unexpected items still remain in namespace: x for gvr: "
        "/v1, Resource=pods"
    )
    assert failing[CONTENT_FAILURE]["reason"] == "ContentDeletionFailed"
    assert totals.estimate == 30


def test_transition_time_moves_only_when_the_status_changes() -> None:
    totals = ContentTotals()
    totals.add(PODS, KindContent(30, 2))
    first, _ = merge_conditions([], failing_conditions(totals), "T1")
    totals = ContentTotals()
    totals.add(PODS, KindContent(30, 1))
    second, changed = merge_conditions(first, failing_conditions(totals), "T2")
    assert changed
    remaining = by_type(second)[CONTENT_REMAINING]
    assert remaining["message"] == "Some resources are remaining: pods. has 1 resource instances"
    assert remaining["lastTransitionTime"] == "T1"
    third, _ = merge_conditions(second, failing_conditions(ContentTotals()), "T3")
    assert by_type(third)[CONTENT_REMAINING] == {
        "type": CONTENT_REMAINING, "status": "False", "reason": "ContentRemoved",
        "message": "All content successfully removed", "lastTransitionTime": "T3",
    }
    assert by_type(third)[DISCOVERY_FAILURE]["lastTransitionTime"] == "T1"


def test_requeue_delays() -> None:
    assert requeue_delay(ContentTotals(estimate=30), 60.0) == 16.0  # as Kubernetes: estimate/2 + 1
    assert requeue_delay(ContentTotals(estimate=30), 5.0) == 5.0
    assert requeue_delay(ContentTotals(estimate=15), 60.0) == 8.0
    assert requeue_delay(ContentTotals(remaining={"pods.": 1}), 5.0) == 1.0


# ---------------------------------------------------------------------------------- scenarios


@asynccontextmanager
async def namespace_cluster(nodes: int = 1) -> AsyncIterator[tuple[Cluster, VirtualClock]]:
    """An in-process cluster with a namespace controller (the manager's, once it runs one)."""
    clock = VirtualClock()
    async with Cluster(nodes=nodes, clock=clock, control_plane_node=False) as cluster:
        if nodes:
            with anyio.fail_after(10):
                await cluster.wait_ready()
        async with anyio.create_task_group() as tg:
            with anyio.fail_after(10):
                await cluster.controller_manager.leading.wait()
            if not any(isinstance(c, NamespaceController) for c in cluster.controller_manager.controllers):
                await tg.start(NamespaceController(cluster.client, clock).run)
            yield cluster, clock
            tg.cancel_scope.cancel()


async def eventually(clock: VirtualClock, check: Callable[[], Awaitable[bool]], *, seconds: float = 120.0,
                     step: float = 0.1) -> None:
    elapsed = 0.0
    while not await check():
        if elapsed > seconds:
            raise AssertionError(f"not true after {seconds} s of cluster time")
        for _ in range(20):
            await anyio.lowlevel.checkpoint()
        await clock.advance(step)
        elapsed += step


async def get_or_none(cluster: Cluster, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
    try:
        return await cluster.client.get(kind, name, namespace=namespace)
    except APIError as exc:
        if exc.code == 404:
            return None
        raise


def pod(name: str, **meta: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, **meta}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}


async def fill(cluster: Cluster, ns: str, pods: list[dict[str, Any]]) -> None:
    client = cluster.client
    await client.create("namespaces", {"metadata": {"name": ns}})
    for i in range(3):
        await client.create("configmaps", {"metadata": {"name": f"cm-{i}"}, "data": {"k": "v"}}, namespace=ns)
    await client.create("secrets", {"metadata": {"name": "s"}, "stringData": {"k": "v"}}, namespace=ns)
    for p in pods:
        await client.create("pods", p, namespace=ns)


async def test_namespace_with_configmaps_and_pods_is_emptied_then_removed() -> None:
    async with namespace_cluster() as (cluster, clock):
        client = cluster.client
        await fill(cluster, "doomed", [pod("web-0"), pod("web-1")])
        await client.create("configmaps", {"metadata": {"name": "keep-me"}}, namespace="default")

        async def pods_running() -> bool:
            pods = (await client.list("pods", namespace="doomed"))["items"]
            return len(pods) == 2 and all((p.get("status") or {}).get("phase") == "Running" for p in pods)

        await eventually(clock, pods_running)
        deleted = await client.delete("namespaces", "doomed")
        assert deleted["status"]["phase"] == "Terminating"
        assert deleted["metadata"].get("deletionTimestamp")
        assert deleted["spec"]["finalizers"] == ["kubernetes"]

        async def gone() -> bool:
            return await get_or_none(cluster, "namespaces", "doomed") is None

        await eventually(clock, gone)
        for kind in ("configmaps", "secrets", "pods"):
            assert (await client.list(kind, namespace="doomed"))["items"] == []
        assert await get_or_none(cluster, "configmaps", "keep-me", "default") is not None
        assert (await client.get("namespaces", "default"))["status"]["phase"] == "Active"


async def test_conditions_report_what_holds_the_namespace() -> None:
    async with namespace_cluster(nodes=0) as (cluster, clock):
        client = cluster.client
        # pods no kubelet runs go at once; the finalizer holds this one
        await fill(cluster, "held", [pod("stuck", finalizers=["example.com/hold"]), pod("free")])
        await client.delete("namespaces", "held")

        # As in Kubernetes, finalizers are reported once the pods' grace period (30 s by
        # default) since the deletion has passed; until then the grace period explains them.
        async def conditions_written() -> bool:
            ns = await client.get("namespaces", "held")
            found = by_type((ns.get("status") or {}).get("conditions") or [])
            return found.get(FINALIZERS_REMAINING, {}).get("status") == "True"

        await eventually(clock, conditions_written)
        ns = await client.get("namespaces", "held")
        assert ns["status"]["phase"] == "Terminating"
        conditions = by_type(ns["status"]["conditions"])
        assert conditions[CONTENT_REMAINING]["status"] == "True"
        assert conditions[CONTENT_REMAINING]["message"] == "Some resources are remaining: pods. has 1 resource instances"
        assert conditions[FINALIZERS_REMAINING]["status"] == "True"
        assert conditions[FINALIZERS_REMAINING]["message"] == (
            "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances"
        )
        assert conditions[CONTENT_FAILURE]["status"] == "False"
        assert conditions[DISCOVERY_FAILURE]["status"] == "False"
        assert [p["metadata"]["name"] for p in (await client.list("pods", namespace="held"))["items"]] == ["stuck"]
        assert (await client.list("configmaps", namespace="held"))["items"] == []
        # still held after a while
        await clock.advance(30)
        await cluster.settle()
        assert await get_or_none(cluster, "namespaces", "held") is not None

        await client.patch("pods", "stuck", {"metadata": {"finalizers": None}}, namespace="held")

        async def gone() -> bool:
            return await get_or_none(cluster, "namespaces", "held") is None

        await eventually(clock, gone, seconds=30)


async def test_creating_in_a_terminating_namespace_is_refused() -> None:
    async with namespace_cluster(nodes=0) as (cluster, clock):
        client = cluster.client
        await fill(cluster, "closing", [pod("stuck", finalizers=["example.com/hold"])])
        await client.delete("namespaces", "closing")
        with pytest.raises(APIError) as caught:
            await client.create("configmaps", {"metadata": {"name": "late"}}, namespace="closing")
        assert caught.value.code == 403
        assert caught.value.reason == "Forbidden"
        assert caught.value.message.endswith(
            "unable to create new content in namespace closing because it is being terminated"
        )
        await client.patch("pods", "stuck", {"metadata": {"finalizers": None}}, namespace="closing")

        async def gone() -> bool:
            return await get_or_none(cluster, "namespaces", "closing") is None

        await eventually(clock, gone, seconds=30)
        # once it is gone, the name can be used again
        await client.create("namespaces", {"metadata": {"name": "closing"}})
        await client.create("configmaps", {"metadata": {"name": "late"}}, namespace="closing")


async def test_namespace_with_other_finalizers_only_loses_kubernetes() -> None:
    async with namespace_cluster(nodes=0) as (cluster, clock):
        client = cluster.client
        await client.create("namespaces", {"metadata": {"name": "shared"}, "spec": {"finalizers": ["kubernetes", "example.com/other"]}})
        await client.create("configmaps", {"metadata": {"name": "x"}}, namespace="shared")
        await client.delete("namespaces", "shared")

        async def finalized() -> bool:
            ns = await get_or_none(cluster, "namespaces", "shared")
            return ns is not None and ns["spec"].get("finalizers") == ["example.com/other"]

        await eventually(clock, finalized)
        assert (await client.list("configmaps", namespace="shared"))["items"] == []
