"""OpenAPI documents: structure, references, patch extensions, hashes, and real kubectl.

Beyond the structure, two tests re-implement in a few lines what kubectl does with the v3
document: the lookup `kubectl explain` makes (GVK from a path's operation, then the schema
carrying that GVK) and the walk `kubectl apply` makes to find merge keys (property, then
allOf[0] or $ref, then items for lists). The last tests run kubectl 1.37 itself against the
stdlib server of test_discovery.py.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from kube_lite.api.patchmeta import patch_extensions
from kube_lite.api.registry import KindInfo, KindRegistry
from kube_lite.server import openapi as oa
from tests.unit.server.test_discovery import CRONTAB, DiscoveryServer, Kubectl, serving

V3_PREFIX = "#/components/schemas/"
V2_PREFIX = "#/definitions/"
CRONTAB_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A scheduled command.",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "cronSpec": {"type": "string", "description": "When to run."},
                "replicas": {"type": "integer", "nullable": True},
                "$ref": {"type": "string", "description": "A property that happens to be named $ref."},
            },
        },
    },
}
CRONTAB_GVK = ("stable.example.com", "v1", "CronTab")


@pytest.fixture
def registry() -> KindRegistry:
    return KindRegistry.with_builtins()


@pytest.fixture
def kube_server(registry: KindRegistry) -> Iterator[tuple[DiscoveryServer, Kubectl]]:
    with serving(registry) as running:
        yield running


def _refs(node: Any, prefix: str) -> set[str]:
    """Every `$ref` string under `node` (any depth), without `prefix`."""
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            assert ref.startswith(prefix), ref
            found.add(ref[len(prefix):])
        for value in node.values():
            found |= _refs(value, prefix)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value, prefix)
    return found


def _gvk(info: KindInfo) -> dict[str, str]:
    return {"group": info.group, "kind": info.kind, "version": info.version}


# ---- v2


def test_v2_document_structure(registry: KindRegistry) -> None:
    doc = oa.openapi_v2_doc(registry)
    assert doc["swagger"] == "2.0"
    assert doc["info"]["title"] == "Kubernetes"
    defs = doc["definitions"]
    for name in (
        "io.k8s.api.core.v1.Pod", "io.k8s.api.core.v1.PodSpec", "io.k8s.api.apps.v1.Deployment",
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "io.k8s.api.core.v1.PodList",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
        "io.k8s.api.autoscaling.v1.Scale",
    ):
        assert name in defs, name
    assert defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["type"] == "string"
    assert defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"] == "int-or-string"
    assert defs["io.k8s.apimachinery.pkg.api.resource.Quantity"]["type"] == "string"
    assert defs["io.k8s.apimachinery.pkg.apis.meta.v1.Time"] == {
        "description": defs["io.k8s.apimachinery.pkg.apis.meta.v1.Time"]["description"],
        "type": "string",
        "format": "date-time",
    }
    pod = defs["io.k8s.api.core.v1.Pod"]
    assert pod["type"] == "object"
    assert pod["x-kubernetes-group-version-kind"] == [{"group": "", "kind": "Pod", "version": "v1"}]
    assert pod["properties"]["spec"]["$ref"] == V2_PREFIX + "io.k8s.api.core.v1.PodSpec"
    assert pod["properties"]["spec"]["description"]
    assert defs["io.k8s.api.core.v1.PodList"]["x-kubernetes-group-version-kind"] == [
        {"group": "", "kind": "PodList", "version": "v1"}
    ]
    assert defs["io.k8s.api.core.v1.PodList"]["properties"]["items"]["items"] == {
        "$ref": V2_PREFIX + "io.k8s.api.core.v1.Pod"
    }


def test_v2_every_ref_resolves(registry: KindRegistry) -> None:
    doc = oa.openapi_v2_doc(registry)
    missing = _refs(doc, V2_PREFIX) - set(doc["definitions"])
    assert not missing


def test_every_registered_kind_has_a_schema_with_its_gvk(registry: KindRegistry) -> None:
    defs = oa.openapi_v2_doc(registry)["definitions"]
    with_gvk: dict[tuple[str, str, str], str] = {}
    for name, schema in defs.items():
        for gvk in schema.get("x-kubernetes-group-version-kind", ()):
            with_gvk[(gvk["group"], gvk["version"], gvk["kind"])] = name
    for info in registry:
        name = with_gvk.get((info.group, info.version, info.kind))
        assert name is not None, info.kind
        assert name == oa.definition_name(info.struct)  # type: ignore[arg-type]
        if "list" in info.verbs:
            assert (info.group, info.version, info.list_kind) in with_gvk


def test_field_types_and_formats(registry: KindRegistry) -> None:
    defs = oa.openapi_v2_doc(registry)["definitions"]

    def prop(definition: str, name: str) -> dict[str, Any]:
        out = dict(defs[definition]["properties"][name])
        out.pop("description", None)
        return out

    meta = "io.k8s.apimachinery.pkg.apis.meta.v1."
    core = "io.k8s.api.core.v1."
    assert prop(meta + "ObjectMeta", "generation") == {"type": "integer", "format": "int64"}
    assert prop(meta + "ObjectMeta", "labels") == {"type": "object", "additionalProperties": {"type": "string"}}
    assert prop(meta + "ObjectMeta", "creationTimestamp") == {"$ref": V2_PREFIX + meta + "Time"}
    assert prop(meta + "ManagedFieldsEntry", "fieldsV1") == {"$ref": V2_PREFIX + meta + "FieldsV1"}
    assert prop(meta + "ListMeta", "continue") == {"type": "string"}
    assert prop(core + "ContainerPort", "containerPort") == {"type": "integer", "format": "int32"}
    assert prop(core + "PodSpec", "terminationGracePeriodSeconds") == {"type": "integer", "format": "int64"}
    assert prop(core + "PodSpec", "hostNetwork") == {"type": "boolean"}
    assert prop(core + "PodSecurityContext", "supplementalGroups") == {
        "type": "array", "items": {"type": "integer", "format": "int64"}
    }
    assert prop(core + "ResourceRequirements", "limits") == {
        "type": "object", "additionalProperties": {"$ref": V2_PREFIX + "io.k8s.apimachinery.pkg.api.resource.Quantity"}
    }
    assert prop(core + "ServicePort", "targetPort") == {
        "$ref": V2_PREFIX + "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
    }
    assert prop(core + "Event", "eventTime") == {"$ref": V2_PREFIX + meta + "MicroTime"}
    assert prop(core + "Secret", "data") == {"type": "object", "additionalProperties": {"type": "string", "format": "byte"}}
    assert prop("io.k8s.api.apps.v1.ControllerRevision", "data") == {
        "$ref": V2_PREFIX + "io.k8s.apimachinery.pkg.runtime.RawExtension"
    }
    assert prop("io.k8s.api.certificates.v1.CertificateSigningRequestSpec", "expirationSeconds")["format"] == "int32"


def test_kube_lite_types_are_named_after_kubernetes_packages() -> None:
    from kube_lite.api import apiextensions, authorization, core, meta, storage

    assert oa.definition_name(core.Pod) == "io.k8s.api.core.v1.Pod"
    assert oa.definition_name(meta.ObjectMeta) == "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    assert oa.definition_name(storage.TopologySelectorTerm) == "io.k8s.api.core.v1.TopologySelectorTerm"
    assert oa.definition_name(authorization.FieldSelectorRequirement) == (
        "io.k8s.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement"
    )
    assert oa.definition_name(apiextensions.JSONSchemaProps) == (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"
    )
    assert oa.custom_definition_name("stable.example.com", "v1", "CronTab") == "com.example.stable.v1.CronTab"


def test_descriptions_are_present(registry: KindRegistry) -> None:
    defs = oa.openapi_v2_doc(registry)["definitions"]
    for name, schema in defs.items():
        assert "description" in schema, name
        for prop_name, prop in schema.get("properties", {}).items():
            if name.startswith("io.k8s.api") and "JSONSchemaProps" not in name:
                assert prop.get("description"), f"{name}.{prop_name}"
    assert defs["io.k8s.api.core.v1.Pod"]["description"].startswith("Containers scheduled together")


# ---- patch extensions


def test_merge_key_extensions_on_the_usual_lists(registry: KindRegistry) -> None:
    v3 = oa.openapi_v3_document_doc(registry, "api/v1")
    assert v3 is not None
    for defs in (oa.openapi_v2_doc(registry)["definitions"], v3["components"]["schemas"]):

        def ext(definition: str, field: str, defs: dict[str, Any] = defs) -> tuple[Any, Any]:
            prop = defs[definition]["properties"][field]
            return prop.get("x-kubernetes-patch-strategy"), prop.get("x-kubernetes-patch-merge-key")

        core = "io.k8s.api.core.v1."
        assert ext(core + "PodSpec", "containers") == ("merge", "name")
        assert ext(core + "PodSpec", "initContainers") == ("merge", "name")
        assert ext(core + "PodSpec", "volumes") == ("merge,retainKeys", "name")
        assert ext(core + "Container", "env") == ("merge", "name")
        assert ext(core + "Container", "ports") == ("merge", "containerPort")
        assert ext(core + "Container", "volumeMounts") == ("merge", "mountPath")
        assert ext(core + "PodStatus", "conditions") == ("merge", "type")
        assert ext(core + "ServiceSpec", "ports") == ("merge", "port")
        assert ext("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "finalizers") == ("merge", None)
        assert ext("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "ownerReferences") == ("merge", "uid")
        # Lists Kubernetes replaces carry no strategy.
        assert ext(core + "PodSpec", "tolerations") == (None, None)
        assert ext(core + "Container", "command") == (None, None)


def test_every_patchmeta_fact_is_published(registry: KindRegistry) -> None:
    defs = oa.openapi_v2_doc(registry)["definitions"]
    checked = 0
    for fact in patch_extensions():
        schema = defs.get(fact.type_name)
        if schema is None or fact.field not in schema.get("properties", {}):
            continue  # a type of a group kube-lite does not serve
        prop = schema["properties"][fact.field]
        assert prop.get("x-kubernetes-patch-strategy") == fact.strategy, fact
        assert prop.get("x-kubernetes-patch-merge-key") == fact.merge_key, fact
        checked += 1
    assert checked > 30


def _kubectl_patch_meta(schemas: dict[str, Any], schema: dict[str, Any], path: list[str]) -> tuple[Any, Any]:
    """What kubectl's PatchMetaFromOpenAPIV3 finds for the list at `path` under `schema`:
    each step reads the property, takes allOf[0] if present, then follows $ref (and, for the
    list itself, `items`). Raises KeyError where kubectl would report an unknown field."""

    def resolve(s: dict[str, Any]) -> dict[str, Any]:
        if s.get("allOf"):
            s = s["allOf"][0]
        ref = s.get("$ref")
        return schemas[ref[len(V3_PREFIX):]] if ref else s

    for i, key in enumerate(path):
        prop = schema["properties"][key]
        if i == len(path) - 1:
            return prop.get("x-kubernetes-patch-strategy"), prop.get("x-kubernetes-patch-merge-key")
        schema = resolve(prop["items"] if "items" in prop else prop)
    raise AssertionError("empty path")


@pytest.mark.parametrize(
    ("path", "gvk", "fields", "expected"),
    [
        ("api/v1", ("", "v1", "Pod"), "spec.containers", ("merge", "name")),
        ("api/v1", ("", "v1", "Pod"), "spec.containers.env", ("merge", "name")),
        ("api/v1", ("", "v1", "Pod"), "metadata.ownerReferences", ("merge", "uid")),
        ("apis/apps/v1", ("apps", "v1", "Deployment"), "spec.template.spec.containers.ports", ("merge", "containerPort")),
        ("apis/apps/v1", ("apps", "v1", "Deployment"), "spec.template.spec.volumes", ("merge,retainKeys", "name")),
        ("apis/batch/v1", ("batch", "v1", "CronJob"), "spec.jobTemplate.spec.template.spec.initContainers", ("merge", "name")),
        ("api/v1", ("", "v1", "Service"), "spec.ports", ("merge", "port")),
    ],
)
def test_kubectl_apply_finds_merge_keys_in_v3(
    registry: KindRegistry, path: str, gvk: tuple[str, str, str], fields: str, expected: tuple[str, str]
) -> None:
    doc = oa.openapi_v3_document_doc(registry, path)
    assert doc is not None
    schemas = doc["components"]["schemas"]
    target = {"group": gvk[0], "kind": gvk[2], "version": gvk[1]}
    [root] = [s for s in schemas.values() if target in s.get("x-kubernetes-group-version-kind", ())]
    assert _kubectl_patch_meta(schemas, root, fields.split(".")) == expected


# ---- v3


def test_v3_discovery_lists_every_group_version_with_its_hash(registry: KindRegistry) -> None:
    index = oa.openapi_v3_discovery_doc(registry)
    assert set(index) == {"paths"}
    expected = {oa.v3_path(gv.group, gv.version) for gv in registry.group_versions()}
    assert set(index["paths"]) == expected
    assert "api/v1" in expected and "apis/apps/v1" in expected
    for path, entry in index["paths"].items():
        body = oa.openapi_v3_document(registry, path)
        assert body is not None
        digest = hashlib.sha512(body).hexdigest().upper()
        assert entry == {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
        assert oa.openapi_v3_hash(registry, path) == digest


def test_v3_document_paths_are_normalized(registry: KindRegistry) -> None:
    body = oa.openapi_v3_document(registry, "apis/apps/v1")
    assert body is not None
    assert oa.openapi_v3_document(registry, "/openapi/v3/apis/apps/v1?hash=abc") == body
    assert oa.openapi_v3_document(registry, "/apis/apps/v1/") == body
    assert oa.openapi_v3_document(registry, "apis/apps/v9") is None


def _v3_docs(registry: KindRegistry) -> dict[str, dict[str, Any]]:
    out = {}
    for path in oa.openapi_v3_discovery_doc(registry)["paths"]:
        doc = oa.openapi_v3_document_doc(registry, path)
        assert doc is not None
        out[path] = doc
    return out


def test_v3_documents_are_self_contained(registry: KindRegistry) -> None:
    registry.register(KindInfo(group=CRONTAB_GVK[0], version="v1", kind="CronTab", plural="crontabs", namespaced=True))
    for path, doc in _v3_docs(registry).items():
        assert doc["openapi"] == "3.0.0"
        schemas = doc["components"]["schemas"]
        missing = _refs(doc, V3_PREFIX) - set(schemas)
        assert not missing, (path, missing)


def test_v3_refs_with_siblings_are_wrapped_in_all_of(registry: KindRegistry) -> None:
    def check(schema: dict[str, Any]) -> None:
        # Walk schema keywords only: JSONSchemaProps has a *property* named "$ref".
        if "$ref" in schema:
            assert set(schema) == {"$ref"}, schema
        for key in ("properties", "patternProperties"):
            for sub in schema.get(key, {}).values():
                check(sub)
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                check(schema[key])
        for sub in schema.get("allOf", []) + schema.get("oneOf", []):
            check(sub)

    for doc in _v3_docs(registry).values():
        for schema in doc["components"]["schemas"].values():
            check(schema)
    schemas = oa.openapi_v3_document_doc(registry, "api/v1")["components"]["schemas"]  # type: ignore[index]
    spec = schemas["io.k8s.api.core.v1.Pod"]["properties"]["spec"]
    assert spec["allOf"] == [{"$ref": V3_PREFIX + "io.k8s.api.core.v1.PodSpec"}]
    assert spec["description"]
    assert schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["oneOf"] == [
        {"type": "integer"}, {"type": "string"}
    ]
    assert schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"] == "int-or-string"
    assert schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"]["oneOf"] == [{"type": "string"}, {"type": "number"}]


def test_v3_lets_kubectl_explain_find_every_kind(registry: KindRegistry) -> None:
    """kubectl explain: GVK from an operation on one of four candidate paths, then the
    schema listing that GVK in x-kubernetes-group-version-kind."""
    docs = _v3_docs(registry)
    for gv in registry.group_versions():
        doc = docs[oa.v3_path(gv.group, gv.version)]
        prefix = f"/apis/{gv.group}" if gv.group else "/api"
        for info in gv.kinds:
            candidates = [
                f"{prefix}/{gv.version}/{info.plural}",
                f"{prefix}/{gv.version}/{info.plural}/{{name}}",
                f"{prefix}/{gv.version}/namespaces/{{namespace}}/{info.plural}",
                f"{prefix}/{gv.version}/namespaces/{{namespace}}/{info.plural}/{{name}}",
            ]
            found = None
            for candidate in candidates:
                for method in ("get", "post", "put", "patch", "delete"):
                    op = doc["paths"].get(candidate, {}).get(method)
                    if op and "x-kubernetes-group-version-kind" in op:
                        found = found or op["x-kubernetes-group-version-kind"]
            assert found == _gvk(info), info.kind
            assert any(found in s.get("x-kubernetes-group-version-kind", ()) for s in doc["components"]["schemas"].values())


def test_v3_patch_operations_offer_strategic_merge_and_field_validation(registry: KindRegistry) -> None:
    doc = oa.openapi_v3_document_doc(registry, "apis/apps/v1")
    assert doc is not None
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "apps", "kind": "Deployment", "version": "v1"}
    assert patch["x-kubernetes-action"] == "patch"
    assert "application/strategic-merge-patch+json" in patch["requestBody"]["content"]
    assert {"name": "fieldValidation", "in": "query"}.items() <= next(
        p for p in patch["parameters"] if p["name"] == "fieldValidation"
    ).items()
    scale = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"]
    assert scale["x-kubernetes-group-version-kind"] == {"group": "autoscaling", "kind": "Scale", "version": "v1"}
    assert "io.k8s.api.autoscaling.v1.Scale" in doc["components"]["schemas"]
    # Cluster-scoped kinds have no namespace segment; create-only kinds only a POST.
    core = oa.openapi_v3_document_doc(registry, "api/v1")
    assert core is not None
    assert "get" in core["paths"]["/api/v1/nodes/{name}"]
    authn = oa.openapi_v3_document_doc(registry, "apis/authentication.k8s.io/v1")
    assert authn is not None
    assert set(authn["paths"]["/apis/authentication.k8s.io/v1/tokenreviews"]) == {"post", "parameters"}


# ---- custom resources, hashes and caching


def test_custom_resource_schema_and_patch_types(registry: KindRegistry) -> None:
    registry.register(CRONTAB)
    customs = {CRONTAB_GVK: CRONTAB_SCHEMA}
    doc = oa.openapi_v3_document_doc(registry, "apis/stable.example.com/v1", customs)
    assert doc is not None
    schemas = doc["components"]["schemas"]
    crontab = schemas["com.example.stable.v1.CronTab"]
    assert crontab["x-kubernetes-group-version-kind"] == [
        {"group": "stable.example.com", "kind": "CronTab", "version": "v1"}
    ]
    assert crontab["properties"]["spec"]["properties"]["cronSpec"] == {"type": "string", "description": "When to run."}
    # A property named "$ref" is a property, not a reference.
    assert crontab["properties"]["spec"]["properties"]["$ref"]["type"] == "string"
    assert crontab["properties"]["metadata"]["allOf"] == [
        {"$ref": V3_PREFIX + "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    ]
    assert "com.example.stable.v1.CronTabList" in schemas
    patch = doc["paths"]["/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}"]["patch"]
    assert "application/strategic-merge-patch+json" not in patch["requestBody"]["content"]
    assert "application/merge-patch+json" in patch["requestBody"]["content"]
    v2 = oa.openapi_v2_doc(registry, customs)["definitions"]["com.example.stable.v1.CronTab"]
    assert "nullable" not in v2["properties"]["spec"]["properties"]["replicas"]
    # Without a schema the custom resource accepts anything.
    bare = oa.openapi_v3_document_doc(registry, "apis/stable.example.com/v1")
    assert bare is not None
    assert bare["components"]["schemas"]["com.example.stable.v1.CronTab"]["x-kubernetes-preserve-unknown-fields"]


def test_hash_changes_exactly_when_a_document_changes(registry: KindRegistry) -> None:
    before = oa.openapi_v3_discovery_doc(registry)["paths"]
    registry.register(CRONTAB)
    with_crd = oa.openapi_v3_discovery_doc(registry)["paths"]
    assert "apis/stable.example.com/v1" in with_crd
    assert {p: e for p, e in with_crd.items() if p in before} == before
    with_schema = oa.openapi_v3_discovery_doc(registry, {CRONTAB_GVK: CRONTAB_SCHEMA})["paths"]
    assert with_schema["apis/stable.example.com/v1"] != with_crd["apis/stable.example.com/v1"]
    assert with_schema["api/v1"] == with_crd["api/v1"]
    changed = json.loads(json.dumps(CRONTAB_SCHEMA))
    changed["properties"]["spec"]["properties"]["cronSpec"]["description"] = "Changed."
    again = oa.openapi_v3_discovery_doc(registry, {CRONTAB_GVK: changed})["paths"]
    assert again["apis/stable.example.com/v1"] != with_schema["apis/stable.example.com/v1"]
    registry.unregister(*CRONTAB_GVK[:2], "crontabs")
    assert oa.openapi_v3_discovery_doc(registry)["paths"] == before


def test_bytes_are_cached_per_registry_state(registry: KindRegistry) -> None:
    first = oa.openapi_v2(registry)
    assert oa.openapi_v2(KindRegistry.with_builtins()) is first
    assert oa.openapi_v3_document(registry, "api/v1") is oa.openapi_v3_document(KindRegistry.with_builtins(), "api/v1")


# ---- the real kubectl


def test_kubectl_explain_reads_the_v3_document(kube_server: Any) -> None:
    _, kubectl = kube_server
    out = kubectl("explain", "pods.spec.containers", "--api-version=v1")
    assert out.returncode == 0, out.stderr
    assert "KIND:       Pod" in out.stdout and "VERSION:    v1" in out.stdout
    assert "FIELD: containers <[]Container>" in out.stdout
    assert "image\t<string>" in out.stdout and "ports\t<[]ContainerPort>" in out.stdout
    out = kubectl("explain", "deploy.spec.strategy.rollingUpdate.maxSurge")
    assert out.returncode == 0, out.stderr
    assert "GROUP:      apps" in out.stdout and "FIELD: maxSurge <IntOrString>" in out.stdout
    out = kubectl("explain", "pods.spec.nosuchfield")
    assert out.returncode != 0 and 'field "nosuchfield" does not exist' in out.stderr


def test_kubectl_explain_custom_resource(kube_server: Any, registry: KindRegistry) -> None:
    state, kubectl = kube_server
    registry.register(CRONTAB)
    state.custom_schemas[CRONTAB_GVK] = CRONTAB_SCHEMA
    out = kubectl("explain", "crontabs.spec")
    assert out.returncode == 0, out.stderr
    assert "cronSpec\t<string>" in out.stdout and "When to run." in out.stdout


def _applied(state: DiscoveryServer, kubectl: Any, path: str, original: dict[str, Any], new: dict[str, Any]) -> tuple[str, dict[str, Any], str]:
    """Store `original` as last applied at `path`, kubectl apply `new`, return the PATCH's
    content type and body and kubectl's stderr."""
    stored = json.loads(json.dumps(original))
    stored["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": json.dumps(original)}
    stored["metadata"]["resourceVersion"] = "7"
    state.objects[path] = stored
    out = kubectl("apply", "-f", "-", stdin=json.dumps(new))
    assert out.returncode == 0, out.stderr
    [(_, _, ctype, body)] = [entry for entry in state.log if entry[0] == "PATCH"]
    return ctype, json.loads(body), out.stderr


