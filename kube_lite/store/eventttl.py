"""Events expire: one hour after their last update, as Kubernetes' --event-ttl (which it gets
from an etcd lease renewed on every write). Here the API server sweeps its watch cache."""

from __future__ import annotations

import datetime as _dt
from typing import Any

import msgspec
import structlog

from kube_lite.api import errors
from kube_lite.api.registry import KindInfo
from kube_lite.clock import Clock
from kube_lite.store.cache import CachedObject, split_key
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


class _Series(msgspec.Struct, gc=False):
    lastObservedTime: Any = None


class _Meta(msgspec.Struct, gc=False):
    creationTimestamp: Any = None


class _Times(msgspec.Struct, gc=False):
    """The fields `last_update` reads: decoding only these skips the rest of an event."""

    lastTimestamp: Any = None
    eventTime: Any = None
    series: _Series | None = None
    metadata: _Meta | None = None


def _last_update_of(cached: CachedObject) -> float | None:
    try:
        times = _decode_times(cached.raw)
    except msgspec.ValidationError:  # an odd shape: read it as a whole, as `last_update` does
        return last_update(cached.obj)
    found = [
        _parse(times.lastTimestamp),
        _parse(times.eventTime),
        _parse(times.series.lastObservedTime if times.series is not None else None),
        _parse(times.metadata.creationTimestamp if times.metadata is not None else None),
    ]
    known = [t for t in found if t is not None]
    return max(known) if known else None


_decode_times = msgspec.json.Decoder(_Times).decode


async def sweep(registry: Registry, events: KindInfo, clock: Clock, ttl: float = EVENT_TTL) -> int:
    """Delete every event not updated for `ttl` seconds; return how many went."""
    now = clock.time()
    expired = [
        cached for cached in registry.cache.cache("events").list("")
        if (updated := _last_update_of(cached)) is not None and now - updated >= ttl
    ]
    for cached in expired:
        try:
            await registry.delete(events, cached.namespace, split_key(cached.key)[2],
                                  options={"preconditions": {"resourceVersion": str(cached.revision)}})
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
