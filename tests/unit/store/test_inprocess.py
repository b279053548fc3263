"""What the two in-process backends (memory, SQLite) promise beyond the conformance suite:
watches registered by the `watch()` call itself, slow watchers ended rather than buffered, a
watch exactly at the compact revision, watchers ended by a restore, periodic compaction on the
injected clock."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import aclosing
from pathlib import Path
from typing import Any

import anyio
import pytest

from kube_lite.clock import VirtualClock
from kube_lite.store.backend import (
    Backend,
    BackendUnavailableError,
    CompactedError,
    EventType,
    KeyValue,
    open_backend,
)
from kube_lite.store.watchhub import WatcherTooSlowError

P = "/registry/configmaps/"

Opener = Callable[..., Backend]


@pytest.fixture(params=["memory", "sqlite"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    """Opens a fresh in-process backend with the given options (not entered)."""
    url = "memory:" if request.param == "memory" else f"sqlite:{tmp_path / 'store.db'}"

    def open_(**options: Any) -> Backend:
        return open_backend(url, **options)

    return open_


async def test_watch_is_registered_by_the_call(opener: Opener) -> None:
    async with opener() as b:
        await b.create(P + "before", b"")
        watch = b.watch(P)  # from now: nothing is read yet
        rev = await b.create(P + "after", b"")
        async with aclosing(watch) as w:
            event = await anext(w)
        assert (event.kv.key, event.revision) == (P + "after", rev)


async def test_a_slow_watcher_is_ended_not_buffered(opener: Opener) -> None:
    async with opener(watch_buffer=10) as b:
        slow = b.watch(P)
        other = b.watch("/registry/other/")  # matches nothing: never overflows
        for i in range(11):
            await b.create(f"{P}{i}", b"")
        with pytest.raises(CompactedError) as err:
            await anext(slow)
        assert isinstance(err.value, WatcherTooSlowError)
        assert err.value.requested == 1
        assert "re-list" in str(err.value)
        # The backend and its other watchers carry on.
        rev = await b.create("/registry/other/x", b"")
        assert (await anext(other)).revision == rev
        await other.aclose()  # type: ignore[attr-defined]


async def test_watch_exactly_at_the_compact_revision_keeps_prev_kv(opener: Opener) -> None:
    async with opener() as b:
        r1 = await b.create(P + "a", b"1")
        r2 = await b.update(P + "a", b"2", expected_revision=r1)
        r3, _ = await b.delete(P + "a")
        await b.compact(r2)
        async with aclosing(b.watch(P, from_revision=r2)) as w:
            update, delete = await anext(w), await anext(w)
        assert update.revision == r2 and update.prev_kv == KeyValue(P + "a", b"1", r1, r1, 1)
        assert delete.revision == r3 and delete.type is EventType.DELETE
        await b.compact(r3)
        async with aclosing(b.watch(P, from_revision=r3)) as w:
            assert (await anext(w)).prev_kv == update.kv


async def test_restore_ends_open_watches(opener: Opener) -> None:
    async with opener() as b:
        await b.create(P + "a", b"1")
        snap = await b.snapshot()
        watch = b.watch(P, from_revision=1)
        await b.create(P + "b", b"2")
        await b.restore(snap)
        with pytest.raises(CompactedError):
            async for _ in watch:
                pass
        # History before the restore is gone; a new watch from after it works.
        with pytest.raises(CompactedError):
            await anext(b.watch(P, from_revision=1))
        async with aclosing(b.watch(P, from_revision=2)) as w:
            rev = await b.create(P + "c", b"3")
            assert (await anext(w)).revision == rev == 2


async def test_closing_ends_watches_and_refuses_calls(opener: Opener) -> None:
    b = opener()
    async with b:
        watch = b.watch(P)
    with pytest.raises(BackendUnavailableError):
        await anext(watch)
    with pytest.raises(BackendUnavailableError):
        await b.create(P + "x", b"")
    with pytest.raises(BackendUnavailableError):
        await b.range(P)
    with pytest.raises(BackendUnavailableError):
        b.watch(P)


async def test_periodic_compaction_on_the_injected_clock(opener: Opener) -> None:
    clock = VirtualClock()
    async with opener(clock=clock, compact_interval=300) as b:
        for i in range(5):
            await b.create(f"{P}{i}", b"0")
        first_tick = await b.current_revision()
        await clock.advance(300)  # the first tick only records the revision
        for i in range(5):
            await b.update(f"{P}{i}", b"1", expected_revision=0)
        assert await b.compact_revision() == 0
        await clock.advance(300)  # compacts to the revision seen at the previous tick
        await _until(lambda: b.compact_revision(), first_tick)
        with pytest.raises(CompactedError):
            await b.get(P + "0", revision=first_tick - 1)
        assert (await b.get(P + "0", revision=first_tick)).value == b"0"  # type: ignore[union-attr]


async def _until(probe: Callable[[], Any], want: Any) -> None:
    """Wait (real time, at most 5 s) for `await probe()` to equal `want`: a compaction started by
    the virtual clock may still be running in SQLite's thread."""
    for _ in range(500):
        if await probe() == want:
            return
        await anyio.sleep(0.01)
    assert await probe() == want


async def test_memory_history_stays_bounded_under_churn() -> None:
    clock = VirtualClock()
    async with open_backend("memory:", clock=clock, compact_interval=60) as b:
        await b.create(P + "k", b"")
        for _ in range(5):
            for _ in range(1000):
                await b.update(P + "k", b"x", expected_revision=0)
            await clock.advance(60)
        # One to two intervals of events are kept, not the 5000 written.
        assert len(b._hub.log) <= 2001  # type: ignore[attr-defined]
        assert await b.compact_revision() == 4001  # the revision at the previous tick


async def test_a_bad_write_is_refused_alone(opener: Opener) -> None:
    async with opener() as b:
        results: list[object] = []

        async def write(key: str, value: object) -> None:
            try:
                results.append(await b.create(key, value))  # type: ignore[arg-type]
            except (TypeError, ValueError) as exc:
                results.append(type(exc))

        async with anyio.create_task_group() as tg:
            tg.start_soon(write, P + "a", b"1")
            tg.start_soon(write, P + "\udc80", b"2")  # a lone surrogate: no UTF-8 for it
            tg.start_soon(write, P + "b", "not bytes")
            tg.start_soon(write, P + "c", bytearray(b"3"))
        assert sorted(map(str, results)) == sorted(map(str, [1, ValueError, TypeError, 2]))
        assert (await b.get(P + "c")).value == b"3"  # type: ignore[union-attr]
