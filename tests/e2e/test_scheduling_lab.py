"""The scheduling lab (seeds/000: static pods, nodeSelector, node affinity, taints and
tolerations, pod affinity) and the rest of the scheduler's user-visible behaviour, on one
`kube-lite up --nodes 3` driven by the real kubectl.

The lab's DaemonSets and Deployments become plain pods: those controllers are not in the
controller manager yet, and the lab is about where pods land, not who creates them. Every test
puts back the node labels, taints and cordons it changes.
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.e2e.test_up import WORKERS, UpCluster, new_namespace, pod_manifest, start_up, wait_for

TAINT_MESSAGE = "1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"
NOT_HELPFUL = "preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling."


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpCluster]:
    """One `kube-lite up --nodes 3` for the lab."""
    cluster = start_up(tmp_path_factory.mktemp("lab") / "data")
    try:
        yield cluster
    finally:
        cluster.proc.stop()


@pytest.fixture
def ns(lab: UpCluster) -> Iterator[str]:
    yield from new_namespace(lab)


@contextmanager
def node_label(cluster: UpCluster, node: str, label: str) -> Iterator[None]:
    """`kubectl label node NODE KEY=VALUE`, and `kubectl label node NODE KEY-` afterwards (also
    on failure)."""
    key = label.split("=", 1)[0]
    cluster.k("label", "node", node, label)
    try:
        yield
    finally:
        cluster.k.run("label", "node", node, f"{key}-", check=False)


def echoserver(name: str = "echoserver", spec: str = "") -> str:
    """The lab's echoserver pod, with `spec` lines (indented two spaces) added to its spec."""
    return (
        "apiVersion: v1\nkind: Pod\nmetadata:\n"
        f"  name: {name}\n"
        "spec:\n"
        f"{spec}"
        "  containers:\n"
        "  - name: echoserver\n"
        "    image: gcr.io/google_containers/echoserver:1.4\n"
        "    ports:\n"
        "    - containerPort: 8080\n"
    )


def failed_scheduling(cluster: UpCluster, ns: str, name: str) -> str:
    """Wait for the pod's FailedScheduling event; check it is still unbound; return the message."""
    message = cluster.wait_event(ns, name, "FailedScheduling")["message"]
    pod = cluster.pod(ns, name)
    assert pod["status"]["phase"] == "Pending" and not pod["spec"].get("nodeName"), pod
    return message


def describe_events(cluster: UpCluster, ns: str, name: str) -> str:
    out = cluster.k("describe", "pod", name, "-n", ns)
    return out[out.index("Events:"):]


def placements(cluster: UpCluster, ns: str) -> dict[str, str]:
    pods = cluster.k.json("get", "pods", "-n", ns)["items"]
    return {p["metadata"]["name"]: p["spec"].get("nodeName", "") for p in pods}


def create_pods(cluster: UpCluster, ns: str, names: list[str], spec: str = "") -> dict[str, str]:
    """Create pods, wait until each runs, return where each landed."""
    cluster.create(ns, "---\n".join(echoserver(name, spec) for name in names))
    return {name: cluster.wait_running(ns, name)["spec"]["nodeName"] for name in names}


def still_running_after_barrier(cluster: UpCluster, ns: str, name: str, node: str, uid: str) -> None:
    """After the cluster has provably handled later work (a new pod scheduled and started),
    the pod is still the same one, running on the same node, never restarted."""
    barrier = f"barrier-{uuid.uuid4().hex[:6]}"
    cluster.create(ns, pod_manifest(barrier))
    cluster.wait_running(ns, barrier)
    pod = cluster.pod(ns, name)
    assert pod["metadata"]["uid"] == uid and pod["spec"]["nodeName"] == node
    assert pod["status"]["phase"] == "Running"
    assert pod["status"]["containerStatuses"][0]["restartCount"] == 0
    assert not cluster.events(ns, name, "Killing")


# ---------------------------------------------------------------------------------- static pods


