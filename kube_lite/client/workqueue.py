"""The controller workqueue: deduplicating, delaying, rate-limited; asyncio-native.

The semantics are client-go's workqueue, which every Kubernetes controller relies on:

- A key is queued at most once: adding a queued key again does nothing.
- A key is handed to at most one worker at a time: a key added while a worker holds it is
  marked dirty and queued again when that worker calls `done(key)`. Hence the contract for
  consumers: every key returned by `get()` must be passed to `done()` exactly once.
- Keys come out in the order they were first added (FIFO).
- `add_after(key, seconds)` queues the key later; a key waiting twice keeps the earlier time.
- `add_rate_limited(key)` is `add_after(key, limiter.when(key))`; `forget(key)` ends the key's
  backoff once it is processed successfully.

There is no background task. A delayed key becomes due when the clock passes its deadline and
is moved into the queue by whoever looks next: a worker blocked in `get()` waits on the clock
until the earliest deadline, and `len()`, `stats()` and the other counters move due keys first.
So the queue needs no lifecycle beyond `shutdown()`; `async with WorkQueue(...) as q:` is offered
only to shut the queue down when the block exits, which ends its workers.

`run_workers(queue, n, reconcile)` is the standard worker loop of a controller.

Keys are typically "namespace/name" strings; anything hashable works. The queue is not
thread-safe; it belongs to one event loop, like every component of kube-lite.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import anyio
import anyio.lowlevel
import structlog
from anyio.abc import TaskStatus

from kube_lite.clock import Clock, RealClock

log = structlog.get_logger(__name__)

K = TypeVar("K", bound=Hashable)

# client-go's DefaultControllerRateLimiter figures.
DEFAULT_BASE_DELAY = 0.005
DEFAULT_MAX_DELAY = 1000.0
DEFAULT_QPS = 10.0
DEFAULT_BURST = 100


class ShutDown(Exception):
    """Raised by `WorkQueue.get()` once the queue has been shut down."""


# ---------------------------------------------------------------------------------- rate limiters


class RateLimiter(Protocol):
    """How long a key must wait before it is retried.

    `when` is called once per retry and records it (it is not a pure query); `forget` says the
    key succeeded and its history can go; `num_requeues` is how many retries are on record.
    """

    def when(self, key: Hashable) -> float:
        """Seconds to wait before `key` is retried (0: now). Records one more retry."""
        ...

    def forget(self, key: Hashable) -> None:
        """Drop `key`'s retry history."""
        ...

    def num_requeues(self, key: Hashable) -> int:
        """Retries of `key` on record since it was last forgotten."""
        ...


class ItemExponentialFailureRateLimiter:
    """Per-key exponential backoff: base, 2*base, 4*base, ... capped at `max_delay`."""

    def __init__(self, base_delay: float = DEFAULT_BASE_DELAY, max_delay: float = DEFAULT_MAX_DELAY) -> None:
        if base_delay < 0 or max_delay < 0:
            raise ValueError("delays must not be negative")
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._failures: dict[Hashable, int] = {}

    def when(self, key: Hashable) -> float:
        """`base * 2**n` for the key's n-th retry (n from 0), at most `max_delay`."""
        exp = self._failures.get(key, 0)
        self._failures[key] = exp + 1
        # 2.0**exp overflows a float near exp=1024; long before that the cap applies.
        if exp >= 1000:
            return self.max_delay
        return min(self.base_delay * 2.0**exp, self.max_delay)

    def forget(self, key: Hashable) -> None:
        self._failures.pop(key, None)

    def num_requeues(self, key: Hashable) -> int:
        return self._failures.get(key, 0)


