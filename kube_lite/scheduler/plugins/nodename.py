"""NodeName: a pod that names its node (spec.nodeName) fits that node only."""

from __future__ import annotations

from typing import Any

from kube_lite.scheduler.nodeinfo import NodeInfo
from kube_lite.scheduler.plugin import NODE_ADD, Plugin, Snapshot
from kube_lite.scheduler.podinfo import PodInfo
from kube_lite.scheduler.status import SKIP, Code, Status

NAME = "NodeName"
REASON = "node(s) didn't match the requested node name"
_FAIL = Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, REASON, plugin=NAME)


class NodeName(Plugin):
    name = NAME
    events = frozenset({NODE_ADD})
    is_filter = True

    def pre_filter(self, pod: PodInfo, snapshot: Snapshot) -> Any:
        wanted = (pod.obj.get("spec") or {}).get("nodeName")
        return wanted if wanted else SKIP

    def filter(self, state: Any, pod: PodInfo, node: NodeInfo) -> Status | None:
        return None if node.name == state else _FAIL
