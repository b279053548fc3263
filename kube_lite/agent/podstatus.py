"""A pod's status as the node agent reports it, computed from what the runtime says.

Sans-IO: `generate_pod_status(pod, view, now)` is a pure function of the pod (spec and the status
the API has), a `PodView` (the runtime's containers, the sandbox, the addresses, back-off reasons)
and the time; it returns the `status` dict to write. It follows the kubelet's rules:

* container statuses: state waiting (ContainerCreating, or PodInitializing in a pod with init
  containers, or the reason the agent gave: CrashLoopBackOff, ErrImagePull, ...), running
  (startedAt) or terminated (exitCode, reason Completed/Error, startedAt, finishedAt,
  containerID); lastState is the previous instance's end; ready = running (no probes yet),
  started = running; containerID and imageID as the runtime names them ("fake://ID").
* phase (the kubelet's getPhase): Pending until every init container has succeeded and every
  container has started; Running while one runs or will be restarted; Succeeded when all
  exited 0 and none restarts; Failed when one failed and none restarts (or an init container
  failed under restartPolicy Never). A pod being deleted whose containers all stopped is
  terminal: Succeeded if all exited 0, else Failed.
* conditions PodReadyToStartContainers, Initialized, Ready, ContainersReady (kubelet-owned,
  lastTransitionTime kept while their status holds) and PodScheduled (kept as the scheduler
  wrote it, added when missing); conditions of other owners are kept as they are.
* podIP(s), hostIP(s), startTime (kept once set), observedGeneration; qosClass is the API
  server's (set at creation, immutable) and kept as it is (`qos_class` computes it).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

from kube_lite.agent import cri
from kube_lite.api.quantity import QuantityError, parse_quantity

KUBELET_CONDITIONS = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady")
TERMINAL_PHASES = ("Succeeded", "Failed")


def format_time(seconds: float) -> str:
    """RFC 3339 in UTC, to the second, as Kubernetes' metav1.Time serialises."""
    return _dt.datetime.fromtimestamp(int(seconds), _dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ContainerView:
    """What the agent knows of one container of the pod spec."""

    current: cri.ContainerStatus | None = None  # the latest instance
    previous: cri.ContainerStatus | None = None  # the one before it (for lastState)
    restart_count: int = 0
    # A waiting (reason, message) the agent decided: CrashLoopBackOff while backing off,
    # ErrImagePull, CreateContainerError, ... Shown instead of the current instance's state.
    waiting: tuple[str, str] | None = None


@dataclass
class PodView:
    """The runtime side of a pod, as the pod worker last observed it."""

    containers: dict[str, ContainerView] = field(default_factory=dict)
    sandbox_ready: bool = False
    pod_ips: list[str] = field(default_factory=list)
    host_ips: list[str] = field(default_factory=list)
    runtime_name: str = "fake"
    # The pod is being terminated (deleted, or its static manifest removed): its containers will
    # not be restarted, whatever the restart policy says.
    terminating: bool = False


# --------------------------------------------------------------------------------------------
# Containers


def _terminated(status: cri.ContainerStatus, runtime: str) -> dict[str, Any]:
    if status.state == cri.ContainerState.UNKNOWN:
        return {
            "exitCode": 137,
            "reason": "ContainerStatusUnknown",
            "message": "The container could not be located when the pod was terminated",
        }
    out: dict[str, Any] = {"exitCode": status.exit_code}
    out["reason"] = status.reason or ("Completed" if status.exit_code == 0 else "Error")
    if status.message:
        out["message"] = status.message
    if status.started_at:
        out["startedAt"] = format_time(status.started_at)
    out["finishedAt"] = format_time(status.finished_at or status.started_at or status.created_at)
    out["containerID"] = f"{runtime}://{status.id}"
    return out


def _is_done(status: cri.ContainerStatus | None) -> bool:
    return status is not None and status.state in (cri.ContainerState.EXITED, cri.ContainerState.UNKNOWN)


def container_status(spec: dict[str, Any], view: ContainerView, runtime: str, default_waiting: str) -> dict[str, Any]:
    """The API ContainerStatus of one container (see the module doc)."""
    cur, prev = view.current, view.previous
    out: dict[str, Any] = {"name": spec["name"], "image": spec.get("image", ""), "imageID": ""}
    state: dict[str, Any]
    last: dict[str, Any] = {}
    ready = started = False
    if cur is not None:
        out["containerID"] = f"{runtime}://{cur.id}"
        out["imageID"] = cur.image_ref
        if cur.image:
            out["image"] = cur.image
    if view.waiting is not None:
        reason, message = view.waiting
        state = {"waiting": {"reason": reason, **({"message": message} if message else {})}}
        if _is_done(cur):
            assert cur is not None
            last = {"terminated": _terminated(cur, runtime)}
        elif _is_done(prev):
            assert prev is not None
            last = {"terminated": _terminated(prev, runtime)}
    elif cur is None:
        state = {"waiting": {"reason": default_waiting}}
    else:
        if _is_done(prev):
            assert prev is not None
            last = {"terminated": _terminated(prev, runtime)}
        if cur.state == cri.ContainerState.RUNNING:
            state = {"running": {"startedAt": format_time(cur.started_at)}}
            ready = started = True
        elif _is_done(cur):
            state = {"terminated": _terminated(cur, runtime)}
        else:  # CREATED: being started
            state = {"waiting": {"reason": "ContainerCreating"}}
    out["lastState"] = last
    out["ready"] = ready
    out["restartCount"] = view.restart_count
    out["started"] = started
    out["state"] = state
    return out


# --------------------------------------------------------------------------------------------
# Phase


def _init_progress(spec: dict[str, Any], statuses: list[dict[str, Any]]) -> tuple[int, int, list[str]]:
    """(pending, failed, incomplete names) over the init containers, as getPhase counts."""
    by_name = {s["name"]: s for s in statuses}
    pending = failed = 0
    incomplete: list[str] = []
    for container in spec.get("initContainers") or []:
        name = container["name"]
        status = by_name.get(name)
        state = (status or {}).get("state") or {}
        terminated = state.get("terminated")
        if terminated is not None and terminated.get("exitCode") == 0:
            continue
        incomplete.append(name)
        if status is None or "running" in state:
            pending += 1
        elif terminated is not None:
            failed += 1
        elif "waiting" in state:
            last = ((status.get("lastState") or {}).get("terminated")) or None
            if last is not None and last.get("exitCode") != 0:
                failed += 1
            elif last is None:
                pending += 1
        else:
            pending += 1
    return pending, failed, incomplete


def pod_phase(spec: dict[str, Any], init_statuses: list[dict[str, Any]], statuses: list[dict[str, Any]],
              terminating: bool) -> str:
    """The kubelet's getPhase over the generated container statuses."""
    restart_policy = spec.get("restartPolicy") or "Always"
    pending_init, failed_init, _ = _init_progress(spec, init_statuses)
    if failed_init and restart_policy == "Never":
        return "Failed"
    running = waiting = stopped = succeeded = unknown = 0
    for status in statuses:
        state = status.get("state") or {}
        if "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            if state["terminated"].get("exitCode") == 0:
                succeeded += 1
        elif "waiting" in state:
            if (status.get("lastState") or {}).get("terminated"):
                stopped += 1
            else:
                waiting += 1
        else:
            unknown += 1
    if pending_init or failed_init:
        # Not initialised: Pending (a failed init container is retried under Always/OnFailure),
        # unless the pod is being torn down with nothing left running.
        if terminating and not running:
            return "Failed"
        return "Pending"
    if waiting and not terminating:
        return "Pending"
    if running and not unknown:
        return "Running"
    if not running and stopped and not unknown:
        if terminating:
            return "Succeeded" if stopped == succeeded and not waiting else "Failed"
        if restart_policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        if restart_policy == "Never":
            return "Failed"
        return "Running"
    if terminating and not running:
        return "Failed"
    return "Pending"


# --------------------------------------------------------------------------------------------
# QoS


def _resources(container: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    resources = container.get("resources") or {}
    return resources.get("requests") or {}, resources.get("limits") or {}


def _qty(value: Any) -> Any:
    try:
        return parse_quantity(value)
    except (QuantityError, ValueError, TypeError):
        return None


def qos_class(spec: dict[str, Any]) -> str:
    """Guaranteed, Burstable or BestEffort, by Kubernetes' rule over cpu and memory of every
    container and init container."""
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    any_set = False
    guaranteed = True
    for container in containers:
        requests, limits = _resources(container)
        for name in ("cpu", "memory"):
            request, limit = requests.get(name), limits.get(name)
            if request is not None and _nonzero(request):
                any_set = True
            if limit is not None and _nonzero(limit):
                any_set = True
            if limit is None or not _nonzero(limit):
                guaranteed = False
            elif request is not None and _qty(request) != _qty(limit):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def _nonzero(value: Any) -> bool:
    q = _qty(value)
    return q is None or str(q) not in ("0", "0m")


# --------------------------------------------------------------------------------------------
# The whole status


def _condition(type_: str, ok: bool, old: dict[str, dict[str, Any]], now: str, reason: str = "",
               message: str = "", generation: int | None = None) -> dict[str, Any]:
    status = "True" if ok else "False"
    previous = old.get(type_)
    transition = previous.get("lastTransitionTime") if previous and previous.get("status") == status else None
    out: dict[str, Any] = {"type": type_, "status": status, "lastTransitionTime": transition or now}
    if reason:
        out["reason"] = reason
    if message:
        out["message"] = message
    if generation is not None:
        out["observedGeneration"] = generation
    return out


def generate_pod_status(pod: dict[str, Any], view: PodView, now: float,
                        previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """The status the agent reports for `pod` given `view` at `now` (see the module doc).
    Deterministic: the same inputs give an equal dict (so unchanged statuses are not re-sent).

    `previous` is the status the agent generated last for this pod, if any (the kubelet's
    status manager cache): its startTime and its conditions' lastTransitionTime win over the
    API's copy, which lags behind the agent's writes (else every sync before the API caught up
    would make a new startTime, and a new write). Conditions of other owners always come from
    the API's copy."""
    spec = pod.get("spec") or {}
    meta = pod.get("metadata") or {}
    old = pod.get("status") or {}
    now_text = format_time(now)
    runtime = view.runtime_name
    generation = meta.get("generation")
    init_specs = spec.get("initContainers") or []
    default_waiting = "PodInitializing" if init_specs else "ContainerCreating"

    init_statuses = [
        container_status(c, view.containers.get(c["name"], ContainerView()), runtime, default_waiting)
        for c in init_specs
    ]
    statuses = [
        container_status(c, view.containers.get(c["name"], ContainerView()), runtime, default_waiting)
        for c in spec.get("containers") or []
    ]
    phase = pod_phase(spec, init_statuses, statuses, view.terminating)

    old_conditions = {c.get("type"): c for c in old.get("conditions") or [] if isinstance(c, dict)}
    # The kubelet's own conditions as the agent last generated them (see the docstring); the
    # other owners' conditions are appended from the API's copy below.
    generated = {c.get("type"): c for c in (previous or {}).get("conditions") or [] if isinstance(c, dict)}
    transitions = {**old_conditions, **{k: c for k, c in generated.items() if k in KUBELET_CONDITIONS}}
    _, _, incomplete = _init_progress(spec, init_statuses)
    unready = [s["name"] for s in statuses if not s["ready"]]
    conditions = [_condition("PodReadyToStartContainers", view.sandbox_ready, transitions, now_text,
                             generation=generation)]
    if phase == "Succeeded":
        conditions.append(_condition("Initialized", True, transitions, now_text, "PodCompleted",
                                     generation=generation))
        conditions.append(_condition("Ready", False, transitions, now_text, "PodCompleted", generation=generation))
        conditions.append(_condition("ContainersReady", False, transitions, now_text, "PodCompleted",
                                     generation=generation))
    else:
        if incomplete:
            conditions.append(_condition(
                "Initialized", False, transitions, now_text, "ContainersNotInitialized",
                f"containers with incomplete status: [{' '.join(incomplete)}]", generation=generation,
            ))
        else:
            conditions.append(_condition("Initialized", True, transitions, now_text, generation=generation))
        if unready:
            message = f"containers with unready status: [{' '.join(unready)}]"
            conditions.append(_condition("Ready", False, transitions, now_text, "ContainersNotReady", message,
                                         generation=generation))
            conditions.append(_condition("ContainersReady", False, transitions, now_text, "ContainersNotReady",
                                         message, generation=generation))
        else:
            conditions.append(_condition("Ready", True, transitions, now_text, generation=generation))
            conditions.append(_condition("ContainersReady", True, transitions, now_text, generation=generation))
    for type_, condition in old_conditions.items():
        if type_ not in KUBELET_CONDITIONS:
            conditions.append(condition)
    if "PodScheduled" not in old_conditions:
        conditions.append(_condition("PodScheduled", True, generated, now_text))

    status: dict[str, Any] = {
        "phase": phase,
        "conditions": conditions,
        "hostIP": view.host_ips[0] if view.host_ips else None,
        "hostIPs": [{"ip": ip} for ip in view.host_ips] or None,
        "podIP": view.pod_ips[0] if view.pod_ips else None,
        "podIPs": [{"ip": ip} for ip in view.pod_ips] or None,
        "startTime": (previous or {}).get("startTime") or old.get("startTime") or now_text,
        "initContainerStatuses": init_statuses or None,
        "containerStatuses": statuses,
        # The API server sets qosClass at creation and it is immutable: kept as it is.
        "qosClass": old.get("qosClass"),
        "observedGeneration": generation,
    }
    # Fields other components own (the scheduler, the resource claim controller) stay as they are.
    for key in ("nominatedNodeName", "resourceClaimStatuses", "extendedResourceClaimStatus"):
        if old.get(key) is not None:
            status[key] = old[key]
    return {k: v for k, v in status.items() if v is not None}
