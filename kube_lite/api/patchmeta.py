"""Strategic-merge-patch metadata of the built-in kinds: which list merges by which key.

Kubernetes keeps this metadata in the Go struct tags of its API types (`patchStrategy`,
`patchMergeKey`) and publishes it in OpenAPI as `x-kubernetes-patch-strategy` and
`x-kubernetes-patch-merge-key`. kube-lite keeps the same facts here, once, as a table keyed by
type: a type is named by its OpenAPI definition name (`io.k8s.api.core.v1.PodSpec`) and maps
each JSON field that matters to a `FieldPatchMeta` (its strategy, its merge key, and the type
of its value or list element). `_KINDS` says which type is the root of each (group, kind), so
one `PodSpec` entry serves Pod, PodTemplate, ReplicationController, Deployment, ReplicaSet,
StatefulSet, DaemonSet, Job and CronJob (spec.jobTemplate.spec.template.spec).

Only fields that carry a tag, and the struct fields on the way to them, are listed. A field
that is absent from the table has the default behaviour, which is also Kubernetes': maps and
structs merge key by key, lists are replaced wholesale. That is why, for example,
`tolerations`, `command` or `ServiceAccount.imagePullSecrets` do not appear.

The facts come from REFERENCE.md Part B §1 (Kubernetes' types.go), cross-checked by probing
the behaviour of kubectl 1.37.1, whose compiled-in structs are the same tags. The `retainKeys`
half of a strategy cannot be observed by applying patches (kubectl honours a `$retainKeys`
directive wherever it appears); it matters to clients that generate patches and to OpenAPI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

# OpenAPI definition-name prefixes of the Go packages the types live in.
_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
_CORE = "io.k8s.api.core.v1."
_APPS = "io.k8s.api.apps.v1."
_BATCH = "io.k8s.api.batch.v1."
_POLICY = "io.k8s.api.policy.v1."
_AUTOSCALING = "io.k8s.api.autoscaling.v2."
_NETWORKING = "io.k8s.api.networking.v1."
_STORAGE = "io.k8s.api.storage.v1."
_ADMISSION = "io.k8s.api.admissionregistration.v1."
_FLOWCONTROL = "io.k8s.api.flowcontrol.v1."
_CERTIFICATES = "io.k8s.api.certificates.v1."
_RESOURCE = "io.k8s.api.resource.v1."
_STORAGEMIGRATION = "io.k8s.api.storagemigration.v1."

OBJECT_META = _META + "ObjectMeta"


@dataclass(frozen=True, slots=True)
class FieldPatchMeta:
    """How a strategic merge patch treats one field of one type.

    `strategy` is spelled as the Go tag spells it: "" (no tag: a list is replaced, a map or
    struct merges), "merge", "merge,retainKeys", "retainKeys" or "replace". `merge_key` is
    the key list elements are matched by (None for a merge list of primitives, which merges
    as a set). `type_name` is the definition name of the struct the field holds (the element
    type for a list), when that struct has tagged fields of its own; else None.
    """

    strategy: str = ""
    merge_key: str | None = None
    type_name: str | None = None

    @property
    def merges(self) -> bool:
        """True when a list in this field merges (by key or as a set) instead of being replaced."""
        return "merge" in self.strategy.split(",")

    @property
    def replaces(self) -> bool:
        """True when the field's value is replaced wholesale even though it is a struct."""
        return self.strategy == "replace"


def _merge(key: str | None = None, type_name: str | None = None) -> FieldPatchMeta:
    return FieldPatchMeta("merge", key, type_name)


def _merge_retain(key: str, type_name: str | None = None) -> FieldPatchMeta:
    return FieldPatchMeta("merge,retainKeys", key, type_name)


def _struct(type_name: str) -> FieldPatchMeta:
    """An untagged field whose struct type has tagged fields further down."""
    return FieldPatchMeta("", None, type_name)


_CONDITIONS = _merge("type")

# Containers and ephemeral containers carry the same four tagged lists.
_CONTAINER_LISTS = {
    "ports": _merge("containerPort"),
    "env": _merge("name"),
    "volumeMounts": _merge("mountPath"),
    "volumeDevices": _merge("devicePath"),
}

