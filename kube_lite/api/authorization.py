"""authorization.k8s.io/v1: access reviews, the "can user U do V on R?" queries.

The review kinds are create-only and never stored: the server fills `status` and returns the
object. Conventions are kube_lite.api.base's.
"""

from __future__ import annotations

from typing import ClassVar

from kube_lite.api.base import Resource, Struct
from kube_lite.api.meta import LabelSelectorRequirement, ObjectMeta


class FieldSelectorRequirement(Struct):
    key: str | None = None
    operator: str | None = None
    values: list[str] | None = None


class FieldSelectorAttributes(Struct):
    """A field selector restricting a list/watch/deletecollection request: raw or parsed."""

    rawSelector: str | None = None
    requirements: list[FieldSelectorRequirement] | None = None


class LabelSelectorAttributes(Struct):
    """A label selector restricting a list/watch/deletecollection request: raw or parsed."""

    rawSelector: str | None = None
    requirements: list[LabelSelectorRequirement] | None = None


class ResourceAttributes(Struct):
    """The request being reviewed, when it is a resource request."""

    namespace: str | None = None
    verb: str | None = None
    group: str | None = None
    version: str | None = None
    resource: str | None = None
    subresource: str | None = None
    name: str | None = None
    fieldSelector: FieldSelectorAttributes | None = None
    labelSelector: LabelSelectorAttributes | None = None


class NonResourceAttributes(Struct):
    """The request being reviewed, when it is a non-resource request (/healthz, /api, ...)."""

    path: str | None = None
    verb: str | None = None


class SubjectAccessReviewSpec(Struct):
    """Exactly one of resourceAttributes and nonResourceAttributes is set (validation)."""

    resourceAttributes: ResourceAttributes | None = None
    nonResourceAttributes: NonResourceAttributes | None = None
    user: str | None = None
    groups: list[str] | None = None
    extra: dict[str, list[str]] | None = None
    uid: str | None = None


class SubjectAccessReviewStatus(Struct):
    allowed: bool | None = None
    denied: bool | None = None
    reason: str | None = None
    evaluationError: str | None = None


class SelfSubjectAccessReviewSpec(Struct):
    """As SubjectAccessReviewSpec, but the user is the one making the request."""

    resourceAttributes: ResourceAttributes | None = None
    nonResourceAttributes: NonResourceAttributes | None = None


class SubjectAccessReview(Resource):
    group: ClassVar[str] = "authorization.k8s.io"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "subjectaccessreviews"
    namespaced: ClassVar[bool] = False

    metadata: ObjectMeta | None = None
    spec: SubjectAccessReviewSpec | None = None
    status: SubjectAccessReviewStatus | None = None


class LocalSubjectAccessReview(Resource):
    """A SubjectAccessReview restricted to the namespace of the request path."""

    group: ClassVar[str] = "authorization.k8s.io"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "localsubjectaccessreviews"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    spec: SubjectAccessReviewSpec | None = None
    status: SubjectAccessReviewStatus | None = None


class SelfSubjectAccessReview(Resource):
    """`kubectl auth can-i`: may the requesting user do this?"""

    group: ClassVar[str] = "authorization.k8s.io"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "selfsubjectaccessreviews"
    namespaced: ClassVar[bool] = False

    metadata: ObjectMeta | None = None
    spec: SelfSubjectAccessReviewSpec | None = None
    status: SubjectAccessReviewStatus | None = None


class SelfSubjectRulesReviewSpec(Struct):
    namespace: str | None = None


class ResourceRule(Struct):
    verbs: list[str] | None = None
    apiGroups: list[str] | None = None
    resources: list[str] | None = None
    resourceNames: list[str] | None = None


class NonResourceRule(Struct):
    verbs: list[str] | None = None
    nonResourceURLs: list[str] | None = None


class SubjectRulesReviewStatus(Struct):
    """The rules the user has in a namespace; incomplete when an authorizer cannot list them."""

    resourceRules: list[ResourceRule] | None = None
    nonResourceRules: list[NonResourceRule] | None = None
    incomplete: bool | None = None
    evaluationError: str | None = None


class SelfSubjectRulesReview(Resource):
    """`kubectl auth can-i --list`: everything the requesting user may do in a namespace."""

    group: ClassVar[str] = "authorization.k8s.io"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "selfsubjectrulesreviews"
    namespaced: ClassVar[bool] = False

    metadata: ObjectMeta | None = None
    spec: SelfSubjectRulesReviewSpec | None = None
    status: SubjectRulesReviewStatus | None = None