class BucketRateLimiter:
    """A global token bucket: `burst` retries at once, then `qps` per second, for all keys.

    `when` reserves a token: while tokens are left it answers 0; once they are spent it answers
    how long until the token it reserved is refilled, so reservations queue up at 1/qps apart.
    It keeps no per-key state (`forget` does nothing, `num_requeues` is 0).
    """

    def __init__(self, qps: float = DEFAULT_QPS, burst: int = DEFAULT_BURST, *, clock: Clock | None = None) -> None:
        if qps <= 0 or burst < 1:
            raise ValueError("qps must be positive and burst at least 1")
        self.qps = qps
        self.burst = burst
        self.clock = clock or RealClock()
        self._tokens = float(burst)
        self._last: float | None = None

    def when(self, key: Hashable) -> float:
        now = self.clock.monotonic()
        if self._last is not None:
            self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
        self._last = now
        # Tokens may go negative: that is the queue of reservations made ahead of the refill.
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.qps

    def forget(self, key: Hashable) -> None:
        pass

    def num_requeues(self, key: Hashable) -> int:
        return 0


class MaxOfRateLimiter:
    """Several limiters at once: the longest wait wins; every limiter records every retry."""

    def __init__(self, *limiters: RateLimiter) -> None:
        if not limiters:
            raise ValueError("at least one limiter is needed")
        self.limiters = limiters

    def when(self, key: Hashable) -> float:
        # Ask every limiter (not max() over a generator that could stop early): each one
        # must record the retry.
        waits = [limiter.when(key) for limiter in self.limiters]
        return max(waits)

    def forget(self, key: Hashable) -> None:
        for limiter in self.limiters:
            limiter.forget(key)

    def num_requeues(self, key: Hashable) -> int:
        return max(limiter.num_requeues(key) for limiter in self.limiters)


def default_controller_rate_limiter(clock: Clock | None = None) -> MaxOfRateLimiter:
    """client-go's default for controllers: per-key 5 ms..1000 s backoff, max'd with a global
    10 qps / burst 100 bucket."""
    return MaxOfRateLimiter(
        ItemExponentialFailureRateLimiter(DEFAULT_BASE_DELAY, DEFAULT_MAX_DELAY),
        BucketRateLimiter(DEFAULT_QPS, DEFAULT_BURST, clock=clock),
    )


# ---------------------------------------------------------------------------------- the queue


