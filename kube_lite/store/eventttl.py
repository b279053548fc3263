"""Events expire: one hour after their last update, as Kubernetes' --event-ttl (which it gets
from an etcd lease renewed on every write). Here the API server sweeps its watch cache."""

from __future__ import annotations

import datetime as _dt
from typing import Any

import structlog

from kube_lite.api import errors
from kube_lite.api.registry import KindInfo
from kube_lite.clock import Clock
from kube_lite.store.registry import Registry

log = structlog.get_logger(__name__)

EVENT_TTL = 3600.0


def _parse(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return _dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def last_update(event: dict[str, Any]) -> float | None:
    """When an event was last written, from the times it carries."""
    times = [
        _parse(event.get("lastTimestamp")),
        _parse(event.get("eventTime")),
        _parse((event.get("series") or {}).get("lastObservedTime")),
        _parse((event.get("metadata") or {}).get("creationTimestamp")),
    ]
    known = [t for t in times if t is not None]
    return max(known) if known else None


async def sweep(registry: Registry, events: KindInfo, clock: Clock, ttl: float = EVENT_TTL) -> int:
    """Delete every event not updated for `ttl` seconds; return how many went."""
    now = clock.time()
    expired = [
        cached.obj for cached in registry.cache.cache("events").list("")
        if (updated := last_update(cached.obj)) is not None and now - updated >= ttl
    ]
    for event in expired:
        meta = event["metadata"]
        try:
            await registry.delete(events, meta.get("namespace", ""), meta["name"],
                                  options={"preconditions": {"resourceVersion": meta.get("resourceVersion")}})
        except errors.APIError:
            pass  # updated meanwhile (its TTL restarted) or gone already
    if expired:
        log.info("expired events deleted", count=len(expired))
    return len(expired)


async def run(registry: Registry, events: KindInfo, clock: Clock, ttl: float = EVENT_TTL, interval: float = 60.0) -> None:
    """Sweep every `interval` seconds until cancelled."""
    while True:
        await clock.sleep(interval)
        await sweep(registry, events, clock, ttl)
