"""Score plugins as pure functions: raw scores, normalization, Kubernetes' figures."""

from __future__ import annotations

from typing import Any

import pytest

from kube_lite.scheduler.cache import SchedulerCache
from kube_lite.scheduler.plugin import Plugin, default_normalize
from kube_lite.scheduler.plugins import (
    ImageLocality,
    InterPodAffinity,
    NodeAffinity,
    NodeResourcesBalancedAllocation,
    NodeResourcesFit,
    PodTopologySpread,
    TaintToleration,
    default_plugins,
)
from kube_lite.scheduler.plugins.imagelocality import image_score
from kube_lite.scheduler.plugins.noderesources import least_allocated
from kube_lite.scheduler.podinfo import PodInfo
from kube_lite.scheduler.status import SKIP

from .helpers import info, node, pod

ZONE = "topology.kubernetes.io/zone"
HOST = "kubernetes.io/hostname"
MB = 1024 * 1024


def scores(plugin: Plugin, p: PodInfo, nodes: list[dict[str, Any]], pods: list[Any] = ()) -> list[int] | None:
    """Normalized scores of `p` on `nodes` (in order), or None if the plugin skips."""
    snapshot = SchedulerCache.from_objects(nodes, pods)
    infos = [snapshot.get(n["metadata"]["name"]) for n in nodes]
    state = plugin.pre_score(p, snapshot, infos)
    if state is SKIP:
        return None
    return plugin.normalize(state, plugin.score_many(state, p, infos))


def test_default_weights_are_kubernetes() -> None:
    weights = {p.name: p.weight for p in default_plugins() if p.is_score}
    assert weights == {
        "TaintToleration": 3, "NodeAffinity": 2, "PodTopologySpread": 2, "InterPodAffinity": 2,
        "NodeResourcesFit": 1, "NodeResourcesBalancedAllocation": 1, "ImageLocality": 1,
    }


@pytest.mark.parametrize(("scores_", "reverse", "expected"), [
    ([0, 0], False, [0, 0]), ([0, 0], True, [100, 100]), ([1, 2, 4], False, [25, 50, 100]), ([0, 1, 2], True, [100, 50, 0]),
])
def test_default_normalize(scores_: list[int], reverse: bool, expected: list[int]) -> None:
    assert default_normalize(scores_, reverse) == expected


@pytest.mark.parametrize(("requested", "capacity", "score"), [(0, 4000, 100), (1000, 4000, 75), (3999, 4000, 0),
                                                              (5000, 4000, 0), (1, 0, 0), (1000, 3000, 66)])
def test_least_allocated(requested: int, capacity: int, score: int) -> None:
    assert least_allocated(requested, capacity) == score


def test_least_allocated_uses_non_zero_requests() -> None:
    # Node: 4 cpu / 8Gi. An existing pod without requests counts as 100m / 200Mi.
    nodes = [node("n1"), node("n2")]
    existing = [pod("e", node_name="n2")]
    result = scores(NodeResourcesFit(), info("p", cpu="1", memory="2Gi"), nodes, existing)
    cpu2 = (4000 - 1100) * 100 // 4000
    mem2 = (8 * 1024 - 2048 - 200) * 100 // (8 * 1024)
    assert result == [75, (cpu2 + mem2) // 2]


def test_balanced_allocation() -> None:
    # cpu 1/4 = 0.25, memory 1/8 = 0.125: std 0.0625 -> 93.
    assert scores(NodeResourcesBalancedAllocation(), info("p", cpu="1", memory="1Gi"), [node("n1")]) == [93]
    # Perfect balance scores 100.
    assert scores(NodeResourcesBalancedAllocation(), info("p", cpu="2", memory="4Gi"), [node("n1")]) == [100]
    # Best-effort pods are not scored.
    assert scores(NodeResourcesBalancedAllocation(), info("p"), [node("n1")]) is None


def test_taint_toleration_score_counts_prefer_no_schedule() -> None:
    soft = {"effect": "PreferNoSchedule"}
    nodes = [node("n1"), node("n2", taints=[{"key": "a", **soft}]),
             node("n3", taints=[{"key": "a", **soft}, {"key": "b", **soft}])]
    assert scores(TaintToleration(), info("p"), nodes) == [100, 50, 0]
    tolerant = info("p", tolerations=[{"key": "b", "operator": "Exists", "effect": "PreferNoSchedule"}])
    assert scores(TaintToleration(), tolerant, nodes) == [100, 0, 0]
    assert scores(TaintToleration(), info("p"), [node("n1")]) is None


def test_node_affinity_preferred_terms() -> None:
    preferred = {"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 10, "preference": {"matchExpressions": [{"key": ZONE, "operator": "In", "values": ["a"]}]}},
        {"weight": 5, "preference": {"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}},
    ]}}}
    nodes = [node("n1", labels={ZONE: "a"}), node("n2", labels={ZONE: "a", "gpu": ""}), node("n3")]
    assert scores(NodeAffinity(), info("p", spec=preferred), nodes) == [66, 100, 0]
    assert scores(NodeAffinity(), info("p"), nodes) is None


def test_image_locality() -> None:
    images = [{"names": ["nginx:1.25"], "sizeBytes": 500 * MB}]
    nodes = [node("n1", images=images), node("n2", images=images), node("n3")]
    spread_sum = int(500 * MB * (2 / 3))
    expected = 100 * (spread_sum - 23 * MB) // (1000 * MB - 23 * MB)
    assert scores(ImageLocality(), info("p", image="nginx:1.25"), nodes) == [expected, expected, 0]
    assert scores(ImageLocality(), info("p", image="redis"), nodes) is None
    assert image_score(0, 1) == 0 and image_score(5000 * MB, 1) == 100


def test_inter_pod_affinity_preferred() -> None:
    def preferred(kind: str, app: str) -> dict:
        return {"affinity": {kind: {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 10, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": HOST}}]}}}

    nodes = [node("n1"), node("n2"), node("n3")]
    existing = [pod("cache", node_name="n1", labels={"app": "cache"}), pod("web", node_name="n2", labels={"app": "web"})]
    assert scores(InterPodAffinity(), info("p", spec=preferred("podAffinity", "cache")), nodes, existing) == [100, 0, 0]
    assert scores(InterPodAffinity(), info("p", spec=preferred("podAntiAffinity", "web")), nodes, existing) == [100, 0, 100]
    assert scores(InterPodAffinity(), info("p"), nodes, existing) is None


def test_inter_pod_affinity_existing_pods_terms_attract() -> None:
    # An existing pod's required affinity to app=web pulls a web pod to its host (weight 1).
    friend = pod("friend", node_name="n2", labels={"app": "db"}, spec={"affinity": {"podAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": HOST}]}}})
    result = scores(InterPodAffinity(), info("p", labels={"app": "web"}), [node("n1"), node("n2")], [friend])
    assert result == [0, 100]


def test_pod_topology_spread_score() -> None:
    spread = {"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "ScheduleAnyway",
                                             "labelSelector": {"matchLabels": {"app": "web"}}}]}
    nodes = [node("n1", labels={ZONE: "a"}), node("n2", labels={ZONE: "a"}), node("n3", labels={ZONE: "b"}), node("bare")]
    existing = [pod(f"w{i}", node_name="n1", labels={"app": "web"}) for i in range(2)]
    # log(2 zones + 2) * 2 pods = 2.77 -> 3 in zone a, 0 in zone b; a node without the key: 0.
    assert scores(PodTopologySpread(), info("p", labels={"app": "web"}, spec=spread), nodes, existing) == [0, 0, 100, 0]
