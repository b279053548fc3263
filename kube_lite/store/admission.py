"""The admission chain every write passes through, on the HTTP and the in-process path alike.

Mutating plugins run first, in order, and may change the object; validating plugins run after
and may only refuse (raise an APIError). Defaulting and validation of the built-in kinds are the
first plugins of each half; later features (RBAC-free checks, quotas, limit ranges, namespace
lifecycle) append theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from kube_lite.api.registry import KindInfo


@dataclass(frozen=True, slots=True)
class UserInfo:
    """Who makes a request."""

    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: dict[str, list[str]] = field(default_factory=dict)


SYSTEM_USER = UserInfo("system:kube-lite", ("system:masters", "system:authenticated"))


@dataclass(slots=True)
class AdmissionRequest:
    """One write. `obj` is the object to be stored (mutable by mutating plugins); `old` the
    stored object for UPDATE and DELETE."""

    operation: str  # CREATE, UPDATE, DELETE
    kind: KindInfo
    namespace: str
    name: str
    obj: dict[str, Any] | None
    old: dict[str, Any] | None
    user: UserInfo
    subresource: str = ""
    dry_run: bool = False


class MutatingPlugin(Protocol):
    async def admit(self, request: AdmissionRequest) -> None:
        """Change `request.obj` in place, or raise APIError to refuse."""
        ...


class ValidatingPlugin(Protocol):
    async def validate(self, request: AdmissionRequest) -> None:
        """Raise APIError to refuse; never change the object."""
        ...


class AdmissionChain:
    """Mutating plugins, then validating plugins."""

    def __init__(self) -> None:
        self.mutating: list[MutatingPlugin] = []
        self.validating: list[ValidatingPlugin] = []

    async def run(self, request: AdmissionRequest) -> None:
        for plugin in self.mutating:
            await plugin.admit(request)
        for vplugin in self.validating:
            await vplugin.validate(request)