_POD_TEMPLATE = {"metadata": _struct(OBJECT_META), "spec": _struct(_CORE + "PodSpec")}


def _kind(spec: str | None = None, status: str | None = None, **more: FieldPatchMeta) -> dict[str, FieldPatchMeta]:
    """Fields of a top-level kind: metadata always, spec and status when tagged below."""
    fields = {"metadata": _struct(OBJECT_META)}
    if spec is not None:
        fields["spec"] = _struct(spec)
    if status is not None:
        fields["status"] = _struct(status)
    fields.update(more)
    return fields


def _status(**fields: FieldPatchMeta) -> dict[str, FieldPatchMeta]:
    return dict(fields)


# type definition name -> JSON field -> metadata. Only tagged fields and the paths to them.
_TYPES: dict[str, dict[str, FieldPatchMeta]] = {
    # meta/v1
    OBJECT_META: {"ownerReferences": _merge("uid"), "finalizers": _merge()},
    # core/v1: pods and their templates
    _CORE + "Pod": _kind(_CORE + "PodSpec", _CORE + "PodStatus"),
    _CORE + "PodSpec": {
        "containers": _merge("name", _CORE + "Container"),
        "initContainers": _merge("name", _CORE + "Container"),
        "ephemeralContainers": _merge("name", _CORE + "EphemeralContainer"),
        "volumes": _merge_retain("name", _CORE + "Volume"),
        "imagePullSecrets": _merge("name"),
        "hostAliases": _merge("ip"),
        "topologySpreadConstraints": _merge("topologyKey"),
        "schedulingGates": _merge("name"),
        "resourceClaims": _merge_retain("name"),
        # Alpha (feature gate EvictionRequestAPI); kubectl 1.37 already knows the tag.
        "evictionResponders": _merge("name"),
    },
    _CORE + "Container": dict(_CONTAINER_LISTS),
    _CORE + "EphemeralContainer": dict(_CONTAINER_LISTS),
    _CORE + "Volume": {"ephemeral": _struct(_CORE + "EphemeralVolumeSource")},
    _CORE + "EphemeralVolumeSource": {"volumeClaimTemplate": _struct(_CORE + "PersistentVolumeClaimTemplate")},
    _CORE + "PersistentVolumeClaimTemplate": {"metadata": _struct(OBJECT_META)},
    _CORE + "PodStatus": {
        "conditions": _CONDITIONS,
        "podIPs": _merge("ip"),
        "hostIPs": _merge("ip"),
        "resourceClaimStatuses": _merge_retain("name"),
        "nodeAllocatableResourceClaimStatuses": _merge(
            "resourceClaimName", _CORE + "NodeAllocatableResourceClaimStatus"
        ),
        # These lists are untagged (replaced), so a patch never reaches inside them; the link
        # is kept so that the ContainerStatus / PodVolumeHealth tags reach OpenAPI.
        "containerStatuses": _struct(_CORE + "ContainerStatus"),
        "initContainerStatuses": _struct(_CORE + "ContainerStatus"),
        "ephemeralContainerStatuses": _struct(_CORE + "ContainerStatus"),
        "volumeHealth": _struct(_CORE + "PodVolumeHealth"),
    },
    _CORE + "NodeAllocatableResourceClaimStatus": {"mapping": _merge("name"), "overhead": _merge("name")},
    _CORE + "ContainerStatus": {
        "volumeMounts": _merge("mountPath"),
        "allocatedResourcesStatus": _merge("name"),
    },
    _CORE + "PodVolumeHealth": {"healthConditions": _merge("status")},
    _CORE + "PodTemplateSpec": dict(_POD_TEMPLATE),
    _CORE + "PodTemplate": _kind(template=_struct(_CORE + "PodTemplateSpec")),
    _CORE + "ReplicationController": _kind(
        _CORE + "ReplicationControllerSpec", _CORE + "ReplicationControllerStatus"
    ),
    _CORE + "ReplicationControllerSpec": {"template": _struct(_CORE + "PodTemplateSpec")},
    _CORE + "ReplicationControllerStatus": _status(conditions=_CONDITIONS),
    # core/v1: the rest
    _CORE + "Service": _kind(_CORE + "ServiceSpec", _CORE + "ServiceStatus"),
    _CORE + "ServiceSpec": {"ports": _merge("port")},
    _CORE + "ServiceStatus": _status(conditions=_CONDITIONS),
    _CORE + "ServiceAccount": _kind(secrets=_merge("name")),
    _CORE + "Node": _kind(_CORE + "NodeSpec", _CORE + "NodeStatus"),
    _CORE + "NodeSpec": {"podCIDRs": _merge()},
    _CORE + "NodeStatus": _status(addresses=_merge("type"), conditions=_CONDITIONS),
    _CORE + "Namespace": _kind(status=_CORE + "NamespaceStatus"),
    _CORE + "NamespaceStatus": _status(conditions=_CONDITIONS),
    _CORE + "PersistentVolumeClaim": _kind(status=_CORE + "PersistentVolumeClaimStatus"),
    _CORE + "PersistentVolumeClaimStatus": _status(
        conditions=_CONDITIONS, healthStatus=_struct(_CORE + "VolumeHealthStatus")
    ),
    # Feature gate CSIVolumeHealth.
    _CORE + "VolumeHealthStatus": {"healthConditions": _merge("status")},
    _CORE + "ComponentStatus": _kind(conditions=_CONDITIONS),
    # apps/v1
    _APPS + "Deployment": _kind(_APPS + "DeploymentSpec", _APPS + "DeploymentStatus"),
    _APPS + "DeploymentSpec": {
        "template": _struct(_CORE + "PodTemplateSpec"),
        "strategy": FieldPatchMeta("retainKeys"),
    },
    _APPS + "DeploymentStatus": _status(conditions=_CONDITIONS),
    _APPS + "ReplicaSet": _kind(_APPS + "ReplicaSetSpec", _APPS + "ReplicaSetStatus"),
    _APPS + "ReplicaSetSpec": {"template": _struct(_CORE + "PodTemplateSpec")},
    _APPS + "ReplicaSetStatus": _status(conditions=_CONDITIONS),
    _APPS + "StatefulSet": _kind(_APPS + "StatefulSetSpec", _APPS + "StatefulSetStatus"),
    _APPS + "StatefulSetSpec": {
        "template": _struct(_CORE + "PodTemplateSpec"),
        # Untagged, hence replaced; linked for OpenAPI only.
        "volumeClaimTemplates": _struct(_CORE + "PersistentVolumeClaim"),
    },
    _APPS + "StatefulSetStatus": _status(conditions=_CONDITIONS),
    _APPS + "DaemonSet": _kind(_APPS + "DaemonSetSpec", _APPS + "DaemonSetStatus"),
    _APPS + "DaemonSetSpec": {"template": _struct(_CORE + "PodTemplateSpec")},
    _APPS + "DaemonSetStatus": _status(conditions=_CONDITIONS),
    # batch/v1
    _BATCH + "Job": _kind(_BATCH + "JobSpec", _BATCH + "JobStatus"),
    _BATCH + "JobSpec": {
        "template": _struct(_CORE + "PodTemplateSpec"),
        "scheduling": _struct(_BATCH + "JobSchedulingConfiguration"),
    },
    # Alpha.
    _BATCH + "JobSchedulingConfiguration": {"resourceClaims": _merge("name")},
    _BATCH + "JobStatus": _status(conditions=_CONDITIONS),
    _BATCH + "CronJob": _kind(_BATCH + "CronJobSpec"),
    _BATCH + "CronJobSpec": {"jobTemplate": _struct(_BATCH + "JobTemplateSpec")},
    _BATCH + "JobTemplateSpec": {"metadata": _struct(OBJECT_META), "spec": _struct(_BATCH + "JobSpec")},
    # policy/v1
    _POLICY + "PodDisruptionBudget": _kind(_POLICY + "PodDisruptionBudgetSpec", _POLICY + "PodDisruptionBudgetStatus"),
    _POLICY + "PodDisruptionBudgetSpec": {"selector": FieldPatchMeta("replace")},
    _POLICY + "PodDisruptionBudgetStatus": _status(conditions=_CONDITIONS),
    # autoscaling/v2 (v1 has no conditions field, so the v2 table serves both)
    _AUTOSCALING + "HorizontalPodAutoscaler": _kind(status=_AUTOSCALING + "HorizontalPodAutoscalerStatus"),
    _AUTOSCALING + "HorizontalPodAutoscalerStatus": _status(conditions=_CONDITIONS),
    # networking/v1
    _NETWORKING + "ServiceCIDR": _kind(status=_NETWORKING + "ServiceCIDRStatus"),
    _NETWORKING + "ServiceCIDRStatus": _status(conditions=_CONDITIONS),
    # storage/v1
    _STORAGE + "CSINode": _kind(_STORAGE + "CSINodeSpec", _STORAGE + "CSINodeStatus"),
    _STORAGE + "CSINodeSpec": {"drivers": _merge("name")},
    _STORAGE + "CSINodeStatus": {"storageHealth": _merge("name")},
    # admissionregistration/v1
    _ADMISSION + "MutatingWebhookConfiguration": _kind(webhooks=_merge("name", _ADMISSION + "MutatingWebhook")),
    _ADMISSION + "MutatingWebhook": {"matchConditions": _merge("name")},
    _ADMISSION + "ValidatingWebhookConfiguration": _kind(
        webhooks=_merge("name", _ADMISSION + "ValidatingWebhook")
    ),
    _ADMISSION + "ValidatingWebhook": {"matchConditions": _merge("name")},
    _ADMISSION + "ValidatingAdmissionPolicy": _kind(_ADMISSION + "ValidatingAdmissionPolicySpec"),
    _ADMISSION + "ValidatingAdmissionPolicySpec": {
        "matchConditions": _merge("name"),
        "variables": _merge("name"),
    },
    _ADMISSION + "MutatingAdmissionPolicy": _kind(_ADMISSION + "MutatingAdmissionPolicySpec"),
    _ADMISSION + "MutatingAdmissionPolicySpec": {"matchConditions": _merge("name")},
    # flowcontrol/v1
    _FLOWCONTROL + "FlowSchema": _kind(status=_FLOWCONTROL + "FlowSchemaStatus"),
    _FLOWCONTROL + "FlowSchemaStatus": _status(conditions=_CONDITIONS),
    _FLOWCONTROL + "PriorityLevelConfiguration": _kind(status=_FLOWCONTROL + "PriorityLevelConfigurationStatus"),
    _FLOWCONTROL + "PriorityLevelConfigurationStatus": _status(conditions=_CONDITIONS),
    # certificates/v1
    _CERTIFICATES + "PodCertificateRequest": _kind(status=_CERTIFICATES + "PodCertificateRequestStatus"),
    _CERTIFICATES + "PodCertificateRequestStatus": _status(conditions=_CONDITIONS),
    # resource/v1
    _RESOURCE + "DeviceTaintRule": _kind(status=_RESOURCE + "DeviceTaintRuleStatus"),
    _RESOURCE + "DeviceTaintRuleStatus": _status(conditions=_CONDITIONS),
    _RESOURCE + "ResourceClaimTemplate": _kind(_RESOURCE + "ResourceClaimTemplateSpec"),
    _RESOURCE + "ResourceClaimTemplateSpec": {"metadata": _struct(OBJECT_META)},
    # storagemigration/v1
    _STORAGEMIGRATION + "StorageVersionMigration": _kind(status=_STORAGEMIGRATION + "StorageVersionMigrationStatus"),
    _STORAGEMIGRATION + "StorageVersionMigrationStatus": _status(conditions=_CONDITIONS),
}

