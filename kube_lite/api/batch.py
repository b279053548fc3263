"""batch/v1: Job and CronJob.

Types only: every field is optional and None means unset (see kube_lite.api.base). Defaults
(parallelism/completions 1, backoffLimit 6, completionMode NonIndexed, concurrencyPolicy Allow,
...) are written by the defaulting step, and required fields are enforced by validation.
"""

from __future__ import annotations

from typing import Any, ClassVar

from kube_lite.api.base import Resource, Struct, Time
from kube_lite.api.core import ObjectReference, PodTemplateSpec
from kube_lite.api.meta import LabelSelector, ObjectMeta

# ---------------------------------------------------------------------------------------------
# Job: pod failure and success policies


class PodFailurePolicyOnExitCodesRequirement(Struct):
    """Matches a failed pod by its containers' exit codes: `operator` "In" or "NotIn" over
    `values`, restricted to one container when containerName is set."""

    containerName: str | None = None
    operator: str | None = None
    values: list[int] | None = None


class PodFailurePolicyOnPodConditionsPattern(Struct):
    """Matches a failed pod that has condition `type` with `status` (defaulted to "True")."""

    type: str | None = None
    status: str | None = None


class PodFailurePolicyRule(Struct):
    """`action` (FailJob, FailIndex, Ignore, Count) is taken for a failed pod that matches the
    rule's one requirement: validation allows exactly one of onExitCodes and onPodConditions."""

    action: str | None = None
    onExitCodes: PodFailurePolicyOnExitCodesRequirement | None = None
    onPodConditions: list[PodFailurePolicyOnPodConditionsPattern] | None = None


class PodFailurePolicy(Struct):
    """Rules evaluated in order; the first that matches a failed pod decides."""

    rules: list[PodFailurePolicyRule] | None = None


class SuccessPolicyRule(Struct):
    """Met when every index in `succeededIndexes` (an interval list such as "0,2-4") has
    succeeded; with `succeededCount`, when that many indexes (of succeededIndexes, if set) have."""

    succeededIndexes: str | None = None
    succeededCount: int | None = None


class SuccessPolicy(Struct):
    """Rules ORed together; the Job is declared succeeded (SuccessCriteriaMet) at the first
    that is met."""

    rules: list[SuccessPolicyRule] | None = None


# ---------------------------------------------------------------------------------------------
# Job: workload-aware scheduling (alpha). These are the scheduling.k8s.io Workload API's pod
# group building blocks, embedded in JobSpec.scheduling; they live here until that API has a
# module of its own.


class WorkloadPodGroupDisruptionMode(Struct):
    """Exactly one of `all` (the group is disrupted together) or `single` (pods are disrupted
    one by one); each is an empty object whose presence is the choice."""

    all: dict[str, Any] | None = None
    single: dict[str, Any] | None = None


class WorkloadPodGroupResourceClaim(Struct):
    name: str | None = None
    resourceClaimName: str | None = None
    resourceClaimTemplateName: str | None = None


class TopologyConstraint(Struct):
    """Co-locates every pod of a group within one domain of node label `key`."""

    key: str | None = None


class WorkloadPodGroupSchedulingConstraints(Struct):
    topology: list[TopologyConstraint] | None = None


class WorkloadPodGroupGangSchedulingPolicy(Struct):
    """Admit the group only when at least minCount pods can be scheduled at once."""

    minCount: int | None = None


class WorkloadPodGroupSchedulingPolicy(Struct):
    """Exactly one of `basic` (pod-by-pod; an empty object) or `gang`."""

    basic: dict[str, Any] | None = None
    gang: WorkloadPodGroupGangSchedulingPolicy | None = None


class JobSchedulingConfiguration(Struct):
    disruptionMode: WorkloadPodGroupDisruptionMode | None = None
    resourceClaims: list[WorkloadPodGroupResourceClaim] | None = None
    schedulingConstraints: WorkloadPodGroupSchedulingConstraints | None = None
    schedulingPolicy: WorkloadPodGroupSchedulingPolicy | None = None


# ---------------------------------------------------------------------------------------------
# Job


