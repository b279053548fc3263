"""DaemonSets' template generation, as Kubernetes' daemonSetStrategy keeps it
(pkg/registry/apps/daemonset/strategy.go) and apps/v1 shows it (pkg/apis/apps/v1 conversion:
the annotation deprecated.daemonset.template.generation, written on every object served, read
back on decode, a value that is not an int64 refused by the decoder)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from kube_lite.api import errors
from kube_lite.api.registry import KindInfo
from kube_lite.server.apiserver import APIServer
from kube_lite.store.registry import Registry
from kube_lite.store.strategy import TEMPLATE_GENERATION_ANNOTATION as TG

NS = "default"


def daemonset(name: str = "ds", annotations: dict[str, str] | None = None, image: str = "nginx") -> dict[str, Any]:
    labels = {"app": name}
    meta: dict[str, Any] = {"name": name}
    if annotations is not None:
        meta["annotations"] = annotations
    return {
        "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta,
        "spec": {"selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": image}]}}},
    }


def generation_of(obj: dict[str, Any]) -> str | None:
    return (obj["metadata"].get("annotations") or {}).get(TG)


@asynccontextmanager
async def daemonsets() -> AsyncIterator[tuple[Registry, KindInfo]]:
    """The registry of an in-process API server and the DaemonSet kind (a context manager, not
    a fixture: the server's task group must be left in the task that entered it)."""
    async with APIServer("memory:") as server:
        kind = server.kinds.get("apps", "v1", "daemonsets")
        assert kind is not None
        yield server.registry, kind


async def test_create_starts_at_one_or_keeps_a_higher_requested_value() -> None:
    async with daemonsets() as (registry, kind):
        await _test_create_starts_at_one_or_keeps_a_higher_requested_value(registry, kind)


async def _test_create_starts_at_one_or_keeps_a_higher_requested_value(registry: Registry, kind: KindInfo) -> None:
    assert generation_of(await registry.create(kind, NS, daemonset("a"))) == "1"
    assert generation_of(await registry.create(kind, NS, daemonset("b", {TG: "5", "x": "y"}))) == "5"
    for name, value in (("c", "0"), ("d", "-3")):
        assert generation_of(await registry.create(kind, NS, daemonset(name, {TG: value}))) == "1"
    stored = (await registry.get(kind, NS, "b")).obj
    assert stored["metadata"]["annotations"] == {TG: "5", "x": "y"}


@pytest.mark.parametrize(("value", "why"), [("abc", "invalid syntax"), ("", "invalid syntax"), ("1.5", "invalid syntax"),
                                            ("99999999999999999999", "value out of range")])
async def test_a_value_that_is_not_an_int64_is_refused(value: str, why: str) -> None:
    async with daemonsets() as (registry, kind):
        await _test_a_value_that_is_not_an_int64_is_refused(registry, kind, value, why)


async def _test_a_value_that_is_not_an_int64_is_refused(registry: Registry, kind: KindInfo, value: str, why: str) -> None:
    with pytest.raises(errors.APIError) as err:
        await registry.create(kind, NS, daemonset("a", {TG: value}))
    assert err.value.code == 400
    assert err.value.message == (
        f'DaemonSet in version "v1" cannot be handled as a DaemonSet: strconv.ParseInt: parsing "{value}": {why}'
    )
    await registry.create(kind, NS, daemonset("a"))
    with pytest.raises(errors.APIError) as err:
        await registry.update(kind, NS, "a", daemonset("a", {TG: value}))
    assert err.value.code == 400


async def test_only_a_template_change_moves_it_on() -> None:
    async with daemonsets() as (registry, kind):
        await _test_only_a_template_change_moves_it_on(registry, kind)


async def _test_only_a_template_change_moves_it_on(registry: Registry, kind: KindInfo) -> None:
    created = await registry.create(kind, NS, daemonset())
    assert created["metadata"]["generation"] == 1

    # The same manifest again (without the defaults the server wrote): nothing changes.
    same = await registry.update(kind, NS, "ds", daemonset())
    assert generation_of(same) == "1" and same["metadata"]["generation"] == 1
    assert same["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]

    # Another part of the spec: generation moves, template generation does not.
    def min_ready(obj: dict[str, Any]) -> dict[str, Any]:
        obj["spec"]["minReadySeconds"] = 5
        return obj

    patched = await registry.patch(kind, NS, "ds", min_ready)
    assert generation_of(patched) == "1" and patched["metadata"]["generation"] == 2

    # The template: both move.
    def new_image(obj: dict[str, Any]) -> dict[str, Any]:
        obj["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
        return obj

    patched = await registry.patch(kind, NS, "ds", new_image)
    assert generation_of(patched) == "2" and patched["metadata"]["generation"] == 3
    assert generation_of((await registry.get(kind, NS, "ds")).obj) == "2"


async def test_a_client_cannot_set_it_on_update() -> None:
    async with daemonsets() as (registry, kind):
        await _test_a_client_cannot_set_it_on_update(registry, kind)


async def _test_a_client_cannot_set_it_on_update(registry: Registry, kind: KindInfo) -> None:
    await registry.create(kind, NS, daemonset())

    def set_to(value: str | None) -> Any:
        def apply(obj: dict[str, Any]) -> dict[str, Any]:
            annotations = obj["metadata"].setdefault("annotations", {})
            if value is None:
                annotations.pop(TG, None)
            else:
                annotations[TG] = value
            return obj
        return apply

    assert generation_of(await registry.patch(kind, NS, "ds", set_to("9"))) == "1"
    assert generation_of(await registry.patch(kind, NS, "ds", set_to(None))) == "1"  # removed: comes back
    current = (await registry.get(kind, NS, "ds")).decode()
    changed = copy.deepcopy(current)
    changed["metadata"]["annotations"][TG] = "7"
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:3"
    assert generation_of(await registry.update(kind, NS, "ds", changed)) == "2"  # old + 1, not 7 + 1


async def test_the_status_subresource_keeps_it() -> None:
    async with daemonsets() as (registry, kind):
        await _test_the_status_subresource_keeps_it(registry, kind)


async def _test_the_status_subresource_keeps_it(registry: Registry, kind: KindInfo) -> None:
    await registry.create(kind, NS, daemonset())

    def status(obj: dict[str, Any]) -> dict[str, Any]:
        obj["status"] = {"currentNumberScheduled": 1, "desiredNumberScheduled": 1, "numberMisscheduled": 0, "numberReady": 0}
        obj["metadata"]["annotations"][TG] = "4"
        obj["spec"]["template"]["spec"]["containers"][0]["image"] = "ignored"
        return obj

    updated = await registry.patch(kind, NS, "ds", status, subresource="status")
    assert updated["status"]["currentNumberScheduled"] == 1
    assert generation_of(updated) == "1"
    assert updated["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx"
