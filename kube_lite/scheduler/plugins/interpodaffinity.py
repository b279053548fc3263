"""InterPodAffinity: place a pod relative to the pods already running, by topology domain.

Filter, for a node N and a term with topology key K (N's domain is its value of label K):
- required affinity: every term must find, in N's domain, a pod matching *all* the terms; N
  must carry every term's key. The first pod of a group that matches its own terms may go
  anywhere that has the keys when no pod in the cluster matches yet.
- required anti-affinity: no pod matching a term may run in N's domain.
- existing pods' required anti-affinity: a running pod whose anti-affinity term matches the
  incoming pod keeps it out of that pod's domain (symmetry).

Score: the incoming pod's preferred terms (+weight for affinity, -weight for anti-affinity) for
each matching existing pod's domain, plus the existing pods' preferred terms that match the
incoming pod, plus their required affinity terms (hard pod affinity weight 1); normalized
min..max to 0..100.

The filter state is three counters keyed by (topology key, value); `add_pod`/`remove_pod` keep
them right when preemption takes pods away or nominated pods are added.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kube_lite.scheduler.nodeinfo import NodeInfo
from kube_lite.scheduler.plugin import (
    MAX_NODE_SCORE,
    NAMESPACE_CHANGE,
    NODE_ADD,
    NODE_LABEL,
    POD_ADD,
    POD_DELETE,
    POD_UPDATE,
    Plugin,
    Snapshot,
)
from kube_lite.scheduler.podinfo import AffinityTerm, PodInfo
from kube_lite.scheduler.status import SKIP, Code, Status

NAME = "InterPodAffinity"
AFFINITY_REASON = "node(s) didn't match pod affinity rules"
ANTI_AFFINITY_REASON = "node(s) didn't match pod anti-affinity rules"
EXISTING_ANTI_AFFINITY_REASON = "node(s) didn't satisfy existing pods anti-affinity rules"
HARD_POD_AFFINITY_WEIGHT = 1

_AFFINITY_FAIL = Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, AFFINITY_REASON, plugin=NAME)
_ANTI_FAIL = Status(Code.UNSCHEDULABLE, ANTI_AFFINITY_REASON, plugin=NAME)
_EXISTING_ANTI_FAIL = Status(Code.UNSCHEDULABLE, EXISTING_ANTI_AFFINITY_REASON, plugin=NAME)

Pair = tuple[str, str]


def _bump(counts: dict[Pair, int], pair: Pair, delta: int) -> None:
    value = counts.get(pair, 0) + delta
    if value:
        counts[pair] = value
    else:
        counts.pop(pair, None)


def matches_all(terms: Sequence[AffinityTerm], pod: PodInfo, ns_labels: Mapping[str, Mapping[str, str]]) -> bool:
    return all(term.matches(pod, ns_labels) for term in terms)


class AffinityState:
    """Counts of matching pods per topology domain (the filter's PreFilter state)."""

    __slots__ = ("existing_anti", "affinity", "anti")

    def __init__(self) -> None:
        self.existing_anti: dict[Pair, int] = {}  # domains an existing pod's anti-affinity bars
        self.affinity: dict[Pair, int] = {}  # pods matching all the incoming pod's affinity terms
        self.anti: dict[Pair, int] = {}  # pods matching one of its anti-affinity terms

    def clone(self) -> AffinityState:
        other = AffinityState()
        other.existing_anti = dict(self.existing_anti)
        other.affinity = dict(self.affinity)
        other.anti = dict(self.anti)
        return other


def _update(state: AffinityState, pod: PodInfo, other: PodInfo, node: NodeInfo,
            ns_labels: Mapping[str, Mapping[str, str]], delta: int) -> None:
    """Account `other` (running on `node`) in the counters for the incoming `pod`."""
    labels = node.labels
    for term in other.required_anti_affinity:
        if term.topology_key in labels and term.matches(pod, ns_labels):
            _bump(state.existing_anti, (term.topology_key, labels[term.topology_key]), delta)
    if pod.required_affinity and matches_all(pod.required_affinity, other, ns_labels):
        for term in pod.required_affinity:
            if term.topology_key in labels:
                _bump(state.affinity, (term.topology_key, labels[term.topology_key]), delta)
    for term in pod.required_anti_affinity:
        if term.topology_key in labels and term.matches(other, ns_labels):
            _bump(state.anti, (term.topology_key, labels[term.topology_key]), delta)


class InterPodAffinity(Plugin):
    name = NAME
    events = frozenset({NODE_ADD, NODE_LABEL, POD_ADD, POD_UPDATE, POD_DELETE, NAMESPACE_CHANGE})
    is_filter = True
    is_score = True
    default_weight = 2

    # ------------------------------------------------------------------ filter

    def pre_filter(self, pod: PodInfo, snapshot: Snapshot) -> Any:
        if not pod.required_affinity and not pod.required_anti_affinity and not snapshot.pods_with_required_anti_affinity:
            return SKIP
        state = AffinityState()
        ns_labels = snapshot.namespace_labels
        for node in snapshot.nodes_with_required_anti_affinity_pods():
            for other in node.pods.values():
                for term in other.required_anti_affinity:
                    if term.topology_key in node.labels and term.matches(pod, ns_labels):
                        _bump(state.existing_anti, (term.topology_key, node.labels[term.topology_key]), 1)
        if pod.required_affinity or pod.required_anti_affinity:
            for node in snapshot.node_list:
                labels = node.labels
                for other in node.pods.values():
                    if pod.required_affinity and matches_all(pod.required_affinity, other, ns_labels):
                        for term in pod.required_affinity:
                            if term.topology_key in labels:
                                _bump(state.affinity, (term.topology_key, labels[term.topology_key]), 1)
                    for term in pod.required_anti_affinity:
                        if term.topology_key in labels and term.matches(other, ns_labels):
                            _bump(state.anti, (term.topology_key, labels[term.topology_key]), 1)
        return state

    def clone_state(self, state: Any) -> Any:
        return state.clone()

    def add_pod(self, state: Any, pod: PodInfo, added: PodInfo, node: NodeInfo, snapshot: Snapshot) -> None:
        _update(state, pod, added, node, snapshot.namespace_labels, 1)

    def remove_pod(self, state: Any, pod: PodInfo, removed: PodInfo, node: NodeInfo, snapshot: Snapshot) -> None:
        _update(state, pod, removed, node, snapshot.namespace_labels, -1)

    def filter(self, state: Any, pod: PodInfo, node: NodeInfo) -> Status | None:
        labels = node.labels
        if pod.required_affinity and not self._satisfies_affinity(state, pod, labels):
            return _AFFINITY_FAIL
        for term in pod.required_anti_affinity:
            value = labels.get(term.topology_key)
            if value is not None and state.anti.get((term.topology_key, value), 0) > 0:
                return _ANTI_FAIL
        if state.existing_anti:
            for key, value in labels.items():
                if state.existing_anti.get((key, value), 0) > 0:
                    return _EXISTING_ANTI_FAIL
        return None

    @staticmethod
    def _satisfies_affinity(state: AffinityState, pod: PodInfo, labels: Mapping[str, str]) -> bool:
        pods_exist = True
        for term in pod.required_affinity:
            value = labels.get(term.topology_key)
            if value is None:
                return False  # every topology key must be on the node
            if state.affinity.get((term.topology_key, value), 0) <= 0:
                pods_exist = False
        if pods_exist:
            return True
        # The first pod of a series with affinity to itself: nothing in the cluster matches
        # yet, and the pod matches its own terms, so it may start the series anywhere.
        return not state.affinity and all(term.matches(pod, {}) for term in pod.required_affinity)

    # ------------------------------------------------------------------ score

    def pre_score(self, pod: PodInfo, snapshot: Snapshot, nodes: Sequence[NodeInfo]) -> Any:
        has_preferred = bool(pod.preferred_affinity or pod.preferred_anti_affinity)
        if not has_preferred and not snapshot.pods_with_affinity:
            return SKIP
        ns_labels = snapshot.namespace_labels
        scores: dict[str, dict[str, int]] = {}

        def add(term: AffinityTerm, weight: int, matched: PodInfo, labels: Mapping[str, str]) -> None:
            if term.topology_key in labels and term.matches(matched, ns_labels):
                by_value = scores.setdefault(term.topology_key, {})
                value = labels[term.topology_key]
                by_value[value] = by_value.get(value, 0) + weight

        source = snapshot.node_list if has_preferred else snapshot.nodes_with_affinity_pods()
        for node in source:
            labels = node.labels
            if not labels:
                continue
            for other in node.pods.values():
                if not has_preferred and not other.has_affinity:
                    continue
                for term in pod.preferred_affinity:
                    add(term, term.weight, other, labels)
                for term in pod.preferred_anti_affinity:
                    add(term, -term.weight, other, labels)
                for term in other.required_affinity:
                    add(term, HARD_POD_AFFINITY_WEIGHT, pod, labels)
                for term in other.preferred_affinity:
                    add(term, term.weight, pod, labels)
                for term in other.preferred_anti_affinity:
                    add(term, -term.weight, pod, labels)
        if not scores:
            return SKIP
        return scores

    def score_many(self, state: Any, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[int]:
        out = []
        for n in nodes:
            total = 0
            labels = n.labels
            for key, by_value in state.items():
                value = labels.get(key)
                if value is not None:
                    total += by_value.get(value, 0)
            out.append(total)
        return out

    def normalize(self, state: Any, scores: list[int]) -> list[int]:
        if not scores:
            return scores
        low = min(scores)
        spread = max(scores) - low
        if spread <= 0:
            return [0] * len(scores)
        return [int(MAX_NODE_SCORE * ((s - low) / spread)) for s in scores]

