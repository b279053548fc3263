"""The API server's HTTP side: a thin ASGI application over the registry.

Paths, verbs, query parameters, content types and errors are Kubernetes' own, so kubectl and
the kubernetes client work unchanged. Every error is a `Status`; nothing here lets a traceback
out (an unexpected exception is logged and answered as a 500 Status).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

import anyio
import msgspec
import structlog
import yaml

from kube_lite.api import errors
from kube_lite.api.registry import KindInfo, KindRegistry
from kube_lite.clock import Clock, RealClock
from kube_lite.server import handlers
from kube_lite.store.admission import SYSTEM_USER, UserInfo
from kube_lite.store.registry import Registry

log = structlog.get_logger(__name__)

MAX_BODY = 3 * 1024 * 1024
KUBE_VERSION = {
    "major": "1",
    "minor": "37",
    "emulationMajor": "1",
    "emulationMinor": "37",
    "minCompatibilityMajor": "1",
    "minCompatibilityMinor": "36",
    "gitVersion": "v1.37.1+kube-lite",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-11-01T00:00:00Z",
    "goVersion": "go1.25.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Authenticator = Callable[[Scope], UserInfo | None]

_JSON = b"application/json"


@dataclass(slots=True)
class Request:
    """What a handler needs of one HTTP request."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    user: UserInfo
    receive: Receive
    send: Send
    body: bytes = b""
    response_headers: list[tuple[bytes, bytes]] = field(default_factory=list)

    def param(self, name: str, default: str | None = None) -> str | None:
        return self.query.get(name, default)

    def flag(self, name: str) -> bool:
        """A boolean query parameter as Kubernetes reads it: present and not "0"/"false"."""
        value = self.query.get(name)
        return value is not None and value.lower() not in ("0", "false")

    def int_param(self, name: str) -> int | None:
        raw = self.query.get(name)
        if raw in (None, ""):
            return None
        try:
            return int(raw)  # type: ignore[arg-type]
        except ValueError:
            raise errors.bad_request(f'invalid value for {name}: "{raw}": must be an integer') from None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "application/json").split(";")[0].strip().lower()

    @property
    def accept(self) -> str:
        return self.headers.get("accept", "")

    def warn(self, text: str) -> None:
        # RFC 7234 warn-text is a quoted-string: client-go drops a warning whose inner quotes
        # are not escaped, so `unknown field "spec.x"` must go out as `unknown field \"spec.x\"`.
        # Control characters cannot go into a header at all (they would end it): escaped.
        quoted = text.replace("\\", "\\\\").replace('"', '\\"')
        quoted = "".join(c if c >= " " and c != "\x7f" else f"\\x{ord(c):02x}" for c in quoted)
        self.response_headers.append((b"warning", f'299 - "{quoted}"'.encode()))


MAX_DEPTH = 100  # nesting of a request body; Kubernetes' objects need far less
MAX_YAML_ALIASES = 100
_BODY_TYPES = ("application/json", "application/yaml", "application/x-yaml", "text/yaml", "application/vnd.kubernetes.protobuf")


class _BoundedYAMLLoader(yaml.SafeLoader):
    """A safe loader that refuses alias bombs (a few hundred bytes expanding to gigabytes) and
    reads YAML 1.1 timestamps as the strings they are in Kubernetes (sigs.k8s.io/yaml). Pure
    Python: the C loader composes nodes without calling back, so it could not count aliases."""

    aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_YAML_ALIASES:
                raise yaml.YAMLError(f"document uses more than {MAX_YAML_ALIASES} aliases")
        return super().compose_node(parent, index)


_BoundedYAMLLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
)


MAX_NODES = 500_000  # values in one body, counting what YAML aliases repeat


