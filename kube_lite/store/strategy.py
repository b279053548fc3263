"""Per-kind storage behaviour: what create, update, delete do beyond the generic path.

A `Strategy` says how a kind is stored (its key segment), whether it has a status subresource
(then the main resource ignores status changes and the status subresource ignores everything
else), whether it tracks generation, and how it is deleted (grace periods for pods, the
Terminating phase of namespaces).
"""

from __future__ import annotations

import copy
import ipaddress
import random
import re
from functools import cache
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from kube_lite.api.registry import KindInfo
    from kube_lite.store.admission import UserInfo

_encode = msgspec.json.encode
_decode = msgspec.json.decode

# Groups whose resources are stored under their plural alone (as Kubernetes does); custom
# resources are stored under "<plural>.<group>" so that no two kinds share a key segment.
_BUILTIN_GROUPS = {
    "",
    "apps",
    "batch",
    "coordination.k8s.io",
    "scheduling.k8s.io",
    "policy",
    "discovery.k8s.io",
    "events.k8s.io",
    "storage.k8s.io",
    "rbac.authorization.k8s.io",
    "authorization.k8s.io",
    "authentication.k8s.io",
    "certificates.k8s.io",
    "apiextensions.k8s.io",
}


def json_copy(value: Any) -> Any:
    """A deep copy of a JSON value (a stored object or part of one), through msgspec: about ten
    times faster than copy.deepcopy for an object of a few kilobytes."""
    return _decode(_encode(value))


class Strategy:
    """The generic strategy: status subresource when the kind declares one."""

    def __init__(self, kind: KindInfo) -> None:
        self.kind = kind
        self.resource = kind.plural if kind.group in _BUILTIN_GROUPS else f"{kind.plural}.{kind.group}"
        self.api_version = f"{kind.group}/{kind.version}" if kind.group else kind.version
        self.has_status = "status" in (kind.subresources or ())
        self.has_generation = self.has_status
        self.allow_unconditional_update = True

    # Kinds stored in another kind's form (events.k8s.io Events are core Events) convert at
    # the storage boundary: reads see `to_external`, writes store `to_internal`.
    converts = False

    def to_external(self, obj: dict[str, Any]) -> dict[str, Any]:
        return obj

    def to_internal(self, obj: dict[str, Any]) -> dict[str, Any]:
        return obj

    def view(self, cached: Any) -> Any:
        """A cached (stored-form) object as this kind serves it."""
        if not self.converts:
            return cached
        from kube_lite.store.cache import CachedObject

        return CachedObject.from_obj(cached.key, cached.namespace, self.to_external(cached.obj), cached.revision)

    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        """Reset what a client may not set on create (status, for kinds with a status
        subresource)."""
        if self.has_status:
            obj.pop("status", None)

    def record_requester(self, obj: dict[str, Any], user: UserInfo) -> None:
        """Write who creates the object into it, for kinds that record it (CSRs)."""

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any], subresource: str) -> dict[str, Any]:
        """The object to store: the main resource keeps the old status; the status subresource
        keeps everything but the status (and metadata labels/annotations) from the old."""
        if subresource == "status":
            merged = json_copy(old)
            if "status" in new:
                merged["status"] = new["status"]
            else:
                merged.pop("status", None)
            for field in ("labels", "annotations"):
                if field in new.get("metadata", {}):
                    merged["metadata"][field] = new["metadata"][field]
            return merged
        if self.has_status:
            if "status" in old:
                new["status"] = json_copy(old["status"])
            else:
                new.pop("status", None)
        return new

    def finish_update(self, new: dict[str, Any], old: dict[str, Any], subresource: str) -> None:
        """Set what the kind derives from the old and the new object once admission (defaulting
        included) has run, just before the write (in Kubernetes' order: PrepareForUpdate sees
        the decoded, defaulted and mutated object)."""

    def spec_changed(self, new: dict[str, Any], old: dict[str, Any]) -> bool:
        return new.get("spec") != old.get("spec")

    def grace_period(self, obj: dict[str, Any], requested: int | None) -> int:
        """Seconds the object stays (Terminating) before it is removed; 0 removes it now."""
        return 0

    def pending_finalizers(self, obj: dict[str, Any]) -> bool:
        return bool(obj["metadata"].get("finalizers"))

    def prepare_for_delete(self, obj: dict[str, Any]) -> None:
        """Change a deleted object that stays for a while (finalizers, grace)."""

    def finalizers_delete(self, obj: dict[str, Any]) -> bool:
        """Whether an object being deleted whose last finalizer went is removed now."""
        return not self.pending_finalizers(obj)


