"""A whole cluster in one process: API server, controller manager, scheduler and node agents.

    async with kube_lite.Cluster(nodes=3, runtime="fake", backend="memory:") as cluster:
        await cluster.wait_ready()
        await cluster.client.create("pods", {...})
        await cluster.settle()

Everything runs in the caller's event loop, in task groups the Cluster owns: no threads, no
global state, several clusters per process. `clock=VirtualClock()` runs cluster time on demand.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import socket
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import anyio
import structlog

from kube_lite import gctune
from kube_lite.agent import NodeAgent
from kube_lite.client.client import Client
from kube_lite.clock import Clock, RealClock, VirtualClock
from kube_lite.controllers import manager as _manager
from kube_lite.controllers.manager import ControllerManager
from kube_lite.scheduler import Scheduler
from kube_lite.server import certs
from kube_lite.server.apiserver import APIServer

log = structlog.get_logger(__name__)

CONTROL_PLANE = "control-plane"
CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


@functools.cache
def load_plugin(group: str, name: str) -> Any:
    """A runtime or network plugin class by entry-point name (kube_lite.runtimes / kube_lite.cni)."""
    found = entry_points(group=group, name=name)
    if not found:
        known = sorted(ep.name for ep in entry_points(group=group))
        raise ValueError(f"unknown {group.rsplit('.', 1)[-1][:-1]} {name!r}; known: {', '.join(known)}")
    return next(iter(found)).load()


@dataclass
class NodeSpec:
    """One node of an embedded cluster."""

    name: str
    address: str
    labels: dict[str, str] = field(default_factory=dict)
    taints: list[dict[str, str]] = field(default_factory=list)
    manifests_dir: Path | None = None


class Cluster:
    """API server + controller manager + scheduler + node agents, started together.

    `nodes` counts worker nodes (node1..nodeN); a tainted `control-plane` node is added unless
    `control_plane_node=False`. `serve=True` also serves the HTTPS API on `listen` (port 0: any
    free port; `api.url` says which) and writes an admin kubeconfig to `kubeconfig`
    (DATA_DIR/kubeconfig), so it needs `data_dir`.

    Leave the `async with` block to stop it in order: agents, scheduler and controllers, then
    the API server, then the backend. Cancelling a scope around the block stops everything at
    once instead, and a backend that writes a file may then not finish closing it.

    `tune_gc=True` applies `kube_lite.gctune` (as `kube-lite up` does) once started, until the
    block is left: the process's garbage collector then skips the long-lived objects of the
    store and caches, which at thousands of pods otherwise takes about half the CPU. It changes
    the collector of the whole process, so an embedding program opts in."""

    def __init__(
        self,
        nodes: int = 2,
        *,
        runtime: str = "fake",
        network: str = "hostlocal",
        backend: str = "memory:",
        data_dir: str | Path | None = None,
        serve: bool = False,
        listen: tuple[str, int] = ("127.0.0.1", 6443),
        clock: Clock | None = None,
        control_plane_node: bool = True,
        cluster_cidr: str = "10.244.0.0/16",
        node_cidr_mask_size: int = 24,
        node_address_base: str = "127.0.1.1",
        serve_kubelets: bool = False,
        exclude_controllers: tuple[str, ...] = (),
        tune_gc: bool = False,
    ) -> None:
        if nodes < 0:
            raise ValueError("nodes must be 0 or more")
        if serve and data_dir is None:
            raise ValueError("serve=True needs a data_dir (for the certificates and the kubeconfig)")
        self.clock = clock or RealClock()
        self.data_dir = Path(data_dir).expanduser().resolve() if data_dir else None
        self.backend = backend
        self.serve = serve
        self.listen = listen
        self.runtime_name = runtime
        self.network_name = network
        # Found now, so that a misspelt name fails before anything is created or served.
        self.runtime_class = load_plugin("kube_lite.runtimes", runtime)
        self.network_class = load_plugin("kube_lite.cni", network)
        self.cluster_cidr = cluster_cidr
        self.node_cidr_mask_size = node_cidr_mask_size
        self.serve_kubelets = serve_kubelets
        self.exclude_controllers = exclude_controllers
        self.tune_gc = tune_gc
        base = ipaddress.ip_address(node_address_base)
        self.node_specs: list[NodeSpec] = []
        if control_plane_node:
            manifests = self.data_dir / "manifests" if self.data_dir else None
            self.node_specs.append(
                NodeSpec(CONTROL_PLANE, str(base), {"node-role.kubernetes.io/control-plane": ""}, [dict(CONTROL_PLANE_TAINT)], manifests)
            )
        for i in range(1, nodes + 1):
            self.node_specs.append(NodeSpec(f"node{i}", str(base + i)))
        self.api: APIServer
        self.client: Client
        self.controller_manager: Any = None
        self.scheduler: Any = None
        self.agents: list[Any] = []
        self._stack: AsyncExitStack | None = None

    @property
    def kubeconfig(self) -> Path | None:
        """The admin kubeconfig written when serving (DATA_DIR/kubeconfig), else None."""
        return self.data_dir / "kubeconfig" if self.serve and self.data_dir is not None else None

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Cluster:
        stack = AsyncExitStack()
        await stack.__aenter__()
        try:
            await self._start(stack)
        except BaseException:
            await stack.__aexit__(None, None, None)
            raise
        self._stack = stack
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._stack is not None:
            stack, self._stack = self._stack, None
            await stack.__aexit__(None, None, None)

    async def _start(self, stack: AsyncExitStack) -> None:

        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        extra_hosts = tuple(spec.address for spec in self.node_specs)
        self.api = await stack.enter_async_context(
            APIServer(
                self.backend, clock=self.clock, data_dir=self.data_dir,
                listen=self.listen if self.serve else None, extra_hosts=extra_hosts,
            )
        )
        self.client = self.api.client()
        if self.kubeconfig is not None:

            assert self.api.url is not None
            certs.write_kubeconfig(self.kubeconfig, self.api.url, self.api.pki)
        # Orphan and Foreground deletions wait on finalizers only a running collector removes.
        self.api.registry.garbage_collector_running = "garbagecollector" not in self.exclude_controllers
        tg = await stack.enter_async_context(anyio.create_task_group())
        stack.callback(tg.cancel_scope.cancel)
        identity = f"{socket.gethostname()}_{hashlib.sha1(str(self.data_dir or id(self)).encode()).hexdigest()[:8]}"
        self.controller_manager = ControllerManager(
            self.client, identity, clock=self.clock,
            factories=_manager.default_controllers(self.cluster_cidr, self.node_cidr_mask_size, exclude=self.exclude_controllers),
        )
        await tg.start(self.controller_manager.run)
        self.scheduler = Scheduler(self.client, self.clock)
        await tg.start(self.scheduler.run)
        for spec in self.node_specs:
            agent = self._make_agent(spec)
            self.agents.append(agent)
            await tg.start(agent.run)
        if self.tune_gc:
            stack.enter_context(gctune.gc_tuned())

    def _make_agent(self, spec: NodeSpec) -> Any:

        state_dir = self.data_dir / "nodes" / spec.name if self.data_dir else None
        runtime = self.runtime_class.for_node(spec.name, clock=self.clock, state_dir=state_dir)
        network = self.network_class.for_node(spec.name, clock=self.clock, state_dir=state_dir)
        return NodeAgent(
            self.client, spec.name, runtime, network, self.clock,
            labels=spec.labels, taints=spec.taints, address=spec.address,
            manifests_dir=spec.manifests_dir, serve_https=self.serve_kubelets, pki=self.api.pki,
            root_dir=state_dir,
        )

    # ------------------------------------------------------------------ waiting

    async def wait_ready(self) -> None:
        """Return once every node is registered and Ready and has its podCIDR (bound it with
        `anyio.fail_after` if it must not wait forever). It watches the nodes rather than
        polling, and does not advance a virtual clock (nodes register without waiting for time)."""
        names = {spec.name for spec in self.node_specs}
        if not names:
            return
        while True:
            # A watch from the start: ADDED for every node there is, then each change, so the
            # answer comes as soon as the last node turns Ready, without polling.
            ready: set[str] = set()
            async with self.client.watch("nodes") as events:
                async for event in events:
                    node = event.object
                    name = node["metadata"]["name"]
                    if event.type != "DELETED" and _node_ready(node):
                        ready.add(name)
                    else:
                        ready.discard(name)
                    if names <= ready:
                        return

    def busy(self) -> list[str]:
        """What still has work queued or in flight (empty when settled)."""
        busy: list[str] = []
        if self.controller_manager is not None and not self.controller_manager.idle:
            busy.append("controller-manager")
        if self.scheduler is not None and not self.scheduler.idle:
            busy.append("scheduler")
        busy += [f"agent/{a.node_name}" for a in self.agents if not a.idle]
        if self.api.cache.revision < self.api.registry._last_write:  # noqa: SLF001
            busy.append("watch-cache")
        return busy

    async def settle(self) -> None:
        """Return once no controller, scheduler or agent has work queued or in flight, three
        times in a row with the event loop drained in between (what one component finishes
        may start another's work). Time is not advanced beyond what that takes."""
        quiet = 0
        while quiet < 3:
            for _ in range(20):
                await anyio.lowlevel.checkpoint()
            quiet = quiet + 1 if not self.busy() else 0
            if quiet == 0:
                await self._pause()

    async def _pause(self) -> None:
        if isinstance(self.clock, VirtualClock):
            for _ in range(50):
                await anyio.lowlevel.checkpoint()
            await self.clock.advance(0.01)
        else:
            await self.clock.sleep(0.005)


def _node_ready(node: dict[str, Any]) -> bool:
    """Whether `node` has its podCIDR and a Ready condition that is True."""
    conditions = (node.get("status") or {}).get("conditions") or []
    return bool((node.get("spec") or {}).get("podCIDR")) and any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in conditions
    )
