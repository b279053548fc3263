"""coordination.k8s.io/v1: Lease, the object behind leader election and node heartbeats.

Conventions are kube_lite.api.base's: every field optional, None omitted, JSON names as
Kubernetes spells them. acquireTime and renewTime are RFC 3339 strings with microseconds
(MicroTime on the wire), kept as the client sent them.
"""

from __future__ import annotations

from typing import ClassVar

from kube_lite.api.base import Resource, Struct, Time
from kube_lite.api.meta import ObjectMeta


class LeaseSpec(Struct):
    """Who holds the lease, since when, and for how long without renewal."""

    holderIdentity: str | None = None
    leaseDurationSeconds: int | None = None
    acquireTime: Time | None = None
    renewTime: Time | None = None
    leaseTransitions: int | None = None
    # Coordinated leader election (alpha in Kubernetes): the strategy picks the next holder.
    strategy: str | None = None
    preferredHolder: str | None = None


class Lease(Resource):
    """A lease: leader election locks and the per-node heartbeat in kube-node-lease."""

    group: ClassVar[str] = "coordination.k8s.io"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "leases"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    spec: LeaseSpec | None = None
