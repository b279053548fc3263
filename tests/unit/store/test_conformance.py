"""The Backend conformance suite: what every backend (memory, SQLite, etcd, Raft) guarantees.

Each test runs once per backend through the ``backend`` fixture (tests/unit/store/conftest.py).
Revisions are checked relative to the revision a test starts at, because etcd's revisions are
global to its server (shared with other tests' prefixes) and start at 1, not 0.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

import anyio
import pytest

from kube_lite.store.backend import (
    Backend,
    CompactedError,
    Event,
    EventType,
    FutureRevisionError,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    RevisionMismatchError,
    decode_snapshot,
)
from tests.unit.store.conftest import BackendFactory

P = "/registry/pods/"


async def take(watch: AsyncIterator[Event], n: int, within: float = 10.0) -> list[Event]:
    """The next `n` events of `watch` (fails after `within` seconds)."""
    events: list[Event] = []
    with anyio.fail_after(within):
        while len(events) < n:
            events.append(await anext(watch))
    return events


async def nothing_more(watch: AsyncIterator[Event], wait: float = 0.1) -> None:
    """Assert that `watch` delivers nothing else within `wait` seconds."""
    with anyio.move_on_after(wait):
        extra = await anext(watch)
        pytest.fail(f"unexpected extra event {extra}")


def pairs(kvs: list[KeyValue]) -> list[tuple[str, bytes]]:
    return [(kv.key, kv.value) for kv in kvs]


# --- writes, revisions, compare-and-swap


async def test_every_write_advances_the_revision_by_one(backend: BackendFactory) -> None:
    async with backend.open() as b:
        r0 = await b.current_revision()
        assert await b.create(P + "a", b"1") == r0 + 1
        assert await b.update(P + "a", b"2", expected_revision=r0 + 1) == r0 + 2
        assert await b.create(P + "b", b"3") == r0 + 3
        rev, old = await b.delete(P + "a", expected_revision=r0 + 2)
        assert rev == r0 + 4
        assert old == KeyValue(P + "a", b"2", r0 + 1, r0 + 2, 2)
        assert await b.current_revision() == r0 + 4
        # Failed writes change nothing.
        with pytest.raises(KeyExistsError):
            await b.create(P + "b", b"x")
        with pytest.raises(KeyNotFoundError):
            await b.update(P + "a", b"x", expected_revision=0)
        assert await b.current_revision() == r0 + 4


async def test_keyvalue_tracks_create_mod_and_version(backend: BackendFactory) -> None:
    async with backend.open() as b:
        r1 = await b.create(P + "k", b"v1")
        assert await b.get(P + "k") == KeyValue(P + "k", b"v1", r1, r1, 1)
        r2 = await b.update(P + "k", b"v2", expected_revision=r1)
        r3 = await b.update(P + "k", b"v3", expected_revision=0)  # 0: unconditional
        assert await b.get(P + "k") == KeyValue(P + "k", b"v3", r1, r3, 3)
        assert r3 == r2 + 1
        await b.delete(P + "k")
        assert await b.get(P + "k") is None
        # A key created again starts a new life: new create_revision, version 1.
        r5 = await b.create(P + "k", b"again")
        assert await b.get(P + "k") == KeyValue(P + "k", b"again", r5, r5, 1)


async def test_compare_and_swap_errors(backend: BackendFactory) -> None:
    async with backend.open() as b:
        r1 = await b.create(P + "k", b"v1")
        r2 = await b.update(P + "k", b"v2", expected_revision=r1)
        with pytest.raises(KeyExistsError) as exists:
            await b.create(P + "k", b"other")
        assert exists.value.key == P + "k"
        with pytest.raises(RevisionMismatchError) as stale:
            await b.update(P + "k", b"v3", expected_revision=r1)
        # The error carries the current value, so that a caller can retry without a read.
        assert stale.value.expected == r1
        assert stale.value.current == KeyValue(P + "k", b"v2", r1, r2, 2)
        with pytest.raises(RevisionMismatchError) as stale_delete:
            await b.delete(P + "k", expected_revision=r1)
        assert stale_delete.value.current.mod_revision == r2
        with pytest.raises(KeyNotFoundError) as missing:
            await b.update(P + "missing", b"x", expected_revision=r1)
        assert missing.value.key == P + "missing"
        with pytest.raises(KeyNotFoundError):
            await b.delete(P + "missing")
        with pytest.raises(KeyNotFoundError):
            await b.delete(P + "missing", expected_revision=r2)
        assert await b.get(P + "k") == KeyValue(P + "k", b"v2", r1, r2, 2)
        assert await b.current_revision() == r2


async def test_values_are_opaque_bytes_and_keys_any_unicode(backend: BackendFactory) -> None:
    async with backend.open() as b:
        blob = bytes(range(256)) * 64
        await b.create(P + "bin", blob)
        await b.create(P + "empty", b"")
        await b.create(P + "ünï/€/𝄞", b"u")
        assert (await b.get(P + "bin")).value == blob  # type: ignore[union-attr]
        assert (await b.get(P + "empty")).value == b""  # type: ignore[union-attr]
        assert [kv.key for kv in (await b.range(P)).kvs] == [P + "bin", P + "empty", P + "ünï/€/𝄞"]


# --- range


async def _fill(b: Backend) -> None:
    for key in ["/registry/pods/b/2", "/registry/pods/a/1", "/registry/pods/a/2", "/registry/pods/b/1",
                "/registry/podsx/a", "/registry/pod", "/registry/services/a/1"]:
        await b.create(key, key.encode())


async def test_range_prefix_is_key_ordered_and_exact(backend: BackendFactory) -> None:
    async with backend.open() as b:
        await _fill(b)
        result = await b.range(P)
        assert [kv.key for kv in result.kvs] == [
            "/registry/pods/a/1", "/registry/pods/a/2", "/registry/pods/b/1", "/registry/pods/b/2"
        ]
        assert all(kv.value == kv.key.encode() for kv in result.kvs)
        assert (result.count, result.more) == (4, False)
        assert result.revision == await b.current_revision()
        assert [kv.key for kv in (await b.range("/registry/pods/a/")).kvs] == [
            "/registry/pods/a/1", "/registry/pods/a/2"
        ]
        assert (await b.range("/registry/nothing/")).kvs == []
        assert len((await b.range("/registry/")).kvs) == 7


async def test_range_limit_and_start(backend: BackendFactory) -> None:
    async with backend.open() as b:
        await _fill(b)
        first = await b.range(P, limit=3)
        assert [kv.key for kv in first.kvs] == ["/registry/pods/a/1", "/registry/pods/a/2", "/registry/pods/b/1"]
        assert (first.more, first.count) == (True, 4)
        rest = await b.range(P, start=first.kvs[-1].key + "\x00", limit=3)
        assert [kv.key for kv in rest.kvs] == ["/registry/pods/b/2"]
        assert (rest.more, rest.count) == (False, 1)
        # `start` is inclusive.
        assert [kv.key for kv in (await b.range(P, start="/registry/pods/b/1")).kvs] == [
            "/registry/pods/b/1", "/registry/pods/b/2"
        ]
        exact = await b.range(P, limit=4)
        assert (len(exact.kvs), exact.more) == (4, False)


async def test_paged_range_at_a_fixed_revision_while_writes_continue(backend: BackendFactory) -> None:
    async with backend.open() as b:
        for i in range(30):
            await b.create(f"{P}ns/p{i:02}", b"v0")
        first = await b.range(P, limit=7)
        at = first.revision
        assert (first.count, first.more) == (30, True)
        listed, more, step = list(first.kvs), first.more, 0
        while more:
            # Writers keep changing the range between pages: updates, deletes and creates.
            await b.update(f"{P}ns/p{step:02}", b"v1", expected_revision=0)
            await b.delete(f"{P}ns/p{29 - step:02}")
            await b.create(f"{P}ns/p{step:02}x", b"new")
            page = await b.range(P, start=listed[-1].key + "\x00", limit=7, revision=at)
            assert page.revision == at
            listed.extend(page.kvs)
            more, step = page.more, step + 1
        assert pairs(listed) == [(f"{P}ns/p{i:02}", b"v0") for i in range(30)]
        assert await b.current_revision() == at + 3 * step
        latest = await b.range(P)
        assert len(latest.kvs) == 30


# --- reads at older revisions


async def test_get_and_range_at_every_older_revision(backend: BackendFactory) -> None:
    async with backend.open() as b:
        model: dict[str, bytes] = {}
        states: dict[int, dict[str, bytes]] = {await b.current_revision(): {}}
        script = [("c", "a", b"1"), ("c", "b", b"2"), ("u", "a", b"3"), ("d", "b", None),
                  ("c", "c", b"4"), ("c", "b", b"5"), ("u", "c", b"6"), ("d", "a", None)]
        for op, name, value in script:
            key = P + name
            if op == "c":
                rev = await b.create(key, value or b"")
            elif op == "u":
                rev = await b.update(key, value or b"", expected_revision=0)
            else:
                rev, _ = await b.delete(key)
            if value is None:
                model.pop(key)
            else:
                model[key] = value
            states[rev] = dict(model)
        for rev, state in states.items():
            if rev == 0:  # revision 0 means "latest", not "before the first write"
                continue
            got = await b.range(P, revision=rev)
            assert got.revision == rev
            assert pairs(got.kvs) == sorted(state.items()), f"range at {rev}"
            assert got.count == len(state)
            for name in "abc":
                kv = await b.get(P + name, revision=rev)
                assert (kv.value if kv else None) == state.get(P + name), f"get {name} at {rev}"
        paged = await b.range(P, limit=1, revision=min(states) + 2)
        assert paged.more and paged.count == 2


async def test_future_revision(backend: BackendFactory) -> None:
    async with backend.open() as b:
        await b.create(P + "a", b"1")
        current = await b.current_revision()
        with pytest.raises(FutureRevisionError) as err:
            await b.get(P + "a", revision=current + 1)
        assert err.value.requested == current + 1
        with pytest.raises(FutureRevisionError):
            await b.range(P, revision=current + 5)


# --- watch


async def test_watch_replays_history_then_goes_live_exactly_once(backend: BackendFactory) -> None:
    async with backend.open() as b:
        revs = [await b.create(f"{P}k{i}", b"a") for i in range(10)]
        start = revs[3]
        async with aclosing(b.watch(P, from_revision=start)) as w:
            # Writes between starting the watch and reading it, then while it is read.
            for i in range(5):
                await b.update(f"{P}k{i}", b"b", expected_revision=0)
            got: list[Event] = []

            async def writer() -> None:
                for i in range(10):
                    await b.update(f"{P}k{i}", b"c", expected_revision=0)
                    await b.create(f"{P}n{i}", b"n")

            async with anyio.create_task_group() as tg:
                tg.start_soon(writer)
                got = await take(w, 7 + 5 + 20)
            last = await b.current_revision()
            assert [e.revision for e in got] == list(range(start, last + 1))
            await nothing_more(w)


async def test_watch_from_zero_starts_after_now(backend: BackendFactory) -> None:
    async with backend.open() as b:
        await b.create(P + "before", b"x")
        got: list[Event] = []
        async with aclosing(b.watch(P)) as w:

            async def consume() -> None:
                got.extend(await take(w, 1))

            async with anyio.create_task_group() as tg:
                tg.start_soon(consume)
                await anyio.sleep(0.2)  # etcd opens its stream on the first iteration
                rev = await b.create(P + "after", b"y")
        assert [(e.kv.key, e.revision) for e in got] == [(P + "after", rev)]


async def test_watch_filters_by_prefix(backend: BackendFactory) -> None:
    async with backend.open() as b:
        start = await b.current_revision() + 1
        await b.create("/registry/pods/a", b"1")
        await b.create("/registry/podsx/a", b"2")
        await b.create("/registry/services/a", b"3")
        await b.create("/registry/pods/b", b"4")
        async with aclosing(b.watch(P, from_revision=start)) as w:
            got = await take(w, 2)
            assert [e.kv.key for e in got] == ["/registry/pods/a", "/registry/pods/b"]
            await nothing_more(w)


async def test_watch_events_carry_prev_kv(backend: BackendFactory) -> None:
    async with backend.open() as b:
        start = await b.create(P + "k", b"v1")
        r2 = await b.update(P + "k", b"v2", expected_revision=start)
        r3, _ = await b.delete(P + "k")
        async with aclosing(b.watch(P, from_revision=start)) as w:
            created, updated, deleted = await take(w, 3)
        assert created.type is EventType.PUT and created.is_create and created.prev_kv is None
        assert created.kv == KeyValue(P + "k", b"v1", start, start, 1)
        assert updated.type is EventType.PUT and not updated.is_create
        assert updated.kv == KeyValue(P + "k", b"v2", start, r2, 2)
        assert updated.prev_kv == created.kv
        assert deleted.type is EventType.DELETE
        assert (deleted.kv.key, deleted.kv.mod_revision, deleted.revision) == (P + "k", r3, r3)
        assert deleted.prev_kv == updated.kv


async def test_watch_from_a_future_revision_waits_for_it(backend: BackendFactory) -> None:
    async with backend.open() as b:
        target = await b.current_revision() + 3
        async with aclosing(b.watch(P, from_revision=target)) as w:
            for i in range(4):
                await b.create(f"{P}{i}", b"x")
            got = await take(w, 2)
        assert [e.revision for e in got] == [target, target + 1]


# --- compaction


async def test_compaction(backend: BackendFactory) -> None:
    async with backend.open() as b:
        r1 = await b.create(P + "a", b"1")
        r2 = await b.update(P + "a", b"2", expected_revision=r1)
        r3 = await b.create(P + "b", b"3")
        r4 = await b.update(P + "a", b"4", expected_revision=r2)
        await b.compact(r3)
        assert await b.compact_revision() == r3
        with pytest.raises(CompactedError) as err:
            await b.get(P + "a", revision=r2)
        assert err.value.requested == r2
        with pytest.raises(CompactedError):
            await b.range(P, revision=r1)
        # The compact revision itself is still readable, and so is everything after it.
        assert (await b.get(P + "a", revision=r3)).value == b"2"  # type: ignore[union-attr]
        assert pairs((await b.range(P, revision=r3)).kvs) == [(P + "a", b"2"), (P + "b", b"3")]
        assert pairs((await b.range(P)).kvs) == [(P + "a", b"4"), (P + "b", b"3")]
        with pytest.raises(CompactedError):
            async with aclosing(b.watch(P, from_revision=r2)) as w:
                await take(w, 1)
        async with aclosing(b.watch(P, from_revision=r3 + 1)) as w:
            (event,) = await take(w, 1)
            assert (event.revision, event.prev_kv.value) == (r4, b"2")  # type: ignore[union-attr]
        # A watch exactly at the compact revision either is refused or delivers that event.
        try:
            async with aclosing(b.watch(P, from_revision=r3)) as w:
                first, second = await take(w, 2)
                assert (first.revision, first.kv.value, first.prev_kv) == (r3, b"3", None)
                assert second.revision == r4
        except CompactedError:
            pass
        # Compacting to an older revision is a no-op; to a future one an error.
        await b.compact(r1)
        assert await b.compact_revision() == r3
        with pytest.raises(FutureRevisionError):
            await b.compact(await b.current_revision() + 10)
        await b.compact(r4)
        assert await b.compact_revision() == r4
        assert pairs((await b.range(P, revision=r4)).kvs) == [(P + "a", b"4"), (P + "b", b"3")]


async def test_compaction_keeps_the_latest_value_of_every_key(backend: BackendFactory) -> None:
    async with backend.open() as b:
        for i in range(20):
            await b.create(f"{P}k{i}", b"0")
        for round_ in range(1, 4):
            for i in range(0, 20, round_):
                await b.update(f"{P}k{i}", str(round_).encode(), expected_revision=0)
        await b.delete(f"{P}k0")
        before = pairs((await b.range(P)).kvs)
        await b.compact(await b.current_revision())
        assert pairs((await b.range(P)).kvs) == before
        assert len(before) == 19


# --- restart, snapshot, restore


async def test_restart_recovers_every_object_and_the_revision(backend: BackendFactory) -> None:
    if backend.no_restart:
        pytest.skip(backend.no_restart)
    async with backend.open() as b:
        for i in range(50):
            await b.create(f"{P}k{i:02}", f"v{i}".encode())
        for i in range(0, 50, 3):
            await b.update(f"{P}k{i:02}", b"updated", expected_revision=0)
        compact_at = await b.current_revision()
        for i in range(0, 50, 7):
            await b.delete(f"{P}k{i:02}")
        await b.compact(compact_at)
        state = (await b.range("")).kvs
        revision = await b.current_revision()
    async with backend.open() as b:
        assert (await b.range("")).kvs == state
        assert await b.current_revision() == revision
        assert await b.compact_revision() == compact_at
        # History since the compaction is still there: old reads and watch catch-up.
        assert len((await b.range(P, revision=compact_at)).kvs) == 50
        async with aclosing(b.watch(P, from_revision=compact_at + 1)) as w:
            events = await take(w, revision - compact_at)
        assert all(e.type is EventType.DELETE for e in events)
        assert await b.create(P + "new", b"x") == revision + 1


async def test_snapshot_restores_into_a_fresh_backend(backend: BackendFactory) -> None:
    async with backend.open() as b:
        for i in range(10):
            await b.create(f"{P}k{i}", f"v{i}".encode())
        await b.update(P + "k3", b"changed", expected_revision=0)
        await b.delete(P + "k5")
        revision = await b.current_revision()
        state = (await b.range("")).kvs
        snap = await b.snapshot()
        assert decode_snapshot(snap) == (revision, state)
        await b.create(P + "after", b"later")  # not in the snapshot
    async with backend.open_fresh() as fresh:
        await fresh.restore(snap)
        restored = (await fresh.range("")).kvs
        assert pairs(restored) == pairs(state)
        if backend.restores_revisions(fresh):
            assert restored == state
            assert await fresh.current_revision() == revision
            assert await fresh.create(P + "next", b"x") == revision + 1


async def test_restore_replaces_everything(backend: BackendFactory) -> None:
    async with backend.open() as b:
        await b.create(P + "a", b"1")
        snap = await b.snapshot()
        await b.update(P + "a", b"2", expected_revision=0)
        await b.create(P + "b", b"3")
        await b.restore(snap)
        assert pairs((await b.range("")).kvs) == [(P + "a", b"1")]
        with pytest.raises(ValueError):
            await b.restore(b"not a snapshot")
        assert pairs((await b.range("")).kvs) == [(P + "a", b"1")]
