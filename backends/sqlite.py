"""The SQLite backend: the Backend protocol in one SQLite file, through aiosqlite.

Layout. One table holds one row per write, keyed by its revision::

    kv(revision PK, key, value, create_revision, version, prev_revision)

``version`` 0 marks a delete (a tombstone) and ``prev_revision`` is the row the write superseded
(0 for a create), so an event and its ``prev_kv`` are one join on the primary key. Nothing is
indexed by key: the latest state of every key lives in memory (`Keyspace`), a read at an older
revision undoes the events after it, and watch catch-up, undo and compaction all scan revision
ranges. Every insert therefore touches only the right edge of one b-tree, which is what makes
group commit cheap (a (key, revision) index measured three times slower per row). The price is
paid by reads far back: their cost grows with the number of writes since the revision read at
(served from memory within the last ``watch_history`` writes). A ``meta`` table holds the
compact revision and what restore and physical compaction need to survive a restart.

Writes. Callers enqueue; one writer task takes everything queued (up to ``max_batch``), checks
compare-and-swap and assigns revisions in memory, in order (`Keyspace.plan`), and persists the
whole batch as ONE multi-row INSERT in autocommit mode: one thread hop, one transaction, one WAL
fsync (``synchronous=FULL``: an acknowledged write survives a power cut). Only after that commit
are the writes applied to the in-memory state, published to watchers and acknowledged. If the
INSERT fails (disk full, I/O error), SQLite rolls the statement back, every write of the batch
fails with BackendUnavailableError and nothing changes, in memory or on disk.

Compaction. `compact` records the compact revision and then deletes, in steps of
``compact_batch`` revisions (one statement each, interleaved with write batches), every row
superseded below the compact revision and every tombstone below it; the event at the compact
revision keeps its prev_kv, so a watch may start there. A periodic compactor on the injected
clock compacts to the revision of one ``compact_interval`` ago (five minutes, as Kubernetes
does), so the file stops growing under steady churn; freed pages are reused and the WAL is
checkpointed (TRUNCATE) after each compaction, besides SQLite's automatic checkpoints.

Watches. Committed events go to an in-process `WatchHub` whose ring keeps the last
``watch_history`` events; a watch from further back catches up from the table, then goes live
with no gap and no duplicate.

URL: ``sqlite:PATH`` (relative to the working directory, or absolute; ``sqlite:///abs`` also
works). Options: see `SQLiteBackend`.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import AsyncExitStack, contextmanager
from typing import Any, ClassVar

import aiosqlite
import anyio
import structlog

from kube_lite.clock import Clock, RealClock
from kube_lite.store.backend import (
    BackendUnavailableError,
    CompactedError,
    Event,
    EventType,
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

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    revision INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    create_revision INTEGER NOT NULL,
    version INTEGER NOT NULL,
    prev_revision INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
"""

# An event row joined with the row it superseded (its prev_kv).
_EVENT_COLUMNS = """c.revision, c.key, c.value, c.create_revision, c.version, c.prev_revision,
    p.revision, p.value, p.create_revision, p.version"""

_COMPACT_STEP_SQL = """
DELETE FROM kv WHERE revision IN (
    SELECT prev_revision FROM kv WHERE revision >= ?1 AND revision < ?2 AND prev_revision > 0
    UNION ALL
    SELECT revision FROM kv WHERE revision >= ?1 AND revision < ?2 AND version = 0)
"""

_SET_META_SQL = "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)"

_COLUMNS = 6  # values bound per row of the batch INSERT


def _insert_sql(rows: int) -> str:
    """One INSERT of `rows` rows. Batches are padded to a power of two with all-NULL rows that
    the WHERE drops, so that a handful of prepared statements serve every batch size."""
    values = ",".join(["(?,?,?,?,?,?)"] * rows)
    return (
        "INSERT INTO kv (revision, key, value, create_revision, version, prev_revision) "
        f"SELECT * FROM (VALUES {values}) WHERE column1 IS NOT NULL"
    )