class PodStrategy(Strategy):
    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        obj["status"] = {"phase": "Pending", "qosClass": pod_qos_class(obj.get("spec") or {})}

    def finish_update(self, new: dict[str, Any], old: dict[str, Any], subresource: str) -> None:
        """Set what the kind derives from the old and the new object once admission (defaulting
        included) has run, just before the write (in Kubernetes' order: PrepareForUpdate sees
        the decoded, defaulted and mutated object)."""

    def spec_changed(self, new: dict[str, Any], old: dict[str, Any]) -> bool:
        return new.get("spec") != old.get("spec")

    def grace_period(self, obj: dict[str, Any], requested: int | None) -> int:
        spec = obj.get("spec") or {}
        phase = (obj.get("status") or {}).get("phase")
        # A pod no kubelet runs, or one that has finished, goes at once (as Kubernetes does).
        if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
            return 0
        if requested is not None:
            return max(int(requested), 0)
        meta = obj["metadata"]
        if meta.get("deletionGracePeriodSeconds") is not None:
            return int(meta["deletionGracePeriodSeconds"])
        grace = spec.get("terminationGracePeriodSeconds")
        return 30 if grace is None else max(int(grace), 0)

    def finalizers_delete(self, obj: dict[str, Any]) -> bool:
        # A terminating pod whose finalizers are gone still waits for its kubelet (grace).
        return not obj["metadata"].get("finalizers") and int(obj["metadata"].get("deletionGracePeriodSeconds") or 0) == 0


_QOS_RESOURCES = ("cpu", "memory")


def pod_qos_class(spec: dict[str, Any]) -> str:
    """The pod's quality-of-service class from its containers' cpu and memory requests and
    limits (pod-level resources, when set, decide instead): BestEffort when none is set,
    Guaranteed when every container limits both and requests equal limits, else Burstable.
    A request left out counts as its limit, as defaulting copies limits into requests."""
    from kube_lite.api.quantity import QuantityError
    from kube_lite.api.validation import parse_quantity_cached

    def amount(value: Any) -> Any:
        try:
            return parse_quantity_cached(value).value
        except (QuantityError, TypeError, ValueError):
            return None

    def totals(resources: dict[str, Any], requests: dict[str, Any], limits: dict[str, Any]) -> bool:
        """Add one resource block; whether it limits both cpu and memory."""
        req = resources.get("requests")
        lim = resources.get("limits")
        req = req if isinstance(req, dict) else {}
        lim = lim if isinstance(lim, dict) else {}
        limited = 0
        for name in _QOS_RESOURCES:
            limit = amount(lim.get(name)) if name in lim else None
            request = amount(req.get(name)) if name in req else limit
            if request:
                requests[name] = requests.get(name, 0) + request
            if limit:
                limits[name] = limits.get(name, 0) + limit
                limited += 1
        return limited == len(_QOS_RESOURCES)

    if not isinstance(spec, dict):
        return "BestEffort"  # validation reports the malformed spec
    requests: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    pod_resources = spec.get("resources")
    if isinstance(pod_resources, dict) and (pod_resources.get("requests") or pod_resources.get("limits")):
        guaranteed = totals(pod_resources, requests, limits)
    else:
        guaranteed = True
        containers = [spec.get("initContainers"), spec.get("containers")]
        for container in [c for group in containers if isinstance(group, list) for c in group]:
            if isinstance(container, dict):
                resources = container.get("resources")
                guaranteed = totals(resources if isinstance(resources, dict) else {}, requests, limits) and guaranteed
    if not requests and not limits:
        return "BestEffort"
    if guaranteed and requests == limits:
        return "Guaranteed"
    return "Burstable"


