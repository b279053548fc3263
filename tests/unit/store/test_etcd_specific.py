"""What the etcd backend does beyond the shared conformance suite: URLs, key prefixes sharing one
etcd, etcd's global revisions, compaction done by someone else, best-effort restore, and a
server that goes away. Runs against a real etcd (the ``etcd_url`` fixture) or is skipped."""

from __future__ import annotations

import anyio
import pytest
from kube_lite.backends.etcd import EtcdBackend, _grpc_target, _prefix_end, parse_etcd_url

from kube_lite.store.backend import (
    BackendUnavailableError,
    CompactedError,
    EventType,
    FutureRevisionError,
    KeyExistsError,
    KeyNotFoundError,
    RevisionMismatchError,
    decode_snapshot,
    open_backend,
)
from tests.support.etcd import EtcdServer, EtcdUnavailable, _free_port

# --- URLs (no etcd needed)


@pytest.mark.parametrize(
    ("url", "endpoints", "prefix"),
    [
        ("etcd://127.0.0.1:2379", [("127.0.0.1", 2379)], ""),
        ("etcd://127.0.0.1", [("127.0.0.1", 2379)], ""),
        ("etcd://localhost:23790/", [("localhost", 23790)], ""),
        ("etcd://10.0.0.1:1,10.0.0.2:2/kl/a/", [("10.0.0.1", 1), ("10.0.0.2", 2)], "/kl/a"),
        ("etcd://[::1]:2379,[::2]/p", [("::1", 2379), ("::2", 2379)], "/p"),
    ],
)
def test_parse_url(url: str, endpoints: list[tuple[str, int]], prefix: str) -> None:
    assert parse_etcd_url(url) == (endpoints, prefix)


@pytest.mark.parametrize(
    "url",
    ["memory:", "etcd:127.0.0.1:2379", "etcd://", "etcd://a:b", "etcd://a:99999", "etcd://a:1,,b:2",
     "etcd://[::1:2379", "etcd://h:1/p?x=1"],
)
def test_parse_url_rejects(url: str) -> None:
    with pytest.raises(ValueError):
        parse_etcd_url(url)


def test_grpc_target() -> None:
    assert _grpc_target([("example.com", 1)]) == "example.com:1"
    assert _grpc_target([("::1", 1)]) == "[::1]:1"
    assert _grpc_target([("10.0.0.1", 1), ("10.0.0.2", 2)]) == "ipv4:10.0.0.1:1,10.0.0.2:2"
    assert _grpc_target([("::1", 1), ("::2", 2)]) == "ipv6:[::1]:1,[::2]:2"
    with pytest.raises(ValueError):
        _grpc_target([("a.example", 1), ("b.example", 2)])


def test_prefix_end() -> None:
    assert _prefix_end(b"/a") == b"/b"
    assert _prefix_end(b"a\xff") == b"b"
    assert _prefix_end(b"") == b"\x00"
    assert _prefix_end(b"\xff\xff") == b"\x00"


def test_open_backend_by_entry_point() -> None:
    backend = open_backend("etcd://127.0.0.1:2379/kl", timeout=3.0)
    assert isinstance(backend, EtcdBackend)
    assert backend.prefix == "/kl" and backend.timeout == 3.0
    assert EtcdBackend.restores_revisions is False


# --- against a real etcd


async def test_prefixes_are_isolated_but_revisions_are_shared(etcd_url: str) -> None:
    other_url = etcd_url + "-other"
    async with open_backend(etcd_url) as a, open_backend(other_url) as b:
        assert await a.current_revision() >= 1  # etcd starts at 1, and other tests wrote before
        ra = await a.create("/registry/pods/ns/x", b"a")
        rb = await b.create("/registry/pods/ns/x", b"b")
        assert rb == ra + 1
        assert await a.current_revision() == await b.current_revision() == rb
        assert (await a.get("/registry/pods/ns/x")).value == b"a"  # type: ignore[union-attr]
        listed = await b.range("/registry/")
        assert [kv.key for kv in listed.kvs] == ["/registry/pods/ns/x"]
        assert listed.kvs[0].value == b"b"
        # "/kl-x-other" starts with "/kl-x": the whole-key-space range of "a" must not see b's keys.
        everything = await a.range("")
        assert [(kv.key, kv.value) for kv in everything.kvs] == [("/registry/pods/ns/x", b"a")]


async def test_cas_errors_carry_the_current_value(etcd_url: str) -> None:
    async with open_backend(etcd_url) as store:
        rev = await store.create("/k", b"1")
        with pytest.raises(KeyExistsError):
            await store.create("/k", b"x")
        rev2 = await store.update("/k", b"2", expected_revision=rev)
        with pytest.raises(RevisionMismatchError) as info:
            await store.update("/k", b"3", expected_revision=rev)
        assert info.value.current.mod_revision == rev2 and info.value.current.value == b"2"
        assert info.value.current.version == 2 and info.value.current.create_revision == rev
        with pytest.raises(RevisionMismatchError):
            await store.delete("/k", expected_revision=rev)
        with pytest.raises(KeyNotFoundError):
            await store.update("/missing", b"", expected_revision=0)
        with pytest.raises(KeyNotFoundError):
            await store.delete("/missing", expected_revision=5)
        drev, deleted = await store.delete("/k", expected_revision=rev2)
        assert drev == rev2 + 1 and deleted.value == b"2"


