"""In-process watch fan-out for the memory and SQLite backends.

A backend publishes every committed batch of events to its `WatchHub`, in revision order. The hub
keeps the most recent events in an `EventLog` (all of them since compaction for the memory
backend; a bounded ring for SQLite, whose older events stay in the database) and appends each
batch to the buffer of every subscribed watcher whose prefix matches.

A `HubWatch` joins history and live events without a gap or a duplicate: when it is created
(synchronously, in `Backend.watch`) it subscribes and notes the hub's revision, the *seam*. Live
events after the seam arrive through the subscription; events from the requested revision up to
the seam are read from the log or, when the log no longer reaches back that far, from the
backend's history (`WatchSource.read_history`). A watcher whose buffer grows past its limit is
unsubscribed and ends with `WatcherTooSlowError`, a CompactedError, rather than holding memory
without bound.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Protocol

import anyio

from kube_lite.store.backend import CompactedError, Event, StoreError

HISTORY_PAGE = 1000
"""Events read from a backend's history per call while a watch catches up."""


class WatcherTooSlowError(CompactedError):
    """A watcher fell so far behind the writes that its buffer overflowed; it was ended and the
    caller must re-list and watch again (Kubernetes closes such a watch the same way)."""

    def __init__(self, requested: int, compact_revision: int, limit: int) -> None:
        super().__init__(requested, compact_revision)
        self.args = (
            f"watcher fell more than {limit} events behind; ended at revision {requested}: "
            "re-list and watch again",
        )


class EventLog:
    """The most recent events, exactly one per revision and without gaps, oldest first.

    `maxlen` None keeps everything until `drop_before`; otherwise the oldest are forgotten as
    new ones arrive (at most 2*maxlen are held between trims, so trimming is amortized O(1)).
    """

    __slots__ = ("_events", "_offset", "_next", "_maxlen")

    def __init__(self, maxlen: int | None = None, next_revision: int = 1) -> None:
        self._events: list[Event] = []
        self._offset = 0
        self._next = next_revision
        self._maxlen = maxlen

    def __len__(self) -> int:
        return len(self._events) - self._offset

    @property
    def first(self) -> int:
        """Revision of the oldest event held (the next revision when the log is empty)."""
        return self._next - len(self)

    def reset(self, next_revision: int) -> None:
        """Forget everything; the next event appended will have `next_revision`."""
        self._events = []
        self._offset = 0
        self._next = next_revision

    def append(self, events: list[Event]) -> None:
        """Add events that follow the last one without a gap. Raises ValueError otherwise."""
        if not events:
            return
        if events[0].kv.mod_revision != self._next:
            raise ValueError(f"event log expects revision {self._next}, got {events[0].kv.mod_revision}")
        self._events.extend(events)
        self._next = events[-1].kv.mod_revision + 1
        if self._maxlen is not None and len(self) > self._maxlen:
            self._offset = len(self._events) - self._maxlen
            if self._offset >= self._maxlen:
                del self._events[: self._offset]
                self._offset = 0

    def covers(self, revision: int) -> bool:
        """Whether every event from `revision` on is held."""
        return revision >= self.first

    def since(self, from_revision: int, to_revision: int | None = None) -> list[Event]:
        """Events with from_revision <= revision <= to_revision (None: the last). The caller
        checks `covers(from_revision)` first."""
        base = self._offset - self.first
        lo = base + max(from_revision, self.first)
        hi = len(self._events) if to_revision is None else min(len(self._events), base + to_revision + 1)
        return self._events[lo:hi]

    def drop_before(self, revision: int) -> None:
        """Forget events older than `revision` (compaction)."""
        drop = min(revision - self.first, len(self))
        if drop <= 0:
            return
        self._offset += drop
        if self._offset >= len(self._events) // 2:
            del self._events[: self._offset]
            self._offset = 0


class WatchSource(Protocol):
    """What a HubWatch needs from its backend besides the hub."""

    def watch_floor(self) -> tuple[int, int]:
        """(the oldest revision a watch can start from, the compact revision)."""
        ...

    async def read_history(self, prefix: str, from_revision: int, to_revision: int, limit: int) -> list[Event]:
        """Events under `prefix` with from_revision <= revision <= to_revision, in order, at most
        `limit`. Called only for revisions the hub's log no longer holds."""
        ...


class _Subscription:
    __slots__ = ("prefix", "buffer", "waiter", "failure", "closed")

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.buffer: deque[Event] = deque()
        self.waiter: anyio.Event | None = None
        # Set when the hub ends this watcher: builds the error from the watcher's position.
        self.failure: Callable[[int], StoreError] | None = None
        self.closed = False

    def fail(self, failure: Callable[[int], StoreError]) -> None:
        self.failure = failure
        self.buffer.clear()
        self._wake()

    def _wake(self) -> None:
        if self.waiter is not None:
            self.waiter.set()
            self.waiter = None


