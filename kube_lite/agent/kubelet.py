"""The node agent (kubelet): one node's pods, run through a container runtime.

    agent = NodeAgent(client, "node-1", FakeRuntime(clock), HostLocalIPAM(state_dir), clock,
                      pod_cidr="10.244.1.0/24")
    async with anyio.create_task_group() as tg:
        await tg.start(agent.run)      # returns once the Node is registered and pods are synced
        ...
        tg.cancel_scope.cancel()       # stops the agent (containers are left as they are)

Like the kubelet, the agent is a client of the API only. It registers its Node and keeps the
node's status and Lease (`node.NodeReporter`); watches its Node until the Node has a podCIDR
(which never changes once set); watches only the pods bound to it (field selector
spec.nodeName=NAME) and runs each in a `PodWorker`, woken by the PLEG (`pleg`: the runtime's
events, or the runtime relisted once a second for the whole node) when its containers change;
writes pod statuses through the `StatusManager`; runs static pods from `manifests_dir` with
their mirror pods (`staticpods`); and optionally serves its HTTPS endpoint (`server`) for
container logs.

A process may run a thousand agents, so an idle agent is small: its periodic work (lease,
node status, status manager, housekeeping, PLEG relist, pod workers' resyncs) is deadlines in
one heap (`timers`), served by the agent's own task, each round a short-lived task; events are
written by a writer task that exists only while events wait. What runs for good is that task
and the pod watch.

Pods with the same full name (name and namespace) never run at once: a pod re-created under
the name of one still terminating starts when the old one has stopped, as the kubelet does.
Housekeeping (every 10 s) removes runtime sandboxes no pod claims any more and mirror pods
whose static pod is gone.
"""

from __future__ import annotations

import contextlib
import ipaddress
import tempfile
from pathlib import Path
from typing import Any

import anyio
import structlog
from anyio.abc import TaskGroup, TaskStatus

from kube_lite.agent import cri
from kube_lite.agent.cni import NetworkPlugin, PodNetworkInfo
from kube_lite.agent.node import NodeReporter, host_capacity, node_labels
from kube_lite.agent.pleg import PodLifecycleEventGenerator
from kube_lite.agent.podworker import PodWorker, PodWorkerContext, PodWorkers, pod_full_name
from kube_lite.agent.server import AgentApp
from kube_lite.agent.staticpods import MirrorPods, StaticPodSource, is_mirror_pod
from kube_lite.agent.statusmanager import StatusManager
from kube_lite.agent.timers import Timers
from kube_lite.client.client import Client
from kube_lite.client.events import EventRecorder
from kube_lite.client.informer import Informer
from kube_lite.clock import Clock, RealClock

log = structlog.get_logger(__name__)

HOUSEKEEPING_SECONDS = 10.0


