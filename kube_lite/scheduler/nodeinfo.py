"""NodeInfo: one node with the sum of what its pods request, kept incrementally.

The scheduler cache holds one NodeInfo per node and adds and removes pods as they are assumed,
bound and deleted, so a filter asks "does it fit" with a few integer comparisons instead of
summing the node's pods. Preemption works on `clone()`s.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from kube_lite.scheduler.podinfo import (
    CPU,
    EPHEMERAL_STORAGE,
    MEMORY,
    PODS,
    PodInfo,
    Resources,
    resource_list,
)

_generations = itertools.count(1)

WILDCARD_IP = "0.0.0.0"


def _taints(spec: Mapping[str, Any]) -> tuple[tuple[dict[str, Any], ...], tuple[dict[str, Any], ...]]:
    hard = []
    soft = []
    for taint in spec.get("taints") or ():
        effect = taint.get("effect")
        if effect in ("NoSchedule", "NoExecute"):
            hard.append(taint)
        elif effect == "PreferNoSchedule":
            soft.append(taint)
    return tuple(hard), tuple(soft)


class NodeInfo:
    """A node and the pods placed on it (bound, assumed or nominated-in-a-clone).

    `node` is None for a placeholder: pods arrived naming a node the cache has not seen yet;
    such a NodeInfo is kept out of the node list until its node comes.
    """

    __slots__ = (
        "name", "node", "labels", "generation", "allocatable", "allowed_pods", "requested",
        "nonzero_cpu", "nonzero_memory", "pods", "used_ports", "hard_taints", "soft_taints",
        "unschedulable", "images", "pods_with_affinity", "pods_with_required_anti_affinity", "memo",
        "free_cpu", "free_memory", "free_pods", "memo_key", "memo_score",
    )

    def __init__(self, name: str, node: dict[str, Any] | None = None) -> None:
        self.name = name
        self.node: dict[str, Any] | None = None
        self.labels: dict[str, str] = {}
        self.generation = next(_generations)
        self.allocatable = Resources()
        self.allowed_pods = 0
        self.requested = Resources()
        self.nonzero_cpu = 0
        self.nonzero_memory = 0
        self.pods: dict[str, PodInfo] = {}
        self.used_ports: dict[tuple[str, int], dict[str, int]] = {}
        self.hard_taints: tuple[dict[str, Any], ...] = ()
        self.soft_taints: tuple[dict[str, Any], ...] = ()
        self.unschedulable = False
        self.images: dict[str, int] = {}
        self.pods_with_affinity = 0
        self.pods_with_required_anti_affinity = 0
        # Node-local scores computed for this version of the node, by score key (the framework
        # memoizes them: most nodes do not change between two cycles). Replaced on any change.
        self.memo: dict[int, int] = {}
        self.memo_key = -1  # the last memoized key and its score: one comparison per node
        self.memo_score = 0
        # allocatable - requested, kept for the filter's tight loop.
        self.free_cpu = 0
        self.free_memory = 0
        self.free_pods = 0
        if node is not None:
            self.set_node(node)

    # ------------------------------------------------------------------ node

    def set_node(self, node: dict[str, Any]) -> None:
        """Take a (new version of the) Node object; the pods stay."""
        self.node = node
        meta = node.get("metadata") or {}
        spec = node.get("spec") or {}
        status = node.get("status") or {}
        self.labels = meta.get("labels") or {}
        # kubelet reports allocatable; a hand-made node may give capacity only.
        amounts = resource_list(status.get("allocatable") or status.get("capacity"))
        self.allocatable = Resources.of(amounts)
        self.allowed_pods = amounts.get(PODS, 0)
        self.hard_taints, self.soft_taints = _taints(spec)
        self.unschedulable = bool(spec.get("unschedulable"))
        images: dict[str, int] = {}
        for image in status.get("images") or ():
            size = int(image.get("sizeBytes") or 0)
            for name in image.get("names") or ():
                images[name] = size
        self.images = images
        self.generation = next(_generations)
        self.memo = {}
        self.memo_key = -1
        self._refresh_free()

    # ------------------------------------------------------------------ pods

    @property
    def num_pods(self) -> int:
        return len(self.pods)

    def add_pod(self, pod: PodInfo) -> None:
        """Count `pod` on this node (its key must not be here yet)."""
        self.pods[pod.key] = pod
        self._account(pod, 1)

    def remove_pod(self, key: str) -> PodInfo | None:
        """Stop counting the pod under `key`; returns it, or None if it was not here."""
        pod = self.pods.pop(key, None)
        if pod is not None:
            self._account(pod, -1)
        return pod

    def _account(self, pod: PodInfo, sign: int) -> None:
        req = pod.requests
        mine = self.requested
        mine.cpu += sign * req.cpu
        mine.memory += sign * req.memory
        mine.ephemeral += sign * req.ephemeral
        if req.scalars:
            for name, value in req.scalars.items():
                mine.scalars[name] = mine.scalars.get(name, 0) + sign * value
        self.nonzero_cpu += sign * pod.nonzero_cpu
        self.nonzero_memory += sign * pod.nonzero_memory
        for ip, protocol, port in pod.host_ports:
            ips = self.used_ports.setdefault((protocol, port), {})
            count = ips.get(ip, 0) + sign
            if count > 0:
                ips[ip] = count
            else:
                ips.pop(ip, None)
                if not ips:
                    del self.used_ports[(protocol, port)]
        if pod.required_affinity or pod.required_anti_affinity or pod.preferred_affinity or pod.preferred_anti_affinity:
            self.pods_with_affinity += sign
        if pod.required_anti_affinity:
            self.pods_with_required_anti_affinity += sign
        self.generation = next(_generations)
        self.memo = {}
        self.memo_key = -1
        self._refresh_free()

    def _refresh_free(self) -> None:
        self.free_cpu = self.allocatable.cpu - self.requested.cpu
        self.free_memory = self.allocatable.memory - self.requested.memory
        self.free_pods = self.allowed_pods - len(self.pods)

    def port_conflicts(self, ip: str, protocol: str, port: int) -> bool:
        """Whether hostPort `port`/`protocol` on `ip` collides with a port in use here
        (0.0.0.0 collides with every address and every address with 0.0.0.0)."""
        ips = self.used_ports.get((protocol, port))
        if not ips:
            return False
        if ip == WILDCARD_IP:
            return True
        return ip in ips or WILDCARD_IP in ips

    def clone(self) -> NodeInfo:
        """A copy whose pods can be added and removed without touching this one."""
        other = NodeInfo.__new__(NodeInfo)
        other.name = self.name
        other.node = self.node
        other.labels = self.labels
        other.generation = self.generation
        other.allocatable = self.allocatable
        other.allowed_pods = self.allowed_pods
        other.requested = self.requested.copy()
        other.nonzero_cpu = self.nonzero_cpu
        other.nonzero_memory = self.nonzero_memory
        other.pods = dict(self.pods)
        other.used_ports = {k: dict(v) for k, v in self.used_ports.items()}
        other.hard_taints = self.hard_taints
        other.soft_taints = self.soft_taints
        other.unschedulable = self.unschedulable
        other.images = self.images
        other.pods_with_affinity = self.pods_with_affinity
        other.pods_with_required_anti_affinity = self.pods_with_required_anti_affinity
        other.memo = {}
        other.memo_key = -1
        other.memo_score = 0
        other.free_cpu = self.free_cpu
        other.free_memory = self.free_memory
        other.free_pods = self.free_pods
        return other

    def __repr__(self) -> str:
        return f"NodeInfo({self.name}, pods={len(self.pods)}, requested={self.requested})"


def allocatable_amount(node: NodeInfo, resource: str) -> int:
    """The node's allocatable `resource` (cpu in millicores)."""
    if resource == CPU:
        return node.allocatable.cpu
    if resource == MEMORY:
        return node.allocatable.memory
    if resource == EPHEMERAL_STORAGE:
        return node.allocatable.ephemeral
    if resource == PODS:
        return node.allowed_pods
    return node.allocatable.scalars.get(resource, 0)
