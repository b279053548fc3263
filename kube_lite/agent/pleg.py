"""The pod lifecycle event generator (PLEG): what changed in the runtime, per pod.

As the kubelet's generic PLEG: every `relist_seconds` (1 s) the agent lists the runtime's
sandboxes and containers once for the whole node, compares each one's state with the previous
relist, and tells the pod workers of the pods whose sandboxes or containers appeared, changed
state (a container that exited, a sandbox that died) or went away. A pod worker syncs on these
events and on updates of its pod, and otherwise only at its long periodic resync, instead of
listing the runtime itself every second: a node's steady cost is one relist, not one per pod.

Sans-IO core: `diff(before, after)` is a pure function of two relists' states; `relist()`
lists through the runtime; `run()` is the loop.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
import structlog

from kube_lite.agent import cri
from kube_lite.clock import Clock

log = structlog.get_logger(__name__)

RELIST_SECONDS = 1.0

# What a relist remembers of each sandbox or container: id -> (state, pod uid).
States = dict[str, tuple[object, str]]


def diff(before: States, after: States) -> set[str]:
    """The pod uids with an entry that appeared, changed state or went away."""
    changed = {entry[1] for key, entry in after.items() if before.get(key) != entry}
    changed.update(entry[1] for key, entry in before.items() if key not in after)
    changed.discard("")
    return changed


class PodLifecycleEventGenerator:
    """Relists `runtime` and calls `on_change(pod_uid)` for every pod whose runtime state
    changed since the previous relist (see the module doc)."""

    def __init__(self, runtime: cri.ContainerRuntime, clock: Clock, on_change: Callable[[str], None], *,
                 relist_seconds: float = RELIST_SECONDS) -> None:
        self.runtime = runtime
        self.clock = clock
        self.on_change = on_change
        self.relist_seconds = relist_seconds
        self._sandboxes: States = {}
        self._containers: States = {}
        self.relists = 0

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

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Relist forever. The first relist (before `started`) only records what the runtime
        runs already: the pod workers have not started yet and sync once anyway."""
        try:
            await self.relist()
        except Exception as exc:  # noqa: BLE001 - a failing runtime is retried at the next relist
            log.warning("runtime relist failed", error=repr(exc))
        task_status.started()
        while True:
            await self.clock.sleep(self.relist_seconds)
            try:
                changed = await self.relist()
            except Exception as exc:  # noqa: BLE001 - as above
                log.warning("runtime relist failed", error=repr(exc))
                continue
            for uid in changed:
                self.on_change(uid)