# Kinds whose only tagged fields are in metadata: (group, kind, definition-name prefix).
_PLAIN_KINDS: list[tuple[str, str, str]] = [
    ("", kind, _CORE)
    for kind in (
        "ConfigMap", "Secret", "Endpoints", "Event", "LimitRange", "ResourceQuota",
        "PersistentVolume", "Binding",
    )
] + [
    ("apps", "ControllerRevision", _APPS),
    ("policy", "Eviction", _POLICY),
    ("autoscaling", "Scale", "io.k8s.api.autoscaling.v1."),
    ("networking.k8s.io", "Ingress", _NETWORKING),
    ("networking.k8s.io", "IngressClass", _NETWORKING),
    ("networking.k8s.io", "NetworkPolicy", _NETWORKING),
    ("networking.k8s.io", "IPAddress", _NETWORKING),
    ("rbac.authorization.k8s.io", "Role", "io.k8s.api.rbac.v1."),
    ("rbac.authorization.k8s.io", "ClusterRole", "io.k8s.api.rbac.v1."),
    ("rbac.authorization.k8s.io", "RoleBinding", "io.k8s.api.rbac.v1."),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding", "io.k8s.api.rbac.v1."),
    ("coordination.k8s.io", "Lease", "io.k8s.api.coordination.v1."),
    ("discovery.k8s.io", "EndpointSlice", "io.k8s.api.discovery.v1."),
    ("events.k8s.io", "Event", "io.k8s.api.events.v1."),
    ("storage.k8s.io", "StorageClass", _STORAGE),
    ("storage.k8s.io", "CSIDriver", _STORAGE),
    ("storage.k8s.io", "CSIStorageCapacity", _STORAGE),
    ("storage.k8s.io", "VolumeAttachment", _STORAGE),
    ("storage.k8s.io", "VolumeAttributesClass", _STORAGE),
    ("scheduling.k8s.io", "PriorityClass", "io.k8s.api.scheduling.v1."),
    ("node.k8s.io", "RuntimeClass", "io.k8s.api.node.v1."),
    ("certificates.k8s.io", "CertificateSigningRequest", _CERTIFICATES),
    ("certificates.k8s.io", "ClusterTrustBundle", _CERTIFICATES),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding", _ADMISSION),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding", _ADMISSION),
    ("resource.k8s.io", "DeviceClass", _RESOURCE),
    ("resource.k8s.io", "ResourceClaim", _RESOURCE),
    ("resource.k8s.io", "ResourceSlice", _RESOURCE),
    # Served by the apiextensions and aggregator servers in Kubernetes, from typed Go structs,
    # so they accept strategic merge patches (kubectl cannot check them locally).
    ("apiextensions.k8s.io", "CustomResourceDefinition", "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1."),
    ("apiregistration.k8s.io", "APIService", "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1."),
    ("authentication.k8s.io", "TokenReview", "io.k8s.api.authentication.v1."),
    ("authentication.k8s.io", "SelfSubjectReview", "io.k8s.api.authentication.v1."),
    ("authorization.k8s.io", "SubjectAccessReview", "io.k8s.api.authorization.v1."),
    ("authorization.k8s.io", "SelfSubjectAccessReview", "io.k8s.api.authorization.v1."),
    ("authorization.k8s.io", "LocalSubjectAccessReview", "io.k8s.api.authorization.v1."),
    ("authorization.k8s.io", "SelfSubjectRulesReview", "io.k8s.api.authorization.v1."),
]

