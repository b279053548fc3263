"""Selectable fields read from a stored object's JSON (`fieldsets`) are exactly what the kind's
field-label policy computes from the whole decoded object, and a field selector matches a cached
object exactly when `FieldLabelPolicy.matches` matches the decoded object."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kube_lite.api import selectors
from kube_lite.api.registry import KindRegistry
from kube_lite.server import selection
from kube_lite.store import fieldsets
from kube_lite.store.cache import CachedObject, DecodedObjects

_encode = msgspec.json.encode

scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["", "a", "Running", "x=y", "ü"]))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=2), st.dictionaries(st.sampled_from(["ip", "component", "kind", "name", "q"]), inner, max_size=3)
), max_leaves=4)


def _objects(paths: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with any JSON (or nothing) at each of `paths`, beside unrelated fields."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        obj: dict[str, Any] = {"apiVersion": "v1", "kind": "K", "metadata": {"name": "n", "namespace": "ns"},
                               "other": {"big": ["x"] * 3}}
        for path in paths:
            if not draw(st.booleans()):
                continue
            *parents, leaf = path.split(".")
            node = obj
            for part in parents:
                nxt = node.get(part)
                if not isinstance(nxt, dict):
                    nxt = node[part] = {}
                node = nxt
            node[leaf] = draw(json_values)
        if draw(st.booleans()):
            obj[draw(st.sampled_from(["spec", "status", "metadata"]))] = draw(st.one_of(st.none(), json_values))
        return obj

    return build()


KINDS = sorted(fieldsets.PATHS)


@pytest.mark.parametrize(("group", "plural"), KINDS)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_values_from_json_are_the_policys_field_set(group: str, plural: str, data: st.DataObject) -> None:
    policy = selectors.field_label_policy(group, plural)
    sets = fieldsets.for_kind(group, plural, policy)
    assert sets is not None
    obj = data.draw(_objects(fieldsets.PATHS[group, plural]))
    try:
        full = policy.field_set(obj)
    except (AttributeError, TypeError, IndexError, KeyError):
        return  # a shape the policy itself cannot read (validation refuses it before storage)
    assert sets.values_from_json(_encode(obj)) == tuple(full.get(label, "") for label in sets.labels)
    assert set(full) <= set(sets.labels)


POD_SELECTORS = [
    "status.phase=Running", "status.phase!=Succeeded,status.phase!=Failed", "spec.nodeName=n1",
    "spec.schedulerName=default-scheduler,metadata.namespace=ns", "metadata.name=a", "metadata.name!=a",
    "spec.hostNetwork=true", "status.podIP=10.0.0.1", "spec.restartPolicy=Always,status.nominatedNodeName=",
]
PODS = [
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "ns", "labels": {"app": "x"}},
     "spec": {"nodeName": "n1", "schedulerName": "default-scheduler", "restartPolicy": "Always", "hostNetwork": True},
     "status": {"phase": "Running", "podIPs": [{"ip": "10.0.0.1"}], "podIP": "10.0.0.2"}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "b", "namespace": "ns"}, "spec": {}, "status": {"phase": "Failed"}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "c", "namespace": "ns"}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "d", "namespace": "ns"}, "spec": "a string"},  # odd: decoded whole
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "e", "namespace": "ns", "labels": {"n": 1}}, "spec": {"nodeName": "n1"}},
]


@pytest.mark.parametrize("selector", POD_SELECTORS)
def test_pod_selectors_match_cached_pods_as_the_policy_matches_decoded_ones(selector: str) -> None:
    kinds = KindRegistry.with_builtins()
    pods = kinds.get("", "v1", "pods")
    assert pods is not None
    policy = selectors.field_label_policy("", "pods")
    converted = selectors.convert_field_selector(selector, "", "pods")
    match = selection.field_matcher(pods, converted)
    home = DecodedObjects(2)
    for pod in PODS:
        name = pod["metadata"]["name"]
        cached = CachedObject.from_value(f"/registry/pods/ns/{name}", _encode(pod), 5, home)
        try:
            want = policy.matches(converted, cached.obj)
        except AttributeError:
            continue  # "spec": "a string" is not a pod the policy can read
        assert match(cached) is want, (selector, name)
        # The values are read once, when the cache takes the pod in (or on first use).
        assert cached.fields is not None
        assert match(cached.at_revision(6)) is want


def test_pods_values_are_read_on_the_way_in_and_other_kinds_on_first_use() -> None:
    pod = CachedObject.from_value("/registry/pods/ns/a", _encode(PODS[0]), 3)
    assert pod.fields is not None and pod._obj is None  # no whole decode
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "ns"}, "type": "Opaque"}
    cached = CachedObject.from_value("/registry/secrets/ns/s", _encode(secret), 3)
    assert cached.fields is None
    kinds = KindRegistry.with_builtins()
    secrets = kinds.get("", "v1", "secrets")
    assert secrets is not None
    match = selection.field_matcher(secrets, selectors.convert_field_selector("type=Opaque", "", "secrets"))
    assert match(cached) and cached.fields is not None and cached._obj is None


@pytest.mark.parametrize(("group", "version", "plural", "key", "selector", "want"), [
    ("apps", "v1", "deployments", "/registry/deployments/ns/d", "metadata.name=d,metadata.namespace=ns", True),
    ("apps", "v1", "deployments", "/registry/deployments/ns/d", "metadata.namespace!=ns", False),
    ("rbac.authorization.k8s.io", "v1", "clusterroles", "/registry/clusterroles/r", "metadata.namespace=", True),
    ("rbac.authorization.k8s.io", "v1", "clusterroles", "/registry/clusterroles/r", "metadata.name=r", True),
])
def test_metadata_only_kinds_match_from_the_key(group: str, version: str, plural: str, key: str, selector: str, want: bool) -> None:
    kinds = KindRegistry.with_builtins()
    kind = kinds.get(group, version, plural)
    assert kind is not None
    name = key.rsplit("/", 1)[1]
    namespace = key.split("/")[3] if key.count("/") == 4 else ""
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    cached = CachedObject.from_value(key, _encode({"apiVersion": "x", "kind": "K", "metadata": meta}), 2)
    converted = selectors.convert_field_selector(selector, group, plural)
    assert selection.field_matcher(kind, converted)(cached) is want
    assert selectors.field_label_policy(group, plural).matches(converted, cached.obj) is want
