"""The Backend protocol: a revisioned, watchable key-value store in etcd's image.

Keys are strings such as ``/registry/pods/default/web-0``; values are opaque bytes. One global
revision advances with every write (a create, update or delete is one revision). Every key
remembers the revision that created it (``create_revision``), the revision of its last change
(``mod_revision``) and how many times it was written since creation (``version``).

Writes are compare-and-swap on ``mod_revision``. Reads can be served at an older revision, as
long as it has not been compacted, so that a paged list comes from one snapshot. A watch delivers
every change under a prefix from a given revision, in revision order, exactly once, each event
carrying the previous value of the key.

Every backend (memory, SQLite, etcd, Raft) passes the conformance suite in
``tests/unit/store/test_conformance.py`` and ``test_stateful.py``; that suite is the precise
contract.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

import msgspec

from kube_lite.clock import Clock


@dataclass(frozen=True, slots=True)
class KeyValue:
    """One key at one revision."""

    key: str
    value: bytes
    create_revision: int
    mod_revision: int
    version: int = 1


class EventType(enum.Enum):
    PUT = "PUT"
    DELETE = "DELETE"


@dataclass(frozen=True, slots=True)
class Event:
    """One change. For PUT, ``kv`` is the new value and ``prev_kv`` the old one (None on create).

    For DELETE, ``kv`` has the key, an empty value and ``mod_revision`` set to the revision of
    the delete; ``prev_kv`` is the value that was deleted.
    """

    type: EventType
    kv: KeyValue
    prev_kv: KeyValue | None

    @property
    def revision(self) -> int:
        return self.kv.mod_revision

    @property
    def is_create(self) -> bool:
        return self.type is EventType.PUT and self.prev_kv is None


@dataclass(frozen=True, slots=True)
class RangeResult:
    """What `range` returns: the keys found, the revision they were read at, and whether more
    keys remain after the last one returned (``more``) and how many keys the whole range holds
    from ``start`` on (``count``)."""

    kvs: list[KeyValue]
    revision: int
    more: bool
    count: int


class StoreError(Exception):
    """Base of every error a backend raises on purpose."""


class KeyExistsError(StoreError):
    """`create` of a key that exists."""

    def __init__(self, key: str) -> None:
        super().__init__(f"key exists: {key}")
        self.key = key


class KeyNotFoundError(StoreError):
    """`update` or `delete` of a key that does not exist."""

    def __init__(self, key: str) -> None:
        super().__init__(f"key not found: {key}")
        self.key = key


class RevisionMismatchError(StoreError):
    """A compare-and-swap whose expected ``mod_revision`` is not the key's; ``current`` is the
    key's present value so that the caller can retry without another read."""

    def __init__(self, key: str, expected: int, current: KeyValue) -> None:
        super().__init__(f"revision mismatch on {key}: expected {expected}, is {current.mod_revision}")
        self.key = key
        self.expected = expected
        self.current = current


class CompactedError(StoreError):
    """A read or watch at a revision that compaction has removed."""

    def __init__(self, requested: int, compact_revision: int) -> None:
        super().__init__(
            f"required revision {requested} has been compacted (compacted up to {compact_revision})"
        )
        self.requested = requested
        self.compact_revision = compact_revision


class FutureRevisionError(StoreError):
    """A read at a revision the store has not reached yet."""

    def __init__(self, requested: int, current: int) -> None:
        super().__init__(f"required revision {requested} is a future revision (current {current})")
        self.requested = requested
        self.current = current


class BackendUnavailableError(StoreError):
    """The backend cannot serve now (closed, lost quorum, connection down)."""


