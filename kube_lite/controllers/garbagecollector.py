"""The garbage collector: deletes objects whose owners are gone and carries out the Foreground
and Orphan deletion policies, as kube-controller-manager's garbage collector does.

metadata.ownerReferences make a graph of owners and dependents, keyed by uid. `DependencyGraph`
keeps it from informer events (one informer per collectable kind: every kind that can be
listed, watched and deleted, events excepted; custom resources are picked up by a periodic
rescan of the kind registry) and says which uids need a look. It does no I/O, so it is tested
with plain dicts. The collector's reconcile does the looking, against the live API, since the
informers of different kinds lag each other:

- "delete/<uid>" (attempt to delete). For an owner that was referenced but never observed
  (a "virtual" owner): GET it; absent, its dependents are looked at again. For an observed
  object: when it is being deleted in the foreground, remove its `foregroundDeletion`
  finalizer once no dependent with blockOwnerDeletion remains (else look at those dependents);
  otherwise classify its owners as solid (exists), dangling (not found, or found with another
  uid) or waiting (being deleted in the foreground), and decide (`decide_dependent`): keep it,
  drop its references to dangling and waiting owners when a solid one remains, or delete it.
- "orphan/<uid>" (attempt to orphan). For an object being deleted with the `orphan`
  finalizer: remove the reference to it from every dependent, then the finalizer.

The registry adds those two finalizers on Orphan and Foreground deletes only while a collector
runs (`Registry.garbage_collector_running`); Background deletes (the default) remove the owner
at once and leave its dependents to this collector.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.abc import TaskGroup

from kube_lite.api.errors import APIError
from kube_lite.api.registry import KindInfo, KindRegistry
from kube_lite.client.client import Client
from kube_lite.client.events import EventRecorder
from kube_lite.client.informer import EventHandler, Informer, SharedInformerFactory
from kube_lite.client.workqueue import run_workers
from kube_lite.clock import Clock
from kube_lite.controllers.base import Controller

FINALIZER_ORPHAN = "orphan"
FINALIZER_DELETE_DEPENDENTS = "foregroundDeletion"

ORPHAN = "Orphan"
FOREGROUND = "Foreground"
BACKGROUND = "Background"

# Kubernetes' default --gc-ignored-resources: events churn and are never owners.
IGNORED_RESOURCES = frozenset({("", "events"), ("events.k8s.io", "events")})
_COLLECT_VERBS = frozenset({"list", "watch", "delete"})

# How often the kind registry is rescanned for kinds to watch (custom resources), as
# Kubernetes resyncs its monitors from discovery.
RESCAN_PERIOD = 30.0
# A referenced owner that exists but that no informer has reported yet is looked at again
# after this long (until an informer reports it).
VIRTUAL_RECHECK = 1.0
# Retries of a read-modify-write (patch conditional on resourceVersion) that meets 409s.
WRITE_RETRIES = 5
ABSENT_CACHE_SIZE = 1000


# ---------------------------------------------------------------------------------- the graph


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """Coordinates of one object: what an ownerReference names, plus its namespace ("" for a
    cluster-scoped object, or an owner whose scope is not known yet)."""

    api_version: str
    kind: str
    name: str
    uid: str
    namespace: str = ""

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}.{self.group or 'core'} {where}{self.name} ({self.uid})"


@dataclass(frozen=True, slots=True)
class OwnerRef:
    """One entry of metadata.ownerReferences."""

    api_version: str
    kind: str
    name: str
    uid: str
    controller: bool = False
    block_owner_deletion: bool = False

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @classmethod
    def all_of(cls, obj: dict[str, Any]) -> tuple[OwnerRef, ...]:
        """The owner references of `obj`; malformed entries (no uid) are skipped."""
        refs = (obj.get("metadata") or {}).get("ownerReferences")
        out: list[OwnerRef] = []
        for ref in refs if isinstance(refs, list) else ():
            if isinstance(ref, dict) and ref.get("uid"):
                out.append(
                    cls(
                        str(ref.get("apiVersion") or ""), str(ref.get("kind") or ""), str(ref.get("name") or ""),
                        str(ref["uid"]), ref.get("controller") is True, ref.get("blockOwnerDeletion") is True,
                    )
                )
        return tuple(out)

    def points_at(self, owner: ObjectRef, dependent_namespace: str) -> bool:
        """Whether this reference names `owner` (an observed object) from a dependent in
        `dependent_namespace`: same uid, group, kind and name, and a namespaced owner only
        from its own namespace."""
        return (
            self.uid == owner.uid and self.group == owner.group and self.kind == owner.kind
            and self.name == owner.name and owner.namespace in ("", dependent_namespace)
        )


@dataclass(slots=True)
class Node:
    """One object the informers reported."""

    ref: ObjectRef
    owners: tuple[OwnerRef, ...]
    being_deleted: bool
    finalizers: tuple[str, ...]

    @property
    def deleting_dependents(self) -> bool:
        """Being deleted in the foreground: it goes once its blocking dependents have."""
        return self.being_deleted and FINALIZER_DELETE_DEPENDENTS in self.finalizers

    @property
    def orphaning(self) -> bool:
        return self.being_deleted and FINALIZER_ORPHAN in self.finalizers

    def owner(self, uid: str) -> OwnerRef | None:
        return next((o for o in self.owners if o.uid == uid), None)


@dataclass(slots=True)
class GraphWork:
    """What a change asks of the collector: uids to attempt to delete, uids to orphan."""

    delete: set[str] = field(default_factory=set)
    orphan: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.delete or self.orphan)


def ref_of(obj: dict[str, Any]) -> ObjectRef:
    meta = obj.get("metadata") or {}
    return ObjectRef(
        str(obj.get("apiVersion") or ""), str(obj.get("kind") or ""), str(meta.get("name") or ""),
        str(meta.get("uid") or ""), str(meta.get("namespace") or ""),
    )


class AbsentOwners:
    """Owners verified absent, keyed by coordinates (a uid never comes back, but a wrong
    name with the right uid must not make the right reference look absent). Bounded: only a
    shortcut before asking the API server."""

    def __init__(self, size: int = ABSENT_CACHE_SIZE) -> None:
        self.size = size
        self._keys: OrderedDict[tuple[str, str, str, str, str], None] = OrderedDict()

    @staticmethod
    def _key(ref: OwnerRef | ObjectRef, namespace: str) -> tuple[str, str, str, str, str]:
        return (ref.uid, ref.group, ref.kind, ref.name, namespace)

    def add(self, ref: OwnerRef | ObjectRef, namespace: str) -> None:
        key = self._key(ref, namespace)
        self._keys[key] = None
        self._keys.move_to_end(key)
        while len(self._keys) > self.size:
            self._keys.popitem(last=False)

    def has(self, ref: OwnerRef, namespace: str) -> bool:
        """Whether `ref`, made from a dependent in `namespace`, is known absent, as a
        cluster-scoped or as a namespaced owner."""
        return self._key(ref, "") in self._keys or (bool(namespace) and self._key(ref, namespace) in self._keys)


class DependencyGraph:
    """Owners and dependents by uid, from informer events. Every method returns the work the
    change calls for; none does I/O.

    `nodes` holds the objects reported by informers. `virtual` holds owners that dependents
    reference but that no informer has reported, until the collector has checked them.
    """

    def __init__(self, absent_cache_size: int = ABSENT_CACHE_SIZE) -> None:
        self.nodes: dict[str, Node] = {}
        self.virtual: dict[str, ObjectRef] = {}
        self.absent = AbsentOwners(absent_cache_size)
        # owner uid -> uids of the observed objects that reference it (whether or not the
        # owner itself is known)
        self._dependents: dict[str, set[str]] = {}

    # -- reading

    def dependents(self, uid: str) -> list[Node]:
        """The observed objects that reference `uid`, by uid order."""
        return [self.nodes[d] for d in sorted(self._dependents.get(uid, ())) if d in self.nodes]

    def blocking_dependents(self, uid: str) -> list[Node]:
        """The dependents of `uid` whose reference to it sets blockOwnerDeletion: a foreground
        deletion of `uid` waits for them."""
        out = []
        for dep in self.dependents(uid):
            ref = dep.owner(uid)
            if ref is not None and ref.block_owner_deletion:
                out.append(dep)
        return out

    # -- changes

    def upsert(self, obj: dict[str, Any]) -> GraphWork:
        """An informer reported `obj` (added or updated)."""
        work = GraphWork()
        ref = ref_of(obj)
        if not ref.uid:
            return work
        meta = obj.get("metadata") or {}
        finalizers = meta.get("finalizers")
        node = Node(
            ref, OwnerRef.all_of(obj), bool(meta.get("deletionTimestamp")),
            tuple(str(f) for f in finalizers) if isinstance(finalizers, list) else (),
        )
        old = self.nodes.get(ref.uid)
        self.nodes[ref.uid] = node
        if ref.uid in self.virtual or old is None or old.ref != ref:
            # Now that the object is seen, dependents that name it otherwise (another kind,
            # name or namespace) reference something else: look at them again.
            self.virtual.pop(ref.uid, None)
            for dep in self.dependents(ref.uid):
                owner = dep.owner(ref.uid)
                if owner is not None and not owner.points_at(ref, dep.ref.namespace):
                    work.delete.add(dep.ref.uid)
        old_owners = {o.uid: o for o in old.owners} if old is not None else {}
        new_owners = {o.uid: o for o in node.owners}
        for uid, owner_ref in old_owners.items():
            if new_owners.get(uid) == owner_ref:
                continue
            if uid not in new_owners:
                self._unlink(uid, ref.uid)
            owner = self.nodes.get(uid)
            if owner is not None and owner.deleting_dependents:
                work.delete.add(uid)  # its wait may be over
        for uid, owner_ref in new_owners.items():
            if uid in old_owners:
                continue
            self._dependents.setdefault(uid, set()).add(ref.uid)
            owner = self.nodes.get(uid)
            if owner is None:
                if self.absent.has(owner_ref, ref.namespace):
                    work.delete.add(ref.uid)
                elif uid not in self.virtual:
                    self.virtual[uid] = ObjectRef(owner_ref.api_version, owner_ref.kind, owner_ref.name, uid, ref.namespace)
                    work.delete.add(uid)
            elif not owner_ref.points_at(owner.ref, ref.namespace):
                work.delete.add(ref.uid)
        if node.orphaning:
            work.orphan.add(ref.uid)
        if node.deleting_dependents:
            work.delete.add(ref.uid)
            work.delete.update(d.ref.uid for d in self.dependents(ref.uid))
        return work

    def remove(self, obj: dict[str, Any]) -> GraphWork:
        """An informer reported `obj` deleted."""
        return self.remove_uid(ref_of(obj).uid)

    def remove_uid(self, uid: str) -> GraphWork:
        """The object `uid` is gone (reported deleted, or not found by the collector): its
        dependents need a look, and so do owners waiting for it."""
        work = GraphWork()
        node = self.nodes.pop(uid, None)
        if node is None:
            return work
        for owner_ref in node.owners:
            self._unlink(owner_ref.uid, uid)
            owner = self.nodes.get(owner_ref.uid)
            if owner is not None and owner.deleting_dependents:
                work.delete.add(owner_ref.uid)
        dependents = self._dependents.get(uid, set())
        if dependents:
            self.absent.add(node.ref, node.ref.namespace)
        work.delete.update(dependents)
        return work

    def owner_absent(self, ref: ObjectRef, *, namespaced: bool) -> GraphWork:
        """The collector found no object at `ref` (a virtual owner) with its uid."""
        work = GraphWork()
        self.virtual.pop(ref.uid, None)
        self.absent.add(ref, ref.namespace if namespaced else "")
        if ref.uid not in self.nodes:
            work.delete.update(self._dependents.get(ref.uid, ()))
        return work

    def drop_virtual(self, uid: str) -> None:
        """Stop tracking virtual owner `uid` (it exists, but no informer will report it)."""
        self.virtual.pop(uid, None)

    def _unlink(self, owner_uid: str, dependent_uid: str) -> None:
        deps = self._dependents.get(owner_uid)
        if deps is None:
            return
        deps.discard(dependent_uid)
        if not deps:
            del self._dependents[owner_uid]
            self.virtual.pop(owner_uid, None)


# ---------------------------------------------------------------------------------- decisions

KEEP = "keep"
REMOVE_REFERENCES = "remove-references"
DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Decision:
    """What attempt-to-delete does with one object that has owners."""

    action: str
    remove_owner_uids: tuple[str, ...] = ()
    policy: str | None = None
    # set blockOwnerDeletion to false on its references first: it is in a cycle of
    # foreground deletions and must not hold its owners up
    unblock: bool = False


def decide_dependent(
    finalizers: Iterable[str],
    solid: Sequence[OwnerRef],
    dangling: Sequence[OwnerRef],
    waiting: Sequence[OwnerRef],
    *,
    has_dependents: bool = False,
    a_dependent_deletes_dependents: bool = False,
) -> Decision:
    """Kubernetes' rule for an object whose owners are classified as solid (exists), dangling
    (gone) or waiting (being deleted in the foreground):

    - a solid owner remains: keep the object; drop its references to dangling and waiting
      owners, if any;
    - a waiting owner and dependents of its own: delete it in the foreground (so the owner
      waits for the whole subtree), unblocking its references first if one of its dependents
      is itself deleting dependents (a cycle);
    - otherwise it is garbage: delete it with the policy its own finalizers ask for (orphan:
      Orphan, foregroundDeletion: Foreground), else Background.
    """
    if solid:
        if not dangling and not waiting:
            return Decision(KEEP)
        return Decision(REMOVE_REFERENCES, tuple(r.uid for r in (*dangling, *waiting)))
    if waiting and has_dependents:
        return Decision(DELETE, policy=FOREGROUND, unblock=a_dependent_deletes_dependents)
    names = set(finalizers)
    if FINALIZER_ORPHAN in names:
        policy = ORPHAN
    elif FINALIZER_DELETE_DEPENDENTS in names:
        policy = FOREGROUND
    else:
        policy = BACKGROUND
    return Decision(DELETE, policy=policy)


def collectable_kinds(kinds: KindRegistry) -> list[KindInfo]:
    """The kinds the collector watches: every kind that can be listed, watched and deleted,
    once, at its group's preferred version; events excepted (Kubernetes' default
    --gc-ignored-resources)."""
    out: dict[tuple[str, str], KindInfo] = {}
    for info in kinds:
        if info.subresource_of is not None or not _COLLECT_VERBS <= set(info.verbs):
            continue
        if (info.group, info.plural) in IGNORED_RESOURCES:
            continue
        preferred = kinds.by_kind(info.group, info.kind) or info
        out.setdefault((preferred.group, preferred.plural), preferred)
    return sorted(out.values(), key=lambda i: (i.group, i.plural))


# ---------------------------------------------------------------------------------- the controller


class UnknownKindError(Exception):
    """An ownerReference names a kind this server does not serve (yet: a custom resource may
    be registered later); retried with backoff."""


class _InvalidOwnerScope(Exception):
    """A cluster-scoped object names a namespaced owner: no retry will resolve it."""


@dataclass(slots=True)
class _Monitor:
    info: KindInfo
    informer: Informer
    handler: EventHandler


class GarbageCollector(Controller):
    """Deletes dependents of deleted owners; runs the Foreground and Orphan policies.

    `resources` fixes the kinds to watch (names as kubectl takes them); by default every
    collectable kind of the client's kind registry is watched, rescanned every
    `rescan_period` seconds so that custom resources are collected too.
    """

    name = "garbagecollector"
    event_source = "garbage-collector-controller"
    workers = 4

    def __init__(
        self,
        client: Client,
        clock: Clock | None = None,
        recorder: EventRecorder | None = None,
        *,
        resources: Sequence[str] | None = None,
        rescan_period: float = RESCAN_PERIOD,
        sync_timeout: float = 60.0,
        informers: SharedInformerFactory | None = None,
    ) -> None:
        super().__init__(client, clock, recorder, informers=informers)
        self.graph = DependencyGraph()
        self.resources = list(resources) if resources is not None else None
        self.rescan_period = rescan_period
        self.sync_timeout = sync_timeout
        self._monitors: dict[tuple[str, str], _Monitor] = {}
        self._task_group: TaskGroup | None = None

    # -- monitors (one informer per kind)

    def monitored_kinds(self) -> list[KindInfo]:
        if self.resources is not None:
            return [self.client.kind(r) for r in self.resources]
        return collectable_kinds(self.client.kinds)

    @property
    def watched(self) -> list[KindInfo]:
        """The kinds watched now."""
        return [m.info for m in self._monitors.values()]

    def _sync_monitors(self) -> list[Informer]:
        """Watch new kinds (through the shared informers, which the factory starts) and stop
        watching kinds no longer served; return the informers of the new kinds."""
        wanted = {(k.group, k.plural): k for k in self.monitored_kinds()}
        for key in [k for k in self._monitors if k not in wanted]:
            monitor = self._monitors.pop(key)
            monitor.informer.remove_handler(monitor.handler)
            if monitor.informer.handler_count == 0:
                self.informer_factory.stop(monitor.informer)
            self.log.info("stopped watching", resource=key[1], group=key[0])
        started = []
        for key, info in wanted.items():
            if key in self._monitors:
                continue
            informer = self.informer_factory.informer(info)
            handler = informer.add_handler(on_add=self._observe, on_update=self._observe_update, on_delete=self._observe_delete)
            self._monitors[key] = _Monitor(info, informer, handler)
            started.append(informer)
        return started

    async def _rescan(self) -> None:
        while True:
            await self.clock.sleep(self.rescan_period)
            self._sync_monitors()

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Start the informers, wait (at most `sync_timeout`) for their caches, then run the
        workers until cancelled."""
        async with anyio.create_task_group() as tg:
            self._task_group = tg
            if self._owns_factory:
                await tg.start(self.informer_factory.run)
            informers = self._sync_monitors()
            with self.clock.move_on_after(self.sync_timeout) as scope:
                for informer in informers:
                    await informer.wait_synced()
            if scope.cancelled_caught:
                self.log.warning("not every informer synced; collecting anyway")
            task_status.started()
            if self.resources is None:
                tg.start_soon(self._rescan)
            try:
                await run_workers(self.queue, self.workers, self.reconcile, clock=self.clock)
            finally:
                tg.cancel_scope.cancel()

    # -- events into work

    def _observe(self, obj: dict[str, Any]) -> None:
        self._schedule(self.graph.upsert(obj))

    def _observe_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        old_meta, new_meta = old.get("metadata") or {}, new.get("metadata") or {}
        node = self.graph.nodes.get(str(new_meta.get("uid") or ""))
        if (node is not None and not new_meta.get("deletionTimestamp") and node.ref == ref_of(new)
                and node.ref.uid not in self.graph.virtual
                and old_meta.get("ownerReferences") == new_meta.get("ownerReferences")
                and old_meta.get("finalizers") == new_meta.get("finalizers") and not old_meta.get("deletionTimestamp")):
            # Nothing the graph holds of it changed (a status write, most updates): the
            # upsert would put back the same node and ask for no work.
            return
        self._observe(new)

    def _observe_delete(self, obj: dict[str, Any]) -> None:
        self._schedule(self.graph.remove(obj))

    def _schedule(self, work: GraphWork) -> None:
        for uid in work.delete:
            self.enqueue(f"delete/{uid}")
        for uid in work.orphan:
            self.enqueue(f"orphan/{uid}")

    async def reconcile(self, key: str) -> float | None:
        action, _, uid = key.partition("/")
        try:
            if action == "delete":
                return await self.attempt_to_delete(uid)
            if action == "orphan":
                return await self.attempt_to_orphan(uid)
        except _InvalidOwnerScope as exc:
            self.log.warning("cluster-scoped object with a namespaced owner; left alone", object=str(exc))
            return None
        self.log.warning("unknown work item", key=key)
        return None

    # -- attempt to delete

    async def attempt_to_delete(self, uid: str) -> float | None:
        """Look at `uid` (see the module doc). Returns a recheck delay for a virtual owner
        that exists but is not reported yet."""
        node = self.graph.nodes.get(uid)
        if node is None:
            virtual = self.graph.virtual.get(uid)
            return await self._verify_virtual(virtual) if virtual is not None else None
        if node.being_deleted and not node.deleting_dependents:
            return None  # already going
        latest = await self._get(node.ref)
        if latest is None:
            # gone, or replaced by another object of that name: the informer will tell, but
            # its dependents need not wait for that
            self._schedule(self.graph.remove_uid(uid))
            return None
        meta = latest["metadata"]
        finalizers = meta.get("finalizers") or []
        if meta.get("deletionTimestamp"):
            if FINALIZER_DELETE_DEPENDENTS in finalizers:
                await self._process_deleting_dependents(node, latest)
            return None
        owners = OwnerRef.all_of(latest)
        if not owners:
            return None
        solid, dangling, waiting = await self._classify(owners, node.ref.namespace)
        dependents = self.graph.dependents(uid)
        decision = decide_dependent(
            finalizers, solid, dangling, waiting,
            has_dependents=bool(dependents),
            a_dependent_deletes_dependents=any(d.deleting_dependents for d in dependents),
        )
        if decision.action == KEEP:
            return None
        if decision.action == REMOVE_REFERENCES:
            self.log.info("removing references to owners that are gone or going", object=str(node.ref),
                          owners=list(decision.remove_owner_uids))
            await self._patch_owner_references(node.ref, remove=set(decision.remove_owner_uids))
            return None
        if decision.unblock:
            latest = await self._patch_owner_references(node.ref, unblock=True) or latest
        self.log.info("deleting object whose owners are gone", object=str(node.ref), policy=decision.policy)
        return await self._delete(node.ref, latest, decision.policy or BACKGROUND)

    async def _verify_virtual(self, ref: ObjectRef) -> float | None:
        info = self._kind_for(ref.api_version, ref.kind)
        if info.namespaced and not ref.namespace:
            # named only by cluster-scoped dependents, which cannot have namespaced owners
            self.graph.drop_virtual(ref.uid)
            return None
        latest = await self._get(ref)
        if latest is None:
            self.log.debug("referenced owner is absent", owner=str(ref))
            self._schedule(self.graph.owner_absent(ref, namespaced=info.namespaced))
            return None
        if (info.group, info.plural) in self._monitors:
            return VIRTUAL_RECHECK  # it exists; wait for its informer to report it
        self.graph.drop_virtual(ref.uid)  # no informer will: its dependents stay as they are
        return None

    async def _process_deleting_dependents(self, node: Node, latest: dict[str, Any]) -> None:
        blocking = self.graph.blocking_dependents(node.ref.uid)
        if not blocking:
            self.log.info("dependents gone; removing the foregroundDeletion finalizer", object=str(node.ref))
            await self._remove_finalizer(node.ref, FINALIZER_DELETE_DEPENDENTS)
            return
        for dep in blocking:
            if not dep.deleting_dependents:
                self.enqueue(f"delete/{dep.ref.uid}")

    async def _classify(
        self, owners: Sequence[OwnerRef], namespace: str,
    ) -> tuple[list[OwnerRef], list[OwnerRef], list[OwnerRef]]:
        """Split `owners` (of an object in `namespace`) into solid, dangling and waiting."""
        solid: list[OwnerRef] = []
        dangling: list[OwnerRef] = []
        waiting: list[OwnerRef] = []
        for ref in owners:
            owner = await self._owner(ref, namespace)
            if owner is None:
                dangling.append(ref)
                continue
            meta = owner.get("metadata") or {}
            if meta.get("deletionTimestamp") and FINALIZER_DELETE_DEPENDENTS in (meta.get("finalizers") or []):
                waiting.append(ref)
            else:
                solid.append(ref)
        return solid, dangling, waiting

    async def _owner(self, ref: OwnerRef, namespace: str) -> dict[str, Any] | None:
        """The owner `ref` (from an object in `namespace`) names, live; None when it is absent
        (not found, or found with another uid)."""
        if self.graph.absent.has(ref, namespace):
            return None
        info = self._kind_for(ref.api_version, ref.kind)
        if info.namespaced and not namespace:
            raise _InvalidOwnerScope(f"{ref.kind} {ref.name} ({ref.uid})")
        target = ObjectRef(ref.api_version, ref.kind, ref.name, ref.uid, namespace if info.namespaced else "")
        owner = await self._get(target)
        if owner is None:
            self.graph.absent.add(ref, target.namespace)
        return owner

    # -- attempt to orphan

    async def attempt_to_orphan(self, uid: str) -> float | None:
        """Remove the references to `uid` (being deleted with the orphan finalizer) from its
        dependents, then the finalizer."""
        node = self.graph.nodes.get(uid)
        if node is None:
            return None
        latest = await self._get(node.ref)
        if latest is None:
            return None
        meta = latest["metadata"]
        if not meta.get("deletionTimestamp") or FINALIZER_ORPHAN not in (meta.get("finalizers") or []):
            return None
        for dep in self.graph.dependents(uid):
            await self._patch_owner_references(dep.ref, remove={uid})
        self.log.info("dependents orphaned; removing the orphan finalizer", object=str(node.ref))
        await self._remove_finalizer(node.ref, FINALIZER_ORPHAN)
        return None

    # -- API helpers

    def _kind_for(self, api_version: str, kind: str) -> KindInfo:
        kinds = self.client.kinds
        info = kinds.by_api_version(api_version, kind) or kinds.by_kind(api_version.rpartition("/")[0], kind)
        if info is None:
            raise UnknownKindError(f"no kind {kind} is served in {api_version or 'v1'}")
        return info

    async def _get(self, ref: ObjectRef) -> dict[str, Any] | None:
        """The live object at `ref`, or None when there is none with its uid."""
        info = self._kind_for(ref.api_version, ref.kind)
        if info.namespaced and not ref.namespace:
            raise _InvalidOwnerScope(str(ref))
        try:
            obj = await self.client.get(info, ref.name, namespace=ref.namespace if info.namespaced else None)
        except APIError as exc:
            if exc.code == 404:
                return None
            raise
        return obj if (obj.get("metadata") or {}).get("uid") == ref.uid else None

    async def _delete(self, ref: ObjectRef, latest: dict[str, Any], policy: str) -> float | None:
        """Delete the object as last read (uid and resourceVersion preconditions: an object
        that changed, maybe adopted, is looked at again)."""
        info = self._kind_for(ref.api_version, ref.kind)
        meta = latest["metadata"]
        try:
            await self.client.delete(
                info, ref.name, namespace=ref.namespace if info.namespaced else None, propagation_policy=policy,
                preconditions={"uid": ref.uid, "resourceVersion": str(meta.get("resourceVersion") or "")},
            )
        except APIError as exc:
            if exc.code == 404:
                return None
            if exc.code == 409:
                return 0.0  # changed meanwhile: decide again
            raise
        return None

    async def _patch_owner_references(
        self, ref: ObjectRef, *, remove: set[str] | None = None, unblock: bool = False,
    ) -> dict[str, Any] | None:
        """Drop the references to `remove` from the object at `ref` (and with `unblock`, set
        blockOwnerDeletion false on the rest), conditional on the version read. Returns the
        object after, or None when it is gone."""
        info = self._kind_for(ref.api_version, ref.kind)
        namespace = ref.namespace if info.namespaced else None
        for _ in range(WRITE_RETRIES):
            obj = await self._get(ref)
            if obj is None:
                return None
            meta = obj["metadata"]
            refs = [r for r in meta.get("ownerReferences") or [] if isinstance(r, dict)]
            new = [r for r in refs if r.get("uid") not in (remove or ())]
            if unblock:
                new = [{**r, "blockOwnerDeletion": False} if r.get("blockOwnerDeletion") else r for r in new]
            if new == refs:
                return obj
            patch = {"metadata": {"ownerReferences": new or None, "resourceVersion": meta.get("resourceVersion")}}
            try:
                return await self.client.patch(info, ref.name, patch, namespace=namespace)
            except APIError as exc:
                if exc.code == 404:
                    return None
                if exc.code != 409:
                    raise
        raise RuntimeError(f"owner references of {ref} kept changing")

    async def _remove_finalizer(self, ref: ObjectRef, finalizer: str) -> None:
        info = self._kind_for(ref.api_version, ref.kind)
        namespace = ref.namespace if info.namespaced else None
        for _ in range(WRITE_RETRIES):
            obj = await self._get(ref)
            if obj is None:
                return
            meta = obj["metadata"]
            finalizers = list(meta.get("finalizers") or [])
            if finalizer not in finalizers:
                return
            rest = [f for f in finalizers if f != finalizer]
            patch = {"metadata": {"finalizers": rest or None, "resourceVersion": meta.get("resourceVersion")}}
            try:
                await self.client.patch(info, ref.name, patch, namespace=namespace)
                return
            except APIError as exc:
                if exc.code == 404:
                    return
                if exc.code != 409:
                    raise
        raise RuntimeError(f"finalizers of {ref} kept changing")
