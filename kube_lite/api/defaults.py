"""Kubernetes' defaulting, written into kube-lite's Structs in place.

`default_object(obj)` fills in what Kubernetes' defaulting functions fill in for the object's
kind (``SetObjectDefaults_*`` of core/v1, apps/v1, batch/v1, rbac/v1, discovery/v1), so that a
minimal object reads back as ``kubectl get -o yaml`` shows it from a real cluster:

* Pod: restartPolicy Always, dnsPolicy ClusterFirst, schedulerName default-scheduler,
  terminationGracePeriodSeconds 30, securityContext {}, enableServiceLinks true; containers'
  imagePullPolicy (Always for ``:latest`` or no tag, else IfNotPresent), terminationMessagePath
  and Policy, port protocol TCP, probes' timings and httpGet path/scheme, limits copied into
  missing requests and every resource quantity rounded up to milli precision and written in
  canonical form; volumes (emptyDir when sourceless, file modes 0644, token expiry 3600 s,
  hostPath type ""); hostPort = containerPort under hostNetwork.
* Pod templates of PodTemplate, ReplicationController, Deployment, ReplicaSet, DaemonSet,
  StatefulSet, Job and CronJob: the PodSpec, container, probe and volume defaults (not the
  Pod-only ones: no enableServiceLinks, no limits-to-requests).
* Service: type ClusterIP, sessionAffinity None (ClientIP timeout 10800 s), port protocol TCP,
  targetPort = port, externalTrafficPolicy Cluster when externally reachable,
  internalTrafficPolicy Cluster, allocateLoadBalancerNodePorts true for LoadBalancer; and the
  address-family fields the REST layer fills on create (clusterIPs from clusterIP,
  ipFamilyPolicy SingleStack or RequireDualStack for selectorless headless services,
  ipFamilies from the cluster IPs, else IPv4).
* Deployment, ReplicaSet, DaemonSet, StatefulSet, Job, CronJob, ReplicationController: the
  apps/v1 and batch/v1 defaults (replicas 1, strategies, revisionHistoryLimit 10, ...).
* Secret type Opaque; Namespace label ``kubernetes.io/metadata.name`` and phase Active; PV and
  PVC volumeMode Filesystem and phase Pending; Node allocatable = capacity; LimitRange items;
  RoleBinding roleRef.apiGroup and subjects' apiGroup; EndpointSlice port name and protocol.

Defaulting is idempotent and never overwrites a value the user set. It does not raise on
malformed content (an unparsable quantity is left alone for validation to report).

Create-time steps that are not defaulting in Kubernetes but that kube-lite's registry needs
live here too: `generate_job_selector` (the Job strategy's PrepareForCreate).
"""

from __future__ import annotations

import functools
import re
import typing
from collections.abc import Callable, Iterable, MutableMapping
from functools import cache
from typing import Any

import msgspec

from kube_lite.api.quantity import QuantityError, parse_quantity

__all__ = ["default_object", "default_pod_spec", "generate_job_selector", "image_pull_policy"]


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


@cache
def _field_struct_types(cls: type) -> dict[str, type]:
    """For each field of a Struct class, the Struct type its annotation names (if any)."""
    hints = typing.get_type_hints(cls)
    out: dict[str, type] = {}
    for field in msgspec.structs.fields(cls):
        for arg in _flatten(hints.get(field.name)):
            if isinstance(arg, type) and issubclass(arg, msgspec.Struct):
                out[field.name] = arg
                break
    return out


def _flatten(annotation: Any) -> Iterable[Any]:
    args = typing.get_args(annotation)
    if not args:
        yield annotation
        return
    for arg in args:
        yield from _flatten(arg)


def _ensure(obj: Any, name: str) -> Any:
    """obj.name, created empty (as its annotated Struct type) when unset."""
    value = getattr(obj, name, None)
    if value is None:
        struct_type = _field_struct_types(type(obj)).get(name)
        if struct_type is None:
            return None
        value = struct_type()
        setattr(obj, name, value)
    return value


def _set(obj: Any, name: str, value: Any) -> None:
    """obj.name = value when unset (None or "") and the field exists."""
    if obj is None or not hasattr(obj, name):
        return
    if getattr(obj, name) in (None, ""):
        setattr(obj, name, value)


