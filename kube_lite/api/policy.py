"""policy/v1: PodDisruptionBudget, and Eviction (the body of the pods/eviction subresource).

Conventions are kube_lite.api.base's. minAvailable and maxUnavailable are IntOrString: a count
(2) or a percentage ("50%").
"""

from __future__ import annotations

from typing import ClassVar

from kube_lite.api.base import IntOrString, Resource, Struct, Time
from kube_lite.api.meta import Condition, DeleteOptions, LabelSelector, ObjectMeta


class PodDisruptionBudgetSpec(Struct):
    minAvailable: IntOrString | None = None
    selector: LabelSelector | None = None
    maxUnavailable: IntOrString | None = None
    # IfHealthyBudget (the behaviour when unset) or AlwaysAllow.
    unhealthyPodEvictionPolicy: str | None = None


class PodDisruptionBudgetStatus(Struct):
    observedGeneration: int | None = None
    # Pod name -> the time the eviction API accepted its eviction, until the pod is gone.
    disruptedPods: dict[str, Time] | None = None
    disruptionsAllowed: int | None = None
    currentHealthy: int | None = None
    desiredHealthy: int | None = None
    expectedPods: int | None = None
    conditions: list[Condition] | None = None


class PodDisruptionBudget(Resource):
    """How many pods of a set may be voluntarily disrupted at once; has a status subresource."""

    group: ClassVar[str] = "policy"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "poddisruptionbudgets"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    spec: PodDisruptionBudgetSpec | None = None
    status: PodDisruptionBudgetStatus | None = None


class Eviction(Resource):
    """A request to evict a pod, POSTed to pods/{name}/eviction; metadata names the pod.

    Eviction is served only as that subresource: there is no `evictions` collection.
    """

    group: ClassVar[str] = "policy"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "evictions"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    deleteOptions: DeleteOptions | None = None
