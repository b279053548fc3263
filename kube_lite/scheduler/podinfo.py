"""What the scheduler needs of a pod, computed once from its JSON dict.

`PodInfo.of(pod)` reads requests (Kubernetes' rules for init and sidecar containers and pod
overhead), host ports, tolerations, node selection, pod (anti-)affinity terms, topology spread
constraints and images. Plugins read these fields instead of walking the dict on every node.
The dict itself (`obj`) is the informer's: read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from kube_lite.api.quantity import QuantityError, parse_quantity
from kube_lite.api.selectors import (
    NOTHING,
    OP_IN,
    OP_NOT_IN,
    LabelSelector,
    Requirement,
    SelectorError,
    from_label_selector,
)

CPU = "cpu"
MEMORY = "memory"
EPHEMERAL_STORAGE = "ephemeral-storage"
PODS = "pods"

# Kubernetes' non-zero defaults, used by scoring for containers that request nothing.
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024
NON_ZERO_DEFAULTS = {CPU: DEFAULT_MILLI_CPU_REQUEST, MEMORY: DEFAULT_MEMORY_REQUEST}

DEFAULT_SCHEDULER_NAME = "default-scheduler"
HOSTNAME_LABEL = "kubernetes.io/hostname"


@lru_cache(maxsize=4096)
def milli_value(raw: str | int | float) -> int:
    """A quantity in thousandths, rounded up (cpu in millicores); 0 if unparseable."""
    try:
        return parse_quantity(raw).milli_value()
    except QuantityError:
        return 0


@lru_cache(maxsize=4096)
def int_value(raw: str | int | float) -> int:
    """A quantity as an integer, rounded up (bytes, counts); 0 if unparseable."""
    try:
        return parse_quantity(raw).int_value()
    except QuantityError:
        return 0


def quantity_of(name: str, raw: Any) -> int:
    """The integer the scheduler compares for resource `name`: millicores for cpu, else value."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        return 0
    return milli_value(raw) if name == CPU else int_value(raw)


def resource_list(raw: Mapping[str, Any] | None) -> dict[str, int]:
    """A ResourceList as integers (cpu in millicores)."""
    if not raw:
        return {}
    return {name: quantity_of(name, value) for name, value in raw.items()}


def _container_requests(container: Mapping[str, Any]) -> dict[str, int]:
    resources = container.get("resources") or {}
    requests = resources.get("requests") or {}
    limits = resources.get("limits") or {}
    out = resource_list(requests)
    # The API server defaults a missing request to the limit; do it here too for objects
    # written before defaulting (or by a client that skipped it).
    for name, value in limits.items():
        if name not in out:
            out[name] = quantity_of(name, value)
    return out


def _add(into: dict[str, int], more: Mapping[str, int]) -> None:
    for name, value in more.items():
        into[name] = into.get(name, 0) + value


def _max(into: dict[str, int], other: Mapping[str, int]) -> None:
    for name, value in other.items():
        if value > into.get(name, 0):
            into[name] = value


def pod_requests(spec: Mapping[str, Any], non_missing: Mapping[str, int] | None = None) -> dict[str, int]:
    """The pod's effective requests, as Kubernetes computes them (resourcehelper.PodRequests).

    The sum of the app containers; sidecars (init containers with restartPolicy Always) run
    alongside them and are added; each regular init container runs alone, beside the sidecars
    started before it; the pod needs the larger of the two phases, per resource; plus overhead.
    `non_missing` gives values for resources a container does not request at all (the scoring
    defaults: 100m cpu and 200Mi memory); an explicit 0 stays 0.
    """

    def requests_of(container: Mapping[str, Any]) -> dict[str, int]:
        reqs = _container_requests(container)
        if non_missing:
            for name, value in non_missing.items():
                if name not in reqs:
                    reqs[name] = value
        return reqs

    total: dict[str, int] = {}
    for container in spec.get("containers") or ():
        _add(total, requests_of(container))
    restartable: dict[str, int] = {}
    init_max: dict[str, int] = {}
    for container in spec.get("initContainers") or ():
        reqs = requests_of(container)
        if container.get("restartPolicy") == "Always":
            _add(total, reqs)
            _add(restartable, reqs)
            phase = dict(restartable)
        else:
            phase = dict(reqs)
            _add(phase, restartable)
        _max(init_max, phase)
    _max(total, init_max)
    overhead = spec.get("overhead")
    if overhead:
        _add(total, resource_list(overhead))
    return total