class NodeAgent:
    """One node's agent; see the module doc.

    `client` acts for the node (any identity allowed to write nodes, leases, pods, pods/status
    and events); `runtime` is a ContainerRuntime, `network` a NetworkPlugin. `labels` are added
    to the standard node labels, `roles` become node-role.kubernetes.io/ROLE labels; `taints`
    are set at registration; `capacity` overrides the machine's (allocatable then equals it for
    the keys given); `address` is the node's InternalIP (127.0.0.1 by default); `pod_cidr`
    becomes node.spec.podCIDR at registration (else the agent waits for someone to set it).
    `manifests_dir` enables static pods. With `serve_https`, the agent serves its endpoint on
    `kubelet_port` (0: any free port) of `address`, with a serving certificate from `pki`
    (written under `root_dir`, a temporary directory when None).
    """

    def __init__(
        self,
        client: Client,
        node_name: str,
        runtime: cri.ContainerRuntime,
        network: NetworkPlugin,
        clock: Clock | None = None,
        *,
        labels: dict[str, str] | None = None,
        roles: tuple[str, ...] | list[str] = (),
        taints: list[dict[str, Any]] | None = None,
        capacity: dict[str, str] | None = None,
        address: str | None = None,
        pod_cidr: str | None = None,
        manifests_dir: str | Path | None = None,
        kubelet_port: int = 10250,
        serve_https: bool = False,
        pki: Any = None,
        root_dir: str | Path | None = None,
        log_root: str | None = None,
        node_status_update_seconds: float = 10.0,
        node_status_report_seconds: float = 300.0,
        manifest_poll_seconds: float = 1.0,
    ) -> None:
        self.client = client
        self.node_name = node_name
        self.runtime = runtime
        self.network = network
        self.clock = clock or RealClock()
        self.address = address or "127.0.0.1"
        self.manifests_dir = Path(manifests_dir) if manifests_dir is not None else None
        self.kubelet_port = kubelet_port
        self.serve_https = serve_https
        self.pki = pki
        self.root_dir = Path(root_dir) if root_dir is not None else None
        self.manifest_poll_seconds = manifest_poll_seconds
        if serve_https and pki is None:
            raise ValueError("serve_https needs the cluster's pki (kube_lite.server.certs.Pki)")

        machine_capacity, machine_allocatable = host_capacity()
        if capacity:
            machine_capacity.update(capacity)
            machine_allocatable.update(capacity)
        self.recorder = EventRecorder(client, "kubelet", node_name, self.clock)
        self.timers = Timers(self.clock)
        self.reporter = NodeReporter(
            client, self.clock, node_name, runtime, network,
            labels=node_labels(node_name, labels, tuple(roles)),
            taints=list(taints or []),
            capacity=machine_capacity,
            allocatable=machine_allocatable,
            address=self.address,
            pod_cidr=pod_cidr,
            update_seconds=node_status_update_seconds,
            report_seconds=node_status_report_seconds,
            recorder=self.recorder,
        )
        self.reporter.wake_status = self._wake_status
        self.pods = Informer(client, "pods", field_selector=f"spec.nodeName={node_name}", clock=self.clock)
        self.status = StatusManager(client, self.clock, self.pods.get)
        self.mirrors = MirrorPods(client, node_name, self.pods.get, self._node_uid)
        self.static_source = (
            StaticPodSource(self.manifests_dir, node_name, self.clock, poll_seconds=manifest_poll_seconds)
            if self.manifests_dir is not None
            else None
        )
        self._ctx = PodWorkerContext(
            client=client,
            runtime=runtime,
            network=network,
            clock=self.clock,
            status=self.status,
            recorder=self.recorder,
            node_name=node_name,
            host_ips=[self.address],
            log_root=log_root or ("/var/log/pods" if self.root_dir is None else str(self.root_dir / "pod-logs")),
            ensure_mirror=self.mirrors.ensure,
            delete_mirror=self.mirrors.delete,
        )
        self.workers: dict[str, PodWorker] = {}  # by pod uid
        self.turns = PodWorkers(self.clock, self._on_worker_finished, self.timers)
        self._ctx.turns = self.turns
        # Workers waiting for an older worker of the same full name to finish, oldest first.
        self._blocked: dict[str, list[PodWorker]] = {}
        self.pleg = PodLifecycleEventGenerator(runtime, self.clock, self._on_runtime_change)
        self._static_uids: set[str] = set()
        self._mirror_keys: set[str] = set()  # "namespace/name" of the mirror pods in the cache
        self._tg: TaskGroup | None = None
        self._lease_job = self.timers.job("node lease", self.reporter.lease_tick)
        self._status_job = self.timers.job("node status", self.reporter.status_tick)
        self._housekeeping_job = self.timers.job("housekeeping", self._housekeeping_tick)
        self._node_watch: anyio.CancelScope | None = None
        self.kubelet_endpoint: tuple[str, int] | None = None
        self._server: Any = None

    # ------------------------------------------------------------------ running

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Run until cancelled. `task_status.started()` once the Node is registered, the
        pods bound to it are listed and (with a manifest directory) the static pods read."""
        async with anyio.create_task_group() as tg:
            self._tg = tg
            self.timers.bind(tg)
            self.recorder.attach(tg)
            try:
                await self._start(tg)
                log.info("node agent running", node=self.node_name)
                task_status.started()
                await self.timers.run()  # this task serves the agent's deadlines from now on
            finally:
                self.recorder.detach()
                self.pleg.stop()

    async def _start(self, tg: TaskGroup) -> None:
        version = await self.runtime.version()
        self._ctx.runtime_name = version.runtime_name
        self.reporter.runtime_version = f"{version.runtime_name}://{version.runtime_version}"
        if self.serve_https:
            self.kubelet_endpoint = await tg.start(self._serve)
            self.reporter.kubelet_port = self.kubelet_endpoint[1]
        else:
            self.reporter.kubelet_port = self.kubelet_port
        await self.reporter.register()
        self._lease_job.schedule(await self.reporter.first_lease())
        self._status_job.schedule(self.reporter.update_seconds)
        if self.reporter.pod_cidr_applied is None:
            tg.start_soon(self._watch_node)
        self.status.start(self.timers)
        await self.pleg.start(self.timers)
        self.turns.bind(tg)
        self.pods.add_handler(self._on_pod_add, self._on_pod_update, self._on_pod_delete)
        tg.start_soon(self.pods.run)
        await self.pods.wait_synced()
        if self.static_source is not None:
            await tg.start(self.static_source.run, self._on_static_pods)
        self._housekeeping_job.schedule(HOUSEKEEPING_SECONDS)

    async def _serve(self, *, task_status: TaskStatus[tuple[str, int]] = anyio.TASK_STATUS_IGNORED) -> None:
        from kube_lite.server import certs, tlsserver

        with contextlib.ExitStack() as stack:
            root = self.root_dir
            if root is None:
                root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kube-lite-agent-")))
            pki_dir = root / "pki"
            hosts = [self.address, "localhost", "127.0.0.1"]
            if _is_dns_name(self.node_name):
                hosts.append(self.node_name)
            credentials = certs.issue_serving_cert(self.pki, f"system:node:{self.node_name}", hosts)
            cert_path, key_path = pki_dir / "kubelet.crt", pki_dir / "kubelet.key"
            pki_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            credentials.write(cert_path, key_path)
            app = AgentApp(self._read_logs)
            server = tlsserver.make_server(
                app, self.address, self.kubelet_port, self.pki,
                ssl_certfile=str(cert_path), ssl_keyfile=str(key_path),
            )
            self._server = server
            async with anyio.create_task_group() as tg:
                addresses = await tg.start(tlsserver.serve, server)
                port = addresses[0][1] if addresses else self.kubelet_port
                task_status.started((self.address, port))

    # ------------------------------------------------------------------ the Node

    async def _watch_node(self) -> None:
        """Watch the Node until it has a podCIDR (the node IPAM controller sets it after the
        registration): the network plugin gets it, and pods waiting for a network start, at
        once. podCIDR never changes once set, so the watch then ends; the status job re-reads
        the Node every `node_status_update_seconds` anyway."""
        nodes = Informer(self.client, "nodes", field_selector=f"metadata.name={self.node_name}", clock=self.clock)
        nodes.add_handler(self._on_node, lambda _old, node: self._on_node(node))
        with anyio.CancelScope() as scope:
            self._node_watch = scope
            if self.reporter.pod_cidr_applied is None:  # else it came meanwhile
                await nodes.run()
        self._node_watch = None

    def _on_node(self, node: dict[str, Any]) -> None:
        if self.reporter.observe_node(node):
            # Pods waiting for a network (no pod CIDR until now) retry at once.
            for worker in self.workers.values():
                worker.wake()
        if self.reporter.pod_cidr_applied is not None and self._node_watch is not None:
            self._node_watch.cancel()

    def _wake_status(self) -> None:
        self._status_job.trigger()

    @property
    def idle(self) -> bool:
        """Nothing queued or in flight: every pod worker is parked until its next periodic
        check, no status waits to be written and no event to be recorded."""
        return (
            all(worker.parked for worker in self.workers.values())
            and self.status.idle
            and self.recorder.pending == 0
        )

    # ------------------------------------------------------------------ pods from the API

    def _on_pod_add(self, pod: dict[str, Any]) -> None:
        if is_mirror_pod(pod):
            self._mirror_keys.add(_pod_key(pod))
            self._on_mirror(pod)
            return
        self._pod_updated(pod)

    def _on_pod_update(self, old: dict[str, Any], pod: dict[str, Any]) -> None:
        self._on_pod_add(pod)

    def _on_pod_delete(self, pod: dict[str, Any]) -> None:
        if is_mirror_pod(pod):
            self._mirror_keys.discard(_pod_key(pod))
            self._on_mirror(pod)
            return
        worker = self.workers.get((pod.get("metadata") or {}).get("uid", ""))
        if worker is not None and not worker.static:
            worker.remove()

    def _pod_updated(self, pod: dict[str, Any]) -> None:
        uid = (pod.get("metadata") or {}).get("uid")
        if not uid:
            return
        worker = self.workers.get(uid)
        if worker is not None:
            if not worker.static:
                worker.update(pod)
            return
        self._start_worker(PodWorker(self._ctx, pod))

    def _on_runtime_change(self, uid: str) -> None:
        """The PLEG saw the pod's sandboxes or containers change: its worker syncs."""
        worker = self.workers.get(uid)
        if worker is not None:
            worker.wake()

    def _on_mirror(self, pod: dict[str, Any]) -> None:
        """A mirror pod changed: its static pod's worker re-checks it."""
        full_name = pod_full_name(pod)
        for worker in self.workers.values():
            if worker.static and worker.full_name == full_name:
                worker.wake()

    # ------------------------------------------------------------------ static pods

    def _on_static_pods(self, pods: dict[str, dict[str, Any]]) -> None:
        for uid in list(self._static_uids):
            if uid not in pods:
                self._static_uids.discard(uid)
                worker = self.workers.get(uid)
                if worker is not None:
                    log.info("static pod removed", pod=worker.full_name)
                    worker.remove()
        for uid, pod in pods.items():
            if uid in self._static_uids:
                continue
            self._static_uids.add(uid)
            log.info("static pod added", pod=pod_full_name(pod))
            self._start_worker(PodWorker(self._ctx, pod, static=True))

    # ------------------------------------------------------------------ workers

    def _start_worker(self, worker: PodWorker) -> None:
        name = worker.full_name
        busy = any(w.full_name == name and not w.finished for w in self.workers.values())
        self.workers[worker.uid] = worker
        if busy:
            self._blocked.setdefault(name, []).append(worker)  # started by _on_worker_finished
        else:
            self.turns.start(worker)

    def _on_worker_finished(self, worker: PodWorker) -> None:
        if self.workers.get(worker.uid) is worker:
            del self.workers[worker.uid]
        name = worker.full_name
        blocked = self._blocked.get(name)
        if blocked and not any(w.full_name == name and w.started and not w.finished for w in self.workers.values()):
            successor = blocked.pop(0)
            if not blocked:
                del self._blocked[name]
            self.turns.start(successor)

    def worker_for(self, namespace: str, name: str) -> PodWorker | None:
        """The live worker of pod namespace/name (the newest, if two share the name)."""
        found = [w for w in self.workers.values() if w.namespace == namespace and w.name == name]
        return found[-1] if found else None

    # ------------------------------------------------------------------ housekeeping

    async def _housekeeping_tick(self) -> float:
        try:
            await self.housekeeping()
        except Exception:  # noqa: BLE001 - retried on the next round
            log.exception("housekeeping failed")
        return HOUSEKEEPING_SECONDS

    async def housekeeping(self) -> None:
        """Remove sandboxes of pods no worker runs, and mirror pods with no static pod."""
        # The PLEG knows which pods the runtime has: with nothing unclaimed, nothing to list.
        if not self.pleg.runtime_pods().keys() - self.workers.keys():
            sandboxes = []
        else:
            sandboxes = await self.runtime.list_pod_sandboxes()
        for sandbox in sandboxes:
            uid = sandbox.labels.get(cri.POD_UID_LABEL)
            if uid is None or uid in self.workers:
                continue
            log.info("removing orphaned sandbox", sandbox=sandbox.id, pod_uid=uid)
            if sandbox.state == cri.SandboxState.READY:
                status = await self.runtime.pod_sandbox_status(sandbox.id)
                meta = sandbox.metadata
                with contextlib.suppress(Exception):
                    await self.network.delete(sandbox.id, status.netns, "eth0",
                                              PodNetworkInfo(meta.namespace, meta.name, meta.uid))
            await self.runtime.remove_pod_sandbox(sandbox.id)
        if self.static_source is None or self.static_source.loaded:
            static_names = {w.full_name for w in self.workers.values() if w.static}
            for key in list(self._mirror_keys):
                pod = self.pods.get(key)
                if pod is not None and is_mirror_pod(pod) and pod_full_name(pod) not in static_names:
                    await self.mirrors.delete_orphan(pod)

    # ------------------------------------------------------------------ logs

    async def container_logs(self, namespace: str, pod: str, container: str, *, previous: bool = False,
                             tail_lines: int | None = None) -> list[str] | None:
        """The log lines of a container of a pod this agent runs (its previous instance with
        `previous`), or None when there is no such pod, container or instance."""
        worker = self.worker_for(namespace, pod)
        if worker is None:
            return None
        container_id = await worker.container_id(container, previous=previous)
        if container_id is None:
            return None
        try:
            return await self.runtime.container_logs(container_id, tail_lines=tail_lines)
        except cri.NotFoundError:
            return None

    async def _read_logs(self, namespace: str, pod: str, container: str, previous: bool,
                         tail_lines: int | None) -> list[str] | None:
        return await self.container_logs(namespace, pod, container, previous=previous, tail_lines=tail_lines)

    # ------------------------------------------------------------------ helpers

    def _node_uid(self) -> str | None:
        return self.reporter.node_uid

    @property
    def node(self) -> dict[str, Any] | None:
        """The Node as last read or written."""
        return self.reporter.node


def _pod_key(pod: dict[str, Any]) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace') or 'default'}/{meta.get('name')}"


def _is_dns_name(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return False
    except ValueError:
        pass
    return all(part and len(part) <= 63 and part.replace("-", "").isalnum() for part in name.split("."))
