"""The embedding API: a whole cluster inside the caller's event loop.

    async with Cluster(nodes=3, runtime="fake", backend="memory:") as cluster:
        await cluster.wait_ready()
        ...
        await cluster.settle()

Every test bounds itself with a real-time deadline (`anyio.fail_after`) so a hang fails fast;
with a VirtualClock the cluster's own time moves only when the test advances it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio
import pytest

from kube_lite.client.client import APIError
from kube_lite.clock import VirtualClock
from kube_lite.cluster import Cluster

WORKERS = {"node1", "node2", "node3"}


def pod(name: str, *, annotations: dict[str, str] | None = None, restart_policy: str | None = None,
        node_selector: dict[str, str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "main", "image": "registry.k8s.io/pause:3.10"}]}
    if restart_policy:
        spec["restartPolicy"] = restart_policy
    if node_selector:
        spec["nodeSelector"] = node_selector
    metadata: dict[str, Any] = {"name": name}
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def ready(node: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"]["conditions"])


async def test_embedded_cluster_runs_a_pod_on_a_worker() -> None:
    with anyio.fail_after(20):
        async with Cluster(nodes=3, runtime="fake", backend="memory:") as cluster:
            await cluster.wait_ready()
            nodes = {n["metadata"]["name"]: n for n in (await cluster.client.list("nodes"))["items"]}
            assert set(nodes) == {"control-plane", *WORKERS}
            assert all(ready(n) and n["spec"]["podCIDR"] for n in nodes.values())

            await cluster.client.create("pods", pod("web"))
            await cluster.settle()
            assert cluster.busy() == []
            got = await cluster.client.get("pods", "web")
            assert got["status"]["phase"] == "Running", got["status"]
            assert got["spec"]["nodeName"] in WORKERS
            assert got["status"]["podIP"].startswith("10.244.")
            assert got["status"]["containerStatuses"][0]["ready"] is True


async def test_two_clusters_in_one_process_are_independent() -> None:
    with anyio.fail_after(20):
        async with Cluster(nodes=1, backend="memory:") as a, Cluster(nodes=2, backend="memory:") as b:
            await a.wait_ready()
            await b.wait_ready()
            assert len((await a.client.list("nodes"))["items"]) == 2
            assert len((await b.client.list("nodes"))["items"]) == 3

            await a.client.create("pods", pod("only-in-a"))
            await b.client.create("pods", pod("only-in-b", node_selector={"kubernetes.io/hostname": "node2"}))
            await a.settle()
            await b.settle()
            in_a = await a.client.get("pods", "only-in-a")
            in_b = await b.client.get("pods", "only-in-b")
            assert (in_a["status"]["phase"], in_a["spec"]["nodeName"]) == ("Running", "node1")
            assert (in_b["status"]["phase"], in_b["spec"]["nodeName"]) == ("Running", "node2")
            for cluster, missing in ((a, "only-in-b"), (b, "only-in-a")):
                with pytest.raises(APIError) as exc:
                    await cluster.client.get("pods", missing)
                assert exc.value.code == 404

        # Both stopped: every task they started is gone with them.
        assert a._stack is None and b._stack is None  # noqa: SLF001


async def test_virtual_clock_runs_five_minutes_without_waiting() -> None:
    clock = VirtualClock()
    started = time.monotonic()
    with anyio.fail_after(20):
        async with Cluster(nodes=3, backend="memory:", clock=clock) as cluster:
            await cluster.wait_ready()
            await cluster.client.create("pods", pod(
                "batch", annotations={"fake.kube-lite.dev/run-seconds": "300"}, restart_policy="Never",
            ))
            await cluster.settle()
            running = await cluster.client.get("pods", "batch")
            assert running["status"]["phase"] == "Running", running["status"]
            started_at = clock.monotonic()

            await clock.advance(299 - (clock.monotonic() - started_at))
            await cluster.settle()
            assert (await cluster.client.get("pods", "batch"))["status"]["phase"] == "Running"

            await clock.advance(2)
            await cluster.settle()
            done = await cluster.client.get("pods", "batch")
            assert done["status"]["phase"] == "Succeeded", done["status"]
            terminated = done["status"]["containerStatuses"][0]["state"]["terminated"]
            assert (terminated["exitCode"], terminated["reason"]) == (0, "Completed")
            # The nodes kept renewing their leases and status through the five minutes.
            nodes = (await cluster.client.list("nodes"))["items"]
            assert all(ready(n) for n in nodes)
    assert time.monotonic() - started < 10, "virtual minutes must not take real ones"


async def serving_cluster(data_dir: Path, check: Any) -> Any:
    """Run `check(kubeconfig)` in a thread (the kubernetes client is synchronous) against a
    2-node Cluster with serve=True on a free port; return what it returns."""
    with anyio.fail_after(20):
        async with Cluster(nodes=2, backend="memory:", serve=True, data_dir=data_dir,
                           listen=("127.0.0.1", 0)) as cluster:
            await cluster.wait_ready()
            assert cluster.api.url is not None and cluster.api.url.startswith("https://127.0.0.1:")
            assert cluster.api.url.rsplit(":", 1)[1] != "0"
            assert cluster.kubeconfig == cluster.data_dir / "kubeconfig"
            assert await anyio.Path(cluster.kubeconfig).exists()
            assert await anyio.Path(data_dir / "pki" / "ca.crt").exists()
            return await anyio.to_thread.run_sync(check, cluster.kubeconfig)


async def test_serve_true_serves_https_to_the_kubernetes_client(tmp_path: Path) -> None:
    kubernetes = pytest.importorskip("kubernetes")

    def list_nodes(kubeconfig: Path) -> tuple[list[str], list[str]]:
        with kubernetes.config.new_client_from_config(config_file=str(kubeconfig)) as api_client:
            core = kubernetes.client.CoreV1Api(api_client)
            namespaces = sorted(n.metadata.name for n in core.list_namespace().items)
            # Typed: the client's V1NodeList refuses a node whose status lacks a field Kubernetes
            # requires (nodeInfo's bootID, machineID, kernelVersion, ...); the agent fills them all.
            nodes = sorted(n.metadata.name for n in core.list_node().items)
            return namespaces, nodes

    namespaces, nodes = await serving_cluster(tmp_path / "data", list_nodes)
    assert {"default", "kube-system"} <= set(namespaces)
    assert nodes == ["control-plane", "node1", "node2"]


async def test_kubernetes_client_reads_typed_nodes(tmp_path: Path) -> None:
    kubernetes = pytest.importorskip("kubernetes")

    def list_nodes(kubeconfig: Path) -> list[str]:
        with kubernetes.config.new_client_from_config(config_file=str(kubeconfig)) as api_client:
            return sorted(n.metadata.name for n in kubernetes.client.CoreV1Api(api_client).list_node().items)

    assert await serving_cluster(tmp_path / "data", list_nodes) == ["control-plane", "node1", "node2"]


def test_bad_arguments_are_refused_before_starting() -> None:
    with pytest.raises(ValueError, match="data_dir"):
        Cluster(nodes=1, serve=True)
    with pytest.raises(ValueError, match="unknown runtime 'nope'; known: fake"):
        Cluster(nodes=1, runtime="nope")
    with pytest.raises(ValueError, match="nodes must be 0 or more"):
        Cluster(nodes=-1)
