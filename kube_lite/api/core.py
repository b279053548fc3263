"""core/v1: Pod, Node, Service, Namespace, ConfigMap, Secret, Event and the other kinds of the
legacy core group, with every nested type the Kubernetes API knows for them.

The conventions are those of kube_lite.api.base: every field is optional and defaults to None,
None is omitted on encode, and field names are the JSON names exactly as Kubernetes spells them.
Quantity fields (requests, limits, capacity, allocatable, hard, used, LimitRange bounds, emptyDir
sizeLimit) are `Quantity`; port fields that take a number or a name are `IntOrString`. The
base64 fields (Secret.data, ConfigMap.binaryData) are `bytes`: msgspec decodes standard base64
as Kubernetes does, rejects malformed input, and encodes it back as base64.

Each kind opens its section, followed by the nested types it introduces; a type shared by
several kinds (ObjectReference, PodTemplateSpec, PersistentVolumeClaimSpec, ...) lives in the
section of the first kind that uses it. Within a type, fields are in alphabetical order, as in
the published OpenAPI schema, except that a kind's metadata comes first.
"""

from __future__ import annotations

from typing import ClassVar

from kube_lite.api.base import IntOrString, Quantity, Resource, Struct, Time
from kube_lite.api.meta import Condition, LabelSelector, ObjectMeta

# Pod ---------------------------------------------------------------------------------------------


class Pod(Resource):
    """Containers scheduled together onto one node, sharing its network namespace and volumes."""

    group: ClassVar[str] = ""
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "pods"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    spec: PodSpec | None = None
    status: PodStatus | None = None


class PodSpec(Struct):
    """What a pod runs and where it may run; also the `spec` of every pod template."""

    activeDeadlineSeconds: int | None = None
    affinity: Affinity | None = None
    automountServiceAccountToken: bool | None = None
    containers: list[Container] | None = None
    dnsConfig: PodDNSConfig | None = None
    dnsPolicy: str | None = None
    enableServiceLinks: bool | None = None
    ephemeralContainers: list[EphemeralContainer] | None = None
    evictionResponders: list[EvictionResponder] | None = None
    hostAliases: list[HostAlias] | None = None
    hostIPC: bool | None = None
    hostNetwork: bool | None = None
    hostPID: bool | None = None
    hostUsers: bool | None = None
    hostname: str | None = None
    hostnameOverride: str | None = None
    imagePullSecrets: list[LocalObjectReference] | None = None
    initContainers: list[Container] | None = None
    nodeName: str | None = None
    nodeSelector: dict[str, str] | None = None
    os: PodOS | None = None
    overhead: dict[str, Quantity] | None = None
    preemptionPolicy: str | None = None
    priority: int | None = None
    priorityClassName: str | None = None
    readinessGates: list[PodReadinessGate] | None = None
    resourceClaims: list[PodResourceClaim] | None = None
    resources: ResourceRequirements | None = None
    restartPolicy: str | None = None
    runtimeClassName: str | None = None
    schedulerName: str | None = None
    schedulingGates: list[PodSchedulingGate] | None = None
    schedulingGroup: PodSchedulingGroup | None = None
    securityContext: PodSecurityContext | None = None
    serviceAccount: str | None = None
    serviceAccountName: str | None = None
    setHostnameAsFQDN: bool | None = None
    shareProcessNamespace: bool | None = None
    subdomain: str | None = None
    terminationGracePeriodSeconds: int | None = None
    tolerations: list[Toleration] | None = None
    topologySpreadConstraints: list[TopologySpreadConstraint] | None = None
    volumes: list[Volume] | None = None


class Affinity(Struct):
    nodeAffinity: NodeAffinity | None = None
    podAffinity: PodAffinity | None = None
    podAntiAffinity: PodAntiAffinity | None = None


class NodeAffinity(Struct):
    preferredDuringSchedulingIgnoredDuringExecution: list[PreferredSchedulingTerm] | None = None
    requiredDuringSchedulingIgnoredDuringExecution: NodeSelector | None = None


class PreferredSchedulingTerm(Struct):
    preference: NodeSelectorTerm | None = None
    weight: int | None = None


class NodeSelectorTerm(Struct):
    matchExpressions: list[NodeSelectorRequirement] | None = None
    matchFields: list[NodeSelectorRequirement] | None = None


class NodeSelectorRequirement(Struct):
    key: str | None = None
    operator: str | None = None
    values: list[str] | None = None


class NodeSelector(Struct):
    nodeSelectorTerms: list[NodeSelectorTerm] | None = None


class PodAffinity(Struct):
    preferredDuringSchedulingIgnoredDuringExecution: list[WeightedPodAffinityTerm] | None = None
    requiredDuringSchedulingIgnoredDuringExecution: list[PodAffinityTerm] | None = None


class WeightedPodAffinityTerm(Struct):
    podAffinityTerm: PodAffinityTerm | None = None
    weight: int | None = None


class PodAffinityTerm(Struct):
    labelSelector: LabelSelector | None = None
    matchLabelKeys: list[str] | None = None
    mismatchLabelKeys: list[str] | None = None
    namespaceSelector: LabelSelector | None = None
    namespaces: list[str] | None = None
    topologyKey: str | None = None


class PodAntiAffinity(Struct):
    preferredDuringSchedulingIgnoredDuringExecution: list[WeightedPodAffinityTerm] | None = None
    requiredDuringSchedulingIgnoredDuringExecution: list[PodAffinityTerm] | None = None


class Container(Struct):
    """One container of a pod (also the type of `initContainers`, which may set
    `restartPolicy: Always` to make a sidecar)."""

    args: list[str] | None = None
    command: list[str] | None = None
    env: list[EnvVar] | None = None
    envFrom: list[EnvFromSource] | None = None
    image: str | None = None
    imagePullPolicy: str | None = None
    lifecycle: Lifecycle | None = None
    livenessProbe: Probe | None = None
    name: str | None = None
    ports: list[ContainerPort] | None = None
    readinessProbe: Probe | None = None
    resizePolicy: list[ContainerResizePolicy] | None = None
    resources: ResourceRequirements | None = None
    restartPolicy: str | None = None
    restartPolicyRules: list[ContainerRestartRule] | None = None
    securityContext: SecurityContext | None = None
    startupProbe: Probe | None = None
    stdin: bool | None = None
    stdinOnce: bool | None = None
    terminationMessagePath: str | None = None
    terminationMessagePolicy: str | None = None
    tty: bool | None = None
    volumeDevices: list[VolumeDevice] | None = None
    volumeMounts: list[VolumeMount] | None = None
    workingDir: str | None = None


