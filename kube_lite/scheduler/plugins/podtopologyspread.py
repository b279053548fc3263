"""PodTopologySpread: spread matching pods evenly over topology domains.

Filter (whenUnsatisfiable: DoNotSchedule): placing the pod in node N's domain must keep
`matching pods there + 1 (if the pod matches its own selector) - the fewest in any domain`
within maxSkew. Domains are counted over the nodes that carry every constraint's key and, per
the constraint's nodeAffinityPolicy (Honor by default) and nodeTaintsPolicy (Ignore by default),
match the pod's node affinity and tolerate the node's taints. With minDomains set and fewer
domains than that, the global minimum is taken as 0. Only pods in the pod's namespace that are
not terminating count.

Score (whenUnsatisfiable: ScheduleAnyway): fewer matching pods in a node's domain is better;
each constraint counts `matching pods * log(domains + 2) + maxSkew - 1`, and scores are
normalized so the emptiest domain gets 100. Kubernetes' system default constraints (derived
from the services and controllers selecting a pod) are not applied.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from kube_lite.api.selectors import LabelSelector
from kube_lite.scheduler.nodeinfo import NodeInfo
from kube_lite.scheduler.plugin import (
    MAX_NODE_SCORE,
    NODE_ADD,
    NODE_DELETE,
    NODE_LABEL,
    NODE_TAINT,
    POD_ADD,
    POD_DELETE,
    POD_UPDATE,
    Plugin,
    Snapshot,
)
from kube_lite.scheduler.plugins.nodeaffinity import matches_required
from kube_lite.scheduler.plugins.tainttoleration import first_untolerated
from kube_lite.scheduler.podinfo import HOSTNAME_LABEL, PodInfo, SpreadConstraint
from kube_lite.scheduler.status import SKIP, Code, Status

NAME = "PodTopologySpread"
REASON = "node(s) didn't match pod topology spread constraints"
MISSING_LABEL_REASON = "node(s) didn't match pod topology spread constraints (missing required label)"
_FAIL = Status(Code.UNSCHEDULABLE, REASON, plugin=NAME)
_MISSING = Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, MISSING_LABEL_REASON, plugin=NAME)
_NO_DOMAIN = 2**31 - 1  # Kubernetes' initial critical path: a key with no domain never limits

Pair = tuple[str, str]


def has_all_keys(labels: Mapping[str, str], constraints: Sequence[SpreadConstraint]) -> bool:
    return all(c.topology_key in labels for c in constraints)


def node_included(c: SpreadConstraint, pod: PodInfo, node: NodeInfo) -> bool:
    """Whether `node` counts for constraint `c` (its node inclusion policies)."""
    if c.honor_node_affinity and not matches_required(pod, node.labels, node.name):
        return False
    if c.honor_node_taints and node.hard_taints and first_untolerated(node.hard_taints, pod.tolerations) is not None:
        return False
    return True


def count_matching(node: NodeInfo, selector: LabelSelector, namespace: str) -> int:
    """Pods on `node` in `namespace`, not terminating, whose labels `selector` matches."""
    return sum(
        1 for p in node.pods.values()
        if p.namespace == namespace and not p.terminating and selector.matches(p.labels)
    )


class SpreadState:
    """Matching pods per domain, and domains per key, of the DoNotSchedule constraints."""

    __slots__ = ("constraints", "counts", "domains")

    def __init__(self, constraints: tuple[SpreadConstraint, ...]) -> None:
        self.constraints = constraints
        self.counts: dict[Pair, int] = {}
        self.domains: dict[str, set[str]] = {c.topology_key: set() for c in constraints}

    def clone(self) -> SpreadState:
        other = SpreadState(self.constraints)
        other.counts = dict(self.counts)
        other.domains = {k: set(v) for k, v in self.domains.items()}
        return other

    def min_match(self, key: str, min_domains: int | None) -> int:
        values = self.domains.get(key) or ()
        if min_domains is not None and len(values) < min_domains:
            return 0
        if not values:
            return _NO_DOMAIN
        return min(self.counts.get((key, v), 0) for v in values)


class PodTopologySpread(Plugin):
    name = NAME
    events = frozenset({NODE_ADD, NODE_DELETE, NODE_LABEL, NODE_TAINT, POD_ADD, POD_UPDATE, POD_DELETE})
    is_filter = True
    is_score = True
    default_weight = 2

    # ------------------------------------------------------------------ filter

    def pre_filter(self, pod: PodInfo, snapshot: Snapshot) -> Any:
        constraints = tuple(c for c in pod.spread if c.when_unsatisfiable == "DoNotSchedule")
        if not constraints:
            return SKIP
        state = SpreadState(constraints)
        for node in snapshot.node_list:
            if not has_all_keys(node.labels, constraints):
                continue
            for c in constraints:
                if not node_included(c, pod, node):
                    continue
                value = node.labels[c.topology_key]
                pair = (c.topology_key, value)
                state.domains[c.topology_key].add(value)
                state.counts[pair] = state.counts.get(pair, 0) + count_matching(node, c.selector, pod.namespace)
        return state

    def clone_state(self, state: Any) -> Any:
        return state.clone()

    def _update(self, state: SpreadState, pod: PodInfo, other: PodInfo, node: NodeInfo, delta: int) -> None:
        if other.namespace != pod.namespace or not has_all_keys(node.labels, state.constraints):
            return
        if not matches_required(pod, node.labels, node.name):
            return
        for c in state.constraints:
            if c.selector.matches(other.labels):
                pair = (c.topology_key, node.labels[c.topology_key])
                state.counts[pair] = state.counts.get(pair, 0) + delta

    def add_pod(self, state: Any, pod: PodInfo, added: PodInfo, node: NodeInfo, snapshot: Snapshot) -> None:
        self._update(state, pod, added, node, 1)

    def remove_pod(self, state: Any, pod: PodInfo, removed: PodInfo, node: NodeInfo, snapshot: Snapshot) -> None:
        self._update(state, pod, removed, node, -1)

    def filter(self, state: Any, pod: PodInfo, node: NodeInfo) -> Status | None:
        labels = node.labels
        for c in state.constraints:
            value = labels.get(c.topology_key)
            if value is None:
                return _MISSING
            self_match = 1 if c.selector.matches(pod.labels) else 0
            skew = state.counts.get((c.topology_key, value), 0) + self_match - state.min_match(c.topology_key, c.min_domains)
            if skew > c.max_skew:
                return _FAIL
        return None

    # ------------------------------------------------------------------ score

    def pre_score(self, pod: PodInfo, snapshot: Snapshot, nodes: Sequence[NodeInfo]) -> Any:
        constraints = tuple(c for c in pod.spread if c.when_unsatisfiable == "ScheduleAnyway")
        if not constraints:
            return SKIP
        ignored = {n.name for n in nodes if not has_all_keys(n.labels, constraints)}
        counts: list[dict[str, int]] = [{} for _ in constraints]
        for n in nodes:
            if n.name in ignored:
                continue
            for i, c in enumerate(constraints):
                if c.topology_key != HOSTNAME_LABEL:
                    counts[i].setdefault(n.labels[c.topology_key], 0)
        weights = []
        for i, c in enumerate(constraints):
            size = len(nodes) - len(ignored) if c.topology_key == HOSTNAME_LABEL else len(counts[i])
            weights.append(math.log(size + 2))
        for node in snapshot.node_list:
            if not has_all_keys(node.labels, constraints):
                continue
            for i, c in enumerate(constraints):
                if c.topology_key == HOSTNAME_LABEL or not node_included(c, pod, node):
                    continue
                value = node.labels[c.topology_key]
                if value in counts[i]:
                    counts[i][value] += count_matching(node, c.selector, pod.namespace)
        return (constraints, ignored, counts, weights)

    def score_many(self, state: Any, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[int]:
        constraints, ignored, counts, weights = state
        out = []
        for n in nodes:
            if n.name in ignored:
                out.append(-1)  # Kubernetes' invalidScore: 0 after normalizing
                continue
            score = 0.0
            for i, c in enumerate(constraints):
                value = n.labels.get(c.topology_key)
                if value is None:
                    continue
                if c.topology_key == HOSTNAME_LABEL:
                    cnt = count_matching(n, c.selector, pod.namespace)
                else:
                    cnt = counts[i].get(value, 0)
                score += cnt * weights[i] + (c.max_skew - 1)
            out.append(round_half_away(score))
        return out

    def normalize(self, state: Any, scores: list[int]) -> list[int]:
        valid = [s for s in scores if s >= 0]
        if not valid:
            return [0] * len(scores)
        low = min(valid)
        high = max(valid)
        out = []
        for s in scores:
            if s < 0:
                out.append(0)
            elif high == 0:
                out.append(MAX_NODE_SCORE)
            else:
                out.append(MAX_NODE_SCORE * (high + low - s) // high)
        return out


def round_half_away(x: float) -> int:
    """Go's math.Round: halves away from zero (Python's round() rounds halves to even)."""
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))
