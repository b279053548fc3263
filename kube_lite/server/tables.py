"""Server-side Table output: the columns and cells `kubectl get` shows, as Kubernetes prints them.

kubectl asks for `application/json;as=Table;v=v1;g=meta.k8s.io` and prints whatever columns
the server sends, so these printers decide what users see. They follow Kubernetes' printers
(pkg/printers/internalversion) column for column and cell for cell:

* `table_for(group, kind)` gives the `TableSpec` of a kind: its `column_definitions` and a
  `rows(objects, now)` that computes the cells. Every built-in kind with a printer has one;
  built-in kinds without one (Role, ClusterRole, LimitRange, ...) get Kubernetes' default
  convertor (Name, Created At); kinds of other groups are taken as custom resources (Name, Age,
  the default printer column of a CRD). `table_from_printer_columns` builds the spec of a CRD
  version's `additionalPrinterColumns` (JSONPath columns).
* `build_table(...)` wraps rows into the meta.k8s.io/v1 `Table` object, with each row's
  `object` as PartialObjectMetadata, the full object, or null (`?includeObject=`).
* `human_duration` is Kubernetes' age humanizer (`5m`, `3m2s`, `2d3h`, `<invalid>`).

As in Kubernetes, the server always generates the wide (priority 1) cells too; kubectl hides
them unless `-o wide`. Cells read the object as stored: defaulting (which Kubernetes applies on
every decode) is the registry's job, so a field the object lacks prints as its zero value.
Time enters only through the `now` argument (an aware datetime or epoch seconds).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from kube_lite.api.quantity import QuantityError, canonical
from kube_lite.api.selectors import (
    FieldError,
    SelectorError,
    format_label_selector,
    format_labels,
    from_label_selector,
)

__all__ = [
    "AGE_DESCRIPTION",
    "NAME_DESCRIPTION",
    "DEFAULT_PRINTER_COLUMNS",
    "ColumnDefinition",
    "TableOptionsError",
    "TableRow",
    "TableSpec",
    "age",
    "build_table",
    "check_include_object",
    "default_table",
    "human_duration",
    "node_roles",
    "parse_time",
    "pod_status",
    "table_for",
    "table_from_printer_columns",
]

NAME_DESCRIPTION = (
    "Name must be unique within a namespace. Is required when creating resources, although some resources may "
    "allow a client to request the generation of an appropriate name automatically. Name is primarily intended "
    "for creation idempotence and configuration definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
AGE_DESCRIPTION = (
    "CreationTimestamp is a timestamp representing the server time when this object was created. It is not "
    "guaranteed to be set in happens-before order across separate operations. Clients may not set this value. "
    "It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. "
    "More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)


# --------------------------------------------------------------------------------------------
# Time: parsing, the age humanizer
# --------------------------------------------------------------------------------------------

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)
_GO_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp (Time or MicroTime) as an aware UTC datetime.

    None for a missing, unparseable or zero (`0001-01-01T00:00:00Z`) timestamp: Kubernetes treats
    all of them as "no time" (`<unknown>` in an Age cell). Sub-microsecond digits are dropped.
    """
    if not isinstance(value, str):
        return None
    m = _RFC3339.fullmatch(value)
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
    micros = int((m.group(7) or "0")[:6].ljust(6, "0"))
    try:
        t = datetime(year, month, day, hour, minute, second, micros, tzinfo=UTC)
        if m.group(9):
            offset = timedelta(hours=int(m.group(10)), minutes=int(m.group(11)))
            t = t - offset if m.group(9) == "+" else t + offset
    except (ValueError, OverflowError):
        return None
    return None if t <= _GO_ZERO_TIME else t


def _as_datetime(now: datetime | float) -> datetime:
    if isinstance(now, datetime):
        return now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    return datetime.fromtimestamp(now, tz=UTC)


_US_PER_S = 1_000_000


