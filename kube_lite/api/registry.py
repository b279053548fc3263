"""The kind registry: what kube-lite serves, as discovery and `kubectl api-resources` show it.

A `KindInfo` holds the facts about one served kind at one version: group, version, kind,
resource names (plural, singular, short names), categories, scope, verbs and subresources, and
the msgspec Struct that models it. The Struct is named by a "module:Class" string and imported
on first use, so this module imports without any kind module being loaded, and a custom
resource has no Struct at all (the generic paths work on bytes).

A `KindRegistry` is a mutable set of KindInfos with the lookups the rest of kube-lite needs:
by (group, version, plural) for REST routing, by (group, kind) for objects, by any name a user
types (kubectl-like resolution), by category, and per group-version for discovery. Custom
resources are added with `register` and removed with `unregister` as CRDs come and go.

`default_registry` is built from the built-in kinds. Code that may run several clusters in one
process (tests, embedding) should build its own with `KindRegistry.with_builtins()` so that
one cluster's CRDs do not show up in another.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kube_lite.api.apiextensions import CustomResourceDefinition
    from kube_lite.api.base import Resource

ALL_VERBS: tuple[str, ...] = (
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
)
"""The verbs of an ordinary stored resource, in the order discovery lists them."""

CREATE_ONLY: tuple[str, ...] = ("create",)
"""The verbs of kinds that are requests rather than stored objects (reviews, Binding, Eviction)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SubresourceInfo:
    """One subresource as discovery lists it: `{parent}/{name}`, its kind and verbs.

    `group` and `version` are the kind's own (autoscaling/v1 for scale, policy/v1 for
    eviction), always filled in; discovery omits them when they equal the parent's.
    """

    name: str
    group: str
    version: str
    kind: str
    verbs: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class KindInfo:
    """The registry facts about one kind served at one group-version.

    `singular` defaults to the lower-cased kind and `list_kind` to kind + "List".
    `type_path` is "module:Class" of the Struct, or None for custom resources.
    `subresource_of` names the resource a kind is served under only as a subresource
    (Eviction: "pods"): such a kind has no collection of its own, so it is absent from
    REST routing, name resolution and discovery listings, and found only by kind.
    """

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    subresources: tuple[str, ...] = ()
    type_path: str | None = None
    list_kind: str = ""
    subresource_of: str | None = None

    def __post_init__(self) -> None:
        # Frozen: derived defaults go through object.__setattr__ once, at construction.
        if not self.singular:
            object.__setattr__(self, "singular", self.kind.lower())
        if not self.list_kind:
            object.__setattr__(self, "list_kind", self.kind + "List")

    @property
    def api_version(self) -> str:
        """The apiVersion of objects of this kind: "v1" for core, "group/version" otherwise."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """The qualified resource of error messages: "pods", "deployments.apps"."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def group_kind(self) -> str:
        """The qualified kind of Invalid error messages: "Pod", "Deployment.apps"."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def struct(self) -> type[Resource] | None:
        """The Struct modelling this kind, imported on first use; None for custom resources.

        Raises ImportError or AttributeError when `type_path` names nothing.
        """
        if self.type_path is None:
            return None
        return _import_type(self.type_path)

    def names(self) -> tuple[str, ...]:
        """Every name a user may type for this kind: plural, singular and short names."""
        return (self.plural, self.singular, *self.short_names)

    def subresource_info(self, name: str) -> SubresourceInfo:
        """Discovery facts for subresource `name` of this kind. Raises KeyError when the
        kind has no such subresource."""
        if name not in self.subresources:
            raise KeyError(f"{self.group_resource} has no subresource {name!r}")
        fact = _SUBRESOURCES.get(name)
        if fact is None:
            # Unknown subresources (a custom one on a built-in is impossible; keep a sane
            # default for future ones) read and write the parent kind itself.
            return SubresourceInfo(
                name=name, group=self.group, version=self.version, kind=self.kind, verbs=_READ_WRITE
            )
        group, version, kind, verbs = fact
        if kind is None:
            kind = self.kind
        elif kind.endswith("ProxyOptions"):
            kind = f"{self.kind}ProxyOptions"
        return SubresourceInfo(
            name=name,
            group=self.group if group is None else group,
            version=self.version if version is None else version,
            kind=kind,
            verbs=verbs,
        )


@functools.cache
def _import_type(path: str) -> type[Resource]:
    module_name, _, class_name = path.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


_READ_WRITE = ("get", "patch", "update")

# Subresource name -> (group, version, kind, verbs); None means "the parent's". The proxy kind
# is per parent (PodProxyOptions, NodeProxyOptions, ServiceProxyOptions).
_SUBRESOURCES: dict[str, tuple[str | None, str | None, str | None, tuple[str, ...]]] = {
    "status": (None, None, None, _READ_WRITE),
    "scale": ("autoscaling", "v1", "Scale", _READ_WRITE),
    "binding": (None, None, "Binding", CREATE_ONLY),
    "eviction": ("policy", "v1", "Eviction", CREATE_ONLY),
    "log": (None, None, "Pod", ("get",)),
    "exec": (None, None, "PodExecOptions", ("create", "get")),
    "attach": (None, None, "PodAttachOptions", ("create", "get")),
    "portforward": (None, None, "PodPortForwardOptions", ("create", "get")),
    "proxy": (None, None, "ProxyOptions", ("create", "delete", "get", "patch", "update")),
    "ephemeralcontainers": (None, None, "Pod", _READ_WRITE),
    "resize": (None, None, "Pod", _READ_WRITE),
    "finalize": (None, None, "Namespace", ("update",)),
    "approval": (None, None, "CertificateSigningRequest", _READ_WRITE),
    "token": ("authentication.k8s.io", "v1", "TokenRequest", CREATE_ONLY),
}


# ---- version and group ordering

_KUBE_VERSION = re.compile(r"^v([1-9][0-9]*)(?:(alpha|beta)([1-9][0-9]*))?$")
_STABILITY = {None: 0, "beta": 1, "alpha": 2}


def version_priority(version: str) -> tuple[int, int, int, str]:
    """Sort key putting versions in Kubernetes' preference order (smallest first).

    GA before beta before alpha; within each, the higher major and then the higher minor
    first (v2 > v1 > v1beta2 > v1beta1 > v1alpha1); names that are not Kubernetes-style
    versions come last, in alphabetical order.
    """
    m = _KUBE_VERSION.match(version)
    if m is None:
        return (3, 0, 0, version)
    return (_STABILITY[m.group(2)], -int(m.group(1)), -int(m.group(3) or 0), "")


# The order in which Kubernetes' aggregator lists the built-in groups (its group priorities),
# which is also the order kubectl prefers when a name (events, ev) exists in several groups.
BUILTIN_GROUP_ORDER: tuple[str, ...] = (
    "",
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "batch",
    "certificates.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "apiextensions.k8s.io",
    "discovery.k8s.io",
)
_GROUP_RANK = {g: i for i, g in enumerate(BUILTIN_GROUP_ORDER)}


def _group_priority(group: str) -> tuple[int, str]:
    # Groups of custom resources follow the built-ins, alphabetically.
    return (_GROUP_RANK.get(group, len(_GROUP_RANK)), group)


@dataclass(frozen=True, slots=True)
class GroupVersion:
    """One served group-version and the kinds it lists in discovery, sorted by plural."""

    group: str
    version: str
    kinds: tuple[KindInfo, ...]

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


# ---- the registry


class KindRegistry:
    """A mutable set of KindInfos, keyed by (group, version, plural), with lookups.

    Not thread-safe; kube-lite mutates it from the event loop only.
    """

    def __init__(self, kinds: Iterable[KindInfo] = ()) -> None:
        self._by_gvr: dict[tuple[str, str, str], KindInfo] = {}
        self._by_gvk: dict[tuple[str, str, str], KindInfo] = {}
        self._versions: dict[str, list[str]] = {}
        for info in kinds:
            self.register(info)

    @classmethod
    def with_builtins(cls) -> KindRegistry:
        """A fresh registry holding every built-in kind and nothing else."""
        return cls(BUILTIN_KINDS)

    # -- mutation

    def register(self, info: KindInfo, *, replace: bool = False) -> None:
        """Add `info`. With replace=True an entry with the same (group, version, plural) is
        replaced (a CRD update); otherwise that is a ValueError. A (group, version, kind)
        already served under another plural is always a ValueError."""
        gvr = (info.group, info.version, info.plural)
        gvk = (info.group, info.version, info.kind)
        old = self._by_gvr.get(gvr)
        if old is not None and not replace:
            raise ValueError(f"{info.plural} in {info.api_version} is already registered")
        other = self._by_gvk.get(gvk)
        if other is not None and other.plural != info.plural:
            raise ValueError(f"kind {info.kind} in {info.api_version} is already served as {other.plural}")
        if old is not None:
            del self._by_gvk[(old.group, old.version, old.kind)]
        self._by_gvr[gvr] = info
        self._by_gvk[gvk] = info
        self._reindex_versions(info.group)

    def unregister(self, group: str, version: str, plural: str) -> KindInfo:
        """Remove and return the kind served as `plural` in group/version; KeyError if none."""
        info = self._by_gvr.pop((group, version, plural))
        del self._by_gvk[(info.group, info.version, info.kind)]
        self._reindex_versions(group)
        return info

    def _reindex_versions(self, group: str) -> None:
        versions = {v for (g, v, _) in self._by_gvr if g == group}
        if versions:
            self._versions[group] = sorted(versions, key=version_priority)
        else:
            self._versions.pop(group, None)

    # -- exact lookups

    def get(self, group: str, version: str, plural: str) -> KindInfo | None:
        """The kind served at /…/{group}/{version}/{plural}, or None. Kinds served only as a
        subresource (Eviction) are not found here."""
        info = self._by_gvr.get((group, version, plural))
        if info is None or info.subresource_of is not None:
            return None
        return info

    def by_kind(self, group: str, kind: str, version: str | None = None) -> KindInfo | None:
        """The kind `kind` of `group` at `version`, or at the group's preferred version that
        serves it when version is None; None if not served."""
        if version is not None:
            return self._by_gvk.get((group, version, kind))
        for v in self._versions.get(group, ()):
            info = self._by_gvk.get((group, v, kind))
            if info is not None:
                return info
        return None

    def by_api_version(self, api_version: str, kind: str) -> KindInfo | None:
        """The kind named by an object's apiVersion ("v1", "apps/v1") and kind, or None."""
        group, _, version = api_version.rpartition("/")
        return self._by_gvk.get((group, version, kind))

    def for_type(self, struct: type[Resource]) -> KindInfo | None:
        """The KindInfo of a built-in Struct, from its group/version/plural ClassVars."""
        return self._by_gvr.get((struct.group, struct.version, struct.plural))

    # -- user-facing resolution

    def resolve_all(self, name: str) -> list[KindInfo]:
        """Every kind a kubectl-style resource argument may mean, best first.

        `name` is a plural, singular or short name, optionally qualified as name.group or
        name.version.group ("deploy", "deployments.apps", "deployments.v1.apps",
        "events.events.k8s.io"); matching is case-insensitive. The order is kubectl's: the
        group priority of discovery (core first), then the preferred version first.
        """
        arg = name.lower()
        candidates: list[KindInfo] = []
        parts = arg.split(".", 2)
        if len(parts) == 3:
            resource, version, group = parts
            candidates = [i for i in self._matches(resource) if i.group == group and i.version == version]
        if not candidates and "." in arg:
            resource, group = arg.split(".", 1)
            candidates = [i for i in self._matches(resource) if i.group == group]
        if not candidates:
            candidates = list(self._matches(arg))
        return sorted(candidates, key=self._preference)

    def resolve(self, name: str) -> KindInfo | None:
        """The kind kubectl would pick for resource argument `name` (see resolve_all), or None."""
        found = self.resolve_all(name)
        return found[0] if found else None

    def _matches(self, name: str) -> Iterator[KindInfo]:
        for info in self._by_gvr.values():
            if info.subresource_of is None and name in (n.lower() for n in info.names()):
                yield info

    def _preference(self, info: KindInfo) -> tuple[tuple[int, str], int]:
        return (_group_priority(info.group), self._versions[info.group].index(info.version))

    def by_category(self, category: str) -> list[KindInfo]:
        """The kinds in `category` ("all" for `kubectl get all`), one per group at its
        preferred version, in group priority order."""
        seen: set[tuple[str, str]] = set()
        out: list[KindInfo] = []
        for info in sorted(self._listed(), key=self._preference):
            if category in info.categories and (info.group, info.kind) not in seen:
                seen.add((info.group, info.kind))
                out.append(info)
        return out

    # -- discovery

    def groups(self) -> list[str]:
        """Every served group ("" for core) in discovery order."""
        return sorted(self._versions, key=_group_priority)

    def versions(self, group: str) -> list[str]:
        """The versions served for `group`, preferred first; [] for an unknown group."""
        return list(self._versions.get(group, ()))

    def preferred_version(self, group: str) -> str | None:
        """The group's preferred version (the highest by Kubernetes' version order), or None."""
        versions = self._versions.get(group)
        return versions[0] if versions else None

    def kinds_in(self, group: str, version: str) -> list[KindInfo]:
        """The kinds discovery lists for group/version, sorted by plural."""
        return sorted(
            (i for i in self._listed() if i.group == group and i.version == version), key=lambda i: i.plural
        )

    def group_versions(self) -> list[GroupVersion]:
        """Every served group-version with its kinds, groups in discovery order and each
        group's versions preferred first. A group-version whose only kinds are served as
        subresources (none among the built-ins) is left out."""
        out: list[GroupVersion] = []
        for group in self.groups():
            for version in self._versions[group]:
                kinds = self.kinds_in(group, version)
                if kinds:
                    out.append(GroupVersion(group, version, tuple(kinds)))
        return out

    def _listed(self) -> Iterator[KindInfo]:
        return (i for i in self._by_gvr.values() if i.subresource_of is None)

    # -- container protocol

    def __iter__(self) -> Iterator[KindInfo]:
        """Every registered KindInfo, subresource-only kinds included, in registration order."""
        return iter(list(self._by_gvr.values()))

    def __len__(self) -> int:
        return len(self._by_gvr)

    def __contains__(self, info: object) -> bool:
        return (
            isinstance(info, KindInfo) and self._by_gvr.get((info.group, info.version, info.plural)) == info
        )


