"""Kubernetes protobuf request bodies, read as the JSON data of the same object.

kubectl's typed clients send some objects only as `application/vnd.kubernetes.protobuf`; this
module turns such a body into the dict the JSON path would have produced (400 for a malformed
body, 415 for a kind it does not read).
"""

from __future__ import annotations

from typing import Any

from kube_lite.api import errors

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