class NamespaceStrategy(Strategy):
    def __init__(self, kind: KindInfo) -> None:
        super().__init__(kind)
        self.has_generation = False

    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        obj["status"] = {"phase": "Active"}
        spec = obj.setdefault("spec", {})
        spec.setdefault("finalizers", ["kubernetes"])

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any], subresource: str) -> dict[str, Any]:
        if subresource == "finalize":
            merged = copy.deepcopy(old)
            merged["spec"] = {**old.get("spec", {}), "finalizers": (new.get("spec") or {}).get("finalizers") or []}
            if not merged["spec"]["finalizers"]:
                del merged["spec"]["finalizers"]
            return merged
        new = super().prepare_for_update(new, old, subresource)
        if subresource != "status":
            new["spec"] = copy.deepcopy(old.get("spec") or {})
            if not new["spec"]:
                del new["spec"]
        return new

    def pending_finalizers(self, obj: dict[str, Any]) -> bool:
        return bool(obj["metadata"].get("finalizers")) or bool((obj.get("spec") or {}).get("finalizers"))

    def grace_period(self, obj: dict[str, Any], requested: int | None) -> int:
        return 0

    def prepare_for_delete(self, obj: dict[str, Any]) -> None:
        # Kubernetes' namespace storage sets only the deletion timestamp and the phase: a
        # namespace has no grace period.
        obj["metadata"].pop("deletionGracePeriodSeconds", None)
        obj.setdefault("status", {})["phase"] = "Terminating"


class SecretStrategy(Strategy):
    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        _fold_string_data(obj)

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any], subresource: str) -> dict[str, Any]:
        _fold_string_data(new)
        return super().prepare_for_update(new, old, subresource)


def _fold_string_data(obj: dict[str, Any]) -> None:
    """stringData is write-only: merged into data (base64) and never stored."""
    import base64

    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        data = obj.setdefault("data", {}) or {}
        for k, v in string_data.items():
            data[k] = base64.b64encode(str(v).encode()).decode()
        obj["data"] = data


# core/v1 Event field <-> events.k8s.io/v1 Event field (same meaning, renamed).
_EVENT_RENAMES = (
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
    ("reportingComponent", "reportingController"),
)
_EVENT_SHARED = ("metadata", "eventTime", "series", "reportingInstance", "action", "reason", "related", "type")


class EventsV1Strategy(Strategy):
    """events.k8s.io/v1 Events: the same stored objects as core/v1 Events, another view."""

    converts = True

    def __init__(self, kind: KindInfo) -> None:
        super().__init__(kind)
        self.resource = "events"

    def to_external(self, obj: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"apiVersion": "events.k8s.io/v1", "kind": "Event"}
        for field in _EVENT_SHARED:
            if field in obj:
                out[field] = obj[field]
        for core, v1 in _EVENT_RENAMES:
            if core in obj:
                out[v1] = obj[core]
        series = obj.get("series")
        if isinstance(series, dict):
            out["series"] = {k: v for k, v in series.items() if k in ("count", "lastObservedTime")}
        return out

    def to_internal(self, obj: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"apiVersion": "v1", "kind": "Event"}
        for field in _EVENT_SHARED:
            if field in obj:
                out[field] = obj[field]
        for core, v1 in _EVENT_RENAMES:
            if v1 in obj:
                out[core] = obj[v1]
        return out


# apps/v1 keeps the internal DaemonSetSpec.TemplateGeneration in this annotation (Kubernetes'
# pkg/apis/apps/v1 conversion: written on every object served, read back and removed on decode).
TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"
_GO_INT = re.compile(r"[+-]?[0-9]+")
_INT64 = 2**63


