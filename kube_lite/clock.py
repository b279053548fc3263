"""The injected clock.

Components never read time or sleep directly (a ruff banned-api rule enforces it): they take a
`Clock`. `RealClock` is the wall clock; `VirtualClock` is moved by the test (`advance`), so that
minutes of cluster time run in milliseconds and without sleeps.
"""

from __future__ import annotations

import datetime as _dt
import heapq
import itertools
import time as _time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol, runtime_checkable

import anyio


@runtime_checkable
class Clock(Protocol):
    """What components ask of time."""

    def time(self) -> float:
        """Wall-clock seconds since the epoch."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def now(self) -> _dt.datetime:
        """The wall clock as an aware UTC datetime."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return after `seconds` of this clock's time (0 or less: just yield)."""
        ...

    def move_on_after(self, seconds: float) -> anyio.CancelScope:
        """A cancel scope that cancels itself after `seconds` of this clock's time."""
        ...


class TimeoutExpired(TimeoutError):
    """Raised by `fail_after` when its deadline passes."""


@contextmanager
def fail_after(clock: Clock, seconds: float) -> Iterator[anyio.CancelScope]:
    """Like anyio.fail_after, on `clock`'s time: raise TimeoutExpired when the deadline passes."""
    with clock.move_on_after(seconds) as scope:
        yield scope
    if scope.cancelled_caught:
        raise TimeoutExpired(f"timed out after {seconds} s")


class RealClock:
    """The system clock."""

    def time(self) -> float:
        return _time.time()

    def monotonic(self) -> float:
        return _time.monotonic()

    def now(self) -> _dt.datetime:
        return _dt.datetime.now(_dt.UTC)

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(max(seconds, 0))

    def move_on_after(self, seconds: float) -> anyio.CancelScope:
        return anyio.move_on_after(seconds)


class VirtualClock:
    """A clock that only moves when told to.

    Sleepers and timeouts are kept in a heap of deadlines; `advance(dt)` moves time forward one
    deadline at a time, waking each sleeper (and letting it run) in deadline order.
    """

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._wall0 = start
        self._now = 0.0
        self._seq = itertools.count()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []

    def time(self) -> float:
        return self._wall0 + self._now

    def monotonic(self) -> float:
        return self._now

    def now(self) -> _dt.datetime:
        return _dt.datetime.fromtimestamp(self.time(), _dt.UTC)

    def call_at(self, deadline: float, callback: Callable[[], None]) -> None:
        """Run `callback` when monotonic time reaches `deadline`."""
        heapq.heappush(self._timers, (deadline, next(self._seq), callback))

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        event = anyio.Event()
        self.call_at(self._now + seconds, event.set)
        await event.wait()

    def move_on_after(self, seconds: float) -> anyio.CancelScope:
        scope = anyio.CancelScope()
        self.call_at(self._now + seconds, scope.cancel)
        return scope

    def next_deadline(self) -> float | None:
        """Monotonic time of the earliest pending timer, if any."""
        return self._timers[0][0] if self._timers else None

    async def advance(self, seconds: float) -> None:
        """Move time forward by `seconds`, firing every timer due on the way, in order."""
        target = self._now + max(seconds, 0)
        while self._timers and self._timers[0][0] <= target:
            deadline, _, callback = heapq.heappop(self._timers)
            self._now = max(self._now, deadline)
            callback()
            # Let woken tasks run (and perhaps schedule new timers) before moving on.
            for _ in range(5):
                await anyio.lowlevel.checkpoint()
        self._now = target
        await anyio.lowlevel.checkpoint()