class EnvVar(Struct):
    name: str | None = None
    value: str | None = None
    valueFrom: EnvVarSource | None = None


class EnvVarSource(Struct):
    """Where an env var's value comes from: exactly one of the selectors."""

    configMapKeyRef: ConfigMapKeySelector | None = None
    fieldRef: ObjectFieldSelector | None = None
    fileKeyRef: FileKeySelector | None = None
    resourceFieldRef: ResourceFieldSelector | None = None
    secretKeyRef: SecretKeySelector | None = None


class ConfigMapKeySelector(Struct):
    key: str | None = None
    name: str | None = None
    optional: bool | None = None


class ObjectFieldSelector(Struct):
    apiVersion: str | None = None
    fieldPath: str | None = None


class FileKeySelector(Struct):
    key: str | None = None
    optional: bool | None = None
    path: str | None = None
    volumeName: str | None = None


class ResourceFieldSelector(Struct):
    """`divisor` is a Quantity."""

    containerName: str | None = None
    divisor: Quantity | None = None
    resource: str | None = None


class SecretKeySelector(Struct):
    key: str | None = None
    name: str | None = None
    optional: bool | None = None


class EnvFromSource(Struct):
    configMapRef: ConfigMapEnvSource | None = None
    prefix: str | None = None
    secretRef: SecretEnvSource | None = None


class ConfigMapEnvSource(Struct):
    name: str | None = None
    optional: bool | None = None


class SecretEnvSource(Struct):
    name: str | None = None
    optional: bool | None = None


class Lifecycle(Struct):
    postStart: LifecycleHandler | None = None
    preStop: LifecycleHandler | None = None
    stopSignal: str | None = None


class LifecycleHandler(Struct):
    """A postStart or preStop hook: exactly one of exec, httpGet, tcpSocket or sleep."""

    exec: ExecAction | None = None
    httpGet: HTTPGetAction | None = None
    sleep: SleepAction | None = None
    tcpSocket: TCPSocketAction | None = None


class ExecAction(Struct):
    command: list[str] | None = None


class HTTPGetAction(Struct):
    """`port` is a number or the name of a container port."""

    host: str | None = None
    httpHeaders: list[HTTPHeader] | None = None
    path: str | None = None
    port: IntOrString | None = None
    protocol: str | None = None
    scheme: str | None = None


class HTTPHeader(Struct):
    name: str | None = None
    value: str | None = None


class SleepAction(Struct):
    seconds: int | None = None


class TCPSocketAction(Struct):
    """`port` is a number or the name of a container port."""

    host: str | None = None
    port: IntOrString | None = None


class Probe(Struct):
    """A liveness, readiness or startup check: exactly one handler (exec, httpGet, tcpSocket,
    grpc) plus its timing."""

    exec: ExecAction | None = None
    failureThreshold: int | None = None
    grpc: GRPCAction | None = None
    httpGet: HTTPGetAction | None = None
    initialDelaySeconds: int | None = None
    periodSeconds: int | None = None
    successThreshold: int | None = None
    tcpSocket: TCPSocketAction | None = None
    terminationGracePeriodSeconds: int | None = None
    timeoutSeconds: int | None = None


class GRPCAction(Struct):
    mode: str | None = None
    port: int | None = None
    service: str | None = None


class ContainerPort(Struct):
    containerPort: int | None = None
    hostIP: str | None = None
    hostPort: int | None = None
    name: str | None = None
    protocol: str | None = None


class ContainerResizePolicy(Struct):
    resourceName: str | None = None
    restartPolicy: str | None = None


class ResourceRequirements(Struct):
    """Compute resources of a container (or of the whole pod, `spec.resources`): quantities
    keyed by resource name, and the dynamic resource claims it uses."""

    claims: list[ResourceClaim] | None = None
    limits: dict[str, Quantity] | None = None
    requests: dict[str, Quantity] | None = None


class ResourceClaim(Struct):
    """A container's use of one of the pod's `resourceClaims` (by name)."""

    name: str | None = None
    request: str | None = None


class ContainerRestartRule(Struct):
    action: str | None = None
    exitCodes: ContainerRestartRuleOnExitCodes | None = None


class ContainerRestartRuleOnExitCodes(Struct):
    operator: str | None = None
    values: list[int] | None = None


class SecurityContext(Struct):
    allowPrivilegeEscalation: bool | None = None
    appArmorProfile: AppArmorProfile | None = None
    capabilities: Capabilities | None = None
    privileged: bool | None = None
    procMount: str | None = None
    readOnlyRootFilesystem: bool | None = None
    runAsGroup: int | None = None
    runAsNonRoot: bool | None = None
    runAsUser: int | None = None
    seLinuxOptions: SELinuxOptions | None = None
    seccompProfile: SeccompProfile | None = None
    windowsOptions: WindowsSecurityContextOptions | None = None


class AppArmorProfile(Struct):
    localhostProfile: str | None = None
    type: str | None = None


class Capabilities(Struct):
    add: list[str] | None = None
    drop: list[str] | None = None


class SELinuxOptions(Struct):
    level: str | None = None
    role: str | None = None
    type: str | None = None
    user: str | None = None


class SeccompProfile(Struct):
    localhostProfile: str | None = None
    type: str | None = None


class WindowsSecurityContextOptions(Struct):
    gmsaCredentialSpec: str | None = None
    gmsaCredentialSpecName: str | None = None
    hostProcess: bool | None = None
    runAsUserName: str | None = None


class VolumeDevice(Struct):
    devicePath: str | None = None
    name: str | None = None


class VolumeMount(Struct):
    bindMountOptions: list[str] | None = None
    mountPath: str | None = None
    mountPropagation: str | None = None
    name: str | None = None
    readOnly: bool | None = None
    recursiveReadOnly: str | None = None
    subPath: str | None = None
    subPathExpr: str | None = None


class PodDNSConfig(Struct):
    nameservers: list[str] | None = None
    options: list[PodDNSConfigOption] | None = None
    searches: list[str] | None = None


class PodDNSConfigOption(Struct):
    name: str | None = None
    value: str | None = None


