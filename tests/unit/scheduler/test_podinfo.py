"""PodInfo: requests as Kubernetes computes them, host ports, images, affinity terms."""

from __future__ import annotations

import pytest

from kube_lite.scheduler.podinfo import (
    PodInfo,
    normalized_image_name,
    pod_requests,
    scheduling_inputs_changed,
)


def _c(name: str, cpu: str | None = None, memory: str | None = None, restart: str | None = None,
       limits: dict[str, str] | None = None) -> dict:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    container: dict = {"name": name, "image": "busybox", "resources": {"requests": requests}}
    if limits:
        container["resources"]["limits"] = limits
    if restart:
        container["restartPolicy"] = restart
    return container


@pytest.mark.parametrize(
    ("spec", "cpu", "memory"),
    [
        # The sum of the app containers.
        ({"containers": [_c("a", "1", "1Gi"), _c("b", "2")]}, 3000, 1 << 30),
        # A regular init container runs alone: the larger phase wins.
        ({"initContainers": [_c("i", "4")], "containers": [_c("a", "1"), _c("b", "1")]}, 4000, 0),
        ({"initContainers": [_c("i", "500m")], "containers": [_c("a", "1")]}, 1000, 0),
        # A sidecar (restartPolicy Always) runs beside the app containers and beside the init
        # containers that come after it: max(1 + 1, 2 + 1) = 3.
        ({"initContainers": [_c("s", "1", restart="Always"), _c("i", "2")], "containers": [_c("a", "1")]}, 3000, 0),
        # A sidecar after an init container does not overlap with it: max(1 + 1, 2) = 2.
        ({"initContainers": [_c("i", "2"), _c("s", "1", restart="Always")], "containers": [_c("a", "1")]}, 2000, 0),
        # Overhead comes on top.
        ({"containers": [_c("a", "1")], "overhead": {"cpu": "250m", "memory": "100Mi"}}, 1250, 100 << 20),
        # A limit without a request is the request (API defaulting).
        ({"containers": [_c("a", limits={"cpu": "2", "memory": "1Gi"})]}, 2000, 1 << 30),
    ],
)
def test_pod_requests(spec: dict, cpu: int, memory: int) -> None:
    requests = pod_requests(spec)
    assert requests.get("cpu", 0) == cpu
    assert requests.get("memory", 0) == memory


def test_non_zero_requests_default_missing_but_keep_explicit_zero() -> None:
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [_c("a"), _c("b", cpu="0", memory="0")]}}
    info = PodInfo.of(pod)
    assert info.requests.cpu == 0 and info.requests.memory == 0
    assert info.nonzero_cpu == 100
    assert info.nonzero_memory == 200 * 1024 * 1024


def test_extended_resources_are_scalars() -> None:
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [
        {"name": "a", "resources": {"requests": {"cpu": "1", "example.com/gpu": "2", "hugepages-2Mi": "4Mi"}}}]}}
    info = PodInfo.of(pod)
    assert info.requests.scalars == {"example.com/gpu": 2, "hugepages-2Mi": 4 << 20}


def test_host_ports_default_ip_and_protocol() -> None:
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "ports": [
        {"containerPort": 80, "hostPort": 8080}, {"containerPort": 53, "hostPort": 53, "protocol": "UDP", "hostIP": "10.0.0.1"},
        {"containerPort": 9000}]}]}}
    assert PodInfo.of(pod).host_ports == (("0.0.0.0", "TCP", 8080), ("10.0.0.1", "UDP", 53))


@pytest.mark.parametrize(
    ("name", "normalized"),
    [("nginx", "nginx:latest"), ("nginx:1.25", "nginx:1.25"), ("registry:5000/nginx", "registry:5000/nginx:latest"),
     ("registry:5000/nginx:1", "registry:5000/nginx:1"), ("nginx@sha256:abc", "nginx@sha256:abc")],
)
def test_normalized_image_name(name: str, normalized: str) -> None:
    assert normalized_image_name(name) == normalized


def test_affinity_terms_default_to_own_namespace_and_merge_match_label_keys() -> None:
    pod = {
        "metadata": {"name": "p", "namespace": "team", "labels": {"app": "web", "rev": "7"}},
        "spec": {"containers": [], "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname",
             "matchLabelKeys": ["rev"]},
        ]}}},
    }
    info = PodInfo.of(pod)
    (term,) = info.required_anti_affinity
    assert term.namespaces == frozenset({"team"})
    same = PodInfo.of({"metadata": {"name": "q", "namespace": "team", "labels": {"app": "web", "rev": "7"}}, "spec": {}})
    older = PodInfo.of({"metadata": {"name": "r", "namespace": "team", "labels": {"app": "web", "rev": "6"}}, "spec": {}})
    elsewhere = PodInfo.of({"metadata": {"name": "s", "namespace": "other", "labels": {"app": "web", "rev": "7"}}, "spec": {}})
    assert term.matches(same, {})
    assert not term.matches(older, {})
    assert not term.matches(elsewhere, {})


def test_scheduling_inputs_changed_ignores_status() -> None:
    old = {"metadata": {"labels": {"a": "1"}, "resourceVersion": "1"}, "spec": {"x": 1}, "status": {}}
    new = {"metadata": {"labels": {"a": "1"}, "resourceVersion": "2"}, "spec": {"x": 1}, "status": {"conditions": []}}
    assert not scheduling_inputs_changed(old, new)
    assert scheduling_inputs_changed(old, {**new, "metadata": {"labels": {"a": "2"}}})
