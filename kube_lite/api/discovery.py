"""discovery.k8s.io/v1: EndpointSlice, the scalable form of a Service's endpoints.

Conventions are kube_lite.api.base's. An EndpointSlice has no spec: addressType, endpoints and
ports sit at the top level, as in Kubernetes.
"""

from __future__ import annotations

from typing import ClassVar

from kube_lite.api.base import Resource, Struct
from kube_lite.api.core import ObjectReference
from kube_lite.api.meta import ObjectMeta


class EndpointConditions(Struct):
    """Readiness of one endpoint; None means unknown (consumers treat ready=None as ready)."""

    ready: bool | None = None
    serving: bool | None = None
    terminating: bool | None = None


class ForZone(Struct):
    name: str | None = None


class ForNode(Struct):
    name: str | None = None


class EndpointHints(Struct):
    """Topology-aware routing hints: which zones or nodes should consume this endpoint."""

    forZones: list[ForZone] | None = None
    forNodes: list[ForNode] | None = None


class Endpoint(Struct):
    """One backend: its addresses (one for IPv4/IPv6 slices) and where it runs."""

    addresses: list[str] | None = None
    conditions: EndpointConditions | None = None
    hostname: str | None = None
    targetRef: ObjectReference | None = None
    # Deprecated in Kubernetes (nodeName and zone replace it), still accepted and stored.
    deprecatedTopology: dict[str, str] | None = None
    nodeName: str | None = None
    zone: str | None = None
    hints: EndpointHints | None = None


class EndpointPort(Struct):
    name: str | None = None
    protocol: str | None = None
    port: int | None = None
    appProtocol: str | None = None


class EndpointSlice(Resource):
    """A slice of a Service's endpoints, labelled kubernetes.io/service-name=<service>."""

    group: ClassVar[str] = "discovery.k8s.io"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "endpointslices"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    # IPv4, IPv6 or FQDN; immutable.
    addressType: str | None = None
    endpoints: list[Endpoint] | None = None
    ports: list[EndpointPort] | None = None
