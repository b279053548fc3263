"""rbac.authorization.k8s.io/v1: Role, ClusterRole, RoleBinding, ClusterRoleBinding.

Conventions are kube_lite.api.base's. Every list here (rules, subjects, clusterRoleSelectors)
is atomic for strategic merge patch (see REFERENCE.md). Defaulting (roleRef.apiGroup, a
subject's apiGroup) is a separate step, not done by decoding.
"""

from __future__ import annotations

from typing import ClassVar

from kube_lite.api.base import Resource, Struct
from kube_lite.api.meta import LabelSelector, ObjectMeta


class PolicyRule(Struct):
    """Verbs allowed on resources (apiGroups x resources x resourceNames) or on URL paths."""

    verbs: list[str] | None = None
    apiGroups: list[str] | None = None
    resources: list[str] | None = None
    resourceNames: list[str] | None = None
    nonResourceURLs: list[str] | None = None


class AggregationRule(Struct):
    """ClusterRoles whose rules the aggregation controller copies into this ClusterRole."""

    clusterRoleSelectors: list[LabelSelector] | None = None


class Subject(Struct):
    """A User, Group or ServiceAccount that a binding grants its role to."""

    kind: str | None = None
    apiGroup: str | None = None
    name: str | None = None
    namespace: str | None = None


class RoleRef(Struct):
    """The Role or ClusterRole a binding grants; immutable after create."""

    apiGroup: str | None = None
    kind: str | None = None
    name: str | None = None


class Role(Resource):
    group: ClassVar[str] = "rbac.authorization.k8s.io"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "roles"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    rules: list[PolicyRule] | None = None


class ClusterRole(Resource):
    """A cluster-wide Role; with aggregationRule set, its rules are controller-managed."""

    group: ClassVar[str] = "rbac.authorization.k8s.io"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "clusterroles"
    namespaced: ClassVar[bool] = False

    metadata: ObjectMeta | None = None
    rules: list[PolicyRule] | None = None
    aggregationRule: AggregationRule | None = None


class RoleBinding(Resource):
    group: ClassVar[str] = "rbac.authorization.k8s.io"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "rolebindings"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    subjects: list[Subject] | None = None
    roleRef: RoleRef | None = None


class ClusterRoleBinding(Resource):
    group: ClassVar[str] = "rbac.authorization.k8s.io"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "clusterrolebindings"
    namespaced: ClassVar[bool] = False

    metadata: ObjectMeta | None = None
    subjects: list[Subject] | None = None
    roleRef: RoleRef | None = None
