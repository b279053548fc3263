"""The sans-IO core of the in-process backends (memory, SQLite): latest state, write planning,
reads at older revisions.

A `Keyspace` holds the latest committed value of every key, its keys in sorted order and the
current revision. Writes are *planned* against it in order (compare-and-swap checks and revision
assignment happen here, in memory, with no I/O) and *applied* once the backend has made them
durable, so that the committed state never shows a write that could still be lost.

A read at an older revision R is answered by undoing the events after R: for every key changed
after R, its value at R is the ``prev_kv`` of its first event after R (None when that event
created it). So a backend needs only its latest state and its events in revision order, never a
per-key history index; `changes_since` builds that undo map.
"""

from __future__ import annotations

import enum
import heapq
from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

from kube_lite.store.backend import (
    Event,
    EventType,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    RevisionMismatchError,
    StoreError,
)

_MAX_CHAR = chr(0x10FFFF)


def prefix_end(prefix: str) -> str | None:
    """The smallest string greater than every string that starts with `prefix` (None: no bound).

    Python compares strings by code point, which is the order of their UTF-8 bytes, so the same
    bound works for SQLite's BINARY collation.
    """
    stripped = prefix.rstrip(_MAX_CHAR)
    if not stripped:
        return None
    return stripped[:-1] + chr(ord(stripped[-1]) + 1)


def key_bounds(prefix: str, start: str | None) -> tuple[str, str | None]:
    """The half-open key interval [lo, hi) of a range over `prefix` from `start` (hi None: none)."""
    lo = prefix if start is None or start < prefix else start
    return lo, prefix_end(prefix)


class WriteKind(enum.IntEnum):
    CREATE = 1
    UPDATE = 2
    DELETE = 3


@dataclass(slots=True)
class WriteOp:
    """One requested write. ``expected`` is the compare-and-swap mod_revision (0: none)."""

    kind: WriteKind
    key: str
    value: bytes = b""
    expected: int = 0


def checked_write(key: str, value: bytes | bytearray | memoryview) -> bytes:
    """Validate a write's key and value before it joins a batch, so that one bad write cannot
    fail the others: the key must be a str that UTF-8 can encode (no lone surrogates), the value
    bytes-like (returned as immutable bytes). Raises TypeError, ValueError."""
    if type(key) is not str:
        raise TypeError(f"key must be str, not {type(key).__name__}")
    if not key.isascii():
        try:
            key.encode()
        except UnicodeEncodeError as exc:
            raise ValueError(f"key {key!r} is not valid Unicode: {exc}") from None
    if type(value) is bytes:
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise TypeError(f"value must be bytes, not {type(value).__name__}")