@dataclass(frozen=True, slots=True)
class QueueStats:
    """A snapshot of a queue for "is there work?" questions (Cluster.settle()).

    `queued`: ready keys no worker holds yet (due delayed keys included). `in_flight`: keys
    handed out and not yet `done`. `delayed`: keys waiting for their time. `earliest_deadline`:
    the clock's monotonic time at which the first delayed key becomes due, or None.
    """

    queued: int
    in_flight: int
    delayed: int
    earliest_deadline: float | None

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing in flight (delayed keys may still be waiting)."""
        return self.queued == 0 and self.in_flight == 0


class WorkQueue(Generic[K]):
    """A deduplicating FIFO of keys with delays and per-key rate limiting (see the module doc).

    State: `_queue` holds ready keys in order; `_dirty` is every key that needs processing
    (queued, or added while in flight and so to be queued again by `done`); `_processing` is
    the keys handed out. A key is in `_queue` only if it is in `_dirty` and not in `_processing`.
    """

    def __init__(self, *, clock: Clock | None = None, rate_limiter: RateLimiter | None = None, name: str = "") -> None:
        self.clock = clock or RealClock()
        self.rate_limiter = rate_limiter or default_controller_rate_limiter(self.clock)
        self.name = name
        self._queue: deque[K] = deque()
        self._dirty: set[K] = set()
        self._processing: set[K] = set()
        self._shutting_down = False
        # Delayed keys: a heap of (deadline, seq, key); `_waiting` maps each key to its live
        # (deadline, seq). Entries superseded by an earlier deadline stay in the heap and are
        # skipped when they surface (lazy deletion keeps add_after O(log n)).
        self._delayed: list[tuple[float, int, K]] = []
        self._waiting: dict[K, tuple[float, int]] = {}
        self._seq = itertools.count()
        # Events are made on first need: anyio.Event needs a running event loop, and the queue
        # may be built before one exists. Setting one wakes every waiter, which then re-checks.
        self._wake: anyio.Event | None = None
        self._idle: anyio.Event | None = None

    async def __aenter__(self) -> WorkQueue[K]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.shutdown()

    # ------------------------------------------------------------------ adding

    def add(self, key: K) -> None:
        """Queue `key` unless it is already queued. If a worker holds it, it is queued again
        when that worker calls `done`. Ignored after shutdown."""
        if self._shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        if key in self._processing:
            return
        self._queue.append(key)
        self._notify_waiters()

    def add_after(self, key: K, seconds: float) -> None:
        """Queue `key` once `seconds` of clock time have passed (now if <= 0). A key already
        waiting keeps whichever deadline is earlier. Ignored after shutdown."""
        if self._shutting_down:
            return
        if seconds <= 0:
            self.add(key)
            return
        deadline = self.clock.monotonic() + seconds
        current = self._waiting.get(key)
        if current is not None and current[0] <= deadline:
            return
        entry = (deadline, next(self._seq))
        self._waiting[key] = entry
        heapq.heappush(self._delayed, (entry[0], entry[1], key))
        if self._earliest_deadline() == deadline:
            # Waiting getters sleep until the old earliest deadline; this one is sooner.
            self._notify_waiters()

    def add_rate_limited(self, key: K) -> None:
        """Queue `key` after its rate limiter's delay (and record one more retry)."""
        self.add_after(key, self.rate_limiter.when(key))

    def forget(self, key: K) -> None:
        """End `key`'s backoff: its next failure waits the base delay again. Does not unqueue."""
        self.rate_limiter.forget(key)

    def num_requeues(self, key: K) -> int:
        """Rate-limited retries of `key` since it was last forgotten."""
        return self.rate_limiter.num_requeues(key)

    # ------------------------------------------------------------------ taking

    async def get(self) -> K:
        """The next ready key, waiting (on the queue's clock, for delayed keys) until there is
        one. The caller now holds the key and must call `done(key)` when finished with it.

        Raises ShutDown once `shutdown()` has been called, even if keys were queued.
        """
        await anyio.lowlevel.checkpoint_if_cancelled()
        while True:
            if self._shutting_down:
                raise ShutDown(self.name)
            self._promote_due()
            if self._queue:
                key = self._queue.popleft()
                self._dirty.discard(key)
                self._processing.add(key)
                return key
            wake = self._wake_event()
            deadline = self._earliest_deadline()
            if deadline is None:
                await wake.wait()
            else:
                with self.clock.move_on_after(deadline - self.clock.monotonic()):
                    await wake.wait()

    def done(self, key: K) -> None:
        """Release a key returned by `get`; if it was added meanwhile, queue it again now."""
        self._processing.discard(key)
        if key in self._dirty and not self._shutting_down:
            self._queue.append(key)
            self._notify_waiters()
        self._notify_if_idle()

    def shutdown(self) -> None:
        """Stop the queue: waiting and future `get` calls raise ShutDown, adds are ignored,
        queued and delayed keys are dropped. Keys in flight stay so until `done`. Idempotent.

        Dropping queued keys is safe because controllers are level-triggered: a restarted
        controller re-lists and re-queues everything.
        """
        self._shutting_down = True
        self._queue.clear()
        self._dirty.clear()
        self._delayed.clear()
        self._waiting.clear()
        self._notify_waiters()
        self._notify_if_idle()

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    # ------------------------------------------------------------------ introspection

    def __len__(self) -> int:
        """Ready keys (due delayed keys included), not counting keys in flight."""
        self._promote_due()
        return len(self._queue)

    @property
    def queued(self) -> int:
        """Same as len(): ready keys not yet handed out."""
        return len(self)

    @property
    def in_flight(self) -> int:
        """Keys handed out by `get` and not yet `done`."""
        return len(self._processing)

    @property
    def delayed(self) -> int:
        """Keys waiting for their `add_after` deadline."""
        self._promote_due()
        return len(self._waiting)

    @property
    def earliest_deadline(self) -> float | None:
        """Monotonic clock time at which the first delayed key becomes due, or None."""
        self._promote_due()
        return self._earliest_deadline()

    def stats(self) -> QueueStats:
        """All the counters at one instant."""
        self._promote_due()
        return QueueStats(len(self._queue), len(self._processing), len(self._waiting), self._earliest_deadline())

    def is_idle(self) -> bool:
        """Nothing queued and nothing in flight; delayed keys do not count."""
        self._promote_due()
        return not self._queue and not self._processing

    async def wait_idle(self) -> None:
        """Return once nothing is queued and nothing is in flight.

        Delayed keys do not count: waiting for them is the caller's decision (a settle loop
        advances a virtual clock to `earliest_deadline` and waits again). Returns at once if
        already idle; a key queued right after the return is the caller's race to handle.
        """
        while not self.is_idle():
            if self._idle is None:
                self._idle = anyio.Event()
            await self._idle.wait()
        await anyio.lowlevel.checkpoint()

    # ------------------------------------------------------------------ internals

    def _wake_event(self) -> anyio.Event:
        if self._wake is None:
            self._wake = anyio.Event()
        return self._wake

    def _notify_waiters(self) -> None:
        if self._wake is not None:
            self._wake.set()
            self._wake = None

    def _notify_if_idle(self) -> None:
        if self._idle is not None and not self._queue and not self._processing:
            self._idle.set()
            self._idle = None

    def _earliest_deadline(self) -> float | None:
        while self._delayed:
            deadline, seq, key = self._delayed[0]
            if self._waiting.get(key) == (deadline, seq):
                return deadline
            heapq.heappop(self._delayed)  # superseded by an earlier deadline
        return None

    def _promote_due(self) -> None:
        """Move every delayed key whose deadline has passed into the queue, in deadline order."""
        if not self._delayed:
            return
        now = self.clock.monotonic()
        while self._delayed and self._delayed[0][0] <= now:
            deadline, seq, key = heapq.heappop(self._delayed)
            if self._waiting.get(key) == (deadline, seq):
                del self._waiting[key]
                self.add(key)