class EphemeralContainer(Struct):
    """A debugging container added to a running pod through the `ephemeralcontainers`
    subresource; it has a Container's fields (ports, probes and resources are refused by
    validation) and may target another container's process namespace."""

    args: list[str] | None = None
    command: list[str] | None = None
    env: list[EnvVar] | None = None
    envFrom: list[EnvFromSource] | None = None
    image: str | None = None
    imagePullPolicy: str | None = None
    lifecycle: Lifecycle | None = None
    livenessProbe: Probe | None = None
    name: str | None = None
    ports: list[ContainerPort] | None = None
    readinessProbe: Probe | None = None
    resizePolicy: list[ContainerResizePolicy] | None = None
    resources: ResourceRequirements | None = None
    restartPolicy: str | None = None
    restartPolicyRules: list[ContainerRestartRule] | None = None
    securityContext: SecurityContext | None = None
    startupProbe: Probe | None = None
    stdin: bool | None = None
    stdinOnce: bool | None = None
    targetContainerName: str | None = None
    terminationMessagePath: str | None = None
    terminationMessagePolicy: str | None = None
    tty: bool | None = None
    volumeDevices: list[VolumeDevice] | None = None
    volumeMounts: list[VolumeMount] | None = None
    workingDir: str | None = None


class EvictionResponder(Struct):
    name: str | None = None
    priority: int | None = None


class HostAlias(Struct):
    hostnames: list[str] | None = None
    ip: str | None = None


class LocalObjectReference(Struct):
    """A reference by name to an object in the same namespace."""

    name: str | None = None


class PodOS(Struct):
    name: str | None = None


class PodReadinessGate(Struct):
    conditionType: str | None = None


class PodResourceClaim(Struct):
    name: str | None = None
    resourceClaimName: str | None = None
    resourceClaimTemplateName: str | None = None


class PodSchedulingGate(Struct):
    name: str | None = None


class PodSchedulingGroup(Struct):
    podGroupName: str | None = None


class PodSecurityContext(Struct):
    appArmorProfile: AppArmorProfile | None = None
    fsGroup: int | None = None
    fsGroupChangePolicy: str | None = None
    runAsGroup: int | None = None
    runAsNonRoot: bool | None = None
    runAsUser: int | None = None
    seLinuxChangePolicy: str | None = None
    seLinuxOptions: SELinuxOptions | None = None
    seccompProfile: SeccompProfile | None = None
    supplementalGroups: list[int] | None = None
    supplementalGroupsPolicy: str | None = None
    sysctls: list[Sysctl] | None = None
    windowsOptions: WindowsSecurityContextOptions | None = None


class Sysctl(Struct):
    name: str | None = None
    value: str | None = None


class Toleration(Struct):
    """Lets a pod schedule onto (or stay on) a node with a matching taint."""

    effect: str | None = None
    key: str | None = None
    operator: str | None = None
    tolerationSeconds: int | None = None
    value: str | None = None


class TopologySpreadConstraint(Struct):
    labelSelector: LabelSelector | None = None
    matchLabelKeys: list[str] | None = None
    maxSkew: int | None = None
    minDomains: int | None = None
    nodeAffinityPolicy: str | None = None
    nodeTaintsPolicy: str | None = None
    topologyKey: str | None = None
    whenUnsatisfiable: str | None = None


class Volume(Struct):
    """A named volume of a pod. Exactly one source field besides `name` is set; validation
    enforces that, decoding does not."""

    awsElasticBlockStore: AWSElasticBlockStoreVolumeSource | None = None
    azureDisk: AzureDiskVolumeSource | None = None
    azureFile: AzureFileVolumeSource | None = None
    cephfs: CephFSVolumeSource | None = None
    cinder: CinderVolumeSource | None = None
    configMap: ConfigMapVolumeSource | None = None
    csi: CSIVolumeSource | None = None
    downwardAPI: DownwardAPIVolumeSource | None = None
    emptyDir: EmptyDirVolumeSource | None = None
    ephemeral: EphemeralVolumeSource | None = None
    fc: FCVolumeSource | None = None
    flexVolume: FlexVolumeSource | None = None
    flocker: FlockerVolumeSource | None = None
    gcePersistentDisk: GCEPersistentDiskVolumeSource | None = None
    gitRepo: GitRepoVolumeSource | None = None
    glusterfs: GlusterfsVolumeSource | None = None
    hostPath: HostPathVolumeSource | None = None
    image: ImageVolumeSource | None = None
    iscsi: ISCSIVolumeSource | None = None
    name: str | None = None
    nfs: NFSVolumeSource | None = None
    persistentVolumeClaim: PersistentVolumeClaimVolumeSource | None = None
    photonPersistentDisk: PhotonPersistentDiskVolumeSource | None = None
    portworxVolume: PortworxVolumeSource | None = None
    projected: ProjectedVolumeSource | None = None
    quobyte: QuobyteVolumeSource | None = None
    rbd: RBDVolumeSource | None = None
    scaleIO: ScaleIOVolumeSource | None = None
    secret: SecretVolumeSource | None = None
    storageos: StorageOSVolumeSource | None = None
    vsphereVolume: VsphereVirtualDiskVolumeSource | None = None


class AWSElasticBlockStoreVolumeSource(Struct):
    fsType: str | None = None
    partition: int | None = None
    readOnly: bool | None = None
    volumeID: str | None = None


class AzureDiskVolumeSource(Struct):
    cachingMode: str | None = None
    diskName: str | None = None
    diskURI: str | None = None
    fsType: str | None = None
    kind: str | None = None
    readOnly: bool | None = None


class AzureFileVolumeSource(Struct):
    readOnly: bool | None = None
    secretName: str | None = None
    shareName: str | None = None


class CephFSVolumeSource(Struct):
    monitors: list[str] | None = None
    path: str | None = None
    readOnly: bool | None = None
    secretFile: str | None = None
    secretRef: LocalObjectReference | None = None
    user: str | None = None


class CinderVolumeSource(Struct):
    fsType: str | None = None
    readOnly: bool | None = None
    secretRef: LocalObjectReference | None = None
    volumeID: str | None = None


class ConfigMapVolumeSource(Struct):
    defaultMode: int | None = None
    defaultUser: int | None = None
    items: list[KeyToPath] | None = None
    name: str | None = None
    optional: bool | None = None


class KeyToPath(Struct):
    key: str | None = None
    mode: int | None = None
    path: str | None = None
    user: int | None = None


class CSIVolumeSource(Struct):
    driver: str | None = None
    fsType: str | None = None
    nodePublishSecretRef: LocalObjectReference | None = None
    readOnly: bool | None = None
    volumeAttributes: dict[str, str] | None = None


