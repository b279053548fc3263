"""NodeUnschedulable: cordoned nodes (spec.unschedulable) take no pods, except pods that
tolerate the node.kubernetes.io/unschedulable:NoSchedule taint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kube_lite.scheduler.nodeinfo import NodeInfo
from kube_lite.scheduler.plugin import NODE_ADD, NODE_TAINT, Plugin, Snapshot
from kube_lite.scheduler.plugins.tainttoleration import tolerated
from kube_lite.scheduler.podinfo import PodInfo
from kube_lite.scheduler.status import SKIP, Code, Status

NAME = "NodeUnschedulable"
REASON = "node(s) were unschedulable"
UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
_FAIL = Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, REASON, plugin=NAME)


class NodeUnschedulable(Plugin):
    name = NAME
    events = frozenset({NODE_ADD, NODE_TAINT})
    is_filter = True

    def pre_filter(self, pod: PodInfo, snapshot: Snapshot) -> Any:
        if not snapshot.unschedulable_nodes or tolerated(UNSCHEDULABLE_TAINT, pod.tolerations):
            return SKIP
        return None

    def filter(self, state: Any, pod: PodInfo, node: NodeInfo) -> Status | None:
        if node.unschedulable and not tolerated(UNSCHEDULABLE_TAINT, pod.tolerations):
            return _FAIL
        return None

    def filter_many(self, state: Any, pod: PodInfo, nodes: Sequence[NodeInfo]) -> tuple[list[NodeInfo], list[tuple[NodeInfo, Status]]]:
        if tolerated(UNSCHEDULABLE_TAINT, pod.tolerations):
            return list(nodes), []
        return [n for n in nodes if not n.unschedulable], [(n, _FAIL) for n in nodes if n.unschedulable]
