"""DefaultPreemption (the PostFilter): when a pod fits nowhere, find the node where evicting
the fewest, least important lower-priority pods makes it fit.

`preempt(...)` is a pure function of the pod, the snapshot, the filter statuses of the failed
cycle, the nominated pods and the PodDisruptionBudgets; the scheduler carries out its answer
(deletes the victims, sets the preemptor's status.nominatedNodeName). As in Kubernetes:

1. The pod must be allowed to preempt: not `preemptionPolicy: Never`, and not already waiting
   for a lower-priority victim to terminate on its nominated node.
2. Nodes whose status says preemption cannot help (UnschedulableAndUnresolvable: a taint, a
   selector, a request larger than the node) are left out.
3. On each other node (from a random offset; at least 10% of them or 100 are tried), every
   lower-priority pod is removed; if the pod then fits, victims are put back one by one, most
   important first (higher priority, then older), PDB-protected ones first, while it still
   fits. What cannot be put back are the victims.
4. The node is chosen by, in turn: fewest PDB violations, lowest highest-victim priority,
   lowest sum of victim priorities, fewest victims, latest start of the highest-priority
   victims, first found.

PodDisruptionBudgets are honoured the way Kubernetes honours them in preemption: as a
preference (status.disruptionsAllowed, status.disruptedPods), never as a veto.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kube_lite.api.selectors import LabelSelector, SelectorError, from_label_selector
from kube_lite.scheduler.framework import FilterStates, Framework, fit_error_message
from kube_lite.scheduler.nodeinfo import NodeInfo
from kube_lite.scheduler.plugin import Snapshot
from kube_lite.scheduler.podinfo import PodInfo
from kube_lite.scheduler.status import NO_PREEMPTION_VICTIMS, PREEMPTION_NOT_HELPFUL, Code, Status

MIN_CANDIDATE_NODES_PERCENTAGE = 10
MIN_CANDIDATE_NODES_ABSOLUTE = 100
NOT_ELIGIBLE_NEVER = "not eligible due to preemptionPolicy=Never."
NOT_ELIGIBLE_TERMINATING = "not eligible due to a terminating pod on the nominated node."
_INT32_OFFSET = 2**31


@dataclass
class DisruptionBudget:
    """What preemption needs of a PodDisruptionBudget."""

    namespace: str
    selector: LabelSelector
    allowed: int
    disrupted: frozenset[str] = frozenset()

    @classmethod
    def of(cls, pdb: Mapping[str, Any]) -> DisruptionBudget:
        meta = pdb.get("metadata") or {}
        spec = pdb.get("spec") or {}
        status = pdb.get("status") or {}
        try:
            selector = from_label_selector(spec.get("selector"))
        except SelectorError:
            selector = from_label_selector(None)
        return cls(
            namespace=meta.get("namespace") or "default",
            selector=selector,
            allowed=int(status.get("disruptionsAllowed") or 0),
            disrupted=frozenset((status.get("disruptedPods") or {}).keys()),
        )

    def covers(self, pod: PodInfo) -> bool:
        # An empty selector covers nothing here, as in Kubernetes' preemption.
        return pod.namespace == self.namespace and not self.selector.empty and self.selector.matches(pod.labels)


@dataclass
class Candidate:
    node: str
    victims: list[PodInfo]
    pdb_violations: int


@dataclass
class PreemptionResult:
    """A node to nominate and the pods to evict, or (node None) why preemption did not help."""

    node: str | None = None
    victims: list[PodInfo] = field(default_factory=list)
    clear_nominated: list[PodInfo] = field(default_factory=list)
    message: str = ""  # the PostFilter message, "preemption: ..."
    eligible: bool = True  # False: the pod may not preempt (its nomination stands)


def more_important(a: PodInfo, b: PodInfo) -> bool:
    """Kubernetes' MoreImportantPod: higher priority, then the earlier start."""
    if a.priority != b.priority:
        return a.priority > b.priority
    return a.start_time < b.start_time


def _importance_key(p: PodInfo) -> tuple[int, str]:
    return (-p.priority, p.start_time)


def eligible(pod: PodInfo, snapshot: Snapshot, statuses: Mapping[str, Status]) -> str:
    """"" if `pod` may preempt, else the reason it may not."""
    if pod.preemption_policy == "Never":
        return NOT_ELIGIBLE_NEVER
    nominated = pod.nominated_node_name
    if nominated:
        status = statuses.get(nominated)
        if status is not None and status.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
            return ""
        node = snapshot.get(nominated)
        if node is not None:
            for other in node.pods.values():
                if other.priority < pod.priority and other.terminating and other.preempted:
                    return NOT_ELIGIBLE_TERMINATING
    return ""


def _split_by_pdb(pods: Sequence[PodInfo], pdbs: Sequence[DisruptionBudget]) -> tuple[list[PodInfo], list[PodInfo]]:
    """(pods whose eviction would violate a budget, the others), order kept."""
    allowed = [pdb.allowed for pdb in pdbs]
    violating: list[PodInfo] = []
    other: list[PodInfo] = []
    for pod in pods:
        violates = False
        for i, pdb in enumerate(pdbs):
            if not pdb.covers(pod) or pod.name in pdb.disrupted:
                continue
            allowed[i] -= 1
            if allowed[i] < 0:
                violates = True
        (violating if violates else other).append(pod)
    return violating, other


