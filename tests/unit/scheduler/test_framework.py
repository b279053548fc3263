"""The framework: how many nodes to search, where to start, the FailedScheduling message,
nominated pods, and the fast paths (chunked filtering, memoized scores) against the plain ones."""

from __future__ import annotations

import random

import pytest

from kube_lite.scheduler.cache import SchedulerCache
from kube_lite.scheduler.framework import (
    FitError,
    Framework,
    NoNodesAvailable,
    fit_error_message,
    num_feasible_nodes_to_find,
)
from kube_lite.scheduler.podinfo import PodInfo
from kube_lite.scheduler.status import Code, Status

from .helpers import info, node, pod

CONTROL_PLANE = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


@pytest.mark.parametrize(
    ("percentage", "nodes", "expected"),
    [
        (None, 50, 50), (None, 99, 99), (None, 100, 100), (None, 1000, 420), (None, 5000, 500),
        (None, 6000, 300), (None, 10000, 500), (0, 1000, 420), (30, 1000, 300), (100, 1000, 1000), (10, 500, 100),
    ],
)
def test_num_feasible_nodes_to_find(percentage: int | None, nodes: int, expected: int) -> None:
    assert num_feasible_nodes_to_find(percentage, nodes) == expected


def test_fit_error_message_is_kubernetes() -> None:
    taint = Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }")
    selector = Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, "node(s) didn't match Pod's node affinity/selector")
    message = fit_error_message(3, {"master": taint, "node1": selector, "node2": selector},
                                post_filter_message="preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")
    assert message == (
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
        "2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: "
        "3 Preemption is not helpful for scheduling."
    )


def test_fit_error_message_sorts_reason_strings_and_counts_every_reason() -> None:
    both = Status(Code.UNSCHEDULABLE, "Insufficient cpu", "Insufficient memory")
    cpu = Status(Code.UNSCHEDULABLE, "Insufficient cpu")
    ports = Status(Code.UNSCHEDULABLE, "node(s) didn't have free ports for the requested pod ports")
    statuses = {"a": both, "b": cpu, "c": cpu, "d": ports} | {f"x{i}": ports for i in range(9)}
    # Sorted as strings, as Go's sort.Strings does: "1 ..." < "10 ..." < "3 ...".
    assert fit_error_message(13, statuses) == (
        "0/13 nodes are available: 1 Insufficient memory, "
        "10 node(s) didn't have free ports for the requested pod ports, 3 Insufficient cpu."
    )


def test_schedule_reports_every_node_when_nothing_fits() -> None:
    snapshot = SchedulerCache.from_objects([node("master", taints=[CONTROL_PLANE]), node("node1"), node("node2")])
    with pytest.raises(FitError) as caught:
        Framework().schedule(info("echoserver", nodeSelector={"apptype": "echoserver"}), snapshot)
    assert caught.value.message() == (
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
        "2 node(s) didn't match Pod's node affinity/selector."
    )
    assert caught.value.unschedulable_plugins == {"TaintToleration", "NodeAffinity"}


def test_schedule_without_nodes() -> None:
    with pytest.raises(NoNodesAvailable, match="no nodes available to schedule pods"):
        Framework().schedule(info("p"), SchedulerCache())


def test_schedule_prefers_the_emptier_node() -> None:
    snapshot = SchedulerCache.from_objects([node("busy"), node("idle")], [pod("e", node_name="busy", cpu="3", memory="6Gi")])
    assert Framework().schedule(info("p", cpu="500m", memory="1Gi"), snapshot).node == "idle"


def test_search_stops_at_the_feasible_count_and_rotates() -> None:
    snapshot = SchedulerCache.from_objects([node(f"n{i:03d}") for i in range(200)])
    framework = Framework()
    # 200 nodes: 50 - 1 = 49% of them, i.e. 98, raised to the minimum of 100.
    result = framework.schedule(info("p"), snapshot, start=150)
    assert result.evaluated == 100 and result.feasible == 100
    names = [n.name for n in snapshot.node_list]
    states = framework.pre_filter(info("p"), snapshot)
    feasible, _, processed = framework.find_feasible(info("p"), snapshot, states, 150, 100)
    assert [n.name for n in feasible] == names[150:] + names[:50]
    assert processed == 100


