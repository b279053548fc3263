"""The informer against a scripted fake client, then against the in-process API server."""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest

from kube_lite.api.errors import APIError
from kube_lite.client.client import WatchEvent
from kube_lite.client.informer import (
    BACKOFF_INITIAL,
    Informer,
    SharedInformerFactory,
    namespace_index,
    object_key,
    split_key,
)
from kube_lite.clock import VirtualClock

settle = anyio.wait_all_tasks_blocked


def pod(name: str, rv: str, namespace: str = "default", node: str | None = None, **labels: str) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "resourceVersion": rv, "labels": labels},
        "spec": {},
    }
    if node:
        obj["spec"]["nodeName"] = node
    return obj


def pod_list(rv: str, *items: dict[str, Any]) -> dict[str, Any]:
    # List items as Kubernetes sends them: without kind and apiVersion.
    bare = []
    for item in items:
        copy = dict(item)
        copy.pop("kind", None)
        copy.pop("apiVersion", None)
        bare.append(copy)
    return {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": rv}, "items": bare}


def gone() -> APIError:
    return APIError(410, "Expired", "too old resource version: 1 (5)")


class FakeWatch:
    """One watch call: the test pushes events, errors, or the end of the stream."""

    def __init__(self, kwargs: dict[str, Any]) -> None:
        self.kwargs = kwargs
        self.send, self.recv = anyio.create_memory_object_stream[object](100)

    def event(self, type_: str, obj: dict[str, Any]) -> None:
        self.send.send_nowait(WatchEvent(type_, obj))

    def fail(self, exc: Exception) -> None:
        self.send.send_nowait(exc)

    def end(self) -> None:
        self.send.close()


class FakeClient:
    """list() answers what the test pushed (waiting until it does); watch() is, like Client.watch,
    an async context manager whose value iterates the events of a new FakeWatch."""

    def __init__(self) -> None:
        self.list_calls: list[dict[str, Any]] = []
        self.watches: list[FakeWatch] = []
        # Errors the next watch calls raise on opening (a 410 as an HTTP status, not an event).
        self.open_errors: list[Exception] = []
        self._lists_send, self._lists_recv = anyio.create_memory_object_stream[object](100)

    def push_list(self, result: dict[str, Any] | Exception) -> None:
        self._lists_send.send_nowait(result)

    async def list(self, kind: Any, **kwargs: Any) -> dict[str, Any]:
        self.list_calls.append({"kind": kind, **kwargs})
        result = await self._lists_recv.receive()
        if isinstance(result, Exception):
            raise result
        assert isinstance(result, dict)
        return result

    @asynccontextmanager
    async def watch(self, kind: Any, **kwargs: Any) -> AsyncIterator[AsyncIterator[WatchEvent]]:
        watch = FakeWatch({"kind": kind, **kwargs})
        self.watches.append(watch)
        if self.open_errors:
            raise self.open_errors.pop(0)

        async def events() -> AsyncIterator[WatchEvent]:
            async for item in watch.recv:
                if isinstance(item, Exception):
                    raise item
                assert isinstance(item, WatchEvent)
                yield item

        async with watch.recv:
            yield events()


class Recorder:
    """Handlers that record what they are told, as (event, key, resourceVersion)."""

    def __init__(self, informer: Informer) -> None:
        self.events: list[tuple[str, str, str | None]] = []
        informer.add_handler(self.on_add, self.on_update, self.on_delete)

    def on_add(self, obj: dict[str, Any]) -> None:
        self.events.append(("add", object_key(obj), obj["metadata"].get("resourceVersion")))

    def on_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        assert object_key(old) == object_key(new)
        self.events.append(("update", object_key(new), new["metadata"].get("resourceVersion")))

    def on_delete(self, obj: dict[str, Any]) -> None:
        self.events.append(("delete", object_key(obj), obj["metadata"].get("resourceVersion")))

    def take(self) -> list[tuple[str, str, str | None]]:
        events, self.events = self.events, []
        return events


def make(**kwargs: Any) -> tuple[FakeClient, Informer, VirtualClock]:
    client = FakeClient()
    clock = VirtualClock()
    informer = Informer(client, "pods", clock=clock, **kwargs)  # type: ignore[arg-type]
    return client, informer, clock


# ---------------------------------------------------------------------------------- keys


def test_object_keys() -> None:
    assert object_key(pod("a", "1", namespace="ns")) == "ns/a"
    assert object_key({"metadata": {"name": "node-1"}}) == "node-1"
    assert split_key("ns/a") == ("ns", "a")
    assert split_key("node-1") == (None, "node-1")
    assert namespace_index({"metadata": {"name": "node-1"}}) == [""]


# ---------------------------------------------------------------------------------- list and watch


async def test_list_then_watch_from_the_lists_resource_version() -> None:
    client, informer, _ = make()
    seen = Recorder(informer)
    client.push_list(pod_list("5", pod("a", "1"), pod("b", "2")))
    async with anyio.create_task_group() as tg:
        tg.start_soon(informer.run)
        await informer.wait_synced()
        assert informer.has_synced
        assert seen.take() == [("add", "default/a", "1"), ("add", "default/b", "2")]
        assert sorted(informer.keys()) == ["default/a", "default/b"]
        # List items get the kind and apiVersion watch objects carry.
        a = informer.get("default/a")
        assert a is not None and a["kind"] == "Pod" and a["apiVersion"] == "v1"
        assert informer.resource_version == "5"
        await settle()
        assert len(client.watches) == 1
        assert client.watches[0].kwargs["resource_version"] == "5"
        assert client.watches[0].kwargs["allow_bookmarks"] is True

        watch = client.watches[0]
        watch.event("ADDED", pod("c", "6"))
        watch.event("MODIFIED", pod("a", "7", app="web"))
        watch.event("DELETED", pod("b", "8"))
        await settle()
        assert seen.take() == [("add", "default/c", "6"), ("update", "default/a", "7"), ("delete", "default/b", "8")]
        assert sorted(informer.keys()) == ["default/a", "default/c"]
        assert informer.get("default/a")["metadata"]["labels"] == {"app": "web"}  # type: ignore[index]
        assert informer.get("default/b") is None
        assert informer.resource_version == "8"
        tg.cancel_scope.cancel()
    assert len(client.list_calls) == 1


async def test_selection_is_passed_to_list_and_watch() -> None:
    client, informer, _ = make(namespace="team", label_selector="app=web", field_selector="spec.nodeName=n1")
    client.push_list(pod_list("1"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(informer.run)
        await settle()
        for call in (client.list_calls[0], client.watches[0].kwargs):
            assert call["namespace"] == "team"
            assert call["label_selector"] == "app=web"
            assert call["field_selector"] == "spec.nodeName=n1"
        tg.cancel_scope.cancel()


async def test_bookmarks_move_the_resource_version_and_rewatch_starts_there() -> None:
    client, informer, clock = make()
    client.push_list(pod_list("5"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(informer.run)
        await settle()
        client.watches[0].event("BOOKMARK", {"kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": "42"}})
        await settle()
        assert informer.resource_version == "42"
        assert len(informer) == 0
        # The server ends the watch (its timeout): watch again from the bookmark, no re-list.
        await clock.advance(300)
        client.watches[0].end()
        await settle()
        assert len(client.watches) == 2
        assert client.watches[1].kwargs["resource_version"] == "42"
        assert len(client.list_calls) == 1
        tg.cancel_scope.cancel()


async def test_watch_ending_at_once_without_events_backs_off_and_relists() -> None:
    client, informer, clock = make()
    client.push_list(pod_list("5"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(informer.run)
        await settle()
        client.watches[0].end()
        await settle()
        assert len(client.watches) == 1 and len(client.list_calls) == 1
        client.push_list(pod_list("6"))
        await clock.advance(BACKOFF_INITIAL)
        await settle()
        assert len(client.list_calls) == 2
        assert client.watches[-1].kwargs["resource_version"] == "6"
        tg.cancel_scope.cancel()


async def test_gone_relists_and_reports_the_differences() -> None:
    client, informer, _ = make()
    seen = Recorder(informer)
    client.push_list(pod_list("3", pod("a", "1"), pod("b", "2"), pod("c", "3")))
    async with anyio.create_task_group() as tg:
        tg.start_soon(informer.run)
        await settle()
        seen.take()
        # While the watch was away: b changed, c went, d came; a did not change.
        client.push_list(pod_list("9", pod("a", "1"), pod("b", "5"), pod("d", "6")))
        client.watches[0].fail(gone())
        await settle()
        assert seen.take() == [("update", "default/b", "5"), ("add", "default/d", "6"), ("delete", "default/c", "3")]
        assert sorted(informer.keys()) == ["default/a", "default/b", "default/d"]
        assert informer.resource_version == "9"
        # A re-list on 410 is immediate: no backoff.
        assert len(client.list_calls) == 2
        assert client.watches[-1].kwargs["resource_version"] == "9"
        tg.cancel_scope.cancel()


async def test_gone_inside_an_exception_group_is_still_gone() -> None:
    client, informer, _ = make()
    client.push_list(pod_list("3"))
    client.push_list(pod_list("4"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(informer.run)
        await settle()
        client.watches[0].fail(ExceptionGroup("from a transport's task group", [gone()]))
        await settle()
        assert len(client.list_calls) == 2
        assert client.watches[-1].kwargs["resource_version"] == "4"
        tg.cancel_scope.cancel()


async def test_repeated_gone_without_progress_backs_off() -> None:
    client, informer, clock = make()
    client.open_errors.extend([gone(), gone()])
    client.push_list(pod_list("3"))
    client.push_list(pod_list("4"))
    client.push_list(pod_list("5"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(informer.run)
        await settle()
        # The first 410 re-lists at once; the second, with nothing learnt between, waits.
        assert len(client.list_calls) == 2
        await clock.advance(BACKOFF_INITIAL)
        await settle()
        assert len(client.list_calls) == 3
        assert client.watches[-1].kwargs["resource_version"] == "5"
        tg.cancel_scope.cancel()


async def test_gone_when_opening_the_watch_relists_at_once() -> None:
    client, informer, _ = make()
    seen = Recorder(informer)
    client.open_errors.append(gone())
    client.push_list(pod_list("3", pod("a", "1")))
    client.push_list(pod_list("7", pod("a", "4")))
    async with anyio.create_task_group() as tg:
        tg.start_soon(informer.run)
        await settle()
        assert len(client.list_calls) == 2 and len(client.watches) == 2
        assert [w.kwargs["resource_version"] for w in client.watches] == ["3", "7"]
        assert seen.take() == [("add", "default/a", "1"), ("update", "default/a", "4")]
        tg.cancel_scope.cancel()


async def test_list_errors_are_retried_with_backoff() -> None:
    client, informer, clock = make()
    client.push_list(APIError(500, "InternalError", "boom"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(informer.run)
        await settle()
        assert len(client.list_calls) == 1 and not informer.has_synced
        client.push_list(APIError(503, "ServiceUnavailable", "later"))
        await clock.advance(BACKOFF_INITIAL)
        await settle()
        assert len(client.list_calls) == 2
        client.push_list(pod_list("1", pod("a", "1")))
        # The second wait is twice the first.
        await clock.advance(BACKOFF_INITIAL * 2 - 0.05)
        await settle()
        assert len(client.list_calls) == 2
        await clock.advance(0.1)
        await settle()
        assert informer.has_synced
        assert informer.keys() == ["default/a"]
        tg.cancel_scope.cancel()


async def test_watch_error_other_than_gone_backs_off_then_relists() -> None:
    client, informer, clock = make()
    seen = Recorder(informer)
    client.push_list(pod_list("1", pod("a", "1")))
    async with anyio.create_task_group() as tg:
        tg.start_soon(informer.run)
        await settle()
        client.watches[0].fail(APIError(500, "InternalError", "stream broke"))
        client.push_list(pod_list("2", pod("a", "2")))
        await settle()
        assert len(client.list_calls) == 1
        await clock.advance(BACKOFF_INITIAL)
        await settle()
        assert len(client.list_calls) == 2
        assert seen.take() == [("add", "default/a", "1"), ("update", "default/a", "2")]
        tg.cancel_scope.cancel()


async def test_wait_synced_waits_for_the_first_list() -> None:
    client, informer, _ = make()
    synced: list[bool] = []

    async def waiter() -> None:
        await informer.wait_synced()
        synced.append(True)

    async with anyio.create_task_group() as tg:
        tg.start_soon(informer.run)
        tg.start_soon(waiter)
        await settle()
        assert synced == [] and not informer.has_synced
        client.push_list(pod_list("1"))
        await settle()
        assert synced == [True]
        await informer.wait_synced()  # at once, now
        tg.cancel_scope.cancel()


async def test_duplicate_and_unknown_events_are_harmless() -> None:
    client, informer, _ = make()
    seen = Recorder(informer)
    client.push_list(pod_list("1", pod("a", "1")))
    async with anyio.create_task_group() as tg:
        tg.start_soon(informer.run)
        await settle()
        seen.take()
        watch = client.watches[0]
        watch.event("ADDED", pod("a", "1"))  # the version already cached
        watch.event("DELETED", pod("ghost", "2"))  # never cached
        watch.event("MODIFIED", pod("new", "3"))  # unknown so far: an add
        await settle()
        assert seen.take() == [("add", "default/new", "3")]
        assert informer.resource_version == "3"
        tg.cancel_scope.cancel()


# ---------------------------------------------------------------------------------- indexes


async def test_indexes_follow_adds_updates_and_deletes() -> None:
    client, informer, _ = make()
    informer.add_indexer("node", lambda obj: [n] if (n := obj["spec"].get("nodeName")) else [])
    client.push_list(pod_list("3", pod("a", "1", node="n1"), pod("b", "2", node="n1"), pod("c", "3", namespace="kube-system")))
    async with anyio.create_task_group() as tg:
        tg.start_soon(informer.run)
        await settle()
        assert informer.index_keys("node", "n1") == ["default/a", "default/b"]
        assert [object_key(o) for o in informer.by_index("namespace", "default")] == ["default/a", "default/b"]
        assert informer.index_keys("namespace", "kube-system") == ["kube-system/c"]
        watch = client.watches[0]
        watch.event("MODIFIED", pod("b", "4", node="n2"))
        watch.event("DELETED", pod("a", "5", node="n1"))
        await settle()
        assert informer.index_keys("node", "n1") == []
        assert informer.index_keys("node", "n2") == ["default/b"]
        assert informer.index_keys("namespace", "default") == ["default/b"]
        # An indexer added later indexes what is already cached.
        informer.add_indexer("label-app", lambda obj: [obj["metadata"]["labels"].get("app", "none")])
        assert informer.index_keys("label-app", "none") == ["default/b", "kube-system/c"]
        tg.cancel_scope.cancel()
    with pytest.raises(ValueError):
        informer.add_indexer("node", lambda obj: [])
    with pytest.raises(KeyError):
        informer.by_index("nope", "x")


def test_the_same_indexer_twice_is_one_indexer() -> None:
    _, informer, _ = make()

    def by_node(obj: dict[str, Any]) -> list[str]:
        return [obj["spec"].get("nodeName") or ""]

    informer.add_indexer("node", by_node)
    informer.add_indexer("node", by_node)  # a second component sharing the informer
    with pytest.raises(ValueError):
        informer.add_indexer("node", lambda obj: [])


# ---------------------------------------------------------------------------------- handlers


async def test_a_removed_handler_is_told_nothing_more() -> None:
    client, informer, _ = make()
    kept, removed = Recorder(informer), Recorder(informer)
    client.push_list(pod_list("1", pod("a", "1")))
    async with anyio.create_task_group() as tg:
        tg.start_soon(informer.run)
        await settle()
        assert informer.handler_count == 2
        informer.remove_handler(informer._handlers[1])  # noqa: SLF001 - the Recorder keeps no handle
        client.watches[0].event("ADDED", pod("b", "2"))
        await settle()
        assert kept.take() == [("add", "default/a", "1"), ("add", "default/b", "2")]
        assert removed.take() == [("add", "default/a", "1")]
        assert informer.handler_count == 1
        tg.cancel_scope.cancel()


async def test_late_handler_is_told_of_cached_objects() -> None:
    client, informer, _ = make()
    client.push_list(pod_list("2", pod("a", "1"), pod("b", "2")))
    async with anyio.create_task_group() as tg:
        tg.start_soon(informer.run)
        await informer.wait_synced()
        late = Recorder(informer)
        assert late.take() == [("add", "default/a", "1"), ("add", "default/b", "2")]
        await settle()
        client.watches[0].event("ADDED", pod("c", "3"))
        await settle()
        assert late.take() == [("add", "default/c", "3")]
        tg.cancel_scope.cancel()


async def test_failing_handler_does_not_stop_the_others_or_the_informer() -> None:
    client, informer, _ = make()

    def broken(obj: dict[str, Any]) -> None:
        raise RuntimeError("handler bug")

    informer.add_handler(on_add=broken)
    seen = Recorder(informer)
    client.push_list(pod_list("1", pod("a", "1")))
    async with anyio.create_task_group() as tg:
        tg.start_soon(informer.run)
        await settle()
        client.watches[0].event("ADDED", pod("b", "2"))
        await settle()
        assert seen.take() == [("add", "default/a", "1"), ("add", "default/b", "2")]
        assert len(client.list_calls) == 1
        tg.cancel_scope.cancel()


async def test_handlers_see_the_updated_cache() -> None:
    client, informer, _ = make()
    observed: list[bool] = []
    informer.add_handler(
        on_add=lambda obj: observed.append(informer.get(object_key(obj)) is obj),
        on_delete=lambda obj: observed.append(informer.get(object_key(obj)) is None),
    )
    client.push_list(pod_list("1"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(informer.run)
        await settle()
        client.watches[0].event("ADDED", pod("a", "2"))
        client.watches[0].event("DELETED", pod("a", "3"))
        await settle()
        tg.cancel_scope.cancel()
    assert observed == [True, True]


# ---------------------------------------------------------------------------------- the real server


def _server_importable() -> bool:
    try:
        import kube_lite.server.apiserver  # noqa: F401
    except ImportError:
        return False
    return importlib.util.find_spec("kube_lite.backends.memory") is not None


needs_memory_backend = pytest.mark.skipif(not _server_importable(), reason="in-process API server not available yet")


def container_pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]},
    }


@needs_memory_backend
async def test_informer_follows_the_in_process_api_server() -> None:
    from kube_lite.server.apiserver import APIServer

    clock = VirtualClock()
    events: list[tuple[str, str]] = []
    changed = anyio.Event()

    def record(kind: str) -> Any:
        def handler(*objs: dict[str, Any]) -> None:
            nonlocal changed
            events.append((kind, object_key(objs[-1])))
            changed.set()
            changed = anyio.Event()

        return handler

    async def next_event() -> tuple[str, str]:
        count = len(events)
        # A guard, not a sleep: the in-process server answers without real time passing.
        with anyio.fail_after(10):
            while len(events) == count:
                await changed.wait()
        return events[count]

    async with APIServer("memory:", clock=clock) as server:
        client = server.client()
        opened: list[str | None] = []
        real_watch = client.watch

        def counting_watch(*args: Any, **kwargs: Any) -> Any:
            opened.append(kwargs.get("resource_version"))
            return real_watch(*args, **kwargs)

        client.watch = counting_watch  # type: ignore[method-assign]
        await client.create("pods", container_pod("before"))
        informer = Informer(client, "pods", namespace="default", clock=clock, watch_timeout_seconds=60)
        informer.add_handler(record("add"), record("update"), record("delete"))
        async with anyio.create_task_group() as tg:
            tg.start_soon(informer.run)
            with anyio.fail_after(10):
                await informer.wait_synced()
            assert events == [("add", "default/before")]
            assert informer.get("default/before")["kind"] == "Pod"  # type: ignore[index]
            listed_rv = informer.resource_version
            assert listed_rv is not None

            await client.create("pods", container_pod("web-0"))
            assert await next_event() == ("add", "default/web-0")
            await client.patch("pods", "web-0", {"metadata": {"labels": {"tier": "front"}}})
            assert await next_event() == ("update", "default/web-0")
            cached = informer.get("default/web-0")
            assert cached is not None and cached["metadata"]["labels"] == {"app": "web", "tier": "front"}
            assert int(informer.resource_version or 0) > int(listed_rv)
            assert informer.index_keys("namespace", "default") == ["default/before", "default/web-0"]

            # The server ends the watch at its timeout; the informer watches again from where
            # it was and misses nothing.
            assert opened == [listed_rv]
            seen_rv = informer.resource_version
            await clock.advance(61)
            await settle()
            assert len(opened) == 2 and int(opened[1] or 0) >= int(seen_rv or 0)
            await client.delete("pods", "web-0", grace_period_seconds=0)
            assert await next_event() == ("delete", "default/web-0")
            assert informer.get("default/web-0") is None
            await client.create("pods", container_pod("web-1"))
            assert await next_event() == ("add", "default/web-1")
            assert sorted(informer.keys()) == ["default/before", "default/web-1"]
            tg.cancel_scope.cancel()


@needs_memory_backend
async def test_informer_relists_when_the_server_says_gone() -> None:
    """A selective informer sees none of many other writes, so its resourceVersion falls out
    of the server's (deliberately small) event window; when its watch times out, re-watching
    from there is 410 Gone, and the informer lists again and carries on."""
    from kube_lite.server.apiserver import APIServer

    clock = VirtualClock()
    async with APIServer("memory:", clock=clock) as server:
        # Test configuration: a tiny watch window so a few writes compact it. Set before any
        # pod exists, when the pods cache is made.
        server.cache.capacity = 4
        client = server.client()
        lists: list[str | None] = []
        real_list = client.list

        async def counting_list(*args: Any, **kwargs: Any) -> dict[str, Any]:
            result = await real_list(*args, **kwargs)
            lists.append(result["metadata"]["resourceVersion"])
            return result

        client.list = counting_list  # type: ignore[method-assign]
        await client.create("pods", container_pod("web-0"))
        informer = Informer(client, "pods", label_selector="app=web", clock=clock, watch_timeout_seconds=30)
        seen = Recorder(informer)
        async with anyio.create_task_group() as tg:
            tg.start_soon(informer.run)
            with anyio.fail_after(10):
                await informer.wait_synced()
            first_rv = informer.resource_version
            for i in range(8):
                other = container_pod(f"other-{i}")
                other["metadata"]["labels"] = {"app": "other"}
                await client.create("pods", other)
            await settle()
            assert informer.resource_version == first_rv
            await clock.advance(31)
            await settle()
            assert len(lists) == 2 and int(lists[1] or 0) > int(first_rv or 0)
            assert informer.resource_version == lists[1]
            await client.create("pods", container_pod("web-1"))
            await settle()
            assert seen.take() == [("add", "default/web-0", first_rv), ("add", "default/web-1", informer.resource_version)]
            tg.cancel_scope.cancel()


# ---------------------------------------------------------------------------------- the factory


async def test_the_factory_shares_one_informer_per_kind_and_selection() -> None:
    client = FakeClient()
    factory = SharedInformerFactory(client, clock=VirtualClock())  # type: ignore[arg-type]
    pods = factory.informer("pods")
    assert factory.informer("pods") is pods
    assert factory.informer("pods", namespace="kube-system") is not pods
    assert factory.informer("nodes") is not pods
    assert len(factory.informers) == 3
    # The fake client resolves no kind names: the name as given is the kind.
    first, second = Recorder(pods), Recorder(pods)
    for _ in range(3):
        client.push_list(pod_list("1", pod("a", "1")))
    async with anyio.create_task_group() as tg:
        await tg.start(factory.run)
        assert factory.running
        await factory.wait_synced()
        await settle()
        # One list and one watch per informer, however many handlers.
        assert sorted((c["kind"], c.get("namespace") or "") for c in client.list_calls) == [
            ("nodes", ""), ("pods", ""), ("pods", "kube-system"),
        ]
        assert first.take() == second.take() == [("add", "default/a", "1")]
        # An informer asked for while the factory runs is started at once.
        client.push_list(pod_list("2", pod("b", "2")))
        late = factory.informer("pods", label_selector="app=web")
        await late.wait_synced()
        assert late.keys() == ["default/b"]
        # A stopped informer is forgotten: its next request makes a new one.
        factory.stop(late)
        await settle()
        assert factory.informer("pods", label_selector="app=web") is not late
        tg.cancel_scope.cancel()
    assert not factory.running


async def test_the_factory_resolves_kind_names_through_the_client() -> None:
    from kube_lite.server.apiserver import APIServer

    clock = VirtualClock()
    async with APIServer("memory:", clock=clock) as server:
        factory = SharedInformerFactory(server.client(), clock=clock)
        pods = factory.informer("pods")
        assert factory.informer("po") is pods
        assert factory.informer(server.client().kind("pods")) is pods
        assert factory.informer("deployments") is factory.informer("deployments.apps")
