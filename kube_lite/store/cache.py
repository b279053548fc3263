"""The watch cache: the API server's in-memory view of the backend.

One backend watch on the whole ``/registry/`` prefix feeds a `ResourceCache` per resource (the
second segment of the key). Each cache holds the latest object of every key and a window of
recent events, so that gets, lists and watches are served without reading the backend. An object
is held as its JSON (the backend's own bytes, see `CachedObject`) and the few attributes that
selectors and indexes read; its decoded dict is made on demand and only the last ones decoded
stay (`DecodedObjects`), so a large cluster costs little more than its JSON. Watchers are
filtered per namespace in the dispatch loop and each has a bounded buffer: a watcher that cannot
keep up is closed (the client re-watches), never buffered without bound.
"""

from __future__ import annotations

import bisect
import re
import sys
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import msgspec
import structlog

from kube_lite.clock import Clock, RealClock
from kube_lite.store import fieldsets
from kube_lite.store.backend import Backend, CompactedError, Event, EventType

log = structlog.get_logger(__name__)

ROOT = "/registry/"
_decode = msgspec.json.decode
_encode = msgspec.json.encode


def split_key(key: str) -> tuple[str, str, str]:
    """`/registry/pods/ns/name` -> ("pods", "ns", "name"); cluster-scoped keys have ns ""."""
    parts = key[len(ROOT) :].split("/")
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    return parts[0], "", parts[-1]


def object_key(resource: str, namespace: str | None, name: str) -> str:
    if namespace:
        return f"{ROOT}{resource}/{namespace}/{name}"
    return f"{ROOT}{resource}/{name}"


# Where a stored value's metadata object opens, when the value starts as the registry writes
# every built-in kind (type meta, then metadata): the resourceVersion is spliced in there.
_METADATA_OPENS = re.compile(rb'\{(?:"apiVersion":"[^"\\]*",)?(?:"kind":"[^"\\]*",)?"metadata":\{')
_CLOSE_BRACE = ord("}")
_NO_LABELS: dict[str, str] = {}  # shared by every object without labels: never mutate
_intern = sys.intern


class _HeadMeta(msgspec.Struct, gc=False):
    labels: dict[str, str] | None = None
    resourceVersion: Any = msgspec.UNSET


class _HeadSpec(msgspec.Struct, gc=False):
    nodeName: Any = None


class _Head(msgspec.Struct, gc=False):
    """The part of a stored object that `CachedObject` keeps besides its JSON."""

    metadata: _HeadMeta | None = None
    spec: _HeadSpec | None = None


_decode_head = msgspec.json.Decoder(_Head).decode


class _Eager:
    """How the objects of a resource whose selectable fields are read on the way in are read:
    one decode of the head (as `_Head`) and of the paths the field set needs."""

    __slots__ = ("sets", "decode")

    def __init__(self, sets: fieldsets.FieldSets) -> None:
        self.sets = sets
        paths = (*sets.paths, "metadata.labels", "metadata.resourceVersion", "spec.nodeName")
        head = fieldsets.struct_of(
            "_EagerHead", fieldsets._tree(paths), leaves={"metadata.labels": (dict[str, str] | None, None)}
        )
        self.decode: Callable[[bytes], Any] = msgspec.json.Decoder(head).decode

    def values(self, head: Any) -> tuple[str, ...] | None:
        """The selectable fields' values of a decoded head; None (read later, on first use, as
        any other kind's) for a shape the kind's field set cannot read: taking an object in
        never fails on what only a field selector reads."""
        try:
            return self.sets.values_from_dict(msgspec.to_builtins(head))
        except (AttributeError, TypeError, LookupError, ValueError):
            return None


_EAGER = {resource: _Eager(sets) for resource, sets in fieldsets.EAGER.items()}


def _resource_of(key: str) -> str:
    return key[len(ROOT) : key.find("/", len(ROOT))]


class DecodedObjects:
    """The decoded dicts of the `size` objects of one resource decoded last (FIFO).

    A cached object keeps only its JSON; `CachedObject.obj` decodes it on demand and hands the
    object to its resource's `DecodedObjects`, which drops the oldest dict once more than
    `size` are held. So the objects just read (by the watch dispatch's field selectors, by
    the writes that follow) and the few small objects read on every request (namespaces,
    priority classes) stay decoded, and memory does not grow with the number of objects."""

    __slots__ = ("_held", "size")

    def __init__(self, size: int = 1024) -> None:
        self._held: deque[CachedObject] = deque()
        self.size = size

    def hold(self, cached: CachedObject) -> None:
        held = self._held
        held.append(cached)
        if len(held) > self.size:
            held.popleft()._obj = None

    def __len__(self) -> int:
        return len(self._held)


