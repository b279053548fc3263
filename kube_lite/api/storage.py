"""storage.k8s.io/v1: StorageClass, the provisioner and parameters for dynamic volumes.

Conventions are kube_lite.api.base's. A StorageClass has no spec: its fields sit at the top level
and, except metadata, are immutable after create. TopologySelectorTerm is a core/v1 type in
Kubernetes; it is defined here because StorageClass is its only user.
"""

from __future__ import annotations

from typing import ClassVar

from kube_lite.api.base import Resource, Struct
from kube_lite.api.meta import ObjectMeta


class TopologySelectorLabelRequirement(Struct):
    key: str | None = None
    values: list[str] | None = None


class TopologySelectorTerm(Struct):
    """Requirements ANDed together; the terms of allowedTopologies are ORed."""

    matchLabelExpressions: list[TopologySelectorLabelRequirement] | None = None


class StorageClass(Resource):
    group: ClassVar[str] = "storage.k8s.io"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "storageclasses"
    namespaced: ClassVar[bool] = False

    metadata: ObjectMeta | None = None
    provisioner: str | None = None
    parameters: dict[str, str] | None = None
    # Delete (the default, written by defaulting) or Retain.
    reclaimPolicy: str | None = None
    mountOptions: list[str] | None = None
    allowVolumeExpansion: bool | None = None
    # Immediate (the default) or WaitForFirstConsumer.
    volumeBindingMode: str | None = None
    allowedTopologies: list[TopologySelectorTerm] | None = None
