"""TaintToleration: a node's NoSchedule and NoExecute taints repel pods that do not tolerate
them (filter); untolerated PreferNoSchedule taints lower a node's score."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kube_lite.scheduler.nodeinfo import NodeInfo
from kube_lite.scheduler.plugin import NODE_ADD, NODE_TAINT, Plugin, Snapshot, default_normalize
from kube_lite.scheduler.podinfo import PodInfo
from kube_lite.scheduler.status import SKIP, Code, Status

NAME = "TaintToleration"


def tolerates(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    """Kubernetes' Toleration.ToleratesTaint: the effect matches (or the toleration names
    none), the key matches (or the toleration names none: only with Exists), and the operator
    holds (Exists: any value; Equal or unset: the same value)."""
    effect = toleration.get("effect")
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key")
    if key and key != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    if operator == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def tolerated(taint: Mapping[str, Any], tolerations: Sequence[Mapping[str, Any]]) -> bool:
    """Whether any of `tolerations` tolerates `taint`."""
    return any(tolerates(t, taint) for t in tolerations)


def first_untolerated(taints: Sequence[Mapping[str, Any]], tolerations: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The first of `taints` (in the node's order) that no toleration tolerates, or None."""
    for taint in taints:
        if not tolerated(taint, tolerations):
            return taint
    return None


def untolerated_status(taint: Mapping[str, Any]) -> Status:
    return Status(
        Code.UNSCHEDULABLE_AND_UNRESOLVABLE,
        f"node(s) had untolerated taint {{{taint.get('key') or ''}: {taint.get('value') or ''}}}",
        plugin=NAME,
    )


class TaintToleration(Plugin):
    name = NAME
    events = frozenset({NODE_ADD, NODE_TAINT})
    is_filter = True
    is_score = True
    default_weight = 3

    def pre_filter(self, pod: PodInfo, snapshot: Snapshot) -> Any:
        return SKIP if not snapshot.hard_tainted_nodes else None

    def filter(self, state: Any, pod: PodInfo, node: NodeInfo) -> Status | None:
        if not node.hard_taints:
            return None
        taint = first_untolerated(node.hard_taints, pod.tolerations)
        return None if taint is None else untolerated_status(taint)

    def filter_many(self, state: Any, pod: PodInfo, nodes: Sequence[NodeInfo]) -> tuple[list[NodeInfo], list[tuple[NodeInfo, Status]]]:
        passed: list[NodeInfo] = []
        failed: list[tuple[NodeInfo, Status]] = []
        tolerations = pod.tolerations
        for node in nodes:
            if not node.hard_taints:
                passed.append(node)
                continue
            taint = first_untolerated(node.hard_taints, tolerations)
            if taint is None:
                passed.append(node)
            else:
                failed.append((node, untolerated_status(taint)))
        return passed, failed

    def pre_score(self, pod: PodInfo, snapshot: Snapshot, nodes: Sequence[NodeInfo]) -> Any:
        if not snapshot.soft_tainted_nodes:
            return SKIP  # every node would score the same
        return tuple(t for t in pod.tolerations if not t.get("effect") or t.get("effect") == "PreferNoSchedule")

    def score_many(self, state: Any, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[int]:
        return [sum(1 for taint in n.soft_taints if not tolerated(taint, state)) if n.soft_taints else 0 for n in nodes]

    def normalize(self, state: Any, scores: list[int]) -> list[int]:
        return default_normalize(scores, reverse=True)
