"""NodePorts: a pod's hostPorts must be free on the node (same protocol and port, and the same
address or 0.0.0.0 on either side, collide)."""

from __future__ import annotations

from typing import Any

from kube_lite.scheduler.nodeinfo import NodeInfo
from kube_lite.scheduler.plugin import NODE_ADD, POD_DELETE, Plugin, Snapshot
from kube_lite.scheduler.podinfo import PodInfo
from kube_lite.scheduler.status import SKIP, Code, Status

NAME = "NodePorts"
REASON = "node(s) didn't have free ports for the requested pod ports"
_FAIL = Status(Code.UNSCHEDULABLE, REASON, plugin=NAME)


class NodePorts(Plugin):
    name = NAME
    events = frozenset({NODE_ADD, POD_DELETE})
    is_filter = True

    def pre_filter(self, pod: PodInfo, snapshot: Snapshot) -> Any:
        return pod.host_ports or SKIP

    def filter(self, state: Any, pod: PodInfo, node: NodeInfo) -> Status | None:
        if not node.used_ports:
            return None
        for ip, protocol, port in state:
            if node.port_conflicts(ip, protocol, port):
                return _FAIL
        return None
