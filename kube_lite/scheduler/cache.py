"""The scheduler's cache: every node with its pods, updated incrementally, and the snapshot
plugins read.

Nodes and bound pods come from the informers. A pod the scheduler has just placed is *assumed*:
it counts on its node at once, so the next cycle does not place another pod in the same room,
before the binding reaches the API server. It is *confirmed* when the bound pod comes back from
the watch, *forgotten* at once when the binding fails, and expired `assume_ttl` seconds after a
binding that succeeded but whose pod never showed up (a watch that lost it).

The scheduling cycle runs synchronously between two awaits, so the cache cannot change during a
cycle and is itself the snapshot: plugins get it (read-only) as `snapshot`. The node list is
ordered as Kubernetes' node tree orders it: round-robin over zones, in the order nodes were added,
so that a partial search (percentageOfNodesToScore) spreads over zones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kube_lite.scheduler.nodeinfo import NodeInfo
from kube_lite.scheduler.podinfo import PodInfo

ZONE_LABEL = "topology.kubernetes.io/zone"
REGION_LABEL = "topology.kubernetes.io/region"
BETA_ZONE_LABEL = "failure-domain.beta.kubernetes.io/zone"
BETA_REGION_LABEL = "failure-domain.beta.kubernetes.io/region"

DEFAULT_ASSUME_TTL = 30.0


def zone_key(labels: Mapping[str, str]) -> str:
    """The node tree's zone of a node: region and zone ("" when it has neither)."""
    zone = labels.get(ZONE_LABEL) or labels.get(BETA_ZONE_LABEL) or ""
    region = labels.get(REGION_LABEL) or labels.get(BETA_REGION_LABEL) or ""
    if not zone and not region:
        return ""
    return f"{region}:\x00:{zone}"


@dataclass(slots=True)
class _PodState:
    info: PodInfo
    node_name: str
    assumed: bool
    deadline: float | None = None  # set when an assumed pod's binding has finished


