"""An informer: a local, indexed, watch-fed cache of one kind, with event handlers.

It follows client-go's reflector + indexer + shared informer, asyncio-native:

    informer = Informer(client, "pods", namespace="default", clock=clock)
    informer.add_handler(on_add=lambda pod: queue.add(object_key(pod)))
    async with anyio.create_task_group() as tg:
        tg.start_soon(informer.run)
        await informer.wait_synced()
        pod = informer.get("default/web-0")

`run()` lists, then watches from the list's resourceVersion. When a watch ends (server timeout)
it watches again from the last resourceVersion seen (events and bookmarks move it), so no event
is missed or repeated. When the server answers 410 Gone (that resourceVersion is compacted) it
lists again at once (after a backoff if the previous watch also ended in 410 with no event in
between) and turns the difference between the cache and the new list into add, update and
delete events, so handlers see a consistent story. Other errors (network, 5xx, 403) are logged
and retried after an exponential backoff on the injected clock, by listing again.

The cache hands out the very dicts it stores: callers must treat them as read-only (copy before
changing one and sending it back to the server). A mutated cache entry would make the informer,
and every controller sharing it, believe something the server never said.

Handlers are plain (sync) callables run in the informer's task, in registration order, after the
cache has been updated, so a handler reading the cache sees the new state. They should be quick:
in practice they only add keys to a workqueue. A handler that raises is logged and skipped; it
does not stop the informer or the other handlers.

`SharedInformerFactory` is client-go's factory of the same name: components that watch the same
kind ask it for the informer and get one shared cache, one list and one watch stream, however many
of them register handlers and indexers on it:

    factory = SharedInformerFactory(client, clock=clock)
    pods = factory.informer("pods")          # every caller gets this same informer
    async with anyio.create_task_group() as tg:
        await tg.start(factory.run)          # runs every informer, also those asked for later
        await factory.wait_synced()
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
import structlog
from anyio.abc import TaskGroup, TaskStatus

from kube_lite.api.errors import APIError
from kube_lite.client.client import Client, KindRef, WatchEvent
from kube_lite.clock import Clock, RealClock

log = structlog.get_logger(__name__)

Object = dict[str, Any]
IndexFunc = Callable[[Object], list[str]]

NAMESPACE_INDEX = "namespace"

# client-go's reflector backs off 800 ms doubling to 30 s between failed list/watch cycles.
BACKOFF_INITIAL = 0.8
BACKOFF_MAX = 30.0
# A watch stream that ends empty-handed sooner than this is treated as the server refusing
# watches, so that a misbehaving server cannot make the informer spin.
MIN_WATCH_DURATION = 1.0
DEFAULT_WATCH_TIMEOUT = 300


def object_key(obj: Object) -> str:
    """The cache key of an object: "namespace/name", or "name" when it has no namespace."""
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace")
    name = meta.get("name") or ""
    return f"{namespace}/{name}" if namespace else name


def split_key(key: str) -> tuple[str | None, str]:
    """The (namespace, name) of a cache key; namespace is None for cluster-scoped keys."""
    namespace, sep, name = key.partition("/")
    return (namespace, name) if sep else (None, key)


def namespace_index(obj: Object) -> list[str]:
    """The built-in "namespace" index: an object's namespace ("" when cluster-scoped)."""
    return [(obj.get("metadata") or {}).get("namespace") or ""]


def resource_version_of(obj: Object) -> str | None:
    return (obj.get("metadata") or {}).get("resourceVersion")


@dataclass(frozen=True, slots=True)
class EventHandler:
    """One registration of `Informer.add_handler`; any of the three may be None."""

    on_add: Callable[[Object], None] | None = None
    on_update: Callable[[Object, Object], None] | None = None
    on_delete: Callable[[Object], None] | None = None


class _WatchGone(Exception):
    """Internal: the watch's resourceVersion is compacted (410); the cure is a fresh list."""


def _is_gone(exc: BaseException) -> bool:
    """A 410 Gone, bare or inside an exception group (a transport that serves the stream from
    a task group may hand errors raised in the watch block back wrapped in one)."""
    if isinstance(exc, APIError):
        return exc.code == 410
    if isinstance(exc, BaseExceptionGroup):
        return any(_is_gone(inner) for inner in exc.exceptions)
    return False


