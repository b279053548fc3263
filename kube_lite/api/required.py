"""Which fields of each built-in type Kubernetes' OpenAPI marks as required.

Kubernetes derives a type's `required` list from its Go struct: a field is required when it is
neither `+optional` nor `omitempty`, and the list is published on the type's definition in
`/openapi/v2` and `/openapi/v3`. `kubectl explain` prints `-required-` from it, and kubectl's
client-side validation (used for a `kind: List` file) refuses a document that lacks one.
kube-lite keeps the same facts here, as a table keyed by OpenAPI definition name (the naming of
kube_lite.api.patchmeta), and kube_lite.server.openapi copies them onto each definition.

A type that is absent has no required field (ObjectMeta, PodSpec's siblings, every status but
a few). This is the schema only: the decoder never refuses an object for lacking one of these,
and validation reports a missing value with Kubernetes' own 422 message.

The facts are Kubernetes 1.37's, cross-checked type by type against the models of the
`kubernetes` Python client (tests/unit/server/test_openapi_required.py lists, with reasons, the
few types where the client's generated models and Kubernetes' types disagree).
"""

from __future__ import annotations

_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
_CORE = "io.k8s.api.core.v1."
_APPS = "io.k8s.api.apps.v1."
_BATCH = "io.k8s.api.batch.v1."
_AUTHENTICATION = "io.k8s.api.authentication.v1."
_AUTHORIZATION = "io.k8s.api.authorization.v1."
_CERTIFICATES = "io.k8s.api.certificates.v1."
_DISCOVERY = "io.k8s.api.discovery.v1."
_EVENTS = "io.k8s.api.events.v1."
_POLICY = "io.k8s.api.policy.v1."
_RBAC = "io.k8s.api.rbac.v1."
_SCHEDULING = "io.k8s.api.scheduling.v1."
_STORAGE = "io.k8s.api.storage.v1."
_APIEXT = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1."

