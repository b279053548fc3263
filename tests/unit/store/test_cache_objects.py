"""The watch cache holds objects compactly (the backend's JSON plus a few attributes, decoded on
demand): whatever way an object is held, it must read exactly as the decoded-and-re-encoded
object it stands for."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from kube_lite.store.backend import Event, EventType, KeyValue
from kube_lite.store.cache import CachedObject, DecodedObjects, ResourceCache
from kube_lite.store.mvcc import Keyspace, WriteKind, WriteOp

_encode = msgspec.json.encode
_decode = msgspec.json.decode

KEY = "/registry/pods/ns/a"

VALUES: list[Any] = [
    # as the registry stores every built-in kind: type meta, then metadata
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "ns", "labels": {"app": "x"}},
     "spec": {"nodeName": "n1", "template": {"metadata": {"name": "inner"}}}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {}},
    {"metadata": {"name": "a"}},
    {"kind": "Pod", "metadata": {"name": "a"}},
    # other shapes are re-encoded, as before
    {"spec": {"metadata": {"name": "nested"}}, "metadata": {"name": "a"}, "apiVersion": "v1"},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "resourceVersion": "7"}},
    {"apiVersion": "v\"1", "kind": "Pod", "metadata": {"name": "a"}},
    {"apiVersion": "v1"},
    {"apiVersion": "v1", "metadata": None},
    {"apiVersion": "v1", "kind": "Thing", "metadata": {"name": "ünï", "involvedObject": {"resourceVersion": "3"}}},
    {"apiVersion": "v1", "kind": "Thing", "metadata": {"name": "a", "labels": {"n": 1}}},
    {"apiVersion": "v1", "kind": "Thing", "metadata": {"name": "a"}, "spec": "a string"},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}, "spec": {"nodeName": 3}},
]


def _expected(value: Any, revision: int) -> dict[str, Any]:
    """What the cache served before it held objects compactly: decode, set, re-encode."""
    obj = _decode(_encode(value))
    if obj.get("metadata") is None:
        obj["metadata"] = {}
    obj["metadata"]["resourceVersion"] = str(revision)
    return obj


@pytest.mark.parametrize("value", VALUES)
def test_a_cached_object_reads_as_the_decoded_object_with_its_revision(value: Any) -> None:
    home = DecodedObjects(1)
    cached = CachedObject.from_value(KEY, _encode(value), 12, home)
    want = _expected(value, 12)
    assert _decode(cached.raw) == want
    assert cached.obj == want
    other = CachedObject.from_value(KEY, _encode(value), 13, home)
    assert other.obj == _expected(value, 13)  # decoded last: the first one's dict is dropped
    assert cached._obj is None and other._obj is not None
    assert cached.obj == want == _decode(cached.raw)
    fresh = cached.decode()
    assert fresh == want and fresh is not cached.obj
    assert cached.labels == ((want["metadata"] or {}).get("labels") or {})
    assert cached.namespace == "ns"
    spec = value.get("spec")
    node = spec.get("nodeName") if isinstance(spec, dict) else None
    assert cached.node == (node if isinstance(node, str) else "")
    deleted = cached.at_revision(20)
    assert deleted.obj == _expected(value, 20) == _decode(deleted.raw)
    assert cached.obj == want  # unchanged by the delete's view


def test_the_registry_layout_shares_the_backend_bytes() -> None:
    value = _encode(VALUES[0])
    cached = CachedObject.from_value(KEY, value, 5)
    assert cached._data is value
    assert cached.at_revision(6)._data is value
    assert list(cached.obj["metadata"]) == list(_decode(cached.raw)["metadata"])  # same key order


def test_decoded_objects_keep_only_the_last_ones() -> None:
    cache = ResourceCache("pods", 0, 100, decoded=3)
    for rev in range(1, 11):
        value = _encode({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{rev}", "namespace": "ns"}})
        cache.apply(Event(EventType.PUT, KeyValue(f"/registry/pods/ns/p{rev}", value, rev, rev), None))
    assert all(o._obj is None for o in cache.objects.values())  # only the JSON is kept
    assert [o.obj["metadata"]["name"] for o in cache.list("ns")][:3] == ["p1", "p10", "p2"]
    held = [o.revision for o in cache.list("ns") if o._obj is not None]
    assert sorted(held) == [7, 8, 9]  # the last three decoded: p7, p8, p9 in key order
    assert len(cache.decoded) == 3


def test_a_delete_event_serves_the_last_state_at_the_delete_revision() -> None:
    cache = ResourceCache("pods", 0, 100)
    value = _encode(VALUES[0])
    put = cache.apply(Event(EventType.PUT, KeyValue(KEY, value, 1, 1), None))
    gone = cache.apply(Event(EventType.DELETE, KeyValue(KEY, b"", 0, 2, 0), KeyValue(KEY, value, 1, 1)))
    assert gone.type == "DELETED" and gone.prev is put.obj
    assert gone.obj.obj == _expected(VALUES[0], 2)
    assert cache.get("ns", "a") is None


def test_updates_and_deletes_share_the_key_string_of_the_stored_key() -> None:
    keyspace = Keyspace()
    first = "".join(["/registry/pods/ns/", "a"])
    events, _ = keyspace.plan([WriteOp(WriteKind.CREATE, first, b"{}")])
    keyspace.apply(events)
    again = "".join(["/registry/pods/ns/", "a"])
    assert again is not first
    events, _ = keyspace.plan([WriteOp(WriteKind.UPDATE, again, b"{}"), WriteOp(WriteKind.DELETE, again)])
    assert all(e.kv.key is first for e in events)
