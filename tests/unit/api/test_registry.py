"""The kind registry: built-in facts (checked against the `kubernetes` client's API methods where
it knows them, and against `kubectl api-resources` of a 1.3x cluster where it does not),
lookups, runtime registration and CRD-derived kinds."""

from __future__ import annotations

import re
from typing import Any

import kubernetes.client as k8s
import msgspec
import pytest

from kube_lite.api.apiextensions import CustomResourceDefinition, CustomResourceDefinitionStatus
from kube_lite.api.base import Resource
from kube_lite.api.registry import (
    ALL_VERBS,
    BUILTIN_KINDS,
    KindInfo,
    KindRegistry,
    default_registry,
    kinds_from_crd,
    version_priority,
)


def _found(info: KindInfo | None) -> KindInfo:
    assert info is not None
    return info


def _id(info: KindInfo) -> str:
    return f"{info.plural}.{info.group}" if info.group else info.plural


# ---- every built-in resolves to a Struct that agrees with it


@pytest.mark.parametrize("info", BUILTIN_KINDS, ids=_id)
def test_struct_resolves_and_agrees(info: KindInfo) -> None:
    struct = info.struct
    assert struct is not None and issubclass(struct, Resource)
    assert struct.__name__ == info.kind
    assert (struct.group, struct.version, struct.plural, struct.namespaced) == (
        info.group,
        info.version,
        info.plural,
        info.namespaced,
    )
    assert default_registry.for_type(struct) is info