def test_nodes_interleave_zones() -> None:
    nodes = [node(f"a{i}", labels={"topology.kubernetes.io/zone": "a"}) for i in range(3)]
    nodes += [node(f"b{i}", labels={"topology.kubernetes.io/zone": "b"}) for i in range(2)]
    snapshot = SchedulerCache.from_objects(nodes)
    assert [n.name for n in snapshot.node_list] == ["a0", "b0", "a1", "b1", "a2"]


def test_nominated_pods_keep_their_room() -> None:
    snapshot = SchedulerCache.from_objects([node("n1", cpu="2"), node("n2", cpu="2")],
                                           [pod("e", node_name="n2", cpu="2")])
    high = info("high", cpu="2", priority=100)
    nominated = {"n1": [high]}
    framework = Framework()
    # A lower-priority pod may not take the room the nominated pod made.
    with pytest.raises(FitError):
        framework.schedule(info("low", cpu="1", priority=10), snapshot, nominated=nominated)
    # The nominated pod itself (and an equal or higher one would be checked against it) fits.
    high.nominated_node_name = "n1"
    assert framework.schedule(high, snapshot, nominated=nominated).node == "n1"
    # Pods of higher priority than the nominated one ignore it.
    assert framework.schedule(info("top", cpu="1", priority=1000), snapshot, nominated=nominated).node == "n1"


def _reference_find(framework: Framework, p: PodInfo, snapshot: SchedulerCache, start: int, wanted: int):
    """The plain sequential search of Kubernetes' findNodesThatPassFilters."""
    states = framework.pre_filter(p, snapshot)
    nodes = snapshot.node_list
    feasible, statuses, processed = [], {}, 0
    for i in range(len(nodes)):
        if len(feasible) >= wanted:
            break
        n = nodes[(start + i) % len(nodes)]
        processed += 1
        status = framework.run_filters(states, p, n)
        if status is None:
            feasible.append(n.name)
        else:
            statuses[n.name] = status.reasons
    return feasible, statuses, processed


def test_chunked_search_equals_the_sequential_one() -> None:
    rng = random.Random(7)
    framework = Framework()
    for trial in range(40):
        nodes = []
        for i in range(rng.randint(1, 300)):
            taints = [CONTROL_PLANE] if rng.random() < 0.1 else []
            labels = {"pool": rng.choice("abc")}
            nodes.append(node(f"n{i}", cpu=str(rng.randint(1, 4)), labels=labels, taints=taints,
                              unschedulable=rng.random() < 0.05))
        pods = [pod(f"e{j}", node_name=f"n{rng.randrange(len(nodes))}", cpu=f"{rng.randint(1, 3) * 500}m")
                for j in range(rng.randint(0, 2 * len(nodes)))]
        snapshot = SchedulerCache.from_objects(nodes, pods)
        spec = {"nodeSelector": {"pool": rng.choice("abc")}} if rng.random() < 0.5 else {}
        p = info("p", cpu=f"{rng.randint(1, 4) * 500}m", spec=spec)
        start = rng.randrange(len(nodes))
        wanted = rng.choice([1, 5, 50, len(nodes)])
        states = framework.pre_filter(p, snapshot)
        feasible, statuses, processed = framework.find_feasible(p, snapshot, states, start, wanted)
        expected = _reference_find(framework, p, snapshot, start, wanted)
        got = ([n.name for n in feasible], {k: s.reasons for k, s in statuses.items()}, processed)
        assert got == expected, f"trial {trial}"


def test_memoized_scores_follow_node_changes() -> None:
    snapshot = SchedulerCache.from_objects([node(f"n{i}") for i in range(5)])
    framework = Framework()
    p = info("p", cpu="1", memory="1Gi")
    nodes = snapshot.node_list
    first = framework.prioritize(p, snapshot, nodes)
    assert framework.prioritize(p, snapshot, nodes) == first  # served from the memo
    snapshot.assume_pod(info("x", cpu="2", memory="2Gi"), "n2")
    after = framework.prioritize(p, snapshot, nodes)
    fresh = Framework().prioritize(p, snapshot, nodes)
    assert after == fresh
    assert after[2] < first[2] and after[:2] == first[:2]