REQUIRED: dict[str, tuple[str, ...]] = {
    # io.k8s.apimachinery.pkg.apis.meta.v1
    _META + "Condition": ("type", "status", "lastTransitionTime", "reason", "message"),
    _META + "FieldSelectorRequirement": ("key", "operator"),
    _META + "LabelSelectorRequirement": ("key", "operator"),
    _META + "OwnerReference": ("apiVersion", "kind", "name", "uid"),
    _META + "ShardInfo": ("selector",),
    # io.k8s.api.core.v1
    _CORE + "AWSElasticBlockStoreVolumeSource": ("volumeID",),
    _CORE + "AppArmorProfile": ("type",),
    _CORE + "AttachedVolume": ("devicePath", "name"),
    _CORE + "AzureDiskVolumeSource": ("diskName", "diskURI"),
    _CORE + "AzureFilePersistentVolumeSource": ("secretName", "shareName"),
    _CORE + "AzureFileVolumeSource": ("secretName", "shareName"),
    _CORE + "Binding": ("target",),
    _CORE + "CSIPersistentVolumeSource": ("driver", "volumeHandle"),
    _CORE + "CSIVolumeSource": ("driver",),
    _CORE + "CephFSPersistentVolumeSource": ("monitors",),
    _CORE + "CephFSVolumeSource": ("monitors",),
    _CORE + "CinderPersistentVolumeSource": ("volumeID",),
    _CORE + "CinderVolumeSource": ("volumeID",),
    _CORE + "ClusterTrustBundleProjection": ("path",),
    _CORE + "ConfigMapKeySelector": ("key",),
    _CORE + "ConfigMapNodeConfigSource": ("kubeletConfigKey", "name", "namespace"),
    _CORE + "Container": ("name",),
    _CORE + "ContainerExtendedResourceRequest": ("containerName", "requestName", "resourceName"),
    _CORE + "ContainerPort": ("containerPort",),
    _CORE + "ContainerResizePolicy": ("resourceName", "restartPolicy"),
    _CORE + "ContainerRestartRule": ("action",),
    _CORE + "ContainerRestartRuleOnExitCodes": ("operator",),
    _CORE + "ContainerStateTerminated": ("exitCode",),
    _CORE + "ContainerStatus": ("image", "imageID", "name", "ready", "restartCount"),
    _CORE + "DaemonEndpoint": ("Port",),
    _CORE + "DownwardAPIVolumeFile": ("path",),
    _CORE + "EndpointAddress": ("ip",),
    _CORE + "EndpointPort": ("port",),
    _CORE + "EnvVar": ("name",),
    _CORE + "EphemeralContainer": ("name",),
    _CORE + "Event": ("metadata", "involvedObject"),
    _CORE + "EvictionResponder": ("name", "priority"),
    _CORE + "FileKeySelector": ("key", "path", "volumeName"),
    _CORE + "FlexPersistentVolumeSource": ("driver",),
    _CORE + "FlexVolumeSource": ("driver",),
    _CORE + "GCEPersistentDiskVolumeSource": ("pdName",),
    _CORE + "GRPCAction": ("port",),
    _CORE + "GitRepoVolumeSource": ("repository",),
    _CORE + "GlusterfsPersistentVolumeSource": ("endpoints", "path"),
    _CORE + "GlusterfsVolumeSource": ("endpoints", "path"),
    _CORE + "HTTPGetAction": ("port",),
    _CORE + "HTTPHeader": ("name", "value"),
    _CORE + "HostAlias": ("ip",),
    _CORE + "HostIP": ("ip",),
    _CORE + "HostPathVolumeSource": ("path",),
    _CORE + "ISCSIPersistentVolumeSource": ("iqn", "lun", "targetPortal"),
    _CORE + "ISCSIVolumeSource": ("iqn", "lun", "targetPortal"),
    _CORE + "ImageVolumeStatus": ("imageRef",),
    _CORE + "KeyToPath": ("key", "path"),
    _CORE + "LimitRangeItem": ("type",),
    _CORE + "LimitRangeSpec": ("limits",),
    _CORE + "LinuxContainerUser": ("gid", "uid"),
    _CORE + "LocalVolumeSource": ("path",),
    _CORE + "ModifyVolumeStatus": ("status",),
    _CORE + "NFSVolumeSource": ("path", "server"),
    _CORE + "NamespaceCondition": ("status", "type"),
    _CORE + "NodeAddress": ("address", "type"),
    _CORE + "NodeAllocatableMappedResources": ("name", "quantity"),
    _CORE + "NodeAllocatableOverheadResources": ("name",),
    _CORE + "NodeAllocatableResourceClaimStatus": ("resourceClaimName",),
    _CORE + "NodeCondition": ("status", "type"),
    _CORE + "NodeSelector": ("nodeSelectorTerms",),
    _CORE + "NodeSelectorRequirement": ("key", "operator"),
    _CORE + "NodeSystemInfo": (
        "machineID", "systemUUID", "bootID", "kernelVersion", "osImage", "containerRuntimeVersion",
        "kubeletVersion", "kubeProxyVersion", "operatingSystem", "architecture",
    ),
    _CORE + "ObjectFieldSelector": ("fieldPath",),
    _CORE + "PersistentVolumeClaimCondition": ("status", "type"),
    _CORE + "PersistentVolumeClaimTemplate": ("spec",),
    _CORE + "PersistentVolumeClaimVolumeSource": ("claimName",),
    _CORE + "PhotonPersistentDiskVolumeSource": ("pdID",),
    _CORE + "PodAffinityTerm": ("topologyKey",),
    _CORE + "PodCertificateProjection": ("keyType", "signerName"),
    _CORE + "PodCondition": ("status", "type"),
    _CORE + "PodExtendedResourceClaimStatus": ("requestMappings", "resourceClaimName"),
    _CORE + "PodIP": ("ip",),
    _CORE + "PodOS": ("name",),
    _CORE + "PodReadinessGate": ("conditionType",),
    _CORE + "PodResourceClaim": ("name",),
    _CORE + "PodResourceClaimStatus": ("name",),
    _CORE + "PodSchedulingGate": ("name",),
    _CORE + "PodSpec": ("containers",),
    _CORE + "PodVolumeHealth": ("name",),
    _CORE + "PortStatus": ("port", "protocol"),
    _CORE + "PortworxVolumeSource": ("volumeID",),
    _CORE + "PreferredSchedulingTerm": ("preference", "weight"),
    _CORE + "QuobyteVolumeSource": ("registry", "volume"),
    _CORE + "RBDPersistentVolumeSource": ("image", "monitors"),
    _CORE + "RBDVolumeSource": ("image", "monitors"),
    _CORE + "ReplicationControllerCondition": ("status", "type"),
    _CORE + "ReplicationControllerStatus": ("replicas",),
    _CORE + "ResourceClaim": ("name",),
    _CORE + "ResourceFieldSelector": ("resource",),
    _CORE + "ResourceHealth": ("resourceID",),
    _CORE + "ResourceStatus": ("name",),
    _CORE + "ScaleIOPersistentVolumeSource": ("gateway", "secretRef", "system"),
    _CORE + "ScaleIOVolumeSource": ("gateway", "secretRef", "system"),
    _CORE + "ScopedResourceSelectorRequirement": ("operator", "scopeName"),
    _CORE + "SeccompProfile": ("type",),
    _CORE + "SecretKeySelector": ("key",),
    _CORE + "ServiceAccountTokenProjection": ("path",),
    _CORE + "ServicePort": ("port",),
    _CORE + "SleepAction": ("seconds",),
    _CORE + "Sysctl": ("name", "value"),
    _CORE + "TCPSocketAction": ("port",),
    _CORE + "Taint": ("effect", "key"),
    _CORE + "TopologySelectorLabelRequirement": ("key", "values"),
    _CORE + "TopologySpreadConstraint": ("maxSkew", "topologyKey", "whenUnsatisfiable"),
    _CORE + "TypedLocalObjectReference": ("kind", "name"),
    _CORE + "TypedObjectReference": ("kind", "name"),
    _CORE + "Volume": ("name",),
    _CORE + "VolumeDevice": ("devicePath", "name"),
    _CORE + "VolumeHealthCondition": ("reason", "status"),
    _CORE + "VolumeMount": ("mountPath", "name"),
    _CORE + "VolumeMountStatus": ("mountPath", "name"),
    _CORE + "VsphereVirtualDiskVolumeSource": ("volumePath",),
    _CORE + "WeightedPodAffinityTerm": ("podAffinityTerm", "weight"),
    # io.k8s.api.apps.v1
    _APPS + "ControllerRevision": ("revision",),
    _APPS + "DaemonSetCondition": ("type", "status"),
    _APPS + "DaemonSetSpec": ("selector", "template"),
    _APPS + "DaemonSetStatus": (
        "currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady",
    ),
    _APPS + "DeploymentCondition": ("type", "status"),
    _APPS + "DeploymentSpec": ("selector", "template"),
    _APPS + "ReplicaSetCondition": ("type", "status"),
    _APPS + "ReplicaSetSpec": ("selector",),
    _APPS + "ReplicaSetStatus": ("replicas",),
    _APPS + "StatefulSetCondition": ("type", "status"),
    _APPS + "StatefulSetSpec": ("selector", "template"),
    _APPS + "StatefulSetStatus": ("replicas",),
    # io.k8s.api.batch.v1
    _BATCH + "CronJobSpec": ("schedule", "jobTemplate"),
    _BATCH + "JobCondition": ("type", "status"),
    _BATCH + "JobSpec": ("template",),
    _BATCH + "PodFailurePolicy": ("rules",),
    _BATCH + "PodFailurePolicyOnExitCodesRequirement": ("operator", "values"),
    _BATCH + "PodFailurePolicyOnPodConditionsPattern": ("type",),
    _BATCH + "PodFailurePolicyRule": ("action",),
    _BATCH + "SuccessPolicy": ("rules",),
    _BATCH + "TopologyConstraint": ("key",),
    _BATCH + "WorkloadPodGroupResourceClaim": ("name",),
    # io.k8s.api.authentication.v1
    _AUTHENTICATION + "TokenReview": ("spec",),
    # io.k8s.api.authorization.v1
    _AUTHORIZATION + "LocalSubjectAccessReview": ("spec",),
    _AUTHORIZATION + "NonResourceRule": ("verbs",),
    _AUTHORIZATION + "ResourceRule": ("verbs",),
    _AUTHORIZATION + "SelfSubjectAccessReview": ("spec",),
    _AUTHORIZATION + "SelfSubjectRulesReview": ("spec",),
    _AUTHORIZATION + "SubjectAccessReview": ("spec",),
    _AUTHORIZATION + "SubjectAccessReviewStatus": ("allowed",),
    _AUTHORIZATION + "SubjectRulesReviewStatus": ("resourceRules", "nonResourceRules", "incomplete"),
    # io.k8s.api.certificates.v1
    _CERTIFICATES + "CertificateSigningRequest": ("spec",),
    _CERTIFICATES + "CertificateSigningRequestCondition": ("type", "status"),
    _CERTIFICATES + "CertificateSigningRequestSpec": ("request", "signerName"),
    # io.k8s.api.discovery.v1
    _DISCOVERY + "Endpoint": ("addresses",),
    _DISCOVERY + "EndpointSlice": ("addressType", "endpoints"),
    _DISCOVERY + "ForNode": ("name",),
    _DISCOVERY + "ForZone": ("name",),
    # io.k8s.api.events.v1
    _EVENTS + "Event": ("eventTime",),
    _EVENTS + "EventSeries": ("count", "lastObservedTime"),
    # io.k8s.api.policy.v1
    _POLICY + "PodDisruptionBudgetStatus": ("disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"),
    # io.k8s.api.rbac.v1
    _RBAC + "ClusterRoleBinding": ("roleRef",),
    _RBAC + "PolicyRule": ("verbs",),
    _RBAC + "RoleBinding": ("roleRef",),
    _RBAC + "RoleRef": ("apiGroup", "kind", "name"),
    _RBAC + "Subject": ("kind", "name"),
    # io.k8s.api.scheduling.v1
    _SCHEDULING + "PriorityClass": ("value",),
    # io.k8s.api.storage.v1
    _STORAGE + "StorageClass": ("provisioner",),
    # io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1
    _APIEXT + "CustomResourceColumnDefinition": ("name", "type", "jsonPath"),
    _APIEXT + "CustomResourceConversion": ("strategy",),
    _APIEXT + "CustomResourceDefinition": ("spec",),
    _APIEXT + "CustomResourceDefinitionCondition": ("type", "status"),
    _APIEXT + "CustomResourceDefinitionNames": ("plural", "kind"),
    _APIEXT + "CustomResourceDefinitionSpec": ("group", "names", "scope", "versions"),
    _APIEXT + "CustomResourceDefinitionVersion": ("name", "served", "storage"),
    _APIEXT + "CustomResourceSubresourceScale": ("specReplicasPath", "statusReplicasPath"),
    _APIEXT + "SelectableField": ("jsonPath",),
    _APIEXT + "ServiceReference": ("namespace", "name"),
    _APIEXT + "ValidationRule": ("rule",),
    _APIEXT + "WebhookConversion": ("conversionReviewVersions",),
}
"""Definition name -> the JSON names of its required fields (published in this order)."""


def required_fields(definition_name: str) -> tuple[str, ...]:
    """The required JSON fields of the type Kubernetes names `definition_name`
    ("io.k8s.api.core.v1.Container" -> ("name",)); empty when it has none."""
    return REQUIRED.get(definition_name, ())