def _parse_int64(value: Any) -> int | None:
    """strconv.ParseInt(value, 10, 64), None where it fails."""
    if not isinstance(value, str) or not _GO_INT.fullmatch(value):
        return None
    number = int(value)
    return number if -_INT64 <= number < _INT64 else None


class DaemonSetStrategy(Strategy):
    """DaemonSets count their template's changes (Kubernetes' daemonSetStrategy): the template
    generation is 1 on create (or what the client sent, if higher) and goes up by one with each
    update that changes spec.template; nothing else can set it. In apps/v1 it is the annotation
    `deprecated.daemonset.template.generation`, which the DaemonSet controller copies into its
    pods' `pod-template-generation` label."""

    def _requested(self, obj: dict[str, Any]) -> int:
        """The template generation an apps/v1 object carries (0 without the annotation). A value
        that is not an integer is refused as Kubernetes' decoder refuses it (400)."""
        from kube_lite.api import errors

        annotations = (obj.get("metadata") or {}).get("annotations")
        if not isinstance(annotations, dict) or TEMPLATE_GENERATION_ANNOTATION not in annotations:
            return 0
        value = annotations[TEMPLATE_GENERATION_ANNOTATION]
        number = _parse_int64(value)
        if number is None:
            why = "value out of range" if isinstance(value, str) and _GO_INT.fullmatch(value) else "invalid syntax"
            quoted = _encode(value if isinstance(value, str) else str(value)).decode()
            kind = self.kind
            raise errors.bad_request(
                f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: '
                f"strconv.ParseInt: parsing {quoted}: {why}"
            )
        return number

    @staticmethod
    def _set(obj: dict[str, Any], generation: int) -> None:
        meta = obj.setdefault("metadata", {})
        annotations = meta.get("annotations")
        if not isinstance(annotations, dict):
            annotations = meta["annotations"] = {}
        annotations[TEMPLATE_GENERATION_ANNOTATION] = str(generation)

    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        super().prepare_for_create(obj)
        self._set(obj, max(self._requested(obj), 1))

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any], subresource: str) -> dict[str, Any]:
        self._requested(new)  # the request's value must decode, though it is not kept
        return super().prepare_for_update(new, old, subresource)

    def finish_update(self, new: dict[str, Any], old: dict[str, Any], subresource: str) -> None:
        annotations = (old.get("metadata") or {}).get("annotations") or {}
        generation = _parse_int64(annotations.get(TEMPLATE_GENERATION_ANNOTATION)) or 0
        if (new.get("spec") or {}).get("template") != (old.get("spec") or {}).get("template"):
            generation += 1  # the status subresource keeps the old spec: never bumped there
        self._set(new, generation)


class JobStrategy(Strategy):
    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        from kube_lite.api.defaults import generate_job_selector

        super().prepare_for_create(obj)
        generate_job_selector(obj)


# The service IP range (kubeadm's default) and node port range Kubernetes allocates from.
SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
NODE_PORT_RANGE = (30000, 32767)


