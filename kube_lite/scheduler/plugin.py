"""The plugin interface of the scheduling framework, and the cluster events plugins listen to.

A plugin is a stateless object (its only attributes are configuration, such as a score weight);
every hook is a pure function of the pod being scheduled, a read-only snapshot (the scheduler
cache, see cache.py) and the per-cycle state the plugin's own pre-hook returned:

- Filter: `pre_filter(pod, snapshot)` returns a state for `filter`, `SKIP` when the plugin has
  nothing to check for this pod (Kubernetes' PreFilter Skip), or a `Status` to reject the pod
  on every node. `filter(state, pod, node)` returns None when the pod fits `node`, else a
  Status. `filter_many` is the same over a list of nodes; plugins override it with a tight loop
  for the common case, which is what keeps a Python scheduler fast.
- PreFilter extensions: `add_pod`/`remove_pod` update a state as if a pod were added to or
  removed from a node (for nominated pods and preemption's what-ifs); `clone_state` copies a
  state before such an update. Plugins whose state does not depend on other pods keep the
  defaults.
- Score: `pre_score(pod, snapshot, nodes)` returns a state or SKIP; `score_many(state, pod,
  nodes)` a raw score per node; `normalize(state, scores)` maps them to 0..MAX_NODE_SCORE.
  The framework multiplies by `weight` and sums. A plugin whose score of a node depends only
  on that node and the pre-score state (which must then be hashable), and that does not
  normalize, sets `node_local`: the framework then memoizes its weighted score per node
  version, so only the nodes that changed since the last pod with the same requests are scored.

`events` names the cluster events after which a pod this plugin rejected may fit (Kubernetes'
EventsToRegister): the queue moves an unschedulable pod back to the active queue only on an
event one of its rejecting plugins listens to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol

from kube_lite.scheduler.nodeinfo import NodeInfo
from kube_lite.scheduler.podinfo import PodInfo
from kube_lite.scheduler.status import SKIP, Status

MAX_NODE_SCORE = 100

# Cluster events (Kubernetes' ClusterEvent resource/action pairs, flattened).
NODE_ADD = "NodeAdd"
NODE_DELETE = "NodeDelete"
NODE_LABEL = "NodeLabelChange"
NODE_TAINT = "NodeTaintChange"  # taints, or spec.unschedulable
NODE_ALLOCATABLE = "NodeAllocatableChange"
POD_ADD = "AssignedPodAdd"
POD_UPDATE = "AssignedPodUpdate"  # labels of a bound pod
POD_DELETE = "AssignedPodDelete"  # deleted, or finished (Succeeded/Failed)
NAMESPACE_CHANGE = "NamespaceChange"
PRIORITY_CLASS_CHANGE = "PriorityClassChange"
WILDCARD = "*"  # every plugin is interested (the periodic flush, priority class changes)


class Snapshot(Protocol):
    """What plugins may read of the cluster (implemented by SchedulerCache)."""

    @property
    def node_list(self) -> list[NodeInfo]: ...

    @property
    def num_nodes(self) -> int: ...

    def get(self, name: str) -> NodeInfo | None: ...

    def nodes_with_affinity_pods(self) -> list[NodeInfo]: ...

    def nodes_with_required_anti_affinity_pods(self) -> list[NodeInfo]: ...

    namespace_labels: Mapping[str, Mapping[str, str]]
    image_nodes: Mapping[str, int]
    unschedulable_nodes: int
    hard_tainted_nodes: int
    soft_tainted_nodes: int
    pods_with_affinity: int
    pods_with_required_anti_affinity: int


class Plugin:
    """Base class: every hook has the neutral default (filter passes, score skips)."""

    name: ClassVar[str] = ""
    events: ClassVar[frozenset[str]] = frozenset()
    is_filter: ClassVar[bool] = False
    is_score: ClassVar[bool] = False
    default_weight: ClassVar[int] = 1
    node_local: ClassVar[bool] = False

    def __init__(self, weight: int | None = None) -> None:
        self.weight = self.default_weight if weight is None else weight

    # ------------------------------------------------------------------ filter

    def pre_filter(self, pod: PodInfo, snapshot: Snapshot) -> Any:
        """A state for `filter`, SKIP, or a Status rejecting the pod everywhere."""
        return None

    def filter(self, state: Any, pod: PodInfo, node: NodeInfo) -> Status | None:
        """None if `pod` fits `node`, else why not."""
        return None

    def filter_many(self, state: Any, pod: PodInfo, nodes: Sequence[NodeInfo]) -> tuple[list[NodeInfo], list[tuple[NodeInfo, Status]]]:
        """`filter` over `nodes`: (the nodes that pass, in order; the failures with their status)."""
        passed: list[NodeInfo] = []
        failed: list[tuple[NodeInfo, Status]] = []
        check = self.filter
        for node in nodes:
            status = check(state, pod, node)
            if status is None:
                passed.append(node)
            else:
                failed.append((node, status))
        return passed, failed

    def clone_state(self, state: Any) -> Any:
        """A copy of a filter state that add_pod/remove_pod may change."""
        return state

    def add_pod(self, state: Any, pod: PodInfo, added: PodInfo, node: NodeInfo, snapshot: Snapshot) -> None:
        """Update `state` (a clone) as if `added` ran on `node`."""

    def remove_pod(self, state: Any, pod: PodInfo, removed: PodInfo, node: NodeInfo, snapshot: Snapshot) -> None:
        """Update `state` (a clone) as if `removed` were gone from `node`."""

    # ------------------------------------------------------------------ score

    def pre_score(self, pod: PodInfo, snapshot: Snapshot, nodes: Sequence[NodeInfo]) -> Any:
        return SKIP

    def score_many(self, state: Any, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[int]:
        return [0] * len(nodes)

    def normalize(self, state: Any, scores: list[int]) -> list[int]:
        return scores

    def __repr__(self) -> str:
        return f"{type(self).__name__}(weight={self.weight})"


def default_normalize(scores: list[int], reverse: bool = False) -> list[int]:
    """Kubernetes' DefaultNormalizeScore: scale to 0..100 by the maximum (integer division);
    `reverse` turns high into low. All zero: all 0, or all 100 when reversed."""
    top = max(scores, default=0)
    if top == 0:
        return [MAX_NODE_SCORE] * len(scores) if reverse else scores
    if reverse:
        return [MAX_NODE_SCORE - MAX_NODE_SCORE * s // top for s in scores]
    return [MAX_NODE_SCORE * s // top for s in scores]