@runtime_checkable
class Backend(Protocol):
    """The storage contract. A backend is used as an async context manager; it owns its tasks."""

    async def __aenter__(self) -> Backend: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def current_revision(self) -> int:
        """The revision of the latest write (0 for an empty store)."""
        ...

    async def get(self, key: str, *, revision: int = 0) -> KeyValue | None:
        """The key at `revision` (0: latest), or None. Raises CompactedError, FutureRevisionError."""
        ...

    async def range(
        self, prefix: str, *, start: str | None = None, limit: int = 0, revision: int = 0
    ) -> RangeResult:
        """Keys that start with `prefix` and are >= `start` (when given), in key order, at most
        `limit` of them (0: all), as of `revision` (0: latest).
        Raises CompactedError, FutureRevisionError."""
        ...

    async def create(self, key: str, value: bytes) -> int:
        """Store `key` if absent; return the new revision. Raises KeyExistsError."""
        ...

    async def update(self, key: str, value: bytes, *, expected_revision: int) -> int:
        """Replace `key` if its mod_revision is `expected_revision` (0: unconditionally); return
        the new revision. Raises KeyNotFoundError, RevisionMismatchError."""
        ...

    async def delete(self, key: str, *, expected_revision: int = 0) -> tuple[int, KeyValue]:
        """Delete `key` if its mod_revision is `expected_revision` (0: unconditionally); return
        the revision of the delete and the value deleted.
        Raises KeyNotFoundError, RevisionMismatchError."""
        ...

    def watch(self, prefix: str, *, from_revision: int = 0) -> AsyncIterator[Event]:
        """Every change under `prefix` with revision >= `from_revision` (0: changes after now),
        in revision order, exactly once, until the caller stops iterating.

        Raises CompactedError (on first iteration) when `from_revision` is compacted.
        A watcher that falls too far behind is ended with CompactedError rather than buffered
        without bound; the caller re-lists and watches again."""
        ...

    async def compact(self, revision: int) -> None:
        """Forget every superseded value at or below `revision`; reads and watches below it
        raise CompactedError afterwards. Compacting to an older revision than before is a no-op."""
        ...

    async def compact_revision(self) -> int:
        """The revision compaction has reached (0: never compacted)."""
        ...

    async def snapshot(self) -> bytes:
        """A consistent copy of the latest state (see `encode_snapshot`)."""
        ...

    async def restore(self, data: bytes) -> None:
        """Replace the whole state with a snapshot; the revision becomes the snapshot's."""
        ...


# --- snapshots: one portable format, so that a snapshot from any backend restores into any other


class _SnapshotKV(msgspec.Struct, array_like=True):
    key: str
    value: bytes
    create_revision: int
    mod_revision: int
    version: int


class _Snapshot(msgspec.Struct):
    format: str
    revision: int
    kvs: list[_SnapshotKV]


SNAPSHOT_FORMAT = "kube-lite-snapshot/v1"


def encode_snapshot(revision: int, kvs: list[KeyValue]) -> bytes:
    """Encode the latest state as a portable snapshot (msgpack)."""
    return msgspec.msgpack.encode(
        _Snapshot(
            SNAPSHOT_FORMAT,
            revision,
            [_SnapshotKV(k.key, k.value, k.create_revision, k.mod_revision, k.version) for k in kvs],
        )
    )


def decode_snapshot(data: bytes) -> tuple[int, list[KeyValue]]:
    """Decode a snapshot into its revision and keys. Raises ValueError for anything else."""
    try:
        snap = msgspec.msgpack.decode(data, type=_Snapshot)
    except msgspec.DecodeError as exc:
        raise ValueError(f"not a kube-lite snapshot: {exc}") from None
    if snap.format != SNAPSHOT_FORMAT:
        raise ValueError(f"unknown snapshot format {snap.format!r}")
    return snap.revision, [
        KeyValue(k.key, k.value, k.create_revision, k.mod_revision, k.version) for k in snap.kvs
    ]


# --- backend URLs and plugins


def open_backend(url: str, *, clock: Clock | None = None, **options: Any) -> Backend:
    """Build the backend a URL names: ``memory:``, ``sqlite:PATH``, ``etcd://HOST:PORT,...``.

    The scheme is looked up among the ``kube_lite.backends`` entry points, so a third-party
    package adds a backend by declaring one. The backend is not started: use ``async with``.
    Raises ValueError for an unknown scheme or a malformed URL.
    """
    scheme, sep, _ = url.partition(":")
    if not sep or not scheme:
        raise ValueError(f"backend URL {url!r} has no scheme (memory:, sqlite:PATH, etcd://HOST:PORT)")
    cls = _backend_class(scheme)
    if cls is None:
        known = sorted(ep.name for ep in entry_points(group="kube_lite.backends"))
        raise ValueError(f"unknown backend {scheme!r} in {url!r}; known: {', '.join(known)}")
    return cls.from_url(url, clock=clock, **options)


@functools.cache
def _backend_class(scheme: str) -> Any:
    # Scanning the installed distributions' entry points takes milliseconds: once per scheme.
    found = entry_points(group="kube_lite.backends", name=scheme)
    return next(iter(found)).load() if found else None