class DownwardAPIVolumeSource(Struct):
    defaultMode: int | None = None
    defaultUser: int | None = None
    items: list[DownwardAPIVolumeFile] | None = None


class DownwardAPIVolumeFile(Struct):
    fieldRef: ObjectFieldSelector | None = None
    mode: int | None = None
    path: str | None = None
    resourceFieldRef: ResourceFieldSelector | None = None
    user: int | None = None


class EmptyDirVolumeSource(Struct):
    """`sizeLimit` is a Quantity."""

    medium: str | None = None
    mode: int | None = None
    sizeLimit: Quantity | None = None


class EphemeralVolumeSource(Struct):
    volumeClaimTemplate: PersistentVolumeClaimTemplate | None = None


class PersistentVolumeClaimTemplate(Struct):
    metadata: ObjectMeta | None = None
    spec: PersistentVolumeClaimSpec | None = None


class PersistentVolumeClaimSpec(Struct):
    """Also the spec of an ephemeral volume's claim template."""

    accessModes: list[str] | None = None
    dataSource: TypedLocalObjectReference | None = None
    dataSourceRef: TypedObjectReference | None = None
    resources: VolumeResourceRequirements | None = None
    selector: LabelSelector | None = None
    storageClassName: str | None = None
    volumeAttributesClassName: str | None = None
    volumeMode: str | None = None
    volumeName: str | None = None


class TypedLocalObjectReference(Struct):
    apiGroup: str | None = None
    kind: str | None = None
    name: str | None = None


class TypedObjectReference(Struct):
    apiGroup: str | None = None
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None


class VolumeResourceRequirements(Struct):
    limits: dict[str, Quantity] | None = None
    requests: dict[str, Quantity] | None = None


class FCVolumeSource(Struct):
    fsType: str | None = None
    lun: int | None = None
    readOnly: bool | None = None
    targetWWNs: list[str] | None = None
    wwids: list[str] | None = None


class FlexVolumeSource(Struct):
    driver: str | None = None
    fsType: str | None = None
    options: dict[str, str] | None = None
    readOnly: bool | None = None
    secretRef: LocalObjectReference | None = None


class FlockerVolumeSource(Struct):
    datasetName: str | None = None
    datasetUUID: str | None = None


class GCEPersistentDiskVolumeSource(Struct):
    fsType: str | None = None
    partition: int | None = None
    pdName: str | None = None
    readOnly: bool | None = None


class GitRepoVolumeSource(Struct):
    directory: str | None = None
    repository: str | None = None
    revision: str | None = None


class GlusterfsVolumeSource(Struct):
    endpoints: str | None = None
    path: str | None = None
    readOnly: bool | None = None


class HostPathVolumeSource(Struct):
    path: str | None = None
    type: str | None = None


class ImageVolumeSource(Struct):
    pullPolicy: str | None = None
    reference: str | None = None


class ISCSIVolumeSource(Struct):
    chapAuthDiscovery: bool | None = None
    chapAuthSession: bool | None = None
    fsType: str | None = None
    initiatorName: str | None = None
    iqn: str | None = None
    iscsiInterface: str | None = None
    lun: int | None = None
    portals: list[str] | None = None
    readOnly: bool | None = None
    secretRef: LocalObjectReference | None = None
    targetPortal: str | None = None


class NFSVolumeSource(Struct):
    path: str | None = None
    readOnly: bool | None = None
    server: str | None = None


class PersistentVolumeClaimVolumeSource(Struct):
    claimName: str | None = None
    readOnly: bool | None = None


class PhotonPersistentDiskVolumeSource(Struct):
    fsType: str | None = None
    pdID: str | None = None


class PortworxVolumeSource(Struct):
    fsType: str | None = None
    readOnly: bool | None = None
    volumeID: str | None = None


class ProjectedVolumeSource(Struct):
    defaultMode: int | None = None
    defaultUser: int | None = None
    sources: list[VolumeProjection] | None = None


class VolumeProjection(Struct):
    clusterTrustBundle: ClusterTrustBundleProjection | None = None
    configMap: ConfigMapProjection | None = None
    downwardAPI: DownwardAPIProjection | None = None
    podCertificate: PodCertificateProjection | None = None
    secret: SecretProjection | None = None
    serviceAccountToken: ServiceAccountTokenProjection | None = None


class ClusterTrustBundleProjection(Struct):
    labelSelector: LabelSelector | None = None
    name: str | None = None
    optional: bool | None = None
    path: str | None = None
    signerName: str | None = None
    user: int | None = None


class ConfigMapProjection(Struct):
    items: list[KeyToPath] | None = None
    name: str | None = None
    optional: bool | None = None


class DownwardAPIProjection(Struct):
    items: list[DownwardAPIVolumeFile] | None = None


class PodCertificateProjection(Struct):
    certificateChainPath: str | None = None
    credentialBundlePath: str | None = None
    keyPath: str | None = None
    keyType: str | None = None
    maxExpirationSeconds: int | None = None
    signerName: str | None = None
    user: int | None = None
    userAnnotations: dict[str, str] | None = None


class SecretProjection(Struct):
    items: list[KeyToPath] | None = None
    name: str | None = None
    optional: bool | None = None


class ServiceAccountTokenProjection(Struct):
    audience: str | None = None
    expirationSeconds: int | None = None
    path: str | None = None
    user: int | None = None


class QuobyteVolumeSource(Struct):
    group: str | None = None
    readOnly: bool | None = None
    registry: str | None = None
    tenant: str | None = None
    user: str | None = None
    volume: str | None = None


class RBDVolumeSource(Struct):
    fsType: str | None = None
    image: str | None = None
    keyring: str | None = None
    monitors: list[str] | None = None
    pool: str | None = None
    readOnly: bool | None = None
    secretRef: LocalObjectReference | None = None
    user: str | None = None


class ScaleIOVolumeSource(Struct):
    fsType: str | None = None
    gateway: str | None = None
    protectionDomain: str | None = None
    readOnly: bool | None = None
    secretRef: LocalObjectReference | None = None
    sslEnabled: bool | None = None
    storageMode: str | None = None
    storagePool: str | None = None
    system: str | None = None
    volumeName: str | None = None


class SecretVolumeSource(Struct):
    defaultMode: int | None = None
    defaultUser: int | None = None
    items: list[KeyToPath] | None = None
    optional: bool | None = None
    secretName: str | None = None