class Informer:
    """A cache of one kind (optionally one namespace, label and field selection) kept current
    by list and watch; see the module doc for the contract.

    `kind` is anything `Client.kind` accepts ("pods", "deployments.apps", a Struct class).
    """

    def __init__(
        self,
        client: Client,
        kind: KindRef,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        clock: Clock | None = None,
        watch_timeout_seconds: int = DEFAULT_WATCH_TIMEOUT,
    ) -> None:
        self.client = client
        self.kind = kind
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.clock = clock or RealClock()
        self.watch_timeout_seconds = watch_timeout_seconds
        self._items: dict[str, Object] = {}
        self._indexers: dict[str, IndexFunc] = {NAMESPACE_INDEX: namespace_index}
        self._indices: dict[str, dict[str, set[str]]] = {NAMESPACE_INDEX: {}}
        self._handlers: list[EventHandler] = []
        self._resource_version: str | None = None
        self._synced = False
        # Made on first need: anyio.Event needs a running event loop.
        self._synced_event: anyio.Event | None = None
        self._log = log.bind(kind=kind if isinstance(kind, str) else getattr(kind, "plural", str(kind)), namespace=namespace)

    # ------------------------------------------------------------------ reading the cache

    def get(self, key: str) -> Object | None:
        """The cached object under `key` ("namespace/name" or "name"), or None. Read-only."""
        return self._items.get(key)

    def list(self) -> list[Object]:
        """Every cached object (read-only dicts), in no promised order."""
        return list(self._items.values())

    def keys(self) -> list[str]:
        """Every cache key."""
        return list(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    @property
    def resource_version(self) -> str | None:
        """The last resourceVersion seen (from a list, an event or a bookmark), or None."""
        return self._resource_version

    @property
    def has_synced(self) -> bool:
        """True once the first list has been applied to the cache."""
        return self._synced

    async def wait_synced(self) -> None:
        """Return once the first list has been applied (at once if it has)."""
        if not self._synced:
            if self._synced_event is None:
                self._synced_event = anyio.Event()
            await self._synced_event.wait()

    # ------------------------------------------------------------------ indexes

    def add_indexer(self, name: str, fn: IndexFunc) -> None:
        """Index the cache by `fn(obj)` (each object under zero or more values). Objects already
        cached are indexed now. `fn` must be pure and must not raise. A name is taken once:
        adding the very same function under it again does nothing (components sharing an
        informer each declare the indexes they use); another function raises ValueError."""
        if name in self._indexers:
            if self._indexers[name] is fn:
                return
            raise ValueError(f"indexer {name!r} already exists")
        self._indexers[name] = fn
        index: dict[str, set[str]] = {}
        self._indices[name] = index
        for key, obj in self._items.items():
            for value in fn(obj):
                index.setdefault(value, set()).add(key)

    def index_keys(self, name: str, value: str) -> list[str]:
        """The keys of the objects indexed under `value` by indexer `name`, sorted.
        Raises KeyError for an unknown indexer."""
        return sorted(self._indices[name].get(value, ()))

    def by_index(self, name: str, value: str) -> list[Object]:
        """The objects indexed under `value` by indexer `name` (sorted by key), read-only.
        Raises KeyError for an unknown indexer."""
        items = self._items
        return [items[key] for key in self.index_keys(name, value)]

    def index_values(self, name: str, obj: Object) -> list[str]:
        """The values indexer `name` puts `obj` under. Raises KeyError for an unknown indexer."""
        return self._indexers[name](obj)

    def count_index(self, name: str, value: str) -> int:
        """How many objects are indexed under `value` by indexer `name`."""
        return len(self._indices[name].get(value, ()))

    # ------------------------------------------------------------------ handlers

    def add_handler(
        self,
        on_add: Callable[[Object], None] | None = None,
        on_update: Callable[[Object, Object], None] | None = None,
        on_delete: Callable[[Object], None] | None = None,
    ) -> EventHandler:
        """Register handlers: on_add(obj), on_update(old, new), on_delete(last_known_obj).

        A handler added after objects are cached is first told of each of them by on_add
        (as client-go does), so late registration misses nothing. On a re-list, an object
        gone from the list is reported with the last state the cache had of it.
        """
        handler = EventHandler(on_add, on_update, on_delete)
        self._handlers.append(handler)
        if on_add is not None:
            for obj in list(self._items.values()):
                self._call(on_add, obj)
        return handler

    @property
    def handler_count(self) -> int:
        """How many registrations are current."""
        return len(self._handlers)

    def remove_handler(self, handler: EventHandler) -> None:
        """Stop calling a registration returned by `add_handler` (unknown ones are ignored)."""
        if handler in self._handlers:
            # A new list: a removal from inside a handler must not upset the loop calling them.
            self._handlers = [h for h in self._handlers if h is not handler]

    # ------------------------------------------------------------------ running

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """List and watch forever (until cancelled). Signals `started` at once; readiness is
        `wait_synced()`. Never raises for API or network errors: they are retried."""
        task_status.started()
        failures = 0
        gone_in_a_row = 0  # 410s with no event delivered in between
        while True:
            try:
                await self._relist()
                while True:
                    if await self._watch_once():
                        failures = 0
                        gone_in_a_row = 0
            except _WatchGone:
                self._log.info("watch resourceVersion too old; listing again", resource_version=self._resource_version)
                gone_in_a_row += 1
                if gone_in_a_row > 1:
                    # Gone again before any progress: listing again at once could spin against
                    # a server that cannot keep up, so back off like any failure.
                    failures = await self._back_off(failures, "watch gone again without progress")
            except Exception as exc:  # any failure is retried: the cache must outlive outages
                failures = await self._back_off(failures, repr(exc))

    async def _back_off(self, failures: int, error: str) -> int:
        """Sleep the backoff for the `failures`-th failure in a row; return the new count."""
        delay = min(BACKOFF_INITIAL * 2.0 ** min(failures, 16), BACKOFF_MAX)
        self._log.warning("list/watch failed; retrying", error=error, retry_in=delay)
        await self.clock.sleep(delay)
        return failures + 1

    async def _relist(self) -> None:
        """List, replace the cache by the result and report the difference to the handlers."""
        result = await self.client.list(
            self.kind, namespace=self.namespace, label_selector=self.label_selector, field_selector=self.field_selector,
        )
        items: list[Object] = result.get("items") or []
        # List items may lack kind and apiVersion (Kubernetes leaves them to the list); watch
        # objects have them. Fill them in so that every cached object looks the same.
        item_kind = (result.get("kind") or "").removesuffix("List")
        api_version = result.get("apiVersion")
        fresh: dict[str, Object] = {}
        for obj in items:
            if item_kind and "kind" not in obj:
                obj["kind"] = item_kind
            if api_version and "apiVersion" not in obj:
                obj["apiVersion"] = api_version
            fresh[object_key(obj)] = obj
        for key, obj in fresh.items():
            self._upsert(key, obj)
        for key in [key for key in self._items if key not in fresh]:
            self._remove(key)
        self._resource_version = (result.get("metadata") or {}).get("resourceVersion") or self._resource_version
        if not self._synced:
            self._synced = True
            if self._synced_event is not None:
                self._synced_event.set()
        self._log.debug("listed", count=len(fresh), resource_version=self._resource_version)

    async def _watch_once(self) -> bool:
        """One watch from the last resourceVersion, applied until the stream ends.

        Returns whether any event came. Raises _WatchGone on 410; other errors propagate.
        """
        started = self.clock.monotonic()
        got_events = False
        try:
            watch = self.client.watch(
                self.kind, namespace=self.namespace, resource_version=self._resource_version,
                label_selector=self.label_selector, field_selector=self.field_selector,
                timeout_seconds=self.watch_timeout_seconds, allow_bookmarks=True,
            )
            # The block owns the stream: leaving it by any exit closes the watch in this task.
            async with watch as events:
                async for event in events:
                    got_events = True
                    self._apply(event)
        except Exception as exc:
            if _is_gone(exc):
                raise _WatchGone from exc
            raise
        if not got_events and self.clock.monotonic() - started < MIN_WATCH_DURATION:
            raise RuntimeError("watch ended at once without events")
        return got_events

    def _apply(self, event: WatchEvent) -> None:
        obj = event.object
        rv = resource_version_of(obj)
        if event.type == "BOOKMARK":
            if rv:
                self._resource_version = rv
            return
        if event.type in ("ADDED", "MODIFIED"):
            self._upsert(object_key(obj), obj)
        elif event.type == "DELETED":
            self._remove(object_key(obj), final=obj)
        else:
            self._log.warning("ignoring watch event of unknown type", type=event.type)
            return
        if rv:
            self._resource_version = rv

    # ------------------------------------------------------------------ cache changes

    def _upsert(self, key: str, obj: Object) -> None:
        """Store `obj` and report it: add if new, update if its resourceVersion changed."""
        old = self._items.get(key)
        if old is not None and resource_version_of(old) == resource_version_of(obj):
            return  # the same version again (a re-list of an unchanged object): no news
        self._items[key] = obj
        self._reindex(key, old, obj)
        if old is None:
            for handler in self._handlers:
                if handler.on_add is not None:
                    self._call(handler.on_add, obj)
        else:
            for handler in self._handlers:
                if handler.on_update is not None:
                    self._call(handler.on_update, old, obj)

    def _remove(self, key: str, final: Object | None = None) -> None:
        """Drop `key` and report it with `final` (the deleted state) or the last cached one.
        Unknown keys are ignored: there is nothing a handler could have been told of."""
        old = self._items.pop(key, None)
        if old is None:
            return
        self._reindex(key, old, None)
        gone = final if final is not None else old
        for handler in self._handlers:
            if handler.on_delete is not None:
                self._call(handler.on_delete, gone)

    def _reindex(self, key: str, old: Object | None, new: Object | None) -> None:
        indices = self._indices
        for name, fn in self._indexers.items():
            if old is not None and new is not None and fn is namespace_index:
                continue  # the key holds the namespace: an update never moves it
            before = fn(old) if old is not None else ()
            after = fn(new) if new is not None else ()
            if before == after:
                continue  # the common case: an update that moves nothing
            index = indices[name]
            for value in before:
                if value not in after:
                    keys = index.get(value)
                    if keys is not None:
                        keys.discard(key)
                        if not keys:
                            del index[value]
            for value in after:
                if value not in before:
                    keys = index.get(value)
                    if keys is None:
                        index[value] = {key}
                    else:
                        keys.add(key)

    def _call(self, fn: Callable[..., None], *args: Object) -> None:
        try:
            fn(*args)
        except Exception:  # one broken handler must not starve the others
            self._log.exception("event handler failed", handler=getattr(fn, "__qualname__", repr(fn)))



# ---------------------------------------------------------------------------------- the factory

_InformerKey = tuple[Any, str | None, str | None, str | None]


class SharedInformerFactory:
    """One informer per kind (and selection) for every component that asks, as client-go's
    SharedInformerFactory: one cache, one list and one watch stream per kind, however many
    controllers register handlers and indexers on it.

    `informer(...)` may be called before or after `run` has started: informers asked for while
    the factory runs are started at once, in the factory's task group. `run` owns them all;
    cancelling it stops every informer. Not thread-safe: it belongs to one event loop.
    """

    def __init__(
        self, client: Client, *, clock: Clock | None = None, watch_timeout_seconds: int = DEFAULT_WATCH_TIMEOUT,
    ) -> None:
        self.client = client
        self.clock = clock or RealClock()
        self.watch_timeout_seconds = watch_timeout_seconds
        self._informers: dict[_InformerKey, Informer] = {}
        self._scopes: dict[_InformerKey, anyio.CancelScope] = {}
        self._task_group: TaskGroup | None = None

    def _kind_key(self, kind: KindRef) -> Any:
        """What identifies a kind however it is named ("pods", "v1/pods", Pod, a KindInfo):
        its (group, plural) when the client can resolve it, else the name as given."""
        resolve = getattr(self.client, "kind", None)
        if callable(resolve):
            try:
                info = resolve(kind)
            except ValueError:
                pass
            else:
                return (info.group, info.plural)
        return kind

    def informer(
        self, kind: KindRef, *, namespace: str | None = None, label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> Informer:
        """The shared informer of `kind` with this selection (made on first request, and
        started at once if the factory is running)."""
        key = (self._kind_key(kind), namespace, label_selector, field_selector)
        informer = self._informers.get(key)
        if informer is None:
            informer = Informer(
                self.client, kind, namespace=namespace, label_selector=label_selector, field_selector=field_selector,
                clock=self.clock, watch_timeout_seconds=self.watch_timeout_seconds,
            )
            self._informers[key] = informer
            if self._task_group is not None:
                self._start(key, informer)
        return informer

    @property
    def informers(self) -> list[Informer]:
        """Every informer made so far."""
        return list(self._informers.values())

    @property
    def running(self) -> bool:
        return self._task_group is not None

    def stop(self, informer: Informer) -> None:
        """Stop `informer` and forget it (e.g. its kind is no longer served); the next request
        for its kind makes a new one. Unknown informers are ignored."""
        for key, known in list(self._informers.items()):
            if known is informer:
                del self._informers[key]
                scope = self._scopes.pop(key, None)
                if scope is not None:
                    scope.cancel()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Run every informer, and each one asked for later, until cancelled. Signals `started`
        once they are started (not synced: see `wait_synced`)."""
        async with anyio.create_task_group() as tg:
            self._task_group = tg
            try:
                for key, informer in list(self._informers.items()):
                    self._start(key, informer)
                task_status.started()
                await anyio.sleep_forever()
            finally:
                self._task_group = None
                self._scopes.clear()

    async def wait_synced(self) -> None:
        """Return once every informer made so far has applied its first list."""
        for informer in list(self._informers.values()):
            await informer.wait_synced()

    def _start(self, key: _InformerKey, informer: Informer) -> None:
        assert self._task_group is not None
        if key in self._scopes:
            return
        scope = self._scopes[key] = anyio.CancelScope()

        async def run() -> None:
            with scope:
                await informer.run()

        self._task_group.start_soon(run)


# ---------------------------------------------------------------------------------- own writes


_ECHOES_KEPT = 8
_ECHO_KEYS_KEPT = 4096


def _rv_int(obj: Object | None) -> int | None:
    try:
        return int(resource_version_of(obj or {}) or "")
    except ValueError:
        return None


class MutationCache:
    """An informer's cache as this component last wrote it, as client-go's
    IntegerResourceVersionMutationCache: after a write, the object the API returned is read
    back until the watch delivers that version (or a newer one), so a sync started before the
    informer caught up does not compute from, and write over, a version it has already
    replaced (a 409 Conflict every other sync).

    `mutation(obj)` records a written object; `created=True` also makes an object the informer
    has not reported yet visible (for `ttl` seconds at most); `echo=True` lets a handler tell
    the watch event of that write from news (`echo(obj)`). Versions compare as integers (as
    client-go's does); an object whose resourceVersion is not an integer is not recorded.
    Reads are the informer's otherwise; nothing here is mutated by reading.
    """

    def __init__(self, informer: Informer, *, clock: Clock | None = None, ttl: float = 60.0) -> None:
        self.informer = informer
        self.clock = clock or informer.clock
        self.ttl = ttl
        self._writes: dict[str, tuple[Object, int, bool, float]] = {}  # key -> (obj, rv, created, when)
        self._echoes: dict[str, list[int]] = {}  # key -> versions written on top of what was read

    def mutation(self, obj: Object, *, created: bool = False, echo: bool = False) -> None:
        """Record `obj` as the API returned it from this component's write. With `echo`, its
        watch event is this component's echo (`echo()`): say so only for a write made on top
        of the very version the writer read and acted on, so the event carries nothing else."""
        rv = _rv_int(obj)
        if rv is None:
            return
        key = object_key(obj)
        if echo:
            own = self._echoes.setdefault(key, [])
            own.append(rv)
            del own[:-_ECHOES_KEPT]
            if len(self._echoes) > _ECHO_KEYS_KEPT:
                self._echoes.pop(next(iter(self._echoes)))
        previous = self._writes.get(key)
        if previous is not None and previous[1] >= rv:
            return
        self._writes[key] = (obj, rv, created or (previous is not None and previous[2]), self.clock.monotonic())

    def forget(self, key: str) -> None:
        self._writes.pop(key, None)

    def echo(self, obj: Object) -> bool:
        """Whether `obj` (from a watch event) is a version this component wrote with
        `mutation(..., echo=True)`: its echo, which tells the writer nothing new."""
        rv = _rv_int(obj)
        own = self._echoes.get(object_key(obj))
        if rv is None or own is None or rv not in own:
            return False
        own.remove(rv)
        if not own:
            del self._echoes[object_key(obj)]
        return True

    def _newest(self, key: str, cached: Object | None) -> Object | None:
        entry = self._writes.get(key)
        if entry is None:
            return cached
        obj, rv, created, when = entry
        if cached is None:
            # Not reported yet (a creation), or deleted since (an update): only the first
            # shows, and not for ever.
            if created and self.clock.monotonic() - when <= self.ttl:
                return obj
            del self._writes[key]
            return None
        cached_rv = _rv_int(cached)
        if cached_rv is None or cached_rv >= rv or (cached.get("metadata") or {}).get("uid") != (obj.get("metadata") or {}).get("uid"):
            del self._writes[key]  # the informer caught up (or it is another object now)
            return cached
        return obj

    def get(self, key: str) -> Object | None:
        return self._newest(key, self.informer.get(key))

    def by_index(self, name: str, value: str) -> list[Object]:
        """`Informer.by_index` with this component's newer writes in place (and its recent
        creations the informer has not reported yet, if the index puts them under `value`)."""
        found: dict[str, Object] = {}
        for key in self.informer.index_keys(name, value):
            obj = self._newest(key, self.informer.get(key))
            if obj is not None:
                found[key] = obj
        for key in [k for k in self._writes if k not in found and k not in self.informer]:
            obj = self._newest(key, None)
            if obj is not None and value in self.informer.index_values(name, obj):
                found[key] = obj
        return [found[key] for key in sorted(found)]