def _too_deep(data: Any) -> bool:
    """Whether a decoded body nests deeper than MAX_DEPTH or holds more than MAX_NODES values
    (YAML aliases share one object among many places; counted per place, as JSON would be)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if depth > MAX_DEPTH or nodes > MAX_NODES:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return False


def decode_body(req: Request) -> Any:
    """The request body as JSON data; YAML or Kubernetes protobuf when the content type says
    so. 400 on bad input (malformed, nested deeper than MAX_DEPTH, a YAML alias bomb), 415 for
    a content type or protobuf kind this server cannot read."""
    if not req.body.strip():
        raise errors.bad_request("the body of the request was empty")
    ctype = req.content_type
    if ctype == PROTOBUF:
        return decode_protobuf(req.body)
    if ctype not in _BODY_TYPES and not ctype.endswith("+json") and not ctype.endswith("+yaml"):
        raise errors.unsupported_media_type(
            f'the body of the request was in an unknown format - accepted media types include: '
            f'application/json, application/yaml, {PROTOBUF}'
        )
    try:
        if "yaml" in ctype:
            try:
                data = yaml.load(req.body, Loader=_BoundedYAMLLoader)
            except yaml.YAMLError as exc:
                raise errors.bad_request(f"error converting YAML to JSON: {str(exc).splitlines()[0]}") from None
            except ValueError as exc:
                raise errors.bad_request(f"error converting YAML to JSON: {exc}") from None
            if isinstance(data, dict):
                data = _string_keys(data)
        else:
            try:
                data = msgspec.json.decode(req.body)
            except msgspec.DecodeError as exc:
                raise errors.bad_request(f"the body of the request was in an unknown format: {exc}") from None
    except RecursionError:
        raise errors.bad_request("the body of the request is nested too deeply") from None
    # Fewer brackets than MAX_DEPTH in a JSON body cannot nest that deep, nor hold MAX_NODES
    # values shared through aliases (YAML only): skip the walk for ordinary objects.
    shallow = "yaml" not in ctype and req.body.count(b"{") + req.body.count(b"[") <= MAX_DEPTH
    if not shallow and isinstance(data, (dict, list)) and _too_deep(data):
        raise errors.bad_request(
            f"the body of the request is nested more than {MAX_DEPTH} levels deep or holds more than {MAX_NODES} values"
        )
    return data


_ACCEPTED = ("application/json", "application/yaml", "application/*", "*/*", "text/plain", "application/vnd.kubernetes.protobuf",
             "application/com.github.proto-openapi.spec.v2@v1.0+protobuf", "application/octet-stream")


def _acceptable(accept: str) -> bool:
    """Whether an Accept header admits something this server answers with (no header: yes)."""
    if not accept.strip():
        return True
    for clause in accept.split(","):
        media = clause.split(";")[0].strip().lower()
        if media in _ACCEPTED or media.endswith("+json"):
            return True
    return False


def _string_keys(value: Any) -> Any:
    """YAML allows non-string keys (`1: b`); JSON objects, and so Kubernetes, have strings."""
    if isinstance(value, dict):
        return {k if isinstance(k, str) else str(k).lower() if isinstance(k, bool) else str(k): _string_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_string_keys(v) for v in value]
    return value


# ---------------------------------------------------------------------- protobuf request bodies
#
# kubectl's typed clients (`create namespace|configmap|secret|deployment|job|cronjob|service|
# serviceaccount|role|rolebinding|...`, `auth can-i`, `auth whoami`) send their objects as
# `application/vnd.kubernetes.protobuf` and do not fall back to JSON, so the server reads that
# encoding for the kinds those commands send. The envelope is the 4-byte magic "k8s\0" and a
# runtime.Unknown message {1: typeMeta {1: apiVersion, 2: kind}, 2: raw object}. The field
# numbers below were read off kubectl's own requests (every `create` subcommand and flag, and
# `create job --from=cronjob/X` of a cron job with every listed pod and container field set)
# and checked against the JSON of the same objects.
#
# A field is "NUMBER:jsonName:type"; types: s string, i integer, b bool, y bytes (base64 in
# JSON), q quantity, t time, ios int-or-string, xv a user's extra values (a list of strings),
# {T} a map of string to T, [T] a list of T, a message name, and _ ignored (a status the
# server resets). A leading * marks an optional (pointer) scalar, kept when zero; other zero
# scalars are Go's unset values, left out as Go's JSON encoding leaves them out. A field
# number not listed is refused unless its value is zero, so nothing is silently dropped.

PROTOBUF = "application/vnd.kubernetes.protobuf"
_PROTO_MAGIC = b"k8s\x00"

_PROTO_MESSAGES: dict[str, str] = {
    "ObjectMeta": "1:name 2:generateName 3:namespace 4:selfLink 5:uid 6:resourceVersion 7:generation:i"
    " 8:creationTimestamp:t 9:deletionTimestamp:t 10:deletionGracePeriodSeconds:*i 11:labels:{s}"
    " 12:annotations:{s} 13:ownerReferences:[OwnerReference] 14:finalizers:[s]",
    "OwnerReference": "1:kind 3:name 4:uid 5:apiVersion 6:controller:*b 7:blockOwnerDeletion:*b",
    "LabelSelector": "1:matchLabels:{s} 2:matchExpressions:[LabelSelectorRequirement]",
    "LabelSelectorRequirement": "1:key 2:operator 3:values:[s]",
    "LocalObjectReference": "1:name",
    "ObjectReference": "1:kind 2:namespace 3:name 4:uid 5:apiVersion 6:resourceVersion 7:fieldPath",
    # core/v1
    "Namespace": "1:metadata:ObjectMeta 2:spec:NamespaceSpec 3:status:_",
    "NamespaceSpec": "1:finalizers:[s]",
    "ConfigMap": "1:metadata:ObjectMeta 2:data:{s} 3:binaryData:{y} 4:immutable:*b",
    "Secret": "1:metadata:ObjectMeta 2:data:{y} 3:type 4:stringData:{s} 5:immutable:*b",
    "ServiceAccount": "1:metadata:ObjectMeta 2:secrets:[ObjectReference] 3:imagePullSecrets:[LocalObjectReference]"
    " 4:automountServiceAccountToken:*b",
    "Service": "1:metadata:ObjectMeta 2:spec:ServiceSpec 3:status:_",
    "ServiceSpec": "1:ports:[ServicePort] 2:selector:{s} 3:clusterIP 4:type 5:externalIPs:[s] 7:sessionAffinity"
    " 8:loadBalancerIP 9:loadBalancerSourceRanges:[s] 10:externalName 11:externalTrafficPolicy"
    " 12:healthCheckNodePort:i 13:publishNotReadyAddresses:b",
    "ServicePort": "1:name 2:protocol 3:port:i 4:targetPort:ios 5:nodePort:i 6:appProtocol:*s",
    "ResourceQuota": "1:metadata:ObjectMeta 2:spec:ResourceQuotaSpec 3:status:_",
    "ResourceQuotaSpec": "1:hard:{q} 2:scopes:[s]",
    "PodTemplateSpec": "1:metadata:ObjectMeta 2:spec:PodSpec",
    "PodSpec": "2:containers:[Container] 3:restartPolicy 4:terminationGracePeriodSeconds:*i"
    " 5:activeDeadlineSeconds:*i 6:dnsPolicy 7:nodeSelector:{s} 8:serviceAccountName 9:serviceAccount"
    " 10:nodeName 11:hostNetwork:b 12:hostPID:b 13:hostIPC:b 14:securityContext:PodSecurityContext"
    " 16:hostname 17:subdomain 19:schedulerName 20:initContainers:[Container] 24:priorityClassName",
    "PodSecurityContext": "",
    "Container": "1:name 2:image 3:command:[s] 4:args:[s] 5:workingDir 6:ports:[ContainerPort] 7:env:[EnvVar]"
    " 8:resources:ResourceRequirements 13:terminationMessagePath 14:imagePullPolicy 16:stdin:b"
    " 17:stdinOnce:b 18:tty:b 20:terminationMessagePolicy",
    "ContainerPort": "1:name 2:hostPort:i 3:containerPort:i 4:protocol 5:hostIP",
    "EnvVar": "1:name 2:value",
    "ResourceRequirements": "1:limits:{q} 2:requests:{q}",
    # apps/v1, batch/v1
    "Deployment": "1:metadata:ObjectMeta 2:spec:DeploymentSpec 3:status:_",
    "DeploymentSpec": "1:replicas:*i 2:selector:LabelSelector 3:template:PodTemplateSpec 4:strategy:DeploymentStrategy"
    " 5:minReadySeconds:i 6:revisionHistoryLimit:*i 7:paused:b 9:progressDeadlineSeconds:*i",
    "DeploymentStrategy": "1:type 2:rollingUpdate:RollingUpdateDeployment",
    "RollingUpdateDeployment": "1:maxUnavailable:ios 2:maxSurge:ios",
    "Job": "1:metadata:ObjectMeta 2:spec:JobSpec 3:status:_",
    "JobSpec": "1:parallelism:*i 2:completions:*i 3:activeDeadlineSeconds:*i 4:selector:LabelSelector"
    " 5:manualSelector:*b 6:template:PodTemplateSpec 7:backoffLimit:*i 8:ttlSecondsAfterFinished:*i"
    " 9:completionMode:*s 10:suspend:*b",
    "CronJob": "1:metadata:ObjectMeta 2:spec:CronJobSpec 3:status:_",
    "CronJobSpec": "1:schedule 2:startingDeadlineSeconds:*i 3:concurrencyPolicy 4:suspend:*b"
    " 5:jobTemplate:JobTemplateSpec 6:successfulJobsHistoryLimit:*i 7:failedJobsHistoryLimit:*i 8:timeZone:*s",
    "JobTemplateSpec": "1:metadata:ObjectMeta 2:spec:JobSpec",
    # rbac, policy, scheduling
    "Role": "1:metadata:ObjectMeta 2:rules:[PolicyRule]",
    "ClusterRole": "1:metadata:ObjectMeta 2:rules:[PolicyRule] 3:aggregationRule:AggregationRule",
    "PolicyRule": "1:verbs:[s] 2:apiGroups:[s] 3:resources:[s] 4:resourceNames:[s] 5:nonResourceURLs:[s]",
    "AggregationRule": "1:clusterRoleSelectors:[LabelSelector]",
    "RoleBinding": "1:metadata:ObjectMeta 2:subjects:[Subject] 3:roleRef:RoleRef",
    "ClusterRoleBinding": "1:metadata:ObjectMeta 2:subjects:[Subject] 3:roleRef:RoleRef",
    "Subject": "1:kind 2:apiGroup 3:name 4:namespace",
    "RoleRef": "1:apiGroup 2:kind 3:name",
    "PodDisruptionBudget": "1:metadata:ObjectMeta 2:spec:PodDisruptionBudgetSpec 3:status:_",
    "PodDisruptionBudgetSpec": "1:minAvailable:ios 2:selector:LabelSelector 3:maxUnavailable:ios"
    " 4:unhealthyPodEvictionPolicy:*s",
    "PriorityClass": "1:metadata:ObjectMeta 2:value:i 3:globalDefault:b 4:description 5:preemptionPolicy:*s",
    # certificates.k8s.io (`kubectl certificate approve|deny` PUT the whole object to /approval)
    "CertificateSigningRequest": "1:metadata:ObjectMeta 2:spec:CertificateSigningRequestSpec"
    " 3:status:CertificateSigningRequestStatus",
    "CertificateSigningRequestSpec": "1:request:y 2:username 3:uid 4:groups:[s] 5:usages:[s] 6:extra:{xv} 7:signerName"
    " 8:expirationSeconds:*i",
    "CertificateSigningRequestStatus": "1:conditions:[CertificateSigningRequestCondition] 2:certificate:y",
    "CertificateSigningRequestCondition": "1:type 2:reason 3:message 4:lastUpdateTime:t 5:lastTransitionTime:t 6:status",
    # authorization and authentication reviews
    "SelfSubjectAccessReview": "1:metadata:ObjectMeta 2:spec:SelfSubjectAccessReviewSpec 3:status:_",
    "SelfSubjectAccessReviewSpec": "1:resourceAttributes:ResourceAttributes 2:nonResourceAttributes:NonResourceAttributes",
    "ResourceAttributes": "1:namespace 2:verb 3:group 4:version 5:resource 6:subresource 7:name",
    "NonResourceAttributes": "1:path 2:verb",
    "SelfSubjectRulesReview": "1:metadata:ObjectMeta 2:spec:SelfSubjectRulesReviewSpec 3:status:_",
    "SelfSubjectRulesReviewSpec": "1:namespace",
    "SelfSubjectReview": "1:metadata:ObjectMeta 2:status:_",
}

# The top-level kinds readable from protobuf: (group, kind) -> message.
_PROTO_KINDS: dict[tuple[str, str], str] = {
    **{("", k): k for k in ("Namespace", "ConfigMap", "Secret", "ServiceAccount", "Service", "ResourceQuota")},
    **{("apps", "Deployment"): "Deployment", ("batch", "Job"): "Job", ("batch", "CronJob"): "CronJob"},
    **{("rbac.authorization.k8s.io", k): k for k in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")},
    ("policy", "PodDisruptionBudget"): "PodDisruptionBudget",
    ("scheduling.k8s.io", "PriorityClass"): "PriorityClass",
    ("authorization.k8s.io", "SelfSubjectAccessReview"): "SelfSubjectAccessReview",
    ("authorization.k8s.io", "SelfSubjectRulesReview"): "SelfSubjectRulesReview",
    ("authentication.k8s.io", "SelfSubjectReview"): "SelfSubjectReview",
    ("certificates.k8s.io", "CertificateSigningRequest"): "CertificateSigningRequest",
}


class _ProtoError(ValueError):
    pass


def _proto_schema(message: str) -> dict[int, tuple[str, str]]:
    parsed = _PROTO_SCHEMAS.get(message)
    if parsed is None:
        parsed = {}
        for spec in _PROTO_MESSAGES[message].split():
            number, name, *kind = spec.split(":")
            parsed[int(number)] = (name, kind[0] if kind else "s")
        _PROTO_SCHEMAS[message] = parsed
    return parsed


_PROTO_SCHEMAS: dict[str, dict[int, tuple[str, str]]] = {}


def _proto_fields(data: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, value) of each field of one message, in order."""
    if not isinstance(data, bytes):
        raise _ProtoError("expected a message")
    out: list[tuple[int, int, Any]] = []
    pos, end = 0, len(data)

    def varint() -> int:
        nonlocal pos
        result = shift = 0
        while True:
            if pos >= end or shift > 63:
                raise _ProtoError("truncated varint")
            byte = data[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return result

    while pos < end:
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            value: Any = varint()
        elif wire == 2:
            size = varint()
            if pos + size > end:
                raise _ProtoError("truncated field")
            value = data[pos : pos + size]
            pos += size
        elif wire == 1:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos : pos + 4], pos + 4
        else:
            raise _ProtoError(f"unsupported wire type {wire}")
        if number == 0 or pos > end:
            raise _ProtoError("malformed field")
        out.append((number, wire, value))
    return out