def test_importing_the_registry_loads_no_kind_module() -> None:
    import subprocess
    import sys

    # In a fresh interpreter: whatever the kube_lite.api package itself imports, the registry
    # module must add no kind module of its own.
    code = (
        "import sys, kube_lite.api; before = set(sys.modules); "
        "import kube_lite.api.registry as r; "
        "assert len(r.default_registry) > 40; "
        "kinds = {r.KindInfo.__module__} | {i.type_path.partition(':')[0] for i in r.BUILTIN_KINDS}; "
        "added = (set(sys.modules) - before) & kinds - {'kube_lite.api.registry'}; "
        "assert not added, added"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---- verbs and subresources, against the client's generated API methods

_CLIENT_VERB = {
    "create": "create",
    "delete": "delete",
    "deletecollection": "delete_collection",
    "get": "read",
    "list": "list",
    "patch": "patch",
    "update": "replace",
}
_CONNECT_VERB = {"get": "get", "post": "create", "put": "update", "delete": "delete", "patch": "patch"}


def _snake(kind: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()


def _client_api(group: str) -> type:
    name = "".join(p.capitalize() for p in (group.removesuffix(".k8s.io") or "core").split("."))
    return getattr(k8s, f"{name}V1Api")


def _client_methods(group: str) -> set[str]:
    return {m for m in dir(_client_api(group)) if not m.startswith("_") and not m.endswith("_with_http_info")}


_LISTED = [i for i in BUILTIN_KINDS if i.subresource_of is None]


@pytest.mark.parametrize("info", _LISTED, ids=_id)
def test_verbs_match_the_client(info: KindInfo) -> None:
    methods = _client_methods(info.group)
    scope = "namespaced_" if info.namespaced else ""
    client_verbs = {
        v for v, prefix in _CLIENT_VERB.items() if f"{prefix}_{scope}{_snake(info.kind)}" in methods
    }
    if "list" in client_verbs:
        client_verbs.add("watch")  # the client lists with watch=True; it has no watch methods
    assert set(info.verbs) == client_verbs
    assert list(info.verbs) == sorted(info.verbs)


@pytest.mark.parametrize("info", _LISTED, ids=_id)
def test_subresources_and_their_verbs_match_the_client(info: KindInfo) -> None:
    methods = _client_methods(info.group)
    snake = _snake(info.kind)
    resources = {
        m.removeprefix("list_").removeprefix("namespaced_").removesuffix("_for_all_namespaces")
        for m in methods
        if m.startswith("list_")
    }
    pattern = re.compile(
        rf"^(create|read|replace|patch|delete|connect_([a-z]+))_(namespaced_)?{snake}_(\w+?)(_with_path)?$"
    )
    found: dict[str, set[str]] = {}
    for m in methods:
        match = pattern.match(m)
        if match is None:
            continue
        sub = match.group(4)
        # "pod_template" is a resource of its own, not subresource "template" of pods.
        if any(f"{snake}_{sub}".startswith(r) for r in resources if len(r) > len(snake)):
            continue
        if match.group(2):
            verb = _CONNECT_VERB.get(match.group(2))  # head and options are not discovery verbs
        else:
            verb = {v: k for k, v in _CLIENT_VERB.items()}[match.group(1)]
        if verb:
            found.setdefault(sub, set()).add(verb)
    assert set(info.subresources) == set(found)
    for sub, verbs in found.items():
        assert set(info.subresource_info(sub).verbs) == verbs, sub


def test_subresource_kinds() -> None:
    pods = default_registry.by_kind("", "Pod")
    deployments = default_registry.by_kind("apps", "Deployment")
    assert pods is not None and deployments is not None
    eviction = pods.subresource_info("eviction")
    assert (eviction.group, eviction.version, eviction.kind) == ("policy", "v1", "Eviction")
    scale = deployments.subresource_info("scale")
    assert (scale.group, scale.version, scale.kind) == ("autoscaling", "v1", "Scale")
    status = deployments.subresource_info("status")
    assert (status.group, status.kind) == ("apps", "Deployment")
    assert pods.subresource_info("proxy").kind == "PodProxyOptions"
    with pytest.raises(KeyError):
        deployments.subresource_info("log")


# ---- names and categories, as `kubectl api-resources` shows them

SHORT_NAMES = {
    "configmaps": ("cm",),
    "endpoints": ("ep",),
    "events": ("ev",),
    "events.events.k8s.io": ("ev",),
    "limitranges": ("limits",),
    "namespaces": ("ns",),
    "nodes": ("no",),
    "persistentvolumeclaims": ("pvc",),
    "persistentvolumes": ("pv",),
    "pods": ("po",),
    "replicationcontrollers": ("rc",),
    "resourcequotas": ("quota",),
    "serviceaccounts": ("sa",),
    "services": ("svc",),
    "daemonsets.apps": ("ds",),
    "deployments.apps": ("deploy",),
    "replicasets.apps": ("rs",),
    "statefulsets.apps": ("sts",),
    "cronjobs.batch": ("cj",),
    "certificatesigningrequests.certificates.k8s.io": ("csr",),
    "customresourcedefinitions.apiextensions.k8s.io": ("crd", "crds"),
    "poddisruptionbudgets.policy": ("pdb",),
    "priorityclasses.scheduling.k8s.io": ("pc",),
    "storageclasses.storage.k8s.io": ("sc",),
}

CATEGORY_ALL = {
    "pods",
    "services",
    "replicationcontrollers",
    "deployments.apps",
    "replicasets.apps",
    "daemonsets.apps",
    "statefulsets.apps",
    "jobs.batch",
    "cronjobs.batch",
}


@pytest.mark.parametrize("info", _LISTED, ids=_id)
def test_short_names_categories_and_singular(info: KindInfo) -> None:
    assert info.short_names == SHORT_NAMES.get(_id(info), ())
    expected_categories = ("all",) if _id(info) in CATEGORY_ALL else ()
    if info.kind == "CustomResourceDefinition":
        expected_categories = ("api-extensions",)
    assert info.categories == expected_categories
    assert info.singular == info.kind.lower()
    assert info.list_kind == info.kind + "List"


def test_kubectl_get_all() -> None:
    assert {_id(i) for i in default_registry.by_category("all")} == CATEGORY_ALL
    assert default_registry.by_category("all")[0].plural == "pods"


# ---- lookups


def test_lookup_by_resource_kind_and_api_version() -> None:
    r = default_registry
    pods = r.get("", "v1", "pods")
    assert pods is not None and pods.kind == "Pod" and pods.api_version == "v1"
    assert r.get("apps", "v1", "deployments") is r.by_kind("apps", "Deployment")
    assert r.by_kind("apps", "Deployment", "v1") is r.by_api_version("apps/v1", "Deployment")
    assert r.by_api_version("v1", "Pod") is pods
    assert r.get("apps", "v1", "pods") is None
    assert r.by_kind("", "Deployment") is None
    assert r.by_api_version("apps/v2", "Deployment") is None
    assert (
        pods.group_resource == "pods"
        and _found(r.by_kind("apps", "Deployment")).group_resource == "deployments.apps"
    )
    assert _found(r.by_kind("apps", "Deployment")).group_kind == "Deployment.apps"


def test_eviction_is_found_only_by_kind() -> None:
    r = default_registry
    eviction = r.by_kind("policy", "Eviction")
    assert eviction is not None and eviction.subresource_of == "pods" and eviction.verbs == ("create",)
    assert eviction.struct is not None and eviction.struct.__name__ == "Eviction"
    assert r.get("policy", "v1", "evictions") is None
    assert r.resolve("evictions") is None
    assert [k.plural for k in r.kinds_in("policy", "v1")] == ["poddisruptionbudgets"]


@pytest.mark.parametrize(
    ("arg", "group", "plural"),
    [
        ("po", "", "pods"),
        ("pod", "", "pods"),
        ("Pods", "", "pods"),
        ("POD", "", "pods"),
        ("deploy", "apps", "deployments"),
        ("deployment.apps", "apps", "deployments"),
        ("deployments.v1.apps", "apps", "deployments"),
        ("ev", "", "events"),
        ("events", "", "events"),
        ("events.events.k8s.io", "events.k8s.io", "events"),
        ("event.v1.events.k8s.io", "events.k8s.io", "events"),
        ("crd", "apiextensions.k8s.io", "customresourcedefinitions"),
        ("crds", "apiextensions.k8s.io", "customresourcedefinitions"),
        ("quota", "", "resourcequotas"),
        ("limits", "", "limitranges"),
        ("cj", "batch", "cronjobs"),
        ("clusterrolebinding", "rbac.authorization.k8s.io", "clusterrolebindings"),
        ("csr", "certificates.k8s.io", "certificatesigningrequests"),
        ("endpoints", "", "endpoints"),
        ("bindings", "", "bindings"),
    ],
)
def test_resolve_like_kubectl(arg: str, group: str, plural: str) -> None:
    info = default_registry.resolve(arg)
    assert info is not None and (info.group, info.plural) == (group, plural)


def test_resolve_unknown_and_ambiguous() -> None:
    assert default_registry.resolve("nope") is None
    assert default_registry.resolve("pods.apps") is None
    assert [i.group for i in default_registry.resolve_all("ev")] == ["", "events.k8s.io"]


def test_discovery_listing() -> None:
    r = default_registry
    gvs = r.group_versions()
    assert gvs[0].api_version == "v1" and gvs[1].api_version == "apps/v1"
    assert r.groups()[0] == "" and set(r.groups()) == {gv.group for gv in gvs}
    assert all(r.preferred_version(g) == "v1" for g in r.groups())
    assert r.preferred_version("example.com") is None and r.versions("example.com") == []
    core = {k.plural for k in r.kinds_in("", "v1")}
    assert {"pods", "bindings", "namespaces", "events"} <= core
    listed = sum(len(gv.kinds) for gv in gvs)
    assert listed == len(r) - 1  # everything but Eviction
    namespaces = r.by_kind("", "Namespace")
    assert namespaces is not None and "deletecollection" not in namespaces.verbs
    assert _found(r.by_kind("authorization.k8s.io", "SubjectAccessReview")).verbs == ("create",)


# ---- runtime registration and custom resources


def _widget(group: str = "example.com", version: str = "v1", **kw: Any) -> KindInfo:
    return KindInfo(group=group, version=version, kind="Widget", plural="widgets", namespaced=True, **kw)


def test_register_and_unregister_do_not_touch_the_default() -> None:
    r = KindRegistry.with_builtins()
    before = len(default_registry)
    r.register(_widget(short_names=("wd",)))
    r.register(_widget(version="v1beta1"))
    r.register(_widget(version="v2alpha1"))
    assert len(default_registry) == before and default_registry.resolve("wd") is None
    assert r.versions("example.com") == ["v1", "v1beta1", "v2alpha1"]
    assert r.preferred_version("example.com") == "v1"
    assert _found(r.by_kind("example.com", "Widget")).version == "v1"
    assert _found(r.resolve("wd")).version == "v1"
    assert _found(r.resolve("widgets.v1beta1.example.com")).version == "v1beta1"
    assert r.groups()[-1] == "example.com"
    assert _found(r.get("example.com", "v1", "widgets")).struct is None
    with pytest.raises(ValueError):
        r.register(_widget())
    r.register(_widget(categories=("all",)), replace=True)
    assert r.by_category("all")[-1].kind == "Widget"
    with pytest.raises(ValueError):
        r.register(
            KindInfo(group="example.com", version="v1", kind="Widget", plural="gadgets", namespaced=True)
        )
    removed = r.unregister("example.com", "v1", "widgets")
    assert removed.categories == ("all",)
    assert r.preferred_version("example.com") == "v1beta1"
    r.unregister("example.com", "v1beta1", "widgets")
    r.unregister("example.com", "v2alpha1", "widgets")
    assert "example.com" not in r.groups() and r.resolve("widgets") is None
    with pytest.raises(KeyError):
        r.unregister("example.com", "v1", "widgets")


def test_version_priority_is_kubernetes_order() -> None:
    versions = [
        "v1alpha1",
        "foo",
        "v2",
        "v11alpha2",
        "v1beta1",
        "v1",
        "v12alpha1",
        "v10beta3",
        "v10",
        "bar",
        "v3beta1",
    ]
    assert sorted(versions, key=version_priority) == [
        "v10", "v2", "v1", "v10beta3", "v3beta1", "v1beta1", "v12alpha1", "v11alpha2", "v1alpha1", "bar", "foo",
    ]  # fmt: skip


def test_kinds_from_crd() -> None:
    crd = msgspec.convert(
        {
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Cluster",
                "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"], "categories": ["all"]},
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "subresources": {"status": {}, "scale": {}},
                    },
                    {"name": "v1beta1", "served": True, "storage": False},
                    {"name": "v0", "served": False, "storage": False},
                ],
            },
        },
        type=CustomResourceDefinition,
    )
    v1, v1beta1 = kinds_from_crd(crd)
    assert (v1.group, v1.version, v1.kind, v1.plural, v1.singular, v1.list_kind) == (
        "example.com", "v1", "Widget", "widgets", "widget", "WidgetList",
    )  # fmt: skip
    assert not v1.namespaced and v1.short_names == ("wd",) and v1.categories == ("all",)
    assert v1.subresources == ("status", "scale") and v1beta1.subresources == ()
    assert v1.verbs == ALL_VERBS and v1.struct is None
    # Accepted names win once the names controller has accepted them.
    crd.status = msgspec.convert(
        {"acceptedNames": {"plural": "widgets", "kind": "Widget", "singular": "w"}},
        type=CustomResourceDefinitionStatus,
    )
    assert kinds_from_crd(crd)[0].singular == "w"
    assert crd.spec is not None
    crd.spec.scope = None
    with pytest.raises(ValueError):
        kinds_from_crd(crd)
