"""Recording Events, as client-go's event recorder does.

Components report what they did (Scheduled, FailedScheduling, Pulled, Started, ...) as core/v1
Events about an object. Repeats of the same event (same object, type, reason, message, source)
are aggregated into one Event whose `count` grows and `lastTimestamp` moves, so `kubectl
describe` shows `x5 over 2m` rather than five lines. Recording never blocks the caller and never
fails it: events go through a bounded buffer that a background task drains (dropped, with a log
line, when the buffer is full).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import anyio
import structlog

from kube_lite.api.errors import APIError
from kube_lite.client.client import Client
from kube_lite.clock import Clock, RealClock

log = structlog.get_logger(__name__)

NORMAL = "Normal"
WARNING = "Warning"


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


@dataclass
class _Seen:
    name: str
    namespace: str
    count: int
    first: str


@dataclass
class EventRecorder:
    """Records Events for `component` (and `host`, for node agents). Run `run()` in the
    owner's task group; `event(...)` may be called from anywhere in the loop."""

    client: Client
    component: str
    host: str = ""
    clock: Clock = field(default_factory=RealClock)
    buffer: int = 1000

    def __post_init__(self) -> None:
        self._send, self._recv = anyio.create_memory_object_stream[tuple[dict[str, Any], str, str, str]](self.buffer)
        self._seen: dict[str, _Seen] = {}
        self.dropped = 0
        self.pending = 0
        self._last_drop_log = float("-inf")

    def event(self, obj: dict[str, Any], type_: str, reason: str, message: str) -> None:
        """Record an event about `obj` (a dict with kind, apiVersion and metadata)."""
        try:
            self._send.send_nowait((obj, type_, reason, message))
            self.pending += 1
        except anyio.WouldBlock:
            # A burst (a thousand pods created at once) must not turn into a thousand log lines.
            self.dropped += 1
            now = self.clock.monotonic()
            if now - self._last_drop_log >= 10.0:
                self._last_drop_log = now
                log.warning("events dropped: recorder buffer full", dropped_so_far=self.dropped, reason=reason)

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        async for obj, type_, reason, message in self._recv:
            try:
                await self._write(obj, type_, reason, message)
            except APIError as exc:
                log.warning("event not recorded", reason=reason, error=exc.message)
            except Exception:  # noqa: BLE001 - an event must never take its component down
                log.exception("event not recorded", reason=reason)
            finally:
                self.pending -= 1

    async def _write(self, obj: dict[str, Any], type_: str, reason: str, message: str) -> None:
        ref = _ref(obj)
        namespace = ref.get("namespace") or "default"
        source = {"component": self.component, **({"host": self.host} if self.host else {})}
        key = "|".join([ref.get("uid", ""), ref.get("name", ""), type_, reason, message, self.component, self.host])
        now = self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        seen = self._seen.get(key)
        if seen is not None:
            seen.count += 1
            patch = {"count": seen.count, "lastTimestamp": now}
            try:
                await self.client.patch("events", seen.name, patch, namespace=seen.namespace)
                return
            except APIError as exc:
                if exc.code != 404:
                    raise
                del self._seen[key]  # expired (TTL) or deleted: start a new one
        suffix = hashlib.sha1(f"{key}|{now}|{self.clock.monotonic()}".encode()).hexdigest()[:16]
        name = f"{ref.get('name', 'unknown')}.{suffix}"
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": ref,
            "reason": reason,
            "message": message,
            "type": type_,
            "source": source,
            "count": 1,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "reportingComponent": self.component,
            "reportingInstance": self.host,
        }
        await self.client.create("events", body, namespace=namespace)
        if len(self._seen) > 4096:
            self._seen.clear()
        self._seen[key] = _Seen(name, namespace, 1, now)