def human_duration(d: timedelta | float) -> str:
    """Kubernetes' HumanDuration: ~2-3 significant figures, `<invalid>` below -1 s.

    Seconds are truncated toward zero; -1 s reads `0s` (clock skew between machines).
    `0s`..`119s`, `2m`..`9m59s` (`3m2s`, `4m`), `10m`..`179m`, `3h`..`7h59m` (`3h5m`), `8h`..`47h`,
    `2d`..`7d23h` (`2d3h`), `8d`..`729d`, `2y`..`7y364d` (365-day years), then `{y}y`.
    `d` is a timedelta or seconds.
    """
    us = (d // timedelta(microseconds=1)) if isinstance(d, timedelta) else int(d * _US_PER_S)
    # Truncate toward zero on exact integers (Go's int(d.Seconds())), so -1.5 s is -1 s.
    seconds = us // _US_PER_S if us >= 0 else -((-us) // _US_PER_S)
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        s = seconds % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{hours // 24 // 365}y"


def age(timestamp: Any, now: datetime | float) -> str:
    """How long ago `timestamp` (RFC 3339 string or datetime) was, humanized; `<unknown>` if unset."""
    t = timestamp if isinstance(timestamp, datetime) else parse_time(timestamp)
    if t is None:
        return "<unknown>"
    return human_duration(_as_datetime(now) - t)


def _rfc3339(timestamp: Any) -> str:
    """A timestamp as Go's `Time.UTC().Format(time.RFC3339)`: whole seconds, `Z`; zero time if unset."""
    t = parse_time(timestamp) or _GO_ZERO_TIME
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t.year >= 1000 else "0001-01-01T00:00:00Z"


# --------------------------------------------------------------------------------------------
# Column and row types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColumnDefinition:
    """One meta/v1 TableColumnDefinition. `priority` 0 shows always, 1 only with `-o wide`.

    `type` is a hint (string, integer, number, boolean, date); `format` is "name" on the column
    kubectl prefixes with `kind/`.
    """

    name: str
    type: str = "string"
    format: str = ""
    description: str = ""
    priority: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The wire form; Kubernetes always sends all five keys."""
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


@dataclass(frozen=True, slots=True)
class TableRow:
    """The cells of one object's row (one per column, in order) and its row conditions.

    Cells are JSON values: mostly strings, ints where Kubernetes prints numbers, bools, None.
    """

    cells: list[Any]
    conditions: list[dict[str, str]] | None = None


Obj = Mapping[str, Any]
CellsFn = Callable[[Obj, datetime, Any], list[Any]]
"""Computes a row's cells from (object, now, list context). The context is what the spec's
`list_context` computed from all listed objects, or None for a single-object GET."""


@dataclass(frozen=True)
class TableSpec:
    """How one kind prints: its columns and how to compute each object's cells.

    `conditions` gives a row's conditions (only Pods have them); `list_context` computes, from a
    whole list, what single rows need to know (StorageClass marks the effective default only in
    lists); `sort_key` reorders rows (FlowSchemas print in matching order);
    `rows_null_when_empty` reproduces the convertors that send `rows: null` for an empty list.
    """

    column_definitions: tuple[ColumnDefinition, ...]
    cells: CellsFn
    conditions: Callable[[Obj], list[dict[str, str]] | None] | None = None
    list_context: Callable[[Sequence[Obj]], Any] | None = None
    sort_key: Callable[[Obj], Any] | None = None
    rows_null_when_empty: bool = False

    def rows(
        self, objects: Iterable[Obj], now: datetime | float, *, single_object: bool = False
    ) -> list[TableRow]:
        """One row per object (in `sort_key` order when the spec has one), cells computed at `now`.

        `single_object` says the objects come from a GET of one object rather than a list,
        which only changes list-context decorations such as StorageClass's ` (default)`.
        """
        items = list(objects)
        when = _as_datetime(now)
        if self.sort_key is not None:
            items.sort(key=self.sort_key)
        ctx = None if single_object or self.list_context is None else self.list_context(items)
        return [
            TableRow(self.cells(obj, when, ctx), self.conditions(obj) if self.conditions else None)
            for obj in items
        ]


class TableOptionsError(ValueError):
    """A Table request Kubernetes answers with 400 BadRequest; `str(err)` is its message."""


# --------------------------------------------------------------------------------------------
# Small accessors and formatters shared by the printers
# --------------------------------------------------------------------------------------------


def _get(obj: Any, *path: str, default: Any = None) -> Any:
    cur = obj
    for key in path:
        if not isinstance(cur, Mapping):
            return default
        cur = cur.get(key)
        if cur is None:
            return default
    return cur


def _name(obj: Obj) -> str:
    return _get(obj, "metadata", "name", default="")


def _created(obj: Obj, now: datetime) -> str:
    return age(_get(obj, "metadata", "creationTimestamp"), now)


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    return 0


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _qty(value: Any) -> str:
    """A Quantity cell in canonical form (`1.5Gi` -> `1536Mi`, `1000m` -> `1`); missing is `0`.

    A value that does not parse (it could not have passed validation) prints as stored.
    """
    if value is None:
        return "0"
    if isinstance(value, bool):
        return str(value).lower()
    try:
        return canonical(value)
    except (QuantityError, TypeError, ValueError):
        return str(value)


def _int_or_string(value: Any) -> str:
    return str(value) if not isinstance(value, bool) else str(value).lower()


def _containers(template_spec: Any) -> tuple[str, str]:
    """Containers and Images cells: names and images of the (non-init) containers, joined ","."""
    containers = [c for c in _list(_get(template_spec, "containers")) if isinstance(c, Mapping)]
    return ",".join(c.get("name") or "" for c in containers), ",".join(
        c.get("image") or "" for c in containers
    )


def _first_condition(conditions: Any, ctype: str) -> Mapping[str, Any] | None:
    for c in _list(conditions):
        if isinstance(c, Mapping) and c.get("type") == ctype:
            return c
    return None


def _condition_true(conditions: Any, ctype: str) -> bool:
    """Whether the first condition of `ctype` has status True (absent: False)."""
    c = _first_condition(conditions, ctype)
    return c is not None and c.get("status") == "True"


def _more(items: list[str], total: int, limit: int = 3, empty: str = "<unset>") -> str:
    """Kubernetes' `a,b,c + N more...` listing of the first `limit` of `total` items."""
    text = ",".join(items[:limit])
    if total > limit:
        return f"{text} + {total - limit} more..."
    return text or empty


def _join_host_port(host: str, port: Any) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _col(
    name: str, description: str = "", type: str = "string", priority: int = 0, format: str = ""
) -> ColumnDefinition:
    return ColumnDefinition(name=name, type=type, format=format, description=description, priority=priority)


NAME = ColumnDefinition("Name", "string", "name", NAME_DESCRIPTION, 0)
AGE = ColumnDefinition("Age", "string", "", AGE_DESCRIPTION, 0)
_CONTAINERS = _col("Containers", "Names of each container in the template.", priority=1)
_IMAGES = _col("Images", "Images referenced by each container in the template.", priority=1)


def _selector_col(description: str) -> ColumnDefinition:
    return _col("Selector", description, priority=1)


# --------------------------------------------------------------------------------------------
# Pods
# --------------------------------------------------------------------------------------------

_POD_SUCCEEDED = [
    {
        "type": "Completed",
        "status": "True",
        "reason": "Succeeded",
        "message": "The pod has completed successfully.",
    }
]
_POD_FAILED = [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]


def _pod_conditions(pod: Obj) -> list[dict[str, str]] | None:
    phase = _get(pod, "status", "phase")
    if phase == "Succeeded":
        return [dict(c) for c in _POD_SUCCEEDED]
    if phase == "Failed":
        return [dict(c) for c in _POD_FAILED]
    return None


def _later(current: datetime | None, container_status: Mapping[str, Any]) -> datetime | None:
    """The later of `current` and the container's last termination time (if it has one)."""
    finished = parse_time(_get(container_status, "lastState", "terminated", "finishedAt"))
    if finished is None or (current is not None and finished <= current):
        return current
    return finished


def _terminated_reason(terminated: Mapping[str, Any]) -> str:
    reason = terminated.get("reason") or ""
    if reason:
        return reason
    signal = _int(terminated.get("signal"))
    if signal != 0:
        return f"Signal:{signal}"
    return f"ExitCode:{_int(terminated.get('exitCode'))}"


def pod_status(pod: Obj, now: datetime | float) -> tuple[str, str, str]:
    """The Ready, Status and Restarts cells of a Pod, by Kubernetes' pod row algorithm.

    Status starts from the phase (or `status.reason`, e.g. Evicted; `SchedulingGated` when the
    PodScheduled condition says so), is refined by the first unfinished init container
    (`Init:1/3`, `Init:CrashLoopBackOff`, `Init:Error`, ...) and, once initialized, by the
    lowest-index waiting or terminated container (`ContainerCreating`, `CrashLoopBackOff`,
    `Completed`, `Error`, `OOMKilled`, ...); `Completed` with containers still running becomes
    `Running` or `NotReady`. A deletion timestamp overrides it all: `Terminating` (or `Unknown`
    for a pod lost with its node). Restarts reads `3 (2m5s ago)` once there was a restart.
    """
    spec = _map(pod.get("spec"))
    status = _map(pod.get("status"))
    containers = _list(spec.get("containers"))
    init_containers = [c for c in _list(spec.get("initContainers")) if isinstance(c, Mapping)]
    sidecars = {c.get("name") for c in init_containers if c.get("restartPolicy") == "Always"}
    total = len(containers) + sum(1 for c in init_containers if c.get("restartPolicy") == "Always")
    ready = 0
    restarts = 0
    sidecar_restarts = 0
    last_restart: datetime | None = None
    last_sidecar_restart: datetime | None = None

    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for cond in _list(status.get("conditions")):
        if (
            isinstance(cond, Mapping)
            and cond.get("type") == "PodScheduled"
            and cond.get("reason") == "SchedulingGated"
        ):
            reason = "SchedulingGated"

    initializing = False
    for index, cs in enumerate(_list(status.get("initContainerStatuses"))):
        if not isinstance(cs, Mapping):
            continue
        restarts += _int(cs.get("restartCount"))
        last_restart = _later(last_restart, cs)
        is_sidecar = cs.get("name") in sidecars
        if is_sidecar:
            sidecar_restarts += _int(cs.get("restartCount"))
            last_sidecar_restart = _later(last_sidecar_restart, cs)
        state = _map(cs.get("state"))
        terminated = state.get("terminated")
        waiting = state.get("waiting")
        if isinstance(terminated, Mapping) and _int(terminated.get("exitCode")) == 0:
            continue
        if is_sidecar and cs.get("started") is True:
            if cs.get("ready"):
                ready += 1
            continue
        if isinstance(terminated, Mapping):
            reason = "Init:" + _terminated_reason(terminated)
        elif (
            isinstance(waiting, Mapping)
            and waiting.get("reason")
            and waiting.get("reason") != "PodInitializing"
        ):
            reason = "Init:" + waiting["reason"]
        elif isinstance(waiting, Mapping) and waiting.get("reason") == "PodInitializing":
            # Old kubelets report PodInitializing for init containers; newer ones ContainerCreating.
            reason = "Init:ContainerCreating"
        else:
            reason = f"Init:{index}/{len(init_containers)}"
        initializing = True
        break

    if not initializing or _condition_true(status.get("conditions"), "Initialized"):
        restarts = sidecar_restarts
        last_restart = last_sidecar_restart
        has_running = False
        error_reason = ""
        # Walked backwards, so the lowest-index waiting or terminated container has the last word.
        for cs in reversed(_list(status.get("containerStatuses"))):
            if not isinstance(cs, Mapping):
                continue
            restarts += _int(cs.get("restartCount"))
            last_restart = _later(last_restart, cs)
            state = _map(cs.get("state"))
            terminated = state.get("terminated")
            waiting = state.get("waiting")
            if isinstance(waiting, Mapping) and waiting.get("reason"):
                reason = waiting["reason"]
            elif isinstance(terminated, Mapping):
                reason = _terminated_reason(terminated)
                if _int(terminated.get("exitCode")) != 0:
                    error_reason = reason
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed":
            ready_condition = any(
                isinstance(c, Mapping) and c.get("type") == "Ready" and c.get("status") == "True"
                for c in _list(status.get("conditions"))
            )
            if has_running and ready_condition:
                reason = "Running"
            elif error_reason:
                reason = error_reason
            elif has_running:
                reason = "NotReady"

    if _get(pod, "metadata", "deletionTimestamp") is not None:
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"

    restarts_cell = str(restarts)
    if restarts != 0 and last_restart is not None:
        restarts_cell = f"{restarts} ({age(last_restart, now)} ago)"
    return f"{ready}/{total}", reason, restarts_cell


def _pod_cells(pod: Obj, now: datetime, _ctx: Any) -> list[Any]:
    ready, reason, restarts = pod_status(pod, now)
    spec = _map(pod.get("spec"))
    status = _map(pod.get("status"))
    pod_ips = _list(status.get("podIPs"))
    pod_ip = _get(pod_ips[0], "ip", default="") if pod_ips else (status.get("podIP") or "")
    gates = _list(spec.get("readinessGates"))
    readiness = "<none>"
    if gates:
        true_gates = sum(
            1
            for g in gates
            if _condition_true(status.get("conditions"), _get(g, "conditionType", default=""))
        )
        readiness = f"{true_gates}/{len(gates)}"
    return [
        _name(pod),
        ready,
        reason,
        restarts,
        _created(pod, now),
        pod_ip or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        readiness,
    ]


_POD = TableSpec(
    (
        NAME,
        _col("Ready", "The aggregate readiness state of this pod for accepting traffic."),
        _col("Status", "The aggregate status of the containers in this pod."),
        _col(
            "Restarts",
            "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
        ),
        AGE,
        _col("IP", "podIP address allocated to the pod. Routable at least within the cluster.", priority=1),
        _col("Node", "NodeName indicates in which node this pod is scheduled.", priority=1),
        _col(
            "Nominated Node",
            "nominatedNodeName is set only when this pod preempts other pods on the node.",
            priority=1,
        ),
        _col(
            "Readiness Gates",
            "If specified, all readiness gates will be evaluated for pod readiness.",
            priority=1,
        ),
    ),
    _pod_cells,
    conditions=_pod_conditions,
)


def _pod_template_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    names, images = _containers(_get(obj, "template", "spec"))
    return [_name(obj), names, images, format_labels(_get(obj, "template", "metadata", "labels"))]


_POD_TEMPLATE = TableSpec(
    (
        NAME,
        _col("Containers", "Names of each container in the template."),
        _col("Images", "Images referenced by each container in the template."),
        _col("Pod Labels", "The labels for the pod template."),
    ),
    _pod_template_cells,
)


# --------------------------------------------------------------------------------------------
# Nodes
# --------------------------------------------------------------------------------------------

_ROLE_PREFIX = "node-role.kubernetes.io/"


def node_roles(node: Obj) -> str:
    """The Roles cell: `node-role.kubernetes.io/<role>` suffixes plus `kubernetes.io/role`, sorted."""
    roles: set[str] = set()
    for key, value in _map(_get(node, "metadata", "labels")).items():
        if key.startswith(_ROLE_PREFIX):
            if key[len(_ROLE_PREFIX) :]:
                roles.add(key[len(_ROLE_PREFIX) :])
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return ",".join(sorted(roles)) or "<none>"


def _node_address(node: Obj, kind: str) -> str:
    for address in _list(_get(node, "status", "addresses")):
        if isinstance(address, Mapping) and address.get("type") == kind:
            return address.get("address") or ""
    return "<none>"


def _node_cells(node: Obj, now: datetime, _ctx: Any) -> list[Any]:
    status = _map(node.get("status"))
    info = _map(status.get("nodeInfo"))
    ready = None
    # Only the Ready condition counts; with duplicates the last one wins, as in Kubernetes.
    for cond in _list(status.get("conditions")):
        if isinstance(cond, Mapping) and cond.get("type") == "Ready":
            ready = cond
    parts = ["Unknown"] if ready is None else ["Ready" if ready.get("status") == "True" else "NotReady"]
    if _get(node, "spec", "unschedulable"):
        parts.append("SchedulingDisabled")
    kernel = info.get("kernelVersion") or "<unknown>"
    if info.get("architecture"):
        kernel += f" ({info['architecture']})"
    return [
        _name(node),
        ",".join(parts),
        node_roles(node),
        _created(node, now),
        info.get("kubeletVersion") or "",
        _node_address(node, "InternalIP"),
        _node_address(node, "ExternalIP"),
        info.get("osImage") or "<unknown>",
        kernel,
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


_NODE = TableSpec(
    (
        NAME,
        _col("Status", "The status of the node"),
        _col("Roles", "The roles of the node"),
        AGE,
        _col("Version", "Kubelet Version reported by the node."),
        _col("Internal-IP", "List of addresses reachable to the node.", priority=1),
        _col("External-IP", "List of addresses reachable to the node.", priority=1),
        _col(
            "OS-Image",
            "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
            priority=1,
        ),
        _col(
            "Kernel-Version",
            "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
            priority=1,
        ),
        _col(
            "Container-Runtime",
            "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
            priority=1,
        ),
    ),
    _node_cells,
)


# --------------------------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------------------------


def _deployment_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    spec = _map(obj.get("spec"))
    status = _map(obj.get("status"))
    names, images = _containers(_get(spec, "template", "spec"))
    try:
        selector = str(from_label_selector(spec.get("selector")))
    except SelectorError:
        selector = "<invalid>"
    return [
        _name(obj),
        f"{_int(status.get('readyReplicas'))}/{_int(spec.get('replicas'))}",
        _int(status.get("updatedReplicas")),
        _int(status.get("availableReplicas")),
        _created(obj, now),
        names,
        images,
        selector,
    ]


_DEPLOYMENT = TableSpec(
    (
        NAME,
        _col("Ready", "Number of the pod with ready state"),
        _col(
            "Up-to-date",
            "Total number of non-terminating pods targeted by this deployment that have the desired template spec.",
        ),
        _col(
            "Available",
            "Total number of available non-terminating pods (ready for at least minReadySeconds) targeted by this deployment.",
        ),
        AGE,
        _CONTAINERS,
        _IMAGES,
        _selector_col(
            "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment."
        ),
    ),
    _deployment_cells,
)


def _replica_set_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    spec = _map(obj.get("spec"))
    status = _map(obj.get("status"))
    names, images = _containers(_get(spec, "template", "spec"))
    return [
        _name(obj),
        _int(spec.get("replicas")),
        _int(status.get("replicas")),
        _int(status.get("readyReplicas")),
        _created(obj, now),
        names,
        images,
        format_label_selector(spec.get("selector")),
    ]


def _replication_controller_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    spec = _map(obj.get("spec"))
    status = _map(obj.get("status"))
    names, images = _containers(_get(spec, "template", "spec"))
    return [
        _name(obj),
        _int(spec.get("replicas")),
        _int(status.get("replicas")),
        _int(status.get("readyReplicas")),
        _created(obj, now),
        names,
        images,
        format_labels(spec.get("selector")),
    ]


def _replica_columns(what: str) -> tuple[ColumnDefinition, ...]:
    return (
        NAME,
        _col("Desired", f"Replicas is the number of desired replicas of this {what}.", "integer"),
        _col("Current", "Replicas is the most recently observed number of replicas.", "integer"),
        _col("Ready", "The number of ready replicas for this replica set.", "integer"),
        AGE,
        _CONTAINERS,
        _IMAGES,
        _selector_col("Selector is a label query over pods that should match the replica count."),
    )


_REPLICA_SET = TableSpec(_replica_columns("ReplicaSet"), _replica_set_cells)
_REPLICATION_CONTROLLER = TableSpec(_replica_columns("ReplicationController"), _replication_controller_cells)


def _daemon_set_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    spec = _map(obj.get("spec"))
    status = _map(obj.get("status"))
    template_spec = _get(spec, "template", "spec")
    names, images = _containers(template_spec)
    return [
        _name(obj),
        _int(status.get("desiredNumberScheduled")),
        _int(status.get("currentNumberScheduled")),
        _int(status.get("numberReady")),
        _int(status.get("updatedNumberScheduled")),
        _int(status.get("numberAvailable")),
        format_labels(_get(template_spec, "nodeSelector")),
        _created(obj, now),
        names,
        images,
        format_label_selector(spec.get("selector")),
    ]


_DAEMON_SET = TableSpec(
    (
        NAME,
        _col("Desired", "The total number of nodes that should be running the daemon pod.", "integer"),
        _col(
            "Current",
            "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
            "integer",
        ),
        _col(
            "Ready",
            "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.",
            "integer",
        ),
        _col("Up-to-date", "The total number of nodes that are running updated daemon pod", "integer"),
        _col(
            "Available",
            "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.",
            "integer",
        ),
        _col("Node Selector", "NodeSelector is a selector which must be true for the pod to fit on a node."),
        AGE,
        _CONTAINERS,
        _IMAGES,
        _selector_col("A label query over pods that are managed by the daemon set."),
    ),
    _daemon_set_cells,
)


def _stateful_set_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    spec = _map(obj.get("spec"))
    names, images = _containers(_get(spec, "template", "spec"))
    return [
        _name(obj),
        f"{_int(_get(obj, 'status', 'readyReplicas'))}/{_int(spec.get('replicas'))}",
        _created(obj, now),
        names,
        images,
    ]


_STATEFUL_SET = TableSpec(
    (NAME, _col("Ready", "Number of the pod with ready state"), AGE, _CONTAINERS, _IMAGES),
    _stateful_set_cells,
)


def _group_of(api_version: str) -> str | None:
    """The group of an apiVersion ("" for core), or None when it does not parse."""
    if not api_version:
        return ""
    parts = api_version.split("/")
    if len(parts) == 1:
        return ""
    if len(parts) == 2:
        return parts[0]
    return None


def _controller_revision_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    controller = "<none>"
    for ref in _list(_get(obj, "metadata", "ownerReferences")):
        if isinstance(ref, Mapping) and ref.get("controller") is True:
            kind = ref.get("kind") or ""
            group = _group_of(ref.get("apiVersion") or "") or ""
            group_kind = f"{kind}.{group}" if group else kind
            controller = (
                f"{group_kind.lower()}/{ref.get('name') or ''}" if group_kind else (ref.get("name") or "")
            )
            break
    return [_name(obj), controller, _int(obj.get("revision")), _created(obj, now)]


_CONTROLLER_REVISION = TableSpec(
    (
        NAME,
        _col("Controller", "Controller of the object"),
        _col("Revision", "Revision indicates the revision of the state represented by Data."),
        AGE,
    ),
    _controller_revision_cells,
)


def _job_status(obj: Obj) -> str:
    conditions = _get(obj, "status", "conditions")
    if _condition_true(conditions, "Complete"):
        return "Complete"
    if _condition_true(conditions, "Failed"):
        return "Failed"
    if _get(obj, "metadata", "deletionTimestamp") is not None:
        return "Terminating"
    for ctype in ("Suspended", "FailureTarget", "SuccessCriteriaMet"):
        if _condition_true(conditions, ctype):
            return ctype
    return "Running"


def _job_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    spec = _map(obj.get("spec"))
    status = _map(obj.get("status"))
    succeeded = _int(status.get("succeeded"))
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{_int(spec.get('completions'))}"
    elif _int(spec.get("parallelism")) > 1:
        completions = f"{succeeded}/1 of {_int(spec.get('parallelism'))}"
    else:
        completions = f"{succeeded}/1"
    start = parse_time(status.get("startTime"))
    completion = parse_time(status.get("completionTime"))
    if start is None:
        duration = ""
    elif completion is None:
        duration = human_duration(now - start)
    else:
        duration = human_duration(completion - start)
    names, images = _containers(_get(spec, "template", "spec"))
    return [
        _name(obj),
        _job_status(obj),
        completions,
        duration,
        _created(obj, now),
        names,
        images,
        format_label_selector(spec.get("selector")),
    ]


_JOB = TableSpec(
    (
        NAME,
        _col("Status", "Status of the job."),
        _col("Completions", "The number of pods which reached phase Succeeded."),
        _col("Duration", "Time required to complete the job."),
        AGE,
        _CONTAINERS,
        _IMAGES,
        _selector_col("A label query over pods that should match the pod count."),
    ),
    _job_cells,
)


def _bool_ptr(value: Any) -> str:
    if value is None:
        return "<unset>"
    return "True" if value else "False"


def _cron_job_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    spec = _map(obj.get("spec"))
    status = _map(obj.get("status"))
    last = status.get("lastScheduleTime")
    job_spec = _get(spec, "jobTemplate", "spec")
    names, images = _containers(_get(job_spec, "template", "spec"))
    return [
        _name(obj),
        spec.get("schedule") or "",
        spec.get("timeZone") if spec.get("timeZone") is not None else "<none>",
        _bool_ptr(spec.get("suspend")),
        len(_list(status.get("active"))),
        age(last, now) if last is not None else "<none>",
        _created(obj, now),
        names,
        images,
        format_label_selector(_get(job_spec, "selector")),
    ]


_CRON_JOB = TableSpec(
    (
        NAME,
        _col("Schedule", "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."),
        _col(
            "Timezone",
            "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.",
        ),
        _col(
            "Suspend",
            "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.",
            "boolean",
        ),
        _col("Active", "A list of pointers to currently running jobs.", "integer"),
        _col("Last Schedule", "Information when was the last time the job was successfully scheduled."),
        AGE,
        _CONTAINERS,
        _IMAGES,
        _selector_col("A label query over pods that should match the pod count."),
    ),
    _cron_job_cells,
)


def _hpa_metrics(obj: Obj) -> str:
    """The Targets cell of a HorizontalPodAutoscaler (autoscaling/v2, or v1's CPU target)."""
    spec = _map(obj.get("spec"))
    status = _map(obj.get("status"))
    specs = _list(spec.get("metrics"))
    statuses = _list(status.get("currentMetrics"))
    if not specs and spec.get("targetCPUUtilizationPercentage") is not None:
        # autoscaling/v1 carries only a CPU utilization target.
        specs = [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"averageUtilization": spec["targetCPUUtilizationPercentage"]},
                },
            }
        ]
        current = status.get("currentCPUUtilizationPercentage")
        statuses = (
            [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": current}}}]
            if current is not None
            else []
        )
    if not specs:
        return "<none>"
    items: list[str] = []
    for i, metric in enumerate(specs):
        st = statuses[i] if i < len(statuses) and isinstance(statuses[i], Mapping) else {}
        mtype = _get(metric, "type")
        if mtype in ("External", "Object"):
            key = mtype.lower()
            target = _map(_get(metric, key, "target"))
            current_src = _map(_get(st, key, "current")) if _get(st, key) is not None else None
            if target.get("averageValue") is not None:
                current = "<unknown>"
                if current_src is not None and current_src.get("averageValue") is not None:
                    current = _qty(current_src.get("averageValue"))
                items.append(f"{current}/{_qty(target.get('averageValue'))} (avg)")
            else:
                current = _qty(current_src.get("value")) if current_src is not None else "<unknown>"
                items.append(f"{current}/{_qty(target.get('value'))}")
        elif mtype == "Pods":
            current = (
                _qty(_get(st, "pods", "current", "averageValue"))
                if _get(st, "pods") is not None
                else "<unknown>"
            )
            items.append(f"{current}/{_qty(_get(metric, 'pods', 'target', 'averageValue'))}")
        elif mtype in ("Resource", "ContainerResource"):
            key = "resource" if mtype == "Resource" else "containerResource"
            name = _get(metric, key, "name", default="")
            target = _map(_get(metric, key, "target"))
            current_src = _get(st, key)
            if target.get("averageValue") is not None:
                current = (
                    _qty(_get(current_src, "current", "averageValue"))
                    if current_src is not None
                    else "<unknown>"
                )
                items.append(f"{name}: {current}/{_qty(target.get('averageValue'))}")
            else:
                current = "<unknown>"
                utilization = _get(current_src, "current", "averageUtilization")
                if current_src is not None and utilization is not None:
                    current = f"{_int(utilization)}%"
                goal = "<auto>"
                if target.get("averageUtilization") is not None:
                    goal = f"{_int(target.get('averageUtilization'))}%"
                items.append(f"{name}: {current}/{goal}")
        else:
            items.append("<unknown type>")
    if len(items) > 2:
        return ", ".join(items[:2]) + f" + {len(items) - 2} more..."
    return ", ".join(items)


def _hpa_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    spec = _map(obj.get("spec"))
    ref = _map(spec.get("scaleTargetRef"))
    min_pods = str(_int(spec.get("minReplicas"))) if spec.get("minReplicas") is not None else "<unset>"
    return [
        _name(obj),
        f"{ref.get('kind') or ''}/{ref.get('name') or ''}",
        _hpa_metrics(obj),
        min_pods,
        _int(spec.get("maxReplicas")),
        _int(_get(obj, "status", "currentReplicas")),
        _created(obj, now),
    ]


_HPA = TableSpec(
    (
        NAME,
        _col(
            "Reference",
            "scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.",
        ),
        _col(
            "Targets",
            "metrics contains the specifications for which to use to calculate the desired replica count.",
        ),
        _col(
            "MinPods",
            "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.",
        ),
        _col(
            "MaxPods",
            "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.",
        ),
        _col(
            "Replicas",
            "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.",
        ),
        AGE,
    ),
    _hpa_cells,
)


def _scale_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    return [
        _name(obj),
        _int(_get(obj, "spec", "replicas")),
        _int(_get(obj, "status", "replicas")),
        _created(obj, now),
    ]


_SCALE = TableSpec(
    (
        ColumnDefinition("Name", "string", "", NAME_DESCRIPTION),
        _col("Desired", "replicas is the desired number of instances for the scaled object.", "integer"),
        _col(
            "Available",
            "replicas is the actual number of observed instances of the scaled object.",
            "integer",
        ),
        AGE,
    ),
    _scale_cells,
)


# --------------------------------------------------------------------------------------------
# Services and networking
# --------------------------------------------------------------------------------------------


def _load_balancer_ips(ingress: Any) -> list[str]:
    found = set()
    for entry in _list(ingress):
        if not isinstance(entry, Mapping):
            continue
        if entry.get("ip"):
            found.add(entry["ip"])
        elif entry.get("hostname"):
            found.add(entry["hostname"])
    return sorted(found)


def _service_external_ip(spec: Mapping[str, Any], status: Mapping[str, Any]) -> str:
    svc_type = spec.get("type") or ""
    external_ips = [str(ip) for ip in _list(spec.get("externalIPs"))]
    if svc_type in ("ClusterIP", "NodePort"):
        return ",".join(external_ips) if external_ips else "<none>"
    if svc_type == "LoadBalancer":
        lb = _load_balancer_ips(_get(status, "loadBalancer", "ingress"))
        if external_ips:
            return ",".join(lb + external_ips)
        return ",".join(lb) if lb else "<pending>"
    if svc_type == "ExternalName":
        return spec.get("externalName") or ""
    return "<unknown>"


def _service_ports(ports: Any) -> str:
    pieces = []
    for port in _list(ports):
        if not isinstance(port, Mapping):
            continue
        protocol = port.get("protocol") or ""
        node_port = _int(port.get("nodePort"))
        if node_port > 0:
            pieces.append(f"{_int(port.get('port'))}:{node_port}/{protocol}")
        else:
            pieces.append(f"{_int(port.get('port'))}/{protocol}")
    return ",".join(pieces) or "<none>"


def _service_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    spec = _map(obj.get("spec"))
    status = _map(obj.get("status"))
    cluster_ips = _list(spec.get("clusterIPs"))
    # A v1 object without clusterIPs converts with clusterIP as its only entry.
    cluster_ip = cluster_ips[0] if cluster_ips else (spec.get("clusterIP") or "<none>")
    return [
        _name(obj),
        spec.get("type") or "",
        cluster_ip,
        _service_external_ip(spec, status),
        _service_ports(spec.get("ports")),
        _created(obj, now),
        format_labels(spec.get("selector")),
    ]


_SERVICE = TableSpec(
    (
        NAME,
        _col("Type", "type determines how the Service is exposed. Defaults to ClusterIP."),
        _col("Cluster-IP", "clusterIP is the IP address of the service and is usually assigned randomly."),
        _col(
            "External-IP",
            "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
        ),
        _col("Port(s)", "The list of ports that are exposed by this service."),
        AGE,
        _selector_col("Route service traffic to pods with label keys and values matching this selector."),
    ),
    _service_cells,
)


def _endpoints_cell(obj: Obj) -> str:
    subsets = _list(obj.get("subsets"))
    if not subsets:
        return "<none>"
    shown: list[str] = []
    total = 0
    for subset in subsets:
        addresses = [a for a in _list(_get(subset, "addresses")) if isinstance(a, Mapping)]
        ports = [p for p in _list(_get(subset, "ports")) if isinstance(p, Mapping)]
        if not ports:
            # Headless services may have no ports: list bare addresses.
            total += len(addresses)
            shown.extend(a.get("ip") or "" for a in addresses)
            continue
        for port in ports:
            total += len(addresses)
            shown.extend(_join_host_port(a.get("ip") or "", _int(port.get("port"))) for a in addresses)
    return _more(shown, total, empty="")


_ENDPOINTS = TableSpec(
    (NAME, _col("Endpoints", "The set of all endpoints is the union of all subsets."), AGE),
    lambda obj, now, _ctx: [_name(obj), _endpoints_cell(obj), _created(obj, now)],
)


def _endpoint_slice_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    ports = []
    for port in _list(obj.get("ports")):
        port = _map(port)
        if port.get("port") is not None:
            ports.append(str(_int(port.get("port"))))
        elif port.get("name") is not None:
            ports.append(str(port.get("name")))
        else:
            ports.append("*")
    addresses = [str(a) for e in _list(obj.get("endpoints")) for a in _list(_get(e, "addresses"))]
    return [
        _name(obj),
        obj.get("addressType") or "",
        _more(ports, len(ports)),
        _more(addresses, len(addresses)),
        _created(obj, now),
    ]


_ENDPOINT_SLICE = TableSpec(
    (
        NAME,
        _col("AddressType", "addressType specifies the type of address carried by this EndpointSlice."),
        _col("Ports", "ports specifies the list of network ports exposed by each endpoint in this slice."),
        _col("Endpoints", "endpoints is a list of unique endpoints in this slice."),
        AGE,
    ),
    _endpoint_slice_cells,
)


def _ingress_hosts(rules: Any) -> str:
    rules = _list(rules)
    hosts: list[str] = []
    more = False
    for rule in rules:
        if len(hosts) == 3:
            more = True
        host = _get(rule, "host", default="")
        if not more and host:
            hosts.append(host)
    if not hosts:
        return "*"
    if more:
        return ",".join(hosts) + f" + {len(rules) - 3} more..."
    return ",".join(hosts)


def _ingress_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    spec = _map(obj.get("spec"))
    class_name = spec.get("ingressClassName")
    return [
        _name(obj),
        class_name if class_name is not None else "<none>",
        _ingress_hosts(spec.get("rules")),
        ",".join(_load_balancer_ips(_get(obj, "status", "loadBalancer", "ingress"))),
        "80, 443" if _list(spec.get("tls")) else "80",
        _created(obj, now),
    ]


_INGRESS = TableSpec(
    (
        NAME,
        _col(
            "Class", "The name of the IngressClass resource that should be used for additional configuration"
        ),
        _col("Hosts", "Hosts that incoming requests are matched against before the ingress rule"),
        _col("Address", "Address is a list containing ingress points for the load-balancer"),
        _col("Ports", "Ports of TLS configurations that open"),
        AGE,
    ),
    _ingress_cells,
)


def _ingress_class_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    name = _name(obj)
    if _get(obj, "metadata", "annotations", "ingressclass.kubernetes.io/is-default-class") == "true":
        name += " (default)"
    params = _get(obj, "spec", "parameters")
    parameters = "<none>"
    if isinstance(params, Mapping):
        parameters = params.get("kind") or ""
        if params.get("apiGroup") is not None:
            parameters += "." + params["apiGroup"]
        parameters += "/" + (params.get("name") or "")
    return [name, _get(obj, "spec", "controller", default=""), parameters, _created(obj, now)]


_INGRESS_CLASS = TableSpec(
    (
        NAME,
        _col("Controller", "Controller that is responsible for handling this class"),
        _col("Parameters", "A reference to a resource with additional parameters"),
        AGE,
    ),
    _ingress_class_cells,
)

_NETWORK_POLICY = TableSpec(
    (
        NAME,
        _col("Pod-Selector", "podSelector selects the pods to which this NetworkPolicy object applies."),
        AGE,
    ),
    # podSelector is a struct, not a pointer: missing means the empty (select-all) selector.
    lambda obj, now, _ctx: [
        _name(obj),
        format_label_selector(_get(obj, "spec", "podSelector", default={})),
        _created(obj, now),
    ],
)

_SERVICE_CIDR = TableSpec(
    (
        NAME,
        _col(
            "CIDRs", "CIDRs defines the IP blocks in CIDR notation from which to assign service cluster IPs."
        ),
        AGE,
    ),
    lambda obj, now, _ctx: [
        _name(obj),
        ",".join(str(c) for c in _list(_get(obj, "spec", "cidrs"))),
        _created(obj, now),
    ],
)


def _ip_address_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    ref = _get(obj, "spec", "parentRef")
    parent = "<none>"
    if isinstance(ref, Mapping):
        group, resource = ref.get("group") or "", ref.get("resource") or ""
        parent = (f"{resource}.{group}" if group else resource).lower()
        if ref.get("namespace"):
            parent += "/" + ref["namespace"]
        parent += "/" + (ref.get("name") or "")
    return [_name(obj), parent, _created(obj, now)]


# Kubernetes declares no Age column for IPAddress yet emits an age cell; kubectl prints by column
# and ignores the extra cell, so it is kept as Kubernetes sends it.
_IP_ADDRESS = TableSpec(
    (NAME, _col("ParentRef", "ParentRef references the resource that an IPAddress is attached to.")),
    _ip_address_cells,
)


# --------------------------------------------------------------------------------------------
# Config, storage, core singletons
# --------------------------------------------------------------------------------------------

_NAMESPACE = TableSpec(
    (NAME, _col("Status", "The status of the namespace"), AGE),
    lambda obj, now, _ctx: [_name(obj), _get(obj, "status", "phase", default=""), _created(obj, now)],
)

_CONFIG_MAP = TableSpec(
    (NAME, _col("Data", "Data contains the configuration data."), AGE),
    lambda obj, now, _ctx: [
        _name(obj),
        len(_map(obj.get("data"))) + len(_map(obj.get("binaryData"))),
        _created(obj, now),
    ],
)

_SECRET = TableSpec(
    (
        NAME,
        _col("Type", "Used to facilitate programmatic handling of secret data."),
        _col("Data", "Data contains the secret data."),
        AGE,
    ),
    lambda obj, now, _ctx: [
        _name(obj),
        obj.get("type") or "",
        len(_map(obj.get("data"))),
        _created(obj, now),
    ],
)

_SERVICE_ACCOUNT = TableSpec((NAME, AGE), lambda obj, now, _ctx: [_name(obj), _created(obj, now)])

_ACCESS_MODES = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)


