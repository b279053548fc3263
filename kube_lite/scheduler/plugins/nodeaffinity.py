"""NodeAffinity: spec.nodeSelector and required node affinity filter nodes by their labels
(and name, through matchFields); preferred node affinity terms add their weight to the score."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kube_lite.scheduler.nodeinfo import NodeInfo
from kube_lite.scheduler.plugin import NODE_ADD, NODE_LABEL, Plugin, Snapshot, default_normalize
from kube_lite.scheduler.podinfo import PodInfo, node_selector_matches, node_selector_term_matches
from kube_lite.scheduler.status import SKIP, Code, Status

NAME = "NodeAffinity"
REASON = "node(s) didn't match Pod's node affinity/selector"
_FAIL = Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, REASON, plugin=NAME)


def matches_required(pod: PodInfo, labels: Mapping[str, str], name: str) -> bool:
    """Whether a node (labels, name) satisfies the pod's nodeSelector and required node
    affinity (Kubernetes' RequiredNodeAffinity.Match)."""
    selector = pod.node_selector
    if selector:
        for key, value in selector.items():
            if labels.get(key) != value:
                return False
    terms = pod.required_node_terms
    if terms is not None and not node_selector_matches(terms, labels, name):
        return False
    return True


class NodeAffinity(Plugin):
    name = NAME
    events = frozenset({NODE_ADD, NODE_LABEL})
    is_filter = True
    is_score = True
    default_weight = 2

    def pre_filter(self, pod: PodInfo, snapshot: Snapshot) -> Any:
        return SKIP if not pod.node_selector and pod.required_node_terms is None else None

    def filter(self, state: Any, pod: PodInfo, node: NodeInfo) -> Status | None:
        return None if matches_required(pod, node.labels, node.name) else _FAIL

    def filter_many(self, state: Any, pod: PodInfo, nodes: Sequence[NodeInfo]) -> tuple[list[NodeInfo], list[tuple[NodeInfo, Status]]]:
        passed: list[NodeInfo] = []
        failed: list[tuple[NodeInfo, Status]] = []
        for node in nodes:
            if matches_required(pod, node.labels, node.name):
                passed.append(node)
            else:
                failed.append((node, _FAIL))
        return passed, failed

    def pre_score(self, pod: PodInfo, snapshot: Snapshot, nodes: Sequence[NodeInfo]) -> Any:
        return pod.preferred_node_terms or SKIP

    def score_many(self, state: Any, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[int]:
        return [
            sum(weight for weight, term in state if node_selector_term_matches(term, n.labels, n.name))
            for n in nodes
        ]

    def normalize(self, state: Any, scores: list[int]) -> list[int]:
        return default_normalize(scores)
