"""A patch without a resourceVersion is applied however many writes race it.

Kubernetes' GuaranteedUpdate (k8s.io/apiserver pkg/storage/etcd3/store.go) tries the update on
the watch cache's object first; when the compare-and-swap loses, it retries on the object the
failed transaction returned (never the cache again), without a retry limit, until the patch
applies or fails on the current object itself (a resourceVersion the patch names: 409 Conflict).
Here the watch cache is made to lag behind the backend, as it does under load, so that a retry
that re-read the cache would find the same stale object again and again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from kube_lite.api import errors
from kube_lite.server.apiserver import APIServer
from kube_lite.store.backend import Backend, Event, open_backend
from kube_lite.store.registry import Registry

NS = "default"


class LaggingBackend:
    """A backend whose watch delivers each event `lag` seconds late (the watch cache behind)."""

    def __init__(self, inner: Backend, lag: float) -> None:
        self._inner = inner
        self._lag = lag

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def __aenter__(self) -> LaggingBackend:
        await self._inner.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._inner.__aexit__(*exc)

    async def watch(self, prefix: str, *, from_revision: int = 0) -> AsyncIterator[Event]:
        async for event in self._inner.watch(prefix, from_revision=from_revision):
            await anyio.sleep(self._lag)
            yield event


def _deployment(name: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}},
    }


async def test_a_patch_racing_many_status_updates_still_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = LaggingBackend(open_backend("memory:"), lag=0.002)
    async with APIServer(backend) as server:  # type: ignore[arg-type]
        registry = server.registry
        kind = server.kinds.get("apps", "v1", "deployments")
        assert kind is not None
        await registry.create(kind, NS, _deployment("d"))
        conflicts = 0
        retry_on = Registry._current

        def counting(self: Registry, *args: Any) -> Any:
            nonlocal conflicts
            conflicts += 1
            return retry_on(self, *args)

        monkeypatch.setattr(Registry, "_current", counting)
        writers, writes = 8, 25

        def bump(obj: dict[str, Any]) -> dict[str, Any]:
            status = obj.setdefault("status", {})
            status["observedGeneration"] = int(status.get("observedGeneration") or 0) + 1
            return obj

        async def status_writer() -> None:
            for _ in range(writes):
                await registry.patch(kind, NS, "d", bump, subresource="status")
                await anyio.lowlevel.checkpoint()

        def scale(obj: dict[str, Any]) -> dict[str, Any]:
            obj["spec"]["replicas"] = 5
            return obj

        async with anyio.create_task_group() as tg:
            for _ in range(writers):
                tg.start_soon(status_writer)
            await anyio.sleep(0.01)  # in the thick of it
            await registry.patch(kind, NS, "d", scale)

        got = (await registry.get(kind, NS, "d")).obj
        assert got["spec"]["replicas"] == 5
        assert got["metadata"]["generation"] == 2
        # Every status patch applied too, none lost to a retry on a stale object.
        assert got["status"]["observedGeneration"] == writers * writes
        assert conflicts > 0  # the race did happen


async def test_a_patch_naming_a_stale_resource_version_is_refused() -> None:
    async with APIServer("memory:") as server:
        registry = server.registry
        kind = server.kinds.get("apps", "v1", "deployments")
        assert kind is not None
        created = await registry.create(kind, NS, _deployment("d"))
        stale = created["metadata"]["resourceVersion"]

        def relabel(obj: dict[str, Any]) -> dict[str, Any]:
            obj["metadata"].setdefault("labels", {})["x"] = "1"
            return obj

        await registry.patch(kind, NS, "d", relabel)

        def with_stale_rv(obj: dict[str, Any]) -> dict[str, Any]:
            obj["metadata"]["resourceVersion"] = stale
            obj["spec"]["replicas"] = 3
            return obj

        with pytest.raises(errors.APIError) as err:
            await registry.patch(kind, NS, "d", with_stale_rv)
        assert err.value.code == 409 and err.value.reason == "Conflict"
        assert "the object has been modified" in err.value.message


async def test_a_resource_version_newer_than_the_cache_is_checked_on_the_stored_object() -> None:
    # The cache lags a whole second: an update naming the revision just written (read from the
    # write's answer, not the cache) is not refused because the cache has not seen it yet.
    backend = LaggingBackend(open_backend("memory:"), lag=0.0)
    async with APIServer(backend) as server:  # type: ignore[arg-type]
        registry = server.registry
        kind = server.kinds.get("apps", "v1", "deployments")
        assert kind is not None
        await registry.create(kind, NS, _deployment("d"))
        await registry.fresh()
        backend._lag = 1.0
        written = await registry.backend.update(
            "/registry/deployments/default/d",
            (await registry.backend.get("/registry/deployments/default/d")).value,  # type: ignore[union-attr]
            expected_revision=(await registry.get(kind, NS, "d")).revision,
        )
        obj = (await registry.get(kind, NS, "d")).decode()
        assert obj["metadata"]["resourceVersion"] != str(written)  # the cache is behind
        obj["metadata"]["resourceVersion"] = str(written)
        obj["spec"]["replicas"] = 4
        updated = await registry.update(kind, NS, "d", obj)
        assert updated["spec"]["replicas"] == 4
        obj["metadata"]["resourceVersion"] = str(written + 100)  # never written: 409
        with pytest.raises(errors.APIError) as err:
            await registry.update(kind, NS, "d", obj)
        assert err.value.code == 409
