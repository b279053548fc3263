"""authentication.k8s.io/v1: TokenReview ("who owns this bearer token?") and SelfSubjectReview
("who am I?").

Both are create-only and never stored: the server fills `status` and returns the object. UserInfo is
also the shape of the identity that authentication attaches to every request. Conventions are
kube_lite.api.base's.
"""

from __future__ import annotations

from typing import ClassVar

from kube_lite.api.base import Resource, Struct
from kube_lite.api.meta import ObjectMeta


class UserInfo(Struct):
    username: str | None = None
    uid: str | None = None
    groups: list[str] | None = None
    extra: dict[str, list[str]] | None = None


class TokenReviewSpec(Struct):
    token: str | None = None
    audiences: list[str] | None = None


class TokenReviewStatus(Struct):
    authenticated: bool | None = None
    user: UserInfo | None = None
    # The audiences the token is valid for (a subset of spec.audiences when those were given).
    audiences: list[str] | None = None
    error: str | None = None


class TokenReview(Resource):
    group: ClassVar[str] = "authentication.k8s.io"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "tokenreviews"
    namespaced: ClassVar[bool] = False

    metadata: ObjectMeta | None = None
    spec: TokenReviewSpec | None = None
    status: TokenReviewStatus | None = None


class SelfSubjectReviewStatus(Struct):
    userInfo: UserInfo | None = None


class SelfSubjectReview(Resource):
    """`kubectl auth whoami`: the server answers with the requesting user's identity."""

    group: ClassVar[str] = "authentication.k8s.io"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "selfsubjectreviews"
    namespaced: ClassVar[bool] = False

    metadata: ObjectMeta | None = None
    status: SelfSubjectReviewStatus | None = None
