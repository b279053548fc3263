"""The API server's discovery documents, built from the kind registry.

Clients learn what a server serves from these documents before anything else: kubectl maps
`kubectl get deploy` to apps/v1 deployments with them, `kubectl api-resources` and
`kubectl api-versions` print them, and `kubectl get all` expands the "all" category from them.
Two formats exist and kube-lite serves both:

- the legacy, one-request-per-group-version documents: `/api` (APIVersions), `/apis`
  (APIGroupList), `/apis/{group}` (APIGroup), `/api/v1` and `/apis/{group}/{version}`
  (APIResourceList, where every subresource is an entry of its own, "pods/status");
- the aggregated document (apidiscovery.k8s.io/v2 APIGroupDiscoveryList) that client-go asks
  for first on `/api` and `/apis` with `Accept: application/json;g=apidiscovery.k8s.io;v=v2;
  as=APIGroupDiscoveryList`. It holds every group, version, resource and subresource at once,
  so one or two requests replace dozens. client-go decides which format it received from the
  response's Content-Type, so the HTTP layer must answer it with the `content_type` that
  `negotiate_aggregated` returns, and with plain `application/json` otherwise.

Every function here is pure: it reads the registry and returns a dict or bytes; nothing here
does I/O. The `*_doc` functions build a fresh dict; the functions of the same name without the
suffix return the JSON bytes the HTTP layer sends, cached per registry state (the set of
KindInfos registered), so a CRD that registers or unregisters a kind changes what they return,
and an unchanged registry costs one cache lookup per request.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgspec

from kube_lite.api.registry import KindInfo, KindRegistry, default_registry

AGGREGATED_GROUP = "apidiscovery.k8s.io"
AGGREGATED_KIND = "APIGroupDiscoveryList"
AGGREGATED_VERSIONS: tuple[str, ...] = ("v2", "v2beta1")
"""The apidiscovery.k8s.io versions kube-lite answers, preferred first. Both share one wire
format; v2beta1 is what kubectl releases before 1.30 ask for."""


def aggregated_content_type(version: str = "v2") -> str:
    """The Content-Type of an aggregated discovery response of apidiscovery `version`.

    client-go compares the media type parameters (g, v, as), not the string, so parameter
    order does not matter to it; this is the spelling Kubernetes uses.
    """
    return f"application/json;g={AGGREGATED_GROUP};v={version};as={AGGREGATED_KIND}"


AGGREGATED_CONTENT_TYPE = aggregated_content_type("v2")


def negotiate_aggregated(accept: str | None) -> str | None:
    """Which aggregated discovery version an Accept header asks for, or None for legacy.

    Clauses are taken in the order the client wrote them (client-go lists its preference
    first and sends no q-values); the first clause that names APIGroupDiscoveryList of
    apidiscovery.k8s.io at a version kube-lite serves wins. A clause for plain
    application/json (or */*) before any aggregated one means the client prefers the legacy
    document, so None is returned. Extra parameters (profile=nopeer, charset) are ignored.
    """
    if not accept:
        return None
    for clause in accept.split(","):
        media, _, raw_params = clause.strip().partition(";")
        params: dict[str, str] = {}
        for raw in raw_params.split(";"):
            key, sep, value = raw.strip().partition("=")
            if sep:
                params[key.strip().lower()] = value.strip().strip('"')
        media = media.strip().lower()
        if media not in ("application/json", "application/*", "*/*"):
            continue
        if params.get("as") == AGGREGATED_KIND and params.get("g") == AGGREGATED_GROUP:
            if params.get("v") in AGGREGATED_VERSIONS:
                return params["v"]
            continue  # an aggregated version we do not serve: try the next clause
        if "as" not in params:
            return None
    return None


# ---- facts per kind


def storage_version_hash(group: str, version: str, kind: str) -> str:
    """The opaque storageVersionHash of a resource stored as group/version/kind.

    Kubernetes' value is the base64 of the first 8 bytes of the SHA-256 of
    "group/version/Kind" (group empty for core), and kube-lite stores every kind at the
    version it serves, so the same formula gives clients (the storage version migrator,
    caches keyed on it) the values they would see from Kubernetes.
    """
    digest = hashlib.sha256(f"{group}/{version}/{kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode("ascii")


def _scope(info: KindInfo) -> str:
    return "Namespaced" if info.namespaced else "Cluster"


def _gvk(group: str, version: str, kind: str) -> dict[str, str]:
    # metav1.GroupVersionKind has no omitempty: the core group is an explicit "".
    return {"group": group, "version": version, "kind": kind}


def _api_resource(info: KindInfo) -> dict[str, Any]:
    """One APIResource entry of the legacy APIResourceList for the kind itself."""
    out: dict[str, Any] = {
        "name": info.plural,
        "singularName": info.singular,
        "namespaced": info.namespaced,
        "kind": info.kind,
        "verbs": list(info.verbs),
    }
    if info.short_names:
        out["shortNames"] = list(info.short_names)
    if info.categories:
        out["categories"] = list(info.categories)
    if "get" in info.verbs or "list" in info.verbs:
        # Kubernetes publishes the hash only for resources it stores; request-only kinds
        # (reviews, Binding) have none.
        out["storageVersionHash"] = storage_version_hash(info.group, info.version, info.kind)
    return out


def _api_subresources(info: KindInfo) -> list[dict[str, Any]]:
    """The legacy APIResource entries of a kind's subresources, sorted by name.

    A subresource entry has an empty singularName, the parent's scope, and group/version only
    when its kind lives elsewhere (pods/eviction: policy/v1 Eviction).
    """
    out: list[dict[str, Any]] = []
    for name in sorted(info.subresources):
        sub = info.subresource_info(name)
        entry: dict[str, Any] = {
            "name": f"{info.plural}/{name}",
            "singularName": "",
            "namespaced": info.namespaced,
        }
        if (sub.group, sub.version) != (info.group, info.version):
            entry["group"] = sub.group
            entry["version"] = sub.version
        entry["kind"] = sub.kind
        entry["verbs"] = list(sub.verbs)
        out.append(entry)
    return out


def _resource_discovery(info: KindInfo) -> dict[str, Any]:
    """One apidiscovery APIResourceDiscovery: the kind and its subresources."""
    out: dict[str, Any] = {
        "resource": info.plural,
        "responseKind": _gvk(info.group, info.version, info.kind),
        "scope": _scope(info),
        "singularResource": info.singular,
        "verbs": list(info.verbs),
    }
    if info.short_names:
        out["shortNames"] = list(info.short_names)
    if info.categories:
        out["categories"] = list(info.categories)
    subresources = []
    for name in sorted(info.subresources):
        sub = info.subresource_info(name)
        subresources.append(
            {"subresource": name, "responseKind": _gvk(sub.group, sub.version, sub.kind), "verbs": list(sub.verbs)}
        )
    if subresources:
        out["subresources"] = subresources
    return out


# ---- legacy documents


def _group_version_for_discovery(group: str, version: str) -> dict[str, str]:
    return {"groupVersion": f"{group}/{version}" if group else version, "version": version}


def api_versions_doc(registry: KindRegistry | None, server_address: str | None = None) -> dict[str, Any]:
    """The APIVersions document of `/api`: the core group's versions.

    `server_address` ("host:port") is advertised for every client CIDR, as Kubernetes does;
    without one the list is empty, which clients accept (they use the address they dialled).
    """
    addresses = [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}] if server_address else []
    return {
        "kind": "APIVersions",
        "versions": (registry.versions("") if registry is not None else None) or ["v1"],
        "serverAddressByClientCIDRs": addresses,
    }


def _api_group(registry: KindRegistry, group: str) -> dict[str, Any] | None:
    versions = [v for v in registry.versions(group) if registry.kinds_in(group, v)]
    if not versions:
        return None
    return {
        "name": group,
        "versions": [_group_version_for_discovery(group, v) for v in versions],
        "preferredVersion": _group_version_for_discovery(group, versions[0]),
    }


def api_group_list_doc(registry: KindRegistry) -> dict[str, Any]:
    """The APIGroupList document of `/apis`: every named group (not core), in discovery
    order, each with its versions (preferred first) and preferredVersion."""
    groups = []
    for group in registry.groups():
        if group == "":
            continue
        entry = _api_group(registry, group)
        if entry is not None:
            groups.append(entry)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group_doc(registry: KindRegistry, group: str) -> dict[str, Any] | None:
    """The APIGroup document of `/apis/{group}`, or None when the group is not served
    (the HTTP layer answers 404)."""
    if group == "":
        return None
    entry = _api_group(registry, group)
    if entry is None:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **entry}


