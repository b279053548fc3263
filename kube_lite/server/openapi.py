"""The API server's OpenAPI documents, generated from kube-lite's own Structs.

Three documents, all built from the kind registry and the msgspec Structs of kube_lite.api:

- `/openapi/v2`: one Swagger 2.0 document with every definition and path, as JSON or as
  gnostic's openapi.v2.Document protobuf (the only form kubectl reads; see `negotiate_v2`);
- `/openapi/v3`: a small index, `{"paths": {"api/v1": {"serverRelativeURL":
  "/openapi/v3/api/v1?hash=..."}, "apis/apps/v1": ...}}`, whose hash is the upper-case hex
  SHA-512 of the group-version document's bytes (so a client's cache entry is invalidated
  exactly when the document changes);
- `/openapi/v3/api/v1`, `/openapi/v3/apis/{group}/{version}`: one OpenAPI 3.0 document per
  group-version, holding that group-version's paths and every schema they reach.

What kubectl reads, and therefore what must be exact:

- Definitions are named as Kubernetes names them ("io.k8s.api.core.v1.Pod",
  "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"); a top-level kind carries
  `x-kubernetes-group-version-kind` as a list of {group, kind, version}.
- `kubectl explain` (v3) finds a resource's kind from the `x-kubernetes-group-version-kind` of
  the operations on its paths (`/api/v1/namespaces/{namespace}/pods` and so on), then the
  schema whose GVK list contains it, and follows `$ref`s, `allOf`, `items` and
  `additionalProperties` from there.
- `kubectl apply` computes its strategic merge patch from the v3 document first: it looks for a
  PATCH operation with the kind's GVK whose request body accepts
  `application/strategic-merge-patch+json`, then walks the kind's schema reading
  `x-kubernetes-patch-merge-key` and `x-kubernetes-patch-strategy` on each property. Those
  extensions therefore sit on the property itself (beside `allOf`, or on the array schema of a
  list), never inside the referenced definition. If the v3 walk fails, kubectl falls back to
  the v2 document (which it only reads as protobuf) and then to its compiled-in types.
- kubectl decides between server-side and client-side validation by looking for the
  `fieldValidation` query parameter on those PATCH operations, so they list it. A document
  whose kind has no such operation (`kind: List`) is validated client-side against the v2
  protobuf, so `kubectl create -f list.yaml` needs that one too.

In v3, a `$ref` that needs siblings (a description, patch extensions) is wrapped as
`{"allOf": [{"$ref": ...}], ...}` as Kubernetes publishes it; v2 keeps the siblings beside the
`$ref`. Quantity and IntOrString are `oneOf` in v3 and strings with a format in v2.

Each definition lists its `required` fields as Kubernetes does (the table of
kube_lite.api.required): `kubectl explain` marks them `-required-`, and kubectl's client-side
validation of a `kind: List` file refuses an item that lacks one, exactly as against Kubernetes.

Descriptions are kube-lite's own: a Struct's docstring, a table of the main fields below, or a
short sentence made from the field's name.

Every public function is pure (registry and optional custom-resource schemas in, dict or
bytes out); the bytes-returning ones cache their result per registry state.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import inspect
import json
import re
import struct
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Union

import msgspec

from kube_lite.api.registry import KindInfo, KindRegistry
from kube_lite.api.required import required_fields

# ---- names


class _Time:
    """Marker substituted for the `Time` alias while reading annotations."""


class _Quantity:
    """Marker substituted for the `Quantity` alias while reading annotations."""


class _IntOrString:
    """Marker substituted for the `IntOrString` alias while reading annotations."""


class _RawExtension:
    """Marker substituted for the `RawExtension` alias while reading annotations."""


# The aliases of kube_lite.api.base erase to plain Python types (Time is str), so annotations
# are evaluated a second time with these markers in scope to tell them apart.
_MARKERS: dict[str, Any] = {
    "Time": _Time,
    "Quantity": _Quantity,
    "IntOrString": _IntOrString,
    "RawExtension": _RawExtension,
}

META = "io.k8s.apimachinery.pkg.apis.meta.v1"
TIME = f"{META}.Time"
MICRO_TIME = f"{META}.MicroTime"
FIELDS_V1 = f"{META}.FieldsV1"
OBJECT_META = f"{META}.ObjectMeta"
LIST_META = f"{META}.ListMeta"
STATUS = f"{META}.Status"
DELETE_OPTIONS = f"{META}.DeleteOptions"
PATCH = f"{META}.Patch"
WATCH_EVENT = f"{META}.WatchEvent"
API_RESOURCE_LIST = f"{META}.APIResourceList"
API_RESOURCE = f"{META}.APIResource"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
RAW_EXTENSION = "io.k8s.apimachinery.pkg.runtime.RawExtension"
APIEXT = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1"
SCALE = "io.k8s.api.autoscaling.v1.Scale"

# kube_lite.api module -> the Go package path Kubernetes names its definitions after.
_PACKAGES: dict[str, str] = {
    "kube_lite.api.meta": META,
    "kube_lite.api.core": "io.k8s.api.core.v1",
    "kube_lite.api.apps": "io.k8s.api.apps.v1",
    "kube_lite.api.batch": "io.k8s.api.batch.v1",
    "kube_lite.api.authentication": "io.k8s.api.authentication.v1",
    "kube_lite.api.authorization": "io.k8s.api.authorization.v1",
    "kube_lite.api.certificates": "io.k8s.api.certificates.v1",
    "kube_lite.api.coordination": "io.k8s.api.coordination.v1",
    "kube_lite.api.discovery": "io.k8s.api.discovery.v1",
    "kube_lite.api.events": "io.k8s.api.events.v1",
    "kube_lite.api.policy": "io.k8s.api.policy.v1",
    "kube_lite.api.rbac": "io.k8s.api.rbac.v1",
    "kube_lite.api.scheduling": "io.k8s.api.scheduling.v1",
    "kube_lite.api.storage": "io.k8s.api.storage.v1",
    "kube_lite.api.apiextensions": APIEXT,
}

# Types kube-lite defines in another module than Kubernetes' package that owns them.
_RELOCATED: dict[str, str] = {
    "kube_lite.api.authorization:FieldSelectorRequirement": META,
    "kube_lite.api.storage:TopologySelectorTerm": "io.k8s.api.core.v1",
    "kube_lite.api.storage:TopologySelectorLabelRequirement": "io.k8s.api.core.v1",
}


def definition_name(cls: type) -> str:
    """The OpenAPI definition name of a kube-lite Struct, as Kubernetes names the Go type.

    "kube_lite.api.core:Pod" is "io.k8s.api.core.v1.Pod". A Struct from a module outside the
    table is named after its kind's group when it is a top-level kind, else after its module.
    """
    relocated = _RELOCATED.get(f"{cls.__module__}:{cls.__name__}")
    if relocated is not None:
        return f"{relocated}.{cls.__name__}"
    package = _PACKAGES.get(cls.__module__)
    if package is None:
        group = getattr(cls, "group", None)
        version = getattr(cls, "version", "v1")
        if isinstance(group, str) and group:
            package = f"io.k8s.api.{group.split('.')[0]}.{version}"
        else:
            package = f"io.k8s.api.{cls.__module__.rsplit('.', 1)[-1]}.v1"
    return f"{package}.{cls.__name__}"


def custom_definition_name(group: str, version: str, kind: str) -> str:
    """The definition name Kubernetes gives a custom resource: the group's labels reversed,
    then version and kind ("stable.example.com", "v1", "CronTab" ->
    "com.example.stable.v1.CronTab")."""
    return ".".join([*reversed(group.split(".")), version, kind])


def _list_definition_name(name: str, list_kind: str) -> str:
    return f"{name.rsplit('.', 1)[0]}.{list_kind}"


def _ref(name: str) -> dict[str, Any]:
    # The neutral form: a bare definition name; rendering makes it "#/definitions/..." (v2)
    # or "#/components/schemas/..." (v3).
    return {"$ref": name}


# ---- integer formats and special fields (facts from Kubernetes' published schemas)

# JSON names of integer fields that are int64 in Kubernetes (every other integer is int32).
_INT64_FIELDS = frozenset(
    {
        "activeDeadlineSeconds", "capacity", "defaultUser", "deletionGracePeriodSeconds", "expirationSeconds",
        "fsGroup", "generation", "gid", "gracePeriodSeconds", "limitBytes", "maxItems", "maxLength",
        "maxProperties", "minItems", "minLength", "minProperties", "nodeAllocatableUpdatePeriodSeconds",
        "observedGeneration", "remainingItemCount", "revision", "runAsGroup", "runAsUser", "seconds",
        "sinceSeconds", "sizeBytes", "startingDeadlineSeconds", "supplementalGroups", "tailLines",
        "terminationGracePeriodSeconds", "tolerationSeconds", "uid", "user",
    }
)
# (Struct, JSON field) pairs whose format differs from the rule above.
_INT_FORMAT_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("CertificateSigningRequestSpec", "expirationSeconds"): "int32",
}
# Time fields that are MicroTime (microsecond precision) rather than Time.
_MICRO_TIME_FIELDS = frozenset(
    {
        ("kube_lite.api.core:Event", "eventTime"),
        ("kube_lite.api.core:EventSeries", "lastObservedTime"),
        ("kube_lite.api.events:Event", "eventTime"),
        ("kube_lite.api.events:EventSeries", "lastObservedTime"),
        ("kube_lite.api.coordination:LeaseSpec", "acquireTime"),
        ("kube_lite.api.coordination:LeaseSpec", "renewTime"),
    }
)
# Fields whose Python type is looser than their schema: (Struct, JSON field) -> schema.
_FIELD_SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    ("ManagedFieldsEntry", "fieldsV1"): _ref(FIELDS_V1),
    ("JSONSchemaProps", "default"): _ref(f"{APIEXT}.JSON"),
    ("JSONSchemaProps", "example"): _ref(f"{APIEXT}.JSON"),
    ("JSONSchemaProps", "enum"): {"type": "array", "items": _ref(f"{APIEXT}.JSON")},
    ("JSONSchemaProps", "additionalProperties"): _ref(f"{APIEXT}.JSONSchemaPropsOrBool"),
    ("JSONSchemaProps", "additionalItems"): _ref(f"{APIEXT}.JSONSchemaPropsOrBool"),
    ("JSONSchemaProps", "items"): _ref(f"{APIEXT}.JSONSchemaPropsOrArray"),
    ("JSONSchemaProps", "dependencies"): {
        "type": "object",
        "additionalProperties": _ref(f"{APIEXT}.JSONSchemaPropsOrStringArray"),
    },
}

# ---- descriptions (kube-lite's own words)

_COMMON_FIELD_DOCS: dict[str, str] = {
    "apiVersion": "The versioned schema of this object, \"group/version\" or \"v1\" for the core group.",
    "kind": "The type of this object, in CamelCase (\"Pod\", \"Deployment\").",
    "metadata": "Name, namespace, labels, annotations and the other metadata every object has.",
    "spec": "The desired state, as written by the user or a controller.",
    "status": "The observed state, written by the system; read-only for most clients.",
}
_FIELD_DOCS: dict[tuple[str, str], str] = {
    ("ObjectMeta", "name"): "Unique name within the namespace (or the cluster, for cluster-scoped kinds).",
    ("ObjectMeta", "generateName"): "Prefix from which the server generates a unique name when name is empty.",
    ("ObjectMeta", "namespace"): "The namespace the object lives in; empty for cluster-scoped kinds.",
    ("ObjectMeta", "uid"): "Unique identifier the server assigns on creation; never reused.",
    ("ObjectMeta", "resourceVersion"): "Opaque version of the object, for optimistic concurrency and watches.",
    ("ObjectMeta", "generation"): "Sequence number of the desired state; bumped by the server on spec changes.",
    ("ObjectMeta", "creationTimestamp"): "When the server created the object (RFC 3339, UTC).",
    ("ObjectMeta", "deletionTimestamp"): "When graceful deletion was requested; set by the server.",
    ("ObjectMeta", "labels"): "Key/value pairs used to select and group objects.",
    ("ObjectMeta", "annotations"): "Key/value pairs for tools and controllers; not used for selection.",
    ("ObjectMeta", "ownerReferences"): "Objects this one depends on; the garbage collector deletes orphans.",
    ("ObjectMeta", "finalizers"): "Keys that must be removed before a deleted object goes away.",
    ("ObjectMeta", "managedFields"): "Which field manager set which fields (server-side apply bookkeeping).",
    ("ListMeta", "resourceVersion"): "The version of the collection the list was read at.",
    ("ListMeta", "continue"): "Token to pass as `continue` to read the next page of a paginated list.",
    ("PodSpec", "containers"): "The containers of the pod; at least one. Merged by name in patches.",
    ("PodSpec", "initContainers"): "Containers run in order to completion before the main containers start.",
    ("PodSpec", "volumes"): "Volumes the containers of the pod may mount.",
    ("PodSpec", "nodeName"): "The node the pod is bound to; set by the scheduler or by the user.",
    ("PodSpec", "nodeSelector"): "Labels a node must have for the pod to be scheduled onto it.",
    ("PodSpec", "restartPolicy"): "Always, OnFailure or Never: when the node agent restarts containers.",
    ("PodSpec", "serviceAccountName"): "The service account whose identity the pod runs with.",
    ("PodSpec", "tolerations"): "Taints the pod tolerates.",
    ("PodSpec", "affinity"): "Scheduling constraints relative to nodes and other pods.",
    ("PodSpec", "terminationGracePeriodSeconds"): "Seconds between the stop signal and a forced kill.",
    ("PodSpec", "hostNetwork"): "Run the pod in the node's network namespace.",
    ("PodSpec", "schedulerName"): "The scheduler that places this pod.",
    ("PodSpec", "priorityClassName"): "The PriorityClass that sets the pod's scheduling priority.",
    ("Container", "name"): "The container's name, unique within the pod.",
    ("Container", "image"): "The container image to run.",
    ("Container", "command"): "Entrypoint; replaces the image's ENTRYPOINT. Not run in a shell.",
    ("Container", "args"): "Arguments to the entrypoint; replace the image's CMD.",
    ("Container", "env"): "Environment variables set in the container. Merged by name in patches.",
    ("Container", "envFrom"): "Sources (ConfigMaps, Secrets) to populate environment variables from.",
    ("Container", "ports"): "Ports the container exposes; informational. Merged by containerPort in patches.",
    ("Container", "resources"): "CPU, memory and other resources the container requests and is limited to.",
    ("Container", "volumeMounts"): "Where pod volumes are mounted in the container's filesystem.",
    ("Container", "imagePullPolicy"): "Always, IfNotPresent or Never: when the image is pulled.",
    ("Container", "livenessProbe"): "Probe whose failure restarts the container.",
    ("Container", "readinessProbe"): "Probe whose failure removes the pod from service endpoints.",
    ("Container", "startupProbe"): "Probe that must succeed before the other probes start.",
    ("Container", "workingDir"): "The working directory of the entrypoint.",
    ("Container", "securityContext"): "Security options of this container.",
    ("PodStatus", "phase"): "Pending, Running, Succeeded, Failed or Unknown.",
    ("PodStatus", "conditions"): "Current conditions of the pod (PodScheduled, Initialized, Ready, ...).",
    ("PodStatus", "podIP"): "The pod's primary IP address.",
    ("PodStatus", "hostIP"): "The IP address of the node the pod runs on.",
    ("PodStatus", "containerStatuses"): "One status per container, as reported by the node agent.",
    ("DeploymentSpec", "replicas"): "Desired number of pods.",
    ("DeploymentSpec", "selector"): "Label selector of the pods the deployment manages; must match the template.",
    ("DeploymentSpec", "template"): "The pod template new ReplicaSets are created from.",
    ("DeploymentSpec", "strategy"): "How old pods are replaced by new ones: Recreate or RollingUpdate.",
    ("ReplicaSetSpec", "replicas"): "Desired number of pods.",
    ("ReplicaSetSpec", "selector"): "Label selector of the pods the ReplicaSet counts and owns.",
    ("ReplicaSetSpec", "template"): "The pod template for new pods.",
    ("ServiceSpec", "type"): "ClusterIP, NodePort, LoadBalancer or ExternalName.",
    ("ServiceSpec", "selector"): "Labels of the pods that back the service.",
    ("ServiceSpec", "ports"): "The ports the service exposes. Merged by port in patches.",
    ("ServiceSpec", "clusterIP"): "The service's virtual IP; allocated when empty, \"None\" for headless.",
    ("ConfigMap", "data"): "Configuration data as UTF-8 strings.",
    ("ConfigMap", "binaryData"): "Configuration data as base64-encoded bytes.",
    ("Secret", "data"): "Secret values as base64-encoded bytes.",
    ("Secret", "stringData"): "Write-only convenience: plain strings merged into data on write.",
    ("Secret", "type"): "The kind of secret (Opaque, kubernetes.io/tls, ...), which fixes required keys.",
    ("JobSpec", "completions"): "How many pods must succeed for the job to complete.",
    ("JobSpec", "parallelism"): "How many pods may run at once.",
    ("JobSpec", "backoffLimit"): "How many retries before the job is marked failed.",
    ("CronJobSpec", "schedule"): "The cron schedule on which jobs are created.",
    ("CronJobSpec", "jobTemplate"): "The job created at each scheduled time.",
}

_ACRONYMS = {
    "api": "API", "cidr": "CIDR", "cidrs": "CIDRs", "csi": "CSI", "dns": "DNS", "fqdn": "FQDN", "gid": "GID",
    "http": "HTTP", "https": "HTTPS", "id": "ID", "ip": "IP", "ips": "IPs", "ipc": "IPC", "json": "JSON",
    "os": "OS", "pid": "PID", "tcp": "TCP", "tls": "TLS", "ttl": "TTL", "udp": "UDP", "uid": "UID",
    "uri": "URI", "url": "URL", "grpc": "gRPC", "cel": "CEL", "sctp": "SCTP", "nfs": "NFS", "rbd": "RBD",
    "iscsi": "iSCSI", "fc": "FC", "se": "SE", "ns": "namespace",
}
_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def _humanize(name: str) -> str:
    """"dnsPolicy" -> "DNS policy", "PodAffinityTerm" -> "Pod affinity term"."""
    words = [_ACRONYMS.get(w.lower(), w.lower()) for w in _WORDS.findall(name.lstrip("$").replace("-", " "))]
    if not words:
        return name
    text = " ".join(words)
    return text[0].upper() + text[1:]


def _docstring(cls: type) -> str | None:
    doc = cls.__dict__.get("__doc__")
    if not doc:
        return None
    first = inspect.cleandoc(doc).split("\n\n", 1)[0]
    return " ".join(first.split())


def _type_description(cls: type) -> str:
    return _docstring(cls) or f"{_humanize(cls.__name__)}."


_CONDITION_FIELD_DOCS: dict[str, str] = {
    "type": "The aspect of the object this condition reports on.",
    "status": "True, False or Unknown.",
    "reason": "A one-word, CamelCase reason for the condition's last transition.",
    "message": "A human-readable explanation of the condition's last transition.",
    "lastTransitionTime": "When the condition last changed status.",
    "lastProbeTime": "When the condition was last checked.",
    "lastHeartbeatTime": "When the condition was last reported.",
    "lastUpdateTime": "When the condition was last updated.",
    "observedGeneration": "The metadata.generation the condition was computed from.",
}


def _field_description(owner: type, json_name: str, struct: type | None) -> str:
    """A field's description: the table above, then the shared meanings of apiVersion, kind,
    metadata, spec and status (the last three only when they hold an object), then the
    condition fields, then what the referenced Struct's docstring says, then its name."""
    doc = _FIELD_DOCS.get((owner.__name__, json_name))
    if doc is not None:
        return doc
    if json_name in ("apiVersion", "kind") or (struct is not None and json_name in _COMMON_FIELD_DOCS):
        return _COMMON_FIELD_DOCS[json_name]
    if owner.__name__.endswith("Condition") and json_name in _CONDITION_FIELD_DOCS:
        return _CONDITION_FIELD_DOCS[json_name]
    if struct is not None:
        # A field holding a documented Struct is described by what that Struct is.
        referenced = _docstring(struct)
        if referenced:
            return referenced
    return f"{_humanize(json_name)}."