def test_kubectl_apply_computes_its_strategic_patch_from_v3(kube_server: Any) -> None:
    state, kubectl = kube_server
    original = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
        "spec": {"template": {"spec": {"containers": [
            {"name": "a", "image": "nginx:1", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]},
            {"name": "b", "image": "busybox"},
        ]}}},
    }
    new = json.loads(json.dumps(original))
    new["spec"]["template"]["spec"]["containers"] = [{"name": "a", "image": "nginx:2", "env": [{"name": "X", "value": "1"}]}]
    ctype, patch, stderr = _applied(state, kubectl, "/apis/apps/v1/namespaces/default/deployments/web", original, new)
    assert ctype == "application/strategic-merge-patch+json"
    assert "warning" not in stderr.lower()
    containers = patch["spec"]["template"]["spec"]["containers"]
    assert {"$patch": "delete", "name": "b"} in containers
    a = next(c for c in containers if c.get("name") == "a")
    assert a["image"] == "nginx:2" and a["env"] == [{"$patch": "delete", "name": "Y"}]
    requested = [p.split("?")[0] for m, p, *_ in state.log if m == "GET"]
    assert "/openapi/v3/apis/apps/v1" in requested
    assert "/openapi/v2" not in requested  # v3 sufficed: no fallback
    patch_path = next(p for m, p, *_ in state.log if m == "PATCH")
    assert "fieldValidation=Strict" in patch_path  # server-side validation, found in v3