def _proto_int(value: Any) -> int:
    if not isinstance(value, int):
        raise _ProtoError("expected an integer")
    return value - (1 << 64) if value >= 1 << 63 else value


def _proto_str(value: Any) -> str:
    if not isinstance(value, bytes):
        raise _ProtoError("expected a string")
    try:
        return value.decode()
    except UnicodeDecodeError:
        raise _ProtoError("a string is not valid UTF-8") from None


def _proto_scalar(kind: str, wire: int, value: Any) -> Any:
    import base64
    import datetime

    if kind == "s":
        return _proto_str(value)
    if kind == "i":
        return _proto_int(value)
    if kind == "b":
        return bool(_proto_int(value))
    if kind == "y":
        if not isinstance(value, bytes):
            raise _ProtoError("expected bytes")
        return base64.b64encode(value).decode()
    if kind == "q":  # resource.Quantity: {1: string}
        fields = _proto_fields(value)
        return next((_proto_str(v) for n, _, v in fields if n == 1), "0")
    if kind == "t":  # metav1.Time: {1: seconds, 2: nanos}
        seconds = next((_proto_int(v) for n, _, v in _proto_fields(value) if n == 1), 0)
        try:
            return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if seconds else None
        except (OverflowError, OSError, ValueError):
            raise _ProtoError(f"time out of range: {seconds}") from None
    if kind == "xv":  # an ExtraValue: {1: repeated string}, a plain list in JSON
        return [_proto_str(v) for n, _, v in _proto_fields(value) if n == 1]
    if kind == "ios":  # intstr.IntOrString: {1: type (0 int, 1 string), 2: intVal, 3: strVal}
        parts = {n: v for n, _, v in _proto_fields(value)}
        return _proto_str(parts.get(3, b"")) if _proto_int(parts.get(1, 0)) == 1 else _proto_int(parts.get(2, 0))
    return _proto_message(kind, value)


