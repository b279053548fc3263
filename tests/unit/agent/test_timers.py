"""The agent's timers: one loop serving a heap of deadlines, and jobs run on them."""

from __future__ import annotations

import anyio

from kube_lite.agent.timers import Timers
from kube_lite.clock import VirtualClock


async def test_deadlines_fire_in_order_once_due() -> None:
    clock = VirtualClock()
    timers = Timers(clock)
    fired: list[tuple[str, float]] = []
    async with anyio.create_task_group() as tg:
        timers.bind(tg)
        tg.start_soon(timers.run)
        for name, at in (("b", 2.0), ("a", 1.0), ("c", 3.0)):
            timers.call_at(at, lambda arg, deadline: fired.append((arg, deadline)), name)
        await anyio.wait_all_tasks_blocked()
        assert fired == []
        await clock.advance(2)
        await anyio.wait_all_tasks_blocked()
        assert fired == [("a", 1.0), ("b", 2.0)]
        # An earlier deadline added while the loop sleeps wakes it.
        timers.call_at(2.5, lambda arg, deadline: fired.append((arg, deadline)), "early")
        await clock.advance(0.5)
        await anyio.wait_all_tasks_blocked()
        assert fired[-1] == ("early", 2.5)
        tg.cancel_scope.cancel()


async def test_a_job_runs_periodically_and_never_twice_at_once() -> None:
    clock = VirtualClock()
    timers = Timers(clock)
    runs: list[float] = []
    release = anyio.Event()

    async def work() -> float:
        runs.append(clock.monotonic())
        if len(runs) == 2:
            await release.wait()  # a slow run
        return 10.0

    job = timers.job("work", work)
    async with anyio.create_task_group() as tg:
        timers.bind(tg)
        tg.start_soon(timers.run)
        job.schedule(10.0)
        await clock.advance(10)
        await anyio.wait_all_tasks_blocked()
        assert runs == [10.0]
        await clock.advance(10)
        await anyio.wait_all_tasks_blocked()
        assert runs == [10.0, 20.0] and job.running
        job.trigger()  # while running: once more right after
        job.trigger()
        await anyio.wait_all_tasks_blocked()
        assert runs == [10.0, 20.0]
        release.set()
        await anyio.wait_all_tasks_blocked()
        assert runs == [10.0, 20.0, 20.0]
        await clock.advance(10)
        await anyio.wait_all_tasks_blocked()
        assert runs == [10.0, 20.0, 20.0, 30.0]
        # A trigger replaces the time it was due at; a cancelled job does not run.
        job.trigger()
        await anyio.wait_all_tasks_blocked()
        assert runs[-1] == 30.0 and len(runs) == 5
        job.cancel()
        await clock.advance(60)
        await anyio.wait_all_tasks_blocked()
        assert len(runs) == 5
        tg.cancel_scope.cancel()


async def test_a_failing_job_is_retried() -> None:
    clock = VirtualClock()
    timers = Timers(clock)
    runs: list[float] = []

    async def flaky() -> float:
        runs.append(clock.monotonic())
        if len(runs) == 1:
            raise RuntimeError("boom")
        return 30.0

    job = timers.job("flaky", flaky, retry_seconds=2.0)
    async with anyio.create_task_group() as tg:
        timers.bind(tg)
        tg.start_soon(timers.run)
        job.schedule(0)
        await anyio.wait_all_tasks_blocked()
        await clock.advance(3)
        await anyio.wait_all_tasks_blocked()
        assert runs == [0.0, 2.0] and job.due == 32.0
        tg.cancel_scope.cancel()