# ---- patch metadata


def _patch_extensions() -> dict[tuple[str, str], dict[str, Any]]:
    """(definition name, JSON field) -> the x-kubernetes-patch-* extensions of that field.

    kube_lite.api.patchmeta owns the strategic-merge-patch facts (keyed by the same definition
    names); this only spells them as OpenAPI extensions.
    """
    from kube_lite.api.patchmeta import patch_extensions

    out: dict[tuple[str, str], dict[str, Any]] = {}
    for ext in patch_extensions():
        fields: dict[str, Any] = {}
        if ext.merge_key:
            fields["x-kubernetes-patch-merge-key"] = ext.merge_key
        if ext.strategy:
            fields["x-kubernetes-patch-strategy"] = ext.strategy
        if fields:
            out[(ext.type_name, ext.field)] = fields
    return out


# ---- schema building


@dataclass
class _Definitions:
    """The definitions built so far, in the neutral form (refs are bare definition names),
    and the Struct each was built from."""

    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    classes: dict[str, type] = field(default_factory=dict)


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, localns=_MARKERS)


def _non_none(tp: Any) -> list[Any]:
    origin = typing.get_origin(tp)
    if origin is Union or isinstance(tp, types.UnionType):
        return [a for a in typing.get_args(tp) if a is not type(None)]
    return [tp]


