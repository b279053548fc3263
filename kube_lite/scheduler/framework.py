"""The scheduling framework: one pod, one snapshot, a node or the reasons there is none.

`Framework.schedule(pod, snapshot, start, nominated)` is Kubernetes' schedulePod as a pure
function: PreFilter every filter plugin, Filter nodes from `start` (rotating) until enough
feasible nodes are found (percentageOfNodesToScore), Score them with the weighted plugins and
pick the best (ties broken at random). It returns a `ScheduleResult` or raises `FitError`,
whose `message()` is the FailedScheduling text Kubernetes writes:

    0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: },
    2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available:
    3 Preemption is not helpful for scheduling.

Nominated pods (pods that preempted others and wait for the room they made) of equal or higher
priority are counted on their nominated node, as Kubernetes' RunFilterPluginsWithNominatedPods
does, so a lower-priority pod cannot take that room.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kube_lite.scheduler.nodeinfo import NodeInfo
from kube_lite.scheduler.plugin import Plugin, Snapshot
from kube_lite.scheduler.plugins import default_plugins
from kube_lite.scheduler.podinfo import PodInfo
from kube_lite.scheduler.status import NO_NODES_AVAILABLE, SKIP, Status

FilterStates = list[tuple[Plugin, Any]]

MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5
BASE_PERCENTAGE_OF_NODES_TO_SCORE = 50
_MIN_CHUNK = 16


def num_feasible_nodes_to_find(percentage: int | None, num_all_nodes: int) -> int:
    """How many feasible nodes to look for before scoring (Kubernetes' numFeasibleNodesToFind):
    every node below 100 nodes; else `percentage` of them (adaptive when None or 0: 50% minus
    1% per 125 nodes, at least 5%), and at least 100."""
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    adaptive = percentage or 0
    if adaptive <= 0:
        adaptive = BASE_PERCENTAGE_OF_NODES_TO_SCORE - num_all_nodes // 125
        if adaptive < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND:
            adaptive = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND
    if adaptive >= 100:
        return num_all_nodes
    num = num_all_nodes * adaptive // 100
    return max(num, MIN_FEASIBLE_NODES_TO_FIND)


def fit_error_message(num_all_nodes: int, statuses: Mapping[str, Status] | Iterable[Status],
                      pre_filter_message: str = "", post_filter_message: str = "") -> str:
    """Kubernetes' FitError.Error(): "0/N nodes are available: " then the count of each reason
    over the nodes ("2 Insufficient cpu"), sorted as strings, then the PostFilter message."""
    message = f"0/{num_all_nodes} nodes are available:"
    if pre_filter_message:
        message += f" {pre_filter_message}."
    else:
        counts: dict[str, int] = {}
        values = statuses.values() if isinstance(statuses, Mapping) else statuses
        for status in values:
            for reason in status.reasons:
                counts[reason] = counts.get(reason, 0) + 1
        histogram = sorted(f"{count} {reason}" for reason, count in counts.items())
        if histogram:
            message += f" {', '.join(histogram)}."
    if post_filter_message:
        # The PostFilter message is itself a sentence ("preemption: 0/3 nodes are available:
        # ... scheduling."): end it with one period, not two.
        message += f" {post_filter_message.removesuffix('.')}."
    return message


def _positions(values: list[int], wanted: int, count: int) -> list[int]:
    """The indexes of the `count` occurrences of `wanted` in `values`: by list.index, which
    runs in C, when they are few; by a comprehension when they are many."""
    if count > 16:
        return [i for i, v in enumerate(values) if v == wanted]
    out = []
    i = -1
    for _ in range(count):
        i = values.index(wanted, i + 1)
        out.append(i)
    return out


@dataclass
class ScheduleResult:
    node: str
    evaluated: int  # nodes filtered (feasible or not): the start index moves by this much
    feasible: int


class FitError(Exception):
    """No node fits the pod. `statuses` holds each rejected node's status."""

    def __init__(self, pod: PodInfo, num_all_nodes: int, statuses: dict[str, Status],
                 pre_filter_status: Status | None = None, evaluated: int = 0) -> None:
        super().__init__()
        self.pod = pod
        self.num_all_nodes = num_all_nodes
        self.statuses = statuses
        self.pre_filter_status = pre_filter_status
        self.post_filter_message = ""
        self.evaluated = evaluated
        self.states: FilterStates = []  # the cycle's filter states, for PostFilter

    def message(self) -> str:
        pre = self.pre_filter_status.message if self.pre_filter_status is not None else ""
        return fit_error_message(self.num_all_nodes, self.statuses, pre, self.post_filter_message)

    __str__ = message

    @property
    def unschedulable_plugins(self) -> set[str]:
        """The plugins that rejected the pod somewhere (which events may help it)."""
        if self.pre_filter_status is not None:
            return {self.pre_filter_status.plugin}
        return {s.plugin for s in self.statuses.values() if s.plugin}


class NoNodesAvailable(Exception):
    """The cluster has no nodes at all (Kubernetes' ErrNoNodesAvailable)."""

    def __str__(self) -> str:
        return NO_NODES_AVAILABLE


@dataclass
class Framework:
    """One scheduling profile: its plugins, in order, and percentageOfNodesToScore."""

    plugins: list[Plugin] = field(default_factory=default_plugins)
    percentage_of_nodes_to_score: int | None = None
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self.filter_plugins = [p for p in self.plugins if p.is_filter]
        self.score_plugins = [p for p in self.plugins if p.is_score and p.weight]
        self.plugin_events = {p.name: p.events for p in self.plugins}
        self._memo_keys: dict[tuple[Any, ...], int] = {}
        self._memo_ids = itertools.count()

    # ------------------------------------------------------------------ filtering

    def pre_filter(self, pod: PodInfo, snapshot: Snapshot) -> FilterStates:
        """Run every PreFilter; the (plugin, state) pairs whose filters must run. Raises
        FitError when a PreFilter rejects the pod outright."""
        states: FilterStates = []
        for plugin in self.filter_plugins:
            state = plugin.pre_filter(pod, snapshot)
            if state is SKIP:
                continue
            if isinstance(state, Status):
                if not state.plugin:
                    state = Status(state.code, *state.reasons, plugin=plugin.name)
                raise FitError(pod, snapshot.num_nodes, {n.name: state for n in snapshot.node_list}, pre_filter_status=state)
            states.append((plugin, state))
        return states

    @staticmethod
    def run_filters(states: FilterStates, pod: PodInfo, node: NodeInfo) -> Status | None:
        """The first failing filter's status on `node`, or None."""
        for plugin, state in states:
            status = plugin.filter(state, pod, node)
            if status is not None:
                return status
        return None

    @staticmethod
    def _relevant_nominated(pod: PodInfo, nominated: Iterable[PodInfo]) -> list[PodInfo]:
        return [p for p in nominated if p.priority >= pod.priority and p.key != pod.key]

    def run_filters_with_nominated(self, states: FilterStates, pod: PodInfo, node: NodeInfo, snapshot: Snapshot,
                                   nominated: Mapping[str, Iterable[PodInfo]]) -> Status | None:
        """Filter `node` as if the pods nominated to it with at least the pod's priority were
        running there, and (if there were any) also without them: a pod must fit both ways,
        since the nominated pods may or may not end up there (Kubernetes' two passes)."""
        others = self._relevant_nominated(pod, nominated.get(node.name, ()))
        if not others:
            return self.run_filters(states, pod, node)
        with_them = node.clone()
        cloned: FilterStates = [(plugin, plugin.clone_state(state)) for plugin, state in states]
        for other in others:
            with_them.add_pod(other)
            for plugin, state in cloned:
                plugin.add_pod(state, pod, other, with_them, snapshot)
        status = self.run_filters(cloned, pod, with_them)
        if status is not None:
            return status
        return self.run_filters(states, pod, node)

    def find_feasible(self, pod: PodInfo, snapshot: Snapshot, states: FilterStates, start: int,
                      num_to_find: int, nominated: Mapping[str, Iterable[PodInfo]] | None = None,
                      ) -> tuple[list[NodeInfo], dict[str, Status], int]:
        """Filter nodes from index `start` (wrapping) until `num_to_find` fit or all are seen.
        Returns (feasible nodes, status of each rejected node, number of nodes evaluated)."""
        nodes = snapshot.node_list
        total = len(nodes)
        feasible: list[NodeInfo] = []
        statuses: dict[str, Status] = {}
        processed = 0
        hot = set()
        if nominated:
            hot = {name for name, pods in nominated.items() if self._relevant_nominated(pod, pods)}
        while processed < total and len(feasible) < num_to_find:
            need = num_to_find - len(feasible)
            size = min(total - processed, max(need, _MIN_CHUNK))
            lo = (start + processed) % total
            hi = lo + size
            chunk = nodes[lo:hi] if hi <= total else nodes[lo:] + nodes[: hi - total]
            failed: list[tuple[NodeInfo, Status]] = []
            if hot and any(n.name in hot for n in chunk):
                passed = []
                for n in chunk:
                    status = self.run_filters_with_nominated(states, pod, n, snapshot, nominated or {})
                    if status is None:
                        passed.append(n)
                    else:
                        failed.append((n, status))
            else:
                passed = list(chunk)
                for plugin, state in states:
                    passed, rejected = plugin.filter_many(state, pod, passed)
                    failed.extend(rejected)
                    if not passed:
                        break
            if len(passed) >= need and (len(passed) > need or size > need):
                # Stop right after the node that completes the search, as a sequential search
                # would: later nodes of the chunk count as not evaluated.
                if not failed:
                    position = need - 1
                else:
                    last = passed[need - 1]
                    position = next(i for i, n in enumerate(chunk) if n is last)
                    cut = {id(n) for n in chunk[position + 1:]}
                    failed = [(n, s) for n, s in failed if id(n) not in cut]
                passed = passed[:need]
                size = position + 1
            feasible.extend(passed)
            for n, status in failed:
                statuses[n.name] = status
            processed += size
        return feasible, statuses, processed

    # ------------------------------------------------------------------ scoring

    def prioritize(self, pod: PodInfo, snapshot: Snapshot, nodes: Sequence[NodeInfo]) -> list[int]:
        """The weighted sum of the normalized scores of every score plugin, per node."""
        local: list[tuple[Plugin, Any]] = []
        others: list[tuple[Plugin, Any]] = []
        for plugin in self.score_plugins:
            state = plugin.pre_score(pod, snapshot, nodes)
            if state is not SKIP:
                (local if plugin.node_local else others).append((plugin, state))
        totals = self._node_local_totals(pod, nodes, local) if local else [0] * len(nodes)
        for plugin, state in others:
            scores = plugin.normalize(state, plugin.score_many(state, pod, nodes))
            totals = self._add(totals, scores, plugin.weight)
        return totals

    def _node_local_totals(self, pod: PodInfo, nodes: Sequence[NodeInfo], local: list[tuple[Plugin, Any]]) -> list[int]:
        """The weighted sum of the node-local plugins, memoized per node version.

        The plugins, weights and states are named by an integer key. A node remembers its last
        key and total in two slots (one comparison per node: most pods of a burst look alike)
        and older ones in a small dict; any change of the node clears both. Only the nodes
        that changed since the last pod with the same key are scored."""
        signature = tuple((plugin.name, plugin.weight, state) for plugin, state in local)
        key = self._memo_keys.get(signature)
        if key is None:
            if len(self._memo_keys) > 100_000:
                self._memo_keys.clear()  # ids are never reused, so old memos just miss
            key = self._memo_keys[signature] = next(self._memo_ids)
        totals = [n.memo_score if n.memo_key == key else -1 for n in nodes]  # totals are never negative
        misses = totals.count(-1)
        if not misses:
            return totals
        stale: list[int] = []
        for i in _positions(totals, -1, misses):
            node = nodes[i]
            value = node.memo.get(key)
            if value is None:
                stale.append(i)
            else:
                totals[i] = value
                node.memo_key, node.memo_score = key, value
        if stale:
            stale_nodes = [nodes[i] for i in stale]
            partial = [0] * len(stale)
            for plugin, state in local:
                partial = self._add(partial, plugin.score_many(state, pod, stale_nodes), plugin.weight)
            for i, node, value in zip(stale, stale_nodes, partial, strict=True):
                totals[i] = value
                memo = node.memo
                if len(memo) > 32:
                    memo.clear()
                memo[key] = value
                node.memo_key, node.memo_score = key, value
        return totals

    @staticmethod
    def _add(totals: list[int], scores: list[int], weight: int) -> list[int]:
        if weight == 1:
            return [t + s for t, s in zip(totals, scores, strict=True)]
        return [t + s * weight for t, s in zip(totals, scores, strict=True)]

    def select_host(self, nodes: Sequence[NodeInfo], totals: list[int]) -> NodeInfo:
        """The best-scored node; ties broken uniformly at random (Kubernetes samples them)."""
        best = max(totals)
        ties = totals.count(best)
        if ties == 1:
            return nodes[totals.index(best)]
        return nodes[_positions(totals, best, ties)[self.rng.randrange(ties)]]

    # ------------------------------------------------------------------ one pod

    def schedule(self, pod: PodInfo, snapshot: Snapshot, start: int = 0,
                 nominated: Mapping[str, Iterable[PodInfo]] | None = None) -> ScheduleResult:
        """Choose a node for `pod`. Raises NoNodesAvailable or FitError."""
        nodes = snapshot.node_list
        if not nodes:
            raise NoNodesAvailable
        states = self.pre_filter(pod, snapshot)
        # A pod that preempted others tries the node it made room on first.
        if pod.nominated_node_name:
            node = snapshot.get(pod.nominated_node_name)
            if node is not None and self.run_filters_with_nominated(states, pod, node, snapshot, nominated or {}) is None:
                return ScheduleResult(node.name, 0, 1)  # the rotation does not move for it
        num_to_find = num_feasible_nodes_to_find(self.percentage_of_nodes_to_score, len(nodes))
        feasible, statuses, processed = self.find_feasible(pod, snapshot, states, start, num_to_find, nominated)
        if not feasible:
            error = FitError(pod, len(nodes), statuses, evaluated=processed)
            error.states = states
            raise error
        if len(feasible) == 1:
            return ScheduleResult(feasible[0].name, processed, 1)
        totals = self.prioritize(pod, snapshot, feasible)
        return ScheduleResult(self.select_host(feasible, totals).name, processed, len(feasible))