class StorageOSVolumeSource(Struct):
    fsType: str | None = None
    readOnly: bool | None = None
    secretRef: LocalObjectReference | None = None
    volumeName: str | None = None
    volumeNamespace: str | None = None


class VsphereVirtualDiskVolumeSource(Struct):
    fsType: str | None = None
    storagePolicyID: str | None = None
    storagePolicyName: str | None = None
    volumePath: str | None = None


class PodStatus(Struct):
    """The observed state of a pod, written by the scheduler (PodScheduled) and the node agent."""

    allocatedResources: dict[str, Quantity] | None = None
    conditions: list[PodCondition] | None = None
    containerStatuses: list[ContainerStatus] | None = None
    ephemeralContainerStatuses: list[ContainerStatus] | None = None
    extendedResourceClaimStatus: PodExtendedResourceClaimStatus | None = None
    hostIP: str | None = None
    hostIPs: list[HostIP] | None = None
    initContainerStatuses: list[ContainerStatus] | None = None
    message: str | None = None
    nodeAllocatableResourceClaimStatuses: list[NodeAllocatableResourceClaimStatus] | None = None
    nominatedNodeName: str | None = None
    observedGeneration: int | None = None
    phase: str | None = None
    podIP: str | None = None
    podIPs: list[PodIP] | None = None
    qosClass: str | None = None
    reason: str | None = None
    resize: str | None = None
    resourceClaimStatuses: list[PodResourceClaimStatus] | None = None
    resources: ResourceRequirements | None = None
    startTime: Time | None = None
    volumeHealth: list[PodVolumeHealth] | None = None


class PodCondition(Struct):
    lastProbeTime: Time | None = None
    lastTransitionTime: Time | None = None
    message: str | None = None
    observedGeneration: int | None = None
    reason: str | None = None
    status: str | None = None
    type: str | None = None


class ContainerStatus(Struct):
    allocatedResources: dict[str, Quantity] | None = None
    allocatedResourcesStatus: list[ResourceStatus] | None = None
    containerID: str | None = None
    image: str | None = None
    imageID: str | None = None
    lastState: ContainerState | None = None
    name: str | None = None
    ready: bool | None = None
    resources: ResourceRequirements | None = None
    restartCount: int | None = None
    started: bool | None = None
    state: ContainerState | None = None
    stopSignal: str | None = None
    user: ContainerUser | None = None
    volumeMounts: list[VolumeMountStatus] | None = None


class ResourceStatus(Struct):
    name: str | None = None
    resources: list[ResourceHealth] | None = None


class ResourceHealth(Struct):
    health: str | None = None
    message: str | None = None
    resourceID: str | None = None


class ContainerState(Struct):
    """At most one of waiting, running, terminated is set."""

    running: ContainerStateRunning | None = None
    terminated: ContainerStateTerminated | None = None
    waiting: ContainerStateWaiting | None = None


class ContainerStateRunning(Struct):
    startedAt: Time | None = None


class ContainerStateTerminated(Struct):
    containerID: str | None = None
    exitCode: int | None = None
    finishedAt: Time | None = None
    message: str | None = None
    reason: str | None = None
    signal: int | None = None
    startedAt: Time | None = None


class ContainerStateWaiting(Struct):
    message: str | None = None
    reason: str | None = None


class ContainerUser(Struct):
    linux: LinuxContainerUser | None = None


class LinuxContainerUser(Struct):
    gid: int | None = None
    supplementalGroups: list[int] | None = None
    uid: int | None = None


class VolumeMountStatus(Struct):
    mountPath: str | None = None
    name: str | None = None
    readOnly: bool | None = None
    recursiveReadOnly: str | None = None
    volumeStatus: VolumeStatus | None = None


class VolumeStatus(Struct):
    image: ImageVolumeStatus | None = None


class ImageVolumeStatus(Struct):
    imageRef: str | None = None


class PodExtendedResourceClaimStatus(Struct):
    requestMappings: list[ContainerExtendedResourceRequest] | None = None
    resourceClaimName: str | None = None


class ContainerExtendedResourceRequest(Struct):
    containerName: str | None = None
    requestName: str | None = None
    resourceName: str | None = None


class HostIP(Struct):
    ip: str | None = None


class NodeAllocatableResourceClaimStatus(Struct):
    containers: list[str] | None = None
    mapping: list[NodeAllocatableMappedResources] | None = None
    overhead: list[NodeAllocatableOverheadResources] | None = None
    resourceClaimName: str | None = None


class NodeAllocatableMappedResources(Struct):
    name: str | None = None
    quantity: Quantity | None = None


class NodeAllocatableOverheadResources(Struct):
    name: str | None = None
    perContainer: Quantity | None = None
    perPod: Quantity | None = None


class PodIP(Struct):
    ip: str | None = None


class PodResourceClaimStatus(Struct):
    name: str | None = None
    resourceClaimName: str | None = None


class PodVolumeHealth(Struct):
    healthConditions: list[VolumeHealthCondition] | None = None
    lastTransitionTime: Time | None = None
    name: str | None = None


class VolumeHealthCondition(Struct):
    message: str | None = None
    reason: str | None = None
    status: str | None = None


# PodTemplate -------------------------------------------------------------------------------------


class PodTemplate(Resource):
    """A stored pod template, the kind itself (PodTemplateSpec is what workloads embed)."""

    group: ClassVar[str] = ""
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "podtemplates"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    template: PodTemplateSpec | None = None


class PodTemplateSpec(Struct):
    """The pod template that ReplicationController and the apps/batch workloads embed."""

    metadata: ObjectMeta | None = None
    spec: PodSpec | None = None


# Namespace ---------------------------------------------------------------------------------------


class Namespace(Resource):
    """A scope for names; cluster-scoped. `spec.finalizers` holds the deletion of its
    content until the namespace controller has emptied it."""

    group: ClassVar[str] = ""
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "namespaces"
    namespaced: ClassVar[bool] = False

    metadata: ObjectMeta | None = None
    spec: NamespaceSpec | None = None
    status: NamespaceStatus | None = None


class NamespaceSpec(Struct):
    finalizers: list[str] | None = None


class NamespaceStatus(Struct):
    conditions: list[NamespaceCondition] | None = None
    phase: str | None = None


class NamespaceCondition(Struct):
    lastTransitionTime: Time | None = None
    message: str | None = None
    reason: str | None = None
    status: str | None = None
    type: str | None = None


# Node --------------------------------------------------------------------------------------------