class CachedObject:
    """An object as served, with resourceVersion set, held compactly: its JSON and the few
    attributes selectors and indexes read (labels, namespace, spec.nodeName); the decoded dict
    is made on demand (`obj`, shared and read-only; `decode()` for a private copy).

    The JSON is the backend's stored value itself (the same bytes object the backend keeps)
    plus the offset where ``"resourceVersion":"N",`` belongs, so holding it costs nothing more
    than the backend already holds; `raw` splices the revision in. Values that do not start
    as the registry writes them (type meta, then metadata, no resourceVersion stored) are
    re-encoded once instead, and `raw` is then that encoding (`_at` -1)."""

    __slots__ = ("key", "namespace", "revision", "labels", "node", "fields", "_data", "_at", "_obj", "_home")

    def __init__(
        self,
        key: str,
        namespace: str,
        revision: int,
        data: bytes,
        at: int,
        labels: dict[str, str],
        node: str,
        obj: dict[str, Any] | None = None,
        home: DecodedObjects | None = None,
        fields: tuple[str, ...] | None = None,
    ) -> None:
        self.key = key
        self.namespace = namespace
        self.revision = revision
        self.labels = labels
        self.node = node  # spec.nodeName, "" when unset
        # The selectable fields' values (`fieldsets.FieldSets.values`), once read.
        self.fields = fields
        self._data = data
        self._at = at
        self._obj = obj
        self._home = home
        if obj is not None and home is not None:
            home.hold(self)

    def __repr__(self) -> str:
        return f"CachedObject({self.key!r}, revision={self.revision})"

    @classmethod
    def from_value(cls, key: str, value: bytes, revision: int, home: DecodedObjects | None = None) -> CachedObject:
        """The object stored as `value` (JSON without resourceVersion) at `revision`. Raises
        msgspec.DecodeError when the value is not JSON.

        Only what the cache keeps is decoded (labels, spec.nodeName, and the selectable fields
        of pods): a third of the cost of decoding the whole object, and none of its garbage."""
        eager = _EAGER.get(_resource_of(key)) if _EAGER else None
        try:
            head = (eager.decode if eager is not None else _decode_head)(value)
        except msgspec.ValidationError:  # an odd shape: decoded whole below
            head = None
        meta = (head.metadata or None) if head is not None else None
        opens = _METADATA_OPENS.match(value) if meta is not None and meta.resourceVersion is msgspec.UNSET else None
        if opens is None:
            obj = _decode(value)
            full = obj.get("metadata")
            if full is None:
                full = obj["metadata"] = {}
            full["resourceVersion"] = str(revision)
            return cls._of(key, _namespace_of(key), revision, _encode(obj), -1, obj, home)
        assert head is not None and meta is not None
        spec = head.spec or None
        node = spec.nodeName if spec is not None else None
        fields = eager.values(head) if eager is not None else None
        return cls(
            key, _namespace_of(key), revision, value, opens.end(), meta.labels or _NO_LABELS,
            _intern(node) if isinstance(node, str) else "", None, home, fields,
        )

    @classmethod
    def from_obj(cls, key: str, namespace: str, obj: dict[str, Any], revision: int, home: DecodedObjects | None = None) -> CachedObject:
        """An object from its decoded form, which already carries its resourceVersion."""
        return cls._of(key, namespace, revision, _encode(obj), -1, obj, home)

    @classmethod
    def _of(
        cls, key: str, namespace: str, revision: int, data: bytes, at: int, obj: dict[str, Any], home: DecodedObjects | None
    ) -> CachedObject:
        meta = obj.get("metadata")
        labels = (meta.get("labels") if isinstance(meta, dict) else None) or _NO_LABELS
        return cls(key, namespace, revision, data, at, labels, _intern(_node_of(obj)), obj, home)

    def at_revision(self, revision: int) -> CachedObject:
        """This object as of `revision` (a delete's): the same JSON, shared, with another
        resourceVersion."""
        if self._at >= 0:
            return CachedObject(
                self.key, self.namespace, revision, self._data, self._at, self.labels, self.node, None, self._home, self.fields
            )
        obj = self.decode()
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            meta = obj["metadata"] = {}
        meta["resourceVersion"] = str(revision)
        return CachedObject.from_obj(self.key, self.namespace, obj, revision, self._home)

    @property
    def raw(self) -> bytes:
        """The JSON, resourceVersion included (a new bytes object per call unless `_at` is -1)."""
        at = self._at
        data = self._data
        if at < 0:
            return data
        if data[at] == _CLOSE_BRACE:  # "metadata":{} with nothing to separate from
            return data[:at] + b'"resourceVersion":"%d"' % self.revision + data[at:]
        return data[:at] + b'"resourceVersion":"%d",' % self.revision + data[at:]

    @property
    def obj(self) -> dict[str, Any]:
        """The decoded object: shared with every other reader, so never mutate it."""
        obj = self._obj
        if obj is None:
            obj = self._obj = _decode(self.raw)
            if self._home is not None:
                self._home.hold(self)
        return obj

    def decode(self) -> dict[str, Any]:
        """A fresh decoded copy, the caller's to change (cheaper than a deep copy of `obj`)."""
        return _decode(self.raw)

    def read(self) -> dict[str, Any]:
        """The decoded object for one read-only look, as `obj` but not held once decoded: for
        reading many objects once (a list as a Table), which would otherwise push the objects
        decoded last out of their resource's `DecodedObjects`."""
        obj = self._obj
        return obj if obj is not None else _decode(self.raw)

    def held(self) -> dict[str, Any] | None:
        """The decoded object if it is held decoded now, else None (never decodes)."""
        return self._obj

    @property
    def stored(self) -> bytes:
        """The JSON as stored: like `raw`, but without the resourceVersion when the backend's
        value is held (no copy is made)."""
        return self._data


