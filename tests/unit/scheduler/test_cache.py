"""The scheduler cache: assumed pods, incremental node accounting, placeholders."""

from __future__ import annotations

from kube_lite.scheduler.cache import SchedulerCache
from kube_lite.scheduler.podinfo import PodInfo

from .helpers import info, node, pod


def test_assume_confirm_forget_expire() -> None:
    cache = SchedulerCache(assume_ttl=30)
    cache.add_node(node("n1"))
    n1 = cache.get("n1")
    cache.assume_pod(info("a", cpu="1"), "n1")
    assert n1.requested.cpu == 1000 and cache.is_assumed("default/a")
    # The bound pod arrives from the watch: confirmed, counted once.
    cache.add_pod(PodInfo.of(pod("a", cpu="1", node_name="n1")))
    assert n1.requested.cpu == 1000 and not cache.is_assumed("default/a")
    # A failed binding forgets the assumed pod.
    cache.assume_pod(info("b", cpu="1"), "n1")
    cache.forget_pod("default/b")
    assert n1.requested.cpu == 1000 and cache.pod("default/b") is None
    # A bound-but-never-seen pod expires after the TTL.
    cache.assume_pod(info("c", cpu="1"), "n1")
    cache.finish_binding("default/c", now=10)
    assert cache.cleanup_expired(now=39) == []
    assert cache.cleanup_expired(now=41) == ["default/c"]
    assert n1.requested.cpu == 1000


def test_pods_before_their_node_wait_in_a_placeholder() -> None:
    cache = SchedulerCache()
    cache.add_pod(PodInfo.of(pod("a", cpu="1", node_name="late")))
    assert cache.get("late") is None and cache.node_list == []
    cache.add_node(node("late"))
    assert cache.get("late").requested.cpu == 1000
    cache.remove_node("late")
    assert cache.node_list == [] and cache.pod("default/a") is not None
    cache.remove_pod("default/a")
    assert cache.num_pods == 0


def test_counters_let_plugins_skip() -> None:
    cache = SchedulerCache()
    cache.add_node(node("n1", taints=[{"key": "a", "effect": "NoSchedule"}], unschedulable=True))
    assert (cache.hard_tainted_nodes, cache.unschedulable_nodes) == (1, 1)
    cache.update_node(node("n1"))
    assert (cache.hard_tainted_nodes, cache.unschedulable_nodes) == (0, 0)
    anti = pod("x", node_name="n1", spec={"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"a": "b"}}, "topologyKey": "kubernetes.io/hostname"}]}}})
    cache.add_pod(PodInfo.of(anti))
    assert cache.pods_with_required_anti_affinity == 1 and cache.nodes_with_required_anti_affinity_pods()[0].name == "n1"
    cache.remove_pod("default/x")
    assert cache.pods_with_required_anti_affinity == 0


def test_images_are_counted_per_node() -> None:
    images = [{"names": ["nginx:1.25", "docker.io/library/nginx:1.25"], "sizeBytes": 100}]
    cache = SchedulerCache.from_objects([node("n1", images=images), node("n2", images=images)])
    assert cache.image_nodes == {"nginx:1.25": 2, "docker.io/library/nginx:1.25": 2}
    cache.remove_node("n1")
    assert cache.image_nodes["nginx:1.25"] == 1


def test_host_ports_are_released() -> None:
    cache = SchedulerCache.from_objects([node("n1")])
    cache.add_pod(PodInfo.of(pod("a", node_name="n1", host_port=80)))
    assert cache.get("n1").port_conflicts("0.0.0.0", "TCP", 80)
    cache.remove_pod("default/a")
    assert not cache.get("n1").port_conflicts("0.0.0.0", "TCP", 80)