def test_static_pod_has_a_mirror_pod_that_comes_back(lab: UpCluster) -> None:
    manifests = lab.data_dir / "manifests"
    manifests.mkdir(exist_ok=True)
    path = manifests / "echoserver-pod-1.yaml"
    mirror = "echoserver-control-plane"
    path.write_text(echoserver())
    try:
        first = lab.wait_running("default", mirror)
        assert first["spec"]["nodeName"] == "control-plane"
        assert "kubernetes.io/config.mirror" in first["metadata"]["annotations"]
        row = lab.k("get", "pods", "-n", "default", "-o", "wide", "--no-headers").splitlines()
        assert any(r.split()[0] == mirror and r.split()[2] == "Running" and r.split()[6] == "control-plane"
                   for r in row), row

        # The mirror cannot be deleted for good: the agent puts it back.
        lab.k("delete", "pod", mirror, "-n", "default", "--wait=false")
        def recreated() -> dict[str, Any] | None:
            pod = lab.pod_or_none("default", mirror)
            return pod if pod and pod["metadata"]["uid"] != first["metadata"]["uid"] else None

        second = wait_for(recreated, what="a new mirror pod")
        assert second["spec"]["nodeName"] == "control-plane"
        lab.wait_running("default", mirror)
    finally:
        path.unlink(missing_ok=True)
    wait_for(lambda: lab.pod_or_none("default", mirror) is None, what="the mirror pod gone with its file")


# ---------------------------------------------------------------------------------- nodeSelector


def test_node_selector_waits_for_the_label_and_ignores_its_removal(lab: UpCluster, ns: str) -> None:
    lab.create(ns, echoserver(spec="  nodeSelector:\n    apptype: echoserver\n"))
    message = failed_scheduling(lab, ns, "echoserver")
    assert message == (
        f"0/4 nodes are available: {TAINT_MESSAGE}, 3 node(s) didn't match Pod's node affinity/selector. {NOT_HELPFUL}"
    )
    events = describe_events(lab, ns, "echoserver")
    assert "Warning  FailedScheduling" in events and message in events, events
    assert lab.k("get", "pods", "-n", ns, "--no-headers").split()[:3] == ["echoserver", "0/1", "Pending"]

    with node_label(lab, "node1", "apptype=echoserver"):
        pod = lab.wait_running(ns, "echoserver")
        assert pod["spec"]["nodeName"] == "node1"
        row = lab.k("get", "pods", "-n", ns, "-o", "wide", "--no-headers").split()
        assert row[:3] == ["echoserver", "1/1", "Running"] and row[6] == "node1", row
        assert "Successfully assigned" in describe_events(lab, ns, "echoserver")
    # The selector only steers the scheduler: without the label the pod keeps running.
    assert "apptype" not in lab.nodes()["node1"]["metadata"]["labels"]
    still_running_after_barrier(lab, ns, "echoserver", "node1", pod["metadata"]["uid"])
    lab.k("delete", "pod", "echoserver", "-n", ns)
    assert lab.pod_or_none(ns, "echoserver") is None


# ---------------------------------------------------------------------------------- node affinity


def affinity(operator: str, values: list[str] | None = None) -> str:
    lines = (
        "  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n"
        "        nodeSelectorTerms:\n        - matchExpressions:\n"
        f"          - key: apptype\n            operator: {operator}\n"
    )
    if values:
        lines += "            values:\n" + "".join(f"            - {v}\n" for v in values)
    return lines


def test_node_affinity_in(lab: UpCluster, ns: str) -> None:
    lab.create(ns, echoserver(spec=affinity("In", ["echoserver"])))
    message = failed_scheduling(lab, ns, "echoserver")
    assert "3 node(s) didn't match Pod's node affinity/selector" in message, message
    with node_label(lab, "node1", "apptype=echoserver"):
        pod = lab.wait_running(ns, "echoserver")
        assert pod["spec"]["nodeName"] == "node1"
    still_running_after_barrier(lab, ns, "echoserver", "node1", pod["metadata"]["uid"])


@pytest.mark.parametrize(("operator", "values"), [("NotIn", ["otherserver"]), ("DoesNotExist", None)])
def test_node_anti_affinity_keeps_pods_off_the_labelled_node(
    lab: UpCluster, ns: str, operator: str, values: list[str] | None
) -> None:
    with node_label(lab, "node1", "apptype=otherserver"):
        landed = create_pods(lab, ns, [f"echoserver-{i}" for i in range(6)], affinity(operator, values))
    assert set(landed.values()) <= {"node2", "node3"}, landed
    assert set(landed.values()) == {"node2", "node3"}, f"spread over both eligible nodes: {landed}"


# ---------------------------------------------------------------------------------- taints


