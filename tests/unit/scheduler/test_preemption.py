"""DefaultPreemption as a pure function: which node, which victims, and why not."""

from __future__ import annotations

import random
from typing import Any

import pytest

from kube_lite.scheduler.cache import SchedulerCache
from kube_lite.scheduler.framework import FitError, Framework
from kube_lite.scheduler.podinfo import PodInfo
from kube_lite.scheduler.preemption import DisruptionBudget, PreemptionResult, preempt

from .helpers import info, node, pod


def attempt(nodes: list[dict[str, Any]], bound: list[dict[str, Any]], p: PodInfo,
            pdbs: list[DisruptionBudget] = ()) -> PreemptionResult:
    snapshot = SchedulerCache.from_objects(nodes, [PodInfo.of(b) for b in bound])
    framework = Framework(rng=random.Random(0))
    with pytest.raises(FitError) as caught:
        framework.schedule(p, snapshot)
    fit = caught.value
    return preempt(framework, fit.states, p, snapshot, fit.statuses, {}, pdbs, random.Random(0))


def victims(result: PreemptionResult) -> list[str]:
    return [v.name for v in result.victims]


def test_evicts_the_lower_priority_pod() -> None:
    result = attempt([node("n1", cpu="2")], [pod("low", node_name="n1", cpu="2", priority=0)],
                     info("high", cpu="2", priority=100))
    assert result.node == "n1" and victims(result) == ["low"]


def test_never_evicts_equal_or_higher_priority() -> None:
    result = attempt([node("n1", cpu="2")], [pod("peer", node_name="n1", cpu="2", priority=100)],
                     info("high", cpu="2", priority=100))
    assert result.node is None
    assert result.message == "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."


def test_prefers_the_node_with_the_lowest_priority_victims() -> None:
    result = attempt(
        [node("n1", cpu="2"), node("n2", cpu="2")],
        [pod("mid", node_name="n1", cpu="2", priority=10), pod("low", node_name="n2", cpu="2", priority=5)],
        info("high", cpu="2", priority=100))
    assert result.node == "n2" and victims(result) == ["low"]


def test_prefers_fewer_victims_at_equal_priority() -> None:
    result = attempt(
        [node("n1", cpu="2"), node("n2", cpu="2")],
        [pod("a", node_name="n1", cpu="1", priority=10), pod("b", node_name="n1", cpu="1", priority=10),
         pod("c", node_name="n2", cpu="2", priority=10)],
        info("high", cpu="2", priority=100))
    assert result.node == "n2" and victims(result) == ["c"]


def test_reprieves_the_most_important_pods_first() -> None:
    result = attempt(
        [node("n1", cpu="3")],
        [pod("a", node_name="n1", cpu="1", priority=1), pod("b", node_name="n1", cpu="1", priority=2),
         pod("c", node_name="n1", cpu="1", priority=3)],
        info("high", cpu="1", priority=100))
    assert victims(result) == ["a"]
    result = attempt(
        [node("n1", cpu="3")],
        [pod("a", node_name="n1", cpu="1", priority=1), pod("b", node_name="n1", cpu="1", priority=2),
         pod("c", node_name="n1", cpu="1", priority=3)],
        info("high", cpu="2", priority=100))
    assert victims(result) == ["b", "a"]  # most important first


def test_does_not_preempt_where_it_cannot_help() -> None:
    taint = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
    result = attempt([node("master", taints=[taint])], [pod("low", node_name="master", priority=0)],
                     info("high", cpu="1", priority=100))
    assert result.node is None and result.eligible
    assert result.message == "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."


def test_larger_than_the_node_is_not_helpful() -> None:
    result = attempt([node("n1", cpu="2")], [pod("low", node_name="n1", cpu="1", priority=0)],
                     info("huge", cpu="3", priority=100))
    assert result.message == "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."


def test_preemption_policy_never() -> None:
    result = attempt([node("n1", cpu="1")], [pod("low", node_name="n1", cpu="1")],
                     info("high", cpu="1", priority=100, preemptionPolicy="Never"))
    assert result.node is None and not result.eligible
    assert result.message == "preemption: not eligible due to preemptionPolicy=Never."


def test_waits_for_a_terminating_victim_on_its_nominated_node() -> None:
    victim = pod("low", node_name="n1", cpu="1")
    victim["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    victim["status"]["conditions"] = [{"type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler"}]
    preemptor = info("high", cpu="1", priority=100)
    preemptor.nominated_node_name = "n1"
    result = attempt([node("n1", cpu="1")], [victim], preemptor)
    assert result.message == "preemption: not eligible due to a terminating pod on the nominated node."


def test_pod_disruption_budgets_are_a_preference() -> None:
    nodes = [node("n1", cpu="1"), node("n2", cpu="1")]
    bound = [pod("guarded", node_name="n1", cpu="1", labels={"app": "db"}, start_time="2026-01-01T00:00:00Z"),
             pod("free", node_name="n2", cpu="1", labels={"app": "web"}, start_time="2026-01-01T00:00:00Z")]
    budget = DisruptionBudget.of({"metadata": {"namespace": "default"},
                                  "spec": {"selector": {"matchLabels": {"app": "db"}}}, "status": {"disruptionsAllowed": 0}})
    result = attempt(nodes, bound, info("high", cpu="1", priority=100), [budget])
    assert result.node == "n2"
    # With only the guarded pod to take, it is taken all the same.
    result = attempt(nodes[:1], bound[:1], info("high", cpu="1", priority=100), [budget])
    assert result.node == "n1" and victims(result) == ["guarded"]


def test_anti_affinity_victim() -> None:
    # The only obstacle is an existing pod's anti-affinity: evicting it (lower priority) helps.
    guard = pod("guard", node_name="n1", labels={"app": "db"}, priority=0, spec={"affinity": {"podAntiAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}]}}})
    result = attempt([node("n1")], [guard], info("web", labels={"app": "web"}, priority=100))
    assert result.node == "n1" and victims(result) == ["guard"]
