"""The `required` lists of the OpenAPI definitions, checked against the `kubernetes` client.

The oracle is the official Python client in the venv: its models are generated from Kubernetes'
own OpenAPI, and a field the document lists as required is a model field without a default
(pydantic's `is_required()`), whose JSON name `attribute_map` gives. Every definition kube-lite
publishes is paired with the client model of the same type by walking both from the kinds'
definitions: a property that references a definition on one side holds a model on the other
(`openapi_types`). Each pair must list the same required fields, apart from the few EXCEPTIONS
below, where the client's models disagree with Kubernetes' Go types and the API documents built
from them.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from kube_lite.api.registry import KindRegistry
from kube_lite.api.required import REQUIRED
from kube_lite.server import openapi as oa

models = pytest.importorskip("kubernetes.client.models")

V2_PREFIX = "#/definitions/"

# Definition -> (the required list Kubernetes publishes, why the client's model differs). The
# client models of release 37 diverge here from Kubernetes' types (which mark these fields
# `+optional`/omitempty, or leave them without, so that openapi-gen lists them as required) and
# from the previous client release, whose models agree with Kubernetes on every one of these.
EXCEPTIONS: dict[str, tuple[frozenset[str], str]] = {
    "io.k8s.api.apps.v1.Deployment": (frozenset(), "spec is +optional,omitempty; the client requires it"),
    "io.k8s.api.apps.v1.ReplicaSet": (frozenset(), "spec is +optional,omitempty; the client requires it"),
    "io.k8s.api.apps.v1.StatefulSet": (frozenset(), "spec is +optional,omitempty; the client requires it"),
    "io.k8s.api.apps.v1.DaemonSet": (frozenset(), "spec is +optional,omitempty; the client requires it"),
    "io.k8s.api.batch.v1.CronJob": (frozenset(), "spec is +optional,omitempty; the client requires it"),
    "io.k8s.api.apps.v1.ControllerRevision": (
        frozenset({"revision"}),
        "revision (json:\"revision\") is required and data (+optional) is not; the client has them swapped",
    ),
    "io.k8s.api.apps.v1.DeploymentCondition": (frozenset({"type", "status"}), "type and status have no omitempty"),
    "io.k8s.api.apps.v1.ReplicaSetCondition": (frozenset({"type", "status"}), "type and status have no omitempty"),
    "io.k8s.api.apps.v1.StatefulSetCondition": (frozenset({"type", "status"}), "type and status have no omitempty"),
    "io.k8s.api.apps.v1.DaemonSetCondition": (frozenset({"type", "status"}), "type and status have no omitempty"),
    "io.k8s.api.authentication.v1.TokenReviewSpec": (
        frozenset(), "token is +optional,omitempty (an empty TokenReview is validated server-side)"
    ),
    "io.k8s.api.discovery.v1.EndpointSlice": (
        frozenset({"addressType", "endpoints"}), "endpoints (json:\"endpoints\", atomic list) has no omitempty"
    ),
    "io.k8s.api.policy.v1.PodDisruptionBudgetStatus": (
        frozenset({"disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"}),
        "the four counters have no omitempty",
    ),
    "io.k8s.api.rbac.v1.RoleRef": (frozenset({"apiGroup", "kind", "name"}), "apiGroup has no omitempty"),
    "io.k8s.api.scheduling.v1.PriorityClass": (frozenset({"value"}), "value has no omitempty"),
}

# Walk roots that no kind's GVK leads to.
EXTRA_ROOTS = {
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions": "V1DeleteOptions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent": "V1WatchEvent",
}


def _client_models() -> dict[str, type]:
    return {
        name: cls
        for name in dir(models)
        if isinstance(cls := getattr(models, name), type) and hasattr(cls, "attribute_map")
    }


def client_required(model: type) -> frozenset[str]:
    """The JSON names of the fields a client model requires (fields without a default)."""
    fields: dict[str, Any] = model.model_fields  # type: ignore[attr-defined]
    return frozenset(model.attribute_map[name] for name, info in fields.items() if info.is_required())  # type: ignore[attr-defined]


def _element_type(type_name: str) -> str:
    """"List[V1Container]" -> "V1Container", "Dict[str, V1Foo]" -> "V1Foo"."""
    match = re.fullmatch(r"(?:List|list)\[(.+)\]|(?:Dict|dict)\[str, *(.+)\]", type_name)
    if match is None:
        return type_name
    return _element_type(match.group(1) or match.group(2))


def _referenced(schema: dict[str, Any]) -> str | None:
    for node in (schema, schema.get("items") or {}, schema.get("additionalProperties") or {}):
        ref = node.get("$ref") if isinstance(node, dict) else None
        if isinstance(ref, str):
            return ref.removeprefix(V2_PREFIX)
    return None


def _root_model(gvk: dict[str, str], client: dict[str, type]) -> type | None:
    version = gvk["version"][:1].upper() + gvk["version"][1:]
    group = gvk["group"].removesuffix(".k8s.io")
    words = "".join(w[:1].upper() + w[1:] for w in group.split(".")) if group else "Core"
    for candidate in (f"{words}{version}{gvk['kind']}", f"{version}{gvk['kind']}"):
        if candidate in client:
            return client[candidate]
    return None


@pytest.fixture(scope="module")
def definitions() -> dict[str, dict[str, Any]]:
    return oa.openapi_v2_doc(KindRegistry.with_builtins())["definitions"]


@pytest.fixture(scope="module")
def pairs(definitions: dict[str, dict[str, Any]]) -> dict[str, type]:
    """Definition name -> the client model of the same type."""
    client = _client_models()
    found: dict[str, type] = {}
    todo: list[tuple[str, type]] = [(name, client[model]) for name, model in EXTRA_ROOTS.items()]
    for name, schema in definitions.items():
        for gvk in schema.get("x-kubernetes-group-version-kind") or ():
            model = _root_model(gvk, client)
            if model is not None:
                todo.append((name, model))
    while todo:
        name, model = todo.pop()
        if name in found:
            continue
        found[name] = model
        by_json = {json_name: attr for attr, json_name in model.attribute_map.items()}  # type: ignore[attr-defined]
        for prop, schema in (definitions[name].get("properties") or {}).items():
            target = _referenced(schema)
            attr = by_json.get(prop)
            if target is None or attr is None or target in found:
                continue
            sub = client.get(_element_type(model.openapi_types[attr]))  # type: ignore[attr-defined]
            if sub is not None:
                todo.append((target, sub))
    return found


def test_every_definition_with_fields_has_a_client_model(
    definitions: dict[str, dict[str, Any]], pairs: dict[str, type]
) -> None:
    # Those without fields (Time, Quantity, FieldsV1, CustomResourceSubresourceStatus, ...) have
    # nothing to require; the client types some of them as plain strings or objects.
    unpaired = {name for name, schema in definitions.items() if schema.get("properties") and name not in pairs}
    assert unpaired == set()


def test_required_fields_match_the_kubernetes_client(
    definitions: dict[str, dict[str, Any]], pairs: dict[str, type]
) -> None:
    mismatches = {}
    for name, model in sorted(pairs.items()):
        published = frozenset(definitions[name].get("required", ()))
        expected = EXCEPTIONS[name][0] if name in EXCEPTIONS else client_required(model)
        if published != expected:
            mismatches[name] = (sorted(published), sorted(expected))
    assert mismatches == {}


def test_exceptions_are_still_needed(pairs: dict[str, type]) -> None:
    """Each exception is a type the client still gets wrong: drop it once the client agrees."""
    for name, (kubernetes, reason) in EXCEPTIONS.items():
        assert name in pairs, name
        assert client_required(pairs[name]) != kubernetes, (name, reason)


def test_required_fields_are_properties(definitions: dict[str, dict[str, Any]]) -> None:
    for name, schema in definitions.items():
        assert set(schema.get("required", ())) <= set(schema.get("properties", {})), name


def test_the_table_names_published_types_and_their_fields(definitions: dict[str, dict[str, Any]]) -> None:
    for name, fields in REQUIRED.items():
        assert name in definitions, name
        assert list(definitions[name]["required"]) == list(fields), name


@pytest.mark.parametrize(
    ("definition", "required"),
    [
        ("io.k8s.api.core.v1.PodSpec", ["containers"]),
        ("io.k8s.api.core.v1.Container", ["name"]),
        ("io.k8s.api.core.v1.ContainerPort", ["containerPort"]),
        ("io.k8s.api.core.v1.ServicePort", ["port"]),
        ("io.k8s.api.apps.v1.DeploymentSpec", ["selector", "template"]),
        ("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement", ["key", "operator"]),
        ("io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference", ["apiVersion", "kind", "name", "uid"]),
        ("io.k8s.api.core.v1.PodList", ["items"]),
    ],
)
def test_well_known_required_fields(definitions: dict[str, dict[str, Any]], definition: str, required: list[str]) -> None:
    assert definitions[definition]["required"] == required


@pytest.mark.parametrize(
    "definition",
    ["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "io.k8s.api.core.v1.Pod", "io.k8s.api.apps.v1.Deployment",
     "io.k8s.api.core.v1.PodStatus"],
)
def test_types_without_required_fields(definitions: dict[str, dict[str, Any]], definition: str) -> None:
    assert "required" not in definitions[definition]


def test_v3_documents_carry_the_same_lists(definitions: dict[str, dict[str, Any]]) -> None:
    registry = KindRegistry.with_builtins()
    for path in ("api/v1", "apis/apps/v1", "apis/rbac.authorization.k8s.io/v1"):
        doc = oa.openapi_v3_document_doc(registry, path)
        assert doc is not None
        for name, schema in doc["components"]["schemas"].items():
            assert schema.get("required") == definitions[name].get("required"), (path, name)


def test_v2_protobuf_carries_the_lists() -> None:
    # Schema.required is field 19 of gnostic's openapi.v2.Schema: tag 19<<3|2 = 0x9a 0x01.
    body = oa.openapi_v2_protobuf(KindRegistry.with_builtins())
    for name in (b"containerRuntimeVersion", b"containers", b"selector"):
        assert b"\x9a\x01" + bytes([len(name)]) + name in body
