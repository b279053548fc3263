"""The real kubectl against `kube-lite server`: what it prints must be what it prints against
Kubernetes (table columns, messages, errors), for every everyday command.

One server serves the whole session (tests/e2e/conftest.py); each test that writes works in a
namespace of its own. There is no scheduler and no controller yet: pods stay Pending,
deployments have no replicas, and a deleted namespace stays Terminating.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import queue
import re
import subprocess
import threading
import time

import pytest
import yaml

from tests.support.cluster import KUBECTL, Kubectl

AGE = re.compile(r"^\d+s$")  # every object in these tests is seconds old

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {labels}
spec:
  containers:
  - name: main
    image: nginx
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: web
        image: nginx:1.25
      - name: sidecar
        image: busybox:1.36
"""


def table(text: str) -> list[list[str]]:
    """kubectl's table output as rows of cells (columns are separated by 2+ spaces)."""
    return [re.split(r"\s{2,}", line.strip()) for line in text.splitlines() if line.strip()]


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def create_pod(k: Kubectl, ns: str, name: str, labels: str = "{}") -> None:
    k("create", "-n", ns, "-f", "-", input=POD.format(name=name, labels=labels))


# ---------------------------------------------------------------------- cluster information


def test_version_has_no_skew_warning(k: Kubectl) -> None:
    result = k.run("version")
    assert "Client Version: v1.37.1" in result.stdout
    assert re.search(r"^Server Version: v1\.37\.\d+", result.stdout, re.M)
    assert result.stderr == ""  # no "WARNING: version difference between client ... and server"


def test_version_json(k: Kubectl) -> None:
    info = json.loads(k("version", "-o", "json"))
    assert info["serverVersion"]["major"] == "1"
    assert info["serverVersion"]["minor"] == "37"
    assert info["serverVersion"]["gitVersion"].startswith("v1.37.")


def test_api_versions(k: Kubectl) -> None:
    versions = lines(k("api-versions"))
    for expected in ("v1", "apps/v1", "batch/v1", "rbac.authorization.k8s.io/v1", "coordination.k8s.io/v1"):
        assert expected in versions
    assert versions == sorted(versions)


def test_api_resources(k: Kubectl) -> None:
    rows = table(k("api-resources"))
    assert rows[0] == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    by_name = {(r[0], r[-3] if len(r) == 5 else r[-3]): r for r in rows[1:]}
    assert by_name[("pods", "v1")] == ["pods", "po", "v1", "true", "Pod"]
    assert by_name[("namespaces", "v1")] == ["namespaces", "ns", "v1", "false", "Namespace"]
    assert by_name[("deployments", "apps/v1")] == ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    assert by_name[("configmaps", "v1")] == ["configmaps", "cm", "v1", "true", "ConfigMap"]
    assert by_name[("secrets", "v1")] == ["secrets", "v1", "true", "Secret"]
    # -o name and a group filter
    assert "deployments.apps" in lines(k("api-resources", "-o", "name"))
    apps = table(k("api-resources", "--api-group=apps"))
    assert {r[0] for r in apps[1:]} >= {"deployments", "replicasets", "statefulsets", "daemonsets"}


def test_explain_pod_containers(k: Kubectl) -> None:
    out = k("explain", "pods.spec.containers")
    assert re.search(r"^KIND:\s+Pod$", out, re.M)
    assert re.search(r"^VERSION:\s+v1$", out, re.M)
    assert re.search(r"^FIELD:\s+containers <\[\]Container>$", out, re.M)
    assert "DESCRIPTION:" in out
    assert "FIELDS:" in out
    assert re.search(r"^  image\t<string>$", out, re.M)


def test_explain_marks_required_fields(k: Kubectl) -> None:
    out = k("explain", "pods.spec.containers")
    assert re.search(r"^  name\t<string> -required-$", out, re.M)
    assert re.search(r"^  image\t<string>$", out, re.M)  # optional, as in Kubernetes
    pod_spec = k("explain", "pod.spec")
    assert re.search(r"^  containers\t<\[\]Container> -required-$", pod_spec, re.M)
    assert pod_spec.count("-required-") == 1
    deployment_spec = k("explain", "deployment.spec")
    assert re.search(r"^  selector\t<LabelSelector> -required-$", deployment_spec, re.M)
    assert re.search(r"^  template\t<PodTemplateSpec> -required-$", deployment_spec, re.M)
    assert re.search(r"^  replicas\t<integer>$", deployment_spec, re.M)
    assert "-required-" not in k("explain", "deployment")  # metadata, spec and status are all optional


def test_get_raw(k: Kubectl, ns: str) -> None:
    create_pod(k, ns, "raw")
    data = json.loads(k("get", "--raw", f"/api/v1/namespaces/{ns}/pods"))
    assert data["kind"] == "PodList"
    assert data["apiVersion"] == "v1"
    assert int(data["metadata"]["resourceVersion"]) > 0
    assert [p["metadata"]["name"] for p in data["items"]] == ["raw"]
    assert json.loads(k("get", "--raw", "/version"))["major"] == "1"
    assert k("get", "--raw", "/readyz") == "ok"


# ---------------------------------------------------------------------- create and apply


def test_create_from_a_file_with_several_documents(k: Kubectl, ns: str, manifest) -> None:
    path = manifest(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: '1'\n---\n"
        + POD.format(name="web", labels="{app: web}")
        + "---\n"
        + DEPLOYMENT.format(name="front")
    )
    out = k("create", "-n", ns, "-f", path)
    assert lines(out) == ["configmap/settings created", "pod/web created", "deployment.apps/front created"]
    assert k("get", "-n", ns, "-f", path, "-o", "name").split() == ["configmap/settings", "pod/web", "deployment.apps/front"]
    # creating them again: one AlreadyExists error per object, naming the file
    again = k.run("create", "-n", ns, "-f", path, check=False)
    assert again.returncode == 1
    assert lines(again.stderr) == [
        f'Error from server (AlreadyExists): error when creating "{path}": configmaps "settings" already exists',
        f'Error from server (AlreadyExists): error when creating "{path}": pods "web" already exists',
        f'Error from server (AlreadyExists): error when creating "{path}": deployments.apps "front" already exists',
    ]