def _namespace_of(key: str) -> str:
    return _intern(split_key(key)[1])


@dataclass(slots=True)
class CacheEvent:
    """A change of one object. `obj` is the new state (for DELETED, the last state with the
    delete's resourceVersion); `prev` the state before (None for ADDED)."""

    type: str  # ADDED, MODIFIED, DELETED
    obj: CachedObject
    prev: CachedObject | None
    _lines: dict[str, bytes] | None = None

    @property
    def revision(self) -> int:
        return self.obj.revision

    def line(self, type_: str) -> bytes:
        """The watch stream line for this event seen as `type_` (encoded once per type)."""
        lines = self._lines
        if lines is None:
            lines = self._lines = {}
        line = lines.get(type_)
        if line is None:
            line = lines[type_] = b'{"type":"%s","object":%s}\n' % (type_.encode(), self.obj.raw)
        return line


Filter = Callable[[CachedObject], bool]


def _node_of(obj: dict[str, Any]) -> str:
    """spec.nodeName, the key of the node index ("" when unset or not a string)."""
    spec = obj.get("spec")
    node = spec.get("nodeName") if isinstance(spec, dict) else None
    return node if isinstance(node, str) else ""


class Watcher:
    """One watch on a resource: yields (type, CacheEvent) in revision order.

    Made by `ResourceCache.watch`; the cache pushes into a bounded buffer. When the buffer is
    full the watcher is closed with `overflowed` set; iteration then ends and the server closes
    the stream, as Kubernetes does with a slow watcher. What was buffered before `close()` is
    still delivered, then iteration ends.

    The buffer is a deque with one waiter event, not a memory object stream: the cache offers
    every event to every watcher of its namespace, and a watch stream takes what is buffered in
    batches, so both ends must cost little per event."""

    def __init__(self, cache: ResourceCache, namespace: str, matches: Filter | None, buffer: int) -> None:
        self.cache = cache
        self.namespace = namespace
        self.matches = matches
        self._buffer: deque[tuple[str, CacheEvent | None]] = deque()
        self._limit = buffer
        self._waiter: anyio.Event | None = None
        self.overflowed = False
        self.closed = False
        self.node: str | None = None

    def _put(self, item: tuple[str, CacheEvent | None]) -> bool:
        """Buffer `item` and wake the reader; False when the buffer is full."""
        # A reader that waits has emptied the buffer: the item goes straight to it, as a
        # memory object stream hands an item to a waiting receiver even with no room.
        if len(self._buffer) >= self._limit and self._waiter is None:
            return False
        self._buffer.append(item)
        self._wake()
        return True

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            waiter.set()

    def offer(self, event: CacheEvent) -> None:
        """Called by the cache for each event in this watcher's namespace."""
        if self.closed:
            return
        matches = self.matches
        if matches is None:
            kind = event.type
        else:
            now = event.type != "DELETED" and matches(event.obj)
            before = event.prev is not None and matches(event.prev)
            if event.type == "DELETED":
                before = matches(event.obj)
            if now and before:
                kind = "MODIFIED"
            elif now:
                kind = "ADDED"
            elif before:
                kind = "DELETED"
            else:
                return
        if not self._put((kind, event)):
            self.overflowed = True
            self.close()

    def bookmark(self, revision: int) -> None:
        if not self.closed:
            self._put(("BOOKMARK", None))  # dropped when the buffer is full

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.cache._remove(self)
            self._wake()

    def __aiter__(self) -> AsyncIterator[tuple[str, CacheEvent | None]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[tuple[str, CacheEvent | None]]:
        while True:
            batch = await self.next_batch()
            if not batch:
                return
            for item in batch:
                yield item

    async def next_batch(self, limit: int = 512) -> list[tuple[str, CacheEvent | None]]:
        """Wait for at least one event, then take what else is already buffered (up to
        `limit`), so a busy stream is written in few large sends. [] once the watcher is closed
        and drained."""
        buffer = self._buffer
        while not buffer:
            if self.closed:
                return []
            waiter = self._waiter
            if waiter is None:
                waiter = self._waiter = anyio.Event()
            await waiter.wait()
        if len(buffer) <= limit:
            batch = list(buffer)
            buffer.clear()
            return batch
        popleft = buffer.popleft
        return [popleft() for _ in range(limit)]


class ResourceCache:
    """Latest objects and recent events of one resource."""

    def __init__(self, resource: str, start_revision: int, capacity: int, decoded: int = 1024) -> None:
        self.resource = resource
        self.objects: dict[str, CachedObject] = {}
        self.decoded = DecodedObjects(decoded)
        self._events: deque[CacheEvent] = deque()
        self._capacity = capacity
        # Every event with revision > window_start is in _events.
        self.window_start = start_revision
        self._by_namespace: dict[str, set[Watcher]] = {}
        self._by_node: dict[str, set[Watcher]] = {}
        self._all: set[Watcher] = set()

    # -- reads

    def get(self, namespace: str, name: str) -> CachedObject | None:
        return self.objects.get(object_key(self.resource, namespace, name))

    def list(self, namespace: str = "") -> list[CachedObject]:
        """Objects in key order (all namespaces when `namespace` is "")."""
        if namespace:
            prefix = object_key(self.resource, namespace, "")
            items = [o for k, o in self.objects.items() if k.startswith(prefix)]
        else:
            items = list(self.objects.values())
        items.sort(key=lambda o: o.key)
        return items

    def events_since(self, revision: int) -> list[CacheEvent] | None:
        """Events with revision > `revision`, or None if the window no longer reaches back."""
        if revision < self.window_start:
            return None
        revisions = [e.revision for e in self._events]
        return list(self._events)[bisect.bisect_right(revisions, revision) :]

    # -- watchers

    def watch(
        self, namespace: str = "", matches: Filter | None = None, buffer: int = 10_000, node: str | None = None
    ) -> Watcher:
        """A watcher of `namespace` ("" for all). `node`: the watcher selects only pods whose
        spec.nodeName is that (a node agent's watch), so it is indexed by node and offered only
        the events of pods on that node, before or after the change."""
        watcher = Watcher(self, namespace, matches, buffer)
        watcher.node = node
        if node is not None:
            self._by_node.setdefault(node, set()).add(watcher)
        elif namespace:
            self._by_namespace.setdefault(namespace, set()).add(watcher)
        else:
            self._all.add(watcher)
        return watcher

    def _watchers(self) -> list[Watcher]:
        groups = (*self._by_namespace.values(), *self._by_node.values())
        return [*self._all, *(w for ws in groups for w in ws)]

    def _remove(self, watcher: Watcher) -> None:
        if watcher.node is not None:
            group = self._by_node.get(watcher.node)
            if group is not None:
                group.discard(watcher)
                if not group:
                    del self._by_node[watcher.node]
        elif watcher.namespace:
            group = self._by_namespace.get(watcher.namespace)
            if group is not None:
                group.discard(watcher)
                if not group:
                    del self._by_namespace[watcher.namespace]
        else:
            self._all.discard(watcher)

    def close_watchers(self) -> None:
        for watcher in self._watchers():
            watcher.close()

    def bookmark(self, revision: int) -> None:
        for watcher in self._watchers():
            watcher.bookmark(revision)

    # -- updates from the dispatcher

    def apply(self, event: Event) -> CacheEvent:
        kv = event.kv
        prev = self.objects.get(kv.key)
        if event.type is EventType.DELETE:
            if prev is not None:
                cached = prev.at_revision(kv.mod_revision)
            elif event.prev_kv is not None:
                cached = CachedObject.from_value(kv.key, event.prev_kv.value, kv.mod_revision, self.decoded)
            else:
                obj = {"metadata": {"resourceVersion": str(kv.mod_revision)}}
                cached = CachedObject.from_obj(kv.key, _namespace_of(kv.key), obj, kv.mod_revision, self.decoded)
            self.objects.pop(kv.key, None)
            cev = CacheEvent("DELETED", cached, prev)
        else:
            cached = CachedObject.from_value(kv.key, kv.value, kv.mod_revision, self.decoded)
            self.objects[kv.key] = cached
            cev = CacheEvent("MODIFIED" if prev is not None else "ADDED", cached, prev)
        self._events.append(cev)
        if len(self._events) > self._capacity:
            self.window_start = self._events.popleft().revision
        for watcher in list(self._all):
            watcher.offer(cev)
        group = self._by_namespace.get(cached.namespace)
        if group:
            for watcher in list(group):
                watcher.offer(cev)
        if self._by_node:
            nodes = {cached.node} if prev is None else {cached.node, prev.node}
            for node in nodes:
                for watcher in list(self._by_node.get(node, ())):
                    if not watcher.namespace or watcher.namespace == cached.namespace:
                        watcher.offer(cev)
        return cev


class WatchCache:
    """All resource caches, fed by one backend watch. Run `run` in a task group (with
    `task_status`), then read through `cache(resource)`."""

    def __init__(self, backend: Backend, *, clock: Clock | None = None, capacity: int = 10_000) -> None:
        self.backend = backend
        self.clock = clock or RealClock()
        self.capacity = capacity
        self.revision = 0  # every write up to here has been applied
        self._caches: dict[str, ResourceCache] = {}
        self._waiters: list[tuple[int, anyio.Event]] = []
        self.listeners: list[Callable[[str, CacheEvent], None]] = []

    def cache(self, resource: str) -> ResourceCache:
        cache = self._caches.get(resource)
        if cache is None:
            cache = self._caches[resource] = ResourceCache(resource, self.revision, self.capacity)
        return cache

    async def wait_for(self, revision: int, within: float = 5.0) -> bool:
        """Wait until every write up to `revision` is in the cache. False on timeout."""
        if self.revision >= revision:
            return True
        event = anyio.Event()
        self._waiters.append((revision, event))
        with self.clock.move_on_after(within):
            await event.wait()
            return True
        return False

    async def _load(self) -> int:
        result = await self.backend.range(ROOT)
        for cache in self._caches.values():
            cache.objects.clear()
            cache.close_watchers()
        for kv in result.kvs:
            cache = self.cache(split_key(kv.key)[0])
            cache.objects[kv.key] = CachedObject.from_value(kv.key, kv.value, kv.mod_revision, cache.decoded)
        for cache in self._caches.values():
            cache._events.clear()
            cache.window_start = result.revision
        self._advance(result.revision)
        return result.revision

    def _advance(self, revision: int) -> None:
        self.revision = max(self.revision, revision)
        if self._waiters:
            ready = [w for w in self._waiters if w[0] <= self.revision]
            if ready:
                self._waiters = [w for w in self._waiters if w[0] > self.revision]
                for _, event in ready:
                    event.set()

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Load everything, then follow the backend until cancelled; re-list if the watch
        falls behind compaction."""
        revision = await self._load()
        task_status.started()
        while True:
            try:
                async for event in self.backend.watch(ROOT, from_revision=revision + 1):
                    resource = split_key(event.kv.key)[0]
                    cev = self.cache(resource).apply(event)
                    for listener in self.listeners:
                        listener(resource, cev)
                    revision = event.kv.mod_revision
                    self._advance(revision)
                return
            except CompactedError:
                log.warning("watch cache fell behind compaction; re-listing")
                revision = await self._load()