def api_resource_list_doc(registry: KindRegistry, group: str, version: str) -> dict[str, Any] | None:
    """The APIResourceList of `/api/v1` (group "") or `/apis/{group}/{version}`, or None
    when that group-version is not served.

    Entries are sorted by name, each kind followed by its subresources ("pods",
    "pods/attach", ..., "pods/status"), as Kubernetes lists them.
    """
    kinds = registry.kinds_in(group, version)
    if not kinds:
        return None
    resources: list[dict[str, Any]] = []
    for info in kinds:
        resources.append(_api_resource(info))
        resources.extend(_api_subresources(info))
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }


# ---- aggregated documents


def _group_discovery(registry: KindRegistry, group: str) -> dict[str, Any] | None:
    versions = []
    for version in registry.versions(group):
        kinds = registry.kinds_in(group, version)
        if kinds:
            versions.append(
                {
                    "version": version,
                    "resources": [_resource_discovery(info) for info in kinds],
                    "freshness": "Current",
                }
            )
    if not versions:
        return None
    # The core group has no name; ObjectMeta.name is omitted when empty.
    metadata: dict[str, Any] = {"name": group} if group else {}
    return {"metadata": metadata, "versions": versions}


def aggregated_discovery_doc(registry: KindRegistry, *, legacy: bool, version: str = "v2") -> dict[str, Any]:
    """The APIGroupDiscoveryList answered on `/api` (legacy=True: the core group only) or
    `/apis` (legacy=False: every named group, in discovery order).

    Versions are listed preferred first (client-go takes the first as the preferred one);
    resources are sorted by name; each carries responseKind, scope, singularResource, verbs,
    and its subresources with their own responseKind and verbs. `version` ("v2" or
    "v2beta1") only changes the document's apiVersion.
    """
    if version not in AGGREGATED_VERSIONS:
        raise ValueError(f"unsupported aggregated discovery version {version!r}")
    groups = [""] if legacy else [g for g in registry.groups() if g != ""]
    items = [entry for g in groups if (entry := _group_discovery(registry, g)) is not None]
    return {
        "kind": AGGREGATED_KIND,
        "apiVersion": f"{AGGREGATED_GROUP}/{version}",
        "metadata": {},
        "items": items,
    }