def _is_struct(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, msgspec.Struct)


class _SchemaBuilder:
    """Turns Structs into neutral-form schemas, collecting every Struct they reference."""

    def __init__(self, patch_ext: Mapping[tuple[str, str], dict[str, Any]]) -> None:
        self.patch_ext = patch_ext
        self.out = _Definitions()
        self._pending: list[type] = []

    def add(self, cls: type) -> str:
        """Queue `cls` (and, when built, everything it references); return its name."""
        name = definition_name(cls)
        if name not in self.out.classes:
            self.out.classes[name] = cls
            self._pending.append(cls)
        return name

    def build(self) -> _Definitions:
        while self._pending:
            cls = self._pending.pop()
            self.out.schemas[definition_name(cls)] = self._struct_schema(cls)
        return self.out

    def _struct_schema(self, cls: type) -> dict[str, Any]:
        hints = _hints(cls)
        properties: dict[str, Any] = {}
        for f in msgspec.structs.fields(cls):
            tp = hints[f.name]
            schema = self._field_schema(cls, f.encode_name, tp)
            referenced = next((a for a in _non_none(tp) if _is_struct(a)), None)
            schema["description"] = _field_description(cls, f.encode_name, referenced)
            schema.update(self.patch_ext.get((definition_name(cls), f.encode_name), {}))
            properties[f.encode_name] = schema
        out: dict[str, Any] = {"description": _type_description(cls), "type": "object", "properties": properties}
        required = [name for name in required_fields(definition_name(cls)) if name in properties]
        if required:
            out["required"] = required
        return out

    def _field_schema(self, owner: type, json_name: str, tp: Any) -> dict[str, Any]:
        fixed = _FIELD_SCHEMAS.get((owner.__name__, json_name))
        if fixed is not None:
            return copy.deepcopy(fixed)
        return self._type_schema(owner, json_name, tp)

    def _type_schema(self, owner: type, json_name: str, tp: Any) -> dict[str, Any]:
        args = _non_none(tp)
        if len(args) > 1:
            if set(args) <= {int, float}:
                return {"type": "number", "format": "double"}
            if set(args) <= {int, str}:
                return _ref(INT_OR_STRING)
            if set(args) <= {int, float, str}:
                return _ref(QUANTITY)
            # A union kube-lite does not model more precisely: any JSON value.
            return {"x-kubernetes-preserve-unknown-fields": True}
        tp = args[0]
        if tp is _Time:
            key = (f"{owner.__module__}:{owner.__name__}", json_name)
            return _ref(MICRO_TIME if key in _MICRO_TIME_FIELDS else TIME)
        if tp is _Quantity:
            return _ref(QUANTITY)
        if tp is _IntOrString:
            return _ref(INT_OR_STRING)
        if tp is _RawExtension:
            return _ref(RAW_EXTENSION)
        if tp is str:
            return {"type": "string"}
        if tp is bool:
            return {"type": "boolean"}
        if tp is int:
            fmt = _INT_FORMAT_EXCEPTIONS.get((owner.__name__, json_name))
            if fmt is None:
                fmt = "int64" if json_name in _INT64_FIELDS else "int32"
            return {"type": "integer", "format": fmt}
        if tp is float:
            return {"type": "number", "format": "double"}
        if tp is bytes:
            return {"type": "string", "format": "byte"}
        if _is_struct(tp):
            return _ref(self.add(tp))
        origin = typing.get_origin(tp)
        if origin in (list, tuple, set, frozenset):
            (item,) = typing.get_args(tp)[:1]
            return {"type": "array", "items": self._type_schema(owner, json_name, item)}
        if origin is dict:
            _, value = typing.get_args(tp)
            if value is Any:
                return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
            return {"type": "object", "additionalProperties": self._type_schema(owner, json_name, value)}
        if tp is Any:
            return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        return {}


