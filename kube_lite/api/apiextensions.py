"""apiextensions.k8s.io/v1: CustomResourceDefinition, with the full structural-schema model.

Conventions are kube_lite.api.base's. JSONSchemaProps is recursive and carries JSON names that
are not Python identifiers ($ref, $schema, not, x-kubernetes-*); those fields are renamed with
`msgspec.field(name=...)` and keep their JSON names on the wire. The OpenAPI "or" types are
unions msgspec tells apart by JSON shape:

- JSONSchemaPropsOrBool (additionalProperties, additionalItems): a schema object or a bool;
- JSONSchemaPropsOrArray (items): a schema object or a list of them;
- JSONSchemaPropsOrStringArray (dependencies' values): a schema object or a list of strings.

`default`, `example` and `enum` members are arbitrary JSON. Numeric bounds are `int | float` so
that a bound written as 5 is written back as 5, not 5.0.
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec

from kube_lite.api.base import Resource, Struct, Time
from kube_lite.api.meta import ObjectMeta

# ---- schema


class ExternalDocumentation(Struct):
    description: str | None = None
    url: str | None = None


class ValidationRule(Struct):
    """One x-kubernetes-validations entry: a CEL rule evaluated against self (and oldSelf)."""

    rule: str | None = None
    message: str | None = None
    messageExpression: str | None = None
    reason: str | None = None
    fieldPath: str | None = None
    optionalOldSelf: bool | None = None


class JSONSchemaProps(Struct):
    """An OpenAPI v3 schema node with Kubernetes' x-kubernetes-* extensions."""

    id: str | None = None
    schema: str | None = msgspec.field(default=None, name="$schema")
    ref: str | None = msgspec.field(default=None, name="$ref")
    description: str | None = None
    type: str | None = None
    format: str | None = None
    title: str | None = None
    default: Any | None = None
    maximum: int | float | None = None
    exclusiveMaximum: bool | None = None
    minimum: int | float | None = None
    exclusiveMinimum: bool | None = None
    maxLength: int | None = None
    minLength: int | None = None
    pattern: str | None = None
    maxItems: int | None = None
    minItems: int | None = None
    uniqueItems: bool | None = None
    multipleOf: int | float | None = None
    enum: list[Any] | None = None
    maxProperties: int | None = None
    minProperties: int | None = None
    required: list[str] | None = None
    items: JSONSchemaProps | list[JSONSchemaProps] | None = None
    allOf: list[JSONSchemaProps] | None = None
    oneOf: list[JSONSchemaProps] | None = None
    anyOf: list[JSONSchemaProps] | None = None
    not_: JSONSchemaProps | None = msgspec.field(default=None, name="not")
    properties: dict[str, JSONSchemaProps] | None = None
    additionalProperties: JSONSchemaProps | bool | None = None
    patternProperties: dict[str, JSONSchemaProps] | None = None
    dependencies: dict[str, JSONSchemaProps | list[str]] | None = None
    additionalItems: JSONSchemaProps | bool | None = None
    definitions: dict[str, JSONSchemaProps] | None = None
    externalDocs: ExternalDocumentation | None = None
    example: Any | None = None
    nullable: bool | None = None
    x_kubernetes_preserve_unknown_fields: bool | None = msgspec.field(
        default=None, name="x-kubernetes-preserve-unknown-fields"
    )
    x_kubernetes_embedded_resource: bool | None = msgspec.field(
        default=None, name="x-kubernetes-embedded-resource"
    )
    x_kubernetes_int_or_string: bool | None = msgspec.field(default=None, name="x-kubernetes-int-or-string")
    x_kubernetes_list_map_keys: list[str] | None = msgspec.field(
        default=None, name="x-kubernetes-list-map-keys"
    )
    # atomic, set or map
    x_kubernetes_list_type: str | None = msgspec.field(default=None, name="x-kubernetes-list-type")
    # granular or atomic
    x_kubernetes_map_type: str | None = msgspec.field(default=None, name="x-kubernetes-map-type")
    x_kubernetes_validations: list[ValidationRule] | None = msgspec.field(
        default=None, name="x-kubernetes-validations"
    )


