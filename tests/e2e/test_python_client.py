"""The official `kubernetes` Python client against `kube-lite server`, unchanged."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from tests.support.cluster import ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("pyclient") / "data", ["server"]).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def api(server: ServerProcess) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(server.kubeconfig))


def _pod(name: str, labels: dict[str, str]) -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1PodSpec(containers=[client.V1Container(name="app", image="nginx:1.25")]),
    )


def test_create_read_list_patch_replace_delete(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="pyclient")))
    created = core.create_namespaced_pod("pyclient", _pod("web-1", {"app": "web", "tier": "front"}))
    assert created.metadata.uid and created.metadata.resource_version
    assert created.spec.restart_policy == "Always"  # defaulted by the server
    assert created.spec.containers[0].image_pull_policy == "IfNotPresent"
    core.create_namespaced_pod("pyclient", _pod("web-2", {"app": "web", "tier": "back"}))
    core.create_namespaced_pod("pyclient", _pod("db-1", {"app": "db"}))

    read = core.read_namespaced_pod("web-1", "pyclient")
    assert read.metadata.uid == created.metadata.uid
    assert read.status.phase == "Pending"

    names = lambda pods: sorted(p.metadata.name for p in pods.items)  # noqa: E731
    assert names(core.list_namespaced_pod("pyclient", label_selector="app=web")) == ["web-1", "web-2"]
    assert names(core.list_namespaced_pod("pyclient", label_selector="tier in (back),app")) == ["web-2"]
    assert names(core.list_namespaced_pod("pyclient", label_selector="!tier")) == ["db-1"]
    assert names(core.list_namespaced_pod("pyclient", field_selector="metadata.name=db-1")) == ["db-1"]
    assert names(core.list_pod_for_all_namespaces(label_selector="app=db")) == ["db-1"]

    patched = core.patch_namespaced_pod("web-1", "pyclient", {"metadata": {"labels": {"tier": "edge"}}})
    assert patched.metadata.labels == {"app": "web", "tier": "edge"}
    assert int(patched.metadata.resource_version) > int(read.metadata.resource_version)

    # replace with the current object succeeds; with the stale one it is a 409 Conflict
    current = core.read_namespaced_pod("web-1", "pyclient")
    current.metadata.annotations = {"note": "replaced"}
    replaced = core.replace_namespaced_pod("web-1", "pyclient", current)
    assert replaced.metadata.annotations == {"note": "replaced"}
    with pytest.raises(ApiException) as stale:
        core.replace_namespaced_pod("web-1", "pyclient", read)
    assert stale.value.status == 409
    assert "the object has been modified" in stale.value.body

    core.delete_namespaced_pod("db-1", "pyclient")
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_pod("db-1", "pyclient")
    assert gone.value.status == 404
    assert 'pods \\"db-1\\" not found' in gone.value.body or 'pods "db-1" not found' in gone.value.body


def test_deployment_through_apps_api(api: client.ApiClient) -> None:
    apps = client.AppsV1Api(api)
    body = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1DeploymentSpec(
            replicas=2,
            selector=client.V1LabelSelector(match_labels={"app": "web"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "web"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="app", image="nginx")]),
            ),
        ),
    )
    created = apps.create_namespaced_deployment("default", body)
    assert created.spec.strategy.rolling_update.max_surge == "25%"
    assert created.metadata.generation == 1
    scaled = apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 5}})
    assert scaled.spec.replicas == 5
    again = apps.read_namespaced_deployment("web", "default")
    assert again.spec.replicas == 5 and again.metadata.generation == 2
    apps.delete_namespaced_deployment("web", "default")


def test_watch_resumes_from_resource_version(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="pywatch")))
    first = core.create_namespaced_config_map(
        "pywatch", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="a"), data={"k": "1"})
    )
    # Writes after `first`: a watch from its resourceVersion sees exactly these, in order.
    core.patch_namespaced_config_map("a", "pywatch", {"data": {"k": "2"}})
    core.create_namespaced_config_map("pywatch", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="b")))
    core.delete_namespaced_config_map("a", "pywatch")
    seen: list[tuple[str, str]] = []
    w = watch.Watch()
    for event in w.stream(
        core.list_namespaced_config_map, "pywatch", resource_version=first.metadata.resource_version, timeout_seconds=5
    ):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 3:
            w.stop()
    assert seen == [("MODIFIED", "a"), ("ADDED", "b"), ("DELETED", "a")]


def test_watch_sees_live_changes(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    listed = core.list_namespaced_config_map("default")
    seen: list[tuple[str, str]] = []
    ready = threading.Event()

    def watcher() -> None:
        w = watch.Watch()
        ready.set()
        for event in w.stream(
            core.list_namespaced_config_map, "default", resource_version=listed.metadata.resource_version,
            label_selector="watched=yes", timeout_seconds=10,
        ):
            seen.append((event["type"], event["object"].metadata.name))
            if len(seen) == 3:
                w.stop()

    thread = threading.Thread(target=watcher)
    thread.start()
    ready.wait()
    core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="live", labels={"watched": "yes"})))
    # Leaving the selection is a DELETED event for a selector watch, entering it an ADDED.
    core.patch_namespaced_config_map("live", "default", {"metadata": {"labels": {"watched": "no"}}})
    core.patch_namespaced_config_map("live", "default", {"metadata": {"labels": {"watched": "yes"}}})
    thread.join(15)
    assert seen == [("ADDED", "live"), ("DELETED", "live"), ("ADDED", "live")]


def test_kubeconfig_is_the_only_credential(server: ServerProcess, tmp_path: Path) -> None:
    anonymous = client.Configuration()
    anonymous.host = server.url
    anonymous.verify_ssl = False
    with pytest.raises(ApiException) as denied:
        client.CoreV1Api(client.ApiClient(anonymous)).list_namespace()
    assert denied.value.status == 401