def _items(obj: Any, name: str) -> list[Any]:
    return list(getattr(obj, name, None) or ())


# ---------------------------------------------------------------------------------------------
# Quantities (SetDefaults_ResourceList and canonical serialization)
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=2048)
def _rounded_str(raw: str) -> str:
    return str(parse_quantity(raw).round_up(-3))


def _rounded(raw: Any) -> str:
    """A quantity rounded up to milli precision, in canonical form; remembered for strings,
    since the same few are written on every pod. Raises QuantityError."""
    if type(raw) is str:
        return _rounded_str(raw)
    return str(parse_quantity(raw).round_up(-3))


def _round_resource_list(resources: MutableMapping[str, Any] | None) -> None:
    """Round each quantity up to milli precision and write it in canonical form, as
    SetDefaults_ResourceList and Quantity's JSON encoding do together."""
    if not resources:
        return
    for key, raw in list(resources.items()):
        try:
            resources[key] = _rounded(raw)
        except QuantityError:
            continue


def _canonical_quantity(obj: Any, name: str) -> None:
    raw = getattr(obj, name, None)
    if raw is None:
        return
    try:
        setattr(obj, name, str(parse_quantity(raw)))
    except QuantityError:
        pass


# ---------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------

# The Docker reference grammar (distribution/reference), enough to find an image's tag.
_ALNUM = "[a-z0-9]+"
_SEPARATOR = "(?:[._]|__|-+)"
_PATH_COMPONENT = f"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_TAG = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(rf"(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?")


def _image_tag(image: str) -> str:
    """The tag Kubernetes' ParseImageName finds: "latest" when there is neither tag nor digest,
    "" when the reference does not parse."""
    match = _REFERENCE.fullmatch(image)
    if match is None or len(image) > 255:
        return ""
    domain = match.group("domain")
    if domain is not None and "." not in domain and ":" not in domain and domain != "localhost":
        # Not a registry host after all: then it is a path component, which must be lowercase.
        if not re.fullmatch(_PATH_COMPONENT, domain):
            return ""
    tag, digest = match.group("tag"), match.group("digest")
    if not tag and not digest:
        return "latest"
    return tag or ""


@functools.lru_cache(maxsize=1024)
def _pull_policy(image: str) -> str:
    return "Always" if _image_tag(image) == "latest" else "IfNotPresent"


def image_pull_policy(image: str | None) -> str:
    """The default imagePullPolicy for `image`: Always for ``:latest`` or an image with neither
    tag nor digest, IfNotPresent otherwise (including digests and unparsable references)."""
    return _pull_policy(image or "")


# ---------------------------------------------------------------------------------------------
# PodSpec, containers, probes, volumes
# ---------------------------------------------------------------------------------------------


def _default_http_get(action: Any) -> None:
    if action is not None:
        _set(action, "path", "/")
        _set(action, "scheme", "HTTP")


def _default_probe(probe: Any) -> None:
    if probe is None:
        return
    for name, value in (("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1), ("failureThreshold", 3)):
        if not getattr(probe, name, None):
            setattr(probe, name, value)
    _default_http_get(getattr(probe, "httpGet", None))
    grpc = getattr(probe, "grpc", None)
    if grpc is not None and grpc.service is None:
        grpc.service = ""


def _default_field_ref(ref: Any) -> None:
    if ref is not None:
        _set(ref, "apiVersion", "v1")


def _default_container(container: Any) -> None:
    if not getattr(container, "imagePullPolicy", None):
        container.imagePullPolicy = image_pull_policy(getattr(container, "image", None))
    _set(container, "terminationMessagePath", "/dev/termination-log")
    _set(container, "terminationMessagePolicy", "File")
    for port in _items(container, "ports"):
        _set(port, "protocol", "TCP")
    for var in _items(container, "env"):
        value_from = getattr(var, "valueFrom", None)
        if value_from is not None:
            _default_field_ref(getattr(value_from, "fieldRef", None))
            field_ref = getattr(value_from, "resourceFieldRef", None)
            if field_ref is not None:
                _canonical_quantity(field_ref, "divisor")
    resources = getattr(container, "resources", None)
    if resources is not None:
        _round_resource_list(resources.limits)
        _round_resource_list(resources.requests)
    for name in ("livenessProbe", "readinessProbe", "startupProbe"):
        _default_probe(getattr(container, name, None))
    lifecycle = getattr(container, "lifecycle", None)
    if lifecycle is not None:
        for hook in ("postStart", "preStop"):
            handler = getattr(lifecycle, hook, None)
            if handler is not None:
                _default_http_get(getattr(handler, "httpGet", None))


_VOLUME_SOURCE_FIELDS = (
    "awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "configMap", "csi", "downwardAPI",
    "emptyDir", "ephemeral", "fc", "flexVolume", "flocker", "gcePersistentDisk", "gitRepo", "glusterfs",
    "hostPath", "image", "iscsi", "nfs", "persistentVolumeClaim", "photonPersistentDisk", "portworxVolume",
    "projected", "quobyte", "rbd", "scaleIO", "secret", "storageos", "vsphereVolume",
)


def _default_volume(volume: Any) -> None:
    if all(getattr(volume, name, None) is None for name in _VOLUME_SOURCE_FIELDS):
        _ensure(volume, "emptyDir")
    image = getattr(volume, "image", None)
    if image is not None:
        _set(image, "pullPolicy", image_pull_policy(getattr(image, "reference", None)))
    host_path = getattr(volume, "hostPath", None)
    if host_path is not None and host_path.type is None:
        host_path.type = ""
    for name in ("secret", "configMap", "downwardAPI", "projected"):
        source = getattr(volume, name, None)
        if source is not None and getattr(source, "defaultMode", None) is None:
            source.defaultMode = 0o644
    downward = getattr(volume, "downwardAPI", None)
    for item in _items(downward, "items"):
        _default_field_ref(getattr(item, "fieldRef", None))
        if getattr(item, "resourceFieldRef", None) is not None:
            _canonical_quantity(item.resourceFieldRef, "divisor")
    for source in _items(getattr(volume, "projected", None), "sources"):
        for item in _items(getattr(source, "downwardAPI", None), "items"):
            _default_field_ref(getattr(item, "fieldRef", None))
        token = getattr(source, "serviceAccountToken", None)
        if token is not None and token.expirationSeconds is None:
            token.expirationSeconds = 3600
    empty_dir = getattr(volume, "emptyDir", None)
    if empty_dir is not None:
        _canonical_quantity(empty_dir, "sizeLimit")
    iscsi = getattr(volume, "iscsi", None)
    if iscsi is not None:
        _set(iscsi, "iscsiInterface", "default")
    rbd = getattr(volume, "rbd", None)
    if rbd is not None:
        _set(rbd, "pool", "rbd")
        _set(rbd, "user", "admin")
        _set(rbd, "keyring", "/etc/ceph/keyring")
    azure_disk = getattr(volume, "azureDisk", None)
    if azure_disk is not None:
        for name, value in (("cachingMode", "ReadWrite"), ("fsType", "ext4"), ("readOnly", False), ("kind", "Shared")):
            if getattr(azure_disk, name, None) is None:
                setattr(azure_disk, name, value)
    scale_io = getattr(volume, "scaleIO", None)
    if scale_io is not None:
        _set(scale_io, "storageMode", "ThinProvisioned")
        _set(scale_io, "fsType", "xfs")
    ephemeral = getattr(volume, "ephemeral", None)
    claim_template = getattr(ephemeral, "volumeClaimTemplate", None) if ephemeral is not None else None
    if claim_template is not None:
        _default_pvc_spec(_ensure(claim_template, "spec"))


def default_pod_spec(spec: Any) -> None:
    """The defaults of a PodSpec wherever it appears (pods and every pod template)."""
    if spec is None:
        return
    _set(spec, "dnsPolicy", "ClusterFirst")
    _set(spec, "restartPolicy", "Always")
    _ensure(spec, "securityContext")
    if getattr(spec, "terminationGracePeriodSeconds", None) is None:
        spec.terminationGracePeriodSeconds = 30
    _set(spec, "schedulerName", "default-scheduler")
    for volume in _items(spec, "volumes"):
        _default_volume(volume)
    for name in ("initContainers", "containers", "ephemeralContainers"):
        for container in _items(spec, name):
            _default_container(container)
    overhead = getattr(spec, "overhead", None)
    _round_resource_list(overhead)
    pod_resources = getattr(spec, "resources", None)
    if pod_resources is not None:
        _round_resource_list(pod_resources.limits)
        _round_resource_list(pod_resources.requests)


def _default_template(template: Any) -> None:
    if template is not None:
        default_pod_spec(_ensure(template, "spec"))


def _default_pod(pod: Any) -> None:
    spec = _ensure(pod, "spec")
    if spec is None:
        return
    # Pod only: a limit with no request becomes the request (before quantities are rounded).
    for name in ("containers", "initContainers"):
        for container in _items(spec, name):
            resources = getattr(container, "resources", None)
            if resources is None or resources.limits is None:
                continue
            if resources.requests is None:
                resources.requests = {}
            for key, value in resources.limits.items():
                resources.requests.setdefault(key, value)
    if spec.enableServiceLinks is None:
        spec.enableServiceLinks = True
    if spec.hostNetwork:
        for name in ("containers", "initContainers"):
            for container in _items(spec, name):
                for port in _items(container, "ports"):
                    if not port.hostPort:
                        port.hostPort = port.containerPort
    default_pod_spec(spec)
    for name in ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses"):
        for status in _items(getattr(pod, "status", None), name):
            _round_resource_list(getattr(status, "allocatedResources", None))
            resources = getattr(status, "resources", None)
            if resources is not None:
                _round_resource_list(resources.limits)
                _round_resource_list(resources.requests)


# ---------------------------------------------------------------------------------------------
# Other core kinds
# ---------------------------------------------------------------------------------------------


def _externally_accessible(spec: Any) -> bool:
    kind = spec.type
    return kind in ("LoadBalancer", "NodePort") or (kind == "ClusterIP" and bool(spec.externalIPs))


def _ip_family(ip: str) -> str | None:
    if ip and ip != "None":
        return "IPv6" if ":" in ip else "IPv4"
    return None


def _default_service(service: Any) -> None:
    spec = _ensure(service, "spec")
    if spec is None:
        return
    _set(spec, "sessionAffinity", "None")
    if spec.sessionAffinity == "None":
        spec.sessionAffinityConfig = None
    elif spec.sessionAffinity == "ClientIP":
        config = spec.sessionAffinityConfig
        if config is None or config.clientIP is None or config.clientIP.timeoutSeconds is None:
            config = _ensure(spec, "sessionAffinityConfig")
            client_ip = _ensure(config, "clientIP")
            client_ip.timeoutSeconds = 10800
    _set(spec, "type", "ClusterIP")
    for port in _items(spec, "ports"):
        _set(port, "protocol", "TCP")
        if port.targetPort in (None, 0, ""):
            port.targetPort = port.port
    if _externally_accessible(spec):
        _set(spec, "externalTrafficPolicy", "Cluster")
    if spec.internalTrafficPolicy is None and spec.type in ("NodePort", "LoadBalancer", "ClusterIP"):
        spec.internalTrafficPolicy = "Cluster"
    if spec.type == "LoadBalancer" and spec.allocateLoadBalancerNodePorts is None:
        spec.allocateLoadBalancerNodePorts = True
    if spec.type == "LoadBalancer":
        load_balancer = getattr(getattr(service, "status", None), "loadBalancer", None)
        for ingress in _items(load_balancer, "ingress"):
            if ingress.ip and ingress.ipMode is None:
                ingress.ipMode = "VIP"
    if spec.type == "ExternalName":
        return
    # What the REST layer fills in on create (single-stack IPv4 cluster unless IPs say otherwise).
    if spec.clusterIP and not spec.clusterIPs:
        spec.clusterIPs = [spec.clusterIP]
    headless = bool(spec.clusterIPs) and spec.clusterIPs[0] == "None"
    if spec.ipFamilyPolicy is None:
        spec.ipFamilyPolicy = "RequireDualStack" if headless and not spec.selector else "SingleStack"
    if not spec.ipFamilies:
        families = [f for f in (_ip_family(ip) for ip in spec.clusterIPs or ()) if f]
        spec.ipFamilies = families or ["IPv4"]


def _default_pvc_spec(spec: Any) -> None:
    if spec is None:
        return
    if getattr(spec, "volumeMode", None) is None:
        spec.volumeMode = "Filesystem"
    resources = getattr(spec, "resources", None)
    if resources is not None:
        _round_resource_list(getattr(resources, "limits", None))
        _round_resource_list(getattr(resources, "requests", None))


def _default_pvc(claim: Any) -> None:
    _default_pvc_spec(_ensure(claim, "spec"))
    status = _ensure(claim, "status")
    if status is not None:
        _set(status, "phase", "Pending")
        _round_resource_list(getattr(status, "capacity", None))
        _round_resource_list(getattr(status, "allocatedResources", None))


def _default_pv(volume: Any) -> None:
    spec = _ensure(volume, "spec")
    if spec is not None:
        _set(spec, "persistentVolumeReclaimPolicy", "Retain")
        if spec.volumeMode is None:
            spec.volumeMode = "Filesystem"
        _round_resource_list(getattr(spec, "capacity", None))
        host_path = getattr(spec, "hostPath", None)
        if host_path is not None and host_path.type is None:
            host_path.type = ""
    status = _ensure(volume, "status")
    if status is not None:
        _set(status, "phase", "Pending")


def _default_namespace(namespace: Any) -> None:
    meta = _ensure(namespace, "metadata")
    if meta is not None and meta.name:
        if meta.labels is None:
            meta.labels = {}
        meta.labels["kubernetes.io/metadata.name"] = meta.name
    status = _ensure(namespace, "status")
    if status is not None:
        _set(status, "phase", "Active")


def _default_node(node: Any) -> None:
    status = getattr(node, "status", None)
    if status is None:
        return
    if status.allocatable is None and status.capacity is not None:
        status.allocatable = dict(status.capacity)
    _round_resource_list(status.capacity)
    _round_resource_list(status.allocatable)


def _default_limit_range(limit_range: Any) -> None:
    for item in _items(getattr(limit_range, "spec", None), "limits"):
        if item.type == "Container":
            if item.default is None:
                item.default = {}
            if item.defaultRequest is None:
                item.defaultRequest = {}
            for key, value in (item.max or {}).items():
                item.default.setdefault(key, value)
            for key, value in item.default.items():
                item.defaultRequest.setdefault(key, value)
            for key, value in (item.min or {}).items():
                item.defaultRequest.setdefault(key, value)
        for name in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio"):
            _round_resource_list(getattr(item, name, None))


def _default_resource_quota(quota: Any) -> None:
    _round_resource_list(getattr(getattr(quota, "spec", None), "hard", None))
    status = getattr(quota, "status", None)
    _round_resource_list(getattr(status, "hard", None))
    _round_resource_list(getattr(status, "used", None))


def _default_endpoints(endpoints: Any) -> None:
    for subset in _items(endpoints, "subsets"):
        for port in _items(subset, "ports"):
            _set(port, "protocol", "TCP")


def _default_endpoint_slice(slice_: Any) -> None:
    for port in _items(slice_, "ports"):
        if port.name is None:
            port.name = ""
        _set(port, "protocol", "TCP")


def _default_replication_controller(rc: Any) -> None:
    spec = _ensure(rc, "spec")
    template = getattr(spec, "template", None)
    labels = getattr(getattr(template, "metadata", None), "labels", None)
    if labels is not None:
        if not spec.selector:
            spec.selector = dict(labels)
        meta = _ensure(rc, "metadata")
        if not meta.labels:
            meta.labels = dict(labels)
    if spec.replicas is None:
        spec.replicas = 1
    _default_template(template)


# ---------------------------------------------------------------------------------------------
# apps/v1
# ---------------------------------------------------------------------------------------------


def _default_deployment(deployment: Any) -> None:
    spec = _ensure(deployment, "spec")
    if spec.replicas is None:
        spec.replicas = 1
    strategy = _ensure(spec, "strategy")
    _set(strategy, "type", "RollingUpdate")
    if strategy.type == "RollingUpdate":
        rolling = _ensure(strategy, "rollingUpdate")
        if rolling.maxUnavailable is None:
            rolling.maxUnavailable = "25%"
        if rolling.maxSurge is None:
            rolling.maxSurge = "25%"
    if spec.revisionHistoryLimit is None:
        spec.revisionHistoryLimit = 10
    if spec.progressDeadlineSeconds is None:
        spec.progressDeadlineSeconds = 600
    _default_template(_ensure(spec, "template"))


def _default_replica_set(replica_set: Any) -> None:
    spec = _ensure(replica_set, "spec")
    if spec.replicas is None:
        spec.replicas = 1
    _default_template(_ensure(spec, "template"))


def _default_daemon_set(daemon_set: Any) -> None:
    spec = _ensure(daemon_set, "spec")
    strategy = _ensure(spec, "updateStrategy")
    _set(strategy, "type", "RollingUpdate")
    if strategy.type == "RollingUpdate":
        rolling = _ensure(strategy, "rollingUpdate")
        if rolling.maxUnavailable is None:
            rolling.maxUnavailable = 1
        if rolling.maxSurge is None:
            rolling.maxSurge = 0
    if spec.revisionHistoryLimit is None:
        spec.revisionHistoryLimit = 10
    _default_template(_ensure(spec, "template"))


def _default_stateful_set(stateful_set: Any) -> None:
    spec = _ensure(stateful_set, "spec")
    _set(spec, "podManagementPolicy", "OrderedReady")
    strategy = _ensure(spec, "updateStrategy")
    if not strategy.type:
        strategy.type = "RollingUpdate"
        # Only a strategy that had no type gets an (empty) rollingUpdate to default.
        _ensure(strategy, "rollingUpdate")
    if strategy.type == "RollingUpdate" and strategy.rollingUpdate is not None:
        if strategy.rollingUpdate.partition is None:
            strategy.rollingUpdate.partition = 0
    retention = _ensure(spec, "persistentVolumeClaimRetentionPolicy")
    _set(retention, "whenDeleted", "Retain")
    _set(retention, "whenScaled", "Retain")
    if spec.replicas is None:
        spec.replicas = 1
    if spec.revisionHistoryLimit is None:
        spec.revisionHistoryLimit = 10
    _default_template(_ensure(spec, "template"))
    for claim in _items(spec, "volumeClaimTemplates"):
        _default_pvc(claim)


# ---------------------------------------------------------------------------------------------
# batch/v1
# ---------------------------------------------------------------------------------------------


def _default_job(job: Any) -> None:
    spec = _ensure(job, "spec")
    if spec.completions is None and spec.parallelism is None:
        spec.completions = 1
        spec.parallelism = 1
    if spec.parallelism is None:
        spec.parallelism = 1
    if spec.backoffLimit is None:
        spec.backoffLimit = 2147483647 if spec.backoffLimitPerIndex is not None else 6
    template = _ensure(spec, "template")
    labels = getattr(getattr(template, "metadata", None), "labels", None)
    if labels is not None:
        meta = _ensure(job, "metadata")
        if not meta.labels:
            meta.labels = dict(labels)
    if spec.completionMode is None:
        spec.completionMode = "NonIndexed"
    if spec.suspend is None:
        spec.suspend = False
    failure_policy = spec.podFailurePolicy
    if failure_policy is not None:
        for rule in _items(failure_policy, "rules"):
            for pattern in _items(rule, "onPodConditions"):
                _set(pattern, "status", "True")
    if spec.podReplacementPolicy is None:
        spec.podReplacementPolicy = "Failed" if failure_policy is not None else "TerminatingOrFailed"
    if spec.manualSelector is None:
        spec.manualSelector = False
    _default_template(template)


def _default_cron_job(cron_job: Any) -> None:
    spec = _ensure(cron_job, "spec")
    _set(spec, "concurrencyPolicy", "Allow")
    if spec.suspend is None:
        spec.suspend = False
    if spec.successfulJobsHistoryLimit is None:
        spec.successfulJobsHistoryLimit = 3
    if spec.failedJobsHistoryLimit is None:
        spec.failedJobsHistoryLimit = 1
    job_spec = _ensure(_ensure(spec, "jobTemplate"), "spec")
    _default_template(_ensure(job_spec, "template"))


def generate_job_selector(job: Any) -> None:
    """Give a Job without ``manualSelector: true`` its generated selector and pod labels, as
    Kubernetes' Job strategy does on create (before validation): template labels
    ``controller-uid``/``batch.kubernetes.io/controller-uid`` = metadata.uid and
    ``job-name``/``batch.kubernetes.io/job-name`` = metadata.name (labels the user set are
    kept, and validation then rejects a mismatch), and ``matchLabels`` selecting
    ``batch.kubernetes.io/controller-uid``. Works on a Job Struct or its dict form."""
    def get(obj: Any, name: str) -> Any:
        return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)

    def ensure(obj: Any, name: str, factory: Callable[[], Any]) -> Any:
        value = get(obj, name)
        if value is None:
            value = factory() if isinstance(obj, dict) else _ensure(obj, name)
            if isinstance(obj, dict):
                obj[name] = value
        return value

    spec = ensure(job, "spec", dict)
    if get(spec, "manualSelector"):
        return
    meta = get(job, "metadata")
    uid = str(get(meta, "uid") or "") if meta is not None else ""
    name = str(get(meta, "name") or "") if meta is not None else ""
    template_meta = ensure(ensure(spec, "template", dict), "metadata", dict)
    labels = get(template_meta, "labels")
    if labels is None:
        labels = {}
        if isinstance(template_meta, dict):
            template_meta["labels"] = labels
        else:
            template_meta.labels = labels
    for key in ("job-name", "batch.kubernetes.io/job-name"):
        labels.setdefault(key, name)
    for key in ("controller-uid", "batch.kubernetes.io/controller-uid"):
        labels.setdefault(key, uid)
    selector = ensure(spec, "selector", dict)
    match_labels = get(selector, "matchLabels")
    if match_labels is None:
        match_labels = {}
        if isinstance(selector, dict):
            selector["matchLabels"] = match_labels
        else:
            selector.matchLabels = match_labels
    match_labels.setdefault("batch.kubernetes.io/controller-uid", uid)


# ---------------------------------------------------------------------------------------------
# rbac/v1
# ---------------------------------------------------------------------------------------------

_RBAC_GROUP = "rbac.authorization.k8s.io"


def _default_binding(binding: Any) -> None:
    role_ref = getattr(binding, "roleRef", None)
    if role_ref is not None:
        _set(role_ref, "apiGroup", _RBAC_GROUP)
    for subject in _items(binding, "subjects"):
        # ServiceAccount subjects default to the core group, which is "" and omitted.
        if not subject.apiGroup and subject.kind in ("User", "Group"):
            subject.apiGroup = _RBAC_GROUP


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def _default_storage_class(storage_class: Any) -> None:
    _set(storage_class, "reclaimPolicy", "Delete")
    _set(storage_class, "volumeBindingMode", "Immediate")


def _default_secret(secret: Any) -> None:
    _set(secret, "type", "Opaque")


def _default_pod_template(template: Any) -> None:
    _default_template(_ensure(template, "template"))


_DEFAULTERS: dict[tuple[str, str], Callable[[Any], None]] = {
    ("", "Pod"): _default_pod,
    ("", "PodTemplate"): _default_pod_template,
    ("", "ReplicationController"): _default_replication_controller,
    ("", "Service"): _default_service,
    ("", "Secret"): _default_secret,
    ("", "Namespace"): _default_namespace,
    ("", "Node"): _default_node,
    ("", "PersistentVolume"): _default_pv,
    ("", "PersistentVolumeClaim"): _default_pvc,
    ("", "LimitRange"): _default_limit_range,
    ("", "ResourceQuota"): _default_resource_quota,
    ("", "Endpoints"): _default_endpoints,
    ("discovery.k8s.io", "EndpointSlice"): _default_endpoint_slice,
    ("storage.k8s.io", "StorageClass"): _default_storage_class,
    ("apps", "Deployment"): _default_deployment,
    ("apps", "ReplicaSet"): _default_replica_set,
    ("apps", "DaemonSet"): _default_daemon_set,
    ("apps", "StatefulSet"): _default_stateful_set,
    ("batch", "Job"): _default_job,
    ("batch", "CronJob"): _default_cron_job,
    (_RBAC_GROUP, "RoleBinding"): _default_binding,
    (_RBAC_GROUP, "ClusterRoleBinding"): _default_binding,
}


def default_object(obj: Any) -> None:
    """Write Kubernetes' defaults for the object's kind into `obj` in place.

    Dispatches on the Struct class name and `group`; kinds without defaults are left as they
    are. Idempotent, never overwrites a set value, never raises on malformed content.
    """
    cls = type(obj)
    defaulter = _DEFAULTERS.get((getattr(cls, "group", ""), cls.__name__))
    if defaulter is not None:
        defaulter(obj)
