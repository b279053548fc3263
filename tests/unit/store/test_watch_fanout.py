"""The watch cache's per-watcher buffer, the memory backend's read-your-writes hand-off and the
remembered answers of validation: fast paths that must answer exactly as the slow ones."""

from __future__ import annotations

import msgspec

from kube_lite.api.core import Pod
from kube_lite.api.validation import _VALID_POD_SPECS, validate_object
from kube_lite.store.backend import Event, EventType, KeyValue
from kube_lite.store.cache import ResourceCache
from kube_lite.store.registry import new_uid, rfc3339


def _event(rev: int, name: str = "a") -> Event:
    value = msgspec.json.encode({"metadata": {"name": name, "namespace": "ns"}})
    return Event(EventType.PUT, KeyValue(f"/registry/pods/ns/{name}", value, rev, rev), None)


async def test_watcher_batches_drain_after_close_and_overflow_closes() -> None:
    cache = ResourceCache("pods", 0, 100)
    watcher = cache.watch("ns", buffer=3)
    for rev in (1, 2, 3):
        cache.apply(_event(rev, f"p{rev}"))
    assert not watcher.closed
    cache.apply(_event(4, "p4"))  # a fourth does not fit: the watcher is closed, as too slow
    assert watcher.overflowed and watcher.closed
    assert [e.revision for _, e in await watcher.next_batch(2)] == [1, 2]
    assert [e.revision for _, e in await watcher.next_batch()] == [3]
    assert await watcher.next_batch() == []
    cache.apply(_event(5, "p5"))  # closed watchers are no longer offered anything
    assert await watcher.next_batch() == []


async def test_watcher_iteration_yields_in_order_and_bookmarks() -> None:
    cache = ResourceCache("pods", 0, 100)
    watcher = cache.watch("ns")
    other = cache.watch("elsewhere")
    cache.apply(_event(1, "a"))
    cache.bookmark(1)
    cache.apply(_event(2, "a"))
    watcher.close()
    seen = [(kind, event.revision if event else None) async for kind, event in watcher]
    assert seen == [("ADDED", 1), ("BOOKMARK", None), ("MODIFIED", 2)]
    assert [kind for kind, _ in await _drain(other)] == ["BOOKMARK"]


async def _drain(watcher):  # noqa: ANN001, ANN202
    watcher.close()
    return await watcher.next_batch()


def test_pod_spec_validation_remembers_only_valid_specs() -> None:
    good = {"metadata": {"name": "a", "namespace": "ns"}, "spec": {
        "containers": [{"name": "c", "image": "i", "imagePullPolicy": "Always", "terminationMessagePolicy": "File"}],
        "restartPolicy": "Always", "dnsPolicy": "ClusterFirst", "terminationGracePeriodSeconds": 30}}
    bad = msgspec.json.decode(msgspec.json.encode(good))
    bad["spec"]["containers"][0]["name"] = "Not_A_Label"
    _VALID_POD_SPECS.clear()
    for _ in range(2):
        assert validate_object(msgspec.convert(good, Pod), None) == []
        errors = validate_object(msgspec.convert(bad, Pod), None)
        assert [e.field for e in errors] == ["spec.containers[0].name"]
    assert len(_VALID_POD_SPECS) == 1


async def test_uids_and_timestamps() -> None:
    import uuid

    from kube_lite.clock import VirtualClock

    uids = {new_uid() for _ in range(2000)}
    assert len(uids) == 2000
    assert all(uuid.UUID(u).version == 4 and str(uuid.UUID(u)) == u for u in uids)
    clock = VirtualClock()
    first = rfc3339(clock)
    assert first == clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    await clock.advance(1.5)
    assert rfc3339(clock) == clock.now().strftime("%Y-%m-%dT%H:%M:%SZ") != first


async def test_memory_backend_write_is_in_the_watch_cache_when_it_returns() -> None:
    from kube_lite.server.apiserver import APIServer

    async with APIServer("memory:") as server:
        client = server.client()
        for i in range(5):
            created = await client.create("configmaps", {"metadata": {"name": f"c{i}"}, "data": {"k": "v"}})
            assert server.cache.revision >= int(created["metadata"]["resourceVersion"])