# Definitions kube-lite has no Struct for, written here in the neutral form. The v3 variants of
# Quantity and IntOrString differ (oneOf) and are substituted when rendering v3.
_FIXED_DEFINITIONS: dict[str, dict[str, Any]] = {
    TIME: {
        "description": "A point in time, as an RFC 3339 string in UTC with second precision.",
        "type": "string",
        "format": "date-time",
    },
    MICRO_TIME: {
        "description": "A point in time, as an RFC 3339 string in UTC with microsecond precision.",
        "type": "string",
        "format": "date-time",
    },
    QUANTITY: {
        "description": (
            "A fixed-point amount such as \"100m\", \"1.5\", \"128Mi\" or \"2G\": a number with an optional "
            "binary (Ki, Mi, Gi, ...) or decimal (m, k, M, G, ...) suffix. Serialized as a string."
        ),
        "type": "string",
    },
    INT_OR_STRING: {
        "description": "A value that is either an integer or a string, such as a port number or name, or \"25%\".",
        "type": "string",
        "format": "int-or-string",
    },
    RAW_EXTENSION: {"description": "An embedded object of any kind, kept as the JSON it was written as.", "type": "object"},
    FIELDS_V1: {"description": "A set of field paths, in the trie format server-side apply records.", "type": "object"},
    PATCH: {"description": "The body of a PATCH request; its format is given by the Content-Type.", "type": "object"},
    WATCH_EVENT: {
        "description": "One event of a watch stream.",
        "type": "object",
        "required": ["type", "object"],
        "properties": {
            "type": {"description": "ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.", "type": "string"},
            "object": {**_ref(RAW_EXTENSION), "description": "The object (or, for ERROR, the Status) of the event."},
        },
    },
    API_RESOURCE: {
        "description": "One resource a group-version serves, as discovery lists it.",
        "type": "object",
        "required": ["name", "singularName", "namespaced", "kind", "verbs"],
        "properties": {
            "name": {"description": "The plural resource name, or \"resource/subresource\".", "type": "string"},
            "singularName": {"description": "The singular resource name.", "type": "string"},
            "namespaced": {"description": "Whether objects live in a namespace.", "type": "boolean"},
            "group": {"description": "The group of the kind, when it differs from the list's.", "type": "string"},
            "version": {"description": "The version of the kind, when it differs from the list's.", "type": "string"},
            "kind": {"description": "The kind of the objects served.", "type": "string"},
            "verbs": {"description": "The verbs the resource supports.", "type": "array", "items": {"type": "string"}},
            "shortNames": {"description": "Abbreviations a user may type.", "type": "array", "items": {"type": "string"}},
            "categories": {"description": "Groups of resources (\"all\") this one belongs to.", "type": "array", "items": {"type": "string"}},
            "storageVersionHash": {"description": "Opaque hash of the version objects are stored at.", "type": "string"},
        },
    },
    API_RESOURCE_LIST: {
        "description": "The resources a group-version serves.",
        "type": "object",
        "required": ["groupVersion", "resources"],
        "properties": {
            "apiVersion": {"description": _COMMON_FIELD_DOCS["apiVersion"], "type": "string"},
            "kind": {"description": _COMMON_FIELD_DOCS["kind"], "type": "string"},
            "groupVersion": {"description": "The group-version the list is for.", "type": "string"},
            "resources": {"description": "The resources served.", "type": "array", "items": _ref(API_RESOURCE)},
        },
        "x-kubernetes-group-version-kind": [{"group": "", "kind": "APIResourceList", "version": "v1"}],
    },
    SCALE: {
        "description": "The replica count of a scalable resource, as the scale subresource reads and writes it.",
        "type": "object",
        "properties": {
            "apiVersion": {"description": _COMMON_FIELD_DOCS["apiVersion"], "type": "string"},
            "kind": {"description": _COMMON_FIELD_DOCS["kind"], "type": "string"},
            "metadata": {**_ref(OBJECT_META), "description": _COMMON_FIELD_DOCS["metadata"]},
            "spec": {**_ref(f"{SCALE}Spec"), "description": "The desired replica count."},
            "status": {**_ref(f"{SCALE}Status"), "description": "The current replica count and pod selector."},
        },
        "x-kubernetes-group-version-kind": [{"group": "autoscaling", "kind": "Scale", "version": "v1"}],
    },
    f"{SCALE}Spec": {
        "description": "The desired scale.",
        "type": "object",
        "properties": {"replicas": {"description": "Desired number of replicas.", "type": "integer", "format": "int32"}},
    },
    f"{SCALE}Status": {
        "description": "The observed scale.",
        "type": "object",
        "required": ["replicas"],
        "properties": {
            "replicas": {"description": "Observed number of replicas.", "type": "integer", "format": "int32"},
            "selector": {"description": "Label selector of the pods counted, in string form.", "type": "string"},
        },
    },
    f"{APIEXT}.JSON": {"description": "Any JSON value."},
    f"{APIEXT}.JSONSchemaPropsOrBool": {"description": "A JSON schema, or a boolean allowing (true) or forbidding (false) anything."},
    f"{APIEXT}.JSONSchemaPropsOrArray": {"description": "A JSON schema, or an array of JSON schemas."},
    f"{APIEXT}.JSONSchemaPropsOrStringArray": {"description": "A JSON schema, or an array of property names."},
}

_V3_OVERRIDES: dict[str, dict[str, Any]] = {
    QUANTITY: {
        "description": _FIXED_DEFINITIONS[QUANTITY]["description"],
        "oneOf": [{"type": "string"}, {"type": "number"}],
    },
    INT_OR_STRING: {
        "description": _FIXED_DEFINITIONS[INT_OR_STRING]["description"],
        "oneOf": [{"type": "integer"}, {"type": "string"}],
        "format": "int-or-string",
    },
}


def _gvk_ext(group: str, version: str, kind: str) -> dict[str, str]:
    return {"group": group, "kind": kind, "version": version}


@dataclass(frozen=True)
class _Catalog:
    """All definitions (neutral form) for one registry state, and where each kind's lives."""

    definitions: dict[str, dict[str, Any]]
    kind_definition: dict[tuple[str, str, str], str]  # (group, version, kind) -> definition
    list_definition: dict[tuple[str, str, str], str]


def _object_properties(definition: dict[str, Any]) -> dict[str, Any]:
    # What every object has, whatever its CRD's schema says about it (a CRD may constrain
    # metadata.name, but the published schema is ObjectMeta, as in Kubernetes).
    props = definition.setdefault("properties", {})
    props["apiVersion"] = {"description": _COMMON_FIELD_DOCS["apiVersion"], "type": "string"}
    props["kind"] = {"description": _COMMON_FIELD_DOCS["kind"], "type": "string"}
    props["metadata"] = {**_ref(OBJECT_META), "description": _COMMON_FIELD_DOCS["metadata"]}
    return definition


def _custom_definition(info: KindInfo, schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """The definition of a custom resource: its CRD's openAPIV3Schema (or, without one, any
    object), with apiVersion, kind and metadata as Kubernetes adds them."""
    if schema:
        definition = copy.deepcopy(dict(schema))
        definition.setdefault("type", "object")
    else:
        definition = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    definition.setdefault("description", f"{info.kind} is a custom resource of {info.group}/{info.version}.")
    return _object_properties(definition)


def _build_catalog(state: tuple[KindInfo, ...], custom: Mapping[tuple[str, str, str], Any]) -> _Catalog:
    builder = _SchemaBuilder(_patch_extensions())
    # Always present: what paths and lists reference even when no kind does.
    from kube_lite.api.meta import DeleteOptions, ListMeta, ObjectMeta, Status

    for cls in (ObjectMeta, ListMeta, Status, DeleteOptions):
        builder.add(cls)
    kind_definition: dict[tuple[str, str, str], str] = {}
    for info in state:
        gvk = (info.group, info.version, info.kind)
        try:
            struct = info.struct
        except (ImportError, AttributeError):
            struct = None
        if struct is not None:
            kind_definition[gvk] = builder.add(struct)
        else:
            kind_definition[gvk] = custom_definition_name(*gvk)
    built = builder.build()
    definitions = dict(built.schemas)
    for name, schema in _FIXED_DEFINITIONS.items():
        definitions.setdefault(name, copy.deepcopy(schema))
    definitions[STATUS]["x-kubernetes-group-version-kind"] = [_gvk_ext("", "v1", "Status")]

    list_definition: dict[tuple[str, str, str], str] = {}
    gvks_by_definition: dict[str, list[dict[str, str]]] = {}
    for info in state:
        gvk = (info.group, info.version, info.kind)
        name = kind_definition[gvk]
        if name not in definitions:
            definitions[name] = _custom_definition(info, custom.get(gvk))
        gvks_by_definition.setdefault(name, []).append(_gvk_ext(*gvk))
        if info.subresource_of is not None or "list" not in info.verbs:
            continue
        list_name = _list_definition_name(name, info.list_kind)
        list_definition[gvk] = list_name
        definitions[list_name] = {
            "description": f"A list of {info.kind} objects.",
            "type": "object",
            "required": ["items"],
            "properties": {
                "apiVersion": {"description": _COMMON_FIELD_DOCS["apiVersion"], "type": "string"},
                "items": {"description": f"The {info.plural}.", "type": "array", "items": _ref(name)},
                "kind": {"description": _COMMON_FIELD_DOCS["kind"], "type": "string"},
                "metadata": {**_ref(LIST_META), "description": "The list's resourceVersion and continue token."},
            },
            "x-kubernetes-group-version-kind": [_gvk_ext(info.group, info.version, info.list_kind)],
        }
    for name, gvks in gvks_by_definition.items():
        definitions[name]["x-kubernetes-group-version-kind"] = sorted(
            gvks, key=lambda g: (g["group"], g["version"], g["kind"])
        )
    return _Catalog(definitions, kind_definition, list_definition)


# ---- paths

_JSON_TYPES = ("application/json", "application/yaml")
_PATCH_TYPES_BUILTIN = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)
# Custom resources refuse strategic merge patch (415), so their PATCH does not offer it; that
# is also how kubectl apply knows to send a JSON merge patch for them.
_PATCH_TYPES_CUSTOM = ("application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json")


