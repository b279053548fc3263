"""Generic REST storage: create, get, list, update, patch, delete and watch for any kind.

Objects travel as plain JSON dicts (so custom resources need no Struct); the per-kind typed
work (defaulting, validation) happens in admission plugins. Reads come from the watch cache;
writes go to the backend with compare-and-swap on the stored revision, which is the object's
resourceVersion. Stored values carry no resourceVersion: it is the key's mod revision, which the
watch cache writes into the JSON it serves (`CachedObject`).
"""

from __future__ import annotations

import base64
import copy
import os
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
import structlog

from kube_lite.api import errors
from kube_lite.api.registry import KindInfo
from kube_lite.clock import Clock, RealClock
from kube_lite.store.admission import SYSTEM_USER, AdmissionChain, AdmissionRequest, UserInfo
from kube_lite.store.backend import (
    Backend,
    CompactedError,
    FutureRevisionError,
    KeyExistsError,
    KeyNotFoundError,
    RevisionMismatchError,
)
from kube_lite.store.cache import CachedObject, DecodedObjects, WatchCache, object_key
from kube_lite.store.strategy import strategy_for

log = structlog.get_logger(__name__)

_encode = msgspec.json.encode
_decode = msgspec.json.decode

# Kubernetes' alphabet for generated name suffixes: no vowels, no confusable digits.
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
# Kinds whose DELETE answers with the deleted object rather than a Status (ReturnDeletedObject).
_RETURN_DELETED = {"pods", "persistentvolumes", "persistentvolumeclaims", "serviceaccounts", "namespaces"}
# Status fields Kubernetes resets on create, per resource (the rest keep what the user sent).
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


# The last second formatted, and its text: every write in the same second has the same stamp.
_last_stamp: tuple[tuple[int, int, int, int, int, int] | None, str] = (None, "")


