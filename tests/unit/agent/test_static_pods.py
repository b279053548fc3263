"""Static pods: manifests to pods, and the agent running them with their mirror pods."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from kube_lite.agent import cri
from kube_lite.agent.staticpods import (
    CONFIG_HASH,
    CONFIG_MIRROR,
    CONFIG_SEEN,
    CONFIG_SOURCE,
    StaticPodSource,
    pod_from_manifest,
)
from kube_lite.clock import VirtualClock
from tests.unit.agent.agentenv import NODE, AgentEnv, agent_env, container_status

MIRROR = f"web-{NODE}"


def manifest(image: str = "busybox", **annotations: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": annotations},
        "spec": {"containers": [{"name": "app", "image": image}]},
    }


def write(path: Path, data: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(data))
    # Polling compares (mtime, size, inode): make every rewrite visible even within one tick.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


# ------------------------------------------------------------------------------------------ manifests


def test_manifest_becomes_a_node_bound_pod() -> None:
    pod = pod_from_manifest(manifest(), "/etc/manifests/web.yaml", "node-1", "2026-01-01T00:00:00Z")
    meta = pod["metadata"]
    assert meta["name"] == "web-node-1"
    assert meta["namespace"] == "default"
    assert meta["annotations"][CONFIG_HASH] == meta["uid"]
    assert meta["annotations"][CONFIG_SOURCE] == "file"
    assert meta["annotations"][CONFIG_SEEN] == "2026-01-01T00:00:00Z"
    assert pod["spec"]["nodeName"] == "node-1"
    assert pod["spec"]["restartPolicy"] == "Always"  # defaulted
    assert {"operator": "Exists", "effect": "NoExecute"} in pod["spec"]["tolerations"]
    same = pod_from_manifest(manifest(), "/etc/manifests/web.yaml", "node-1", "later")
    assert same["metadata"]["uid"] == meta["uid"]  # seen time is not part of the identity
    changed = pod_from_manifest(manifest("nginx"), "/etc/manifests/web.yaml", "node-1", "later")
    assert changed["metadata"]["uid"] != meta["uid"]
    elsewhere = pod_from_manifest(manifest(), "/etc/manifests/other.yaml", "node-1", "later")
    assert elsewhere["metadata"]["uid"] != meta["uid"]


def test_source_reads_yaml_and_json_and_skips_the_rest(tmp_path: Path) -> None:
    write(tmp_path / "web.yaml", manifest())
    other = manifest()
    other["metadata"]["name"] = "api"
    (tmp_path / "api.json").write_text(json.dumps(other))
    write(tmp_path / ".hidden.yaml", {**manifest(), "metadata": {"name": "hidden"}})
    (tmp_path / "broken.yaml").write_text("{not: [valid")
    (tmp_path / "deploy.yaml").write_text(yaml.safe_dump({"apiVersion": "apps/v1", "kind": "Deployment",
                                                          "metadata": {"name": "d"}}))
    (tmp_path / "noname.yaml").write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Pod", "spec": {}}))
    (tmp_path / "subdir").mkdir()
    source = StaticPodSource(tmp_path, NODE, VirtualClock())
    pods = source.read()
    assert sorted(p["metadata"]["name"] for p in pods.values()) == [f"api-{NODE}", f"web-{NODE}"]
    assert source.read() == pods  # unchanged files: the same pods
    (tmp_path / "api.json").unlink()
    assert [p["metadata"]["name"] for p in source.read().values()] == [f"web-{NODE}"]


# ------------------------------------------------------------------------------------------ the agent


async def mirror_of(env: AgentEnv) -> dict[str, Any] | None:
    return await env.get_pod(MIRROR)


def running_containers(pods: list[cri.Container]) -> list[cri.Container]:
    return [c for c in pods if c.state == cri.ContainerState.RUNNING]


async def test_static_pod_runs_with_a_mirror_pod(tmp_path: Path) -> None:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    write(manifests / "web.yaml", manifest())
    async with agent_env(tmp_path, manifests_dir=manifests) as env:
        mirror = await env.wait_for_pod(MIRROR, lambda p: p["status"].get("phase") == "Running", within=10)
        meta = mirror["metadata"]
        worker = env.agent.worker_for("default", MIRROR)
        assert worker is not None and worker.static
        assert meta["annotations"][CONFIG_MIRROR] == worker.uid == meta["annotations"][CONFIG_HASH]
        assert meta["annotations"][CONFIG_SOURCE] == "file"
        assert meta["uid"] != worker.uid  # the mirror is its own API object
        assert meta["labels"] == {"app": "web"}
        assert mirror["spec"]["nodeName"] == NODE
        node = await env.client.get("nodes", NODE)
        assert meta["ownerReferences"][0]["uid"] == node["metadata"]["uid"]
        assert mirror["status"]["podIP"]
        assert container_status(mirror, "app")["ready"] is True
        containers = await env.runtime.list_containers()
        assert [c.labels[cri.POD_NAME_LABEL] for c in containers] == [MIRROR]
        assert [c.labels[cri.POD_UID_LABEL] for c in containers] == [worker.uid]


async def test_deleted_mirror_pod_comes_back_without_a_restart(tmp_path: Path) -> None:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    write(manifests / "web.yaml", manifest())
    async with agent_env(tmp_path, manifests_dir=manifests) as env:
        first = await env.wait_for_pod(MIRROR, lambda p: p["status"].get("phase") == "Running", within=10)
        before = running_containers(await env.runtime.list_containers())
        await env.client.delete("pods", MIRROR)  # a graceful delete, as kubectl does

        async def replaced() -> dict[str, Any] | None:
            pod = await mirror_of(env)
            ok = pod and pod["metadata"]["uid"] != first["metadata"]["uid"] and pod["status"].get("phase") == "Running"
            return pod if ok else None

        second = await env.wait_for(replaced, within=10)
        assert not second["metadata"].get("deletionTimestamp")
        assert second["metadata"]["annotations"][CONFIG_MIRROR] == first["metadata"]["annotations"][CONFIG_MIRROR]
        after = running_containers(await env.runtime.list_containers())
        assert [c.id for c in after] == [c.id for c in before]  # the same container, still running
        assert container_status(second, "app")["restartCount"] == 0
        assert container_status(second, "app")["containerID"] == container_status(first, "app")["containerID"]


async def test_edited_manifest_replaces_the_pod(tmp_path: Path) -> None:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    write(manifests / "web.yaml", manifest())
    async with agent_env(tmp_path, manifests_dir=manifests) as env:
        first = await env.wait_for_pod(MIRROR, lambda p: p["status"].get("phase") == "Running", within=10)
        old_hash = first["metadata"]["annotations"][CONFIG_MIRROR]
        write(manifests / "web.yaml", manifest("nginx"))

        async def replaced() -> dict[str, Any] | None:
            pod = await mirror_of(env)
            ok = (pod and pod["metadata"]["annotations"][CONFIG_MIRROR] != old_hash
                  and pod["status"].get("phase") == "Running")
            return pod if ok else None

        second = await env.wait_for(replaced, within=20)
        assert second["spec"]["containers"][0]["image"] == "nginx"
        running = running_containers(await env.runtime.list_containers())
        assert [c.image for c in running] == ["nginx"]
        assert len(env.agent.workers) == 1


async def test_removed_manifest_stops_the_pod_and_deletes_the_mirror(tmp_path: Path) -> None:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    write(manifests / "web.yaml", manifest())
    async with agent_env(tmp_path, manifests_dir=manifests) as env:
        await env.wait_for_pod(MIRROR, lambda p: p["status"].get("phase") == "Running", within=10)
        (manifests / "web.yaml").unlink()
        await env.wait_gone(MIRROR, within=10)
        await env.advance(1)
        assert await env.runtime.list_containers() == []
        assert await env.runtime.list_pod_sandboxes() == []
        assert env.agent.workers == {}
        assert env.ipam.allocated() == {}


async def test_orphaned_mirror_pods_are_deleted(tmp_path: Path) -> None:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    async with agent_env(tmp_path, manifests_dir=manifests) as env:
        orphan = {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "ghost", "namespace": "default", "annotations": {CONFIG_MIRROR: "abc"}},
            "spec": {"nodeName": NODE, "containers": [{"name": "app", "image": "busybox"}]},
        }
        await env.client.create("pods", orphan)
        await env.wait_gone("ghost", within=11)
        assert await env.runtime.list_containers() == []  # a mirror pod is never run
