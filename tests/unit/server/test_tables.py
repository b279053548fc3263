"""Table printers: the columns and exact cells `kubectl get` shows, kind by kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kube_lite.server import tables
from kube_lite.server.tables import (
    DEFAULT_PRINTER_COLUMNS,
    TableOptionsError,
    age,
    build_table,
    check_include_object,
    human_duration,
    parse_time,
    table_for,
    table_from_printer_columns,
)

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def ts(seconds_ago: float) -> str:
    """An RFC 3339 timestamp `seconds_ago` before NOW."""
    return (NOW - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(name: str = "x", created: float = 300, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": "default", "creationTimestamp": ts(created), **extra}


# Kubernetes' IPAddress printer declares Name and ParentRef but also emits an Age cell.
EXTRA_CELLS = {("networking.k8s.io", "IPAddress"): 1}


def cells(group: str, kind: str, obj: dict[str, Any]) -> list[Any]:
    spec = table_for(group, kind)
    (row,) = spec.rows([obj], NOW)
    assert len(row.cells) == len(spec.column_definitions) + EXTRA_CELLS.get((group, kind), 0)
    return row.cells


def columns(group: str, kind: str) -> list[tuple[str, str, int]]:
    return [(c.name, c.type, c.priority) for c in table_for(group, kind).column_definitions]


# --- the age humanizer --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-3, "<invalid>"),
        (-2, "<invalid>"),
        (-1.5, "0s"),
        (-1, "0s"),
        (-0.2, "0s"),
        (0, "0s"),
        (59, "59s"),
        (119.99, "119s"),
        (120, "2m"),
        (182, "3m2s"),
        (599, "9m59s"),
        (600, "10m"),
        (659, "10m"),
        (10799, "179m"),
        (10800, "3h"),
        (11100, "3h5m"),
        (28799, "7h59m"),
        (28800, "8h"),
        (172799, "47h"),
        (172800, "2d"),
        (183600, "2d3h"),
        (691199, "7d23h"),
        (691200, "8d"),
        (730 * 86400 - 1, "729d"),
        (730 * 86400, "2y"),
        (731 * 86400, "2y1d"),
        (8 * 365 * 86400 - 1, "7y364d"),
        (8 * 365 * 86400, "8y"),
        (20 * 365 * 86400 + 100 * 86400, "20y"),
    ],
)
def test_human_duration_boundaries(seconds: float, text: str) -> None:
    assert human_duration(timedelta(seconds=seconds)) == text
    assert human_duration(seconds) == text


def test_age_and_time_parsing() -> None:
    assert age(None, NOW) == "<unknown>"
    assert age("0001-01-01T00:00:00Z", NOW) == "<unknown>"
    assert age("garbage", NOW) == "<unknown>"
    assert age(ts(65), NOW) == "65s"
    assert age(ts(65), NOW.timestamp()) == "65s"
    assert age("2024-05-01T13:55:00+02:00", NOW) == "5m"
    assert age("2024-05-01T11:59:59.999999999Z", NOW) == "0s"
    assert parse_time("2024-05-01T10:00:00.5Z") == datetime(2024, 5, 1, 10, 0, 0, 500000, tzinfo=UTC)
    assert parse_time("2024-05-01") is None


# --- pods ---------------------------------------------------------------------------------


def test_pod_columns() -> None:
    assert columns("", "Pod") == [
        ("Name", "string", 0),
        ("Ready", "string", 0),
        ("Status", "string", 0),
        ("Restarts", "string", 0),
        ("Age", "string", 0),
        ("IP", "string", 1),
        ("Node", "string", 1),
        ("Nominated Node", "string", 1),
        ("Readiness Gates", "string", 1),
    ]
    assert table_for("", "Pod").column_definitions[0].format == "name"


def pod(
    containers: int = 1,
    phase: str = "Running",
    statuses: list[dict[str, Any]] | None = None,
    init: list[dict[str, Any]] | None = None,
    init_statuses: list[dict[str, Any]] | None = None,
    conditions: list[dict[str, Any]] | None = None,
    **status_extra: Any,
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "metadata": meta("web"),
        "spec": {"containers": [{"name": f"c{i}", "image": "busybox"} for i in range(containers)]},
        "status": {"phase": phase, **status_extra},
    }
    if statuses is not None:
        obj["status"]["containerStatuses"] = statuses
    if init is not None:
        obj["spec"]["initContainers"] = init
    if init_statuses is not None:
        obj["status"]["initContainerStatuses"] = init_statuses
    if conditions is not None:
        obj["status"]["conditions"] = conditions
    return obj


def running(name: str = "c0", ready: bool = True, restarts: int = 0, **extra: Any) -> dict[str, Any]:
    return {"name": name, "ready": ready, "restartCount": restarts, "state": {"running": {"startedAt": ts(100)}}, **extra}


def waiting(reason: str, name: str = "c0", restarts: int = 0, **extra: Any) -> dict[str, Any]:
    return {"name": name, "ready": False, "restartCount": restarts, "state": {"waiting": {"reason": reason}}, **extra}


def terminated(exit_code: int, reason: str = "", name: str = "c0", signal: int = 0) -> dict[str, Any]:
    state: dict[str, Any] = {"exitCode": exit_code}
    if reason:
        state["reason"] = reason
    if signal:
        state["signal"] = signal
    return {"name": name, "ready": False, "restartCount": 0, "state": {"terminated": state}}


def status_of(obj: dict[str, Any]) -> tuple[str, str, str]:
    ready, status, restarts = cells("", "Pod", obj)[1:4]
    return ready, status, restarts


READY_COND = [{"type": "Ready", "status": "True"}]


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (pod(phase="Pending"), ("0/1", "Pending", "0")),
        (pod(phase="Pending", statuses=[waiting("ContainerCreating")]), ("0/1", "ContainerCreating", "0")),
        (pod(statuses=[running()]), ("1/1", "Running", "0")),
        (pod(statuses=[running(ready=False)]), ("0/1", "Running", "0")),
        (pod(statuses=[waiting("CrashLoopBackOff", restarts=4)]), ("0/1", "CrashLoopBackOff", "4")),
        (pod(phase="Pending", statuses=[waiting("ErrImagePull")]), ("0/1", "ErrImagePull", "0")),
        (pod(phase="Succeeded", statuses=[terminated(0, "Completed")]), ("0/1", "Completed", "0")),
        (pod(phase="Failed", statuses=[terminated(1, "Error")]), ("0/1", "Error", "0")),
        (pod(phase="Failed", statuses=[terminated(137, "OOMKilled")]), ("0/1", "OOMKilled", "0")),
        (pod(phase="Failed", statuses=[terminated(3)]), ("0/1", "ExitCode:3", "0")),
        (pod(phase="Failed", statuses=[terminated(137, signal=9)]), ("0/1", "Signal:9", "0")),
        # The lowest-index waiting or terminated container decides, because of the reverse walk.
        (
            pod(containers=3, statuses=[waiting("ImagePullBackOff", "c0"), running("c1"), terminated(1, "Error", "c2")]),
            ("1/3", "ImagePullBackOff", "0"),
        ),
        # Completed with a container still running: Running if the pod is Ready, else NotReady.
        (
            pod(containers=2, statuses=[terminated(0, "Completed", "c0"), running("c1")], conditions=READY_COND),
            ("1/2", "Running", "0"),
        ),
        (pod(containers=2, statuses=[terminated(0, "Completed", "c0"), running("c1")]), ("1/2", "NotReady", "0")),
        # ...but an error elsewhere wins over NotReady/Running.
        (
            pod(containers=3, statuses=[terminated(0, "Completed", "c0"), terminated(2, "Error", "c1"), running("c2")]),
            ("1/3", "Error", "0"),
        ),
        (pod(phase="Failed", reason="Evicted", message="low memory"), ("0/1", "Evicted", "0")),
        (
            pod(phase="Pending", conditions=[{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]),
            ("0/1", "SchedulingGated", "0"),
        ),
    ],
)
def test_pod_status_cases(obj: dict[str, Any], expected: tuple[str, str, str]) -> None:
    assert status_of(obj) == expected


@pytest.mark.parametrize(
    ("init_statuses", "expected_status"),
    [
        ([{"name": "i0", "state": {"waiting": {}}}, {"name": "i1", "state": {"waiting": {}}}], "Init:0/2"),
        ([terminated(0, "Completed", "i0"), {"name": "i1", "state": {"running": {}}}], "Init:1/2"),
        ([terminated(0, "Completed", "i0"), terminated(1, "Error", "i1")], "Init:Error"),
        ([terminated(2, "", "i0")], "Init:ExitCode:2"),
        ([terminated(137, "", "i0", signal=9)], "Init:Signal:9"),
        ([waiting("CrashLoopBackOff", "i0", restarts=2)], "Init:CrashLoopBackOff"),
        ([waiting("ErrImagePull", "i0")], "Init:ErrImagePull"),
        ([waiting("PodInitializing", "i0")], "Init:ContainerCreating"),
    ],
)
def test_pod_init_container_cases(init_statuses: list[dict[str, Any]], expected_status: str) -> None:
    obj = pod(
        phase="Pending",
        init=[{"name": "i0"}, {"name": "i1"}],
        init_statuses=init_statuses,
        statuses=[waiting("PodInitializing")],
    )
    assert status_of(obj)[1] == expected_status


def test_pod_init_restarts_count_while_initializing() -> None:
    obj = pod(phase="Pending", init=[{"name": "i0"}], init_statuses=[waiting("CrashLoopBackOff", "i0", restarts=5)])
    obj["status"]["initContainerStatuses"][0]["lastState"] = {"terminated": {"exitCode": 1, "finishedAt": ts(30)}}
    assert status_of(obj) == ("0/1", "Init:CrashLoopBackOff", "5 (30s ago)")


def test_pod_with_initialized_condition_walks_main_containers() -> None:
    initialized = [{"type": "Initialized", "status": "True"}]
    init_stuck = [{"name": "i0", "state": {"waiting": {}}}]
    crashing = pod(init=[{"name": "i0"}], init_statuses=init_stuck, statuses=[waiting("CrashLoopBackOff", restarts=1)],
                   conditions=initialized)
    assert status_of(crashing) == ("0/1", "CrashLoopBackOff", "1")
    # A running container counts as ready but sets no reason, so the init reason stays (as in Kubernetes).
    running_pod = pod(init=[{"name": "i0"}], init_statuses=init_stuck, statuses=[running()], conditions=initialized)
    assert status_of(running_pod) == ("1/1", "Init:0/1", "0")


def test_pod_sidecars_count_towards_ready_and_total() -> None:
    obj = pod(
        init=[{"name": "sidecar", "restartPolicy": "Always"}, {"name": "setup"}],
        init_statuses=[
            {"name": "sidecar", "ready": True, "started": True, "restartCount": 2, "state": {"running": {}},
             "lastState": {"terminated": {"exitCode": 1, "finishedAt": ts(600)}}},
            terminated(0, "Completed", "setup"),
        ],
        statuses=[running(restarts=1, lastState={"terminated": {"exitCode": 1, "finishedAt": ts(700)}})],
    )
    # Sidecar restarts survive the reset before the main containers; the newest restart dates them.
    assert status_of(obj) == ("2/2", "Running", "3 (10m ago)")


def test_pod_sidecar_not_started_blocks_initialization() -> None:
    obj = pod(
        phase="Pending",
        init=[{"name": "sidecar", "restartPolicy": "Always"}],
        init_statuses=[{"name": "sidecar", "ready": False, "started": False, "state": {"running": {}}}],
    )
    assert status_of(obj) == ("0/2", "Init:0/1", "0")


def test_pod_restarts_show_age_of_last_restart() -> None:
    obj = pod(
        containers=2,
        statuses=[
            running("c0", restarts=2, lastState={"terminated": {"exitCode": 1, "finishedAt": ts(3600)}}),
            running("c1", restarts=1, lastState={"terminated": {"exitCode": 1, "finishedAt": ts(125)}}),
        ],
    )
    assert status_of(obj) == ("2/2", "Running", "3 (2m5s ago)")
    no_date = pod(statuses=[running(restarts=2)])
    assert status_of(no_date)[2] == "2"


def test_pod_deletion_overrides() -> None:
    terminating = pod(statuses=[running()])
    terminating["metadata"]["deletionTimestamp"] = ts(1)
    assert status_of(terminating)[1] == "Terminating"
    lost = pod(statuses=[running()], reason="NodeLost")
    lost["metadata"]["deletionTimestamp"] = ts(1)
    assert status_of(lost)[1] == "Unknown"
    done = pod(phase="Succeeded", statuses=[terminated(0, "Completed")])
    done["metadata"]["deletionTimestamp"] = ts(1)
    assert status_of(done)[1] == "Completed"


def test_pod_wide_cells_and_readiness_gates() -> None:
    obj = pod(
        statuses=[running()],
        podIPs=[{"ip": "10.1.2.3"}, {"ip": "fd00::3"}],
        nominatedNodeName="n2",
        conditions=[
            {"type": "example.com/gate-a", "status": "True"},
            {"type": "example.com/gate-b", "status": "False"},
            {"type": "example.com/gate-b", "status": "True"},
        ],
    )
    obj["spec"]["nodeName"] = "n1"
    obj["spec"]["readinessGates"] = [{"conditionType": "example.com/gate-a"}, {"conditionType": "example.com/gate-b"}]
    assert cells("", "Pod", obj) == ["web", "1/1", "Running", "0", "5m", "10.1.2.3", "n1", "n2", "1/2"]
    bare = pod(phase="Pending")
    assert cells("", "Pod", bare)[5:] == ["<none>", "<none>", "<none>", "<none>"]


def test_pod_row_conditions() -> None:
    spec = table_for("", "Pod")
    (succeeded,) = spec.rows([pod(phase="Succeeded")], NOW)
    assert succeeded.conditions == [
        {"type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."}
    ]
    (failed,) = spec.rows([pod(phase="Failed")], NOW)
    assert failed.conditions == [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]
    (live,) = spec.rows([pod()], NOW)
    assert live.conditions is None


# --- nodes --------------------------------------------------------------------------------


def node(ready: str | None = "True", unschedulable: bool = False, labels: dict[str, str] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "metadata": {"name": "n1", "creationTimestamp": ts(3 * 86400 + 3600), "labels": labels or {}},
        "spec": {"unschedulable": True} if unschedulable else {},
        "status": {
            "conditions": [{"type": "MemoryPressure", "status": "False"}],
            "nodeInfo": {
                "kubeletVersion": "v1.37.1",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "kernelVersion": "6.1.0",
                "containerRuntimeVersion": "containerd://1.7.0",
                "architecture": "amd64",
            },
            "addresses": [
                {"type": "Hostname", "address": "n1"},
                {"type": "InternalIP", "address": "192.168.1.10"},
                {"type": "InternalIP", "address": "192.168.1.11"},
            ],
        },
    }
    if ready is not None:
        obj["status"]["conditions"].append({"type": "Ready", "status": ready})
    return obj


@pytest.mark.parametrize(
    ("obj", "status"),
    [
        (node(), "Ready"),
        (node("False"), "NotReady"),
        (node("Unknown"), "NotReady"),
        (node(None), "Unknown"),
        (node(unschedulable=True), "Ready,SchedulingDisabled"),
        (node("False", unschedulable=True), "NotReady,SchedulingDisabled"),
        (node(None, unschedulable=True), "Unknown,SchedulingDisabled"),
    ],
)
def test_node_status(obj: dict[str, Any], status: str) -> None:
    assert cells("", "Node", obj)[1] == status


@pytest.mark.parametrize(
    ("labels", "roles"),
    [
        ({}, "<none>"),
        ({"node-role.kubernetes.io/control-plane": ""}, "control-plane"),
        ({"node-role.kubernetes.io/worker": "true", "node-role.kubernetes.io/control-plane": ""}, "control-plane,worker"),
        ({"node-role.kubernetes.io/": "x"}, "<none>"),
        ({"kubernetes.io/role": "master", "node-role.kubernetes.io/master": ""}, "master"),
        ({"kubernetes.io/role": ""}, "<none>"),
        ({"kubernetes.io/role": "infra", "node-role.kubernetes.io/edge": ""}, "edge,infra"),
    ],
)
def test_node_roles(labels: dict[str, str], roles: str) -> None:
    assert cells("", "Node", node(labels=labels))[2] == roles


def test_node_row() -> None:
    assert columns("", "Node") == [
        ("Name", "string", 0),
        ("Status", "string", 0),
        ("Roles", "string", 0),
        ("Age", "string", 0),
        ("Version", "string", 0),
        ("Internal-IP", "string", 1),
        ("External-IP", "string", 1),
        ("OS-Image", "string", 1),
        ("Kernel-Version", "string", 1),
        ("Container-Runtime", "string", 1),
    ]
    assert cells("", "Node", node()) == [
        "n1", "Ready", "<none>", "3d1h", "v1.37.1", "192.168.1.10", "<none>",
        "Debian GNU/Linux 12 (bookworm)", "6.1.0 (amd64)", "containerd://1.7.0",
    ]
    bare = {"metadata": {"name": "n2"}}
    assert cells("", "Node", bare) == ["n2", "Unknown", "<none>", "<unknown>", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"]


# --- workloads ----------------------------------------------------------------------------

TEMPLATE = {"spec": {"containers": [{"name": "app", "image": "nginx:1"}, {"name": "log", "image": "busybox"}],
                     "initContainers": [{"name": "init", "image": "alpine"}]}}


def test_deployment() -> None:
    obj = {
        "metadata": meta("web"),
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE},
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    assert columns("apps", "Deployment")[:5] == [
        ("Name", "string", 0), ("Ready", "string", 0), ("Up-to-date", "string", 0), ("Available", "string", 0), ("Age", "string", 0)
    ]
    assert cells("apps", "Deployment", obj) == ["web", "2/3", 3, 2, "5m", "app,log", "nginx:1,busybox", "app=web"]
    empty = {"metadata": meta("d"), "spec": {"selector": {}}}
    assert cells("apps", "Deployment", empty)[1:4] == ["0/0", 0, 0]
    assert cells("apps", "Deployment", empty)[7] == ""
    bad = {"metadata": meta("d"), "spec": {"selector": {"matchExpressions": [{"key": "a", "operator": "Bogus"}]}}}
    assert cells("apps", "Deployment", bad)[7] == "<invalid>"


def test_replica_set_and_replication_controller() -> None:
    rs = {
        "metadata": meta("web-abc"),
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web", "pod-template-hash": "abc"}}, "template": TEMPLATE},
        "status": {"replicas": 3, "readyReplicas": 1},
    }
    assert [t for _, t, _ in columns("apps", "ReplicaSet")][1:4] == ["integer", "integer", "integer"]
    assert cells("apps", "ReplicaSet", rs) == ["web-abc", 3, 3, 1, "5m", "app,log", "nginx:1,busybox", "app=web,pod-template-hash=abc"]
    assert cells("apps", "ReplicaSet", {"metadata": meta("r"), "spec": {}})[7] == "<none>"
    rc = {"metadata": meta("rc"), "spec": {"replicas": 2, "selector": {"app": "old"}, "template": TEMPLATE}, "status": {"replicas": 2}}
    assert cells("", "ReplicationController", rc) == ["rc", 2, 2, 0, "5m", "app,log", "nginx:1,busybox", "app=old"]
    assert cells("", "ReplicationController", {"metadata": meta("rc")}) == ["rc", 0, 0, 0, "5m", "", "", "<none>"]


def test_daemon_set() -> None:
    obj = {
        "metadata": meta("agent"),
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"}, "containers": [{"name": "a", "image": "agent:2"}]}},
        },
        "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2, "updatedNumberScheduled": 3, "numberAvailable": 2},
    }
    assert [c[0] for c in columns("apps", "DaemonSet")] == [
        "Name", "Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector", "Age", "Containers", "Images", "Selector"
    ]
    assert cells("apps", "DaemonSet", obj) == ["agent", 3, 3, 2, 3, 2, "kubernetes.io/os=linux", "5m", "a", "agent:2", "app=agent"]
    assert cells("apps", "DaemonSet", {"metadata": meta("d")})[6] == "<none>"


def test_stateful_set_and_controller_revision() -> None:
    sts = {"metadata": meta("db"), "spec": {"replicas": 3, "template": TEMPLATE}, "status": {"readyReplicas": 3}}
    assert cells("apps", "StatefulSet", sts) == ["db", "3/3", "5m", "app,log", "nginx:1,busybox"]
    rev = {
        "metadata": meta(
            "db-7f9", ownerReferences=[
                {"apiVersion": "v1", "kind": "Pod", "name": "other"},
                {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "controller": True},
            ]
        ),
        "revision": 4,
    }
    assert cells("apps", "ControllerRevision", rev) == ["db-7f9", "statefulset.apps/db", 4, "5m"]
    core_owner = {"metadata": meta("r", ownerReferences=[{"apiVersion": "v1", "kind": "Pod", "name": "p", "controller": True}])}
    assert cells("apps", "ControllerRevision", core_owner)[1] == "pod/p"
    assert cells("apps", "ControllerRevision", {"metadata": meta("r")})[1:3] == ["<none>", 0]


@pytest.mark.parametrize(
    ("conditions", "deleting", "status"),
    [
        ([], False, "Running"),
        ([{"type": "Complete", "status": "True"}], False, "Complete"),
        ([{"type": "Failed", "status": "True"}], False, "Failed"),
        ([{"type": "Failed", "status": "True"}], True, "Failed"),
        ([], True, "Terminating"),
        ([{"type": "Suspended", "status": "True"}], False, "Suspended"),
        ([{"type": "Suspended", "status": "False"}], False, "Running"),
        ([{"type": "FailureTarget", "status": "True"}], False, "FailureTarget"),
        ([{"type": "SuccessCriteriaMet", "status": "True"}], False, "SuccessCriteriaMet"),
        # Only the first condition of a type counts.
        ([{"type": "Complete", "status": "False"}, {"type": "Complete", "status": "True"}], False, "Running"),
    ],
)
def test_job_status(conditions: list[dict[str, str]], deleting: bool, status: str) -> None:
    obj: dict[str, Any] = {"metadata": meta("job"), "spec": {"template": TEMPLATE}, "status": {"conditions": conditions}}
    if deleting:
        obj["metadata"]["deletionTimestamp"] = ts(1)
    assert cells("batch", "Job", obj)[1] == status


def test_job_completions_and_duration() -> None:
    base = {"metadata": meta("job"), "spec": {"template": TEMPLATE, "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u"}}}}
    done = {**base, "spec": {**base["spec"], "completions": 5}, "status": {"succeeded": 5, "startTime": ts(300), "completionTime": ts(100)}}
    assert cells("batch", "Job", done) == [
        "job", "Running", "5/5", "3m20s", "5m", "app,log", "nginx:1,busybox", "batch.kubernetes.io/controller-uid=u"
    ]
    parallel = {**base, "spec": {**base["spec"], "parallelism": 3}, "status": {"succeeded": 1, "startTime": ts(130)}}
    assert cells("batch", "Job", parallel)[2:4] == ["1/1 of 3", "2m10s"]
    single = {**base, "spec": {**base["spec"], "parallelism": 1}}
    assert cells("batch", "Job", single)[2:4] == ["0/1", ""]


def test_cron_job() -> None:
    obj = {
        "metadata": meta("nightly", created=86400 * 3),
        "spec": {
            "schedule": "0 3 * * *",
            "suspend": False,
            "jobTemplate": {"spec": {"template": TEMPLATE}},
        },
        "status": {"active": [{"name": "nightly-1"}], "lastScheduleTime": ts(7200)},
    }
    assert [c[:2] for c in columns("batch", "CronJob")][2:5] == [("Timezone", "string"), ("Suspend", "boolean"), ("Active", "integer")]
    assert cells("batch", "CronJob", obj) == ["nightly", "0 3 * * *", "<none>", "False", 1, "120m", "3d", "app,log", "nginx:1,busybox", "<none>"]
    obj["spec"]["timeZone"] = "Etc/UTC"
    obj["spec"].pop("suspend")
    obj["status"] = {}
    assert cells("batch", "CronJob", obj)[2:6] == ["Etc/UTC", "<unset>", 0, "<none>"]


def test_hpa() -> None:
    obj = {
        "metadata": meta("web"),
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "web"},
            "minReplicas": 2,
            "maxReplicas": 10,
            "metrics": [
                {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}},
                {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "1Gi"}}},
                {"type": "Pods", "pods": {"target": {"averageValue": "100"}}},
            ],
        },
        "status": {"currentReplicas": 3, "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 41}}}]},
    }
    assert cells("autoscaling", "HorizontalPodAutoscaler", obj) == [
        "web", "Deployment/web", "cpu: 41%/80%, memory: <unknown>/1Gi + 1 more...", "2", 10, 3, "5m"
    ]
    v1 = {"metadata": meta("v1"), "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "w"}, "maxReplicas": 4,
                                          "targetCPUUtilizationPercentage": 50}}
    assert cells("autoscaling", "HorizontalPodAutoscaler", v1)[2:4] == ["cpu: <unknown>/50%", "<unset>"]
    assert cells("autoscaling", "HorizontalPodAutoscaler", {"metadata": meta("n")})[2] == "<none>"


# --- services and networking -------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "status", "expected"),
    [
        (
            {"type": "ClusterIP", "clusterIPs": ["10.96.0.10"], "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
             "selector": {"k8s-app": "kube-dns"}},
            {},
            ["ClusterIP", "10.96.0.10", "<none>", "53/UDP,53/TCP", "5m", "k8s-app=kube-dns"],
        ),
        (
            {"type": "ClusterIP", "clusterIP": "None", "clusterIPs": ["None"], "ports": []},
            {},
            ["ClusterIP", "None", "<none>", "<none>", "5m", "<none>"],
        ),
        (
            {"type": "ClusterIP", "clusterIP": "10.0.0.1", "externalIPs": ["1.2.3.4", "5.6.7.8"], "ports": [{"port": 80, "protocol": "TCP"}]},
            {},
            ["ClusterIP", "10.0.0.1", "1.2.3.4,5.6.7.8", "80/TCP", "5m", "<none>"],
        ),
        (
            {"type": "NodePort", "clusterIPs": ["10.0.0.2"], "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}]},
            {},
            ["NodePort", "10.0.0.2", "<none>", "80:30080/TCP", "5m", "<none>"],
        ),
        (
            {"type": "LoadBalancer", "clusterIPs": ["10.0.0.3"], "ports": [{"port": 443, "nodePort": 31443, "protocol": "TCP"}]},
            {},
            ["LoadBalancer", "10.0.0.3", "<pending>", "443:31443/TCP", "5m", "<none>"],
        ),
        (
            {"type": "LoadBalancer", "clusterIPs": ["10.0.0.3"], "externalIPs": ["9.9.9.9"]},
            {"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}, {"hostname": "lb.example.com"}, {"ip": "203.0.113.1"}, {"ip": "203.0.113.9"}]}},
            ["LoadBalancer", "10.0.0.3", "203.0.113.1,203.0.113.9,lb.example.com,9.9.9.9", "<none>", "5m", "<none>"],
        ),
        (
            {"type": "ExternalName", "externalName": "db.example.com"},
            {},
            ["ExternalName", "<none>", "db.example.com", "<none>", "5m", "<none>"],
        ),
        ({}, {}, ["", "<none>", "<unknown>", "<none>", "5m", "<none>"]),
    ],
)
def test_service(spec: dict[str, Any], status: dict[str, Any], expected: list[Any]) -> None:
    assert cells("", "Service", {"metadata": meta("svc"), "spec": spec, "status": status}) == ["svc", *expected]


@pytest.mark.parametrize(
    ("subsets", "expected"),
    [
        (None, "<none>"),
        ([], "<none>"),
        ([{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}], "10.0.0.1:80"),
        ([{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}]}], "10.0.0.1,10.0.0.2"),
        ([{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]}], "[fd00::1]:80"),
        ([{"notReadyAddresses": [{"ip": "10.0.0.9"}], "ports": [{"port": 80}]}], ""),
        (
            [
                {"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"port": 80}, {"port": 443}]},
                {"addresses": [{"ip": "10.0.0.3"}]},
            ],
            "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 2 more...",
        ),
    ],
)
def test_endpoints(subsets: Any, expected: str) -> None:
    obj: dict[str, Any] = {"metadata": meta("svc")}
    if subsets is not None:
        obj["subsets"] = subsets
    assert cells("", "Endpoints", obj) == ["svc", expected, "5m"]


def test_endpoint_slice() -> None:
    obj = {
        "metadata": meta("svc-abc"),
        "addressType": "IPv4",
        "ports": [{"port": 80, "name": "http"}, {"name": "metrics"}, {}, {"port": 9000}],
        "endpoints": [{"addresses": ["10.0.0.1"], "conditions": {"ready": False}}, {"addresses": ["10.0.0.2", "10.0.0.3"]}],
    }
    assert cells("discovery.k8s.io", "EndpointSlice", obj) == ["svc-abc", "IPv4", "80,metrics,* + 1 more...", "10.0.0.1,10.0.0.2,10.0.0.3", "5m"]
    assert cells("discovery.k8s.io", "EndpointSlice", {"metadata": meta("e"), "addressType": "IPv6"})[2:4] == ["<unset>", "<unset>"]


def test_ingress_and_ingress_class() -> None:
    obj = {
        "metadata": meta("web"),
        "spec": {
            "ingressClassName": "nginx",
            "rules": [{"host": "a.example.com"}, {"host": "b.example.com"}, {}, {"host": "c.example.com"}, {"host": "d.example.com"}],
            "tls": [{"hosts": ["a.example.com"]}],
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.5"}]}},
    }
    assert cells("networking.k8s.io", "Ingress", obj) == [
        "web", "nginx", "a.example.com,b.example.com,c.example.com + 2 more...", "203.0.113.5", "80, 443", "5m"
    ]
    assert cells("networking.k8s.io", "Ingress", {"metadata": meta("i")}) == ["i", "<none>", "*", "", "80", "5m"]
    klass = {
        "metadata": meta("nginx", annotations={"ingressclass.kubernetes.io/is-default-class": "true"}),
        "spec": {"controller": "k8s.io/ingress-nginx", "parameters": {"apiGroup": "k8s.example.com", "kind": "Params", "name": "p"}},
    }
    assert cells("networking.k8s.io", "IngressClass", klass) == ["nginx (default)", "k8s.io/ingress-nginx", "Params.k8s.example.com/p", "5m"]


def test_network_policy_service_cidr_ip_address() -> None:
    assert cells("networking.k8s.io", "NetworkPolicy", {"metadata": meta("deny"), "spec": {"podSelector": {}}}) == ["deny", "<none>", "5m"]
    np = {"metadata": meta("np"), "spec": {"podSelector": {"matchLabels": {"role": "db"}}}}
    assert cells("networking.k8s.io", "NetworkPolicy", np) == ["np", "role=db", "5m"]
    cidr = {"metadata": meta("kubernetes"), "spec": {"cidrs": ["10.96.0.0/12", "fd00:10:96::/112"]}}
    assert cells("networking.k8s.io", "ServiceCIDR", cidr) == ["kubernetes", "10.96.0.0/12,fd00:10:96::/112", "5m"]
    ip = {"metadata": meta("10.96.0.1"), "spec": {"parentRef": {"group": "", "resource": "services", "namespace": "default", "name": "kubernetes"}}}
    assert cells("networking.k8s.io", "IPAddress", ip) == ["10.96.0.1", "services/default/kubernetes", "5m"]


# --- config and storage -------------------------------------------------------------------


def test_namespace_configmap_secret_serviceaccount() -> None:
    assert cells("", "Namespace", {"metadata": meta("kube-system"), "status": {"phase": "Active"}}) == ["kube-system", "Active", "5m"]
    cm = {"metadata": meta("cfg"), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}}
    assert cells("", "ConfigMap", cm) == ["cfg", 3, "5m"]
    assert cells("", "ConfigMap", {"metadata": meta("empty")}) == ["empty", 0, "5m"]
    secret = {"metadata": meta("tls"), "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}}
    assert cells("", "Secret", secret) == ["tls", "kubernetes.io/tls", 2, "5m"]
    assert columns("", "ServiceAccount") == [("Name", "string", 0), ("Age", "string", 0)]
    assert cells("", "ServiceAccount", {"metadata": meta("default"), "secrets": [{"name": "s"}]}) == ["default", "5m"]


def test_persistent_volume() -> None:
    pv = {
        "metadata": meta("pv1"),
        "spec": {
            "capacity": {"storage": "10Gi"},
            "accessModes": ["ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce", "ReadWriteOncePod"],
            "persistentVolumeReclaimPolicy": "Retain",
            "claimRef": {"namespace": "default", "name": "data"},
            "storageClassName": "standard",
            "volumeMode": "Filesystem",
        },
        "status": {"phase": "Bound"},
    }
    assert cells("", "PersistentVolume", pv) == [
        "pv1", "10Gi", "RWO,RWX,RWOP", "Retain", "Bound", "default/data", "standard", "<unset>", "", "5m", "Filesystem"
    ]
    pv["metadata"]["annotations"] = {"volume.beta.kubernetes.io/storage-class": "legacy"}
    pv["metadata"]["deletionTimestamp"] = ts(1)
    row = cells("", "PersistentVolume", pv)
    assert row[4] == "Terminating" and row[6] == "legacy"
    bare = {"metadata": meta("pv2"), "status": {"phase": "Failed", "reason": "Recycle failed"}}
    assert cells("", "PersistentVolume", bare) == ["pv2", "0", "", "", "Failed", "", "", "<unset>", "Recycle failed", "5m", "<unset>"]


def test_persistent_volume_claim() -> None:
    pending = {"metadata": meta("data"), "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard",
                                                  "resources": {"requests": {"storage": "1Gi"}}}, "status": {"phase": "Pending"}}
    assert cells("", "PersistentVolumeClaim", pending) == ["data", "Pending", "", "", "", "standard", "<unset>", "5m", "<unset>"]
    bound = {
        "metadata": meta("data"),
        "spec": {"volumeName": "pv1", "storageClassName": "standard", "volumeAttributesClassName": "gold", "volumeMode": "Block"},
        "status": {"phase": "Bound", "capacity": {"storage": "10Gi"}, "accessModes": ["ReadOnlyMany"]},
    }
    assert cells("", "PersistentVolumeClaim", bound) == ["data", "Bound", "pv1", "10Gi", "ROX", "standard", "gold", "5m", "Block"]
    # Quantities print in canonical form, as Kubernetes serializes them.
    bound["status"]["capacity"]["storage"] = "1.5Gi"
    assert cells("", "PersistentVolumeClaim", bound)[3] == "1536Mi"


def storage_class(name: str, created: float, default: bool = False, beta: bool = False) -> dict[str, Any]:
    annotations = {}
    if default:
        key = "storageclass.beta.kubernetes.io/is-default-class" if beta else "storageclass.kubernetes.io/is-default-class"
        annotations[key] = "true"
    return {"metadata": {"name": name, "creationTimestamp": ts(created), "annotations": annotations}, "provisioner": "rancher.io/local-path"}


def test_storage_class_effective_default_only_in_lists() -> None:
    spec = table_for("storage.k8s.io", "StorageClass")
    items = [
        storage_class("old-default", 1000, default=True),
        storage_class("new-default", 100, default=True, beta=True),
        storage_class("plain", 50),
    ]
    rows = spec.rows(items, NOW)
    assert [r.cells[0] for r in rows] == ["old-default", "new-default (default)", "plain"]
    assert rows[2].cells == ["plain", "rancher.io/local-path", "Delete", "Immediate", False, "50s"]
    tie = [storage_class("b", 100, default=True), storage_class("a", 100, default=True)]
    assert [r.cells[0] for r in spec.rows(tie, NOW)] == ["b", "a (default)"]
    (single,) = spec.rows([items[1]], NOW, single_object=True)
    assert single.cells[0] == "new-default"
    custom = {**storage_class("fast", 10), "reclaimPolicy": "Retain", "volumeBindingMode": "WaitForFirstConsumer", "allowVolumeExpansion": True}
    assert cells("storage.k8s.io", "StorageClass", custom) == ["fast", "rancher.io/local-path", "Retain", "WaitForFirstConsumer", True, "10s"]


def test_resource_quota() -> None:
    quota = {
        "metadata": meta("q"),
        "status": {
            "hard": {"pods": "10", "requests.cpu": "4", "limits.memory": "8Gi", "limits.cpu": "8", "count/deployments.apps": "5"},
            "used": {"pods": "3", "requests.cpu": "0.5", "limits.cpu": "1000m"},
        },
    }
    assert cells("", "ResourceQuota", quota) == [
        "q", "count/deployments.apps: 0/5, pods: 3/10, requests.cpu: 500m/4", "limits.cpu: 1/8, limits.memory: 0/8Gi", "5m"
    ]


# --- events -------------------------------------------------------------------------------


def test_core_event() -> None:
    event = {
        "metadata": meta("web.17c8"),
        "involvedObject": {"kind": "Pod", "name": "web", "fieldPath": "spec.containers{app}"},
        "reason": "BackOff",
        "message": "  Back-off restarting failed container\n",
        "source": {"component": "kubelet", "host": "n1"},
        "firstTimestamp": ts(3600),
        "lastTimestamp": ts(65),
        "count": 12,
        "type": "Warning",
    }
    assert [c[0] for c in columns("", "Event")] == [
        "Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message", "First Seen", "Count", "Name"
    ]
    assert table_for("", "Event").column_definitions[-1].format == "name"
    assert cells("", "Event", event) == [
        "65s", "Warning", "BackOff", "pod/web", "spec.containers{app}", "kubelet, n1",
        "Back-off restarting failed container", "60m", 12, "web.17c8",
    ]


def test_new_style_events() -> None:
    core_shape = {
        "metadata": meta("e"),
        "involvedObject": {"kind": "Node"},
        "eventTime": "2024-05-01T11:59:00.000000Z",
        "reportingComponent": "scheduler",
        "reportingInstance": "",
        "series": {"count": 4, "lastObservedTime": "2024-05-01T11:59:50.500000Z"},
        "type": "Normal",
        "reason": "Scheduled",
        "message": "ok",
    }
    # Series time 9.5 s ago truncates to 9s.
    assert cells("", "Event", core_shape) == ["9s", "Normal", "Scheduled", "node", "", "scheduler", "ok", "60s", 4, "e"]
    events_api = {
        "metadata": meta("e2"),
        "regarding": {"kind": "Pod", "name": "web"},
        "note": "pulled",
        "eventTime": "2024-05-01T11:58:00.000000Z",
        "reportingController": "kubelet",
        "reportingInstance": "n1",
        "reason": "Pulled",
        "type": "Normal",
    }
    assert cells("events.k8s.io", "Event", events_api) == ["2m", "Normal", "Pulled", "pod/web", "", "kubelet, n1", "pulled", "2m", 1, "e2"]
    nothing = {"metadata": meta("e3")}
    assert cells("", "Event", nothing) == ["<unknown>", "", "", "", "", "", "", "<unknown>", 1, "e3"]


# --- cluster-wide kinds --------------------------------------------------------------------


def test_lease_priority_class_pdb() -> None:
    assert cells("coordination.k8s.io", "Lease", {"metadata": meta("kube-scheduler"), "spec": {"holderIdentity": "n1_abc"}}) == [
        "kube-scheduler", "n1_abc", "5m"
    ]
    assert cells("coordination.k8s.io", "Lease", {"metadata": meta("l")})[1] == ""
    pc = {"metadata": meta("system-node-critical"), "value": 2000001000, "globalDefault": False}
    assert columns("scheduling.k8s.io", "PriorityClass") == [
        ("Name", "string", 0), ("Value", "integer", 0), ("Global-Default", "boolean", 0), ("Age", "string", 0), ("PreemptionPolicy", "string", 0)
    ]
    assert cells("scheduling.k8s.io", "PriorityClass", pc) == ["system-node-critical", 2000001000, False, "5m", ""]
    pc["preemptionPolicy"] = "Never"
    assert cells("scheduling.k8s.io", "PriorityClass", pc)[4] == "Never"
    pdb = {"metadata": meta("web"), "spec": {"minAvailable": 2}, "status": {"disruptionsAllowed": 1}}
    assert cells("policy", "PodDisruptionBudget", pdb) == ["web", "2", "N/A", 1, "5m"]
    pdb["spec"] = {"maxUnavailable": "50%"}
    assert cells("policy", "PodDisruptionBudget", pdb)[1:3] == ["N/A", "50%"]


def test_rbac() -> None:
    role = {"metadata": {"name": "reader", "namespace": "default", "creationTimestamp": "2024-05-01T10:00:00.123Z"}, "rules": []}
    assert columns("rbac.authorization.k8s.io", "Role") == [("Name", "string", 0), ("Created At", "date", 0)]
    assert cells("rbac.authorization.k8s.io", "Role", role) == ["reader", "2024-05-01T10:00:00Z"]
    assert cells("rbac.authorization.k8s.io", "ClusterRole", {"metadata": {"name": "x"}}) == ["x", "0001-01-01T00:00:00Z"]
    assert cells("", "LimitRange", role)[1] == "2024-05-01T10:00:00Z"
    binding = {
        "metadata": meta("rb"),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [
            {"kind": "User", "name": "alice"},
            {"kind": "User", "name": "bob"},
            {"kind": "Group", "name": "devs"},
            {"kind": "ServiceAccount", "namespace": "ci", "name": "builder"},
        ],
    }
    assert cells("rbac.authorization.k8s.io", "RoleBinding", binding) == ["rb", "ClusterRole/view", "5m", "alice, bob", "devs", "ci/builder"]
    assert cells("rbac.authorization.k8s.io", "ClusterRoleBinding", {"metadata": meta("c"), "roleRef": {"kind": "ClusterRole", "name": "admin"}}) == [
        "c", "ClusterRole/admin", "5m", "", "", ""
    ]


@pytest.mark.parametrize(
    ("conditions", "certificate", "expected"),
    [
        ([], "", "Pending"),
        ([{"type": "Approved", "status": "True"}], "", "Approved"),
        ([{"type": "Approved", "status": "True"}], "LS0t", "Approved,Issued"),
        ([{"type": "Approved"}, {"type": "Denied"}], "", "Denied"),
        ([{"type": "Approved"}, {"type": "Failed"}], "", "Approved,Failed"),
    ],
)
def test_csr(conditions: list[dict[str, str]], certificate: str, expected: str) -> None:
    csr = {
        "metadata": meta("csr-1"),
        "spec": {"signerName": "kubernetes.io/kube-apiserver-client", "username": "alice", "expirationSeconds": 3600},
        "status": {"conditions": conditions, "certificate": certificate},
    }
    assert cells("certificates.k8s.io", "CertificateSigningRequest", csr) == [
        "csr-1", "5m", "kubernetes.io/kube-apiserver-client", "alice", "60m", expected
    ]
    assert cells("certificates.k8s.io", "CertificateSigningRequest", {"metadata": meta("c")})[2:5] == ["<none>", "", "<none>"]


def test_crd() -> None:
    crd = {
        "metadata": {"name": "widgets.example.com", "creationTimestamp": "2024-04-01T08:30:15Z"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets", "shortNames": ["wd", "wdg"]},
            "versions": [{"name": "v1", "served": True, "storage": True}, {"name": "v1beta1", "served": True}, {"name": "v0", "served": False}],
        },
        "status": {"conditions": [{"type": "Established", "status": "True"}]},
    }
    assert [c[:2] for c in columns("apiextensions.k8s.io", "CustomResourceDefinition")] == [
        ("Name", "string"), ("Scope", "string"), ("Versions", "string"), ("Created At", "date"),
        ("Group", "string"), ("Kind", "string"), ("ShortNames", "string"), ("Established", "boolean"),
    ]
    assert cells("apiextensions.k8s.io", "CustomResourceDefinition", crd) == [
        "widgets.example.com", "Namespaced", "v1(storage),v1beta1", "2024-04-01T08:30:15Z", "example.com", "Widget", "wd,wdg", True
    ]


def test_admission_flowcontrol_storage_node_kinds() -> None:
    hooks = {"metadata": meta("hooks"), "webhooks": [{"name": "a"}, {"name": "b"}]}
    assert cells("admissionregistration.k8s.io", "ValidatingWebhookConfiguration", hooks) == ["hooks", 2, "5m"]
    assert cells("admissionregistration.k8s.io", "MutatingWebhookConfiguration", {"metadata": meta("m")}) == ["m", 0, "5m"]
    vap = {"metadata": meta("p"), "spec": {"paramKind": {"apiVersion": "v1", "kind": "ConfigMap"}, "validations": [{"expression": "true"}]}}
    assert cells("admissionregistration.k8s.io", "ValidatingAdmissionPolicy", vap) == ["p", 1, "v1/ConfigMap", "5m"]
    binding = {"metadata": meta("b"), "spec": {"policyName": "p", "paramRef": {"name": "cfg"}}}
    assert cells("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding", binding) == ["b", "p", "*/cfg", "5m"]
    binding["spec"]["paramRef"]["namespace"] = "ns"
    assert cells("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding", binding)[2] == "ns/cfg"
    assert cells("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding", {"metadata": meta("m")})[2] == "<unset>"

    schemas = [
        {"metadata": meta("z"), "spec": {"priorityLevelConfiguration": {"name": "workload-low"}, "matchingPrecedence": 9000}},
        {"metadata": meta("exempt"), "spec": {"priorityLevelConfiguration": {"name": "exempt"}, "matchingPrecedence": 1,
                                              "distinguisherMethod": {"type": "ByUser"}},
         "status": {"conditions": [{"type": "Dangling", "status": "False"}]}},
        {"metadata": meta("a"), "spec": {"priorityLevelConfiguration": {"name": "workload-low"}, "matchingPrecedence": 9000}},
    ]
    rows = table_for("flowcontrol.apiserver.k8s.io", "FlowSchema").rows(schemas, NOW)
    assert [r.cells for r in rows] == [
        ["exempt", "exempt", 1, "ByUser", "5m", "False"],
        ["a", "workload-low", 9000, "<none>", "5m", "?"],
        ["z", "workload-low", 9000, "<none>", "5m", "?"],
    ]
    plc = {"metadata": meta("global-default"), "spec": {"type": "Limited", "limited": {"nominalConcurrencyShares": 20,
           "limitResponse": {"type": "Queue", "queuing": {"queues": 128, "handSize": 6, "queueLengthLimit": 50}}}}}
    assert cells("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration", plc) == ["global-default", "Limited", 20, 128, 6, 50, "5m"]
    exempt = {"metadata": meta("exempt"), "spec": {"type": "Exempt"}}
    assert cells("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration", exempt)[2:6] == ["<none>"] * 4

    driver = {"metadata": meta("csi.example.com"), "spec": {"volumeLifecycleModes": ["Persistent", "Ephemeral"]}}
    assert cells("storage.k8s.io", "CSIDriver", driver) == ["csi.example.com", True, False, False, "<unset>", False, "Persistent,Ephemeral", "5m"]
    attach = {"metadata": meta("va"), "spec": {"attacher": "csi.example.com", "nodeName": "n1", "source": {"persistentVolumeName": "pv1"}},
              "status": {"attached": True}}
    assert cells("storage.k8s.io", "VolumeAttachment", attach) == ["va", "csi.example.com", "pv1", "n1", True, "5m"]
    assert cells("storage.k8s.io", "CSINode", {"metadata": meta("n1"), "spec": {"drivers": [{"name": "d"}]}}) == ["n1", 1, "5m"]
    assert cells("storage.k8s.io", "CSIStorageCapacity", {"metadata": meta("c"), "storageClassName": "fast"}) == ["c", "fast", "<unset>"]
    assert cells("node.k8s.io", "RuntimeClass", {"metadata": meta("gvisor"), "handler": "runsc"}) == ["gvisor", "runsc", "5m"]
    apiservice = {"metadata": meta("v1.apps"), "status": {"conditions": [{"type": "Available", "status": "True", "reason": "Local"}]}}
    assert cells("apiregistration.k8s.io", "APIService", apiservice) == ["v1.apps", "Local", "True", "5m"]
    remote = {"metadata": meta("v1beta1.metrics.k8s.io"), "spec": {"service": {"namespace": "kube-system", "name": "metrics-server"}},
              "status": {"conditions": [{"type": "Available", "status": "False", "reason": "MissingEndpoints"}]}}
    assert cells("apiregistration.k8s.io", "APIService", remote)[1:3] == ["kube-system/metrics-server", "False (MissingEndpoints)"]
    claim = {"metadata": meta("gpu"), "status": {"allocation": {}, "reservedFor": [{"name": "p"}]}}
    assert cells("resource.k8s.io", "ResourceClaim", claim) == ["gpu", "allocated,reserved", "5m"]
    assert cells("resource.k8s.io", "ResourceClaim", {"metadata": meta("gpu")})[1] == "pending"


def test_pod_template_and_component_status() -> None:
    template = {"metadata": meta("t"), "template": {"metadata": {"labels": {"app": "x"}}, **TEMPLATE}}
    assert cells("", "PodTemplate", template) == ["t", "app,log", "nginx:1,busybox", "app=x"]
    cs = {"metadata": {"name": "etcd-0"}, "conditions": [{"type": "Healthy", "status": "True", "message": "ok"}]}
    assert cells("", "ComponentStatus", cs) == ["etcd-0", "Healthy", "ok", ""]


# --- custom resources ---------------------------------------------------------------------


def test_custom_resources_default_to_name_and_age() -> None:
    spec = table_for("example.com", "Widget")
    assert [(c.name, c.type, c.format) for c in spec.column_definitions] == [("Name", "string", "name"), ("Age", "date", "")]
    assert spec.column_definitions[1].description == "Custom resource definition column (in JSONPath format): .metadata.creationTimestamp"
    assert cells("example.com", "Widget", {"metadata": meta("w1")}) == ["w1", "5m"]
    # No creationTimestamp: the JSONPath selects nothing, so the cell is null.
    assert cells("example.com", "Widget", {"metadata": {"name": "w2"}}) == ["w2", None]
    assert table_for("example.com", "Widget") is table_for("other.io", "Thing")
    assert table_from_printer_columns(DEFAULT_PRINTER_COLUMNS).column_definitions == spec.column_definitions


def test_printer_columns_from_jsonpath() -> None:
    spec = table_from_printer_columns(
        [
            {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
            {"name": "Ratio", "type": "number", "jsonPath": ".spec.ratio"},
            {"name": "Enabled", "type": "boolean", "jsonPath": ".spec.enabled"},
            {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type=='Ready')].status", "priority": 1},
            {"name": "Endpoint", "type": "string", "jsonPath": ".status.endpoints[0]", "description": "first endpoint"},
            {"name": "App", "type": "string", "jsonPath": ".metadata.labels['app\\.kubernetes\\.io/name']"},
            {"name": "Size", "type": "string", "jsonPath": ".spec.size"},
            {"name": "Ports", "type": "string", "jsonPath": ".spec.ports"},
            {"name": "Started", "type": "date", "jsonPath": ".status.startedAt"},
            {"name": "Missing", "type": "string", "jsonPath": ".status.nothing.here"},
            {"name": "Wrong", "type": "integer", "jsonPath": ".spec.enabled"},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        ]
    )
    defs = spec.column_definitions
    assert [d.name for d in defs][:3] == ["Name", "Replicas", "Ratio"]
    assert defs[4].priority == 1
    assert defs[5].description == "first endpoint"
    assert defs[1].description == "Custom resource definition column (in JSONPath format): .spec.replicas"
    obj = {
        "metadata": {"name": "w", "creationTimestamp": ts(90), "labels": {"app.kubernetes.io/name": "shop"}},
        "spec": {"replicas": 3, "ratio": 2, "enabled": True, "size": 1500000.0, "ports": [80, 443]},
        "status": {
            "conditions": [{"type": "Synced", "status": "True"}, {"type": "Ready", "status": "False"}],
            "endpoints": ["10.0.0.1:80", "10.0.0.2:80"],
            "startedAt": "not-a-time",
        },
    }
    (row,) = spec.rows([obj], NOW)
    assert row.cells == ["w", 3, 2.0, True, "False", "10.0.0.1:80", "shop", "1.5e+06", "[80,443]", "<invalid>", None, None, "90s"]


def test_printer_columns_reject_unknown_syntax() -> None:
    with pytest.raises(ValueError, match="unrecognized column definition"):
        table_from_printer_columns([{"name": "X", "type": "string", "jsonPath": ".spec[?(bad"}])


# --- every kind is robust -------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(tables._TABLES), ids=lambda k: f"{k[0] or 'core'}/{k[1]}")
def test_every_kind_prints_an_empty_object(key: tuple[str, str]) -> None:
    spec = table_for(*key)
    for obj in ({}, {"metadata": {"name": "n"}, "spec": None, "status": None}):
        (row,) = spec.rows([obj], NOW)
        assert len(row.cells) == len(spec.column_definitions) + EXTRA_CELLS.get(key, 0)
    names = [c.name for c in spec.column_definitions]
    assert len(names) == len(set(names)) or key == ("", "Event")
    assert [c.format for c in spec.column_definitions].count("name") <= 2


# --- the Table object ----------------------------------------------------------------------


def test_build_table_with_partial_metadata() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("cfg", resourceVersion="41", labels={"a": "b"}), "data": {"k": "v"}}
    table = build_table([cm], table_for("", "ConfigMap"), NOW, list_resource_version="42", continue_="tok", remaining_item_count=5)
    assert table["kind"] == "Table"
    assert table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"] == {"resourceVersion": "42", "continue": "tok", "remainingItemCount": 5}
    assert table["columnDefinitions"][0] == {
        "name": "Name", "type": "string", "format": "name", "description": tables.NAME_DESCRIPTION, "priority": 0
    }
    assert table["rows"] == [
        {
            "cells": ["cfg", 1, "5m"],
            "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": cm["metadata"]},
        }
    ]


def test_build_table_include_object_modes() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("cfg", resourceVersion="7")}
    spec = table_for("", "ConfigMap")
    full = build_table([cm], spec, NOW, include_object="Object", single_object=True)
    assert full["rows"][0]["object"] is cm
    assert full["metadata"] == {"resourceVersion": "7"}
    none = build_table([cm], spec, NOW, include_object="None")
    assert none["rows"][0]["object"] is None
    assert build_table([cm], spec, NOW, include_object="")["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    beta = build_table([cm], spec, NOW, version="v1beta1", include_column_definitions=False)
    assert beta["apiVersion"] == "meta.k8s.io/v1beta1"
    assert beta["rows"][0]["object"]["apiVersion"] == "meta.k8s.io/v1beta1"
    assert beta["columnDefinitions"] is None


def test_include_object_validation() -> None:
    assert check_include_object(None) == "Metadata"
    assert check_include_object("Object") == "Object"
    with pytest.raises(TableOptionsError) as err:
        build_table([], table_for("", "Pod"), NOW, include_object="Everything")
    assert str(err.value) == (
        "Unable to convert to Table as requested: includeObject: Invalid value: \"Everything\": "
        "must be 'Metadata', 'Object', 'None', or empty"
    )


def test_empty_lists_and_row_conditions_on_the_wire() -> None:
    assert build_table([], table_for("", "Pod"), NOW)["rows"] == []
    assert build_table([], table_for("rbac.authorization.k8s.io", "Role"), NOW)["rows"] is None
    assert build_table([], table_for("apiextensions.k8s.io", "CustomResourceDefinition"), NOW)["rows"] is None
    assert build_table([], table_for("example.com", "Widget"), NOW)["rows"] == []
    table = build_table([pod(phase="Succeeded"), pod()], table_for("", "Pod"), NOW)
    assert table["rows"][0]["conditions"][0]["reason"] == "Succeeded"
    assert "conditions" not in table["rows"][1]


def test_build_table_keeps_objects_with_their_sorted_rows() -> None:
    schemas = [
        {"metadata": {"name": "late", "uid": "1"}, "spec": {"matchingPrecedence": 500}},
        {"metadata": {"name": "early", "uid": "2"}, "spec": {"matchingPrecedence": 10}},
    ]
    table = build_table(schemas, table_for("flowcontrol.apiserver.k8s.io", "FlowSchema"), NOW)
    assert [(r["cells"][0], r["object"]["metadata"]["uid"]) for r in table["rows"]] == [("early", "2"), ("late", "1")]