@contextmanager
def _storage_errors(path: str, what: str) -> Iterator[None]:
    """Turn SQLite's errors (disk full, I/O error, corruption) into BackendUnavailableError."""
    try:
        yield
    except sqlite3.Error as exc:
        raise BackendUnavailableError(f"sqlite backend {path}: {what} failed: {exc}") from exc


def _closed_error(_: int) -> StoreError:
    return BackendUnavailableError("backend closed")


def _event_from_row(row: Sequence[Any]) -> Event:
    """Build an event from `_EVENT_COLUMNS`. Raises CompactedError when its prev row is gone."""
    revision, key, value, create_revision, version, prev_revision, p_rev, p_value, p_create, p_version = row
    prev = None
    if prev_revision:
        if p_rev is None:
            raise CompactedError(revision, prev_revision)
        prev = KeyValue(key, p_value, p_create, p_rev, p_version)
    if version == 0:
        return Event(EventType.DELETE, KeyValue(key, b"", 0, revision, 0), prev)
    return Event(EventType.PUT, KeyValue(key, value, create_revision, revision, version), prev)


class SQLiteBackend:
    """A Backend on one SQLite file; use it as an async context manager (it owns the writer
    and the compactor tasks and the aiosqlite connection). Needs anyio's asyncio backend
    (aiosqlite does).

    Options: ``compact_interval`` (seconds of clock time between periodic compactions, 0: none),
    ``watch_buffer`` (undelivered events a watcher may hold before it is ended),
    ``watch_history`` (recent events kept in memory for watch catch-up and old reads),
    ``max_batch`` (writes per commit), ``compact_batch`` (revisions per compaction statement),
    ``journal_size_limit`` (bytes the WAL file is truncated to after a checkpoint).

    A write whose caller is cancelled while it waits may still be committed (as with etcd).
    """

    #: Restore gives every key its snapshot revisions and the store the snapshot's revision.
    restores_revisions: ClassVar[bool] = True

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Clock | None = None,
        compact_interval: float = DEFAULT_COMPACT_INTERVAL,
        watch_buffer: int = 10_000,
        watch_history: int = 10_000,
        max_batch: int = 1024,
        compact_batch: int = 2_000,
        journal_size_limit: int = 64 << 20,
    ) -> None:
        if max_batch < 1 or max_batch * _COLUMNS > 32_000:
            raise ValueError(f"max_batch must be between 1 and {32_000 // _COLUMNS}")
        self.path = os.fspath(path)
        self.clock = clock or RealClock()
        self.compact_interval = compact_interval
        self.max_batch = max_batch
        self.compact_batch = compact_batch
        self.journal_size_limit = journal_size_limit
        self.watch_buffer = watch_buffer
        self.watch_history = watch_history
        self._keyspace = Keyspace()
        self._hub = WatchHub(log_size=watch_history, watcher_buffer=watch_buffer)
        self._conn: aiosqlite.Connection | None = None
        self._stack: AsyncExitStack | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Held around every use of the connection, so that a multi-statement restore or a
        # read that combines the table with the in-memory state sees no write half-applied.
        self._lock = anyio.Lock()
        self._compaction_lock = anyio.Lock()
        self._queue: deque[tuple[WriteOp, asyncio.Future[Event]]] = deque()
        self._wakeup: anyio.Event | None = None
        self._writer_done = anyio.Event()
        self._closing = True
        self._compacted = 0  # logical: reads and watches below it fail
        self._physical = 0  # rows below this revision have been compacted physically
        self._history_start = 1  # the oldest revision with an event row (after a restore: R+1)
        self._revision_floor = 0  # the revision of the last restore, which may have no row
        self._sql_by_rows: dict[int, str] = {}
        #: Commits made and writes they carried (for tests and benchmarks).
        self.batches = 0
        self.batched_writes = 0

    @classmethod
    def from_url(cls, url: str, *, clock: Clock | None = None, **options: Any) -> SQLiteBackend:
        """Build from ``sqlite:PATH``. Raises ValueError when PATH is missing."""
        scheme, _, path = url.partition(":")
        if scheme != "sqlite":
            raise ValueError(f"not a sqlite URL: {url!r}")
        if path.startswith("///"):
            path = path[2:]
        if not path:
            raise ValueError(f"sqlite backend URL needs a path: sqlite:PATH, not {url!r}")
        return cls(path, clock=clock, **options)

    def __repr__(self) -> str:
        return f"SQLiteBackend({self.path!r}, revision={self._keyspace.revision})"

    # --- lifecycle

    async def __aenter__(self) -> SQLiteBackend:
        self._loop = asyncio.get_running_loop()
        async with AsyncExitStack() as stack:
            with _storage_errors(self.path, "opening the database"):
                conn = await aiosqlite.connect(self.path, isolation_level=None, cached_statements=64)
                stack.push_async_callback(conn.close)
                self._conn = conn
                await self._open_database(conn)
            tg = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(tg.cancel_scope.cancel)
            self._closing = False
            self._writer_done = anyio.Event()
            tg.start_soon(self._writer)
            if self._physical < self._compacted:  # a compaction was cut short by a stop
                tg.start_soon(self._resume_compaction)
            if self.compact_interval > 0:
                tg.start_soon(run_periodic_compaction, self.clock, self.compact_interval, self)
            self._stack = stack.pop_all()
        log.info(
            "sqlite backend open",
            path=self.path,
            revision=self._keyspace.revision,
            keys=len(self._keyspace),
            compact_revision=self._compacted,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop taking writes, commit those already queued, end every watch, close the file."""
        if not self._closing:
            self._closing = True
            self._wake_writer()
            with anyio.CancelScope(shield=True):
                await self._writer_done.wait()
        self._hub.close(_closed_error)
        stack, self._stack = self._stack, None
        try:
            if stack is not None:
                await stack.aclose()
        finally:
            self._conn = None

    async def _open_database(self, conn: aiosqlite.Connection) -> None:
        """Set the pragmas, create the schema, load the latest state and the metadata."""
        async with conn.execute("PRAGMA journal_mode=WAL") as cursor:
            mode = await cursor.fetchone()
        if mode is None or str(mode[0]).lower() != "wal":
            log.warning("sqlite backend is not in WAL mode", path=self.path, journal_mode=mode)
        await conn.executescript(
            "PRAGMA synchronous=FULL;"
            f"PRAGMA journal_size_limit={int(self.journal_size_limit)};"
            + _SCHEMA
            + f"INSERT OR IGNORE INTO meta VALUES ('schema', {SCHEMA_VERSION});"
        )
        meta = {name: value for name, value in await conn.execute_fetchall("SELECT name, value FROM meta")}
        if meta.get("schema") != SCHEMA_VERSION:
            raise BackendUnavailableError(f"{self.path}: unknown schema version {meta.get('schema')}")
        # A row is a key's latest value when no later row names it as the value it superseded.
        rows = await conn.execute_fetchall(
            "SELECT revision, key, value, create_revision, version FROM kv WHERE version > 0 "
            "AND revision NOT IN (SELECT prev_revision FROM kv WHERE prev_revision > 0)"
        )
        top = await conn.execute_fetchall("SELECT coalesce(max(revision), 0) FROM kv")
        self._revision_floor = meta.get("revision_floor", 0)
        revision = max(next(iter(top))[0], self._revision_floor)
        self._keyspace.reset(
            revision, (KeyValue(key, value, create, rev, version) for rev, key, value, create, version in rows)
        )
        self._compacted = meta.get("compact_revision", 0)
        self._physical = meta.get("physical_compact", 0)
        self._history_start = meta.get("history_start", 1)
        self._hub = WatchHub(log_size=self.watch_history, watcher_buffer=self.watch_buffer, revision=revision)

    def _connection(self) -> aiosqlite.Connection:
        """The connection, for callers from outside. Raises BackendUnavailableError once the
        backend is closing or closed."""
        if self._conn is None or self._closing:
            raise BackendUnavailableError(f"sqlite backend {self.path} is not open")
        return self._conn

    def _db(self) -> aiosqlite.Connection:
        """The connection, for the writer and the compactor, which finish their work while the
        backend closes. Raises BackendUnavailableError once it is closed."""
        if self._conn is None:
            raise BackendUnavailableError(f"sqlite backend {self.path} is closed")
        return self._conn

    # --- writes

    def _wake_writer(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()
            self._wakeup = None

    async def _write(self, op: WriteOp) -> Event:
        if self._closing:
            raise BackendUnavailableError(f"sqlite backend {self.path} is not open")
        assert self._loop is not None
        future: asyncio.Future[Event] = self._loop.create_future()
        self._queue.append((op, future))
        if self._wakeup is not None:
            self._wakeup.set()
            self._wakeup = None
        return await future

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

    async def _writer(self) -> None:
        """Commit queued writes in batches until the backend closes and the queue is empty."""
        queue = self._queue
        try:
            while True:
                if not queue:
                    if self._closing:
                        return
                    self._wakeup = wakeup = anyio.Event()
                    await wakeup.wait()
                    continue
                batch = [queue.popleft() for _ in range(min(len(queue), self.max_batch))]
                try:
                    await self._commit(batch)
                except BaseException:
                    # Cancelled before the batch was persisted (or a bug): never leave its
                    # callers waiting.
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(BackendUnavailableError("backend closed before the write"))
                    raise
        finally:
            # Whatever is still queued (the writer was cancelled) fails rather than hangs.
            while queue:
                _, future = queue.popleft()
                if not future.done():
                    future.set_exception(BackendUnavailableError("backend closed before the write"))
            self._writer_done.set()

    async def _commit(self, batch: list[tuple[WriteOp, asyncio.Future[Event]]]) -> None:
        """Plan, persist, apply, publish and acknowledge one batch (see the module docstring)."""
        async with self._lock:
            # Shielded: once the INSERT is under way, memory must follow what the file holds.
            with anyio.CancelScope(shield=True):
                events, outcomes = self._keyspace.plan([op for op, _ in batch])
                if events:
                    try:
                        await self._persist(events)
                    except Exception as exc:
                        log.error("sqlite write batch failed", path=self.path, writes=len(batch), error=str(exc))
                        message = (
                            f"write not persisted: the SQLite commit of a batch of {len(batch)} writes "
                            f"failed ({type(exc).__name__}: {exc}); none of them was applied"
                        )
                        for _, future in batch:
                            if not future.done():
                                error = BackendUnavailableError(message)
                                error.__cause__ = exc
                                future.set_exception(error)
                        return
                    self._keyspace.apply(events)
                    self._hub.publish(events)
                    self.batches += 1
                    self.batched_writes += len(events)
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():  # the caller was cancelled
                continue
            if isinstance(outcome, StoreError):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    async def _persist(self, events: list[Event]) -> None:
        """Write `events` as one autocommit INSERT: one thread hop, one transaction."""
        params: list[Any] = []
        extend = params.extend
        for event in events:
            kv, prev = event.kv, event.prev_kv
            extend((kv.mod_revision, kv.key, kv.value, kv.create_revision, kv.version,
                    prev.mod_revision if prev is not None else 0))
        rows = 1 << (len(events) - 1).bit_length()
        params.extend([None] * ((rows - len(events)) * _COLUMNS))
        sql = self._sql_by_rows.get(rows)
        if sql is None:
            sql = self._sql_by_rows[rows] = _insert_sql(rows)
        await self._db().execute(sql, params)

    # --- reads

    async def current_revision(self) -> int:
        return self._keyspace.revision

    def _check_read(self, revision: int) -> bool:
        """Whether a read at `revision` is of the latest state. Raises CompactedError,
        FutureRevisionError, BackendUnavailableError."""
        self._connection()
        current = self._keyspace.revision
        if revision == 0 or revision == current:
            return True
        if revision > current:
            raise FutureRevisionError(revision, current)
        if revision < self._compacted:
            raise CompactedError(revision, self._compacted)
        return False

    async def get(self, key: str, *, revision: int = 0) -> KeyValue | None:
        if self._check_read(revision):
            return self._keyspace.get(key)
        changes = await self._changes_since(revision, key, key + "\x00", single=key)
        return self._keyspace.get_at(key, changes)

    async def range(
        self, prefix: str, *, start: str | None = None, limit: int = 0, revision: int = 0
    ) -> RangeResult:
        if self._check_read(revision):
            read_at = self._keyspace.revision
            kvs, count = self._keyspace.range(prefix, start, limit)
        else:
            lo, hi = key_bounds(prefix, start)
            read_at = revision
            changes = await self._changes_since(revision, lo, hi)
            kvs, count = self._keyspace.range(prefix, start, limit, changes)
        return RangeResult(kvs, read_at, count > len(kvs), count)

    async def _changes_since(
        self, revision: int, lo: str, hi: str | None, *, single: str | None = None
    ) -> dict[str, KeyValue | None]:
        """The undo map for keys in [lo, hi) from the latest state back to `revision`, from the
        hub's ring when it reaches back that far, else from the table. The table read holds the
        lock, so that the latest state cannot move between the read and its use."""
        log_ = self._hub.log
        if log_.covers(revision + 1):
            return changes_since(log_.since(revision + 1), lo, hi)
        async with self._lock:
            conn = self._connection()
            if revision < self._compacted:
                raise CompactedError(revision, self._compacted)
            current = self._keyspace.revision
            if single is not None:
                sql = (
                    "SELECT c.key, c.prev_revision, p.revision, p.value, p.create_revision, p.version "
                    "FROM kv AS c LEFT JOIN kv AS p ON p.revision = c.prev_revision "
                    "WHERE c.revision > ? AND c.revision <= ? AND c.key = ? ORDER BY c.revision LIMIT 1"
                )
                params: tuple[Any, ...] = (revision, current, single)
            else:
                bound = "" if hi is None else " AND key < ?"
                sql = (
                    "SELECT c.key, c.prev_revision, p.revision, p.value, p.create_revision, p.version "
                    "FROM kv AS c LEFT JOIN kv AS p ON p.revision = c.prev_revision "
                    "WHERE c.revision IN (SELECT min(revision) FROM kv "
                    f"WHERE revision > ? AND revision <= ? AND key >= ?{bound} GROUP BY key)"
                )
                params = (revision, current, lo) if hi is None else (revision, current, lo, hi)
            with _storage_errors(self.path, "read at an older revision"):
                rows = await conn.execute_fetchall(sql, params)
        changes: dict[str, KeyValue | None] = {}
        for key, prev_revision, p_rev, p_value, p_create, p_version in rows:
            if prev_revision and p_rev is None:
                raise CompactedError(revision, self._compacted)
            changes[key] = KeyValue(key, p_value, p_create, p_rev, p_version) if prev_revision else None
        return changes

    # --- watch

    def watch(self, prefix: str, *, from_revision: int = 0) -> HubWatch:
        """See `Backend.watch`. The watch is registered by this call, so from_revision 0 means
        "after the revision current when watch() was called". Raises BackendUnavailableError
        when the backend is not open."""
        self._connection()
        return self._hub.watch(prefix, from_revision, self)

    def watch_floor(self) -> tuple[int, int]:
        return max(self._compacted, self._history_start), self._compacted

    async def read_history(self, prefix: str, from_revision: int, to_revision: int, limit: int) -> list[Event]:
        lo, hi = key_bounds(prefix, None)
        where = "c.revision >= ? AND c.revision <= ?"
        params: list[Any] = [from_revision, to_revision]
        if prefix:
            where += " AND c.key >= ?"
            params.append(lo)
        if hi is not None:
            where += " AND c.key < ?"
            params.append(hi)
        params.append(limit)
        sql = (
            f"SELECT {_EVENT_COLUMNS} FROM kv AS c LEFT JOIN kv AS p ON p.revision = c.prev_revision "
            f"WHERE {where} ORDER BY c.revision LIMIT ?"
        )
        async with self._lock:
            with _storage_errors(self.path, "reading watch history"):
                rows = await self._connection().execute_fetchall(sql, params)
        return [_event_from_row(row) for row in rows]

    # --- compaction

    async def compact(self, revision: int) -> None:
        """Record `revision` as the compact revision, then delete what it made unreachable, in
        steps (see the module docstring); returns when the file is compacted. The event at
        `revision` itself keeps its prev_kv, so a watch can start exactly there.
        Raises FutureRevisionError past the current revision."""
        conn = self._connection()
        if revision <= self._compacted:
            return
        current = self._keyspace.revision
        if revision > current:
            raise FutureRevisionError(revision, current)
        async with self._lock:
            if revision > self._compacted:
                with _storage_errors(self.path, "compaction"):
                    await conn.execute(_SET_META_SQL, ("compact_revision", revision))
                self._compacted = revision
        await self._compact_physically()

    async def _resume_compaction(self) -> None:
        """Finish a compaction that a stop cut short (a background task: errors are logged)."""
        try:
            await self._compact_physically()
        except StoreError as exc:
            log.warning("sqlite backend could not finish compaction", path=self.path, error=str(exc))

    async def _compact_physically(self) -> None:
        """Delete rows below the compact revision that no read or watch can reach any more.
        Raises BackendUnavailableError on a storage error (the next compaction goes on from
        where this one stopped)."""
        with _storage_errors(self.path, "compaction"):
            await self._compact_physically_steps()

    async def _compact_physically_steps(self) -> None:
        async with self._compaction_lock:
            deleted = 0
            start = self._physical
            clock = self.clock
            while True:
                began = clock.monotonic()
                async with self._lock:
                    lo, target = self._physical, self._compacted
                    if lo >= target:
                        break
                    hi = min(lo + self.compact_batch, target)
                    async with self._db().execute(_COMPACT_STEP_SQL, (lo, hi)) as cursor:
                        deleted += max(cursor.rowcount, 0)
                    self._physical = hi
                # Leave the database to the writer for as long as the step held it, so that a
                # long compaction halves write throughput at worst instead of starving writes.
                await clock.sleep(clock.monotonic() - began)
            if start != self._physical:
                async with self._lock:
                    # Progress is recorded once per round: redoing a step after a crash is
                    # harmless, and a write per step would cost a commit per step.
                    await self._db().execute(_SET_META_SQL, ("physical_compact", self._physical))
                    await self._db().execute("PRAGMA wal_checkpoint(TRUNCATE)")
                log.debug(
                    "sqlite backend compacted", path=self.path, revision=self._physical, rows_deleted=deleted
                )

    async def compact_revision(self) -> int:
        return self._compacted

    # --- snapshots

    async def snapshot(self) -> bytes:
        self._connection()
        return encode_snapshot(self._keyspace.revision, self._keyspace.values())

    async def restore(self, data: bytes) -> None:
        """Replace the whole state with a snapshot, in one transaction: keys keep their
        revisions, the store's revision is the snapshot's, and history before it is gone
        (compacted). Every open watch ends with CompactedError. Raises ValueError for data that
        is not a valid snapshot; on a storage error nothing changes."""
        revision, kvs = decode_snapshot(data)
        validate_snapshot(revision, kvs)
        rows = [(kv.mod_revision, kv.key, kv.value, kv.create_revision, kv.version) for kv in kvs]
        meta = [
            ("compact_revision", revision),
            ("physical_compact", revision),
            ("history_start", revision + 1),
            ("revision_floor", revision),
        ]
        async with self._lock:
            conn = self._connection()
            with anyio.CancelScope(shield=True), _storage_errors(self.path, "restore"):
                await conn.execute("BEGIN IMMEDIATE")
                try:
                    await conn.execute("DELETE FROM kv")
                    await conn.executemany("INSERT INTO kv VALUES (?, ?, ?, ?, ?, 0)", rows)
                    await conn.executemany(_SET_META_SQL, meta)
                    await conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        await conn.execute("ROLLBACK")
                    raise
                self._keyspace.reset(revision, kvs)
                self._compacted = self._physical = self._revision_floor = revision
                self._history_start = revision + 1
                self._hub.reset(revision, lambda requested: CompactedError(requested, revision))
        log.info("sqlite backend restored", path=self.path, revision=revision, keys=len(kvs))