def is_scalar_resource(name: str) -> bool:
    """Kubernetes' IsScalarResourceName: extended resources (example.com/gpu), prefixed native
    ones (kubernetes.io/...), hugepages-* and attachable-volumes-*; not cpu, memory, storage."""
    if name.startswith(("hugepages-", "attachable-volumes-")):
        return True
    return "/" in name and not name.startswith("requests.")


class Resources:
    """Requests or allocatable amounts: cpu (millicores), memory, ephemeral storage (bytes), and
    the other ("scalar") resources by name: extended resources, hugepages."""

    __slots__ = ("cpu", "memory", "ephemeral", "scalars")

    def __init__(self, cpu: int = 0, memory: int = 0, ephemeral: int = 0, scalars: dict[str, int] | None = None) -> None:
        self.cpu = cpu
        self.memory = memory
        self.ephemeral = ephemeral
        self.scalars = scalars or {}

    @classmethod
    def of(cls, amounts: Mapping[str, int]) -> Resources:
        scalars = {name: value for name, value in amounts.items() if is_scalar_resource(name)}
        return cls(amounts.get(CPU, 0), amounts.get(MEMORY, 0), amounts.get(EPHEMERAL_STORAGE, 0), scalars)

    def is_zero(self) -> bool:
        return not (self.cpu or self.memory or self.ephemeral or any(self.scalars.values()))

    def copy(self) -> Resources:
        return Resources(self.cpu, self.memory, self.ephemeral, dict(self.scalars))

    def __repr__(self) -> str:
        return f"Resources(cpu={self.cpu}, memory={self.memory}, ephemeral={self.ephemeral}, scalars={self.scalars})"


def normalized_image_name(name: str) -> str:
    """An image name with ":latest" added when it has neither tag nor digest (Kubernetes'
    ImageLocality normalization; registries are not expanded)."""
    if name.rfind(":") <= name.rfind("/"):
        return name + ":latest"
    return name


# ---------------------------------------------------------------------------- node selection

_NODE_OPS = {"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"}


def _int_or_none(text: Any) -> int | None:
    try:
        return int(str(text))
    except (TypeError, ValueError):
        return None