def _proto_zero(value: Any) -> bool:
    return value in (0, b"")


def _proto_message(message: str, data: Any) -> dict[str, Any]:
    if not isinstance(data, bytes):
        raise _ProtoError(f"expected a {message} message")
    schema = _proto_schema(message)
    out: dict[str, Any] = {}
    for number, wire, value in _proto_fields(data):
        field_spec = schema.get(number)
        if field_spec is None:
            if _proto_zero(value):
                continue  # an unset Go field that gogo-protobuf writes anyway
            raise _ProtoError(f"field {number} of {message} is not supported in protobuf by this server")
        name, kind = field_spec
        if kind == "_":
            continue
        scalar = kind.strip("*[]") in ("i", "b")
        if wire != (0 if scalar else 2) and not (scalar and kind.startswith("[") and wire == 2):
            raise _ProtoError(f"field {number} ({name}) of {message} has the wrong wire type {wire}")
        if kind.startswith("{"):  # map entry {1: key, 2: value}
            entry = {n: v for n, _, v in _proto_fields(value)}
            inner = kind[1:-1]
            raw = entry.get(2, b"" if inner != "i" else 0)
            out.setdefault(name, {})[_proto_str(entry.get(1, b""))] = _proto_scalar(inner, 2, raw)
        elif kind.startswith("["):
            inner = kind[1:-1]
            items = out.setdefault(name, [])
            if inner in ("i", "b") and wire == 2:  # packed
                items.extend(_proto_scalar(inner, 0, v) for _, _, v in _proto_packed(value))
            else:
                items.append(_proto_scalar(inner, wire, value))
        elif kind.startswith("*"):
            out[name] = _proto_scalar(kind[1:], wire, value)
        elif kind in ("s", "i", "b", "y"):
            if not _proto_zero(value):
                out[name] = _proto_scalar(kind, wire, value)
        else:
            converted = _proto_scalar(kind, wire, value)
            if converted is not None:
                out[name] = converted
    return out


