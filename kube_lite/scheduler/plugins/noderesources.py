"""NodeResourcesFit and NodeResourcesBalancedAllocation.

Fit (filter): the pod's requests must fit in the node's allocatable minus what its pods
request, resource by resource, and the node must have room for one more pod. Every shortfall
is a reason ("Insufficient cpu", "Insufficient memory", "Too many pods"); when the pod asks for
more than the node has at all, preemption cannot help (UnschedulableAndUnresolvable).

Fit (score, LeastAllocated, cpu and memory weighted 1 each): the free fraction of the node after
placing the pod, with the non-zero defaults for containers that request nothing (100m, 200Mi).

BalancedAllocation (score): 100 * (1 - the standard deviation of the cpu and memory fractions
requested), so that nodes are used evenly; skipped for pods that request nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kube_lite.scheduler.nodeinfo import NodeInfo
from kube_lite.scheduler.plugin import (
    MAX_NODE_SCORE,
    NODE_ADD,
    NODE_ALLOCATABLE,
    POD_DELETE,
    Plugin,
    Snapshot,
)
from kube_lite.scheduler.podinfo import PodInfo, Resources
from kube_lite.scheduler.status import SKIP, Code, Status

FIT = "NodeResourcesFit"
BALANCED = "NodeResourcesBalancedAllocation"
TOO_MANY_PODS = "Too many pods"


def insufficient(requests: Resources, node: NodeInfo) -> tuple[list[str], bool]:
    """The reasons `requests` do not fit `node` (Kubernetes' fitsRequest order: pods, cpu,
    memory, ephemeral-storage, then the scalar resources), and whether any is unresolvable."""
    reasons: list[str] = []
    unresolvable = False
    if len(node.pods) + 1 > node.allowed_pods:
        reasons.append(TOO_MANY_PODS)
    if requests.is_zero():
        return reasons, unresolvable
    alloc = node.allocatable
    used = node.requested
    if requests.cpu > 0 and requests.cpu > alloc.cpu - used.cpu:
        reasons.append("Insufficient cpu")
        unresolvable |= requests.cpu > alloc.cpu
    if requests.memory > 0 and requests.memory > alloc.memory - used.memory:
        reasons.append("Insufficient memory")
        unresolvable |= requests.memory > alloc.memory
    if requests.ephemeral > 0 and requests.ephemeral > alloc.ephemeral - used.ephemeral:
        reasons.append("Insufficient ephemeral-storage")
        unresolvable |= requests.ephemeral > alloc.ephemeral
    for name, amount in requests.scalars.items():
        if amount == 0:
            continue
        have = alloc.scalars.get(name, 0)
        if amount > have - used.scalars.get(name, 0):
            reasons.append(f"Insufficient {name}")
            unresolvable |= amount > have
    return reasons, unresolvable


def _status(reasons: list[str], unresolvable: bool) -> Status:
    code = Code.UNSCHEDULABLE_AND_UNRESOLVABLE if unresolvable else Code.UNSCHEDULABLE
    return Status(code, *reasons, plugin=FIT)


def least_allocated(requested: int, capacity: int) -> int:
    """Kubernetes' leastRequestedScore: the free share of `capacity`, 0..100 (integer)."""
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


class NodeResourcesFit(Plugin):
    name = FIT
    events = frozenset({NODE_ADD, NODE_ALLOCATABLE, POD_DELETE})
    is_filter = True
    is_score = True
    node_local = True

    def pre_filter(self, pod: PodInfo, snapshot: Snapshot) -> Any:
        return pod.requests

    def filter(self, state: Any, pod: PodInfo, node: NodeInfo) -> Status | None:
        reasons, unresolvable = insufficient(state, node)
        return _status(reasons, unresolvable) if reasons else None

    def filter_many(self, state: Any, pod: PodInfo, nodes: Sequence[NodeInfo]) -> tuple[list[NodeInfo], list[tuple[NodeInfo, Status]]]:
        req: Resources = state
        if req.scalars or req.ephemeral:
            return super().filter_many(state, pod, nodes)
        cpu = req.cpu
        memory = req.memory
        # The common case in one pass: room for a pod, cpu and memory (0 requests always fit).
        # A resource the pod does not request always fits, even on an over-committed node.
        if cpu > 0 and memory > 0:
            passed = [n for n in nodes if n.free_pods > 0 and n.free_cpu >= cpu and n.free_memory >= memory]
        elif cpu > 0:
            passed = [n for n in nodes if n.free_pods > 0 and n.free_cpu >= cpu]
        elif memory > 0:
            passed = [n for n in nodes if n.free_pods > 0 and n.free_memory >= memory]
        else:
            passed = [n for n in nodes if n.free_pods > 0]
        if len(passed) == len(nodes):
            return passed, []
        ok = {id(n) for n in passed}
        failed = []
        for n in nodes:
            if id(n) not in ok:
                reasons, unresolvable = insufficient(req, n)
                failed.append((n, _status(reasons, unresolvable)))
        return passed, failed

    def pre_score(self, pod: PodInfo, snapshot: Snapshot, nodes: Sequence[NodeInfo]) -> Any:
        return (pod.nonzero_cpu, pod.nonzero_memory)

    def score_many(self, state: Any, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[int]:
        cpu, memory = state
        out = []
        append = out.append
        for n in nodes:
            alloc = n.allocatable
            cap = alloc.cpu
            req = n.nonzero_cpu + cpu
            c = 0 if cap == 0 or req > cap else (cap - req) * 100 // cap
            cap = alloc.memory
            req = n.nonzero_memory + memory
            m = 0 if cap == 0 or req > cap else (cap - req) * 100 // cap
            append((c + m) // 2)
        return out


class NodeResourcesBalancedAllocation(Plugin):
    name = BALANCED
    is_score = True
    node_local = True

    def pre_score(self, pod: PodInfo, snapshot: Snapshot, nodes: Sequence[NodeInfo]) -> Any:
        req = pod.requests
        if req.cpu == 0 and req.memory == 0:
            return SKIP  # a best-effort pod: balance is not its business
        return (req.cpu, req.memory)

    def score_many(self, state: Any, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[int]:
        cpu, memory = state
        out = []
        append = out.append
        for n in nodes:
            alloc = n.allocatable
            fractions = []
            if alloc.cpu:
                fractions.append(min((n.requested.cpu + cpu) / alloc.cpu, 1.0))
            if alloc.memory:
                fractions.append(min((n.requested.memory + memory) / alloc.memory, 1.0))
            std = abs(fractions[0] - fractions[1]) / 2 if len(fractions) == 2 else 0.0
            append(int((1 - std) * MAX_NODE_SCORE))
        return out
