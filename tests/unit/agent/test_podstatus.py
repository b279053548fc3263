"""Pod status generation (sans-IO): phases, container states, conditions."""

from __future__ import annotations

from typing import Any

import pytest

from kube_lite.agent import cri
from kube_lite.agent.podstatus import ContainerView, PodView, generate_pod_status, pod_phase, qos_class

T0 = 1_767_225_600.0


def pod(restart_policy: str = "Always", containers: tuple[str, ...] = ("app",), inits: tuple[str, ...] = (),
        status: dict[str, Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"restartPolicy": restart_policy,
                            "containers": [{"name": n, "image": "busybox"} for n in containers]}
    if inits:
        spec["initContainers"] = [{"name": n, "image": "busybox"} for n in inits]
    return {"metadata": {"name": "p", "namespace": "default", "uid": "u", "generation": 1}, "spec": spec,
            "status": status or {"phase": "Pending"}}


def instance(state: cri.ContainerState, exit_code: int = 0, started: float = T0, finished: float = 0.0,
             attempt: int = 0, cid: str = "c1") -> cri.ContainerStatus:
    reason = "" if state != cri.ContainerState.EXITED else ("Completed" if exit_code == 0 else "Error")
    return cri.ContainerStatus(
        id=cid, metadata=cri.ContainerMetadata("app", attempt), state=state, created_at=T0, started_at=started,
        finished_at=finished, exit_code=exit_code, image="docker.io/library/busybox:latest",
        image_ref="docker.io/library/busybox@sha256:x", reason=reason,
    )


RUNNING = instance(cri.ContainerState.RUNNING)
OK = instance(cri.ContainerState.EXITED, 0, finished=T0 + 5)
FAILED = instance(cri.ContainerState.EXITED, 1, finished=T0 + 5)


def view(**containers: ContainerView) -> PodView:
    return PodView(containers=dict(containers), sandbox_ready=True, pod_ips=["10.0.0.2"], host_ips=["192.0.2.1"])


@pytest.mark.parametrize(
    ("policy", "app", "expected"),
    [
        ("Always", ContainerView(), "Pending"),
        ("Always", ContainerView(RUNNING), "Running"),
        ("Always", ContainerView(OK), "Running"),  # about to restart
        ("Always", ContainerView(FAILED, waiting=("CrashLoopBackOff", "back-off 10s")), "Running"),
        ("OnFailure", ContainerView(OK), "Succeeded"),
        ("OnFailure", ContainerView(FAILED), "Running"),
        ("Never", ContainerView(OK), "Succeeded"),
        ("Never", ContainerView(FAILED), "Failed"),
    ],
)
def test_phase(policy: str, app: ContainerView, expected: str) -> None:
    assert generate_pod_status(pod(policy), view(app=app), T0 + 10)["phase"] == expected


def test_phase_of_a_terminating_pod_follows_exit_codes() -> None:
    spec = pod("Always")["spec"]
    stopped = [{"name": "app", "state": {"terminated": {"exitCode": 143}}}]
    assert pod_phase(spec, [], stopped, terminating=True) == "Failed"
    clean = [{"name": "app", "state": {"terminated": {"exitCode": 0}}}]
    assert pod_phase(spec, [], clean, terminating=True) == "Succeeded"
    assert pod_phase(spec, [], clean, terminating=False) == "Running"


def test_init_containers_gate_the_phase_and_the_initialized_condition() -> None:
    p = pod(inits=("one", "two"))
    status = generate_pod_status(p, view(one=ContainerView(RUNNING)), T0)
    assert status["phase"] == "Pending"
    assert [s["state"] for s in status["initContainerStatuses"]][1] == {"waiting": {"reason": "PodInitializing"}}
    assert status["containerStatuses"][0]["state"] == {"waiting": {"reason": "PodInitializing"}}
    initialized = next(c for c in status["conditions"] if c["type"] == "Initialized")
    assert initialized["message"] == "containers with incomplete status: [one two]"
    never = pod("Never", inits=("one",))
    assert generate_pod_status(never, view(one=ContainerView(FAILED)), T0)["phase"] == "Failed"


def test_container_status_shapes() -> None:
    status = generate_pod_status(pod(), view(app=ContainerView(RUNNING, previous=FAILED, restart_count=1)), T0)
    app = status["containerStatuses"][0]
    assert app["state"] == {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
    assert app["lastState"]["terminated"]["exitCode"] == 1
    assert app["lastState"]["terminated"]["reason"] == "Error"
    assert app["lastState"]["terminated"]["finishedAt"] == "2026-01-01T00:00:05Z"
    assert (app["ready"], app["started"], app["restartCount"]) == (True, True, 1)
    assert app["containerID"] == "fake://c1"
    assert app["imageID"] == "docker.io/library/busybox@sha256:x"
    assert status["podIPs"] == [{"ip": "10.0.0.2"}] and status["hostIP"] == "192.0.2.1"
    waiting = generate_pod_status(pod(), view(app=ContainerView()), T0)["containerStatuses"][0]
    assert waiting["state"] == {"waiting": {"reason": "ContainerCreating"}} and waiting["lastState"] == {}


def test_conditions_keep_transition_times_and_foreign_conditions() -> None:
    first = generate_pod_status(pod(), view(app=ContainerView(RUNNING)), T0)
    assert [c["type"] for c in first["conditions"]] == [
        "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
    foreign = {"type": "example.com/Gate", "status": "True", "lastTransitionTime": "2025-01-01T00:00:00Z"}
    later = generate_pod_status(pod(status={**first, "conditions": [*first["conditions"], foreign]}),
                                view(app=ContainerView(RUNNING)), T0 + 100)
    assert later["conditions"][:5] == first["conditions"]  # nothing changed: same times
    assert foreign in later["conditions"]
    changed = generate_pod_status(pod(status=first), view(app=ContainerView(FAILED)), T0 + 100)
    ready = next(c for c in changed["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"], ready["lastTransitionTime"]) == (
        "False", "ContainersNotReady", "2026-01-01T00:01:40Z")
    assert ready["message"] == "containers with unready status: [app]"


def test_generation_is_deterministic() -> None:
    v = view(app=ContainerView(RUNNING))
    assert generate_pod_status(pod(), v, T0) == generate_pod_status(pod(), v, T0)


def test_qos_class() -> None:
    def spec(*resources: dict[str, Any]) -> dict[str, Any]:
        return {"containers": [{"name": f"c{i}", "resources": r} for i, r in enumerate(resources)]}

    assert qos_class(spec({})) == "BestEffort"
    both = {"cpu": "1", "memory": "1Gi"}
    assert qos_class(spec({"limits": both, "requests": both})) == "Guaranteed"
    assert qos_class(spec({"limits": both})) == "Guaranteed"
    assert qos_class(spec({"requests": {"cpu": "100m"}})) == "Burstable"
    assert qos_class(spec({"limits": both, "requests": both}, {})) == "Burstable"


def test_previous_status_keeps_start_and_transition_times_while_the_api_lags() -> None:
    # The API's copy still says Pending with no startTime: the agent's own last status wins for
    # what the agent owns, so a later sync makes the very same status (and no new write).
    api_pod = pod(status={"phase": "Pending", "conditions": [
        {"type": "DisruptionTarget", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}]})
    running = view(app=ContainerView(current=RUNNING))
    first = generate_pod_status(api_pod, running, T0 + 1)
    later = generate_pod_status(api_pod, running, T0 + 9, previous=first)
    assert later == first
    assert later["startTime"] == first["startTime"] == "2026-01-01T00:00:01Z"
    assert {c["type"] for c in later["conditions"]} >= {"Ready", "PodScheduled", "DisruptionTarget"}
    without = generate_pod_status(api_pod, running, T0 + 9)
    assert without["startTime"] == "2026-01-01T00:00:09Z"  # what the agent did before: a new write