def select_victims(framework: Framework, states: FilterStates, pod: PodInfo, node: NodeInfo, snapshot: Snapshot,
                   nominated: Mapping[str, Iterable[PodInfo]], pdbs: Sequence[DisruptionBudget],
                   ) -> tuple[list[PodInfo], int, Status | None]:
    """The fewest lower-priority pods to evict from `node` for `pod` to fit: (victims, most
    important first; how many violate a budget; None) or ([], 0, why not)."""
    lower = [p for p in node.pods.values() if p.priority < pod.priority]
    if not lower:
        return [], 0, Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, NO_PREEMPTION_VICTIMS, plugin="DefaultPreemption")
    trial = node.clone()
    cloned: FilterStates = [(plugin, plugin.clone_state(state)) for plugin, state in states]

    def remove(p: PodInfo) -> None:
        trial.remove_pod(p.key)
        for plugin, state in cloned:
            plugin.remove_pod(state, pod, p, trial, snapshot)

    def add(p: PodInfo) -> None:
        trial.add_pod(p)
        for plugin, state in cloned:
            plugin.add_pod(state, pod, p, trial, snapshot)

    for p in lower:
        remove(p)
    status = framework.run_filters_with_nominated(cloned, pod, trial, snapshot, nominated)
    if status is not None:
        return [], 0, status
    lower.sort(key=_importance_key)
    violating, other = _split_by_pdb(lower, pdbs)
    victims: list[PodInfo] = []
    violations = 0
    for group, counts in ((violating, True), (other, False)):
        for p in group:
            add(p)
            if framework.run_filters_with_nominated(cloned, pod, trial, snapshot, nominated) is not None:
                remove(p)
                victims.append(p)
                if counts:
                    violations += 1
    victims.sort(key=_importance_key)
    return victims, violations, None


def pick_node(candidates: Sequence[Candidate]) -> Candidate:
    """Kubernetes' pickOneNodeForPreemption criteria, applied in turn until one node is left."""
    remaining = list(candidates)

    def keep_min(score: Any) -> None:
        nonlocal remaining
        best = min(score(c) for c in remaining)
        remaining = [c for c in remaining if score(c) == best]

    keep_min(lambda c: c.pdb_violations)
    if len(remaining) > 1:
        keep_min(lambda c: c.victims[0].priority)
    if len(remaining) > 1:
        keep_min(lambda c: sum(p.priority + _INT32_OFFSET for p in c.victims))
    if len(remaining) > 1:
        keep_min(lambda c: len(c.victims))
    if len(remaining) > 1:
        def earliest_top(c: Candidate) -> str:
            top = c.victims[0].priority
            return min(p.start_time for p in c.victims if p.priority == top)
        latest = max(earliest_top(c) for c in remaining)
        remaining = [c for c in remaining if earliest_top(c) == latest]
    return remaining[0]


def preempt(framework: Framework, states: FilterStates, pod: PodInfo, snapshot: Snapshot,
            statuses: Mapping[str, Status], nominated: Mapping[str, Iterable[PodInfo]] | None = None,
            pdbs: Sequence[DisruptionBudget] = (), rng: random.Random | None = None) -> PreemptionResult:
    """Run DefaultPreemption for `pod` after a failed cycle (see the module doc)."""
    nominated = nominated or {}
    reason = eligible(pod, snapshot, statuses)
    if reason:
        return PreemptionResult(message=f"preemption: {reason}", eligible=False)
    nodes = snapshot.node_list
    node_statuses: dict[str, Status] = {}
    potential: list[NodeInfo] = []
    for node in nodes:
        status = statuses.get(node.name)
        if status is not None and status.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
            node_statuses[node.name] = Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, PREEMPTION_NOT_HELPFUL)
        else:
            potential.append(node)
    candidates: list[Candidate] = []
    if potential:
        wanted = max(len(potential) * MIN_CANDIDATE_NODES_PERCENTAGE // 100, MIN_CANDIDATE_NODES_ABSOLUTE)
        wanted = min(wanted, len(potential))
        offset = (rng or random).randrange(len(potential))
        non_violating = 0
        for i in range(len(potential)):
            node = potential[(offset + i) % len(potential)]
            victims, violations, status = select_victims(framework, states, pod, node, snapshot, nominated, pdbs)
            if status is None and victims:
                candidates.append(Candidate(node.name, victims, violations))
                if violations == 0:
                    non_violating += 1
                if non_violating and len(candidates) >= wanted:
                    break
            else:
                node_statuses[node.name] = status or Status(Code.ERROR, f'expected at least one victim pod on node "{node.name}"')
    if not candidates:
        return PreemptionResult(message=f"preemption: {fit_error_message(len(nodes), node_statuses)}")
    chosen = pick_node(candidates)
    clear = [p for p in nominated.get(chosen.node, ()) if p.priority < pod.priority and p.key != pod.key]
    return PreemptionResult(node=chosen.node, victims=chosen.victims, clear_nominated=clear)
