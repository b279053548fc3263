"""The etcd backend: the Backend protocol on a real etcd cluster, through aetcd's gRPC stubs.

URL: ``etcd://HOST:PORT[,HOST:PORT...][/prefix]``. Every kube-lite key is stored under
``prefix`` (for example ``etcd://10.0.0.1:2379/kl`` stores ``/registry/pods/a/b`` as
``/kl/registry/pods/a/b``), so several kube-lite instances or test cases can share one etcd.
Under a prefix, keys must start with ``/`` (every kube-lite key does) and the backend's key space
is ``PREFIX/`` and below, so that prefixes ``/kl`` and ``/kl2`` never see each other's keys.
Without a prefix the backend owns the whole etcd key space.

How each verb maps onto etcd (one RPC each, as Kubernetes' own etcd3 store does):

- revisions are etcd's own: global to the cluster (shared by every prefix), starting at 1 on a
  fresh etcd, so ``current_revision()`` is never 0 here;
- ``create`` is a txn ``create_revision(key) == 0 ? put : get``; ``update`` and ``delete`` are
  txns ``mod_revision(key) == expected ? write : get`` (``create_revision(key) > 0`` when no
  revision is expected), so a failed compare returns the key's current value in the same round
  trip: absent means KeyNotFoundError, present means RevisionMismatchError (or KeyExistsError);
- ``range`` is one Range RPC (``[max(prefix, start), end-of-prefix)``, limit, revision) whose
  ``more`` and ``count`` are etcd's; "required revision has been compacted" maps to
  CompactedError, "required revision is a future revision" to FutureRevisionError;
- ``watch`` opens its own bidirectional Watch stream with ``prev_kv`` and ``start_revision``; a
  response carrying ``compact_revision`` (etcd cancels a watcher whose history was compacted)
  ends the iteration with CompactedError;
- ``compact`` is etcd's Compact (not physical); compacting at or below the present compaction
  revision is a no-op;
- ``compact_revision`` is not reported by etcd 3.4's API: the backend remembers what it
  compacted and verifies it with one revisioned read, falling back to a binary search over
  revisioned reads (a read at ``r`` succeeds exactly when ``r >= compact revision``) when
  someone else (another client, etcd's auto-compaction) compacted further;
- ``snapshot`` reads the prefix page by page at one revision and encodes it with
  `encode_snapshot`; ``restore`` is best effort: etcd cannot set revisions, so it deletes the
  prefix and writes the snapshot's keys back in txns of ``max_txn_ops`` (etcd's default limit
  is 128) -- keys get new create/mod revisions, the store's revision becomes etcd's next one,
  not the snapshot's, and the whole is not atomic (`restores_revisions` is False).

Connection failures (UNAVAILABLE, deadline exceeded, a closed channel) raise
BackendUnavailableError; the caller retries. Other gRPC errors raise StoreError with etcd's
message. gRPC's asyncio API requires the asyncio event loop (anyio's default backend).
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, ClassVar, TypeVar

import grpc
import grpc.aio
import structlog
from aetcd import rpc

from kube_lite.clock import Clock, RealClock
from kube_lite.store.backend import (
    BackendUnavailableError,
    CompactedError,
    Event,
    EventType,
    FutureRevisionError,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    RangeResult,
    RevisionMismatchError,
    StoreError,
    decode_snapshot,
    encode_snapshot,
)

log = structlog.get_logger(__name__)

DEFAULT_PORT = 2379
_COMPACTED = "required revision has been compacted"
_FUTURE = "required revision is a future revision"
_UNAVAILABLE_CODES = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED}
)
# A key no kube-lite key can equal (kube-lite keys start with "/"): the target of probe reads.
_PROBE_KEY = b"\x00kube-lite-probe"
# Bytes of keys and values per restore txn, below etcd's default --max-request-bytes (1.5 MiB).
_TXN_BYTES = 1 << 20

_T = TypeVar("_T")


def _prefix_end(prefix: bytes) -> bytes:
    """etcd's range_end for "every key starting with `prefix`" (``\\0``: every key >= prefix)."""
    end = bytearray(prefix)
    for i in reversed(range(len(end))):
        if end[i] < 0xFF:
            end[i] += 1
            return bytes(end[: i + 1])
    return b"\x00"