class ServiceStrategy(Strategy):
    # Allocated fields that an update may omit (kubectl replace of an edited manifest) and
    # that must then carry over, as Kubernetes' Service REST does.
    _KEPT = ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "healthCheckNodePort")

    def allocate(self, obj: dict[str, Any], others: list[dict[str, Any]], rng: random.Random | None = None) -> None:
        """Give the service a cluster IP (unless headless or ExternalName) and its ports node
        ports (NodePort and LoadBalancer types), as Kubernetes' Service REST does on create
        and on updates that need new ones. `others` are the other stored services: what they
        hold is taken. 422 Invalid for a requested IP or port that is taken or out of range."""
        from kube_lite.api import errors

        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        rng = rng or random.SystemRandom()
        meta = obj.get("metadata") or {}
        kind_name = meta.get("name") or ""
        used_ips: set[str] = set()
        used_ports: set[int] = set()
        for other in others:
            other_spec = other.get("spec") or {}
            for ip in other_spec.get("clusterIPs") or [other_spec.get("clusterIP")]:
                if isinstance(ip, str):
                    used_ips.add(ip)
            for port in other_spec.get("ports") or []:
                if isinstance(port, dict) and isinstance(port.get("nodePort"), int):
                    used_ports.add(port["nodePort"])
        service_type = spec.get("type") or "ClusterIP"
        if service_type != "ExternalName":
            ip = spec.get("clusterIP")
            if not ip:
                ips = spec.get("clusterIPs")
                ip = ips[0] if isinstance(ips, list) and ips and isinstance(ips[0], str) else None
            if not ip:
                spec["clusterIP"] = _free_ip(used_ips, rng)
                if isinstance(spec.get("clusterIPs"), list) and not spec["clusterIPs"]:
                    del spec["clusterIPs"]
            elif ip != "None" and isinstance(ip, str):
                problem = _ip_problem(ip, used_ips)
                if problem:
                    raise errors.invalid(
                        "Service", "", kind_name,
                        [("spec.clusterIPs", "FieldValueInvalid", f'Invalid value: ["{ip}"]: failed to allocate IP {ip}: {problem}')],
                    )
        wants_node_ports = service_type == "NodePort" or (
            service_type == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is not False
        )
        if not wants_node_ports:
            return
        listed = spec.get("ports")
        ports = [p for p in listed if isinstance(p, dict)] if isinstance(listed, list) else []
        taken = set(used_ports)
        for index, port in enumerate(ports):
            node_port = port.get("nodePort")
            if isinstance(node_port, int) and node_port:
                low, high = NODE_PORT_RANGE
                problem = (
                    f"provided port is not in the valid range. The range of valid ports is {low}-{high}"
                    if not low <= node_port <= high
                    else "provided port is already allocated" if node_port in taken else ""
                )
                if problem:
                    raise errors.invalid(
                        "Service", "", kind_name,
                        [(f"spec.ports[{index}].nodePort", "FieldValueInvalid", f"Invalid value: {node_port}: {problem}")],
                    )
                taken.add(node_port)
        for port in ports:
            if not port.get("nodePort"):
                port["nodePort"] = _free_port(taken, rng)
                taken.add(port["nodePort"])

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any], subresource: str) -> dict[str, Any]:
        new = super().prepare_for_update(new, old, subresource)
        spec, old_spec = new.get("spec"), old.get("spec") or {}
        if isinstance(spec, dict):
            for field in self._KEPT:
                # an empty value is as good as none: the allocated one stays
                if spec.get(field) in (None, "", []) and field in old_spec:
                    spec[field] = copy.deepcopy(old_spec[field])
            old_ports = {(p.get("port"), p.get("protocol", "TCP")): p for p in old_spec.get("ports") or [] if isinstance(p, dict)}
            for port in spec.get("ports") if isinstance(spec.get("ports"), list) else []:
                if not isinstance(port, dict):
                    continue
                before = old_ports.get((port.get("port"), port.get("protocol", "TCP")))
                if before and not port.get("nodePort") and "nodePort" in before:
                    port["nodePort"] = before["nodePort"]
        return new


def _ip_problem(ip: str, used: set[str]) -> str:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""  # validation reports a malformed address
    if address not in SERVICE_CIDR:
        return f"the provided IP ({ip}) is not in the valid range. The range of valid IPs is {SERVICE_CIDR}"
    if ip in used:
        return "provided IP is already allocated"
    return ""


