"""The non-core API groups against the `kubernetes` client's models: every field the client knows
is modelled, and an object with every field set survives decode -> encode unchanged."""

from __future__ import annotations

import json

import msgspec
import pytest

from kube_lite.api.apiextensions import CustomResourceDefinition, JSONSchemaProps
from kube_lite.api.authentication import SelfSubjectReview, TokenReview
from kube_lite.api.authorization import (
    LocalSubjectAccessReview,
    SelfSubjectAccessReview,
    SelfSubjectRulesReview,
    SubjectAccessReview,
)
from kube_lite.api.base import Resource
from kube_lite.api.certificates import CertificateSigningRequest
from kube_lite.api.coordination import Lease
from kube_lite.api.discovery import EndpointSlice
from kube_lite.api.events import Event
from kube_lite.api.policy import Eviction, PodDisruptionBudget
from kube_lite.api.rbac import ClusterRole, ClusterRoleBinding, Role, RoleBinding
from kube_lite.api.scheduling import PriorityClass
from kube_lite.api.storage import StorageClass
from tests.unit.api.oracle import missing_fields, sample

# Kind -> the client model that is its oracle.
KINDS: dict[type[Resource], str] = {
    Lease: "V1Lease",
    PriorityClass: "V1PriorityClass",
    PodDisruptionBudget: "V1PodDisruptionBudget",
    Eviction: "V1Eviction",
    EndpointSlice: "V1EndpointSlice",
    Event: "EventsV1Event",
    StorageClass: "V1StorageClass",
    Role: "V1Role",
    ClusterRole: "V1ClusterRole",
    RoleBinding: "V1RoleBinding",
    ClusterRoleBinding: "V1ClusterRoleBinding",
    SubjectAccessReview: "V1SubjectAccessReview",
    SelfSubjectAccessReview: "V1SelfSubjectAccessReview",
    LocalSubjectAccessReview: "V1LocalSubjectAccessReview",
    SelfSubjectRulesReview: "V1SelfSubjectRulesReview",
    TokenReview: "V1TokenReview",
    SelfSubjectReview: "V1SelfSubjectReview",
    CertificateSigningRequest: "V1CertificateSigningRequest",
    CustomResourceDefinition: "V1CustomResourceDefinition",
}

# Client fields kube-lite does not model yet, as "Model.jsonName". Empty: every field is modelled.
NOT_SUPPORTED_YET: set[str] = set()

_SCHEMA_LEAF = {"type": "string", "maxLength": 5}

# Values for the fields the oracle cannot sample: `object`-typed ones (IntOrString, arbitrary
# JSON, the OpenAPI "or" types), base64 `bytes`, and the recursive fields of JSONSchemaProps,
# which would otherwise fan out to depth 6.
OVERRIDES: dict[str, object] = {
    "V1PodDisruptionBudgetSpec.minAvailable": 2,
    "V1PodDisruptionBudgetSpec.maxUnavailable": "50%",
    "V1CertificateSigningRequestSpec.request": "LS0tLS1CRUdJTg==",
    "V1CertificateSigningRequestStatus.certificate": "Y2VydA==",
    "ApiextensionsV1WebhookClientConfig.caBundle": "Y2E=",
    "V1CustomResourceSubresources.status": {},
    "V1JSONSchemaProps.default": {"a": [1, "b", None, True]},
    "V1JSONSchemaProps.example": "text",
    "V1JSONSchemaProps.enum": ["a", 1, None],
    "V1JSONSchemaProps.items": _SCHEMA_LEAF,
    "V1JSONSchemaProps.additionalProperties": False,
    "V1JSONSchemaProps.additionalItems": _SCHEMA_LEAF,
    "V1JSONSchemaProps.dependencies": {"a": ["b", "c"], "d": _SCHEMA_LEAF},
    "V1JSONSchemaProps.allOf": [_SCHEMA_LEAF],
    "V1JSONSchemaProps.anyOf": [_SCHEMA_LEAF],
    "V1JSONSchemaProps.oneOf": [_SCHEMA_LEAF],
    "V1JSONSchemaProps.not": _SCHEMA_LEAF,
    "V1JSONSchemaProps.properties": {"spec": {"type": "object", "properties": {"n": {"type": "integer"}}}},
    "V1JSONSchemaProps.patternProperties": {"^x-": _SCHEMA_LEAF},
    "V1JSONSchemaProps.definitions": {"leaf": _SCHEMA_LEAF},
}


def _round_trip(kind: type, data: dict) -> dict:
    obj = msgspec.json.decode(json.dumps(data).encode(), type=kind)
    return json.loads(msgspec.json.encode(obj))


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_every_client_field_is_modelled(kind: type[Resource]) -> None:
    assert set(missing_fields(kind, KINDS[kind])) <= NOT_SUPPORTED_YET


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_full_sample_round_trips(kind: type[Resource]) -> None:
    data = sample(KINDS[kind], overrides=OVERRIDES)
    assert _round_trip(kind, data) == data


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_class_vars_are_set(kind: type[Resource]) -> None:
    assert kind.group and kind.version == "v1" and kind.plural.endswith("s")
    assert kind.plural == kind.plural.lower()