def _access_modes(modes: Any) -> str:
    present = set(_list(modes))
    return ",".join(short for mode, short in _ACCESS_MODES if mode in present)


def _storage_class_of(obj: Obj, spec_value: Any) -> str:
    annotations = _map(_get(obj, "metadata", "annotations"))
    if "volume.beta.kubernetes.io/storage-class" in annotations:
        return annotations["volume.beta.kubernetes.io/storage-class"] or ""
    return spec_value or ""


def _pv_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    spec = _map(obj.get("spec"))
    claim = spec.get("claimRef")
    claim_cell = (
        f"{claim.get('namespace') or ''}/{claim.get('name') or ''}" if isinstance(claim, Mapping) else ""
    )
    phase = _get(obj, "status", "phase", default="")
    if _get(obj, "metadata", "deletionTimestamp") is not None:
        phase = "Terminating"
    return [
        _name(obj),
        _qty(_get(spec, "capacity", "storage")),
        _access_modes(spec.get("accessModes")),
        spec.get("persistentVolumeReclaimPolicy") or "",
        phase,
        claim_cell,
        _storage_class_of(obj, spec.get("storageClassName")),
        spec.get("volumeAttributesClassName")
        if spec.get("volumeAttributesClassName") is not None
        else "<unset>",
        _get(obj, "status", "reason", default=""),
        _created(obj, now),
        spec.get("volumeMode") if spec.get("volumeMode") is not None else "<unset>",
    ]


