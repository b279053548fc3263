"""The memory backend: the Backend protocol held entirely in this process.

For tests, embedding and throw-away clusters: nothing survives the process. It keeps the latest
value of every key (`Keyspace`) and every event since the last compaction (the `WatchHub`'s
log, unbounded); a read at an older revision undoes the events after it. A periodic compactor
on the injected clock forgets history older than one to two ``compact_interval`` (five minutes
by default, as Kubernetes compacts etcd), so memory stays bounded under steady churn.

URL: ``memory:``. Options: ``compact_interval`` (seconds, 0 disables periodic compaction) and
``watch_buffer`` (undelivered events a watcher may hold before it is ended).
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any, ClassVar

import anyio
import anyio.abc
import structlog

from kube_lite.clock import Clock, RealClock
from kube_lite.store.backend import (
    BackendUnavailableError,
    CompactedError,
    Event,
    FutureRevisionError,
    KeyValue,
    RangeResult,
    StoreError,
    decode_snapshot,
    encode_snapshot,
)
from kube_lite.store.compactor import DEFAULT_COMPACT_INTERVAL, run_periodic_compaction
from kube_lite.store.mvcc import (
    Keyspace,
    WriteKind,
    WriteOp,
    changes_since,
    checked_write,
    key_bounds,
    validate_snapshot,
)
from kube_lite.store.watchhub import HubWatch, WatchHub

log = structlog.get_logger(__name__)

DEFAULT_WATCH_BUFFER = 10_000


def _closed_error(_: int) -> StoreError:
    return BackendUnavailableError("backend closed")


class MemoryBackend:
    """An in-process Backend; use it as an async context manager (it owns the compactor task).

    Writes apply at once, each followed by one checkpoint, so a tight loop of writes still lets
    watchers run; reads never wait.
    """

    #: Restore gives every key its snapshot revisions and the store the snapshot's revision.
    restores_revisions: ClassVar[bool] = True

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        compact_interval: float = DEFAULT_COMPACT_INTERVAL,
        watch_buffer: int = DEFAULT_WATCH_BUFFER,
    ) -> None:
        self.clock = clock or RealClock()
        self.compact_interval = compact_interval
        self._keyspace = Keyspace()
        self._hub = WatchHub(log_size=None, watcher_buffer=watch_buffer)
        self._compacted = 0
        # The first revision whose event is held: 1, or just after the revision of a restore.
        self._history_start = 1
        self._open = False
        self._stack: AsyncExitStack | None = None

    @classmethod
    def from_url(cls, url: str, *, clock: Clock | None = None, **options: Any) -> MemoryBackend:
        """Build from ``memory:``. Raises ValueError for anything after the colon."""
        scheme, _, rest = url.partition(":")
        if scheme != "memory" or rest.strip("/"):
            raise ValueError(f"memory backend URL is just 'memory:', not {url!r}")
        return cls(clock=clock, **options)

    def __repr__(self) -> str:
        return f"MemoryBackend(revision={self._keyspace.revision})"

    async def __aenter__(self) -> MemoryBackend:
        async with AsyncExitStack() as stack:
            tg = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(tg.cancel_scope.cancel)
            if self.compact_interval > 0:
                tg.start_soon(run_periodic_compaction, self.clock, self.compact_interval, self)
            self._open = True
            self._stack = stack.pop_all()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._open = False
        self._hub.close(_closed_error)
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()

    def _check_open(self) -> None:
        if not self._open:
            raise BackendUnavailableError("memory backend is not open")

    # --- reads

    async def current_revision(self) -> int:
        return self._keyspace.revision

    def _changes_since(self, revision: int, lo: str, hi: str | None) -> dict[str, KeyValue | None] | None:
        """The undo map from the latest state back to `revision` (None: it is the latest).
        Raises CompactedError, FutureRevisionError."""
        self._check_open()
        current = self._keyspace.revision
        if revision == 0 or revision == current:
            return None
        if revision > current:
            raise FutureRevisionError(revision, current)
        if revision < self._compacted or not self._hub.log.covers(revision + 1):
            raise CompactedError(revision, self._compacted)
        return changes_since(self._hub.log.since(revision + 1), lo, hi)

    async def get(self, key: str, *, revision: int = 0) -> KeyValue | None:
        changes = self._changes_since(revision, key, key + "\x00")
        if changes is None:
            return self._keyspace.get(key)
        return self._keyspace.get_at(key, changes)

    async def range(
        self, prefix: str, *, start: str | None = None, limit: int = 0, revision: int = 0
    ) -> RangeResult:
        lo, hi = key_bounds(prefix, start)
        read_at = revision or self._keyspace.revision
        changes = self._changes_since(revision, lo, hi)
        kvs, count = self._keyspace.range(prefix, start, limit, changes)
        return RangeResult(kvs, read_at, count > len(kvs), count)

    # --- writes

    async def _write(self, op: WriteOp) -> Event:
        self._check_open()
        events, outcomes = self._keyspace.plan((op,))
        outcome = outcomes[0]
        if not isinstance(outcome, StoreError):
            self._keyspace.apply(events)
            self._hub.publish(events)
        # One checkpoint per write, after it: a tight loop of writes (failed ones too) still
        # lets other tasks run, and the watchers this write woke (the API server's watch cache)
        # see it before the writer goes on, so the writer's next read-your-writes check need
        # not wait for them. As with any backend, a write whose caller is cancelled meanwhile
        # may have been applied.
        await anyio.lowlevel.checkpoint()
        if isinstance(outcome, StoreError):
            raise outcome
        return outcome

    async def create(self, key: str, value: bytes) -> int:
        value = checked_write(key, value)
        return (await self._write(WriteOp(WriteKind.CREATE, key, value))).kv.mod_revision

    async def update(self, key: str, value: bytes, *, expected_revision: int) -> int:
        value = checked_write(key, value)
        return (await self._write(WriteOp(WriteKind.UPDATE, key, value, expected_revision))).kv.mod_revision

    async def delete(self, key: str, *, expected_revision: int = 0) -> tuple[int, KeyValue]:
        checked_write(key, b"")
        event = await self._write(WriteOp(WriteKind.DELETE, key, b"", expected_revision))
        assert event.prev_kv is not None
        return event.kv.mod_revision, event.prev_kv

    # --- watch

    def watch(self, prefix: str, *, from_revision: int = 0) -> HubWatch:
        """See `Backend.watch`. The watch is registered by this call, so from_revision 0 means
        "after the revision current when watch() was called". Raises BackendUnavailableError
        when the backend is not open."""
        self._check_open()
        return self._hub.watch(prefix, from_revision, self)

    def watch_floor(self) -> tuple[int, int]:
        return max(self._compacted, self._history_start), self._compacted

    async def read_history(self, prefix: str, from_revision: int, to_revision: int, limit: int) -> list[Event]:
        # Every event from the watch floor on is in the hub's log; older ones are gone.
        raise CompactedError(from_revision, self._compacted)

    # --- compaction

    async def compact(self, revision: int) -> None:
        """Forget history below `revision`. Raises FutureRevisionError past the current one.

        The event at `revision` itself is kept (with its prev_kv), so a watch can still start
        exactly at the compact revision."""
        self._check_open()
        if revision <= self._compacted:
            return
        current = self._keyspace.revision
        if revision > current:
            raise FutureRevisionError(revision, current)
        self._compacted = revision
        self._hub.log.drop_before(revision)
        log.debug("memory backend compacted", revision=revision, events_kept=len(self._hub.log))

    async def compact_revision(self) -> int:
        return self._compacted

    # --- snapshots

    async def snapshot(self) -> bytes:
        self._check_open()
        return encode_snapshot(self._keyspace.revision, self._keyspace.values())

    async def restore(self, data: bytes) -> None:
        """Replace the state with a snapshot: keys keep their revisions, the store's revision is
        the snapshot's and history before it is gone (compacted). Every open watch ends with
        CompactedError. Raises ValueError for data that is not a valid snapshot."""
        self._check_open()
        revision, kvs = decode_snapshot(data)
        validate_snapshot(revision, kvs)
        self._keyspace.reset(revision, kvs)
        self._compacted = revision
        self._history_start = revision + 1
        self._hub.reset(revision, lambda requested: CompactedError(requested, revision))
        log.info("memory backend restored", revision=revision, keys=len(kvs))