def test_create_kind_list(k: Kubectl, ns: str, manifest) -> None:
    path = manifest(
        """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: first}
  data: {x: "1"}
- apiVersion: v1
  kind: Secret
  metadata: {name: second}
  stringData: {password: hunter2}
- apiVersion: v1
  kind: Service
  metadata: {name: third}
  spec:
    selector: {app: web}
    ports: [{port: 80, targetPort: 8080}]
"""
    )
    assert lines(k("create", "-n", ns, "-f", path)) == ["configmap/first created", "secret/second created", "service/third created"]
    secret = k.json("get", "-n", ns, "secret", "second")
    assert "stringData" not in secret
    assert base64.b64decode(secret["data"]["password"]) == b"hunter2"
    assert secret["type"] == "Opaque"
    service = k.json("get", "-n", ns, "service", "third")
    assert service["spec"]["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 8080}]
    assert service["spec"]["type"] == "ClusterIP"
    ip = service["spec"]["clusterIP"]
    assert ipaddress.ip_address(ip) in ipaddress.ip_network("10.96.0.0/12")  # allocated on create
    assert service["spec"]["clusterIPs"] == [ip]
    rows = table(k("get", "-n", ns, "service", "third"))
    assert rows[0] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    assert rows[1][:5] == ["third", "ClusterIP", ip, "<none>", "80/TCP"]


def test_apply_create_configure_unchanged(k: Kubectl, ns: str, manifest) -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  labels: {tier: a}\ndata:\n  key: one\n"
    path = manifest(text)
    assert k("apply", "-n", ns, "-f", path).strip() == "configmap/applied created"
    obj = k.json("get", "-n", ns, "configmap", "applied")
    last = json.loads(obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert last == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "data": {"key": "one"},
        "metadata": {"annotations": {}, "labels": {"tier": "a"}, "name": "applied", "namespace": ns},
    }
    rv = obj["metadata"]["resourceVersion"]

    path = manifest(text.replace("key: one", "key: two\n  other: three"))
    assert k("apply", "-n", ns, "-f", path).strip() == "configmap/applied configured"
    obj = k.json("get", "-n", ns, "configmap", "applied")
    assert obj["data"] == {"key": "two", "other": "three"}
    assert obj["metadata"]["resourceVersion"] != rv
    last = json.loads(obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert last["data"] == {"key": "two", "other": "three"}
    rv = obj["metadata"]["resourceVersion"]

    assert k("apply", "-n", ns, "-f", path).strip() == "configmap/applied unchanged"
    assert k.json("get", "-n", ns, "configmap", "applied")["metadata"]["resourceVersion"] == rv

    # a key removed from the file is removed from the object (three-way merge)
    path = manifest(text.replace("key: one", "other: three"))
    assert k("apply", "-n", ns, "-f", path).strip() == "configmap/applied configured"
    assert k.json("get", "-n", ns, "configmap", "applied")["data"] == {"other": "three"}


def test_apply_deployment_strategic_merge(k: Kubectl, ns: str, manifest) -> None:
    path = manifest(DEPLOYMENT.format(name="site"))
    assert k("apply", "-n", ns, "-f", path).strip() == "deployment.apps/site created"
    assert k("apply", "-n", ns, "-f", path).strip() == "deployment.apps/site unchanged"
    path = manifest(DEPLOYMENT.format(name="site").replace("nginx:1.25", "nginx:1.27"))
    assert k("apply", "-n", ns, "-f", path).strip() == "deployment.apps/site configured"
    dep = k.json("get", "-n", ns, "deployment", "site")
    assert [c["image"] for c in dep["spec"]["template"]["spec"]["containers"]] == ["nginx:1.27", "busybox:1.36"]
    assert dep["metadata"]["generation"] == 2


# ---------------------------------------------------------------------- get


def test_get_tables(k: Kubectl, ns: str) -> None:
    create_pod(k, ns, "web-1", "{app: web, tier: a}")
    create_pod(k, ns, "db-1", "{app: db, tier: c}")
    k("create", "-n", ns, "-f", "-", input=DEPLOYMENT.format(name="front"))

    rows = table(k("get", "pods", "-n", ns))
    assert rows[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert [r[:4] for r in rows[1:]] == [["db-1", "0/1", "Pending", "0"], ["web-1", "0/1", "Pending", "0"]]
    assert all(AGE.match(r[4]) for r in rows[1:])

    rows = table(k("get", "pods", "-n", ns, "-o", "wide"))
    assert rows[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"]
    assert rows[1][5:] == ["<none>", "<none>", "<none>", "<none>"]

    rows = table(k("get", "deployments", "-n", ns))
    assert rows[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert rows[1][:4] == ["front", "0/2", "0", "0"]
    rows = table(k("get", "deployments", "-n", ns, "-o", "wide"))
    assert rows[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    assert rows[1][5:] == ["web,sidecar", "nginx:1.25,busybox:1.36", "app=front"]

    rows = table(k("get", "namespace", ns))
    assert rows[0] == ["NAME", "STATUS", "AGE"]
    assert rows[1][:2] == [ns, "Active"]

    # a single object, and the kind/name prefix when several kinds are asked for
    rows = table(k("get", "pod", "web-1", "-n", ns))
    assert [r[0] for r in rows] == ["NAME", "web-1"]
    out = k("get", "pods,deployments", "-n", ns)
    assert "pod/web-1" in out and "deployment.apps/front" in out


def test_get_output_formats(k: Kubectl, ns: str) -> None:
    create_pod(k, ns, "web-1", "{app: web}")
    create_pod(k, ns, "web-2", "{app: web}")

    data = json.loads(k("get", "pods", "-n", ns, "-o", "json"))
    assert data["kind"] == "List"
    assert [p["metadata"]["name"] for p in data["items"]] == ["web-1", "web-2"]
    pod = data["items"][0]
    assert pod["kind"] == "Pod" and pod["apiVersion"] == "v1"
    assert pod["status"]["phase"] == "Pending"
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == "Always"  # defaulted: no tag means latest
    assert pod["spec"]["restartPolicy"] == "Always"

    single = yaml.safe_load(k("get", "pod", "web-1", "-n", ns, "-o", "yaml"))
    assert single["metadata"]["name"] == "web-1"
    assert single["metadata"]["namespace"] == ns
    assert single["metadata"]["uid"]
    assert single["spec"]["dnsPolicy"] == "ClusterFirst"

    listed = yaml.safe_load(k("get", "pods", "-n", ns, "-o", "yaml"))
    assert listed["kind"] == "List" and len(listed["items"]) == 2

    assert k("get", "pods", "-n", ns, "-o", "jsonpath={.items[*].metadata.name}") == "web-1 web-2"
    assert k("get", "pods", "-n", ns, "-o", "name").split() == ["pod/web-1", "pod/web-2"]
    rows = table(k("get", "pods", "-n", ns, "-o", "custom-columns=NAME:.metadata.name,PHASE:.status.phase"))
    assert rows == [["NAME", "PHASE"], ["web-1", "Pending"], ["web-2", "Pending"]]
    rows = table(k("get", "pods", "-n", ns, "--sort-by=.metadata.name", "--no-headers"))
    assert [r[0] for r in rows] == ["web-1", "web-2"]


def test_get_with_selectors(k: Kubectl, ns: str) -> None:
    create_pod(k, ns, "a", "{app: web, tier: a}")
    create_pod(k, ns, "b", "{app: web, tier: b}")
    create_pod(k, ns, "c", "{app: db, tier: c}")

    def names(*args: str) -> list[str]:
        return k("get", "pods", "-n", ns, "-o", "jsonpath={.items[*].metadata.name}", *args).split()

    assert names("-l", "app=web") == ["a", "b"]
    assert names("-l", "app!=web") == ["c"]
    assert names("-l", "tier in (a,c)") == ["a", "c"]
    assert names("-l", "tier notin (a,c)") == ["b"]
    assert names("-l", "app=web,tier=b") == ["b"]
    assert names("-l", "!tier") == []
    assert names("--field-selector", "metadata.name=b") == ["b"]
    assert names("--field-selector", "status.phase=Pending") == ["a", "b", "c"]
    assert names("--field-selector", "status.phase!=Pending") == []
    assert names("--field-selector", "spec.nodeName=", "-l", "app=db") == ["c"]

    none = k.run("get", "pods", "-n", ns, "--field-selector", "status.phase=Running")
    assert none.stdout == ""
    assert none.stderr.strip() == f"No resources found in {ns} namespace."

    bad = k.run("get", "pods", "-n", ns, "--field-selector", "spec.nope=x", check=False)
    assert bad.returncode == 1
    assert bad.stderr.strip() == (
        'Error from server (BadRequest): Unable to find "/v1, Resource=pods" that match label selector "", '
        'field selector "spec.nope=x": field label not supported: spec.nope'
    )
    bad = k.run("get", "deployments", "-n", ns, "--field-selector", "spec.replicas=1", check=False)
    assert '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"' in bad.stderr


def test_get_all_namespaces_and_labels(k: Kubectl, ns: str) -> None:
    create_pod(k, ns, "labelled", "{app: web, tier: a}")
    rows = table(k("get", "pods", "-A"))
    assert rows[0] == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert [ns, "labelled", "0/1", "Pending", "0"] in [r[:5] for r in rows[1:]]
    rows = table(k("get", "pods", "-n", ns, "--show-labels"))
    assert rows[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "LABELS"]
    assert rows[1][-1] == "app=web,tier=a"
    rows = table(k("get", "pods", "-n", ns, "-L", "tier"))
    assert rows[0][-1] == "TIER" and rows[1][-1] == "a"
    rows = table(k("get", "namespaces", "--show-labels"))
    assert ["default", "Active"] == rows[1][:2] or any(r[0] == "default" for r in rows)
    assert [r[-1] for r in rows if r[0] == ns] == [f"kubernetes.io/metadata.name={ns}"]


def test_get_all(k: Kubectl, ns: str, manifest) -> None:
    create_pod(k, ns, "lonely")
    k("create", "-n", ns, "-f", "-", input=DEPLOYMENT.format(name="front"))
    k("create", "-n", ns, "-f", manifest("apiVersion: v1\nkind: Service\nmetadata: {name: front}\nspec:\n  ports: [{port: 80}]\n"))
    out = k("get", "all", "-n", ns)
    blocks = [table(b) for b in out.split("\n\n") if b.strip()]
    heads = [b[0][:2] for b in blocks]
    assert ["NAME", "READY"] in heads  # pods and deployments
    assert ["NAME", "TYPE"] in heads  # services
    names = [row[0] for block in blocks for row in block[1:]]
    assert "pod/lonely" in names
    assert "service/front" in names
    assert "deployment.apps/front" in names


def test_get_watch_with_events(k: Kubectl, ns: str, manifest) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("KUBE")}
    env["KUBECONFIG"] = str(k.kubeconfig)
    env["HOME"] = str(k.kubeconfig.parent)
    proc = subprocess.Popen(
        [str(KUBECTL), "get", "configmaps", "-n", ns, "-w", "--output-watch-events"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    seen: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            seen.put(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def next_line(timeout: float = 10.0) -> list[str]:
        try:
            return re.split(r"\s{2,}", seen.get(timeout=timeout).strip())
        except queue.Empty:
            proc.kill()
            raise AssertionError(f"kubectl get -w printed nothing in {timeout} s: {proc.stderr.read() if proc.stderr else ''}") from None

    try:
        path = manifest("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: watched\ndata:\n  a: b\n")
        k("create", "-n", ns, "-f", path)
        assert next_line() == ["EVENT", "NAME", "DATA", "AGE"]
        added = next_line()
        assert added[:3] == ["ADDED", "watched", "1"] and AGE.match(added[3])
        k("label", "-n", ns, "configmap", "watched", "seen=yes")
        assert next_line()[:3] == ["MODIFIED", "watched", "1"]
        k("patch", "-n", ns, "configmap", "watched", "--type", "merge", "-p", '{"data":{"c":"d"}}')
        assert next_line()[:3] == ["MODIFIED", "watched", "2"]
        k("delete", "-n", ns, "configmap", "watched")
        assert next_line()[:3] == ["DELETED", "watched", "2"]
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert seen.empty()


# ---------------------------------------------------------------------- describe


def test_describe_pod(k: Kubectl, ns: str) -> None:
    create_pod(k, ns, "described", "{app: web, tier: a}")
    out = k("describe", "pod", "described", "-n", ns)

    def field(name: str) -> str:
        match = re.search(rf"^{re.escape(name)}:[ \t]*(.*)$", out, re.M)
        assert match, f"no {name}: in\n{out}"
        return match.group(1).strip()

    assert field("Name") == "described"
    assert field("Namespace") == ns
    assert field("Node") == "<none>"
    assert field("Labels") == "app=web"
    assert re.search(r"^\s+tier=a$", out, re.M)
    assert field("Annotations") == "<none>"
    assert field("Status") == "Pending"
    assert field("IPs") == "<none>"
    assert field("QoS Class") == "BestEffort"
    assert re.search(r"^Containers:\n  main:\n    Image:\s+nginx$", out, re.M)
    assert field("Events") == "<none>"


def test_describe_deployment(k: Kubectl, ns: str) -> None:
    k("create", "-n", ns, "-f", "-", input=DEPLOYMENT.format(name="front"))
    out = k("describe", "deployment", "front", "-n", ns)

    def field(name: str) -> str:
        match = re.search(rf"^{re.escape(name)}:[ \t]*(.*)$", out, re.M)
        assert match, f"no {name}: in\n{out}"
        return match.group(1).strip()

    assert field("Name") == "front"
    assert field("Namespace") == ns
    assert field("Selector") == "app=front"
    assert field("Replicas") == "2 desired | 0 updated | 0 total | 0 available | 0 unavailable"
    assert field("StrategyType") == "RollingUpdate"
    assert field("MinReadySeconds") == "0"
    assert field("RollingUpdateStrategy") == "25% max unavailable, 25% max surge"
    assert re.search(r"^Pod Template:\n  Labels:\s+app=front\n  Containers:\n   web:\n    Image:\s+nginx:1\.25$", out, re.M)
    assert re.search(r"^   sidecar:\n    Image:\s+busybox:1\.36$", out, re.M)


# ---------------------------------------------------------------------- label, annotate, patch, replace


def test_label(k: Kubectl, ns: str) -> None:
    create_pod(k, ns, "tagged")

    def labels() -> dict[str, str]:
        return k.json("get", "pod", "tagged", "-n", ns)["metadata"].get("labels", {})

    assert k("label", "pod", "tagged", "-n", ns, "color=red").strip() == "pod/tagged labeled"
    assert labels() == {"color": "red"}
    clash = k.run("label", "pod", "tagged", "-n", ns, "color=blue", check=False)
    assert clash.returncode == 1
    assert clash.stderr.strip() == "error: 'color' already has a value (red), and --overwrite is false"
    assert labels() == {"color": "red"}
    assert k("label", "pod", "tagged", "-n", ns, "color=blue", "--overwrite").strip() == "pod/tagged labeled"
    assert labels() == {"color": "blue"}
    assert k("label", "pod", "tagged", "-n", ns, "color-").strip() == "pod/tagged unlabeled"
    assert labels() == {}
    # several objects by selector
    create_pod(k, ns, "other", "{group: x}")
    k("label", "pod", "tagged", "-n", ns, "group=x")
    out = k("label", "pods", "-n", ns, "-l", "group=x", "picked=yes")
    assert sorted(lines(out)) == ["pod/other labeled", "pod/tagged labeled"]


def test_annotate(k: Kubectl, ns: str) -> None:
    create_pod(k, ns, "noted")
    assert k("annotate", "pod", "noted", "-n", ns, "note=hello world").strip() == "pod/noted annotated"
    assert k.json("get", "pod", "noted", "-n", ns)["metadata"]["annotations"] == {"note": "hello world"}
    clash = k.run("annotate", "pod", "noted", "-n", ns, "note=x", check=False)
    assert clash.returncode == 1
    assert "'note' already has a value (hello world)" in clash.stderr
    k("annotate", "pod", "noted", "-n", ns, "note=x", "--overwrite")
    assert k("get", "pod", "noted", "-n", ns, "-o", "jsonpath={.metadata.annotations.note}") == "x"
    assert k("annotate", "pod", "noted", "-n", ns, "note-").strip() == "pod/noted annotated"
    assert "annotations" not in k.json("get", "pod", "noted", "-n", ns)["metadata"]


def test_patch_types(k: Kubectl, ns: str) -> None:
    k("create", "-n", ns, "-f", "-", input=DEPLOYMENT.format(name="patched"))

    def get() -> dict:
        return k.json("get", "deployment", "patched", "-n", ns)

    out = k("patch", "deployment", "patched", "-n", ns, "--type", "merge", "-p", '{"spec":{"replicas":3}}')
    assert out.strip() == "deployment.apps/patched patched"
    assert get()["spec"]["replicas"] == 3
    out = k("patch", "deployment", "patched", "-n", ns, "--type", "merge", "-p", '{"spec":{"replicas":3}}')
    assert out.strip() == "deployment.apps/patched patched (no change)"

    k("patch", "deployment", "patched", "-n", ns, "--type", "json", "-p", '[{"op":"replace","path":"/spec/replicas","value":4}]')
    assert get()["spec"]["replicas"] == 4

    # strategic (kubectl's default type): containers merge by name, the other one stays
    before = get()
    k("patch", "deployment", "patched", "-n", ns, "-p",
      '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.37"}]}}}}')
    after = get()
    containers = after["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("web", "nginx:1.25"), ("sidecar", "busybox:1.37")]
    assert after["metadata"]["generation"] == before["metadata"]["generation"] + 1
    k("patch", "deployment", "patched", "-n", ns, "--type", "strategic", "-p",
      '{"spec":{"template":{"spec":{"containers":[{"name":"web","$patch":"delete"}]}}}}')
    assert [c["name"] for c in get()["spec"]["template"]["spec"]["containers"]] == ["sidecar"]

    # a merge patch replaces lists wholesale
    k("patch", "deployment", "patched", "-n", ns, "--type", "merge", "-p",
      '{"spec":{"template":{"spec":{"containers":[{"name":"only","image":"redis"}]}}}}')
    assert [c["name"] for c in get()["spec"]["template"]["spec"]["containers"]] == ["only"]

    failed = k.run("patch", "deployment", "patched", "-n", ns, "--type", "json",
                   "-p", '[{"op":"test","path":"/spec/replicas","value":9}]', check=False)
    assert failed.returncode == 1
    assert failed.stderr.startswith("The request is invalid")
    missing = k.run("patch", "pod", "nope", "-n", ns, "-p", '{"metadata":{"labels":{"a":"b"}}}', check=False)
    assert missing.stderr.strip() == 'Error from server (NotFound): pods "nope" not found'


def test_replace_with_a_stale_object_conflicts(k: Kubectl, ns: str, manifest) -> None:
    k("create", "-n", ns, "-f", manifest("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: racy\ndata:\n  a: '1'\n"))
    stale = manifest(k("get", "configmap", "racy", "-n", ns, "-o", "yaml"), "stale.yaml")
    k("label", "configmap", "racy", "-n", ns, "bumped=yes")
    result = k.run("replace", "-f", stale, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f'Error from server (Conflict): error when replacing "{stale}": Operation cannot be fulfilled on configmaps '
        '"racy": the object has been modified; please apply your changes to the latest version and try again'
    )
    fresh = yaml.safe_load(k("get", "configmap", "racy", "-n", ns, "-o", "yaml"))
    fresh["data"]["a"] = "2"
    path = manifest(yaml.safe_dump(fresh), "fresh.yaml")
    assert k("replace", "-f", path).strip() == "configmap/racy replaced"
    assert k.json("get", "configmap", "racy", "-n", ns)["data"] == {"a": "2"}
    # replace without a resourceVersion is unconditional for config maps
    del fresh["metadata"]["resourceVersion"]
    fresh["data"]["a"] = "3"
    path = manifest(yaml.safe_dump(fresh), "blind.yaml")
    assert k("replace", "-f", path).strip() == "configmap/racy replaced"


# ---------------------------------------------------------------------- delete


def test_delete_by_name_file_and_selector(k: Kubectl, ns: str, manifest) -> None:
    create_pod(k, ns, "one", "{app: gone}")
    create_pod(k, ns, "two", "{app: gone}")
    create_pod(k, ns, "three", "{app: kept}")
    path = manifest("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: filed\n")
    k("create", "-n", ns, "-f", path)

    assert k("delete", "pod", "one", "-n", ns).strip() == f'pod "one" deleted from {ns} namespace'
    assert k("delete", "-n", ns, "-f", path).strip() == f'configmap "filed" deleted from {ns} namespace'
    create_pod(k, ns, "four", "{app: gone}")
    out = k("delete", "pods", "-n", ns, "-l", "app=gone")
    assert sorted(lines(out)) == [f'pod "four" deleted from {ns} namespace', f'pod "two" deleted from {ns} namespace']
    assert k("get", "pods", "-n", ns, "-o", "name").split() == ["pod/three"]

    missing = k.run("delete", "pod", "one", "-n", ns, check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip() == 'Error from server (NotFound): pods "one" not found'
    assert k.run("delete", "pod", "one", "-n", ns, "--ignore-not-found").returncode == 0
    assert k("delete", "pods", "--all", "-n", ns).strip() == f'pod "three" deleted from {ns} namespace'


def test_delete_namespace_stays_terminating(k: Kubectl, manifest) -> None:
    name = "doomed-e2e"
    k("create", "-f", manifest(f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"))
    k("create", "-n", name, "-f", manifest("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: inside\n", "cm.yaml"))
    # No namespace controller yet: kubectl would wait forever for it to go.
    assert k("delete", "namespace", name, "--wait=false").strip() == f'namespace "{name}" deleted'
    rows = table(k("get", "namespace", name))
    assert rows[1][:2] == [name, "Terminating"]
    obj = k.json("get", "namespace", name)
    assert obj["status"]["phase"] == "Terminating"
    assert obj["metadata"]["deletionTimestamp"]
    assert "deletionGracePeriodSeconds" not in obj["metadata"]  # namespaces have no grace period
    assert obj["spec"]["finalizers"] == ["kubernetes"]
    # nothing new may be created in it; what is there stays readable
    refused = k.run("create", "-n", name, "-f", manifest("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: late\n", "late.yaml"),
                    check=False)
    assert refused.returncode == 1
    assert "Error from server (Forbidden)" in refused.stderr
    assert (f'configmaps "late" is forbidden: unable to create new content in namespace {name} because it is being terminated'
            in refused.stderr)
    assert k("get", "configmap", "inside", "-n", name, "-o", "name").strip() == "configmap/inside"
    # what the namespace controller will do once the content is gone: empty spec.finalizers
    # through the finalize subresource, and the namespace is removed
    obj["spec"]["finalizers"] = []
    finalized = json.loads(k("replace", "--raw", f"/api/v1/namespaces/{name}/finalize", "-f", manifest(json.dumps(obj), "ns.json")))
    assert finalized["metadata"]["name"] == name
    gone = k.run("get", "namespace", name, check=False)
    assert gone.stderr.strip() == f'Error from server (NotFound): namespaces "{name}" not found'


# ---------------------------------------------------------------------- imperative create and run


def test_create_namespace(k: Kubectl) -> None:
    name = f"made-{int(time.time() * 1000) % 100000}"
    assert k("create", "namespace", name).strip() == f"namespace/{name} created"
    rows = table(k("get", "namespace", name))
    assert rows[1][:2] == [name, "Active"]
    obj = k.json("get", "namespace", name)
    assert obj["metadata"]["labels"] == {"kubernetes.io/metadata.name": name}
    again = k.run("create", "namespace", name, check=False)
    assert again.stderr.strip() == f'Error from server (AlreadyExists): namespaces "{name}" already exists'
    k("delete", "namespace", name, "--wait=false")


def test_create_configmap_from_literal(k: Kubectl, ns: str) -> None:
    out = k("create", "configmap", "literal", "-n", ns, "--from-literal=color=blue", "--from-literal=size=10")
    assert out.strip() == "configmap/literal created"
    assert k.json("get", "configmap", "literal", "-n", ns)["data"] == {"color": "blue", "size": "10"}
    rows = table(k("get", "configmap", "literal", "-n", ns))
    assert rows[0] == ["NAME", "DATA", "AGE"]
    assert rows[1][:2] == ["literal", "2"]


def test_create_secret_generic(k: Kubectl, ns: str) -> None:
    out = k("create", "secret", "generic", "creds", "-n", ns, "--from-literal=user=admin", "--from-literal=password=s3cr3t")
    assert out.strip() == "secret/creds created"
    encoded = k("get", "secret", "creds", "-n", ns, "-o", "jsonpath={.data.password}")
    assert encoded == base64.b64encode(b"s3cr3t").decode()
    rows = table(k("get", "secret", "creds", "-n", ns))
    assert rows[0] == ["NAME", "TYPE", "DATA", "AGE"]
    assert rows[1][:3] == ["creds", "Opaque", "2"]


def test_create_deployment_and_job(k: Kubectl, ns: str) -> None:
    out = k("create", "deployment", "made", "-n", ns, "--image=nginx:1.25", "--replicas=3", "--port=80")
    assert out.strip() == "deployment.apps/made created"
    dep = k.json("get", "deployment", "made", "-n", ns)
    assert dep["spec"]["replicas"] == 3
    assert dep["spec"]["selector"] == {"matchLabels": {"app": "made"}}
    container = dep["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "nginx:1.25"
    assert container["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert dep["spec"]["strategy"]["type"] == "RollingUpdate"

    assert k("create", "job", "once", "-n", ns, "--image=busybox", "--", "echo", "hi").strip() == "job.batch/once created"
    job = k.json("get", "job", "once", "-n", ns)
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["echo", "hi"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_create_configmap_from_files(k: Kubectl, ns: str, tmp_path) -> None:
    (tmp_path / "notes.txt").write_text("hello\n")
    (tmp_path / "blob.bin").write_bytes(bytes(range(250, 256)) + b"\x00\x01")
    k("create", "configmap", "files", "-n", ns, f"--from-file={tmp_path / 'notes.txt'}", f"--from-file={tmp_path / 'blob.bin'}")
    cm = k.json("get", "configmap", "files", "-n", ns)
    assert cm["data"] == {"notes.txt": "hello\n"}
    assert base64.b64decode(cm["binaryData"]["blob.bin"]) == bytes(range(250, 256)) + b"\x00\x01"
    assert table(k("get", "configmap", "files", "-n", ns))[1][:2] == ["files", "2"]


def test_create_other_kinds_imperatively(k: Kubectl, ns: str) -> None:
    """kubectl's typed `create` subcommands send protobuf; every one of them must work."""
    made = [
        (("serviceaccount", "robot"), "serviceaccount/robot created"),
        (("service", "clusterip", "front", "--tcp=80:8080"), "service/front created"),
        (("service", "nodeport", "edge", "--tcp=443:8443"), "service/edge created"),
        (("cronjob", "tick", "--image=busybox", "--schedule=*/5 * * * *"), "cronjob.batch/tick created"),
        (("role", "reader", "--verb=get,list", "--resource=pods,deployments.apps"), "role.rbac.authorization.k8s.io/reader created"),
        (("rolebinding", "readers", "--role=reader", "--user=ann", f"--serviceaccount={ns}:robot"),
         "rolebinding.rbac.authorization.k8s.io/readers created"),
        (("quota", "small", "--hard=pods=3,requests.cpu=1"), "resourcequota/small created"),
        (("poddisruptionbudget", "keep", "--selector=app=front", "--min-available=50%"), "poddisruptionbudget.policy/keep created"),
    ]
    for args, message in made:
        assert k("create", *args, "-n", ns).strip() == message
    svc = k.json("get", "service", "front", "-n", ns)
    assert svc["spec"]["ports"] == [{"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080}]
    assert svc["spec"]["selector"] == {"app": "front"}
    assert svc["spec"]["type"] == "ClusterIP"
    edge = k.json("get", "service", "edge", "-n", ns)
    assert edge["spec"]["type"] == "NodePort"
    node_port = edge["spec"]["ports"][0]["nodePort"]
    assert 30000 <= node_port <= 32767
    assert table(k("get", "service", "edge", "-n", ns))[1][4] == f"443:{node_port}/TCP"
    taken = k.run("create", "service", "nodeport", "copy", "--tcp=80:80", f"--node-port={node_port}", "-n", ns, check=False)
    assert taken.returncode == 1
    assert (f'Service "copy" is invalid: spec.ports[0].nodePort: Invalid value: {node_port}: provided port is already allocated'
            in taken.stderr)
    headless = k.json("create", "service", "clusterip", "bare", "--clusterip=None", "-n", ns)
    assert headless["spec"]["clusterIP"] == "None"
    rows = table(k("get", "cronjob", "tick", "-n", ns))
    assert rows[0] == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"]
    assert rows[1][:6] == ["tick", "*/5 * * * *", "<none>", "False", "0", "<none>"]
    role = k.json("get", "role", "reader", "-n", ns)
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list"]},
    ]
    rows = table(k("get", "rolebinding", "readers", "-n", ns, "-o", "wide"))
    assert rows[0] == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]
    assert rows[1][:2] == ["readers", "Role/reader"]
    assert rows[1][3] == "ann" and rows[1][-1] == f"{ns}/robot"
    assert k.json("get", "resourcequota", "small", "-n", ns)["spec"]["hard"] == {"pods": "3", "requests.cpu": "1"}
    assert k.json("get", "pdb", "keep", "-n", ns)["spec"]["minAvailable"] == "50%"
    rows = table(k("get", "pdb", "keep", "-n", ns))
    assert rows[1][:4] == ["keep", "50%", "N/A", "0"]

    # a job from the cron job's template, owned by it
    assert k("create", "job", "now", "--from=cronjob/tick", "-n", ns).strip() == "job.batch/now created"
    job = k.json("get", "job", "now", "-n", ns)
    assert job["metadata"]["annotations"] == {"cronjob.kubernetes.io/instantiate": "manual"}
    assert [o["kind"] + "/" + o["name"] for o in job["metadata"]["ownerReferences"]] == ["CronJob/tick"]
    assert job["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox"

    # cluster-scoped ones
    suffix = ns.removeprefix("e2e-")
    assert k("create", "priorityclass", f"high-{suffix}", "--value=1000").strip() == f"priorityclass.scheduling.k8s.io/high-{suffix} created"
    assert table(k("get", "priorityclass", f"high-{suffix}"))[1][:3] == [f"high-{suffix}", "1000", "false"]
    assert k("create", "clusterrole", f"view-{suffix}", "--verb=get", "--resource=nodes").strip() == (
        f"clusterrole.rbac.authorization.k8s.io/view-{suffix} created"
    )
    k("delete", "priorityclass", f"high-{suffix}")
    k("delete", "clusterrole", f"view-{suffix}")


FULL_CRON_JOB = """\
apiVersion: batch/v1
kind: CronJob
metadata: {name: full}
spec:
  schedule: "0 * * * *"
  startingDeadlineSeconds: 30
  concurrencyPolicy: Forbid
  suspend: true
  successfulJobsHistoryLimit: 2
  failedJobsHistoryLimit: 0
  timeZone: Etc/UTC
  jobTemplate:
    metadata:
      labels: {x: "yy"}
      annotations: {an: note}
    spec:
      parallelism: 2
      completions: 4
      activeDeadlineSeconds: 100
      backoffLimit: 0
      ttlSecondsAfterFinished: 60
      template:
        metadata: {labels: {x: "yy"}}
        spec:
          restartPolicy: OnFailure
          nodeSelector: {disk: ssd}
          serviceAccountName: default
          hostname: h
          subdomain: s
          terminationGracePeriodSeconds: 0
          activeDeadlineSeconds: 50
          dnsPolicy: Default
          initContainers:
          - name: init
            image: busybox
            args: ["a", "b"]
          containers:
          - name: main
            image: busybox:1.36
            command: [sh, -c]
            args: ["echo $A"]
            workingDir: /tmp
            env: [{name: A, value: "1"}, {name: B, value: ""}]
            ports: [{name: http, containerPort: 8080, hostPort: 80, protocol: UDP, hostIP: 1.2.3.4}]
            resources:
              limits: {cpu: 500m, memory: 64Mi}
              requests: {cpu: 250m, memory: 32Mi}
            stdin: true
            tty: true
            imagePullPolicy: Never
"""


def test_job_from_a_cron_job_keeps_every_template_field(k: Kubectl, ns: str) -> None:
    """`create job --from` sends the cron job's whole template as protobuf: nothing may be lost."""
    k("create", "-n", ns, "-f", "-", input=FULL_CRON_JOB)
    assert k("create", "job", "copy", "--from=cronjob/full", "-n", ns).strip() == "job.batch/copy created"
    template = k.json("get", "cronjob", "full", "-n", ns)["spec"]["jobTemplate"]
    job = k.json("get", "job", "copy", "-n", ns)
    for field in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished"):
        assert job["spec"][field] == template["spec"][field], field
    want = template["spec"]["template"]["spec"]
    got = job["spec"]["template"]["spec"]
    # Go drops an empty env value and writes an empty resources block, as Kubernetes does
    want["containers"][0]["env"][1].pop("value")
    want["initContainers"][0].setdefault("resources", {})
    assert got == want
    assert job["metadata"]["annotations"] == {"an": "note", "cronjob.kubernetes.io/instantiate": "manual"}


def test_auth_can_i_and_whoami(k: Kubectl, ns: str) -> None:
    assert k("auth", "can-i", "create", "deployments", "-n", ns).strip() == "yes"
    assert k("auth", "can-i", "get", "/logs").strip() == "yes"
    rows = table(k("auth", "whoami"))
    assert rows[0] == ["ATTRIBUTE", "VALUE"]
    assert rows[1][0] == "Username" and rows[1][1]
    assert rows[2][0] == "Groups" and "system:authenticated" in rows[2][1]


def test_certificate_approve_and_deny(k: Kubectl, ns: str, manifest) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bob")]))
    pem = csr.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
    names = [f"bob-{ns}", f"eve-{ns}"]
    for name in names:
        k("create", "-f", manifest(
            f"apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata: {{name: {name}}}\n"
            f"spec:\n  request: {base64.b64encode(pem).decode()}\n  signerName: kubernetes.io/kube-apiserver-client\n"
            "  usages: [client auth]\n", f"{name}.yaml"))
    rows = table(k("get", "csr", names[0]))
    assert rows[0] == ["NAME", "AGE", "SIGNERNAME", "REQUESTOR", "REQUESTEDDURATION", "CONDITION"]
    requestor = k.json("auth", "whoami")["status"]["userInfo"]["username"]
    assert [rows[1][0], *rows[1][2:]] == [names[0], "kubernetes.io/kube-apiserver-client", requestor, "<none>", "Pending"]

    assert k("certificate", "approve", names[0]).strip() == f"certificatesigningrequest.certificates.k8s.io/{names[0]} approved"
    assert k("certificate", "deny", names[1]).strip() == f"certificatesigningrequest.certificates.k8s.io/{names[1]} denied"
    assert table(k("get", "csr", names[0]))[1][-1] == "Approved"
    assert table(k("get", "csr", names[1]))[1][-1] == "Denied"
    condition = k.json("get", "csr", names[0])["status"]["conditions"][0]
    assert (condition["type"], condition["status"], condition["reason"]) == ("Approved", "True", "KubectlApprove")
    again = k.run("certificate", "deny", names[0], check=False)
    assert again.stderr.strip() == f'error: certificate signing request "{names[0]}" is already Approved'
    for name in names:
        k("delete", "csr", name)


def test_pod_qos_class(k: Kubectl, ns: str, manifest) -> None:
    path = manifest(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: sized\nspec:\n  containers:\n  - name: c\n    image: nginx\n"
        "    resources:\n      limits: {cpu: 500m, memory: 128Mi}\n"
    )
    k("create", "-n", ns, "-f", path)
    pod = k.json("get", "pod", "sized", "-n", ns)
    assert pod["status"] == {"phase": "Pending", "qosClass": "Guaranteed"}
    assert pod["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "500m", "memory": "128Mi"}
    assert re.search(r"^QoS Class:\s+Guaranteed$", k("describe", "pod", "sized", "-n", ns), re.M)
    create_pod(k, ns, "plain")
    assert k("get", "pod", "plain", "-n", ns, "-o", "jsonpath={.status.qosClass}") == "BestEffort"


def test_logs_of_a_pod_no_node_runs(k: Kubectl, ns: str) -> None:
    create_pod(k, ns, "quiet")
    result = k.run("logs", "quiet", "-n", ns)
    assert (result.returncode, result.stdout) == (0, "")  # no node yet: nothing logged, as Kubernetes answers
    raw = k.run("get", "--raw", f"/api/v1/namespaces/{ns}/pods/quiet/log?container=other", check=False)
    assert raw.stderr.strip() == "Error from server (BadRequest): container other is not valid for pod quiet"


def test_run_pod_stays_pending(k: Kubectl, ns: str) -> None:
    assert k("run", "nginx", "--image=nginx", "-n", ns).strip() == "pod/nginx created"
    rows = table(k("get", "pod", "nginx", "-n", ns))
    assert rows[1][:4] == ["nginx", "0/1", "Pending", "0"]  # no scheduler yet
    pod = k.json("get", "pod", "nginx", "-n", ns)
    assert pod["metadata"]["labels"] == {"run": "nginx"}
    assert pod["spec"]["containers"][0]["name"] == "nginx"
    assert "nodeName" not in pod["spec"]


def test_scale(k: Kubectl, ns: str) -> None:
    k("create", "-n", ns, "-f", "-", input=DEPLOYMENT.format(name="scaled"))
    assert k("scale", "deployment", "scaled", "-n", ns, "--replicas=5").strip() == "deployment.apps/scaled scaled"
    assert k("get", "deployment", "scaled", "-n", ns, "-o", "jsonpath={.spec.replicas}") == "5"


# ---------------------------------------------------------------------- errors


def test_get_missing_pod(k: Kubectl, ns: str) -> None:
    result = k.run("get", "pod", "nope", "-n", ns, check=False)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == 'Error from server (NotFound): pods "nope" not found'
    result = k.run("get", "deployment", "nope", "-n", ns, check=False)
    assert result.stderr.strip() == 'Error from server (NotFound): deployments.apps "nope" not found'


def test_invalid_pod_is_rejected(k: Kubectl, ns: str, manifest) -> None:
    path = manifest("apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers:\n  - name: c\n")
    result = k.run("create", "-n", ns, "-f", path, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == 'The Pod "bad" is invalid: spec.containers[0].image: Required value'
    assert k.run("get", "pod", "bad", "-n", ns, check=False).returncode == 1


def test_unknown_field_with_strict_validation(k: Kubectl, ns: str, manifest) -> None:
    path = manifest(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: odd\nspec:\n  bogusField: 1\n"
        "  containers:\n  - name: c\n    image: nginx\n"
    )
    result = k.run("create", "-n", ns, "-f", path, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f'Error from server (BadRequest): error when creating "{path}": Pod in version "v1" cannot be handled as a Pod: '
        'strict decoding error: unknown field "spec.bogusField"'
    )
    # --validate=warn creates it and prints the server's warning
    warned = k.run("create", "-n", ns, "-f", path, "--validate=warn")
    assert warned.stdout.strip() == "pod/odd created"
    assert 'Warning: unknown field "spec.bogusField"' in warned.stderr
    k("delete", "pod", "odd", "-n", ns)
    ignored = k.run("create", "-n", ns, "-f", path, "--validate=false")
    assert ignored.stdout.strip() == "pod/odd created"
    assert ignored.stderr == ""


def test_malformed_yaml(k: Kubectl, ns: str, manifest) -> None:
    path = manifest("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n   broken: [\n", "broken.yaml")
    result = k.run("create", "-n", ns, "-f", path, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: error parsing {path}: error converting YAML to JSON: yaml: line ")
    assert k.run("apply", "-n", ns, "-f", path, check=False).returncode == 1


@pytest.mark.parametrize("kind,plural", [("ConfigMap", "configmaps"), ("Secret", "secrets")])
def test_create_in_missing_namespace(k: Kubectl, manifest, kind: str, plural: str) -> None:
    path = manifest(f"apiVersion: v1\nkind: {kind}\nmetadata:\n  name: x\n  namespace: no-such-ns\n")
    result = k.run("create", "-f", path, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == f'Error from server (NotFound): error when creating "{path}": namespaces "no-such-ns" not found'