_PV = TableSpec(
    (
        NAME,
        _col("Capacity", "capacity is the description of the persistent volume's resources and capacity."),
        _col("Access Modes", "accessModes contains all ways the volume can be mounted."),
        _col(
            "Reclaim Policy",
            "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.",
        ),
        _col("Status", "phase indicates if a volume is available, bound to a claim, or released by a claim."),
        _col(
            "Claim",
            "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.",
        ),
        _col("StorageClass", "StorageClass of the pv"),
        _col("VolumeAttributesClass", "VolumeAttributesClass of the pv"),
        _col(
            "Reason",
            "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.",
        ),
        AGE,
        _col(
            "VolumeMode",
            "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.",
            priority=1,
        ),
    ),
    _pv_cells,
)


def _pvc_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    spec = _map(obj.get("spec"))
    status = _map(obj.get("status"))
    phase = status.get("phase") or ""
    if _get(obj, "metadata", "deletionTimestamp") is not None:
        phase = "Terminating"
    capacity = access_modes = ""
    if spec.get("volumeName"):
        access_modes = _access_modes(status.get("accessModes"))
        capacity = _qty(_get(status, "capacity", "storage"))
    return [
        _name(obj),
        phase,
        spec.get("volumeName") or "",
        capacity,
        access_modes,
        _storage_class_of(obj, spec.get("storageClassName")),
        spec.get("volumeAttributesClassName")
        if spec.get("volumeAttributesClassName") is not None
        else "<unset>",
        _created(obj, now),
        spec.get("volumeMode") if spec.get("volumeMode") is not None else "<unset>",
    ]


