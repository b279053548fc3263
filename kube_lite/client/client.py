"""The Client: Kubernetes' API as async methods, over an in-process or an HTTP transport.

Objects are plain JSON dicts (a Struct is accepted wherever an object is given). Kinds are
named by a KindInfo, a Struct class (`Pod`), or a resource name as kubectl takes it ("pods",
"deploy", "deployments.apps"). Errors are `APIError` carrying the server's Status.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import msgspec

from kube_lite.api.errors import APIError
from kube_lite.api.registry import KindInfo, KindRegistry
from kube_lite.client.transport import Transport

_encode = msgspec.json.encode
_decode = msgspec.json.decode

PATCH_TYPES = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
}

KindRef = KindInfo | type | str


@dataclass(frozen=True, slots=True)
class WatchEvent:
    type: str  # ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
    object: dict[str, Any]


def _to_data(obj: Any) -> Any:
    if isinstance(obj, msgspec.Struct):
        return msgspec.to_builtins(obj)
    return obj


class Client:
    """One API client. Cheap to create; `aclose()` releases the transport."""

    def __init__(self, transport: Transport, kinds: KindRegistry | None = None) -> None:
        self.transport = transport
        self.kinds = kinds or KindRegistry.with_builtins()
        # Name lookups scan the registry; components ask for the same few kinds constantly.
        self._resolved: dict[type | str, KindInfo] = {}

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ paths

    def kind(self, ref: KindRef) -> KindInfo:
        if isinstance(ref, KindInfo):
            return ref
        info = self._resolved.get(ref)
        if info is not None:
            return info
        info = self.kinds.for_type(ref) if isinstance(ref, type) else self.kinds.resolve(ref)
        if info is None:
            raise ValueError(f"unknown kind {ref!r}")
        self._resolved[ref] = info
        return info

    def path(self, kind: KindInfo, namespace: str | None = None, name: str | None = None, sub: str | None = None) -> str:
        base = f"/apis/{kind.group}/{kind.version}" if kind.group else f"/api/{kind.version}"
        if kind.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{kind.plural}"
        if name:
            base += f"/{name}"
            if sub:
                base += f"/{sub}"
        return base

    async def _call(
        self, method: str, path: str, *, query: dict[str, str] | None = None, body: Any = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        raw = None if body is None else body if isinstance(body, bytes) else _encode(_to_data(body))
        response = await self.transport.request(method, path, query=query, body=raw, content_type=content_type)
        data: Any
        try:
            data = _decode(response.body) if response.body else {}
        except msgspec.DecodeError:
            data = {"message": response.body.decode(errors="replace")}
        if response.status >= 400:
            if isinstance(data, dict) and data.get("kind") == "Status":
                raise APIError.from_status(data, response.status)
            raise APIError(response.status, "", str(data.get("message") if isinstance(data, dict) else data))
        return data

    @staticmethod
    def _namespace_of(obj: dict[str, Any], namespace: str | None) -> str | None:
        return namespace or (obj.get("metadata") or {}).get("namespace")

    # ------------------------------------------------------------------ verbs

    async def create(self, kind: KindRef, obj: Any, *, namespace: str | None = None, dry_run: bool = False,
                     field_validation: str | None = None) -> dict[str, Any]:
        info = self.kind(kind)
        data = _to_data(obj)
        query = {}
        if dry_run:
            query["dryRun"] = "All"
        if field_validation:
            query["fieldValidation"] = field_validation
        ns = self._namespace_of(data, namespace) or ("default" if info.namespaced else None)
        return await self._call("POST", self.path(info, ns), query=query, body=data)

    async def get(self, kind: KindRef, name: str, *, namespace: str | None = None, subresource: str | None = None) -> dict[str, Any]:
        info = self.kind(kind)
        ns = namespace or ("default" if info.namespaced else None)
        return await self._call("GET", self.path(info, ns, name, subresource))

    async def list(
        self, kind: KindRef, *, namespace: str | None = None, label_selector: str | None = None,
        field_selector: str | None = None, limit: int | None = None, continue_: str | None = None,
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        """A list object ({"items": [...], "metadata": {"resourceVersion": ...}}); all
        namespaces when `namespace` is None."""
        info = self.kind(kind)
        query: dict[str, str] = {}
        if label_selector:
            query["labelSelector"] = label_selector
        if field_selector:
            query["fieldSelector"] = field_selector
        if limit:
            query["limit"] = str(limit)
        if continue_:
            query["continue"] = continue_
        if resource_version is not None:
            query["resourceVersion"] = resource_version
        return await self._call("GET", self.path(info, namespace), query=query)

    async def update(self, kind: KindRef, obj: Any, *, namespace: str | None = None, subresource: str | None = None,
                     dry_run: bool = False) -> dict[str, Any]:
        info = self.kind(kind)
        data = _to_data(obj)
        name = data["metadata"]["name"]
        ns = self._namespace_of(data, namespace) or ("default" if info.namespaced else None)
        return await self._call("PUT", self.path(info, ns, name, subresource), body=data,
                                query={"dryRun": "All"} if dry_run else None)

    async def update_status(self, kind: KindRef, obj: Any, *, namespace: str | None = None) -> dict[str, Any]:
        return await self.update(kind, obj, namespace=namespace, subresource="status")

    async def patch(
        self, kind: KindRef, name: str, patch: Any, *, namespace: str | None = None, patch_type: str = "merge",
        subresource: str | None = None, dry_run: bool = False,
    ) -> dict[str, Any]:
        info = self.kind(kind)
        ns = namespace or ("default" if info.namespaced else None)
        return await self._call(
            "PATCH", self.path(info, ns, name, subresource), body=patch, content_type=PATCH_TYPES[patch_type],
            query={"dryRun": "All"} if dry_run else None,
        )

    async def delete(
        self, kind: KindRef, name: str, *, namespace: str | None = None, propagation_policy: str | None = None,
        grace_period_seconds: int | None = None, preconditions: dict[str, str] | None = None, dry_run: bool = False,
    ) -> dict[str, Any]:
        info = self.kind(kind)
        ns = namespace or ("default" if info.namespaced else None)
        options: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation_policy:
            options["propagationPolicy"] = propagation_policy
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        if preconditions:
            options["preconditions"] = preconditions
        if dry_run:
            options["dryRun"] = ["All"]
        return await self._call("DELETE", self.path(info, ns, name), body=options)

    async def delete_collection(
        self, kind: KindRef, *, namespace: str | None = None, label_selector: str | None = None,
        field_selector: str | None = None, propagation_policy: str | None = None, grace_period_seconds: int | None = None,
    ) -> dict[str, Any]:
        """DELETE on a collection: every object the selectors pick; returns the list deleted."""
        info = self.kind(kind)
        query: dict[str, str] = {}
        if label_selector:
            query["labelSelector"] = label_selector
        if field_selector:
            query["fieldSelector"] = field_selector
        options: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation_policy:
            options["propagationPolicy"] = propagation_policy
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        return await self._call("DELETE", self.path(info, namespace), query=query, body=options)

    async def create_subresource(self, kind: KindRef, name: str, subresource: str, body: Any, *,
                                 namespace: str | None = None) -> dict[str, Any]:
        """POST to a subresource: pods/binding, pods/eviction."""
        info = self.kind(kind)
        ns = namespace or ("default" if info.namespaced else None)
        return await self._call("POST", self.path(info, ns, name, subresource), body=body)

    async def bind(self, pod_name: str, node_name: str, *, namespace: str = "default") -> dict[str, Any]:
        return await self.create_subresource(
            "pods", pod_name, "binding",
            {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": pod_name, "namespace": namespace},
             "target": {"apiVersion": "v1", "kind": "Node", "name": node_name}},
            namespace=namespace,
        )

    def watch(
        self, kind: KindRef, *, namespace: str | None = None, resource_version: str | None = None,
        label_selector: str | None = None, field_selector: str | None = None, timeout_seconds: int | None = None,
        allow_bookmarks: bool = False,
    ) -> WatchStream:
        """A watch, used as `async with client.watch(...) as events: async for event in events`.

        Events come until the server ends the watch; an ERROR event (e.g. 410 Expired) is
        raised as APIError. The `async with` block owns the stream (and, in process, the task
        serving it), so leaving it, by any exit, closes the watch in the task that opened it."""
        info = self.kind(kind)
        query: dict[str, str] = {"watch": "true"}
        if resource_version is not None:
            query["resourceVersion"] = resource_version
        if label_selector:
            query["labelSelector"] = label_selector
        if field_selector:
            query["fieldSelector"] = field_selector
        if timeout_seconds is not None:
            query["timeoutSeconds"] = str(timeout_seconds)
        if allow_bookmarks:
            query["allowWatchBookmarks"] = "true"
        return WatchStream(self.transport, self.path(info, namespace), query)


class WatchStream:
    """An open watch: an async context manager whose value is an async iterator of events."""

    def __init__(self, transport: Transport, path: str, query: dict[str, str]) -> None:
        self._transport = transport
        self._path = path
        self._query = query
        self._cm: Any = None

    async def __aenter__(self) -> AsyncIterator[WatchEvent]:
        self._cm = self._transport.stream(self._path, query=self._query)
        status, lines = await self._cm.__aenter__()
        try:
            if status >= 400:
                async for line in lines:
                    raise APIError.from_status(_decode(line), status)
                raise APIError(status, "", f"watch failed with HTTP {status}")
        except BaseException:
            await self._cm.__aexit__(None, None, None)
            raise
        return self._events(lines)

    async def __aexit__(self, *exc: object) -> None:
        await self._cm.__aexit__(*exc)

    @staticmethod
    async def _events(lines: AsyncIterator[bytes]) -> AsyncIterator[WatchEvent]:
        async for line in lines:
            event = _decode(line)
            if event.get("type") == "ERROR":
                raise APIError.from_status(event.get("object") or {}, 500)
            yield WatchEvent(event["type"], event["object"])