def test_kubectl_apply_sends_a_merge_patch_for_custom_resources(kube_server: Any, registry: KindRegistry) -> None:
    state, kubectl = kube_server
    registry.register(CRONTAB)
    state.custom_schemas[CRONTAB_GVK] = CRONTAB_SCHEMA
    original = {"apiVersion": "stable.example.com/v1", "kind": "CronTab",
                "metadata": {"name": "c", "namespace": "default"}, "spec": {"cronSpec": "* * * * *"}}
    new = json.loads(json.dumps(original))
    new["spec"]["cronSpec"] = "*/5 * * * *"
    ctype, patch, _ = _applied(state, kubectl, "/apis/stable.example.com/v1/namespaces/default/crontabs/c", original, new)
    assert ctype == "application/merge-patch+json"
    assert patch["spec"] == {"cronSpec": "*/5 * * * *"}


# ---- v2 as protobuf


def _pb_fields(data: bytes) -> list[tuple[int, Any]]:
    """Decode one protobuf message into (field number, value) pairs: ints for varints,
    bytes for length-delimited fields (nested messages are decoded on demand)."""
    out: list[tuple[int, Any]] = []
    i = 0

    def varint() -> int:
        nonlocal i
        shift = value = 0
        while True:
            byte = data[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    while i < len(data):
        key = varint()
        field_no, wire = key >> 3, key & 7
        if wire == 0:
            out.append((field_no, varint()))
        elif wire == 1:
            out.append((field_no, data[i:i + 8]))
            i += 8
        elif wire == 2:
            n = varint()
            out.append((field_no, data[i:i + n]))
            i += n
        else:
            raise AssertionError(f"unexpected wire type {wire}")
    return out


def test_v2_protobuf_holds_the_same_definitions(registry: KindRegistry) -> None:
    doc = oa.openapi_v2_doc(registry)
    top = _pb_fields(oa.openapi_v2_protobuf(registry))
    assert (1, b"2.0") in top
    [definitions] = [v for f, v in top if f == 9]
    named = [dict(_pb_fields(entry)) for f, entry in _pb_fields(definitions) if f == 1]
    assert [n[1].decode() for n in named] == list(doc["definitions"])
    pod = next(n for n in named if n[1] == b"io.k8s.api.core.v1.Pod")
    extensions = [dict(_pb_fields(v)) for f, v in _pb_fields(pod[2]) if f == 31]
    gvk = next(e for e in extensions if e[1] == b"x-kubernetes-group-version-kind")
    assert json.loads(dict(_pb_fields(gvk[2]))[2]) == [{"group": "", "kind": "Pod", "version": "v1"}]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/com.github.proto-openapi.spec.v2@v1.0+protobuf", oa.V2_PROTOBUF_CONTENT_TYPE),
        ("application/com.github.proto-openapi.spec.v2.v1.0+protobuf", oa.V2_PROTOBUF_CONTENT_TYPE),
        ("application/json", "application/json"),
        ("application/json, */*", "application/json"),
        ("*/*", "application/json"),
        (None, "application/json"),
        ("application/vnd.kubernetes.protobuf", None),
    ],
)
def test_negotiate_v2(accept: str | None, expected: str | None) -> None:
    assert oa.negotiate_v2(accept) == expected