for _group, _kind_name, _prefix in _PLAIN_KINDS:
    _TYPES.setdefault(_prefix + _kind_name, _kind())

# (group, kind) -> definition name of the root type.
_KINDS: dict[tuple[str, str], str] = {
    ("", "Pod"): _CORE + "Pod",
    ("", "PodTemplate"): _CORE + "PodTemplate",
    ("", "ReplicationController"): _CORE + "ReplicationController",
    ("", "Service"): _CORE + "Service",
    ("", "ServiceAccount"): _CORE + "ServiceAccount",
    ("", "Node"): _CORE + "Node",
    ("", "Namespace"): _CORE + "Namespace",
    ("", "PersistentVolumeClaim"): _CORE + "PersistentVolumeClaim",
    ("", "ComponentStatus"): _CORE + "ComponentStatus",
    ("apps", "Deployment"): _APPS + "Deployment",
    ("apps", "ReplicaSet"): _APPS + "ReplicaSet",
    ("apps", "StatefulSet"): _APPS + "StatefulSet",
    ("apps", "DaemonSet"): _APPS + "DaemonSet",
    ("batch", "Job"): _BATCH + "Job",
    ("batch", "CronJob"): _BATCH + "CronJob",
    ("policy", "PodDisruptionBudget"): _POLICY + "PodDisruptionBudget",
    ("autoscaling", "HorizontalPodAutoscaler"): _AUTOSCALING + "HorizontalPodAutoscaler",
    ("networking.k8s.io", "ServiceCIDR"): _NETWORKING + "ServiceCIDR",
    ("storage.k8s.io", "CSINode"): _STORAGE + "CSINode",
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"): _ADMISSION + "MutatingWebhookConfiguration",
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"): _ADMISSION + "ValidatingWebhookConfiguration",
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"): _ADMISSION + "ValidatingAdmissionPolicy",
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"): _ADMISSION + "MutatingAdmissionPolicy",
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"): _FLOWCONTROL + "FlowSchema",
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"): _FLOWCONTROL + "PriorityLevelConfiguration",
    ("certificates.k8s.io", "PodCertificateRequest"): _CERTIFICATES + "PodCertificateRequest",
    ("resource.k8s.io", "DeviceTaintRule"): _RESOURCE + "DeviceTaintRule",
    ("resource.k8s.io", "ResourceClaimTemplate"): _RESOURCE + "ResourceClaimTemplate",
    ("storagemigration.k8s.io", "StorageVersionMigration"): _STORAGEMIGRATION + "StorageVersionMigration",
}
_KINDS.update({(group, kind): prefix + kind for group, kind, prefix in _PLAIN_KINDS})


