"""apps/v1: Deployment, ReplicaSet, DaemonSet, StatefulSet, ControllerRevision.

Types only: every field is optional and None means unset (see kube_lite.api.base). Defaults
(replicas 1, RollingUpdate with 25%/25%, revisionHistoryLimit 10, ...) are written by the
defaulting step, and required fields are enforced by validation, never here.
"""

from __future__ import annotations

from typing import ClassVar

from kube_lite.api.base import IntOrString, RawExtension, Resource, Struct, Time
from kube_lite.api.core import PersistentVolumeClaim, PodTemplateSpec
from kube_lite.api.meta import LabelSelector, ObjectMeta

# ---------------------------------------------------------------------------------------------
# Deployment


class RollingUpdateDeployment(Struct):
    """How far a rolling update may go below (maxUnavailable) and above (maxSurge) the desired
    replica count; each an absolute number or a percentage string such as "25%"."""

    maxUnavailable: IntOrString | None = None
    maxSurge: IntOrString | None = None


class DeploymentStrategy(Struct):
    """`type` is "Recreate" or "RollingUpdate"; rollingUpdate is only meaningful with the
    latter (the two are kept consistent by the strategy's retainKeys patch semantics)."""

    type: str | None = None
    rollingUpdate: RollingUpdateDeployment | None = None


class DeploymentSpec(Struct):
    replicas: int | None = None
    selector: LabelSelector | None = None
    template: PodTemplateSpec | None = None
    strategy: DeploymentStrategy | None = None
    minReadySeconds: int | None = None
    revisionHistoryLimit: int | None = None
    paused: bool | None = None
    progressDeadlineSeconds: int | None = None


class DeploymentCondition(Struct):
    """A Deployment condition (Available, Progressing, ReplicaFailure); unlike meta/v1
    Condition it has lastUpdateTime and no observedGeneration."""

    type: str | None = None
    status: str | None = None
    lastUpdateTime: Time | None = None
    lastTransitionTime: Time | None = None
    reason: str | None = None
    message: str | None = None


class DeploymentStatus(Struct):
    observedGeneration: int | None = None
    replicas: int | None = None
    updatedReplicas: int | None = None
    readyReplicas: int | None = None
    availableReplicas: int | None = None
    unavailableReplicas: int | None = None
    terminatingReplicas: int | None = None
    conditions: list[DeploymentCondition] | None = None
    collisionCount: int | None = None


class Deployment(Resource):
    """A declarative rollout of ReplicaSets; has the status and scale subresources."""

    group: ClassVar[str] = "apps"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "deployments"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    spec: DeploymentSpec | None = None
    status: DeploymentStatus | None = None


# ---------------------------------------------------------------------------------------------
# ReplicaSet


class ReplicaSetSpec(Struct):
    replicas: int | None = None
    minReadySeconds: int | None = None
    selector: LabelSelector | None = None
    template: PodTemplateSpec | None = None


class ReplicaSetCondition(Struct):
    type: str | None = None
    status: str | None = None
    lastTransitionTime: Time | None = None
    reason: str | None = None
    message: str | None = None


class ReplicaSetStatus(Struct):
    replicas: int | None = None
    fullyLabeledReplicas: int | None = None
    readyReplicas: int | None = None
    availableReplicas: int | None = None
    terminatingReplicas: int | None = None
    observedGeneration: int | None = None
    conditions: list[ReplicaSetCondition] | None = None


class ReplicaSet(Resource):
    """Keeps `replicas` pods matching `selector` running; has status and scale subresources."""

    group: ClassVar[str] = "apps"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "replicasets"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    spec: ReplicaSetSpec | None = None
    status: ReplicaSetStatus | None = None


# ---------------------------------------------------------------------------------------------
# DaemonSet


class RollingUpdateDaemonSet(Struct):
    """maxUnavailable and maxSurge as numbers of nodes or percentages ("10%")."""

    maxUnavailable: IntOrString | None = None
    maxSurge: IntOrString | None = None


class DaemonSetUpdateStrategy(Struct):
    """`type` is "RollingUpdate" or "OnDelete"."""

    type: str | None = None
    rollingUpdate: RollingUpdateDaemonSet | None = None


class DaemonSetSpec(Struct):
    selector: LabelSelector | None = None
    template: PodTemplateSpec | None = None
    updateStrategy: DaemonSetUpdateStrategy | None = None
    minReadySeconds: int | None = None
    revisionHistoryLimit: int | None = None


class DaemonSetCondition(Struct):
    type: str | None = None
    status: str | None = None
    lastTransitionTime: Time | None = None
    reason: str | None = None
    message: str | None = None