def parse_etcd_url(url: str) -> tuple[list[tuple[str, int]], str]:
    """Split ``etcd://HOST:PORT[,HOST:PORT...][/prefix]`` into endpoints and key prefix.

    The port defaults to 2379; IPv6 hosts are written in brackets (``[::1]:2379``). The prefix
    is returned as ``/prefix`` without a trailing slash, or ``""``. Raises ValueError.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or scheme != "etcd":
        raise ValueError(f"etcd backend URL must look like etcd://HOST:PORT[,HOST:PORT][/prefix], not {url!r}")
    hosts, slash, path = rest.partition("/")
    if "?" in path or "#" in path:
        raise ValueError(f"etcd backend URL {url!r}: query strings are not supported; pass options")
    endpoints: list[tuple[str, int]] = []
    for item in hosts.split(","):
        item = item.strip()
        if not item:
            raise ValueError(f"etcd backend URL {url!r} has an empty endpoint")
        if item.startswith("["):
            host, bracket, port_part = item[1:].partition("]")
            if not bracket or (port_part and not port_part.startswith(":")):
                raise ValueError(f"etcd backend URL {url!r}: malformed IPv6 endpoint {item!r}")
            port_text = port_part[1:]
        else:
            host, _, port_text = item.partition(":")
        if not host:
            raise ValueError(f"etcd backend URL {url!r}: endpoint {item!r} has no host")
        try:
            port = int(port_text) if port_text else DEFAULT_PORT
        except ValueError:
            raise ValueError(f"etcd backend URL {url!r}: bad port in {item!r}") from None
        if not 0 < port < 65536:
            raise ValueError(f"etcd backend URL {url!r}: port out of range in {item!r}")
        endpoints.append((host, port))
    prefix = "/" + path.strip("/") if slash and path.strip("/") else ""
    return endpoints, prefix


def _grpc_target(endpoints: list[tuple[str, int]]) -> str:
    """A gRPC channel target for the endpoints. One endpoint goes through gRPC's DNS resolver;
    several IP endpoints become one ``ipv4:``/``ipv6:`` address list (pick_first fails over to the
    next address when the connection breaks). Several hostnames are not supported by gRPC's
    static resolvers: raises ValueError."""
    if len(endpoints) == 1:
        host, port = endpoints[0]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    families = set()
    for host, _ in endpoints:
        try:
            families.add(ipaddress.ip_address(host).version)
        except ValueError:
            raise ValueError(
                f"etcd endpoint {host!r}: several endpoints must be IP addresses (or use one DNS name)"
            ) from None
    if families == {4}:
        return "ipv4:" + ",".join(f"{h}:{p}" for h, p in endpoints)
    if families == {6}:
        return "ipv6:" + ",".join(f"[{h}]:{p}" for h, p in endpoints)
    raise ValueError("etcd endpoints mix IPv4 and IPv6 addresses")


class EtcdBackend:
    """The Backend protocol on etcd (see the module docstring for the mapping).

    Not started by the constructor: use ``async with``. ``timeout`` bounds every unary RPC
    (seconds, enforced by gRPC); ``connect_timeout`` bounds the first read that `__aenter__`
    makes to check the connection; ``page_size`` is the page of `snapshot`; ``max_txn_ops`` the
    size of `restore`'s txns (etcd's ``--max-txn-ops``).
    """

    #: `restore` cannot give keys their snapshot revisions: etcd assigns revisions itself.
    restores_revisions: ClassVar[bool] = False

    def __init__(
        self,
        endpoints: list[tuple[str, int]],
        *,
        prefix: str = "",
        clock: Clock | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        page_size: int = 1000,
        max_txn_ops: int = 128,
    ) -> None:
        if not endpoints:
            raise ValueError("etcd backend needs at least one endpoint")
        self.endpoints = list(endpoints)
        self.prefix = prefix.rstrip("/")
        self.clock = clock or RealClock()
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.page_size = page_size
        self.max_txn_ops = max_txn_ops
        self._target = _grpc_target(self.endpoints)
        self._ns = self.prefix.encode()
        self._channel: grpc.aio.Channel | None = None
        self._kv: Any = None
        self._watch: Any = None
        # A lower bound of etcd's compaction revision: what this backend compacted or observed.
        self._compacted = 0
        # The highest revision any response has shown: "now" for a watch from revision 0.
        self._seen_revision = 0

    @classmethod
    def from_url(cls, url: str, *, clock: Clock | None = None, **options: Any) -> EtcdBackend:
        """Build from ``etcd://HOST:PORT[,HOST:PORT...][/prefix]``; options go to the constructor."""
        endpoints, prefix = parse_etcd_url(url)
        return cls(endpoints, prefix=options.pop("prefix", prefix), clock=clock, **options)

    def __repr__(self) -> str:
        hosts = ",".join(f"{h}:{p}" for h, p in self.endpoints)
        return f"EtcdBackend(etcd://{hosts}{self.prefix})"

    # --- lifecycle

    async def __aenter__(self) -> EtcdBackend:
        self._channel = grpc.aio.insecure_channel(
            self._target,
            options=[
                ("grpc.max_receive_message_length", -1),
                ("grpc.max_send_message_length", -1),
                ("grpc.keepalive_time_ms", 30_000),
                ("grpc.keepalive_timeout_ms", 10_000),
            ],
        )
        self._kv = rpc.KVStub(self._channel)
        self._watch = rpc.WatchStub(self._channel)
        try:
            revision = await self._call(
                self._kv.Range,
                rpc.RangeRequest(key=_PROBE_KEY, count_only=True),
                rpc_timeout=self.connect_timeout,
            )
        except BaseException:
            await self._close()
            raise
        log.debug("etcd backend open", target=self._target, prefix=self.prefix,
                  revision=revision.header.revision)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._close()

    async def _close(self) -> None:
        channel, self._channel = self._channel, None
        self._kv = self._watch = None
        if channel is not None:
            await channel.close()

    # --- helpers

    def _key(self, key: str) -> bytes:
        """The etcd key of `key`: the URL's prefix followed by the key. Under a prefix, keys
        must start with "/" (as every kube-lite key does), so that ``/kl`` and ``/kl2`` never
        see each other's keys. Raises ValueError."""
        if self._ns and not key.startswith("/"):
            raise ValueError(f"key {key!r} must start with '/' (the backend has a key prefix)")
        return self._ns + key.encode()

    def _span(self, prefix: str) -> tuple[bytes, bytes]:
        """``[begin, end)`` of the etcd keys that start with `prefix` ("": the backend's whole
        key space: ``PREFIX/`` and below, or every etcd key without a prefix)."""
        if prefix:
            begin = self._key(prefix)
        elif self._ns:
            begin = self._ns + b"/"
        else:
            return b"\x00", b"\x00"
        return begin, _prefix_end(begin)

    def _kv_from(self, kv: Any) -> KeyValue:
        return KeyValue(
            key=kv.key[len(self._ns):].decode(),
            value=kv.value,
            create_revision=kv.create_revision,
            mod_revision=kv.mod_revision,
            version=kv.version,
        )

    def _stub(self) -> Any:
        if self._kv is None:
            raise BackendUnavailableError("etcd backend is not open")
        return self._kv

    async def _call(
        self,
        method: Callable[..., Awaitable[_T]],
        request: Any,
        *,
        revision: int = 0,
        rpc_timeout: float | None = None,
    ) -> _T:
        """One unary RPC with etcd's errors mapped to the Backend's (`revision`: the revision
        the request asked for, named in CompactedError/FutureRevisionError)."""
        try:
            resp = await method(request, timeout=rpc_timeout or self.timeout)
        except grpc.aio.AioRpcError as exc:
            raise await self._map_error(exc, revision) from exc
        except grpc.aio.UsageError as exc:
            raise BackendUnavailableError(f"etcd channel closed: {exc}") from exc
        header_revision = resp.header.revision  # type: ignore[attr-defined]
        if header_revision > self._seen_revision:
            self._seen_revision = header_revision
        return resp

    async def _map_error(self, exc: grpc.aio.AioRpcError, revision: int) -> StoreError:
        details = exc.details() or ""
        if _COMPACTED in details:
            return CompactedError(revision, await self._compact_revision_or(revision))
        if _FUTURE in details:
            return FutureRevisionError(revision, await self._current_revision_or(revision - 1))
        if exc.code() in _UNAVAILABLE_CODES:
            return BackendUnavailableError(f"etcd at {self._target} unavailable: {details}")
        return StoreError(f"etcd: {exc.code().name}: {details}")

    async def _compact_revision_or(self, default: int) -> int:
        try:
            return await self.compact_revision()
        except StoreError:
            return max(self._compacted, default)

    async def _current_revision_or(self, default: int) -> int:
        try:
            return await self.current_revision()
        except StoreError:
            return default

    async def _txn(self, compare: Any, success: Any, failure: Any) -> Any:
        return await self._call(
            self._stub().Txn, rpc.TxnRequest(compare=[compare], success=[success], failure=[failure])
        )

    def _failed_current(self, resp: Any) -> KeyValue | None:
        kvs = resp.responses[0].response_range.kvs
        return self._kv_from(kvs[0]) if kvs else None

    # --- reads

    async def current_revision(self) -> int:
        """etcd's present revision (global to the cluster; 1 on a fresh etcd, never 0)."""
        resp = await self._call(self._stub().Range, rpc.RangeRequest(key=_PROBE_KEY, count_only=True))
        return int(resp.header.revision)

    async def get(self, key: str, *, revision: int = 0) -> KeyValue | None:
        """The key at `revision` (0: latest), or None. Raises CompactedError, FutureRevisionError."""
        if revision < 0:
            raise ValueError(f"revision must be >= 0, not {revision}")
        resp = await self._call(
            self._stub().Range, rpc.RangeRequest(key=self._key(key), revision=revision), revision=revision
        )
        return self._kv_from(resp.kvs[0]) if resp.kvs else None

    async def range(
        self, prefix: str, *, start: str | None = None, limit: int = 0, revision: int = 0
    ) -> RangeResult:
        """Keys under `prefix`, >= `start`, at most `limit`, at `revision`: one Range RPC.

        ``count`` is etcd's count of ``[max(prefix, start), end of prefix)``; ``revision`` in the
        result is the revision asked for, or etcd's present revision when 0.
        Raises CompactedError, FutureRevisionError."""
        if limit < 0 or revision < 0:
            raise ValueError("limit and revision must be >= 0")
        begin, end = self._span(prefix)
        if start:
            begin = max(begin, self._key(start))
        if end != b"\x00" and begin >= end:
            # Past the end of the prefix: nothing to read, but the revision must still be valid.
            begin, end = _PROBE_KEY, b""
            probe = await self._call(
                self._stub().Range, rpc.RangeRequest(key=begin, revision=revision, count_only=True),
                revision=revision,
            )
            return RangeResult([], revision or int(probe.header.revision), False, 0)
        resp = await self._call(
            self._stub().Range,
            rpc.RangeRequest(key=begin, range_end=end, limit=limit, revision=revision),
            revision=revision,
        )
        return RangeResult(
            [self._kv_from(kv) for kv in resp.kvs],
            revision or int(resp.header.revision),
            bool(resp.more),
            int(resp.count),
        )

    # --- writes

    async def create(self, key: str, value: bytes) -> int:
        """Put `key` if absent (txn on create_revision == 0). Raises KeyExistsError."""
        k = self._key(key)
        resp = await self._txn(
            rpc.Compare(key=k, target=rpc.Compare.CREATE, result=rpc.Compare.EQUAL, create_revision=0),
            rpc.RequestOp(request_put=rpc.PutRequest(key=k, value=value)),
            rpc.RequestOp(request_range=rpc.RangeRequest(key=k, keys_only=True)),
        )
        if not resp.succeeded:
            raise KeyExistsError(key)
        return int(resp.header.revision)

    def _guard(self, k: bytes, expected_revision: int) -> Any:
        if expected_revision < 0:
            raise ValueError(f"expected_revision must be >= 0, not {expected_revision}")
        if expected_revision == 0:
            return rpc.Compare(key=k, target=rpc.Compare.CREATE, result=rpc.Compare.GREATER, create_revision=0)
        return rpc.Compare(
            key=k, target=rpc.Compare.MOD, result=rpc.Compare.EQUAL, mod_revision=expected_revision
        )

    async def update(self, key: str, value: bytes, *, expected_revision: int) -> int:
        """Put `key` if its mod_revision is `expected_revision` (0: if it exists).
        Raises KeyNotFoundError, RevisionMismatchError (with the current value)."""
        k = self._key(key)
        resp = await self._txn(
            self._guard(k, expected_revision),
            rpc.RequestOp(request_put=rpc.PutRequest(key=k, value=value)),
            rpc.RequestOp(request_range=rpc.RangeRequest(key=k)),
        )
        if not resp.succeeded:
            current = self._failed_current(resp)
            if current is None:
                raise KeyNotFoundError(key)
            raise RevisionMismatchError(key, expected_revision, current)
        return int(resp.header.revision)

    async def delete(self, key: str, *, expected_revision: int = 0) -> tuple[int, KeyValue]:
        """Delete `key` if its mod_revision is `expected_revision` (0: if it exists); return the
        delete's revision and the value deleted. Raises KeyNotFoundError, RevisionMismatchError."""
        k = self._key(key)
        resp = await self._txn(
            self._guard(k, expected_revision),
            rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=k, prev_kv=True)),
            rpc.RequestOp(request_range=rpc.RangeRequest(key=k)),
        )
        if not resp.succeeded:
            current = self._failed_current(resp)
            if current is None:
                raise KeyNotFoundError(key)
            raise RevisionMismatchError(key, expected_revision, current)
        prev = resp.responses[0].response_delete_range.prev_kvs
        if not prev:  # cannot happen: the compare saw the key inside the same txn
            raise KeyNotFoundError(key)
        return int(resp.header.revision), self._kv_from(prev[0])

    # --- watch

    def _event_from(self, ev: Any) -> Event:
        """An etcd event as a Backend Event. A DELETE's ``kv`` is etcd's tombstone: the key, an
        empty value, the delete's revision, create_revision and version 0."""
        prev = self._kv_from(ev.prev_kv) if ev.HasField("prev_kv") and ev.prev_kv.key else None
        if ev.type == rpc.Event.DELETE:
            return Event(EventType.DELETE, self._kv_from(ev.kv), prev)
        return Event(EventType.PUT, self._kv_from(ev.kv), prev)

    def watch(self, prefix: str, *, from_revision: int = 0) -> AsyncIterator[Event]:
        """Every change under `prefix` from `from_revision`, in revision order, exactly once:
        one etcd Watch stream per call, opened on first iteration and cancelled when the caller
        stops iterating (or closes the iterator).

        ``from_revision`` 0 is fixed by this call, not by the first iteration: the watch starts
        after the highest revision this backend has seen in any response (its own writes and
        reads), so a write made through this backend before ``watch()`` is never delivered and
        one made after it always is. (Writes by other etcd clients that this backend has not
        seen yet may be delivered: etcd offers no cheaper "now".)

        Raises (on iteration) CompactedError when etcd reports the history compacted (at the
        start, or later for a watcher etcd could not keep up to date), BackendUnavailableError
        when the stream breaks, StoreError when etcd cancels the watch for another reason, and
        ValueError (at once) for a negative revision or a malformed prefix."""
        if from_revision < 0:
            raise ValueError(f"from_revision must be >= 0, not {from_revision}")
        begin, end = self._span(prefix)
        start = from_revision or self._seen_revision + 1
        return self._watch_stream(begin, end, start)

    async def _watch_stream(self, begin: bytes, end: bytes, from_revision: int) -> AsyncIterator[Event]:
        create = rpc.WatchCreateRequest(key=begin, range_end=end, start_revision=from_revision, prev_kv=True)
        stub = self._watch
        if stub is None:
            raise BackendUnavailableError("etcd backend is not open")
        call = stub.Watch()
        next_revision = from_revision
        try:
            try:
                await call.write(rpc.WatchRequest(create_request=create))
            except grpc.aio.AioRpcError as exc:
                raise await self._map_error(exc, from_revision) from exc
            except grpc.aio.UsageError as exc:
                raise BackendUnavailableError(f"etcd channel closed: {exc}") from exc
            while True:
                try:
                    resp = await call.read()
                except grpc.aio.AioRpcError as exc:
                    raise await self._map_error(exc, next_revision) from exc
                except grpc.aio.UsageError as exc:
                    raise BackendUnavailableError(f"etcd channel closed: {exc}") from exc
                if resp is grpc.aio.EOF:
                    raise BackendUnavailableError("etcd ended the watch stream")
                if resp.compact_revision:
                    self._compacted = max(self._compacted, int(resp.compact_revision))
                    raise CompactedError(next_revision, int(resp.compact_revision))
                if resp.canceled:
                    raise StoreError(f"etcd cancelled the watch: {resp.cancel_reason or 'no reason given'}")
                for ev in resp.events:
                    event = self._event_from(ev)
                    next_revision = event.revision + 1
                    yield event
        finally:
            call.cancel()

    # --- compaction

    async def compact(self, revision: int) -> None:
        """etcd's Compact at `revision`; at or below the present compaction: a no-op.
        Raises FutureRevisionError for a revision etcd has not reached."""
        if revision <= 0:
            return
        try:
            await self._call(self._stub().Compact, rpc.CompactionRequest(revision=revision), revision=revision)
        except CompactedError:
            return
        self._compacted = max(self._compacted, revision)
        log.debug("etcd compacted", revision=revision)

    async def _readable(self, revision: int) -> bool:
        """Whether a read at `revision` is served (True exactly when it is not compacted)."""
        try:
            await self._stub().Range(
                rpc.RangeRequest(key=_PROBE_KEY, revision=revision, count_only=True), timeout=self.timeout
            )
        except grpc.aio.AioRpcError as exc:
            if _COMPACTED in (exc.details() or ""):
                return False
            # Not through _map_error: a compaction error there would recurse into us.
            if exc.code() in _UNAVAILABLE_CODES:
                raise BackendUnavailableError(f"etcd at {self._target} unavailable: {exc.details()}") from exc
            raise StoreError(f"etcd: {exc.code().name}: {exc.details()}") from exc
        except grpc.aio.UsageError as exc:
            raise BackendUnavailableError(f"etcd channel closed: {exc}") from exc
        return True

    async def compact_revision(self) -> int:
        """etcd's compaction revision (0: never compacted, or compacted at revision 1, which
        removes nothing). One revisioned read when nobody else compacted since this backend last
        looked; a binary search over revisioned reads otherwise."""
        known = self._compacted
        if await self._readable(max(known, 1)):
            return known
        lo, hi = max(known, 1), await self.current_revision()  # read(lo) fails, read(hi) succeeds
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if await self._readable(mid):
                hi = mid
            else:
                lo = mid
        self._compacted = max(self._compacted, hi)
        return hi

    # --- snapshot / restore

    async def snapshot(self) -> bytes:
        """Every key under the prefix at one revision, read page by page, in the portable format
        (keys without the prefix, etcd's revisions). Raises CompactedError if compaction passes
        the snapshot's revision while it is being read."""
        first = await self.range("", limit=self.page_size)
        revision, kvs, more = first.revision, list(first.kvs), first.more
        while more:
            page = await self.range("", start=kvs[-1].key + "\x00", limit=self.page_size, revision=revision)
            kvs.extend(page.kvs)
            more = page.more
        return encode_snapshot(revision, kvs)

    async def restore(self, data: bytes) -> None:
        """Replace every key under the prefix with the snapshot's keys. Best effort: etcd assigns
        revisions, so keys get new create/mod revisions and versions restart at 1; the store's
        revision is etcd's after the writes, not the snapshot's; the delete and the writes are
        several txns, not one atomic step. Raises ValueError for data that is not a snapshot."""
        snap_revision, kvs = decode_snapshot(data)
        keys = [self._key(kv.key) for kv in kvs]  # ValueError before anything is deleted
        begin, end = self._span("")
        await self._call(self._stub().DeleteRange, rpc.DeleteRangeRequest(key=begin, range_end=end))
        ops: list[Any] = []
        size = 0
        for key, kv in zip(keys, kvs, strict=True):
            if ops and (len(ops) >= self.max_txn_ops or size + len(key) + len(kv.value) > _TXN_BYTES):
                await self._call(self._stub().Txn, rpc.TxnRequest(success=ops))
                ops, size = [], 0
            ops.append(rpc.RequestOp(request_put=rpc.PutRequest(key=key, value=kv.value)))
            size += len(key) + len(kv.value)
        if ops:
            await self._call(self._stub().Txn, rpc.TxnRequest(success=ops))
        log.warning(
            "etcd restore cannot keep revisions: keys were rewritten at new revisions",
            keys=len(kvs),
            snapshot_revision=snap_revision,
        )