class CustomResourceValidation(Struct):
    openAPIV3Schema: JSONSchemaProps | None = None


# ---- versions


class CustomResourceColumnDefinition(Struct):
    """An extra `kubectl get` column, read from the object by a JSONPath."""

    name: str | None = None
    type: str | None = None
    format: str | None = None
    description: str | None = None
    priority: int | None = None
    jsonPath: str | None = None


class CustomResourceSubresourceStatus(Struct):
    """Enables the status subresource; it has no fields (it is written as `{}`)."""


class CustomResourceSubresourceScale(Struct):
    """Enables the scale subresource: where the replica counts and selector live."""

    specReplicasPath: str | None = None
    statusReplicasPath: str | None = None
    labelSelectorPath: str | None = None


class CustomResourceSubresources(Struct):
    status: CustomResourceSubresourceStatus | None = None
    scale: CustomResourceSubresourceScale | None = None


class SelectableField(Struct):
    """A field of the custom resource usable in field selectors."""

    jsonPath: str | None = None


class CustomResourceDefinitionVersion(Struct):
    name: str | None = None
    served: bool | None = None
    storage: bool | None = None
    deprecated: bool | None = None
    deprecationWarning: str | None = None
    schema: CustomResourceValidation | None = None
    subresources: CustomResourceSubresources | None = None
    additionalPrinterColumns: list[CustomResourceColumnDefinition] | None = None
    selectableFields: list[SelectableField] | None = None


# ---- names, conversion, spec, status


class CustomResourceDefinitionNames(Struct):
    plural: str | None = None
    singular: str | None = None
    shortNames: list[str] | None = None
    kind: str | None = None
    listKind: str | None = None
    categories: list[str] | None = None


class ServiceReference(Struct):
    namespace: str | None = None
    name: str | None = None
    path: str | None = None
    port: int | None = None


class WebhookClientConfig(Struct):
    """Where the conversion webhook is: a URL or an in-cluster service; caBundle is PEM."""

    url: str | None = None
    service: ServiceReference | None = None
    caBundle: bytes | None = None


class WebhookConversion(Struct):
    clientConfig: WebhookClientConfig | None = None
    conversionReviewVersions: list[str] | None = None


class CustomResourceConversion(Struct):
    # None (only apiVersion is rewritten) or Webhook.
    strategy: str | None = None
    webhook: WebhookConversion | None = None


class CustomResourceDefinitionSpec(Struct):
    group: str | None = None
    names: CustomResourceDefinitionNames | None = None
    # Namespaced or Cluster.
    scope: str | None = None
    versions: list[CustomResourceDefinitionVersion] | None = None
    conversion: CustomResourceConversion | None = None
    preserveUnknownFields: bool | None = None


class CustomResourceDefinitionCondition(Struct):
    type: str | None = None
    status: str | None = None
    lastTransitionTime: Time | None = None
    reason: str | None = None
    message: str | None = None
    observedGeneration: int | None = None


class CustomResourceDefinitionStatus(Struct):
    conditions: list[CustomResourceDefinitionCondition] | None = None
    acceptedNames: CustomResourceDefinitionNames | None = None
    storedVersions: list[str] | None = None
    observedGeneration: int | None = None


class CustomResourceDefinition(Resource):
    """Defines a custom resource: its group, names, scope, versions and their schemas."""

    group: ClassVar[str] = "apiextensions.k8s.io"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "customresourcedefinitions"
    namespaced: ClassVar[bool] = False

    metadata: ObjectMeta | None = None
    spec: CustomResourceDefinitionSpec | None = None
    status: CustomResourceDefinitionStatus | None = None