class Node(Resource):
    """A machine that runs pods; cluster-scoped. Its agent reports `status` and renews a Lease."""

    group: ClassVar[str] = ""
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "nodes"
    namespaced: ClassVar[bool] = False

    metadata: ObjectMeta | None = None
    spec: NodeSpec | None = None
    status: NodeStatus | None = None


class NodeSpec(Struct):
    configSource: NodeConfigSource | None = None
    externalID: str | None = None
    podCIDR: str | None = None
    podCIDRs: list[str] | None = None
    podPreemptionPolicy: NodePodPreemptionPolicy | None = None
    providerID: str | None = None
    taints: list[Taint] | None = None
    unschedulable: bool | None = None


class NodeConfigSource(Struct):
    configMap: ConfigMapNodeConfigSource | None = None


class ConfigMapNodeConfigSource(Struct):
    kubeletConfigKey: str | None = None
    name: str | None = None
    namespace: str | None = None
    resourceVersion: str | None = None
    uid: str | None = None


class NodePodPreemptionPolicy(Struct):
    disableResizePreemption: list[str] | None = None


class Taint(Struct):
    """Repels pods that do not tolerate it (NoSchedule, PreferNoSchedule, NoExecute)."""

    effect: str | None = None
    key: str | None = None
    timeAdded: Time | None = None
    value: str | None = None


class NodeStatus(Struct):
    """What the node agent reports: capacity and allocatable quantities, conditions, addresses,
    the agent's endpoint, system info and images present."""

    addresses: list[NodeAddress] | None = None
    allocatable: dict[str, Quantity] | None = None
    capacity: dict[str, Quantity] | None = None
    conditions: list[NodeCondition] | None = None
    config: NodeConfigStatus | None = None
    daemonEndpoints: NodeDaemonEndpoints | None = None
    declaredFeatures: list[str] | None = None
    features: NodeFeatures | None = None
    images: list[ContainerImage] | None = None
    nodeInfo: NodeSystemInfo | None = None
    phase: str | None = None
    runtimeHandlers: list[NodeRuntimeHandler] | None = None
    volumesAttached: list[AttachedVolume] | None = None
    volumesInUse: list[str] | None = None


class NodeAddress(Struct):
    address: str | None = None
    type: str | None = None


class NodeCondition(Struct):
    lastHeartbeatTime: Time | None = None
    lastTransitionTime: Time | None = None
    message: str | None = None
    reason: str | None = None
    status: str | None = None
    type: str | None = None


class NodeConfigStatus(Struct):
    active: NodeConfigSource | None = None
    assigned: NodeConfigSource | None = None
    error: str | None = None
    lastKnownGood: NodeConfigSource | None = None


class NodeDaemonEndpoints(Struct):
    kubeletEndpoint: DaemonEndpoint | None = None


class DaemonEndpoint(Struct):
    Port: int | None = None


class NodeFeatures(Struct):
    supplementalGroupsPolicy: bool | None = None


class ContainerImage(Struct):
    names: list[str] | None = None
    sizeBytes: int | None = None


class NodeSystemInfo(Struct):
    architecture: str | None = None
    bootID: str | None = None
    containerRuntimeVersion: str | None = None
    kernelVersion: str | None = None
    kubeProxyVersion: str | None = None
    kubeletVersion: str | None = None
    machineID: str | None = None
    operatingSystem: str | None = None
    osImage: str | None = None
    runningInUserNamespace: bool | None = None
    swap: NodeSwapStatus | None = None
    systemUUID: str | None = None


class NodeSwapStatus(Struct):
    capacity: int | None = None


class NodeRuntimeHandler(Struct):
    features: NodeRuntimeHandlerFeatures | None = None
    name: str | None = None


class NodeRuntimeHandlerFeatures(Struct):
    recursiveReadOnlyMounts: bool | None = None
    userNamespaces: bool | None = None


class AttachedVolume(Struct):
    devicePath: str | None = None
    name: str | None = None


# Service -----------------------------------------------------------------------------------------


class Service(Resource):
    """A stable virtual IP and DNS name in front of the pods its selector matches."""

    group: ClassVar[str] = ""
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "services"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    spec: ServiceSpec | None = None
    status: ServiceStatus | None = None


class ServiceSpec(Struct):
    allocateLoadBalancerNodePorts: bool | None = None
    clusterIP: str | None = None
    clusterIPs: list[str] | None = None
    externalIPs: list[str] | None = None
    externalName: str | None = None
    externalTrafficPolicy: str | None = None
    healthCheckNodePort: int | None = None
    internalTrafficPolicy: str | None = None
    ipFamilies: list[str] | None = None
    ipFamilyPolicy: str | None = None
    loadBalancerClass: str | None = None
    loadBalancerIP: str | None = None
    loadBalancerSourceRanges: list[str] | None = None
    ports: list[ServicePort] | None = None
    publishNotReadyAddresses: bool | None = None
    selector: dict[str, str] | None = None
    sessionAffinity: str | None = None
    sessionAffinityConfig: SessionAffinityConfig | None = None
    trafficDistribution: str | None = None
    type: str | None = None


class ServicePort(Struct):
    """`targetPort` is a number or the name of a container port."""

    appProtocol: str | None = None
    name: str | None = None
    nodePort: int | None = None
    port: int | None = None
    protocol: str | None = None
    targetPort: IntOrString | None = None


class SessionAffinityConfig(Struct):
    clientIP: ClientIPConfig | None = None


class ClientIPConfig(Struct):
    timeoutSeconds: int | None = None


class ServiceStatus(Struct):
    conditions: list[Condition] | None = None
    loadBalancer: LoadBalancerStatus | None = None


class LoadBalancerStatus(Struct):
    ingress: list[LoadBalancerIngress] | None = None


class LoadBalancerIngress(Struct):
    hostname: str | None = None
    ip: str | None = None
    ipMode: str | None = None
    ports: list[PortStatus] | None = None


class PortStatus(Struct):
    error: str | None = None
    port: int | None = None
    protocol: str | None = None


# Endpoints ---------------------------------------------------------------------------------------


class Endpoints(Resource):
    """The addresses behind a Service, maintained by the endpoints controller; the name is the
    Service's name."""

    group: ClassVar[str] = ""
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "endpoints"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    subsets: list[EndpointSubset] | None = None


class EndpointSubset(Struct):
    """Addresses that all share the same ports; not-ready addresses are kept apart."""

    addresses: list[EndpointAddress] | None = None
    notReadyAddresses: list[EndpointAddress] | None = None
    ports: list[EndpointPort] | None = None


