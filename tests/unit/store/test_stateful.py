"""A hypothesis state machine per backend, checked against a plain dict.

Random creates, updates and deletes (with right, wrong and no expected revisions), reads at the
latest and at older revisions, paged ranges and compactions; after every step the revision must
be the model's, and at the end a watch opened before the first step (and read all along) must
have delivered exactly the model's history, in order, each event with the right prev_kv.

Hypothesis drives the machine synchronously, so the backend lives in an event loop on a
blocking portal's thread and every call goes through the portal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from kube_lite.store.backend import (
    CompactedError,
    Event,
    EventType,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    RevisionMismatchError,
)
from tests.unit.store.conftest import BackendFactory

T = TypeVar("T")
PREFIX = "/k/"
KEYS = st.sampled_from([PREFIX + "a", PREFIX + "b", PREFIX + "c", PREFIX + "d/e", PREFIX + "d/f"])
VALUES = st.binary(max_size=6)


@dataclass(frozen=True)
class ModelEvent:
    type: EventType
    key: str
    value: bytes
    revision: int
    prev: KeyValue | None


class BackendMachine(RuleBasedStateMachine):
    factory: BackendFactory
    portal: BlockingPortal

    def __init__(self) -> None:
        super().__init__()
        self._cm = self.portal.wrap_async_context_manager(self.factory.open_fresh())
        self.b = self._cm.__enter__()
        self.revision = self.call(self.b.current_revision)
        self.first = self.revision + 1
        self.compacted = 0
        self.model: dict[str, KeyValue] = {}
        self.states: dict[int, dict[str, KeyValue]] = {self.revision: {}}
        self.history: list[ModelEvent] = []
        self.received: list[Event] = []
        self._progress: anyio.Event | None = None
        self.consumer = self.portal.start_task_soon(self._consume)
        # The first write, seen by the watch, proves the watch is open (etcd opens its stream
        # on the first iteration) before any compaction can pass its start.
        assert self.call(self.b.create, PREFIX + "probe", b"") == self.first
        self._record(EventType.PUT, PREFIX + "probe", b"", None)
        self.portal.call(self._wait_received, 1)

    async def _consume(self) -> None:
        async with aclosing(self.b.watch(PREFIX, from_revision=self.first)) as watch:
            async for event in watch:
                self.received.append(event)
                if self._progress is not None:
                    self._progress.set()

    async def _wait_received(self, n: int) -> None:
        with anyio.fail_after(10):
            while len(self.received) < n:
                self._progress = anyio.Event()
                await self._progress.wait()

    def call(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        async def run() -> T:
            return await fn(*args, **kwargs)

        return self.portal.call(run)

    def _record(self, type_: EventType, key: str, value: bytes, prev: KeyValue | None) -> KeyValue:
        self.revision += 1
        if type_ is EventType.DELETE:
            del self.model[key]
            kv = KeyValue(key, b"", 0, self.revision, 0)
        else:
            kv = KeyValue(key, value, prev.create_revision if prev else self.revision, self.revision,
                          prev.version + 1 if prev else 1)
            self.model[key] = kv
        self.states[self.revision] = dict(self.model)
        self.history.append(ModelEvent(type_, key, value, self.revision, prev))
        return kv

    @rule(key=KEYS, value=VALUES)
    def create(self, key: str, value: bytes) -> None:
        if key in self.model:
            with pytest.raises(KeyExistsError):
                self.call(self.b.create, key, value)
            return
        assert self.call(self.b.create, key, value) == self.revision + 1
        self._record(EventType.PUT, key, value, None)

    @rule(key=KEYS, value=VALUES, how=st.sampled_from(["right", "wrong", "none"]))
    def update(self, key: str, value: bytes, how: str) -> None:
        cur = self.model.get(key)
        expected = {"right": cur.mod_revision if cur else 1, "wrong": self.revision + 7, "none": 0}[how]
        if cur is None:
            with pytest.raises(KeyNotFoundError):
                self.call(self.b.update, key, value, expected_revision=expected)
        elif how == "wrong":
            with pytest.raises(RevisionMismatchError) as err:
                self.call(self.b.update, key, value, expected_revision=expected)
            assert err.value.current == cur
        else:
            assert self.call(self.b.update, key, value, expected_revision=expected) == self.revision + 1
            self._record(EventType.PUT, key, value, cur)

    @rule(key=KEYS, how=st.sampled_from(["right", "wrong", "none"]))
    def delete(self, key: str, how: str) -> None:
        cur = self.model.get(key)
        expected = {"right": cur.mod_revision if cur else 1, "wrong": self.revision + 7, "none": 0}[how]
        if cur is None:
            with pytest.raises(KeyNotFoundError):
                self.call(self.b.delete, key, expected_revision=expected)
        elif how == "wrong":
            with pytest.raises(RevisionMismatchError):
                self.call(self.b.delete, key, expected_revision=expected)
        else:
            rev, old = self.call(self.b.delete, key, expected_revision=expected)
            assert (rev, old) == (self.revision + 1, cur)
            self._record(EventType.DELETE, key, b"", cur)

    @rule(data=st.data(), prefix=st.sampled_from([PREFIX, PREFIX + "d/", PREFIX + "a"]))
    def read_at_some_revision(self, data: st.DataObject, prefix: str) -> None:
        revs = sorted(r for r in self.states if r > 0)
        rev = data.draw(st.sampled_from(revs)) if revs else 0
        state = self.states[rev] if rev else self.model
        expected = sorted((kv for k, kv in state.items() if k.startswith(prefix)), key=lambda kv: kv.key)
        if rev and rev < self.compacted:
            with pytest.raises(CompactedError):
                self.call(self.b.range, prefix, revision=rev)
            return
        limit = data.draw(st.integers(min_value=0, max_value=3))
        got = self.call(self.b.range, prefix, limit=limit, revision=rev)
        want = expected[:limit] if limit else expected
        assert got.kvs == want
        assert (got.count, got.more) == (len(expected), len(expected) > len(want))
        for key in (PREFIX + "a", PREFIX + "d/e"):
            assert self.call(self.b.get, key, revision=rev) == state.get(key)

    @precondition(lambda self: self.revision > self.compacted)
    @rule(data=st.data())
    def compact(self, data: st.DataObject) -> None:
        # Drawn relative to the first revision: etcd's absolute revisions differ between runs.
        low = max(self.compacted, self.first)
        rev = low + data.draw(st.integers(min_value=0, max_value=self.revision - low))
        self.call(self.b.compact, rev)
        self.compacted = max(self.compacted, rev)
        assert self.call(self.b.compact_revision) == self.compacted

    @invariant()
    def revision_matches(self) -> None:
        assert self.call(self.b.current_revision) == self.revision

    def teardown(self) -> None:
        try:
            self.portal.call(self._wait_received, len(self.history))
            got = [(e.type, e.kv.key, e.kv.value, e.revision, e.prev_kv) for e in self.received]
            want = [(m.type, m.key, m.value, m.revision, m.prev) for m in self.history]
            assert got == want
            assert self.call(self.b.range, PREFIX).kvs == sorted(self.model.values(), key=lambda kv: kv.key)
        finally:
            self.consumer.cancel()
            self._cm.__exit__(None, None, None)


def test_backend_matches_a_dict_model(backend: BackendFactory) -> None:
    with start_blocking_portal() as portal:
        machine = type("Machine", (BackendMachine,), {"factory": backend, "portal": portal})
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=100 if backend.kind != "etcd" else 25,
                stateful_step_count=25,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
                database=None,
            ),
        )