@dataclass(frozen=True)
class _Param:
    name: str
    location: str  # "query" or "path"
    type: str
    description: str
    required: bool = False


_P_NAME = _Param("name", "path", "string", "The object's name.", required=True)
_P_NAMESPACE = _Param("namespace", "path", "string", "The namespace of the object.", required=True)
_P_PRETTY = _Param("pretty", "query", "string", "Indent the response when \"true\".")
_P_DRY_RUN = _Param("dryRun", "query", "string", "\"All\" runs every stage of the request without persisting it.")
_P_FIELD_MANAGER = _Param("fieldManager", "query", "string", "The name of the actor making the change.")
_P_FIELD_VALIDATION = _Param(
    "fieldValidation", "query", "string",
    "Ignore, Warn or Strict: what to do with unknown or duplicate fields in the body.",
)
_P_FORCE = _Param("force", "query", "boolean", "For apply patches: take over fields owned by other managers.")
_LIST_PARAMS = (
    _Param("allowWatchBookmarks", "query", "boolean", "Ask for BOOKMARK events in a watch."),
    _Param("continue", "query", "string", "The continue token of the previous page."),
    _Param("fieldSelector", "query", "string", "Select objects by fields (\"status.phase=Running\")."),
    _Param("labelSelector", "query", "string", "Select objects by labels (\"app=web,tier!=db\")."),
    _Param("limit", "query", "integer", "The most objects to return in one page."),
    _Param("resourceVersion", "query", "string", "The resourceVersion to read at or watch from."),
    _Param("resourceVersionMatch", "query", "string", "How resourceVersion is matched: Exact or NotOlderThan."),
    _Param("sendInitialEvents", "query", "boolean", "Start a watch with the current objects as ADDED events."),
    _Param("timeoutSeconds", "query", "integer", "End the list or watch after this many seconds."),
    _Param("watch", "query", "boolean", "Stream changes instead of returning a list."),
)
_DELETE_PARAMS = (
    _P_DRY_RUN,
    _Param("gracePeriodSeconds", "query", "integer", "Seconds before the object is deleted; 0 deletes at once."),
    _Param(
        "ignoreStoreReadErrorWithClusterBreakingPotential", "query", "boolean",
        "Delete an object that cannot be read from storage (unsafe).",
    ),
    _Param("orphanDependents", "query", "boolean", "Deprecated; use propagationPolicy."),
    _Param("propagationPolicy", "query", "string", "Orphan, Background or Foreground: what happens to dependents."),
)
_WRITE_PARAMS = (_P_DRY_RUN, _P_FIELD_MANAGER, _P_FIELD_VALIDATION)


@dataclass(frozen=True)
class _Operation:
    method: str  # get, post, put, patch, delete
    action: str  # x-kubernetes-action
    operation_id: str
    description: str
    gvk: tuple[str, str, str]
    response: str  # definition name
    params: tuple[_Param, ...] = ()
    request: str | None = None
    consumes: tuple[str, ...] = ()
    created: bool = False  # also answers 201 (and 202 for deletes)


@dataclass
class _Path:
    path: str
    params: tuple[_Param, ...]
    operations: list[_Operation] = field(default_factory=list)


def _group_words(group: str) -> str:
    """Kubernetes' operation-id spelling of a group: "" -> "Core", "apps" -> "Apps",
    "rbac.authorization.k8s.io" -> "RbacAuthorization", "events.k8s.io" -> "Events"."""
    if not group:
        return "Core"
    labels = group.removesuffix(".k8s.io").split(".")
    return "".join(label[:1].upper() + label[1:] for label in labels)


def _tag(group: str, version: str) -> str:
    words = _group_words(group)
    return f"{words[:1].lower()}{words[1:]}_{version}"


def _paths_for(info: KindInfo, catalog: _Catalog, custom: bool) -> list[_Path]:
    """The REST paths of one kind (collection, item, all-namespaces list, subresources)."""
    gvk = (info.group, info.version, info.kind)
    definition = catalog.kind_definition[gvk]
    list_definition = catalog.list_definition.get(gvk)
    prefix = f"/apis/{info.group}/{info.version}" if info.group else f"/api/{info.version}"
    ids = f"{_group_words(info.group)}{info.version[:1].upper()}{info.version[1:]}"
    scope = "Namespaced" if info.namespaced else ""
    verbs = set(info.verbs)
    patch_types = _PATCH_TYPES_CUSTOM if custom else _PATCH_TYPES_BUILTIN
    if info.namespaced:
        collection = _Path(f"{prefix}/namespaces/{{namespace}}/{info.plural}", (_P_NAMESPACE, _P_PRETTY))
        item = _Path(f"{collection.path}/{{name}}", (_P_NAME, _P_NAMESPACE, _P_PRETTY))
    else:
        collection = _Path(f"{prefix}/{info.plural}", (_P_PRETTY,))
        item = _Path(f"{collection.path}/{{name}}", (_P_NAME, _P_PRETTY))
    kind = info.kind
    if "list" in verbs and list_definition is not None:
        collection.operations.append(
            _Operation("get", "list", f"list{ids}{scope}{kind}", f"list or watch objects of kind {kind}",
                       gvk, list_definition, _LIST_PARAMS)
        )
    if "create" in verbs:
        collection.operations.append(
            _Operation("post", "post", f"create{ids}{scope}{kind}", f"create a {kind}", gvk, definition,
                       _WRITE_PARAMS, request=definition, consumes=("application/json", "application/yaml"),
                       created=True)
        )
    if "deletecollection" in verbs:
        collection.operations.append(
            _Operation("delete", "deletecollection", f"deletecollection{ids}{scope}{kind}",
                       f"delete a collection of {kind}", gvk, STATUS, _DELETE_PARAMS + _LIST_PARAMS,
                       request=DELETE_OPTIONS, consumes=("application/json",))
        )
    if "get" in verbs:
        item.operations.append(_Operation("get", "get", f"read{ids}{scope}{kind}", f"read the specified {kind}", gvk, definition))
    if "update" in verbs:
        item.operations.append(
            _Operation("put", "put", f"replace{ids}{scope}{kind}", f"replace the specified {kind}", gvk, definition,
                       _WRITE_PARAMS, request=definition, consumes=("application/json", "application/yaml"),
                       created=True)
        )
    if "patch" in verbs:
        item.operations.append(
            _Operation("patch", "patch", f"patch{ids}{scope}{kind}", f"partially update the specified {kind}", gvk,
                       definition, (*_WRITE_PARAMS, _P_FORCE), request=PATCH, consumes=patch_types, created=True)
        )
    if "delete" in verbs:
        item.operations.append(
            _Operation("delete", "delete", f"delete{ids}{scope}{kind}", f"delete a {kind}", gvk, STATUS,
                       _DELETE_PARAMS, request=DELETE_OPTIONS, consumes=("application/json",), created=True)
        )
    out = [p for p in (collection, item) if p.operations]
    if info.namespaced and "list" in verbs and list_definition is not None:
        out.append(
            _Path(f"{prefix}/{info.plural}", (_P_PRETTY,), [
                _Operation("get", "list", f"list{ids}{kind}ForAllNamespaces",
                           f"list or watch objects of kind {kind} in every namespace", gvk, list_definition,
                           _LIST_PARAMS)
            ])
        )
    for sub_name in sorted(info.subresources):
        sub = info.subresource_info(sub_name)
        sub_gvk = (sub.group, sub.version, sub.kind)
        if sub_gvk == gvk:
            sub_definition = definition
        elif sub.kind == "Scale":
            sub_definition = SCALE
        else:
            sub_definition = catalog.kind_definition.get(sub_gvk, "")
        if sub_definition not in catalog.definitions:
            continue  # log, exec, proxy, ...: streams, not objects with a schema
        words = sub_name[:1].upper() + sub_name[1:]
        sub_path = _Path(f"{item.path}/{sub_name}", item.params)
        sub_verbs = set(sub.verbs)
        if "get" in sub_verbs:
            sub_path.operations.append(
                _Operation("get", "get", f"read{ids}{scope}{kind}{words}", f"read {sub_name} of the specified {kind}",
                           sub_gvk, sub_definition)
            )
        if "create" in sub_verbs:
            sub_path.operations.append(
                _Operation("post", "post", f"create{ids}{scope}{kind}{words}", f"create {sub_name} of a {kind}",
                           sub_gvk, sub_definition, _WRITE_PARAMS, request=sub_definition,
                           consumes=("application/json", "application/yaml"), created=True)
            )
        if "update" in sub_verbs:
            sub_path.operations.append(
                _Operation("put", "put", f"replace{ids}{scope}{kind}{words}",
                           f"replace {sub_name} of the specified {kind}", sub_gvk, sub_definition, _WRITE_PARAMS,
                           request=sub_definition, consumes=("application/json", "application/yaml"), created=True)
            )
        if "patch" in sub_verbs:
            sub_path.operations.append(
                _Operation("patch", "patch", f"patch{ids}{scope}{kind}{words}",
                           f"partially update {sub_name} of the specified {kind}", sub_gvk, sub_definition,
                           (*_WRITE_PARAMS, _P_FORCE), request=PATCH, consumes=patch_types, created=True)
            )
        if sub_path.operations:
            out.append(sub_path)
    return out


