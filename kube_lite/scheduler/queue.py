"""The scheduling queue: Kubernetes' PriorityQueue with its three pools, and the nominator.

- active: a heap by priority (highest first), then by the time the pod entered the queue (its
  creation, for a new pod; its last failure, for a retried one), then arrival order.
- backoff: pods that failed recently wait 1 s, 2 s, 4 s, ... at most 10 s (per pod, doubling
  with each attempt) before they are tried again.
- unschedulable: pods no node could take. They stay there until a cluster event one of the
  plugins that rejected them listens to (a node added or relabelled, a pod deleted, ...)
  moves them back (to backoff while their backoff lasts, else to active), or until they have
  waited `max_unschedulable_duration` (5 min, checked every 30 s, as Kubernetes does).
- gated: pods with spec.schedulingGates wait, out of every pool, until the gates are gone.

A pod that failed while a move request arrived during its cycle (a cluster event the cycle may
not have seen) goes to backoff rather than unschedulable, so the event is not lost; a pod
that failed for an error (no plugin rejected it: an API error, no nodes at all) too.

The queue belongs to one event loop and is driven by the scheduler: `add`/`update`/`delete`
from the informer handlers, `pop` by the scheduling loop, `done` when a cycle ends,
`requeue_failed` after a failure, `move_all` on cluster events, `flush_backoff` every second
and `flush_unschedulable` every 30 seconds.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable, Mapping

import anyio

from kube_lite.clock import Clock
from kube_lite.scheduler.plugin import WILDCARD
from kube_lite.scheduler.podinfo import PodInfo

DEFAULT_INITIAL_BACKOFF = 1.0
DEFAULT_MAX_BACKOFF = 10.0
DEFAULT_MAX_UNSCHEDULABLE_DURATION = 300.0
UNSCHEDULABLE_FLUSH_INTERVAL = 30.0
BACKOFF_FLUSH_INTERVAL = 1.0


class QueuedPodInfo:
    """A pod in the queue, with its scheduling history."""

    __slots__ = ("pod", "timestamp", "initial_attempt", "attempts", "unschedulable_plugins", "seq", "deleted", "updated")

    def __init__(self, pod: PodInfo, now: float, seq: int) -> None:
        self.pod = pod
        self.timestamp = now  # entered the queue, or last failed
        self.initial_attempt: float | None = None
        self.attempts = 0
        self.unschedulable_plugins: frozenset[str] = frozenset()
        self.seq = seq
        self.deleted = False  # deleted while being scheduled
        self.updated = False  # updated while being scheduled

    @property
    def key(self) -> str:
        return self.pod.key

    def __repr__(self) -> str:
        return f"QueuedPodInfo({self.pod.key}, attempts={self.attempts}, plugins={sorted(self.unschedulable_plugins)})"


def backoff_duration(attempts: int, initial: float = DEFAULT_INITIAL_BACKOFF, maximum: float = DEFAULT_MAX_BACKOFF) -> float:
    """The backoff after `attempts` attempts: initial * 2^(attempts-1), at most `maximum`."""
    duration = initial
    for _ in range(1, attempts):
        if duration > maximum - duration:
            return maximum
        duration += duration
    return min(duration, maximum)


class SchedulingQueue:
    """See the module doc. `plugin_events` maps a plugin name to the events it listens to."""

    def __init__(self, clock: Clock, *, plugin_events: Mapping[str, Iterable[str]] | None = None,
                 initial_backoff: float = DEFAULT_INITIAL_BACKOFF, max_backoff: float = DEFAULT_MAX_BACKOFF,
                 max_unschedulable_duration: float = DEFAULT_MAX_UNSCHEDULABLE_DURATION) -> None:
        self.clock = clock
        self.plugin_events = {name: frozenset(events) for name, events in (plugin_events or {}).items()}
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.max_unschedulable_duration = max_unschedulable_duration
        self._seq = itertools.count()
        self._active: dict[str, QueuedPodInfo] = {}
        self._heap: list[tuple[int, float, int, QueuedPodInfo]] = []
        self._backoff: dict[str, QueuedPodInfo] = {}
        self._backoff_heap: list[tuple[float, int, QueuedPodInfo]] = []
        self._unschedulable: dict[str, QueuedPodInfo] = {}
        # The unschedulable pods by the events that may help them, so that an event looks at
        # those pods only (a bound pod is an event; there may be thousands of pending pods).
        self._by_event: dict[str, dict[str, QueuedPodInfo]] = {}
        self._gated: dict[str, QueuedPodInfo] = {}
        self._in_flight: dict[str, QueuedPodInfo] = {}
        self.scheduling_cycle = 0
        self.move_request_cycle = -1
        self._wakeup: anyio.Event | None = None
        self._closed = False

    # ------------------------------------------------------------------ introspection

    def __len__(self) -> int:
        return len(self._active) + len(self._backoff) + len(self._unschedulable) + len(self._gated)

    def __contains__(self, key: object) -> bool:
        return key in self._active or key in self._backoff or key in self._unschedulable or key in self._gated

    @property
    def active_count(self) -> int:
        return len(self._active)

    @property
    def in_flight_count(self) -> int:
        return len(self._in_flight)

    def stats(self) -> dict[str, int]:
        return {
            "active": len(self._active),
            "backoff": len(self._backoff),
            "unschedulable": len(self._unschedulable),
            "gated": len(self._gated),
            "in_flight": len(self._in_flight),
        }

    def pool_of(self, key: str) -> str | None:
        """Which pool holds `key` ("active", "backoff", "unschedulable", "gated", "in_flight")."""
        for name, pool in (("active", self._active), ("backoff", self._backoff),
                           ("unschedulable", self._unschedulable), ("gated", self._gated),
                           ("in_flight", self._in_flight)):
            if key in pool:
                return name
        return None

    def get(self, key: str) -> QueuedPodInfo | None:
        return (self._active.get(key) or self._backoff.get(key) or self._unschedulable.get(key)
                or self._gated.get(key) or self._in_flight.get(key))

    def pending_pods(self) -> list[PodInfo]:
        return [q.pod for pool in (self._active, self._backoff, self._unschedulable, self._gated) for q in pool.values()]

    # ------------------------------------------------------------------ pools

    def _push_active(self, qpi: QueuedPodInfo) -> None:
        qpi.seq = next(self._seq)
        self._active[qpi.key] = qpi
        heapq.heappush(self._heap, (-qpi.pod.priority, qpi.timestamp, qpi.seq, qpi))
        if self._wakeup is not None:
            self._wakeup.set()

    def _push_backoff(self, qpi: QueuedPodInfo) -> None:
        qpi.seq = next(self._seq)
        self._backoff[qpi.key] = qpi
        heapq.heappush(self._backoff_heap, (self.backoff_expiry(qpi), qpi.seq, qpi))

    def _discard(self, key: str) -> QueuedPodInfo | None:
        """Take `key` out of whichever waiting pool holds it (heaps are cleaned lazily)."""
        for pool in (self._active, self._backoff, self._gated):
            qpi = pool.pop(key, None)
            if qpi is not None:
                return qpi
        return self._take_unschedulable(key)

    def _events_of(self, qpi: QueuedPodInfo) -> set[str]:
        events: set[str] = set()
        for plugin in qpi.unschedulable_plugins:
            events |= self.plugin_events.get(plugin, frozenset())
        return events

    def _put_unschedulable(self, qpi: QueuedPodInfo) -> None:
        self._unschedulable[qpi.key] = qpi
        for event in self._events_of(qpi):
            self._by_event.setdefault(event, {})[qpi.key] = qpi

    def _take_unschedulable(self, key: str) -> QueuedPodInfo | None:
        qpi = self._unschedulable.pop(key, None)
        if qpi is not None:
            for event in self._events_of(qpi):
                group = self._by_event.get(event)
                if group is not None:
                    group.pop(key, None)
                    if not group:
                        del self._by_event[event]
        return qpi

    def backoff_expiry(self, qpi: QueuedPodInfo) -> float:
        return qpi.timestamp + backoff_duration(qpi.attempts, self.initial_backoff, self.max_backoff)

    def _backing_off(self, qpi: QueuedPodInfo) -> bool:
        return qpi.attempts > 0 and self.backoff_expiry(qpi) > self.clock.monotonic()

    def _activate_or_backoff(self, qpi: QueuedPodInfo) -> None:
        if self._backing_off(qpi):
            self._push_backoff(qpi)
        else:
            self._push_active(qpi)

    # ------------------------------------------------------------------ informer side

    def add(self, pod: PodInfo) -> None:
        """A new pending pod: into active (or gated). A known pod is updated instead."""
        if pod.key in self or pod.key in self._in_flight:
            self.update(pod, moved=True)
            return
        qpi = QueuedPodInfo(pod, self.clock.monotonic(), 0)
        if pod.gated:
            self._gated[pod.key] = qpi
        else:
            self._push_active(qpi)

    def update(self, pod: PodInfo, moved: bool = True) -> None:
        """A newer version of a pending pod. `moved`: its scheduling inputs changed (spec,
        labels), so an unschedulable pod gets another chance at once (after its backoff)."""
        key = pod.key
        flying = self._in_flight.get(key)
        if flying is not None:
            flying.pod = pod
            flying.updated = flying.updated or moved
            return
        if key in self._gated:
            qpi = self._gated[key]
            qpi.pod = pod
            if not pod.gated:
                del self._gated[key]
                self._activate_or_backoff(qpi)
            return
        if key in self._active:
            qpi = self._active[key]
            priority_changed = qpi.pod.priority != pod.priority
            qpi.pod = pod
            if priority_changed:
                self._push_active(qpi)  # the old heap entry becomes stale
            return
        if key in self._backoff:
            self._backoff[key].pod = pod
            return
        if key in self._unschedulable:
            qpi = self._unschedulable[key]
            qpi.pod = pod
            if moved:
                self._take_unschedulable(key)
                self._activate_or_backoff(qpi)
            return
        self.add(pod)

    def delete(self, key: str) -> None:
        """The pod is gone (deleted, bound elsewhere, no longer ours)."""
        self._discard(key)
        flying = self._in_flight.get(key)
        if flying is not None:
            flying.deleted = True

    # ------------------------------------------------------------------ scheduler side

    def pop_nowait(self) -> QueuedPodInfo | None:
        """The highest-priority active pod (now in flight), or None."""
        heap = self._heap
        while heap:
            _, _, seq, qpi = heapq.heappop(heap)
            if self._active.get(qpi.key) is qpi and qpi.seq == seq:
                del self._active[qpi.key]
                qpi.attempts += 1
                if qpi.initial_attempt is None:
                    qpi.initial_attempt = self.clock.monotonic()
                qpi.deleted = False
                qpi.updated = False
                self.scheduling_cycle += 1
                self._in_flight[qpi.key] = qpi
                return qpi
        return None

    async def pop(self) -> QueuedPodInfo:
        """Wait for an active pod and take it (it is in flight until `done`)."""
        while True:
            qpi = self.pop_nowait()
            if qpi is not None:
                return qpi
            self._wakeup = anyio.Event()
            await self._wakeup.wait()
            self._wakeup = None

    def done(self, key: str) -> None:
        """The cycle of `key` is over (scheduled, requeued or dropped)."""
        self._in_flight.pop(key, None)

    def requeue_failed(self, qpi: QueuedPodInfo, unschedulable_plugins: Iterable[str], cycle: int) -> None:
        """Put back a pod whose cycle `cycle` failed: to unschedulable when plugins rejected it
        and nothing moved since the cycle began; else to backoff (or active once its backoff
        is over). A pod deleted meanwhile is dropped; one updated meanwhile retries soon."""
        self._in_flight.pop(qpi.key, None)
        if qpi.deleted or qpi.key in self:
            return
        qpi.timestamp = self.clock.monotonic()
        qpi.unschedulable_plugins = frozenset(unschedulable_plugins)
        if qpi.updated or self.move_request_cycle >= cycle or not qpi.unschedulable_plugins:
            self._activate_or_backoff(qpi)
        else:
            self._put_unschedulable(qpi)

    def move_all(self, event: str, accept: Callable[[QueuedPodInfo], bool] | None = None) -> int:
        """A cluster event: move the unschedulable pods it may help (those rejected by a plugin
        listening to `event`, and passing `accept`). Returns how many moved."""
        self.move_request_cycle = self.scheduling_cycle
        moved = 0
        if not self._unschedulable:
            return 0
        if event == WILDCARD:
            candidates = list(self._unschedulable.values())
        else:
            candidates = list(self._by_event.get(event, {}).values())
        for qpi in candidates:
            if accept is not None and not accept(qpi):
                continue
            self._take_unschedulable(qpi.key)
            self._activate_or_backoff(qpi)
            moved += 1
        return moved

    def flush_backoff(self) -> int:
        """Move pods whose backoff is over to active. Returns how many."""
        now = self.clock.monotonic()
        heap = self._backoff_heap
        moved = 0
        while heap and heap[0][0] <= now:
            _, seq, qpi = heapq.heappop(heap)
            if self._backoff.get(qpi.key) is qpi and qpi.seq == seq:
                del self._backoff[qpi.key]
                self._push_active(qpi)
                moved += 1
        return moved

    def next_backoff_expiry(self) -> float | None:
        """When the earliest backing-off pod is due (monotonic), if any."""
        heap = self._backoff_heap
        while heap and not (self._backoff.get(heap[0][2].key) is heap[0][2] and heap[0][2].seq == heap[0][1]):
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def flush_unschedulable(self) -> int:
        """Move pods unschedulable for longer than the maximum back to active/backoff."""
        now = self.clock.monotonic()
        moved = 0
        for key, qpi in list(self._unschedulable.items()):
            if now - qpi.timestamp > self.max_unschedulable_duration:
                self._take_unschedulable(key)
                self._activate_or_backoff(qpi)
                moved += 1
        return moved

    def reprioritize(self, priority_of: Callable[[PodInfo], int]) -> None:
        """Recompute every waiting pod's priority (a PriorityClass changed) and rebuild the heap."""
        for pool in (self._active, self._backoff, self._unschedulable, self._gated, self._in_flight):
            for qpi in pool.values():
                qpi.pod.priority = priority_of(qpi.pod)
        self._heap = [(-q.pod.priority, q.timestamp, q.seq, q) for q in self._active.values()]
        heapq.heapify(self._heap)


class Nominator:
    """Pods nominated to a node (status.nominatedNodeName, or just decided by preemption),
    by node, so that filters count them there."""

    def __init__(self) -> None:
        self.by_node: dict[str, list[PodInfo]] = {}
        self._node_of: dict[str, str] = {}

    def add(self, pod: PodInfo, node_name: str) -> None:
        self.remove(pod.key)
        if not node_name:
            return
        self.by_node.setdefault(node_name, []).append(pod)
        self._node_of[pod.key] = node_name

    def remove(self, key: str) -> None:
        node = self._node_of.pop(key, None)
        if node is None:
            return
        pods = [p for p in self.by_node.get(node, ()) if p.key != key]
        if pods:
            self.by_node[node] = pods
        else:
            self.by_node.pop(node, None)

    def node_of(self, key: str) -> str | None:
        return self._node_of.get(key)

    def pods_on(self, node_name: str) -> list[PodInfo]:
        return list(self.by_node.get(node_name, ()))

    def __len__(self) -> int:
        return len(self._node_of)