class JobSpec(Struct):
    """completionMode is "NonIndexed" or "Indexed"; backoffLimitPerIndex, maxFailedIndexes
    and successPolicy apply to Indexed Jobs only. podReplacementPolicy is
    "TerminatingOrFailed" or "Failed". A Job whose managedBy is set to anything other than
    "kubernetes.io/job-controller" is left to that external controller."""

    parallelism: int | None = None
    completions: int | None = None
    activeDeadlineSeconds: int | None = None
    podFailurePolicy: PodFailurePolicy | None = None
    successPolicy: SuccessPolicy | None = None
    backoffLimit: int | None = None
    backoffLimitPerIndex: int | None = None
    maxFailedIndexes: int | None = None
    selector: LabelSelector | None = None
    manualSelector: bool | None = None
    template: PodTemplateSpec | None = None
    ttlSecondsAfterFinished: int | None = None
    completionMode: str | None = None
    suspend: bool | None = None
    podReplacementPolicy: str | None = None
    managedBy: str | None = None
    scheduling: JobSchedulingConfiguration | None = None


class JobCondition(Struct):
    """A Job condition (Suspended, Complete, Failed, FailureTarget, SuccessCriteriaMet);
    has lastProbeTime, unlike meta/v1 Condition."""

    type: str | None = None
    status: str | None = None
    lastProbeTime: Time | None = None
    lastTransitionTime: Time | None = None
    reason: str | None = None
    message: str | None = None


class UncountedTerminatedPods(Struct):
    """UIDs of finished pods whose finalizer the controller has yet to remove before it
    counts them in status.succeeded / status.failed (each list is a set)."""

    succeeded: list[str] | None = None
    failed: list[str] | None = None


class JobStatus(Struct):
    """completedIndexes and failedIndexes are interval lists ("1,3-5") of an Indexed Job."""

    conditions: list[JobCondition] | None = None
    startTime: Time | None = None
    completionTime: Time | None = None
    active: int | None = None
    succeeded: int | None = None
    failed: int | None = None
    terminating: int | None = None
    completedIndexes: str | None = None
    failedIndexes: str | None = None
    uncountedTerminatedPods: UncountedTerminatedPods | None = None
    ready: int | None = None


class Job(Resource):
    """Runs pods until a number of them succeed; has the status subresource."""

    group: ClassVar[str] = "batch"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "jobs"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    spec: JobSpec | None = None
    status: JobStatus | None = None


# ---------------------------------------------------------------------------------------------
# CronJob


class JobTemplateSpec(Struct):
    """The Job a CronJob creates: its metadata (labels, annotations) and spec."""

    metadata: ObjectMeta | None = None
    spec: JobSpec | None = None


class CronJobSpec(Struct):
    """`schedule` is in cron format, interpreted in `timeZone` (an IANA name; the
    controller's local zone when unset). concurrencyPolicy is "Allow", "Forbid" or
    "Replace"."""

    schedule: str | None = None
    timeZone: str | None = None
    startingDeadlineSeconds: int | None = None
    concurrencyPolicy: str | None = None
    suspend: bool | None = None
    jobTemplate: JobTemplateSpec | None = None
    successfulJobsHistoryLimit: int | None = None
    failedJobsHistoryLimit: int | None = None


class CronJobStatus(Struct):
    """`active` references the Jobs this CronJob is running (no merge key: a strategic merge
    patch replaces the whole list)."""

    active: list[ObjectReference] | None = None
    lastScheduleTime: Time | None = None
    lastSuccessfulTime: Time | None = None


class CronJob(Resource):
    """Creates a Job from jobTemplate at each scheduled time; has the status subresource."""

    group: ClassVar[str] = "batch"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "cronjobs"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    spec: CronJobSpec | None = None
    status: CronJobStatus | None = None


__all__ = [
    "CronJob",
    "CronJobSpec",
    "CronJobStatus",
    "Job",
    "JobCondition",
    "JobSchedulingConfiguration",
    "JobSpec",
    "JobStatus",
    "JobTemplateSpec",
    "PodFailurePolicy",
    "PodFailurePolicyOnExitCodesRequirement",
    "PodFailurePolicyOnPodConditionsPattern",
    "PodFailurePolicyRule",
    "SuccessPolicy",
    "SuccessPolicyRule",
    "TopologyConstraint",
    "UncountedTerminatedPods",
    "WorkloadPodGroupDisruptionMode",
    "WorkloadPodGroupGangSchedulingPolicy",
    "WorkloadPodGroupResourceClaim",
    "WorkloadPodGroupSchedulingConstraints",
    "WorkloadPodGroupSchedulingPolicy",
]
