"""Recording Events, as client-go's event recorder does.

Components report what they did (Scheduled, FailedScheduling, Pulled, Started, ...) as core/v1
Events about an object. Before anything is written, each event goes through client-go's
EventCorrelator, with its figures:

- aggregation: once 10 events about one object that differ only in their message (same source,
  type and reason: "Created pod: web-1", "Created pod: web-2", ...) have been seen within 10
  minutes, further ones become one event "(combined from similar events): <latest message>";
- counting: repeats of the same event (same object, type, reason, message, source) are one
  Event whose `count` grows and whose `lastTimestamp` and message move (a patch), so `kubectl
  describe` shows `x5 over 2m` rather than five lines;
- spam filter: a source may write 25 events about one object at once, then one per 5 minutes
  (a token bucket per source and object); the rest are dropped.

So a ReplicaSet creating a thousand pods costs a few dozen Event writes, not a thousand.
Recording never blocks the caller and never fails it: what passes the correlator goes into a
bounded buffer (dropped, with a log line, when it is full) that a writer task drains. The writer
is started when there is something to write and ends when the buffer is empty, in the task group
given to `attach` (or the one `run` opens): a node agent records a handful of events an hour,
and a thousand agents in one process need no thousand idle writer tasks.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio
import structlog
from anyio.abc import TaskGroup

from kube_lite.api.errors import APIError
from kube_lite.client.client import Client
from kube_lite.clock import Clock, RealClock

log = structlog.get_logger(__name__)

NORMAL = "Normal"
WARNING = "Warning"

# client-go's EventCorrelator defaults (tools/record/events_cache.go).
LRU_CACHE_ENTRIES = 4096
AGGREGATE_MAX_EVENTS = 10
AGGREGATE_INTERVAL = 600.0
SPAM_BURST = 25
SPAM_QPS = 1.0 / 300.0
COMBINED_PREFIX = "(combined from similar events): "


def _ref(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    ref = {
        "kind": obj.get("kind"),
        "apiVersion": obj.get("apiVersion"),
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "resourceVersion": meta.get("resourceVersion"),
    }
    return {k: v for k, v in ref.items() if v}


def _digest(key: str) -> bytes:
    """What the correlator's caches are keyed by: a 128-bit digest of the key string. A node
    agent records a few events per pod and keeps up to 4096 of each cache, and a thousand agents
    may share a process: a digest is a fifth of the key it stands for."""
    return hashlib.blake2b(key.encode(), digest_size=16).digest()


class _LRU(OrderedDict[bytes, Any]):
    """A bounded mapping that forgets the least recently used key (groupcache's lru)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def get_recent(self, key: bytes) -> Any:
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value

    def put(self, key: bytes, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.size:
            self.popitem(last=False)


@dataclass(slots=True)
class _Seen:
    """The eventLogger's record of one Event written (or about to be)."""

    name: str
    namespace: str
    count: int
    first: str


@dataclass(slots=True)
class _Aggregate:
    messages: list[int]  # hashes of the distinct messages seen (fewer than AGGREGATE_MAX_EVENTS)
    last: float


@dataclass(slots=True)
class _Bucket:
    tokens: float
    last: float


@dataclass(frozen=True, slots=True)
class _Pending:
    """One Event write: a create when `count` is 1, else a patch of `name`."""

    ref: dict[str, Any]
    type: str
    reason: str
    message: str
    name: str
    namespace: str
    count: int
    first: str
    last: str
    key: str
    component: str


class EventSink(Protocol):
    """What records an Event about an object (an EventRecorder, or one of its named views)."""

    def event(self, obj: dict[str, Any], type_: str, reason: str, message: str) -> None: ...


@dataclass(frozen=True, slots=True)
class NamedRecorder:
    """An EventRecorder's view that records as another source component: kube-controller-manager
    has one recorder (one correlator, one writer) and each controller its own source name
    (`replicaset-controller`, `deployment-controller`, ...), as `kubectl describe` shows them."""

    recorder: EventRecorder
    component: str

    def event(self, obj: dict[str, Any], type_: str, reason: str, message: str) -> None:
        self.recorder.event(obj, type_, reason, message, component=self.component)


@dataclass
class EventRecorder:
    """Records Events for `component` (and `host`, for node agents). Either run `run()` in the
    owner's task group, or `attach(tg)` the owner's task group, in which the writer task is
    started whenever events wait (and ends when none do). `event(...)` may be called from
    anywhere in the loop, also before either: events wait in the buffer meanwhile."""

    client: Client
    component: str
    host: str = ""
    clock: Clock = field(default_factory=RealClock)
    buffer: int = 1000

    def __post_init__(self) -> None:
        self._queue: deque[_Pending] = deque()
        self._tg: TaskGroup | None = None
        self._writing = False  # a writer task is draining the queue
        self._seen: _LRU = _LRU(LRU_CACHE_ENTRIES)
        self._aggregates: _LRU = _LRU(LRU_CACHE_ENTRIES)
        self._spam: _LRU = _LRU(LRU_CACHE_ENTRIES)
        self.dropped = 0
        self.filtered = 0  # dropped by the spam filter
        self.pending = 0
        self._last_drop_log = float("-inf")
        self._last_nanos = 0

    def _name_suffix(self, key: str) -> str:
        """The suffix of a new Event's name: the time in hex nanoseconds, as client-go names
        Events (so names sort by time, and `kubectl describe` lists events of one second in
        the order they happened), strictly increasing within this recorder, then 4 hex digits
        of the event's key, so that recorders writing at the same instant (a virtual clock
        stands still) never pick the same name."""
        nanos = int(self.clock.now().timestamp() * 1_000_000) * 1000
        if nanos <= self._last_nanos:
            nanos = self._last_nanos + 1
        self._last_nanos = nanos
        return f"{nanos:x}{hashlib.blake2b(key.encode(), digest_size=2).hexdigest()}"

    def named(self, component: str) -> NamedRecorder:
        """This recorder, recording as source `component`."""
        return NamedRecorder(self, component)

    def event(self, obj: dict[str, Any], type_: str, reason: str, message: str, *, component: str | None = None) -> None:
        """Record an event about `obj` (a dict with kind, apiVersion and metadata), as this
        recorder's component or `component`."""
        pending = self._correlate(_ref(obj), type_, reason, message, component or self.component)
        if pending is None:
            return
        if len(self._queue) < self.buffer:
            self._queue.append(pending)
            self.pending += 1
            if not self._writing and self._tg is not None:
                self._start_writer(self._tg)
        else:
            # A burst (a thousand pods created at once) must not turn into a thousand log lines.
            self.dropped += 1
            now = self.clock.monotonic()
            if now - self._last_drop_log >= 10.0:
                self._last_drop_log = now
                log.warning("events dropped: recorder buffer full", dropped_so_far=self.dropped, reason=reason)

    # ------------------------------------------------------------------ the correlator

    def _correlate(self, ref: dict[str, Any], type_: str, reason: str, message: str, component: str) -> _Pending | None:
        """Aggregate, count and spam-filter one event; the write to make, or None."""
        now = self.clock.monotonic()
        stamp = self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        source = f"{component}\x00{self.host}"
        obj_key = "\x00".join(str(ref.get(k, "")) for k in ("kind", "namespace", "name", "uid", "apiVersion"))
        # Aggregation: similar events (all but the message) past the threshold become one.
        aggregate_key = f"{source}\x00{obj_key}\x00{type_}\x00{reason}"
        aggregate_digest = _digest(aggregate_key)
        record: _Aggregate | None = self._aggregates.get_recent(aggregate_digest)
        if record is None or now - record.last > AGGREGATE_INTERVAL:
            record = _Aggregate([], now)
        message_hash = hash(message)
        if message_hash not in record.messages:
            record.messages.append(message_hash)
        record.last = now
        self._aggregates.put(aggregate_digest, record)
        if len(record.messages) < AGGREGATE_MAX_EVENTS:
            key = f"{aggregate_key}\x00{message}"
            digest = _digest(key)
        else:
            record.messages.pop()  # the list never grows past the threshold
            key, digest = aggregate_key, aggregate_digest
            message = COMBINED_PREFIX + message
        # Counting: the same event again is the earlier Event with a higher count.
        namespace = ref.get("namespace") or "default"
        seen: _Seen | None = self._seen.get_recent(digest)
        if seen is None:
            seen = _Seen(f"{ref.get('name', 'unknown')}.{self._name_suffix(key)}", namespace, 0, stamp)
        seen.count += 1
        self._seen.put(digest, seen)
        # The spam filter: a token bucket per source and object.
        spam_key = _digest(f"{source}\x00{obj_key}")
        bucket: _Bucket | None = self._spam.get_recent(spam_key)
        if bucket is None:
            bucket = _Bucket(float(SPAM_BURST), now)
        else:
            bucket.tokens = min(float(SPAM_BURST), bucket.tokens + (now - bucket.last) * SPAM_QPS)
            bucket.last = now
        self._spam.put(spam_key, bucket)
        if bucket.tokens < 1.0:
            self.filtered += 1
            return None
        bucket.tokens -= 1.0
        return _Pending(ref, type_, reason, message, seen.name, seen.namespace, seen.count, seen.first, stamp, key, component)

    # ------------------------------------------------------------------ writing

    def attach(self, tg: TaskGroup) -> None:
        """Write events from tasks of `tg` (the owner's task group, until it ends): a writer is
        started whenever events wait, and ends when they are written."""
        self._tg = tg
        if self._queue and not self._writing:
            self._start_writer(tg)

    def detach(self) -> None:
        """Stop starting writers (the task group is ending); events wait for the next `attach`."""
        self._tg = None

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Write events until cancelled (`attach` to a task group of its own)."""
        async with anyio.create_task_group() as tg:
            self.attach(tg)
            task_status.started()
            try:
                await anyio.sleep_forever()
            finally:
                self.detach()

    def _start_writer(self, tg: TaskGroup) -> None:
        self._writing = True
        tg.start_soon(self._drain, name=f"event writer {self.component}")

    async def _drain(self) -> None:
        try:
            queue = self._queue
            while queue:
                pending = queue.popleft()
                try:
                    await self._write(pending)
                except APIError as exc:
                    log.warning("event not recorded", reason=pending.reason, error=exc.message)
                except Exception:  # noqa: BLE001 - an event must never take its component down
                    log.exception("event not recorded", reason=pending.reason)
                finally:
                    self.pending -= 1
        finally:
            self._writing = False

    async def _write(self, p: _Pending) -> None:
        if p.count > 1:
            patch = {"count": p.count, "lastTimestamp": p.last, "message": p.message}
            try:
                await self.client.patch("events", p.name, patch, namespace=p.namespace)
                return
            except APIError as exc:
                if exc.code != 404:
                    raise
                # Expired (TTL) or deleted: written anew under the same name, with its count.
        source = {"component": p.component, **({"host": self.host} if self.host else {})}
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": p.name, "namespace": p.namespace},
            "involvedObject": p.ref,
            "reason": p.reason,
            "message": p.message,
            "type": p.type,
            "source": source,
            "count": p.count,
            "firstTimestamp": p.first,
            "lastTimestamp": p.last,
            "reportingComponent": p.component,
            "reportingInstance": self.host,
        }
        try:
            await self.client.create("events", body, namespace=p.namespace)
        except APIError as exc:
            if exc.code != 409 or p.count == 1:
                raise
            # Created meanwhile by an earlier write that failed to report back: count it.
            await self.client.patch("events", p.name, {"count": p.count, "lastTimestamp": p.last}, namespace=p.namespace)