class Keyspace:
    """The latest committed state: key -> KeyValue, the keys sorted, and the current revision.

    Not thread-safe and never awaits: a backend calls `plan` and `apply` from one task at a time.
    """

    __slots__ = ("revision", "_kvs", "_keys")

    def __init__(self) -> None:
        self.revision = 0
        self._kvs: dict[str, KeyValue] = {}
        self._keys: list[str] = []

    def __len__(self) -> int:
        return len(self._kvs)

    def get(self, key: str) -> KeyValue | None:
        """The latest value of `key`, or None."""
        return self._kvs.get(key)

    def values(self) -> list[KeyValue]:
        """Every live key's latest value, in key order."""
        kvs = self._kvs
        return [kvs[k] for k in self._keys]

    def reset(self, revision: int, kvs: Iterable[KeyValue]) -> None:
        """Replace the whole state (restore, reopen)."""
        self._kvs = {kv.key: kv for kv in kvs}
        self._keys = sorted(self._kvs)
        self.revision = revision

    def plan(self, ops: Sequence[WriteOp]) -> tuple[list[Event], list[Event | StoreError]]:
        """Check and number `ops` in order as if each were applied after the previous ones.

        Returns the events of the ops that succeed (revisions ``revision+1, +2, ...`` in order)
        and, per op, its event or the StoreError it failed with (KeyExistsError,
        KeyNotFoundError, RevisionMismatchError carrying the value the key would have then).
        Changes nothing: the caller persists the events, then calls `apply`.
        """
        kvs = self._kvs
        # Later ops in the batch must see earlier ones; None marks a key deleted in the batch.
        overlay: dict[str, KeyValue | None] = {}
        events: list[Event] = []
        outcomes: list[Event | StoreError] = []
        rev = self.revision
        put, delete = EventType.PUT, EventType.DELETE
        for op in ops:
            key = op.key
            cur = overlay[key] if key in overlay else kvs.get(key)
            kind = op.kind
            if kind is WriteKind.CREATE:
                if cur is not None:
                    outcomes.append(KeyExistsError(key))
                    continue
                rev += 1
                kv = KeyValue(key, op.value, rev, rev, 1)
                event = Event(put, kv, None)
                overlay[key] = kv
            else:
                if cur is None:
                    outcomes.append(KeyNotFoundError(key))
                    continue
                if op.expected and op.expected != cur.mod_revision:
                    outcomes.append(RevisionMismatchError(key, op.expected, cur))
                    continue
                rev += 1
                # The key's string as first stored, not the caller's equal copy: every version
                # the history keeps then shares one.
                key = cur.key
                if kind is WriteKind.UPDATE:
                    kv = KeyValue(key, op.value, cur.create_revision, rev, cur.version + 1)
                    event = Event(put, kv, cur)
                    overlay[key] = kv
                else:
                    event = Event(delete, KeyValue(key, b"", 0, rev, 0), cur)
                    overlay[key] = None
            events.append(event)
            outcomes.append(event)
        return events, outcomes

    def apply(self, events: Sequence[Event]) -> None:
        """Make planned (and now durable) events the committed state, in order."""
        kvs, keys = self._kvs, self._keys
        for event in events:
            kv = event.kv
            key = kv.key
            if event.type is EventType.PUT:
                if event.prev_kv is None:
                    insort(keys, key)
                kvs[key] = kv
            else:
                del kvs[key]
                del keys[bisect_left(keys, key)]
        if events:
            self.revision = events[-1].kv.mod_revision

    def get_at(self, key: str, changes: dict[str, KeyValue | None]) -> KeyValue | None:
        """`key` as of an older revision, given `changes_since` that revision."""
        if key in changes:
            return changes[key]
        return self._kvs.get(key)

    def range(
        self,
        prefix: str,
        start: str | None,
        limit: int,
        changes: dict[str, KeyValue | None] | None = None,
    ) -> tuple[list[KeyValue], int]:
        """Keys under `prefix` from `start` in key order, at most `limit` (0: all), and how many
        such keys there are in all. With `changes` (from `changes_since` over the same interval,
        `key_bounds(prefix, start)`: keys outside it would be miscounted) the answer is as of
        that older revision."""
        lo, hi = key_bounds(prefix, start)
        keys, kvs = self._keys, self._kvs
        lo_i = bisect_left(keys, lo)
        hi_i = len(keys) if hi is None else max(lo_i, bisect_left(keys, hi))  # start past the prefix
        if hi_i <= lo_i and not changes:
            return [], 0
        if not changes:
            stop = hi_i if limit <= 0 else min(hi_i, lo_i + limit)
            return [kvs[k] for k in islice(keys, lo_i, stop)], hi_i - lo_i
        # Keys changed since the revision read at replace their latest state: drop the latest
        # ones and merge in their old values, both streams already in key order.
        live_now = sum(1 for k in changes if k in kvs)
        old = sorted((k, kv) for k, kv in changes.items() if kv is not None)
        count = hi_i - lo_i - live_now + len(old)
        unchanged: Iterator[tuple[str, KeyValue]] = (
            (k, kvs[k]) for k in islice(keys, lo_i, hi_i) if k not in changes
        )
        merged = heapq.merge(unchanged, old, key=_first)
        if limit > 0:
            merged = islice(merged, limit)
        return [kv for _, kv in merged], count


def _first(item: tuple[str, KeyValue]) -> str:
    return item[0]


def changes_since(events: Iterable[Event], lo: str, hi: str | None) -> dict[str, KeyValue | None]:
    """The undo map of `events` (every event after some revision R, in revision order) for keys
    in [lo, hi): key -> its value at R, None where it did not exist at R."""
    changes: dict[str, KeyValue | None] = {}
    for event in events:
        key = event.kv.key
        if key >= lo and (hi is None or key < hi) and key not in changes:
            changes[key] = event.prev_kv
    return changes


def validate_snapshot(revision: int, kvs: list[KeyValue]) -> None:
    """Check what a restore relies on: unique keys, and revisions that a store at `revision`
    could hold (every mod_revision distinct, 1 <= create <= mod <= revision, version >= 1).
    Raises ValueError."""
    keys: set[str] = set()
    mods: set[int] = set()
    for kv in kvs:
        if kv.key in keys:
            raise ValueError(f"snapshot holds key {kv.key!r} twice")
        if kv.mod_revision in mods:
            raise ValueError(f"snapshot holds two keys at revision {kv.mod_revision}")
        if not (1 <= kv.create_revision <= kv.mod_revision <= revision) or kv.version < 1:
            raise ValueError(f"snapshot key {kv.key!r} has impossible revisions for revision {revision}")
        keys.add(kv.key)
        mods.add(kv.mod_revision)