# ---------------------------------------------------------------------------------- workers

async def run_workers(
    queue: WorkQueue[K],
    n: int,
    reconcile: Callable[[K], Awaitable[float | None]],
    clock: Clock | None = None,
    *,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Run `n` workers on `queue` until it shuts down; return when all have stopped.

    Each worker takes a key and awaits `reconcile(key)`:
    - it raises: the error is logged and the key is re-queued with backoff (`add_rate_limited`);
    - it returns None: the key's backoff is forgotten;
    - it returns a float: backoff forgotten, and the key is queued again after that many
      seconds (a periodic re-check, not a failure).
    Either way the key is released (`done`), also when the worker is cancelled mid-reconcile.
    Cancellation and other BaseExceptions propagate: they are not reconcile failures.

    Start it with `tg.start(run_workers, queue, n, reconcile)` (started at once) or just await
    it; `clock` (default: the queue's) times reconciles for the logs.
    """
    if n < 1:
        raise ValueError("at least one worker is needed")
    clock = clock or queue.clock
    async with anyio.create_task_group() as tg:
        for index in range(n):
            tg.start_soon(_worker, queue, reconcile, clock, index)
        task_status.started()


async def _worker(
    queue: WorkQueue[K], reconcile: Callable[[K], Awaitable[float | None]], clock: Clock, index: int,
) -> None:
    while True:
        try:
            key = await queue.get()
        except ShutDown:
            return
        try:
            started = clock.monotonic()
            try:
                requeue_after = await reconcile(key)
            except Exception:
                log.warning(
                    "reconcile failed; requeued with backoff", queue=queue.name, worker=index, key=key,
                    requeues=queue.num_requeues(key), seconds=clock.monotonic() - started, exc_info=True,
                )
                queue.add_rate_limited(key)
                continue
            queue.forget(key)
            if requeue_after is not None:
                queue.add_after(key, requeue_after)
        finally:
            queue.done(key)
