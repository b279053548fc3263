"""The Scheduler against an in-process API server on a virtual clock: the scheduling lab.

Every test builds a three-node cluster (a control-plane node tainted NoSchedule, node1, node2),
runs the Scheduler, and drives it through the API only. There is no node agent: a pod is
"running" when the binding set its spec.nodeName.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import pytest

from kube_lite.api.errors import APIError
from kube_lite.client.client import Client
from kube_lite.clock import VirtualClock
from kube_lite.scheduler.scheduler import Scheduler
from kube_lite.server.apiserver import APIServer

from .helpers import node

CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
TAINT_MESSAGE = "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"
NOT_HELPFUL_3 = "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."

pytestmark = pytest.mark.timeout(30)


@dataclass
class Env:
    client: Client
    clock: VirtualClock
    scheduler: Scheduler

    async def settle(self) -> None:
        """Let the informers deliver and the scheduler finish what it can do now."""
        calm = 0
        for _ in range(2000):
            await anyio.sleep(0.002)
            calm = calm + 1 if self.scheduler.idle else 0
            if calm >= 10:
                return
        raise AssertionError(f"scheduler never idle: {self.scheduler.queue.stats()}")

    async def advance(self, seconds: float) -> None:
        """Move the clock (backoff, flushes) and settle."""
        await self.settle()
        await self.clock.advance(seconds)
        await self.settle()

    async def pod(self, name: str) -> dict[str, Any]:
        return await self.client.get("pods", name)

    async def node_of(self, name: str) -> str | None:
        return ((await self.pod(name)).get("spec") or {}).get("nodeName")

    async def condition(self, name: str) -> dict[str, Any] | None:
        pod = await self.pod(name)
        return next((c for c in (pod.get("status") or {}).get("conditions") or () if c["type"] == "PodScheduled"), None)

    async def events(self, name: str) -> list[tuple[str, str, str]]:
        items = (await self.client.list("events", namespace="default"))["items"]
        return [(e["type"], e["reason"], e["message"]) for e in items if e["involvedObject"].get("name") == name]

    async def create(self, name: str, labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
        containers = spec.pop("containers", None) or [{"name": "c", "image": "gcr.io/google_containers/echoserver:1.4"}]
        requests = spec.pop("requests", None)
        if requests:
            containers[0]["resources"] = {"requests": requests}
        meta: dict[str, Any] = {"name": name}
        if labels:
            meta["labels"] = labels
        return await self.client.create("pods", {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
                                                 "spec": {"containers": containers, **spec}})

    async def label_node(self, name: str, key: str, value: str | None) -> None:
        labels = {key: value}
        await self.client.patch("nodes", name, {"metadata": {"labels": labels}})


async def create_node(client: Client, body: dict[str, Any]) -> None:
    status = body.pop("status")
    created = await client.create("nodes", body)
    created["status"] = status
    await client.update_status("nodes", created)


@asynccontextmanager
async def cluster(**node_kwargs: Any) -> AsyncIterator[Env]:
    clock = VirtualClock()
    async with APIServer("memory:", clock=clock) as server:
        client = server.client()
        await create_node(client, node("master", taints=[CONTROL_PLANE_TAINT],
                                       labels={"node-role.kubernetes.io/control-plane": ""}, **node_kwargs))
        await create_node(client, node("node1", **node_kwargs))
        await create_node(client, node("node2", **node_kwargs))
        scheduler = Scheduler(client, clock, rng=random.Random(1))
        async with anyio.create_task_group() as tg:
            await tg.start(scheduler.run)
            yield Env(client, clock, scheduler)
            tg.cancel_scope.cancel()


async def test_node_selector_pending_until_a_node_is_labelled() -> None:
    async with cluster() as env:
        await env.create("echoserver", nodeSelector={"apptype": "echoserver"})
        await env.settle()
        assert await env.node_of("echoserver") is None
        message = (f"0/3 nodes are available: 1 {TAINT_MESSAGE}, 2 node(s) didn't match Pod's node affinity/selector. "
                   f"{NOT_HELPFUL_3}")
        condition = await env.condition("echoserver")
        assert condition is not None
        assert (condition["status"], condition["reason"], condition["message"]) == ("False", "Unschedulable", message)
        assert ("Warning", "FailedScheduling", message) in await env.events("echoserver")
        assert env.scheduler.queue.pool_of("default/echoserver") == "unschedulable"

        await env.label_node("node1", "apptype", "echoserver")
        await env.advance(1.5)  # past the 1 s backoff of the first attempt
        assert await env.node_of("echoserver") == "node1"
        assert ("Normal", "Scheduled", "Successfully assigned default/echoserver to node1") in await env.events("echoserver")

        # Removing the label does not move a scheduled pod.
        await env.client.patch("nodes", "node1", {"metadata": {"labels": {"apptype": None}}})
        await env.advance(31)
        assert await env.node_of("echoserver") == "node1"


async def test_required_node_affinity_not_in() -> None:
    async with cluster() as env:
        await env.label_node("node1", "apptype", "otherserver")
        await env.settle()
        await env.create("echoserver", affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "apptype", "operator": "NotIn", "values": ["otherserver"]}]}]}}})
        await env.settle()
        assert await env.node_of("echoserver") == "node2"


async def test_control_plane_taint_and_a_toleration_exists() -> None:
    async with cluster() as env:
        pin = {"nodeSelector": {"kubernetes.io/hostname": "master"}}
        await env.create("intolerant", **pin)
        await env.create("tolerant", **pin, tolerations=[{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}])
        for i in range(4):
            await env.create(f"plain-{i}")
        await env.settle()
        assert await env.node_of("tolerant") == "master"
        assert await env.node_of("intolerant") is None
        assert (await env.condition("intolerant"))["message"].startswith(
            f"0/3 nodes are available: 1 {TAINT_MESSAGE}, 2 node(s) didn't match Pod's node affinity/selector.")
        placed = {await env.node_of(f"plain-{i}") for i in range(4)}
        assert placed <= {"node1", "node2"} and len(placed) == 2  # spread by LeastAllocated, never the master


async def test_pod_affinity_co_locates_with_the_cache() -> None:
    async with cluster() as env:
        await env.create("web-cache-1", labels={"app": "web-cache"})
        await env.settle()
        affinity = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchExpressions": [{"key": "cache", "operator": "In", "values": ["active"]}]},
             "topologyKey": "kubernetes.io/hostname"}]}}
        await env.create("web-server", labels={"app": "web-server"}, affinity=affinity)
        await env.settle()
        assert await env.node_of("web-server") is None
        assert (await env.condition("web-server"))["message"] == (
            f"0/3 nodes are available: 1 {TAINT_MESSAGE}, 2 node(s) didn't match pod affinity rules. {NOT_HELPFUL_3}")

        # The Deployment's new pod carries cache=active: the web server follows it.
        await env.create("web-cache-2", labels={"app": "web-cache", "cache": "active"})
        await env.settle()
        cache_node = await env.node_of("web-cache-2")
        assert cache_node in ("node1", "node2")
        await env.advance(1.5)
        assert await env.node_of("web-server") == cache_node


async def test_pod_anti_affinity_spreads_and_then_blocks() -> None:
    async with cluster() as env:
        anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}]}}
        for i in range(3):
            await env.create(f"web-{i}", labels={"app": "web"}, affinity=anti)
            await env.settle()
        nodes = [await env.node_of(f"web-{i}") for i in range(3)]
        assert sorted(n for n in nodes if n) == ["node1", "node2"]
        pending = nodes.index(None)
        assert (await env.condition(f"web-{pending}"))["message"] == (
            f"0/3 nodes are available: 1 {TAINT_MESSAGE}, 2 node(s) didn't match pod anti-affinity rules. "
            "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, "
            "2 No preemption victims found for incoming pod.")
        # When one of them goes, the pending one takes its place.
        await env.client.delete("pods", f"web-{(pending + 1) % 3}", grace_period_seconds=0)
        await env.advance(1.5)
        assert await env.node_of(f"web-{pending}") in ("node1", "node2")


async def test_insufficient_resources_message() -> None:
    async with cluster(cpu="2") as env:
        for target in ("node1", "node2"):
            await env.create(f"busy-{target}", nodeName=target, requests={"cpu": "1"})
        await env.create("big", requests={"cpu": "1500m", "memory": "1Gi"})
        await env.settle()
        assert await env.node_of("big") is None
        assert (await env.condition("big"))["message"] == (
            f"0/3 nodes are available: 1 {TAINT_MESSAGE}, 2 Insufficient cpu. preemption: 0/3 nodes are available: "
            "1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.")
        # Freeing a node (a pod deleted) lets it in.
        await env.client.delete("pods", "busy-node2", grace_period_seconds=0)
        await env.advance(1.5)
        assert await env.node_of("big") == "node2"


async def test_too_big_for_any_node_is_not_helped_by_preemption() -> None:
    async with cluster(cpu="2") as env:
        await env.create("huge", requests={"cpu": "3"})
        await env.settle()
        assert (await env.condition("huge"))["message"] == (
            f"0/3 nodes are available: 1 {TAINT_MESSAGE}, 2 Insufficient cpu. {NOT_HELPFUL_3}")


async def test_preemption_of_a_low_priority_pod() -> None:
    async with cluster(cpu="2") as env:
        await env.client.create("priorityclasses", {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                                                    "metadata": {"name": "high"}, "value": 1000})
        await env.client.create("priorityclasses", {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                                                    "metadata": {"name": "low"}, "value": 10})
        for i in (1, 2):
            await env.create(f"low-{i}", requests={"cpu": "1500m"}, priorityClassName="low", terminationGracePeriodSeconds=0)
        await env.settle()
        placement = {await env.node_of("low-1"): "low-1", await env.node_of("low-2"): "low-2"}
        assert set(placement) == {"node1", "node2"}

        await env.create("high", requests={"cpu": "1500m"}, priorityClassName="high")
        await env.settle()
        high = await env.pod("high")
        nominated = high["status"].get("nominatedNodeName")
        assert nominated in ("node1", "node2")
        victim = placement[nominated]
        with pytest.raises(APIError) as gone:
            await env.pod(victim)
        assert gone.value.code == 404
        events = await env.events(victim)
        assert any(reason == "Preempted" and message.endswith(f"on node {nominated}") for _, reason, message in events)
        assert (await env.condition("high"))["message"].startswith(
            f"0/3 nodes are available: 1 {TAINT_MESSAGE}, 2 Insufficient cpu.")

        await env.advance(1.5)
        assert await env.node_of("high") == nominated
        assert env.scheduler.preemptions == 1

        # The victim's replacement (same priority) cannot take the room back.
        await env.create("low-3", requests={"cpu": "1500m"}, priorityClassName="low")
        await env.settle()
        assert await env.node_of("low-3") is None


async def test_cordoned_node_is_skipped() -> None:
    async with cluster() as env:
        await env.client.patch("nodes", "node1", {"spec": {"unschedulable": True}})
        await env.settle()
        for i in range(3):
            await env.create(f"p{i}")
        await env.create("pinned", nodeSelector={"kubernetes.io/hostname": "node1"})
        await env.settle()
        assert {await env.node_of(f"p{i}") for i in range(3)} == {"node2"}
        assert (await env.condition("pinned"))["message"] == (
            "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
            f"1 {TAINT_MESSAGE}, 1 node(s) were unschedulable. {NOT_HELPFUL_3}")
        await env.client.patch("nodes", "node1", {"spec": {"unschedulable": None}})
        await env.advance(1.5)
        assert await env.node_of("pinned") == "node1"


async def test_custom_scheduler_name_is_ignored_until_bound_by_hand() -> None:
    async with cluster() as env:
        await env.create("nginx", labels={"app": "nginx"}, schedulerName="my-scheduler")
        await env.advance(60)
        assert await env.node_of("nginx") is None
        assert await env.condition("nginx") is None and await env.events("nginx") == []
        assert env.scheduler.queue.pool_of("default/nginx") is None
        # The lab's custom scheduler: a Binding POSTed by hand (taints do not apply to it).
        await env.client.bind("nginx", "master")
        await env.settle()
        assert await env.node_of("nginx") == "master"
        assert env.scheduler.cache.pod("default/nginx").node_name == "master"


async def test_pods_with_node_name_count_but_are_not_scheduled() -> None:
    async with cluster(cpu="1") as env:
        await env.create("static", nodeName="node1", requests={"cpu": "1"})
        await env.create("next", requests={"cpu": "1"})
        await env.settle()
        assert await env.node_of("next") == "node2"
        assert await env.events("static") == []


async def test_failed_binding_is_requeued() -> None:
    async with cluster() as env:
        real = env.client.create_subresource
        calls = []

        async def flaky(*args: Any, **kwargs: Any) -> dict[str, Any]:
            calls.append(args)
            if len(calls) == 1:
                raise APIError(500, "InternalError", "etcd is having a bad day")
            return await real(*args, **kwargs)

        env.client.create_subresource = flaky  # type: ignore[method-assign]
        await env.create("p")
        await env.settle()
        assert await env.node_of("p") is None
        assert env.scheduler.cache.pod("default/p") is None  # forgotten
        assert ("Warning", "FailedScheduling", "Binding rejected: etcd is having a bad day") in await env.events("p")
        await env.advance(1.5)
        assert await env.node_of("p") in ("node1", "node2")
        assert len(calls) == 2


async def test_global_default_priority_class_orders_the_queue() -> None:
    async with cluster() as env:
        await env.client.create("priorityclasses", {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                                                    "metadata": {"name": "default"}, "value": 7, "globalDefault": True})
        await env.settle()
        await env.create("p")
        await env.create("critical", priorityClassName="system-node-critical")
        await env.settle()
        priorities = {pod.name: pod.priority for pod in env.scheduler.cache.all_pods()}
        assert priorities == {"p": 7, "critical": 2000001000}


async def test_no_nodes_then_a_node_joins() -> None:
    clock = VirtualClock()
    async with APIServer("memory:", clock=clock) as server:
        client = server.client()
        scheduler = Scheduler(client, clock, rng=random.Random(1))
        async with anyio.create_task_group() as tg:
            await tg.start(scheduler.run)
            env = Env(client, clock, scheduler)
            await env.create("p")
            await env.settle()
            condition = await env.condition("p")
            assert (condition["reason"], condition["message"]) == ("SchedulerError", "no nodes available to schedule pods")
            await create_node(client, node("node1"))
            await env.advance(1.5)
            assert await env.node_of("p") == "node1"
            tg.cancel_scope.cancel()


async def test_unschedulable_pods_are_retried_after_five_minutes() -> None:
    async with cluster() as env:
        await env.create("p", nodeSelector={"missing": "label"})
        await env.settle()
        first = env.scheduler.failed
        await env.advance(200)
        assert env.scheduler.failed == first  # no event helps it: it waits
        for _ in range(5):
            await env.advance(30)
        assert env.scheduler.failed > first  # flushed after 5 minutes and tried again
        failed = [e for e in await env.events("p") if e[1] == "FailedScheduling"]
        assert len(failed) == 1  # one Event, its count grows


async def test_second_profile_and_its_events() -> None:
    clock = VirtualClock()
    async with APIServer("memory:", clock=clock) as server:
        client = server.client()
        await create_node(client, node("node1"))
        scheduler = Scheduler(client, clock, profiles=("default-scheduler", "my-scheduler"))
        async with anyio.create_task_group() as tg:
            await tg.start(scheduler.run)
            env = Env(client, clock, scheduler)
            await env.create("mine", schedulerName="my-scheduler")
            await env.create("other", schedulerName="someone-else")
            await env.settle()
            assert await env.node_of("mine") == "node1"
            assert await env.node_of("other") is None
            events = (await client.list("events", namespace="default"))["items"]
            (scheduled,) = [e for e in events if e["involvedObject"]["name"] == "mine"]
            assert scheduled["source"] == {"component": "my-scheduler"} and scheduled["reason"] == "Scheduled"
            tg.cancel_scope.cancel()


async def test_preemption_policy_never_waits() -> None:
    async with cluster(cpu="1") as env:
        for target in ("node1", "node2"):
            await env.create(f"busy-{target}", nodeName=target, requests={"cpu": "1"})
        await env.create("polite", requests={"cpu": "1"}, priority=1000, preemptionPolicy="Never")
        await env.settle()
        assert (await env.condition("polite"))["message"] == (
            f"0/3 nodes are available: 1 {TAINT_MESSAGE}, 2 Insufficient cpu. "
            "preemption: not eligible due to preemptionPolicy=Never.")
        assert env.scheduler.preemptions == 0


async def test_many_pods_never_overcommit_a_node() -> None:
    clock = VirtualClock()
    async with APIServer("memory:", clock=clock) as server:
        client = server.client()
        for i in range(20):
            await create_node(client, node(f"n{i:02d}", cpu="3", memory="4Gi", pods="10",
                                           labels={"topology.kubernetes.io/zone": "abc"[i % 3]}))
        scheduler = Scheduler(client, clock, rng=random.Random(3))
        async with anyio.create_task_group() as tg:
            await tg.start(scheduler.run)
            env = Env(client, clock, scheduler)
            anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "kubernetes.io/hostname"}]}}
            async with anyio.create_task_group() as load:
                for i in range(150):
                    load.start_soon(lambda i=i: env.create(f"web-{i}", labels={"app": "web"},
                                                           requests={"cpu": "250m", "memory": "256Mi"}))
                for i in range(25):
                    load.start_soon(lambda i=i: env.create(f"db-{i}", labels={"app": "db"}, affinity=anti,
                                                           requests={"cpu": "100m"}))
            await env.settle()
            pods = (await client.list("pods"))["items"]
            cpu: dict[str, int] = {}
            count: dict[str, int] = {}
            db_nodes: list[str] = []
            for p in pods:
                where = p["spec"].get("nodeName")
                if not where:
                    continue
                request = p["spec"]["containers"][0]["resources"]["requests"]["cpu"]
                cpu[where] = cpu.get(where, 0) + (int(request[:-1]) if request.endswith("m") else int(request) * 1000)
                count[where] = count.get(where, 0) + 1
                if p["metadata"]["labels"]["app"] == "db":
                    db_nodes.append(where)
            assert max(cpu.values()) <= 3000 and max(count.values()) <= 10
            assert len(db_nodes) == len(set(db_nodes)) == 20  # one per node; 5 wait
            assert sum(count.values()) == 150 + 20
            waiting = [p["metadata"]["name"] for p in pods if not p["spec"].get("nodeName")]
            assert len(waiting) == 5
            condition = await env.condition(waiting[0])
            assert "20 node(s) didn't match pod anti-affinity rules" in condition["message"]
            tg.cancel_scope.cancel()