class PatchSchema:
    """The patch metadata of one struct type, navigable field by field.

    Instances are immutable and shared (one per type name); build them with `type_schema` or
    `schema_for`, not directly.
    """

    __slots__ = ("type_name", "_fields")

    def __init__(self, type_name: str, fields: dict[str, FieldPatchMeta]) -> None:
        self.type_name = type_name
        self._fields = fields

    def field(self, name: str) -> FieldPatchMeta | None:
        """The metadata of JSON field `name`, or None when the field has default behaviour."""
        return self._fields.get(name)

    def child(self, name: str) -> PatchSchema | None:
        """The schema of the struct held by field `name` (its element type for a list), or None
        when nothing below that field is tagged."""
        meta = self._fields.get(name)
        if meta is None or meta.type_name is None:
            return None
        return type_schema(meta.type_name)

    def __repr__(self) -> str:
        return f"PatchSchema({self.type_name!r})"


_SCHEMAS: dict[str, PatchSchema] = {}


def type_schema(type_name: str) -> PatchSchema:
    """The schema of the type with OpenAPI definition name `type_name`.

    A type that is not in the table gets an empty schema (every field default). Never raises.
    """
    schema = _SCHEMAS.get(type_name)
    if schema is None:
        schema = _SCHEMAS[type_name] = PatchSchema(type_name, _TYPES.get(type_name, {}))
    return schema


