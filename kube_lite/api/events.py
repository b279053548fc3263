"""events.k8s.io/v1: Event, the newer shape of core/v1 Event.

Both groups are views of the same stored events in Kubernetes (regarding = involvedObject,
note = message, deprecatedSource = source, ...); converting between them is the registry's job,
not this module's. Conventions are kube_lite.api.base's; eventTime and
series.lastObservedTime are microsecond-precision RFC 3339 strings (MicroTime).
"""

from __future__ import annotations

from typing import ClassVar

from kube_lite.api.base import Resource, Struct, Time
from kube_lite.api.core import EventSource, ObjectReference
from kube_lite.api.meta import ObjectMeta


class EventSeries(Struct):
    """An ongoing series of similar events: how many and when the last was observed."""

    count: int | None = None
    lastObservedTime: Time | None = None


class Event(Resource):
    """A report that `action` happened to `regarding`, from reportingController."""

    group: ClassVar[str] = "events.k8s.io"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "events"
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta | None = None
    eventTime: Time | None = None
    series: EventSeries | None = None
    reportingController: str | None = None
    reportingInstance: str | None = None
    action: str | None = None
    reason: str | None = None
    regarding: ObjectReference | None = None
    related: ObjectReference | None = None
    note: str | None = None
    # Normal or Warning.
    type: str | None = None
    deprecatedSource: EventSource | None = None
    deprecatedFirstTimestamp: Time | None = None
    deprecatedLastTimestamp: Time | None = None
    deprecatedCount: int | None = None