def _node_requirement_matches(expr: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key = expr.get("key") or ""
    op = expr.get("operator")
    values = expr.get("values") or ()
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    if op in ("Gt", "Lt"):
        if key not in labels or len(values) != 1:
            return False
        have = _int_or_none(labels[key])
        want = _int_or_none(values[0])
        if have is None or want is None:
            return False
        return have > want if op == "Gt" else have < want
    return False


def node_selector_term_matches(term: Mapping[str, Any], labels: Mapping[str, str], name: str) -> bool:
    """Whether a NodeSelectorTerm matches a node: all its matchExpressions on the labels and
    all its matchFields (metadata.name only, In/NotIn) on the name. A term with neither
    matches nothing, as in Kubernetes."""
    expressions = term.get("matchExpressions") or ()
    fields = term.get("matchFields") or ()
    if not expressions and not fields:
        return False
    for expr in expressions:
        if not _node_requirement_matches(expr, labels):
            return False
    for expr in fields:
        if expr.get("key") != "metadata.name":
            return False
        values = expr.get("values") or ()
        op = expr.get("operator")
        # Kubernetes turns these into a metadata.name field selector: exactly one value.
        if op == "In":
            if len(values) != 1 or name != values[0]:
                return False
        elif op == "NotIn":
            if len(values) != 1 or name == values[0]:
                return False
        else:
            return False
    return True


def node_selector_matches(terms: list[Mapping[str, Any]], labels: Mapping[str, str], name: str) -> bool:
    """The ORed NodeSelectorTerms of a required node affinity."""
    return any(node_selector_term_matches(term, labels, name) for term in terms)


# ---------------------------------------------------------------------------- pod affinity


class AffinityTerm:
    """A pod (anti-)affinity term resolved against the pod that carries it: the namespaces it
    looks in (the carrier's own when none are named), its label selector, its topology key."""

    __slots__ = ("namespaces", "namespace_selector", "selector", "topology_key", "weight")

    def __init__(self, namespaces: frozenset[str], namespace_selector: LabelSelector, selector: LabelSelector,
                 topology_key: str, weight: int = 1) -> None:
        self.namespaces = namespaces
        self.namespace_selector = namespace_selector
        self.selector = selector
        self.topology_key = topology_key
        self.weight = weight

    def matches(self, pod: PodInfo, namespace_labels: Mapping[str, Mapping[str, str]]) -> bool:
        """Whether `pod` is selected: in one of the term's namespaces (or one its namespace
        selector picks, from `namespace_labels`), with matching labels."""
        if pod.namespace in self.namespaces or (
            not self.namespace_selector.matches_nothing
            and self.namespace_selector.matches(namespace_labels.get(pod.namespace))
        ):
            return self.selector.matches(pod.labels)
        return False

    def __repr__(self) -> str:
        return f"AffinityTerm({sorted(self.namespaces)}, {self.selector}, {self.topology_key!r}, w={self.weight})"


def _affinity_term(raw: Mapping[str, Any], carrier_namespace: str, carrier_labels: Mapping[str, str],
                   weight: int = 1) -> AffinityTerm:
    names = raw.get("namespaces") or ()
    ns_selector_raw = raw.get("namespaceSelector")
    if not names and ns_selector_raw is None:
        namespaces = frozenset((carrier_namespace,))
    else:
        namespaces = frozenset(names)
    try:
        ns_selector = from_label_selector(ns_selector_raw)
        selector = from_label_selector(raw.get("labelSelector"))
    except SelectorError:
        ns_selector, selector = NOTHING, NOTHING
    # matchLabelKeys / mismatchLabelKeys: the carrier's own values join the selector.
    extra = []
    for key in raw.get("matchLabelKeys") or ():
        if key in carrier_labels:
            extra.append(Requirement(key, OP_IN, (carrier_labels[key],)))
    for key in raw.get("mismatchLabelKeys") or ():
        if key in carrier_labels:
            extra.append(Requirement(key, OP_NOT_IN, (carrier_labels[key],)))
    if extra:
        selector = selector.add(*extra)
    return AffinityTerm(namespaces, ns_selector, selector, raw.get("topologyKey") or "", weight)


def _required_terms(section: Mapping[str, Any] | None, ns: str, labels: Mapping[str, str]) -> tuple[AffinityTerm, ...]:
    if not section:
        return ()
    return tuple(_affinity_term(t, ns, labels) for t in section.get("requiredDuringSchedulingIgnoredDuringExecution") or ())


def _preferred_terms(section: Mapping[str, Any] | None, ns: str, labels: Mapping[str, str]) -> tuple[AffinityTerm, ...]:
    if not section:
        return ()
    out = []
    for weighted in section.get("preferredDuringSchedulingIgnoredDuringExecution") or ():
        weight = int(weighted.get("weight") or 0)
        if weight:
            out.append(_affinity_term(weighted.get("podAffinityTerm") or {}, ns, labels, weight))
    return tuple(out)


# ---------------------------------------------------------------------------- topology spread


class SpreadConstraint:
    """One topologySpreadConstraint with its selector resolved (matchLabelKeys merged)."""

    __slots__ = ("max_skew", "topology_key", "when_unsatisfiable", "selector", "min_domains",
                 "honor_node_affinity", "honor_node_taints")

    def __init__(self, max_skew: int, topology_key: str, when_unsatisfiable: str, selector: LabelSelector,
                 min_domains: int | None, honor_node_affinity: bool, honor_node_taints: bool) -> None:
        self.max_skew = max_skew
        self.topology_key = topology_key
        self.when_unsatisfiable = when_unsatisfiable
        self.selector = selector
        self.min_domains = min_domains
        self.honor_node_affinity = honor_node_affinity
        self.honor_node_taints = honor_node_taints

    def __repr__(self) -> str:
        return f"SpreadConstraint({self.topology_key!r}, skew={self.max_skew}, {self.when_unsatisfiable}, {self.selector})"


def _spread_constraints(spec: Mapping[str, Any], labels: Mapping[str, str]) -> tuple[SpreadConstraint, ...]:
    out = []
    for raw in spec.get("topologySpreadConstraints") or ():
        try:
            selector = from_label_selector(raw.get("labelSelector"))
        except SelectorError:
            selector = NOTHING
        extra = [Requirement(k, OP_IN, (labels[k],)) for k in raw.get("matchLabelKeys") or () if k in labels]
        if extra:
            selector = selector.add(*extra)
        out.append(SpreadConstraint(
            max_skew=int(raw.get("maxSkew") or 1),
            topology_key=raw.get("topologyKey") or "",
            when_unsatisfiable=raw.get("whenUnsatisfiable") or "DoNotSchedule",
            selector=selector,
            min_domains=raw.get("minDomains"),
            honor_node_affinity=(raw.get("nodeAffinityPolicy") or "Honor") == "Honor",
            honor_node_taints=(raw.get("nodeTaintsPolicy") or "Ignore") == "Honor",
        ))
    return tuple(out)


# ---------------------------------------------------------------------------- the pod


def _host_ports(spec: Mapping[str, Any]) -> tuple[tuple[str, str, int], ...]:
    ports = []
    containers = list(spec.get("containers") or ())
    containers += [c for c in spec.get("initContainers") or () if c.get("restartPolicy") == "Always"]
    for container in containers:
        for port in container.get("ports") or ():
            host_port = port.get("hostPort")
            if host_port:
                ports.append((port.get("hostIP") or "0.0.0.0", port.get("protocol") or "TCP", int(host_port)))
    return tuple(ports)


class PodInfo:
    """The scheduler's view of one pod. Build with `PodInfo.of(pod_dict)`; `priority` and
    `preemption_policy` are resolved by the scheduler (PriorityClass lookup) and may be set after."""

    __slots__ = (
        "obj", "key", "namespace", "name", "uid", "labels", "node_name", "scheduler_name", "terminating",
        "priority", "preemption_policy", "start_time", "nominated_node_name", "gated", "preempted",
        "requests", "nonzero_cpu", "nonzero_memory", "host_ports", "tolerations",
        "node_selector", "required_node_terms", "preferred_node_terms",
        "required_affinity", "required_anti_affinity", "preferred_affinity", "preferred_anti_affinity",
        "spread", "images", "num_containers",
    )

    obj: dict[str, Any]
    key: str
    namespace: str
    name: str
    uid: str
    labels: dict[str, str]
    node_name: str
    scheduler_name: str
    terminating: bool
    priority: int
    preemption_policy: str
    start_time: str
    nominated_node_name: str
    gated: bool
    preempted: bool
    requests: Resources
    nonzero_cpu: int
    nonzero_memory: int
    host_ports: tuple[tuple[str, str, int], ...]
    tolerations: tuple[Mapping[str, Any], ...]
    node_selector: Mapping[str, str] | None
    required_node_terms: list[Mapping[str, Any]] | None
    preferred_node_terms: tuple[tuple[int, Mapping[str, Any]], ...]
    required_affinity: tuple[AffinityTerm, ...]
    required_anti_affinity: tuple[AffinityTerm, ...]
    preferred_affinity: tuple[AffinityTerm, ...]
    preferred_anti_affinity: tuple[AffinityTerm, ...]
    spread: tuple[SpreadConstraint, ...]
    images: tuple[str, ...]
    num_containers: int

    @classmethod
    def of(cls, pod: dict[str, Any]) -> PodInfo:
        self = cls.__new__(cls)
        self.obj = pod
        meta = pod.get("metadata") or {}
        spec = pod.get("spec") or {}
        status = pod.get("status") or {}
        self.namespace = meta.get("namespace") or "default"
        self.name = meta.get("name") or ""
        self.key = f"{self.namespace}/{self.name}"
        self.uid = meta.get("uid") or ""
        labels = meta.get("labels") or {}
        self.labels = labels
        self.node_name = spec.get("nodeName") or ""
        self.scheduler_name = spec.get("schedulerName") or DEFAULT_SCHEDULER_NAME
        self.terminating = meta.get("deletionTimestamp") is not None
        priority = spec.get("priority")
        self.priority = int(priority) if isinstance(priority, int) else 0
        self.preemption_policy = spec.get("preemptionPolicy") or "PreemptLowerPriority"
        self.start_time = status.get("startTime") or meta.get("creationTimestamp") or ""
        self.nominated_node_name = status.get("nominatedNodeName") or ""
        self.gated = bool(spec.get("schedulingGates"))
        self.preempted = _preempted(status)

        requests = pod_requests(spec)
        self.requests = Resources.of(requests)
        nonzero = pod_requests(spec, NON_ZERO_DEFAULTS) if _some_container_misses(spec) else requests
        self.nonzero_cpu = nonzero.get(CPU, 0)
        self.nonzero_memory = nonzero.get(MEMORY, 0)
        self.host_ports = _host_ports(spec)
        self.tolerations = tuple(spec.get("tolerations") or ())

        self.node_selector = spec.get("nodeSelector") or None
        affinity = spec.get("affinity") or {}
        node_affinity = affinity.get("nodeAffinity") or {}
        required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
        self.required_node_terms = list(required.get("nodeSelectorTerms") or ()) if required is not None else None
        self.preferred_node_terms = tuple(
            (int(t.get("weight") or 0), t.get("preference") or {})
            for t in node_affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or ()
            if t.get("weight")
        )
        pod_affinity = affinity.get("podAffinity")
        anti = affinity.get("podAntiAffinity")
        self.required_affinity = _required_terms(pod_affinity, self.namespace, labels)
        self.required_anti_affinity = _required_terms(anti, self.namespace, labels)
        self.preferred_affinity = _preferred_terms(pod_affinity, self.namespace, labels)
        self.preferred_anti_affinity = _preferred_terms(anti, self.namespace, labels)
        self.spread = _spread_constraints(spec, labels)

        containers = list(spec.get("initContainers") or ()) + list(spec.get("containers") or ())
        self.images = tuple(normalized_image_name(c["image"]) for c in containers if c.get("image"))
        self.num_containers = len(containers)
        return self

    # ------------------------------------------------------------------ derived

    @property
    def has_affinity(self) -> bool:
        """Whether the pod carries any pod affinity or anti-affinity term (required or preferred)."""
        return bool(self.required_affinity or self.required_anti_affinity or self.preferred_affinity
                    or self.preferred_anti_affinity)

    @property
    def has_required_anti_affinity(self) -> bool:
        return bool(self.required_anti_affinity)

    def with_object(self, pod: dict[str, Any]) -> PodInfo:
        """This info for a newer version of the same pod whose scheduling inputs did not
        change (a binding, a status update): only the object, node and flags are refreshed."""
        clone = PodInfo.__new__(PodInfo)
        for slot in PodInfo.__slots__:
            setattr(clone, slot, getattr(self, slot))
        clone.obj = pod
        meta = pod.get("metadata") or {}
        spec = pod.get("spec") or {}
        status = pod.get("status") or {}
        clone.node_name = spec.get("nodeName") or ""
        clone.terminating = meta.get("deletionTimestamp") is not None
        clone.start_time = status.get("startTime") or meta.get("creationTimestamp") or ""
        clone.nominated_node_name = status.get("nominatedNodeName") or ""
        clone.preempted = _preempted(status)
        return clone

    def __repr__(self) -> str:
        return f"PodInfo({self.key}, node={self.node_name!r}, priority={self.priority})"


def _preempted(status: Mapping[str, Any]) -> bool:
    """Whether the scheduler marked the pod as a preemption victim (DisruptionTarget)."""
    for condition in status.get("conditions") or ():
        if condition.get("type") == "DisruptionTarget" and condition.get("reason") == "PreemptionByScheduler":
            return True
    return False


def _some_container_misses(spec: Mapping[str, Any]) -> bool:
    """Whether any container leaves cpu or memory unrequested (then the non-zero defaults apply)."""
    for group in ("containers", "initContainers"):
        for container in spec.get(group) or ():
            resources = container.get("resources") or {}
            requests = resources.get("requests") or {}
            limits = resources.get("limits") or {}
            for name in (CPU, MEMORY):
                if name not in requests and name not in limits:
                    return True
    return False


def scheduling_inputs_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether an update of a pod may change where it can be scheduled: anything but status,
    resourceVersion and the other bookkeeping fields (Kubernetes' isPodUpdated)."""
    old_meta = old.get("metadata") or {}
    new_meta = new.get("metadata") or {}
    return (
        old.get("spec") != new.get("spec")
        or old_meta.get("labels") != new_meta.get("labels")
        or old_meta.get("annotations") != new_meta.get("annotations")
    )