def _resources_path(group: str, version: str) -> _Path:
    prefix = f"/apis/{group}/{version}/" if group else f"/api/{version}/"
    ids = f"{_group_words(group)}{version[:1].upper()}{version[1:]}"
    return _Path(prefix, (), [
        _Operation("get", "", f"get{ids}APIResources", "get available resources", ("", "", ""), API_RESOURCE_LIST)
    ])


# ---- rendering


# Keywords whose value is a schema, a list of schemas, or a map of name -> schema. Everything
# else (enum, default, example, extensions) is a literal and is copied untouched, even when it
# happens to hold a "$ref" key (JSONSchemaProps has a *property* named "$ref").
_SUBSCHEMA = frozenset({"items", "additionalProperties", "additionalItems", "not"})
_SUBSCHEMA_LIST = frozenset({"allOf", "oneOf", "anyOf", "items"})
_SUBSCHEMA_MAP = frozenset({"properties", "patternProperties", "definitions"})


def _render_schema(schema: Any, prefix: str, v3: bool) -> Any:
    """Neutral form -> v2 or v3: refs get their prefix; in v3 a ref with siblings is wrapped
    in allOf so that the siblings (description, patch extensions) are not ignored."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "$ref":
            continue
        if key in _SUBSCHEMA_MAP and isinstance(value, dict):
            out[key] = {name: _render_schema(sub, prefix, v3) for name, sub in value.items()}
        elif key in _SUBSCHEMA_LIST and isinstance(value, list):
            out[key] = [_render_schema(sub, prefix, v3) for sub in value]
        elif key in _SUBSCHEMA and isinstance(value, dict):
            out[key] = _render_schema(value, prefix, v3)
        else:
            out[key] = copy.deepcopy(value)
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if v3 and out:
            out["allOf"] = [{"$ref": prefix + ref}]
        else:
            out["$ref"] = prefix + ref
    return out


def _schema_refs(schema: Any, found: set[str], prefix: str = "") -> None:
    """Add to `found` the definition names `schema` references (without `prefix`)."""
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(prefix):
        found.add(ref[len(prefix):])
    for key, value in schema.items():
        if key in _SUBSCHEMA_MAP and isinstance(value, dict):
            for sub in value.values():
                _schema_refs(sub, found, prefix)
        elif key in _SUBSCHEMA_LIST and isinstance(value, list):
            for sub in value:
                _schema_refs(sub, found, prefix)
        elif key in _SUBSCHEMA and isinstance(value, dict):
            _schema_refs(value, found, prefix)


def _render_param_v2(p: _Param) -> dict[str, Any]:
    out: dict[str, Any] = {"name": p.name, "in": p.location, "description": p.description, "type": p.type,
                           "uniqueItems": True}
    if p.required:
        out["required"] = True
    return out


def _render_param_v3(p: _Param) -> dict[str, Any]:
    out: dict[str, Any] = {"name": p.name, "in": p.location, "description": p.description,
                           "schema": {"type": p.type, "uniqueItems": True}}
    if p.required:
        out["required"] = True
    return out


def _gvk_of(op: _Operation) -> dict[str, str] | None:
    group, version, kind = op.gvk
    return _gvk_ext(group, version, kind) if kind else None


def _operation_v2(op: _Operation, tag: str) -> dict[str, Any]:
    ref = {"$ref": f"#/definitions/{op.response}"}
    params = [_render_param_v2(p) for p in op.params]
    if op.request is not None:
        params.insert(0, {"name": "body", "in": "body", "required": op.method != "delete",
                          "schema": {"$ref": f"#/definitions/{op.request}"}})
    responses: dict[str, Any] = {"200": {"description": "OK", "schema": ref}}
    if op.created:
        if op.method == "delete":
            responses["202"] = {"description": "Accepted", "schema": ref}
        else:
            responses["201"] = {"description": "Created", "schema": ref}
    responses["401"] = {"description": "Unauthorized"}
    out: dict[str, Any] = {
        "description": op.description,
        "operationId": op.operation_id,
        "consumes": list(op.consumes or ("*/*",)),
        "produces": list(_JSON_TYPES),
        "schemes": ["https"],
        "tags": [tag],
        "responses": responses,
    }
    if params:
        out["parameters"] = params
    if op.action:
        out["x-kubernetes-action"] = op.action
    gvk = _gvk_of(op)
    if gvk is not None:
        out["x-kubernetes-group-version-kind"] = gvk
    return out


def _operation_v3(op: _Operation, tag: str) -> dict[str, Any]:
    content = {t: {"schema": {"$ref": f"#/components/schemas/{op.response}"}} for t in _JSON_TYPES}
    responses: dict[str, Any] = {"200": {"description": "OK", "content": content}}
    if op.created:
        if op.method == "delete":
            responses["202"] = {"description": "Accepted", "content": content}
        else:
            responses["201"] = {"description": "Created", "content": content}
    responses["401"] = {"description": "Unauthorized"}
    out: dict[str, Any] = {"description": op.description, "operationId": op.operation_id}
    if op.params:
        out["parameters"] = [_render_param_v3(p) for p in op.params]
    if op.request is not None:
        out["requestBody"] = {
            "content": {t: {"schema": {"$ref": f"#/components/schemas/{op.request}"}} for t in op.consumes},
            "required": op.method != "delete",
        }
    out["responses"] = responses
    out["tags"] = [tag]
    if op.action:
        out["x-kubernetes-action"] = op.action
    gvk = _gvk_of(op)
    if gvk is not None:
        out["x-kubernetes-group-version-kind"] = gvk
    return out


def _closure(roots: Iterable[str], definitions: Mapping[str, Any]) -> list[str]:
    """Every definition reachable from `roots` through refs, sorted."""
    seen: set[str] = set()
    todo = [r for r in roots if r in definitions]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        found: set[str] = set()
        _schema_refs(definitions[name], found)
        todo.extend(n for n in found if n in definitions and n not in seen)
    return sorted(seen)


def _v2_safe(schema: Any) -> Any:
    """A CRD's OpenAPI v3 schema made acceptable to Swagger 2.0 readers: drop the keywords
    v2 does not have (nullable, oneOf, anyOf, not)."""
    if isinstance(schema, list):
        return [_v2_safe(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    return {k: _v2_safe(v) for k, v in schema.items() if k not in ("nullable", "oneOf", "anyOf", "not")}


_SECURITY_SCHEME = {
    "type": "apiKey",
    "name": "authorization",
    "in": "header",
    "description": "A bearer token: \"Authorization: Bearer <token>\".",
}
_INFO = {"title": "Kubernetes", "version": "v1.37.1+kube-lite"}


@dataclass(frozen=True)
class _Built:
    """Everything generated for one registry state."""

    v2: bytes
    v3: dict[str, bytes]  # "api/v1", "apis/apps/v1" -> document bytes
    v3_hash: dict[str, str]
    v3_discovery: bytes


def _group_versions(state: tuple[KindInfo, ...]) -> list[tuple[str, str, list[KindInfo]]]:
    registry = KindRegistry(state)
    return [(gv.group, gv.version, list(gv.kinds)) for gv in registry.group_versions()]


def _document_v2(state: tuple[KindInfo, ...], catalog: _Catalog, customs: set[tuple[str, str, str]]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for group, version, kinds in _group_versions(state):
        tag = _tag(group, version)
        for p in [_resources_path(group, version)] + [
            p for info in kinds for p in _paths_for(info, catalog, (info.group, info.version, info.kind) in customs)
        ]:
            entry: dict[str, Any] = {op.method: _operation_v2(op, tag) for op in p.operations}
            if p.params:
                entry["parameters"] = [_render_param_v2(q) for q in p.params]
            paths[p.path] = entry
    definitions = {}
    for name in sorted(catalog.definitions):
        schema = catalog.definitions[name]
        if name.rsplit(".", 1)[0] not in _KNOWN_PACKAGES:
            schema = _v2_safe(schema)
        definitions[name] = _render_schema(schema, "#/definitions/", v3=False)
    return {
        "swagger": "2.0",
        "info": dict(_INFO),
        "paths": dict(sorted(paths.items())),
        "definitions": definitions,
        "securityDefinitions": {"BearerToken": dict(_SECURITY_SCHEME)},
        "security": [{"BearerToken": []}],
    }


_KNOWN_PACKAGES = frozenset(
    {*_PACKAGES.values(), "io.k8s.apimachinery.pkg.api.resource", "io.k8s.apimachinery.pkg.util.intstr",
     "io.k8s.apimachinery.pkg.runtime", "io.k8s.api.autoscaling.v1"}
)


def _document_v3(group: str, version: str, kinds: list[KindInfo], catalog: _Catalog,
                 customs: set[tuple[str, str, str]]) -> dict[str, Any]:
    tag = _tag(group, version)
    paths: dict[str, Any] = {}
    roots: set[str] = set()
    for p in [_resources_path(group, version)] + [
        p for info in kinds for p in _paths_for(info, catalog, (info.group, info.version, info.kind) in customs)
    ]:
        entry: dict[str, Any] = {}
        for op in p.operations:
            entry[op.method] = _operation_v3(op, tag)
            roots.add(op.response)
            if op.request:
                roots.add(op.request)
        if p.params:
            entry["parameters"] = [_render_param_v3(q) for q in p.params]
        paths[p.path] = entry
    schemas = {}
    for name in _closure(roots, catalog.definitions):
        schema = _V3_OVERRIDES.get(name, catalog.definitions[name])
        schemas[name] = _render_schema(schema, "#/components/schemas/", v3=True)
    return {
        "openapi": "3.0.0",
        "info": dict(_INFO),
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas, "securitySchemes": {"BearerToken": dict(_SECURITY_SCHEME)}},
    }


def v3_path(group: str, version: str) -> str:
    """The key of a group-version in the v3 index: "api/v1" or "apis/{group}/{version}"."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