class SchedulerCache:
    """Nodes, pods on them, assumed pods; see the module doc."""

    def __init__(self, assume_ttl: float = DEFAULT_ASSUME_TTL) -> None:
        self.assume_ttl = assume_ttl
        self._nodes: dict[str, NodeInfo] = {}
        self._zones: dict[str, list[str]] = {}
        self._node_zone: dict[str, str] = {}
        self._list: list[NodeInfo] | None = []
        self._pods: dict[str, _PodState] = {}
        self.namespace_labels: dict[str, dict[str, str]] = {}
        self.image_nodes: dict[str, int] = {}  # image name -> number of nodes that have it
        # Counters that let plugins skip work no node or pod calls for.
        self.unschedulable_nodes = 0
        self.hard_tainted_nodes = 0
        self.soft_tainted_nodes = 0
        self.pods_with_affinity = 0
        self.pods_with_required_anti_affinity = 0

    @classmethod
    def from_objects(cls, nodes: Iterable[dict[str, Any]] = (), pods: Iterable[dict[str, Any] | PodInfo] = (),
                     namespaces: Mapping[str, Mapping[str, str]] | None = None) -> SchedulerCache:
        """A cache holding these nodes and bound pods: a snapshot for tests of pure plugins."""
        cache = cls()
        for node in nodes:
            cache.add_node(node)
        for pod in pods:
            cache.add_pod(pod if isinstance(pod, PodInfo) else PodInfo.of(pod))
        for name, labels in (namespaces or {}).items():
            cache.namespace_labels[name] = dict(labels)
        return cache

    # ------------------------------------------------------------------ snapshot reads

    @property
    def node_list(self) -> list[NodeInfo]:
        """The nodes (with a Node object) in node-tree order. Read-only."""
        if self._list is None:
            zones = [names for names in self._zones.values() if names]
            out: list[NodeInfo] = []
            if len(zones) == 1:
                out = [self._nodes[n] for n in zones[0]]
            else:
                depth = max((len(z) for z in zones), default=0)
                for i in range(depth):
                    for names in zones:
                        if i < len(names):
                            out.append(self._nodes[names[i]])
            self._list = out
        return self._list

    @property
    def num_nodes(self) -> int:
        return len(self._node_zone)

    def get(self, name: str) -> NodeInfo | None:
        """The NodeInfo of node `name` if the node is known (placeholders excluded)."""
        info = self._nodes.get(name)
        return info if info is not None and info.node is not None else None

    def nodes_with_affinity_pods(self) -> list[NodeInfo]:
        """Nodes holding at least one pod with a pod (anti-)affinity term."""
        if not self.pods_with_affinity:
            return []
        return [n for n in self.node_list if n.pods_with_affinity]

    def nodes_with_required_anti_affinity_pods(self) -> list[NodeInfo]:
        """Nodes holding at least one pod with a required anti-affinity term."""
        if not self.pods_with_required_anti_affinity:
            return []
        return [n for n in self.node_list if n.pods_with_required_anti_affinity]

    def pod(self, key: str) -> PodInfo | None:
        """The cached (bound or assumed) pod under `key`."""
        state = self._pods.get(key)
        return state.info if state is not None else None

    def pod_node(self, key: str) -> str | None:
        state = self._pods.get(key)
        return state.node_name if state is not None else None

    def is_assumed(self, key: str) -> bool:
        state = self._pods.get(key)
        return state is not None and state.assumed

    @property
    def num_pods(self) -> int:
        return len(self._pods)

    def all_pods(self) -> list[PodInfo]:
        return [state.info for state in self._pods.values()]

    # ------------------------------------------------------------------ nodes

    def add_node(self, node: dict[str, Any]) -> NodeInfo:
        """Add or update a Node object; returns its NodeInfo."""
        name = (node.get("metadata") or {}).get("name") or ""
        info = self._nodes.get(name)
        if info is None:
            info = NodeInfo(name)
            self._nodes[name] = info
        else:
            self._count_node(info, -1)
        info.set_node(node)
        self._count_node(info, 1)
        zone = zone_key(info.labels)
        old_zone = self._node_zone.get(name)
        if old_zone != zone:
            if old_zone is not None:
                self._zones[old_zone].remove(name)
                if not self._zones[old_zone]:
                    del self._zones[old_zone]
            self._zones.setdefault(zone, []).append(name)
            self._node_zone[name] = zone
            self._list = None
        return info

    update_node = add_node

    def remove_node(self, name: str) -> None:
        """Forget a node. Its pods stay (in a placeholder) until they are deleted, as in
        Kubernetes, so that a node coming back finds them."""
        info = self._nodes.get(name)
        if info is None or info.node is None:
            return
        self._count_node(info, -1)
        zone = self._node_zone.pop(name)
        self._zones[zone].remove(name)
        if not self._zones[zone]:
            del self._zones[zone]
        self._list = None
        if info.pods:
            info.node = None
            info.labels = {}
        else:
            del self._nodes[name]

    def _count_node(self, info: NodeInfo, sign: int) -> None:
        if info.node is None:
            return
        if info.unschedulable:
            self.unschedulable_nodes += sign
        if info.hard_taints:
            self.hard_tainted_nodes += sign
        if info.soft_taints:
            self.soft_tainted_nodes += sign
        for image in info.images:
            count = self.image_nodes.get(image, 0) + sign
            if count > 0:
                self.image_nodes[image] = count
            else:
                self.image_nodes.pop(image, None)

    def _node_for(self, name: str) -> NodeInfo:
        info = self._nodes.get(name)
        if info is None:
            info = NodeInfo(name)  # a placeholder until the node arrives
            self._nodes[name] = info
        return info

    # ------------------------------------------------------------------ pods

    def _place(self, info: PodInfo, node_name: str) -> None:
        self._node_for(node_name).add_pod(info)
        if info.required_affinity or info.required_anti_affinity or info.preferred_affinity or info.preferred_anti_affinity:
            self.pods_with_affinity += 1
        if info.required_anti_affinity:
            self.pods_with_required_anti_affinity += 1

    def _unplace(self, key: str, node_name: str) -> PodInfo | None:
        node = self._nodes.get(node_name)
        if node is None:
            return None
        info = node.remove_pod(key)
        if info is not None:
            if info.required_affinity or info.required_anti_affinity or info.preferred_affinity or info.preferred_anti_affinity:
                self.pods_with_affinity -= 1
            if info.required_anti_affinity:
                self.pods_with_required_anti_affinity -= 1
        if node.node is None and not node.pods:
            del self._nodes[node_name]
        return info

    def assume_pod(self, info: PodInfo, node_name: str) -> PodInfo:
        """Count `info` on `node_name` before it is bound. Returns the assumed PodInfo (a copy
        naming the node). Raises ValueError if the pod is already in the cache."""
        if info.key in self._pods:
            raise ValueError(f"pod {info.key} is already in the cache")
        assumed = info.with_object(info.obj)
        assumed.node_name = node_name
        self._place(assumed, node_name)
        self._pods[info.key] = _PodState(assumed, node_name, True)
        return assumed

    def finish_binding(self, key: str, now: float) -> None:
        """The binding of an assumed pod succeeded: start its expiry clock."""
        state = self._pods.get(key)
        if state is not None and state.assumed:
            state.deadline = now + self.assume_ttl

    def forget_pod(self, key: str) -> None:
        """Drop an assumed pod (its binding failed). Bound pods are left alone."""
        state = self._pods.get(key)
        if state is not None and state.assumed:
            self._unplace(key, state.node_name)
            del self._pods[key]

    def add_pod(self, info: PodInfo) -> None:
        """A bound pod (spec.nodeName set) seen by the informer: confirm an assumed one, or add."""
        state = self._pods.get(info.key)
        if state is not None:
            self._unplace(info.key, state.node_name)
        self._place(info, info.node_name)
        self._pods[info.key] = _PodState(info, info.node_name, False)

    update_pod = add_pod

    def remove_pod(self, key: str) -> PodInfo | None:
        """A bound pod was deleted (or finished). Returns what was cached."""
        state = self._pods.pop(key, None)
        if state is None:
            return None
        self._unplace(key, state.node_name)
        return state.info

    def cleanup_expired(self, now: float) -> list[str]:
        """Expire assumed pods whose binding finished more than the TTL ago and whose bound
        version never arrived. Returns their keys."""
        expired = [key for key, s in self._pods.items() if s.assumed and s.deadline is not None and s.deadline < now]
        for key in expired:
            state = self._pods.pop(key)
            self._unplace(key, state.node_name)
        return expired