def test_schema_or_types_are_told_apart_by_json_shape() -> None:
    schema = msgspec.json.decode(
        b'{"items":[{"type":"string"}],"additionalProperties":{"type":"integer"},'
        b'"additionalItems":true,"dependencies":{"a":["b"],"c":{"required":["d"]}}}',
        type=JSONSchemaProps,
    )
    assert isinstance(schema.items, list) and schema.items[0].type == "string"
    assert isinstance(schema.additionalProperties, JSONSchemaProps)
    assert schema.additionalItems is True
    assert schema.dependencies == {"a": ["b"], "c": JSONSchemaProps(required=["d"])}
    single = msgspec.json.decode(
        b'{"items":{"type":"string"},"additionalProperties":false}', type=JSONSchemaProps
    )
    assert isinstance(single.items, JSONSchemaProps)
    assert single.additionalProperties is False
    assert msgspec.json.encode(single) == b'{"items":{"type":"string"},"additionalProperties":false}'


def test_schema_keeps_json_names_and_integer_bounds() -> None:
    raw = (
        b'{"$schema":"s","$ref":"#/r","not":{"type":"null"},"maximum":5,"minimum":0.5,'
        b'"x-kubernetes-preserve-unknown-fields":true,"x-kubernetes-list-type":"map",'
        b'"x-kubernetes-list-map-keys":["name"],'
        b'"x-kubernetes-validations":[{"rule":"self.a < self.b","messageExpression":"\'bad\'"}]}'
    )
    schema = msgspec.json.decode(raw, type=JSONSchemaProps)
    assert schema.ref == "#/r" and schema.schema == "s" and schema.not_ == JSONSchemaProps(type="null")
    assert schema.x_kubernetes_list_map_keys == ["name"]
    assert schema.x_kubernetes_validations is not None
    assert schema.x_kubernetes_validations[0].rule == "self.a < self.b"
    # 5 stays 5 (not 5.0), as Kubernetes writes it back.
    assert json.loads(msgspec.json.encode(schema)) == json.loads(raw)
    assert b'"maximum":5,' in msgspec.json.encode(schema)


def test_a_realistic_crd_decodes() -> None:
    crd = msgspec.json.decode(
        json.dumps(
            {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {"name": "widgets.example.com"},
                "spec": {
                    "group": "example.com",
                    "scope": "Namespaced",
                    "names": {
                        "plural": "widgets",
                        "singular": "widget",
                        "kind": "Widget",
                        "shortNames": ["wd"],
                    },
                    "versions": [
                        {
                            "name": "v1",
                            "served": True,
                            "storage": True,
                            "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas"}},
                            "additionalPrinterColumns": [
                                {"name": "Size", "type": "integer", "jsonPath": ".spec.size"}
                            ],
                            "schema": {
                                "openAPIV3Schema": {
                                    "type": "object",
                                    "properties": {
                                        "spec": {
                                            "type": "object",
                                            "x-kubernetes-preserve-unknown-fields": True,
                                            "properties": {"size": {"type": "integer", "default": 1}},
                                        }
                                    },
                                }
                            },
                        }
                    ],
                },
            }
        ).encode(),
        type=CustomResourceDefinition,
    )
    assert crd.spec is not None and crd.spec.versions is not None
    version = crd.spec.versions[0]
    assert version.subresources is not None and version.subresources.status is not None
    schema = version.schema.openAPIV3Schema if version.schema else None
    assert schema is not None and schema.properties is not None
    spec_schema = schema.properties["spec"]
    assert spec_schema.x_kubernetes_preserve_unknown_fields is True
    assert spec_schema.properties is not None and spec_schema.properties["size"].default == 1


def test_csr_request_is_base64_bytes_on_the_wire() -> None:
    csr = msgspec.json.decode(b'{"spec":{"request":"aGVsbG8="}}', type=CertificateSigningRequest)
    assert csr.spec is not None and csr.spec.request == b"hello"
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"spec":{"request":"not base64!"}}', type=CertificateSigningRequest)


def test_pdb_int_or_string() -> None:
    pdb = msgspec.json.decode(b'{"spec":{"minAvailable":2,"maxUnavailable":"25%"}}', type=PodDisruptionBudget)
    assert pdb.spec is not None and pdb.spec.minAvailable == 2 and pdb.spec.maxUnavailable == "25%"


def test_nulls_are_unset_and_omitted() -> None:
    role = msgspec.json.decode(
        b'{"metadata":{"name":"r"},"rules":null,"aggregationRule":null}', type=ClusterRole
    )
    assert role.rules is None
    assert msgspec.json.encode(role) == b'{"metadata":{"name":"r"}}'
