"""scheduling.k8s.io/v1: PriorityClass, the name-to-priority mapping used by pods.

Conventions are kube_lite.api.base's. A PriorityClass has no spec: its fields sit at the top
level of the object, as in Kubernetes.
"""

from __future__ import annotations

from typing import ClassVar

from kube_lite.api.base import Resource
from kube_lite.api.meta import ObjectMeta


class PriorityClass(Resource):
    """Maps a priority class name to an integer priority and a preemption policy."""

    group: ClassVar[str] = "scheduling.k8s.io"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "priorityclasses"
    namespaced: ClassVar[bool] = False

    metadata: ObjectMeta | None = None
    value: int | None = None
    globalDefault: bool | None = None
    description: str | None = None
    # PreemptLowerPriority (the default, written by defaulting) or Never.
    preemptionPolicy: str | None = None
