"""A node agent on a virtual clock against the in-process API server, for tests.

    async with agent_env(tmp_path) as env:
        await env.client.create("pods", env.pod("web"))
        pod = await env.wait_for_pod("web", lambda p: p["status"].get("phase") == "Running")

Used inside the test body (not as a fixture) so that the task group is entered and left by
the same task.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from kube_lite.cni.hostlocal import HostLocalIPAM
from kube_lite.runtimes.fake import FakeRuntime

from kube_lite.agent.kubelet import NodeAgent
from kube_lite.api.errors import APIError
from kube_lite.client.client import Client
from kube_lite.clock import VirtualClock
from kube_lite.server.apiserver import APIServer

NODE = "node-1"
POD_CIDR = "10.244.1.0/24"


@dataclass
class AgentEnv:
    clock: VirtualClock
    server: APIServer
    client: Client
    agent: NodeAgent
    runtime: FakeRuntime
    ipam: HostLocalIPAM

    async def settle(self) -> None:
        await anyio.wait_all_tasks_blocked()

    async def advance(self, seconds: float, step: float = 0.5) -> None:
        """Let `seconds` of virtual time pass, `step` at a time, letting every task run
        between steps."""
        await self.settle()
        steps = max(int(round(seconds / step)), 1)
        for _ in range(steps):
            await self.clock.advance(step)
            await self.settle()

    async def wait_for(self, check: Callable[[], Any], within: float = 120.0, step: float = 0.5) -> Any:
        """Advance the clock until the async `check()` returns something truthy (returned);
        fail after `within` virtual seconds."""
        waited = 0.0
        await self.settle()
        while True:
            result = await check()
            if result:
                return result
            if waited >= within:
                raise AssertionError(f"not reached after {within}s of virtual time")
            await self.clock.advance(step)
            await self.settle()
            waited += step

    async def get_pod(self, name: str, namespace: str = "default") -> dict[str, Any] | None:
        try:
            return await self.client.get("pods", name, namespace=namespace)
        except APIError as exc:
            if exc.code == 404:
                return None
            raise

    async def wait_for_pod(self, name: str, predicate: Callable[[dict[str, Any]], Any], within: float = 120.0
                           ) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            pod = await self.get_pod(name)
            return pod if pod is not None and predicate(pod) else None

        return await self.wait_for(check, within)

    async def wait_gone(self, name: str, within: float = 120.0) -> None:
        async def check() -> bool:
            return await self.get_pod(name) is None

        await self.wait_for(check, within)

    def pod(self, name: str, *, annotations: dict[str, str] | None = None, restart_policy: str | None = None,
            containers: list[dict[str, Any]] | None = None, init_containers: list[dict[str, Any]] | None = None,
            **spec: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "annotations": annotations or {}},
            "spec": {
                "nodeName": NODE,
                "containers": containers or [{"name": "app", "image": "busybox"}],
                **spec,
            },
        }
        if restart_policy:
            body["spec"]["restartPolicy"] = restart_policy
        if init_containers:
            body["spec"]["initContainers"] = init_containers
        return body

    async def events(self, name: str) -> list[dict[str, Any]]:
        await self.wait_for(lambda: _true_after(self.agent.recorder.pending == 0))
        items = (await self.client.list("events", namespace="default"))["items"]
        return [e for e in items if e["involvedObject"].get("name") == name]


async def _true_after(value: bool) -> bool:
    return value


class RelistOnly:
    """A runtime without events (the fake runtime with its event methods hidden): one the
    agent's PLEG must relist every second, as it does a runtime that cannot report changes."""

    def __init__(self, runtime: FakeRuntime) -> None:
        self._runtime = runtime

    def __getattr__(self, name: str) -> Any:
        if name in ("subscribe_events", "unsubscribe_events", "next_transition", "expire_due"):
            raise AttributeError(name)
        return getattr(self._runtime, name)


@asynccontextmanager
async def agent_env(tmp_path: Path, *, pod_cidr: str | None = POD_CIDR, relist_only: bool = False,
                    **kwargs: Any) -> AsyncIterator[AgentEnv]:
    """`relist_only`: the agent gets the fake runtime without its events (`RelistOnly`)."""
    clock = VirtualClock()
    async with APIServer("memory:", clock=clock) as server:
        runtime = FakeRuntime(clock)
        ipam = HostLocalIPAM(tmp_path / "cni")
        agent_runtime: Any = RelistOnly(runtime) if relist_only else runtime
        agent = NodeAgent(server.client(), NODE, agent_runtime, ipam, clock, pod_cidr=pod_cidr, **kwargs)
        async with anyio.create_task_group() as tg:
            await tg.start(agent.run)
            yield AgentEnv(clock, server, server.client(), agent, runtime, ipam)
            tg.cancel_scope.cancel()


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any]:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == type_:
            return c
    raise AssertionError(f"no {type_} condition in {obj.get('status')}")


def container_status(pod: dict[str, Any], name: str, init: bool = False) -> dict[str, Any]:
    key = "initContainerStatuses" if init else "containerStatuses"
    for s in (pod.get("status") or {}).get(key) or []:
        if s["name"] == name:
            return s
    raise AssertionError(f"no status for container {name}")