async def test_range_pages_at_one_revision(etcd_url: str) -> None:
    async with open_backend(etcd_url) as store:
        for i in range(5):
            await store.create(f"/registry/pods/ns/p{i}", str(i).encode())
        first = await store.range("/registry/pods/", limit=2)
        assert first.more and first.count == 5 and len(first.kvs) == 2
        await store.create("/registry/pods/ns/p9", b"late")
        second = await store.range(
            "/registry/pods/", start=first.kvs[-1].key + "\x00", limit=10, revision=first.revision
        )
        assert [kv.key for kv in second.kvs] == [f"/registry/pods/ns/p{i}" for i in (2, 3, 4)]
        assert not second.more and second.count == 3 and second.revision == first.revision
        past = await store.range("/registry/pods/", start="/registry/pods0")
        assert past.kvs == [] and past.count == 0
        with pytest.raises(FutureRevisionError):
            await store.range("/registry/", revision=first.revision + 1000)
        with pytest.raises(FutureRevisionError):
            await store.range("/registry/pods/", start="/zzz", revision=first.revision + 1000)


async def test_compaction_by_another_client_is_found(etcd_url: str) -> None:
    async with open_backend(etcd_url) as store, open_backend(etcd_url) as other:
        r1 = await store.create("/a", b"1")
        r2 = await store.update("/a", b"2", expected_revision=r1)
        await store.update("/a", b"3", expected_revision=r2)
        await other.compact(r2)
        assert await store.compact_revision() == r2  # found by search, not remembered
        await other.compact(r1)  # older: no-op
        assert await other.compact_revision() == r2
        with pytest.raises(CompactedError) as info:
            await store.get("/a", revision=r1)
        assert info.value.requested == r1 and info.value.compact_revision == r2
        assert (await store.get("/a", revision=r2)).value == b"2"  # type: ignore[union-attr]
        with pytest.raises(CompactedError) as winfo:
            async for _ in store.watch("/", from_revision=r1):
                pass
        assert winfo.value.compact_revision == r2
        with pytest.raises(FutureRevisionError):
            await store.compact(r2 + 1000)


async def test_watch_events_carry_prev_kv(etcd_url: str) -> None:
    async with open_backend(etcd_url) as store:
        start = await store.current_revision() + 1
        r1 = await store.create("/registry/pods/ns/w", b"1")
        await store.update("/registry/pods/ns/w", b"2", expected_revision=r1)
        await store.delete("/registry/pods/ns/w")
        await store.create("/registry/other", b"x")
        events = []
        with anyio.fail_after(10):
            async for event in store.watch("/registry/pods/", from_revision=start):
                events.append(event)
                if len(events) == 3:
                    break
        assert [e.type for e in events] == [EventType.PUT, EventType.PUT, EventType.DELETE]
        assert events[0].is_create and events[0].prev_kv is None
        assert events[1].prev_kv is not None and events[1].prev_kv.value == b"1"
        assert events[2].kv.value == b"" and events[2].prev_kv.value == b"2"  # type: ignore[union-attr]
        assert events[2].kv.key == "/registry/pods/ns/w"
        assert [e.revision for e in events] == [r1, r1 + 1, r1 + 2]


async def test_snapshot_and_best_effort_restore(etcd_url: str) -> None:
    async with open_backend(etcd_url, page_size=2) as store:
        for i in range(5):
            await store.create(f"/k{i}", bytes([i]) * 10)
        snap = await store.snapshot()
        rev, kvs = decode_snapshot(snap)
        assert rev == await store.current_revision()
        assert [kv.key for kv in kvs] == [f"/k{i}" for i in range(5)]
        await store.create("/extra", b"")
        await store.delete("/k0")
        await store.restore(snap)
        after = await store.range("")
        assert [(kv.key, kv.value) for kv in after.kvs] == [(kv.key, kv.value) for kv in kvs]
        # etcd assigns revisions itself: the restored keys are newer than the snapshot.
        assert all(kv.mod_revision > rev for kv in after.kvs)
        with pytest.raises(ValueError):
            await store.restore(b"not a snapshot")


async def test_unreachable_etcd_is_unavailable() -> None:
    backend = open_backend(f"etcd://127.0.0.1:{_free_port()}", connect_timeout=2.0)
    with pytest.raises(BackendUnavailableError):
        async with backend:
            pass


async def test_server_going_away_is_unavailable() -> None:
    server = EtcdServer(data_parent="/dev/shm")
    try:
        server.start()
    except EtcdUnavailable as exc:
        pytest.skip(f"etcd unavailable: {exc}")
    with server:
        async with open_backend(server.url_with_prefix("gone"), timeout=2.0) as store:
            await store.create("/a", b"1")
            seen, ended = anyio.Event(), anyio.Event()
            errors: list[BaseException] = []

            async def watcher() -> None:
                try:
                    async for _ in store.watch("/", from_revision=1):
                        seen.set()
                except Exception as exc:
                    errors.append(exc)
                finally:
                    ended.set()

            async with anyio.create_task_group() as tg:
                tg.start_soon(watcher)
                with anyio.fail_after(10):
                    await seen.wait()
                await anyio.to_thread.run_sync(server.stop)
                with pytest.raises(BackendUnavailableError):
                    await store.create("/b", b"2")
                with anyio.fail_after(10):
                    await ended.wait()
            assert isinstance(errors[0], BackendUnavailableError)


async def test_watch_from_zero_starts_when_watch_is_called(etcd_url: str) -> None:
    async with open_backend(etcd_url) as store:
        await store.create("/registry/x/before", b"")
        stream = store.watch("/registry/x/")
        rev = await store.create("/registry/x/after", b"")
        with anyio.fail_after(10):
            async for event in stream:
                assert event.kv.key == "/registry/x/after" and event.revision == rev
                break