# ---- cached encodings: what the HTTP layer serves

_encode = msgspec.json.encode


@dataclass(frozen=True, slots=True)
class _State:
    """A hashable snapshot of a registry: the KindInfos it holds, in registration order.

    KindInfo is a frozen dataclass, so two registries with the same kinds give equal states
    and share cache entries; a registration or removal gives a new state.
    """

    kinds: tuple[KindInfo, ...]

    def registry(self) -> KindRegistry:
        return KindRegistry(self.kinds)


def registry_state(registry: KindRegistry | Iterable[KindInfo]) -> tuple[KindInfo, ...]:
    """The cache key of a registry's content: its KindInfos as a tuple (hashable)."""
    return tuple(registry)


@functools.lru_cache(maxsize=64)
def _cached(state: _State, what: str, a: str, b: str) -> bytes | None:
    registry = state.registry()
    doc: dict[str, Any] | None
    if what == "api":
        doc = api_versions_doc(registry, a or None)
    elif what == "apis":
        doc = api_group_list_doc(registry)
    elif what == "group":
        doc = api_group_doc(registry, a)
    elif what == "resources":
        doc = api_resource_list_doc(registry, a, b)
    elif what == "aggregated":
        doc = aggregated_discovery_doc(registry, legacy=a == "legacy", version=b)
    else:  # pragma: no cover - internal dispatch
        raise ValueError(what)
    return None if doc is None else _encode(doc)


def _state(registry: KindRegistry | None) -> _State:
    return _State(registry_state(registry if registry is not None else default_registry))


def api_versions(registry: KindRegistry | None = None, server_address: str | None = None) -> bytes:
    """The `/api` APIVersions document as JSON bytes (see `api_versions_doc`); the default
    registry when none is given. Cached per registry state and address."""
    out = _cached(_state(registry), "api", server_address or "", "")
    assert out is not None
    return out


def api_group_list(registry: KindRegistry) -> bytes:
    """The `/apis` APIGroupList as JSON bytes (see `api_group_list_doc`), cached."""
    out = _cached(_state(registry), "apis", "", "")
    assert out is not None
    return out


def api_group(registry: KindRegistry, group: str) -> bytes | None:
    """The `/apis/{group}` APIGroup as JSON bytes, None when the group is not served."""
    return _cached(_state(registry), "group", group, "")


def api_resource_list(registry: KindRegistry, group: str, version: str) -> bytes | None:
    """The APIResourceList of a group-version as JSON bytes, None when it is not served."""
    return _cached(_state(registry), "resources", group, version)


def aggregated_discovery(registry: KindRegistry, *, legacy: bool, version: str = "v2") -> bytes:
    """The aggregated APIGroupDiscoveryList of `/api` (legacy) or `/apis` as JSON bytes,
    cached. Raises ValueError for a version kube-lite does not serve (negotiate first)."""
    if version not in AGGREGATED_VERSIONS:
        raise ValueError(f"unsupported aggregated discovery version {version!r}")
    out = _cached(_state(registry), "aggregated", "legacy" if legacy else "apis", version)
    assert out is not None
    return out


def aggregated_core(registry: KindRegistry, version: str = "v2") -> bytes:
    """`aggregated_discovery(registry, legacy=True)`: the answer on `/api`."""
    return aggregated_discovery(registry, legacy=True, version=version)


def aggregated_apis(registry: KindRegistry, version: str = "v2") -> bytes:
    """`aggregated_discovery(registry, legacy=False)`: the answer on `/apis`."""
    return aggregated_discovery(registry, legacy=False, version=version)