class WatchHub:
    """Fans committed events out to watchers and keeps the recent ones.

    `log_size` None keeps every event until `log.drop_before` (the memory backend's history);
    `watcher_buffer` is how many undelivered events one watcher may hold before it is ended.
    """

    def __init__(self, *, log_size: int | None, watcher_buffer: int, revision: int = 0) -> None:
        self.log = EventLog(log_size, revision + 1)
        self.revision = revision
        self.watcher_buffer = watcher_buffer
        self._subs: set[_Subscription] = set()
        self._closed: Callable[[int], StoreError] | None = None

    @property
    def watcher_count(self) -> int:
        return len(self._subs)

    def publish(self, events: list[Event]) -> None:
        """Record committed events (the next revisions, in order) and hand them to watchers."""
        if not events:
            return
        self.log.append(events)
        self.revision = events[-1].kv.mod_revision
        if not self._subs:
            return
        limit = self.watcher_buffer
        for sub in list(self._subs):
            prefix = sub.prefix
            matched = [e for e in events if e.kv.key.startswith(prefix)] if prefix else events
            if not matched:
                continue
            sub.buffer.extend(matched)
            if len(sub.buffer) > limit:
                self._subs.discard(sub)
                sub.fail(self._too_slow)
            else:
                sub._wake()

    def _too_slow(self, requested: int) -> StoreError:
        return WatcherTooSlowError(requested, self.revision, self.watcher_buffer)

    def reset(self, revision: int, failure: Callable[[int], StoreError]) -> None:
        """The state was replaced (restore): end every watcher with `failure` and start over
        at `revision`, with an empty log."""
        for sub in self._subs:
            sub.fail(failure)
        self._subs.clear()
        self.log.reset(revision + 1)
        self.revision = revision

    def close(self, failure: Callable[[int], StoreError]) -> None:
        """End every watcher, present and future, with `failure` (the backend is closing)."""
        self._closed = failure
        for sub in self._subs:
            sub.fail(failure)
        self._subs.clear()

    def watch(self, prefix: str, from_revision: int, source: WatchSource) -> HubWatch:
        """Start a watch now (see `HubWatch`). Raises ValueError for a negative revision."""
        if from_revision < 0:
            raise ValueError(f"watch from a negative revision {from_revision}")
        sub = _Subscription(prefix)
        if self._closed is not None:
            sub.failure = self._closed
        else:
            self._subs.add(sub)
        return HubWatch(self, sub, from_revision or self.revision + 1, source)

    def _unsubscribe(self, sub: _Subscription) -> None:
        self._subs.discard(sub)


class HubWatch:
    """One watch: an async iterator of events under a prefix from a revision, each exactly once.

    Raises CompactedError when it must start (or continue catching up) below what the backend
    still holds, WatcherTooSlowError when it fell too far behind, and whatever error the hub
    was closed or reset with. `aclose()` (or ``async with``) unsubscribes at once; a watch that
    is simply dropped is unsubscribed when it is garbage-collected.
    """

    def __init__(self, hub: WatchHub, sub: _Subscription, from_revision: int, source: WatchSource) -> None:
        self._hub = hub
        self._sub = sub
        self._source = source
        self._resume = from_revision  # the lowest revision the caller has not been given
        self._scan = from_revision  # the lowest revision not yet read from history
        self._seam = hub.revision  # events up to here come from history, later ones live
        self._pending: deque[Event] = deque()

    def __aiter__(self) -> HubWatch:
        return self

    async def __aenter__(self) -> HubWatch:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop watching; further iteration ends."""
        self._sub.closed = True
        self._hub._unsubscribe(self._sub)

    def __del__(self) -> None:
        self._hub._unsubscribe(self._sub)

    async def __anext__(self) -> Event:
        sub = self._sub
        while True:
            if self._pending:
                event = self._pending.popleft()
                self._resume = event.kv.mod_revision + 1
                return event
            if sub.closed:
                raise StopAsyncIteration
            if sub.failure is not None:
                raise sub.failure(self._resume)
            if self._scan > self._seam:
                break
            await self._catch_up()
        buffer = sub.buffer
        while True:
            while not buffer:
                if sub.failure is not None:
                    raise sub.failure(self._resume)
                if sub.closed:
                    raise StopAsyncIteration
                waiter = sub.waiter = anyio.Event()
                await waiter.wait()
            event = buffer.popleft()
            revision = event.kv.mod_revision
            if revision >= self._resume:  # earlier ones precede a watch from a future revision
                self._resume = revision + 1
                return event

    async def _catch_up(self) -> None:
        """Move the next page of history between `_scan` and the seam into `_pending`."""
        source, prefix, first = self._source, self._sub.prefix, self._scan
        oldest, compacted = source.watch_floor()
        if first < oldest:
            raise CompactedError(first, compacted)
        log = self._hub.log
        if log.covers(first):
            events = log.since(first, self._seam)
            self._scan = self._seam + 1
            if prefix:
                self._pending.extend(e for e in events if e.kv.key.startswith(prefix))
            else:
                self._pending.extend(events)
            return
        events = await source.read_history(prefix, first, self._seam, HISTORY_PAGE)
        # Compaction may have removed part of what was read while the read was under way.
        oldest, compacted = source.watch_floor()
        if first < oldest:
            raise CompactedError(first, compacted)
        full = len(events) >= HISTORY_PAGE
        self._scan = events[-1].kv.mod_revision + 1 if full else self._seam + 1
        self._pending.extend(events)
