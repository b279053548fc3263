"""Node IPAM: give every Node a podCIDR from the cluster CIDR, as kube-controller-manager's
range allocator does (--cluster-cidr, default 10.244.0.0/16; --node-cidr-mask-size, default 24).

Allocations live only in the Nodes themselves: on start the controller marks every podCIDR it
finds as taken, so a restart never hands out a range twice.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from kube_lite.api.errors import APIError
from kube_lite.client.client import Client
from kube_lite.client.events import WARNING, EventRecorder
from kube_lite.client.informer import SharedInformerFactory
from kube_lite.clock import Clock
from kube_lite.controllers.base import Controller


class CIDRAllocator:
    """Hands out the subnets of `cluster_cidr` of size /`mask`, lowest free first."""

    def __init__(self, cluster_cidr: str = "10.244.0.0/16", mask: int = 24) -> None:
        self.network = ipaddress.ip_network(cluster_cidr, strict=False)
        if mask < self.network.prefixlen or mask > self.network.max_prefixlen:
            raise ValueError(f"--node-cidr-mask-size {mask} does not fit in --cluster-cidr {cluster_cidr}")
        self.mask = mask
        self.size = 1 << (mask - self.network.prefixlen)
        self._used: set[int] = set()
        self._next = 0

    def _index(self, cidr: str) -> int | None:
        try:
            net = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            return None
        if net.prefixlen != self.mask or not net.subnet_of(self.network):  # type: ignore[arg-type]
            return None
        return (int(net.network_address) - int(self.network.network_address)) >> (self.network.max_prefixlen - self.mask)

    def occupy(self, cidr: str) -> None:
        index = self._index(cidr)
        if index is not None:
            self._used.add(index)

    def release(self, cidr: str) -> None:
        index = self._index(cidr)
        if index is not None:
            self._used.discard(index)
            self._next = min(self._next, index)  # reuse it next, so ranges stay dense

    def allocate(self) -> str:
        """The next free subnet. Raises ValueError when the cluster CIDR is full."""
        for offset in range(self.size):
            index = (self._next + offset) % self.size
            if index not in self._used:
                self._used.add(index)
                self._next = index + 1
                base = int(self.network.network_address) + (index << (self.network.max_prefixlen - self.mask))
                return f"{ipaddress.ip_address(base)}/{self.mask}"
        raise ValueError(f"no remaining CIDRs in {self.network} for /{self.mask} node ranges")


class NodeIPAMController(Controller):
    name = "nodeipam"
    event_source = "cidrAllocator"
    workers = 1

    def __init__(
        self,
        client: Client,
        clock: Clock | None = None,
        recorder: EventRecorder | None = None,
        *,
        cluster_cidr: str = "10.244.0.0/16",
        node_cidr_mask_size: int = 24,
        informers: SharedInformerFactory | None = None,
    ) -> None:
        super().__init__(client, clock, recorder, informers=informers)
        self.allocator = CIDRAllocator(cluster_cidr, node_cidr_mask_size)
        self.nodes = self.informer("nodes")
        self.nodes.add_handler(on_add=self._on_node, on_update=lambda old, new: self._on_node(new), on_delete=self._on_delete)

    def _on_node(self, node: dict[str, Any]) -> None:
        cidr = (node.get("spec") or {}).get("podCIDR")
        if cidr:
            self.allocator.occupy(cidr)
        else:
            self.enqueue(node["metadata"]["name"])

    def _on_delete(self, node: dict[str, Any]) -> None:
        cidr = (node.get("spec") or {}).get("podCIDR")
        if cidr:
            self.allocator.release(cidr)

    async def reconcile(self, key: str) -> float | None:
        node = self.nodes.get(key)
        if node is None or (node.get("spec") or {}).get("podCIDR"):
            return None
        # Every node already seen holds its range: only then is the next free one really free.
        for other in self.nodes.list():
            cidr = (other.get("spec") or {}).get("podCIDR")
            if cidr:
                self.allocator.occupy(cidr)
        try:
            cidr = self.allocator.allocate()
        except ValueError as exc:
            self._event(node, WARNING, "CIDRNotAvailable", f"Node {key} status is now: CIDRNotAvailable")
            self.log.warning("no pod CIDR for node", node=key, error=str(exc))
            return 30.0
        # Conditional on the cached resourceVersion: if the cache is stale the node may have
        # a range already, and podCIDR may only change from "" (a 409 says: look again).
        patch = {"metadata": {"resourceVersion": node["metadata"]["resourceVersion"]}, "spec": {"podCIDR": cidr, "podCIDRs": [cidr]}}
        try:
            await self.client.patch("nodes", key, patch)
        except APIError as exc:
            self.allocator.release(cidr)
            if exc.code == 404:
                return None
            if exc.code == 409:
                return 0.05
            raise
        self.log.info("pod CIDR allocated", node=key, cidr=cidr)
        return None
