"""The agent's Node: registration, status (conditions with heartbeats) and the node Lease.

As the kubelet does it:

* Registration creates the Node with its labels (kubernetes.io/hostname, kubernetes.io/os,
  kubernetes.io/arch and their beta.kubernetes.io twins, node-role.kubernetes.io/ROLE), taints,
  podCIDR when the agent was given one, and a full status. A Node that exists already (an agent
  restart) is kept: its labels are brought up to date, its spec is left alone.
* Every `update_seconds` (10 s) the agent computes its NodeStatus (capacity and allocatable,
  conditions Ready, MemoryPressure, DiskPressure, PIDPressure, addresses InternalIP and
  Hostname, daemonEndpoints, nodeInfo, images) and posts it when something other than the
  heartbeats changed, or when `report_seconds` (5 min) passed since the last post. It also
  re-reads node.spec.podCIDR and hands it to the network plugin.
* The Lease kube-node-lease/NODE (holder NODE, 40 s, owned by the Node) is renewed every 10 s;
  the node lifecycle controller reads it as the node's heartbeat.

The agent runs `lease_tick` and `status_tick` as jobs of its timers (`timers.Job`): each does
one round and returns the seconds until the next.

Ready is True when the runtime reports RuntimeReady and the network plugin is ready (a
host-local IPAM needs its pod CIDR); otherwise False with reason KubeletNotReady and the
kubelet's wording of what is wrong.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import uuid
from collections.abc import Callable
from typing import Any

import msgspec
import structlog

from kube_lite.agent import cri
from kube_lite.agent.cni import NetworkPlugin
from kube_lite.api.errors import APIError
from kube_lite.client.client import Client
from kube_lite.client.events import NORMAL, EventRecorder
from kube_lite.clock import Clock

log = structlog.get_logger(__name__)

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode

KUBELET_VERSION = "v1.37.1"
NODE_LEASE_NAMESPACE = "kube-node-lease"
LEASE_DURATION_SECONDS = 40
DEFAULT_MAX_PODS = 110
# Hard eviction thresholds the kubelet subtracts from capacity for allocatable.
EVICTION_MEMORY_KI = 100 * 1024
EVICTION_NODEFS_FRACTION = 0.10

_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm",
         "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}


def go_arch() -> str:
    """The machine's architecture as Go names it (GOARCH)."""
    machine = platform.machine().lower()
    return _ARCH.get(machine, machine or "amd64")


def micro_time(clock: Clock) -> str:
    return clock.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rfc3339(clock: Clock) -> str:
    return clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")


def _memory_ki() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 8 * 1024 * 1024


def host_capacity(root: str = "/") -> tuple[dict[str, str], dict[str, str]]:
    """(capacity, allocatable) of this machine, as the kubelet reports them: cpu, memory,
    ephemeral-storage, hugepages and pods (110); allocatable less the hard eviction thresholds
    (memory 100Mi, 10% of the node filesystem)."""
    cpus = os.cpu_count() or 1
    memory = _memory_ki()
    try:
        disk = shutil.disk_usage(root).total
    except OSError:
        disk = 100 * 1024**3
    capacity = {
        "cpu": str(cpus),
        "ephemeral-storage": f"{disk // 1024}Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": f"{memory}Ki",
        "pods": str(DEFAULT_MAX_PODS),
    }
    allocatable = dict(capacity)
    allocatable["memory"] = f"{max(memory - EVICTION_MEMORY_KI, 0)}Ki"
    allocatable["ephemeral-storage"] = str(int(disk * (1 - EVICTION_NODEFS_FRACTION)))
    return capacity, allocatable


def node_labels(node_name: str, extra: dict[str, str] | None = None, roles: tuple[str, ...] = ()) -> dict[str, str]:
    arch = go_arch()
    labels = {
        "beta.kubernetes.io/arch": arch,
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": arch,
        "kubernetes.io/hostname": node_name,
        "kubernetes.io/os": "linux",
    }
    for role in roles:
        labels[f"node-role.kubernetes.io/{role}"] = ""
    labels.update(extra or {})
    return labels


def _condition(type_: str, ok: bool, reason: str, message: str, old: dict[str, dict[str, Any]], now: str) -> dict[str, Any]:
    status = "True" if ok else "False"
    previous = old.get(type_)
    transition = previous.get("lastTransitionTime") if previous and previous.get("status") == status else None
    return {
        "type": type_,
        "status": status,
        "lastHeartbeatTime": now,
        "lastTransitionTime": transition or now,
        "reason": reason,
        "message": message,
    }