def _free_ip(used: set[str], rng: random.Random) -> str:
    # Kubernetes keeps the lower part of the range for static addresses and allocates
    # dynamically from the upper part first; the range's first address is the kubernetes service.
    first = int(SERVICE_CIDR.network_address) + 1
    last = int(SERVICE_CIDR.broadcast_address) - 1
    static_end = first + min(max(16, (last - first) // 16), 256)
    for low in (static_end, first + 1):
        for _ in range(64):
            candidate = str(ipaddress.ip_address(rng.randint(low, last)))
            if candidate not in used:
                return candidate
    for value in range(first + 1, last + 1):
        candidate = str(ipaddress.ip_address(value))
        if candidate not in used:
            return candidate
    from kube_lite.api import errors

    raise errors.internal_error("failed to allocate a serviceIP: range is full")


def _free_port(used: set[int], rng: random.Random) -> int:
    low, high = NODE_PORT_RANGE
    for _ in range(64):
        candidate = rng.randint(low, high)
        if candidate not in used:
            return candidate
    for candidate in range(low, high + 1):
        if candidate not in used:
            return candidate
    from kube_lite.api import errors

    raise errors.internal_error("failed to allocate a nodePort: range is full")


_APPROVAL_CONDITIONS = ("Approved", "Denied")


class CertificateSigningRequestStrategy(Strategy):
    """The requester is recorded on create; approval conditions change only through the
    approval subresource, the certificate and other conditions only through status."""

    def record_requester(self, obj: dict[str, Any], user: UserInfo) -> None:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        for field in ("username", "uid", "groups", "extra"):
            spec.pop(field, None)
        spec["username"] = user.name
        if user.uid:
            spec["uid"] = user.uid
        if user.groups:
            spec["groups"] = list(user.groups)
        if user.extra:
            spec["extra"] = {k: list(v) for k, v in user.extra.items()}

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any], subresource: str) -> dict[str, Any]:
        if subresource not in ("approval", "status"):
            return super().prepare_for_update(new, old, subresource)
        merged = copy.deepcopy(old)
        old_status = old.get("status") if isinstance(old.get("status"), dict) else {}
        new_status = new.get("status") if isinstance(new.get("status"), dict) else {}
        old_conditions = [c for c in old_status.get("conditions") or [] if isinstance(c, dict)]
        new_conditions = [c for c in new_status.get("conditions") or [] if isinstance(c, dict)]
        if subresource == "approval":
            # approval decisions from the request, every other condition as it was
            conditions = [c for c in new_conditions if c.get("type") in _APPROVAL_CONDITIONS]
            conditions += [c for c in old_conditions if c.get("type") not in _APPROVAL_CONDITIONS]
            status = dict(old_status)
        else:
            conditions = [c for c in old_conditions if c.get("type") in _APPROVAL_CONDITIONS]
            conditions += [c for c in new_conditions if c.get("type") not in _APPROVAL_CONDITIONS]
            status = {k: v for k, v in new_status.items() if k != "conditions"}
        if conditions:
            status["conditions"] = conditions
        else:
            status.pop("conditions", None)
        if status:
            merged["status"] = status
        else:
            merged.pop("status", None)
        return merged


_STRATEGIES: dict[tuple[str, str], type[Strategy]] = {
    ("events.k8s.io", "events"): EventsV1Strategy,
    ("certificates.k8s.io", "certificatesigningrequests"): CertificateSigningRequestStrategy,
    ("batch", "jobs"): JobStrategy,
    ("apps", "daemonsets"): DaemonSetStrategy,
    ("", "services"): ServiceStrategy,
    ("", "pods"): PodStrategy,
    ("", "namespaces"): NamespaceStrategy,
    ("", "secrets"): SecretStrategy,
}


@cache
def _strategy_for(kind: KindInfo) -> Strategy:
    return _STRATEGIES.get((kind.group, kind.plural), Strategy)(kind)


# KindInfo objects by identity: hashing a KindInfo hashes all its fields, and a write asks for
# its kind's strategy several times. The entry holds the KindInfo, so its id is not reused.
_BY_IDENTITY: dict[int, tuple[KindInfo, Strategy]] = {}


def strategy_for(kind: KindInfo) -> Strategy:
    """The strategy of `kind` (one per equal KindInfo)."""
    entry = _BY_IDENTITY.get(id(kind))
    if entry is not None and entry[0] is kind:
        return entry[1]
    strategy = _strategy_for(kind)
    _BY_IDENTITY[id(kind)] = (kind, strategy)
    return strategy
