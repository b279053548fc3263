"""An agent's clock work in one task: a heap of deadlines and the jobs they start.

The kubelet runs its lease renewal, node status, housekeeping, PLEG relist and status manager
as loops, a goroutine each, and parks a goroutine per pod worker. A Python task is not a
goroutine (a task, its coroutine frame, anyio's handle, cancel scope and event: kilobytes), and
a process may run a thousand agents. So an agent has one `Timers`: a heap of deadlines on the
injected clock, served by one loop (`run`, run by the agent's own task). A due deadline calls a
plain function; the periodic work is a `Job`, which runs its coroutine in a short-lived task of
the agent's task group (so a slow status update never holds up the lease), and is then
scheduled again at the delay its run returned. A job triggered while it runs runs once more
right after; a job never runs twice at once.

    timers = Timers(clock)
    lease = timers.job("lease", renew_once)   # renew_once() -> seconds until the next run
    async with anyio.create_task_group() as tg:
        timers.bind(tg)
        lease.schedule(10.0)
        await timers.run()                    # until cancelled

Deadlines are monotonic seconds of the clock. A cancelled deadline is not removed from the heap:
its function finds out it is stale (see `Job`, and `PodWorkers`), which keeps a reschedule O(log n).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import structlog
from anyio.abc import TaskGroup

from kube_lite.clock import Clock

log = structlog.get_logger(__name__)

_INF = float("inf")


class Timers:
    """A deadline heap served by one loop; see the module doc."""

    __slots__ = ("clock", "_heap", "_seq", "_kick", "_waiting_until", "_tg")

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._heap: list[tuple[float, int, Callable[[Any, float], None], Any]] = []
        self._seq = itertools.count()
        self._kick: anyio.Event | None = None
        self._waiting_until = _INF  # the deadline the loop sleeps until
        self._tg: TaskGroup | None = None

    def bind(self, tg: TaskGroup) -> None:
        """Run jobs in `tg` (the owner's task group) from now on."""
        self._tg = tg

    @property
    def task_group(self) -> TaskGroup | None:
        return self._tg

    def call_at(self, deadline: float, fn: Callable[[Any, float], None], arg: Any = None) -> None:
        """Call `fn(arg, deadline)` from the loop once the clock's monotonic time reaches
        `deadline` (at once, on the loop's next pass, if it has)."""
        heapq.heappush(self._heap, (deadline, next(self._seq), fn, arg))
        if deadline < self._waiting_until and self._kick is not None:
            self._kick.set()

    def job(self, name: str, fn: Callable[[], Awaitable[float | None]], *, retry_seconds: float = 1.0) -> Job:
        """A job running `fn` (see `Job`), not yet scheduled."""
        return Job(self, name, fn, retry_seconds)

    def __len__(self) -> int:
        return len(self._heap)

    async def run(self) -> None:
        """Serve deadlines until cancelled (jobs need `bind` first)."""
        heap = self._heap
        clock = self.clock
        kick = self._kick = anyio.Event()
        try:
            while True:
                now = clock.monotonic()
                while heap and heap[0][0] <= now:
                    deadline, _, fn, arg = heapq.heappop(heap)
                    try:
                        fn(arg, deadline)
                    except Exception:  # noqa: BLE001 - one bad timer must not stop the others
                        log.exception("timer failed", timer=getattr(fn, "__qualname__", repr(fn)))
                if kick.is_set():
                    kick = self._kick = anyio.Event()
                if not heap:
                    self._waiting_until = _INF
                    await kick.wait()
                    continue
                self._waiting_until = heap[0][0]
                with clock.move_on_after(heap[0][0] - now):
                    await kick.wait()
        finally:
            self._kick = None
            self._waiting_until = _INF


class Job:
    """A piece of periodic work of an agent: `fn()` runs in a task of the timers' task group
    and returns the seconds until its next run (None: only when triggered or scheduled). An
    exception `fn` lets out is logged and the job runs again after `retry_seconds`."""

    __slots__ = ("timers", "name", "fn", "retry_seconds", "_due", "_running", "_again", "runs")

    def __init__(self, timers: Timers, name: str, fn: Callable[[], Awaitable[float | None]],
                 retry_seconds: float) -> None:
        self.timers = timers
        self.name = name
        self.fn = fn
        self.retry_seconds = retry_seconds
        self._due: float | None = None  # the deadline in the heap that counts (others are stale)
        self._running = False
        self._again = False  # triggered while running: run once more right after
        self.runs = 0

    @property
    def running(self) -> bool:
        return self._running

    @property
    def due(self) -> float | None:
        """When the job runs next (monotonic), None when it is not scheduled."""
        return self._due

    def schedule(self, delay: float) -> None:
        """Run in `delay` seconds (replacing the time it was due at, if any)."""
        due = self.timers.clock.monotonic() + max(delay, 0.0)
        self._due = due
        self.timers.call_at(due, Job._fire, self)

    def trigger(self) -> None:
        """Run soon: now, or right after the current run."""
        if self._running:
            self._again = True
        elif self._due is None or self._due > self.timers.clock.monotonic():
            self.schedule(0.0)

    def cancel(self) -> None:
        """Do not run again until scheduled or triggered."""
        self._due = None
        self._again = False

    @staticmethod
    def _fire(job: Job, deadline: float) -> None:
        if job._due != deadline:
            return  # rescheduled or cancelled since
        job._due = None
        if job._running:
            job._again = True
            return
        tg = job.timers.task_group
        if tg is None:
            raise RuntimeError(f"job {job.name!r} is due but its timers are not bound to a task group")
        job._running = True
        tg.start_soon(job._run, name=job.name)

    async def _run(self) -> None:
        delay: float | None
        try:
            delay = await self.fn()
        except Exception:  # noqa: BLE001 - retried, never fatal to the agent
            log.exception("agent job failed", job=self.name)
            delay = self.retry_seconds
        finally:
            self._running = False
            self.runs += 1
        if self._again:
            self._again = False
            delay = 0.0
        if delay is not None and self._due is None:
            self.schedule(delay)