class EndpointAddress(Struct):
    hostname: str | None = None
    ip: str | None = None
    nodeName: str | None = None
    targetRef: ObjectReference | None = None


class ObjectReference(Struct):
    """A reference to any object, by kind, namespace, name and uid, optionally to a field path
    inside it (used by Event.involvedObject, Binding.target, EndpointAddress.targetRef)."""

    apiVersion: str | None = None
    fieldPath: str | None = None
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    resourceVersion: str | None = None
    uid: str | None = None


class EndpointPort(Struct):
    appProtocol: str | None = None
    name: str | None = None
    port: int | None = None
    protocol: str | None = None


# ConfigMap ---------------------------------------------------------------------------------------


class ConfigMap(Resource):
    """Non-secret configuration as string `data` and base64 `binaryData`; with `immutable: true`
    the data can no longer change."""

    group: ClassVar[str] = ""
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "configmaps"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    binaryData: dict[str, bytes] | None = None
    data: dict[str, str] | None = None
    immutable: bool | None = None


# Secret ------------------------------------------------------------------------------------------


class Secret(Resource):
    """Secret data, base64 on the wire and `bytes` here. `stringData` is write-only input: the
    API server merges it into `data` on write and never returns it."""

    group: ClassVar[str] = ""
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "secrets"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    data: dict[str, bytes] | None = None
    immutable: bool | None = None
    stringData: dict[str, str] | None = None
    type: str | None = None


# ServiceAccount ----------------------------------------------------------------------------------


class ServiceAccount(Resource):
    """An identity for processes in pods; pods name it in `spec.serviceAccountName`."""

    group: ClassVar[str] = ""
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "serviceaccounts"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    automountServiceAccountToken: bool | None = None
    imagePullSecrets: list[LocalObjectReference] | None = None
    secrets: list[ObjectReference] | None = None


# PersistentVolume --------------------------------------------------------------------------------


class PersistentVolume(Resource):
    """A piece of storage in the cluster; cluster-scoped, bound one-to-one to a claim."""

    group: ClassVar[str] = ""
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "persistentvolumes"
    namespaced: ClassVar[bool] = False

    metadata: ObjectMeta | None = None
    spec: PersistentVolumeSpec | None = None
    status: PersistentVolumeStatus | None = None


class PersistentVolumeSpec(Struct):
    """Exactly one volume source field is set; capacity is a Quantity map."""

    accessModes: list[str] | None = None
    awsElasticBlockStore: AWSElasticBlockStoreVolumeSource | None = None
    azureDisk: AzureDiskVolumeSource | None = None
    azureFile: AzureFilePersistentVolumeSource | None = None
    capacity: dict[str, Quantity] | None = None
    cephfs: CephFSPersistentVolumeSource | None = None
    cinder: CinderPersistentVolumeSource | None = None
    claimRef: ObjectReference | None = None
    csi: CSIPersistentVolumeSource | None = None
    fc: FCVolumeSource | None = None
    flexVolume: FlexPersistentVolumeSource | None = None
    flocker: FlockerVolumeSource | None = None
    gcePersistentDisk: GCEPersistentDiskVolumeSource | None = None
    glusterfs: GlusterfsPersistentVolumeSource | None = None
    hostPath: HostPathVolumeSource | None = None
    iscsi: ISCSIPersistentVolumeSource | None = None
    local: LocalVolumeSource | None = None
    mountOptions: list[str] | None = None
    nfs: NFSVolumeSource | None = None
    nodeAffinity: VolumeNodeAffinity | None = None
    persistentVolumeReclaimPolicy: str | None = None
    photonPersistentDisk: PhotonPersistentDiskVolumeSource | None = None
    portworxVolume: PortworxVolumeSource | None = None
    quobyte: QuobyteVolumeSource | None = None
    rbd: RBDPersistentVolumeSource | None = None
    scaleIO: ScaleIOPersistentVolumeSource | None = None
    storageClassName: str | None = None
    storageos: StorageOSPersistentVolumeSource | None = None
    volumeAttributesClassName: str | None = None
    volumeMode: str | None = None
    vsphereVolume: VsphereVirtualDiskVolumeSource | None = None


class AzureFilePersistentVolumeSource(Struct):
    readOnly: bool | None = None
    secretName: str | None = None
    secretNamespace: str | None = None
    shareName: str | None = None


class CephFSPersistentVolumeSource(Struct):
    monitors: list[str] | None = None
    path: str | None = None
    readOnly: bool | None = None
    secretFile: str | None = None
    secretRef: SecretReference | None = None
    user: str | None = None


class SecretReference(Struct):
    name: str | None = None
    namespace: str | None = None


class CinderPersistentVolumeSource(Struct):
    fsType: str | None = None
    readOnly: bool | None = None
    secretRef: SecretReference | None = None
    volumeID: str | None = None


class CSIPersistentVolumeSource(Struct):
    controllerExpandSecretRef: SecretReference | None = None
    controllerPublishSecretRef: SecretReference | None = None
    driver: str | None = None
    fsType: str | None = None
    nodeExpandSecretRef: SecretReference | None = None
    nodePublishSecretRef: SecretReference | None = None
    nodeStageSecretRef: SecretReference | None = None
    readOnly: bool | None = None
    volumeAttributes: dict[str, str] | None = None
    volumeHandle: str | None = None


class FlexPersistentVolumeSource(Struct):
    driver: str | None = None
    fsType: str | None = None
    options: dict[str, str] | None = None
    readOnly: bool | None = None
    secretRef: SecretReference | None = None


class GlusterfsPersistentVolumeSource(Struct):
    endpoints: str | None = None
    endpointsNamespace: str | None = None
    path: str | None = None
    readOnly: bool | None = None


class ISCSIPersistentVolumeSource(Struct):
    chapAuthDiscovery: bool | None = None
    chapAuthSession: bool | None = None
    fsType: str | None = None
    initiatorName: str | None = None
    iqn: str | None = None
    iscsiInterface: str | None = None
    lun: int | None = None
    portals: list[str] | None = None
    readOnly: bool | None = None
    secretRef: SecretReference | None = None
    targetPortal: str | None = None


class LocalVolumeSource(Struct):
    fsType: str | None = None
    path: str | None = None


class VolumeNodeAffinity(Struct):
    required: NodeSelector | None = None