def _proto_packed(data: Any) -> list[tuple[int, int, Any]]:
    if not isinstance(data, bytes):
        raise _ProtoError("expected packed integers")
    values: list[tuple[int, int, Any]] = []
    rest = data
    while rest:
        # a packed run is a sequence of bare varints: read them as fields of number 1
        value, used = _read_varint(rest)
        values.append((1, 0, value))
        rest = rest[used:]
    return values


def _read_varint(data: bytes) -> tuple[int, int]:
    result = shift = 0
    for index, byte in enumerate(data):
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, index + 1
    raise _ProtoError("truncated varint")


def decode_protobuf(body: bytes) -> dict[str, Any]:
    """A Kubernetes protobuf request body as the JSON data of the same object."""
    if not body.startswith(_PROTO_MAGIC):
        raise errors.bad_request("the body of the request was in an unknown format: not a Kubernetes protobuf envelope")
    try:
        envelope = {n: v for n, _, v in _proto_fields(body[len(_PROTO_MAGIC) :])}
        type_meta = {n: v for n, _, v in _proto_fields(envelope.get(1, b""))}
        api_version = _proto_str(type_meta.get(1, b""))
        kind = _proto_str(type_meta.get(2, b""))
    except _ProtoError as exc:
        raise errors.bad_request(f"the body of the request was in an unknown format: {exc}") from None
    if envelope.get(3) or envelope.get(4):
        raise errors.unsupported_media_type("the body of the request was in an unknown format: encoded protobuf content is not supported")
    group = api_version.rpartition("/")[0]
    message = _PROTO_KINDS.get((group, kind))
    if message is None:
        raise errors.unsupported_media_type(
            f"the body of the request was in an unknown format - {api_version}, Kind={kind} is not readable as "
            "protobuf by this server; accepted media types include: application/json, application/yaml"
        )
    try:
        obj = _proto_message(message, envelope.get(2, b""))
    except _ProtoError as exc:
        raise errors.bad_request(f"{kind} in version \"{api_version.rpartition('/')[2]}\" cannot be handled as a {kind}: {exc}") from None
    return {"apiVersion": api_version, "kind": kind, **obj}