_PVC = TableSpec(
    (
        NAME,
        _col("Status", "phase represents the current phase of PersistentVolumeClaim."),
        _col("Volume", "volumeName is the binding reference to the PersistentVolume backing this claim."),
        _col("Capacity", "capacity represents the actual resources of the underlying volume."),
        _col("Access Modes", "accessModes contains the actual access modes the volume backing the PVC has."),
        _col("StorageClass", "StorageClass of the pvc"),
        _col("VolumeAttributesClass", "VolumeAttributesClass of the pvc"),
        AGE,
        _col("VolumeMode", "volumeMode defines what type of volume is required by the claim.", priority=1),
    ),
    _pvc_cells,
)


def _is_default_storage_class(obj: Obj) -> bool:
    annotations = _map(_get(obj, "metadata", "annotations"))
    return (
        annotations.get("storageclass.kubernetes.io/is-default-class") == "true"
        or annotations.get("storageclass.beta.kubernetes.io/is-default-class") == "true"
    )


def _effective_default_storage_class(items: Sequence[Obj]) -> str | None:
    """The default class that wins: the newest annotated one, ties to the smallest name."""
    best: Obj | None = None
    best_time = _GO_ZERO_TIME
    for obj in items:
        if not _is_default_storage_class(obj):
            continue
        created = parse_time(_get(obj, "metadata", "creationTimestamp")) or _GO_ZERO_TIME
        if best is None or created > best_time or (created == best_time and _name(obj) < _name(best)):
            best, best_time = obj, created
    return _name(best) if best is not None else None


def _storage_class_cells(obj: Obj, now: datetime, effective_default: Any) -> list[Any]:
    name = _name(obj)
    if effective_default and name == effective_default:
        name += " (default)"
    return [
        name,
        obj.get("provisioner") or "",
        obj.get("reclaimPolicy") if obj.get("reclaimPolicy") is not None else "Delete",
        obj.get("volumeBindingMode") if obj.get("volumeBindingMode") is not None else "Immediate",
        bool(obj.get("allowVolumeExpansion")),
        _created(obj, now),
    ]


_STORAGE_CLASS = TableSpec(
    (
        NAME,
        _col("Provisioner", "provisioner indicates the type of the provisioner."),
        _col(
            "ReclaimPolicy",
            "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.",
        ),
        _col(
            "VolumeBindingMode",
            "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.",
        ),
        _col(
            "AllowVolumeExpansion",
            "allowVolumeExpansion shows whether the storage class allow volume expand.",
        ),
        AGE,
    ),
    _storage_class_cells,
    list_context=_effective_default_storage_class,
)


def _resource_quota_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    hard = _map(_get(obj, "status", "hard"))
    used = _map(_get(obj, "status", "used"))
    requests: list[str] = []
    limits: list[str] = []
    for resource in sorted(hard):
        text = f"{resource}: {_qty(used.get(resource))}/{_qty(hard[resource])}"
        pieces = resource.split(".")
        (limits if len(pieces) > 1 and pieces[0] == "limits" else requests).append(text)
    return [_name(obj), ", ".join(requests), ", ".join(limits), _created(obj, now)]


_RESOURCE_QUOTA = TableSpec(
    (
        NAME,
        _col("Request", "Request represents a minimum amount of cpu/memory that a container may consume."),
        _col(
            "Limit",
            "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
        ),
        AGE,
    ),
    _resource_quota_cells,
)


def _component_status_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    status, message, error = "Unknown", "", ""
    for cond in _list(obj.get("conditions")):
        if isinstance(cond, Mapping) and cond.get("type") == "Healthy":
            status = "Healthy" if cond.get("status") == "True" else "Unhealthy"
            message, error = cond.get("message") or "", cond.get("error") or ""
            break
    return [_name(obj), status, message, error]


_COMPONENT_STATUS = TableSpec(
    (
        NAME,
        _col("Status", "Status of the component conditions"),
        _col("Message", "Message of the component conditions"),
        _col("Error", "Error of the component conditions"),
    ),
    _component_status_cells,
)


# --------------------------------------------------------------------------------------------
# Events (core/v1 and events.k8s.io/v1)
# --------------------------------------------------------------------------------------------


def _event_view(obj: Obj) -> dict[str, Any]:
    """The core/v1 fields of an Event, read from either wire shape.

    events.k8s.io/v1 renames involvedObject to regarding, message to note, source to
    deprecatedSource (and the first/last timestamps and count likewise); Kubernetes prints both
    from the same internal type.
    """
    return {
        "involved": _map(obj.get("involvedObject") if "involvedObject" in obj else obj.get("regarding")),
        "message": obj.get("message") if "message" in obj else obj.get("note"),
        "source": _map(obj.get("source") if "source" in obj else obj.get("deprecatedSource")),
        "first": obj.get("firstTimestamp")
        if "firstTimestamp" in obj
        else obj.get("deprecatedFirstTimestamp"),
        "last": obj.get("lastTimestamp") if "lastTimestamp" in obj else obj.get("deprecatedLastTimestamp"),
        "count": obj.get("count") if "count" in obj else obj.get("deprecatedCount"),
        "controller": obj.get("reportingComponent") or obj.get("reportingController") or "",
        "instance": obj.get("reportingInstance") or "",
    }