def v3_hash(document: bytes) -> str:
    """The hash of a v3 document as published in its serverRelativeURL: the upper-case hex
    SHA-512 of its bytes, which is also the document's ETag."""
    return hashlib.sha512(document).hexdigest().upper()


def v3_server_relative_url(path: str, hash_: str) -> str:
    """"/openapi/v3/{path}?hash={hash}", the URL the v3 index gives for a document."""
    return f"/openapi/v3/{path}?hash={hash_}"


_encode = msgspec.json.encode


def _customs_key(custom: Mapping[tuple[str, str, str], Any] | None) -> bytes:
    if not custom:
        return b""
    return _encode(sorted(([*k], v) for k, v in custom.items()))


@functools.lru_cache(maxsize=8)
def _build(state: tuple[KindInfo, ...], customs_key: bytes) -> _Built:
    custom: dict[tuple[str, str, str], Any] = {}
    if customs_key:
        for key, schema in msgspec.json.decode(customs_key):
            custom[(key[0], key[1], key[2])] = schema
    catalog = _build_catalog(state, custom)
    customs = {gvk for gvk, name in catalog.kind_definition.items() if name.rsplit(".", 1)[0] not in _KNOWN_PACKAGES}
    v2 = _encode(_document_v2(state, catalog, customs))
    v3: dict[str, bytes] = {}
    hashes: dict[str, str] = {}
    for group, version, kinds in _group_versions(state):
        path = v3_path(group, version)
        v3[path] = _encode(_document_v3(group, version, kinds, catalog, customs))
        hashes[path] = v3_hash(v3[path])
    discovery = _encode(
        {"paths": {path: {"serverRelativeURL": v3_server_relative_url(path, hashes[path])} for path in v3}}
    )
    return _Built(v2, v3, hashes, discovery)


def _built(registry: KindRegistry, custom_schemas: Mapping[tuple[str, str, str], Any] | None) -> _Built:
    return _build(tuple(registry), _customs_key(custom_schemas))


# ---- the v2 document as protobuf

# kubectl reads /openapi/v2 only as protobuf (gnostic's openapi.v2.Document), for the fallbacks
# of `apply` and for client-side validation, which it uses for documents whose kind has no
# PATCH operation in v3 (a `kind: List` file, for one). The encoder below writes the subset of
# that message set the JSON document uses, straight from the JSON form. Field numbers are
# those of gnostic's OpenAPIv2.proto; extension and default values travel as YAML text (JSON
# is YAML), as gnostic stores them.


def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _pb_bytes(field_no: int, payload: bytes) -> bytes:
    return _varint(field_no << 3 | 2) + _varint(len(payload)) + payload


def _pb_str(field_no: int, value: str | None) -> bytes:
    return _pb_bytes(field_no, value.encode()) if value else b""


def _pb_strs(field_no: int, values: Iterable[str] | None) -> bytes:
    return b"".join(_pb_bytes(field_no, v.encode()) for v in values or ())


def _pb_bool(field_no: int, value: Any) -> bytes:
    return _varint(field_no << 3) + b"\x01" if value else b""


def _pb_int(field_no: int, value: Any) -> bytes:
    return _varint(field_no << 3) + _varint(int(value)) if value else b""


def _pb_double(field_no: int, value: Any) -> bytes:
    return _varint(field_no << 3 | 1) + struct.pack("<d", float(value)) if value else b""


def _pb_any(field_no: int, value: Any) -> bytes:
    # openapi.v2.Any: field 2 is the value as YAML text.
    return _pb_bytes(field_no, _pb_str(2, json.dumps(value)))


def _pb_extensions(field_no: int, node: Mapping[str, Any]) -> bytes:
    return b"".join(
        _pb_bytes(field_no, _pb_str(1, key) + _pb_any(2, value)) for key, value in node.items() if key.startswith("x-")
    )


def _pb_schema(schema: Mapping[str, Any]) -> bytes:
    """openapi.v2.Schema."""
    out = [_pb_str(1, schema.get("$ref")), _pb_str(2, schema.get("format")), _pb_str(3, schema.get("title")),
           _pb_str(4, schema.get("description"))]
    if "default" in schema:
        out.append(_pb_any(5, schema["default"]))
    out += [_pb_double(6, schema.get("multipleOf")), _pb_double(7, schema.get("maximum")),
            _pb_bool(8, schema.get("exclusiveMaximum")), _pb_double(9, schema.get("minimum")),
            _pb_bool(10, schema.get("exclusiveMinimum")), _pb_int(11, schema.get("maxLength")),
            _pb_int(12, schema.get("minLength")), _pb_str(13, schema.get("pattern")),
            _pb_int(14, schema.get("maxItems")), _pb_int(15, schema.get("minItems")),
            _pb_bool(16, schema.get("uniqueItems")), _pb_int(17, schema.get("maxProperties")),
            _pb_int(18, schema.get("minProperties")), _pb_strs(19, schema.get("required"))]
    out += [_pb_any(20, v) for v in schema.get("enum") or ()]
    extra = schema.get("additionalProperties")
    if isinstance(extra, bool):
        # AdditionalPropertiesItem is a oneof: a false boolean is still written.
        out.append(_pb_bytes(21, _varint(2 << 3) + (b"\x01" if extra else b"\x00")))
    elif isinstance(extra, Mapping):
        out.append(_pb_bytes(21, _pb_bytes(1, _pb_schema(extra))))
    kind = schema.get("type")
    if kind:
        out.append(_pb_bytes(22, _pb_strs(1, [kind] if isinstance(kind, str) else kind)))
    items = schema.get("items")
    if isinstance(items, Mapping):
        out.append(_pb_bytes(23, _pb_bytes(1, _pb_schema(items))))
    elif isinstance(items, list):
        out.append(_pb_bytes(23, b"".join(_pb_bytes(1, _pb_schema(i)) for i in items)))
    out += [_pb_bytes(24, _pb_schema(s)) for s in schema.get("allOf") or ()]
    if "properties" in schema:
        out.append(_pb_bytes(25, _pb_named_schemas(schema["properties"])))
    out.append(_pb_bool(27, schema.get("readOnly")))
    if "example" in schema:
        out.append(_pb_any(30, schema["example"]))
    out.append(_pb_extensions(31, schema))
    return b"".join(out)


def _pb_named_schemas(schemas: Mapping[str, Any]) -> bytes:
    """Properties / Definitions: repeated NamedSchema (name 1, value 2) in field 1."""
    return b"".join(_pb_bytes(1, _pb_str(1, name) + _pb_bytes(2, _pb_schema(s))) for name, s in schemas.items())


def _pb_parameter(param: Mapping[str, Any]) -> bytes:
    """openapi.v2.ParametersItem holding a body, query or path parameter."""
    if param.get("in") == "body":
        body = (_pb_str(1, param.get("description")) + _pb_str(2, param["name"]) + _pb_str(3, "body")
                + _pb_bool(4, param.get("required")) + _pb_bytes(5, _pb_schema(param.get("schema") or {})))
        parameter = _pb_bytes(1, body)
    else:
        common = (_pb_bool(1, param.get("required")) + _pb_str(2, param["in"]) + _pb_str(3, param.get("description"))
                  + _pb_str(4, param["name"]))
        if param["in"] == "path":  # PathParameterSubSchema: type 5, uniqueItems 19
            sub = _pb_bytes(4, common + _pb_str(5, param.get("type")) + _pb_bool(19, param.get("uniqueItems")))
        else:  # QueryParameterSubSchema: type 6, uniqueItems 20
            sub = _pb_bytes(3, common + _pb_str(6, param.get("type")) + _pb_bool(20, param.get("uniqueItems")))
        parameter = _pb_bytes(2, sub)
    return _pb_bytes(1, parameter)