def node_conditions(old: list[dict[str, Any]] | None, ready: bool, not_ready_message: str, now: str) -> list[dict[str, Any]]:
    """The four conditions the agent reports, lastTransitionTime kept while a status holds."""
    previous = {c.get("type"): c for c in old or [] if isinstance(c, dict)}
    return [
        _condition("MemoryPressure", False, "KubeletHasSufficientMemory", "kubelet has sufficient memory available",
                   previous, now),
        _condition("DiskPressure", False, "KubeletHasNoDiskPressure", "kubelet has no disk pressure", previous, now),
        _condition("PIDPressure", False, "KubeletHasSufficientPID", "kubelet has sufficient PID available",
                   previous, now),
        _condition("Ready", True, "KubeletReady", "kubelet is posting ready status", previous, now)
        if ready
        else _condition("Ready", False, "KubeletNotReady", not_ready_message, previous, now),
    ]


def _without_heartbeats(status: dict[str, Any]) -> dict[str, Any]:
    out = dict(status)
    out["conditions"] = [{k: v for k, v in c.items() if k != "lastHeartbeatTime"} for c in status.get("conditions") or []]
    return out


class NodeReporter:
    """Registers the Node, keeps its status and its Lease; see the module doc."""

    def __init__(
        self,
        client: Client,
        clock: Clock,
        node_name: str,
        runtime: cri.ContainerRuntime,
        network: NetworkPlugin,
        *,
        labels: dict[str, str],
        taints: list[dict[str, Any]],
        capacity: dict[str, str],
        allocatable: dict[str, str],
        address: str,
        pod_cidr: str | None = None,
        update_seconds: float = 10.0,
        report_seconds: float = 300.0,
        lease_duration_seconds: int = LEASE_DURATION_SECONDS,
        recorder: EventRecorder | None = None,
    ) -> None:
        self.client = client
        self.clock = clock
        self.node_name = node_name
        self.runtime = runtime
        self.network = network
        self.labels = labels
        self.taints = taints
        self.capacity = capacity
        self.allocatable = allocatable
        self.address = address
        self.pod_cidr = pod_cidr
        self.update_seconds = update_seconds
        self.report_seconds = report_seconds
        self.lease_duration_seconds = lease_duration_seconds
        self.recorder = recorder
        self.kubelet_port = 0
        self.runtime_version = "fake://0.1"
        # A thousand agents may share a process: what the reporter keeps between rounds is kept
        # as JSON bytes (the Node, the Lease, what was posted), decoded when needed.
        self._node: bytes | None = None
        self.node_uid: str | None = None
        self._last_posted: bytes | None = None  # the status last posted, without heartbeats
        self._last_post_at = 0.0
        self._lease: bytes | None = None
        self.lease_renewals = 0
        self.status_posts = 0
        # Called when the status should be posted soon (the agent triggers its status job).
        self.wake_status: Callable[[], None] | None = None
        self._pod_cidr_applied: str | None = None
        self._boot_id = str(uuid.uuid4())
        self._machine_id = _machine_id()
        self._os_image = _os_image()
        self._kernel = platform.uname().release

    # ------------------------------------------------------------------ node object

    def _node_info(self) -> dict[str, Any]:
        return {
            "architecture": go_arch(),
            "bootID": self._boot_id,
            "containerRuntimeVersion": self.runtime_version,
            "kernelVersion": self._kernel,
            # Deprecated and empty, but always on the wire (no omitempty): clients require it.
            "kubeProxyVersion": "",
            "kubeletVersion": KUBELET_VERSION,
            "machineID": self._machine_id,
            "operatingSystem": "linux",
            "osImage": self._os_image,
            "systemUUID": self._machine_id,
        }

    async def _readiness(self) -> tuple[bool, str]:
        problems = []
        try:
            runtime_ready, why = (await self.runtime.status()).ready()
        except Exception as exc:  # noqa: BLE001 - a failing runtime makes the node NotReady
            runtime_ready, why = False, str(exc)
        if not runtime_ready:
            problems.append(f"container runtime status check may not have completed yet: {why}")
        network = self.network.status()
        if not network.ready:
            problems.append(
                "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
                f"message:Network plugin returns error: {network.message}"
            )
        return not problems, "; ".join(problems)

    async def build_status(self, old: dict[str, Any] | None) -> dict[str, Any]:
        ready, message = await self._readiness()
        now = rfc3339(self.clock)
        images = []
        try:
            for image in await self.runtime.list_images():
                names = [*image.repo_digests, *image.repo_tags]
                if names:
                    images.append({"names": names, "sizeBytes": image.size})
        except Exception as exc:  # noqa: BLE001 - images are informative only
            log.warning("listing images failed", error=str(exc))
        return {
            "capacity": dict(self.capacity),
            "allocatable": dict(self.allocatable),
            "conditions": node_conditions((old or {}).get("conditions"), ready, message, now),
            "addresses": [{"type": "InternalIP", "address": self.address}, {"type": "Hostname", "address": self.node_name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": self.kubelet_port}},
            "nodeInfo": self._node_info(),
            "images": images,
        }

    def node_object(self) -> dict[str, Any]:
        spec: dict[str, Any] = {}
        if self.taints:
            spec["taints"] = [dict(t) for t in self.taints]
        if self.pod_cidr:
            spec["podCIDR"] = self.pod_cidr
            spec["podCIDRs"] = [self.pod_cidr]
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": self.node_name,
                "labels": dict(self.labels),
                "annotations": {
                    "node.alpha.kubernetes.io/ttl": "0",
                    "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                },
            },
            "spec": spec,
        }

    # ------------------------------------------------------------------ registration

    async def register(self) -> dict[str, Any]:
        """Create (or adopt) the Node and post its first status. Retries until it succeeds,
        backing off on the clock."""
        delay = 0.5
        while True:
            try:
                try:
                    node = await self.client.create("nodes", self.node_object())
                    log.info("node registered", node=self.node_name)
                except APIError as exc:
                    if exc.code != 409:
                        raise
                    node = await self.client.get("nodes", self.node_name)
                    labels = node.get("metadata", {}).get("labels") or {}
                    if any(labels.get(k) != v for k, v in self.labels.items()):
                        node = await self.client.patch("nodes", self.node_name, {"metadata": {"labels": self.labels}})
                    log.info("node already registered; adopting it", node=self.node_name)
                self.node = node
                self._event("Starting", "Starting kubelet.")
                self._apply_pod_cidr(node)
                # The Node was just written: no need to read it back before the first status.
                await self.sync_status(force=True, node=node)
                return self.node or node
            except APIError as exc:
                log.warning("node registration failed; retrying", error=exc.message, retry_in=delay)
            except Exception as exc:  # noqa: BLE001 - e.g. the API server not up yet
                log.warning("node registration failed; retrying", error=repr(exc), retry_in=delay)
            await self.clock.sleep(delay)
            delay = min(delay * 2, 7.0)

    def _apply_pod_cidr(self, node: dict[str, Any]) -> bool:
        """Hand node.spec.podCIDR to the network plugin; True when it is new."""
        cidr = (node.get("spec") or {}).get("podCIDR")
        if not cidr or cidr == self._pod_cidr_applied:
            return False
        try:
            self.network.update_pod_cidr(cidr)
        except Exception as exc:  # noqa: BLE001 - a bad CIDR leaves the node NotReady
            log.warning("network plugin refused the pod CIDR", cidr=cidr, error=str(exc))
            return False
        self._pod_cidr_applied = cidr
        log.info("pod CIDR updated", cidr=cidr)
        return True

    def observe_node(self, node: dict[str, Any]) -> bool:
        """The Node as a watch delivered it: a new podCIDR is applied at once and the status
        re-posted soon (Ready may change). True when the podCIDR is new."""
        if not self._apply_pod_cidr(node):
            return False
        if self.wake_status is not None:
            self.wake_status()
        return True

    @property
    def node(self) -> dict[str, Any] | None:
        """The Node as last read or written (a fresh dict), None before the registration."""
        return _decode(self._node) if self._node is not None else None

    @node.setter
    def node(self, node: dict[str, Any] | None) -> None:
        self._node = _encode(node) if node is not None else None
        if node is not None:
            self.node_uid = (node.get("metadata") or {}).get("uid") or self.node_uid

    @property
    def pod_cidr_applied(self) -> str | None:
        """The podCIDR handed to the network plugin, if any yet."""
        return self._pod_cidr_applied

    # ------------------------------------------------------------------ status

    async def sync_status(self, *, force: bool = False, node: dict[str, Any] | None = None) -> bool:
        """Re-read the Node (unless `node` is it, as just written), compute the status, post it
        when it changed or is due. Returns whether it posted."""
        if node is None:
            node = await self.client.get("nodes", self.node_name)
        self._apply_pod_cidr(node)
        status = await self.build_status(node.get("status"))
        due = self.clock.monotonic() - self._last_post_at >= self.report_seconds
        posted = _encode(_without_heartbeats(status))
        if posted == self._last_posted and not due and not force:
            self.node = node
            return False
        before = _ready_status((node.get("status") or {}).get("conditions"))
        self.node = await self.client.patch("nodes", self.node_name, {"status": status}, subresource="status")
        after = _ready_status(status["conditions"])
        if after != before:
            verdict = "NodeReady" if after == "True" else "NodeNotReady"
            self._event(verdict, f"Node {self.node_name} status is now: {verdict}")
        self._last_posted = posted
        self._last_post_at = self.clock.monotonic()
        self.status_posts += 1
        return True

    async def status_tick(self) -> float:
        """One round of the status loop (`sync_status`; a deleted Node is registered again).
        Returns the seconds until the next round: `update_seconds`."""
        try:
            await self.sync_status()
        except APIError as exc:
            if exc.code == 404:
                log.warning("node object deleted; registering again", node=self.node_name)
                await self.register()
            else:
                log.warning("node status update failed", error=exc.message)
        except Exception as exc:  # noqa: BLE001 - retried on the next tick
            log.warning("node status update failed", error=repr(exc))
        return self.update_seconds

    def _event(self, reason: str, message: str) -> None:
        if self.recorder is not None and self._node is not None:
            self.recorder.event(
                {"apiVersion": "v1", "kind": "Node", "metadata": {"name": self.node_name, "uid": self.node_name}},
                NORMAL, reason, message,
            )

    # ------------------------------------------------------------------ lease

    def _lease_spec(self, lease: dict[str, Any] | None) -> dict[str, Any]:
        spec = dict((lease or {}).get("spec") or {})
        spec["holderIdentity"] = self.node_name
        spec["leaseDurationSeconds"] = self.lease_duration_seconds
        spec["renewTime"] = micro_time(self.clock)
        return spec

    async def renew_lease(self) -> None:
        """Create or renew the node's Lease (one attempt; raises APIError on failure)."""
        if self._lease is None and self.lease_renewals == 0:
            # A first start has no Lease yet: create it in one round trip (an agent restart
            # finds it taken, 409, and reads it as below).
            with contextlib.suppress(APIError):
                self._lease = _encode(await self.client.create(
                    "leases", self._new_lease(), namespace=NODE_LEASE_NAMESPACE,
                ))
                self.lease_renewals += 1
                return
        if self._lease is None:
            try:
                self._lease = _encode(await self.client.get("leases", self.node_name, namespace=NODE_LEASE_NAMESPACE))
            except APIError as exc:
                if exc.code != 404:
                    raise
                self._lease = _encode(
                    await self.client.create("leases", self._new_lease(), namespace=NODE_LEASE_NAMESPACE)
                )
                self.lease_renewals += 1
                return
        lease = _decode(self._lease)
        lease["spec"] = self._lease_spec(lease)
        try:
            self._lease = _encode(await self.client.update("leases", lease, namespace=NODE_LEASE_NAMESPACE))
            self.lease_renewals += 1
        except APIError as exc:
            self._lease = None  # re-read (409) or re-create (404) next time
            if exc.code in (404, 409):
                await self.renew_lease()
            else:
                raise

    def _new_lease(self) -> dict[str, Any]:
        node_uid = self.node_uid
        metadata: dict[str, Any] = {"name": self.node_name, "namespace": NODE_LEASE_NAMESPACE}
        if node_uid:
            metadata["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node", "name": self.node_name, "uid": node_uid}]
        return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata,
                "spec": self._lease_spec(None)}

    @property
    def lease_interval(self) -> float:
        """How often the Lease is renewed: a quarter of its duration (10 s), as the kubelet does."""
        return self.lease_duration_seconds * 0.25

    async def lease_tick(self) -> float:
        """One renewal attempt. Returns the seconds until the next: `lease_interval`, or at
        most a second after a failure."""
        try:
            await self.renew_lease()
        except Exception as exc:  # noqa: BLE001 - retried sooner than the next interval
            log.warning("node lease renewal failed", error=repr(exc))
            return min(self.lease_interval, 1.0)
        return self.lease_interval

    async def first_lease(self) -> float:
        """Renew (create) the Lease, retrying until it succeeds; the seconds until the next."""
        while True:
            before = self.lease_renewals
            delay = await self.lease_tick()
            if self.lease_renewals > before:
                return delay
            await self.clock.sleep(delay)


def _ready_status(conditions: list[dict[str, Any]] | None) -> str | None:
    for c in conditions or []:
        if c.get("type") == "Ready":
            return c.get("status")
    return None


def _machine_id() -> str:
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            with open(path) as f:
                value = f.read().strip()
            if value:
                return value
        except OSError:
            continue
    return ""


def _os_image() -> str:
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "Linux"
