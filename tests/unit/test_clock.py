import anyio
import pytest

from kube_lite.clock import RealClock, TimeoutExpired, VirtualClock, fail_after


async def test_virtual_sleep_wakes_in_deadline_order() -> None:
    clock = VirtualClock()
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.monotonic()))

    async with anyio.create_task_group() as tg:
        tg.start_soon(sleeper, "late", 300.0)
        tg.start_soon(sleeper, "early", 10.0)
        await anyio.lowlevel.checkpoint()
        await clock.advance(299)
        assert woke == [("early", 10.0)]
        await clock.advance(1)
    assert woke == [("early", 10.0), ("late", 300.0)]
    assert clock.monotonic() == 300.0


async def test_virtual_timeout_cancels_on_virtual_time_only() -> None:
    clock = VirtualClock()
    started = anyio.Event()
    result: list[str] = []

    async def waiter() -> None:
        try:
            with fail_after(clock, 5):
                started.set()
                await anyio.Event().wait()
        except TimeoutExpired:
            result.append("timeout")

    async with anyio.create_task_group() as tg:
        tg.start_soon(waiter)
        await started.wait()
        await clock.advance(4.9)
        assert result == []
        await clock.advance(0.2)
    assert result == ["timeout"]


def test_wall_time_moves_with_virtual_time() -> None:
    clock = VirtualClock(start=1000.0)
    assert clock.time() == 1000.0
    assert clock.now().year == 1970


async def test_real_clock_sleep_and_timeout() -> None:
    clock = RealClock()
    t0 = clock.monotonic()
    await clock.sleep(0.01)
    assert clock.monotonic() - t0 >= 0.009
    with pytest.raises(TimeoutExpired):
        with fail_after(clock, 0.01):
            await clock.sleep(1)