class APIServerApp:
    """The ASGI application. `authenticate` turns a scope into a user (None: anonymous); when
    it is not given, every request acts as the system user (plain in-process serving)."""

    def __init__(
        self,
        registry: Registry,
        kinds: KindRegistry,
        *,
        clock: Clock | None = None,
        authenticate: Authenticator | None = None,
        public_path: Callable[[str], bool] | None = None,
    ) -> None:
        self.registry = registry
        self.kinds = kinds
        self.clock = clock or RealClock()
        self.authenticate = authenticate
        self.public_path = public_path or (lambda p: p.split("/")[1] in ("healthz", "livez", "readyz", "version"))
        self.ready = True
        self.stopping = anyio.Event()
        self.resources = handlers.ResourceHandlers(self)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = {k: v[-1] for k, v in parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True).items()}
        path = scope["path"]
        req = Request(scope["method"], path, query, headers, SYSTEM_USER, receive, send)
        try:
            if "kube_lite.user" in scope:
                req.user = scope["kube_lite.user"]
            elif self.authenticate is not None:
                user = self.authenticate(scope)
                if user is None and not self.public_path(path):
                    raise errors.unauthorized()
                req.user = user or UserInfo("system:anonymous", ("system:unauthenticated",))
            if req.method in ("POST", "PUT", "PATCH", "DELETE"):
                req.body = await self._read_body(receive, headers)
            await self.route(req)
        except errors.APIError as exc:
            await self.respond_status(req, exc)
        except Exception as exc:  # noqa: BLE001 - the last line of defence: answer, never crash
            log.exception("request failed", method=req.method, path=path)
            await self.respond_status(req, errors.internal_error(type(exc).__name__))

    async def _read_body(self, receive: Receive, headers: dict[str, str]) -> bytes:
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
            raise errors.too_large()
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                raise errors.too_large()
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        return b"".join(chunks)

    # ------------------------------------------------------------------ responses

    async def respond(
        self,
        req: Request,
        code: int,
        body: bytes,
        content_type: bytes = _JSON,
    ) -> None:
        headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *req.response_headers]
        await req.send({"type": "http.response.start", "status": code, "headers": headers})
        await req.send({"type": "http.response.body", "body": body})

    async def respond_json(self, req: Request, code: int, data: Any) -> None:
        if "application/yaml" in req.accept and "json" not in req.accept.split("application/yaml")[0]:
            await self.respond(req, code, yaml.safe_dump(msgspec.to_builtins(data), sort_keys=False).encode(), b"application/yaml")
            return
        await self.respond(req, code, msgspec.json.encode(data))

    async def respond_status(self, req: Request, exc: errors.APIError) -> None:
        with contextlib.suppress(Exception):
            await self.respond(req, exc.code, msgspec.json.encode(exc.status))

    # ------------------------------------------------------------------ routing

    async def route(self, req: Request) -> None:
        path = req.path
        parts = [unquote(p) for p in path.strip("/").split("/")] if path.strip("/") else []
        if not parts:
            await self.respond_json(req, 200, {"paths": sorted(self._root_paths())})
            return
        head = parts[0]
        resource_path = (head == "api" and len(parts) > 2) or (head == "apis" and len(parts) > 3)
        if not resource_path and req.method not in ("GET", "HEAD"):
            raise errors.method_not_allowed(req.method, path)
        if not _acceptable(req.accept):
            raise errors.not_acceptable(
                f"only the following media types are accepted: application/json, application/yaml, {PROTOBUF}"
            )
        if head in ("healthz", "livez", "readyz"):
            healthy = self.ready or head == "livez"
            await self.respond(req, 200 if healthy else 503, b"ok" if healthy else b"not ready", b"text/plain; charset=utf-8")
            return
        if head == "version":
            await self.respond_json(req, 200, KUBE_VERSION)
            return
        if head == "kube-lite" and parts[1:] == ["snapshot"] and req.method == "GET":
            if "system:masters" not in req.user.groups:
                raise errors.APIError(403, "Forbidden", f'forbidden: User "{req.user.name}" cannot get path "{path}"')
            data = await self.registry.backend.snapshot()
            await self.respond(req, 200, data, b"application/octet-stream")
            return
        if head == "openapi":
            await handlers.openapi(self, req, parts)
            return
        if head == "api":
            if len(parts) == 1:
                await handlers.discovery_api(self, req)
                return
            if parts[1] != "v1":
                raise errors.APIError(404, "NotFound", "the server could not find the requested resource")
            if len(parts) == 2:
                await handlers.discovery_group_version(self, req, "", "v1")
                return
            await self.resources.dispatch(req, "", "v1", parts[2:])
            return
        if head == "apis":
            if len(parts) == 1:
                await handlers.discovery_apis(self, req)
                return
            if len(parts) == 2:
                await handlers.discovery_group(self, req, parts[1])
                return
            if len(parts) == 3:
                await handlers.discovery_group_version(self, req, parts[1], parts[2])
                return
            await self.resources.dispatch(req, parts[1], parts[2], parts[3:])
            return
        raise errors.APIError(404, "NotFound", "the server could not find the requested resource")

    def _root_paths(self) -> list[str]:
        paths = ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz", "/version", "/openapi/v2", "/openapi/v3"]
        for gv in self.kinds.group_versions():
            if gv.group:
                paths += [f"/apis/{gv.group}", f"/apis/{gv.group}/{gv.version}"]
        return paths

    def kind_for(self, group: str, version: str, resource: str) -> KindInfo:
        info = self.kinds.get(group, version, resource)
        if info is None:
            raise errors.APIError(404, "NotFound", "the server could not find the requested resource")
        return info