def kinds_from_crd(crd: CustomResourceDefinition) -> list[KindInfo]:
    """One KindInfo per served version of a CustomResourceDefinition.

    Names come from status.acceptedNames when it has a kind (what Kubernetes serves once the
    names are accepted), else from spec.names. Custom resources get every verb, the status
    and scale subresources their version enables, and no Struct. Raises ValueError when the
    CRD lacks the group, names or scope needed to serve it.
    """
    spec = crd.spec
    if spec is None or not spec.group or spec.names is None or spec.scope not in ("Namespaced", "Cluster"):
        raise ValueError("a CustomResourceDefinition needs spec.group, spec.names and spec.scope")
    names = spec.names
    if crd.status is not None and crd.status.acceptedNames is not None and crd.status.acceptedNames.kind:
        names = crd.status.acceptedNames
    if not names.kind or not names.plural:
        raise ValueError("a CustomResourceDefinition needs names.kind and names.plural")
    out: list[KindInfo] = []
    for v in spec.versions or ():
        if not v.served or not v.name:
            continue
        subresources: list[str] = []
        if v.subresources is not None:
            if v.subresources.status is not None:
                subresources.append("status")
            if v.subresources.scale is not None:
                subresources.append("scale")
        out.append(
            KindInfo(
                group=spec.group,
                version=v.name,
                kind=names.kind,
                plural=names.plural,
                singular=names.singular or "",
                short_names=tuple(names.shortNames or ()),
                categories=tuple(names.categories or ()),
                namespaced=spec.scope == "Namespaced",
                subresources=tuple(subresources),
                list_kind=names.listKind or "",
            )
        )
    return out