class DaemonSetStatus(Struct):
    currentNumberScheduled: int | None = None
    numberMisscheduled: int | None = None
    desiredNumberScheduled: int | None = None
    numberReady: int | None = None
    observedGeneration: int | None = None
    updatedNumberScheduled: int | None = None
    numberAvailable: int | None = None
    numberUnavailable: int | None = None
    collisionCount: int | None = None
    conditions: list[DaemonSetCondition] | None = None


class DaemonSet(Resource):
    """One pod per eligible node; has the status subresource (no scale)."""

    group: ClassVar[str] = "apps"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "daemonsets"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    spec: DaemonSetSpec | None = None
    status: DaemonSetStatus | None = None


# ---------------------------------------------------------------------------------------------
# StatefulSet


class RollingUpdateStatefulSetStrategy(Struct):
    """Only pods with an ordinal >= partition are updated; maxUnavailable (number or
    percentage) is honoured only when the MaxUnavailableStatefulSet feature gate is on."""

    partition: int | None = None
    maxUnavailable: IntOrString | None = None


class StatefulSetUpdateStrategy(Struct):
    """`type` is "RollingUpdate" or "OnDelete"."""

    type: str | None = None
    rollingUpdate: RollingUpdateStatefulSetStrategy | None = None


class StatefulSetPersistentVolumeClaimRetentionPolicy(Struct):
    """What happens to volumeClaimTemplates' PVCs: "Retain" or "Delete", on StatefulSet
    deletion (whenDeleted) and on scale-down (whenScaled)."""

    whenDeleted: str | None = None
    whenScaled: str | None = None


class StatefulSetOrdinals(Struct):
    """The first replica ordinal (`start`, 0 when unset)."""

    start: int | None = None


class StatefulSetSpec(Struct):
    replicas: int | None = None
    selector: LabelSelector | None = None
    template: PodTemplateSpec | None = None
    volumeClaimTemplates: list[PersistentVolumeClaim] | None = None
    serviceName: str | None = None
    podManagementPolicy: str | None = None
    updateStrategy: StatefulSetUpdateStrategy | None = None
    revisionHistoryLimit: int | None = None
    minReadySeconds: int | None = None
    persistentVolumeClaimRetentionPolicy: StatefulSetPersistentVolumeClaimRetentionPolicy | None = None
    ordinals: StatefulSetOrdinals | None = None


class StatefulSetCondition(Struct):
    type: str | None = None
    status: str | None = None
    lastTransitionTime: Time | None = None
    reason: str | None = None
    message: str | None = None


class StatefulSetStatus(Struct):
    observedGeneration: int | None = None
    replicas: int | None = None
    readyReplicas: int | None = None
    currentReplicas: int | None = None
    updatedReplicas: int | None = None
    currentRevision: str | None = None
    updateRevision: str | None = None
    collisionCount: int | None = None
    conditions: list[StatefulSetCondition] | None = None
    availableReplicas: int | None = None


class StatefulSet(Resource):
    """Pods with stable ordinal identities and per-pod PVCs; has status and scale
    subresources."""

    group: ClassVar[str] = "apps"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "statefulsets"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    spec: StatefulSetSpec | None = None
    status: StatefulSetStatus | None = None


# ---------------------------------------------------------------------------------------------
# ControllerRevision


class ControllerRevision(Resource):
    """An immutable snapshot of a DaemonSet's or StatefulSet's template. `data` is a
    RawExtension: arbitrary JSON (usually a strategic-merge patch of the owner), kept as
    decoded JSON values and written back unchanged."""

    group: ClassVar[str] = "apps"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "controllerrevisions"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    data: RawExtension | None = None
    revision: int | None = None


__all__ = [
    "ControllerRevision",
    "DaemonSet",
    "DaemonSetCondition",
    "DaemonSetSpec",
    "DaemonSetStatus",
    "DaemonSetUpdateStrategy",
    "Deployment",
    "DeploymentCondition",
    "DeploymentSpec",
    "DeploymentStatus",
    "DeploymentStrategy",
    "ReplicaSet",
    "ReplicaSetCondition",
    "ReplicaSetSpec",
    "ReplicaSetStatus",
    "RollingUpdateDaemonSet",
    "RollingUpdateDeployment",
    "RollingUpdateStatefulSetStrategy",
    "StatefulSet",
    "StatefulSetCondition",
    "StatefulSetOrdinals",
    "StatefulSetPersistentVolumeClaimRetentionPolicy",
    "StatefulSetSpec",
    "StatefulSetStatus",
    "StatefulSetUpdateStrategy",
]
