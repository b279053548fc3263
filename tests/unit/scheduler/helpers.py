"""Builders of Node and Pod dicts for the scheduler tests."""

from __future__ import annotations

from typing import Any

from kube_lite.scheduler.podinfo import PodInfo


def node(name: str, *, cpu: str = "4", memory: str = "8Gi", pods: str = "110", labels: dict[str, str] | None = None,
         taints: list[dict[str, Any]] | None = None, unschedulable: bool = False,
         images: list[dict[str, Any]] | None = None, extra: dict[str, str] | None = None,
         ephemeral: str | None = None) -> dict[str, Any]:
    """A Ready node with allocatable = capacity and the hostname label."""
    amounts = {"cpu": cpu, "memory": memory, "pods": pods, **(extra or {})}
    if ephemeral is not None:
        amounts["ephemeral-storage"] = ephemeral
    spec: dict[str, Any] = {}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    status: dict[str, Any] = {
        "capacity": dict(amounts), "allocatable": dict(amounts),
        "conditions": [{"type": "Ready", "status": "True"}],
    }
    if images:
        status["images"] = images
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": spec,
        "status": status,
    }


def pod(name: str, *, namespace: str = "default", cpu: str | None = None, memory: str | None = None,
        labels: dict[str, str] | None = None, node_name: str | None = None, priority: int | None = None,
        spec: dict[str, Any] | None = None, image: str = "nginx:1.25", host_port: int | None = None,
        uid: str | None = None, start_time: str | None = None, **spec_fields: Any) -> dict[str, Any]:
    """A pod with one container requesting `cpu`/`memory` (when given)."""
    requests = {}
    if cpu is not None:
        requests["cpu"] = cpu
    if memory is not None:
        requests["memory"] = memory
    container: dict[str, Any] = {"name": "c", "image": image}
    if requests:
        container["resources"] = {"requests": requests}
    if host_port is not None:
        container["ports"] = [{"containerPort": host_port, "hostPort": host_port}]
    body: dict[str, Any] = {"containers": [container], **(spec or {}), **spec_fields}
    if node_name:
        body["nodeName"] = node_name
    if priority is not None:
        body["priority"] = priority
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "uid": uid or f"uid-{namespace}-{name}",
                            "creationTimestamp": "2026-01-01T00:00:00Z"}
    if labels:
        meta["labels"] = labels
    status: dict[str, Any] = {"phase": "Pending"}
    if start_time:
        status["startTime"] = start_time
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": body, "status": status}


def info(name: str, **kwargs: Any) -> PodInfo:
    """`PodInfo.of(pod(...))`, with spec.priority taken as the resolved priority."""
    return PodInfo.of(pod(name, **kwargs))