# ---- the built-in kinds


def _core(kind: str, plural: str, namespaced: bool = True, **facts: Any) -> KindInfo:
    return KindInfo(
        group="",
        version="v1",
        kind=kind,
        plural=plural,
        namespaced=namespaced,
        type_path=f"kube_lite.api.core:{kind}",
        **facts,
    )


def _kind(module: str, group: str, kind: str, plural: str, namespaced: bool = True, **facts: Any) -> KindInfo:
    return KindInfo(
        group=group,
        version="v1",
        kind=kind,
        plural=plural,
        namespaced=namespaced,
        type_path=f"kube_lite.api.{module}:{kind}",
        **facts,
    )


_ALL = ("all",)
_STATUS = ("status",)
_STATUS_SCALE = ("status", "scale")
_RBAC = "rbac.authorization.k8s.io"
_AUTHZ = "authorization.k8s.io"

BUILTIN_KINDS: tuple[KindInfo, ...] = (
    # core/v1
    _core("Binding", "bindings", verbs=CREATE_ONLY),
    _core("ConfigMap", "configmaps", short_names=("cm",)),
    _core("Endpoints", "endpoints", short_names=("ep",)),
    _core("Event", "events", short_names=("ev",)),
    _core("LimitRange", "limitranges", short_names=("limits",)),
    # Namespaces have no deletecollection: each deletion is a graceful, finalized teardown.
    _core(
        "Namespace",
        "namespaces",
        False,
        short_names=("ns",),
        verbs=tuple(v for v in ALL_VERBS if v != "deletecollection"),
        subresources=("status", "finalize"),
    ),
    _core("Node", "nodes", False, short_names=("no",), subresources=("status", "proxy")),
    _core("PersistentVolumeClaim", "persistentvolumeclaims", short_names=("pvc",), subresources=_STATUS),
    _core("PersistentVolume", "persistentvolumes", False, short_names=("pv",), subresources=_STATUS),
    _core(
        "Pod",
        "pods",
        short_names=("po",),
        categories=_ALL,
        subresources=(
            "status",
            "binding",
            "eviction",
            "log",
            "exec",
            "attach",
            "portforward",
            "proxy",
            "ephemeralcontainers",
            "resize",
        ),
    ),
    _core("PodTemplate", "podtemplates"),
    _core(
        "ReplicationController",
        "replicationcontrollers",
        short_names=("rc",),
        categories=_ALL,
        subresources=_STATUS_SCALE,
    ),
    _core("ResourceQuota", "resourcequotas", short_names=("quota",), subresources=_STATUS),
    _core("Secret", "secrets"),
    _core("ServiceAccount", "serviceaccounts", short_names=("sa",), subresources=("token",)),
    _core(
        "Service",
        "services",
        short_names=("svc",),
        categories=_ALL,
        subresources=("status", "proxy"),
    ),
    # apps/v1
    _kind("apps", "apps", "ControllerRevision", "controllerrevisions"),
    _kind(
        "apps", "apps", "DaemonSet", "daemonsets", short_names=("ds",), categories=_ALL, subresources=_STATUS
    ),
    _kind(
        "apps",
        "apps",
        "Deployment",
        "deployments",
        short_names=("deploy",),
        categories=_ALL,
        subresources=_STATUS_SCALE,
    ),
    _kind(
        "apps",
        "apps",
        "ReplicaSet",
        "replicasets",
        short_names=("rs",),
        categories=_ALL,
        subresources=_STATUS_SCALE,
    ),
    _kind(
        "apps",
        "apps",
        "StatefulSet",
        "statefulsets",
        short_names=("sts",),
        categories=_ALL,
        subresources=_STATUS_SCALE,
    ),
    # events.k8s.io/v1: the same events as core/v1, with the same short name.
    _kind("events", "events.k8s.io", "Event", "events", short_names=("ev",)),
    # authentication.k8s.io/v1
    _kind(
        "authentication",
        "authentication.k8s.io",
        "SelfSubjectReview",
        "selfsubjectreviews",
        False,
        verbs=CREATE_ONLY,
    ),
    _kind("authentication", "authentication.k8s.io", "TokenReview", "tokenreviews", False, verbs=CREATE_ONLY),
    # authorization.k8s.io/v1
    _kind(
        "authorization", _AUTHZ, "LocalSubjectAccessReview", "localsubjectaccessreviews", verbs=CREATE_ONLY
    ),
    _kind(
        "authorization",
        _AUTHZ,
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        False,
        verbs=CREATE_ONLY,
    ),
    _kind(
        "authorization", _AUTHZ, "SelfSubjectRulesReview", "selfsubjectrulesreviews", False, verbs=CREATE_ONLY
    ),
    _kind("authorization", _AUTHZ, "SubjectAccessReview", "subjectaccessreviews", False, verbs=CREATE_ONLY),
    # batch/v1
    _kind(
        "batch", "batch", "CronJob", "cronjobs", short_names=("cj",), categories=_ALL, subresources=_STATUS
    ),
    _kind("batch", "batch", "Job", "jobs", categories=_ALL, subresources=_STATUS),
    # certificates.k8s.io/v1
    _kind(
        "certificates",
        "certificates.k8s.io",
        "CertificateSigningRequest",
        "certificatesigningrequests",
        False,
        short_names=("csr",),
        subresources=("status", "approval"),
    ),
    # policy/v1
    _kind(
        "policy",
        "policy",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        short_names=("pdb",),
        subresources=_STATUS,
    ),
    _kind("policy", "policy", "Eviction", "evictions", verbs=CREATE_ONLY, subresource_of="pods"),
    # rbac.authorization.k8s.io/v1
    _kind("rbac", _RBAC, "ClusterRoleBinding", "clusterrolebindings", False),
    _kind("rbac", _RBAC, "ClusterRole", "clusterroles", False),
    _kind("rbac", _RBAC, "RoleBinding", "rolebindings"),
    _kind("rbac", _RBAC, "Role", "roles"),
    # storage.k8s.io/v1
    _kind("storage", "storage.k8s.io", "StorageClass", "storageclasses", False, short_names=("sc",)),
    # scheduling.k8s.io/v1
    _kind("scheduling", "scheduling.k8s.io", "PriorityClass", "priorityclasses", False, short_names=("pc",)),
    # coordination.k8s.io/v1
    _kind("coordination", "coordination.k8s.io", "Lease", "leases"),
    # apiextensions.k8s.io/v1
    _kind(
        "apiextensions",
        "apiextensions.k8s.io",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        False,
        short_names=("crd", "crds"),
        categories=("api-extensions",),
        subresources=_STATUS,
    ),
    # discovery.k8s.io/v1
    _kind("discovery", "discovery.k8s.io", "EndpointSlice", "endpointslices"),
)
"""Every built-in kind of kube-lite, with the facts a Kubernetes 1.3x server reports."""

default_registry: KindRegistry = KindRegistry.with_builtins()
"""The process-wide registry of the built-ins (plus whatever is registered into it)."""