def _event_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    view = _event_view(obj)
    first_time = parse_time(view["first"])
    first = age(first_time, now) if first_time is not None else age(obj.get("eventTime"), now)
    last = age(view["last"], now) if parse_time(view["last"]) is not None else first
    count = _int(view["count"])
    series = obj.get("series")
    if isinstance(series, Mapping):
        last = age(series.get("lastObservedTime"), now)
        count = _int(series.get("count"))
    elif count == 0:
        # Singleton events of the new API carry no count.
        count = 1
    involved = view["involved"]
    kind = (involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    component = view["source"].get("component") or view["controller"]
    host = view["source"].get("host") or view["instance"]
    source = f"{component}, {host}" if host else component
    return [
        last,
        obj.get("type") or "",
        obj.get("reason") or "",
        target,
        involved.get("fieldPath") or "",
        source,
        (view["message"] or "").strip(),
        first,
        count,
        _name(obj),
    ]


_EVENT = TableSpec(
    (
        _col("Last Seen", "The time at which the most recent occurrence of this event was recorded."),
        _col("Type", "Type of this event (Normal, Warning), new types could be added in the future"),
        _col(
            "Reason",
            "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
        ),
        _col("Object", "The object that this event is about."),
        _col(
            "Subobject",
            "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.",
            priority=1,
        ),
        _col(
            "Source",
            "The component reporting this event. Should be a short machine understandable string.",
            priority=1,
        ),
        _col("Message", "A human-readable description of the status of this operation."),
        _col(
            "First Seen",
            "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
            priority=1,
        ),
        _col("Count", "The number of times this event has occurred.", priority=1),
        ColumnDefinition("Name", "string", "name", NAME_DESCRIPTION, 1),
    ),
    _event_cells,
)


# --------------------------------------------------------------------------------------------
# Cluster-wide kinds: coordination, scheduling, policy, RBAC, certificates, admission, ...
# --------------------------------------------------------------------------------------------

_LEASE = TableSpec(
    (NAME, _col("Holder", "holderIdentity contains the identity of the holder of a current lease."), AGE),
    lambda obj, now, _ctx: [_name(obj), _get(obj, "spec", "holderIdentity", default=""), _created(obj, now)],
)

_LEASE_CANDIDATE = TableSpec(
    (
        NAME,
        _col("LeaseName", "LeaseName is the name of the lease for which this candidate is contending."),
        _col("BinaryVersion", "BinaryVersion is the binary version."),
        _col("EmulationVersion", "EmulationVersion is the emulation version."),
        AGE,
    ),
    lambda obj, now, _ctx: [
        _name(obj),
        _get(obj, "spec", "leaseName", default=""),
        _get(obj, "spec", "binaryVersion", default=""),
        _get(obj, "spec", "emulationVersion", default=""),
        _created(obj, now),
    ],
)

_PRIORITY_CLASS = TableSpec(
    (
        NAME,
        _col("Value", "value represents the integer value of this priority class.", "integer"),
        _col(
            "Global-Default",
            "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.",
            "boolean",
        ),
        AGE,
        _col("PreemptionPolicy", "preemptionPolicy is the Policy for preempting pods with lower priority."),
    ),
    lambda obj, now, _ctx: [
        _name(obj),
        _int(obj.get("value")),
        bool(obj.get("globalDefault")),
        _created(obj, now),
        obj.get("preemptionPolicy") or "",
    ],
)


def _pdb_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    spec = _map(obj.get("spec"))
    min_available = spec.get("minAvailable")
    max_unavailable = spec.get("maxUnavailable")
    return [
        _name(obj),
        _int_or_string(min_available) if min_available is not None else "N/A",
        _int_or_string(max_unavailable) if max_unavailable is not None else "N/A",
        _int(_get(obj, "status", "disruptionsAllowed")),
        _created(obj, now),
    ]


_PDB = TableSpec(
    (
        NAME,
        _col("Min Available", "The minimum number of pods that must be available."),
        _col("Max Unavailable", "The maximum number of pods that may be unavailable."),
        _col(
            "Allowed Disruptions", "Calculated number of pods that may be disrupted at this time.", "integer"
        ),
        AGE,
    ),
    _pdb_cells,
)


def _binding_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    users: list[str] = []
    groups: list[str] = []
    service_accounts: list[str] = []
    for subject in _list(obj.get("subjects")):
        subject = _map(subject)
        kind = subject.get("kind")
        if kind == "ServiceAccount":
            service_accounts.append(f"{subject.get('namespace') or ''}/{subject.get('name') or ''}")
        elif kind == "User":
            users.append(subject.get("name") or "")
        elif kind == "Group":
            groups.append(subject.get("name") or "")
    ref = _map(obj.get("roleRef"))
    return [
        _name(obj),
        f"{ref.get('kind') or ''}/{ref.get('name') or ''}",
        _created(obj, now),
        ", ".join(users),
        ", ".join(groups),
        ", ".join(service_accounts),
    ]


def _binding_table(what: str) -> TableSpec:
    return TableSpec(
        (
            NAME,
            _col(
                "Role",
                "RoleRef can only reference the current namespace or a ClusterRole in the global namespace.",
            ),
            AGE,
            _col("Users", f"Users in the {what}", priority=1),
            _col("Groups", f"Groups in the {what}", priority=1),
            _col("ServiceAccounts", f"ServiceAccounts in the {what}", priority=1),
        ),
        _binding_cells,
    )


def _csr_condition(obj: Obj) -> str:
    types = {_get(c, "type") for c in _list(_get(obj, "status", "conditions"))}
    status = "Denied" if "Denied" in types else "Approved" if "Approved" in types else "Pending"
    if "Failed" in types:
        status += ",Failed"
    if _get(obj, "status", "certificate"):
        status += ",Issued"
    return status


def _csr_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    spec = _map(obj.get("spec"))
    expiration = spec.get("expirationSeconds")
    return [
        _name(obj),
        _created(obj, now),
        spec.get("signerName") or "<none>",
        spec.get("username") or "",
        human_duration(timedelta(seconds=_int(expiration))) if expiration is not None else "<none>",
        _csr_condition(obj),
    ]


_CSR = TableSpec(
    (
        NAME,
        AGE,
        _col("SignerName", "Requested signer for the request."),
        _col("Requestor", "Base64-encoded PKCS#10 CSR data"),
        _col(
            "RequestedDuration",
            "expirationSeconds is the requested duration of validity of the issued certificate.",
        ),
        _col("Condition", "Conditions applied to the request, such as approval or denial."),
    ),
    _csr_cells,
)

_CLUSTER_TRUST_BUNDLE = TableSpec(
    (NAME, _col("SignerName", "signerName indicates the associated signer, if any.")),
    lambda obj, now, _ctx: [_name(obj), _get(obj, "spec", "signerName", default="") or "<none>"],
)


def _pod_certificate_request_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    spec = _map(obj.get("spec"))
    state = "Pending"
    for cond in _list(_get(obj, "status", "conditions")):
        if _get(cond, "type") in ("Issued", "Denied", "Failed"):
            state = cond["type"]
    return [
        _name(obj),
        spec.get("podName") or "",
        spec.get("serviceAccountName") or "",
        spec.get("nodeName") or "",
        spec.get("signerName") or "",
        state,
        format_labels(spec.get("unverifiedUserAnnotations")),
    ]


_POD_CERTIFICATE_REQUEST = TableSpec(
    (
        NAME,
        _col("PodName", "podName is the name of the pod into which the certificate will be mounted."),
        _col(
            "ServiceAccountName",
            "serviceAccountName is the name of the service account the pod is running as.",
        ),
        _col("NodeName", "nodeName is the name of the node the pod is assigned to."),
        _col("SignerName", "signerName indicates the requested signer."),
        _col("State", "Is the request Pending, Issued, Denied, or Failed?"),
        _col(
            "UnverifiedUserAnnotations",
            "unverifiedUserAnnotations allow pod authors to pass additional information to the signer implementation.",
        ),
    ),
    _pod_certificate_request_cells,
)


def _count_table(column: str, description: str, path: tuple[str, ...]) -> TableSpec:
    """Name, an integer count of a list at `path`, Age (webhook configurations, CSINode)."""
    return TableSpec(
        (NAME, _col(column, description, "integer"), AGE),
        lambda obj, now, _ctx: [_name(obj), len(_list(_get(obj, *path))), _created(obj, now)],
    )


def _param_kind(obj: Obj) -> str:
    kind = _get(obj, "spec", "paramKind")
    if not isinstance(kind, Mapping):
        return "<unset>"
    return f"{kind.get('apiVersion') or ''}/{kind.get('kind') or ''}"


def _policy_table(column: str, description: str, path: str) -> TableSpec:
    return TableSpec(
        (
            NAME,
            _col(column, description, "integer"),
            _col("ParamKind", "ParamKind specifies the kind of resources used to parameterize this policy"),
            AGE,
        ),
        lambda obj, now, _ctx: [
            _name(obj),
            len(_list(_get(obj, "spec", path))),
            _param_kind(obj),
            _created(obj, now),
        ],
    )


def _param_ref(obj: Obj) -> str:
    ref = _get(obj, "spec", "paramRef")
    if not isinstance(ref, Mapping):
        return "<unset>"
    if ref.get("name"):
        # Without a namespace the param may be cluster-scoped or in any namespace: "*".
        return f"{ref.get('namespace') or '*'}/{ref['name']}"
    if ref.get("selector") is not None:
        return format_label_selector(ref.get("selector"))
    return "<unset>"


_POLICY_BINDING = TableSpec(
    (
        NAME,
        _col("PolicyName", "PolicyName indicates the policy definition which the policy binding binded to"),
        _col("ParamRef", "ParamRef indicates the param resource which sets the configuration param"),
        AGE,
    ),
    lambda obj, now, _ctx: [
        _name(obj),
        _get(obj, "spec", "policyName", default=""),
        _param_ref(obj),
        _created(obj, now),
    ],
)


def _flow_schema_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    spec = _map(obj.get("spec"))
    method = spec.get("distinguisherMethod")
    dangling = _first_condition(_get(obj, "status", "conditions"), "Dangling")
    return [
        _name(obj),
        _get(spec, "priorityLevelConfiguration", "name", default=""),
        _int(spec.get("matchingPrecedence")),
        _get(method, "type", default="") if isinstance(method, Mapping) else "<none>",
        _created(obj, now),
        (dangling.get("status") or "") if dangling is not None else "?",
    ]


_FLOW_SCHEMA = TableSpec(
    (
        NAME,
        _col("PriorityLevel", "`name` is the name of the priority level configuration being referenced"),
        _col(
            "MatchingPrecedence",
            "`matchingPrecedence` is used to choose among the FlowSchemas that match a given request.",
        ),
        _col(
            "DistinguisherMethod",
            "`distinguisherMethod` defines how to compute the flow distinguisher for requests that match this schema.",
        ),
        AGE,
        _col("MissingPL", "references a broken or non-existent PriorityLevelConfiguration"),
    ),
    _flow_schema_cells,
    # Lists print in the order requests are matched: precedence, then name.
    sort_key=lambda obj: (_int(_get(obj, "spec", "matchingPrecedence")), _name(obj)),
)


def _priority_level_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    spec = _map(obj.get("spec"))
    shares: Any = "<none>"
    queues: Any = "<none>"
    hand_size: Any = "<none>"
    queue_length: Any = "<none>"
    limited = spec.get("limited")
    if isinstance(limited, Mapping):
        shares = _int(limited.get("nominalConcurrencyShares"))
        queuing = _get(limited, "limitResponse", "queuing")
        if isinstance(queuing, Mapping):
            queues = _int(queuing.get("queues"))
            hand_size = _int(queuing.get("handSize"))
            queue_length = _int(queuing.get("queueLengthLimit"))
    return [_name(obj), spec.get("type") or "", shares, queues, hand_size, queue_length, _created(obj, now)]


_PRIORITY_LEVEL = TableSpec(
    (
        NAME,
        _col(
            "Type",
            "`type` indicates whether this priority level is subject to limitation on request execution.",
        ),
        _col(
            "NominalConcurrencyShares",
            "`nominalConcurrencyShares` (NCS) contributes to the computation of the NominalConcurrencyLimit (NominalCL) of this level.",
        ),
        _col("Queues", "`queues` is the number of queues for this priority level."),
        _col(
            "HandSize",
            "`handSize` is a small positive number that configures the shuffle sharding of requests into queues.",
        ),
        _col(
            "QueueLengthLimit",
            "`queueLengthLimit` is the maximum number of requests allowed to be waiting in a given queue of this priority level at a time.",
        ),
        AGE,
    ),
    _priority_level_cells,
)

_RUNTIME_CLASS = TableSpec(
    (
        NAME,
        _col(
            "Handler",
            "handler specifies the underlying runtime and configuration that the CRI implementation will use.",
        ),
        AGE,
    ),
    lambda obj, now, _ctx: [_name(obj), obj.get("handler") or "", _created(obj, now)],
)

_VOLUME_ATTACHMENT = TableSpec(
    (
        NAME,
        _col(
            "Attacher",
            "attacher indicates the name of the volume driver that MUST handle this request.",
            format="name",
        ),
        _col("PV", "persistentVolumeName represents the name of the persistent volume to attach."),
        _col("Node", "nodeName represents the node that the volume should be attached to."),
        _col("Attached", "attached indicates the volume is successfully attached.", "boolean"),
        AGE,
    ),
    lambda obj, now, _ctx: [
        _name(obj),
        _get(obj, "spec", "attacher", default=""),
        _get(obj, "spec", "source", "persistentVolumeName", default=""),
        _get(obj, "spec", "nodeName", default=""),
        bool(_get(obj, "status", "attached")),
        _created(obj, now),
    ],
)


def _csi_driver_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    spec = _map(obj.get("spec"))
    token_requests = spec.get("tokenRequests")
    tokens = (
        "<unset>"
        if token_requests is None
        else ",".join(_get(t, "audience", default="") for t in _list(token_requests))
    )
    attach = spec.get("attachRequired")
    return [
        _name(obj),
        True if attach is None else bool(attach),
        bool(spec.get("podInfoOnMount")),
        bool(spec.get("storageCapacity")),
        tokens,
        bool(spec.get("requiresRepublish")),
        ",".join(str(m) for m in _list(spec.get("volumeLifecycleModes"))) or "<none>",
        _created(obj, now),
    ]


_CSI_DRIVER = TableSpec(
    (
        NAME,
        _col(
            "AttachRequired",
            "attachRequired indicates this CSI volume driver requires an attach operation.",
            "boolean",
        ),
        _col(
            "PodInfoOnMount",
            "podInfoOnMount indicates this CSI volume driver requires additional pod information during mount operations.",
            "boolean",
        ),
        _col(
            "StorageCapacity",
            "storageCapacity indicates that the CSI volume driver wants pod scheduling to consider the storage capacity.",
            "boolean",
        ),
        _col(
            "TokenRequests",
            "tokenRequests indicates the CSI driver needs pods' service account tokens it is mounting volume for to do necessary authentication.",
        ),
        _col(
            "RequiresRepublish",
            "requiresRepublish indicates the CSI driver wants NodePublishVolume being periodically called.",
            "boolean",
        ),
        _col("Modes", "volumeLifecycleModes defines what kind of volumes this CSI volume driver supports."),
        AGE,
    ),
    _csi_driver_cells,
)

_CSI_STORAGE_CAPACITY = TableSpec(
    (
        NAME,
        _col(
            "StorageClassName",
            "storageClassName represents the name of the StorageClass that the reported capacity applies to.",
        ),
        _col("Capacity", "capacity is the value reported by the CSI driver in its GetCapacityResponse."),
    ),
    lambda obj, now, _ctx: [
        _name(obj),
        obj.get("storageClassName") or "",
        _qty(obj.get("capacity")) if obj.get("capacity") is not None else "<unset>",
    ],
)

_VOLUME_ATTRIBUTES_CLASS = TableSpec(
    (NAME, _col("DriverName", "Name of the CSI driver"), AGE),
    lambda obj, now, _ctx: [_name(obj), obj.get("driverName") or "", _created(obj, now)],
)


def _resource_claim_state(obj: Obj) -> str:
    states = []
    deleted = _get(obj, "metadata", "deletionTimestamp") is not None
    if deleted:
        states.append("deleted")
    if _get(obj, "status", "allocation") is None:
        if not deleted:
            states.append("pending")
    else:
        states.append("allocated")
        if _list(_get(obj, "status", "reservedFor")):
            states.append("reserved")
    return ",".join(states)


_NAME_AGE = TableSpec((NAME, AGE), lambda obj, now, _ctx: [_name(obj), _created(obj, now)])

_RESOURCE_CLAIM = TableSpec(
    (NAME, _col("State", "A summary of the current state (allocated, pending, reserved, etc.)."), AGE),
    lambda obj, now, _ctx: [_name(obj), _resource_claim_state(obj), _created(obj, now)],
)

_RESOURCE_SLICE = TableSpec(
    (
        NAME,
        _col("Node", "NodeName identifies the node which provides the resources in this pool."),
        _col("Driver", "Driver identifies the DRA driver providing the capacity information."),
        _col("Pool", "Name is used to identify the pool."),
        AGE,
    ),
    lambda obj, now, _ctx: [
        _name(obj),
        _get(obj, "spec", "nodeName", default=""),
        _get(obj, "spec", "driver", default=""),
        _get(obj, "spec", "pool", "name", default=""),
        _created(obj, now),
    ],
)


def _api_service_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    service = _get(obj, "spec", "service")
    service_cell = (
        f"{service.get('namespace') or ''}/{service.get('name') or ''}"
        if isinstance(service, Mapping)
        else "Local"
    )
    available = "Unknown"
    cond = _first_condition(_get(obj, "status", "conditions"), "Available")
    if cond is not None:
        status = cond.get("status") or ""
        available = status if status == "True" or not cond.get("reason") else f"{status} ({cond['reason']})"
    return [_name(obj), service_cell, available, _created(obj, now)]


_API_SERVICE = TableSpec(
    (
        NAME,
        _col("Service", "The reference to the service that hosts this API endpoint."),
        _col("Available", "Whether this service is available."),
        AGE,
    ),
    _api_service_cells,
)


def _crd_cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
    spec = _map(obj.get("spec"))
    versions = sorted(
        (_get(v, "name", default="") + ("(storage)" if _get(v, "storage") else ""))
        for v in _list(spec.get("versions"))
        if _get(v, "served")
    )
    names = _map(spec.get("names"))
    return [
        _name(obj),
        spec.get("scope") or "",
        ",".join(versions),
        _rfc3339(_get(obj, "metadata", "creationTimestamp")),
        spec.get("group") or "",
        names.get("kind") or "",
        ",".join(str(s) for s in _list(names.get("shortNames"))),
        _condition_true(_get(obj, "status", "conditions"), "Established"),
    ]


_CRD = TableSpec(
    (
        NAME,
        _col("Scope", "Cluster/Namespaced"),
        _col("Versions", "Served versions"),
        _col("Created At", AGE_DESCRIPTION, "date"),
        _col("Group", "API group", priority=1),
        _col("Kind", "CustomResource kind", priority=1),
        _col("ShortNames", "Short names", priority=1),
        _col("Established", "Established status", "boolean", priority=1),
    ),
    _crd_cells,
    rows_null_when_empty=True,
)


def default_table() -> TableSpec:
    """Kubernetes' default convertor, for built-in kinds without a printer: Name, Created At.

    Created At is the creation time in UTC RFC 3339 (`2024-05-01T10:00:00Z`), not an age, and
    an empty list gives `rows: null`.
    """
    return _DEFAULT


_DEFAULT = TableSpec(
    (NAME, ColumnDefinition("Created At", "date", "", AGE_DESCRIPTION, 0)),
    lambda obj, now, _ctx: [_name(obj), _rfc3339(_get(obj, "metadata", "creationTimestamp"))],
    rows_null_when_empty=True,
)


# --------------------------------------------------------------------------------------------
# Custom resources: JSONPath printer columns
# --------------------------------------------------------------------------------------------


class _JSONPath:
    """The JSONPath subset CRD printer columns use, evaluated with missing keys allowed.

    Supports `.field` (with `\\.` escaping a dot), `['field']`, `["field"]`, `[N]` (negative
    from the end), `[start:end]`, `[*]`, `.*`, `..field` (recursive descent) and filters
    `[?(@.a.b == 'x')]` with ==, !=, <, <=, >, >= or bare existence `[?(@.a)]`. A path that
    does not resolve gives no results; an unsupported expression raises ValueError at parse.
    """

    _FILTER = re.compile(r"\?\(\s*@((?:\.[^\s=!<>)]+)*)\s*(?:(==|!=|<=|>=|<|>)\s*(.+?))?\s*\)")

    def __init__(self, expression: str) -> None:
        text = expression.strip()
        if text.startswith("{") and text.endswith("}"):
            text = text[1:-1].strip()
        if text.startswith("$"):
            text = text[1:]
        self.steps = self._parse(text)

    def _parse(self, text: str) -> list[tuple[str, Any]]:
        steps: list[tuple[str, Any]] = []
        i, n = 0, len(text)
        while i < n:
            ch = text[i]
            if text.startswith("..", i):
                i += 2
                name, i = self._read_name(text, i)
                steps.append(("recurse", name))
            elif ch == ".":
                i += 1
                if i < n and text[i] == "*":
                    steps.append(("wildcard", None))
                    i += 1
                    continue
                name, i = self._read_name(text, i)
                if name:
                    steps.append(("field", name))
            elif ch == "[":
                end = self._bracket_end(text, i)
                steps.append(self._bracket(text[i + 1 : end].strip()))
                i = end + 1
            else:
                raise ValueError(f"unrecognized character in JSONPath at {i}: {_excerpt(text, i)}")
        return steps

    @staticmethod
    def _read_name(text: str, i: int) -> tuple[str, int]:
        out = []
        while i < len(text) and text[i] not in ".[":
            if text[i] == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 2
                continue
            out.append(text[i])
            i += 1
        return "".join(out), i

    @staticmethod
    def _bracket_end(text: str, start: int) -> int:
        depth, quote = 0, ""
        for j in range(start, len(text)):
            ch = text[j]
            if quote:
                if ch == quote:
                    quote = ""
            elif ch in "'\"":
                quote = ch
            elif ch == "[":
                depth += 1
            elif ch == "]":
                depth -= 1
                if depth == 0:
                    return j
        raise ValueError("unterminated [ in JSONPath")

    def _bracket(self, inner: str) -> tuple[str, Any]:
        if inner == "*":
            return ("wildcard", None)
        if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
            return ("field", inner[1:-1].replace("\\.", "."))
        if re.fullmatch(r"-?\d+", inner):
            return ("index", int(inner))
        m = re.fullmatch(r"(-?\d*):(-?\d*)", inner)
        if m:
            return (
                "slice",
                (int(m.group(1)) if m.group(1) else None, int(m.group(2)) if m.group(2) else None),
            )
        m = self._FILTER.fullmatch(inner)
        if m:
            path = [p for p in m.group(1).split(".") if p]
            literal: Any = None
            if m.group(2):
                raw = m.group(3).strip()
                if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
                    literal = raw[1:-1]
                else:
                    try:
                        literal = float(raw) if any(c in raw for c in ".eE") else int(raw)
                    except ValueError:
                        literal = {"true": True, "false": False}.get(raw, raw)
            return ("filter", (path, m.group(2), literal))
        raise ValueError(f"unsupported JSONPath bracket expression [{inner}]")

    def find(self, data: Any) -> list[Any]:
        """Every value the path selects in `data`, in document order."""
        current = [data]
        for kind, arg in self.steps:
            nxt: list[Any] = []
            for value in current:
                nxt.extend(_jsonpath_step(kind, arg, value))
            current = nxt
        return current


def _excerpt(text: str, i: int) -> str:
    return text[max(0, i - 10) : i + 10]


def _jsonpath_step(kind: str, arg: Any, value: Any) -> list[Any]:
    if kind == "field":
        return [value[arg]] if isinstance(value, Mapping) and arg in value else []
    if kind == "wildcard":
        if isinstance(value, Mapping):
            return list(value.values())
        return list(value) if isinstance(value, list) else []
    if kind == "index":
        if isinstance(value, list) and -len(value) <= arg < len(value):
            return [value[arg]]
        return []
    if kind == "slice":
        return list(value[arg[0] : arg[1]]) if isinstance(value, list) else []
    if kind == "recurse":
        found: list[Any] = []
        stack = [value]
        while stack:
            node = stack.pop(0)
            if isinstance(node, Mapping):
                if arg in node:
                    found.append(node[arg])
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
        return found
    if kind == "filter":
        path, op, literal = arg
        items = (
            value if isinstance(value, list) else list(value.values()) if isinstance(value, Mapping) else []
        )
        return [item for item in items if _filter_matches(item, path, op, literal)]
    return []


def _filter_matches(item: Any, path: list[str], op: str | None, literal: Any) -> bool:
    cur = item
    for key in path:
        if not isinstance(cur, Mapping) or key not in cur:
            return False
        cur = cur[key]
    if op is None:
        return True
    try:
        if op == "==":
            return bool(cur == literal)
        if op == "!=":
            return bool(cur != literal)
        if op == "<":
            return bool(cur < literal)
        if op == "<=":
            return bool(cur <= literal)
        if op == ">":
            return bool(cur > literal)
        return bool(cur >= literal)
    except TypeError:
        return False


def _go_float(f: float) -> str:
    """A float64 as Go's `%v` prints it: shortest digits, exponent form outside 1e-4..1e6."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if math.copysign(1, f) < 0 else "0"
    sign, digits, exponent = Decimal(repr(f)).as_tuple()
    assert isinstance(exponent, int)
    text = "".join(str(d) for d in digits).rstrip("0") or "0"
    # Decimal exponent of the leading digit.
    exp = len(digits) + exponent - 1
    prefix = "-" if sign else ""
    # Go's shortest %g switches to exponent form below 1e-4 and from 1e6 (precision 6).
    if exp < -4 or exp >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{prefix}{mantissa}e{'+' if exp >= 0 else '-'}{abs(exp):02d}"
    if exp < 0:
        return f"{prefix}0.{'0' * (-exp - 1)}{text}"
    whole = text[: exp + 1].ljust(exp + 1, "0")
    frac = text[exp + 1 :]
    return f"{prefix}{whole}" + (f".{frac}" if frac else "")


def _jsonpath_text(value: Any) -> str:
    """How a JSONPath printer prints one value: strings raw, maps and lists as compact JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _printer_cell(column_type: str, value: Any, now: datetime) -> Any:
    """A CRD column cell from the first JSONPath result, converted as Kubernetes converts it."""
    if value is None:
        return None
    if column_type == "string":
        return _jsonpath_text(value)
    if column_type == "integer":
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return int(value)
        return None
    if column_type == "number":
        if isinstance(value, bool):
            return None
        return float(value) if isinstance(value, int | float) else None
    if column_type == "boolean":
        return value if isinstance(value, bool) else None
    if column_type == "date":
        if not isinstance(value, str):
            return None
        if _RFC3339.fullmatch(value) is None:
            return "<invalid>"
        return age(value, now)
    return None


DEFAULT_PRINTER_COLUMNS: tuple[Mapping[str, Any], ...] = (
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
)
"""The printer columns a CRD version gets when it declares none (CRD defaulting adds Age)."""


def table_from_printer_columns(columns: Sequence[Mapping[str, Any]]) -> TableSpec:
    """The TableSpec of a CRD version's `additionalPrinterColumns` (Kubernetes' CR convertor).

    Columns are Name (format name) and then each declared column with its type, format,
    priority and description (default: `Custom resource definition column (in JSONPath
    format): <jsonPath>`). A cell is the first value the column's JSONPath selects, converted
    by type (string: printed text; integer, number, boolean: the JSON value; date: an age, or
    `<invalid>` for a bad timestamp); nothing selected or the wrong type gives null.
    Raises ValueError for a JSONPath this evaluator does not understand. Pass
    DEFAULT_PRINTER_COLUMNS for a CRD that declares none (CRD defaulting normally did already).
    """
    paths: list[tuple[str, _JSONPath]] = []
    definitions = [NAME]
    for column in columns:
        json_path = column.get("jsonPath") or ""
        try:
            path = _JSONPath(json_path)
        except ValueError as err:
            raise ValueError(f"unrecognized column definition {json_path!r}: {err}") from None
        column_type = column.get("type") or "string"
        paths.append((column_type, path))
        definitions.append(
            ColumnDefinition(
                name=column.get("name") or "",
                type=column_type,
                format=column.get("format") or "",
                description=column.get("description")
                or f"Custom resource definition column (in JSONPath format): {json_path}",
                priority=_int(column.get("priority")),
            )
        )

    def cells(obj: Obj, now: datetime, _ctx: Any) -> list[Any]:
        row: list[Any] = [_name(obj)]
        for column_type, path in paths:
            found = path.find(obj)
            row.append(_printer_cell(column_type, found[0], now) if found else None)
        return row

    return TableSpec(tuple(definitions), cells)


# --------------------------------------------------------------------------------------------
# The kind registry
# --------------------------------------------------------------------------------------------

_TABLES: dict[tuple[str, str], TableSpec] = {
    ("", "Pod"): _POD,
    ("", "PodTemplate"): _POD_TEMPLATE,
    ("", "Node"): _NODE,
    ("", "Namespace"): _NAMESPACE,
    ("", "Service"): _SERVICE,
    ("", "Endpoints"): _ENDPOINTS,
    ("", "ConfigMap"): _CONFIG_MAP,
    ("", "Secret"): _SECRET,
    ("", "ServiceAccount"): _SERVICE_ACCOUNT,
    ("", "Event"): _EVENT,
    ("", "ReplicationController"): _REPLICATION_CONTROLLER,
    ("", "PersistentVolume"): _PV,
    ("", "PersistentVolumeClaim"): _PVC,
    ("", "ResourceQuota"): _RESOURCE_QUOTA,
    ("", "ComponentStatus"): _COMPONENT_STATUS,
    ("apps", "Deployment"): _DEPLOYMENT,
    ("apps", "ReplicaSet"): _REPLICA_SET,
    ("apps", "DaemonSet"): _DAEMON_SET,
    ("apps", "StatefulSet"): _STATEFUL_SET,
    ("apps", "ControllerRevision"): _CONTROLLER_REVISION,
    ("batch", "Job"): _JOB,
    ("batch", "CronJob"): _CRON_JOB,
    ("autoscaling", "HorizontalPodAutoscaler"): _HPA,
    ("autoscaling", "Scale"): _SCALE,
    ("events.k8s.io", "Event"): _EVENT,
    ("discovery.k8s.io", "EndpointSlice"): _ENDPOINT_SLICE,
    ("networking.k8s.io", "Ingress"): _INGRESS,
    ("networking.k8s.io", "IngressClass"): _INGRESS_CLASS,
    ("networking.k8s.io", "NetworkPolicy"): _NETWORK_POLICY,
    ("networking.k8s.io", "ServiceCIDR"): _SERVICE_CIDR,
    ("networking.k8s.io", "IPAddress"): _IP_ADDRESS,
    ("coordination.k8s.io", "Lease"): _LEASE,
    ("coordination.k8s.io", "LeaseCandidate"): _LEASE_CANDIDATE,
    ("scheduling.k8s.io", "PriorityClass"): _PRIORITY_CLASS,
    ("policy", "PodDisruptionBudget"): _PDB,
    ("rbac.authorization.k8s.io", "RoleBinding"): _binding_table("roleBinding"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): _binding_table("clusterRoleBinding"),
    ("storage.k8s.io", "StorageClass"): _STORAGE_CLASS,
    ("storage.k8s.io", "VolumeAttachment"): _VOLUME_ATTACHMENT,
    ("storage.k8s.io", "CSINode"): _count_table(
        "Drivers", "Drivers indicates the number of CSI drivers registered on the node", ("spec", "drivers")
    ),
    ("storage.k8s.io", "CSIDriver"): _CSI_DRIVER,
    ("storage.k8s.io", "CSIStorageCapacity"): _CSI_STORAGE_CAPACITY,
    ("storage.k8s.io", "VolumeAttributesClass"): _VOLUME_ATTRIBUTES_CLASS,
    ("node.k8s.io", "RuntimeClass"): _RUNTIME_CLASS,
    ("certificates.k8s.io", "CertificateSigningRequest"): _CSR,
    ("certificates.k8s.io", "ClusterTrustBundle"): _CLUSTER_TRUST_BUNDLE,
    ("certificates.k8s.io", "PodCertificateRequest"): _POD_CERTIFICATE_REQUEST,
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"): _count_table(
        "Webhooks",
        "Webhooks indicates the number of webhooks registered in this configuration",
        ("webhooks",),
    ),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"): _count_table(
        "Webhooks",
        "Webhooks indicates the number of webhooks registered in this configuration",
        ("webhooks",),
    ),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"): _policy_table(
        "Validations",
        "Validations indicates the number of validation rules defined in this configuration",
        "validations",
    ),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"): _policy_table(
        "Mutations",
        "Mutation indicates the number of mutations rules defined in this configuration",
        "mutations",
    ),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"): _POLICY_BINDING,
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"): _POLICY_BINDING,
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"): _FLOW_SCHEMA,
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"): _PRIORITY_LEVEL,
    ("resource.k8s.io", "DeviceClass"): _NAME_AGE,
    ("resource.k8s.io", "ResourceClaim"): _RESOURCE_CLAIM,
    ("resource.k8s.io", "ResourceClaimTemplate"): _NAME_AGE,
    ("resource.k8s.io", "ResourceSlice"): _RESOURCE_SLICE,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _CRD,
    ("apiregistration.k8s.io", "APIService"): _API_SERVICE,
}