def test_control_plane_taint_and_tolerations(lab: UpCluster, ns: str) -> None:
    taints = lab.k("get", "node", "control-plane", "-o", "jsonpath={.spec.taints}")
    assert json.loads(taints) == [{"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}]
    assert lab.k("get", "node", "node1", "-o", "jsonpath={.spec.taints}") == ""

    # Ordinary pods never land on the control plane.
    landed = create_pods(lab, ns, [f"plain-{i}" for i in range(6)])
    assert set(landed.values()) <= set(WORKERS), landed

    selector = '  nodeSelector:\n    node-role.kubernetes.io/control-plane: ""\n'
    toleration = "  tolerations:\n  - key: node-role.kubernetes.io/control-plane\n    operator: Exists\n"
    lab.create(ns, echoserver("untolerated", selector))
    message = failed_scheduling(lab, ns, "untolerated")
    assert message == (
        f"0/4 nodes are available: {TAINT_MESSAGE}, 3 node(s) didn't match Pod's node affinity/selector. {NOT_HELPFUL}"
    )
    # A toleration (operator Exists) lets a pod in, by selector or by nodeName.
    landed = create_pods(lab, ns, ["tolerated"], selector + toleration)
    assert landed == {"tolerated": "control-plane"}
    landed = create_pods(lab, ns, ["named"], "  nodeName: control-plane\n" + toleration)
    assert landed == {"named": "control-plane"}

    # The lab's other way: remove the taint (the waiting pod runs), put it back (it stays).
    try:
        lab.k("taint", "node", "control-plane", "node-role.kubernetes.io/control-plane-")
        pod = lab.wait_running(ns, "untolerated")
        assert pod["spec"]["nodeName"] == "control-plane"
    finally:
        lab.k.run("taint", "node", "control-plane", "node-role.kubernetes.io/control-plane=:NoSchedule",
                  "--overwrite", check=False)
    assert json.loads(lab.k("get", "node", "control-plane", "-o", "jsonpath={.spec.taints}")) == [
        {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}
    ]
    still_running_after_barrier(lab, ns, "untolerated", "control-plane", pod["metadata"]["uid"])


# ---------------------------------------------------------------------------------- pod affinity


WEB_CACHE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-cache
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web-cache
  template:
    metadata:
      labels:
        app: web-cache
    spec:
      containers:
      - name: redis-server
        image: redis:3.2-alpine
"""

WEB_SERVER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-server
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web-server
  template:
    metadata:
      labels:
        app: web-server
    spec:
      affinity:
        podAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector:
              matchExpressions:
              - key: cache
                operator: In
                values:
                - active
            topologyKey: "kubernetes.io/hostname"
      containers:
      - name: echoserver
        image: gcr.io/google_containers/echoserver:1.4
"""


def pods_of(cluster: UpCluster, ns: str, app: str) -> list[dict[str, Any]]:
    return cluster.k.json("get", "pods", "-n", ns, "-l", f"app={app}")["items"]


def running(pod: dict[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and not pod["metadata"].get("deletionTimestamp")


def test_pod_affinity_co_locates_web_servers_with_the_cache(lab: UpCluster, ns: str) -> None:
    """The lab's web-cache / web-server Deployments, with apps/v1 (the lab's apps/v1beta1 is long
    gone) and `kubectl patch` for its `kubectl edit`."""
    lab.create(ns, WEB_CACHE)
    wait_for(lambda: [p for p in pods_of(lab, ns, "web-cache") if running(p)], what="the web-cache pod running")

    lab.create(ns, WEB_SERVER)
    (server,) = wait_for(lambda: pods_of(lab, ns, "web-server"), what="the web-server pod")
    message = failed_scheduling(lab, ns, server["metadata"]["name"])
    assert message == (
        f"0/4 nodes are available: {TAINT_MESSAGE}, 3 node(s) didn't match pod affinity rules. {NOT_HELPFUL}"
    ), message
    row = lab.k("get", "pods", "-n", ns, "-l", "app=web-server", "-o", "wide", "--no-headers").split()
    assert row[1:3] == ["0/1", "Pending"] and row[6] == "<none>", row

    lab.k("patch", "deployment", "web-cache", "-n", ns, "-p",
          '{"spec":{"template":{"metadata":{"labels":{"cache":"active"}}}}}')

    def settled() -> tuple[str, str] | None:
        caches = pods_of(lab, ns, "web-cache")
        servers = pods_of(lab, ns, "web-server")
        if len(caches) != 1 or len(servers) != 1 or not all(running(p) for p in caches + servers):
            return None  # the rollout still has the old cache pod, or something is not running
        return caches[0]["spec"]["nodeName"], servers[0]["spec"]["nodeName"]

    cache_node, server_node = wait_for(settled, timeout=30, what="the rollout done and web-server running")
    assert cache_node == server_node, (cache_node, server_node)
    (cache,) = pods_of(lab, ns, "web-cache")
    assert cache["metadata"]["labels"]["cache"] == "active"
    lab.k("delete", "deployment", "web-cache", "web-server", "-n", ns)


def test_pod_anti_affinity_spreads_one_per_node(lab: UpCluster, ns: str) -> None:
    spec = (
        "  affinity:\n    podAntiAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n"
        "      - labelSelector:\n          matchLabels:\n            app: spread\n"
        "        topologyKey: kubernetes.io/hostname\n"
    )
    pods = "---\n".join(
        pod_manifest(f"spread-{i}", metadata="  labels:\n    app: spread\n", spec=spec) for i in range(4)
    )
    lab.create(ns, pods)
    wait_for(lambda: sum(1 for n in placements(lab, ns).values() if n) == 3, what="three pods bound")
    bound = {name: node for name, node in placements(lab, ns).items() if node}
    assert sorted(bound.values()) == sorted(WORKERS), bound
    (left,) = set(placements(lab, ns)) - set(bound)
    message = failed_scheduling(lab, ns, left)
    assert "3 node(s) didn't match pod anti-affinity rules" in message, message


# ---------------------------------------------------------------------------------- scheduler name


def post_binding(lab: UpCluster, ns: str, pod: str, node: str) -> tuple[int, dict[str, Any], str]:
    """POST a Binding as a custom scheduler would: with curl when installed, else urllib; both
    with the admin client certificate and the cluster CA. Returns (status, body, tool)."""
    pki = lab.data_dir / "pki"
    url = f"{lab.proc.url}/api/v1/namespaces/{ns}/pods/{pod}/binding"
    body = json.dumps({
        "apiVersion": "v1", "kind": "Binding", "metadata": {"name": pod},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    })
    curl = shutil.which("curl")
    if curl:
        result = subprocess.run(
            [curl, "-sS", "--cacert", str(pki / "ca.crt"), "--cert", str(pki / "admin.crt"),
             "--key", str(pki / "admin.key"), "-H", "Content-Type: application/json", "-X", "POST",
             "--data-binary", body, "-w", "\n%{http_code}", url],
            capture_output=True, text=True, timeout=20, check=True,
        )
        text, _, code = result.stdout.rpartition("\n")
        return int(code), json.loads(text), "curl"
    context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
    request = urllib.request.Request(url, data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, context=context, timeout=20) as response:
            return response.status, json.loads(response.read()), "urllib"
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), "urllib"


def test_pod_for_another_scheduler_waits_for_a_binding(lab: UpCluster, ns: str) -> None:
    lab.create(ns, echoserver(spec="  schedulerName: my-scheduler\n"))
    # Barrier: the default scheduler has scheduled and started a later pod...
    lab.create(ns, pod_manifest("later"))
    lab.wait_running(ns, "later")
    # ...and left this one alone: no node, no event of its own.
    pod = lab.pod(ns, "echoserver")
    assert not pod["spec"].get("nodeName") and pod["status"]["phase"] == "Pending", pod
    assert not lab.events(ns, "echoserver"), lab.events(ns, "echoserver")

    code, status, tool = post_binding(lab, ns, "echoserver", "node2")
    assert (code, status["status"]) == (201, "Success"), (tool, code, status)
    pod = lab.wait_running(ns, "echoserver")
    assert pod["spec"]["nodeName"] == "node2"
    assert any(c["type"] == "PodScheduled" and c["status"] == "True" for c in pod["status"]["conditions"])

    code, status, tool = post_binding(lab, ns, "echoserver", "node3")
    assert code == 409 and status["reason"] == "Conflict", (tool, code, status)
    assert 'already assigned to node "node2"' in status["message"], status


# ---------------------------------------------------------------------------------- resources


def test_pod_bigger_than_any_node_says_insufficient_cpu(lab: UpCluster, ns: str) -> None:
    lab.create(ns, pod_manifest("huge", resources="    resources:\n      requests:\n        cpu: \"100\"\n"))
    message = failed_scheduling(lab, ns, "huge")
    # More than a node's allocatable: evicting pods cannot help, so preemption says so for all 4.
    assert message == f"0/4 nodes are available: {TAINT_MESSAGE}, 3 Insufficient cpu. {NOT_HELPFUL}", message
    assert "Insufficient cpu" in describe_events(lab, ns, "huge")


@pytest.fixture
def priority_class(lab: UpCluster, ns: str) -> Iterator[str]:
    """A PriorityClass of value 1000000 for this test."""
    name = f"high-{ns}"
    lab.k("create", "-f", "-", input=(
        "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\n"
        f"metadata:\n  name: {name}\nvalue: 1000000\ndescription: the lab's important pods\n"
    ))
    yield name
    lab.k.run("delete", "pods", "--all", "-n", ns, "--timeout=20s", check=False)
    lab.k.run("delete", "priorityclass", name, check=False)


ON_NODE3 = "  nodeSelector:\n    kubernetes.io/hostname: node3\n"
CPU_1500M = "    resources:\n      requests:\n        cpu: 1500m\n"


def test_high_priority_pod_preempts_a_low_priority_one(lab: UpCluster, ns: str, priority_class: str) -> None:
    lab.create(ns, pod_manifest("low", spec=ON_NODE3, resources=CPU_1500M))
    low = lab.wait_running(ns, "low")

    # An equal-priority pod finds node3 full and no victim there.
    lab.create(ns, pod_manifest("equal", spec=ON_NODE3, resources=CPU_1500M))
    message = failed_scheduling(lab, ns, "equal")
    assert message == (
        f"0/4 nodes are available: 1 Insufficient cpu, {TAINT_MESSAGE}, "
        "2 node(s) didn't match Pod's node affinity/selector. preemption: 0/4 nodes are available: "
        "1 No preemption victims found for incoming pod, 3 Preemption is not helpful for scheduling."
    ), message
    lab.k("delete", "pod", "equal", "-n", ns)

    lab.create(ns, pod_manifest("important", spec=ON_NODE3 + f"  priorityClassName: {priority_class}\n",
                                resources=CPU_1500M))
    pod = lab.wait_running(ns, "important")
    assert pod["spec"]["nodeName"] == "node3"
    assert lab.pod_or_none(ns, "low") is None, "the victim is deleted"
    preempted = lab.wait_event(ns, "low", "Preempted")
    assert preempted["involvedObject"]["uid"] == low["metadata"]["uid"]
    assert "node3" in preempted["message"], preempted


def test_priority_class_name_sets_spec_priority(lab: UpCluster, ns: str, priority_class: str) -> None:
    lab.create(ns, pod_manifest("important", spec=f"  priorityClassName: {priority_class}\n"))
    pod = lab.pod(ns, "important")
    assert pod["spec"].get("priority") == 1000000, pod["spec"]
    assert pod["spec"].get("preemptionPolicy") == "PreemptLowerPriority", pod["spec"]


# ---------------------------------------------------------------------------------- cordon


def test_cordoned_node_gets_no_new_pods(lab: UpCluster, ns: str) -> None:
    try:
        lab.k("cordon", "node2")
        rows = {r.split()[0]: r.split()[1] for r in lab.k("get", "nodes", "--no-headers").splitlines()}
        assert rows["node2"] == "Ready,SchedulingDisabled" and rows["node1"] == "Ready", rows

        landed = create_pods(lab, ns, [f"web-{i}" for i in range(6)])
        assert "node2" not in landed.values() and set(landed.values()) == {"node1", "node3"}, landed

        lab.create(ns, echoserver("pinned", "  nodeSelector:\n    kubernetes.io/hostname: node2\n"))
        message = failed_scheduling(lab, ns, "pinned")
        assert message == (
            f"0/4 nodes are available: {TAINT_MESSAGE}, 1 node(s) were unschedulable, "
            f"2 node(s) didn't match Pod's node affinity/selector. {NOT_HELPFUL}"
        ), message
    finally:
        lab.k.run("uncordon", "node2", check=False)
    rows = {r.split()[0]: r.split()[1] for r in lab.k("get", "nodes", "--no-headers").splitlines()}
    assert rows["node2"] == "Ready", rows
    assert lab.wait_running(ns, "pinned")["spec"]["nodeName"] == "node2"