def test_kubectl_validates_a_list_with_the_v2_protobuf(kube_server: Any) -> None:
    """A `kind: List` file has no PATCH operation in v3, so kubectl validates it client-side
    against /openapi/v2, which it only reads as protobuf."""
    state, kubectl = kube_server
    doc = {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "b"}, "bogus": 1},
    ]}
    out = kubectl("create", "-f", "-", stdin=json.dumps(doc))
    assert out.returncode != 0
    assert 'unknown field "bogus" in io.k8s.api.core.v1.ConfigMap' in out.stderr
    assert ("GET", "/openapi/v2", oa.V2_PROTOBUF_CONTENT_TYPE.replace(".v1.0+", "@v1.0+")) in {
        (m, p.split("?")[0], a) for m, p, a, _ in state.log
    }


def test_kubectl_explain_reads_the_v2_protobuf(kube_server: Any) -> None:
    _, kubectl = kube_server
    out = kubectl("explain", "--output", "plaintext-openapiv2", "pods.spec.containers.ports")
    assert out.returncode == 0, out.stderr
    assert "RESOURCE: ports <[]Object>" in out.stdout
    assert "containerPort\t<integer>" in out.stdout


def test_custom_schemas_from_crds() -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "crontabs.stable.example.com"},
        "spec": {
            "group": "stable.example.com", "scope": "Namespaced",
            "names": {"kind": "CronTab", "plural": "crontabs"},
            "versions": [
                {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": CRONTAB_SCHEMA}},
                {"name": "v1beta1", "served": False, "storage": False, "schema": {"openAPIV3Schema": {"type": "object"}}},
                {"name": "v2", "served": True, "storage": False},
            ],
        },
    }
    assert oa.custom_schemas_from_crds([crd, {"spec": {}}]) == {CRONTAB_GVK: CRONTAB_SCHEMA}