# Groups served by Kubernetes itself: their kinds without a printer (Role, ClusterRole,
# LimitRange, TokenReview, ...) use the default convertor rather than CRD-style columns.
_BUILT_IN_GROUPS = frozenset(
    {group for group, _ in _TABLES}
    | {
        "authentication.k8s.io",
        "authorization.k8s.io",
        "internal.apiserver.k8s.io",
        "storagemigration.k8s.io",
    }
)

_CUSTOM_RESOURCE = table_from_printer_columns(DEFAULT_PRINTER_COLUMNS)


def table_for(group: str, kind: str) -> TableSpec:
    """The TableSpec for a kind (group "" is core).

    Built-in kinds with a printer get Kubernetes' columns; other kinds of built-in groups get
    the default convertor (Name, Created At); kinds of any other group are taken as custom
    resources whose CRD declares no printer columns (Name, Age) — a CRD with
    additionalPrinterColumns should use `table_from_printer_columns` instead.
    """
    spec = _TABLES.get((group, kind))
    if spec is not None:
        return spec
    return _DEFAULT if group in _BUILT_IN_GROUPS else _CUSTOM_RESOURCE


# --------------------------------------------------------------------------------------------
# The Table object
# --------------------------------------------------------------------------------------------

_INCLUDE_OBJECT = ("Metadata", "Object", "None")


