"""The controller workqueue, on a VirtualClock: no real sleeps anywhere."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kube_lite.client.workqueue import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
    QueueStats,
    ShutDown,
    WorkQueue,
    default_controller_rate_limiter,
    run_workers,
)
from kube_lite.clock import VirtualClock


def make_queue(clock: VirtualClock | None = None) -> WorkQueue[str]:
    return WorkQueue(clock=clock or VirtualClock(), name="test")


# ---------------------------------------------------------------------------------- basic queue


async def test_add_deduplicates_and_keeps_first_add_order() -> None:
    q = make_queue()
    for key in ["a", "b", "a", "c", "b"]:
        q.add(key)
    assert len(q) == 3
    assert [await q.get(), await q.get(), await q.get()] == ["a", "b", "c"]
    assert len(q) == 0
    assert q.in_flight == 3


async def test_key_added_while_processing_is_requeued_after_done() -> None:
    q = make_queue()
    q.add("a")
    assert await q.get() == "a"
    q.add("a")
    q.add("a")
    # Held by a worker: not handed out again, not even queued yet.
    assert len(q) == 0
    q.done("a")
    assert len(q) == 1
    assert await q.get() == "a"
    q.done("a")
    assert len(q) == 0 and q.in_flight == 0


async def test_done_without_readd_does_not_requeue() -> None:
    q = make_queue()
    q.add("a")
    key = await q.get()
    q.done(key)
    assert len(q) == 0


async def test_get_waits_for_add() -> None:
    q = make_queue()
    got: list[str] = []

    async def getter() -> None:
        got.append(await q.get())

    async with anyio.create_task_group() as tg:
        tg.start_soon(getter)
        await anyio.wait_all_tasks_blocked()
        assert got == []
        q.add("x")
    assert got == ["x"]


async def test_shutdown_wakes_getters_and_refuses_adds() -> None:
    q = make_queue()
    q.add("queued")
    q.add_after("later", 10)
    raised: list[bool] = []

    async def getter() -> None:
        with pytest.raises(ShutDown):
            await q.get()
        raised.append(True)

    async with anyio.create_task_group() as tg:
        # Take the one ready key so the getters block.
        assert await q.get() == "queued"
        tg.start_soon(getter)
        tg.start_soon(getter)
        await anyio.wait_all_tasks_blocked()
        q.shutdown()
    assert raised == [True, True]
    q.add("b")
    q.add_after("c", 1)
    assert q.stats() == QueueStats(queued=0, in_flight=1, delayed=0, earliest_deadline=None)
    q.done("queued")
    assert q.is_idle()
    with pytest.raises(ShutDown):
        await q.get()


async def test_async_with_shuts_down_on_exit() -> None:
    async with make_queue() as q:
        q.add("a")
    assert q.shutting_down
    with pytest.raises(ShutDown):
        await q.get()


# ---------------------------------------------------------------------------------- delays


async def test_add_after_fires_at_the_right_virtual_time() -> None:
    clock = VirtualClock()
    q = make_queue(clock)
    got: list[tuple[str, float]] = []

    async def getter() -> None:
        key = await q.get()
        got.append((key, clock.monotonic()))

    q.add_after("a", 10)
    assert q.stats() == QueueStats(queued=0, in_flight=0, delayed=1, earliest_deadline=10.0)
    async with anyio.create_task_group() as tg:
        tg.start_soon(getter)
        await anyio.wait_all_tasks_blocked()
        await clock.advance(9.99)
        assert got == []
        assert len(q) == 0 and q.delayed == 1
        await clock.advance(0.01)
    assert got == [("a", 10.0)]
    assert q.delayed == 0 and q.earliest_deadline is None


async def test_add_after_due_keys_are_counted_without_a_getter() -> None:
    clock = VirtualClock()
    q = make_queue(clock)
    q.add_after("b", 2)
    q.add_after("a", 1)
    await clock.advance(5)
    # Promoted in deadline order on the first look.
    assert len(q) == 2
    assert [await q.get(), await q.get()] == ["a", "b"]


async def test_add_after_keeps_the_earlier_deadline() -> None:
    clock = VirtualClock()
    q = make_queue(clock)
    q.add_after("a", 10)
    q.add_after("a", 20)
    assert q.earliest_deadline == 10.0
    q.add_after("a", 3)
    assert q.earliest_deadline == 3.0 and q.delayed == 1
    await clock.advance(3)
    assert len(q) == 1 and q.delayed == 0
    await q.get()
    # The superseded entries do not fire a second time.
    await clock.advance(30)
    assert len(q) == 0


async def test_earlier_add_after_wakes_a_getter_sleeping_on_a_later_deadline() -> None:
    clock = VirtualClock()
    q = make_queue(clock)
    got: list[tuple[str, float]] = []

    async def getter() -> None:
        key = await q.get()
        got.append((key, clock.monotonic()))

    q.add_after("late", 100)
    async with anyio.create_task_group() as tg:
        tg.start_soon(getter)
        await anyio.wait_all_tasks_blocked()
        q.add_after("soon", 1)
        await anyio.wait_all_tasks_blocked()
        await clock.advance(1)
    assert got == [("soon", 1.0)]


async def test_add_after_non_positive_is_an_add() -> None:
    q = make_queue()
    q.add_after("a", 0)
    q.add_after("b", -1)
    assert len(q) == 2 and q.delayed == 0


async def test_delayed_key_due_while_in_flight_waits_for_done() -> None:
    clock = VirtualClock()
    q = make_queue(clock)
    q.add("a")
    assert await q.get() == "a"
    q.add_after("a", 1)
    await clock.advance(1)
    assert len(q) == 0 and q.delayed == 0
    q.done("a")
    assert len(q) == 1


# ---------------------------------------------------------------------------------- rate limiters


def test_exponential_backoff_sequence_and_cap() -> None:
    limiter = ItemExponentialFailureRateLimiter(0.005, 1000)
    waits = [limiter.when("k") for _ in range(6)]
    assert waits == pytest.approx([0.005, 0.01, 0.02, 0.04, 0.08, 0.16])
    assert limiter.num_requeues("k") == 6
    # Per key: another key starts at the base.
    assert limiter.when("other") == pytest.approx(0.005)
    for _ in range(40):
        limiter.when("k")
    assert limiter.when("k") == 1000
    for _ in range(2000):  # no float overflow however long it fails
        limiter.when("k")
    assert limiter.when("k") == 1000


def test_forget_resets_backoff() -> None:
    limiter = ItemExponentialFailureRateLimiter(0.005, 1000)
    for _ in range(5):
        limiter.when("k")
    limiter.forget("k")
    assert limiter.num_requeues("k") == 0
    assert limiter.when("k") == pytest.approx(0.005)


async def test_bucket_allows_burst_then_qps() -> None:
    clock = VirtualClock()
    bucket = BucketRateLimiter(qps=10, burst=100, clock=clock)
    assert [bucket.when(i) for i in range(100)] == [0.0] * 100
    # Then one token per 1/qps, reservations queueing up behind each other.
    assert [bucket.when(f"x{i}") for i in range(3)] == pytest.approx([0.1, 0.2, 0.3])
    # 1 s later 10 tokens have come back: the 3 reserved are paid, 7 are free, still in debt.
    await clock.advance(1.0)
    assert bucket.when("y") == pytest.approx(0.0)
    # A long pause refills to burst, no further.
    await clock.advance(1000)
    assert [bucket.when(i) for i in range(100)] == [0.0] * 100
    assert bucket.when("z") == pytest.approx(0.1)


def test_bucket_has_no_per_key_state() -> None:
    bucket = BucketRateLimiter(qps=1, burst=1, clock=VirtualClock())
    bucket.when("a")
    bucket.forget("a")
    assert bucket.num_requeues("a") == 0


def test_max_of_takes_the_longest_and_records_in_every_limiter() -> None:
    clock = VirtualClock()
    limiter = MaxOfRateLimiter(ItemExponentialFailureRateLimiter(0.005, 1000), BucketRateLimiter(10, 2, clock=clock))
    assert limiter.when("k") == pytest.approx(0.005)  # bucket: 0
    assert limiter.when("k") == pytest.approx(0.01)  # bucket: 0, burst spent
    assert limiter.when("k") == pytest.approx(0.1)  # bucket 0.1 beats backoff 0.02
    assert limiter.num_requeues("k") == 3
    limiter.forget("k")
    assert limiter.num_requeues("k") == 0


def test_default_controller_rate_limiter() -> None:
    limiter = default_controller_rate_limiter(VirtualClock())
    assert [limiter.when("k") for _ in range(4)] == pytest.approx([0.005, 0.01, 0.02, 0.04])


async def test_queue_rate_limited_backoff_and_forget() -> None:
    clock = VirtualClock()
    q = make_queue(clock)
    q.add_rate_limited("k")
    assert q.earliest_deadline == pytest.approx(0.005)
    q.add_rate_limited("k")  # backoff recorded (10 ms) but the earlier deadline stays
    assert q.num_requeues("k") == 2
    assert q.earliest_deadline == pytest.approx(0.005)
    q.forget("k")
    assert q.num_requeues("k") == 0


# ---------------------------------------------------------------------------------- workers


async def test_workers_never_hold_the_same_key_at_once() -> None:
    clock = VirtualClock()
    q = make_queue(clock)
    active: set[str] = set()
    overlaps: list[str] = []
    runs: list[str] = []

    async def reconcile(key: str) -> None:
        if key in active:
            overlaps.append(key)
        active.add(key)
        runs.append(key)
        try:
            await clock.sleep(1)
        finally:
            active.discard(key)

    async with anyio.create_task_group() as tg:
        await tg.start(run_workers, q, 4, reconcile)
        q.add("a")
        await anyio.wait_all_tasks_blocked()
        assert runs == ["a"] and q.in_flight == 1
        # Added again and again while a worker holds it: three idle workers must not take it.
        for _ in range(5):
            q.add("a")
            await anyio.wait_all_tasks_blocked()
        q.add("b")
        await anyio.wait_all_tasks_blocked()
        assert runs == ["a", "b"]
        await clock.advance(1)
        await anyio.wait_all_tasks_blocked()
        # "a" ran once more for all five adds during processing.
        assert runs == ["a", "b", "a"]
        await clock.advance(1)
        await q.wait_idle()
        q.shutdown()
    assert overlaps == []
    assert runs == ["a", "b", "a"]


async def test_failed_reconcile_is_retried_with_backoff_then_forgotten() -> None:
    clock = VirtualClock()
    q = make_queue(clock)
    attempts: list[float] = []

    async def reconcile(key: str) -> None:
        attempts.append(clock.monotonic())
        if len(attempts) <= 3:
            raise RuntimeError("transient")

    async with anyio.create_task_group() as tg:
        await tg.start(run_workers, q, 2, reconcile)
        q.add("k")
        await q.wait_idle()
        assert attempts == [0.0]
        assert q.num_requeues("k") == 1 and q.earliest_deadline == pytest.approx(0.005)
        await clock.advance(0.005)
        await q.wait_idle()
        await clock.advance(0.010)
        await q.wait_idle()
        await clock.advance(0.020)
        await q.wait_idle()
        assert attempts == pytest.approx([0.0, 0.005, 0.015, 0.035])
        # Success forgot the backoff.
        assert q.num_requeues("k") == 0
        assert q.stats() == QueueStats(queued=0, in_flight=0, delayed=0, earliest_deadline=None)
        q.shutdown()


async def test_float_result_requeues_after_that_many_seconds() -> None:
    clock = VirtualClock()
    q = make_queue(clock)
    runs: list[float] = []

    async def reconcile(key: str) -> float | None:
        runs.append(clock.monotonic())
        return 30.0 if len(runs) < 3 else None

    async with anyio.create_task_group() as tg:
        await tg.start(run_workers, q, 1, reconcile)
        q.add("k")
        await q.wait_idle()
        assert q.stats().earliest_deadline == 30.0
        await clock.advance(30)
        await q.wait_idle()
        await clock.advance(30)
        await q.wait_idle()
        await clock.advance(1000)
        await q.wait_idle()
        q.shutdown()
    assert runs == [0.0, 30.0, 60.0]


async def test_shutdown_ends_workers() -> None:
    q = make_queue()
    finished = anyio.Event()

    async def reconcile(key: str) -> None:
        pass

    async def workers() -> None:
        await run_workers(q, 3, reconcile)
        finished.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(workers)
        q.add("a")
        await q.wait_idle()
        assert not finished.is_set()
        q.shutdown()
        await finished.wait()


async def test_cancelled_worker_releases_its_key() -> None:
    clock = VirtualClock()
    q = make_queue(clock)

    async def reconcile(key: str) -> None:
        await clock.sleep(100)

    async with anyio.create_task_group() as tg:
        tg.start_soon(run_workers, q, 1, reconcile)
        q.add("a")
        await anyio.wait_all_tasks_blocked()
        assert q.in_flight == 1
        q.add("a")  # dirty while in flight
        tg.cancel_scope.cancel()
    assert q.in_flight == 0
    # The re-add survived: a new worker would get it.
    assert len(q) == 1


async def test_wait_idle_waits_for_in_flight_work() -> None:
    clock = VirtualClock()
    q = make_queue(clock)
    idle_at: list[float] = []

    async def reconcile(key: str) -> None:
        await clock.sleep(5)

    async def waiter() -> None:
        await q.wait_idle()
        idle_at.append(clock.monotonic())

    async with anyio.create_task_group() as tg:
        await tg.start(run_workers, q, 2, reconcile)
        await q.wait_idle()  # idle at once when empty
        q.add("a")
        q.add("b")
        tg.start_soon(waiter)
        await anyio.wait_all_tasks_blocked()
        assert q.stats() == QueueStats(queued=0, in_flight=2, delayed=0, earliest_deadline=None)
        assert idle_at == []
        await clock.advance(4)
        assert idle_at == []
        await clock.advance(1)
        await anyio.wait_all_tasks_blocked()
        assert idle_at == [5.0]
        # Delayed keys do not make the queue busy.
        q.add_after("c", 10)
        assert q.is_idle()
        await q.wait_idle()
        q.shutdown()


async def test_worker_count_must_be_positive() -> None:
    async def reconcile(key: str) -> None:
        pass

    with pytest.raises(ValueError):
        await run_workers(make_queue(), 0, reconcile)


# ---------------------------------------------------------------------------------- a model check

_KEYS = st.sampled_from(["a", "b", "c", "d"])
_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), _KEYS),
        st.tuples(st.just("add_after"), _KEYS, st.sampled_from([0.0, 1.0, 2.5, 7.0])),
        st.tuples(st.just("get")),
        st.tuples(st.just("done"), st.integers(0, 3)),
        st.tuples(st.just("advance"), st.sampled_from([0.5, 1.0, 3.0])),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(_OPS)
def test_queue_matches_a_simple_model(ops: list[tuple[Any, ...]]) -> None:
    """Against a model: a key is handed out only if owed (added since it was last handed out)
    and not held; len() is the number of owed keys nobody holds; nothing owed is lost."""

    async def scenario() -> None:
        clock = VirtualClock()
        q = make_queue(clock)
        owed: set[str] = set()
        held: list[str] = []
        waiting: dict[str, float] = {}

        def fire_due() -> None:
            for key, deadline in list(waiting.items()):
                if deadline <= clock.monotonic():
                    del waiting[key]
                    owed.add(key)

        for op in ops:
            if op[0] == "add":
                q.add(op[1])
                owed.add(op[1])
            elif op[0] == "add_after":
                _, key, seconds = op
                q.add_after(key, seconds)
                if seconds <= 0:
                    owed.add(key)
                elif key not in waiting or waiting[key] > clock.monotonic() + seconds:
                    waiting[key] = clock.monotonic() + seconds
            elif op[0] == "get":
                if len(q):
                    key = await q.get()
                    assert key in owed and key not in held
                    owed.discard(key)
                    held.append(key)
            elif op[0] == "done":
                if held:
                    q.done(held.pop(op[1] % len(held)))
            else:
                await clock.advance(op[1])
            fire_due()
            assert len(q) == len(owed - set(held))
            assert q.in_flight == len(held)
            assert q.delayed == len(waiting)

        for key in held:
            q.done(key)
        await clock.advance(100)
        fire_due()
        drained = set()
        while len(q):
            key = await q.get()
            assert key not in drained
            drained.add(key)
            q.done(key)
        assert drained == owed

    anyio.run(scenario)