def rfc3339(clock: Clock) -> str:
    """The clock's time to the second, as Kubernetes writes it (2006-01-02T15:04:05Z)."""
    global _last_stamp
    now = clock.now()
    second = (now.second, now.minute, now.hour, now.day, now.month, now.year)
    if _last_stamp[0] != second:
        _last_stamp = (second, now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return _last_stamp[1]


# Random bytes for object UIDs, read from the OS a page at a time rather than 16 bytes per write.
_uid_pool = b""
_UID_POOL_SIZE = 4096


def new_uid() -> str:
    """A random (version 4) UUID, as `str(uuid.uuid4())` writes it, from os.urandom."""
    global _uid_pool
    if len(_uid_pool) < 16:
        _uid_pool = os.urandom(_UID_POOL_SIZE)
    raw = bytearray(_uid_pool[:16])
    _uid_pool = _uid_pool[16:]
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _forget_uid_pool() -> None:
    global _uid_pool
    _uid_pool = b""


# A forked child must not hand out the UIDs its parent will.
os.register_at_fork(after_in_child=_forget_uid_pool)


def _strip_rv(obj: dict[str, Any]) -> bytes:
    meta = obj["metadata"]
    rv = meta.pop("resourceVersion", None)
    try:
        return _encode(obj)
    finally:
        if rv is not None:
            meta["resourceVersion"] = rv


# ObjectMeta fields that Kubernetes encodes with omitempty: an empty value (a label map
# emptied by `kubectl label x-`, say) is not stored and not shown.
_OMIT_EMPTY_META = ("labels", "annotations", "finalizers", "ownerReferences", "managedFields", "generateName")


def _drop_empty_meta(obj: dict[str, Any]) -> None:
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        for field in _OMIT_EMPTY_META:
            if field in meta and meta[field] in ({}, [], "", None):
                del meta[field]


def _without(obj: dict[str, Any], *paths: tuple[str, ...]) -> dict[str, Any]:
    out = dict(obj)
    out["metadata"] = dict(obj.get("metadata") or {})
    for path in paths:
        target: dict[str, Any] = out
        for part in path[:-1]:
            target = target.get(part) or {}
        target.pop(path[-1], None)
    return out


@dataclass(frozen=True, slots=True)
class ListResult:
    """A list: the objects (cached, with their encoded bytes), the list's resourceVersion,
    and the continue token and remaining count when paged."""

    items: list[CachedObject]
    resource_version: int
    continue_token: str | None = None
    remaining: int | None = None


def encode_continue(revision: int, key: str) -> str:
    return base64.urlsafe_b64encode(_encode({"v": "kube-lite/v1", "rv": revision, "start": key})).decode()


def decode_continue(token: str) -> tuple[int, str]:
    try:
        data = _decode(base64.urlsafe_b64decode(token.encode() + b"=" * (-len(token) % 4)))
        return int(data["rv"]), str(data["start"])
    except Exception:
        raise errors.bad_request(f"invalid continue token: {token!r}") from None


class Registry:
    """The storage side of the API: one object per API server."""

    def __init__(
        self,
        backend: Backend,
        cache: WatchCache,
        *,
        clock: Clock | None = None,
        admission: AdmissionChain | None = None,
    ) -> None:
        self.backend = backend
        self.cache = cache
        self.clock = clock or RealClock()
        self.admission = admission or AdmissionChain()
        # Set once a garbage collector runs: only then do Orphan and Foreground deletions add
        # their finalizers (nothing else would ever remove them).
        self.garbage_collector_running = False
        self._last_write = 0

    # ------------------------------------------------------------------ helpers

    def _key(self, kind: KindInfo, namespace: str, name: str) -> str:
        return object_key(strategy_for(kind).resource, namespace if kind.namespaced else "", name)

    def _note_write(self, revision: int) -> None:
        self._last_write = max(self._last_write, revision)

    async def fresh(self) -> None:
        """Wait until this server's own writes are visible in the cache (read-your-writes)."""
        if self.cache.revision < self._last_write:
            await self.cache.wait_for(self._last_write)

    def _current(self, kind: KindInfo, name: str, stale: CachedObject, exc: RevisionMismatchError) -> CachedObject:
        """The object a compare-and-swap lost to, from the value the backend answered with, to
        retry on (as Kubernetes' GuaranteedUpdate retries on the state its failed transaction
        returned). Reading it from the cache instead would find the same stale object again
        until the watch caught up, and conflict again. 409 Conflict if the backend reports no
        newer revision (nothing to retry on: never loop without progress)."""
        kv = exc.current
        if kv.mod_revision <= stale.revision:
            raise errors.conflict(kind.plural, kind.group, name) from None
        log.debug("write conflict; retrying on the stored object", key=kv.key, stale=stale.revision, current=kv.mod_revision)
        fresh = CachedObject.from_value(kv.key, kv.value, kv.mod_revision)
        return strategy_for(kind).view(fresh)

    async def _checked(self, kind: KindInfo, namespace: str, name: str, current: CachedObject, wanted_rv: Any) -> CachedObject:
        """`current`, or the stored object when a resourceVersion precondition names a revision
        newer than the cached one (the cache behind the backend): Kubernetes checks a failed
        precondition again on the stored object before answering 409."""
        wanted = str(wanted_rv)
        if wanted == str(current.revision) or not wanted.isdigit() or int(wanted) < current.revision:
            return current
        kv = await self.backend.get(self._key(kind, namespace, name))
        if kv is None:
            raise errors.not_found(kind.plural, kind.group, name)
        if kv.mod_revision == current.revision:  # not behind: the precondition fails
            return current
        return strategy_for(kind).view(CachedObject.from_value(kv.key, kv.value, kv.mod_revision))

    def _cached(self, kind: KindInfo, namespace: str, name: str) -> CachedObject | None:
        return self.cache.cache(strategy_for(kind).resource).get(namespace if kind.namespaced else "", name)

    def _namespace_obj(self, namespace: str) -> dict[str, Any] | None:
        found = self.cache.cache("namespaces").get("", namespace)
        return found.obj if found else None

    def _check_namespace(self, kind: KindInfo, namespace: str, name: str, *, creating: bool) -> None:
        if not kind.namespaced:
            return
        if not namespace:
            raise errors.bad_request("the server could not find the requested resource: a namespace is required")
        ns = self._namespace_obj(namespace)
        if ns is None:
            raise errors.not_found("namespaces", "", namespace)
        if creating and (ns.get("metadata", {}).get("deletionTimestamp") or ns.get("status", {}).get("phase") == "Terminating"):
            raise errors.forbidden(
                kind.plural,
                kind.group,
                name or None,
                f"unable to create new content in namespace {namespace} because it is being terminated",
                causes=[
                    {
                        "reason": "NamespaceTerminating",
                        "message": f"namespace {namespace} is being terminated",
                        "field": "metadata.namespace",
                    }
                ],
            )

    def _allocate(self, kind: KindInfo, obj: dict[str, Any], namespace: str, name: str) -> None:
        """Let the strategy allocate what its kind holds cluster-wide (services' cluster IPs
        and node ports), given every other stored object of the kind."""
        allocate = getattr(strategy_for(kind), "allocate", None)
        if allocate is None:
            return
        own = self._key(kind, namespace, name)
        others = [o.obj for o in self.cache.cache(strategy_for(kind).resource).list("") if o.key != own]
        allocate(obj, others)

    def _type_meta(self, kind: KindInfo, obj: dict[str, Any]) -> None:
        api_version = strategy_for(kind).api_version
        if obj.get("apiVersion") not in (None, api_version) or obj.get("kind") not in (None, kind.kind):
            got = f'{obj.get("apiVersion")}, Kind={obj.get("kind")}'
            raise errors.bad_request(
                f"the API version in the data ({obj.get('apiVersion')}) does not match the expected API version ({api_version})"
                if obj.get("kind") in (None, kind.kind)
                else f"{got} is not suitable for converting to \"{api_version}\" in scheme"
            )
        obj["apiVersion"] = api_version
        obj["kind"] = kind.kind

    # ------------------------------------------------------------------ reads

    async def get(self, kind: KindInfo, namespace: str, name: str) -> CachedObject:
        """The object, or APIError NotFound."""
        await self.fresh()
        found = self._cached(kind, namespace, name)
        if found is None:
            raise errors.not_found(kind.plural, kind.group, name)
        return strategy_for(kind).view(found)

    async def list(self, kind: KindInfo, namespace: str = "", **options: Any) -> ListResult:
        """A list from one consistent snapshot (see `_list` for the options), as the kind
        serves its objects."""
        result = await self._list(kind, namespace, **options)
        strategy = strategy_for(kind)
        if not strategy.converts:
            return result
        return ListResult([strategy.view(o) for o in result.items], result.resource_version, result.continue_token, result.remaining)

    async def _list(
        self,
        kind: KindInfo,
        namespace: str = "",
        *,
        matches: Callable[[CachedObject], bool] | None = None,
        limit: int = 0,
        continue_token: str | None = None,
        resource_version: str | None = None,
        resource_version_match: str | None = None,
    ) -> ListResult:
        """A list from one consistent snapshot. Paged lists (limit/continue) continue at the
        first page's revision, read from the backend; 410 Expired once that is compacted."""
        ns = namespace if kind.namespaced else ""
        if resource_version_match and resource_version_match not in ("NotOlderThan", "Exact"):
            raise errors.bad_request(f'resourceVersionMatch: Unsupported value: "{resource_version_match}": supported values: "Exact", "NotOlderThan"')
        if resource_version_match and not resource_version:
            raise errors.bad_request("resourceVersionMatch is forbidden unless resourceVersion is provided")
        if continue_token:
            if resource_version not in (None, "", "0") :
                raise errors.bad_request("specifying resource version is not allowed when using continue")
            revision, start = decode_continue(continue_token)
            return await self._list_from_backend(kind, ns, matches, limit, revision, start)
        exact: int | None = None
        if resource_version not in (None, ""):
            try:
                requested = int(resource_version)  # type: ignore[arg-type]
            except ValueError:
                raise errors.bad_request(f"invalid resource version: {resource_version!r}") from None
            if resource_version_match == "Exact" and requested != self.cache.revision:
                exact = requested
            elif requested > self.cache.revision:
                if not await self.cache.wait_for(requested, within=3.0):
                    raise errors.too_large_resource_version(requested, self.cache.revision)
        else:
            await self.fresh()
        if exact is not None:
            return await self._list_from_backend(kind, ns, matches, limit, exact, "")
        revision = self.cache.revision
        items = self.cache.cache(strategy_for(kind).resource).list(ns)
        if matches is not None:
            items = [o for o in items if matches(o)]
        if limit and len(items) > limit:
            rest = len(items) - limit
            items = items[:limit]
            return ListResult(items, revision, encode_continue(revision, items[-1].key + "\x00"), rest if matches is None else None)
        return ListResult(items, revision)

    async def _list_from_backend(
        self,
        kind: KindInfo,
        ns: str,
        matches: Callable[[CachedObject], bool] | None,
        limit: int,
        revision: int,
        start: str,
    ) -> ListResult:
        prefix = object_key(strategy_for(kind).resource, ns, "") if ns else object_key(strategy_for(kind).resource, "", "")
        if not start.startswith(prefix):
            start = prefix
        items: list[CachedObject] = []
        more = False
        count = 0
        # The page's objects keep only their JSON, as the watch cache's do, once past the last few.
        decoded = DecodedObjects()
        try:
            while True:
                want = (limit - len(items)) if limit else 0
                page = await self.backend.range(prefix, start=start, limit=max(want, 100) if limit else 0, revision=revision)
                for kv in page.kvs:
                    obj = CachedObject.from_value(kv.key, kv.value, kv.mod_revision, decoded)
                    if matches is None or matches(obj):
                        items.append(obj)
                    start = kv.key + "\x00"
                    if limit and len(items) >= limit:
                        break
                count = page.count
                if limit and len(items) >= limit:
                    more = page.more or kv.key != page.kvs[-1].key  # noqa: B031
                    break
                if not page.more:
                    break
        except CompactedError:
            raise errors.expired(
                "The provided continue parameter is too old to display a consistent list result. "
                "You can start a new list without the continue parameter, or use the continue token "
                "in this response to retrieve the remainder of the results. Continuing with the provided "
                "token results in an inconsistent list - objects that were created, modified, or deleted "
                "between the time the first chunk was returned and now may show up in the list."
            ) from None
        except FutureRevisionError as exc:
            raise errors.too_large_resource_version(exc.requested, exc.current) from None
        token = encode_continue(revision, start) if more else None
        remaining = max(count - len(items), 0) if (more and matches is None) else None
        return ListResult(items, revision, token, remaining)

    # ------------------------------------------------------------------ writes

    async def create(
        self,
        kind: KindInfo,
        namespace: str,
        obj: dict[str, Any],
        *,
        user: UserInfo = SYSTEM_USER,
        dry_run: bool = False,
        subresource: str = "",
    ) -> dict[str, Any]:
        """Store a new object; return it as stored. APIError AlreadyExists, Invalid, NotFound
        (namespace), Forbidden (terminating namespace)."""
        if not isinstance(obj, dict):
            raise errors.bad_request("the body of the request was in an unknown format")
        self._type_meta(kind, obj)
        for key in [k for k, v in obj.items() if v is None]:
            del obj[key]  # a null field is an unset one
        meta = obj.get("metadata")
        if meta is None:
            meta = obj["metadata"] = {}
        elif not isinstance(meta, dict):
            raise errors.bad_request("metadata: expected an object")
        if kind.namespaced:
            if meta.get("namespace") and namespace and meta["namespace"] != namespace:
                raise errors.bad_request("the namespace of the provided object does not match the namespace sent on the request")
            namespace = namespace or meta.get("namespace") or ""
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
            namespace = ""
        generated = False
        if not meta.get("name") and meta.get("generateName"):
            prefix = str(meta["generateName"])
            meta["name"] = prefix[: 63 - 5] + "".join(random.choices(_NAME_ALPHABET, k=5))
            generated = True
        name = str(meta.get("name") or "")
        await self.fresh()
        self._check_namespace(kind, namespace, name, creating=True)
        for field in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            meta.pop(field, None)
        meta["uid"] = new_uid()
        meta["creationTimestamp"] = rfc3339(self.clock)
        if strategy_for(kind).has_generation:
            meta["generation"] = 1
        strategy_for(kind).prepare_for_create(obj)
        strategy_for(kind).record_requester(obj, user)
        self._allocate(kind, obj, namespace, name)
        await self.admission.run(AdmissionRequest("CREATE", kind, namespace, name, obj, None, user, subresource, dry_run))
        name = obj["metadata"].get("name") or ""
        if not name:
            raise errors.invalid(
                kind.kind, kind.group, "", [("metadata.name", "FieldValueRequired", "Required value: name or generateName is required")]
            )
        _drop_empty_meta(obj)
        if dry_run:
            return obj
        key = self._key(kind, namespace, name)
        try:
            revision = await self.backend.create(key, _strip_rv(strategy_for(kind).to_internal(obj)))
        except KeyExistsError:
            existing = self._cached(kind, namespace, name)
            terminating = bool(existing and existing.obj["metadata"].get("deletionTimestamp"))
            err = errors.already_exists(kind.plural, kind.group, name, terminating=terminating)
            if generated:
                err.message += ", the server was not able to generate a unique name for the object"
            raise err from None
        self._note_write(revision)
        obj["metadata"]["resourceVersion"] = str(revision)
        return obj

    async def update(
        self,
        kind: KindInfo,
        namespace: str,
        name: str,
        obj: dict[str, Any],
        *,
        subresource: str = "",
        user: UserInfo = SYSTEM_USER,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Replace an object (or its status) with optimistic concurrency on resourceVersion.
        An update that changes nothing writes nothing and keeps the resourceVersion."""
        if not isinstance(obj, dict) or not isinstance(obj.get("metadata", {}), dict):
            raise errors.bad_request("the body of the request was in an unknown format")
        self._type_meta(kind, obj)
        meta = obj.setdefault("metadata", {})
        if meta.get("name") != name:
            raise errors.bad_request(f"the name of the object ({meta.get('name') or ''}) does not match the name on the URL ({name})")
        if kind.namespaced and meta.get("namespace") not in (None, namespace):
            raise errors.bad_request("the namespace of the provided object does not match the namespace sent on the request")
        wanted_rv = meta.get("resourceVersion")
        current = await self.get(kind, namespace, name)
        if wanted_rv:
            current = await self._checked(kind, namespace, name, current, wanted_rv)
        while True:
            if wanted_rv and str(wanted_rv) != str(current.revision):
                raise errors.conflict(kind.plural, kind.group, name)
            if not wanted_rv and not strategy_for(kind).allow_unconditional_update:
                raise errors.invalid(kind.kind, kind.group, name, [("metadata.resourceVersion", "FieldValueInvalid", "Invalid value: 0: must be specified for an update")])
            try:
                return await self._write_update(kind, namespace, name, copy.deepcopy(obj), current, subresource, user, dry_run)
            except RevisionMismatchError as exc:
                if wanted_rv:
                    raise errors.conflict(kind.plural, kind.group, name) from None
                current = self._current(kind, name, current, exc)
            except KeyNotFoundError:
                raise errors.not_found(kind.plural, kind.group, name) from None

    async def _write_update(
        self,
        kind: KindInfo,
        namespace: str,
        name: str,
        new: dict[str, Any],
        current: CachedObject,
        subresource: str,
        user: UserInfo,
        dry_run: bool,
    ) -> dict[str, Any]:
        old = current.obj
        new = strategy_for(kind).prepare_for_update(new, old, subresource)
        if not subresource:
            self._allocate(kind, new, namespace, name)
        meta = new["metadata"]
        old_meta = old["metadata"]
        for field in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "namespace", "name"):
            if field in old_meta:
                meta[field] = old_meta[field]
            else:
                meta.pop(field, None)
        meta["resourceVersion"] = old_meta.get("resourceVersion")
        await self.admission.run(AdmissionRequest("UPDATE", kind, namespace, name, new, old, user, subresource, dry_run))
        meta = new["metadata"]  # admission may have replaced it
        # Compared once defaulted, as Kubernetes compares decoded objects: the same manifest
        # sent again without the defaults the server wrote changes nothing.
        strategy = strategy_for(kind)
        if strategy.has_generation and strategy.spec_changed(new, old):
            meta["generation"] = int(old_meta.get("generation") or 0) + 1
        strategy.finish_update(new, old, subresource)
        _drop_empty_meta(new)
        if new == old:
            return current.decode()
        if dry_run:
            return new
        key = self._key(kind, namespace, name)
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and strategy_for(kind).finalizers_delete(new):
            revision, _ = await self.backend.delete(key, expected_revision=current.revision)
            self._note_write(revision)
            meta["resourceVersion"] = str(revision)
            return new
        revision = await self.backend.update(key, _strip_rv(strategy_for(kind).to_internal(new)), expected_revision=current.revision)
        self._note_write(revision)
        meta["resourceVersion"] = str(revision)
        return new

    async def patch(
        self,
        kind: KindInfo,
        namespace: str,
        name: str,
        apply: Callable[[dict[str, Any]], dict[str, Any]],
        *,
        subresource: str = "",
        user: UserInfo = SYSTEM_USER,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Apply `apply` (a patch function of the current object) and store the result; retried
        on conflicts unless the patch itself names a resourceVersion.

        As Kubernetes' GuaranteedUpdate: the first attempt patches the cached object; when the
        compare-and-swap finds a newer one, the patch is applied again to the object the backend
        answered with (not re-read from the cache, which may not have seen that write yet), for
        as long as others keep winning the race."""
        current = await self.get(kind, namespace, name)
        while True:
            patched = apply(current.decode())
            if not isinstance(patched, dict) or not isinstance(patched.get("metadata", {}), dict):
                raise errors.bad_request("the patch produced an object that is not a JSON object")
            self._type_meta(kind, patched)
            pmeta = patched.setdefault("metadata", {})
            if pmeta.get("name") != name:
                raise errors.bad_request("metadata.name: the name of a patched object cannot change")
            wanted_rv = pmeta.get("resourceVersion")
            if wanted_rv and str(wanted_rv) != str(current.revision):
                checked = await self._checked(kind, namespace, name, current, wanted_rv)
                if checked is current:
                    raise errors.conflict(kind.plural, kind.group, name)
                current = checked  # the cache was behind: patch the stored object instead
                continue
            try:
                return await self._write_update(kind, namespace, name, patched, current, subresource, user, dry_run)
            except RevisionMismatchError as exc:
                # Written meanwhile: apply the patch again to the new object. A resourceVersion
                # the patch itself names then no longer matches, and the check above refuses it.
                current = self._current(kind, name, current, exc)
            except KeyNotFoundError:  # deleted since it was read
                raise errors.not_found(kind.plural, kind.group, name) from None

    async def delete(
        self,
        kind: KindInfo,
        namespace: str,
        name: str,
        *,
        options: dict[str, Any] | None = None,
        user: UserInfo = SYSTEM_USER,
        dry_run: bool = False,
    ) -> tuple[dict[str, Any], bool]:
        """Delete (or start deleting) an object. Returns the object and whether it is gone now
        (False while finalizers or a grace period hold it)."""
        options = options or {}
        current = await self.get(kind, namespace, name)
        while True:
            obj = current.decode()
            meta = obj["metadata"]
            pre = options.get("preconditions") or {}
            if pre.get("uid") and pre["uid"] != meta.get("uid"):
                raise errors.conflict(
                    kind.plural, kind.group, name,
                    f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {meta.get('uid')}",
                )
            if pre.get("resourceVersion") and str(pre["resourceVersion"]) != str(current.revision):
                raise errors.conflict(
                    kind.plural, kind.group, name,
                    f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, ResourceVersion in object meta: {current.revision}",
                )
            if kind.group == "" and kind.plural == "namespaces" and name in SYSTEM_NAMESPACES and name != "kube-node-lease":
                raise errors.forbidden("namespaces", "", name, "this namespace may not be deleted")
            await self.admission.run(AdmissionRequest("DELETE", kind, namespace, name, None, obj, user, "", dry_run))
            policy = options.get("propagationPolicy")
            if options.get("orphanDependents") is True:
                policy = "Orphan"
            elif options.get("orphanDependents") is False and policy is None:
                policy = "Background"
            if policy is None and kind.group == "batch" and kind.plural == "jobs":
                policy = "Orphan"  # batch/v1 Jobs keep their pods unless told otherwise
            finalizers = list(meta.get("finalizers") or [])
            pending = strategy_for(kind).pending_finalizers(obj)
            if self.garbage_collector_running:
                # The two are exclusive: the latest request's policy wins, as in Kubernetes.
                if policy == "Orphan":
                    finalizers = [f for f in finalizers if f != "foregroundDeletion"]
                    if "orphan" not in finalizers:
                        finalizers.append("orphan")
                elif policy == "Foreground":
                    finalizers = [f for f in finalizers if f != "orphan"]
                    if "foregroundDeletion" not in finalizers:
                        finalizers.append("foregroundDeletion")
                elif policy == "Background" and meta.get("deletionTimestamp"):
                    finalizers = [f for f in finalizers if f not in ("orphan", "foregroundDeletion")]
            grace = strategy_for(kind).grace_period(obj, options.get("gracePeriodSeconds"))
            key = self._key(kind, namespace, name)
            if pending or finalizers or grace > 0:
                if dry_run:
                    return obj, False
                if not meta.get("deletionTimestamp"):
                    meta["deletionTimestamp"] = self.clock.now().replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ") if grace == 0 else (
                        _format_time(self.clock.time() + grace)
                    )
                    meta["deletionGracePeriodSeconds"] = grace
                elif grace < int(meta.get("deletionGracePeriodSeconds") or 0):
                    meta["deletionGracePeriodSeconds"] = grace
                    meta["deletionTimestamp"] = _format_time(self.clock.time() + grace)
                if finalizers:
                    meta["finalizers"] = finalizers
                strategy_for(kind).prepare_for_delete(obj)
                if obj == current.obj:
                    return obj, False
                try:
                    revision = await self.backend.update(key, _strip_rv(strategy_for(kind).to_internal(obj)), expected_revision=current.revision)
                except RevisionMismatchError as exc:
                    current = self._current(kind, name, current, exc)
                    continue
                except KeyNotFoundError:
                    raise errors.not_found(kind.plural, kind.group, name) from None
                self._note_write(revision)
                meta["resourceVersion"] = str(revision)
                return obj, False
            if dry_run:
                return obj, True
            try:
                revision, _ = await self.backend.delete(key, expected_revision=current.revision)
            except RevisionMismatchError as exc:
                current = self._current(kind, name, current, exc)
                continue
            except KeyNotFoundError:
                raise errors.not_found(kind.plural, kind.group, name) from None
            self._note_write(revision)
            meta["resourceVersion"] = str(revision)
            return obj, True

    def returns_deleted_object(self, kind: KindInfo) -> bool:
        return kind.plural in _RETURN_DELETED

    # ------------------------------------------------------------------ watch

    def watch(
        self,
        kind: KindInfo,
        namespace: str = "",
        *,
        matches: Callable[[CachedObject], bool] | None = None,
        resource_version: str | None = None,
        send_initial_events: bool | None = None,
        buffer: int = 10_000,
        node: str | None = None,
    ) -> WatchStream:
        """A watch from `resource_version`: unset or "0" first replays what exists as ADDED;
        a revision older than the cache's window raises APIError 410 Expired."""
        ns = namespace if kind.namespaced else ""
        cache = self.cache.cache(strategy_for(kind).resource)
        initial: list[tuple[str, Any]] = []
        if resource_version in (None, "", "0") or send_initial_events:
            if resource_version not in (None, "", "0"):
                raise errors.bad_request("sendInitialEvents is only supported with resourceVersion unset or \"0\" here")
            for obj in cache.list(ns):
                if matches is None or matches(obj):
                    initial.append(("ADDED", obj))
        else:
            try:
                since = int(resource_version)
            except ValueError:
                raise errors.bad_request(f"invalid resource version: {resource_version!r}") from None
            if since > self.cache.revision:
                raise errors.too_large_resource_version(since, self.cache.revision)
            events = cache.events_since(since)
            if events is None:
                raise errors.expired(f"too old resource version: {since} ({cache.window_start})")
            probe = cache.watch(ns, matches, buffer, node)
            for ev in events:
                if ns and ev.obj.namespace != ns:
                    continue
                probe.offer(ev)
            return WatchStream(probe, [], self.cache.revision, strategy_for(kind))
        watcher = cache.watch(ns, matches, buffer, node)
        return WatchStream(watcher, initial, self.cache.revision, strategy_for(kind))

    # ------------------------------------------------------------------ start-up

    async def ensure_system_namespaces(self, namespace_kind: KindInfo) -> None:
        for name in SYSTEM_NAMESPACES:
            if self._cached(namespace_kind, "", name) is None:
                try:
                    await self.create(namespace_kind, "", {"metadata": {"name": name}})
                except errors.APIError as exc:
                    if exc.reason != "AlreadyExists":
                        raise


def _format_time(epoch: float) -> str:
    import datetime as _dt

    return _dt.datetime.fromtimestamp(int(epoch), _dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class WatchStream:
    """What `Registry.watch` returns: initial ADDED events, then live ones, as
    (type, CachedObject | None) pairs; BOOKMARK pairs carry None. `close()` ends it."""

    def __init__(self, watcher: Any, initial: list[tuple[str, Any]], revision: int, strategy: Any = None) -> None:
        self.watcher = watcher
        self.initial = initial
        self.start_revision = revision
        self.view = strategy.view if strategy is not None and strategy.converts else None

    @property
    def overflowed(self) -> bool:
        return bool(self.watcher.overflowed)

    def close(self) -> None:
        self.watcher.close()

    async def batches(self, limit: int = 512) -> AsyncIterator[list[tuple[str, Any]]]:
        """The same events as iteration, in lists of what is ready at once (at most `limit`)."""
        view = self.view
        try:
            initial, self.initial = self.initial, []
            for start in range(0, len(initial), limit):
                chunk = initial[start : start + limit]
                yield [(k, view(o)) for k, o in chunk] if view else chunk
            next_batch = self.watcher.next_batch
            while True:
                batch = await next_batch(limit)
                if not batch:
                    return
                if view is None:
                    yield [(kind, event.obj if event is not None else None) for kind, event in batch]
                else:
                    yield [(kind, view(event.obj) if event is not None else None) for kind, event in batch]
        finally:
            self.watcher.close()

    async def __aiter__(self) -> AsyncIterator[tuple[str, Any]]:
        try:
            view = self.view
            for kind, obj in self.initial:
                yield kind, view(obj) if view else obj
            self.initial = []
            async for kind, event in self.watcher:
                obj = event.obj if event is not None else None
                yield kind, view(obj) if view and obj is not None else obj
        finally:
            self.watcher.close()
