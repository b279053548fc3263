"""The node agent against the in-process API server, on a virtual clock."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from kube_lite.runtimes.fake import EXIT_CODE, RUN_SECONDS, START_SECONDS, STOP_SECONDS

from kube_lite.agent import cri
from kube_lite.agent.node import KUBELET_VERSION
from tests.unit.agent.agentenv import NODE, POD_CIDR, agent_env, condition, container_status


def phase(pod: dict[str, Any]) -> str | None:
    return (pod.get("status") or {}).get("phase")


# ------------------------------------------------------------------------------------------ node


async def test_node_registers_and_becomes_ready(tmp_path: Path) -> None:
    async with agent_env(tmp_path, labels={"zone": "a"}, roles=("worker",),
                         taints=[{"key": "dedicated", "value": "x", "effect": "NoSchedule"}]) as env:
        node = await env.client.get("nodes", NODE)
        labels = node["metadata"]["labels"]
        assert labels["kubernetes.io/hostname"] == NODE
        assert labels["kubernetes.io/os"] == labels["beta.kubernetes.io/os"] == "linux"
        assert labels["kubernetes.io/arch"] == labels["beta.kubernetes.io/arch"]
        assert labels["node-role.kubernetes.io/worker"] == ""
        assert labels["zone"] == "a"
        assert node["spec"]["taints"] == [{"key": "dedicated", "value": "x", "effect": "NoSchedule"}]
        assert node["spec"]["podCIDR"] == POD_CIDR
        status = node["status"]
        for resource in ("cpu", "memory", "pods", "ephemeral-storage"):
            assert resource in status["capacity"] and resource in status["allocatable"]
        assert status["capacity"]["pods"] == "110"
        assert {"type": "InternalIP", "address": "127.0.0.1"} in status["addresses"]
        assert {"type": "Hostname", "address": NODE} in status["addresses"]
        assert status["nodeInfo"]["kubeletVersion"] == KUBELET_VERSION
        assert status["nodeInfo"]["containerRuntimeVersion"] == "fake://0.1"
        assert status["nodeInfo"]["operatingSystem"] == "linux"
        assert status["daemonEndpoints"]["kubeletEndpoint"]["Port"] == 10250
        types = [c["type"] for c in status["conditions"]]
        assert types == ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]
        ready = condition(node, "Ready")
        assert (ready["status"], ready["reason"]) == ("True", "KubeletReady")
        assert condition(node, "MemoryPressure")["status"] == "False"
        events = [(e["reason"], e["message"]) for e in await env.events(NODE)]
        assert ("Starting", "Starting kubelet.") in events
        assert ("NodeReady", f"Node {NODE} status is now: NodeReady") in events


async def test_node_not_ready_until_it_has_a_pod_cidr(tmp_path: Path) -> None:
    async with agent_env(tmp_path, pod_cidr=None, capacity={"cpu": "4", "memory": "8Gi"}) as env:
        node = await env.client.get("nodes", NODE)
        ready = condition(node, "Ready")
        assert (ready["status"], ready["reason"]) == ("False", "KubeletNotReady")
        assert "NetworkPluginNotReady" in ready["message"]
        assert node["status"]["capacity"]["cpu"] == node["status"]["allocatable"]["cpu"] == "4"
        await env.client.create("pods", env.pod("web"))
        await env.advance(20)  # sandbox creation fails (no pod IP to give) and is retried with back-off
        pod = await env.client.get("pods", "web")
        assert phase(pod) == "Pending" and "podIP" not in pod["status"]
        assert container_status(pod, "app")["state"]["waiting"]["reason"] == "ContainerCreating"
        assert "FailedCreatePodSandBox" in [e["reason"] for e in await env.events("web")]
        await env.client.patch("nodes", NODE, {"spec": {"podCIDR": "10.244.7.0/24"}})

        async def ready_now() -> bool:
            return condition(await env.client.get("nodes", NODE), "Ready")["status"] == "True"

        await env.wait_for(ready_now, within=1)  # the agent watches its Node: no 10 s wait
        pod = await env.wait_for_pod("web", lambda p: phase(p) == "Running", within=2)
        assert ipaddress.ip_address(pod["status"]["podIP"]) in ipaddress.ip_network("10.244.7.0/24")


async def test_lease_renewed_every_10_seconds(tmp_path: Path) -> None:
    async with agent_env(tmp_path) as env:
        lease = await env.client.get("leases", NODE, namespace="kube-node-lease")
        node = await env.client.get("nodes", NODE)
        assert lease["spec"]["holderIdentity"] == NODE
        assert lease["spec"]["leaseDurationSeconds"] == 40
        assert lease["metadata"]["ownerReferences"][0]["uid"] == node["metadata"]["uid"]
        first = lease["spec"]["renewTime"]
        await env.advance(10)
        second = (await env.client.get("leases", NODE, namespace="kube-node-lease"))["spec"]["renewTime"]
        assert second > first
        renewals = env.agent.reporter.lease_renewals
        await env.advance(30)
        assert env.agent.reporter.lease_renewals - renewals == 3


async def test_node_status_posted_on_change_or_every_5_minutes(tmp_path: Path) -> None:
    async with agent_env(tmp_path) as env:
        posts = env.agent.reporter.status_posts
        await env.advance(60)
        assert env.agent.reporter.status_posts == posts  # nothing changed: no writes
        await env.client.create("pods", env.pod("web"))  # pulls an image: status.images changes
        await env.advance(11)
        assert env.agent.reporter.status_posts == posts + 1
        node = await env.client.get("nodes", NODE)
        assert any("docker.io/library/busybox:latest" in i["names"] for i in node["status"]["images"])
        heartbeat = condition(node, "Ready")["lastHeartbeatTime"]
        await env.advance(300)
        node = await env.client.get("nodes", NODE)
        assert condition(node, "Ready")["lastHeartbeatTime"] > heartbeat
        assert condition(node, "Ready")["lastTransitionTime"] <= heartbeat


# ------------------------------------------------------------------------------------------ pods


async def test_pod_runs_with_an_ip_from_the_pod_cidr(tmp_path: Path) -> None:
    async with agent_env(tmp_path) as env:
        await env.client.create("pods", env.pod("web"))
        pod = await env.wait_for_pod("web", lambda p: phase(p) == "Running")
        status = pod["status"]
        assert ipaddress.ip_address(status["podIP"]) in ipaddress.ip_network(POD_CIDR)
        assert status["podIPs"] == [{"ip": status["podIP"]}]
        assert status["hostIP"] == "127.0.0.1" and status["hostIPs"] == [{"ip": "127.0.0.1"}]
        assert status["startTime"]
        for type_ in ("PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready", "PodScheduled"):
            c = condition(pod, type_)
            assert c["status"] == "True" and c["lastTransitionTime"], c
        app = container_status(pod, "app")
        assert set(app["state"]) == {"running"} and app["state"]["running"]["startedAt"]
        assert app["ready"] is True and app["started"] is True and app["restartCount"] == 0
        assert app["containerID"].startswith("fake://")
        assert app["image"] == "docker.io/library/busybox:latest"
        assert app["imageID"].startswith("docker.io/library/busybox@sha256:")
        assert env.ipam.allocated() == {status["podIP"]: env.agent.workers[pod["metadata"]["uid"]].sandbox_id}
        reasons = [e["reason"] for e in await env.events("web")]
        for reason in ("Pulling", "Pulled", "Created", "Started"):
            assert reason in reasons
        assert (await env.agent.container_logs("default", "web", "app"))[0].startswith("fake container app")


async def test_unchanged_status_is_not_written_again(tmp_path: Path) -> None:
    async with agent_env(tmp_path) as env:
        await env.client.create("pods", env.pod("web"))
        await env.wait_for_pod("web", lambda p: phase(p) == "Running")
        await env.advance(2)
        writes = env.agent.status.writes
        rv = (await env.client.get("pods", "web"))["metadata"]["resourceVersion"]
        await env.advance(60)
        assert env.agent.status.writes == writes
        assert (await env.client.get("pods", "web"))["metadata"]["resourceVersion"] == rv


async def test_restart_never_with_run_seconds_succeeds(tmp_path: Path) -> None:
    async with agent_env(tmp_path) as env:
        await env.client.create("pods", env.pod("job", restart_policy="Never", annotations={RUN_SECONDS: "3"}))
        await env.wait_for_pod("job", lambda p: phase(p) == "Running")
        pod = await env.wait_for_pod("job", lambda p: phase(p) == "Succeeded", within=10)
        terminated = container_status(pod, "app")["state"]["terminated"]
        assert (terminated["reason"], terminated["exitCode"]) == ("Completed", 0)
        assert terminated["startedAt"] < terminated["finishedAt"]
        assert container_status(pod, "app")["ready"] is False
        assert condition(pod, "Ready")["reason"] == "PodCompleted"
        assert pod["status"]["podIP"]  # kept after the pod finished
        await env.advance(2)
        assert env.ipam.allocated() == {}  # but released with the sandbox
        # Finished pods are not restarted and keep their status.
        await env.advance(30)
        assert phase(await env.client.get("pods", "job")) == "Succeeded"
        assert len(await env.runtime.list_containers()) == 1


async def test_restart_never_with_exit_code_1_fails(tmp_path: Path) -> None:
    async with agent_env(tmp_path) as env:
        annotations = {RUN_SECONDS: "2", EXIT_CODE: "1"}
        await env.client.create("pods", env.pod("job", restart_policy="Never", annotations=annotations))
        pod = await env.wait_for_pod("job", lambda p: phase(p) == "Failed", within=10)
        terminated = container_status(pod, "app")["state"]["terminated"]
        assert (terminated["reason"], terminated["exitCode"]) == ("Error", 1)
        assert container_status(pod, "app")["restartCount"] == 0


async def test_restart_on_failure_stops_after_success(tmp_path: Path) -> None:
    async with agent_env(tmp_path) as env:
        await env.client.create("pods", env.pod("job", restart_policy="OnFailure", annotations={RUN_SECONDS: "1"}))
        pod = await env.wait_for_pod("job", lambda p: phase(p) == "Succeeded", within=10)
        assert container_status(pod, "app")["restartCount"] == 0


async def test_crash_loop_back_off_doubles(tmp_path: Path) -> None:
    async with agent_env(tmp_path) as env:
        await env.client.create("pods", env.pod("crash", annotations={EXIT_CODE: "1"}))
        restarts: list[tuple[float, int]] = []
        messages: set[str] = set()
        start = env.clock.monotonic()
        while env.clock.monotonic() - start < 90:
            await env.advance(0.5)
            pod = await env.client.get("pods", "crash")
            status = pod.get("status", {}).get("containerStatuses")
            if not status:
                continue
            count = status[0]["restartCount"]
            if not restarts or restarts[-1][1] != count:
                restarts.append((env.clock.monotonic(), count))
            waiting = status[0]["state"].get("waiting")
            if waiting and waiting["reason"] == "CrashLoopBackOff":
                messages.add(waiting["message"].split(" restarting")[0])
                assert phase(pod) == "Running"
                last = status[0]["lastState"]["terminated"]
                assert (last["exitCode"], last["reason"]) == (1, "Error")
                assert "container=app pod=crash_default(" in waiting["message"]
        seen_at = {count: at for at, count in reversed(restarts)}
        assert restarts[0][1] <= 1 and [c for _, c in restarts][:4] == list(range(restarts[0][1], restarts[0][1] + 4))
        # The first restart is immediate; then 10 s, 20 s, 40 s (give or take a relist period).
        gaps = [seen_at[n + 1] - seen_at[n] for n in (1, 2, 3)]
        assert all(abs(gap - want) <= 1.5 for gap, want in zip(gaps, (10, 20, 40), strict=True)), gaps
        assert {"back-off 10s", "back-off 20s", "back-off 40s"} <= messages
        assert "BackOff" in [e["reason"] for e in await env.events("crash")]


async def test_init_containers_run_in_order_before_containers(tmp_path: Path) -> None:
    async with agent_env(tmp_path) as env:
        annotations = {f"{RUN_SECONDS}.init-a": "2", f"{RUN_SECONDS}.init-b": "3"}
        await env.client.create("pods", env.pod(
            "inits", annotations=annotations,
            init_containers=[{"name": "init-a", "image": "busybox"}, {"name": "init-b", "image": "busybox"}],
        ))
        pod = await env.wait_for_pod("inits", lambda p: "running" in container_status(p, "init-a", True)["state"]
                                     if p["status"].get("initContainerStatuses") else False, within=5)
        assert phase(pod) == "Pending"
        assert container_status(pod, "init-b", True)["state"]["waiting"]["reason"] == "PodInitializing"
        assert container_status(pod, "app")["state"]["waiting"]["reason"] == "PodInitializing"
        initialized = condition(pod, "Initialized")
        assert (initialized["status"], initialized["reason"]) == ("False", "ContainersNotInitialized")
        assert initialized["message"] == "containers with incomplete status: [init-a init-b]"
        pod = await env.wait_for_pod("inits", lambda p: phase(p) == "Running", within=15)
        a = container_status(pod, "init-a", True)["state"]["terminated"]
        b = container_status(pod, "init-b", True)["state"]["terminated"]
        main = container_status(pod, "app")["state"]["running"]
        assert a["reason"] == b["reason"] == "Completed"
        assert a["finishedAt"] <= b["startedAt"] and b["finishedAt"] <= main["startedAt"]
        assert condition(pod, "Initialized")["status"] == "True"
        await env.advance(20)  # init containers that succeeded are not run again
        pod = await env.client.get("pods", "inits")
        assert container_status(pod, "init-a", True)["restartCount"] == 0
        assert container_status(pod, "app")["restartCount"] == 0


async def test_failed_init_container_under_never_fails_the_pod(tmp_path: Path) -> None:
    async with agent_env(tmp_path) as env:
        annotations = {f"{EXIT_CODE}.init": "3"}
        await env.client.create("pods", env.pod("bad", annotations=annotations, restart_policy="Never",
                                                init_containers=[{"name": "init", "image": "busybox"}]))
        pod = await env.wait_for_pod("bad", lambda p: phase(p) == "Failed", within=10)
        assert container_status(pod, "init", True)["state"]["terminated"]["exitCode"] == 3
        assert "waiting" in container_status(pod, "app")["state"]
        assert all(c.labels[cri.CONTAINER_NAME_LABEL] == "init" for c in await env.runtime.list_containers())


async def test_graceful_deletion_waits_for_the_containers(tmp_path: Path) -> None:
    async with agent_env(tmp_path) as env:
        await env.client.create("pods", env.pod("web", annotations={STOP_SECONDS: "3"}))
        await env.wait_for_pod("web", lambda p: phase(p) == "Running")
        start = env.clock.monotonic()
        await env.client.delete("pods", "web", grace_period_seconds=10)
        pod = await env.client.get("pods", "web")
        assert pod["metadata"]["deletionTimestamp"] and pod["metadata"]["deletionGracePeriodSeconds"] == 10
        await env.advance(2)
        assert await env.get_pod("web") is not None  # Terminating while the container stops
        await env.wait_gone("web", within=5)
        assert 3 <= env.clock.monotonic() - start <= 5
        assert await env.runtime.list_containers() == [] and await env.runtime.list_pod_sandboxes() == []
        assert env.ipam.allocated() == {}
        assert "Killing" in [e["reason"] for e in await env.events("web")]


async def test_deletion_kills_containers_at_the_grace_period(tmp_path: Path) -> None:
    async with agent_env(tmp_path) as env:
        await env.client.create("pods", env.pod("stubborn", annotations={STOP_SECONDS: "600"}))
        await env.wait_for_pod("stubborn", lambda p: phase(p) == "Running")
        start = env.clock.monotonic()
        await env.client.delete("pods", "stubborn", grace_period_seconds=5)
        await env.wait_gone("stubborn", within=10)
        assert 5 <= env.clock.monotonic() - start <= 7


async def test_deletion_interrupts_a_slow_start(tmp_path: Path) -> None:
    async with agent_env(tmp_path) as env:
        await env.client.create("pods", env.pod("slow", annotations={START_SECONDS: "600"}))
        pod = await env.wait_for_pod("slow", lambda p: "podIP" in p["status"])
        assert phase(pod) == "Pending"
        assert container_status(pod, "app")["state"]["waiting"]["reason"] == "ContainerCreating"
        start = env.clock.monotonic()
        await env.client.delete("pods", "slow", grace_period_seconds=5)
        await env.wait_gone("slow", within=10)
        assert env.clock.monotonic() - start <= 2
        assert await env.runtime.list_containers() == []


async def test_a_dead_sandbox_is_recreated(tmp_path: Path) -> None:
    async with agent_env(tmp_path) as env:
        await env.client.create("pods", env.pod("web"))
        await env.wait_for_pod("web", lambda p: phase(p) == "Running")
        worker = next(iter(env.agent.workers.values()))
        old_sandbox = worker.sandbox_id
        assert old_sandbox is not None
        env.runtime.kill_sandbox(old_sandbox)
        pod = await env.wait_for_pod(
            "web", lambda p: container_status(p, "app")["restartCount"] == 1 and phase(p) == "Running", within=5,
        )
        assert worker.sandbox_id != old_sandbox
        assert "running" in container_status(pod, "app")["state"]
        assert "SandboxChanged" in [e["reason"] for e in await env.events("web")]
        assert list(env.ipam.allocated().values()) == [worker.sandbox_id]


async def test_pod_recreated_under_the_same_name(tmp_path: Path) -> None:
    async with agent_env(tmp_path) as env:
        await env.client.create("pods", env.pod("web", annotations={STOP_SECONDS: "2"}))
        first = await env.wait_for_pod("web", lambda p: phase(p) == "Running")
        await env.client.delete("pods", "web", grace_period_seconds=5)
        await env.wait_gone("web")
        await env.client.create("pods", env.pod("web"))
        second = await env.wait_for_pod("web", lambda p: phase(p) == "Running")
        assert second["metadata"]["uid"] != first["metadata"]["uid"]
        assert len(await env.runtime.list_containers()) == 1


async def test_host_network_pods_take_the_node_address(tmp_path: Path) -> None:
    async with agent_env(tmp_path) as env:
        await env.client.create("pods", env.pod("host", hostNetwork=True))
        pod = await env.wait_for_pod("host", lambda p: phase(p) == "Running")
        assert pod["status"]["podIP"] == pod["status"]["hostIP"] == "127.0.0.1"
        assert env.ipam.allocated() == {}


async def test_env_from_the_downward_api(tmp_path: Path) -> None:
    async with agent_env(tmp_path) as env:
        await env.client.create("pods", env.pod("web", containers=[{
            "name": "app", "image": "busybox",
            "env": [{"name": "A", "value": "1"},
                    {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                    {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
        }]))
        pod = await env.wait_for_pod("web", lambda p: phase(p) == "Running")
        worker = env.agent.workers[pod["metadata"]["uid"]]
        config = worker.container_config(pod["spec"]["containers"][0], 0)
        assert dict(config.envs) == {"A": "1", "NODE": NODE, "IP": pod["status"]["podIP"]}


# ------------------------------------------------------------------------------------------ footprint


async def test_a_runtime_without_events_is_relisted(tmp_path: Path) -> None:
    async with agent_env(tmp_path, relist_only=True) as env:
        assert not env.agent.pleg.evented
        await env.client.create("pods", env.pod("web", restart_policy="Never", annotations={RUN_SECONDS: "3"}))
        await env.wait_for_pod("web", lambda p: phase(p) == "Running")
        relists = env.agent.pleg.relists
        await env.wait_for_pod("web", lambda p: phase(p) == "Succeeded", within=5)
        assert env.agent.pleg.relists > relists  # noticed by a relist: the runtime told nothing


async def test_an_idle_agent_runs_one_task_besides_its_pod_watch(tmp_path: Path) -> None:
    import asyncio

    async with agent_env(tmp_path, pod_cidr=None) as env:
        await env.client.patch("nodes", NODE, {"spec": {"podCIDR": "10.244.7.0/24"}})
        await env.client.create("pods", env.pod("web"))
        await env.wait_for_pod("web", lambda p: phase(p) == "Running")
        await env.advance(30)  # leases, statuses, housekeeping and a resync went by
        names = sorted(t.get_name() for t in asyncio.all_tasks())
        agent_tasks = [n for n in names if "kube_lite.agent" in n or "kube_lite.client" in n]
        # The agent's own task (serving its timers) and the pod informer with its stream; the
        # Node watch has ended with the podCIDR; no writer waits for events, no worker for its
        # resync.
        assert agent_tasks == [
            "kube_lite.agent.kubelet.NodeAgent.run", "kube_lite.client.informer.Informer.run",
            "kube_lite.client.transport.InProcessTransport.stream.<locals>.run",
        ]
        assert env.agent._node_watch is None and env.agent.recorder.pending == 0
        assert env.agent.pleg.relists == 1 + 1  # the first relist, and the tick after the pod started