def check_include_object(value: str | None) -> str:
    """Normalize `?includeObject=`: "" or None means Metadata; anything unknown is a 400.

    Raises TableOptionsError with Kubernetes' message (`Unable to convert to Table as
    requested: includeObject: Invalid value: "x": must be 'Metadata', 'Object', 'None', or
    empty`).
    """
    if not value:
        return "Metadata"
    if value in _INCLUDE_OBJECT:
        return value
    error = FieldError(
        "FieldValueInvalid", "includeObject", value, "must be 'Metadata', 'Object', 'None', or empty"
    )
    raise TableOptionsError(f"Unable to convert to Table as requested: {error}")


def build_table(
    objects: Sequence[Obj],
    spec: TableSpec,
    now: datetime | float,
    include_object: str | None = "Metadata",
    list_resource_version: str | None = None,
    continue_: str | None = None,
    *,
    remaining_item_count: int | None = None,
    single_object: bool = False,
    include_column_definitions: bool = True,
    version: str = "v1",
) -> dict[str, Any]:
    """The meta.k8s.io Table for `objects`, as the API server answers a Table Accept header.

    `objects` are decoded objects, already in the endpoint's version (they go out verbatim with
    includeObject=Object). `include_object` is Metadata (each row's object is a
    PartialObjectMetadata carrying the full metadata, which kubectl needs for `-A`,
    `--show-labels` and `-L`), Object or None; anything else raises TableOptionsError.
    `list_resource_version`, `continue_` and `remaining_item_count` fill the list metadata;
    for a GET of one object pass `single_object=True` and the object's resourceVersion is used.
    `include_column_definitions=False` gives `columnDefinitions: null` (watch events after the
    first). `version` is the negotiated Table version, v1 or v1beta1.
    """
    mode = check_include_object(include_object)
    api_version = f"meta.k8s.io/{version}"
    rows = spec.rows(objects, now, single_object=single_object)

    metadata: dict[str, Any] = {}
    resource_version = list_resource_version
    if resource_version is None and single_object and objects:
        resource_version = _get(objects[0], "metadata", "resourceVersion")
    if resource_version:
        metadata["resourceVersion"] = resource_version
    if continue_:
        metadata["continue"] = continue_
    if remaining_item_count is not None:
        metadata["remainingItemCount"] = remaining_item_count

    # Rows follow the spec's order (which may sort), so pair each row with its own object.
    ordered = list(objects)
    if spec.sort_key is not None:
        ordered.sort(key=spec.sort_key)
    wire_rows: list[dict[str, Any]] = []
    for row, obj in zip(rows, ordered, strict=True):
        item: dict[str, Any] = {"cells": row.cells}
        if row.conditions:
            item["conditions"] = row.conditions
        if mode == "Object":
            item["object"] = obj
        elif mode == "None":
            item["object"] = None
        else:
            item["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": api_version,
                "metadata": dict(_map(obj.get("metadata"))),
            }
        wire_rows.append(item)

    return {
        "kind": "Table",
        "apiVersion": api_version,
        "metadata": metadata,
        "columnDefinitions": [c.to_dict() for c in spec.column_definitions]
        if include_column_definitions
        else None,
        "rows": None if (not wire_rows and spec.rows_null_when_empty) else wire_rows,
    }
