"""The pod lifecycle event generator (PLEG): what changed in the runtime, per pod.

As the kubelet's generic PLEG: every `relist_seconds` (1 s) the agent lists the runtime's
sandboxes and containers once for the whole node, compares each one's state with the previous
relist, and tells the pod workers of the pods whose sandboxes or containers appeared, changed
state (a container that exited, a sandbox that died) or went away. A pod worker syncs on these
events and on updates of its pod, and otherwise only at its long periodic resync, instead of
listing the runtime itself every second: a node's steady cost is one relist, not one per pod.

For a runtime that reports its own changes (`cri.ContainerEventSource`, e.g. the fake runtime),
as the kubelet's Evented PLEG: an event only marks its pod, and the relist at the next tick of
the same one-second grid lists the marked pods alone (their sandboxes and containers, by the pod
uid label) and compares them with what it remembers of each pod (a hash of its entries' ids and
states), so the pod workers see what they would see with a whole relist, no sooner and no more
often: a sandbox a sync created and removed again wakes nobody. A timer brings the runtime's own
next change (a run time that ends) into effect when it is due. No tick runs while nothing is
marked, so a node where nothing changes costs nothing; a whole relist stays as a safety net,
every `evented_relist_seconds` (300 s, the kubelet's figure).

Sans-IO core: `diff(before, after)` is a pure function of two relists' states; `relist()`
lists through the runtime; `start(timers)` drives it from the agent's timers.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
import structlog

from kube_lite.agent import cri
from kube_lite.agent.timers import Job, Timers
from kube_lite.clock import Clock

log = structlog.get_logger(__name__)

RELIST_SECONDS = 1.0
EVENTED_RELIST_SECONDS = 300.0
# The shortest wait for a runtime transition, so that clock skew never makes a busy loop.
MIN_TRANSITION_WAIT = 0.001

# What a relist remembers of each sandbox or container: id -> (state, pod uid).
States = dict[str, tuple[object, str]]


def diff(before: States, after: States) -> set[str]:
    """The pod uids with an entry that appeared, changed state or went away."""
    changed = {entry[1] for key, entry in after.items() if before.get(key) != entry}
    changed.update(entry[1] for key, entry in before.items() if key not in after)
    changed.discard("")
    return changed


class PodLifecycleEventGenerator:
    """Calls `on_change(pod_uid)` for every pod whose runtime state changed: from the runtime's
    events when it has them, else from relists (see the module doc)."""

    def __init__(self, runtime: cri.ContainerRuntime, clock: Clock, on_change: Callable[[str], None], *,
                 relist_seconds: float = RELIST_SECONDS,
                 evented_relist_seconds: float = EVENTED_RELIST_SECONDS) -> None:
        self.runtime = runtime
        self.clock = clock
        self.on_change = on_change
        self.evented = isinstance(runtime, cri.ContainerEventSource)
        self.relist_seconds = relist_seconds  # the relist period; evented, the grid of its ticks
        # How often everything is relisted: every tick, or (evented) as a safety net only.
        self.full_relist_seconds = evented_relist_seconds if self.evented else relist_seconds
        self._sandboxes: States = {}
        self._containers: States = {}
        self.relists = 0
        self.events = 0
        self._timers: Timers | None = None
        self._relist_job: Job | None = None
        self._transition_due: float | None = None  # the runtime transition a timer is armed for (wall)
        # Evented: a hash of each pod's (id, state) entries as last listed; the pods marked since.
        self._pods: dict[str, int] = {}
        self._marked: set[str] = set()
        self._grid0 = 0.0  # monotonic time of tick 0
        self._tick_job: Job | None = None

    async def relist(self) -> set[str]:
        """List the runtime's sandboxes and containers, remember their states, and return the
        pod uids that changed since the last relist."""
        sandboxes: States = {
            s.id: (s.state, s.labels.get(cri.POD_UID_LABEL) or s.metadata.uid)
            for s in await self.runtime.list_pod_sandboxes()
        }
        containers: States = {
            c.id: (c.state, c.labels.get(cri.POD_UID_LABEL) or "") for c in await self.runtime.list_containers()
        }
        changed = diff(self._sandboxes, sandboxes) | diff(self._containers, containers)
        self._sandboxes, self._containers = sandboxes, containers
        self.relists += 1
        return changed

    def runtime_pods(self) -> dict[str, object]:
        """The uids of the pods the runtime had sandboxes or containers of at the last relist
        (as keys; evented, kept current by the ticks)."""
        if self.evented:
            return self._pods
        return dict.fromkeys(entry[1] for states in (self._sandboxes, self._containers) for entry in states.values())

    async def relist_pods(self, uids: set[str] | None = None) -> set[str]:
        """Evented: list the sandboxes and containers of the pods `uids` (every pod the runtime
        has, or had at the last relist, when None), remember their states and return the uids
        whose entries changed since they were last listed."""
        runtime = self.runtime
        entries: dict[str, list[tuple[str, object]]] = {}
        if uids is None:
            for s in await runtime.list_pod_sandboxes():
                entries.setdefault(s.labels.get(cri.POD_UID_LABEL) or s.metadata.uid, []).append((s.id, s.state))
            for c in await runtime.list_containers():
                uid = c.labels.get(cri.POD_UID_LABEL)
                if uid:
                    entries.setdefault(uid, []).append((c.id, c.state))
            uids = set(entries) | set(self._pods)
        else:
            for uid in uids:
                selector = {cri.POD_UID_LABEL: uid}
                found = [(s.id, s.state) for s in await runtime.list_pod_sandboxes(cri.PodSandboxFilter(label_selector=selector))]
                found += [(c.id, c.state) for c in await runtime.list_containers(cri.ContainerFilter(label_selector=selector))]
                if found:
                    entries[uid] = found
        changed = set()
        for uid in uids:
            found = entries.get(uid)
            state = hash(tuple(sorted(found))) if found else None  # ids are unique: never compares states
            if self._pods.get(uid) != state:
                changed.add(uid)
                if state is None:
                    del self._pods[uid]
                else:
                    self._pods[uid] = state
        changed.discard("")
        self.relists += 1
        return changed

    async def start(self, timers: Timers) -> None:
        """Record what the runtime runs already (a first relist: the pod workers have not
        started yet and sync once anyway), then take the runtime's events (if it has them)
        and relist periodically, on `timers`."""
        try:
            await (self.relist_pods() if self.evented else self.relist())
        except Exception as exc:  # noqa: BLE001 - a failing runtime is retried at the next relist
            log.warning("runtime relist failed", error=repr(exc))
        self._timers = timers
        self._grid0 = self.clock.monotonic()
        self._relist_job = timers.job("pleg relist", self._relist_tick)
        self._relist_job.schedule(self.full_relist_seconds)
        if self.evented:
            self._tick_job = timers.job("pleg tick", self._marked_tick)
            source: cri.ContainerEventSource = self.runtime  # type: ignore[assignment]
            source.subscribe_events(self._on_event)
            self._arm()

    def stop(self) -> None:
        """Stop taking the runtime's events (the relist job ends with the timers' task group)."""
        if self.evented:
            source: cri.ContainerEventSource = self.runtime  # type: ignore[assignment]
            source.unsubscribe_events(self._on_event)
        for job in (self._relist_job, self._tick_job):
            if job is not None:
                job.cancel()

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Run on timers of its own until cancelled (`started` after the first relist)."""
        timers = Timers(self.clock)
        async with anyio.create_task_group() as tg:
            timers.bind(tg)
            await self.start(timers)
            task_status.started()
            try:
                await timers.run()
            finally:
                self.stop()

    async def _relist_tick(self) -> float:
        try:
            changed = await (self.relist_pods() if self.evented else self.relist())
        except Exception as exc:  # noqa: BLE001 - as above
            log.warning("runtime relist failed", error=repr(exc))
            return self.relist_seconds
        for uid in changed:
            self.on_change(uid)
        return self.full_relist_seconds

    async def _marked_tick(self) -> float | None:
        marked, self._marked = self._marked, set()
        try:
            changed = await self.relist_pods(marked)
        except Exception as exc:  # noqa: BLE001 - retried at the next tick
            log.warning("runtime relist failed", error=repr(exc))
            self._marked |= marked
            return self.relist_seconds
        for uid in changed:
            self.on_change(uid)
        # Pods marked meanwhile wait for the next tick of the grid.
        return self._until_next_tick() if self._marked else None

    # ------------------------------------------------------------------ evented

    def _on_event(self, uid: str) -> None:
        self.events += 1
        if not self._marked:
            job = self._tick_job
            if job is not None and job.due is None and not job.running:
                job.schedule(self._until_next_tick())
        self._marked.add(uid)
        self._arm()

    def _until_next_tick(self) -> float:
        """Seconds until the next tick of the relist grid (strictly after now)."""
        elapsed = self.clock.monotonic() - self._grid0
        return (elapsed // self.relist_seconds + 1) * self.relist_seconds - elapsed

    def _arm(self) -> None:
        """Have a timer bring the runtime's next own change into effect when it is due."""
        source: cri.ContainerEventSource = self.runtime  # type: ignore[assignment]
        due = source.next_transition()
        if due is None or self._timers is None or (self._transition_due is not None and self._transition_due <= due):
            return
        self._transition_due = due
        wait = max(due - self.clock.time(), MIN_TRANSITION_WAIT)
        self._timers.call_at(self.clock.monotonic() + wait, PodLifecycleEventGenerator._expire, (self, due))

    @staticmethod
    def _expire(arg: tuple[PodLifecycleEventGenerator, float], _deadline: float) -> None:
        pleg, due = arg
        if pleg._transition_due != due:
            return  # an earlier one was armed since, and has re-armed for what follows
        pleg._transition_due = None
        source: cri.ContainerEventSource = pleg.runtime  # type: ignore[assignment]
        source.expire_due()  # reports through _on_event, which re-arms
        pleg._arm()
