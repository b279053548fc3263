"""The status manager: pod statuses from the pod workers to the API, changes only.

Pod workers call `set_status` as often as they like; the manager's job (a `timers.Job` of the
agent, run when a status waits and at every resync) writes each pod's latest status with a
JSON merge patch on the pods/status subresource, so that several updates in a row become one
write and a status equal to the last one written is not written again.
Writes never move a pod out of a terminal phase (Succeeded, Failed): a terminal phase in the
API is final, as the kubelet's status manager keeps it.

The object written is found by name in the agent's pod cache and checked before each write:
for a regular pod it must carry the pod's uid (a pod deleted and re-created under the same
name is not written with the old pod's status); for a static pod it is the mirror pod
(annotation kubernetes.io/config.mirror), whatever its uid, so a mirror pod deleted and
created again gets the static pod's status at once.

Every `resync_seconds` each status is compared with the cached object once more, so a status
changed by someone else (or a write lost to an error) is written again.

A node agent keeps one entry per pod and a process may run a thousand agents: an entry holds
its statuses as JSON bytes (one flat object, which the garbage collector never walks) rather
than as a tree of dicts, and decodes them only to write or to hand a status back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
import msgspec
import structlog

from kube_lite.agent.timers import Job, Timers
from kube_lite.api.errors import APIError
from kube_lite.client.client import Client
from kube_lite.clock import Clock

log = structlog.get_logger(__name__)

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
TERMINAL_PHASES = ("Succeeded", "Failed")
# Status fields the agent owns: when a new status lacks one the API has, it is cleared.
OWNED_FIELDS = (
    "phase", "conditions", "hostIP", "hostIPs", "podIP", "podIPs", "startTime", "initContainerStatuses",
    "containerStatuses", "observedGeneration", "reason", "message",
)


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


@dataclass(slots=True)
class _Entry:
    namespace: str
    name: str
    uid: str | None  # the API object's uid to expect; None for a static pod (its mirror)
    status: bytes  # the desired status, JSON
    written: bytes | None = None  # the status last written, JSON
    written_uid: str | None = None
    written_rv: str | None = None


class StatusManager:
    """See the module doc. `lookup(key)` returns the agent's cached API pod for "ns/name"."""

    def __init__(
        self, client: Client, clock: Clock, lookup: Callable[[str], dict[str, Any] | None], *,
        resync_seconds: float = 10.0,
    ) -> None:
        self.client = client
        self.clock = clock
        self.lookup = lookup
        self.resync_seconds = resync_seconds
        self._entries: dict[str, _Entry] = {}  # by the pod worker's uid
        self._dirty: set[str] = set()
        self._job: Job | None = None
        self._last_resync = 0.0
        self._retry_at = float("-inf")  # writes failed: no flush before then (monotonic)
        self._lock = anyio.Lock()
        self.writes = 0  # status writes done (for tests and metrics)

    # ------------------------------------------------------------------ pod workers' side

    def set_status(self, key: str, namespace: str, name: str, status: dict[str, Any], *, uid: str | None) -> None:
        """Record the desired status of the pod worker `key`; it is written soon if it
        differs from the last one written. `uid` None means: a static pod's mirror."""
        encoded = _encode(status)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry(namespace, name, uid, encoded)
        elif entry.status == encoded:
            return
        entry.status = encoded
        self._dirty.add(key)
        if self._job is not None and self.clock.monotonic() >= self._retry_at:
            self._job.trigger()

    @property
    def idle(self) -> bool:
        """No status waiting to be written, none being written."""
        return not self._dirty and not self._lock.locked()

    def status_of(self, key: str) -> dict[str, Any] | None:
        """The desired status of the pod worker `key` (a fresh dict), or None."""
        entry = self._entries.get(key)
        return _decode(entry.status) if entry else None

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)
        self._dirty.discard(key)

    async def flush(self, key: str) -> bool:
        """Write the status of `key` now if it is not written yet. True when the API has it
        (or the pod's status can no longer be written: the object is gone)."""
        async with self._lock:
            self._dirty.discard(key)
            return await self._sync_one(key, force_check=False)

    # ------------------------------------------------------------------ the writer

    def start(self, timers: Timers) -> None:
        """Write statuses from a job of `timers`: when one waits, and every `resync_seconds`."""
        self._last_resync = self.clock.monotonic()
        self._job = timers.job("status manager", self._tick)
        self._job.schedule(0.0 if self._dirty else self.resync_seconds)

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Write statuses until cancelled, on timers of its own."""
        timers = Timers(self.clock)
        async with anyio.create_task_group() as tg:
            timers.bind(tg)
            self.start(timers)
            task_status.started()
            await timers.run()

    async def _tick(self) -> float:
        """Write the statuses waiting (all of them, checked against the cache, at a resync).
        Returns the seconds until the next run."""
        now = self.clock.monotonic()
        resync = now - self._last_resync >= self.resync_seconds
        keys = list(self._entries) if resync else list(self._dirty)
        if resync:
            self._last_resync = now
        failed = False
        async with self._lock:
            for key in keys:
                self._dirty.discard(key)
                try:
                    if not await self._sync_one(key, force_check=resync):
                        self._dirty.add(key)
                        failed = True
                except Exception:  # noqa: BLE001 - one bad pod must not stop every status
                    log.exception("status write failed", pod=key)
        if failed:
            # Some writes failed: retry after a pause rather than spinning. Statuses that
            # merely arrived during the writes go out at once (pausing for them cost pods up
            # to a second between Running and its report).
            self._retry_at = self.clock.monotonic() + 1.0
            return 1.0
        if self._dirty:
            return 0.0
        return max(self.resync_seconds - (self.clock.monotonic() - self._last_resync), 0.0)

    async def _sync_one(self, key: str, *, force_check: bool) -> bool:
        """Write entry `key` if needed. True when nothing is left to do for now."""
        entry = self._entries.get(key)
        if entry is None:
            return True
        target = self.lookup(f"{entry.namespace}/{entry.name}")
        if target is None:
            return True  # not (yet) in the cache: a later set_status or resync writes it
        meta = target.get("metadata") or {}
        target_uid = meta.get("uid")
        if entry.uid is not None and target_uid != entry.uid:
            return True  # another pod under the same name
        if entry.uid is None and MIRROR_ANNOTATION not in (meta.get("annotations") or {}):
            return True  # a static pod writes to its mirror pod only
        current = target.get("status") or {}
        encoded = entry.status
        if entry.written == encoded and entry.written_uid == target_uid and (
            not force_check or meta.get("resourceVersion") == entry.written_rv
        ):
            return True  # written, and nobody has written the pod since: nothing to decode
        desired: dict[str, Any] = _decode(encoded)
        if current.get("phase") in TERMINAL_PHASES and desired.get("phase") not in TERMINAL_PHASES:
            log.warning("not moving a pod out of a terminal phase", pod=key, phase=current.get("phase"),
                        wanted=desired.get("phase"))
            return True
        if entry.written == encoded and entry.written_uid == target_uid:
            if all(current.get(k) == v for k, v in desired.items()):
                # Someone else wrote the pod, and its status still says ours: remember this
                # version, so that the next resync need not decode and compare again.
                entry.written_rv = meta.get("resourceVersion")
                return True
        elif entry.written_uid != target_uid and all(current.get(k) == v for k, v in desired.items()):
            # First sight of this object and it already says so (an agent restart).
            entry.written, entry.written_uid = encoded, target_uid
            entry.written_rv = meta.get("resourceVersion")
            if set(current) & set(OWNED_FIELDS) <= set(desired):
                return True
        patch: dict[str, Any] = dict(desired)
        for field in OWNED_FIELDS:
            if field in current and field not in desired:
                patch[field] = None
        try:
            result = await self.client.patch(
                "pods", entry.name, {"status": patch}, namespace=entry.namespace, subresource="status",
            )
        except APIError as exc:
            if exc.code == 404:
                return True
            log.warning("status write failed", pod=key, code=exc.code, error=exc.message)
            return False
        self.writes += 1
        entry.written = encoded
        entry.written_uid = (result.get("metadata") or {}).get("uid") or target_uid
        entry.written_rv = (result.get("metadata") or {}).get("resourceVersion")
        return True
