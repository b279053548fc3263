"""meta/v1 types shared by every kind: ObjectMeta, ListMeta, LabelSelector, Status, ..."""

from __future__ import annotations

from typing import Any

import msgspec

from kube_lite.api.base import Resource, Struct, Time


class OwnerReference(Struct):
    apiVersion: str | None = None
    kind: str | None = None
    name: str | None = None
    uid: str | None = None
    controller: bool | None = None
    blockOwnerDeletion: bool | None = None


class ManagedFieldsEntry(Struct):
    manager: str | None = None
    operation: str | None = None
    apiVersion: str | None = None
    time: Time | None = None
    fieldsType: str | None = None
    fieldsV1: dict[str, Any] | None = None
    subresource: str | None = None


class ObjectMeta(Struct):
    name: str | None = None
    generateName: str | None = None
    namespace: str | None = None
    selfLink: str | None = None
    uid: str | None = None
    resourceVersion: str | None = None
    generation: int | None = None
    creationTimestamp: Time | None = None
    deletionTimestamp: Time | None = None
    deletionGracePeriodSeconds: int | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    ownerReferences: list[OwnerReference] | None = None
    finalizers: list[str] | None = None
    managedFields: list[ManagedFieldsEntry] | None = None


class ShardInfo(Struct):
    selector: str | None = None


class ListMeta(Struct):
    selfLink: str | None = None
    resourceVersion: str | None = None
    continue_: str | None = msgspec.field(default=None, name="continue")
    remainingItemCount: int | None = None
    shardInfo: ShardInfo | None = None


class LabelSelectorRequirement(Struct):
    key: str | None = None
    operator: str | None = None
    values: list[str] | None = None


class LabelSelector(Struct):
    matchLabels: dict[str, str] | None = None
    matchExpressions: list[LabelSelectorRequirement] | None = None


class Condition(Struct):
    """meta/v1 Condition, the standard condition of newer APIs."""

    type: str | None = None
    status: str | None = None
    observedGeneration: int | None = None
    lastTransitionTime: Time | None = None
    reason: str | None = None
    message: str | None = None


class StatusCause(Struct):
    reason: str | None = None
    message: str | None = None
    field: str | None = None


class StatusDetails(Struct):
    name: str | None = None
    group: str | None = None
    kind: str | None = None
    uid: str | None = None
    causes: list[StatusCause] | None = None
    retryAfterSeconds: int | None = None


class Status(Resource):
    """The body of every API error (and of some successful deletes)."""

    metadata: ListMeta | None = None
    status: str | None = None
    message: str | None = None
    reason: str | None = None
    details: StatusDetails | None = None
    code: int | None = None


class Preconditions(Struct):
    uid: str | None = None
    resourceVersion: str | None = None


class DeleteOptions(Resource):
    gracePeriodSeconds: int | None = None
    preconditions: Preconditions | None = None
    orphanDependents: bool | None = None
    propagationPolicy: str | None = None
    dryRun: list[str] | None = None
    ignoreStoreReadErrorWithClusterBreakingPotential: bool | None = None