def kind_type_name(group: str, kind: str) -> str | None:
    """The OpenAPI definition name of the root type of a built-in kind, or None if unknown."""
    return _KINDS.get((group, kind))


def schema_for(group: str, kind: str) -> PatchSchema | None:
    """The strategic-merge-patch schema of built-in kind (group, kind); "" is the core group.

    Returns None for kinds kube-lite does not know as built-in (custom resources): Kubernetes
    refuses strategic merge patches for those with 415 UnsupportedMediaType.
    """
    type_name = _KINDS.get((group, kind))
    return None if type_name is None else type_schema(type_name)


class PatchExtension(NamedTuple):
    """One tagged field, in the shape of the OpenAPI extensions `x-kubernetes-patch-strategy`
    (`strategy`) and `x-kubernetes-patch-merge-key` (`merge_key`, None when absent)."""

    type_name: str
    field: str
    strategy: str
    merge_key: str | None


def patch_extensions() -> list[PatchExtension]:
    """Every field of every type in the table that carries a patch strategy, sorted by type
    then field. Untagged struct links (the paths to tagged fields) are not listed."""
    return sorted(
        PatchExtension(type_name, name, meta.strategy, meta.merge_key)
        for type_name, fields in _TYPES.items()
        for name, meta in fields.items()
        if meta.strategy
    )
