"""The sans-IO pieces under the in-process backends: key intervals, the Keyspace's planning and
reads at older revisions (undo), and the watch hub's event log."""

from __future__ import annotations

import pytest

from kube_lite.store.backend import Event, EventType, KeyExistsError, KeyValue, RevisionMismatchError
from kube_lite.store.mvcc import Keyspace, WriteKind, WriteOp, changes_since, key_bounds, prefix_end
from kube_lite.store.watchhub import EventLog


def test_prefix_end() -> None:
    assert prefix_end("/a/") == "/a0"
    assert prefix_end("") is None
    assert prefix_end("a\U0010ffff") == "b"
    assert prefix_end("\U0010ffff") is None
    for key in ["/a/", "/a/b", "/a/\U0010ffff"]:
        assert "/a/" <= key < prefix_end("/a/")  # type: ignore[operator]
    assert not ("/a0" < prefix_end("/a/"))  # type: ignore[operator]


def test_plan_checks_each_op_against_the_ones_before_it() -> None:
    ks = Keyspace()
    events, outcomes = ks.plan([
        WriteOp(WriteKind.CREATE, "a", b"1"),
        WriteOp(WriteKind.CREATE, "a", b"2"),
        WriteOp(WriteKind.UPDATE, "a", b"3", expected=1),
        WriteOp(WriteKind.UPDATE, "a", b"4", expected=1),
        WriteOp(WriteKind.DELETE, "a"),
        WriteOp(WriteKind.CREATE, "a", b"5"),
    ])
    assert [e.kv.mod_revision for e in events] == [1, 2, 3, 4]
    assert isinstance(outcomes[1], KeyExistsError)
    assert isinstance(outcomes[3], RevisionMismatchError) and outcomes[3].current.value == b"3"
    assert ks.revision == 0 and ks.get("a") is None  # nothing applied yet
    ks.apply(events)
    assert ks.revision == 4 and ks.get("a") == KeyValue("a", b"5", 4, 4, 1)


def _history() -> tuple[Keyspace, list[Event], dict[int, dict[str, bytes]]]:
    ks, log, states, model = Keyspace(), [], {0: {}}, {}
    ops = [("c", "b"), ("c", "a"), ("c", "c"), ("u", "b"), ("d", "a"), ("c", "d"), ("d", "c"), ("c", "a")]
    for i, (kind, key) in enumerate(ops):
        op = {"c": WriteKind.CREATE, "u": WriteKind.UPDATE, "d": WriteKind.DELETE}[kind]
        events, _ = ks.plan([WriteOp(op, key, str(i).encode())])
        ks.apply(events)
        log.extend(events)
        if kind == "d":
            del model[key]
        else:
            model[key] = str(i).encode()
        states[ks.revision] = dict(model)
    return ks, log, states


@pytest.mark.parametrize("limit", [0, 1, 2, 10])
def test_range_at_an_older_revision_undoes_later_events(limit: int) -> None:
    ks, log, states = _history()
    for rev, state in states.items():
        changes = changes_since(log[rev:], "", None)
        kvs, count = ks.range("", None, limit, changes)
        want = sorted(state.items())
        assert count == len(want)
        assert [(kv.key, kv.value) for kv in kvs] == (want[:limit] if limit else want)
        for start in "abcd":
            kvs, count = ks.range("", start, limit, changes_since(log[rev:], *key_bounds("", start)))
            tail = [item for item in want if item[0] >= start]
            assert count == len(tail)
            assert [(kv.key, kv.value) for kv in kvs] == (tail[:limit] if limit else tail)


def _event(rev: int) -> Event:
    return Event(EventType.PUT, KeyValue(f"k{rev}", b"", rev, rev, 1), None)


def test_event_log_ring() -> None:
    log = EventLog(maxlen=3)
    assert log.first == 1 and log.covers(1) and not log.covers(0)
    for rev in range(1, 11):
        log.append([_event(rev)])
    assert len(log) == 3 and log.first == 8
    assert [e.revision for e in log.since(8)] == [8, 9, 10]
    assert [e.revision for e in log.since(9, 9)] == [9]
    assert not log.covers(7)
    with pytest.raises(ValueError):
        log.append([_event(12)])  # a gap


def test_event_log_drop_before() -> None:
    log = EventLog()
    log.append([_event(rev) for rev in range(1, 101)])
    log.drop_before(60)
    assert log.first == 60 and len(log) == 41
    assert [e.revision for e in log.since(99)] == [99, 100]
    log.drop_before(10)  # older: nothing to do
    assert log.first == 60
    log.drop_before(101)
    assert len(log) == 0 and log.first == 101
    log.append([_event(101)])
    assert [e.revision for e in log.since(101)] == [101]