def _pb_operation(op: Mapping[str, Any]) -> bytes:
    responses = b"".join(
        _pb_bytes(1, _pb_str(1, code) + _pb_bytes(2, _pb_bytes(1, _pb_str(1, r.get("description"))
                  + (_pb_bytes(2, _pb_bytes(1, _pb_schema(r["schema"]))) if "schema" in r else b""))))
        for code, r in op.get("responses", {}).items()
    )
    return b"".join([
        _pb_strs(1, op.get("tags")), _pb_str(3, op.get("description")), _pb_str(5, op.get("operationId")),
        _pb_strs(6, op.get("produces")), _pb_strs(7, op.get("consumes")),
        *(_pb_bytes(8, _pb_parameter(p)) for p in op.get("parameters") or ()),
        _pb_bytes(9, responses), _pb_strs(10, op.get("schemes")), _pb_extensions(13, op),
    ])


_PB_METHODS = {"get": 2, "put": 3, "post": 4, "delete": 5, "options": 6, "head": 7, "patch": 8}


def _pb_document(doc: Mapping[str, Any]) -> bytes:
    """openapi.v2.Document from the JSON form of the v2 document."""
    paths = []
    for path, item in doc.get("paths", {}).items():
        body = b"".join(_pb_bytes(_PB_METHODS[m], _pb_operation(op)) for m, op in item.items() if m in _PB_METHODS)
        body += b"".join(_pb_bytes(9, _pb_parameter(p)) for p in item.get("parameters") or ())
        paths.append(_pb_bytes(2, _pb_str(1, path) + _pb_bytes(2, body)))
    info = doc.get("info", {})
    security_definitions = b"".join(
        _pb_bytes(1, _pb_str(1, name) + _pb_bytes(2, _pb_bytes(2, _pb_str(1, d.get("type")) + _pb_str(2, d.get("name"))
                  + _pb_str(3, d.get("in")) + _pb_str(4, d.get("description")))))
        for name, d in doc.get("securityDefinitions", {}).items()
    )
    security = b"".join(
        _pb_bytes(12, b"".join(_pb_bytes(1, _pb_str(1, name) + _pb_bytes(2, _pb_strs(1, scopes)))
                               for name, scopes in requirement.items()))
        for requirement in doc.get("security", ())
    )
    return b"".join([
        _pb_str(1, doc.get("swagger")),
        _pb_bytes(2, _pb_str(1, info.get("title")) + _pb_str(2, info.get("version"))),
        _pb_bytes(8, b"".join(paths)),
        _pb_bytes(9, _pb_named_schemas(doc.get("definitions", {}))),
        security,
        _pb_bytes(13, security_definitions),
    ])


@functools.lru_cache(maxsize=4)
def _v2_protobuf(v2_json: bytes) -> bytes:
    return _pb_document(json.loads(v2_json))


V2_JSON_CONTENT_TYPE = "application/json"
V2_PROTOBUF_CONTENT_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
_V2_PROTOBUF_ACCEPTED = ("application/com.github.proto-openapi.spec.v2@v1.0+protobuf", V2_PROTOBUF_CONTENT_TYPE)


def negotiate_v2(accept: str | None) -> str | None:
    """The Content-Type to answer `/openapi/v2` with for an Accept header: JSON for
    application/json (or a wildcard, or no header), protobuf for either spelling of gnostic's
    media type (kubectl sends the "@v1.0" one), None when neither is acceptable (answer 406).
    Clauses are taken in the order written; q-values are ignored."""
    if not accept:
        return V2_JSON_CONTENT_TYPE
    for clause in accept.split(","):
        media = clause.split(";", 1)[0].strip().lower()
        if media in ("application/json", "application/*", "*/*"):
            return V2_JSON_CONTENT_TYPE
        if media in _V2_PROTOBUF_ACCEPTED:
            return V2_PROTOBUF_CONTENT_TYPE
    return None


# ---- public API

CustomSchemas = Mapping[tuple[str, str, str], Mapping[str, Any]]
"""(group, version, kind) of a custom resource -> its CRD version's openAPIV3Schema."""


def custom_schemas_from_crds(crds: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The `custom_schemas` argument for a set of CustomResourceDefinitions in JSON form.

    Each served version with a `schema.openAPIV3Schema` gives one entry, under the kind the
    CRD serves (status.acceptedNames.kind when set, else spec.names.kind). CRDs lacking a
    group or kind are skipped rather than refused: publishing is best effort, and the
    registry, not this function, decides what is served.
    """
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for crd in crds:
        spec = crd.get("spec") or {}
        accepted = (crd.get("status") or {}).get("acceptedNames") or {}
        kind = accepted.get("kind") or (spec.get("names") or {}).get("kind")
        group = spec.get("group")
        if not kind or not group:
            continue
        for version in spec.get("versions") or ():
            schema = ((version.get("schema") or {}).get("openAPIV3Schema"))
            if version.get("served") and version.get("name") and isinstance(schema, dict):
                out[(group, version["name"], kind)] = schema
    return out


def openapi_v2(registry: KindRegistry, custom_schemas: CustomSchemas | None = None) -> bytes:
    """The Swagger 2.0 document of `/openapi/v2` as JSON bytes, cached per registry state.

    `custom_schemas` gives the openAPIV3Schema of custom resources (from their CRDs); a
    custom resource without one is published as an object with any fields.
    """
    return _built(registry, custom_schemas).v2


def openapi_v2_protobuf(registry: KindRegistry, custom_schemas: CustomSchemas | None = None) -> bytes:
    """The `/openapi/v2` document encoded as gnostic's openapi.v2.Document protobuf (what
    kubectl asks for), cached per registry state."""
    return _v2_protobuf(openapi_v2(registry, custom_schemas))


def openapi_v2_response(
    registry: KindRegistry, accept: str | None, custom_schemas: CustomSchemas | None = None
) -> tuple[bytes, str] | None:
    """Body and Content-Type answering `/openapi/v2` for an Accept header, or None when no
    format it accepts is served (the HTTP layer answers 406 Not Acceptable)."""
    content_type = negotiate_v2(accept)
    if content_type is None:
        return None
    if content_type == V2_PROTOBUF_CONTENT_TYPE:
        return openapi_v2_protobuf(registry, custom_schemas), content_type
    return openapi_v2(registry, custom_schemas), content_type


def openapi_v2_doc(registry: KindRegistry, custom_schemas: CustomSchemas | None = None) -> dict[str, Any]:
    """`openapi_v2` as a fresh dict."""
    return msgspec.json.decode(openapi_v2(registry, custom_schemas))


def openapi_v3_discovery(registry: KindRegistry, custom_schemas: CustomSchemas | None = None) -> bytes:
    """The `/openapi/v3` index as JSON bytes: every served group-version's document URL
    with its content hash. Cached per registry state."""
    return _built(registry, custom_schemas).v3_discovery


def openapi_v3_discovery_doc(registry: KindRegistry, custom_schemas: CustomSchemas | None = None) -> dict[str, Any]:
    """`openapi_v3_discovery` as a fresh dict."""
    return msgspec.json.decode(openapi_v3_discovery(registry, custom_schemas))


def openapi_v3_document(
    registry: KindRegistry, path: str, custom_schemas: CustomSchemas | None = None
) -> bytes | None:
    """The OpenAPI 3.0 document of one group-version as JSON bytes, or None when `path`
    ("api/v1", "apis/apps/v1"; a leading "/" or "openapi/v3/" is tolerated) names no
    served group-version. Cached per registry state.

    The HTTP layer should send it with the ETag `"<openapi_v3_hash>"`; when the request's
    `hash` query parameter is present and differs from the current hash, answer 301 to the
    current serverRelativeURL (the content moved on), and when it matches, add
    `Cache-Control: public, immutable`, as Kubernetes does.
    """
    return _built(registry, custom_schemas).v3.get(_normalize_v3_path(path))


def openapi_v3_hash(registry: KindRegistry, path: str, custom_schemas: CustomSchemas | None = None) -> str | None:
    """The current hash (ETag) of a group-version's v3 document, or None when not served."""
    return _built(registry, custom_schemas).v3_hash.get(_normalize_v3_path(path))


def openapi_v3_document_doc(
    registry: KindRegistry, path: str, custom_schemas: CustomSchemas | None = None
) -> dict[str, Any] | None:
    """`openapi_v3_document` as a fresh dict (None when not served)."""
    body = openapi_v3_document(registry, path, custom_schemas)
    return None if body is None else msgspec.json.decode(body)


def _normalize_v3_path(path: str) -> str:
    path = path.split("?", 1)[0].strip("/")
    return path.removeprefix("openapi/v3/")