class RBDPersistentVolumeSource(Struct):
    fsType: str | None = None
    image: str | None = None
    keyring: str | None = None
    monitors: list[str] | None = None
    pool: str | None = None
    readOnly: bool | None = None
    secretRef: SecretReference | None = None
    user: str | None = None


class ScaleIOPersistentVolumeSource(Struct):
    fsType: str | None = None
    gateway: str | None = None
    protectionDomain: str | None = None
    readOnly: bool | None = None
    secretRef: SecretReference | None = None
    sslEnabled: bool | None = None
    storageMode: str | None = None
    storagePool: str | None = None
    system: str | None = None
    volumeName: str | None = None


class StorageOSPersistentVolumeSource(Struct):
    fsType: str | None = None
    readOnly: bool | None = None
    secretRef: ObjectReference | None = None
    volumeName: str | None = None
    volumeNamespace: str | None = None


class PersistentVolumeStatus(Struct):
    lastPhaseTransitionTime: Time | None = None
    message: str | None = None
    phase: str | None = None
    reason: str | None = None


# PersistentVolumeClaim ---------------------------------------------------------------------------


class PersistentVolumeClaim(Resource):
    """A request for storage that binds to a PersistentVolume; StatefulSets embed it as a
    volume claim template."""

    group: ClassVar[str] = ""
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "persistentvolumeclaims"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    spec: PersistentVolumeClaimSpec | None = None
    status: PersistentVolumeClaimStatus | None = None


class PersistentVolumeClaimStatus(Struct):
    accessModes: list[str] | None = None
    allocatedResourceStatuses: dict[str, str] | None = None
    allocatedResources: dict[str, Quantity] | None = None
    capacity: dict[str, Quantity] | None = None
    conditions: list[PersistentVolumeClaimCondition] | None = None
    currentVolumeAttributesClassName: str | None = None
    healthStatus: VolumeHealthStatus | None = None
    modifyVolumeStatus: ModifyVolumeStatus | None = None
    phase: str | None = None


class PersistentVolumeClaimCondition(Struct):
    lastProbeTime: Time | None = None
    lastTransitionTime: Time | None = None
    message: str | None = None
    reason: str | None = None
    status: str | None = None
    type: str | None = None


class VolumeHealthStatus(Struct):
    healthConditions: list[VolumeHealthCondition] | None = None
    lastTransitionTime: Time | None = None


class ModifyVolumeStatus(Struct):
    status: str | None = None
    targetVolumeAttributesClassName: str | None = None


# ReplicationController ---------------------------------------------------------------------------


class ReplicationController(Resource):
    """The original replica controller: keeps `spec.replicas` pods matching an equality-based
    selector running."""

    group: ClassVar[str] = ""
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "replicationcontrollers"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    spec: ReplicationControllerSpec | None = None
    status: ReplicationControllerStatus | None = None


class ReplicationControllerSpec(Struct):
    minReadySeconds: int | None = None
    replicas: int | None = None
    selector: dict[str, str] | None = None
    template: PodTemplateSpec | None = None


class ReplicationControllerStatus(Struct):
    availableReplicas: int | None = None
    conditions: list[ReplicationControllerCondition] | None = None
    fullyLabeledReplicas: int | None = None
    observedGeneration: int | None = None
    readyReplicas: int | None = None
    replicas: int | None = None


class ReplicationControllerCondition(Struct):
    lastTransitionTime: Time | None = None
    message: str | None = None
    reason: str | None = None
    status: str | None = None
    type: str | None = None


# ResourceQuota -----------------------------------------------------------------------------------


class ResourceQuota(Resource):
    """Hard limits on aggregate resource use and object counts in a namespace; `status.used` is
    kept by the quota controller and admission."""

    group: ClassVar[str] = ""
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "resourcequotas"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    spec: ResourceQuotaSpec | None = None
    status: ResourceQuotaStatus | None = None


class ResourceQuotaSpec(Struct):
    hard: dict[str, Quantity] | None = None
    scopeSelector: ScopeSelector | None = None
    scopes: list[str] | None = None


class ScopeSelector(Struct):
    matchExpressions: list[ScopedResourceSelectorRequirement] | None = None


class ScopedResourceSelectorRequirement(Struct):
    operator: str | None = None
    scopeName: str | None = None
    values: list[str] | None = None


class ResourceQuotaStatus(Struct):
    hard: dict[str, Quantity] | None = None
    used: dict[str, Quantity] | None = None


# LimitRange --------------------------------------------------------------------------------------


class LimitRange(Resource):
    """Per-object min/max/default constraints (Quantity maps) for a namespace, applied at
    admission."""

    group: ClassVar[str] = ""
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "limitranges"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    spec: LimitRangeSpec | None = None


class LimitRangeSpec(Struct):
    limits: list[LimitRangeItem] | None = None


class LimitRangeItem(Struct):
    default: dict[str, Quantity] | None = None
    defaultRequest: dict[str, Quantity] | None = None
    max: dict[str, Quantity] | None = None
    maxLimitRequestRatio: dict[str, Quantity] | None = None
    min: dict[str, Quantity] | None = None
    type: str | None = None


# Event -------------------------------------------------------------------------------------------


class Event(Resource):
    """core/v1 Event: a report that something happened to `involvedObject`. It carries both
    the old fields (source, firstTimestamp, lastTimestamp, count) and the newer ones (eventTime,
    series, action, related, reportingComponent, reportingInstance); `eventTime` is a
    microsecond-precision RFC 3339 time."""

    group: ClassVar[str] = ""
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "events"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    action: str | None = None
    count: int | None = None
    eventTime: Time | None = None
    firstTimestamp: Time | None = None
    involvedObject: ObjectReference | None = None
    lastTimestamp: Time | None = None
    message: str | None = None
    reason: str | None = None
    related: ObjectReference | None = None
    reportingComponent: str | None = None
    reportingInstance: str | None = None
    series: EventSeries | None = None
    source: EventSource | None = None
    type: str | None = None


class EventSeries(Struct):
    """An ongoing series of similar events: how many and when the last was observed."""

    count: int | None = None
    lastObservedTime: Time | None = None


class EventSource(Struct):
    component: str | None = None
    host: str | None = None


# Binding -----------------------------------------------------------------------------------------


class Binding(Resource):
    """The body of POST pods/{name}/binding: assigns the pod named in `metadata` to the node named
    in `target`. It is never stored."""

    group: ClassVar[str] = ""
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "bindings"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    target: ObjectReference | None = None
